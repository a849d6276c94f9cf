/* sim: the journey generator is deterministic, well-formed, ordered, and
 * holds the events the contract's signals look for. */
#include "../harness.h"

#include <jansson.h>

#include "sim/sim.h"

static sim_options options(uint64_t seed, uint32_t accounts, uint32_t days, double rate)
{
    sim_options o = {.seed = seed, .accounts = accounts, .days = days, .rate = rate};
    assert_true(time_parse("2026-07-01", 10, &o.start));
    return o;
}

/* The whole stream as one string; *lines counts its events. */
static char *generate(sim_options o, size_t *lines)
{
    sim *s = sim_new(&o);
    assert_non_null(s);
    strbuf b;
    strbuf_init(&b);
    size_t n = 0;
    while (sim_next(s, &b))
        n++;
    assert_false(b.oom);
    assert_int_equal(sim_emitted(s), n);
    sim_free(s);
    if (lines) *lines = n;
    return b.data ? b.data : mem_strndup("", 0);
}

/* ---- one shared stream, parsed once ------------------------------------------------ */

typedef struct stream {
    json_t **events;
    size_t count;
} stream;

static stream shared;

static int stream_setup(void **state)
{
    size_t n;
    char *text = generate(options(7, 300, 60, 0), &n);
    shared.events = calloc(n, sizeof *shared.events);
    assert_non_null(shared.events);
    shared.count = 0;
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (!nl) {
            fail_msg("the last line lacks its newline");
            break;
        }
        *nl = '\0';
        json_error_t err;
        json_t *e = json_loads(line, 0, &err);
        if (!e) fail_msg("line %zu is not JSON: %s: %s", shared.count + 1, err.text, line);
        shared.events[shared.count++] = e;
        line = nl + 1;
    }
    mem_free(text);
    assert_int_equal(shared.count, n);
    *state = &shared;
    return 0;
}

static int stream_teardown(void **state)
{
    for (size_t i = 0; i < shared.count; i++)
        json_decref(shared.events[i]);
    free(shared.events);
    return 0;
}

static const char *jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *event_name(json_t *e)
{
    return strcmp(jstr(e, "type"), "track") == 0 ? jstr(e, "event") : NULL;
}

static json_t *props(json_t *e)
{
    return json_object_get(e, "properties");
}

static bool is_event(json_t *e, const char *name)
{
    const char *n = event_name(e);
    return n && strcmp(n, name) == 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---- determinism --------------------------------------------------------------------- */

static void test_same_seed_same_bytes(void **state)
{
    (void)state;
    size_t n1, n2, n3;
    char *a = generate(options(11, 40, 20, 0), &n1);
    char *b = generate(options(11, 40, 20, 0), &n2);
    char *c = generate(options(12, 40, 20, 0), &n3);
    assert_true(n1 > 100);
    assert_int_equal(n1, n2);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0);
    /* Not only the message ids: the journeys themselves differ. */
    const char *body_a = strstr(a, "\"timestamp\""), *body_c = strstr(c, "\"timestamp\"");
    assert_true(strncmp(body_a, body_c, 200) != 0);
    mem_free(a);
    mem_free(b);
    mem_free(c);
}

/* ---- shape of every event ---------------------------------------------------------------- */

static void test_every_line_is_a_segment_event(void **state)
{
    stream *st = *state;
    assert_true(st->count > 20000);
    const char **ids = calloc(st->count, sizeof *ids);
    time_ms last = INT64_MIN;
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i];
        const char *type = jstr(e, "type");
        assert_non_null(type);
        assert_non_null(jstr(e, "userId") ? jstr(e, "userId") : jstr(e, "anonymousId"));
        ids[i] = jstr(e, "messageId");
        assert_non_null(ids[i]);
        /* ISO-8601 UTC with milliseconds, never decreasing. */
        const char *ts = jstr(e, "timestamp");
        assert_non_null(ts);
        assert_int_equal(strlen(ts), 24);
        assert_int_equal(ts[19], '.');
        assert_int_equal(ts[23], 'Z');
        time_ms t;
        assert_true(time_parse(ts, 24, &t));
        assert_true(t >= last);
        last = t;
        if (strcmp(type, "track") == 0) {
            assert_non_null(jstr(e, "event"));
            assert_true(json_is_object(props(e)));
        } else if (strcmp(type, "page") == 0) {
            assert_non_null(jstr(e, "category"));
            assert_non_null(jstr(e, "name"));
            json_t *p = props(e);
            assert_non_null(jstr(p, "path"));
            assert_non_null(jstr(p, "url"));
            assert_non_null(jstr(p, "title"));
            assert_true(json_is_integer(json_object_get(p, "seconds")));
        } else if (strcmp(type, "identify") == 0) {
            assert_non_null(jstr(e, "userId"));
            assert_non_null(jstr(json_object_get(e, "traits"), "email"));
        } else if (strcmp(type, "group") == 0) {
            json_t *tr = json_object_get(e, "traits");
            assert_non_null(jstr(e, "groupId"));
            assert_string_equal(jstr(tr, "domain"), jstr(e, "groupId"));
            const char *keys[] = {"name", "industry", "country", "status"};
            for (size_t k = 0; k < ARRAY_LEN(keys); k++)
                assert_non_null(jstr(tr, keys[k]));
            assert_true(json_is_integer(json_object_get(tr, "employees")));
            assert_true(json_is_integer(json_object_get(tr, "revenue")));
        } else {
            fail_msg("unexpected type %s", type);
        }
    }
    qsort(ids, st->count, sizeof *ids, compare_strings);
    for (size_t i = 1; i < st->count; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) fail_msg("messageId %s twice", ids[i]);
    free(ids);
}

/* Keys come in one fixed order, so equal inputs give equal bytes. */
static void test_key_order_is_fixed(void **state)
{
    (void)state;
    sim_options o = options(3, 5, 3, 0);
    sim *s = sim_new(&o);
    assert_non_null(s);
    strbuf b;
    strbuf_init(&b);
    while (sim_next(s, &b)) {
        assert_true(strncmp(b.data, "{\"type\":\"", 9) == 0);
        const char *id = strstr(b.data, ",\"messageId\":\"sim-3-");
        const char *ts = strstr(b.data, "\",\"timestamp\":\"");
        assert_non_null(id);
        assert_non_null(ts);
        assert_true(id < ts);
        b.len = 0;
    }
    strbuf_free(&b);
    sim_free(s);
}

/* ---- journeys ------------------------------------------------------------------------- */

static void test_identify_links_anonymous_to_user(void **state)
{
    stream *st = *state;
    size_t linked = 0;
    for (size_t i = 0; i < st->count && linked < 50; i++) {
        json_t *e = st->events[i];
        if (strcmp(jstr(e, "type"), "identify") != 0 || !jstr(e, "anonymousId")) continue;
        const char *anon = jstr(e, "anonymousId"), *user = jstr(e, "userId");
        /* Before: pages seen under the anonymous id alone. */
        bool browsed = false;
        for (size_t j = 0; j < i && !browsed; j++) {
            json_t *f = st->events[j];
            const char *a = jstr(f, "anonymousId");
            if (a && strcmp(a, anon) == 0) {
                assert_null(jstr(f, "userId"));
                assert_string_equal(jstr(f, "type"), "page");
                browsed = true;
            }
        }
        assert_true(browsed);
        /* After: the group call for the same person, then known activity. */
        json_t *next = NULL;
        for (size_t j = i + 1; j < st->count && !next; j++) {
            const char *u = jstr(st->events[j], "userId");
            if (u && strcmp(u, user) == 0) next = st->events[j];
        }
        if (next) {
            assert_string_equal(jstr(next, "type"), "group");
            assert_string_equal(jstr(next, "anonymousId"), anon);
        }
        linked++;
    }
    assert_int_equal(linked, 50);
}

static bool ooo_subject(const char *subject)
{
    static const char *const prefixes[] = {
        "Automatic reply",      "Out of office",       "Abwesenheitsnotiz",
        "Automatische Antwort", "Réponse automatique", "Absence du bureau",
        "Respuesta automática", "Fuera de la oficina", "Resposta automática",
        "Ausência temporária",
    };
    for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
        if (strncmp(subject, prefixes[i], strlen(prefixes[i])) == 0) return true;
    return false;
}

static void test_replies_human_automatic_and_out_of_office(void **state)
{
    stream *st = *state;
    size_t human = 0, to_sequence = 0, ooo_flagged = 0, ooo_unflagged = 0;
    bool lang[5] = {false};
    static const char *const markers[5] = {"Out of office", "Abwesenheitsnotiz",
                                           "Réponse automatique", "Respuesta automática",
                                           "Resposta automática"};
    static const char *const alternates[5] = {"Automatic reply", "Automatische Antwort",
                                              "Absence du bureau", "Fuera de la oficina",
                                              "Ausência temporária"};
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i];
        if (!is_event(e, "Email Replied")) continue;
        json_t *p = props(e);
        const char *type = jstr(p, "sender_type"), *subject = jstr(p, "subject");
        const char *auto_submitted = jstr(json_object_get(p, "headers"), "auto_submitted");
        assert_non_null(jstr(p, "sender"));
        assert_non_null(jstr(p, "text"));
        assert_non_null(auto_submitted);
        assert_true(strcmp(type, "human") == 0 || strcmp(type, "sequence") == 0);
        if (ooo_subject(subject)) {
            if (strcmp(auto_submitted, "auto-replied") == 0)
                ooo_flagged++;
            else
                ooo_unflagged++;
            for (int l = 0; l < 5; l++)
                if (strstr(subject, markers[l]) == subject ||
                    strstr(subject, alternates[l]) == subject)
                    lang[l] = true;
        } else {
            assert_string_equal(auto_submitted, "no");
            assert_true(strncmp(subject, "Re: ", 4) == 0);
            if (strcmp(type, "human") == 0)
                human++;
            else
                to_sequence++;
        }
    }
    assert_true(human > 10);
    assert_true(to_sequence > 10);
    assert_true(ooo_flagged > 10);
    assert_true(ooo_unflagged > 0); /* only the words give these away */
    for (int l = 0; l < 5; l++)
        assert_true(lang[l]);
}

static void test_signals_the_contract_looks_for(void **state)
{
    stream *st = *state;
    static const char *const security[] = {"security-whitepaper", "soc2-report", "dpa",
                                           "pen-test-summary"};
    size_t long_pricing = 0, security_downloads = 0, requests = 0, risky = 0, negated = 0,
           questions = 0;
    size_t big_workloads = 0, signups = 0, pains = 0;
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i], *p = props(e);
        const char *type = jstr(e, "type");
        if (strcmp(type, "page") == 0 && strcmp(jstr(e, "category"), "pricing") == 0) {
            json_int_t sec = json_integer_value(json_object_get(p, "seconds"));
            assert_true(sec >= 5 && sec <= 400);
            if (sec > 90) long_pricing++;
        } else if (strcmp(type, "identify") == 0) {
            if (jstr(json_object_get(e, "traits"), "pain")) pains++;
        } else if (is_event(e, "Asset Downloaded")) {
            const char *asset = jstr(p, "asset");
            bool sec = false;
            for (size_t k = 0; k < ARRAY_LEN(security); k++)
                sec |= strcmp(asset, security[k]) == 0;
            assert_true(sec == (strcmp(jstr(p, "topic"), "security") == 0));
            if (sec) security_downloads++;
        } else if (is_event(e, "Demo Requested") || is_event(e, "Quote Requested") ||
                   is_event(e, "Consultation Requested")) {
            requests++;
        } else if (is_event(e, "Chat Message")) {
            const char *text = jstr(p, "text");
            if (strstr(text, "no plans to migrate"))
                negated++;
            else if (strstr(text, "security review") || strstr(text, "internal approval") ||
                     strstr(text, "rollout timing") || strstr(text, "Procurement"))
                risky++;
        } else if (is_event(e, "Webinar Attended")) {
            assert_non_null(jstr(p, "title"));
            if (jstr(p, "question")) questions++;
        } else if (is_event(e, "Signed Up")) {
            signups++;
        } else if (is_event(e, "Workload Run")) {
            assert_non_null(jstr(p, "workload"));
            if (json_integer_value(json_object_get(p, "rows")) >= 1000) big_workloads++;
        }
    }
    assert_true(long_pricing > 0);
    assert_true(security_downloads > 0);
    assert_true(requests > 0);
    assert_true(risky > 0);
    assert_true(negated > 0);
    assert_true(questions > 0);
    assert_true(signups > 0);
    assert_true(big_workloads > 0);
    assert_true(pains > 0);
}

static void test_customers_and_crm_outcomes(void **state)
{
    stream *st = *state;
    size_t customers = 0, prospects = 0, icp = 0, booked = 0, opportunities = 0, closed = 0;
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i];
        if (strcmp(jstr(e, "type"), "group") == 0) {
            json_t *tr = json_object_get(e, "traits");
            if (strcmp(jstr(tr, "status"), "customer") == 0)
                customers++;
            else
                prospects++;
            const char *ind = jstr(tr, "industry");
            bool icp_industry =
                !strcmp(ind, "software") || !strcmp(ind, "fintech") || !strcmp(ind, "healthtech");
            if (icp_industry && json_integer_value(json_object_get(tr, "employees")) >= 200) icp++;
            continue;
        }
        const char *name = event_name(e);
        if (!name || !jstr(props(e), "source")) continue;
        assert_string_equal(jstr(props(e), "source"), "crm");
        assert_non_null(jstr(e, "userId"));
        if (!strcmp(name, "Meeting Booked")) booked++;
        if (!strcmp(name, "Opportunity Created")) {
            opportunities++;
            assert_true(json_integer_value(json_object_get(props(e), "amount")) > 0);
        }
        if (!strcmp(name, "Deal Won") || !strcmp(name, "Deal Lost")) closed++;
        if (!strcmp(name, "Deal Lost")) assert_non_null(jstr(props(e), "reason"));
    }
    assert_true(customers > 0);
    assert_true(customers * 4 < prospects);
    /* About 40% fit the example contract's profile. */
    assert_true(icp * 10 > (customers + prospects) * 3 && icp * 10 < (customers + prospects) * 5);
    assert_true(booked > 0);
    assert_true(opportunities > 0);
    (void)closed; /* 60 days is short for a deal to close; longer runs have them */
}

/* ---- the sales side --------------------------------------------------------------------- */

/* A buying moment a sales team hears of: a request, a long look at pricing,
 * a security download, a person's reply to a rep, a real workload. */
static bool buying_moment(json_t *e)
{
    json_t *p = props(e);
    if (!jstr(e, "userId")) return false;
    if (strcmp(jstr(e, "type"), "page") == 0)
        return strcmp(jstr(e, "category"), "pricing") == 0 &&
               json_integer_value(json_object_get(p, "seconds")) > 90;
    if (is_event(e, "Demo Requested") || is_event(e, "Quote Requested") ||
        is_event(e, "Consultation Requested"))
        return true;
    if (is_event(e, "Asset Downloaded")) return strcmp(jstr(p, "topic"), "security") == 0;
    if (is_event(e, "Email Replied"))
        return strcmp(jstr(p, "sender_type"), "human") == 0 && !ooo_subject(jstr(p, "subject"));
    if (is_event(e, "Workload Run")) return json_integer_value(json_object_get(p, "rows")) >= 1000;
    return false;
}

static time_ms when(json_t *e)
{
    time_ms t = 0;
    assert_true(time_parse(jstr(e, "timestamp"), 24, &t));
    return t;
}

static bool same_user(json_t *a, json_t *b)
{
    const char *x = jstr(a, "userId"), *y = jstr(b, "userId");
    return x && y && strcmp(x, y) == 0;
}

/* The account's facts from its group calls (they do not change, only the
 * status). *before: it was a customer by t, by a group call or a won deal;
 * *ever: a group call says so at some time. */
static json_t *group_of(const stream *st, const char *domain, time_ms t, bool *before, bool *ever)
{
    json_t *g = NULL;
    *before = *ever = false;
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i];
        bool group =
            strcmp(jstr(e, "type"), "group") == 0 && strcmp(jstr(e, "groupId"), domain) == 0;
        bool won = is_event(e, "Deal Won") && strcmp(jstr(props(e), "account"), domain) == 0;
        if (group) g = json_object_get(e, "traits");
        bool customer = won || (group && strcmp(jstr(g, "status"), "customer") == 0);
        *ever |= customer;
        *before |= customer && when(e) <= t;
    }
    return g;
}

static void test_sales_works_the_people_who_show_intent(void **state)
{
    stream *st = *state;
    size_t touches = 0, same_day = 0, late = 0, accepted = 0, rejected = 0, reasons[5] = {0};
    size_t booked_after_acceptance = 0;
    static const char *const codes[5] = {"not_icp", "bad_company_size", "already_customer",
                                         "wrong_timing", "no_budget"};
    for (size_t i = 0; i < st->count; i++) {
        json_t *e = st->events[i], *p = props(e);
        const char *name = event_name(e);
        if (!name) continue;
        bool touch = !strcmp(name, "First Touch"), accept = !strcmp(name, "Handoff Accepted"),
             reject = !strcmp(name, "Handoff Rejected");
        if (!touch && !accept && !reject && strcmp(name, "Meeting Booked") != 0) continue;
        /* Sales names the person's own account: u-<n>-<k> works at <stem>-<n>.example. */
        const char *user = jstr(e, "userId"), *domain = jstr(p, "account");
        assert_non_null(user);
        assert_string_equal(jstr(p, "source"), "crm");
        assert_non_null(jstr(p, "owner"));
        char suffix[32];
        snprintf(suffix, sizeof suffix, "-%d.example", atoi(user + 2));
        assert_true(strlen(domain) > strlen(suffix));
        assert_string_equal(domain + strlen(domain) - strlen(suffix), suffix);
        if (touch) {
            /* A touch answers a buying moment of the same person, and no
             * earlier touch is still waiting for its verdict. */
            size_t j = i;
            while (j-- > 0 && !(same_user(st->events[j], e) && buying_moment(st->events[j])))
                if (same_user(st->events[j], e) && is_event(st->events[j], "First Touch"))
                    fail_msg("%s touched twice without a verdict", user);
            if (j == SIZE_MAX) fail_msg("%s touched with no buying moment before", user);
            duration_ms delay = when(e) - when(st->events[j]);
            touches++;
            same_day += delay < MS_PER_DAY;
            late += delay > 3 * MS_PER_DAY;
        } else if (accept || reject) {
            /* A verdict follows its touch. */
            size_t j = i;
            while (j-- > 0 &&
                   !(same_user(st->events[j], e) && is_event(st->events[j], "First Touch")))
                if (same_user(st->events[j], e) && (is_event(st->events[j], "Handoff Accepted") ||
                                                    is_event(st->events[j], "Handoff Rejected")))
                    fail_msg("%s judged twice after one touch", user);
            if (j == SIZE_MAX) fail_msg("%s judged before any touch", user);
            accepted += accept;
            if (accept) continue;
            rejected++;
            const char *reason = jstr(p, "reason");
            assert_non_null(reason);
            bool customer_before, customer_ever;
            json_t *g = group_of(st, domain, when(e), &customer_before, &customer_ever);
            assert_non_null(g);
            const char *ind = jstr(g, "industry");
            bool icp_industry =
                !strcmp(ind, "software") || !strcmp(ind, "fintech") || !strcmp(ind, "healthtech");
            json_int_t employees = json_integer_value(json_object_get(g, "employees"));
            size_t k = 0;
            while (k < 5 && strcmp(reason, codes[k]) != 0)
                k++;
            if (k == 5) {
                fail_msg("unknown reason %s", reason);
                return;
            }
            reasons[k]++;
            /* The reason is the account's fact. */
            if (k == 0) assert_false(icp_industry);
            if (k == 1) assert_true(employees < 200);
            if (k == 2) assert_true(customer_ever);
            if (k >= 3) assert_true(icp_industry && employees >= 200 && !customer_before);
        } else if (user[strlen(user) - 2] != '-' || user[strlen(user) - 1] != '1') {
            /* A meeting with anyone but the champion follows their acceptance. */
            size_t j = i;
            while (j-- > 0 &&
                   !(same_user(st->events[j], e) && is_event(st->events[j], "Handoff Accepted")))
                ;
            if (j == SIZE_MAX) fail_msg("a meeting with %s, whom sales never accepted", user);
            booked_after_acceptance++;
        }
    }
    fprintf(
        stderr,
        "sales: %zu touches (%zu within a day, %zu after three days), %zu accepted, %zu rejected\n",
        touches, same_day, late, accepted, rejected);
    assert_true(touches > 100);
    assert_true(same_day * 2 > touches); /* most within hours */
    assert_true(late > 0);               /* a tail of days */
    assert_true(accepted > 20 && rejected > 20);
    size_t kinds = 0;
    for (int k = 0; k < 5; k++)
        kinds += reasons[k] > 0;
    assert_true(kinds >= 4);
    assert_true(booked_after_acceptance > 0);
}

/* ---- rate and memory ---------------------------------------------------------------------- */

static void test_rate_scales_the_count(void **state)
{
    (void)state;
    size_t low, high, dflt;
    mem_free(generate(options(5, 50, 30, 200), &low));
    mem_free(generate(options(5, 50, 30, 800), &high));
    mem_free(generate(options(5, 50, 30, 0), &dflt));
    /* About rate x days, within 15%. */
    assert_true(low > 6000 * 0.85 && low < 6000 * 1.15);
    assert_true(high > 24000 * 0.85 && high < 24000 * 1.15);
    double ratio = (double)high / (double)low;
    assert_true(ratio > 3.4 && ratio < 4.6);
    /* The default: about 20 events per account per week. */
    double expect = 50 * 20.0 / 7 * 30;
    assert_true(dflt > expect * 0.85 && dflt < expect * 1.15);
}

static void test_memory_stays_flat(void **state)
{
    (void)state;
    sim_options o = options(9, 200, 30, 0);
    sim *s = sim_new(&o);
    assert_non_null(s);
    strbuf line;
    strbuf_init(&line);
    strbuf_append(&line, "x", 1); /* one allocation, grown once below */
    assert_true(sim_next(s, &line));
    line.len = 0;
    size_t before = mem_alloc_count();
    size_t n = 0;
    while (sim_next(s, &line)) {
        n++;
        line.len = 0;
    }
    assert_true(n > 10000);
    assert_int_equal(mem_alloc_count(), before); /* no allocation per event */
    strbuf_free(&line);
    sim_free(s);
}

static void test_options_are_checked(void **state)
{
    (void)state;
    sim_options bad[] = {options(1, 0, 10, 0), options(1, SIM_MAX_ACCOUNTS + 1, 10, 0),
                         options(1, 10, 0, 0), options(1, 10, SIM_MAX_DAYS + 1, 0),
                         options(1, 10, 10, -1)};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_non_null(sim_options_check(&bad[i]));
        assert_null(sim_new(&bad[i]));
    }
    sim_options ok = options(1, 1, 1, 0);
    assert_null(sim_options_check(&ok));
}

static void test_out_of_memory_leaves_nothing(void **state)
{
    (void)state;
    sim_options o = options(2, 20, 5, 0);
    for (size_t n = 1; n < 10; n++) {
        mem_fail_after(n);
        sim *s = sim_new(&o);
        mem_fail_after(0);
        if (!s) continue; /* freed its partial work: ASan checks */
        strbuf b;
        strbuf_init(&b);
        while (sim_next(s, &b))
            b.len = 0;
        strbuf_free(&b);
        sim_free(s);
    }
}

int main(void)
{
    const struct CMUnitTest standalone[] = {
        cmocka_unit_test(test_same_seed_same_bytes),
        cmocka_unit_test(test_key_order_is_fixed),
        cmocka_unit_test(test_rate_scales_the_count),
        cmocka_unit_test(test_memory_stays_flat),
        cmocka_unit_test(test_options_are_checked),
        cmocka_unit_test(test_out_of_memory_leaves_nothing),
    };
    const struct CMUnitTest on_stream[] = {
        cmocka_unit_test(test_every_line_is_a_segment_event),
        cmocka_unit_test(test_identify_links_anonymous_to_user),
        cmocka_unit_test(test_replies_human_automatic_and_out_of_office),
        cmocka_unit_test(test_signals_the_contract_looks_for),
        cmocka_unit_test(test_customers_and_crm_outcomes),
        cmocka_unit_test(test_sales_works_the_people_who_show_intent),
    };
    int failed = cmocka_run_group_tests_name("sim", standalone, NULL, NULL);
    failed += cmocka_run_group_tests_name("sim stream", on_stream, stream_setup, stream_teardown);
    return failed;
}
