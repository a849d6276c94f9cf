/* readahead: a SQLite VFS over the default one that reads a database file in
 * large blocks while load() scans it.
 *
 * Design notes
 *  1. Why. SQLite reads one page (4 KiB) per call, one system call each. A
 *     restart reads the whole file once, some 240,000 pages for a million
 *     leads, and on a virtual machine a system call costs more than copying
 *     its page: half the time of reading the rows went to the calls.
 *  2. What. While read-ahead is on for a file (readahead_set()), reads are
 *     followed as up to READAHEAD_STREAMS scans at once: a B-tree's leaves
 *     are seldom in one run of the file (its interior pages lie elsewhere,
 *     and a table written a little at a time alternates between regions).
 *     A read that misses every block in hand and lies just after one of
 *     them (its scan goes on, perhaps past a few pages of another table)
 *     refills that scan's block from there, twice as long as the last, from
 *     READAHEAD_MIN up to READAHEAD_MAX; later reads inside a block are
 *     copies. A read anywhere else goes to the file as before, one page,
 *     and starts a scan of its own in the least recently used place, so
 *     reads that jump about cost what they did.
 *  3. Why it is safe. Read-ahead is only on inside one read transaction, and
 *     it is off (the blocks dropped) before the transaction ends. While a
 *     transaction reads, the pages it reads from the database file do not
 *     change: a checkpoint only copies in pages that the transaction reads
 *     from the WAL instead (SQLite's own page cache relies on the same). A
 *     block never reaches past the file's size when read-ahead was turned
 *     on. A write or truncation through this file drops the blocks anyway.
 *     tests/store/test_sqlite.c checkpoints under a load and pins its rows.
 *  4. Writes to a WAL are gathered (the writer's side of a commit). SQLite
 *     writes a frame as two calls, its 24-byte header and its page, so a
 *     group commit of a thousand pages made two thousand system calls, a
 *     third of the committer's time in the kernel. Writes that follow one
 *     another in the file are copied into a buffer of WAL_BUFFER bytes and
 *     written in one call when it is full, and before anything that must
 *     see the file as SQLite believes it is: a sync (so a commit is as
 *     durable as before: SQLite publishes a transaction to readers only
 *     after syncing it, synchronous=FULL), a read, a truncation, the file's
 *     size, a lock change, a file control, closing. A write elsewhere in
 *     the file flushes the buffer first. A failed flush fails the call that
 *     caused it, a sync at the latest, so a commit whose frames did not
 *     reach the file fails. Only the connection that writes the log holds
 *     such a buffer; readers and the checkpointer read what the writer
 *     synced, which is never buffered. And it holds one only inside a
 *     commit (readahead_gather(), around the store's COMMIT), which syncs
 *     before it returns: frames a transaction spills before its commit are
 *     written as they come, and frames of a commit that fails before its
 *     sync are dropped when it returns. Bytes kept past the end of their
 *     transaction could be written later over frames another connection
 *     committed at the same place in the meantime.
 *  5. Everything else (shared memory for the WAL, other files) passes to
 *     the VFS underneath unchanged. */
#include "store/internal.h"

#include <pthread.h>
#include <string.h>

#define READAHEAD_MIN     (16u * 1024)   /* the first block after a jump */
#define READAHEAD_MAX     (1024u * 1024) /* blocks double up to this */
#define READAHEAD_GAP     (64u * 1024)   /* a read this far past a block still continues its scan */
#define READAHEAD_STREAMS 4
#define VFS_NAME          "baton-readahead"
/* writes to a WAL gathered into one call; SQLite's unix VFS writes at most
 * 128 KiB less a byte in one call and takes a shorter write for a full disk */
#define WAL_BUFFER        (64u * 1024)

/* One scan: the block it read last, and how long its next one is. */
typedef struct stream {
    unsigned char *block; /* block_cap bytes while on */
    sqlite3_int64 at;     /* the block holds [at, at + len) of the file */
    size_t len;
    size_t next_len;
    uint64_t used; /* when it was last read from, for the least recently used */
} stream;

typedef struct ra_file {
    sqlite3_file base;  /* first: SQLite sees an ra_file as a sqlite3_file */
    sqlite3_file *real; /* the file of the VFS underneath, right after this struct */
    bool on;
    stream streams[READAHEAD_STREAMS];
    uint64_t clock;     /* counts reads, for stream.used */
    sqlite3_int64 size; /* the file's size when read-ahead was turned on */
    size_t block_cap;   /* READAHEAD_MAX, or less for a small file */
    /* a WAL's writes not yet passed down (note 4): [pending_at, + pending_len) */
    bool wal;
    unsigned char *pending; /* WAL_BUFFER bytes, allocated at the first write */
    sqlite3_int64 pending_at;
    size_t pending_len;
} ra_file;

/* The WAL file whose writes this thread gathers inside a commit (note 4). */
static _Thread_local bool gathering;
static _Thread_local struct ra_file *gathered;

/* readahead_counts(): relaxed atomics, for stores on several threads */
static uint64_t total_hits, total_blocks;

static sqlite3_vfs *root(sqlite3_vfs *vfs)
{
    return vfs->pAppData;
}

static sqlite3_file *real(sqlite3_file *f)
{
    return ((ra_file *)f)->real;
}

/* Forgets every block (a write, a truncation, read-ahead turned off). */
static void drop_blocks(ra_file *f)
{
    for (int i = 0; i < READAHEAD_STREAMS; i++) {
        f->streams[i].len = 0;
        f->streams[i].at = -1; /* continues nothing until a read puts it somewhere */
        f->streams[i].next_len = READAHEAD_MIN;
    }
}

static void free_blocks(ra_file *f)
{
    drop_blocks(f);
    mem_free(f->streams[0].block); /* one allocation holds them all */
    for (int i = 0; i < READAHEAD_STREAMS; i++)
        f->streams[i].block = NULL;
}

/* Writes what a WAL's buffer holds (note 4). On failure the bytes are
 * dropped, and the error is SQLite's for a failed write: the transaction
 * they belong to cannot commit. */
static int flush_pending(ra_file *r)
{
    if (!r->pending_len) return SQLITE_OK;
    int rc = r->real->pMethods->xWrite(r->real, r->pending, (int)r->pending_len, r->pending_at);
    r->pending_len = 0;
    return rc;
}

/* ---- the file's methods -------------------------------------------------------- */

static int ra_close(sqlite3_file *f)
{
    ra_file *r = (ra_file *)f;
    int flushed = flush_pending(r);
    mem_free(r->pending);
    r->pending = NULL;
    free_blocks(r);
    r->on = false;
    int rc = r->real->pMethods->xClose(r->real);
    return flushed != SQLITE_OK ? flushed : rc;
}

/* The scan a read at off continues, else NULL. */
static stream *continued(ra_file *r, sqlite3_int64 off)
{
    for (int i = 0; i < READAHEAD_STREAMS; i++) {
        stream *s = &r->streams[i];
        if (s->at >= 0 && off >= s->at && off <= s->at + (sqlite3_int64)(s->len + READAHEAD_GAP))
            return s;
    }
    return NULL;
}

static stream *least_recent(ra_file *r)
{
    stream *lru = &r->streams[0];
    for (int i = 1; i < READAHEAD_STREAMS; i++)
        if (r->streams[i].used < lru->used) lru = &r->streams[i];
    return lru;
}

static int ra_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off)
{
    ra_file *r = (ra_file *)f;
    sqlite3_file *u = r->real;
    int flushed = flush_pending(r);
    if (flushed != SQLITE_OK) return flushed;
    if (!r->on || amt <= 0) return u->pMethods->xRead(u, out, amt, off);
    r->clock++;
    for (int i = 0; i < READAHEAD_STREAMS; i++) {
        stream *s = &r->streams[i];
        if (s->len && off >= s->at && off + amt <= s->at + (sqlite3_int64)s->len) {
            memcpy(out, s->block + (off - s->at), (size_t)amt);
            s->used = r->clock;
            __atomic_fetch_add(&total_hits, 1, __ATOMIC_RELAXED);
            return SQLITE_OK;
        }
    }
    stream *s = continued(r, off);
    sqlite3_int64 want = s ? (sqlite3_int64)s->next_len : 0;
    if (want < amt) want = amt;
    if (want > (sqlite3_int64)r->block_cap) s = NULL; /* a read longer than a block */
    if (off + want > r->size) want = r->size - off;
    if (!s || want < amt) {
        /* a jump (or the end the file had): this page alone, and a scan
         * that may go on from right behind it */
        s = least_recent(r);
        s->at = off + amt;
        s->len = 0;
        s->next_len = READAHEAD_MIN;
        s->used = r->clock;
        return u->pMethods->xRead(u, out, amt, off);
    }
    int rc = u->pMethods->xRead(u, s->block, (int)want, off);
    if (rc != SQLITE_OK) { /* as without read-ahead, error and all */
        s->len = 0;
        s->at = -1;
        return u->pMethods->xRead(u, out, amt, off);
    }
    s->at = off;
    s->len = (size_t)want;
    s->used = r->clock;
    if (s->next_len < r->block_cap) s->next_len *= 2;
    __atomic_fetch_add(&total_blocks, 1, __ATOMIC_RELAXED);
    memcpy(out, s->block, (size_t)amt);
    return SQLITE_OK;
}

/* A WAL's writes go to its buffer when they follow what it holds (note 4);
 * anything else flushes it and goes to the file. */
static int ra_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
    ra_file *r = (ra_file *)f;
    drop_blocks(r);
    if (gathering && r->wal && amt > 0 && (size_t)amt <= WAL_BUFFER) {
        if (!r->pending) r->pending = mem_alloc(WAL_BUFFER); /* none: written as they come */
        gathered = r;
        bool follows = r->pending_len && off == r->pending_at + (sqlite3_int64)r->pending_len;
        if (r->pending && !(follows && r->pending_len + (size_t)amt <= WAL_BUFFER)) {
            int rc = flush_pending(r);
            if (rc != SQLITE_OK) return rc;
            r->pending_at = off;
        }
        if (r->pending) {
            memcpy(r->pending + r->pending_len, data, (size_t)amt);
            r->pending_len += (size_t)amt;
            return SQLITE_OK;
        }
    }
    int rc = flush_pending(r);
    if (rc != SQLITE_OK) return rc;
    return r->real->pMethods->xWrite(r->real, data, amt, off);
}

/* The methods below see the file as SQLite believes it is: the buffer is
 * written first. */
static int ra_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    ra_file *r = (ra_file *)f;
    drop_blocks(r);
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xTruncate(r->real, size);
}

static int ra_sync(sqlite3_file *f, int flags)
{
    ra_file *r = (ra_file *)f;
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xSync(r->real, flags);
}

static int ra_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    ra_file *r = (ra_file *)f;
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xFileSize(r->real, size);
}

static int ra_lock(sqlite3_file *f, int level)
{
    ra_file *r = (ra_file *)f;
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xLock(r->real, level);
}

static int ra_unlock(sqlite3_file *f, int level)
{
    ra_file *r = (ra_file *)f;
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xUnlock(r->real, level);
}

static int ra_check_reserved(sqlite3_file *f, int *out)
{
    return real(f)->pMethods->xCheckReservedLock(real(f), out);
}

static int ra_file_control(sqlite3_file *f, int op, void *arg)
{
    ra_file *r = (ra_file *)f;
    int rc = flush_pending(r);
    return rc != SQLITE_OK ? rc : r->real->pMethods->xFileControl(r->real, op, arg);
}

static int ra_sector_size(sqlite3_file *f)
{
    return real(f)->pMethods->xSectorSize(real(f));
}

static int ra_device(sqlite3_file *f)
{
    return real(f)->pMethods->xDeviceCharacteristics(real(f));
}

static int ra_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
    sqlite3_file *u = real(f);
    if (u->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
    return u->pMethods->xShmMap(u, page, size, extend, out);
}

static int ra_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    sqlite3_file *u = real(f);
    if (u->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
    return u->pMethods->xShmLock(u, offset, n, flags);
}

static void ra_shm_barrier(sqlite3_file *f)
{
    sqlite3_file *u = real(f);
    if (u->pMethods->iVersion >= 2) u->pMethods->xShmBarrier(u);
}

static int ra_shm_unmap(sqlite3_file *f, int delete_flag)
{
    sqlite3_file *u = real(f);
    if (u->pMethods->iVersion < 2) return SQLITE_OK;
    return u->pMethods->xShmUnmap(u, delete_flag);
}

static int ra_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
    sqlite3_file *u = real(f);
    *out = NULL; /* no memory map: SQLite reads instead */
    if (u->pMethods->iVersion < 3) return SQLITE_OK;
    return u->pMethods->xFetch(u, off, amt, out);
}

static int ra_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    sqlite3_file *u = real(f);
    if (u->pMethods->iVersion < 3) return SQLITE_OK;
    return u->pMethods->xUnfetch(u, off, p);
}

static const sqlite3_io_methods ra_methods = {
    .iVersion = 3,
    .xClose = ra_close,
    .xRead = ra_read,
    .xWrite = ra_write,
    .xTruncate = ra_truncate,
    .xSync = ra_sync,
    .xFileSize = ra_file_size,
    .xLock = ra_lock,
    .xUnlock = ra_unlock,
    .xCheckReservedLock = ra_check_reserved,
    .xFileControl = ra_file_control,
    .xSectorSize = ra_sector_size,
    .xDeviceCharacteristics = ra_device,
    .xShmMap = ra_shm_map,
    .xShmLock = ra_shm_lock,
    .xShmBarrier = ra_shm_barrier,
    .xShmUnmap = ra_shm_unmap,
    .xFetch = ra_fetch,
    .xUnfetch = ra_unfetch,
};

/* ---- the VFS: opening files, and the rest passed through ------------------------- */

static int ra_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags)
{
    ra_file *r = (ra_file *)f;
    memset(r, 0, sizeof *r);
    r->real = (sqlite3_file *)(r + 1);
    drop_blocks(r);
    r->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = root(vfs)->xOpen(root(vfs), name, r->real, flags, out_flags);
    /* a file the VFS underneath could not open has no methods, nor has ours */
    f->pMethods = r->real->pMethods ? &ra_methods : NULL;
    return rc;
}

static int ra_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    return root(vfs)->xDelete(root(vfs), name, sync_dir);
}

static int ra_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    return root(vfs)->xAccess(root(vfs), name, flags, out);
}

static int ra_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    return root(vfs)->xFullPathname(root(vfs), name, n, out);
}

static void *ra_dl_open(sqlite3_vfs *vfs, const char *name)
{
    return root(vfs)->xDlOpen(root(vfs), name);
}

static void ra_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
    root(vfs)->xDlError(root(vfs), n, msg);
}

static void (*ra_dl_sym(sqlite3_vfs *vfs, void *lib, const char *sym))(void)
{
    return root(vfs)->xDlSym(root(vfs), lib, sym);
}

static void ra_dl_close(sqlite3_vfs *vfs, void *lib)
{
    root(vfs)->xDlClose(root(vfs), lib);
}

static int ra_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    return root(vfs)->xRandomness(root(vfs), n, out);
}

static int ra_sleep(sqlite3_vfs *vfs, int micros)
{
    return root(vfs)->xSleep(root(vfs), micros);
}

static int ra_current_time(sqlite3_vfs *vfs, double *out)
{
    return root(vfs)->xCurrentTime(root(vfs), out);
}

static int ra_last_error(sqlite3_vfs *vfs, int n, char *msg)
{
    return root(vfs)->xGetLastError ? root(vfs)->xGetLastError(root(vfs), n, msg) : 0;
}

static int ra_current_time_ms(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    sqlite3_vfs *u = root(vfs);
    if (u->iVersion >= 2 && u->xCurrentTimeInt64) return u->xCurrentTimeInt64(u, out);
    double days;
    int rc = u->xCurrentTime(u, &days);
    *out = (sqlite3_int64)(days * 86400000.0);
    return rc;
}

static sqlite3_vfs ra_vfs;
static const char *ra_name;
static pthread_once_t ra_once = PTHREAD_ONCE_INIT;

static void ra_register(void)
{
    sqlite3_vfs *u = sqlite3_vfs_find(NULL);
    if (!u) return;
    ra_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(ra_file) + u->szOsFile,
        .mxPathname = u->mxPathname,
        .zName = VFS_NAME,
        .pAppData = u,
        .xOpen = ra_open,
        .xDelete = ra_delete,
        .xAccess = ra_access,
        .xFullPathname = ra_full_pathname,
        .xDlOpen = ra_dl_open,
        .xDlError = ra_dl_error,
        .xDlSym = ra_dl_sym,
        .xDlClose = ra_dl_close,
        .xRandomness = ra_randomness,
        .xSleep = ra_sleep,
        .xCurrentTime = ra_current_time,
        .xGetLastError = ra_last_error,
        .xCurrentTimeInt64 = ra_current_time_ms,
    };
    if (sqlite3_vfs_register(&ra_vfs, 0) == SQLITE_OK) ra_name = VFS_NAME;
}

const char *readahead_vfs(void)
{
    pthread_once(&ra_once, ra_register);
    return ra_name;
}

/* db's main file when it is one of ours, else NULL. */
static ra_file *main_file(sqlite3 *db)
{
    sqlite3_file *f = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || !f)
        return NULL;
    return f->pMethods == &ra_methods ? (ra_file *)f : NULL;
}

int readahead_set(sqlite3 *db, bool on)
{
    ra_file *r = main_file(db);
    if (!r) return SQLITE_NOTFOUND;
    r->on = false;
    free_blocks(r);
    if (!on) return SQLITE_OK;
    int rc = r->real->pMethods->xFileSize(r->real, &r->size);
    if (rc != SQLITE_OK) return rc;
    /* a small file needs no MiB blocks: a block covers it whole */
    r->block_cap = READAHEAD_MIN;
    while (r->block_cap < READAHEAD_MAX && (sqlite3_int64)r->block_cap < r->size)
        r->block_cap *= 2;
    unsigned char *blocks = mem_alloc((size_t)READAHEAD_STREAMS * r->block_cap);
    if (!blocks) return SQLITE_NOMEM;
    for (int i = 0; i < READAHEAD_STREAMS; i++)
        r->streams[i].block = blocks + (size_t)i * r->block_cap;
    r->streams[0].at = 0; /* a scan from the start of the file */
    r->on = true;
    return SQLITE_OK;
}

void readahead_counts(uint64_t *hits, uint64_t *blocks)
{
    *hits = __atomic_load_n(&total_hits, __ATOMIC_RELAXED);
    *blocks = __atomic_load_n(&total_blocks, __ATOMIC_RELAXED);
}

void readahead_gather(bool on)
{
    gathering = on;
    if (on || !gathered) return;
    gathered->pending_len = 0; /* left only by a commit that failed before its sync */
    gathered = NULL;
}
