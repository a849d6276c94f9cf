/* Private to src/http/: the server's shared state and the committer's jobs. */
#ifndef BATON_HTTP_INTERNAL_H
#define BATON_HTTP_INTERNAL_H

#include "contract/contract.h"
#include "engine/engine.h"
#include "http/http.h"
#include "store/store.h"

#include <pthread.h>
#include <stdatomic.h>

/* One message of a request, and what became of it. */
enum item_status { ITEM_ACCEPTED, ITEM_DUPLICATE, ITEM_INVALID };

typedef struct job_item {
    const char *json; /* the message as received: borrowed from the request, which
                       * outlives the job (the connection waits for the commit) */
    size_t len;
    uint8_t status;
    bool decoded;   /* `ev` holds the message, decoded ahead (see job.generation) */
    bool defaulted; /* decoded with the endpoint's type or the time of receipt */
    event ev;       /* its strings point into job.decoded, its fields into job.fields */
    char error[200];
} job_item;

/* A request's messages, waiting for the committer. The connection thread
 * decodes them before the hand-over (decode_ahead()), so the committer only
 * dedupes, applies, stores and commits; a job decoded under a contract that
 * has been replaced since is decoded again by the committer. */
typedef struct job {
    struct job *next;
    int default_type; /* enum event_type the endpoint implies, or -1 */
    job_item *items;
    size_t count, cap;
    /* decoded ahead: the messages' bytes as the decoder left them, and
     * contract_field_count() values per message */
    char *decoded;
    value *fields;
    uint64_t generation; /* server.generation they were decoded under; 0: not decoded */
    time_ms received_at;  /* the time given to messages that carry none, when decoded ahead */
    /* or, instead of messages: an accounts or reps CSV, and what became of its rows */
    const char *csv;
    size_t csv_len, csv_set;
    bool csv_reps;          /* reps, not accounts */
    strbuf *csv_errors;     /* JSON objects, comma-separated */
    /* or a contract to run instead of the current one, checked already;
     * the committer takes it (and frees it when it cannot run it) */
    contract *swap;
    const char *swap_text;
    size_t swap_len;
    strbuf *swap_report;
    bool swapped;
    bool done;
    int result; /* STORE_OK, or STORE_ERROR when the commit failed */
} job;

#define READERS 8
#define LATENCY_BUCKETS 12
#define DECODERS 64     /* idle decoders kept for the connection threads */
#define TOKEN_CACHE 16  /* tokens known to be valid, kept in memory */

typedef struct server {
    serve_options opt;
    /* owned by the committer thread; the lock guards the pointers */
    contract *contract;
    engine *engine;
    decoder *decoder;
    store *store;
    strbuf scratch; /* the committer's JSON buffer */
    char *contract_text;

    pthread_mutex_t engine_lock; /* held while the engine or the contract is used or swapped */
    /* Connection threads decode with the contract outside the engine lock:
     * they hold this for reading meanwhile, and a swap holds it for writing,
     * so a contract is never freed under a decoder. `generation` counts the
     * contracts run so far; it changes only under both locks. */
    pthread_rwlock_t contract_lock;
    uint64_t generation;
    pthread_mutex_t lock;        /* the queue */
    pthread_cond_t work, finished;
    job *head, *tail;
    bool stopping;
    atomic_bool reload;
    pthread_t committer;
    time_ms last_prune;
    /* State saved now and then (commit.c): when it was last written, whether
     * the next group must write it, whether the store holds the running
     * contract's text, and the identities made since ("alias\0lead\0"...) */
    time_ms saved_at;
    time_ms last_group;     /* the time of the last group: each group's is later */
    uint64_t state_through; /* the seq of the last event the saved state includes */
    bool save_due, contract_stored;
    strbuf new_aliases;
    checkpointer *checkpointer; /* copies the WAL into the database, off the commit path; NULL: inside commits */
    webhook_worker *webhooks; /* NULL when no endpoint is configured */
    router *router;           /* the reps; the committer's, like the engine that borrows it */
    struct score_model *model; /* the learned score, NULL when none is named or it cannot be read */

    pthread_mutex_t pool_lock; /* the readers, the idle decoders, the token cache */
    store *readers[READERS];
    int reader_count;
    decoder *decoders[DECODERS]; /* idle, all for the contract of `generation` */
    int decoder_count;
    /* Valid tokens, by digest: a token is never deleted nor changes role, so
     * a hit is as good as the store's answer, and a request does not take a
     * reader (under load, with more connections than readers, that meant
     * opening a SQLite connection per request). Misses ask the store. */
    struct {
        char digest[65];
        uint8_t role; /* enum token_role */
    } tokens[TOKEN_CACHE];
    int token_count, token_next;

    /* metrics */
    atomic_uint_fast64_t received, rejected, duplicates, commits, committed_events, failed_commits;
    atomic_uint_fast64_t state_saves, state_rows, state_save_us, replayed; /* saves of state; events replayed */
    atomic_uint_fast64_t batch_buckets[8]; /* commit sizes: 1, 10, 100, 1000, ... */
    atomic_uint_fast64_t latency_buckets[LATENCY_BUCKETS + 1];
    atomic_uint_fast64_t latency_count;
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t requests_by_code[6]; /* 1xx..5xx, other */
} server;

/* commit.c */
/* The wall clock in milliseconds: the server's time of receipt. */
time_ms wall_clock(void);
bool committer_start(server *s);
void committer_stop(server *s);
/* Queues a job and waits until it is durable (or failed). */
void committer_submit(server *s, job *j);
/* Decodes a job's messages on the calling thread, before committer_submit(),
 * with one of the server's idle decoders. A message the decoder refuses is
 * marked invalid with the reason. When memory runs out nothing is decoded
 * and the committer decodes the job itself, as it would anyway. */
void decode_ahead(server *s, job *j);
/* Frees what decode_ahead() and the items allocated. */
void job_release(job *j);
/* Frees the decoders kept idle for the connection threads. */
void free_idle_decoders(server *s);
/* Loads the contract, the engine and the store's state: SERVE_OK, or
 * SERVE_INVALID (the contract) or SERVE_IO (the store, the file) with a
 * message on stderr. */
enum serve_result server_load(server *s);
/* Reads the contract text and runs its golden tests: the contract, or NULL
 * with the errors in `report` (rendered text). Any thread. */
contract *server_check_contract(const char *path, const char *text, size_t len, strbuf *report);
/* Has the committer run `c` (from server_check_contract()) instead of the
 * current contract, moving every lead's state to it; false, with why in
 * `report`, leaves the running contract in force. Takes `c`. */
bool server_submit_contract(server *s, contract *c, const char *text, size_t len, strbuf *report);

/* server.c */
store *reader_take(server *s);
void reader_give(server *s, store *r);

#endif
