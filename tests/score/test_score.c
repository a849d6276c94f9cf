/* The score module on hand-made data: metrics, training, the model file,
 * prediction and factors. */
#include "../harness.h"
#include "score/score.h"

#include <math.h>

/* ---- metrics, computed by hand ------------------------------------------------ */

static void test_evaluate_by_hand(void **state)
{
    (void)state;
    /* pairs (pos, neg): (0.35,0.1) yes, (0.35,0.4) no, (0.8,0.1) yes, (0.8,0.4) yes: AUC 3/4 */
    double p[] = {0.1, 0.4, 0.35, 0.8};
    bool y[] = {false, false, true, true};
    score_eval ev;
    assert_true(score_evaluate(p, y, 4, &ev));
    assert_int_equal(ev.rows, 4);
    assert_int_equal(ev.positives, 2);
    assert_true(fabs(ev.auc - 0.75) < 1e-12);
    /* the top tenth of 4 rows is 1 row, 0.8, won: rate 1 over base 0.5 */
    assert_true(fabs(ev.lift10 - 2.0) < 1e-12);
    /* ten equal-count bins over 4 rows: rows 0,1 -> bins 2,4 (n*b/10 boundaries) */
    size_t total = 0, won = 0;
    for (int b = 0; b < SCORE_CALIBRATION_BINS; b++) {
        total += ev.bins[b].rows;
        won += ev.bins[b].positives;
    }
    assert_int_equal(total, 4);
    assert_int_equal(won, 2);
    assert_true(fabs(ev.bins[SCORE_CALIBRATION_BINS - 1].predicted - 0.8) < 1e-12);

    /* ties count half: all equal scores give 0.5 */
    double q[] = {0.3, 0.3, 0.3};
    bool z[] = {true, false, false};
    assert_true(score_evaluate(q, z, 3, &ev));
    assert_true(fabs(ev.auc - 0.5) < 1e-12);
    /* one class only: no AUC */
    bool none[] = {false, false, false};
    assert_true(score_evaluate(q, none, 3, &ev));
    assert_true(isnan(ev.auc));
}

/* ---- a small data set with a known pattern ------------------------------------ */

/* Rows over time: a demo request makes a win likely, retail makes it rare. */
static score_data *pattern_data(score_schema **schema_out)
{
    score_schema *s = score_schema_new();
    assert_int_equal(score_schema_add(s, "account.industry", SCORE_CATEGORY, false), 0);
    assert_int_equal(score_schema_add(s, "signal.demo.30d", SCORE_COUNT, false), 1);
    assert_int_equal(score_schema_add(s, "signal.blog.all", SCORE_COUNT, true), 2);
    assert_int_equal(score_schema_add(s, "account.industry", SCORE_COUNT, false), -1); /* duplicate */
    score_data *d = score_data_new(s);
    assert_non_null(d);
    const char *text[3];
    double num[3];
    score_row row = {text, num};
    static const char *const industries[] = {"software", "retail", "fintech"};
    for (int i = 0; i < 600; i++) {
        text[0] = industries[i % 3];
        text[1] = text[2] = NULL;
        num[0] = 0;
        num[1] = (i / 3) % 4 == 0 ? 2 : (i / 3) % 4 == 1 ? 1 : 0;
        num[2] = i % 5;
        /* won: a demo outside retail, most of the time */
        bool won = num[1] > 0 && i % 3 != 1 && (i % 7) != 0;
        assert_true(score_data_add(d, &row, (time_ms)i * MS_PER_HOUR, won));
    }
    *schema_out = s;
    return d;
}

static score_model *pattern_model(const score_data *d, bool plain)
{
    score_train_options o = {.contract = "score-test", .version = 3, .horizon = 120 * MS_PER_DAY,
                             .min_support = 5, .plain_only = plain};
    strbuf err;
    strbuf_init(&err);
    score_model *m = score_train(d, &o, &err);
    if (!m) fail_msg("train: %s", err.data);
    strbuf_free(&err);
    return m;
}

static int find_feature(const score_model *m, const char *name)
{
    for (size_t j = 0; j < score_model_feature_count(m); j++)
        if (strcmp(score_model_feature(m, j), name) == 0) return (int)j;
    return -1;
}

static void test_train_learns_the_pattern(void **state)
{
    (void)state;
    score_schema *s;
    score_data *d = pattern_data(&s);
    assert_int_equal(score_data_rows(d), 600);
    score_model *m = pattern_model(d, false);
    int demo = find_feature(m, "signal.demo.30d"), retail = find_feature(m, "account.industry=retail");
    assert_true(demo >= 0 && retail >= 0);
    assert_true(score_model_weight(m, (size_t)demo) > 0.5);
    assert_true(score_model_weight(m, (size_t)retail) < -0.5);
    const score_eval *ev = score_model_eval(m);
    assert_int_equal(ev->rows, 120); /* the latest 20% */
    assert_true(ev->auc > 0.85);
    assert_non_null(strstr(score_model_report(m), "strongest positive factors"));
    /* the baseline sees the plain counts only */
    score_model *b = pattern_model(d, true);
    assert_int_equal(score_model_feature_count(b), 1);
    assert_string_equal(score_model_feature(b, 0), "signal.blog.all");
    score_model_free(b);
    score_model_free(m);
    score_data_free(d);
    score_schema_free(s);
}

static void test_one_class_is_refused(void **state)
{
    (void)state;
    score_schema *s = score_schema_new();
    score_schema_add(s, "signal.demo.30d", SCORE_COUNT, false);
    score_data *d = score_data_new(s);
    double num[1] = {1};
    const char *text[1] = {NULL};
    score_row row = {text, num};
    for (int i = 0; i < 50; i++) assert_true(score_data_add(d, &row, i, false));
    score_train_options o = {0};
    strbuf err;
    strbuf_init(&err);
    assert_null(score_train(d, &o, &err));
    assert_non_null(strstr(err.data, "nothing to learn from"));
    strbuf_free(&err);
    score_data_free(d);
    score_schema_free(s);
}

/* ---- the model file --------------------------------------------------------------- */

static void test_model_round_trips_exactly(void **state)
{
    (void)state;
    score_schema *s;
    score_data *d = pattern_data(&s);
    score_model *m = pattern_model(d, false);
    strbuf a, b, err;
    strbuf_init(&a);
    strbuf_init(&b);
    strbuf_init(&err);
    score_model_write(m, &a);
    score_model *back = score_model_parse("m.model", a.data, a.len, &err);
    if (!back) fail_msg("%s", err.data);
    score_model_write(back, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_int_equal(score_model_feature_count(back), score_model_feature_count(m));
    for (size_t j = 0; j < score_model_feature_count(m); j++) {
        assert_string_equal(score_model_feature(back, j), score_model_feature(m, j));
        assert_true(score_model_weight(back, j) == score_model_weight(m, j)); /* bit for bit */
    }
    assert_string_equal(score_model_report(back), score_model_report(m));
    uint32_t version;
    assert_string_equal(score_model_contract(back, &version), "score-test");
    assert_int_equal(version, 3);

    /* the same predictions once bound */
    assert_true(score_model_bind(m, s, "score-test", 3, &err));
    assert_true(score_model_bind(back, s, "score-test", 3, &err));
    const char *text[3] = {"software", NULL, NULL};
    double num[3] = {0, 2, 1}, x1[64], x2[64];
    score_row row = {text, num};
    assert_true(score_model_feature_count(m) <= 64);
    score_encode(m, &row, x1);
    score_encode(back, &row, x2);
    assert_true(score_predict(m, x1) == score_predict(back, x2));
    strbuf_free(&a);
    strbuf_free(&b);
    strbuf_free(&err);
    score_model_free(back);
    score_model_free(m);
    score_data_free(d);
    score_schema_free(s);
}

/* Parses `text` and expects a refusal whose message contains `want`. */
static void expect_refused(const char *text, size_t len, const char *want)
{
    strbuf err;
    strbuf_init(&err);
    score_model *m = score_model_parse("bad.model", text, len, &err);
    if (m) fail_msg("accepted a model that should be refused for '%s'", want);
    if (!strstr(err.data, want) || strncmp(err.data, "bad.model", 9) != 0)
        fail_msg("message '%s' lacks '%s' or the file name", err.data, want);
    strbuf_free(&err);
}

static void test_damaged_model_is_refused(void **state)
{
    (void)state;
    score_schema *s;
    score_data *d = pattern_data(&s);
    score_model *m = pattern_model(d, false);
    strbuf a;
    strbuf_init(&a);
    score_model_write(m, &a);
    char *copy = malloc(a.len + 1);
    memcpy(copy, a.data, a.len + 1);

    /* one digit of a weight changed */
    char *w = strstr(copy, "\ncount\t");
    assert_non_null(w);
    w[8] = w[8] == '1' ? '2' : '1';
    expect_refused(copy, a.len, "checksum mismatch");
    memcpy(copy, a.data, a.len + 1);
    /* cut short */
    expect_refused(copy, a.len / 2, "truncated");
    expect_refused(copy, a.len - 1, "truncated");
    /* not a model at all, and a newer format */
    expect_refused("hello\n", 6, "not a baton model file");
    copy[12] = '9';
    expect_refused(copy, a.len, "model format 9");
    free(copy);

    /* another contract, another version, an input the contract lacks */
    strbuf err;
    strbuf_init(&err);
    score_model *back = score_model_parse("good.model", a.data, a.len, &err);
    assert_non_null(back);
    assert_false(score_model_bind(back, s, "acme-handoff", 3, &err));
    assert_non_null(strstr(err.data, "good.model: trained for contract 'score-test' version 3, but the contract is "
                                     "'acme-handoff' version 3"));
    strbuf_reset(&err);
    assert_false(score_model_bind(back, s, "score-test", 4, &err));
    assert_non_null(strstr(err.data, "version 4"));
    strbuf_reset(&err);
    score_schema *other = score_schema_new();
    score_schema_add(other, "account.industry", SCORE_CATEGORY, false);
    assert_false(score_model_bind(back, other, "score-test", 3, &err));
    assert_non_null(strstr(err.data, "the model reads 'signal.demo.30d', which this contract does not provide"));
    score_schema_free(other);
    strbuf_free(&err);
    strbuf_free(&a);
    score_model_free(back);
    score_model_free(m);
    score_data_free(d);
    score_schema_free(s);
}

/* ---- factors ----------------------------------------------------------------------- */

static void test_factors_add_up_to_the_log_odds(void **state)
{
    (void)state;
    score_schema *s;
    score_data *d = pattern_data(&s);
    score_model *m = pattern_model(d, false);
    strbuf err;
    strbuf_init(&err);
    assert_true(score_model_bind(m, s, "score-test", 3, &err));
    const char *text[3] = {"retail", NULL, NULL};
    double num[3] = {0, 2, 3}, x[64];
    score_row row = {text, num};
    score_encode(m, &row, x);
    double p = score_predict(m, x);
    /* the logit of the score is the calibrated intercept plus every factor; the
     * intercept is what an empty row scores */
    double empty[64] = {0};
    double p0 = score_predict(m, empty);
    score_factor all[64];
    size_t n = score_explain(m, x, all, 64);
    assert_int_equal(n, 3); /* retail, demo, blog */
    double sum = log(p0 / (1 - p0));
    for (size_t i = 0; i < n; i++) sum += all[i].contribution;
    assert_true(fabs(sum - log(p / (1 - p))) < 1e-9);
    for (size_t i = 1; i < n; i++) assert_true(fabs(all[i - 1].contribution) >= fabs(all[i].contribution));
    /* the top two, with their values */
    score_factor top[2];
    assert_int_equal(score_explain(m, x, top, 2), 2);
    assert_string_equal(top[0].feature, all[0].feature);
    assert_string_equal(top[1].feature, all[1].feature);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(all[i].feature, "signal.demo.30d") == 0) assert_true(all[i].value == 2);
        if (strcmp(all[i].feature, "account.industry=retail") == 0) assert_true(all[i].value == 1 && all[i].contribution < 0);
    }
    strbuf_free(&err);
    score_model_free(m);
    score_data_free(d);
    score_schema_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evaluate_by_hand),
        cmocka_unit_test(test_train_learns_the_pattern),
        cmocka_unit_test(test_one_class_is_refused),
        cmocka_unit_test(test_model_round_trips_exactly),
        cmocka_unit_test(test_damaged_model_is_refused),
        cmocka_unit_test(test_factors_add_up_to_the_log_odds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
