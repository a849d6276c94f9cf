/* Private to src/score/: the shapes behind the opaque handles. */
#ifndef BATON_SCORE_INTERNAL_H
#define BATON_SCORE_INTERNAL_H

#include "score/score.h"

#include <math.h>

typedef struct score_input {
    const char *name; /* the schema's map owns it */
    uint8_t kind;     /* enum score_input_kind */
    bool plain;
} score_input;

struct score_schema {
    strmap *names; /* name -> index */
    score_input *inputs;
    size_t count, cap;
};

score_schema *score_schema_copy(const score_schema *from);

/* One present input of a row: 8 bytes. Counts are kept as float, exact for
 * whole numbers below 2^24; categories as an id in the data set's strings. */
typedef struct data_entry {
    uint32_t input;
    union {
        float num;
        uint32_t text;
    } as;
} data_entry;

struct score_data {
    score_schema *schema;
    strmap *strings;         /* category value -> id */
    const char **string_at;  /* id -> the map's copy */
    size_t string_count, string_cap;
    data_entry *entries;
    size_t entry_count, entry_cap;
    size_t *start;           /* row i's entries are start[i] .. start[i+1] */
    time_ms *at;
    uint8_t *label;
    size_t rows, positives;
    size_t at_cap, label_cap, start_cap;
};

/* One encoded feature of a model: a count input, or one value of a
 * category input. */
typedef struct model_feature {
    const char *input;
    const char *value; /* the category value; NULL for a count */
    const char *name;  /* "input" or "input=value", as shown in factors */
    double weight;     /* on the uncalibrated decision value */
    int32_t bound;     /* the input's index in the bound schema; -1 before binding */
} model_feature;

struct score_model {
    arena *a;
    const char *contract;
    uint32_t version;
    duration_ms horizon;
    double c;
    uint32_t min_support;
    bool plain_only;
    size_t rows, positives; /* the rows it was fitted on */
    double bias, platt_a, platt_b;
    model_feature *features;
    size_t feature_count;
    score_eval eval; /* on the holdout */
    const char *report;
    const char *path; /* where it was read from, for messages */
    bool bound;
};

/* The encoded value of a raw input value: log(1 + n) for a count, the
 * value itself (0 or 1) for a category. */
static inline double score_transform(const model_feature *f, double raw)
{
    return f->value ? raw : log1p(raw > 0 ? raw : 0);
}

#endif
