/* util: allocation, arenas, string buffers, errors with positions, hashing, time.
 *
 * Ownership: an arena owns everything allocated from it until arena_free().
 * A strbuf owns its bytes until strbuf_free(). An error list owns nothing;
 * its messages are copied into fixed buffers. */
#ifndef BATON_UTIL_H
#define BATON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A borrowed byte string: not NUL-terminated, owned by someone else. */
typedef struct str {
    const char *s;
    uint32_t len;
} str;

static inline bool str_eq_n(str a, const char *b, size_t n)
{
    return a.len == n && (n == 0 || __builtin_memcmp(a.s, b, n) == 0);
}
/* Compares with a string literal; its length is known at compile time. */
#define str_eq(a, lit) str_eq_n((a), (lit), sizeof(lit) - 1)

/* ---- allocation ---------------------------------------------------------
 * Every heap allocation in baton goes through these, so tests can count them
 * and make the Nth one fail. They return NULL on failure; they never abort. */
void *mem_alloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t size);
void mem_free(void *p);
/* mem_calloc() for large blocks filled at once; freed with mem_free(). */
void *mem_calloc_large(size_t n, size_t size);
char *mem_strndup(const char *s, size_t n);
/* Asks glibc to serve large blocks from the heap and keep freed ones, for a
 * process whose state grows from nothing in seconds (a replay): mapped
 * afresh, every page of each block faults in again. */
void mem_keep_large_blocks(void);

/* Test hooks: the count of successful allocations so far, and a countdown
 * after which allocations fail (0 disables it). */
size_t mem_alloc_count(void);
void mem_fail_after(size_t n);

/* ---- arena ---------------------------------------------------------------
 * Bump allocator in chained blocks. Allocations are 16-byte aligned and live
 * until arena_free(). arena_alloc() returns NULL when memory runs out. */
typedef struct arena arena;

arena *arena_new(size_t block_size);
void arena_free(arena *a);
void *arena_alloc(arena *a, size_t size);
void *arena_zalloc(arena *a, size_t size);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t arena_used(const arena *a);
/* True once any allocation from this arena has failed. */
bool arena_failed(const arena *a);

/* ---- string buffer ------------------------------------------------------
 * Growable byte string, always NUL-terminated. On allocation failure the
 * buffer keeps what it had and sets ->oom; later appends are ignored. */
typedef struct strbuf {
    char *data;
    size_t len, cap;
    bool oom;
    bool fixed; /* writes into caller storage; never grows, truncates */
} strbuf;

void strbuf_init(strbuf *b);
/* A buffer over caller storage of `cap` bytes (NUL included): appends that
 * do not fit are cut at the last whole UTF-8 character and set ->oom. */
void strbuf_init_fixed(strbuf *b, char *storage, size_t cap);
/* Empties the buffer, keeping its storage. */
void strbuf_reset(strbuf *b);
void strbuf_free(strbuf *b);
void strbuf_append(strbuf *b, const char *s, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_putc(strbuf *b, char c);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap);
/* Appends s as one CSV field (RFC 4180): quoted, with quotes doubled, when
 * it holds a comma, a quote or a newline, or when `quote` asks. NULL is an
 * empty field. */
void strbuf_csv_field(strbuf *b, const char *s, bool quote);
/* Appends s as a JSON string literal, quotes included. */
void strbuf_json_string(strbuf *b, const char *s, size_t n);

/* ---- errors ---------------------------------------------------------------
 * An error is a value: a class, a byte offset into a named source, and a
 * message with an optional hint. Offsets become line:col only when rendered. */
enum error_code {
    ERR_NONE = 0,
    ERR_IO,        /* a file could not be read */
    ERR_YAML,      /* the file is not well-formed YAML */
    ERR_SCHEMA,    /* a section or key is missing, unknown, or of the wrong shape */
    ERR_SYNTAX,    /* an expression does not parse */
    ERR_NAME,      /* a name that is not defined */
    ERR_TYPE,      /* operands of the wrong type */
    ERR_DUPLICATE, /* a name defined twice */
    ERR_WINDOW,    /* a window longer than the declared retention */
    ERR_UNREACHABLE, /* a gate that an earlier gate always pre-empts */
    ERR_POLICY,    /* reasons, stages or SLAs that do not fit together */
    ERR_LIMIT,     /* a named limit exceeded */
    ERR_REGEX,     /* a regular expression that does not compile */
    ERR_VALUE,     /* a YAML value out of range or malformed (date, duration, zone);
                    * inside an expression the same mistakes are syntax errors */
    ERR_NOMEM,     /* memory ran out */
};

const char *error_code_name(enum error_code code);

#define ERROR_MSG_MAX 200
#define ERROR_HINT_MAX 160

typedef struct error {
    enum error_code code;
    uint32_t offset; /* byte offset into the source */
    uint32_t length; /* bytes the caret underlines; at least 1 */
    char msg[ERROR_MSG_MAX];
    char hint[ERROR_HINT_MAX];
} error;

/* A bounded list of errors against one source text. Adding past the cap
 * counts the error in ->dropped instead of storing it. */
#define ERRORS_MAX 64

typedef struct errors {
    const char *path;   /* borrowed: the file name shown in messages */
    const char *source; /* borrowed: the text offsets point into */
    size_t source_len;
    error list[ERRORS_MAX];
    unsigned count, dropped;
} errors;

void errors_init(errors *e, const char *path, const char *source, size_t len);
error *errors_add(errors *e, enum error_code code, uint32_t offset, uint32_t length,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void error_hint(error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Errors ordered by position, then by insertion. */
void errors_sort(errors *e);
void errors_position(const errors *e, uint32_t offset, uint32_t *line, uint32_t *col);
/* Renders "path:line:col: error: msg", the source line, a caret, the hint. */
void errors_render(const errors *e, strbuf *out);
void errors_render_json(const errors *e, strbuf *out);

/* The known name closest to `name` within a small edit distance, or NULL. */
const char *nearest_name(const char *name, size_t len, const char *const *names, size_t count);

/* ---- hashing and maps ------------------------------------------------------ */
uint64_t hash_bytes(const void *p, size_t n);

/* A map from byte strings to 32-bit values. Keys are copied into the map's
 * own arena and stay valid (and at the same address) until strmap_free(). */
typedef struct strmap strmap;

strmap *strmap_new(void);
void strmap_free(strmap *m);
bool strmap_get(const strmap *m, const char *key, size_t len, uint32_t *value);
/* For a caller that knows its key early: strmap_hash() is the hash the map
 * files the key under, strmap_prefetch() starts loading its slot, and
 * strmap_get_hashed() is strmap_get() without hashing again. */
uint64_t strmap_hash(const char *key, size_t len);
void strmap_prefetch(const strmap *m, uint64_t hash);
bool strmap_get_hashed(const strmap *m, uint64_t hash, const char *key, size_t len, uint32_t *value);
/* Hints for a caller that prefetches several steps ahead, once the slot
 * strmap_prefetch() asked for has arrived: strmap_prefetch_entry() starts
 * loading the entry of the first key filed under `hash`, and
 * strmap_value_hint() reads that entry's value without comparing keys, so
 * it may be the value of another key with the same hash.
 * Neither is an answer; look the key up with strmap_get_hashed(). */
void strmap_prefetch_entry(const strmap *m, uint64_t hash);
bool strmap_value_hint(const strmap *m, uint64_t hash, uint32_t *value);
/* Inserts or replaces. Returns the map's copy of the key, NULL when memory
 * runs out (the map is unchanged then). */
const char *strmap_put(strmap *m, const char *key, size_t len, uint32_t value);
/* One probe for "find it, else add it": when the key is there, *value is
 * set to its value and *added to false; otherwise the key is added with
 * *value and *added is true. Returns the map's copy of the key, NULL when
 * memory runs out (the map is unchanged then, and *added false). */
const char *strmap_get_or_put(strmap *m, const char *key, size_t len, uint32_t *value, bool *added);
size_t strmap_count(const strmap *m);
/* Makes room for `count` keys at once (a restart knows how many are coming),
 * so loading them never rehashes; false when memory runs out. */
bool strmap_reserve(strmap *m, size_t count);
size_t strmap_bytes(const strmap *m);

/* ---- files -------------------------------------------------------------- */
/* Reads a whole file, NUL-terminated; NULL with errno set on failure. */
char *file_read(const char *path, size_t *len);

/* ---- time ----------------------------------------------------------------
 * Times are milliseconds since the Unix epoch, UTC. Durations are
 * milliseconds. Parsers return false on malformed input and leave *out. */
typedef int64_t time_ms;
typedef int64_t duration_ms;

#define MS_PER_SECOND INT64_C(1000)
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR (60 * MS_PER_MINUTE)
#define MS_PER_DAY (24 * MS_PER_HOUR)

/* "90s", "15m", "4h", "14d", "2w", "500ms"; digits then one unit. */
bool duration_parse(const char *s, size_t n, duration_ms *out);
/* Shortest exact form: 14d, 36h, 90s. */
void duration_format(duration_ms d, char *buf, size_t size);
/* ISO-8601: "2026-12-25", "2026-12-25T10:30:00Z", "...T10:30:00.250+02:00". */
bool time_parse(const char *s, size_t n, time_ms *out);
/* "2026-12-25T10:30:00.250Z", milliseconds shown only when non-zero. */
void time_format(time_ms t, char *buf, size_t size);
/* Days since 1970-01-01 for a proleptic Gregorian date; no validation. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
/* The Gregorian date of a day counted from 1970-01-01. */
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* Seconds since `t0`, a CLOCK_MONOTONIC reading: for timing at the edges
 * (the server, the store); the engine reads no clock. */
double monotonic_seconds_since(const struct timespec *t0);
/* "HH:MM" (00:00 to 24:00) as minutes after midnight; false when it is not. */
bool clock_parse(const char *s, size_t n, uint16_t *minutes);

#endif
