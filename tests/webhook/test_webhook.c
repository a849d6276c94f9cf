/* Webhooks: the body a receiver gets, its signature, the retry schedule and
 * the subscription list. Delivery end to end is tests/cli/webhook.sh. */
#include "../harness.h"
#include "webhook/webhook.h"

/* The expected value was computed with Python's hmac module, independently
 * of OpenSSL: hmac.new(b"whsec-test", b'1767225600.{"id":1}', sha256). */
static void test_signature_is_hmac_sha256_of_time_and_body(void **state)
{
    (void)state;
    char sig[WEBHOOK_SIGNATURE_SIZE];
    webhook_signature("whsec-test", 1767225600, "{\"id\":1}", 8, sig);
    assert_string_equal(sig, "t=1767225600,v1=2731d5a136f2e876efbf00f49244abd0a0f8f4d70e88977ea558dc0fcad75480");
    /* another time or another body gives another signature */
    char other[WEBHOOK_SIGNATURE_SIZE];
    webhook_signature("whsec-test", 1767225601, "{\"id\":1}", 8, other);
    assert_string_not_equal(strchr(sig, ','), strchr(other, ','));
    webhook_signature("whsec-test", 1767225600, "{\"id\":2}", 8, other);
    assert_string_not_equal(sig, other);
}

static void test_envelope_names_id_type_and_time(void **state)
{
    (void)state;
    time_ms t;
    assert_true(time_parse("2026-10-05T09:03:00Z", 20, &t));
    store_webhook w = {.id = 42, .type = "handoff.created", .data = "{\"lead\":\"ana\"}", .created = t};
    strbuf b;
    strbuf_init(&b);
    webhook_envelope(&w, &b);
    assert_string_equal(b.data, "{\"id\":42,\"type\":\"handoff.created\",\"created\":\"2026-10-05T09:03:00Z\","
                                "\"data\":{\"lead\":\"ana\"}}");
    strbuf_free(&b);
}

/* Attempt n waits between half and all of base * 2^(n-1), never past the cap. */
static void test_backoff_doubles_with_jitter_and_a_cap(void **state)
{
    (void)state;
    webhook_options opt = {.backoff = 1000, .backoff_max = 60000};
    webhook_defaults(&opt);
    assert_int_equal(opt.attempts, 10);
    assert_int_equal(webhook_backoff(&opt, 1, 0), 500);
    assert_int_equal(webhook_backoff(&opt, 1, 500), 1000);
    assert_int_equal(webhook_backoff(&opt, 3, 0), 2000);
    assert_int_equal(webhook_backoff(&opt, 3, 2000), 4000);
    for (uint64_t r = 0; r < 5000; r += 7) {
        duration_ms d = webhook_backoff(&opt, 4, r * 2654435761u);
        assert_true(d >= 4000 && d <= 8000);
    }
    assert_int_equal(webhook_backoff(&opt, 30, 0), 30000); /* capped at a minute, then jittered */
    assert_int_equal(webhook_backoff(&opt, 1000, 30000), 60000);
}

static void test_subscriptions(void **state)
{
    (void)state;
    uint32_t set;
    char bad[32];
    assert_true(webhook_parse_events("handoff.created,sla.breached", &set, bad, sizeof bad));
    assert_int_equal(set, (1u << WEBHOOK_HANDOFF_CREATED) | (1u << WEBHOOK_SLA_BREACHED));
    assert_false(webhook_parse_events("handoff.created,handoff.made", &set, bad, sizeof bad));
    assert_string_equal(bad, "handoff.made");
    assert_false(webhook_parse_events("", &set, bad, sizeof bad));
    assert_string_equal(webhook_event_name(WEBHOOK_LEAD_STAGE_CHANGED), "lead.stage_changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signature_is_hmac_sha256_of_time_and_body),
        cmocka_unit_test(test_envelope_names_id_type_and_time),
        cmocka_unit_test(test_backoff_doubles_with_jitter_and_a_cap),
        cmocka_unit_test(test_subscriptions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
