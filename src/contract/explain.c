/* contract_explain(): the contract in plain words. */
#include "contract/internal.h"

void contract_explain(const contract *c, strbuf *out)
{
    strbuf_printf(out, "Contract %s, version %u.\n", c->about.name, c->about.version);
}
