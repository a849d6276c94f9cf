/* baton explain: the contract in plain words. */
#include "cli/cli.h"
#include "contract/contract.h"

#include <string.h>

contract *cli_load_contract(const char *path, bool json, int *code);

int cmd_explain(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') return cli_usage_error("explain", "give exactly one contract file");
    int code = EXIT_OK;
    contract *c = cli_load_contract(argv[1], false, &code);
    if (!c) return code;
    strbuf b;
    strbuf_init(&b);
    contract_explain(c, &b);
    if (b.oom) code = EXIT_INTERNAL;
    else fputs(b.data ? b.data : "", stdout);
    strbuf_free(&b);
    contract_free(c);
    return code;
}
