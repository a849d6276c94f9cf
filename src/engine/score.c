/* The learned score (R8) inside the engine: a lead's inputs after each of
 * its events, encoded and scored by the bound model, and the factors that
 * moved the score for the handoff that reads it. Everything is sized when
 * the engine starts; scoring allocates nothing. */
#include "engine/internal.h"

#include <math.h>
#include <stdio.h>

bool score_setup(engine *e)
{
    const contract_info *about = contract_about(e->c);
    if (!e->opt.model) return true;
    if (!about->reads_score) return true; /* nothing asks for it */
    e->features = features_new(e);
    if (!e->features) return false;
    strbuf why;
    strbuf_init(&why);
    bool bound = score_model_bind(e->opt.model, features_schema(e->features), about->name, about->version, &why);
    if (!bound) {
        snprintf(e->score_problem, sizeof e->score_problem, "%s", why.data ? why.data : "the model does not bind");
        strbuf_free(&why);
        features_free(e->features);
        e->features = NULL;
        return true; /* the documented fallback: score stays null */
    }
    strbuf_free(&why);
    size_t inputs = score_schema_count(features_schema(e->features));
    size_t encoded = score_model_feature_count(e->opt.model);
    e->score_text = mem_calloc(inputs ? inputs : 1, sizeof *e->score_text);
    e->score_num = mem_calloc(inputs ? inputs : 1, sizeof *e->score_num);
    e->score_x = mem_calloc(encoded ? encoded : 1, sizeof *e->score_x);
    e->factors = mem_calloc(SCORE_TOP_FACTORS, sizeof *e->factors);
    if (!e->score_text || !e->score_num || !e->score_x || !e->factors) return false;
    e->model = e->opt.model;
    return true;
}

void score_teardown(engine *e)
{
    features_free(e->features);
    mem_free(e->score_text);
    mem_free(e->score_num);
    mem_free(e->score_x);
    mem_free(e->factors);
}

const char *engine_score_problem(const engine *e)
{
    return e->score_problem[0] ? e->score_problem : NULL;
}

value lead_score(engine *e, const lead *l, time_ms now)
{
    value v = {.type = VAL_NULL};
    if (!e->model) return v;
    score_row row = {.text = e->score_text, .num = e->score_num};
    /* the row holds what the lead had up to and including this event */
    if (!features_of_lead(e->features, l, now + 1, &row)) return v;
    score_encode(e->model, &row, e->score_x);
    double p = score_predict(e->model, e->score_x);
    if (isnan(p)) return v;
    v.type = VAL_NUM;
    v.as.num = p;
    return v;
}
