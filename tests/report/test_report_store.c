/* The report's facts from a store (report/store.c, `baton report --db`):
 *   1. the October fixture of test_report.c recorded into a SQLite store as
 *      the server records it (events, handoff packets, the timeline) gives
 *      the same review as its replay, byte for byte, and the same
 *      hand-worked figures;
 *   2. a hand-built store: outcomes tied to the handoff current at their
 *      time, an alias, a code only an older contract had, a release known
 *      only from the timeline, a breach row that changes nothing. */
#include "../store_fixture.h"
#include "review.h"
#include "engine/engine.h"
#include "report/report.h"
#include "store/store.h"

#include <jansson.h>
#include <unistd.h>

#define H MS_PER_HOUR

/* ---- a recorder as the server's (http/commit.c), without the webhooks -------------- */

typedef struct recorder {
    store *s;
    const contract *c;
    strbuf packet;
} recorder;

static void record_handoff(void *ctx, const handoff *h)
{
    recorder *r = ctx;
    strbuf_reset(&r->packet);
    handoff_to_json(h, &r->packet);
    store_handoff row = {
        .id = h->number,
        .lead = h->lead,
        .account = h->account,
        .gate = contract_gate(r->c, h->gate)->name,
        .contract = contract_about(r->c)->name,
        .version = contract_about(r->c)->version,
        .at = h->at,
        .fast = h->fast,
        .stage = contract_stage(r->c, h->stage)->name,
        .team = h->team,
        .status = h->needs_context ? "needs_context" : "handed_off",
        .packet = r->packet.data,
    };
    assert_int_equal(r->s->ops->put_handoff(r->s, &row), STORE_OK);
}

static void record_change(void *ctx, const transition *t)
{
    recorder *r = ctx;
    store_change row = {
        .lead = t->lead,
        .handoff = t->handoff,
        .at = t->at,
        .from_stage = contract_stage(r->c, t->from_stage)->name,
        .from_status = lead_status_name((enum lead_status)t->from_status),
        .to_stage = contract_stage(r->c, t->to_stage)->name,
        .to_status = lead_status_name((enum lead_status)t->to_status),
        .owner = contract_stage(r->c, t->to_stage)->team,
        .cause = t->cause,
        .actor = "engine",
    };
    assert_int_equal(r->s->ops->put_change(r->s, &row), STORE_OK);
    const char *status = strncmp(t->cause, "rejected", 8) == 0 ? "rejected"
                         : t->to_status == STATUS_NEEDS_CONTEXT ? "needs_context"
                         : t->to_status == STATUS_HANDED_OFF    ? "handed_off"
                         : t->to_status == STATUS_ACCEPTED      ? "accepted"
                                                                : NULL;
    if (t->handoff && status) assert_int_equal(r->s->ops->set_handoff_status(r->s, t->handoff, status), STORE_OK);
}

static void record_alias(void *ctx, const char *alias, const char *lead)
{
    recorder *r = ctx;
    assert_int_equal(r->s->ops->put_alias(r->s, alias, lead), STORE_OK);
}

static void str_copy(char *out, size_t size, str s)
{
    snprintf(out, size, "%.*s", (int)s.len, s.s ? s.s : "");
}

/* Both sinks at once: the store, as the server records, and the collector,
 * as `baton report EVENTS` collects. */
typedef struct both {
    recorder *r;
    engine_sink collect;
} both;

static void both_handoff(void *ctx, const handoff *h)
{
    both *b = ctx;
    record_handoff(b->r, h);
    b->collect.handoff(b->collect.ctx, h);
}

static void both_transition(void *ctx, const transition *t)
{
    both *b = ctx;
    record_change(b->r, t);
    b->collect.transition(b->collect.ctx, t);
}

static void both_outcome(void *ctx, const outcome *o)
{
    both *b = ctx;
    b->collect.outcome(b->collect.ctx, o);
}

static void both_alias(void *ctx, const char *alias, const char *lead)
{
    both *b = ctx;
    record_alias(b->r, alias, lead);
}

/* Replays a fixture, one event (and one transaction) at a time, into the
 * store and into `replayed`. */
static void record(store *s, const contract *c, const char *rel, report_data *replayed)
{
    char *text = read_fixture(rel, NULL);
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    report_collector *col = report_collector_new(replayed, c);
    assert_true(e && d && col);
    recorder r = {.s = s, .c = c};
    strbuf_init(&r.packet);
    both b = {.r = &r, .collect = report_collector_sink(col)};
    engine_sink sink = {.ctx = &b, .handoff = both_handoff, .transition = both_transition,
                        .outcome = both_outcome, .alias = both_alias};
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (end) *end = '\0';
        if (n) {
            char *original = strndup(line, n); /* decoding changes the bytes; the store keeps them */
            event ev;
            decode_error err;
            if (!decoder_decode(d, line, n, &ev, &err)) fail_msg("%s: %s", rel, err.what);
            char id[128], lead[128], name[128];
            str_copy(id, sizeof id, ev.message_id);
            str_copy(lead, sizeof lead, ev.user_id.len ? ev.user_id : ev.anonymous_id);
            str_copy(name, sizeof name, ev.name);
            store_event se = {.message_id = id, .lead = lead, .type = event_type_name((enum event_type)ev.type),
                              .name = name[0] ? name : NULL, .at = ev.timestamp, .received = ev.timestamp,
                              .body = original, .body_len = n};
            report_data_saw(replayed, ev.timestamp);
            assert_int_equal(s->ops->begin(s), STORE_OK);
            assert_int_equal(s->ops->put_event(s, &se), STORE_OK);
            assert_int_equal(engine_apply(e, &ev, &sink), APPLY_OK);
            assert_int_equal(s->ops->commit(s), STORE_OK);
            free(original);
        }
        line = end ? end + 1 : line + n;
    }
    assert_true(report_collector_ok(col));
    strbuf_free(&r.packet);
    report_collector_free(col);
    decoder_free(d);
    engine_free(e);
    free(text);
}

/* 1. The October fixture: from the store as from the replay. */
static void test_store_matches_replay(void **state)
{
    fixture *f = *state;
    contract *c = must_load("tests/data/report/contract.yaml");
    store *s = open_ok(f);
    report_data *replayed = report_data_new(), *stored = report_data_new();
    record(s, c, "tests/data/report/figures.jsonl", replayed);
    char why[256];
    report_store_counts n;
    assert_int_equal(report_data_from_store(stored, s, c, &n, why, sizeof why), REPORT_LOADED);
    assert_int_equal(n.handoffs, 10);      /* 2 in September, 8 in October */
    assert_int_equal(n.events, 37);        /* every line of the fixture */
    assert_int_equal(n.unknown_reasons, 0);
    assert_int_equal(report_data_handoff_count(stored), report_data_handoff_count(replayed));
    assert_int_equal(report_data_outcome_count(stored), report_data_outcome_count(replayed));
    assert_true(report_data_latest(stored) == at("2026-10-30T12:00:00Z"));

    report_review *a = review_month(replayed, c, "2026-10", 0, 0), *b = review_month(stored, c, "2026-10", 0, 0);
    const report_figures *fig = &b->cur; /* test_report.c's hand-worked October */
    assert_int_equal(fig->handoffs, 8);
    assert_int_equal(fig->accepted, 1);
    assert_int_equal(fig->rejected, 2);
    assert_int_equal(fig->by_reason[reason(b, "not_icp")], 1);
    assert_int_equal(fig->by_reason[reason(b, "wrong_person")], 1);
    assert_int_equal(fig->returns, 1); /* cy; hal was rerouted */
    assert_int_equal(fig->met, 2);
    assert_int_equal(fig->missed, 4);
    assert_int_equal(fig->pending, 1);
    assert_int_equal(fig->won, 1);
    assert_true(fig->amount == 50000);
    assert_int_equal(fig->response_median, 1 * H);
    assert_int_equal(fig->released, 1);
    assert_int_equal(fig->waiting, 1);
    assert_int_equal(fig->wait_median, 48 * H);
    assert_int_equal(fig->generic_question, 7);
    for (int fmt = 0; fmt < REPORT_FORMAT_COUNT; fmt++) {
        strbuf x, y;
        strbuf_init(&x);
        strbuf_init(&y);
        report_render(a, (enum report_format)fmt, &x);
        report_render(b, (enum report_format)fmt, &y);
        assert_int_equal(x.len, y.len);
        assert_string_equal(x.data, y.data);
        strbuf_free(&x);
        strbuf_free(&y);
    }
    report_review_free(a);
    report_review_free(b);
    report_data_free(replayed);
    report_data_free(stored);
    store_close(s);
    contract_free(c);
}

/* ---- 2. a hand-built store ------------------------------------------------------------ */

static void put_handoff(store *s, uint64_t id, const char *gate, uint32_t version, const char *when,
                        const char *packet)
{
    store_handoff row = {.id = id, .lead = "zoe", .account = "zed.example", .gate = gate, .contract = "report-test",
                         .version = version, .at = at(when), .stage = "sales", .team = "ae",
                         .status = "handed_off", .packet = packet};
    assert_int_equal(s->ops->put_handoff(s, &row), STORE_OK);
}

static void put_change(store *s, uint64_t number, const char *when, const char *from, const char *from_status,
                       const char *to, const char *to_status, const char *cause)
{
    store_change row = {.lead = "zoe", .handoff = number, .at = at(when), .from_stage = from,
                        .from_status = from_status, .to_stage = to, .to_status = to_status, .owner = "ae",
                        .cause = cause, .actor = "engine"};
    assert_int_equal(s->ops->put_change(s, &row), STORE_OK);
}

static void put_event(store *s, const char *id, const char *lead, const char *type, const char *name,
                      const char *when, const char *body)
{
    store_event e = {.message_id = id, .lead = lead, .type = type, .name = name, .at = at(when),
                     .received = at(when), .body = body, .body_len = strlen(body)};
    assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
}

/* zoe: handoff 1 (demo, v2, Mon 5 Oct 10:00), touched at 11:00 under her
 * anonymousId, rejected on the 6th for too_early — a code version 3 does
 * not have, which the timeline shows was applied (back to nurture: a
 * return) — and on the 7th for "bogus", which the engine never applied.
 * Handoff 2 (webinar, v3, Tue 20 Oct 10:00) waited for context; only the
 * timeline says so, and that it was released at 16:00. The meeting on the
 * 21st and the deal on the 22nd belong to handoff 2, the rejections to 1. */
static void build_zoe(store *s)
{
    assert_int_equal(s->ops->begin(s), STORE_OK);
    put_handoff(s, 1, "demo", 2, "2026-10-05T10:00:00Z",
                "{\"record\":\"handoff\",\"id\":1,\"lead\":\"zoe\",\"account\":\"zed.example\",\"gate\":\"demo\","
                "\"version\":2,\"at\":\"2026-10-05T10:00:00Z\",\"fast\":false,\"team\":\"ae\","
                "\"context\":{\"did\":\"Demo Requested\",\"asks\":\"Can it route by territory?\"},"
                "\"source\":\"linkedin\",\"fields\":{\"account.employees\":300,\"account.industry\":\"software\","
                "\"lead.created\":\"2026-09-01T00:00:00Z\",\"lead.vip\":true}}");
    put_handoff(s, 2, "webinar", 3, "2026-10-20T10:00:00Z",
                "{\"record\":\"handoff\",\"id\":2,\"lead\":\"zoe\",\"account\":\"zed.example\",\"gate\":\"webinar\","
                "\"version\":3,\"at\":\"2026-10-20T10:00:00Z\",\"fast\":false,\"team\":\"sdr\","
                "\"context\":{\"did\":\"Webinar\",\"asks\":\"What are they trying to solve?\"},\"source\":null,"
                "\"fields\":{}}");
    put_change(s, 1, "2026-10-05T10:00:00Z", "nurture", "open", "sales", "handed_off", "gate demo");
    put_change(s, 1, "2026-10-05T13:00:00Z", "sales", "handed_off", "sales", "handed_off",
               "sla breached: first_touch due 2026-10-05T13:00:00Z");
    put_change(s, 1, "2026-10-06T10:00:00Z", "sales", "handed_off", "nurture", "open", "rejected: too_early");
    put_change(s, 2, "2026-10-20T10:00:00Z", "nurture", "open", "nurture", "needs_context", "gate webinar");
    put_change(s, 2, "2026-10-20T16:00:00Z", "nurture", "needs_context", "development", "handed_off",
               "context supplied");
    assert_int_equal(s->ops->put_alias(s, "anon-7", "zoe"), STORE_OK);
    put_event(s, "e1", "anon-7", "track", "First Touch", "2026-10-05T11:00:00Z",
              "{\"type\":\"track\",\"anonymousId\":\"anon-7\",\"event\":\"First Touch\"}");
    put_event(s, "e2", "zoe", "track", "Handoff Rejected", "2026-10-06T10:00:00Z",
              "{\"type\":\"track\",\"userId\":\"zoe\",\"event\":\"Handoff Rejected\","
              "\"properties\":{\"reason\":\"too_early\"}}");
    put_event(s, "e3", "zoe", "track", "Handoff Rejected", "2026-10-07T10:00:00Z",
              "{\"type\":\"track\",\"userId\":\"zoe\",\"event\":\"Handoff Rejected\",\"properties\":{\"reason\":\"bogus\"}}");
    put_event(s, "e4", "zoe", "track", "Meeting Booked", "2026-10-21T10:00:00Z",
              "{\"type\":\"track\",\"userId\":\"zoe\",\"event\":\"Meeting Booked\"}");
    put_event(s, "e5", "zoe", "track", "Deal Won", "2026-10-22T10:00:00Z",
              "{\"type\":\"track\",\"userId\":\"zoe\",\"event\":\"Deal Won\",\"properties\":{\"amount\":\"1200\"}}");
    put_event(s, "e6", "zoe", "page", NULL, "2026-10-31T09:00:00Z", "{\"type\":\"page\",\"userId\":\"zoe\"}");
    assert_int_equal(s->ops->commit(s), STORE_OK);
}

static void test_store_ties_outcomes(void **state)
{
    fixture *f = *state;
    contract *c = must_load("tests/data/report/contract.yaml");
    store *s = open_ok(f);
    build_zoe(s);

    report_data *d = report_data_new();
    char why[256];
    report_store_counts n;
    assert_int_equal(report_data_from_store(d, s, c, &n, why, sizeof why), REPORT_LOADED);
    assert_int_equal(n.handoffs, 2);
    assert_int_equal(n.events, 6);
    assert_int_equal(n.outcomes, 4); /* touch, too_early, meeting, won */
    assert_int_equal(n.unknown_reasons, 1); /* bogus */
    assert_true(report_data_latest(d) == at("2026-10-31T09:00:00Z"));

    const report_handoff *h1 = report_data_find(d, 1), *h2 = report_data_find(d, 2);
    assert_int_equal(h1->version, 2);
    assert_string_equal(h1->source, "linkedin");
    assert_false(h1->needs_context);
    assert_false(h1->generic_question);
    assert_int_equal(h1->field_count, 3); /* lead.created is a time: left out */
    assert_string_equal(h1->fields[0].name, "account.employees");
    assert_true(h1->fields[0].numeric && h1->fields[0].num == 300);
    assert_string_equal(h1->fields[1].text, "software");
    assert_string_equal(h1->fields[2].text, "true");
    assert_true(h2->needs_context);
    assert_true(h2->released == at("2026-10-20T16:00:00Z"));
    assert_true(h2->generic_question);
    assert_null(h2->source);

    for (size_t i = 0; i < report_data_outcome_count(d); i++) {
        const report_outcome *o = report_data_outcome(d, i);
        assert_string_equal(o->lead, "zoe");
        assert_int_equal(o->handoff, o->at < at("2026-10-20T10:00:00Z") ? 1 : 2);
        if (o->kind == OUTCOME_REJECTED) assert_true(o->returned && strcmp(o->reason, "too_early") == 0);
        if (o->kind == OUTCOME_WON) assert_true(o->amount == 1200);
    }

    report_review *r = review_month(d, c, "2026-10", 0, 0);
    assert_int_equal(r->cur.handoffs, 2);
    assert_int_equal(r->cur.rejected, 1);
    assert_int_equal(r->cur.by_reason[reason(r, "too_early")], 1); /* the older version's code, after the contract's */
    assert_int_equal(r->cur.returns, 1);
    assert_int_equal(r->cur.touched, 1);
    assert_int_equal(r->cur.response_median, 1 * H);
    assert_int_equal(r->cur.met, 1);    /* handoff 2: released the 20th, meeting the 21st */
    assert_int_equal(r->cur.missed, 1); /* handoff 1: none by Tue 20 Oct 10:00 (the 12th a holiday) */
    assert_int_equal(r->cur.won, 1);
    assert_true(r->cur.amount == 1200);
    assert_int_equal(r->cur.released, 1);
    assert_int_equal(r->cur.wait_median, 6 * H);
    assert_int_equal(r->cur.generic_question, 1);
    report_review_free(r);
    report_data_free(d);
    store_close(s);
    contract_free(c);
}

/* Every allocation of the load fails in turn: each failure is reported as
 * running out of memory and (under ASan) leaks nothing. */
static void test_store_out_of_memory(void **state)
{
    fixture *f = *state;
    contract *c = must_load("tests/data/report/contract.yaml");
    store *s = open_ok(f);
    build_zoe(s);
    size_t failures = 0;
    for (size_t n = 1;; n++) {
        report_data *d = report_data_new();
        assert_non_null(d);
        char why[256];
        mem_fail_after(n);
        int rc = report_data_from_store(d, s, c, NULL, why, sizeof why);
        mem_fail_after(0);
        report_data_free(d);
        if (rc == REPORT_LOADED) break;
        /* the store's own buffers report through the store */
        assert_true(rc == REPORT_LOAD_NOMEM || rc == REPORT_LOAD_STORE);
        if (!strstr(why, "out of memory")) fail_msg("allocation %zu: %s", n, why);
        failures++;
    }
    assert_true(failures > 10);
    store_close(s);
    contract_free(c);
}

/* A packet that is not JSON is the store's fault, said as such. */
static void test_store_bad_packet(void **state)
{
    fixture *f = *state;
    contract *c = must_load("tests/data/report/contract.yaml");
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    put_handoff(s, 1, "demo", 3, "2026-10-05T10:00:00Z", "{\"id\":1,\"lead\":\"zoe\"}");
    assert_int_equal(s->ops->commit(s), STORE_OK);
    report_data *d = report_data_new();
    char why[256];
    assert_int_equal(report_data_from_store(d, s, c, NULL, why, sizeof why), REPORT_LOAD_STORE);
    assert_string_equal(why, "handoff 1: its packet has no lead, gate or time");
    report_data_free(d);
    store_close(s);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_store_matches_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_ties_outcomes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_bad_packet, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
