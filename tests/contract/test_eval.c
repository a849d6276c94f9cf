/* The compiled form: expressions evaluated over hand-built environments,
 * as the engine will run them. */
#include "../harness.h"

static const char *const yaml =
    "contract: eval\n"
    "version: 3\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
    "lists:\n"
    "  icp_industries: [software, fintech]\n"
    "  risk: [\"security review\", migration]\n"
    "signals:\n"
    "  pricing: { kind: intent, when: 'page.category == \"pricing\" and page.seconds > 90' }\n"
    "  icp_account: { kind: engagement, when: account.industry in icp_industries }\n"
    "  risky: { kind: intent, when: message.text mentions risk }\n"
    "  human: { kind: reply, when: reply.to_human and not reply.automatic }\n"
    "  careers: { kind: engagement, when: 'page.path matches \"^/careers(/|$)\"' }\n"
    "  recent: { kind: engagement, when: event.timestamp >= 2026-10-01 }\n"
    "  neither: { kind: engagement, when: 'properties.plan not in [\"free\", \"trial\"]' }\n"
    "gates:\n"
    "  - { name: hot, when: 'count(intent, 14d) * 2 + 1 >= 5', to: sales }\n"
    "  - { name: fresh, when: 'since(intent) <= 14d and count(pricing, 7d, account) >= 1', to: development }\n"
    "  - { name: committee, when: 'distinct(lead, intent, 14d) >= 2', to: development }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";

typedef struct fixture {
    contract *c;
    value fields[CONTRACT_MAX_FIELDS];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->c = must_parse("eval.yaml", yaml);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    contract_free(f->c);
    free(f);
    return 0;
}

static size_t slot(const contract *c, const char *path)
{
    for (size_t i = 0; i < contract_field_count(c); i++)
        if (strcmp(contract_field(c, i)->path, path) == 0) return i;
    fail_msg("the contract reads no field %s", path);
    return 0;
}

/* Sets a string field as a decoder would: with its interned id. */
static void set_str(fixture *f, const char *path, const char *s)
{
    value *v = &f->fields[slot(f->c, path)];
    v->type = VAL_STR;
    v->as.str.s = s;
    v->as.str.len = (uint32_t)strlen(s);
    v->as.str.id = contract_intern_find(f->c, s, strlen(s));
}

static void set_num(fixture *f, const char *path, double n)
{
    value *v = &f->fields[slot(f->c, path)];
    v->type = VAL_NUM;
    v->as.num = n;
}

static void set_bool(fixture *f, const char *path, bool b)
{
    value *v = &f->fields[slot(f->c, path)];
    v->type = VAL_BOOL;
    v->as.b = b;
}

static bool signal_holds(fixture *f, const char *name)
{
    int i = contract_find_signal(f->c, name);
    assert_true(i >= 0);
    eval_env env = {.fields = f->fields};
    return program_holds(contract_signal(f->c, (size_t)i)->when, &env);
}

static void test_comparison_and_missing_fields(void **state)
{
    fixture *f = *state;
    set_str(f, "page.category", "pricing");
    set_num(f, "page.seconds", 120);
    assert_true(signal_holds(f, "pricing"));
    set_num(f, "page.seconds", 90);
    assert_false(signal_holds(f, "pricing")); /* more than 90, not 90 */
    f->fields[slot(f->c, "page.seconds")].type = VAL_NULL;
    assert_false(signal_holds(f, "pricing")); /* a missing field compares false */
    set_num(f, "page.seconds", 300);
    set_str(f, "page.category", "blog"); /* not a constant of the contract: id -1 */
    assert_false(signal_holds(f, "pricing"));
}

static void test_list_membership(void **state)
{
    fixture *f = *state;
    set_str(f, "account.industry", "fintech");
    assert_true(signal_holds(f, "icp_account"));
    set_str(f, "account.industry", "retail");
    assert_false(signal_holds(f, "icp_account"));
    set_str(f, "properties.plan", "trial");
    assert_false(signal_holds(f, "neither"));
    set_str(f, "properties.plan", "enterprise");
    assert_true(signal_holds(f, "neither"));
}

static void test_mentions_on_word_boundaries(void **state)
{
    fixture *f = *state;
    set_str(f, "message.text", "We need a Security Review before anything ships");
    assert_true(signal_holds(f, "risky"));
    set_str(f, "message.text", "our migration starts in May");
    assert_true(signal_holds(f, "risky"));
    set_str(f, "message.text", "immigration law firm");
    assert_false(signal_holds(f, "risky"));
}

static void test_not_of_a_missing_flag_is_true(void **state)
{
    fixture *f = *state;
    set_bool(f, "reply.to_human", true);
    f->fields[slot(f->c, "reply.automatic")].type = VAL_NULL;
    assert_true(signal_holds(f, "human"));
    set_bool(f, "reply.automatic", true);
    assert_false(signal_holds(f, "human"));
}

static void test_regular_expression(void **state)
{
    fixture *f = *state;
    set_str(f, "page.path", "/careers/engineering");
    assert_true(signal_holds(f, "careers"));
    set_str(f, "page.path", "/careersfair");
    assert_false(signal_holds(f, "careers"));
}

static void test_time_literal(void **state)
{
    fixture *f = *state;
    value *v = &f->fields[slot(f->c, "event.timestamp")];
    v->type = VAL_TIME;
    assert_true(time_parse("2026-10-01T00:00:00Z", 20, &v->as.ms));
    assert_true(signal_holds(f, "recent"));
    v->as.ms -= 1;
    assert_false(signal_holds(f, "recent"));
}

/* History callbacks record what the program asked for. */
typedef struct history {
    uint32_t count_answer, distinct_answer;
    uint32_t last_target;
    duration_ms last_window;
    enum agg_scope last_scope;
    time_ms last_hit;
    bool has_hit;
} history;

/* The answers stop at `enough`, as far as eval_env.count lets them. */
static uint32_t count_cb(void *ctx, uint32_t target, duration_ms window, enum agg_scope scope,
                         uint32_t enough)
{
    history *h = ctx;
    h->last_target = target;
    h->last_window = window;
    h->last_scope = scope;
    return h->count_answer < enough ? h->count_answer : enough;
}

static bool last_cb(void *ctx, uint32_t target, time_ms *when)
{
    history *h = ctx;
    (void)target;
    *when = h->last_hit;
    return h->has_hit;
}

static uint32_t distinct_cb(void *ctx, uint32_t target, duration_ms window, uint32_t enough)
{
    history *h = ctx;
    h->last_target = target;
    h->last_window = window;
    return h->distinct_answer < enough ? h->distinct_answer : enough;
}

static bool gate_holds(fixture *f, const char *name, history *h, time_ms now)
{
    int i = contract_find_gate(f->c, name);
    assert_true(i >= 0);
    eval_env env = {.fields = f->fields, .now = now, .ctx = h, .count = count_cb, .last = last_cb,
                    .distinct = distinct_cb};
    return program_holds(contract_gate(f->c, (size_t)i)->when, &env);
}

static uint32_t kind_target(const contract *c, const char *kind)
{
    for (size_t i = 0; i < contract_kind_count(c); i++)
        if (strcmp(contract_kind(c, i)->name, kind) == 0) return CONTRACT_KIND_BASE + (uint32_t)i;
    fail_msg("no kind %s", kind);
    return 0;
}

static void test_count_arithmetic(void **state)
{
    fixture *f = *state;
    history h = {.count_answer = 2};
    assert_true(gate_holds(f, "hot", &h, 0)); /* 2*2+1 = 5 >= 5 */
    assert_int_equal(h.last_target, kind_target(f->c, "intent"));
    assert_int_equal(h.last_window, 14 * MS_PER_DAY);
    assert_int_equal(h.last_scope, AGG_LEAD);
    h.count_answer = 1;
    assert_false(gate_holds(f, "hot", &h, 0)); /* 3 < 5 */
}

static void test_since_and_account_scope(void **state)
{
    fixture *f = *state;
    time_ms now = 100 * MS_PER_DAY;
    history h = {.count_answer = 1, .has_hit = true, .last_hit = now - 14 * MS_PER_DAY};
    assert_true(gate_holds(f, "fresh", &h, now));
    assert_int_equal(h.last_target, (uint32_t)contract_find_signal(f->c, "pricing"));
    assert_int_equal(h.last_scope, AGG_ACCOUNT);
    assert_int_equal(h.last_window, 7 * MS_PER_DAY);
    h.last_hit -= 1; /* a millisecond too old */
    assert_false(gate_holds(f, "fresh", &h, now));
    h.has_hit = false; /* never: since() is null, and the gate does not hold */
    assert_false(gate_holds(f, "fresh", &h, now));
}

static void test_distinct_people(void **state)
{
    fixture *f = *state;
    history h = {.distinct_answer = 2};
    assert_true(gate_holds(f, "committee", &h, 0));
    h.distinct_answer = 1;
    assert_false(gate_holds(f, "committee", &h, 0));
}

static void test_and_short_circuits(void **state)
{
    fixture *f = *state;
    int i = contract_find_gate(f->c, "fresh");
    strbuf out;
    strbuf_init(&out);
    program_disassemble(f->c, contract_gate(f->c, (size_t)i)->when, &out);
    assert_non_null(strstr(out.data, "JUMP_FALSE"));
    assert_non_null(strstr(out.data, "COUNT"));
    if (!strstr(out.data, "pricing 7d account")) fail_msg("%s", out.data);
    strbuf_free(&out);
    /* With no hit at all the count callback is never consulted. */
    history h = {.count_answer = 99, .has_hit = false, .last_target = 12345};
    assert_false(gate_holds(f, "fresh", &h, 0));
    assert_int_equal(h.last_target, 12345);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_comparison_and_missing_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_membership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mentions_on_word_boundaries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_of_a_missing_flag_is_true, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regular_expression, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_literal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_arithmetic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_since_and_account_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_distinct_people, setup, teardown),
        cmocka_unit_test_setup_teardown(test_and_short_circuits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
