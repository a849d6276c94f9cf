/* engine: from events to handoffs, deterministically (R1-R3, R6, R9-R12).
 *
 * The core is pure: engine_apply() reads no clock (time is the event's
 * timestamp), does no I/O, and allocates nothing per event: memory grows
 * only when a new lead, account or distinct string appears, in chunks.
 * The same events applied in the same order to the same contract give the
 * same decisions, byte for byte.
 *
 * Ownership: engine_apply() borrows the event. Handoffs and transitions are
 * passed to the sink's callbacks and live only during the call; a sink that
 * keeps one copies what it needs (handoff_to_json() is the usual way). */
#ifndef BATON_ENGINE_H
#define BATON_ENGINE_H

#include "contract/contract.h"
#include "ingest/ingest.h"
#include "route/route.h"

/* Named caps on state that grows from input. */
#define LEAD_MAX_HITS 32        /* signal hits remembered per lead */
#define LEAD_RECENT 3           /* described actions kept per lead for context */
#define ACCOUNT_MAX_HITS 96     /* hits remembered per account, for account-wide counts */
#define ENGINE_MAX_TEXT 280     /* bytes kept of a pain, impact or question */
#define ENGINE_DESCRIPTION 96   /* bytes kept of one action's description */

typedef struct engine engine;

typedef struct engine_options {
    duration_ms dedupe_window; /* how long a messageId is remembered; default 7d */
    uint64_t first_handoff;    /* number of the first handoff; default 1 */
    /* SLA clocks run on event time (each event first runs the clocks up to
     * its timestamp), unless the caller drives them with engine_advance()
     * from a clock of its own, as the server does with the wall clock */
    bool external_clock;
    /* picks the rep who owns each handoff (the contract's routing:); NULL:
     * handoffs go to the receiving team, unassigned. Borrowed, and used
     * only by the engine while it lives. */
    router *router;
    /* the learned score (R8), loaded by the caller (score_model_load()); the
     * engine binds it to this contract and borrows it. NULL, or a model that
     * does not bind, leaves `score` null: score gates do not hold, and
     * engine_score_problem() says why. */
    struct score_model *model;
} engine_options;

/* Lead status beside the stage; see lifecycle.c for the state diagram. */
enum lead_status {
    STATUS_OPEN,          /* in the first stage, eligible for gates */
    STATUS_NEEDS_CONTEXT, /* a gate held, but pain or impact is missing (R11) */
    STATUS_HANDED_OFF,    /* waiting for the receiving team to accept */
    STATUS_ACCEPTED,
    STATUS_RECYCLED,      /* rejected back to the first stage, cooling down */
    STATUS_SUPPRESSED,    /* never handed off again */
    STATUS_COUNT
};

const char *lead_status_name(enum lead_status s);

/* One action that led to a handoff. */
typedef struct trigger {
    const char *message_id;
    time_ms at;
    uint32_t signal;
    const char *description;
} trigger;

typedef struct handoff {
    uint64_t number;
    const contract *contract;
    const char *lead, *account; /* account NULL when the lead has none */
    uint32_t gate;
    time_ms at;
    bool fast;
    uint32_t stage;             /* target stage */
    const char *team;
    bool needs_context;
    const trigger *triggers;
    uint32_t trigger_count;
    const char *did, *asks;     /* the two context lines of R3 */
    const char *pain, *impact;  /* NULL when unknown */
    const char *source;         /* campaign source of the triggering event, or NULL */
    const bool *fit;            /* per fit predicate */
    const value *fields;        /* all field slots at decision time */
    const value *terms;         /* the gate's terms' values, gate_info.terms order */
    const route_decision *route; /* the rep chosen and why; NULL without a router or while held */
    double score;                /* the learned score at decision time; NaN without a model */
    const struct score_factor *factors; /* what moved it most, largest first */
    uint32_t factor_count;
} handoff;

/* A change of stage or status, with its cause. */
typedef struct transition {
    const char *lead;
    time_ms at;
    uint32_t from_stage, to_stage;
    uint8_t from_status, to_status; /* enum lead_status */
    const char *cause;              /* "gate fast_track", "rejected: wrong_timing", ... */
    uint64_t handoff;               /* the handoff concerned, 0 when none */
} transition;

/* What the receiving team did with a lead, as it arrived in the stream (from
 * the CRM or the sales API): the facts the shared figures are made of. */
enum outcome_kind {
    OUTCOME_ACCEPTED,       /* "Handoff Accepted" */
    OUTCOME_REJECTED,       /* "Handoff Rejected", with a reason the contract defines */
    OUTCOME_TOUCH,          /* "First Touch" */
    OUTCOME_MEETING_BOOKED, /* "Meeting Booked" */
    OUTCOME_MEETING_HELD,   /* "Meeting Held" */
    OUTCOME_OPPORTUNITY,    /* "Opportunity Created" */
    OUTCOME_WON,            /* "Deal Won", properties.amount */
    OUTCOME_LOST,           /* "Deal Lost" */
    OUTCOME_COUNT
};

const char *outcome_kind_name(enum outcome_kind k); /* "accepted", "meeting_booked", ... */
const char *outcome_event_name(enum outcome_kind k); /* "Handoff Accepted", "Meeting Booked", ... */

typedef struct outcome {
    const char *lead;
    uint64_t handoff; /* the lead's latest handoff; 0 when it has none yet */
    uint8_t kind;     /* enum outcome_kind */
    time_ms at;
    const char *reason; /* OUTCOME_REJECTED: the reason code; NULL otherwise */
    double amount;      /* properties.amount; 0 when absent */
} outcome;

/* An SLA clock that ran out (R7): the receiving team did not touch the lead
 * (first_touch) or book a meeting (meeting) in the contract's time. */
enum sla_clock { SLA_FIRST_TOUCH, SLA_MEETING, SLA_CLOCK_COUNT };
const char *sla_clock_name(enum sla_clock c); /* "first_touch", "meeting" */

typedef struct breach {
    const char *lead;
    uint64_t handoff;
    uint8_t clock;      /* enum sla_clock */
    time_ms started;    /* when the lead reached the team */
    time_ms due;        /* when the clock ran out: the breach's time */
    uint8_t action;     /* enum sla_breach: what the contract says to do */
    uint32_t stage;     /* the lead's stage and status, unchanged by the breach */
    uint8_t status;
    const char *rep;    /* the rep who held the lead, or NULL */
    /* the action carried out: with `reassign` (and a router), the lead's
     * new owner in the same pool and a fresh first-touch clock; NULL when
     * the action is only to notify, or there was no rep to move it from */
    const route_decision *reassigned;
} breach;

typedef struct engine_sink {
    void *ctx;
    void (*handoff)(void *ctx, const handoff *h);
    void (*transition)(void *ctx, const transition *t);
    /* an outcome event for a lead, after the lifecycle has applied it; a
     * rejection with a code the contract does not define is not reported */
    void (*outcome)(void *ctx, const outcome *o);
    void (*breach)(void *ctx, const breach *b);
    /* a new id (anonymousId, email) now names the lead `lead` */
    void (*alias)(void *ctx, const char *alias, const char *lead);
} engine_sink;

typedef struct engine_stats {
    uint64_t applied, duplicates, anonymous_merges;
    uint64_t late; /* applied after an event with a later timestamp */
    uint64_t leads, accounts;
    uint64_t handoffs, needs_context, released;
    uint64_t breaches[SLA_CLOCK_COUNT];
    uint64_t *by_gate; /* contract_gate_count() entries, owned by the engine */
} engine_stats;

engine *engine_new(const contract *c, const engine_options *opt);
void engine_free(engine *e);

enum apply_result { APPLY_OK, APPLY_DUPLICATE, APPLY_NOMEM };

/* Applies one event: identity, account, signals, history, gates, and the
 * lifecycle events that arrive in the stream (accepted, rejected, meeting,
 * opportunity, won, lost). A duplicate messageId changes nothing. */
enum apply_result engine_apply(engine *e, const event *ev, const engine_sink *sink);
/* Applies n events in order, as n calls of engine_apply() would, with the
 * same results (results[i] for evs[i] when results is not NULL), but
 * faster on state larger than the cache: each event's look-ups (dedupe,
 * lead, history, account) are started several events ahead, so their
 * cache misses overlap. Stops after an event that ran out of memory;
 * returns how many events it applied, that one included. */
size_t engine_apply_batch(engine *e, const event *evs, size_t n, const engine_sink *sink,
                          enum apply_result *results);

/* Sets (or, with NULL, removes) the router that picks each handoff's rep,
 * as engine_options.router does: for reps uploaded after the start. */
void engine_set_router(engine *e, router *r);

/* Runs the SLA clocks up to `now`: every clock due before it breaches, in
 * order of due time, each reported to the sink at its own due time. */
void engine_advance(engine *e, time_ms now, const engine_sink *sink);
/* When the next clock runs out; 0 when none is running. */
time_ms engine_next_due(const engine *e);
/* Why the learned score is not in use (a model that does not fit this
 * contract), or NULL. */
const char *engine_score_problem(const engine *e);

/* A human-readable reason the contract's calendar could not be used (the
 * engine then counts business time in UTC), or NULL. */
const char *engine_calendar_problem(const engine *e);

/* Sets an account's firmographics from a row of named values (an accounts
 * CSV, a test's accounts). Unknown column names are ignored. */
typedef struct account_row {
    const char *const *names;
    const char *const *values;
    size_t count;
} account_row;
bool engine_set_account(engine *e, const account_row *row);

/* Reads an accounts CSV (a header with `domain` and any account columns) and
 * sets each row's account. Each row it cannot use goes to `refused` with its
 * line number and the reason; a missing header or `domain` column is
 * reported as line 1 and nothing is read. Returns the accounts set. */
size_t engine_load_accounts(engine *e, FILE *in, void (*refused)(void *ctx, uint64_t line, const char *why),
                            void *ctx);

const engine_stats *engine_get_stats(const engine *e);
/* Counts what happens from zero again (after a replay of what another
 * process counted); the leads and accounts held stay counted. */
void engine_clear_stats(engine *e);
/* Bytes of lead and account state held, for benchmarks. */
size_t engine_state_bytes(const engine *e);

/* ---- persistence ---------------------------------------------------------------
 * A lead's or account's state as bytes, keyed by names (signals, stages,
 * fields), so a store can keep it and a later engine — under this contract or
 * the next version of it — can take it back. Leads and accounts an event
 * touched are listed until engine_clear_changed(). */
#define ENGINE_STATE_FORMAT 2 /* 2 added the SLA clocks; 1 is still read */

bool engine_export_lead(const engine *e, const char *key, strbuf *out);
bool engine_export_account(const engine *e, const char *domain, strbuf *out);
/* False when the bytes are not a state this engine can read (wrong format,
 * cut short) or memory runs out; the engine is unchanged then. */
bool engine_import_lead(engine *e, const void *blob, size_t len);
bool engine_import_account(engine *e, const void *blob, size_t len);
/* Makes `alias` name the lead `key` (restoring identities). */
bool engine_import_alias(engine *e, const char *alias, const char *key);
/* Makes room for about this many leads, accounts and aliases before an
 * import, so the maps never rehash while a store loads; false when memory
 * runs out. */
bool engine_reserve(engine *e, size_t leads, size_t accounts, size_t aliases);
/* Remembers a message id as seen at `when` (restoring dedupe). */
bool engine_import_seen(engine *e, const char *message_id, time_ms when);
/* Sets the number the next handoff will get. */
void engine_set_next_handoff(engine *e, uint64_t next);
uint64_t engine_next_handoff(const engine *e);

size_t engine_changed_lead_count(const engine *e);
const char *engine_changed_lead(const engine *e, size_t i);
size_t engine_changed_account_count(const engine *e);
const char *engine_changed_account(const engine *e, size_t i);
void engine_clear_changed(engine *e);
size_t engine_lead_count(const engine *e);
const char *engine_lead_key(const engine *e, size_t i); /* NULL for a lead merged into another */
size_t engine_account_count(const engine *e);
const char *engine_account_domain(const engine *e, size_t i);

/* Runs a contract's golden leads (`tests:`), each on a fresh engine, and
 * appends "PASS path:line: name" (when verbose) or "FAIL ..." with the
 * expected and actual handoffs to `report`. Returns how many failed. */
size_t engine_run_golden(const contract *c, const char *path, bool verbose, strbuf *report, size_t *passed);

/* Writes a handoff as one JSON object (no newline). */
void handoff_to_json(const handoff *h, strbuf *out);
/* Writes a transition as one JSON object (no newline). */
void transition_to_json(const contract *c, const transition *t, strbuf *out);
/* Writes an SLA breach as one JSON object (no newline). */
void breach_to_json(const contract *c, const breach *b, strbuf *out);

/* ---- features for the learned score (R8) ----
 * The inputs a lead has at a time, for score/ (docs/scoring.md): the lead
 * and account fields the contract reads (strings as they are, employees in
 * bands, other numbers by decade), time since the last hit of any signal
 * and of each kind (binned), hits per signal over 7 and 30 days and all kept,
 * per kind over 7 and 30 days, and at the account over 30 days the hits per
 * kind and the people active. features_new() borrows the engine. */
#include "score/score.h"

typedef struct features features;
struct lead;

features *features_new(const engine *e);
void features_free(features *f);
const score_schema *features_schema(const features *f);
/* Fills `row` (score_schema_count() entries) with what lead `key` had
 * strictly before `at`: a hit at or after `at` is not counted. Fields are
 * the current ones, so a caller takes a row at its cut-off, as
 * features_collect() does. False when no lead has that key. Allocates nothing. */
bool features_at(const features *f, const char *key, time_ms at, score_row *row);
bool features_of_lead(const features *f, const struct lead *l, time_ms at, score_row *row);

/* A history to learn from, replayed from its start on each rewind(). */
typedef struct features_source {
    void *ctx;
    bool (*rewind)(void *ctx);                /* false when it cannot start again */
    int (*next)(void *ctx, event *ev);       /* 1 an event, 0 the end, -1 an error it reported */
    bool (*prepare)(void *ctx, engine *e);    /* firmographics for a fresh engine; may be NULL */
} features_source;

typedef struct features_options {
    duration_ms horizon;          /* a row is won when its account wins within this; default 120d */
    uint64_t seed;                /* picks the cut-offs of leads never handed off */
    const engine_options *engine; /* may be NULL */
    time_ms until;                /* outcomes are known up to here; 0: the last event */
} features_options;

typedef struct features_summary {
    uint64_t events, leads, rows, positives;
    uint64_t handed_off; /* rows cut at the lead's first handoff */
    uint64_t drawn;      /* rows cut at a drawn event of a lead never handed off */
    uint64_t censored;   /* rows dropped: their horizon runs past `until` */
    time_ms first, last; /* the history's first and last event */
} features_summary;

/* Training rows, one per identified lead at its cut-off, labelled by whether
 * its account (the lead itself when it has none) won within the horizon
 * after the cut-off. Replays the history twice: the first pass finds
 * handoffs, outcomes and event counts, the second takes each row at its
 * cut-off. NULL with the reason in `err` on a source error or when memory
 * runs out. */
score_data *features_collect(const contract *c, const features_source *src, const features_options *o,
                             features_summary *sum, strbuf *err);

#endif
