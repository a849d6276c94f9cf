/* http: `baton serve` — Segment's tracking API on the way in, a JSON REST
 * API for sales, health and metrics, over libmicrohttpd.
 *
 * One committer thread owns the engine and the store's write connection:
 * requests hand it their events and wait; it applies everything that is
 * waiting in one transaction and one fsync (group commit), then answers them
 * all. Nothing is acknowledged before it is durable. */
#ifndef BATON_HTTP_H
#define BATON_HTTP_H

#include "util/util.h"
#include "webhook/webhook.h"

#define HTTP_MAX_MESSAGE (32u * 1024)  /* one Segment message */
#define HTTP_MAX_BATCH (500u * 1024)   /* one request body */
#define HTTP_MAX_BATCH_ITEMS 2500      /* messages in one batch */

typedef struct serve_options {
    const char *db;        /* SQLite file */
    const char *contract;  /* contract file */
    const char *listen;    /* "127.0.0.1:8080"; port 0 picks a free one */
    unsigned threads;      /* connection threads cap (0: default) */
    duration_ms dedupe_window;
    duration_ms event_retention; /* 0: keep events forever */
    duration_ms save_every;      /* how often lead and account state is written, 0: with
                                  * every commit; a restart replays the events stored since */
    webhook_options webhooks;    /* no endpoints: no webhooks */
    const char *model;           /* the learned score's model; NULL: the contract's model: */
    /* Called once the server listens, with the address it listens on. */
    void (*ready)(const char *address);
} serve_options;

/* What serve_run() ends with; the values are the command line's exit codes. */
enum serve_result { SERVE_OK = 0, SERVE_INVALID = 1, SERVE_USAGE = 2, SERVE_IO = 3, SERVE_INTERNAL = 4 };

/* Runs until SIGINT or SIGTERM; SIGHUP reloads the contract. Prints what
 * went wrong to stderr. */
int serve_run(const serve_options *opt);

/* A new API token: 32 random bytes as 64 hex characters in `token`, its
 * SHA-256 digest (hex) in `digest`. False when no randomness is available. */
bool token_new(char token[65], char digest[65]);
void token_digest(const char *token, char digest[65]);

#endif
