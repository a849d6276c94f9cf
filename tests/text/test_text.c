/* The buyer's words: risk phrases (R5), questions (R3) and auto-replies (R9). */
#include "../harness.h"
#include "ingest/ingest.h"
#include "text/text.h"

static str s(const char *t)
{
    str r = {t, (uint32_t)strlen(t)};
    return r;
}

/* ---- mentions (R5) ------------------------------------------------------------ */

static text_matcher *matcher(const char *language, bool any_order, const char *const *phrases,
                             uint32_t count)
{
    text_matcher *m = text_matcher_new(language, any_order);
    assert_non_null(m);
    uint32_t list, bad;
    assert_int_equal(text_matcher_add(m, phrases, count, &list, &bad), TEXT_PHRASE_OK);
    assert_int_equal(list, 0);
    assert_true(text_matcher_finish(m));
    return m;
}

static const char *const risk[] = {"rollout timing", "internal approval", "migration",
                                   "security review", "procurement"};

static void test_R5_inflections_match_one_stem(void **state)
{
    (void)state;
    text_matcher *m = matcher("english", false, risk, ARRAY_LEN(risk));
    assert_true(text_mentions(m, 0, s("We are migrating our data in March.")));
    assert_true(text_mentions(m, 0, s("It needs internal approvals from finance.")));
    assert_true(text_mentions(m, 0, s("Getting it internally approved takes a month.")));
    assert_true(text_mentions(m, 0, s("Our SECURITY-REVIEW board meets monthly.")));
    assert_false(text_mentions(m, 0, s("Our immigration lawyers are on the account.")));
    assert_false(text_mentions(m, 0, s("The internal memo needs approval.")));
    assert_false(text_mentions(m, 0, s("Internal, approval: two fields on our form.")));
    text_matcher_free(m);
}

static void test_R5_negation_scope(void **state)
{
    (void)state;
    text_matcher *m = matcher("english", false, risk, ARRAY_LEN(risk));
    /* denied */
    assert_false(text_mentions(m, 0, s("We have no plans to migrate this year.")));
    assert_false(text_mentions(m, 0, s("We don't need a security review for tools under 10k.")));
    assert_false(text_mentions(m, 0, s("Internal approval is not required for pilots.")));
    assert_false(text_mentions(m, 0, s("Procurement won't get involved.")));
    /* not denied: another clause, a condition, doubt, a wait, a question */
    assert_true(text_mentions(m, 0, s("We don't use Salesforce, but a migration is planned.")));
    assert_true(text_mentions(m, 0, s("Nothing moves forward without internal approval.")));
    assert_true(text_mentions(m, 0, s("We can't sign until the security review is done.")));
    assert_true(text_mentions(m, 0, s("I'm not sure how long procurement takes.")));
    assert_true(text_mentions(m, 0, s("We don't have internal approval yet.")));
    assert_true(text_mentions(m, 0, s("Is there no way to skip the security review?")));
    /* a later mention that is not denied still counts */
    assert_true(text_mentions(m, 0, s("No migration for us. Procurement wants a quote though.")));
    text_matcher_free(m);
}

static void test_R5_word_order_is_a_contract_choice(void **state)
{
    (void)state;
    text_matcher *strict = matcher("english", false, risk, ARRAY_LEN(risk));
    text_matcher *any = matcher("english", true, risk, ARRAY_LEN(risk));
    assert_false(text_mentions(strict, 0, s("Approval internally is the slow part.")));
    assert_true(text_mentions(any, 0, s("Approval internally is the slow part.")));
    assert_true(text_mentions(any, 0, s("The timing of our rollout depends on hiring.")));
    /* only close together, and within one clause */
    assert_false(
        text_mentions(any, 0, s("The rollout of the new office coffee machine had bad timing.")));
    assert_false(text_mentions(any, 0, s("Security is fine, review the quote please.")));
    text_matcher_free(strict);
    text_matcher_free(any);
}

static void test_R5_accents_fold(void **state)
{
    (void)state;
    static const char *const fr[] = {"revue de sécurité", "validation interne"};
    text_matcher *m = matcher("french", false, fr, ARRAY_LEN(fr));
    assert_true(text_mentions(m, 0, s("La revue de securite commence lundi.")));
    assert_true(text_mentions(m, 0, s("Les validations internes passent par la direction.")));
    assert_false(text_mentions(m, 0, s("Nous n'avons pas besoin de validation interne.")));
    text_matcher_free(m);
    static const char *const en[] = {"cafe review"};
    m = matcher("english", false, en, 1);
    assert_true(text_mentions(m, 0, s("The CAFÉ reviews are in.")));
    text_matcher_free(m);
}

static void test_R5_match_explains_phrase_and_sentence(void **state)
{
    (void)state;
    text_matcher *m = matcher("english", false, risk, ARRAY_LEN(risk));
    const char *phrase;
    str sentence;
    assert_true(
        text_mentions(m, 0,
                      s("Thanks for the demo. What do you usually need for internal approvals at a "
                        "bank? We start in May.")));
    assert_true(text_mentions_explain(m, &phrase, &sentence));
    assert_string_equal(phrase, "internal approval");
    assert_int_equal(sentence.len,
                     strlen("What do you usually need for internal approvals at a bank?"));
    assert_memory_equal(sentence.s, "What do you usually need for internal approvals at a bank?",
                        sentence.len);
    assert_false(text_mentions(m, 0, s("Thanks, no news.")));
    assert_false(text_mentions_explain(m, &phrase, &sentence));
    text_matcher_free(m);
}

static void test_R5_quoted_lines_are_not_the_buyer(void **state)
{
    (void)state;
    text_matcher *m = matcher("english", false, risk, ARRAY_LEN(risk));
    assert_false(
        text_mentions(m, 0, s("Sounds good.\n> Happy to help with your security review.")));
    assert_false(
        text_mentions(m, 0, s("Thursday works.\nOn Mon, Sam wrote:\nHow is procurement going?")));
    text_matcher_free(m);
}

static void test_R5_matching_never_allocates(void **state)
{
    (void)state;
    text_matcher *m = matcher("english", false, risk, ARRAY_LEN(risk));
    /* a long message, past the token cap, with fresh words each time */
    char text[20000];
    size_t n = 0;
    for (int i = 0; n + 40 < sizeof text; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "word%dx ", i);
    size_t before = mem_alloc_count();
    assert_false(text_mentions(m, 0, (str){text, (uint32_t)n}));
    assert_true(text_mentions(m, 0, s("We are migrating in May.")));
    assert_int_equal(mem_alloc_count(), before);
    /* past TEXT_MAX_TOKENS words, a phrase is not read */
    memcpy(text + n - 10, " migrate ", 9);
    assert_false(text_mentions(m, 0, (str){text, (uint32_t)n}));
    text_matcher_free(m);
}

static void test_R5_bad_phrases_are_refused(void **state)
{
    (void)state;
    text_matcher *m = text_matcher_new("english", false);
    uint32_t list, bad;
    static const char *const empty[] = {"migration", "!!"};
    assert_int_equal(text_matcher_add(m, empty, 2, &list, &bad), TEXT_PHRASE_EMPTY);
    assert_int_equal(bad, 1);
    static const char *const longer[] = {"one two three four five six seven eight nine"};
    assert_int_equal(text_matcher_add(m, longer, 1, &list, &bad), TEXT_PHRASE_TOO_LONG);
    text_matcher_free(m);
    assert_null(text_matcher_new("klingon", false));
    assert_true(text_language_known("german"));
    assert_true(text_language_known("en"));
    assert_false(text_language_known("klingon"));
}

/* The contract side: `language`, `word_order`, and {phrase}/{sentence} in a
 * signal's description. */
static void test_R5_contract_options_and_description(void **state)
{
    (void)state;
    static const char *const yaml =
        "contract: words\n"
        "version: 1\n"
        "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
        "language: english\n"
        "word_order: any\n"
        "stages: { nurture: marketing, development: sdr, sales: ae }\n"
        "lists:\n"
        "  risk: [\"internal approval\", migration]\n"
        "signals:\n"
        "  risky: { kind: intent, when: message.text mentions risk, describe: 'wrote \"{phrase}\": "
        "{sentence}' }\n"
        "gates:\n"
        "  - { name: hot, when: risky, to: sales }\n"
        "context: { did: '{trigger}' }\n"
        "sla: { first_touch: 4h, meeting: 10 business days }\n"
        "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";
    strbuf out;
    strbuf_init(&out);
    contract *c = parse_string("words.yaml", yaml, &out);
    if (!c) fail_msg("%s", out.data);
    value fields[CONTRACT_MAX_FIELDS] = {0};
    size_t slot = 0;
    while (strcmp(contract_field(c, slot)->path, "message.text") != 0)
        slot++;
    const char *text = "Hi! Approval internally is what takes time here. Talk soon.";
    fields[slot].type = VAL_STR;
    fields[slot].as.str.s = text;
    fields[slot].as.str.len = (uint32_t)strlen(text);
    fields[slot].as.str.id = -1;
    eval_env env = {.fields = fields};
    assert_true(program_holds(contract_signal(c, 0)->when, &env));
    strbuf_reset(&out);
    contract_render_signal(c, 0, &env, &out);
    assert_string_equal(
        out.data, "wrote \"internal approval\": Approval internally is what takes time here.");
    contract_free(c);
    strbuf_free(&out);
}

/* The word reader's shortcuts (src/text/mentions.c): plain ASCII words are
 * read in one pass and looked up by a padded 24-byte key; any other word
 * (an apostrophe, a non-ASCII letter, over TEXT_MAX_WORD bytes) must still
 * read as it did, and so must the abbreviations a '.' does not end. */
static void test_R5_word_reader_shortcuts(void **state)
{
    (void)state;
    static const char *const words[] = {
        "procurement",
        "abcdefghijklmnopqrstuvw",   /* 23 bytes: the longest word the cache keeps */
        "abcdefghijklmnopqrstuvwxy", /* 25: never cached */
        "aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeee", /* TEXT_MAX_WORD bytes */
        "internal approval",
    };
    text_matcher *m = matcher("english", false, words, ARRAY_LEN(words));
    const char *phrase;
    str sentence;
    for (int round = 0; round < 2; round++) { /* the second round reads from the cache */
        assert_true(text_mentions(m, 0, s("PROCUREMENT signs off.")));
        /* same first 8 bytes, other words: the key is the whole word */
        assert_false(text_mentions(m, 0, s("procuremen procurementz procurementsx.")));
        assert_true(text_mentions(m, 0, s("ABCDEFGHIJKLMNOPQRSTUVW")));
        assert_false(text_mentions(m, 0, s("abcdefghijklmnopqrstuv abcdefghijklmnopqrstuvwx")));
        assert_true(text_mentions(m, 0, s("x abcdefghijklmnopqrstuvwxy.")));
        assert_true(
            text_mentions(m, 0, s("id aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeee, ok")));
        assert_false(
            text_mentions(m, 0, s("id aaaaaaaaaabbbbbbbbbbccccccccccddddddddddeeeeeeeee ok")));
        /* words the one-pass reader hands on: apostrophes, accents, a digit */
        assert_false(text_mentions(m, 0, s("We don't need internal approval.")));
        assert_true(text_mentions(m, 0, s("Internal approval's the blocker.")));
        assert_false(text_mentions(m, 0, s("procurementé procurement2")));
        assert_true(text_mentions(m, 0, s("l'internal approval")));
        /* "approx." and "APPROX." end no sentence, "approxs." and "approxim." do */
        assert_true(text_mentions(m, 0, s("Costs approx. internal approval is slow.")));
        assert_true(text_mentions_explain(m, &phrase, &sentence));
        assert_int_equal(sentence.len, strlen("Costs approx. internal approval is slow."));
        assert_true(text_mentions(m, 0, s("Costs APPROX. internal approval is slow.")));
        assert_true(text_mentions_explain(m, &phrase, &sentence));
        assert_int_equal(sentence.len, strlen("Costs APPROX. internal approval is slow."));
        assert_true(text_mentions(m, 0, s("Costs approxs. internal approval is slow.")));
        assert_true(text_mentions_explain(m, &phrase, &sentence));
        assert_int_equal(sentence.len, strlen("internal approval is slow."));
        assert_true(text_mentions(m, 0, s("Costs approxim. internal approval is slow.")));
        assert_true(text_mentions_explain(m, &phrase, &sentence));
        assert_int_equal(sentence.len, strlen("internal approval is slow."));
    }
    text_matcher_free(m);
}

/* ---- questions (R3) ------------------------------------------------------------- */

static void expect_question(const char *text, const char *want)
{
    char q[300];
    size_t n = text_last_question(s(text), q, sizeof q);
    if (n != strlen(want) || strcmp(q, want) != 0)
        fail_msg("question of '%s' is '%s', want '%s'", text, q, want);
}

static void test_R3_last_question(void **state)
{
    (void)state;
    expect_question("We route by hand. Can it route by territory?", "Can it route by territory?");
    expect_question("How long is a rollout? And what does it cost? Thanks.",
                    "And what does it cost?");
    expect_question("Line one.\n  does SSO work with Okta?  ", "does SSO work with Okta?");
    expect_question("No question here.", "");
    expect_question("ok?", ""); /* too short to be a question worth asking */
    /* a mail client's wrapping is not a sentence break */
    expect_question("Hi Sam,\nCan we route leads by territory and\nproduct line? Thanks",
                    "Can we route leads by territory and product line?");
    /* quoted lines are ours, not the buyer's */
    expect_question("Is there an EU region?\n\nOn Mon, Sam wrote:\n> Would Thursday work?",
                    "Is there an EU region?");
    expect_question("Sounds good.\n> Any questions so far?", "");
    expect_question("¿Podemos hablar el martes?", "¿Podemos hablar el martes?");
}

static void test_R3_questions_without_a_mark(void **state)
{
    (void)state;
    expect_question("Thanks for the demo. How long does a rollout usually take",
                    "How long does a rollout usually take");
    expect_question("Is there an EU data region. We are in Berlin.", "Is there an EU data region.");
    expect_question("Also, can you send the SOC 2 report", "Also, can you send the SOC 2 report");
    expect_question("What's the price for 50 seats", "What's the price for 50 seats");
    expect_question("Which plan is right for a team of 40", "Which plan is right for a team of 40");
    expect_question("I was wondering whether you support SAML.",
                    "I was wondering whether you support SAML.");
    /* statements that open like questions */
    expect_question("How we route today is by hand.", "");
    expect_question("What we need is fewer dropped leads.", "");
    expect_question("When we spoke last week you mentioned SSO.", "");
    expect_question("Should you need anything, call me.", "");
    expect_question("Will do.", "");
    expect_question("What a great demo!", "");
}

static void test_R3_question_is_cut_to_the_buffer(void **state)
{
    (void)state;
    char q[12];
    size_t n = text_last_question(s("Können wir über Preise sprechen?"), q, sizeof q);
    assert_true(n < sizeof q);
    assert_int_equal(strlen(q), n);
    assert_memory_equal(q, "Können wir", n); /* never half of 'ü' */
}

/* The question finder's shortcuts (src/text/question.c): sentence ends and
 * blanks found eight bytes a step, the two-letter filter on indirect
 * questions, and a sentence copied whole when its blanks are already
 * single spaces. */
static void test_R3_question_finder_shortcuts(void **state)
{
    (void)state;
    /* an indirect question in the middle, at and past an 8-byte step */
    expect_question("Just curious how long the rollout takes.",
                    "Just curious how long the rollout takes.");
    expect_question("JUST CURIOUS HOW LONG IT TAKES.", "JUST CURIOUS HOW LONG IT TAKES.");
    expect_question("Our whole team would like to know the price.",
                    "Our whole team would like to know the price.");
    expect_question("Our whole team would like to knew the price.", "");
    expect_question("Sam and we would all love to wonder.", "");
    expect_question("We talked, and we are wondering\nabout the price.",
                    "We talked, and we are wondering about the price.");
    /* ends in the first bytes, on a step's edge, and in the tail */
    expect_question("Price? Is there an EU region", "Is there an EU region");
    expect_question("Seats: 1234567? ok", "Seats: 1234567?");
    expect_question("Do you support SSO？ Thanks.", "Do you support SSO？");
    expect_question("A first line here. Can we talk on Tuesday!?? ok.",
                    "Can we talk on Tuesday!??");
    expect_question("A first line here. Can we talk on Tuesday?! ok.", ""); /* ends in '!' */
    /* blanks to collapse, and blanks that stay as they are */
    expect_question("Can we  talk\ton Tuesday?", "Can we talk on Tuesday?");
    expect_question("Can we talk on Tuesday?", "Can we talk on Tuesday?");
    expect_question("\x01"
                    "Can we talk on Tuesday?",
                    " Can we talk on Tuesday?");
    expect_question("Can we talk on Tuesday \x01?", "Can we talk on Tuesday ?");
    expect_question("Is there an EU region\x01", "Is there an EU region"); /* a blank last goes */
}

/* ---- replies (R9) ------------------------------------------------------------------ */

static bool automatic(const char *subject, const char *body, const char *auto_submitted,
                      const char *precedence)
{
    reply_facts f = {.subject = s(subject),
                     .body = s(body),
                     .auto_submitted = s(auto_submitted),
                     .precedence = s(precedence)};
    return text_reply_is_automatic(&f);
}

static void test_R9_auto_replies_in_five_languages(void **state)
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
    assert_false(
        automatic("Re: pricing", "Thursday works; can you share the SOC 2 report?", "no", ""));
    assert_false(
        automatic("Re: rollout plan", "We are out of budget this quarter, try Q1.", "", ""));
    assert_false(automatic("Re: office move", "Our new office opens in May.", "", ""));
    assert_false(
        automatic("Re: out of office hours", "Do you offer support out of office hours?", "", ""));
    assert_false(
        automatic("Re: demo", "I'm back from leave, let's talk. Does Wednesday work?", "", ""));
    assert_false(
        automatic("Re: demo", "I'll be on vacation until the 10th, could we meet before?", "", ""));
}

static void test_R9_mail_system_senders(void **state)
{
    (void)state;
    reply_facts f = {.from = s("MAILER-DAEMON@mx.example.com"), .subject = s("Re: pricing")};
    assert_true(text_reply_is_automatic(&f));
    f.from = s("Mail System <postmaster@example.com>");
    assert_true(text_reply_is_automatic(&f));
    f.from = s("bounce+12ab@lists.example.com");
    assert_true(text_reply_is_automatic(&f));
    f.from = s("Ana Post <ana.post@example.com>");
    assert_false(text_reply_is_automatic(&f));
    f.from = s("x_autoreply");
    f.x_autoreply = s("no");
    assert_false(text_reply_is_automatic(&f));
    f.x_autoreply = s("yes");
    assert_true(text_reply_is_automatic(&f));
}

/* The decoder hands the sender's address over: a bounce from the mail
 * system is automatic even when nothing else says so. */
static void test_R9_decoder_reads_the_sender_address(void **state)
{
    (void)state;
    static const char *const yaml =
        "contract: replies\n"
        "version: 1\n"
        "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
        "stages: { nurture: marketing, development: sdr, sales: ae }\n"
        "signals:\n"
        "  human_reply: { kind: reply, when: reply.to_human and not reply.automatic }\n"
        "gates:\n"
        "  - { name: hot, when: human_reply, to: development }\n"
        "context: { did: '{trigger}' }\n"
        "sla: { first_touch: 4h, meeting: 10 business days }\n"
        "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";
    contract *c = parse_string("replies.yaml", yaml, NULL);
    assert_non_null(c);
    decoder *d = decoder_new(c);
    assert_non_null(d);
    size_t slot = 0;
    while (strcmp(contract_field(c, slot)->path, "reply.automatic") != 0)
        slot++;
    static const char *const lines[] = {
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Email "
        "Replied\",\"timestamp\":\"2026-10-05T09:00:00Z\","
        "\"properties\":{\"sender_type\":\"human\",\"from\":\"MAILER-DAEMON@mx.example.com\","
        "\"subject\":\"Re: hi\"}}",
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Email "
        "Replied\",\"timestamp\":\"2026-10-05T09:00:00Z\","
        "\"properties\":{\"sender_type\":\"human\",\"sender_email\":\"no-reply@example.com\","
        "\"text\":\"ok\"}}",
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Email "
        "Replied\",\"timestamp\":\"2026-10-05T09:00:00Z\","
        "\"properties\":{\"sender_type\":\"human\",\"from\":\"ana@example.com\",\"text\":"
        "\"Thursday works.\"}}",
    };
    static const bool want[] = {true, true, false};
    for (size_t i = 0; i < ARRAY_LEN(lines); i++) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", lines[i]);
        event ev;
        decode_error err;
        if (!decoder_decode(d, buf, strlen(buf), &ev, &err)) fail_msg("line %zu: %s", i, err.what);
        assert_int_equal(ev.fields[slot].type, VAL_BOOL);
        assert_int_equal(ev.fields[slot].as.b, want[i]);
    }
    decoder_free(d);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R5_inflections_match_one_stem),
        cmocka_unit_test(test_R5_negation_scope),
        cmocka_unit_test(test_R5_word_order_is_a_contract_choice),
        cmocka_unit_test(test_R5_accents_fold),
        cmocka_unit_test(test_R5_match_explains_phrase_and_sentence),
        cmocka_unit_test(test_R5_quoted_lines_are_not_the_buyer),
        cmocka_unit_test(test_R5_matching_never_allocates),
        cmocka_unit_test(test_R5_bad_phrases_are_refused),
        cmocka_unit_test(test_R5_contract_options_and_description),
        cmocka_unit_test(test_R5_word_reader_shortcuts),
        cmocka_unit_test(test_R3_last_question),
        cmocka_unit_test(test_R3_questions_without_a_mark),
        cmocka_unit_test(test_R3_question_is_cut_to_the_buffer),
        cmocka_unit_test(test_R3_question_finder_shortcuts),
        cmocka_unit_test(test_R9_auto_replies_in_five_languages),
        cmocka_unit_test(test_R9_mail_system_senders),
        cmocka_unit_test(test_R9_decoder_reads_the_sender_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
