/* Hashing, whole-file reads, and "did you mean" suggestions. */
#include "util/util.h"

#include <errno.h>
#include <string.h>

/* Mixes 64 bits so every input bit reaches every output bit. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    x *= UINT64_C(0xd6e8feb86659fd93);
    x ^= x >> 32;
    return x;
}

uint64_t hash_bytes(const void *p, size_t n)
{
    /* Eight bytes a step, each word multiplied into the state. Fast for the
     * short keys baton hashes (ids, emails, domains); not meant to resist
     * an adversary who picks keys to collide. */
    const unsigned char *s = p;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ mix(w)) * UINT64_C(0xff51afd7ed558ccd);
        s += 8;
        n -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, s, n);
    h ^= mix(tail ^ ((uint64_t)n << 56));
    return mix(h);
}

char *file_read(const char *path, size_t *len)
{
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    strbuf b;
    strbuf_init(&b);
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) strbuf_append(&b, chunk, n);
    if (ferror(f) || b.oom) {
        int saved = b.oom ? ENOMEM : EIO;
        strbuf_free(&b);
        errno = saved;
        goto done;
    }
    if (!b.data) strbuf_append(&b, "", 0);
    data = b.data;
    *len = b.len;
done:
    fclose(f);
    return data;
}

/* Damerau-style edit distance (with adjacent transposition), capped. */
static unsigned edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    enum { MAX = 64 };
    if (la >= MAX || lb >= MAX) return MAX;
    unsigned d[MAX][MAX];
    for (size_t i = 0; i <= la; i++) d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++) d[0][j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *nearest_name(const char *name, size_t len, const char *const *names, size_t count)
{
    const char *best = NULL;
    unsigned best_d = (unsigned)(len < 4 ? 1 : len < 8 ? 2 : 3) + 1;
    for (size_t i = 0; i < count; i++) {
        if (!names[i]) continue;
        unsigned d = edit_distance(name, len, names[i], strlen(names[i]));
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}
