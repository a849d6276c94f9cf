/* bench_latency: event to handoff in `baton serve`, as a client sees it.
 *
 *   bench_latency --url URL --write-key KEY --sales-token TOKEN
 *                 [--leads N] [--warmup N] [--prefix WORD] [--timeout-ms MS]
 *
 * For each of N leads (default 500), one at a time, against a server running
 * the example contract:
 *   1. POST /v1/group: the lead joins its own account, a software prospect of
 *      450 employees (it fits the ICP and is not a customer);
 *   2. POST /v1/identify with the lead's pain and impact (no needs-context wait);
 *   3. POST /v1/page for the pricing page with 200 seconds on it: the
 *      pricing_deep_dive signal, which opens the fast_track gate. This request
 *      is the one timed: t0 is taken just before it is sent;
 *   4. GET /api/handoffs?lead=LEAD with the sales token, again and again with no
 *      pause, until the lead's fast_track handoff is in the answer.
 * Two spans per lead, from t0, with CLOCK_MONOTONIC:
 *   ack      until the page POST was answered 200: the handoff is committed in
 *            the same transaction as the event, so this is the lower bound;
 *   visible  until a GET first returned the handoff: what a sales tool polling
 *            the API as fast as it can would see.
 * The first --warmup leads (default 10) are sent the same way and not counted.
 * Connections are kept alive, one for ingest and one for the API, as a
 * tracking library and a sales tool would keep theirs. The messages carry no
 * timestamp (the server stamps them on arrival) and no messageId.
 *
 * Prints one "key: value" a line for scripts/bench, times in microseconds.
 *
 *   bench_latency --fsync FILE [--count N]
 *
 * measures instead the floor under every acknowledgement, the disk's flush:
 * N times (default 500) one 4 KiB block written with pwrite() and made durable
 * with fdatasync(), as SQLite's WAL commit does, first appending to a new FILE
 * (a growing WAL), then overwriting the same blocks (a WAL reused after a
 * checkpoint). FILE is removed at the end. Prints append_* and overwrite_*.
 *
 * Exit status: 0 ok, 1 a request failed or a handoff did not appear within
 * --timeout-ms (default 5000) of its event, 2 usage, 3 FILE could not be
 * written, 4 out of memory. */
#include <curl/curl.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

#define DEFAULT_LEADS 500
#define DEFAULT_WARMUP 10
#define DEFAULT_TIMEOUT_MS 5000
#define MAX_LEADS 1000000
#define MAX_BODY (4u * 1024 * 1024) /* an answer larger than this is an error */
#define DEFAULT_FSYNCS 500
#define FSYNC_BLOCK 4096

enum { EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_IO, EXIT_NOMEM };

static int usage(void)
{
    fputs("usage: bench_latency --url URL --write-key KEY --sales-token TOKEN\n"
          "                     [--leads N] [--warmup N] [--prefix WORD] [--timeout-ms MS]\n"
          "       bench_latency --fsync FILE [--count N]\n",
          stderr);
    return EXIT_USAGE;
}

/* ---- one HTTP client: a curl handle and the answer's body -------------------------- */

typedef struct client {
    CURL *curl;
    struct curl_slist *headers;
    char *body; /* the last answer, NUL-terminated */
    size_t len, cap;
    bool too_big;
} client;

static size_t on_data(char *data, size_t size, size_t count, void *ctx)
{
    client *c = ctx;
    size_t n = size * count;
    if (c->len + n + 1 > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n + 1) cap *= 2;
        char *grown = cap <= MAX_BODY ? realloc(c->body, cap) : NULL;
        if (!grown) {
            c->too_big = true;
            return 0; /* curl reports a write error */
        }
        c->body = grown;
        c->cap = cap;
    }
    memcpy(c->body + c->len, data, n);
    c->len += n;
    c->body[c->len] = '\0';
    return n;
}

/* Sets up a keep-alive client; `bearer` is NULL for Basic auth with `user`.
 * Returns false (with nothing left to free but the client) when out of memory. */
static bool client_init(client *c, const char *user, const char *bearer)
{
    memset(c, 0, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) return false;
    c->headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = c->headers ? curl_slist_append(c->headers, "Expect:") : NULL;
    if (!more) return false;
    c->headers = more;
    if (bearer) {
        size_t n = strlen(bearer) + 32;
        char *h = malloc(n);
        if (!h) return false;
        snprintf(h, n, "Authorization: Bearer %s", bearer);
        more = curl_slist_append(c->headers, h);
        free(h);
        if (!more) return false;
        c->headers = more;
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c->curl, CURLOPT_USERNAME, user);
        curl_easy_setopt(c->curl, CURLOPT_PASSWORD, "");
    }
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 30000L);
    return true;
}

static void client_free(client *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->body);
}

/* One request; `body` NULL for a GET. Returns the HTTP status, or 0 when the
 * request failed (with the reason on stderr). The answer is in c->body. */
static long client_call(client *c, const char *url, const char *body)
{
    c->len = 0;
    c->too_big = false;
    if (c->body) c->body[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(c->curl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "bench_latency: %s: %s\n", url, c->too_big ? "answer too large" : curl_easy_strerror(rc));
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* ---- one lead ------------------------------------------------------------------- */

typedef struct run {
    const char *url;
    const char *prefix;
    double timeout_us;
    client ingest, api;
} run;

typedef struct sample {
    double ack_us, visible_us;
    unsigned polls;
} sample;

static bool post_ok(run *r, const char *path, const char *body)
{
    char url[1024];
    snprintf(url, sizeof url, "%s%s", r->url, path);
    long status = client_call(&r->ingest, url, body);
    if (status == 200) return true;
    if (status) fprintf(stderr, "bench_latency: POST %s: HTTP %ld: %s\n", path, status, r->ingest.body ? r->ingest.body : "");
    return false;
}

/* Sends lead `n`'s journey and times its handoff; false with a message on
 * stderr when a request fails or the handoff does not appear in time. */
static bool one_lead(run *r, unsigned long n, sample *out)
{
    char lead[128], body[1024], url[1024];
    snprintf(lead, sizeof lead, "%s-%lu", r->prefix, n);
    snprintf(body, sizeof body,
             "{\"userId\":\"%s\",\"groupId\":\"%s.example\",\"traits\":{\"domain\":\"%s.example\","
             "\"industry\":\"software\",\"employees\":450,\"status\":\"prospect\"}}",
             lead, lead, lead);
    if (!post_ok(r, "/v1/group", body)) return false;
    snprintf(body, sizeof body,
             "{\"userId\":\"%s\",\"traits\":{\"email\":\"buyer@%s.example\",\"pain\":\"routing leads by hand\","
             "\"impact\":\"two lost deals a quarter\"}}",
             lead, lead);
    if (!post_ok(r, "/v1/identify", body)) return false;
    snprintf(body, sizeof body,
             "{\"userId\":\"%s\",\"category\":\"pricing\",\"name\":\"Pricing\",\"properties\":{\"seconds\":200}}", lead);
    snprintf(url, sizeof url, "%s/api/handoffs?lead=%s", r->url, lead);

    double t0 = bench_now_us();
    if (!post_ok(r, "/v1/page", body)) return false;
    out->ack_us = bench_now_us() - t0;
    out->polls = 0;
    for (;;) {
        long status = client_call(&r->api, url, NULL);
        double t = bench_now_us() - t0;
        out->polls++;
        if (status != 200) {
            if (status) fprintf(stderr, "bench_latency: GET %s: HTTP %ld\n", url, status);
            return false;
        }
        if (r->api.body && strstr(r->api.body, "\"gate\":\"fast_track\"")) {
            out->visible_us = t;
            return true;
        }
        if (t > r->timeout_us) {
            fprintf(stderr, "bench_latency: no handoff for %s after %.0f ms and %u polls\n", lead, t / 1e3, out->polls);
            return false;
        }
    }
}

static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || !*s || v > max) return false;
    *out = v;
    return true;
}

static void print_spans(const char *name, double *v, size_t n)
{
    double total = 0;
    for (size_t i = 0; i < n; i++) total += v[i];
    qsort(v, n, sizeof *v, bench_cmp_double);
    printf("%s_min_us: %.0f\n", name, v[0]);
    printf("%s_p50_us: %.0f\n", name, bench_quantile(v, n, 0.50));
    printf("%s_p90_us: %.0f\n", name, bench_quantile(v, n, 0.90));
    printf("%s_p99_us: %.0f\n", name, bench_quantile(v, n, 0.99));
    printf("%s_max_us: %.0f\n", name, v[n - 1]);
    printf("%s_mean_us: %.0f\n", name, total / (double)n);
}

/* ---- the disk's flush ------------------------------------------------------------ */

/* `count` pwrite()+fdatasync() pairs of one block each at offsets 0, 4096, ...
 * of the open file, timed one by one into `v`; false with errno set on failure. */
static bool time_flushes(int fd, double *v, size_t count)
{
    static char block[FSYNC_BLOCK];
    for (size_t i = 0; i < count; i++) {
        memset(block, (int)(i & 0xff), sizeof block);
        double t0 = bench_now_us();
        if (pwrite(fd, block, sizeof block, (off_t)(i * FSYNC_BLOCK)) != (ssize_t)sizeof block) return false;
        if (fdatasync(fd) != 0) return false;
        v[i] = bench_now_us() - t0;
    }
    return true;
}

/* The --fsync mode; leaves no file behind, whatever happens. */
static int measure_fsync(const char *path, unsigned long count)
{
    int rc = EXIT_OK;
    double *v = malloc(count * sizeof *v);
    if (!v) {
        fputs("bench_latency: out of memory\n", stderr);
        return EXIT_NOMEM;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || !time_flushes(fd, v, count)) {
        rc = EXIT_IO;
        goto done;
    }
    printf("file: %s\n", path);
    printf("flushes: %lu\n", count);
    printf("block_bytes: %d\n", FSYNC_BLOCK);
    print_spans("append", v, count);
    if (!time_flushes(fd, v, count)) {
        rc = EXIT_IO;
        goto done;
    }
    print_spans("overwrite", v, count);
done:
    if (rc == EXIT_IO) fprintf(stderr, "bench_latency: %s: %s\n", path, strerror(errno));
    if (fd >= 0) close(fd);
    unlink(path);
    free(v);
    return rc;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *key = NULL, *token = NULL, *fsync_file = NULL;
    unsigned long fsyncs = DEFAULT_FSYNCS;
    unsigned long leads = DEFAULT_LEADS, warmup = DEFAULT_WARMUP, timeout_ms = DEFAULT_TIMEOUT_MS;
    run r = {.prefix = "lat"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        i++;
        if (strcmp(a, "--url") == 0) url = v;
        else if (strcmp(a, "--write-key") == 0) key = v;
        else if (strcmp(a, "--sales-token") == 0) token = v;
        else if (strcmp(a, "--prefix") == 0) r.prefix = v;
        else if (strcmp(a, "--fsync") == 0) fsync_file = v;
        else if (strcmp(a, "--count") == 0) {
            if (!parse_count(v, MAX_LEADS, &fsyncs) || fsyncs == 0) return usage();
        }
        else if (strcmp(a, "--leads") == 0) {
            if (!parse_count(v, MAX_LEADS, &leads) || leads == 0) return usage();
        } else if (strcmp(a, "--warmup") == 0) {
            if (!parse_count(v, MAX_LEADS, &warmup)) return usage();
        } else if (strcmp(a, "--timeout-ms") == 0) {
            if (!parse_count(v, 3600000, &timeout_ms) || timeout_ms == 0) return usage();
        } else return usage();
    }
    if (fsync_file) return measure_fsync(fsync_file, fsyncs);
    if (!url || !key || !token || strlen(url) > 512 || strlen(r.prefix) > 64) return usage();
    r.url = url;
    r.timeout_us = (double)timeout_ms * 1e3;

    int rc = EXIT_OK;
    double *ack = malloc(leads * sizeof *ack), *visible = malloc(leads * sizeof *visible);
    double polls = 0;
    unsigned long first_poll = 0;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !ack || !visible ||
        !client_init(&r.ingest, key, NULL) || !client_init(&r.api, NULL, token)) {
        rc = EXIT_NOMEM;
        goto done;
    }
    double start = bench_now_us();
    for (unsigned long n = 0; n < warmup + leads; n++) {
        sample s;
        if (!one_lead(&r, n, &s)) {
            rc = EXIT_FAILED;
            goto done;
        }
        if (n < warmup) continue;
        if (n == warmup) start = bench_now_us();
        ack[n - warmup] = s.ack_us;
        visible[n - warmup] = s.visible_us;
        polls += s.polls;
        first_poll += s.polls == 1;
    }
    double elapsed = bench_now_us() - start;

    printf("leads: %lu\n", leads);
    printf("warmup: %lu\n", warmup);
    printf("seconds: %.2f\n", elapsed / 1e6);
    print_spans("ack", ack, leads);
    print_spans("visible", visible, leads);
    printf("polls_mean: %.2f\n", polls / (double)leads);
    printf("visible_at_first_poll: %lu\n", first_poll);

done:
    if (rc == EXIT_NOMEM) fputs("bench_latency: out of memory\n", stderr);
    client_free(&r.ingest);
    client_free(&r.api);
    curl_global_cleanup();
    free(ack);
    free(visible);
    return rc;
}
