/* sim internals: the world's data types, the random source and the event
 * writer, shared by sim.c (schedule), world.c (accounts and people) and
 * events.c (what each event says). Nothing here is public. */
#ifndef BATON_SIM_INTERNAL_H
#define BATON_SIM_INTERNAL_H

#include "sim/sim.h"

#include <string.h>

/* ---- random source ---------------------------------------------------------
 * A Weyl sequence (add an odd constant) passed through a 64-bit mixing
 * function: one word of state, fast, and good enough for made-up journeys.
 * Every draw goes through it, in schedule order, so a run is a pure function
 * of the seed. Floating point is limited to +, -, *, / (rng_ln and rng_exp are
 * our own), which IEEE 754 makes identical everywhere. */
typedef struct rng {
    uint64_t state;
} rng;

/* A bijection on 64-bit words; distinct inputs give distinct outputs. */
static inline uint64_t rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t rng_next(rng *r)
{
    r->state += UINT64_C(0x9e3779b97f4a7c15);
    return rng_mix(r->state);
}

/* Uniform in 0..n-1 (n >= 1), by multiply and shift; the bias is below 2^-32. */
static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static inline bool rng_chance(rng *r, double p)
{
    return rng_unit(r) < p;
}

/* Uniform in lo..hi, both included (lo <= hi). */
static inline int64_t rng_range(rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng_unit(r) * (double)(hi - lo + 1));
}

void rng_seed(rng *r, uint64_t seed);
/* Exponential with mean 1. */
double rng_exponential(rng *r);
/* Standard normal, approximated by a sum of twelve uniforms (bounded by ±6). */
double rng_normal(rng *r);
/* Natural logarithm (x > 0) and e^x, from + - * / only, for determinism. */
double rng_ln(double x);
double rng_exp(double x);
/* Index drawn from integer weights (their sum must be positive). */
size_t rng_pick(rng *r, const uint16_t *weights, size_t n);
/* The same over a table of rows, each with a uint16_t `weight` member. */
size_t rng_pick_strided(rng *r, const uint16_t *weight, size_t stride, size_t n);
#define RNG_PICK_ROW(r, table)                                                                     \
    rng_pick_strided((r), &(table)[0].weight, sizeof(table)[0], ARRAY_LEN(table))

/* ---- the world ------------------------------------------------------------- */

/* Buying intent, hidden from baton: it only shows through what people do.
 * LVL_CUSTOMER is how people at a customer behave. */
enum level { LVL_NONE, LVL_RESEARCHING, LVL_EVALUATING, LVL_BUYING, LVL_CUSTOMER, LVL_COUNT };

/* An account's CRM outcomes, in order; each happens at most once. */
enum crm_stage { CRM_BOOKED, CRM_HELD, CRM_OPPORTUNITY, CRM_CLOSE, CRM_STAGES };
#define NEVER INT64_MAX

typedef struct account {
    time_ms intent_at;          /* hidden: when the account starts acting on its intent */
    time_ms crm_at[CRM_STAGES]; /* hidden: when each outcome happens, or NEVER */
    uint32_t first;             /* index of its first person in sim.people */
    uint32_t employees;
    uint64_t revenue; /* yearly, in US dollars */
    uint32_t amount;  /* the deal size, should an opportunity open */
    uint16_t stem;    /* made-up company name */
    uint8_t npeople, industry, suffix, country;
    uint8_t intent;   /* enum level: what the account turns into at intent_at */
    uint8_t customer; /* a customer from the start */
    uint8_t won;      /* the deal closes won (at crm_at[CRM_CLOSE]) rather than lost */
    uint8_t crm;      /* the next outcome to emit; CRM_STAGES when none is left */
    uint8_t owner;    /* the account executive (and its SDR), index into the reps */
    uint8_t claimer;  /* 1 + the person whose accepted lead took the story over; 0: none */
} account;

/* A person's web journey: anonymous browsing, then known. */
enum phase { PH_ANON, PH_KNOWN };

/* A scripted next event that overrides the random draw. */
enum follow { FOLLOW_NONE, FOLLOW_GROUP, FOLLOW_CLICK, FOLLOW_TRAITS, FOLLOW_WORKLOAD };

enum person_flag {
    PF_IDENTIFIES = 1,  /* leaves an address at some point; others stay anonymous */
    PF_SIGNED_UP = 2,   /* has a product account */
    PF_PAIN = 4,        /* has said what hurts */
    PF_IMPACT = 8,      /* has said what it costs them */
    PF_REGROUP = 16,    /* the account changed: send a group call next */
    PF_IN_SESSION = 32, /* the next event continues a browsing session */
};

/* The sales side of one person (sales.c): what the SDR does next. */
enum sales_state {
    SALES_IDLE,    /* waiting for a buying moment (after sales_hold) */
    SALES_TOUCH,   /* the first touch is scheduled */
    SALES_VERDICT, /* touched: accept or reject next */
    SALES_DEAL,    /* accepted, and runs the account's CRM story */
    SALES_MEETING, /* accepted: a first meeting of its own is booked next */
    SALES_HELD,    /* that meeting is held next */
    SALES_DONE,    /* accepted, or rejected for good: never worked again */
};

typedef struct person {
    float activity;      /* multiplier of the person's event rate */
    uint32_t sales_hold; /* minutes after the start before sales works the person again */
    uint32_t account;    /* index into sim.accounts */
    uint8_t index;       /* position within the account; 0 is the champion */
    uint8_t first_name, last_name, title, country, mail;
    uint8_t phase, follow, flags;
    uint8_t memo;         /* what a follow-up refers to (the email opened) */
    uint8_t anon_left;    /* anonymous page views before the identify */
    uint8_t session_left; /* page views left in the current session */
    uint8_t sales;        /* enum sales_state */
} person;

/* ---- the event writer --------------------------------------------------------
 * Every event fits in one fixed buffer: all text comes from bounded tables. A
 * write past the end is dropped and marks the line as overflowed (a bug that
 * the tests would catch as invalid JSON). */
#define SIM_LINE_MAX 4096

typedef struct out {
    char *p, *end;
    bool overflow;
    int64_t day;   /* the day whose date is cached below */
    char date[16]; /* "YYYY-MM-DDT" */
    /* The messageId "sim-<seed>-<n>": the fixed part, and n in decimal, kept
     * by counting up in place. */
    char id_prefix[32];
    size_t id_prefix_len;
    uint64_t id_n;
    char id_digits[24]; /* n right-aligned, from id_digits + id_at */
    size_t id_at;
    char buf[SIM_LINE_MAX];
} out;

typedef struct heap_entry {
    time_ms at;
    uint32_t id;      /* a person; npeople + account for its CRM outcomes;
                         npeople + naccounts + person for that person's sales side */
    uint32_t account; /* the actor's account, to fetch it early */
} heap_entry;

#define SIM_ACTS 16 /* room for the rows of events.c's mix */

struct sim {
    sim_options opt;
    rng r;
    time_ms start, end;
    uint64_t anon_key; /* keys the anonymous ids to the seed */
    uint64_t emitted;
    account *accounts;
    person *people;
    uint32_t naccounts, npeople;
    heap_entry *heap;
    uint32_t heap_len;
    double scale; /* session starts per active millisecond per unit of weight */
    uint32_t act_cum[LVL_COUNT][SIM_ACTS]; /* events.c: running sums of the mix's weights */
    out o;
};

/* world.c: builds accounts and people; names and places. world_build()
 * fills s->accounts, s->people, and s->heap with each person's join time; on
 * failure the caller frees what it allocated. */
enum world_lang { LANG_EN, LANG_DE, LANG_FR, LANG_ES, LANG_PT, LANG_COUNT };
#define WORLD_REPS 6 /* account executives; events.c names them */

bool world_build(sim *s);
/* The level an account's people act at, at time t: none until the intent
 * turns on, then the intent, then customer (won) or researching (lost) once
 * a deal closes. world_next_change() is the first time after t the level
 * changes, or NEVER. */
static inline enum level world_level(const account *a, time_ms t)
{
    if (a->customer) return LVL_CUSTOMER;
    if (t >= a->crm_at[CRM_CLOSE]) return a->won ? LVL_CUSTOMER : LVL_RESEARCHING;
    return t < a->intent_at ? LVL_NONE : (enum level)a->intent;
}
time_ms world_next_change(const account *a, time_ms t);
/* The relative event rate of people at each level. */
extern const double world_level_weight[LVL_COUNT];
bool world_in_icp(const account *a);
bool world_icp_industry(const account *a);
const char *world_industry(uint8_t industry);
const char *world_stem(const account *a);
const char *world_company_suffix(const account *a);
const char *world_country(uint8_t country);
enum world_lang world_lang_of(uint8_t country);
/* The UTC offset of a country, in milliseconds. */
int32_t world_utc_offset(uint8_t country);
const char *world_first_name(const person *p);
const char *world_last_name(const person *p);
const char *world_title(const person *p);
const char *world_seniority(const person *p);
const char *world_free_mail(const person *p);

/* sim.c: the schedule, for sales.c. sim_push() adds an actor's pending
 * event (at >= the current event's time; the heap has room for every actor
 * at once). sim_office_hours() is a moment in 09:00-17:00 local on t's day,
 * or on the next workday. sim_business_advance() is the time at which `work`
 * milliseconds of business time (09:00-17:00 local, Monday to Friday) have
 * passed since t. */
void sim_push(sim *s, time_ms at, uint32_t id, uint32_t acct);
time_ms sim_office_hours(sim *s, time_ms t, int32_t off);
time_ms sim_business_advance(time_ms t, int32_t off, duration_ms work);

/* sales.c: the sales team. sales_intent() is told of a person's buying
 * moment (events.c) and may schedule the SDR's first touch; sales_step()
 * writes the person's pending sales event and returns the time of the next,
 * or NEVER; sales_deal_step() writes the account's next CRM outcome for p
 * and returns the time of the one after, or NEVER. */
#define SALES_ACTIVATION_ROWS 1000 /* a workload this big alerts sales */
void sales_intent(sim *s, person *p, time_ms t);
time_ms sales_step(sim *s, person *p, time_ms t);
time_ms sales_deal_step(sim *s, account *a, person *p, time_ms t);

/* events.c: what each event says. The emitters write one JSON object to s->o
 * and return how long the person stays with it (a page's dwell), which spaces
 * the next event of a session. */
void events_init(sim *s);
duration_ms events_session(sim *s, person *p, time_ms t, bool first);
duration_ms events_follow(sim *s, person *p, time_ms t);
duration_ms events_identify(sim *s, person *p, time_ms t, bool with_anon);
duration_ms events_group(sim *s, person *p, time_ms t);
/* A CRM outcome for person p: `stage` of the account's story (for
 * CRM_CLOSE, won or lost as a->won says). */
void events_crm(sim *s, const account *a, const person *p, time_ms t, enum crm_stage stage);
/* A sales action on p's lead: "First Touch", "Handoff Accepted", or
 * "Handoff Rejected" with a reason code (else NULL). */
void events_sales(sim *s, const person *p, time_ms t, const char *event, const char *reason);

#endif
