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
    char *json; /* owned copy; decoded in place */
    size_t len;
    uint8_t status;
    char error[200];
} job_item;

/* A request's messages, waiting for the committer. */
typedef struct job {
    struct job *next;
    int default_type; /* enum event_type the endpoint implies, or -1 */
    job_item *items;
    size_t count;
    /* or, instead of messages: an accounts or reps CSV, and what became of its rows */
    const char *csv;
    size_t csv_len, csv_set;
    bool csv_reps;          /* reps, not accounts */
    strbuf *csv_errors;     /* JSON objects, comma-separated */
    bool done;
    int result; /* STORE_OK, or STORE_ERROR when the commit failed */
} job;

#define READERS 8
#define LATENCY_BUCKETS 12

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
    pthread_mutex_t lock;        /* the queue */
    pthread_cond_t work, finished;
    job *head, *tail;
    bool stopping;
    atomic_bool reload;
    pthread_t committer;
    time_ms last_prune;
    checkpointer *checkpointer; /* copies the WAL into the database, off the commit path; NULL: inside commits */
    webhook_worker *webhooks; /* NULL when no endpoint is configured */
    router *router;           /* the reps; the committer's, like the engine that borrows it */
    struct score_model *model; /* the learned score, NULL when none is named or it cannot be read */

    pthread_mutex_t pool_lock;
    store *readers[READERS];
    int reader_count;

    /* metrics */
    atomic_uint_fast64_t received, rejected, duplicates, commits, committed_events, failed_commits;
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
/* Loads the contract, the engine and the store's state; false with a
 * message on stderr. */
bool server_load(server *s);
/* Reads and checks the contract text; when valid, replaces the running one
 * and moves every lead's state to it. Errors go to `report` (rendered text);
 * false leaves the running contract in force. */
bool server_replace_contract(server *s, const char *path, const char *text, size_t len, strbuf *report);

/* server.c */
store *reader_take(server *s);
void reader_give(server *s, store *r);

#endif
