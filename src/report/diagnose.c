/* The R7 diagnosis: when few handoffs get a meeting within the SLA, which of
 * four causes explains the misses, each with its evidence.
 *
 * Only decided handoffs count (met or missed); pending ones say nothing yet.
 * A missed handoff can show several causes at once:
 *   wrong leads passed   sales rejected it (the reasons are the evidence);
 *   slow response        first touched after the first-touch SLA;
 *   lacks context        it waited for pain and impact (R11), or its
 *                        question line was empty or the default one (R3);
 *   not worked           no touch logged and no rejection.
 * The main cause is the one behind the most misses; ties go to the one
 * listed first. Each cause also compares the meeting rate of handoffs that
 * show it with those that do not. */
#include "report/internal.h"

#include <string.h>

const char *report_cause_name(enum report_cause c)
{
    static const char *const names[CAUSE_COUNT] = {
        [CAUSE_WRONG_LEADS] = "wrong leads passed",
        [CAUSE_SLOW_RESPONSE] = "slow response",
        [CAUSE_NO_CONTEXT] = "handoff lacks context",
        [CAUSE_NOT_WORKED] = "leads not worked",
    };
    return (size_t)c < CAUSE_COUNT ? names[c] : "?";
}

static bool has_cause(const report_handoff *h, const fate *x, enum report_cause c)
{
    switch (c) {
    case CAUSE_WRONG_LEADS: return x->rejected != 0;
    case CAUSE_SLOW_RESPONSE: return x->touch_state == DUE_MISSED && x->touch;
    case CAUSE_NO_CONTEXT: return h->needs_context || h->generic_question;
    case CAUSE_NOT_WORKED: return !x->touch && !x->rejected;
    case CAUSE_COUNT: break;
    }
    return false;
}

static double rate(uint32_t met, uint32_t missed)
{
    return met + missed ? (double)met / (double)(met + missed) : -1;
}

/* ", rate 12% with it against 41% without" */
static void compare(strbuf *b, const report_cause_evidence *e, const char *with, const char *without)
{
    if (e->rate_with < 0 || e->rate_without < 0) return;
    char x[16], y[16];
    fmt_percent(e->rate_with, x, sizeof x);
    fmt_percent(e->rate_without, y, sizeof y);
    strbuf_printf(b, " Meeting rate %s %s, %s %s.", x, with, y, without);
}

static void evidence_wrong(const review_work *w, const uint32_t *which, size_t n, report_cause_evidence *e,
                           uint32_t misses, strbuf *b)
{
    const report_review *r = w->r;
    uint32_t by_reason[REPORT_MAX_REASONS] = {0}, unknown = 0, returned = 0;
    for (size_t k = 0; k < n; k++) {
        const fate *x = &w->fates[which[k]];
        if (x->meeting_state != DUE_MISSED || !x->rejected) continue;
        if (x->reason >= 0) by_reason[x->reason]++;
        else unknown++;
        returned += x->returned;
    }
    strbuf_printf(b, "%u of %u missed handoffs were rejected by sales", e->misses, misses);
    const char *sep = ": ";
    /* largest first, ties in the contract's order */
    bool used[REPORT_MAX_REASONS] = {false};
    for (size_t shown = 0; shown < r->reason_count; shown++) {
        int best = -1;
        for (size_t i = 0; i < r->reason_count; i++)
            if (!used[i] && by_reason[i] && (best < 0 || by_reason[i] > by_reason[best])) best = (int)i;
        if (best < 0) break;
        used[best] = true;
        strbuf_printf(b, "%s%s %u", sep, r->reasons[best], by_reason[best]);
        sep = ", ";
    }
    if (unknown) strbuf_printf(b, "%sother %u", sep, unknown);
    strbuf_putc(b, '.');
    if (returned) strbuf_printf(b, " %u went back to marketing.", returned);
    compare(b, e, "for rejected handoffs", "for the rest");
}

static void evidence_slow(const review_work *w, report_cause_evidence *e, uint32_t misses, strbuf *b)
{
    const report_review *r = w->r;
    if (!r->first_touch.set) {
        strbuf_puts(b, "The contract sets no first-touch SLA, so no response counts as slow.");
        return;
    }
    char sla[48], med[16], p90[16];
    fmt_sla(&r->first_touch, sla, sizeof sla);
    strbuf_printf(b, "%u of %u missed handoffs were first touched after the %s SLA.", e->misses, misses, sla);
    if (r->cur.touched) {
        fmt_duration(r->cur.response_median, med, sizeof med);
        fmt_duration(r->cur.response_p90, p90, sizeof p90);
        strbuf_printf(b, " Response time: median %s, p90 %s; %u breaches in the period.", med, p90,
                      r->cur.sla_breached);
    }
    compare(b, e, "when touched late", "otherwise");
}

static void evidence_context(report_cause_evidence *e, uint32_t misses, uint32_t held, uint32_t generic, strbuf *b)
{
    strbuf_printf(b, "%u of %u missed handoffs lacked context: %u waited for pain and impact, %u carried no "
                     "question of the buyer's own (empty or the default line).",
                  e->misses, misses, held, generic);
    compare(b, e, "for them", "for handoffs with the buyer's question");
}

static void evidence_not_worked(const review_work *w, report_cause_evidence *e, uint32_t misses, strbuf *b)
{
    strbuf_printf(b, "%u of %u missed handoffs have no touch logged and no rejection.", e->misses, misses);
    if (!w->r->cur.touched && w->r->cur.reached)
        strbuf_puts(b, " No first touch was logged in the period at all: check that the CRM sends "
                       "\"First Touch\" events.");
    compare(b, e, "for them", "for handoffs that were worked");
}

void diagnose(review_work *w, const uint32_t *which, size_t n)
{
    report_review *r = w->r;
    report_diagnosis *dg = &r->diagnosis;
    dg->rate = report_meeting_rate(&r->cur);
    dg->low = dg->rate >= 0 && dg->rate < dg->target;
    dg->main_cause = -1;
    uint32_t met[CAUSE_COUNT][2] = {{0}}, missed[CAUSE_COUNT][2] = {{0}};
    uint32_t held = 0, generic = 0;
    for (size_t k = 0; k < n; k++) {
        const report_handoff *h = report_data_handoff(w->d, which[k]);
        const fate *x = &w->fates[which[k]];
        if (x->meeting_state != DUE_MET && x->meeting_state != DUE_MISSED) continue;
        bool miss = x->meeting_state == DUE_MISSED;
        dg->misses += miss;
        if (miss) {
            held += h->needs_context;
            generic += h->generic_question;
        }
        for (int c = 0; c < CAUSE_COUNT; c++) {
            bool with = has_cause(h, x, (enum report_cause)c);
            if (miss) {
                missed[c][with]++;
                if (with) dg->causes[c].misses++;
            } else {
                met[c][with]++;
            }
        }
    }
    strbuf b;
    strbuf_init(&b);
    for (int c = 0; c < CAUSE_COUNT; c++) {
        report_cause_evidence *e = &dg->causes[c];
        e->rate_with = rate(met[c][1], missed[c][1]);
        e->rate_without = rate(met[c][0], missed[c][0]);
        if (e->misses && (dg->main_cause < 0 || e->misses > dg->causes[dg->main_cause].misses)) dg->main_cause = c;
        strbuf_reset(&b);
        switch ((enum report_cause)c) {
        case CAUSE_WRONG_LEADS: evidence_wrong(w, which, n, e, dg->misses, &b); break;
        case CAUSE_SLOW_RESPONSE: evidence_slow(w, e, dg->misses, &b); break;
        case CAUSE_NO_CONTEXT: evidence_context(e, dg->misses, held, generic, &b); break;
        case CAUSE_NOT_WORKED: evidence_not_worked(w, e, dg->misses, &b); break;
        case CAUSE_COUNT: break;
        }
        e->evidence = b.oom ? "" : arena_strndup(r->mem, b.data ? b.data : "", b.len);
    }
    strbuf_free(&b);
}
