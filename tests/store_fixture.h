/* A fresh SQLite store for each test: a directory of its own under /tmp,
 * the database's path in it, and cmocka setup and teardown that make the
 * directory and remove it with the database and its -wal, -shm and -journal
 * files. Tests get the fixture from *state and open the store with
 * open_ok(). */
#ifndef BATON_TEST_STORE_FIXTURE_H
#define BATON_TEST_STORE_FIXTURE_H

#include "harness.h"
#include "store/store.h"

#include <unistd.h>

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/baton-test-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/baton.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < ARRAY_LEN(suffixes); i++) {
        char p[160];
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static store *open_ok(const fixture *f)
{
    char why[256] = "";
    store *s = sqlite_store_open(f->path, why, sizeof why);
    if (!s) fail_msg("open: %s", why);
    return s;
}

#endif
