/* Events decoded ahead, kept together for engine_apply_batch(). */
#include "ingest/ingest.h"

#include <string.h>

bool event_batch_init(event_batch *b, size_t field_count)
{
    b->count = 0;
    b->field_count = field_count;
    b->values = mem_alloc(EVENT_BATCH * (field_count ? field_count : 1) * sizeof *b->values);
    return b->values != NULL;
}

void event_batch_free(event_batch *b)
{
    mem_free(b->values);
    b->values = NULL;
}

bool event_batch_decode(event_batch *b, decoder *d, char *json, size_t len, decode_error *err)
{
    event *ev = &b->events[b->count];
    if (!decoder_decode(d, json, len, ev, err)) return false;
    value *own = b->values + b->count * b->field_count;
    memcpy(own, ev->fields, b->field_count * sizeof *own);
    ev->fields = own;
    b->count++;
    return true;
}
