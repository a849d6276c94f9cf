/* Checkpoints off the commit path (store/checkpoint.c): the log stays bounded
 * under sustained writes, is emptied at stop, and a kill -9 in the middle
 * loses nothing that was committed. */
#include "../store_fixture.h"
#include "store/internal.h"

#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1782864000000) /* 2026-07-01T00:00:00Z */
#define START 32                  /* frames: small, so a few transactions reach them */
#define LIMIT 256
#define FRAME (4096 + 24)         /* a page and its frame header */


static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static int64_t sql_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* One transaction as a server's group writes it: events, then the state of
 * the leads they touched (rows spread over the table, so many pages change). */
static void write_group(store *s, uint32_t group, uint32_t leads)
{
    unsigned char blob[1024];
    char key[32], id[32], body[64];
    assert_int_equal(s->ops->begin(s), STORE_OK);
    for (uint32_t i = 0; i < leads; i++) {
        uint32_t lead = (group * 7919u + i * 104729u) % 5000u;
        snprintf(key, sizeof key, "lead-%u", lead);
        snprintf(id, sizeof id, "m-%u-%u", group, i);
        snprintf(body, sizeof body, "{\"userId\":\"%s\"}", key);
        store_event e = {.message_id = id, .lead = key, .type = "track", .name = "Page",
                         .at = T0, .received = T0 + group, .body = body, .body_len = strlen(body)};
        assert_int_equal(s->ops->put_event(s, &e), STORE_OK);
        memset(blob, (int)(group + i), sizeof blob);
        assert_int_equal(s->ops->put_lead(s, key, blob, sizeof blob - (group + i) % 200), STORE_OK);
    }
    assert_int_equal(s->ops->commit(s), STORE_OK);
}

/* Waits, without sleeping, for the thread to have run a PASSIVE checkpoint;
 * fails after 30 s. */
static void wait_for_passive(checkpointer *c)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (checkpoint_get_stats(c).passive == 0) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 30) fail_msg("no PASSIVE checkpoint ran in 30 s");
        sched_yield();
    }
}

/* Sustained writes: 300 groups write many times the limit in frames, yet
 * after every group (and its checkpoint_bound()) the log holds under the
 * limit plus one group's frames, and its file is no longer; the thread
 * checkpoints on its own; stop empties the log, and every row is there. */
static void test_log_stays_bounded(void **state)
{
    fixture *f = *state;
    char wal[160]; /* the write-ahead log */
    snprintf(wal, sizeof wal, "%s-wal", f->path);
    store *s = open_ok(f);
    char why[256] = "";
    checkpoint_options o = {.start = START, .limit = LIMIT};
    checkpointer *c = checkpoint_start(s, f->path, &o, why, sizeof why);
    if (!c) fail_msg("checkpoint_start: %s", why);

    uint64_t written = 0, largest = 0, longest = 0;
    int64_t biggest_file = 0;
    for (uint32_t g = 0; g < 300; g++) {
        uint64_t before = checkpoint_get_stats(c).frames;
        write_group(s, g, 20);
        uint64_t after = checkpoint_get_stats(c).frames;
        uint64_t added = after >= before ? after - before : after; /* the log started again */
        written += added;
        if (added > largest) largest = added;
        if (after > longest) longest = after;
        if (g == 0) wait_for_passive(c); /* the first group alone passes START */
        checkpoint_bound(c);
        int64_t size = file_size(wal);
        if (size > biggest_file) biggest_file = size;
    }
    checkpoint_stats st = checkpoint_get_stats(c);
    /* without the bound the log would hold every frame written */
    assert_true(written > 8 * LIMIT);
    assert_true(longest < LIMIT + largest);
    assert_true(biggest_file <= 32 + (int64_t)(LIMIT + largest) * FRAME);
    assert_true(st.passive >= 1);
    assert_true(st.restarts >= 1);
    assert_true(st.waits >= 1);
    assert_int_equal(st.failures, 0);
    assert_true(st.copied > 0);

    checkpoint_stop(c);
    assert_int_equal(file_size(wal), 0); /* TRUNCATE at stop */
    /* the writer checkpoints inside commits again, and still writes */
    write_group(s, 300, 20);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 301 * 20);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

/* A store that is not SQLite's, or a file that cannot be opened a second
 * time, gets no checkpointer; the writer is left as it was. */
static void test_start_fails_cleanly(void **state)
{
    fixture *f = *state;
    store *s = open_ok(f);
    char why[256] = "";
    checkpointer *c = checkpoint_start(s, "/nonexistent/dir/baton.db", NULL, why, sizeof why);
    assert_null(c);
    assert_non_null(strstr(why, "checkpoints: "));
    write_group(s, 0, 20);
    checkpoint_bound(NULL);
    checkpoint_stop(NULL);
    checkpoint_stats none = checkpoint_get_stats(NULL);
    assert_int_equal(none.passive, 0);
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 20);
}

/* kill -9 while the thread checkpoints and the writer writes: every group the
 * child reported committed is in the file after, whole. */
static void test_kill_loses_nothing_committed(void **state)
{
    fixture *f = *state;
    store_close(open_ok(f)); /* the schema, before the child */
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        char why[256];
        store *s = sqlite_store_open(f->path, why, sizeof why);
        checkpoint_options o = {.start = START, .limit = LIMIT};
        checkpointer *c = s ? checkpoint_start(s, f->path, &o, why, sizeof why) : NULL;
        if (!c) _exit(2);
        for (uint32_t g = 0;; g++) {
            write_group(s, g, 20);
            if (write(fds[1], &g, sizeof g) != sizeof g) _exit(3);
            checkpoint_bound(c);
            if (g == 150) raise(SIGKILL); /* mid-stream, the thread likely copying */
        }
    }
    close(fds[1]);
    uint32_t g, last = UINT32_MAX;
    while (read(fds[0], &g, sizeof g) == sizeof g) last = g;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(last, 150);
    store *s = open_ok(f); /* recovers the log */
    store_close(s);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events"), 151 * 20);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM events WHERE message_id = 'm-150-19'"), 1);
    assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'"), 1);
}

int main(void)
{
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        TEST(test_log_stays_bounded),
        TEST(test_start_fails_cleanly),
        TEST(test_kill_loses_nothing_committed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
#undef TEST
}
