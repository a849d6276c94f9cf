/* The sales side: development reps (SDRs) who work the people that show
 * buying intent, and the account executive who takes an accepted lead to a
 * meeting and a deal. It knows no contract; it acts on what a sales team
 * would see (a request, a long look at pricing, a security download, a reply
 * to a rep, a real workload) and on the account's facts.
 *
 * Design notes.
 *   1. Each person has at most one pending sales event, in the schedule's
 *      heap under the id npeople + naccounts + person (sim.c). A buying
 *      moment (events.c calls sales_intent() after writing it) starts an
 *      episode when the person is idle and not held; otherwise it is
 *      ignored. Everything sales writes carries the person's userId, so the
 *      engine ties it to that lead's handoff; for a lead the engine never
 *      handed off it changes nothing.
 *   2. Response: UNWORKED of the episodes are never worked (the lead sits in
 *      a queue; the person is held for UNWORKED_HOLD). The others are touched
 *      after a delay of business time (09:00-17:00 on weekdays in the
 *      account's country): most within a few hours, a tail of days.
 *   3. Verdict, from the account's facts when sales decides: a customer is
 *      rejected as already_customer; an industry outside the profile as
 *      not_icp, a company under 200 people as bad_company_size (each
 *      FIT_STRICTNESS of the time; the rest are accepted anyway); a fitting
 *      prospect is rejected as wrong_timing or no_budget at a rate that falls
 *      as its hidden intent rises, and accepted otherwise.
 *   4. The account's CRM story (booked, held, opportunity, won or lost) is
 *      planned at the start with odds by hidden intent (sim.c), so what wins
 *      is fixed there. The first lead accepted at a fitting account before
 *      the story's meeting takes the story over: the meeting is booked a draw
 *      of business days after the acceptance, for that lead, and the steps
 *      after it follow; the close keeps its planned day unless the new steps
 *      run past it. A deal sales qualified closes better: a story planned to
 *      be lost is won after all CLAIM_WIN_LIFT of the time. An unclaimed
 *      story runs with the champion at its planned times, as the account
 *      executive's own outbound work (crm_step).
 *   5. Any other lead accepted at a fitting prospect may get a first meeting
 *      of its own (p_first_meeting by hidden intent), booked like a claimed
 *      one, held FIRST_MEETING_HELD of the time, and leading nowhere: what
 *      an account buys is its story's business alone (note 4), so the drivers
 *      of a win stay where sim.c puts them.
 *
 * States of a person's sales side (person.sales):
 *   idle --buying moment, worked: sales_intent()--> touch
 *   idle --buying moment, unworked--> idle, held UNWORKED_HOLD
 *   touch --"First Touch"--> verdict
 *   verdict --"Handoff Rejected" wrong_timing / no_budget--> idle, held 30 / 60 days
 *   verdict --"Handoff Rejected" not_icp / bad_company_size / already_customer--> done
 *   verdict --"Handoff Accepted", the story is there to take: claim()--> deal
 *   verdict --"Handoff Accepted", a first meeting of its own (note 5)--> meeting
 *   verdict --"Handoff Accepted" otherwise--> done
 *   deal --"Meeting Booked", "Meeting Held", "Opportunity Created",
 *         "Deal Won" / "Deal Lost"--> done
 *   meeting --"Meeting Booked"--> held --"Meeting Held"--> done  (or done, a no-show) */
#include "sim/internal.h"

#define UNWORKED       0.12 /* episodes nobody works */
#define UNWORKED_HOLD  (21 * MS_PER_DAY)
#define FIT_STRICTNESS 0.9 /* share of misfits that sales rejects */
#define BUSINESS_DAY   (8 * MS_PER_HOUR)
#define CLAIM_WIN_LIFT 0.25 /* note 4 */

/* A fitting prospect rejected as wrong timing or no budget, by hidden level:
 * none, researching, evaluating, buying (customers are rejected as such). */
static const double p_soft_reject[LVL_COUNT] = {0.50, 0.35, 0.15, 0.06, 0};
#define WRONG_TIMING_SHARE 0.65 /* of the soft rejections; the rest: no budget */
/* A first meeting for an accepted lead with no story to take (note 5). */
static const double p_first_meeting[LVL_COUNT] = {0.10, 0.25, 0.45, 0.60, 0};
#define FIRST_MEETING_HELD 0.8

static uint32_t minutes_since_start(const sim *s, time_ms t)
{
    int64_t m = (t - s->start) / MS_PER_MINUTE;
    return m < 0 ? 0 : m > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)m;
}

static void hold(sim *s, person *p, time_ms until)
{
    p->sales = SALES_IDLE;
    p->sales_hold = minutes_since_start(s, until);
}

static uint32_t sales_id(const sim *s, const person *p)
{
    return s->npeople + s->naccounts + (uint32_t)(p - s->people);
}

void sales_intent(sim *s, person *p, time_ms t)
{
    if (p->phase != PH_KNOWN || p->sales != SALES_IDLE) return;
    if (minutes_since_start(s, t) < p->sales_hold) return;
    rng *r = &s->r;
    if (rng_chance(r, UNWORKED)) {
        hold(s, p, t + UNWORKED_HOLD);
        return;
    }
    /* Business time to the first touch: half within about an hour, most
     * within a working day, a fifth one to ten working days later. */
    double u = rng_unit(r);
    duration_ms work = u < 0.5   ? (duration_ms)(rng_exponential(r) * (double)MS_PER_HOUR)
                       : u < 0.8 ? rng_range(r, MS_PER_HOUR, BUSINESS_DAY)
                                 : rng_range(r, BUSINESS_DAY, 10 * BUSINESS_DAY);
    time_ms at = sim_business_advance(t, world_utc_offset(s->accounts[p->account].country), work);
    if (at >= s->end) return; /* after the period: nothing to schedule */
    p->sales = SALES_TOUCH;
    sim_push(s, at, sales_id(s, p), p->account);
}

/* The reason sales gives, or NULL to accept (note 3); *permanent when the
 * reason is a fact that will not change. */
static const char *verdict(sim *s, const account *a, time_ms t, bool *permanent)
{
    rng *r = &s->r;
    enum level lv = world_level(a, t);
    *permanent = true;
    if (lv == LVL_CUSTOMER) return "already_customer";
    if (!world_icp_industry(a) && rng_chance(r, FIT_STRICTNESS)) return "not_icp";
    if (a->employees < 200 && rng_chance(r, FIT_STRICTNESS)) return "bad_company_size";
    if (!world_in_icp(a)) return NULL; /* a misfit let through */
    *permanent = false;
    if (!rng_chance(r, p_soft_reject[lv])) return NULL;
    return rng_chance(r, WRONG_TIMING_SHARE) ? "wrong_timing" : "no_budget";
}

/* When the meeting for a lead accepted at t is booked: a draw of business
 * days, most within two weeks, some later, at a time in office hours. */
static time_ms meeting_day(sim *s, const account *a, time_ms t)
{
    rng *r = &s->r;
    int32_t off = world_utc_offset(a->country);
    double u = rng_unit(r);
    int64_t days = u < 0.6    ? rng_range(r, 1, 7)
                   : u < 0.85 ? rng_range(r, 8, 15)
                              : rng_range(r, 16, 40);
    time_ms booked = sim_office_hours(s, sim_business_advance(t, off, days * BUSINESS_DAY), off);
    return booked > t ? booked : t + MS_PER_HOUR;
}

/* Takes the account's story over for p (note 4). Returns the meeting's time,
 * or NEVER when there is no story to take. */
static time_ms claim(sim *s, account *a, person *p, time_ms t)
{
    time_ms *at = a->crm_at;
    if (a->claimer || !world_in_icp(a) || a->crm != CRM_BOOKED || at[CRM_BOOKED] <= t) return NEVER;
    rng *r = &s->r;
    int32_t off = world_utc_offset(a->country);
    time_ms last = at[CRM_BOOKED] = meeting_day(s, a, t);
    if (at[CRM_HELD] != NEVER)
        last = at[CRM_HELD] = sim_office_hours(s, last + rng_range(r, 1, 10) * MS_PER_DAY, off);
    if (at[CRM_OPPORTUNITY] != NEVER)
        last = at[CRM_OPPORTUNITY] =
            sim_office_hours(s, last + rng_range(r, 1, 14) * MS_PER_DAY, off);
    /* The buyer decides on its own day, unless sales got there too late for it. */
    if (at[CRM_CLOSE] != NEVER && at[CRM_CLOSE] < last + 14 * MS_PER_DAY)
        at[CRM_CLOSE] = sim_office_hours(s, last + rng_range(r, 20, 90) * MS_PER_DAY, off);
    if (at[CRM_CLOSE] != NEVER && !a->won) a->won = rng_chance(r, CLAIM_WIN_LIFT);
    a->claimer = (uint8_t)(p->index + 1);
    return at[CRM_BOOKED];
}

time_ms sales_deal_step(sim *s, account *a, person *p, time_ms t)
{
    events_crm(s, a, p, t, (enum crm_stage)a->crm);
    if (a->crm == CRM_CLOSE && a->won)
        s->people[a->first].flags |= PF_REGROUP; /* the champion's next group call says customer */
    while (++a->crm < CRM_STAGES)
        if (a->crm_at[a->crm] != NEVER) return a->crm_at[a->crm] > t ? a->crm_at[a->crm] : t;
    return NEVER;
}

time_ms sales_step(sim *s, person *p, time_ms t)
{
    account *a = &s->accounts[p->account];
    rng *r = &s->r;
    switch ((enum sales_state)p->sales) {
    case SALES_TOUCH: {
        events_sales(s, p, t, "First Touch", NULL);
        p->sales = SALES_VERDICT;
        /* The first conversation: a quarter of an hour to two working days. */
        duration_ms work = rng_range(r, 15 * MS_PER_MINUTE, 2 * BUSINESS_DAY);
        return sim_business_advance(t, world_utc_offset(a->country), work);
    }
    case SALES_VERDICT: {
        bool permanent;
        const char *reason = verdict(s, a, t, &permanent);
        if (reason) {
            events_sales(s, p, t, "Handoff Rejected", reason);
            if (permanent)
                p->sales = SALES_DONE;
            else
                hold(s, p, t + (strcmp(reason, "no_budget") == 0 ? 60 : 30) * MS_PER_DAY);
            return NEVER;
        }
        events_sales(s, p, t, "Handoff Accepted", NULL);
        time_ms meeting = claim(s, a, p, t);
        if (meeting != NEVER) {
            p->sales = SALES_DEAL;
            return meeting;
        }
        p->sales = SALES_DONE;
        if (!world_in_icp(a) || !rng_chance(r, p_first_meeting[world_level(a, t)])) return NEVER;
        p->sales = SALES_MEETING;
        return meeting_day(s, a, t);
    }
    case SALES_MEETING:
        events_crm(s, a, p, t, CRM_BOOKED);
        p->sales = SALES_DONE;
        if (!rng_chance(r, FIRST_MEETING_HELD)) return NEVER;
        p->sales = SALES_HELD;
        return sim_office_hours(s, t + rng_range(r, 1, 10) * MS_PER_DAY,
                                world_utc_offset(a->country));
    case SALES_HELD:
        events_crm(s, a, p, t, CRM_HELD);
        p->sales = SALES_DONE;
        return NEVER;
    case SALES_DEAL: {
        time_ms next = sales_deal_step(s, a, p, t);
        if (next == NEVER || next >= s->end) p->sales = SALES_DONE;
        return next;
    }
    case SALES_IDLE:
    case SALES_DONE: break;
    }
    return NEVER; /* not reached: only the states above are scheduled */
}
