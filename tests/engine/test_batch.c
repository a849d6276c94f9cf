/* engine_apply_batch() decides exactly as engine_apply() one event at a
 * time: the same results, handoffs, transitions and figures, whatever the
 * batch sizes, with duplicates, late events and merges in the stream. */
#include "../harness.h"
#include "../sim_lines.h"
#include "engine/engine.h"

typedef struct record {
    strbuf out; /* every handoff and transition, in order */
} record;

static void on_handoff(void *ctx, const handoff *h)
{
    record *r = ctx;
    handoff_to_json(h, &r->out);
    strbuf_putc(&r->out, '\n');
}

static void on_transition(void *ctx, const transition *t)
{
    record *r = ctx;
    strbuf_printf(&r->out, "%s %u>%u %s %lld\n", t->lead, t->from_stage, t->to_stage, t->cause, (long long)t->at);
}

/* The stream with every seventh event sent again a few events later, and
 * every 97th moved an hour back: duplicates and late events. */
static char **stream(size_t *count)
{
    size_t n;
    char **base = simulated_lines(5, 60, 45, &n);
    char **lines = malloc((2 * n) * sizeof *lines);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        lines[out++] = strdup(base[i]);
        if (i % 7 == 3 && i + 3 < n) lines[out++] = strdup(base[i - 2]);
        if (i % 97 == 50) {
            char *t = strstr(lines[out - 1], "\"timestamp\":\"2026-");
            if (t && t[25] >= '1' && t[25] <= '9') t[25]--; /* the hour's last digit */
        }
    }
    free_lines(base, n);
    *count = out;
    return lines;
}

typedef struct decoded_stream {
    event *events;
    value *values;
    char **copies;
    size_t count;
} decoded_stream;

static decoded_stream decode_all(const contract *c, char **lines, size_t n)
{
    decoded_stream s = {.events = malloc(n * sizeof *s.events), .copies = malloc(n * sizeof *s.copies)};
    size_t fields = contract_field_count(c);
    s.values = malloc(n * (fields ? fields : 1) * sizeof *s.values);
    decoder *d = decoder_new(c);
    for (size_t i = 0; i < n; i++) {
        decode_error err;
        s.copies[i] = strdup(lines[i]);
        if (!decoder_decode(d, s.copies[i], strlen(s.copies[i]), &s.events[i], &err))
            fail_msg("line %zu: %s", i + 1, err.what);
        memcpy(s.values + i * fields, s.events[i].fields, fields * sizeof *s.values);
        s.events[i].fields = s.values + i * fields;
    }
    decoder_free(d);
    s.count = n;
    return s;
}

static void test_batches_decide_as_single_events(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    size_t n;
    char **lines = stream(&n);
    decoded_stream s = decode_all(c, lines, n);

    record one = {0};
    strbuf_init(&one.out);
    engine *e = engine_new(c, NULL);
    engine_sink sink = {.ctx = &one, .handoff = on_handoff, .transition = on_transition};
    enum apply_result *single = malloc(n * sizeof *single);
    for (size_t i = 0; i < n; i++) single[i] = engine_apply(e, &s.events[i], &sink);
    engine_stats want = *engine_get_stats(e);
    engine_free(e);
    /* the stream exercises what the look-ahead must not change */
    assert_true(want.duplicates > 1000);
    assert_true(want.late > 10);
    assert_true(want.anonymous_merges > 10);
    assert_true(want.handoffs > 20);

    static const size_t sizes[] = {1, 2, 5, 13, 128, 1000, SIZE_MAX};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        record batched = {0};
        strbuf_init(&batched.out);
        e = engine_new(c, NULL);
        sink.ctx = &batched;
        enum apply_result *results = malloc(n * sizeof *results);
        for (size_t at = 0; at < n;) {
            size_t take = n - at < sizes[k] ? n - at : sizes[k];
            assert_int_equal(engine_apply_batch(e, s.events + at, take, &sink, results + at), take);
            at += take;
        }
        for (size_t i = 0; i < n; i++)
            if (results[i] != single[i]) fail_msg("batches of %zu: event %zu gave %d, not %d", sizes[k], i, results[i], single[i]);
        const engine_stats *got = engine_get_stats(e);
        assert_int_equal(got->applied, want.applied);
        assert_int_equal(got->duplicates, want.duplicates);
        assert_int_equal(got->late, want.late);
        assert_int_equal(got->anonymous_merges, want.anonymous_merges);
        assert_int_equal(got->handoffs, want.handoffs);
        assert_int_equal(batched.out.len, one.out.len);
        assert_memory_equal(batched.out.data, one.out.data, one.out.len);
        engine_free(e);
        free(results);
        strbuf_free(&batched.out);
    }
    free(single);
    strbuf_free(&one.out);
    for (size_t i = 0; i < n; i++) free(s.copies[i]);
    free(s.copies);
    free(s.events);
    free(s.values);
    free_lines(lines, n);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_decide_as_single_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
