/* strmap: open addressing over 64-bit hashes, keys kept in an arena. */
#include "util/util.h"

#include <string.h>

typedef struct slot {
    uint64_t hash; /* 0: empty */
    const char *key;
    uint32_t len, value;
} slot;

struct strmap {
    slot *slots;
    size_t cap, count; /* cap is a power of two */
    arena *keys;
};

strmap *strmap_new(void)
{
    strmap *m = mem_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 64;
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

static slot *find(const strmap *m, uint64_t h, const char *key, size_t len)
{
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        slot *s = &m->slots[i];
        if (s->hash == 0) return s;
        if (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0) return s;
    }
}

bool strmap_get(const strmap *m, const char *key, size_t len, uint32_t *value)
{
    const slot *s = find(m, key_hash(key, len), key, len);
    if (s->hash == 0) return false;
    *value = s->value;
    return true;
}

static bool resize(strmap *m, size_t cap)
{
    slot *slots = mem_calloc_large(cap, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].hash == 0) continue;
        size_t j = m->slots[i].hash & (cap - 1);
        while (slots[j].hash) j = (j + 1) & (cap - 1);
        slots[j] = m->slots[i];
    }
    mem_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return true;
}

const char *strmap_put(strmap *m, const char *key, size_t len, uint32_t value)
{
    if ((m->count + 1) * 4 > m->cap * 3 && !resize(m, m->cap * 2)) return NULL;
    uint64_t h = key_hash(key, len);
    slot *s = find(m, h, key, len);
    if (s->hash == 0) {
        char *copy = arena_strndup(m->keys, key, len);
        if (!copy) return NULL;
        s->hash = h;
        s->key = copy;
        s->len = (uint32_t)len;
        m->count++;
    }
    s->value = value;
    return s->key;
}

bool strmap_reserve(strmap *m, size_t count)
{
    size_t cap = m->cap;
    while (count * 4 > cap * 3) {
        if (cap > SIZE_MAX / 4) return false;
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
