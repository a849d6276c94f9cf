/* The evaluator: runs a compiled program over one event's environment.
 * No allocation, no string comparison against constants (interned ids),
 * no clock: `now` is the decision time the caller passes in.
 *
 * Missing values: a field the event lacks reads as null. Every comparison
 * with null is false; `not` of null is true; `and`/`or` treat null as false.
 *
 * A contract's regular expressions share one match block each, and its
 * `mentions` lists one text matcher (a scratch area and a stemmer), so a
 * contract is evaluated by one thread at a time. */
#define _GNU_SOURCE /* memmem() */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "contract/internal.h"
#include "text/text.h"

#include <pcre2.h>
#include <string.h>

static const value null_value = {.type = VAL_NULL};

/* The compiler proves every read of the stack is of a slot written before
 * (pushes and pops are counted per instruction); the analyzer cannot follow
 * that through the helpers below, so its "garbage value" reports about stack
 * values are silenced from here to the end of program_eval(). */
// NOLINTBEGIN(clang-analyzer-core.UndefinedBinaryOperatorResult)

static value boolean(bool b)
{
    value v = {.type = VAL_BOOL, .as.b = b};
    return v;
}

static bool truthy(value v)
{
    return v.type == VAL_BOOL && v.as.b;
}

static bool str_equal(const value *a, const value *b)
{
    int32_t x = a->as.str.id, y = b->as.str.id;
    if (x >= 0 && y >= 0) return x == y;
    if ((x == -1 && y >= 0) || (y == -1 && x >= 0)) return false; /* not a constant */
    return a->as.str.len == b->as.str.len && memcmp(a->as.str.s, b->as.str.s, a->as.str.len) == 0;
}

/* 1: a = b, 0: a != b, -1: incomparable (null or different types). */
static int equal(const value *a, const value *b)
{
    if (a->type == VAL_NULL || b->type == VAL_NULL || a->type != b->type) return -1;
    switch (a->type) {
    case VAL_BOOL: return a->as.b == b->as.b;
    case VAL_NUM: return a->as.num == b->as.num;
    case VAL_STR: return str_equal(a, b);
    default: return a->as.ms == b->as.ms;
    }
}

/* <0, 0, >0 for ordered comparison; 2 when incomparable. */
static int order(const value *a, const value *b)
{
    if (a->type != b->type) return 2;
    if (a->type == VAL_NUM) {
        if (a->as.num != a->as.num || b->as.num != b->as.num) return 2; /* NaN */
        return (a->as.num > b->as.num) - (a->as.num < b->as.num);
    }
    if (a->type == VAL_DUR || a->type == VAL_TIME) return (a->as.ms > b->as.ms) - (a->as.ms < b->as.ms);
    return 2;
}

static bool in_list(const contract *c, const list_def *l, const value *v)
{
    if (v->type != VAL_STR) return false;
    int32_t id = v->as.str.id;
    if (id == STR_ID_UNKNOWN) id = contract_intern_find(c, v->as.str.s, v->as.str.len);
    if (id < 0 || !l->bits) return false;
    return (l->bits[id >> 6] >> (id & 63)) & 1;
}

/* Phrases of a list in the buyer's words: stemmed, accent-folded, negation
 * aware (src/text/mentions.c). The match is kept for {phrase}/{sentence}. */
static bool mentions(const contract *c, const list_def *l, const value *v)
{
    str text = {NULL, 0};
    if (v->type == VAL_STR) {
        text.s = v->as.str.s;
        text.len = v->as.str.len;
    }
    if (!c->matcher || !l->mentioned) return false;
    bool found = text_mentions(c->matcher, l->phrases, text);
    *c->matcher_found = found;
    return found;
}

static bool affix(const value *a, const value *b, int where)
{
    if (a->type != VAL_STR || b->type != VAL_STR) return false;
    const char *s = a->as.str.s, *p = b->as.str.s;
    uint32_t n = a->as.str.len, m = b->as.str.len;
    if (m > n) return false;
    if (where < 0) return memcmp(s, p, m) == 0;
    if (where > 0) return memcmp(s + n - m, p, m) == 0;
    if (m == 0) return true;
    return memmem(s, n, p, m) != NULL; /* glibc's: a byte at a time cost 400 instructions a message */
}

static value arith(uint8_t op, const value *a, const value *b)
{
    value r = null_value;
    if (a->type == VAL_NULL || b->type == VAL_NULL) return r;
    if (a->type == VAL_NUM && b->type == VAL_NUM) {
        r.type = VAL_NUM;
        switch (op) {
        case I_ADDV: r.as.num = a->as.num + b->as.num; break;
        case I_SUBV: r.as.num = a->as.num - b->as.num; break;
        case I_MULV: r.as.num = a->as.num * b->as.num; break;
        default:
            if (b->as.num == 0) return null_value;
            r.as.num = a->as.num / b->as.num;
        }
        return r;
    }
    bool a_ms = a->type == VAL_DUR || a->type == VAL_TIME, b_ms = b->type == VAL_DUR || b->type == VAL_TIME;
    if (a_ms && b_ms && (op == I_ADDV || op == I_SUBV)) {
        r.as.ms = op == I_ADDV ? a->as.ms + b->as.ms : a->as.ms - b->as.ms;
        if (a->type == VAL_TIME && b->type == VAL_TIME) r.type = VAL_DUR;
        else if (a->type == VAL_TIME || b->type == VAL_TIME) r.type = VAL_TIME;
        else r.type = VAL_DUR;
        return r;
    }
    if (op == I_MULV && a->type == VAL_DUR && b->type == VAL_NUM) {
        r.type = VAL_DUR;
        r.as.ms = (int64_t)((double)a->as.ms * b->as.num);
    } else if (op == I_MULV && a->type == VAL_NUM && b->type == VAL_DUR) {
        r.type = VAL_DUR;
        r.as.ms = (int64_t)(a->as.num * (double)b->as.ms);
    } else if (op == I_DIVV && a->type == VAL_DUR && b->type == VAL_NUM && b->as.num != 0) {
        r.type = VAL_DUR;
        r.as.ms = (int64_t)((double)a->as.ms / b->as.num);
    }
    return r;
}

/* equal(v, k) == 1 for a string constant k with an interned id. */
static bool equals_constant(const value *v, const value *k)
{
    if (v->type != VAL_STR) return false;
    int32_t id = v->as.str.id;
    if (id >= 0) return id == k->as.str.id;
    if (id == -1) return false; /* not one of the contract's strings */
    return v->as.str.len == k->as.str.len &&
           (k->as.str.len == 0 || memcmp(v->as.str.s, k->as.str.s, k->as.str.len) == 0);
}

/* The comparison I_CMP_EQ .. I_CMP_GE of a with b: false with a null, as
 * with values of different types (except that != of two non-null values
 * of different types holds). */
static bool compare(uint8_t op, const value *a, const value *b)
{
    if (op == I_CMP_EQ) return equal(a, b) == 1;
    if (op == I_CMP_NE) return a->type != VAL_NULL && b->type != VAL_NULL && equal(a, b) != 1;
    int o = order(a, b);
    if (o == 2) return false;
    switch (op) {
    case I_CMP_LT: return o < 0;
    case I_CMP_LE: return o <= 0;
    case I_CMP_GT: return o > 0;
    default: return o >= 0;
    }
}

/* The value one of I_COUNT, I_DISTINCT, I_LAST, I_SINCE, I_SCORE, I_POINTS,
 * I_NOW pushes: `op` names it, `in` holds its arguments. */
static value source(uint8_t op, const insn *in, const contract *c, const eval_env *env)
{
    value v = null_value;
    time_ms when;
    switch (op) {
    case I_COUNT:
        if (env->count) {
            v.type = VAL_NUM;
            v.as.num = env->count(env->ctx, in->arg, c->consts[in->arg2].as.ms, (enum agg_scope)in->scope,
                                  CONTRACT_EXACT);
        }
        break;
    case I_DISTINCT:
        if (env->distinct) {
            v.type = VAL_NUM;
            v.as.num = env->distinct(env->ctx, in->arg, c->consts[in->arg2].as.ms, CONTRACT_EXACT);
        }
        break;
    case I_LAST:
    case I_SINCE:
        if (env->last && env->last(env->ctx, in->arg, &when)) {
            v.type = op == I_LAST ? VAL_TIME : VAL_DUR;
            v.as.ms = op == I_LAST ? when : env->now - when;
        }
        break;
    case I_SCORE: v = env->score; break;
    case I_POINTS: v = env->points; break;
    case I_NOW:
        v.type = VAL_TIME;
        v.as.ms = env->now;
        break;
    default: break;
    }
    return v;
}

/* A test that reads nothing from the stack (compile.c, is_stack_free_test()). */
static inline bool test(const contract *c, const insn *in, const eval_env *env)
{
    /* a missing field reads as null: each test below is false on a null, as on no fields at all */
    switch (in->op) {
    case I_FIT: return env->fit && env->fit[in->arg];
    case I_SIGNAL: return env->signal_now && env->signal_now[in->arg];
    case I_EXISTS: return env_field(c, env, in->arg)->type != VAL_NULL;
    case I_FIELD_CMPK: return compare(in->cmp, env_field(c, env, in->arg), &c->consts[in->konst]);
    case I_FIELD_EQ_STR: return equals_constant(env_field(c, env, in->arg), &c->consts[in->konst]);
    case I_FIELD_IN: return in_list(c, &c->lists[in->arg2], env_field(c, env, in->arg));
    case I_FIELD_MENTIONS: return mentions(c, &c->lists[in->arg2], env_field(c, env, in->arg));
    case I_FIELD_TRUTH: return truthy(*env_field(c, env, in->arg));
    case I_FIELD_AFFIX:
        return affix(env_field(c, env, in->arg), &c->consts[in->konst],
                     in->cmp == I_STARTS ? -1 : in->cmp == I_ENDS ? 1 : 0);
    case I_COUNT_ATLEAST:
        return env->count &&
               (env->count(env->ctx, in->arg, c->consts[in->arg2].as.ms, (enum agg_scope)in->scope,
                           in->least) >= in->least) == (in->cmp == I_CMP_GE);
    case I_DISTINCT_ATLEAST:
        return env->distinct && (env->distinct(env->ctx, in->arg, c->consts[in->arg2].as.ms,
                                               in->least) >= in->least) == (in->cmp == I_CMP_GE);
    case I_SRC_CMPK: {
        if (in->src == I_SCORE)
            return compare(in->cmp, &env->score, &c->consts[in->konst]); /* in place */
        value v = source(in->src, in, c, env);
        return compare(in->cmp, &v, &c->consts[in->konst]);
    }
    default: return false;
    }
}

/* After a fused test whose truth before its `not` is `raw`: its value into
 * *r, and the instruction to run next. */
static inline const insn *after_test(const insn *code, const insn *in, bool raw, bool *r)
{
    *r = raw != ((in->branch & BR_NOT) != 0);
    return (in->jump_on >> raw) & 1 ? code + in->target : in + 1;
}

/* A tests_only program from instruction `pc` on: no stack, its value is the
 * truth of the last test run (compile.c shows why that is the value the
 * stack would hold). */
static __attribute__((noinline)) bool run_tests(const program *p, const eval_env *env, uint32_t pc)
{
    const insn *code = p->run, *in = code + pc, *end = code + p->run_len;
    bool r = false;
    while (in < end)
        in = after_test(code, in, test(p->c, in, env), &r);
    return r;
}

/* Runs the fused form (compile.c, fuse()) on a stack. An instruction
 * either leaves its value on the stack and goes on (`continue`), or is a
 * test: it computes a truth `r` and the code after the switch applies its
 * branch bits. Kept out of line so that program_eval()'s short ways out
 * do not pay for setting up the stack. */
static __attribute__((noinline)) value run_stack(const program *p, const eval_env *env)
{
    value stack[PROGRAM_MAX_STACK];
    uint32_t sp = 0, pc = 0;
    const contract *c = p->c;
    const insn *code = p->run;
    while (pc < p->run_len) {
        const insn *in = &code[pc++];
        bool r;
        switch ((enum opcode)in->op) {
        case I_PUSH: stack[sp++] = c->consts[in->arg]; continue;
        case I_FIELD: stack[sp++] = *env_field(c, env, in->arg); continue;
        case I_COUNT:
        case I_DISTINCT:
        case I_LAST:
        case I_SINCE:
        case I_SCORE:
        case I_POINTS:
        case I_NOW: stack[sp++] = source(in->op, in, c, env); continue;
        case I_LNOT: r = !truthy(stack[--sp]); break;
        case I_NEGATE: {
            value *v = &stack[sp - 1];
            if (v->type == VAL_NUM) v->as.num = -v->as.num;
            else if (v->type == VAL_DUR) v->as.ms = -v->as.ms;
            else *v = null_value;
            continue;
        }
        case I_ADDV:
        case I_SUBV:
        case I_MULV:
        case I_DIVV:
            sp--;
            stack[sp - 1] = arith(in->op, &stack[sp - 1], &stack[sp]);
            continue;
        case I_CMP_EQ:
        case I_CMP_NE:
        case I_CMP_LT:
        case I_CMP_LE:
        case I_CMP_GT:
        case I_CMP_GE:
            sp -= 2;
            r = compare(in->op, &stack[sp], &stack[sp + 1]);
            break;
        case I_IN_LIST: r = in_list(c, &c->lists[in->arg], &stack[--sp]); break;
        case I_MENTIONS: r = mentions(c, &c->lists[in->arg], &stack[--sp]); break;
        case I_STARTS:
        case I_ENDS:
        case I_HAS:
            sp -= 2;
            r = affix(&stack[sp], &stack[sp + 1], in->op == I_STARTS ? -1 : in->op == I_ENDS ? 1 : 0);
            break;
        case I_REGEX: {
            const value *v = &stack[--sp];
            r = false;
            if (v->type == VAL_STR) {
                const regex_def *re = &c->regexes[in->arg];
                r = pcre2_match(re->code, (PCRE2_SPTR)v->as.str.s, v->as.str.len, 0, 0,
                                re->match_data, NULL) >= 0;
            }
            break;
        }
        case I_JUMP_FALSE: /* only in code fuse() left as compiled */
            if (!truthy(stack[sp - 1])) {
                stack[sp - 1] = boolean(false);
                pc = in->arg;
            }
            continue;
        case I_JUMP_TRUE:
            if (truthy(stack[sp - 1])) pc = in->arg;
            continue;
        case I_POP: sp--; continue;
        case I_CMPK:
            sp--;
            r = compare(in->cmp, &stack[sp], &c->consts[in->konst]);
            break;
        case I_TEST: r = truthy(stack[--sp]); break;
        case I_FIT:
        case I_SIGNAL:
        case I_EXISTS:
        case I_FIELD_CMPK:
        case I_FIELD_EQ_STR:
        case I_SRC_CMPK:
        case I_FIELD_IN:
        case I_FIELD_MENTIONS:
        case I_FIELD_TRUTH:
        case I_FIELD_AFFIX:
        case I_COUNT_ATLEAST:
        case I_DISTINCT_ATLEAST: r = test(c, in, env); break;
        default: continue;
        }
        /* a test: its `not`, then its jump, or its truth pushed */
        uint8_t br = in->branch;
        if (br & BR_NOT) r = !r;
        if (br & (r ? BR_IF_TRUE : BR_IF_FALSE)) {
            if (br & BR_KEEP) stack[sp++] = boolean(r);
            pc = in->target;
        } else if (!(br & (BR_IF_FALSE | BR_IF_TRUE))) {
            stack[sp++] = boolean(r);
        }
    }
    return sp ? stack[sp - 1] : null_value;
}

// NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult)

value program_eval(const program *p, const eval_env *env)
{
    if (p->tests_only) return boolean(run_tests(p, env, 0));
    if (p->run_len == 1 && p->run[0].op == I_FIELD) /* a bare field: "{page.title}", a term */
        return *env_field(p->c, env, p->run[0].arg);
    return run_stack(p, env);
}

/* Out of line, so that program_holds() saves no registers on its way to
 * run_tests(). */
static __attribute__((noinline)) bool stack_holds(const program *p, const eval_env *env)
{
    return truthy(run_stack(p, env));
}

bool program_holds(const program *p, const eval_env *env)
{
    if (!p->tests_only) return stack_holds(p, env);
    /* False, decided by the null (null_fails_slot()). A first test that is
     * a mention still runs, as run_tests() would run it, when the matcher
     * holds a find: it then forgets it, as {phrase} must. */
    if (p->null_fails >= 0 && (env->at || env->fields) &&
        env_field(p->c, env, (uint32_t)p->null_fails)->type == VAL_NULL) {
        const insn *first = &p->run[0];
        if (first->op == I_FIELD_MENTIONS && p->c->matcher_found && *p->c->matcher_found)
            mentions(p->c, &p->c->lists[first->arg2], &null_value);
        return false;
    }
    /* Fit predicates and signals, which gates mostly begin with (and most
     * often end with), are read here: a program decided by them costs no
     * call. run_tests() goes on from the first other test. */
    const insn *code = p->run, *in = code, *end = code + p->run_len;
    bool r = false;
    while (in < end) {
        const bool *truth;
        if (in->op == I_FIT)
            truth = env->fit;
        else if (in->op == I_SIGNAL)
            truth = env->signal_now;
        else
            return run_tests(p, env, (uint32_t)(in - code));
        in = after_test(code, in, truth && truth[in->arg], &r);
    }
    return r;
}

bool program_reads_only_fields(const program *p, const bool *field_ok)
{
    if (p->null_fails >= 0 && !field_ok[p->null_fails]) return false;
    for (uint32_t pc = 0; pc < p->run_len; pc++) {
        const insn *in = &p->run[pc];
        switch ((enum opcode)in->op) {
        case I_FIELD:
        case I_EXISTS:
        case I_FIELD_CMPK:
        case I_FIELD_EQ_STR:
        case I_FIELD_IN:
        case I_FIELD_TRUTH:
        case I_FIELD_AFFIX:
            if (!field_ok[in->arg]) return false;
            break;
        case I_PUSH:
        case I_LNOT:
        case I_NEGATE:
        case I_ADDV:
        case I_SUBV:
        case I_MULV:
        case I_DIVV:
        case I_CMP_EQ:
        case I_CMP_NE:
        case I_CMP_LT:
        case I_CMP_LE:
        case I_CMP_GT:
        case I_CMP_GE:
        case I_IN_LIST:
        case I_STARTS:
        case I_ENDS:
        case I_HAS:
        case I_JUMP_FALSE:
        case I_JUMP_TRUE:
        case I_POP:
        case I_CMPK:
        case I_TEST: break;
        default: return false; /* signals, fits, history, score, points, now, mentions, patterns */
        }
    }
    return true;
}

size_t program_length(const program *p)
{
    return p->len;
}

static const char *const opcode_names[] = {
#define X(k, n) #k,
    OPCODES(X)
#undef X
};

/* The signal or kind an aggregate counts. */
static const char *target_name(const contract *c, uint32_t target)
{
    if (target >= CONTRACT_KIND_BASE) {
        uint32_t k = target - CONTRACT_KIND_BASE;
        return k < c->kind_count ? c->kinds[k].name : "?";
    }
    return target < c->signal_count ? c->signals[target].info.name : "?";
}

void program_disassemble(const contract *c, const program *p, strbuf *out)
{
    for (uint32_t pc = 0; pc < p->len; pc++) {
        const insn *in = &p->code[pc];
        strbuf_printf(out, "%3u  %-14s", pc, opcode_names[in->op] + 2);
        switch (in->op) {
        case I_PUSH: {
            const value *v = &c->consts[in->arg];
            char buf[48];
            switch (v->type) {
            case VAL_BOOL: strbuf_puts(out, v->as.b ? "true" : "false"); break;
            case VAL_NUM: strbuf_printf(out, "%g", v->as.num); break;
            case VAL_STR:
                strbuf_json_string(out, v->as.str.s, v->as.str.len);
                strbuf_printf(out, " #%d", v->as.str.id);
                break;
            case VAL_DUR: duration_format(v->as.ms, buf, sizeof buf); strbuf_puts(out, buf); break;
            case VAL_TIME: time_format(v->as.ms, buf, sizeof buf); strbuf_puts(out, buf); break;
            default: strbuf_puts(out, "null");
            }
            break;
        }
        case I_FIELD:
        case I_EXISTS: strbuf_puts(out, c->fields[in->arg].path); break;
        case I_SIGNAL: strbuf_puts(out, c->signals[in->arg].info.name); break;
        case I_FIT: strbuf_printf(out, "fit.%s", c->fit[in->arg].name); break;
        case I_COUNT:
        case I_DISTINCT:
        case I_LAST:
        case I_SINCE: {
            strbuf_puts(out, target_name(c, in->arg));
            if (in->op == I_COUNT || in->op == I_DISTINCT) {
                char buf[32];
                duration_format(c->consts[in->arg2].as.ms, buf, sizeof buf);
                strbuf_printf(out, " %s", buf);
                if (in->op == I_COUNT) strbuf_puts(out, in->scope == AGG_ACCOUNT ? " account" : " lead");
            }
            break;
        }
        case I_IN_LIST:
        case I_MENTIONS:
            strbuf_puts(out, c->lists[in->arg].name[0] ? c->lists[in->arg].name : "[...]");
            break;
        case I_REGEX: strbuf_printf(out, "/%u", in->arg); break;
        case I_JUMP_FALSE:
        case I_JUMP_TRUE: strbuf_printf(out, "-> %u", in->arg); break;
        default: break;
        }
        strbuf_putc(out, '\n');
    }
}
