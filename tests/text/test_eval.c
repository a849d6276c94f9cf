/* Precision and recall of `mentions` (R5) and of reply.automatic (R9) on
 * the labelled sets in tests/data/text/, printed on every run; either
 * figure below 0.9 fails. Rows the code gets wrong are listed, so a change
 * shows what it fixed and what it broke. */
#include "../harness.h"
#include "text/text.h"

#define MIN_FIGURE 0.9

typedef struct tally {
    unsigned tp, fp, fn, tn;
} tally;

static void count(tally *t, bool expect, bool got)
{
    if (expect && got)
        t->tp++;
    else if (!expect && got)
        t->fp++;
    else if (expect && !got)
        t->fn++;
    else
        t->tn++;
}

static double precision(const tally *t)
{
    return t->tp + t->fp ? (double)t->tp / (t->tp + t->fp) : 1.0;
}

static double recall(const tally *t)
{
    return t->tp + t->fn ? (double)t->tp / (t->tp + t->fn) : 1.0;
}

static void report(const char *what, const tally *t)
{
    printf("%s: %u rows, precision %.3f, recall %.3f (tp %u, fp %u, fn %u, tn %u)\n", what,
           t->tp + t->fp + t->fn + t->tn, precision(t), recall(t), t->tp, t->fp, t->fn, t->tn);
    fflush(stdout);
}

/* Splits a line at tabs in place; returns the column count. */
static size_t columns(char *line, char **cols, size_t max)
{
    size_t n = 0;
    cols[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == '\t') {
            *p = '\0';
            cols[n++] = p + 1;
        }
    return n;
}

/* "\n" in a column stands for a line break; "-" for nothing. */
static void unescape(char *s)
{
    if (strcmp(s, "-") == 0) {
        s[0] = '\0';
        return;
    }
    char *o = s;
    for (char *p = s; *p; p++) {
        if (p[0] == '\\' && p[1] == 'n') {
            *o++ = '\n';
            p++;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

static str S(const char *t)
{
    str r = {t, (uint32_t)strlen(t)};
    return r;
}

/* Calls row() for each data line of a fixture, split into `want` columns. */
typedef void row_fn(char **cols, unsigned line, void *ctx);
static void each_row(const char *rel, size_t want, row_fn *row, void *ctx)
{
    char *text = read_fixture(rel, NULL);
    unsigned line = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = '\0';
        line++;
        if (*p && *p != '#') {
            char *cols[8];
            if (columns(p, cols, want) != want)
                fail_msg("%s:%u: expected %zu columns", rel, line, want);
            row(cols, line, ctx);
        }
        p = nl ? nl + 1 : NULL;
    }
    free(text);
}

/* ---- sentences ---------------------------------------------------------------- */

typedef struct sentences {
    tally t;
    text_matcher *m;
    char key[2048]; /* language, order and phrases of m */
    char phrases[1024];
    const char *items[64];
} sentences;

static void sentence_row(char **cols, unsigned line, void *ctx)
{
    sentences *x = ctx;
    const char *expect = cols[0], *language = cols[1], *order = cols[2], *phrases = cols[3];
    char *text = cols[4];
    char key[2048];
    snprintf(key, sizeof key, "%s\t%s\t%s", language, order, phrases);
    if (!x->m || strcmp(key, x->key) != 0) {
        text_matcher_free(x->m);
        snprintf(x->key, sizeof x->key, "%s", key);
        snprintf(x->phrases, sizeof x->phrases, "%s", phrases);
        uint32_t n = 0;
        for (char *p = x->phrases; p && n < 64;) {
            x->items[n++] = p;
            p = strchr(p, ',');
            if (p) *p++ = '\0';
        }
        x->m = text_matcher_new(language, strcmp(order, "any") == 0);
        if (!x->m) fail_msg("sentences.tsv:%u: unknown language %s", line, language);
        uint32_t list, bad;
        if (text_matcher_add(x->m, x->items, n, &list, &bad) != TEXT_PHRASE_OK ||
            !text_matcher_finish(x->m))
            fail_msg("sentences.tsv:%u: phrase '%s' refused", line, x->items[bad]);
    }
    unescape(text);
    bool want = strcmp(expect, "yes") == 0, got = text_mentions(x->m, 0, S(text));
    count(&x->t, want, got);
    if (want != got)
        printf("  sentences.tsv:%u: %s, want %s [%s] %s\n", line, got ? "matched" : "no match",
               expect, phrases, text);
}

static void test_R5_mentions_precision_and_recall(void **state)
{
    (void)state;
    sentences *x = calloc(1, sizeof *x);
    each_row("tests/data/text/sentences.tsv", 5, sentence_row, x);
    text_matcher_free(x->m);
    report("mentions (tests/data/text/sentences.tsv)", &x->t);
    assert_true(x->t.tp + x->t.fp + x->t.fn + x->t.tn >= 300);
    double p = precision(&x->t), r = recall(&x->t);
    free(x);
    if (p < MIN_FIGURE || r < MIN_FIGURE)
        fail_msg("mentions: precision %.3f, recall %.3f; both must be >= %.1f", p, r, MIN_FIGURE);
}

/* ---- replies ------------------------------------------------------------------ */

static void header(reply_facts *f, char *pairs)
{
    for (char *p = pairs; p && *p;) {
        char *next = strchr(p, ';');
        if (next) *next++ = '\0';
        char *eq = strchr(p, '=');
        if (!eq) fail_msg("header '%s' has no '='", p);
        *eq = '\0';
        str v = S(eq + 1);
        if (strcmp(p, "auto_submitted") == 0)
            f->auto_submitted = v;
        else if (strcmp(p, "x_autoreply") == 0)
            f->x_autoreply = v;
        else if (strcmp(p, "x_autorespond") == 0)
            f->x_autorespond = v;
        else if (strcmp(p, "precedence") == 0)
            f->precedence = v;
        else
            fail_msg("unknown header %s", p);
        p = next;
    }
}

static void reply_row(char **cols, unsigned line, void *ctx)
{
    tally *t = ctx;
    for (int i = 2; i < 6; i++)
        unescape(cols[i]);
    reply_facts f = {.from = S(cols[2]), .subject = S(cols[4]), .body = S(cols[5])};
    header(&f, cols[3]);
    bool want = strcmp(cols[0], "yes") == 0, got = text_reply_is_automatic(&f);
    count(t, want, got);
    if (want != got)
        printf("  replies.tsv:%u: %s, want %s (%s) %s | %s\n", line, got ? "automatic" : "person",
               cols[0], cols[1], cols[4], cols[5]);
}

static void test_R9_replies_precision_and_recall(void **state)
{
    (void)state;
    tally t = {0};
    each_row("tests/data/text/replies.tsv", 6, reply_row, &t);
    report("reply.automatic (tests/data/text/replies.tsv)", &t);
    assert_true(t.tp + t.fp + t.fn + t.tn >= 100);
    double p = precision(&t), r = recall(&t);
    if (p < MIN_FIGURE || r < MIN_FIGURE)
        fail_msg("reply.automatic: precision %.3f, recall %.3f; both must be >= %.1f", p, r,
                 MIN_FIGURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R5_mentions_precision_and_recall),
        cmocka_unit_test(test_R9_replies_precision_and_recall),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
