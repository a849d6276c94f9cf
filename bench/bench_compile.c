/* bench_compile: how long contract_parse() takes to read, check and compile a contract.
 *
 *   bench_compile [-n RUNS] [--once] [FILE]
 *
 * FILE (default contracts/example.yaml) is read into memory once; then it is
 * parsed and compiled RUNS times (default 2000) after a short warm-up, each
 * run timed alone with CLOCK_MONOTONIC, and the median and 99th percentile
 * are printed in microseconds, one "key: value" a line for scripts/bench.
 * The contract is freed between runs, outside the timed span.
 *
 * --once parses and compiles once and prints only the size: the shape
 * `valgrind --tool=callgrind --toggle-collect=contract_parse` wants.
 *
 * Exit status: 0 ok, 1 the contract has errors (rendered on stderr),
 * 2 usage, 3 the file could not be read, 4 out of memory. */
#include "bench.h"
#include "contract/contract.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_FILE "contracts/example.yaml"
#define DEFAULT_RUNS 2000
#define MAX_RUNS 10000000
#define WARMUP_RUNS 20

enum { EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_IO, EXIT_NOMEM };

static int usage(void)
{
    fputs("usage: bench_compile [-n RUNS] [--once] [FILE]\n", stderr);
    return EXIT_USAGE;
}

/* One parse and compile; on errors renders them to stderr and returns false. */
static bool compile_once(const char *path, const char *text, size_t len)
{
    errors errs;
    errors_init(&errs, path, text, len);
    contract *c = contract_parse(path, text, len, &errs);
    if (!c) {
        strbuf out;
        strbuf_init(&out);
        errors_sort(&errs);
        errors_render(&errs, &out);
        fprintf(stderr, "%s", out.data ? out.data : "");
        strbuf_free(&out);
        return false;
    }
    contract_free(c);
    return true;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_FILE;
    unsigned long runs = DEFAULT_RUNS;
    bool once = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0) {
            once = true;
        } else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            runs = strtoul(argv[++i], &end, 10);
            if (errno || *end || runs == 0 || runs > MAX_RUNS) return usage();
        } else if (argv[i][0] == '-') {
            return usage();
        } else {
            path = argv[i];
        }
    }

    int rc = EXIT_OK;
    double *samples = NULL;
    size_t len;
    char *text = file_read(path, &len);
    if (!text) {
        fprintf(stderr, "bench_compile: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }

    if (once) {
        if (!compile_once(path, text, len)) rc = EXIT_INVALID;
        else printf("bytes: %zu\n", len);
        goto done;
    }

    samples = malloc(runs * sizeof *samples);
    if (!samples) {
        rc = EXIT_NOMEM;
        goto done;
    }
    for (int i = 0; i < WARMUP_RUNS; i++) {
        if (!compile_once(path, text, len)) {
            rc = EXIT_INVALID;
            goto done;
        }
    }
    double total = 0;
    for (unsigned long i = 0; i < runs; i++) {
        errors errs;
        errors_init(&errs, path, text, len);
        double t0 = bench_now_us();
        contract *c = contract_parse(path, text, len, &errs);
        double t1 = bench_now_us();
        if (!c) {
            rc = EXIT_INVALID;
            goto done;
        }
        contract_free(c);
        samples[i] = t1 - t0;
        total += samples[i];
    }
    qsort(samples, runs, sizeof *samples, bench_cmp_double);

    printf("file: %s\n", path);
    printf("bytes: %zu\n", len);
    printf("runs: %lu\n", runs);
    printf("min_us: %.1f\n", samples[0]);
    printf("median_us: %.1f\n", bench_quantile(samples, runs, 0.5));
    printf("p99_us: %.1f\n", bench_quantile(samples, runs, 0.99));
    printf("max_us: %.1f\n", samples[runs - 1]);
    printf("mean_us: %.1f\n", total / (double)runs);

done:
    if (rc == EXIT_NOMEM) fputs("bench_compile: out of memory\n", stderr);
    free(samples);
    mem_free(text); /* file_read() allocates through mem_alloc */
    if (fclose(stdout) != 0 && rc == EXIT_OK) rc = EXIT_IO;
    return rc;
}
