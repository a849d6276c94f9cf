/* The router: from a handed-off lead to a rep, and back when the handoff closes.
 *
 * Design notes.
 *   1. Order of choice: the account owner (when the contract says first and
 *      the owner is on the receiving team and available); else the pool of
 *      the first rule that matches (team and territory; the owner's team when
 *      the owner was passed over); else the receiving team's whole pool.
 *   2. Inside a pool: a rep owed a lead (credit back) first; else smooth
 *      weighted round-robin with capacity as the weight. Each rep keeps a
 *      credit; on each lead every rep taking part gains its weight, the
 *      highest credit wins (ties to the smaller id) and gives back the sum of
 *      the weights. Over any run of leads to a fixed pool each rep's count
 *      stays within one lead of its weighted share.
 *   3. Catch-up: "taking part" is the reps who can take the lead. With
 *      catch_up the reps away for the time being (out of office, outside
 *      working hours) take part too, so they build up credit while away and
 *      receive the leads they missed on their return; without it they build
 *      none and rejoin level. Inactive reps and reps at capacity never build
 *      credit.
 *   4. Pure: no clock, no I/O, no allocation. The per-rep scratch array the
 *      pool pass uses is sized when reps are added. Pools are walked in id
 *      order and every tie goes to the smaller id, so a decision depends on
 *      the reps' settings and state, never on the order they were set. */
#include "route/internal.h"

#include <string.h>

/* A rep's status for one decision: a skip reason, or one of these. */
enum { AVAILABLE = 0xfe, OUTSIDE_POOL = 0xff };

static const char *const skip_codes[] = {
#define X(k, code, words) [(k)] = (code),
    ROUTE_SKIPS(X)
#undef X
};
static const char *const skip_words[] = {
#define X(k, code, words) [(k)] = (words),
    ROUTE_SKIPS(X)
#undef X
};
static const char *const via_codes[] = {
#define X(k, code) [(k)] = (code),
    ROUTE_VIAS(X)
#undef X
};

const char *route_skip_code(enum route_skip s) { return skip_codes[s]; }
const char *route_skip_words(enum route_skip s) { return skip_words[s]; }
const char *route_via_code(enum route_via v) { return via_codes[v]; }

static bool away_on(const rep *p, int64_t day)
{
    for (uint8_t i = 0; i < p->away_count; i++)
        if (day >= p->away[i].from && day <= p->away[i].to) return true;
    return false;
}

/* AVAILABLE, or why the rep cannot take a lead now. At capacity comes before
 * off hours so that "prefer" never falls back to a rep who is full. */
static uint8_t rep_status(const router *r, const rep *p, time_ms now, bool hours)
{
    if (!p->active) return SKIP_INACTIVE;
    const calendar *cal = r->cals[p->cal];
    if (p->away_count) {
        int64_t day;
        int32_t minute;
        tz_to_local(calendar_zone(cal), now, &day, &minute);
        if (away_on(p, day)) return SKIP_OUT_OF_OFFICE;
    }
    if (p->open >= p->capacity) return SKIP_AT_CAPACITY;
    if (hours && !calendar_is_open(cal, now)) return SKIP_OFF_HOURS;
    return AVAILABLE;
}

static void note_skip(route_decision *d, const rep *p, uint8_t reason)
{
    if (d->skip_count == ROUTE_MAX_SKIPS) {
        d->skips_more++;
        return;
    }
    d->skips[d->skip_count].rep = p->id;
    d->skips[d->skip_count++].reason = reason;
}

static void give(route_decision *d, const router *r, rep *p, uint8_t via)
{
    d->via = via;
    d->rep = p->id;
    d->team = r->name_of[p->team];
    p->open++;
    p->assigned++;
}

static bool covers(const rep *p, uint32_t territory)
{
    if (territory == ROUTE_NO_NAME) return true;
    for (uint8_t i = 0; i < p->territory_count; i++)
        if (p->territories[i] == territory) return true;
    return false;
}

/* The first rule for this team and stage whose condition holds, or -1. */
static int first_rule(const routing_info *ri, const route_request *req, const char *team)
{
    for (size_t i = 0; i < ri->rule_count; i++) {
        const route_rule_info *rule = &ri->rules[i];
        if (rule->stage >= 0 && req->stage >= 0 && rule->stage != req->stage) continue;
        if (team && strcmp(rule->team, team) != 0) continue;
        if (rule->when && (!req->env || !program_holds(rule->when, req->env))) continue;
        return (int)i;
    }
    return -1;
}

/* The account owner, when the contract puts owners first. True when the
 * owner takes the lead; otherwise *team may become the owner's team. */
static bool try_owner(router *r, const routing_info *ri, const route_request *req, const char **team,
                      route_decision *d)
{
    int at = route_find_rep(r, req->account_owner);
    rep *p = at >= 0 ? &r->reps[at] : NULL;
    d->owner = p ? p->id : req->account_owner;
    if (ri->account_owner == ROUTE_OWNER_IGNORE) {
        d->owner_ignored = true;
        return false;
    }
    if (!p) {
        d->owner_skip = SKIP_UNKNOWN;
        return false;
    }
    if (*team && strcmp(r->name_of[p->team], *team) != 0) {
        d->owner_skip = SKIP_OTHER_TEAM;
        return false;
    }
    /* An owner is worth a few hours' wait: hours count only when required. */
    uint8_t status = rep_status(r, p, req->now, ri->working_hours == ROUTE_HOURS_REQUIRE);
    if (status == AVAILABLE) {
        give(d, r, p, VIA_ACCOUNT_OWNER);
        return true;
    }
    d->owner_skip = (int8_t)status;
    note_skip(d, p, status);
    *team = r->name_of[p->team];
    return false;
}

/* Picks inside the pool; false when nobody can take the lead. */
static bool pick_in_pool(router *r, const routing_info *ri, const route_request *req, uint32_t team,
                         uint32_t territory, route_decision *d)
{
    time_ms now = req->now;
    uint32_t members = 0, available = 0, off_hours = 0;
    bool hours = ri->working_hours != ROUTE_HOURS_IGNORE;
    for (uint32_t k = 0; k < r->count; k++) {
        uint32_t i = r->order[k];
        const rep *p = &r->reps[i];
        uint8_t s = OUTSIDE_POOL;
        if (p->team == team && covers(p, territory)) {
            members++;
            s = req->exclude && strcmp(p->id, req->exclude) == 0 ? SKIP_BREACHED : rep_status(r, p, now, hours);
            available += s == AVAILABLE;
            off_hours += s == SKIP_OFF_HOURS;
        }
        r->status[i] = s;
    }
    if (members == 0) {
        d->via = VIA_EMPTY_POOL;
        return false;
    }
    if (available == 0 && off_hours && ri->working_hours == ROUTE_HOURS_PREFER) {
        d->after_hours = true;
        for (uint32_t i = 0; i < r->count; i++)
            if (r->status[i] == SKIP_OFF_HOURS) r->status[i] = AVAILABLE;
        available = off_hours;
    }
    for (uint32_t k = 0; k < r->count; k++) {
        uint32_t i = r->order[k];
        if (r->status[i] != OUTSIDE_POOL && r->status[i] != AVAILABLE && r->reps[i].id != d->owner)
            note_skip(d, &r->reps[i], r->status[i]);
    }
    if (available == 0) {
        d->via = VIA_NOBODY_AVAILABLE;
        return false;
    }

    /* A rep owed a lead goes first: the most owed, then the highest credit. */
    rep *owed = NULL;
    for (uint32_t i = 0; i < r->count; i++) {
        rep *p = &r->reps[i];
        if (r->status[i] != AVAILABLE || p->owed == 0) continue;
        if (!owed || p->owed > owed->owed || (p->owed == owed->owed && p->credit > owed->credit) ||
            (p->owed == owed->owed && p->credit == owed->credit && strcmp(p->id, owed->id) < 0))
            owed = p;
    }
    if (owed) {
        owed->owed--;
        give(d, r, owed, VIA_CREDIT);
        return true;
    }

    int64_t total = 0;
    rep *best = NULL;
    for (uint32_t i = 0; i < r->count; i++) {
        rep *p = &r->reps[i];
        uint8_t s = r->status[i];
        bool takes_part = s == AVAILABLE || (ri->catch_up && (s == SKIP_OUT_OF_OFFICE || s == SKIP_OFF_HOURS));
        if (!takes_part) continue;
        p->credit += p->capacity;
        total += p->capacity;
        if (s == AVAILABLE &&
            (!best || p->credit > best->credit || (p->credit == best->credit && strcmp(p->id, best->id) < 0)))
            best = p;
    }
    if (!best) { /* cannot happen: `available` counted someone who takes part */
        d->via = VIA_NOBODY_AVAILABLE;
        return false;
    }
    best->credit -= total;
    give(d, r, best, VIA_ROTATION);
    return true;
}

bool route_assign(router *r, const contract *c, const route_request *req, route_decision *out)
{
    const routing_info *ri = contract_routing(c);
    memset(out, 0, sizeof *out);
    out->at = req->now;
    out->rule = -1;
    out->owner_skip = -1;
    const char *team = req->team;
    if (req->account_owner && req->account_owner[0] && try_owner(r, ri, req, &team, out)) return true;

    int rule = req->reassign ? -1 : first_rule(ri, req, team);
    uint32_t territory = ROUTE_NO_NAME;
    if (req->reassign && req->territory) {
        out->territory = req->territory;
        territory = route_name_find(r, req->territory);
    }
    if (rule >= 0) {
        out->rule = rule;
        out->rule_name = ri->rules[rule].name;
        team = ri->rules[rule].team;
        out->territory = ri->rules[rule].territory;
        if (out->territory) {
            territory = route_name_find(r, out->territory);
            if (territory == ROUTE_NO_NAME) { /* nobody covers a territory never named */
                out->team = team;
                out->via = VIA_EMPTY_POOL;
                return false;
            }
        }
    }
    out->team = team;
    if (!team) {
        out->via = VIA_NO_TEAM;
        return false;
    }
    uint32_t team_id = route_name_find(r, team);
    if (team_id == ROUTE_NO_NAME) {
        out->via = VIA_EMPTY_POOL;
        return false;
    }
    bool chosen = pick_in_pool(r, ri, req, team_id, territory, out);
    out->team = team; /* the contract's spelling; the same text as the rep's */
    return chosen;
}

bool route_release(router *r, const contract *c, const char *id, enum route_close how)
{
    int at = route_find_rep(r, id);
    if (at < 0 || r->reps[at].open == 0) return false;
    rep *p = &r->reps[at];
    p->open--;
    uint8_t credit = contract_routing(c)->credit_back;
    bool owed = (how == ROUTE_REJECTED && (credit & ROUTE_CREDIT_REJECTED)) ||
                (how == ROUTE_RETURNED && (credit & ROUTE_CREDIT_RETURNED));
    if (owed && p->owed < ROUTE_MAX_CAPACITY) p->owed++;
    return true;
}
