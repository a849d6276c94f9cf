/* The buyer's own question, for the second line of the context block (R3).
 *
 * A message is cut into sentences: '?', '!' and '.' (before a blank) end
 * one, so does a blank line, and so does a line break when the next line
 * opens with a capital, a digit or a bullet or this one ends in ',', ':' or
 * ';' (otherwise the break is a mail client wrapping a long line). Quoted
 * lines of a reply are left out. A sentence is a question when it ends in
 * '?', or when it has no end mark or a '.' and opens the way an English
 * question does: an auxiliary before its subject ("can you", "is there",
 * "do we"), a question word before an auxiliary ("how long", "what is",
 * "which plan is"), or an indirect question ("I was wondering whether").
 * The last question wins. Precision comes first: "How we route today is by
 * hand" and "Should you need anything, ..." are not questions. */
#include "text/internal.h"

#include <string.h>

/* Words, lower-case ASCII, of the sentence's opening, zero-padded to
 * WORD_BYTES: the word sets below hold theirs the same way, so a look-up
 * compares 8 bytes at a time instead of calling strcmp() (note in()). */
#define OPENING_WORDS 6
#define WORD_BYTES    16
typedef char word16[WORD_BYTES];
typedef struct opening {
    word16 w[OPENING_WORDS];
    unsigned count;
    bool comma; /* the sentence has a ',' */
} opening;

/* An absent word, as long as any other. */
static const word16 no_word;

/* Whether the zero-padded word w is in set. A word that did not fit its
 * buffer starts with a NUL and so is in no set: every set word starts with
 * a letter. The first 8 bytes rule out nearly all. */
static bool in(const char *w, const word16 *set, size_t n)
{
    uint64_t head, tail;
    memcpy(&head, w, 8);
    memcpy(&tail, w + 8, 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t h, t;
        memcpy(&h, set[i], 8);
        if (h != head) continue;
        memcpy(&t, set[i] + 8, 8);
        if (t == tail) return true;
    }
    return false;
}
#define IN(w, set) in((w), (set), ARRAY_LEN(set))

/* Whether "w0 w1" is one of the two-word phrases of set. */
static bool in_two(const char *w0, const char *w1, const char *const *set, size_t n)
{
    size_t l0 = strlen(w0);
    for (size_t i = 0; i < n; i++) {
        const char *p = set[i];
        if (p[0] == w0[0] && strncmp(p, w0, l0) == 0 && p[l0] == ' ' && strcmp(p + l0 + 1, w1) == 0)
            return true;
    }
    return false;
}

static const word16 auxiliaries[] = {
    "can",      "could",  "do",       "does",      "did",     "is",     "are",    "was",
    "were",     "will",   "would",    "should",    "shall",   "may",    "might",  "have",
    "has",      "am",     "can't",    "don't",     "doesn't", "isn't",  "aren't", "won't",
    "wouldn't", "didn't", "couldn't", "shouldn't", "haven't", "hasn't",
};
static const word16 subjects[] = {
    "you",     "we",     "i",       "it",       "they", "there", "this", "that", "these",
    "those",   "your",   "the",     "a",        "an",   "our",   "my",   "he",   "she",
    "someone", "anyone", "anybody", "somebody", "any",  "their", "his",  "her",  "baton",
};
static const word16 wh_words[] = {"how", "what", "when",  "where", "which",
                                  "who", "whom", "whose", "why"};
static const word16 wh_contracted[] = {"what's", "how's", "where's", "who's",  "when's",
                                       "why's",  "whats", "hows",    "wheres", "whos"};
/* After a question word, these make a question without an auxiliary. */
static const word16 wh_next[] = {"much", "many", "long",    "often",  "soon", "quickly",
                                 "fast", "far",  "big",     "about",  "else", "kind",
                                 "sort", "type", "happens", "exactly"};
static const word16 pronouns[] = {"i", "we", "you", "they", "he", "she", "it", "our", "my"};
/* Openers skipped before the question proper: "Also, can you ...". */
static const word16 openers[] = {
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

/* ASCII bytes are classed here; others go through char_class_of(). */
static void read_opening(const char *s, size_t n, opening *o)
{
    memset(o, 0, sizeof *o);
    size_t i = 0;
    while (i < n && o->count < OPENING_WORDS) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80 && !ascii_word_byte(c)) {
            if (c == ',') o->comma = true;
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t len;
            if (char_class_of(utf8_decode(s + i, n - i, &len)) != CH_WORD) {
                i += len;
                continue;
            }
        }
        size_t j = i;
        bool ascii = true;
        while (j < n) {
            unsigned char b = (unsigned char)s[j];
            if (b < 0x80) {
                if (!ascii_word_byte(b) && b != '\'') break;
                j++;
                continue;
            }
            size_t l2;
            enum char_class c2 = char_class_of(utf8_decode(s + j, n - j, &l2));
            if (c2 != CH_WORD && c2 != CH_APOS) break;
            ascii = false;
            j += l2;
        }
        char *w = o->w[o->count++];
        if (ascii && j - i < sizeof o->w[0]) { /* fold_word() in short: lower case */
            for (size_t k = 0; k < j - i; k++) {
                unsigned char b = (unsigned char)s[i + k];
                w[k] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
            }
            w[j - i] = '\0';
        } else if (fold_word(s + i, j - i, w, sizeof o->w[0]) == sizeof o->w[0]) {
            w[0] = '\0';
        }
        i = j;
    }
    if (!o->comma && i < n) o->comma = memchr(s + i, ',', n - i) != NULL;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

#define BYTE_ONES  UINT64_C(0x0101010101010101)
#define BYTE_HIGHS UINT64_C(0x8080808080808080)

/* The high bit of each byte of v equal to b. Exact up to the lowest such
 * byte (a borrow may mark bytes above it), which is all find_any() reads. */
static inline uint64_t bytes_equal(uint64_t v, unsigned char b)
{
    uint64_t x = v ^ BYTE_ONES * b;
    return (x - BYTE_ONES) & ~x & BYTE_HIGHS;
}

/* The offset of the first byte of s[i, n) that is one of set[0, k), or n.
 * Reading a sentence byte by byte to find its few ends and blanks was most
 * of the cost: this tests eight bytes a step, as memchr() does. */
static inline size_t find_any(const char *s, size_t i, size_t n, const char *set, size_t k)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; i + 8 <= n; i += 8) {
        uint64_t v, hits = 0;
        memcpy(&v, s + i, 8);
        for (size_t b = 0; b < k; b++)
            hits |= bytes_equal(v, (unsigned char)set[b]);
        if (hits) return i + (size_t)__builtin_ctzll(hits) / 8;
    }
#endif
    for (; i < n; i++)
        for (size_t b = 0; b < k; b++)
            if (s[i] == set[b]) return i;
    return n;
}

/* Whether t[0, n), lower-cased as it is read, has an indirect question at
 * the start of a word. */
static bool has_indirect(const char *t, size_t n)
{
    /* A filter on the phrases' first two letters, five bits each: one
     * letter let through common words ("we", "to", "can"), two let through
     * almost none but the phrases' own. */
    uint64_t pairs[1024 / 64] = {0};
    for (size_t k = 0; k < ARRAY_LEN(indirect); k++) {
        unsigned pair = (indirect[k][0] & 31u) << 5 | (indirect[k][1] & 31u);
        pairs[pair / 64] |= UINT64_C(1) << (pair % 64);
    }
    for (size_t i = 0; i < n; i++) { /* i: the start of a word */
        char c = ascii_lower(t[i]);
        unsigned pair = (c & 31u) << 5 | (i + 1 < n ? ascii_lower(t[i + 1]) & 31u : 0);
        if (pairs[pair / 64] >> (pair % 64) & 1)
            for (size_t k = 0; k < ARRAY_LEN(indirect); k++) {
                const char *p = indirect[k];
                if (p[0] != c) continue;
                size_t m = strlen(p);
                if (i + m > n) continue;
                size_t e = 1;
                while (e < m && ascii_lower(t[i + e]) == p[e])
                    e++;
                if (e == m) return true;
            }
        i = find_any(t, i, n, " \n", 2); /* to the blank; i++ passes it */
    }
    return false;
}

/* Whether the sentence's first 160 bytes, folded, hold an indirect question.
 * Folded ASCII is ASCII in lower case, so ASCII is read where it stands. */
static bool asks_indirectly(const char *s, size_t n)
{
    size_t head = n < 160 ? n : 160;
    unsigned char any = 0; /* no early exit: the loop vectorises */
    for (size_t i = 0; i < head; i++)
        any |= (unsigned char)s[i];
    if (any < 0x80) return has_indirect(s, head);
    char buf[352];
    size_t fl = fold_word(s, head, buf, sizeof buf);
    if (fl == sizeof buf) return false;
    return has_indirect(buf, fl);
}

/* Whether the opening, from its word k, is a question's. */
static bool opens_as_question(const opening *o, unsigned k)
{
    const char *w0 = o->w[k], *w1 = k + 1 < o->count ? o->w[k + 1] : no_word,
               *w2 = k + 2 < o->count ? o->w[k + 2] : no_word;
    if (in_two(w0, w1, indirect_start, ARRAY_LEN(indirect_start))) return true;
    if (IN(w0, auxiliaries)) {
        if (o->comma &&
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

/* An indirect question anywhere makes the sentence ask, whatever its
 * opening says: the cheaper opening is read first. */
static bool reads_as_question(const char *s, size_t n)
{
    opening o;
    read_opening(s, n, &o);
    unsigned k = 0;
    while (k + 2 < o.count && k < 4 && IN(o.w[k], openers))
        k++;
    if (k >= o.count) return false;
    return opens_as_question(&o, k) || asks_indirectly(s, n);
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

/* Blanks, line breaks and control characters. */
static bool is_blank_byte(char c)
{
    return (unsigned char)c <= 0x20 || c == 0x7F;
}

/* Whether s[from, to) reads the same collapsed: its blanks are single
 * spaces between other bytes (a blank first would become a space, one last
 * would go). Most questions are, and are then copied in one go. */
static bool collapsed(const char *s, size_t from, size_t to)
{
    bool after_blank = true;
    for (size_t i = from; i < to; i++) {
        bool blank = is_blank_byte(s[i]);
        if (blank && (after_blank || s[i] != ' ')) return false;
        after_blank = blank;
    }
    return !after_blank;
}

/* Copies s[from, to) with each run of blanks and line breaks as one space. */
static size_t copy_collapsed(const char *s, size_t from, size_t to, char *out, size_t cap)
{
    size_t o = 0;
    bool blank = false;
    if (cap && collapsed(s, from, to)) {
        o = to - from < cap - 1 ? to - from : cap - 1;
        memcpy(out, s + from, o);
        from = to; /* the loop below has nothing left to do */
    }
    for (size_t i = from; i < to && cap;) {
        if (is_blank_byte(s[i])) {
            blank = true;
            i++;
            continue;
        }
        if (blank && o + 1 < cap) out[o++] = ' ';
        blank = false;
        if (o + 1 >= cap) break;
        size_t r = i + 1; /* the run of other bytes, copied at once */
        while (r < to && !is_blank_byte(s[r]))
            r++;
        size_t k = r - i < cap - 1 - o ? r - i : cap - 1 - o;
        memcpy(out + o, s + i, k);
        o += k;
        if (k < r - i) break;
        i = r;
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

/* Bytes that may end a sentence within a line: ? ! . and the first of ？. */
#define SENTENCE_ENDS "?!.\xEF"

size_t text_last_question(str text, char *out, size_t cap)
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
        for (size_t j = find_any(s, i, end, SENTENCE_ENDS, 4); j < end;
             j = find_any(s, j + 1, end, SENTENCE_ENDS, 4)) {
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
