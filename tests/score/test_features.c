/* Features and training rows from engine state (R8): what a lead's inputs
 * are at a time, that rows never see the future, and that on a simulated
 * history the model finds what drove the simulator's wins. */
#include "../harness.h"
#include "engine/engine.h"
#include "sim/sim.h"

#include <math.h>

#define CONTRACT "tests/score/score.yaml"

static time_ms at(const char *iso)
{
    time_ms t;
    if (!time_parse(iso, strlen(iso), &t)) fail_msg("bad time %s", iso);
    return t;
}

/* ---- a source over JSON lines in memory ------------------------------------------ */

typedef struct lines {
    const char *const *json;
    size_t count, next;
    decoder *d;
    char buf[4096];
} lines;

static bool lines_rewind(void *ctx)
{
    ((lines *)ctx)->next = 0;
    return true;
}

static int lines_next(void *ctx, event *ev)
{
    lines *l = ctx;
    if (l->next == l->count) return 0;
    snprintf(l->buf, sizeof l->buf, "%s", l->json[l->next++]);
    decode_error err;
    if (!decoder_decode(l->d, l->buf, strlen(l->buf), ev, &err)) fail_msg("refused: %s: %s", err.what, l->buf);
    return 1;
}

typedef struct row_copy {
    char text[64][64];
    double num[1024];
    size_t inputs;
    time_ms at;
    bool label;
} row_copy;

/* Collects rows from `json`; copies row `want` (by cut-off order of taking) out. */
static score_data *collect(const contract *c, const char *const *json, size_t n, features_summary *sum)
{
    lines l = {.json = json, .count = n, .d = decoder_new(c)};
    features_source src = {.ctx = &l, .rewind = lines_rewind, .next = lines_next};
    features_options o = {.horizon = 60 * MS_PER_DAY, .seed = 1};
    strbuf err;
    strbuf_init(&err);
    score_data *d = features_collect(c, &src, &o, sum, &err);
    if (!d) fail_msg("collect: %s", err.data);
    strbuf_free(&err);
    decoder_free(l.d);
    return d;
}

static int input(const score_schema *s, const char *name)
{
    int i = score_schema_find(s, name);
    if (i < 0) fail_msg("no input %s", name);
    return i;
}

/* ---- features at a time ------------------------------------------------------------ */

static const char *const ana_history[] = {
    "{\"type\":\"identify\",\"userId\":\"ana\",\"messageId\":\"a1\",\"timestamp\":\"2026-09-01T09:00:00Z\","
    "\"traits\":{\"email\":\"ana@northwind.example\",\"title\":\"CTO\",\"seniority\":\"c-level\"}}",
    "{\"type\":\"group\",\"userId\":\"ana\",\"messageId\":\"a2\",\"groupId\":\"northwind.example\","
    "\"timestamp\":\"2026-09-01T09:00:01Z\",\"traits\":{\"domain\":\"northwind.example\",\"industry\":\"software\","
    "\"employees\":450,\"revenue\":108000,\"country\":\"US\",\"status\":\"prospect\"}}",
    "{\"type\":\"page\",\"userId\":\"ana\",\"messageId\":\"a3\",\"timestamp\":\"2026-09-02T10:00:00Z\",\"category\":\"blog\"}",
    "{\"type\":\"page\",\"userId\":\"ana\",\"messageId\":\"a4\",\"timestamp\":\"2026-09-20T10:00:00Z\",\"category\":\"blog\"}",
    "{\"type\":\"track\",\"userId\":\"bo\",\"messageId\":\"b1\",\"timestamp\":\"2026-09-25T10:00:00Z\","
    "\"event\":\"Webinar Attended\",\"context\":{\"traits\":{\"email\":\"bo@northwind.example\"}}}",
    "{\"type\":\"identify\",\"userId\":\"bo\",\"messageId\":\"b2\",\"timestamp\":\"2026-09-25T10:00:01Z\","
    "\"traits\":{\"email\":\"bo@northwind.example\"}}",
    "{\"type\":\"track\",\"userId\":\"bo\",\"messageId\":\"b3\",\"timestamp\":\"2026-09-26T10:00:00Z\",\"event\":\"Webinar Attended\"}",
    "{\"type\":\"track\",\"userId\":\"ana\",\"messageId\":\"a5\",\"timestamp\":\"2026-09-28T10:00:00Z\",\"event\":\"Email Opened\"}",
};

static void test_features_count_only_the_past(void **state)
{
    (void)state;
    contract *c = must_load(CONTRACT);
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    char buf[1024];
    for (size_t i = 0; i < ARRAY_LEN(ana_history); i++) {
        snprintf(buf, sizeof buf, "%s", ana_history[i]);
        event ev;
        decode_error err;
        if (!decoder_decode(d, buf, strlen(buf), &ev, &err)) fail_msg("%s: %s", err.what, ana_history[i]);
        assert_int_equal(engine_apply(e, &ev, NULL), APPLY_OK);
    }
    features *f = features_new(e);
    assert_non_null(f);
    const score_schema *s = features_schema(f);
    size_t n = score_schema_count(s);
    const char **text = calloc(n, sizeof *text);
    double *num = calloc(n, sizeof *num);
    score_row row = {text, num};

    /* on 2026-09-27: two blog reads (one 7 days old, one 25), no email open yet */
    assert_true(features_at(f, "ana", at("2026-09-27T10:00:00Z"), &row));
    assert_string_equal(text[input(s, "account.industry")], "software");
    assert_string_equal(text[input(s, "account.employees")], "200-999");
    assert_string_equal(text[input(s, "account.revenue")], "1e5-1e6");
    assert_string_equal(text[input(s, "account.country")], "US");
    assert_string_equal(text[input(s, "lead.title")], "CTO");
    assert_string_equal(text[input(s, "lead.seniority")], "c-level");
    assert_true(num[input(s, "signal.blog_read.7d")] == 1);
    assert_true(num[input(s, "signal.blog_read.30d")] == 2);
    assert_true(num[input(s, "signal.blog_read.all")] == 2);
    assert_true(num[input(s, "kind.engagement.30d")] == 2);
    assert_true(num[input(s, "signal.email_open.all")] == 0);
    assert_string_equal(text[input(s, "recency.any")], "7d");
    assert_string_equal(text[input(s, "recency.engagement")], "7d");
    assert_null(text[input(s, "recency.noise")]);
    /* the account: ana's two reads and bo's two webinars in 30 days, two people */
    assert_true(num[input(s, "account.hits.engagement.30d")] == 4);
    assert_true(num[input(s, "account.people.30d")] == 2);

    /* at the very second of the email open it is not counted; a second later it is */
    assert_true(features_at(f, "ana", at("2026-09-28T10:00:00Z"), &row));
    assert_true(num[input(s, "signal.email_open.all")] == 0);
    assert_true(features_at(f, "ana", at("2026-09-28T10:00:01Z"), &row));
    assert_true(num[input(s, "signal.email_open.all")] == 1);
    assert_string_equal(text[input(s, "recency.noise")], "1d");
    /* before anything happened: nothing counted */
    assert_true(features_at(f, "ana", at("2026-09-01T00:00:00Z"), &row));
    assert_true(num[input(s, "signal.blog_read.all")] == 0);
    assert_null(text[input(s, "recency.any")]);
    assert_false(features_at(f, "nobody", at("2026-09-27T10:00:00Z"), &row));
    free(text);
    free(num);
    features_free(f);
    decoder_free(d);
    engine_free(e);
    contract_free(c);
}

/* ---- leakage: rows are the same whatever happens at or after the cut-off ----------- */

#define BEFORE                                                                                                     \
    "{\"type\":\"identify\",\"userId\":\"ana\",\"messageId\":\"1\",\"timestamp\":\"2026-03-01T09:00:00Z\","         \
    "\"traits\":{\"email\":\"ana@northwind.example\",\"title\":\"CTO\",\"seniority\":\"c-level\"}}",                \
        "{\"type\":\"group\",\"userId\":\"ana\",\"messageId\":\"2\",\"groupId\":\"northwind.example\","             \
        "\"timestamp\":\"2026-03-01T09:00:01Z\",\"traits\":{\"domain\":\"northwind.example\",\"industry\":\"software\"," \
        "\"employees\":450,\"country\":\"US\"}}",                                                                  \
        "{\"type\":\"page\",\"userId\":\"ana\",\"messageId\":\"3\",\"timestamp\":\"2026-03-02T10:00:00Z\",\"category\":\"blog\"}", \
        "{\"type\":\"identify\",\"userId\":\"cy\",\"messageId\":\"4\",\"timestamp\":\"2026-03-03T09:00:00Z\","     \
        "\"traits\":{\"email\":\"cy@elsewhere.example\",\"title\":\"Data Analyst\"}}",                             \
        "{\"type\":\"page\",\"userId\":\"cy\",\"messageId\":\"5\",\"timestamp\":\"2026-03-04T10:00:00Z\",\"category\":\"blog\"}", \
        /* the cut-off: ana's long look at pricing hands her off (fast_track) */                                   \
        "{\"type\":\"page\",\"userId\":\"ana\",\"messageId\":\"6\",\"timestamp\":\"2026-03-05T10:00:00Z\","         \
        "\"category\":\"pricing\",\"properties\":{\"seconds\":200}}"

/* cy's last event, and a later one that ends the history past everyone's horizon but dan's */
#define LATE_END                                                                                                   \
    "{\"type\":\"page\",\"userId\":\"cy\",\"messageId\":\"98\",\"timestamp\":\"2026-12-01T10:00:00Z\",\"category\":\"docs\"}", \
        "{\"type\":\"identify\",\"userId\":\"dan\",\"messageId\":\"99\",\"timestamp\":\"2027-06-01T10:00:00Z\"," \
        "\"traits\":{\"email\":\"dan@x.example\"}}"

static const char *const quiet_future[] = {BEFORE, LATE_END};

/* The same past; then, at the cut-off's very second and after, more intent,
 * a new title, a new industry, and a win. */
static const char *const busy_future[] = {
    BEFORE,
    "{\"type\":\"track\",\"userId\":\"ana\",\"messageId\":\"7\",\"timestamp\":\"2026-03-05T10:00:00.500Z\","
    "\"event\":\"Demo Requested\"}",
    "{\"type\":\"identify\",\"userId\":\"ana\",\"messageId\":\"8\",\"timestamp\":\"2026-03-06T09:00:00Z\","
    "\"traits\":{\"title\":\"CEO\",\"seniority\":\"c-level\"}}",
    "{\"type\":\"group\",\"userId\":\"ana\",\"messageId\":\"9\",\"groupId\":\"northwind.example\","
    "\"timestamp\":\"2026-03-06T09:00:01Z\",\"traits\":{\"domain\":\"northwind.example\",\"industry\":\"fintech\","
    "\"employees\":6000}}",
    "{\"type\":\"track\",\"userId\":\"ana\",\"messageId\":\"10\",\"timestamp\":\"2026-03-07T10:00:00Z\","
    "\"event\":\"Quote Requested\"}",
    "{\"type\":\"track\",\"userId\":\"ana\",\"messageId\":\"11\",\"timestamp\":\"2026-04-20T10:00:00Z\","
    "\"event\":\"Deal Won\",\"properties\":{\"amount\":50000}}",
    LATE_END,
};

static void test_rows_never_see_the_cut_off_or_after(void **state)
{
    (void)state;
    contract *c = must_load(CONTRACT);
    features_summary qs, bs;
    score_data *quiet = collect(c, quiet_future, ARRAY_LEN(quiet_future), &qs);
    score_data *busy = collect(c, busy_future, ARRAY_LEN(busy_future), &bs);
    /* two rows each: ana cut at her handoff, cy at a drawn event; dan's horizon
     * runs past the end of the history with nothing settled */
    assert_int_equal(score_data_rows(quiet), 2);
    assert_int_equal(score_data_rows(busy), 2);
    assert_int_equal(qs.censored, 1);
    assert_int_equal(qs.leads, 3);
    assert_int_equal(qs.handed_off, 1);
    assert_int_equal(bs.handed_off, 1);
    assert_int_equal(score_data_positives(quiet), 0);
    assert_int_equal(score_data_positives(busy), 1); /* the win labels ana's row, and only that */

    const score_schema *s = score_data_schema(quiet);
    size_t n = score_schema_count(s);
    const char **t1 = calloc(n, sizeof *t1), **t2 = calloc(n, sizeof *t2);
    double *n1 = calloc(n, sizeof *n1), *n2 = calloc(n, sizeof *n2);
    score_row r1 = {t1, n1}, r2 = {t2, n2};
    for (size_t i = 0; i < 2; i++) {
        time_ms a1, a2;
        bool l1, l2;
        score_data_row(quiet, i, &r1, &a1, &l1);
        score_data_row(busy, i, &r2, &a2, &l2);
        assert_true(a1 == a2);
        for (size_t k = 0; k < n; k++) {
            if (n1[k] != n2[k]) fail_msg("row %zu input %s: %g before, %g with a busy future", i,
                                         score_schema_name(s, k), n1[k], n2[k]);
            if ((t1[k] == NULL) != (t2[k] == NULL) || (t1[k] && strcmp(t1[k], t2[k]) != 0))
                fail_msg("row %zu input %s: '%s' before, '%s' with a busy future", i, score_schema_name(s, k),
                         t1[k] ? t1[k] : "null", t2[k] ? t2[k] : "null");
        }
        if (a1 == at("2026-03-05T10:00:00Z") + 1) { /* ana's row: just after the pricing view */
            assert_true(l2 && !l1);
            assert_string_equal(t1[input(s, "lead.title")], "CTO");
            assert_string_equal(t1[input(s, "account.industry")], "software");
            assert_true(n1[input(s, "signal.pricing_deep_dive.all")] == 1);
            assert_true(n1[input(s, "signal.demo_request.all")] == 0);
        }
    }
    free(t1);
    free(t2);
    free(n1);
    free(n2);
    score_data_free(quiet);
    score_data_free(busy);
    contract_free(c);
}

/* ---- a simulated history: the model finds the simulator's drivers ----------------- */

typedef struct simulated {
    sim_options o;
    sim *s;
    decoder *d;
    strbuf line;
} simulated;

static bool sim_rewind(void *ctx)
{
    simulated *g = ctx;
    sim_free(g->s);
    g->s = sim_new(&g->o);
    return g->s != NULL;
}

static int sim_event(void *ctx, event *ev)
{
    simulated *g = ctx;
    for (;;) {
        strbuf_reset(&g->line);
        if (!sim_next(g->s, &g->line)) return 0;
        decode_error err;
        if (decoder_decode(g->d, g->line.data, g->line.len - 1, ev, &err)) return 1;
    }
}

static void test_simulated_drivers_come_out_on_top(void **state)
{
    (void)state;
    contract *c = must_load(CONTRACT);
    simulated g = {.o = {.seed = 11, .accounts = 2000, .days = 300, .rate = 2000}, .d = decoder_new(c)};
    assert_true(time_parse("2026-01-05", 10, &g.o.start));
    strbuf_init(&g.line);
    features_source src = {.ctx = &g, .rewind = sim_rewind, .next = sim_event};
    features_options fo = {.horizon = 120 * MS_PER_DAY, .seed = 1};
    features_summary sum;
    strbuf err;
    strbuf_init(&err);
    score_data *rows = features_collect(c, &src, &fo, &sum, &err);
    if (!rows) fail_msg("collect: %s", err.data);
    score_train_options to = {.contract = "score-test", .version = 3, .horizon = fo.horizon};
    score_model *m = score_train(rows, &to, &err);
    if (!m) fail_msg("train: %s", err.data);
    fprintf(stderr, "%llu rows, %llu won\n%s", (unsigned long long)sum.rows, (unsigned long long)sum.positives,
            score_model_report(m));

    /* The simulator's wins follow hidden intent, which shows as requests, long
     * pricing views, security downloads, replies to reps and workloads, and
     * which fitting accounts (software, fintech, healthtech) have more of.
     * Among the ten strongest positive factors there must be intent
     * behaviour; fitting accounts must score higher; and the held-out rows
     * must rank well above chance. */
    size_t count = score_model_feature_count(m);
    bool taken[4096] = {0};
    bool intent = false;
    for (int rank = 0; rank < 10; rank++) {
        size_t best = count;
        for (size_t j = 0; j < count; j++)
            if (!taken[j] && (best == count || score_model_weight(m, j) > score_model_weight(m, best))) best = j;
        if (best == count || score_model_weight(m, best) <= 0) break;
        taken[best] = true;
        const char *name = score_model_feature(m, best);
        intent |= strstr(name, "demo_request") || strstr(name, "pricing_deep_dive") ||
                  strstr(name, "security_download") || strstr(name, "human_reply") || strstr(name, "ran_workload") ||
                  strstr(name, "intent") || strstr(name, "activation");
    }
    assert_true(intent);
    /* fit: the model scores the rows of fitting accounts (industry in the
     * list and 200 employees or more) higher than the others, on average */
    const score_schema *schema = score_data_schema(rows);
    assert_true(score_model_bind(m, schema, "score-test", 3, &err));
    size_t inputs = score_schema_count(schema);
    const char **text = calloc(inputs, sizeof *text);
    double *num = calloc(inputs, sizeof *num), *x = calloc(count, sizeof *x);
    score_row row = {text, num};
    int industry = input(schema, "account.industry"), employees = input(schema, "account.employees");
    double icp = 0, other = 0;
    size_t icp_n = 0, other_n = 0;
    for (size_t i = 0; i < score_data_rows(rows); i++) {
        score_data_row(rows, i, &row, NULL, NULL);
        const char *ind = text[industry], *emp = text[employees];
        if (!ind || !emp) continue;
        bool fits = (strcmp(ind, "software") == 0 || strcmp(ind, "fintech") == 0 || strcmp(ind, "healthtech") == 0) &&
                    strcmp(emp, "1-49") != 0 && strcmp(emp, "50-199") != 0;
        score_encode(m, &row, x);
        double p = score_predict(m, x);
        if (fits) icp += p, icp_n++;
        else other += p, other_n++;
    }
    assert_true(icp_n > 100 && other_n > 100);
    fprintf(stderr, "mean score: fitting accounts %.4f (%zu rows), others %.4f (%zu rows)\n", icp / icp_n, icp_n,
            other / other_n, other_n);
    assert_true(icp / icp_n > 1.2 * (other / other_n));
    free(text);
    free(num);
    free(x);
    assert_true(score_model_eval(m)->auc > 0.7);
    strbuf_free(&err);
    strbuf_free(&g.line);
    score_model_free(m);
    score_data_free(rows);
    sim_free(g.s);
    decoder_free(g.d);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_count_only_the_past),
        cmocka_unit_test(test_rows_never_see_the_cut_off_or_after),
        cmocka_unit_test(test_simulated_drivers_come_out_on_top),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
