/* A small harness for engine tests: a contract, accounts and events in,
 * the handoffs and transitions out, as JSON and as key fields. */
#ifndef BATON_TEST_SCENARIO_H
#define BATON_TEST_SCENARIO_H

#include "../harness.h"
#include "engine/engine.h"

#define SCENARIO_MAX 64

typedef struct seen_handoff {
    char lead[64], gate[64], stage[32], status[32];
    time_ms at;
    bool fast;
    char json[8192];
} seen_handoff;

typedef struct scenario {
    contract *c;
    engine *e;
    decoder *d;
    seen_handoff handoffs[SCENARIO_MAX];
    unsigned handoff_count;
    char transitions[SCENARIO_MAX][512];
    unsigned transition_count;
    char outcomes[SCENARIO_MAX][128]; /* "kind handoff reason amount" */
    unsigned outcome_count;
    char breaches[SCENARIO_MAX][160]; /* "lead clock started due" */
    unsigned breach_count;
    unsigned duplicates;
} scenario;

static void scenario_on_handoff(void *ctx, const handoff *h)
{
    scenario *s = ctx;
    assert_true(s->handoff_count < SCENARIO_MAX);
    seen_handoff *o = &s->handoffs[s->handoff_count++];
    snprintf(o->lead, sizeof o->lead, "%s", h->lead);
    snprintf(o->gate, sizeof o->gate, "%s", contract_gate(s->c, h->gate)->name);
    snprintf(o->stage, sizeof o->stage, "%s", contract_stage(s->c, h->stage)->name);
    snprintf(o->status, sizeof o->status, "%s", h->needs_context ? "needs_context" : "handed_off");
    o->at = h->at;
    o->fast = h->fast;
    strbuf b;
    strbuf_init(&b);
    handoff_to_json(h, &b);
    snprintf(o->json, sizeof o->json, "%s", b.data);
    strbuf_free(&b);
}

static void scenario_on_transition(void *ctx, const transition *t)
{
    scenario *s = ctx;
    assert_true(s->transition_count < SCENARIO_MAX);
    strbuf b;
    strbuf_init(&b);
    transition_to_json(s->c, t, &b);
    snprintf(s->transitions[s->transition_count++], sizeof s->transitions[0], "%s", b.data);
    strbuf_free(&b);
}

static void scenario_on_outcome(void *ctx, const outcome *o)
{
    scenario *s = ctx;
    assert_true(s->outcome_count < SCENARIO_MAX);
    snprintf(s->outcomes[s->outcome_count++], sizeof s->outcomes[0], "%s %llu %s %.0f",
             outcome_kind_name((enum outcome_kind)o->kind), (unsigned long long)o->handoff,
             o->reason ? o->reason : "-", o->amount);
}

static void scenario_on_breach(void *ctx, const breach *b)
{
    scenario *s = ctx;
    assert_true(s->breach_count < SCENARIO_MAX);
    char started[40], due[40];
    time_format(b->started, started, sizeof started);
    time_format(b->due, due, sizeof due);
    int n = snprintf(s->breaches[s->breach_count], sizeof s->breaches[0], "%s %s %s %s", b->lead,
                     sla_clock_name((enum sla_clock)b->clock), started, due);
    if (b->reassigned && n > 0 && (size_t)n < sizeof s->breaches[0])
        snprintf(s->breaches[s->breach_count] + n, sizeof s->breaches[0] - (size_t)n, " reassigned %s->%s",
                 b->rep ? b->rep : "-", b->reassigned->rep ? b->reassigned->rep : "-");
    s->breach_count++;
}

/* Starts a scenario on the example contract (or another under the source tree). */
static scenario *scenario_new(const char *contract_rel)
{
    scenario *s = calloc(1, sizeof *s);
    assert_non_null(s);
    char *text = read_fixture(contract_rel, NULL);
    strbuf errs;
    strbuf_init(&errs);
    s->c = parse_string(contract_rel, text, &errs);
    if (!s->c) fail_msg("%s has errors:\n%s", contract_rel, errs.data);
    strbuf_free(&errs);
    free(text);
    s->e = engine_new(s->c, NULL);
    s->d = decoder_new(s->c);
    assert_non_null(s->e);
    assert_non_null(s->d);
    return s;
}

static void scenario_free(scenario *s)
{
    decoder_free(s->d);
    engine_free(s->e);
    contract_free(s->c);
    free(s);
}

/* "domain=x.example industry=software employees=450 status=prospect" */
static void scenario_account(scenario *s, const char *spec)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    const char *names[16], *values[16];
    size_t n = 0;
    for (char *tok = strtok(buf, " "); tok && n < 16; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        names[n] = tok;
        values[n++] = eq + 1;
    }
    account_row row = {.names = names, .values = values, .count = n};
    assert_true(engine_set_account(s->e, &row));
}

/* Applies one event written as JSON; fails the test when it is refused. */
static enum apply_result scenario_event(scenario *s, const char *json)
{
    char *copy = strdup(json);
    event ev;
    decode_error err;
    if (!decoder_decode(s->d, copy, strlen(copy), &ev, &err)) fail_msg("refused: %s\n  %s", err.what, json);
    engine_sink sink = {.ctx = s, .handoff = scenario_on_handoff, .transition = scenario_on_transition,
                        .outcome = scenario_on_outcome, .breach = scenario_on_breach};
    enum apply_result r = engine_apply(s->e, &ev, &sink);
    free(copy);
    if (r == APPLY_DUPLICATE) s->duplicates++;
    return r;
}

static time_ms at(const char *iso)
{
    time_ms t;
    if (!time_parse(iso, strlen(iso), &t)) fail_msg("bad time %s", iso);
    return t;
}

#endif
