/* Durations and ISO-8601 timestamps as integer milliseconds (UTC). */
#include "util/util.h"

#include <string.h>

int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's well-known civil-from-days inverse, restated. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool duration_parse(const char *s, size_t n, duration_ms *out)
{
    size_t i = 0;
    int64_t v = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (v > INT64_C(100000000000)) return false; /* past any sane duration */
        v = v * 10 + (s[i] - '0');
        i++;
    }
    if (i == 0 || i == n) return false;
    const char *unit = s + i;
    size_t ulen = n - i;
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"ms", 1},
                 {"s", MS_PER_SECOND},
                 {"m", MS_PER_MINUTE},
                 {"h", MS_PER_HOUR},
                 {"d", MS_PER_DAY},
                 {"w", 7 * MS_PER_DAY}};
    for (size_t u = 0; u < ARRAY_LEN(units); u++) {
        if (strlen(units[u].name) == ulen && memcmp(units[u].name, unit, ulen) == 0) {
            if (v > INT64_MAX / units[u].ms) return false; /* past any representable time */
            *out = v * units[u].ms;
            return true;
        }
    }
    return false;
}

void duration_format(duration_ms d, char *buf, size_t size)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {{"d", MS_PER_DAY}, {"h", MS_PER_HOUR}, {"m", MS_PER_MINUTE}, {"s", MS_PER_SECOND}};
    /* Days rather than weeks: contracts speak of 14d and 30d windows. */
    for (size_t u = 0; u < ARRAY_LEN(units); u++) {
        if (d != 0 && d % units[u].ms == 0) {
            snprintf(buf, size, "%lld%s", (long long)(d / units[u].ms), units[u].name);
            return;
        }
    }
    snprintf(buf, size, "%lldms", (long long)d);
}

static bool digits(const char *s, size_t n, size_t at, size_t count, int *out)
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

static unsigned days_in_month(int y, int m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static uint64_t load_word(const char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

/* Byte masks over a little-endian word: which bytes of a timestamp's 8-byte
 * chunk must be digits, and what the others must be. */
#define TIME_BYTES(b0, b1, b2, b3, b4, b5, b6, b7)                                                        \
    ((uint64_t)(b0) | (uint64_t)(b1) << 8 | (uint64_t)(b2) << 16 | (uint64_t)(b3) << 24 |               \
     (uint64_t)(b4) << 32 | (uint64_t)(b5) << 40 | (uint64_t)(b6) << 48 | (uint64_t)(b7) << 56)

/* True when every byte of `w` under `digits` (0xff per digit byte) is '0'
 * to '9' and the bytes under `fixed` equal `want`; no branch per byte. A
 * digit byte is 0x30-0x39 exactly when its high nibble is 3 both before and
 * after adding 6 (no carry can leave a byte whose high nibble was 3). */
static bool word_fits(uint64_t w, uint64_t digits, uint64_t fixed, uint64_t want)
{
    uint64_t hi = digits & UINT64_C(0xf0f0f0f0f0f0f0f0), three = digits & UINT64_C(0x3030303030303030),
             six = digits & UINT64_C(0x0606060606060606);
    return (((w & hi) ^ three) | (((w + six) & hi) ^ three) | ((w & fixed) ^ want)) == 0;
}

/* Pairs of digits in a word whose digit bytes are validated: byte k of the
 * result holds 10 * digit k + digit k+1 (at most 99: no carry between
 * bytes), the other bytes of `w` first cleared. */
static uint64_t digit_pairs(uint64_t w, uint64_t digits)
{
    uint64_t d = (w & digits) - (digits & UINT64_C(0x3030303030303030));
    return d * 10 + (d >> 8);
}

#define BYTE(w, k) ((int)(((w) >> (8 * (k))) & 0xff))

/* The forms every Segment library sends, "YYYY-MM-DDTHH:MM:SSZ" and
 * "YYYY-MM-DDTHH:MM:SS.sssZ", read as three 8-byte words. False when `s` is
 * not exactly one of them, or names a day before 0000-03-01; time_parse()
 * then reads it the general way, which gives the same result for these
 * forms and refuses them when this does on range (month 13, Feb 30, hour
 * 24). tests/ingest/test_time.c holds the two readings against each other. */
static bool time_parse_fixed(const char *s, size_t n, time_ms *out)
{
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    return false; /* the masks below are little-endian */
#endif
    if (n != 20 && n != 24) return false;
    enum { D = 0xff };
    const uint64_t digits0 = TIME_BYTES(D, D, D, D, 0, D, D, 0), digits1 = TIME_BYTES(D, D, 0, D, D, 0, D, D);
    uint64_t w0 = load_word(s), w1 = load_word(s + 8), w2, digits2;
    /* "YYYY-MM-" and "DDTHH:MM" */
    if (!word_fits(w0, digits0, TIME_BYTES(0, 0, 0, 0, D, 0, 0, D), TIME_BYTES(0, 0, 0, 0, '-', 0, 0, '-')) ||
        !word_fits(w1, digits1, TIME_BYTES(0, 0, D, 0, 0, D, 0, 0), TIME_BYTES(0, 0, 'T', 0, 0, ':', 0, 0)))
        return false;
    if (n == 24) { /* ":SS.sssZ" */
        w2 = load_word(s + 16);
        digits2 = TIME_BYTES(0, D, D, 0, D, D, D, 0);
        if (!word_fits(w2, digits2, TIME_BYTES(D, 0, 0, D, 0, 0, 0, D), TIME_BYTES(':', 0, 0, '.', 0, 0, 0, 'Z')))
            return false;
    } else { /* ":SSZ", the last four bytes: the word that ends there, shifted down */
        w2 = load_word(s + 12) >> 32;
        digits2 = TIME_BYTES(0, D, D, 0, 0, 0, 0, 0);
        if (!word_fits(w2, digits2, TIME_BYTES(D, 0, 0, D, 0, 0, 0, 0), TIME_BYTES(':', 0, 0, 'Z', 0, 0, 0, 0)))
            return false;
    }
    uint64_t p0 = digit_pairs(w0, digits0), p1 = digit_pairs(w1, digits1), p2 = digit_pairs(w2, digits2);
    int y = BYTE(p0, 0) * 100 + BYTE(p0, 2), mo = BYTE(p0, 5), d = BYTE(p1, 0);
    int h = BYTE(p1, 3), mi = BYTE(p1, 6), sec = BYTE(p2, 1);
    int ms = n == 24 ? BYTE(p2, 4) * 10 + (int)((w2 >> 48) & 0x0f) : 0;
    if (mo < 1 || mo > 12 || d < 1 || (d > 28 && (unsigned)d > days_in_month(y, mo)) || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    /* days_from_civil() for a year counted from March that is not negative,
     * where its eras fold into one sum */
    static const uint16_t from_march[13] = {0, 306, 337, 0, 31, 61, 92, 122, 153, 184, 214, 245, 275};
    int64_t ym = y - (mo <= 2);
    if (ym < 0) return false;
    int64_t days = ym * 365 + ym / 4 - ym / 100 + ym / 400 + from_march[mo] + d - 1 - 719468;
    *out = days * MS_PER_DAY + h * MS_PER_HOUR + mi * MS_PER_MINUTE + sec * MS_PER_SECOND + ms;
    return true;
}

bool time_parse(const char *s, size_t n, time_ms *out)
{
    if (time_parse_fixed(s, n, out)) return true;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || !digits(s, n, 5, 2, &mo) ||
        s[7] != '-' || !digits(s, n, 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, mo)) return false;
    size_t i = 10;
    int64_t offset_min = 0;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return false;
        if (!digits(s, n, i + 1, 2, &h) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &mi))
            return false;
        i += 6;
        if (i < n && s[i] == ':') {
            if (!digits(s, n, i + 1, 2, &sec)) return false;
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
                if (!digits(s, n, i + 1, 2, &oh)) return false;
                size_t j = i + 3;
                if (j < n && s[j] == ':') j++;
                if (!digits(s, n, j, 2, &om) || j + 2 != n || oh > 23 || om > 59) return false;
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

void time_format(time_ms t, char *buf, size_t size)
{
    int64_t days = t >= 0 ? t / MS_PER_DAY : -((-t + MS_PER_DAY - 1) / MS_PER_DAY);
    int64_t rest = t - days * MS_PER_DAY;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rest / MS_PER_HOUR), mi = (int)(rest / MS_PER_MINUTE % 60),
        s = (int)(rest / MS_PER_SECOND % 60), ms = (int)(rest % 1000);
    if (y >= 0 && y <= 9999 && size >= sizeof "2026-01-01T00:00:00.000Z") {
        /* the common case by hand: handoffs and timelines print many of them */
        static const char pattern[] = "0000-00-00T00:00:00.000Z";
        struct {
            int value, width;
            size_t at;
        } parts[] = {{(int)y, 4, 0}, {(int)m, 2, 5}, {(int)d, 2, 8}, {h, 2, 11}, {mi, 2, 14}, {s, 2, 17}, {ms, 3, 20}};
        memcpy(buf, pattern, sizeof pattern);
        for (size_t p = 0; p < ARRAY_LEN(parts); p++)
            for (int i = parts[p].width - 1, v = parts[p].value; i >= 0; i--, v /= 10)
                buf[parts[p].at + (size_t)i] = (char)('0' + v % 10);
        if (!ms) memcpy(buf + 19, "Z", 2);
        return;
    }
    if (ms)
        snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d, h, mi, s,
                 ms);
    else
        snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, h, mi, s);
}

bool clock_parse(const char *s, size_t n, uint16_t *minutes)
{
    if (n != 5 || s[2] != ':') return false;
    for (size_t i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m)) return false;
    *minutes = (uint16_t)(h * 60 + m);
    return true;
}

double monotonic_seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}
