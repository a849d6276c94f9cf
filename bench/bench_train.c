/* Training the closed-won score (R8) on a simulated history: how long it
 * takes to take the rows (two replays) and to fit, calibrate and evaluate.
 *
 *   bench_train [--contract FILE] [--accounts N] [--days D] [--rate R]
 *               [--seed S] [--copies K] [--horizon DURATION]
 *
 * --copies K takes rows from K simulated worlds (seeds S, S+1, ...), each a
 * different set of companies and people over the same period, so a million
 * leads can be reached without one enormous stream. Prints the figures and
 * the training report. */
#include "bench.h"
#include "engine/engine.h"
#include "sim/sim.h"

#include <stdlib.h>
#include <string.h>

typedef struct simulated {
    sim_options o;
    sim *s;
    decoder *d;
    strbuf line;
    uint64_t events;
} simulated;

static bool sim_rewind(void *ctx)
{
    simulated *g = ctx;
    sim_free(g->s);
    g->s = sim_new(&g->o);
    return g->s != NULL;
}

static int sim_event(void *ctx, event *ev)
{
    simulated *g = ctx;
    for (;;) {
        strbuf_reset(&g->line);
        if (!sim_next(g->s, &g->line)) return 0;
        g->events++;
        decode_error err;
        if (decoder_decode(g->d, g->line.data, g->line.len - 1, ev, &err)) return 1;
    }
}

/* Appends every row of `from` to `to` (same schema). */
static bool append(score_data *to, const score_data *from)
{
    size_t n = score_schema_count(score_data_schema(from));
    score_row row = {calloc(n + 1, sizeof(char *)), calloc(n + 1, sizeof(double))};
    bool ok = row.text && row.num;
    for (size_t i = 0; ok && i < score_data_rows(from); i++) {
        time_ms at;
        bool label;
        score_data_row(from, i, &row, &at, &label);
        ok = score_data_add(to, &row, at, label);
    }
    free(row.text);
    free(row.num);
    return ok;
}

int main(int argc, char **argv)
{
    const char *path = "tests/score/score.yaml";
    simulated g = {.o = {.seed = 1, .accounts = 20000, .days = 300}};
    unsigned copies = 1;
    duration_ms horizon = 120 * MS_PER_DAY;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--contract") == 0) path = v;
        else if (strcmp(a, "--accounts") == 0) g.o.accounts = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--days") == 0) g.o.days = (uint32_t)strtoul(v, NULL, 10);
        else if (strcmp(a, "--rate") == 0) g.o.rate = strtod(v, NULL);
        else if (strcmp(a, "--seed") == 0) g.o.seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--copies") == 0) copies = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(a, "--horizon") == 0) duration_parse(v, strlen(v), &horizon);
        else {
            fprintf(stderr, "bench_train: unknown option %s\n", a);
            return 2;
        }
    }
    time_parse("2026-01-05", 10, &g.o.start);
    contract *c = bench_load_contract(path);
    if (!c) return 1;
    g.d = decoder_new(c);
    strbuf_init(&g.line);
    features_source src = {.ctx = &g, .rewind = sim_rewind, .next = sim_event};
    features_options fo = {.horizon = horizon, .seed = 1};
    strbuf err;
    strbuf_init(&err);
    score_data *all = NULL;
    uint64_t leads = 0;
    double t0 = bench_now_s();
    uint64_t first_seed = g.o.seed;
    for (unsigned k = 0; k < copies; k++) {
        g.o.seed = first_seed + k;
        features_summary sum;
        score_data *rows = features_collect(c, &src, &fo, &sum, &err);
        if (!rows) {
            fprintf(stderr, "bench_train: %s\n", err.data);
            return 1;
        }
        leads += sum.leads;
        if (!all) all = rows;
        else if (!append(all, rows)) return 1;
        if (all != rows) score_data_free(rows);
    }
    double t1 = bench_now_s();
    printf("rows: %zu from %llu identified leads (%u world%s of %u accounts, %u days), %zu won; "
           "%llu events replayed twice in %.1f s\n",
           score_data_rows(all), (unsigned long long)leads, copies, copies == 1 ? "" : "s", g.o.accounts, g.o.days,
           score_data_positives(all), (unsigned long long)g.events / 2, t1 - t0);
    const contract_info *ci = contract_about(c);
    score_train_options to = {.contract = ci->name, .version = ci->version, .horizon = fo.horizon};
    double t2 = bench_now_s();
    score_model *m = score_train(all, &to, &err);
    double t3 = bench_now_s();
    if (!m) {
        fprintf(stderr, "bench_train: %s\n", err.data);
        return 1;
    }
    to.plain_only = true;
    score_model *base = score_train(all, &to, &err);
    double t4 = bench_now_s();
    fputs(score_model_report(m), stdout);
    if (base) printf("baseline AUC %.4f\n", score_model_eval(base)->auc);
    printf("train (map, fit, calibrate, evaluate) on %zu rows: %.2f s; baseline %.2f s\n", score_data_rows(all),
           t3 - t2, t4 - t3);
    score_model_free(m);
    score_model_free(base);
    score_data_free(all);
    strbuf_free(&err);
    strbuf_free(&g.line);
    sim_free(g.s);
    decoder_free(g.d);
    contract_free(c);
    return 0;
}
