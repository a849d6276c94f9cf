/* The committer: one thread that owns the engine and the store's write
 * connection, and makes waiting requests durable together (group commit).
 *
 *   requests ──submit──► queue ──► [ take all ─► BEGIN ─► decode, dedupe,
 *        ▲                           apply, record ─► state of changed leads
 *        └──────── answered ◄──────── ─► COMMIT (one fsync) ]
 *
 * Invariants:
 *   1. a request is answered only after the transaction holding its events
 *      committed, or failed;
 *   2. the engine's memory and the store agree after every group: when a
 *      commit fails the engine is rebuilt from the store, so events that were
 *      applied but not made durable are forgotten with the rest;
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

static void record_alias(void *ctx, const char *alias, const char *lead)
{
    recorder *r = ctx;
    if (r->s->store->ops->put_alias(r->s->store, alias, lead) != STORE_OK) r->failed = true;
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
static router *router_from_store(server *s)
{
    router *r = route_new(&contract_about(s->contract)->calendar);
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

/* A fresh engine for the current contract, holding the store's state, and
 * the router it borrows (which replaces the server's on success). */
static engine *engine_from_store(server *s)
{
    engine_options eo = {.dedupe_window = s->opt.dedupe_window, .external_clock = true};
    char next[32];
    if (s->store->ops->get_meta(s->store, "next_handoff", next, sizeof next) == STORE_OK)
        eo.first_handoff = strtoull(next, NULL, 10);
    router *r = router_from_store(s);
    if (!r) return NULL;
    eo.router = route_rep_count(r) ? r : NULL;
    eo.model = s->model;
    engine *e = engine_new(s->contract, &eo);
    if (!e) {
        route_free(r);
        return NULL;
    }
    route_free(s->router); /* the engine that borrowed it is about to be freed too */
    s->router = r;
    store_load l = {.ctx = e,
                    .sizes = load_sizes,
                    .lead = load_lead,
                    .account = load_account,
                    .alias = load_alias,
                    .seen = load_seen};
    duration_ms window = s->opt.dedupe_window ? s->opt.dedupe_window : 7 * MS_PER_DAY;
    if (s->store->ops->load(s->store, &l, window, wall_clock()) != STORE_OK) {
        engine_free(e);
        return NULL;
    }
    engine_clear_changed(e);
    return e;
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

bool server_load(server *s)
{
    char why[256];
    s->store = sqlite_store_open(s->opt.db, why, sizeof why);
    if (!s->store) {
        fprintf(stderr, "baton serve: %s: %s\n", s->opt.db, why);
        return false;
    }
    size_t len;
    char *text = file_read(s->opt.contract, &len);
    if (!text) {
        fprintf(stderr, "baton serve: %s: cannot read\n", s->opt.contract);
        return false;
    }
    strbuf report;
    strbuf_init(&report);
    s->contract = read_contract(s->opt.contract, text, len, &report);
    if (!s->contract) fputs(report.data ? report.data : "", stderr);
    strbuf_free(&report);
    s->contract_text = text;
    if (!s->contract) return false;
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
    s->engine = s->decoder ? engine_from_store(s) : NULL;
    if (s->engine && engine_score_problem(s->engine))
        fprintf(stderr, "baton serve: %s; `score` is null, so gates that read it do not hold\n",
                engine_score_problem(s->engine));
    if (!s->engine) {
        fprintf(stderr, "baton serve: cannot load the state in %s: %s\n", s->opt.db, store_error(s->store));
        return false;
    }
    prune_when_due(s); /* before the server answers anyone */
    return true;
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

bool server_replace_contract(server *s, const char *path, const char *text, size_t len, strbuf *report)
{
    contract *c = read_contract(path, text, len, report);
    if (!c) return false;
    size_t passed;
    if (engine_run_golden(c, path, false, report, &passed) > 0) { /* its own cases must pass */
        strbuf_puts(report, "the contract's golden tests fail; the running one stays\n");
        contract_free(c);
        return false;
    }
    decoder *d = decoder_new(c);
    engine_options eo = {.dedupe_window = s->opt.dedupe_window,
                         .external_clock = true,
                         .router = route_rep_count(s->router) ? s->router : NULL,
                         .model = s->model};
    pthread_mutex_lock(&s->engine_lock);
    eo.first_handoff = engine_next_handoff(s->engine);
    engine *e = d ? engine_new(c, &eo) : NULL;
    bool ok = e != NULL;
    /* every lead and account moves across, by name */
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
        ok = engine_export_lead(s->engine, key, &blob) && engine_import_lead(e, blob.data, blob.len);
    }
    strbuf_free(&blob);
    if (ok) {
        engine_free(s->engine);
        decoder_free(s->decoder);
        /* no connection thread decodes with the old contract past here, and
         * jobs it decoded are decoded again by the committer */
        pthread_rwlock_wrlock(&s->contract_lock);
        contract_free(s->contract);
        s->engine = e;
        s->decoder = d;
        s->contract = c;
        s->generation++;
        free_idle_decoders(s);
        pthread_rwlock_unlock(&s->contract_lock);
        engine_clear_changed(e);
        const contract_info *about = contract_about(c);
        strbuf_printf(report, "%s: now running %s version %u\n", path, about->name, about->version);
    } else {
        strbuf_puts(report, "out of memory while moving state to the new contract; the running one stays\n");
        engine_free(e);
        decoder_free(d);
        contract_free(c);
    }
    pthread_mutex_unlock(&s->engine_lock);
    return ok;
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

/* Writes the state of every lead and account the group changed. */
static bool save_state(server *s)
{
    strbuf blob;
    strbuf_init(&blob);
    bool ok = true;
    for (size_t i = 0; ok && i < engine_changed_lead_count(s->engine); i++) {
        const char *key = engine_changed_lead(s->engine, i);
        strbuf_reset(&blob);
        if (!engine_export_lead(s->engine, key, &blob)) continue; /* merged into another */
        ok = s->store->ops->put_lead(s->store, key, blob.data, blob.len) == STORE_OK;
    }
    for (size_t i = 0; ok && i < engine_changed_account_count(s->engine); i++) {
        const char *domain = engine_changed_account(s->engine, i);
        strbuf_reset(&blob);
        ok = engine_export_account(s->engine, domain, &blob) &&
             s->store->ops->put_account(s->store, domain, blob.data, blob.len) == STORE_OK;
    }
    char next[32];
    snprintf(next, sizeof next, "%llu", (unsigned long long)engine_next_handoff(s->engine));
    ok = ok && !blob.oom && s->store->ops->set_meta(s->store, "next_handoff", next) == STORE_OK;
    if (ok && route_rep_count(s->router)) {
        strbuf_reset(&blob);
        route_export(s->router, &blob);
        ok = !blob.oom && s->store->ops->put_router_state(s->store, blob.data, blob.len) == STORE_OK;
    }
    strbuf_free(&blob);
    engine_clear_changed(s->engine);
    return ok;
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
}

static void run_group(server *s, job *jobs)
{
    store *st = s->store;
    time_ms now = wall_clock();
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
    if (r == STORE_OK && !st->failed && !rec.failed && save_state(s)) r = st->ops->commit(st);
    else r = STORE_ERROR;
    if (r != STORE_OK) {
        fprintf(stderr, "baton serve: commit failed: %s; reloading state from the store\n", store_error(st));
        st->ops->rollback(st);
        store_reset(st);
        engine *fresh = engine_from_store(s);
        if (fresh) {
            engine_free(s->engine);
            s->engine = fresh;
        }
        atomic_fetch_add(&s->failed_commits, 1);
    } else {
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
    if (!text) strbuf_printf(&report, "%s: cannot read; the running contract stays\n", s->opt.contract);
    else if (!server_replace_contract(s, s->opt.contract, text, len, &report))
        strbuf_puts(&report, "the contract was refused; the running one stays\n");
    fputs(report.data ? report.data : "", stderr);
    strbuf_free(&report);
    mem_free(text);
}

/* Drops events older than the retention, at most once an hour. Leads keep
 * their state: only the raw event log is shortened. */
static void prune_when_due(server *s)
{
    if (!s->opt.event_retention) return;
    time_ms now = wall_clock();
    if (s->last_prune && now - s->last_prune < MS_PER_HOUR) return;
    s->last_prune = now;
    uint64_t removed = 0;
    if (s->store->ops->prune_events(s->store, now - s->opt.event_retention, &removed) != STORE_OK) {
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
        if (jobs) {
            run_group(s, jobs);
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
