/* What the report tests share: a time from ISO text, a month's review, and
 * finding a group or a reason code in it (the test fails when it is not
 * there). */
#ifndef BATON_TEST_REPORT_REVIEW_H
#define BATON_TEST_REPORT_REVIEW_H

#include "../harness.h"
#include "report/report.h"

static inline time_ms at(const char *iso)
{
    time_ms t;
    assert_true(time_parse(iso, strlen(iso), &t));
    return t;
}

/* The review of `month` ("2026-10"; NULL: the report's default period), as
 * of `as_of` (0: the data's latest), with a meeting target (0: the default,
 * REPORT_MEETING_TARGET). */
static inline report_review *review_month(const report_data *d, const contract *c, const char *month,
                                          time_ms as_of, double target)
{
    report_options opt = {.as_of = as_of, .meeting_target = target};
    if (month) {
        assert_true(report_parse_month(month, &opt.from_day, &opt.to_day));
        opt.month = true;
    }
    char why[128];
    report_review *r = report_review_new(d, c, &opt, why, sizeof why);
    if (!r) fail_msg("%s", why);
    return r;
}

static inline const report_group *group(const report_review *r, enum report_dim dim, const char *key)
{
    for (size_t i = 0; i < r->group_count[dim]; i++)
        if (strcmp(r->groups[dim][i].key, key) == 0) return &r->groups[dim][i];
    fail_msg("no %s group '%s'", report_dim_name(dim), key);
    return NULL;
}

static inline int reason(const report_review *r, const char *code)
{
    for (size_t i = 0; i < r->reason_count; i++)
        if (strcmp(r->reasons[i], code) == 0) return (int)i;
    fail_msg("no reason %s", code);
    return -1;
}

#endif
