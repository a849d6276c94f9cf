/* store: what the SQLite store's files share and nothing outside uses. */
#ifndef BATON_STORE_INTERNAL_H
#define BATON_STORE_INTERNAL_H

#include "store/store.h"

#include <sqlite3.h>

/* The SQLite connection of a store that sqlite_store_open() opened; NULL
 * for any other store. */
sqlite3 *sqlite_store_db(store *s);

/* The name of the read-ahead VFS (readahead.c), registered on first use;
 * NULL when it could not be (the default VFS serves then, unchanged). */
const char *readahead_vfs(void);

/* Turns read-ahead on or off for db's main file. On: reads that go forward
 * through the file are served from blocks of up to a MiB, for a scan of
 * every row (load()); only inside one read transaction, and off again
 * before it ends. SQLITE_OK; SQLITE_NOTFOUND when the file is not under the
 * read-ahead VFS (reads go to the file as before); SQLITE_NOMEM, or the
 * error of reading the file's size, when it could not be turned on (off,
 * then, and its memory freed). Turning it off always succeeds. */
int readahead_set(sqlite3 *db, bool on);

/* Gathers this thread's writes to a WAL between readahead_gather(true) and
 * readahead_gather(false), which the store puts around a COMMIT (readahead.c,
 * note 4); outside, every write goes to the file as it comes. */
void readahead_gather(bool on);

/* Reads served from a block, and blocks read, by every file of this process
 * so far (for tests). */
void readahead_counts(uint64_t *hits, uint64_t *blocks);

#endif
