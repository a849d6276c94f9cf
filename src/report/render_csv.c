/* The review's figures as CSV, one row per slice: the whole period and the
 * one before, each gate, source, owner and contract version, each month of
 * the trend. Columns: slice, key, period, then every figure, then the
 * rejections for each reason. For spreadsheets. */
#include "report/internal.h"

static void row(const report_review *r, const char *slice, const char *key, const char *period,
                const report_figures *f, strbuf *out)
{
    strbuf_csv_field(out, slice, false);
    strbuf_putc(out, ',');
    strbuf_csv_field(out, key, false);
    strbuf_putc(out, ',');
    strbuf_csv_field(out, period, false);
    for (size_t i = 0; i < figure_column_count; i++) {
        strbuf_putc(out, ',');
        double v = figure_columns[i].get(f);
        if (figure_columns[i].integer || v >= 0) json_number(out, v, figure_columns[i].integer);
    }
    for (size_t i = 0; i < r->reason_count; i++) strbuf_printf(out, ",%u", f->by_reason[i]);
    strbuf_putc(out, '\n');
}

void render_csv(const report_review *r, strbuf *out)
{
    strbuf_puts(out, "slice,key,period");
    for (size_t i = 0; i < figure_column_count; i++) strbuf_printf(out, ",%s", figure_columns[i].key);
    for (size_t i = 0; i < r->reason_count; i++) {
        strbuf_puts(out, ",");
        strbuf_puts(out, "rejected_");
        strbuf_puts(out, r->reasons[i]);
    }
    strbuf_putc(out, '\n');
    row(r, "all", "", r->label, &r->cur, out);
    row(r, "all", "", r->prev_label, &r->prev, out);
    for (int d = 0; d < DIM_COUNT; d++)
        for (size_t i = 0; i < r->group_count[d]; i++) {
            const report_group *g = &r->groups[d][i];
            row(r, report_dim_name((enum report_dim)d), g->key, r->label, &g->cur, out);
            row(r, report_dim_name((enum report_dim)d), g->key, r->prev_label, &g->prev, out);
        }
    for (size_t i = 0; i < r->trend_count; i++) row(r, "month", r->trend[i].label, r->trend[i].label, &r->trend[i].f, out);
}
