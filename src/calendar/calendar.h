/* calendar: time zones and business time (R7).
 *
 * A time zone is read from the system zoneinfo (TZif files under
 * /usr/share/zoneinfo, or $TZDIR), never from the process's TZ or the C
 * library's localtime: the engine stays pure and two zones can be used at
 * once. A calendar is a time zone plus workdays, business hours and holidays
 * (the contract's `calendar:`); business-time arithmetic is exact across
 * weekends, holidays and daylight-saving changes.
 *
 * Conventions. Instants are UTC milliseconds (time_ms). A "local day" is a
 * day number in the zone (days since 1970-01-01, local calendar). Business
 * hours are [day_start, day_end) minutes after local midnight on a business
 * day. Functions never allocate after calendar_new()/tz_load(). */
#ifndef BATON_CALENDAR_H
#define BATON_CALENDAR_H

#include "contract/contract.h"
#include "util/util.h"

typedef struct tz tz;

/* The instants this module computes with: 0001-01-01T00:00:00Z to
 * 9999-12-31T23:59:59.999Z. Instants outside are read as the nearest end, so
 * no input can overflow. */
#define TZ_TIME_MIN INT64_C(-62135596800000)
#define TZ_TIME_MAX INT64_C(253402300799999)

/* Loads zone `name` ("America/New_York", "UTC"). NULL with a message in
 * `why` (e.g. "no time zone named \"Mars/Base\" under /usr/share/zoneinfo")
 * when it cannot be read. Files are TZif versions 1 to 4 (RFC 8536) from
 * $TZDIR, else /usr/share/zoneinfo; the footer's POSIX TZ rule extends a
 * file past its last transition. "UTC" and "Etc/UTC" are built in and need
 * no file. A name failing tz_name_valid() is refused before any file is
 * opened. The caller owns the zone; tz_free() releases it. */
tz *tz_load(const char *name, char *why, size_t why_size);
void tz_free(tz *z);
/* True when `name` may name a zone: 1 to 255 characters from [A-Za-z0-9_+-/],
 * not starting or ending with '/', without ".." or "//". */
bool tz_name_valid(const char *name);
const char *tz_name(const tz *z);
/* Seconds east of UTC in force at `t`. */
int32_t tz_offset(const tz *z, time_ms t);
/* The instant a local wall-clock time names. In a gap (clocks jump forward)
 * the time is read with the offset before the gap, so 02:30 on a spring-
 * forward night is 03:30; in a fold (clocks go back) the earlier instant.
 * `minute_of_day` may run past the day: 1440 is the midnight that ends it. */
time_ms tz_from_local(const tz *z, int64_t local_day, int32_t minute_of_day);
/* The local day and minute of day at `t`. */
void tz_to_local(const tz *z, time_ms t, int64_t *local_day, int32_t *minute_of_day);
/* The first instant after `t` at which the zone's UTC offset changes;
 * INT64_MAX when it never does again (before TZ_TIME_MAX). */
time_ms tz_next_transition(const tz *z, time_ms t);

typedef struct calendar calendar;

/* Limits. An amount beyond them is absurd for an SLA (a hundred years of
 * business time); the functions then return CALENDAR_NEVER rather than a
 * date, as they do when the answer lies past TZ_TIME_MAX. */
#define CALENDAR_NEVER                INT64_MAX
#define CALENDAR_MAX_BUSINESS_DAYS    INT64_C(36600)             /* 100 x 366 */
#define CALENDAR_MAX_BUSINESS_MINUTES (INT64_C(36600) * 24 * 60) /* 100 x 366 full days */

/* A calendar from the contract's description. NULL with `why` set when the
 * time zone cannot be loaded, or the hours are not a range (day_end past
 * 1440, or day_start >= day_end other than 0 and 0). An info with no
 * timezone means UTC; workdays 0 means Monday to Friday; day_start ==
 * day_end == 0 means 00:00-24:00. Holidays are copied (they need not be
 * sorted; duplicates and holidays on non-workdays are harmless). The caller
 * owns the calendar; calendar_free() releases it and its zone.
 *
 * A business day's hours are the instants [open, close) with open =
 * tz_from_local(day, day_start) and close = tz_from_local(day, day_end)
 * (close never before open, open never before the previous day's close):
 * real elapsed time, so 09:00-17:00 lasts 8 hours on any day, and
 * 00:00-24:00 lasts 23 hours on a spring-forward day. See docs/calendar.md. */
calendar *calendar_new(const calendar_info *info, char *why, size_t why_size);
void calendar_free(calendar *c);
const tz *calendar_zone(const calendar *c);

bool calendar_is_business_day(const calendar *c, int64_t local_day);
/* The opening and closing instants of `local_day`; false (and nothing
 * written) when it is not a business day. */
bool calendar_hours(const calendar *c, int64_t local_day, time_ms *open, time_ms *close);
/* Inside business hours on a business day. */
bool calendar_is_open(const calendar *c, time_ms t);
/* `t` if open, else the next opening (CALENDAR_NEVER past TZ_TIME_MAX). */
time_ms calendar_next_open(const calendar *c, time_ms t);

/* `minutes` of business time after `from` (from outside hours counts from
 * the next opening). Time that runs out exactly at a closing gives the
 * closing (4 hours after 13:00 is 17:00 the same day, not 09:00 the next
 * business day). minutes <= 0 gives calendar_next_open(from); more than
 * CALENDAR_MAX_BUSINESS_MINUTES gives CALENDAR_NEVER. */
time_ms calendar_add_business_minutes(const calendar *c, time_ms from, int64_t minutes);
/* The end of the `days`-th business day after the local day of `from`: a
 * handoff any time on Wednesday 23 December with 10 business days (and
 * holidays on the 25th and 1st) is due at closing time on the 8th of
 * January. This is the R7 deadline. The local day of `from` itself never
 * counts, business day or not. days <= 0 gives `from`; more than
 * CALENDAR_MAX_BUSINESS_DAYS gives CALENDAR_NEVER. */
time_ms calendar_add_business_days(const calendar *c, time_ms from, int64_t days);
/* Business time between two instants, in milliseconds (0 when b <= a): the
 * response time an SLA is measured on. Exactly the length of the
 * intersection of [a, b) with the business hours defined above. */
duration_ms calendar_business_between(const calendar *c, time_ms a, time_ms b);

#endif
