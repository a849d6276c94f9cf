/* strmap: open addressing over 64-bit hashes, keys packed in chunks.
 *
 * Design notes
 *  1. A slot is 16 bytes: the key's whole hash (0 marks an empty slot, so a
 *     hash of 0 is stored as 1) and a pointer to the key's entry. Four slots
 *     share a cache line, and a look-up that misses reads no key at all: a
 *     different 64-bit hash settles it. Probing is linear; the table is at
 *     most three quarters full, and a power of two.
 *  2. An entry is the value (4 bytes), the key's length (one byte below
 *     0xFF, else 0xFF and 4 bytes), the key and a NUL. Entries are packed one
 *     after another, unaligned, in chunks taken from the map's arena, so a
 *     key never moves: strmap_put() can hand out its address. A key of 11
 *     bytes takes 17 bytes, not the 32 an aligned copy and a 24-byte slot
 *     would.
 *  3. The value lives with the key, not in the slot: a hit reads the entry
 *     to compare keys anyway, and a miss never needs the value.
 *  4. resize() moves slots without touching entries: the slot keeps the
 *     whole hash, so the new position needs no key. */
#include "util/util.h"

#include <string.h>

#define CHUNK_MIN  1024u  /* the first chunk of entries; each next one doubles */
#define CHUNK_MAX  65536u /* and stops here: the arena's blocks grow on their own */
#define LONG_KEY   0xFFu  /* a length byte of 0xFF: 4 bytes of length follow */
#define ENTRY_HEAD 4u     /* the value before the length */

typedef struct slot {
    uint64_t hash; /* 0: empty */
    unsigned char *entry;
} slot;

struct strmap {
    slot *slots;
    size_t cap, count; /* cap is a power of two */
    arena *keys;
    unsigned char *chunk; /* where the next entry goes */
    size_t left;          /* bytes free in the current chunk */
    size_t next_chunk;    /* size of the next chunk */
};

strmap *strmap_new(void)
{
    strmap *m = mem_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 64;
    m->next_chunk = CHUNK_MIN;
    m->slots = mem_calloc(m->cap, sizeof *m->slots);
    m->keys = arena_new(64 * 1024);
    if (!m->slots || !m->keys) {
        strmap_free(m);
        return NULL;
    }
    return m;
}

void strmap_free(strmap *m)
{
    if (!m) return;
    mem_free(m->slots);
    arena_free(m->keys);
    mem_free(m);
}

static uint64_t key_hash(const char *key, size_t len)
{
    uint64_t h = hash_bytes(key, len);
    return h ? h : 1;
}

/* ---- entries ------------------------------------------------------------------- */

static uint32_t entry_value(const unsigned char *e)
{
    uint32_t v;
    memcpy(&v, e, sizeof v);
    return v;
}

static void set_entry_value(unsigned char *e, uint32_t v)
{
    memcpy(e, &v, sizeof v);
}

/* The key's bytes; its length in *len. */
static const char *entry_key(const unsigned char *e, size_t *len)
{
    e += ENTRY_HEAD;
    if (*e != LONG_KEY) {
        *len = *e;
        return (const char *)e + 1;
    }
    uint32_t n;
    memcpy(&n, e + 1, sizeof n);
    *len = n;
    return (const char *)e + 1 + sizeof n;
}

static uint64_t load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static uint32_t load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Whether n bytes at a and b are equal: inline for the short keys a map
 * mostly holds (a call to memcmp costs more than the comparison). Loads
 * overlap at the end rather than stepping byte by byte, and never reach
 * past either key. */
static bool same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 < n; i += 8)
            if (load64(a + i) != load64(b + i)) return false;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

static bool entry_is(const unsigned char *e, const char *key, size_t len)
{
    size_t n;
    const char *k = entry_key(e, &n);
    return n == len && same_bytes(k, key, len);
}

/* A new entry for key; NULL when memory runs out (nothing is changed). */
static unsigned char *new_entry(strmap *m, const char *key, size_t len, uint32_t value)
{
    if (len > UINT32_MAX) return NULL;
    size_t head = ENTRY_HEAD + (len < LONG_KEY ? 1 : 1 + sizeof(uint32_t));
    size_t need = head + len + 1;
    unsigned char *e;
    if (need <= m->left) {
        e = m->chunk;
        m->chunk += need;
        m->left -= need;
    } else if (need > m->next_chunk / 2) {
        /* a long key gets an allocation of its own; the chunk stays */
        if (!(e = arena_alloc(m->keys, need))) return NULL;
    } else {
        unsigned char *c = arena_alloc(m->keys, m->next_chunk);
        if (!c) return NULL;
        e = c;
        m->chunk = c + need;
        m->left = m->next_chunk - need;
        if (m->next_chunk < CHUNK_MAX) m->next_chunk *= 2;
    }
    set_entry_value(e, value);
    if (len < LONG_KEY) {
        e[ENTRY_HEAD] = (unsigned char)len;
    } else {
        uint32_t n = (uint32_t)len;
        e[ENTRY_HEAD] = LONG_KEY;
        memcpy(e + ENTRY_HEAD + 1, &n, sizeof n);
    }
    memcpy(e + head, key, len);
    e[head + len] = '\0';
    return e;
}

/* ---- the table ------------------------------------------------------------------- */

/* The slot holding key, or the empty slot where it would go. */
static slot *find(const strmap *m, uint64_t h, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (s->hash == h && entry_is(s->entry, key, len)) return s;
        if (s->hash == 0) return s;
    }
}

bool strmap_get(const strmap *m, const char *key, size_t len, uint32_t *value)
{
    return strmap_get_hashed(m, key_hash(key, len), key, len, value);
}

uint64_t strmap_hash(const char *key, size_t len)
{
    return key_hash(key, len);
}

void strmap_prefetch(const strmap *m, uint64_t hash)
{
    __builtin_prefetch(&m->slots[hash & (m->cap - 1)]);
}

/* The first slot filed under hash, or NULL: the probe stops at an empty slot. */
static const slot *first_with_hash(const strmap *m, uint64_t hash)
{
    size_t mask = m->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const slot *s = &m->slots[i];
        if (s->hash == hash) return s;
        if (s->hash == 0) return NULL;
    }
}

void strmap_prefetch_entry(const strmap *m, uint64_t hash)
{
    const slot *s = first_with_hash(m, hash);
    if (s) __builtin_prefetch(s->entry);
}

bool strmap_value_hint(const strmap *m, uint64_t hash, uint32_t *value)
{
    const slot *s = first_with_hash(m, hash);
    if (!s) return false;
    *value = entry_value(s->entry);
    return true;
}

bool strmap_get_hashed(const strmap *m, uint64_t hash, const char *key, size_t len, uint32_t *value)
{
    const slot *s = find(m, hash, key, len);
    if (s->hash == 0) return false;
    *value = entry_value(s->entry);
    return true;
}

static bool resize(strmap *m, size_t cap)
{
    slot *slots = mem_calloc_large(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].hash == 0) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].hash)
            j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    mem_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

/* Finds key's slot, making room first so that an empty slot found can be
 * filled; NULL when the table had to grow and could not. */
static slot *find_for_put(strmap *m, const char *key, size_t len, uint64_t *h)
{
    if ((m->count + 1) * 4 > m->cap * 3 && !resize(m, m->cap * 2)) return NULL;
    *h = key_hash(key, len);
    return find(m, *h, key, len);
}

/* Fills the empty slot s with a new entry; the key's copy or NULL. */
static const char *fill(strmap *m, slot *s, uint64_t h, const char *key, size_t len, uint32_t value)
{
    unsigned char *e = new_entry(m, key, len, value);
    if (!e) return NULL;
    s->hash = h;
    s->entry = e;
    m->count++;
    size_t n;
    return entry_key(e, &n);
}

const char *strmap_put(strmap *m, const char *key, size_t len, uint32_t value)
{
    uint64_t h;
    slot *s = find_for_put(m, key, len, &h);
    if (!s) return NULL;
    if (s->hash == 0) return fill(m, s, h, key, len, value);
    set_entry_value(s->entry, value);
    size_t n;
    return entry_key(s->entry, &n);
}

const char *strmap_get_or_put(strmap *m, const char *key, size_t len, uint32_t *value, bool *added)
{
    uint64_t h;
    *added = false;
    slot *s = find_for_put(m, key, len, &h);
    if (!s) return NULL;
    if (s->hash == 0) {
        const char *copy = fill(m, s, h, key, len, *value);
        *added = copy != NULL;
        return copy;
    }
    *value = entry_value(s->entry);
    size_t n;
    return entry_key(s->entry, &n);
}

bool strmap_reserve(strmap *m, size_t count)
{
    size_t cap = m->cap;
    while (count * 4 > cap * 3) {
        if (cap > SIZE_MAX / 4 / sizeof(slot)) return false;
        cap *= 2;
    }
    return cap == m->cap || resize(m, cap);
}

size_t strmap_count(const strmap *m)
{
    return m->count;
}

size_t strmap_bytes(const strmap *m)
{
    return m->cap * sizeof(slot) + arena_used(m->keys);
}
