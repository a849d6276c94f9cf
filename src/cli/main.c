/* baton's entry point and its table of commands. */
#include "cli/cli.h"
#include "util/util.h"

#include <stdarg.h>
#include <string.h>

/* Sorted by name; `baton --help` lists them in this order. */
static const command commands[] = {
    {"check", cmd_check, "check contracts and report every error",
     "usage: baton check [--format text|json] FILE...\n"
     "\n"
     "Reads each contract, checks it and compiles it. Prints a one-line summary per\n"
     "valid file; for an invalid one, every error with file:line:col, the source line,\n"
     "a caret and a hint.\n"
     "\n"
     "  --format json   one JSON object per file, for editors and CI\n"
     "  -h, --help      this text\n"
     "\n"
     "Exit status: 0 all valid, 1 some file invalid, 2 usage, 3 a file unreadable.\n"},
    {"diff", cmd_diff, "replay history under two contracts and show which handoffs move", cmd_diff_usage},
    {"explain", cmd_explain, "the contract in plain words, for the people who sign it",
     "usage: baton explain FILE\n"
     "\n"
     "Prints the contract as sentences: who signed it, what counts as a signal, when a\n"
     "lead is handed off and to whom, what a handoff must carry, the response times\n"
     "sales agreed to, and what each rejection reason does to the lead.\n"
     "\n"
     "  -h, --help      this text\n"
     "\n"
     "Exit status: 0 done, 1 the contract is invalid, 2 usage, 3 unreadable.\n"},
    {"replay", cmd_replay, "run events through a contract and print the handoffs",
     "usage: baton replay --contract FILE [options] [EVENTS...|-]\n"
     "\n"
     "Reads Segment-spec events (JSON Lines, or CSV for files ending in .csv) from the\n"
     "files given, or standard input, applies the contract to them in order, and prints\n"
     "one record per handoff on stdout. A summary goes to stderr: events read, rejected\n"
     "(with the reasons), duplicates, late, leads, accounts, handoffs per gate. Malformed\n"
     "lines are reported as FILE:LINE:COLUMN with the reason, counted and skipped. The\n"
     "same input always gives byte-identical output.\n"
     "\n"
     "  --contract FILE        the contract (required)\n"
     "  --accounts CSV         firmographics: a header with domain and any of name,\n"
     "                         industry, employees, revenue, country, segment, status, owner\n"
     "  --reps CSV             route each handoff to a rep (docs/routing.md)\n"
     "  --model FILE           the learned score's model (default: the contract's model:)\n"
     "  --format json|csv|table  output form (default json, one object per line)\n"
     "  --timeline             also print every stage and status change (json only)\n"
     "  --input jsonl|csv      the input form, when the file name does not say it\n"
     "  --lateness DURATION    hold events this long to apply them in timestamp order;\n"
     "                         later ones are applied at once and counted as late (0)\n"
     "  --dedupe-window DURATION  how long a messageId is remembered (default 7d)\n"
     "  -h, --help             this text\n"
     "\n"
     "Exit status: 0 done, 1 the contract is invalid, 2 usage, 3 an input unreadable.\n"},
    {"report", cmd_report, "the monthly review: figures, why meetings are missed, what to tighten", cmd_report_usage},
    {"route", cmd_route, "where a lead would go inside the receiving team, and why", cmd_route_usage},
    {"serve", cmd_serve, "run the server: Segment ingest, the sales API, health and metrics",
     "usage: baton serve --contract FILE [--db FILE] [--listen HOST:PORT]\n"
     "\n"
     "Serves Segment's HTTP tracking API (/v1/track, identify, page, group, screen,\n"
     "batch, import; the write key is an ingest token sent as the Basic user name),\n"
     "the sales API under /api (Bearer tokens), /healthz and /metrics. Events are\n"
     "acknowledged only once they are durable in the SQLite file. SIGHUP reloads\n"
     "the contract; a contract with errors is refused and the running one stays.\n"
     "See docs/api.md.\n"
     "\n"
     "  --contract FILE       the contract (required)\n"
     "  --db FILE             the SQLite store (default baton.db; created when absent)\n"
     "  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; port 0 picks one)\n"
     "  --dedupe-window DUR   how long a messageId is remembered (default 7d)\n"
     "  --event-retention DUR drop stored events received longer ago (default: keep all)\n"
     "  --save-every DUR      write lead and account state this often, 0 with every\n"
     "                        commit; a restart replays the events stored since (1s)\n"
     "  --model FILE          the learned score's model (default: the contract's model:)\n"
     "  --webhook URL         deliver signed webhooks there (up to 8; see docs/webhooks.md)\n"
     "  --webhook-secret-file FILE  the signing secret (or $BATON_WEBHOOK_SECRET)\n"
     "  --webhook-events LIST only these events, comma-separated (default: all)\n"
     "  --webhook-backoff DUR the wait before the first retry, doubled each time (10s)\n"
     "  --webhook-attempts N  dead-letter a delivery after N attempts (10)\n"
     "  -h, --help            this text\n"
     "\n"
     "Prints 'baton: listening on http://HOST:PORT' once it accepts requests.\n"
     "Exit status: 0 stopped by SIGINT/SIGTERM, 1 invalid contract, 2 usage, 3 I/O.\n"},
    {"simulate", cmd_simulate, "made-up buying journeys as Segment events, for tests and demos",
     "usage: baton simulate --seed N --accounts A --days D [--rate EVENTS_PER_DAY]\n"
     "                      [--start DATE] [-o FILE]\n"
     "\n"
     "Writes invented B2B buying journeys as Segment-spec events, one JSON object per\n"
     "line in timestamp order: anonymous browsing, identify and group calls, email and\n"
     "blog noise, buying signals (pricing, security downloads, requests, replies, risk\n"
     "language, product use) and later CRM outcomes driven by each account's hidden\n"
     "intent. The same arguments always give the same bytes. See docs/simulator.md.\n"
     "\n"
     "  --seed N           a whole number that picks the world (0..2^64-1)\n"
     "  --accounts A       companies to simulate, 1..1000000\n"
     "  --days D           length of the simulated period, 1..3660\n"
     "  --rate R           average events per day over the stream\n"
     "                     (default: about 20 per account per week)\n"
     "  --start DATE       the first day, ISO-8601 in UTC (default 2026-07-01)\n"
     "  -o, --output FILE  write to FILE instead of stdout\n"
     "  -h, --help         this text\n"
     "\n"
     "Exit status: 0 done, 2 usage, 3 the output could not be written.\n"},
    {"test", cmd_test, "run the golden leads written in contracts",
     "usage: baton test [--quiet] FILE...\n"
     "\n"
     "Runs each contract's `tests:` cases: replays the case's events (and accounts) and\n"
     "compares the handoffs made with the ones expected. Prints PASS or FAIL per case,\n"
     "with the expected and the actual handoffs for a failure, then a count.\n"
     "\n"
     "  -q, --quiet     print failures only\n"
     "  -h, --help      this text\n"
     "\n"
     "Exit status: 0 all passed, 1 a case failed or a contract is invalid, 2 usage.\n"},
    {"token", cmd_token, "create an API token for the server",
     "usage: baton token create --role ingest|sales|admin [--name NAME] [--db FILE]\n"
     "\n"
     "Creates a token and prints it once on stdout; the store keeps only its SHA-256\n"
     "digest. An ingest token is a Segment write key; sales tokens work the sales API;\n"
     "admin tokens can do both and replace the contract.\n"
     "\n"
     "  --role ROLE   ingest, sales or admin (required)\n"
     "  --name NAME   who or what it is for, shown in the timeline\n"
     "  --db FILE     the SQLite store (default baton.db)\n"},
    {"train", cmd_train, "learn the closed-won score (R8) from a history of events", cmd_train_usage},
};

const command *cli_find(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

bool cli_wants_help(const command *cmd, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(cmd->usage, stdout);
            return true;
        }
    }
    return false;
}

int cli_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "baton %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'baton %s --help'.\n", name);
    return EXIT_USAGE;
}

int cli_finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("baton: writing output");
        return EXIT_IO;
    }
    return code;
}

static void print_help(FILE *to)
{
    fputs("baton: a B2B lead handoff engine.\n\n"
          "usage: baton COMMAND [OPTIONS] [ARGS]\n\n"
          "commands:\n",
          to);
    for (size_t i = 0; i < ARRAY_LEN(commands); i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'baton COMMAND --help' for a command's options.\n", to);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (argc > 2 && cli_find(argv[2])) {
            fputs(cli_find(argv[2])->usage, stdout);
        } else {
            print_help(stdout);
        }
        return cli_finish(EXIT_OK);
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("baton %s\n", BATON_VERSION);
        return cli_finish(EXIT_OK);
    }
    const command *cmd = cli_find(name);
    if (!cmd) {
        const char *names[ARRAY_LEN(commands)];
        for (size_t i = 0; i < ARRAY_LEN(commands); i++) names[i] = commands[i].name;
        const char *near = nearest_name(name, strlen(name), names, ARRAY_LEN(commands));
        fprintf(stderr, "baton: unknown command '%s'", name);
        if (near) fprintf(stderr, "; did you mean '%s'?", near);
        fputs("\nRun 'baton --help' for the list.\n", stderr);
        return EXIT_USAGE;
    }
    if (cli_wants_help(cmd, argc - 1, argv + 1)) return cli_finish(EXIT_OK);
    return cli_finish(cmd->run(argc - 1, argv + 1));
}
