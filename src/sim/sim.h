/* sim: a deterministic generator of made-up B2B buying journeys, written as
 * Segment-spec events (one JSON object per line) in timestamp order.
 *
 * Ownership: sim_new() copies its options; the sim owns its accounts, people
 * and schedule until sim_free(). sim_next() appends to the caller's strbuf and
 * keeps no pointer to it. Memory is fixed once sim_new() returns: it grows
 * with the number of accounts, never with the number of events, and
 * sim_next() does not allocate (except to grow the caller's strbuf).
 *
 * Determinism: the same options give the same bytes on every run and every
 * platform. Nothing reads the clock; time is `start` plus simulated offsets.
 * The model is described in docs/simulator.md. */
#ifndef BATON_SIM_H
#define BATON_SIM_H

#include "util/util.h"

#include <stdbool.h>
#include <stdint.h>

/* Limits on the options, checked by sim_options_check(). */
#define SIM_MAX_ACCOUNTS 1000000u
#define SIM_MAX_DAYS     3660u
#define SIM_MAX_RATE     100000000.0 /* events per day */

typedef struct sim_options {
    uint64_t seed;     /* picks the world and every draw in it */
    uint32_t accounts; /* companies, 1..SIM_MAX_ACCOUNTS */
    uint32_t days;     /* length of the simulated period, 1..SIM_MAX_DAYS */
    double rate;       /* average events per day over the stream; 0: 20 per account per week */
    time_ms start;     /* the first instant simulated */
} sim_options;

typedef struct sim sim;

/* NULL when the options are in range, else a short description of the first
 * one that is not (a static string). */
const char *sim_options_check(const sim_options *opt);

/* Builds the world: accounts, people, hidden intent and timelines, and the
 * schedule of first events. NULL when the options fail sim_options_check()
 * or memory runs out; nothing is left allocated then. */
sim *sim_new(const sim_options *opt);

/* Appends the next event to `line` as one JSON object and a '\n'. False when
 * the simulated period is over (nothing appended). Events come in
 * non-decreasing timestamp order. When `line` runs out of memory it is left
 * with line->oom set; the event is lost. */
bool sim_next(sim *s, strbuf *line);

/* Events emitted so far. */
uint64_t sim_emitted(const sim *s);

void sim_free(sim *s);

#endif
