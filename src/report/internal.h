/* report: what the files of the module share. */
#ifndef BATON_REPORT_INTERNAL_H
#define BATON_REPORT_INTERNAL_H

#include "calendar/calendar.h"
#include "report/report.h"

/* Where a handoff stands on a deadline, as of the review's time. */
enum due_state {
    DUE_NONE,    /* the team never got it (waiting for context), or no SLA */
    DUE_MET,
    DUE_MISSED,
    DUE_PENDING, /* still inside its time */
};

/* What became of one handoff, as of the review's time: the first outcome of
 * each kind that names it, and its deadlines. Times are 0 when absent. */
typedef struct fate {
    time_ms start; /* reached the team: the handoff, or its release; 0 while waiting */
    time_ms accepted, rejected, touch, meeting, opportunity, won, lost;
    int reason;    /* index into the review's reasons, -1 */
    bool returned;
    double amount;
    time_ms touch_due, meeting_due;
    uint8_t meeting_state, touch_state; /* enum due_state */
    duration_ms response;               /* start to first touch, business time */
} fate;

/* The review being built: the facts, the calendar and one fate per handoff
 * (in report_data_handoff() order). */
typedef struct review_work {
    report_review *r;
    const report_data *d;
    const calendar *cal;
    fate *fates;
    size_t handoff_count;
    duration_ms *scratch; /* handoff_count entries, for percentiles */
} review_work;

/* figures.c */
bool fates_compute(review_work *w);
/* Figures over the handoffs listed by index. */
void figures_compute(const review_work *w, const uint32_t *which, size_t n, report_figures *out);
/* Nearest-rank percentile (0 < p <= 1) of n durations, sorted in place. */
duration_ms percentile(duration_ms *v, size_t n, double p);
int reason_index(const report_review *r, const char *code);
/* "2026-10" for the local month holding t. */
void month_label(const calendar *cal, time_ms t, char out[8]);

/* diagnose.c */
void diagnose(review_work *w, const uint32_t *which, size_t n);
/* suggest.c */
bool suggest(review_work *w, const uint32_t *which, size_t n);

/* format.c: numbers and durations in words, shared by the renderers */
void fmt_duration(duration_ms d, char *buf, size_t size); /* "2.5h", "3.0d", "45m" */
void fmt_percent(double rate, char *buf, size_t size);    /* "41%", "–" for -1 */
void fmt_amount(double amount, char *buf, size_t size);   /* "1,240,500" */
void fmt_sla(const sla_figure *f, char *buf, size_t size); /* "4 business hours" */
void fmt_number(double v, char *buf, size_t size);         /* "200", "0.75" */

/* tables.c: the review's tables as cells, which each renderer lays out. */
#define TABLE_MAX_ROWS (REPORT_MAX_GROUPS + 8)
#define TABLE_MAX_COLS (REPORT_MAX_REASONS + 2)

typedef struct table {
    const char *title;
    const char *head[TABLE_MAX_COLS];
    const char *cells[TABLE_MAX_ROWS][TABLE_MAX_COLS]; /* NULL reads as empty */
    size_t rows, cols;
    bool sub[TABLE_MAX_ROWS]; /* a detail row under the one above */
    arena *mem;
} table;

void table_init(table *t, arena *mem, const char *title, const char *const *head, size_t cols);
/* Adds a row; each cell is printf-formatted in turn from `fmt`'s
 * tab-separated parts, e.g. "%s\t%u\t%s". False when the table is full. */
bool table_row(table *t, bool sub, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

void tables_summary(const report_review *r, table *t);
void tables_dimension(const report_review *r, enum report_dim dim, table *t);
void tables_reasons(const report_review *r, table *t);
void tables_gate_reasons(const report_review *r, table *t);
void tables_trend(const report_review *r, table *t);
/* "2026-12-01 14:00 America/New_York" */
void fmt_local_time(const report_review *r, time_ms t, char *buf, size_t size);

/* One figure for machines (JSON, CSV): its key and its value. */
typedef struct figure_column {
    const char *key;
    double (*get)(const report_figures *f);
    bool integer; /* a count, printed without decimals */
} figure_column;
extern const figure_column figure_columns[];
extern const size_t figure_column_count;
/* The cause's key for machines: "wrong_leads", ... */
const char *cause_key(enum report_cause c);

/* render_*.c: one per format */
void render_text(const report_review *r, strbuf *out);
void render_markdown(const report_review *r, strbuf *out);
void render_json(const report_review *r, strbuf *out);
void render_csv(const report_review *r, strbuf *out);
void render_html(const report_review *r, strbuf *out);
/* A number for JSON: integers plainly, others to at most 4 decimals; null for rates of -1. */
void json_number(strbuf *out, double v, bool integer);

#endif
