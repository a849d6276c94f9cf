/* calendar/tz.c: time zones read from TZif files (RFC 8536) and their POSIX TZ footers.
 *
 * Design notes.
 *  1. A zone is one sorted table of the instants (whole seconds, UTC) at which
 *     its UTC offset changes, with the offset in force from each one on, and
 *     the offset before the first. Transitions that change only the
 *     abbreviation or the DST flag are dropped: baton needs offsets only.
 *  2. The table is the file's own transitions (the 64-bit block of a version
 *     2+ file, the 32-bit block of a version 1 file) followed, from the last
 *     of them on, by the transitions the footer's POSIX TZ rule generates up to
 *     the end of RULE_CACHE_YEAR. Past that (and, for a file with no
 *     transitions, before RULE_FIRST_YEAR) the rule is evaluated on the fly,
 *     so "slim" files, which list few transitions and lean on the footer, give
 *     the same answers as "fat" ones.
 *  3. Everything is computed in construction; lookups are a binary search
 *     and never allocate, so a const tz can be shared between threads.
 *  4. Instants are clamped to [TZ_TIME_MIN, TZ_TIME_MAX] (years 1 to 9999):
 *     no arithmetic here can overflow, whatever the caller passes. */
#include "calendar/calendar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECS_PER_DAY 86400
/* Largest |UTC offset| accepted: 26 hours, wider than RFC 8536's
 * -89999..93599 seconds and than any zone ever used. */
#define TZ_OFFSET_LIMIT 93600
#define TZ_FILE_MAX     (1 << 20) /* the largest zoneinfo file is a few kB */
#define TZ_NAME_MAX     255
#define RULE_FIRST_YEAR 1900 /* a rule-only zone is cached from here... */
#define RULE_CACHE_YEAR 2100 /* ...and any zone with a rule up to here */
#define DEFAULT_TZDIR   "/usr/share/zoneinfo"

/* A date in a POSIX TZ rule: Jn (1..365, February 29 never counted), n
 * (0..365, counted), or Mm.w.d (day d, 0 = Sunday, of week w, 5 = last, of
 * month m), plus the local time of day it happens, in seconds (v3: -167h to
 * 167h). */
typedef struct rule_date {
    char kind; /* 'J', 'N' or 'M' */
    int16_t n, month, week, wday;
    int32_t secs;
} rule_date;

typedef struct posix_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    rule_date start, end;     /* DST starts (read in standard time), ends (read in DST) */
} posix_rule;

struct tz {
    char name[TZ_NAME_MAX + 1];
    int64_t *at;  /* seconds; strictly increasing */
    int32_t *off; /* off[i] is in force on [at[i], at[i+1]) */
    size_t n;
    int32_t first_off; /* before at[0], or everywhere when n == 0 and no rule */
    int32_t max_off;   /* largest |offset| the zone uses */
    bool has_rule;     /* a footer rule with daylight saving */
    posix_rule rule;
    int64_t rule_below; /* the rule also governs instants before this (rule-only zones) */
    int64_t cache_end;  /* the table is exact below this; the rule governs from here on */
};

/* ---- arithmetic ----------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t year_of_day(int64_t day)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    return y;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---- POSIX TZ rules --------------------------------------------------------
 * rule   = std offset [dst [offset] [',' date ['/' time] ',' date ['/' time]]]
 * name   = 3*ALPHA | '<' 1*(ALNUM | '+' | '-') '>'
 * offset = ['+' | '-'] hh [':' mm [':' ss]]        (hours west of UTC, hh <= 24)
 * time   = ['+' | '-'] hhh [':' mm [':' ss]]       (hhh <= 167: RFC 8536 version 3)
 * date   = 'J' 1..365 | 0..365 | 'M' 1..12 '.' 1..5 '.' 0..6 */

static bool parse_name(const char **p)
{
    const char *s = *p;
    if (*s == '<') {
        s++;
        const char *b = s;
        while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
               *s == '+' || *s == '-')
            s++;
        if (*s != '>' || s == b) return false;
        *p = s + 1;
        return true;
    }
    const char *b = s;
    while ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'))
        s++;
    if (s - b < 3) return false;
    *p = s;
    return true;
}

static bool parse_number(const char **p, int64_t max, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    if (*s < '0' || *s > '9') return false;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (*s++ - '0');
        if (v > max) return false;
    }
    *p = s;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds, sign applied. */
static bool parse_hms(const char **p, int64_t max_hours, int32_t *out)
{
    const char *s = *p;
    int sign = 1;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    int64_t h, m = 0, sec = 0;
    if (!parse_number(&s, max_hours, &h)) return false;
    if (*s == ':') {
        s++;
        if (!parse_number(&s, 59, &m)) return false;
        if (*s == ':') {
            s++;
            if (!parse_number(&s, 59, &sec)) return false;
        }
    }
    *p = s;
    *out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
    return true;
}

static bool parse_date(const char **p, rule_date *d)
{
    const char *s = *p;
    int64_t a, b, c;
    if (*s == 'J') {
        s++;
        if (!parse_number(&s, 365, &a) || a < 1) return false;
        d->kind = 'J';
        d->n = (int16_t)a;
    } else if (*s == 'M') {
        s++;
        if (!parse_number(&s, 12, &a) || a < 1 || *s++ != '.' || !parse_number(&s, 5, &b) ||
            b < 1 || *s++ != '.' || !parse_number(&s, 6, &c))
            return false;
        d->kind = 'M';
        d->month = (int16_t)a;
        d->week = (int16_t)b;
        d->wday = (int16_t)c;
    } else {
        if (!parse_number(&s, 365, &a)) return false;
        d->kind = 'N';
        d->n = (int16_t)a;
    }
    d->secs = 2 * 3600;
    if (*s == '/') {
        s++;
        if (!parse_hms(&s, 167, &d->secs)) return false;
    }
    *p = s;
    return true;
}

/* Parses a footer. *has_dst tells whether it names daylight saving; a
 * footer naming DST without dates gets the US rule (M3.2.0,M11.1.0), as
 * POSIX implementations traditionally do. */
static bool parse_posix(const char *s, posix_rule *r, bool *has_dst)
{
    int32_t west;
    if (!parse_name(&s) || !parse_hms(&s, 24, &west)) return false;
    r->std_off = -west;
    r->dst_off = r->std_off + 3600;
    *has_dst = false;
    if (*s == '\0') return true;
    if (!parse_name(&s)) return false;
    *has_dst = true;
    if (*s != ',' && *s != '\0') {
        if (!parse_hms(&s, 24, &west)) return false;
        r->dst_off = -west;
    }
    if (*s == '\0') {
        const char *us = "M3.2.0,M11.1.0";
        return parse_date(&us, &r->start) && *us++ == ',' && parse_date(&us, &r->end);
    }
    if (*s++ != ',' || !parse_date(&s, &r->start) || *s++ != ',' || !parse_date(&s, &r->end))
        return false;
    return *s == '\0';
}

/* The local day a rule date falls on in year y. */
static int64_t rule_day(const rule_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    if (d->kind == 'J') return jan1 + d->n - 1 + (is_leap(y) && d->n >= 60);
    if (d->kind == 'N') return jan1 + d->n;
    int64_t first = days_from_civil(y, (unsigned)d->month, 1);
    int64_t next = d->month == 12 ? days_from_civil(y + 1, 1, 1)
                                  : days_from_civil(y, (unsigned)d->month + 1, 1);
    int64_t wday_first = (first % 7 + 7 + 4) % 7; /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (d->wday - wday_first + 7) % 7 + 7 * (d->week - 1);
    while (day >= next)
        day -= 7;
    return day;
}

typedef struct rule_event {
    int64_t at;
    int32_t off;
    bool start; /* DST starts here */
} rule_event;

/* The two events of year y, appended. */
static size_t rule_year(const posix_rule *r, int64_t y, rule_event *ev, size_t k)
{
    ev[k++] = (rule_event){rule_day(&r->start, y) * SECS_PER_DAY + r->start.secs - r->std_off,
                           r->dst_off, true};
    ev[k++] = (rule_event){rule_day(&r->end, y) * SECS_PER_DAY + r->end.secs - r->dst_off,
                           r->std_off, false};
    return k;
}

/* Sorted by instant; at one instant the end of DST comes before a start, so a
 * rule such as "J1/0,J365/25" (DST all year, RFC 8536 version 3) keeps DST. */
static void sort_events(rule_event *ev, size_t k)
{
    for (size_t i = 1; i < k; i++) {
        rule_event e = ev[i];
        size_t j = i;
        while (j > 0 &&
               (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].start && !e.start))) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = e;
    }
}

/* The offset the rule gives at `sec`, and the first instant after `sec` at
 * which it changes (INT64_MAX when it never does). */
static int32_t rule_lookup(const posix_rule *r, int64_t sec, int64_t *next)
{
    rule_event ev[10];
    size_t k = 0;
    int64_t y = year_of_day(floor_div(sec + r->std_off, SECS_PER_DAY));
    for (int64_t yy = y - 2; yy <= y + 2; yy++)
        k = rule_year(r, yy, ev, k);
    sort_events(ev, k);
    /* Events of y-2 all precede `sec` (rule times move a date by 7 days at most). */
    int32_t off = r->std_off;
    size_t i = 0;
    for (; i < k && ev[i].at <= sec; i++)
        off = ev[i].off;
    *next = INT64_MAX;
    while (i < k) {
        int64_t at = ev[i].at;
        int32_t after = off;
        for (; i < k && ev[i].at == at; i++)
            after = ev[i].off;
        if (after != off) {
            *next = at;
            break;
        }
    }
    return off;
}

/* ---- lookups --------------------------------------------------------------- */

/* The offset at `sec` (seconds, UTC) and the next instant it changes. */
static int32_t lookup(const tz *z, int64_t sec, int64_t *next)
{
    if (z->has_rule && (sec >= z->cache_end || sec < z->rule_below))
        return rule_lookup(&z->rule, sec, next);
    /* The first index with at[i] > sec. */
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->at[mid] <= sec)
            lo = mid + 1;
        else
            hi = mid;
    }
    int32_t off = lo == 0 ? z->first_off : z->off[lo - 1];
    if (lo < z->n && (!z->has_rule || z->at[lo] < z->cache_end))
        *next = z->at[lo];
    else if (z->has_rule)
        (void)rule_lookup(&z->rule, sec, next); /* the rule's next, past the table */
    else
        *next = INT64_MAX;
    return off;
}

static int64_t sec_of(time_ms t)
{
    return floor_div(clamp64(t, TZ_TIME_MIN, TZ_TIME_MAX), 1000);
}

int32_t tz_offset(const tz *z, time_ms t)
{
    int64_t next;
    return lookup(z, sec_of(t), &next);
}

time_ms tz_next_transition(const tz *z, time_ms t)
{
    int64_t next;
    (void)lookup(z, sec_of(t), &next);
    return next > TZ_TIME_MAX / 1000 ? INT64_MAX : next * 1000;
}

void tz_to_local(const tz *z, time_ms t, int64_t *local_day, int32_t *minute_of_day)
{
    t = clamp64(t, TZ_TIME_MIN, TZ_TIME_MAX);
    int64_t local = t + (int64_t)tz_offset(z, t) * 1000;
    int64_t day = floor_div(local, MS_PER_DAY);
    *local_day = day;
    *minute_of_day = (int32_t)((local - day * MS_PER_DAY) / MS_PER_MINUTE);
}

/* Walks the periods of constant offset that can hold an instant whose local
 * time is L: the earliest instant that has local time L wins (a fold); when
 * none has (a gap), L is read with the offset in force before the gap. */
time_ms tz_from_local(const tz *z, int64_t local_day, int32_t minute_of_day)
{
    const int64_t day_lo = TZ_TIME_MIN / MS_PER_DAY - 2, day_hi = TZ_TIME_MAX / MS_PER_DAY + 2;
    int64_t L = clamp64(local_day, day_lo, day_hi) * SECS_PER_DAY + (int64_t)minute_of_day * 60;
    int64_t lo = L - z->max_off - 1, hi = L + z->max_off + 1;
    int64_t start = lo, next, gap = INT64_MIN;
    int32_t off = lookup(z, lo, &next);
    int64_t t;
    for (;;) {
        t = L - off;
        if (t >= start && t < next) break; /* the earliest instant with local time L */
        if (next > hi) {                   /* no instant has it: the gap's answer */
            t = gap != INT64_MIN ? gap : L - off;
            break;
        }
        int64_t after_next;
        int32_t after = lookup(z, next, &after_next);
        if (gap == INT64_MIN && after > off && L >= next + off && L < next + after) gap = L - off;
        start = next;
        next = after_next;
        off = after;
    }
    return clamp64(t * 1000, TZ_TIME_MIN, TZ_TIME_MAX);
}

const char *tz_name(const tz *z)
{
    return z->name;
}

void tz_free(tz *z)
{
    if (!z) return;
    mem_free(z->at);
    mem_free(z->off);
    mem_free(z);
}

/* ---- loading --------------------------------------------------------------- */

static void say(char *why, size_t why_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t why_size, const char *fmt, ...)
{
    if (!why || !why_size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
}

bool tz_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/' || strstr(name, "..") ||
        strstr(name, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/'))
            return false;
    }
    return true;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzif_header {
    char version; /* 0, '2', '3', '4' */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static bool read_header(const unsigned char *p, size_t len, tzif_header *h)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return true;
}

static uint64_t block_size(const tzif_header *h, unsigned time_size)
{
    return (uint64_t)h->timecnt * (time_size + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Fills z's table from one data block. Returns an error text or NULL. */
static const char *read_block(tz *z, const tzif_header *h, const unsigned char *p,
                              unsigned time_size, int64_t *last_at)
{
    if (h->typecnt == 0 || h->typecnt > 256) return "has no valid local time types";
    if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
        return "has inconsistent header counts";
    if (h->leapcnt) return "lists leap seconds (a \"right/\" zone), which baton does not read";
    const unsigned char *times = p, *idx = p + (size_t)h->timecnt * time_size,
                        *types = idx + h->timecnt;
    int32_t utoff[256];
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const unsigned char *tt = types + 6 * (size_t)i;
        int32_t o = (int32_t)be32(tt);
        if (o < -TZ_OFFSET_LIMIT || o > TZ_OFFSET_LIMIT) return "has a UTC offset beyond 26 hours";
        if (tt[4] > 1 || (h->charcnt && tt[5] >= h->charcnt))
            return "has a malformed local time type";
        utoff[i] = o;
    }
    z->at = mem_alloc(((size_t)h->timecnt + 1) * sizeof *z->at);
    z->off = mem_alloc(((size_t)h->timecnt + 1) * sizeof *z->off);
    if (!z->at || !z->off) return "could not be read: out of memory";
    z->first_off = utoff[0];
    int32_t prev = utoff[0];
    int64_t before = INT64_MIN;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        int64_t at =
            time_size == 8 ? be64(times + 8 * (size_t)i) : (int32_t)be32(times + 4 * (size_t)i);
        if (i > 0 && at <= before) return "has transition times out of order";
        if (idx[i] >= h->typecnt) return "has a transition to an undefined local time type";
        before = at;
        if (utoff[idx[i]] != prev) {
            z->at[z->n] = at;
            z->off[z->n++] = utoff[idx[i]];
            prev = utoff[idx[i]];
        }
    }
    *last_at = h->timecnt ? before : INT64_MIN;
    return NULL;
}

/* Appends the rule's transitions after `from` (exclusive; INT64_MIN for a
 * zone that is all rule) up to the cache end. False when memory runs out. */
static bool extend_with_rule(tz *z, int64_t from)
{
    int64_t first_year;
    if (from == INT64_MIN) {
        first_year = RULE_FIRST_YEAR;
        z->rule_below = days_from_civil(RULE_FIRST_YEAR, 1, 1) * SECS_PER_DAY;
        int64_t next;
        z->first_off = rule_lookup(&z->rule, z->rule_below, &next);
        from = z->rule_below;
    } else {
        first_year = year_of_day(floor_div(from, SECS_PER_DAY));
    }
    int64_t last_year = first_year + 1 > RULE_CACHE_YEAR ? first_year + 1 : RULE_CACHE_YEAR;
    z->cache_end = days_from_civil(last_year + 1, 1, 1) * SECS_PER_DAY;
    size_t room = z->n + 2 * (size_t)(last_year - first_year + 3);
    int64_t *at = mem_realloc(z->at, room * sizeof *at);
    if (at) z->at = at;
    int32_t *off = at ? mem_realloc(z->off, room * sizeof *off) : NULL;
    if (!off) return false;
    z->off = off;
    size_t k = 0;
    rule_event *ev = mem_alloc(2 * (size_t)(last_year - first_year + 3) * sizeof *ev);
    if (!ev) return false;
    for (int64_t y = first_year - 1; y <= last_year + 1; y++)
        k = rule_year(&z->rule, y, ev, k);
    sort_events(ev, k); /* nearly sorted already: linear */
    int32_t prev = z->n ? z->off[z->n - 1] : z->first_off;
    for (size_t i = 0; i < k; i++) {
        /* Equal instants (one year's end, the next one's start): the event
         * sorted last decides. */
        if (ev[i].at <= from || (i + 1 < k && ev[i + 1].at == ev[i].at)) continue;
        if (ev[i].off == prev) continue;
        z->at[z->n] = ev[i].at;
        z->off[z->n++] = ev[i].off;
        prev = ev[i].off;
    }
    mem_free(ev);
    return true;
}

/* Parses a whole TZif file into z. Returns an error text or NULL. */
static const char *parse_tzif(tz *z, const unsigned char *p, size_t len)
{
    tzif_header h;
    if (!read_header(p, len, &h)) return "is not a TZif file";
    if (h.version != 0 && (h.version < '2' || h.version > '9'))
        return "has an unknown TZif version";
    unsigned time_size = 4;
    const unsigned char *block = p + 44;
    uint64_t size = block_size(&h, 4);
    if (size > len - 44) return "is truncated";
    const unsigned char *end = block + size;
    if (h.version >= '2') {
        size_t left = len - (size_t)(end - p);
        if (!read_header(end, left, &h) || h.version < '2') return "has a malformed second header";
        time_size = 8;
        block = end + 44;
        size = block_size(&h, 8);
        if (size > left - 44) return "is truncated";
        end = block + size;
    }
    /* The footer: "\n" POSIX-TZ "\n", version 2 and later only. */
    char footer[128] = "";
    if (time_size == 8) {
        size_t left = len - (size_t)(end - p);
        const unsigned char *nl =
            left > 1 && end[0] == '\n' ? memchr(end + 1, '\n', left - 1) : NULL;
        if (!nl) return "has no footer line";
        size_t flen = (size_t)(nl - end - 1);
        if (flen >= sizeof footer) return "has a footer too long to be a time zone rule";
        memcpy(footer, end + 1, flen);
        footer[flen] = '\0';
    }
    bool has_dst = false;
    posix_rule rule = {0};
    if (footer[0] && !parse_posix(footer, &rule, &has_dst))
        return "has a footer that is not a POSIX TZ rule";
    int64_t last_at;
    const char *err = read_block(z, &h, block, time_size, &last_at);
    if (err) return err;
    z->rule_below = INT64_MIN;
    z->cache_end = INT64_MAX;
    if (footer[0] && !has_dst && h.timecnt == 0) z->first_off = rule.std_off;
    if (has_dst) {
        z->has_rule = true;
        z->rule = rule;
        if (!extend_with_rule(z, last_at)) return "could not be read: out of memory";
    }
    int32_t m = z->first_off < 0 ? -z->first_off : z->first_off;
    for (size_t i = 0; i < z->n; i++)
        if ((z->off[i] < 0 ? -z->off[i] : z->off[i]) > m)
            m = z->off[i] < 0 ? -z->off[i] : z->off[i];
    if (z->has_rule) {
        int32_t a = rule.std_off < 0 ? -rule.std_off : rule.std_off;
        int32_t b = rule.dst_off < 0 ? -rule.dst_off : rule.dst_off;
        if (a > m) m = a;
        if (b > m) m = b;
        if (m > TZ_OFFSET_LIMIT) return "has a footer offset beyond 26 hours";
    }
    z->max_off = m;
    return NULL;
}

tz *tz_load(const char *name, char *why, size_t why_size)
{
    if (!tz_name_valid(name)) {
        say(why, why_size,
            "\"%.80s\" is not a time zone name: use an IANA name such as America/New_York "
            "(letters, digits, '_', '+', '-' and '/'; no \"..\" and no leading '/')",
            name ? name : "");
        return NULL;
    }
    tz *z = mem_calloc(1, sizeof *z);
    if (!z) {
        say(why, why_size, "out of memory loading time zone \"%s\"", name);
        return NULL;
    }
    snprintf(z->name, sizeof z->name, "%s", name);
    z->rule_below = INT64_MIN;
    z->cache_end = INT64_MAX;
    /* UTC is built in: it needs no file, and every machine agrees on it. */
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) return z;

    const char *dir = getenv("TZDIR");
    if (!dir || !*dir) dir = DEFAULT_TZDIR;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        say(why, why_size, "time zone directory path \"%.100s\" is too long", dir);
        goto fail;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            say(why, why_size, "no time zone named \"%s\" under %s", name, dir);
        else
            say(why, why_size, "cannot read time zone \"%s\" (%s): %s", name, path,
                strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        say(why, why_size, "\"%s\" under %s is a directory, not a time zone", name, dir);
        goto fail;
    }
    if (st.st_size > TZ_FILE_MAX) {
        say(why, why_size, "time zone file %s is too large to be a TZif file", path);
        goto fail;
    }
    size_t len = 0;
    char *data = file_read(path, &len);
    if (!data) {
        if (errno == ENOMEM) say(why, why_size, "out of memory reading time zone \"%s\"", name);
        else say(why, why_size, "cannot read time zone \"%s\" (%s): %s", name, path, strerror(errno));
        goto fail;
    }
    const char *err = parse_tzif(z, (const unsigned char *)data, len);
    mem_free(data);
    if (err) {
        say(why, why_size, "time zone file %s %s", path, err);
        goto fail;
    }
    return z;
fail:
    tz_free(z);
    return NULL;
}
