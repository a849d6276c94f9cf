/* The review's tables as cells: what every human-facing renderer shows, so
 * text, Markdown and HTML say the same thing in the same words. */
#include "report/internal.h"

#include <math.h>
#include <string.h>

void table_init(table *t, arena *mem, const char *title, const char *const *head, size_t cols)
{
    memset(t, 0, sizeof *t);
    t->mem = mem;
    t->title = title;
    t->cols = cols < TABLE_MAX_COLS ? cols : TABLE_MAX_COLS;
    for (size_t i = 0; i < t->cols; i++) t->head[i] = head[i];
}

bool table_row(table *t, bool sub, const char *fmt, ...)
{
    if (t->rows >= TABLE_MAX_ROWS) return false;
    strbuf b;
    strbuf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    const char *p = b.data ? b.data : "";
    size_t row = t->rows++;
    t->sub[row] = sub;
    for (size_t c = 0; c < t->cols; c++) {
        const char *tab = strchr(p, '\t');
        size_t n = tab ? (size_t)(tab - p) : strlen(p);
        t->cells[row][c] = arena_strndup(t->mem, p, n);
        if (!tab) break;
        p = tab + 1;
    }
    strbuf_free(&b);
    return true;
}

void fmt_local_time(const report_review *r, time_ms t, char *buf, size_t size)
{
    char iso[40];
    time_format(t, iso, sizeof iso);
    snprintf(buf, size, "%.10s %.5s UTC", iso, iso + 11);
}

/* ---- cells ---------------------------------------------------------------------- */

/* "30 (25%)" */
static void count_rate(char *buf, size_t size, uint32_t n, double rate)
{
    char pct[16];
    fmt_percent(rate, pct, sizeof pct);
    if (rate < 0) snprintf(buf, size, "%u", n);
    else snprintf(buf, size, "%u (%s)", n, pct);
}

/* "45% (40 of 89)" */
static void rate_of(char *buf, size_t size, uint32_t part, uint32_t whole)
{
    char pct[16];
    fmt_percent(whole ? (double)part / whole : -1, pct, sizeof pct);
    if (!whole) snprintf(buf, size, "-");
    else snprintf(buf, size, "%s (%u of %u)", pct, part, whole);
}

static void change_count(char *buf, size_t size, uint32_t now, uint32_t before)
{
    long long d = (long long)now - (long long)before;
    if (!d) snprintf(buf, size, "=");
    else snprintf(buf, size, "%+lld", d);
}

static void change_rate(char *buf, size_t size, double now, double before)
{
    if (now < 0 || before < 0) {
        snprintf(buf, size, "-");
        return;
    }
    double pts = floor(now * 100 + 0.5) - floor(before * 100 + 0.5);
    if (pts == 0) snprintf(buf, size, "=");
    else snprintf(buf, size, "%+.0f pts", pts);
}

static void change_duration(char *buf, size_t size, duration_ms now, duration_ms before, bool known)
{
    if (!known) {
        snprintf(buf, size, "-");
        return;
    }
    char d[16];
    fmt_duration(now > before ? now - before : before - now, d, sizeof d);
    if (now == before) snprintf(buf, size, "=");
    else snprintf(buf, size, "%s%s", now > before ? "+" : "-", d);
}

/* ---- the summary ----------------------------------------------------------------- */

/* One summary row: its label, its cell for a period, and its change. */
typedef struct summary_row {
    const char *label;
    bool sub;
    void (*cell)(const report_review *r, const report_figures *f, char *buf, size_t size);
    void (*change)(const report_figures *now, const report_figures *before, char *buf, size_t size);
} summary_row;

static void cell_handoffs(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->handoffs);
}
static void cell_fast(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->fast);
}
static void cell_accepted(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->accepted);
}
static void cell_rejected(const report_review *r, const report_figures *f, char *b, size_t n)
{
    count_rate(b, n, f->rejected, report_discard_rate(f));
}
static void cell_returns(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->returns);
}
static void cell_meeting(const report_review *r, const report_figures *f, char *b, size_t n)
{
    rate_of(b, n, f->met, f->met + f->missed);
}
static void cell_pending(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->pending);
}
static void cell_opportunities(const report_review *r, const report_figures *f, char *b, size_t n)
{
    count_rate(b, n, f->opportunities, report_opportunity_rate(f));
}
static void cell_won(const report_review *r, const report_figures *f, char *b, size_t n)
{
    char amount[32];
    fmt_amount(f->amount, amount, sizeof amount);
    if (f->won) snprintf(b, n, "%u (%s)", f->won, amount);
    else snprintf(b, n, "0");
}
/* "1.0h / 7.0h", or "-" when nothing was measured */
static void median_p90(char *b, size_t n, uint32_t measured, duration_ms median, duration_ms p90)
{
    char x[16], y[16];
    fmt_duration(median, x, sizeof x);
    fmt_duration(p90, y, sizeof y);
    if (measured) snprintf(b, n, "%s / %s", x, y);
    else snprintf(b, n, "-");
}
static void cell_touch(const report_review *r, const report_figures *f, char *b, size_t n)
{
    median_p90(b, n, f->touched, f->response_median, f->response_p90);
}
static void cell_sla(const report_review *r, const report_figures *f, char *b, size_t n)
{
    if (!r->first_touch.set) snprintf(b, n, "no SLA");
    else rate_of(b, n, f->sla_met, f->sla_met + f->sla_breached);
}
static void cell_context(const report_review *r, const report_figures *f, char *b, size_t n)
{
    if (f->needs_context) snprintf(b, n, "%u (%u released, %u waiting)", f->needs_context, f->released, f->waiting);
    else snprintf(b, n, "0");
}
static void cell_wait(const report_review *r, const report_figures *f, char *b, size_t n)
{
    median_p90(b, n, f->released, f->wait_median, f->wait_p90);
}
static void cell_generic(const report_review *r, const report_figures *f, char *b, size_t n)
{
    snprintf(b, n, "%u", f->generic_question);
}

static void ch_handoffs(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_count(b, n, x->handoffs, y->handoffs);
}
static void ch_accepted(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_count(b, n, x->accepted, y->accepted);
}
static void ch_discard(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_rate(b, n, report_discard_rate(x), report_discard_rate(y));
}
static void ch_returns(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_count(b, n, x->returns, y->returns);
}
static void ch_meeting(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_rate(b, n, report_meeting_rate(x), report_meeting_rate(y));
}
static void ch_opportunity(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_rate(b, n, report_opportunity_rate(x), report_opportunity_rate(y));
}
static void ch_won(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_count(b, n, x->won, y->won);
}
static void ch_touch(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_duration(b, n, x->response_median, y->response_median, x->touched && y->touched);
}
static void ch_sla(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_rate(b, n, report_sla_rate(x), report_sla_rate(y));
}
static void ch_context(const report_figures *x, const report_figures *y, char *b, size_t n)
{
    change_count(b, n, x->needs_context, y->needs_context);
}

static const summary_row summary_rows[] = {
    {"handoffs", false, cell_handoffs, ch_handoffs},
    {"fast-tracked", true, cell_fast, NULL},
    {"accepted", false, cell_accepted, ch_accepted},
    {"rejected (discard rate)", false, cell_rejected, ch_discard},
    {"returned to marketing", true, cell_returns, ch_returns},
    {"meeting within the SLA (R7)", false, cell_meeting, ch_meeting},
    {"pending, still inside the SLA", true, cell_pending, NULL},
    {"opportunities (conversion)", false, cell_opportunities, ch_opportunity},
    {"won (amount)", false, cell_won, ch_won},
    {"first touch, median / p90", false, cell_touch, ch_touch},
    {"first touch within the SLA", true, cell_sla, ch_sla},
    {"needs context (R11)", false, cell_context, ch_context},
    {"wait until released, median / p90", true, cell_wait, NULL},
    {"no question of the buyer's own", false, cell_generic, NULL},
};

void tables_summary(const report_review *r, table *t)
{
    const char *head[] = {"figure", r->label, r->prev_label, "change"};
    table_init(t, r->mem, "The figures", head, 4);
    for (size_t i = 0; i < ARRAY_LEN(summary_rows); i++) {
        const summary_row *row = &summary_rows[i];
        char now[96], before[96], change[32] = "";
        row->cell(r, &r->cur, now, sizeof now);
        row->cell(r, &r->prev, before, sizeof before);
        if (row->change) row->change(&r->cur, &r->prev, change, sizeof change);
        table_row(t, row->sub, "%s\t%s\t%s\t%s", row->label, now, before, change);
    }
}

/* ---- by dimension ------------------------------------------------------------------ */

/* The cells the slice tables and the trend share. */
typedef struct common_cells {
    char rejected[64], meeting[64], opp[64], won[64], touch[64];
} common_cells;

static void fill_common(const report_review *r, const report_figures *f, common_cells *x)
{
    cell_rejected(r, f, x->rejected, sizeof x->rejected);
    cell_meeting(r, f, x->meeting, sizeof x->meeting);
    cell_opportunities(r, f, x->opp, sizeof x->opp);
    cell_won(r, f, x->won, sizeof x->won);
    cell_touch(r, f, x->touch, sizeof x->touch);
}

void tables_dimension(const report_review *r, enum report_dim dim, table *t)
{
    static const char *const head[] = {"", "handoffs", "change", "rejected", "returns", "meeting in SLA", "pending",
                                       "opportunities", "won", "first touch", "SLA met", "needs context"};
    table_init(t, r->mem, NULL, head, ARRAY_LEN(head));
    t->head[0] = report_dim_name(dim);
    for (size_t i = 0; i < r->group_count[dim]; i++) {
        const report_group *g = &r->groups[dim][i];
        const report_figures *f = &g->cur;
        char change[32], sla[64];
        common_cells x;
        fill_common(r, f, &x);
        change_count(change, sizeof change, f->handoffs, g->prev.handoffs);
        cell_sla(r, f, sla, sizeof sla);
        table_row(t, false, "%s\t%u\t%s\t%s\t%u\t%s\t%u\t%s\t%s\t%s\t%s\t%u", g->key, f->handoffs, change,
                  x.rejected, f->returns, x.meeting, f->pending, x.opp, x.won, x.touch, sla, f->needs_context);
    }
}

/* ---- rejections ------------------------------------------------------------------- */

void tables_reasons(const report_review *r, table *t)
{
    const char *head[] = {"reason", "", r->label, r->prev_label, "change"};
    table_init(t, r->mem, "Rejections by reason", head, 5);
    for (size_t i = 0; i < r->reason_count; i++) {
        uint32_t now = r->cur.by_reason[i], before = r->prev.by_reason[i];
        if (!now && !before) continue;
        char change[16];
        change_count(change, sizeof change, now, before);
        table_row(t, false, "%s\t%s\t%u\t%u\t%s", r->reasons[i], report_reason_label(r, i), now, before, change);
    }
}

void tables_gate_reasons(const report_review *r, table *t)
{
    const char *head[TABLE_MAX_COLS] = {"gate"};
    size_t used[REPORT_MAX_REASONS], n = 0;
    for (size_t i = 0; i < r->reason_count && n + 2 < TABLE_MAX_COLS; i++)
        if (r->cur.by_reason[i]) {
            used[n] = i;
            head[++n] = r->reasons[i];
        }
    head[n + 1] = "discard rate";
    table_init(t, r->mem, "Rejections by gate and reason", head, n + 2);
    if (!r->cur.rejected) return; /* "none in the period" says it better than a column of zeros */
    for (size_t g = 0; g < r->group_count[DIM_GATE]; g++) {
        const report_group *grp = &r->groups[DIM_GATE][g];
        if (!grp->cur.handoffs) continue;
        strbuf b;
        strbuf_init(&b);
        strbuf_puts(&b, grp->key);
        for (size_t k = 0; k < n; k++) strbuf_printf(&b, "\t%u", grp->cur.by_reason[used[k]]);
        char pct[16];
        fmt_percent(report_discard_rate(&grp->cur), pct, sizeof pct);
        strbuf_printf(&b, "\t%s", pct);
        table_row(t, false, "%s", b.data ? b.data : "");
        strbuf_free(&b);
    }
}

/* ---- the trend --------------------------------------------------------------------- */

void tables_trend(const report_review *r, table *t)
{
    static const char *const head[] = {"month", "handoffs", "rejected", "meeting in SLA", "pending", "opportunities",
                                       "won", "first touch"};
    table_init(t, r->mem, "By month", head, ARRAY_LEN(head));
    for (size_t i = 0; i < r->trend_count; i++) {
        const report_figures *f = &r->trend[i].f;
        common_cells x;
        fill_common(r, f, &x);
        table_row(t, false, "%s\t%u\t%s\t%s\t%u\t%s\t%s\t%s", r->trend[i].label, f->handoffs, x.rejected,
                  x.meeting, f->pending, x.opp, x.won, x.touch);
    }
}

/* ---- figures for machines ------------------------------------------------------------- */

#define COUNT_GETTER(field)                                                                                        \
    static double get_##field(const report_figures *f) { return f->field; }
COUNT_GETTER(handoffs)
COUNT_GETTER(fast)
COUNT_GETTER(accepted)
COUNT_GETTER(rejected)
COUNT_GETTER(returns)
COUNT_GETTER(reached)
COUNT_GETTER(met)
COUNT_GETTER(missed)
COUNT_GETTER(pending)
COUNT_GETTER(opportunities)
COUNT_GETTER(won)
COUNT_GETTER(lost)
COUNT_GETTER(amount)
COUNT_GETTER(touched)
COUNT_GETTER(sla_met)
COUNT_GETTER(sla_breached)
COUNT_GETTER(sla_pending)
COUNT_GETTER(needs_context)
COUNT_GETTER(released)
COUNT_GETTER(waiting)
COUNT_GETTER(generic_question)
#undef COUNT_GETTER

static double hours(duration_ms d)
{
    return floor((double)d / MS_PER_HOUR * 100 + 0.5) / 100;
}
static double get_response_median(const report_figures *f) { return hours(f->response_median); }
static double get_response_p90(const report_figures *f) { return hours(f->response_p90); }
static double get_wait_median(const report_figures *f) { return hours(f->wait_median); }
static double get_wait_p90(const report_figures *f) { return hours(f->wait_p90); }
static double get_wait_longest(const report_figures *f) { return hours(f->wait_longest); }

const figure_column figure_columns[] = {
    {"handoffs", get_handoffs, true},
    {"fast_tracked", get_fast, true},
    {"accepted", get_accepted, true},
    {"rejected", get_rejected, true},
    {"discard_rate", report_discard_rate, false},
    {"returns", get_returns, true},
    {"reached_team", get_reached, true},
    {"meetings_in_sla", get_met, true},
    {"meetings_missed", get_missed, true},
    {"meetings_pending", get_pending, true},
    {"meeting_rate", report_meeting_rate, false},
    {"opportunities", get_opportunities, true},
    {"opportunity_rate", report_opportunity_rate, false},
    {"won", get_won, true},
    {"lost", get_lost, true},
    {"won_amount", get_amount, false},
    {"touched", get_touched, true},
    {"first_touch_median_hours", get_response_median, false},
    {"first_touch_p90_hours", get_response_p90, false},
    {"sla_met", get_sla_met, true},
    {"sla_breached", get_sla_breached, true},
    {"sla_pending", get_sla_pending, true},
    {"sla_rate", report_sla_rate, false},
    {"needs_context", get_needs_context, true},
    {"released", get_released, true},
    {"still_waiting", get_waiting, true},
    {"wait_median_hours", get_wait_median, false},
    {"wait_p90_hours", get_wait_p90, false},
    {"longest_wait_hours", get_wait_longest, false},
    {"no_buyer_question", get_generic_question, true},
};
const size_t figure_column_count = ARRAY_LEN(figure_columns);
