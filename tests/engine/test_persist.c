/* Persistence: state written out and read back into a new engine carries on
 * exactly as if the engine had never stopped. */
#include "../harness.h"
#include "engine/engine.h"
#include "route/route.h"
#include "../sim_lines.h"

/* What an engine decided (the server records as much): handoffs, changes
 * and breaches, as JSON lines. */
typedef struct record_log {
    const contract *c;
    strbuf out;
} record_log;

static void log_handoff(void *ctx, const handoff *h)
{
    record_log *l = ctx;
    handoff_to_json(h, &l->out);
    strbuf_putc(&l->out, '\n');
}

static void log_change(void *ctx, const transition *t)
{
    record_log *l = ctx;
    transition_to_json(l->c, t, &l->out);
    strbuf_putc(&l->out, '\n');
}

static void log_breach(void *ctx, const breach *b)
{
    record_log *l = ctx;
    breach_to_json(l->c, b, &l->out);
    strbuf_putc(&l->out, '\n');
}

static void assert_same_text(const char *what, const strbuf *want, const strbuf *got)
{
    const char *a = want->data ? want->data : "", *b = got->data ? got->data : "";
    if (strcmp(a, b) == 0) return;
    size_t i = 0;
    while (a[i] == b[i]) i++;
    fail_msg("%s differs at byte %zu:\n  straight: %.300s\n  restored: %.300s", what, i, a + i, b + i);
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

/* The dedupe memory of lines [0, n): their message ids, at their times, as
 * a store loads it. */
static void import_seen(engine *e, decoder *d, char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *copy = strdup(lines[i]);
        event ev;
        decode_error err;
        assert_true(decoder_decode(d, copy, strlen(copy), &ev, &err));
        char id[128];
        snprintf(id, sizeof id, "%.*s", (int)ev.message_id.len, ev.message_id.s);
        assert_true(engine_import_seen(e, id, ev.timestamp));
        free(copy);
    }
}

typedef struct alias_log {
    char **alias, **lead;
    size_t count, cap;
} alias_log;

static void alias_log_free(alias_log *a)
{
    for (size_t k = 0; k < a->count; k++) free(a->alias[k]), free(a->lead[k]);
    free(a->alias);
    free(a->lead);
}

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
    record_log straight = {.c = c};
    strbuf_init(&straight.out);
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    engine_sink sink = {.ctx = &straight, .handoff = log_handoff};
    apply_lines(e, d, lines, 0, n, &sink);
    engine_free(e);

    /* the first half, then everything written out */
    record_log split = {.c = c};
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
    import_seen(e, d, lines, half);
    engine_set_next_handoff(e, next);
    apply_lines(e, d, lines, half, n, &sink);

    assert_same_text("the restored engine's handoffs", &straight.out, &split.out);
    assert_true(engine_get_stats(e)->handoffs > 0);

    alias_log_free(&aliases);
    free(offsets);
    strbuf_free(&blobs);
    strbuf_free(&straight.out);
    strbuf_free(&split.out);
    engine_free(e);
    decoder_free(d);
    free_lines(lines, n);
    contract_free(c);
}

/* ---- a server's restart between two saves -------------------------------------------- */

static void refuse_rep(void *ctx, uint64_t line, const char *why)
{
    (void)ctx;
    fail_msg("reps line %llu: %s", (unsigned long long)line, why);
}

static router *acme_router(const contract *c)
{
    router *r = route_new(&contract_about(c)->calendar);
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/reps/acme.csv", source_dir());
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_true(route_load_reps(r, f, refuse_rep, NULL) > 0);
    fclose(f);
    return r;
}

#define GROUP 37 /* events per commit group */

static time_ms time_of(decoder *d, const char *line)
{
    char *copy = strdup(line);
    event ev;
    decode_error err;
    assert_true(decoder_decode(d, copy, strlen(copy), &ev, &err));
    free(copy);
    return ev.timestamp;
}

/* Lines [from, to) as the server's committer applies them: in groups, the
 * SLA clocks run first to the group's time (here its first event's, so the
 * clocks move on and run out as the stream goes). */
static void apply_groups(engine *e, decoder *d, char **lines, size_t from, size_t to, const engine_sink *sink)
{
    for (size_t g = from; g < to; g += GROUP) {
        engine_advance(e, time_of(d, lines[g]), sink);
        apply_lines(e, d, lines, g, g + GROUP < to ? g + GROUP : to, sink);
    }
}

/* The server saves state now and then and, at a start, replays the events
 * stored since: from state written out between two groups, its router's
 * rotation, the identities and the message ids seen, the same groups give
 * the same handoffs, changes and breaches (reassignments included), and
 * leave every lead, account and rep exactly as they are in an engine that
 * never stopped. */
static void test_restart_between_groups_changes_nothing(void **state)
{
    (void)state;
    contract *c = example();
    decoder *d = decoder_new(c);
    size_t n;
    char **lines = simulated_lines(23, 60, 45, &n);
    size_t half = n / 2 / GROUP * GROUP;

    router *straight_reps = acme_router(c);
    engine_options eo = {.external_clock = true, .router = straight_reps};
    engine *straight = engine_new(c, &eo);
    record_log before = {.c = c}, after = {.c = c};
    strbuf_init(&before.out);
    strbuf_init(&after.out);
    alias_log aliases = {0};
    engine_sink first_half = {.ctx = &before, .handoff = log_handoff, .transition = log_change,
                              .breach = log_breach};
    apply_groups(straight, d, lines, 0, half, &first_half);
    /* aliases as the server collects them, from an engine of its own */
    router *alias_reps = acme_router(c);
    engine_options alias_eo = {.external_clock = true, .router = alias_reps};
    engine *alias_engine = engine_new(c, &alias_eo);
    engine_sink alias_sink = {.ctx = &aliases, .alias = on_alias};
    apply_groups(alias_engine, d, lines, 0, half, &alias_sink);
    engine_free(alias_engine);
    route_free(alias_reps);

    /* the saved state: every lead and account, the rotation, the ids seen */
    router *restored_reps = acme_router(c);
    strbuf blob;
    strbuf_init(&blob);
    route_export(straight_reps, &blob);
    assert_true(route_import(restored_reps, blob.data, blob.len, NULL));
    engine_options restored_eo = {.external_clock = true, .router = restored_reps,
                                  .first_handoff = engine_next_handoff(straight)};
    engine *restored = engine_new(c, &restored_eo);
    for (size_t i = 0; i < engine_lead_count(straight); i++) {
        const char *key = engine_lead_key(straight, i);
        if (!key) continue;
        strbuf_reset(&blob);
        assert_true(engine_export_lead(straight, key, &blob));
        assert_true(engine_import_lead(restored, blob.data, blob.len));
    }
    for (size_t i = 0; i < engine_account_count(straight); i++) {
        strbuf_reset(&blob);
        assert_true(engine_export_account(straight, engine_account_domain(straight, i), &blob));
        assert_true(engine_import_account(restored, blob.data, blob.len));
    }
    for (size_t k = 0; k < aliases.count; k++) assert_true(engine_import_alias(restored, aliases.alias[k], aliases.lead[k]));
    import_seen(restored, d, lines, half);

    /* the second half on both */
    engine_sink second_half = {.ctx = &after, .handoff = log_handoff, .transition = log_change,
                               .breach = log_breach};
    apply_groups(straight, d, lines, half, n, &second_half);
    record_log replayed = {.c = c};
    strbuf_init(&replayed.out);
    second_half.ctx = &replayed;
    apply_groups(restored, d, lines, half, n, &second_half);

    assert_same_text("what the second half records", &after.out, &replayed.out);
    assert_non_null(strstr(after.out.data, "\"reassigned\"")); /* breaches moved leads between reps */
    assert_true(engine_get_stats(straight)->handoffs > engine_get_stats(restored)->handoffs / 2);
    strbuf want, got;
    strbuf_init(&want);
    strbuf_init(&got);
    for (size_t i = 0; i < engine_lead_count(straight); i++) {
        const char *key = engine_lead_key(straight, i);
        if (!key) continue;
        assert_true(engine_export_lead(straight, key, &want));
        assert_true(engine_export_lead(restored, key, &got));
    }
    for (size_t i = 0; i < engine_account_count(straight); i++) {
        assert_true(engine_export_account(straight, engine_account_domain(straight, i), &want));
        assert_true(engine_export_account(restored, engine_account_domain(straight, i), &got));
    }
    route_export(straight_reps, &want);
    route_export(restored_reps, &got);
    if (want.len != got.len || memcmp(want.data, got.data, want.len) != 0)
        fail_msg("the state after the second half differs (%zu bytes against %zu)", want.len, got.len);

    alias_log_free(&aliases);
    strbuf_free(&want);
    strbuf_free(&got);
    strbuf_free(&blob);
    strbuf_free(&before.out);
    strbuf_free(&after.out);
    strbuf_free(&replayed.out);
    engine_free(straight);
    engine_free(restored);
    route_free(straight_reps);
    route_free(restored_reps);
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
        cmocka_unit_test(test_restart_between_groups_changes_nothing),
        cmocka_unit_test(test_bad_bytes_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
