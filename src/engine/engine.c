/* engine_apply(): one event's way through identity, signals, history and gates.
 *
 *   event ─► dedupe ─► identify (lead by userId / email / anonymousId,
 *            account by email domain or group) ─► keep traits ─► signals
 *            (hits into lead and account history) ─► outcomes in the stream
 *            ─► gates in order (first that holds) ─► handoff
 *
 * Invariants:
 *   1. a lead's history holds only hits of events applied to it, each once
 *      (duplicate messageIds stop at the door; a merge skips equal hits);
 *   2. gates are evaluated only for an identified lead in the first stage
 *      that is open (not waiting for context, not cooling down, not
 *      suppressed);
 *   3. nothing here reads the clock: `now` is the event's timestamp. */
#include "engine/internal.h"

#include "text/text.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const value null_value = {.type = VAL_NULL};

/* Is every hole of a description template a field path of the contract
 * ("{page.title}")? Such a description renders the same whenever it is
 * rendered during the event; any other hole may read what `mentions` last
 * found ({phrase}, or a macro), which the programs run after it change. */
static bool reads_only_fields(const contract *c, const char *describe)
{
    if (!describe) return true; /* the signal's name */
    for (const char *p = describe; *p; p++) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p++;
            continue;
        }
        if (*p != '{') continue;
        const char *end = strchr(p + 1, '}');
        if (!end) return false;
        size_t len = (size_t)(end - p - 1);
        bool is_field = false;
        for (size_t f = 0; f < contract_field_count(c) && !is_field; f++) {
            const char *path = contract_field(c, f)->path;
            is_field = strchr(path, '.') && strlen(path) == len && memcmp(path, p + 1, len) == 0;
        }
        if (!is_field) return false;
        p = end;
    }
    return true;
}

engine *engine_new(const contract *c, const engine_options *opt)
{
    engine *e = mem_calloc(1, sizeof *e);
    if (!e) return NULL;
    e->c = c;
    if (opt) e->opt = *opt;
    if (!e->opt.dedupe_window) e->opt.dedupe_window = 7 * MS_PER_DAY;
    e->next_handoff = e->opt.first_handoff ? e->opt.first_handoff : 1;
    e->history = contract_about(c)->history;
    e->pool = arena_new(256 * 1024);
    e->strings = strmap_new();
    e->lead_ids = strmap_new();
    e->account_ids = strmap_new();
    if (!e->pool || !e->strings || !e->lead_ids || !e->account_ids) goto fail;
    if (!dedupe_init(&e->seen, e->opt.dedupe_window) || !sla_setup(e)) goto fail;

    e->field_count = contract_field_count(c);
    size_t fc = e->field_count ? e->field_count : 1;
    e->lead_slot = arena_alloc(e->pool, fc * sizeof *e->lead_slot);
    e->account_slot = arena_alloc(e->pool, fc * sizeof *e->account_slot);
    e->fields = arena_zalloc(e->pool, fc * sizeof *e->fields);
    if (!e->lead_slot || !e->account_slot || !e->fields) goto fail;
    e->slot_account_owner = -1;
    /* the contract numbers the lead's and account's kept fields (field_info.kept), so that
     * its programs read them where they are kept (build_env()) */
    for (size_t i = 0; i < e->field_count; i++) {
        const field_info *f = contract_field(c, i);
        e->lead_slot[i] = e->account_slot[i] = UINT32_MAX;
        if (strcmp(f->path, "account.owner") == 0) e->slot_account_owner = (int32_t)i;
        if (f->from == FIELD_FROM_LEAD) e->lead_slot[i] = f->kept;
        if (f->from == FIELD_FROM_ACCOUNT) e->account_slot[i] = f->kept;
        e->lead_slot_count += f->from == FIELD_FROM_LEAD;
        e->account_slot_count += f->from == FIELD_FROM_ACCOUNT;
        if (f->from == FIELD_FROM_STATE) e->reads_state[f->kept] = e->reads_any_state = true;
    }
    e->no_account = arena_zalloc(e->pool, (e->account_slot_count + 1) * sizeof *e->no_account); /* all null */
    if (!e->no_account) goto fail;

    size_t signals = contract_signal_count(c), gates = contract_gate_count(c), fits = contract_fit_count(c);
    e->signal_count = signals;
    e->gate_count = gates;
    e->fit_count = fits;
    e->signal_words = (signals + 63) / 64;
    e->points = contract_points(c);
    e->reads_points = e->points->enabled && contract_about(c)->reads_points;
    e->signal_when = arena_alloc(e->pool, (signals + 1) * sizeof *e->signal_when);
    e->gates = arena_alloc(e->pool, (gates + 1) * sizeof *e->gates);
    e->fit_when = arena_alloc(e->pool, (fits + 1) * sizeof *e->fit_when);
    if (!e->signal_when || !e->gates || !e->fit_when) goto fail;
    e->guard_decides = arena_alloc(e->pool, signals + 1);
    if (!e->guard_decides) goto fail;
    for (size_t i = 0; i < signals; i++) e->signal_when[i] = contract_signal(c, i)->when;
    for (size_t i = 0; i < signals; i++) e->guard_decides[i] = contract_signal(c, i)->guard_decides;
    for (size_t i = 0; i < gates; i++) e->gates[i] = contract_gate(c, i);
    for (size_t i = 0; i < fits; i++) e->fit_when[i] = contract_fit(c, i)->when;
    /* fits that read only account fields hold alike for every lead of an account, until its fields change */
    bool *account_field = arena_zalloc(e->pool, fc * sizeof *account_field);
    if (!account_field) goto fail;
    for (size_t i = 0; i < e->field_count; i++) account_field[i] = contract_field(c, i)->scope == SCOPE_ACCOUNT;
    e->fits_by_account = fits > 0 && fits <= 16;
    for (size_t i = 0; i < fits && e->fits_by_account; i++)
        e->fits_by_account = e->fit_when[i] && program_reads_only_fields(e->fit_when[i], account_field);
    e->kind_of = arena_alloc(e->pool, (signals + 1) * sizeof *e->kind_of);
    e->rank_of = arena_alloc(e->pool, signals + 1);
    e->signal_now = arena_zalloc(e->pool, signals + 1);
    e->fit = arena_zalloc(e->pool, contract_fit_count(c) + 1);
    e->terms = arena_zalloc(e->pool, (CONTRACT_MAX_TERMS + 1) * sizeof *e->terms);
    e->triggers = arena_zalloc(e->pool, (signals + LEAD_RECENT + 1) * sizeof *e->triggers);
    e->stats.by_gate = arena_zalloc(e->pool, (gates + 1) * sizeof *e->stats.by_gate);
    if (!e->kind_of || !e->rank_of || !e->signal_now || !e->fit || !e->terms || !e->triggers ||
        !e->stats.by_gate)
        goto fail;
    for (size_t i = 0; i < signals; i++) {
        const signal_info *s = contract_signal(c, i);
        const kind_info *k = contract_kind(c, s->kind);
        e->kind_of[i] = s->kind;
        if (!k->builtin) e->rank_of[i] = 0; /* user-defined kinds: counted, never described */
        else e->rank_of[i] = strcmp(k->name, "engagement") == 0 ? 1 : 2;
    }
    strbuf_init(&e->did);
    strbuf_init(&e->asks);
    strbuf_init(&e->json);
    e->now_desc = arena_alloc(e->pool, (signals + 1) * sizeof *e->now_desc);
    e->desc_pending = arena_zalloc(e->pool, signals + 1);
    e->describe_later = arena_zalloc(e->pool, signals + 1);
    if (!e->now_desc || !e->desc_pending || !e->describe_later || !score_setup(e)) goto fail;
    for (size_t i = 0; i < signals; i++) e->describe_later[i] = reads_only_fields(c, contract_signal(c, i)->describe);
    return e;
fail:
    engine_free(e);
    return NULL;
}

void engine_set_router(engine *e, router *r)
{
    e->opt.router = r;
}

void engine_free(engine *e)
{
    if (!e) return;
    for (uint32_t b = 0; b * LEADS_PER_BLOCK < e->lead_count; b++) mem_free(e->lead_blocks[b]);
    mem_free(e->lead_blocks);
    for (uint32_t i = 0; i < e->account_count; i++) mem_free(e->accounts[i].hits);
    mem_free(e->accounts);
    mem_free(e->changed_leads);
    mem_free(e->changed_accounts);
    dedupe_free(&e->seen);
    sla_teardown(e);
    score_teardown(e);
    strmap_free(e->strings);
    strmap_free(e->lead_ids);
    strmap_free(e->account_ids);
    strbuf_free(&e->did);
    strbuf_free(&e->asks);
    strbuf_free(&e->json);
    arena_free(e->pool);
    mem_free(e);
}

const engine_stats *engine_get_stats(const engine *e)
{
    return &e->stats;
}

size_t engine_state_bytes(const engine *e)
{
    return (size_t)e->lead_count * sizeof(lead) + (size_t)e->account_cap * sizeof(account) + e->account_hit_bytes +
           arena_used(e->pool) + strmap_bytes(e->strings) + strmap_bytes(e->lead_ids) +
           strmap_bytes(e->account_ids) + dedupe_bytes(&e->seen);
}

/* ---- history, as the expression language asks for it ---------------------------
 *
 * A window is turned into the seconds it takes once per question, so that
 * each hit costs a subtraction and a comparison (in_last() per hit did the
 * same arithmetic in milliseconds). A lead's hits are in time order
 * (lead_add_hit()), so a lead's questions read them from the newest back and
 * stop at the window's start; an account's ring is in arrival order, late
 * events among them, and is read whole. Every question can stop at the
 * `enough` its caller compares with (eval_env.count). */

/* The whole second a time falls in, rounded down (before 1970 too). */
static int64_t second_of(time_ms t)
{
    return (t - (t < 0 ? MS_PER_SECOND - 1 : 0)) / MS_PER_SECOND;
}

/* The seconds t with first <= t <= last whose hits in_last(now, window, t)
 * takes: t * 1000 after now - window and at or before now. False when it
 * takes none. */
static bool window_seconds(time_ms now, duration_ms window, uint32_t *first, uint32_t *last)
{
    int64_t from = second_of(now - window) + 1, to = second_of(now);
    if (from < 0) from = 0;
    if (to > (int64_t)UINT32_MAX) to = UINT32_MAX;
    if (to < from) return false;
    *first = (uint32_t)from;
    *last = (uint32_t)to;
    return true;
}

/* Does a hit of `signal` count for `want`: its kind (by_kind, kind_of
 * being the engine's) or itself. Inlined with by_kind constant, so each
 * loop below comes in two copies that make one comparison per hit. */
static inline __attribute__((always_inline)) bool hit_matches(const uint32_t *kind_of, bool by_kind,
                                                              uint32_t want, uint32_t signal)
{
    return by_kind ? kind_of[signal] == want : signal == want;
}

static inline __attribute__((always_inline)) uint32_t lead_count(const engine *e, bool by_kind,
                                                                 uint32_t want, uint32_t first,
                                                                 uint32_t last, uint32_t enough)
{
    const lead *l = e->cur_lead;
    unsigned i = l->hit_count;
    if (!i) return 0;
    const hit *hits = l->history->hits;
    const uint32_t *kind_of = e->kind_of;
    while (i > 0 && hits[i - 1].t > last) /* after the decision time: events that came late */
        i--;
    uint32_t n = 0;
    for (; i > 0 && hits[i - 1].t >= first; i--)
        if (hit_matches(kind_of, by_kind, want, hits[i - 1].signal) && ++n == enough) break;
    return n;
}

static inline __attribute__((always_inline)) uint32_t account_count(const account *a,
                                                                    const engine *e, bool by_kind,
                                                                    uint32_t want, uint32_t first,
                                                                    uint32_t last, uint32_t enough)
{
    uint32_t n = 0, span = last - first;
    const uint32_t *kind_of = e->kind_of;
    for (uint16_t i = 0; i < a->hit_count; i++) {
        const account_hit *h = &a->hits[i];
        if (h->t - first <= span && hit_matches(kind_of, by_kind, want, h->signal) && ++n == enough)
            break;
    }
    return n;
}

static uint32_t history_count(void *ctx, uint32_t target, duration_ms window, enum agg_scope scope,
                              uint32_t enough)
{
    const engine *e = ctx;
    uint32_t first, last;
    if (!window_seconds(e->now, window, &first, &last)) return 0;
    bool by_kind = target >= CONTRACT_KIND_BASE;
    uint32_t want = by_kind ? target - CONTRACT_KIND_BASE : target;
    if (scope == AGG_LEAD)
        return by_kind ? lead_count(e, true, want, first, last, enough)
                       : lead_count(e, false, want, first, last, enough);
    const account *a = e->cur_account;
    if (!a) return 0;
    return by_kind ? account_count(a, e, true, want, first, last, enough)
                   : account_count(a, e, false, want, first, last, enough);
}

static bool history_last(void *ctx, uint32_t target, time_ms *when)
{
    const engine *e = ctx;
    const lead *l = e->cur_lead;
    bool by_kind = target >= CONTRACT_KIND_BASE;
    uint32_t want = by_kind ? target - CONTRACT_KIND_BASE : target;
    const uint32_t *kind_of = e->kind_of;
    /* the newest hit at or before the decision time: hits are in time order */
    for (unsigned i = l->hit_count; i-- > 0;) {
        const hit *h = &l->history->hits[i];
        if ((time_ms)h->t * MS_PER_SECOND > e->now ||
            !hit_matches(kind_of, by_kind, want, h->signal))
            continue;
        *when = (time_ms)h->t * MS_PER_SECOND;
        return true;
    }
    *when = 0;
    return false;
}

static inline __attribute__((always_inline)) uint32_t
account_distinct(const account *a, const engine *e, bool by_kind, uint32_t want, uint32_t first,
                 uint32_t last, uint32_t enough)
{
    uint32_t leads[ACCOUNT_MAX_HITS];
    uint32_t n = 0, span = last - first, newest = 0;
    const uint32_t *kind_of = e->kind_of;
    for (uint16_t i = 0; i < a->hit_count; i++) {
        const account_hit *h = &a->hits[i];
        if (h->t - first > span || !hit_matches(kind_of, by_kind, want, h->signal)) continue;
        /* a lead's hits tend to come together: the last lead found is checked first */
        uint32_t who = h->lead;
        if (n && newest == who) continue;
        bool seen = false;
        for (uint32_t j = 0; j + 1 < n && !seen; j++)
            seen = leads[j] == who;
        if (seen) continue;
        leads[n++] = newest = who;
        if (n == enough) break;
    }
    return n;
}

static uint32_t history_distinct(void *ctx, uint32_t target, duration_ms window, uint32_t enough)
{
    const engine *e = ctx;
    const account *a = e->cur_account;
    if (!a) return e->cur_lead ? (history_count(ctx, target, window, AGG_LEAD, 1) > 0) : 0;
    uint32_t first, last;
    if (!window_seconds(e->now, window, &first, &last)) return 0;
    bool by_kind = target >= CONTRACT_KIND_BASE;
    uint32_t want = by_kind ? target - CONTRACT_KIND_BASE : target;
    return by_kind ? account_distinct(a, e, true, want, first, last, enough)
                   : account_distinct(a, e, false, want, first, last, enough);
}

void engine_history_answers(engine *e, eval_env *env)
{
    env->ctx = e;
    env->count = history_count;
    env->last = history_last;
    env->distinct = history_distinct;
}

/* ---- identity ----------------------------------------------------------------- */

static str email_domain(str email)
{
    str none = {NULL, 0};
    const char *at = email.s ? memchr(email.s, '@', email.len) : NULL;
    if (!at || at + 1 >= email.s + email.len) return none;
    str d = {at + 1, (uint32_t)(email.s + email.len - at - 1)};
    return d;
}

/* Makes a new id name lead `index`, and tells the sink. */
static bool add_alias(engine *e, const engine_sink *sink, const char *id, size_t len, uint32_t index)
{
    const char *kept = strmap_put(e->lead_ids, id, len, index);
    if (!kept) return false;
    if (sink && sink->alias) sink->alias(sink->ctx, kept, lead_at(e, index)->key);
    return true;
}

/* Folds lead `from` into `into`: history without double counting, the
 * buyer's words when `into` has none, and every id of `from` now names
 * `into`. */
static bool merge_leads(engine *e, const engine_sink *sink, lead *into, uint32_t into_index, lead *from)
{
    const lead_history *old = from->history;
    lead_history *h = from->hit_count || from->recent_count ? lead_history_of(e, into) : into->history;
    if (!h && (from->hit_count || from->recent_count)) return false;
    for (uint8_t i = 0; i < from->hit_count; i++) {
        bool dup = false;
        for (uint8_t j = 0; j < into->hit_count && !dup; j++)
            dup = h->hits[j].t == old->hits[i].t && h->hits[j].signal == old->hits[i].signal;
        if (!dup) lead_add_hit(e, into, old->hits[i].signal, (time_ms)old->hits[i].t * MS_PER_SECOND);
    }
    for (uint8_t i = 0; i < from->recent_count && into->recent_count < LEAD_RECENT; i++)
        h->recent[into->recent_count++] = old->recent[i];
    /* the texts move over: `from` never reads them again */
    if (!into->question) into->question = from->question;
    if (!into->pain) into->pain = from->pain;
    if (!into->impact) into->impact = from->impact;
    from->question = from->pain = from->impact = NULL;
    if (into->account == NO_ACCOUNT) into->account = from->account;
    add_alias(e, sink, from->key, strlen(from->key), into_index);
    from->merged = true;
    lead_history_release(e, from);
    into->settled = false;
    e->stats.anonymous_merges++;
    return true;
}

/* The other ids an event names beside its userId, as one 64-bit hash (never 0). */
static uint64_t other_ids(const event *ev)
{
    uint64_t h = ev->anonymous_id.len ? hash_bytes(ev->anonymous_id.s, ev->anonymous_id.len) : 0;
    h ^= ((ev->email.len ? hash_bytes(ev->email.s, ev->email.len) : 0) + 1) * UINT64_C(0x9e3779b97f4a7c15);
    return h ? h : 1;
}

/* The lead an event is about: userId, else the email, else the anonymousId.
 * An event naming both a userId and an anonymousId links them. */
static lead *identify(engine *e, const engine_sink *sink, const event *ev, uint64_t key_hash, uint32_t *index)
{
    bool created;
    lead *l;
    uint64_t others = 0; /* other_ids(ev), worked out for an event with a userId and other ids */
    if (ev->user_id.len) {
        l = lead_find_or_add(e, key_hash, ev->user_id.s, ev->user_id.len, index, &created);
        if (!l) return NULL;
        l->anonymous = false;
        /* The same ids as last time: linked then, and an identified lead's
         * links never change, so there is nothing to look up. */
        others = ev->anonymous_id.len || ev->email.len ? other_ids(ev) : 0;
        if (others && others == l->other_ids) return l;
        if (ev->anonymous_id.len) {
            uint32_t other;
            if (strmap_get(e->lead_ids, ev->anonymous_id.s, ev->anonymous_id.len, &other)) {
                if (other != *index) {
                    lead *anon = lead_at(e, other);
                    if (!anon->merged && anon->anonymous) {
                        mark_changed(e, other); /* its state is now "merged" */
                        if (!merge_leads(e, sink, l, *index, anon)) return NULL;
                    }
                }
            } else if (!add_alias(e, sink, ev->anonymous_id.s, ev->anonymous_id.len, *index)) {
                return NULL;
            }
        }
    } else if (ev->email.len && ev->type == EVENT_IDENTIFY) {
        l = lead_find_or_add(e, key_hash, ev->email.s, ev->email.len, index, &created);
        if (!l) return NULL;
        l->anonymous = false;
        if (ev->anonymous_id.len) {
            uint32_t other;
            if (!strmap_get(e->lead_ids, ev->anonymous_id.s, ev->anonymous_id.len, &other)) {
                if (!add_alias(e, sink, ev->anonymous_id.s, ev->anonymous_id.len, *index)) return NULL;
            } else if (other != *index && lead_at(e, other)->anonymous && !lead_at(e, other)->merged) {
                mark_changed(e, other);
                if (!merge_leads(e, sink, l, *index, lead_at(e, other))) return NULL;
            }
        }
    } else {
        l = lead_find_or_add(e, key_hash, ev->anonymous_id.s, ev->anonymous_id.len, index, &created);
        if (!l) return NULL;
        if (created) l->anonymous = true;
    }
    if (ev->email.len && ev->user_id.len) {
        /* the email names this lead too */
        uint32_t known;
        if (!strmap_get(e->lead_ids, ev->email.s, ev->email.len, &known) &&
            !add_alias(e, sink, ev->email.s, ev->email.len, *index))
            return NULL;
    }
    if (ev->user_id.len && (ev->anonymous_id.len || ev->email.len)) l->other_ids = others;
    return l;
}

/* The account: a group call names it; otherwise the email's domain,
 * unless that is a free-mail domain. */
static bool place_in_account(engine *e, lead *l, const event *ev)
{
    str key = {NULL, 0};
    if (ev->type == EVENT_GROUP) {
        key = ev->domain.len ? ev->domain : ev->group_id;
    } else if (l->account == NO_ACCOUNT && ev->email.len) {
        str d = email_domain(ev->email);
        if (d.len && !is_free_mail(e, d.s, d.len)) key = d;
    }
    if (!key.len) return true;
    uint32_t index;
    if (!account_find_or_add(e, key.s, key.len, &index)) return false;
    if (l->account != index) l->settled = false;
    l->account = index;
    return true;
}

/* Keeps what identify and group traits say about the lead and account. */
static bool keep_traits(engine *e, lead *l, const event *ev)
{
    bool traits = ev->type == EVENT_IDENTIFY || ev->type == EVENT_GROUP; /* only they set fields */
    for (size_t i = 0; traits && i < e->field_count; i++) {
        const value *v = &ev->fields[i];
        if (v->type == VAL_NULL) continue;
        if (e->lead_slot[i] != UINT32_MAX && ev->type == EVENT_IDENTIFY) {
            if (!value_keep(e, &l->fields[e->lead_slot[i]], v)) return false;
            l->settled = false;
        } else if (e->account_slot[i] != UINT32_MAX && ev->type == EVENT_GROUP && l->account != NO_ACCOUNT) {
            if (!value_keep(e, &e->accounts[l->account].fields[e->account_slot[i]], v)) return false;
            e->accounts[l->account].version++;
            e->accounts[l->account].fit_known = false;
        }
    }
    if (ev->pain.len || ev->impact.len) l->settled = false;
    if (ev->pain.len && !lead_set_text(e, &l->pain, ev->pain.s, ev->pain.len, ENGINE_MAX_TEXT)) return false;
    if (ev->impact.len && !lead_set_text(e, &l->impact, ev->impact.s, ev->impact.len, ENGINE_MAX_TEXT))
        return false;
    if (ev->text.len) {
        char q[ENGINE_MAX_TEXT + 1];
        size_t qn = text_last_question(ev->text, q, sizeof q);
        if (qn && !lead_set_text(e, &l->question, q, qn, ENGINE_MAX_TEXT)) return false;
    }
    return true;
}

static value string_value(const contract *c, const char *s)
{
    value v = {.type = VAL_STR};
    v.as.str.s = s;
    v.as.str.len = (uint32_t)strlen(s);
    v.as.str.id = contract_intern_find(c, s, v.as.str.len);
    return v;
}

/* The expression environment for this event, lead and account. Programs
 * read the fields where they are kept (eval_env.at): the event's, the
 * lead's, the account's, and the few worked out from state here. */
static void build_env(engine *e, const event *ev, lead *l, eval_env *env)
{
    const contract *c = e->c;
    account *a = l->account != NO_ACCOUNT ? &e->accounts[l->account] : NULL;
    e->at[FIELD_FROM_EVENT] = ev->fields;
    e->at[FIELD_FROM_LEAD] = l->fields;
    e->at[FIELD_FROM_ACCOUNT] = a ? a->fields : e->no_account;
    e->at[FIELD_FROM_STATE] = e->state_fields;
    if (e->reads_any_state) {
        const bool *reads = e->reads_state;
        value *v = e->state_fields;
        if (reads[STATE_LEAD_ID]) v[STATE_LEAD_ID] = string_value(c, l->key);
        if (reads[STATE_LEAD_STAGE]) v[STATE_LEAD_STAGE] = string_value(c, contract_stage(c, l->stage)->name);
        if (reads[STATE_LEAD_OWNER]) v[STATE_LEAD_OWNER] = string_value(c, contract_stage(c, l->stage)->team);
        if (reads[STATE_LEAD_STATUS]) v[STATE_LEAD_STATUS] = string_value(c, lead_status_name(l->status));
        if (reads[STATE_ACCOUNT_DOMAIN])
            v[STATE_ACCOUNT_DOMAIN] = a ? string_value(c, a->domain) : null_value;
    }

    e->cur_lead = l;
    e->cur_account = a;
    e->now = ev->timestamp;
    memset(env, 0, sizeof *env);
    env->fields = e->fields; /* filled only for a handoff: see engine_flat_fields() */
    env->at = e->at;
    env->signal_now = e->signal_now;
    env->fit = e->fit;
    env->now = ev->timestamp;
    engine_history_answers(e, env);
    env->score.type = VAL_NULL; /* set after this event's hits, in engine_apply() */
    const points_info *pts = e->points;
    env->points.type = VAL_NULL;
    if (e->reads_points) { /* decay costs a pow(): only when read */
        double p = l->points;
        if (pts->half_life && ev->timestamp > l->points_at)
            p *= pow(0.5, (double)(ev->timestamp - l->points_at) / (double)pts->half_life);
        env->points.type = VAL_NUM;
        env->points.as.num = p;
    }
}

void engine_flat_fields(engine *e)
{
    for (size_t i = 0; i < e->field_count; i++) {
        const field_info *f = contract_field(e->c, i);
        e->fields[i] = e->at[f->from][f->kept];
    }
}

static void add_points(engine *e, lead *l, uint32_t signal, time_ms t)
{
    const points_info *pts = e->points;
    if (!pts->enabled || !pts->per_signal[signal]) return;
    if (pts->half_life && t > l->points_at)
        l->points *= pow(0.5, (double)(t - l->points_at) / (double)pts->half_life);
    if (t > l->points_at) l->points_at = t;
    l->points += pts->per_signal[signal];
    if (pts->cap && l->points > pts->cap) l->points = pts->cap;
}

/* The slot a new action of `rank` takes among the lead's recent actions:
 * a free one, else the least telling, oldest entry; -1 when every entry
 * tells more. */
static int action_slot(const lead *l, uint8_t rank)
{
    const recent_action *recent = l->history->recent; /* made by the hit before */
    if (l->recent_count < LEAD_RECENT) return l->recent_count;
    int slot = -1;
    for (int i = 0; i < LEAD_RECENT; i++) {
        const recent_action *r = &recent[i];
        if (slot < 0 || r->rank < recent[slot].rank || (r->rank == recent[slot].rank && r->t < recent[slot].t))
            slot = i;
    }
    return recent[slot].rank > rank ? -1 : slot;
}

/* Keeps an action in `slot` (from action_slot()) of the lead's most telling
 * recent actions. The description is this event's, in now_desc. */
static void remember_action(engine *e, lead *l, int slot, uint32_t signal, const event *ev)
{
    recent_action *r = &l->history->recent[slot];
    if (slot == l->recent_count) l->recent_count++;
    r->t = (uint32_t)(ev->timestamp / MS_PER_SECOND);
    r->signal = (uint16_t)signal;
    r->rank = e->rank_of[signal];
    size_t n = e->now_id.len < sizeof r->message_id - 1 ? e->now_id.len : sizeof r->message_id - 1;
    n = strnlen(e->now_id.s ? e->now_id.s : "", n); /* as far as a NUL, as a C string copy of it would */
    if (n) memcpy(r->message_id, e->now_id.s, n);
    r->message_id[n] = '\0';
    memcpy(r->description, e->now_desc[signal], sizeof r->description);
}

static void describe_now(engine *e, uint32_t signal, const eval_env *env)
{
    strbuf d;
    strbuf_init_fixed(&d, e->now_desc[signal], ENGINE_DESCRIPTION);
    contract_render_signal(e->c, signal, env, &d);
    e->desc_pending[signal] = false;
}

const char *signal_description(engine *e, uint32_t signal, const eval_env *env)
{
    if (e->desc_pending[signal]) describe_now(e, signal, env);
    return e->now_desc[signal];
}

static bool eligible(const lead *l)
{
    return !l->anonymous && !l->merged && l->stage == 0 && l->status == STATUS_OPEN;
}

/* Can this event's hits have made the gate hold? Not when the gate is
 * monotone, did not hold before the event (the lead was settled) and reads
 * none of the signals hit. */
static bool gate_may_change(const engine *e, const gate_info *g, bool settled, const uint64_t *hits)
{
    if (!settled || !g->monotone) return true;
    bool any = false;
    for (size_t w = 0; w < e->signal_words; w++) {
        if (g->reads[w] & hits[w]) return true;
        any |= hits[w] != 0;
    }
    /* points move with every hit; a learned score also with time and the account */
    return g->every_hit && (any || e->model);
}

/* The fit predicates into e->fit: from the account's cache when every fit
 * reads only account fields (the fields of no account are all null). */
static void work_out_fits(engine *e, account *a, const eval_env *env)
{
    if (!e->fits_by_account) {
        for (size_t f = 0; f < e->fit_count; f++) e->fit[f] = program_holds(e->fit_when[f], env);
        return;
    }
    bool *known = a ? &a->fit_known : &e->fit_none_known;
    uint16_t *bits = a ? &a->fit_bits : &e->fit_none_bits;
    if (*known) {
        for (size_t f = 0; f < e->fit_count; f++) e->fit[f] = (*bits >> f) & 1;
        return;
    }
    uint16_t held = 0;
    for (size_t f = 0; f < e->fit_count; f++) {
        e->fit[f] = program_holds(e->fit_when[f], env);
        held |= (uint16_t)(e->fit[f] << f);
    }
    *bits = held;
    *known = true;
}

/* The gates in order: the first that holds makes a handoff. `settled`: the
 * gates all failed at the lead's last event, and only this event's hits
 * (`hits`, a signal bit set) have changed anything they read since. */
static void evaluate_gates(engine *e, const engine_sink *sink, lead *l, account *a, const event *ev,
                           const eval_env *env, bool settled, const uint64_t *hits)
{
    bool fits_known = false; /* fit predicates are worked out for the first gate that needs them */
    for (size_t g = 0; g < e->gate_count; g++) {
        const gate_info *gate = e->gates[g];
        if (!gate_may_change(e, gate, settled, hits)) continue;
        if (!fits_known) work_out_fits(e, a, env);
        fits_known = true;
        if (!program_holds(gate->when, env)) continue;
        handoff_make(e, sink, l, (uint32_t)g, ev, env);
        return;
    }
    l->settled = true;
    l->account_version = a ? a->version : 0;
}

/* An event's two hashes: its messageId's (0 without one), which the dedupe
 * table files it under, and the hash of its lead's key in the lead map. */
typedef struct event_hashes {
    uint64_t id, key;
} event_hashes;

static event_hashes hash_event(const event *ev)
{
    str key = event_lead_key(ev);
    return (event_hashes){
        .id = ev->message_id.len ? dedupe_hash(ev->message_id.s, ev->message_id.len) : 0,
        .key = strmap_hash(key.s, key.len),
    };
}

/* Starts the two look-ups every event makes, each likely a cache miss. */
static void prefetch_slots(const engine *e, event_hashes h)
{
    if (h.id) dedupe_prefetch(&e->seen, h.id);
    strmap_prefetch(e->lead_ids, h.key);
}

const char *current_message_id(engine *e)
{
    if (!e->now_id_copied) {
        size_t n = e->now_id.len < sizeof e->now_message_id - 1 ? e->now_id.len : sizeof e->now_message_id - 1;
        if (n) memcpy(e->now_message_id, e->now_id.s, n);
        e->now_message_id[n] = '\0';
        e->now_id_copied = true;
    }
    return e->now_message_id;
}

#define NO_HINT UINT32_MAX

/* `fetched_lead` and `fetched_account`: the lead and account whose hits the
 * caller has already asked the cache for (engine_apply_batch()'s walk), or
 * NO_HINT. */
static enum apply_result apply_hashed(engine *e, const event *ev, const engine_sink *sink, event_hashes h,
                                      uint32_t fetched_lead, uint32_t fetched_account)
{
    const contract *c = e->c;
    uint64_t id_hash = h.id, key_hash = h.key;
    if (id_hash) {
        bool nomem;
        if (dedupe_seen(&e->seen, id_hash, ev->timestamp, &nomem)) {
            e->stats.duplicates++;
            return APPLY_DUPLICATE;
        }
        if (nomem) return APPLY_NOMEM;
    }
    if (ev->timestamp < e->newest) e->stats.late++;
    if (ev->timestamp > e->newest) e->newest = ev->timestamp;
    e->stats.applied++;
    if (!e->opt.external_clock) engine_advance(e, ev->timestamp, sink);

    uint32_t index;
    lead *l = identify(e, sink, ev, key_hash, &index);
    if (!l || !place_in_account(e, l, ev)) return APPLY_NOMEM;
    /* The hits the signals and gates below will count, fetched while traits,
     * fields and guards are worked out: each is a cache miss otherwise. */
    if (l->history && index != fetched_lead) prefetch_bytes(l->history->hits, sizeof l->history->hits);
    if (l->account != NO_ACCOUNT && l->account != fetched_account && e->accounts[l->account].hits)
        prefetch_bytes(e->accounts[l->account].hits, e->accounts[l->account].hit_cap * sizeof(account_hit));
    /* mark_changed() and mark_account_changed() return at once for what is listed already:
     * the test here spares the call on the per-event path */
    if (!keep_traits(e, l, ev) || (!l->changed && !mark_changed(e, index))) return APPLY_NOMEM;
    e->cur_index = index;
    e->clock_nomem = false;
    if (ev->type == EVENT_GROUP && l->account != NO_ACCOUNT && !e->accounts[l->account].changed &&
        !mark_account_changed(e, l->account))
        return APPLY_NOMEM;

    /* copied only for the events that keep or report it (current_message_id()) */
    e->now_id = ev->message_id;
    e->now_id_copied = false;
    eval_env env;
    build_env(e, ev, l, &env);
    account *a = e->cur_account;
    uint32_t version_before = a ? a->version : 0; /* this event's hits move it */
    uint64_t candidates[CONTRACT_SIGNAL_WORDS]; /* the signals whose guard this event passes */
    uint64_t hits[CONTRACT_SIGNAL_WORDS] = {0};
    contract_signal_candidates(c, &env, candidates);
    memset(e->signal_now, 0, e->signal_count);
    for (size_t w = 0; w < e->signal_words; w++) {
        for (uint64_t bits = candidates[w]; bits; bits &= bits - 1) {
            size_t s = w * 64 + (size_t)__builtin_ctzll(bits); /* in the contract's order */
            if (!e->guard_decides[s] && !program_holds(e->signal_when[s], &env)) continue;
            e->signal_now[s] = true;
            hits[w] |= bits & -bits;
            if (!lead_add_hit(e, l, (uint32_t)s, ev->timestamp)) return APPLY_NOMEM;
            if (a) {
                if (!account_add_hit(e, a, index, (uint32_t)s, ev->timestamp) ||
                    (!a->changed && !mark_account_changed(e, l->account)))
                    return APPLY_NOMEM;
            }
            add_points(e, l, (uint32_t)s, ev->timestamp);
            uint8_t rank = e->rank_of[s];
            if (rank == 0) continue;
            /* A description the lead does not keep is needed only by a handoff
             * made by this event, which renders it (signal_description()). */
            int slot = action_slot(l, rank);
            e->desc_pending[s] = true;
            if (slot >= 0 || !e->describe_later[s]) describe_now(e, (uint32_t)s, &env);
            if (slot >= 0) remember_action(e, l, slot, (uint32_t)s, ev);
        }
    }
    /* a hit that earned points has decayed and added them as of now */
    if (env.points.type == VAL_NUM && l->points_at == ev->timestamp) env.points.as.num = l->points;
    if (e->model) env.score = lead_score(e, l, ev->timestamp); /* else null, as build_env() left it */

    if (l->status == STATUS_RECYCLED) lifecycle_wake(e, sink, l, ev->timestamp);
    if (ev->type == EVENT_TRACK) lifecycle_outcome(e, sink, l, ev);
    if (l->status == STATUS_NEEDS_CONTEXT && lead_has_context(e, l, l->pending_gate))
        handoff_release(e, sink, l, &env, ev->timestamp);
    /* gates that failed before and read none of this event's hits still fail */
    bool settled = l->settled && l->account_version == version_before;
    if (eligible(l)) evaluate_gates(e, sink, l, a, ev, &env, settled, hits);
    return e->clock_nomem ? APPLY_NOMEM : APPLY_OK; /* a clock that could not start */
}

enum apply_result engine_apply(engine *e, const event *ev, const engine_sink *sink)
{
    event_hashes h = hash_event(ev);
    prefetch_slots(e, h);
    return apply_hashed(e, ev, sink, h, NO_HINT, NO_HINT);
}

/* ---- many events, their look-ups started ahead --------------------------------
 *
 * An event's state is a chain of dependent loads: the dedupe and map slots,
 * then the map entry (which holds the lead's number), the lead, then its
 * hits and its account, then the account's hits. One event alone waits for
 * each in turn. engine_apply_batch() walks the chain for the events ahead
 * of the one it applies, one link per event per step, so when an event's
 * turn comes its state is in the cache. What the walk reads are hints:
 * the event ahead may find its lead changed, merged or not yet made by the
 * events before it, which costs only a wasted prefetch. */

#define AHEAD_STEP 3           /* events between two links of the chain */
#define AHEAD (4 * AHEAD_STEP) /* the first link starts this many events ahead */
#define AHEAD_RING 16          /* walks kept, of the events from the one applied on */
_Static_assert(AHEAD < AHEAD_RING && (AHEAD_RING & (AHEAD_RING - 1)) == 0, "the ring holds the walk");

/* The event's own bytes, which its hashes and fields are read from: the
 * caller's, and not always in the cache (a replay's events decoded ahead). */
static void prefetch_event(const engine *e, const event *ev)
{
    str key = event_lead_key(ev);
    __builtin_prefetch(ev->message_id.s);
    __builtin_prefetch(key.s);
    prefetch_bytes(ev->fields, e->field_count * sizeof *ev->fields);
}

/* An event ahead: its hashes, and what the walk found of its lead so far. */
typedef struct lookahead {
    event_hashes h;
    uint32_t lead, account; /* hints, NO_HINT until found; once found, their hits were fetched */
} lookahead;

static void prefetch_lead(engine *e, lookahead *a)
{
    uint32_t index;
    if (!strmap_value_hint(e->lead_ids, a->h.key, &index) || index >= e->lead_count) return;
    a->lead = index;
    prefetch_bytes(lead_at(e, index), sizeof(lead));
}

static void prefetch_lead_state(engine *e, lookahead *a)
{
    if (a->lead == NO_HINT) return;
    const lead *l = lead_at(e, a->lead);
    if (l->history) {
        prefetch_bytes(l->history->hits, sizeof l->history->hits);
        for (int i = 0; i < LEAD_RECENT; i++) __builtin_prefetch(&l->history->recent[i]); /* its rank and time */
    }
    if (l->fields) __builtin_prefetch(l->fields);
    if (l->account == NO_ACCOUNT || l->account >= e->account_count) return;
    a->account = l->account;
    __builtin_prefetch(&e->accounts[l->account]);
}

static void prefetch_account_state(engine *e, const lookahead *a)
{
    if (a->account == NO_HINT) return;
    const account *acc = &e->accounts[a->account];
    if (acc->hits) prefetch_bytes(acc->hits, acc->hit_cap * sizeof(account_hit));
    if (acc->fields) __builtin_prefetch(acc->fields);
}

/* Starts event j's walk: its hashes, and the first link. */
static void start_walk(engine *e, const event *ev, lookahead *a)
{
    *a = (lookahead){.h = hash_event(ev), .lead = NO_HINT, .account = NO_HINT};
    prefetch_slots(e, a->h);
}

size_t engine_apply_batch(engine *e, const event *evs, size_t n, const engine_sink *sink,
                          enum apply_result *results)
{
    lookahead ahead[AHEAD_RING]; /* event i's at i % AHEAD_RING, from when its walk starts */
    for (size_t k = 0; k < AHEAD + AHEAD_STEP && k < n; k++) prefetch_event(e, &evs[k]);
    for (size_t k = 0; k < AHEAD && k < n; k++) start_walk(e, &evs[k], &ahead[k]);
    for (size_t i = 0; i < n; i++) {
        /* one link each for the events AHEAD and a step, AHEAD, 3/4, 1/2 and 1/4 of it, and two, ahead */
        size_t j = i + AHEAD;
        if (j + AHEAD_STEP < n) prefetch_event(e, &evs[j + AHEAD_STEP]);
        if (j < n) start_walk(e, &evs[j], &ahead[j % AHEAD_RING]);
        if ((j -= AHEAD_STEP) < n) strmap_prefetch_entry(e->lead_ids, ahead[j % AHEAD_RING].h.key);
        if ((j -= AHEAD_STEP) < n) prefetch_lead(e, &ahead[j % AHEAD_RING]);
        if ((j -= AHEAD_STEP) < n) prefetch_lead_state(e, &ahead[j % AHEAD_RING]);
        if (i + 2 < n) prefetch_account_state(e, &ahead[(i + 2) % AHEAD_RING]);
        const lookahead *walk = &ahead[i % AHEAD_RING];
        enum apply_result r = apply_hashed(e, &evs[i], sink, walk->h, walk->lead, walk->account);
        if (results) results[i] = r;
        if (r == APPLY_NOMEM) return i + 1;
    }
    return n;
}

/* ---- accounts from a CSV row ----------------------------------------------------- */

bool engine_set_account(engine *e, const account_row *row)
{
    const char *domain = NULL;
    for (size_t i = 0; i < row->count; i++)
        if (strcmp(row->names[i], "domain") == 0) domain = row->values[i];
    if (!domain || !*domain) return false;
    uint32_t index;
    account *a = account_find_or_add(e, domain, strlen(domain), &index);
    if (!a) return false;
    for (size_t i = 0; i < row->count; i++) {
        char path[256];
        snprintf(path, sizeof path, "account.%s", row->names[i]);
        for (size_t f = 0; f < e->field_count; f++) {
            const field_info *fi = contract_field(e->c, f);
            if (e->account_slot[f] == UINT32_MAX) continue;
            bool match = strcmp(fi->path, path) == 0;
            if (!match && strncmp(fi->path, "account.traits.", 15) == 0)
                match = strcmp(fi->path + 15, row->names[i]) == 0;
            if (!match) continue;
            value v = {.type = VAL_NULL};
            const char *text = row->values[i];
            if (!*text) continue;
            if (fi->type == VAL_NUM) {
                char *end;
                double n = strtod(text, &end);
                if (*end) continue;
                v.type = VAL_NUM;
                v.as.num = n;
            } else {
                v.type = VAL_STR;
                v.as.str.s = text;
                v.as.str.len = (uint32_t)strlen(text);
                v.as.str.id = contract_intern_find(e->c, text, v.as.str.len);
            }
            if (!value_keep(e, &a->fields[e->account_slot[f]], &v)) return false;
            a->version++;
            a->fit_known = false;
            if (!mark_account_changed(e, index)) return false;
        }
    }
    return true;
}

size_t engine_load_accounts(engine *e, FILE *in, void (*refused)(void *ctx, uint64_t line, const char *why),
                            void *ctx)
{
    size_t set = 0;
    csv_reader *cr = csv_reader_new(in);
    const char *header[CSV_MAX_COLUMNS];
    char *copies[CSV_MAX_COLUMNS] = {0};
    size_t columns = 0, count;
    uint64_t line = 1;
    const char *problem = NULL;
    const char *const *row = cr ? csv_next(cr, &columns, &line, &problem) : NULL;
    bool has_domain = false;
    for (size_t i = 0; row && !problem && i < columns; i++) {
        header[i] = copies[i] = mem_strndup(row[i], strlen(row[i]));
        has_domain |= header[i] && strcmp(header[i], "domain") == 0;
    }
    if (!row || problem || !has_domain) {
        refused(ctx, 1, !row || problem ? "no header row" : "the header has no 'domain' column");
        goto done;
    }
    while ((row = csv_next(cr, &count, &line, &problem))) {
        const char *why = problem ? problem : count != columns ? "the row has a different number of columns" : NULL;
        account_row ar = {.names = header, .values = row, .count = count};
        if (!why && !engine_set_account(e, &ar)) why = "the row has no domain";
        if (why) refused(ctx, line, why);
        else set++;
    }
done:
    for (size_t i = 0; i < columns; i++) mem_free(copies[i]);
    csv_reader_free(cr);
    return set;
}
