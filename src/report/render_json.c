/* The review as one JSON object, for dashboards and scripts. Rates are
 * fractions (null when nothing to divide by), durations in hours. */
#include "report/internal.h"

#include <math.h>
#include <string.h>

const char *cause_key(enum report_cause c)
{
    static const char *const keys[CAUSE_COUNT] = {
        [CAUSE_WRONG_LEADS] = "wrong_leads",
        [CAUSE_SLOW_RESPONSE] = "slow_response",
        [CAUSE_NO_CONTEXT] = "no_context",
        [CAUSE_NOT_WORKED] = "not_worked",
    };
    return (size_t)c < CAUSE_COUNT ? keys[c] : "?";
}

void json_number(strbuf *out, double v, bool integer)
{
    if (integer) strbuf_printf(out, "%.0f", v);
    else if (v < 0 || isnan(v)) strbuf_puts(out, "null");
    else if (v == floor(v) && fabs(v) < 1e15) strbuf_printf(out, "%.0f", v);
    else {
        char buf[48];
        snprintf(buf, sizeof buf, "%.4f", v);
        size_t n = strlen(buf);
        while (n > 1 && buf[n - 1] == '0') buf[--n] = '\0'; /* 0.2500 -> 0.25 */
        if (buf[n - 1] == '.') buf[--n] = '\0';
        strbuf_puts(out, buf);
    }
}

static void key(strbuf *out, const char *k)
{
    strbuf_json_string(out, k, strlen(k));
    strbuf_putc(out, ':');
}

static void jstr(strbuf *out, const char *s)
{
    if (s) strbuf_json_string(out, s, strlen(s));
    else strbuf_puts(out, "null");
}

static void time_value(strbuf *out, time_ms t)
{
    char iso[40];
    time_format(t, iso, sizeof iso);
    jstr(out, iso);
}

/* {"label":…,"from":…,"to":…} */
static void period(strbuf *out, const char *label, time_ms from, time_ms to)
{
    strbuf_puts(out, "{\"label\":");
    jstr(out, label);
    strbuf_puts(out, ",\"from\":");
    time_value(out, from);
    strbuf_puts(out, ",\"to\":");
    time_value(out, to);
    strbuf_putc(out, '}');
}

static void figures(const report_review *r, const report_figures *f, strbuf *out)
{
    strbuf_putc(out, '{');
    for (size_t i = 0; i < figure_column_count; i++) {
        if (i) strbuf_putc(out, ',');
        key(out, figure_columns[i].key);
        json_number(out, figure_columns[i].get(f), figure_columns[i].integer);
    }
    strbuf_puts(out, ",\"rejected_by_reason\":{");
    bool first = true;
    for (size_t i = 0; i < r->reason_count; i++) {
        if (!f->by_reason[i]) continue;
        if (!first) strbuf_putc(out, ',');
        first = false;
        key(out, r->reasons[i]);
        strbuf_printf(out, "%u", f->by_reason[i]);
    }
    strbuf_puts(out, "}}");
}

static void sla(strbuf *out, const sla_figure *f)
{
    char text[48];
    fmt_sla(f, text, sizeof text);
    jstr(out, f->set ? text : NULL);
}

static void diagnosis(const report_review *r, strbuf *out)
{
    const report_diagnosis *d = &r->diagnosis;
    strbuf_printf(out, "{\"low\":%s,\"meeting_rate\":", d->low ? "true" : "false");
    json_number(out, d->rate, false);
    strbuf_puts(out, ",\"target\":");
    json_number(out, d->target, false);
    strbuf_printf(out, ",\"misses\":%u,\"main_cause\":", d->misses);
    jstr(out, d->main_cause >= 0 ? cause_key((enum report_cause)d->main_cause) : NULL);
    strbuf_puts(out, ",\"causes\":[");
    for (int c = 0; c < CAUSE_COUNT; c++) {
        const report_cause_evidence *e = &d->causes[c];
        strbuf_printf(out, "%s{\"cause\":", c ? "," : "");
        jstr(out, cause_key((enum report_cause)c));
        strbuf_printf(out, ",\"misses\":%u,\"meeting_rate_with\":", e->misses);
        json_number(out, e->rate_with, false);
        strbuf_puts(out, ",\"meeting_rate_without\":");
        json_number(out, e->rate_without, false);
        strbuf_puts(out, ",\"evidence\":");
        jstr(out, e->evidence);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "]}");
}

static void suggestion(const report_suggestion *s, strbuf *out)
{
    strbuf_puts(out, "{\"gate\":");
    jstr(out, s->gate);
    strbuf_puts(out, ",\"reason\":");
    jstr(out, s->reason);
    strbuf_puts(out, ",\"field\":");
    jstr(out, s->field);
    if (s->numeric) {
        strbuf_printf(out, ",\"require\":\"%s\",\"threshold\":", s->keep_at_least ? ">=" : "<=");
        json_number(out, s->threshold, false);
    } else {
        strbuf_puts(out, ",\"require\":\"not in\",\"values\":[");
        for (uint32_t v = 0; v < s->value_count; v++) {
            if (v) strbuf_putc(out, ',');
            jstr(out, s->values[v]);
        }
        strbuf_putc(out, ']');
    }
    strbuf_printf(out,
                  ",\"rejections\":%u,\"rejections_removed\":%u,\"removed\":%u,\"removed_rejected\":%u,"
                  "\"removed_not_rejected\":%u,\"removed_meetings\":%u,\"separation\":",
                  s->target, s->target_removed, s->removed, s->removed_rejected, s->removed_kept,
                  s->removed_meetings);
    json_number(out, s->separation, false);
    strbuf_puts(out, ",\"text\":");
    jstr(out, s->text);
    strbuf_putc(out, '}');
}

void render_json(const report_review *r, strbuf *out)
{
    const contract_info *about = contract_about(r->c);
    strbuf_puts(out, "{\"report\":\"review\",\"contract\":");
    jstr(out, about->name);
    strbuf_printf(out, ",\"version\":%u,\"period\":", about->version);
    period(out, r->label, r->from, r->to);
    strbuf_puts(out, ",\"previous\":");
    period(out, r->prev_label, r->prev_from, r->prev_to);
    strbuf_puts(out, ",\"as_of\":");
    time_value(out, r->as_of);
    strbuf_puts(out, ",\"timezone\":");
    jstr(out, r->timezone);
    strbuf_puts(out, ",\"sla\":{\"first_touch\":");
    sla(out, &r->first_touch);
    strbuf_puts(out, ",\"meeting\":");
    sla(out, &r->meeting);
    strbuf_puts(out, "},\"figures\":");
    figures(r, &r->cur, out);
    strbuf_puts(out, ",\"previous_figures\":");
    figures(r, &r->prev, out);
    strbuf_puts(out, ",\"by\":{");
    for (int d = 0; d < DIM_COUNT; d++) {
        if (d) strbuf_putc(out, ',');
        key(out, report_dim_name((enum report_dim)d));
        strbuf_putc(out, '[');
        for (size_t i = 0; i < r->group_count[d]; i++) {
            const report_group *g = &r->groups[d][i];
            strbuf_puts(out, i ? ",{\"key\":" : "{\"key\":");
            jstr(out, g->key);
            strbuf_puts(out, ",\"figures\":");
            figures(r, &g->cur, out);
            strbuf_puts(out, ",\"previous\":");
            figures(r, &g->prev, out);
            strbuf_putc(out, '}');
        }
        strbuf_putc(out, ']');
    }
    strbuf_puts(out, "},\"trend\":[");
    for (size_t i = 0; i < r->trend_count; i++) {
        strbuf_puts(out, i ? ",{\"month\":" : "{\"month\":");
        jstr(out, r->trend[i].label);
        strbuf_puts(out, ",\"figures\":");
        figures(r, &r->trend[i].f, out);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "],\"diagnosis\":");
    diagnosis(r, out);
    strbuf_puts(out, ",\"suggestions\":[");
    for (size_t i = 0; i < r->suggestion_count; i++) {
        if (i) strbuf_putc(out, ',');
        suggestion(&r->suggestions[i], out);
    }
    strbuf_puts(out, "]}\n");
}
