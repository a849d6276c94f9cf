/* The review as terminal text and as Markdown: the same sections, the same
 * tables, laid out for a terminal or for a wiki page. */
#include "report/internal.h"

#include <string.h>

typedef struct style {
    bool md;
} style;

/* Display width of UTF-8 text: one column per character. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; s && *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

static void pad(strbuf *out, size_t n)
{
    for (size_t i = 0; i < n; i++) strbuf_putc(out, ' ');
}

static void heading(strbuf *out, const style *st, const char *text)
{
    if (st->md) strbuf_printf(out, "\n## %s\n\n", text);
    else strbuf_printf(out, "\n%s\n", text);
}

static void md_cell(strbuf *out, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') strbuf_putc(out, '\\');
        strbuf_putc(out, *s);
    }
}

static void table_text(strbuf *out, const style *st, const table *t)
{
    if (t->title) heading(out, st, t->title);
    if (!t->rows) {
        strbuf_puts(out, st->md ? "None in the period.\n" : "  none in the period\n");
        return;
    }
    if (st->md) {
        strbuf_puts(out, "|");
        for (size_t c = 0; c < t->cols; c++) {
            strbuf_putc(out, ' ');
            md_cell(out, t->head[c]);
            strbuf_puts(out, " |");
        }
        strbuf_puts(out, "\n|");
        for (size_t c = 0; c < t->cols; c++) strbuf_puts(out, c ? "---:|" : "---|");
        strbuf_putc(out, '\n');
        for (size_t r = 0; r < t->rows; r++) {
            strbuf_puts(out, "|");
            for (size_t c = 0; c < t->cols; c++) {
                strbuf_putc(out, ' ');
                if (c == 0 && t->sub[r]) strbuf_puts(out, "&nbsp;&nbsp;");
                md_cell(out, t->cells[r][c] ? t->cells[r][c] : "");
                strbuf_puts(out, " |");
            }
            strbuf_putc(out, '\n');
        }
        return;
    }
    size_t w[TABLE_MAX_COLS] = {0};
    for (size_t c = 0; c < t->cols; c++) {
        w[c] = width(t->head[c]);
        for (size_t r = 0; r < t->rows; r++) {
            size_t cw = width(t->cells[r][c]) + (c == 0 && t->sub[r] ? 2 : 0);
            if (cw > w[c]) w[c] = cw;
        }
    }
    for (size_t r = 0; r <= t->rows; r++) {
        strbuf_puts(out, "  ");
        size_t line_start = out->len;
        for (size_t c = 0; c < t->cols; c++) {
            const char *cell = r == 0 ? t->head[c] : t->cells[r - 1][c];
            if (!cell) cell = "";
            if (c == 0) {
                size_t indent = r > 0 && t->sub[r - 1] ? 2 : 0;
                pad(out, indent);
                strbuf_puts(out, cell);
                pad(out, w[c] - width(cell) - indent);
            } else {
                pad(out, 2 + w[c] - width(cell));
                strbuf_puts(out, cell);
            }
        }
        while (out->len > line_start && out->data[out->len - 1] == ' ') out->data[--out->len] = '\0';
        strbuf_putc(out, '\n');
    }
}

static void intro(const report_review *r, const style *st, strbuf *out)
{
    const contract_info *about = contract_about(r->c);
    char as_of[48], meeting[48], touch[48];
    fmt_local_time(r, r->as_of, as_of, sizeof as_of);
    fmt_sla(&r->meeting, meeting, sizeof meeting);
    fmt_sla(&r->first_touch, touch, sizeof touch);
    strbuf_printf(out, "%s%s v%u: handoff review for %s (against %s)\n", st->md ? "# " : "", about->name,
                  about->version, r->label, r->prev_label);
    if (st->md) strbuf_putc(out, '\n');
    strbuf_printf(out,
                  "As of %s; calendar %s. A meeting is due within %s of the handoff reaching its team (R7); "
                  "first touch within %s. Handoffs still inside that time are pending, not failures.\n",
                  as_of, r->timezone, meeting, touch);
}

static void diagnosis(const report_review *r, const style *st, strbuf *out)
{
    const report_diagnosis *d = &r->diagnosis;
    heading(out, st, "Why meetings are missed (R7)");
    char rate[16], target[16];
    fmt_percent(d->rate, rate, sizeof rate);
    fmt_percent(d->target, target, sizeof target);
    const char *lead = st->md ? "" : "  ";
    if (d->rate < 0) strbuf_printf(out, "%sNo handoff of the period is decided yet.\n", lead);
    else if (d->low)
        strbuf_printf(out, "%sThe meeting rate, %s, is below the %s target. %s%s%s\n", lead, rate, target,
                      d->main_cause >= 0 ? "Main cause: " : "",
                      d->main_cause >= 0 ? report_cause_name((enum report_cause)d->main_cause) : "",
                      d->main_cause >= 0 ? "." : "");
    else strbuf_printf(out, "%sThe meeting rate, %s, meets the %s target. The misses, for the record:\n", lead, rate,
                       target);
    if (d->rate < 0) return;
    if (st->md) strbuf_putc(out, '\n');
    for (int c = 0; c < CAUSE_COUNT; c++) {
        const report_cause_evidence *e = &d->causes[c];
        bool main = c == d->main_cause;
        if (st->md)
            strbuf_printf(out, "- %s%s%s (%u of %u misses): %s\n", main ? "**" : "",
                          report_cause_name((enum report_cause)c), main ? "**" : "", e->misses, d->misses,
                          e->evidence);
        else
            strbuf_printf(out, "  %s %s (%u of %u misses)\n      %s\n", main ? "*" : "-",
                          report_cause_name((enum report_cause)c), e->misses, d->misses, e->evidence);
    }
}

static void suggestions(const report_review *r, const style *st, strbuf *out)
{
    heading(out, st, "What to tighten (from the rejections)");
    if (!r->suggestion_count) {
        strbuf_printf(out, "%sNo gate had %d or more rejections with a field that tells them apart from the handoffs "
                           "sales kept.\n",
                      st->md ? "" : "  ", REPORT_SUGGEST_MIN);
        return;
    }
    for (size_t i = 0; i < r->suggestion_count; i++)
        strbuf_printf(out, "%s%s\n", st->md ? "- " : "  - ", r->suggestions[i].text);
}

static void render(const report_review *r, const style *st, strbuf *out)
{
    table t;
    intro(r, st, out);
    tables_summary(r, &t);
    table_text(out, st, &t);
    diagnosis(r, st, out);
    tables_reasons(r, &t);
    table_text(out, st, &t);
    tables_gate_reasons(r, &t);
    table_text(out, st, &t);
    suggestions(r, st, out);
    static const char *const titles[DIM_COUNT] = {"By gate", "By source", "By owner", "By contract version"};
    for (int d = 0; d < DIM_COUNT; d++) {
        tables_dimension(r, (enum report_dim)d, &t);
        t.title = titles[d];
        table_text(out, st, &t);
    }
    tables_trend(r, &t);
    table_text(out, st, &t);
}

void render_text(const report_review *r, strbuf *out)
{
    render(r, &(style){.md = false}, out);
}

void render_markdown(const report_review *r, strbuf *out)
{
    render(r, &(style){.md = true}, out);
}
