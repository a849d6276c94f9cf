/* Golden leads: a contract's `tests:` cases replayed on a fresh engine and
 * compared with the handoffs they expect. Used by `baton test` and by the
 * server, which refuses a new contract whose own cases fail. */
#include "engine/engine.h"

#include <jansson.h>
#include <string.h>

#define MAX_GOT 64

typedef struct got {
    char lead[128];
    uint32_t gate, stage;
    time_ms at;
    bool fast, needs_context;
    char did[512], asks[256];
} got;

typedef struct run {
    got handoffs[MAX_GOT];
    unsigned count;
} run;

static void collect(void *ctx, const handoff *h)
{
    run *r = ctx;
    if (r->count == MAX_GOT) return;
    got *g = &r->handoffs[r->count++];
    snprintf(g->lead, sizeof g->lead, "%s", h->lead);
    g->gate = h->gate;
    g->at = h->at;
    g->fast = h->fast;
    g->needs_context = h->needs_context;
    g->stage = h->stage;
    snprintf(g->did, sizeof g->did, "%s", h->did);
    snprintf(g->asks, sizeof g->asks, "%s", h->asks);
}

/* Sets the test's accounts from their JSON objects. */
static bool load_accounts(engine *e, const test_info *t)
{
    for (size_t i = 0; i < t->account_count; i++) {
        json_t *obj = json_loads(t->accounts[i], 0, NULL);
        if (!obj) return false;
        const char *names[CSV_MAX_COLUMNS], *values[CSV_MAX_COLUMNS];
        char buffers[CSV_MAX_COLUMNS][64];
        size_t n = 0;
        const char *key;
        json_t *val;
        json_object_foreach(obj, key, val) {
            if (n == CSV_MAX_COLUMNS) break;
            names[n] = key;
            if (json_is_string(val)) values[n] = json_string_value(val);
            else if (json_is_integer(val))
                snprintf(buffers[n], sizeof buffers[n], "%lld", (long long)json_integer_value(val)), values[n] = buffers[n];
            else if (json_is_real(val))
                snprintf(buffers[n], sizeof buffers[n], "%.17g", json_real_value(val)), values[n] = buffers[n];
            else
                values[n] = json_is_true(val) ? "true" : json_is_false(val) ? "false" : "";
            n++;
        }
        account_row row = {.names = names, .values = values, .count = n};
        bool ok = engine_set_account(e, &row);
        json_decref(obj);
        if (!ok) return false;
    }
    return true;
}

static void describe_got(const contract *c, const got *g, strbuf *out)
{
    char at[40];
    time_format(g->at, at, sizeof at);
    strbuf_printf(out, "lead %s, gate %s, at %s, fast %s, status %s, stage %s", g->lead,
                  contract_gate(c, g->gate)->name, at, g->fast ? "true" : "false",
                  g->needs_context ? "needs_context" : "handed_off", contract_stage(c, g->stage)->name);
    strbuf_printf(out, "\n              did: %s\n              asks: %s", g->did, g->asks);
}

static void describe_expect(const expect_info *x, strbuf *out)
{
    strbuf_printf(out, "gate %s", x->gate);
    if (x->lead) strbuf_printf(out, ", lead %s", x->lead);
    if (x->at) {
        char at[40];
        time_format(x->at, at, sizeof at);
        strbuf_printf(out, ", at %s", at);
    }
    if (x->fast >= 0) strbuf_printf(out, ", fast %s", x->fast ? "true" : "false");
    if (x->status) strbuf_printf(out, ", status %s", x->status);
    if (x->stage) strbuf_printf(out, ", stage %s", x->stage);
    if (x->did) strbuf_printf(out, "\n              did containing: %s", x->did);
    if (x->asks) strbuf_printf(out, "\n              asks: %s", x->asks);
}

static bool matches(const contract *c, const expect_info *x, const got *g)
{
    if (strcmp(contract_gate(c, g->gate)->name, x->gate) != 0) return false;
    if (x->lead && strcmp(x->lead, g->lead) != 0) return false;
    if (x->at && x->at != g->at) return false;
    if (x->fast >= 0 && (bool)x->fast != g->fast) return false;
    if (x->status && strcmp(x->status, g->needs_context ? "needs_context" : "handed_off") != 0) return false;
    if (x->stage && strcmp(x->stage, contract_stage(c, g->stage)->name) != 0) return false;
    if (x->asks && strcmp(x->asks, g->asks) != 0) return false;
    if (x->did && !strstr(g->did, x->did)) return false;
    return true;
}

/* Runs one case; reports PASS or FAIL with the difference. */
static bool run_case(const contract *c, const char *path, const test_info *t, bool verbose, strbuf *report)
{
    engine *e = engine_new(c, NULL);
    decoder *d = decoder_new(c);
    run r = {.count = 0};
    strbuf diff;
    strbuf_init(&diff);
    bool ok = e && d && load_accounts(e, t);
    if (!ok) strbuf_puts(&diff, "    could not set up the case (out of memory or a bad account)\n");
    engine_sink sink = {.ctx = &r, .handoff = collect};
    for (size_t i = 0; ok && i < t->event_count; i++) {
        char *copy = mem_strndup(t->events[i], strlen(t->events[i]));
        event ev;
        decode_error err;
        if (!copy) {
            ok = false;
            break;
        }
        if (!decoder_decode(d, copy, strlen(copy), &ev, &err)) {
            strbuf_printf(&diff, "    event %zu is refused: %s\n", i + 1, err.what);
            ok = false;
        } else if (engine_apply(e, &ev, &sink) == APPLY_NOMEM) {
            strbuf_puts(&diff, "    out of memory\n");
            ok = false;
        }
        mem_free(copy);
    }
    if (ok) {
        bool used[MAX_GOT] = {false};
        for (size_t x = 0; x < t->expect_count; x++) {
            bool found = false;
            for (unsigned g = 0; g < r.count && !found; g++) {
                if (used[g] || !matches(c, &t->expect[x], &r.handoffs[g])) continue;
                used[g] = found = true;
            }
            if (!found) {
                ok = false;
                strbuf_puts(&diff, "    expected: ");
                describe_expect(&t->expect[x], &diff);
                strbuf_putc(&diff, '\n');
            }
        }
        for (unsigned g = 0; g < r.count; g++) {
            if (used[g]) continue;
            ok = false;
            strbuf_puts(&diff, "    got:      ");
            describe_got(c, &r.handoffs[g], &diff);
            strbuf_putc(&diff, '\n');
        }
        if (!ok && t->expect_count == 0) strbuf_puts(&diff, "    expected: no handoff\n");
    }
    if (ok) {
        if (verbose) strbuf_printf(report, "PASS %s:%u: %s\n", path, t->line, t->name);
    } else {
        strbuf_printf(report, "FAIL %s:%u: %s\n%s", path, t->line, t->name, diff.data ? diff.data : "");
    }
    strbuf_free(&diff);
    decoder_free(d);
    engine_free(e);
    return ok;
}

size_t engine_run_golden(const contract *c, const char *path, bool verbose, strbuf *report, size_t *passed)
{
    size_t failed = 0;
    *passed = 0;
    for (size_t t = 0; t < contract_test_count(c); t++) {
        if (run_case(c, path, contract_test(c, t), verbose, report)) ++*passed;
        else failed++;
    }
    return failed;
}
