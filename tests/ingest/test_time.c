/* time_parse()'s word-at-a-time path for Segment's timestamp forms, held
 * against the byte-at-a-time reading it short-cuts (kept here as it stood
 * before the fast path): the same answers and the same refusals on
 * generated and mutated strings. */
#include "../harness.h"

/* ---- the reference: time_parse() as it read before the fast path ---- */

static bool ref_digits(const char *s, size_t n, size_t at, size_t count, int *out)
{
    if (at + count > n) return false;
    int v = 0;
    for (size_t i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned ref_days_in_month(int y, int m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static bool ref_time_parse(const char *s, size_t n, time_ms *out)
{
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!ref_digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !ref_digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        !ref_digits(s, n, 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > ref_days_in_month(y, mo)) return false;
    size_t i = 10;
    int64_t offset_min = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
        if (!ref_digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' || !ref_digits(s, n, i + 4, 2, &mi))
            return false;
        i += 6;
        if (i < n && s[i] == ':') {
            if (!ref_digits(s, n, i + 1, 2, &sec)) return false;
            i += 3;
            if (i < n && s[i] == '.') {
                i++;
                int place = 100, any = 0;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    ms += (s[i] - '0') * place;
                    place /= 10;
                    i++;
                    any = 1;
                }
                if (!any) return false;
            }
        }
        if (h > 23 || mi > 59 || sec > 60) return false;
        if (i < n) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int oh, om;
                if (!ref_digits(s, n, i + 1, 2, &oh)) return false;
                size_t j = i + 3;
                if (j < n && s[j] == ':') j++;
                if (!ref_digits(s, n, j, 2, &om) || j + 2 != n || oh > 23 || om > 59) return false;
                offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
                i = n;
            } else {
                return false;
            }
        }
    }
    if (i != n) return false;
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *out = days * MS_PER_DAY + h * MS_PER_HOUR + mi * MS_PER_MINUTE + sec * MS_PER_SECOND + ms -
           offset_min * MS_PER_MINUTE;
    return true;
}

/* ---- the comparison ---- */

static uint64_t rng_state = UINT64_C(0x243f6a8885a308d3);

static uint32_t rnd(void)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(rng_state >> 33);
}

static unsigned agreed, accepted;

/* Both readings of s[0, n), from a copy in a buffer of exactly n bytes (so
 * ASan sees any read past the end). */
static void same(const char *s, size_t n)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, s, n);
    time_ms want = -1, got = -1;
    bool ok_want = ref_time_parse(copy, n, &want), ok_got = time_parse(copy, n, &got);
    if (ok_want != ok_got || (ok_want && want != got))
        fail_msg("\"%.*s\": reference %d %lld, time_parse %d %lld", (int)n, s, ok_want, (long long)want, ok_got,
                 (long long)got);
    agreed++;
    accepted += ok_want;
    free(copy);
}

static void format(char *buf, int y, int mo, int d, int h, int mi, int s, int ms, bool frac)
{
    if (frac) snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, h, mi, s, ms);
    else snprintf(buf, 32, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, mo, d, h, mi, s);
}

static void test_fixed_forms_read_as_the_general_parser_does(void **state)
{
    (void)state;
    char buf[32];
    /* every month and day edge, in years around the leap rules and the ends */
    static const int years[] = {0, 1, 3, 4, 99, 100, 399, 400, 1600, 1900, 1969, 1970, 2000, 2024, 2026, 2100, 9999};
    for (size_t yi = 0; yi < ARRAY_LEN(years); yi++)
        for (int mo = 0; mo <= 13; mo++)
            for (int d = 0; d <= 32; d++)
                for (int frac = 0; frac < 2; frac++) {
                    format(buf, years[yi], mo, d, 12, 34, 56, 789, frac);
                    same(buf, strlen(buf));
                }
    /* hours, minutes, seconds past their ranges; leap second */
    for (int h = 0; h <= 99; h += 1)
        for (int mi = 0; mi <= 99; mi += 7)
            for (int s = 55; s <= 62; s++) {
                format(buf, 2026, 7, 1, h, mi, s, 5, (h + s) % 2);
                same(buf, strlen(buf));
            }
    /* random valid-looking times */
    for (int k = 0; k < 200000; k++) {
        format(buf, (int)(rnd() % 10000), (int)(rnd() % 14), (int)(rnd() % 33), (int)(rnd() % 25), (int)(rnd() % 61),
               (int)(rnd() % 62), (int)(rnd() % 1000), rnd() % 2);
        same(buf, strlen(buf));
    }
    assert_true(accepted > 100000);
}

static void test_mutated_times_are_refused_alike(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789-:.TtZz +\x00\xff/\x3a\x2f\x40";
    static const char *const seeds[] = {"2026-07-01T00:06:48.447Z", "2026-07-01T00:06:48Z", "2024-02-29T23:59:60.999Z",
                                        "2026-12-25T12:30:00+02:00", "2026-12-25", "2026-12-25 10:30",
                                        "0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"};
    char buf[40];
    for (size_t si = 0; si < ARRAY_LEN(seeds); si++) {
        size_t n = strlen(seeds[si]);
        /* every single byte replaced by every byte value */
        for (size_t at = 0; at < n; at++)
            for (int c = 0; c < 256; c++) {
                memcpy(buf, seeds[si], n);
                buf[at] = (char)c;
                same(buf, n);
            }
        /* every prefix, and one byte more */
        for (size_t k = 0; k <= n; k++) same(seeds[si], k);
        for (int c = 0; c < 256; c++) {
            memcpy(buf, seeds[si], n);
            buf[n] = (char)c;
            same(buf, n + 1);
        }
    }
    /* random multi-byte mutations from the alphabet JSON timestamps are made of */
    for (int k = 0; k < 300000; k++) {
        const char *seed = seeds[rnd() % ARRAY_LEN(seeds)];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        for (int m = 1 + (int)(rnd() % 3); m > 0; m--) buf[rnd() % n] = alphabet[rnd() % (sizeof alphabet - 1)];
        same(buf, n);
    }
    assert_true(agreed > 500000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_forms_read_as_the_general_parser_does),
        cmocka_unit_test(test_mutated_times_are_refused_alike),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
