/* The SQLite store: one file, WAL, foreign keys on, schema migrated at open.
 *
 * Design notes
 *  1. Durability. The journal is a WAL with synchronous=FULL: commit() returns
 *     only after the WAL has been fsynced, so what the server acknowledges
 *     after a commit survives a crash. begin() is BEGIN IMMEDIATE: the write
 *     lock is taken at once and a transaction never fails half-way for want
 *     of it (other processes wait up to BUSY_TIMEOUT_MS).
 *  2. Sticky failure. A write that fails (a put_, set_, begin, commit or
 *     prune_events) rolls back the open transaction at once and leaves the
 *     store failed: every later operation except rollback() and close()
 *     returns STORE_ERROR with the first message until store_reset(). A
 *     failed read reports its error and does not stick. Messages name the
 *     operation, then SQLite's words: "put_handoff: malformed JSON".
 *  3. Statements are prepared once, at open; list_handoffs() prepares one per
 *     combination of filters on its first use. Every statement is reset
 *     right after use, so no read keeps a snapshot open and holds back
 *     checkpoints. Each connection keeps a page cache of CACHE_KIB.
 *  4. One thread at a time uses a store (the connection is opened with
 *     SQLITE_OPEN_NOMUTEX). A thread that reads beside the writer opens a
 *     store of its own; WAL lets readers and the writer run together. A
 *     callback must not call back into the store that called it.
 *  5. A handoff's packet always carries its current status: put_handoff()
 *     and set_handoff_status() write the status into the packet's "status"
 *     field (json_set, which keeps the rest of the text as it was) and into
 *     the status column, so reads hand out packets as stored.
 *  6. put_event() and put_token() answer STORE_DUPLICATE, not an error, for
 *     a message id or digest already stored; nothing is written then.
 *  7. load() reads in one transaction, so it sees one moment of the file. A
 *     callback that returns false stops it, and it returns STORE_ERROR.
 *     seen() gets the event's own time (events.at): the engine's dedupe
 *     window runs on event time. While it reads, the file is read ahead in
 *     blocks of up to a MiB (readahead.c: every connection opens its file
 *     through that VFS, which passes everything through unchanged at other
 *     times); memory for the blocks that cannot be had fails the load.
 *
 * Schema, version 3 (the migrations below are the authority; this is their
 * sum). Every time is INTEGER milliseconds since the Unix epoch, UTC; in the
 * sqlite3 shell strftime('%Y-%m-%dT%H:%M:%fZ', at / 1000.0, 'unixepoch')
 * shows one as ISO-8601.
 *
 *   meta       key TEXT PRIMARY KEY, value TEXT -- the committer's keys (http/commit.c):
 *              clock, next_handoff, state_through, state_next_handoff, contract
 *   events     seq INTEGER PRIMARY KEY (arrival order), message_id TEXT UNIQUE
 *              (NULL: the event had none), lead TEXT (the lead it was applied
 *              to), type TEXT, name TEXT, at (the event's timestamp), received
 *              (when baton took it), body TEXT (the event as received, JSON)
 *              -- append-only; prune_events() drops the oldest by received
 *   leads      key TEXT PRIMARY KEY, state BLOB (engine_export_lead())
 *   accounts   domain TEXT PRIMARY KEY, state BLOB (engine_export_account())
 *   identities alias TEXT PRIMARY KEY, lead TEXT
 *   handoffs   id INTEGER PRIMARY KEY (the engine's number), lead, account,
 *              gate, contract, version INTEGER, at, fast (0|1), stage, team,
 *              status, packet TEXT (the handoff as JSON, status included)
 *   timeline   seq INTEGER PRIMARY KEY, lead, handoff (-> handoffs, NULL: none),
 *              at, from_stage, from_status, to_stage, to_status, owner, cause,
 *              actor ("engine" or who acted through the API)
 *   feedback   seq INTEGER PRIMARY KEY, handoff (-> handoffs), lead, at, kind
 *              (accepted, rejected, first_touch, meeting_booked, ...), reason
 *              (a reason code of the contract), note, amount REAL, actor
 *   reps       id TEXT PRIMARY KEY, name, email, team, territory (JSON object),
 *              capacity (most open handoffs at once; NULL: no cap), timezone,
 *              hours, out_of_office (JSON array of date ranges), active (0|1)
 *   tokens     digest TEXT PRIMARY KEY (SHA-256 hex), role (ingest, sales or
 *              admin), name, created
 *   outbox     id INTEGER PRIMARY KEY, endpoint (URL), type ("handoff.created",
 *              ...), data TEXT (JSON), created, state (pending, delivered,
 *              dead), attempts, next_at (when a pending row is due), last_at,
 *              last_error  -- webhooks, written with the decision they report
 *   rep_uploads seq INTEGER PRIMARY KEY, at, csv TEXT -- each reps CSV as
 *              uploaded; replayed in order at start (later rows replace reps by id)
 *   router_state id INTEGER PRIMARY KEY (always 1), state BLOB (route_export())
 *   indexes    events(received), identities(lead), handoffs(status), (team),
 *              (gate), (lead), (at), timeline(lead, at), (handoff),
 *              feedback(handoff), (lead, at), reps(team), outbox(state, next_at)
 *
 * Lead columns are plain text, not foreign keys: lead state is written only
 * for leads the engine changed, and a merged lead's key lives on in history.
 * References to handoffs are foreign keys checked at commit (DEFERRABLE
 * INITIALLY DEFERRED), so one transaction may write rows in any order.
 *
 * PRAGMA application_id marks the file as baton's; PRAGMA user_version counts
 * the migrations applied. Each migration runs in its own transaction; a file
 * from a newer baton is refused. */
#include "store/internal.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define APPLICATION_ID  0x6261746f /* "bato" */
#define BUSY_TIMEOUT_MS 5000
#define CACHE_KIB                                                                                  \
    65536 /* page cache per connection: a writer's working set of                                  \
           * lead rows and index pages; halves the time to write                                   \
           * 1M leads against SQLite's default 2 MiB */
#define LIST_DEFAULT 100
#define LIST_MAX     1000

/* migrations[i] takes the schema from version i to version i + 1. Append;
 * never edit one that has shipped. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE meta (\n"
    "    key   TEXT PRIMARY KEY,\n"
    "    value TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE TABLE events (\n"
    "    seq        INTEGER PRIMARY KEY,\n"
    "    message_id TEXT UNIQUE,\n"
    "    lead       TEXT,\n"
    "    type       TEXT NOT NULL,\n"
    "    name       TEXT,\n"
    "    at         INTEGER NOT NULL,\n"
    "    received   INTEGER NOT NULL,\n"
    "    body       TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX events_received ON events (received);\n"
    "CREATE TABLE leads (\n"
    "    key   TEXT PRIMARY KEY,\n"
    "    state BLOB NOT NULL\n"
    ");\n"
    "CREATE TABLE accounts (\n"
    "    domain TEXT PRIMARY KEY,\n"
    "    state  BLOB NOT NULL\n"
    ");\n"
    "CREATE TABLE identities (\n"
    "    alias TEXT PRIMARY KEY,\n"
    "    lead  TEXT NOT NULL\n"
    ") WITHOUT ROWID;\n"
    "CREATE INDEX identities_lead ON identities (lead);\n"
    "CREATE TABLE handoffs (\n"
    "    id       INTEGER PRIMARY KEY,\n"
    "    lead     TEXT NOT NULL,\n"
    "    account  TEXT,\n"
    "    gate     TEXT NOT NULL,\n"
    "    contract TEXT NOT NULL,\n"
    "    version  INTEGER NOT NULL,\n"
    "    at       INTEGER NOT NULL,\n"
    "    fast     INTEGER NOT NULL CHECK (fast IN (0, 1)),\n"
    "    stage    TEXT NOT NULL,\n"
    "    team     TEXT,\n"
    "    status   TEXT NOT NULL,\n"
    "    packet   TEXT NOT NULL CHECK (json_valid(packet))\n"
    ");\n"
    "CREATE INDEX handoffs_status ON handoffs (status);\n"
    "CREATE INDEX handoffs_team ON handoffs (team);\n"
    "CREATE INDEX handoffs_gate ON handoffs (gate);\n"
    "CREATE INDEX handoffs_lead ON handoffs (lead);\n"
    "CREATE INDEX handoffs_at ON handoffs (at);\n"
    "CREATE TABLE timeline (\n"
    "    seq         INTEGER PRIMARY KEY,\n"
    "    lead        TEXT NOT NULL,\n"
    "    handoff     INTEGER REFERENCES handoffs (id) DEFERRABLE INITIALLY DEFERRED,\n"
    "    at          INTEGER NOT NULL,\n"
    "    from_stage  TEXT,\n"
    "    from_status TEXT,\n"
    "    to_stage    TEXT,\n"
    "    to_status   TEXT,\n"
    "    owner       TEXT,\n"
    "    cause       TEXT,\n"
    "    actor       TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX timeline_lead ON timeline (lead, at);\n"
    "CREATE INDEX timeline_handoff ON timeline (handoff);\n"
    "CREATE TABLE feedback (\n"
    "    seq     INTEGER PRIMARY KEY,\n"
    "    handoff INTEGER REFERENCES handoffs (id) DEFERRABLE INITIALLY DEFERRED,\n"
    "    lead    TEXT NOT NULL,\n"
    "    at      INTEGER NOT NULL,\n"
    "    kind    TEXT NOT NULL,\n"
    "    reason  TEXT,\n"
    "    note    TEXT,\n"
    "    amount  REAL,\n"
    "    actor   TEXT NOT NULL\n"
    ");\n"
    "CREATE INDEX feedback_handoff ON feedback (handoff);\n"
    "CREATE INDEX feedback_lead ON feedback (lead, at);\n"
    "CREATE TABLE reps (\n"
    "    id            TEXT PRIMARY KEY,\n"
    "    name          TEXT NOT NULL,\n"
    "    email         TEXT,\n"
    "    team          TEXT NOT NULL,\n"
    "    territory     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(territory)),\n"
    "    capacity      INTEGER CHECK (capacity >= 0),\n"
    "    timezone      TEXT,\n"
    "    hours         TEXT,\n"
    "    out_of_office TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(out_of_office)),\n"
    "    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))\n"
    ");\n"
    "CREATE INDEX reps_team ON reps (team);\n"
    "CREATE TABLE tokens (\n"
    "    digest  TEXT PRIMARY KEY\n"
    "            CHECK (length(digest) = 64 AND digest NOT GLOB '*[^0-9A-Fa-f]*'),\n"
    "    role    TEXT NOT NULL CHECK (role IN ('ingest', 'sales', 'admin')),\n"
    "    name    TEXT NOT NULL,\n"
    "    created INTEGER NOT NULL\n"
    ") WITHOUT ROWID;\n",
    /* 2: the webhook outbox */
    "CREATE TABLE outbox (\n"
    "    id         INTEGER PRIMARY KEY,\n"
    "    endpoint   TEXT NOT NULL,\n"
    "    type       TEXT NOT NULL,\n"
    "    data       TEXT NOT NULL,\n"
    "    created    INTEGER NOT NULL,\n"
    "    state      TEXT NOT NULL DEFAULT 'pending'\n"
    "               CHECK (state IN ('pending', 'delivered', 'dead')),\n"
    "    attempts   INTEGER NOT NULL DEFAULT 0,\n"
    "    next_at    INTEGER NOT NULL,\n"
    "    last_at    INTEGER,\n"
    "    last_error TEXT\n"
    ");\n"
    "CREATE INDEX outbox_due ON outbox (state, next_at);\n",
    /* 3: reps as uploaded, and the router's rotation */
    "CREATE TABLE rep_uploads (\n"
    "    seq INTEGER PRIMARY KEY,\n"
    "    at  INTEGER NOT NULL,\n"
    "    csv TEXT NOT NULL\n"
    ");\n"
    "CREATE TABLE router_state (\n"
    "    id    INTEGER PRIMARY KEY CHECK (id = 1),\n"
    "    state BLOB NOT NULL\n"
    ");\n",
};

#define SCHEMA_VERSION ((int)ARRAY_LEN(migrations))

/* Every statement but list_handoffs', prepared at open. */
#define STATEMENTS(X)                                                                              \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(BEGIN_READ, "BEGIN")                                                                         \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(PUT_EVENT, "INSERT INTO events (message_id, lead, type, name, at, received, body)"           \
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (message_id) DO NOTHING")       \
    X(PUT_HANDOFF, "INSERT INTO handoffs (id, lead, account, gate, contract, version, at, fast,"   \
                   " stage, team, status, packet) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"     \
                   " ?10, ?11, json_set(?12, '$.status', ?11))")                                   \
    X(SET_STATUS, "UPDATE handoffs SET status = ?2, packet = json_set(packet, '$.status', ?2)"     \
                  " WHERE id = ?1")                                                                \
    X(PUT_CHANGE, "INSERT INTO timeline (lead, handoff, at, from_stage, from_status, to_stage,"    \
                  " to_status, owner, cause, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"   \
                  " ?10)")                                                                         \
    X(PUT_LEAD, "INSERT INTO leads (key, state) VALUES (?1, ?2)"                                   \
                " ON CONFLICT (key) DO UPDATE SET state = excluded.state")                         \
    X(DELETE_LEAD, "DELETE FROM leads WHERE key = ?1")                                             \
    X(PUT_ACCOUNT, "INSERT INTO accounts (domain, state) VALUES (?1, ?2)"                          \
                   " ON CONFLICT (domain) DO UPDATE SET state = excluded.state")                   \
    X(PUT_ALIAS, "INSERT INTO identities (alias, lead) VALUES (?1, ?2)"                            \
                 " ON CONFLICT (alias) DO UPDATE SET lead = excluded.lead")                        \
    X(SET_META, "INSERT INTO meta (key, value) VALUES (?1, ?2)"                                    \
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value")                         \
    X(GET_META, "SELECT value FROM meta WHERE key = ?1")                                           \
    X(LOAD_LEADS, "SELECT key, state FROM leads")                                                  \
    X(LOAD_ACCOUNTS, "SELECT domain, state FROM accounts")                                         \
    X(LOAD_ALIASES, "SELECT alias, lead FROM identities")                                          \
    X(LOAD_SEEN, "SELECT message_id, at FROM events"                                               \
                 " WHERE received >= ?1 AND +seq < ?2 AND message_id IS NOT NULL")                 \
    X(GET_HANDOFF, "SELECT packet FROM handoffs WHERE id = ?1")                                    \
    X(TIMELINE, "SELECT lead, at, from_stage, from_status, to_stage, to_status, owner, cause,"     \
                " handoff, actor FROM timeline WHERE lead = ?1 ORDER BY at, seq")                  \
    X(PUT_TOKEN, "INSERT INTO tokens (digest, role, name, created) VALUES (?1, ?2, ?3, ?4)"        \
                 " ON CONFLICT (digest) DO NOTHING")                                               \
    X(FIND_TOKEN, "SELECT role FROM tokens WHERE digest = ?1")                                     \
    X(PUT_REPS_CSV, "INSERT INTO rep_uploads (at, csv) VALUES (?1, ?2)")                          \
    X(EACH_REPS_CSV, "SELECT csv FROM rep_uploads ORDER BY seq")                                   \
    X(PUT_ROUTER_STATE, "INSERT INTO router_state (id, state) VALUES (1, ?1)"                      \
                        " ON CONFLICT (id) DO UPDATE SET state = excluded.state")                  \
    X(GET_ROUTER_STATE, "SELECT state FROM router_state WHERE id = 1")                             \
    X(EACH_EVENT, "SELECT message_id, lead, type, name, at, received, body FROM events"             \
                  " WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR name = ?3) ORDER BY seq")      \
    X(EVENTS_AFTER, "SELECT message_id, lead, type, name, at, received, body, seq FROM events"      \
                    " WHERE seq > ?1 ORDER BY seq")                                                \
    X(LAST_EVENT, "SELECT coalesce(max(seq), 0) FROM events")                                      \
    X(PRUNE_EVENTS, "DELETE FROM events WHERE received < ?1 AND seq <= ?2"                         \
                    " AND seq < (SELECT max(seq) FROM events)")                                    \
    X(PUT_WEBHOOK, "INSERT INTO outbox (endpoint, type, data, created, next_at)"                   \
                   " VALUES (?1, ?2, ?3, ?4, ?4)")                                                 \
    X(DUE_WEBHOOKS, "SELECT id, endpoint, type, data, created, attempts FROM outbox"               \
                    " WHERE state = 'pending' AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2")    \
    X(NEXT_WEBHOOK, "SELECT min(next_at) FROM outbox WHERE state = 'pending'")                     \
    X(RECORD_ATTEMPT, "UPDATE outbox SET state = ?2, attempts = ?3, last_at = ?4, next_at = ?5,"   \
                      " last_error = ?6 WHERE id = ?1")                                            \
    X(LIST_WEBHOOKS, "SELECT json_object('id', id, 'endpoint', endpoint, 'type', type, 'state',"   \
                     " state, 'attempts', attempts, 'created', created, 'next_at', next_at,"       \
                     " 'last_at', last_at, 'last_error', last_error, 'data', json(data))"          \
                     " FROM outbox WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2")      \
    X(RETRY_WEBHOOK, "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2"             \
                     " WHERE id = ?1 AND state = 'dead'")

enum statement {
#define X(id, sql) STMT_##id,
    STATEMENTS(X)
#undef X
        STMT_COUNT
};

static const char *const statement_sql[STMT_COUNT] = {
#define X(id, sql) sql,
    STATEMENTS(X)
#undef X
};

/* list_handoffs(): the filters, in the order of their bits in a variant's
 * number; ?1 is the paging cursor and ?8 the limit. */
static const char *const list_filters[] = {
    " AND status = ?2", " AND team = ?3", " AND gate = ?4",
    " AND lead = ?5",   " AND at >= ?6",  " AND fast = ?7",
};
#define LIST_VARIANTS (1u << ARRAY_LEN(list_filters))

typedef struct sqlite_store {
    store base; /* first: a store * is a sqlite_store * */
    sqlite3 *db;
    sqlite3_stmt *stmt[STMT_COUNT];
    sqlite3_stmt *list[LIST_VARIANTS]; /* NULL until first used */
    strbuf row;                        /* timeline rows as JSON */
} sqlite_store;

static const store_ops sqlite_ops; /* below, with every operation */

static sqlite_store *from(store *base)
{
    return (sqlite_store *)base;
}

/* ---- errors ------------------------------------------------------------------- */

static void vset_error(sqlite_store *s, const char *fmt, va_list ap)
{
    vsnprintf(s->base.error, sizeof s->base.error, fmt, ap);
}

/* Records a failed read: the message, nothing more. */
static int read_failed(sqlite_store *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int read_failed(sqlite_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(s, fmt, ap);
    va_end(ap);
    return STORE_ERROR;
}

/* Records a failed write: the store stays failed until store_reset(), and an
 * open transaction is rolled back now, so nothing of it can be committed. */
static int write_failed(sqlite_store *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int write_failed(sqlite_store *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(s, fmt, ap);
    va_end(ap);
    s->base.failed = true;
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_stmt *st = s->stmt[STMT_ROLLBACK];
        sqlite3_step(st); /* should this fail too, close() still rolls back */
        sqlite3_reset(st);
    }
    return STORE_ERROR;
}

/* A statement's failure: the message is taken before the reset, and the
 * statement is reset either way. */
static int statement_failed(sqlite_store *s, sqlite3_stmt *st, const char *op, bool write)
{
    char msg[200];
    snprintf(msg, sizeof msg, "%s", sqlite3_errmsg(s->db));
    sqlite3_reset(st);
    return write ? write_failed(s, "%s: %s", op, msg) : read_failed(s, "%s: %s", op, msg);
}

/* Runs a write statement whose parameters are bound (`bound` is the OR of the
 * bind calls' results); resets it. */
static int run_write(sqlite_store *s, sqlite3_stmt *st, int bound, const char *op)
{
    if (bound != SQLITE_OK) return statement_failed(s, st, op, true);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return statement_failed(s, st, op, true);
    sqlite3_reset(st);
    return STORE_OK;
}

/* ---- binding ------------------------------------------------------------------ */

/* Values are bound SQLITE_STATIC: each is rebound before the next step. */
static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int bind_int(sqlite3_stmt *st, int i, int64_t v)
{
    return sqlite3_bind_int64(st, i, v);
}

static int bind_blob(sqlite3_stmt *st, int i, const void *v, size_t len)
{
    return sqlite3_bind_blob64(st, i, v ? v : "", len, SQLITE_STATIC);
}

/* ---- opening: pragmas and migrations -------------------------------------------- */

/* Runs a statement that yields one integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) goto done;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_ERROR;
    }
done:
    sqlite3_finalize(st);
    return rc;
}

/* Sets the pragmas every connection needs; NULL or what went wrong. */
static const char *configure(sqlite3 *db, char *msg, size_t cap)
{
    sqlite3_stmt *st = NULL;
    const char *what = NULL;
    /* PRAGMA journal_mode answers with the mode in force. */
    what = "journal_mode=WAL";
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) goto done;
    if (sqlite3_step(st) != SQLITE_ROW) goto done;
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
        snprintf(msg, cap, "the journal stays in mode %s", mode ? mode : "(none)");
        goto done_msg;
    }
    what = "synchronous=FULL";
    if (sqlite3_exec(db, "PRAGMA synchronous = FULL", NULL, NULL, NULL) != SQLITE_OK) goto done;
    what = "cache_size";
    char cache[48];
    snprintf(cache, sizeof cache, "PRAGMA cache_size = -%d", CACHE_KIB);
    if (sqlite3_exec(db, cache, NULL, NULL, NULL) != SQLITE_OK) goto done;
    what = "foreign_keys=ON";
    if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK) goto done;
    int64_t on = 0;
    if (query_int(db, "PRAGMA foreign_keys", &on) != SQLITE_OK) goto done;
    if (!on) {
        snprintf(msg, cap, "this SQLite was built without foreign keys");
        goto done_msg;
    }
    what = NULL;
done:
    if (what) snprintf(msg, cap, "%s", sqlite3_errmsg(db));
done_msg:
    sqlite3_finalize(st);
    return what;
}

/* Ends a migration step's transaction after a failure. */
static void abandon(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads the file's identity and refuses one that is not baton's or is newer
 * than this program. False with `why` set; *version is the schema version. */
static bool identify(sqlite3 *db, const char *path, int64_t *version, char *why, size_t cap)
{
    int64_t app = 0, objects = 0;
    if (query_int(db, "PRAGMA application_id", &app) != SQLITE_OK ||
        query_int(db, "PRAGMA user_version", version) != SQLITE_OK ||
        query_int(db, "SELECT count(*) FROM sqlite_master", &objects) != SQLITE_OK) {
        snprintf(why, cap, "%s: reading the schema version: %s", path, sqlite3_errmsg(db));
        return false;
    }
    if (app != APPLICATION_ID && (app != 0 || *version != 0 || objects != 0)) {
        snprintf(why, cap, "%s: not a baton database (application_id %lld, schema version %lld)",
                 path, (long long)app, (long long)*version);
        return false;
    }
    if (*version > SCHEMA_VERSION) {
        snprintf(why, cap,
                 "%s: the database has schema version %lld, newer than this baton knows (%d); "
                 "use a newer baton",
                 path, (long long)*version, SCHEMA_VERSION);
        return false;
    }
    return true;
}

/* Brings the schema up to SCHEMA_VERSION, one migration per transaction.
 * The version is read again inside each transaction, so two processes
 * opening the same new file do not both apply a migration. False with `why`
 * set on failure; the file keeps every migration that committed. */
static bool migrate(sqlite3 *db, const char *path, char *why, size_t cap)
{
    for (;;) {
        int64_t version = 0;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(why, cap, "%s: migration: %s", path, sqlite3_errmsg(db));
            goto fail;
        }
        if (!identify(db, path, &version, why, cap)) goto fail;
        if (version == SCHEMA_VERSION) {
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL); /* nothing written: nothing to lose */
            return true;
        }
        char set[96];
        snprintf(set, sizeof set, "PRAGMA application_id = %d; PRAGMA user_version = %lld",
                 APPLICATION_ID, (long long)version + 1);
        if (sqlite3_exec(db, migrations[version], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, set, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(why, cap, "%s: migration to schema version %lld: %s", path,
                     (long long)version + 1, sqlite3_errmsg(db));
            goto fail;
        }
    }
fail:
    abandon(db);
    return false;
}

/* ---- operations ----------------------------------------------------------------- */

static void sqlite_close(store *base)
{
    sqlite_store *s = from(base);
    for (size_t i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    for (size_t i = 0; i < LIST_VARIANTS; i++)
        sqlite3_finalize(s->list[i]);
    sqlite3_close(s->db); /* rolls back an open transaction */
    strbuf_free(&s->row);
    mem_free(s);
}

static int sqlite_begin(store *base)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    return run_write(s, s->stmt[STMT_BEGIN], SQLITE_OK, "begin");
}

static int sqlite_commit(store *base)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    readahead_gather(true);
    int rc = run_write(s, s->stmt[STMT_COMMIT], SQLITE_OK, "commit");
    readahead_gather(false);
    return rc;
}

/* Works on a failed store too (a failed write has rolled back already); it
 * does not clear the failure. */
static int sqlite_rollback(store *base)
{
    sqlite_store *s = from(base);
    if (sqlite3_get_autocommit(s->db)) return STORE_OK;
    sqlite3_stmt *st = s->stmt[STMT_ROLLBACK];
    if (sqlite3_step(st) != SQLITE_DONE) return statement_failed(s, st, "rollback", true);
    sqlite3_reset(st);
    return STORE_OK;
}

static int sqlite_put_event(store *base, const store_event *e)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_EVENT];
    int bound = bind_text(st, 1, e->message_id) | bind_text(st, 2, e->lead) |
                bind_text(st, 3, e->type) | bind_text(st, 4, e->name) | bind_int(st, 5, e->at) |
                bind_int(st, 6, e->received) |
                sqlite3_bind_text64(st, 7, e->body, e->body_len, SQLITE_STATIC, SQLITE_UTF8);
    int rc = run_write(s, st, bound, "put_event");
    if (rc == STORE_OK && sqlite3_changes(s->db) == 0) rc = STORE_DUPLICATE;
    return rc;
}

static int sqlite_put_handoff(store *base, const store_handoff *h)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_HANDOFF];
    int bound =
        bind_int(st, 1, (int64_t)h->id) | bind_text(st, 2, h->lead) | bind_text(st, 3, h->account) |
        bind_text(st, 4, h->gate) | bind_text(st, 5, h->contract) | bind_int(st, 6, h->version) |
        bind_int(st, 7, h->at) | bind_int(st, 8, h->fast) | bind_text(st, 9, h->stage) |
        bind_text(st, 10, h->team) | bind_text(st, 11, h->status) | bind_text(st, 12, h->packet);
    return run_write(s, st, bound, "put_handoff");
}

static int sqlite_set_handoff_status(store *base, uint64_t id, const char *status)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_SET_STATUS];
    int bound = bind_int(st, 1, (int64_t)id) | bind_text(st, 2, status);
    int rc = run_write(s, st, bound, "set_handoff_status");
    if (rc == STORE_OK && sqlite3_changes(s->db) == 0) rc = STORE_NOT_FOUND;
    return rc;
}

/* A NULL actor is the engine's. */
static int sqlite_put_change(store *base, const store_change *c)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_CHANGE];
    int bound = bind_text(st, 1, c->lead) |
                (c->handoff ? bind_int(st, 2, (int64_t)c->handoff) : sqlite3_bind_null(st, 2)) |
                bind_int(st, 3, c->at) | bind_text(st, 4, c->from_stage) |
                bind_text(st, 5, c->from_status) | bind_text(st, 6, c->to_stage) |
                bind_text(st, 7, c->to_status) | bind_text(st, 8, c->owner) |
                bind_text(st, 9, c->cause) | bind_text(st, 10, c->actor ? c->actor : "engine");
    return run_write(s, st, bound, "put_change");
}

static int put_pair(store *base, enum statement which, const char *key, const void *blob,
                    size_t len, const char *op)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[which];
    int bound = bind_text(st, 1, key) | bind_blob(st, 2, blob, len);
    return run_write(s, st, bound, op);
}

static int sqlite_put_lead(store *base, const char *key, const void *blob, size_t len)
{
    return put_pair(base, STMT_PUT_LEAD, key, blob, len, "put_lead");
}

static int sqlite_delete_lead(store *base, const char *key)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_DELETE_LEAD];
    return run_write(s, st, bind_text(st, 1, key), "delete_lead");
}

static int sqlite_put_account(store *base, const char *domain, const void *blob, size_t len)
{
    return put_pair(base, STMT_PUT_ACCOUNT, domain, blob, len, "put_account");
}

static int sqlite_put_alias(store *base, const char *alias, const char *lead)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_ALIAS];
    return run_write(s, st, bind_text(st, 1, alias) | bind_text(st, 2, lead), "put_alias");
}

static int sqlite_set_meta(store *base, const char *key, const char *value)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_SET_META];
    return run_write(s, st, bind_text(st, 1, key) | bind_text(st, 2, value), "set_meta");
}

/* A value longer than cap - 1 bytes is an error, not cut short. */
static int sqlite_get_meta_text(store *base, const char *key, strbuf *out)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_GET_META];
    if (bind_text(st, 1, key) != SQLITE_OK) return statement_failed(s, st, "get_meta_text", false);
    int step = sqlite3_step(st), rc = STORE_OK;
    if (step == SQLITE_DONE) rc = STORE_NOT_FOUND;
    else if (step != SQLITE_ROW) return statement_failed(s, st, "get_meta_text", false);
    else {
        strbuf_append(out, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        if (out->oom) rc = read_failed(s, "get_meta_text: out of memory for the value of %s", key);
    }
    sqlite3_reset(st);
    return rc;
}

static int sqlite_get_meta(store *base, const char *key, char *out, size_t cap)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_GET_META];
    int rc = STORE_OK;
    if (bind_text(st, 1, key) != SQLITE_OK) return statement_failed(s, st, "get_meta", false);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        rc = STORE_NOT_FOUND;
        goto done;
    }
    if (step != SQLITE_ROW) return statement_failed(s, st, "get_meta", false);
    const char *v = (const char *)sqlite3_column_text(st, 0);
    size_t n = (size_t)sqlite3_column_bytes(st, 0);
    if (n >= cap) {
        rc = read_failed(s, "get_meta: the value of %s has %zu bytes, more than the %zu given", key,
                         n, cap ? cap - 1 : 0);
        goto done;
    }
    memcpy(out, v ? v : "", n);
    out[n] = '\0';
done:
    sqlite3_reset(st);
    return rc;
}

/* ---- load ------------------------------------------------------------------------ */

typedef bool (*blob_fn)(void *ctx, const void *blob, size_t len);

static int load_blobs(sqlite_store *s, enum statement which, const char *what, blob_fn fn,
                      void *ctx)
{
    sqlite3_stmt *st = s->stmt[which];
    int rc = STORE_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(st, 1);
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        if (!fn(ctx, blob ? blob : "", len)) {
            rc = read_failed(s, "load: %s %s was refused", what,
                             (const char *)sqlite3_column_text(st, 0));
            goto done;
        }
    }
    if (step != SQLITE_DONE) return statement_failed(s, st, "load", false);
done:
    sqlite3_reset(st);
    return rc;
}

static int load_aliases(sqlite_store *s, const store_load *l)
{
    sqlite3_stmt *st = s->stmt[STMT_LOAD_ALIASES];
    int rc = STORE_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *alias = (const char *)sqlite3_column_text(st, 0);
        const char *lead = (const char *)sqlite3_column_text(st, 1);
        if (!l->alias(l->ctx, alias ? alias : "", lead ? lead : "")) {
            rc = read_failed(s, "load: alias %s was refused", alias ? alias : "");
            goto done;
        }
    }
    if (step != SQLITE_DONE) return statement_failed(s, st, "load", false);
done:
    sqlite3_reset(st);
    return rc;
}

static int load_seen(sqlite_store *s, const store_load *l, time_ms since)
{
    sqlite3_stmt *st = s->stmt[STMT_LOAD_SEEN];
    int rc = STORE_OK, step;
    /* the query reads the received index; "+seq" keeps SQLite from
     * scanning every event below `before` instead */
    int64_t before = l->seen_before ? (int64_t)l->seen_before : INT64_MAX;
    if ((bind_int(st, 1, since) | bind_int(st, 2, before)) != SQLITE_OK)
        return statement_failed(s, st, "load", false);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        if (!l->seen(l->ctx, id ? id : "", sqlite3_column_int64(st, 1))) {
            rc = read_failed(s, "load: message id %s was refused", id ? id : "");
            goto done;
        }
    }
    if (step != SQLITE_DONE) return statement_failed(s, st, "load", false);
done:
    sqlite3_reset(st);
    return rc;
}

static int sqlite_load(store *base, const store_load *l, duration_ms seen_window, time_ms now)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    /* one read transaction, one moment of the file; inside the caller's
     * transaction when there is one */
    bool own = sqlite3_get_autocommit(s->db);
    sqlite3_stmt *begin = s->stmt[STMT_BEGIN_READ];
    if (own && sqlite3_step(begin) != SQLITE_DONE) return statement_failed(s, begin, "load", false);
    if (own) sqlite3_reset(begin);
    /* one pass over every row: a page cache would only fill, so a small one
     * while loading, and the writer's own again after; the file is read in
     * large blocks meanwhile (readahead.c) */
    sqlite3_exec(s->db, "PRAGMA cache_size = -2048", NULL, NULL, NULL);
    int rc = STORE_OK, ra = readahead_set(s->db, true);
    if (ra != SQLITE_OK && ra != SQLITE_NOTFOUND) {
        rc = read_failed(s, "load: %s", ra == SQLITE_NOMEM ? "out of memory for reading ahead" : sqlite3_errstr(ra));
        goto done;
    }
    if (l->sizes) {
        /* the largest rowid counts the rows of a table never deleted from,
         * without reading it */
        int64_t leads = 0, accounts = 0, aliases = 0;
        query_int(s->db, "SELECT coalesce(max(rowid), 0) FROM leads", &leads);
        query_int(s->db, "SELECT coalesce(max(rowid), 0) FROM accounts", &accounts);
        query_int(s->db, "SELECT coalesce(max(rowid), 0) FROM identities", &aliases);
        if (!l->sizes(l->ctx, (uint64_t)leads, (uint64_t)accounts, (uint64_t)aliases)) {
            rc = read_failed(s, "load: out of memory sizing for %lld leads", (long long)leads);
            goto done;
        }
    }
    if (l->lead && (rc = load_blobs(s, STMT_LOAD_LEADS, "lead", l->lead, l->ctx)) != STORE_OK)
        goto done;
    if (l->account &&
        (rc = load_blobs(s, STMT_LOAD_ACCOUNTS, "account", l->account, l->ctx)) != STORE_OK)
        goto done;
    if (l->alias && (rc = load_aliases(s, l)) != STORE_OK) goto done;
    if (l->seen && (rc = load_seen(s, l, now - seen_window)) != STORE_OK) goto done;
done:
    readahead_set(s->db, false); /* before the transaction ends (readahead.c, note 3) */
    if (own) {
        /* a read transaction: ending it cannot lose anything */
        sqlite3_stmt *end = s->stmt[STMT_COMMIT];
        sqlite3_step(end);
        sqlite3_reset(end);
    }
    char restore[64];
    snprintf(restore, sizeof restore, "PRAGMA cache_size = -%d", CACHE_KIB);
    sqlite3_exec(s->db, restore, NULL, NULL, NULL);
    return rc;
}

/* ---- reads that hand out JSON ----------------------------------------------------- */

/* Calls fn with column 0 of each row until it returns false; resets st. */
static int each_row(sqlite_store *s, sqlite3_stmt *st, const char *op, store_row_fn fn, void *ctx)
{
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (!fn(ctx, (const char *)sqlite3_column_text(st, 0))) break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) return statement_failed(s, st, op, false);
    sqlite3_reset(st);
    return STORE_OK;
}

/* The statement for one combination of filters, prepared on first use. */
static sqlite3_stmt *list_statement(sqlite_store *s, unsigned variant)
{
    if (s->list[variant]) return s->list[variant];
    char sql[512];
    strbuf b;
    strbuf_init_fixed(&b, sql, sizeof sql);
    strbuf_puts(&b, "SELECT packet FROM handoffs WHERE id < ?1");
    for (size_t i = 0; i < ARRAY_LEN(list_filters); i++)
        if (variant & (1u << i)) strbuf_puts(&b, list_filters[i]);
    strbuf_puts(&b, " ORDER BY id DESC LIMIT ?8");
    sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->list[variant], NULL);
    return s->list[variant];
}

static int sqlite_list_handoffs(store *base, const store_filter *f, store_row_fn fn, void *ctx)
{
    static const store_filter any = {.fast = -1};
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    if (!f) f = &any;
    unsigned variant = (f->status != NULL) << 0 | (f->owner != NULL) << 1 | (f->gate != NULL) << 2 |
                       (f->lead != NULL) << 3 | (f->since != 0) << 4 | (f->fast >= 0) << 5;
    sqlite3_stmt *st = list_statement(s, variant);
    if (!st) return read_failed(s, "list_handoffs: %s", sqlite3_errmsg(s->db));
    uint32_t limit = f->limit ? f->limit : LIST_DEFAULT;
    if (limit > LIST_MAX) limit = LIST_MAX;
    int64_t after = f->after && f->after <= INT64_MAX ? (int64_t)f->after : INT64_MAX;
    int bound = bind_int(st, 1, after) | bind_text(st, 2, f->status) | bind_text(st, 3, f->owner) |
                bind_text(st, 4, f->gate) | bind_text(st, 5, f->lead) | bind_int(st, 6, f->since) |
                bind_int(st, 7, f->fast > 0) | bind_int(st, 8, limit);
    if (bound != SQLITE_OK) return statement_failed(s, st, "list_handoffs", false);
    return each_row(s, st, "list_handoffs", fn, ctx);
}

static int sqlite_get_handoff(store *base, uint64_t id, store_row_fn fn, void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_GET_HANDOFF];
    if (bind_int(st, 1, (int64_t)id) != SQLITE_OK)
        return statement_failed(s, st, "get_handoff", false);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) {
        sqlite3_reset(st);
        return STORE_NOT_FOUND;
    }
    if (step != SQLITE_ROW) return statement_failed(s, st, "get_handoff", false);
    fn(ctx, (const char *)sqlite3_column_text(st, 0));
    sqlite3_reset(st);
    return STORE_OK;
}

static void json_column(strbuf *b, sqlite3_stmt *st, int col)
{
    const char *v = (const char *)sqlite3_column_text(st, col);
    if (v)
        strbuf_json_string(b, v, (size_t)sqlite3_column_bytes(st, col));
    else
        strbuf_puts(b, "null");
}

/* One timeline row in the shape of transition_to_json(), with the actor. */
static void change_to_json(sqlite3_stmt *st, strbuf *b)
{
    char at[40];
    time_format(sqlite3_column_int64(st, 1), at, sizeof at);
    strbuf_puts(b, "{\"record\":\"transition\",\"lead\":");
    json_column(b, st, 0);
    strbuf_printf(b, ",\"at\":\"%s\",\"from\":{\"stage\":", at);
    json_column(b, st, 2);
    strbuf_puts(b, ",\"status\":");
    json_column(b, st, 3);
    strbuf_puts(b, "},\"to\":{\"stage\":");
    json_column(b, st, 4);
    strbuf_puts(b, ",\"status\":");
    json_column(b, st, 5);
    strbuf_puts(b, "},\"owner\":");
    json_column(b, st, 6);
    strbuf_puts(b, ",\"cause\":");
    json_column(b, st, 7);
    if (sqlite3_column_type(st, 8) != SQLITE_NULL)
        strbuf_printf(b, ",\"handoff\":%lld", (long long)sqlite3_column_int64(st, 8));
    strbuf_puts(b, ",\"actor\":");
    json_column(b, st, 9);
    strbuf_putc(b, '}');
}

static int sqlite_timeline(store *base, const char *lead, store_row_fn fn, void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_TIMELINE];
    int rc = STORE_OK, step;
    if (bind_text(st, 1, lead) != SQLITE_OK) return statement_failed(s, st, "timeline", false);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        strbuf_reset(&s->row);
        change_to_json(st, &s->row);
        if (s->row.oom) {
            rc = read_failed(s, "timeline: out of memory");
            goto done;
        }
        if (!fn(ctx, s->row.data)) goto done;
    }
    if (step != SQLITE_DONE) return statement_failed(s, st, "timeline", false);
done:
    sqlite3_reset(st);
    return rc;
}

/* ---- tokens and retention --------------------------------------------------------- */

static int sqlite_put_token(store *base, const char *digest, enum token_role role, const char *name,
                            time_ms now)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    const char *role_name = token_role_name(role);
    if (!role_name)
        return write_failed(s, "put_token: role %d is none of ingest, sales, admin", (int)role);
    sqlite3_stmt *st = s->stmt[STMT_PUT_TOKEN];
    int bound = bind_text(st, 1, digest) | bind_text(st, 2, role_name) | bind_text(st, 3, name) |
                bind_int(st, 4, now);
    int rc = run_write(s, st, bound, "put_token");
    if (rc == STORE_OK && sqlite3_changes(s->db) == 0) rc = STORE_DUPLICATE;
    return rc;
}

static int sqlite_find_token(store *base, const char *digest, enum token_role *role)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_FIND_TOKEN];
    int rc = STORE_NOT_FOUND;
    if (bind_text(st, 1, digest) != SQLITE_OK) return statement_failed(s, st, "find_token", false);
    int step = sqlite3_step(st);
    if (step == SQLITE_DONE) goto done;
    if (step != SQLITE_ROW) return statement_failed(s, st, "find_token", false);
    const char *name = (const char *)sqlite3_column_text(st, 0);
    for (int r = ROLE_INGEST; r <= ROLE_ADMIN; r++) {
        if (name && strcmp(name, token_role_name((enum token_role)r)) == 0) {
            *role = (enum token_role)r;
            rc = STORE_OK;
            goto done;
        }
    }
    rc = read_failed(s, "find_token: the stored role %s is unknown", name ? name : "(null)");
done:
    sqlite3_reset(st);
    return rc;
}

static int sqlite_put_reps_csv(store *base, const char *csv, size_t len, time_ms at)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_REPS_CSV];
    int bound = bind_int(st, 1, at) | sqlite3_bind_text64(st, 2, csv, len, SQLITE_STATIC, SQLITE_UTF8);
    return run_write(s, st, bound, "put_reps_csv");
}

static int sqlite_each_reps_csv(store *base, bool (*fn)(void *ctx, const char *csv, size_t len), void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_EACH_REPS_CSV];
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW)
        if (!fn(ctx, (const char *)sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0))) break;
    if (step != SQLITE_ROW && step != SQLITE_DONE) return statement_failed(s, st, "each_reps_csv", false);
    sqlite3_reset(st);
    return STORE_OK;
}

static int sqlite_put_router_state(store *base, const void *blob, size_t len)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_ROUTER_STATE];
    return run_write(s, st, bind_blob(st, 1, blob, len), "put_router_state");
}

static int sqlite_get_router_state(store *base, strbuf *out)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_GET_ROUTER_STATE];
    int step = sqlite3_step(st), rc = STORE_NOT_FOUND;
    if (step == SQLITE_ROW) {
        strbuf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        rc = out->oom ? read_failed(s, "get_router_state: out of memory") : STORE_OK;
    } else if (step != SQLITE_DONE) {
        return statement_failed(s, st, "get_router_state", false);
    }
    sqlite3_reset(st);
    return rc;
}

/* Hands each row of an events query (message_id, lead, type, name, at,
 * received, body, and optionally seq) to `fn` until it returns false. */
static int each_event_row(sqlite_store *s, sqlite3_stmt *st, const char *what, store_event_fn fn, void *ctx)
{
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_event e = {
            .message_id = (const char *)sqlite3_column_text(st, 0),
            .lead = (const char *)sqlite3_column_text(st, 1),
            .type = (const char *)sqlite3_column_text(st, 2),
            .name = (const char *)sqlite3_column_text(st, 3),
            .at = sqlite3_column_int64(st, 4),
            .received = sqlite3_column_int64(st, 5),
            .body = (const char *)sqlite3_column_text(st, 6),
            .body_len = (size_t)sqlite3_column_bytes(st, 6),
        };
        if (sqlite3_column_count(st) > 7) e.seq = (uint64_t)sqlite3_column_int64(st, 7);
        if (!fn(ctx, &e)) break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) return statement_failed(s, st, what, false);
    sqlite3_reset(st);
    return STORE_OK;
}

static int sqlite_each_event(store *base, time_ms since, time_ms until, const char *name, store_event_fn fn,
                             void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_EACH_EVENT];
    if ((bind_int(st, 1, since) | bind_int(st, 2, until) | bind_text(st, 3, name)) != SQLITE_OK)
        return statement_failed(s, st, "each_event", false);
    return each_event_row(s, st, "each_event", fn, ctx);
}

static int sqlite_events_after(store *base, uint64_t after, store_event_fn fn, void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_EVENTS_AFTER];
    if (bind_int(st, 1, (int64_t)after) != SQLITE_OK) return statement_failed(s, st, "events_after", false);
    return each_event_row(s, st, "events_after", fn, ctx);
}

static int sqlite_last_event(store *base, uint64_t *seq)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_LAST_EVENT];
    if (sqlite3_step(st) != SQLITE_ROW) return statement_failed(s, st, "last_event", false);
    *seq = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return STORE_OK;
}

static int sqlite_prune_events(store *base, time_ms before, uint64_t through, uint64_t *removed)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PRUNE_EVENTS];
    int64_t last = through ? (int64_t)through : INT64_MAX;
    int rc = run_write(s, st, bind_int(st, 1, before) | bind_int(st, 2, last), "prune_events");
    if (removed) *removed = rc == STORE_OK ? (uint64_t)sqlite3_changes64(s->db) : 0;
    return rc;
}

static int sqlite_manual_checkpoints(store *base)
{
    sqlite_store *s = from(base);
    if (sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(base->error, sizeof base->error, "manual_checkpoints: %s", sqlite3_errmsg(s->db));
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int sqlite_checkpoint(store *base, enum store_checkpoint mode, store_wal *wal)
{
    sqlite_store *s = from(base);
    static const int modes[] = {
        [STORE_CHECKPOINT_PASSIVE] = SQLITE_CHECKPOINT_PASSIVE,
        [STORE_CHECKPOINT_RESTART] = SQLITE_CHECKPOINT_RESTART,
        [STORE_CHECKPOINT_TRUNCATE] = SQLITE_CHECKPOINT_TRUNCATE,
    };
    if ((unsigned)mode >= ARRAY_LEN(modes)) return read_failed(s, "checkpoint: no mode %d", (int)mode);
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(s->db, NULL, modes[mode], &frames, &copied);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
        return read_failed(s, "checkpoint: %s", sqlite3_errmsg(s->db));
    if (wal) {
        /* -1, -1 when the file is not in WAL mode (an in-memory database) */
        wal->frames = frames > 0 ? (uint64_t)frames : 0;
        wal->copied = copied > 0 ? (uint64_t)copied : 0;
        wal->busy = rc != SQLITE_OK;
    }
    return STORE_OK;
}

sqlite3 *sqlite_store_db(store *base)
{
    return base && base->ops == &sqlite_ops ? from(base)->db : NULL;
}

/* ---- the webhook outbox ---------------------------------------------------------- */

const char *webhook_state_name(enum webhook_state st)
{
    static const char *const names[] = {"pending", "delivered", "dead"};
    return (size_t)st < ARRAY_LEN(names) ? names[st] : "?";
}

static int sqlite_put_webhook(store *base, const store_webhook *w)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_PUT_WEBHOOK];
    int bound = bind_text(st, 1, w->endpoint) | bind_text(st, 2, w->type) | bind_text(st, 3, w->data) |
                bind_int(st, 4, w->created);
    return run_write(s, st, bound, "put_webhook");
}

static int sqlite_due_webhooks(store *base, time_ms now, uint32_t limit, store_webhook_fn fn, void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_DUE_WEBHOOKS];
    if ((bind_int(st, 1, now) | bind_int(st, 2, limit)) != SQLITE_OK)
        return statement_failed(s, st, "due_webhooks", false);
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        store_webhook w = {
            .id = (uint64_t)sqlite3_column_int64(st, 0),
            .endpoint = (const char *)sqlite3_column_text(st, 1),
            .type = (const char *)sqlite3_column_text(st, 2),
            .data = (const char *)sqlite3_column_text(st, 3),
            .created = sqlite3_column_int64(st, 4),
            .attempts = (uint32_t)sqlite3_column_int64(st, 5),
        };
        if (!fn(ctx, &w)) break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) return statement_failed(s, st, "due_webhooks", false);
    sqlite3_reset(st);
    return STORE_OK;
}

static int sqlite_next_webhook(store *base, time_ms *at)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_NEXT_WEBHOOK];
    int step = sqlite3_step(st);
    int rc = STORE_NOT_FOUND;
    if (step != SQLITE_ROW) return statement_failed(s, st, "next_webhook", false);
    if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *at = sqlite3_column_int64(st, 0);
        rc = STORE_OK;
    }
    sqlite3_reset(st);
    return rc;
}

static int sqlite_record_attempt(store *base, uint64_t id, const store_attempt *a)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_RECORD_ATTEMPT];
    int bound = bind_int(st, 1, (int64_t)id) | bind_text(st, 2, webhook_state_name((enum webhook_state)a->state)) |
                bind_int(st, 3, a->attempts) | bind_int(st, 4, a->at) | bind_int(st, 5, a->next_at) |
                bind_text(st, 6, a->error);
    int rc = run_write(s, st, bound, "record_attempt");
    if (rc == STORE_OK && sqlite3_changes(s->db) == 0) rc = STORE_NOT_FOUND;
    return rc;
}

static int sqlite_list_webhooks(store *base, const char *state, uint32_t limit, store_row_fn fn, void *ctx)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_LIST_WEBHOOKS];
    if (limit == 0) limit = LIST_DEFAULT;
    if (limit > LIST_MAX) limit = LIST_MAX;
    if ((bind_text(st, 1, state) | bind_int(st, 2, limit)) != SQLITE_OK)
        return statement_failed(s, st, "list_webhooks", false);
    return each_row(s, st, "list_webhooks", fn, ctx);
}

static int sqlite_retry_webhook(store *base, uint64_t id, time_ms now)
{
    sqlite_store *s = from(base);
    if (base->failed) return STORE_ERROR;
    sqlite3_stmt *st = s->stmt[STMT_RETRY_WEBHOOK];
    int rc = run_write(s, st, bind_int(st, 1, (int64_t)id) | bind_int(st, 2, now), "retry_webhook");
    if (rc == STORE_OK && sqlite3_changes(s->db) == 0) rc = STORE_NOT_FOUND;
    return rc;
}

static const store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .put_event = sqlite_put_event,
    .put_handoff = sqlite_put_handoff,
    .set_handoff_status = sqlite_set_handoff_status,
    .put_change = sqlite_put_change,
    .put_lead = sqlite_put_lead,
    .put_account = sqlite_put_account,
    .put_alias = sqlite_put_alias,
    .set_meta = sqlite_set_meta,
    .delete_lead = sqlite_delete_lead,
    .get_meta = sqlite_get_meta,
    .get_meta_text = sqlite_get_meta_text,
    .load = sqlite_load,
    .list_handoffs = sqlite_list_handoffs,
    .get_handoff = sqlite_get_handoff,
    .timeline = sqlite_timeline,
    .put_token = sqlite_put_token,
    .find_token = sqlite_find_token,
    .each_event = sqlite_each_event,
    .events_after = sqlite_events_after,
    .last_event = sqlite_last_event,
    .put_reps_csv = sqlite_put_reps_csv,
    .each_reps_csv = sqlite_each_reps_csv,
    .put_router_state = sqlite_put_router_state,
    .get_router_state = sqlite_get_router_state,
    .prune_events = sqlite_prune_events,
    .manual_checkpoints = sqlite_manual_checkpoints,
    .checkpoint = sqlite_checkpoint,
    .put_webhook = sqlite_put_webhook,
    .due_webhooks = sqlite_due_webhooks,
    .next_webhook = sqlite_next_webhook,
    .record_attempt = sqlite_record_attempt,
    .list_webhooks = sqlite_list_webhooks,
    .retry_webhook = sqlite_retry_webhook,
};

/* ---- open ------------------------------------------------------------------------- */

store *sqlite_store_open(const char *path, char *why, size_t why_cap)
{
    sqlite_store *s = mem_calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_cap, "%s: out of memory", path);
        return NULL;
    }
    s->base.ops = &sqlite_ops;
    strbuf_init(&s->row);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, readahead_vfs());
    if (rc != SQLITE_OK) {
        snprintf(why, why_cap, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    /* a file that is not ours, or is newer, is refused before anything
     * (the journal mode included) is changed in it */
    int64_t version = 0;
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (!identify(s->db, path, &version, why, why_cap)) goto fail;
    char msg[200];
    const char *what = configure(s->db, msg, sizeof msg);
    if (what) {
        snprintf(why, why_cap, "%s: %s: %s", path, what, msg);
        goto fail;
    }
    /* an up-to-date file needs no write lock: a server's readers open
     * beside a writer that holds it almost all the time under load */
    if (version < SCHEMA_VERSION && !migrate(s->db, path, why, why_cap)) goto fail;
    for (size_t i = 0; i < STMT_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
                               NULL) != SQLITE_OK) {
            snprintf(why, why_cap, "%s: preparing statement %zu: %s", path, i,
                     sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    return &s->base;
fail:
    sqlite_close(&s->base);
    return NULL;
}
