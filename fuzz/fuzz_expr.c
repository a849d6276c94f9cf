/* libFuzzer target: arbitrary bytes as one expression of the contract language.
 *
 * Three routes per input:
 *   1. parse_expr() straight on the raw bytes, as a synthetic expression
 *      (scalar NULL), so the lexer and parser see every byte unfiltered;
 *      the tree is printed back with node_print() and the errors rendered.
 *   2. The bytes spliced into a small valid contract where the whole
 *      language is allowed: a gate (CTX_GATE), a macro, and a hole of the
 *      `did` template (CTX_TEMPLATE_LEAD); then contract_parse(), so the
 *      text goes through the YAML reader's offset map, the checker and the
 *      compiler. When the contract compiles, every program runs once in a
 *      fixed environment.
 *   3. When route 1 parsed, the bytes in a second contract as a signal's
 *      condition (CTX_SIGNAL) and a fit predicate (CTX_FIT), the two
 *      restricted contexts, run the same way when it compiles. Kept apart
 *      from route 2 so that a gate-only expression still compiles and runs.
 *
 * The block scalars use an explicit indentation indicator (`|2-`), so the
 * text YAML hands back is the input itself, leading spaces included, but
 * for what YAML does to line breaks (each becomes LF; trailing ones are
 * chomped): every YAML line break is followed by the indentation. Bytes YAML rejects
 * (control characters, malformed UTF-8) stop routes 2 and 3 at the YAML
 * reader; route 1 still covers them. */
#include "contract/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A contract the input is spliced into, in pieces: after each piece's text,
 * when `indent` is set, the input follows as the content of a block scalar
 * indented that many spaces, between `open` and `close`, then a line break.
 * The indicator `|2-` puts the content two columns in from the map the key
 * belongs to: column 4 under a section's entry (macro, fit, did), column 6
 * under a signal's or a gate's own map. */
struct piece {
    const char *text;
    int indent;
    const char *open, *close;
};

#define HEADER                                                                                     \
    "contract: fuzz\n"                                                                             \
    "version: 1\n"                                                                                 \
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"                              \
    "retention: 90d\n"                                                                             \
    "stages: { nurture: marketing, development: sdr, sales: ae }\n"                                \
    "kinds: [noise]\n"                                                                             \
    "lists:\n"                                                                                     \
    "  icp: [software, fintech]\n"                                                                 \
    "  words: [\"rollout timing\", migration]\n"

#define SIGNALS                                                                                    \
    "  demo: { kind: intent, when: event.name == \"Demo Requested\", topic: evaluation }\n"        \
    "  pricing: { kind: intent, when: on_pricing and page.seconds > 90, topic: pricing }\n"        \
    "  webinar: { kind: engagement, when: event.name == \"Webinar Attended\" }\n"                  \
    "  opened: { kind: noise, when: event.name == \"Email Opened\" }\n"

#define QUESTIONS                                                                                  \
    "  questions: { pricing: \"What will it cost?\", evaluation: \"Can we see it?\" }\n"

#define FOOTER                                                                                     \
    "sla: { first_touch: 4 business hours, meeting: 10 business days }\n"                          \
    "reasons:\n"                                                                                   \
    "  not_icp: { then: nurture, cooldown: 30d }\n"

/* Route 2: gate, macro and template hole. */
static const struct piece whole_language[] = {
    {HEADER "macros:\n"
            "  on_pricing: page.category == \"pricing\"\n"
            "  fuzz_macro: |2-\n",
     4, "", ""},
    {"fit:\n"
     "  icp: account.industry in icp and account.employees >= 200\n"
     "signals:\n" SIGNALS "points: { per_signal: { demo: 30, pricing: 20, webinar: 5 }, cap: 100 }\n"
     "gates:\n"
     "  - name: fuzz_gate\n"
     "    to: sales\n"
     "    when: |2-\n",
     6, "", ""},
    {"  - name: fit_intent\n"
     "    to: development\n"
     "    when: fit.icp and count(intent, 14d) >= 1 and since(intent) <= 14d\n"
     "context:\n"
     "  did: |2-\n",
     4, "{", "}"},
    {"  asks: \"{question}\"\n" QUESTIONS FOOTER, 0, "", ""},
};

/* Route 3: a signal's condition and a fit predicate. */
static const struct piece restricted[] = {
    {HEADER "macros:\n"
            "  on_pricing: page.category == \"pricing\"\n"
            "fit:\n"
            "  icp: account.industry in icp and account.employees >= 200\n"
            "  fuzz_fit: |2-\n",
     4, "", ""},
    {"signals:\n" SIGNALS "  fuzz_signal:\n"
     "    kind: intent\n"
     "    when: |2-\n",
     6, "", ""},
    {"gates:\n"
     "  - { name: demo, when: demo and fit.icp, to: sales }\n"
     "context:\n"
     "  did: \"{trigger}\"\n" QUESTIONS FOOTER,
     0, "", ""},
};

/* Appends `in` as block scalar content indented by `indent` spaces, the
 * first line's indentation being the caller's: after each YAML line break
 * (LF, CR, CR LF, NEL, LS, PS) comes the indentation again, so no line of the
 * input can end the scalar early. */
static void put_block(strbuf *out, const uint8_t *in, size_t n, size_t indent)
{
    static const char spaces[] = "        ";
    for (size_t i = 0; i < n; i++) {
        size_t brk = 0;
        if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n')
            brk = 2; /* CR LF is one break */
        else if (in[i] == '\n' || in[i] == '\r')
            brk = 1;
        else if (in[i] == 0xC2 && i + 1 < n && in[i + 1] == 0x85)
            brk = 2;
        else if (in[i] == 0xE2 && i + 2 < n && in[i + 1] == 0x80 &&
                 (in[i + 2] == 0xA8 || in[i + 2] == 0xA9))
            brk = 3;
        if (!brk) {
            strbuf_putc(out, (char)in[i]);
            continue;
        }
        strbuf_append(out, (const char *)in + i, brk);
        strbuf_append(out, spaces, indent);
        i += brk - 1;
    }
}

static void build_contract(strbuf *out, const struct piece *pieces, size_t count,
                           const uint8_t *in, size_t n)
{
    for (size_t i = 0; i < count; i++) {
        const struct piece *pc = &pieces[i];
        strbuf_puts(out, pc->text);
        if (!pc->indent) continue;
        strbuf_append(out, "        ", (size_t)pc->indent);
        strbuf_puts(out, pc->open);
        put_block(out, in, n, (size_t)pc->indent);
        strbuf_puts(out, pc->close);
        strbuf_putc(out, '\n');
    }
}

/* A fixed environment for running the compiled programs: every field
 * missing, history answered with small constants, so arithmetic and
 * comparisons on aggregates see real numbers and durations. */
static uint32_t fixed_count(void *ctx, uint32_t target, duration_ms window, enum agg_scope scope)
{
    return target % 5;
}

static bool fixed_last(void *ctx, uint32_t target, time_ms *when)
{
    *when = INT64_C(1790000000000) - (int64_t)(target % 3) * MS_PER_DAY;
    return target % 2 == 0;
}

static uint32_t fixed_distinct(void *ctx, uint32_t target, duration_ms window)
{
    return target % 3;
}

static void run_programs(const contract *c)
{
    bool signal_now[CONTRACT_MAX_SIGNALS] = {false};
    bool fit[CONTRACT_MAX_FIT] = {false};
    eval_env env = {
        .fields = NULL,
        .signal_now = signal_now,
        .fit = fit,
        .now = INT64_C(1790000000000),
        .score = {.type = VAL_NUM, .as.num = 0.75},
        .points = {.type = VAL_NUM, .as.num = 40},
        .count = fixed_count,
        .last = fixed_last,
        .distinct = fixed_distinct,
    };
    for (size_t i = 0; i < contract_signal_count(c); i++) {
        const program *p = contract_signal(c, i)->when;
        if (p) signal_now[i] = program_holds(p, &env);
    }
    for (size_t i = 0; i < contract_fit_count(c); i++) {
        const program *p = contract_fit(c, i)->when;
        if (p) fit[i] = program_holds(p, &env);
    }
    for (size_t i = 0; i < contract_gate_count(c); i++) {
        const program *p = contract_gate(c, i)->when;
        if (p) (void)program_eval(p, &env);
    }
}

/* Parses, checks and compiles the contract built from `pieces` and the
 * input; renders its errors into out, or runs its programs. */
static void through_contract(const struct piece *pieces, size_t count, const uint8_t *data,
                             size_t size, strbuf *out)
{
    strbuf src;
    strbuf_init(&src);
    build_contract(&src, pieces, count, data, size);
    if (!src.oom) {
        errors errs;
        errors_init(&errs, "fuzz.yaml", src.data, src.len);
        contract *c = contract_parse("fuzz.yaml", src.data, src.len, &errs);
        errors_sort(&errs);
        errors_render(&errs, out);
        if (c) run_programs(c);
        contract_free(c);
    }
    strbuf_free(&src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    strbuf out;
    strbuf_init(&out);

    /* Route 1: the raw bytes through the parser alone. */
    const char *text = size ? (const char *)data : "";
    uint32_t len = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
    bool parsed = false;
    arena *a = arena_new(16 * 1024);
    if (a) {
        errors errs;
        errors_init(&errs, "fuzz.expr", text, size);
        expr e = {.text = text, .len = len, .scalar = NULL};
        parsed = parse_expr(a, &errs, &e);
        if (parsed && e.root) node_print(e.root, &out);
        errors_render(&errs, &out);
        arena_free(a);
    }

    /* Routes 2 and 3: the same bytes inside contracts. */
    through_contract(whole_language, ARRAY_LEN(whole_language), data, size, &out);
    if (parsed) through_contract(restricted, ARRAY_LEN(restricted), data, size, &out);

    strbuf_free(&out);
    return 0;
}
