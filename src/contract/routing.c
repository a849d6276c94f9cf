/* The contract's `routing:` section: which rep of the receiving team gets a
 * lead (src/route/ runs it).
 *
 *   routing:
 *     account_owner: first | ignore
 *     working_hours: ignore | prefer | require
 *     rules:                      # in order; the first that matches picks the pool
 *       - { name: emea, when: account.country in [...], stage: development, team: sdr, territory: emea }
 *     fairness: { catch_up: false, credit_back: none | rejected | returned | both }
 *
 * A rule names its pool by team (a team that owns a stage or receives a
 * gate's handoffs), or by stage (the stage's team), or both; `stage` also
 * limits the rule to handoffs into that stage. */
#include "contract/internal.h"

#include <string.h>

/* Policy words, each a table of spelling and value. */
typedef struct word_value {
    const char *word;
    uint8_t value;
} word_value;

static const word_value owner_words[] = {{"first", ROUTE_OWNER_FIRST}, {"ignore", ROUTE_OWNER_IGNORE}};
static const word_value hours_words[] = {
    {"ignore", ROUTE_HOURS_IGNORE}, {"prefer", ROUTE_HOURS_PREFER}, {"require", ROUTE_HOURS_REQUIRE}};
static const word_value credit_words[] = {{"none", 0},
                                          {"rejected", ROUTE_CREDIT_REJECTED},
                                          {"returned", ROUTE_CREDIT_RETURNED},
                                          {"both", ROUTE_CREDIT_REJECTED | ROUTE_CREDIT_RETURNED}};

/* "a, b, c" into out, for hints that list the choices. */
static void join_names(char *out, size_t size, const char *const *names, size_t count)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used < size - 1; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
}

/* Reads one policy word into *out; reports the choices when it is none. */
static void word_of(loader *ld, const ynode *n, const char *what, const word_value *words, size_t count,
                    uint8_t *out)
{
    if (!text_of(ld, n, what)) return;
    const char *names[8];
    for (size_t i = 0; i < count; i++) {
        names[i] = words[i].word;
        if (strcmp(words[i].word, n->text) == 0) {
            *out = words[i].value;
            return;
        }
    }
    error *err = bad(ld, n, ERR_VALUE, "%s cannot be '%s'", what, n->text);
    const char *near = nearest_name(n->text, n->len, names, count);
    if (near) {
        error_hint(err, "did you mean '%s'?", near);
        return;
    }
    char list[ERROR_HINT_MAX];
    join_names(list, sizeof list, names, count);
    error_hint(err, "write one of %s", list);
}

/* Teams a lead can be handed to: the owners of the stages after the first,
 * and every gate's team. */
static size_t known_teams(const contract *c, const char **out)
{
    size_t n = 0;
    for (uint32_t i = 1; i < c->stage_count + c->gate_count; i++) {
        const char *t = i < c->stage_count ? c->stages[i].team : c->gates[i - c->stage_count].info.team;
        bool seen = !t;
        for (size_t j = 0; j < n && !seen; j++) seen = strcmp(out[j], t) == 0;
        if (!seen) out[n++] = t;
    }
    return n;
}

/* Whether a lead handed into `stage` can belong to `team`. */
static bool stage_takes_team(const contract *c, uint32_t stage, const char *team)
{
    if (c->stages[stage].team && strcmp(c->stages[stage].team, team) == 0) return true;
    for (uint32_t g = 0; g < c->gate_count; g++)
        if (c->gates[g].info.stage == stage && c->gates[g].info.team && strcmp(c->gates[g].info.team, team) == 0)
            return true;
    return false;
}

/* Territories are names people already use ("emea-ent", "NA.West"). */
static bool territory_ok(loader *ld, const ynode *n)
{
    if (!text_of(ld, n, "'territory'")) return false;
    bool ok = n->len > 0 && n->len <= 64;
    for (uint32_t i = 0; ok && i < n->len; i++) {
        char ch = n->text[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
             ch == '_' || ch == '.';
    }
    if (!ok) {
        error *err = bad(ld, n, ERR_SCHEMA, "territory '%s' is not a valid name", n->text);
        error_hint(err, "up to 64 letters, digits, '-', '_' and '.', as in emea-ent; the reps table uses the same names");
    }
    return ok;
}

static void load_rule_stage(loader *ld, const ynode *n, route_rule_info *r)
{
    contract *c = ld->c;
    if (!text_of(ld, n, "'stage'")) return;
    int s = contract_find_stage(c, n->text);
    if (s < 0) {
        error *err = bad(ld, n, ERR_NAME, "unknown stage '%s'", n->text);
        const char *names[CONTRACT_MAX_STAGES];
        for (uint32_t i = 0; i < c->stage_count; i++) names[i] = c->stages[i].name;
        const char *near = nearest_name(n->text, n->len, names, c->stage_count);
        if (near) error_hint(err, "did you mean '%s'?", near);
        else error_hint(err, "stages are declared under 'stages:'");
        return;
    }
    if (s == 0) {
        error *err = bad(ld, n, ERR_POLICY, "no lead is handed into '%s', the first stage", n->text);
        error_hint(err, "routing picks an owner for a handoff; name a stage a gate hands off to");
        return;
    }
    r->stage = s;
}

static void load_rule_team(loader *ld, const ynode *n, route_rule_info *r)
{
    contract *c = ld->c;
    if (!text_of(ld, n, "'team'")) return;
    const char *teams[CONTRACT_MAX_STAGES + CONTRACT_MAX_GATES];
    size_t count = known_teams(c, teams);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(teams[i], n->text) == 0) {
            r->team = teams[i];
            return;
        }
    }
    error *err = bad(ld, n, ERR_NAME, "unknown team '%s'", n->text);
    const char *near = nearest_name(n->text, n->len, teams, count);
    if (near) {
        error_hint(err, "did you mean '%s'?", near);
        return;
    }
    char list[ERROR_HINT_MAX];
    join_names(list, sizeof list, teams, count);
    error_hint(err, "a rule routes to a team that owns a stage: %s", list);
}

static void load_rule(loader *ld, const ynode *g)
{
    contract *c = ld->c;
    routing_info *ri = &c->routing;
    static const char *const keys[] = {"name", "when", "stage", "team", "territory"};
    if (!expect(ld, g, Y_MAP, "a routing rule")) return;
    if (ri->rule_count >= CONTRACT_MAX_ROUTE_RULES) {
        if (ri->rule_count == CONTRACT_MAX_ROUTE_RULES) /* reported once, at the first rule too many */
            bad(ld, g, ERR_LIMIT, "more than %d routing rules", CONTRACT_MAX_ROUTE_RULES);
        ri->rule_count++;
        return;
    }
    route_rule_def *r = &c->route_rules[ri->rule_count];
    route_rule_info *info = &c->route_info[ri->rule_count++];
    info->name = "";
    info->stage = -1;
    r->e.offset = g->offset;
    check_keys(ld, g, keys, ARRAY_LEN(keys), "a routing rule");
    const ynode *name = required(ld, g, "name", "the routing rule");
    if (name && name_ok(ld, name, "routing rule")) {
        info->name = name->text;
        r->e.name = name->text;
        r->e.offset = name->offset;
        for (size_t j = 0; j + 1 < ri->rule_count; j++) {
            if (strcmp(c->route_info[j].name, name->text) != 0) continue;
            uint32_t line, col;
            errors_position(ld->errs, c->route_rules[j].e.offset, &line, &col);
            bad(ld, name, ERR_DUPLICATE, "routing rule '%s' is already defined at line %u", name->text, line);
        }
    }
    const ynode *when = ymap_get(g, "when");
    r->has_when = when != NULL;
    if (when) expr_from(ld, when, "'when'", &r->e.when);
    const ynode *stage = ymap_get(g, "stage"), *team = ymap_get(g, "team");
    if (stage) load_rule_stage(ld, stage, info);
    if (team) load_rule_team(ld, team, info);
    if (!stage && !team) {
        error *err = bad(ld, g, ERR_SCHEMA, "routing rule '%s' names no team", info->name);
        error_hint(err, "say whose pool it picks: team: sdr (or stage: development, for that stage's team)");
    }
    if (info->stage >= 0 && !team) info->team = c->stages[info->stage].team;
    if (info->stage >= 0 && info->team && team && !stage_takes_team(c, (uint32_t)info->stage, info->team)) {
        error *err = bad(ld, team, ERR_POLICY, "team '%s' never receives leads handed into '%s'", info->team,
                         c->stages[info->stage].name);
        error_hint(err, "'%s' is owned by %s; a lead has one owning team at a time (R1)",
                   c->stages[info->stage].name, c->stages[info->stage].team);
    }
    const ynode *territory = ymap_get(g, "territory");
    if (territory && territory_ok(ld, territory)) info->territory = territory->text;
}

/* A rule that matches every lead for its team and stage hides the rules after
 * it that route the same team's leads: say so, as for gates. */
static void check_rules_reachable(loader *ld)
{
    const contract *c = ld->c;
    size_t n = c->routing.rule_count < CONTRACT_MAX_ROUTE_RULES ? c->routing.rule_count : CONTRACT_MAX_ROUTE_RULES;
    for (size_t b = 1; b < n; b++) {
        const route_rule_info *later = &c->route_info[b];
        for (size_t a = 0; a < b; a++) {
            const route_rule_info *r = &c->route_info[a];
            if (c->route_rules[a].has_when || !r->team || !later->team || strcmp(r->team, later->team) != 0 ||
                (r->stage >= 0 && r->stage != later->stage))
                continue;
            error *err = errors_add(ld->errs, ERR_UNREACHABLE, c->route_rules[b].e.offset, (uint32_t)strlen(later->name),
                                    "routing rule '%s' is never used: rule '%s' above it takes every lead for team %s",
                                    later->name, r->name, r->team);
            error_hint(err, "rules are tried in order; move '%s' to the end", r->name);
            break;
        }
    }
}

void load_routing(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    routing_info *ri = &c->routing;
    ri->account_owner = ROUTE_OWNER_FIRST;
    ri->working_hours = ROUTE_HOURS_IGNORE;
    ri->rules = c->route_info;
    if (!n || !expect(ld, n, Y_MAP, "'routing'")) return;
    ri->defined = true;
    static const char *const keys[] = {"account_owner", "working_hours", "rules", "fairness"};
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'routing'");
    const ynode *v;
    if ((v = ymap_get(n, "account_owner")))
        word_of(ld, v, "'account_owner'", owner_words, ARRAY_LEN(owner_words), &ri->account_owner);
    if ((v = ymap_get(n, "working_hours")))
        word_of(ld, v, "'working_hours'", hours_words, ARRAY_LEN(hours_words), &ri->working_hours);
    if ((v = ymap_get(n, "fairness")) && expect(ld, v, Y_MAP, "'fairness'")) {
        static const char *const fair_keys[] = {"catch_up", "credit_back"};
        check_keys(ld, v, fair_keys, ARRAY_LEN(fair_keys), "'fairness'");
        const ynode *f;
        if ((f = ymap_get(v, "catch_up"))) bool_of(ld, f, "'catch_up'", &ri->catch_up);
        if ((f = ymap_get(v, "credit_back")))
            word_of(ld, f, "'credit_back'", credit_words, ARRAY_LEN(credit_words), &ri->credit_back);
    }
    if ((v = ymap_get(n, "rules")) && expect(ld, v, Y_SEQ, "'rules'")) {
        for (uint32_t i = 0; i < v->count; i++) load_rule(ld, v->items[i]);
        if (ri->rule_count > CONTRACT_MAX_ROUTE_RULES) ri->rule_count = CONTRACT_MAX_ROUTE_RULES;
        check_rules_reachable(ld);
    }
}

void compile_routing(contract *c, errors *errs)
{
    /* the engine keeps each account's owner only when a field names it */
    if (c->routing.account_owner == ROUTE_OWNER_FIRST)
        contract_field_slot(c, "account.owner", SCOPE_ACCOUNT, VAL_STR, false);
    for (size_t i = 0; i < c->routing.rule_count; i++) {
        route_rule_def *r = &c->route_rules[i];
        if (!r->e.when.root) continue;
        c->route_info[i].source = r->e.when.text;
        if (check_expr(c, errs, &r->e.when, CTX_ROUTE, TY_BOOL))
            c->route_info[i].when = r->e.prog = compile_expr(c, errs, &r->e.when);
    }
}

const routing_info *contract_routing(const contract *c) { return &c->routing; }
