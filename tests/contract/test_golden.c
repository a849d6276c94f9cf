/* Golden files for the contract language: every contract under
 * tests/data/contracts/pass must check clean, and every one under
 * tests/data/contracts/fail must fail with exactly the text of its .err
 * file (messages, positions, source lines, carets and hints).
 * BATON_UPDATE_GOLDEN=1 rewrites the .err files instead of comparing. */
#include "../harness.h"

#include <dirent.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .yaml files of a directory, sorted; the caller frees each and the array. */
static char **list_yaml(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s", dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = realloc(names, cap * sizeof *names);
            assert_non_null(names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    *count = n;
    return names;
}

static void test_passing_contracts_check_clean(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/contracts/pass", source_dir());
    size_t count;
    char **names = list_yaml(dir, &count);
    assert_true(count >= 1);
    for (size_t i = 0; i < count; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "tests/data/contracts/pass/%s", names[i]);
        char *text = read_fixture(rel, NULL);
        strbuf out;
        strbuf_init(&out);
        contract *c = parse_string(names[i], text, &out);
        if (!c) fail_msg("%s should check clean but has errors:\n%s", names[i], out.data);
        contract_free(c);
        strbuf_free(&out);
        free(text);
        free(names[i]);
    }
    free(names);
}

static void test_example_contract_checks_clean(void **state)
{
    (void)state;
    char *text = read_fixture("contracts/example.yaml", NULL);
    strbuf out;
    strbuf_init(&out);
    contract *c = parse_string("example.yaml", text, &out);
    if (!c) fail_msg("contracts/example.yaml has errors:\n%s", out.data);
    assert_string_equal(contract_about(c)->name, "acme-handoff");
    contract_free(c);
    strbuf_free(&out);
    free(text);
}

static void test_failing_contracts_match_golden_errors(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/contracts/fail", source_dir());
    bool update = getenv("BATON_UPDATE_GOLDEN") && strcmp(getenv("BATON_UPDATE_GOLDEN"), "1") == 0;
    size_t count;
    char **names = list_yaml(dir, &count);
    assert_true(count >= 10);
    int mismatches = 0;
    for (size_t i = 0; i < count; i++) {
        char rel[512], golden[4200];
        snprintf(rel, sizeof rel, "tests/data/contracts/fail/%s", names[i]);
        snprintf(golden, sizeof golden, "%s/%.*s.err", dir, (int)(strlen(names[i]) - 5), names[i]);
        char *text = read_fixture(rel, NULL);
        strbuf out;
        strbuf_init(&out);
        contract *c = parse_string(names[i], text, &out);
        if (c) {
            print_error("%s: expected errors, but it checked clean\n", names[i]);
            mismatches++;
            contract_free(c);
        } else if (update) {
            FILE *f = fopen(golden, "w");
            assert_non_null(f);
            fputs(out.data, f);
            fclose(f);
        } else {
            size_t n = 0;
            char *want = file_read(golden, &n);
            if (!want) {
                print_error("%s: no golden file %s (run with BATON_UPDATE_GOLDEN=1)\n", names[i], golden);
                mismatches++;
            } else if (strcmp(want, out.data) != 0) {
                print_error("%s: errors differ from %s\n--- expected\n%s--- got\n%s", names[i], golden,
                            want, out.data);
                mismatches++;
            }
            mem_free(want);
        }
        strbuf_free(&out);
        free(text);
        free(names[i]);
    }
    free(names);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passing_contracts_check_clean),
        cmocka_unit_test(test_example_contract_checks_clean),
        cmocka_unit_test(test_failing_contracts_match_golden_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
