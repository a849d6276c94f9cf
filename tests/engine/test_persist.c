/* Persistence: state written out and read back into a new engine carries on
 * exactly as if the engine had never stopped. */
#include "../harness.h"
#include "engine/engine.h"
#include "../sim_lines.h"

typedef struct collected {
    strbuf out; /* every handoff and transition, as JSON lines */
} collected;

static void on_handoff(void *ctx, const handoff *h)
{
    collected *c = ctx;
    handoff_to_json(h, &c->out);
    strbuf_putc(&c->out, '\n');
}

static contract *example(void)
{
    char *text = read_fixture("contracts/example.yaml", NULL);
    contract *c = parse_string("example.yaml", text, NULL);
    free(text);
    assert_non_null(c);
    return c;
}

static void apply_lines(engine *e, decoder *d, char **lines, size_t from, size_t to, const engine_sink *sink)
{
    for (size_t i = from; i < to; i++) {
        char *copy = strdup(lines[i]);
        event ev;
        decode_error err;
        if (!decoder_decode(d, copy, strlen(copy), &ev, &err)) fail_msg("line %zu: %s", i + 1, err.what);
        assert_int_not_equal(engine_apply(e, &ev, sink), APPLY_NOMEM);
        free(copy);
    }
}

typedef struct alias_log {
    char **alias, **lead;
    size_t count, cap;
} alias_log;

static void on_alias(void *ctx, const char *alias, const char *lead)
{
    alias_log *a = ctx;
    if (a->count == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 256;
        a->alias = realloc(a->alias, a->cap * sizeof *a->alias);
        a->lead = realloc(a->lead, a->cap * sizeof *a->lead);
    }
    a->alias[a->count] = strdup(alias);
    a->lead[a->count++] = strdup(lead);
}

static void test_restart_changes_nothing(void **state)
{
    (void)state;
    contract *c = example();
    size_t n;
    char **lines = simulated_lines(11, 80, 60, &n);
    assert_true(n > 2000);
    size_t half = n / 2;

    /* one engine, all the way */
    collected straight = {0};
    strbuf_init(&straight.out);
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    engine_sink sink = {.ctx = &straight, .handoff = on_handoff};
    apply_lines(e, d, lines, 0, n, &sink);
    engine_free(e);

    /* the first half, then everything written out */
    collected split = {0};
    strbuf_init(&split.out);
    alias_log aliases = {0};
    e = engine_new(c, NULL);
    sink.ctx = &split;
    apply_lines(e, d, lines, 0, half, &sink);
    strbuf blobs;
    strbuf_init(&blobs);
    size_t *offsets = malloc((engine_lead_count(e) + engine_account_count(e) + 1) * sizeof *offsets);
    size_t leads = 0, accounts = 0;
    for (size_t i = 0; i < engine_lead_count(e); i++) {
        const char *key = engine_lead_key(e, i);
        if (!key) continue;
        offsets[leads++] = blobs.len;
        assert_true(engine_export_lead(e, key, &blobs));
    }
    size_t lead_end = blobs.len;
    for (size_t i = 0; i < engine_account_count(e); i++) {
        offsets[leads + accounts++] = blobs.len;
        assert_true(engine_export_account(e, engine_account_domain(e, i), &blobs));
    }
    uint64_t next = engine_next_handoff(e);
    engine_free(e);
    /* aliases as a store would have logged them during the first half */
    e = engine_new(c, NULL);
    engine_sink log = {.ctx = &aliases, .alias = on_alias};
    apply_lines(e, d, lines, 0, half, &log);
    engine_free(e);

    /* a new engine, from the bytes alone */
    e = engine_new(c, NULL);
    for (size_t k = 0; k < leads; k++) {
        size_t end = k + 1 < leads ? offsets[k + 1] : lead_end;
        assert_true(engine_import_lead(e, blobs.data + offsets[k], end - offsets[k]));
    }
    for (size_t k = 0; k < accounts; k++) {
        size_t start = offsets[leads + k], end = k + 1 < accounts ? offsets[leads + k + 1] : blobs.len;
        assert_true(engine_import_account(e, blobs.data + start, end - start));
    }
    for (size_t k = 0; k < aliases.count; k++) assert_true(engine_import_alias(e, aliases.alias[k], aliases.lead[k]));
    for (size_t i = 0; i < half; i++) { /* dedupe memory: message ids and times */
        char *copy = strdup(lines[i]);
        event ev;
        decode_error err;
        assert_true(decoder_decode(d, copy, strlen(copy), &ev, &err));
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)ev.message_id.len, ev.message_id.s);
        assert_true(engine_import_seen(e, id, ev.timestamp));
        free(copy);
    }
    engine_set_next_handoff(e, next);
    apply_lines(e, d, lines, half, n, &sink);

    if (strcmp(straight.out.data, split.out.data) != 0) {
        size_t i = 0;
        while (straight.out.data[i] == split.out.data[i]) i++;
        fail_msg("restored engine differs at byte %zu:\n  straight: %.300s\n  restored: %.300s", i,
                 straight.out.data + i, split.out.data + i);
    }
    assert_true(engine_get_stats(e)->handoffs > 0);

    for (size_t k = 0; k < aliases.count; k++) free(aliases.alias[k]), free(aliases.lead[k]);
    free(aliases.alias);
    free(aliases.lead);
    free(offsets);
    strbuf_free(&blobs);
    strbuf_free(&straight.out);
    strbuf_free(&split.out);
    engine_free(e);
    decoder_free(d);
    free_lines(lines, n);
    contract_free(c);
}

static void test_bad_bytes_are_refused(void **state)
{
    (void)state;
    contract *c = example();
    engine *e = engine_new(c, NULL);
    const unsigned char wrong_format[] = {99, 0, 0};
    assert_false(engine_import_lead(e, wrong_format, sizeof wrong_format));
    const unsigned char cut_short[] = {ENGINE_STATE_FORMAT, 5, 0, 'a', 'b'};
    assert_false(engine_import_lead(e, cut_short, sizeof cut_short));
    assert_int_equal(engine_lead_count(e), 0);
    engine_free(e);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restart_changes_nothing),
        cmocka_unit_test(test_bad_bytes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
