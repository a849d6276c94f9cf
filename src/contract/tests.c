/* Golden leads written in the contract (`tests:`): parsed and checked here,
 * run by `baton test`. Events are kept as Segment-shaped JSON. */
#include "contract/internal.h"

#include <string.h>

static const char *const event_types[] = {"track", "page", "identify", "group", "screen"};

static const char *json_of(loader *ld, const ynode *n)
{
    strbuf b;
    strbuf_init(&b);
    ynode_to_json(n, &b);
    const char *s = b.oom ? NULL : arena_strndup(ld->c->arena, b.data, b.len);
    if (!s) errors_add(ld->errs, ERR_NOMEM, n->offset, 1, "out of memory");
    strbuf_free(&b);
    return s;
}

static void load_event(loader *ld, const ynode *ev, const char **out)
{
    if (!expect(ld, ev, Y_MAP, "a test event")) return;
    const ynode *type = required(ld, ev, "type", "the event");
    if (type && text_of(ld, type, "'type'")) {
        bool known = false;
        for (size_t i = 0; i < ARRAY_LEN(event_types); i++) known |= strcmp(event_types[i], type->text) == 0;
        if (!known) {
            error *err = bad(ld, type, ERR_VALUE, "unknown event type '%s'", type->text);
            const char *near = nearest_name(type->text, type->len, event_types, ARRAY_LEN(event_types));
            if (near) error_hint(err, "did you mean '%s'?", near);
            else error_hint(err, "Segment types are track, page, identify, group and screen");
        }
    }
    const ynode *ts = required(ld, ev, "timestamp", "the event");
    time_ms t;
    if (ts && text_of(ld, ts, "'timestamp'") && !time_parse(ts->text, ts->len, &t)) {
        error *err = bad(ld, ts, ERR_VALUE, "timestamp '%s' is not an ISO-8601 time", ts->text);
        error_hint(err, "write 2026-10-01T09:30:00Z");
    }
    if (!ymap_get(ev, "userId") && !ymap_get(ev, "anonymousId")) {
        error *err = bad(ld, ev, ERR_SCHEMA, "the event names no person");
        error_hint(err, "give it a userId or an anonymousId");
    }
    *out = json_of(ld, ev);
}

static void load_expect(loader *ld, const ynode *x, expect_info *out)
{
    contract *c = ld->c;
    static const char *const keys[] = {"lead", "gate", "at", "fast", "status", "stage", "asks", "did"};
    out->fast = -1;
    if (!expect(ld, x, Y_MAP, "an expected handoff")) return;
    check_keys(ld, x, keys, ARRAY_LEN(keys), "an expected handoff");
    const ynode *n;
    if ((n = ymap_get(x, "lead")) && text_of(ld, n, "'lead'")) out->lead = n->text;
    if ((n = required(ld, x, "gate", "an expected handoff")) && text_of(ld, n, "'gate'")) {
        out->gate = n->text;
        if (contract_find_gate(c, n->text) < 0) {
            error *err = bad(ld, n, ERR_NAME, "unknown gate '%s'", n->text);
            const char *names[CONTRACT_MAX_GATES];
            for (uint32_t i = 0; i < c->gate_count; i++) names[i] = c->gates[i].info.name;
            const char *near = nearest_name(n->text, n->len, names, c->gate_count);
            if (near) error_hint(err, "did you mean '%s'?", near);
        }
    }
    if ((n = ymap_get(x, "at")) && text_of(ld, n, "'at'") && !time_parse(n->text, n->len, &out->at)) {
        error *err = bad(ld, n, ERR_VALUE, "'%s' is not an ISO-8601 time", n->text);
        error_hint(err, "write 2026-10-01T09:30:00Z");
    }
    bool fast;
    if ((n = ymap_get(x, "fast")) && bool_of(ld, n, "'fast'", &fast)) out->fast = fast;
    if ((n = ymap_get(x, "stage")) && text_of(ld, n, "'stage'")) {
        out->stage = n->text;
        if (contract_find_stage(c, n->text) < 0) bad(ld, n, ERR_NAME, "unknown stage '%s'", n->text);
    }
    if ((n = ymap_get(x, "asks")) && text_of(ld, n, "'asks'")) out->asks = n->text;
    if ((n = ymap_get(x, "did")) && text_of(ld, n, "'did'")) out->did = n->text;
    if ((n = ymap_get(x, "status")) && text_of(ld, n, "'status'")) {
        if (strcmp(n->text, "handed_off") != 0 && strcmp(n->text, "needs_context") != 0) {
            error *err = bad(ld, n, ERR_VALUE, "unknown handoff status '%s'", n->text);
            error_hint(err, "a new handoff is either handed_off or needs_context");
        }
        out->status = n->text;
    }
}

void load_tests(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_SEQ, "'tests'")) return;
    if (n->count > CONTRACT_MAX_TESTS) {
        bad(ld, n, ERR_LIMIT, "more than %d tests", CONTRACT_MAX_TESTS);
        return;
    }
    c->tests = arena_zalloc(c->arena, (n->count ? n->count : 1) * sizeof *c->tests);
    if (!c->tests) return;
    static const char *const keys[] = {"name", "events", "accounts", "expect"};
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *t = n->items[i];
        if (!expect(ld, t, Y_MAP, "a test")) continue;
        test_info *ti = &c->tests[c->test_count++];
        uint32_t col;
        errors_position(ld->errs, t->offset, &ti->line, &col);
        check_keys(ld, t, keys, ARRAY_LEN(keys), "a test");
        const ynode *name = required(ld, t, "name", "the test");
        ti->name = name && text_of(ld, name, "'name'") ? name->text : "";
        const ynode *events = required(ld, t, "events", "the test");
        if (events && expect(ld, events, Y_SEQ, "'events'")) {
            const char **list = arena_zalloc(c->arena, (events->count ? events->count : 1) * sizeof *list);
            if (!list) return;
            for (uint32_t j = 0; j < events->count; j++) load_event(ld, events->items[j], &list[j]);
            ti->events = list;
            ti->event_count = events->count;
        }
        const ynode *accounts = ymap_get(t, "accounts");
        if (accounts && expect(ld, accounts, Y_SEQ, "'accounts'")) {
            const char **list = arena_zalloc(c->arena, (accounts->count ? accounts->count : 1) * sizeof *list);
            if (!list) return;
            for (uint32_t j = 0; j < accounts->count; j++) {
                const ynode *a = accounts->items[j];
                if (!expect(ld, a, Y_MAP, "an account")) continue;
                if (!ymap_get(a, "domain")) bad(ld, a, ERR_SCHEMA, "the account has no 'domain'");
                list[j] = json_of(ld, a);
            }
            ti->accounts = list;
            ti->account_count = accounts->count;
        }
        const ynode *ex = required(ld, t, "expect", "the test");
        if (!ex) continue;
        if (ex->kind == Y_SCALAR && strcmp(ex->text, "none") == 0) continue; /* no handoff */
        if (!expect(ld, ex, Y_SEQ, "'expect' (a list of handoffs, or none)")) continue;
        expect_info *list = arena_zalloc(c->arena, (ex->count ? ex->count : 1) * sizeof *list);
        if (!list) return;
        for (uint32_t j = 0; j < ex->count; j++) load_expect(ld, ex->items[j], &list[j]);
        ti->expect = list;
        ti->expect_count = ex->count;
    }
}
