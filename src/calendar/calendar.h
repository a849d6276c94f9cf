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

/* Loads zone `name` ("America/New_York", "UTC"). NULL with a message in
 * `why` (e.g. "no time zone named \"Mars/Base\" under /usr/share/zoneinfo")
 * when it cannot be read. */
tz *tz_load(const char *name, char *why, size_t why_size);
void tz_free(tz *z);
const char *tz_name(const tz *z);
/* Seconds east of UTC in force at `t`. */
int32_t tz_offset(const tz *z, time_ms t);
/* The instant a local wall-clock time names. In a gap (clocks jump forward)
 * the time is read with the offset before the gap, so 02:30 on a spring-
 * forward night is 03:30; in a fold (clocks go back) the earlier instant. */
time_ms tz_from_local(const tz *z, int64_t local_day, int32_t minute_of_day);
/* The local day and minute of day at `t`. */
void tz_to_local(const tz *z, time_ms t, int64_t *local_day, int32_t *minute_of_day);

typedef struct calendar calendar;

/* A calendar from the contract's description. NULL with `why` set when the
 * time zone cannot be loaded. An info with no timezone means UTC; workdays 0
 * means Monday to Friday; day_start == day_end == 0 means 00:00-24:00. */
calendar *calendar_new(const calendar_info *info, char *why, size_t why_size);
void calendar_free(calendar *c);
const tz *calendar_zone(const calendar *c);

bool calendar_is_business_day(const calendar *c, int64_t local_day);
/* Inside business hours on a business day. */
bool calendar_is_open(const calendar *c, time_ms t);
/* `t` if open, else the next opening. */
time_ms calendar_next_open(const calendar *c, time_ms t);

/* `minutes` of business time after `from` (from outside hours counts from
 * the next opening). */
time_ms calendar_add_business_minutes(const calendar *c, time_ms from, int64_t minutes);
/* The end of the `days`-th business day after the local day of `from`: a
 * handoff any time on Wednesday 23 December with 10 business days (and
 * holidays on the 25th and 1st) is due at closing time on the 8th of
 * January. This is the R7 deadline. */
time_ms calendar_add_business_days(const calendar *c, time_ms from, int64_t days);
/* Business time between two instants, in milliseconds (0 when b <= a): the
 * response time an SLA is measured on. */
duration_ms calendar_business_between(const calendar *c, time_ms a, time_ms b);

#endif
