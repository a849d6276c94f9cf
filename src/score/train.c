/* Fitting a model: split by time, map features, liblinear, Platt, evaluate.
 *
 * Rows are ordered by their cut-off time (then by insertion). The latest
 * `holdout` share is held out for evaluation, the latest `calibration` share
 * of the rest fits Platt's sigmoid, and the earliest rows fit the logistic
 * regression. The feature map is read off the fitting rows only: a category
 * value becomes a feature when it appears in at least `min_support` of them,
 * a count when any of them has it. Nothing from the later rows shapes the
 * model but the two calibration numbers. */
#include "score/internal.h"

#include <linear.h>
#include <stdlib.h>
#include <string.h>

#define PLATT_MAX_ITERATIONS 100
#define PLATT_MIN_STEP 1e-10
#define PLATT_EPSILON 1e-5
#define REPORT_FACTORS 10 /* strongest factors listed each way */
#define LIBLINEAR_EPS 0.001

typedef struct fit {
    const score_data *d;
    const score_train_options *o;
    score_model *m;
    size_t *order;             /* rows by time */
    size_t cal_from, test_from; /* parts of order[] */
    int32_t *count_feature;    /* per input: its count feature, or -1 */
    strmap *category_feature;  /* (input, string id) as 8 bytes -> feature */
    double *z;                 /* decision values by position in order[] */
} fit;

static void quiet(const char *s)
{
    (void)s;
}

typedef struct timed {
    time_ms at;
    size_t row;
} timed;

static int by_time(const void *a, const void *b)
{
    const timed *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

static bool input_used(const fit *f, uint32_t input)
{
    return !f->o->plain_only || f->d->schema->inputs[input].plain;
}

/* The feature for a row's entry, or -1 when the map left it out. */
static int32_t feature_of(const fit *f, const data_entry *e)
{
    if (f->d->schema->inputs[e->input].kind == SCORE_COUNT) return f->count_feature[e->input];
    uint32_t key[2] = {e->input, e->as.text}, j;
    return strmap_get(f->category_feature, (const char *)key, sizeof key, &j) ? (int32_t)j : -1;
}

static double entry_value(const fit *f, const data_entry *e)
{
    return f->d->schema->inputs[e->input].kind == SCORE_COUNT ? log1p((double)e->as.num) : 1.0;
}

typedef struct candidate {
    uint32_t input, text;
    const char *value; /* NULL for a count */
    size_t support;
} candidate;

typedef struct candidates {
    candidate *items;
    size_t count, cap;
} candidates;

static bool push_candidate(candidates *c, candidate item)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        candidate *bigger = mem_realloc(c->items, cap * sizeof *bigger);
        if (!bigger) return false;
        c->items = bigger;
        c->cap = cap;
    }
    c->items[c->count++] = item;
    return true;
}

static int by_input_value(const void *a, const void *b)
{
    const candidate *x = a, *y = b;
    if (x->input != y->input) return x->input < y->input ? -1 : 1;
    if (!x->value || !y->value) return (x->value != NULL) - (y->value != NULL); /* the count first */
    return strcmp(x->value, y->value);
}

/* Chooses the features from the fitting rows, in input order and, within a
 * category, by value. */
static bool map_features(fit *f, strbuf *err)
{
    const score_data *d = f->d;
    size_t inputs = d->schema->count;
    f->count_feature = mem_alloc((inputs ? inputs : 1) * sizeof *f->count_feature);
    f->category_feature = strmap_new();
    strmap *support = strmap_new(); /* (input, text) -> index in cands */
    bool *count_seen = mem_calloc(inputs ? inputs : 1, sizeof *count_seen);
    candidates cands = {0};
    bool ok = false;
    if (!f->count_feature || !f->category_feature || !support || !count_seen) goto done;
    for (size_t i = 0; i < inputs; i++) f->count_feature[i] = -1;
    for (size_t r = 0; r < f->cal_from; r++) {
        size_t row = f->order[r];
        for (size_t k = d->start[row]; k < d->start[row + 1]; k++) {
            const data_entry *e = &d->entries[k];
            if (!input_used(f, e->input)) continue;
            if (d->schema->inputs[e->input].kind == SCORE_COUNT) {
                count_seen[e->input] = true;
                continue;
            }
            uint32_t key[2] = {e->input, e->as.text}, at;
            if (strmap_get(support, (const char *)key, sizeof key, &at)) {
                /* a key in the map has its candidate: items grew before the put */
                cands.items[at].support++; // NOLINT(clang-analyzer-core.NullDereference)
                continue;
            }
            if (!strmap_put(support, (const char *)key, sizeof key, (uint32_t)cands.count) ||
                !push_candidate(&cands, (candidate){e->input, e->as.text, d->string_at[e->as.text], 1}))
                goto done;
        }
    }
    /* rare values out; counts join so one sort orders everything */
    size_t kept = 0;
    for (size_t c = 0; c < cands.count; c++)
        if (cands.items[c].support >= f->o->min_support) cands.items[kept++] = cands.items[c];
    cands.count = kept;
    for (size_t i = 0; i < inputs; i++)
        if (count_seen[i] && !push_candidate(&cands, (candidate){(uint32_t)i, 0, NULL, 0})) goto done;
    if (cands.count > SCORE_MAX_FEATURES) {
        strbuf_printf(err, "%zu features is more than the %u a model may have; raise --min-support", cands.count,
                      SCORE_MAX_FEATURES);
        goto done;
    }
    if (cands.count) qsort(cands.items, cands.count, sizeof *cands.items, by_input_value);
    score_model *m = f->m;
    m->features = arena_zalloc(m->a, (cands.count ? cands.count : 1) * sizeof *m->features);
    if (!m->features) goto done;
    for (size_t j = 0; j < cands.count; j++) {
        const candidate *c = &cands.items[j];
        model_feature *mf = &m->features[j];
        const char *input = d->schema->inputs[c->input].name;
        mf->input = arena_strndup(m->a, input, strlen(input));
        mf->bound = (int32_t)c->input;
        if (c->value) {
            mf->value = arena_strndup(m->a, c->value, strlen(c->value));
            mf->name = arena_printf(m->a, "%s=%s", input, c->value);
            uint32_t key[2] = {c->input, c->text};
            if (!strmap_put(f->category_feature, (const char *)key, sizeof key, (uint32_t)j)) goto done;
        } else {
            mf->name = mf->input;
            f->count_feature[c->input] = (int32_t)j;
        }
        if (!mf->input || !mf->name || (c->value && !mf->value)) goto done;
    }
    m->feature_count = cands.count;
    ok = true;
done:
    if (!ok && !err->len) strbuf_puts(err, "out of memory");
    strmap_free(support);
    mem_free(count_seen);
    mem_free(cands.items);
    return ok;
}

/* liblinear on the fitting rows; the weights land in the model. */
static bool fit_weights(fit *f, strbuf *err)
{
    const score_data *d = f->d;
    score_model *m = f->m;
    size_t rows = f->cal_from, nodes = 0;
    for (size_t r = 0; r < rows; r++) nodes += d->start[f->order[r] + 1] - d->start[f->order[r]] + 2;
    struct problem prob = {.l = (int)rows, .n = (int)m->feature_count + 1, .bias = 1};
    struct feature_node *pool = mem_alloc((nodes ? nodes : 1) * sizeof *pool);
    prob.y = mem_alloc((rows ? rows : 1) * sizeof *prob.y);
    prob.x = mem_alloc((rows ? rows : 1) * sizeof *prob.x);
    struct model *lm = NULL;
    bool ok = false;
    if (!pool || !prob.y || !prob.x) {
        strbuf_puts(err, "out of memory");
        goto done;
    }
    struct feature_node *at = pool;
    for (size_t r = 0; r < rows; r++) {
        size_t row = f->order[r];
        prob.x[r] = at;
        prob.y[r] = d->label[row] ? 1 : -1;
        for (size_t k = d->start[row]; k < d->start[row + 1]; k++) {
            int32_t j = feature_of(f, &d->entries[k]);
            if (j < 0) continue;
            *at++ = (struct feature_node){.index = j + 1, .value = entry_value(f, &d->entries[k])};
        }
        *at++ = (struct feature_node){.index = prob.n, .value = 1}; /* the bias term */
        *at++ = (struct feature_node){.index = -1};
    }
    struct parameter param = {.solver_type = L2R_LR, .eps = LIBLINEAR_EPS, .C = f->o->c};
    const char *why = check_parameter(&prob, &param);
    if (why) {
        strbuf_printf(err, "liblinear refused the problem: %s", why);
        goto done;
    }
    set_print_string_function(quiet);
    lm = train(&prob, &param);
    if (!lm) {
        strbuf_puts(err, "liblinear failed (out of memory?)");
        goto done;
    }
    double sign = lm->label[0] == 1 ? 1 : -1; /* w favours label[0] */
    for (size_t j = 0; j < m->feature_count; j++) m->features[j].weight = sign * lm->w[j];
    m->bias = sign * lm->w[m->feature_count];
    ok = true;
done:
    if (lm) free_and_destroy_model(&lm);
    mem_free(pool);
    mem_free(prob.y);
    mem_free(prob.x);
    return ok;
}

static double decision(const fit *f, size_t row)
{
    const score_data *d = f->d;
    double z = f->m->bias;
    for (size_t k = d->start[row]; k < d->start[row + 1]; k++) {
        int32_t j = feature_of(f, &d->entries[k]);
        if (j >= 0) z += f->m->features[j].weight * entry_value(f, &d->entries[k]);
    }
    return z;
}

/* log(1 + exp(x)) without overflow */
static double softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* Platt's sigmoid p = 1 / (1 + exp(-(A z + B))) fitted by Newton's method
 * with a backtracking line search, on targets pulled in from 0 and 1 by the
 * counts (Platt's prior) so that a separable set stays finite. */
static void fit_platt(const double *z, const bool *y, size_t n, double *out_a, double *out_b)
{
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) pos += y[i];
    size_t neg = n - pos;
    *out_a = 1;
    *out_b = 0;
    if (!pos || !neg) return;
    double hi = ((double)pos + 1) / ((double)pos + 2), lo = 1 / ((double)neg + 2);
    double a = 1, b = 0;
    /* loss(a, b) = sum softplus(s) - t s, with s = a z + b */
    double loss = 0;
    for (size_t i = 0; i < n; i++) {
        double s = a * z[i] + b, t = y[i] ? hi : lo;
        loss += softplus(s) - t * s;
    }
    for (int it = 0; it < PLATT_MAX_ITERATIONS; it++) {
        double ga = 0, gb = 0, haa = 1e-12, hab = 0, hbb = 1e-12;
        for (size_t i = 0; i < n; i++) {
            double s = a * z[i] + b, t = y[i] ? hi : lo;
            double p = s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
            double g = p - t, w = p * (1 - p);
            ga += g * z[i];
            gb += g;
            haa += w * z[i] * z[i];
            hab += w * z[i];
            hbb += w;
        }
        if (fabs(ga) < PLATT_EPSILON && fabs(gb) < PLATT_EPSILON) break;
        double det = haa * hbb - hab * hab;
        if (!(det > 0)) break;
        double da = -(hbb * ga - hab * gb) / det, db = -(haa * gb - hab * ga) / det;
        double step = 1, slope = ga * da + gb * db;
        while (step >= PLATT_MIN_STEP) {
            double na = a + step * da, nb = b + step * db, nl = 0;
            for (size_t i = 0; i < n; i++) {
                double s = na * z[i] + nb, t = y[i] ? hi : lo;
                nl += softplus(s) - t * s;
            }
            if (nl <= loss + 1e-4 * step * slope) {
                a = na;
                b = nb;
                loss = nl;
                break;
            }
            step /= 2;
        }
        if (step < PLATT_MIN_STEP) break;
    }
    *out_a = a;
    *out_b = b;
}

static double sigmoid(double s)
{
    return s >= 0 ? 1 / (1 + exp(-s)) : exp(s) / (1 + exp(s));
}

/* Every row, encoded, in svmlight form with its part as qid. */
static void export_rows(const fit *f, strbuf *out)
{
    const score_model *m = f->m;
    for (size_t j = 0; j < m->feature_count; j++) strbuf_printf(out, "# feature %zu %s\n", j + 1, m->features[j].name);
    for (size_t r = 0; r < f->d->rows; r++) {
        size_t row = f->order[r];
        int part = r < f->cal_from ? 1 : r < f->test_from ? 2 : 3;
        strbuf_printf(out, "%d qid:%d", f->d->label[row] ? 1 : 0, part);
        for (size_t k = f->d->start[row]; k < f->d->start[row + 1]; k++) {
            int32_t j = feature_of(f, &f->d->entries[k]);
            if (j >= 0) strbuf_printf(out, " %d:%.17g", j + 1, entry_value(f, &f->d->entries[k]));
        }
        strbuf_putc(out, '\n');
    }
}

typedef struct ranked {
    double w;
    size_t j;
} ranked;

static int by_weight_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->w != y->w) return x->w > y->w ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

static void format_figure(strbuf *b, double v)
{
    if (isnan(v)) strbuf_puts(b, "n/a");
    else strbuf_printf(b, "%.4f", v);
}

/* The training report kept in the model and printed by `baton train`. */
static bool make_report(fit *f, size_t fit_rows, size_t fit_pos, size_t cal_rows, size_t cal_pos)
{
    score_model *m = f->m;
    const score_eval *ev = &m->eval;
    strbuf b;
    strbuf_init(&b);
    strbuf_printf(&b, "model for %s v%u%s\n", m->contract ? m->contract : "?", m->version,
                  m->plain_only ? " (baseline: plain counts)" : "");
    strbuf_printf(&b, "rows: %zu fitted (%zu won), %zu calibrating (%zu won), %zu held out (%zu won), by cut-off time\n",
                  fit_rows, fit_pos, cal_rows, cal_pos, ev->rows, ev->positives);
    strbuf_printf(&b, "features: %zu (category values seen in >= %u fitting rows); C %g; Platt A %.4f B %.4f\n",
                  m->feature_count, m->min_support, m->c, m->platt_a, m->platt_b);
    strbuf_puts(&b, "holdout: AUC ");
    format_figure(&b, ev->auc);
    strbuf_puts(&b, ", lift in the top decile ");
    format_figure(&b, ev->lift10);
    strbuf_printf(&b, ", base rate %.4f\n", ev->rows ? (double)ev->positives / (double)ev->rows : 0.0);
    strbuf_puts(&b, "calibration on the holdout (equal-count bins, lowest scores first):\n");
    strbuf_puts(&b, "  bin   rows   won  predicted  observed\n");
    for (size_t i = 0; i < SCORE_CALIBRATION_BINS; i++) {
        const score_calibration_bin *bin = &ev->bins[i];
        strbuf_printf(&b, "  %3zu %6zu %5zu  %9.4f  %8.4f\n", i + 1, bin->rows, bin->positives, bin->predicted,
                      bin->rows ? (double)bin->positives / (double)bin->rows : 0.0);
    }
    ranked *r = mem_alloc((m->feature_count ? m->feature_count : 1) * sizeof *r);
    if (!r) {
        strbuf_free(&b);
        return false;
    }
    for (size_t j = 0; j < m->feature_count; j++) r[j] = (ranked){m->platt_a * m->features[j].weight, j};
    qsort(r, m->feature_count, sizeof *r, by_weight_desc);
    strbuf_puts(&b, "strongest positive factors (calibrated log-odds per unit):\n");
    for (size_t i = 0; i < m->feature_count && i < REPORT_FACTORS && r[i].w > 0; i++)
        strbuf_printf(&b, "  %+.4f  %s\n", r[i].w, m->features[r[i].j].name);
    strbuf_puts(&b, "strongest negative factors:\n");
    for (size_t i = 0; i < m->feature_count && i < REPORT_FACTORS && r[m->feature_count - 1 - i].w < 0; i++)
        strbuf_printf(&b, "  %+.4f  %s\n", r[m->feature_count - 1 - i].w, m->features[r[m->feature_count - 1 - i].j].name);
    mem_free(r);
    m->report = b.oom ? NULL : arena_strndup(m->a, b.data, b.len);
    strbuf_free(&b);
    return m->report != NULL;
}

score_model *score_train(const score_data *d, const score_train_options *opt, strbuf *err)
{
    score_train_options o = *opt;
    if (!(o.c > 0)) o.c = 1;
    if (!(o.holdout > 0 && o.holdout < 1)) o.holdout = 0.2;
    if (!(o.calibration > 0 && o.calibration < 1)) o.calibration = 0.2;
    if (!o.min_support) o.min_support = 10;
    fit f = {.d = d, .o = &o};
    double *cal_z = NULL, *test_p = NULL;
    bool *cal_y = NULL, *test_y = NULL;
    bool ok = false;
    size_t n = d->rows;
    f.m = mem_calloc(1, sizeof *f.m);
    if (!f.m || !(f.m->a = arena_new(64 * 1024))) goto nomem;
    score_model *m = f.m;
    m->contract = o.contract ? arena_strndup(m->a, o.contract, strlen(o.contract)) : NULL;
    m->version = o.version;
    m->horizon = o.horizon;
    m->c = o.c;
    m->min_support = o.min_support;
    m->plain_only = o.plain_only;
    m->platt_a = 1;
    m->bound = false;

    f.order = mem_alloc((n ? n : 1) * sizeof *f.order);
    if (!f.order) goto nomem;
    timed *times = mem_alloc((n ? n : 1) * sizeof *times);
    if (!times) goto nomem;
    for (size_t i = 0; i < n; i++) times[i] = (timed){d->at[i], i};
    qsort(times, n, sizeof *times, by_time);
    for (size_t i = 0; i < n; i++) f.order[i] = times[i].row;
    mem_free(times);
    f.test_from = n - (size_t)((double)n * o.holdout + 0.5);
    f.cal_from = f.test_from - (size_t)((double)f.test_from * o.calibration + 0.5);
    size_t fit_pos = 0, cal_pos = 0;
    for (size_t r = 0; r < f.cal_from; r++) fit_pos += d->label[f.order[r]];
    for (size_t r = f.cal_from; r < f.test_from; r++) cal_pos += d->label[f.order[r]];
    if (f.cal_from < 2 || fit_pos == 0 || fit_pos == f.cal_from) {
        strbuf_printf(err, "nothing to learn from: the %zu earliest rows hold %zu won and %zu not won; "
                      "a model needs both (%zu rows in all)", f.cal_from, fit_pos, f.cal_from - fit_pos, n);
        goto done;
    }
    m->rows = f.cal_from;
    m->positives = fit_pos;
    if (!map_features(&f, err) || !fit_weights(&f, err)) goto done;

    size_t cal_n = f.test_from - f.cal_from, test_n = n - f.test_from;
    cal_z = mem_alloc((cal_n ? cal_n : 1) * sizeof *cal_z);
    cal_y = mem_alloc((cal_n ? cal_n : 1) * sizeof *cal_y);
    test_p = mem_alloc((test_n ? test_n : 1) * sizeof *test_p);
    test_y = mem_alloc((test_n ? test_n : 1) * sizeof *test_y);
    if (!cal_z || !cal_y || !test_p || !test_y) goto nomem;
    for (size_t r = 0; r < cal_n; r++) {
        size_t row = f.order[f.cal_from + r];
        cal_z[r] = decision(&f, row);
        cal_y[r] = d->label[row];
    }
    fit_platt(cal_z, cal_y, cal_n, &m->platt_a, &m->platt_b);
    for (size_t r = 0; r < test_n; r++) {
        size_t row = f.order[f.test_from + r];
        test_p[r] = sigmoid(m->platt_a * decision(&f, row) + m->platt_b);
        test_y[r] = d->label[row];
    }
    if (!score_evaluate(test_p, test_y, test_n, &m->eval)) goto nomem;
    if (!make_report(&f, f.cal_from, fit_pos, cal_n, cal_pos)) goto nomem;
    if (o.export_rows) export_rows(&f, o.export_rows);
    m->bound = false; /* bound again to the caller's schema before use */
    for (size_t j = 0; j < m->feature_count; j++) m->features[j].bound = -1;
    ok = true;
    goto done;
nomem:
    strbuf_puts(err, "out of memory");
done:
    mem_free(f.order);
    mem_free(f.count_feature);
    strmap_free(f.category_feature);
    mem_free(cal_z);
    mem_free(cal_y);
    mem_free(test_p);
    mem_free(test_y);
    if (!ok) {
        score_model_free(f.m);
        return NULL;
    }
    return f.m;
}
