/* The buyer's words: questions and auto-replies. */
#include "../harness.h"
#include "text/text.h"

static str s(const char *t)
{
    str r = {t, (uint32_t)strlen(t)};
    return r;
}

static void expect_question(const char *text, const char *want)
{
    str q = text_last_question(s(text));
    if (q.len != strlen(want) || memcmp(q.s, want, q.len) != 0)
        fail_msg("question of '%s' is '%.*s', want '%s'", text, (int)q.len, q.s, want);
}

static void test_last_question(void **state)
{
    (void)state;
    expect_question("We route by hand. Can it route by territory?", "Can it route by territory?");
    expect_question("How long is a rollout? And what does it cost? Thanks.", "And what does it cost?");
    expect_question("Line one\n  does SSO work with Okta?  ", "does SSO work with Okta?");
    expect_question("No question here.", "");
    expect_question("ok?", ""); /* too short to be a question worth asking */
}

static bool automatic(const char *subject, const char *body, const char *auto_submitted, const char *precedence)
{
    reply_facts f = {.subject = s(subject), .body = s(body), .auto_submitted = s(auto_submitted),
                     .precedence = s(precedence)};
    return text_reply_is_automatic(&f);
}

static void test_auto_replies_in_five_languages(void **state)
{
    (void)state;
    assert_true(automatic("Out of Office: back Monday", "", "", ""));
    assert_true(automatic("Abwesenheitsnotiz", "", "", ""));
    assert_true(automatic("Re: Angebot", "Ich bin bis 12.10. nicht im Büro.", "", ""));
    assert_true(automatic("Réponse automatique", "", "", ""));
    assert_true(automatic("Re: demo", "Je suis absent du bureau jusqu'au 3.", "", ""));
    assert_true(automatic("Fuera de la oficina", "", "", ""));
    assert_true(automatic("Re: x", "Estou de férias até dia 20.", "", ""));
    assert_true(automatic("Undeliverable: pricing", "", "", ""));
    assert_true(automatic("Re: pricing", "Thanks", "auto-replied", ""));
    assert_true(automatic("Re: pricing", "Thanks", "", "bulk"));
    /* people */
    assert_false(automatic("Re: pricing", "Thursday works; can you share the SOC 2 report?", "no", ""));
    assert_false(automatic("Re: rollout plan", "We are out of budget this quarter, try Q1.", "", ""));
    assert_false(automatic("Re: office move", "Our new office opens in May.", "", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_question),
        cmocka_unit_test(test_auto_replies_in_five_languages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
