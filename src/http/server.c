/* The HTTP server: Segment's tracking API, the sales API, health and metrics.
 *
 * Routes:
 *   POST /v1/track /v1/identify /v1/page /v1/group /v1/screen   one message
 *   POST /v1/batch /v1/import                                    {"batch":[...]}
 *        Basic auth, the write key (an ingest token) as the user name.
 *   GET  /api/handoffs[?status&owner&gate&lead&since&fast&limit&after]
 *   GET  /api/handoffs/ID
 *   POST /api/handoffs/ID/{accept,reject,touch,meeting,opportunity,won,lost}
 *   GET  /api/leads/KEY            the lead's handoffs and timeline
 *   PUT  /api/leads/KEY/context    {"pain":...,"impact":...}
 *   PUT  /api/contract             the contract's YAML (admin)
 *   POST /api/reps                 reps from CSV (admin)    GET /api/reps   the reps
 *   GET  /api/webhooks?state=dead  the webhook outbox (admin)
 *   POST /api/webhooks/ID/retry    revives a dead-lettered delivery (admin)
 *        Bearer tokens: sales or admin; admin only where marked.
 *   GET  /healthz   GET /metrics   (no token)
 * Every answer is JSON except /metrics (Prometheus text). */
#include "http/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

/* libmicrohttpd's memory per connection: headers and the read buffer the
 * body passes through on its way to on_request(), which copies it out. It
 * clears the part it used at every request, so a larger pool costs CPU on
 * every request (1 MB cleared about 1.5 MB per batch) for nothing: a body
 * comes through a 64 KiB buffer in a few more pieces. */
#define CONNECTION_POOL (64u * 1024)

typedef struct request {
    strbuf body;
    bool too_large;
    struct timespec start;
    size_t limit;
} request;

/* ---- the reader pool ------------------------------------------------------------ */

store *reader_take(server *s)
{
    store *r = NULL;
    pthread_mutex_lock(&s->pool_lock);
    if (s->reader_count) r = s->readers[--s->reader_count];
    pthread_mutex_unlock(&s->pool_lock);
    if (r) return r;
    char why[256];
    r = sqlite_store_open(s->opt.db, why, sizeof why);
    if (!r) fprintf(stderr, "baton serve: cannot open a reader: %s\n", why);
    return r;
}

void reader_give(server *s, store *r)
{
    if (!r) return;
    store_reset(r);
    pthread_mutex_lock(&s->pool_lock);
    if (s->reader_count < READERS) {
        s->readers[s->reader_count++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&s->pool_lock);
    store_close(r);
}

/* ---- answers ---------------------------------------------------------------------- */

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, const char *type, const char *body,
                              size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result ok = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result answer_json(struct MHD_Connection *c, unsigned code, const strbuf *b)
{
    if (b->oom) return answer(c, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
    return answer(c, code, "application/json", b->data ? b->data : "{}", b->len);
}

/* {"error": message} with an optional hint field. */
static enum MHD_Result answer_error(struct MHD_Connection *c, unsigned code, const char *message)
{
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"success\":false,\"error\":");
    strbuf_json_string(&b, message, strlen(message));
    strbuf_putc(&b, '}');
    enum MHD_Result r = answer_json(c, code, &b);
    strbuf_free(&b);
    return r;
}

/* ---- who is asking ---------------------------------------------------------------- */

static bool role_allows(enum token_role have, enum token_role need)
{
    return have == need || have == ROLE_ADMIN;
}

/* The role of a token, or false when it is unknown: from the cache of valid
 * tokens, else from the store (and then kept). */
static bool lookup_token(server *s, const char *token, enum token_role *role)
{
    char digest[65];
    token_digest(token, digest);
    bool known = false;
    pthread_mutex_lock(&s->pool_lock);
    for (int i = 0; i < s->token_count && !known; i++) {
        if (memcmp(s->tokens[i].digest, digest, sizeof digest) != 0) continue;
        *role = (enum token_role)s->tokens[i].role;
        known = true;
    }
    pthread_mutex_unlock(&s->pool_lock);
    if (known) return true;
    store *r = reader_take(s);
    bool ok = r && r->ops->find_token(r, digest, role) == STORE_OK;
    reader_give(s, r);
    if (!ok) return false;
    pthread_mutex_lock(&s->pool_lock);
    int slot = s->token_next; /* when full, the oldest goes */
    if (s->token_count < TOKEN_CACHE) slot = s->token_count++;
    else s->token_next = (s->token_next + 1) % TOKEN_CACHE;
    memcpy(s->tokens[slot].digest, digest, sizeof digest);
    s->tokens[slot].role = (uint8_t)*role;
    pthread_mutex_unlock(&s->pool_lock);
    return true;
}

/* Checks the caller: Basic (write key as user name) for ingest, Bearer for
 * the API. Answers 401/403 itself and returns false when refused. */
static bool authorised(server *s, struct MHD_Connection *c, enum token_role need, enum MHD_Result *answered)
{
    char *user = NULL;
    const char *token = NULL;
    const char *header = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (header && strncmp(header, "Bearer ", 7) == 0) {
        token = header + 7;
    } else {
        user = MHD_basic_auth_get_username_password(c, NULL);
        token = user;
    }
    enum token_role role;
    bool known = token && *token && lookup_token(s, token, &role);
    if (user) MHD_free(user);
    if (!known) {
        *answered = answer_error(c, MHD_HTTP_UNAUTHORIZED, "a valid token is required (Basic with the write key, or Bearer)");
        return false;
    }
    if (!role_allows(role, need)) {
        char msg[128];
        snprintf(msg, sizeof msg, "this takes a %s token; yours is a %s token", token_role_name(need),
                 token_role_name(role));
        *answered = answer_error(c, MHD_HTTP_FORBIDDEN, msg);
        return false;
    }
    return true;
}

/* ---- Segment ingest ----------------------------------------------------------------- */

static const struct {
    const char *path;
    int type; /* enum event_type, or -1 for a batch */
} ingest_routes[] = {
    {"/v1/track", EVENT_TRACK},   {"/v1/page", EVENT_PAGE},   {"/v1/identify", EVENT_IDENTIFY},
    {"/v1/group", EVENT_GROUP},   {"/v1/screen", EVENT_SCREEN}, {"/v1/batch", -1},
    {"/v1/import", -1},
};

/* The first "quoted" word of a message: the field it is about. */
static void field_of(const char *message, char *field, size_t cap)
{
    field[0] = '\0';
    const char *q = strchr(message, '"');
    const char *e = q ? strchr(q + 1, '"') : NULL;
    if (!e || (size_t)(e - q - 1) >= cap) return;
    memcpy(field, q + 1, (size_t)(e - q - 1));
    field[e - q - 1] = '\0';
}

/* Adds a message to the job, borrowing its bytes; the item array grows as
 * messages come, up to `cap`. False when the job is full or memory runs out. */
static bool add_item(job *j, size_t cap, const char *json, size_t len)
{
    if (j->count == cap) return false;
    if (j->count == j->cap) {
        size_t want = j->cap ? 2 * j->cap : 128; /* a typical SDK batch fits the first */
        if (want > cap) want = cap;
        job_item *items = mem_realloc(j->items, want * sizeof *items);
        if (!items) return false;
        j->items = items;
        j->cap = want;
    }
    job_item *it = &j->items[j->count++];
    memset(it, 0, offsetof(job_item, ev));
    it->json = json;
    it->len = len;
    it->error[0] = '\0';
    if (len > HTTP_MAX_MESSAGE) {
        it->status = ITEM_INVALID;
        snprintf(it->error, sizeof it->error, "message is %zu bytes, more than the %u allowed", len, HTTP_MAX_MESSAGE);
    }
    return true;
}

typedef struct batch_target {
    job *j;
    size_t cap;
    bool nomem;
} batch_target;

static bool add_batch_item(void *ctx, const char *json, size_t len)
{
    batch_target *b = ctx;
    if (add_item(b->j, b->cap, json, len)) return true;
    b->nomem = b->j->count < b->cap;
    return false;
}

static enum MHD_Result handle_ingest(server *s, struct MHD_Connection *c, int type, request *rq)
{
    enum MHD_Result answered;
    if (!authorised(s, c, ROLE_INGEST, &answered)) return answered;
    if (rq->too_large) return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, type < 0 ? "the batch is larger than 500 KB" : "the message is larger than 32 KB");
    job j = {.default_type = type};
    size_t cap = type < 0 ? HTTP_MAX_BATCH_ITEMS : 1;
    const char *body = rq->body.data ? rq->body.data : "";
    enum MHD_Result result;
    if (type >= 0) {
        if (!add_item(&j, cap, body, rq->body.len)) {
            result = answer_error(c, 500, "out of memory");
            goto done;
        }
    } else {
        uint32_t where = 0;
        batch_target target = {.j = &j, .cap = cap};
        const char *why = ingest_split_batch(body, rq->body.len, add_batch_item, &target, &where);
        if (target.nomem) {
            result = answer_error(c, 500, "out of memory");
            goto done;
        }
        if (why) {
            char msg[200];
            snprintf(msg, sizeof msg, "%s (at byte %u)", why, where + 1);
            result = answer_error(c, MHD_HTTP_BAD_REQUEST, msg);
            goto done;
        }
    }
    decode_ahead(s, &j);
    atomic_fetch_add(&s->received, j.count);
    committer_submit(s, &j);
    if (j.result != STORE_OK) {
        result = answer_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the events could not be stored; send them again");
        goto done;
    }
    strbuf b;
    strbuf_init(&b);
    size_t accepted = 0, invalid = 0;
    for (size_t i = 0; i < j.count; i++) {
        accepted += j.items[i].status != ITEM_INVALID;
        invalid += j.items[i].status == ITEM_INVALID;
    }
    if (!invalid) {
        strbuf_printf(&b, "{\"success\":true,\"accepted\":%zu}", accepted);
        result = answer_json(c, MHD_HTTP_OK, &b);
    } else {
        strbuf_printf(&b, "{\"success\":false,\"accepted\":%zu,\"errors\":[", accepted);
        bool first = true;
        for (size_t i = 0; i < j.count; i++) {
            if (j.items[i].status != ITEM_INVALID) continue;
            char field[64];
            field_of(j.items[i].error, field, sizeof field);
            strbuf_printf(&b, "%s{\"index\":%zu,\"field\":", first ? "" : ",", i);
            if (field[0]) strbuf_json_string(&b, field, strlen(field));
            else strbuf_puts(&b, "null");
            strbuf_puts(&b, ",\"message\":");
            strbuf_json_string(&b, j.items[i].error, strlen(j.items[i].error));
            strbuf_putc(&b, '}');
            first = false;
        }
        strbuf_puts(&b, "]}");
        bool oversize = type >= 0 && rq->body.len > HTTP_MAX_MESSAGE;
        result = answer_json(c, oversize ? MHD_HTTP_CONTENT_TOO_LARGE : MHD_HTTP_BAD_REQUEST, &b);
    }
    strbuf_free(&b);
done:
    job_release(&j);
    return result;
}

/* ---- the sales API ------------------------------------------------------------------- */

typedef struct rows {
    strbuf *out;
    size_t count;
    uint64_t last_id;
} rows;

static bool add_row(void *ctx, const char *json)
{
    rows *r = ctx;
    if (r->count++) strbuf_putc(r->out, ',');
    strbuf_puts(r->out, json);
    const char *id = strstr(json, "\"id\":");
    if (id) r->last_id = strtoull(id + 5, NULL, 10);
    return true;
}

/* The list's filters from the query string; NULL, or what is wrong. */
static const char *read_filter(struct MHD_Connection *c, store_filter *f)
{
    memset(f, 0, sizeof *f);
    f->fast = -1;
    f->status = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "status");
    f->owner = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "owner");
    f->gate = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "gate");
    f->lead = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lead");
    const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
    const char *fast = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "fast");
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    const char *after = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "after");
    if (since && !time_parse(since, strlen(since), &f->since))
        return "since must be an ISO-8601 time such as 2026-10-01T00:00:00Z";
    if (fast) {
        if (strcmp(fast, "true") == 0) f->fast = 1;
        else if (strcmp(fast, "false") == 0) f->fast = 0;
        else return "fast must be true or false";
    }
    if (limit) {
        char *end;
        unsigned long v = strtoul(limit, &end, 10);
        if (*end || v == 0 || v > 1000) return "limit must be 1 to 1000";
        f->limit = (uint32_t)v;
    }
    if (after) f->after = strtoull(after, NULL, 10);
    return NULL;
}

static enum MHD_Result list_handoffs(server *s, struct MHD_Connection *c)
{
    store_filter f;
    const char *why = read_filter(c, &f);
    if (why) return answer_error(c, MHD_HTTP_BAD_REQUEST, why);
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"handoffs\":[");
    rows r = {.out = &b};
    store *st = reader_take(s);
    int rc = st ? st->ops->list_handoffs(st, &f, add_row, &r) : STORE_ERROR;
    reader_give(s, st);
    strbuf_puts(&b, "]");
    if (r.count) strbuf_printf(&b, ",\"next_after\":%llu", (unsigned long long)r.last_id);
    strbuf_putc(&b, '}');
    enum MHD_Result result = rc == STORE_OK ? answer_json(c, MHD_HTTP_OK, &b)
                                            : answer_error(c, 500, "the store could not be read");
    strbuf_free(&b);
    return result;
}

static bool add_csv_row(void *ctx, const char *json);

/* ---- the webhook outbox (admin) ---------------------------------------------------------- */

static enum MHD_Result list_webhooks(server *s, struct MHD_Connection *c)
{
    const char *state = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
    const char *limit = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "delivered") != 0 && strcmp(state, "dead") != 0)
        return answer_error(c, MHD_HTTP_BAD_REQUEST, "state must be pending, delivered or dead");
    char *end = NULL;
    unsigned long n = limit ? strtoul(limit, &end, 10) : 100;
    if (limit && (*end || n == 0 || n > 1000)) return answer_error(c, MHD_HTTP_BAD_REQUEST, "limit must be 1 to 1000");
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"webhooks\":[");
    rows r = {.out = &b};
    store *st = reader_take(s);
    int rc = st ? st->ops->list_webhooks(st, state, (uint32_t)n, add_row, &r) : STORE_ERROR;
    reader_give(s, st);
    strbuf_puts(&b, "]}");
    enum MHD_Result result = rc == STORE_OK ? answer_json(c, MHD_HTTP_OK, &b)
                                            : answer_error(c, 500, "the store could not be read");
    strbuf_free(&b);
    return result;
}

/* A dead-lettered delivery, tried again from its first attempt. */
static enum MHD_Result retry_webhook(server *s, struct MHD_Connection *c, uint64_t id)
{
    store *st = reader_take(s);
    int rc = st ? st->ops->retry_webhook(st, id, wall_clock()) : STORE_ERROR;
    if (st && rc == STORE_ERROR) store_reset(st);
    reader_give(s, st);
    if (rc == STORE_NOT_FOUND) return answer_error(c, MHD_HTTP_NOT_FOUND, "no dead-lettered webhook has that id");
    if (rc != STORE_OK) return answer_error(c, 500, "the store could not be written");
    webhook_wake(s->webhooks);
    strbuf b;
    strbuf_init(&b);
    strbuf_printf(&b, "{\"id\":%llu,\"state\":\"pending\"}", (unsigned long long)id);
    enum MHD_Result result = answer_json(c, MHD_HTTP_OK, &b);
    strbuf_free(&b);
    return result;
}

static enum MHD_Result list_handoffs_csv(server *s, struct MHD_Connection *c)
{
    store_filter f;
    const char *why = read_filter(c, &f);
    if (why) return answer_error(c, MHD_HTTP_BAD_REQUEST, why);
    if (!MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit")) f.limit = 1000;
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "id,lead,account,gate,at,fast,stage,team,status,did,asks\n");
    store *st = reader_take(s);
    int rc = st ? st->ops->list_handoffs(st, &f, add_csv_row, &b) : STORE_ERROR;
    reader_give(s, st);
    enum MHD_Result result = rc == STORE_OK && !b.oom
                                 ? answer(c, MHD_HTTP_OK, "text/csv; charset=utf-8", b.data, b.len)
                                 : answer_error(c, 500, "the store could not be read");
    strbuf_free(&b);
    return result;
}

/* The stored packet of one handoff, parsed; NULL when there is none. */
static json_t *load_handoff(server *s, uint64_t id)
{
    strbuf b;
    strbuf_init(&b);
    rows r = {.out = &b};
    store *st = reader_take(s);
    if (st) st->ops->get_handoff(st, id, add_row, &r);
    reader_give(s, st);
    json_t *j = r.count ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    strbuf_free(&b);
    return j;
}

static enum MHD_Result get_lead(server *s, struct MHD_Connection *c, const char *key)
{
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"lead\":");
    strbuf_json_string(&b, key, strlen(key));
    strbuf_puts(&b, ",\"handoffs\":[");
    rows h = {.out = &b};
    store_filter f = {.fast = -1, .lead = key, .limit = 1000};
    store *st = reader_take(s);
    int rc = st ? st->ops->list_handoffs(st, &f, add_row, &h) : STORE_ERROR;
    strbuf_puts(&b, "],\"timeline\":[");
    rows t = {.out = &b};
    if (rc == STORE_OK) rc = st->ops->timeline(st, key, add_row, &t);
    reader_give(s, st);
    strbuf_puts(&b, "]}");
    enum MHD_Result result;
    if (rc != STORE_OK) result = answer_error(c, 500, "the store could not be read");
    else if (!h.count && !t.count) result = answer_error(c, MHD_HTTP_NOT_FOUND, "no such lead has a handoff or a change on record");
    else result = answer_json(c, MHD_HTTP_OK, &b);
    strbuf_free(&b);
    return result;
}

/* Sends one event through the committer and waits until it is durable;
 * takes the reference to `ev`. */
static int submit_event(server *s, json_t *ev)
{
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    if (!text) return STORE_ERROR;
    job j = {.default_type = -1};
    int rc = STORE_ERROR;
    if (!add_item(&j, 1, text, strlen(text))) goto done;
    committer_submit(s, &j); /* decoded by the committer: one message, rarely sent */
    rc = j.result == STORE_OK && j.items[0].status != ITEM_INVALID ? STORE_OK : STORE_ERROR;
done:
    job_release(&j);
    free(text); /* the item borrowed it until now */
    return rc;
}

/* Sends one event for a lead through the committer, as the CRM would. */
static int send_event(server *s, const char *lead, const char *name, json_t *properties)
{
    json_t *ev = json_object();
    char at[40], id[96];
    time_ms now = wall_clock();
    time_format(now, at, sizeof at);
    static atomic_uint_fast64_t counter;
    snprintf(id, sizeof id, "api-%lld-%llu", (long long)now, (unsigned long long)atomic_fetch_add(&counter, 1));
    json_object_set_new(ev, "type", json_string("track"));
    json_object_set_new(ev, "userId", json_string(lead));
    json_object_set_new(ev, "event", json_string(name));
    json_object_set_new(ev, "messageId", json_string(id));
    json_object_set_new(ev, "timestamp", json_string(at));
    json_object_set_new(ev, "properties", properties ? json_incref(properties) : json_object());
    return submit_event(s, ev);
}

static const struct {
    const char *action, *event;
    const char *needs_status; /* the handoff must be in this status, or NULL */
} actions[] = {
    {"accept", "Handoff Accepted", "handed_off"},
    {"reject", "Handoff Rejected", NULL},
    {"touch", "First Touch", NULL},
    {"meeting", "Meeting Booked", NULL},
    {"opportunity", "Opportunity Created", NULL},
    {"won", "Deal Won", NULL},
    {"lost", "Deal Lost", NULL},
};

static enum MHD_Result handoff_action(server *s, struct MHD_Connection *c, uint64_t id, const char *action,
                                      request *rq)
{
    int which = -1;
    for (size_t i = 0; i < ARRAY_LEN(actions); i++)
        if (strcmp(actions[i].action, action) == 0) which = (int)i;
    if (which < 0) return answer_error(c, MHD_HTTP_NOT_FOUND, "actions are accept, reject, touch, meeting, opportunity, won and lost");
    json_t *body = rq->body.len ? json_loadb(rq->body.data, rq->body.len, 0, NULL) : json_object();
    if (!body || !json_is_object(body)) {
        json_decref(body);
        return answer_error(c, MHD_HTTP_BAD_REQUEST, "the body must be a JSON object");
    }
    json_t *h = load_handoff(s, id);
    enum MHD_Result result;
    if (!h) {
        result = answer_error(c, MHD_HTTP_NOT_FOUND, "no such handoff");
        goto done;
    }
    const char *lead = json_string_value(json_object_get(h, "lead"));
    const char *status = json_string_value(json_object_get(h, "status"));
    if (actions[which].needs_status && (!status || strcmp(status, actions[which].needs_status) != 0)) {
        char msg[160];
        snprintf(msg, sizeof msg, "the handoff is %s; only a handoff that is %s can be %sed", status ? status : "?",
                 actions[which].needs_status, action);
        result = answer_error(c, MHD_HTTP_CONFLICT, msg);
        goto done;
    }
    json_t *props = json_object();
    json_object_set_new(props, "handoff", json_integer((json_int_t)id));
    if (strcmp(action, "reject") == 0) {
        const char *reason = json_string_value(json_object_get(body, "reason"));
        pthread_mutex_lock(&s->engine_lock);
        bool known = reason && contract_find_reason(s->contract, reason) >= 0;
        strbuf b;
        strbuf_init(&b);
        if (!known) {
            strbuf_puts(&b, "{\"success\":false,\"error\":\"a rejection needs a reason code the contract defines\",\"reasons\":[");
            for (size_t i = 0; i < contract_reason_count(s->contract); i++) {
                if (i) strbuf_putc(&b, ',');
                const char *code = contract_reason(s->contract, i)->code;
                strbuf_json_string(&b, code, strlen(code));
            }
            strbuf_puts(&b, "]}");
        }
        pthread_mutex_unlock(&s->engine_lock);
        if (!known) {
            result = answer_json(c, MHD_HTTP_UNPROCESSABLE_CONTENT, &b);
            strbuf_free(&b);
            json_decref(props);
            goto done;
        }
        strbuf_free(&b);
        json_object_set(props, "reason", json_object_get(body, "reason"));
    }
    const char *copy[] = {"note", "amount", "reason", "held"};
    for (size_t i = 0; i < ARRAY_LEN(copy); i++)
        if (json_object_get(body, copy[i]) && !json_object_get(props, copy[i]))
            json_object_set(props, copy[i], json_object_get(body, copy[i]));
    const char *name = actions[which].event;
    if (strcmp(action, "meeting") == 0 && json_is_true(json_object_get(body, "held"))) name = "Meeting Held";
    int rc = lead ? send_event(s, lead, name, props) : STORE_ERROR;
    json_decref(props);
    if (rc != STORE_OK) {
        result = answer_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the action could not be stored; try again");
        goto done;
    }
    json_decref(h);
    h = load_handoff(s, id);
    char *text = h ? json_dumps(h, JSON_COMPACT) : NULL;
    result = text ? answer(c, MHD_HTTP_OK, "application/json", text, strlen(text))
                  : answer_error(c, 500, "the handoff could not be read back");
    free(text);
done:
    json_decref(h);
    json_decref(body);
    return result;
}

static enum MHD_Result set_context(server *s, struct MHD_Connection *c, const char *lead, request *rq)
{
    json_t *body = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
    const char *pain = json_string_value(json_object_get(body, "pain"));
    const char *impact = json_string_value(json_object_get(body, "impact"));
    if (!pain && !impact) {
        json_decref(body);
        return answer_error(c, MHD_HTTP_BAD_REQUEST, "give \"pain\", \"impact\" or both as text");
    }
    json_t *ev = json_object();
    char at[40];
    time_format(wall_clock(), at, sizeof at);
    json_object_set_new(ev, "type", json_string("identify"));
    json_object_set_new(ev, "userId", json_string(lead));
    json_object_set_new(ev, "timestamp", json_string(at));
    json_t *traits = json_object();
    if (pain) json_object_set_new(traits, "pain", json_string(pain));
    if (impact) json_object_set_new(traits, "impact", json_string(impact));
    json_object_set_new(ev, "traits", traits);
    json_decref(body);
    if (submit_event(s, ev) != STORE_OK)
        return answer_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "could not be stored; try again");
    return get_lead(s, c, lead);
}

/* POST /api/accounts: an accounts CSV, as `baton replay --accounts` reads. */
/* GET /api/reps: the reps table with each rep's place in the rotation. */
static enum MHD_Result list_reps(server *s, struct MHD_Connection *c)
{
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"reps\":[");
    pthread_mutex_lock(&s->engine_lock);
    for (size_t i = 0; i < route_rep_count(s->router); i++) {
        if (i) strbuf_putc(&b, ',');
        route_rep_to_json(s->router, i, &b);
    }
    pthread_mutex_unlock(&s->engine_lock);
    strbuf_puts(&b, "]}");
    enum MHD_Result r = answer_json(c, MHD_HTTP_OK, &b);
    strbuf_free(&b);
    return r;
}

/* POST /api/accounts and /api/reps: a CSV, applied by the committer. */
static enum MHD_Result post_csv(server *s, struct MHD_Connection *c, request *rq, bool reps)
{
    strbuf problems;
    strbuf_init(&problems);
    job j = {.default_type = -1, .csv = rq->body.data ? rq->body.data : "", .csv_len = rq->body.len,
             .csv_reps = reps, .csv_errors = &problems};
    committer_submit(s, &j);
    strbuf b;
    strbuf_init(&b);
    enum MHD_Result r;
    if (j.result != STORE_OK) {
        r = answer_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the rows could not be stored; try again");
    } else {
        strbuf_printf(&b, "{\"success\":%s,\"%s\":%zu,\"errors\":[", problems.len ? "false" : "true",
                      reps ? "reps" : "accounts", j.csv_set);
        strbuf_append(&b, problems.data ? problems.data : "", problems.len);
        strbuf_puts(&b, "]}");
        r = answer_json(c, problems.len ? MHD_HTTP_BAD_REQUEST : MHD_HTTP_OK, &b);
    }
    strbuf_free(&b);
    strbuf_free(&problems);
    return r;
}

/* GET /api/handoffs.csv: the list's filters, as CSV for a spreadsheet. */
static bool add_csv_row(void *ctx, const char *json)
{
    strbuf *out = ctx;
    json_t *h = json_loads(json, 0, NULL);
    if (!h) return true;
    static const char *const columns[] = {"id", "lead", "account", "gate", "at", "fast", "stage", "team", "status"};
    for (size_t i = 0; i < ARRAY_LEN(columns); i++) {
        json_t *v = json_object_get(h, columns[i]);
        if (i) strbuf_putc(out, ',');
        char num[32];
        const char *text = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_integer(v)) snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), text = num;
        if (json_is_boolean(v)) text = json_is_true(v) ? "true" : "false";
        strbuf_csv_field(out, text, false);
    }
    for (size_t i = 0; i < 2; i++) { /* the two context lines, always quoted */
        json_t *v = json_object_get(json_object_get(h, "context"), i ? "asks" : "did");
        strbuf_putc(out, ',');
        strbuf_csv_field(out, json_is_string(v) ? json_string_value(v) : "", true);
    }
    strbuf_putc(out, '\n');
    json_decref(h);
    return true;
}

static enum MHD_Result put_contract(server *s, struct MHD_Connection *c, request *rq)
{
    strbuf report;
    strbuf_init(&report);
    const char *text = rq->body.data ? rq->body.data : "";
    contract *checked = server_check_contract("contract", text, rq->body.len, &report);
    bool ok = checked && server_submit_contract(s, checked, text, rq->body.len, &report);
    strbuf b;
    strbuf_init(&b);
    strbuf_printf(&b, "{\"success\":%s,\"report\":", ok ? "true" : "false");
    strbuf_json_string(&b, report.data ? report.data : "", report.len);
    strbuf_putc(&b, '}');
    enum MHD_Result r = answer_json(c, ok ? MHD_HTTP_OK : MHD_HTTP_UNPROCESSABLE_CONTENT, &b);
    strbuf_free(&b);
    strbuf_free(&report);
    return r;
}

/* ---- health and metrics ------------------------------------------------------------- */

static const double latency_bounds[LATENCY_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                        0.05,   0.1,   0.25,   0.5,   1,    5};

static enum MHD_Result metrics(server *s, struct MHD_Connection *c)
{
    strbuf b;
    strbuf_init(&b);
    strbuf_printf(&b,
                  "# HELP baton_events_received_total Messages received on the tracking API.\n"
                  "# TYPE baton_events_received_total counter\nbaton_events_received_total %llu\n"
                  "# HELP baton_events_rejected_total Messages refused as malformed.\n"
                  "# TYPE baton_events_rejected_total counter\nbaton_events_rejected_total %llu\n"
                  "# HELP baton_events_duplicate_total Messages whose messageId was already stored.\n"
                  "# TYPE baton_events_duplicate_total counter\nbaton_events_duplicate_total %llu\n"
                  "# HELP baton_commits_total Group commits made durable.\n"
                  "# TYPE baton_commits_total counter\nbaton_commits_total %llu\n"
                  "# HELP baton_commit_failures_total Group commits that failed and were rolled back.\n"
                  "# TYPE baton_commit_failures_total counter\nbaton_commit_failures_total %llu\n"
                  "# HELP baton_state_saves_total Saves of lead and account state (--save-every).\n"
                  "# TYPE baton_state_saves_total counter\nbaton_state_saves_total %llu\n"
                  "# HELP baton_state_saved_rows_total Lead and account rows those saves wrote.\n"
                  "# TYPE baton_state_saved_rows_total counter\nbaton_state_saved_rows_total %llu\n"
                  "# HELP baton_state_save_seconds_total Time spent writing them, before the commit.\n"
                  "# TYPE baton_state_save_seconds_total counter\nbaton_state_save_seconds_total %.6f\n"
                  "# HELP baton_events_replayed_total Stored events replayed after the last save of state (at a start, or after a failed commit).\n"
                  "# TYPE baton_events_replayed_total counter\nbaton_events_replayed_total %llu\n",
                  (unsigned long long)atomic_load(&s->received), (unsigned long long)atomic_load(&s->rejected),
                  (unsigned long long)atomic_load(&s->duplicates), (unsigned long long)atomic_load(&s->commits),
                  (unsigned long long)atomic_load(&s->failed_commits), (unsigned long long)atomic_load(&s->state_saves),
                  (unsigned long long)atomic_load(&s->state_rows), (double)atomic_load(&s->state_save_us) / 1e6,
                  (unsigned long long)atomic_load(&s->replayed));
    if (s->checkpointer) {
        checkpoint_stats cs = checkpoint_get_stats(s->checkpointer);
        strbuf_printf(&b,
                      "# HELP baton_wal_checkpoints_total Checkpoints run off the commit path, by mode.\n"
                      "# TYPE baton_wal_checkpoints_total counter\n"
                      "baton_wal_checkpoints_total{mode=\"passive\"} %llu\n"
                      "baton_wal_checkpoints_total{mode=\"restart\"} %llu\n"
                      "# HELP baton_wal_checkpoint_seconds_total Time spent in checkpoints, by mode.\n"
                      "# TYPE baton_wal_checkpoint_seconds_total counter\n"
                      "baton_wal_checkpoint_seconds_total{mode=\"passive\"} %.6f\n"
                      "baton_wal_checkpoint_seconds_total{mode=\"restart\"} %.6f\n"
                      "# HELP baton_wal_checkpoint_busy_total Checkpoints a reader or the writer kept from finishing.\n"
                      "# TYPE baton_wal_checkpoint_busy_total counter\nbaton_wal_checkpoint_busy_total %llu\n"
                      "# HELP baton_wal_checkpoint_failures_total Checkpoints that failed.\n"
                      "# TYPE baton_wal_checkpoint_failures_total counter\nbaton_wal_checkpoint_failures_total %llu\n"
                      "# HELP baton_wal_checkpointed_frames_total WAL frames copied into the database.\n"
                      "# TYPE baton_wal_checkpointed_frames_total counter\nbaton_wal_checkpointed_frames_total %llu\n"
                      "# HELP baton_wal_frames Frames in the write-ahead log after the last commit.\n"
                      "# TYPE baton_wal_frames gauge\nbaton_wal_frames %llu\n"
                      "# HELP baton_wal_bound_waits_total Times the committer waited for the log to be restarted.\n"
                      "# TYPE baton_wal_bound_waits_total counter\nbaton_wal_bound_waits_total %llu\n"
                      "# HELP baton_wal_bound_wait_seconds_total Time the committer waited for the log to be restarted.\n"
                      "# TYPE baton_wal_bound_wait_seconds_total counter\nbaton_wal_bound_wait_seconds_total %.6f\n",
                      (unsigned long long)cs.passive, (unsigned long long)cs.restarts, cs.passive_s, cs.restart_s,
                      (unsigned long long)cs.busy, (unsigned long long)cs.failures, (unsigned long long)cs.copied,
                      (unsigned long long)cs.frames, (unsigned long long)cs.waits, cs.wait_s);
    }
    strbuf_puts(&b, "# HELP baton_commit_batch_size Events made durable per commit.\n"
                    "# TYPE baton_commit_batch_size histogram\n");
    uint64_t cumulative = 0, limit = 1;
    for (int i = 0; i < 7; i++, limit *= 10) {
        cumulative += atomic_load(&s->batch_buckets[i]);
        strbuf_printf(&b, "baton_commit_batch_size_bucket{le=\"%llu\"} %llu\n", (unsigned long long)limit,
                      (unsigned long long)cumulative);
    }
    cumulative += atomic_load(&s->batch_buckets[7]);
    strbuf_printf(&b, "baton_commit_batch_size_bucket{le=\"+Inf\"} %llu\nbaton_commit_batch_size_sum %llu\n"
                      "baton_commit_batch_size_count %llu\n",
                  (unsigned long long)cumulative, (unsigned long long)atomic_load(&s->committed_events),
                  (unsigned long long)cumulative);
    strbuf_puts(&b, "# HELP baton_request_duration_seconds Time from a request's start to its answer.\n"
                    "# TYPE baton_request_duration_seconds histogram\n");
    cumulative = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
        cumulative += atomic_load(&s->latency_buckets[i]);
        strbuf_printf(&b, "baton_request_duration_seconds_bucket{le=\"%g\"} %llu\n", latency_bounds[i],
                      (unsigned long long)cumulative);
    }
    cumulative += atomic_load(&s->latency_buckets[LATENCY_BUCKETS]);
    strbuf_printf(&b, "baton_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
                      "baton_request_duration_seconds_sum %.6f\nbaton_request_duration_seconds_count %llu\n",
                  (unsigned long long)cumulative, (double)atomic_load(&s->latency_sum_us) / 1e6,
                  (unsigned long long)atomic_load(&s->latency_count));
    strbuf_puts(&b, "# HELP baton_handoffs_total Handoffs made since start, by gate.\n"
                    "# TYPE baton_handoffs_total counter\n");
    webhook_stats ws = webhook_get_stats(s->webhooks);
    strbuf_printf(&b,
                  "# HELP baton_webhooks_delivered_total Webhook deliveries a receiver acknowledged.\n"
                  "# TYPE baton_webhooks_delivered_total counter\nbaton_webhooks_delivered_total %llu\n"
                  "# HELP baton_webhooks_failed_attempts_total Webhook attempts that failed and will be retried.\n"
                  "# TYPE baton_webhooks_failed_attempts_total counter\nbaton_webhooks_failed_attempts_total %llu\n"
                  "# HELP baton_webhooks_dead_total Webhook deliveries dead-lettered after the last attempt.\n"
                  "# TYPE baton_webhooks_dead_total counter\nbaton_webhooks_dead_total %llu\n",
                  (unsigned long long)ws.delivered, (unsigned long long)ws.failed_attempts,
                  (unsigned long long)ws.dead);
    pthread_mutex_lock(&s->engine_lock);
    const engine_stats *st = engine_get_stats(s->engine);
    for (size_t g = 0; g < contract_gate_count(s->contract); g++)
        strbuf_printf(&b, "baton_handoffs_total{gate=\"%s\"} %llu\n", contract_gate(s->contract, g)->name,
                      (unsigned long long)st->by_gate[g]);
    strbuf_puts(&b, "# HELP baton_sla_breaches_total SLA clocks that ran out since start (R7).\n"
                    "# TYPE baton_sla_breaches_total counter\n");
    for (int k = 0; k < SLA_CLOCK_COUNT; k++)
        strbuf_printf(&b, "baton_sla_breaches_total{clock=\"%s\"} %llu\n", sla_clock_name((enum sla_clock)k),
                      (unsigned long long)st->breaches[k]);
    pthread_mutex_unlock(&s->engine_lock);
    enum MHD_Result r = b.oom ? MHD_NO : answer(c, MHD_HTTP_OK, "text/plain; version=0.0.4", b.data, b.len);
    strbuf_free(&b);
    return r;
}

static enum MHD_Result healthz(server *s, struct MHD_Connection *c)
{
    strbuf b;
    strbuf_init(&b);
    pthread_mutex_lock(&s->engine_lock);
    const contract_info *about = contract_about(s->contract);
    strbuf_puts(&b, "{\"status\":\"ok\",\"contract\":");
    strbuf_json_string(&b, about->name, strlen(about->name));
    strbuf_printf(&b, ",\"version\":%u}", about->version);
    pthread_mutex_unlock(&s->engine_lock);
    enum MHD_Result r = answer_json(c, MHD_HTTP_OK, &b);
    strbuf_free(&b);
    return r;
}

/* ---- compressed bodies -------------------------------------------------------------------
 * Segment's API and RudderStack's clients send gzip bodies (Content-Encoding:
 * gzip). The body is inflated with the same limit as a plain one, so a small
 * compressed request cannot grow past it. */
static bool inflate_body(request *rq)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return false; /* gzip or zlib headers */
    strbuf out;
    strbuf_init(&out);
    char chunk[16384];
    z.next_in = (Bytef *)rq->body.data;
    z.avail_in = (uInt)rq->body.len;
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = (Bytef *)chunk;
        z.avail_out = sizeof chunk;
        rc = inflate(&z, Z_NO_FLUSH);
        size_t got = sizeof chunk - z.avail_out;
        if (out.len + got > rq->limit) {
            rq->too_large = true;
            break;
        }
        strbuf_append(&out, chunk, got);
        if (rc == Z_BUF_ERROR && z.avail_in == 0) break; /* truncated input */
    }
    inflateEnd(&z);
    bool ok = rc == Z_STREAM_END && !out.oom && !rq->too_large;
    if (ok) {
        strbuf_free(&rq->body);
        rq->body = out;
    } else {
        strbuf_free(&out);
    }
    return ok || rq->too_large;
}

/* ---- routing ------------------------------------------------------------------------- */

static enum MHD_Result route(server *s, struct MHD_Connection *c, const char *url, const char *method, request *rq)
{
    bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0, put = strcmp(method, "PUT") == 0;
    enum MHD_Result answered;
    const char *encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
    if (encoding && (strcmp(encoding, "gzip") == 0 || strcmp(encoding, "deflate") == 0) && rq->body.len &&
        !rq->too_large && !inflate_body(rq))
        return answer_error(c, MHD_HTTP_BAD_REQUEST, "the body is not valid gzip");
    if (encoding && strcmp(encoding, "gzip") != 0 && strcmp(encoding, "deflate") != 0 && strcmp(encoding, "identity") != 0)
        return answer_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "bodies may be plain, gzip or deflate");
    for (size_t i = 0; i < ARRAY_LEN(ingest_routes); i++) {
        if (strcmp(url, ingest_routes[i].path) != 0) continue;
        if (!post) return answer_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
        return handle_ingest(s, c, ingest_routes[i].type, rq);
    }
    if (strcmp(url, "/healthz") == 0 && get) return healthz(s, c);
    if (strcmp(url, "/metrics") == 0 && get) return metrics(s, c);
    if (strncmp(url, "/api/", 5) != 0) return answer_error(c, MHD_HTTP_NOT_FOUND, "no such path");
    if (rq->too_large) return answer_error(c, MHD_HTTP_CONTENT_TOO_LARGE, "the body is larger than 500 KB");
    if (strcmp(url, "/api/contract") == 0 && put) {
        if (!authorised(s, c, ROLE_ADMIN, &answered)) return answered;
        return put_contract(s, c, rq);
    }
    if (strcmp(url, "/api/webhooks") == 0 && get) {
        if (!authorised(s, c, ROLE_ADMIN, &answered)) return answered;
        return list_webhooks(s, c);
    }
    if (strncmp(url, "/api/webhooks/", 14) == 0 && post) {
        if (!authorised(s, c, ROLE_ADMIN, &answered)) return answered;
        char *end;
        uint64_t id = strtoull(url + 14, &end, 10);
        if (end == url + 14 || strcmp(end, "/retry") != 0)
            return answer_error(c, MHD_HTTP_NOT_FOUND, "POST /api/webhooks/ID/retry revives a dead-lettered delivery");
        return retry_webhook(s, c, id);
    }
    if (strcmp(url, "/api/accounts") == 0 && post) {
        if (!authorised(s, c, ROLE_ADMIN, &answered)) return answered;
        return post_csv(s, c, rq, false);
    }
    if (strcmp(url, "/api/reps") == 0 && post) {
        if (!authorised(s, c, ROLE_ADMIN, &answered)) return answered;
        return post_csv(s, c, rq, true);
    }
    if (!authorised(s, c, ROLE_SALES, &answered)) return answered;
    if (strcmp(url, "/api/handoffs") == 0 && get) return list_handoffs(s, c);
    if (strcmp(url, "/api/reps") == 0 && get) return list_reps(s, c);
    if (strcmp(url, "/api/handoffs.csv") == 0 && get) return list_handoffs_csv(s, c);
    if (strncmp(url, "/api/handoffs/", 14) == 0) {
        char *end;
        uint64_t id = strtoull(url + 14, &end, 10);
        if (end == url + 14) return answer_error(c, MHD_HTTP_NOT_FOUND, "no such handoff");
        if (*end == '\0' && get) {
            json_t *h = load_handoff(s, id);
            if (!h) return answer_error(c, MHD_HTTP_NOT_FOUND, "no such handoff");
            char *text = json_dumps(h, JSON_COMPACT);
            json_decref(h);
            enum MHD_Result r = answer(c, MHD_HTTP_OK, "application/json", text, strlen(text));
            free(text);
            return r;
        }
        if (*end == '/' && post) return handoff_action(s, c, id, end + 1, rq);
    }
    if (strncmp(url, "/api/leads/", 11) == 0) {
        char key[256];
        const char *rest = url + 11;
        const char *slash = strchr(rest, '/');
        size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
        if (n == 0 || n >= sizeof key) return answer_error(c, MHD_HTTP_NOT_FOUND, "no such lead");
        memcpy(key, rest, n);
        key[n] = '\0';
        if (!slash && get) return get_lead(s, c, key);
        if (slash && strcmp(slash, "/context") == 0 && (put || post)) return set_context(s, c, key, rq);
    }
    return answer_error(c, MHD_HTTP_NOT_FOUND, "no such path or method");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state)
{
    server *s = cls;
    (void)version;
    request *rq = *state;
    if (!rq) {
        rq = mem_calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        strbuf_init(&rq->body);
        clock_gettime(CLOCK_MONOTONIC, &rq->start);
        bool single = strncmp(url, "/v1/", 4) == 0 && strcmp(url, "/v1/batch") != 0 && strcmp(url, "/v1/import") != 0;
        rq->limit = single ? HTTP_MAX_MESSAGE : HTTP_MAX_BATCH;
        *state = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->body.len + *upload_size > rq->limit) rq->too_large = true;
        else strbuf_append(&rq->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    return route(s, c, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode why)
{
    server *s = cls;
    (void)c;
    (void)why;
    request *rq = *state;
    if (!rq) return;
    double seconds = monotonic_seconds_since(&rq->start);
    int b = 0;
    while (b < LATENCY_BUCKETS && seconds > latency_bounds[b]) b++;
    atomic_fetch_add(&s->latency_buckets[b], 1);
    atomic_fetch_add(&s->latency_count, 1);
    atomic_fetch_add(&s->latency_sum_us, (uint64_t)(seconds * 1e6));
    strbuf_free(&rq->body);
    mem_free(rq);
    *state = NULL;
}

/* ---- running ----------------------------------------------------------------------- */

static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
    signalled = sig;
}

static bool parse_listen(const char *listen, struct sockaddr_in *addr)
{
    char host[64];
    const char *colon = strrchr(listen, ':');
    if (!colon || (size_t)(colon - listen) >= sizeof host) return false;
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535) return false;
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &addr->sin_addr) == 1;
}

int serve_run(const serve_options *opt)
{
    server *s = mem_calloc(1, sizeof *s);
    if (!s) return SERVE_INTERNAL;
    s->opt = *opt;
    strbuf_init(&s->scratch);
    strbuf_init(&s->new_aliases);
    pthread_mutex_init(&s->engine_lock, NULL);
    /* a swap waits for the decodes under way, not for every one to come */
    pthread_rwlockattr_t prefer_writer;
    pthread_rwlockattr_init(&prefer_writer);
    pthread_rwlockattr_setkind_np(&prefer_writer, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->contract_lock, &prefer_writer);
    pthread_rwlockattr_destroy(&prefer_writer);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->finished, NULL);
    int code = SERVE_OK;
    struct MHD_Daemon *d = NULL;
    bool committing = false;
    struct sockaddr_in addr;
    if (!parse_listen(opt->listen, &addr)) {
        fprintf(stderr, "baton serve: --listen wants HOST:PORT with an IPv4 address, not '%s'\n", opt->listen);
        code = SERVE_USAGE;
        goto done;
    }
    if ((code = server_load(s)) != SERVE_OK) goto done;
    /* The signals are taken only by this thread, in sigsuspend() below:
     * blocked here, before any other thread starts, they stay blocked there. */
    sigset_t stop_signals, previous;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);
    if (opt->webhooks.endpoint_count) {
        char why[256];
        if (!(s->webhooks = webhook_start(opt->db, &opt->webhooks, why, sizeof why))) {
            fprintf(stderr, "baton serve: webhooks: %s\n", why);
            code = SERVE_IO;
            goto done;
        }
    }
    if (!(committing = committer_start(s))) {
        code = SERVE_INTERNAL;
        goto done;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG, 0, NULL,
                         NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT, 60u,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_POOL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "baton serve: cannot listen on %s: %s\n", opt->listen, strerror(errno));
        code = SERVE_IO;
        goto done;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char where[96];
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr.sin_addr, host, sizeof host);
    snprintf(where, sizeof where, "%s:%u", host, info ? info->port : ntohs(addr.sin_port));
    if (opt->ready) opt->ready(where);
    for (;;) {
        while (!signalled) sigsuspend(&previous);
        int sig = signalled;
        signalled = 0;
        if (sig == SIGHUP) {
            atomic_store(&s->reload, true);
            pthread_mutex_lock(&s->lock);
            pthread_cond_signal(&s->work);
            pthread_mutex_unlock(&s->lock);
            continue;
        }
        break;
    }
    fprintf(stderr, "baton serve: stopping\n");
done:
    if (d) MHD_stop_daemon(d);
    if (committing) committer_stop(s);
    webhook_stop(s->webhooks); /* after the committer: every row it queued is in the store */
    route_free(s->router);
    score_model_free(s->model);
    for (int i = 0; i < s->reader_count; i++) store_close(s->readers[i]);
    store_close(s->store);
    engine_free(s->engine);
    decoder_free(s->decoder);
    free_idle_decoders(s);
    contract_free(s->contract);
    mem_free(s->contract_text);
    strbuf_free(&s->scratch);
    strbuf_free(&s->new_aliases);
    pthread_mutex_destroy(&s->engine_lock);
    pthread_rwlock_destroy(&s->contract_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->finished);
    mem_free(s);
    return code;
}
