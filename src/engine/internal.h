/* Private to src/engine/: lead and account state, the string pool, dedupe. */
#ifndef BATON_ENGINE_INTERNAL_H
#define BATON_ENGINE_INTERNAL_H

#include "engine/engine.h"

#define NO_ACCOUNT UINT32_MAX
#define LEADS_PER_BLOCK 4096u /* a block is a few MiB: huge pages for a large restart */

/* A signal hit, kept to the second: 5 bytes, packed (x86 and ARMv8 read
 * them unaligned at no cost), as the lead and account rings hold many.
 * A signal fits a byte: CONTRACT_MAX_SIGNALS is 256. */
typedef struct __attribute__((packed)) hit {
    uint32_t t; /* seconds since the epoch */
    uint8_t signal;
} hit;
_Static_assert(CONTRACT_MAX_SIGNALS <= 256, "a hit keeps its signal in one byte");

/* A described action, for context lines and triggers. */
typedef struct recent_action {
    uint32_t t;
    uint16_t signal;
    uint8_t rank; /* 2 intent/reply/activation, 1 engagement */
    char message_id[41];
    char description[ENGINE_DESCRIPTION];
} recent_action;

/* What a lead did: its hits in time order and its most telling described
 * actions. Held out of line, from the first hit on: a lead folded into
 * another by an identify (half the leads of a busy site) gives it back. */
typedef union lead_history {
    struct {
        hit hits[LEAD_MAX_HITS];
        recent_action recent[LEAD_RECENT];
    };
    union lead_history *next_free;
} lead_history;

typedef struct lead {
    const char *key;
    uint32_t account;
    uint8_t stage, status;
    bool anonymous;      /* known only by an anonymousId: never handed off */
    bool merged;         /* folded into another lead by an identify */
    uint8_t hit_count, recent_count;
    uint16_t pending_gate; /* the gate of a needs-context handoff */
    bool settled;        /* gates all failed at the last evaluation and nothing they read has
                          * changed since but hits, which engine_apply() weighs gate by gate */
    bool changed;        /* listed in engine.changed_leads */
    uint32_t account_version; /* the account's version when the gates were evaluated */
    uint64_t handoff;    /* the current handoff's number, 0 when none */
    uint64_t other_ids;  /* hash of the anonymousId and email last linked to this userId */
    time_ms cooldown_until;
    time_ms reached;             /* when the lead last reached the receiving team */
    time_ms due[SLA_CLOCK_COUNT]; /* a running SLA clock's deadline; 0 when stopped */
    char *pain, *impact, *question; /* private copies: see lead_set_text() */
    const char *rep;             /* the rep who holds the lead's open handoff, or NULL */
    const char *territory;       /* that handoff's pool inside the team, NULL for the whole team */
    double points;
    time_ms points_at;
    value *fields;       /* the contract's lead-scope slots, in lead_slot order */
    lead_history *history; /* NULL until the first hit or described action */
} lead;

typedef struct __attribute__((packed)) account_hit {
    uint32_t t;
    uint32_t lead;
    uint8_t signal;
} account_hit;

typedef struct account {
    const char *domain;
    value *fields;       /* account-scope slots, in account_slot order */
    account_hit *hits;   /* a ring of hit_cap, from 8 at the first hit up to ACCOUNT_MAX_HITS: it grows
                          * before it wraps, so until full it holds hits [0, hit_count) in order */
    uint16_t hit_head, hit_count, hit_cap;
    uint32_t version;    /* bumped by every hit and field change */
    bool changed;        /* listed in engine.changed_accounts */
    bool fit_known;      /* fit_bits hold the fit predicates for the account's fields as they are
                          * (engine.fits_by_account); cleared by every change of its fields */
    uint16_t fit_bits;   /* fit predicate f holds: bit f */
} account;

/* Remembers message ids for a window of event time, to drop duplicates. */
typedef struct dedupe {
    uint64_t *hashes; /* per slot: the id's hash, 0 when empty; the block's start */
    uint16_t *hours;  /* per slot: the hour it was seen (see state.c), in the same block */
    size_t cap, count;
    size_t limit; /* the count the table is rebuilt rather than filled past */
    duration_ms window;
    uint32_t window_hours; /* the window in whole hours, rounded up */
} dedupe;

bool dedupe_init(dedupe *d, duration_ms window);
void dedupe_free(dedupe *d);
/* A message id's hash, as the table files it. */
uint64_t dedupe_hash(const char *id, size_t len);
/* Starts loading the slot where the search for `hash` begins. */
void dedupe_prefetch(const dedupe *d, uint64_t hash);
/* True when the id (by its hash) was seen within the window; otherwise
 * remembers it. Fails (returns false, *nomem set) only when memory runs out. */
bool dedupe_seen(dedupe *d, uint64_t hash, time_ms now, bool *nomem);
size_t dedupe_bytes(const dedupe *d);

/* A running SLA clock, in the engine's heap ordered by due time. A clock
 * stopped or restarted leaves its entry behind: popped, it no longer
 * matches the lead's deadline and is dropped. */
typedef struct sla_timer {
    time_ms due;
    uint32_t lead;
    uint8_t clock;
} sla_timer;

struct engine {
    const contract *c;
    engine_options opt;
    arena *pool;          /* strings and small state, freed with the engine */
    strmap *strings;      /* interned strings: industries, titles, ... */
    strmap *lead_ids;     /* userId, email, anonymousId -> lead */
    strmap *account_ids;  /* domain or groupId -> account */
    lead **lead_blocks;
    lead_history *free_histories; /* given back by merged leads, for reuse */
    uint32_t lead_count, lead_block_cap;
    account *accounts;
    uint32_t account_count, account_cap;
    size_t account_hit_bytes; /* all the accounts' hit rings */
    dedupe seen;
    uint32_t *changed_leads, *changed_accounts;
    size_t changed_lead_count, changed_lead_cap, changed_account_count, changed_account_cap;
    time_ms newest;
    uint64_t next_handoff;
    struct calendar *calendar;
    char calendar_problem[160];
    /* the learned score, when the contract reads it and a model is bound */
    struct features *features;
    struct score_model *model;
    const char **score_text; /* a row of inputs and its encoding, sized once */
    double *score_num, *score_x;
    struct score_factor *factors;
    char score_problem[300];
    sla_timer *timers; /* a binary min-heap on due */
    size_t timer_count, timer_cap;
    engine_stats stats;

    /* slot plans */
    size_t field_count;
    uint32_t *lead_slot, *account_slot; /* per field: index in lead/account fields, or UINT32_MAX */
    uint32_t lead_slot_count, account_slot_count;
    int32_t slot_account_owner; /* "account.owner" when the contract reads or routes by it, else -1 */
    /* the contract's parts the per-event path reads, looked up once */
    const program **signal_when; /* per signal: its condition */
    bool *guard_decides;         /* per signal: a candidate holds (signal_info.guard_decides) */
    const gate_info **gates;
    const program **fit_when;    /* per fit predicate */
    size_t signal_count, gate_count, fit_count;
    bool fits_by_account; /* every fit reads only account fields, purely: cached per account */
    bool fit_none_known;  /* fit_none_bits: the fits of a lead with no account (every account field null) */
    uint16_t fit_none_bits;
    size_t signal_words;  /* the words of a signal bit set that can have bits: CONTRACT_SIGNAL_WORDS at most */
    const points_info *points;
    bool reads_points;    /* points on and read by some expression: the decay is worked out per event */
    uint32_t *kind_of;    /* per signal */
    uint8_t *rank_of;     /* per signal: how much its actions say */
    bool *describe_later; /* per signal: its description reads only event, lead and account fields, so
                           * it can be rendered after the signals (see signal_description()) */
    duration_ms history; /* hits older than this are dropped first (contract_info.history) */

    /* per-event scratch, sized once */
    const value *at[FIELD_FROM_COUNT]; /* where this event's fields are kept (eval_env.at) */
    value state_fields[STATE_FIELD_COUNT]; /* the FIELD_FROM_STATE ones, worked out per event */
    bool reads_state[STATE_FIELD_COUNT];   /* which of them the contract reads */
    bool reads_any_state;
    value *no_account;                 /* the account fields of a lead without one: null */
    value *fields;                     /* all of them in one array, for a handoff (engine_flat_fields()) */
    bool *signal_now, *fit;
    value *terms;
    trigger *triggers;
    strbuf did, asks, json;
    char (*now_desc)[ENGINE_DESCRIPTION]; /* per signal: this event's description */
    bool *desc_pending;   /* per signal hit by this event: now_desc not yet rendered */
    char now_message_id[65]; /* copied from now_id when first needed: see current_message_id() */
    str now_id;
    bool now_id_copied;
    lead *cur_lead;
    uint32_t cur_index;  /* cur_lead's index */
    bool clock_nomem;    /* an SLA clock could not be registered during this event */
    account *cur_account;
    time_ms now;
};

/* The id an event's lead is known by: its userId, else an identify's
 * email, else its anonymousId (identify() in engine.c). */
static inline str event_lead_key(const event *ev)
{
    if (ev->user_id.len) return ev->user_id;
    if (ev->email.len && ev->type == EVENT_IDENTIFY) return ev->email;
    return ev->anonymous_id;
}

/* Is a hit at `t` seconds within the `window` that ends at `now`? */
static inline bool in_last(time_ms now, duration_ms window, uint32_t t)
{
    time_ms at = (time_ms)t * MS_PER_SECOND;
    return at <= now && at > now - window;
}

/* A hint to start loading [p, p + n) into the cache. */
static inline void prefetch_bytes(const void *p, size_t n)
{
    for (size_t at = 0; at < n; at += 64) __builtin_prefetch((const char *)p + at);
}

/* state.c */
const char *pool_intern(engine *e, const char *s, size_t len);
const char *pool_copy(engine *e, const char *s, size_t len, size_t cap);
/* Sets one of a lead's texts to at most `cap` bytes of s, in the old
 * text's bytes when it fits there, so a lead that keeps asking questions
 * does not take more memory with each. False when memory runs out. */
bool lead_set_text(engine *e, char **text, const char *s, size_t len, size_t cap);
static inline lead *lead_at(engine *e, uint32_t index)
{
    return &e->lead_blocks[index / LEADS_PER_BLOCK][index % LEADS_PER_BLOCK];
}
/* The lead for a key (hash: strmap_hash() of it), created when absent;
 * NULL when memory runs out. */
lead *lead_find_or_add(engine *e, uint64_t hash, const char *key, size_t len, uint32_t *index, bool *created);
account *account_find_or_add(engine *e, const char *key, size_t len, uint32_t *index);
bool value_keep(engine *e, value *dst, const value *src);
/* The lead's history, made when it has none; NULL when memory runs out. */
lead_history *lead_history_of(engine *e, lead *l);
/* Forgets a lead's hits and actions, and gives their memory back. */
void lead_history_release(engine *e, lead *l);
/* Records a hit; false only when memory runs out. */
bool lead_add_hit(engine *e, lead *l, uint32_t signal, time_ms t);
/* Records a hit in the account's ring; false only when memory runs out. */
bool account_add_hit(engine *e, account *a, uint32_t lead, uint32_t signal, time_ms t);
bool is_free_mail(const engine *e, const char *domain, size_t len);

/* persist.c */
bool mark_changed(engine *e, uint32_t lead_index);
bool mark_account_changed(engine *e, uint32_t account_index);

/* engine.c */
/* The current event's messageId, cut to fit now_message_id, as a C string. */
const char *current_message_id(engine *e);
/* This event's description of a signal it hit, rendered now if it was left for later. */
const char *signal_description(engine *e, uint32_t signal, const eval_env *env);
/* Copies the event's fields, which programs read where they are kept
 * (eval_env.at), into e->fields (env->fields): what a handoff keeps, renders
 * and routes by. handoff_make() and handoff_release() call it first. */
void engine_flat_fields(engine *e);
/* Sets env's history callbacks (count, last, distinct) and their ctx: they
 * answer for e->cur_lead and e->cur_account as of e->now (build_env()
 * sets all three per event; tests set them by hand). */
void engine_history_answers(engine *e, eval_env *env);

/* handoff.c */
/* Picks the rep for a lead the receiving team just got (no-op without a
 * router); `out` is filled when it returns true. */
bool handoff_route(engine *e, lead *l, const gate_info *g, const eval_env *env, time_ms at, route_decision *out);

/* score.c */
bool score_setup(engine *e);
void score_teardown(engine *e);
/* The lead's learned score after this event's hits; VAL_NULL without a model. */
value lead_score(engine *e, const lead *l, time_ms now);

/* sla.c */
bool sla_setup(engine *e);
void sla_teardown(engine *e);
/* Starts both clocks for a lead that reached the receiving team at `at`. */
bool sla_start(engine *e, lead *l, time_ms at);
void sla_stop(lead *l, enum sla_clock c);
/* Re-registers a lead's running clocks (after an import). */
bool sla_restore(engine *e, uint32_t lead_index);

/* lifecycle.c */
void lifecycle_change(engine *e, const engine_sink *sink, lead *l, uint32_t to_stage,
                      uint8_t to_status, const char *cause, time_ms at);
void lifecycle_outcome(engine *e, const engine_sink *sink, lead *l, const event *ev);
void lifecycle_wake(engine *e, const engine_sink *sink, lead *l, time_ms now);

/* handoff.c */
void handoff_make(engine *e, const engine_sink *sink, lead *l, uint32_t gate, const event *ev,
                  const eval_env *env);
void handoff_release(engine *e, const engine_sink *sink, lead *l, const eval_env *env, time_ms at);
bool lead_has_context(const engine *e, const lead *l, uint32_t gate);

#endif
