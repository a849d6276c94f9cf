/* JSON Lines read and decoded on a thread of their own, handed over in batches.
 *
 * Design notes
 *  1. Decoding is about a third of a replay's time, and the engine cannot run
 *     on two threads without giving up its order. So one thread reads and
 *     decodes while the caller applies: the replay takes about as long as the
 *     slower of the two, not their sum, and decides exactly as before, since
 *     the events reach the engine in the order of the file.
 *  2. A batch owns copies of its lines (the line reader moves its buffer as it
 *     reads), its events point into them, and its refusals say which lines were
 *     refused and why. The reader fills SLOTS batches ahead and waits when the
 *     caller has not given one back: memory stays bounded whatever the input.
 *  3. Only the caller's thread reports or counts anything: the refusals travel
 *     in the batch, so the caller's counters need no lock. */
#include "ingest/ingest.h"

#include <pthread.h>
#include <string.h>

#define SLOTS 4
#define TEXT_ROOM (EVENT_BATCH * 512u + INGEST_MAX_EVENT_BYTES + 1) /* a batch closes before it overflows */

typedef struct slot {
    decoded_batch out;
    char *text;
    size_t text_used;
} slot;

struct decode_thread {
    FILE *in;
    decoder *d;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    slot slots[SLOTS];
    size_t filled, taken; /* batches made and taken so far: slot = count % SLOTS */
    bool finished, stop;  /* the reader is done; the caller wants no more */
    bool read_error;
};

/* Waits for a free slot; NULL when the caller stopped. */
static slot *free_slot(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    while (!t->stop && t->filled - t->taken == SLOTS) pthread_cond_wait(&t->changed, &t->lock);
    slot *s = t->stop ? NULL : &t->slots[t->filled % SLOTS];
    pthread_mutex_unlock(&t->lock);
    if (s) {
        s->out.events.count = 0;
        s->out.refusal_count = 0;
        s->out.lines = s->out.bytes = 0;
        s->text_used = 0;
    }
    return s;
}

static void hand_over(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->filled++;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
}

static bool full(const slot *s)
{
    return event_batch_full(&s->out.events) || s->out.refusal_count == EVENT_BATCH ||
           s->text_used + INGEST_MAX_EVENT_BYTES + 1 > TEXT_ROOM;
}

static void refuse(slot *s, uint64_t line_no, bool too_long, const decode_error *err)
{
    line_refusal *r = &s->out.refusals[s->out.refusal_count++];
    r->line_no = line_no;
    r->too_long = too_long;
    r->offset = err ? err->offset : 0;
    snprintf(r->what, sizeof r->what, "%s", err ? err->what : "");
}

/* One line into the slot's batch: copied, then decoded from the copy. */
static void take_line(decode_thread *t, slot *s, const char *line, size_t len, uint64_t line_no, bool too_long)
{
    s->out.lines++;
    if (too_long) {
        refuse(s, line_no, true, NULL);
        return;
    }
    char *copy = s->text + s->text_used;
    memcpy(copy, line, len + 1);
    decode_error err;
    if (!event_batch_decode(&s->out.events, t->d, copy, len, &err)) {
        refuse(s, line_no, false, &err);
        return;
    }
    s->text_used += len + 1;
}

static void *read_and_decode(void *arg)
{
    decode_thread *t = arg;
    line_reader *lr = line_reader_new(t->in);
    slot *s = lr ? free_slot(t) : NULL;
    char *line;
    size_t len;
    uint64_t line_no;
    bool too_long;
    while (s && (line = line_reader_next(lr, &len, &line_no, &too_long))) {
        s->out.bytes += len + 1;
        /* blank: only blanks (an event opens with '{', and is told apart at its first byte) */
        if (!too_long && (len == 0 || ((line[0] == ' ' || line[0] == '\t') && strspn(line, " \t") == len)))
            continue;
        take_line(t, s, line, len, line_no, too_long);
        if (!full(s)) continue;
        hand_over(t);
        s = free_slot(t);
    }
    if (s && (s->out.lines || s->out.bytes)) hand_over(t);
    pthread_mutex_lock(&t->lock);
    t->read_error = !lr || line_reader_error(lr);
    t->finished = true;
    pthread_cond_broadcast(&t->changed);
    pthread_mutex_unlock(&t->lock);
    line_reader_free(lr);
    return NULL;
}

decode_thread *decode_thread_start(FILE *in, const contract *c)
{
    decode_thread *t = mem_calloc(1, sizeof *t);
    if (!t) return NULL;
    t->in = in;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->changed, NULL);
    bool ok = (t->d = decoder_new(c)) != NULL;
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

const decoded_batch *decode_thread_next(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    while (t->filled == t->taken && !t->finished) pthread_cond_wait(&t->changed, &t->lock);
    const decoded_batch *b = t->filled > t->taken ? &t->slots[t->taken % SLOTS].out : NULL;
    pthread_mutex_unlock(&t->lock);
    return b;
}

void decode_thread_release(decode_thread *t)
{
    pthread_mutex_lock(&t->lock);
    t->taken++;
    pthread_cond_broadcast(&t->changed);
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
    decoder_free(t->d);
    pthread_cond_destroy(&t->changed);
    pthread_mutex_destroy(&t->lock);
    mem_free(t);
    return ok;
}
