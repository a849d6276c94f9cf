/* The compiler: checked syntax trees to bytecode for a small stack machine.
 *
 * `and` and `or` short-circuit with jumps that peek at the top of the stack;
 * macros are compiled inline; list literals become anonymous lists; string
 * constants are interned so that equality is an integer compare. */
#include "contract/internal.h"

#include <string.h>

typedef struct compiler {
    contract *c;
    errors *errs;
    const expr *e;
    const expr *top;       /* the expression being compiled, macros aside */
    const node *top_node;
    insn code[CONTRACT_MAX_PROGRAM];
    uint32_t len;
    uint32_t depth, max_depth; /* stack depth now and at most */
    unsigned nesting;          /* macro inlining depth */
    bool ok;
} compiler;

static void fail(compiler *k, const node *n, enum error_code code, const char *msg)
{
    if (!k->ok) return;
    k->ok = false;
    errors_add(k->errs, code, expr_offset(k->e, n->start), n->len, "%s", msg);
}

static uint32_t emit(compiler *k, const node *at, uint8_t op, uint32_t arg, int stack_delta)
{
    if (k->len == CONTRACT_MAX_PROGRAM) {
        /* reported where the expression is written, not inside a macro */
        k->e = k->top;
        error *err = NULL;
        if (k->ok)
            err = errors_add(k->errs, ERR_LIMIT, expr_offset(k->top, k->top_node->start), k->top_node->len,
                             "this condition compiles to more than %d instructions", CONTRACT_MAX_PROGRAM);
        if (err) error_hint(err, "macros are copied where they are used; nest fewer of them");
        k->ok = false;
        (void)at;
        return 0;
    }
    insn *i = &k->code[k->len];
    memset(i, 0, sizeof *i);
    i->op = op;
    i->arg = arg;
    k->depth = (uint32_t)((int)k->depth + stack_delta);
    if (k->depth > k->max_depth) k->max_depth = k->depth;
    if (k->max_depth > PROGRAM_MAX_STACK) fail(k, at, ERR_LIMIT, "expression too deep to evaluate");
    return k->len++;
}

int32_t contract_intern(contract *c, const char *s, uint32_t len)
{
    int32_t found = contract_intern_find(c, s, len);
    if (found >= 0) return found;
    if (c->string_count == c->string_cap) {
        uint32_t cap = c->string_cap ? 2 * c->string_cap : 64;
        const char **strings = arena_alloc(c->arena, cap * sizeof *strings);
        uint32_t *lens = arena_alloc(c->arena, cap * sizeof *lens);
        int32_t *slots = arena_alloc(c->arena, 2 * cap * sizeof *slots);
        if (!strings || !lens || !slots) return -1;
        if (c->string_count) {
            memcpy(strings, c->strings, c->string_count * sizeof *strings);
            memcpy(lens, c->string_lens, c->string_count * sizeof *lens);
        }
        c->strings = strings;
        c->string_lens = lens;
        c->string_cap = cap;
        /* Rehash into a table twice the capacity: load stays under 1/2. */
        c->intern_mask = 2 * cap - 1;
        memset(slots, 0xff, 2 * cap * sizeof *slots);
        for (uint32_t i = 0; i < c->string_count; i++) {
            uint32_t h = (uint32_t)hash_bytes(strings[i], lens[i]) & c->intern_mask;
            while (slots[h] >= 0) h = (h + 1) & c->intern_mask;
            slots[h] = (int32_t)i;
        }
        c->intern_slots = slots;
    }
    char *copy = arena_strndup(c->arena, s, len);
    if (!copy) return -1;
    int32_t id = (int32_t)c->string_count++;
    c->strings[id] = copy;
    c->string_lens[id] = len;
    if (len > c->longest_string) c->longest_string = len;
    uint32_t h = (uint32_t)hash_bytes(s, len) & c->intern_mask;
    while (c->intern_slots[h] >= 0) h = (h + 1) & c->intern_mask;
    c->intern_slots[h] = id;
    return id;
}

int32_t contract_intern_find(const contract *c, const char *s, size_t len)
{
    if (!c->intern_slots || len > c->longest_string) return -1; /* longer than every constant */
    uint32_t h = (uint32_t)hash_bytes(s, len) & c->intern_mask;
    for (;;) {
        int32_t id = c->intern_slots[h];
        if (id < 0) return -1;
        if (c->string_lens[id] == len && memcmp(c->strings[id], s, len) == 0) return id;
        h = (h + 1) & c->intern_mask;
    }
}

uint32_t contract_const(contract *c, value v)
{
    if (c->const_count == c->const_cap) {
        uint32_t cap = c->const_cap ? 2 * c->const_cap : 64;
        value *bigger = arena_alloc(c->arena, cap * sizeof *bigger);
        if (!bigger) return UINT32_MAX;
        if (c->const_count) memcpy(bigger, c->consts, c->const_count * sizeof *bigger);
        c->consts = bigger;
        c->const_cap = cap;
    }
    c->consts[c->const_count] = v;
    return c->const_count++;
}

uint32_t contract_field_slot(contract *c, const char *path, uint8_t scope, uint8_t type,
                             bool derived)
{
    for (uint32_t i = 0; i < c->field_count; i++)
        if (strcmp(c->fields[i].path, path) == 0) return i;
    if (c->field_count == CONTRACT_MAX_FIELDS) return UINT32_MAX;
    field_info *f = &c->fields[c->field_count];
    f->path = arena_strndup(c->arena, path, strlen(path));
    if (!f->path) return UINT32_MAX;
    f->scope = scope;
    f->type = type;
    f->derived = derived;
    return c->field_count++;
}

/* An anonymous list for a literal [ "a", "b" ], or the named one. */
static uint32_t list_for(compiler *k, const node *n)
{
    if (n->kind == N_NAME) {
        if (n->ref == REF_LIST) return n->index;
        /* a macro that stands for a list literal */
        const node *body = k->c->macros[n->index].body.root;
        const expr *saved = k->e;
        k->e = &k->c->macros[n->index].body;
        uint32_t idx = list_for(k, body);
        k->e = saved;
        return idx;
    }
    contract *c = k->c;
    if (c->list_count == CONTRACT_MAX_LISTS) {
        fail(k, n, ERR_LIMIT, "too many lists");
        return 0;
    }
    list_def *l = &c->lists[c->list_count];
    memset(l, 0, sizeof *l);
    l->name = "";
    l->offset = expr_offset(k->e, n->start);
    l->items = arena_alloc(c->arena, (n->nargs ? n->nargs : 1) * sizeof *l->items);
    if (!l->items) {
        fail(k, n, ERR_NOMEM, "out of memory");
        return 0;
    }
    for (uint32_t i = 0; i < n->nargs; i++) {
        l->items[i] = n->args[i]->lit.str.s;
        if (contract_intern(c, n->args[i]->lit.str.s, n->args[i]->lit.str.len) < 0)
            fail(k, n, ERR_NOMEM, "out of memory");
    }
    l->count = n->nargs;
    return c->list_count++;
}

static void compile_node(compiler *k, const node *n);

static void push_const(compiler *k, const node *n, value v)
{
    uint32_t idx = contract_const(k->c, v);
    if (idx == UINT32_MAX) {
        fail(k, n, ERR_NOMEM, "out of memory");
        return;
    }
    emit(k, n, I_PUSH, idx, +1);
}

static void compile_call(compiler *k, const node *n)
{
    const char *f = n->lit.str.s;
    if (strcmp(f, "exists") == 0) {
        emit(k, n, I_EXISTS, n->args[0]->index, +1);
        return;
    }
    if (strcmp(f, "last") == 0 || strcmp(f, "since") == 0) {
        emit(k, n, f[0] == 'l' ? I_LAST : I_SINCE, n->index, +1);
        return;
    }
    const node *window = strcmp(f, "count") == 0 ? n->args[1] : n->args[2];
    value w = {.type = VAL_DUR, .as.ms = window->lit.ms};
    uint32_t widx = contract_const(k->c, w);
    if (widx == UINT32_MAX) {
        fail(k, n, ERR_NOMEM, "out of memory");
        return;
    }
    uint32_t at = emit(k, n, f[0] == 'c' ? I_COUNT : I_DISTINCT, n->index, +1);
    if (!k->ok) return;
    k->code[at].arg2 = widx;
    k->code[at].scope = n->op;
}

static void compile_name(compiler *k, const node *n)
{
    switch (n->ref) {
    case REF_FIELD: emit(k, n, I_FIELD, n->index, +1); return;
    case REF_SIGNAL: emit(k, n, I_SIGNAL, n->index, +1); return;
    case REF_FIT: emit(k, n, I_FIT, n->index, +1); return;
    case REF_SCORE: emit(k, n, I_SCORE, 0, +1); return;
    case REF_POINTS: emit(k, n, I_POINTS, 0, +1); return;
    case REF_NOW: emit(k, n, I_NOW, 0, +1); return;
    case REF_MACRO: {
        const macro_def *m = &k->c->macros[n->index];
        if (++k->nesting > CONTRACT_MAX_DEPTH) {
            fail(k, n, ERR_LIMIT, "macros nested too deeply");
            return;
        }
        const expr *saved = k->e;
        k->e = &m->body;
        compile_node(k, m->body.root);
        k->e = saved;
        k->nesting--;
        return;
    }
    default: fail(k, n, ERR_TYPE, "this name cannot be evaluated here"); return;
    }
}

static const uint8_t binop_code[] = {
    [OP_EQ] = I_CMP_EQ,        [OP_NE] = I_CMP_NE,    [OP_LT] = I_CMP_LT,
    [OP_LE] = I_CMP_LE,        [OP_GT] = I_CMP_GT,    [OP_GE] = I_CMP_GE,
    [OP_STARTS_WITH] = I_STARTS, [OP_ENDS_WITH] = I_ENDS, [OP_CONTAINS] = I_HAS,
    [OP_ADD] = I_ADDV,         [OP_SUB] = I_SUBV,     [OP_MUL] = I_MULV,
    [OP_DIV] = I_DIVV,
};

static void compile_binary(compiler *k, const node *n)
{
    switch (n->op) {
    case OP_AND:
    case OP_OR: {
        compile_node(k, n->a);
        uint32_t jump = emit(k, n, n->op == OP_AND ? I_JUMP_FALSE : I_JUMP_TRUE, 0, 0);
        emit(k, n, I_POP, 0, -1);
        compile_node(k, n->b);
        if (k->ok) k->code[jump].arg = k->len;
        return;
    }
    case OP_IN:
    case OP_NOT_IN:
    case OP_MENTIONS: {
        compile_node(k, n->a);
        uint32_t list = list_for(k, n->b);
        if (n->op == OP_MENTIONS && list < k->c->list_count) k->c->lists[list].mentioned = true;
        emit(k, n, n->op == OP_MENTIONS ? I_MENTIONS : I_IN_LIST, list, 0);
        if (n->op == OP_NOT_IN) emit(k, n, I_LNOT, 0, 0);
        return;
    }
    case OP_MATCHES:
        compile_node(k, n->a);
        emit(k, n, I_REGEX, n->b->index, 0);
        return;
    default:
        compile_node(k, n->a);
        compile_node(k, n->b);
        emit(k, n, binop_code[n->op], 0, -1);
        return;
    }
}

static void compile_node(compiler *k, const node *n)
{
    if (!k->ok) return;
    value v = {0};
    switch (n->kind) {
    case N_BOOL:
        v.type = VAL_BOOL;
        v.as.b = n->lit.b;
        push_const(k, n, v);
        return;
    case N_NUM:
        v.type = VAL_NUM;
        v.as.num = n->lit.num;
        push_const(k, n, v);
        return;
    case N_DUR:
    case N_TIME:
        v.type = n->kind == N_DUR ? VAL_DUR : VAL_TIME;
        v.as.ms = n->lit.ms;
        push_const(k, n, v);
        return;
    case N_STR: {
        int32_t id = contract_intern(k->c, n->lit.str.s, n->lit.str.len);
        if (id < 0) {
            fail(k, n, ERR_NOMEM, "out of memory");
            return;
        }
        v.type = VAL_STR;
        v.as.str.s = k->c->strings[id];
        v.as.str.len = n->lit.str.len;
        v.as.str.id = id;
        push_const(k, n, v);
        return;
    }
    case N_NAME: compile_name(k, n); return;
    case N_CALL: compile_call(k, n); return;
    case N_NOT:
        compile_node(k, n->a);
        emit(k, n, I_LNOT, 0, 0);
        return;
    case N_NEG:
        compile_node(k, n->a);
        emit(k, n, I_NEGATE, 0, 0);
        return;
    case N_BINARY: compile_binary(k, n); return;
    case N_LIST: fail(k, n, ERR_TYPE, "a list cannot be evaluated on its own"); return;
    }
}

program *compile_expr(contract *c, errors *errs, const expr *e)
{
    return compile_subterm(c, errs, e, e->root);
}

program *compile_subterm(contract *c, errors *errs, const expr *e, const node *root)
{
    compiler *k = mem_alloc(sizeof *k); /* large: keep it off the stack */
    program *p = NULL;
    if (!k) {
        errors_add(errs, ERR_NOMEM, expr_offset(e, 0), 1, "out of memory");
        goto done;
    }
    k->c = c;
    k->errs = errs;
    k->e = k->top = e;
    k->top_node = root;
    k->len = k->depth = k->max_depth = k->nesting = 0;
    k->ok = true;
    compile_node(k, root);
    if (!k->ok) goto done;
    insn *code = arena_alloc(c->arena, k->len * sizeof *code);
    p = arena_alloc(c->arena, sizeof *p);
    if (!code || !p) {
        p = NULL;
        errors_add(errs, ERR_NOMEM, expr_offset(e, 0), 1, "out of memory");
        goto done;
    }
    memcpy(code, k->code, k->len * sizeof *code);
    p->code = code;
    p->len = k->len;
    p->max_stack = k->max_depth;
    p->c = c;
done:
    mem_free(k);
    return p;
}

/* ---- explanation terms ------------------------------------------------------ */

static bool worth_explaining(const node *n)
{
    switch (n->kind) {
    case N_CALL: return true;
    case N_NAME: return n->ref == REF_SIGNAL || n->ref == REF_FIT || n->ref == REF_FIELD ||
                        n->ref == REF_SCORE || n->ref == REF_POINTS || n->ref == REF_MACRO;
    case N_BINARY: return n->op != OP_AND && n->op != OP_OR;
    default: return false;
    }
}

/* Adds the terms of a condition, outermost first, down to fields. Each
 * macro is opened once per gate, so shared macros cost nothing twice. */
static void collect_terms(contract *c, errors *errs, const expr *e, const node *n, term_info *terms,
                          uint32_t *count, unsigned depth, uint8_t *opened)
{
    if (*count >= CONTRACT_MAX_TERMS || depth > CONTRACT_MAX_DEPTH) return;
    if (worth_explaining(n)) {
        strbuf b;
        strbuf_init(&b);
        node_print(n, &b);
        const char *text = b.oom ? NULL : arena_strndup(c->arena, b.data, b.len);
        strbuf_free(&b);
        bool seen = false;
        for (uint32_t i = 0; text && i < *count && !seen; i++) seen = strcmp(terms[i].text, text) == 0;
        if (text && !seen) {
            program *p = compile_subterm(c, errs, e, n);
            if (!p) return;
            terms[*count].text = text;
            terms[(*count)++].prog = p;
        }
    }
    switch (n->kind) {
    case N_NOT:
    case N_NEG: collect_terms(c, errs, e, n->a, terms, count, depth + 1, opened); break;
    case N_BINARY:
        collect_terms(c, errs, e, n->a, terms, count, depth + 1, opened);
        if (n->op != OP_IN && n->op != OP_NOT_IN && n->op != OP_MENTIONS && n->op != OP_MATCHES)
            collect_terms(c, errs, e, n->b, terms, count, depth + 1, opened);
        break;
    case N_NAME:
        if (n->ref == REF_MACRO && c->macros[n->index].body.root && !opened[n->index]) {
            opened[n->index] = 1;
            collect_terms(c, errs, &c->macros[n->index].body, c->macros[n->index].body.root, terms,
                          count, depth + 1, opened);
        }
        break;
    default: break;
    }
}

void compile_terms(contract *c, errors *errs, gate_def *g)
{
    term_info terms[CONTRACT_MAX_TERMS];
    uint32_t count = 0;
    uint8_t opened[CONTRACT_MAX_MACROS] = {0};
    collect_terms(c, errs, &g->e.when, g->e.when.root, terms, &count, 0, opened);
    term_info *copy = arena_alloc(c->arena, (count ? count : 1) * sizeof *copy);
    if (!copy) return;
    memcpy(copy, terms, count * sizeof *copy);
    g->info.terms = copy;
    g->info.term_count = count;
}

void program_fields(contract *c, const program *p, const uint32_t **slots, uint32_t *count)
{
    uint32_t found[CONTRACT_MAX_FIELDS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->len; i++) {
        if (p->code[i].op != I_FIELD && p->code[i].op != I_EXISTS) continue;
        bool seen = false;
        for (uint32_t j = 0; j < n && !seen; j++) seen = found[j] == p->code[i].arg;
        if (!seen) found[n++] = p->code[i].arg;
    }
    uint32_t *copy = arena_alloc(c->arena, (n ? n : 1) * sizeof *copy);
    if (!copy) return;
    memcpy(copy, found, n * sizeof *copy);
    *slots = copy;
    *count = n;
}
