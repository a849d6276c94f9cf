/* ingest: events in Segment's shape, from JSON (jsmn tokens, no tree) and
 * from JSON Lines files, decoded into what the compiled contract reads.
 *
 * A decoder is made for one contract: it knows the field paths the
 * contract's expressions read and picks only those, plus the fields baton
 * itself needs (identity, time, message id, the buyer's words). The event it
 * fills borrows the JSON bytes, which it may modify in place (string
 * escapes are decoded where they stand), and the decoder's own value array;
 * both stay valid until the next decode. */
#ifndef BATON_INGEST_H
#define BATON_INGEST_H

#include "contract/contract.h"

#define INGEST_MAX_EVENT_BYTES (32u * 1024) /* Segment's limit for one message */
#define INGEST_MAX_TOKENS 2048              /* JSON tokens in one event */

enum event_type { EVENT_TRACK, EVENT_PAGE, EVENT_IDENTIFY, EVENT_GROUP, EVENT_SCREEN };

const char *event_type_name(enum event_type t);
/* The type a name names ("track", ...), or -1 for any other. */
int event_type_find(str name);

typedef struct event {
    uint8_t type;        /* enum event_type */
    time_ms timestamp;
    str message_id, user_id, anonymous_id, group_id;
    str name;            /* the track event's name; the page or screen name */
    str email;           /* traits.email, else context.traits.email, else properties.email */
    str pain, impact;    /* traits or properties: the buyer's stated pain and impact (R11) */
    str text;            /* what the buyer wrote: properties.text, body, message, question or comment */
    str domain;          /* group traits.domain */
    str reason;          /* properties.reason, on outcome events */
    str source;          /* context.campaign.source, else utm_source: for reports */
    double amount;       /* properties.amount, on outcome events; 0 when absent */
    const value *fields; /* contract_field_count() slots; lead and account slots are
                          * filled from identify and group traits only */
} event;

/* Why a line was refused: what, and the byte offset within the line. */
typedef struct decode_error {
    char what[160];
    uint32_t offset;
} decode_error;

typedef struct decoder decoder;

decoder *decoder_new(const contract *c);
void decoder_free(decoder *d);

/* The time given to events that carry no "timestamp" (the server sets the
 * time of receipt, as Segment does); 0, the default, refuses them. */
void decoder_set_default_time(decoder *d, time_ms t);
/* The type given to events that carry no "type" (the endpoint says it, as
 * Segment's /v1/track does); -1, the default, refuses them. */
void decoder_set_default_type(decoder *d, int type);

/* Decodes one JSON object of `len` bytes (modified in place). False with
 * `err` filled when the bytes are not an event baton can use. */
bool decoder_decode(decoder *d, char *json, size_t len, event *out, decode_error *err);

/* Finds the messages of a Segment batch body, {"batch": [message, ...]}, and
 * calls `each` with each message's bytes; a false return stops the walk
 * ("too many messages"). NULL when the body is a batch, else what is wrong,
 * with the byte offset in *where. */
const char *ingest_split_batch(const char *body, size_t len, bool (*each)(void *ctx, const char *json, size_t len),
                               void *ctx, uint32_t *where);

/* ---- JSON Lines ------------------------------------------------------------
 * Reads a stream line by line with 1-based line numbers. A line longer than
 * INGEST_MAX_EVENT_BYTES is skipped whole and reported as too long. */
typedef struct line_reader line_reader;

line_reader *line_reader_new(FILE *in);
void line_reader_free(line_reader *r);
/* The next line without its newline (NUL-terminated, writable until the next
 * call); NULL at the end or on a read error (line_reader_error()). */
char *line_reader_next(line_reader *r, size_t *len, uint64_t *line_no, bool *too_long);
bool line_reader_error(const line_reader *r);

/* ---- events decoded ahead ---------------------------------------------------
 * Decoded events kept together for engine_apply_batch(), each with a copy of
 * its field values (the decoder keeps only the last event's). The events'
 * strings point into the lines they were decoded from, which must stay in
 * place until the batch is applied. */
#define EVENT_BATCH 256

typedef struct event_batch {
    event events[EVENT_BATCH];
    value *values; /* field_count per event */
    size_t count, field_count;
} event_batch;

bool event_batch_init(event_batch *b, size_t field_count);
void event_batch_free(event_batch *b);
/* Decodes one line into the batch, which must not be full; false with
 * `err` filled when the line is refused (the batch is unchanged then). */
bool event_batch_decode(event_batch *b, decoder *d, char *json, size_t len, decode_error *err);
static inline bool event_batch_full(const event_batch *b)
{
    return b->count == EVENT_BATCH;
}

/* ---- decoding on a thread of its own -----------------------------------------
 * Reads JSON Lines from a stream on a second thread, decodes them there (or,
 * while the caller waits for a batch, on the caller's thread too) and hands
 * them over in batches, in the order of the stream, so the caller's engine
 * runs while the next lines are decoded. A batch holds its events
 * (their lines copied into it), the lines it refused and why, and how many
 * lines and bytes it covers. Blank lines are passed over, as the others are
 * not counted. */
typedef struct line_refusal {
    uint64_t line_no;
    bool too_long; /* longer than INGEST_MAX_EVENT_BYTES; what is empty */
    uint32_t offset;
    char what[160];
} line_refusal;

typedef struct decoded_batch {
    event_batch events;
    line_refusal refusals[EVENT_BATCH];
    size_t refusal_count;
    uint64_t lines, bytes; /* non-blank lines taken (refused ones too), bytes read */
} decoded_batch;

typedef struct decode_thread decode_thread;

/* Starts reading `in` with a decoder for `c` (which must outlive the
 * thread); NULL when memory or a thread cannot be had. */
decode_thread *decode_thread_start(FILE *in, const contract *c);
/* Who decodes the batches: whichever thread is free (decode_thread_start()),
 * or, for tests, always the reader or always the caller. The batches are
 * the same whichever it is. */
enum decode_sharing { DECODE_SHARED, DECODE_BY_READER, DECODE_BY_CALLER };
decode_thread *decode_thread_start_sharing(FILE *in, const contract *c, enum decode_sharing sharing);
/* The next batch, waiting for it; NULL at the end of the stream. It stays
 * valid until decode_thread_release(), which must come before the next call. */
const decoded_batch *decode_thread_next(decode_thread *t);
void decode_thread_release(decode_thread *t);
/* Stops the reader (early, if the caller wants no more), waits for it and
 * frees everything. False when the stream could not be read to the end. */
bool decode_thread_finish(decode_thread *t);

/* ---- putting events in time order -------------------------------------------
 * Holds each event line until no event earlier than it can still arrive
 * within the lateness, then gives lines back in timestamp order (arrival
 * order among equal timestamps). A line whose time is already behind the
 * last one given back comes out at once: it is late. */
typedef struct reorder reorder;

reorder *reorder_new(duration_ms lateness);
void reorder_free(reorder *r);
/* Keeps a copy of the line; false when memory runs out. */
bool reorder_push(reorder *r, time_ms t, const char *line, size_t len, uint64_t line_no);
/* The next line due (all remaining ones when `drain`), NUL-terminated and
 * writable until the next call; NULL when none is due. */
char *reorder_pop(reorder *r, bool drain, size_t *len, uint64_t *line_no);

/* ---- CSV -----------------------------------------------------------------------
 * RFC 4180 CSV: a header row, then rows; quoted fields may hold commas,
 * quotes ("") and newlines. Used for accounts and for the CSV event form. */
#define CSV_MAX_COLUMNS 128
#define CSV_MAX_ROW_BYTES (64u * 1024)

typedef struct csv_reader csv_reader;

csv_reader *csv_reader_new(FILE *in);
void csv_reader_free(csv_reader *r);
/* The next row's fields (NUL-terminated, valid until the next call); NULL at
 * the end. On a malformed row, *problem names the problem and the row is
 * skipped. *line is the line the row starts on. */
const char *const *csv_next(csv_reader *r, size_t *count, uint64_t *line, const char **problem);

/* Writes a CSV event row as a Segment JSON object: columns type, timestamp,
 * userId, anonymousId, messageId, event, name, category, groupId, and dotted
 * columns (properties.seconds, traits.email, context.campaign.source) nested.
 * Cells that read as numbers or true/false become JSON numbers and booleans. */
void csv_event_to_json(const char *const *header, const char *const *row, size_t count, strbuf *out);

#endif
