/* contract_parse(): read, check and compile a contract; and its accessors.
 *
 * Order matters and is fixed: names and shapes first (so a gate may use a
 * signal defined below it), then every expression is checked and compiled,
 * then contract-wide checks (unreachable gates). Errors accumulate; the
 * contract is returned only when there are none. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "contract/internal.h"
#include "text/text.h"

#include <errno.h>
#include <pcre2.h>
#include <string.h>

static const char *const top_keys[] = {
    "contract", "version", "signed_by", "retention", "calendar", "lists",   "macros",  "kinds",
    "fit",      "signals", "points",    "gates",     "require",  "context", "stages",  "sla",
    "reasons",  "tests",   "identity",  "language", "word_order", "routing", "model",
};

/* language: english          the stemmer `mentions` uses (libstemmer's names)
 * word_order: strict | any   whether a phrase's words may come in any order */
static void load_reading(loader *ld, const ynode *root)
{
    contract *c = ld->c;
    c->language = "english";
    const ynode *n = ymap_get(root, "language");
    if (n && text_of(ld, n, "'language'")) {
        if (text_language_known(n->text)) {
            c->language = n->text;
        } else {
            const char **names = text_languages();
            size_t count = 0;
            while (names[count]) count++;
            error *err = bad(ld, n, ERR_VALUE, "unknown language '%s'", n->text);
            const char *near = nearest_name(n->text, n->len, names, count);
            if (near) error_hint(err, "did you mean '%s'?", near);
            else error_hint(err, "'mentions' stems words in one of libstemmer's languages, such as english, "
                                 "german, french, spanish or portuguese");
        }
    }
    n = ymap_get(root, "word_order");
    if (n && text_of(ld, n, "'word_order'")) {
        if (strcmp(n->text, "any") == 0) {
            c->any_order = true;
        } else if (strcmp(n->text, "strict") != 0) {
            error *err = bad(ld, n, ERR_VALUE, "'word_order' is 'strict' or 'any', not '%s'", n->text);
            error_hint(err, "'any' lets \"approval internally\" count for the phrase \"internal approval\"");
        }
    }
}

/* Every list on the right of `mentions` becomes prepared phrases, once.
 * Errors for phrases that cannot match go to errs; false when memory ran
 * out. */
static bool prepare_mentions(contract *c, errors *errs)
{
    bool any = false;
    for (uint32_t i = 0; i < c->list_count; i++) any |= c->lists[i].mentioned;
    if (!any) return true;
    c->matcher = text_matcher_new(c->language, c->any_order);
    c->matcher_found = arena_zalloc(c->arena, sizeof *c->matcher_found);
    if (!c->matcher || !c->matcher_found) return false;
    for (uint32_t i = 0; i < c->list_count; i++) {
        list_def *l = &c->lists[i];
        if (!l->mentioned) continue;
        uint32_t bad_item;
        enum text_phrase_error e = text_matcher_add(c->matcher, l->items, l->count, &l->phrases, &bad_item);
        if (e == TEXT_PHRASE_OK) continue;
        if (e == TEXT_PHRASE_NOMEM) return false;
        l->mentioned = false;
        uint32_t len = l->name[0] ? (uint32_t)strlen(l->name) : 1;
        const char *item = l->items[bad_item];
        char where[96];
        if (l->name[0]) snprintf(where, sizeof where, "list '%s'", l->name);
        else snprintf(where, sizeof where, "the list");
        error *err;
        if (e == TEXT_PHRASE_EMPTY) {
            err = errors_add(errs, ERR_VALUE, l->offset, len, "phrase '%s' in %s has no words to mention", item,
                             where);
            error_hint(err, "'mentions' matches words; punctuation alone never matches");
        } else if (e == TEXT_PHRASE_TOO_LONG) {
            err = errors_add(errs, ERR_LIMIT, l->offset, len, "phrase '%.60s' in %s has more than %d words", item,
                             where, TEXT_MAX_PHRASE_WORDS);
            error_hint(err, "a phrase is a few words the buyer would write; split it into shorter ones");
        } else {
            err = errors_add(errs, ERR_LIMIT, l->offset, len, "phrase '%.60s' in %s has a word longer than %d bytes",
                             item, where, TEXT_MAX_WORD);
            error_hint(err, "such a word never matches: messages are read word by word, up to that length");
        }
    }
    return text_matcher_finish(c->matcher);
}

/* identity: { also_free_mail: [...], not_free_mail: [...] } */
static void load_identity(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_MAP, "'identity'")) return;
    static const char *const keys[] = {"also_free_mail", "not_free_mail"};
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'identity'");
    for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
        const ynode *list = ymap_get(n, keys[k]);
        if (!list || !expect(ld, list, Y_SEQ, keys[k])) continue;
        const char **domains = arena_alloc(c->arena, (list->count ? list->count : 1) * sizeof *domains);
        if (!domains) return;
        size_t count = 0;
        for (uint32_t i = 0; i < list->count; i++) {
            const ynode *d = list->items[i];
            if (!text_of(ld, d, "a domain")) continue;
            if (!strchr(d->text, '.') || strchr(d->text, '@') || strchr(d->text, ' ')) {
                error *err = bad(ld, d, ERR_VALUE, "'%s' is not a mail domain", d->text);
                error_hint(err, "write the part after the @, as in gmail.com");
                continue;
            }
            domains[count++] = d->text;
        }
        if (k == 0) {
            c->identity.also_free = domains;
            c->identity.also_free_count = count;
        } else {
            c->identity.not_free = domains;
            c->identity.not_free_count = count;
        }
    }
}

static void compile_named(contract *c, errors *errs, named_expr *ne, enum expr_context ctx)
{
    if (!ne->when.root) return;
    if (check_expr(c, errs, &ne->when, ctx, TY_BOOL)) ne->prog = compile_expr(c, errs, &ne->when);
}

static void compile_all(contract *c, errors *errs)
{
    for (uint32_t i = 0; i < c->signal_count; i++) {
        signal_def *s = &c->signals[i];
        compile_named(c, errs, &s->e, CTX_SIGNAL);
        s->info.when = s->e.prog;
    }
    for (uint32_t i = 0; i < c->fit_count; i++) {
        compile_named(c, errs, &c->fit_exprs[i], CTX_FIT);
        c->fit[i].when = c->fit_exprs[i].prog;
        if (c->fit[i].when) program_fields(c, c->fit[i].when, &c->fit[i].slots, &c->fit[i].slot_count);
    }
    for (uint32_t i = 0; i < c->gate_count; i++) {
        gate_def *g = &c->gates[i];
        compile_named(c, errs, &g->e, CTX_GATE);
        g->info.when = g->e.prog;
        g->info.source = g->e.when.text;
        g->info.require |= c->about.require;
        if (g->info.when) compile_terms(c, errs, g);
        if (g->info.when) g->info.monotone = expr_monotone(c, g->e.when.root);
        if (g->info.when) g->info.every_hit = expr_hit_reads(c, g->e.when.root, g->info.reads);
    }
    compile_routing(c, errs);
    if (c->about.model) {
        /* the learned score reads firmographics and the lead's role whether
         * or not an expression does (docs/scoring.md): the engine keeps them */
        static const struct {
            const char *path;
            uint8_t scope, type;
        } model_fields[] = {
            {"account.industry", SCOPE_ACCOUNT, VAL_STR}, {"account.employees", SCOPE_ACCOUNT, VAL_NUM},
            {"account.revenue", SCOPE_ACCOUNT, VAL_NUM},  {"account.country", SCOPE_ACCOUNT, VAL_STR},
            {"lead.title", SCOPE_LEAD, VAL_STR},          {"lead.seniority", SCOPE_LEAD, VAL_STR},
        };
        for (size_t i = 0; i < ARRAY_LEN(model_fields); i++)
            contract_field_slot(c, model_fields[i].path, model_fields[i].scope, model_fields[i].type, false);
    }
    /* Macros nobody uses are still checked, so their mistakes show now. */
    for (uint32_t i = 0; i < c->macro_count; i++) {
        macro_def *m = &c->macros[i];
        if (m->state == 0 && m->body.root) {
            m->state = 1;
            m->ok = check_expr(c, errs, &m->body, CTX_GATE, TY_LIST);
            m->state = 2;
        }
    }
}

/* Whether a condition uses `mentions` (through macros too). */
static bool uses_mentions(const contract *c, const node *n, int depth)
{
    if (!n || depth > CONTRACT_MAX_DEPTH) return false;
    if (n->kind == N_BINARY && n->op == OP_MENTIONS) return true;
    if (n->kind == N_NAME && n->ref == REF_MACRO) return uses_mentions(c, c->macros[n->index].body.root, depth + 1);
    if (uses_mentions(c, n->a, depth + 1) || uses_mentions(c, n->b, depth + 1)) return true;
    for (uint32_t i = 0; i < n->nargs; i++)
        if (uses_mentions(c, n->args[i], depth + 1)) return true;
    return false;
}

static void compile_descriptions(contract *c, errors *errs, const ynode *signals)
{
    if (!signals || signals->kind != Y_MAP) return;
    for (uint32_t i = 0; i < c->signal_count; i++) {
        signal_def *s = &c->signals[i];
        const ynode *body = ymap_get(signals, s->info.name);
        const ynode *d = ymap_get(body, "describe");
        if (!d || d->kind != Y_SCALAR) continue;
        s->describe = template_compile(c, errs, d, CTX_TEMPLATE_EVENT);
        if (!s->describe || !s->e.when.root) continue;
        /* {phrase} and {sentence} tell what `mentions` found: the signal's
         * own condition must look. */
        for (uint32_t k = 0; k < s->describe->count; k++) {
            uint8_t w = s->describe->parts[k].word;
            if (s->describe->parts[k].text || (w != TW_PHRASE && w != TW_SENTENCE)) continue;
            if (uses_mentions(c, s->e.when.root, 0)) break;
            loader ld = {.c = c, .errs = errs};
            error *err = bad(&ld, d, ERR_NAME, "'{%s}' in signal '%s' needs a condition that uses 'mentions'",
                             w == TW_PHRASE ? "phrase" : "sentence", s->info.name);
            error_hint(err, "write it as in: when: message.text mentions risk_phrases");
            break;
        }
    }
}

/* A signal's guard: a conjunct of its condition that says which strings a
 * field must hold — `event.name == "X"`, an `or` of such on one field, or
 * `field in list`. Found on the top-level `and` chain only. */
static bool guard_from(contract *c, const node *n, int32_t *slot, const char **strings, uint32_t *count)
{
    for (int guard = 0; n->kind == N_NAME && n->ref == REF_MACRO && guard < CONTRACT_MAX_DEPTH; guard++) {
        if (!c->macros[n->index].body.root) return false;
        n = c->macros[n->index].body.root;
    }
    if (n->kind != N_BINARY) return false;
    if (n->op == OP_OR) {
        int32_t left = -1, right = -1;
        uint32_t before = *count;
        if (!guard_from(c, n->a, &left, strings, count) || !guard_from(c, n->b, &right, strings, count) ||
            left != right) {
            *count = before;
            return false;
        }
        *slot = left;
        return true;
    }
    const node *field = n->a, *other = n->b;
    if (n->op == OP_EQ && field->kind == N_STR) {
        field = n->b;
        other = n->a;
    }
    if (field->kind != N_NAME || field->ref != REF_FIELD) return false;
    if (n->op == OP_EQ && other->kind == N_STR) {
        if (*count == 16) return false;
        strings[(*count)++] = other->lit.str.s;
        *slot = (int32_t)field->index;
        return true;
    }
    if (n->op == OP_IN && other->kind == N_NAME && other->ref == REF_LIST) {
        const list_def *l = &c->lists[other->index];
        if (*count + l->count > 16) return false;
        for (uint32_t i = 0; i < l->count; i++) strings[(*count)++] = l->items[i];
        *slot = (int32_t)field->index;
        return true;
    }
    return false;
}

static void find_guard(contract *c, signal_def *s)
{
    s->guard_slot = -1;
    s->info.guard_decides = false;
    const node *n = s->e.when.root;
    if (!n || !s->e.prog) return;
    /* walk the and-chain from the left */
    const node *stack[CONTRACT_MAX_DEPTH];
    int top = 0;
    stack[top++] = n;
    while (top > 0) {
        const node *x = stack[--top];
        if (x->kind == N_BINARY && x->op == OP_AND && top + 2 <= CONTRACT_MAX_DEPTH) {
            stack[top++] = x->b;
            stack[top++] = x->a;
            continue;
        }
        int32_t slot = -1;
        uint32_t count = 0;
        if (guard_from(c, x, &slot, s->guard_strings, &count) && count > 0) {
            s->guard_slot = slot;
            s->guard_count = count;
            /* not a conjunct but the whole condition: the guard's test is the condition's */
            s->info.guard_decides = x == n;
            return;
        }
    }
}

bool contract_signal_may_match(const contract *c, size_t signal, const value *fields)
{
    const signal_def *s = &c->signals[signal];
    if (s->guard_slot < 0) return true;
    const value *v = &fields[s->guard_slot];
    if (v->type != VAL_STR) return false; /* a missing or non-text field fails the equality */
    int32_t id = v->as.str.id;
    if (id == STR_ID_UNKNOWN) id = contract_intern_find(c, v->as.str.s, v->as.str.len);
    return id >= 0 && ((s->guard_bits[id >> 6] >> (id & 63)) & 1);
}

/* The signal index. Each guarded field slot gets a table from intern id
 * to the signals whose guard names that string (a row of `admits`, by way
 * of `row_of`), so one lookup per slot answers for every signal guarded on
 * it. */
void contract_signal_candidates(const contract *c, const eval_env *env, uint64_t out[CONTRACT_SIGNAL_WORDS])
{
    memcpy(out, c->unguarded, sizeof c->unguarded);
    const guard_index *g = c->guard_index, *end = g + c->guard_index_count;
    const value *const *at = env->at;
    for (; g < end; g++) {
        const value *v = at ? &at[g->from][g->kept] : env_field(c, env, g->slot);
        if (v->type != VAL_STR) continue; /* a missing or non-text field fails every guard */
        int32_t id = v->as.str.id;
        if (id == STR_ID_UNKNOWN) id = contract_intern_find(c, v->as.str.s, v->as.str.len);
        uint32_t row = id >= 0 ? g->row_of[id] : 0;
        if (!row) continue;
        for (int w = 0; w < CONTRACT_SIGNAL_WORDS; w++) out[w] |= g->admits[row - 1][w];
    }
}

/* Builds the index from the guards find_guard() chose. False when out of
 * memory. */
static bool build_signal_index(contract *c)
{
    uint32_t slots[CONTRACT_MAX_SIGNALS], entries[CONTRACT_MAX_SIGNALS];
    uint32_t count = 0;
    memset(c->unguarded, 0, sizeof c->unguarded);
    for (uint32_t i = 0; i < c->signal_count; i++) {
        const signal_def *s = &c->signals[i];
        if (s->guard_slot < 0) {
            c->unguarded[i / 64] |= UINT64_C(1) << (i % 64);
            continue;
        }
        uint32_t k = 0;
        while (k < count && slots[k] != (uint32_t)s->guard_slot) k++;
        if (k == count) {
            slots[count] = (uint32_t)s->guard_slot;
            entries[count++] = 0;
        }
        entries[k] += s->guard_count;
    }
    c->guard_index_count = 0;
    c->guard_index = arena_zalloc(c->arena, (count ? count : 1) * sizeof *c->guard_index);
    if (!c->guard_index) return false;
    for (uint32_t k = 0; k < count; k++) {
        guard_index *g = &c->guard_index[k];
        g->slot = slots[k];
        g->from = c->fields[g->slot].from;
        g->kept = c->fields[g->slot].kept;
        g->admits = arena_zalloc(c->arena, (entries[k] + 1) * sizeof *g->admits); /* a row per string at most */
        g->row_of = arena_zalloc(c->arena, (c->string_count + 1) * sizeof *g->row_of);
        if (!g->admits || !g->row_of) return false;
        uint32_t rows = 0;
        for (uint32_t i = 0; i < c->signal_count; i++) {
            const signal_def *s = &c->signals[i];
            if (s->guard_slot != (int32_t)g->slot) continue;
            for (uint32_t j = 0; j < s->guard_count; j++) {
                /* as the signal's own guard_bits: a string never interned admits nothing */
                int32_t id = contract_intern_find(c, s->guard_strings[j], strlen(s->guard_strings[j]));
                if (id < 0) continue;
                if (!g->row_of[id]) g->row_of[id] = (uint16_t)++rows;
                g->admits[g->row_of[id] - 1][i / 64] |= UINT64_C(1) << (i % 64);
            }
        }
    }
    c->guard_index_count = count;
    return true;
}

/* Lists and signal guards become bit sets over the final intern table. */
static bool build_list_bits(contract *c)
{
    uint32_t words = (c->string_count + 63) / 64;
    for (uint32_t i = 0; i < c->signal_count; i++) {
        signal_def *s = &c->signals[i];
        find_guard(c, s);
        if (s->guard_slot < 0) continue;
        s->guard_bits = arena_zalloc(c->arena, (words ? words : 1) * sizeof *s->guard_bits);
        if (!s->guard_bits) return false;
        for (uint32_t j = 0; j < s->guard_count; j++) {
            int32_t id = contract_intern_find(c, s->guard_strings[j], strlen(s->guard_strings[j]));
            if (id >= 0) s->guard_bits[id >> 6] |= UINT64_C(1) << (id & 63);
        }
    }
    if (!build_signal_index(c)) return false;
    for (uint32_t i = 0; i < c->list_count; i++) {
        list_def *l = &c->lists[i];
        l->bits = arena_zalloc(c->arena, (words ? words : 1) * sizeof *l->bits);
        if (!l->bits) return false;
        for (uint32_t j = 0; j < l->count; j++) {
            int32_t id = contract_intern_find(c, l->items[j], strlen(l->items[j]));
            if (id >= 0) l->bits[id >> 6] |= UINT64_C(1) << (id & 63);
        }
    }
    return true;
}

contract *contract_parse(const char *path, const char *text, size_t len, errors *errs)
{
    contract *c = NULL;
    if (len > CONTRACT_MAX_BYTES) {
        error *err = errors_add(errs, ERR_LIMIT, 0, 1, "the contract is larger than %u bytes", CONTRACT_MAX_BYTES);
        error_hint(err, "move golden tests to a file of their own");
        return NULL;
    }
    c = mem_calloc(1, sizeof *c);
    if (!c) goto nomem;
    c->arena = arena_new(64 * 1024);
    if (!c->arena) goto nomem;
    c->path = arena_strndup(c->arena, path, strlen(path));
    if (!c->path) goto nomem;

    ynode *root = yaml_load(c->arena, errs, text, len);
    if (!root) {
        if (arena_failed(c->arena)) goto nomem;
        if (errs->count == 0) errors_add(errs, ERR_SCHEMA, 0, 1, "the contract is empty");
        goto fail;
    }
    loader ld = {.c = c, .errs = errs};
    if (!expect(&ld, root, Y_MAP, "a contract")) goto fail;
    check_keys(&ld, root, top_keys, ARRAY_LEN(top_keys), "the contract");

    load_header(&ld, root);
    load_identity(&ld, ymap_get(root, "identity"));
    load_reading(&ld, root);
    c->about.history = 14 * MS_PER_DAY; /* the context block's reach; windows may raise it */
    load_lists(&ld, ymap_get(root, "lists"));
    load_kinds(&ld, ymap_get(root, "kinds"));
    load_stages(&ld, required(&ld, root, "stages", "the contract"));
    const ynode *signals = required(&ld, root, "signals", "the contract");
    if (signals) load_signals(&ld, signals);
    load_macros(&ld, ymap_get(root, "macros"));
    load_fit(&ld, ymap_get(root, "fit"));
    load_points(&ld, ymap_get(root, "points"));
    check_duplicate_names(&ld);
    const ynode *req = ymap_get(root, "require");
    if (req) load_require(&ld, req, &c->about.require);
    const ynode *gates = required(&ld, root, "gates", "the contract");
    if (gates) load_gates(&ld, gates);
    load_routing(&ld, ymap_get(root, "routing"));

    compile_all(c, errs);
    compile_descriptions(c, errs, signals);
    load_context(&ld, ymap_get(root, "context"));
    load_sla(&ld, ymap_get(root, "sla"));
    load_reasons(&ld, ymap_get(root, "reasons"));
    load_tests(&ld, ymap_get(root, "tests"));
    check_gates_reachable(c, errs);
    if (!prepare_mentions(c, errs)) goto nomem;
    if (c->looks_back || c->about.history > c->about.retention) c->about.history = c->about.retention;

    /* A failed allocation anywhere in loading may have dropped a part
     * silently; a contract with a part missing must not be used. */
    if (arena_failed(c->arena)) goto nomem;
    if (errs->count || errs->dropped) goto fail;
    if (!build_list_bits(c) || arena_failed(c->arena)) goto nomem;
    return c;

nomem:
    errors_add(errs, ERR_NOMEM, 0, 1, "out of memory while reading the contract");
fail:
    contract_free(c);
    return NULL;
}

contract *contract_load(const char *path, strbuf *report)
{
    size_t len;
    char *text = file_read(path, &len);
    if (!text) {
        strbuf_printf(report, "%s: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    errors errs;
    errors_init(&errs, path, text, len);
    contract *c = contract_parse(path, text, len, &errs);
    if (!c) {
        errors_sort(&errs);
        errors_render(&errs, report);
    }
    mem_free(text);
    return c;
}

void contract_free(contract *c)
{
    if (!c) return;
    for (uint32_t i = 0; i < c->regex_count; i++) {
        pcre2_match_data_free(c->regexes[i].match_data);
        pcre2_code_free(c->regexes[i].code);
    }
    text_matcher_free(c->matcher);
    arena_free(c->arena);
    mem_free(c);
}

/* ---- accessors --------------------------------------------------------------- */

const contract_info *contract_about(const contract *c) { return &c->about; }
size_t contract_field_count(const contract *c) { return c->field_count; }
const field_info *contract_field(const contract *c, size_t i) { return &c->fields[i]; }
size_t contract_stage_count(const contract *c) { return c->stage_count; }
const stage_info *contract_stage(const contract *c, size_t i) { return &c->stages[i]; }
size_t contract_kind_count(const contract *c) { return c->kind_count; }
const kind_info *contract_kind(const contract *c, size_t i) { return &c->kinds[i]; }
size_t contract_signal_count(const contract *c) { return c->signal_count; }
const signal_info *contract_signal(const contract *c, size_t i) { return &c->signals[i].info; }
size_t contract_fit_count(const contract *c) { return c->fit_count; }
const fit_info *contract_fit(const contract *c, size_t i) { return &c->fit[i]; }
size_t contract_gate_count(const contract *c) { return c->gate_count; }
const gate_info *contract_gate(const contract *c, size_t i) { return &c->gates[i].info; }
size_t contract_reason_count(const contract *c) { return c->reason_count; }
const reason_info *contract_reason(const contract *c, size_t i) { return &c->reasons[i]; }
const points_info *contract_points(const contract *c) { return &c->points; }
const identity_info *contract_identity(const contract *c) { return &c->identity; }
size_t contract_test_count(const contract *c) { return c->test_count; }
const test_info *contract_test(const contract *c, size_t i) { return &c->tests[i]; }

const char *contract_topic_question(const contract *c, const char *topic)
{
    for (uint32_t i = 0; i < c->topic_count; i++)
        if (strcmp(c->topics[i], topic) == 0) return c->questions[i];
    return NULL;
}

int contract_find_signal(const contract *c, const char *name)
{
    for (uint32_t i = 0; i < c->signal_count; i++)
        if (strcmp(c->signals[i].info.name, name) == 0) return (int)i;
    return -1;
}

int contract_find_gate(const contract *c, const char *name)
{
    for (uint32_t i = 0; i < c->gate_count; i++)
        if (strcmp(c->gates[i].info.name, name) == 0) return (int)i;
    return -1;
}

int contract_find_reason(const contract *c, const char *code)
{
    for (uint32_t i = 0; i < c->reason_count; i++)
        if (strcmp(c->reasons[i].code, code) == 0) return (int)i;
    return -1;
}

int contract_find_stage(const contract *c, const char *name)
{
    for (uint32_t i = 0; i < c->stage_count; i++)
        if (strcmp(c->stages[i].name, name) == 0) return (int)i;
    return -1;
}

bool contract_model_path(const contract *c, const char *contract_path, char *out, size_t size)
{
    const char *model = c->about.model;
    if (!model) return false;
    const char *slash = model[0] == '/' ? NULL : strrchr(contract_path, '/');
    if (slash) snprintf(out, size, "%.*s/%s", (int)(slash - contract_path), contract_path, model);
    else snprintf(out, size, "%s", model);
    return true;
}
