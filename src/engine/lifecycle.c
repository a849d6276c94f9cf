/* The lead lifecycle (R1): stages with one owning team each, and statuses.
 *
 * A lead is always in exactly one stage, so always has exactly one owning
 * team: the stage's team. Stages run forward only; a rejection is the one
 * way back, and only as far as its reason's policy says.
 *
 *   stage 0 (nurture, marketing)                       stage N (development / sales)
 *   ┌──────────────┐  gate holds, context complete     ┌────────────┐ accepted  ┌──────────┐
 *   │    OPEN      │ ─────── handoff_make() ─────────► │ HANDED_OFF │ ────────► │ ACCEPTED │
 *   └──────────────┘                                   └────────────┘           └──────────┘
 *     │  ▲    ▲ cooldown over                              │ rejected          │ opportunity
 *     │  │    │ lifecycle_wake()                           │ lifecycle_outcome()│ created:
 *     │  │  ┌──────────┐  reason: back to a stage          │                   ▼ next stage
 *     │  │  │ RECYCLED │ ◄─────────────────────────────────┤             (development → sales)
 *     │  │  └──────────┘                                   │
 *     │  │ context supplied      reason: suppress          ▼
 *     │  │ handoff_release()   ┌────────────┐  ◄───── ┌──────────┐
 *     │  └──────────────────── │ NEEDS_     │         │SUPPRESSED│ (terminal)
 *     └── gate holds, pain or  │ CONTEXT    │         └──────────┘
 *         impact missing ────► └────────────┘
 *         handoff_make()        (stays in stage 0, owned by marketing, counted)
 *
 * Invariants:
 *   1. stage changes only in lifecycle_change(), which reports every change
 *      to the sink with time and cause (the audit trail);
 *   2. a stage never decreases except on a rejection whose policy names an
 *      earlier stage;
 *   3. SUPPRESSED is terminal. */
#include "engine/internal.h"

#include <string.h>

const char *lead_status_name(enum lead_status s)
{
    static const char *const names[] = {"open", "needs_context", "handed_off", "accepted", "recycled",
                                        "suppressed"};
    return (size_t)s < ARRAY_LEN(names) ? names[s] : "?";
}

void lifecycle_change(engine *e, const engine_sink *sink, lead *l, uint32_t to_stage, uint8_t to_status,
                      const char *cause, time_ms at)
{
    transition t = {
        .lead = l->key,
        .at = at,
        .from_stage = l->stage,
        .to_stage = to_stage,
        .from_status = l->status,
        .to_status = to_status,
        .cause = cause,
        .handoff = l->handoff,
    };
    if (t.from_stage == t.to_stage && t.from_status == t.to_status) return;
    l->stage = (uint8_t)to_stage;
    l->status = to_status;
    l->settled = false;
    /* the SLA clocks run while the receiving team holds the lead */
    bool held_before = t.from_status == STATUS_HANDED_OFF || t.from_status == STATUS_ACCEPTED;
    bool held_now = to_status == STATUS_HANDED_OFF || to_status == STATUS_ACCEPTED;
    if (!held_before && held_now && !sla_start(e, l, at)) e->clock_nomem = true;
    if (held_before && !held_now)
        for (int k = 0; k < SLA_CLOCK_COUNT; k++) sla_stop(l, (enum sla_clock)k);
    if (sink && sink->transition) sink->transition(sink->ctx, &t);
}

/* A recycled lead whose cooldown is over is open again. */
void lifecycle_wake(engine *e, const engine_sink *sink, lead *l, time_ms now)
{
    if (l->status == STATUS_RECYCLED && now >= l->cooldown_until)
        lifecycle_change(e, sink, l, l->stage, STATUS_OPEN, "cooldown over", now);
}

const char *outcome_kind_name(enum outcome_kind k)
{
    static const char *const names[] = {"accepted", "rejected",    "touch", "meeting_booked",
                                        "meeting_held", "opportunity", "won", "lost"};
    return (size_t)k < ARRAY_LEN(names) ? names[k] : "?";
}

/* The outcome events' names, as the CRM and the sales API send them. */
static const char *const outcome_events[OUTCOME_COUNT] = {
    [OUTCOME_ACCEPTED] = "Handoff Accepted",    [OUTCOME_REJECTED] = "Handoff Rejected",
    [OUTCOME_TOUCH] = "First Touch",             [OUTCOME_MEETING_BOOKED] = "Meeting Booked",
    [OUTCOME_MEETING_HELD] = "Meeting Held",     [OUTCOME_OPPORTUNITY] = "Opportunity Created",
    [OUTCOME_WON] = "Deal Won",                  [OUTCOME_LOST] = "Deal Lost",
};

/* The rep who held the lead is free of it; the contract's fairness policy
 * decides whether the rep is owed one. */
static void release_rep(engine *e, lead *l, enum route_close how)
{
    if (e->opt.router && l->rep) route_release(e->opt.router, e->c, l->rep, how);
    l->rep = NULL;
}

const char *outcome_event_name(enum outcome_kind k)
{
    return (size_t)k < OUTCOME_COUNT ? outcome_events[k] : "?";
}

/* A rejection: the reason's policy sends the lead back, suppresses it or
 * keeps it with the team for another owner. False when the code is unknown
 * (the API refuses those up front; from a CRM they change nothing). */
static bool lifecycle_reject(engine *e, const engine_sink *sink, lead *l, const event *ev, const reason_info **out)
{
    char code[64];
    size_t n = ev->reason.len < sizeof code - 1 ? ev->reason.len : sizeof code - 1;
    memcpy(code, ev->reason.s ? ev->reason.s : "", n);
    code[n] = '\0';
    int r = contract_find_reason(e->c, code);
    if (r < 0) return false;
    const reason_info *reason = *out = contract_reason(e->c, (size_t)r);
    if (l->status != STATUS_HANDED_OFF && l->status != STATUS_ACCEPTED) return true;
    release_rep(e, l, l->status == STATUS_ACCEPTED ? ROUTE_RETURNED : ROUTE_REJECTED);
    char cause[96];
    snprintf(cause, sizeof cause, "rejected: %s", reason->code);
    switch (reason->action) {
    case REASON_NURTURE:
    case REASON_STAGE:
        l->cooldown_until = ev->timestamp + reason->cooldown;
        lifecycle_change(e, sink, l, reason->stage, reason->cooldown ? STATUS_RECYCLED : STATUS_OPEN, cause,
                         ev->timestamp);
        break;
    case REASON_SUPPRESS: lifecycle_change(e, sink, l, l->stage, STATUS_SUPPRESSED, cause, ev->timestamp); break;
    case REASON_REROUTE:
        /* the stage keeps the lead; a new owner is routing's work */
        lifecycle_change(e, sink, l, l->stage, STATUS_HANDED_OFF, cause, ev->timestamp);
        break;
    }
    return true;
}

/* Outcomes that arrive in the event stream from the CRM or the sales API
 * (outcome_events above). Accepting, rejecting and "Opportunity Created"
 * move the lifecycle; every outcome is reported to the sink for the figures. */
void lifecycle_outcome(engine *e, const engine_sink *sink, lead *l, const event *ev)
{
    const contract *c = e->c;
    enum outcome_kind kind = OUTCOME_COUNT;
    for (size_t k = 0; k < OUTCOME_COUNT; k++)
        if (str_eq_n(ev->name, outcome_events[k], strlen(outcome_events[k]))) kind = (enum outcome_kind)k;
    const reason_info *reason = NULL;
    switch (kind) {
    case OUTCOME_ACCEPTED:
        if (l->status == STATUS_HANDED_OFF)
            lifecycle_change(e, sink, l, l->stage, STATUS_ACCEPTED, "accepted", ev->timestamp);
        break;
    case OUTCOME_REJECTED:
        if (!lifecycle_reject(e, sink, l, ev, &reason)) return;
        break;
    case OUTCOME_OPPORTUNITY:
        if (l->stage > 0 && l->stage + 1u < contract_stage_count(c) &&
            (l->status == STATUS_HANDED_OFF || l->status == STATUS_ACCEPTED))
            lifecycle_change(e, sink, l, l->stage + 1u, STATUS_ACCEPTED, "opportunity created", ev->timestamp);
        break;
    case OUTCOME_TOUCH: sla_stop(l, SLA_FIRST_TOUCH); break;
    case OUTCOME_WON:
    case OUTCOME_LOST: release_rep(e, l, ROUTE_WORKED); break;
    case OUTCOME_MEETING_BOOKED: sla_stop(l, SLA_MEETING); break;
    case OUTCOME_COUNT: return;
    default: break;
    }
    if (!sink || !sink->outcome) return;
    outcome o = {
        .lead = l->key,
        /* a handoff still waiting for its context has not reached anyone:
         * what the team did meanwhile is not an answer to it */
        .handoff = l->status == STATUS_NEEDS_CONTEXT ? 0 : l->handoff,
        .kind = (uint8_t)kind,
        .at = ev->timestamp,
        .reason = reason ? reason->code : NULL,
        .amount = ev->amount,
    };
    sink->outcome(sink->ctx, &o);
}
