/* contract_explain(): the contract in plain words, for the people who sign it.
 *
 * Design notes.
 *   1. Pure: it reads a checked contract and only appends to `out`. Scratch
 *      buffers are its own and are freed before it returns; when one of them
 *      runs out of memory, `out->oom` is set so the caller can tell.
 *   2. Expressions are rendered from the checked syntax trees, not from the
 *      bytecode: names are resolved (node.ref, node.index) and a macro is
 *      followed to its body, so the reader sees what a macro means rather
 *      than what it is called. A fit predicate that is a single test is
 *      inlined the same way; a compound one is named.
 *   3. Wording is table-driven: operators map to phrases (op_words), kinds
 *      to what they say about a buyer (kind_words), template words to what
 *      they stand for (template_words). A negation is pushed inward (De
 *      Morgan), so English never needs "it is not so that (... and ...)".
 *   4. Macros may use macros, so inlining is exponential in the worst case:
 *      each expression may inline RENDER_INLINE bodies, and names the rest;
 *      walks that only ask "does it read X" visit each macro once.
 *   5. Runs that read better together are merged: `a or b` over signals
 *      ("this event is a pricing deep dive or a demo request"), `x == "a" or
 *      x == "b"` ("x is "a" or "b""), and counts over one window ("the lead
 *      had at least 5 engagement signals and at least 1 webinar in the last
 *      30 days"). "either" and "both" appear only where and/or nest.
 *   6. Paragraphs are wrapped at WRAP_COLUMNS with a hanging indent; anything
 *      that searches the output should collapse whitespace first. */
#include "contract/internal.h"

#include <string.h>

#define WRAP_COLUMNS 80
#define LIST_SHOWN 12     /* list items spelled out before "or N others" */
#define HOLIDAYS_SHOWN 20 /* holidays spelled out before "and N more" */
#define RENDER_DEPTH 256  /* nesting the renderer follows before it gives up */
#define RENDER_INLINE 128 /* macro bodies inlined in one expression; then by name */

enum nest { NEST_TOP, NEST_AND, NEST_OR }; /* the list a condition sits in */

/* ---- small writers -------------------------------------------------------- */

static void clear(strbuf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

/* Screen columns of UTF-8 text: continuation bytes take none. */
static size_t columns(const char *s, size_t n)
{
    size_t cols = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80) cols++;
    return cols;
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\n' || ch == '\t';
}

/* Writes `first`, then the words of `text` wrapped at WRAP_COLUMNS, every
 * further line indented by `indent` spaces; ends with a newline. */
static void put_wrapped(strbuf *out, const char *text, const char *first, size_t indent)
{
    strbuf_puts(out, first);
    size_t col = columns(first, strlen(first));
    bool empty = true;
    const char *p = text ? text : "";
    while (*p) {
        while (is_space(*p)) p++;
        if (!*p) break;
        const char *w = p;
        while (*p && !is_space(*p)) p++;
        size_t len = (size_t)(p - w), cols = columns(w, len);
        if (!empty && col + 1 + cols > WRAP_COLUMNS) {
            strbuf_putc(out, '\n');
            for (size_t i = 0; i < indent; i++) strbuf_putc(out, ' ');
            col = indent;
            empty = true;
        }
        if (!empty) {
            strbuf_putc(out, ' ');
            col++;
        }
        strbuf_append(out, w, len);
        col += cols;
        empty = false;
    }
    strbuf_putc(out, '\n');
}

/* The separator before item i of n: nothing, ", " or " and " / " or ". */
static void put_sep(strbuf *b, size_t i, size_t n, const char *conj, bool oxford)
{
    if (i == 0) return;
    if (i + 1 < n) strbuf_puts(b, ", ");
    else strbuf_printf(b, "%s %s ", oxford ? "," : "", conj);
}

/* The first n bytes of a name in words: "pricing_deep_dive" -> "pricing deep dive". */
static void put_words_n(strbuf *b, const char *name, size_t n, bool capital)
{
    for (size_t i = 0; i < n && name[i]; i++) {
        char ch = name[i] == '_' || name[i] == '.' ? ' ' : name[i];
        if (i == 0 && capital && ch >= 'a' && ch <= 'z') ch = (char)(ch - 'a' + 'A');
        strbuf_putc(b, ch);
    }
}

static void put_words(strbuf *b, const char *name, bool capital)
{
    put_words_n(b, name, strlen(name), capital);
}

static void put_num(strbuf *b, double v)
{
    strbuf_printf(b, "%.15g", v);
}

static void put_quoted(strbuf *b, const char *s, size_t n)
{
    strbuf_putc(b, '"');
    strbuf_append(b, s, n);
    strbuf_putc(b, '"');
}

/* "14 days", "1 hour", "90 seconds": duration_format()'s unit in words. */
static void put_duration(strbuf *b, duration_ms d, bool drop_one)
{
    static const struct {
        const char *suffix, *word;
    } units[] = {{"ms", "millisecond"}, {"w", "week"},   {"d", "day"},
                 {"h", "hour"},         {"m", "minute"}, {"s", "second"}};
    char buf[48];
    duration_format(d, buf, sizeof buf);
    size_t digits = 0;
    while (buf[digits] == '-' || (buf[digits] >= '0' && buf[digits] <= '9')) digits++;
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcmp(buf + digits, units[i].suffix) != 0) continue;
        bool one = digits == 1 && buf[0] == '1';
        if (one && drop_one) strbuf_puts(b, units[i].word);
        else strbuf_printf(b, "%.*s %s%s", (int)digits, buf, units[i].word, one ? "" : "s");
        return;
    }
    strbuf_puts(b, buf);
}

/* "in the last 14 days", "in the last day". */
static void put_window(strbuf *b, duration_ms d)
{
    strbuf_puts(b, "in the last ");
    put_duration(b, d, true);
}

static void put_date(strbuf *b, int64_t days)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t y = 1970 + days / 366;
    while (days_from_civil(y, 1, 1) > days) y--;
    while (days_from_civil(y + 1, 1, 1) <= days) y++;
    unsigned m = 12;
    while (m > 1 && days_from_civil(y, m, 1) > days) m--;
    int64_t d = days - days_from_civil(y, m, 1) + 1;
    strbuf_printf(b, "%lld %s %lld", (long long)d, months[m - 1], (long long)y);
}

static void put_time(strbuf *b, time_ms t)
{
    if (t % MS_PER_DAY == 0) {
        put_date(b, t / MS_PER_DAY);
        return;
    }
    char buf[48];
    time_format(t, buf, sizeof buf);
    strbuf_puts(b, buf);
}

static void put_clock(strbuf *b, uint16_t minutes)
{
    strbuf_printf(b, "%02u:%02u", minutes / 60u, minutes % 60u);
}

/* ---- names of things ---------------------------------------------------------- */

static const node *follow(const contract *c, const node *n)
{
    for (int guard = 0; n && n->kind == N_NAME && n->ref == REF_MACRO && guard < CONTRACT_MAX_MACROS;
         guard++) {
        const node *body = c->macros[n->index].body.root;
        if (!body) break;
        n = body;
    }
    return n;
}

static bool word_in(const char *w, size_t n, const char *const *words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(words[i]) == n && memcmp(words[i], w, n) == 0) return true;
    return false;
}

/* Does a signal's name read as a countable noun ("demo request") rather
 * than as a verb or a mass noun ("ran workload", "risk language")? Those
 * that do not are spoken of as "a 'ran workload' signal". A heuristic: a
 * wrong guess only costs the quotes. */
static bool noun_like(const char *name)
{
    static const char *const not_past[] = {"need", "feed", "seed", "speed"};
    static const char *const verbs[] = {"ran",  "did",  "made", "took", "saw",   "got",    "sent",
                                        "won",  "lost", "went", "came", "gave",  "wrote",  "spoke",
                                        "met",  "paid", "bought", "began", "chose"};
    static const char *const mass[] = {"language", "data",      "usage",      "traffic", "feedback",
                                       "interest", "activity",  "engagement", "intent",  "behaviour",
                                       "behavior", "research",  "content",    "pricing", "news"};
    const char *end = name + strlen(name);
    const char *first_end = strchr(name, '_');
    if (!first_end) first_end = end;
    const char *last = strrchr(name, '_');
    last = last ? last + 1 : name;
    for (const char *w = name; w < end;) {
        const char *e = strchr(w, '_');
        if (!e) e = end;
        size_t n = (size_t)(e - w);
        if (n >= 4 && w[n - 2] == 'e' && w[n - 1] == 'd' &&
            !word_in(w, n, not_past, ARRAY_LEN(not_past)))
            return false;
        w = *e ? e + 1 : e;
    }
    if (word_in(name, (size_t)(first_end - name), verbs, ARRAY_LEN(verbs))) return false;
    if (word_in(last, (size_t)(end - last), mass, ARRAY_LEN(mass))) return false;
    return true;
}

/* The plural of a name's last word: "reply" -> "replies", "dive" -> "dives". */
static void put_plural_words(strbuf *b, const char *name)
{
    size_t n = strlen(name);
    char last = n ? name[n - 1] : 0, before = n > 1 ? name[n - 2] : 0;
    bool vowel = strchr("aeiou", before) != NULL;
    if (last == 'y' && !vowel) {
        put_words_n(b, name, n - 1, false);
        strbuf_puts(b, "ies");
        return;
    }
    put_words(b, name, false);
    bool sibilant = last == 's' || last == 'x' || last == 'z' ||
                    ((last == 'h') && (before == 'c' || before == 's'));
    strbuf_puts(b, sibilant ? "es" : "s");
}

/* A signal or a kind as a noun: "intent signals", "webinars",
 * "'ran workload' signals". */
static void put_target(strbuf *b, const contract *c, uint32_t target, bool plural)
{
    if (target >= CONTRACT_KIND_BASE) {
        uint32_t k = target - CONTRACT_KIND_BASE;
        put_words(b, k < c->kind_count ? c->kinds[k].name : "unknown", false);
        strbuf_puts(b, plural ? " signals" : " signal");
        return;
    }
    const char *name = target < c->signal_count ? c->signals[target].info.name : "unknown";
    if (!noun_like(name)) {
        strbuf_putc(b, '\'');
        put_words(b, name, false);
        strbuf_puts(b, plural ? "' signals" : "' signal");
    } else if (plural) {
        put_plural_words(b, name);
    } else {
        put_words(b, name, false);
    }
}

/* "a pricing deep dive", "an email open", "an intent signal". */
static void put_a_target(strbuf *b, const contract *c, uint32_t target)
{
    strbuf tmp;
    strbuf_init(&tmp);
    put_target(&tmp, c, target, false);
    const char *s = tmp.data ? tmp.data : "";
    char ch = s[0] == '\'' ? s[1] : s[0];
    strbuf_puts(b, ch && strchr("aeiou", ch) ? "an " : "a ");
    strbuf_puts(b, s);
    if (tmp.oom) b->oom = true;
    strbuf_free(&tmp);
}

/* What each built-in kind says about a buyer; kinds a contract adds have
 * no row and are described as such. */
static const struct {
    const char *kind;
    const char *meaning; /* in the signals section */
    const char *did;     /* distinct(lead, kind, w): "2 people at the account ..." */
} kind_words[] = {
    {"intent", "a buying behaviour, not learning", "showed intent"},
    {"activation", "a product action showing the buyer is solving a problem now",
     "took a product action"},
    {"reply", "the buyer answering a person", "replied to a person"},
    {"engagement", "interest that adds up over time", "engaged"},
};

static int kind_word_index(const char *kind)
{
    for (size_t i = 0; i < ARRAY_LEN(kind_words); i++)
        if (strcmp(kind_words[i].kind, kind) == 0) return (int)i;
    return -1;
}

/* A field path as a noun: "the account's industry", "the event's asset". */
static void put_field(strbuf *b, const char *path)
{
    const char *phrase = field_phrase(path);
    size_t pl = strlen(phrase);
    if (phrase == path || strcmp(phrase, path) == 0) {
        put_words(b, path, false);
        return;
    }
    strbuf_puts(b, phrase);
    if (pl >= 2 && phrase[pl - 2] == '\'' && phrase[pl - 1] == 's') {
        /* A prefix entry ("properties.*"): name the rest of the path. */
        const char *rest = strchr(path, '.');
        rest = rest ? rest + 1 : path;
        if (strncmp(path, "lead.traits.", 12) == 0 || strncmp(path, "account.traits.", 15) == 0)
            rest = strchr(rest, '.') + 1;
        strbuf_putc(b, ' ');
        put_words(b, rest, false);
    }
}

/* The items of a list: "software, fintech or healthtech". */
static void put_list_items(strbuf *b, const contract *c, const node *n, const char *conj)
{
    const char *const *items = NULL;
    const char *name = NULL;
    uint32_t count = 0;
    if (n->kind == N_NAME && n->ref == REF_LIST && n->index < c->list_count) {
        items = c->lists[n->index].items;
        count = c->lists[n->index].count;
        name = c->lists[n->index].name;
    }
    uint32_t literal = n->kind == N_LIST ? n->nargs : 0;
    uint32_t total = items ? count : literal;
    uint32_t shown = total > LIST_SHOWN ? LIST_SHOWN : total;
    if (total == 0) {
        strbuf_puts(b, "(an empty list)");
        return;
    }
    for (uint32_t i = 0; i < shown; i++) {
        put_sep(b, i, shown == total ? total : shown + 1, conj, false);
        if (items) strbuf_puts(b, items[i]);
        else strbuf_append(b, n->args[i]->lit.str.s, n->args[i]->lit.str.len);
    }
    if (shown < total) {
        strbuf_printf(b, " %s any of %u others", conj, total - shown);
        if (name) strbuf_printf(b, " in the list '%s'", name);
    }
}

/* ---- operators --------------------------------------------------------------
 * One row per binary operator: how it reads between two values, negated,
 * before a number of things, and between two moments. `opposite` is the
 * operator that says the contrary, so a negation can be folded into it. */
static const struct op_word {
    const char *is, *is_not;
    const char *amount;     /* "at least" 5 signals */
    const char *moment;     /* the time "is before" ... */
    const char *arithmetic; /* "plus" */
    int8_t opposite;        /* -1: none, use is_not */
} op_words[] = {
    [OP_OR] = {"or", "nor", NULL, NULL, NULL, -1},
    [OP_AND] = {"and", "and", NULL, NULL, NULL, -1},
    [OP_EQ] = {"is", "is not", "exactly", "is", NULL, OP_NE},
    [OP_NE] = {"is not", "is", "not exactly", "is not", NULL, OP_EQ},
    [OP_LT] = {"is less than", "is at least", "fewer than", "is before", NULL, OP_GE},
    [OP_LE] = {"is at most", "is more than", "at most", "is no later than", NULL, OP_GT},
    [OP_GT] = {"is more than", "is at most", "more than", "is after", NULL, OP_LE},
    [OP_GE] = {"is at least", "is less than", "at least", "is no earlier than", NULL, OP_LT},
    [OP_IN] = {"is one of", "is not one of", NULL, NULL, NULL, OP_NOT_IN},
    [OP_NOT_IN] = {"is not one of", "is one of", NULL, NULL, NULL, OP_IN},
    [OP_STARTS_WITH] = {"starts with", "does not start with", NULL, NULL, NULL, -1},
    [OP_ENDS_WITH] = {"ends with", "does not end with", NULL, NULL, NULL, -1},
    [OP_CONTAINS] = {"contains", "does not contain", NULL, NULL, NULL, -1},
    [OP_MATCHES] = {"matches the pattern", "does not match the pattern", NULL, NULL, NULL, -1},
    [OP_MENTIONS] = {"mentions", "does not mention", NULL, NULL, NULL, -1},
    [OP_ADD] = {NULL, NULL, NULL, NULL, "plus", -1},
    [OP_SUB] = {NULL, NULL, NULL, NULL, "minus", -1},
    [OP_MUL] = {NULL, NULL, NULL, NULL, "times", -1},
    [OP_DIV] = {NULL, NULL, NULL, NULL, "divided by", -1},
};

static bool is_comparison(uint8_t op)
{
    return op >= OP_EQ && op <= OP_GE;
}

/* `90 < x` reads as `x > 90`. */
static uint8_t mirror(uint8_t op)
{
    switch (op) {
    case OP_LT: return OP_GT;
    case OP_LE: return OP_GE;
    case OP_GT: return OP_LT;
    case OP_GE: return OP_LE;
    default: return op;
    }
}

static bool is_literal(const node *n)
{
    return n->kind == N_NUM || n->kind == N_STR || n->kind == N_DUR || n->kind == N_TIME ||
           n->kind == N_BOOL;
}

static bool call_is(const node *n, const char *name)
{
    return n->kind == N_CALL && strcmp(n->lit.str.s, name) == 0;
}

/* Can this value be missing when a rule runs: a field the event or the
 * account lacks, the score before a model exists, the time since a signal
 * that never happened? */
static bool may_be_missing(const node *a)
{
    if (a->kind == N_NAME) return a->ref == REF_FIELD || a->ref == REF_SCORE;
    return call_is(a, "since") || call_is(a, "last");
}

/* ---- expressions ------------------------------------------------------------ */

/* One expression being rendered: the contract, and how many more macro
 * bodies may be inlined. Shape tests (is it a count? a signal?) follow
 * macros freely with follow(), which never branches; everything that
 * renders both sides of a node goes through expand(), which pays. */
typedef struct speech {
    const contract *c;
    unsigned inline_left;
} speech;

static const node *expand(speech *sp, const node *n)
{
    while (n->kind == N_NAME && n->ref == REF_MACRO && sp->inline_left > 0) {
        const node *body = sp->c->macros[n->index].body.root;
        if (!body) break;
        sp->inline_left--;
        n = body;
    }
    return n;
}

static bool is_macro(const node *n)
{
    return n->kind == N_NAME && n->ref == REF_MACRO;
}

static void render_cond(speech *sp, const node *n, bool negate, int nest, strbuf *b, int depth);
static void render_value(speech *sp, const node *n, strbuf *b, int depth);

/* A comparison in the form of a count: `count(t, w[, scope]) OP number`,
 * possibly written the other way round or under a `not`. */
typedef struct count_clause {
    uint32_t target;
    uint8_t scope;
    duration_ms window;
    uint8_t op;
    double num;
} count_clause;

static bool as_count_clause(const contract *c, const node *n, bool negate, count_clause *cc)
{
    n = follow(c, n);
    if (n->kind == N_NOT) return as_count_clause(c, n->a, !negate, cc);
    if (n->kind != N_BINARY || !is_comparison(n->op)) return false;
    const node *a = follow(c, n->a), *r = follow(c, n->b);
    uint8_t op = n->op;
    if (a->kind == N_NUM) {
        const node *t = a;
        a = r;
        r = t;
        op = mirror(op);
    }
    if (!call_is(a, "count") || r->kind != N_NUM || a->nargs < 2 || a->args[1]->kind != N_DUR)
        return false;
    if (negate) op = (uint8_t)op_words[op].opposite;
    cc->target = a->index;
    cc->scope = a->op;
    cc->window = a->args[1]->lit.ms;
    cc->op = op;
    cc->num = r->lit.num;
    return true;
}

/* "at least 5 engagement signals", "no webinars". */
static void put_amount(strbuf *b, const contract *c, const count_clause *cc)
{
    uint8_t op = cc->op;
    double v = cc->num;
    if ((op == OP_LT && v == 1) || (op == OP_LE && v == 0) || (op == OP_EQ && v == 0)) {
        strbuf_puts(b, "no ");
        put_target(b, c, cc->target, true);
        return;
    }
    if ((op == OP_GT && v == 0) || (op == OP_NE && v == 0)) {
        op = OP_GE;
        v = 1;
    }
    strbuf_printf(b, "%s ", op_words[op].amount);
    put_num(b, v);
    strbuf_putc(b, ' ');
    put_target(b, c, cc->target, v != 1);
}

/* "the lead had A, B and C in the last 30 days"; counts over the account:
 * "there were A across the whole account in the last 14 days". */
static void put_count_group(strbuf *b, const contract *c, const count_clause *cc, size_t n)
{
    bool account = cc[0].scope == AGG_ACCOUNT;
    strbuf_puts(b, account ? "there were " : "the lead had ");
    for (size_t i = 0; i < n; i++) {
        put_sep(b, i, n, "and", false);
        put_amount(b, c, &cc[i]);
    }
    strbuf_puts(b, account ? " across the whole account " : " ");
    put_window(b, cc[0].window);
}

/* What someone did, for distinct(): "showed intent", "had a webinar". */
static void put_did(strbuf *b, const contract *c, uint32_t target)
{
    if (target >= CONTRACT_KIND_BASE && target - CONTRACT_KIND_BASE < c->kind_count) {
        const kind_info *k = &c->kinds[target - CONTRACT_KIND_BASE];
        int w = k->builtin ? kind_word_index(k->name) : -1;
        if (w >= 0) {
            strbuf_puts(b, kind_words[w].did);
            return;
        }
    }
    strbuf_puts(b, "had ");
    put_a_target(b, c, target);
}

/* count/last/since/distinct/exists as a value. */
static void render_call(const contract *c, const node *n, strbuf *b)
{
    if (call_is(n, "count") && n->nargs >= 2) {
        strbuf_puts(b, "the number of ");
        put_target(b, c, n->index, true);
        if (n->op == AGG_ACCOUNT) strbuf_puts(b, " across the whole account");
        strbuf_putc(b, ' ');
        put_window(b, n->args[1]->lit.ms);
    } else if (call_is(n, "distinct") && n->nargs == 3) {
        strbuf_puts(b, "the number of people at the account who ");
        put_did(b, c, n->index);
        strbuf_putc(b, ' ');
        put_window(b, n->args[2]->lit.ms);
    } else if (call_is(n, "last")) {
        strbuf_puts(b, "the time of the latest ");
        put_target(b, c, n->index, false);
    } else if (call_is(n, "since")) {
        strbuf_puts(b, "the time since the latest ");
        put_target(b, c, n->index, false);
    } else if (call_is(n, "exists") && n->nargs == 1) {
        strbuf_puts(b, "whether ");
        put_field(b, n->args[0]->lit.str.s);
        strbuf_puts(b, " is known");
    } else {
        strbuf_append(b, n->lit.str.s, n->lit.str.len);
    }
}

static void render_value(speech *sp, const node *n, strbuf *b, int depth)
{
    const contract *c = sp->c;
    n = expand(sp, n);
    if (depth > RENDER_DEPTH) {
        strbuf_puts(b, "...");
        return;
    }
    if (is_macro(n)) {
        strbuf_printf(b, "the value '%s'", c->macros[n->index].name);
        return;
    }
    switch (n->kind) {
    case N_BOOL: strbuf_puts(b, n->lit.b ? "true" : "false"); return;
    case N_NUM: put_num(b, n->lit.num); return;
    case N_STR: put_quoted(b, n->lit.str.s, n->lit.str.len); return;
    case N_DUR: put_duration(b, n->lit.ms, false); return;
    case N_TIME: put_time(b, n->lit.ms); return;
    case N_LIST: put_list_items(b, c, n, "or"); return;
    case N_CALL: render_call(c, n, b); return;
    case N_NEG:
        strbuf_puts(b, "minus ");
        render_value(sp, n->a, b, depth + 1);
        return;
    case N_NAME:
        switch (n->ref) {
        case REF_FIELD: put_field(b, n->lit.str.s); return;
        case REF_LIST: put_list_items(b, c, n, "or"); return;
        case REF_SCORE: strbuf_puts(b, "the closed-won score"); return;
        case REF_POINTS: strbuf_puts(b, "the lead's points total"); return;
        case REF_NOW: strbuf_puts(b, "now"); return;
        case REF_SIGNAL:
        case REF_FIT: break;
        default: put_words(b, n->lit.str.s, false); return;
        }
        break;
    case N_BINARY:
        if (op_words[n->op].arithmetic) {
            const node *a = follow(c, n->a), *r = follow(c, n->b);
            if (a->kind == N_NAME && a->ref == REF_NOW && r->kind == N_DUR &&
                (n->op == OP_SUB || n->op == OP_ADD)) {
                put_duration(b, r->lit.ms, false);
                strbuf_puts(b, n->op == OP_SUB ? " ago" : " from now");
                return;
            }
            render_value(sp, n->a, b, depth + 1);
            strbuf_printf(b, " %s ", op_words[n->op].arithmetic);
            render_value(sp, n->b, b, depth + 1);
            return;
        }
        break;
    default: break;
    }
    strbuf_puts(b, "whether ");
    render_cond(sp, n, false, NEST_TOP, b, depth + 1);
}

/* "is not one of" -> "not one of": the phrase after "is unknown or". */
static const char *after_is(const char *phrase)
{
    return strncmp(phrase, "is ", 3) == 0 ? phrase + 3 : phrase;
}

/* `a OP b` for the comparison and text operators.
 *
 * A comparison with a missing value is false, so `x != "c"` fails when x
 * is missing, while `not (x == "c")` and `x not in list` hold. The English
 * says which: "x is something other than "c"" against "x is unknown or not
 * "c"". A signer reads "is not" as including "unknown", so plain "is not"
 * is never used for a value that may be missing. */
static void render_compare(speech *sp, const node *n, bool negate, int nest, strbuf *b, int depth)
{
    const contract *c = sp->c;
    const node *a = follow(c, n->a), *r = follow(c, n->b);
    uint8_t op = n->op;
    bool holds_on_missing = negate != (op == OP_NOT_IN);
    if (is_comparison(op) && is_literal(a) && !is_literal(r)) {
        const node *t = a;
        a = r;
        r = t;
        op = mirror(op);
    }
    if (negate && op_words[op].opposite >= 0) {
        op = (uint8_t)op_words[op].opposite;
        negate = false;
    }
    /* x == true, x != false: the condition x itself */
    if ((op == OP_EQ || op == OP_NE) && r->kind == N_BOOL && a->type != TY_STR &&
        a->type != TY_NUM) {
        bool holds_when = r->lit.b == (op == OP_EQ);
        render_cond(sp, a, negate != !holds_when, nest, b, depth + 1);
        return;
    }
    count_clause cc;
    if (as_count_clause(c, n, false, &cc)) {
        cc.op = op; /* with any negation folded in above */
        put_count_group(b, c, &cc, 1);
        return;
    }
    if (is_comparison(op) && call_is(a, "distinct") && r->kind == N_NUM && a->nargs == 3) {
        /* "at least 2 people at the account showed intent in the last 14 days" */
        double v = r->lit.num;
        if ((op == OP_LT && v == 1) || (op == OP_LE && v == 0) || (op == OP_EQ && v == 0)) {
            strbuf_puts(b, "nobody at the account ");
        } else {
            strbuf_printf(b, "%s ", op_words[op].amount);
            put_num(b, v);
            strbuf_puts(b, v == 1 ? " person at the account " : " people at the account ");
        }
        put_did(b, c, a->index);
        strbuf_putc(b, ' ');
        put_window(b, a->args[2]->lit.ms);
        return;
    }
    if (is_comparison(op) && call_is(a, "since") && r->kind == N_DUR) {
        if (holds_on_missing) {
            strbuf_puts(b, "there has been no ");
            put_target(b, c, a->index, false);
            strbuf_puts(b, " or the latest");
        } else {
            strbuf_puts(b, "the latest ");
            put_target(b, c, a->index, false);
        }
        strbuf_printf(b, " %s ", op_words[op].is);
        put_duration(b, r->lit.ms, false);
        strbuf_puts(b, " old");
        return;
    }
    if (is_comparison(op) && op != OP_EQ && op != OP_NE && call_is(a, "last") &&
        r->kind == N_BINARY && r->op == OP_SUB && follow(c, r->a)->kind == N_NAME &&
        follow(c, r->a)->ref == REF_NOW && follow(c, r->b)->kind == N_DUR) {
        /* last(x) > now - 7d: "the latest x was within the last 7 days" */
        if (holds_on_missing) {
            strbuf_puts(b, "there has been no ");
            put_target(b, c, a->index, false);
            strbuf_puts(b, " or the latest was ");
        } else {
            strbuf_puts(b, "the latest ");
            put_target(b, c, a->index, false);
            strbuf_puts(b, " was ");
        }
        duration_ms d = follow(c, r->b)->lit.ms;
        if (op == OP_GT || op == OP_GE) {
            strbuf_puts(b, "within the last ");
            put_duration(b, d, true);
        } else {
            strbuf_puts(b, op == OP_LT ? "more than " : "at least ");
            put_duration(b, d, false);
            strbuf_puts(b, " ago");
        }
        return;
    }
    render_value(sp, a, b, depth + 1);
    bool moment = is_comparison(op) && (a->type == TY_TIME || r->type == TY_TIME);
    const char *phrase = moment ? op_words[op].moment : negate ? op_words[op].is_not : op_words[op].is;
    if (may_be_missing(a) && holds_on_missing)
        strbuf_printf(b, " is unknown or %s ", after_is(phrase));
    else if (may_be_missing(a) && op == OP_NE && !moment)
        strbuf_puts(b, " is something other than ");
    else
        strbuf_printf(b, " %s ", phrase);
    if (op == OP_IN || op == OP_NOT_IN || op == OP_MENTIONS)
        put_list_items(b, c, r, "or");
    else
        render_value(sp, r, b, depth + 1);
}

/* A condition that names one field of type true/false, negated by
 * inserting "not" after its verb where it has "is". */
static void put_predicate(strbuf *b, const char *path, bool negate)
{
    const char *phrase = field_phrase(path);
    if (!negate) {
        strbuf_puts(b, phrase);
        return;
    }
    const char *is = strstr(phrase, " is ");
    if (is) {
        strbuf_append(b, phrase, (size_t)(is - phrase) + 4);
        strbuf_puts(b, "not ");
        strbuf_puts(b, is + 4);
        return;
    }
    /* "the reply answers a person": "the reply does not answer a person" */
    const char *subject = strncmp(phrase, "the ", 4) == 0 ? strchr(phrase + 4, ' ') : NULL;
    const char *verb_end = subject ? strchr(subject + 1, ' ') : NULL;
    if (verb_end && verb_end[-1] == 's' && verb_end - subject > 2) {
        strbuf_append(b, phrase, (size_t)(subject - phrase));
        strbuf_puts(b, " does not ");
        strbuf_append(b, subject + 1, (size_t)(verb_end - subject) - 2);
        strbuf_puts(b, verb_end);
        return;
    }
    strbuf_puts(b, "it is not so that ");
    strbuf_puts(b, phrase);
}

/* ---- and/or lists ---------------------------------------------------------- */

/* The operands of a chain of one operator, macros inlined while the
 * budget lasts: `a and (b and c)` -> a, b, c. */
typedef struct chain {
    const node **items;
    size_t count, cap;
    bool oom;
} chain;

static void chain_collect(speech *sp, const node *n, uint8_t op, chain *ch)
{
    n = expand(sp, n);
    if (n->kind == N_BINARY && n->op == op) {
        chain_collect(sp, n->a, op, ch);
        chain_collect(sp, n->b, op, ch);
        return;
    }
    if (ch->count == ch->cap) {
        size_t cap = ch->cap ? 2 * ch->cap : 8;
        const node **bigger = mem_realloc(ch->items, cap * sizeof *bigger);
        if (!bigger) {
            ch->oom = true;
            return;
        }
        ch->items = bigger;
        ch->cap = cap;
    }
    ch->items[ch->count++] = n;
}

static bool is_signal(const contract *c, const node *n)
{
    n = follow(c, n);
    return n->kind == N_NAME && n->ref == REF_SIGNAL;
}

/* `field == "text"` (either way round): its field node and its text. */
static bool field_equals_text(const contract *c, const node *n, const node **field, const node **text)
{
    n = follow(c, n);
    if (n->kind != N_BINARY || n->op != OP_EQ) return false;
    const node *a = follow(c, n->a), *r = follow(c, n->b);
    if (a->kind == N_STR) {
        const node *t = a;
        a = r;
        r = t;
    }
    if (a->kind != N_NAME || a->ref != REF_FIELD || r->kind != N_STR) return false;
    *field = a;
    *text = r;
    return true;
}

enum group_kind { G_SINGLE, G_SIGNALS, G_EQUALS, G_COUNTS, G_REPEAT };

/* How many items from i on read as one phrase, and as what. */
static size_t group_run(const contract *c, const node **items, size_t i, size_t n, bool negate,
                        bool joins_and, uint8_t *kind)
{
    size_t j = i + 1;
    *kind = G_SINGLE;
    if (is_signal(c, items[i]) && (negate == joins_and)) {
        while (j < n && is_signal(c, items[j])) j++;
        if (j - i > 1) *kind = G_SIGNALS;
        return j - i;
    }
    const node *f0, *t0, *f, *t;
    if (negate == joins_and && field_equals_text(c, items[i], &f0, &t0)) {
        while (j < n && field_equals_text(c, items[j], &f, &t) && f->index == f0->index) j++;
        if (j - i > 1) *kind = G_EQUALS;
        return j - i;
    }
    count_clause c0, cj;
    if (joins_and && as_count_clause(c, items[i], negate, &c0)) {
        while (j < n && as_count_clause(c, items[j], negate, &cj) && cj.scope == c0.scope &&
               cj.window == c0.window)
            j++;
        if (j - i > 1) *kind = G_COUNTS;
        return j - i;
    }
    return 1;
}

static void render_group(const contract *c, const node **items, size_t n, uint8_t kind,
                         bool negate, bool either, strbuf *b)
{
    switch (kind) {
    case G_SIGNALS:
        /* a or b: "this event is a X or a Y"; not (a or b): "neither a X nor a Y" */
        strbuf_puts(b, "this event is ");
        if (negate) strbuf_puts(b, "neither ");
        else if (either) strbuf_puts(b, "either ");
        for (size_t i = 0; i < n; i++) {
            put_sep(b, i, n, negate ? "nor" : "or", false);
            put_a_target(b, c, follow(c, items[i])->index);
        }
        return;
    case G_EQUALS: {
        /* x == "a" or x == "b": "x is "a" or "b""; under not, "x is unknown
         * or neither "a" nor "b"" (a missing x makes each == false) */
        const node *f = NULL, *t = NULL;
        if (!field_equals_text(c, items[0], &f, &t)) return; /* grouped only when it holds */
        put_field(b, f->lit.str.s);
        if (negate) strbuf_puts(b, may_be_missing(f) ? " is unknown or neither " : " is neither ");
        else strbuf_puts(b, n > 2 ? " is one of " : either ? " is either " : " is ");
        for (size_t i = 0; i < n; i++) {
            if (!field_equals_text(c, items[i], &f, &t)) continue;
            put_sep(b, i, n, negate ? "nor" : "or", false);
            put_quoted(b, t->lit.str.s, t->lit.str.len);
        }
        return;
    }
    case G_COUNTS: {
        count_clause *cc = mem_alloc(n * sizeof *cc);
        if (!cc) {
            b->oom = true;
            return;
        }
        for (size_t i = 0; i < n; i++) as_count_clause(c, items[i], negate, &cc[i]);
        put_count_group(b, c, cc, n);
        mem_free(cc);
        return;
    }
    default: return;
    }
}

static uint32_t list_size(const contract *c, const node *n)
{
    n = follow(c, n);
    if (n->kind == N_LIST) return n->nargs;
    if (n->kind == N_NAME && n->ref == REF_LIST && n->index < c->list_count) return c->lists[n->index].count;
    return 0;
}

/* Does a clause carry its own "and", "or" or commas ("is unknown or not
 * ...", "one of a, b or c"), so that the list around it needs commas to
 * stay clear? `negate` as for render_cond(). */
static bool is_compound(const contract *c, const node *n, bool negate, int depth)
{
    n = follow(c, n);
    for (; n->kind == N_NOT; n = follow(c, n->a)) negate = !negate;
    if (n->kind == N_NAME && n->ref == REF_FIT && n->index < c->fit_count && depth < RENDER_DEPTH) {
        /* inlined only when it is a single test, as render_cond() does */
        const node *body = follow(c, c->fit_exprs[n->index].when.root);
        const node *test = body;
        while (test && test->kind == N_NOT) test = follow(c, test->a);
        return test && !(test->kind == N_BINARY && (test->op == OP_AND || test->op == OP_OR)) &&
               is_compound(c, body, negate, depth + 1);
    }
    if (n->kind != N_BINARY || op_words[n->op].arithmetic) return false;
    if (n->op == OP_AND || n->op == OP_OR) return true;
    const node *a = follow(c, n->a), *r = follow(c, n->b);
    if (is_literal(a)) a = r;
    if (may_be_missing(a) && negate != (n->op == OP_NOT_IN)) return true; /* "is unknown or ..." */
    if (n->op == OP_IN || n->op == OP_NOT_IN || n->op == OP_MENTIONS) return list_size(c, n->b) >= 3;
    return false;
}

/* An and/or chain as English. Under `negate` the chain is turned by De
 * Morgan: not (a or b) is "not a and not b". */
static void render_list(speech *sp, const node *n, bool negate, int nest, strbuf *b, int depth)
{
    const contract *c = sp->c;
    uint8_t op = n->op;
    bool joins_and = (op == OP_AND) != negate;
    chain ch = {0};
    size_t *runs = NULL;
    uint8_t *kinds = NULL;
    strbuf *parts = NULL;
    chain_collect(sp, n, op, &ch);
    size_t count = ch.count;
    const node **items = ch.items;
    if (!ch.oom && count) {
        runs = mem_alloc(count * sizeof *runs);
        kinds = mem_alloc(count);
        parts = mem_calloc(count, sizeof *parts);
    }
    if (ch.oom || !runs || !kinds || !parts) {
        b->oom = true;
        goto done;
    }

    size_t groups = 0;
    for (size_t i = 0; i < count; i += runs[groups++])
        runs[groups] = group_run(c, items, i, count, negate, joins_and, &kinds[groups]);

    int inner = joins_and ? NEST_AND : NEST_OR;
    for (size_t g = 0, i = 0; g < groups; g++) {
        strbuf *p = &parts[g];
        size_t run = runs[g];
        if (kinds[g] == G_SINGLE)
            render_cond(sp, items[i], negate, inner, p, depth + 1);
        else
            render_group(c, items + i, run, kinds[g], negate,
                         groups == 1 && !joins_and && nest == NEST_AND, p);
        if (p->oom) b->oom = true;
        /* From here on runs[g] says whether the part is compound. */
        runs[g] = kinds[g] != G_SINGLE || is_compound(c, items[i], negate, 0);
        i += run;
    }
    /* `a and a` says a: a clause said once is enough (a reused macro). */
    size_t shown = 0, last = 0;
    for (size_t g = 0; g < groups; g++) {
        const char *text = parts[g].data ? parts[g].data : "";
        for (size_t h = 0; h < g && kinds[g] != G_REPEAT; h++)
            if (kinds[h] != G_REPEAT && strcmp(text, parts[h].data ? parts[h].data : "") == 0)
                kinds[g] = G_REPEAT;
        if (kinds[g] != G_REPEAT) shown++, last = g;
    }
    /* A serial comma where a compound part would otherwise blur the list:
     * "A or B, and C"; a compound part at the end of two is clear as is. */
    bool compound = false;
    for (size_t g = 0; g < groups; g++)
        if (kinds[g] != G_REPEAT && runs[g] && (g != last || shown > 2)) compound = true;
    if (shown > 1) {
        if (!joins_and && (nest == NEST_AND || compound)) strbuf_puts(b, "either ");
        else if (joins_and && nest == NEST_OR) strbuf_puts(b, shown == 2 ? "both " : "all of ");
    }
    for (size_t g = 0, i = 0; g < groups; g++) {
        if (kinds[g] == G_REPEAT) continue;
        put_sep(b, i++, shown, joins_and ? "and" : "or", compound);
        strbuf_puts(b, parts[g].data ? parts[g].data : "");
    }

done:
    if (parts)
        for (size_t g = 0; g < count; g++) strbuf_free(&parts[g]);
    mem_free(parts);
    mem_free(kinds);
    mem_free(runs);
    mem_free(ch.items);
}

/* A condition as a clause; `negate` says its contrary. */
static void render_cond(speech *sp, const node *n, bool negate, int nest, strbuf *b, int depth)
{
    const contract *c = sp->c;
    n = expand(sp, n);
    if (depth > RENDER_DEPTH) {
        strbuf_puts(b, "...");
        return;
    }
    if (is_macro(n)) {
        strbuf_printf(b, "the condition '%s' %s", c->macros[n->index].name,
                      negate ? "does not hold" : "holds");
        return;
    }
    switch (n->kind) {
    case N_BOOL: strbuf_puts(b, n->lit.b != negate ? "always" : "never"); return;
    case N_NOT: render_cond(sp, n->a, !negate, nest, b, depth + 1); return;
    case N_BINARY:
        if (n->op == OP_AND || n->op == OP_OR) {
            render_list(sp, n, negate, nest, b, depth);
            return;
        }
        if (!op_words[n->op].arithmetic) {
            render_compare(sp, n, negate, nest, b, depth);
            return;
        }
        break;
    case N_CALL:
        if (call_is(n, "exists") && n->nargs == 1) {
            put_field(b, n->args[0]->lit.str.s);
            strbuf_puts(b, negate ? " is not known" : " is known");
            return;
        }
        break;
    case N_NAME:
        switch (n->ref) {
        case REF_SIGNAL:
            strbuf_puts(b, negate ? "this event is not " : "this event is ");
            put_a_target(b, c, n->index);
            return;
        case REF_FIT: {
            const node *body = n->index < c->fit_count ? follow(c, c->fit_exprs[n->index].when.root) : NULL;
            while (body && body->kind == N_NOT) body = follow(c, body->a);
            if (body && !(body->kind == N_BINARY && (body->op == OP_AND || body->op == OP_OR))) {
                render_cond(sp, c->fit_exprs[n->index].when.root, negate, nest, b, depth + 1);
                return;
            }
            strbuf_printf(b, "the account %s the ideal customer profile '%s'",
                          negate ? "does not fit" : "fits", c->fit[n->index].name);
            return;
        }
        case REF_FIELD:
            if (n->type == TY_BOOL) {
                put_predicate(b, n->lit.str.s, negate);
                return;
            }
            break;
        default: break;
        }
        break;
    default: break;
    }
    render_value(sp, n, b, depth + 1);
    strbuf_puts(b, negate ? " is not true" : " is true");
}

/* Entry points: one expression, with a fresh inlining budget. */
static void say_cond(const contract *c, const node *n, strbuf *b)
{
    speech sp = {.c = c, .inline_left = RENDER_INLINE};
    if (n) render_cond(&sp, n, false, NEST_TOP, b, 0);
}

static void say_value(const contract *c, const node *n, strbuf *b)
{
    speech sp = {.c = c, .inline_left = RENDER_INLINE};
    if (n) render_value(&sp, n, b, 0);
}

/* ---- who uses what ------------------------------------------------------------ */

/* "Does this expression read X?", where X is a signal kind (by the kind,
 * by one of its signals, or through points its signals earn) or a builtin
 * (score, points). Each macro is walked once: its answer cannot change. */
typedef struct reads_query {
    const contract *c;
    uint32_t kind; /* UINT32_MAX: no kind asked */
    uint8_t ref;   /* REF_NONE: no builtin asked */
    bool seen[CONTRACT_MAX_MACROS];
} reads_query;

static bool name_reads(const reads_query *q, const node *n)
{
    const contract *c = q->c;
    if (q->ref != REF_NONE && n->ref == q->ref) return true;
    if (q->kind == UINT32_MAX) return false;
    switch (n->ref) {
    case REF_SIGNAL: return n->index < c->signal_count && c->signals[n->index].info.kind == q->kind;
    case REF_KIND: return n->index == CONTRACT_KIND_BASE + q->kind;
    case REF_POINTS:
        for (uint32_t i = 0; i < c->signal_count; i++)
            if (c->signals[i].info.kind == q->kind && c->point_values[i] != 0) return true;
        return false;
    default: return false;
    }
}

static bool reads(reads_query *q, const node *n, int depth)
{
    if (!n || depth > RENDER_DEPTH) return false;
    switch (n->kind) {
    case N_NAME:
        if (n->ref == REF_MACRO) {
            if (n->index >= CONTRACT_MAX_MACROS || q->seen[n->index]) return false;
            q->seen[n->index] = true;
            return reads(q, q->c->macros[n->index].body.root, depth + 1);
        }
        return name_reads(q, n);
    case N_CALL:
    case N_LIST:
        for (uint32_t i = 0; i < n->nargs; i++)
            if (reads(q, n->args[i], depth + 1)) return true;
        return false;
    case N_NOT:
    case N_NEG: return reads(q, n->a, depth + 1);
    case N_BINARY: return reads(q, n->a, depth + 1) || reads(q, n->b, depth + 1);
    default: return false;
    }
}

static bool reads_kind(const contract *c, const node *n, uint32_t kind)
{
    reads_query q = {.c = c, .kind = kind, .ref = REF_NONE};
    return reads(&q, n, 0);
}

static bool reads_ref(const contract *c, const node *n, uint8_t ref)
{
    reads_query q = {.c = c, .kind = UINT32_MAX, .ref = ref};
    return reads(&q, n, 0);
}

/* ---- sections ------------------------------------------------------------------ */

typedef struct explainer {
    const contract *c;
    strbuf *out;
    strbuf para; /* the paragraph being written */
} explainer;

static void flush(explainer *x, const char *first, size_t indent)
{
    if (x->para.oom) x->out->oom = true;
    put_wrapped(x->out, x->para.data, first, indent);
    clear(&x->para);
}

static void heading(explainer *x, const char *title)
{
    strbuf_printf(x->out, "\n%s\n", title);
    for (size_t i = columns(title, strlen(title)); i > 0; i--) strbuf_putc(x->out, '-');
    strbuf_putc(x->out, '\n');
}

static void put_gate_names(strbuf *b, const contract *c, const uint32_t *gates, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put_sep(b, i, n, "and", false);
        put_words(b, c->gates[gates[i]].info.name, false);
    }
}

static void explain_header(explainer *x)
{
    const contract *c = x->c;
    const contract_info *a = &c->about;
    const calendar_info *cal = &a->calendar;
    char title[128]; /* names are at most 64 bytes */
    snprintf(title, sizeof title, "%s, version %u", a->name ? a->name : "(unnamed)", a->version);
    strbuf_printf(x->out, "%s\n", title);
    for (size_t i = columns(title, strlen(title)); i > 0; i--) strbuf_putc(x->out, '=');
    strbuf_putc(x->out, '\n');

    strbuf_printf(&x->para, "The handoff contract between marketing and sales: when a lead passes "
                            "from one team to the other, what it must carry, and what happens next. "
                            "Signed for marketing by %s and for sales by %s. Every decision baton "
                            "makes records that it was made under version %u.",
                  a->signed_marketing ? a->signed_marketing : "nobody",
                  a->signed_sales ? a->signed_sales : "nobody", a->version);
    flush(x, "", 0);
    strbuf_putc(x->out, '\n');

    static const char *const days[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
    strbuf *b = &x->para;
    strbuf_puts(b, "Calendar: business days are ");
    int first = -1, last = -1, n = 0;
    bool run = true;
    for (int d = 0; d < 7; d++) {
        if (!(cal->workdays & (1u << d))) continue;
        if (first < 0) first = d;
        else if (d != last + 1) run = false;
        last = d;
        n++;
    }
    if (n == 7) {
        strbuf_puts(b, "every day of the week");
    } else if (n == 0) {
        strbuf_puts(b, "no day of the week");
    } else if (run && n >= 3) {
        strbuf_printf(b, "%s to %s", days[first], days[last]);
    } else {
        for (int d = 0, i = 0; d < 7; d++) {
            if (!(cal->workdays & (1u << d))) continue;
            put_sep(b, (size_t)i++, (size_t)n, "and", false);
            strbuf_puts(b, days[d]);
        }
    }
    strbuf_puts(b, ", ");
    put_clock(b, cal->day_start);
    strbuf_puts(b, " to ");
    put_clock(b, cal->day_end);
    strbuf_printf(b, ", %s time", cal->timezone ? cal->timezone : "UTC");
    if (cal->holiday_count) {
        size_t shown = cal->holiday_count > HOLIDAYS_SHOWN ? HOLIDAYS_SHOWN : cal->holiday_count;
        strbuf_puts(b, ", except on the holidays ");
        for (size_t i = 0; i < shown; i++) {
            put_sep(b, i, shown == cal->holiday_count ? shown : shown + 1, "and", false);
            put_date(b, cal->holidays[i]);
        }
        if (shown < cal->holiday_count)
            strbuf_printf(b, " and %zu more", cal->holiday_count - shown);
    }
    strbuf_puts(b, ". Every business hour and business day below is counted on this calendar. "
                   "baton keeps ");
    put_duration(b, a->retention, false);
    strbuf_puts(b, " of each lead's history; no rule looks further back.");
    flush(x, "", 0);
}

static void explain_fit(explainer *x)
{
    const contract *c = x->c;
    heading(x, "Ideal customer profile");
    if (c->fit_count == 0) {
        strbuf_puts(&x->para, "The contract defines no ideal customer profile: no gate looks at fit.");
        flush(x, "", 0);
        return;
    }
    strbuf_puts(&x->para, "A lead fits when its account passes these tests, which the gates below "
                          "name:");
    flush(x, "", 0);
    for (uint32_t i = 0; i < c->fit_count; i++) {
        strbuf_printf(&x->para, "'%s' holds when ", c->fit[i].name);
        const node *root = c->fit_exprs[i].when.root;
        say_cond(c, root, &x->para);
        strbuf_putc(&x->para, '.');
        flush(x, "  - ", 4);
    }
}

static void explain_signals(explainer *x)
{
    const contract *c = x->c;
    heading(x, "Signals");
    strbuf *b = &x->para;
    strbuf_puts(b, "Signals are the events that matter, recognised one by one as they arrive and "
                   "grouped by kind. A signal counts toward a handoff only where a gate names it or "
                   "its kind");
    size_t own = 0;
    for (uint32_t k = 0; k < c->kind_count; k++)
        if (!c->kinds[k].builtin) own++;
    if (own) {
        strbuf_puts(b, "; kinds this contract adds (");
        for (uint32_t k = 0, i = 0; k < c->kind_count; k++) {
            if (c->kinds[k].builtin) continue;
            put_sep(b, i++, own, "and", false);
            put_words(b, c->kinds[k].name, false);
        }
        strbuf_puts(b, ") never count toward any gate unless a gate names them");
    }
    strbuf_putc(b, '.');
    flush(x, "", 0);

    uint32_t *users = mem_alloc((c->gate_count ? c->gate_count : 1) * sizeof *users);
    if (!users) {
        x->out->oom = true;
        return;
    }
    /* Built-in kinds in the order a buyer moves through them, then the
     * contract's own. */
    uint32_t order[CONTRACT_MAX_KINDS] = {0}, n = 0;
    for (size_t w = 0; w < ARRAY_LEN(kind_words); w++)
        for (uint32_t k = 0; k < c->kind_count; k++)
            if (c->kinds[k].builtin && strcmp(c->kinds[k].name, kind_words[w].kind) == 0) order[n++] = k;
    for (uint32_t k = 0; k < c->kind_count; k++)
        if (!c->kinds[k].builtin || kind_word_index(c->kinds[k].name) < 0) order[n++] = k;

    for (uint32_t o = 0; o < n; o++) {
        uint32_t k = order[o];
        const kind_info *kind = &c->kinds[k];
        uint32_t signals = 0;
        for (uint32_t s = 0; s < c->signal_count; s++)
            if (c->signals[s].info.kind == k) signals++;
        if (!signals) continue;
        size_t used = 0;
        for (uint32_t g = 0; g < c->gate_count; g++)
            if (reads_kind(c, c->gates[g].e.when.root, k)) users[used++] = g;

        strbuf_putc(x->out, '\n');
        put_words(b, kind->name, true);
        int w = kind->builtin ? kind_word_index(kind->name) : -1;
        if (w >= 0) strbuf_printf(b, ": %s.", kind_words[w].meaning);
        else strbuf_puts(b, ": a kind this contract adds.");
        if (used) {
            strbuf_puts(b, used == 1 ? " The gate " : " The gates ");
            put_gate_names(b, c, users, used);
            strbuf_puts(b, used == 1 ? " looks at these signals." : " look at these signals.");
        } else {
            strbuf_puts(b, " No gate names this kind or any of its signals, so they never count "
                           "toward a handoff: baton records them and nothing more.");
        }
        flush(x, "", 0);
        for (uint32_t s = 0; s < c->signal_count; s++) {
            const signal_def *sd = &c->signals[s];
            if (sd->info.kind != k) continue;
            put_words(b, sd->info.name, true);
            strbuf_puts(b, ": when ");
            say_cond(c, sd->e.when.root, b);
            if (sd->info.topic) strbuf_printf(b, " (topic: %s)", sd->info.topic);
            strbuf_putc(b, '.');
            flush(x, "  - ", 4);
        }
    }
    mem_free(users);
}

static void put_required(strbuf *b, uint32_t bits)
{
    static const struct {
        uint32_t bit;
        const char *what;
    } fields[] = {{REQUIRE_PAIN, "the lead's current pain"},
                  {REQUIRE_IMPACT, "a near-term business impact"}};
    size_t n = 0, total = 0;
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        if (bits & fields[i].bit) total++;
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        if (!(bits & fields[i].bit)) continue;
        put_sep(b, n++, total, "and", false);
        strbuf_puts(b, fields[i].what);
    }
}

static void explain_gates(explainer *x)
{
    const contract *c = x->c;
    heading(x, "When a lead is handed off");
    strbuf *b = &x->para;
    strbuf_puts(b, "Every event is checked against these gates, in this order. The first gate that "
                   "holds hands the lead off, and the gates after it are not consulted; if none "
                   "holds, the lead stays where it is.");
    flush(x, "", 0);
    bool score = false;
    for (uint32_t i = 0; i < c->gate_count; i++) {
        const gate_def *g = &c->gates[i];
        const stage_info *st = g->info.stage < c->stage_count ? &c->stages[g->info.stage] : NULL;
        char number[16];
        snprintf(number, sizeof number, "%u. ", i + 1);
        put_words(b, g->info.name, true);
        strbuf_printf(b, " — hand the lead to %s (team %s)", st ? st->name : "?",
                      g->info.team ? g->info.team : st && st->team ? st->team : "?");
        if (g->info.fast) strbuf_puts(b, " at once, flagged fast-track,");
        strbuf_puts(b, " when ");
        say_cond(c, g->e.when.root, b);
        uint32_t extra = g->info.require & ~c->about.require;
        if (extra) {
            strbuf_puts(b, "; this gate also needs ");
            put_required(b, extra);
        }
        strbuf_putc(b, '.');
        flush(x, number, strlen(number));
        score = score || reads_ref(c, g->e.when.root, REF_SCORE);
    }
    if (score) {
        strbuf_puts(b, "The closed-won score is learned from history: the industries, company sizes, "
                       "pages and actions that came before deals the company won.");
        flush(x, "", 0);
    }
}

static void explain_require(explainer *x)
{
    const contract *c = x->c;
    heading(x, "What every handoff must carry");
    strbuf *b = &x->para;
    uint32_t req = c->about.require;
    if (req) {
        strbuf_puts(b, "Every handoff must name ");
        put_required(b, req);
        strbuf_puts(b, ". A handoff that lacks ");
        strbuf_puts(b, (req & REQUIRE_PAIN) && (req & REQUIRE_IMPACT) ? "either" : "it");
        strbuf_puts(b, " does not reach the receiving team: it waits as needs-context, visible to "
                       "the team that must supply what is missing, and baton counts every handoff "
                       "held this way.");
    } else {
        strbuf_puts(b, "The contract requires no pain or impact of a handoff as a whole");
        bool any = false;
        for (uint32_t i = 0; i < c->gate_count; i++) any = any || c->gates[i].info.require;
        strbuf_puts(b, any ? "; the gates above say where one is needed, and a handoff that lacks "
                             "it waits as needs-context."
                           : ", so no handoff is held for missing context.");
    }
    flush(x, "", 0);
}

/* The words a template hole stands for. */
static const char *const template_words[] = {
    [TW_NONE] = "",
    [TW_TRIGGER] = "what triggered the handoff",
    [TW_QUESTION] = "the buyer's question",
    [TW_GATE] = "the gate that handed the lead off",
    [TW_PAIN] = "the lead's pain",
    [TW_IMPACT] = "the business impact",
    [TW_TOPIC] = "the topic",
    [TW_PHRASE] = "the phrase the buyer used",
    [TW_SENTENCE] = "the buyer's sentence",
};

static void put_template(strbuf *b, const contract *c, const template_info *t)
{
    for (uint32_t i = 0; i < t->count; i++) {
        const template_part *p = &t->parts[i];
        if (p->text) {
            strbuf_append(b, p->text, p->len);
            continue;
        }
        strbuf_putc(b, '[');
        if (p->word != TW_NONE && p->word < ARRAY_LEN(template_words)) strbuf_puts(b, template_words[p->word]);
        else say_value(c, p->hole.root, b);
        strbuf_putc(b, ']');
    }
}

static void explain_context(explainer *x)
{
    const contract *c = x->c;
    heading(x, "The context sent with every handoff");
    strbuf *b = &x->para;
    strbuf_puts(b, "Before the first call, every handoff carries two lines; the parts in brackets "
                   "are filled in for each lead.");
    flush(x, "", 0);
    strbuf_puts(b, "What the lead did: ");
    if (c->did) put_template(b, c, c->did);
    else strbuf_puts(b, "(not set)");
    flush(x, "  1. ", 5);
    strbuf_puts(b, "What the buyer wants to know: ");
    if (c->asks) put_template(b, c, c->asks);
    else strbuf_puts(b, "(not set)");
    flush(x, "  2. ", 5);
    if (!c->topic_count) return;
    strbuf_puts(b, "The buyer's question is their own where they asked one (in a webinar Q&A, a "
                   "chat or a reply); otherwise it comes from the topic of what they did:");
    flush(x, "", 0);
    for (uint32_t i = 0; i < c->topic_count; i++) {
        if (strcmp(c->topics[i], "default") == 0) continue; /* said last */
        strbuf_puts(b, c->topics[i]);
        size_t n = 0, total = 0;
        for (uint32_t s = 0; s < c->signal_count; s++)
            if (c->signals[s].info.topic && strcmp(c->signals[s].info.topic, c->topics[i]) == 0) total++;
        for (uint32_t s = 0; s < c->signal_count; s++) {
            if (!c->signals[s].info.topic || strcmp(c->signals[s].info.topic, c->topics[i]) != 0) continue;
            strbuf_puts(b, n ? "" : " (from ");
            put_sep(b, n++, total, "and", false);
            put_words(b, c->signals[s].info.name, false);
        }
        if (n) strbuf_putc(b, ')');
        strbuf_puts(b, ": ");
        put_quoted(b, c->questions[i], strlen(c->questions[i]));
        flush(x, "  - ", 4);
    }
    const char *fallback = contract_topic_question(c, "default");
    if (fallback) {
        strbuf_puts(b, "When nothing they did in the last 14 days has a topic, the question is ");
        put_quoted(b, fallback, strlen(fallback));
        flush(x, "", 0);
    }
}

static void explain_stages(explainer *x)
{
    const contract *c = x->c;
    heading(x, "Stages and owners");
    strbuf *b = &x->para;
    strbuf_puts(b, "A lead always has exactly one owning team. The stages, in order:");
    flush(x, "", 0);
    uint32_t *into = mem_alloc((c->gate_count ? c->gate_count : 1) * sizeof *into);
    if (!into) {
        x->out->oom = true;
        return;
    }
    for (uint32_t s = 0; s < c->stage_count; s++) {
        char number[16];
        snprintf(number, sizeof number, "  %u. ", s + 1);
        strbuf_printf(b, "%s, owned by %s", c->stages[s].name, c->stages[s].team ? c->stages[s].team : "?");
        size_t n = 0;
        for (uint32_t g = 0; g < c->gate_count; g++)
            if (c->gates[g].info.stage == s) into[n++] = g;
        if (s == 0) {
            strbuf_puts(b, ": every lead starts here.");
        } else if (n) {
            strbuf_puts(b, n == 1 ? ": reached through the gate " : ": reached through the gates ");
            put_gate_names(b, c, into, n);
            strbuf_putc(b, '.');
        } else {
            strbuf_puts(b, ": no gate hands a lead here directly.");
        }
        flush(x, number, strlen(number));
    }
    mem_free(into);
    bool recycles = false;
    for (uint32_t r = 0; r < c->reason_count; r++)
        recycles = recycles || c->reasons[r].action == REASON_NURTURE || c->reasons[r].action == REASON_STAGE;
    strbuf_puts(b, "A lead moves only forward, and only when a gate hands it off. ");
    strbuf_puts(b, recycles ? "It moves back only when sales rejects it with a reason that recycles "
                              "it (see Rejection reasons)."
                            : "No rejection reason sends it back.");
    flush(x, "", 0);
}

static void put_allowance(strbuf *b, const sla_figure *f)
{
    switch (f->unit) {
    case SLA_BUSINESS_HOURS: strbuf_printf(b, "%lld business hour%s", (long long)f->amount, f->amount == 1 ? "" : "s"); break;
    case SLA_BUSINESS_DAYS: strbuf_printf(b, "%lld business day%s", (long long)f->amount, f->amount == 1 ? "" : "s"); break;
    default:
        put_duration(b, (duration_ms)f->amount, false);
        strbuf_puts(b, " around the clock");
        break;
    }
}

static void explain_sla(explainer *x)
{
    const contract *c = x->c;
    const contract_info *a = &c->about;
    heading(x, "Service levels");
    strbuf *b = &x->para;
    /* The teams that receive handoffs, each once, in gate order. */
    const char *teams[CONTRACT_MAX_GATES];
    size_t n = 0;
    for (uint32_t g = 0; g < c->gate_count; g++) {
        const char *t = c->gates[g].info.team;
        bool seen = !t;
        for (size_t i = 0; i < n && !seen; i++) seen = strcmp(teams[i], t) == 0;
        if (!seen) teams[n++] = t;
    }
    strbuf_puts(b, "After a handoff, sales");
    if (n > 1) {
        strbuf_puts(b, " (");
        for (size_t i = 0; i < n; i++) {
            put_sep(b, i, n, "or", false);
            strbuf_puts(b, teams[i]);
        }
        strbuf_puts(b, ", whichever receives the lead)");
    } else if (n == 1) {
        strbuf_printf(b, " (team %s)", teams[0]);
    }
    if (a->first_touch.set) {
        strbuf_puts(b, " makes first contact within ");
        put_allowance(b, &a->first_touch);
    }
    if (a->meeting.set) {
        strbuf_puts(b, a->first_touch.set ? ", and a meeting is booked within " : " books a meeting within ");
        put_allowance(b, &a->meeting);
    }
    static const char *const breach[] = {
        [BREACH_NOTIFY] = "notifies the owning team",
        [BREACH_REASSIGN] = "reassigns the lead to someone else",
        [BREACH_BOTH] = "notifies the owning team and reassigns the lead",
    };
    strbuf_printf(b, ". On a breach baton %s.",
                  a->on_breach < ARRAY_LEN(breach) ? breach[a->on_breach] : breach[0]);
    flush(x, "", 0);
}

static void explain_points(explainer *x)
{
    const contract *c = x->c;
    const points_info *p = &c->points;
    if (!p->enabled) return;
    heading(x, "Points");
    strbuf *b = &x->para;
    /* Signals that earn points, most first; ties keep the contract's order. */
    uint32_t order[CONTRACT_MAX_SIGNALS], n = 0;
    for (uint32_t s = 0; s < c->signal_count; s++) {
        if (!c->point_values[s]) continue;
        uint32_t at = n++;
        while (at > 0 && c->point_values[order[at - 1]] < c->point_values[s]) {
            order[at] = order[at - 1];
            at--;
        }
        order[at] = s;
    }
    if (n == 0) {
        strbuf_puts(b, "The points model gives no signal any points.");
    } else {
        strbuf_puts(b, "A classic points score, per signal: ");
        for (uint32_t i = 0; i < n; i++) {
            put_sep(b, i, n, "and", false);
            put_words(b, c->signals[order[i]].info.name, false);
            strbuf_printf(b, " %d", c->point_values[order[i]]);
        }
        strbuf_puts(b, n < c->signal_count ? "; every other signal earns none." : ".");
    }
    if (p->half_life) {
        strbuf_puts(b, " Points halve every ");
        put_duration(b, p->half_life, true);
        strbuf_putc(b, p->cap ? ' ' : '.');
    }
    if (p->cap) strbuf_printf(b, "%s capped at %d.", p->half_life ? "and are" : " Points are", p->cap);
    uint32_t users[CONTRACT_MAX_GATES];
    size_t used = 0;
    for (uint32_t g = 0; g < c->gate_count; g++)
        if (reads_ref(c, c->gates[g].e.when.root, REF_POINTS)) users[used++] = g;
    if (used) {
        strbuf_puts(b, used == 1 ? " The gate " : " The gates ");
        put_gate_names(b, c, users, used);
        strbuf_puts(b, used == 1 ? " uses points." : " use points.");
    } else {
        strbuf_puts(b, " No gate uses points: they are kept to compare with the gates and never hand "
                       "a lead off.");
    }
    flush(x, "", 0);
}

static void explain_reasons(explainer *x)
{
    const contract *c = x->c;
    heading(x, "Rejection reasons");
    strbuf *b = &x->para;
    strbuf_puts(b, "When sales rejects a lead it gives one of these reasons, and the reason decides "
                   "what happens to the lead:");
    flush(x, "", 0);
    for (uint32_t i = 0; i < c->reason_count; i++) {
        const reason_info *r = &c->reasons[i];
        const stage_info *st = r->stage < c->stage_count ? &c->stages[r->stage] : NULL;
        if (r->label && strcmp(r->label, r->code) != 0) strbuf_printf(b, "%s (%s) ", r->label, r->code);
        else strbuf_printf(b, "%s ", r->code);
        switch (r->action) {
        case REASON_NURTURE:
        case REASON_STAGE:
            strbuf_printf(b, "%s the lead to %s (%s)", r->action == REASON_NURTURE ? "returns" : "sends",
                          st ? st->name : "?", st && st->team ? st->team : "?");
            if (r->action == REASON_STAGE) strbuf_puts(b, " back");
            if (r->cooldown) {
                strbuf_puts(b, " for ");
                put_duration(b, r->cooldown, false);
                strbuf_puts(b, "; no gate hands it off again before then");
            }
            break;
        case REASON_SUPPRESS: strbuf_puts(b, "suppresses the lead: no gate hands it off again"); break;
        case REASON_REROUTE:
            strbuf_puts(b, "reroutes the lead to another owner; it keeps its stage");
            break;
        default: break;
        }
        strbuf_putc(b, '.');
        flush(x, "  - ", 4);
    }
}

static void explain_tests(explainer *x)
{
    const contract *c = x->c;
    heading(x, "Golden tests");
    strbuf *b = &x->para;
    if (c->test_count == 0) {
        strbuf_puts(b, "The contract carries no golden tests.");
        flush(x, "", 0);
        return;
    }
    strbuf_printf(b, "The contract carries %u golden test%s: example leads whose outcome is written "
                     "down in advance. `baton test` replays %s and reports any that come out "
                     "differently:",
                  c->test_count, c->test_count == 1 ? "" : "s", c->test_count == 1 ? "it" : "them");
    flush(x, "", 0);
    for (uint32_t i = 0; i < c->test_count; i++) {
        strbuf_puts(b, c->tests[i].name ? c->tests[i].name : "(unnamed)");
        flush(x, "  - ", 4);
    }
}

static void explain_routing(explainer *x)
{
    const contract *c = x->c;
    const routing_info *ri = &c->routing;
    heading(x, "Routing");
    strbuf *b = &x->para;
    strbuf_puts(b, "When a lead is handed off, baton picks its owner inside the receiving team");
    if (!ri->defined) strbuf_puts(b, " (the contract leaves routing at its defaults)");
    strbuf_puts(b, ". ");
    if (ri->account_owner == ROUTE_OWNER_FIRST)
        strbuf_puts(b, "A lead from an account that has an owner goes to that owner when the owner is on the "
                       "receiving team and available; when the owner is away, inactive or at capacity it goes "
                       "to the pool of the owner's team.");
    else
        strbuf_puts(b, "Account owners play no part: every lead goes to a pool.");
    flush(x, "", 0);
    if (ri->rule_count) {
        strbuf_puts(b, "The first of these rules that holds picks the pool:");
        flush(x, "", 0);
    }
    for (size_t i = 0; i < ri->rule_count; i++) {
        const route_rule_info *r = &ri->rules[i];
        char number[24];
        snprintf(number, sizeof number, "%zu. ", i + 1);
        put_words(b, r->name, true);
        strbuf_printf(b, " — team %s", r->team ? r->team : "?");
        if (r->territory) strbuf_printf(b, ", territory %s", r->territory);
        const node *when = c->route_rules[i].e.when.root;
        if (r->stage >= 0) strbuf_printf(b, ", for %s handed into %s", when ? "leads" : "every lead", c->stages[r->stage].name);
        else if (!when) strbuf_puts(b, ", for every lead");
        if (when) {
            strbuf_puts(b, ", when ");
            say_cond(c, when, b);
        }
        strbuf_putc(b, '.');
        flush(x, number, strlen(number));
    }
    strbuf_puts(b, ri->rule_count ? "When no rule holds, the lead goes to the whole receiving team. "
                                  : "The pool is the whole receiving team. ");
    strbuf_puts(b, "Inside a pool leads go round in turn, weighted by capacity: a rep who may hold 10 open "
                   "handoffs gets twice the leads of one who may hold 5. A rep who is out of office, inactive "
                   "or at capacity is skipped");
    static const char *const hours[] = {
        [ROUTE_HOURS_IGNORE] = "; working hours play no part.",
        [ROUTE_HOURS_PREFER] = "; reps in their working hours come first, and the others take a lead only when "
                               "nobody in the pool is working.",
        [ROUTE_HOURS_REQUIRE] = ", and so is a rep outside their working hours.",
    };
    strbuf_puts(b, hours[ri->working_hours]);
    strbuf_puts(b, ri->catch_up ? " A rep back from time away catches up: the leads they missed come to them first."
                                : " A rep back from time away rejoins the rotation level with the others, without "
                                  "a backlog of the leads they missed.");
    static const char *const credit[] = {
        [0] = " A rejected or returned lead does not give the rep another.",
        [ROUTE_CREDIT_REJECTED] = " A lead sales rejects gives the rep a lead back: the next one in their pool.",
        [ROUTE_CREDIT_RETURNED] = " A lead returned to marketing after it was accepted gives the rep a lead back: "
                                  "the next one in their pool.",
        [ROUTE_CREDIT_REJECTED | ROUTE_CREDIT_RETURNED] =
            " A lead sales rejects, or returns to marketing, gives the rep a lead back: the next one in their pool.",
    };
    strbuf_puts(b, credit[ri->credit_back & 3]);
    strbuf_puts(b, " When nobody in the pool can take the lead it stays with the team, unassigned, and the "
                   "decision says why; a lead is never without an owning team.");
    flush(x, "", 0);
}

void contract_explain(const contract *c, strbuf *out)
{
    explainer x = {.c = c, .out = out};
    strbuf_init(&x.para);
    explain_header(&x);
    explain_fit(&x);
    explain_signals(&x);
    explain_gates(&x);
    explain_require(&x);
    explain_context(&x);
    explain_stages(&x);
    explain_sla(&x);
    explain_points(&x);
    explain_reasons(&x);
    explain_routing(&x);
    explain_tests(&x);
    if (x.para.oom) out->oom = true;
    strbuf_free(&x.para);
}
