/* How good a score is: AUC, lift in the top decile, a calibration table. */
#include "score/internal.h"

#include <stdlib.h>

typedef struct scored {
    double p;
    size_t i;
    bool y;
} scored;

/* Ascending by probability, then by row, so ties sort the same everywhere. */
static int by_p(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

bool score_evaluate(const double *p, const bool *y, size_t n, score_eval *out)
{
    *out = (score_eval){.rows = n, .auc = NAN, .lift10 = NAN};
    if (n == 0) return true;
    scored *s = mem_alloc(n * sizeof *s);
    if (!s) return false;
    for (size_t i = 0; i < n; i++) {
        s[i] = (scored){.p = p[i], .i = i, .y = y[i]};
        out->positives += y[i];
    }
    qsort(s, n, sizeof *s, by_p);
    size_t pos = out->positives, neg = n - pos;

    /* AUC by the rank sum of the positives (Mann-Whitney), ties at their mean rank */
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        size_t tied_pos = 0;
        while (j < n && s[j].p == s[i].p) tied_pos += s[j++].y;
        double mean_rank = ((double)(i + 1) + (double)j) / 2.0; /* ranks i+1 .. j */
        rank_sum += mean_rank * (double)tied_pos;
        i = j;
    }
    if (pos && neg) out->auc = (rank_sum - (double)pos * ((double)pos + 1) / 2.0) / ((double)pos * (double)neg);

    /* the top tenth by score, highest first */
    size_t top = (n + 9) / 10, top_pos = 0;
    for (size_t k = 0; k < top; k++) top_pos += s[n - 1 - k].y;
    if (pos) out->lift10 = ((double)top_pos / (double)top) / ((double)pos / (double)n);

    for (size_t b = 0; b < SCORE_CALIBRATION_BINS; b++) {
        size_t from = n * b / SCORE_CALIBRATION_BINS, to = n * (b + 1) / SCORE_CALIBRATION_BINS;
        score_calibration_bin *bin = &out->bins[b];
        double sum = 0;
        for (size_t k = from; k < to; k++) {
            sum += s[k].p;
            bin->positives += s[k].y;
        }
        bin->rows = to - from;
        bin->predicted = bin->rows ? sum / (double)bin->rows : 0;
    }
    mem_free(s);
    return true;
}
