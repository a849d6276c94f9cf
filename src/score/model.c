/* The model file: a versioned, checksummed text file that a person can read.
 *
 *   baton-model 1                         format version
 *   contract <name> <version>             the contract it was trained for
 *   horizon-ms <n>                        how long a win may take after the cut-off
 *   fit <C> <min-support> <plain-only> <rows> <won>
 *   calibration platt <A> <B>             p = 1 / (1 + exp(-(A z + B)))
 *   bias <b>                              z = b + sum of weight * encoded value
 *   features <n>
 *   count <weight> <input>                encoded as log(1 + n)
 *   category <weight> <input> <value>     1 when the input has that value
 *   holdout <rows> <won> <auc> <lift10>
 *   bin <rows> <won> <mean predicted>     SCORE_CALIBRATION_BINS of them
 *   report <lines>
 *   | <a line of the training report>
 *   sha256 <hex of everything above this line>
 *
 * Fields are separated by one tab; strings escape tab, newline and
 * backslash as \t, \n and \\. Numbers are written with 17 significant
 * digits, so reading a file and writing it again gives the same bytes. */
#include "score/internal.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAGIC "baton-model"
#define MODEL_MAX_FIELDS 8

void score_model_free(score_model *m)
{
    if (!m) return;
    arena_free(m->a);
    mem_free(m);
}

/* ---- writing ------------------------------------------------------------------ */

static void put_escaped(strbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\t') strbuf_puts(b, "\\t");
        else if (*s == '\n') strbuf_puts(b, "\\n");
        else if (*s == '\\') strbuf_puts(b, "\\\\");
        else strbuf_putc(b, *s);
    }
}

static void put_number(strbuf *b, double v)
{
    strbuf_printf(b, "\t%.17g", v);
}

static void sha256_hex(const char *data, size_t len, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL)) mdlen = 0;
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", i < mdlen ? md[i] : 0);
    hex[64] = '\0';
}

void score_model_write(const score_model *m, strbuf *out)
{
    size_t from = out->len;
    strbuf_printf(out, "%s %d\n", MODEL_MAGIC, SCORE_MODEL_FORMAT);
    strbuf_puts(out, "contract\t");
    put_escaped(out, m->contract ? m->contract : "");
    strbuf_printf(out, "\t%u\n", m->version);
    strbuf_printf(out, "horizon-ms\t%lld\n", (long long)m->horizon);
    strbuf_puts(out, "fit");
    put_number(out, m->c);
    strbuf_printf(out, "\t%u\t%d\t%zu\t%zu\n", m->min_support, m->plain_only ? 1 : 0, m->rows, m->positives);
    strbuf_puts(out, "calibration\tplatt");
    put_number(out, m->platt_a);
    put_number(out, m->platt_b);
    strbuf_puts(out, "\nbias");
    put_number(out, m->bias);
    strbuf_printf(out, "\nfeatures\t%zu\n", m->feature_count);
    for (size_t j = 0; j < m->feature_count; j++) {
        const model_feature *f = &m->features[j];
        strbuf_puts(out, f->value ? "category" : "count");
        put_number(out, f->weight);
        strbuf_putc(out, '\t');
        put_escaped(out, f->input);
        if (f->value) {
            strbuf_putc(out, '\t');
            put_escaped(out, f->value);
        }
        strbuf_putc(out, '\n');
    }
    strbuf_printf(out, "holdout\t%zu\t%zu", m->eval.rows, m->eval.positives);
    put_number(out, m->eval.auc);
    put_number(out, m->eval.lift10);
    strbuf_putc(out, '\n');
    for (size_t i = 0; i < SCORE_CALIBRATION_BINS; i++) {
        strbuf_printf(out, "bin\t%zu\t%zu", m->eval.bins[i].rows, m->eval.bins[i].positives);
        put_number(out, m->eval.bins[i].predicted);
        strbuf_putc(out, '\n');
    }
    const char *r = m->report ? m->report : "";
    size_t lines = 0;
    for (const char *p = r; *p;) {
        const char *nl = strchr(p, '\n');
        lines++;
        p = nl ? nl + 1 : p + strlen(p);
    }
    strbuf_printf(out, "report\t%zu\n", lines);
    for (const char *p = r; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        strbuf_puts(out, "| ");
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '\t') strbuf_puts(out, "\\t");
            else if (p[i] == '\\') strbuf_puts(out, "\\\\");
            else strbuf_putc(out, p[i]);
        }
        strbuf_putc(out, '\n');
        p += n + (nl != NULL);
    }
    char hex[65];
    sha256_hex(out->data + from, out->len - from, hex);
    strbuf_printf(out, "sha256\t%s\n", hex);
}

/* ---- reading ------------------------------------------------------------------ */

typedef struct reader {
    score_model *m;
    const char *path;
    char *text; /* a private copy, cut into lines and fields in place */
    char *next; /* the next line */
    size_t line;
    char *field[MODEL_MAX_FIELDS];
    size_t fields;
    strbuf *err;
} reader;

static bool fail(reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool fail(reader *r, const char *fmt, ...)
{
    if (r->line) strbuf_printf(r->err, "%s:%zu: ", r->path, r->line);
    else strbuf_printf(r->err, "%s: ", r->path);
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(r->err, fmt, ap);
    va_end(ap);
    return false;
}

/* Undoes put_escaped() in place. */
static void unescape(char *s)
{
    char *w = s;
    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *w++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
}

/* Splits the next line into tab-separated fields; checks the first is `key`
 * and that there are `want` fields in all (0: any). */
static bool next_line(reader *r, const char *key, size_t want)
{
    if (!r->next || !*r->next) return fail(r, "the file ends before its '%s' line", key);
    char *line = r->next;
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    r->next = nl ? nl + 1 : NULL;
    r->line++;
    r->fields = 0;
    for (char *p = line;;) {
        if (r->fields == MODEL_MAX_FIELDS) return fail(r, "too many fields on a '%s' line", key);
        r->field[r->fields++] = p;
        char *tab = strchr(p, '\t');
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    if (strcmp(r->field[0], key) != 0) return fail(r, "expected a '%s' line, found '%.40s'", key, r->field[0]);
    if (want && r->fields != want)
        return fail(r, "a '%s' line has %zu fields, not %zu", key, r->fields, want);
    return true;
}

static bool number(reader *r, size_t i, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(r->field[i], &end);
    if (end == r->field[i] || *end || errno == ERANGE)
        return fail(r, "'%.40s' is not a number", r->field[i]);
    return true;
}

static bool whole(reader *r, size_t i, uint64_t max, uint64_t *out)
{
    char *end;
    const char *s = r->field[i];
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || *s == '-' || errno == ERANGE || v > max)
        return fail(r, "'%.40s' is not a whole number up to %llu", s, (unsigned long long)max);
    *out = v;
    return true;
}

static const char *keep(reader *r, char *s)
{
    unescape(s);
    return arena_strndup(r->m->a, s, strlen(s));
}

/* Checks the last line's SHA-256 against the bytes before it. */
static bool check_sum(reader *r, const char *text, size_t len)
{
    if (len == 0 || text[len - 1] != '\n') return fail(r, "truncated: the file does not end with its checksum line");
    size_t end = len - 1, start = end;
    while (start > 0 && text[start - 1] != '\n') start--;
    const char *last = text + start;
    if (end - start != 7 + 64 || strncmp(last, "sha256\t", 7) != 0)
        return fail(r, "truncated: the file does not end with its checksum line");
    char hex[65];
    sha256_hex(text, start, hex);
    if (memcmp(hex, last + 7, 64) != 0)
        return fail(r, "checksum mismatch: the file was damaged or edited after training (retrain with baton train)");
    return true;
}

static bool read_body(reader *r)
{
    score_model *m = r->m;
    uint64_t v = 0, v2 = 0;
    double d;
    if (!next_line(r, "contract", 3)) return false;
    if (!(m->contract = keep(r, r->field[1])) || !whole(r, 2, UINT32_MAX, &v)) return false;
    m->version = (uint32_t)v;
    if (!next_line(r, "horizon-ms", 2)) return false;
    if (!whole(r, 1, INT64_MAX, &v)) return false;
    m->horizon = (duration_ms)v;
    if (!next_line(r, "fit", 6) || !number(r, 1, &m->c) || !whole(r, 2, UINT32_MAX, &v)) return false;
    m->min_support = (uint32_t)v;
    if (!whole(r, 3, 1, &v)) return false;
    m->plain_only = v == 1;
    if (!whole(r, 4, SIZE_MAX, &v) || !whole(r, 5, SIZE_MAX, &v2)) return false;
    m->rows = (size_t)v;
    m->positives = (size_t)v2;
    if (!next_line(r, "calibration", 4)) return false;
    if (strcmp(r->field[1], "platt") != 0) return fail(r, "unknown calibration '%.40s'", r->field[1]);
    if (!number(r, 2, &m->platt_a) || !number(r, 3, &m->platt_b)) return false;
    if (!next_line(r, "bias", 2) || !number(r, 1, &m->bias)) return false;
    if (!next_line(r, "features", 2) || !whole(r, 1, SCORE_MAX_FEATURES, &v)) return false;
    m->feature_count = (size_t)v;
    m->features = arena_zalloc(m->a, (v ? v : 1) * sizeof *m->features);
    if (!m->features) return fail(r, "out of memory");
    for (size_t j = 0; j < m->feature_count; j++) {
        model_feature *f = &m->features[j];
        bool category = r->next && strncmp(r->next, "category\t", 9) == 0;
        if (!next_line(r, category ? "category" : "count", category ? 4 : 3)) return false;
        if (!number(r, 1, &f->weight) || !(f->input = keep(r, r->field[2]))) return false;
        f->bound = -1;
        if (category) {
            if (!(f->value = keep(r, r->field[3]))) return false;
            f->name = arena_printf(m->a, "%s=%s", f->input, f->value);
        } else {
            f->name = f->input;
        }
        if (!f->name) return fail(r, "out of memory");
    }
    if (!next_line(r, "holdout", 5) || !whole(r, 1, SIZE_MAX, &v) || !whole(r, 2, SIZE_MAX, &v2)) return false;
    m->eval.rows = (size_t)v;
    m->eval.positives = (size_t)v2;
    if (!number(r, 3, &m->eval.auc) || !number(r, 4, &m->eval.lift10)) return false;
    for (size_t i = 0; i < SCORE_CALIBRATION_BINS; i++) {
        score_calibration_bin *b = &m->eval.bins[i];
        if (!next_line(r, "bin", 4) || !whole(r, 1, SIZE_MAX, &v) || !whole(r, 2, SIZE_MAX, &v2)) return false;
        b->rows = (size_t)v;
        b->positives = (size_t)v2;
        if (!number(r, 3, &d)) return false;
        b->predicted = d;
    }
    if (!next_line(r, "report", 2) || !whole(r, 1, SCORE_MAX_REPORT_LINES, &v)) return false;
    strbuf report;
    strbuf_init(&report);
    for (uint64_t i = 0; i < v; i++) {
        if (!r->next || strncmp(r->next, "| ", 2) != 0) {
            strbuf_free(&report);
            r->line++;
            return fail(r, "expected report line %llu of %llu", (unsigned long long)i + 1, (unsigned long long)v);
        }
        char *line = r->next + 2, *nl = strchr(line, '\n');
        *nl = '\0'; /* the checksum line follows, so there is a newline */
        r->next = nl + 1;
        r->line++;
        unescape(line);
        strbuf_puts(&report, line);
        strbuf_putc(&report, '\n');
    }
    m->report = report.oom ? NULL : arena_strndup(m->a, report.data ? report.data : "", report.len);
    strbuf_free(&report);
    if (!m->report) return fail(r, "out of memory");
    if (!r->next || strncmp(r->next, "sha256\t", 7) != 0) {
        r->line++;
        return fail(r, "unexpected content before the checksum line");
    }
    return true;
}

score_model *score_model_parse(const char *path, const char *text, size_t len, strbuf *err)
{
    reader r = {.path = path, .err = err};
    if (len > SCORE_MODEL_MAX_BYTES) {
        fail(&r, "larger than the %u bytes a model may have", SCORE_MODEL_MAX_BYTES);
        return NULL;
    }
    size_t magic = strlen(MODEL_MAGIC);
    if (len < magic + 2 || memcmp(text, MODEL_MAGIC " ", magic + 1) != 0) {
        fail(&r, "not a baton model file (it does not start with '%s')", MODEL_MAGIC);
        return NULL;
    }
    long format = strtol(text + magic + 1, NULL, 10);
    if (format != SCORE_MODEL_FORMAT) {
        fail(&r, "model format %ld, but this baton reads format %d%s", format, SCORE_MODEL_FORMAT,
             format > SCORE_MODEL_FORMAT ? " (a newer baton wrote it)" : "");
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        fail(&r, "not a text file (it holds a NUL byte)");
        return NULL;
    }
    if (!check_sum(&r, text, len)) return NULL;
    r.m = mem_calloc(1, sizeof *r.m);
    r.text = mem_strndup(text, len);
    if (!r.m || !r.text || !(r.m->a = arena_new(64 * 1024))) {
        fail(&r, "out of memory");
        goto fail;
    }
    r.next = strchr(r.text, '\n') + 1;
    r.line = 1;
    if (!read_body(&r)) goto fail;
    r.m->path = arena_strndup(r.m->a, path, strlen(path));
    if (!r.m->path) goto fail;
    mem_free(r.text);
    return r.m;
fail:
    mem_free(r.text);
    score_model_free(r.m);
    return NULL;
}

score_model *score_model_load(const char *path, strbuf *err)
{
    size_t len;
    char *text = file_read(path, &len);
    if (!text) {
        strbuf_printf(err, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    score_model *m = score_model_parse(path, text, len, err);
    mem_free(text);
    return m;
}

bool score_model_bind(score_model *m, const score_schema *s, const char *contract, uint32_t version, strbuf *err)
{
    const char *path = m->path ? m->path : "model";
    m->bound = false;
    if (!m->contract || strcmp(m->contract, contract) != 0 || m->version != version) {
        strbuf_printf(err, "%s: trained for contract '%s' version %u, but the contract is '%s' version %u; "
                      "retrain with baton train",
                      path, m->contract ? m->contract : "", m->version, contract, version);
        return false;
    }
    for (size_t j = 0; j < m->feature_count; j++) {
        model_feature *f = &m->features[j];
        int i = score_schema_find(s, f->input);
        enum score_input_kind want = f->value ? SCORE_CATEGORY : SCORE_COUNT;
        if (i < 0 || score_schema_kind(s, (size_t)i) != want) {
            strbuf_printf(err, "%s: the model reads '%s', which this contract %s; retrain with baton train", path,
                          f->input, i < 0 ? "does not provide" : "provides as another kind of input");
            return false;
        }
        f->bound = i;
    }
    m->bound = true;
    return true;
}

size_t score_model_feature_count(const score_model *m)
{
    return m->feature_count;
}

const char *score_model_feature(const score_model *m, size_t j)
{
    return m->features[j].name;
}

double score_model_weight(const score_model *m, size_t j)
{
    return m->platt_a * m->features[j].weight;
}

const char *score_model_contract(const score_model *m, uint32_t *version)
{
    if (version) *version = m->version;
    return m->contract;
}

const char *score_model_report(const score_model *m)
{
    return m->report ? m->report : "";
}

const score_eval *score_model_eval(const score_model *m)
{
    return &m->eval;
}
