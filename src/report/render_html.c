/* The review as one self-contained HTML page for the monthly meeting's
 * screen: tiles with the headline figures, charts drawn as inline SVG by
 * hand (no script, no fonts or images from the network), the diagnosis, the
 * suggestions, and the tables the text form shows. */
#include "report/internal.h"

#include <math.h>
#include <string.h>

/* Colours, one meaning each across the page. */
#define C_MET "#2e7d32"
#define C_MISSED "#c62828"
#define C_PENDING "#9e9e9e"
#define C_WAITING "#f9a825"
#define C_NOW "#1565c0"
#define C_BEFORE "#b0bec5"
#define C_INK "#263238"
#define C_GRID "#cfd8dc"

#define CHART_WIDTH 560
#define LABEL_WIDTH 140 /* the least room for the labels left of the bars */
#define BAR_AREA 240    /* the most room for the bars */
#define CHAR_WIDTH 7    /* a generous width of one character of svg text, 12px */

static void esc(strbuf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': strbuf_puts(out, "&lt;"); break;
        case '>': strbuf_puts(out, "&gt;"); break;
        case '&': strbuf_puts(out, "&amp;"); break;
        case '"': strbuf_puts(out, "&quot;"); break;
        default: strbuf_putc(out, *s);
        }
    }
}

/* About how wide `s` is as svg text: bytes, counting no UTF-8 continuation. */
static int text_width(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n * CHAR_WIDTH;
}

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:" C_INK ";margin:0;"
    "background:#f5f7f8}\n"
    "main{max-width:1220px;margin:0 auto;padding:24px 28px 48px}\n"
    "h1{font-size:28px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px}\n"
    ".sub{color:#546e7a;margin:0 0 18px;font-size:14px}\n"
    ".tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}\n"
    ".tile{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08);"
    "border-top:4px solid transparent}\n"
    ".tile .k{font-size:13px;line-height:16px;min-height:32px;color:#546e7a}\n"
    ".tile .v{font-size:30px;font-weight:600;margin:4px 0}\n"
    ".tile .d{font-size:13px;color:#546e7a}.tile.bad{border-top:4px solid " C_MISSED "}\n"
    ".tile.good{border-top:4px solid " C_MET "}\n"
    ".grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}\n"
    ".card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}\n"
    ".card h3{font-size:15px;margin:0 0 8px}\n"
    ".cause{margin:8px 0 12px}.cause b{font-size:15px}.cause p{margin:2px 0 0;font-size:13px;color:#37474f}\n"
    ".main{border-left:4px solid " C_MISSED ";padding-left:10px}\n"
    ".sug{background:#fff8e1;border-left:4px solid " C_WAITING ";padding:10px 12px;margin:8px 0;"
    "border-radius:4px;font-size:14px}\n"
    "table{border-collapse:collapse;min-width:66%;font-size:13px;background:#fff}table.wide{width:100%}\n"
    "th,td{padding:5px 8px 5px 14px;border-bottom:1px solid #eceff1;text-align:right;white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "th{background:#eceff1;font-weight:600;white-space:normal;vertical-align:bottom}\n"
    "th:first-child,td:first-child{padding-left:8px}td.in{padding-left:22px;color:#546e7a}\n"
    ".legend{margin:0 0 6px}.legend span{display:inline-block;margin-right:14px;font-size:12px}\n"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}\n"
    "svg text{font-family:inherit;font-size:12px;fill:" C_INK "}\n"
    "@media print{body{background:#fff}}\n";

/* ---- tiles ------------------------------------------------------------------------ */

static void tile(strbuf *out, const char *label, const char *figure, const char *detail, int mood)
{
    strbuf_printf(out, "<div class=\"tile%s\"><div class=\"k\">", mood < 0 ? " bad" : mood > 0 ? " good" : "");
    esc(out, label);
    strbuf_puts(out, "</div><div class=\"v\">");
    esc(out, figure);
    /* The detail's parts, "; " apart, one a line. */
    strbuf_puts(out, "</div><div class=\"d\">");
    for (const char *s = detail; s && *s;) {
        const char *end = strstr(s, "; ");
        size_t n = end ? (size_t)(end - s) : strlen(s);
        char part[256];
        snprintf(part, sizeof part, "%.*s", (int)n, s);
        esc(out, part);
        if (!end) break;
        strbuf_puts(out, "<br>");
        s = end + 2;
    }
    strbuf_puts(out, "</div></div>\n");
}

static void change_pts(char *buf, size_t size, double now, double before, const char *prev)
{
    if (now < 0 || before < 0) snprintf(buf, size, "%s: -", prev);
    else snprintf(buf, size, "%+.0f pts vs %s", floor(now * 100 + 0.5) - floor(before * 100 + 0.5), prev);
}

static void tiles(const report_review *r, strbuf *out)
{
    const report_figures *f = &r->cur, *p = &r->prev;
    char v[64], d[256], a[96], b[32];
    strbuf_puts(out, "<div class=\"tiles\">\n");
    snprintf(v, sizeof v, "%u", f->handoffs);
    snprintf(d, sizeof d, "%+lld vs %s; %u fast-tracked", (long long)f->handoffs - p->handoffs, r->prev_label, f->fast);
    tile(out, "Handoffs", v, d, 0);

    double rate = report_meeting_rate(f);
    fmt_percent(rate, v, sizeof v);
    change_pts(a, sizeof a, rate, report_meeting_rate(p), r->prev_label);
    snprintf(d, sizeof d, "%u of %u decided; %u pending; %s", f->met, f->met + f->missed, f->pending, a);
    tile(out, "Meeting within the SLA (R7)", v, d, rate < 0 ? 0 : rate < r->diagnosis.target ? -1 : 1);

    fmt_percent(report_discard_rate(f), v, sizeof v);
    change_pts(a, sizeof a, report_discard_rate(f), report_discard_rate(p), r->prev_label);
    snprintf(d, sizeof d, "%u rejected, %u returned; %s", f->rejected, f->returns, a);
    tile(out, "Discarded by sales", v, d, 0);

    fmt_percent(report_opportunity_rate(f), v, sizeof v);
    snprintf(d, sizeof d, "opportunities: %u of %u handoffs", f->opportunities, f->handoffs);
    tile(out, "Conversion to opportunity", v, d, 0);

    fmt_amount(f->amount, a, sizeof a);
    snprintf(v, sizeof v, "%u", f->won);
    snprintf(d, sizeof d, "amount %s; %u lost", a, f->lost);
    tile(out, "Won", v, d, 0);

    if (f->touched) fmt_duration(f->response_median, v, sizeof v);
    else snprintf(v, sizeof v, "-");
    fmt_sla(&r->first_touch, a, sizeof a);
    fmt_percent(report_sla_rate(f), b, sizeof b);
    snprintf(d, sizeof d, "median; SLA %s met %s", a, b);
    double sla = report_sla_rate(f);
    tile(out, "First touch", v, d, sla < 0 ? 0 : sla < 0.8 ? -1 : 1);
    strbuf_puts(out, "</div>\n");
}

/* ---- charts ----------------------------------------------------------------------- */

typedef struct series {
    const char *name, *color;
} series;

static void legend(strbuf *out, const series *s, size_t n)
{
    strbuf_puts(out, "<div class=\"legend\">");
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(out, "<span><i style=\"background:%s\"></i>", s[i].color);
        esc(out, s[i].name);
        strbuf_puts(out, "</span>");
    }
    strbuf_puts(out, "</div>\n");
}

/* Horizontal bars, one row per label: the series stacked (counts) or side
 * by side (grouped). The value at the end of each row is `totals[i]`, as
 * written by the caller. */
static void hbars(strbuf *out, const char *const *labels, const char *const *totals, size_t rows, const double *v,
                  const series *s, size_t ns, bool stacked)
{
    double max = 0;
    for (size_t i = 0; i < rows; i++) {
        double sum = 0;
        for (size_t k = 0; k < ns; k++) {
            sum = stacked ? sum + v[i * ns + k] : v[i * ns + k];
            if (sum > max) max = sum;
        }
    }
    if (max <= 0) max = 1;
    /* Room for the longest label, then for the longest text after a full
     * bar, so that both stay inside the chart. */
    int label_width = LABEL_WIDTH, total_width = 0;
    for (size_t i = 0; i < rows; i++) {
        int lw = text_width(labels[i]) + 12, tw = text_width(totals[i]) + 6;
        if (lw > label_width) label_width = lw;
        if (tw > total_width) total_width = tw;
    }
    if (label_width > CHART_WIDTH / 3) label_width = CHART_WIDTH / 3;
    int area = CHART_WIDTH - label_width - total_width;
    if (area > BAR_AREA) area = BAR_AREA;
    if (area < 80) area = 80;
    int band = stacked ? 22 : 12 * (int)ns + 6, gap = 8;
    int height = (int)rows * (band + gap) + 4;
    strbuf_printf(out, "<svg width=\"100%%\" viewBox=\"0 0 %d %d\" role=\"img\">\n", CHART_WIDTH, height);
    for (size_t i = 0; i < rows; i++) {
        int y = (int)i * (band + gap) + 2;
        /* A label too long for its column is squeezed, not run into the bars. */
        strbuf_printf(out, "<text x=\"0\" y=\"%d\" dominant-baseline=\"middle\"", y + band / 2);
        if (text_width(labels[i]) > label_width - 12)
            strbuf_printf(out, " textLength=\"%d\" lengthAdjust=\"spacingAndGlyphs\"", label_width - 12);
        strbuf_putc(out, '>');
        esc(out, labels[i]);
        strbuf_puts(out, "</text>\n");
        double x = label_width;
        double end = label_width;
        for (size_t k = 0; k < ns; k++) {
            double w = v[i * ns + k] / max * area;
            if (w <= 0) continue;
            if (stacked) {
                strbuf_printf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>\n", x, y, w,
                              band, s[k].color);
                x += w;
                end = x;
            } else {
                strbuf_printf(out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"11\" fill=\"%s\"/>\n", label_width,
                              y + 3 + 12 * (int)k, w, s[k].color);
                if (label_width + w > end) end = label_width + w;
            }
        }
        strbuf_printf(out, "<text x=\"%.1f\" y=\"%d\" dominant-baseline=\"middle\">", end + 6, y + band / 2);
        esc(out, totals[i]);
        strbuf_puts(out, "</text>\n");
    }
    strbuf_puts(out, "</svg>\n");
}

/* Meeting rate by month as columns, with the target as a dashed line. */
static void trend_chart(const report_review *r, strbuf *out)
{
    /* The plot stops short of the right edge, where the target line is named. */
    const int w = CHART_WIDTH, h = 232, left = 40, right = w - 52, bottom = 52, top = 16;
    const int plot = h - bottom - top;
    strbuf_printf(out, "<svg width=\"100%%\" viewBox=\"0 0 %d %d\" role=\"img\">\n", w, h);
    for (int pct = 0; pct <= 100; pct += 25) {
        int y = top + plot - plot * pct / 100;
        strbuf_printf(out,
                      "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\"/><text x=\"%d\" y=\"%d\" "
                      "text-anchor=\"end\" dominant-baseline=\"middle\">%d%%</text>\n",
                      left, y, right, y, C_GRID, left - 6, y, pct);
    }
    size_t n = r->trend_count ? r->trend_count : 1;
    double slot = (double)(right - left - 16) / (double)n;
    for (size_t i = 0; i < r->trend_count; i++) {
        const report_figures *f = &r->trend[i].f;
        double rate = report_meeting_rate(f);
        double x = left + 8 + slot * (double)i, bw = slot * 0.6;
        if (rate >= 0) {
            double bh = plot * rate;
            bool low = rate < r->diagnosis.target;
            strbuf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x,
                          top + plot - bh, bw, bh, low ? C_MISSED : C_MET);
            char pct[16];
            fmt_percent(rate, pct, sizeof pct);
            /* Haloed, to stay legible where the target line crosses it. */
            strbuf_printf(out,
                          "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                          "style=\"paint-order:stroke;stroke:#fff;stroke-width:4px\">%s</text>\n",
                          x + bw / 2, top + plot - bh - 5, pct);
        }
        strbuf_printf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", x + bw / 2,
                      h - bottom + 16, r->trend[i].label);
        /* Two short lines, so that six months side by side do not run together. */
        strbuf_printf(out,
                      "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" style=\"fill:#607d8b;font-size:11px\">"
                      "%u of %u</text>\n<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                      "style=\"fill:#607d8b;font-size:11px\">%u pending</text>\n",
                      x + bw / 2, h - bottom + 30, f->met, f->met + f->missed, x + bw / 2, h - bottom + 43, f->pending);
    }
    int ty = top + plot - (int)(plot * r->diagnosis.target);
    strbuf_printf(out,
                  "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\" "
                  "stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%d\" dominant-baseline=\"middle\">target</text>\n",
                  left, ty, right, ty, C_INK, right + 6, ty);
    strbuf_puts(out, "</svg>\n");
}

static void card_open(strbuf *out, const char *title)
{
    strbuf_puts(out, "<div class=\"card\"><h3>");
    esc(out, title);
    strbuf_puts(out, "</h3>\n");
}

/* The rows of a bar chart, in the review's arena: a label, the text at the
 * end of the bar, and `ns` values per row. */
typedef struct bars {
    const char **labels, **totals;
    double *v;
    size_t rows, ns;
} bars;

static bool bars_init(const report_review *r, bars *b, size_t rows, size_t ns)
{
    b->rows = 0;
    b->ns = ns;
    b->labels = arena_alloc(r->mem, (rows + 1) * sizeof *b->labels);
    b->totals = arena_alloc(r->mem, (rows + 1) * sizeof *b->totals);
    b->v = arena_alloc(r->mem, (rows + 1) * ns * sizeof *b->v);
    return b->labels && b->totals && b->v;
}

/* A card with a legend and the chart, or `empty` when there are no rows. */
static void bars_card(strbuf *out, const bars *b, const char *title, const char *note, const series *s, bool stacked,
                      const char *empty)
{
    card_open(out, title);
    if (note) {
        strbuf_puts(out, "<div class=\"sub\" style=\"margin:0 0 6px\">");
        esc(out, note);
        strbuf_puts(out, "</div>\n");
    }
    legend(out, s, b->ns);
    if (b->rows) hbars(out, b->labels, b->totals, b->rows, b->v, s, b->ns, stacked);
    else strbuf_printf(out, "<p>%s</p>\n", empty);
    strbuf_puts(out, "</div>\n");
}

/* Where each gate's handoffs stand on R7. */
static void gates_chart(const report_review *r, strbuf *out)
{
    static const series s[] = {{"meeting in time", C_MET},
                               {"missed", C_MISSED},
                               {"pending", C_PENDING},
                               {"waiting for context", C_WAITING}};
    size_t n = r->group_count[DIM_GATE];
    bars b;
    if (!bars_init(r, &b, n, ARRAY_LEN(s))) return;
    for (size_t i = 0; i < n; i++) {
        const report_group *g = &r->groups[DIM_GATE][i];
        const report_figures *f = &g->cur;
        if (!f->handoffs) continue;
        char pct[16];
        fmt_percent(report_meeting_rate(f), pct, sizeof pct);
        b.labels[b.rows] = g->key;
        b.totals[b.rows] = arena_printf(r->mem, "%u handoffs, %s", f->handoffs, pct);
        double *row = b.v + b.rows++ * b.ns;
        row[0] = f->met;
        row[1] = f->missed;
        row[2] = f->pending;
        row[3] = f->handoffs - f->reached;
    }
    bars_card(out, &b, "Handoffs by gate: where they stand on R7", NULL, s, true, "No handoffs in the period.");
}

static void reasons_chart(const report_review *r, strbuf *out)
{
    series s[] = {{r->label, C_NOW}, {r->prev_label, C_BEFORE}};
    bars b;
    if (!bars_init(r, &b, r->reason_count, ARRAY_LEN(s))) return;
    for (size_t i = 0; i < r->reason_count; i++) {
        uint32_t now = r->cur.by_reason[i], before = r->prev.by_reason[i];
        if (!now && !before) continue;
        b.labels[b.rows] = r->reasons[i];
        b.totals[b.rows] = arena_printf(r->mem, "%u (%u before)", now, before);
        b.v[b.rows * 2] = now;
        b.v[b.rows++ * 2 + 1] = before;
    }
    bars_card(out, &b, "Rejections by reason", NULL, s, false, "No rejections in either period.");
}

static void touch_chart(const report_review *r, strbuf *out)
{
    static const series s[] = {{"median", C_NOW}, {"p90", C_BEFORE}};
    size_t n = r->group_count[DIM_GATE];
    bars b;
    if (!bars_init(r, &b, n, ARRAY_LEN(s))) return;
    for (size_t i = 0; i < n; i++) {
        const report_figures *f = &r->groups[DIM_GATE][i].cur;
        if (!f->touched) continue;
        char med[16], p90[16], pct[16];
        fmt_duration(f->response_median, med, sizeof med);
        fmt_duration(f->response_p90, p90, sizeof p90);
        fmt_percent(report_sla_rate(f), pct, sizeof pct);
        b.labels[b.rows] = r->groups[DIM_GATE][i].key;
        b.totals[b.rows] = arena_printf(r->mem, "%s / %s, SLA met %s", med, p90, pct);
        b.v[b.rows * 2] = (double)f->response_median / MS_PER_HOUR;
        b.v[b.rows++ * 2 + 1] = (double)f->response_p90 / MS_PER_HOUR;
    }
    char sla[48], note[64];
    fmt_sla(&r->first_touch, sla, sizeof sla);
    snprintf(note, sizeof note, "SLA: %s", sla);
    bars_card(out, &b, "First touch by gate (business time)", note, s, false, "No first touch logged in the period.");
}

/* ---- diagnosis and suggestions ---------------------------------------------------- */

static void diagnosis(const report_review *r, strbuf *out)
{
    const report_diagnosis *d = &r->diagnosis;
    card_open(out, "Why meetings are missed (R7)");
    char rate[16], target[16];
    fmt_percent(d->rate, rate, sizeof rate);
    fmt_percent(d->target, target, sizeof target);
    if (d->rate < 0) {
        strbuf_puts(out, "<p>No handoff of the period is decided yet.</p></div>\n");
        return;
    }
    strbuf_printf(out, "<p>Meeting rate <b>%s</b> against a %s target: %s.</p>\n", rate, target,
                  d->low ? "too low, and the evidence below says why" : "on target; the misses, for the record");
    static const series s[] = {{"misses it explains", C_MISSED}};
    const char *labels[CAUSE_COUNT], *totals[CAUSE_COUNT];
    double v[CAUSE_COUNT];
    for (int c = 0; c < CAUSE_COUNT; c++) {
        labels[c] = report_cause_name((enum report_cause)c);
        totals[c] = arena_printf(r->mem, "%u of %u", d->causes[c].misses, d->misses);
        v[c] = d->causes[c].misses;
    }
    hbars(out, labels, totals, CAUSE_COUNT, v, s, 1, true);
    for (int c = 0; c < CAUSE_COUNT; c++) {
        strbuf_printf(out, "<div class=\"cause%s\"><b>", c == d->main_cause ? " main" : "");
        esc(out, report_cause_name((enum report_cause)c));
        if (c == d->main_cause) strbuf_puts(out, " (main cause)");
        strbuf_puts(out, "</b><p>");
        esc(out, d->causes[c].evidence);
        strbuf_puts(out, "</p></div>\n");
    }
    strbuf_puts(out, "</div>\n");
}

static void suggestions(const report_review *r, strbuf *out)
{
    card_open(out, "What to tighten, from the rejections (R12)");
    if (!r->suggestion_count)
        strbuf_printf(out, "<p>No gate had %d or more rejections with a field that tells them apart from the "
                           "handoffs sales kept.</p>\n",
                      REPORT_SUGGEST_MIN);
    for (size_t i = 0; i < r->suggestion_count; i++) {
        strbuf_puts(out, "<div class=\"sug\">");
        esc(out, r->suggestions[i].text);
        strbuf_puts(out, "</div>\n");
    }
    strbuf_puts(out, "</div>\n");
}

/* ---- tables ------------------------------------------------------------------------ */

static void html_table(strbuf *out, const table *t, const char *title)
{
    strbuf_puts(out, "<h2>");
    esc(out, title ? title : t->title);
    strbuf_puts(out, "</h2>\n");
    if (!t->rows) {
        strbuf_puts(out, "<p>None in the period.</p>\n");
        return;
    }
    /* Few columns keep their width, so that a row reads across; many fill the page. */
    strbuf_puts(out, t->cols > 8 ? "<table class=\"wide\"><tr>" : "<table><tr>");
    for (size_t c = 0; c < t->cols; c++) {
        strbuf_puts(out, "<th>");
        esc(out, t->head[c]);
        strbuf_puts(out, "</th>");
    }
    strbuf_puts(out, "</tr>\n");
    for (size_t row = 0; row < t->rows; row++) {
        strbuf_puts(out, "<tr>");
        for (size_t c = 0; c < t->cols; c++) {
            strbuf_puts(out, c == 0 && t->sub[row] ? "<td class=\"in\">" : "<td>");
            esc(out, t->cells[row][c]);
            strbuf_puts(out, "</td>");
        }
        strbuf_puts(out, "</tr>\n");
    }
    strbuf_puts(out, "</table>\n");
}

void render_html(const report_review *r, strbuf *out)
{
    const contract_info *about = contract_about(r->c);
    char as_of[48], meeting[48];
    fmt_local_time(r, r->as_of, as_of, sizeof as_of);
    fmt_sla(&r->meeting, meeting, sizeof meeting);
    strbuf_puts(out, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
    esc(out, about->name);
    strbuf_printf(out, " handoff review %s</title>\n<style>\n%s</style></head>\n<body><main>\n<h1>", r->label, style);
    esc(out, about->name);
    strbuf_printf(out, " v%u: handoff review for %s</h1>\n<p class=\"sub\">Against %s. As of ", about->version, r->label,
                  r->prev_label);
    esc(out, as_of);
    strbuf_puts(out, "; calendar ");
    esc(out, r->timezone);
    strbuf_puts(out, ". A meeting is due within ");
    esc(out, meeting);
    strbuf_puts(out, " of the handoff reaching its team; handoffs still inside that time are pending, not "
                     "failures.</p>\n");
    tiles(r, out);

    strbuf_puts(out, "<h2>The meeting rate and why</h2>\n<div class=\"grid\">\n");
    card_open(out, "Meeting within the SLA, by month");
    trend_chart(r, out);
    strbuf_puts(out, "</div>\n");
    diagnosis(r, out);
    strbuf_puts(out, "</div>\n<h2>Rejections and handoffs</h2>\n<div class=\"grid\">\n");
    reasons_chart(r, out);
    gates_chart(r, out);
    suggestions(r, out);
    touch_chart(r, out);
    strbuf_puts(out, "</div>\n");

    table t;
    tables_summary(r, &t);
    html_table(out, &t, "All figures");
    tables_gate_reasons(r, &t);
    html_table(out, &t, NULL);
    static const char *const titles[DIM_COUNT] = {"By gate", "By source", "By owner", "By contract version"};
    for (int d = 0; d < DIM_COUNT; d++) {
        tables_dimension(r, (enum report_dim)d, &t);
        html_table(out, &t, titles[d]);
    }
    tables_trend(r, &t);
    html_table(out, &t, NULL);
    strbuf_puts(out, "</main></body></html>\n");
}
