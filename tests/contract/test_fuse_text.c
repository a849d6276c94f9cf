/* Text tests in the fused form (compile.c, fuse()): `contains`, `starts_with`
 * and `ends_with` of a field and a constant become one stack-free test, and
 * a program whose every test reads one field and fails on its null is
 * decided by that null (null_fails_slot()). Random conditions over such
 * tests run as compiled and as fused, on random values, must agree, and
 * program_holds() must agree with both. */
#include "../harness.h"
#include "contract/internal.h" /* program.code / program.run */

static uint32_t next(uint64_t *state)
{
    *state = *state * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(*state >> 33);
}

static const char *const constants[] = {"a", "ab", "b", "ba", ""};

/* Mostly properties.t0, so that many conditions read one field only. */
static void atom(strbuf *b, uint64_t *st)
{
    unsigned f = next(st) % 4 == 0 ? 1 + next(st) % 2 : 0;
    const char *k = constants[next(st) % ARRAY_LEN(constants)];
    static const char *const text_ops[] = {"contains", "starts_with", "ends_with"};
    switch (next(st) % 8) {
    case 0: case 1: case 2:
        strbuf_printf(b, "properties.t%u %s \"%s\"", f, text_ops[next(st) % 3], k);
        break;
    case 3: strbuf_printf(b, "properties.t%u %s \"%s\"", f, next(st) % 2 ? "==" : "!=", k); break;
    case 4: strbuf_printf(b, "properties.t%u in [\"ab\", \"b\"]", f); break;
    case 5: strbuf_printf(b, "exists(properties.t%u)", f); break;
    case 6: strbuf_printf(b, "not (properties.t%u contains \"%s\")", f, k); break;
    default: strbuf_printf(b, "\"%s\" == properties.t%u", k, f); break;
    }
}

static void condition(strbuf *b, uint64_t *st, int depth)
{
    if (depth == 0 || next(st) % 3 == 0) {
        atom(b, st);
        return;
    }
    switch (next(st) % 4) {
    case 0: /* a chain, as `contains` tests are mostly written */
        for (unsigned i = 0, n = 2 + next(st) % 4; i < n; i++) {
            if (i) strbuf_puts(b, next(st) % 3 ? " or " : " and ");
            atom(b, st);
        }
        break;
    case 1:
        strbuf_puts(b, "not (");
        condition(b, st, depth - 1);
        strbuf_putc(b, ')');
        break;
    default:
        strbuf_putc(b, '(');
        condition(b, st, depth - 1);
        strbuf_puts(b, next(st) % 2 ? ") and (" : ") or (");
        condition(b, st, depth - 1);
        strbuf_putc(b, ')');
        break;
    }
}

#define RANDOM_SIGNALS 200

static contract *random_contract(uint64_t seed)
{
    strbuf y;
    strbuf_init(&y);
    strbuf_puts(&y, "contract: fuse-text\n"
                    "version: 1\n"
                    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
                    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
                    "signals:\n"
                    "  risk: { kind: intent, when: 'properties.t0 contains \"a\" or properties.t0 contains \"b\" "
                    "or properties.t0 starts_with \"ba\"' }\n");
    uint64_t st = seed;
    for (int i = 0; i < RANDOM_SIGNALS; i++) {
        strbuf_printf(&y, "  r%d: { kind: intent, when: '", i);
        condition(&y, &st, 3);
        strbuf_puts(&y, "' }\n");
    }
    strbuf_puts(&y, "gates:\n"
                    "  - { name: g1, when: 'risk', to: sales }\n"
                    "context: { did: '{trigger}' }\n"
                    "sla: { first_touch: 4h, meeting: 10 business days }\n"
                    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n");
    assert_false(y.oom);
    contract *c = must_parse("fuse-text.yaml", y.data);
    strbuf_free(&y);
    return c;
}

static void random_value(const contract *c, value *v, uint64_t *st)
{
    static const char *const strings[] = {"", "a", "ab", "ba", "abc", "cab", "b", "zz", "xbax"};
    memset(v, 0, sizeof *v);
    switch (next(st) % 6) {
    case 0: case 1: v->type = VAL_NULL; break;
    case 2: v->type = VAL_NUM; v->as.num = 1; break;
    default: {
        const char *s = strings[next(st) % ARRAY_LEN(strings)];
        v->type = VAL_STR;
        v->as.str.s = s;
        v->as.str.len = (uint32_t)strlen(s);
        v->as.str.id = next(st) % 3 ? contract_intern_find(c, s, strlen(s)) : STR_ID_UNKNOWN;
        break;
    }
    }
}

static void both_ways(const program *p, const eval_env *env, const char *what, int trial)
{
    program compiled = *p;
    compiled.run = compiled.code;
    compiled.run_len = compiled.len;
    compiled.tests_only = false;
    compiled.null_fails = -1;
    value want = program_eval(&compiled, env), got = program_eval(p, env);
    bool holds = want.type == VAL_BOOL && want.as.b;
    if (want.type != got.type || (want.type == VAL_BOOL && want.as.b != got.as.b) || program_holds(p, env) != holds)
        fail_msg("%s, trial %d: compiled gives type %d (%d), fused type %d (%d), holds %d", what, trial, want.type,
                 want.as.b, got.type, got.as.b, program_holds(p, env));
}

static void test_random_text_conditions(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        contract *c = random_contract(seed);
        size_t fields = contract_field_count(c);
        value *f = calloc(fields, sizeof *f);
        assert_non_null(f);
        uint64_t st = seed * 104729;
        for (int t = 0; t < 300; t++) {
            for (size_t i = 0; i < fields; i++) random_value(c, &f[i], &st);
            eval_env env = {.fields = t % 40 == 39 ? NULL : f, .now = 1800000000000};
            for (size_t s = 0; s < contract_signal_count(c); s++)
                both_ways(contract_signal(c, s)->when, &env, contract_signal(c, s)->name, t);
        }
        free(f);
        contract_free(c);
    }
}

/* An `or` of text tests on one field runs without a stack, and a null there
 * decides it; a `not`, or a second field, keeps the null from deciding. */
static void test_text_chains_fuse(void **state)
{
    (void)state;
    contract *c = must_parse("fuse-text.yaml",
                             "contract: fuse-text\n"
                             "version: 1\n"
                             "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
                             "stages: { nurture: marketing, development: sdr, sales: ae }\n"
                             "signals:\n"
                             "  risk: { kind: intent, when: 'message.text contains \"migration\" or message.text "
                             "contains \"procurement\" or message.text ends_with \"?\"' }\n"
                             "  negated: { kind: intent, when: 'message.text contains \"a\" or not (message.text "
                             "contains \"b\")' }\n"
                             "  two: { kind: intent, when: 'message.text contains \"a\" or page.title contains "
                             "\"b\"' }\n"
                             "gates:\n"
                             "  - { name: g1, when: 'risk', to: sales }\n"
                             "context: { did: '{trigger}' }\n"
                             "sla: { first_touch: 4h, meeting: 10 business days }\n"
                             "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n");
    const program *risk = contract_signal(c, 0)->when;
    assert_true(risk->tests_only);
    assert_int_equal(risk->run_len, 3);
    for (uint32_t i = 0; i < risk->run_len; i++) assert_int_equal(risk->run[i].op, I_FIELD_AFFIX);
    assert_int_equal(risk->null_fails, (int32_t)risk->run[0].arg);
    assert_int_equal(contract_signal(c, 1)->when->null_fails, -1);
    assert_int_equal(contract_signal(c, 2)->when->null_fails, -1);

    size_t fields = contract_field_count(c);
    value *f = calloc(fields, sizeof *f);
    assert_non_null(f);
    eval_env env = {.fields = f};
    assert_false(program_holds(risk, &env)); /* all null */
    value *text = &f[risk->run[0].arg];
    text->type = VAL_STR;
    text->as.str.s = "the procurement team asks";
    text->as.str.len = (uint32_t)strlen(text->as.str.s);
    text->as.str.id = -1;
    assert_true(program_holds(risk, &env));
    text->as.str.s = "when?";
    text->as.str.len = 5;
    assert_true(program_holds(risk, &env));
    text->as.str.s = "procuremen";
    text->as.str.len = 10;
    assert_false(program_holds(risk, &env));
    free(f);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_text_conditions),
        cmocka_unit_test(test_text_chains_fuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
