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
 * table stays the size reserve() gave it, and only the keys' copies grow
 * (16 bytes for each 9-byte key). Every key is then found. */
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
    assert_int_equal(strmap_bytes(m) - before, 1000 * 16); /* the keys alone: the table did not grow */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
