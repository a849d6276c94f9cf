/* Helpers shared by the benchmark programs: a monotonic clock, sorting
 * samples, nearest-rank quantiles, and loading the contract. */
#ifndef BATON_BENCH_H
#define BATON_BENCH_H

#include "contract/contract.h"

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double bench_now_us(void)
{
    return bench_now_s() * 1e6;
}

/* For qsort() over doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0..1) of sorted samples, by the nearest-rank method. */
static inline double bench_quantile(const double *sorted, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

/* Reads and compiles the contract; NULL after printing its errors. */
static inline contract *bench_load_contract(const char *path)
{
    strbuf report;
    strbuf_init(&report);
    contract *c = contract_load(path, &report);
    if (!c) fprintf(stderr, "%s", report.data ? report.data : "");
    strbuf_free(&report);
    return c;
}

#endif
