/* Features for the learned score (R8): a lead's inputs at a time, and
 * training rows taken from a replayed history at each lead's cut-off.
 *
 * Invariants:
 *   1. features_of_lead() counts only hits strictly before `at`;
 *   2. features_collect() takes a lead's row right after applying the
 *      event that ends at its cut-off, before any later event is applied,
 *      so neither hits nor fields from at or after the cut-off reach it;
 *   3. the label reads only outcomes at or after the cut-off, and a row is
 *      kept only when its whole horizon lies within the observed history
 *      (keeping the rows an outcome settled early would favour wins).
 *
 * Cut-offs. A lead handed off is cut just after the event that handed it
 * off (its first handoff). A lead never handed off is cut just after its
 * k-th event, k drawn from the distribution of the event counts at which
 * leads were handed off (a hash of the seed and the lead's key picks the
 * quantile; k is capped at the lead's own count), so both kinds of row are
 * taken at the same points of a lead's life. Events count once the lead is
 * identified. */
#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#define FEATURES_WINDOW_SHORT (7 * MS_PER_DAY)
#define FEATURES_WINDOW_LONG (30 * MS_PER_DAY)
#define FEATURES_HISTOGRAM 512 /* handoff event counts kept exactly; more count as the last */
#define FEATURES_DEFAULT_HORIZON (120 * MS_PER_DAY)

/* Fields that are free text or identity, never a feature. */
static const char *const not_features[] = {"lead.email", "lead.pain", "lead.impact", "account.name"};

typedef struct field_input {
    uint32_t input;
    uint32_t slot;
    bool account;
    bool employees; /* banded by head count rather than by decade */
} field_input;

struct features {
    const engine *e;
    score_schema *schema;
    field_input *fields;
    size_t field_count;
    uint32_t recency_any, recency_kind; /* recency_kind + kind */
    uint32_t signal_base;               /* + 3 * signal: 7d, 30d, all */
    uint32_t kind_base;                 /* + 2 * kind: 7d, 30d */
    uint32_t account_kind_base;         /* + kind: 30d at the account */
    uint32_t account_people;
};

/* Bands, lowest first: the first whose bound exceeds the value. */
static const struct band {
    double below;
    const char *name;
} employee_bands[] = {{50, "1-49"}, {200, "50-199"}, {1000, "200-999"}, {5000, "1000-4999"}, {1e300, "5000+"}},
  decade_bands[] = {{1, "<1"},       {10, "1-9"},       {100, "10-99"},     {1e3, "100-999"},  {1e4, "1e3-1e4"},
                    {1e5, "1e4-1e5"}, {1e6, "1e5-1e6"}, {1e7, "1e6-1e7"},   {1e8, "1e7-1e8"},  {1e9, "1e8-1e9"},
                    {1e10, "1e9-1e10"}, {1e300, "1e10+"}};

static const char *band(const struct band *b, double v)
{
    while (!(v < b->below)) b++;
    return b->name;
}

/* Recency bins: the first whose bound the age does not exceed. */
static const struct recency {
    duration_ms within;
    const char *name;
} recency_bins[] = {{MS_PER_DAY, "1d"}, {7 * MS_PER_DAY, "7d"}, {30 * MS_PER_DAY, "30d"}, {INT64_MAX, "older"}};

static const char *recency(duration_ms age)
{
    const struct recency *r = recency_bins;
    while (age > r->within) r++;
    return r->name;
}

static bool add_input(features *f, const char *name, enum score_input_kind kind, bool plain, uint32_t *index)
{
    int i = score_schema_add(f->schema, name, kind, plain);
    if (i < 0) return false;
    if (index) *index = (uint32_t)i;
    return true;
}

features *features_new(const engine *e)
{
    const contract *c = e->c;
    features *f = mem_calloc(1, sizeof *f);
    if (!f) return NULL;
    f->e = e;
    f->schema = score_schema_new();
    f->fields = mem_alloc((e->field_count ? e->field_count : 1) * sizeof *f->fields);
    if (!f->schema || !f->fields) goto fail;
    char name[SCORE_MAX_NAME];
    for (size_t i = 0; i < e->field_count; i++) {
        const char *path = contract_field(c, i)->path;
        bool lead_field = e->lead_slot[i] != UINT32_MAX, account_field = e->account_slot[i] != UINT32_MAX;
        bool skip = !lead_field && !account_field;
        for (size_t k = 0; k < ARRAY_LEN(not_features) && !skip; k++) skip = strcmp(path, not_features[k]) == 0;
        if (skip) continue;
        field_input *fi = &f->fields[f->field_count];
        fi->account = account_field;
        fi->slot = account_field ? e->account_slot[i] : e->lead_slot[i];
        size_t len = strlen(path);
        fi->employees = len >= 9 && strcmp(path + len - 9, "employees") == 0;
        if (!add_input(f, path, SCORE_CATEGORY, false, &fi->input)) goto fail;
        f->field_count++;
    }
    size_t kinds = contract_kind_count(c), signals = contract_signal_count(c);
    if (!add_input(f, "recency.any", SCORE_CATEGORY, false, &f->recency_any)) goto fail;
    for (size_t k = 0; k < kinds; k++) {
        snprintf(name, sizeof name, "recency.%s", contract_kind(c, k)->name);
        if (!add_input(f, name, SCORE_CATEGORY, false, k == 0 ? &f->recency_kind : NULL)) goto fail;
    }
    static const char *const signal_windows[] = {"7d", "30d", "all"};
    for (size_t s = 0; s < signals; s++) {
        for (size_t w = 0; w < ARRAY_LEN(signal_windows); w++) {
            snprintf(name, sizeof name, "signal.%s.%s", contract_signal(c, s)->name, signal_windows[w]);
            if (!add_input(f, name, SCORE_COUNT, w == 2, s == 0 && w == 0 ? &f->signal_base : NULL)) goto fail;
        }
    }
    for (size_t k = 0; k < kinds; k++) {
        snprintf(name, sizeof name, "kind.%s.7d", contract_kind(c, k)->name);
        if (!add_input(f, name, SCORE_COUNT, false, k == 0 ? &f->kind_base : NULL)) goto fail;
        snprintf(name, sizeof name, "kind.%s.30d", contract_kind(c, k)->name);
        if (!add_input(f, name, SCORE_COUNT, false, NULL)) goto fail;
    }
    for (size_t k = 0; k < kinds; k++) {
        snprintf(name, sizeof name, "account.hits.%s.30d", contract_kind(c, k)->name);
        if (!add_input(f, name, SCORE_COUNT, false, k == 0 ? &f->account_kind_base : NULL)) goto fail;
    }
    if (!add_input(f, "account.people.30d", SCORE_COUNT, false, &f->account_people)) goto fail;
    return f;
fail:
    features_free(f);
    return NULL;
}

void features_free(features *f)
{
    if (!f) return;
    score_schema_free(f->schema);
    mem_free(f->fields);
    mem_free(f);
}

const score_schema *features_schema(const features *f)
{
    return f->schema;
}

static const char *field_text(const field_input *fi, const value *v)
{
    switch (v->type) {
    case VAL_STR: return v->as.str.len ? v->as.str.s : NULL;
    case VAL_NUM: return band(fi->employees ? employee_bands : decade_bands, v->as.num);
    case VAL_BOOL: return v->as.b ? "true" : "false";
    default: return NULL;
    }
}

bool features_of_lead(const features *f, const lead *l, time_ms at, score_row *row)
{
    const engine *e = f->e;
    size_t n = score_schema_count(f->schema), kinds = contract_kind_count(e->c);
    for (size_t i = 0; i < n; i++) {
        row->text[i] = NULL;
        row->num[i] = 0;
    }
    const account *a = l->account != NO_ACCOUNT ? &e->accounts[l->account] : NULL;
    for (size_t i = 0; i < f->field_count; i++) {
        const field_input *fi = &f->fields[i];
        const value *v = fi->account ? (a ? &a->fields[fi->slot] : NULL) : &l->fields[fi->slot];
        if (v) row->text[fi->input] = field_text(fi, v);
    }
    time_ms last_any = INT64_MIN, last_kind[CONTRACT_MAX_KINDS];
    for (size_t k = 0; k < kinds; k++) last_kind[k] = INT64_MIN;
    for (uint8_t i = 0; i < l->hit_count; i++) {
        const hit *h = &l->history->hits[i];
        time_ms t = (time_ms)h->t * MS_PER_SECOND;
        if (t >= at) continue; /* invariant 1 */
        duration_ms age = at - t;
        uint32_t kind = e->kind_of[h->signal];
        double *sig = &row->num[f->signal_base + 3 * h->signal], *kin = &row->num[f->kind_base + 2 * kind];
        sig[0] += age <= FEATURES_WINDOW_SHORT;
        sig[1] += age <= FEATURES_WINDOW_LONG;
        sig[2] += 1;
        kin[0] += age <= FEATURES_WINDOW_SHORT;
        kin[1] += age <= FEATURES_WINDOW_LONG;
        if (t > last_any) last_any = t;
        if (t > last_kind[kind]) last_kind[kind] = t;
    }
    if (last_any != INT64_MIN) row->text[f->recency_any] = recency(at - last_any);
    for (size_t k = 0; k < kinds; k++)
        if (last_kind[k] != INT64_MIN) row->text[f->recency_kind + k] = recency(at - last_kind[k]);
    if (a && a->hits) {
        uint32_t people[ACCOUNT_MAX_HITS], people_count = 0;
        for (uint16_t i = 0; i < a->hit_count; i++) {
            const account_hit *h = &a->hits[i];
            time_ms t = (time_ms)h->t * MS_PER_SECOND;
            if (t >= at || at - t > FEATURES_WINDOW_LONG) continue;
            row->num[f->account_kind_base + e->kind_of[h->signal]] += 1;
            bool seen = false;
            for (uint32_t j = 0; j < people_count && !seen; j++) seen = people[j] == h->lead;
            if (!seen) people[people_count++] = h->lead;
        }
        row->num[f->account_people] = people_count;
    }
    return true;
}

bool features_at(const features *f, const char *key, time_ms at, score_row *row)
{
    uint32_t index;
    engine *e = (engine *)f->e; /* lead_at() takes a mutable engine; nothing is changed */
    if (!strmap_get(e->lead_ids, key, strlen(key), &index)) return false;
    return features_of_lead(f, lead_at(e, index), at, row);
}

/* ---- training rows ------------------------------------------------------------ */

/* A win for an owner (an account, or a lead without one) at a time. */
typedef struct settled {
    uint64_t owner;
    time_ms at;
} settled;

typedef struct collect {
    const contract *c;
    const features_source *src;
    features_options o;
    features_summary *sum;
    strbuf *err;
    engine *e;
    /* per lead, by engine index */
    uint32_t *events, *cut, *seen; /* seen: events counted in the second pass */
    uint8_t *handed;
    size_t lead_cap;
    uint64_t histogram[FEATURES_HISTOGRAM + 1], handoffs;
    settled *wins;
    size_t win_count, win_cap;
    time_ms until; /* outcomes are known up to here */
    bool nomem;
} collect;

static bool grow_leads(collect *k, size_t need)
{
    if (need <= k->lead_cap) return true;
    size_t cap = k->lead_cap ? k->lead_cap : 4096;
    while (cap < need) cap *= 2;
    uint32_t *ev = mem_realloc(k->events, cap * sizeof *ev);
    if (ev) k->events = ev;
    uint32_t *cut = ev ? mem_realloc(k->cut, cap * sizeof *cut) : NULL;
    if (cut) k->cut = cut;
    uint32_t *seen = cut ? mem_realloc(k->seen, cap * sizeof *seen) : NULL;
    if (seen) k->seen = seen;
    uint8_t *handed = seen ? mem_realloc(k->handed, cap) : NULL;
    if (!handed) return false;
    k->handed = handed;
    memset(k->events + k->lead_cap, 0, (cap - k->lead_cap) * sizeof *k->events);
    memset(k->cut + k->lead_cap, 0, (cap - k->lead_cap) * sizeof *k->cut);
    memset(k->seen + k->lead_cap, 0, (cap - k->lead_cap) * sizeof *k->seen);
    memset(k->handed + k->lead_cap, 0, cap - k->lead_cap);
    k->lead_cap = cap;
    return true;
}

static uint64_t owner_of(const engine *e, uint32_t index)
{
    const lead *l = lead_at((engine *)e, index);
    return l->account != NO_ACCOUNT ? l->account : (UINT64_C(1) << 32) | index;
}

static void on_handoff(void *ctx, const handoff *h)
{
    collect *k = ctx;
    uint32_t index;
    if (!strmap_get(k->e->lead_ids, h->lead, strlen(h->lead), &index)) return;
    if (!grow_leads(k, (size_t)index + 1)) {
        k->nomem = true;
        return;
    }
    if (k->handed[index]) return;
    k->handed[index] = 1;
    uint32_t at_event = k->events[index] + 1; /* this event is counted once applied */
    k->cut[index] = at_event;
    k->histogram[at_event < FEATURES_HISTOGRAM ? at_event : FEATURES_HISTOGRAM]++;
    k->handoffs++;
}

static void push_settled(collect *k, settled **list, size_t *count, size_t *cap, settled s)
{
    if (*count == *cap) {
        size_t n = *cap ? 2 * *cap : 1024;
        settled *bigger = mem_realloc(*list, n * sizeof *bigger);
        if (!bigger) {
            k->nomem = true;
            return;
        }
        *list = bigger;
        *cap = n;
    }
    (*list)[(*count)++] = s;
}

static void on_outcome(void *ctx, const outcome *o)
{
    collect *k = ctx;
    uint32_t index;
    if (o->kind != OUTCOME_WON) return;
    if (!strmap_get(k->e->lead_ids, o->lead, strlen(o->lead), &index)) return;
    settled s = {owner_of(k->e, index), o->at};
    push_settled(k, &k->wins, &k->win_count, &k->win_cap, s);
}

static int by_owner_time(const void *a, const void *b)
{
    const settled *x = a, *y = b;
    if (x->owner != y->owner) return x->owner < y->owner ? -1 : 1;
    return (x->at > y->at) - (x->at < y->at);
}

/* Is there an entry for `owner` in [from, to)? */
static bool settled_within(const settled *list, size_t n, uint64_t owner, time_ms from, time_ms to)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first entry >= (owner, from) */
        size_t mid = lo + (hi - lo) / 2;
        if (list[mid].owner < owner || (list[mid].owner == owner && list[mid].at < from)) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && list[lo].owner == owner && list[lo].at < to;
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* k for a lead never handed off: a quantile of the handoff histogram picked
 * by the lead's hash, at most its own event count. */
static uint32_t draw_cut(const collect *k, const char *key, uint32_t events)
{
    uint64_t h = mix64(hash_bytes(key, strlen(key)) ^ mix64(k->o.seed));
    uint32_t pick;
    if (k->handoffs == 0) {
        pick = 1 + (uint32_t)(h % events);
    } else {
        uint64_t target = h % k->handoffs, cum = 0;
        pick = 1;
        for (uint32_t i = 0; i <= FEATURES_HISTOGRAM; i++) {
            cum += k->histogram[i];
            if (cum > target) {
                pick = i ? i : 1;
                break;
            }
        }
    }
    return pick < events ? pick : events;
}

/* The lead an applied event was about, found as the engine found it: by
 * userId, else an identify's email, else the anonymousId. */
static bool event_lead(const engine *e, const event *ev, uint32_t *index)
{
    str id = event_lead_key(ev);
    return id.len && strmap_get(e->lead_ids, id.s, id.len, index);
}

/* Replays the whole history once; `row` set takes rows (the second pass). */
static bool replay(collect *k, score_data *rows, features *feat, score_row *row)
{
    engine_sink sink = {.ctx = k};
    if (!rows) {
        sink.handoff = on_handoff;
        sink.outcome = on_outcome;
    }
    if (!k->src->rewind(k->src->ctx)) {
        strbuf_puts(k->err, "cannot read the history from its start");
        return false;
    }
    if (k->src->prepare && !k->src->prepare(k->src->ctx, k->e)) {
        strbuf_puts(k->err, "cannot set up the accounts");
        return false;
    }
    event ev;
    int got;
    bool ok = false;
    while ((got = k->src->next(k->src->ctx, &ev)) == 1) {
        enum apply_result applied = engine_apply(k->e, &ev, &sink);
        if (applied == APPLY_NOMEM || k->nomem) goto nomem;
        if (!rows) {
            if (k->sum->events++ == 0) k->sum->first = ev.timestamp;
            if (ev.timestamp > k->sum->last) k->sum->last = ev.timestamp;
        }
        engine_clear_changed(k->e); /* nobody persists this engine's changes */
        uint32_t index;
        if (applied == APPLY_DUPLICATE || !event_lead(k->e, &ev, &index)) continue;
        const lead *l = lead_at(k->e, index);
        if (l->anonymous || l->merged) continue;
        if (!grow_leads(k, (size_t)index + 1)) goto nomem;
        if (!rows || !feat) { /* the first pass only counts */
            k->events[index]++;
            continue;
        }
        if (++k->seen[index] != k->cut[index]) continue;
        time_ms at = ev.timestamp + 1; /* just after the event: it is before the cut-off */
        time_ms until = at + k->o.horizon;
        if (until > k->until) { /* invariant 3 needs the whole horizon observed */
            k->sum->censored++;
            continue;
        }
        features_of_lead(feat, l, at, row);
        bool won = settled_within(k->wins, k->win_count, owner_of(k->e, index), at, until);
        if (!score_data_add(rows, row, at, won)) goto nomem;
        k->sum->rows++;
        k->sum->positives += won;
        if (k->handed[index]) k->sum->handed_off++;
        else k->sum->drawn++;
    }
    if (got < 0) {
        strbuf_puts(k->err, "the history could not be read to its end");
        goto done;
    }
    ok = true;
    goto done;
nomem:
    strbuf_puts(k->err, "out of memory");
done:
    return ok;
}

score_data *features_collect(const contract *c, const features_source *src, const features_options *o,
                             features_summary *sum, strbuf *err)
{
    collect *k = mem_calloc(1, sizeof *k);
    features *feat = NULL;
    score_data *rows = NULL;
    score_row row = {0};
    bool ok = false;
    if (!k) {
        strbuf_puts(err, "out of memory");
        return NULL;
    }
    *sum = (features_summary){0};
    k->c = c;
    k->src = src;
    k->o = *o;
    if (k->o.horizon <= 0) k->o.horizon = FEATURES_DEFAULT_HORIZON;
    k->sum = sum;
    k->err = err;

    /* pass 1: handoffs, outcomes, event counts */
    k->e = engine_new(c, o->engine);
    if (!k->e) goto nomem;
    if (!replay(k, NULL, NULL, NULL)) goto done;
    if (k->win_count) qsort(k->wins, k->win_count, sizeof *k->wins, by_owner_time);
    k->until = o->until > 0 ? o->until : sum->last;
    for (uint32_t i = 0; i < k->e->lead_count && i < k->lead_cap; i++) {
        if (!k->events[i]) continue;
        sum->leads++;
        if (!k->handed[i]) k->cut[i] = draw_cut(k, lead_at(k->e, i)->key, k->events[i]);
    }
    engine_free(k->e);

    /* pass 2: each lead's row at its cut-off */
    k->e = engine_new(c, o->engine);
    if (!k->e || !(feat = features_new(k->e))) goto nomem;
    size_t inputs = score_schema_count(features_schema(feat));
    row.text = mem_calloc(inputs ? inputs : 1, sizeof *row.text);
    row.num = mem_calloc(inputs ? inputs : 1, sizeof *row.num);
    rows = score_data_new(features_schema(feat));
    if (!row.text || !row.num || !rows) goto nomem;
    if (!replay(k, rows, feat, &row)) goto done;
    ok = true;
    goto done;
nomem:
    strbuf_puts(err, "out of memory");
done:
    if (!ok) {
        score_data_free(rows);
        rows = NULL;
    }
    mem_free(row.text);
    mem_free(row.num);
    features_free(feat);
    engine_free(k->e);
    mem_free(k->events);
    mem_free(k->cut);
    mem_free(k->seen);
    mem_free(k->handed);
    mem_free(k->wins);
    mem_free(k);
    return rows;
}
