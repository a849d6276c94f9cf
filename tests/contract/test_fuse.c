/* The fused form the evaluator runs (compile.c, fuse()) against the program
 * as compiled: over random conditions and random environments, both give
 * the same value and ask the history the same questions in the same order. */
#include "../harness.h"
#include "contract/internal.h" /* program.code / program.run */

static uint32_t next(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

/* ---- random conditions over properties.f0 .. f3 ------------------------------ */

static void atom(strbuf *b, uint64_t *st)
{
    unsigned f = next(st) % 4, n = next(st) % 4;
    static const char *const cmp[] = {"==", "!=", "<", "<=", ">", ">="};
    switch (next(st) % 9) {
    case 0: strbuf_printf(b, "properties.f%u", f); break;
    case 1: strbuf_printf(b, "properties.f%u %s \"s%u\"", f, next(st) % 2 ? "==" : "!=", n); break;
    case 2: strbuf_printf(b, "properties.f%u %s %u", f, cmp[next(st) % 6], n); break;
    case 3: strbuf_printf(b, "properties.f%u %s", f, next(st) % 2 ? "in l1" : "not in l1"); break;
    case 4: strbuf_printf(b, "properties.f%u in [\"s1\", \"s3\"]", f); break;
    case 5: strbuf_printf(b, "exists(properties.f%u)", f); break;
    case 6: strbuf_puts(b, next(st) % 2 ? "true" : "false"); break;
    case 7: strbuf_printf(b, "\"s%u\" == properties.f%u", n, f); break;
    default: strbuf_printf(b, "properties.f%u + 1 >= %u", f, n); break;
    }
}

static void condition(strbuf *b, uint64_t *st, int depth)
{
    if (depth == 0 || next(st) % 4 == 0) {
        atom(b, st);
        return;
    }
    switch (next(st) % 5) {
    case 4: /* and/or under another operator: what a jump leaves must be exactly right */
    {
        bool left = next(st) % 2;
        strbuf_puts(b, left ? "(properties.f0 == ((" : "(((");
        condition(b, st, depth - 1);
        strbuf_puts(b, next(st) % 2 ? ") or (" : ") and (");
        condition(b, st, depth - 1);
        strbuf_puts(b, left ? ")))" : ")) != true)");
    }
        break;
    case 0: /* a chain, as conditions are mostly written: a and b or c and d */
        for (unsigned i = 0, n = 2 + next(st) % 3; i < n; i++) {
            if (i) strbuf_puts(b, next(st) % 3 ? " and " : " or ");
            if (next(st) % 2) {
                atom(b, st);
            } else {
                strbuf_putc(b, '(');
                condition(b, st, depth - 1);
                strbuf_putc(b, ')');
            }
        }
        break;
    case 1:
    case 2:
        strbuf_putc(b, '(');
        condition(b, st, depth - 1);
        strbuf_puts(b, next(st) % 2 ? ") and (" : ") or (");
        condition(b, st, depth - 1);
        strbuf_putc(b, ')');
        break;
    default:
        strbuf_puts(b, next(st) % 2 ? "not (" : "not not (");
        condition(b, st, depth - 1);
        strbuf_putc(b, ')');
        break;
    }
}

#define RANDOM_SIGNALS 160

static const char *const fixed =
    "signals:\n"
    "  sa: { kind: intent, when: 'event.name == \"s0\"' }\n"
    "  sb: { kind: engagement, when: 'event.name == \"s1\" or event.name == \"s2\"' }\n"
    "  sc: { kind: engagement, when: 'reply.to_human and not reply.automatic' }\n";

static const char *const rest =
    "points: { per_signal: { sa: 5, sb: 1 } }\n"
    "fit:\n"
    "  fa: account.industry in l1 and account.employees >= 200\n"
    "  fb: not (account.status == \"s1\")\n"
    "gates:\n"
    "  - { name: g1, when: '(sa or sb) and fit.fb', to: sales }\n"
    "  - { name: g2, when: 'sc and fit.fb', to: sales }\n"
    "  - { name: g3, when: 'fit.fa and fit.fb and count(intent, 14d) >= 1 and since(intent) <= 14d', to: sales }\n"
    "  - { name: g4, when: 'fit.fa and (count(engagement, 30d) >= 5 or score >= 0.7) and not sb', to: sales }\n"
    "  - { name: g5, when: '(sa and sb) or (fit.fa and not fit.fb) or points > 3', to: sales }\n"
    "  - { name: g6, when: 'distinct(lead, engagement, 14d) >= 3 and count(engagement, 14d, account) >= 6', to: sales }\n"
    "  - { name: g7, when: 'not (count(sa, 7d) * 2 + 1 >= 5) and last(sb) > 2026-01-01 and now - last(sb) < 3d', to: sales }\n"
    /* counts against every comparison, whole and fractional, negative and
     * past any count: the history may stop where each turns */
    "  - { name: g8, when: 'count(sa, 7d) > 2 or count(sb, 7d) > 2.5 or count(sc, 1d) <= 1 or count(sa, 2d) < 3.5', to: sales }\n"
    "  - { name: g9, when: 'not (count(engagement, 7d, account) <= 3.5) and distinct(lead, sb, 7d) < 2', to: sales }\n"
    "  - { name: g10, when: 'count(sa, 7d) >= 0 and count(sb, 7d) > -1 and count(sc, 7d) < 0.5 or count(sa, 1d) == 3', to: sales }\n"
    "  - { name: g11, when: 'distinct(lead, engagement, 7d) >= 5000000000 or count(sa, 7d) != 2 or count(sb, 7d) >= -2.5', to: sales }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";

static contract *random_contract(uint64_t seed)
{
    strbuf y;
    strbuf_init(&y);
    strbuf_puts(&y, "contract: fuse\n"
                    "version: 1\n"
                    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
                    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
                    "lists: { l1: [s0, s1, s2] }\n");
    strbuf_puts(&y, fixed);
    uint64_t st = seed;
    for (int i = 0; i < RANDOM_SIGNALS; i++) {
        strbuf_printf(&y, "  r%d: { kind: engagement, when: '", i);
        condition(&y, &st, 4);
        strbuf_puts(&y, "' }\n");
    }
    strbuf_puts(&y, rest);
    assert_false(y.oom);
    contract *c = must_parse("fuse.yaml", y.data);
    strbuf_free(&y);
    return c;
}

/* ---- environments -------------------------------------------------------------- */

typedef struct call {
    char what; /* 'c' count, 'l' last, 'd' distinct */
    uint32_t target;
    duration_ms window;
    int scope;
} call;

typedef struct history {
    uint32_t count_answer, distinct_answer;
    bool has_hit;
    time_ms last_hit;
    call log[64];
    unsigned logged;
} history;

static void note(history *h, char what, uint32_t target, duration_ms window, int scope)
{
    assert_true(h->logged < ARRAY_LEN(h->log));
    call *k = &h->log[h->logged++];
    memset(k, 0, sizeof *k); /* the padding too: logs are compared with memcmp */
    k->what = what;
    k->target = target;
    k->window = window;
    k->scope = scope;
}

/* The answers stop at `enough`, as far as eval_env.count lets them: the
 * fused form asks with the count its comparison turns at, the compiled
 * form for the exact answer, and both must reach the same value. */
static uint32_t count_cb(void *ctx, uint32_t target, duration_ms window, enum agg_scope scope,
                         uint32_t enough)
{
    note(ctx, 'c', target, window, scope);
    uint32_t n = ((history *)ctx)->count_answer;
    return n < enough ? n : enough;
}

static bool last_cb(void *ctx, uint32_t target, time_ms *when)
{
    history *h = ctx;
    note(h, 'l', target, 0, 0);
    *when = h->last_hit;
    return h->has_hit;
}

static uint32_t distinct_cb(void *ctx, uint32_t target, duration_ms window, uint32_t enough)
{
    note(ctx, 'd', target, window, 0);
    uint32_t n = ((history *)ctx)->distinct_answer;
    return n < enough ? n : enough;
}

static void random_value(const contract *c, value *v, uint64_t *st)
{
    static const char *const strings[] = {"s0", "s1", "s2", "s3", "zz", ""};
    memset(v, 0, sizeof *v);
    switch (next(st) % 7) {
    case 0: v->type = VAL_NULL; break;
    case 1: v->type = VAL_BOOL; v->as.b = next(st) % 2; break;
    case 2: v->type = VAL_NUM; v->as.num = (double)(next(st) % 5) - 0.5 * (next(st) % 2); break;
    case 3: v->type = VAL_DUR; v->as.ms = (int64_t)(next(st) % 4) * MS_PER_DAY; break;
    default: {
        const char *s = strings[next(st) % ARRAY_LEN(strings)];
        v->type = VAL_STR;
        v->as.str.s = s;
        v->as.str.len = (uint32_t)strlen(s);
        v->as.str.id = next(st) % 4 ? contract_intern_find(c, s, strlen(s)) : STR_ID_UNKNOWN;
        break;
    }
    }
}

static bool same(const value *a, const value *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case VAL_NULL: return true;
    case VAL_BOOL: return a->as.b == b->as.b;
    case VAL_NUM: return memcmp(&a->as.num, &b->as.num, sizeof a->as.num) == 0;
    case VAL_STR:
        return a->as.str.s == b->as.str.s && a->as.str.len == b->as.str.len && a->as.str.id == b->as.str.id;
    default: return a->as.ms == b->as.ms;
    }
}

/* Runs a program both ways; fails the test on any difference. */
static void both_ways(const contract *c, const program *p, eval_env *env, const char *what, int trial)
{
    program compiled = *p;
    compiled.run = compiled.code;
    compiled.run_len = compiled.len;
    compiled.tests_only = false;
    history *h = env->ctx;
    h->logged = 0;
    value want = program_eval(&compiled, env);
    call log[64];
    unsigned logged = h->logged;
    memcpy(log, h->log, sizeof log);
    h->logged = 0;
    value got = program_eval(p, env);
    if (h->logged != logged || memcmp(h->log, log, logged * sizeof *log) != 0)
        fail_msg("%s, trial %d: the history was asked different questions", what, trial);
    h->logged = 0;
    if (!same(&want, &got) || program_holds(p, env) != (want.type == VAL_BOOL && want.as.b)) {
        strbuf d;
        strbuf_init(&d);
        program_disassemble(c, p, &d);
        strbuf_puts(&d, "fused:\n");
        for (uint32_t i = 0; i < p->run_len; i++)
            strbuf_printf(&d, "%3u  op %u branch %u target %u arg %u konst %u\n", i, p->run[i].op,
                          p->run[i].branch, p->run[i].target, p->run[i].arg, p->run[i].konst);
        fprintf(stderr, "%s", d.data); /* longer than cmocka's message */
        strbuf_free(&d);
        fail_msg("%s, trial %d: compiled gives type %d, fused gives type %d (bool %d / %d)", what, trial,
                 want.type, got.type, want.as.b, got.as.b);
    }
}

static void run_trials(const contract *c, int trials, uint64_t seed)
{
    size_t fields = contract_field_count(c);
    value *f = calloc(fields, sizeof *f);
    bool signal_now[CONTRACT_MAX_SIGNALS], fit[CONTRACT_MAX_FIT];
    assert_non_null(f);
    uint64_t st = seed;
    history h;
    for (int t = 0; t < trials; t++) {
        for (size_t i = 0; i < fields; i++) random_value(c, &f[i], &st);
        for (size_t i = 0; i < ARRAY_LEN(signal_now); i++) signal_now[i] = next(&st) % 2;
        for (size_t i = 0; i < ARRAY_LEN(fit); i++) fit[i] = next(&st) % 3 != 0;
        memset(&h, 0, sizeof h);
        h.count_answer = next(&st) % 8;
        h.distinct_answer = next(&st) % 5;
        h.has_hit = next(&st) % 3 != 0;
        h.last_hit = 1800000000000 - (time_ms)(next(&st) % 20) * MS_PER_DAY;
        eval_env env = {.fields = t % 50 == 49 ? NULL : f, /* no fields at all reads as null */
                        .signal_now = signal_now, .fit = fit, .now = 1800000000000, .ctx = &h};
        if (t % 7 != 6) { /* sometimes no callbacks: aggregates are null */
            env.count = count_cb;
            env.last = last_cb;
            env.distinct = distinct_cb;
        }
        random_value(c, &env.score, &st);
        random_value(c, &env.points, &st);
        for (size_t s = 0; s < contract_signal_count(c); s++)
            both_ways(c, contract_signal(c, s)->when, &env, contract_signal(c, s)->name, t);
        for (size_t i = 0; i < contract_fit_count(c); i++)
            both_ways(c, contract_fit(c, i)->when, &env, contract_fit(c, i)->name, t);
        for (size_t g = 0; g < contract_gate_count(c); g++) {
            const gate_info *gi = contract_gate(c, g);
            both_ways(c, gi->when, &env, gi->name, t);
            for (uint32_t k = 0; k < gi->term_count; k++) both_ways(c, gi->terms[k].prog, &env, gi->terms[k].text, t);
        }
    }
    free(f);
}

static void test_random_conditions(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        contract *c = random_contract(seed);
        run_trials(c, 400, seed * 7919);
        contract_free(c);
    }
}

static void test_example_contract(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    run_trials(c, 2000, 3);
    contract_free(c);
}

/* The fusing does happen: a chain of tests runs in fewer instructions, and
 * a failed first test jumps straight to the end. */
static void test_chains_are_shortened(void **state)
{
    (void)state;
    contract *c = random_contract(1);
    const program *p = contract_gate(c, (size_t)contract_find_gate(c, "g3"))->when;
    /* fit.fa; JF; POP; fit.fb; JF; POP; COUNT; PUSH; CMP; JF; POP; SINCE; PUSH; CMP */
    assert_int_equal(p->len, 14);
    /* fit.fa?; fit.fb?; count(...) >= 1?; since(...) <= 14d: tests alone, no stack */
    assert_int_equal(p->run_len, 4);
    assert_true(p->tests_only);
    assert_int_equal(p->run[0].op, I_FIT);
    assert_int_equal(p->run[0].branch, BR_IF_FALSE | BR_KEEP);
    assert_int_equal(p->run[0].target, p->run_len);
    assert_int_equal(p->run[2].op, I_COUNT_ATLEAST); /* the history may stop at the first hit */
    assert_int_equal(p->run[2].least, 1);
    assert_int_equal(p->run[2].cmp, I_CMP_GE);
    /* (sa or sb) and fit.fb: a true `sa` goes straight to fit.fb, pushing nothing */
    p = contract_gate(c, (size_t)contract_find_gate(c, "g1"))->when;
    assert_int_equal(p->run_len, 3);
    assert_int_equal(p->run[0].branch, BR_IF_TRUE);
    assert_int_equal(p->run[0].target, 2);
    /* each comparison of a count turns at a whole count: > 2.5 from 3 on, <= 1 below 2 */
    p = contract_gate(c, (size_t)contract_find_gate(c, "g8"))->when;
    assert_int_equal(p->run_len, 4);
    static const uint32_t least[] = {3, 3, 2, 4};
    static const uint8_t cmp[] = {I_CMP_GE, I_CMP_GE, I_CMP_LT, I_CMP_LT};
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(p->run[i].op, I_COUNT_ATLEAST);
        assert_int_equal(p->run[i].least, least[i]);
        assert_int_equal(p->run[i].cmp, cmp[i]);
    }
    /* a count is never below 0, and no count reaches 5e9: those stay as written */
    p = contract_gate(c, (size_t)contract_find_gate(c, "g10"))->when;
    assert_int_equal(p->run[1].op, I_COUNT_ATLEAST);
    assert_int_equal(p->run[1].least, 0);
    assert_int_equal(p->run[3].op, I_SRC_CMPK); /* == */
    p = contract_gate(c, (size_t)contract_find_gate(c, "g11"))->when;
    assert_int_equal(p->run[0].op, I_SRC_CMPK);
    assert_int_equal(p->run[0].src, I_DISTINCT);
    /* the arithmetic one needs the stack */
    assert_false(contract_gate(c, (size_t)contract_find_gate(c, "g7"))->when->tests_only);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_conditions),
        cmocka_unit_test(test_example_contract),
        cmocka_unit_test(test_chains_are_shortened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
