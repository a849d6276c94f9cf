/* report: closing the loop (R7, R12). The shared figures, the monthly
 * review with its diagnosis and suggestions, and the what-if diff.
 *
 * Three steps, each with its own owner:
 *   1. report_data holds the facts: handoffs (with their field values at
 *      decision time) and outcomes (accepted, rejected with a reason, touch,
 *      meeting, opportunity, won, lost). A replay fills it through the engine
 *      sink in collect.c; a store fills the same records with
 *      report_data_add_handoff() and friends. report_data owns copies of
 *      every string and field it is given (one arena, one intern map);
 *      callers keep nothing alive for it.
 *   2. report_review_new() computes the figures for a period as of a time,
 *      by gate, source, owner and contract version, the month-over-month
 *      change, the trend by month, the R7 diagnosis and the suggestions.
 *      The review owns its memory (one arena) and borrows the data and the
 *      contract, which must outlive it.
 *   3. report_render() writes a review as text, Markdown, JSON, CSV or one
 *      self-contained HTML page into a strbuf.
 *
 * Nothing here reads the clock or prints: "as of" is given or taken from
 * the data, and errors come back as messages. */
#ifndef BATON_REPORT_H
#define BATON_REPORT_H

#include "engine/engine.h"
#include "util/util.h"

/* ---- named limits ------------------------------------------------------- */
#define REPORT_MAX_REASONS CONTRACT_MAX_REASONS /* distinct rejection codes kept */
#define REPORT_MAX_FIELDS 64       /* field values kept per handoff, for suggestions */
#define REPORT_MAX_VALUE 64        /* bytes of a text value kept; longer ones are free text */
#define REPORT_MAX_GROUPS 40       /* keys shown per dimension; the rest fold into "(other)" */
#define REPORT_TREND_MONTHS 6      /* months in the trend, the period's month last */
#define REPORT_MAX_CATEGORIES 16   /* a text field with more distinct values is not a category */
#define REPORT_SUGGEST_MIN 5       /* rejections a gate needs before it gets suggestions */
#define REPORT_SUGGEST_PER_GATE 3  /* suggestions shown per gate */
#define REPORT_SUGGEST_SEPARATION 0.3 /* least separation (Youden's J) worth suggesting */
#define REPORT_MEETING_TARGET 0.30 /* below this meeting rate the review diagnoses (R7) */
#define REPORT_MEETING_DAYS 10     /* business days for a meeting when the contract sets none */

/* ---- the facts ------------------------------------------------------------ */

/* A field value at decision time: a number, or a short text (booleans read
 * as "true"/"false"). */
typedef struct report_field {
    const char *name; /* the contract's path, "account.employees" */
    bool numeric;
    double num;
    const char *text; /* when !numeric */
} report_field;

typedef struct report_handoff {
    uint64_t number;
    const char *lead, *account; /* account NULL when none */
    const char *gate;           /* the gate's name */
    uint32_t version;           /* the contract version that made it */
    const char *owner;          /* the rep the handoff was routed to, else the receiving team */
    const char *source;         /* campaign source (context.campaign / utm), NULL when none */
    time_ms at;
    time_ms released;           /* a needs-context handoff's release; 0 while it waits */
    bool fast, needs_context;
    bool generic_question;      /* the asks line is empty or the contract's default question */
    const report_field *fields;
    uint32_t field_count;
} report_handoff;

typedef struct report_outcome {
    uint64_t handoff;   /* the lead's handoff it concerns; 0 when the lead had none */
    const char *lead;
    uint8_t kind;       /* enum outcome_kind */
    time_ms at;
    const char *reason; /* OUTCOME_REJECTED: the code */
    double amount;      /* OUTCOME_WON (and opportunities): the deal's amount */
    bool returned;      /* a rejection that sent the lead back to an earlier stage */
} report_outcome;

typedef struct report_data report_data;

report_data *report_data_new(void);
void report_data_free(report_data *d);
/* Each copies what it is given. False when memory runs out (the data is
 * unchanged then) or, for a release, when no handoff has that number. */
bool report_data_add_handoff(report_data *d, const report_handoff *h);
bool report_data_add_outcome(report_data *d, const report_outcome *o);
bool report_data_release(report_data *d, uint64_t number, time_ms at);
/* Keeps the latest event time seen; the default "as of". */
void report_data_saw(report_data *d, time_ms t);

size_t report_data_handoff_count(const report_data *d);
const report_handoff *report_data_handoff(const report_data *d, size_t i);
/* The handoff with this number, or NULL. */
const report_handoff *report_data_find(const report_data *d, uint64_t number);
size_t report_data_outcome_count(const report_data *d);
const report_outcome *report_data_outcome(const report_data *d, size_t i);
time_ms report_data_latest(const report_data *d);

/* True when a handoff's question line says nothing the buyer asked: empty,
 * or the contract's default question. For stores filling report_handoff. */
bool report_question_is_generic(const contract *c, const char *asks);

/* ---- the collector: an engine sink that fills report_data -------------------- */
typedef struct report_collector report_collector;

/* Borrows `d` and `c`. The sink it fills points at the collector. */
report_collector *report_collector_new(report_data *d, const contract *c);
void report_collector_free(report_collector *col);
engine_sink report_collector_sink(report_collector *col);
/* False once memory ran out during collection. */
bool report_collector_ok(const report_collector *col);

/* ---- from a store: what `baton serve` recorded (store.c) ------------------------
 * Handoffs from their stored packets, releases and returns from the leads'
 * timelines, outcomes from the stored event log, each tied to the lead's
 * handoff current at the event's time. The decisions are taken as made,
 * whatever contract version made them; `c` (the contract the review runs
 * under) supplies only the stage order, the reason codes and the default
 * question. Uses store operations only; borrows everything. */
struct store;

typedef struct report_store_counts {
    uint64_t handoffs, outcomes, events;
    uint64_t unknown_reasons; /* rejections left out: a code neither the contract nor the timeline knows */
} report_store_counts;

enum report_load { REPORT_LOADED, REPORT_LOAD_STORE, REPORT_LOAD_NOMEM };

/* Fills `d` (normally empty) from `s`. REPORT_LOADED, or with `why` filled:
 * REPORT_LOAD_STORE when a store operation failed or a stored packet or
 * timeline row cannot be read, REPORT_LOAD_NOMEM when memory ran out; `d`
 * may then hold part of the facts and is only fit to be freed. `counts` may
 * be NULL. */
int report_data_from_store(report_data *d, struct store *s, const contract *c, report_store_counts *counts,
                           char *why, size_t why_size);

/* ---- figures ----------------------------------------------------------------- */
typedef struct report_figures {
    uint32_t handoffs, fast;
    uint32_t accepted, rejected, returns;
    uint32_t by_reason[REPORT_MAX_REASONS]; /* report_review_reason() order */
    uint32_t reached;                 /* handed to the team: not waiting for context */
    uint32_t met, missed, pending;    /* R7: meeting within the SLA, over `reached` */
    uint32_t opportunities, won, lost;
    double amount;                    /* won */
    uint32_t touched, sla_met, sla_breached, sla_pending; /* first touch against the SLA */
    duration_ms response_median, response_p90;            /* business time, touched only */
    uint32_t needs_context, released, waiting;            /* R11 */
    duration_ms wait_median, wait_p90, wait_longest;      /* released: elapsed; waiting: so far */
    uint32_t generic_question;
} report_figures;

/* Rates as fractions; -1 when the denominator is 0. */
double report_discard_rate(const report_figures *f);   /* rejected / handoffs */
double report_meeting_rate(const report_figures *f);   /* met / (met + missed); pending left out */
double report_opportunity_rate(const report_figures *f); /* opportunities / handoffs */
double report_sla_rate(const report_figures *f);       /* sla_met / (sla_met + sla_breached) */

/* ---- the review ------------------------------------------------------------------ */
enum report_dim { DIM_GATE, DIM_SOURCE, DIM_OWNER, DIM_VERSION, DIM_COUNT };
const char *report_dim_name(enum report_dim d);

typedef struct report_group {
    const char *key;
    report_figures cur, prev;
} report_group;

typedef struct report_month {
    char label[8]; /* "2026-10" */
    report_figures f;
} report_month;

/* The four causes of a low meeting rate (R7), in the order they are shown. */
enum report_cause { CAUSE_WRONG_LEADS, CAUSE_SLOW_RESPONSE, CAUSE_NO_CONTEXT, CAUSE_NOT_WORKED, CAUSE_COUNT };
const char *report_cause_name(enum report_cause c); /* "wrong leads passed", ... */

typedef struct report_cause_evidence {
    uint32_t misses;      /* missed meetings this cause explains */
    double rate_with, rate_without; /* meeting rate of decided handoffs with and without it; -1 none */
    const char *evidence; /* one or two sentences with the figures */
} report_cause_evidence;

typedef struct report_diagnosis {
    bool low;            /* the meeting rate is below the target */
    double rate, target;
    uint32_t misses;
    int main_cause;      /* enum report_cause, -1 when there are no misses */
    report_cause_evidence causes[CAUSE_COUNT];
} report_diagnosis;

typedef struct report_suggestion {
    const char *gate, *reason, *field;
    bool numeric;
    bool keep_at_least;        /* numeric: require field >= threshold (else <=) */
    double threshold;
    const char *const *values; /* categorical: the values to exclude */
    uint32_t value_count;
    uint32_t target, target_removed; /* rejections for `reason`, and how many the rule removes */
    uint32_t removed, removed_rejected, removed_kept; /* handoffs removed; rejected; not rejected */
    uint32_t removed_meetings; /* removed handoffs that got a meeting in time */
    double separation;
    const char *text;          /* the suggestion in one sentence */
} report_suggestion;

typedef struct report_options {
    /* The period, in local days of the contract's calendar: [from_day, to_day).
     * month: a calendar month, whose previous period is the previous month.
     * Both 0: the month of `as_of`. */
    int64_t from_day, to_day;
    bool month;
    time_ms as_of;         /* facts after it are not known yet; 0: the data's latest */
    double meeting_target; /* 0: REPORT_MEETING_TARGET */
} report_options;

typedef struct report_review {
    const contract *c;
    const report_data *data;
    char label[48], prev_label[48]; /* "2026-10", or "2026-10-01..2026-10-14" */
    time_ms from, to, prev_from, prev_to, as_of;
    const char *timezone;
    sla_figure first_touch, meeting;
    report_figures cur, prev;
    report_group *groups[DIM_COUNT];
    size_t group_count[DIM_COUNT];
    report_month trend[REPORT_TREND_MONTHS];
    size_t trend_count;
    report_diagnosis diagnosis;
    report_suggestion *suggestions;
    size_t suggestion_count;
    const char *const *reasons; /* the reason codes the figures count, contract's first */
    size_t reason_count;
    arena *mem;
} report_review;

/* Computes the review. NULL with `why` filled when the calendar's time zone
 * cannot be loaded or memory runs out. */
report_review *report_review_new(const report_data *d, const contract *c, const report_options *opt, char *why,
                                 size_t why_size);
void report_review_free(report_review *r);
/* The contract's label for a reason code, or the code itself. */
const char *report_reason_label(const report_review *r, size_t reason);

/* Parses "2026-10" into local days [from, to). */
bool report_parse_month(const char *s, int64_t *from_day, int64_t *to_day);

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON, REPORT_CSV, REPORT_HTML, REPORT_FORMAT_COUNT };
/* "text", "md", "json", "csv", "html"; -1 when unknown. */
int report_format_find(const char *name);
void report_render(const report_review *r, enum report_format f, strbuf *out);

/* ---- the what-if diff ---------------------------------------------------------- */

/* What happened to a changed lead after its handoff, from the history. */
typedef struct diff_after {
    uint32_t leads, meetings, rejected, opportunities, won, untouched;
    double amount;
    uint32_t by_reason[REPORT_MAX_REASONS];
} diff_after;

typedef struct diff_gate {
    const char *gate;
    uint32_t before, after;           /* handoffs under A and under B */
    uint32_t gained, lost;            /* made only under B; only under A */
    uint32_t earlier, later, moved_in; /* same lead, B earlier / later; from another gate */
    duration_ms earlier_median, later_median;
    diff_after after_gained, after_lost;
} diff_gate;

/* One changed handoff, for the listing. */
typedef struct diff_change {
    const char *lead, *gate_a, *gate_b; /* a gate NULL when that side made none */
    time_ms at_a, at_b;
    const char *fate; /* what happened afterwards, in words */
} diff_change;

typedef struct report_diff {
    const contract *a, *b;
    diff_gate *gates;
    size_t gate_count;
    uint32_t before, after, gained, lost, earlier, later;
    diff_change *changes;
    size_t change_count;
    const char *const *reasons;
    size_t reason_count;
    arena *mem;
} report_diff;

/* Compares the handoffs of the same history under A (`da`) and B (`db`).
 * Outcomes are read from `da` (they are the history's, the same under
 * both). NULL when memory runs out. */
report_diff *report_diff_new(const report_data *da, const contract *a, const report_data *db, const contract *b);
void report_diff_free(report_diff *d);
/* text or json */
void report_diff_render(const report_diff *d, bool json, strbuf *out);

#endif
