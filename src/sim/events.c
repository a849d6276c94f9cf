/* What each simulated event says: the vocabulary (pages, assets, messages,
 * replies in five languages) and the JSON writer.
 *
 * Every event is one JSON object with its keys in a fixed order:
 *   type, messageId, timestamp, userId?, anonymousId?, then
 *   track:    event, properties, context?
 *   page:     category, name, properties {path, url, title, seconds}, context?
 *   identify: traits
 *   group:    groupId, traits
 * Web events (pages, downloads, forms, chat) carry the anonymousId, and the
 * userId once the person is known; server-side ones (email, webinar,
 * product, CRM) carry the userId only. */
#include "sim/internal.h"

#include <assert.h>

#define SITE_URL "https://acme.example"

/* ---- the JSON writer ----------------------------------------------------------- */

static inline void put(out *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n) {
        o->overflow = true;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

#define PUT(o, lit) put((o), (lit), sizeof(lit) - 1)

static inline void put_c(out *o, char c)
{
    if (o->p < o->end)
        *o->p++ = c;
    else
        o->overflow = true;
}

/* Text from the tables in this file and world.c, copied as it is: table text
 * holds no quote, backslash or control character, so it needs no escaping
 * (checked here in debug builds, and by the tests parsing every line). */
static inline void put_text(out *o, const char *s)
{
    assert(!strpbrk(s, "\"\\\n\t\r"));
    put(o, s, strlen(s));
}

static void put_uint(out *o, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, tmp + i, sizeof tmp - i);
}

/* Keys are string literals: KEY() makes one's JSON form, quotes and colon
 * included, and its length, at compile time. The writers below take that
 * pair; the lower-case macros after them take the bare literal. */
#define KEY(k) "\"" k "\":", sizeof("\"" k "\":") - 1

/* A separator unless the enclosing object has just opened (every event
 * starts with '{', so there is always a byte before p). */
static inline void put_key(out *o, const char *tok, size_t n)
{
    if (o->p[-1] != '{') put_c(o, ',');
    put(o, tok, n);
}

static void kv_(out *o, const char *tok, size_t n, const char *v)
{
    put_key(o, tok, n);
    put_c(o, '"');
    put_text(o, v);
    put_c(o, '"');
}

/* A string value made of two parts, such as "Re: " and a subject. */
static void kv2_(out *o, const char *tok, size_t n, const char *a, const char *b)
{
    put_key(o, tok, n);
    put_c(o, '"');
    put_text(o, a);
    put_text(o, b);
    put_c(o, '"');
}

static void kv_int_(out *o, const char *tok, size_t n, uint64_t v)
{
    put_key(o, tok, n);
    put_uint(o, v);
}

static void open_obj_(out *o, const char *tok, size_t n)
{
    put_key(o, tok, n);
    put_c(o, '{');
}

#define key(o, k)       put_key((o), KEY(k))
#define kv(o, k, v)     kv_((o), KEY(k), (v))
#define kv2(o, k, a, b) kv2_((o), KEY(k), (a), (b))
#define kv_int(o, k, v) kv_int_((o), KEY(k), (v))
#define open_obj(o, k)  open_obj_((o), KEY(k))

static void close_obj(out *o)
{
    put_c(o, '}');
}

static void two(char *at, unsigned v)
{
    at[0] = (char)('0' + v / 10);
    at[1] = (char)('0' + v % 10);
}

/* "2026-07-01T09:13:27.512Z", always with milliseconds. */
static void put_time(out *o, time_ms t)
{
    int64_t day = t >= 0 ? t / MS_PER_DAY : -((-t + MS_PER_DAY - 1) / MS_PER_DAY);
    if (day != o->day) {
        int64_t y;
        unsigned m, d;
        civil_from_days(day, &y, &m, &d);
        /* Years stay within 1970..9000 (sim_options_check). */
        unsigned yy = (unsigned)y;
        two(o->date, yy / 100);
        two(o->date + 2, yy % 100);
        o->date[4] = '-';
        two(o->date + 5, m);
        o->date[7] = '-';
        two(o->date + 8, d);
        o->date[10] = 'T';
        o->day = day;
    }
    put(o, o->date, 11);
    unsigned ms = (unsigned)(t - day * MS_PER_DAY);
    char clock[13];
    two(clock, ms / 3600000);
    clock[2] = ':';
    two(clock + 3, ms / 60000 % 60);
    clock[5] = ':';
    two(clock + 6, ms / 1000 % 60);
    clock[8] = '.';
    clock[9] = (char)('0' + ms / 100 % 10);
    clock[10] = (char)('0' + ms / 10 % 10);
    clock[11] = (char)('0' + ms % 10);
    clock[12] = 'Z';
    put(o, clock, sizeof clock);
}

/* The low `bytes` bytes of v as hex digits, most significant first. */
static void put_hex(out *o, uint64_t v, unsigned bytes)
{
    static const char hex[] = "0123456789abcdef";
    char tmp[16];
    for (unsigned i = 0; i < bytes; i++) {
        unsigned b = (unsigned)(v >> (8 * (bytes - 1 - i))) & 0xff;
        tmp[2 * i] = hex[b >> 4];
        tmp[2 * i + 1] = hex[b & 15];
    }
    put(o, tmp, 2 * bytes);
}

/* ---- identities ---------------------------------------------------------------- */

enum { ID_USER = 1, ID_ANON = 2 };

static unsigned web_ids(const person *p)
{
    return p->phase == PH_KNOWN ? ID_USER | ID_ANON : ID_ANON;
}

static void put_user_id(sim *s, const person *p)
{
    out *o = &s->o;
    PUT(o, "u-");
    put_uint(o, (uint64_t)p->account + 1);
    put_c(o, '-');
    put_uint(o, (uint64_t)p->index + 1);
}

/* Shaped like a UUID. The first 64 bits are a bijection of the person's
 * number, so no two people share one. */
static void put_anon_id(sim *s, const person *p)
{
    out *o = &s->o;
    uint64_t n = (uint64_t)(p - s->people);
    uint64_t hi = rng_mix(n + s->anon_key), lo = rng_mix(~n ^ s->anon_key);
    put_hex(o, hi >> 32, 4);
    put_c(o, '-');
    put_hex(o, hi >> 16, 2);
    put_c(o, '-');
    put_hex(o, hi, 2);
    put_c(o, '-');
    put_hex(o, lo >> 48, 2);
    put_c(o, '-');
    put_hex(o, lo, 6);
}

/* "sim-<seed>-<n>"; n is almost always the last one plus one. */
static void put_message_number(out *o, uint64_t n)
{
    char *d = o->id_digits;
    size_t size = sizeof o->id_digits;
    if (o->id_n + 1 == n && o->id_at > 0) {
        size_t i = size;
        while (i > o->id_at && d[i - 1] == '9')
            d[--i] = '0';
        if (i > o->id_at)
            d[i - 1]++;
        else
            d[--o->id_at] = '1';
    } else {
        uint64_t v = n;
        o->id_at = size;
        do {
            d[--o->id_at] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
    }
    o->id_n = n;
    put(o, o->id_prefix, o->id_prefix_len);
    put(o, d + o->id_at, size - o->id_at);
}

static void mix_init(sim *s);

void events_init(sim *s)
{
    out *o = &s->o;
    o->day = INT64_MIN;
    o->id_prefix_len = (size_t)snprintf(o->id_prefix, sizeof o->id_prefix, "sim-%llu-",
                                        (unsigned long long)s->opt.seed);
    o->id_n = 0;
    o->id_at = 0;
    mix_init(s);
}

/* Starts an event: {"type":..,"messageId":..,"timestamp":..,"userId":..,"anonymousId":.. */
static out *head(sim *s, const char *type, time_ms t, const person *p, unsigned ids)
{
    out *o = &s->o;
    o->p = o->buf;
    o->end = o->buf + sizeof o->buf;
    o->overflow = false;
    PUT(o, "{\"type\":\"");
    put_text(o, type);
    PUT(o, "\",\"messageId\":\"");
    put_message_number(o, s->emitted + 1);
    PUT(o, "\",\"timestamp\":\"");
    put_time(o, t);
    put_c(o, '"');
    if (ids & ID_USER) {
        PUT(o, ",\"userId\":\"");
        put_user_id(s, p);
        put_c(o, '"');
    }
    if (ids & ID_ANON) {
        PUT(o, ",\"anonymousId\":\"");
        put_anon_id(s, p);
        put_c(o, '"');
    }
    return o;
}

static out *track(sim *s, const char *event, time_ms t, const person *p, unsigned ids)
{
    out *o = head(s, "track", t, p, ids);
    kv(o, "event", event);
    open_obj(o, "properties");
    return o;
}

static void finish(out *o)
{
    put_c(o, '}');
}

/* ---- vocabulary ----------------------------------------------------------------- */

typedef struct page_def {
    const char *path, *name, *category;
    uint16_t weight;
} page_def;

static const page_def blog_pages[] = {
    {"/blog/lead-scoring-myths", "Five lead scoring myths", "blog", 3},
    {"/blog/pipeline-hygiene", "Keeping pipeline data clean", "blog", 2},
    {"/blog/intent-data-explained", "Intent data, explained", "blog", 2},
    {"/blog/revops-metrics", "Ten RevOps metrics worth tracking", "blog", 3},
    {"/blog/first-call-playbook", "A playbook for the first sales call", "blog", 2},
    {"/blog/fintech-response-time", "How a fintech team halved its response time", "blog", 2},
    {"/blog/buying-committees", "Selling to a buying committee", "blog", 2},
    {"/blog/warehouse-sync", "Syncing product data into your warehouse", "blog", 2},
    {"/blog/consent-and-tracking", "Consent and tracking in Europe", "blog", 1},
    {"/blog/spring-release", "What shipped this spring", "blog", 2},
    {"/blog/billion-row-benchmark", "Benchmarking a billion rows", "blog", 1},
    {"/blog/attribution-models", "Attribution models compared", "blog", 2},
    {"/blog/account-based-basics", "Account-based marketing basics", "blog", 2},
    {"/blog/data-contracts", "Data contracts between teams", "blog", 1},
};

static const page_def docs_pages[] = {
    {"/docs/quickstart", "Quickstart", "docs", 5},
    {"/docs/install", "Installation", "docs", 3},
    {"/docs/connectors/postgres", "PostgreSQL connector", "docs", 2},
    {"/docs/connectors/snowflake", "Snowflake connector", "docs", 2},
    {"/docs/api/events", "Events API", "docs", 3},
    {"/docs/security/sso", "Single sign-on", "docs", 1},
    {"/docs/security/encryption", "Encryption at rest and in transit", "docs", 1},
    {"/docs/guides/migration", "Moving over from another tool", "docs", 1},
    {"/docs/limits", "Limits and quotas", "docs", 1},
    {"/docs/sdk/python", "Python SDK", "docs", 2},
    {"/docs/troubleshooting", "Troubleshooting", "docs", 1},
};

static const page_def site_pages[] = {
    {"/", "Home", "home", 6},
    {"/product", "Product", "product", 4},
    {"/customers", "Customers", "product", 2},
    {"/integrations", "Integrations", "product", 2},
    {"/security", "Security", "product", 1},
    {"/about", "About us", "company", 1},
    {"/careers", "Careers", "company", 1},
};

static const page_def pricing_pages[] = {
    {"/pricing", "Pricing", "pricing", 14},
    {"/pricing/enterprise", "Enterprise pricing", "pricing", 4},
    {"/pricing/calculator", "Pricing calculator", "pricing", 2},
};

/* Paid and referral traffic tagged with UTM parameters. */
typedef struct campaign_def {
    const char *source, *medium, *name;
    uint16_t weight;
} campaign_def;

static const campaign_def web_campaigns[] = {
    {"google", "cpc", "brand-search", 4},          {"google", "cpc", "competitor-terms", 2},
    {"linkedin", "social", "data-teams-q3", 3},    {"g2", "referral", "category-listing", 2},
    {"partner", "referral", "partner-webinar", 1}, {"bing", "cpc", "brand-search", 1},
};

/* Emails that Acme's marketing sends: what people open, click and answer. */
typedef struct email_def {
    const char *campaign, *subject, *link;
} email_def;

static const email_def emails[] = {
    {"monthly-digest", "Acme monthly: what shipped", "/blog/spring-release"},
    {"nurture-data-teams", "Three ways data teams use Acme", "/product"},
    {"webinar-invite", "Invitation: buying committees, live", "/webinars/buying-committees"},
    {"trial-onboarding", "Your trial workspace is ready", "/docs/quickstart"},
    {"security-update", "Our SOC 2 Type II report is out", "/security"},
    {"case-study", "How a fintech team halved its response time", "/blog/fintech-response-time"},
};

/* What a rep writes, that a person may answer. */
static const char *const rep_subjects[] = {
    "Quick question about your data stack",
    "Following up on our call",
    "Notes from the demo",
    "Checking in after your trial",
};

static const char *const reps[WORLD_REPS] = {
    "Sam Rivera", "Priya Nair", "Jonas Weber", "Lucia Gomez", "Tom Becker", "Aisha Khan",
};

/* The development reps who work the leads first, one beside each account executive. */
static const char *const sdrs[WORLD_REPS] = {
    "Noah Fischer", "Mia Santos", "Ravi Menon", "Chloe Martin", "Diego Ruiz", "Hana Sato",
};

typedef struct asset_def {
    const char *asset, *topic, *title;
} asset_def;

/* The first four are the contract's security_assets. */
static const asset_def security_assets[] = {
    {"security-whitepaper", "security", "Security whitepaper"},
    {"soc2-report", "security", "SOC 2 Type II report"},
    {"dpa", "security", "Data processing agreement"},
    {"pen-test-summary", "security", "Penetration test summary"},
};

static const asset_def other_assets[] = {
    {"ebook-revops-handbook", "revops", "The RevOps handbook"},
    {"ebook-intent-data", "marketing", "Intent data for small teams"},
    {"guide-getting-started", "onboarding", "Getting started guide"},
    {"guide-data-modeling", "data", "A guide to modelling event data"},
    {"comparison-sheet", "evaluation", "Acme compared with the alternatives"},
    {"comparison-spreadsheets", "evaluation", "Acme versus spreadsheets"},
};

static const char *const webinars[] = {
    "Live demo: from sign-up to first workload",
    "Buying committees in practice",
    "Security and compliance deep dive",
    "Leaving spreadsheets behind",
    "Scaling to a billion rows",
};

/* Questions typed into the webinar Q&A box. */
static const char *const webinar_questions[] = {
    "How long does a migration from our current tool take?",
    "Can we run this inside our own VPC?",
    "How is pricing calculated for 500 seats?",
    "Does the SOC 2 report cover the EU region?",
    "What does a typical rollout look like for a team of fifty?",
    "Do you support single sign-on with Okta?",
    "Is there a discount for nonprofits?",
    "Can the trial be extended while procurement reviews the contract?",
};

/* Chat and form messages. Risky ones name rollout timing, internal approval,
 * migration, a security review or procurement, in varied inflections;
 * negated ones mention the same things only to rule them out. */
static const char *const chat_risky[] = {
    "What does rollout timing look like if we start in September?",
    "We need internal approval from finance before signing. Can you send a quote?",
    "How painful is the migration from our current CRM?",
    "We are migrating our reporting stack next quarter and want to include this.",
    "Our security review takes about four weeks. Who fills in the questionnaire?",
    "Procurement asks whether you accept our paper for the master agreement.",
    "Can you help us plan the rollout across three regions?",
    "Our CISO wants a security review call before the pilot starts.",
    "Is there a migration service, or do we migrate the data ourselves?",
    "Internal approvals are lined up; what would the onboarding plan be?",
};

static const char *const chat_negated[] = {
    "We have no plans to migrate this year, just looking around.",
    "No migration planned for now, only comparing features.",
    "We are not migrating anything before 2027.",
    "There is no security review on our side yet, it's early days.",
    "We won't need procurement for this, it's a side project.",
};

static const char *const chat_plain[] = {
    "Do you have an API for exporting events?",
    "Is there a free tier for students?",
    "How do I reset my password?",
    "Can I change the billing email on our account?",
    "Does it work with PostgreSQL 16?",
    "Are you hiring in Berlin?",
    "Where can I find the changelog?",
};

/* Replies to a rep, written by the person. */
static const char *const human_replies[] = {
    "Thanks, Tuesday at 10 works for a call.",
    "Happy to talk. Can we bring our security lead to the call?",
    "Yes, please send over a proposal for 200 seats.",
    "Not the right time for us, could you check back in Q4?",
    "I'm not the right person, please reach out to our VP Engineering.",
    "Interesting. What would a pilot look like for our team?",
    "We'd need internal approval first, but let's set up a call next week.",
};

/* Replies typed by a person to an automated sequence. */
static const char *const sequence_replies[] = {
    "Please take me off this list.",
    "Thanks, we are all set for now.",
    "Can you send the pricing sheet?",
    "Unsubscribe",
    "Who is the right contact for a trial extension?",
};

/* Out-of-office auto-replies: two phrasings per language. */
typedef struct ooo_def {
    const char *prefix, *text;
} ooo_def;

static const ooo_def ooo[LANG_COUNT][2] = {
    [LANG_EN] = {{"Automatic reply: ",
                  "I'm out of the office until Monday with limited access to email. "
                  "For anything urgent, please contact my colleague."},
                 {"Out of office: ",
                  "Thanks for your email. I'm on annual leave until the 21st and will "
                  "reply when I'm back."}},
    [LANG_DE] = {{"Abwesenheitsnotiz: ",
                  "Vielen Dank für Ihre Nachricht. Ich bin bis einschließlich Freitag "
                  "nicht im Büro und lese meine E-Mails nur eingeschränkt."},
                 {"Automatische Antwort: ",
                  "Ich bin derzeit im Urlaub und ab dem 21. wieder erreichbar. "
                  "In dringenden Fällen wenden Sie sich bitte an meine Kollegin."}},
    [LANG_FR] = {{"Réponse automatique : ",
                  "Merci pour votre message. Je suis absent du bureau jusqu'à lundi "
                  "et je consulte mes e-mails de façon limitée."},
                 {"Absence du bureau : ",
                  "Je suis en congé jusqu'au 21 et je vous répondrai à mon retour. "
                  "Pour toute urgence, merci de contacter ma collègue."}},
    [LANG_ES] = {{"Respuesta automática: ",
                  "Gracias por su mensaje. Estoy fuera de la oficina hasta el lunes "
                  "y tengo acceso limitado al correo."},
                 {"Fuera de la oficina: ",
                  "Estoy de vacaciones hasta el día 21 y responderé a mi regreso. "
                  "Para asuntos urgentes, contacte con mi compañera."}},
    [LANG_PT] = {{"Resposta automática: ",
                  "Obrigado pela sua mensagem. Estou fora do escritório até "
                  "segunda-feira, com acesso limitado ao e-mail."},
                 {"Ausência temporária: ",
                  "Estou de férias até o dia 21 e responderei quando voltar. "
                  "Em caso de urgência, fale com a minha colega."}},
};

/* Pains and impacts, as a person would put them into a form. */
static const char *const pains[] = {
    "leads sit untouched for days after a form fill",
    "reps spend Mondays cleaning spreadsheets",
    "finance and sales report different pipeline numbers",
    "nightly jobs miss their window twice a week",
    "no single view of who is involved in a deal",
    "manual exports before every board meeting",
};

static const char *const impacts[] = {
    "two lost deals a quarter",
    "a board deadline at the end of Q3",
    "a renewal worth 400k in October",
    "audit findings due before year end",
    "a hiring freeze means no extra analysts",
    "churn of 8% that must be halved this year",
};

static const char *const workloads[] = {
    "benchmark", "etl-nightly", "dashboard-refresh", "backfill", "ad-hoc-query",
};

static const char *const lost_reasons[] = {
    "no_budget", "competitor", "no_decision", "timing", "price",
};

#define PICK(r, list) ((list)[rng_below((r), ARRAY_LEN(list))])

/* ---- per-level odds --------------------------------------------------------------
 * Index by enum level: none, researching, evaluating, buying, customer. */
static const double pricing_long_dwell[LVL_COUNT] = {0.02, 0.05, 0.25, 0.45, 0.02};
static const double chat_risk[LVL_COUNT] = {0.05, 0.15, 0.45, 0.60, 0.10};
static const double chat_negation[LVL_COUNT] = {0.25, 0.25, 0.10, 0.05, 0.10};
static const double webinar_question[LVL_COUNT] = {0.10, 0.25, 0.45, 0.55, 0.20};
static const double states_pain[LVL_COUNT] = {0.03, 0.10, 0.35, 0.60, 0.05};
/* Lowest and highest power of ten of a workload's rows. */
static const double rows_lo[LVL_COUNT] = {1.0, 1.0, 1.5, 2.0, 2.5};
static const double rows_hi[LVL_COUNT] = {3.5, 4.0, 5.5, 6.5, 6.7};
/* Demo, quote, consultation. */
static const uint16_t request_kind[LVL_COUNT][3] = {
    {60, 20, 20}, {60, 15, 25}, {55, 20, 25}, {40, 40, 20}, {20, 50, 30},
};

/* ---- contexts and addresses ----------------------------------------------------- */

static void context_campaign(out *o, const char *source, const char *medium, const char *name)
{
    open_obj(o, "context");
    open_obj(o, "campaign");
    kv(o, "source", source);
    kv(o, "medium", medium);
    kv(o, "name", name);
    close_obj(o);
    close_obj(o);
}

static void email_context(out *o, const email_def *e)
{
    context_campaign(o, "acme", "email", e->campaign);
}

static void put_domain(out *o, const account *a, uint32_t index)
{
    put_text(o, world_stem(a));
    put_c(o, '-');
    put_uint(o, (uint64_t)index + 1);
    PUT(o, ".example");
}

static void kv_domain_(sim *s, const char *tok, size_t n, const account *a)
{
    out *o = &s->o;
    put_key(o, tok, n);
    put_c(o, '"');
    put_domain(o, a, (uint32_t)(a - s->accounts));
    put_c(o, '"');
}

#define kv_domain(s, k, a) kv_domain_((s), KEY(k), (a))

static void put_lower(out *o, const char *s)
{
    for (; *s; s++)
        put_c(o, (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s));
}

static void kv_email(sim *s, const person *p)
{
    out *o = &s->o;
    const account *a = &s->accounts[p->account];
    key(o, "email");
    put_c(o, '"');
    switch (p->mail) {
    case 0: /* first.last@ */
        put_lower(o, world_first_name(p));
        put_c(o, '.');
        put_lower(o, world_last_name(p));
        break;
    case 1: { /* flast@ */
        char initial[2] = {world_first_name(p)[0], '\0'};
        put_lower(o, initial);
        put_lower(o, world_last_name(p));
        break;
    }
    case 2: /* first@ */ put_lower(o, world_first_name(p)); break;
    default: /* a private address; the number keeps it unique */
        put_lower(o, world_first_name(p));
        put_c(o, '.');
        put_lower(o, world_last_name(p));
        put_c(o, '.');
        put_uint(o, (uint64_t)(p - s->people) + 1);
        put_c(o, '@');
        put_text(o, world_free_mail(p));
        put_c(o, '"');
        return;
    }
    put_c(o, '@');
    put_domain(o, a, p->account);
    put_c(o, '"');
}

static void kv_name(out *o, const person *p)
{
    key(o, "name");
    put_c(o, '"');
    put_text(o, world_first_name(p));
    put_c(o, ' ');
    put_text(o, world_last_name(p));
    put_c(o, '"');
}

/* ---- pages ----------------------------------------------------------------------- */

/* Seconds skewed towards the low end of lo..hi: most views are short. */
static int64_t dwell(rng *r, int64_t lo, int64_t hi)
{
    double u = rng_unit(r);
    return lo + (int64_t)(u * u * (double)(hi - lo + 1));
}

static duration_ms page_view(sim *s, person *p, time_ms t, const page_def *pg, int64_t seconds,
                             bool first)
{
    out *o = head(s, "page", t, p, web_ids(p));
    kv(o, "category", pg->category);
    kv(o, "name", pg->name);
    open_obj(o, "properties");
    kv(o, "path", pg->path);
    kv2(o, "url", SITE_URL, pg->path);
    kv(o, "title", pg->name);
    kv_int(o, "seconds", (uint64_t)seconds);
    close_obj(o);
    if (first && rng_chance(&s->r, 0.15)) {
        const campaign_def *c = &web_campaigns[RNG_PICK_ROW(&s->r, web_campaigns)];
        context_campaign(o, c->source, c->medium, c->name);
    }
    finish(o);
    return seconds * MS_PER_SECOND;
}

static duration_ms act_blog(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    const page_def *pg = &blog_pages[RNG_PICK_ROW(&s->r, blog_pages)];
    return page_view(s, p, t, pg, dwell(&s->r, 10, 420), first);
}

static duration_ms act_docs(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    const page_def *pg = &docs_pages[RNG_PICK_ROW(&s->r, docs_pages)];
    return page_view(s, p, t, pg, dwell(&s->r, 5, 600), first);
}

static duration_ms act_site(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    const page_def *pg = &site_pages[RNG_PICK_ROW(&s->r, site_pages)];
    return page_view(s, p, t, pg, dwell(&s->r, 3, 90), first);
}

/* A long look (over 90 s) grows more likely as the account gets closer to buying. */
static duration_ms act_pricing(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    const page_def *pg = &pricing_pages[RNG_PICK_ROW(&s->r, pricing_pages)];
    bool long_look = rng_chance(&s->r, pricing_long_dwell[lv]);
    int64_t seconds = long_look ? rng_range(&s->r, 91, 400) : dwell(&s->r, 5, 90);
    duration_ms busy = page_view(s, p, t, pg, seconds, first);
    if (long_look) sales_intent(s, p, t);
    return busy;
}

/* ---- email ----------------------------------------------------------------------- */

static duration_ms act_email_open(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    uint32_t i = rng_below(&s->r, ARRAY_LEN(emails));
    const email_def *e = &emails[i];
    out *o = track(s, "Email Opened", t, p, ID_USER);
    kv(o, "campaign", e->campaign);
    kv(o, "subject", e->subject);
    close_obj(o);
    email_context(o, e);
    finish(o);
    if (rng_chance(&s->r, 0.25)) {
        p->follow = FOLLOW_CLICK;
        p->memo = (uint8_t)i;
    }
    return 20 * MS_PER_SECOND;
}

static duration_ms follow_click(sim *s, person *p, time_ms t)
{
    const email_def *e = &emails[p->memo % ARRAY_LEN(emails)];
    out *o = track(s, "Email Link Clicked", t, p, ID_USER);
    kv(o, "campaign", e->campaign);
    kv(o, "subject", e->subject);
    kv2(o, "url", SITE_URL, e->link);
    close_obj(o);
    email_context(o, e);
    finish(o);
    return 5 * MS_PER_SECOND;
}

static void reply_headers(out *o, bool automatic, bool precedence, bool x_autoreply)
{
    open_obj(o, "headers");
    kv(o, "auto_submitted", automatic ? "auto-replied" : "no");
    if (precedence) kv(o, "precedence", "auto_reply");
    if (x_autoreply) kv(o, "x_autoreply", "yes");
    close_obj(o);
}

/* An auto-responder answers whatever it was sent, in the person's language
 * (or English). One in four sets no header: only its words give it away. */
static duration_ms act_reply_ooo(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    rng *r = &s->r;
    enum world_lang lang = rng_chance(r, 0.25) ? LANG_EN : world_lang_of(p->country);
    const ooo_def *d = &ooo[lang][rng_below(r, 2)];
    bool to_rep = rng_chance(r, 0.5);
    const email_def *e = &emails[rng_below(r, ARRAY_LEN(emails))];
    bool automatic = rng_chance(r, 0.75);
    bool precedence = automatic && rng_chance(r, 0.5);
    bool x_autoreply = automatic && rng_chance(r, 0.4);
    out *o = track(s, "Email Replied", t, p, ID_USER);
    kv(o, "sender", to_rep ? reps[s->accounts[p->account].owner] : "Acme Team");
    kv(o, "sender_type", to_rep ? "human" : "sequence");
    kv2(o, "subject", d->prefix, to_rep ? PICK(r, rep_subjects) : e->subject);
    kv(o, "text", d->text);
    reply_headers(o, automatic, precedence, x_autoreply);
    close_obj(o);
    finish(o);
    return 0;
}

static duration_ms act_reply_sequence(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    const email_def *e = &emails[rng_below(&s->r, ARRAY_LEN(emails))];
    out *o = track(s, "Email Replied", t, p, ID_USER);
    kv(o, "sender", "Acme Team");
    kv(o, "sender_type", "sequence");
    kv2(o, "subject", "Re: ", e->subject);
    kv(o, "text", PICK(&s->r, sequence_replies));
    reply_headers(o, false, false, false);
    kv(o, "sequence", e->campaign);
    close_obj(o);
    finish(o);
    return 0;
}

static duration_ms act_reply_human(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    out *o = track(s, "Email Replied", t, p, ID_USER);
    kv(o, "sender", reps[s->accounts[p->account].owner]);
    kv(o, "sender_type", "human");
    kv2(o, "subject", "Re: ", PICK(&s->r, rep_subjects));
    kv(o, "text", PICK(&s->r, human_replies));
    reply_headers(o, false, false, false);
    close_obj(o);
    finish(o);
    sales_intent(s, p, t);
    return 0;
}

/* ---- downloads, webinars, requests, messages ----------------------------------------- */

static duration_ms download(sim *s, person *p, time_ms t, const asset_def *d)
{
    out *o = track(s, "Asset Downloaded", t, p, web_ids(p));
    kv(o, "asset", d->asset);
    kv(o, "topic", d->topic);
    kv(o, "title", d->title);
    close_obj(o);
    finish(o);
    return rng_range(&s->r, 5, 60) * MS_PER_SECOND;
}

static duration_ms act_security(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    duration_ms busy = download(s, p, t, &PICK(&s->r, security_assets));
    sales_intent(s, p, t);
    return busy;
}

static duration_ms act_asset(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    return download(s, p, t, &PICK(&s->r, other_assets));
}

static duration_ms act_webinar(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    rng *r = &s->r;
    out *o = track(s, "Webinar Attended", t, p, ID_USER);
    kv(o, "title", PICK(r, webinars));
    kv_int(o, "minutes", (uint64_t)rng_range(r, 8, 60));
    if (rng_chance(r, webinar_question[lv])) kv(o, "question", PICK(r, webinar_questions));
    close_obj(o);
    finish(o);
    return 0;
}

static duration_ms act_request(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    static const char *const names[] = {"Demo Requested", "Quote Requested",
                                        "Consultation Requested"};
    static const char *const topics[] = {"migration", "security", "rollout", "pricing"};
    rng *r = &s->r;
    size_t kind = rng_pick(r, request_kind[lv], 3);
    out *o = track(s, names[kind], t, p, web_ids(p));
    switch (kind) {
    case 0: kv(o, "form", "/demo"); break;
    case 1:
        kv_int(o, "seats", (uint64_t)rng_range(r, 1, 40) * 10);
        kv(o, "plan", rng_chance(r, 0.5) ? "enterprise" : "team");
        break;
    default: kv(o, "topic", PICK(r, topics)); break;
    }
    close_obj(o);
    finish(o);
    /* The form may ask what hurts and what it costs them. */
    if ((p->flags & (PF_PAIN | PF_IMPACT)) != (PF_PAIN | PF_IMPACT) && rng_chance(r, 0.5))
        p->follow = FOLLOW_TRAITS;
    sales_intent(s, p, t);
    return rng_range(r, 20, 90) * MS_PER_SECOND;
}

static duration_ms act_chat(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    rng *r = &s->r;
    double u = rng_unit(r);
    const char *text = u < chat_risk[lv]                       ? PICK(r, chat_risky)
                       : u < chat_risk[lv] + chat_negation[lv] ? PICK(r, chat_negated)
                                                               : PICK(r, chat_plain);
    out *o = track(s, "Chat Message", t, p, web_ids(p));
    kv(o, "text", text);
    kv(o, "channel", rng_chance(r, 0.7) ? "chat" : "form");
    close_obj(o);
    finish(o);
    return rng_range(r, 30, 240) * MS_PER_SECOND;
}

/* ---- the product -------------------------------------------------------------------- */

static duration_ms act_signup(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    if (p->flags & PF_SIGNED_UP) return act_docs(s, p, t, lv, first);
    out *o = track(s, "Signed Up", t, p, web_ids(p));
    kv(o, "plan", rng_chance(&s->r, 0.7) ? "trial" : "free");
    close_obj(o);
    finish(o);
    p->flags |= PF_SIGNED_UP;
    if (rng_chance(&s->r, 0.6)) p->follow = FOLLOW_WORKLOAD;
    return 60 * MS_PER_SECOND;
}

/* Rows span powers of ten; the contract's activation bar is 1,000. */
static duration_ms act_workload(sim *s, person *p, time_ms t, enum level lv, bool first)
{
    rng *r = &s->r;
    if (!(p->flags & PF_SIGNED_UP)) return act_docs(s, p, t, lv, first);
    double power = rows_lo[lv] + rng_unit(r) * (rows_hi[lv] - rows_lo[lv]);
    uint64_t rows = (uint64_t)rng_exp(power * 2.30258509299404568402);
    out *o = track(s, "Workload Run", t, p, ID_USER);
    kv(o, "workload", PICK(r, workloads));
    kv_int(o, "rows", rows);
    close_obj(o);
    finish(o);
    /* A product alert: sales hears of real workloads, not of toy runs. */
    if (rows >= SALES_ACTIVATION_ROWS) sales_intent(s, p, t);
    return 0;
}

/* ---- the mix ------------------------------------------------------------------------
 * What a known person does when a session starts, by level. The weights are
 * relative within a level; signals rise with intent but none is certain, and
 * low-intent people still look at pricing now and then. The first four rows
 * are pages: a session continues with them, and anonymous people see only them. */
typedef duration_ms (*act_fn)(sim *s, person *p, time_ms t, enum level lv, bool first);

typedef struct act_def {
    act_fn emit;
    /*               none  res  eval  buy  customer */
    uint16_t weight[LVL_COUNT];
} act_def;

static const act_def acts[] = {
    {act_blog, {300, 260, 180, 130, 120}},
    {act_docs, {70, 130, 150, 140, 300}},
    {act_site, {90, 90, 80, 60, 60}},
    {act_pricing, {12, 20, 50, 70, 15}},
    {act_email_open, {340, 250, 160, 120, 180}},
    {act_security, {1, 3, 15, 30, 3}},
    {act_asset, {25, 40, 40, 30, 15}},
    {act_webinar, {6, 20, 30, 20, 12}},
    {act_request, {1, 3, 15, 35, 3}},
    {act_chat, {5, 15, 30, 40, 25}},
    {act_reply_ooo, {8, 8, 8, 8, 8}},
    {act_reply_sequence, {3, 4, 4, 3, 2}},
    {act_reply_human, {1, 3, 10, 18, 6}},
    {act_signup, {2, 8, 20, 25, 0}},
    {act_workload, {0, 10, 30, 50, 150}},
};

#define PAGE_ACTS 4

_Static_assert(ARRAY_LEN(acts) <= SIM_ACTS, "SIM_ACTS too small");

static void mix_init(sim *s)
{
    for (int lv = 0; lv < LVL_COUNT; lv++) {
        uint32_t sum = 0;
        for (size_t i = 0; i < ARRAY_LEN(acts); i++)
            s->act_cum[lv][i] = sum += acts[i].weight[lv];
    }
}

duration_ms events_session(sim *s, person *p, time_ms t, bool first)
{
    enum level lv = world_level(&s->accounts[p->account], t);
    const uint32_t *cum = s->act_cum[lv];
    size_t n = first && p->phase == PH_KNOWN ? ARRAY_LEN(acts) : PAGE_ACTS;
    uint32_t x = rng_below(&s->r, cum[n - 1]);
    size_t i = 0;
    while (x >= cum[i])
        i++;
    return acts[i].emit(s, p, t, lv, first);
}

/* ---- identify and group -------------------------------------------------------------- */

duration_ms events_identify(sim *s, person *p, time_ms t, bool with_anon)
{
    rng *r = &s->r;
    const account *a = &s->accounts[p->account];
    enum level lv = world_level(a, t);
    if (p->phase == PH_ANON && rng_chance(r, states_pain[lv])) {
        p->flags |= PF_PAIN;
        if (rng_chance(r, 0.75)) p->flags |= PF_IMPACT;
    }
    out *o = head(s, "identify", t, p, with_anon ? ID_USER | ID_ANON : ID_USER);
    open_obj(o, "traits");
    kv_email(s, p);
    kv_name(o, p);
    kv(o, "title", world_title(p));
    kv(o, "seniority", world_seniority(p));
    kv(o, "country", world_country(p->country));
    /* Which pain and impact a person names is fixed by who they are. */
    if (p->flags & PF_PAIN) kv(o, "pain", pains[(p->first_name + p->account) % ARRAY_LEN(pains)]);
    if (p->flags & PF_IMPACT)
        kv(o, "impact", impacts[(p->last_name + p->account) % ARRAY_LEN(impacts)]);
    close_obj(o);
    finish(o);
    p->phase = PH_KNOWN;
    if (with_anon)
        p->follow = FOLLOW_GROUP;
    else
        p->flags |= PF_REGROUP;
    return rng_range(r, 5, 40) * MS_PER_SECOND;
}

duration_ms events_group(sim *s, person *p, time_ms t)
{
    const account *a = &s->accounts[p->account];
    out *o = head(s, "group", t, p, ID_USER | ID_ANON);
    kv_domain(s, "groupId", a);
    open_obj(o, "traits");
    key(o, "name");
    put_c(o, '"');
    char stem[32];
    snprintf(stem, sizeof stem, "%s", world_stem(a));
    stem[0] = (char)(stem[0] - 'a' + 'A');
    put_text(o, stem);
    put_c(o, ' ');
    put_text(o, world_company_suffix(a));
    put_c(o, '"');
    kv_domain(s, "domain", a);
    kv(o, "industry", world_industry(a->industry));
    kv_int(o, "employees", a->employees);
    kv_int(o, "revenue", a->revenue);
    kv(o, "country", world_country(a->country));
    kv(o, "status", world_level(a, t) == LVL_CUSTOMER ? "customer" : "prospect");
    close_obj(o);
    finish(o);
    p->flags &= (uint8_t)~PF_REGROUP;
    return 2 * MS_PER_SECOND;
}

/* A form that asks for pain and impact after a request: the identify updates
 * the traits that are new. */
static duration_ms follow_traits(sim *s, person *p, time_ms t)
{
    p->flags |= PF_PAIN | PF_IMPACT;
    out *o = head(s, "identify", t, p, ID_USER | ID_ANON);
    open_obj(o, "traits");
    kv_email(s, p);
    kv(o, "pain", pains[(p->first_name + p->account) % ARRAY_LEN(pains)]);
    kv(o, "impact", impacts[(p->last_name + p->account) % ARRAY_LEN(impacts)]);
    close_obj(o);
    finish(o);
    return 10 * MS_PER_SECOND;
}

duration_ms events_follow(sim *s, person *p, time_ms t)
{
    enum follow f = (enum follow)p->follow;
    p->follow = FOLLOW_NONE;
    switch (f) {
    case FOLLOW_GROUP: return events_group(s, p, t);
    case FOLLOW_CLICK: return follow_click(s, p, t);
    case FOLLOW_TRAITS: return follow_traits(s, p, t);
    case FOLLOW_WORKLOAD:
        return act_workload(s, p, t, world_level(&s->accounts[p->account], t), false);
    case FOLLOW_NONE: break;
    }
    return events_session(s, p, t, false);
}

/* ---- CRM outcomes ----------------------------------------------------------------------- */

void events_crm(sim *s, const account *a, const person *p, time_ms t, enum crm_stage stage)
{
    static const char *const names[CRM_STAGES] = {
        [CRM_BOOKED] = "Meeting Booked",
        [CRM_HELD] = "Meeting Held",
        [CRM_OPPORTUNITY] = "Opportunity Created",
        [CRM_CLOSE] = "Deal Won",
    };
    bool lost = stage == CRM_CLOSE && !a->won;
    out *o = track(s, lost ? "Deal Lost" : names[stage], t, p, ID_USER);
    kv(o, "source", "crm");
    kv_domain(s, "account", a);
    kv(o, "owner", reps[a->owner]);
    if (stage >= CRM_OPPORTUNITY) kv_int(o, "amount", a->amount);
    if (lost) kv(o, "reason", PICK(&s->r, lost_reasons));
    close_obj(o);
    finish(o);
}

/* ---- sales actions ------------------------------------------------------------------------ */

void events_sales(sim *s, const person *p, time_ms t, const char *event, const char *reason)
{
    const account *a = &s->accounts[p->account];
    out *o = track(s, event, t, p, ID_USER);
    kv(o, "source", "crm");
    kv_domain(s, "account", a);
    kv(o, "owner", sdrs[a->owner]);
    if (reason) kv(o, "reason", reason);
    close_obj(o);
    finish(o);
}
