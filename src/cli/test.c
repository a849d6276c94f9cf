/* baton test: run a contract's golden leads and show what differs. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <string.h>

contract *cli_load_contract(const char *path, bool json, int *code);

int cmd_test(int argc, char **argv)
{
    bool quiet = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
        if (strcmp(argv[first], "--quiet") == 0 || strcmp(argv[first], "-q") == 0) quiet = true;
        else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else return cli_usage_error("test", "unknown option '%s'", argv[first]);
    }
    if (first >= argc) return cli_usage_error("test", "no contract file given");
    int worst = EXIT_OK;
    unsigned passed = 0, failed = 0;
    for (int i = first; i < argc; i++) {
        int code = EXIT_OK;
        contract *c = cli_load_contract(argv[i], false, &code);
        if (!c) {
            if (code > worst) worst = code;
            continue;
        }
        if (contract_test_count(c) == 0) printf("%s: no tests\n", argv[i]);
        strbuf report;
        strbuf_init(&report);
        size_t ok = 0;
        failed += (unsigned)engine_run_golden(c, argv[i], !quiet, &report, &ok);
        passed += (unsigned)ok;
        fputs(report.data ? report.data : "", stdout);
        strbuf_free(&report);
        contract_free(c);
    }
    printf("%u passed, %u failed\n", passed, failed);
    if (failed && worst < EXIT_INVALID) worst = EXIT_INVALID;
    return worst;
}
