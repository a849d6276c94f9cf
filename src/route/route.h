/* route: who gets a handed-off lead (issue #5, owners). The reps table, and
 * the router that picks a rep by the contract's `routing:` section: the
 * account owner first, then the first rule that matches picks a pool (team,
 * territory), then capacity-weighted round-robin inside the pool, skipping
 * reps who are away, inactive or at capacity.
 *
 * Ownership: a router owns its reps and their calendars. route_assign() is
 * pure and deterministic: no clock (the time is a parameter), no I/O, no
 * allocation; it borrows the contract and the environment. The strings in a
 * route_decision point into the router (rep ids, teams) and the contract
 * (rule names): they live until the router or the contract is freed. A rep
 * is never removed (route_set_rep with active "false" retires one), so a
 * rep id once seen stays valid. A router is not thread-safe: one thread
 * (the server's committer) owns it. See docs/routing.md. */
#ifndef BATON_ROUTE_H
#define BATON_ROUTE_H

#include "contract/contract.h"

/* ---- named limits --------------------------------------------------------- */
#define ROUTE_MAX_REPS 10000          /* reps in one table */
#define ROUTE_MAX_ID 64               /* bytes of a rep id, team or territory */
#define ROUTE_MAX_TEXT 200            /* bytes of a name or email */
#define ROUTE_MAX_CAPACITY 1000       /* open handoffs one rep may hold */
#define ROUTE_MAX_TERRITORIES 8       /* territories one rep covers */
#define ROUTE_MAX_AWAY 16             /* out-of-office ranges per rep */
#define ROUTE_MAX_SKIPS 16            /* skipped reps a decision names; the rest are counted */
#define ROUTE_MAX_STATE_BYTES (8u << 20) /* an exported state */

typedef struct router router;

/* The calendar a rep's empty timezone, workdays and hours columns fall back
 * to, usually the contract's; NULL: UTC, Monday to Friday, 09:00-17:00.
 * NULL when memory runs out. */
router *route_new(const calendar_info *defaults);
void route_free(router *r);

/* ---- the reps table ---------------------------------------------------------
 * One rep as text, in the CSV's forms (docs/routing.md); NULL or "" takes the
 * default. id, team and capacity are required.
 *   territory      "emea emea-ent" (space- or '|'-separated)
 *   timezone       "Europe/Berlin"
 *   hours          "09:00-17:30", in the rep's time zone
 *   workdays       "mon-fri", "mon tue thu", "sun-thu"
 *   out_of_office  "2026-12-21..2027-01-01 2027-02-14" (local days, inclusive)
 *   active         true|false|yes|no|1|0 */
typedef struct rep_fields {
    const char *id, *name, *email, *team, *territory, *capacity, *timezone, *hours, *workdays,
        *out_of_office, *active;
} rep_fields;

/* Adds a rep, or replaces the settings of the rep with that id (its place in
 * the rotation and its open handoffs are kept). False with `why` set ("column
 * 'capacity': ...") when a value is wrong or a limit is reached; the table is
 * unchanged then. */
bool route_set_rep(router *r, const rep_fields *f, char *why, size_t why_size);

/* Reads a reps CSV (a header naming the columns of rep_fields, in any order)
 * and sets each row. Each row it cannot use goes to `refused` with its line
 * number and the reason, and is skipped; a missing header or a header without
 * id, team or capacity is reported as line 1 and nothing is read. Returns the
 * reps set. */
size_t route_load_reps(router *r, FILE *in, void (*refused)(void *ctx, uint64_t line, const char *why), void *ctx);
/* An upload the store kept, read again into `r` (a router *; the signature
 * is the store's each_reps_csv callback). Its bad rows were reported when it
 * was uploaded and are skipped in silence. False only when the bytes cannot
 * be opened as a stream. */
bool route_reload_reps(void *r, const char *csv, size_t len);

size_t route_rep_count(const router *r);
/* A rep as JSON: its settings and its counters (open, assigned, owed). */
void route_rep_to_json(const router *r, size_t i, strbuf *out);
/* The index of a rep, or -1. */
int route_find_rep(const router *r, const char *id);

/* ---- deciding ------------------------------------------------------------------ */
#define ROUTE_SKIPS(X)                                                                              \
    X(SKIP_INACTIVE, "inactive", "inactive")                                                       \
    X(SKIP_OUT_OF_OFFICE, "out_of_office", "out of office")                                        \
    X(SKIP_OFF_HOURS, "off_hours", "outside working hours")                                        \
    X(SKIP_AT_CAPACITY, "at_capacity", "at capacity")                                              \
    X(SKIP_OTHER_TEAM, "other_team", "on another team than the handoff's")                        \
    X(SKIP_UNKNOWN, "unknown", "not in the reps table")                                            \
    X(SKIP_BREACHED, "breached", "let the SLA run out on this lead")

enum route_skip {
#define X(k, code, words) k,
    ROUTE_SKIPS(X)
#undef X
};
const char *route_skip_code(enum route_skip s);  /* "at_capacity" */
const char *route_skip_words(enum route_skip s); /* "at capacity" */

/* How the owner was found, or why there is none. */
#define ROUTE_VIAS(X)                                                                               \
    X(VIA_ACCOUNT_OWNER, "account_owner")   /* the account's owner */                              \
    X(VIA_CREDIT, "credit")                 /* a rep owed a lead (credit back) */                  \
    X(VIA_ROTATION, "rotation")             /* the pool's weighted round-robin */                  \
    X(VIA_NO_TEAM, "no_team")               /* no rule matched and no team was given */            \
    X(VIA_EMPTY_POOL, "empty_pool")         /* nobody in the reps table is in the pool */          \
    X(VIA_NOBODY_AVAILABLE, "nobody_available") /* everyone in the pool was skipped */

enum route_via {
#define X(k, code) k,
    ROUTE_VIAS(X)
#undef X
};
const char *route_via_code(enum route_via v);

/* What the router is asked: the handoff's target, the lead's fields, the
 * account owner and the time. */
typedef struct route_request {
    const char *team;          /* the receiving team (gate_info.team); NULL: the first rule that matches decides */
    int32_t stage;             /* the target stage, -1 when not known */
    const eval_env *env;       /* the lead's and account's fields at decision time */
    const char *account_owner; /* a rep id, or NULL */
    time_ms now;
    /* An SLA reassignment: the lead stays in its pool (`team` and this
     * territory, NULL for the whole team; the rules are not consulted) and
     * may not go back to `exclude`, the rep who let the clock run out. */
    bool reassign;
    const char *territory, *exclude;
} route_request;

typedef struct route_skipped {
    const char *rep;
    uint8_t reason; /* enum route_skip */
} route_skipped;

typedef struct route_decision {
    time_ms at;
    uint8_t via;              /* enum route_via */
    const char *rep;          /* the rep chosen; NULL when unassigned */
    const char *team;         /* the owning team; NULL only with VIA_NO_TEAM */
    const char *territory;    /* the pool's territory, NULL for the whole team */
    int32_t rule;             /* the rule that picked the pool, -1 none */
    const char *rule_name;
    const char *owner;        /* the account owner considered, NULL when none */
    int8_t owner_skip;        /* enum route_skip when the owner was passed over, -1 otherwise */
    bool owner_ignored;       /* the contract says account_owner: ignore */
    bool after_hours;         /* working_hours: prefer, and nobody in the pool was working */
    route_skipped skips[ROUTE_MAX_SKIPS]; /* in the order they were considered */
    uint32_t skip_count, skips_more;
} route_decision;

/* Picks an owner for a lead and counts the open handoff against the rep.
 * Always fills `out`; returns true when a rep was chosen. When no rep can
 * take the lead, the decision keeps it with the team, unassigned, and says
 * why (R1: never without an owning team). */
bool route_assign(router *r, const contract *c, const route_request *req, route_decision *out);

/* How a handoff closed. */
enum route_close {
    ROUTE_WORKED,     /* accepted and worked: no credit */
    ROUTE_REJECTED,   /* rejected by the receiving team */
    ROUTE_RETURNED,   /* accepted, then returned to marketing */
    ROUTE_REASSIGNED, /* taken from the rep (an SLA breach): no credit */
};

/* A handoff the rep held is closed: frees one unit of capacity and, when the
 * contract's credit_back says so, owes the rep a lead. False when the rep is
 * unknown or holds no open handoff (nothing changes then). */
bool route_release(router *r, const contract *c, const char *rep, enum route_close how);

/* ---- state ------------------------------------------------------------------
 * The rotation (each rep's credit, open handoffs, leads owed, away flag) as
 * bytes, keyed by rep id, for the store. Import after the reps are set:
 * entries for reps not in the table are ignored and counted in *unknown. False
 * (router unchanged) when the bytes are not a state this version wrote. */
void route_export(const router *r, strbuf *out);
bool route_import(router *r, const void *bytes, size_t len, size_t *unknown);

/* ---- output -------------------------------------------------------------------- */
/* One JSON object (no newline), for handoffs and the API. */
void route_decision_to_json(const route_decision *d, strbuf *out);
/* The decision in plain words, one fact a line, for `baton route`. */
void route_decision_to_text(const route_decision *d, strbuf *out);

#endif
