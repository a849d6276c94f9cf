/* The shared figures: what became of each handoff, and the counts, rates and
 * percentiles over any set of handoffs.
 *
 * Definitions (docs/reports.md says the same in words):
 *   1. An outcome belongs to the handoff it names, and counts only if it
 *      happened by the review's "as of" time. The first of each kind counts.
 *   2. A handoff reaches its team when made, or, when it waited for context
 *      (R11), when released. One that still waits has no deadlines yet.
 *   3. R7: a meeting booked by the end of the SLA's business days after the
 *      handoff reached the team is met; after that, or none by then, missed;
 *      none yet and the deadline not passed, pending, never a failure. The
 *      rate is met / (met + missed).
 *   4. First touch: response time is business time from reaching the team to
 *      the first touch (elapsed time when the SLA is in plain hours); a
 *      touch after the deadline, or none when it has passed, is a breach.
 *   5. Percentiles are nearest-rank: the p-th of n sorted values is the one
 *      at rank ceil(p * n); the median of 4 values is the 2nd. */
#include "report/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int reason_index(const report_review *r, const char *code)
{
    if (!code) return -1;
    for (size_t i = 0; i < r->reason_count; i++)
        if (strcmp(r->reasons[i], code) == 0) return (int)i;
    return -1;
}

void month_label(const calendar *cal, time_ms t, char out[8])
{
    int64_t day, y;
    int32_t minute;
    unsigned m, dd;
    tz_to_local(calendar_zone(cal), t, &day, &minute);
    civil_from_days(day, &y, &m, &dd);
    char buf[24];
    snprintf(buf, sizeof buf, "%04d-%02u", (int)(y % 10000), m % 100);
    memcpy(out, buf, 7);
    out[7] = '\0';
}

/* The end of an SLA that starts at `start`. */
static time_ms sla_due(const calendar *cal, const sla_figure *f, time_ms start)
{
    switch (f->unit) {
    case SLA_BUSINESS_HOURS: return calendar_add_business_minutes(cal, start, f->amount * 60);
    case SLA_BUSINESS_DAYS: return calendar_add_business_days(cal, start, f->amount);
    default: return start + f->amount;
    }
}

static void first(time_ms *slot, time_ms at)
{
    if (!*slot || at < *slot) *slot = at;
}

/* Records one outcome on its handoff's fate. */
static void fate_take(report_review *r, fate *x, const report_outcome *o)
{
    switch ((enum outcome_kind)o->kind) {
    case OUTCOME_ACCEPTED: first(&x->accepted, o->at); break;
    case OUTCOME_REJECTED:
        if (x->rejected && x->rejected <= o->at) break;
        x->rejected = o->at;
        x->reason = reason_index(r, o->reason);
        x->returned = o->returned;
        break;
    case OUTCOME_TOUCH: first(&x->touch, o->at); break;
    case OUTCOME_MEETING_BOOKED: first(&x->meeting, o->at); break;
    case OUTCOME_MEETING_HELD: break; /* a held meeting was booked; booking is what R7 counts */
    case OUTCOME_OPPORTUNITY: first(&x->opportunity, o->at); break;
    case OUTCOME_WON:
        if (!x->won) x->amount = o->amount;
        first(&x->won, o->at);
        break;
    case OUTCOME_LOST: first(&x->lost, o->at); break;
    case OUTCOME_COUNT: break;
    }
}

/* Deadlines and where the handoff stands on them. */
static void fate_judge(const review_work *w, const report_handoff *h, fate *x)
{
    const report_review *r = w->r;
    time_ms as_of = r->as_of;
    x->start = h->needs_context ? (h->released && h->released <= as_of ? h->released : 0) : h->at;
    if (!x->start) return;
    x->meeting_due = sla_due(w->cal, &r->meeting, x->start);
    if (x->meeting && x->meeting <= x->meeting_due) x->meeting_state = DUE_MET;
    else if (x->meeting || as_of > x->meeting_due) x->meeting_state = DUE_MISSED;
    else x->meeting_state = DUE_PENDING;
    if (x->touch) {
        time_ms touch = x->touch > x->start ? x->touch : x->start;
        x->response = r->first_touch.set && r->first_touch.unit == SLA_ELAPSED
                          ? touch - x->start
                          : calendar_business_between(w->cal, x->start, touch);
    }
    if (!r->first_touch.set) return;
    x->touch_due = sla_due(w->cal, &r->first_touch, x->start);
    if (x->touch && x->touch <= x->touch_due) x->touch_state = DUE_MET;
    else if (x->touch || as_of > x->touch_due) x->touch_state = DUE_MISSED;
    else x->touch_state = DUE_PENDING;
}

bool fates_compute(review_work *w)
{
    const report_data *d = w->d;
    size_t n = report_data_handoff_count(d);
    (void)report_data_find(d, 0); /* puts the handoffs in number order before indexing them */
    const report_handoff *base = n ? report_data_handoff(d, 0) : NULL;
    for (size_t i = 0; i < n; i++) w->fates[i] = (fate){.reason = -1};
    for (size_t i = 0; i < report_data_outcome_count(d); i++) {
        const report_outcome *o = report_data_outcome(d, i);
        if (!o->handoff || o->at > w->r->as_of) continue;
        const report_handoff *h = report_data_find(d, o->handoff);
        if (!h || o->at < h->at) continue;
        fate_take(w->r, &w->fates[h - base], o);
    }
    for (size_t i = 0; i < n; i++) fate_judge(w, &base[i], &w->fates[i]);
    return true;
}

static int cmp_duration(const void *a, const void *b)
{
    duration_ms x = *(const duration_ms *)a, y = *(const duration_ms *)b;
    return (x > y) - (x < y);
}

duration_ms percentile(duration_ms *v, size_t n, double p)
{
    if (!n) return 0;
    qsort(v, n, sizeof *v, cmp_duration);
    size_t rank = (size_t)ceil(p * (double)n);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}

void figures_compute(const review_work *w, const uint32_t *which, size_t n, report_figures *out)
{
    memset(out, 0, sizeof *out);
    const report_data *d = w->d;
    time_ms as_of = w->r->as_of;
    size_t responses = 0;
    for (size_t k = 0; k < n; k++) {
        const report_handoff *h = report_data_handoff(d, which[k]);
        const fate *x = &w->fates[which[k]];
        out->handoffs++;
        out->fast += h->fast;
        out->generic_question += h->generic_question;
        if (x->accepted) out->accepted++;
        if (x->rejected) {
            out->rejected++;
            out->returns += x->returned;
            if (x->reason >= 0) out->by_reason[x->reason]++;
        }
        if (x->opportunity) out->opportunities++;
        if (x->won) {
            out->won++;
            out->amount += x->amount;
        }
        if (x->lost) out->lost++;
        if (x->start) {
            out->reached++;
            out->met += x->meeting_state == DUE_MET;
            out->missed += x->meeting_state == DUE_MISSED;
            out->pending += x->meeting_state == DUE_PENDING;
            out->sla_met += x->touch_state == DUE_MET;
            out->sla_breached += x->touch_state == DUE_MISSED;
            out->sla_pending += x->touch_state == DUE_PENDING;
            if (x->touch) {
                out->touched++;
                w->scratch[responses++] = x->response;
            }
        }
    }
    out->response_median = percentile(w->scratch, responses, 0.5);
    out->response_p90 = percentile(w->scratch, responses, 0.9);

    size_t waits = 0;
    for (size_t k = 0; k < n; k++) {
        const report_handoff *h = report_data_handoff(d, which[k]);
        if (!h->needs_context) continue;
        out->needs_context++;
        if (h->released && h->released <= as_of) {
            out->released++;
            w->scratch[waits++] = h->released - h->at;
        } else {
            out->waiting++;
            if (as_of - h->at > out->wait_longest) out->wait_longest = as_of - h->at;
        }
    }
    out->wait_median = percentile(w->scratch, waits, 0.5);
    out->wait_p90 = percentile(w->scratch, waits, 0.9);
}

static double ratio(uint32_t a, uint32_t b)
{
    return b ? (double)a / (double)b : -1;
}

double report_discard_rate(const report_figures *f)
{
    return ratio(f->rejected, f->handoffs);
}

double report_meeting_rate(const report_figures *f)
{
    return ratio(f->met, f->met + f->missed);
}

double report_opportunity_rate(const report_figures *f)
{
    return ratio(f->opportunities, f->handoffs);
}

double report_sla_rate(const report_figures *f)
{
    return ratio(f->sla_met, f->sla_met + f->sla_breached);
}
