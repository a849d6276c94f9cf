/* An account's hit ring: it takes memory as hits come, and keeps the latest
 * ACCOUNT_MAX_HITS of them in order while it grows and once it wraps. */
#include "../harness.h"
#include "engine/internal.h"

/* The ring's hits, oldest first, as engine_export_account() walks it. */
static uint32_t oldest(const account *a, uint16_t k)
{
    uint16_t first = (uint16_t)((a->hit_head + ACCOUNT_MAX_HITS - a->hit_count) % ACCOUNT_MAX_HITS);
    return a->hits[(first + k) % ACCOUNT_MAX_HITS].t;
}

static void test_the_ring_grows_then_keeps_the_latest_hits(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    engine *e = engine_new(c, NULL);
    uint32_t quiet_index, busy_index;
    account *quiet = account_find_or_add(e, "quiet.example", 13, &quiet_index);
    assert_non_null(quiet);
    for (uint32_t i = 0; i < 3; i++) account_add_hit(e, quiet, 0, 0, (time_ms)(1000 + i) * MS_PER_SECOND);
    /* three hits take a ring of eight, not of ACCOUNT_MAX_HITS */
    assert_int_equal(quiet->hit_count, 3);
    assert_int_equal(quiet->hit_cap, 8);
    assert_int_equal(e->account_hit_bytes, 8 * sizeof(account_hit));

    account *busy = account_find_or_add(e, "busy.example", 12, &busy_index);
    assert_non_null(busy);
    for (uint32_t n = 1; n <= 3 * ACCOUNT_MAX_HITS; n++) {
        account_add_hit(e, busy, n % 5, n % 3, (time_ms)n * MS_PER_SECOND);
        uint16_t kept = n < ACCOUNT_MAX_HITS ? (uint16_t)n : ACCOUNT_MAX_HITS;
        assert_int_equal(busy->hit_count, kept);
        assert_true(busy->hit_cap >= kept && busy->hit_cap <= ACCOUNT_MAX_HITS);
        /* the latest `kept` hits, oldest first, and the reads' view [0, count) holds the same */
        uint64_t sum = 0;
        for (uint16_t k = 0; k < kept; k++) {
            assert_int_equal(oldest(busy, k), n - kept + 1 + k);
            sum += busy->hits[k].t;
        }
        assert_int_equal(sum, (uint64_t)kept * (2 * n - kept + 1) / 2);
    }
    assert_int_equal(e->account_hit_bytes, (8 + ACCOUNT_MAX_HITS) * sizeof(account_hit));
    /* the quiet account's hits are untouched (the array may have moved when busy was added) */
    for (uint16_t k = 0; k < 3; k++) assert_int_equal(oldest(&e->accounts[quiet_index], k), 1000 + k);
    engine_free(e);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_ring_grows_then_keeps_the_latest_hits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
