/* The expression parser: tokens to syntax trees, by recursive descent.
 *
 * Grammar (EBNF). Each parse_x() below is headed by its production.
 *
 *   expr       = or_expr ;
 *   or_expr    = and_expr { "or" and_expr } ;
 *   and_expr   = not_expr { "and" not_expr } ;
 *   not_expr   = "not" not_expr | comparison ;
 *   comparison = sum [ compare_op sum | [ "not" ] "in" sum | string_op sum ] ;
 *   compare_op = "==" | "!=" | "<" | "<=" | ">" | ">=" ;
 *   string_op  = "starts_with" | "ends_with" | "contains" | "matches" | "mentions" ;
 *   sum        = product { ( "+" | "-" ) product } ;
 *   product    = unary { ( "*" | "/" ) unary } ;
 *   unary      = "-" unary | primary ;
 *   primary    = NUMBER | DURATION | TIME | STRING | "true" | "false"
 *              | "(" expr ")" | list | call | path ;
 *   list       = "[" [ expr { "," expr } ] "]" ;
 *   call       = IDENT "(" [ expr { "," expr } ] ")" ;
 *   path       = IDENT { "." IDENT } ;
 *
 * Comparisons do not chain: `a < b < c` is an error, not a surprise. The
 * parser stops at the first syntax error of an expression (later ones are
 * usually echoes of it) and reports it with the position of what it found. */
#include "contract/internal.h"

#include <string.h>

typedef struct parser {
    arena *a;
    errors *errs;
    const expr *e;
    lexer lx;
    token tok;
    unsigned depth;
    bool failed;
} parser;

static const char *const binop_names[] = {
#define X(k, s) s,
    BINOPS(X)
#undef X
};

const char *binop_spelling(enum binop op)
{
    return binop_names[op];
}

static void advance(parser *p)
{
    p->tok = lexer_next(&p->lx);
}

static error *syntax_error(parser *p, const token *at, const char *fmt, const char *what)
{
    if (p->failed) return NULL;
    p->failed = true;
    uint32_t off = expr_offset(p->e, at->start);
    uint32_t end = expr_offset(p->e, at->start + (at->len ? at->len - 1 : 0)) + 1;
    return errors_add(p->errs, ERR_SYNTAX, off, end > off ? end - off : 1, fmt, what);
}

/* Reports the current token as unexpected, naming it by its text. */
static error *unexpected(parser *p, const char *wanted)
{
    if (p->failed) return NULL;
    if (p->tok.kind == T_ERROR) {
        error *err = syntax_error(p, &p->tok, "%s", p->tok.why);
        if (err && p->tok.hint) error_hint(err, "%s", p->tok.hint);
        return err;
    }
    char found[80];
    if (p->tok.kind == T_EOF)
        snprintf(found, sizeof found, "end of expression");
    else
        snprintf(found, sizeof found, "'%.*s'", (int)(p->tok.len < 40 ? p->tok.len : 40),
                 p->lx.src + p->tok.start);
    char msg[160];
    snprintf(msg, sizeof msg, "expected %s, found %s", wanted, found);
    return syntax_error(p, &p->tok, "%s", msg);
}

static node *new_node(parser *p, uint8_t kind, uint32_t start, uint32_t end)
{
    node *n = arena_zalloc(p->a, sizeof *n);
    if (!n) {
        if (!p->failed) errors_add(p->errs, ERR_NOMEM, expr_offset(p->e, start), 1, "out of memory");
        p->failed = true;
        return NULL;
    }
    n->kind = kind;
    n->start = start;
    n->len = end - start;
    return n;
}

/* A node's text copied into the arena; NULL (reported once) when memory
 * runs out, so no node reaches the checker without its text. */
static char *node_text(parser *p, uint32_t start, size_t len)
{
    char *s = arena_alloc(p->a, len + 1);
    if (!s) {
        if (!p->failed) errors_add(p->errs, ERR_NOMEM, expr_offset(p->e, start), 1, "out of memory");
        p->failed = true;
    }
    return s;
}

static uint32_t node_end(const node *n)
{
    return n->start + n->len;
}

static node *binary(parser *p, uint8_t op, node *a, node *b)
{
    if (!a || !b) return NULL;
    node *n = new_node(p, N_BINARY, a->start, node_end(b));
    if (!n) return NULL;
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static node *parse_expr_rule(parser *p);

/* Hint for a bracket left open. When the expression is an unquoted YAML
 * value that stops right after a comma, YAML's flow syntax cut it there. */
static void unclosed_hint(parser *p, error *err, const token *opener)
{
    uint32_t line, col;
    errors_position(p->errs, expr_offset(p->e, opener->start), &line, &col);
    bool cut = p->tok.kind == T_EOF && p->e->scalar && p->e->scalar->plain && p->lx.len > 0 &&
               p->lx.src[p->lx.len - 1] == ',';
    if (!cut && p->tok.kind == T_EOF && p->e->scalar && p->e->scalar->plain) {
        /* libyaml drops the comma itself; look at the file byte after the value */
        const ynode *sc = p->e->scalar;
        uint32_t after = yscalar_offset(sc, sc->len ? sc->len - 1 : 0) + 1;
        cut = after < p->errs->source_len && p->errs->source[after] == ',';
    }
    if (cut) {
        snprintf(err->msg, sizeof err->msg, "the expression stops at a comma, where YAML ended the value");
        error_hint(err, "inside { } a comma ends a value: put the expression in quotes");
    } else
        error_hint(err, "to close %s at line %u, column %u", token_name(opener->kind), line, col);
}

static bool enter(parser *p)
{
    if (++p->depth > CONTRACT_MAX_DEPTH) {
        if (!p->failed) {
            p->failed = true;
            error *err = errors_add(p->errs, ERR_LIMIT, expr_offset(p->e, p->tok.start), 1,
                                    "expression nested deeper than %d levels", CONTRACT_MAX_DEPTH);
            error_hint(err, "split it into macros");
        }
        return false;
    }
    return true;
}

/* args = [ expr { "," expr } ] closer ; shared by list and call */
static bool parse_args(parser *p, node *n, uint8_t closer, const token *opener)
{
    node *items[64];
    uint32_t count = 0;
    if (p->tok.kind != closer) {
        for (;;) {
            node *item = parse_expr_rule(p);
            if (!item) return false;
            if (count == ARRAY_LEN(items)) {
                p->failed = true;
                errors_add(p->errs, ERR_LIMIT, expr_offset(p->e, item->start), 1,
                           "more than %zu items in one list or call", ARRAY_LEN(items));
                return false;
            }
            items[count++] = item;
            if (p->tok.kind != T_COMMA) break;
            advance(p);
        }
    }
    if (p->tok.kind != closer) {
        char want[64];
        snprintf(want, sizeof want, "',' or %s", token_name(closer));
        error *err = unexpected(p, want);
        if (err) unclosed_hint(p, err, opener);
        return false;
    }
    n->args = arena_alloc(p->a, (count ? count : 1) * sizeof *n->args);
    if (!n->args) return false;
    memcpy(n->args, items, count * sizeof *items);
    n->nargs = count;
    n->len = p->tok.start + p->tok.len - n->start;
    advance(p);
    return true;
}

/* path = IDENT { "." IDENT } ;  call = IDENT "(" [ args ] ")" ; */
static node *parse_name(parser *p)
{
    token first = p->tok;
    advance(p);
    if (p->tok.kind == T_LPAREN) {
        token open = p->tok;
        node *n = new_node(p, N_CALL, first.start, first.start + first.len);
        if (!n) return NULL;
        char *name = node_text(p, first.start, first.len);
        if (!name) return NULL;
        memcpy(name, p->lx.src + first.start, first.len);
        name[first.len] = '\0';
        n->lit.str.s = name;
        n->lit.str.len = first.len;
        advance(p);
        if (!parse_args(p, n, T_RPAREN, &open)) return NULL;
        return n;
    }
    uint32_t end = first.start + first.len;
    while (p->tok.kind == T_DOT) {
        advance(p);
        /* Keywords are fine as path segments: properties.in, context.not */
        if (p->tok.kind != T_IDENT && p->tok.kind != T_IN && p->tok.kind != T_AND &&
            p->tok.kind != T_OR && p->tok.kind != T_NOT && p->tok.kind != T_TRUE &&
            p->tok.kind != T_FALSE) {
            unexpected(p, "a field name after '.'");
            return NULL;
        }
        end = p->tok.start + p->tok.len;
        advance(p);
    }
    node *n = new_node(p, N_NAME, first.start, end);
    if (!n) return NULL;
    char *path = node_text(p, first.start, end - first.start);
    if (!path) return NULL;
    memcpy(path, p->lx.src + first.start, end - first.start);
    path[end - first.start] = '\0';
    n->lit.str.s = path;
    n->lit.str.len = end - first.start;
    return n;
}

/* primary = NUMBER | DURATION | TIME | STRING | "true" | "false"
 *         | "(" expr ")" | list | call | path ; */
static node *parse_primary(parser *p)
{
    token t = p->tok;
    node *n;
    switch (t.kind) {
    case T_NUMBER:
        if (!(n = new_node(p, N_NUM, t.start, t.start + t.len))) return NULL;
        n->lit.num = t.num;
        advance(p);
        return n;
    case T_DURATION:
    case T_TIME:
        if (!(n = new_node(p, t.kind == T_DURATION ? N_DUR : N_TIME, t.start, t.start + t.len)))
            return NULL;
        n->lit.ms = t.ms;
        advance(p);
        return n;
    case T_STRING: {
        if (!(n = new_node(p, N_STR, t.start, t.start + t.len))) return NULL;
        char *s = node_text(p, t.start, t.len);
        if (!s) return NULL;
        n->lit.str.len = lexer_string_value(p->lx.src, &t, s);
        s[n->lit.str.len] = '\0';
        n->lit.str.s = s;
        advance(p);
        return n;
    }
    case T_TRUE:
    case T_FALSE:
        if (!(n = new_node(p, N_BOOL, t.start, t.start + t.len))) return NULL;
        n->lit.b = t.kind == T_TRUE;
        advance(p);
        return n;
    case T_LPAREN: {
        advance(p);
        n = parse_expr_rule(p);
        if (!n) return NULL;
        if (p->tok.kind != T_RPAREN) {
            error *err = unexpected(p, "')'");
            if (err) unclosed_hint(p, err, &t);
            return NULL;
        }
        advance(p);
        return n;
    }
    case T_LBRACKET:
        if (!(n = new_node(p, N_LIST, t.start, t.start + 1))) return NULL;
        advance(p);
        if (!parse_args(p, n, T_RBRACKET, &t)) return NULL;
        return n;
    case T_IDENT:
        return parse_name(p);
    default:
        unexpected(p, "a value, a name or '('");
        return NULL;
    }
}

/* unary = "-" unary | primary ; */
static node *parse_unary(parser *p)
{
    if (p->tok.kind != T_MINUS) return parse_primary(p);
    token minus = p->tok;
    advance(p);
    if (!enter(p)) return NULL;
    node *operand = parse_unary(p);
    p->depth--;
    if (!operand) return NULL;
    if (operand->kind == N_NUM) { /* fold -3 into a literal */
        operand->lit.num = -operand->lit.num;
        operand->len += operand->start - minus.start;
        operand->start = minus.start;
        return operand;
    }
    node *n = new_node(p, N_NEG, minus.start, node_end(operand));
    if (n) n->a = operand;
    return n;
}

/* product = unary { ( "*" | "/" ) unary } ; */
static node *parse_product(parser *p)
{
    node *left = parse_unary(p);
    while (left && (p->tok.kind == T_STAR || p->tok.kind == T_SLASH)) {
        uint8_t op = p->tok.kind == T_STAR ? OP_MUL : OP_DIV;
        advance(p);
        left = binary(p, op, left, parse_unary(p));
    }
    return left;
}

/* sum = product { ( "+" | "-" ) product } ; */
static node *parse_sum(parser *p)
{
    node *left = parse_product(p);
    while (left && (p->tok.kind == T_PLUS || p->tok.kind == T_MINUS)) {
        uint8_t op = p->tok.kind == T_PLUS ? OP_ADD : OP_SUB;
        advance(p);
        left = binary(p, op, left, parse_product(p));
    }
    return left;
}

static int string_op(const parser *p)
{
    static const struct {
        const char *word;
        uint8_t op;
    } ops[] = {{"starts_with", OP_STARTS_WITH}, {"ends_with", OP_ENDS_WITH},
               {"contains", OP_CONTAINS},       {"matches", OP_MATCHES},
               {"mentions", OP_MENTIONS}};
    if (p->tok.kind != T_IDENT) return -1;
    for (size_t i = 0; i < ARRAY_LEN(ops); i++)
        if (strlen(ops[i].word) == p->tok.len &&
            memcmp(ops[i].word, p->lx.src + p->tok.start, p->tok.len) == 0)
            return ops[i].op;
    return -1;
}

static int compare_op(uint8_t kind)
{
    switch (kind) {
    case T_EQ: return OP_EQ;
    case T_NE: return OP_NE;
    case T_LT: return OP_LT;
    case T_LE: return OP_LE;
    case T_GT: return OP_GT;
    case T_GE: return OP_GE;
    default: return -1;
    }
}

/* comparison = sum [ compare_op sum | [ "not" ] "in" sum | string_op sum ] ; */
static node *parse_comparison(parser *p)
{
    node *left = parse_sum(p);
    if (!left) return NULL;
    int op = compare_op(p->tok.kind);
    if (op < 0) op = string_op(p);
    if (op < 0 && p->tok.kind == T_IN) op = OP_IN;
    if (op < 0 && p->tok.kind == T_NOT) {
        lexer peek = p->lx;
        token next = lexer_next(&peek);
        if (next.kind != T_IN) {
            unexpected(p, "'in' after 'not' (write 'not' before the whole condition)");
            return NULL;
        }
        advance(p);
        op = OP_NOT_IN;
    }
    if (op < 0) return left;
    advance(p);
    node *n = binary(p, (uint8_t)op, left, parse_sum(p));
    if (n && (compare_op(p->tok.kind) >= 0 || p->tok.kind == T_IN || string_op(p) >= 0)) {
        error *err = unexpected(p, "'and', 'or' or the end of the condition");
        if (err) error_hint(err, "comparisons do not chain; join them with 'and'");
        return NULL;
    }
    return n;
}

/* not_expr = "not" not_expr | comparison ; */
static node *parse_not(parser *p)
{
    if (p->tok.kind != T_NOT) return parse_comparison(p);
    token t = p->tok;
    advance(p);
    if (!enter(p)) return NULL;
    node *operand = parse_not(p);
    p->depth--;
    if (!operand) return NULL;
    node *n = new_node(p, N_NOT, t.start, node_end(operand));
    if (n) n->a = operand;
    return n;
}

/* and_expr = not_expr { "and" not_expr } ; */
static node *parse_and(parser *p)
{
    node *left = parse_not(p);
    while (left && p->tok.kind == T_AND) {
        advance(p);
        left = binary(p, OP_AND, left, parse_not(p));
    }
    return left;
}

/* expr = or_expr ;  or_expr = and_expr { "or" and_expr } ; */
static node *parse_expr_rule(parser *p)
{
    if (!enter(p)) return NULL;
    node *left = parse_and(p);
    while (left && p->tok.kind == T_OR) {
        advance(p);
        left = binary(p, OP_OR, left, parse_and(p));
    }
    p->depth--;
    return left;
}

uint32_t expr_offset(const expr *e, uint32_t i)
{
    if (!e->scalar) return e->base + i; /* an expression with no file around it */
    return yscalar_offset(e->scalar, e->base + i);
}

bool parse_expr(arena *a, errors *errs, expr *e)
{
    parser p = {.a = a, .errs = errs, .e = e};
    e->root = NULL;
    if (e->len > CONTRACT_MAX_EXPR_BYTES) {
        error *err = errors_add(errs, ERR_LIMIT, expr_offset(e, 0), 1,
                                "expression longer than %d bytes", CONTRACT_MAX_EXPR_BYTES);
        error_hint(err, "split it into macros");
        return false;
    }
    lexer_init(&p.lx, e->text, e->len);
    advance(&p);
    if (p.tok.kind == T_EOF) {
        errors_add(errs, ERR_SYNTAX, expr_offset(e, 0), 1, "empty expression");
        return false;
    }
    node *root = parse_expr_rule(&p);
    if (root && p.tok.kind != T_EOF) {
        error *err = unexpected(&p, "'and', 'or' or the end of the condition");
        if (err && p.tok.kind == T_IDENT) error_hint(err, "is an operator missing before it?");
        root = NULL;
    }
    if (!root || p.failed) return false;
    e->root = root;
    return true;
}

/* ---- printing ------------------------------------------------------------ */

static int precedence(const node *n)
{
    if (n->kind == N_BINARY) {
        switch (n->op) {
        case OP_OR: return 1;
        case OP_AND: return 2;
        case OP_ADD:
        case OP_SUB: return 5;
        case OP_MUL:
        case OP_DIV: return 6;
        default: return 4; /* comparisons */
        }
    }
    if (n->kind == N_NOT) return 3;
    if (n->kind == N_NEG) return 7;
    return 8;
}

static void print_operand(const node *n, int parent, bool right, strbuf *out)
{
    int prec = precedence(n);
    bool paren = prec < parent || (right && prec == parent && prec >= 4);
    if (paren) strbuf_putc(out, '(');
    node_print(n, out);
    if (paren) strbuf_putc(out, ')');
}

void node_print(const node *n, strbuf *out)
{
    char buf[48];
    switch (n->kind) {
    case N_BOOL: strbuf_puts(out, n->lit.b ? "true" : "false"); break;
    case N_NUM: strbuf_printf(out, "%.15g", n->lit.num); break;
    case N_STR: strbuf_json_string(out, n->lit.str.s, n->lit.str.len); break;
    case N_DUR:
        duration_format(n->lit.ms, buf, sizeof buf);
        strbuf_puts(out, buf);
        break;
    case N_TIME:
        time_format(n->lit.ms, buf, sizeof buf);
        strbuf_puts(out, buf);
        break;
    case N_NAME: strbuf_append(out, n->lit.str.s, n->lit.str.len); break;
    case N_LIST:
    case N_CALL:
        if (n->kind == N_CALL) strbuf_append(out, n->lit.str.s, n->lit.str.len);
        strbuf_putc(out, n->kind == N_CALL ? '(' : '[');
        for (uint32_t i = 0; i < n->nargs; i++) {
            if (i) strbuf_puts(out, ", ");
            node_print(n->args[i], out);
        }
        strbuf_putc(out, n->kind == N_CALL ? ')' : ']');
        break;
    case N_NOT:
        strbuf_puts(out, "not ");
        print_operand(n->a, precedence(n), false, out);
        break;
    case N_NEG:
        strbuf_putc(out, '-');
        print_operand(n->a, precedence(n), false, out);
        break;
    case N_BINARY:
        print_operand(n->a, precedence(n), false, out);
        strbuf_printf(out, " %s ", binop_spelling(n->op));
        print_operand(n->b, precedence(n), true, out);
        break;
    }
}
