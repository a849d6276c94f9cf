/* The simulator's random source and the few distributions it draws from.
 * No libm: the logarithm and exponential below use + - * / only, so a seed
 * gives the same stream on any IEEE 754 machine, whatever its libm does in
 * the last bit. */
#include "sim/internal.h"

#define LN2 0.69314718055994530942

void rng_seed(rng *r, uint64_t seed)
{
    /* Mix the seed so that nearby seeds start far apart. */
    r->state = rng_mix(seed ^ UINT64_C(0x6a09e667f3bcc909));
}

double rng_ln(double x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s) with
     * s = (m-1)/(m+1), |s| < 0.172, whose odd series converges fast. */
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1023;
    bits = (bits & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000);
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m > 1.41421356237309504880) {
        m *= 0.5;
        e++;
    }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double series =
        1.0 +
        s2 * (1.0 / 3 +
              s2 * (1.0 / 5 +
                    s2 * (1.0 / 7 + s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13 + s2 / 15))))));
    return (double)e * LN2 + 2.0 * s * series;
}

double rng_exp(double x)
{
    /* e^x = 2^k e^r with |r| <= ln2/2; a Taylor polynomial for e^r. */
    if (x < -700) return 0;
    if (x > 700) x = 700;
    double kf = x / LN2;
    int64_t k = (int64_t)(kf + (kf >= 0 ? 0.5 : -0.5));
    double r = x - (double)k * LN2;
    double p = 1.0;
    for (int i = 14; i >= 1; i--)
        p = 1.0 + p * r / i;
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double two_k;
    memcpy(&two_k, &bits, sizeof two_k);
    return p * two_k;
}

double rng_exponential(rng *r)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    return -rng_ln(1.0 - rng_unit(r));
}

double rng_normal(rng *r)
{
    double sum = 0;
    for (int i = 0; i < 12; i++)
        sum += rng_unit(r);
    return sum - 6.0;
}

size_t rng_pick_strided(rng *r, const uint16_t *weight, size_t stride, size_t n)
{
    const char *base = (const char *)weight;
#define WEIGHT(i) (*(const uint16_t *)(base + (i)*stride))
    uint32_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += WEIGHT(i);
    uint32_t x = rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < WEIGHT(i)) return i;
        x -= WEIGHT(i);
    }
#undef WEIGHT
    return n - 1;
}

size_t rng_pick(rng *r, const uint16_t *weights, size_t n)
{
    return rng_pick_strided(r, weights, sizeof *weights, n);
}
