/* The inputs of the learned score: names, kinds, and which are plain counts. */
#include "score/internal.h"

#include <string.h>

score_schema *score_schema_new(void)
{
    score_schema *s = mem_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->names = strmap_new();
    if (!s->names) {
        mem_free(s);
        return NULL;
    }
    return s;
}

void score_schema_free(score_schema *s)
{
    if (!s) return;
    strmap_free(s->names);
    mem_free(s->inputs);
    mem_free(s);
}

int score_schema_add(score_schema *s, const char *name, enum score_input_kind kind, bool plain)
{
    size_t len = strlen(name);
    uint32_t dummy;
    if (len == 0 || len >= SCORE_MAX_NAME || s->count >= SCORE_MAX_INPUTS) return -1;
    if (strmap_get(s->names, name, len, &dummy)) return -1;
    if (s->count == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        score_input *bigger = mem_realloc(s->inputs, cap * sizeof *bigger);
        if (!bigger) return -1;
        s->inputs = bigger;
        s->cap = cap;
    }
    const char *kept = strmap_put(s->names, name, len, (uint32_t)s->count);
    if (!kept) return -1;
    s->inputs[s->count] = (score_input){.name = kept, .kind = (uint8_t)kind, .plain = plain};
    return (int)s->count++;
}

size_t score_schema_count(const score_schema *s)
{
    return s->count;
}

const char *score_schema_name(const score_schema *s, size_t i)
{
    return s->inputs[i].name;
}

enum score_input_kind score_schema_kind(const score_schema *s, size_t i)
{
    return (enum score_input_kind)s->inputs[i].kind;
}

bool score_schema_plain(const score_schema *s, size_t i)
{
    return s->inputs[i].plain;
}

int score_schema_find(const score_schema *s, const char *name)
{
    uint32_t i;
    return strmap_get(s->names, name, strlen(name), &i) ? (int)i : -1;
}

score_schema *score_schema_copy(const score_schema *from)
{
    score_schema *s = score_schema_new();
    if (!s) return NULL;
    for (size_t i = 0; i < from->count; i++) {
        const score_input *in = &from->inputs[i];
        if (score_schema_add(s, in->name, (enum score_input_kind)in->kind, in->plain) < 0) {
            score_schema_free(s);
            return NULL;
        }
    }
    return s;
}
