/* store: where baton keeps what it has acknowledged — events, lead and
 * account state, handoffs, the timeline of every change, identities, API
 * tokens — behind one interface. SQLite is the embedded default (one file,
 * WAL, foreign keys on); PostgreSQL will implement the same operations.
 *
 * Ownership: the store copies everything it is given; rows handed to a
 * callback are valid only during the call. One thread at a time uses a
 * store; a callback must not call back into the store that called it.
 *
 * Errors: operations return STORE_OK or a negative code and leave a message
 * in store_error(). A store whose write failed stays failed (its open
 * transaction is rolled back, and every later operation but rollback and
 * close returns the same error) until store_reset() — so a half-written
 * commit can never be mistaken for a whole one. */
#ifndef BATON_STORE_H
#define BATON_STORE_H

#include "util/util.h"

enum store_result {
    STORE_OK = 0,
    STORE_DUPLICATE = 1, /* put_event: a message with this id is already stored */
    STORE_NOT_FOUND = 2,
    STORE_ERROR = -1,    /* see store_error() */
};

typedef struct store store;

typedef struct store_event {
    uint64_t seq;           /* its place in arrival order (reads only; put_event ignores it) */
    const char *message_id; /* NULL: the event has none (never a duplicate) */
    const char *lead;       /* the lead it was applied to */
    const char *type, *name;
    time_ms at, received;
    const char *body; /* the event as received, JSON */
    size_t body_len;
} store_event;

typedef struct store_handoff {
    uint64_t id;
    const char *lead, *account, *gate, *contract;
    uint32_t version;
    time_ms at;
    bool fast;
    const char *stage, *team, *status;
    const char *packet; /* the whole handoff as JSON (handoff_to_json) */
} store_handoff;

typedef struct store_change {
    const char *lead;
    uint64_t handoff; /* 0: none */
    time_ms at;
    const char *from_stage, *from_status, *to_stage, *to_status, *owner;
    const char *cause; /* "gate fast_track", "rejected: wrong_timing", ... */
    const char *actor; /* "engine", or who acted through the API */
} store_change;

typedef struct store_filter {
    const char *status, *owner, *gate, *lead; /* NULL: any */
    time_ms since;                            /* 0: any */
    int fast;                                 /* -1 any, 0 no, 1 yes */
    uint32_t limit;                           /* 0: 100 */
    uint64_t after;                           /* 0, or only handoffs with a smaller id: the
                                               * next page after the one ending at it */
} store_filter;

/* Called once per row; return false to stop. */
typedef bool (*store_row_fn)(void *ctx, const char *json);
typedef bool (*store_event_fn)(void *ctx, const store_event *e);

typedef struct store_load {
    void *ctx;
    /* called first, with about how many rows of each kind follow (a hint for
     * sizing; may be NULL) */
    bool (*sizes)(void *ctx, uint64_t leads, uint64_t accounts, uint64_t aliases);
    bool (*lead)(void *ctx, const void *blob, size_t len);
    bool (*account)(void *ctx, const void *blob, size_t len);
    bool (*alias)(void *ctx, const char *alias, const char *lead);
    bool (*seen)(void *ctx, const char *message_id, time_ms at);
    uint64_t seen_before; /* 0: seen() gets every event in the window; else only those
                           * with a smaller seq (the ones after are replayed instead) */
} store_load;

/* One webhook delivery waiting in the outbox: an event for one endpoint,
 * written in the same transaction as the decision it reports. */
typedef struct store_webhook {
    uint64_t id;          /* put_webhook: ignored; the outbox numbers its rows */
    const char *endpoint; /* the receiver's URL */
    const char *type;     /* "handoff.created", "sla.breached", ... */
    const char *data;     /* the event's data, JSON */
    time_ms created;
    uint32_t attempts;    /* deliveries tried so far */
} store_webhook;

enum webhook_state { WEBHOOK_PENDING, WEBHOOK_DELIVERED, WEBHOOK_DEAD };
const char *webhook_state_name(enum webhook_state s);

/* What one delivery attempt came to. */
typedef struct store_attempt {
    uint8_t state;     /* enum webhook_state after this attempt */
    uint32_t attempts; /* attempts made, this one included */
    time_ms at;        /* when it was made */
    time_ms next_at;   /* WEBHOOK_PENDING: when to try again */
    const char *error; /* why it failed; NULL when delivered */
} store_attempt;

typedef bool (*store_webhook_fn)(void *ctx, const store_webhook *w);

/* How far a checkpoint goes (SQLite's modes of the same names). */
enum store_checkpoint {
    STORE_CHECKPOINT_PASSIVE,  /* copies what it can; never waits, never blocks the writer */
    STORE_CHECKPOINT_RESTART,  /* copies everything, then waits until the writer can start
                                * the log again from its beginning; blocks writers meanwhile */
    STORE_CHECKPOINT_TRUNCATE, /* RESTART, then empties the log file */
};

/* The write-ahead log after a checkpoint, in frames (a page each). */
typedef struct store_wal {
    uint64_t frames; /* in the log */
    uint64_t copied; /* of those, in the database now */
    bool busy;       /* a reader or the writer kept it from finishing (not an error) */
} store_wal;

enum token_role { ROLE_INGEST, ROLE_SALES, ROLE_ADMIN };
const char *token_role_name(enum token_role r);

typedef struct store_ops {
    const char *name;
    void (*close)(store *s);
    int (*begin)(store *s);
    int (*commit)(store *s); /* durable when it returns STORE_OK */
    int (*rollback)(store *s);
    int (*put_event)(store *s, const store_event *e);
    int (*put_handoff)(store *s, const store_handoff *h);
    int (*set_handoff_status)(store *s, uint64_t id, const char *status);
    int (*put_change)(store *s, const store_change *c);
    int (*put_lead)(store *s, const char *key, const void *blob, size_t len);
    /* forgets a lead's state: one merged into another, whose key names it now */
    int (*delete_lead)(store *s, const char *key);
    int (*put_account)(store *s, const char *domain, const void *blob, size_t len);
    int (*put_alias)(store *s, const char *alias, const char *lead);
    int (*set_meta)(store *s, const char *key, const char *value);
    /* copies the value into out (NUL-terminated); STORE_NOT_FOUND when unset */
    int (*get_meta)(store *s, const char *key, char *out, size_t cap);
    /* the same for a value of any length, appended to `out` */
    int (*get_meta_text)(store *s, const char *key, strbuf *out);
    /* state for a restart: every lead, account and alias, and the message ids
     * received in the last `seen_window` (with the event's own time); NULL
     * callbacks are skipped, and one that returns false fails the load */
    int (*load)(store *s, const store_load *l, duration_ms seen_window, time_ms now);
    /* handoffs as their JSON packets, newest first */
    int (*list_handoffs)(store *s, const store_filter *f, store_row_fn fn, void *ctx);
    /* one handoff's JSON packet with its current status */
    int (*get_handoff)(store *s, uint64_t id, store_row_fn fn, void *ctx);
    /* a lead's timeline, oldest first, as JSON objects */
    int (*timeline)(store *s, const char *lead, store_row_fn fn, void *ctx);
    /* tokens are kept as SHA-256 hex digests, never in clear; a digest
     * already stored is STORE_DUPLICATE and changes nothing */
    int (*put_token)(store *s, const char *digest, enum token_role role, const char *name, time_ms now);
    int (*find_token)(store *s, const char *digest, enum token_role *role);
    /* Reps, as the CSV uploads that set them (each upload adds or replaces
     * reps by id, so replaying them in order rebuilds the table), and the
     * router's rotation state (route_export()). */
    int (*put_reps_csv)(store *s, const char *csv, size_t len, time_ms at);
    int (*each_reps_csv)(store *s, bool (*fn)(void *ctx, const char *csv, size_t len), void *ctx);
    int (*put_router_state)(store *s, const void *blob, size_t len);
    /* appends the state to `out`; STORE_NOT_FOUND when none was saved */
    int (*get_router_state)(store *s, strbuf *out);
    /* stored events, in arrival order, whose own time is in [since, until);
     * `name` NULL for every event, else only track events of that name */
    int (*each_event)(store *s, time_ms since, time_ms until, const char *name, store_event_fn fn, void *ctx);
    /* stored events with a seq greater than `after`, in arrival order */
    int (*events_after)(store *s, uint64_t after, store_event_fn fn, void *ctx);
    /* the seq of the last event stored (0: none) */
    int (*last_event)(store *s, uint64_t *seq);
    /* drops events received before `before` whose seq is at most `through`
     * (0: any; events after a saved state are kept for its replay), but
     * never the last one, so a seq is never given out twice; reports how
     * many */
    int (*prune_events)(store *s, time_ms before, uint64_t through, uint64_t *removed);
    /* Checkpoints: by default the store copies its write-ahead log into the
     * database now and then, inside a commit. A writer that calls
     * manual_checkpoints() leaves that to checkpoint(), which another
     * connection can run on another thread, off the commit path (see
     * checkpoint_start() below, which does both). checkpoint() fills `wal`
     * when not NULL; it does not fail for want of a lock (wal->busy then),
     * and a failed checkpoint does not fail the store. */
    int (*manual_checkpoints)(store *s);
    int (*checkpoint)(store *s, enum store_checkpoint mode, store_wal *wal);

    /* The webhook outbox. Rows go in with a decision's transaction and come
     * out, oldest first, once due; each attempt is recorded. */
    int (*put_webhook)(store *s, const store_webhook *w);
    /* pending rows due at `now`, at most `limit`, oldest first */
    int (*due_webhooks)(store *s, time_ms now, uint32_t limit, store_webhook_fn fn, void *ctx);
    /* when the earliest pending row is due; STORE_NOT_FOUND when none is */
    int (*next_webhook)(store *s, time_ms *at);
    int (*record_attempt)(store *s, uint64_t id, const store_attempt *a);
    /* rows in one state (or every state when `state` is NULL) as JSON,
     * newest first, at most `limit` */
    int (*list_webhooks)(store *s, const char *state, uint32_t limit, store_row_fn fn, void *ctx);
    /* makes a dead row pending again, due at `now`, with its attempts reset;
     * STORE_NOT_FOUND when no dead row has that id */
    int (*retry_webhook)(store *s, uint64_t id, time_ms now);
} store_ops;

struct store {
    const store_ops *ops;
    char error[256];
    bool failed;
};

/* Opens (creating when absent) a SQLite store at `path` and brings its
 * schema up to date. NULL with a message in `why` on failure. */
store *sqlite_store_open(const char *path, char *why, size_t why_cap);

/* ---- checkpoints off the commit path (checkpoint.c) ----------------------------------
 *
 * A checkpointer is a thread with a connection of its own that copies the
 * writer's log into the database, so the writer's commits flush only their
 * own frames. The writer tells it how long the log is after each commit (a
 * hook on the writer's connection, run in the writer's thread); past
 * `start` frames not yet copied it runs a PASSIVE checkpoint, and again at
 * once while it falls behind. The log is bounded: past `limit` frames the
 * writer, between two transactions, calls checkpoint_bound(), which has the
 * thread RESTART the log and waits for it (the copy left is small when the
 * thread keeps up), so the next commit writes the log from its beginning. A
 * log file left longer by one big transaction is cut back to `limit` frames
 * at the first commit after a restart. checkpoint_stop() empties the log
 * (TRUNCATE) and joins the thread.
 *
 * Ownership: the checkpointer borrows the writer store, which must outlive
 * it and keep to one thread; the stats can be read from any thread. */
typedef struct checkpointer checkpointer;

typedef struct checkpoint_options {
    uint32_t start; /* frames not yet copied that start a PASSIVE checkpoint (0: 250) */
    uint32_t limit; /* frames in the log that make the writer wait for a RESTART (0: 32768) */
} checkpoint_options;

typedef struct checkpoint_stats {
    uint64_t passive, restarts, busy; /* checkpoints run; those a lock kept from finishing */
    uint64_t copied;                  /* frames copied into the database, all modes */
    double passive_s, restart_s;      /* time spent in them */
    uint64_t waits;                   /* times the writer waited for a restart */
    double wait_s;                    /* and how long in all */
    uint64_t frames;                  /* frames in the log after the writer's last commit */
    uint64_t failures;                /* checkpoints that failed (reported on stderr) */
} checkpoint_stats;

/* Opens a second connection to `path` (the writer's file), turns off the
 * writer's checkpoints inside commits, and starts the thread. NULL with a
 * message in `why` when the store is not SQLite, or the connection or thread
 * cannot be had; the writer is left as it was then. */
checkpointer *checkpoint_start(store *writer, const char *path, const checkpoint_options *o, char *why,
                               size_t why_cap);
/* The writer's side, between transactions: returns at once while the log is
 * under the limit; past it, waits until the thread has restarted the log
 * (or failed to: a reader in the way, after the busy timeout). */
void checkpoint_bound(checkpointer *c);
/* A last TRUNCATE checkpoint, then joins the thread and closes its
 * connection; the writer gets its automatic checkpoints back. NULL is fine.
 * Call it from the writer's thread, or once the writer is idle. */
void checkpoint_stop(checkpointer *c);
checkpoint_stats checkpoint_get_stats(checkpointer *c);

static inline const char *store_error(const store *s)
{
    return s->error;
}

static inline void store_reset(store *s)
{
    s->failed = false;
    s->error[0] = '\0';
}

static inline void store_close(store *s)
{
    if (s) s->ops->close(s);
}

#endif
