/* bench_text: how many buyer messages per second `mentions` reads (R5).
 *
 *   bench_text [--messages N] [--runs R] [--seed S] [--signal NAME] [FILE]
 *
 * FILE (default contracts/example.yaml) is compiled once. N messages
 * (default 100000) are generated from the seed (default 1): emails and chat
 * lines of 1 to 6 sentences, of which about one in eight speaks of risk
 * (inflected, reordered, or behind "until" and "without") and one in sixteen
 * denies it or uses a look-alike word. Then the signal NAME (default
 * risk_language) is evaluated on every message, as the engine would, R
 * times (default 5), each pass timed with CLOCK_MONOTONIC. The first pass
 * also fills the matcher's word cache and is reported on its own.
 * Results are "key: value" lines for scripts/bench.
 *
 * Exit status: 0 ok, 1 the contract has errors or no such signal, 2 usage,
 * 3 the file could not be read, 4 out of memory. */
#include "contract/contract.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"

enum { EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_IO, EXIT_NOMEM };

static int usage(void)
{
    fputs("usage: bench_text [--messages N] [--runs R] [--seed S] [--signal NAME] [FILE]\n",
          stderr);
    return EXIT_USAGE;
}

/* ---- messages ---------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n) /* xorshift64*, uniform enough for picking words */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}
#define PICK(a) (a)[rnd(ARRAY_LEN(a))]

static const char *const openers[] = {"Hi Sam,",
                                      "Hello team,",
                                      "Thanks for the demo yesterday.",
                                      "Quick question.",
                                      "Following up on our call.",
                                      "Hey,",
                                      "Good morning,",
                                      ""};
static const char *const tools[] = {"HubSpot",   "Salesforce",  "Marketo",
                                    "Pipedrive", "spreadsheet", "Zendesk"};
static const char *const teams[] = {"sales",   "marketing", "RevOps",
                                    "finance", "IT",        "customer success"};
static const char *const regions[] = {"EMEA", "the US", "APAC", "Germany", "the Nordics", "Brazil"};
static const char *const assets[] = {"SOC 2 report", "DPA",      "pricing sheet",
                                     "case study",   "API docs", "deck"};
static const char *const neutral[] = {
    "We have %d reps in %r and the %t data is a mess.",
    "Can you send the %a before Thursday?",
    "Our %m team liked the routing rules a lot.",
    "Thursday at %dpm works for me.",
    "How does lead scoring work when two people from one account sign up?",
    "We lose a few deals every quarter because nobody follows up in time.",
    "I'll forward this to my manager in %m.",
    "The dashboards looked great, especially the handoff report.",
    "Does it integrate with %t out of the box?",
    "We are about %d people, growing fast in %r.",
    "Please add my colleague to the next call.",
    "What does the %a cover exactly?",
    "Our current process is manual and slow.",
    "Sorry for the late reply, busy week.",
};
static const char *const risky[] = {
    "We are migrating our %t data next quarter.",
    "The migration of %d accounts worries our %m team.",
    "It needs internal approvals from %m and legal.",
    "Getting it internally approved takes a month here.",
    "Our security review usually takes six weeks.",
    "Procurement will want three quotes.",
    "What rollout timing have other customers in %r managed?",
    "We can't sign until the security review is done.",
    "Nothing moves forward without internal approval.",
    "Approval internally is the slow part.",
    "The timing of the rollout depends on hiring.",
};
static const char *const denied[] = {
    "We have no plans to migrate this year.",
    "We don't need a security review for tools under 10k.",
    "Internal approval is not required for pilots.",
    "Procurement won't get involved at this size.",
    "Our immigration lawyers are on the account.",
};
static const char *const closers[] = {"Thanks,\nAna",   "Best,\nJonas", "Cheers", "Talk soon.", "",
                                      "Regards,\nPriya"};

static void put(strbuf *b, const char *tmpl)
{
    for (const char *p = tmpl; *p; p++) {
        if (*p != '%' || !p[1]) {
            strbuf_putc(b, *p);
            continue;
        }
        switch (*++p) {
        case 'd': strbuf_printf(b, "%u", 2 + rnd(400)); break;
        case 't': strbuf_puts(b, PICK(tools)); break;
        case 'm': strbuf_puts(b, PICK(teams)); break;
        case 'r': strbuf_puts(b, PICK(regions)); break;
        case 'a': strbuf_puts(b, PICK(assets)); break;
        default: strbuf_putc(b, *p);
        }
    }
}

/* Messages back to back in one buffer; offs[i] is where message i starts. */
static bool generate(size_t count, strbuf *b, size_t *offs)
{
    for (size_t i = 0; i < count; i++) {
        offs[i] = b->len;
        const char *o = PICK(openers);
        if (*o) {
            strbuf_puts(b, o);
            strbuf_putc(b, rnd(2) ? '\n' : ' ');
        }
        uint32_t sentences = 1 + rnd(6);
        for (uint32_t k = 0; k < sentences; k++) {
            uint32_t r = rnd(100);
            put(b, r < 12 ? PICK(risky) : r < 18 ? PICK(denied) : PICK(neutral));
            strbuf_putc(b, ' ');
        }
        const char *c = PICK(closers);
        if (*c) {
            strbuf_puts(b, "\n");
            strbuf_puts(b, c);
        }
    }
    offs[count] = b->len;
    return !b->oom;
}

/* ---- the run ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *path = "contracts/example.yaml", *signal = "risk_language";
    unsigned long count = 100000, runs = 5, seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        unsigned long *num = strcmp(a, "--messages") == 0 ? &count
                             : strcmp(a, "--runs") == 0   ? &runs
                             : strcmp(a, "--seed") == 0   ? &seed
                                                          : NULL;
        if (num || strcmp(a, "--signal") == 0) {
            if (i + 1 >= argc) return usage();
            char *end;
            if (num) {
                *num = strtoul(argv[++i], &end, 10);
                if (*end || *num == 0 || *num > 100000000) return usage();
            } else {
                signal = argv[++i];
            }
        } else if (a[0] == '-') {
            return usage();
        } else {
            path = a;
        }
    }

    contract *c = bench_load_contract(path);
    if (!c) return EXIT_INVALID;
    int s = contract_find_signal(c, signal);
    size_t slot = 0;
    while (slot < contract_field_count(c) &&
           strcmp(contract_field(c, slot)->path, "message.text") != 0)
        slot++;
    if (s < 0 || slot == contract_field_count(c)) {
        fprintf(stderr, "bench_text: %s has no signal %s reading message.text\n", path, signal);
        contract_free(c);
        return EXIT_INVALID;
    }
    const program *when = contract_signal(c, (size_t)s)->when;

    rng_state = seed * 0x9E3779B97F4A7C15ULL + 1;
    strbuf msgs;
    strbuf_init(&msgs);
    size_t *offs = malloc((count + 1) * sizeof *offs);
    value *fields = calloc(contract_field_count(c), sizeof *fields);
    double *samples = malloc(runs * sizeof *samples);
    if (!offs || !fields || !samples || !generate(count, &msgs, offs)) {
        fputs("bench_text: out of memory\n", stderr);
        return EXIT_NOMEM;
    }

    eval_env env = {.fields = fields};
    value *v = &fields[slot];
    v->type = VAL_STR;
    v->as.str.id = -1; /* text from an event is never a contract constant */
    size_t matched = 0;
    double first = 0;
    for (unsigned long r = 0; r <= runs; r++) { /* pass 0: cold word cache */
        size_t hits = 0;
        double t0 = bench_now_s();
        for (size_t i = 0; i < count; i++) {
            v->as.str.s = msgs.data + offs[i];
            v->as.str.len = (uint32_t)(offs[i + 1] - offs[i]);
            hits += program_holds(when, &env);
        }
        double t = bench_now_s() - t0;
        if (r == 0)
            first = t;
        else
            samples[r - 1] = t;
        matched = hits;
    }
    qsort(samples, runs, sizeof *samples, bench_cmp_double);
    double best = samples[0], median = samples[runs / 2];
    printf("file: %s\n", path);
    printf("signal: %s\n", signal);
    printf("messages: %lu\n", count);
    printf("bytes: %zu\n", msgs.len);
    printf("matched: %zu\n", matched);
    printf("runs: %lu\n", runs);
    printf("first_s: %.4f\n", first);
    printf("best_s: %.4f\n", best);
    printf("median_s: %.4f\n", median);
    printf("first_msgs_per_s: %.0f\n", (double)count / first);
    printf("best_msgs_per_s: %.0f\n", (double)count / best);
    printf("median_msgs_per_s: %.0f\n", (double)count / median);
    printf("best_mb_per_s: %.1f\n", (double)msgs.len / best / 1e6);
    printf("ns_per_message: %.0f\n", best / (double)count * 1e9);

    free(samples);
    free(fields);
    free(offs);
    strbuf_free(&msgs);
    contract_free(c);
    return EXIT_OK;
}
