/* The dedupe table against a plain reference: every id it remembers is
 * caught inside the window, none is lost when the table is rebuilt without
 * its expired ids, and its size follows the ids of one window, not all ids
 * ever. */
#include "../harness.h"
#include "engine/internal.h"

#define IDS 400000u
#define WINDOW_HOURS 168 /* the default 7 days */

/* A small deterministic generator (xorshift), so a failure can be rerun. */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint64_t id_hash(uint32_t id)
{
    char text[16];
    int n = snprintf(text, sizeof text, "m-%u", id);
    return dedupe_hash(text, (size_t)n);
}

/* What the table must answer: an id seen within the window of the hour it
 * was last taken as new is a duplicate. */
typedef struct reference {
    int32_t *hour; /* per id: the hour it was last taken as new, -1 never */
} reference;

static bool reference_seen(reference *r, uint32_t id, int32_t hour)
{
    int32_t first = r->hour[id];
    if (first >= 0 && abs(hour - first) <= WINDOW_HOURS) return true;
    r->hour[id] = hour;
    return false;
}

/* Slots in use: a slot's hash is 0 when empty. */
static size_t occupied(const dedupe *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->cap; i++)
        n += d->hashes[i] != 0;
    return n;
}

/* A stream a minute apart on average, up to an hour late, where one event
 * in four resends an earlier id: some within days, some after weeks. A
 * resend is kept clear of the window's edge by two hours, where lateness
 * could make the answer depend on when the table was last rebuilt. */
static void test_the_table_answers_as_the_reference(void **state)
{
    (void)state;
    dedupe d;
    assert_true(dedupe_init(&d, (duration_ms)WINDOW_HOURS * MS_PER_HOUR));
    reference ref = {.hour = malloc(IDS * sizeof *ref.hour)};
    int32_t *sent_at = malloc(IDS * sizeof *sent_at);
    assert_non_null(ref.hour);
    assert_non_null(sent_at);
    for (size_t i = 0; i < IDS; i++) ref.hour[i] = -1;

    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint32_t fresh = 0, duplicates = 0, resent_late = 0;
    time_ms start = (time_ms)490000 * MS_PER_HOUR, clock = start;
    size_t max_cap = 0;
    for (uint32_t n = 0; fresh < IDS; n++) {
        clock += (time_ms)(next_random(&seed) % 120000); /* 0 to 2 minutes */
        time_ms t = clock - (time_ms)(next_random(&seed) % MS_PER_HOUR);
        int32_t hour = (int32_t)(t / MS_PER_HOUR);
        uint32_t id = fresh;
        if (fresh > 1000 && next_random(&seed) % 4 == 0) {
            uint64_t r = next_random(&seed);
            uint32_t back = fresh < 8000 ? fresh : 8000;
            id = r % 2 ? fresh - 1 - (uint32_t)(r / 2 % back) : (uint32_t)(r / 2 % fresh); /* in the last week or so, or any */
            int32_t apart = abs(hour - ref.hour[id]);
            if (apart > WINDOW_HOURS - 2 && apart < WINDOW_HOURS + 2) continue;
            resent_late += apart > WINDOW_HOURS;
        } else {
            sent_at[fresh++] = hour;
        }
        bool nomem;
        bool seen = dedupe_seen(&d, id_hash(id), t, &nomem);
        assert_false(nomem);
        if (seen != reference_seen(&ref, id, hour)) fail_msg("event %u, id %u at hour %d: table says %s", n, id, hour, seen ? "seen" : "new");
        duplicates += seen;
        if (d.cap > max_cap) max_cap = d.cap;
    }
    /* both kinds of resend happened, many times */
    assert_true(duplicates > 50000);
    assert_true(resent_late > 10000);
    /* the count is the slots in use, so the load the table grows by is right */
    assert_int_equal(occupied(&d), d.count);
    /* bounded by a window's ids: about 7,500 arrive in 168 hours here, and
     * the table holds them with expired ones, at up to three quarters full */
    size_t window_ids = 0;
    int32_t newest = (int32_t)(clock / MS_PER_HOUR);
    for (size_t i = 0; i < IDS; i++) window_ids += newest - sent_at[i] <= WINDOW_HOURS + 1;
    assert_true(max_cap < 4 * window_ids);
    free(sent_at);
    free(ref.hour);
    dedupe_free(&d);
}

/* Around an hour that is 0 modulo 2^16, the hour an empty slot holds: a
 * rebuild counts the live ids by their hours alone and must not count the
 * empty slots as live then. And at the window's edge, with time only going
 * forward: an id resent exactly the window's hours later is a duplicate, an
 * hour more and it is new, whichever rebuilds happened between. */
static void test_the_window_edge_and_the_hour_of_empty_slots(void **state)
{
    (void)state;
    dedupe d;
    assert_true(dedupe_init(&d, (duration_ms)WINDOW_HOURS * MS_PER_HOUR));
    int64_t first_hour = (int64_t)8 * 65536 - 3 * WINDOW_HOURS;
    uint32_t rebuilds = 0;
    size_t cap = d.cap;
    bool nomem;
    for (int64_t hour = first_hour; hour < first_hour + 6 * WINDOW_HOURS; hour++) {
        uint32_t base = (uint32_t)(hour - first_hour) * 50; /* this hour's ids, one a minute */
        for (uint32_t k = 0; k < 50; k++) {
            assert_false(dedupe_seen(&d, id_hash(base + k),
                                     (time_ms)hour * MS_PER_HOUR + k * MS_PER_MINUTE, &nomem));
            assert_false(nomem);
        }
        if (hour - WINDOW_HOURS - 1 >= first_hour) {
            time_ms t = (time_ms)hour * MS_PER_HOUR + 59 * MS_PER_MINUTE;
            assert_true(dedupe_seen(&d, id_hash(base - 50 * WINDOW_HOURS + 1), t, &nomem));
            assert_false(dedupe_seen(&d, id_hash(base - 50 * (WINDOW_HOURS + 1) + 2), t, &nomem));
        }
        if (d.cap != cap) {
            /* rebuilt: the count is the slots in use, and only the live ones are */
            rebuilds++;
            cap = d.cap;
            assert_int_equal(occupied(&d), d.count);
        }
    }
    assert_true(rebuilds > 5);
    dedupe_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_table_answers_as_the_reference),
        cmocka_unit_test(test_the_window_edge_and_the_hour_of_empty_slots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
