/* The simulated world: accounts with a hidden intent and timeline, and the
 * people who work there. Everything is drawn once, in sim_new(); names and
 * places are indices into the tables below, so a person costs a few bytes. */
#include "sim/internal.h"

/* ---- tables ------------------------------------------------------------------ */

typedef struct industry_def {
    const char *name;
    uint16_t weight;
    bool icp;                  /* in the example contract's icp_industries */
    uint32_t revenue_per_head; /* US dollars a year */
    const char *suffix[3];     /* company name endings */
} industry_def;

static const industry_def industries[] = {
    {"software", 30, true, 240000, {"Labs", "Software", "Systems"}},
    {"fintech", 15, true, 380000, {"Pay", "Capital", "Finance"}},
    {"healthtech", 15, true, 210000, {"Health", "Care", "Medical"}},
    {"retail", 10, false, 160000, {"Stores", "Market", "Goods"}},
    {"manufacturing", 10, false, 220000, {"Industries", "Works", "Manufacturing"}},
    {"education", 8, false, 90000, {"Academy", "Learning", "College"}},
    {"government", 6, false, 110000, {"Agency", "Authority", "Council"}},
    {"media", 6, false, 190000, {"Media", "Studios", "Press"}},
};

typedef struct country_def {
    const char *code; /* ISO 3166-1 alpha-2 */
    int16_t utc_offset_min;
    uint16_t weight;
    uint8_t lang; /* enum world_lang: the language of its out-of-office replies */
} country_def;

static const country_def countries[] = {
    {"US", -300, 30, LANG_EN}, {"GB", 0, 10, LANG_EN},  {"DE", 60, 10, LANG_DE},
    {"FR", 60, 7, LANG_FR},    {"ES", 60, 5, LANG_ES},  {"BR", -180, 5, LANG_PT},
    {"PT", 0, 2, LANG_PT},     {"NL", 60, 5, LANG_EN},  {"CA", -300, 5, LANG_EN},
    {"AU", 600, 4, LANG_EN},   {"IN", 330, 6, LANG_EN}, {"MX", -360, 3, LANG_ES},
    {"SE", 60, 3, LANG_EN},    {"IE", 0, 2, LANG_EN},   {"AT", 60, 2, LANG_DE},
    {"CH", 60, 1, LANG_DE},    {"BE", 60, 1, LANG_FR},  {"AR", -180, 1, LANG_ES},
};

/* Made-up company name stems; the domain adds the account number. */
static const char *const stems[] = {
    "northwind",  "bluepeak",   "copperline",  "driftwood",  "evergreen",   "foxglove",
    "granite",    "harborview", "ironbark",    "juniper",    "kestrel",     "lakeshore",
    "maplewood",  "nimbus",     "oakridge",    "pinecrest",  "quarrystone", "redwood",
    "silverleaf", "tidewater",  "umberfield",  "vantage",    "willowbrook", "yellowfin",
    "zephyr",     "alderbank",  "brightwater", "cedarpoint", "dunmore",     "eastgate",
    "fairhaven",  "glenmoor",   "highmark",    "inkwell",    "larkspur",    "meridian",
    "northstar",  "orchardia",  "pebblecreek", "riverstone",
};

static const char *const first_names[] = {
    "Ana",   "Ben",    "Carla",  "Dmitri", "Elena", "Farid",  "Grace", "Hiro",   "Ines", "Jonas",
    "Kemi",  "Liam",   "Maria",  "Nikhil", "Olga",  "Pedro",  "Quinn", "Rosa",   "Sam",  "Tara",
    "Umar",  "Vera",   "Wei",    "Ximena", "Yusuf", "Zoe",    "Amir",  "Bianca", "Chen", "Daniel",
    "Emma",  "Felix",  "Hannah", "Ivan",   "Julia", "Kofi",   "Lena",  "Marco",  "Nora", "Oscar",
    "Priya", "Rafael", "Sofia",  "Tomas",  "Uma",   "Victor", "Yara",  "Lucas",
};

static const char *const last_names[] = {
    "Alvarez",   "Becker", "Costa",    "Dubois",  "Eriksen", "Fischer",   "Garcia", "Hughes",
    "Ibrahim",   "Jansen", "Kowalski", "Lopez",   "Mehta",   "Nakamura",  "Okafor", "Petrov",
    "Quint",     "Rossi",  "Schmidt",  "Tanaka",  "Usman",   "Varga",     "Walsh",  "Xu",
    "Yilmaz",    "Zimmer", "Andersen", "Brennan", "Castro",  "Dias",      "Evans",  "Ferreira",
    "Gallagher", "Haddad", "Ito",      "Jensen",  "Klein",   "Lindqvist", "Moreau", "Novak",
    "Oliveira",  "Park",   "Romero",   "Santos",  "Thomas",  "Vogel",     "Wagner", "Young",
};

typedef struct title_def {
    const char *title, *seniority;
    uint16_t weight;
    float activity; /* executives visit less, engineers more */
} title_def;

static const title_def titles[] = {
    {"CEO", "c-level", 3, 0.5f},
    {"CTO", "c-level", 4, 0.6f},
    {"CFO", "c-level", 2, 0.5f},
    {"CISO", "c-level", 2, 0.6f},
    {"VP Engineering", "vp", 5, 0.7f},
    {"VP Sales", "vp", 4, 0.7f},
    {"VP Marketing", "vp", 4, 0.8f},
    {"VP Operations", "vp", 2, 0.7f},
    {"Director of Data", "director", 5, 0.9f},
    {"Director of IT", "director", 4, 0.9f},
    {"Head of Revenue Operations", "director", 4, 1.0f},
    {"Engineering Manager", "manager", 7, 1.0f},
    {"Marketing Manager", "manager", 7, 1.1f},
    {"Sales Operations Manager", "manager", 5, 1.0f},
    {"Procurement Manager", "manager", 3, 0.8f},
    {"IT Manager", "manager", 4, 1.0f},
    {"Data Engineer", "ic", 10, 1.3f},
    {"Software Engineer", "ic", 9, 1.2f},
    {"Security Engineer", "ic", 4, 1.1f},
    {"Data Analyst", "ic", 8, 1.2f},
    {"Marketing Specialist", "ic", 5, 1.1f},
};

/* How to spell an address: first.last@, flast@, first@, or at a free-mail provider. */
static const uint16_t mail_weights[] = {60, 22, 10, 8};
static const char *const free_mail[] = {"gmail.com", "outlook.com", "yahoo.com", "proton.me"};

/* Relative event rates by level; the absolute rate comes from --rate. */
const double world_level_weight[LVL_COUNT] = {0.6, 1.0, 1.8, 2.6, 1.1};

/* Intent by fit: accounts that fit buy more often. Order: none, researching,
 * evaluating, buying. */
static const uint16_t intent_icp[] = {35, 30, 20, 15};
static const uint16_t intent_other[] = {55, 30, 10, 5};

/* People per account by level: the buying committee grows with intent. */
static const uint8_t people_min[LVL_COUNT] = {1, 1, 2, 3, 1};
static const uint8_t people_max[LVL_COUNT] = {2, 3, 5, 6, 4};

/* ---- lookups for events.c ------------------------------------------------------ */

const char *world_industry(uint8_t i)
{
    return industries[i].name;
}
const char *world_company_suffix(const account *a)
{
    return industries[a->industry].suffix[a->suffix];
}
const char *world_stem(const account *a)
{
    return stems[a->stem];
}
const char *world_country(uint8_t c)
{
    return countries[c].code;
}
enum world_lang world_lang_of(uint8_t c)
{
    return (enum world_lang)countries[c].lang;
}
int32_t world_utc_offset(uint8_t c)
{
    return (int32_t)countries[c].utc_offset_min * 60000;
}
const char *world_first_name(const person *p)
{
    return first_names[p->first_name];
}
const char *world_last_name(const person *p)
{
    return last_names[p->last_name];
}
const char *world_title(const person *p)
{
    return titles[p->title].title;
}
const char *world_seniority(const person *p)
{
    return titles[p->title].seniority;
}
const char *world_free_mail(const person *p)
{
    return free_mail[p->last_name % ARRAY_LEN(free_mail)];
}
bool world_icp_industry(const account *a)
{
    return industries[a->industry].icp;
}
bool world_in_icp(const account *a)
{
    return industries[a->industry].icp && a->employees >= 200;
}

time_ms world_next_change(const account *a, time_ms t)
{
    if (a->customer) return NEVER;
    if (t < a->intent_at && a->intent != LVL_NONE) return a->intent_at;
    if (t < a->crm_at[CRM_CLOSE]) return a->crm_at[CRM_CLOSE];
    return NEVER;
}

/* ---- building ------------------------------------------------------------------ */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void account_draw(sim *s, account *a)
{
    rng *r = &s->r;
    memset(a, 0, sizeof *a);
    a->stem = (uint16_t)rng_below(r, ARRAY_LEN(stems));
    a->industry = (uint8_t)RNG_PICK_ROW(r, industries);
    a->suffix = (uint8_t)rng_below(r, 3);
    a->country = (uint8_t)RNG_PICK_ROW(r, countries);
    /* Log-normal head count around a median of 400: most prospects are mid-sized,
     * a long tail is large, and about two in three have 200 people or more. */
    double heads = rng_exp(5.99 + 1.3 * rng_normal(r));
    a->employees = (uint32_t)clamp64((int64_t)heads, 5, 20000);
    double rev = (double)a->employees * industries[a->industry].revenue_per_head *
                 rng_exp(0.35 * rng_normal(r));
    a->revenue = (uint64_t)(rev / 1000.0) * 1000;
    bool icp = world_in_icp(a);
    a->customer = rng_chance(r, icp ? 0.07 : 0.03);
    a->intent = a->customer ? LVL_NONE : (uint8_t)rng_pick(r, icp ? intent_icp : intent_other, 4);
    /* The intent turns on somewhere from before the period to near its end. */
    double days = (double)s->opt.days;
    a->intent_at = s->start + (time_ms)((rng_unit(r) * 1.2 - 0.3) * days * (double)MS_PER_DAY);
    enum level shape = a->customer ? LVL_CUSTOMER : (enum level)a->intent;
    a->npeople = (uint8_t)rng_range(r, people_min[shape], people_max[shape]);
    int64_t amount = (int64_t)((double)a->employees * (double)rng_range(r, 40, 120));
    a->amount = (uint32_t)(clamp64(amount, 6000, 2500000) / 500 * 500);
    a->owner = (uint8_t)rng_below(r, WORLD_REPS);
    for (int i = 0; i < CRM_STAGES; i++)
        a->crm_at[i] = NEVER; /* sim.c plans them */
    a->crm = CRM_STAGES;
}

/* When the person first shows up: the champion at once, colleagues of a
 * buying account as the committee forms, anyone else over the period. */
static time_ms person_join(sim *s, const account *a, unsigned k)
{
    rng *r = &s->r;
    time_ms span = s->end - s->start;
    if (k == 0 || a->customer) return s->start;
    if (a->intent >= LVL_EVALUATING) {
        time_ms j = a->intent_at + rng_range(r, 0, 14 * MS_PER_DAY);
        return j < s->start ? s->start : j;
    }
    return s->start + rng_range(r, 0, span * 7 / 10);
}

static void person_draw(sim *s, account *a, uint32_t ai, unsigned k, person *p)
{
    rng *r = &s->r;
    person *mates = &s->people[a->first];
    memset(p, 0, sizeof *p);
    p->account = ai;
    p->index = (uint8_t)k;
    /* Distinct first and last names within an account keep addresses unique. */
    for (bool clash = true; clash;) {
        p->first_name = (uint8_t)rng_below(r, ARRAY_LEN(first_names));
        p->last_name = (uint8_t)rng_below(r, ARRAY_LEN(last_names));
        clash = false;
        for (unsigned j = 0; j < k; j++)
            if (mates[j].first_name == p->first_name || mates[j].last_name == p->last_name)
                clash = true;
    }
    p->title = (uint8_t)RNG_PICK_ROW(r, titles);
    p->country = rng_chance(r, 0.88) ? a->country : (uint8_t)RNG_PICK_ROW(r, countries);
    p->mail = (uint8_t)rng_pick(r, mail_weights, ARRAY_LEN(mail_weights));
    p->activity = (float)((0.5 + rng_unit(r)) * titles[p->title].activity);
    if (k == 0 || a->customer || rng_chance(r, 0.88)) p->flags |= PF_IDENTIFIES;
    if (a->customer) {
        p->flags |= PF_SIGNED_UP;
        p->anon_left = 1;
    } else {
        unsigned n = 1;
        while (n < 12 && rng_chance(r, 0.65))
            n++;
        p->anon_left = (uint8_t)n;
    }
}

bool world_build(sim *s)
{
    s->naccounts = s->opt.accounts;
    s->accounts = mem_calloc(s->naccounts, sizeof *s->accounts);
    if (!s->accounts) return false;
    uint32_t total = 0;
    for (uint32_t i = 0; i < s->naccounts; i++) {
        account_draw(s, &s->accounts[i]);
        s->accounts[i].first = total;
        total += s->accounts[i].npeople;
    }
    s->npeople = total;
    s->people = mem_calloc(total, sizeof *s->people);
    /* Room for every actor at once: each person, each account's CRM
     * outcomes, and each person's sales side. */
    s->heap = mem_calloc((size_t)total * 2 + s->naccounts, sizeof *s->heap);
    if (!s->people || !s->heap) return false;
    for (uint32_t i = 0; i < s->naccounts; i++) {
        account *a = &s->accounts[i];
        for (unsigned k = 0; k < a->npeople; k++) {
            uint32_t id = a->first + k;
            person_draw(s, a, i, k, &s->people[id]);
            /* The heap holds join times until sim.c turns them into first events. */
            s->heap[id].at = person_join(s, a, k);
            s->heap[id].id = id;
        }
    }
    s->heap_len = total;
    return true;
}
