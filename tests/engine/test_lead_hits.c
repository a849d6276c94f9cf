/* A lead's hits against a plain reference: when the array is full, hits
 * older than the contract's history go, then one hit at a time from the
 * busiest signal (more hits, then the lower number), its oldest, until
 * LEAD_EVICT_BATCH slots are free. evict_hits() works the drops out at
 * once; this replays the rule hit by hit. */
#include "../harness.h"
#include "engine/internal.h"

#define KEEP (LEAD_MAX_HITS - 8) /* what a full array keeps: LEAD_EVICT_BATCH is 8 */

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

typedef struct reference {
    hit hits[LEAD_MAX_HITS];
    unsigned count;
} reference;

static void reference_drop_busiest(reference *r)
{
    unsigned counts[CONTRACT_MAX_SIGNALS] = {0};
    for (unsigned i = 0; i < r->count; i++)
        counts[r->hits[i].signal]++;
    unsigned busiest = 0;
    for (unsigned s = 1; s < CONTRACT_MAX_SIGNALS; s++)
        if (counts[s] > counts[busiest]) busiest = s;
    unsigned i = 0;
    while (r->hits[i].signal != busiest)
        i++;
    memmove(r->hits + i, r->hits + i + 1, (r->count - i - 1) * sizeof *r->hits);
    r->count--;
}

static void reference_add(reference *r, duration_ms history, uint8_t signal, time_ms t)
{
    if (r->count == LEAD_MAX_HITS) {
        uint32_t horizon = (uint32_t)((t - history) / MS_PER_SECOND);
        unsigned expired = 0;
        while (expired < r->count && r->hits[expired].t <= horizon)
            expired++;
        memmove(r->hits, r->hits + expired, (r->count - expired) * sizeof *r->hits);
        r->count -= expired;
        while (r->count > KEEP)
            reference_drop_busiest(r);
    }
    unsigned i = r->count++;
    uint32_t at = (uint32_t)(t / MS_PER_SECOND);
    for (; i > 0 && r->hits[i - 1].t > at; i--)
        r->hits[i] = r->hits[i - 1];
    r->hits[i].t = at;
    r->hits[i].signal = signal;
}

/* Leads with one loud signal, with many even ones, with signals far apart
 * in number, some hits late, and quiet spells longer than the history. */
static void test_full_arrays_drop_what_the_rule_says(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    engine *e = engine_new(c, NULL);
    assert_non_null(e);
    uint64_t seed = 0x2545f4914f6cdd1du;
    for (unsigned n = 0; n < 400; n++) {
        char key[32];
        int len = snprintf(key, sizeof key, "lead-%u", n);
        uint32_t index;
        bool created;
        lead *l =
            lead_find_or_add(e, strmap_hash(key, (size_t)len), key, (size_t)len, &index, &created);
        assert_non_null(l);
        reference ref = {.count = 0};
        unsigned kinds = 1 + (unsigned)(next_random(&seed) % (n % 3 == 0 ? 3 : 40));
        time_ms t = (time_ms)1700000000 * MS_PER_SECOND;
        for (unsigned k = 0; k < 300; k++) {
            uint64_t r = next_random(&seed);
            uint8_t signal = (uint8_t)((r % kinds) * 37 % 256);
            if (n % 2 && r % 3 == 0) signal = (uint8_t)(n % 256); /* a loud one */
            t += (time_ms)(r >> 20) % (n % 5 == 0 ? 40 * MS_PER_DAY : MS_PER_HOUR);
            time_ms at = r % 11 == 0 ? t - (time_ms)(r >> 40) % MS_PER_HOUR : t; /* late */
            assert_true(lead_add_hit(e, l, signal, at));
            reference_add(&ref, e->history, signal, at);
            assert_int_equal(l->hit_count, ref.count);
            for (unsigned i = 0; i < ref.count; i++) {
                assert_int_equal(l->history->hits[i].t, ref.hits[i].t);
                assert_int_equal(l->history->hits[i].signal, ref.hits[i].signal);
            }
        }
    }
    engine_free(e);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_arrays_drop_what_the_rule_says),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
