/* What every store backend shares: the names of token roles. */
#include "store/store.h"

static const char *const role_names[] = {
    [ROLE_INGEST] = "ingest",
    [ROLE_SALES] = "sales",
    [ROLE_ADMIN] = "admin",
};

/* NULL for a value outside the enum. */
const char *token_role_name(enum token_role r)
{
    if ((unsigned)r >= ARRAY_LEN(role_names)) return NULL;
    return role_names[r];
}
