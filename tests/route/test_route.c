/* The router: account owners, territory rules, capacity-weighted round-robin,
 * away and inactive reps, the fairness policies, determinism, state across a
 * restart, and the reps CSV. Every expectation is worked out by hand in the
 * comment beside it. */
#include "../harness.h"
#include "route/route.h"

/* A Wednesday at noon UTC; the contract's calendar is UTC, 09:00-17:00. */
#define NOON (INT64_C(1791374400000)) /* 2026-10-07T12:00:00Z */

/* The contract, with its policies filled in: account_owner, working_hours,
 * catch_up, credit_back. */
static const char *const contract_yaml =
    "contract: route\n"
    "version: 1\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
    "lists:\n"
    "  emea: [DE, FR, GB]\n"
    "signals:\n"
    "  demo: { kind: intent, when: event.name == \"Demo Requested\" }\n"
    "  workload: { kind: activation, when: event.name == \"Workload Run\" }\n"
    "gates:\n"
    "  - { name: demo, when: demo, to: development }\n"
    "  - { name: workload, when: workload, to: sales }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n"
    "routing:\n"
    "  account_owner: %s\n"
    "  working_hours: %s\n"
    "  rules:\n"
    "    - { name: emea_ent, when: account.country in emea and account.employees >= 1000, team: sdr, territory: emea-ent }\n"
    "    - { name: emea, when: account.country in emea, team: sdr, territory: emea }\n"
    "    - { name: fintech, when: 'account.industry == \"fintech\"', team: sdr, territory: fin }\n"
    "    - { name: vp, when: 'lead.title starts_with \"VP\"', team: sdr, territory: exec }\n"
    "    - { name: sales_all, stage: sales }\n"
    "    - { name: default, team: sdr }\n"
    "  fairness: { catch_up: %s, credit_back: %s }\n";

typedef struct fixture {
    contract *c;
    router *r;
    value fields[CONTRACT_MAX_FIELDS];
    eval_env env;
} fixture;

static fixture *fixture_new(const char *owner, const char *hours, const char *catch_up, const char *credit)
{
    fixture *f = calloc(1, sizeof *f);
    char yaml[4096];
    snprintf(yaml, sizeof yaml, contract_yaml, owner, hours, catch_up, credit);
    f->c = must_parse("route.yaml", yaml);
    f->r = route_new(&contract_about(f->c)->calendar);
    assert_non_null(f->r);
    f->env.fields = f->fields;
    return f;
}

static fixture *fixture_default(void)
{
    return fixture_new("first", "ignore", "false", "none");
}

static void fixture_free(fixture *f)
{
    route_free(f->r);
    contract_free(f->c);
    free(f);
}

static void set_field(fixture *f, const char *path, const char *text, double num)
{
    for (size_t i = 0; i < contract_field_count(f->c); i++) {
        if (strcmp(contract_field(f->c, i)->path, path) != 0) continue;
        value *v = &f->fields[i];
        if (text) {
            *v = (value){.type = VAL_STR};
            v->as.str.s = text;
            v->as.str.len = (uint32_t)strlen(text);
            v->as.str.id = contract_intern_find(f->c, text, strlen(text));
        } else {
            *v = (value){.type = VAL_NUM, .as.num = num};
        }
        return;
    }
    fail_msg("the contract reads no field %s", path);
}

/* A lead from an account in `country` with `employees` people in `industry`. */
static void lead(fixture *f, const char *country, double employees, const char *industry)
{
    memset(f->fields, 0, sizeof f->fields);
    set_field(f, "account.country", country, 0);
    set_field(f, "account.employees", NULL, employees);
    set_field(f, "account.industry", industry, 0);
}

/* A rep with the settings that matter to a test; `extra` is NULL or
 * "column=value" pairs separated by ';'. */
static void add_rep(fixture *f, const char *id, const char *team, const char *territory, const char *capacity,
                    const char *extra)
{
    rep_fields rf = {.id = id, .team = team, .territory = territory, .capacity = capacity};
    char buf[512];
    if (extra) {
        snprintf(buf, sizeof buf, "%s", extra);
        for (char *kv = strtok(buf, ";"); kv; kv = strtok(NULL, ";")) {
            char *eq = strchr(kv, '=');
            assert_non_null(eq);
            *eq = '\0';
            const char *v = eq + 1;
            if (strcmp(kv, "out_of_office") == 0) rf.out_of_office = v;
            else if (strcmp(kv, "active") == 0) rf.active = v;
            else if (strcmp(kv, "timezone") == 0) rf.timezone = v;
            else if (strcmp(kv, "hours") == 0) rf.hours = v;
            else if (strcmp(kv, "workdays") == 0) rf.workdays = v;
            else fail_msg("unknown column %s", kv);
        }
    }
    char why[300] = "";
    if (!route_set_rep(f->r, &rf, why, sizeof why)) fail_msg("rep %s refused: %s", id, why);
}

static route_decision assign_at(fixture *f, const char *team, int32_t stage, const char *owner, time_ms now)
{
    route_request req = {.team = team, .stage = stage, .env = &f->env, .account_owner = owner, .now = now};
    route_decision d;
    route_assign(f->r, f->c, &req, &d);
    return d;
}

static route_decision assign(fixture *f, const char *owner)
{
    return assign_at(f, "sdr", 1, owner, NOON);
}

/* Assigns and closes at once, so capacity never binds. */
static const char *assign_worked(fixture *f)
{
    route_decision d = assign(f, NULL);
    if (d.rep) assert_true(route_release(f->r, f->c, d.rep, ROUTE_WORKED));
    return d.rep;
}

/* ---- the contract's routing section ------------------------------------------------ */

static void test_contract_routing_compiled(void **state)
{
    (void)state;
    fixture *f = fixture_new("first", "prefer", "true", "both");
    const routing_info *ri = contract_routing(f->c);
    assert_true(ri->defined);
    assert_int_equal(ri->account_owner, ROUTE_OWNER_FIRST);
    assert_int_equal(ri->working_hours, ROUTE_HOURS_PREFER);
    assert_true(ri->catch_up);
    assert_int_equal(ri->credit_back, ROUTE_CREDIT_REJECTED | ROUTE_CREDIT_RETURNED);
    assert_int_equal(ri->rule_count, 6);
    assert_string_equal(ri->rules[0].name, "emea_ent");
    assert_string_equal(ri->rules[0].team, "sdr");
    assert_string_equal(ri->rules[0].territory, "emea-ent");
    assert_non_null(ri->rules[0].when);
    assert_int_equal(ri->rules[0].stage, -1);
    /* stage: sales names the stage's team */
    assert_string_equal(ri->rules[4].team, "ae");
    assert_int_equal(ri->rules[4].stage, 2);
    assert_null(ri->rules[4].territory);
    assert_null(ri->rules[5].when);
    fixture_free(f);
}

/* ---- the account owner ---------------------------------------------------------------- */

static void test_account_owner_first(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "rep-1", "sdr", NULL, "5", NULL);
    add_rep(f, "rep-7", "sdr", "emea", "5", NULL);
    lead(f, "US", 50, "retail");
    route_decision d = assign(f, "rep-7");
    assert_int_equal(d.via, VIA_ACCOUNT_OWNER);
    assert_string_equal(d.rep, "rep-7");
    assert_string_equal(d.team, "sdr");
    assert_int_equal(d.owner_skip, -1);
    assert_int_equal(d.skip_count, 0);
    fixture_free(f);
}

/* The owner is out of office: the lead goes to the owner's team, by the rules. */
static void test_owner_away_goes_to_owners_team(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "rep-1", "sdr", NULL, "5", NULL);
    add_rep(f, "rep-7", "sdr", "emea", "5", "out_of_office=2026-10-05..2026-10-09");
    add_rep(f, "rep-8", "sdr", "emea", "5", NULL);
    lead(f, "DE", 50, "retail"); /* rule emea */
    route_decision d = assign(f, "rep-7");
    assert_int_equal(d.via, VIA_ROTATION);
    assert_string_equal(d.rep, "rep-8");
    assert_string_equal(d.owner, "rep-7");
    assert_int_equal(d.owner_skip, SKIP_OUT_OF_OFFICE);
    assert_string_equal(d.rule_name, "emea");
    assert_string_equal(d.territory, "emea");
    /* the owner is named once among the skipped, with the reason */
    assert_int_equal(d.skip_count, 1);
    assert_string_equal(d.skips[0].rep, "rep-7");
    assert_int_equal(d.skips[0].reason, SKIP_OUT_OF_OFFICE);
    fixture_free(f);
}

/* An AE owner does not take a lead handed to the SDR team (R1: the stage's
 * team owns it); an unknown owner is noted; `ignore` never asks. */
static void test_owner_other_team_unknown_ignored(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "rep-1", "sdr", NULL, "5", NULL);
    add_rep(f, "ae-1", "ae", NULL, "5", NULL);
    lead(f, "US", 50, "retail");
    route_decision d = assign(f, "ae-1");
    assert_int_equal(d.owner_skip, SKIP_OTHER_TEAM);
    assert_string_equal(d.rep, "rep-1");
    assert_string_equal(d.rule_name, "default");
    d = assign(f, "nobody");
    assert_int_equal(d.owner_skip, SKIP_UNKNOWN);
    assert_string_equal(d.owner, "nobody");
    assert_string_equal(d.rep, "rep-1");
    /* handed to sales, the AE owner takes it */
    d = assign_at(f, "ae", 2, "ae-1", NOON);
    assert_int_equal(d.via, VIA_ACCOUNT_OWNER);
    assert_string_equal(d.rep, "ae-1");
    fixture_free(f);

    f = fixture_new("ignore", "ignore", "false", "none");
    add_rep(f, "rep-1", "sdr", NULL, "5", NULL);
    add_rep(f, "rep-7", "sdr", NULL, "5", NULL);
    lead(f, "US", 50, "retail");
    d = assign(f, "rep-7");
    assert_true(d.owner_ignored);
    assert_int_equal(d.via, VIA_ROTATION);
    assert_string_equal(d.rep, "rep-1"); /* equal credit: the smaller id */
    fixture_free(f);
}

/* ---- territory rules -------------------------------------------------------------------- */

static void test_territory_rules(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "ent-1", "sdr", "emea-ent", "5", NULL);
    add_rep(f, "emea-1", "sdr", "emea", "5", NULL);
    add_rep(f, "fin-1", "sdr", "fin", "5", NULL);
    add_rep(f, "exec-1", "sdr", "exec", "5", NULL);
    add_rep(f, "any-1", "sdr", NULL, "5", NULL);
    add_rep(f, "ae-1", "ae", NULL, "5", NULL);
    static const struct {
        const char *country, *industry, *title;
        double employees;
        const char *rule, *rep;
    } cases[] = {
        {"DE", "retail", NULL, 1200, "emea_ent", "ent-1"},   /* country and employee band */
        {"GB", "retail", NULL, 999, "emea", "emea-1"},       /* below the band */
        {"US", "fintech", NULL, 5000, "fintech", "fin-1"},   /* industry */
        {"US", "retail", "VP Sales", 10, "vp", "exec-1"},    /* any expression: the title */
        {"BR", "retail", "Engineer", 10, "default", NULL},   /* the whole team */
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        lead(f, cases[i].country, cases[i].employees, cases[i].industry);
        if (cases[i].title) set_field(f, "lead.title", cases[i].title, 0);
        route_decision d = assign(f, NULL);
        assert_string_equal(d.rule_name, cases[i].rule);
        if (cases[i].rep) assert_string_equal(d.rep, cases[i].rep);
        assert_true(route_release(f->r, f->c, d.rep, ROUTE_WORKED));
    }
    /* The default rule's pool is the whole sdr team: never the AE. */
    for (int i = 0; i < 20; i++) {
        lead(f, "BR", 10, "retail");
        route_decision d = assign(f, NULL);
        assert_string_equal(d.team, "sdr");
        assert_string_not_equal(d.rep, "ae-1");
        route_release(f->r, f->c, d.rep, ROUTE_WORKED);
    }
    /* Handed to sales: the rule for the sales stage, the AE team. */
    lead(f, "DE", 5000, "fintech");
    route_decision d = assign_at(f, "ae", 2, NULL, NOON);
    assert_string_equal(d.rule_name, "sales_all");
    assert_string_equal(d.rep, "ae-1");
    fixture_free(f);
}

/* ---- weighted round-robin ------------------------------------------------------------------- */

/* Capacities 10, 5, 5 and 2 (22 in all): every 22 leads give exactly 10, 5,
 * 5 and 2, and after any number n of leads each rep is within one lead of
 * n * capacity / 22. */
static void test_weighted_round_robin_is_fair(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    static const char *const ids[] = {"a", "b", "c", "d"};
    static const int caps[] = {10, 5, 5, 2};
    add_rep(f, "a", "sdr", NULL, "10", NULL);
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    add_rep(f, "c", "sdr", NULL, "5", NULL);
    add_rep(f, "d", "sdr", NULL, "2", NULL);
    lead(f, "US", 10, "retail");
    int count[4] = {0};
    for (int n = 1; n <= 1000; n++) {
        const char *rep = assign_worked(f);
        assert_non_null(rep);
        for (int i = 0; i < 4; i++) count[i] += strcmp(rep, ids[i]) == 0;
        for (int i = 0; i < 4; i++) {
            double share = n * caps[i] / 22.0;
            if (count[i] < share - 1 || count[i] > share + 1)
                fail_msg("after %d leads %s has %d, share %.2f", n, ids[i], count[i], share);
        }
        if (n == 22) {
            assert_int_equal(count[0], 10);
            assert_int_equal(count[1], 5);
            assert_int_equal(count[2], 5);
            assert_int_equal(count[3], 2);
        }
    }
    /* 1000 = 45 * 22 + 10: a has 450 + 4.5 +- 1 */
    assert_in_range(count[0], 454, 455);
    assert_int_equal(count[0] + count[1] + count[2] + count[3], 1000);
    fixture_free(f);
}

/* ---- capacity --------------------------------------------------------------------------------- */

static void test_capacity_respected_and_released(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "a", "sdr", NULL, "2", NULL);
    add_rep(f, "b", "sdr", NULL, "1", NULL);
    lead(f, "US", 10, "retail");
    /* credits: a 2, b 1 -> a (a -1); a 1, b 2 -> b (b -1); a 3, b 0 -> a */
    assert_string_equal(assign(f, NULL).rep, "a");
    assert_string_equal(assign(f, NULL).rep, "b");
    assert_string_equal(assign(f, NULL).rep, "a");
    route_decision d = assign(f, NULL);
    assert_null(d.rep);
    assert_int_equal(d.via, VIA_NOBODY_AVAILABLE);
    assert_string_equal(d.team, "sdr"); /* R1: the lead stays with the team */
    assert_int_equal(d.skip_count, 2);
    assert_int_equal(d.skips[0].reason, SKIP_AT_CAPACITY);
    assert_int_equal(d.skips[1].reason, SKIP_AT_CAPACITY);
    /* b closes one: b is the only rep with room */
    assert_true(route_release(f->r, f->c, "b", ROUTE_WORKED));
    d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    assert_int_equal(d.skip_count, 1);
    assert_string_equal(d.skips[0].rep, "a");
    /* nothing open to release */
    assert_true(route_release(f->r, f->c, "b", ROUTE_WORKED));
    assert_false(route_release(f->r, f->c, "b", ROUTE_WORKED));
    assert_false(route_release(f->r, f->c, "nobody", ROUTE_WORKED));
    fixture_free(f);
}

/* ---- away and inactive ------------------------------------------------------------------------- */

static void test_out_of_office_skipped_with_reason(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "a", "sdr", NULL, "5", "out_of_office=2026-09-01 2026-10-07");
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    /* In Tokyo it is already 8 October at 16:00 UTC on the 7th. */
    add_rep(f, "c", "sdr", NULL, "5", "timezone=Asia/Tokyo;out_of_office=2026-10-08..2026-10-09");
    lead(f, "US", 10, "retail");
    route_decision d = assign(f, NULL); /* noon UTC: 21:00 on the 7th in Tokyo */
    assert_string_equal(d.rep, "b");
    assert_int_equal(d.skip_count, 1);
    assert_string_equal(d.skips[0].rep, "a");
    assert_int_equal(d.skips[0].reason, SKIP_OUT_OF_OFFICE);
    route_release(f->r, f->c, "b", ROUTE_WORKED);
    d = assign_at(f, "sdr", 1, NULL, NOON + 4 * MS_PER_HOUR); /* 01:00 on the 8th in Tokyo */
    assert_int_equal(d.skip_count, 2);
    assert_string_equal(d.skips[1].rep, "c");
    assert_int_equal(d.skips[1].reason, SKIP_OUT_OF_OFFICE);
    /* the next day a is back */
    d = assign_at(f, "sdr", 1, NULL, NOON + MS_PER_DAY);
    assert_string_not_equal(d.rep, "b");
    fixture_free(f);
}

static void test_inactive_skipped(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "a", "sdr", NULL, "5", "active=false");
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    lead(f, "US", 10, "retail");
    route_decision d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    assert_int_equal(d.skips[0].reason, SKIP_INACTIVE);
    /* Retired: b too. Nobody is left; the lead stays with the team. */
    add_rep(f, "b", "sdr", NULL, "5", "active=no");
    d = assign(f, NULL);
    assert_null(d.rep);
    assert_int_equal(d.via, VIA_NOBODY_AVAILABLE);
    assert_string_equal(d.team, "sdr");
    assert_int_equal(d.skip_count, 2);
    fixture_free(f);
}

/* Working hours: `require` skips a rep off hours; `prefer` asks them only
 * when nobody in the pool is working. */
static void test_working_hours_policies(void **state)
{
    (void)state;
    fixture *f = fixture_new("first", "require", "false", "none");
    add_rep(f, "a", "sdr", NULL, "5", "timezone=Asia/Tokyo"); /* 21:00 in Tokyo */
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    lead(f, "US", 10, "retail");
    route_decision d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    assert_int_equal(d.skips[0].reason, SKIP_OFF_HOURS);
    /* 20:00 UTC: both off hours */
    d = assign_at(f, "sdr", 1, NULL, NOON + 8 * MS_PER_HOUR);
    assert_null(d.rep);
    assert_int_equal(d.skip_count, 2);
    fixture_free(f);

    f = fixture_new("first", "prefer", "false", "none");
    add_rep(f, "a", "sdr", NULL, "5", "timezone=Asia/Tokyo");
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    lead(f, "US", 10, "retail");
    d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    assert_false(d.after_hours);
    d = assign_at(f, "sdr", 1, NULL, NOON + 8 * MS_PER_HOUR);
    assert_non_null(d.rep);
    assert_true(d.after_hours);
    assert_int_equal(d.skip_count, 0);
    fixture_free(f);
}

/* ---- fairness ------------------------------------------------------------------------------------ */

/* a and b, capacity 1 each, alternate a, b. While a is out of office b takes
 * ten leads. Without catch-up a rejoins level: a, b again. With catch-up a
 * built ten leads of credit (a 10, b -10) and takes the next eleven: the ten
 * missed, and the tie that follows goes to the smaller id. */
static void run_catch_up(const char *catch_up, int expect_run)
{
    fixture *f = fixture_new("first", "ignore", catch_up, "none");
    add_rep(f, "a", "sdr", NULL, "1", "out_of_office=2026-10-07");
    add_rep(f, "b", "sdr", NULL, "1", NULL);
    lead(f, "US", 10, "retail");
    for (int i = 0; i < 10; i++) {
        route_decision d = assign(f, NULL);
        assert_string_equal(d.rep, "b");
        route_release(f->r, f->c, "b", ROUTE_WORKED);
    }
    int run = 0;
    for (;;) {
        route_decision d = assign_at(f, "sdr", 1, NULL, NOON + MS_PER_DAY);
        route_release(f->r, f->c, d.rep, ROUTE_WORKED);
        if (strcmp(d.rep, "a") != 0) break;
        run++;
        assert_true(run <= 20);
    }
    assert_int_equal(run, expect_run);
    fixture_free(f);
}

static void test_catch_up_false_no_burst(void **state)
{
    (void)state;
    run_catch_up("false", 1);
}

static void test_catch_up_true_gets_backlog(void **state)
{
    (void)state;
    run_catch_up("true", 11);
}

/* a and b, capacity 5: a takes the first lead (tie). Rejected: with
 * credit_back rejected a is owed one and gets the next; with none the
 * rotation gives it to b. A return is credited only under returned/both. */
static const char *after_close(const char *credit, enum route_close how)
{
    fixture *f = fixture_new("first", "ignore", "false", credit);
    add_rep(f, "a", "sdr", NULL, "5", NULL);
    add_rep(f, "b", "sdr", NULL, "5", NULL);
    lead(f, "US", 10, "retail");
    route_decision d = assign(f, NULL);
    assert_string_equal(d.rep, "a");
    assert_true(route_release(f->r, f->c, "a", how));
    d = assign(f, NULL);
    static char rep[8];
    snprintf(rep, sizeof rep, "%s%s", d.rep, d.via == VIA_CREDIT ? "*" : "");
    fixture_free(f);
    return rep;
}

static void test_credit_back_policy(void **state)
{
    (void)state;
    assert_string_equal(after_close("rejected", ROUTE_REJECTED), "a*");
    assert_string_equal(after_close("none", ROUTE_REJECTED), "b");
    assert_string_equal(after_close("rejected", ROUTE_RETURNED), "b");
    assert_string_equal(after_close("returned", ROUTE_RETURNED), "a*");
    assert_string_equal(after_close("both", ROUTE_REJECTED), "a*");
    assert_string_equal(after_close("both", ROUTE_WORKED), "b");
    assert_string_equal(after_close("both", ROUTE_REASSIGNED), "b");
}

/* ---- no rep ------------------------------------------------------------------------------------- */

static void test_no_rep_available(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    lead(f, "DE", 50, "retail");
    route_decision d = assign(f, NULL);
    assert_null(d.rep);
    assert_int_equal(d.via, VIA_EMPTY_POOL);
    assert_string_equal(d.team, "sdr");
    assert_string_equal(d.territory, "emea");
    /* a rep in the team but not the territory does not take it */
    add_rep(f, "a", "sdr", "fin", "5", NULL);
    d = assign(f, NULL);
    assert_int_equal(d.via, VIA_EMPTY_POOL);
    /* with no team asked and no rule matching there is no team to keep it */
    fixture_free(f);
}

/* ---- determinism and state ---------------------------------------------------------------------- */

/* A day of mixed leads, with closes, on a table of five reps. */
static void load_five(fixture *f, bool reversed)
{
    static const struct {
        const char *id, *territory, *cap, *extra;
    } reps[] = {
        {"r1", "emea", "3", NULL},
        {"r2", "emea emea-ent", "6", NULL},
        {"r3", NULL, "4", "out_of_office=2026-10-08"},
        {"r4", "fin", "2", NULL},
        {"r5", NULL, "9", "timezone=Europe/Berlin"},
    };
    for (size_t k = 0; k < ARRAY_LEN(reps); k++) {
        size_t i = reversed ? ARRAY_LEN(reps) - 1 - k : k;
        add_rep(f, reps[i].id, "sdr", reps[i].territory, reps[i].cap, reps[i].extra);
    }
}

static void run_leads(fixture *f, int from, int to, strbuf *log)
{
    static const char *const countries[] = {"DE", "US", "FR", "BR", "GB", "US", "JP"};
    static const char *const industries[] = {"retail", "fintech", "software"};
    for (int i = from; i < to; i++) {
        lead(f, countries[i % 7], (i * 37) % 2000, industries[i % 3]);
        route_decision d = assign_at(f, "sdr", 1, NULL, NOON + i * 20 * MS_PER_MINUTE);
        route_decision_to_json(&d, log);
        strbuf_putc(log, '\n');
        if (d.rep && i % 3 == 0) route_release(f->r, f->c, d.rep, i % 2 ? ROUTE_REJECTED : ROUTE_WORKED);
    }
}

/* Fails with the first line where two logs differ. */
static void assert_same_log(const char *a, const char *b)
{
    for (int line = 1;; line++) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || memcmp(a, b, la) != 0)
            fail_msg("line %d differs:\n%.*s\n%.*s", line, (int)la, a, (int)lb, b);
        if (!a[la]) return;
        a += la + 1;
        b += lb + 1;
    }
}

static void test_determinism(void **state)
{
    (void)state;
    strbuf one, two;
    strbuf_init(&one);
    strbuf_init(&two);
    fixture *f = fixture_new("first", "ignore", "false", "rejected");
    fixture *g = fixture_new("first", "ignore", "false", "rejected");
    load_five(f, false);
    load_five(g, true); /* the order of the table does not matter: ties go by id */
    run_leads(f, 0, 200, &one);
    run_leads(g, 0, 200, &two);
    assert_same_log(one.data, two.data);
    assert_non_null(strstr(one.data, "\"via\":\"credit\""));
    assert_non_null(strstr(one.data, "\"reason\":\"at_capacity\""));
    fixture_free(f);
    fixture_free(g);
    strbuf_free(&one);
    strbuf_free(&two);
}

/* Half the leads, export, a new router (reps read in another order) takes
 * the state, the other half: the same decisions as one straight run. */
static void test_export_import_continues(void **state)
{
    (void)state;
    strbuf straight, resumed, bytes;
    strbuf_init(&straight);
    strbuf_init(&resumed);
    strbuf_init(&bytes);
    fixture *f = fixture_new("first", "ignore", "true", "both");
    load_five(f, false);
    run_leads(f, 0, 300, &straight);
    fixture_free(f);

    f = fixture_new("first", "ignore", "true", "both");
    load_five(f, false);
    run_leads(f, 0, 150, &resumed);
    route_export(f->r, &bytes);
    fixture_free(f);
    f = fixture_new("first", "ignore", "true", "both");
    load_five(f, true);
    add_rep(f, "r6", "ae", NULL, "1", NULL); /* a rep added since: starts fresh */
    size_t unknown = 99;
    assert_true(route_import(f->r, bytes.data, bytes.len, &unknown));
    assert_int_equal(unknown, 0);
    run_leads(f, 150, 300, &resumed);
    assert_same_log(straight.data, resumed.data);

    /* Bad bytes change nothing. */
    strbuf again;
    strbuf_init(&again);
    route_export(f->r, &again);
    assert_false(route_import(f->r, "nonsense", 8, NULL));
    assert_false(route_import(f->r, bytes.data, bytes.len - 3, NULL)); /* cut short */
    char *bad = strdup(bytes.data);
    char *tab = strchr(bad, '\t');
    *(tab + 1) = 'x'; /* a credit that is not a number, on the first line */
    assert_false(route_import(f->r, bad, strlen(bad), NULL));
    strbuf now;
    strbuf_init(&now);
    route_export(f->r, &now);
    assert_string_equal(again.data, now.data);
    /* A rep the table lacks is counted, not an error. */
    const char *extra = "baton-route-state 1\ngone\t5\t0\t0\t7\n";
    assert_true(route_import(f->r, extra, strlen(extra), &unknown));
    assert_int_equal(unknown, 1);
    free(bad);
    strbuf_free(&now);
    strbuf_free(&again);
    fixture_free(f);
    strbuf_free(&straight);
    strbuf_free(&resumed);
    strbuf_free(&bytes);
}

/* ---- output -------------------------------------------------------------------------------------- */

static void test_decision_json_and_text(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "rep-7", "sdr", "emea", "1", "out_of_office=2026-10-07");
    add_rep(f, "rep-8", "sdr", "emea", "1", NULL);
    add_rep(f, "rep-9", "sdr", "emea", "1", "active=false");
    lead(f, "FR", 10, "retail");
    route_decision d = assign(f, "rep-7");
    strbuf b;
    strbuf_init(&b);
    route_decision_to_json(&d, &b);
    assert_string_equal(b.data, "{\"at\":\"2026-10-07T12:00:00Z\",\"rep\":\"rep-8\",\"team\":\"sdr\","
                                "\"territory\":\"emea\",\"via\":\"rotation\",\"rule\":\"emea\",\"owner\":\"rep-7\","
                                "\"owner_skipped\":\"out_of_office\",\"owner_ignored\":false,\"after_hours\":false,"
                                "\"skipped\":[{\"rep\":\"rep-7\",\"reason\":\"out_of_office\"},"
                                "{\"rep\":\"rep-9\",\"reason\":\"inactive\"}],\"more_skipped\":0}");
    strbuf_reset(&b);
    route_decision_to_text(&d, &b);
    assert_non_null(strstr(b.data, "rep:       rep-8 (next in the pool's weighted round-robin)\n"));
    assert_non_null(strstr(b.data, "owner:     rep-7 passed over: out of office\n"));
    assert_non_null(strstr(b.data, "           rep-9 (inactive)\n"));
    strbuf_free(&b);
    fixture_free(f);
}

/* More skipped reps than a decision names: the rest are counted. */
static void test_skips_capped(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    for (int i = 0; i < ROUTE_MAX_SKIPS + 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "rep-%02d", i);
        add_rep(f, id, "sdr", NULL, "1", "active=false");
    }
    lead(f, "US", 10, "retail");
    route_decision d = assign(f, NULL);
    assert_int_equal(d.skip_count, ROUTE_MAX_SKIPS);
    assert_int_equal(d.skips_more, 5);
    fixture_free(f);
}

/* ---- the reps CSV ---------------------------------------------------------------------------------- */

typedef struct refusals {
    uint64_t lines[16];
    char why[16][300];
    size_t count;
} refusals;

static void refused(void *ctx, uint64_t line, const char *why)
{
    refusals *r = ctx;
    if (r->count == 16) return;
    r->lines[r->count] = line;
    snprintf(r->why[r->count++], 300, "%s", why);
}

static size_t load_csv(fixture *f, const char *text, refusals *out)
{
    FILE *in = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(in);
    memset(out, 0, sizeof *out);
    size_t n = route_load_reps(f->r, in, refused, out);
    fclose(in);
    return n;
}

static void test_csv_errors_with_line_numbers(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    refusals r;
    const char *csv = "id,name,email,team,territory,capacity,timezone,hours,workdays,out_of_office,active\n"
                      "rep-1,Ana Lima,ana@acme.example,sdr,emea,10,Europe/Berlin,08:00-16:30,mon-fri,,true\n"
                      "rep-2,Ben,ben@acme.example,sdr,,0,,,,,\n"
                      "rep-3,Cy,cy@acme.example,sdr,,5,,,mon-frx,,\n"
                      "rep-4,Dee,dee@acme.example,sdr,,5\n"
                      "rep-5,\"Eli, Jr.\",eli@acme.example,sdr,\"emea fin\",5,Mars/Base,,,,\n"
                      "rep-6,Fia,fia@acme.example,ae,,3,America/New_York,,sun-thu,2026-12-21..2027-01-01 2027-02-14,no\n"
                      "rep-7,Gil,gil@acme.example,sdr,,4,,17:00-09:00,,,\n"
                      "rep-8,Hoa,hoa@acme.example,sdr,,4,,,,2026-13-01,\n"
                      "rep 9,Ira,ira@acme.example,sdr,,4,,,,,\n"
                      ",Jan,jan@acme.example,sdr,,4,,,,,\n"
                      "rep-11,Kai,kai@acme.example,,,4,,,,,maybe\n";
    assert_int_equal(load_csv(f, csv, &r), 2);
    static const struct {
        uint64_t line;
        const char *why;
    } want[] = {
        {3, "column 'capacity': '0' is not a whole number from 1 to 1000 (open handoffs at once)"},
        {4, "column 'workdays': 'mon-frx' is not a weekday or a range of them (mon..sun, as in mon-fri)"},
        {5, "the row has a different number of columns than the header"},
        {6, "column 'timezone': "},
        {8, "column 'hours': '17:00-09:00' is not a range of hours such as 09:00-17:30"},
        {9, "column 'out_of_office': '2026-13-01' is not a date or a range of dates (2026-12-21..2027-01-01)"},
        {10, "column 'id': 'rep 9' is not an id (up to 64 bytes, no spaces)"},
        {11, "column 'id': every rep needs an id"},
        {12, "column 'team': every rep belongs to a team"},
    };
    assert_int_equal(r.count, ARRAY_LEN(want));
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        assert_int_equal(r.lines[i], want[i].line);
        if (strncmp(r.why[i], want[i].why, strlen(want[i].why)) != 0)
            fail_msg("line %llu: got '%s', want '%s'", (unsigned long long)want[i].line, r.why[i], want[i].why);
    }
    assert_non_null(strstr(r.why[3], "Mars/Base"));
    /* The two good rows, as read. */
    assert_int_equal(route_rep_count(f->r), 2);
    strbuf b;
    strbuf_init(&b);
    route_rep_to_json(f->r, 1, &b);
    assert_string_equal(b.data, "{\"id\":\"rep-6\",\"name\":\"Fia\",\"email\":\"fia@acme.example\",\"team\":\"ae\","
                                "\"territories\":[],\"capacity\":3,\"timezone\":\"America/New_York\","
                                "\"hours\":\"09:00-17:00\",\"workdays\":[\"mon\",\"tue\",\"wed\",\"thu\",\"sun\"],"
                                "\"out_of_office\":[{\"from\":\"2026-12-21\",\"to\":\"2027-01-01\"},"
                                "{\"from\":\"2027-02-14\",\"to\":\"2027-02-14\"}],\"active\":false,\"open\":0,"
                                "\"owed\":0,\"assigned\":0}");
    strbuf_free(&b);

    /* A header without capacity reads nothing; an unknown column is named. */
    assert_int_equal(load_csv(f, "id,team,capacty\nrep-1,sdr,5\n", &r), 0);
    assert_int_equal(r.count, 2);
    assert_int_equal(r.lines[0], 1);
    assert_string_equal(r.why[0], "unknown column 'capacty' is ignored; did you mean 'capacity'?");
    assert_string_equal(r.why[1], "the header has no 'capacity' column");
    assert_int_equal(load_csv(f, "", &r), 0);
    assert_string_equal(r.why[0], "no header row");
    fixture_free(f);
}

/* Reps sharing a zone and working pattern share one calendar; a rep set
 * again keeps its place in the rotation and its open handoffs. */
static void test_set_rep_again_keeps_state(void **state)
{
    (void)state;
    fixture *f = fixture_default();
    add_rep(f, "a", "sdr", NULL, "2", NULL);
    add_rep(f, "b", "sdr", NULL, "2", NULL);
    lead(f, "US", 10, "retail");
    assert_string_equal(assign(f, NULL).rep, "a");
    add_rep(f, "a", "sdr", "emea", "1", NULL); /* capacity now 1, one open: full */
    route_decision d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    d = assign(f, NULL);
    assert_string_equal(d.rep, "b");
    assert_int_equal(d.skips[0].reason, SKIP_AT_CAPACITY);
    char why[300];
    rep_fields bad = {.id = "a", .team = "sdr", .capacity = "1", .hours = "nine to five"};
    assert_false(route_set_rep(f->r, &bad, why, sizeof why));
    assert_string_equal(why, "column 'hours': 'nine to five' is not a range of hours such as 09:00-17:30");
    assert_int_equal(route_rep_count(f->r), 2);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contract_routing_compiled),
        cmocka_unit_test(test_account_owner_first),
        cmocka_unit_test(test_owner_away_goes_to_owners_team),
        cmocka_unit_test(test_owner_other_team_unknown_ignored),
        cmocka_unit_test(test_territory_rules),
        cmocka_unit_test(test_weighted_round_robin_is_fair),
        cmocka_unit_test(test_capacity_respected_and_released),
        cmocka_unit_test(test_out_of_office_skipped_with_reason),
        cmocka_unit_test(test_inactive_skipped),
        cmocka_unit_test(test_working_hours_policies),
        cmocka_unit_test(test_catch_up_false_no_burst),
        cmocka_unit_test(test_catch_up_true_gets_backlog),
        cmocka_unit_test(test_credit_back_policy),
        cmocka_unit_test(test_no_rep_available),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_export_import_continues),
        cmocka_unit_test(test_decision_json_and_text),
        cmocka_unit_test(test_skips_capped),
        cmocka_unit_test(test_csv_errors_with_line_numbers),
        cmocka_unit_test(test_set_rep_again_keeps_state),
    };
    return cmocka_run_group_tests_name("route", tests, NULL, NULL);
}
