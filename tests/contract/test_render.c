/* Signal descriptions and values as text: the bytes a handoff's context
 * block shows, pinned. */
#include "../harness.h"

static const char *const yaml =
    "contract: render\n"
    "version: 1\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
    "signals:\n"
    "  pricing_deep_dive: { kind: intent, when: 'page.category == \"pricing\"',"
    " describe: 'spent {page.seconds}s on the pricing page' }\n"
    "  ran_workload: { kind: activation, when: 'event.name == \"Workload Run\"',"
    " describe: 'ran a {properties.workload} workload on {properties.rows} rows' }\n"
    "  webinar: { kind: engagement, when: 'event.name == \"Webinar Attended\"',"
    " describe: 'attended the webinar \"{properties.title}\"' }\n"
    "  doubled: { kind: engagement, when: 'event.name == \"Doubled\"',"
    " describe: '{properties.rows * 2} rows, {properties.rows > 10}, {properties.wait}' }\n"
    "  no_words: { kind: engagement, when: 'event.name == \"Quiet\"' }\n"
    "gates:\n"
    "  - { name: hot, when: pricing_deep_dive, to: sales }\n"
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
    f->c = must_parse("render.yaml", yaml);
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

static value *field(fixture *f, const char *path)
{
    for (size_t i = 0; i < contract_field_count(f->c); i++)
        if (strcmp(contract_field(f->c, i)->path, path) == 0) return &f->fields[i];
    fail_msg("the contract reads no field %s", path);
    return NULL;
}

static void set_num(fixture *f, const char *path, double n)
{
    value *v = field(f, path);
    v->type = VAL_NUM;
    v->as.num = n;
}

static void set_str(fixture *f, const char *path, const char *s)
{
    value *v = field(f, path);
    v->type = VAL_STR;
    v->as.str.s = s;
    v->as.str.len = (uint32_t)strlen(s);
    v->as.str.id = contract_intern_find(f->c, s, strlen(s));
}

/* The description of `signal` for the fixture's fields. */
static void expect_description(fixture *f, const char *signal, const char *want)
{
    int i = contract_find_signal(f->c, signal);
    assert_true(i >= 0);
    eval_env env = {.fields = f->fields};
    strbuf out;
    strbuf_init(&out);
    strbuf_puts(&out, "> "); /* rendering appends */
    contract_render_signal(f->c, (size_t)i, &env, &out);
    if (strcmp(out.data, want) != 0) fail_msg("%s renders '%s', want '%s'", signal, out.data, want);
    strbuf_free(&out);
}

static void test_numbers_and_strings(void **state)
{
    fixture *f = *state;
    set_num(f, "page.seconds", 120);
    expect_description(f, "pricing_deep_dive", "> spent 120s on the pricing page");
    set_num(f, "page.seconds", 0);
    expect_description(f, "pricing_deep_dive", "> spent 0s on the pricing page");
    set_num(f, "page.seconds", -0.0);
    expect_description(f, "pricing_deep_dive", "> spent 0s on the pricing page");
    set_num(f, "page.seconds", -45);
    expect_description(f, "pricing_deep_dive", "> spent -45s on the pricing page");
    set_num(f, "page.seconds", 90.5);
    expect_description(f, "pricing_deep_dive", "> spent 90.5s on the pricing page");
    set_num(f, "page.seconds", 1.0 / 3);
    expect_description(f, "pricing_deep_dive", "> spent 0.3333s on the pricing page");
    set_num(f, "page.seconds", 999999999999999);
    expect_description(f, "pricing_deep_dive", "> spent 999999999999999s on the pricing page");
    set_num(f, "page.seconds", 1e15); /* past the integers printed whole */
    expect_description(f, "pricing_deep_dive", "> spent 1e+15s on the pricing page");

    set_str(f, "properties.workload", "nightly ETL");
    set_num(f, "properties.rows", 250000);
    expect_description(f, "ran_workload", "> ran a nightly ETL workload on 250000 rows");
    set_str(f, "properties.title", "Zero trust, \"for real\"");
    expect_description(f, "webinar", "> attended the webinar \"Zero trust, \"for real\"\"");
}

static void test_computed_holes(void **state)
{
    fixture *f = *state;
    set_num(f, "properties.rows", 21);
    value *wait = field(f, "properties.wait");
    wait->type = VAL_DUR;
    wait->as.ms = 3 * MS_PER_DAY;
    expect_description(f, "doubled", "> 42 rows, true, 3d");
    set_num(f, "properties.rows", -1.25);
    expect_description(f, "doubled", "> -2.5 rows, false, 3d");
}

/* A hole with no value, or no description at all: the signal's name in words. */
static void test_missing_values_fall_back_to_the_name(void **state)
{
    fixture *f = *state;
    expect_description(f, "pricing_deep_dive", "> pricing deep dive");
    set_str(f, "properties.workload", "batch");
    expect_description(f, "ran_workload", "> ran workload"); /* rows missing */
    expect_description(f, "no_words", "> no words");
}

/* Into a fixed buffer, as the engine renders: cut at the end, whole. */
static void test_fixed_buffer_truncates(void **state)
{
    fixture *f = *state;
    set_str(f, "properties.workload", "nightly");
    set_num(f, "properties.rows", 1234567);
    char storage[24];
    strbuf out;
    strbuf_init_fixed(&out, storage, sizeof storage);
    eval_env env = {.fields = f->fields};
    contract_render_signal(f->c, (size_t)contract_find_signal(f->c, "ran_workload"), &env, &out);
    assert_string_equal(storage, "ran a nightly workload ");
    strbuf_init_fixed(&out, storage, 22);
    contract_render_signal(f->c, (size_t)contract_find_signal(f->c, "pricing_deep_dive"), &env, &out);
    assert_string_equal(storage, "pricing deep dive"); /* page.seconds is missing */
    set_num(f, "page.seconds", 1234567);
    strbuf_init_fixed(&out, storage, 10);
    contract_render_signal(f->c, (size_t)contract_find_signal(f->c, "pricing_deep_dive"), &env, &out);
    assert_string_equal(storage, "spent 123");
}

/* Whole numbers print as printf's %lld would, over the whole range printed whole. */
static void test_integers_as_printf_writes_them(void **state)
{
    (void)state;
    uint64_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        int64_t n = (int64_t)(x >> 14) % 1000000000000000; /* |n| < 1e15 */
        if (i < 40) n = (i % 2 ? -1 : 1) * (int64_t)(i / 2 == 0 ? 0 : 1) * ((int64_t)1 << (i / 2 * 5 % 50));
        value v = {.type = VAL_NUM};
        v.as.num = (double)n;
        strbuf got;
        strbuf_init(&got);
        value_to_text(&v, &got);
        char want[32];
        snprintf(want, sizeof want, "%lld", (long long)n);
        if (strcmp(got.data, want) != 0) fail_msg("%lld prints as '%s'", (long long)n, got.data);
        strbuf_free(&got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers_and_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_computed_holes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_values_fall_back_to_the_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixed_buffer_truncates, setup, teardown),
        cmocka_unit_test(test_integers_as_printf_writes_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
