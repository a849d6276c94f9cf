/* Suggestions from the rejections (R12): for each gate with enough
 * rejections, the field value at decision time that best separates the
 * handoffs rejected for a reason from those not rejected, and what requiring
 * it would have done.
 *
 * For a gate and a reason, T is the handoffs rejected for that reason and N
 * those not rejected at all. A rule removes some handoffs; its separation is
 * Youden's J: the share of T it removes minus the share of N it removes.
 *   numeric field:   "field >= t" (or "<= t") for every split between two
 *                    distinct values; t is the roundest number in the gap.
 *                    As in the contract language, a handoff without the
 *                    field fails the comparison and is removed too.
 *   text field:      excluding the values more common among T than among N;
 *                    a handoff without the field is kept (`not (x in …)`
 *                    holds for a missing x). Fields with more than
 *                    REPORT_MAX_CATEGORIES values are free text and skipped.
 * The best rule per reason is kept when J >= REPORT_SUGGEST_SEPARATION and
 * it removes at least two of T; ties go to the rule that removes fewer of N,
 * then to the field the contract reads first. */
#include "report/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUGGEST_MIN_REASON 3 /* rejections for one reason before it is analysed */

enum cls { CLS_TARGET, CLS_KEPT, CLS_OTHER }; /* rejected for the reason; not rejected; rejected otherwise */

typedef struct entry {
    double num;
    const char *text;
    uint8_t cls;
    bool present, met;
} entry;

typedef struct counts {
    uint32_t n[3];
    uint32_t met;
} counts;

typedef struct candidate {
    bool found, numeric, keep_at_least;
    double threshold, j;
    const char *values[REPORT_MAX_CATEGORIES];
    uint32_t value_count;
    counts removed;
    const char *field;
} candidate;

static const report_field *field_of(const report_handoff *h, const char *name)
{
    for (uint32_t i = 0; i < h->field_count; i++)
        if (h->fields[i].name == name) return &h->fields[i];
    return NULL;
}

static void count_add(counts *c, const entry *e)
{
    c->n[e->cls]++;
    c->met += e->met;
}

static double separation(const counts *removed, uint32_t t_total, uint32_t n_total)
{
    return (double)removed->n[CLS_TARGET] / t_total - (double)removed->n[CLS_KEPT] / n_total;
}

static bool better(const candidate *best, double j, const counts *removed)
{
    if (!best->found) return true;
    if (j > best->j + 1e-12) return true;
    return fabs(j - best->j) <= 1e-12 && removed->n[CLS_KEPT] < best->removed.n[CLS_KEPT];
}

/* The roundest number t with lo < t <= hi (at_least) or lo <= t < hi. */
static double round_between(double lo, double hi, bool at_least)
{
    for (int k = 9; k >= -3; k--) {
        double step = pow(10, k);
        double t = at_least ? floor(lo / step) * step + step : ceil(lo / step) * step;
        if (at_least ? (t > lo && t <= hi) : (t >= lo && t < hi)) return t;
    }
    return at_least ? hi : lo;
}

static int by_value(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->present != y->present) return x->present ? 1 : -1; /* missing first */
    if (!x->present) return 0;
    return (x->num > y->num) - (x->num < y->num);
}

static void try_numeric(entry *e, size_t n, uint32_t t_total, uint32_t n_total, const char *field, candidate *best)
{
    qsort(e, n, sizeof *e, by_value);
    counts missing = {0}, total = {0};
    size_t first = 0;
    while (first < n && !e[first].present) count_add(&missing, &e[first++]);
    for (size_t i = first; i < n; i++) count_add(&total, &e[i]);
    counts below = {0}; /* present values up to and including e[i] */
    for (size_t i = first; i + 1 < n; i++) {
        count_add(&below, &e[i]);
        if (e[i].num == e[i + 1].num) continue;
        for (int dir = 0; dir < 2; dir++) {
            bool at_least = dir == 0;
            counts removed = missing;
            for (int c = 0; c < 3; c++) removed.n[c] += at_least ? below.n[c] : total.n[c] - below.n[c];
            removed.met += at_least ? below.met : total.met - below.met;
            double j = separation(&removed, t_total, n_total);
            if (!better(best, j, &removed)) continue;
            *best = (candidate){.found = true, .numeric = true, .keep_at_least = at_least, .j = j,
                                .removed = removed, .field = field,
                                .threshold = round_between(e[i].num, e[i + 1].num, at_least)};
        }
    }
}

static void try_categorical(const entry *e, size_t n, uint32_t t_total, uint32_t n_total, const char *field,
                            candidate *best)
{
    const char *values[REPORT_MAX_CATEGORIES];
    counts per[REPORT_MAX_CATEGORIES];
    memset(per, 0, sizeof per);
    uint32_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (!e[i].present) continue;
        uint32_t v = 0;
        while (v < distinct && values[v] != e[i].text) v++;
        if (v == distinct) {
            if (distinct == REPORT_MAX_CATEGORIES) return; /* free text, not a category */
            values[distinct++] = e[i].text;
        }
        count_add(&per[v], &e[i]);
    }
    if (distinct < 2) return;
    candidate c = {.found = true, .field = field};
    for (uint32_t v = 0; v < distinct; v++) {
        /* more common among the rejected than among the kept */
        if ((uint64_t)per[v].n[CLS_TARGET] * n_total <= (uint64_t)per[v].n[CLS_KEPT] * t_total) continue;
        c.values[c.value_count++] = values[v];
        for (int k = 0; k < 3; k++) c.removed.n[k] += per[v].n[k];
        c.removed.met += per[v].met;
    }
    if (!c.value_count || c.value_count == distinct) return;
    c.j = separation(&c.removed, t_total, n_total);
    if (better(best, c.j, &c.removed)) *best = c;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static const char *describe(arena *mem, const char *gate, const char *reason, const candidate *c, uint32_t t_total,
                            bool missing_removed)
{
    strbuf b;
    strbuf_init(&b);
    char pct[16], num[32];
    fmt_percent((double)c->removed.n[CLS_TARGET] / t_total, pct, sizeof pct);
    strbuf_printf(&b, "%s: %s of %s rejections (%u of %u) have %s ", gate, pct, reason, c->removed.n[CLS_TARGET],
                  t_total, c->field);
    if (c->numeric) {
        fmt_number(c->threshold, num, sizeof num);
        strbuf_printf(&b, "%s %s%s; requiring %s %s %s", c->keep_at_least ? "<" : ">", num,
                      missing_removed ? " or no value" : "", c->field, c->keep_at_least ? ">=" : "<=", num);
    } else {
        for (uint32_t v = 0; v < c->value_count; v++)
            strbuf_printf(&b, "%s%s", v ? (v + 1 == c->value_count ? " or " : ", ") : "", c->values[v]);
        strbuf_puts(&b, "; excluding those values");
    }
    uint32_t removed = c->removed.n[0] + c->removed.n[1] + c->removed.n[2];
    strbuf_printf(&b, " would have removed %u handoff%s, %u of them rejected", removed, removed == 1 ? "" : "s",
                  c->removed.n[CLS_TARGET] + c->removed.n[CLS_OTHER]);
    if (c->removed.met) strbuf_printf(&b, " and %u that got a meeting in time", c->removed.met);
    strbuf_putc(&b, '.');
    const char *text = b.oom ? NULL : arena_strndup(mem, b.data, b.len);
    strbuf_free(&b);
    return text;
}

static int by_separation(const void *a, const void *b)
{
    const report_suggestion *x = a, *y = b;
    if (x->separation != y->separation) return x->separation < y->separation ? 1 : -1;
    return strcmp(x->reason, y->reason);
}

/* Suggestions for one gate's handoffs (indices in `m`), appended to r. */
static bool suggest_gate(review_work *w, const char *gate, const uint32_t *m, size_t n, entry *e)
{
    report_review *r = w->r;
    uint32_t rejected = 0, kept = 0;
    for (size_t k = 0; k < n; k++) {
        if (w->fates[m[k]].rejected) rejected++;
        else kept++;
    }
    if (rejected < REPORT_SUGGEST_MIN || !kept) return true;
    /* the fields these handoffs carry, in the order first met */
    const char *names[REPORT_MAX_FIELDS * 2];
    size_t name_count = 0;
    for (size_t k = 0; k < n; k++) {
        const report_handoff *h = report_data_handoff(w->d, m[k]);
        for (uint32_t f = 0; f < h->field_count && name_count < ARRAY_LEN(names); f++) {
            size_t i = 0;
            while (i < name_count && names[i] != h->fields[f].name) i++;
            if (i == name_count) names[name_count++] = h->fields[f].name;
        }
    }
    size_t first = r->suggestion_count;
    for (size_t reason = 0; reason < r->reason_count; reason++) {
        uint32_t t_total = 0;
        for (size_t k = 0; k < n; k++) t_total += w->fates[m[k]].rejected && w->fates[m[k]].reason == (int)reason;
        if (t_total < SUGGEST_MIN_REASON) continue;
        candidate best = {0};
        for (size_t f = 0; f < name_count; f++) {
            bool numeric = false, text = false;
            for (size_t k = 0; k < n; k++) {
                const fate *x = &w->fates[m[k]];
                const report_field *v = field_of(report_data_handoff(w->d, m[k]), names[f]);
                e[k] = (entry){.present = v != NULL, .met = x->meeting_state == DUE_MET,
                               .cls = !x->rejected ? CLS_KEPT : x->reason == (int)reason ? CLS_TARGET : CLS_OTHER};
                if (!v) continue;
                if (v->numeric) numeric = true, e[k].num = v->num;
                else text = true, e[k].text = v->text;
            }
            if (numeric && !text) try_numeric(e, n, t_total, kept, names[f], &best);
            else if (text && !numeric) try_categorical(e, n, t_total, kept, names[f], &best);
        }
        if (!best.found || best.j < REPORT_SUGGEST_SEPARATION || best.removed.n[CLS_TARGET] < 2) continue;
        /* a numeric rule removes the handoffs without the field: say so */
        bool missing_removed = false;
        if (best.numeric)
            for (size_t k = 0; k < n && !missing_removed; k++)
                missing_removed = w->fates[m[k]].reason == (int)reason && w->fates[m[k]].rejected &&
                                  !field_of(report_data_handoff(w->d, m[k]), best.field);
        if (!best.numeric) qsort(best.values, best.value_count, sizeof best.values[0], by_text);
        const char **values = NULL;
        if (best.value_count) {
            values = arena_alloc(r->mem, best.value_count * sizeof *values);
            if (!values) return false;
            memcpy(values, best.values, best.value_count * sizeof *values);
        }
        report_suggestion *s = &r->suggestions[r->suggestion_count++];
        *s = (report_suggestion){
            .gate = gate,
            .reason = r->reasons[reason],
            .field = best.field,
            .numeric = best.numeric,
            .keep_at_least = best.keep_at_least,
            .threshold = best.threshold,
            .values = values,
            .value_count = best.value_count,
            .target = t_total,
            .target_removed = best.removed.n[CLS_TARGET],
            .removed = best.removed.n[0] + best.removed.n[1] + best.removed.n[2],
            .removed_rejected = best.removed.n[CLS_TARGET] + best.removed.n[CLS_OTHER],
            .removed_kept = best.removed.n[CLS_KEPT],
            .removed_meetings = best.removed.met,
            .separation = best.j,
        };
        s->text = describe(r->mem, gate, r->reasons[reason], &best, t_total, missing_removed);
        if (!s->text) return false;
    }
    size_t made = r->suggestion_count - first;
    qsort(r->suggestions + first, made, sizeof *r->suggestions, by_separation);
    if (made > REPORT_SUGGEST_PER_GATE) r->suggestion_count = first + REPORT_SUGGEST_PER_GATE;
    return true;
}

bool suggest(review_work *w, const uint32_t *which, size_t n)
{
    report_review *r = w->r;
    size_t gates = r->group_count[DIM_GATE];
    r->suggestions = arena_zalloc(r->mem, (gates * REPORT_MAX_REASONS + 1) * sizeof *r->suggestions);
    uint32_t *m = mem_calloc(n ? n : 1, sizeof *m);
    entry *e = mem_calloc(n ? n : 1, sizeof *e);
    bool ok = r->suggestions && m && e;
    for (size_t g = 0; ok && g < gates; g++) {
        const char *gate = r->groups[DIM_GATE][g].key;
        size_t count = 0;
        for (size_t k = 0; k < n; k++)
            if (strcmp(report_data_handoff(w->d, which[k])->gate, gate) == 0) m[count++] = which[k];
        ok = suggest_gate(w, gate, m, count, e);
    }
    mem_free(m);
    mem_free(e);
    return ok;
}
