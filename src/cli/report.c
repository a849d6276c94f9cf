/* baton report: collects handoffs and outcomes — by replaying events through
 * the engine, or from the store `baton serve` keeps (--db) — and renders the
 * monthly review. Also home of report_feed(), which `baton diff` uses to
 * replay the same history under two contracts. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "report/report.h"
#include "store/store.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

contract *cli_load_contract(const char *path, bool json, int *code);
int report_feed(engine *e, decoder *d, const engine_sink *sink, report_data *data, char **files, int count,
                const char *cmd);
int report_write_output(const char *path, const strbuf *text);

const char cmd_report_usage[] =
    "usage: baton report --contract FILE [--month YYYY-MM | --from DATE --to DATE]\n"
    "                    [--format text|md|json|csv|html] [-o FILE] (EVENTS... | --db FILE)\n"
    "\n"
    "Replays the events through the contract (or reads what `baton serve` stored,\n"
    "with --db), collects every handoff and what sales did with it, and prints the\n"
    "monthly review: handoffs, acceptance and rejections by reason, returns to\n"
    "marketing, the meeting rate within the SLA (R7; handoffs still inside their\n"
    "time are pending), opportunities, wins, response time against the SLA and\n"
    "needs-context handoffs, each by gate, source, owner and contract version,\n"
    "with the change on the period before and a trend by month; why meetings are\n"
    "missed (four causes with their evidence); and which gate criterion to\n"
    "tighten, from the rejections. See docs/reports.md.\n"
    "\n"
    "  --contract FILE       the contract (required); its calendar and SLAs apply\n"
    "  --db FILE             the server's store instead of EVENTS: its handoffs as\n"
    "                        made (by whatever contract version), the outcomes in\n"
    "                        its event log\n"
    "  --month YYYY-MM       the month to review (default: the month of --as-of)\n"
    "  --from DATE --to DATE a period instead, both days included\n"
    "  --as-of TIME          what is known by then (default: the latest event)\n"
    "  --meeting-target PCT  below this meeting rate the review diagnoses (30)\n"
    "  --accounts CSV        firmographics, as for replay (not with --db)\n"
    "  --reps CSV            route handoffs to reps, so figures by owner are by rep (not with --db)\n"
    "  --format FORMAT       text (default), md, json, csv, or html (one page with charts)\n"
    "  -o, --output FILE     write there instead of stdout\n"
    "  -h, --help            this text\n"
    "\n"
    "Exit status: 0 done, 1 the contract is invalid, 2 usage, 3 I/O (an unreadable\n"
    "store included), 4 out of memory.\n";

/* Applies one decoded line; false when memory ran out. */
static bool feed_line(engine *e, decoder *d, const engine_sink *sink, report_data *data, char *text, size_t len,
                      const char *name, uint64_t line_no)
{
    event ev;
    decode_error err;
    if (!decoder_decode(d, text, len, &ev, &err)) {
        fprintf(stderr, "%s:%llu:%u: %s; skipped\n", name, (unsigned long long)line_no, err.offset + 1, err.what);
        return true;
    }
    report_data_saw(data, ev.timestamp);
    return engine_apply(e, &ev, sink) != APPLY_NOMEM;
}

static int feed_jsonl(engine *e, decoder *d, const engine_sink *sink, report_data *data, FILE *in, const char *name)
{
    line_reader *lr = line_reader_new(in);
    if (!lr) return EXIT_INTERNAL;
    int code = EXIT_OK;
    char *text;
    size_t len;
    uint64_t line_no;
    bool too_long;
    while ((text = line_reader_next(lr, &len, &line_no, &too_long))) {
        if (too_long) {
            fprintf(stderr, "%s:%llu: event longer than %u bytes; skipped\n", name, (unsigned long long)line_no,
                    INGEST_MAX_EVENT_BYTES);
            continue;
        }
        if (len == 0 || strspn(text, " \t\r") == len) continue;
        if (!feed_line(e, d, sink, data, text, len, name, line_no)) {
            code = EXIT_INTERNAL;
            break;
        }
    }
    if (code == EXIT_OK && line_reader_error(lr)) {
        fprintf(stderr, "%s: read error\n", name);
        code = EXIT_IO;
    }
    line_reader_free(lr);
    return code;
}

/* CSV events: each row becomes the Segment JSON object it stands for. */
static int feed_csv(engine *e, decoder *d, const engine_sink *sink, report_data *data, FILE *in, const char *name)
{
    csv_reader *cr = csv_reader_new(in);
    if (!cr) return EXIT_INTERNAL;
    int code = EXIT_OK;
    const char *header[CSV_MAX_COLUMNS];
    char *owned[CSV_MAX_COLUMNS] = {0};
    size_t columns = 0, count;
    uint64_t line;
    const char *problem;
    const char *const *row = csv_next(cr, &columns, &line, &problem);
    strbuf json;
    strbuf_init(&json);
    if (!row || problem) {
        fprintf(stderr, "%s: no header row\n", name);
        code = EXIT_INVALID;
        goto done;
    }
    for (size_t i = 0; i < columns; i++)
        if (!(header[i] = owned[i] = mem_strndup(row[i], strlen(row[i])))) {
            code = EXIT_INTERNAL;
            goto done;
        }
    while ((row = csv_next(cr, &count, &line, &problem))) {
        if (problem || count != columns) {
            fprintf(stderr, "%s:%llu: %s; skipped\n", name, (unsigned long long)line,
                    problem ? problem : "the row has a different number of columns");
            continue;
        }
        strbuf_reset(&json);
        csv_event_to_json(header, row, count, &json);
        if (json.oom || !feed_line(e, d, sink, data, json.data, json.len, name, line)) {
            code = EXIT_INTERNAL;
            break;
        }
    }
done:
    strbuf_free(&json);
    for (size_t i = 0; i < columns; i++) mem_free(owned[i]);
    csv_reader_free(cr);
    return code;
}

/* Replays the files (or standard input for none or "-") in order. Lines that
 * are not events are reported on stderr and skipped, as in `baton replay`.
 * Returns an exit code. */
int report_feed(engine *e, decoder *d, const engine_sink *sink, report_data *data, char **files, int count,
                const char *cmd)
{
    static char *stdin_only[] = {"-"};
    if (count == 0) {
        files = stdin_only;
        count = 1;
    }
    for (int i = 0; i < count; i++) {
        bool is_stdin = strcmp(files[i], "-") == 0;
        FILE *in = is_stdin ? stdin : fopen(files[i], "rb");
        if (!in) {
            fprintf(stderr, "%s: cannot read: %s\n", files[i], strerror(errno));
            return EXIT_IO;
        }
        size_t n = strlen(files[i]);
        const char *name = is_stdin ? "stdin" : files[i];
        int code = n > 4 && strcmp(files[i] + n - 4, ".csv") == 0 ? feed_csv(e, d, sink, data, in, name)
                                                                   : feed_jsonl(e, d, sink, data, in, name);
        if (!is_stdin) fclose(in);
        if (code == EXIT_INTERNAL) fprintf(stderr, "baton %s: out of memory\n", cmd);
        if (code != EXIT_OK) return code;
    }
    return EXIT_OK;
}

/* "2026-10-05" as a day number. */
static bool parse_day(const char *s, int64_t *day)
{
    time_ms t;
    if (strlen(s) != 10 || !time_parse(s, 10, &t)) return false;
    *day = t / MS_PER_DAY;
    return true;
}

/* Writes the text to `path`, or stdout for NULL or "-"; an exit code. */
int report_write_output(const char *path, const strbuf *text)
{
    if (!path || strcmp(path, "-") == 0) {
        fwrite(text->data ? text->data : "", 1, text->len, stdout);
        return EXIT_OK;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    bool ok = fwrite(text->data ? text->data : "", 1, text->len, f) == text->len;
    if (fclose(f) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    return EXIT_OK;
}

/* Fills `data` from the store at `path`, which must exist (a report never
 * creates one). Returns an exit code; the reason is on stderr. */
static int collect_from_store(const char *path, const contract *c, report_data *data)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    char why[256];
    store *s = sqlite_store_open(path, why, sizeof why);
    if (!s) {
        fprintf(stderr, "baton report: %s\n", why); /* the store's message names the file */
        return EXIT_IO;
    }
    report_store_counts counts;
    int rc = report_data_from_store(data, s, c, &counts, why, sizeof why);
    store_close(s);
    if (rc == REPORT_LOAD_NOMEM) {
        fprintf(stderr, "baton report: out of memory\n");
        return EXIT_INTERNAL;
    }
    if (rc != REPORT_LOADED) {
        fprintf(stderr, "%s: %s\n", path, why);
        return EXIT_IO;
    }
    if (counts.unknown_reasons)
        fprintf(stderr, "%s: %llu rejections name a reason the contract does not define and were not applied; "
                        "left out\n", path, (unsigned long long)counts.unknown_reasons);
    return EXIT_OK;
}

int cmd_report(int argc, char **argv)
{
    const char *contract_path = NULL, *db = NULL, *accounts = NULL, *output = NULL, *month = NULL, *from = NULL, *to = NULL;
    const char *reps = NULL;
    report_options opt = {0};
    int format = REPORT_TEXT;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        const char *v = first + 1 < argc ? argv[first + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (a[0] != '-' || !a[1]) break;
        if (!v) return cli_usage_error("report", "%s needs a value", a);
        if (strcmp(a, "--contract") == 0) contract_path = v;
        else if (strcmp(a, "--db") == 0) db = v;
        else if (strcmp(a, "--accounts") == 0) accounts = v;
        else if (strcmp(a, "--reps") == 0) reps = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) output = v;
        else if (strcmp(a, "--month") == 0) month = v;
        else if (strcmp(a, "--from") == 0) from = v;
        else if (strcmp(a, "--to") == 0) to = v;
        else if (strcmp(a, "--format") == 0) {
            if ((format = report_format_find(v)) < 0)
                return cli_usage_error("report", "unknown format '%s' (text, md, json, csv or html)", v);
        } else if (strcmp(a, "--as-of") == 0) {
            if (!time_parse(v, strlen(v), &opt.as_of))
                return cli_usage_error("report", "--as-of takes an ISO-8601 time such as 2026-11-01T00:00:00Z, not '%s'", v);
        } else if (strcmp(a, "--meeting-target") == 0) {
            char *end;
            double pct = strtod(v, &end);
            if (end == v || *end || pct <= 0 || pct > 100)
                return cli_usage_error("report", "--meeting-target takes a percentage from 1 to 100, not '%s'", v);
            opt.meeting_target = pct / 100;
        } else {
            return cli_usage_error("report", "unknown option '%s'", a);
        }
        first++;
    }
    if (!contract_path) return cli_usage_error("report", "--contract FILE is required");
    if (db && first < argc) return cli_usage_error("report", "give --db FILE or EVENTS, not both");
    if (db && reps) return cli_usage_error("report", "--reps is for a replay; with --db the stored handoffs carry their reps");
    if (db && accounts)
        return cli_usage_error("report", "--accounts is for a replay; with --db the stored handoffs carry their accounts");
    if (month && (from || to)) return cli_usage_error("report", "give --month or --from/--to, not both");
    if (month) {
        if (!report_parse_month(month, &opt.from_day, &opt.to_day))
            return cli_usage_error("report", "--month takes a month such as 2026-10, not '%s'", month);
        opt.month = true;
    } else if (from || to) {
        int64_t last;
        if (!from || !to) return cli_usage_error("report", "--from and --to go together");
        if (!parse_day(from, &opt.from_day))
            return cli_usage_error("report", "--from takes a date such as 2026-10-01, not '%s'", from);
        if (!parse_day(to, &last))
            return cli_usage_error("report", "--to takes a date such as 2026-10-31, not '%s'", to);
        if (last < opt.from_day) return cli_usage_error("report", "--to %s is before --from %s", to, from);
        opt.to_day = last + 1; /* --to names the last day, included */
    }

    int code = EXIT_OK;
    contract *c = cli_load_contract(contract_path, false, &code);
    if (!c) return code;
    engine_options eo = {0};
    if (reps && !db && (code = cli_load_reps(c, reps, &eo.router)) != EXIT_OK) {
        contract_free(c);
        return code;
    }
    engine *e = db ? NULL : engine_new(c, &eo);
    decoder *d = db ? NULL : decoder_new(c);
    report_data *data = report_data_new();
    report_collector *col = data && !db ? report_collector_new(data, c) : NULL;
    report_review *review = NULL;
    strbuf out;
    strbuf_init(&out);
    if (!data || (!db && (!e || !d || !col))) {
        fprintf(stderr, "baton report: out of memory\n");
        code = EXIT_INTERNAL;
        goto done;
    }
    if (db) {
        if ((code = collect_from_store(db, c, data)) != EXIT_OK) goto done;
    } else {
        if (accounts && (code = cli_load_accounts(e, accounts)) != EXIT_OK) goto done;
        engine_sink sink = report_collector_sink(col);
        if ((code = report_feed(e, d, &sink, data, argv + first, argc - first, "report")) != EXIT_OK) goto done;
        if (!report_collector_ok(col)) {
            fprintf(stderr, "baton report: out of memory\n");
            code = EXIT_INTERNAL;
            goto done;
        }
    }
    char why[256];
    if (!(review = report_review_new(data, c, &opt, why, sizeof why))) {
        fprintf(stderr, "baton report: %s\n", why);
        code = strstr(why, "memory") ? EXIT_INTERNAL : EXIT_INVALID;
        goto done;
    }
    report_render(review, (enum report_format)format, &out);
    if (out.oom) {
        fprintf(stderr, "baton report: out of memory\n");
        code = EXIT_INTERNAL;
        goto done;
    }
    code = report_write_output(output, &out);
done:
    strbuf_free(&out);
    report_review_free(review);
    report_collector_free(col);
    report_data_free(data);
    decoder_free(d);
    engine_free(e);
    route_free(eo.router);
    contract_free(c);
    return code;
}
