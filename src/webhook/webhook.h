/* webhook: signed deliveries of baton's events to the systems that listen
 * (handoff.created, handoff.needs_context, handoff.accepted,
 * handoff.rejected, lead.stage_changed, sla.breached, sla.escalated).
 *
 * The outbox pattern: webhook_enqueue() writes one outbox row per endpoint
 * inside the transaction of the decision it reports, so a decision and its
 * notice are durable together or not at all. A worker thread with its own
 * store connection delivers due rows with libcurl, oldest first, and records
 * each attempt; a failure is retried with exponential backoff and jitter,
 * and after the last attempt the row is dead-lettered, listed and retryable
 * through the API. Delivery is at least once: a receiver deduplicates on the
 * Baton-Webhook-Id header (a crash between a receiver's 2xx and the record
 * of it is the one case that sends a row twice).
 *
 * Every request carries
 *   Baton-Webhook-Id: 42
 *   Baton-Event: handoff.created
 *   Baton-Signature: t=1767225600,v1=<hex HMAC-SHA256 of "1767225600." + body>
 * with the body {"id":42,"type":"handoff.created","created":"...","data":{...}}.
 * See docs/webhooks.md for a receiver that verifies it. */
#ifndef BATON_WEBHOOK_H
#define BATON_WEBHOOK_H

#include "store/store.h"

#define WEBHOOK_MAX_ENDPOINTS 8
#define WEBHOOK_SECRET_MAX 512      /* bytes of the signing secret */
#define WEBHOOK_TIMEOUT_MS 10000    /* one attempt, connection included */
#define WEBHOOK_BATCH 32            /* rows fetched per pass */
#define WEBHOOK_SIGNATURE_SIZE 96   /* "t=<seconds>,v1=<64 hex>" and its NUL */

/* The events a receiver can subscribe to, in the order of their bits. */
#define WEBHOOK_EVENTS(X)                                                                          \
    X(HANDOFF_CREATED, "handoff.created")                                                          \
    X(HANDOFF_NEEDS_CONTEXT, "handoff.needs_context")                                              \
    X(HANDOFF_ACCEPTED, "handoff.accepted")                                                        \
    X(HANDOFF_REJECTED, "handoff.rejected")                                                        \
    X(LEAD_STAGE_CHANGED, "lead.stage_changed")                                                    \
    X(SLA_BREACHED, "sla.breached")                                                                \
    X(SLA_ESCALATED, "sla.escalated")

enum webhook_event {
#define X(id, name) WEBHOOK_##id,
    WEBHOOK_EVENTS(X)
#undef X
        WEBHOOK_EVENT_COUNT
};

const char *webhook_event_name(enum webhook_event e);
/* Reads "handoff.created,sla.breached" into a set of bits; false with the
 * first unknown name in `bad` (cut to fit). */
bool webhook_parse_events(const char *list, uint32_t *set, char *bad, size_t bad_size);

typedef struct webhook_options {
    const char *endpoints[WEBHOOK_MAX_ENDPOINTS];
    size_t endpoint_count;
    const char *secret;
    uint32_t events;         /* bits of enum webhook_event; 0 means all */
    duration_ms backoff;     /* the wait before the first retry; doubles each time (default 10 s) */
    duration_ms backoff_max; /* the longest wait (default 1 h) */
    uint32_t attempts;       /* dead-lettered after this many (default 10) */
} webhook_options;

/* Fills the defaults of unset fields. */
void webhook_defaults(webhook_options *opt);

/* Queues `event` with `data` (JSON) for every endpoint, in the store's open
 * transaction, when the options subscribe to it. STORE_OK, or the store's
 * error. */
int webhook_enqueue(store *st, const webhook_options *opt, enum webhook_event what, const char *data, time_ms now);

/* The body sent for a row. */
void webhook_envelope(const store_webhook *w, strbuf *out);
/* The Baton-Signature value for `body` signed at `unix_seconds`. */
void webhook_signature(const char *secret, int64_t unix_seconds, const char *body, size_t len,
                       char out[WEBHOOK_SIGNATURE_SIZE]);
/* The wait after failed attempt number `attempts` (1 for the first): the
 * base doubled per attempt, capped, then drawn uniformly from its upper half
 * by `random` so that many receivers failing together do not retry in step. */
duration_ms webhook_backoff(const webhook_options *opt, uint32_t attempts, uint64_t random);

typedef struct webhook_stats {
    uint64_t delivered, failed_attempts, dead;
} webhook_stats;

typedef struct webhook_worker webhook_worker;

/* Starts the delivery thread on its own connection to the store at `db`.
 * The options are copied (strings included). NULL with `why` set when the
 * store cannot be opened or the thread cannot start. */
webhook_worker *webhook_start(const char *db, const webhook_options *opt, char *why, size_t cap);
/* New rows were committed, or a dead one revived: look now. */
void webhook_wake(webhook_worker *w);
/* Finishes the attempt in flight, records it, and stops. */
void webhook_stop(webhook_worker *w);
webhook_stats webhook_get_stats(webhook_worker *w);

#endif
