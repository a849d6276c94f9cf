/* The compiler: checked syntax trees to bytecode for a small stack machine.
 *
 * `and` and `or` short-circuit with jumps that peek at the top of the stack;
 * macros are compiled inline; list literals become anonymous lists; string
 * constants are interned so that equality is an integer compare. */
#include "contract/internal.h"

#include <math.h>
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

/* The bit of c->intern_filter for a string. */
static inline uint32_t filter_bit(const char *s, size_t len)
{
    if (!len) return 0;
    return ((uint32_t)len * 0x9E37u + (uint8_t)s[0] * 0x85EBu + (uint8_t)s[len - 1] * 0xC2B3u) & 4095u;
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
    uint32_t bit = filter_bit(s, len);
    c->intern_filter[bit / 64] |= UINT64_C(1) << (bit % 64);
    uint32_t h = (uint32_t)hash_bytes(s, len) & c->intern_mask;
    while (c->intern_slots[h] >= 0) h = (h + 1) & c->intern_mask;
    c->intern_slots[h] = id;
    return id;
}

int32_t contract_intern_find(const contract *c, const char *s, size_t len)
{
    if (!c->intern_slots || len > c->longest_string) return -1; /* longer than every constant */
    uint32_t bit = filter_bit(s, len);
    if (!(c->intern_filter[bit / 64] >> (bit % 64) & 1)) return -1; /* no constant of this length and ends */
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

/* Where the engine keeps a new field (field_info.from, .kept). The lead's id,
 * stage, owner and status and the account's domain are the engine's own
 * state, worked out per event; other lead and account fields are kept as
 * identify and group calls set them; the rest come with each event. */
static uint8_t field_from(const char *path, uint8_t scope, uint16_t *state)
{
    static const char *const paths[STATE_FIELD_COUNT] = {
        [STATE_LEAD_ID] = "lead.id",         [STATE_LEAD_STAGE] = "lead.stage",
        [STATE_LEAD_OWNER] = "lead.owner",   [STATE_LEAD_STATUS] = "lead.status",
        [STATE_ACCOUNT_DOMAIN] = "account.domain"};
    for (unsigned i = 0; i < STATE_FIELD_COUNT; i++) {
        if (strcmp(path, paths[i]) != 0) continue;
        *state = (uint16_t)i;
        return FIELD_FROM_STATE;
    }
    if (scope == SCOPE_LEAD) return FIELD_FROM_LEAD;
    if (scope == SCOPE_ACCOUNT) return FIELD_FROM_ACCOUNT;
    return FIELD_FROM_EVENT;
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
    uint16_t state = 0;
    f->from = field_from(path, scope, &state);
    f->kept = f->from == FIELD_FROM_EVENT ? (uint16_t)c->field_count : state;
    if (f->from == FIELD_FROM_LEAD || f->from == FIELD_FROM_ACCOUNT) {
        /* slots are only ever added: its rank where it is kept counts the fields before it */
        for (uint32_t i = 0; i < c->field_count; i++) f->kept += c->fields[i].from == f->from;
    }
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

/* ---- fusing: the form the evaluator runs ----------------------------------
 *
 * The compiled code is kept as it is for listings; the evaluator runs a copy
 * rewritten in two steps that change no result.
 *
 * 1. Jump threading. `a and b and c` nests: the jump after `a` lands on the
 *    jump after `b`. A jump taken leaves a known truth on the stack (false
 *    after I_JUMP_FALSE, true after I_JUMP_TRUE), so a jump it lands on is
 *    decided already: it is followed to its own target, or, when it would
 *    not jump, past it and the POP after it (which drops the truth: the
 *    first jump then pushes nothing). Every jump so ends on an instruction
 *    that is neither a jump nor a POP, often the end of the program.
 *
 * 2. Fusing, over runs of instructions no jump lands inside:
 *      FIELD f; PUSH k; CMP_x      -> FIELD_CMPK f x k
 *      S; PUSH k; CMP_x            -> SRC_CMPK S x k   (S: COUNT, SINCE, SCORE, ...)
 *      PUSH k; CMP_x               -> CMPK x k
 *      FIELD f; IN_LIST l          -> FIELD_IN f l
 *      FIELD f; MENTIONS l         -> FIELD_MENTIONS f l
 *      FIELD f; PUSH k; STARTS/ENDS/HAS -> FIELD_AFFIX f k
 *      FIELD f; (LNOT or a jump)   -> FIELD_TRUTH f
 *      JUMP_x; POP  (not fused)    -> TEST with that branch
 *    then, after any test (anything that computes a truth), an LNOT becomes
 *    its BR_NOT bit and a JUMP_x; POP its branch (enum branch).
 *
 * A condition made of tests that read no operand from the stack (most
 * are: `fit.icp and count(intent, 14d) >= 1 and since(intent) <= 14d`) is
 * marked tests_only, and vm.c runs it without a stack. */

/* Where a jump taken from `at` ends, with the truth it leaves; *keep is
 * false when it ends past a POP that would drop that truth. */
static uint32_t thread_jump(const insn *code, uint32_t len, uint32_t at, bool *keep)
{
    bool truth = code[at].op == I_JUMP_TRUE;
    uint32_t t = code[at].arg;
    *keep = true;
    for (uint32_t hops = 0; t < len && hops < len; hops++) {
        uint8_t op = code[t].op;
        if (op != I_JUMP_FALSE && op != I_JUMP_TRUE) break;
        if ((op == I_JUMP_TRUE) == truth) {
            t = code[t].arg; /* decided the same way: follow it */
            continue;
        }
        if (t + 1 < len && code[t + 1].op == I_POP) { /* falls through and drops the truth */
            t += 2;
            *keep = false;
        }
        break;
    }
    return t;
}

/* Tests that read no operand from the stack. */
static bool is_stack_free_test(uint8_t op)
{
    switch (op) {
    case I_SIGNAL: case I_FIT: case I_EXISTS: case I_FIELD_CMPK: case I_FIELD_EQ_STR: case I_SRC_CMPK: case I_FIELD_IN:
    case I_FIELD_MENTIONS: case I_FIELD_TRUTH: case I_FIELD_AFFIX: case I_COUNT_ATLEAST: case I_DISTINCT_ATLEAST:
        return true;
    default: return false;
    }
}

/* Instructions whose result is a truth (from popped operands, or none). */
static bool is_test(uint8_t op)
{
    switch (op) {
    case I_LNOT: case I_CMP_EQ: case I_CMP_NE: case I_CMP_LT: case I_CMP_LE: case I_CMP_GT: case I_CMP_GE:
    case I_IN_LIST: case I_STARTS: case I_ENDS: case I_HAS: case I_REGEX: case I_MENTIONS:
    case I_CMPK: case I_TEST:
        return true;
    default: return is_stack_free_test(op);
    }
}

static bool is_cmp(uint8_t op)
{
    return op >= I_CMP_EQ && op <= I_CMP_GE;
}

/* Instructions that push a value read from the environment, which
 * I_SRC_CMPK can compare in place (I_FIELD has I_FIELD_CMPK). */
static bool is_source(uint8_t op)
{
    switch (op) {
    case I_COUNT: case I_DISTINCT: case I_LAST: case I_SINCE: case I_SCORE: case I_POINTS: case I_NOW:
        return true;
    default: return false;
    }
}

/* count(...) or distinct(...) compared with a number turns on whether the
 * count reaches a whole number `least`: n >= k holds from ceil(k) on, n > k
 * from floor(k) + 1 on, and < and <= are their negations. The history can
 * then stop counting at `least` (eval_env.count). Other comparisons, and
 * constants no count can reach, stay I_SRC_CMPK. */
static void at_least(const contract *c, insn *x)
{
    const value *k = &c->consts[x->konst];
    if ((x->src != I_COUNT && x->src != I_DISTINCT) || k->type != VAL_NUM) return;
    double v = k->as.num;
    if (!(v < (double)UINT32_MAX)) return; /* NaN too */
    double from;
    switch (x->cmp) {
    case I_CMP_GE:
    case I_CMP_LT: from = ceil(v); break;
    case I_CMP_GT:
    case I_CMP_LE: from = floor(v) + 1; break;
    default: return;
    }
    x->least = from > 0 ? (uint32_t)from : 0;
    x->cmp = x->cmp == I_CMP_GE || x->cmp == I_CMP_GT ? I_CMP_GE : I_CMP_LT;
    x->op = x->src == I_COUNT ? I_COUNT_ATLEAST : I_DISTINCT_ATLEAST;
}

/* Builds `out` (at least `len` entries) from `code`; returns its length, or
 * 0 when some jump would land inside a fused run (then the caller runs the
 * code as compiled; the compiler emits nothing that does this today). */
static uint32_t fuse(const contract *c, const insn *code, uint32_t len, insn *out, bool *tests_only)
{
    uint32_t *target = mem_alloc(3 * (size_t)(len + 1) * sizeof *target);
    if (!target) return 0;
    uint32_t *landing = target + len + 1; /* jumps that end here */
    uint32_t *at = landing + len + 1;     /* old index -> new index, UINT32_MAX inside a run */
    bool keep[CONTRACT_MAX_PROGRAM] = {false}; /* read only at jumps; set for the analyser */
    memset(landing, 0, (len + 1) * sizeof *landing);
    for (uint32_t i = 0; i < len; i++) {
        at[i] = UINT32_MAX;
        if (code[i].op != I_JUMP_FALSE && code[i].op != I_JUMP_TRUE) continue;
        target[i] = thread_jump(code, len, i, &keep[i]);
        landing[target[i]]++;
    }
    at[len] = UINT32_MAX;

    uint32_t n = 0;
    for (uint32_t i = 0; i < len;) {
        insn x = code[i];
        at[i] = n;
        uint32_t next = i + 1;
#define FREE(j) ((j) < len && !landing[j]) /* j exists and no jump lands on it */
        if ((x.op == I_FIELD || is_source(x.op)) && FREE(i + 1) && code[i + 1].op == I_PUSH && FREE(i + 2) &&
            is_cmp(code[i + 2].op)) {
            x.src = x.op;
            x.op = x.op == I_FIELD ? I_FIELD_CMPK : I_SRC_CMPK;
            x.konst = code[i + 1].arg;
            x.cmp = code[i + 2].op;
            const value *k = &c->consts[x.konst];
            if (x.op == I_FIELD_CMPK && x.cmp == I_CMP_EQ && k->type == VAL_STR && k->as.str.id >= 0)
                x.op = I_FIELD_EQ_STR; /* event.name == "Demo Requested": the commonest test */
            if (x.op == I_SRC_CMPK) at_least(c, &x);
            next = i + 3;
        } else if (x.op == I_FIELD && FREE(i + 1) && code[i + 1].op == I_PUSH && FREE(i + 2) &&
                   (code[i + 2].op == I_STARTS || code[i + 2].op == I_ENDS || code[i + 2].op == I_HAS)) {
            x.op = I_FIELD_AFFIX; /* message.text contains "migration": else a stack for each */
            x.konst = code[i + 1].arg;
            x.cmp = code[i + 2].op;
            next = i + 3;
        } else if (x.op == I_PUSH && FREE(i + 1) && is_cmp(code[i + 1].op)) {
            x.op = I_CMPK;
            x.konst = x.arg;
            x.cmp = code[i + 1].op;
            next = i + 2;
        } else if (x.op == I_FIELD && FREE(i + 1) && (code[i + 1].op == I_IN_LIST || code[i + 1].op == I_MENTIONS)) {
            x.op = code[i + 1].op == I_IN_LIST ? I_FIELD_IN : I_FIELD_MENTIONS;
            x.arg2 = code[i + 1].arg;
            next = i + 2;
        } else if (x.op == I_FIELD && FREE(i + 1) &&
                   (code[i + 1].op == I_LNOT ||
                    ((code[i + 1].op == I_JUMP_FALSE || code[i + 1].op == I_JUMP_TRUE) && FREE(i + 2) &&
                     code[i + 2].op == I_POP))) {
            x.op = I_FIELD_TRUTH; /* the suffix below is certain to be taken */
        } else if ((x.op == I_JUMP_FALSE || x.op == I_JUMP_TRUE) && FREE(i + 1) && code[i + 1].op == I_POP) {
            x.op = I_TEST;
            x.branch = (uint8_t)((code[i].op == I_JUMP_TRUE ? BR_IF_TRUE : BR_IF_FALSE) | (keep[i] ? BR_KEEP : 0));
            x.target = target[i];
            next = i + 2;
        } else if (x.op == I_JUMP_FALSE || x.op == I_JUMP_TRUE) {
            goto refuse; /* a jump with no POP after it: the compiler makes none */
        }
        /* a test takes in the `not`s and the jump that follow it */
        while (is_test(x.op) && !(x.branch & (BR_IF_FALSE | BR_IF_TRUE)) && FREE(next)) {
            uint8_t op = code[next].op;
            if (op == I_LNOT) {
                x.branch ^= BR_NOT;
                next++;
            } else if ((op == I_JUMP_FALSE || op == I_JUMP_TRUE) && FREE(next + 1) && code[next + 1].op == I_POP) {
                x.branch |= (uint8_t)((op == I_JUMP_TRUE ? BR_IF_TRUE : BR_IF_FALSE) | (keep[next] ? BR_KEEP : 0));
                x.target = target[next];
                next += 2;
            } else {
                break;
            }
        }
#undef FREE
        out[n++] = x;
        i = next;
    }
    at[len] = n;
    *tests_only = true;
    for (uint32_t j = 0; j < n; j++) {
        insn *x = &out[j];
        /* the last test must push its truth: it is the program's value */
        if (!is_stack_free_test(x->op) || (j == n - 1 && x->branch & (BR_IF_FALSE | BR_IF_TRUE)))
            *tests_only = false;
        if (!(x->branch & (BR_IF_FALSE | BR_IF_TRUE))) continue;
        if (at[x->target] == UINT32_MAX) goto refuse;
        x->target = at[x->target];
        /* the jump as the truth before the `not` decides it, which the evaluator reads */
        bool negated = (x->branch & BR_NOT) != 0;
        x->jump_on = (uint8_t)(((x->branch & (negated ? BR_IF_TRUE : BR_IF_FALSE)) ? 1 : 0) |
                               ((x->branch & (negated ? BR_IF_FALSE : BR_IF_TRUE)) ? 2 : 0));
    }
    mem_free(target);
    return n;
refuse:
    mem_free(target);
    return 0;
}

/* A test of a field slot that is false when the field is null (every one
 * of these is, before its `not`). */
static bool null_false_test(uint8_t op)
{
    switch (op) {
    case I_EXISTS: case I_FIELD_CMPK: case I_FIELD_EQ_STR: case I_FIELD_IN: case I_FIELD_MENTIONS:
    case I_FIELD_TRUTH: case I_FIELD_AFFIX:
        return true;
    default: return false;
    }
}

/* The slot of a tests_only program whose null makes the program false,
 * else -1. Either the first test reads it, is not negated, and is the whole
 * program or jumps to its end when false; or every test reads it and none
 * is negated, so every test run is false and so is the last, which is the
 * program's value (an `or` of `contains`: "message.text contains "a" or
 * message.text contains "b""). */
static int32_t null_fails_slot(const program *p)
{
    if (!p->tests_only || p->run_len == 0) return -1;
    const insn *x = &p->run[0];
    if (!null_false_test(x->op) || (x->branch & BR_NOT)) return -1;
    bool alone = p->run_len == 1 && !(x->branch & (BR_IF_FALSE | BR_IF_TRUE));
    bool ends = (x->branch & BR_IF_FALSE) && x->target >= p->run_len;
    if (alone || ends) return (int32_t)x->arg;
    for (uint32_t i = 1; i < p->run_len; i++) {
        const insn *y = &p->run[i];
        /* a later mention must still run, to clear its matcher's last find */
        if (!null_false_test(y->op) || y->op == I_FIELD_MENTIONS || (y->branch & BR_NOT) || y->arg != x->arg)
            return -1;
    }
    return (int32_t)x->arg;
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
    insn *run = arena_alloc(c->arena, k->len * sizeof *run);
    p = arena_alloc(c->arena, sizeof *p);
    if (!code || !run || !p) {
        p = NULL;
        errors_add(errs, ERR_NOMEM, expr_offset(e, 0), 1, "out of memory");
        goto done;
    }
    memcpy(code, k->code, k->len * sizeof *code);
    p->code = code;
    p->len = k->len;
    p->run_len = fuse(c, code, k->len, run, &p->tests_only);
    if (p->run_len == 0) { /* nothing to run faster, or no memory to find out: run it as compiled */
        memcpy(run, code, k->len * sizeof *run);
        p->run_len = k->len;
        p->tests_only = false;
    }
    p->run = run;
    p->max_stack = k->max_depth;
    p->c = c;
    p->null_fails = null_fails_slot(p);
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
