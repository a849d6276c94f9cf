/* bench_restart: how long `baton serve` takes to be ready again with a
 * large store (issue #4: 1M leads, ready in under 5 s).
 *
 *   bench_restart build FILE --contract C [--leads N] [--days D] [--event-days E] [--seed S]
 *   bench_restart load  FILE --contract C [--runs R] [--cold] [--rows-only]
 *
 * build   writes a store the way the server does, through the real code
 *         path: it synthesizes N leads' events (default 1,000,000) over D
 *         days (default 70) that end now, a steady stream: each lead an
 *         anonymous blog visit, an identify with email and traits, 1 to 4
 *         tracks and pages that hit the contract's signals (opens, blogs,
 *         docs, webinars, downloads, and now and then pricing, security,
 *         demo, workload and reply events that pass gates), and one group
 *         call per account of about ten leads. In time order, each event is
 *         rendered as Segment JSON, decoded by the contract's decoder and
 *         applied with engine_apply(); the aliases the sink reports are
 *         written, and the events of the last E days (default 8: the dedupe
 *         window and a day) are stored with their bodies (put_event), older
 *         ones only applied. Then every lead and account is exported and
 *         written, as the committer's save_state() does, in transactions of
 *         CHUNK_ROWS rows. Handoffs and the timeline are not written: a
 *         restart does not read them. FILE must not exist.
 * load    times a restart as `baton serve` does it (http/commit.c,
 *         server_load() and engine_from_store()): open the store, read the
 *         router and next_handoff, make an engine, load() every lead,
 *         account and alias and the message ids received in the dedupe
 *         window (7 days back from the wall clock) into it. Each of R runs
 *         (default 3) is a fresh process, as a restart is; the time of each
 *         phase of load() is taken at its first callback. R further runs
 *         load the rows into callbacks that only count them, which gives
 *         the store's share (reading the rows) apart from the engine's
 *         (importing); the best of them is reported. --rows-only makes
 *         only those runs.
 *         --cold evicts FILE from the page cache (posix_fadvise DONTNEED)
 *         before each run, as after a reboot; without it the file is as
 *         the previous run left it in memory.
 *
 * Output: one "key: value" a line, for scripts/bench.
 *
 * Exit status: 0 ok, 1 the contract has errors or a step failed, 2 usage,
 * 3 the store could not be opened or written, 4 out of memory. */
#define _GNU_SOURCE
#include "engine/engine.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define DEFAULT_LEADS 1000000u
#define DEFAULT_DAYS 70
#define DEFAULT_EVENT_DAYS 8 /* the dedupe window and a day more */
#define DEFAULT_RUNS 3
#define MAX_RUNS 100
#define LEADS_PER_ACCOUNT 10
#define CHUNK_ROWS 100000 /* rows per transaction while building */
#define SEEN_WINDOW (7 * MS_PER_DAY) /* engine_from_store()'s default dedupe window */

enum { EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_IO, EXIT_NOMEM };

static int usage(void)
{
    fputs("usage: bench_restart build FILE --contract C [--leads N] [--days D] [--event-days E] [--seed S]\n"
          "       bench_restart load FILE --contract C [--runs R] [--cold] [--rows-only]\n",
          stderr);
    return EXIT_USAGE;
}

static time_ms wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (time_ms)ts.tv_sec * MS_PER_SECOND + ts.tv_nsec / 1000000;
}

/* CPU seconds this process has used, user and system. */
static double cpu_now_s(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static long long file_bytes(const char *path, const char *suffix)
{
    char name[4096];
    snprintf(name, sizeof name, "%s%s", path, suffix);
    struct stat st;
    return stat(name, &st) == 0 ? (long long)st.st_size : 0;
}

/* ---- the synthetic stream ------------------------------------------------------ */

static uint64_t mix(uint64_t x) /* splitmix64's finaliser: a hash of x */
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

enum kind {
    K_ANON_PAGE, /* the lead's first visit, before it has a name: a blog page */
    K_IDENTIFY,  /* userId, the anonymousId, email, traits */
    K_GROUP,     /* the account's traits, from its first lead */
    K_BLOG, K_DOCS, K_OPEN, K_WEBINAR, K_ASSET,           /* the common ones */
    K_PRICING, K_SECURITY, K_DEMO, K_WORKLOAD, K_REPLY,   /* rarer, and they pass gates */
};

/* One event to be: when, whose, what, and its number within the lead. */
typedef struct spec {
    time_ms at;
    uint32_t lead;
    uint8_t kind, n;
} spec;

static int spec_order(const void *a, const void *b)
{
    const spec *x = a, *y = b;
    if (x->at != y->at) return (x->at > y->at) - (x->at < y->at);
    if (x->lead != y->lead) return (x->lead > y->lead) - (x->lead < y->lead);
    return (x->n > y->n) - (x->n < y->n);
}

typedef struct stream {
    uint64_t seed;
    uint32_t leads, accounts;
    spec *specs;
    size_t count;
} stream;

/* A track or page kind for a lead's k-th action, by a weighted draw. */
static uint8_t action_kind(uint64_t r)
{
    unsigned p = (unsigned)(r % 1000);
    if (p < 400) return K_OPEN;
    if (p < 600) return K_BLOG;
    if (p < 750) return K_DOCS;
    if (p < 810) return K_WEBINAR;
    if (p < 910) return K_ASSET;
    if (p < 935) return K_PRICING;
    if (p < 940) return K_SECURITY;
    if (p < 968) return K_DEMO;
    if (p < 984) return K_WORKLOAD;
    return K_REPLY;
}

/* Every event of every lead, in time order. Lead i arrives at a time spread
 * evenly over the span, and its actions follow within 14 days (those that
 * would come after the end are left out): a steady stream. */
static bool make_stream(stream *s, time_ms end, int days)
{
    size_t cap = (size_t)s->leads * 6 + s->accounts;
    s->specs = malloc(cap * sizeof *s->specs);
    if (!s->specs) return false;
    duration_ms span = (duration_ms)days * MS_PER_DAY, follow = 14 * MS_PER_DAY;
    if (span <= follow) span = follow + MS_PER_DAY;
    time_ms start = end - span;
    size_t n = 0;
    for (uint32_t i = 0; i < s->leads; i++) {
        uint64_t r = mix(s->seed ^ ((uint64_t)i << 20));
        time_ms t0 = start + (time_ms)((double)(span - MS_PER_HOUR) * i / s->leads) + (time_ms)(r % MS_PER_HOUR);
        uint8_t k = 0;
        s->specs[n++] = (spec){t0, i, K_ANON_PAGE, k++};
        s->specs[n++] = (spec){t0 + 5 * MS_PER_MINUTE, i, K_IDENTIFY, k++};
        if (i < s->accounts) s->specs[n++] = (spec){t0 + 6 * MS_PER_MINUTE, i, K_GROUP, k++};
        unsigned actions = 1 + (unsigned)((r >> 12) % 4);
        for (unsigned a = 0; a < actions; a++) {
            uint64_t ra = mix(r + a + 1);
            time_ms at = t0 + 10 * MS_PER_MINUTE + (time_ms)(ra % (uint64_t)follow);
            if (at < end) s->specs[n++] = (spec){at, i, action_kind(ra >> 20), k++};
            else k++; /* still to come */
        }
    }
    s->count = n;
    qsort(s->specs, n, sizeof *s->specs, spec_order);
    return true;
}

static const char *const industries[] = {"software", "fintech", "healthtech", "retail", "logistics", "media"};
static const char *const countries[] = {"US", "CA", "DE", "GB", "FR", "NL", "BR", "JP"};
static const char *const titles[] = {"VP Engineering", "Head of Data", "CTO", "Engineering Manager",
                                     "Sales Operations Lead", "Analyst", "Director of IT"};
static const char *const pains[] = {"leads triaged by hand", "slow follow-up on demo requests",
                                    "no single view of the account", "routing rules nobody trusts"};
static const char *const impacts[] = {"two lost deals a quarter", "a week of delay per deal",
                                      "missed pipeline target", "SDR time wasted on bad leads"};
static const char *const blog_posts[] = {"Lead routing at scale", "Why MQLs fail", "Handoffs that work",
                                         "The SLA nobody reads", "Intent data, honestly"};
static const char *const docs_pages[] = {"Quickstart", "Contracts", "Webhooks", "Routing", "API reference"};
static const char *const assets[] = {"roi-guide", "buyer-checklist", "case-study-northwind", "ebook-routing"};
#define PICK(list, r) (list)[(r) % ARRAY_LEN(list)]

static void message_id(const stream *s, const spec *sp, char *out, size_t cap)
{
    uint64_t a = mix(s->seed ^ ((uint64_t)sp->lead << 8 | sp->n)), b = mix(a);
    snprintf(out, cap, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, 0x8000 | ((unsigned)(b >> 48) & 0x3fff),
             (unsigned long long)(b & 0xffffffffffffull));
}

/* The event as a Segment JSON object, the fields a browser or CRM source
 * would send beside the ones the contract reads. */
static void render(const stream *s, const spec *sp, strbuf *b)
{
    uint64_t r = mix(s->seed ^ ((uint64_t)sp->lead << 8 | sp->n) ^ 0x5bd1e995u);
    uint64_t lr = mix(s->seed ^ ((uint64_t)sp->lead << 20));
    uint32_t acct = sp->lead % s->accounts; /* an account's leads come over the whole span */
    char id[48], ts[40];
    message_id(s, sp, id, sizeof id);
    time_format(sp->at, ts, sizeof ts);
    static const char *const types[] = {
        [K_ANON_PAGE] = "page", [K_IDENTIFY] = "identify", [K_GROUP] = "group", [K_BLOG] = "page",
        [K_DOCS] = "page",      [K_OPEN] = "track",        [K_WEBINAR] = "track", [K_ASSET] = "track",
        [K_PRICING] = "page",   [K_SECURITY] = "track",    [K_DEMO] = "track",  [K_WORKLOAD] = "track",
        [K_REPLY] = "track",
    };
    strbuf_printf(b, "{\"type\":\"%s\",\"messageId\":\"%s\",\"timestamp\":\"%s\",", types[sp->kind], id, ts);
    if (sp->kind == K_ANON_PAGE || sp->kind == K_IDENTIFY)
        strbuf_printf(b, "\"anonymousId\":\"anon-%016llx\",", (unsigned long long)lr);
    if (sp->kind != K_ANON_PAGE) strbuf_printf(b, "\"userId\":\"user-%u\",", sp->lead);
    switch ((enum kind)sp->kind) {
    case K_ANON_PAGE:
    case K_BLOG:
        strbuf_printf(b, "\"name\":\"%s\",\"category\":\"blog\",\"properties\":{\"title\":\"%s\",\"seconds\":%u,"
                      "\"url\":\"https://acme.example/blog/%llu\"},",
                      PICK(blog_posts, r), PICK(blog_posts, r), (unsigned)(r >> 8) % 300, (unsigned long long)(r % 97));
        break;
    case K_DOCS:
        strbuf_printf(b, "\"name\":\"%s\",\"category\":\"docs\",\"properties\":{\"title\":\"%s\",\"seconds\":%u},",
                      PICK(docs_pages, r), PICK(docs_pages, r), (unsigned)(r >> 8) % 600);
        break;
    case K_PRICING:
        strbuf_printf(b, "\"name\":\"Pricing\",\"category\":\"pricing\",\"properties\":{\"seconds\":%u},",
                      60 + (unsigned)(r >> 8) % 200);
        break;
    case K_IDENTIFY:
        strbuf_printf(b, "\"traits\":{\"email\":\"user%u@acct-%u.example\",\"name\":\"Person %u\",\"title\":\"%s\"",
                      sp->lead, acct, sp->lead, PICK(titles, lr >> 8));
        if (lr % 10 < 4)
            strbuf_printf(b, ",\"pain\":\"%s\",\"impact\":\"%s\"", PICK(pains, lr >> 16), PICK(impacts, lr >> 24));
        strbuf_puts(b, "},");
        break;
    case K_GROUP:
        strbuf_printf(b, "\"groupId\":\"acct-%u\",\"traits\":{\"domain\":\"acct-%u.example\",\"name\":\"Account %u\","
                      "\"industry\":\"%s\",\"employees\":%u,\"status\":\"%s\",\"country\":\"%s\"},",
                      acct, acct, acct, PICK(industries, r >> 4), 10 + (unsigned)((r >> 16) % 5000),
                      r % 10 == 0 ? "customer" : "prospect", PICK(countries, r >> 32));
        break;
    case K_OPEN:
        strbuf_printf(b, "\"event\":\"%s\",\"properties\":{\"campaign\":\"nurture-%u\"},",
                      r % 3 ? "Email Opened" : "Email Link Clicked", (unsigned)(r >> 8) % 20);
        break;
    case K_WEBINAR:
        strbuf_printf(b, "\"event\":\"Webinar Attended\",\"properties\":{\"title\":\"%s\"},", PICK(blog_posts, r >> 8));
        break;
    case K_ASSET:
    case K_SECURITY:
        strbuf_printf(b, "\"event\":\"Asset Downloaded\",\"properties\":{\"asset\":\"%s\"},",
                      sp->kind == K_SECURITY ? "soc2-report" : PICK(assets, r >> 8));
        break;
    case K_DEMO: strbuf_puts(b, "\"event\":\"Demo Requested\",\"properties\":{\"form\":\"contact-sales\"},"); break;
    case K_WORKLOAD:
        strbuf_printf(b, "\"event\":\"Workload Run\",\"properties\":{\"workload\":\"routing\",\"rows\":%u},",
                      1000 + (unsigned)(r >> 8) % 90000);
        break;
    case K_REPLY:
        strbuf_puts(b, "\"event\":\"Email Replied\",\"properties\":{\"sender\":\"Sam (AE)\",\"sender_type\":\"human\","
                       "\"subject\":\"Re: our call\",\"text\":\"Thursday works for us. Can you show it on our data?\"},");
        break;
    }
    strbuf_printf(b, "\"context\":{\"ip\":\"10.%u.%u.%u\",\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64) "
                     "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36\",\"library\":{\"name\":"
                     "\"analytics.js\",\"version\":\"5.2.0\"}}}",
                  (unsigned)(lr >> 8) & 0xff, (unsigned)(lr >> 16) & 0xff, (unsigned)(lr >> 24) & 0xff);
}

/* ---- build ---------------------------------------------------------------------- */

typedef struct builder {
    store *st;
    bool failed;
    uint64_t aliases, rows; /* rows written in the open transaction */
} builder;

/* Commits every CHUNK_ROWS rows, so transactions are large and the WAL stays
 * bounded. */
static bool wrote_row(builder *b)
{
    if (++b->rows % CHUNK_ROWS) return true;
    return b->st->ops->commit(b->st) == STORE_OK && b->st->ops->begin(b->st) == STORE_OK;
}

/* As http/commit.c's record_alias(). */
static void on_alias(void *ctx, const char *alias, const char *lead)
{
    builder *b = ctx;
    if (b->st->ops->put_alias(b->st, alias, lead) != STORE_OK || !wrote_row(b)) b->failed = true;
    b->aliases++;
}

/* As the committer's save_state(), for every lead and account at once. */
static bool save_state(builder *b, engine *e, uint64_t *lead_rows, uint64_t *lead_bytes)
{
    strbuf blob;
    strbuf_init(&blob);
    bool ok = true;
    for (size_t i = 0; ok && i < engine_lead_count(e); i++) {
        const char *key = engine_lead_key(e, i);
        strbuf_reset(&blob);
        if (!key || !engine_export_lead(e, key, &blob)) continue; /* merged into another */
        ok = b->st->ops->put_lead(b->st, key, blob.data, blob.len) == STORE_OK && wrote_row(b);
        (*lead_rows)++;
        *lead_bytes += blob.len;
    }
    for (size_t i = 0; ok && i < engine_account_count(e); i++) {
        const char *domain = engine_account_domain(e, i);
        strbuf_reset(&blob);
        ok = engine_export_account(e, domain, &blob) &&
             b->st->ops->put_account(b->st, domain, blob.data, blob.len) == STORE_OK && wrote_row(b);
    }
    char next[32];
    snprintf(next, sizeof next, "%llu", (unsigned long long)engine_next_handoff(e));
    ok = ok && !blob.oom && b->st->ops->set_meta(b->st, "next_handoff", next) == STORE_OK;
    strbuf_free(&blob);
    engine_clear_changed(e);
    return ok;
}

static int build(const char *path, const contract *c, uint32_t leads, int days, int event_days, uint64_t seed)
{
    int rc = EXIT_OK;
    if (access(path, F_OK) == 0) {
        fprintf(stderr, "bench_restart: %s exists; build writes a new store\n", path);
        return EXIT_USAGE;
    }
    double t0 = bench_now_s();
    time_ms end = wall_ms() - 10 * MS_PER_MINUTE;
    stream s = {.seed = seed, .leads = leads, .accounts = (leads + LEADS_PER_ACCOUNT - 1) / LEADS_PER_ACCOUNT};
    builder b = {0};
    strbuf json, body;
    strbuf_init(&json);
    strbuf_init(&body);
    decoder *d = decoder_new(c);
    engine *e = engine_new(c, NULL);
    char why[256];
    if (!d || !e || !make_stream(&s, end, days)) {
        rc = EXIT_NOMEM;
        goto done;
    }
    double t1 = bench_now_s();
    if (!(b.st = sqlite_store_open(path, why, sizeof why))) {
        fprintf(stderr, "bench_restart: %s\n", why);
        rc = EXIT_IO;
        goto done;
    }
    if (b.st->ops->begin(b.st) != STORE_OK) goto store_failed;
    time_ms keep_from = end - (time_ms)event_days * MS_PER_DAY;
    uint64_t stored = 0;
    engine_sink sink = {.ctx = &b, .alias = on_alias};
    uint64_t refused = 0, duplicates = 0, lead_rows = 0, lead_bytes = 0, body_bytes = 0;
    for (size_t i = 0; i < s.count; i++) {
        const spec *sp = &s.specs[i];
        strbuf_reset(&json);
        render(&s, sp, &json);
        strbuf_reset(&body);
        strbuf_append(&body, json.data, json.len); /* decoding rewrites the bytes; the store keeps the original */
        if (json.oom || body.oom) {
            rc = EXIT_NOMEM;
            goto done;
        }
        event ev;
        decode_error err;
        if (!decoder_decode(d, json.data, json.len, &ev, &err)) {
            if (!refused++) fprintf(stderr, "bench_restart: refused %s: %s\n", body.data, err.what);
            continue;
        }
        /* as the committer's apply_one(): the event is stored, then applied */
        char mid[128], lead[64], name[64];
        snprintf(mid, sizeof mid, "%.*s", (int)ev.message_id.len, ev.message_id.s);
        str who = ev.user_id.len ? ev.user_id : ev.anonymous_id;
        snprintf(lead, sizeof lead, "%.*s", (int)who.len, who.s);
        snprintf(name, sizeof name, "%.*s", (int)ev.name.len, ev.name.s ? ev.name.s : "");
        store_event se = {
            .message_id = mid,
            .lead = lead,
            .type = event_type_name((enum event_type)ev.type),
            .name = name[0] ? name : NULL,
            .at = ev.timestamp,
            .received = ev.timestamp + (time_ms)(i % 2000), /* taken a moment after it happened */
            .body = body.data,
            .body_len = body.len,
        };
        if (se.received >= keep_from) {
            int r = b.st->ops->put_event(b.st, &se);
            if (r == STORE_DUPLICATE) {
                duplicates++;
                continue;
            }
            if (r != STORE_OK || !wrote_row(&b)) goto store_failed;
            stored++;
        }
        body_bytes += body.len;
        if (engine_apply(e, &ev, &sink) == APPLY_NOMEM) {
            rc = EXIT_NOMEM;
            goto done;
        }
        if (b.failed) goto store_failed;
    }
    double t2 = bench_now_s();
    if (!save_state(&b, e, &lead_rows, &lead_bytes) || b.st->ops->commit(b.st) != STORE_OK) goto store_failed;
    store_close(b.st); /* checkpoints the WAL into the file */
    b.st = NULL;
    double t3 = bench_now_s();
    const engine_stats *es = engine_get_stats(e);
    printf("mode: build\n");
    printf("file: %s\n", path);
    printf("leads_asked: %u\n", leads);
    printf("days: %d\n", days);
    printf("seed: %llu\n", (unsigned long long)seed);
    printf("events: %zu\n", s.count);
    printf("event_days: %d\n", event_days);
    printf("events_stored: %llu\n", (unsigned long long)stored);
    printf("refused: %llu\n", (unsigned long long)refused);
    printf("duplicates: %llu\n", (unsigned long long)duplicates);
    printf("event_body_bytes_mean: %.0f\n", s.count ? (double)body_bytes / (double)s.count : 0.0);
    printf("engine_leads: %llu\n", (unsigned long long)es->leads); /* anonymous leads merged away included */
    printf("engine_accounts: %llu\n", (unsigned long long)es->accounts);
    printf("anonymous_merges: %llu\n", (unsigned long long)es->anonymous_merges);
    printf("handoffs: %llu\n", (unsigned long long)es->handoffs);
    printf("aliases: %llu\n", (unsigned long long)b.aliases);
    printf("lead_rows: %llu\n", (unsigned long long)lead_rows);
    printf("lead_blob_bytes_mean: %.0f\n", lead_rows ? (double)lead_bytes / (double)lead_rows : 0.0);
    printf("stream_s: %.2f\n", t1 - t0);
    printf("events_s: %.2f\n", t2 - t1); /* render, decode, put_event, engine_apply, put_alias */
    printf("state_s: %.2f\n", t3 - t2);  /* export and put every lead and account; close */
    printf("build_s: %.2f\n", t3 - t0);
    printf("file_bytes: %lld\n", file_bytes(path, ""));
    printf("peak_rss_kb: %ld\n", peak_rss_kb());
    if (refused) rc = EXIT_INVALID;
    goto done;
store_failed:
    fprintf(stderr, "bench_restart: %s: %s\n", path, b.st ? store_error(b.st) : "store failed");
    rc = EXIT_IO;
done:
    store_close(b.st);
    engine_free(e);
    decoder_free(d);
    free(s.specs);
    strbuf_free(&json);
    strbuf_free(&body);
    return rc;
}

/* ---- load: engine_from_store(), timed by phase -------------------------------------- */

enum phase { PH_LEADS, PH_ACCOUNTS, PH_ALIASES, PH_SEEN, PH_COUNT };
static const char *const phase_names[PH_COUNT] = {"leads", "accounts", "aliases", "seen"};

/* Wraps the callbacks of a load: the time of each phase's first row, and its
 * rows; `e` NULL counts the rows and imports nothing. */
typedef struct timed_load {
    engine *e;
    int phase;
    double started[PH_COUNT];
    uint64_t rows[PH_COUNT], bytes;
} timed_load;

static void enter(timed_load *t, int phase)
{
    if (t->phase == phase) return;
    t->phase = phase;
    t->started[phase] = bench_now_s();
}

static bool tl_sizes(void *ctx, uint64_t leads, uint64_t accounts, uint64_t aliases)
{
    timed_load *t = ctx;
    return !t->e || engine_reserve(t->e, (size_t)leads, (size_t)accounts, (size_t)aliases);
}

static bool tl_lead(void *ctx, const void *blob, size_t len)
{
    timed_load *t = ctx;
    enter(t, PH_LEADS);
    t->rows[PH_LEADS]++;
    t->bytes += len;
    return t->e ? engine_import_lead(t->e, blob, len) : true;
}

static bool tl_account(void *ctx, const void *blob, size_t len)
{
    timed_load *t = ctx;
    enter(t, PH_ACCOUNTS);
    t->rows[PH_ACCOUNTS]++;
    t->bytes += len;
    return t->e ? engine_import_account(t->e, blob, len) : true;
}

static bool tl_alias(void *ctx, const char *alias, const char *lead)
{
    timed_load *t = ctx;
    enter(t, PH_ALIASES);
    t->rows[PH_ALIASES]++;
    if (t->e) engine_import_alias(t->e, alias, lead); /* as load_alias(): a dropped alias is no error */
    return true;
}

static bool tl_seen(void *ctx, const char *id, time_ms at)
{
    timed_load *t = ctx;
    enter(t, PH_SEEN);
    t->rows[PH_SEEN]++;
    return t->e ? engine_import_seen(t->e, id, at) : true;
}

typedef struct run {
    double open_s, setup_s, load_s, total_s, cpu_s, phase_s[PH_COUNT];
    uint64_t rows[PH_COUNT];
    size_t state_bytes;
    long peak_rss_kb;
} run;

static void evict(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        char name[4096];
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        int fd = open(name, O_RDONLY);
        if (fd < 0) continue;
        fdatasync(fd);
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
}

/* One restart; with `import` false the rows go to counting callbacks and
 * no engine is made. */
static int restart(const char *path, const contract *c, bool import, run *out)
{
    int rc = EXIT_OK;
    char why[256], next[32];
    engine *e = NULL;
    router *r = NULL;
    strbuf state;
    strbuf_init(&state);
    timed_load t = {.phase = -1};
    double c0 = cpu_now_s(), t0 = bench_now_s();
    store *st = sqlite_store_open(path, why, sizeof why);
    if (!st) {
        fprintf(stderr, "bench_restart: %s\n", why);
        return EXIT_IO;
    }
    double t1 = bench_now_s();
    if (import) { /* engine_from_store(): next_handoff, the router, a fresh engine */
        engine_options eo = {.external_clock = true};
        if (st->ops->get_meta(st, "next_handoff", next, sizeof next) == STORE_OK)
            eo.first_handoff = strtoull(next, NULL, 10);
        if (!(r = route_new(&contract_about(c)->calendar))) goto nomem;
        int src = st->ops->each_reps_csv(st, route_reload_reps, r);
        if (src == STORE_OK) src = st->ops->get_router_state(st, &state);
        if (src == STORE_OK && !route_import(r, state.data, state.len, NULL)) src = STORE_ERROR;
        if (src == STORE_ERROR) goto failed;
        eo.router = route_rep_count(r) ? r : NULL;
        if (!(e = engine_new(c, &eo))) goto nomem;
        t.e = e;
    }
    double t2 = bench_now_s();
    store_load l = {
        .ctx = &t, .sizes = tl_sizes, .lead = tl_lead, .account = tl_account, .alias = tl_alias, .seen = tl_seen};
    if (st->ops->load(st, &l, SEEN_WINDOW, wall_ms()) != STORE_OK) goto failed;
    if (e) engine_clear_changed(e);
    double t3 = bench_now_s();
    out->cpu_s = cpu_now_s() - c0;
    out->open_s = t1 - t0;
    out->setup_s = t2 - t1;
    out->load_s = t3 - t2;
    out->total_s = t3 - t0;
    double next_start = t3;
    for (int p = PH_COUNT - 1; p >= 0; p--) {
        out->rows[p] = t.rows[p];
        out->phase_s[p] = t.rows[p] ? next_start - t.started[p] : 0;
        if (t.rows[p]) next_start = t.started[p];
    }
    out->phase_s[PH_LEADS] += next_start - t2; /* before the first row: the query's start */
    out->state_bytes = e ? engine_state_bytes(e) : 0;
    goto done;
nomem:
    rc = EXIT_NOMEM;
    goto done;
failed:
    fprintf(stderr, "bench_restart: load: %s\n", store_error(st));
    rc = EXIT_IO;
done:
    engine_free(e);
    route_free(r);
    store_close(st);
    strbuf_free(&state);
    return rc;
}

static double best_of(const run *runs, int n, size_t offset)
{
    double best = 0;
    for (int i = 0; i < n; i++) {
        double v = *(const double *)((const char *)&runs[i] + offset);
        if (i == 0 || v < best) best = v;
    }
    return best;
}

static double median_of(const run *runs, int n, size_t offset)
{
    double v[MAX_RUNS];
    for (int i = 0; i < n; i++) v[i] = *(const double *)((const char *)&runs[i] + offset);
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One restart in a child process, as a restart is: memory the allocator
 * got from the kernel for an earlier run must not be reused. */
static int restart_fresh(const char *path, const contract *c, bool import, bool cold, run *out)
{
    int fds[2];
    if (pipe(fds) != 0) return EXIT_IO;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return EXIT_IO;
    if (pid == 0) {
        close(fds[0]);
        run r = {0};
        if (cold) evict(path);
        int rc = restart(path, c, import, &r);
        r.peak_rss_kb = peak_rss_kb();
        if (write(fds[1], &r, sizeof r) != (ssize_t)sizeof r && rc == EXIT_OK) rc = EXIT_IO;
        _exit(rc);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], out, sizeof *out);
    close(fds[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return EXIT_IO;
    if (WEXITSTATUS(status) != EXIT_OK) return WEXITSTATUS(status);
    return got == (ssize_t)sizeof *out ? EXIT_OK : EXIT_IO;
}

static int load(const char *path, const contract *c, int runs, bool cold, bool rows_only)
{
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "bench_restart: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    run rs[MAX_RUNS] = {{0}}, rows = {0};
    int rc;
    long rss = 0;
    for (int i = 0; i < (rows_only ? 0 : runs); i++) {
        if ((rc = restart_fresh(path, c, true, cold, &rs[i])) != EXIT_OK) return rc;
        if (rs[i].peak_rss_kb > rss) rss = rs[i].peak_rss_kb;
    }
    /* reading alone, as many times: the best run is kept, as for the rest */
    for (int i = 0; i < runs; i++) {
        run r = {0};
        if ((rc = restart_fresh(path, c, false, cold, &r)) != EXIT_OK) return rc;
        if (i == 0 || r.load_s < rows.load_s) rows = r;
    }
    if (rows_only) runs = 0;

    printf("mode: load\n");
    printf("file: %s\n", path);
    printf("file_bytes: %lld\n", file_bytes(path, ""));
    printf("wal_bytes: %lld\n", file_bytes(path, "-wal"));
    printf("cache: %s\n", cold ? "cold (evicted before each run)" : "warm");
    printf("runs: %d\n", runs);
    for (int p = 0; p < PH_COUNT; p++) printf("%s: %llu\n", phase_names[p], (unsigned long long)rows.rows[p]);
#define FIELD(name, member)                                                                         \
    if (runs) printf(name "_best_s: %.3f\n", best_of(rs, runs, offsetof(run, member)));             \
    if (runs) printf(name "_median_s: %.3f\n", median_of(rs, runs, offsetof(run, member)))
    FIELD("open", open_s);
    FIELD("setup", setup_s);
    FIELD("load", load_s);
    FIELD("total", total_s);
    FIELD("total_cpu", cpu_s);
    FIELD("load_leads", phase_s[PH_LEADS]);
    FIELD("load_accounts", phase_s[PH_ACCOUNTS]);
    FIELD("load_aliases", phase_s[PH_ALIASES]);
    FIELD("load_seen", phase_s[PH_SEEN]);
#undef FIELD
    printf("rows_only_open_s: %.3f\n", rows.open_s);
    printf("rows_only_load_s: %.3f\n", rows.load_s);
    printf("rows_only_cpu_s: %.3f\n", rows.cpu_s);
    printf("rows_only_peak_rss_kb: %ld\n", rows.peak_rss_kb);
    for (int p = 0; p < PH_COUNT; p++) printf("rows_only_%s_s: %.3f\n", phase_names[p], rows.phase_s[p]);
    if (runs) printf("state_bytes: %zu\n", rs[0].state_bytes);
    if (runs) printf("peak_rss_kb: %ld\n", rss);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    const char *mode = argv[1], *path = argv[2], *contract_path = NULL;
    unsigned long leads = DEFAULT_LEADS, days = DEFAULT_DAYS, runs = DEFAULT_RUNS, event_days = DEFAULT_EVENT_DAYS;
    unsigned long long seed = 1;
    bool cold = false, rows_only = false;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(a, "--contract") == 0 && v) contract_path = argv[++i];
        else if (strcmp(a, "--leads") == 0 && v) leads = strtoul(argv[++i], &end, 10);
        else if (strcmp(a, "--days") == 0 && v) days = strtoul(argv[++i], &end, 10);
        else if (strcmp(a, "--event-days") == 0 && v) event_days = strtoul(argv[++i], &end, 10);
        else if (strcmp(a, "--seed") == 0 && v) seed = strtoull(argv[++i], &end, 10);
        else if (strcmp(a, "--runs") == 0 && v) runs = strtoul(argv[++i], &end, 10);
        else if (strcmp(a, "--cold") == 0) cold = true;
        else if (strcmp(a, "--rows-only") == 0) rows_only = true;
        else return usage();
        if (end && *end) return usage();
    }
    bool building = strcmp(mode, "build") == 0;
    if (!contract_path || (!building && strcmp(mode, "load") != 0)) return usage();
    if (leads < 1 || leads > 50000000 || days < 15 || days > 3650 || runs < 1 || runs > MAX_RUNS) return usage();
    contract *c = bench_load_contract(contract_path);
    if (!c) return EXIT_INVALID;
    int rc = building ? build(path, c, (uint32_t)leads, (int)days, (int)(event_days < days ? event_days : days), seed) : load(path, c, (int)runs, cold, rows_only);
    if (rc == EXIT_NOMEM) fputs("bench_restart: out of memory\n", stderr);
    contract_free(c);
    if (fclose(stdout) != 0 && rc == EXIT_OK) rc = EXIT_IO;
    return rc;
}
