/* Private to src/contract/: the YAML tree, tokens, syntax trees and the
 * contract's internal layout. Nothing outside this folder includes it. */
#ifndef BATON_CONTRACT_INTERNAL_H
#define BATON_CONTRACT_INTERNAL_H

#include "contract/contract.h"

/* ---- YAML tree (yaml.c) ----------------------------------------------------
 * libyaml's event stream folded into a tree. Every node keeps the byte range
 * it came from; scalars keep their text and a map from text offsets back to
 * file offsets, so an error inside an expression points at the right column. */
enum ynode_kind { Y_SCALAR, Y_SEQ, Y_MAP };

typedef struct ynode ynode;
struct ynode {
    uint8_t kind;
    bool plain;        /* an unquoted scalar: may be a number, bool or null */
    uint32_t offset;   /* file byte offset where the node starts */
    const char *text;  /* scalar text, NUL-terminated */
    uint32_t len;
    const uint32_t *map; /* scalar: file offset of each text byte, len + 1 entries */
    ynode **items;     /* sequence items; map keys and values alternate */
    uint32_t count;    /* items (sequence) or pairs (map) */
};

ynode *yaml_load(arena *a, errors *errs, const char *text, size_t len);
/* Map lookup by key; NULL when absent. */
ynode *ymap_get(const ynode *map, const char *key);
static inline ynode *ymap_key(const ynode *map, uint32_t i) { return map->items[2 * i]; }
static inline ynode *ymap_value(const ynode *map, uint32_t i) { return map->items[2 * i + 1]; }
/* Writes a node as JSON: plain scalars that read as numbers, booleans or
 * null keep that type; everything else is a string. */
void ynode_to_json(const ynode *n, strbuf *out);
/* The file offset of byte i of a scalar's text. */
uint32_t yscalar_offset(const ynode *n, uint32_t i);

/* ---- tokens (lexer.c) --------------------------------------------------- */
#define TOKENS(X)                                                                                  \
    X(T_EOF, "end of expression")                                                                  \
    X(T_IDENT, "name")                                                                             \
    X(T_NUMBER, "number")                                                                          \
    X(T_DURATION, "duration")                                                                      \
    X(T_TIME, "date")                                                                              \
    X(T_STRING, "string")                                                                          \
    X(T_LPAREN, "'('")                                                                             \
    X(T_RPAREN, "')'")                                                                             \
    X(T_LBRACKET, "'['")                                                                           \
    X(T_RBRACKET, "']'")                                                                           \
    X(T_COMMA, "','")                                                                              \
    X(T_DOT, "'.'")                                                                                \
    X(T_PLUS, "'+'")                                                                               \
    X(T_MINUS, "'-'")                                                                              \
    X(T_STAR, "'*'")                                                                               \
    X(T_SLASH, "'/'")                                                                              \
    X(T_EQ, "'=='")                                                                                \
    X(T_NE, "'!='")                                                                                \
    X(T_LT, "'<'")                                                                                 \
    X(T_LE, "'<='")                                                                                \
    X(T_GT, "'>'")                                                                                 \
    X(T_GE, "'>='")                                                                                \
    X(T_AND, "'and'")                                                                              \
    X(T_OR, "'or'")                                                                                \
    X(T_NOT, "'not'")                                                                              \
    X(T_IN, "'in'")                                                                                \
    X(T_TRUE, "'true'")                                                                            \
    X(T_FALSE, "'false'")                                                                          \
    X(T_ERROR, "invalid character")

enum token_kind {
#define X(k, s) k,
    TOKENS(X)
#undef X
};

const char *token_name(enum token_kind k);

typedef struct token {
    uint8_t kind;
    uint32_t start, len; /* byte range within the expression text */
    double num;          /* T_NUMBER */
    int64_t ms;          /* T_DURATION, T_TIME */
    const char *why;     /* T_ERROR: what is wrong */
    const char *hint;    /* T_ERROR: what to do, or NULL */
} token;

typedef struct lexer {
    const char *src;
    uint32_t len, pos;
} lexer;

void lexer_init(lexer *lx, const char *src, uint32_t len);
/* The next token; T_ERROR for a character or literal that cannot start one,
 * with `start` at the offending byte. */
token lexer_next(lexer *lx);
/* Decodes a T_STRING token's escapes into dst (at least len bytes); returns
 * the decoded length. */
uint32_t lexer_string_value(const char *src, const token *t, char *dst);

/* ---- syntax trees (parser.c) ---------------------------------------------
 * Every node records its byte range in the expression text; `type` is filled
 * in by the checker. */
#define NODE_KINDS(X)                                                                              \
    X(N_BOOL)     /* true, false */                                                                \
    X(N_NUM)                                                                                       \
    X(N_STR)                                                                                       \
    X(N_DUR)                                                                                       \
    X(N_TIME)                                                                                      \
    X(N_LIST)     /* [a, b, c] literal */                                                          \
    X(N_NAME)     /* identifier or dotted path: signal, list, macro, field, fit.x */               \
    X(N_CALL)     /* count(...), last(...), since(...), distinct(...), exists(...) */              \
    X(N_NOT)                                                                                       \
    X(N_NEG)                                                                                       \
    X(N_BINARY)   /* op in `op` */

enum node_kind {
#define X(k) k,
    NODE_KINDS(X)
#undef X
};

/* Binary operators, in one table with their spelling (check.c has types). */
#define BINOPS(X)                                                                                  \
    X(OP_OR, "or")                                                                                 \
    X(OP_AND, "and")                                                                               \
    X(OP_EQ, "==")                                                                                 \
    X(OP_NE, "!=")                                                                                 \
    X(OP_LT, "<")                                                                                  \
    X(OP_LE, "<=")                                                                                 \
    X(OP_GT, ">")                                                                                  \
    X(OP_GE, ">=")                                                                                 \
    X(OP_IN, "in")                                                                                 \
    X(OP_NOT_IN, "not in")                                                                         \
    X(OP_STARTS_WITH, "starts_with")                                                               \
    X(OP_ENDS_WITH, "ends_with")                                                                   \
    X(OP_CONTAINS, "contains")                                                                     \
    X(OP_MATCHES, "matches")                                                                       \
    X(OP_MENTIONS, "mentions")                                                                     \
    X(OP_ADD, "+")                                                                                 \
    X(OP_SUB, "-")                                                                                 \
    X(OP_MUL, "*")                                                                                 \
    X(OP_DIV, "/")

enum binop {
#define X(k, s) k,
    BINOPS(X)
#undef X
};

const char *binop_spelling(enum binop op);

/* Static types; TY_ANY is a field whose type is only known at run time. */
enum type { TY_ERROR, TY_BOOL, TY_NUM, TY_STR, TY_DUR, TY_TIME, TY_LIST, TY_ANY };
const char *type_name(enum type t);

/* What an N_NAME resolved to (check.c). */
enum ref_kind {
    REF_NONE,
    REF_FIELD,   /* index: field slot */
    REF_SIGNAL,  /* index: signal */
    REF_KIND,    /* index: kind (only as an aggregate target) */
    REF_LIST,    /* index: list */
    REF_MACRO,   /* index: macro */
    REF_FIT,     /* index: fit predicate */
    REF_SCORE,
    REF_POINTS,
    REF_NOW,
    REF_SCOPE,   /* the words `lead` / `account` as aggregate arguments */
};

typedef struct node node;
struct node {
    uint8_t kind;  /* enum node_kind */
    uint8_t op;    /* enum binop for N_BINARY */
    uint8_t type;  /* enum type, set by the checker */
    uint8_t ref;   /* enum ref_kind, for N_NAME */
    uint32_t start, len; /* byte range in the expression text */
    uint32_t index;      /* REF_* index */
    union {
        bool b;
        double num;
        int64_t ms;
        struct {
            const char *s; /* NUL-terminated, decoded */
            uint32_t len;
        } str;
    } lit;
    node *a, *b;   /* operands; N_NOT/N_NEG use a */
    node **args;   /* N_LIST items, N_CALL arguments */
    uint32_t nargs;
};

/* An expression as written in the contract: its text, the scalar it came
 * from (for positions) and its tree. */
typedef struct expr {
    const char *text;
    uint32_t len;
    const ynode *scalar; /* NULL for synthetic expressions */
    uint32_t base;       /* offset of text within the scalar (templates) */
    node *root;          /* NULL when it failed to parse */
} expr;

/* Parses `e->text` into `e->root`. Errors go to errs at file offsets. */
bool parse_expr(arena *a, errors *errs, expr *e);
/* File offset of byte i of an expression's text. */
uint32_t expr_offset(const expr *e, uint32_t i);
/* Writes the expression back in canonical form, fully parenthesised only
 * where precedence requires. */
void node_print(const node *n, strbuf *out);

/* ---- templates ----------------------------------------------------------
 * "text {expr} text": literal parts and holes. A hole is an expression or
 * one of the template words: trigger, question, gate, pain, impact, topic in
 * context lines; phrase and sentence (what `mentions` found in the event) in
 * signal descriptions. */
enum template_word { TW_NONE, TW_TRIGGER, TW_QUESTION, TW_GATE, TW_PAIN, TW_IMPACT, TW_TOPIC,
                     TW_PHRASE, TW_SENTENCE };

typedef struct template_part {
    const char *text; /* literal text, or NULL for a hole */
    uint32_t len;
    uint8_t word;     /* enum template_word for a word hole */
    expr hole;
    program *prog;
} template_part;

struct template_info {
    const char *source;
    template_part *parts;
    uint32_t count;
};

/* ---- bytecode (compile.c, vm.c) -------------------------------------- */
#define OPCODES(X)                                                                                 \
    X(I_PUSH, 1)        /* constant index */                                                      \
    X(I_FIELD, 1)       /* field slot */                                                          \
    X(I_SIGNAL, 1)      /* signal matched the current event */                                    \
    X(I_FIT, 1)         /* fit predicate */                                                       \
    X(I_COUNT, 3)       /* target, window constant, scope */                                      \
    X(I_LAST, 1)        /* target: time of the last hit */                                        \
    X(I_SINCE, 1)       /* target: now - last hit */                                              \
    X(I_DISTINCT, 2)    /* target, window constant */                                             \
    X(I_EXISTS, 1)      /* field slot */                                                          \
    X(I_SCORE, 0)                                                                                 \
    X(I_POINTS, 0)                                                                                \
    X(I_NOW, 0)                                                                                   \
    X(I_LNOT, 0)                                                                                  \
    X(I_NEGATE, 0)                                                                                \
    X(I_ADDV, 0)                                                                                  \
    X(I_SUBV, 0)                                                                                  \
    X(I_MULV, 0)                                                                                  \
    X(I_DIVV, 0)                                                                                  \
    X(I_CMP_EQ, 0)                                                                                \
    X(I_CMP_NE, 0)                                                                                \
    X(I_CMP_LT, 0)                                                                                \
    X(I_CMP_LE, 0)                                                                                \
    X(I_CMP_GT, 0)                                                                                \
    X(I_CMP_GE, 0)                                                                                \
    X(I_IN_LIST, 1)     /* list index */                                                          \
    X(I_STARTS, 0)                                                                                \
    X(I_ENDS, 0)                                                                                  \
    X(I_HAS, 0)         /* contains */                                                            \
    X(I_REGEX, 1)       /* regex index */                                                         \
    X(I_MENTIONS, 1)     /* list index */                                                          \
    X(I_JUMP_FALSE, 1)  /* peek: if false (or null) jump, keeping it */                           \
    X(I_JUMP_TRUE, 1)   /* peek: if true jump, keeping it */                                      \
    X(I_POP, 0)                                                                                   \
    /* Fused forms, made by fuse() (compile.c) for the evaluator only: */                        \
    X(I_FIELD_CMPK, 2)  /* field slot `cmp` constant `konst` */                                   \
    X(I_FIELD_EQ_STR, 2) /* I_FIELD_CMPK of == with an interned string */                        \
    X(I_SRC_CMPK, 3)    /* the value instruction `src` would push (its arg, arg2, scope) `cmp` konst */ \
    X(I_FIELD_IN, 2)    /* field slot, list index */                                              \
    X(I_FIELD_MENTIONS, 2) /* field slot, list index */                                           \
    X(I_FIELD_TRUTH, 1) /* field slot: is it true (always with a branch or a `not`) */            \
    X(I_FIELD_AFFIX, 2) /* field slot `cmp` (I_STARTS, I_ENDS, I_HAS) string constant `konst` */   \
    X(I_COUNT_ATLEAST, 3) /* I_SRC_CMPK of I_COUNT with a number: does the count reach `least` */  \
    X(I_DISTINCT_ATLEAST, 2) /* the same of I_DISTINCT (`cmp` I_CMP_LT: does it stay below) */     \
    X(I_CMPK, 1)        /* pops the top: top `cmp` constant `konst` */                            \
    X(I_TEST, 0)        /* pops the top: is it true (always with a branch) */

enum opcode {
#define X(k, n) k,
    OPCODES(X)
#undef X
    I_COUNT_OF_OPCODES
};

/* A fused test (a comparison, a membership, fit.x, a signal, ...) computes
 * a truth r, then: with BR_NOT, r = !r (a `not` that followed it); with no
 * jump bit it pushes r; with BR_IF_FALSE / BR_IF_TRUE it jumps to `target`
 * when r is false / true, pushing r first only with BR_KEEP, and otherwise
 * goes on with nothing pushed (the `and`/`or` jump and the POP after it). */
enum branch { BR_NONE = 0, BR_IF_FALSE = 1, BR_IF_TRUE = 2, BR_KEEP = 4, BR_NOT = 8 };

typedef struct insn {
    uint8_t op;
    uint8_t scope;   /* I_COUNT (and I_SRC_CMPK of one): enum agg_scope */
    uint8_t branch;  /* fused tests: enum branch bits */
    uint8_t cmp;     /* I_FIELD_CMPK, I_SRC_CMPK, I_CMPK: the I_CMP_* they do; *_ATLEAST: GE or LT */
    uint8_t src;     /* I_SRC_CMPK: I_COUNT, I_SINCE, I_SCORE, ... */
    uint8_t jump_on; /* fused tests: bit b set when the test's truth before its `not` is b and it jumps */
    uint32_t arg;
    uint32_t arg2;   /* I_COUNT / I_DISTINCT window constant; I_FIELD_IN / _MENTIONS list */
    union {
        uint32_t konst; /* the constant a fused comparison compares with */
        uint32_t least; /* I_COUNT_ATLEAST, I_DISTINCT_ATLEAST: the count the comparison turns at */
    };
    uint32_t target; /* fused tests with a jump bit */
} insn;

#define PROGRAM_MAX_STACK 160

/* `code` is the program as compiled, one instruction per operation, for
 * listings and for the fields it reads; `run` is the same program with
 * jump chains threaded and common sequences fused, which is what
 * program_eval() executes. Both compute the same value. */
struct program {
    const insn *code;
    uint32_t len;
    const insn *run;
    uint32_t run_len;
    /* `run` holds only tests that read nothing from the stack (fit.x, a
     * signal, a field compared or looked up, an aggregate compared): its
     * value is the truth of the last test run, kept without a stack. */
    bool tests_only;
    /* tests_only: a field slot whose null makes the program false, else
     * -1: the first test reads it, is false on a null and jumps to the end
     * when false, or every test reads it, is false on a null and is not
     * negated (then every test run is false, the last one too). An event
     * that lacks the field (a message's text, most often) is decided by the
     * first test alone. */
    int32_t null_fails;
    uint32_t max_stack;
    const struct contract *c; /* constants, lists and patterns live there */
};

/* A string value whose id was never looked up: compared by its bytes. */
#define STR_ID_UNKNOWN (-2)

/* ---- the contract ------------------------------------------------------- */
typedef struct list_def {
    const char *name;
    uint32_t offset;       /* where it is defined */
    const char **items;
    uint32_t count;
    uint64_t *bits;        /* membership over intern ids */
    bool mentioned;        /* on the right of `mentions`: prepared as phrases */
    uint32_t phrases;      /* its index in the contract's text_matcher */
} list_def;

typedef struct regex_def {
    void *code;            /* pcre2_code_8 */
    void *match_data;      /* pcre2_match_data_8, sized for the pattern */
} regex_def;

typedef struct macro_def {
    const char *name;
    uint32_t offset;
    expr body;
    uint8_t state;         /* checker: 0 new, 1 checking, 2 done */
    bool ok;               /* the body checked clean */
    /* What the body needs that some contexts lack, for the use sites: the
     * first such construct, or NULL. Macros are checked once, not per use. */
    const char *needs_event, *needs_history;
} macro_def;

typedef struct named_expr {
    const char *name;
    uint32_t offset;       /* the key's file offset */
    expr when;
    program *prog;
} named_expr;

typedef struct signal_def {
    signal_info info;
    named_expr e;
    template_info *describe;
    /* guard: the signal needs field `guard_slot` to be one of these strings */
    int32_t guard_slot;         /* -1: no guard */
    const char *guard_strings[16];
    uint32_t guard_count;
    uint64_t *guard_bits;       /* over intern ids, built with the list bits */
} signal_def;

/* The signal index over one field slot that guards read: for each interned
 * string a guard on this slot names, the signals it lets through. */
typedef struct guard_index {
    uint32_t slot;
    uint8_t from;  /* the slot's field_info.from and .kept, for an environment with `at` */
    uint16_t kept;
    uint16_t *row_of; /* per intern id: its row of `admits` + 1, 0 when no guard on the slot names it */
    uint64_t (*admits)[CONTRACT_SIGNAL_WORDS];
} guard_index;

typedef struct gate_def {
    gate_info info;
    named_expr e;
} gate_def;

/* A routing rule's condition as written; its route_rule_info (same index)
 * lives in contract.route_info, contiguous for contract_routing(). */
typedef struct route_rule_def {
    named_expr e;
    bool has_when;       /* false: the rule takes every lead of its team and stage */
} route_rule_def;

struct contract {
    arena *arena;
    contract_info about;
    const char *path;

    /* interned strings: every string constant and list item */
    const char **strings;
    uint32_t *string_lens;
    uint32_t string_count, string_cap;
    uint32_t longest_string;
    /* a bit per (length, first byte, last byte), set for every interned
     * string: most strings an event brings are not constants, and most of
     * those are told so by this bit without being hashed */
    uint64_t intern_filter[64];
    int32_t *intern_slots;  /* open addressing over string ids */
    uint32_t intern_mask;

    value *consts;
    uint32_t const_count, const_cap;

    list_def lists[CONTRACT_MAX_LISTS];
    uint32_t list_count;
    regex_def *regexes;
    uint32_t regex_count, regex_cap;
    macro_def macros[CONTRACT_MAX_MACROS];
    uint32_t macro_count;

    field_info fields[CONTRACT_MAX_FIELDS];
    uint32_t field_count;

    stage_info stages[CONTRACT_MAX_STAGES];
    uint32_t stage_count;
    kind_info kinds[CONTRACT_MAX_KINDS];
    uint32_t kind_offsets[CONTRACT_MAX_KINDS];
    uint32_t kind_count;
    signal_def signals[CONTRACT_MAX_SIGNALS];
    uint32_t signal_count;
    /* contract_signal_candidates(): the signals with no guard, and one
     * index per distinct guarded field slot (built with the list bits). */
    uint64_t unguarded[CONTRACT_SIGNAL_WORDS];
    guard_index *guard_index;
    uint32_t guard_index_count;
    fit_info fit[CONTRACT_MAX_FIT];
    named_expr fit_exprs[CONTRACT_MAX_FIT];
    uint32_t fit_count;
    gate_def gates[CONTRACT_MAX_GATES];
    uint32_t gate_count;
    reason_info reasons[CONTRACT_MAX_REASONS];
    uint32_t reason_count;
    points_info points;
    int32_t point_values[CONTRACT_MAX_SIGNALS];
    routing_info routing;
    route_rule_info route_info[CONTRACT_MAX_ROUTE_RULES];
    route_rule_def route_rules[CONTRACT_MAX_ROUTE_RULES];

    identity_info identity;
    bool looks_back;        /* since() or last() is used: history to the retention */
    const char **topics, **questions; /* context topic map */
    uint32_t topic_count;
    template_info *did, *asks;

    test_info *tests;
    uint32_t test_count;

    /* How `mentions` reads the buyer's words: the stemmer's language, the
     * word order, and the phrase lists prepared once (src/text/). */
    const char *language;
    bool any_order;
    struct text_matcher *matcher; /* NULL when no list is mentioned */
    /* With a matcher: did its last text_mentions() find a phrase, which it
     * keeps for {phrase} until the next call. A mention of a missing field
     * makes that call only to forget a find (program_holds()). */
    bool *matcher_found;
};

/* Field `slot` of an environment: where the engine keeps it (env->at), else
 * in `fields`; null when the environment has neither. */
static inline const value *env_field(const contract *c, const eval_env *env, uint32_t slot)
{
    static const value none = {.type = VAL_NULL};
    if (env->at) {
        const field_info *f = &c->fields[slot];
        return &env->at[f->from][f->kept];
    }
    return env->fields ? &env->fields[slot] : &none;
}

/* ---- checking and compiling (check.c, compile.c) -------------------------- */
/* Where an expression appears decides what it may read. */
enum expr_context {
    CTX_SIGNAL,   /* one event, the lead and account; no history */
    CTX_FIT,      /* the lead and account only */
    CTX_GATE,     /* everything */
    CTX_TEMPLATE_EVENT, /* a signal's description: as CTX_SIGNAL */
    CTX_TEMPLATE_LEAD,  /* a context line: as CTX_GATE */
    CTX_ROUTE,    /* a routing rule: as CTX_FIT (who and where, not what they did) */
};

/* Resolves names and checks types; `want` is the type the context needs
 * (TY_BOOL for conditions, TY_ERROR for "any"). Returns false on error. */
bool check_expr(contract *c, errors *errs, expr *e, enum expr_context ctx, enum type want);
/* Compiles a checked expression; NULL (with an error) past the limits. */
program *compile_expr(contract *c, errors *errs, const expr *e);
/* Compiles one node of a checked expression on its own. */
program *compile_subterm(contract *c, errors *errs, const expr *e, const node *root);
/* Fills a gate's explanation terms (gate_info.terms). */
void compile_terms(contract *c, errors *errs, gate_def *g);
/* The field slots a program reads. */
void program_fields(contract *c, const program *p, const uint32_t **slots, uint32_t *count);
/* True when time passing cannot turn the condition from false to true. */
bool expr_monotone(const contract *c, const node *n);
/* Adds to `signals` the signals whose hits the condition reads; true when
 * it also reads what any hit may change (score, points). */
bool expr_hit_reads(const contract *c, const node *n, uint64_t *signals);
/* A field path in plain words ("the account's industry"), for explain. */
const char *field_phrase(const char *path);
/* Contract-wide checks run after every expression is checked. */
void check_gates_reachable(contract *c, errors *errs);

int32_t contract_intern(contract *c, const char *s, uint32_t len);
uint32_t contract_const(contract *c, value v);
uint32_t contract_field_slot(contract *c, const char *path, uint8_t scope, uint8_t type,
                             bool derived);
/* Compiles `{...}` templates. */
template_info *template_compile(contract *c, errors *errs, const ynode *scalar,
                                enum expr_context ctx);

/* ---- loading sections (load.c, policy.c, tests.c) ------------------------ */
typedef struct loader {
    contract *c;
    errors *errs;
} loader;

/* Reports at a node; the caret spans a scalar's text. */
error *bad(loader *ld, const ynode *n, enum error_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool expect(loader *ld, const ynode *n, uint8_t kind, const char *what);
const char *text_of(loader *ld, const ynode *n, const char *what);
bool uint_of(loader *ld, const ynode *n, const char *what, uint32_t max, uint32_t *out);
bool bool_of(loader *ld, const ynode *n, const char *what, bool *out);
bool duration_of(loader *ld, const ynode *n, const char *what, duration_ms *out);
bool name_ok(loader *ld, const ynode *n, const char *what);
void check_keys(loader *ld, const ynode *map, const char *const *allowed, size_t count,
                const char *where);
ynode *required(loader *ld, const ynode *map, const char *key, const char *where);
bool expr_from(loader *ld, const ynode *n, const char *what, expr *e);

void load_header(loader *ld, const ynode *root);
void load_lists(loader *ld, const ynode *n);
void load_kinds(loader *ld, const ynode *n);
void load_stages(loader *ld, const ynode *n);
void load_signals(loader *ld, const ynode *n);
void load_fit(loader *ld, const ynode *n);
void load_macros(loader *ld, const ynode *n);
void check_duplicate_names(loader *ld);
void load_gates(loader *ld, const ynode *n);
void load_require(loader *ld, const ynode *n, uint32_t *bits);
void load_points(loader *ld, const ynode *n);
void load_context(loader *ld, const ynode *n);
void load_sla(loader *ld, const ynode *n);
void load_reasons(loader *ld, const ynode *n);
void load_tests(loader *ld, const ynode *n);
/* `routing:` (routing.c): names and shapes first, after the gates; the rules'
 * conditions are checked and compiled with everything else. */
void load_routing(loader *ld, const ynode *n);
void compile_routing(contract *c, errors *errs);

#endif
