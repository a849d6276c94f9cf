/* The shared figures, the monthly review and the what-if diff (R7, R12), on
 * small fixtures whose figures were worked out by hand:
 *   tests/data/report/figures.jsonl  September and October 2026 (see below)
 *   tests/data/report/suggest.jsonl  twelve demo requests in November, five of
 *                                    the six not_icp rejections at accounts
 *                                    under 200 people
 * under tests/data/report/contract.yaml (A) and contract-b.yaml (B).
 *
 * October, as of 2026-10-30 12:00 UTC (the last event); UTC business hours
 * 09-17, Monday 12 October a holiday; first touch 4 business hours, meeting
 * within 10 business days:
 *   ana  demo    Thu 1 Oct 10:00  touch 12:30 (2.5h), accepted, meeting Fri 16 Oct
 *                                 15:00: in time only because the 12th is a
 *                                 holiday (due Fri 16 Oct 17:00); won 50,000
 *   ben  demo    Thu 1 Oct 11:00  touch Fri 10:00 (7 business hours, a breach),
 *                                 meeting Mon 19 Oct: missed
 *   cy   demo    Mon 5 Oct 16:00  rejected not_icp, back to nurture (a return)
 *   dee  webinar Tue 6 Oct 10:00  needs context, released Thu 8 Oct 10:00 (48h),
 *                                 touch 11:00, meeting Fri 9 Oct; asked a question
 *   hal  demo    Wed 7 Oct 10:00  rejected wrong_person (rerouted: no return)
 *   eli  webinar Wed 14 Oct 10:00 nothing: missed (due Wed 28 Oct 17:00)
 *   fay  demo    Tue 20 Oct 10:00 needs context, still waiting (242h at as-of)
 *   gus  demo    Wed 28 Oct 10:00 touch 10:30; pending (due Wed 11 Nov 17:00)
 * September: jon (touch 1h, meeting next day) and kim (rejected not_icp). */
#include "review.h"
#include "engine/engine.h"
#include "report/report.h"

#include <jansson.h>

#define H MS_PER_HOUR

/* The contract of the report tests without its holiday. */
static contract *load_without_holiday(void)
{
    char *text = read_fixture("tests/data/report/contract.yaml", NULL);
    char *h = strstr(text, "holidays: [2026-10-12]");
    assert_non_null(h);
    memcpy(h, "holidays: [          ]", strlen("holidays: [2026-10-12]"));
    contract *c = must_parse("no-holiday.yaml", text);
    free(text);
    return c;
}

/* Replays a fixture through the engine into report data, as `baton report` does. */
static report_data *replay(const contract *c, const char *rel)
{
    size_t len;
    char *text = read_fixture(rel, &len);
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    report_data *data = report_data_new();
    report_collector *col = report_collector_new(data, c);
    assert_true(e && d && data && col);
    engine_sink sink = report_collector_sink(col);
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (end) *end = '\0';
        if (n) {
            event ev;
            decode_error err;
            if (!decoder_decode(d, line, n, &ev, &err)) fail_msg("%s: %s", rel, err.what);
            report_data_saw(data, ev.timestamp);
            assert_int_equal(engine_apply(e, &ev, &sink), APPLY_OK);
        }
        line = end ? end + 1 : line + n;
    }
    assert_true(report_collector_ok(col));
    report_collector_free(col);
    decoder_free(d);
    engine_free(e);
    free(text);
    return data;
}

/* R7, R11, R12: every figure of October, by hand. */
static void test_figures_october(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, NULL, 0, 0); /* the month of the last event */
    assert_string_equal(r->label, "2026-10");
    assert_string_equal(r->prev_label, "2026-09");
    assert_true(r->as_of == at("2026-10-30T12:00:00Z"));
    const report_figures *f = &r->cur;
    assert_int_equal(f->handoffs, 8);
    assert_int_equal(f->fast, 0);
    assert_int_equal(f->accepted, 1);
    assert_int_equal(f->rejected, 2);
    assert_int_equal(f->by_reason[reason(r, "not_icp")], 1);
    assert_int_equal(f->by_reason[reason(r, "wrong_person")], 1);
    assert_int_equal(f->by_reason[reason(r, "wrong_timing")], 0);
    assert_int_equal(f->returns, 1); /* cy went back to nurture; hal was rerouted */
    assert_int_equal(f->reached, 7);  /* fay still waits for context */
    assert_int_equal(f->met, 2);      /* ana (the holiday), dee */
    assert_int_equal(f->missed, 4);   /* ben, cy, hal, eli */
    assert_int_equal(f->pending, 1);  /* gus */
    assert_true(report_meeting_rate(f) > 0.333 && report_meeting_rate(f) < 0.334);
    assert_int_equal(f->opportunities, 1);
    assert_int_equal(f->won, 1);
    assert_true(f->amount == 50000);
    assert_int_equal(f->touched, 4);
    assert_int_equal(f->response_median, 1 * H); /* 0.5h 1h 2.5h 7h: nearest rank 2 */
    assert_int_equal(f->response_p90, 7 * H);
    assert_int_equal(f->sla_met, 3);      /* ana, dee, gus */
    assert_int_equal(f->sla_breached, 4); /* ben late; cy, hal, eli never touched */
    assert_int_equal(f->sla_pending, 0);
    assert_int_equal(f->needs_context, 2);
    assert_int_equal(f->released, 1);
    assert_int_equal(f->waiting, 1);
    assert_int_equal(f->wait_median, 48 * H);
    assert_int_equal(f->wait_longest, 242 * H);
    assert_int_equal(f->generic_question, 7); /* all but dee, who asked */

    /* by gate (the contract's order), source (largest first), owner, version */
    assert_string_equal(r->groups[DIM_GATE][0].key, "demo");
    assert_int_equal(group(r, DIM_GATE, "demo")->cur.handoffs, 6);
    assert_int_equal(group(r, DIM_GATE, "webinar")->cur.handoffs, 2);
    assert_int_equal(group(r, DIM_GATE, "webinar")->cur.met, 1);
    assert_int_equal(group(r, DIM_GATE, "webinar")->cur.missed, 1);
    assert_string_equal(r->groups[DIM_SOURCE][0].key, "(none)");
    assert_int_equal(r->groups[DIM_SOURCE][0].cur.handoffs, 5);
    const report_group *linkedin = group(r, DIM_SOURCE, "linkedin");
    assert_int_equal(linkedin->cur.handoffs, 2);
    assert_int_equal(linkedin->cur.met, 1);
    assert_int_equal(linkedin->cur.missed, 1);
    assert_int_equal(group(r, DIM_SOURCE, "webinar-oct")->cur.handoffs, 1);
    assert_int_equal(group(r, DIM_OWNER, "ae")->cur.handoffs, 6);
    assert_int_equal(group(r, DIM_OWNER, "sdr")->cur.handoffs, 2);
    assert_int_equal(group(r, DIM_VERSION, "v3")->cur.handoffs, 8);
    assert_int_equal(group(r, DIM_VERSION, "v3")->prev.handoffs, 2);
    assert_int_equal(r->suggestion_count, 0); /* no gate has five rejections */
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* Month over month: September, and the trend. */
static void test_previous_month_and_trend(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, "2026-10", 0, 0);
    const report_figures *p = &r->prev;
    assert_int_equal(p->handoffs, 2);
    assert_int_equal(p->rejected, 1);
    assert_int_equal(p->returns, 1);
    assert_int_equal(p->met, 1);
    assert_int_equal(p->missed, 1);
    assert_int_equal(p->touched, 1);
    assert_int_equal(p->response_median, 1 * H);
    assert_int_equal(p->sla_breached, 1);
    assert_int_equal(r->trend_count, 2);
    assert_string_equal(r->trend[0].label, "2026-09");
    assert_int_equal(r->trend[0].f.handoffs, 2);
    assert_string_equal(r->trend[1].label, "2026-10");
    assert_int_equal(r->trend[1].f.handoffs, 8);
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* R7: ten business days across the holiday. Without it, ana's meeting on
 * Friday 16 October comes a day late. */
static void test_meeting_deadline_across_holiday(void **state)
{
    contract *c = load_without_holiday();
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, "2026-10", 0, 0);
    assert_int_equal(group(r, DIM_SOURCE, "linkedin")->cur.met, 0);
    assert_int_equal(group(r, DIM_SOURCE, "linkedin")->cur.missed, 2);
    assert_int_equal(r->cur.met, 1);
    assert_int_equal(r->cur.missed, 5);
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* R7: a lead inside its ten days is pending, never a failure, until the end
 * of the tenth business day; what happens after "as of" is not known yet. */
static void test_pending_until_the_deadline(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, "2026-10", at("2026-11-11T16:59:00Z"), 0);
    assert_int_equal(r->cur.pending, 1); /* gus, due at 17:00 */
    assert_int_equal(r->cur.missed, 4);
    report_review_free(r);
    r = review_month(d, c, "2026-10", at("2026-11-11T17:01:00Z"), 0);
    assert_int_equal(r->cur.pending, 0);
    assert_int_equal(r->cur.missed, 5);
    report_review_free(r);
    /* as of Friday 16 October 14:00: ana's meeting at 15:00 has not happened yet */
    r = review_month(d, c, "2026-10", at("2026-10-16T14:00:00Z"), 0);
    assert_int_equal(r->cur.handoffs, 6); /* fay and gus come later */
    assert_int_equal(r->cur.met, 1);      /* dee */
    assert_int_equal(r->cur.missed, 0);
    assert_int_equal(r->cur.pending, 5);
    assert_int_equal(r->cur.won, 0);
    assert_int_equal(r->cur.released, 1);
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* R7: the four causes, with a 50% target the October rate (33%) is low. */
static void test_diagnosis(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, "2026-10", 0, 0.5);
    const report_diagnosis *g = &r->diagnosis;
    assert_true(g->low);
    assert_int_equal(g->misses, 4);
    assert_int_equal(g->causes[CAUSE_WRONG_LEADS].misses, 2);   /* cy, hal */
    assert_int_equal(g->causes[CAUSE_SLOW_RESPONSE].misses, 1); /* ben */
    assert_int_equal(g->causes[CAUSE_NO_CONTEXT].misses, 4);    /* no question of their own */
    assert_int_equal(g->causes[CAUSE_NOT_WORKED].misses, 1);    /* eli */
    assert_int_equal(g->main_cause, CAUSE_NO_CONTEXT);
    assert_true(g->causes[CAUSE_WRONG_LEADS].rate_with == 0);
    assert_true(g->causes[CAUSE_WRONG_LEADS].rate_without == 0.5);
    /* every decided handoff lacked context: dee waited for it, the rest asked nothing */
    assert_true(g->causes[CAUSE_NO_CONTEXT].rate_with == 2.0 / 6);
    assert_true(g->causes[CAUSE_NO_CONTEXT].rate_without == -1);
    assert_non_null(strstr(g->causes[CAUSE_WRONG_LEADS].evidence,
                           "2 of 4 missed handoffs were rejected by sales: not_icp 1, wrong_person 1."));
    assert_non_null(strstr(g->causes[CAUSE_SLOW_RESPONSE].evidence, "after the 4 business hours SLA"));
    report_review_free(r);
    r = review_month(d, c, "2026-10", 0, 0); /* the default 30% target */
    assert_false(r->diagnosis.low);
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* R12: five of six not_icp rejections are at accounts under 200 people; the
 * suggestion names the field and the threshold. */
static void test_suggestion_names_the_attribute(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/suggest.jsonl");
    report_review *r = review_month(d, c, "2026-11", 0, 0);
    assert_int_equal(r->cur.handoffs, 12);
    assert_int_equal(r->cur.rejected, 6);
    assert_int_equal(r->suggestion_count, 1);
    const report_suggestion *s = &r->suggestions[0];
    assert_string_equal(s->gate, "demo");
    assert_string_equal(s->reason, "not_icp");
    assert_string_equal(s->field, "account.employees");
    assert_true(s->numeric && s->keep_at_least);
    assert_true(s->threshold == 200);
    assert_int_equal(s->target, 6);
    assert_int_equal(s->target_removed, 5);
    assert_int_equal(s->removed, 6);
    assert_int_equal(s->removed_rejected, 5);
    assert_int_equal(s->removed_kept, 1);
    assert_int_equal(s->removed_meetings, 0);
    assert_string_equal(s->text, "demo: 83% of not_icp rejections (5 of 6) have account.employees < 200; requiring "
                                 "account.employees >= 200 would have removed 6 handoffs, 5 of them rejected.");
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* The what-if: B requires 200 people and adds a pricing gate ahead of demo. */
static void test_diff_known_changes(void **state)
{
    contract *a = must_load("tests/data/report/contract.yaml");
    contract *b = must_load("tests/data/report/contract-b.yaml");
    report_data *da = replay(a, "tests/data/report/suggest.jsonl");
    report_data *db = replay(b, "tests/data/report/suggest.jsonl");
    report_diff *d = report_diff_new(da, a, db, b);
    assert_non_null(d);
    assert_int_equal(d->before, 12);
    assert_int_equal(d->after, 7);
    assert_int_equal(d->lost, 6);   /* s01-s05 and s07, under 200 people */
    assert_int_equal(d->gained, 1); /* t01 looked at pricing and asked nothing */
    assert_int_equal(d->earlier, 1); /* s08: pricing two days before its demo */
    assert_int_equal(d->later, 0);
    const diff_gate *pricing = NULL, *demo = NULL;
    for (size_t i = 0; i < d->gate_count; i++) {
        if (strcmp(d->gates[i].gate, "pricing_look") == 0) pricing = &d->gates[i];
        if (strcmp(d->gates[i].gate, "demo") == 0) demo = &d->gates[i];
    }
    assert_true(pricing && demo);
    assert_int_equal(demo->before, 12);
    assert_int_equal(demo->after, 5);
    assert_int_equal(demo->lost, 6);
    assert_int_equal(demo->after_lost.leads, 6);
    assert_int_equal(demo->after_lost.rejected, 5);
    assert_int_equal(demo->after_lost.by_reason[0], 5); /* not_icp, the contract's first */
    assert_int_equal(demo->after_lost.meetings, 0);
    assert_int_equal(pricing->after, 2);
    assert_int_equal(pricing->gained, 1);
    assert_int_equal(pricing->after_gained.meetings, 1);
    assert_int_equal(pricing->earlier, 1);
    assert_int_equal(pricing->earlier_median, 48 * H);
    assert_int_equal(pricing->moved_in, 1);
    assert_int_equal(d->change_count, 8);
    bool saw_t01 = false;
    for (size_t i = 0; i < d->change_count; i++)
        if (strcmp(d->changes[i].lead, "t01") == 0) {
            saw_t01 = true;
            assert_null(d->changes[i].gate_a);
            assert_string_equal(d->changes[i].gate_b, "pricing_look");
            assert_string_equal(d->changes[i].fate, "meeting booked 2026-11-06");
        }
    assert_true(saw_t01);
    strbuf out;
    strbuf_init(&out);
    report_diff_render(d, true, &out);
    json_error_t err;
    json_t *j = json_loads(out.data, 0, &err);
    if (!j) fail_msg("diff JSON: %s", err.text);
    assert_int_equal(json_integer_value(json_object_get(j, "lost")), 6);
    assert_true(json_is_true(json_object_get(j, "changed")));
    json_decref(j);
    strbuf_free(&out);
    report_diff_free(d);
    /* the same contract on both sides changes nothing */
    d = report_diff_new(da, a, da, a);
    assert_int_equal(d->change_count, 0);
    assert_int_equal(d->gained + d->lost + d->earlier + d->later, 0);
    report_diff_free(d);
    report_data_free(da);
    report_data_free(db);
    contract_free(a);
    contract_free(b);
}

/* A store fills the same records: two contract versions, one handoff each. */
static void test_data_from_a_store(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = report_data_new();
    report_field size = {.name = "account.employees", .numeric = true, .num = 300};
    report_handoff h = {.number = 7, .lead = "zoe", .gate = "demo", .version = 2, .owner = "ae",
                        .at = at("2026-10-05T10:00:00Z"), .fields = &size, .field_count = 1};
    assert_true(report_data_add_handoff(d, &h));
    h = (report_handoff){.number = 3, .lead = "yan", .gate = "demo", .version = 3, .owner = "ae",
                         .at = at("2026-10-06T10:00:00Z"), .needs_context = true};
    assert_true(report_data_add_handoff(d, &h));
    assert_true(report_data_release(d, 3, at("2026-10-06T16:00:00Z")));
    assert_false(report_data_release(d, 99, at("2026-10-06T16:00:00Z")));
    report_outcome o = {.handoff = 7, .lead = "zoe", .kind = OUTCOME_TOUCH, .at = at("2026-10-05T11:30:00Z")};
    assert_true(report_data_add_outcome(d, &o));
    o = (report_outcome){.handoff = 3, .lead = "yan", .kind = OUTCOME_MEETING_BOOKED, .at = at("2026-10-07T10:00:00Z")};
    assert_true(report_data_add_outcome(d, &o));
    report_data_saw(d, at("2026-10-31T00:00:00Z"));
    report_review *r = review_month(d, c, "2026-10", 0, 0);
    assert_int_equal(r->cur.handoffs, 2);
    assert_int_equal(group(r, DIM_VERSION, "v2")->cur.handoffs, 1);
    assert_int_equal(group(r, DIM_VERSION, "v3")->cur.met, 1);
    assert_int_equal(r->cur.wait_median, 6 * H);
    assert_int_equal(r->cur.response_median, 90 * MS_PER_MINUTE);
    assert_int_equal(r->cur.sla_breached, 1); /* yan: released 16:00, due 12:00 next day, never touched */
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

/* Every format renders the same review; JSON parses, HTML stands alone. */
static void test_formats(void **state)
{
    contract *c = must_load("tests/data/report/contract.yaml");
    report_data *d = replay(c, "tests/data/report/figures.jsonl");
    report_review *r = review_month(d, c, "2026-10", 0, 0.5);
    strbuf out;
    strbuf_init(&out);

    report_render(r, REPORT_TEXT, &out);
    assert_non_null(strstr(out.data, "meeting within the SLA (R7)"));
    assert_non_null(strstr(out.data, "33% (2 of 6)"));
    assert_non_null(strstr(out.data, "Main cause: handoff lacks context."));

    strbuf_reset(&out);
    report_render(r, REPORT_MARKDOWN, &out);
    assert_non_null(strstr(out.data, "| handoffs | 8 | 2 | +6 |"));

    strbuf_reset(&out);
    report_render(r, REPORT_JSON, &out);
    json_error_t err;
    json_t *j = json_loads(out.data, 0, &err);
    if (!j) fail_msg("review JSON: %s at %d", err.text, err.position);
    json_t *fig = json_object_get(j, "figures");
    assert_int_equal(json_integer_value(json_object_get(fig, "handoffs")), 8);
    assert_int_equal(json_integer_value(json_object_get(fig, "meetings_pending")), 1);
    assert_true(json_real_value(json_object_get(fig, "meeting_rate")) == 0.3333);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(fig, "rejected_by_reason"), "not_icp")), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "diagnosis"), "main_cause")),
                        "no_context");
    json_decref(j);

    strbuf_reset(&out);
    report_render(r, REPORT_CSV, &out);
    assert_true(strncmp(out.data, "slice,key,period,handoffs,", 26) == 0);
    assert_non_null(strstr(out.data, "\nall,,2026-10,8,0,1,2,0.25,1,7,2,4,1,"));

    strbuf_reset(&out);
    report_render(r, REPORT_HTML, &out);
    assert_true(strncmp(out.data, "<!doctype html>", 15) == 0);
    assert_non_null(strstr(out.data, "<svg"));
    assert_null(strstr(out.data, "<script"));
    assert_null(strstr(out.data, "http://"));
    assert_null(strstr(out.data, "https://"));
    strbuf_free(&out);
    report_review_free(r);
    report_data_free(d);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_october),
        cmocka_unit_test(test_previous_month_and_trend),
        cmocka_unit_test(test_meeting_deadline_across_holiday),
        cmocka_unit_test(test_pending_until_the_deadline),
        cmocka_unit_test(test_diagnosis),
        cmocka_unit_test(test_suggestion_names_the_attribute),
        cmocka_unit_test(test_diff_known_changes),
        cmocka_unit_test(test_data_from_a_store),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
