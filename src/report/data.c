/* The facts a report is made of: handoffs and outcomes, each copied in.
 *
 * Strings are interned (one copy each, at a stable address), so two facts
 * about the same lead, gate or reason share a pointer and the figures can
 * group by comparing pointers. Handoffs are kept in the order given; a
 * lookup by number sorts them once, lazily. */
#include "report/report.h"

#include <stdlib.h>
#include <string.h>

#define DATA_ARENA_BLOCK (64u * 1024)

struct report_data {
    arena *mem;
    strmap *strings;
    report_handoff *handoffs;
    size_t handoff_count, handoff_cap;
    report_outcome *outcomes;
    size_t outcome_count, outcome_cap;
    bool sorted; /* handoffs are in number order */
    time_ms latest;
};

report_data *report_data_new(void)
{
    report_data *d = mem_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->mem = arena_new(DATA_ARENA_BLOCK);
    d->strings = strmap_new();
    d->sorted = true;
    if (!d->mem || !d->strings) {
        report_data_free(d);
        return NULL;
    }
    return d;
}

void report_data_free(report_data *d)
{
    if (!d) return;
    arena_free(d->mem);
    strmap_free(d->strings);
    mem_free(d->handoffs);
    mem_free(d->outcomes);
    mem_free(d);
}

/* The interned copy of s; NULL stays NULL. Sets *ok false when memory runs out. */
static const char *intern(report_data *d, const char *s, bool *ok)
{
    if (!s) return NULL;
    const char *copy = strmap_put(d->strings, s, strlen(s), 0);
    if (!copy) *ok = false;
    return copy;
}

/* Makes room for one more element of `size` bytes in a growable array. */
static bool reserve(void **items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) return true;
    size_t n = *cap ? *cap * 2 : 256;
    void *grown = mem_realloc(*items, n * size);
    if (!grown) return false;
    *items = grown;
    *cap = n;
    return true;
}

bool report_data_add_handoff(report_data *d, const report_handoff *h)
{
    if (!reserve((void **)&d->handoffs, d->handoff_count, &d->handoff_cap, sizeof *d->handoffs)) return false;
    bool ok = true;
    report_handoff copy = *h;
    copy.lead = intern(d, h->lead, &ok);
    copy.account = intern(d, h->account, &ok);
    copy.gate = intern(d, h->gate, &ok);
    copy.owner = intern(d, h->owner, &ok);
    copy.source = intern(d, h->source, &ok);
    uint32_t n = h->field_count < REPORT_MAX_FIELDS ? h->field_count : REPORT_MAX_FIELDS;
    report_field *fields = n ? arena_alloc(d->mem, n * sizeof *fields) : NULL;
    if (n && !fields) return false;
    for (uint32_t i = 0; i < n; i++) {
        fields[i] = h->fields[i];
        fields[i].name = intern(d, h->fields[i].name, &ok);
        if (!h->fields[i].numeric) fields[i].text = intern(d, h->fields[i].text ? h->fields[i].text : "", &ok);
    }
    copy.fields = fields;
    copy.field_count = n;
    if (!ok) return false;
    if (d->handoff_count && d->handoffs[d->handoff_count - 1].number > copy.number) d->sorted = false;
    d->handoffs[d->handoff_count++] = copy;
    report_data_saw(d, h->at);
    return true;
}

bool report_data_add_outcome(report_data *d, const report_outcome *o)
{
    if (!reserve((void **)&d->outcomes, d->outcome_count, &d->outcome_cap, sizeof *d->outcomes)) return false;
    bool ok = true;
    report_outcome copy = *o;
    copy.lead = intern(d, o->lead, &ok);
    copy.reason = intern(d, o->reason, &ok);
    if (!ok) return false;
    d->outcomes[d->outcome_count++] = copy;
    report_data_saw(d, o->at);
    return true;
}

void report_data_saw(report_data *d, time_ms t)
{
    if (t > d->latest) d->latest = t;
}

static int by_number(const void *a, const void *b)
{
    uint64_t x = ((const report_handoff *)a)->number, y = ((const report_handoff *)b)->number;
    return (x > y) - (x < y);
}

const report_handoff *report_data_find(const report_data *d, uint64_t number)
{
    if (!d->sorted) {
        /* sorting changes no fact, only the order they are kept in */
        report_data *m = (report_data *)d;
        qsort(m->handoffs, m->handoff_count, sizeof *m->handoffs, by_number);
        m->sorted = true;
    }
    size_t lo = 0, hi = d->handoff_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->handoffs[mid].number < number) lo = mid + 1;
        else hi = mid;
    }
    return lo < d->handoff_count && d->handoffs[lo].number == number ? &d->handoffs[lo] : NULL;
}

bool report_data_release(report_data *d, uint64_t number, time_ms at)
{
    report_handoff *h = (report_handoff *)report_data_find(d, number);
    if (!h) return false;
    if (!h->released) h->released = at;
    report_data_saw(d, at);
    return true;
}

size_t report_data_handoff_count(const report_data *d)
{
    return d->handoff_count;
}

const report_handoff *report_data_handoff(const report_data *d, size_t i)
{
    return &d->handoffs[i];
}

size_t report_data_outcome_count(const report_data *d)
{
    return d->outcome_count;
}

const report_outcome *report_data_outcome(const report_data *d, size_t i)
{
    return &d->outcomes[i];
}

time_ms report_data_latest(const report_data *d)
{
    return d->latest;
}

bool report_question_is_generic(const contract *c, const char *asks)
{
    if (!asks) return true;
    while (*asks == ' ') asks++;
    if (!*asks) return true;
    const char *fallback = contract_topic_question(c, "default");
    return fallback && strcmp(asks, fallback) == 0;
}
