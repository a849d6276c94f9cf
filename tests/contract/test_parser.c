/* The expression parser: precedence, canonical printing, and positions. */
#include "../harness.h"
#include "contract/internal.h"

/* Parses one expression and prints it back; NULL and the rendered error
 * when it does not parse. */
static char *roundtrip(const char *text, strbuf *errors_out)
{
    arena *a = arena_new(4096);
    errors errs;
    errors_init(&errs, "expr", text, strlen(text));
    expr e = {.text = text, .len = (uint32_t)strlen(text)};
    char *result = NULL;
    if (parse_expr(a, &errs, &e)) {
        strbuf b;
        strbuf_init(&b);
        node_print(e.root, &b);
        result = strdup(b.data);
        strbuf_free(&b);
    } else if (errors_out) {
        errors_render(&errs, errors_out);
    }
    arena_free(a);
    return result;
}

static void expect_print(const char *in, const char *want)
{
    char *got = roundtrip(in, NULL);
    if (!got) fail_msg("'%s' did not parse", in);
    if (strcmp(got, want) != 0) fail_msg("'%s' printed as '%s', want '%s'", in, got, want);
    free(got);
}

static void test_precedence(void **state)
{
    (void)state;
    expect_print("a or b and c", "a or b and c");
    expect_print("(a or b) and c", "(a or b) and c");
    expect_print("not a and b", "not a and b");
    expect_print("not (a and b)", "not (a and b)");
    expect_print("1 + 2 * 3 >= 7", "1 + 2 * 3 >= 7");
    expect_print("(1 + 2) * 3", "(1 + 2) * 3");
    expect_print("a - (b - c)", "a - (b - c)");
    expect_print("-x * 2", "-x * 2");
    expect_print("-3", "-3");
}

static void test_literals_and_operators(void **state)
{
    (void)state;
    expect_print("count(intent, 14d, account) >= 3", "count(intent, 14d, account) >= 3");
    expect_print("x in [\"a\", 'b']", "x in [\"a\", \"b\"]");
    expect_print("x not in l", "x not in l");
    expect_print("t >= 2026-12-25", "t >= 2026-12-25T00:00:00Z");
    expect_print("p starts_with \"/pricing\"", "p starts_with \"/pricing\"");
    expect_print("s matches \"^a\\\\d\"", "s matches \"^a\\\\d\"");
    expect_print("properties.in == true", "properties.in == true"); /* keywords as field names */
    expect_print("1.5 < 2", "1.5 < 2");
}

static void expect_error(const char *in, const char *want)
{
    strbuf out;
    strbuf_init(&out);
    char *got = roundtrip(in, &out);
    if (got) fail_msg("'%s' parsed as '%s' but should fail", in, got);
    if (!strstr(out.data, want)) fail_msg("'%s' failed with\n%s\nwhich lacks '%s'", in, out.data, want);
    strbuf_free(&out);
}

static void test_errors_name_what_and_where(void **state)
{
    (void)state;
    expect_error("a and", "expr:1:6: error: expected a value, a name or '(', found end of expression");
    expect_error("(a or b", "hint: to close '(' at line 1, column 1");
    expect_error("a b", "expected 'and', 'or' or the end of the condition, found 'b'");
    expect_error("1 < x < 3", "comparisons do not chain");
    expect_error("a && b", "'&&' is not an operator");
    expect_error("x == \"open", "unterminated string");
    expect_error("x > 5 weeks", "found 'weeks'");
    expect_error("x > 5y", "unknown duration unit");
    expect_error("a not b", "expected 'in' after 'not'");
    expect_error("", "empty expression");
}

static void test_depth_limit(void **state)
{
    (void)state;
    char deep[CONTRACT_MAX_DEPTH * 2 + 16];
    size_t n = 0;
    for (int i = 0; i < CONTRACT_MAX_DEPTH + 1; i++) deep[n++] = '(';
    deep[n++] = 'a';
    for (int i = 0; i < CONTRACT_MAX_DEPTH + 1; i++) deep[n++] = ')';
    deep[n] = '\0';
    expect_error(deep, "nested deeper than 64 levels");
    /* exactly at the limit is fine */
    char ok[CONTRACT_MAX_DEPTH * 2 + 16];
    n = 0;
    for (int i = 0; i < CONTRACT_MAX_DEPTH - 2; i++) ok[n++] = '(';
    ok[n++] = 'a';
    for (int i = 0; i < CONTRACT_MAX_DEPTH - 2; i++) ok[n++] = ')';
    ok[n] = '\0';
    char *got = roundtrip(ok, NULL);
    assert_non_null(got);
    assert_string_equal(got, "a");
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_literals_and_operators),
        cmocka_unit_test(test_errors_name_what_and_where),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
