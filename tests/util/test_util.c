/* util: times, durations, errors with positions, suggestions, arenas. */
#include "../harness.h"

static void test_time_parse_forms(void **state)
{
    (void)state;
    time_ms t;
    assert_true(time_parse("1970-01-01", 10, &t));
    assert_int_equal(t, 0);
    assert_true(time_parse("2026-12-25T10:30:00Z", 20, &t));
    char buf[40];
    time_format(t, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-25T10:30:00Z");
    /* An offset moves the instant: 12:30+02:00 is 10:30Z. */
    time_ms u;
    assert_true(time_parse("2026-12-25T12:30:00+02:00", 25, &u));
    assert_int_equal(u, t);
    assert_true(time_parse("2026-12-25T10:30:00.250Z", 24, &u));
    assert_int_equal(u - t, 250);
    time_format(u, buf, sizeof buf);
    assert_string_equal(buf, "2026-12-25T10:30:00.250Z");
    assert_true(time_parse("2024-02-29", 10, &t)); /* leap day */
    time_format(-1, buf, sizeof buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
}

static void test_time_parse_rejects(void **state)
{
    (void)state;
    time_ms t = 42;
    const char *bad[] = {"2026-02-29", "2026-13-01", "2026-1-01", "2026-12-25T25:00:00Z",
                         "2026-12-25T10:30:00Q", "yesterday", "2026-12-25T10", ""};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        assert_false(time_parse(bad[i], strlen(bad[i]), &t));
        assert_int_equal(t, 42); /* untouched on failure */
    }
}

static void test_durations(void **state)
{
    (void)state;
    duration_ms d;
    assert_true(duration_parse("90s", 3, &d));
    assert_int_equal(d, 90 * MS_PER_SECOND);
    assert_true(duration_parse("14d", 3, &d));
    assert_int_equal(d, 14 * MS_PER_DAY);
    assert_true(duration_parse("2w", 2, &d));
    assert_int_equal(d, 14 * MS_PER_DAY);
    assert_true(duration_parse("500ms", 5, &d));
    assert_int_equal(d, 500);
    assert_false(duration_parse("14", 2, &d));
    assert_false(duration_parse("d", 1, &d));
    assert_false(duration_parse("3 days", 6, &d));
    char buf[32];
    duration_format(36 * MS_PER_HOUR, buf, sizeof buf);
    assert_string_equal(buf, "36h");
    duration_format(14 * MS_PER_DAY, buf, sizeof buf);
    assert_string_equal(buf, "14d");
    duration_format(1500, buf, sizeof buf);
    assert_string_equal(buf, "1500ms");
}

static void test_errors_render_line_col_and_caret(void **state)
{
    (void)state;
    const char *src = "a: 1\nwhen: é == x\n";
    errors e;
    errors_init(&e, "f.yaml", src, strlen(src));
    /* offset of 'x': "when: é == " is 12 bytes (é is two) after line 2 starts at 5 */
    uint32_t off = (uint32_t)(strchr(src, 'x') - src);
    error *err = errors_add(&e, ERR_NAME, off, 1, "unknown name '%s'", "x");
    error_hint(err, "did you mean '%s'?", "y");
    strbuf out;
    strbuf_init(&out);
    errors_render(&e, &out);
    assert_string_equal(out.data, "f.yaml:2:12: error: unknown name 'x'\n"
                                  "    when: é == x\n"
                                  "               ^\n"
                                  "    hint: did you mean 'y'?\n");
    strbuf_free(&out);
}

static void test_errors_are_sorted_deduplicated_and_capped(void **state)
{
    (void)state;
    const char *src = "abcdefghij";
    errors e;
    errors_init(&e, "f", src, strlen(src));
    errors_add(&e, ERR_SYNTAX, 5, 1, "second");
    errors_add(&e, ERR_SYNTAX, 1, 1, "first");
    errors_add(&e, ERR_SYNTAX, 5, 1, "second"); /* same place, same words: once */
    assert_int_equal(e.count, 2);
    errors_sort(&e);
    assert_string_equal(e.list[0].msg, "first");
    for (int i = 0; i < ERRORS_MAX + 5; i++) errors_add(&e, ERR_SYNTAX, 2, 1, "n%d", i);
    assert_int_equal(e.count, ERRORS_MAX);
    assert_true(e.dropped > 0);
    strbuf out;
    strbuf_init(&out);
    errors_render_json(&e, &out);
    assert_non_null(strstr(out.data, "\"line\":1,\"column\":2,\"length\":1,\"class\":\"syntax\",\"message\":\"first\""));
    strbuf_free(&out);
}

static void test_nearest_name(void **state)
{
    (void)state;
    const char *names[] = {"signals", "gates", "stages", "reasons"};
    assert_string_equal(nearest_name("signal", 6, names, 4), "signals");
    assert_string_equal(nearest_name("gtaes", 5, names, 4), "gates"); /* transposition */
    assert_null(nearest_name("banana", 6, names, 4));
}

static void test_arena_alignment_and_growth(void **state)
{
    (void)state;
    arena *a = arena_new(256);
    assert_non_null(a);
    for (int i = 0; i < 100; i++) {
        void *p = arena_alloc(a, (size_t)(i % 7) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
    }
    char *big = arena_zalloc(a, 10000); /* larger than a block */
    assert_non_null(big);
    assert_int_equal(big[9999], 0);
    assert_string_equal(arena_printf(a, "%s-%d", "v", 7), "v-7");
    assert_false(arena_failed(a));
    arena_free(a);
}

static void test_injected_allocation_failure(void **state)
{
    (void)state;
    arena *a = arena_new(256);
    mem_fail_after(1);
    assert_null(arena_alloc(a, 64)); /* the block allocation fails */
    assert_true(arena_failed(a));
    mem_fail_after(0);
    assert_non_null(arena_alloc(a, 64));
    arena_free(a);
}

static void test_strbuf_json_escapes(void **state)
{
    (void)state;
    strbuf b;
    strbuf_init(&b);
    strbuf_json_string(&b, "a\"b\\c\n\x01", 7);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
    strbuf_free(&b);
}

/* A map sized for what is coming never rehashes while it fills: its slot
 * table stays the size reserve() gave it, and only the keys' entries grow
 * (14 bytes for each 8-byte key: its value, length, bytes and NUL, packed;
 * a doubled table would add 32 KiB). Every key is then found. */
static void test_strmap_reserve_sizes_once(void **state)
{
    (void)state;
    strmap *m = strmap_new();
    assert_non_null(m);
    assert_true(strmap_reserve(m, 1000));
    size_t before = strmap_bytes(m);
    char key[16];
    for (uint32_t i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key-%04u", i);
        assert_non_null(strmap_put(m, key, strlen(key), i));
    }
    size_t grown = strmap_bytes(m) - before;
    assert_true(grown >= 1000 * 14 && grown <= 1000 * 16); /* the keys alone: the table did not grow */
    size_t after = strmap_bytes(m);
    assert_true(strmap_reserve(m, 10)); /* already roomy: nothing changes */
    assert_int_equal(strmap_bytes(m), after);
    for (uint32_t i = 0; i < 1000; i++) {
        uint32_t v = 0;
        snprintf(key, sizeof key, "key-%04u", i);
        assert_true(strmap_get(m, key, strlen(key), &v));
        assert_int_equal(v, i);
    }
    assert_int_equal(strmap_count(m), 1000);
    strmap_free(m);
}

/* Keys are bytes, not C strings: a NUL inside a key, a key that is a prefix
 * of another, the empty key and keys of every length up to past the
 * one-byte length (255) are all told apart, and a key's copy keeps its
 * address and bytes while the table grows around it. */
static void test_strmap_keys_are_bytes(void **state)
{
    (void)state;
    strmap *m = strmap_new();
    assert_non_null(m);
    enum { LONGEST = 600 };
    char buf[LONGEST];
    for (size_t i = 0; i < LONGEST; i++) buf[i] = (char)('a' + i % 26);
    const char *copies[LONGEST + 1];
    for (size_t n = 0; n <= LONGEST; n++) { /* "", "a", "ab", ... each a prefix of the next */
        copies[n] = strmap_put(m, buf, n, (uint32_t)n);
        assert_non_null(copies[n]);
        assert_memory_equal(copies[n], buf, n);
        assert_int_equal(copies[n][n], '\0');
    }
    assert_true(strmap_put(m, "a\0b", 3, 1000) != NULL);
    assert_true(strmap_put(m, "a\0c", 3, 1001) != NULL);
    assert_int_equal(strmap_count(m), LONGEST + 3);
    for (size_t n = 0; n <= LONGEST; n++) {
        uint32_t v = UINT32_MAX;
        assert_true(strmap_get(m, buf, n, &v));
        assert_int_equal(v, n);
        assert_ptr_equal(strmap_put(m, buf, n, (uint32_t)n + 1), copies[n]); /* replaced in place */
        assert_true(strmap_get(m, buf, n, &v));
        assert_int_equal(v, n + 1);
    }
    uint32_t v = 0;
    assert_true(strmap_get(m, "a\0b", 3, &v));
    assert_int_equal(v, 1000);
    assert_true(strmap_get(m, "a\0c", 3, &v));
    assert_int_equal(v, 1001);
    assert_false(strmap_get(m, "a\0d", 3, &v));
    assert_false(strmap_get(m, "a\0", 2, &v) && v >= 1000); /* "a\0" is not "a\0b" */
    buf[LONGEST / 2] = 'Z'; /* same length as a stored key, one byte apart */
    assert_false(strmap_get(m, buf, LONGEST, &v));
    strmap_free(m);
}

/* get_or_put() adds a missing key with the value given and reports it; a
 * key already there keeps its value and hands it back. A failed allocation
 * leaves the map as it was. */
static void test_strmap_get_or_put(void **state)
{
    (void)state;
    strmap *m = strmap_new();
    assert_non_null(m);
    char key[32];
    for (uint32_t i = 0; i < 5000; i++) { /* grows through several resizes */
        snprintf(key, sizeof key, "user-%u@example.com", i);
        uint32_t v = i * 3;
        bool added = false;
        const char *copy = strmap_get_or_put(m, key, strlen(key), &v, &added);
        assert_non_null(copy);
        assert_string_equal(copy, key);
        assert_true(added);
        assert_int_equal(v, i * 3);
    }
    for (uint32_t i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "user-%u@example.com", i);
        uint32_t v = 7;
        bool added = true;
        const char *first = strmap_get_or_put(m, key, strlen(key), &v, &added);
        assert_false(added);
        assert_int_equal(v, i * 3);
        assert_ptr_equal(strmap_put(m, key, strlen(key), v), first);
    }
    assert_int_equal(strmap_count(m), 5000);
    /* memory for the next chunk of keys, or for a bigger table, cannot be
     * had: nothing is added */
    for (uint32_t k = 0; k < 1000000; k++) { /* until a key needs memory */
        snprintf(key, sizeof key, "fresh-key-number-%u", k);
        size_t bytes = strmap_bytes(m);
        uint32_t v = 1;
        bool added = true;
        mem_fail_after(1);
        const char *copy = strmap_get_or_put(m, key, strlen(key), &v, &added);
        mem_fail_after(0);
        if (copy) continue; /* it fitted in the memory at hand */
        assert_false(added);
        assert_int_equal(strmap_count(m), 5000 + (size_t)k);
        assert_false(strmap_get(m, key, strlen(key), &v));
        assert_int_equal(strmap_bytes(m), bytes);
        strmap_free(m);
        return;
    }
    fail_msg("a million new keys never needed memory");
}

/* A well mixed 64-bit hash: flipping any one input bit flips each output
 * bit about half the time (keys of the lengths baton hashes: ids, emails,
 * UUIDs, message text), and keys that differ a little (sequential ids)
 * spread evenly over the low bits that index a table and never collide. */
static uint64_t next_random(uint64_t *x)
{
    *x += UINT64_C(0x9e3779b97f4a7c15);
    uint64_t z = *x;
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void test_hash_bytes_avalanche(void **state)
{
    (void)state;
    static const size_t lengths[] = {2, 3, 4, 7, 8, 11, 16, 17, 25, 36, 64, 100};
    enum { SAMPLES = 300 };
    uint64_t seed = 1;
    for (size_t li = 0; li < ARRAY_LEN(lengths); li++) {
        size_t n = lengths[li];
        unsigned char key[100];
        static uint32_t flips[800][64];
        memset(flips, 0, sizeof flips);
        for (int s = 0; s < SAMPLES; s++) {
            for (size_t i = 0; i < n; i++) key[i] = (unsigned char)next_random(&seed);
            uint64_t h = hash_bytes(key, n);
            for (size_t bit = 0; bit < n * 8; bit++) {
                key[bit / 8] ^= (unsigned char)(1u << bit % 8);
                uint64_t d = h ^ hash_bytes(key, n);
                key[bit / 8] ^= (unsigned char)(1u << bit % 8);
                for (int o = 0; o < 64; o++) flips[bit][o] += (uint32_t)(d >> o & 1);
            }
        }
        /* a fair coin over 300 tosses stays within 0.5 +- 0.16 (5.5 sigma)
         * except once in 2.6 * 10^7; there are 150,000 such counts (one-byte keys
         * are too few, 256, for this measure) */
        for (size_t bit = 0; bit < n * 8; bit++)
            for (int o = 0; o < 64; o++)
                if (flips[bit][o] < SAMPLES * 34 / 100 || flips[bit][o] > SAMPLES * 66 / 100)
                    fail_msg("%zu-byte keys: input bit %zu flips output bit %d in %u of %d", n, bit, o,
                             flips[bit][o], SAMPLES);
    }
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_hash_bytes_spread(void **state)
{
    (void)state;
    static const char *const formats[] = {"user-%u", "sim-1-%u", "u%u@acct-%u.example", "%08x-0000-4000-8000-000000000000"};
    enum { KEYS = 200000, BUCKETS = 4096 };
    uint64_t *hashes = malloc(KEYS * sizeof *hashes);
    uint32_t *buckets = malloc(BUCKETS * sizeof *buckets);
    assert_non_null(hashes);
    assert_non_null(buckets);
    for (size_t f = 0; f < ARRAY_LEN(formats); f++) {
        memset(buckets, 0, BUCKETS * sizeof *buckets);
        for (uint32_t i = 0; i < KEYS; i++) {
            char key[64];
            int n = snprintf(key, sizeof key, formats[f], i, i / 10);
            hashes[i] = hash_bytes(key, (size_t)n);
            buckets[hashes[i] % BUCKETS]++;
        }
        /* chi-square of the low 12 bits: 4095 degrees of freedom, so about
         * 4095 +- 90; above 4600 is beyond 5 sigma */
        double chi = 0, expect = (double)KEYS / BUCKETS;
        for (uint32_t b = 0; b < BUCKETS; b++) chi += (buckets[b] - expect) * (buckets[b] - expect) / expect;
        if (chi > 4600) fail_msg("\"%s\": low bits uneven, chi-square %.0f", formats[f], chi);
        /* no two of them share all 64 bits */
        qsort(hashes, KEYS, sizeof *hashes, compare_u64);
        for (uint32_t i = 1; i < KEYS; i++)
            if (hashes[i] == hashes[i - 1]) fail_msg("\"%s\": two keys share a hash", formats[f]);
    }
    free(hashes);
    free(buckets);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_parse_forms),
        cmocka_unit_test(test_time_parse_rejects),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_errors_render_line_col_and_caret),
        cmocka_unit_test(test_errors_are_sorted_deduplicated_and_capped),
        cmocka_unit_test(test_nearest_name),
        cmocka_unit_test(test_arena_alignment_and_growth),
        cmocka_unit_test(test_injected_allocation_failure),
        cmocka_unit_test(test_strbuf_json_escapes),
        cmocka_unit_test(test_strmap_reserve_sizes_once),
        cmocka_unit_test(test_strmap_keys_are_bytes),
        cmocka_unit_test(test_strmap_get_or_put),
        cmocka_unit_test(test_hash_bytes_avalanche),
        cmocka_unit_test(test_hash_bytes_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
