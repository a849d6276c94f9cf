/* The what-if diff: the same history under contract A and contract B, and
 * what happened afterwards to the leads whose handoff changed.
 *
 * Matching. Both replays see the same events, so a lead's handoffs are
 * paired in order: A's first with B's first, and so on. A pair made at
 * different times moved (earlier or later, counted under B's gate, and as
 * moved in when A's gate was another); a handoff with no partner was gained
 * (B only) or lost (A only).
 *
 * Afterwards. Outcomes come from the history (read from A's replay, which
 * reports every outcome event whatever the contract): for a changed lead,
 * the outcomes at or after the earlier of its two handoff times. */
#include "report/internal.h"

#include <stdlib.h>
#include <string.h>

#define DIFF_ARENA_BLOCK (64u * 1024)

typedef struct side {
    const report_data *d;
    uint32_t *order; /* handoff indices by lead, then time */
    size_t n;
} side;

static const report_data *sort_data; /* qsort has no context argument */

static int by_lead_time(const void *a, const void *b)
{
    const report_handoff *x = report_data_handoff(sort_data, *(const uint32_t *)a);
    const report_handoff *y = report_data_handoff(sort_data, *(const uint32_t *)b);
    int c = strcmp(x->lead, y->lead);
    if (c) return c;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return (x->number > y->number) - (x->number < y->number);
}

static bool side_init(side *s, const report_data *d)
{
    s->d = d;
    s->n = report_data_handoff_count(d);
    s->order = mem_calloc(s->n ? s->n : 1, sizeof *s->order);
    if (!s->order) return false;
    for (size_t i = 0; i < s->n; i++) s->order[i] = (uint32_t)i;
    sort_data = d;
    qsort(s->order, s->n, sizeof *s->order, by_lead_time);
    return true;
}

static const report_handoff *at(const side *s, size_t i)
{
    return report_data_handoff(s->d, s->order[i]);
}

/* Outcomes of the history by lead, then time. */
static int by_outcome(const void *a, const void *b)
{
    const report_outcome *x = report_data_outcome(sort_data, *(const uint32_t *)a);
    const report_outcome *y = report_data_outcome(sort_data, *(const uint32_t *)b);
    int c = strcmp(x->lead, y->lead);
    if (c) return c;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

typedef struct builder {
    report_diff *r;
    const report_data *history;
    uint32_t *outcomes; /* indices, by lead then time */
    size_t outcome_count;
    duration_ms *shifts[2]; /* per gate, scratch for the median of earlier and later moves */
    size_t shift_cap;
} builder;

static diff_gate *gate_of(report_diff *r, const char *name)
{
    for (size_t i = 0; i < r->gate_count; i++)
        if (strcmp(r->gates[i].gate, name) == 0) return &r->gates[i];
    return NULL;
}

/* What the history says happened to `lead` from `since` on; also a phrase. */
static void after(builder *b, const char *lead, time_ms since, diff_after *a, strbuf *words)
{
    size_t lo = 0, hi = b->outcome_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(report_data_outcome(b->history, b->outcomes[mid])->lead, lead) < 0) lo = mid + 1;
        else hi = mid;
    }
    bool meeting = false, rejected = false, opportunity = false, won = false, any = false;
    for (size_t i = lo; i < b->outcome_count; i++) {
        const report_outcome *o = report_data_outcome(b->history, b->outcomes[i]);
        if (strcmp(o->lead, lead) != 0) break;
        if (o->at < since) continue;
        char day[40];
        time_format(o->at, day, sizeof day);
        day[10] = '\0';
        switch ((enum outcome_kind)o->kind) {
        case OUTCOME_MEETING_BOOKED:
            if (meeting) continue;
            meeting = true;
            strbuf_printf(words, "%smeeting booked %s", words->len ? "; " : "", day);
            break;
        case OUTCOME_REJECTED:
            if (rejected) continue;
            rejected = true;
            int k = -1;
            for (size_t j = 0; j < b->r->reason_count && o->reason; j++)
                if (strcmp(b->r->reasons[j], o->reason) == 0) k = (int)j;
            if (k >= 0) a->by_reason[k]++;
            strbuf_printf(words, "%srejected %s %s", words->len ? "; " : "", o->reason ? o->reason : "?", day);
            break;
        case OUTCOME_OPPORTUNITY:
            if (opportunity) continue;
            opportunity = true;
            strbuf_printf(words, "%sopportunity %s", words->len ? "; " : "", day);
            break;
        case OUTCOME_WON:
            if (won) continue;
            won = true;
            a->amount += o->amount;
            char amount[32];
            fmt_amount(o->amount, amount, sizeof amount);
            strbuf_printf(words, "%swon %s %s", words->len ? "; " : "", amount, day);
            break;
        default: break;
        }
        any = true;
    }
    a->leads++;
    a->meetings += meeting;
    a->rejected += rejected;
    a->opportunities += opportunity;
    a->won += won;
    if (!any) {
        a->untouched++;
        strbuf_puts(words, "nothing recorded afterwards");
    }
}

static bool add_change(builder *b, const report_handoff *x, const report_handoff *y, diff_after *a)
{
    report_diff *r = b->r;
    diff_after scratch = {0};
    strbuf words;
    strbuf_init(&words);
    const report_handoff *one = x ? x : y; /* at least one side holds the lead's handoff */
    if (!one) return true;
    const char *lead = one->lead;
    time_ms since = x && y && y->at < x->at ? y->at : one->at;
    after(b, lead, since, a ? a : &scratch, &words);
    diff_change *c = &r->changes[r->change_count++];
    *c = (diff_change){
        .lead = arena_strndup(r->mem, lead, strlen(lead)),
        .gate_a = x ? x->gate : NULL,
        .gate_b = y ? y->gate : NULL,
        .at_a = x ? x->at : 0,
        .at_b = y ? y->at : 0,
        .fate = words.oom ? NULL : arena_strndup(r->mem, words.data ? words.data : "", words.len),
    };
    strbuf_free(&words);
    return c->lead && c->fate;
}

/* Pairs one lead's handoffs: A's [i, i_end) with B's [j, j_end). */
static bool pair_lead(builder *b, const side *a, size_t i, size_t i_end, const side *s, size_t j, size_t j_end)
{
    report_diff *r = b->r;
    for (; i < i_end || j < j_end; i++, j++) {
        const report_handoff *x = i < i_end ? at(a, i) : NULL, *y = j < j_end ? at(s, j) : NULL;
        if (x) gate_of(r, x->gate)->before++;
        if (y) gate_of(r, y->gate)->after++;
        if (x && !y) {
            diff_gate *g = gate_of(r, x->gate);
            g->lost++;
            r->lost++;
            if (!add_change(b, x, NULL, &g->after_lost)) return false;
        } else if (y && !x) {
            diff_gate *g = gate_of(r, y->gate);
            g->gained++;
            r->gained++;
            if (!add_change(b, NULL, y, &g->after_gained)) return false;
        } else if (x && y && (x->at != y->at || strcmp(x->gate, y->gate) != 0)) {
            diff_gate *g = gate_of(r, y->gate);
            size_t gi = (size_t)(g - r->gates);
            if (strcmp(x->gate, y->gate) != 0) g->moved_in++;
            if (y->at < x->at) {
                b->shifts[0][gi * b->shift_cap + g->earlier++] = x->at - y->at;
                r->earlier++;
            } else if (y->at > x->at) {
                b->shifts[1][gi * b->shift_cap + g->later++] = y->at - x->at;
                r->later++;
            }
            if (!add_change(b, x, y, NULL)) return false;
        }
    }
    return true;
}

static bool add_gate(report_diff *r, const char *name)
{
    if (gate_of(r, name)) return true;
    const char *copy = arena_strndup(r->mem, name, strlen(name));
    if (!copy) return false;
    r->gates[r->gate_count++] = (diff_gate){.gate = copy};
    return true;
}

static bool list_reasons(report_diff *r, const report_data *history)
{
    const char **codes = arena_alloc(r->mem, REPORT_MAX_REASONS * sizeof *codes);
    if (!codes) return false;
    size_t n = 0;
    for (size_t i = 0; i < contract_reason_count(r->a) && n < REPORT_MAX_REASONS; i++)
        codes[n++] = contract_reason(r->a, i)->code;
    for (size_t i = 0; i < report_data_outcome_count(history) && n < REPORT_MAX_REASONS; i++) {
        const char *code = report_data_outcome(history, i)->reason;
        bool known = !code;
        for (size_t k = 0; k < n && !known; k++) known = strcmp(codes[k], code) == 0;
        if (!known) codes[n++] = arena_strndup(r->mem, code, strlen(code));
    }
    r->reasons = codes;
    r->reason_count = n;
    return true;
}

report_diff *report_diff_new(const report_data *da, const contract *a, const report_data *db, const contract *b)
{
    side sa = {0}, sb = {0};
    builder bl = {0};
    bool ok = false;
    report_diff *r = mem_calloc(1, sizeof *r);
    if (!r || !(r->mem = arena_new(DIFF_ARENA_BLOCK))) goto done;
    r->a = a;
    r->b = b;
    if (!side_init(&sa, da) || !side_init(&sb, db) || !list_reasons(r, da)) goto done;

    /* gates: B's in its order, then those only A has, then any older ones in the data */
    size_t cap = contract_gate_count(a) + contract_gate_count(b) + sa.n + sb.n;
    r->gates = arena_zalloc(r->mem, (cap ? cap : 1) * sizeof *r->gates);
    if (!r->gates) goto done;
    for (size_t i = 0; i < contract_gate_count(b); i++)
        if (!add_gate(r, contract_gate(b, i)->name)) goto done;
    for (size_t i = 0; i < contract_gate_count(a); i++)
        if (!add_gate(r, contract_gate(a, i)->name)) goto done;
    for (size_t i = 0; i < sa.n; i++)
        if (!add_gate(r, at(&sa, i)->gate)) goto done;
    for (size_t i = 0; i < sb.n; i++)
        if (!add_gate(r, at(&sb, i)->gate)) goto done;

    bl.r = r;
    bl.history = da;
    bl.outcome_count = report_data_outcome_count(da);
    bl.outcomes = mem_calloc(bl.outcome_count ? bl.outcome_count : 1, sizeof *bl.outcomes);
    bl.shift_cap = sb.n ? sb.n : 1;
    bl.shifts[0] = mem_calloc(r->gate_count * bl.shift_cap, sizeof(duration_ms));
    bl.shifts[1] = mem_calloc(r->gate_count * bl.shift_cap, sizeof(duration_ms));
    r->changes = arena_alloc(r->mem, (sa.n + sb.n + 1) * sizeof *r->changes);
    if (!bl.outcomes || !bl.shifts[0] || !bl.shifts[1] || !r->changes) goto done;
    for (size_t i = 0; i < bl.outcome_count; i++) bl.outcomes[i] = (uint32_t)i;
    sort_data = da;
    qsort(bl.outcomes, bl.outcome_count, sizeof *bl.outcomes, by_outcome);

    /* walk both sides lead by lead */
    size_t i = 0, j = 0;
    while (i < sa.n || j < sb.n) {
        int c = i == sa.n ? 1 : j == sb.n ? -1 : strcmp(at(&sa, i)->lead, at(&sb, j)->lead);
        const char *lead = c <= 0 ? at(&sa, i)->lead : at(&sb, j)->lead;
        size_t i_end = i, j_end = j;
        while (i_end < sa.n && strcmp(at(&sa, i_end)->lead, lead) == 0) i_end++;
        while (j_end < sb.n && strcmp(at(&sb, j_end)->lead, lead) == 0) j_end++;
        if (!pair_lead(&bl, &sa, i, i_end, &sb, j, j_end)) goto done;
        i = i_end;
        j = j_end;
    }
    for (size_t g = 0; g < r->gate_count; g++) {
        diff_gate *dg = &r->gates[g];
        r->before += dg->before;
        r->after += dg->after;
        dg->earlier_median = percentile(bl.shifts[0] + g * bl.shift_cap, dg->earlier, 0.5);
        dg->later_median = percentile(bl.shifts[1] + g * bl.shift_cap, dg->later, 0.5);
    }
    ok = !arena_failed(r->mem);
done:
    mem_free(sa.order);
    mem_free(sb.order);
    mem_free(bl.outcomes);
    mem_free(bl.shifts[0]);
    mem_free(bl.shifts[1]);
    if (!ok) {
        report_diff_free(r);
        return NULL;
    }
    return r;
}

void report_diff_free(report_diff *d)
{
    if (!d) return;
    arena_free(d->mem);
    mem_free(d);
}
