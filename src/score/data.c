/* Training rows kept sparse: only the inputs a row has, 8 bytes each. */
#include "score/internal.h"

#include <string.h>

score_data *score_data_new(const score_schema *s)
{
    score_data *d = mem_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->schema = score_schema_copy(s);
    d->strings = strmap_new();
    d->start = mem_calloc(1, sizeof *d->start);
    d->start_cap = 1;
    if (!d->schema || !d->strings || !d->start) {
        score_data_free(d);
        return NULL;
    }
    return d;
}

void score_data_free(score_data *d)
{
    if (!d) return;
    score_schema_free(d->schema);
    strmap_free(d->strings);
    mem_free(d->string_at);
    mem_free(d->entries);
    mem_free(d->start);
    mem_free(d->at);
    mem_free(d->label);
    mem_free(d);
}

/* Grows an array of `size`-byte items to hold `need`; false when memory runs out. */
static bool grow(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    void *bigger = mem_realloc(*items, n * size);
    if (!bigger) return false;
    *items = bigger;
    *cap = n;
    return true;
}

static bool intern(score_data *d, const char *s, uint32_t *id)
{
    size_t len = strlen(s);
    if (len >= SCORE_MAX_NAME) len = SCORE_MAX_NAME - 1;
    if (strmap_get(d->strings, s, len, id)) return true;
    if (!grow((void **)&d->string_at, &d->string_cap, d->string_count + 1, sizeof *d->string_at)) return false;
    const char *kept = strmap_put(d->strings, s, len, (uint32_t)d->string_count);
    if (!kept) return false;
    d->string_at[d->string_count] = kept;
    *id = (uint32_t)d->string_count++;
    return true;
}

bool score_data_add(score_data *d, const score_row *row, time_ms at, bool label)
{
    size_t n = d->schema->count, rows = d->rows;
    if (!grow((void **)&d->at, &d->at_cap, rows + 1, sizeof *d->at) ||
        !grow((void **)&d->label, &d->label_cap, rows + 1, sizeof *d->label) ||
        !grow((void **)&d->start, &d->start_cap, rows + 2, sizeof *d->start))
        return false;
    size_t first = d->entry_count;
    for (size_t i = 0; i < n; i++) {
        data_entry e = {.input = (uint32_t)i};
        if (d->schema->inputs[i].kind == SCORE_CATEGORY) {
            if (!row->text[i] || !row->text[i][0]) continue;
            if (!intern(d, row->text[i], &e.as.text)) goto fail;
        } else {
            if (!(row->num[i] > 0)) continue;
            e.as.num = (float)row->num[i];
        }
        if (!grow((void **)&d->entries, &d->entry_cap, d->entry_count + 1, sizeof *d->entries)) goto fail;
        d->entries[d->entry_count++] = e;
    }
    d->at[rows] = at;
    d->label[rows] = label;
    d->start[rows + 1] = d->entry_count;
    d->rows++;
    d->positives += label;
    return true;
fail:
    d->entry_count = first;
    return false;
}

size_t score_data_rows(const score_data *d)
{
    return d->rows;
}

size_t score_data_positives(const score_data *d)
{
    return d->positives;
}

const score_schema *score_data_schema(const score_data *d)
{
    return d->schema;
}

void score_data_row(const score_data *d, size_t i, score_row *out, time_ms *at, bool *label)
{
    for (size_t k = 0; k < d->schema->count; k++) {
        out->text[k] = NULL;
        out->num[k] = 0;
    }
    for (size_t k = d->start[i]; k < d->start[i + 1]; k++) {
        const data_entry *e = &d->entries[k];
        if (d->schema->inputs[e->input].kind == SCORE_CATEGORY) out->text[e->input] = d->string_at[e->as.text];
        else out->num[e->input] = e->as.num;
    }
    if (at) *at = d->at[i];
    if (label) *label = d->label[i];
}
