/* The delivery worker: one thread, its own store connection, one libcurl
 * handle (connections to a receiver are kept alive between deliveries).
 *
 *   ┌────────► fetch due rows (oldest first, WEBHOOK_BATCH at a time)
 *   │             │ none due
 *   │             ▼
 *   │          wait until the next row is due, webhook_wake() or stop
 *   │             │
 *   └── record ◄─ POST each, signed; 2xx = delivered, else retry later
 *       the        or, past opt.attempts, dead
 *       attempt
 *
 * The wait is a timer for rows due later, never how anyone synchronises with
 * the worker: a commit that adds rows wakes it at once. */
#include "webhook/webhook.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define IDLE_WAIT_MS 60000   /* with nothing pending, look again this often */
#define ERROR_EXCERPT 160    /* bytes of a receiver's answer kept as the error */

/* libcurl, loaded when the first worker starts instead of linked: it brings
 * twenty shared libraries (TLS, LDAP, Kerberos, SSH, ...) that every other
 * command, `baton check` or `baton replay`, would map at start for nothing,
 * about 10 ms a run. Only its types and constants come from the header. */
#define LIBCURL "libcurl.so.4"

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *c, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *c);
    CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
    const char *(*easy_strerror)(CURLcode rc);
    void (*easy_cleanup)(CURL *c);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
    void (*slist_free_all)(struct curl_slist *list);
    char problem[240]; /* why it could not be loaded, or empty */
} libcurl;

static void load_libcurl(void)
{
    void *lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL); /* kept open for the process's life */
    const struct {
        const char *name;
        void **fn;
    } symbols[] = {
        {"curl_global_init", (void **)&libcurl.global_init},
        {"curl_easy_init", (void **)&libcurl.easy_init},
        {"curl_easy_setopt", (void **)&libcurl.easy_setopt},
        {"curl_easy_perform", (void **)&libcurl.easy_perform},
        {"curl_easy_getinfo", (void **)&libcurl.easy_getinfo},
        {"curl_easy_strerror", (void **)&libcurl.easy_strerror},
        {"curl_easy_cleanup", (void **)&libcurl.easy_cleanup},
        {"curl_slist_append", (void **)&libcurl.slist_append},
        {"curl_slist_free_all", (void **)&libcurl.slist_free_all},
    };
    if (!lib) {
        snprintf(libcurl.problem, sizeof libcurl.problem, "cannot load %s (Debian package libcurl4): %s", LIBCURL,
                 dlerror());
        return;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof *symbols; i++) {
        if ((*symbols[i].fn = dlsym(lib, symbols[i].name))) continue;
        snprintf(libcurl.problem, sizeof libcurl.problem, "%s has no %s", LIBCURL, symbols[i].name);
        return;
    }
    libcurl.global_init(CURL_GLOBAL_DEFAULT);
}

struct webhook_worker {
    webhook_options opt;
    char *endpoints[WEBHOOK_MAX_ENDPOINTS];
    char *secret;
    store *st;
    CURL *curl;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool woken, stopping;
    atomic_uint_fast64_t delivered, failed_attempts, dead;
};

/* A due row, copied out of the store's callback. */
typedef struct due_row {
    store_webhook w;
    char *endpoint, *type, *data;
} due_row;

typedef struct due_list {
    due_row rows[WEBHOOK_BATCH];
    size_t count;
    bool oom;
} due_list;

static time_ms now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (time_ms)ts.tv_sec * MS_PER_SECOND + ts.tv_nsec / 1000000;
}

static bool take_row(void *ctx, const store_webhook *w)
{
    due_list *l = ctx;
    due_row *r = &l->rows[l->count];
    r->w = *w;
    r->endpoint = mem_strndup(w->endpoint, strlen(w->endpoint));
    r->type = mem_strndup(w->type, strlen(w->type));
    r->data = mem_strndup(w->data, strlen(w->data));
    if (!r->endpoint || !r->type || !r->data) {
        mem_free(r->endpoint), mem_free(r->type), mem_free(r->data);
        l->oom = true;
        return false;
    }
    r->w.endpoint = r->endpoint, r->w.type = r->type, r->w.data = r->data;
    l->count++;
    return l->count < WEBHOOK_BATCH;
}

static void drop_rows(due_list *l)
{
    for (size_t i = 0; i < l->count; i++) mem_free(l->rows[i].endpoint), mem_free(l->rows[i].type), mem_free(l->rows[i].data);
    l->count = 0;
}

/* The start of a receiver's answer, kept as the error of a failed attempt. */
static size_t keep_answer(char *data, size_t size, size_t n, void *ctx)
{
    strbuf *b = ctx;
    size_t len = size * n;
    if (b->len < ERROR_EXCERPT) strbuf_append(b, data, len < ERROR_EXCERPT - b->len ? len : ERROR_EXCERPT - b->len);
    return len;
}

/* One attempt; true when the receiver answered 2xx. `error` says why not. */
static bool post(webhook_worker *wk, const store_webhook *w, time_ms now, strbuf *why)
{
    strbuf body, answer;
    strbuf_init(&body);
    strbuf_init(&answer);
    webhook_envelope(w, &body);
    char signature[WEBHOOK_SIGNATURE_SIZE], header[3][WEBHOOK_SIGNATURE_SIZE + 64];
    webhook_signature(wk->secret, now / MS_PER_SECOND, body.data ? body.data : "", body.len, signature);
    snprintf(header[0], sizeof header[0], "Baton-Webhook-Id: %llu", (unsigned long long)w->id);
    snprintf(header[1], sizeof header[1], "Baton-Event: %s", w->type);
    snprintf(header[2], sizeof header[2], "Baton-Signature: %s", signature);
    struct curl_slist *headers = libcurl.slist_append(NULL, "Content-Type: application/json");
    for (size_t i = 0; i < 3 && headers; i++) headers = libcurl.slist_append(headers, header[i]);
    bool ok = false;
    if (body.oom || !headers) {
        strbuf_puts(why, "out of memory");
        goto done;
    }
    CURL *c = wk->curl;
    libcurl.easy_setopt(c, CURLOPT_URL, w->endpoint);
    libcurl.easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    libcurl.easy_setopt(c, CURLOPT_POSTFIELDS, body.data);
    libcurl.easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body.len);
    libcurl.easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
    libcurl.easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    CURLcode rc = libcurl.easy_perform(c);
    long status = 0;
    libcurl.easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) strbuf_puts(why, libcurl.easy_strerror(rc));
    else if (status < 200 || status > 299)
        strbuf_printf(why, "HTTP %ld: %.*s", status, (int)answer.len, answer.data ? answer.data : "");
    else ok = true;
done:
    if (headers) libcurl.slist_free_all(headers);
    strbuf_free(&body);
    strbuf_free(&answer);
    return ok;
}

static uint64_t random_u64(void)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)now_ms() * 0x9e3779b97f4a7c15u;
    return r;
}

static void record(webhook_worker *wk, const store_webhook *w, bool delivered, const char *why, time_ms at)
{
    store_attempt a = {.attempts = w->attempts + 1, .at = at, .next_at = at};
    if (delivered) {
        a.state = WEBHOOK_DELIVERED;
        atomic_fetch_add(&wk->delivered, 1);
    } else {
        a.error = why;
        a.state = a.attempts >= wk->opt.attempts ? WEBHOOK_DEAD : WEBHOOK_PENDING;
        if (a.state == WEBHOOK_PENDING) a.next_at = at + webhook_backoff(&wk->opt, a.attempts, random_u64());
        atomic_fetch_add(a.state == WEBHOOK_DEAD ? &wk->dead : &wk->failed_attempts, 1);
    }
    if (wk->st->ops->record_attempt(wk->st, w->id, &a) != STORE_OK) {
        /* the row stays as it was and is tried again: at least once, not at most */
        fprintf(stderr, "baton serve: webhook %llu: %s\n", (unsigned long long)w->id, store_error(wk->st));
        store_reset(wk->st);
    }
}

static bool stopping(webhook_worker *wk)
{
    pthread_mutex_lock(&wk->lock);
    bool stop = wk->stopping;
    pthread_mutex_unlock(&wk->lock);
    return stop;
}

/* Delivers what is due, until a stop is asked for; the number of rows attempted. */
static size_t deliver_due(webhook_worker *wk)
{
    due_list l = {.count = 0};
    if (wk->st->ops->due_webhooks(wk->st, now_ms(), WEBHOOK_BATCH, take_row, &l) != STORE_OK) {
        fprintf(stderr, "baton serve: webhooks: %s\n", store_error(wk->st));
        store_reset(wk->st);
    }
    size_t n = 0;
    for (size_t i = 0; i < l.count && !stopping(wk); i++, n++) {
        strbuf why;
        strbuf_init(&why);
        time_ms at = now_ms();
        bool ok = post(wk, &l.rows[i].w, at, &why);
        record(wk, &l.rows[i].w, ok, why.data ? why.data : "failed", at);
        strbuf_free(&why);
    }
    drop_rows(&l);
    return n;
}

static void *worker_main(void *arg)
{
    webhook_worker *wk = arg;
    for (;;) {
        pthread_mutex_lock(&wk->lock);
        wk->woken = false;
        pthread_mutex_unlock(&wk->lock);
        if (stopping(wk)) break;
        if (deliver_due(wk) > 0) continue;
        time_ms next = 0, now = now_ms(), until = now + IDLE_WAIT_MS;
        if (wk->st->ops->next_webhook(wk->st, &next) == STORE_OK && next < until) until = next;
        store_reset(wk->st);
        struct timespec ts = {.tv_sec = until / MS_PER_SECOND, .tv_nsec = (long)(until % MS_PER_SECOND) * 1000000L};
        pthread_mutex_lock(&wk->lock);
        while (!wk->woken && !wk->stopping && now_ms() < until)
            if (pthread_cond_timedwait(&wk->cond, &wk->lock, &ts) != 0) break;
        pthread_mutex_unlock(&wk->lock);
    }
    return NULL;
}

static void worker_free(webhook_worker *wk)
{
    if (!wk) return;
    if (wk->curl) libcurl.easy_cleanup(wk->curl);
    store_close(wk->st);
    for (size_t i = 0; i < WEBHOOK_MAX_ENDPOINTS; i++) mem_free(wk->endpoints[i]);
    mem_free(wk->secret);
    pthread_mutex_destroy(&wk->lock);
    pthread_cond_destroy(&wk->cond);
    mem_free(wk);
}

webhook_worker *webhook_start(const char *db, const webhook_options *opt, char *why, size_t cap)
{
    static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
    pthread_once(&curl_once, load_libcurl);
    if (libcurl.problem[0]) {
        snprintf(why, cap, "%s", libcurl.problem);
        return NULL;
    }
    webhook_worker *wk = mem_calloc(1, sizeof *wk);
    if (!wk) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&wk->lock, NULL);
    pthread_cond_init(&wk->cond, NULL);
    wk->opt = *opt;
    webhook_defaults(&wk->opt);
    for (size_t i = 0; i < opt->endpoint_count; i++) {
        wk->endpoints[i] = mem_strndup(opt->endpoints[i], strlen(opt->endpoints[i]));
        if (!wk->endpoints[i]) goto oom;
        wk->opt.endpoints[i] = wk->endpoints[i];
    }
    wk->secret = mem_strndup(opt->secret, strlen(opt->secret));
    if (!wk->secret) goto oom;
    wk->opt.secret = wk->secret;
    wk->st = sqlite_store_open(db, why, cap);
    if (!wk->st) goto fail;
    wk->curl = libcurl.easy_init();
    if (!wk->curl) {
        snprintf(why, cap, "libcurl cannot start");
        goto fail;
    }
    libcurl.easy_setopt(wk->curl, CURLOPT_TIMEOUT_MS, (long)WEBHOOK_TIMEOUT_MS);
    libcurl.easy_setopt(wk->curl, CURLOPT_NOSIGNAL, 1L);
    libcurl.easy_setopt(wk->curl, CURLOPT_USERAGENT, "baton/" BATON_VERSION);
    libcurl.easy_setopt(wk->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (pthread_create(&wk->thread, NULL, worker_main, wk) != 0) {
        snprintf(why, cap, "cannot start the webhook thread");
        goto fail;
    }
    return wk;
oom:
    snprintf(why, cap, "out of memory");
fail:
    worker_free(wk);
    return NULL;
}

void webhook_wake(webhook_worker *wk)
{
    if (!wk) return;
    pthread_mutex_lock(&wk->lock);
    wk->woken = true;
    pthread_cond_signal(&wk->cond);
    pthread_mutex_unlock(&wk->lock);
}

void webhook_stop(webhook_worker *wk)
{
    if (!wk) return;
    pthread_mutex_lock(&wk->lock);
    wk->stopping = true;
    pthread_cond_signal(&wk->cond);
    pthread_mutex_unlock(&wk->lock);
    pthread_join(wk->thread, NULL);
    worker_free(wk);
}

webhook_stats webhook_get_stats(webhook_worker *wk)
{
    webhook_stats s = {0};
    if (!wk) return s;
    s.delivered = atomic_load(&wk->delivered);
    s.failed_attempts = atomic_load(&wk->failed_attempts);
    s.dead = atomic_load(&wk->dead);
    return s;
}
