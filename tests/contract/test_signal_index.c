/* The signal index: contract_signal_candidates() must say, for every signal
 * at once, exactly what contract_signal_may_match() says for each one; a
 * signal whose guard decides (signal_info.guard_decides) must hold exactly
 * when it is a candidate; and the fields read where the engine keeps them
 * (eval_env.at, field_info.from and .kept) must read as the same fields in
 * one array. */
#include "../harness.h"
#include "contract/internal.h" /* STR_ID_UNKNOWN: a string whose id was never looked up */

/* One value a field may hold. */
typedef struct option {
    value v;
} option;

#define MAX_OPTIONS 1024

typedef struct pool {
    option o[MAX_OPTIONS];
    size_t count;
} pool;

static void add(pool *p, value v)
{
    assert_true(p->count < MAX_OPTIONS);
    p->o[p->count++].v = v;
}

/* Every way a decoder may hand over a string: with its interned id, or
 * not looked up yet; an unknown string as -1 or not looked up. */
static void add_string(pool *p, const contract *c, const char *s)
{
    value v = {.type = VAL_STR};
    v.as.str.s = s;
    v.as.str.len = (uint32_t)strlen(s);
    v.as.str.id = contract_intern_find(c, s, strlen(s));
    add(p, v);
    v.as.str.id = STR_ID_UNKNOWN;
    add(p, v);
}

static void add_others(pool *p)
{
    value v = {.type = VAL_NULL};
    add(p, v);
    v.type = VAL_BOOL;
    v.as.b = true;
    add(p, v);
    v.type = VAL_NUM;
    v.as.num = 3;
    add(p, v);
    v.type = VAL_DUR;
    v.as.ms = 5;
    add(p, v);
}

/* A small deterministic generator, so a failure repeats. */
static uint32_t next(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

/* Checks the places contract_field_slot() chose: an event field at its
 * slot, a state field at its enum state_field, the others numbered densely
 * in slot order where they are kept. */
static void check_places(const contract *c)
{
    static const char *const state_paths[STATE_FIELD_COUNT] = {
        [STATE_LEAD_ID] = "lead.id",         [STATE_LEAD_STAGE] = "lead.stage",
        [STATE_LEAD_OWNER] = "lead.owner",   [STATE_LEAD_STATUS] = "lead.status",
        [STATE_ACCOUNT_DOMAIN] = "account.domain"};
    uint16_t next_kept[FIELD_FROM_COUNT] = {0};
    for (size_t i = 0; i < contract_field_count(c); i++) {
        const field_info *f = contract_field(c, i);
        assert_true(f->from < FIELD_FROM_COUNT);
        if (f->from == FIELD_FROM_EVENT) {
            assert_int_equal(f->scope, SCOPE_EVENT);
            assert_int_equal(f->kept, i);
            continue;
        }
        int state = -1;
        for (int k = 0; k < STATE_FIELD_COUNT; k++)
            if (strcmp(f->path, state_paths[k]) == 0) state = k;
        if (state >= 0) {
            assert_int_equal(f->from, FIELD_FROM_STATE);
            assert_int_equal(f->kept, state);
            continue;
        }
        assert_int_equal(f->from, f->scope == SCOPE_LEAD ? FIELD_FROM_LEAD : FIELD_FROM_ACCOUNT);
        assert_int_equal(f->kept, next_kept[f->from]++);
    }
}

/* `env` set to read the fields `f` where the engine would keep them. */
static void place_fields(const contract *c, const value *f, value *kept[FIELD_FROM_COUNT], eval_env *env)
{
    for (size_t i = 0; i < contract_field_count(c); i++) {
        const field_info *fi = contract_field(c, i);
        kept[fi->from][fi->kept] = f[i];
    }
    *env = (eval_env){.at = (const value *const *)kept};
}

/* Compares the index with the per-signal guard over `trials` random
 * assignments of the pool's values to every field. Returns how many
 * (trial, signal) pairs were candidates, so the caller can check that both
 * outcomes were exercised. */
static size_t compare(const contract *c, const pool *p, int trials)
{
    size_t fields = contract_field_count(c), signals = contract_signal_count(c);
    value *f = calloc(fields ? fields : 1, sizeof *f);
    assert_non_null(f);
    value *kept[FIELD_FROM_COUNT];
    for (int k = 0; k < FIELD_FROM_COUNT; k++) {
        kept[k] = calloc(fields + STATE_FIELD_COUNT, sizeof *kept[k]); /* a state field sits at its enum */
        assert_non_null(kept[k]);
    }
    check_places(c);
    uint64_t state = 42;
    size_t hits = 0;
    for (int t = 0; t < trials; t++) {
        for (size_t i = 0; i < fields; i++) {
            /* the first trials set all fields alike, so each option meets every guard */
            size_t k = t < (int)p->count ? (size_t)t : next(&state) % p->count;
            f[i] = p->o[k].v;
        }
        uint64_t out[CONTRACT_SIGNAL_WORDS];
        memset(out, 0xa5, sizeof out); /* every bit must be written */
        contract_signal_candidates(c, &(eval_env){.fields = f}, out);
        for (size_t s = 0; s < CONTRACT_MAX_SIGNALS; s++) {
            bool got = (out[s / 64] >> (s % 64)) & 1;
            bool want = s < signals && contract_signal_may_match(c, s, f);
            if (got != want)
                fail_msg("trial %d, signal %zu (%s): index says %d, guard says %d", t, s,
                         s < signals ? contract_signal(c, s)->name : "past the end", got, want);
            hits += got;
            if (s >= signals) continue;
            const signal_info *si = contract_signal(c, s);
            bool holds = program_holds(si->when, &(eval_env){.fields = f});
            if (holds && !got) fail_msg("trial %d: signal %s holds but is no candidate", t, si->name);
            if (si->guard_decides && holds != got)
                fail_msg("trial %d: signal %s is a candidate but does not hold", t, si->name);
        }
        /* the same fields, read in place */
        eval_env at;
        place_fields(c, f, kept, &at);
        uint64_t in_place[CONTRACT_SIGNAL_WORDS];
        contract_signal_candidates(c, &at, in_place);
        assert_memory_equal(in_place, out, sizeof out);
        for (size_t s = 0; s < signals; s++)
            assert_int_equal(program_holds(contract_signal(c, s)->when, &at),
                             program_holds(contract_signal(c, s)->when, &(eval_env){.fields = f}));
        for (size_t i = 0; i < contract_fit_count(c); i++)
            assert_int_equal(program_holds(contract_fit(c, i)->when, &at),
                             program_holds(contract_fit(c, i)->when, &(eval_env){.fields = f}));
    }
    for (int k = 0; k < FIELD_FROM_COUNT; k++) free(kept[k]);
    free(f);
    return hits;
}

static void test_example_contract(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");

    static const char *const strings[] = {
        "Asset Downloaded", "Demo Requested", "Quote Requested", "Consultation Requested",
        "Email Replied", "Workload Run", "Webinar Attended", "Email Opened", "Email Link Clicked",
        "pricing", "blog", "docs", "security-whitepaper", "soc2-report", "dpa", "pen-test-summary",
        "customer", "software", "Page Viewed", "asset downloaded", "", "pricing ", "nothing at all",
    };
    pool *p = calloc(1, sizeof *p);
    assert_non_null(p);
    add_others(p);
    for (size_t i = 0; i < ARRAY_LEN(strings); i++) add_string(p, c, strings[i]);
    size_t hits = compare(c, p, 20000);
    size_t signals = contract_signal_count(c);
    assert_true(hits > 0 && hits < 20000 * signals);
    free(p);
    contract_free(c);
}

/* A contract with more signals than one word of bits holds, guards on
 * three fields, guards inside macros and after other conjuncts, `or`
 * chains, lists, and conditions that have no guard at all. */
static void many_signals(strbuf *y_out)
{
    strbuf y;
    strbuf_init(&y);
    strbuf_puts(&y, "contract: index\n"
                    "version: 1\n"
                    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
                    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
                    "lists:\n"
                    "  assets: [a0, a1, a2, shared]\n"
                    "  big: [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16]\n"
                    "macros:\n"
                    "  on_e3: event.name == \"E3\"\n"
                    "signals:\n");
    for (int i = 0; i < 150; i++) {
        strbuf_printf(&y, "  s%d: { kind: engagement, when: '", i);
        switch (i % 9) {
        case 0: strbuf_printf(&y, "event.name == \"E%d\"", i % 10); break;
        case 1: strbuf_printf(&y, "page.category == \"C%d\" and page.seconds > 10", i % 5); break;
        case 2: strbuf_printf(&y, "event.name == \"E%d\" or event.name == \"X%d\"", i % 10, i); break;
        case 3: strbuf_puts(&y, "properties.asset in assets"); break;
        case 4: strbuf_printf(&y, "page.seconds > %d", i); break;
        case 5: strbuf_puts(&y, "on_e3 and properties.plan == \"pro\""); break;
        case 6: strbuf_printf(&y, "properties.plan == \"P%d\" or event.name == \"E1\"", i % 4); break;
        case 7: strbuf_puts(&y, "reply.to_human and properties.asset == \"shared\""); break;
        default: strbuf_puts(&y, i % 2 ? "properties.asset in big" : "event.name in [\"E1\", \"E2\"]"); break;
        }
        strbuf_puts(&y, "' }\n");
    }
    /* fields of every place, in slots between the event's */
    strbuf_puts(&y, "fit:\n"
                    "  f0: 'lead.title == \"cto\" and account.employees > 5'\n"
                    "  f1: 'lead.stage == \"nurture\" or account.domain == \"b3\" or lead.seniority == \"pro\"'\n"
                    "  f2: 'account.industry in assets and lead.status == \"open\"'\n");
    strbuf_puts(&y, "gates:\n  - { name: g, when: s0, to: sales }\n"
                    "context: { did: '{trigger}' }\n"
                    "sla: { first_touch: 4h, meeting: 10 business days }\n"
                    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n");
    assert_false(y.oom);
    *y_out = y;
}

static void test_many_signals(void **state)
{
    (void)state;
    strbuf yaml;
    many_signals(&yaml);
    contract *c = must_parse("index.yaml", yaml.data);
    assert_int_equal(contract_signal_count(c), 150);

    pool *p = calloc(1, sizeof *p);
    assert_non_null(p);
    add_others(p);
    char names[64][8];
    int n = 0;
    for (int i = 0; i < 10; i++) snprintf(names[n++], sizeof names[0], "E%d", i);
    for (int i = 0; i < 5; i++) snprintf(names[n++], sizeof names[0], "C%d", i);
    for (int i = 0; i < 4; i++) snprintf(names[n++], sizeof names[0], "P%d", i);
    for (int i = 0; i < 3; i++) snprintf(names[n++], sizeof names[0], "a%d", i);
    for (int i = 2; i < 150; i += 27) snprintf(names[n++], sizeof names[0], "X%d", i);
    static const char *const others[] = {"shared", "pro", "b3", "b16", "E", "E10", "", "unknown"};
    for (int i = 0; i < n; i++) add_string(p, c, names[i]);
    for (size_t i = 0; i < ARRAY_LEN(others); i++) add_string(p, c, others[i]);
    size_t hits = compare(c, p, 20000);
    assert_true(hits > 0 && hits < 20000 * 150);
    /* the whole condition a guard: one equality, an `or` of them on one field, a list */
    for (int i = 0; i < 150; i++) {
        bool whole = i % 9 == 0 || i % 9 == 2 || i % 9 == 3; /* not a literal list, nor one of 17 items */
        assert_int_equal(contract_signal(c, (size_t)i)->guard_decides, whole);
    }

    /* Spot checks that do not lean on the guard itself. */
    value *f = calloc(contract_field_count(c), sizeof *f);
    assert_non_null(f);
    uint64_t out[CONTRACT_SIGNAL_WORDS];
    contract_signal_candidates(c, &(eval_env){.fields = f}, out); /* every field missing */
    assert_false(out[0] & 1);              /* s0 needs event.name == "E0" */
    assert_true((out[0] >> 4) & 1);        /* s4 has no guard */
    assert_true((out[2] >> (148 - 128)) & 1); /* s148 (case 4) has none either */
    free(f);
    free(p);
    contract_free(c);
    strbuf_free(&yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_contract),
        cmocka_unit_test(test_many_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
