/* baton replay: events through the engine, handoffs out, a summary on stderr. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

contract *cli_load_contract(const char *path, bool json, int *code);

enum format { FORMAT_JSON, FORMAT_CSV, FORMAT_TABLE };

/* Rejections by reason, for the summary: a few distinct reasons at most. */
#define MAX_REASONS 16

typedef struct replay {
    const contract *c;
    engine *e;
    decoder *d;
    enum format format;
    bool timeline;
    strbuf line;
    uint64_t read, rejected;
    struct {
        char what[64];
        uint64_t count;
    } reasons[MAX_REASONS];
    unsigned reason_count;
    uint64_t bytes_total, bytes_done;
    bool progress;
    int code;
    reorder *held;   /* with --lateness: lines waiting for their turn */
    char *scratch;   /* a copy to decode while the original waits */
} replay;

static void on_handoff(void *ctx, const handoff *h)
{
    replay *r = ctx;
    const contract *c = r->c;
    strbuf *out = &r->line;
    strbuf_reset(out);
    char at[40];
    time_format(h->at, at, sizeof at);
    const char *gate = contract_gate(c, h->gate)->name, *stage = contract_stage(c, h->stage)->name;
    const char *status = h->needs_context ? "needs_context" : "handed_off";
    switch (r->format) {
    case FORMAT_JSON: handoff_to_json(h, out); break;
    case FORMAT_CSV:
        strbuf_printf(out, "%llu,", (unsigned long long)h->number);
        strbuf_csv_field(out, h->lead, false);
        strbuf_putc(out, ',');
        strbuf_csv_field(out, h->account, false);
        strbuf_printf(out, ",%s,%s,%s,%s,%s,", gate, at, h->fast ? "true" : "false", stage, status);
        strbuf_csv_field(out, h->team, false);
        strbuf_putc(out, ',');
        strbuf_csv_field(out, h->did, false);
        strbuf_putc(out, ',');
        strbuf_csv_field(out, h->asks, false);
        break;
    case FORMAT_TABLE:
        at[10] = ' ';
        at[16] = '\0'; /* 2026-10-05 14:03 */
        strbuf_printf(out, "%-5llu %-16s %-26.26s %-18.18s %-11.11s %-13s %s", (unsigned long long)h->number,
                      at, h->lead, gate, stage, status, h->fast ? "fast" : "");
        strbuf_printf(out, "\n      did:  %s\n      asks: %s", h->did, h->asks);
        break;
    }
    strbuf_putc(out, '\n');
    fwrite(out->data, 1, out->len, stdout);
}

static void on_transition(void *ctx, const transition *t)
{
    replay *r = ctx;
    if (!r->timeline || r->format != FORMAT_JSON) return;
    strbuf_reset(&r->line);
    transition_to_json(r->c, t, &r->line);
    strbuf_putc(&r->line, '\n');
    fwrite(r->line.data, 1, r->line.len, stdout);
}

static void on_breach(void *ctx, const breach *b)
{
    replay *r = ctx;
    if (!r->timeline || r->format != FORMAT_JSON) return;
    strbuf_reset(&r->line);
    breach_to_json(r->c, b, &r->line);
    strbuf_putc(&r->line, '\n');
    fwrite(r->line.data, 1, r->line.len, stdout);
}

/* Groups rejections by their message, without the quoted value at its end
 * and with numbers as N: "invalid JSON at byte N". */
static void count_rejection(replay *r, const char *what)
{
    r->rejected++;
    char key[64];
    size_t n = 0;
    const char *cut = strstr(what, ": \"");
    size_t len = cut ? (size_t)(cut - what) : strlen(what);
    for (size_t i = 0; i < len && n < sizeof key - 1; i++) {
        bool digit = what[i] >= '0' && what[i] <= '9';
        if (digit && (n == 0 || key[n - 1] == ' ' || key[n - 1] == 'N')) {
            if (n == 0 || key[n - 1] != 'N') key[n++] = 'N';
            continue;
        }
        key[n++] = what[i];
    }
    key[n] = '\0';
    for (unsigned i = 0; i < r->reason_count; i++) {
        if (strcmp(r->reasons[i].what, key) == 0) {
            r->reasons[i].count++;
            return;
        }
    }
    if (r->reason_count < MAX_REASONS) {
        memcpy(r->reasons[r->reason_count].what, key, n + 1);
        r->reasons[r->reason_count++].count = 1;
    }
}

static void show_progress(replay *r, bool last)
{
    if (!r->progress) return;
    unsigned pct = r->bytes_total ? (unsigned)(100 * r->bytes_done / r->bytes_total) : 0;
    fprintf(stderr, "\r%3u%% %llu events, %llu handoffs%s", pct, (unsigned long long)r->read,
            (unsigned long long)engine_get_stats(r->e)->handoffs, last ? "\n" : "");
}

/* Applies one decoded event; false when memory ran out. */
static bool apply(replay *r, const event *ev, const engine_sink *sink)
{
    if (engine_apply(r->e, ev, sink) == APPLY_NOMEM) {
        fprintf(stderr, "baton replay: out of memory\n");
        r->code = EXIT_INTERNAL;
        return false;
    }
    return true;
}

static void refuse_line(replay *r, const char *name, uint64_t line_no, uint32_t offset, const char *what)
{
    fprintf(stderr, "%s:%llu:%u: %s; skipped\n", name, (unsigned long long)line_no, offset + 1, what);
    count_rejection(r, what);
}

/* Decodes and applies one line; a refused line is reported and counted. */
static bool apply_line(replay *r, char *text, size_t len, const char *name, uint64_t line_no,
                       const engine_sink *sink)
{
    event ev;
    decode_error err;
    if (!decoder_decode(r->d, text, len, &ev, &err)) {
        refuse_line(r, name, line_no, err.offset, err.what);
        return true;
    }
    return apply(r, &ev, sink);
}

/* With a lateness, a valid line waits in the buffer and lines that are due
 * are applied in time order. */
static bool hold_line(replay *r, char *text, size_t len, const char *name, uint64_t line_no,
                      const engine_sink *sink)
{
    memcpy(r->scratch, text, len + 1);
    event ev;
    decode_error err;
    if (!decoder_decode(r->d, r->scratch, len, &ev, &err)) {
        refuse_line(r, name, line_no, err.offset, err.what);
        return true;
    }
    if (!reorder_push(r->held, ev.timestamp, text, len, line_no)) {
        fprintf(stderr, "baton replay: out of memory\n");
        r->code = EXIT_INTERNAL;
        return false;
    }
    return true;
}

static bool release_due(replay *r, bool drain, const char *name, const engine_sink *sink)
{
    char *text;
    size_t len;
    uint64_t line_no;
    while ((text = reorder_pop(r->held, drain, &len, &line_no)))
        if (!apply_line(r, text, len, name, line_no, sink)) return false;
    return true;
}

static void too_long_line(replay *r, const char *name, uint64_t line_no)
{
    fprintf(stderr, "%s:%llu: event longer than %u bytes; skipped\n", name, (unsigned long long)line_no,
            INGEST_MAX_EVENT_BYTES);
    count_rejection(r, "event too long");
}

/* With a lateness: each line waits its turn in the buffer, then is decoded
 * again and applied, one at a time. */
static bool replay_held(replay *r, FILE *in, const char *name, const engine_sink *sink)
{
    line_reader *lr = line_reader_new(in);
    if (!lr) {
        r->code = EXIT_INTERNAL;
        return false;
    }
    char *text;
    size_t len;
    uint64_t line_no;
    bool too_long;
    bool ok = true;
    while ((text = line_reader_next(lr, &len, &line_no, &too_long))) {
        r->bytes_done += len + 1;
        if (too_long) {
            r->read++;
            too_long_line(r, name, line_no);
            continue;
        }
        if (len == 0 || strspn(text, " \t") == len) continue;
        r->read++;
        if (!(ok = hold_line(r, text, len, name, line_no, sink) && release_due(r, false, name, sink))) break;
        if ((r->read & 0xFFFFF) == 0) show_progress(r, false);
    }
    if (ok) ok = release_due(r, true, name, sink);
    if (line_reader_error(lr)) {
        fprintf(stderr, "%s: read error\n", name);
        r->code = EXIT_IO;
        ok = false;
    }
    line_reader_free(lr);
    return ok;
}

/* Without one: lines are read and decoded on a second thread while the
 * engine applies the batches before them here, in the file's order. */
static bool replay_jsonl(replay *r, FILE *in, const char *name, const engine_sink *sink)
{
    if (r->held) return replay_held(r, in, name, sink);
    decode_thread *t = decode_thread_start(in, r->c);
    if (!t) {
        fprintf(stderr, "baton replay: cannot start the decoding thread (out of memory or threads)\n");
        r->code = EXIT_INTERNAL;
        return false;
    }
    bool ok = true;
    const decoded_batch *b;
    while (ok && (b = decode_thread_next(t))) {
        for (size_t i = 0; i < b->refusal_count; i++) {
            const line_refusal *x = &b->refusals[i];
            if (x->too_long) too_long_line(r, name, x->line_no);
            else refuse_line(r, name, x->line_no, x->offset, x->what);
        }
        uint64_t before = r->read;
        r->read += b->lines;
        r->bytes_done += b->bytes;
        size_t n = b->events.count;
        ok = engine_apply_batch(r->e, b->events.events, n, sink, NULL) == n;
        decode_thread_release(t);
        if (r->read >> 20 != before >> 20) show_progress(r, false);
    }
    if (!ok) {
        fprintf(stderr, "baton replay: out of memory\n");
        r->code = EXIT_INTERNAL;
    }
    if (!decode_thread_finish(t) && ok) {
        fprintf(stderr, "%s: read error\n", name);
        r->code = EXIT_IO;
        ok = false;
    }
    return ok;
}

static bool replay_csv(replay *r, FILE *in, const char *name, const engine_sink *sink)
{
    csv_reader *cr = csv_reader_new(in);
    if (!cr) {
        r->code = EXIT_INTERNAL;
        return false;
    }
    const char *header[CSV_MAX_COLUMNS];
    char *header_copy[CSV_MAX_COLUMNS] = {0};
    size_t columns = 0, count;
    uint64_t line;
    const char *problem;
    const char *const *row = csv_next(cr, &columns, &line, &problem);
    bool ok = row && !problem;
    if (!ok) fprintf(stderr, "%s: no header row\n", name);
    for (size_t i = 0; ok && i < columns; i++) header[i] = header_copy[i] = mem_strndup(row[i], strlen(row[i]));
    strbuf json;
    strbuf_init(&json);
    while (ok && (row = csv_next(cr, &count, &line, &problem))) {
        r->read++;
        if (problem || count != columns) {
            char what[96];
            snprintf(what, sizeof what, "%s", problem ? problem : "the row has a different number of columns");
            fprintf(stderr, "%s:%llu: %s; skipped\n", name, (unsigned long long)line, what);
            count_rejection(r, what);
            continue;
        }
        strbuf_reset(&json);
        csv_event_to_json(header, row, count, &json);
        event ev;
        decode_error err;
        if (json.oom || !decoder_decode(r->d, json.data, json.len, &ev, &err)) {
            fprintf(stderr, "%s:%llu: %s; skipped\n", name, (unsigned long long)line, json.oom ? "out of memory" : err.what);
            count_rejection(r, json.oom ? "out of memory" : err.what);
            continue;
        }
        if (!apply(r, &ev, sink)) ok = false;
    }
    strbuf_free(&json);
    for (size_t i = 0; i < columns; i++) mem_free(header_copy[i]);
    csv_reader_free(cr);
    return ok || r->code == EXIT_OK;
}



typedef struct accounts_file {
    const char *path;
    bool unusable; /* no header, or no domain column */
} accounts_file;

static void report_account_row(void *ctx, uint64_t line, const char *why)
{
    accounts_file *a = ctx;
    if (line == 1) a->unusable = true;
    fprintf(stderr, "%s:%llu: %s%s\n", a->path, (unsigned long long)line, why, line == 1 ? "" : "; skipped");
}

int cli_load_accounts(engine *e, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    accounts_file a = {.path = path};
    engine_load_accounts(e, f, report_account_row, &a);
    fclose(f);
    return a.unusable ? EXIT_INVALID : EXIT_OK;
}

static void summary(replay *r)
{
    fflush(stdout); /* the records first, then the summary, on a shared terminal */
    const engine_stats *s = engine_get_stats(r->e);
    fprintf(stderr, "events: %llu read, %llu applied, %llu rejected, %llu duplicate, %llu late\n",
            (unsigned long long)r->read, (unsigned long long)s->applied, (unsigned long long)r->rejected,
            (unsigned long long)s->duplicates, (unsigned long long)s->late);
    for (unsigned i = 0; i < r->reason_count; i++)
        fprintf(stderr, "  rejected: %llu %s\n", (unsigned long long)r->reasons[i].count, r->reasons[i].what);
    fprintf(stderr, "leads: %llu (%llu anonymous merged), accounts: %llu\n", (unsigned long long)s->leads,
            (unsigned long long)s->anonymous_merges, (unsigned long long)s->accounts);
    fprintf(stderr, "handoffs: %llu (%llu needs-context, %llu released later)\n", (unsigned long long)s->handoffs,
            (unsigned long long)s->needs_context, (unsigned long long)s->released);
    for (size_t g = 0; g < contract_gate_count(r->c); g++)
        fprintf(stderr, "  %-22s %llu\n", contract_gate(r->c, g)->name, (unsigned long long)s->by_gate[g]);
    fprintf(stderr, "sla breaches: %llu first touch, %llu meeting\n", (unsigned long long)s->breaches[SLA_FIRST_TOUCH],
            (unsigned long long)s->breaches[SLA_MEETING]);
    if (engine_calendar_problem(r->e))
        fprintf(stderr, "warning: %s; business time was counted in UTC\n", engine_calendar_problem(r->e));
}

int cmd_replay(int argc, char **argv)
{
    const char *contract_path = NULL, *accounts = NULL, *input_format = NULL, *reps = NULL, *model = NULL;
    replay r = {.format = FORMAT_JSON};
    engine_options opt = {0};
    duration_ms lateness = 0;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        const char *v = first + 1 < argc ? argv[first + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        } else if (strcmp(a, "--contract") == 0 && v) {
            contract_path = v;
            first++;
        } else if (strcmp(a, "--reps") == 0 && v) {
            reps = v;
            first++;
        } else if (strcmp(a, "--model") == 0 && v) {
            model = v;
            first++;
        } else if (strcmp(a, "--accounts") == 0 && v) {
            accounts = v;
            first++;
        } else if (strcmp(a, "--format") == 0 && v) {
            if (strcmp(v, "json") == 0) r.format = FORMAT_JSON;
            else if (strcmp(v, "csv") == 0) r.format = FORMAT_CSV;
            else if (strcmp(v, "table") == 0) r.format = FORMAT_TABLE;
            else return cli_usage_error("replay", "unknown format '%s' (json, csv or table)", v);
            first++;
        } else if (strcmp(a, "--input") == 0 && v) {
            if (strcmp(v, "jsonl") != 0 && strcmp(v, "csv") != 0)
                return cli_usage_error("replay", "unknown input form '%s' (jsonl or csv)", v);
            input_format = v;
            first++;
        } else if (strcmp(a, "--lateness") == 0 && v) {
            if (!duration_parse(v, strlen(v), &lateness))
                return cli_usage_error("replay", "--lateness takes a duration such as 10m, not '%s'", v);
            first++;
        } else if (strcmp(a, "--dedupe-window") == 0 && v) {
            if (!duration_parse(v, strlen(v), &opt.dedupe_window) || opt.dedupe_window <= 0)
                return cli_usage_error("replay", "--dedupe-window takes a duration such as 7d, not '%s'", v);
            first++;
        } else if (strcmp(a, "--timeline") == 0) {
            r.timeline = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("replay", "unknown option '%s'", a);
        } else {
            break;
        }
    }
    if (!contract_path) return cli_usage_error("replay", "--contract FILE is required");
    mem_keep_large_blocks(); /* the state grows from nothing in seconds */

    int code = EXIT_OK;
    contract *c = cli_load_contract(contract_path, false, &code);
    if (!c) return code;
    r.c = c;
    if (reps && (code = cli_load_reps(c, reps, &opt.router)) != EXIT_OK) goto done;
    opt.model = cli_load_model("replay", c, contract_path, model);
    r.e = engine_new(c, &opt);
    if (r.e && engine_score_problem(r.e)) cli_warn_score_null("replay", engine_score_problem(r.e));
    r.d = decoder_new(c);
    strbuf_init(&r.line);
    if (lateness > 0) {
        r.held = reorder_new(lateness);
        r.scratch = mem_alloc(INGEST_MAX_EVENT_BYTES + 1);
    }
    if (!r.e || !r.d || (lateness > 0 && (!r.held || !r.scratch))) {
        fprintf(stderr, "baton replay: out of memory\n");
        code = EXIT_INTERNAL;
        goto done;
    }
    if (accounts && (code = cli_load_accounts(r.e, accounts)) != EXIT_OK) goto done;

    if (r.format == FORMAT_CSV) fputs("id,lead,account,gate,at,fast,stage,status,team,did,asks\n", stdout);
    engine_sink sink = {.ctx = &r, .handoff = on_handoff, .transition = on_transition, .breach = on_breach};
    static char *stdin_only[] = {"-"};
    char **inputs = first < argc ? argv + first : stdin_only;
    int count = first < argc ? argc - first : 1;
    for (int i = 0; i < count; i++) {
        struct stat st;
        if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &st) == 0) r.bytes_total += (uint64_t)st.st_size;
    }
    r.progress = isatty(STDERR_FILENO) && r.bytes_total > (64u << 20);
    for (int i = 0; i < count && r.code == EXIT_OK; i++) {
        const char *name = inputs[i];
        bool is_stdin = strcmp(name, "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(name, "rb");
        if (!in) {
            fprintf(stderr, "%s: cannot read: %s\n", name, strerror(errno));
            r.code = EXIT_IO;
            break;
        }
        size_t nlen = strlen(name);
        bool csv = input_format ? strcmp(input_format, "csv") == 0
                                : nlen > 4 && strcmp(name + nlen - 4, ".csv") == 0;
        if (csv) replay_csv(&r, in, is_stdin ? "stdin" : name, &sink);
        else replay_jsonl(&r, in, is_stdin ? "stdin" : name, &sink);
        if (!is_stdin) fclose(in);
    }
    show_progress(&r, true);
    summary(&r);
    code = r.code; /* rejected lines are reported and counted, not fatal */
done:
    strbuf_free(&r.line);
    reorder_free(r.held);
    mem_free(r.scratch);
    decoder_free(r.d);
    engine_free(r.e);
    route_free(opt.router);
    score_model_free(opt.model);
    contract_free(c);
    return code;
}
