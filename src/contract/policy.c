/* The contract's policy sections: gates, required fields, points, the
 * context block, SLAs and rejection reasons. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

static int stage_index(const contract *c, const char *name)
{
    for (uint32_t i = 0; i < c->stage_count; i++)
        if (strcmp(c->stages[i].name, name) == 0) return (int)i;
    return -1;
}

static void unknown_stage(loader *ld, const ynode *n)
{
    const contract *c = ld->c;
    error *err = bad(ld, n, ERR_NAME, "unknown stage '%s'", n->text);
    const char *names[CONTRACT_MAX_STAGES];
    for (uint32_t i = 0; i < c->stage_count; i++) names[i] = c->stages[i].name;
    const char *near = nearest_name(n->text, n->len, names, c->stage_count);
    if (near) error_hint(err, "did you mean '%s'?", near);
    else if (c->stage_count) error_hint(err, "stages are declared under 'stages:'");
}

void load_require(loader *ld, const ynode *n, uint32_t *bits)
{
    static const struct {
        const char *name;
        uint32_t bit;
    } fields[] = {{"pain", REQUIRE_PAIN}, {"impact", REQUIRE_IMPACT}};
    if (!expect(ld, n, Y_SEQ, "'require'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *f = n->items[i];
        if (!text_of(ld, f, "a required field")) continue;
        bool found = false;
        for (size_t j = 0; j < ARRAY_LEN(fields); j++) {
            if (strcmp(fields[j].name, f->text) == 0) {
                *bits |= fields[j].bit;
                found = true;
            }
        }
        if (!found) {
            error *err = bad(ld, f, ERR_NAME, "'%s' cannot be required of a handoff", f->text);
            error_hint(err, "a handoff can require 'pain' and 'impact'");
        }
    }
}

void load_gates(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!expect(ld, n, Y_SEQ, "'gates'")) return;
    if (n->count == 0) bad(ld, n, ERR_POLICY, "'gates' is empty: nothing would ever be handed off");
    static const char *const keys[] = {"name", "when", "to", "team", "fast", "require"};
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *g = n->items[i];
        if (!expect(ld, g, Y_MAP, "a gate")) continue;
        if (c->gate_count == CONTRACT_MAX_GATES) {
            bad(ld, g, ERR_LIMIT, "more than %d gates", CONTRACT_MAX_GATES);
            return;
        }
        gate_def *gd = &c->gates[c->gate_count++];
        gd->e.offset = g->offset;
        gd->info.name = "";
        check_keys(ld, g, keys, ARRAY_LEN(keys), "a gate");
        const ynode *name = required(ld, g, "name", "the gate");
        if (name && name_ok(ld, name, "gate")) {
            gd->info.name = name->text;
            gd->e.name = name->text;
            gd->e.offset = name->offset;
            for (uint32_t j = 0; j + 1 < c->gate_count; j++) {
                if (strcmp(c->gates[j].info.name, name->text) == 0) {
                    uint32_t line, col;
                    errors_position(ld->errs, c->gates[j].e.offset, &line, &col);
                    bad(ld, name, ERR_DUPLICATE, "gate '%s' is already defined at line %u", name->text, line);
                }
            }
        }
        const ynode *when = required(ld, g, "when", "the gate");
        if (when) expr_from(ld, when, "'when'", &gd->e.when);
        const ynode *to = required(ld, g, "to", "the gate");
        if (to && text_of(ld, to, "'to'")) {
            int s = stage_index(c, to->text);
            if (s < 0) {
                unknown_stage(ld, to);
            } else if (s == 0) {
                error *err = bad(ld, to, ERR_POLICY, "a gate cannot hand off to '%s', the first stage", to->text);
                error_hint(err, "gates move a lead forward, out of '%s'", to->text);
            } else {
                gd->info.stage = (uint32_t)s;
                gd->info.team = c->stages[s].team;
            }
        }
        const ynode *team = ymap_get(g, "team");
        if (team && text_of(ld, team, "'team'")) gd->info.team = team->text;
        const ynode *fast = ymap_get(g, "fast");
        if (fast) bool_of(ld, fast, "'fast'", &gd->info.fast);
        const ynode *req = ymap_get(g, "require");
        if (req) load_require(ld, req, &gd->info.require);
    }
}

void load_points(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    points_info *p = &c->points;
    p->per_signal = c->point_values;
    if (!n || !expect(ld, n, Y_MAP, "'points'")) return;
    static const char *const keys[] = {"per_signal", "half_life", "cap"};
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'points'");
    p->enabled = true;
    const ynode *per = required(ld, n, "per_signal", "'points'");
    if (per && expect(ld, per, Y_MAP, "'per_signal'")) {
        for (uint32_t i = 0; i < per->count; i++) {
            const ynode *key = ymap_key(per, i), *val = ymap_value(per, i);
            if (!text_of(ld, key, "a signal")) continue;
            int s = -1;
            for (uint32_t j = 0; j < c->signal_count; j++)
                if (strcmp(c->signals[j].info.name, key->text) == 0) s = (int)j;
            if (s < 0) {
                error *err = bad(ld, key, ERR_NAME, "unknown signal '%s'", key->text);
                const char *names[CONTRACT_MAX_SIGNALS];
                for (uint32_t j = 0; j < c->signal_count; j++) names[j] = c->signals[j].info.name;
                const char *near = nearest_name(key->text, key->len, names, c->signal_count);
                if (near) error_hint(err, "did you mean '%s'?", near);
                continue;
            }
            char *end;
            long v = val->kind == Y_SCALAR ? strtol(val->text, &end, 10) : 0;
            if (val->kind != Y_SCALAR || *end || val->len == 0 || v < -1000000 || v > 1000000) {
                bad(ld, val, ERR_VALUE, "points must be a whole number from -1000000 to 1000000");
                continue;
            }
            c->point_values[s] = (int32_t)v;
        }
    }
    const ynode *hl = ymap_get(n, "half_life");
    if (hl) duration_of(ld, hl, "'half_life'", &p->half_life);
    const ynode *cap = ymap_get(n, "cap");
    uint32_t capv = 0;
    if (cap && uint_of(ld, cap, "'cap'", 1000000000u, &capv)) p->cap = (int32_t)capv;
}

void load_context(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    static const char *const keys[] = {"did", "asks", "questions"};
    if (!n) {
        error *err = errors_add(ld->errs, ERR_SCHEMA, 0, 1, "the contract has no 'context'");
        error_hint(err, "R3: every handoff carries two lines, 'did' and 'asks'");
        return;
    }
    if (!expect(ld, n, Y_MAP, "'context'")) return;
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'context'");
    const ynode *did = required(ld, n, "did", "'context'");
    if (did && text_of(ld, did, "'did'")) c->did = template_compile(c, ld->errs, did, CTX_TEMPLATE_LEAD);
    const ynode *asks = ymap_get(n, "asks");
    if (asks && text_of(ld, asks, "'asks'")) c->asks = template_compile(c, ld->errs, asks, CTX_TEMPLATE_LEAD);
    const ynode *q = ymap_get(n, "questions");
    if (q && expect(ld, q, Y_MAP, "'questions'")) {
        c->topics = arena_alloc(c->arena, (q->count ? q->count : 1) * sizeof *c->topics);
        c->questions = arena_alloc(c->arena, (q->count ? q->count : 1) * sizeof *c->questions);
        if (!c->topics || !c->questions) return;
        for (uint32_t i = 0; i < q->count; i++) {
            const ynode *key = ymap_key(q, i), *val = ymap_value(q, i);
            if (!name_ok(ld, key, "topic") || !text_of(ld, val, "a question")) continue;
            c->topics[c->topic_count] = key->text;
            c->questions[c->topic_count++] = val->text;
        }
    }
    /* Every topic a signal names should map to a question (R3's second line). */
    for (uint32_t i = 0; i < c->signal_count; i++) {
        const char *topic = c->signals[i].info.topic;
        if (!topic) continue;
        bool found = false;
        for (uint32_t j = 0; j < c->topic_count && !found; j++) found = strcmp(c->topics[j], topic) == 0;
        if (!found) {
            error *err = errors_add(ld->errs, ERR_POLICY, c->signals[i].e.offset,
                                    (uint32_t)strlen(c->signals[i].info.name),
                                    "signal '%s' has topic '%s', which has no question in context.questions",
                                    c->signals[i].info.name, topic);
            error_hint(err, "add '%s: \"...?\"' under context.questions", topic);
        }
    }
}

/* "4 business hours", "10 business days", or a plain duration "4h". */
static void sla_figure_of(loader *ld, const ynode *n, const char *what, sla_figure *out)
{
    if (!text_of(ld, n, what)) return;
    char *end;
    unsigned long amount = strtoul(n->text, &end, 10);
    while (*end == ' ') end++;
    static const struct {
        const char *unit;
        uint8_t code;
    } units[] = {{"business hours", SLA_BUSINESS_HOURS}, {"business hour", SLA_BUSINESS_HOURS},
                 {"business days", SLA_BUSINESS_DAYS},   {"business day", SLA_BUSINESS_DAYS}};
    if (end != n->text && amount > 0 && amount <= 10000) {
        for (size_t i = 0; i < ARRAY_LEN(units); i++) {
            if (strcmp(end, units[i].unit) == 0) {
                out->set = true;
                out->amount = (int64_t)amount;
                out->unit = units[i].code;
                return;
            }
        }
    }
    duration_ms d;
    if (duration_parse(n->text, n->len, &d) && d > 0) {
        out->set = true;
        out->amount = d;
        out->unit = SLA_ELAPSED;
        return;
    }
    error *err = bad(ld, n, ERR_VALUE, "%s '%s' is not a time allowance", what, n->text);
    error_hint(err, "write '4 business hours', '10 business days', or an elapsed time such as 48h");
}

void load_sla(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n) {
        error *err = errors_add(ld->errs, ERR_SCHEMA, 0, 1, "the contract has no 'sla'");
        error_hint(err, "R7: say how fast sales must touch a lead and book a meeting");
        return;
    }
    if (!expect(ld, n, Y_MAP, "'sla'")) return;
    static const char *const keys[] = {"first_touch", "meeting", "on_breach"};
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'sla'");
    const ynode *ft = required(ld, n, "first_touch", "'sla'");
    if (ft) sla_figure_of(ld, ft, "'first_touch'", &c->about.first_touch);
    const ynode *m = required(ld, n, "meeting", "'sla'");
    if (m) sla_figure_of(ld, m, "'meeting'", &c->about.meeting);
    const ynode *ob = ymap_get(n, "on_breach");
    if (ob && text_of(ld, ob, "'on_breach'")) {
        static const char *const actions[] = {"notify", "reassign", "both"};
        int found = -1;
        for (int i = 0; i < 3; i++)
            if (strcmp(actions[i], ob->text) == 0) found = i;
        if (found < 0) {
            error *err = bad(ld, ob, ERR_VALUE, "unknown breach action '%s'", ob->text);
            const char *near = nearest_name(ob->text, ob->len, actions, 3);
            if (near) error_hint(err, "did you mean '%s'?", near);
            else error_hint(err, "on a breach baton can notify, reassign, or both");
        } else {
            c->about.on_breach = (uint8_t)found;
        }
    }
}

void load_reasons(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n) {
        error *err = errors_add(ld->errs, ERR_SCHEMA, 0, 1, "the contract has no 'reasons'");
        error_hint(err, "R12: every rejection by sales carries a reason code with a policy");
        return;
    }
    if (!expect(ld, n, Y_MAP, "'reasons'")) return;
    static const char *const keys[] = {"then", "cooldown", "label"};
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i), *body = ymap_value(n, i);
        if (!name_ok(ld, key, "reason code")) continue;
        if (c->reason_count == CONTRACT_MAX_REASONS) {
            bad(ld, key, ERR_LIMIT, "more than %d reason codes", CONTRACT_MAX_REASONS);
            return;
        }
        reason_info *r = &c->reasons[c->reason_count++];
        r->code = key->text;
        r->label = key->text;
        if (body->kind != Y_MAP || !ymap_get(body, "then")) {
            error *err = bad(ld, key, ERR_POLICY, "reason '%s' has no policy", key->text);
            error_hint(err, "say what happens to the lead: { then: nurture, cooldown: 30d } or { then: suppress }");
            continue;
        }
        check_keys(ld, body, keys, ARRAY_LEN(keys), "a reason");
        const ynode *then = ymap_get(body, "then");
        if (text_of(ld, then, "'then'")) {
            int s;
            if (strcmp(then->text, "suppress") == 0) {
                r->action = REASON_SUPPRESS;
            } else if (strcmp(then->text, "reroute") == 0) {
                r->action = REASON_REROUTE;
            } else if ((s = stage_index(c, then->text)) >= 0) {
                r->action = s == 0 ? REASON_NURTURE : REASON_STAGE;
                r->stage = (uint32_t)s;
            } else {
                error *err = bad(ld, then, ERR_POLICY, "'then: %s' is neither a stage nor suppress or reroute",
                                 then->text);
                error_hint(err, "send the lead back to a stage (usually the first), suppress it, or reroute it");
            }
        }
        const ynode *cd = ymap_get(body, "cooldown");
        if (cd) {
            duration_of(ld, cd, "'cooldown'", &r->cooldown);
            if (r->action == REASON_SUPPRESS || r->action == REASON_REROUTE)
                bad(ld, cd, ERR_POLICY, "a cooldown means nothing with 'then: %s'", then ? then->text : "");
        }
        const ynode *label = ymap_get(body, "label");
        if (label && text_of(ld, label, "'label'")) r->label = label->text;
    }
    if (c->reason_count == 0) bad(ld, n, ERR_POLICY, "'reasons' is empty: sales could not reject a lead");
}
