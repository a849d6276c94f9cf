/* bench_replay: how fast events go from JSON Lines to decisions, stage by stage.
 *
 *   bench_replay floor   FILE              [--runs N]
 *   bench_replay jansson FILE              [--runs N]
 *   bench_replay decode  FILE --contract C [--runs N]
 *   bench_replay core    FILE --contract C [--runs N]
 *   bench_replay warm    FILE --contract C [--runs N]
 *   bench_replay replay  FILE --contract C [--runs N]
 *
 * Each mode times one pass over FILE RUNS times (default 3) with
 * CLOCK_MONOTONIC and prints the best and the median pass, one
 * "key: value" a line for scripts/bench:
 *
 *   floor    the whole file in memory, each line split off (memchr) and
 *            tokenised by jsmn into 2048 tokens, nothing else: what no JSON
 *            Lines reader can beat, the floor the others are measured against;
 *   jansson  the same lines, each parsed by json_loadb() into a tree and
 *            freed: what a DOM parser would cost in baton's place;
 *   decode   the same lines through decoder_decode(), the contract's fields
 *            picked out; no engine;
 *   core     every line decoded once, before any timing, into a copy of its
 *            event and field values; then only engine_apply() is timed over
 *            the pre-decoded events (the sink only counts): the engine core,
 *            reading a million decoded events (640 bytes each) back from memory;
 *   warm     the engine core on events as baton replay hands them over: each
 *            batch of EVENT_BATCH lines decoded outside the timed span, then
 *            applied inside it, so the events are in the cache as they are
 *            after decoding (the clock is read twice per batch);
 *   replay   what `baton replay` does, in process: the file read and decoded
 *            on a second thread (decode_thread), the batches applied here,
 *            each handoff written as JSON into a buffer (which the CLI would
 *            then write to stdout).
 *            Also prints the engine's state bytes per lead and the peak RSS.
 *
 * The modes with an engine ask the heap to keep large blocks, as baton
 * replay does (mem_keep_large_blocks()): each run builds a new engine.
 * The in-memory modes copy the file into a fresh buffer before each pass,
 * outside the timed span, since decoding rewrites string escapes in place.
 * MB are 10^6 bytes of the input file. The timed work of one pass sits in a
 * function named pass_MODE (floor: pass_floor), never inlined, so
 * `valgrind --tool=callgrind --toggle-collect=pass_replay` counts exactly it.
 *
 * Exit status: 0 ok, 1 the contract has errors or a line was refused where
 * none may be, 2 usage, 3 the file could not be read, 4 out of memory. */
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "engine/engine.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include "bench.h"

#define DEFAULT_RUNS 3
#define MAX_RUNS 1000
#define FLOOR_TOKENS 2048 /* as many as the decoder allows (INGEST_MAX_TOKENS) */

enum { EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_IO, EXIT_NOMEM };

#define NOINLINE __attribute__((noinline))

static int usage(void)
{
    fputs("usage: bench_replay floor|jansson FILE [--runs N]\n"
          "       bench_replay decode|core|warm|replay FILE --contract C [--runs N]\n",
          stderr);
    return EXIT_USAGE;
}

/* What one pass saw; every pass over the same input sees the same. */
typedef struct tally {
    uint64_t events;   /* non-empty lines, or pre-decoded events */
    uint64_t refused;  /* lines the parser or decoder refused */
    uint64_t handoffs; /* handoffs the sink was given */
    uint64_t out_bytes; /* bytes of handoff JSON (replay) */
} tally;

/* ---- the file in memory -------------------------------------------------------- */

/* Reads a whole file into one allocation of its size (plus a NUL); NULL
 * with errno set on failure. Sized by fstat, so no doubling on the way. */
static char *read_all(const char *path, size_t *len)
{
    char *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) goto done;
    size_t size = (size_t)st.st_size;
    data = malloc(size + 1);
    if (!data) {
        errno = ENOMEM;
        goto done;
    }
    if (fread(data, 1, size, f) != size) {
        free(data);
        data = NULL;
        errno = EIO;
        goto done;
    }
    data[size] = '\0';
    *len = size;
done:
    fclose(f);
    return data;
}

/* The next line of buf[*pos..len) without its newline, NUL-terminated in
 * place; NULL at the end. Blank lines are skipped, as baton replay does. */
static char *next_line(char *buf, size_t len, size_t *pos, size_t *line_len)
{
    while (*pos < len) {
        char *start = buf + *pos;
        char *nl = memchr(start, '\n', len - *pos);
        size_t n = nl ? (size_t)(nl - start) : len - *pos;
        *pos += n + (nl != NULL);
        if (n && start[n - 1] == '\r') n--;
        start[n] = '\0';
        if (n == 0) continue;
        *line_len = n;
        return start;
    }
    return NULL;
}

/* ---- passes: each is the timed span of its mode ------------------------------------ */

static NOINLINE void pass_floor(char *buf, size_t len, tally *t)
{
    static jsmntok_t tokens[FLOOR_TOKENS];
    size_t pos = 0, n;
    char *line;
    while ((line = next_line(buf, len, &pos, &n))) {
        jsmn_parser p;
        jsmn_init(&p);
        t->events++;
        if (jsmn_parse(&p, line, n, tokens, FLOOR_TOKENS) <= 0) t->refused++;
    }
}

static NOINLINE void pass_jansson(char *buf, size_t len, tally *t)
{
    size_t pos = 0, n;
    char *line;
    while ((line = next_line(buf, len, &pos, &n))) {
        json_error_t err;
        t->events++;
        json_t *root = json_loadb(line, n, 0, &err);
        if (!root) t->refused++;
        json_decref(root);
    }
}

static NOINLINE void pass_decode(decoder *d, char *buf, size_t len, tally *t)
{
    size_t pos = 0, n;
    char *line;
    while ((line = next_line(buf, len, &pos, &n))) {
        event ev;
        decode_error err;
        t->events++;
        if (!decoder_decode(d, line, n, &ev, &err)) t->refused++;
    }
}

static void count_handoff(void *ctx, const handoff *h)
{
    tally *t = ctx;
    t->handoffs++;
}

static NOINLINE enum apply_result pass_core(engine *e, const event *events, size_t count, tally *t)
{
    engine_sink sink = {.ctx = t, .handoff = count_handoff};
    size_t done = engine_apply_batch(e, events, count, &sink, NULL);
    t->events += done;
    return done < count ? APPLY_NOMEM : APPLY_OK;
}

/* The warm mode: only engine_apply_batch() is timed, over each batch just
 * decoded; *secs is the time spent applying. */
static NOINLINE int pass_warm(decoder *d, engine *e, event_batch *b, char *buf, size_t len, tally *t, double *secs)
{
    engine_sink sink = {.ctx = t, .handoff = count_handoff};
    size_t pos = 0, n;
    char *line = buf;
    *secs = 0;
    while (line) {
        b->count = 0;
        while (!event_batch_full(b) && (line = next_line(buf, len, &pos, &n))) {
            decode_error err;
            if (!event_batch_decode(b, d, line, n, &err)) t->refused++;
        }
        double t0 = bench_now_s();
        size_t done = engine_apply_batch(e, b->events, b->count, &sink, NULL);
        *secs += bench_now_s() - t0;
        t->events += done;
        if (done < b->count) return EXIT_NOMEM;
    }
    return EXIT_OK;
}

/* The replay sink: each handoff as one JSON line, as baton replay prints it. */
typedef struct replay_out {
    tally *t;
    strbuf line;
} replay_out;

static void write_handoff(void *ctx, const handoff *h)
{
    replay_out *o = ctx;
    strbuf_reset(&o->line);
    handoff_to_json(h, &o->line);
    strbuf_putc(&o->line, '\n');
    o->t->handoffs++;
    o->t->out_bytes += o->line.len;
}

/* One end-to-end replay of `path` into a new engine, left in *out for the
 * caller to read and free after the clock stops. */
static NOINLINE int pass_replay(const contract *c, const char *path, engine **out, tally *t)
{
    int rc = EXIT_OK;
    replay_out o = {.t = t};
    strbuf_init(&o.line);
    engine *e = engine_new(c, NULL);
    FILE *in = NULL;
    decode_thread *dt = NULL;
    if (!e) {
        rc = EXIT_NOMEM;
        goto done;
    }
    if (!(in = fopen(path, "rb"))) {
        rc = EXIT_IO;
        goto done;
    }
    if (!(dt = decode_thread_start(in, c))) {
        rc = EXIT_NOMEM;
        goto done;
    }
    /* as baton replay does: lines decoded on a second thread, applied here in batches */
    engine_sink sink = {.ctx = &o, .handoff = write_handoff};
    const decoded_batch *b;
    while ((b = decode_thread_next(dt))) {
        t->events += b->lines;
        t->refused += b->refusal_count;
        size_t n = b->events.count;
        bool applied = engine_apply_batch(e, b->events.events, n, &sink, NULL) == n;
        decode_thread_release(dt);
        if (!applied) {
            rc = EXIT_NOMEM;
            goto done;
        }
    }
done:
    if (dt && !decode_thread_finish(dt) && rc == EXIT_OK) rc = EXIT_IO;
    if (in) fclose(in);
    strbuf_free(&o.line);
    if (rc == EXIT_OK) *out = e;
    else engine_free(e);
    return rc;
}

/* ---- pre-decoded events for the core mode ------------------------------------------ */

typedef struct decoded {
    event *events;
    value *values; /* field_count per event */
    size_t count, field_count;
} decoded;

/* Decodes every line of buf once and keeps a copy of each event and of its
 * field values. The strings in both point into buf, which must outlive them.
 * Refused lines are left out and counted. */
static int predecode(const contract *c, char *buf, size_t len, decoded *out, uint64_t *refused)
{
    int rc = EXIT_OK;
    size_t lines = 0;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))); p++) lines++;
    lines++; /* a last line without a newline */
    out->field_count = contract_field_count(c);
    out->count = 0;
    out->events = malloc(lines * sizeof *out->events);
    out->values = malloc(lines * (out->field_count ? out->field_count : 1) * sizeof *out->values);
    decoder *d = decoder_new(c);
    if (!out->events || !out->values || !d) {
        rc = EXIT_NOMEM;
        goto done;
    }
    size_t pos = 0, n;
    char *line;
    while ((line = next_line(buf, len, &pos, &n))) {
        event ev;
        decode_error err;
        if (!decoder_decode(d, line, n, &ev, &err)) {
            (*refused)++;
            continue;
        }
        value *vals = out->values + out->count * out->field_count;
        memcpy(vals, ev.fields, out->field_count * sizeof *vals);
        ev.fields = vals;
        out->events[out->count++] = ev;
    }
done:
    decoder_free(d);
    return rc;
}

/* ---- reporting ------------------------------------------------------------------ */

static void report_times(double *secs, int runs, uint64_t events, size_t bytes)
{
    qsort(secs, (size_t)runs, sizeof *secs, bench_cmp_double);
    double best = secs[0];
    double median = runs % 2 ? secs[runs / 2] : (secs[runs / 2 - 1] + secs[runs / 2]) / 2;
    printf("runs: %d\n", runs);
    printf("best_s: %.4f\n", best);
    printf("median_s: %.4f\n", median);
    printf("worst_s: %.4f\n", secs[runs - 1]);
    printf("best_mb_per_s: %.1f\n", (double)bytes / 1e6 / best);
    printf("median_mb_per_s: %.1f\n", (double)bytes / 1e6 / median);
    printf("best_events_per_s: %.0f\n", (double)events / best);
    printf("median_events_per_s: %.0f\n", (double)events / median);
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static void report_engine(const engine *e)
{
    const engine_stats *s = engine_get_stats(e);
    size_t state = engine_state_bytes(e);
    printf("applied: %llu\n", (unsigned long long)s->applied);
    printf("duplicates: %llu\n", (unsigned long long)s->duplicates);
    printf("leads: %llu\n", (unsigned long long)s->leads);
    printf("accounts: %llu\n", (unsigned long long)s->accounts);
    printf("handoffs: %llu\n", (unsigned long long)s->handoffs);
    printf("state_bytes: %zu\n", state);
    printf("state_bytes_per_lead: %.0f\n", s->leads ? (double)state / (double)s->leads : 0.0);
}

int main(int argc, char **argv)
{
    if (argc < 3) return usage();
    const char *mode = argv[1], *path = argv[2], *contract_path = NULL;
    int runs = DEFAULT_RUNS;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--contract") == 0 && i + 1 < argc) {
            contract_path = argv[++i];
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            char *end;
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > MAX_RUNS) return usage();
            runs = (int)n;
        } else {
            return usage();
        }
    }
    enum { M_FLOOR, M_JANSSON, M_DECODE, M_CORE, M_WARM, M_REPLAY } m;
    if (strcmp(mode, "floor") == 0) m = M_FLOOR;
    else if (strcmp(mode, "jansson") == 0) m = M_JANSSON;
    else if (strcmp(mode, "decode") == 0) m = M_DECODE;
    else if (strcmp(mode, "core") == 0) m = M_CORE;
    else if (strcmp(mode, "warm") == 0) m = M_WARM;
    else if (strcmp(mode, "replay") == 0) m = M_REPLAY;
    else return usage();
    if ((m >= M_DECODE) != (contract_path != NULL)) return usage();
    /* the heap as baton replay sets it: each run's engine grows from nothing */
    if (m >= M_CORE) mem_keep_large_blocks();

    int rc = EXIT_OK;
    contract *c = NULL;
    decoder *d = NULL;
    engine *e = NULL;
    char *pristine = NULL, *work = NULL;
    decoded pre = {0};
    event_batch batch = {0};
    double secs[MAX_RUNS];
    tally t = {0};
    size_t bytes = 0;

    if (contract_path && !(c = bench_load_contract(contract_path))) {
        rc = EXIT_INVALID;
        goto done;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "bench_replay: cannot read %s: %s\n", path, strerror(errno));
        rc = EXIT_IO;
        goto done;
    }
    bytes = (size_t)st.st_size;

    if (m != M_REPLAY) {
        if (!(pristine = read_all(path, &bytes))) {
            fprintf(stderr, "bench_replay: cannot read %s: %s\n", path, strerror(errno));
            rc = errno == ENOMEM ? EXIT_NOMEM : EXIT_IO;
            goto done;
        }
        if (!(work = malloc(bytes + 1))) {
            rc = EXIT_NOMEM;
            goto done;
        }
    }
    if ((m == M_DECODE || m == M_WARM) && !(d = decoder_new(c))) {
        rc = EXIT_NOMEM;
        goto done;
    }
    if (m == M_WARM && !event_batch_init(&batch, contract_field_count(c))) {
        rc = EXIT_NOMEM;
        goto done;
    }
    if (m == M_CORE) {
        uint64_t refused = 0;
        memcpy(work, pristine, bytes + 1);
        double t0 = bench_now_s();
        if ((rc = predecode(c, work, bytes, &pre, &refused)) != EXIT_OK) goto done;
        printf("predecode_s: %.4f\n", bench_now_s() - t0);
        printf("predecode_refused: %llu\n", (unsigned long long)refused);
    }

    for (int r = 0; r < runs; r++) {
        tally pass = {0};
        double t0 = 0, t1 = 0;
        switch (m) {
        case M_FLOOR:
        case M_JANSSON:
        case M_DECODE:
            memcpy(work, pristine, bytes + 1);
            t0 = bench_now_s();
            if (m == M_FLOOR) pass_floor(work, bytes, &pass);
            else if (m == M_JANSSON) pass_jansson(work, bytes, &pass);
            else pass_decode(d, work, bytes, &pass);
            t1 = bench_now_s();
            break;
        case M_CORE:
            engine_free(e);
            if (!(e = engine_new(c, NULL))) {
                rc = EXIT_NOMEM;
                goto done;
            }
            t0 = bench_now_s();
            enum apply_result ar = pass_core(e, pre.events, pre.count, &pass);
            t1 = bench_now_s();
            if (ar == APPLY_NOMEM) {
                rc = EXIT_NOMEM;
                goto done;
            }
            break;
        case M_WARM:
            engine_free(e);
            memcpy(work, pristine, bytes + 1);
            if (!(e = engine_new(c, NULL))) {
                rc = EXIT_NOMEM;
                goto done;
            }
            double applying;
            if ((rc = pass_warm(d, e, &batch, work, bytes, &pass, &applying)) != EXIT_OK) goto done;
            t1 = applying; /* t0 stays 0 */
            break;
        case M_REPLAY:
            engine_free(e);
            e = NULL;
            t0 = bench_now_s();
            rc = pass_replay(c, path, &e, &pass);
            t1 = bench_now_s();
            if (rc != EXIT_OK) goto done;
            break;
        }
        secs[r] = t1 - t0;
        t = pass;
    }

    printf("mode: %s\n", mode);
    printf("file: %s\n", path);
    printf("bytes: %zu\n", bytes);
    printf("events: %llu\n", (unsigned long long)t.events);
    printf("refused: %llu\n", (unsigned long long)t.refused);
    report_times(secs, runs, t.events, bytes);
    if (e) {
        report_engine(e);
        if (m == M_REPLAY) printf("handoff_json_bytes: %llu\n", (unsigned long long)t.out_bytes);
    }
    if (m == M_CORE) printf("field_slots: %zu\n", pre.field_count);
    printf("peak_rss_kb: %ld\n", peak_rss_kb());
    if (t.refused) { /* the figures would compare different work */
        fprintf(stderr, "bench_replay: %llu lines refused\n", (unsigned long long)t.refused);
        rc = EXIT_INVALID;
    }

done:
    if (rc == EXIT_NOMEM) fputs("bench_replay: out of memory\n", stderr);
    if (rc == EXIT_IO && m == M_REPLAY) fprintf(stderr, "bench_replay: cannot read %s\n", path);
    engine_free(e);
    decoder_free(d);
    event_batch_free(&batch);
    free(pre.events);
    free(pre.values);
    free(work);
    free(pristine);
    contract_free(c);
    if (fclose(stdout) != 0 && rc == EXIT_OK) rc = EXIT_IO;
    return rc;
}
