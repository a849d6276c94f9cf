/* The report's facts from a store: what `baton serve` recorded, for
 * `baton report --db`.
 *
 * Four reads, each through store operations only (no SQL here):
 *   1. load(), aliases only: the ids (anonymousId, email) that name a lead,
 *      so an outcome sent under one counts for the lead.
 *   2. list_handoffs(), page by page (newest first, `after` the last id):
 *      each packet becomes a report_handoff — version, gate, team, source,
 *      fast, the asks line, and the lead's and account's attributes from
 *      its "fields". A packet's "status" is the current one, so a handoff
 *      that waited for context is known by its "missing" list, or by its
 *      timeline (step 3).
 *   3. timeline(), once per lead with a handoff:
 *        "gate …" into needs_context          -> the handoff waited (R11)
 *        needs_context -> handed_off         -> its release
 *        "rejected: CODE"                     -> a rejection the engine applied,
 *                                                a return when it went to an
 *                                                earlier stage (the contract's
 *                                                order), kept by (handoff, time)
 *      SLA breaches are timeline rows too; they change nothing here.
 *   4. each_event() over the whole log: every event's time (the default
 *      "as of" is the latest), and each track event named as an outcome
 *      becomes a report_outcome tied to the lead's handoff current at the
 *      event's time — the latest made at or before it — as the engine ties
 *      it when it applies the event.
 *
 * Invariants:
 *   1. The handoffs go into report_data in number order, then the outcomes.
 *   2. A rejection counts when its code is the contract's, as in a replay,
 *      or when the timeline shows the engine applied it (a code of an older
 *      contract version); otherwise it is left out and counted.
 *   3. Everything read is copied into the loader's arena before the row's
 *      callback returns; report_data copies it again, and the arena goes
 *      with the loader. */
#include "report/report.h"
#include "store/store.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define LOADER_ARENA_BLOCK (64u * 1024)
#define PAGE_SIZE 1000 /* handoffs per list_handoffs() call: the store's largest page */

/* The rep a routed handoff went to, or NULL (not routed, or nobody free). */
static const char *routed_rep(const json_t *packet)
{
    json_t *rep = json_object_get(json_object_get(packet, "route"), "rep");
    return json_is_string(rep) ? json_string_value(rep) : NULL;
}

typedef struct held {
    report_handoff h; /* strings and fields in the loader's arena */
    uint32_t lead;    /* index into loader.lead_keys */
} held;

/* A handoff in its lead's order: by lead, then time, then number. */
typedef struct stamp {
    uint32_t lead;
    time_ms at;
    uint64_t number;
} stamp;

typedef struct rejection {
    uint64_t handoff;
    time_ms at;
    bool returned;
} rejection;

typedef struct loader {
    report_data *d;
    store *s;
    const contract *c;
    arena *mem;
    int rc;
    char *why;
    size_t why_size;
    report_store_counts counts;

    strmap *aliases; /* alias -> index into alias_leads */
    const char **alias_leads;
    size_t alias_count, alias_cap;

    held *held; /* by number once the pages are read */
    size_t held_count, held_cap;
    uint64_t page_last, page_rows;

    strmap *leads; /* lead key -> index into lead_keys */
    const char **lead_keys;
    size_t lead_count, lead_cap;
    stamp *by_lead;       /* every handoff, by (lead, at, number) */
    uint32_t *lead_first; /* lead_count + 1 offsets into by_lead */

    rejection *rejections;
    size_t rejection_count, rejection_cap;
    const char *timeline_lead; /* the lead whose timeline is being read */
} loader;

/* ---- errors and growth --------------------------------------------------------- */

static bool failed(loader *l, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool failed(loader *l, int rc, const char *fmt, ...)
{
    if (l->rc == REPORT_LOADED) {
        l->rc = rc;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(l->why, l->why_size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool nomem(loader *l)
{
    return failed(l, REPORT_LOAD_NOMEM, "out of memory");
}

static bool grow(loader *l, void **items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) return true;
    size_t n = *cap ? *cap * 2 : 64;
    void *more = mem_realloc(*items, n * size);
    if (!more) return nomem(l);
    *items = more;
    *cap = n;
    return true;
}

/* An arena copy of s; NULL stays NULL. */
static const char *copy(loader *l, const char *s, bool *ok)
{
    if (!s) return NULL;
    char *c = arena_strndup(l->mem, s, strlen(s));
    if (!c) *ok = false;
    return c;
}

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* An ISO-8601 member as a time; false when absent or malformed. */
static bool jtime(const json_t *o, const char *key, time_ms *out)
{
    const char *s = jstr(o, key);
    return s && time_parse(s, strlen(s), out);
}

/* ---- 1. aliases ------------------------------------------------------------------ */

static bool on_alias(void *ctx, const char *alias, const char *lead)
{
    loader *l = ctx;
    if (!alias || !lead) return true;
    if (!grow(l, (void **)&l->alias_leads, l->alias_count, &l->alias_cap, sizeof *l->alias_leads)) return false;
    bool ok = true;
    const char *target = copy(l, lead, &ok);
    if (!ok || !strmap_put(l->aliases, alias, strlen(alias), (uint32_t)l->alias_count)) return nomem(l);
    l->alias_leads[l->alias_count++] = target;
    return true;
}

/* ---- 2. handoffs -------------------------------------------------------------------- */

static const field_info *contract_field_named(const contract *c, const char *path)
{
    for (size_t i = 0; i < contract_field_count(c); i++)
        if (strcmp(contract_field(c, i)->path, path) == 0) return contract_field(c, i);
    return NULL;
}

/* One attribute as the collector keeps it: numbers, booleans, short texts;
 * not times or durations (they describe the moment, not the lead). */
static bool take_field(loader *l, const char *name, const json_t *v, report_field *out, bool *ok)
{
    *out = (report_field){0};
    if (json_is_number(v)) {
        out->numeric = true;
        out->num = json_number_value(v);
    } else if (json_is_boolean(v)) {
        out->text = json_is_true(v) ? "true" : "false";
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (n > REPORT_MAX_VALUE) return false;
        const field_info *f = contract_field_named(l->c, name);
        time_ms t;
        if (f ? f->type == VAL_TIME || f->type == VAL_DUR : time_parse(s, n, &t)) return false;
        out->text = copy(l, s, ok);
    } else {
        return false;
    }
    out->name = copy(l, name, ok);
    return true;
}

static bool take_fields(loader *l, const json_t *fields, report_handoff *h, bool *ok)
{
    size_t n = json_object_size(fields);
    if (n > REPORT_MAX_FIELDS) n = REPORT_MAX_FIELDS;
    if (!n) return true;
    report_field *out = arena_alloc(l->mem, n * sizeof *out);
    if (!out) return nomem(l);
    const char *key;
    json_t *v;
    uint32_t k = 0;
    json_object_foreach((json_t *)fields, key, v) {
        /* n > 0 here; cppcheck reads k == n on the first pass as the !n above */
        // cppcheck-suppress identicalConditionAfterEarlyExit
        if (k == n) break;
        if (take_field(l, key, v, &out[k], ok)) k++;
    }
    h->fields = out;
    h->field_count = k;
    return true;
}

/* The lead's index, adding it when new. */
static bool lead_index(loader *l, const char *key, uint32_t *out)
{
    if (strmap_get(l->leads, key, strlen(key), out)) return true;
    if (!grow(l, (void **)&l->lead_keys, l->lead_count, &l->lead_cap, sizeof *l->lead_keys)) return false;
    const char *kept = strmap_put(l->leads, key, strlen(key), (uint32_t)l->lead_count);
    if (!kept) return nomem(l);
    *out = (uint32_t)l->lead_count;
    l->lead_keys[l->lead_count++] = kept;
    return true;
}

static bool take_packet(loader *l, const json_t *p, uint64_t id)
{
    const json_t *context = json_object_get(p, "context");
    const char *lead = jstr(p, "lead"), *gate = jstr(p, "gate");
    time_ms at;
    if (!lead || !gate || !jtime(p, "at", &at))
        return failed(l, REPORT_LOAD_STORE, "handoff %llu: its packet has no lead, gate or time",
                      (unsigned long long)id);
    if (!grow(l, (void **)&l->held, l->held_count, &l->held_cap, sizeof *l->held)) return false;
    held *x = &l->held[l->held_count];
    bool ok = true;
    *x = (held){.h = {
                    .number = id,
                    .lead = copy(l, lead, &ok),
                    .account = copy(l, jstr(p, "account"), &ok),
                    .gate = copy(l, gate, &ok),
                    .version = (uint32_t)json_integer_value(json_object_get(p, "version")),
                    .owner = copy(l, routed_rep(p) ? routed_rep(p) : jstr(p, "team"), &ok),
                    .source = copy(l, jstr(p, "source"), &ok),
                    .at = at,
                    .fast = json_is_true(json_object_get(p, "fast")),
                    /* "status" is the current one: a released handoff's
                     * wait shows in its timeline (step 3) */
                    .needs_context = json_object_get(p, "missing") != NULL ||
                                     (jstr(p, "status") && strcmp(jstr(p, "status"), "needs_context") == 0),
                    .generic_question = report_question_is_generic(l->c, jstr(context, "asks")),
                }};
    if (!take_fields(l, json_object_get(p, "fields"), &x->h, &ok)) return false;
    if (!ok) return nomem(l);
    if (!lead_index(l, lead, &x->lead)) return false;
    l->held_count++;
    return true;
}

static bool on_packet(void *ctx, const char *text)
{
    loader *l = ctx;
    json_error_t err;
    json_t *p = json_loads(text ? text : "", 0, &err);
    json_int_t id = json_integer_value(json_object_get(p, "id"));
    bool ok;
    if (!json_is_object(p) || id <= 0)
        ok = failed(l, REPORT_LOAD_STORE, "a stored handoff packet is not one (after handoff %llu): %s",
                    (unsigned long long)l->page_last, p ? "no id" : err.text);
    else
        ok = take_packet(l, p, (uint64_t)id);
    json_decref(p);
    l->page_rows++;
    if (ok) l->page_last = (uint64_t)id;
    return ok;
}

static bool store_failed(loader *l, const char *op)
{
    return failed(l, REPORT_LOAD_STORE, "%s: %s", op, store_error(l->s));
}

static int by_number(const void *a, const void *b)
{
    uint64_t x = ((const held *)a)->h.number, y = ((const held *)b)->h.number;
    return (x > y) - (x < y);
}

static bool read_handoffs(loader *l)
{
    store_filter f = {.fast = -1, .limit = PAGE_SIZE};
    do {
        l->page_rows = 0;
        f.after = l->page_last;
        int rc = l->s->ops->list_handoffs(l->s, &f, on_packet, l);
        if (l->rc != REPORT_LOADED) return false;
        if (rc != STORE_OK) return store_failed(l, "list_handoffs");
    } while (l->page_rows > 0);
    qsort(l->held, l->held_count, sizeof *l->held, by_number);
    return true;
}

static held *find_held(loader *l, uint64_t number)
{
    held key = {.h.number = number};
    return bsearch(&key, l->held, l->held_count, sizeof *l->held, by_number);
}

/* ---- 3. timelines --------------------------------------------------------------------- */

static int stage_index(const contract *c, const char *name)
{
    for (size_t i = 0; name && i < contract_stage_count(c); i++)
        if (strcmp(contract_stage(c, i)->name, name) == 0) return (int)i;
    return -1;
}

/* A rejection that sent the lead to an earlier stage. A stage the contract
 * no longer has: any move of stage that reopens the lead. */
static bool is_return(const contract *c, const json_t *from, const json_t *to)
{
    const char *a = jstr(from, "stage"), *b = jstr(to, "stage"), *status = jstr(to, "status");
    int x = stage_index(c, a), y = stage_index(c, b);
    if (x >= 0 && y >= 0) return y < x;
    return a && b && strcmp(a, b) != 0 && status && (!strcmp(status, "open") || !strcmp(status, "recycled"));
}

static bool take_change(loader *l, const json_t *row)
{
    const json_t *from = json_object_get(row, "from"), *to = json_object_get(row, "to");
    const char *cause = jstr(row, "cause"), *was = jstr(from, "status"), *now = jstr(to, "status");
    json_int_t number = json_integer_value(json_object_get(row, "handoff"));
    time_ms at;
    if (!cause || !was || !now || !jtime(row, "at", &at))
        return failed(l, REPORT_LOAD_STORE, "the timeline of %s has a change without its time, cause or status",
                      l->timeline_lead);
    if (number <= 0) return true;
    if (strncmp(cause, "rejected:", 9) == 0) {
        if (!grow(l, (void **)&l->rejections, l->rejection_count, &l->rejection_cap, sizeof *l->rejections))
            return false;
        l->rejections[l->rejection_count++] =
            (rejection){.handoff = (uint64_t)number, .at = at, .returned = is_return(l->c, from, to)};
        return true;
    }
    held *x = find_held(l, (uint64_t)number);
    if (!x) return true; /* a handoff made after the list was read */
    if (strcmp(now, "needs_context") == 0 && strncmp(cause, "gate ", 5) == 0) x->h.needs_context = true;
    if (strcmp(was, "needs_context") == 0 && strcmp(now, "handed_off") == 0 && !x->h.released) x->h.released = at;
    return true;
}

static bool on_change(void *ctx, const char *text)
{
    loader *l = ctx;
    json_error_t err;
    json_t *row = json_loads(text ? text : "", 0, &err);
    bool ok = json_is_object(row)
                  ? take_change(l, row)
                  : failed(l, REPORT_LOAD_STORE, "the timeline of %s: %s", l->timeline_lead, err.text);
    json_decref(row);
    return ok;
}

static int by_handoff_time(const void *a, const void *b)
{
    const rejection *x = a, *y = b;
    if (x->handoff != y->handoff) return (x->handoff > y->handoff) - (x->handoff < y->handoff);
    return (x->at > y->at) - (x->at < y->at);
}

static bool read_timelines(loader *l)
{
    for (size_t i = 0; i < l->lead_count; i++) {
        l->timeline_lead = l->lead_keys[i];
        int rc = l->s->ops->timeline(l->s, l->lead_keys[i], on_change, l);
        if (l->rc != REPORT_LOADED) return false;
        if (rc != STORE_OK) return store_failed(l, "timeline");
    }
    qsort(l->rejections, l->rejection_count, sizeof *l->rejections, by_handoff_time);
    return true;
}

static const rejection *find_rejection(const loader *l, uint64_t number, time_ms at)
{
    rejection key = {.handoff = number, .at = at};
    return bsearch(&key, l->rejections, l->rejection_count, sizeof *l->rejections, by_handoff_time);
}

/* ---- the handoffs into the data, and each lead's in time order -------------------- */

static int by_lead_time(const void *a, const void *b)
{
    const stamp *x = a, *y = b;
    if (x->lead != y->lead) return (x->lead > y->lead) - (x->lead < y->lead);
    if (x->at != y->at) return (x->at > y->at) - (x->at < y->at);
    return (x->number > y->number) - (x->number < y->number);
}

static bool add_handoffs(loader *l)
{
    for (size_t i = 0; i < l->held_count; i++)
        if (!report_data_add_handoff(l->d, &l->held[i].h)) return nomem(l);
    l->counts.handoffs = l->held_count;
    l->by_lead = mem_alloc((l->held_count + 1) * sizeof *l->by_lead);
    l->lead_first = mem_calloc(l->lead_count + 1, sizeof *l->lead_first);
    if (!l->by_lead || !l->lead_first) return nomem(l);
    for (size_t i = 0; i < l->held_count; i++)
        l->by_lead[i] = (stamp){.lead = l->held[i].lead, .at = l->held[i].h.at, .number = l->held[i].h.number};
    qsort(l->by_lead, l->held_count, sizeof *l->by_lead, by_lead_time);
    /* lead_first[k]: where lead k's handoffs start in by_lead */
    for (size_t i = 0; i < l->held_count; i++) l->lead_first[l->held[i].lead + 1]++;
    for (size_t k = 0; k < l->lead_count; k++) l->lead_first[k + 1] += l->lead_first[k];
    return true;
}

/* The number of the lead's latest handoff made at or before `at`; 0 when none. */
static uint64_t current_handoff(const loader *l, const char *lead, time_ms at)
{
    uint32_t k;
    if (!strmap_get(l->leads, lead, strlen(lead), &k)) return 0;
    uint64_t number = 0;
    for (uint32_t i = l->lead_first[k]; i < l->lead_first[k + 1] && l->by_lead[i].at <= at; i++)
        number = l->by_lead[i].number;
    return number;
}

/* The lead an event names: its own key when it has handoffs, else the lead
 * an alias points at, else itself. */
static const char *resolve(const loader *l, const char *lead)
{
    uint32_t i;
    if (strmap_get(l->leads, lead, strlen(lead), &i)) return lead;
    if (strmap_get(l->aliases, lead, strlen(lead), &i)) return l->alias_leads[i];
    return lead;
}

/* ---- 4. the event log ----------------------------------------------------------------- */

/* properties.amount: a number, or a string holding one (as the decoder reads it). */
static double amount_of(const json_t *props)
{
    const json_t *v = json_object_get(props, "amount");
    if (json_is_number(v)) return json_number_value(v);
    const char *s = json_string_value(v);
    if (!s || !*s) return 0;
    char *end;
    double d = strtod(s, &end);
    return *end ? 0 : d;
}

static bool take_outcome(loader *l, const store_event *e, enum outcome_kind kind)
{
    json_t *body = json_loadb(e->body ? e->body : "", e->body_len, 0, NULL);
    const json_t *props = json_object_get(body, "properties");
    const char *lead = resolve(l, e->lead);
    report_outcome o = {
        .handoff = current_handoff(l, lead, e->at),
        .lead = lead,
        .kind = (uint8_t)kind,
        .at = e->at,
        .amount = amount_of(props),
    };
    bool ok = true;
    if (kind == OUTCOME_REJECTED) {
        o.reason = jstr(props, "reason");
        const rejection *r = o.handoff ? find_rejection(l, o.handoff, e->at) : NULL;
        if (!o.reason || (contract_find_reason(l->c, o.reason) < 0 && !r)) {
            l->counts.unknown_reasons++;
            goto done;
        }
        o.returned = r && r->returned;
    }
    if (!report_data_add_outcome(l->d, &o)) ok = nomem(l);
    else l->counts.outcomes++;
done:
    json_decref(body);
    return ok;
}

static bool on_event(void *ctx, const store_event *e)
{
    loader *l = ctx;
    l->counts.events++;
    report_data_saw(l->d, e->at);
    if (!e->lead || !e->name || !e->type || strcmp(e->type, "track") != 0) return true;
    for (size_t k = 0; k < OUTCOME_COUNT; k++)
        if (strcmp(e->name, outcome_event_name((enum outcome_kind)k)) == 0) return take_outcome(l, e, (enum outcome_kind)k);
    return true;
}

/* ---- the whole ----------------------------------------------------------------------- */

int report_data_from_store(report_data *d, store *s, const contract *c, report_store_counts *counts, char *why,
                           size_t why_size)
{
    loader l = {.d = d, .s = s, .c = c, .why = why, .why_size = why_size, .rc = REPORT_LOADED};
    if (why_size) why[0] = '\0';
    l.mem = arena_new(LOADER_ARENA_BLOCK);
    l.aliases = strmap_new();
    l.leads = strmap_new();
    if (!l.mem || !l.aliases || !l.leads) {
        nomem(&l);
        goto done;
    }
    store_load aliases = {.ctx = &l, .alias = on_alias};
    int rc = s->ops->load(s, &aliases, 0, 0);
    if (l.rc != REPORT_LOADED) goto done;
    if (rc != STORE_OK) {
        store_failed(&l, "load");
        goto done;
    }
    if (!read_handoffs(&l) || !read_timelines(&l) || !add_handoffs(&l)) goto done;
    rc = s->ops->each_event(s, INT64_MIN, INT64_MAX, NULL, on_event, &l);
    if (l.rc == REPORT_LOADED && rc != STORE_OK) store_failed(&l, "each_event");
done:
    if (counts) *counts = l.counts;
    arena_free(l.mem);
    strmap_free(l.aliases);
    strmap_free(l.leads);
    mem_free(l.alias_leads);
    mem_free(l.held);
    mem_free(l.lead_keys);
    mem_free(l.by_lead);
    mem_free(l.lead_first);
    mem_free(l.rejections);
    return l.rc;
}
