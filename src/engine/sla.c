/* SLA clocks (R7): when a lead reaches the receiving team, two clocks start
 * — first touch and meeting booked — with deadlines in the contract's
 * business time. A touch or a meeting stops its clock; a rejection stops
 * both. A clock that runs out is a breach, reported at its due time.
 *
 * Invariants:
 *   1. a lead's due[c] is the deadline of its running clock c, or 0;
 *   2. every running clock has an entry in the heap with that due time
 *      (stale entries may also be there; they are skipped when popped);
 *   3. breaches are reported in order of due time, and at most once per
 *      clock started. */
#include "calendar/calendar.h"
#include "engine/internal.h"

#include <stdio.h>
#include <string.h>

const char *sla_clock_name(enum sla_clock c)
{
    static const char *const names[] = {"first_touch", "meeting"};
    return (size_t)c < ARRAY_LEN(names) ? names[c] : "?";
}

bool sla_setup(engine *e)
{
    char why[sizeof e->calendar_problem];
    e->calendar = calendar_new(&contract_about(e->c)->calendar, why, sizeof why);
    if (e->calendar) return true;
    /* counted in UTC rather than not at all; `baton check` names the zone */
    snprintf(e->calendar_problem, sizeof e->calendar_problem, "%s", why);
    calendar_info utc = contract_about(e->c)->calendar;
    utc.timezone = NULL;
    e->calendar = calendar_new(&utc, why, sizeof why);
    return e->calendar != NULL;
}

void sla_teardown(engine *e)
{
    calendar_free(e->calendar);
    mem_free(e->timers);
}

const char *engine_calendar_problem(const engine *e)
{
    return e->calendar_problem[0] ? e->calendar_problem : NULL;
}

/* The deadline of a figure started at `at`; 0 when the contract sets none. */
static time_ms deadline(const engine *e, const sla_figure *f, time_ms at)
{
    if (!f->set) return 0;
    switch (f->unit) {
    case SLA_BUSINESS_HOURS: return calendar_add_business_minutes(e->calendar, at, f->amount * 60);
    case SLA_BUSINESS_DAYS: return calendar_add_business_days(e->calendar, at, f->amount);
    default: return at + f->amount;
    }
}

/* ---- the heap ------------------------------------------------------------------- */

/* The heap's order: by due time, then by lead key and clock, never by lead
 * index. Clocks often fall due together (a weekend's handoffs all run out
 * at the same business minute), and the order they are handled in decides
 * who a reassignment goes to; an engine restored from saved state numbers
 * its leads differently, and must still handle them in the same order. */
static bool timer_before(engine *e, const sla_timer *a, const sla_timer *b)
{
    if (a->due != b->due) return a->due < b->due;
    if (a->lead != b->lead) return strcmp(lead_at(e, a->lead)->key, lead_at(e, b->lead)->key) < 0;
    return a->clock < b->clock;
}

static bool heap_push(engine *e, sla_timer t)
{
    if (e->timer_count == e->timer_cap) {
        size_t cap = e->timer_cap ? e->timer_cap * 2 : 1024;
        sla_timer *grown = mem_realloc(e->timers, cap * sizeof *grown);
        if (!grown) return false;
        e->timers = grown;
        e->timer_cap = cap;
    }
    size_t i = e->timer_count++;
    while (i > 0 && timer_before(e, &t, &e->timers[(i - 1) / 2])) {
        e->timers[i] = e->timers[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    e->timers[i] = t;
    return true;
}

static sla_timer heap_pop(engine *e)
{
    sla_timer top = e->timers[0], last = e->timers[--e->timer_count];
    size_t i = 0, n = e->timer_count;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && timer_before(e, &e->timers[child + 1], &e->timers[child])) child++;
        if (!timer_before(e, &e->timers[child], &last)) break;
        e->timers[i] = e->timers[child];
        i = child;
    }
    if (n) e->timers[i] = last;
    return top;
}

/* ---- clocks --------------------------------------------------------------------- */

bool sla_start(engine *e, lead *l, time_ms at)
{
    const contract_info *about = contract_about(e->c);
    const sla_figure *figures[SLA_CLOCK_COUNT] = {&about->first_touch, &about->meeting};
    l->reached = at;
    bool ok = true;
    for (int c = 0; c < SLA_CLOCK_COUNT; c++) {
        l->due[c] = deadline(e, figures[c], at);
        if (l->due[c]) ok &= heap_push(e, (sla_timer){.due = l->due[c], .lead = e->cur_index, .clock = (uint8_t)c});
    }
    return ok;
}

void sla_stop(lead *l, enum sla_clock c)
{
    l->due[c] = 0;
}

bool sla_restore(engine *e, uint32_t lead_index)
{
    lead *l = lead_at(e, lead_index);
    bool ok = true;
    for (int c = 0; c < SLA_CLOCK_COUNT; c++)
        if (l->due[c]) ok &= heap_push(e, (sla_timer){.due = l->due[c], .lead = lead_index, .clock = (uint8_t)c});
    return ok;
}

time_ms engine_next_due(const engine *e)
{
    return e->timer_count ? e->timers[0].due : 0;
}

/* The contract's `on_breach: reassign` (or both): the lead moves to the
 * next rep of its pool, never back to the one who let the clock run out,
 * and a missed first touch gives the new rep a fresh clock. True when a
 * decision was made (it may still leave the lead unassigned, with why). */
static bool reassign(engine *e, lead *l, uint32_t index, const sla_timer *t, route_decision *out)
{
    uint8_t action = contract_about(e->c)->on_breach;
    if (!e->opt.router || !l->rep || (action != BREACH_REASSIGN && action != BREACH_BOTH)) return false;
    route_release(e->opt.router, e->c, l->rep, ROUTE_REASSIGNED);
    route_request req = {
        .team = contract_stage(e->c, l->stage)->team,
        .stage = (int32_t)l->stage,
        .now = t->due,
        .reassign = true,
        .territory = l->territory,
        .exclude = l->rep,
    };
    route_assign(e->opt.router, e->c, &req, out);
    l->rep = out->rep ? pool_intern(e, out->rep, strlen(out->rep)) : NULL;
    if (t->clock == SLA_FIRST_TOUCH && out->rep) {
        const sla_figure *f = &contract_about(e->c)->first_touch;
        l->due[SLA_FIRST_TOUCH] = deadline(e, f, t->due);
        sla_timer fresh = {.due = l->due[SLA_FIRST_TOUCH], .lead = index, .clock = SLA_FIRST_TOUCH};
        if (l->due[SLA_FIRST_TOUCH] && !heap_push(e, fresh)) e->clock_nomem = true;
    }
    return true;
}

void engine_advance(engine *e, time_ms now, const engine_sink *sink)
{
    /* a deadline is kept when the touch or meeting comes at the due time itself */
    while (e->timer_count && e->timers[0].due < now) {
        sla_timer t = heap_pop(e);
        lead *l = lead_at(e, t.lead);
        if (l->due[t.clock] != t.due) continue; /* stopped or restarted since */
        l->due[t.clock] = 0;
        e->stats.breaches[t.clock]++;
        mark_changed(e, t.lead);
        breach b = {
            .lead = l->key,
            .handoff = l->handoff,
            .clock = t.clock,
            .started = l->reached,
            .due = t.due,
            .action = contract_about(e->c)->on_breach,
            .stage = l->stage,
            .status = l->status,
            .rep = l->rep,
        };
        route_decision moved;
        if (reassign(e, l, t.lead, &t, &moved)) b.reassigned = &moved;
        if (sink && sink->breach) sink->breach(sink->ctx, &b);
    }
}
