/* The committer: one thread that owns the engine and the store's write
 * connection, and makes waiting requests durable together (group commit).
 *
 *   requests ──submit──► queue ──► [ take all ─► BEGIN ─► decode, dedupe,
 *        ▲                           apply, record ─► (every second: state
 *        │                           of the leads changed since) ─►
 *        └──────── answered ◄──────── COMMIT (one fsync) ]
 *
 * Invariants:
 *   1. a request is answered only after the transaction holding its events
 *      committed, or failed;
 *   2. the engine's memory and the store agree after every group: the
 *      store's lead and account state, as of its last save, and the events
 *      stored since, replayed, give the engine's memory exactly (see "State
 *      saved now and then" below); when a commit fails the engine is rebuilt
 *      that way, so events that were applied but not made durable are
 *      forgotten with the rest;
 *   3. a duplicate messageId is answered as accepted and applied once: the
 *      store's unique index is the judge. */
#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

time_ms wall_clock(void)
{
    /* The one place baton reads the clock: the edge, not the engine core. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (time_ms)ts.tv_sec * MS_PER_SECOND + ts.tv_nsec / 1000000;
}

/* ---- recording what the engine decides --------------------------------------------- */

typedef struct recorder {
    server *s;
    bool failed;
    bool notified; /* webhook rows were queued in this group */
} recorder;

/* Queues a webhook in the group's transaction, when anyone listens. */
static void notify(recorder *r, enum webhook_event what, const char *data, time_ms at)
{
    server *s = r->s;
    if (!s->webhooks) return;
    if (webhook_enqueue(s->store, &s->opt.webhooks, what, data, at) != STORE_OK) r->failed = true;
    r->notified = true;
}

static bool copy_packet(void *ctx, const char *json)
{
    strbuf_puts(ctx, json);
    return false;
}

/* The webhooks one change of a lead sends: a stage change, an acceptance, a
 * rejection, and a held handoff released to sales (handoff.created then,
 * with the packet, as for one made at once). */
static void notify_change(recorder *r, const transition *t)
{
    server *s = r->s;
    if (!s->webhooks) return;
    strbuf_reset(&s->scratch);
    transition_to_json(s->contract, t, &s->scratch);
    const char *json = s->scratch.data ? s->scratch.data : "{}";
    if (t->from_stage != t->to_stage) notify(r, WEBHOOK_LEAD_STAGE_CHANGED, json, t->at);
    if (strncmp(t->cause, "rejected", 8) == 0) notify(r, WEBHOOK_HANDOFF_REJECTED, json, t->at);
    else if (t->to_status == STATUS_ACCEPTED && t->from_status == STATUS_HANDED_OFF)
        notify(r, WEBHOOK_HANDOFF_ACCEPTED, json, t->at);
    if (t->from_status == STATUS_NEEDS_CONTEXT && t->to_status == STATUS_HANDED_OFF && t->handoff) {
        strbuf_reset(&s->scratch);
        if (s->store->ops->get_handoff(s->store, t->handoff, copy_packet, &s->scratch) != STORE_OK) r->failed = true;
        else notify(r, WEBHOOK_HANDOFF_CREATED, s->scratch.data ? s->scratch.data : "{}", t->at);
    }
    if (s->scratch.oom) r->failed = true;
}

static void record_handoff(void *ctx, const handoff *h)
{
    recorder *r = ctx;
    server *s = r->s;
    strbuf_reset(&s->scratch);
    handoff_to_json(h, &s->scratch);
    const contract_info *about = contract_about(h->contract);
    store_handoff row = {
        .id = h->number,
        .lead = h->lead,
        .account = h->account,
        .gate = contract_gate(h->contract, h->gate)->name,
        .contract = about->name,
        .version = about->version,
        .at = h->at,
        .fast = h->fast,
        .stage = contract_stage(h->contract, h->stage)->name,
        .team = h->team,
        .status = h->needs_context ? "needs_context" : "handed_off",
        .packet = s->scratch.data ? s->scratch.data : "{}",
    };
    if (s->scratch.oom || s->store->ops->put_handoff(s->store, &row) != STORE_OK) r->failed = true;
    else notify(r, h->needs_context ? WEBHOOK_HANDOFF_NEEDS_CONTEXT : WEBHOOK_HANDOFF_CREATED, row.packet, h->at);
}

/* The handoff's own status, as sales sees it, after a change of the lead's. */
static const char *handoff_status(const transition *t)
{
    if (strncmp(t->cause, "rejected", 8) == 0) return "rejected";
    switch (t->to_status) {
    case STATUS_NEEDS_CONTEXT: return "needs_context";
    case STATUS_HANDED_OFF: return "handed_off";
    case STATUS_ACCEPTED: return "accepted";
    default: return NULL;
    }
}

static void record_change(void *ctx, const transition *t)
{
    recorder *r = ctx;
    server *s = r->s;
    const contract *c = s->contract;
    store_change row = {
        .lead = t->lead,
        .handoff = t->handoff,
        .at = t->at,
        .from_stage = contract_stage(c, t->from_stage)->name,
        .from_status = lead_status_name(t->from_status),
        .to_stage = contract_stage(c, t->to_stage)->name,
        .to_status = lead_status_name(t->to_status),
        .owner = contract_stage(c, t->to_stage)->team,
        .cause = t->cause,
        .actor = "engine",
    };
    if (s->store->ops->put_change(s->store, &row) != STORE_OK) r->failed = true;
    const char *status = handoff_status(t);
    if (t->handoff && status && s->store->ops->set_handoff_status(s->store, t->handoff, status) != STORE_OK)
        r->failed = true;
    notify_change(r, t);
}

/* A breach goes on the lead's timeline (its stage and status unchanged) and
 * to the webhooks. */
static void record_breach(void *ctx, const breach *b)
{
    recorder *r = ctx;
    server *s = r->s;
    const contract *c = s->contract;
    char due[40], cause[96];
    time_format(b->due, due, sizeof due);
    snprintf(cause, sizeof cause, "sla breached: %s due %s", sla_clock_name((enum sla_clock)b->clock), due);
    const char *stage = contract_stage(c, b->stage)->name, *status = lead_status_name((enum lead_status)b->status);
    store_change row = {
        .lead = b->lead,
        .handoff = b->handoff,
        .at = b->due,
        .from_stage = stage,
        .from_status = status,
        .to_stage = stage,
        .to_status = status,
        .owner = contract_stage(c, b->stage)->team,
        .cause = cause,
        .actor = "engine",
    };
    if (s->store->ops->put_change(s->store, &row) != STORE_OK) r->failed = true;
    if (b->reassigned) {
        snprintf(cause, sizeof cause, "sla escalated: reassigned from %s to %s", b->rep ? b->rep : "nobody",
                 b->reassigned->rep ? b->reassigned->rep : "nobody (the team holds it)");
        if (s->store->ops->put_change(s->store, &row) != STORE_OK) r->failed = true;
    }
    if (!s->webhooks) return;
    strbuf_reset(&s->scratch);
    breach_to_json(c, b, &s->scratch);
    if (s->scratch.oom) r->failed = true;
    notify(r, WEBHOOK_SLA_BREACHED, s->scratch.data ? s->scratch.data : "{}", b->due);
    if (b->reassigned) notify(r, WEBHOOK_SLA_ESCALATED, s->scratch.data ? s->scratch.data : "{}", b->due);
}

/* Identities are written with the state they belong to (save_state()):
 * kept until then as "alias\0lead\0" pairs. */
static void keep_alias(strbuf *aliases, const char *alias, const char *lead)
{
    strbuf_append(aliases, alias, strlen(alias) + 1);
    strbuf_append(aliases, lead, strlen(lead) + 1);
}

static void record_alias(void *ctx, const char *alias, const char *lead)
{
    recorder *r = ctx;
    keep_alias(&r->s->new_aliases, alias, lead);
    if (r->s->new_aliases.oom) r->failed = true;
}

/* ---- loading ----------------------------------------------------------------------- */

static bool load_sizes(void *ctx, uint64_t leads, uint64_t accounts, uint64_t aliases)
{
    return engine_reserve(ctx, (size_t)leads, (size_t)accounts, (size_t)aliases);
}

static bool load_lead(void *ctx, const void *blob, size_t len)
{
    return engine_import_lead(ctx, blob, len);
}

static bool load_account(void *ctx, const void *blob, size_t len)
{
    return engine_import_account(ctx, blob, len);
}

static bool load_alias(void *ctx, const char *alias, const char *lead)
{
    engine_import_alias(ctx, alias, lead); /* an alias of a lead no longer kept is dropped */
    return true;
}

static bool load_seen(void *ctx, const char *message_id, time_ms at)
{
    return engine_import_seen(ctx, message_id, at);
}

/* The reps and their rotation as the store holds them; NULL when the store
 * cannot be read or memory runs out. */
static router *router_from_store(server *s, const contract *c)
{
    router *r = route_new(&contract_about(c)->calendar);
    strbuf state;
    strbuf_init(&state);
    int rc = r ? s->store->ops->each_reps_csv(s->store, route_reload_reps, r) : STORE_ERROR;
    if (rc == STORE_OK) rc = s->store->ops->get_router_state(s->store, &state);
    if (rc == STORE_OK && !route_import(r, state.data, state.len, NULL)) rc = STORE_ERROR;
    strbuf_free(&state);
    if (rc == STORE_ERROR) {
        route_free(r);
        return NULL;
    }
    return r;
}

/* ---- State saved now and then --------------------------------------------------------
 *
 * Every group stores its events, handoffs and timeline, but the state of the
 * leads and accounts it changed is written only every `save_every` (and at a
 * contract swap, a CSV upload, a start and a stop): rewriting it every group
 * was half of the committer's work and of the bytes it wrote. A save writes,
 * in one transaction, every lead and account changed since the last one, the
 * identities made since, the router's rotation, and these meta keys:
 *
 *   state_through       the seq of the last event the saved state includes
 *   state_next_handoff  the number the next handoff got then
 *   contract            the text of the contract that applied the events after
 *
 * and every group writes `clock` (the wall-clock time its SLA clocks ran to)
 * and `next_handoff`. A start loads the saved state and replays the events
 * stored after state_through through the engine as the committer applied
 * them: at each new time of receipt the clocks run to it first, as a group's
 * do, and at the end they run to `clock`. The engine is deterministic, so
 * this gives back exactly the state the stopped server had; its handoffs,
 * changes and webhooks are in the store already and are not made again. */

typedef struct replay {
    engine *e;
    decoder *d;
    engine_sink sink;
    strbuf aliases; /* the identities the replay made, written at the next save */
    time_ms clock;  /* the group time the engine's clocks have run to */
    char *copy;     /* the body being decoded (decoding changes its bytes) */
    size_t cap;
    uint64_t events, refused;
} replay;

static void replay_alias(void *ctx, const char *alias, const char *lead)
{
    keep_alias(ctx, alias, lead);
}

/* Decodes a stored body as the committer did (decode_item()): as it
 * stands, else with the endpoint's type and the group's time, which the
 * body carries in front but a null later in it (`"timestamp": null`) hides. */
static bool replay_decode(replay *r, const store_event *se, event *ev, decode_error *err)
{
    decoder_set_default_type(r->d, -1);
    decoder_set_default_time(r->d, 0);
    memcpy(r->copy, se->body, se->body_len);
    if (decoder_decode(r->d, r->copy, se->body_len, ev, err)) return true;
    str type = {se->type, se->type ? (uint32_t)strlen(se->type) : 0};
    decoder_set_default_type(r->d, event_type_find(type));
    decoder_set_default_time(r->d, se->received);
    memcpy(r->copy, se->body, se->body_len);
    return decoder_decode(r->d, r->copy, se->body_len, ev, err);
}

static bool replay_event(void *ctx, const store_event *se)
{
    replay *r = ctx;
    if (se->received != r->clock) {
        engine_advance(r->e, se->received, &r->sink);
        r->clock = se->received;
    }
    if (se->body_len + 1 > r->cap) {
        char *bigger = mem_realloc(r->copy, se->body_len + 1);
        if (!bigger) return false;
        r->copy = bigger;
        r->cap = se->body_len + 1;
    }
    event ev;
    decode_error err;
    if (!replay_decode(r, se, &ev, &err)) {
        /* the committer decoded it; only a contract that reads it
         * differently now gets here */
        if (!r->refused++)
            fprintf(stderr, "baton serve: stored event %llu cannot be replayed: %s (at byte %u)\n",
                    (unsigned long long)se->seq, err.what, err.offset + 1);
        return true;
    }
    r->events++;
    return engine_apply(r->e, &ev, &r->sink) != APPLY_NOMEM;
}

static uint64_t meta_number(server *s, const char *key, uint64_t otherwise)
{
    char text[32];
    if (s->store->ops->get_meta(s->store, key, text, sizeof text) != STORE_OK) return otherwise;
    return strtoull(text, NULL, 10);
}

/* Replays the events stored after the saved state into `e`; the identities
 * it makes are appended to `aliases`. */
static bool replay_tail(server *s, engine *e, decoder *d, uint64_t through, strbuf *aliases)
{
    replay r = {.e = e, .d = d};
    r.sink = (engine_sink){.ctx = &r.aliases, .alias = replay_alias};
    strbuf_init(&r.aliases);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = s->store->ops->events_after(s->store, through, replay_event, &r);
    mem_free(r.copy);
    time_ms clock = (time_ms)meta_number(s, "clock", 0);
    if (rc == STORE_OK && clock > r.clock) engine_advance(e, clock, &r.sink);
    if (rc != STORE_OK || r.aliases.oom) {
        strbuf_free(&r.aliases);
        return false;
    }
    if (r.aliases.len) strbuf_append(aliases, r.aliases.data, r.aliases.len);
    strbuf_free(&r.aliases);
    engine_set_next_handoff(e, meta_number(s, "next_handoff", 0));
    /* groups that come later take later times, so the replay's boundaries stay apart */
    if (clock > s->last_group) s->last_group = clock;
    if (r.clock > s->last_group) s->last_group = r.clock;
    /* what the replay decided was counted by the server that decided it */
    engine_clear_stats(e);
    atomic_fetch_add(&s->replayed, r.events);
    if (r.events)
        fprintf(stderr, "baton serve: replayed %llu event%s stored after the last save of state (%.2f s)\n",
                (unsigned long long)r.events, r.events == 1 ? "" : "s", monotonic_seconds_since(&t0));
    if (r.refused)
        fprintf(stderr, "baton serve: %llu stored events could not be replayed\n", (unsigned long long)r.refused);
    return true;
}

/* A fresh engine for contract `c`, holding the store's state and the events
 * stored since it was saved, and the router it borrows (which replaces the
 * server's on success). The leads and accounts the replay changed, and the
 * identities it made, are left to be saved. */
static engine *engine_from_store(server *s, const contract *c, decoder *d)
{
    engine_options eo = {.dedupe_window = s->opt.dedupe_window, .external_clock = true};
    strbuf aliases;
    strbuf_init(&aliases);
    uint64_t through;
    if (s->store->ops->last_event(s->store, &through) != STORE_OK) return NULL;
    /* a store from before saves were periodic saved state with every group */
    through = s->state_through = meta_number(s, "state_through", through);
    eo.first_handoff = meta_number(s, "state_next_handoff", meta_number(s, "next_handoff", 0));
    router *r = router_from_store(s, c);
    if (!r) return NULL;
    eo.router = route_rep_count(r) ? r : NULL;
    eo.model = s->model;
    engine *e = engine_new(c, &eo);
    if (!e) goto fail;
    store_load l = {.ctx = e,
                    .sizes = load_sizes,
                    .lead = load_lead,
                    .account = load_account,
                    .alias = load_alias,
                    .seen = load_seen,
                    .seen_before = through + 1};
    duration_ms window = s->opt.dedupe_window ? s->opt.dedupe_window : 7 * MS_PER_DAY;
    if (s->store->ops->load(s->store, &l, window, wall_clock()) != STORE_OK) goto fail;
    engine_clear_changed(e);
    if (!replay_tail(s, e, d, through, &aliases) || aliases.oom) goto fail;
    route_free(s->router); /* the engine that borrowed it is about to be freed too */
    s->router = r;
    strbuf_free(&s->new_aliases); /* those of the engine this one replaces: the replay made them again */
    s->new_aliases = aliases;
    return e;
fail:
    engine_free(e);
    route_free(r);
    strbuf_free(&aliases);
    return NULL;
}

/* Every group: the time its clocks ran to and the next handoff's number. */
static bool write_clock(server *s, time_ms now)
{
    char text[32];
    snprintf(text, sizeof text, "%lld", (long long)now);
    if (s->store->ops->set_meta(s->store, "clock", text) != STORE_OK) return false;
    snprintf(text, sizeof text, "%llu", (unsigned long long)engine_next_handoff(s->engine));
    return s->store->ops->set_meta(s->store, "next_handoff", text) == STORE_OK;
}

/* Writes the state of every lead and account changed since the last save,
 * the identities made since and the router's rotation, as of the last event
 * stored, whose seq goes to `through`; with `contract_text`, names that
 * contract as the one that applies the events stored after. saved() clears
 * the lists once it is durable. */
static bool save_state(server *s, const char *contract_text, uint64_t *through)
{
    store *st = s->store;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    strbuf blob;
    strbuf_init(&blob);
    bool ok = true;
    uint64_t rows = engine_changed_account_count(s->engine);
    for (size_t i = 0; ok && i < engine_changed_lead_count(s->engine); i++) {
        const char *key = engine_changed_lead(s->engine, i);
        strbuf_reset(&blob);
        /* a lead merged into another: its key is an alias now, and a row of
         * its own would come back at the next start as a lead apart */
        if (!engine_export_lead(s->engine, key, &blob)) ok = st->ops->delete_lead(st, key) == STORE_OK;
        else ok = st->ops->put_lead(st, key, blob.data, blob.len) == STORE_OK;
        rows++;
    }
    for (size_t i = 0; ok && i < engine_changed_account_count(s->engine); i++) {
        const char *domain = engine_changed_account(s->engine, i);
        strbuf_reset(&blob);
        ok = engine_export_account(s->engine, domain, &blob) &&
             st->ops->put_account(st, domain, blob.data, blob.len) == STORE_OK;
    }
    for (size_t at = 0; ok && at < s->new_aliases.len;) {
        const char *alias = s->new_aliases.data + at, *lead = alias + strlen(alias) + 1;
        ok = st->ops->put_alias(st, alias, lead) == STORE_OK;
        at = (size_t)(lead + strlen(lead) + 1 - s->new_aliases.data);
    }
    if (ok && route_rep_count(s->router)) {
        strbuf_reset(&blob);
        route_export(s->router, &blob);
        ok = !blob.oom && st->ops->put_router_state(st, blob.data, blob.len) == STORE_OK;
    }
    char text[32];
    ok = ok && !blob.oom && st->ops->last_event(st, through) == STORE_OK;
    snprintf(text, sizeof text, "%llu", (unsigned long long)*through);
    ok = ok && st->ops->set_meta(st, "state_through", text) == STORE_OK;
    snprintf(text, sizeof text, "%llu", (unsigned long long)engine_next_handoff(s->engine));
    ok = ok && st->ops->set_meta(st, "state_next_handoff", text) == STORE_OK;
    if (ok && contract_text) ok = st->ops->set_meta(st, "contract", contract_text) == STORE_OK;
    strbuf_free(&blob);
    atomic_fetch_add(&s->state_save_us, (uint64_t)(monotonic_seconds_since(&t0) * 1e6));
    atomic_fetch_add(&s->state_rows, rows);
    return ok;
}

/* After the commit that held a save as of event `through`. */
static void saved(server *s, time_ms now, uint64_t through)
{
    engine_clear_changed(s->engine);
    strbuf_reset(&s->new_aliases);
    s->saved_at = now;
    s->save_due = false;
    s->contract_stored = true;
    s->state_through = through;
    atomic_fetch_add(&s->state_saves, 1);
}

/* A save in a transaction of its own; false, with the store's message in
 * `why`, leaves everything as it was. */
static bool save_now(server *s, const char *contract_text, char *why, size_t cap)
{
    store *st = s->store;
    uint64_t through = 0;
    if (st->ops->begin(st) == STORE_OK && save_state(s, contract_text, &through) && st->ops->commit(st) == STORE_OK) {
        saved(s, wall_clock(), through);
        return true;
    }
    snprintf(why, cap, "%s", store_error(st));
    st->ops->rollback(st);
    store_reset(st);
    return false;
}

static contract *read_contract(const char *path, const char *text, size_t len, strbuf *report)
{
    errors errs;
    errors_init(&errs, path, text, len);
    contract *c = contract_parse(path, text, len, &errs);
    if (!c) {
        errors_sort(&errs);
        errors_render(&errs, report);
    }
    return c;
}

static void prune_when_due(server *s);
static bool swap_contract(server *s, contract *c, const char *text, size_t len, strbuf *report);

/* The engine at a start: the events stored after the last save were applied
 * under the contract that save names, so they are replayed under it; when
 * the file names another, the state then moves to the file's, as at a
 * reload. NULL when the store cannot be read. */
static engine *engine_from_stored_contract(server *s)
{
    strbuf text;
    strbuf_init(&text);
    uint64_t last = 0;
    int rc = s->store->ops->get_meta_text(s->store, "contract", &text);
    if (rc == STORE_OK && text.len == strlen(s->contract_text) && memcmp(text.data, s->contract_text, text.len) == 0)
        s->contract_stored = true;
    bool tail = rc == STORE_OK && s->store->ops->last_event(s->store, &last) == STORE_OK &&
                last > meta_number(s, "state_through", last);
    s->save_due = true; /* what the replay changed, and the contract when it is not stored */
    if (s->contract_stored || !tail) {
        strbuf_free(&text);
        return engine_from_store(s, s->contract, s->decoder);
    }
    strbuf report;
    strbuf_init(&report);
    contract *then = read_contract("the contract stored with the state", text.data, text.len, &report);
    decoder *d = then ? decoder_new(then) : NULL;
    engine *e = d ? engine_from_store(s, then, d) : NULL;
    if (!e) {
        /* not readable now (a newer baton's?): replayed under the file's */
        fprintf(stderr, "baton serve: the events since the last save are replayed under %s: the contract "
                        "that applied them cannot be used\n%s", s->opt.contract, report.data ? report.data : "");
        decoder_free(d);
        contract_free(then);
        strbuf_free(&report);
        strbuf_free(&text);
        return engine_from_store(s, s->contract, s->decoder);
    }
    /* run it as the current contract, then swap to the file's */
    contract *file = s->contract;
    decoder *file_decoder = s->decoder;
    char *file_text = s->contract_text;
    size_t file_len = strlen(file_text);
    s->contract = then;
    s->decoder = d;
    s->engine = e;
    s->contract_text = text.data; /* the buffer's, now the server's */
    decoder_free(file_decoder);
    strbuf_reset(&report);
    bool swapped = swap_contract(s, file, file_text, file_len, &report);
    fprintf(stderr, "baton serve: replayed the events since the last save under the contract that applied them; "
                    "%s", report.data ? report.data : "\n");
    strbuf_free(&report);
    mem_free(file_text);
    if (swapped) return s->engine;
    s->engine = NULL; /* not started: the caller's message says why */
    engine_free(e);
    return NULL;
}

enum serve_result server_load(server *s)
{
    char why[256];
    s->store = sqlite_store_open(s->opt.db, why, sizeof why);
    if (!s->store) {
        fprintf(stderr, "baton serve: %s: %s\n", s->opt.db, why);
        return SERVE_IO;
    }
    size_t len;
    char *text = file_read(s->opt.contract, &len);
    if (!text) {
        fprintf(stderr, "baton serve: %s: cannot read\n", s->opt.contract);
        return SERVE_IO;
    }
    strbuf report;
    strbuf_init(&report);
    s->contract = read_contract(s->opt.contract, text, len, &report);
    if (!s->contract) fputs(report.data ? report.data : "", stderr);
    strbuf_free(&report);
    s->contract_text = text;
    if (!s->contract) return SERVE_INVALID;
    s->decoder = decoder_new(s->contract);
    s->generation = 1;
    char model[4096];
    if (s->opt.model) snprintf(model, sizeof model, "%s", s->opt.model);
    if (s->opt.model || contract_model_path(s->contract, s->opt.contract, model, sizeof model)) {
        strbuf refused;
        strbuf_init(&refused);
        if (!(s->model = score_model_load(model, &refused)))
            fprintf(stderr, "baton serve: %s; `score` is null, so gates that read it do not hold\n",
                    refused.data ? refused.data : model);
        strbuf_free(&refused);
    }
    s->engine = s->decoder ? engine_from_stored_contract(s) : NULL;
    if (s->engine && engine_score_problem(s->engine))
        fprintf(stderr, "baton serve: %s; `score` is null, so gates that read it do not hold\n",
                engine_score_problem(s->engine));
    if (!s->engine) {
        const char *why_not = store_error(s->store)[0] ? store_error(s->store) : "see above";
        fprintf(stderr, "baton serve: cannot load the state in %s: %s\n", s->opt.db, why_not);
        return SERVE_IO;
    }
    /* saved at once, so what the replay rebuilt is not replayed again */
    if (!save_now(s, s->contract_stored ? NULL : s->contract_text, why, sizeof why)) {
        fprintf(stderr, "baton serve: cannot save the state in %s: %s\n", s->opt.db, why);
        return SERVE_IO;
    }
    prune_when_due(s); /* before the server answers anyone */
    return SERVE_OK;
}

/* ---- decoding ahead, on the connection threads ---------------------------------------- */

/* Decodes one message into it->ev: first as it stands; only a message that
 * needs the endpoint's type or the time of receipt is decoded again with
 * them. `copy` has room for the message (decoding changes the bytes; the
 * store keeps the original). With `fields`, the event's values are copied
 * there, so they outlive the decoder's next message. False, with the item
 * marked invalid and the reason in it->error, when the decoder refuses it. */
static bool decode_item(decoder *d, int default_type, time_ms now, job_item *it, char *copy, value *fields,
                        size_t field_count)
{
    decode_error err;
    memcpy(copy, it->json, it->len);
    decoder_set_default_type(d, -1);
    decoder_set_default_time(d, 0);
    it->defaulted = false;
    if (!decoder_decode(d, copy, it->len, &it->ev, &err)) {
        memcpy(copy, it->json, it->len);
        decoder_set_default_type(d, default_type);
        decoder_set_default_time(d, now);
        it->defaulted = true;
        if (!decoder_decode(d, copy, it->len, &it->ev, &err)) {
            it->status = ITEM_INVALID;
            snprintf(it->error, sizeof it->error, "%s (at byte %u)", err.what, err.offset + 1);
            return false;
        }
    }
    if (fields) {
        memcpy(fields, it->ev.fields, field_count * sizeof *fields);
        it->ev.fields = fields;
    }
    return true;
}

/* An idle decoder for the current contract, or a new one; NULL when memory
 * runs out. The caller holds contract_lock for reading. */
static decoder *take_decoder(server *s)
{
    decoder *d = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->decoder_count) d = s->decoders[--s->decoder_count];
    pthread_mutex_unlock(&s->pool_lock);
    return d ? d : decoder_new(s->contract);
}

static void give_decoder(server *s, decoder *d)
{
    pthread_mutex_lock(&s->pool_lock);
    if (s->decoder_count < DECODERS) {
        s->decoders[s->decoder_count++] = d;
        d = NULL;
    }
    pthread_mutex_unlock(&s->pool_lock);
    decoder_free(d);
}

/* Frees the idle decoders: at a contract swap (contract_lock held for
 * writing, so none is in use) and at shutdown. */
void free_idle_decoders(server *s)
{
    pthread_mutex_lock(&s->pool_lock);
    for (int i = 0; i < s->decoder_count; i++) decoder_free(s->decoders[i]);
    s->decoder_count = 0;
    pthread_mutex_unlock(&s->pool_lock);
}

void decode_ahead(server *s, job *j)
{
    if (!j->count) return;
    pthread_rwlock_rdlock(&s->contract_lock);
    size_t field_count = contract_field_count(s->contract), bytes = 0;
    for (size_t i = 0; i < j->count; i++) bytes += j->items[i].len;
    j->decoded = mem_alloc(bytes ? bytes : 1);
    j->fields = mem_alloc(j->count * (field_count ? field_count : 1) * sizeof *j->fields);
    decoder *d = j->decoded && j->fields ? take_decoder(s) : NULL;
    if (!d) { /* out of memory: the committer decodes them, as it used to */
        mem_free(j->decoded);
        mem_free(j->fields);
        j->decoded = NULL;
        j->fields = NULL;
        goto done;
    }
    time_ms now = j->received_at = wall_clock(); /* the time of receipt, for messages without one */
    size_t at = 0;
    for (size_t i = 0; i < j->count; i++) {
        job_item *it = &j->items[i];
        decode_item(d, j->default_type, now, it, j->decoded + at, j->fields + i * field_count, field_count);
        it->decoded = true;
        at += it->len;
    }
    j->generation = s->generation;
    give_decoder(s, d);
done:
    pthread_rwlock_unlock(&s->contract_lock);
}

void job_release(job *j)
{
    mem_free(j->decoded);
    mem_free(j->fields);
    mem_free(j->items);
    j->decoded = NULL;
    j->fields = NULL;
    j->items = NULL;
}

contract *server_check_contract(const char *path, const char *text, size_t len, strbuf *report)
{
    contract *c = read_contract(path, text, len, report);
    if (!c) return NULL;
    size_t passed;
    if (engine_run_golden(c, path, false, report, &passed) > 0) { /* its own cases must pass */
        strbuf_puts(report, "the contract's golden tests fail; the running one stays\n");
        contract_free(c);
        return NULL;
    }
    return c;
}

/* Runs `c` instead of the current contract: every lead and account moves to
 * a new engine by name, and the state is saved in the same step, naming `c`,
 * so every event stored after it is one `c` applied. On the committer's
 * thread; takes `c`. False, with why in `report`, leaves the running one. */
static bool swap_contract(server *s, contract *c, const char *text, size_t len, strbuf *report)
{
    decoder *d = decoder_new(c);
    char *copy = mem_alloc(len + 1);
    engine_options eo = {.dedupe_window = s->opt.dedupe_window,
                         .external_clock = true,
                         .router = route_rep_count(s->router) ? s->router : NULL,
                         .model = s->model};
    pthread_mutex_lock(&s->engine_lock);
    eo.first_handoff = engine_next_handoff(s->engine);
    engine *e = d && copy ? engine_new(c, &eo) : NULL;
    bool ok = e != NULL;
    strbuf blob;
    strbuf_init(&blob);
    for (size_t i = 0; ok && i < engine_account_count(s->engine); i++) {
        strbuf_reset(&blob);
        ok = engine_export_account(s->engine, engine_account_domain(s->engine, i), &blob) &&
             engine_import_account(e, blob.data, blob.len);
    }
    for (size_t i = 0; ok && i < engine_lead_count(s->engine); i++) {
        const char *key = engine_lead_key(s->engine, i);
        if (!key) continue;
        strbuf_reset(&blob);
        /* a key that names another lead now: the row of a lead merged after
         * it was saved, which stores written before saves deleted such rows
         * still hold; the lead it names moves across */
        if (!engine_export_lead(s->engine, key, &blob)) continue;
        ok = !blob.oom && engine_import_lead(e, blob.data, blob.len);
    }
    strbuf_free(&blob);
    if (!ok) strbuf_puts(report, "out of memory while moving state to the new contract; the running one stays\n");
    if (ok) {
        memcpy(copy, text, len);
        copy[len] = '\0';
        char why[256];
        ok = save_now(s, copy, why, sizeof why);
        if (!ok) strbuf_printf(report, "the state could not be saved (%s); the running contract stays\n", why);
    }
    if (ok) {
        engine_free(s->engine);
        decoder_free(s->decoder);
        mem_free(s->contract_text);
        /* no connection thread decodes with the old contract past here, and
         * jobs it decoded are decoded again by the committer */
        pthread_rwlock_wrlock(&s->contract_lock);
        contract_free(s->contract);
        s->engine = e;
        s->decoder = d;
        s->contract = c;
        s->contract_text = copy;
        s->generation++;
        free_idle_decoders(s);
        pthread_rwlock_unlock(&s->contract_lock);
        const contract_info *about = contract_about(c);
        strbuf_printf(report, "now running %s version %u\n", about->name, about->version);
    } else {
        engine_free(e);
        decoder_free(d);
        contract_free(c);
        mem_free(copy);
    }
    pthread_mutex_unlock(&s->engine_lock);
    return ok;
}

bool server_submit_contract(server *s, contract *c, const char *text, size_t len, strbuf *report)
{
    job j = {.default_type = -1, .swap = c, .swap_text = text, .swap_len = len, .swap_report = report};
    committer_submit(s, &j);
    return j.swapped;
}

/* ---- one group ------------------------------------------------------------------- */

/* The body as stored: the message as received, or — when it left its type
 * or timestamp to the endpoint and the time of receipt — with both written
 * in front, so the event log replays to the same decisions. Keys already in
 * the message come later and win. */
static const char *stored_body(server *s, const job_item *it, const event *ev, bool defaulted, size_t *len)
{
    *len = it->len;
    if (!defaulted) return it->json;
    char when[40];
    time_format(ev->timestamp, when, sizeof when);
    strbuf_reset(&s->scratch);
    strbuf_printf(&s->scratch, "{\"type\":\"%s\",\"timestamp\":\"%s\"", event_type_name((enum event_type)ev->type),
                  when);
    const char *rest = memchr(it->json, '{', it->len);
    rest = rest ? rest + 1 : it->json + it->len;
    size_t left = (size_t)(it->json + it->len - rest);
    size_t skip = 0;
    while (skip < left && (rest[skip] == ' ' || rest[skip] == '\t' || rest[skip] == '\n' || rest[skip] == '\r')) skip++;
    if (skip == left || rest[skip] != '}') strbuf_putc(&s->scratch, ',');
    strbuf_append(&s->scratch, rest, left);
    *len = s->scratch.len;
    return s->scratch.oom ? NULL : s->scratch.data;
}

static void process_item(server *s, const engine_sink *sink, job *j, job_item *it, time_ms now)
{
    store *st = s->store;
    char *copy = NULL;
    /* A message without a time takes the group's, as it always did: the
     * engine has run its clocks to `now` before this group, and the time of
     * receipt may lie before that. */
    bool timeless = it->decoded && it->defaulted && it->ev.timestamp == j->received_at;
    if (!it->decoded || j->generation != s->generation || timeless) {
        /* not decoded ahead, or under a contract replaced since, or without a time */
        copy = mem_alloc(it->len ? it->len : 1);
        if (!copy) {
            it->status = ITEM_INVALID;
            snprintf(it->error, sizeof it->error, "out of memory");
            return;
        }
        it->status = ITEM_ACCEPTED;
        decode_item(s->decoder, j->default_type, now, it, copy, NULL, 0);
    }
    if (it->status == ITEM_INVALID) {
        atomic_fetch_add(&s->rejected, 1);
        goto done;
    }
    const event *ev = &it->ev;
    char message_id[128], lead[256], name[128];
    snprintf(message_id, sizeof message_id, "%.*s", (int)ev->message_id.len, ev->message_id.s ? ev->message_id.s : "");
    str who = ev->user_id.len ? ev->user_id : ev->anonymous_id;
    snprintf(lead, sizeof lead, "%.*s", (int)who.len, who.s);
    snprintf(name, sizeof name, "%.*s", (int)ev->name.len, ev->name.s ? ev->name.s : "");
    store_event se = {
        .message_id = message_id[0] ? message_id : NULL,
        .lead = lead,
        .type = event_type_name((enum event_type)ev->type),
        .name = name[0] ? name : NULL,
        .at = ev->timestamp,
        .received = now,
    };
    se.body = stored_body(s, it, ev, it->defaulted, &se.body_len);
    if (!se.body) {
        it->status = ITEM_INVALID;
        snprintf(it->error, sizeof it->error, "out of memory");
        goto done;
    }
    int r = st->ops->put_event(st, &se);
    if (r == STORE_DUPLICATE) {
        it->status = ITEM_DUPLICATE;
        atomic_fetch_add(&s->duplicates, 1);
        goto done;
    }
    if (r != STORE_OK) goto done; /* the store is failed now; the group rolls back */
    it->status = ITEM_ACCEPTED;
    engine_apply(s->engine, ev, sink);
done:
    mem_free(copy);
}

static void count_batch(server *s, uint64_t n)
{
    int b = 0;
    for (uint64_t limit = 1; b < 7 && n > limit; limit *= 10) b++;
    atomic_fetch_add(&s->batch_buckets[b], 1);
}

/* An accounts CSV: firmographics for domains, applied like events are. */
static void note_account_row(void *ctx, uint64_t line, const char *why)
{
    strbuf *errors_out = ctx;
    if (errors_out->len) strbuf_putc(errors_out, ',');
    strbuf_printf(errors_out, "{\"line\":%llu,\"message\":", (unsigned long long)line);
    strbuf_json_string(errors_out, why, strlen(why));
    strbuf_putc(errors_out, '}');
}

/* Accounts go to the engine; reps to the router, and the upload itself to
 * the store, which replays uploads in order at the next start. */
static void process_csv(server *s, job *j, recorder *rec)
{
    FILE *in = fmemopen((void *)j->csv, j->csv_len, "r");
    if (!in) {
        note_account_row(j->csv_errors, 1, "out of memory");
        return;
    }
    if (!j->csv_reps) {
        j->csv_set = engine_load_accounts(s->engine, in, note_account_row, j->csv_errors);
    } else {
        j->csv_set = route_load_reps(s->router, in, note_account_row, j->csv_errors);
        if (j->csv_set && s->store->ops->put_reps_csv(s->store, j->csv, j->csv_len, wall_clock()) != STORE_OK)
            rec->failed = true;
        engine_set_router(s->engine, s->router);
    }
    fclose(in);
    s->save_due = true; /* the event log does not hold what it changed */
}

static void run_group(server *s, job *jobs)
{
    store *st = s->store;
    /* Each group's time is later than the last one's: a start's replay runs
     * the SLA clocks wherever the time of receipt changes, so two groups
     * in one millisecond would replay as one. */
    time_ms now = wall_clock();
    if (now <= s->last_group) now = s->last_group + 1;
    s->last_group = now;
    recorder rec = {.s = s};
    engine_sink sink = {.ctx = &rec,
                        .handoff = record_handoff,
                        .transition = record_change,
                        .alias = record_alias,
                        .breach = record_breach};
    uint64_t events = 0;
    pthread_mutex_lock(&s->engine_lock); /* the engine and contract may not be swapped meanwhile */
    int r = st->ops->begin(st);
    /* the SLA clocks run on the wall clock, first, so a touch logged in this
     * group after its deadline is a breach and then a touch */
    if (r == STORE_OK) engine_advance(s->engine, now, &sink);
    for (job *j = jobs; r == STORE_OK && j; j = j->next) {
        if (j->csv) process_csv(s, j, &rec);
        for (size_t i = 0; i < j->count && !st->failed && !rec.failed; i++) {
            process_item(s, &sink, j, &j->items[i], now);
            events += j->items[i].status == ITEM_ACCEPTED;
        }
    }
    bool save = s->save_due || now - s->saved_at >= s->opt.save_every;
    uint64_t through = 0;
    if (r == STORE_OK && !st->failed && !rec.failed && write_clock(s, now) &&
        (!save || save_state(s, s->contract_stored ? NULL : s->contract_text, &through)))
        r = st->ops->commit(st);
    else r = STORE_ERROR;
    if (r != STORE_OK) {
        fprintf(stderr, "baton serve: commit failed: %s; reloading state from the store\n", store_error(st));
        st->ops->rollback(st);
        store_reset(st);
        engine *fresh = engine_from_store(s, s->contract, s->decoder);
        if (fresh) {
            engine_free(s->engine);
            s->engine = fresh;
        }
        atomic_fetch_add(&s->failed_commits, 1);
    } else {
        if (save) saved(s, now, through);
        if (rec.notified) webhook_wake(s->webhooks);
        atomic_fetch_add(&s->commits, 1);
        atomic_fetch_add(&s->committed_events, events);
        count_batch(s, events);
    }
    pthread_mutex_unlock(&s->engine_lock);
    for (job *j = jobs; j; j = j->next) j->result = r;
}

static void reload_from_file(server *s)
{
    size_t len;
    char *text = file_read(s->opt.contract, &len);
    strbuf report;
    strbuf_init(&report);
    contract *c = text ? server_check_contract(s->opt.contract, text, len, &report) : NULL;
    if (!text) strbuf_printf(&report, "%s: cannot read; the running contract stays\n", s->opt.contract);
    else if (!c || !swap_contract(s, c, text, len, &report))
        strbuf_puts(&report, "the contract was refused; the running one stays\n");
    fputs(report.data ? report.data : "", stderr);
    strbuf_free(&report);
    mem_free(text);
}

/* Drops events older than the retention, at most once an hour. Leads keep
 * their state: only the raw event log is shortened. */
static void prune_when_due(server *s)
{
    if (!s->opt.event_retention || !s->state_through) return; /* never an event the saved state does not include yet */
    time_ms now = wall_clock();
    if (s->last_prune && now - s->last_prune < MS_PER_HOUR) return;
    s->last_prune = now;
    uint64_t removed = 0;
    if (s->store->ops->prune_events(s->store, now - s->opt.event_retention, s->state_through, &removed) != STORE_OK) {
        fprintf(stderr, "baton serve: pruning old events failed: %s\n", store_error(s->store));
        store_reset(s->store);
    } else if (removed) {
        fprintf(stderr, "baton serve: dropped %llu events older than the retention\n", (unsigned long long)removed);
    }
}

/* When the next SLA clock runs out; 0 when none runs. */
static time_ms next_due(server *s)
{
    pthread_mutex_lock(&s->engine_lock);
    time_ms due = engine_next_due(s->engine);
    pthread_mutex_unlock(&s->engine_lock);
    return due;
}

static void *committer_main(void *arg)
{
    server *s = arg;
    for (;;) {
        time_ms due = next_due(s);
        pthread_mutex_lock(&s->lock);
        /* waits for work, or for the next SLA deadline: a timer, since a
         * breach is due at a time, not after an event */
        while (!s->head && !s->stopping && !atomic_load(&s->reload) && (!due || wall_clock() <= due)) {
            if (!due) {
                pthread_cond_wait(&s->work, &s->lock);
                continue;
            }
            struct timespec ts = {.tv_sec = (due + 1) / MS_PER_SECOND, .tv_nsec = (long)((due + 1) % MS_PER_SECOND) * 1000000L};
            pthread_cond_timedwait(&s->work, &s->lock, &ts);
        }
        job *jobs = s->head;
        s->head = s->tail = NULL;
        bool stop = s->stopping && !jobs;
        pthread_mutex_unlock(&s->lock);
        if (atomic_exchange(&s->reload, false)) reload_from_file(s);
        if (!jobs && !stop && due && wall_clock() > due) run_group(s, NULL); /* only clocks ran out */
        if (stop) s->save_due = true; /* a start after a stop replays nothing */
        if (jobs || stop) run_group(s, jobs);
        for (job *j = jobs; j; j = j->next)
            if (j->swap) j->swapped = swap_contract(s, j->swap, j->swap_text, j->swap_len, j->swap_report);
        if (jobs) {
            pthread_mutex_lock(&s->lock);
            for (job *j = jobs; j; j = j->next) j->done = true;
            pthread_cond_broadcast(&s->finished);
            pthread_mutex_unlock(&s->lock);
            prune_when_due(s);
            /* answered already: a wait for the log to start again holds up
             * the next group, never this one's acknowledgements */
            checkpoint_bound(s->checkpointer);
        }
        if (stop) break;
    }
    return NULL;
}

bool committer_start(server *s)
{
    /* checkpoints from a thread and connection of their own (store.h); without
     * them the log is copied inside commits, as SQLite does by default */
    char why[256];
    if (!(s->checkpointer = checkpoint_start(s->store, s->opt.db, NULL, why, sizeof why)))
        fprintf(stderr, "baton serve: %s; checkpoints run inside commits\n", why);
    if (pthread_create(&s->committer, NULL, committer_main, s) == 0) return true;
    checkpoint_stop(s->checkpointer);
    s->checkpointer = NULL;
    return false;
}

/* The committer first, then the checkpointer: its last checkpoint empties
 * the log of everything the committer made durable. */
void committer_stop(server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->committer, NULL);
    checkpoint_stop(s->checkpointer);
    s->checkpointer = NULL;
}

void committer_submit(server *s, job *j)
{
    j->next = NULL;
    j->done = false;
    pthread_mutex_lock(&s->lock);
    if (s->tail) s->tail->next = j;
    else s->head = j;
    s->tail = j;
    pthread_cond_signal(&s->work);
    while (!j->done) pthread_cond_wait(&s->finished, &s->lock);
    pthread_mutex_unlock(&s->lock);
}
