/* The what-if diff as text for people and as JSON for CI. */
#include "report/internal.h"

#include <string.h>

#define DIFF_TEXT_CHANGES 40 /* changed handoffs listed in the text form */

static void hhmm(time_ms t, char *buf, size_t size)
{
    char iso[40];
    time_format(t, iso, sizeof iso);
    snprintf(buf, size, "%.10s %.5s", iso, iso + 11);
}

/* "10 leads: 7 rejected (not_icp 6, no_budget 1), 1 meeting, 0 won" */
static void after_text(const report_diff *d, const diff_after *a, strbuf *out)
{
    strbuf_printf(out, "%u lead%s: %u rejected", a->leads, a->leads == 1 ? "" : "s", a->rejected);
    const char *sep = " (";
    for (size_t i = 0; i < d->reason_count; i++)
        if (a->by_reason[i]) {
            strbuf_printf(out, "%s%s %u", sep, d->reasons[i], a->by_reason[i]);
            sep = ", ";
        }
    if (*sep == ',') strbuf_putc(out, ')');
    char amount[32];
    fmt_amount(a->amount, amount, sizeof amount);
    strbuf_printf(out, ", %u booked a meeting, %u opportunit%s, %u won", a->meetings, a->opportunities,
                  a->opportunities == 1 ? "y" : "ies", a->won);
    if (a->won) strbuf_printf(out, " (%s)", amount);
    strbuf_printf(out, ", %u with nothing recorded", a->untouched);
}

static void shift_cell(char *buf, size_t size, uint32_t n, duration_ms median)
{
    char d[16];
    fmt_duration(median, d, sizeof d);
    if (n) snprintf(buf, size, "%u (%s)", n, d);
    else snprintf(buf, size, "0");
}

static void render_text_diff(const report_diff *d, strbuf *out)
{
    const contract_info *a = contract_about(d->a), *b = contract_about(d->b);
    strbuf_printf(out, "A: %s v%u   B: %s v%u   (the same history under both)\n", a->name, a->version, b->name,
                  b->version);
    strbuf_printf(out, "handoffs: %u under A, %u under B; %u gained, %u lost, %u earlier, %u later\n\n", d->before,
                  d->after, d->gained, d->lost, d->earlier, d->later);
    strbuf_printf(out, "  %-22s %6s %6s %7s %6s %14s %14s %9s\n", "gate", "A", "B", "gained", "lost",
                  "earlier (med)", "later (med)", "moved in");
    for (size_t i = 0; i < d->gate_count; i++) {
        const diff_gate *g = &d->gates[i];
        if (!g->before && !g->after) continue;
        char earlier[32], later[32];
        shift_cell(earlier, sizeof earlier, g->earlier, g->earlier_median);
        shift_cell(later, sizeof later, g->later, g->later_median);
        strbuf_printf(out, "  %-22s %6u %6u %7u %6u %14s %14s %9u\n", g->gate, g->before, g->after, g->gained,
                      g->lost, earlier, later, g->moved_in);
    }
    bool any = false;
    for (size_t i = 0; i < d->gate_count; i++) {
        const diff_gate *g = &d->gates[i];
        if (!g->lost && !g->gained) continue;
        if (!any) strbuf_puts(out, "\nWhat happened afterwards to the leads that changed (from the history):\n");
        any = true;
        if (g->lost) {
            strbuf_printf(out, "  %s, lost under B: ", g->gate);
            after_text(d, &g->after_lost, out);
            strbuf_puts(out, "\n");
        }
        if (g->gained) {
            strbuf_printf(out, "  %s, gained under B: ", g->gate);
            after_text(d, &g->after_gained, out);
            strbuf_puts(out, "\n");
        }
    }
    if (!d->change_count) {
        strbuf_puts(out, "\nNo handoff changes.\n");
        return;
    }
    size_t shown = d->change_count < DIFF_TEXT_CHANGES ? d->change_count : DIFF_TEXT_CHANGES;
    strbuf_printf(out, "\nChanged handoffs (%zu of %zu):\n", shown, d->change_count);
    for (size_t i = 0; i < shown; i++) {
        const diff_change *c = &d->changes[i];
        char ta[32] = "-", tb[32] = "-";
        if (c->gate_a) hhmm(c->at_a, ta, sizeof ta);
        if (c->gate_b) hhmm(c->at_b, tb, sizeof tb);
        strbuf_printf(out, "  %s\n    A: %s %s\n    B: %s %s\n    afterwards: %s\n", c->lead,
                      c->gate_a ? c->gate_a : "no handoff", c->gate_a ? ta : "", c->gate_b ? c->gate_b : "no handoff",
                      c->gate_b ? tb : "", c->fate);
    }
}

static void jstr(strbuf *out, const char *s)
{
    if (s) strbuf_json_string(out, s, strlen(s));
    else strbuf_puts(out, "null");
}

static void after_json(const report_diff *d, const diff_after *a, strbuf *out)
{
    strbuf_printf(out, "{\"leads\":%u,\"meetings\":%u,\"rejected\":%u,\"rejected_by_reason\":{", a->leads,
                  a->meetings, a->rejected);
    bool first = true;
    for (size_t i = 0; i < d->reason_count; i++)
        if (a->by_reason[i]) {
            strbuf_printf(out, "%s", first ? "" : ",");
            first = false;
            jstr(out, d->reasons[i]);
            strbuf_printf(out, ":%u", a->by_reason[i]);
        }
    strbuf_printf(out, "},\"opportunities\":%u,\"won\":%u,\"won_amount\":", a->opportunities, a->won);
    json_number(out, a->amount, false);
    strbuf_printf(out, ",\"nothing_recorded\":%u}", a->untouched);
}

static void side_json(strbuf *out, const char *gate, time_ms t)
{
    if (!gate) {
        strbuf_puts(out, "null");
        return;
    }
    char iso[40];
    time_format(t, iso, sizeof iso);
    strbuf_puts(out, "{\"gate\":");
    jstr(out, gate);
    strbuf_printf(out, ",\"at\":\"%s\"}", iso);
}

static void render_json_diff(const report_diff *d, strbuf *out)
{
    const contract_info *a = contract_about(d->a), *b = contract_about(d->b);
    strbuf_puts(out, "{\"report\":\"diff\",\"a\":{\"contract\":");
    jstr(out, a->name);
    strbuf_printf(out, ",\"version\":%u},\"b\":{\"contract\":", a->version);
    jstr(out, b->name);
    strbuf_printf(out, ",\"version\":%u},\"changed\":%s,", b->version, d->change_count ? "true" : "false");
    strbuf_printf(out, "\"handoffs\":{\"a\":%u,\"b\":%u},\"gained\":%u,\"lost\":%u,\"earlier\":%u,\"later\":%u,\"gates\":[",
                  d->before, d->after, d->gained, d->lost, d->earlier, d->later);
    bool first = true;
    for (size_t i = 0; i < d->gate_count; i++) {
        const diff_gate *g = &d->gates[i];
        if (!g->before && !g->after) continue;
        strbuf_puts(out, first ? "{\"gate\":" : ",{\"gate\":");
        first = false;
        jstr(out, g->gate);
        strbuf_printf(out, ",\"a\":%u,\"b\":%u,\"gained\":%u,\"lost\":%u,\"earlier\":%u,\"earlier_median_hours\":",
                      g->before, g->after, g->gained, g->lost, g->earlier);
        json_number(out, g->earlier ? (double)g->earlier_median / MS_PER_HOUR : -1, false);
        strbuf_printf(out, ",\"later\":%u,\"later_median_hours\":", g->later);
        json_number(out, g->later ? (double)g->later_median / MS_PER_HOUR : -1, false);
        strbuf_printf(out, ",\"moved_in\":%u,\"after_gained\":", g->moved_in);
        after_json(d, &g->after_gained, out);
        strbuf_puts(out, ",\"after_lost\":");
        after_json(d, &g->after_lost, out);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "],\"changes\":[");
    for (size_t i = 0; i < d->change_count; i++) {
        const diff_change *c = &d->changes[i];
        strbuf_puts(out, i ? ",{\"lead\":" : "{\"lead\":");
        jstr(out, c->lead);
        strbuf_puts(out, ",\"a\":");
        side_json(out, c->gate_a, c->at_a);
        strbuf_puts(out, ",\"b\":");
        side_json(out, c->gate_b, c->at_b);
        strbuf_puts(out, ",\"afterwards\":");
        jstr(out, c->fate);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "]}\n");
}

void report_diff_render(const report_diff *d, bool json, strbuf *out)
{
    if (json) render_json_diff(d, out);
    else render_text_diff(d, out);
}
