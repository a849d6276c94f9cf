/* calendar/calendar.c: business days and business time in a time zone (R7).
 *
 * Design notes.
 *  1. A business day is a local day whose weekday is a workday and that is
 *     not a holiday. Its hours are the instants [open(d), close(d)) with
 *     open(d) = tz_from_local(d, day_start), close(d) = tz_from_local(d,
 *     day_end), then close >= open and open >= close(d-1) enforced (hours_of):
 *     a clock change can otherwise make a day end before it starts or two
 *     days overlap. Every count below is of real elapsed milliseconds inside
 *     those intervals, and every function agrees with a plain walk over them
 *     (tests/calendar: the randomised check).
 *  2. Nothing walks minute by minute. Weekdays are counted with a closed
 *     formula (whole weeks times workdays per week, plus a partial week);
 *     holidays are kept sorted, only those on workdays, and counted with two
 *     binary searches. So "the N-th business day after d" is O(log holidays)
 *     for any N.
 *  3. A run of whole business days lasts (business days) x (day_end -
 *     day_start) except on the few days a UTC offset change falls near:
 *     those, found with tz_next_transition(), are measured exactly and the
 *     difference added (dst_correction). business_between() and the long
 *     jumps of add_business_minutes() rest on this.
 *  4. No allocation after calendar_new(). */
#include "calendar/calendar.h"

#include <stdlib.h>
#include <string.h>

#define SECS_PER_DAY 86400
/* Any instant within this many seconds of a day's local midnights can
 * change the length of its business hours (26 hours: the widest offset
 * tz.c accepts, plus one second). */
#define OFFSET_REACH 93601
/* Local days this module can name: those of TZ_TIME_MIN .. TZ_TIME_MAX. */
#define DAY_MIN (TZ_TIME_MIN / MS_PER_DAY)
#define DAY_MAX (TZ_TIME_MAX / MS_PER_DAY)

struct calendar {
    tz *zone;
    uint8_t workdays;  /* bit 0 = Monday .. bit 6 = Sunday */
    int per_week;      /* workdays in a week */
    int8_t nth_bit[7]; /* the weekday of the k-th workday of a week */
    int32_t day_start, day_end;
    int64_t nominal; /* (day_end - day_start) in ms */
    int64_t *closed; /* holidays that fall on workdays, sorted, unique */
    size_t closed_count;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* 0 = Monday .. 6 = Sunday; day 0 (1970-01-01) was a Thursday. */
static int weekday(int64_t day)
{
    return (int)(day - 7 * floor_div(day + 3, 7) + 3);
}

static int cmp_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The number of closed holidays before `day`. */
static size_t closed_before(const calendar *c, int64_t day)
{
    size_t lo = 0, hi = c->closed_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->closed[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int64_t closed_in(const calendar *c, int64_t first, int64_t last)
{
    if (last < first) return 0;
    return (int64_t)(closed_before(c, last + 1) - closed_before(c, first));
}

/* Workdays in [-3, x) (day -3, 1969-12-29, was a Monday), negative below. */
static int64_t workdays_before(const calendar *c, int64_t x)
{
    int64_t y = x + 3, w = floor_div(y, 7);
    int r = (int)(y - 7 * w);
    return w * c->per_week + __builtin_popcount(c->workdays & ((1u << r) - 1));
}

/* The k-th workday counted from day -3 (k = 1 is the first on or after it). */
static int64_t kth_workday(const calendar *c, int64_t k)
{
    int64_t j = k - 1, w = floor_div(j, c->per_week);
    return -3 + 7 * w + c->nth_bit[j - w * c->per_week];
}

static int64_t business_days_in(const calendar *c, int64_t first, int64_t last)
{
    if (last < first) return 0;
    return workdays_before(c, last + 1) - workdays_before(c, first) - closed_in(c, first, last);
}

/* The n-th business day after `day` (n >= 1). Raises the count of holidays
 * to skip until it stops changing: the k-th workday X with exactly k - n
 * holidays in (day, X] is the answer (see docs/calendar.md). */
static int64_t nth_business_after(const calendar *c, int64_t day, int64_t n)
{
    int64_t base = workdays_before(c, day + 1), skip = 0;
    for (;;) {
        int64_t x = kth_workday(c, base + n + skip);
        int64_t h = closed_in(c, day + 1, x);
        if (h == skip) return x;
        skip = h;
    }
}

bool calendar_is_business_day(const calendar *c, int64_t local_day)
{
    if (!(c->workdays >> weekday(local_day) & 1)) return false;
    size_t i = closed_before(c, local_day);
    return !(i < c->closed_count && c->closed[i] == local_day);
}

/* True when the UTC offset changes within `reach` of t. */
static bool change_near(const calendar *c, time_ms t, int64_t reach)
{
    return tz_next_transition(c->zone, t - reach) <= t + reach;
}

/* open(d) and close(d) without the business-day test (design note 1). */
static void hours_of(const calendar *c, int64_t day, time_ms *open, time_ms *close)
{
    *open = tz_from_local(c->zone, day, c->day_start);
    *close = tz_from_local(c->zone, day, c->day_end);
    /* A clock change can push the previous day's closing past this day's
     * opening (Samoa skipped 30 December 2011: 09:00 on the 30th is also
     * where 09:00 on the missing day lands). Days never overlap: the later
     * opens when the earlier closes. Without an offset change in the 52
     * hours before the opening the check is needless, and skipped. */
    if (change_near(c, *open - 26 * MS_PER_HOUR, 26 * MS_PER_HOUR)) {
        time_ms prev = tz_from_local(c->zone, day - 1, c->day_end);
        if (prev > *open) *open = prev;
    }
    if (*close < *open) *close = *open;
}

/* The day to start from when looking for the hours that hold or follow t:
 * the one before its local day. Next to an offset change, hours can hold
 * instants of a neighbouring local day (a fold across midnight: 00:01 back
 * to 23:01, as in Newfoundland until 2010), so start a day earlier still. */
static int64_t day_before(const calendar *c, time_ms t, int64_t local_day)
{
    return local_day - (change_near(c, t, 3 * MS_PER_DAY) ? 2 : 1);
}

bool calendar_hours(const calendar *c, int64_t local_day, time_ms *open, time_ms *close)
{
    if (!calendar_is_business_day(c, local_day)) return false;
    hours_of(c, local_day, open, close);
    return true;
}

static int64_t local_day_of(const calendar *c, time_ms t)
{
    int64_t day;
    int32_t minute;
    tz_to_local(c->zone, t, &day, &minute);
    return day;
}

/* The business time of whole days first..last beyond the nominal length:
 * only days an offset change falls near differ (design note 3). */
static int64_t dst_correction(const calendar *c, int64_t first, int64_t last)
{
    int64_t corr = 0, done = first - 1;
    int64_t from = (first * SECS_PER_DAY - OFFSET_REACH) * 1000;
    int64_t until = ((last + 1) * SECS_PER_DAY + OFFSET_REACH) * 1000;
    for (time_ms t = tz_next_transition(c->zone, from - 1); t <= until;
         t = tz_next_transition(c->zone, t)) {
        int64_t sec = floor_div(t, 1000);
        int64_t lo = floor_div(sec - OFFSET_REACH, SECS_PER_DAY) - 1;
        int64_t hi = floor_div(sec + OFFSET_REACH, SECS_PER_DAY) + 1;
        if (lo <= done) lo = done + 1;
        if (hi > last) hi = last;
        for (int64_t d = lo; d <= hi; d++) {
            time_ms o, e;
            if (calendar_hours(c, d, &o, &e)) corr += (e - o) - c->nominal;
        }
        if (hi > done) done = hi;
        if (t == INT64_MAX) break;
    }
    return corr;
}

/* Business time in the whole days first..last. */
static int64_t whole_days(const calendar *c, int64_t first, int64_t last)
{
    if (last < first) return 0;
    return business_days_in(c, first, last) * c->nominal + dst_correction(c, first, last);
}

/* The first business day after `day` whose hours end after t, with its
 * hours, [o, e) with o clamped to t; CALENDAR_NEVER past the last day. */
static int64_t next_hours(const calendar *c, int64_t day, time_ms t, time_ms *o, time_ms *e)
{
    for (;;) {
        day = nth_business_after(c, day, 1);
        if (day > DAY_MAX) return CALENDAR_NEVER;
        hours_of(c, day, o, e);
        if (*o < t) *o = t;
        if (*e > *o) return day;
    }
}

bool calendar_is_open(const calendar *c, time_ms t)
{
    t = clamp64(t, TZ_TIME_MIN, TZ_TIME_MAX);
    time_ms o, e;
    int64_t day = local_day_of(c, t);
    return next_hours(c, day_before(c, t, day), t, &o, &e) != CALENDAR_NEVER && o == t;
}

time_ms calendar_next_open(const calendar *c, time_ms t)
{
    if (t > TZ_TIME_MAX) return CALENDAR_NEVER;
    t = clamp64(t, TZ_TIME_MIN, TZ_TIME_MAX);
    time_ms o, e;
    int64_t day = local_day_of(c, t);
    return next_hours(c, day_before(c, t, day), t, &o, &e) == CALENDAR_NEVER ? CALENDAR_NEVER : o;
}

time_ms calendar_add_business_minutes(const calendar *c, time_ms from, int64_t minutes)
{
    if (from > TZ_TIME_MAX || minutes > CALENDAR_MAX_BUSINESS_MINUTES) return CALENDAR_NEVER;
    from = clamp64(from, TZ_TIME_MIN, TZ_TIME_MAX);
    int64_t left = minutes > 0 ? minutes * MS_PER_MINUTE : 0;
    int64_t first = local_day_of(c, from), day = day_before(c, from, first);
    int64_t week = c->per_week * c->nominal;
    time_ms o, e;
    for (;;) {
        day = next_hours(c, day, from, &o, &e);
        if (day == CALENDAR_NEVER) return CALENDAR_NEVER;
        if (left <= e - o) return o + left > TZ_TIME_MAX ? CALENDAR_NEVER : o + left;
        left -= e - o;
        /* Past the days `from` can touch, whole weeks at a time while more
         * than three weeks are left; at least two weeks stay for the walk,
         * more than any offset change can add to them. */
        while (day > first + 1 && left > 3 * week && day < DAY_MAX) {
            int64_t weeks = left / week - 2;
            int64_t got = whole_days(c, day + 1, day + 7 * weeks);
            if (got >= left) break;
            day += 7 * weeks;
            left -= got;
        }
    }
}

time_ms calendar_add_business_days(const calendar *c, time_ms from, int64_t days)
{
    if (days <= 0) return from;
    if (from > TZ_TIME_MAX || days > CALENDAR_MAX_BUSINESS_DAYS) return CALENDAR_NEVER;
    int64_t day = nth_business_after(c, local_day_of(c, from), days);
    if (day > DAY_MAX) return CALENDAR_NEVER;
    time_ms o, e;
    hours_of(c, day, &o, &e);
    return e;
}

/* The business time of `day` inside [a, b). */
static int64_t part_of_day(const calendar *c, int64_t day, time_ms a, time_ms b)
{
    time_ms o, e;
    if (!calendar_hours(c, day, &o, &e)) return 0;
    if (a > o) o = a;
    if (b < e) e = b;
    return e > o ? e - o : 0;
}

duration_ms calendar_business_between(const calendar *c, time_ms a, time_ms b)
{
    a = clamp64(a, TZ_TIME_MIN, TZ_TIME_MAX);
    b = clamp64(b, TZ_TIME_MIN, TZ_TIME_MAX);
    if (b <= a) return 0;
    /* Days whose hours may reach into [a, b) partly are measured one by
     * one; those in between lie wholly inside it. Next to an offset change
     * that margin is two days (see day_before), else none. */
    int64_t da = local_day_of(c, a), db = local_day_of(c, b);
    int64_t ma = da - day_before(c, a, da) - 1, mb = db - day_before(c, b, db) - 1;
    int64_t lo = da - ma, hi = db + mb;
    if (hi - lo <= 2 * (ma + mb) + 1) {
        int64_t total = 0;
        for (int64_t d = lo; d <= hi; d++)
            total += part_of_day(c, d, a, b);
        return total;
    }
    int64_t total = whole_days(c, da + ma + 1, db - mb - 1);
    for (int64_t d = lo; d <= da + ma; d++)
        total += part_of_day(c, d, a, b);
    for (int64_t d = db - mb; d <= hi; d++)
        total += part_of_day(c, d, a, b);
    return total;
}

const tz *calendar_zone(const calendar *c)
{
    return c->zone;
}

void calendar_free(calendar *c)
{
    if (!c) return;
    tz_free(c->zone);
    mem_free(c->closed);
    mem_free(c);
}

calendar *calendar_new(const calendar_info *info, char *why, size_t why_size)
{
    static const calendar_info defaults = {0};
    if (!info) info = &defaults;
    int start = info->day_start, end = info->day_end;
    if (start == 0 && end == 0) end = 24 * 60;
    if (end > 24 * 60 || start >= end) {
        if (why && why_size)
            snprintf(why, why_size,
                     "business hours %02d:%02d-%02d:%02d are not a range within a day", start / 60,
                     start % 60, end / 60, end % 60);
        return NULL;
    }
    calendar *c = mem_calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->workdays = info->workdays & 0x7f ? info->workdays & 0x7f : 0x1f;
    for (int d = 0; d < 7; d++)
        if (c->workdays >> d & 1) c->nth_bit[c->per_week++] = (int8_t)d;
    c->day_start = start;
    c->day_end = end;
    c->nominal = (int64_t)(end - start) * MS_PER_MINUTE;
    if (info->holiday_count) {
        c->closed = mem_alloc(info->holiday_count * sizeof *c->closed);
        if (!c->closed) goto nomem;
        size_t n = 0;
        for (size_t i = 0; i < info->holiday_count; i++)
            if (c->workdays >> weekday(info->holidays[i]) & 1) c->closed[n++] = info->holidays[i];
        qsort(c->closed, n, sizeof *c->closed, cmp_day);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (u == 0 || c->closed[u - 1] != c->closed[i]) c->closed[u++] = c->closed[i];
        c->closed_count = u;
    }
    const char *name = info->timezone && *info->timezone ? info->timezone : "UTC";
    c->zone = tz_load(name, why, why_size);
    if (!c->zone) {
        calendar_free(c);
        return NULL;
    }
    return c;
nomem:
    if (why && why_size) snprintf(why, why_size, "out of memory building the calendar");
    calendar_free(c);
    return NULL;
}
