/* score: the closed-won score learned from history (R8).
 *
 * Four parts, in the order a model is made and used:
 *   schema   the named inputs a lead has at a time: categories (an
 *            industry, an employee band, a title) and counts (demo requests
 *            in 30 days); engine/features.c builds one from a contract;
 *   data     training rows: one lead's inputs at its cut-off, its time and
 *            its label, kept sparse;
 *   train    L2-regularised logistic regression (liblinear) on the earlier
 *            rows, Platt calibration on the next ones, evaluation on the
 *            latest (AUC, lift in the top decile, a calibration table);
 *   model    the feature map, weights and calibration, saved as a versioned,
 *            checksummed text file; prediction and per-lead factors.
 *
 * Ownership: a schema, a data set and a model each own their memory until
 * their _free(). Rows borrow their strings; score_data_add() copies them.
 * score_encode(), score_predict() and score_explain() read only what they
 * are given, never the clock, and allocate nothing. */
#ifndef BATON_SCORE_H
#define BATON_SCORE_H

#include "util/util.h"

/* ---- named limits ------------------------------------------------------------ */
#define SCORE_MAX_INPUTS 4096          /* inputs in one schema */
#define SCORE_MAX_FEATURES 20000       /* encoded features in one model */
#define SCORE_MAX_NAME 160             /* bytes of an input name or category value */
#define SCORE_MAX_REPORT_LINES 400     /* lines of training report kept in a model */
#define SCORE_MODEL_MAX_BYTES (64u << 20)
#define SCORE_MODEL_FORMAT 1           /* the model file's format version */
#define SCORE_CALIBRATION_BINS 10
#define SCORE_TOP_FACTORS 5            /* factors a handoff lists by default */

/* ---- schema ------------------------------------------------------------------ */
enum score_input_kind {
    SCORE_CATEGORY, /* a string, one-hot encoded; NULL when unknown */
    SCORE_COUNT,    /* a number >= 0, encoded as log(1 + n) */
};

typedef struct score_schema score_schema;

score_schema *score_schema_new(void);
void score_schema_free(score_schema *s);
/* Adds an input; `plain` marks the plain per-signal counts the baseline
 * model is fitted on. Returns its index, or -1 when the name is a duplicate,
 * too long, past SCORE_MAX_INPUTS, or memory runs out. */
int score_schema_add(score_schema *s, const char *name, enum score_input_kind kind, bool plain);
size_t score_schema_count(const score_schema *s);
const char *score_schema_name(const score_schema *s, size_t i);
enum score_input_kind score_schema_kind(const score_schema *s, size_t i);
bool score_schema_plain(const score_schema *s, size_t i);
int score_schema_find(const score_schema *s, const char *name);

/* One lead's inputs at one time, in schema order: text[i] for a category
 * (NULL when unknown), num[i] for a count. The caller owns both arrays. */
typedef struct score_row {
    const char **text;
    double *num;
} score_row;

/* ---- training data ------------------------------------------------------------- */
typedef struct score_data score_data;

/* A data set over a copy of the schema; NULL when memory runs out. */
score_data *score_data_new(const score_schema *s);
void score_data_free(score_data *d);
/* Appends a row taken at `at` with its label; copies what it needs. False
 * when memory runs out (the data set keeps its earlier rows). */
bool score_data_add(score_data *d, const score_row *row, time_ms at, bool label);
size_t score_data_rows(const score_data *d);
size_t score_data_positives(const score_data *d);
const score_schema *score_data_schema(const score_data *d);
/* Row i back as inputs (strings owned by the data set); fills the caller's
 * row of score_schema_count() entries. */
void score_data_row(const score_data *d, size_t i, score_row *out, time_ms *at, bool *label);

/* ---- evaluation ----------------------------------------------------------------- */
typedef struct score_calibration_bin {
    size_t rows, positives;
    double predicted; /* mean predicted probability in the bin */
} score_calibration_bin;

typedef struct score_eval {
    size_t rows, positives;
    double auc;    /* area under the ROC curve, ties counted half */
    double lift10; /* positive rate in the top 10% by score over the base rate */
    score_calibration_bin bins[SCORE_CALIBRATION_BINS]; /* equal-count bins, lowest first */
} score_eval;

/* Figures for probabilities p[i] against labels y[i]. Sorts a copy; false
 * when memory runs out. */
bool score_evaluate(const double *p, const bool *y, size_t n, score_eval *out);

/* ---- training ------------------------------------------------------------------- */
typedef struct score_train_options {
    double c;              /* inverse regularisation strength; default 1 */
    double holdout;        /* share of rows, the latest, held out for evaluation; default 0.2 */
    double calibration;    /* share of the rest, the latest, for Platt scaling; default 0.2 */
    uint32_t min_support;  /* a category value seen in fewer fitting rows is left out; default 10 */
    bool plain_only;       /* the baseline: plain per-signal counts only */
    const char *contract;  /* recorded in the model: the contract trained for */
    uint32_t version;
    duration_ms horizon;   /* recorded in the model: how long a win may take */
    /* when set, receives every row encoded, in svmlight form with qid 1 (fit),
     * 2 (calibration) or 3 (holdout): the same features and split for other tools */
    strbuf *export_rows;
} score_train_options;

typedef struct score_model score_model;

/* Fits a model. NULL with a message in `err` when there is nothing to learn
 * from (too few rows, one class only in a part) or memory runs out. */
score_model *score_train(const score_data *d, const score_train_options *o, strbuf *err);

/* ---- the model --------------------------------------------------------------------- */
typedef struct score_factor {
    const char *feature; /* "signal.demo_request.30d", "account.industry=software" */
    double value;        /* the input's value: a count, or 1 for a category */
    double contribution; /* to the calibrated log-odds */
} score_factor;

void score_model_free(score_model *m);
/* The model as its file's bytes: a versioned header, the contract, the
 * feature map, weights, calibration, the training report, a SHA-256. */
void score_model_write(const score_model *m, strbuf *out);
/* Reads a model file's bytes; `path` names it in messages. NULL with
 * "PATH: what is wrong" in `err` for a damaged, truncated, edited or
 * newer-format file, or when memory runs out. */
score_model *score_model_parse(const char *path, const char *text, size_t len, strbuf *err);
score_model *score_model_load(const char *path, strbuf *err);
/* Ties the model to a contract and the inputs it can be given: false with
 * "PATH: ..." in `err` when the model was trained for another contract or
 * version, or reads an input the schema lacks. Must succeed before
 * score_encode(). */
bool score_model_bind(score_model *m, const score_schema *s, const char *contract, uint32_t version,
                      strbuf *err);

size_t score_model_feature_count(const score_model *m);
const char *score_model_feature(const score_model *m, size_t j);
/* Weight on the calibrated log-odds, per unit of encoded value. */
double score_model_weight(const score_model *m, size_t j);
const char *score_model_contract(const score_model *m, uint32_t *version);
const char *score_model_report(const score_model *m);
const score_eval *score_model_eval(const score_model *m);

/* Fills x[score_model_feature_count()] from a row of the bound schema. */
void score_encode(const score_model *m, const score_row *row, double *x);
/* The calibrated probability of a win for an encoded row. */
double score_predict(const score_model *m, const double *x);
/* The k factors that moved this row's log-odds most, largest first (ties by
 * feature order); returns how many were written (features present only). */
size_t score_explain(const score_model *m, const double *x, score_factor *out, size_t k);

#endif
