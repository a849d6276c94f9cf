/* The monthly review: the period and the one before it, the figures by
 * dimension, the trend by month, then the diagnosis and the suggestions. */
#include "report/internal.h"

#include <stdlib.h>
#include <string.h>

#define REVIEW_ARENA_BLOCK (64u * 1024)

/* ---- dimensions ---------------------------------------------------------------
 * One row per way of slicing the figures. A new one (the rep who owns a
 * handoff, once routing records it) is a key function and a row here. */
typedef const char *(*dim_key)(const report_handoff *h, char *buf, size_t size);

static const char *key_gate(const report_handoff *h, char *buf, size_t size)
{
    return h->gate;
}

static const char *key_source(const report_handoff *h, char *buf, size_t size)
{
    return h->source ? h->source : "(none)";
}

static const char *key_owner(const report_handoff *h, char *buf, size_t size)
{
    return h->owner ? h->owner : "(none)";
}

static const char *key_version(const report_handoff *h, char *buf, size_t size)
{
    snprintf(buf, size, "v%u", h->version);
    return buf;
}

static const struct {
    const char *name;
    dim_key key;
    bool by_size; /* keys ordered by handoffs (else as first met, the contract's order for gates) */
} dims[DIM_COUNT] = {
    [DIM_GATE] = {"gate", key_gate, false},
    [DIM_SOURCE] = {"source", key_source, true},
    [DIM_OWNER] = {"owner", key_owner, true},
    [DIM_VERSION] = {"version", key_version, false},
};

const char *report_dim_name(enum report_dim d)
{
    return (size_t)d < DIM_COUNT ? dims[d].name : "?";
}

/* ---- the period ------------------------------------------------------------------ */

bool report_parse_month(const char *s, int64_t *from_day, int64_t *to_day)
{
    if (strlen(s) != 7 || s[4] != '-') return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9')) return false;
    unsigned y = (unsigned)((s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0'));
    unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    if (m < 1 || m > 12 || y < 1970) return false;
    *from_day = days_from_civil(y, m, 1);
    *to_day = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
    return true;
}

static void day_label(int64_t day, char *buf, size_t size)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, size, "%04d-%02u-%02u", (int)(y % 10000), m % 100, d % 100);
}

static void period_label(int64_t from, int64_t to, bool month, char *buf, size_t size)
{
    char a[16], b[16];
    day_label(from, a, sizeof a);
    if (month) {
        snprintf(buf, size, "%.7s", a);
        return;
    }
    day_label(to - 1, b, sizeof b);
    snprintf(buf, size, "%s..%s", a, b);
}

/* The first day of the month before the one holding `day`. */
static int64_t month_before(int64_t day)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    return m == 1 ? days_from_civil(y - 1, 12, 1) : days_from_civil(y, m - 1, 1);
}

static int64_t month_start(int64_t day)
{
    int64_t y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    return days_from_civil(y, m, 1);
}

static bool set_period(report_review *r, const calendar *cal, const report_options *opt)
{
    const tz *zone = calendar_zone(cal);
    int64_t from = opt->from_day, to = opt->to_day, prev_from;
    bool month = opt->month;
    if (from == 0 && to == 0) {
        int64_t day;
        int32_t minute;
        tz_to_local(zone, r->as_of, &day, &minute);
        from = month_start(day);
        int64_t y;
        unsigned m, d;
        civil_from_days(from, &y, &m, &d);
        to = m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
        month = true;
    }
    if (to <= from) return false;
    prev_from = month ? month_before(from) : from - (to - from);
    r->from = tz_from_local(zone, from, 0);
    r->to = tz_from_local(zone, to, 0);
    r->prev_from = tz_from_local(zone, prev_from, 0);
    r->prev_to = r->from;
    period_label(from, to, month, r->label, sizeof r->label);
    period_label(prev_from, from, month, r->prev_label, sizeof r->prev_label);
    return true;
}

/* ---- groups ---------------------------------------------------------------------- */

typedef struct builder {
    review_work *w;
    uint32_t *cur, *prev; /* handoff indices in the period and the one before */
    size_t ncur, nprev;
    uint32_t *members;    /* scratch */
} builder;

static int find_group(const report_group *g, size_t count, const char *key)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(g[i].key, key) == 0) return (int)i;
    return -1;
}

/* The group for a key, added when new; "(other)" once the cap is reached. */
static int group_for(report_review *r, report_group *g, size_t *count, const char *key)
{
    int i = find_group(g, *count, key);
    if (i >= 0) return i;
    if (*count >= REPORT_MAX_GROUPS - 1) {
        key = "(other)";
        if ((i = find_group(g, *count, key)) >= 0) return i;
    }
    const char *copy = arena_strndup(r->mem, key, strlen(key));
    if (!copy) return -1;
    g[*count] = (report_group){.key = copy};
    return (int)(*count)++;
}

static int by_size(const void *a, const void *b)
{
    const report_group *x = a, *y = b;
    if (x->cur.handoffs != y->cur.handoffs) return x->cur.handoffs > y->cur.handoffs ? -1 : 1;
    return strcmp(x->key, y->key);
}

/* The handoffs of a list whose key is `key`; for "(other)", those whose key
 * has no group of its own. */
static size_t members_of(builder *b, const uint32_t *list, size_t n, enum report_dim dim, const report_group *g,
                         size_t count, const char *key)
{
    size_t m = 0;
    char buf[32];
    bool other = strcmp(key, "(other)") == 0;
    for (size_t i = 0; i < n; i++) {
        const char *k = dims[dim].key(report_data_handoff(b->w->d, list[i]), buf, sizeof buf);
        if (strcmp(k, key) == 0 || (other && find_group(g, count, k) < 0)) b->members[m++] = list[i];
    }
    return m;
}

static bool build_groups(builder *b, enum report_dim dim)
{
    report_review *r = b->w->r;
    report_group *g = arena_zalloc(r->mem, REPORT_MAX_GROUPS * sizeof *g);
    if (!g) return false;
    size_t count = 0;
    char buf[32];
    if (dim == DIM_GATE)
        for (size_t i = 0; i < contract_gate_count(r->c); i++)
            if (group_for(r, g, &count, contract_gate(r->c, i)->name) < 0) return false;
    const uint32_t *lists[2] = {b->cur, b->prev};
    size_t lens[2] = {b->ncur, b->nprev};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lens[l]; i++)
            if (group_for(r, g, &count, dims[dim].key(report_data_handoff(b->w->d, lists[l][i]), buf, sizeof buf)) < 0)
                return false;
    for (size_t i = 0; i < count; i++) {
        size_t n = members_of(b, b->cur, b->ncur, dim, g, count, g[i].key);
        figures_compute(b->w, b->members, n, &g[i].cur);
        n = members_of(b, b->prev, b->nprev, dim, g, count, g[i].key);
        figures_compute(b->w, b->members, n, &g[i].prev);
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++)
        if (g[i].cur.handoffs || g[i].prev.handoffs) g[kept++] = g[i];
    if (dims[dim].by_size) qsort(g, kept, sizeof *g, by_size);
    r->groups[dim] = g;
    r->group_count[dim] = kept;
    return true;
}

/* ---- the trend ------------------------------------------------------------------- */

static void build_trend(builder *b, int64_t period_day)
{
    review_work *w = b->w;
    report_review *r = w->r;
    const tz *zone = calendar_zone(w->cal);
    time_ms earliest = 0;
    for (size_t i = 0; i < w->handoff_count; i++) {
        time_ms at = report_data_handoff(w->d, i)->at;
        if (!earliest || at < earliest) earliest = at;
    }
    if (!earliest) return;
    int64_t first_day;
    int32_t minute;
    tz_to_local(zone, earliest, &first_day, &minute);
    first_day = month_start(first_day);
    int64_t starts[REPORT_TREND_MONTHS];
    size_t n = 0;
    for (int64_t m = month_start(period_day); n < REPORT_TREND_MONTHS && m >= first_day; m = month_before(m))
        starts[n++] = m;
    for (size_t k = 0; k < n; k++) {
        int64_t from_day = starts[n - 1 - k];
        int64_t y;
        unsigned mo, d;
        civil_from_days(from_day, &y, &mo, &d);
        int64_t to_day = mo == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, mo + 1, 1);
        time_ms from = tz_from_local(zone, from_day, 0), to = tz_from_local(zone, to_day, 0);
        size_t members = 0;
        for (size_t i = 0; i < w->handoff_count; i++) {
            time_ms at = report_data_handoff(w->d, i)->at;
            if (at >= from && at < to && at <= r->as_of) b->members[members++] = (uint32_t)i;
        }
        report_month *out = &r->trend[r->trend_count++];
        month_label(w->cal, from, out->label);
        figures_compute(w, b->members, members, &out->f);
    }
}

/* ---- reasons ---------------------------------------------------------------------- */

/* The contract's reasons in its order, then codes only older versions had. */
static bool build_reasons(report_review *r)
{
    const char **codes = arena_alloc(r->mem, REPORT_MAX_REASONS * sizeof *codes);
    if (!codes) return false;
    size_t n = 0;
    for (size_t i = 0; i < contract_reason_count(r->c) && n < REPORT_MAX_REASONS; i++)
        codes[n++] = contract_reason(r->c, i)->code;
    r->reasons = codes;
    r->reason_count = n;
    for (size_t i = 0; i < report_data_outcome_count(r->data) && n < REPORT_MAX_REASONS; i++) {
        const char *code = report_data_outcome(r->data, i)->reason;
        if (code && reason_index(r, code) < 0) {
            codes[n++] = code;
            r->reason_count = n;
        }
    }
    return true;
}

const char *report_reason_label(const report_review *r, size_t reason)
{
    int i = contract_find_reason(r->c, r->reasons[reason]);
    const char *label = i >= 0 ? contract_reason(r->c, (size_t)i)->label : NULL;
    return label && *label ? label : r->reasons[reason];
}

/* ---- the review -------------------------------------------------------------------- */

report_review *report_review_new(const report_data *d, const contract *c, const report_options *opt, char *why,
                                 size_t why_size)
{
    report_review *r = NULL;
    calendar *cal = NULL;
    builder b = {0};
    review_work w = {0};
    bool ok = false;
    const contract_info *about = contract_about(c);
    cal = calendar_new(&about->calendar, why, why_size);
    if (!cal) goto done;
    snprintf(why, why_size, "out of memory");
    r = mem_calloc(1, sizeof *r);
    if (!r || !(r->mem = arena_new(REVIEW_ARENA_BLOCK))) goto done;
    r->c = c;
    r->data = d;
    r->timezone = about->calendar.timezone ? about->calendar.timezone : "UTC";
    r->first_touch = about->first_touch;
    r->meeting = about->meeting;
    if (!r->meeting.set) r->meeting = (sla_figure){.set = true, .unit = SLA_BUSINESS_DAYS, .amount = REPORT_MEETING_DAYS};
    r->as_of = opt->as_of ? opt->as_of : report_data_latest(d);
    r->diagnosis.target = opt->meeting_target > 0 ? opt->meeting_target : REPORT_MEETING_TARGET;
    if (!build_reasons(r)) goto done;
    if (!set_period(r, cal, opt)) {
        snprintf(why, why_size, "the period is empty: --to must be after --from");
        goto done;
    }

    size_t n = report_data_handoff_count(d);
    w = (review_work){.r = r, .d = d, .cal = cal, .handoff_count = n};
    w.fates = mem_calloc(n ? n : 1, sizeof *w.fates);
    w.scratch = mem_calloc(n ? n : 1, sizeof *w.scratch);
    b = (builder){.w = &w};
    b.cur = mem_calloc(n ? n : 1, sizeof *b.cur);
    b.prev = mem_calloc(n ? n : 1, sizeof *b.prev);
    b.members = mem_calloc(n ? n : 1, sizeof *b.members);
    if (!w.fates || !w.scratch || !b.cur || !b.prev || !b.members) goto done;
    fates_compute(&w);
    for (size_t i = 0; i < n; i++) {
        time_ms at = report_data_handoff(d, i)->at;
        if (at > r->as_of) continue;
        if (at >= r->from && at < r->to) b.cur[b.ncur++] = (uint32_t)i;
        else if (at >= r->prev_from && at < r->prev_to) b.prev[b.nprev++] = (uint32_t)i;
    }
    figures_compute(&w, b.cur, b.ncur, &r->cur);
    figures_compute(&w, b.prev, b.nprev, &r->prev);
    for (int dim = 0; dim < DIM_COUNT; dim++)
        if (!build_groups(&b, (enum report_dim)dim)) goto done;
    int64_t period_day;
    int32_t minute;
    tz_to_local(calendar_zone(cal), r->from, &period_day, &minute);
    build_trend(&b, period_day);
    diagnose(&w, b.cur, b.ncur);
    if (!suggest(&w, b.cur, b.ncur)) goto done;
    ok = !arena_failed(r->mem);
done:
    mem_free(w.fates);
    mem_free(w.scratch);
    mem_free(b.cur);
    mem_free(b.prev);
    mem_free(b.members);
    calendar_free(cal);
    if (!ok) {
        report_review_free(r);
        return NULL;
    }
    return r;
}

void report_review_free(report_review *r)
{
    if (!r) return;
    arena_free(r->mem);
    mem_free(r);
}
