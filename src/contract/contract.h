/* contract: the handoff contract that marketing and sales both sign (R4).
 *
 * contract_parse() reads a YAML contract, checks it, and compiles every
 * expression in it. It never prints: errors are collected in the caller's
 * `errors` (all of them, not the first only) and the caller decides what to
 * show. The returned contract owns all of its memory (one arena) and borrows
 * nothing from the source text, which the caller may free once errors have
 * been rendered.
 *
 * The compiled form is for the engine: expressions are bytecode programs
 * over numbered slots (event fields, lead and account fields, signals, fit
 * predicates); string constants are interned; lists are bit sets over the
 * interned strings. program_eval() runs one with no allocation. */
#ifndef BATON_CONTRACT_H
#define BATON_CONTRACT_H

#include "util/util.h"

/* ---- named limits ------------------------------------------------------- */
#define CONTRACT_MAX_BYTES (1u << 20)  /* size of a contract file */
#define CONTRACT_MAX_EXPR_BYTES 4096   /* one expression or template */
#define CONTRACT_MAX_DEPTH 64          /* expression nesting */
#define CONTRACT_MAX_STRING 1024       /* one string literal or list item */
#define CONTRACT_MAX_LIST_ITEMS 4096   /* items in one list */
#define CONTRACT_MAX_SIGNALS 256
#define CONTRACT_MAX_KINDS 32
#define CONTRACT_MAX_GATES 64
#define CONTRACT_MAX_FIT 64
#define CONTRACT_MAX_MACROS 256
#define CONTRACT_MAX_LISTS 256
#define CONTRACT_MAX_STAGES 16
#define CONTRACT_MAX_REASONS 64
#define CONTRACT_MAX_TESTS 1000
#define CONTRACT_MAX_ROUTE_RULES 64    /* rules under routing: */
#define CONTRACT_MAX_FIELDS 256        /* distinct field paths read */
#define CONTRACT_MAX_PROGRAM 2048      /* instructions in one program */
#define CONTRACT_DEFAULT_RETENTION (90 * MS_PER_DAY)

typedef struct contract contract;
typedef struct program program;

contract *contract_parse(const char *path, const char *text, size_t len, errors *errs);
void contract_free(contract *c);
/* Reads a contract file and compiles it. On failure returns NULL and appends
 * to `report` either every error, rendered with positions, carets and hints,
 * or "PATH: cannot read: WHY". */
contract *contract_load(const char *path, strbuf *report);

/* ---- values ---------------------------------------------------------------
 * What expressions compute. A string keeps its bytes (borrowed from the
 * event or the contract) and its id in the contract's intern table, or -1
 * when the contract has no such constant, so equality with a constant is an
 * integer compare. VAL_NULL is a missing field: every comparison with it is
 * false, and `exists()` tests for it. */
enum value_type { VAL_NULL, VAL_BOOL, VAL_NUM, VAL_STR, VAL_DUR, VAL_TIME };

typedef struct value {
    uint8_t type;
    union {
        bool b;
        double num;
        int64_t ms; /* VAL_DUR and VAL_TIME */
        struct {
            const char *s;
            uint32_t len;
            int32_t id;
        } str;
    } as;
} value;

/* The interned id of a string, or -1. Used by event decoders. */
int32_t contract_intern_find(const contract *c, const char *s, size_t len);

/* ---- fields the contract reads --------------------------------------------
 * Every distinct field path an expression reads gets a slot. Decoders fill
 * `value fields[contract_field_count()]` for each event, lead and account;
 * fields the contract never reads are never decoded. */
enum field_scope {
    SCOPE_EVENT,   /* event.*, properties.*, traits.*, context.*, page.*, message.*, reply.* */
    SCOPE_LEAD,    /* lead.* */
    SCOPE_ACCOUNT, /* account.* */
};

/* Where the engine keeps a field's value between events, so that it can
 * read it there instead of copying it for each event (eval_env.at). A lead
 * field the engine works out from the lead's state (lead.id, lead.stage,
 * lead.owner, lead.status) or the account's (account.domain) is kept in
 * neither the lead's nor the account's fields. */
enum field_from {
    FIELD_FROM_EVENT,   /* the event's fields, at the slot itself */
    FIELD_FROM_LEAD,    /* the lead's kept fields */
    FIELD_FROM_ACCOUNT, /* the account's kept fields */
    FIELD_FROM_STATE,   /* worked out per event from the lead and account */
    FIELD_FROM_COUNT,
};

/* The FIELD_FROM_STATE fields, each kept at its own index (field_info.kept). */
enum state_field {
    STATE_LEAD_ID,        /* lead.id */
    STATE_LEAD_STAGE,     /* lead.stage */
    STATE_LEAD_OWNER,     /* lead.owner: the stage's team */
    STATE_LEAD_STATUS,    /* lead.status */
    STATE_ACCOUNT_DOMAIN, /* account.domain */
    STATE_FIELD_COUNT,
};

typedef struct field_info {
    const char *path;  /* as written: "properties.asset.topic" */
    uint8_t scope;     /* enum field_scope */
    uint8_t type;      /* enum value_type expected, VAL_NULL when dynamic */
    bool derived;      /* computed by baton (page.category, reply.automatic, ...) */
    uint8_t from;      /* enum field_from */
    /* Its index where it is kept: the slot for FIELD_FROM_EVENT, its enum
     * state_field for FIELD_FROM_STATE, else its rank among the fields kept
     * in the same place, in slot order (the order of the engine's lead and
     * account fields, and of saved state). */
    uint16_t kept;
} field_info;

size_t contract_field_count(const contract *c);
const field_info *contract_field(const contract *c, size_t slot);

/* ---- evaluation ------------------------------------------------------------
 * The environment a program runs in. History aggregates are answered by the
 * engine through callbacks; a callback may be NULL, which yields null. */
enum agg_scope { AGG_LEAD, AGG_ACCOUNT };

typedef struct eval_env {
    const value *fields;     /* contract_field_count() slots */
    /* Or, when not NULL, where the fields are kept instead: field f
     * (contract_field()) is at[f->from][f->kept], and `fields` is not read.
     * The engine reads them in place rather than copy them per event. */
    const value *const *at;
    const bool *signal_now;  /* did the current event match signal i */
    const bool *fit;         /* fit predicate results */
    time_ms now;             /* decision time: the event's timestamp */
    value score, points;
    void *ctx;
    /* target: a signal index, or CONTRACT_KIND_BASE + kind index.
     * enough: the caller only compares the answer with `enough`, so a
     * callback may stop counting there: it returns the answer when that is
     * below `enough`, else any number from `enough` to the answer.
     * CONTRACT_EXACT asks for the answer itself. */
    uint32_t (*count)(void *ctx, uint32_t target, duration_ms window, enum agg_scope scope,
                      uint32_t enough);
    bool (*last)(void *ctx, uint32_t target, time_ms *when);
    uint32_t (*distinct)(void *ctx, uint32_t target, duration_ms window, uint32_t enough);
} eval_env;

#define CONTRACT_EXACT UINT32_MAX

#define CONTRACT_KIND_BASE 0x10000u

/* False when a signal cannot hold for these field values, judged by a cheap
 * guard the compiler derived from its condition (the event name or page
 * category it requires); true means "run its program". */
bool contract_signal_may_match(const contract *c, size_t signal, const value *fields);

/* The signal index: the same test for every signal at once. Sets bit s of
 * `out` (bit s % 64 of word s / 64) exactly when contract_signal_may_match()
 * would return true for signal s with the fields of `env`, and clears every
 * other bit, bits past contract_signal_count() included. Looks up each field
 * a guard reads once, however many signals it guards. Never allocates. */
#define CONTRACT_SIGNAL_WORDS (CONTRACT_MAX_SIGNALS / 64)
void contract_signal_candidates(const contract *c, const eval_env *env, uint64_t out[CONTRACT_SIGNAL_WORDS]);

/* Runs a program; the result is VAL_NULL when it reads a missing field in a
 * way that decides the outcome. Never allocates. */
value program_eval(const program *p, const eval_env *env);
bool program_holds(const program *p, const eval_env *env); /* result is true */
/* Does the program read no field but those `field_ok` marks (indexed by
 * field), and nothing else that changes between events (no signal, fit,
 * history, score, points, time, text match or pattern)? Its value is then a
 * function of those fields alone, which the engine caches. */
bool program_reads_only_fields(const program *p, const bool *field_ok);
size_t program_length(const program *p);
/* A listing of the bytecode, one instruction a line, for tests and --debug. */
void program_disassemble(const contract *c, const program *p, strbuf *out);

/* ---- the contract's parts ------------------------------------------------ */
enum stage_role { STAGE_NURTURE, STAGE_DEVELOPMENT, STAGE_SALES, STAGE_OTHER };

typedef struct stage_info {
    const char *name, *team;
} stage_info;

typedef struct kind_info {
    const char *name;
    bool builtin; /* engagement, intent, reply, activation */
} kind_info;

typedef struct signal_info {
    const char *name;
    uint32_t kind;        /* index into kinds */
    const char *topic;    /* NULL when none */
    const char *describe; /* template source, NULL when none */
    const program *when;
    /* The condition is its guard and nothing else (`event.name == "X"`, an
     * `or` of such, `field in list`): the signal holds exactly when
     * contract_signal_candidates() names it, and `when` need not run. */
    bool guard_decides;
} signal_info;

typedef struct fit_info {
    const char *name;
    const program *when;
    const uint32_t *slots; /* the fields it reads, for explanations */
    uint32_t slot_count;
} fit_info;

/* A sub-term of a gate's condition with its own program, so a handoff can
 * show the value each part had when the gate fired. */
typedef struct term_info {
    const char *text; /* as printed by the contract: "count(intent, 14d) >= 1" */
    const program *prog;
} term_info;

#define CONTRACT_MAX_TERMS 32 /* terms explained per gate */

enum required_field { REQUIRE_PAIN = 1u << 0, REQUIRE_IMPACT = 1u << 1 };

typedef struct gate_info {
    const char *name;
    const program *when;
    uint32_t stage;    /* index into stages */
    const char *team;  /* the stage's team unless the gate names one */
    bool fast;
    uint32_t require;  /* enum required_field bits, the contract's plus the gate's */
    const char *source; /* the condition as written */
    const term_info *terms;
    uint32_t term_count;
    /* True when time alone cannot make the condition hold: only a new signal
     * hit or a change of lead or account fields can. The engine need not
     * re-evaluate such a gate for an event that changed neither. */
    bool monotone;
    /* The signals whose hits it reads, by name or by kind, now or through
     * count, since, last and distinct (bit s of word s / 64). every_hit: it
     * reads `score` or `points`, which any hit may move. A monotone gate that
     * did not hold still does not after a hit of none of these signals. */
    uint64_t reads[CONTRACT_SIGNAL_WORDS];
    bool every_hit;
} gate_info;

enum reason_action { REASON_NURTURE, REASON_STAGE, REASON_SUPPRESS, REASON_REROUTE };

typedef struct reason_info {
    const char *code;
    const char *label;
    uint8_t action;    /* enum reason_action */
    uint32_t stage;    /* REASON_STAGE / REASON_NURTURE: where the lead goes back to */
    duration_ms cooldown;
} reason_info;

enum sla_unit { SLA_ELAPSED, SLA_BUSINESS_HOURS, SLA_BUSINESS_DAYS };

enum sla_breach { BREACH_NOTIFY, BREACH_REASSIGN, BREACH_BOTH };

typedef struct sla_figure {
    bool set;
    uint8_t unit;
    int64_t amount;   /* in `unit`; SLA_ELAPSED amounts are milliseconds */
} sla_figure;

typedef struct calendar_info {
    const char *timezone;
    uint8_t workdays;        /* bit 0 = Monday .. bit 6 = Sunday */
    const int64_t *holidays; /* days since the epoch, sorted */
    size_t holiday_count;
    uint16_t day_start, day_end; /* business hours, minutes after midnight */
} calendar_info;

typedef struct points_info {
    const int32_t *per_signal; /* points for each signal, 0 when none */
    duration_ms half_life;     /* 0: no decay */
    int32_t cap;               /* 0: no cap */
    bool enabled;
} points_info;

typedef struct template_info template_info; /* a compiled "{expr} text" template */

typedef struct contract_info {
    const char *name;
    uint32_t version;
    const char *signed_marketing, *signed_sales;
    duration_ms retention;
    /* How far back the engine must keep a lead's hits: the longest window
     * any count() or distinct() reads, the retention when since() or last()
     * look back, and never less than the 14 days the context block covers. */
    duration_ms history;
    bool reads_points; /* some expression reads `points` */
    bool reads_score;  /* some expression reads `score` */
    const char *model; /* the learned score's model file, as written (relative to the contract); NULL */
    calendar_info calendar;
    sla_figure first_touch, meeting;
    uint8_t on_breach;               /* enum sla_breach */
    uint32_t require;                /* enum required_field bits */
    const template_info *did, *asks; /* the two context lines of R3 */
} contract_info;

const contract_info *contract_about(const contract *c);
/* The model file the contract names, relative to the contract file's folder
 * (`contract_path`); false when it names none. */
bool contract_model_path(const contract *c, const char *contract_path, char *out, size_t size);
size_t contract_stage_count(const contract *c);
const stage_info *contract_stage(const contract *c, size_t i);
size_t contract_kind_count(const contract *c);
const kind_info *contract_kind(const contract *c, size_t i);
size_t contract_signal_count(const contract *c);
const signal_info *contract_signal(const contract *c, size_t i);
size_t contract_fit_count(const contract *c);
const fit_info *contract_fit(const contract *c, size_t i);
size_t contract_gate_count(const contract *c);
const gate_info *contract_gate(const contract *c, size_t i);
size_t contract_reason_count(const contract *c);
const reason_info *contract_reason(const contract *c, size_t i);
const points_info *contract_points(const contract *c);
/* Free-mail domains as the contract sets them (`identity:`): domains added
 * to baton's built-in list, and domains taken out of it. */
typedef struct identity_info {
    const char *const *also_free;
    size_t also_free_count;
    const char *const *not_free;
    size_t not_free_count;
} identity_info;
const identity_info *contract_identity(const contract *c);

/* ---- routing (`routing:`) ---------------------------------------------------
 * Which rep of the receiving team gets a handed-off lead; src/route/ runs it.
 * A rule's condition reads lead and account fields only (no event, no
 * history): routing depends on who the buyer is, not on what they did. */
enum route_owner_policy {
    ROUTE_OWNER_FIRST,  /* a lead from an owned account goes to the owner */
    ROUTE_OWNER_IGNORE, /* the account owner plays no part */
};

enum route_hours_policy {
    ROUTE_HOURS_IGNORE,  /* working hours play no part */
    ROUTE_HOURS_PREFER,  /* reps in their working hours first; others if none is */
    ROUTE_HOURS_REQUIRE, /* a rep outside working hours is skipped */
};

/* Which closed handoffs give the rep a lead back (bits). */
enum route_credit { ROUTE_CREDIT_REJECTED = 1u << 0, ROUTE_CREDIT_RETURNED = 1u << 1 };

typedef struct route_rule_info {
    const char *name;
    const program *when;   /* NULL: every lead */
    const char *source;    /* the condition as written, NULL when none */
    int32_t stage;         /* the rule is for handoffs into this stage; -1 any */
    const char *team;      /* the pool's team */
    const char *territory; /* the pool's territory; NULL: the whole team */
} route_rule_info;

typedef struct routing_info {
    bool defined;            /* the contract has a routing section */
    uint8_t account_owner;   /* enum route_owner_policy */
    uint8_t working_hours;   /* enum route_hours_policy */
    bool catch_up;           /* a rep back from time away gets the leads missed */
    uint8_t credit_back;     /* enum route_credit bits */
    const route_rule_info *rules; /* in order; the first that matches picks the pool */
    size_t rule_count;
} routing_info;

/* The contract's routing; without a `routing:` section: the account owner
 * first, no rules (the receiving team's whole pool), hours ignored, no
 * catch-up, no credit back. */
const routing_info *contract_routing(const contract *c);

/* The question for a topic, from the context's topic map, or NULL. */
const char *contract_topic_question(const contract *c, const char *topic);
/* Looks a name up; -1 when absent. */
int contract_find_signal(const contract *c, const char *name);
int contract_find_gate(const contract *c, const char *name);
int contract_find_reason(const contract *c, const char *code);
int contract_find_stage(const contract *c, const char *name);

/* ---- rendering ------------------------------------------------------------
 * Templates and values as text. The words a template may use besides
 * expressions; NULL words render as an empty string. */
typedef struct template_vars {
    const char *trigger, *question, *gate, *pain, *impact, *topic;
} template_vars;

void contract_render_did(const contract *c, const eval_env *env, const template_vars *vars,
                         strbuf *out);
void contract_render_asks(const contract *c, const eval_env *env, const template_vars *vars,
                          strbuf *out);
/* A signal's one-line description for this event; its name in words when
 * the contract gives no `describe`. */
void contract_render_signal(const contract *c, size_t signal, const eval_env *env, strbuf *out);
/* A value as JSON, and as plain text (strings unquoted, times ISO-8601). */
void value_to_json(const value *v, strbuf *out);
void value_to_text(const value *v, strbuf *out);

/* ---- golden tests ----------------------------------------------------------
 * Test cases written in the contract (`tests:`), for `baton test`. Events are
 * kept as JSON text in Segment's shape. */
typedef struct expect_info {
    const char *lead;   /* NULL: the case's only lead */
    const char *gate;   /* NULL: expects no handoff */
    time_ms at;         /* 0 when not given */
    int8_t fast;        /* -1 not given, else 0/1 */
    const char *status; /* "handed_off", "needs_context", or NULL */
    const char *stage;  /* the target stage, or NULL */
    const char *asks;   /* the context block's second line, exactly, or NULL */
    const char *did;    /* text the first line must contain, or NULL */
} expect_info;

typedef struct test_info {
    const char *name;
    uint32_t line;
    const char *const *events; /* JSON objects */
    size_t event_count;
    const char *const *accounts; /* JSON objects: accounts CSV rows */
    size_t account_count;
    const expect_info *expect;
    size_t expect_count; /* 0: expects nothing handed off (`expect: none`) */
} test_info;

size_t contract_test_count(const contract *c);
const test_info *contract_test(const contract *c, size_t i);

/* ---- explain ---------------------------------------------------------------
 * The contract in plain words, for the people who sign it. */
void contract_explain(const contract *c, strbuf *out);

#endif
