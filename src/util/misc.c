/* Hashing, whole-file reads, and "did you mean" suggestions. */
#include "util/util.h"

#include <errno.h>
#include <string.h>

/* hash_bytes: 64 bits for the maps' keys, the dedupe table's message ids and
 * the picks that must not move between runs.
 *
 * Each step multiplies 64 bits by an odd constant as a 128-bit product and
 * folds its two halves together (fold_mul): the high half depends on every
 * bit of the input, the low half keeps the low bits distinct, and their XOR
 * brings the mixing down to the low bits the tables index with. The state
 * takes 16 bytes a step along two independent products, then 0 to 16 bytes
 * of tail in one or two loads that may overlap (the length, mixed in first,
 * tells them apart), so no key is copied byte by byte and nothing is read
 * past its end. A last fold spreads the final step over all 64 bits.
 *
 * Inputs of the same length that differ in one step's words end with
 * different states except by a fold's chance coincidence, and the folds
 * behave like random functions otherwise: two different keys share a hash
 * with a chance near 2^-64, which the dedupe table's estimate relies on
 * (engine/state.c). tests/util/test_util.c pins the avalanche and the
 * spread of the low bits. Not meant to resist someone who picks keys to
 * collide. */
#define HASH_K0 UINT64_C(0x9e3779b97f4a7c15)
#define HASH_K1 UINT64_C(0xd6e8feb86659fd93)
#define HASH_K2 UINT64_C(0xff51afd7ed558ccd)

static uint64_t fold_mul(uint64_t a, uint64_t b)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
#else
    /* the same 128-bit product from four 32-bit ones */
    uint64_t al = a & 0xffffffffu, ah = a >> 32, bl = b & 0xffffffffu, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);
    uint64_t lo = (ll & 0xffffffffu) | (mid << 32);
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return lo ^ hi;
#endif
}

static uint64_t load64(const unsigned char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

static uint64_t load32(const unsigned char *s)
{
    uint32_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = HASH_K0 ^ fold_mul((uint64_t)n ^ HASH_K2, HASH_K1);
    for (; n > 16; s += 16, n -= 16)
        h = fold_mul(h ^ load64(s), HASH_K1) ^ fold_mul(load64(s + 8) ^ HASH_K0, HASH_K2);
    if (n > 8) {
        /* 9 to 16 bytes: the first 8 and the last 8, overlapping */
        h = fold_mul(h ^ load64(s), HASH_K1) ^ fold_mul(load64(s + n - 8) ^ HASH_K0, HASH_K2);
    } else if (n >= 4) {
        h = fold_mul(h ^ (load32(s) | load32(s + n - 4) << 32), HASH_K1);
    } else if (n > 0) {
        uint64_t w = (uint64_t)s[0] | (uint64_t)s[n / 2] << 8 | (uint64_t)s[n - 1] << 16;
        h = fold_mul(h ^ w, HASH_K1);
    }
    return fold_mul(h ^ HASH_K0, HASH_K2);
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
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        strbuf_append(&b, chunk, n);
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
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned)j;
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
