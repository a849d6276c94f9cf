/* Handoffs: the packet a gate produces — who, where, why, and the two
 * context lines a first call needs (R3, R11) — and its JSON form. */
#include "engine/internal.h"

#include <math.h>
#include <string.h>

bool lead_has_context(const engine *e, const lead *l, uint32_t gate)
{
    uint32_t need = contract_gate(e->c, gate)->require;
    if ((need & REQUIRE_PAIN) && !l->pain) return false;
    if ((need & REQUIRE_IMPACT) && !l->impact) return false;
    return true;
}

/* The topic of the lead's latest topical action within 14 days. */
static const char *latest_topic(const engine *e, const lead *l, time_ms now)
{
    const char *topic = NULL;
    uint32_t best = 0;
    for (uint8_t i = 0; i < l->hit_count; i++) {
        const hit *h = &l->history->hits[i];
        const char *t = contract_signal(e->c, h->signal)->topic;
        if (!t || !in_last(now, 14 * MS_PER_DAY, h->t) || (topic && h->t < best)) continue;
        topic = t;
        best = h->t;
    }
    return topic;
}

void handoff_make(engine *e, const engine_sink *sink, lead *l, uint32_t gate, const event *ev,
                  const eval_env *env)
{
    engine_flat_fields(e);
    const contract *c = e->c;
    const gate_info *g = contract_gate(c, gate);
    bool ready = lead_has_context(e, l, gate);
    l->handoff = e->next_handoff++;
    e->stats.handoffs++;
    e->stats.by_gate[gate]++;

    /* Triggers: what this event matched, then the lead's recent actions. */
    uint32_t n = 0;
    strbuf_reset(&e->did);
    strbuf trigger_text;
    char trigger_buf[(LEAD_RECENT + 2) * (ENGINE_DESCRIPTION + 16)];
    strbuf_init_fixed(&trigger_text, trigger_buf, sizeof trigger_buf);
    for (size_t s = 0; s < contract_signal_count(c); s++) {
        if (!e->signal_now[s] || e->rank_of[s] == 0) continue;
        trigger *t = &e->triggers[n++];
        t->message_id = current_message_id(e);
        t->at = ev->timestamp;
        t->signal = (uint32_t)s;
        t->description = signal_description(e, (uint32_t)s, env);
    }
    uint32_t current = n;
    for (uint8_t r = 0; r < l->recent_count; r++) {
        const recent_action *a = &l->history->recent[r];
        if (!in_last(ev->timestamp, 14 * MS_PER_DAY, a->t)) continue;
        bool dup = false;
        for (uint32_t i = 0; i < current && !dup; i++)
            dup = e->triggers[i].signal == a->signal && e->triggers[i].at / MS_PER_SECOND == a->t;
        if (dup) continue;
        trigger *t = &e->triggers[n++];
        t->message_id = a->message_id;
        t->at = (time_ms)a->t * MS_PER_SECOND;
        t->signal = a->signal;
        t->description = a->description;
    }
    /* "{trigger}": every action, newest first, each with its date */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t newest = i;
        for (uint32_t j = i + 1; j < n; j++)
            if (e->triggers[j].at > e->triggers[newest].at) newest = j;
        trigger tmp = e->triggers[i];
        e->triggers[i] = e->triggers[newest];
        e->triggers[newest] = tmp;
        char day[40];
        time_format(e->triggers[i].at, day, sizeof day);
        day[10] = '\0';
        if (i) strbuf_puts(&trigger_text, "; ");
        strbuf_puts(&trigger_text, e->triggers[i].description);
        strbuf_puts(&trigger_text, " (");
        strbuf_puts(&trigger_text, day);
        strbuf_putc(&trigger_text, ')');
    }

    const char *topic = latest_topic(e, l, ev->timestamp);
    const char *question = l->question;
    if (!question && topic) question = contract_topic_question(c, topic);
    if (!question) question = contract_topic_question(c, "default");
    template_vars vars = {
        .trigger = trigger_text.data,
        .question = question,
        .gate = g->name,
        .pain = l->pain,
        .impact = l->impact,
        .topic = topic,
    };
    contract_render_did(c, env, &vars, &e->did);
    strbuf_reset(&e->asks);
    contract_render_asks(c, env, &vars, &e->asks);

    for (uint32_t t = 0; t < g->term_count; t++) e->terms[t] = program_eval(g->terms[t].prog, env);

    handoff h = {
        .number = l->handoff,
        .contract = c,
        .lead = l->key,
        .account = l->account != NO_ACCOUNT ? e->accounts[l->account].domain : NULL,
        .gate = gate,
        .at = ev->timestamp,
        .fast = g->fast,
        .stage = g->stage,
        .team = g->team,
        .needs_context = !ready,
        .triggers = e->triggers,
        .trigger_count = n,
        .did = e->did.data ? e->did.data : "",
        .asks = e->asks.data ? e->asks.data : "",
        .pain = l->pain,
        .impact = l->impact,
        .fit = e->fit,
        .fields = env->fields,
        .terms = e->terms,
    };
    char source[128];
    if (ev->source.len) {
        size_t len = ev->source.len < sizeof source - 1 ? ev->source.len : sizeof source - 1;
        memcpy(source, ev->source.s, len);
        source[len] = '\0';
        h.source = source;
    }
    route_decision route;
    if (ready && handoff_route(e, l, g, env, ev->timestamp, &route)) h.route = &route;
    h.score = NAN;
    if (env->score.type == VAL_NUM) { /* score_x still holds this event's encoding */
        h.score = env->score.as.num;
        h.factors = e->factors;
        h.factor_count = (uint32_t)score_explain(e->model, e->score_x, e->factors, SCORE_TOP_FACTORS);
    }
    if (sink && sink->handoff) sink->handoff(sink->ctx, &h);
    char cause[96];
    snprintf(cause, sizeof cause, "gate %s", g->name);
    if (ready) {
        lifecycle_change(e, sink, l, g->stage, STATUS_HANDED_OFF, cause, ev->timestamp);
    } else {
        e->stats.needs_context++;
        l->pending_gate = (uint16_t)gate;
        lifecycle_change(e, sink, l, l->stage, STATUS_NEEDS_CONTEXT, cause, ev->timestamp);
    }
}

bool handoff_route(engine *e, lead *l, const gate_info *g, const eval_env *env, time_ms at, route_decision *out)
{
    if (!e->opt.router) return false;
    const value *owner = e->slot_account_owner >= 0 ? &env->fields[e->slot_account_owner] : NULL;
    char owner_id[128] = "";
    if (owner && owner->type == VAL_STR)
        snprintf(owner_id, sizeof owner_id, "%.*s", (int)owner->as.str.len, owner->as.str.s);
    route_request req = {
        .team = g->team,
        .stage = (int32_t)g->stage,
        .env = env,
        .account_owner = owner_id[0] ? owner_id : NULL,
        .now = at,
    };
    route_assign(e->opt.router, e->c, &req, out);
    /* interned: the decision's strings belong to the router and the contract,
     * which a reload may replace while the lead lives on */
    l->rep = out->rep ? pool_intern(e, out->rep, strlen(out->rep)) : NULL;
    l->territory = out->territory ? pool_intern(e, out->territory, strlen(out->territory)) : NULL;
    return true;
}

/* Pain and impact arrived for a handoff that waited for them (R11): it goes
 * to the team now, and to a rep. */
void handoff_release(engine *e, const engine_sink *sink, lead *l, const eval_env *env, time_ms at)
{
    engine_flat_fields(e);
    const gate_info *g = contract_gate(e->c, l->pending_gate);
    e->stats.released++;
    route_decision route;
    char cause[96] = "context supplied";
    if (handoff_route(e, l, g, env, at, &route) && route.rep)
        snprintf(cause, sizeof cause, "context supplied; routed to %s (%s)", route.rep, route_via_code(route.via));
    lifecycle_change(e, sink, l, g->stage, STATUS_HANDED_OFF, cause, at);
}

/* ---- JSON ------------------------------------------------------------------------ */

static void json_str(strbuf *out, const char *s)
{
    if (s) strbuf_json_string(out, s, strlen(s));
    else strbuf_puts(out, "null");
}

/* ,"key":"value" (or null). Records are written with puts, not printf: a
 * handoff made a dozen printf calls, a sixth of a replay's main thread
 * besides the engine. */
static void json_field(strbuf *out, const char *key, const char *text)
{
    strbuf_puts(out, ",\"");
    strbuf_puts(out, key);
    strbuf_puts(out, "\":");
    json_str(out, text);
}

/* n in decimal, as %llu writes it */
static void json_uint(strbuf *out, uint64_t n)
{
    char buf[24], *p = buf + sizeof buf;
    do {
        *--p = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    strbuf_append(out, p, (size_t)(buf + sizeof buf - p));
}

static void json_time(strbuf *out, time_ms t)
{
    char buf[40];
    time_format(t, buf, sizeof buf);
    strbuf_putc(out, '"');
    strbuf_puts(out, buf);
    strbuf_putc(out, '"');
}

void handoff_to_json(const handoff *h, strbuf *out)
{
    const contract *c = h->contract;
    const contract_info *about = contract_about(c);
    const gate_info *g = contract_gate(c, h->gate);
    strbuf_puts(out, "{\"record\":\"handoff\",\"id\":");
    json_uint(out, h->number);
    strbuf_puts(out, ",\"lead\":");
    json_str(out, h->lead);
    json_field(out, "account", h->account);
    json_field(out, "gate", g->name);
    json_field(out, "contract", about->name);
    strbuf_puts(out, ",\"version\":");
    json_uint(out, about->version);
    strbuf_puts(out, ",\"at\":");
    json_time(out, h->at);
    strbuf_puts(out, h->fast ? ",\"fast\":true,\"stage\":" : ",\"fast\":false,\"stage\":");
    json_str(out, contract_stage(c, h->stage)->name);
    strbuf_puts(out, ",\"team\":");
    json_str(out, h->team);
    strbuf_puts(out, h->needs_context ? ",\"status\":\"needs_context\"" : ",\"status\":\"handed_off\"");
    if (h->needs_context) {
        strbuf_puts(out, ",\"missing\":[");
        bool first = true;
        if ((g->require & REQUIRE_PAIN) && !h->pain) {
            strbuf_puts(out, "\"pain\"");
            first = false;
        }
        if ((g->require & REQUIRE_IMPACT) && !h->impact) strbuf_puts(out, first ? "\"impact\"" : ",\"impact\"");
        strbuf_putc(out, ']');
    }
    strbuf_puts(out, ",\"triggers\":[");
    for (uint32_t i = 0; i < h->trigger_count; i++) {
        const trigger *t = &h->triggers[i];
        if (i) strbuf_putc(out, ',');
        strbuf_puts(out, "{\"message_id\":");
        json_str(out, t->message_id);
        strbuf_puts(out, ",\"at\":");
        json_time(out, t->at);
        strbuf_puts(out, ",\"signal\":");
        json_str(out, contract_signal(c, t->signal)->name);
        strbuf_puts(out, ",\"description\":");
        json_str(out, t->description);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "],\"context\":{\"did\":");
    json_str(out, h->did);
    strbuf_puts(out, ",\"asks\":");
    json_str(out, h->asks);
    strbuf_putc(out, '}');
    json_field(out, "pain", h->pain);
    json_field(out, "impact", h->impact);
    json_field(out, "source", h->source);
    strbuf_puts(out, ",\"fit\":{");
    for (size_t f = 0; f < contract_fit_count(c); f++) {
        const fit_info *fi = contract_fit(c, f);
        if (f) strbuf_putc(out, ',');
        json_str(out, fi->name);
        strbuf_puts(out, h->fit[f] ? ":{\"holds\":true,\"fields\":{" : ":{\"holds\":false,\"fields\":{");
        for (uint32_t s = 0; s < fi->slot_count; s++) {
            if (s) strbuf_putc(out, ',');
            json_str(out, contract_field(c, fi->slots[s])->path);
            strbuf_putc(out, ':');
            value_to_json(&h->fields[fi->slots[s]], out);
        }
        strbuf_puts(out, "}}");
    }
    /* the lead's and account's attributes as they stood: what reviews of
     * rejected handoffs separate on (docs/reports.md) */
    strbuf_puts(out, "},\"fields\":{");
    bool first_field = true;
    for (size_t i = 0; i < contract_field_count(c); i++) {
        const field_info *f = contract_field(c, i);
        if ((f->scope != SCOPE_LEAD && f->scope != SCOPE_ACCOUNT) || h->fields[i].type == VAL_NULL) continue;
        if (!first_field) strbuf_putc(out, ',');
        first_field = false;
        json_str(out, f->path);
        strbuf_putc(out, ':');
        value_to_json(&h->fields[i], out);
    }
    strbuf_puts(out, "},\"explanation\":{\"when\":");
    json_str(out, g->source);
    strbuf_puts(out, ",\"terms\":[");
    for (uint32_t t = 0; t < g->term_count; t++) {
        if (t) strbuf_putc(out, ',');
        strbuf_puts(out, "{\"term\":");
        json_str(out, g->terms[t].text);
        strbuf_puts(out, ",\"value\":");
        value_to_json(&h->terms[t], out);
        strbuf_putc(out, '}');
    }
    strbuf_puts(out, "]}");
    if (!isnan(h->score)) {
        strbuf_printf(out, ",\"score\":{\"value\":%.4f,\"factors\":[", h->score);
        for (uint32_t i = 0; i < h->factor_count; i++) {
            const score_factor *f = &h->factors[i];
            if (i) strbuf_putc(out, ',');
            strbuf_puts(out, "{\"feature\":");
            json_str(out, f->feature);
            strbuf_printf(out, ",\"value\":%g,\"contribution\":%.4f}", f->value, f->contribution);
        }
        strbuf_puts(out, "]}");
    }
    if (h->route) {
        strbuf_puts(out, ",\"route\":");
        route_decision_to_json(h->route, out);
    }
    strbuf_putc(out, '}');
}

void transition_to_json(const contract *c, const transition *t, strbuf *out)
{
    strbuf_puts(out, "{\"record\":\"transition\",\"lead\":");
    json_str(out, t->lead);
    strbuf_puts(out, ",\"at\":");
    json_time(out, t->at);
    strbuf_puts(out, ",\"from\":{\"stage\":");
    json_str(out, contract_stage(c, t->from_stage)->name);
    strbuf_printf(out, ",\"status\":\"%s\"},\"to\":{\"stage\":", lead_status_name(t->from_status));
    json_str(out, contract_stage(c, t->to_stage)->name);
    strbuf_printf(out, ",\"status\":\"%s\"},\"owner\":", lead_status_name(t->to_status));
    json_str(out, contract_stage(c, t->to_stage)->team);
    strbuf_puts(out, ",\"cause\":");
    json_str(out, t->cause);
    if (t->handoff) strbuf_printf(out, ",\"handoff\":%llu", (unsigned long long)t->handoff);
    strbuf_putc(out, '}');
}

void breach_to_json(const contract *c, const breach *b, strbuf *out)
{
    static const char *const actions[] = {"notify", "reassign", "both"};
    strbuf_puts(out, "{\"record\":\"sla_breach\",\"lead\":");
    json_str(out, b->lead);
    if (b->handoff) strbuf_printf(out, ",\"handoff\":%llu", (unsigned long long)b->handoff);
    strbuf_printf(out, ",\"clock\":\"%s\",\"started\":", sla_clock_name((enum sla_clock)b->clock));
    json_time(out, b->started);
    strbuf_puts(out, ",\"due\":");
    json_time(out, b->due);
    strbuf_printf(out, ",\"action\":\"%s\",\"stage\":", b->action < ARRAY_LEN(actions) ? actions[b->action] : "?");
    json_str(out, contract_stage(c, b->stage)->name);
    strbuf_puts(out, ",\"owner\":");
    json_str(out, contract_stage(c, b->stage)->team);
    strbuf_puts(out, ",\"rep\":");
    json_str(out, b->rep);
    if (b->reassigned) {
        strbuf_puts(out, ",\"reassigned\":");
        route_decision_to_json(b->reassigned, out);
    }
    strbuf_putc(out, '}');
}
