/* The learned score's model for a command: --model FILE, else the
 * contract's `model:` (relative to the contract's folder). */
#include "cli/cli.h"
#include "contract/contract.h"
#include "score/score.h"

#include <stdio.h>
#include <string.h>

void cli_warn_score_null(const char *name, const char *why)
{
    fprintf(stderr, "baton %s: %s; `score` is null, so gates that read it do not hold\n", name, why);
}

score_model *cli_load_model(const char *name, const contract *c, const char *contract_path, const char *option)
{
    char path[4096];
    if (option) snprintf(path, sizeof path, "%s", option);
    else if (!contract_model_path(c, contract_path, path, sizeof path)) return NULL;
    strbuf why;
    strbuf_init(&why);
    score_model *m = score_model_load(path, &why);
    if (!m) cli_warn_score_null(name, why.data ? why.data : path);
    strbuf_free(&why);
    return m;
}
