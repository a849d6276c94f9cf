/* cli: the `baton` command line. One table of commands (main.c), one file
 * per command. Commands print results on stdout, diagnostics on stderr, and
 * return an exit code from the enum below. */
#ifndef BATON_CLI_H
#define BATON_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit codes, documented in docs/cli.md. */
enum exit_code {
    EXIT_OK = 0,
    EXIT_INVALID = 1, /* the input (contract, events) is invalid; the errors say why */
    EXIT_USAGE = 2,   /* the command line is wrong */
    EXIT_IO = 3,      /* a file could not be read or written */
    EXIT_INTERNAL = 4 /* out of memory or a bug */
};

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `baton --help` */
    const char *usage;   /* the full text of `baton NAME --help` */
} command;

/* True when argv holds -h or --help; prints the command's usage to stdout. */
bool cli_wants_help(const command *cmd, int argc, char **argv);
/* Prints "baton NAME: message" and a pointer to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flushes and closes stdout; EXIT_IO when that fails (a full disk, a closed pipe). */
int cli_finish(int code);

const command *cli_find(const char *name);

int cmd_check(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_simulate(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_token(int argc, char **argv);

/* model.c: the learned score's model, from --model FILE (`option`), else
 * the contract's `model:` (relative to the contract's folder). NULL when
 * neither names one, or when it cannot be read — then a warning on stderr
 * says why and that `score` stays null (the documented fallback). */
struct contract;
struct score_model;
struct engine;
struct router;

/* Loads an accounts CSV (a header with at least `domain`) into the engine;
 * bad rows are reported on stderr with their line numbers (replay.c). */
int cli_load_accounts(struct engine *e, const char *path);
/* A router for the contract (its calendar the reps' default) holding the
 * reps of a CSV, bad rows reported the same way (route.c). *out is NULL
 * unless it returns EXIT_OK; the caller frees it with route_free(). */
int cli_load_reps(const struct contract *c, const char *path, struct router **out);
struct score_model *cli_load_model(const char *name, const struct contract *c, const char *contract_path,
                                   const char *option);
/* Says on stderr why `score` stays null for this run (model.c). */
void cli_warn_score_null(const char *name, const char *why);
int cmd_report(int argc, char **argv); extern const char cmd_report_usage[]; /* report.c */
int cmd_diff(int argc, char **argv); extern const char cmd_diff_usage[]; /* diff.c */
int cmd_train(int argc, char **argv); extern const char cmd_train_usage[]; /* train.c */
int cmd_route(int argc, char **argv); extern const char cmd_route_usage[]; /* route.c */

#endif
