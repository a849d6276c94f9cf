/* A lateness buffer: a min-heap of event lines keyed by (timestamp, arrival). */
#include "ingest/ingest.h"

#include <string.h>

typedef struct held {
    time_ms t;
    uint64_t seq, line_no;
    char *line;
    size_t len;
} held;

struct reorder {
    duration_ms lateness;
    held *heap;
    size_t count, cap;
    uint64_t seq;
    time_ms newest;
    char *out; /* the line last given back, freed at the next call */
};

reorder *reorder_new(duration_ms lateness)
{
    reorder *r = mem_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->lateness = lateness;
    r->newest = INT64_MIN;
    return r;
}

void reorder_free(reorder *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) mem_free(r->heap[i].line);
    mem_free(r->heap);
    mem_free(r->out);
    mem_free(r);
}

static bool before(const held *a, const held *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void swap(held *a, held *b)
{
    held t = *a;
    *a = *b;
    *b = t;
}

bool reorder_push(reorder *r, time_ms t, const char *line, size_t len, uint64_t line_no)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 1024;
        held *bigger = mem_realloc(r->heap, cap * sizeof *bigger);
        if (!bigger) return false;
        r->heap = bigger;
        r->cap = cap;
    }
    char *copy = mem_strndup(line, len);
    if (!copy) return false;
    size_t i = r->count++;
    r->heap[i] = (held){.t = t, .seq = r->seq++, .line_no = line_no, .line = copy, .len = len};
    while (i > 0 && before(&r->heap[i], &r->heap[(i - 1) / 2])) {
        swap(&r->heap[i], &r->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    if (t > r->newest) r->newest = t;
    return true;
}

char *reorder_pop(reorder *r, bool drain, size_t *len, uint64_t *line_no)
{
    mem_free(r->out);
    r->out = NULL;
    if (r->count == 0) return NULL;
    if (!drain && r->heap[0].t > r->newest - r->lateness) return NULL;
    held top = r->heap[0];
    r->heap[0] = r->heap[--r->count];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, rt = l + 1, m = i;
        if (l < r->count && before(&r->heap[l], &r->heap[m])) m = l;
        if (rt < r->count && before(&r->heap[rt], &r->heap[m])) m = rt;
        if (m == i) break;
        swap(&r->heap[i], &r->heap[m]);
        i = m;
    }
    r->out = top.line;
    *len = top.len;
    *line_no = top.line_no;
    return top.line;
}
