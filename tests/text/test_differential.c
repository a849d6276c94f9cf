/* Differential and pinning tests for the text path's fast code.
 *
 * text_last_question() is checked against a frozen copy of the straight
 * version it replaced (ref_last_question() below: keep it as it is, it is
 * the specification), on tens of thousands of generated messages and at
 * several buffer sizes. text_mentions() is pinned by a digest of every
 * answer it gives on the same messages for five matchers: any change in
 * what is matched, denied or explained changes the digest. To find what
 * changed, run with BATON_TEXT_DUMP=1 before and after and diff the output. */
#include "../harness.h"
#include "text/internal.h"

/* ---- the reference: src/text/question.c before it was made fast ------------------------ */
/* clang-format off */

/* Words, lower-case ASCII, of the sentence's opening. */
#define OPENING_WORDS 6
typedef struct opening {
    char w[OPENING_WORDS][16];
    unsigned count;
    bool comma; /* the sentence has a ',' */
} opening;

static bool in(const char *w, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, set[i]) == 0) return true;
    return false;
}
#define IN(w, set) in((w), (set), ARRAY_LEN(set))

static const char *const auxiliaries[] = {
    "can",      "could",  "do",       "does",      "did",     "is",     "are",    "was",
    "were",     "will",   "would",    "should",    "shall",   "may",    "might",  "have",
    "has",      "am",     "can't",    "don't",     "doesn't", "isn't",  "aren't", "won't",
    "wouldn't", "didn't", "couldn't", "shouldn't", "haven't", "hasn't",
};
static const char *const subjects[] = {
    "you",     "we",     "i",       "it",       "they", "there", "this", "that", "these",
    "those",   "your",   "the",     "a",        "an",   "our",   "my",   "he",   "she",
    "someone", "anyone", "anybody", "somebody", "any",  "their", "his",  "her",  "baton",
};
static const char *const wh_words[] = {"how", "what", "when",  "where", "which",
                                       "who", "whom", "whose", "why"};
static const char *const wh_contracted[] = {"what's", "how's", "where's", "who's",  "when's",
                                            "why's",  "whats", "hows",    "wheres", "whos"};
/* After a question word, these make a question without an auxiliary. */
static const char *const wh_next[] = {"much", "many", "long",    "often",  "soon", "quickly",
                                      "fast", "far",  "big",     "about",  "else", "kind",
                                      "sort", "type", "happens", "exactly"};
static const char *const pronouns[] = {"i", "we", "you", "they", "he", "she", "it", "our", "my"};
/* Openers skipped before the question proper: "Also, can you ...". */
static const char *const openers[] = {
    "also",   "and",     "so",     "but",   "btw",      "ok",    "okay", "then",   "plus", "oh",
    "well",   "finally", "lastly", "quick", "question", "one",   "more", "thing",  "last", "first",
    "second", "next",    "anyway", "sorry", "hi",       "hello", "hey",  "thanks", "great"};
/* Indirect questions, anywhere in the sentence. */
static const char *const indirect[] = {
    "wondering",  "would like to know", "want to know", "wanted to know", "curious whether",
    "curious if", "curious how",        "curious what", "curious about",  "tell me whether",
    "tell me if", "tell me how",        "do you know"};
static const char *const indirect_start[] = {"any chance", "any idea", "anyone know",
                                             "does anyone"};

static void read_opening(const char *s, size_t n, opening *o)
{
    memset(o, 0, sizeof *o);
    size_t i = 0;
    while (i < n && o->count < OPENING_WORDS) {
        size_t len;
        uint32_t cp = utf8_decode(s + i, n - i, &len);
        enum char_class cc = char_class_of(cp);
        if (cp == ',') o->comma = true;
        if (cc != CH_WORD) {
            i += len;
            continue;
        }
        size_t j = i;
        while (j < n) {
            size_t l2;
            enum char_class c2 = char_class_of(utf8_decode(s + j, n - j, &l2));
            if (c2 != CH_WORD && c2 != CH_APOS) break;
            j += l2;
        }
        char *w = o->w[o->count++];
        if (fold_word(s + i, j - i, w, sizeof o->w[0]) == sizeof o->w[0]) w[0] = '\0';
        i = j;
    }
    for (; i < n && !o->comma; i++)
        o->comma = s[i] == ',';
}

/* Whether the sentence's first 160 bytes, folded, hold an indirect question. */
static bool asks_indirectly(const char *s, size_t n)
{
    char buf[352];
    size_t fl = fold_word(s, n < 160 ? n : 160, buf, sizeof buf);
    if (fl == sizeof buf) return false;
    for (size_t i = 0; i < fl; i++) {
        if (i > 0 && buf[i - 1] != ' ' && buf[i - 1] != '\n') continue;
        for (size_t k = 0; k < ARRAY_LEN(indirect); k++) {
            const char *p = indirect[k];
            if (p[0] != buf[i]) continue;
            size_t m = strlen(p);
            if (i + m <= fl && memcmp(buf + i, p, m) == 0) return true;
        }
    }
    return false;
}

static bool reads_as_question(const char *s, size_t n)
{
    opening o;
    read_opening(s, n, &o);
    unsigned k = 0;
    while (k + 2 < o.count && k < 4 && IN(o.w[k], openers))
        k++;
    if (k >= o.count) return false;
    const char *w0 = o.w[k], *w1 = k + 1 < o.count ? o.w[k + 1] : "",
               *w2 = k + 2 < o.count ? o.w[k + 2] : "";
    if (asks_indirectly(s, n)) return true;
    char two[40];
    snprintf(two, sizeof two, "%s %s", w0, w1);
    if (IN(two, indirect_start)) return true;
    if (IN(w0, auxiliaries)) {
        if (o.comma &&
            (strcmp(w0, "should") == 0 || strcmp(w0, "were") == 0 || strcmp(w0, "had") == 0))
            return false; /* "Should you need anything, ..." */
        return IN(w1, subjects);
    }
    if (IN(w0, wh_contracted)) return true;
    if (IN(w0, wh_words)) {
        if (IN(w1, auxiliaries) || IN(w1, wh_next)) return true;
        if (IN(w1, pronouns)) return false;                       /* "How we route today ..." */
        return w1[0] && IN(w2, auxiliaries) && !IN(w1, subjects); /* "Which plan is ..." */
    }
    return false;
}

static bool is_space_byte(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One sentence, s[from, to): keep it when it asks. */
static void consider(const char *s, size_t from, size_t to, size_t *best_from, size_t *best_to)
{
    while (from < to && is_space_byte(s[from]))
        from++;
    while (to > from && is_space_byte(s[to - 1]))
        to--;
    size_t end = to; /* past closing quotes and brackets */
    while (end > from && (s[end - 1] == '"' || s[end - 1] == ')' || s[end - 1] == '\''))
        end--;
    if (end - from < 8) return; /* "ok?" is no question worth asking */
    char last = s[end - 1];
    bool fullwidth = end - from >= 3 && memcmp(s + end - 3, "\xEF\xBC\x9F", 3) == 0; /* ？ */
    bool asks = last == '?' || fullwidth;
    if (!asks && last != '!' && reads_as_question(s + from, end - from)) asks = true;
    if (asks) {
        *best_from = from;
        *best_to = to;
    }
}

/* A line that opens a new sentence: a capital, a digit or a bullet. */
static bool opens_sentence(const char *s, size_t n, size_t at)
{
    while (at < n && (s[at] == ' ' || s[at] == '\t'))
        at++;
    if (at >= n) return false;
    unsigned char c = (unsigned char)s[at];
    if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '*') return true;
    size_t len;
    uint32_t cp = utf8_decode(s + at, n - at, &len);
    return cp == 0x2022 || cp == 0xBF || cp == 0xA1 || (char_lower(cp) != cp);
}

/* Copies s[from, to) with each run of blanks and line breaks as one space. */
static size_t copy_collapsed(const char *s, size_t from, size_t to, char *out, size_t cap)
{
    size_t o = 0;
    bool blank = false;
    for (size_t i = from; i < to && cap; i++) {
        if (is_space_byte(s[i]) || (unsigned char)s[i] < 0x20 ||
            s[i] == 0x7F) { /* and control characters */
            blank = true;
            continue;
        }
        if (blank && o + 1 < cap) out[o++] = ' ';
        blank = false;
        if (o + 1 >= cap) break;
        out[o++] = s[i];
    }
    /* never end inside a UTF-8 character */
    if (o && ((unsigned char)out[o - 1] & 0x80)) {
        size_t k = o - 1;
        while (k > 0 && ((unsigned char)out[k] & 0xC0) == 0x80)
            k--;
        size_t len;
        utf8_decode(out + k, o - k, &len);
        if (k + len != o) o = k;
    }
    if (cap) out[o] = '\0';
    return o;
}

static size_t ref_last_question(str text, char *out, size_t cap)
{
    const char *s = text.s;
    size_t n = text.len, best_from = 0, best_to = 0;
    size_t start = 0; /* of the sentence being read */
    size_t i = 0;
    while (i < n) {
        size_t end;
        enum line_kind k = line_kind_at(s, n, i, &end);
        if (k == LINE_REST_QUOTED) break;
        if (k == LINE_QUOTED) {
            consider(s, start, i, &best_from, &best_to);
            i = start = end < n ? end + 1 : n;
            continue;
        }
        /* sentences within the line */
        for (size_t j = i; j < end; j++) {
            char c = s[j];
            bool stop = false;
            if (c == '?' || c == '!') {
                while (j + 1 < end && (s[j + 1] == '?' || s[j + 1] == '!'))
                    j++;
                stop = true;
            } else if (c == '.' && (j + 1 == end || is_space_byte(s[j + 1]))) {
                size_t w = j; /* "e.g." and initials end nothing */
                while (w > i && s[w - 1] != ' ' && s[w - 1] != '.')
                    w--;
                stop = j - w > 1;
            } else if ((unsigned char)c == 0xEF && j + 3 <= end &&
                       memcmp(s + j, "\xEF\xBC\x9F", 3) == 0) {
                j += 2;
                stop = true;
            }
            if (stop) {
                consider(s, start, j + 1, &best_from, &best_to);
                start = j + 1;
            }
        }
        /* the line break */
        size_t t = end;
        while (t > start && (s[t - 1] == ' ' || s[t - 1] == '\t' || s[t - 1] == '\r'))
            t--;
        bool blank_next = false;
        if (end < n) {
            size_t after = end + 1;
            while (after < n && (s[after] == ' ' || s[after] == '\t' || s[after] == '\r'))
                after++;
            blank_next = after >= n || s[after] == '\n';
        }
        bool breaks = end >= n || blank_next || (t > start && strchr(",:;", s[t - 1])) ||
                      opens_sentence(s, n, end + 1) || t == start;
        if (breaks) {
            consider(s, start, end, &best_from, &best_to);
            start = end < n ? end + 1 : n;
        }
        i = end < n ? end + 1 : n;
    }
    if (start < i) consider(s, start, i < n ? i : n, &best_from, &best_to);
    if (best_to <= best_from) {
        if (cap) out[0] = '\0';
        return 0;
    }
    return copy_collapsed(s, best_from, best_to, out, cap);
}
/* clang-format on */

#define MENTIONS_DIGEST 0x6d14ebdd914095c2u /* from the straight version, before the fast one */

/* ---- generated messages ------------------------------------------------------------------- */

static uint64_t rng_state;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13; /* xorshift64 */
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

/* Pieces that exercise every branch: question openings, indirect questions,
 * negators and scope words, phrase words with inflections and accents,
 * abbreviations, quoting, wrapping, and characters of every class. */
static const char *const pieces[] = {
    "can",
    "Can",
    "could",
    "do",
    "Does",
    "did",
    "is",
    "Is",
    "are",
    "was",
    "were",
    "Were",
    "will",
    "would",
    "should",
    "Should",
    "shall",
    "may",
    "might",
    "have",
    "has",
    "had",
    "am",
    "can't",
    "don't",
    "doesn't",
    "isn’t",
    "won't",
    "wouldn't",
    "you",
    "we",
    "i",
    "I",
    "it",
    "they",
    "there",
    "this",
    "that",
    "the",
    "a",
    "an",
    "our",
    "my",
    "someone",
    "anyone",
    "any",
    "baton",
    "Baton",
    "how",
    "How",
    "what",
    "What",
    "when",
    "where",
    "which",
    "Which",
    "who",
    "whom",
    "whose",
    "why",
    "what's",
    "What’s",
    "how's",
    "whats",
    "much",
    "many",
    "long",
    "often",
    "soon",
    "fast",
    "kind",
    "sort",
    "happens",
    "exactly",
    "also",
    "Also",
    "and",
    "so",
    "but",
    "btw",
    "ok",
    "okay",
    "then",
    "plus",
    "oh",
    "well",
    "finally",
    "quick",
    "question",
    "one",
    "more",
    "thing",
    "last",
    "first",
    "next",
    "anyway",
    "sorry",
    "hi",
    "Hi",
    "hello",
    "hey",
    "thanks",
    "Thanks",
    "great",
    "wondering",
    "WONDERING",
    "wondéring",
    "would like to know",
    "want to know",
    "wanted to know",
    "curious whether",
    "curious if",
    "Curious how",
    "curious what",
    "curious about",
    "tell me whether",
    "tell me if",
    "tell me how",
    "do you know",
    "any chance",
    "Any idea",
    "anyone know",
    "does anyone",
    "no",
    "not",
    "never",
    "none",
    "nothing",
    "nobody",
    "cannot",
    "yet",
    "sure",
    "only",
    "until",
    "unless",
    "if",
    "If",
    "without",
    "just",
    "really",
    "still",
    "rollout",
    "rollouts",
    "timing",
    "internal",
    "internally",
    "approval",
    "approvals",
    "approved",
    "migration",
    "migrating",
    "migrate",
    "security",
    "review",
    "reviews",
    "procurement",
    "SECURITY-REVIEW",
    "sécurité",
    "securite",
    "revue",
    "validation",
    "interne",
    "internes",
    "n'avons",
    "pas",
    "l'approbation",
    "qu'il",
    "nicht",
    "kein",
    "noch",
    "Sicherheitsprüfung",
    "Sicherheitspruefung",
    "interne Freigabe",
    "Freigabe",
    "straße",
    "aprobación",
    "aprobaciones",
    "sin",
    "aún",
    "não",
    "ainda",
    "Œuvre",
    "İstanbul",
    "ΑΘΗΝΑ",
    "Москва",
    "東京",
    "😀",
    "e.g.",
    "i.e.",
    "etc.",
    "vs.",
    "Dr.",
    "Inc.",
    "approx.",
    "No.",
    "acme.com",
    "2.5",
    "v1.2.3",
    "SOC 2",
    "SSO",
    "EU",
    "SAML",
    "Okta",
    "50",
    "3",
    "¿Podemos",
    "hablar",
    "¡Hola",
    "«quoted»",
    "“smart”",
    "‘single’",
    "rock’n’roll",
    "o'clock",
    "x'",
    "'tis",
    "supercalifragilisticexpialidocious-and-then-some-more-words-joined",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "ß",
    "café",
    "CAFÉ",
    "naïve",
    "in.",
    "Dep.",
    "appro.",
    "co.",
    "ST.",
    "z.",
    "nr.",
    "x.",
    "de.",
    "corpo.",
};
static const char *const marks[] = {
    " ",
    " ",
    " ",
    " ",
    " ",
    ", ",
    "; ",
    ": ",
    ". ",
    "? ",
    "! ",
    "?",
    ".",
    "!",
    "?!",
    "??",
    "...",
    " - ",
    " – ",
    " — ",
    "\n",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "  ",
    " (",
    ") ",
    "\"",
    "'",
    "…",
    "？",
    "。",
    "！",
    " ",
    "\xC2\xA0",
    "\xE2\x80\xA8",
    "\xE2\x80\x8A",
    "\xEF\xBC\x9F ",
    "\x01",
    "\x7F",
    "\xFF",
    "\xC3",
    "\xE2\x80",
    ",\n",
    ":\n",
    ";\n",
    "\n- ",
    "\n* ",
    "\n• ",
    "\n> ",
    "\nOn Mon, Sam wrote:\n",
    "\n-----Original Message-----\n",
    "\nSam a écrit :\n",
    "\n> quoted line here\n",
    "\n>> deeper\n",
    " \n",
    "\n  \n",
    ". \n",
    "?\n",
};

/* A message of up to `words` pieces; returns its length (buf holds cap). */
static size_t generate(char *buf, size_t cap, unsigned words)
{
    size_t n = 0;
    unsigned count = 1 + rnd(words);
    for (unsigned w = 0; w < count; w++) {
        const char *p = pieces[rnd(ARRAY_LEN(pieces))];
        const char *m = rnd(3) ? " " : marks[rnd(ARRAY_LEN(marks))];
        size_t pl = strlen(p), ml = strlen(m);
        if (n + pl + ml >= cap) break;
        memcpy(buf + n, p, pl);
        n += pl;
        memcpy(buf + n, m, ml);
        n += ml;
    }
    buf[n] = '\0';
    return n;
}

#define MESSAGES 30000

static void test_R3_question_matches_the_reference(void **state)
{
    (void)state;
    static const size_t caps[] = {0, 1, 2, 9, 24, 96, 2048};
    static char text[1800], got[2048], want[2048];
    rng_state = 0x9E3779B97F4A7C15u;
    unsigned asked = 0;
    for (unsigned i = 0; i < MESSAGES; i++) {
        size_t n = generate(text, sizeof text, i % 4 == 0 ? 200 : 24);
        str t = {text, (uint32_t)n};
        for (size_t c = 0; c < ARRAY_LEN(caps); c++) {
            size_t cap = caps[c];
            memset(got, 'x', sizeof got);
            memset(want, 'x', sizeof want);
            size_t gn = text_last_question(t, got, cap);
            size_t wn = ref_last_question(t, want, cap);
            if (gn != wn || memcmp(got, want, cap ? (wn < cap ? wn + 1 : cap) : 1) != 0)
                fail_msg("message %u (cap %zu): question '%.*s' (%zu), want '%.*s' (%zu)\n%s", i,
                         cap, (int)gn, got, gn, (int)wn, want, wn, text);
            if (cap == 2048 && wn) asked++;
        }
    }
    /* the generator must reach both answers often */
    assert_true(asked > MESSAGES / 5);
    assert_true(asked < MESSAGES - MESSAGES / 5);
}

/* ---- mentions: pinned ------------------------------------------------------------------------ */

static uint64_t fnv(const char *s)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a, not hash_bytes(): that may change */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15u + (h << 6) + (h >> 2);
    return h;
}

static void test_R5_mentions_are_pinned(void **state)
{
    (void)state;
    static const char *const en[] = {
        "rollout timing", "internal approval", "migration", "security review",
        "procurement",    "cafe review",       "o'clock",   "2.5",
        "SOC 2"};
    static const char *const en2[] = {"approval", "sso", "what"};
    static const char *const de[] = {"Sicherheitsprüfung", "interne Freigabe", "migration",
                                     "straße"};
    static const char *const fr[] = {"revue de sécurité", "validation interne", "approbation"};
    static const char *const es[] = {"aprobación interna", "migración"};
    static const struct {
        const char *language;
        bool any_order;
        const char *const *phrases;
        uint32_t count;
    } setups[] = {
        {"english", false, en, ARRAY_LEN(en)}, {"english", true, en, ARRAY_LEN(en)},
        {"german", false, de, ARRAY_LEN(de)},  {"french", true, fr, ARRAY_LEN(fr)},
        {"spanish", false, es, ARRAY_LEN(es)},
    };
    text_matcher *m[ARRAY_LEN(setups)];
    for (size_t k = 0; k < ARRAY_LEN(setups); k++) {
        m[k] = text_matcher_new(setups[k].language, setups[k].any_order);
        assert_non_null(m[k]);
        uint32_t list, bad;
        assert_int_equal(text_matcher_add(m[k], setups[k].phrases, setups[k].count, &list, &bad),
                         TEXT_PHRASE_OK);
        assert_int_equal(text_matcher_add(m[k], en2, ARRAY_LEN(en2), &list, &bad), TEXT_PHRASE_OK);
        assert_true(text_matcher_finish(m[k]));
    }
    bool dump = getenv("BATON_TEXT_DUMP") != NULL;
    static char text[1800];
    rng_state = 0x2545F4914F6CDD1Du;
    uint64_t digest = 0;
    unsigned hits = 0;
    for (unsigned i = 0; i < MESSAGES; i++) {
        size_t n = generate(text, sizeof text, i % 4 == 0 ? 200 : 24);
        str t = {text, (uint32_t)n};
        for (size_t k = 0; k < ARRAY_LEN(setups); k++)
            for (uint32_t list = 0; list < 2; list++) {
                bool found = text_mentions(m[k], list, t);
                const char *phrase;
                str sentence;
                bool explained = text_mentions_explain(m[k], &phrase, &sentence);
                assert_true(found == explained);
                uint64_t v = found;
                if (found) {
                    hits++;
                    v = mix(v, fnv(phrase));
                    v = mix(v, (uint64_t)(sentence.s - text) << 32 | sentence.len);
                }
                digest = mix(digest, v);
                if (dump)
                    printf("%u %zu %u %d %s %td %u\n", i, k, list, found, found ? phrase : "-",
                           found ? sentence.s - text : 0, found ? sentence.len : 0);
            }
    }
    for (size_t k = 0; k < ARRAY_LEN(setups); k++)
        text_matcher_free(m[k]);
    printf("mentions digest %016llx, %u hits\n", (unsigned long long)digest, hits);
    assert_true(hits > MESSAGES / 2);
    assert_true(digest == MENTIONS_DIGEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R3_question_matches_the_reference),
        cmocka_unit_test(test_R5_mentions_are_pinned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
