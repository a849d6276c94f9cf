/* baton simulate: made-up B2B buying journeys as Segment JSON Lines. */
#include "cli/cli.h"
#include "sim/sim.h"
#include "util/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_START "2026-07-01"
#define WRITE_CHUNK   (256 * 1024) /* bytes gathered before each fwrite */

enum opt { OPT_SEED, OPT_ACCOUNTS, OPT_DAYS, OPT_RATE, OPT_START, OPT_OUTPUT, OPT_COUNT };

static const struct {
    const char *name, *alias, *metavar;
    bool required;
} options[OPT_COUNT] = {
    [OPT_SEED] = {"--seed", NULL, "N", true},
    [OPT_ACCOUNTS] = {"--accounts", NULL, "A", true},
    [OPT_DAYS] = {"--days", NULL, "D", true},
    [OPT_RATE] = {"--rate", NULL, "EVENTS_PER_DAY", false},
    [OPT_START] = {"--start", NULL, "DATE", false},
    [OPT_OUTPUT] = {"--output", "-o", "FILE", false},
};

/* Decimal digits only, within 0..max. */
static bool parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    if (!*s) return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Finds the option `arg` names ("--days", "--days=7", "-o"); NULL value when
 * it carries none. OPT_COUNT when there is no such option. */
static enum opt find_option(const char *arg, const char **value)
{
    *value = NULL;
    for (int i = 0; i < OPT_COUNT; i++) {
        const char *names[2] = {options[i].name, options[i].alias};
        for (int j = 0; j < 2; j++) {
            if (!names[j]) continue;
            size_t n = strlen(names[j]);
            if (strncmp(arg, names[j], n) != 0) continue;
            if (arg[n] == '\0') return (enum opt)i;
            if (arg[n] == '=') {
                *value = arg + n + 1;
                return (enum opt)i;
            }
        }
    }
    return OPT_COUNT;
}

static int unknown_option(const char *arg)
{
    const char *names[OPT_COUNT];
    for (int i = 0; i < OPT_COUNT; i++)
        names[i] = options[i].name;
    size_t len = strcspn(arg, "=");
    const char *near = nearest_name(arg, len, names, OPT_COUNT);
    if (near)
        return cli_usage_error("simulate", "unknown option '%.*s'; did you mean '%s'?", (int)len,
                               arg, near);
    return cli_usage_error("simulate", "unknown option '%.*s'", (int)len, arg);
}

/* Reads the command line into *opt and *path; EXIT_OK or a usage error. */
static int parse_args(int argc, char **argv, sim_options *opt, const char **path)
{
    const char *given[OPT_COUNT] = {0};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == '\0')
            return cli_usage_error("simulate", "unexpected argument '%s'; every input is an option",
                                   arg);
        const char *value;
        enum opt o = find_option(arg, &value);
        if (o == OPT_COUNT) return unknown_option(arg);
        if (!value) {
            if (i + 1 >= argc)
                return cli_usage_error("simulate", "%s needs a value (%s)", options[o].name,
                                       options[o].metavar);
            value = argv[++i];
        }
        if (given[o]) return cli_usage_error("simulate", "%s given twice", options[o].name);
        given[o] = value;
    }
    for (int i = 0; i < OPT_COUNT; i++)
        if (options[i].required && !given[i])
            return cli_usage_error("simulate", "missing %s %s", options[i].name,
                                   options[i].metavar);

    memset(opt, 0, sizeof *opt);
    uint64_t v;
    if (!parse_uint(given[OPT_SEED], UINT64_MAX, &opt->seed))
        return cli_usage_error(
            "simulate", "--seed wants a whole number from 0 to 18446744073709551615, not '%s'",
            given[OPT_SEED]);
    if (!parse_uint(given[OPT_ACCOUNTS], UINT32_MAX, &v) || v < 1 || v > SIM_MAX_ACCOUNTS)
        return cli_usage_error("simulate", "--accounts wants a whole number from 1 to %u, not '%s'",
                               SIM_MAX_ACCOUNTS, given[OPT_ACCOUNTS]);
    opt->accounts = (uint32_t)v;
    if (!parse_uint(given[OPT_DAYS], UINT32_MAX, &v) || v < 1 || v > SIM_MAX_DAYS)
        return cli_usage_error("simulate", "--days wants a whole number from 1 to %u, not '%s'",
                               SIM_MAX_DAYS, given[OPT_DAYS]);
    opt->days = (uint32_t)v;
    if (given[OPT_RATE]) {
        char *end;
        errno = 0;
        double r = strtod(given[OPT_RATE], &end);
        if (end == given[OPT_RATE] || *end || errno || !isfinite(r) || r <= 0 || r > SIM_MAX_RATE)
            return cli_usage_error(
                "simulate",
                "--rate wants a number of events a day above 0 and up to %.0f, not '%s'",
                SIM_MAX_RATE, given[OPT_RATE]);
        opt->rate = r;
    }
    const char *start = given[OPT_START] ? given[OPT_START] : DEFAULT_START;
    if (!time_parse(start, strlen(start), &opt->start))
        return cli_usage_error(
            "simulate", "--start wants an ISO-8601 date such as 2026-07-01, not '%s'", start);
    const char *bad = sim_options_check(opt);
    if (bad) return cli_usage_error("simulate", "%s", bad);
    *path = given[OPT_OUTPUT];
    return EXIT_OK;
}

static bool write_all(FILE *f, strbuf *b)
{
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    b->len = 0;
    return ok;
}

int cmd_simulate(int argc, char **argv)
{
    sim_options opt;
    const char *path = NULL;
    int code = parse_args(argc, argv, &opt, &path);
    if (code != EXIT_OK) return code;

    FILE *f = stdout;
    bool to_file = path && strcmp(path, "-") != 0;
    if (to_file && !(f = fopen(path, "w"))) {
        fprintf(stderr, "baton simulate: cannot write %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    sim *s = sim_new(&opt);
    strbuf b;
    strbuf_init(&b);
    if (!s) {
        fputs("baton simulate: out of memory building the world\n", stderr);
        code = EXIT_INTERNAL;
        goto done;
    }
    bool ok = true;
    while (ok && sim_next(s, &b)) {
        if (b.oom) {
            fputs("baton simulate: out of memory\n", stderr);
            code = EXIT_INTERNAL;
            goto done;
        }
        if (b.len >= WRITE_CHUNK) ok = write_all(f, &b);
    }
    if (ok && b.len) ok = write_all(f, &b);
    if (!ok || ferror(f)) {
        /* On stdout, cli_finish() reports it. */
        if (to_file) fprintf(stderr, "baton simulate: writing %s: %s\n", path, strerror(errno));
        code = EXIT_IO;
    }

done:
    strbuf_free(&b);
    sim_free(s);
    if (to_file && fclose(f) != 0 && code == EXIT_OK) {
        fprintf(stderr, "baton simulate: writing %s: %s\n", path, strerror(errno));
        code = EXIT_IO;
    }
    return code;
}
