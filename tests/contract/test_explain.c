/* Tests for contract_explain(): the sentences a signer relies on are there, and say what the contract does. */
#include "contract/contract.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

static contract *parse_text(const char *path, const char *text, size_t len)
{
    errors errs;
    errors_init(&errs, path, text, len);
    contract *c = contract_parse(path, text, len, &errs);
    if (!c) {
        strbuf b;
        strbuf_init(&b);
        errors_render(&errs, &b);
        print_error("%s", b.data ? b.data : "(no errors rendered)\n");
        strbuf_free(&b);
    }
    return c;
}

/* The explanation with every run of whitespace collapsed to one space, so
 * sentences can be found whatever the line wrapping. Caller frees. */
static char *explain_flat(const contract *c)
{
    strbuf b;
    strbuf_init(&b);
    contract_explain(c, &b);
    assert_false(b.oom);
    assert_non_null(b.data);
    size_t w = 0;
    bool space = false;
    for (size_t r = 0; r < b.len; r++) {
        char ch = b.data[r];
        if (ch == ' ' || ch == '\n' || ch == '\t') {
            space = w > 0;
            continue;
        }
        if (space) b.data[w++] = ' ';
        space = false;
        b.data[w++] = ch;
    }
    b.data[w] = '\0';
    return b.data; /* allocated by mem_alloc, freed with mem_free */
}

/* The text from `from` up to (not including) `to`, or to the end when `to`
 * is NULL. Both must be present, `to` after `from`. Caller frees. */
static char *between(const char *text, const char *from, const char *to)
{
    const char *start = strstr(text, from);
    if (!start) fail_msg("'%s' not found in:\n%s", from, text);
    const char *end = to ? strstr(start + strlen(from), to) : start + strlen(start);
    if (!end) fail_msg("'%s' not found after '%s' in:\n%s", to, from, text);
    char *s = mem_strndup(start, (size_t)(end - start));
    assert_non_null(s);
    return s;
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle)) fail_msg("expected to find:\n  %s\nin:\n  %s", needle, text);
}

static void assert_lacks(const char *text, const char *needle)
{
    if (strstr(text, needle)) fail_msg("did not expect:\n  %s\nin:\n  %s", needle, text);
}

/* ---- the shipped example contract ---------------------------------------------- */

typedef struct example {
    contract *c;
    char *text; /* the flattened explanation */
} example;

static int example_setup(void **state)
{
    const char *dir = getenv("BATON_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/contracts/example.yaml", dir ? dir : ".");
    size_t len = 0;
    char *yaml = file_read(path, &len);
    if (!yaml) {
        print_error("cannot read %s\n", path);
        return -1;
    }
    example *ex = calloc(1, sizeof *ex);
    if (!ex) {
        mem_free(yaml);
        return -1;
    }
    ex->c = parse_text(path, yaml, len);
    mem_free(yaml);
    if (!ex->c) {
        free(ex);
        return -1;
    }
    ex->text = explain_flat(ex->c);
    *state = ex;
    return 0;
}

static int example_teardown(void **state)
{
    example *ex = *state;
    if (!ex) return 0;
    mem_free(ex->text);
    contract_free(ex->c);
    free(ex);
    return 0;
}

/* R4: both signatories and the version that every decision records. */
static void test_r4_header_names_signers_version_and_calendar(void **state)
{
    const char *t = ((example *)*state)->text;
    assert_true(strncmp(t, "acme-handoff, version 7", 23) == 0);
    assert_contains(t, "Signed for marketing by maria@acme.example and for sales by sam@acme.example.");
    assert_contains(t, "made under version 7");
    assert_contains(t, "business days are Monday to Friday, 09:00 to 17:00, America/New_York time");
    assert_contains(t, "holidays 26 Nov 2026, 25 Dec 2026 and 1 Jan 2027");
    assert_contains(t, "baton keeps 90 days of each lead's history");
}

static void test_r12_fit_predicates_in_words(void **state)
{
    char *s = between(((example *)*state)->text, "Ideal customer profile", "Signals ----");
    /* the macro big_enough is shown by what it means, not by its name */
    assert_contains(s, "'icp' holds when the account's industry is one of software, fintech or "
                       "healthtech, and the account's employee count is at least 200.");
    assert_lacks(s, "big_enough");
    /* `not (status == "customer")` holds for an unknown status, and says so */
    assert_contains(s, "'not_customer' holds when the account's status is unknown or not \"customer\".");
    mem_free(s);
}

/* R2: opens and clicks are recorded, never counted. */
static void test_r2_noise_kind_never_counts(void **state)
{
    const char *t = ((example *)*state)->text;
    assert_contains(t, "kinds this contract adds (noise) never count toward any gate unless a gate "
                       "names them");
    char *noise = between(t, "Noise: a kind this contract adds.", "When a lead is handed off");
    assert_contains(noise, "No gate names this kind or any of its signals, so they never count "
                           "toward a handoff");
    assert_contains(noise, "Email open: when the event is \"Email Opened\" or \"Email Link Clicked\".");
    mem_free(noise);
    /* a kind that a gate does read says which gates */
    char *intent = between(t, "Intent:", "Activation:");
    char *users = between(intent, "The gates", "look at these signals.");
    assert_contains(users, "fast track");
    assert_contains(users, "fit intent");
    assert_lacks(users, "engaged");
    mem_free(users);
    assert_contains(intent, "Pricing deep dive: when the page category is \"pricing\" and the seconds "
                            "spent on the page is more than 90 (topic: pricing).");
    assert_lacks(intent, "Email open");
    mem_free(intent);
}

static void test_r5_r9_signal_sentences(void **state)
{
    const char *t = ((example *)*state)->text;
    assert_contains(t, "Risk language: when what the buyer wrote mentions rollout timing, internal "
                       "approval, migration, security review or procurement (topic: rollout).");
    assert_contains(t, "Human reply: when the event is \"Email Replied\", the reply answers a person "
                       "and the reply is not automatic.");
    /* three equalities on one field read as one choice */
    assert_contains(t, "Demo request: when the event is one of \"Demo Requested\", \"Quote Requested\" "
                       "or \"Consultation Requested\"");
    /* `not (x in list)` also holds when x is missing, and reads so */
    assert_contains(t, "Content download: when the event is \"Asset Downloaded\" and the event's asset "
                       "is unknown or not one of security-whitepaper, soc2-report, dpa or "
                       "pen-test-summary.");
}

/* R2: the fast track goes straight to sales, flagged. */
static void test_r2_fast_track_gate_sentence(void **state)
{
    char *g = between(((example *)*state)->text, "1. Fast track", "2. Human reply");
    assert_contains(g, "hand the lead to sales (team ae) at once, flagged fast-track");
    assert_contains(g, "this event is either a pricing deep dive or a security download");
    assert_contains(g, "the account's status is unknown or not \"customer\"");
    mem_free(g);
}

/* R12: fit, intent and recency, all three, within 14 days. */
static void test_r12_fit_intent_gate_sentence(void **state)
{
    char *g = between(((example *)*state)->text, "4. Fit intent", "5. Engaged");
    assert_contains(g, "hand the lead to development (team sdr) when");
    assert_contains(g, "the account fits the ideal customer profile 'icp'");
    assert_contains(g, "the lead had at least 1 intent signal in the last 14 days");
    assert_contains(g, "the latest intent signal is at most 14 days old");
    assert_lacks(g, "fast-track");
    mem_free(g);
}

static void test_r6_gates_keep_their_order(void **state)
{
    const char *t = ((example *)*state)->text;
    static const char *const order[] = {"1. Fast track —",     "2. Human reply —", "3. Activation —",
                                        "4. Fit intent —",     "5. Engaged —",     "6. Buying committee —",
                                        "7. Closed won pattern —"};
    const char *at = t;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        const char *next = strstr(at, order[i]);
        if (!next) fail_msg("gate '%s' missing or out of order", order[i]);
        at = next;
    }
    /* counts over one window are said once */
    assert_contains(t, "the lead had at least 5 engagement signals, at least 1 webinar and at least 1 "
                       "content download in the last 30 days.");
    assert_contains(t, "the closed-won score is at least 0.7.");
}

/* R11: no pain and impact, no handoff. */
static void test_r11_handoff_must_carry_pain_and_impact(void **state)
{
    char *s = between(((example *)*state)->text, "What every handoff must carry", "The context sent");
    assert_contains(s, "Every handoff must name the lead's current pain and a near-term business impact.");
    assert_contains(s, "waits as needs-context");
    mem_free(s);
}

/* R3: the two context lines and the topic -> question map. */
static void test_r3_context_lines_and_questions(void **state)
{
    char *s = between(((example *)*state)->text, "The context sent with every handoff", "Stages and owners");
    /* holes in brackets, expressions in words */
    assert_contains(s, "1. What the lead did: [what triggered the handoff]");
    assert_contains(s, "[the number of intent signals in the last 14 days]");
    assert_lacks(s, "{");
    assert_contains(s, "2. What the buyer wants to know: [the buyer's question]");
    assert_contains(s, "security (from security download): \"Will this pass our security review?\"");
    assert_contains(s, "evaluation (from demo request and webinar): \"Can we see it working on a case "
                       "like ours?\"");
    mem_free(s);
}

/* R1: one owning team per stage, in order; forward only. */
static void test_r1_stages_in_order_with_owners(void **state)
{
    char *s = between(((example *)*state)->text, "Stages and owners", "Service levels");
    const char *n = strstr(s, "1. nurture, owned by marketing");
    const char *d = strstr(s, "2. development, owned by sdr");
    const char *a = strstr(s, "3. sales, owned by ae");
    assert_non_null(n);
    assert_non_null(d);
    assert_non_null(a);
    assert_true(n < d && d < a);
    assert_contains(s, "reached through the gates fast track and activation.");
    assert_contains(s, "A lead moves only forward");
    assert_contains(s, "reason that recycles it");
    mem_free(s);
}

/* R7: response and meeting SLAs on the business calendar. */
static void test_r7_service_levels(void **state)
{
    char *s = between(((example *)*state)->text, "Service levels", "Points ----");
    assert_contains(s, "makes first contact within 4 business hours, and a meeting is booked within "
                       "10 business days.");
    assert_contains(s, "On a breach baton notifies the owning team and reassigns the lead.");
    mem_free(s);
}

static void test_points_model(void **state)
{
    char *s = between(((example *)*state)->text, "Points ----", "Rejection reasons");
    const char *demo = strstr(s, "demo request 30");
    const char *blog = strstr(s, "blog read 1");
    assert_non_null(demo);
    assert_non_null(blog);
    assert_true(demo < blog); /* most points first */
    assert_contains(s, "every other signal earns none");
    assert_contains(s, "Points halve every 30 days and are capped at 100.");
    assert_contains(s, "No gate uses points");
    mem_free(s);
}

/* R12: each rejection reason and what it does to the lead. */
static void test_r12_rejection_reasons(void **state)
{
    const char *t = ((example *)*state)->text;
    char *not_icp = between(t, "(not_icp)", "(wrong_timing)");
    assert_contains(not_icp, "returns the lead to nurture (marketing) for 90 days");
    mem_free(not_icp);
    char *timing = between(t, "(wrong_timing)", "(no_budget)");
    assert_contains(timing, "for 30 days");
    mem_free(timing);
    char *customer = between(t, "Already a customer (already_customer)", "(wrong_person)");
    assert_contains(customer, "suppresses the lead");
    assert_lacks(customer, "nurture");
    mem_free(customer);
    assert_contains(t, "(wrong_person) reroutes the lead to another owner");
}

static void test_golden_test_count(void **state)
{
    const char *t = ((example *)*state)->text;
    assert_contains(t, "The contract carries 13 golden tests");
    assert_contains(t, "- R11: a handoff without pain and impact waits as needs-context");
}

/* ---- exact wording, on a small contract ----------------------------------------------- */

static const char tiny_yaml[] =
    "contract: tiny\n"
    "version: 3\n"
    "signed_by: { marketing: m@tiny.example, sales: s@tiny.example }\n"
    "lists:\n"
    "  secure: [whitepaper, soc2]\n"
    "macros:\n"
    "  big: account.employees >= 200\n"
    "fit:\n"
    "  icp: account.industry in [\"software\", \"fintech\"] and big\n"
    "  prospect: account.status != \"customer\"\n"
    "  small: not (account.employees >= 50)\n"
    "kinds: [noise]\n"
    "signals:\n"
    "  pricing_view:\n"
    "    kind: intent\n"
    "    when: page.category == \"pricing\" and 90 < page.seconds\n"
    "  demo_request:\n"
    "    kind: intent\n"
    "    when: event.name == \"Demo Requested\"\n"
    "  asset_download:\n"
    "    kind: engagement\n"
    "    when: event.name == \"Asset Downloaded\" and not (properties.asset in secure)\n"
    "  opened:\n"
    "    kind: noise\n"
    "    when: event.name == \"Email Opened\"\n"
    "gates:\n"
    "  - name: quick\n"
    "    when: (pricing_view or demo_request) and not reply.automatic\n"
    "    to: sales\n"
    "    fast: true\n"
    "  - name: committee\n"
    "    when: fit.icp and distinct(lead, intent, 14d) >= 2 and count(engagement, 14d, account) >= 6\n"
    "    to: sales\n"
    "  - name: scored\n"
    "    when: fit.prospect and (score >= 0.7 or not (count(intent, 7d) < 3))\n"
    "    to: sales\n"
    "  - name: noisy\n"
    "    when: count(opened, 1d) > 4 and since(demo_request) > 3d\n"
    "    to: sales\n"
    "context:\n"
    "  did: \"{trigger}\"\n"
    "stages:\n"
    "  nurture: marketing\n"
    "  sales: ae\n"
    "sla:\n"
    "  first_touch: 1 business day\n"
    "  meeting: 36h\n"
    "  on_breach: notify\n"
    "reasons:\n"
    "  later: { then: nurture, cooldown: 30d }\n"
    "  gone: { then: suppress }\n";

static void test_expression_wording(void **state)
{
    (void)state;
    contract *c = parse_text("tiny.yaml", tiny_yaml, sizeof tiny_yaml - 1);
    assert_non_null(c);
    char *t = explain_flat(c);

    /* a literal on the left reads the natural way round */
    assert_contains(t, "- Pricing view: when the page category is \"pricing\" and the seconds spent on "
                       "the page is more than 90.");
    assert_contains(t, "- Asset download: when the event is \"Asset Downloaded\" and the event's asset "
                       "is unknown or not one of whitepaper or soc2.");
    /* signals under `or` inside `and`: "either", and the negated flag in words */
    assert_contains(t, "1. Quick — hand the lead to sales (team ae) at once, flagged fast-track, when "
                       "this event is either a pricing view or a demo request, and the reply is not "
                       "automatic.");
    /* a compound fit predicate is named; a single test is inlined */
    assert_contains(t, "2. Committee — hand the lead to sales (team ae) when the account fits the ideal "
                       "customer profile 'icp', at least 2 people at the account showed intent in the "
                       "last 14 days and there were at least 6 engagement signals across the whole "
                       "account in the last 14 days.");
    /* `!=` fails on a missing value and says so; `not (count < 3)` is "at
     * least 3"; the `or` inside `and` gets "either" */
    assert_contains(t, "3. Scored — hand the lead to sales (team ae) when the account's status is "
                       "something other than \"customer\" and either the closed-won score is at least "
                       "0.7 or the lead had at least 3 intent signals in the last 7 days.");
    /* a signal named by a past tense reads as a quoted signal; "in the last day" */
    assert_contains(t, "4. Noisy — hand the lead to sales (team ae) when the lead had more than 4 "
                       "'opened' signals in the last day and the latest demo request is more than 3 "
                       "days old.");
    assert_contains(t, "'icp' holds when the account's industry is one of software or fintech and the "
                       "account's employee count is at least 200.");
    /* a negated threshold holds for an unknown value: not "less than 50" alone */
    assert_contains(t, "'small' holds when the account's employee count is unknown or less than 50.");
    /* the noise kind is now read by a gate */
    assert_contains(t, "Noise: a kind this contract adds. The gate noisy looks at these signals.");
    /* SLAs in other units, and the other breach action */
    assert_contains(t, "sales (team ae) makes first contact within 1 business day, and a meeting is "
                       "booked within 36 hours around the clock. On a breach baton notifies the "
                       "owning team.");
    /* no require: nothing is held */
    assert_contains(t, "so no handoff is held for missing context");
    assert_contains(t, "The contract carries no golden tests.");
    assert_contains(t, "later returns the lead to nurture (marketing) for 30 days");
    assert_contains(t, "gone suppresses the lead");

    mem_free(t);
    contract_free(c);
}

/* Rarer constructs: negations pushed inward, `exists`, `last()`, a team
 * named by the gate, a gate's own requirement, elapsed SLAs, reroutes, and
 * a macro used 256 times (inlined up to a budget, each clause said once). */
static const char odd_yaml[] =
    "contract: odd\n"
    "version: 1\n"
    "signed_by: { marketing: m@odd.example, sales: s@odd.example }\n"
    "retention: 30d\n"
    "calendar:\n"
    "  timezone: Europe/Berlin\n"
    "  workdays: [mon, wed, fri]\n"
    "  hours: \"08:30-16:00\"\n"
    "macros:\n"
    "  p: page.seconds > 1\n"
    "  d1: p and p\n"
    "  d2: d1 and d1\n"
    "  d3: d2 and d2\n"
    "  d4: d3 and d3\n"
    "  d5: d4 and d4\n"
    "  d6: d5 and d5\n"
    "  d7: d6 and d6\n"
    "  d8: d7 and d7\n"
    "fit:\n"
    "  fit_ok: account.revenue * 2 > 1000000 or account.segment == \"enterprise\"\n"
    "signals:\n"
    "  form_submitted: { kind: intent, when: event.name == \"Form Submitted\" and exists(traits.company) }\n"
    "  trial_reply: { kind: reply, when: not (event.name == \"A\" or event.name == \"B\") and properties.trial }\n"
    "  webinar: { kind: engagement, when: properties.title starts_with \"Live\" and not (context.campaign matches \"^spam\") }\n"
    "points:\n"
    "  per_signal: { webinar: 5, form_submitted: -2 }\n"
    "gates:\n"
    "  - name: neither\n"
    "    when: not (form_submitted or trial_reply) and last(webinar) > now - 7d and lead.traits.plan_tier == \"gold\"\n"
    "    to: sales\n"
    "    require: [pain]\n"
    "  - name: dm\n"
    "    when: not (fit.fit_ok and count(webinar, 7d) >= 2) and points >= 40 and reply.to_human == false and (webinar or d8)\n"
    "    to: sales\n"
    "    team: enterprise-ae\n"
    "context:\n"
    "  did: \"{trigger}: {gate} ({pain}); {exists(lead.pain)}\"\n"
    "  asks: \"{question} about {topic}\"\n"
    "stages: { nurture: marketing, sales: ae }\n"
    "sla: { first_touch: 2h, meeting: 5 business days, on_breach: reassign }\n"
    "reasons:\n"
    "  back: { then: nurture }\n"
    "  moved: { then: reroute }\n";

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static void test_rarer_constructs_wording(void **state)
{
    (void)state;
    contract *c = parse_text("odd.yaml", odd_yaml, sizeof odd_yaml - 1);
    assert_non_null(c);
    char *t = explain_flat(c);

    assert_contains(t, "Calendar: business days are Monday, Wednesday and Friday, 08:30 to 16:00, "
                       "Europe/Berlin time.");
    assert_contains(t, "baton keeps 30 days of each lead's history");
    assert_contains(t, "'fit_ok' holds when the account's annual revenue times 2 is more than 1000000 or "
                       "the account's segment is \"enterprise\".");
    assert_contains(t, "- Form submitted: when the event is \"Form Submitted\" and the person's company "
                       "is known.");
    /* not (x == a or x == b): one clause, true for a missing x */
    assert_contains(t, "- Trial reply: when the event is unknown or neither \"A\" nor \"B\", and the "
                       "event's trial is true.");
    assert_contains(t, "- Webinar: when the event's title starts with \"Live\" and the event context's "
                       "campaign is unknown or does not match the pattern \"^spam\".");
    assert_contains(t, "1. Neither — hand the lead to sales (team ae) when this event is neither a 'form "
                       "submitted' signal nor a trial reply, the latest webinar was within the last 7 "
                       "days, and the lead's plan tier is \"gold\"; this gate also needs the lead's "
                       "current pain.");
    /* not (a and b) is "either not a or not b"; x == false is "not x" */
    assert_contains(t, "2. Dm — hand the lead to sales (team enterprise-ae) when either the account does "
                       "not fit the ideal customer profile 'fit_ok' or the lead had fewer than 2 "
                       "webinars in the last 7 days, the lead's points total is at least 40, the reply "
                       "does not answer a person, and either this event is a webinar or all of the "
                       "seconds spent on the page is more than 1");
    char *dm = between(t, "2. Dm —", "What every handoff must carry");
    assert_int_equal(occurrences(dm, "the seconds spent on the page is more than 1"), 1);
    assert_contains(dm, "the condition 'd"); /* past the budget, macros are named */
    assert_true(strlen(dm) < 1000);
    mem_free(dm);

    assert_contains(t, "the gates above say where one is needed");
    assert_contains(t, "1. What the lead did: [what triggered the handoff]: [the gate that handed the "
                       "lead off] ([the lead's pain]); [whether the lead's stated pain is known]");
    assert_contains(t, "2. What the buyer wants to know: [the buyer's question] about [the topic]");
    assert_contains(t, "sales (ae or enterprise-ae, whichever receives the lead) makes first contact "
                       "within 2 hours around the clock, and a meeting is booked within 5 business days. "
                       "On a breach baton reassigns the lead to someone else.");
    assert_contains(t, "webinar 5 and form submitted -2; every other signal earns none. The gate dm "
                       "uses points.");
    assert_contains(t, "- back returns the lead to nurture (marketing).");
    assert_contains(t, "- moved reroutes the lead to another owner; it keeps its stage.");
    assert_contains(t, "It moves back only when sales rejects it with a reason that recycles it");

    mem_free(t);
    contract_free(c);
}

/* Every allocation explain makes may fail: the result then says so (oom),
 * and nothing leaks or crashes (the sanitizers watch). */
static void test_out_of_memory_is_reported(void **state)
{
    (void)state;
    contract *c = parse_text("tiny.yaml", tiny_yaml, sizeof tiny_yaml - 1);
    assert_non_null(c);
    strbuf whole;
    strbuf_init(&whole);
    size_t before = mem_alloc_count();
    contract_explain(c, &whole);
    size_t allocations = mem_alloc_count() - before;
    assert_false(whole.oom);
    assert_true(allocations > 0);
    for (size_t n = 1; n <= allocations; n++) {
        strbuf b;
        strbuf_init(&b);
        mem_fail_after(n);
        contract_explain(c, &b);
        mem_fail_after(0);
        if (!b.oom) fail_msg("allocation %zu of %zu failed silently", n, allocations);
        strbuf_free(&b);
    }
    strbuf_free(&whole);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest example_tests[] = {
        cmocka_unit_test(test_r4_header_names_signers_version_and_calendar),
        cmocka_unit_test(test_r12_fit_predicates_in_words),
        cmocka_unit_test(test_r2_noise_kind_never_counts),
        cmocka_unit_test(test_r5_r9_signal_sentences),
        cmocka_unit_test(test_r2_fast_track_gate_sentence),
        cmocka_unit_test(test_r12_fit_intent_gate_sentence),
        cmocka_unit_test(test_r6_gates_keep_their_order),
        cmocka_unit_test(test_r11_handoff_must_carry_pain_and_impact),
        cmocka_unit_test(test_r3_context_lines_and_questions),
        cmocka_unit_test(test_r1_stages_in_order_with_owners),
        cmocka_unit_test(test_r7_service_levels),
        cmocka_unit_test(test_points_model),
        cmocka_unit_test(test_r12_rejection_reasons),
        cmocka_unit_test(test_golden_test_count),
    };
    const struct CMUnitTest tiny_tests[] = {
        cmocka_unit_test(test_expression_wording),
        cmocka_unit_test(test_rarer_constructs_wording),
        cmocka_unit_test(test_out_of_memory_is_reported),
    };
    int failed = cmocka_run_group_tests_name("explain: example contract", example_tests, example_setup,
                                             example_teardown);
    failed += cmocka_run_group_tests_name("explain: wording", tiny_tests, NULL, NULL);
    return failed;
}
