/* Using a model: encode a lead's inputs, predict, and name the factors. */
#include "score/internal.h"

#include <string.h>

void score_encode(const score_model *m, const score_row *row, double *x)
{
    for (size_t j = 0; j < m->feature_count; j++) {
        const model_feature *f = &m->features[j];
        if (f->bound < 0) {
            x[j] = 0;
        } else if (f->value) {
            const char *t = row->text[f->bound];
            x[j] = t && strcmp(t, f->value) == 0;
        } else {
            x[j] = row->num[f->bound];
        }
    }
}

double score_predict(const score_model *m, const double *x)
{
    double z = m->bias;
    for (size_t j = 0; j < m->feature_count; j++)
        if (x[j] != 0) z += m->features[j].weight * score_transform(&m->features[j], x[j]);
    double s = m->platt_a * z + m->platt_b;
    return s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
}

size_t score_explain(const score_model *m, const double *x, score_factor *out, size_t k)
{
    size_t n = 0;
    for (size_t j = 0; j < m->feature_count && k; j++) {
        if (x[j] == 0) continue;
        const model_feature *f = &m->features[j];
        double c = m->platt_a * f->weight * score_transform(f, x[j]);
        if (c == 0) continue;
        /* insert by |contribution|, largest first; earlier features win ties */
        size_t at = n;
        while (at > 0 && fabs(out[at - 1].contribution) < fabs(c)) at--;
        if (at >= k) continue;
        size_t last = n < k ? n : k - 1;
        for (size_t i = last; i > at; i--) out[i] = out[i - 1];
        out[at] = (score_factor){.feature = f->name, .value = x[j], .contribution = c};
        if (n < k) n++;
    }
    return n;
}
