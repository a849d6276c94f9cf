/* The history questions gates ask (count, distinct, last) against a plain
 * reading of the hits: every hit tested with in_last() and its signal or
 * kind, as the engine once read them. The engine turns a window into whole
 * seconds once, reads a lead's hits from the newest back to the window's
 * start, and stops at the count a comparison turns at; this checks all
 * three at the window's edges, with late hits after the decision time,
 * kinds and signals, and leads that come back. */
#include "../harness.h"
#include "engine/internal.h"

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static bool counts_for(const engine *e, uint32_t target, uint32_t signal)
{
    if (target >= CONTRACT_KIND_BASE) return e->kind_of[signal] == target - CONTRACT_KIND_BASE;
    return signal == target;
}

static uint32_t reference_count(const engine *e, uint32_t target, duration_ms window,
                                enum agg_scope scope)
{
    uint32_t n = 0;
    if (scope == AGG_LEAD) {
        for (unsigned i = 0; i < e->cur_lead->hit_count; i++) {
            const hit *h = &e->cur_lead->history->hits[i];
            n += counts_for(e, target, h->signal) && in_last(e->now, window, h->t);
        }
        return n;
    }
    if (!e->cur_account) return 0;
    for (unsigned i = 0; i < e->cur_account->hit_count; i++) {
        const account_hit *h = &e->cur_account->hits[i];
        n += counts_for(e, target, h->signal) && in_last(e->now, window, h->t);
    }
    return n;
}

static uint32_t reference_distinct(const engine *e, uint32_t target, duration_ms window)
{
    const account *a = e->cur_account;
    if (!a) return reference_count(e, target, window, AGG_LEAD) > 0;
    uint32_t leads[ACCOUNT_MAX_HITS], n = 0;
    for (unsigned i = 0; i < a->hit_count; i++) {
        const account_hit *h = &a->hits[i];
        if (!counts_for(e, target, h->signal) || !in_last(e->now, window, h->t)) continue;
        bool seen = false;
        for (uint32_t j = 0; j < n; j++)
            seen |= leads[j] == h->lead;
        if (!seen) leads[n++] = h->lead;
    }
    return n;
}

static bool reference_last(const engine *e, uint32_t target, time_ms *when)
{
    bool found = false;
    *when = 0;
    for (unsigned i = 0; i < e->cur_lead->hit_count; i++) {
        const hit *h = &e->cur_lead->history->hits[i];
        time_ms at = (time_ms)h->t * MS_PER_SECOND;
        if (!counts_for(e, target, h->signal) || at > e->now || (found && at <= *when)) continue;
        *when = at;
        found = true;
    }
    return found;
}

/* An answer asked to stop at `enough`: exact below it, else from `enough`
 * up to the exact answer (eval_env.count). */
static void check_answer(uint32_t got, uint32_t want, uint32_t enough, const char *what)
{
    if (want < enough ? got == want : got >= enough && got <= want) return;
    fail_msg("%s: got %u, the hits say %u (asked up to %u)", what, got, want, enough);
}

static void ask_everything(engine *e, const eval_env *env, uint32_t targets[],
                           unsigned target_count)
{
    static const duration_ms windows[] = {0,
                                          1,
                                          999,
                                          1000,
                                          1500,
                                          MS_PER_HOUR,
                                          MS_PER_DAY,
                                          3 * MS_PER_DAY,
                                          14 * MS_PER_DAY,
                                          400 * MS_PER_DAY};
    static const uint32_t enough[] = {0, 1, 2, 3, 5, 40, CONTRACT_EXACT};
    for (unsigned t = 0; t < target_count; t++) {
        for (unsigned w = 0; w < ARRAY_LEN(windows); w++) {
            uint32_t lead_n = reference_count(e, targets[t], windows[w], AGG_LEAD),
                     account_n = reference_count(e, targets[t], windows[w], AGG_ACCOUNT),
                     distinct_n = reference_distinct(e, targets[t], windows[w]);
            for (unsigned k = 0; k < ARRAY_LEN(enough); k++) {
                check_answer(env->count(env->ctx, targets[t], windows[w], AGG_LEAD, enough[k]),
                             lead_n, enough[k], "count");
                check_answer(env->count(env->ctx, targets[t], windows[w], AGG_ACCOUNT, enough[k]),
                             account_n, enough[k], "count at the account");
                check_answer(env->distinct(env->ctx, targets[t], windows[w], enough[k]), distinct_n,
                             enough[k], "distinct");
            }
        }
        time_ms got, want;
        bool found = env->last(env->ctx, targets[t], &got);
        assert_int_equal(found, reference_last(e, targets[t], &want));
        assert_int_equal(got, want);
    }
}

/* Leads of one account hit in bursts, some hits late (before hits already
 * kept), the ring of the account going round; each question is asked at
 * hit times and a window away from them, to the millisecond on either
 * side, and at times between. */
static void test_answers_match_the_hits(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    engine *e = engine_new(c, NULL);
    assert_non_null(e);
    uint32_t targets[CONTRACT_MAX_SIGNALS + CONTRACT_MAX_KINDS];
    unsigned target_count = 0;
    for (uint32_t s = 0; s < contract_signal_count(c); s++)
        targets[target_count++] = s;
    for (uint32_t k = 0; k < contract_kind_count(c); k++)
        targets[target_count++] = CONTRACT_KIND_BASE + k;
    eval_env env = {.now = 0};
    engine_history_answers(e, &env);

    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (unsigned round = 0; round < 12; round++) {
        char domain[32];
        int dlen = snprintf(domain, sizeof domain, "a%u.example", round);
        uint32_t account_index;
        account *a = account_find_or_add(e, domain, (size_t)dlen, &account_index);
        assert_non_null(a);
        lead *leads[5];
        uint32_t lead_index[5];
        for (unsigned i = 0; i < 5; i++) {
            char key[32];
            int len = snprintf(key, sizeof key, "r%u-lead-%u", round, i);
            bool created;
            leads[i] = lead_find_or_add(e, strmap_hash(key, (size_t)len), key, (size_t)len,
                                        &lead_index[i], &created);
            assert_non_null(leads[i]);
            leads[i]->account = account_index;
        }
        time_ms t = (time_ms)1700000000 * MS_PER_SECOND + (time_ms)round * 777;
        unsigned hits = round % 3 == 0 ? 12 : 60 + 20 * round; /* past the ring's 96 from round 2 */
        for (unsigned k = 0; k < hits; k++) {
            uint64_t r = next_random(&seed);
            unsigned who = r % 7 < 4 ? k / 8 % 5 : (unsigned)(r >> 8) % 5; /* in bursts, mostly */
            uint32_t signal = (uint32_t)(r >> 16) % (uint32_t)contract_signal_count(c);
            t += (time_ms)(r >> 24) % (r % 5 == 0 ? 5 * MS_PER_DAY : 3 * MS_PER_HOUR);
            time_ms at = r % 6 == 0 ? t - (time_ms)(r >> 40) % (4 * MS_PER_DAY) : t; /* late */
            assert_true(lead_add_hit(e, leads[who], signal, at));
            assert_true(account_add_hit(e, a, lead_index[who], signal, at));

            if (k % 8 != 7 && k + 1 != hits) continue;
            /* ask as of times around this hit and a few windows from it */
            static const duration_ms shifts[] = {0,
                                                 1,
                                                 -1,
                                                 999,
                                                 -999,
                                                 1000,
                                                 MS_PER_DAY,
                                                 3 * MS_PER_DAY,
                                                 14 * MS_PER_DAY,
                                                 -3 * MS_PER_DAY};
            for (unsigned s = 0; s < ARRAY_LEN(shifts); s++) {
                e->now = (at / MS_PER_SECOND) * MS_PER_SECOND + shifts[s] +
                         (s % 2 ? 0 : (time_ms)(r >> 50) % 1000);
                e->cur_lead = leads[(who + s) % 5];
                e->cur_account = s % 5 == 4 ? NULL : a; /* a lead of no account */
                ask_everything(e, &env, targets, target_count);
            }
        }
    }
    engine_free(e);
    contract_free(c);
}

/* The window's edges, hit by hit: a hit at second S counts within `w` of
 * `now` when S * 1000 is after now - w and at or before now. */
static void test_window_edges_to_the_millisecond(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    engine *e = engine_new(c, NULL);
    assert_non_null(e);
    eval_env env = {.now = 0};
    engine_history_answers(e, &env);
    uint32_t index;
    bool created;
    lead *l = lead_find_or_add(e, strmap_hash("edge", 4), "edge", 4, &index, &created);
    assert_non_null(l);
    e->cur_lead = l;
    e->cur_account = NULL;
    int signal = contract_find_signal(c, "webinar");
    assert_true(signal >= 0);
    time_ms s = (time_ms)1700000000 * MS_PER_SECOND;
    assert_true(lead_add_hit(e, l, (uint32_t)signal, s + 250)); /* kept as second S */
    duration_ms week = 7 * MS_PER_DAY;
    struct {
        time_ms now;
        uint32_t want;
    } cases[] = {
        {s - 1, 0},        /* before the hit: a late event's decision */
        {s, 1},            /* at it */
        {s + week - 1, 1}, /* the last millisecond it is in the window */
        {s + week, 0},     /* now - week is S * 1000 itself: not after it */
        {s + week + 500, 0},
    };
    for (unsigned i = 0; i < ARRAY_LEN(cases); i++) {
        e->now = cases[i].now;
        assert_int_equal(env.count(env.ctx, (uint32_t)signal, week, AGG_LEAD, CONTRACT_EXACT),
                         cases[i].want);
        assert_int_equal(env.count(env.ctx, (uint32_t)signal, week, AGG_LEAD, 1), cases[i].want);
        assert_int_equal(env.distinct(env.ctx, (uint32_t)signal, week, 3), cases[i].want);
    }
    /* later hits than the decision, newest first in the array, are passed over, not counted or
     * stopped at */
    assert_true(lead_add_hit(e, l, (uint32_t)signal, s + 2 * MS_PER_DAY));
    assert_true(lead_add_hit(e, l, (uint32_t)signal, s + 3 * MS_PER_DAY));
    e->now = s + MS_PER_DAY;
    assert_int_equal(env.count(env.ctx, (uint32_t)signal, week, AGG_LEAD, CONTRACT_EXACT), 1);
    time_ms when;
    assert_true(env.last(env.ctx, (uint32_t)signal, &when));
    assert_int_equal(when, s);
    e->now = s - 1;
    assert_false(env.last(env.ctx, (uint32_t)signal, &when));
    engine_free(e);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers_match_the_hits),
        cmocka_unit_test(test_window_edges_to_the_millisecond),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
