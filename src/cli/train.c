/* baton train: the closed-won score (R8) learned from a replayed history. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

contract *cli_load_contract(const char *path, bool json, int *code);

#define TRAIN_MAX_HISTORY 256 /* history files on one command line */

const char cmd_train_usage[] =
    "usage: baton train --contract FILE --history EVENTS... [--accounts CSV] -o MODEL\n"
    "                   [options]\n"
    "\n"
    "Replays the history (JSON Lines, or CSV for files ending in .csv) under the\n"
    "contract and takes one row per identified lead at its cut-off: just after the\n"
    "event that handed it off, or for a lead never handed off after an event drawn so\n"
    "that both kinds are cut at the same points of a lead's life. A row is won when\n"
    "its account wins a deal within the horizon after the cut-off. Fits an\n"
    "L2-regularised logistic regression (liblinear) on the earliest rows, calibrates\n"
    "it (Platt) on the next, and reports on the latest: AUC, lift in the top decile,\n"
    "a calibration table and the strongest factors. Writes the model file (the\n"
    "feature map, weights, calibration, contract and version, the report, a\n"
    "SHA-256). See docs/scoring.md.\n"
    "\n"
    "  --contract FILE      the contract (required)\n"
    "  --history EVENTS...  the history, one or more files in time order (required)\n"
    "  --accounts CSV       firmographics, as for baton replay\n"
    "  -o, --output MODEL   where to write the model (required)\n"
    "  --horizon DURATION   how long after the cut-off a win counts (default 120d)\n"
    "  --until TIME         outcomes are known up to TIME (default: the last event);\n"
    "                       rows whose horizon runs past it are dropped\n"
    "  --holdout SHARE      latest rows held out for evaluation (default 0.2)\n"
    "  --calibration SHARE  latest of the rest, for calibration (default 0.2)\n"
    "  --c NUMBER           inverse regularisation strength (default 1)\n"
    "  --min-support N      rows a category value needs to become a feature (default 10)\n"
    "  --seed N             picks the cut-offs of leads never handed off (default 1)\n"
    "  --baseline           also fit plain counts per signal, to show the gain\n"
    "  --export-rows FILE   every row encoded, svmlight with qid 1 fit, 2 calibration,\n"
    "                       3 holdout: the same features and split for other tools\n"
    "  -h, --help           this text\n"
    "\n"
    "Exit status: 0 done, 1 invalid contract or nothing to learn, 2 usage, 3 I/O,\n"
    "4 out of memory.\n";

/* The history files, read again from the first on each rewind. */
typedef struct history {
    const contract *c;
    char **files;
    int file_count, file;
    const char *accounts;
    FILE *in;
    bool csv, loud; /* loud: report bad lines (first pass only) */
    line_reader *lines;
    csv_reader *rows;
    const char *header[CSV_MAX_COLUMNS];
    char *header_copy[CSV_MAX_COLUMNS];
    size_t columns;
    decoder *d;
    strbuf json;
    uint64_t passes, rejected;
    bool failed;
} history;

static void close_file(history *h)
{
    line_reader_free(h->lines);
    csv_reader_free(h->rows);
    h->lines = NULL;
    h->rows = NULL;
    for (size_t i = 0; i < h->columns; i++) mem_free(h->header_copy[i]);
    h->columns = 0;
    if (h->in) fclose(h->in);
    h->in = NULL;
}

static bool open_file(history *h)
{
    const char *name = h->files[h->file];
    h->in = fopen(name, "rb");
    if (!h->in) {
        fprintf(stderr, "%s: cannot read: %s\n", name, strerror(errno));
        h->failed = true;
        return false;
    }
    size_t n = strlen(name);
    h->csv = n > 4 && strcmp(name + n - 4, ".csv") == 0;
    if (!h->csv) return (h->lines = line_reader_new(h->in)) != NULL;
    h->rows = csv_reader_new(h->in);
    if (!h->rows) return false;
    uint64_t line;
    const char *problem = NULL;
    const char *const *row = csv_next(h->rows, &h->columns, &line, &problem);
    if (!row || problem) {
        fprintf(stderr, "%s: no header row\n", name);
        h->columns = 0;
        h->failed = true;
        return false;
    }
    for (size_t i = 0; i < h->columns; i++) h->header[i] = h->header_copy[i] = mem_strndup(row[i], strlen(row[i]));
    return true;
}

static bool history_rewind(void *ctx)
{
    history *h = ctx;
    close_file(h);
    h->file = 0;
    h->loud = h->passes++ == 0;
    return open_file(h);
}

static void refuse(history *h, uint64_t line, const char *why)
{
    h->rejected += h->loud;
    if (h->loud) fprintf(stderr, "%s:%llu: %s; skipped\n", h->files[h->file], (unsigned long long)line, why);
}

/* The next line of the current file as JSON, or NULL at its end. */
static char *next_json(history *h, size_t *len, uint64_t *line_no)
{
    if (!h->csv) {
        bool too_long;
        char *text;
        while ((text = line_reader_next(h->lines, len, line_no, &too_long))) {
            if (too_long) refuse(h, *line_no, "event too long");
            else if (*len && strspn(text, " \t") != *len) return text;
        }
        if (line_reader_error(h->lines)) h->failed = true;
        return NULL;
    }
    size_t count;
    const char *problem;
    const char *const *row;
    while ((row = csv_next(h->rows, &count, line_no, &problem))) {
        if (problem || count != h->columns) {
            refuse(h, *line_no, problem ? problem : "the row has a different number of columns");
            continue;
        }
        strbuf_reset(&h->json);
        csv_event_to_json(h->header, row, count, &h->json);
        if (h->json.oom) return NULL;
        *len = h->json.len;
        return h->json.data;
    }
    return NULL;
}

static int history_next(void *ctx, event *ev)
{
    history *h = ctx;
    for (;;) {
        if (h->failed) return -1;
        size_t len;
        uint64_t line_no;
        char *text = next_json(h, &len, &line_no);
        if (!text) {
            if (h->failed) {
                fprintf(stderr, "%s: read error\n", h->files[h->file]);
                return -1;
            }
            close_file(h);
            if (++h->file == h->file_count) return 0;
            if (!open_file(h)) return -1;
            continue;
        }
        decode_error err;
        if (decoder_decode(h->d, text, len, ev, &err)) return 1;
        refuse(h, line_no, err.what);
    }
}

static void account_refused(void *ctx, uint64_t line, const char *why)
{
    history *h = ctx;
    if (h->loud || line == 1) fprintf(stderr, "%s:%llu: %s\n", h->accounts, (unsigned long long)line, why);
    if (line == 1) h->failed = true;
}

static bool history_prepare(void *ctx, engine *e)
{
    history *h = ctx;
    if (!h->accounts) return true;
    FILE *f = fopen(h->accounts, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read: %s\n", h->accounts, strerror(errno));
        h->failed = true;
        return false;
    }
    engine_load_accounts(e, f, account_refused, h);
    fclose(f);
    return !h->failed;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool parse_share(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0 && v < 1)) return false;
    *out = v;
    return true;
}

static bool write_file(const char *path, const strbuf *b)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(b->data, 1, b->len, f) == b->len;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "%s: cannot write: %s\n", path, strerror(errno));
        remove(tmp);
    }
    return ok;
}

static void print_figure(const char *label, double v)
{
    if (isnan(v)) printf("%s n/a", label);
    else printf("%s %.4f", label, v);
}

int cmd_train(int argc, char **argv)
{
    const char *contract_path = NULL, *output = NULL, *export_path = NULL;
    history h = {0};
    char *files[TRAIN_MAX_HISTORY];
    features_options fo = {.horizon = 120 * MS_PER_DAY, .seed = 1};
    score_train_options to = {.c = 1, .holdout = 0.2, .calibration = 0.2, .min_support = 10};
    bool baseline = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--contract") == 0 && v) {
            contract_path = argv[++i];
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && v) {
            output = argv[++i];
        } else if (strcmp(a, "--accounts") == 0 && v) {
            h.accounts = argv[++i];
        } else if (strcmp(a, "--history") == 0 && v) {
            while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == '\0')) {
                if (h.file_count == TRAIN_MAX_HISTORY)
                    return cli_usage_error("train", "at most %d history files", TRAIN_MAX_HISTORY);
                files[h.file_count++] = argv[++i];
            }
        } else if (strcmp(a, "--horizon") == 0 && v) {
            if (!duration_parse(v, strlen(v), &fo.horizon) || fo.horizon <= 0)
                return cli_usage_error("train", "--horizon takes a duration such as 120d, not '%s'", v);
            i++;
        } else if (strcmp(a, "--until") == 0 && v) {
            if (!time_parse(v, strlen(v), &fo.until))
                return cli_usage_error("train", "--until takes an ISO-8601 time such as 2027-01-01, not '%s'", v);
            i++;
        } else if (strcmp(a, "--holdout") == 0 && v) {
            if (!parse_share(v, &to.holdout)) return cli_usage_error("train", "--holdout takes a share between 0 and 1, not '%s'", v);
            i++;
        } else if (strcmp(a, "--calibration") == 0 && v) {
            if (!parse_share(v, &to.calibration))
                return cli_usage_error("train", "--calibration takes a share between 0 and 1, not '%s'", v);
            i++;
        } else if (strcmp(a, "--c") == 0 && v) {
            char *end;
            to.c = strtod(v, &end);
            if (end == v || *end || !(to.c > 0)) return cli_usage_error("train", "--c takes a positive number, not '%s'", v);
            i++;
        } else if (strcmp(a, "--min-support") == 0 && v) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (end == v || *end || n < 1 || n > 1000000)
                return cli_usage_error("train", "--min-support takes a whole number from 1 to 1000000, not '%s'", v);
            to.min_support = (uint32_t)n;
            i++;
        } else if (strcmp(a, "--seed") == 0 && v) {
            char *end;
            fo.seed = strtoull(v, &end, 10);
            if (end == v || *end) return cli_usage_error("train", "--seed takes a whole number, not '%s'", v);
            i++;
        } else if (strcmp(a, "--export-rows") == 0 && v) {
            export_path = argv[++i];
        } else if (strcmp(a, "--baseline") == 0) {
            baseline = true;
        } else {
            return cli_usage_error("train", "unknown option or missing value: '%s'", a);
        }
    }
    if (!contract_path) return cli_usage_error("train", "--contract FILE is required");
    if (!h.file_count) return cli_usage_error("train", "--history EVENTS... is required");
    if (!output) return cli_usage_error("train", "-o MODEL is required");
    h.files = files;

    int code = EXIT_OK;
    contract *c = cli_load_contract(contract_path, false, &code);
    if (!c) return code;
    const contract_info *ci = contract_about(c);
    score_data *rows = NULL;
    score_model *m = NULL, *base = NULL;
    strbuf err, out, exported;
    strbuf_init(&err);
    strbuf_init(&out);
    strbuf_init(&exported);
    h.c = c;
    h.d = decoder_new(c);
    strbuf_init(&h.json);
    if (!h.d) {
        code = EXIT_INTERNAL;
        goto done;
    }

    double t0 = seconds();
    features_source src = {.ctx = &h, .rewind = history_rewind, .next = history_next, .prepare = history_prepare};
    features_summary sum;
    rows = features_collect(c, &src, &fo, &sum, &err);
    if (!rows) {
        fprintf(stderr, "baton train: %s\n", err.data ? err.data : "failed");
        code = h.failed ? EXIT_IO : EXIT_INTERNAL;
        goto done;
    }
    double t1 = seconds();
    char first[40], last[40], horizon[32];
    time_format(sum.first, first, sizeof first);
    time_format(sum.last, last, sizeof last);
    duration_format(fo.horizon, horizon, sizeof horizon);
    printf("history: %llu events (%llu refused), %llu identified leads, %s .. %s\n",
           (unsigned long long)sum.events, (unsigned long long)h.rejected, (unsigned long long)sum.leads, first, last);
    printf("rows: %llu (%llu cut at a handoff, %llu at a drawn event), %llu won within %s; "
           "%llu dropped, their horizon running past the end of what is known\n",
           (unsigned long long)sum.rows, (unsigned long long)sum.handed_off, (unsigned long long)sum.drawn,
           (unsigned long long)sum.positives, horizon, (unsigned long long)sum.censored);

    to.contract = ci->name;
    to.version = ci->version;
    to.horizon = fo.horizon;
    to.export_rows = export_path ? &exported : NULL;
    m = score_train(rows, &to, &err);
    double t2 = seconds();
    if (!m) {
        fprintf(stderr, "baton train: %s\n", err.data);
        code = EXIT_INVALID;
        goto done;
    }
    fputs(score_model_report(m), stdout);
    double t3 = t2;
    if (baseline) {
        score_train_options bo = to;
        bo.plain_only = true;
        bo.export_rows = NULL;
        strbuf_reset(&err);
        base = score_train(rows, &bo, &err);
        t3 = seconds();
        if (!base) {
            printf("baseline (plain counts per signal): %s\n", err.data);
        } else {
            const score_eval *be = score_model_eval(base), *me = score_model_eval(m);
            printf("baseline (plain counts per signal, %zu features):", score_model_feature_count(base));
            print_figure(" AUC", be->auc);
            print_figure(", lift in the top decile", be->lift10);
            print_figure("; the model gains AUC", me->auc - be->auc);
            putchar('\n');
        }
    }
    printf("time: rows %.2f s, fit %.2f s", t1 - t0, t2 - t1);
    if (baseline) printf(", baseline fit %.2f s", t3 - t2);
    putchar('\n');
    score_model_write(m, &out);
    if (out.oom || exported.oom) {
        code = EXIT_INTERNAL;
        goto done;
    }
    if (!write_file(output, &out) || (export_path && !write_file(export_path, &exported))) {
        code = EXIT_IO;
        goto done;
    }
    printf("model: %s (%zu features)\n", output, score_model_feature_count(m));
done:
    score_model_free(m);
    score_model_free(base);
    score_data_free(rows);
    close_file(&h);
    decoder_free(h.d);
    strbuf_free(&h.json);
    strbuf_free(&err);
    strbuf_free(&out);
    strbuf_free(&exported);
    contract_free(c);
    return code;
}
