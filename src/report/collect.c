/* The collector: an engine sink that copies what the figures need.
 *
 * handoff    -> a report_handoff with the field values at decision time
 * transition -> needs_context -> handed_off: the handoff's release (R11);
 *               a rejection that lowers the stage: a return to marketing,
 *               marked on the outcome that follows it
 * outcome    -> a report_outcome
 * The engine reports a rejection's transition before its outcome (both in
 * lifecycle_outcome()), which is what lets a return be matched by handoff
 * number and time. */
#include "report/report.h"

#include <string.h>

struct report_collector {
    report_data *d;
    const contract *c;
    bool failed;
    uint64_t return_handoff; /* the last rejection that sent a lead back */
    time_ms return_at;
};

report_collector *report_collector_new(report_data *d, const contract *c)
{
    report_collector *col = mem_calloc(1, sizeof *col);
    if (!col) return NULL;
    col->d = d;
    col->c = c;
    return col;
}

void report_collector_free(report_collector *col)
{
    mem_free(col);
}

bool report_collector_ok(const report_collector *col)
{
    return !col->failed;
}

/* Keeps a field worth grouping by: numbers, booleans, short texts. Times and
 * durations describe the moment, not the lead. */
static bool keep_field(const char *name, const value *v, report_field *out, char *text, size_t size)
{
    out->name = name;
    switch (v->type) {
    case VAL_NUM:
        out->numeric = true;
        out->num = v->as.num;
        return true;
    case VAL_BOOL:
        out->numeric = false;
        out->text = v->as.b ? "true" : "false";
        return true;
    case VAL_STR:
        if (v->as.str.len > REPORT_MAX_VALUE || v->as.str.len >= size) return false;
        memcpy(text, v->as.str.s, v->as.str.len);
        text[v->as.str.len] = '\0';
        out->numeric = false;
        out->text = text;
        return true;
    default: return false;
    }
}

static void on_handoff(void *ctx, const handoff *h)
{
    report_collector *col = ctx;
    const contract *c = col->c;
    report_field fields[REPORT_MAX_FIELDS];
    char texts[REPORT_MAX_FIELDS][REPORT_MAX_VALUE + 1];
    uint32_t n = 0;
    size_t slots = contract_field_count(c);
    /* the lead's and account's attributes only, as the stored packet keeps
     * them (handoff_to_json's "fields"): a review from a store and one from
     * a replay separate on the same fields. Event fields describe the moment. */
    for (size_t s = 0; s < slots && n < REPORT_MAX_FIELDS; s++) {
        const field_info *f = contract_field(c, s);
        if (f->scope != SCOPE_LEAD && f->scope != SCOPE_ACCOUNT) continue;
        if (keep_field(f->path, &h->fields[s], &fields[n], texts[n], sizeof texts[n])) n++;
    }
    report_handoff r = {
        .number = h->number,
        .lead = h->lead,
        .account = h->account,
        .gate = contract_gate(c, h->gate)->name,
        .version = contract_about(c)->version,
        .owner = h->route && h->route->rep ? h->route->rep : h->team, /* the rep, once routed */
        .source = h->source,
        .at = h->at,
        .fast = h->fast,
        .needs_context = h->needs_context,
        .generic_question = report_question_is_generic(c, h->asks),
        .fields = fields,
        .field_count = n,
    };
    if (!report_data_add_handoff(col->d, &r)) col->failed = true;
}

static void on_transition(void *ctx, const transition *t)
{
    report_collector *col = ctx;
    report_data_saw(col->d, t->at);
    if (t->from_status == STATUS_NEEDS_CONTEXT && t->to_status == STATUS_HANDED_OFF && t->handoff) {
        report_data_release(col->d, t->handoff, t->at);
    } else if (strncmp(t->cause, "rejected:", 9) == 0 && t->to_stage < t->from_stage) {
        col->return_handoff = t->handoff;
        col->return_at = t->at;
    }
}

static void on_outcome(void *ctx, const outcome *o)
{
    report_collector *col = ctx;
    report_outcome r = {
        .handoff = o->handoff,
        .lead = o->lead,
        .kind = o->kind,
        .at = o->at,
        .reason = o->reason,
        .amount = o->amount,
    };
    if (o->kind == OUTCOME_REJECTED && col->return_handoff == o->handoff && col->return_at == o->at &&
        o->handoff) {
        r.returned = true;
        col->return_handoff = 0;
    }
    if (!report_data_add_outcome(col->d, &r)) col->failed = true;
}

engine_sink report_collector_sink(report_collector *col)
{
    return (engine_sink){.ctx = col, .handoff = on_handoff, .transition = on_transition, .outcome = on_outcome};
}
