/* Out of memory while reading a contract: every allocation in turn fails,
 * and each time contract_parse() either reports ERR_NOMEM and returns NULL,
 * or (when the failed allocation did not matter) returns a whole contract.
 * Under AddressSanitizer this also proves nothing leaks on any failure path. */
#include "../harness.h"

static void test_every_allocation_failure_is_reported(void **state)
{
    (void)state;
    size_t len;
    char *text = read_fixture("contracts/example.yaml", &len);

    /* How many allocations a clean parse makes. */
    errors errs;
    errors_init(&errs, "example.yaml", text, len);
    size_t before = mem_alloc_count();
    contract *c = contract_parse("example.yaml", text, len, &errs);
    assert_non_null(c);
    size_t gates = contract_gate_count(c);
    contract_free(c);
    size_t total = mem_alloc_count() - before;
    assert_true(total > 5);

    for (size_t n = 1; n <= total + 1; n++) {
        errors_init(&errs, "example.yaml", text, len);
        mem_fail_after(n);
        c = contract_parse("example.yaml", text, len, &errs);
        mem_fail_after(0);
        if (c) {
            /* only acceptable when nothing was lost */
            assert_int_equal(contract_gate_count(c), gates);
            contract_free(c);
            continue;
        }
        bool nomem = false;
        for (unsigned i = 0; i < errs.count; i++) nomem |= errs.list[i].code == ERR_NOMEM;
        if (!nomem) fail_msg("allocation %zu failed but the errors do not say out of memory: %s", n,
                             errs.count ? errs.list[0].msg : "(none)");
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_allocation_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
