/* The checker: resolves names, checks types and where each construct may
 * appear, before anything runs.
 *
 * Invariants after check_expr() returns true:
 *   1. every N_NAME has a ref, and REF_FIELD names have a field slot;
 *   2. every node has a type other than TY_ERROR;
 *   3. the constructs used are allowed in the expression's context (a signal
 *      sees one event; a fit predicate and a routing rule see the lead and
 *      account; gates and context lines see everything);
 *   4. aggregate windows are positive duration literals within retention;
 *   5. `matches` patterns compile; `in`/`mentions` have a list on the right. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "contract/internal.h"

#include <pcre2.h>
#include <string.h>

/* ---- the fields an expression may read ------------------------------------
 * A path ending in ".*" is a prefix: any deeper path under it is allowed and
 * typed at run time. Everything else must match exactly. */
typedef struct field_schema {
    const char *path;
    uint8_t scope;   /* enum field_scope */
    uint8_t type;    /* enum type */
    bool derived;    /* computed by baton rather than copied from the event */
    const char *phrase; /* in plain words, for explain */
} field_schema;

static const field_schema schema[] = {
    {"event.type", SCOPE_EVENT, TY_STR, false, "the event type"},
    {"event.name", SCOPE_EVENT, TY_STR, false, "the event"},
    {"event.timestamp", SCOPE_EVENT, TY_TIME, false, "the event time"},
    {"event.message_id", SCOPE_EVENT, TY_STR, false, "the message id"},
    {"event.user_id", SCOPE_EVENT, TY_STR, false, "the user id"},
    {"event.anonymous_id", SCOPE_EVENT, TY_STR, false, "the anonymous id"},
    {"properties.*", SCOPE_EVENT, TY_ANY, false, "the event's"},
    {"traits.*", SCOPE_EVENT, TY_ANY, false, "the person's"},
    {"context.*", SCOPE_EVENT, TY_ANY, false, "the event context's"},
    {"page.category", SCOPE_EVENT, TY_STR, true, "the page category"},
    {"page.name", SCOPE_EVENT, TY_STR, true, "the page name"},
    {"page.path", SCOPE_EVENT, TY_STR, true, "the page path"},
    {"page.url", SCOPE_EVENT, TY_STR, true, "the page address"},
    {"page.title", SCOPE_EVENT, TY_STR, true, "the page title"},
    {"page.referrer", SCOPE_EVENT, TY_STR, true, "the referring page"},
    {"page.seconds", SCOPE_EVENT, TY_NUM, true, "the seconds spent on the page"},
    {"message.text", SCOPE_EVENT, TY_STR, true, "what the buyer wrote"},
    {"message.subject", SCOPE_EVENT, TY_STR, true, "the message subject"},
    {"message.channel", SCOPE_EVENT, TY_STR, true, "the channel the buyer wrote in"},
    {"reply.to_human", SCOPE_EVENT, TY_BOOL, true, "the reply answers a person"},
    {"reply.automatic", SCOPE_EVENT, TY_BOOL, true, "the reply is automatic"},
    {"lead.id", SCOPE_LEAD, TY_STR, true, "the lead"},
    {"lead.email", SCOPE_LEAD, TY_STR, false, "the lead's email"},
    {"lead.title", SCOPE_LEAD, TY_STR, false, "the lead's job title"},
    {"lead.seniority", SCOPE_LEAD, TY_STR, false, "the lead's seniority"},
    {"lead.country", SCOPE_LEAD, TY_STR, false, "the lead's country"},
    {"lead.stage", SCOPE_LEAD, TY_STR, true, "the lead's stage"},
    {"lead.owner", SCOPE_LEAD, TY_STR, true, "the lead's owner"},
    {"lead.status", SCOPE_LEAD, TY_STR, true, "the lead's status"},
    {"lead.pain", SCOPE_LEAD, TY_STR, false, "the lead's stated pain"},
    {"lead.impact", SCOPE_LEAD, TY_STR, false, "the lead's business impact"},
    {"lead.traits.*", SCOPE_LEAD, TY_ANY, false, "the lead's"},
    {"account.domain", SCOPE_ACCOUNT, TY_STR, true, "the account's domain"},
    {"account.name", SCOPE_ACCOUNT, TY_STR, false, "the account's name"},
    {"account.industry", SCOPE_ACCOUNT, TY_STR, false, "the account's industry"},
    {"account.employees", SCOPE_ACCOUNT, TY_NUM, false, "the account's employee count"},
    {"account.revenue", SCOPE_ACCOUNT, TY_NUM, false, "the account's annual revenue"},
    {"account.country", SCOPE_ACCOUNT, TY_STR, false, "the account's country"},
    {"account.segment", SCOPE_ACCOUNT, TY_STR, false, "the account's segment"},
    {"account.status", SCOPE_ACCOUNT, TY_STR, false, "the account's status"},
    {"account.owner", SCOPE_ACCOUNT, TY_STR, false, "the account's owner"},
    {"account.traits.*", SCOPE_ACCOUNT, TY_ANY, false, "the account's"},
};

static const char *const namespaces[] = {"event", "properties", "traits",  "context", "page",
                                         "message", "reply",    "lead",    "account", "fit"};

static const char *const functions[] = {"count", "last", "since", "distinct", "exists"};

const char *type_name(enum type t)
{
    static const char *const names[] = {
        [TY_ERROR] = "an error", [TY_BOOL] = "true/false", [TY_NUM] = "a number",
        [TY_STR] = "text",       [TY_DUR] = "a duration",  [TY_TIME] = "a time",
        [TY_LIST] = "a list",    [TY_ANY] = "a field of any type",
    };
    return names[t];
}

static uint8_t value_type_of(uint8_t t)
{
    switch (t) {
    case TY_BOOL: return VAL_BOOL;
    case TY_NUM: return VAL_NUM;
    case TY_STR: return VAL_STR;
    case TY_DUR: return VAL_DUR;
    case TY_TIME: return VAL_TIME;
    default: return VAL_NULL;
    }
}

/* The schema entry for a path, exact or by prefix; NULL when none. */
static const field_schema *schema_find(const char *path, size_t len)
{
    const field_schema *prefix = NULL;
    for (size_t i = 0; i < ARRAY_LEN(schema); i++) {
        const char *p = schema[i].path;
        size_t pl = strlen(p);
        if (pl > 2 && p[pl - 1] == '*') {
            /* "traits.*" covers "traits.x" and deeper, not "traits" alone */
            if (len > pl - 1 && memcmp(path, p, pl - 1) == 0 &&
                (!prefix || strlen(prefix->path) < pl))
                prefix = &schema[i];
        } else if (pl == len && memcmp(p, path, len) == 0) {
            return &schema[i];
        }
    }
    return prefix;
}

const char *field_phrase(const char *path)
{
    const field_schema *f = schema_find(path, strlen(path));
    return f ? f->phrase : path;
}

/* ---- the checker ----------------------------------------------------------- */

typedef struct checker {
    contract *c;
    errors *errs;
    const expr *e;
    enum expr_context ctx;
    const char *macro; /* the macro being checked, for messages */
    bool ok;
} checker;

static error *fail_at(checker *k, const node *n, enum error_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static error *fail_at(checker *k, const node *n, enum error_code code, const char *fmt, ...)
{
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    k->ok = false;
    uint32_t off = expr_offset(k->e, n->start);
    uint32_t end = expr_offset(k->e, n->start + (n->len ? n->len - 1 : 0)) + 1;
    return errors_add(k->errs, code, off, end > off ? end - off : 1, "%s", msg);
}

static bool sees_event(enum expr_context ctx)
{
    return ctx != CTX_FIT && ctx != CTX_ROUTE;
}

static bool sees_history(enum expr_context ctx)
{
    return ctx == CTX_GATE || ctx == CTX_TEMPLATE_LEAD;
}

static const char *context_noun(enum expr_context ctx)
{
    switch (ctx) {
    case CTX_SIGNAL: return "a signal";
    case CTX_FIT: return "a fit predicate";
    case CTX_GATE: return "a gate";
    case CTX_TEMPLATE_EVENT: return "a signal description";
    case CTX_TEMPLATE_LEAD: return "a context line";
    case CTX_ROUTE: return "a routing rule";
    }
    return "this expression";
}

static const char *context_hint(enum expr_context ctx)
{
    switch (ctx) {
    case CTX_SIGNAL:
    case CTX_TEMPLATE_EVENT:
        return "a signal looks at one event; count, compare and combine signals in a gate";
    case CTX_FIT: return "a fit predicate reads the lead and the account, not events or history";
    case CTX_ROUTE:
        return "a routing rule reads the lead's and the account's fields: who the buyer is, not what they did";
    default: return NULL;
    }
}

static void refuse_here(checker *k, const node *n, const char *what)
{
    error *err = fail_at(k, n, ERR_NAME, "%s cannot use %s", context_noun(k->ctx), what);
    const char *hint = context_hint(k->ctx);
    if (err && hint) error_hint(err, "%s", hint);
}

/* Every name an expression could mean, for "did you mean". */
static size_t known_names(const contract *c, const char **out, size_t cap)
{
    size_t n = 0;
#define ADD(s)                                                                                     \
    do {                                                                                           \
        if (n < cap) out[n++] = (s);                                                               \
    } while (0)
    for (uint32_t i = 0; i < c->signal_count; i++) ADD(c->signals[i].info.name);
    for (uint32_t i = 0; i < c->kind_count; i++) ADD(c->kinds[i].name);
    for (uint32_t i = 0; i < c->list_count; i++) ADD(c->lists[i].name);
    for (uint32_t i = 0; i < c->macro_count; i++) ADD(c->macros[i].name);
    for (size_t i = 0; i < ARRAY_LEN(namespaces); i++) ADD(namespaces[i]);
    ADD("score");
    ADD("points");
    ADD("now");
#undef ADD
    return n;
}

static int find_named(const char *name, size_t len, const char *const *names, size_t count,
                      size_t stride)
{
    for (size_t i = 0; i < count; i++) {
        const char *s = *(const char *const *)((const char *)names + i * stride);
        if (strlen(s) == len && memcmp(s, name, len) == 0) return (int)i;
    }
    return -1;
}

static int find_signal(const contract *c, const char *s, size_t len)
{
    return find_named(s, len, &c->signals[0].info.name, c->signal_count, sizeof c->signals[0]);
}

static int find_kind(const contract *c, const char *s, size_t len)
{
    return find_named(s, len, &c->kinds[0].name, c->kind_count, sizeof c->kinds[0]);
}

static int find_list(const contract *c, const char *s, size_t len)
{
    return find_named(s, len, &c->lists[0].name, c->list_count, sizeof c->lists[0]);
}

static int find_macro(const contract *c, const char *s, size_t len)
{
    return find_named(s, len, &c->macros[0].name, c->macro_count, sizeof c->macros[0]);
}

static int find_fit(const contract *c, const char *s, size_t len)
{
    return find_named(s, len, &c->fit[0].name, c->fit_count, sizeof c->fit[0]);
}

static void suggest(error *err, const char *name, size_t len, const char *const *names,
                    size_t count)
{
    if (!err) return;
    const char *near = nearest_name(name, len, names, count);
    if (near) error_hint(err, "did you mean '%s'?", near);
}

static bool check_node(checker *k, node *n);

static void resolve_field(checker *k, node *n)
{
    const char *path = n->lit.str.s;
    const field_schema *f = schema_find(path, n->lit.str.len);
    if (!f) {
        error *err = fail_at(k, n, ERR_NAME, "unknown field '%s'", path);
        if (!err) return;
        const char *names[ARRAY_LEN(schema)];
        size_t count = 0;
        for (size_t i = 0; i < ARRAY_LEN(schema); i++)
            if (schema[i].path[strlen(schema[i].path) - 1] != '*') names[count++] = schema[i].path;
        const char *near = nearest_name(path, n->lit.str.len, names, count);
        if (near)
            error_hint(err, "did you mean '%s'?", near);
        else if (strncmp(path, "account.", 8) == 0 || strncmp(path, "lead.", 5) == 0)
            error_hint(err, "custom fields live under %s.traits, as in %s.traits.%s",
                       path[0] == 'a' ? "account" : "lead", path[0] == 'a' ? "account" : "lead",
                       strchr(path, '.') + 1);
        return;
    }
    if (f->scope == SCOPE_EVENT && !sees_event(k->ctx)) {
        refuse_here(k, n, "event fields");
        return;
    }
    n->ref = REF_FIELD;
    n->type = f->type;
    n->index = contract_field_slot(k->c, path, f->scope, value_type_of(f->type), f->derived);
    if (n->index == UINT32_MAX)
        fail_at(k, n, ERR_LIMIT, "more than %d distinct fields read", CONTRACT_MAX_FIELDS);
}

/* What a checked body reads that a narrower context may not: the first
 * construct of each sort. Linear in the body: nested macros bring their own
 * summaries, computed when they were checked. */
static void summarise(const contract *c, const node *n, const char **event, const char **history)
{
    switch (n->kind) {
    case N_NAME:
        switch (n->ref) {
        case REF_FIELD:
            if (!*event && c->fields[n->index].scope == SCOPE_EVENT) *event = "event fields";
            break;
        case REF_SIGNAL: if (!*history) *history = "other signals"; break;
        case REF_FIT: if (!*history) *history = "fit predicates"; break;
        case REF_SCORE: if (!*history) *history = "score"; break;
        case REF_POINTS: if (!*history) *history = "points"; break;
        case REF_NOW: if (!*history) *history = "now"; break;
        case REF_MACRO: {
            const macro_def *m = &c->macros[n->index];
            if (!*event) *event = m->needs_event;
            if (!*history) *history = m->needs_history;
            break;
        }
        default: break;
        }
        break;
    case N_CALL:
        if (strcmp(n->lit.str.s, "exists") == 0) {
            summarise(c, n->args[0], event, history);
        } else if (!*history) {
            static const char *const calls[] = {"count()", "last()", "since()", "distinct()"};
            for (size_t i = 0; i < ARRAY_LEN(calls); i++)
                if (strncmp(calls[i], n->lit.str.s, n->lit.str.len) == 0 && calls[i][n->lit.str.len] == '(')
                    *history = calls[i];
        }
        break;
    case N_NOT:
    case N_NEG: summarise(c, n->a, event, history); break;
    case N_BINARY:
        summarise(c, n->a, event, history);
        summarise(c, n->b, event, history);
        break;
    case N_LIST:
        for (uint32_t i = 0; i < n->nargs; i++) summarise(c, n->args[i], event, history);
        break;
    default: break;
    }
}

/* A macro's body is checked once, where it is defined, with the freedom of a
 * gate; a use in a narrower context is judged by the body's summary, and
 * reported at the use. Checking once keeps nested macros linear. */
static void check_macro(checker *k, node *n, uint32_t index)
{
    macro_def *m = &k->c->macros[index];
    n->ref = REF_MACRO;
    n->index = index;
    if (m->state == 1) {
        fail_at(k, n, ERR_NAME, "macro '%s' refers to itself", m->name);
        return;
    }
    if (m->state == 0) {
        m->state = 1;
        m->ok = check_expr(k->c, k->errs, &m->body, CTX_GATE, TY_LIST);
        if (m->ok) summarise(k->c, m->body.root, &m->needs_event, &m->needs_history);
        m->state = 2;
    }
    if (!m->ok) {
        k->ok = false; /* the body's own errors are already reported */
        return;
    }
    const char *missing = NULL;
    if (!sees_event(k->ctx) && m->needs_event) missing = m->needs_event;
    else if (!sees_history(k->ctx) && m->needs_history) missing = m->needs_history;
    if (missing) {
        error *err = fail_at(k, n, ERR_NAME, "macro '%s' cannot be used in %s: it uses %s", m->name,
                             context_noun(k->ctx), missing);
        const char *hint = context_hint(k->ctx);
        if (err && hint) error_hint(err, "%s", hint);
        return;
    }
    n->type = m->body.root->type;
}

/* N_NAME: a dotted path, or one of the contract's names. */
static void check_name(checker *k, node *n)
{
    contract *c = k->c;
    const char *s = n->lit.str.s;
    size_t len = n->lit.str.len;
    const char *dot = memchr(s, '.', len);
    if (dot) {
        size_t ns = (size_t)(dot - s);
        if (ns == 3 && memcmp(s, "fit", 3) == 0) {
            int i = find_fit(c, dot + 1, len - 4);
            if (i < 0) {
                error *err = fail_at(k, n, ERR_NAME, "unknown fit predicate '%s'", dot + 1);
                const char *names[CONTRACT_MAX_FIT];
                for (uint32_t j = 0; j < c->fit_count; j++) names[j] = c->fit[j].name;
                suggest(err, dot + 1, len - 4, names, c->fit_count);
                return;
            }
            if (!sees_history(k->ctx)) {
                refuse_here(k, n, "fit predicates");
                return;
            }
            n->ref = REF_FIT;
            n->index = (uint32_t)i;
            n->type = TY_BOOL;
            return;
        }
        if (find_named(s, ns, namespaces, ARRAY_LEN(namespaces), sizeof namespaces[0]) < 0) {
            error *err = fail_at(k, n, ERR_NAME, "unknown name '%.*s'", (int)ns, s);
            if (find_signal(c, s, ns) >= 0 || find_list(c, s, ns) >= 0)
                error_hint(err, "'%.*s' has no fields", (int)ns, s);
            else
                suggest(err, s, ns, namespaces, ARRAY_LEN(namespaces));
            return;
        }
        resolve_field(k, n);
        return;
    }

    int i;
    if ((i = find_signal(c, s, len)) >= 0) {
        if (!sees_history(k->ctx)) {
            refuse_here(k, n, "other signals");
            return;
        }
        n->ref = REF_SIGNAL;
        n->index = (uint32_t)i;
        n->type = TY_BOOL;
        return;
    }
    if ((i = find_list(c, s, len)) >= 0) {
        n->ref = REF_LIST;
        n->index = (uint32_t)i;
        n->type = TY_LIST;
        return;
    }
    if ((i = find_macro(c, s, len)) >= 0) {
        check_macro(k, n, (uint32_t)i);
        return;
    }
    if (find_kind(c, s, len) >= 0) {
        error *err = fail_at(k, n, ERR_NAME, "'%s' is a kind of signal, not a condition", s);
        if (err) error_hint(err, "count it over a window: count(%s, 14d) >= 1", s);
        return;
    }
    static const struct {
        const char *word;
        uint8_t ref, type;
    } builtins[] = {{"score", REF_SCORE, TY_NUM}, {"points", REF_POINTS, TY_NUM},
                    {"now", REF_NOW, TY_TIME}};
    for (size_t b = 0; b < ARRAY_LEN(builtins); b++) {
        if (strlen(builtins[b].word) == len && memcmp(builtins[b].word, s, len) == 0) {
            if (!sees_history(k->ctx)) {
                refuse_here(k, n, builtins[b].word);
                return;
            }
            if (builtins[b].ref == REF_POINTS && !c->points.enabled) {
                error *err = fail_at(k, n, ERR_NAME, "'points' used but no points model is defined");
                if (err) error_hint(err, "add a 'points:' section with points per signal");
                return;
            }
            n->ref = builtins[b].ref;
            n->type = builtins[b].type;
            if (n->ref == REF_POINTS) c->about.reads_points = true;
            if (n->ref == REF_SCORE) c->about.reads_score = true;
            return;
        }
    }
    if (find_named(s, len, namespaces, ARRAY_LEN(namespaces), sizeof namespaces[0]) >= 0) {
        error *err = fail_at(k, n, ERR_NAME, "'%s' needs a field name", s);
        if (err) error_hint(err, "name a field, as in %s.%s", s,
                            strcmp(s, "account") == 0 ? "industry" : strcmp(s, "fit") == 0 ? "icp" : "name");
        return;
    }
    error *err = fail_at(k, n, ERR_NAME, "unknown name '%s'", s);
    const char *names[1024];
    size_t count = known_names(c, names, ARRAY_LEN(names));
    suggest(err, s, len, names, count);
}

/* An aggregate's target: a signal or a kind. */
static bool check_target(checker *k, node *arg, uint32_t *target)
{
    if (arg->kind != N_NAME || memchr(arg->lit.str.s, '.', arg->lit.str.len)) {
        fail_at(k, arg, ERR_TYPE, "expected a signal or a kind of signal here");
        return false;
    }
    int i = find_signal(k->c, arg->lit.str.s, arg->lit.str.len);
    if (i >= 0) {
        arg->ref = REF_SIGNAL;
        *target = (uint32_t)i;
    } else if ((i = find_kind(k->c, arg->lit.str.s, arg->lit.str.len)) >= 0) {
        arg->ref = REF_KIND;
        *target = CONTRACT_KIND_BASE + (uint32_t)i;
    } else {
        error *err = fail_at(k, arg, ERR_NAME, "unknown signal or kind '%s'", arg->lit.str.s);
        const char *names[CONTRACT_MAX_SIGNALS + CONTRACT_MAX_KINDS];
        size_t count = 0;
        for (uint32_t j = 0; j < k->c->signal_count; j++) names[count++] = k->c->signals[j].info.name;
        for (uint32_t j = 0; j < k->c->kind_count; j++) names[count++] = k->c->kinds[j].name;
        suggest(err, arg->lit.str.s, arg->lit.str.len, names, count);
        return false;
    }
    arg->index = *target;
    arg->type = TY_BOOL;
    return true;
}

static bool check_window(checker *k, node *arg)
{
    if (arg->kind != N_DUR) {
        error *err = fail_at(k, arg, ERR_TYPE, "the window must be a duration such as 14d");
        if (err) error_hint(err, "units are ms, s, m, h, d and w");
        return false;
    }
    arg->type = TY_DUR;
    if (arg->lit.ms <= 0) {
        fail_at(k, arg, ERR_VALUE, "the window must be longer than zero");
        return false;
    }
    if (arg->lit.ms > k->c->about.history) k->c->about.history = arg->lit.ms;
    if (arg->lit.ms > k->c->about.retention) {
        char w[32], r[32];
        duration_format(arg->lit.ms, w, sizeof w);
        duration_format(k->c->about.retention, r, sizeof r);
        error *err = fail_at(k, arg, ERR_WINDOW, "window %s is longer than the retention of %s", w, r);
        if (err) error_hint(err, "raise 'retention:' to at least %s, or shorten the window", w);
        return false;
    }
    return true;
}

static bool check_scope_word(checker *k, node *arg, const char *want_one, uint8_t *scope)
{
    if (arg->kind == N_NAME && arg->lit.str.len == 4 && memcmp(arg->lit.str.s, "lead", 4) == 0) {
        *scope = AGG_LEAD;
    } else if (arg->kind == N_NAME && arg->lit.str.len == 7 &&
               memcmp(arg->lit.str.s, "account", 7) == 0) {
        *scope = AGG_ACCOUNT;
    } else {
        error *err = fail_at(k, arg, ERR_TYPE, "expected %s here", want_one);
        (void)err;
        return false;
    }
    arg->ref = REF_SCOPE;
    arg->type = TY_STR;
    return true;
}

static void check_call(checker *k, node *n)
{
    const char *f = n->lit.str.s;
    int which = find_named(f, n->lit.str.len, functions, ARRAY_LEN(functions), sizeof functions[0]);
    if (which < 0) {
        error *err = fail_at(k, n, ERR_NAME, "unknown function '%s'", f);
        suggest(err, f, n->lit.str.len, functions, ARRAY_LEN(functions));
        if (err && !err->hint[0])
            error_hint(err, "functions are count, last, since, distinct and exists");
        return;
    }
    static const struct {
        uint8_t min, max;
        const char *usage;
    } shapes[] = {
        {2, 3, "count(signal or kind, window[, lead|account])"},
        {1, 1, "last(signal or kind)"},
        {1, 1, "since(signal or kind)"},
        {3, 3, "distinct(lead, signal or kind, window)"},
        {1, 1, "exists(field)"},
    };
    if (n->nargs < shapes[which].min || n->nargs > shapes[which].max) {
        error *err;
        if (shapes[which].max > shapes[which].min)
            err = fail_at(k, n, ERR_TYPE, "%s takes %u or %u arguments, not %u", f, shapes[which].min,
                          shapes[which].max, n->nargs);
        else
            err = fail_at(k, n, ERR_TYPE, "%s takes %u argument%s, not %u", f, shapes[which].min,
                          shapes[which].min == 1 ? "" : "s", n->nargs);
        if (err) error_hint(err, "write %s", shapes[which].usage);
        return;
    }
    if (which != 4 && !sees_history(k->ctx)) {
        char what[32];
        snprintf(what, sizeof what, "%s()", f);
        refuse_here(k, n, what);
        return;
    }
    uint32_t target = 0;
    uint8_t scope = AGG_LEAD;
    switch (which) {
    case 0: /* count */
        if (!check_target(k, n->args[0], &target) || !check_window(k, n->args[1])) return;
        if (n->nargs == 3 && !check_scope_word(k, n->args[2], "'lead' or 'account'", &scope))
            return;
        n->type = TY_NUM;
        break;
    case 1: /* last */
    case 2: /* since */
        k->c->looks_back = true;
        if (!check_target(k, n->args[0], &target)) return;
        n->type = which == 1 ? TY_TIME : TY_DUR;
        break;
    case 3: /* distinct */
        if (!check_scope_word(k, n->args[0], "'lead' (distinct counts people)", &scope)) return;
        if (scope != AGG_LEAD) {
            fail_at(k, n->args[0], ERR_TYPE, "distinct counts leads: write distinct(lead, ...)");
            return;
        }
        if (!check_target(k, n->args[1], &target) || !check_window(k, n->args[2])) return;
        n->type = TY_NUM;
        break;
    case 4: /* exists */
        if (n->args[0]->kind != N_NAME) {
            fail_at(k, n->args[0], ERR_TYPE, "exists() takes a field, as in exists(lead.pain)");
            return;
        }
        check_name(k, n->args[0]);
        if (n->args[0]->ref != REF_FIELD) {
            if (k->ok)
                fail_at(k, n->args[0], ERR_TYPE, "exists() takes a field, as in exists(lead.pain)");
            return;
        }
        n->type = TY_BOOL;
        break;
    }
    n->index = target;
    n->op = scope;
}

/* A list literal: strings only, interned into an anonymous list. */
static void check_list_literal(checker *k, node *n)
{
    for (uint32_t i = 0; i < n->nargs; i++) {
        if (n->args[i]->kind != N_STR) {
            fail_at(k, n->args[i], ERR_TYPE, "list items must be quoted text");
            return;
        }
        n->args[i]->type = TY_STR;
    }
    n->type = TY_LIST;
}

static bool is_text(uint8_t t)
{
    return t == TY_STR || t == TY_ANY;
}

static void type_mismatch(checker *k, node *n, const char *op)
{
    error *err = fail_at(k, n, ERR_TYPE, "'%s' cannot combine %s with %s", op, type_name(n->a->type),
                         type_name(n->b->type));
    if (!err) return;
    if (n->a->type == TY_NUM && n->b->kind == N_STR)
        error_hint(err, "write the number without quotes");
    else if (n->a->type == TY_STR && n->b->kind == N_NUM)
        error_hint(err, "quote the text: \"%g\"", n->b->lit.num);
    else if ((n->a->type == TY_DUR || n->b->type == TY_DUR) &&
             (n->a->kind == N_NUM || n->b->kind == N_NUM))
        error_hint(err, "give the number a unit, as in 90s or 14d");
    else if (n->op == OP_AND || n->op == OP_OR)
        error_hint(err, "both sides of '%s' must be conditions", op);
}

static void check_regex(checker *k, node *pattern)
{
    if (pattern->kind != N_STR) {
        fail_at(k, pattern, ERR_TYPE, "'matches' needs a quoted pattern on its right");
        return;
    }
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern->lit.str.s, pattern->lit.str.len,
                                   PCRE2_UTF | PCRE2_NO_AUTO_CAPTURE, &code, &at, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(code, msg, sizeof msg);
        /* Point into the pattern: +1 for the opening quote. */
        node where = *pattern;
        where.start = pattern->start + 1 + (uint32_t)at;
        where.len = 1;
        if (where.start >= pattern->start + pattern->len) where.start = pattern->start + pattern->len - 1;
        error *err = fail_at(k, &where, ERR_REGEX, "bad regular expression: %s", (char *)msg);
        if (err) error_hint(err, "patterns are PCRE2; escape a backslash twice inside quotes");
        return;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    contract *c = k->c;
    if (c->regex_count == c->regex_cap) {
        uint32_t cap = c->regex_cap ? 2 * c->regex_cap : 8;
        regex_def *bigger = arena_alloc(c->arena, cap * sizeof *bigger);
        if (!bigger) {
            pcre2_code_free(re);
            fail_at(k, pattern, ERR_NOMEM, "out of memory");
            return;
        }
        if (c->regex_count) memcpy(bigger, c->regexes, c->regex_count * sizeof *bigger);
        c->regexes = bigger;
        c->regex_cap = cap;
    }
    regex_def *r = &c->regexes[c->regex_count];
    r->code = re;
    r->match_data = pcre2_match_data_create_from_pattern(re, NULL);
    if (!r->match_data) {
        pcre2_code_free(re);
        fail_at(k, pattern, ERR_NOMEM, "out of memory");
        return;
    }
    pattern->index = c->regex_count++;
}

static void check_binary(checker *k, node *n)
{
    const char *op = binop_spelling(n->op);
    uint8_t a = n->a->type, b = n->b->type;
    switch (n->op) {
    case OP_AND:
    case OP_OR:
        if ((a != TY_BOOL && a != TY_ANY) || (b != TY_BOOL && b != TY_ANY)) {
            type_mismatch(k, n, op);
            return;
        }
        n->type = TY_BOOL;
        return;
    case OP_EQ:
    case OP_NE:
        if (a == TY_LIST || b == TY_LIST) {
            error *err = fail_at(k, n, ERR_TYPE, "'%s' cannot compare with a list", op);
            if (err) error_hint(err, "test membership with 'in'");
            return;
        }
        if (a != b && a != TY_ANY && b != TY_ANY) {
            type_mismatch(k, n, op);
            return;
        }
        n->type = TY_BOOL;
        return;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: {
        bool ordered_a = a == TY_NUM || a == TY_DUR || a == TY_TIME || a == TY_ANY;
        bool ordered_b = b == TY_NUM || b == TY_DUR || b == TY_TIME || b == TY_ANY;
        if (!ordered_a || !ordered_b || (a != b && a != TY_ANY && b != TY_ANY)) {
            type_mismatch(k, n, op);
            return;
        }
        n->type = TY_BOOL;
        return;
    }
    case OP_IN:
    case OP_NOT_IN:
    case OP_MENTIONS:
        if (b != TY_LIST) {
            error *err = fail_at(k, n->b, ERR_TYPE, "'%s' needs a list on its right, not %s", op,
                                 type_name(b));
            if (err) error_hint(err, "name a list from 'lists:' or write one: [\"a\", \"b\"]");
            return;
        }
        if (!is_text(a)) {
            fail_at(k, n->a, ERR_TYPE, "'%s' needs text on its left, not %s", op, type_name(a));
            return;
        }
        n->type = TY_BOOL;
        return;
    case OP_STARTS_WITH:
    case OP_ENDS_WITH:
    case OP_CONTAINS:
    case OP_MATCHES:
        if (!is_text(a) || !is_text(b)) {
            type_mismatch(k, n, op);
            return;
        }
        if (n->op == OP_MATCHES) check_regex(k, n->b);
        n->type = TY_BOOL;
        return;
    case OP_ADD:
    case OP_SUB: {
        uint8_t r = TY_ERROR;
        if (a == TY_ANY || b == TY_ANY) r = a == TY_ANY ? (b == TY_ANY ? TY_NUM : b) : a;
        else if (a == TY_NUM && b == TY_NUM) r = TY_NUM;
        else if (a == TY_DUR && b == TY_DUR) r = TY_DUR;
        else if (a == TY_TIME && b == TY_DUR) r = TY_TIME;
        else if (a == TY_DUR && b == TY_TIME && n->op == OP_ADD) r = TY_TIME;
        else if (a == TY_TIME && b == TY_TIME && n->op == OP_SUB) r = TY_DUR;
        if (r == TY_ERROR || r == TY_BOOL || r == TY_STR || r == TY_LIST) {
            type_mismatch(k, n, op);
            return;
        }
        n->type = r;
        return;
    }
    case OP_MUL:
    case OP_DIV: {
        uint8_t r = TY_ERROR;
        if (a == TY_ANY || b == TY_ANY) r = (a == TY_DUR || b == TY_DUR) ? TY_DUR : TY_NUM;
        else if (a == TY_NUM && b == TY_NUM) r = TY_NUM;
        else if (a == TY_DUR && b == TY_NUM) r = TY_DUR;
        else if (a == TY_NUM && b == TY_DUR && n->op == OP_MUL) r = TY_DUR;
        if (r == TY_ERROR) {
            type_mismatch(k, n, op);
            return;
        }
        n->type = r;
        return;
    }
    }
}

/* Checks a node and its children; false leaves n->type as TY_ERROR. */
static bool check_node(checker *k, node *n)
{
    bool before = k->ok;
    k->ok = true;
    switch (n->kind) {
    case N_BOOL: n->type = TY_BOOL; break;
    case N_NUM: n->type = TY_NUM; break;
    case N_STR: n->type = TY_STR; break;
    case N_DUR: n->type = TY_DUR; break;
    case N_TIME: n->type = TY_TIME; break;
    case N_LIST: check_list_literal(k, n); break;
    case N_NAME: check_name(k, n); break;
    case N_CALL: check_call(k, n); break;
    case N_NOT:
        if (check_node(k, n->a)) {
            if (n->a->type != TY_BOOL && n->a->type != TY_ANY) {
                error *err = fail_at(k, n->a, ERR_TYPE, "'not' needs a condition, not %s",
                                     type_name(n->a->type));
                if (err && n->a->type == TY_LIST) error_hint(err, "write 'x not in list'");
            } else {
                n->type = TY_BOOL;
            }
        }
        break;
    case N_NEG:
        if (check_node(k, n->a)) {
            if (n->a->type != TY_NUM && n->a->type != TY_DUR && n->a->type != TY_ANY)
                fail_at(k, n, ERR_TYPE, "'-' needs a number or a duration, not %s",
                        type_name(n->a->type));
            else
                n->type = n->a->type == TY_ANY ? TY_NUM : n->a->type;
        }
        break;
    case N_BINARY: {
        bool left = check_node(k, n->a);
        bool right = check_node(k, n->b);
        if (left && right) check_binary(k, n);
        break;
    }
    }
    if (k->ok && n->type == TY_ERROR) k->ok = false;
    bool ok = k->ok;
    k->ok = before && ok;
    return ok;
}

bool check_expr(contract *c, errors *errs, expr *e, enum expr_context ctx, enum type want)
{
    if (!e->root) return false;
    checker k = {.c = c, .errs = errs, .e = e, .ctx = ctx, .ok = true};
    if (!check_node(&k, e->root)) return false;
    uint8_t got = e->root->type;
    if (want == TY_BOOL && got != TY_BOOL && got != TY_ANY) {
        error *err = fail_at(&k, e->root, ERR_TYPE, "a condition must be true or false, but this is %s",
                             type_name(got));
        if (err) {
            if (got == TY_NUM) error_hint(err, "compare it, as in ... >= 1");
            else if (got == TY_LIST) error_hint(err, "test membership, as in account.industry in ...");
            else if (got == TY_STR) error_hint(err, "compare it, as in ... == \"pricing\"");
        }
        return false;
    }
    if (got == TY_LIST && want != TY_LIST) { /* TY_LIST: a macro may stand for a list */
        fail_at(&k, e->root, ERR_TYPE, "a list cannot stand alone here");
        return false;
    }
    return true;
}

/* ---- which gates need re-evaluating -------------------------------------------
 * A condition is monotone when, with no new hit and no change of lead or
 * account fields, the passing of time can only turn it from true to false:
 * counts over windows shrink, `since` grows, points decay. */

/* Reads nothing that changes between events except lead and account fields. */
static bool static_only(const contract *c, const node *n)
{
    switch (n->kind) {
    case N_BOOL: case N_NUM: case N_STR: case N_DUR: case N_TIME: case N_LIST: return true;
    case N_NAME:
        switch (n->ref) {
        case REF_FIELD: return c->fields[n->index].scope != SCOPE_EVENT;
        case REF_FIT: case REF_LIST: case REF_SCORE: return true;
        case REF_MACRO: return c->macros[n->index].body.root && static_only(c, c->macros[n->index].body.root);
        default: return false;
        }
    case N_NOT: case N_NEG: return static_only(c, n->a);
    case N_BINARY: return static_only(c, n->a) && static_only(c, n->b);
    default: return false;
    }
}

static bool call_named(const node *n, const char *name)
{
    return n->kind == N_CALL && strcmp(n->lit.str.s, name) == 0;
}

bool expr_monotone(const contract *c, const node *n)
{
    for (int guard = 0; n->kind == N_NAME && n->ref == REF_MACRO && guard < CONTRACT_MAX_DEPTH; guard++) {
        if (!c->macros[n->index].body.root) return false;
        n = c->macros[n->index].body.root;
    }
    if (static_only(c, n)) return true;
    if (n->kind == N_NAME) return n->ref == REF_SIGNAL; /* true only for the event that hit it */
    if (n->kind != N_BINARY) return false;
    if (n->op == OP_AND || n->op == OP_OR) return expr_monotone(c, n->a) && expr_monotone(c, n->b);
    bool lower = n->op == OP_GE || n->op == OP_GT, upper = n->op == OP_LE || n->op == OP_LT;
    if (!static_only(c, n->b)) return false;
    const node *a = n->a;
    if (lower && (call_named(a, "count") || call_named(a, "distinct"))) return true;
    if (lower && a->kind == N_NAME && (a->ref == REF_POINTS || a->ref == REF_SCORE)) return true;
    if (upper && call_named(a, "since")) return true;
    return false;
}

static void read_signal(const contract *c, uint32_t target, uint64_t *signals)
{
    for (uint32_t s = 0; s < c->signal_count; s++) {
        bool read = target >= CONTRACT_KIND_BASE ? c->signals[s].info.kind == target - CONTRACT_KIND_BASE
                                                 : s == target;
        if (read) signals[s / 64] |= UINT64_C(1) << (s % 64);
    }
}

bool expr_hit_reads(const contract *c, const node *n, uint64_t *signals)
{
    bool every = false;
    switch (n->kind) {
    case N_NAME:
        if (n->ref == REF_SIGNAL) read_signal(c, n->index, signals);
        else if (n->ref == REF_SCORE || n->ref == REF_POINTS) every = true;
        else if (n->ref == REF_MACRO && c->macros[n->index].body.root)
            every = expr_hit_reads(c, c->macros[n->index].body.root, signals);
        break;
    case N_CALL:
        if (strcmp(n->lit.str.s, "count") == 0 || strcmp(n->lit.str.s, "distinct") == 0 ||
            strcmp(n->lit.str.s, "since") == 0 || strcmp(n->lit.str.s, "last") == 0)
            read_signal(c, n->index, signals); /* the target, which its argument only names */
        for (uint32_t i = 0; i < n->nargs; i++) {
            const node *a = n->args[i];
            if (a->kind != N_NAME || (a->ref != REF_SIGNAL && a->ref != REF_KIND))
                every |= expr_hit_reads(c, a, signals);
        }
        break;
    case N_LIST:
        for (uint32_t i = 0; i < n->nargs; i++) every |= expr_hit_reads(c, n->args[i], signals);
        break;
    case N_NOT:
    case N_NEG: every = expr_hit_reads(c, n->a, signals); break;
    case N_BINARY: every = expr_hit_reads(c, n->a, signals) | expr_hit_reads(c, n->b, signals); break;
    default: break;
    }
    return every;
}

/* ---- unreachable gates -----------------------------------------------------
 * Gate B can never fire when gate A comes first and A holds whenever B does
 * (B implies A). The test is structural and sound: it proves implication
 * only from the shape of the two conditions, never guesses. */

static bool same_node(const node *x, const node *y)
{
    if (x->kind != y->kind || x->op != y->op || x->nargs != y->nargs) return false;
    switch (x->kind) {
    case N_BOOL: return x->lit.b == y->lit.b;
    case N_NUM: return x->lit.num == y->lit.num;
    case N_DUR:
    case N_TIME: return x->lit.ms == y->lit.ms;
    case N_STR:
    case N_NAME:
        return x->lit.str.len == y->lit.str.len &&
               memcmp(x->lit.str.s, y->lit.str.s, x->lit.str.len) == 0;
    case N_CALL:
        if (x->lit.str.len != y->lit.str.len ||
            memcmp(x->lit.str.s, y->lit.str.s, x->lit.str.len) != 0)
            return false;
        /* fall through */
    case N_LIST:
        for (uint32_t i = 0; i < x->nargs; i++)
            if (!same_node(x->args[i], y->args[i])) return false;
        return true;
    case N_NOT:
    case N_NEG: return same_node(x->a, y->a);
    case N_BINARY: return same_node(x->a, y->a) && same_node(x->b, y->b);
    }
    return false;
}

static const node *unmacro(const contract *c, const node *n)
{
    for (int guard = 0; n->kind == N_NAME && n->ref == REF_MACRO && guard < CONTRACT_MAX_DEPTH;
         guard++) {
        const node *body = c->macros[n->index].body.root;
        if (!body) break;
        n = body;
    }
    return n;
}

/* `lhs >= x` implies `lhs >= y` when x >= y (and the same for >). */
static bool threshold_implies(const node *b, const node *a)
{
    if (b->kind != N_BINARY || a->kind != N_BINARY) return false;
    bool b_lower = b->op == OP_GE || b->op == OP_GT, a_lower = a->op == OP_GE || a->op == OP_GT;
    bool b_upper = b->op == OP_LE || b->op == OP_LT, a_upper = a->op == OP_LE || a->op == OP_LT;
    if (!((b_lower && a_lower) || (b_upper && a_upper))) return false;
    if (b->b->kind != N_NUM || a->b->kind != N_NUM || !same_node(b->a, a->a)) return false;
    double x = b->b->lit.num, y = a->b->lit.num;
    if (b_lower) return x > y || (x == y && (b->op == OP_GT || a->op == OP_GE));
    return x < y || (x == y && (b->op == OP_LT || a->op == OP_LE));
}

/* Does b imply a? `budget` bounds the work: nested macros could otherwise
 * make the search exponential. Out of budget, the answer is "not proven". */
static bool implies(const contract *c, const node *b, const node *a, int depth, unsigned *budget)
{
    if (depth > CONTRACT_MAX_DEPTH || *budget == 0) return false;
    --*budget;
    b = unmacro(c, b);
    a = unmacro(c, a);
    if (a->kind == N_BOOL && a->lit.b) return true;
    if (same_node(b, a) || threshold_implies(b, a)) return true;
    if (a->kind == N_BINARY && a->op == OP_OR)
        if (implies(c, b, a->a, depth + 1, budget) || implies(c, b, a->b, depth + 1, budget)) return true;
    if (a->kind == N_BINARY && a->op == OP_AND)
        if (implies(c, b, a->a, depth + 1, budget) && implies(c, b, a->b, depth + 1, budget)) return true;
    if (b->kind == N_BINARY && b->op == OP_AND)
        if (implies(c, b->a, a, depth + 1, budget) || implies(c, b->b, a, depth + 1, budget)) return true;
    if (b->kind == N_BINARY && b->op == OP_OR)
        if (implies(c, b->a, a, depth + 1, budget) && implies(c, b->b, a, depth + 1, budget)) return true;
    return false;
}

void check_gates_reachable(contract *c, errors *errs)
{
    for (uint32_t j = 1; j < c->gate_count; j++) {
        const gate_def *later = &c->gates[j];
        if (!later->e.when.root) continue;
        for (uint32_t i = 0; i < j; i++) {
            const gate_def *earlier = &c->gates[i];
            if (!earlier->e.when.root || strcmp(earlier->info.name, later->info.name) == 0) continue;
            unsigned budget = 20000;
            if (!implies(c, later->e.when.root, earlier->e.when.root, 0, &budget)) continue;
            uint32_t line, col;
            errors_position(errs, earlier->e.offset, &line, &col);
            error *err = errors_add(errs, ERR_UNREACHABLE, later->e.offset,
                                    (uint32_t)strlen(later->info.name),
                                    "gate '%s' can never fire: gate '%s' (line %u) holds whenever it does",
                                    later->info.name, earlier->info.name, line);
            error_hint(err, "move '%s' above '%s', or narrow '%s'", later->info.name,
                       earlier->info.name, earlier->info.name);
            break;
        }
    }
}
