/* Which hits can change a gate: the engine skips a monotone gate that did
 * not hold when the event hit none of the signals it reads, so the read
 * sets must name every signal a gate counts, by name or through its kind. */
#include "../harness.h"

static const gate_info *gate_named(const contract *c, const char *name)
{
    for (size_t g = 0; g < contract_gate_count(c); g++)
        if (strcmp(contract_gate(c, g)->name, name) == 0) return contract_gate(c, g);
    fail_msg("no gate %s", name);
    return NULL;
}

/* The names of the signals a gate reads, in contract order, comma-separated. */
static void reads_of(const contract *c, const gate_info *g, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t s = 0; s < contract_signal_count(c); s++)
        if ((g->reads[s / 64] >> (s % 64)) & 1)
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? "," : "", contract_signal(c, s)->name);
}

static void test_gates_read_the_signals_they_name_and_count(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    char got[512];
    struct {
        const char *gate, *reads;
        bool every_hit;
    } want[] = {
        {"fast_track", "pricing_deep_dive,security_download", false},
        {"human_reply", "human_reply", false},
        {"activation", "ran_workload", false},
        /* count(intent, ...) and since(intent): every signal of the kind */
        {"fit_intent", "pricing_deep_dive,security_download,demo_request,risk_language", false},
        {"engaged", "webinar,content_download,blog_read,docs_read", false},
        {"buying_committee", "webinar,content_download,blog_read,docs_read", false},
        /* score moves with every hit */
        {"closed_won_pattern", "", true},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const gate_info *g = gate_named(c, want[i].gate);
        reads_of(c, g, got, sizeof got);
        if (strcmp(got, want[i].reads) != 0) fail_msg("%s reads %s, want %s", want[i].gate, got, want[i].reads);
        assert_int_equal(g->every_hit, want[i].every_hit);
        assert_true(g->monotone);
    }
    /* email opens are noise: no gate reads them, so they never wake the gates */
    int open = contract_find_signal(c, "email_open");
    assert_true(open >= 0);
    for (size_t g = 0; g < contract_gate_count(c); g++)
        assert_false((contract_gate(c, g)->reads[open / 64] >> (open % 64)) & 1);
    contract_free(c);
}

static void test_macros_and_points_are_followed(void **state)
{
    (void)state;
    contract *c = must_parse("reads.yaml",
                             "contract: reads\n"
                             "version: 1\n"
                             "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
                             "signals:\n"
                             "  a: { kind: intent, when: event.name == \"A\" }\n"
                             "  b: { kind: engagement, when: event.name == \"B\" }\n"
                             "  c: { kind: engagement, when: event.name == \"C\" }\n"
                             "points: { per_signal: { b: 5 } }\n"
                             "macros:\n"
                             "  busy: count(c, 7d) >= 2\n"
                             "gates:\n"
                             "  - { name: via_macro, when: busy, to: development }\n"
                             "  - { name: by_points, when: points >= 20, to: development }\n"
                             "  - { name: last_a, when: since(a) <= 1d, to: development }\n"
                             "stages: { nurture: marketing, development: sdr }\n"
                             "context: { did: \"{trigger}\" }\n"
                             "sla: { first_touch: 4h, meeting: 10 business days }\n"
                             "reasons:\n"
                             "  not_icp: { then: nurture, cooldown: 30d }\n");
    char got[256];
    reads_of(c, gate_named(c, "via_macro"), got, sizeof got);
    assert_string_equal(got, "c");
    assert_false(gate_named(c, "via_macro")->every_hit);
    assert_true(gate_named(c, "by_points")->every_hit);
    reads_of(c, gate_named(c, "last_a"), got, sizeof got);
    assert_string_equal(got, "a");
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gates_read_the_signals_they_name_and_count),
        cmocka_unit_test(test_macros_and_points_are_followed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
