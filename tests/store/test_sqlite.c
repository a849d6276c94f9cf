/* The SQLite store: schema and migrations, durability, filters, sticky failure. */
#include "../store_fixture.h"
#include "store/internal.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1782864000000) /* 2026-07-01T00:00:00Z */

/* ---- fixture: a fresh directory under /tmp per test (store_fixture.h) ------------ */

/* ---- reading the file behind the store's back ------------------------------------ */

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A heap copy of the one text value `sql` yields. */
static char *sql_text(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    char *copy = strdup(v ? v : "(null)");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return copy;
}

static void sql_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* ---- collecting what callbacks hand out ------------------------------------------- */

typedef struct rows {
    char **item;
    size_t count, cap;
    size_t stop_after; /* 0: never stop */
} rows;

static void rows_add(rows *r, const char *text)
{
    if (r->count == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->item = realloc(r->item, r->cap * sizeof *r->item);
    }
    r->item[r->count++] = strdup(text);
}

static void rows_free(rows *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->item[i]);
    free(r->item);
    memset(r, 0, sizeof *r);
}

static bool on_row(void *ctx, const char *json)
{
    rows *r = ctx;
    rows_add(r, json);
    return !r->stop_after || r->count < r->stop_after;
}

static uint64_t json_id(const char *json)
{
    const char *p = strstr(json, "\"id\":");
    assert_non_null(p);
    return strtoull(p + 5, NULL, 10);
}

/* ---- handoffs ---------------------------------------------------------------------- */

static char *packet(uint64_t id, const char *lead, const char *status)
{
    char *p = malloc(512);
    snprintf(p, 512,
             "{\"record\":\"handoff\",\"id\":%llu,\"lead\":\"%s\",\"gate\":\"fit_intent\","
             "\"status\":\"%s\",\"did\":\"read \\\"pricing\\\" \\u00e9\",\"score\":1.50,"
             "\"triggers\":[{\"message_id\":\"m-%llu\"}]}",
             (unsigned long long)id, lead, status, (unsigned long long)id);
    return p;
}

static int put_handoff(store *s, uint64_t id, const char *lead, const char *team, const char *gate,
                       time_ms at, bool fast, const char *status)
{
    char *p = packet(id, lead, status);
    store_handoff h = {.id = id,
                       .lead = lead,
                       .account = "acme.com",
                       .gate = gate,
                       .contract = "example",
                       .version = 3,
                       .at = at,
                       .fast = fast,
                       .stage = "sales",
                       .team = team,
                       .status = status,
                       .packet = p};
    int rc = s->ops->put_handoff(s, &h);
    free(p);
    return rc;
}

/* ---- schema and migrations ------------------------------------------------------- */

static void test_migration_from_empty_and_reopen(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_string_equal(s->ops->name, "sqlite");
    assert_int_equal(s->ops->set_meta(s, "next_handoff", "42"), STORE_OK);
    store_close(s);

    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(sql_int(f->path, "PRAGMA application_id"), 0x6261746f);
    char *mode = sql_text(f->path, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    free(mode);
    char *tables =
        sql_text(f->path, "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                          "WHERE type = 'table' ORDER BY name)");
    assert_string_equal(
        tables, "accounts,events,feedback,handoffs,identities,leads,meta,outbox,rep_uploads,reps,router_state,timeline,tokens");
    free(tables);
    int64_t objects = sql_int(f->path, "SELECT count(*) FROM sqlite_master");

    /* reopening applies nothing and keeps what was there */
    s = open_ok(f);
    char meta[16];
    assert_int_equal(s->ops->get_meta(s, "next_handoff", meta, sizeof meta), STORE_OK);
    assert_string_equal(meta, "42");
    assert_int_equal(s->ops->get_meta(s, "absent", meta, sizeof meta), STORE_NOT_FOUND);
    assert_int_equal(s->ops->get_meta(s, "next_handoff", meta, 2), STORE_ERROR);
    assert_non_null(strstr(store_error(s), "get_meta"));
    store_close(s);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master"), objects);
}

static void test_newer_schema_is_refused(void **state)
{
    fixture *f = *state;
    store_close(open_ok(f));
    sql_exec(f->path, "PRAGMA user_version = 7");
    char why[256] = "";
    assert_null(sqlite_store_open(f->path, why, sizeof why));
    assert_non_null(strstr(why, f->path));
    assert_non_null(strstr(why, "schema version 7, newer than this baton knows (3)"));
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 7); /* left alone */
}

/* A file from the first release (schema 1) is brought forward at open,
 * keeping its rows. */
static void test_migration_from_version_1(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->set_meta(s, "next_handoff", "7"), STORE_OK);
    store_close(s);
    sql_exec(f->path, "DROP TABLE outbox; DROP TABLE rep_uploads; DROP TABLE router_state; PRAGMA user_version = 1");
    s = open_ok(f);
    char meta[16];
    assert_int_equal(s->ops->get_meta(s, "next_handoff", meta, sizeof meta), STORE_OK);
    assert_string_equal(meta, "7");
    store_close(s);
    assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM outbox"), 0);
}

static void test_other_database_is_refused(void **state)
{
    fixture *f = *state;
    sql_exec(f->path, "CREATE TABLE customers (id INTEGER PRIMARY KEY)");
    char why[256] = "";
    assert_null(sqlite_store_open(f->path, why, sizeof why));
    assert_non_null(strstr(why, "not a baton database"));
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master"), 1);
    char *mode = sql_text(f->path, "PRAGMA journal_mode");
    assert_string_equal(mode, "delete"); /* refused before anything changed */
    free(mode);

    FILE *text = fopen(f->path, "w");
    fputs("name,email\nAnn,ann@example.com\n", text);
    fclose(text);
    assert_null(sqlite_store_open(f->path, why, sizeof why));
    assert_non_null(strstr(why, "file is not a database"));
}

static void test_unopenable_path(void **state)
{
    fixture *f = *state;
    char path[200], why[256] = "";
    snprintf(path, sizeof path, "%s/missing/dir/baton.db", f->dir);
    assert_null(sqlite_store_open(path, why, sizeof why));
    assert_non_null(strstr(why, path));
}

/* ---- events ------------------------------------------------------------------------ */

static store_event event(const char *message_id, const char *lead, time_ms at, time_ms received)
{
    static const char body[] = "{\"type\":\"track\",\"event\":\"Pricing Viewed\"}";
    return (store_event){.message_id = message_id,
                         .lead = lead,
                         .type = "track",
                         .name = "Pricing Viewed",
                         .at = at,
                         .received = received,
                         .body = body,
                         .body_len = sizeof body - 1};
}

static void test_put_event_duplicate(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    store_event e = event("m-1", "lead-1", T0, T0 + 5);
    assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &e), STORE_DUPLICATE);
    assert_false(s->failed); /* a duplicate is not a failure */
    store_event none = event(NULL, "lead-1", T0, T0 + 6);
    assert_int_equal(s->ops->put_event(s, &none), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &none), STORE_OK); /* no id: never a duplicate */
    /* a duplicate inside a transaction leaves the rest of it alone */
    assert_int_equal(s->ops->begin(s), STORE_OK);
    store_event two = event("m-2", "lead-2", T0, T0 + 7);
    assert_int_equal(s->ops->put_event(s, &two), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &e), STORE_DUPLICATE);
    assert_int_equal(s->ops->commit(s), STORE_OK);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 4);
    char *body = sql_text(f->path, "SELECT body FROM events WHERE message_id = 'm-2'");
    assert_string_equal(body, "{\"type\":\"track\",\"event\":\"Pricing Viewed\"}");
    free(body);
    assert_int_equal(sql_int(f->path, "SELECT received FROM events WHERE message_id = 'm-2'"),
                     T0 + 7);
}

/* ---- transactions -------------------------------------------------------------------- */

typedef struct loaded {
    rows leads, accounts, aliases, seen;
    size_t refuse_after; /* leads: 0 never */
} loaded;

static bool on_lead(void *ctx, const void *blob, size_t len)
{
    loaded *l = ctx;
    char text[256];
    snprintf(text, sizeof text, "%.*s/%zu", (int)len, (const char *)blob, len);
    rows_add(&l->leads, text);
    return !l->refuse_after || l->leads.count < l->refuse_after;
}

static bool on_account(void *ctx, const void *blob, size_t len)
{
    loaded *l = ctx;
    char text[256];
    snprintf(text, sizeof text, "%.*s", (int)len, (const char *)blob);
    rows_add(&l->accounts, text);
    return true;
}

static bool on_alias(void *ctx, const char *alias, const char *lead)
{
    loaded *l = ctx;
    char text[256];
    snprintf(text, sizeof text, "%s=%s", alias, lead);
    rows_add(&l->aliases, text);
    return true;
}

static bool on_seen(void *ctx, const char *message_id, time_ms at)
{
    loaded *l = ctx;
    char text[256];
    snprintf(text, sizeof text, "%s@%lld", message_id, (long long)(at - T0));
    rows_add(&l->seen, text);
    return true;
}

static void load_all(store *s, loaded *l, duration_ms window, time_ms now)
{
    store_load cb = {
        .ctx = l, .lead = on_lead, .account = on_account, .alias = on_alias, .seen = on_seen};
    if (s->ops->load(s, &cb, window, now) != STORE_OK) fail_msg("load: %s", store_error(s));
}

static void loaded_free(loaded *l)
{
    rows_free(&l->leads);
    rows_free(&l->accounts);
    rows_free(&l->aliases);
    rows_free(&l->seen);
}

static void test_commit_is_visible_to_a_second_store(void **state)
{
    fixture *f = *state;
    store *a = open_ok(f), *b = open_ok(f);
    assert_int_equal(a->ops->begin(a), STORE_OK);
    assert_int_equal(a->ops->put_lead(a, "lead-1", "state-1", 7), STORE_OK);
    store_event e = event("m-1", "lead-1", T0, T0);
    assert_int_equal(a->ops->put_event(a, &e), STORE_OK);

    loaded before = {0};
    load_all(b, &before, MS_PER_DAY, T0);
    assert_int_equal(before.leads.count, 0); /* not committed yet */
    assert_int_equal(before.seen.count, 0);

    assert_int_equal(a->ops->commit(a), STORE_OK);
    loaded after = {0};
    load_all(b, &after, MS_PER_DAY, T0);
    assert_int_equal(after.leads.count, 1);
    assert_string_equal(after.leads.item[0], "state-1/7");
    assert_int_equal(after.seen.count, 1);
    assert_string_equal(after.seen.item[0], "m-1@0");
    /* the second store writes too, and the first sees it */
    assert_int_equal(b->ops->put_alias(b, "anon-1", "lead-1"), STORE_OK);
    loaded back = {0};
    load_all(a, &back, MS_PER_DAY, T0);
    assert_int_equal(back.aliases.count, 1);

    loaded_free(&before);
    loaded_free(&after);
    loaded_free(&back);
    store_close(a);
    store_close(b);
}

static void test_rollback_discards(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->put_lead(s, "kept", "k", 1),
                     STORE_OK); /* outside a transaction: its own */
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "dropped", "d", 1), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "kept", "changed", 7), STORE_OK);
    assert_int_equal(s->ops->put_account(s, "acme.com", "a", 1), STORE_OK);
    assert_int_equal(put_handoff(s, 1, "dropped", "sales", "g", T0, false, "handed_off"), STORE_OK);
    assert_int_equal(s->ops->rollback(s), STORE_OK);
    assert_int_equal(s->ops->rollback(s), STORE_OK); /* nothing open: nothing to do */

    loaded l = {0};
    load_all(s, &l, MS_PER_DAY, T0);
    assert_int_equal(l.leads.count, 1);
    assert_string_equal(l.leads.item[0], "k/1");
    assert_int_equal(l.accounts.count, 0);
    rows r = {0};
    assert_int_equal(s->ops->get_handoff(s, 1, on_row, &r), STORE_NOT_FOUND);
    loaded_free(&l);
    store_close(s);
}

/* ---- handoffs: filters, paging, status ----------------------------------------------- */

/* The 30 handoffs of the filter test, as functions of their id. */
static const char *h_status(int i)
{
    return i % 3 == 0 ? "accepted" : "handed_off";
}
static const char *h_team(int i)
{
    return i % 2 ? "sales" : "development";
}
static const char *h_gate(int i)
{
    return i % 5 == 0 ? "fast_track" : "fit_intent";
}
static bool h_fast(int i)
{
    return i % 5 == 0;
}
static time_ms h_at(int i)
{
    return T0 + i * MS_PER_HOUR;
}
static void h_lead(int i, char *buf, size_t cap)
{
    snprintf(buf, cap, "lead-%d", i % 4);
}

static bool h_matches(int i, const store_filter *f)
{
    char lead[16];
    h_lead(i, lead, sizeof lead);
    return (!f->status || strcmp(f->status, h_status(i)) == 0) &&
           (!f->owner || strcmp(f->owner, h_team(i)) == 0) &&
           (!f->gate || strcmp(f->gate, h_gate(i)) == 0) &&
           (!f->lead || strcmp(f->lead, lead) == 0) && (!f->since || h_at(i) >= f->since) &&
           (f->fast < 0 || h_fast(i) == (f->fast == 1)) && (!f->after || (uint64_t)i < f->after);
}

static void expect_listing(store *s, store_filter f)
{
    rows r = {0};
    if (s->ops->list_handoffs(s, &f, on_row, &r) != STORE_OK) fail_msg("list: %s", store_error(s));
    size_t k = 0;
    uint32_t limit = f.limit ? f.limit : 100;
    for (int i = 30; i >= 1 && k < limit; i--) {
        if (!h_matches(i, &f)) continue;
        if (k >= r.count) fail_msg("handoff %d missing", i);
        assert_int_equal(json_id(r.item[k]), i);
        assert_non_null(strstr(r.item[k], h_status(i)));
        k++;
    }
    assert_int_equal(r.count, k);
    rows_free(&r);
}

static void test_list_handoffs_filters_and_paging(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    for (int i = 1; i <= 30; i++) {
        char lead[16];
        h_lead(i, lead, sizeof lead);
        assert_int_equal(put_handoff(s, (uint64_t)i, lead, h_team(i), h_gate(i), h_at(i), h_fast(i),
                                     "handed_off"),
                         STORE_OK);
        if (i % 3 == 0)
            assert_int_equal(s->ops->set_handoff_status(s, (uint64_t)i, "accepted"), STORE_OK);
    }
    assert_int_equal(s->ops->commit(s), STORE_OK);

    expect_listing(s, (store_filter){.fast = -1});
    rows all = {0}; /* no filter at all */
    assert_int_equal(s->ops->list_handoffs(s, NULL, on_row, &all), STORE_OK);
    assert_int_equal(all.count, 30);
    rows_free(&all);
    expect_listing(s, (store_filter){.fast = -1, .status = "accepted"});
    expect_listing(s, (store_filter){.fast = -1, .status = "handed_off"});
    expect_listing(s, (store_filter){.fast = -1, .owner = "sales"});
    expect_listing(s, (store_filter){.fast = -1, .gate = "fast_track"});
    expect_listing(s, (store_filter){.fast = -1, .lead = "lead-1"});
    expect_listing(s, (store_filter){.fast = -1, .since = h_at(20)});
    expect_listing(s, (store_filter){.fast = 1});
    expect_listing(s, (store_filter){.fast = 0});
    expect_listing(
        s, (store_filter){.fast = -1, .status = "handed_off", .owner = "sales", .since = h_at(10)});
    expect_listing(s, (store_filter){.fast = 0, .owner = "development", .lead = "lead-2"});
    expect_listing(s, (store_filter){.fast = -1, .status = "rejected"});
    expect_listing(s, (store_filter){.fast = -1, .limit = 5});
    expect_listing(s, (store_filter){.fast = -1, .after = 12, .limit = 4});

    /* paging: each page continues after the last id of the one before */
    bool seen[31] = {false};
    uint64_t after = 0, last = 31;
    for (int page = 0; page < 10; page++) {
        rows r = {0};
        store_filter pf = {.fast = -1, .owner = "sales", .limit = 4, .after = after};
        assert_int_equal(s->ops->list_handoffs(s, &pf, on_row, &r), STORE_OK);
        for (size_t k = 0; k < r.count; k++) {
            uint64_t id = json_id(r.item[k]);
            assert_true(id < last); /* newest first, never twice */
            assert_false(seen[id]);
            seen[id] = true;
            last = id;
        }
        size_t n = r.count;
        if (n) after = json_id(r.item[n - 1]);
        rows_free(&r);
        if (n < 4) break;
    }
    for (int i = 1; i <= 30; i++)
        assert_int_equal(seen[i], strcmp(h_team(i), "sales") == 0);

    /* a callback that returns false stops the listing */
    rows r = {.stop_after = 2};
    assert_int_equal(s->ops->list_handoffs(s, &(store_filter){.fast = -1}, on_row, &r), STORE_OK);
    assert_int_equal(r.count, 2);
    rows_free(&r);
    store_close(s);
}

static void test_list_handoffs_limits(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    for (uint64_t i = 1; i <= 1100; i++)
        assert_int_equal(put_handoff(s, i, "lead", "sales", "g", T0, false, "handed_off"),
                         STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_OK);
    rows r = {0};
    assert_int_equal(s->ops->list_handoffs(s, &(store_filter){.fast = -1}, on_row, &r), STORE_OK);
    assert_int_equal(r.count, 100);
    assert_int_equal(json_id(r.item[0]), 1100);
    rows_free(&r);
    assert_int_equal(
        s->ops->list_handoffs(s, &(store_filter){.fast = -1, .limit = 5000}, on_row, &r), STORE_OK);
    assert_int_equal(r.count, 1000);
    assert_int_equal(json_id(r.item[999]), 101);
    rows_free(&r);
    store_close(s);
}

static void test_status_changes_show_in_the_packet(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(put_handoff(s, 7, "lead-7", "sales", "fit_intent", T0, false, "handed_off"),
                     STORE_OK);
    rows r = {0};
    assert_int_equal(s->ops->get_handoff(s, 7, on_row, &r), STORE_OK);
    char *given = packet(7, "lead-7", "handed_off");
    assert_string_equal(r.item[0], given); /* stored as given */
    free(given);
    rows_free(&r);

    assert_int_equal(s->ops->set_handoff_status(s, 7, "accepted"), STORE_OK);
    assert_int_equal(s->ops->get_handoff(s, 7, on_row, &r), STORE_OK);
    char *expected = packet(7, "lead-7", "accepted"); /* the same bytes but the status */
    assert_string_equal(r.item[0], expected);
    rows_free(&r);
    assert_int_equal(
        s->ops->list_handoffs(s, &(store_filter){.fast = -1, .status = "accepted"}, on_row, &r),
        STORE_OK);
    assert_int_equal(r.count, 1);
    assert_string_equal(r.item[0], expected);
    rows_free(&r);
    assert_int_equal(
        s->ops->list_handoffs(s, &(store_filter){.fast = -1, .status = "handed_off"}, on_row, &r),
        STORE_OK);
    assert_int_equal(r.count, 0);
    free(expected);

    /* a packet whose status disagrees with the column gets the column's */
    char *p = packet(8, "lead-8", "handed_off");
    store_handoff h = {.id = 8,
                       .lead = "lead-8",
                       .gate = "g",
                       .contract = "c",
                       .version = 1,
                       .at = T0,
                       .stage = "sales",
                       .status = "needs_context",
                       .packet = p};
    assert_int_equal(s->ops->put_handoff(s, &h), STORE_OK);
    free(p);
    assert_int_equal(s->ops->get_handoff(s, 8, on_row, &r), STORE_OK);
    assert_non_null(strstr(r.item[0], "\"status\":\"needs_context\""));
    rows_free(&r);

    assert_int_equal(s->ops->set_handoff_status(s, 99, "accepted"), STORE_NOT_FOUND);
    assert_int_equal(s->ops->get_handoff(s, 99, on_row, &r), STORE_NOT_FOUND);
    assert_int_equal(r.count, 0);
    assert_false(s->failed);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM handoffs WHERE status = 'accepted'"),
                     1);
}

/* ---- timeline ------------------------------------------------------------------------ */

static store_change change(const char *lead, uint64_t handoff, time_ms at, const char *to_status,
                           const char *cause, const char *actor)
{
    return (store_change){.lead = lead,
                          .handoff = handoff,
                          .at = at,
                          .from_stage = "nurture",
                          .from_status = "open",
                          .to_stage = "sales",
                          .to_status = to_status,
                          .owner = "sales",
                          .cause = cause,
                          .actor = actor};
}

static void test_timeline_oldest_first(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    store_change c3 = change("lead-1", 1, T0 + 3000, "accepted", "accepted", "ana@example.com");
    store_change c1 = change("lead-1", 1, T0 + 1000, "handed_off", "gate fast_track", NULL);
    store_change c2 = change("lead-1", 0, T0 + 2500, "handed_off", "say \"hi\"", "engine");
    store_change other = change("lead-2", 0, T0, "open", "x", NULL);
    assert_int_equal(s->ops->put_change(s, &c3),
                     STORE_OK); /* before its handoff: checked at commit */
    assert_int_equal(put_handoff(s, 1, "lead-1", "sales", "fast_track", T0, true, "handed_off"),
                     STORE_OK);
    assert_int_equal(s->ops->put_change(s, &c1), STORE_OK);
    assert_int_equal(s->ops->put_change(s, &c2), STORE_OK);
    assert_int_equal(s->ops->put_change(s, &other), STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_OK);

    rows r = {0};
    assert_int_equal(s->ops->timeline(s, "lead-1", on_row, &r), STORE_OK);
    assert_int_equal(r.count, 3);
    assert_string_equal(
        r.item[0], "{\"record\":\"transition\",\"lead\":\"lead-1\",\"at\":\"2026-07-01T00:00:01Z\","
                   "\"from\":{\"stage\":\"nurture\",\"status\":\"open\"},"
                   "\"to\":{\"stage\":\"sales\",\"status\":\"handed_off\"},\"owner\":\"sales\","
                   "\"cause\":\"gate fast_track\",\"handoff\":1,\"actor\":\"engine\"}");
    assert_non_null(strstr(r.item[1], "\"at\":\"2026-07-01T00:00:02.500Z\""));
    assert_non_null(strstr(r.item[1], "\"cause\":\"say \\\"hi\\\"\""));
    assert_null(strstr(r.item[1], "\"handoff\"")); /* none */
    assert_non_null(strstr(r.item[2], "\"actor\":\"ana@example.com\""));
    rows_free(&r);
    assert_int_equal(s->ops->timeline(s, "nobody", on_row, &r), STORE_OK);
    assert_int_equal(r.count, 0);
    store_close(s);
}

static void test_change_for_a_missing_handoff_fails_at_commit(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-1", "x", 1), STORE_OK);
    store_change c = change("lead-1", 99, T0, "accepted", "accepted", NULL);
    assert_int_equal(s->ops->put_change(s, &c), STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_ERROR);
    assert_non_null(strstr(store_error(s), "commit: FOREIGN KEY constraint failed"));
    store_reset(s);
    loaded l = {0};
    load_all(s, &l, MS_PER_DAY, T0);
    assert_int_equal(l.leads.count, 0); /* the whole transaction is gone */
    loaded_free(&l);
    store_close(s);
}

/* ---- load ------------------------------------------------------------------------------ */

static void test_load_returns_everything(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    time_ms now = T0 + 10 * MS_PER_DAY;
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-1", "one\0bytes", 9), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-2", "two", 3), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-1", "ONE", 3), STORE_OK); /* replaces */
    assert_int_equal(s->ops->put_lead(s, "empty", NULL, 0), STORE_OK);
    assert_int_equal(s->ops->put_account(s, "acme.com", "acme", 4), STORE_OK);
    assert_int_equal(s->ops->put_alias(s, "anon-1", "lead-1"), STORE_OK);
    assert_int_equal(s->ops->put_alias(s, "ann@acme.com", "lead-2"), STORE_OK);
    assert_int_equal(s->ops->put_alias(s, "anon-1", "lead-2"), STORE_OK); /* merged: repointed */
    store_event recent = event("recent", "lead-1", now - 3 * MS_PER_DAY, now - MS_PER_HOUR);
    store_event edge = event("edge", "lead-1", T0, now - MS_PER_DAY);
    store_event old = event("old", "lead-1", T0, now - MS_PER_DAY - 1);
    store_event anonymous = event(NULL, "lead-1", T0, now);
    assert_int_equal(s->ops->put_event(s, &recent), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &edge), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &old), STORE_OK);
    assert_int_equal(s->ops->put_event(s, &anonymous), STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_OK);
    store_close(s);

    s = open_ok(f);
    loaded l = {0};
    load_all(s, &l, MS_PER_DAY, now);
    assert_int_equal(l.leads.count, 3);
    assert_string_equal(l.leads.item[0], "ONE/3");
    assert_string_equal(l.leads.item[1], "two/3");
    assert_string_equal(l.leads.item[2], "/0");
    assert_int_equal(l.accounts.count, 1);
    assert_string_equal(l.accounts.item[0], "acme");
    assert_int_equal(l.aliases.count, 2);
    assert_string_equal(l.aliases.item[0], "ann@acme.com=lead-2");
    assert_string_equal(l.aliases.item[1], "anon-1=lead-2");
    assert_int_equal(l.seen.count, 2); /* inside the window only; the event's own time */
    assert_string_equal(l.seen.item[0], "edge@0");
    assert_string_equal(l.seen.item[1], "recent@604800000");
    loaded_free(&l);

    /* only the callbacks given are called */
    store_load some = {.ctx = &l, .seen = on_seen};
    assert_int_equal(s->ops->load(s, &some, 30 * MS_PER_DAY, now), STORE_OK);
    assert_int_equal(l.leads.count, 0);
    assert_int_equal(l.seen.count, 3);
    loaded_free(&l);

    /* a callback that refuses makes load fail, naming what it refused */
    l.refuse_after = 2;
    store_load cb = {.ctx = &l, .lead = on_lead};
    assert_int_equal(s->ops->load(s, &cb, MS_PER_DAY, now), STORE_ERROR);
    assert_string_equal(store_error(s), "load: lead lead-2 was refused");
    assert_false(s->failed); /* a read: nothing sticks */
    loaded_free(&l);
    store_close(s);
}

/* ---- reading ahead (store/readahead.c) ------------------------------------------------ */

enum { RA_LEADS = 4000 };

/* Lead i's state in version v: its bytes say which lead and version they
 * are, all of them, so a page read from a stale or misplaced block shows. */
static size_t ra_blob(unsigned char *out, uint32_t i, uint8_t v)
{
    size_t len = 200 + (i * 7919u) % 700;
    memcpy(out, &i, sizeof i);
    out[4] = v;
    for (size_t k = 5; k < len; k++) out[k] = (unsigned char)(i * 31u + v * 101u + k);
    return len;
}

typedef struct ra_check {
    uint8_t version[RA_LEADS]; /* what each lead should read as */
    bool seen[RA_LEADS];
    size_t leads, aliases, seen_ids, bad;
    store *writer; /* non-NULL: changes the file while the first lead is read */
    int stage;     /* the version the writer writes */
} ra_check;

static void ra_write_all(store *w, uint8_t v)
{
    unsigned char blob[1024];
    char key[32];
    assert_int_equal(w->ops->begin(w), STORE_OK);
    for (uint32_t i = 0; i < RA_LEADS; i++) {
        snprintf(key, sizeof key, "lead-%u", i);
        assert_int_equal(w->ops->put_lead(w, key, blob, ra_blob(blob, i, v)), STORE_OK);
    }
    assert_int_equal(w->ops->commit(w), STORE_OK);
}

static bool ra_lead(void *ctx, const void *blob, size_t len)
{
    ra_check *c = ctx;
    uint32_t i;
    memcpy(&i, blob, sizeof i);
    unsigned char want[1024];
    if (i >= RA_LEADS || c->seen[i] || len != ra_blob(want, i, c->version[i]) || memcmp(blob, want, len) != 0) {
        c->bad++;
        return true;
    }
    c->seen[i] = true;
    if (c->leads++ == 0 && c->writer) {
        /* another connection rewrites every lead and checkpoints while this
         * load reads: it must go on seeing the file as it was */
        ra_write_all(c->writer, (uint8_t)c->stage);
        assert_int_equal(c->writer->ops->checkpoint(c->writer, STORE_CHECKPOINT_PASSIVE, NULL), STORE_OK);
    }
    return true;
}

static bool ra_alias(void *ctx, const char *alias, const char *lead)
{
    ra_check *c = ctx;
    c->aliases++;
    return strncmp(alias, "anon-", 5) == 0 && strncmp(lead, "lead-", 5) == 0;
}

static bool ra_seen(void *ctx, const char *id, time_ms at)
{
    ra_check *c = ctx;
    c->seen_ids++;
    return strncmp(id, "m-", 2) == 0 && at == T0;
}

static void ra_load(store *s, ra_check *c)
{
    memset(c->seen, 0, sizeof c->seen);
    c->leads = c->aliases = c->seen_ids = c->bad = 0;
    store_load cb = {.ctx = c, .lead = ra_lead, .alias = ra_alias, .seen = ra_seen};
    if (s->ops->load(s, &cb, 7 * MS_PER_DAY, T0 + MS_PER_DAY) != STORE_OK) fail_msg("load: %s", store_error(s));
    assert_int_equal(c->bad, 0);
    assert_int_equal(c->leads, RA_LEADS);
    assert_int_equal(c->aliases, 2 * RA_LEADS);
    assert_int_equal(c->seen_ids, RA_LEADS);
}

/* A file written a little at a time, its tables' pages interleaved (as a
 * server leaves it), is read in blocks by load(), and every row comes out
 * right: while another connection rewrites every lead and checkpoints in the
 * middle of the load, the load still sees the file as it was when it
 * began; the next load sees the new rows; writes through the same store
 * after a load land; a load that cannot have memory for its blocks fails
 * as reads fail, and the next one works. */
static void test_load_reads_ahead_and_keeps_its_snapshot(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    unsigned char blob[1024];
    char key[32], alias[48], id[32];
    for (uint32_t chunk = 0; chunk < 8; chunk++) {
        assert_int_equal(s->ops->begin(s), STORE_OK);
        for (uint32_t i = chunk * RA_LEADS / 8; i < (chunk + 1) * RA_LEADS / 8; i++) {
            snprintf(key, sizeof key, "lead-%u", i);
            assert_int_equal(s->ops->put_lead(s, key, blob, ra_blob(blob, i, 0)), STORE_OK);
            for (int k = 0; k < 2; k++) {
                snprintf(alias, sizeof alias, "anon-%u-%d-%08x", i, k, i * 2654435761u);
                assert_int_equal(s->ops->put_alias(s, alias, key), STORE_OK);
            }
            snprintf(id, sizeof id, "m-%u", i);
            store_event e = event(id, key, T0, T0 + (time_ms)i);
            assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
        }
        assert_int_equal(s->ops->commit(s), STORE_OK);
    }
    store_close(s);
    int64_t pages = sql_int(f->path, "PRAGMA page_count");
    assert_true(pages > 512); /* more than two whole blocks */

    /* the whole file, read mostly from blocks */
    ra_check *c = calloc(1, sizeof *c);
    assert_non_null(c);
    s = open_ok(f);
    uint64_t hits0, blocks0, hits1, blocks1;
    readahead_counts(&hits0, &blocks0);
    ra_load(s, c);
    readahead_counts(&hits1, &blocks1);
    assert_true(blocks1 > blocks0);
    assert_true(hits1 - hits0 > (uint64_t)pages / 2);
    assert_true(hits1 - hits0 > 5 * (blocks1 - blocks0));
    store_close(s);

    /* every seventh lead rewritten, longer or shorter (rows move between
     * pages), and left in the WAL: the checkpoint in the middle of the next
     * load copies these pages into the file the load is reading */
    c->writer = open_ok(f);
    assert_int_equal(c->writer->ops->manual_checkpoints(c->writer), STORE_OK);
    assert_int_equal(c->writer->ops->begin(c->writer), STORE_OK);
    for (uint32_t i = 0; i < RA_LEADS; i += 7) {
        snprintf(key, sizeof key, "lead-%u", i);
        assert_int_equal(c->writer->ops->put_lead(c->writer, key, blob, ra_blob(blob, i, 1)), STORE_OK);
        c->version[i] = 1;
    }
    assert_int_equal(c->writer->ops->commit(c->writer), STORE_OK);
    s = open_ok(f);
    c->stage = 2;
    ra_load(s, c);

    store_close(c->writer);
    c->writer = NULL;
    memset(c->version, 2, sizeof c->version);
    ra_load(s, c); /* the rewrite, now committed */

    ra_write_all(s, 3); /* the store still writes after a load */
    memset(c->version, 3, sizeof c->version);
    ra_load(s, c);

    /* no memory for the blocks: the load fails as any read does, and
     * nothing sticks */
    mem_fail_after(1);
    store_load cb = {.ctx = c, .lead = ra_lead};
    assert_int_equal(s->ops->load(s, &cb, 0, T0), STORE_ERROR);
    mem_fail_after(0);
    assert_string_equal(store_error(s), "load: out of memory for reading ahead");
    assert_false(s->failed);
    ra_load(s, c);
    store_close(s);
    free(c);
}

/* ---- tokens ------------------------------------------------------------------------------- */

static void test_tokens(void **state)
{
    fixture *f = *state;
    static const char sales[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    static const char admin[] = "60303AE22B998861BCE3B28F33EEC1BE758A213C86C93C076DBE9F558C11C752";
    static const char unknown[] =
        "0000000000000000000000000000000000000000000000000000000000000000";
    store *s = open_ok(f);
    assert_int_equal(s->ops->put_token(s, sales, ROLE_SALES, "crm sync", T0), STORE_OK);
    assert_int_equal(s->ops->put_token(s, admin, ROLE_ADMIN, "ops", T0), STORE_OK);
    assert_int_equal(s->ops->put_token(s, sales, ROLE_ADMIN, "again", T0), STORE_DUPLICATE);
    enum token_role role = ROLE_INGEST;
    assert_int_equal(s->ops->find_token(s, sales, &role), STORE_OK);
    assert_int_equal(role, ROLE_SALES); /* the duplicate changed nothing */
    assert_int_equal(s->ops->find_token(s, admin, &role), STORE_OK);
    assert_int_equal(role, ROLE_ADMIN);
    assert_int_equal(s->ops->find_token(s, unknown, &role), STORE_NOT_FOUND);
    assert_false(s->failed);
    store_close(s);
    char *row = sql_text(
        f->path, "SELECT digest || ' ' || role || ' ' || name || ' ' || created FROM tokens "
                 "WHERE role = 'sales'");
    assert_string_equal(
        row, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 sales crm sync "
             "1782864000000");
    free(row);
    assert_string_equal(token_role_name(ROLE_INGEST), "ingest");
    assert_string_equal(token_role_name(ROLE_SALES), "sales");
    assert_string_equal(token_role_name(ROLE_ADMIN), "admin");
    assert_null(token_role_name((enum token_role)9));
}

/* ---- sticky failure ----------------------------------------------------------------------- */

static void test_failed_write_sticks_until_reset(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-1", "x", 1), STORE_OK);
    store_handoff bad = {.id = 1,
                         .lead = "lead-1",
                         .gate = "g",
                         .contract = "c",
                         .version = 1,
                         .at = T0,
                         .stage = "sales",
                         .status = "handed_off",
                         .packet = "{\"id\":1,"};
    assert_int_equal(s->ops->put_handoff(s, &bad), STORE_ERROR);
    char first[256];
    snprintf(first, sizeof first, "%s", store_error(s));
    assert_string_equal(first, "put_handoff: malformed JSON");
    assert_true(s->failed);

    /* everything but rollback and close answers the same error */
    enum token_role role;
    char meta[8];
    rows r = {0};
    loaded l = {0};
    store_load cb = {.ctx = &l, .lead = on_lead};
    store_event e = event("m-1", "lead-1", T0, T0);
    uint64_t removed = 7;
    assert_int_equal(s->ops->put_lead(s, "lead-2", "y", 1), STORE_ERROR);
    assert_int_equal(s->ops->put_event(s, &e), STORE_ERROR);
    assert_int_equal(s->ops->set_meta(s, "k", "v"), STORE_ERROR);
    assert_int_equal(s->ops->get_meta(s, "k", meta, sizeof meta), STORE_ERROR);
    assert_int_equal(s->ops->list_handoffs(s, NULL, on_row, &r), STORE_ERROR);
    assert_int_equal(s->ops->timeline(s, "lead-1", on_row, &r), STORE_ERROR);
    assert_int_equal(s->ops->find_token(s, "x", &role), STORE_ERROR);
    assert_int_equal(s->ops->load(s, &cb, MS_PER_DAY, T0), STORE_ERROR);
    assert_int_equal(s->ops->prune_events(s, T0, 0, &removed), STORE_ERROR);
    assert_int_equal(s->ops->commit(s), STORE_ERROR);
    assert_int_equal(s->ops->begin(s), STORE_ERROR);
    assert_string_equal(store_error(s), first);
    assert_int_equal(r.count, 0);
    assert_int_equal(l.leads.count, 0);
    assert_int_equal(s->ops->rollback(s), STORE_OK);
    assert_true(s->failed); /* rollback does not clear it */
    assert_int_equal(s->ops->put_lead(s, "lead-2", "y", 1), STORE_ERROR);

    store_reset(s);
    assert_string_equal(store_error(s), "");
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_lead(s, "lead-3", "z", 1), STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_OK);
    load_all(s, &l, MS_PER_DAY, T0);
    assert_int_equal(l.leads.count, 1); /* lead-1 went with the failed transaction */
    assert_string_equal(l.leads.item[0], "z/1");
    loaded_free(&l);

    /* a CHECK constraint outside a transaction: a clear-text token */
    assert_int_equal(s->ops->put_token(s, "secret-token", ROLE_SALES, "oops", T0), STORE_ERROR);
    assert_non_null(strstr(store_error(s), "put_token: CHECK constraint failed"));
    assert_int_equal(s->ops->find_token(s, "secret-token", &role), STORE_ERROR);
    store_reset(s);
    assert_int_equal(s->ops->find_token(s, "secret-token", &role), STORE_NOT_FOUND);
    assert_int_equal(s->ops->put_token(s, "ab", (enum token_role)9, "bad role", T0), STORE_ERROR);
    assert_string_equal(store_error(s), "put_token: role 9 is none of ingest, sales, admin");
    store_close(s);
}

/* ---- retention ---------------------------------------------------------------------------- */

/* ---- replaying what a save does not hold ------------------------------------------- */

static bool on_event_after(void *ctx, const store_event *e)
{
    char text[256];
    snprintf(text, sizeof text, "%llu:%s@%lld", (unsigned long long)e->seq, e->message_id ? e->message_id : "-",
             (long long)(e->received - T0));
    rows_add(ctx, text);
    return true;
}

/* The server saves state as of one event (state_through) and replays those
 * after it: they come back in arrival order with their seq and time of
 * receipt, and are not among the ids a load marks as seen. */
static void test_events_after_a_save(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    uint64_t last = 99;
    assert_int_equal(s->ops->last_event(s, &last), STORE_OK);
    assert_int_equal(last, 0); /* none yet */
    const char *ids[] = {"a", "b", NULL, "d"};
    for (int i = 0; i < 4; i++) {
        store_event e = event(ids[i], "lead", T0, T0 + i);
        assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
    }
    assert_int_equal(s->ops->last_event(s, &last), STORE_OK);
    assert_int_equal(last, 4);
    rows after = {0};
    assert_int_equal(s->ops->events_after(s, 2, on_event_after, &after), STORE_OK);
    assert_int_equal(after.count, 2);
    assert_string_equal(after.item[0], "3:-@2");
    assert_string_equal(after.item[1], "4:d@3");
    rows_free(&after);

    loaded l = {0};
    store_load cb = {.ctx = &l, .seen = on_seen, .seen_before = 3};
    assert_int_equal(s->ops->load(s, &cb, MS_PER_DAY, T0 + 10), STORE_OK);
    assert_int_equal(l.seen.count, 2); /* a and b, in any order; d is replayed, not seen */
    assert_true(strcmp(l.seen.item[0], "b@0") == 0 || strcmp(l.seen.item[1], "b@0") == 0);
    assert_true(strcmp(l.seen.item[0], "a@0") == 0 || strcmp(l.seen.item[1], "a@0") == 0);
    loaded_free(&l);

    /* a value of any length: the stored contract */
    strbuf big, got;
    strbuf_init(&big);
    strbuf_init(&got);
    for (int i = 0; i < 5000; i++) strbuf_puts(&big, "gates: ");
    assert_int_equal(s->ops->set_meta(s, "contract", big.data), STORE_OK);
    assert_int_equal(s->ops->get_meta_text(s, "contract", &got), STORE_OK);
    assert_string_equal(got.data, big.data);
    assert_int_equal(s->ops->get_meta_text(s, "absent", &got), STORE_NOT_FOUND);
    strbuf_free(&big);
    strbuf_free(&got);
    store_close(s);
}

static void test_prune_events(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    const char *ids[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        store_event e = event(ids[i], "lead", T0, T0 + i * 1000);
        assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
    }
    uint64_t removed = 0;
    assert_int_equal(s->ops->prune_events(s, T0 + 2000, 1, &removed), STORE_OK);
    assert_int_equal(removed, 1); /* only up to the seq given: the rest wait for a save */
    assert_int_equal(s->ops->prune_events(s, T0 + 2000, 0, &removed), STORE_OK);
    assert_int_equal(removed, 1); /* received before, not at */
    assert_int_equal(s->ops->prune_events(s, T0 + 2000, 0, &removed), STORE_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(s->ops->prune_events(s, T0 + 9000, 0, &removed), STORE_OK);
    assert_int_equal(removed, 1); /* c; d, the last, stays so its seq is not given out again */
    store_event again = event("a", "lead", T0, T0 + 5000); /* pruned ids are forgotten */
    assert_int_equal(s->ops->put_event(s, &again), STORE_OK);
    uint64_t last = 0;
    assert_int_equal(s->ops->last_event(s, &last), STORE_OK);
    assert_int_equal(last, 5);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 2);
    assert_int_equal(sql_int(f->path, "SELECT min(received) FROM events"), T0 + 3000);
}

/* ---- crash ----------------------------------------------------------------------------------- */

/* The child commits, says so, writes more without committing, says so, and
 * waits to be killed. Exit codes tell the parent where it failed. */
static void crash_child(const char *path, int tell)
{
    char why[256];
    store *s = sqlite_store_open(path, why, sizeof why);
    if (!s) _exit(10);
    if (s->ops->begin(s) != STORE_OK) _exit(11);
    for (int i = 0; i < 200; i++) {
        char id[32], lead[32];
        snprintf(id, sizeof id, "m-%d", i);
        snprintf(lead, sizeof lead, "lead-%d", i);
        store_event e = event(id, lead, T0, T0 + i);
        if (s->ops->put_event(s, &e) != STORE_OK) _exit(12);
        if (s->ops->put_lead(s, lead, "committed", 9) != STORE_OK) _exit(13);
    }
    if (put_handoff(s, 1, "lead-1", "sales", "g", T0, false, "handed_off") != STORE_OK) _exit(14);
    if (s->ops->commit(s) != STORE_OK) _exit(15);
    if (write(tell, "c", 1) != 1) _exit(16);
    /* a second transaction the kill cuts off */
    if (s->ops->begin(s) != STORE_OK) _exit(17);
    for (int i = 0; i < 200; i++) {
        char lead[32];
        snprintf(lead, sizeof lead, "lead-%d", i);
        if (s->ops->put_lead(s, lead, "uncommitted", 11) != STORE_OK) _exit(18);
    }
    if (s->ops->set_handoff_status(s, 1, "accepted") != STORE_OK) _exit(19);
    if (write(tell, "u", 1) != 1) _exit(20);
    for (;;)
        pause();
}

static bool on_lead_state(void *ctx, const void *blob, size_t len)
{
    size_t *committed = ctx;
    if (len == 9 && memcmp(blob, "committed", 9) == 0) ++*committed;
    return true;
}

static void test_killed_after_commit_keeps_what_was_committed(void **state)
{
    fixture *f = *state;
    store_close(open_ok(f)); /* the schema, before the child */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(f->path, fds[1]);
    }
    close(fds[1]);
    char said[2] = {0};
    ssize_t n = read(fds[0], &said[0], 1);
    if (n == 1) n = read(fds[0], &said[1], 1);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(fds[0]);
    if (n != 1)
        fail_msg("the child stopped early (exit %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    assert_memory_equal(said, "cu", 2);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    store *s = open_ok(f);
    size_t committed = 0;
    store_load cb = {.ctx = &committed, .lead = on_lead_state};
    assert_int_equal(s->ops->load(s, &cb, MS_PER_DAY, T0), STORE_OK);
    assert_int_equal(committed, 200);
    rows r = {0};
    assert_int_equal(s->ops->get_handoff(s, 1, on_row, &r), STORE_OK);
    assert_non_null(strstr(r.item[0], "\"status\":\"handed_off\""));
    rows_free(&r);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 200);
    assert_int_equal(
        sql_int(f->path, "SELECT count(*) FROM leads WHERE state = CAST('committed' AS BLOB)"),
        200);
}

/* ---- load time, on demand ---------------------------------------------------------------------
 * BATON_BENCH_LEADS=1000000 store_test_sqlite builds a store with that many
 * leads (state blobs of 300..850 bytes, the size engine_export_lead() gives
 * for simulated leads), a tenth as many accounts, two aliases per lead and
 * one event per lead inside the seen window, then times load(). */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

typedef struct tally {
    size_t leads, accounts, aliases, seen, bytes;
} tally;

static bool count_lead(void *ctx, const void *blob, size_t len)
{
    tally *t = ctx;
    t->leads++;
    t->bytes += len + ((const unsigned char *)blob)[0];
    return true;
}

static bool count_account(void *ctx, const void *blob, size_t len)
{
    tally *t = ctx;
    t->accounts++;
    t->bytes += len;
    return true;
}

static bool count_alias(void *ctx, const char *alias, const char *lead)
{
    tally *t = ctx;
    t->aliases++;
    t->bytes += strlen(alias) + strlen(lead);
    return true;
}

static bool count_seen(void *ctx, const char *id, time_ms at)
{
    tally *t = ctx;
    t->seen++;
    t->bytes += strlen(id);
    return true;
}

/* ---- the webhook outbox ------------------------------------------------------------ */

typedef struct due {
    uint64_t ids[8];
    char types[8][32];
    uint32_t attempts[8];
    size_t count;
} due;

static bool take_due(void *ctx, const store_webhook *w)
{
    due *d = ctx;
    d->ids[d->count] = w->id;
    snprintf(d->types[d->count], sizeof d->types[0], "%s", w->type);
    d->attempts[d->count++] = w->attempts;
    return true;
}

static bool keep_json(void *ctx, const char *json)
{
    strbuf_puts(ctx, json);
    strbuf_putc(ctx, '\n');
    return true;
}

static void test_outbox_due_attempts_and_dead_letters(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    time_ms t0 = 1790000000000;
    store_webhook a = {.endpoint = "http://127.0.0.1:9/a", .type = "handoff.created", .data = "{\"n\":1}", .created = t0};
    store_webhook b = {.endpoint = "http://127.0.0.1:9/a", .type = "lead.stage_changed", .data = "{\"n\":2}", .created = t0 + 5};
    assert_int_equal(s->ops->begin(s), STORE_OK);
    assert_int_equal(s->ops->put_webhook(s, &a), STORE_OK);
    assert_int_equal(s->ops->put_webhook(s, &b), STORE_OK);
    assert_int_equal(s->ops->commit(s), STORE_OK);

    /* due when created; the one created later is not due before its time */
    due d = {.count = 0};
    assert_int_equal(s->ops->due_webhooks(s, t0, 10, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.types[0], "handoff.created");
    time_ms next = 0;
    assert_int_equal(s->ops->next_webhook(s, &next), STORE_OK);
    assert_int_equal(next, t0);

    /* a failed attempt moves the row to its retry time */
    store_attempt failed = {.state = WEBHOOK_PENDING, .attempts = 1, .at = t0, .next_at = t0 + 1000, .error = "HTTP 500"};
    assert_int_equal(s->ops->record_attempt(s, d.ids[0], &failed), STORE_OK);
    d.count = 0;
    assert_int_equal(s->ops->due_webhooks(s, t0 + 999, 10, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.types[0], "lead.stage_changed");
    d.count = 0;
    assert_int_equal(s->ops->due_webhooks(s, t0 + 1000, 1, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 1); /* the limit holds, and the row due longest comes first */
    assert_int_equal(d.ids[0], 2);
    d.count = 0;
    assert_int_equal(s->ops->due_webhooks(s, t0 + 1000, 10, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 2);
    assert_int_equal(d.ids[1], 1);
    assert_int_equal(d.attempts[1], 1);

    /* delivered and dead rows are never due again */
    store_attempt delivered = {.state = WEBHOOK_DELIVERED, .attempts = 1, .at = t0 + 6, .next_at = t0 + 6};
    store_attempt dead = {.state = WEBHOOK_DEAD, .attempts = 2, .at = t0 + 1000, .next_at = t0 + 1000, .error = "timeout"};
    assert_int_equal(s->ops->record_attempt(s, 2, &delivered), STORE_OK);
    assert_int_equal(s->ops->record_attempt(s, 1, &dead), STORE_OK);
    assert_int_equal(s->ops->record_attempt(s, 99, &dead), STORE_NOT_FOUND);
    d.count = 0;
    assert_int_equal(s->ops->due_webhooks(s, t0 + 1000000, 10, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 0);
    assert_int_equal(s->ops->next_webhook(s, &next), STORE_NOT_FOUND);

    strbuf listed;
    strbuf_init(&listed);
    assert_int_equal(s->ops->list_webhooks(s, "dead", 10, keep_json, &listed), STORE_OK);
    assert_non_null(strstr(listed.data, "\"id\":1,\"endpoint\":\"http://127.0.0.1:9/a\",\"type\":\"handoff.created\","
                                   "\"state\":\"dead\",\"attempts\":2"));
    assert_non_null(strstr(listed.data, "\"last_error\":\"timeout\",\"data\":{\"n\":1}"));
    assert_null(strstr(listed.data, "\"id\":2"));

    /* a retry revives only a dead row, from its first attempt */
    assert_int_equal(s->ops->retry_webhook(s, 2, t0 + 2000), STORE_NOT_FOUND);
    assert_int_equal(s->ops->retry_webhook(s, 1, t0 + 2000), STORE_OK);
    d.count = 0;
    assert_int_equal(s->ops->due_webhooks(s, t0 + 2000, 10, take_due, &d), STORE_OK);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.ids[0], 1);
    assert_int_equal(d.attempts[0], 0);
    strbuf_free(&listed);
    store_close(s);
}

static void test_load_time(void **state)
{
    const char *env = getenv("BATON_BENCH_LEADS");
    if (!env || !*env) skip();
    fixture *f = *state;
    size_t leads = strtoull(env, NULL, 10);
    store *s = open_ok(f);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned char blob[1024];
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (unsigned char)(x ^= x << 13, x ^= x >> 7, x ^= x << 17);
    assert_int_equal(s->ops->begin(s), STORE_OK);
    for (size_t i = 0; i < leads; i++) {
        char key[48], alias[96], id[48];
        snprintf(key, sizeof key, "user-%zu", i);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        assert_int_equal(s->ops->put_lead(s, key, blob + x % 100, 300 + x % 551), STORE_OK);
        snprintf(alias, sizeof alias, "anon-%016llx", (unsigned long long)x);
        assert_int_equal(s->ops->put_alias(s, alias, key), STORE_OK);
        snprintf(alias, sizeof alias, "%s@example-%zu.com", key, i / 10);
        assert_int_equal(s->ops->put_alias(s, alias, key), STORE_OK);
        snprintf(id, sizeof id, "%016llx-%zu", (unsigned long long)x, i);
        store_event e = event(id, key, T0, T0 + (time_ms)i);
        assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
        if (i % 10 == 0) {
            snprintf(key, sizeof key, "example-%zu.com", i / 10);
            assert_int_equal(s->ops->put_account(s, key, blob, 700), STORE_OK);
        }
        if (i % 100000 == 99999) {
            assert_int_equal(s->ops->commit(s), STORE_OK);
            assert_int_equal(s->ops->begin(s), STORE_OK);
        }
    }
    assert_int_equal(s->ops->commit(s), STORE_OK);
    double build = seconds_since(&t0);
    store_close(s);
    char *size =
        sql_text(f->path, "SELECT (page_count * page_size >> 20) || ' MB' FROM pragma_page_count, "
                          "pragma_page_size");

    /* a restart: open (no migration to apply) and load everything */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = open_ok(f);
    double opened = seconds_since(&t0);
    tally t = {0};
    store_load cb = {.ctx = &t,
                     .lead = count_lead,
                     .account = count_account,
                     .alias = count_alias,
                     .seen = count_seen};
    assert_int_equal(s->ops->load(s, &cb, 7 * MS_PER_DAY, T0 + (time_ms)leads), STORE_OK);
    double loaded_in = seconds_since(&t0);
    assert_int_equal(t.leads, leads);
    assert_int_equal(t.seen, leads);
    print_message("%zu leads, %zu accounts, %zu aliases, %zu seen ids; file %s, built in %.1f s\n"
                  "open %.3f s, open + load %.3f s\n",
                  t.leads, t.accounts, t.aliases, t.seen, size, build, opened, loaded_in);
    free(size);
    store_close(s);
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_migration_from_empty_and_reopen),
        TEST(test_newer_schema_is_refused),
        TEST(test_migration_from_version_1),
        TEST(test_other_database_is_refused),
        TEST(test_unopenable_path),
        TEST(test_put_event_duplicate),
        TEST(test_commit_is_visible_to_a_second_store),
        TEST(test_rollback_discards),
        TEST(test_list_handoffs_filters_and_paging),
        TEST(test_list_handoffs_limits),
        TEST(test_status_changes_show_in_the_packet),
        TEST(test_timeline_oldest_first),
        TEST(test_change_for_a_missing_handoff_fails_at_commit),
        TEST(test_load_returns_everything),
        TEST(test_load_reads_ahead_and_keeps_its_snapshot),
        TEST(test_tokens),
        TEST(test_failed_write_sticks_until_reset),
        TEST(test_prune_events),
        TEST(test_events_after_a_save),
        TEST(test_killed_after_commit_keeps_what_was_committed),
        TEST(test_outbox_due_attempts_and_dead_letters),
        TEST(test_load_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#undef TEST
}
