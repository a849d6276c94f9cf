/* Lead and account state as bytes, for the store and for contract reloads.
 *
 * The format names everything by name — signals, stages, statuses, gates and
 * field paths — never by index, so state written under one contract version
 * is read correctly under the next: a renamed or removed signal's hits are
 * dropped, a new signal starts with none.
 *
 *   lead    = u8 format, str key, u8 anonymous, u8 merged, str account,
 *             str stage, str status, str pending_gate, u64 handoff,
 *             i64 cooldown_until, str pain, str impact, str question,
 *             f64 points, i64 points_at,
 *             u8 names, str name*, u8 hits, (u32 t, u8 name)*,
 *             u8 recent, (u32 t, u8 name, u8 rank, str message_id, str description)*,
 *             u16 fields, (str path, value)*,
 *             i64 reached, i64 due[first_touch], i64 due[meeting], str rep,
 *             str territory                                       (format 2 on)
 *   account = u8 format, str domain, u16 fields, (str path, value)*,
 *             u8 names, str name*, u8 leads, str lead*, u8 hits, (u32 t, u8 name, u8 lead)*
 *   value   = u8 type, then nothing (null) | u8 (bool) | f64 (number) |
 *             str (text) | i64 (duration, time)
 *   str     = u16 length, bytes (an absent string has length 0xFFFF)
 * Integers are little-endian. */
#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#define NO_STRING 0xFFFFu

/* ---- writing ------------------------------------------------------------------ */

static void put_u8(strbuf *b, uint8_t v)
{
    strbuf_append(b, (const char *)&v, 1);
}

static void put_uint(strbuf *b, uint64_t v, int bytes)
{
    unsigned char buf[8];
    for (int i = 0; i < bytes; i++) buf[i] = (unsigned char)(v >> (8 * i));
    strbuf_append(b, (const char *)buf, (size_t)bytes);
}

static void put_f64(strbuf *b, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    put_uint(b, bits, 8);
}

static void put_str(strbuf *b, const char *s)
{
    if (!s) {
        put_uint(b, NO_STRING, 2);
        return;
    }
    size_t n = strlen(s);
    if (n > NO_STRING - 1) n = NO_STRING - 1;
    put_uint(b, n, 2);
    strbuf_append(b, s, n);
}

static void put_value(strbuf *b, const value *v)
{
    put_u8(b, v->type);
    switch (v->type) {
    case VAL_BOOL: put_u8(b, v->as.b); break;
    case VAL_NUM: put_f64(b, v->as.num); break;
    case VAL_STR: {
        size_t n = v->as.str.len < NO_STRING - 1 ? v->as.str.len : NO_STRING - 1;
        put_uint(b, n, 2);
        strbuf_append(b, v->as.str.s, n);
        break;
    }
    case VAL_DUR:
    case VAL_TIME: put_uint(b, (uint64_t)v->as.ms, 8); break;
    default: break;
    }
}

/* Writes the non-null slots of one scope, by path. */
static void put_fields(strbuf *b, const engine *e, const value *fields, const uint32_t *slot_of)
{
    uint16_t n = 0;
    for (size_t i = 0; i < e->field_count; i++)
        if (slot_of[i] != UINT32_MAX && fields[slot_of[i]].type != VAL_NULL) n++;
    put_uint(b, n, 2);
    for (size_t i = 0; i < e->field_count; i++) {
        if (slot_of[i] == UINT32_MAX || fields[slot_of[i]].type == VAL_NULL) continue;
        put_str(b, contract_field(e->c, i)->path);
        put_value(b, &fields[slot_of[i]]);
    }
}

static lead *find_lead(const engine *e, const char *key)
{
    uint32_t index;
    if (!strmap_get(e->lead_ids, key, strlen(key), &index)) return NULL;
    return lead_at((engine *)e, index);
}

bool engine_export_lead(const engine *e, const char *key, strbuf *out)
{
    const contract *c = e->c;
    const lead *l = find_lead(e, key);
    if (!l || strcmp(l->key, key) != 0) return false; /* unknown, or an alias */
    put_u8(out, ENGINE_STATE_FORMAT);
    put_str(out, l->key);
    put_u8(out, l->anonymous);
    put_u8(out, l->merged);
    put_str(out, l->account != NO_ACCOUNT ? e->accounts[l->account].domain : NULL);
    put_str(out, contract_stage(c, l->stage)->name);
    put_str(out, lead_status_name(l->status));
    put_str(out, l->status == STATUS_NEEDS_CONTEXT ? contract_gate(c, l->pending_gate)->name : NULL);
    put_uint(out, l->handoff, 8);
    put_uint(out, (uint64_t)l->cooldown_until, 8);
    put_str(out, l->pain);
    put_str(out, l->impact);
    put_str(out, l->question);
    put_f64(out, l->points);
    put_uint(out, (uint64_t)l->points_at, 8);

    /* the signal names this lead's history uses */
    uint16_t names[LEAD_MAX_HITS + LEAD_RECENT];
    uint8_t count = 0;
    uint8_t name_of_hit[LEAD_MAX_HITS] = {0}, name_of_recent[LEAD_RECENT] = {0};
    for (int pass = 0; pass < 2; pass++) {
        uint8_t n = pass == 0 ? l->hit_count : l->recent_count;
        for (uint8_t i = 0; i < n; i++) {
            uint16_t s = pass == 0 ? l->history->hits[i].signal : l->history->recent[i].signal;
            uint8_t j = 0;
            while (j < count && names[j] != s) j++;
            if (j == count) names[count++] = s;
            (pass == 0 ? name_of_hit : name_of_recent)[i] = j;
        }
    }
    put_u8(out, count);
    for (uint8_t j = 0; j < count; j++) put_str(out, contract_signal(c, names[j])->name);
    put_u8(out, l->hit_count);
    for (uint8_t i = 0; i < l->hit_count; i++) {
        put_uint(out, l->history->hits[i].t, 4);
        put_u8(out, name_of_hit[i]);
    }
    put_u8(out, l->recent_count);
    for (uint8_t i = 0; i < l->recent_count; i++) {
        const recent_action *r = &l->history->recent[i];
        put_uint(out, r->t, 4);
        put_u8(out, name_of_recent[i]);
        put_u8(out, r->rank);
        put_str(out, r->message_id);
        put_str(out, r->description);
    }
    put_fields(out, e, l->fields, e->lead_slot);
    put_uint(out, (uint64_t)l->reached, 8);
    for (int k = 0; k < SLA_CLOCK_COUNT; k++) put_uint(out, (uint64_t)l->due[k], 8);
    put_str(out, l->rep);
    put_str(out, l->territory);
    return !out->oom;
}

/* Index of v in a small table, added when absent. */
static uint8_t table_index(uint32_t *table, uint8_t *count, uint32_t v)
{
    uint8_t j = 0;
    while (j < *count && table[j] != v) j++;
    if (j == *count) table[(*count)++] = v;
    return j;
}

bool engine_export_account(const engine *e, const char *domain, strbuf *out)
{
    uint32_t index;
    if (!strmap_get(e->account_ids, domain, strlen(domain), &index)) return false;
    const account *a = &e->accounts[index];
    put_u8(out, ENGINE_STATE_FORMAT);
    put_str(out, a->domain);
    put_fields(out, e, a->fields, e->account_slot);
    /* the ring, oldest first, with names for its signals and leads */
    uint32_t signals[ACCOUNT_MAX_HITS], leads[ACCOUNT_MAX_HITS];
    uint8_t signal_count = 0, lead_count = 0, sig_of[ACCOUNT_MAX_HITS], lead_of[ACCOUNT_MAX_HITS];
    uint16_t first = (uint16_t)((a->hit_head + ACCOUNT_MAX_HITS - a->hit_count) % ACCOUNT_MAX_HITS);
    for (uint16_t k = 0; k < a->hit_count; k++) {
        const account_hit *h = &a->hits[(first + k) % ACCOUNT_MAX_HITS];
        sig_of[k] = table_index(signals, &signal_count, h->signal);
        lead_of[k] = table_index(leads, &lead_count, h->lead);
    }
    put_u8(out, signal_count);
    for (uint8_t j = 0; j < signal_count; j++) put_str(out, contract_signal(e->c, signals[j])->name);
    put_u8(out, lead_count);
    for (uint8_t j = 0; j < lead_count; j++) put_str(out, lead_at((engine *)e, leads[j])->key);
    put_u8(out, (uint8_t)a->hit_count);
    for (uint16_t k = 0; k < a->hit_count; k++) {
        const account_hit *h = &a->hits[(first + k) % ACCOUNT_MAX_HITS];
        put_uint(out, h->t, 4);
        put_u8(out, sig_of[k]);
        put_u8(out, lead_of[k]);
    }
    return !out->oom;
}

/* ---- reading ------------------------------------------------------------------ */

typedef struct reader {
    const unsigned char *p, *end;
    bool bad;
} reader;

static uint64_t get_uint(reader *r, int bytes)
{
    if (r->bad || r->end - r->p < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static double get_f64(reader *r)
{
    uint64_t bits = get_uint(r, 8);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* A string in the blob; valid while the blob is. len is set; NULL when absent. */
static const char *get_str(reader *r, size_t *len)
{
    uint64_t n = get_uint(r, 2);
    *len = 0;
    if (r->bad || n == NO_STRING) return NULL;
    if ((uint64_t)(r->end - r->p) < n) {
        r->bad = true;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += n;
    *len = (size_t)n;
    return s;
}

static bool get_value(reader *r, value *v)
{
    memset(v, 0, sizeof *v);
    v->type = (uint8_t)get_uint(r, 1);
    size_t n;
    switch (v->type) {
    case VAL_NULL: break;
    case VAL_BOOL: v->as.b = get_uint(r, 1) != 0; break;
    case VAL_NUM: v->as.num = get_f64(r); break;
    case VAL_STR:
        v->as.str.s = get_str(r, &n);
        v->as.str.len = (uint32_t)n;
        if (!v->as.str.s) v->as.str.s = "";
        break;
    case VAL_DUR:
    case VAL_TIME: v->as.ms = (int64_t)get_uint(r, 8); break;
    default: r->bad = true;
    }
    return !r->bad;
}

static const char *copy_str(engine *e, reader *r, size_t cap)
{
    size_t n;
    const char *s = get_str(r, &n);
    if (!s) return NULL;
    return pool_copy(e, s, n, cap);
}

/* A text of the lead (pain, impact, question) as stored, or NULL. */
static bool read_text(engine *e, reader *r, char **text)
{
    size_t n;
    const char *s = get_str(r, &n);
    if (!s) *text = NULL;
    return !s || lead_set_text(e, text, s, n, ENGINE_MAX_TEXT);
}

static bool names_equal(const char *a, size_t n, const char *b)
{
    return a && strlen(b) == n && memcmp(a, b, n) == 0;
}

/* Reads (path, value) pairs into the slots of one scope. */
static bool get_fields(engine *e, reader *r, value *fields, const uint32_t *slot_of)
{
    uint64_t n = get_uint(r, 2);
    for (uint64_t k = 0; k < n && !r->bad; k++) {
        size_t plen;
        const char *path = get_str(r, &plen);
        value v;
        if (!get_value(r, &v)) return false;
        for (size_t i = 0; i < e->field_count; i++) {
            if (slot_of[i] == UINT32_MAX || !names_equal(path, plen, contract_field(e->c, i)->path)) continue;
            if (v.type == VAL_STR) v.as.str.id = contract_intern_find(e->c, v.as.str.s, v.as.str.len);
            if (!value_keep(e, &fields[slot_of[i]], &v)) return false;
        }
    }
    return !r->bad;
}

static int find_by_name(size_t count, const char *(*name_of)(const contract *, size_t), const contract *c,
                        const char *s, size_t n)
{
    for (size_t i = 0; i < count; i++)
        if (names_equal(s, n, name_of(c, i))) return (int)i;
    return -1;
}

static const char *signal_name(const contract *c, size_t i)
{
    return contract_signal(c, i)->name;
}

static const char *stage_name(const contract *c, size_t i)
{
    return contract_stage(c, i)->name;
}

static const char *gate_name(const contract *c, size_t i)
{
    return contract_gate(c, i)->name;
}

bool engine_import_lead(engine *e, const void *blob, size_t len)
{
    const contract *c = e->c;
    reader r = {blob, (const unsigned char *)blob + len, false};
    uint64_t format = get_uint(&r, 1);
    if (format != 1 && format != ENGINE_STATE_FORMAT) return false;
    size_t n;
    const char *key = get_str(&r, &n);
    if (!key || r.bad) return false;
    uint32_t index;
    bool created;
    lead *l = lead_find_or_add(e, strmap_hash(key, n), key, n, &index, &created);
    if (!l) return false;
    l->anonymous = get_uint(&r, 1) != 0;
    l->merged = get_uint(&r, 1) != 0;
    const char *domain = get_str(&r, &n);
    if (domain) {
        uint32_t a;
        if (!account_find_or_add(e, domain, n, &a)) return false;
        l->account = a;
    }
    const char *stage = get_str(&r, &n);
    int s = find_by_name(contract_stage_count(c), stage_name, c, stage, n);
    l->stage = (uint8_t)(s >= 0 ? s : 0);
    const char *status = get_str(&r, &n);
    l->status = STATUS_OPEN;
    for (int st = 0; st < STATUS_COUNT; st++)
        if (names_equal(status, n, lead_status_name((enum lead_status)st))) l->status = (uint8_t)st;
    const char *gate = get_str(&r, &n);
    int g = find_by_name(contract_gate_count(c), gate_name, c, gate, n);
    if (l->status == STATUS_NEEDS_CONTEXT && g < 0) l->status = STATUS_OPEN; /* its gate is gone */
    l->pending_gate = (uint16_t)(g >= 0 ? g : 0);
    l->handoff = get_uint(&r, 8);
    l->cooldown_until = (time_ms)get_uint(&r, 8);
    if (!read_text(e, &r, &l->pain) || !read_text(e, &r, &l->impact) || !read_text(e, &r, &l->question))
        return false;
    l->points = get_f64(&r);
    l->points_at = (time_ms)get_uint(&r, 8);

    int signal_of[256] = {0}; /* read only below the count filled */
    uint64_t names = get_uint(&r, 1);
    for (uint64_t j = 0; j < names; j++) {
        const char *name = get_str(&r, &n);
        signal_of[j] = find_by_name(contract_signal_count(c), signal_name, c, name, n);
    }
    uint64_t hits = get_uint(&r, 1);
    lead_history_release(e, l);
    lead_history *h = NULL;
    for (uint64_t i = 0; i < hits && !r.bad; i++) {
        uint32_t t = (uint32_t)get_uint(&r, 4);
        uint64_t j = get_uint(&r, 1);
        if (j >= names || signal_of[j] < 0 || l->hit_count == LEAD_MAX_HITS) continue;
        if (!h && !(h = lead_history_of(e, l))) return false;
        uint8_t at = l->hit_count++; /* in time order, as lead_add_hit() keeps them */
        for (; at > 0 && h->hits[at - 1].t > t; at--) h->hits[at] = h->hits[at - 1];
        h->hits[at].t = t;
        h->hits[at].signal = (uint8_t)signal_of[j];
    }
    uint64_t recent = get_uint(&r, 1);
    for (uint64_t i = 0; i < recent && !r.bad; i++) {
        recent_action a = {0};
        a.t = (uint32_t)get_uint(&r, 4);
        uint64_t j = get_uint(&r, 1);
        a.rank = (uint8_t)get_uint(&r, 1);
        const char *id = get_str(&r, &n);
        if (id) memcpy(a.message_id, id, n < sizeof a.message_id - 1 ? n : sizeof a.message_id - 1);
        const char *d = get_str(&r, &n);
        if (d) memcpy(a.description, d, n < sizeof a.description - 1 ? n : sizeof a.description - 1);
        if (j >= names || signal_of[j] < 0 || l->recent_count == LEAD_RECENT) continue;
        a.signal = (uint16_t)signal_of[j];
        if (!h && !(h = lead_history_of(e, l))) return false;
        h->recent[l->recent_count++] = a;
    }
    if (!get_fields(e, &r, l->fields, e->lead_slot)) return false;
    if (format >= 2) {
        l->reached = (time_ms)get_uint(&r, 8);
        for (int k = 0; k < SLA_CLOCK_COUNT; k++) l->due[k] = (time_ms)get_uint(&r, 8);
        l->rep = copy_str(e, &r, ENGINE_MAX_TEXT);
        l->territory = copy_str(e, &r, ENGINE_MAX_TEXT);
    }
    l->settled = false;
    return !r.bad && sla_restore(e, index);
}

bool engine_import_account(engine *e, const void *blob, size_t len)
{
    reader r = {blob, (const unsigned char *)blob + len, false};
    if (get_uint(&r, 1) != ENGINE_STATE_FORMAT) return false;
    size_t n;
    const char *domain = get_str(&r, &n);
    if (!domain || r.bad) return false;
    uint32_t index;
    account *a = account_find_or_add(e, domain, n, &index);
    if (!a) return false;
    a->version++;
    a->fit_known = false; /* its fields are read below */
    if (!get_fields(e, &r, a->fields, e->account_slot)) return false;
    int signal_of[256] = {0}; /* read only below the count filled */
    uint32_t lead_of[256];
    uint64_t names = get_uint(&r, 1);
    for (uint64_t j = 0; j < names; j++) {
        const char *name = get_str(&r, &n);
        signal_of[j] = find_by_name(contract_signal_count(e->c), signal_name, e->c, name, n);
    }
    uint64_t leads = get_uint(&r, 1);
    for (uint64_t j = 0; j < leads && !r.bad; j++) {
        const char *key = get_str(&r, &n);
        bool created;
        if (!key || !lead_find_or_add(e, strmap_hash(key, n), key, n, &lead_of[j], &created)) return false;
    }
    uint64_t hits = get_uint(&r, 1);
    a->hit_count = a->hit_head = 0;
    for (uint64_t k = 0; k < hits && !r.bad; k++) {
        uint32_t t = (uint32_t)get_uint(&r, 4);
        uint64_t sj = get_uint(&r, 1), lj = get_uint(&r, 1);
        if (sj >= names || lj >= leads || signal_of[sj] < 0) continue;
        if (!account_add_hit(e, a, lead_of[lj], (uint32_t)signal_of[sj], (time_ms)t * MS_PER_SECOND)) return false;
    }
    return !r.bad;
}

bool engine_import_alias(engine *e, const char *alias, const char *key)
{
    uint32_t index;
    if (!strmap_get(e->lead_ids, key, strlen(key), &index)) return false;
    return strmap_put(e->lead_ids, alias, strlen(alias), index) != NULL;
}

bool engine_import_seen(engine *e, const char *message_id, time_ms when)
{
    bool nomem;
    dedupe_seen(&e->seen, dedupe_hash(message_id, strlen(message_id)), when, &nomem);
    if (when > e->newest) e->newest = when;
    return !nomem;
}

void engine_set_next_handoff(engine *e, uint64_t next)
{
    if (next > e->next_handoff) e->next_handoff = next;
}

uint64_t engine_next_handoff(const engine *e)
{
    return e->next_handoff;
}

/* ---- what changed --------------------------------------------------------------- */

static bool push_index(uint32_t **list, size_t *count, size_t *cap, uint32_t v)
{
    if (*count == *cap) {
        size_t bigger = *cap ? 2 * *cap : 256;
        uint32_t *p = mem_realloc(*list, bigger * sizeof *p);
        if (!p) return false;
        *list = p;
        *cap = bigger;
    }
    (*list)[(*count)++] = v;
    return true;
}

bool mark_changed(engine *e, uint32_t index)
{
    lead *l = lead_at(e, index);
    if (l->changed) return true;
    l->changed = true;
    return push_index(&e->changed_leads, &e->changed_lead_count, &e->changed_lead_cap, index);
}

bool mark_account_changed(engine *e, uint32_t index)
{
    account *a = &e->accounts[index];
    if (a->changed) return true;
    a->changed = true;
    return push_index(&e->changed_accounts, &e->changed_account_count, &e->changed_account_cap, index);
}

size_t engine_changed_lead_count(const engine *e)
{
    return e->changed_lead_count;
}

const char *engine_changed_lead(const engine *e, size_t i)
{
    return lead_at((engine *)e, e->changed_leads[i])->key;
}

size_t engine_changed_account_count(const engine *e)
{
    return e->changed_account_count;
}

const char *engine_changed_account(const engine *e, size_t i)
{
    return e->accounts[e->changed_accounts[i]].domain;
}

void engine_clear_changed(engine *e)
{
    for (size_t i = 0; i < e->changed_lead_count; i++) lead_at(e, e->changed_leads[i])->changed = false;
    for (size_t i = 0; i < e->changed_account_count; i++) e->accounts[e->changed_accounts[i]].changed = false;
    e->changed_lead_count = e->changed_account_count = 0;
}

void engine_clear_stats(engine *e)
{
    engine_stats *st = &e->stats;
    st->applied = st->duplicates = st->anonymous_merges = st->late = 0;
    st->handoffs = st->needs_context = st->released = 0;
    memset(st->breaches, 0, sizeof st->breaches);
    memset(st->by_gate, 0, contract_gate_count(e->c) * sizeof *st->by_gate);
    /* leads and accounts count what the engine holds, not what happened */
}

size_t engine_lead_count(const engine *e)
{
    return e->lead_count;
}

const char *engine_lead_key(const engine *e, size_t i)
{
    const lead *l = lead_at((engine *)e, (uint32_t)i);
    return l->merged ? NULL : l->key;
}

size_t engine_account_count(const engine *e)
{
    return e->account_count;
}

const char *engine_account_domain(const engine *e, size_t i)
{
    return e->accounts[i].domain;
}

bool engine_reserve(engine *e, size_t leads, size_t accounts, size_t aliases)
{
    return strmap_reserve(e->lead_ids, leads + aliases) && strmap_reserve(e->account_ids, accounts);
}
