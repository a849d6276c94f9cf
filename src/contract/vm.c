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
    return c->matcher && l->mentioned && text_mentions(c->matcher, l->phrases, text);
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
    for (uint32_t i = 0; i + m <= n; i++)
        if (s[i] == p[0] && memcmp(s + i, p, m) == 0) return true;
    return false;
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

value program_eval(const program *p, const eval_env *env)
{
    value stack[PROGRAM_MAX_STACK];
    uint32_t sp = 0;
    const contract *c = p->c;
    for (uint32_t pc = 0; pc < p->len; pc++) {
        const insn *in = &p->code[pc];
        switch ((enum opcode)in->op) {
        case I_PUSH: stack[sp++] = c->consts[in->arg]; break;
        case I_FIELD: stack[sp++] = env->fields ? env->fields[in->arg] : null_value; break;
        case I_EXISTS:
            stack[sp++] = boolean(env->fields && env->fields[in->arg].type != VAL_NULL);
            break;
        case I_SIGNAL: stack[sp++] = boolean(env->signal_now && env->signal_now[in->arg]); break;
        case I_FIT: stack[sp++] = boolean(env->fit && env->fit[in->arg]); break;
        case I_COUNT:
        case I_DISTINCT: {
            value v = null_value;
            duration_ms window = c->consts[in->arg2].as.ms;
            if (in->op == I_COUNT && env->count) {
                v.type = VAL_NUM;
                v.as.num = env->count(env->ctx, in->arg, window, (enum agg_scope)in->scope);
            } else if (in->op == I_DISTINCT && env->distinct) {
                v.type = VAL_NUM;
                v.as.num = env->distinct(env->ctx, in->arg, window);
            }
            stack[sp++] = v;
            break;
        }
        case I_LAST:
        case I_SINCE: {
            value v = null_value;
            time_ms when;
            if (env->last && env->last(env->ctx, in->arg, &when)) {
                v.type = in->op == I_LAST ? VAL_TIME : VAL_DUR;
                v.as.ms = in->op == I_LAST ? when : env->now - when;
            }
            stack[sp++] = v;
            break;
        }
        case I_SCORE: stack[sp++] = env->score; break;
        case I_POINTS: stack[sp++] = env->points; break;
        case I_NOW:
            stack[sp].type = VAL_TIME;
            stack[sp++].as.ms = env->now;
            break;
        case I_LNOT: stack[sp - 1] = boolean(!truthy(stack[sp - 1])); break;
        case I_NEGATE: {
            value *v = &stack[sp - 1];
            if (v->type == VAL_NUM) v->as.num = -v->as.num;
            else if (v->type == VAL_DUR) v->as.ms = -v->as.ms;
            else *v = null_value;
            break;
        }
        case I_ADDV:
        case I_SUBV:
        case I_MULV:
        case I_DIVV:
            sp--;
            stack[sp - 1] = arith(in->op, &stack[sp - 1], &stack[sp]);
            break;
        case I_CMP_EQ:
        case I_CMP_NE: {
            sp--;
            int eq = equal(&stack[sp - 1], &stack[sp]);
            bool nulls = stack[sp - 1].type == VAL_NULL || stack[sp].type == VAL_NULL;
            if (in->op == I_CMP_EQ) stack[sp - 1] = boolean(eq == 1);
            else stack[sp - 1] = boolean(!nulls && eq != 1);
            break;
        }
        case I_CMP_LT:
        case I_CMP_LE:
        case I_CMP_GT:
        case I_CMP_GE: {
            sp--;
            int o = order(&stack[sp - 1], &stack[sp]);
            bool r = false;
            if (o != 2) {
                if (in->op == I_CMP_LT) r = o < 0;
                else if (in->op == I_CMP_LE) r = o <= 0;
                else if (in->op == I_CMP_GT) r = o > 0;
                else r = o >= 0;
            }
            stack[sp - 1] = boolean(r);
            break;
        }
        case I_IN_LIST: stack[sp - 1] = boolean(in_list(c, &c->lists[in->arg], &stack[sp - 1])); break;
        case I_MENTIONS: stack[sp - 1] = boolean(mentions(c, &c->lists[in->arg], &stack[sp - 1])); break;
        case I_STARTS:
        case I_ENDS:
        case I_HAS: {
            sp--;
            int where = in->op == I_STARTS ? -1 : in->op == I_ENDS ? 1 : 0;
            stack[sp - 1] = boolean(affix(&stack[sp - 1], &stack[sp], where));
            break;
        }
        case I_REGEX: {
            value *v = &stack[sp - 1];
            bool hit = false;
            if (v->type == VAL_STR) {
                const regex_def *r = &c->regexes[in->arg];
                hit = pcre2_match(r->code, (PCRE2_SPTR)v->as.str.s, v->as.str.len, 0, 0,
                                  r->match_data, NULL) >= 0;
            }
            *v = boolean(hit);
            break;
        }
        case I_JUMP_FALSE:
            if (!truthy(stack[sp - 1])) {
                stack[sp - 1] = boolean(false);
                pc = in->arg - 1;
            }
            break;
        case I_JUMP_TRUE:
            if (truthy(stack[sp - 1])) pc = in->arg - 1;
            break;
        case I_POP: sp--; break;
        case I_COUNT_OF_OPCODES: break;
        }
    }
    return sp ? stack[sp - 1] : null_value;
}

// NOLINTEND(clang-analyzer-core.UndefinedBinaryOperatorResult)

bool program_holds(const program *p, const eval_env *env)
{
    return truthy(program_eval(p, env));
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
