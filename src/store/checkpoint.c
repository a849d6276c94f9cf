/* Checkpoints off the commit path: a thread and a connection of their own
 * copy the writer's write-ahead log into the database (store.h says what
 * for; this is how).
 *
 * Design notes
 *  1. Who runs what. The writer's connection gets a WAL hook (which also
 *     turns SQLite's automatic checkpoint off): after each commit, in the
 *     writer's thread, it publishes the log's length and, when `start`
 *     frames or more are not yet copied, wakes the thread. The thread runs
 *     PASSIVE checkpoints from its own connection: they copy what no reader
 *     still needs, take no lock the writer wants, and flush the log before
 *     and the database after, so those flushes leave the writer's commits.
 *  2. The bound. PASSIVE alone never starts the log again while the writer
 *     keeps committing (SQLite starts it from the beginning only when a
 *     write transaction begins with every frame copied), so under sustained
 *     load it would grow without end. Past `limit` frames the writer calls
 *     checkpoint_bound() between transactions: it asks for a RESTART and
 *     waits. The writer holds no lock then, so the RESTART takes the write
 *     lock at once, copies the few frames the PASSIVE runs left, waits for
 *     readers still reading the log (their statements are short), and the
 *     writer's next commit writes the log from its start. The log then never
 *     holds much more than `limit` frames plus one transaction's.
 *     journal_size_limit on the writer cuts a file grown longer than that (a
 *     transaction bigger than the limit) back at the first commit after.
 *  3. Locks. `lock` guards `pending`'s waits, `restart`, `restarted` and the
 *     stats; the hook takes it only when it has work to hand over, not on
 *     every commit (`pending` is atomic and set once per hand-over).
 *  4. Shutdown. checkpoint_stop() gives the writer its automatic checkpoint
 *     back (the hook must go before `c` does), stops and joins the thread,
 *     then runs a TRUNCATE from the thread's connection so the log file is
 *     left empty, and closes that connection. */
#include "store/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DEFAULT_START     250 /* 1 MiB: what a RESTART has left to copy while the writer waits */
#define DEFAULT_LIMIT     32768 /* 128 MiB of 4 KiB pages: see docs/architecture.md */
#define AUTOCHECKPOINT    1000 /* what the writer gets back at stop */

struct checkpointer {
    store *writer; /* borrowed */
    store *conn;   /* the thread's own */
    uint32_t start, limit;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_bool pending;           /* the thread has work: set by the hook or by a bound */
    atomic_uint_fast64_t frames;   /* the log's length after the writer's last commit */
    atomic_uint_fast64_t copied;   /* frames copied, as of the last checkpoint */
    bool restart, stopping;        /* under lock */
    uint64_t restarted;            /* RESTARTs finished (or given up), under lock */
    checkpoint_stats stats;        /* under lock */
    char error[256];               /* the last failure, printed once per change */
};

/* The writer's WAL hook: runs in the writer's thread after each commit. */
static int on_commit(void *ctx, sqlite3 *db, const char *name, int frames)
{
    (void)db, (void)name;
    checkpointer *c = ctx;
    uint64_t n = frames > 0 ? (uint64_t)frames : 0;
    atomic_store(&c->frames, n);
    uint64_t copied = atomic_load(&c->copied);
    if (copied > n) copied = 0; /* the log started again */
    if (n - copied >= c->start && !atomic_exchange(&c->pending, true)) {
        pthread_mutex_lock(&c->lock);
        pthread_cond_signal(&c->wake);
        pthread_mutex_unlock(&c->lock);
    }
    return SQLITE_OK;
}

/* One checkpoint from the thread's connection, counted. */
static void run_once(checkpointer *c, enum store_checkpoint mode)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    store_wal wal = {0};
    int rc = c->conn->ops->checkpoint(c->conn, mode, &wal);
    double took = monotonic_seconds_since(&t0);
    if (rc == STORE_OK) {
        atomic_store(&c->copied, wal.copied);
        /* a finished RESTART: the next commit writes the log from its start */
        if (mode != STORE_CHECKPOINT_PASSIVE && !wal.busy) atomic_store(&c->frames, 0);
    }
    pthread_mutex_lock(&c->lock);
    checkpoint_stats *st = &c->stats;
    if (mode == STORE_CHECKPOINT_PASSIVE) st->passive++, st->passive_s += took;
    else st->restarts++, st->restart_s += took;
    if (rc != STORE_OK) st->failures++;
    else st->busy += wal.busy;
    pthread_mutex_unlock(&c->lock);
    if (rc != STORE_OK && strcmp(c->error, store_error(c->conn)) != 0) {
        snprintf(c->error, sizeof c->error, "%s", store_error(c->conn));
        fprintf(stderr, "baton: %s\n", c->error); /* a background thread has no caller to tell */
    }
}

static void *checkpointer_main(void *arg)
{
    checkpointer *c = arg;
    uint64_t last_copied = 0;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!atomic_load(&c->pending) && !c->stopping) pthread_cond_wait(&c->wake, &c->lock);
        if (c->stopping) break;
        atomic_store(&c->pending, false);
        bool restart = c->restart;
        c->restart = false;
        pthread_mutex_unlock(&c->lock);
        run_once(c, restart ? STORE_CHECKPOINT_RESTART : STORE_CHECKPOINT_PASSIVE);
        uint64_t copied = atomic_load(&c->copied);
        pthread_mutex_lock(&c->lock);
        c->stats.copied += copied >= last_copied ? copied - last_copied : copied;
        last_copied = restart ? 0 : copied;
        if (restart) {
            c->restarted++;
            pthread_cond_broadcast(&c->done);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

checkpointer *checkpoint_start(store *writer, const char *path, const checkpoint_options *o, char *why,
                               size_t why_cap)
{
    sqlite3 *db = sqlite_store_db(writer);
    if (!db) {
        snprintf(why, why_cap, "checkpoints: the %s store has none to run", writer->ops->name);
        return NULL;
    }
    checkpointer *c = mem_calloc(1, sizeof *c);
    if (!c) {
        snprintf(why, why_cap, "checkpoints: out of memory");
        return NULL;
    }
    c->writer = writer;
    c->start = o && o->start ? o->start : DEFAULT_START;
    c->limit = o && o->limit ? o->limit : DEFAULT_LIMIT;
    if (c->start > c->limit) c->start = c->limit;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->wake, NULL);
    pthread_cond_init(&c->done, NULL);
    char msg[200];
    if (!(c->conn = sqlite_store_open(path, msg, sizeof msg))) {
        snprintf(why, why_cap, "checkpoints: %s", msg);
        goto fail;
    }
    /* the log file, once started again, is cut back to the limit's size */
    int64_t page = 4096;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        page = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    char pragma[80];
    long long bytes = 32 + (long long)c->limit * (long long)(page + 24); /* header, frames */
    snprintf(pragma, sizeof pragma, "PRAGMA journal_size_limit = %lld", bytes);
    if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(why, why_cap, "checkpoints: %s", sqlite3_errmsg(db));
        goto fail;
    }
    if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
        snprintf(why, why_cap, "checkpoints: cannot start a thread");
        goto fail;
    }
    sqlite3_wal_hook(db, on_commit, c); /* replaces the automatic checkpoint */
    return c;
fail:
    sqlite3_exec(db, "PRAGMA journal_size_limit = -1", NULL, NULL, NULL);
    store_close(c->conn);
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    mem_free(c);
    return NULL;
}

void checkpoint_bound(checkpointer *c)
{
    if (!c || atomic_load(&c->frames) < c->limit) return;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_mutex_lock(&c->lock);
    uint64_t seen = c->restarted;
    c->restart = true;
    atomic_store(&c->pending, true);
    pthread_cond_signal(&c->wake);
    while (c->restarted == seen && !c->stopping) pthread_cond_wait(&c->done, &c->lock);
    c->stats.waits++;
    c->stats.wait_s += monotonic_seconds_since(&t0);
    pthread_mutex_unlock(&c->lock);
}

void checkpoint_stop(checkpointer *c)
{
    if (!c) return;
    sqlite3_wal_autocheckpoint(sqlite_store_db(c->writer), AUTOCHECKPOINT); /* the hook goes */
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->wake);
    pthread_cond_broadcast(&c->done);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    run_once(c, STORE_CHECKPOINT_TRUNCATE);
    store_close(c->conn);
    pthread_cond_destroy(&c->done);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
    mem_free(c);
}

checkpoint_stats checkpoint_get_stats(checkpointer *c)
{
    checkpoint_stats st = {0};
    if (!c) return st;
    pthread_mutex_lock(&c->lock);
    st = c->stats;
    pthread_mutex_unlock(&c->lock);
    st.frames = atomic_load(&c->frames);
    return st;
}
