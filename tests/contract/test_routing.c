/* The contract's routing section: defaults, and `baton explain`'s words for it. */
#include "../harness.h"

static const char *const base =
    "contract: r\n"
    "version: 1\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, development: sdr, sales: ae }\n"
    "signals:\n"
    "  demo: { kind: intent, when: event.name == \"Demo Requested\" }\n"
    "gates:\n"
    "  - { name: demo, when: demo, to: development }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";

static char *explain_of(const char *yaml)
{
    strbuf out;
    strbuf_init(&out);
    contract *c = parse_string("r.yaml", yaml, &out);
    if (!c) fail_msg("contract has errors:\n%s", out.data);
    strbuf_free(&out);
    strbuf_init(&out);
    contract_explain(c, &out);
    contract_free(c);
    /* one line, single spaces: sentences are found whatever the wrapping */
    char *text = out.data;
    for (char *p = text; *p; p++)
        if (*p == '\n') *p = ' ';
    for (char *p; (p = strstr(text, "  "));) memmove(p, p + 1, strlen(p));
    return text; /* mem_free */
}

static void test_defaults_without_section(void **state)
{
    (void)state;
    strbuf out;
    strbuf_init(&out);
    contract *c = parse_string("r.yaml", base, &out);
    assert_non_null(c);
    const routing_info *ri = contract_routing(c);
    assert_false(ri->defined);
    assert_int_equal(ri->account_owner, ROUTE_OWNER_FIRST);
    assert_int_equal(ri->working_hours, ROUTE_HOURS_IGNORE);
    assert_false(ri->catch_up);
    assert_int_equal(ri->credit_back, 0);
    assert_int_equal(ri->rule_count, 0);
    contract_free(c);
    strbuf_free(&out);
    char *text = explain_of(base);
    assert_non_null(strstr(text, "(the contract leaves routing at its defaults)"));
    assert_non_null(strstr(text, "The pool is the whole receiving team."));
    mem_free(text);
}

static void test_explain_says_rules_and_policies(void **state)
{
    (void)state;
    char yaml[4096];
    snprintf(yaml, sizeof yaml, "%s%s", base,
             "routing:\n"
             "  account_owner: ignore\n"
             "  working_hours: require\n"
             "  rules:\n"
             "    - { name: big_emea, when: account.employees >= 1000, team: sdr, territory: emea-ent }\n"
             "    - { name: everyone, stage: development }\n"
             "  fairness: { catch_up: true, credit_back: returned }\n");
    char *text = explain_of(yaml);
    assert_non_null(strstr(text, "Account owners play no part: every lead goes to a pool."));
    assert_non_null(strstr(text, "1. Big emea — team sdr, territory emea-ent, when the account's employee count is at least 1000."));
    assert_non_null(strstr(text, "2. Everyone — team sdr, for every lead handed into development."));
    assert_non_null(strstr(text, "and so is a rep outside their working hours."));
    assert_non_null(strstr(text, "catches up: the leads they missed come to them first."));
    assert_non_null(strstr(text, "A lead returned to marketing after it was accepted gives the rep a lead back"));
    mem_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_without_section),
        cmocka_unit_test(test_explain_says_rules_and_policies),
    };
    return cmocka_run_group_tests_name("contract routing", tests, NULL, NULL);
}
