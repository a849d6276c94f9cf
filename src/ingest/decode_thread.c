/* JSON Lines read on a thread of their own, decoded there or by the caller
 * while it waits, handed over in batches.
 *
 * Design notes
 *  1. Decoding is about a third of a replay's time, and the engine cannot run
 *     on two threads without giving up its order. So one thread reads and
 *     decodes while the caller applies: the replay takes about as long as the
 *     slower of the two, not their sum, and decides exactly as before, since
 *     the events reach the engine in the order of the file.
 *  2. Which of the two is slower depends on the input: events with long
 *     texts and many fields cost more to decode than to apply. So the reader
 *     first copies the lines of a batch into a free slot (the "raw" batch,
 *     cheap), and a batch is decoded by whichever thread gets to it first:
 *     the reader, once no slot is free to fill, or the caller, when the batch
 *     it wants next is not ready and a raw one is waiting. Decoding a line
 *     depends on the line alone, so who decodes a batch changes nothing the
 *     caller sees; each thread has its own decoder.
 *  3. A batch owns copies of its lines (the line reader moves its buffer as it
 *     reads), its events point into them, and its refusals say which lines were
 *     refused and why. The reader fills SLOTS batches ahead and waits when the
 *     caller has not given one back: memory stays bounded whatever the input.
 *  4. Only the caller's thread reports or counts anything: the refusals travel
 *     in the batch, so the caller's counters need no lock. */
#include "ingest/ingest.h"

#include <pthread.h>
#include <string.h>

#define SLOTS 8
#define TEXT_ROOM (EVENT_BATCH * 512u + INGEST_MAX_EVENT_BYTES + 1) /* a batch closes before it overflows */

enum slot_state {
    SLOT_FREE,     /* the caller gave it back, or it was never filled */
    SLOT_RAW,      /* its lines are copied in, not decoded */
    SLOT_DECODING, /* a thread is decoding it */
    SLOT_READY,    /* decoded: the caller may take it */
};

/* A line as the reader took it: where its copy starts in the slot's text. */
typedef struct raw_line {
    uint64_t line_no;
    size_t at, len;
    bool too_long; /* not copied: refused as it is decoded */
} raw_line;

typedef struct slot {
    decoded_batch out;
    char *text;
    size_t text_used;
    raw_line lines[EVENT_BATCH];
    size_t line_count;
    enum slot_state state;
} slot;

struct decode_thread {
    FILE *in;
    decoder *reader_decoder, *caller_decoder;
    enum decode_sharing sharing;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    slot slots[SLOTS];
    size_t filled, taken; /* batches filled and taken so far: slot = count % SLOTS */
    bool finished, stop;  /* the reader is done; the caller wants no more */
    bool read_error;
};

static void refuse(slot *s, uint64_t line_no, bool too_long, const decode_error *err)
{
    line_refusal *r = &s->out.refusals[s->out.refusal_count++];
    r->line_no = line_no;
    r->too_long = too_long;
    r->offset = err ? err->offset : 0;
    snprintf(r->what, sizeof r->what, "%s", err ? err->what : "");
}

/* Decodes a raw batch with `d`, the lines in order: its events and refusals. */
static void decode_slot(slot *s, decoder *d)
{
    s->out.events.count = 0;
    s->out.refusal_count = 0;
    for (size_t i = 0; i < s->line_count; i++) {
        const raw_line *l = &s->lines[i];
        decode_error err;
        if (l->too_long)
            refuse(s, l->line_no, true, NULL);
        else if (!event_batch_decode(&s->out.events, d, s->text + l->at, l->len, &err))
            refuse(s, l->line_no, false, &err);
    }
}

static bool full(const slot *s)
{
    return s->line_count == EVENT_BATCH || s->text_used + INGEST_MAX_EVENT_BYTES + 1 > TEXT_ROOM;
}

/* Copies lines into a free slot until it is full or the stream ends; false
 * when it took nothing at all. */
static bool fill(slot *s, line_reader *lr)
{
    s->line_count = 0;
    s->text_used = 0;
    s->out.lines = s->out.bytes = 0;
    char *line;
    size_t len;
    uint64_t line_no;
    bool too_long;
    while (!full(s) && (line = line_reader_next(lr, &len, &line_no, &too_long))) {
        s->out.bytes += len + 1;
        /* blank: only blanks (an event opens with '{', and is told apart at its first byte) */
        if (!too_long &&
            (len == 0 || ((line[0] == ' ' || line[0] == '\t') && strspn(line, " \t") == len)))
            continue;
        s->out.lines++;
        raw_line *l = &s->lines[s->line_count++];
        *l = (raw_line){.line_no = line_no, .at = s->text_used, .len = len, .too_long = too_long};
        if (too_long) continue;
        memcpy(s->text + s->text_used, line, len + 1); /* decoding rewrites escapes in place */
        s->text_used += len + 1;
    }
    return s->out.lines || s->out.bytes;
}

/* The oldest raw batch not yet taken, claimed for decoding; NULL when none.
 * Called with the lock held. */
static slot *claim_raw(decode_thread *t)
{
    for (size_t n = t->taken; n < t->filled; n++) {
        slot *s = &t->slots[n % SLOTS];
        if (s->state != SLOT_RAW) continue;
        s->state = SLOT_DECODING;
        return s;
    }
    return NULL;
}

static void mark(decode_thread *t, slot *s, enum slot_state state)
{
    pthread_mutex_lock(&t->lock);
    s->state = state;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

static void *read_and_decode(void *arg)
{
    decode_thread *t = arg;
    line_reader *lr = line_reader_new(t->in);
    bool at_end = !lr;
    for (;;) {
        /* a free slot is filled first, so that raw batches wait for whichever thread is idle */
        slot *s = NULL;
        bool filling = false;
        pthread_mutex_lock(&t->lock);
        for (;;) {
            if (t->stop) break;
            if (!at_end && t->filled - t->taken < SLOTS) {
                s = &t->slots[t->filled % SLOTS];
                filling = true;
                break;
            }
            if (t->sharing != DECODE_BY_CALLER && (s = claim_raw(t))) break;
            if (at_end) break;
            pthread_cond_wait(&t->changed, &t->lock);
        }
        pthread_mutex_unlock(&t->lock);
        if (!s) break;
        if (!filling) {
            decode_slot(s, t->reader_decoder);
            mark(t, s, SLOT_READY);
            continue;
        }
        if (!fill(s, lr)) {
            at_end = true;
            continue;
        }
        pthread_mutex_lock(&t->lock);
        s->state = SLOT_RAW;
        t->filled++;
        pthread_cond_broadcast(&t->changed);
        pthread_mutex_unlock(&t->lock);
    }
    pthread_mutex_lock(&t->lock);
    t->read_error = !lr || line_reader_error(lr);
    t->finished = true;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
    line_reader_free(lr);
    return NULL;
}

decode_thread *decode_thread_start_sharing(FILE *in, const contract *c, enum decode_sharing sharing)
{
    decode_thread *t = mem_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->in = in;
    t->sharing = sharing;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->changed, NULL);
    bool ok = (t->reader_decoder = decoder_new(c)) != NULL &&
              (t->caller_decoder = decoder_new(c)) != NULL;
    for (int i = 0; ok && i < SLOTS; i++)
        ok = event_batch_init(&t->slots[i].out.events, contract_field_count(c)) &&
             (t->slots[i].text = mem_alloc(TEXT_ROOM)) != NULL;
    if (ok) ok = t->started = pthread_create(&t->thread, NULL, read_and_decode, t) == 0;
    if (!ok) {
        decode_thread_finish(t);
        return NULL;
    }
    return t;
}

decode_thread *decode_thread_start(FILE *in, const contract *c)
{
    return decode_thread_start_sharing(in, c, DECODE_SHARED);
}

const decoded_batch *decode_thread_next(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    for (;;) {
        if (t->filled > t->taken && t->slots[t->taken % SLOTS].state == SLOT_READY) break;
        if (t->filled == t->taken && t->finished) break;
        /* not ready: decode a raw batch meanwhile, the wanted one if it is raw */
        slot *s = t->sharing != DECODE_BY_READER ? claim_raw(t) : NULL;
        if (!s) {
            pthread_cond_wait(&t->changed, &t->lock);
            continue;
        }
        pthread_mutex_unlock(&t->lock);
        decode_slot(s, t->caller_decoder);
        pthread_mutex_lock(&t->lock);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&t->changed);
    }
    const decoded_batch *b = t->filled > t->taken ? &t->slots[t->taken % SLOTS].out : NULL;
    pthread_mutex_unlock(&t->lock);
    return b;
}

void decode_thread_release(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->slots[t->taken % SLOTS].state = SLOT_FREE;
    t->taken++;
    /* The reader waits for this only with every slot taken: woken once half
     * are free, it fills them in one go instead of waking for each. */
    if (t->filled - t->taken <= SLOTS / 2) pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

bool decode_thread_finish(decode_thread *t)
{
    if (!t) return false;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
    if (t->started) pthread_join(t->thread, NULL);
    bool ok = t->started && !t->read_error;
    for (int i = 0; i < SLOTS; i++) {
        event_batch_free(&t->slots[i].out.events);
        mem_free(t->slots[i].text);
    }
    decoder_free(t->reader_decoder);
    decoder_free(t->caller_decoder);
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
    mem_free(t);
    return ok;
}
