/* baton diff: the same history under two contracts, and which handoffs move. */
#include "cli/cli.h"
#include "engine/engine.h"
#include "report/report.h"

#include <string.h>

contract *cli_load_contract(const char *path, bool json, int *code);
int report_feed(engine *e, decoder *d, const engine_sink *sink, report_data *data, char **files, int count,
                const char *cmd);
int report_write_output(const char *path, const strbuf *text);

const char cmd_diff_usage[] =
    "usage: baton diff --contract A --against B [--accounts CSV] [--format text|json] EVENTS...\n"
    "\n"
    "Replays the same events under contract A (the one in force) and contract B (the\n"
    "proposal) and reports, per gate, the handoffs B gains and loses and those it makes\n"
    "earlier or later (with the median shift). For every lead that changed, it says what\n"
    "actually happened to it afterwards, from the outcome events in the history:\n"
    "meetings, rejections with their reasons, opportunities, wins.\n"
    "\n"
    "  --contract A        the contract in force (required)\n"
    "  --against B         the proposed contract (required)\n"
    "  --accounts CSV      firmographics for both replays\n"
    "  --format text|json  text for people (default), json for CI\n"
    "  -o, --output FILE   write there instead of stdout\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 compared (whether or not handoffs changed; the JSON's \"changed\"\n"
    "says which), 1 a contract is invalid, 2 usage, 3 an input unreadable, 4 out of memory.\n";

/* One replay of the history into `data`. */
static int replay_under(const contract *c, const char *accounts, char **files, int count, report_data *data)
{
    int code = EXIT_OK;
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    report_collector *col = report_collector_new(data, c);
    if (!e || !d || !col) {
        code = EXIT_INTERNAL;
        goto done;
    }
    if (accounts && (code = cli_load_accounts(e, accounts)) != EXIT_OK) goto done;
    engine_sink sink = report_collector_sink(col);
    code = report_feed(e, d, &sink, data, files, count, "diff");
    if (code == EXIT_OK && !report_collector_ok(col)) code = EXIT_INTERNAL;
done:
    if (code == EXIT_INTERNAL) fprintf(stderr, "baton diff: out of memory\n");
    report_collector_free(col);
    decoder_free(d);
    engine_free(e);
    return code;
}

int cmd_diff(int argc, char **argv)
{
    const char *path_a = NULL, *path_b = NULL, *accounts = NULL, *output = NULL;
    bool json = false;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        const char *v = first + 1 < argc ? argv[first + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (a[0] != '-' || !a[1]) break;
        if (!v) return cli_usage_error("diff", "%s needs a value", a);
        if (strcmp(a, "--contract") == 0) path_a = v;
        else if (strcmp(a, "--against") == 0) path_b = v;
        else if (strcmp(a, "--accounts") == 0) accounts = v;
        else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) output = v;
        else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
                return cli_usage_error("diff", "unknown format '%s' (text or json)", v);
            json = strcmp(v, "json") == 0;
        } else {
            return cli_usage_error("diff", "unknown option '%s'", a);
        }
        first++;
    }
    if (!path_a || !path_b) return cli_usage_error("diff", "--contract A and --against B are both required");
    if (first == argc) return cli_usage_error("diff", "name the event files to replay (both replays read them)");
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "-") == 0) return cli_usage_error("diff", "events are read twice, so not from stdin");

    int code = EXIT_OK;
    contract *a = NULL, *b = NULL;
    report_data *da = NULL, *db = NULL;
    report_diff *diff = NULL;
    strbuf out;
    strbuf_init(&out);
    if (!(a = cli_load_contract(path_a, false, &code)) || !(b = cli_load_contract(path_b, false, &code))) goto done;
    da = report_data_new();
    db = report_data_new();
    if (!da || !db) {
        code = EXIT_INTERNAL;
        fprintf(stderr, "baton diff: out of memory\n");
        goto done;
    }
    if ((code = replay_under(a, accounts, argv + first, argc - first, da)) != EXIT_OK) goto done;
    if ((code = replay_under(b, accounts, argv + first, argc - first, db)) != EXIT_OK) goto done;
    if (!(diff = report_diff_new(da, a, db, b))) {
        code = EXIT_INTERNAL;
        fprintf(stderr, "baton diff: out of memory\n");
        goto done;
    }
    report_diff_render(diff, json, &out);
    if (out.oom) {
        code = EXIT_INTERNAL;
        fprintf(stderr, "baton diff: out of memory\n");
        goto done;
    }
    code = report_write_output(output, &out);
done:
    strbuf_free(&out);
    report_diff_free(diff);
    report_data_free(da);
    report_data_free(db);
    contract_free(a);
    contract_free(b);
    return code;
}
