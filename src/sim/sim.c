/* The simulator's schedule: who acts next, and when.
 *
 * Design notes.
 *   1. Every actor (a person, an account's CRM, or a person's sales side)
 *      has at most one pending event, kept in a min-heap ordered by (time,
 *      actor id) with room for all of them at once. sim_next() takes the
 *      earliest, lets the actor write its event, and puts the actor back with
 *      the time of its following event, or drops it once that falls past the
 *      end. A buying moment may add the person's sales side (sim_push(), at
 *      or after the moment); an account's CRM actor whose story a lead took
 *      over leaves without writing, and sim_next() moves on. Events therefore
 *      come out in timestamp order, and memory is the heap plus the world:
 *      flat however many events are made.
 *   2. An actor's next time is never before its current one, so no event is
 *      ever scheduled in the past (the heap's minimum never decreases).
 *   3. People come in sessions. A session starts after an exponential wait
 *      measured on an activity clock that runs at full speed during office
 *      hours in the person's country (08:00-18:00, Monday to Friday) and at
 *      OFF_HOURS speed otherwise; so most activity falls in office hours, yet
 *      the long-run rate is exact. Within a session the next event follows
 *      the current one's dwell plus a short pause.
 *   4. The rate of a person is scale x activity x the weight of the level
 *      their account is at (world_level). `scale` is fixed in sim_new() so
 *      that the expected number of events over the period equals
 *      rate x days. A level change (the hidden intent turning on) splits the
 *      wait: the exponential is memoryless, so restarting the draw at the
 *      change is exact.
 *   5. CRM outcomes follow the hidden intent, not the visible events:
 *      booked -> held -> opportunity -> won or lost, each step with odds and
 *      a delay by level, all planned in sim_new(). Steps that fall before the
 *      period happen silently. A win turns the account into a customer and a
 *      loss cools it to researching: both are level changes (note 4). A lead
 *      that sales accepts may take the story over and move its steps
 *      (sales.c, note 4 there); the close keeps its planned day unless that
 *      is too early, the one level change the rate does not foresee.
 *
 * Transitions of a person (person_step):
 *   anonymous --page views--> anonymous --identify--> known --group--> known
 *   known --a session's first event from the full mix, then pages--> known
 *   any --follow-up (click after open, traits after a request, workload after
 *         a sign-up, group after identify)--> the same */
#include "sim/internal.h"

#include <assert.h>

#define WORK_START (8 * MS_PER_HOUR)
#define WORK_END   (18 * MS_PER_HOUR)
#define OFF_HOURS  0.15 /* speed of the activity clock outside office hours */
#define WEEK_MS    (7 * MS_PER_DAY)
/* Activity-clock milliseconds in any seven consecutive days. */
#define WEEK_ACTIVITY ((5.0 * 10 + OFF_HOURS * (168 - 5 * 10)) * (double)MS_PER_HOUR)

/* Default rate: events per account per week. */
#define DEFAULT_WEEKLY_PER_ACCOUNT 20.0

/* A session goes on with another page with this probability, up to 12 events. */
#define SESSION_CONTINUES 0.55
#define SESSION_MAX       12
/* Follow-ups (a click after an open, the group call after an identify, ...)
 * per session, as measured over long runs; they add to the session's length. */
#define FOLLOW_UPS_PER_SESSION 0.075

/* Events a session holds on average: 1 + c + c^2 + ... + c^(max-1), plus follow-ups. */
static double events_per_session(void)
{
    double sum = 0, term = 1;
    for (int i = 0; i < SESSION_MAX; i++, term *= SESSION_CONTINUES)
        sum += term;
    return sum + FOLLOW_UPS_PER_SESSION;
}

const char *sim_options_check(const sim_options *opt)
{
    if (opt->accounts < 1 || opt->accounts > SIM_MAX_ACCOUNTS)
        return "accounts must be between 1 and 1000000";
    if (opt->days < 1 || opt->days > SIM_MAX_DAYS) return "days must be between 1 and 3660";
    if (!(opt->rate >= 0 && opt->rate <= SIM_MAX_RATE))
        return "rate must be between 0 and 100000000 events a day";
    /* 1970-01-01 .. 9000-01-01: dates print with four-digit years. */
    if (opt->start < 0 || opt->start > INT64_C(221845392000000))
        return "start must lie between 1970 and 9000";
    return NULL;
}

/* ---- the heap --------------------------------------------------------------------- */

static bool before(const heap_entry *a, const heap_entry *b)
{
    return a->at < b->at || (a->at == b->at && a->id < b->id);
}

/* A 4-ary heap: half the depth of a binary one, and the children of a node
 * share one or two cache lines. */
static void sift_down(heap_entry *h, uint32_t n, uint32_t i)
{
    heap_entry e = h[i];
    for (;;) {
        uint32_t c = 4 * i + 1;
        if (c >= n) break;
        uint32_t last = c + 4 < n ? c + 4 : n, best = c;
        for (uint32_t j = c + 1; j < last; j++)
            if (before(&h[j], &h[best])) best = j;
        if (!before(&h[best], &e)) break;
        h[i] = h[best];
        i = best;
    }
    h[i] = e;
}

static void sift_up(heap_entry *h, uint32_t i)
{
    heap_entry e = h[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 4;
        if (!before(&e, &h[parent])) break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = e;
}

/* The current actor sits at h[0] with a time <= at and (sales ids being the
 * largest) a smaller id, so the new entry never rises above it. */
void sim_push(sim *s, time_ms at, uint32_t id, uint32_t acct)
{
    assert(s->heap_len < 2 * s->npeople + s->naccounts);
    assert(s->heap_len == 0 || !before(&(heap_entry){at, id, acct}, &s->heap[0]));
    s->heap[s->heap_len] = (heap_entry){at, id, acct};
    sift_up(s->heap, s->heap_len++);
}

static void heapify(heap_entry *h, uint32_t n)
{
    for (uint32_t i = n / 4 + 1; i-- > 0;)
        if (i < n) sift_down(h, n, i);
}

/* ---- the activity clock ---------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Monday 0 .. Sunday 6, for days since 1970-01-01 (a Thursday). */
static int64_t weekday(int64_t day)
{
    return ((day + 3) % 7 + 7) % 7;
}

/* The real time at which `act` milliseconds of activity have passed since t,
 * for a person whose local time is UTC + off; or some time >= limit when that
 * is later than limit. */
static time_ms activity_advance(time_ms t, int32_t off, double act, time_ms limit)
{
    if (act >= WEEK_ACTIVITY) {
        /* Every week holds the same activity: skip whole weeks at once. */
        double weeks = (double)(int64_t)(act / WEEK_ACTIVITY);
        if (weeks * WEEK_MS >= (double)(limit - t)) return limit;
        t += (time_ms)weeks * WEEK_MS;
        act -= weeks * WEEK_ACTIVITY;
    }
    while (t < limit) {
        time_ms local = t + off;
        int64_t day = floor_div(local, MS_PER_DAY);
        time_ms tod = local - day * MS_PER_DAY;
        bool workday = weekday(day) < 5;
        time_ms seg_end = tod < WORK_START ? WORK_START : tod < WORK_END ? WORK_END : MS_PER_DAY;
        double speed = tod >= WORK_START && tod < WORK_END && workday ? 1.0 : OFF_HOURS;
        double room = (double)(seg_end - tod) * speed;
        if (act < room) return t + (time_ms)(act / speed);
        act -= room;
        t += seg_end - tod;
    }
    return t;
}

time_ms sim_office_hours(sim *s, time_ms t, int32_t off)
{
    int64_t day = floor_div(t + off, MS_PER_DAY);
    int64_t wd = weekday(day);
    if (wd == 5) day += 2;
    if (wd == 6) day += 1;
    return day * MS_PER_DAY - off + 9 * MS_PER_HOUR + rng_range(&s->r, 0, 8 * MS_PER_HOUR - 1);
}

/* Business hours, where sales works: 09:00-17:00 local, Monday to Friday. */
#define BUSINESS_START (9 * MS_PER_HOUR)
#define BUSINESS_END   (17 * MS_PER_HOUR)
#define BUSINESS_WEEK  (5 * (BUSINESS_END - BUSINESS_START))

time_ms sim_business_advance(time_ms t, int32_t off, duration_ms work)
{
    /* Any seven consecutive days hold the same business time. */
    t += work / BUSINESS_WEEK * WEEK_MS;
    work %= BUSINESS_WEEK;
    for (;;) {
        time_ms local = t + off;
        int64_t day = floor_div(local, MS_PER_DAY);
        time_ms tod = local - day * MS_PER_DAY;
        if (weekday(day) < 5 && tod < BUSINESS_END) {
            time_ms from = tod > BUSINESS_START ? tod : BUSINESS_START;
            if (work < BUSINESS_END - from) return t + (from - tod) + work;
            work -= BUSINESS_END - from;
        }
        t += MS_PER_DAY - tod; /* the next local midnight */
    }
}

/* ---- people ------------------------------------------------------------------------ */

/* When the person's next session starts, from t. */
static time_ms next_session(sim *s, const person *p, time_ms t)
{
    const account *a = &s->accounts[p->account];
    int32_t off = world_utc_offset(p->country);
    for (;;) {
        time_ms change = world_next_change(a, t);
        time_ms limit = change < s->end ? change : s->end;
        double rate = s->scale * p->activity * world_level_weight[world_level(a, t)];
        time_ms n = activity_advance(t, off, rng_exponential(&s->r) / rate, limit);
        if (n < limit || limit == s->end) return n;
        t = limit; /* the level changed: draw again at the new rate */
    }
}

/* Pause before a follow-up, in seconds, by enum follow. */
static const int32_t follow_lo[] = {0, 1, 10, 2, 300};
static const int32_t follow_hi[] = {0, 4, 300, 10, 5400};

static time_ms person_step(sim *s, person *p, time_ms t)
{
    rng *r = &s->r;
    bool starting = !(p->flags & PF_IN_SESSION) && p->follow == FOLLOW_NONE;
    if (starting) {
        unsigned n = 1;
        while (n < SESSION_MAX && rng_chance(r, SESSION_CONTINUES))
            n++;
        p->session_left = (uint8_t)(n - 1);
    }
    duration_ms busy;
    if (p->follow != FOLLOW_NONE) {
        busy = events_follow(s, p, t);
    } else if (p->phase == PH_ANON && (p->flags & PF_IDENTIFIES) && p->anon_left == 0) {
        busy = events_identify(s, p, t, true);
    } else if (p->flags & PF_REGROUP) {
        busy = events_group(s, p, t);
    } else {
        bool anonymous = p->phase == PH_ANON;
        busy = events_session(s, p, t, starting);
        if (anonymous && p->anon_left > 0) p->anon_left--;
    }
    if (p->follow != FOLLOW_NONE)
        return t + rng_range(r, follow_lo[p->follow], follow_hi[p->follow]) * MS_PER_SECOND +
               rng_below(r, 1000);
    if (p->session_left > 0) {
        p->session_left--;
        p->flags |= PF_IN_SESSION;
        return t + busy + rng_range(r, 2 * MS_PER_SECOND, 40 * MS_PER_SECOND);
    }
    p->flags &= (uint8_t)~PF_IN_SESSION;
    return next_session(s, p, t + busy);
}

/* ---- CRM outcomes ---------------------------------------------------------------------- */

/* By level: none, researching, evaluating, buying (customers start no new deal). */
static const double p_meeting[LVL_COUNT] = {0.01, 0.06, 0.45, 0.80, 0};
static const double p_opportunity[LVL_COUNT] = {0.05, 0.20, 0.50, 0.80, 0};
static const double p_win[LVL_COUNT] = {0.10, 0.15, 0.35, 0.55, 0};
/* Days from the intent turning on to the first meeting being booked. */
static const int64_t booked_lo[LVL_COUNT] = {20, 20, 10, 3, 0};
static const int64_t booked_hi[LVL_COUNT] = {90, 90, 60, 30, 0};

/* Plans the account's whole CRM story at once (note 5), so that the level
 * changes it causes are known when the rate is fixed. Returns the number of
 * outcomes that fall within the period. */
static unsigned crm_story(sim *s, account *a)
{
    rng *r = &s->r;
    int32_t off = world_utc_offset(a->country);
    time_ms *at = a->crm_at;
    if (!a->customer && rng_chance(r, p_meeting[a->intent])) {
        enum level lv = (enum level)a->intent;
        at[CRM_BOOKED] = sim_office_hours(
            s, a->intent_at + rng_range(r, booked_lo[lv], booked_hi[lv]) * MS_PER_DAY, off);
        if (rng_chance(r, 0.88)) /* else a no-show */
            at[CRM_HELD] =
                sim_office_hours(s, at[CRM_BOOKED] + rng_range(r, 1, 10) * MS_PER_DAY, off);
        if (at[CRM_HELD] != NEVER && rng_chance(r, p_opportunity[lv])) {
            at[CRM_OPPORTUNITY] =
                sim_office_hours(s, at[CRM_HELD] + rng_range(r, 1, 14) * MS_PER_DAY, off);
            at[CRM_CLOSE] =
                sim_office_hours(s, at[CRM_OPPORTUNITY] + rng_range(r, 20, 90) * MS_PER_DAY, off);
            a->won = rng_chance(r, p_win[lv]);
        }
    }
    /* Outcomes before the period happened silently; emit from the first after. */
    unsigned n = 0;
    a->crm = CRM_STAGES;
    for (int i = CRM_STAGES - 1; i >= 0; i--) {
        if (at[i] == NEVER || at[i] < s->start || at[i] >= s->end) continue;
        a->crm = (uint8_t)i;
        n++;
    }
    return n;
}

/* The account's own CRM actor runs the story with its champion, as the
 * account executive's outbound work; unless a lead that sales accepted took
 * the story over (sales.c), in which case this actor leaves, writing nothing. */
static time_ms crm_step(sim *s, account *a, time_ms t)
{
    if (a->claimer) return NEVER;
    person *champion = &s->people[a->first];
    if (champion->phase != PH_KNOWN) {
        /* Sales holds the contact already: the CRM sync identifies them first. */
        events_identify(s, champion, t, false);
        return t + rng_range(&s->r, 60, 600) * MS_PER_SECOND;
    }
    return sales_deal_step(s, a, champion, t);
}

/* ---- building the schedule --------------------------------------------------------------- */

/* The weighted person-milliseconds of the period (note 4), from join times. */
static double total_weight(const sim *s)
{
    double w = 0;
    for (uint32_t i = 0; i < s->npeople; i++) {
        const person *p = &s->people[i];
        const account *a = &s->accounts[p->account];
        double span = 0;
        for (time_ms t = s->heap[i].at; t < s->end;) {
            time_ms change = world_next_change(a, t);
            time_ms until = change < s->end ? change : s->end;
            span += world_level_weight[world_level(a, t)] * (double)(until - t);
            t = until;
        }
        w += p->activity * span;
    }
    return w;
}

static bool schedule(sim *s)
{
    double crm_events = 0;
    for (uint32_t i = 0; i < s->naccounts; i++)
        crm_events += crm_story(s, &s->accounts[i]);
    double rate =
        s->opt.rate > 0 ? s->opt.rate : s->opt.accounts * DEFAULT_WEEKLY_PER_ACCOUNT / 7.0;
    /* People make what the CRM does not, but always most of the stream. */
    double budget = rate * s->opt.days - crm_events;
    if (budget < rate * s->opt.days / 2) budget = rate * s->opt.days / 2;
    double active_share = WEEK_ACTIVITY / (double)WEEK_MS;
    double w = total_weight(s);
    if (w <= 0) return false;
    s->scale = budget / events_per_session() / (active_share * w);

    uint32_t n = 0;
    for (uint32_t i = 0; i < s->npeople; i++) {
        time_ms join = s->heap[i].at;
        if (join >= s->end) continue;
        time_ms first = next_session(s, &s->people[i], join);
        if (first < s->end) s->heap[n++] = (heap_entry){first, i, s->people[i].account};
    }
    for (uint32_t i = 0; i < s->naccounts; i++) {
        const account *a = &s->accounts[i];
        if (a->crm < CRM_STAGES) s->heap[n++] = (heap_entry){a->crm_at[a->crm], s->npeople + i, i};
    }
    s->heap_len = n;
    heapify(s->heap, n);
    return true;
}

/* Asks the cache for the next actor's person and account while this event
 * is being copied out: with many accounts, waiting for them is most of the
 * cost of an event. */
static void prefetch_actor(const sim *s, const heap_entry *e)
{
#if defined(__GNUC__)
    if (e->id < s->npeople) __builtin_prefetch(&s->people[e->id]);
    __builtin_prefetch(&s->accounts[e->account]);
#else
    (void)s;
    (void)e;
#endif
}

/* ---- public ---------------------------------------------------------------------------- */

sim *sim_new(const sim_options *opt)
{
    if (sim_options_check(opt)) return NULL;
    sim *s = mem_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->opt = *opt;
    rng_seed(&s->r, opt->seed);
    s->anon_key = rng_mix(opt->seed ^ UINT64_C(0xbb67ae8584caa73b));
    s->start = opt->start;
    s->end = opt->start + (time_ms)opt->days * MS_PER_DAY;
    events_init(s);
    if (!world_build(s) || !schedule(s)) {
        sim_free(s);
        return NULL;
    }
    return s;
}

/* Lets the actor at the top of the heap act; its event, if it wrote one, is
 * in s->o. */
static time_ms step(sim *s, const heap_entry *top)
{
    uint32_t id = top->id;
    if (id < s->npeople) return person_step(s, &s->people[id], top->at);
    id -= s->npeople;
    if (id < s->naccounts) return crm_step(s, &s->accounts[id], top->at);
    return sales_step(s, &s->people[id - s->naccounts], top->at);
}

bool sim_next(sim *s, strbuf *line)
{
    do {
        if (s->heap_len == 0) return false;
        heap_entry top = s->heap[0];
        s->o.p = NULL; /* head() sets it: an actor may leave without a word */
        time_ms next = step(s, &top);
        if (next < s->end) {
            s->heap[0].at = next;
        } else {
            s->heap[0] = s->heap[--s->heap_len];
        }
        if (s->heap_len > 0) {
            sift_down(s->heap, s->heap_len, 0);
            prefetch_actor(s, &s->heap[0]);
        }
    } while (!s->o.p);
    assert(!s->o.overflow); /* every event is bounded by its tables */
    s->emitted++;
    strbuf_append(line, s->o.buf, (size_t)(s->o.p - s->o.buf));
    strbuf_putc(line, '\n');
    return true;
}

uint64_t sim_emitted(const sim *s)
{
    return s->emitted;
}

void sim_free(sim *s)
{
    if (!s) return;
    mem_free(s->accounts);
    mem_free(s->people);
    mem_free(s->heap);
    mem_free(s);
}
