/* A simulated event stream for engine tests, one JSON line per event, each
 * a string of its own (free with free_lines()). */
#ifndef BATON_TEST_SIM_LINES_H
#define BATON_TEST_SIM_LINES_H

#include "harness.h"
#include "sim/sim.h"

static char **simulated_lines(uint64_t seed, uint32_t accounts, uint32_t days, size_t *count)
{
    sim_options opt = {.seed = seed, .accounts = accounts, .days = days};
    assert_true(time_parse("2026-07-01", 10, &opt.start));
    sim *s = sim_new(&opt);
    assert_non_null(s);
    size_t cap = 1024, n = 0;
    char **lines = malloc(cap * sizeof *lines);
    strbuf line;
    strbuf_init(&line);
    while (sim_next(s, &line)) {
        if (n == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
        line.data[--line.len] = '\0'; /* the newline */
        lines[n++] = strdup(line.data);
        strbuf_reset(&line);
    }
    strbuf_free(&line);
    sim_free(s);
    *count = n;
    return lines;
}

static void free_lines(char **lines, size_t count)
{
    for (size_t i = 0; i < count; i++) free(lines[i]);
    free(lines);
}

#endif
