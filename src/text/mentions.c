/* `mentions`: phrase lists matched against the buyer's words (R5).
 *
 * Design notes.
 *
 *  1. Words. A message is cut into words (letters and digits of any script,
 *     an apostrophe inside a word kept: "don't"). An elided article or
 *     negation of one or two letters is its own word ("l'approbation" is
 *     "l" + "approbation", "n'avons" is "n" + "avons"). Punctuation and
 *     dashes end a clause; '.', '!', '?' and a blank line end a sentence
 *     ('.' only before a blank, and not after one letter: "e.g."). Lines a
 *     mail reply quotes are skipped (text/fold.c, line_kind_at()).
 *
 *  2. Spellings. Each word has two stemmed spellings, both folded to ASCII
 *     at the end: A stems the lower-case word with its accents, then folds;
 *     B folds first, then stems. Two words are the same when any spelling
 *     of one equals any spelling of the other. A lets the stemmer see the
 *     accents it was written for ("aprobación" and "aprobaciones" share
 *     "aprob"); B matches a buyer who types without them ("securite" and
 *     "sécurité" share "securit"). For ASCII words A and B are one stem.
 *
 *  3. Phrases are prepared once, at contract load: each list item becomes
 *     its words' spellings as ids into one table of stems. An index maps a
 *     stem to the (list, phrase) pairs that start with it (every word of
 *     the phrase, when words may come in any order), so a message costs one
 *     cache probe per word and a look at the few phrases its words start.
 *
 *  4. Matching. In order: the phrase's words are consecutive words of one
 *     clause. Any order: all of them within k + TEXT_ANY_ORDER_SLACK words
 *     of one clause. A match counts unless negation denies it (5); the
 *     first match that counts is recorded for text_mentions_explain().
 *
 *  5. Negation scope, decided within the clause of the match:
 *     - a sentence that asks ('?') denies nothing: "is there no EU region?";
 *     - "yet" in the clause makes it pending, not denied: "we don't have
 *       internal approval yet" is a signal;
 *     - before the phrase: a negator (no, not, never, n't, none, nothing,
 *       neither, nor, nobody; kein, nicht; ne, pas, aucun; no, nunca, ningún;
 *       não, nunca, nenhum) at most TEXT_NEGATION_REACH words back denies it,
 *       unless a scope word stands between them (but, until, unless, before,
 *       without, if, how, what, ...: the phrase is then in another clause,
 *       as in "we can't sign until the security review is done"), the word
 *       after the negator turns it into doubt or emphasis ("not sure", "no
 *       idea", "not only", "don't forget"), an "if" before the negator makes
 *       it a condition ("if there's no security review, ..."), or a modal
 *       negator (can't, won't) waits for an "until" after the phrase ("we
 *       can't start the rollout until training is done");
 *     - after the phrase: up to two auxiliaries then a negator deny it
 *       ("internal approval is not required", "procurement won't be
 *       involved"), except when the phrase follows "without" ("sin
 *       aprobación interna no podemos": the negation is the clause's).
 *     "without" is not a negator: "nothing moves without internal approval"
 *     makes approval a condition, and that is the signal.
 *
 *  6. Memory. Everything is allocated by text_matcher_new(), _add() and
 *     _finish(). text_mentions() writes only the matcher's fixed scratch:
 *     TEXT_MAX_TOKENS words, and a two-way cache from words to their
 *     stems and classes that spares the stemmer the words it has seen. The
 *     stemmer's own buffer is grown once, at creation, to the longest word
 *     it will be given, so stemming never allocates either. */
#include "text/internal.h"

#include <libstemmer.h>
#include <string.h>

/* ---- word classes ------------------------------------------------------------ */

enum {
    W_NEG = 1 << 0,       /* denies what follows it in its clause */
    W_NEG_AFTER = 1 << 1, /* denies a phrase just before it ("migration won't ...") */
    W_MODAL = 1 << 2,     /* can't, won't: a denial that "until" turns into a wait */
    W_EXCEPT = 1 << 3,    /* after a negator, makes it doubt or emphasis */
    W_SCOPE = 1 << 4,     /* starts another clause for negation */
    W_UNTIL = 1 << 5,
    W_YET = 1 << 6,     /* the clause is pending, not denied */
    W_YET_NEG = 1 << 7, /* as W_YET when a negator follows ("noch nicht") */
    W_IF = 1 << 8,
    W_WITHOUT = 1 << 9,
    W_AUX = 1 << 10,  /* may stand between a phrase and its negator */
    W_CONJ = 1 << 11, /* and/or: starts a clause when a pronoun follows */
    W_PRONOUN = 1 << 12,
};

typedef struct class_word {
    const char *word; /* folded */
    uint16_t cls;
} class_word;

#define NEG_BOTH  (W_NEG | W_NEG_AFTER)
#define MODAL_NEG (W_NEG | W_NEG_AFTER | W_MODAL)

/* clang-format off: word tables read better in columns */
static const class_word english[] = {
    {"no", W_NEG},
    {"not", NEG_BOTH},
    {"never", NEG_BOTH},
    {"none", W_NEG},
    {"nothing", W_NEG},
    {"neither", W_NEG},
    {"nor", W_NEG},
    {"nobody", W_NEG},
    {"noone", W_NEG},
    {"nowhere", W_NEG},
    {"cannot", MODAL_NEG},
    {"can't", MODAL_NEG},
    {"cant", MODAL_NEG},
    {"won't", MODAL_NEG},
    {"wont", MODAL_NEG},
    {"couldn't", MODAL_NEG},
    {"couldnt", MODAL_NEG},
    {"wouldn't", MODAL_NEG},
    {"wouldnt", MODAL_NEG},
    {"shouldn't", MODAL_NEG},
    {"shouldnt", MODAL_NEG},
    {"mustn't", MODAL_NEG},
    {"mustnt", MODAL_NEG},
    {"dont", NEG_BOTH},
    {"doesnt", NEG_BOTH},
    {"didnt", NEG_BOTH},
    {"isnt", NEG_BOTH},
    {"arent", NEG_BOTH},
    {"wasnt", NEG_BOTH},
    {"werent", NEG_BOTH},
    {"havent", NEG_BOTH},
    {"hasnt", NEG_BOTH},
    {"hadnt", NEG_BOTH},
    {"aint", NEG_BOTH},
    {"sure", W_EXCEPT},
    {"certain", W_EXCEPT},
    {"clear", W_EXCEPT},
    {"know", W_EXCEPT},
    {"idea", W_EXCEPT},
    {"only", W_EXCEPT},
    {"just", W_EXCEPT | W_AUX},
    {"forget", W_EXCEPT},
    {"doubt", W_EXCEPT},
    {"wait", W_EXCEPT},
    {"hesitate", W_EXCEPT},
    {"mind", W_EXCEPT},
    {"yet", W_YET | W_EXCEPT},
    {"but", W_SCOPE},
    {"however", W_SCOPE},
    {"although", W_SCOPE},
    {"though", W_SCOPE},
    {"whereas", W_SCOPE},
    {"while", W_SCOPE},
    {"because", W_SCOPE},
    {"since", W_SCOPE},
    {"so", W_SCOPE},
    {"until", W_SCOPE | W_UNTIL},
    {"till", W_SCOPE | W_UNTIL},
    {"unless", W_SCOPE | W_UNTIL},
    {"before", W_SCOPE},
    {"after", W_SCOPE},
    {"once", W_SCOPE},
    {"if", W_SCOPE | W_IF},
    {"without", W_SCOPE | W_WITHOUT},
    {"except", W_SCOPE},
    {"how", W_SCOPE},
    {"what", W_SCOPE},
    {"when", W_SCOPE},
    {"where", W_SCOPE},
    {"why", W_SCOPE},
    {"whether", W_SCOPE},
    {"which", W_SCOPE},
    {"who", W_SCOPE},
    {"is", W_AUX},
    {"are", W_AUX},
    {"was", W_AUX},
    {"were", W_AUX},
    {"be", W_AUX},
    {"been", W_AUX},
    {"being", W_AUX},
    {"am", W_AUX},
    {"will", W_AUX},
    {"would", W_AUX},
    {"shall", W_AUX},
    {"should", W_AUX},
    {"can", W_AUX},
    {"could", W_AUX},
    {"may", W_AUX},
    {"might", W_AUX},
    {"must", W_AUX},
    {"has", W_AUX},
    {"have", W_AUX},
    {"had", W_AUX},
    {"do", W_AUX},
    {"does", W_AUX},
    {"did", W_AUX},
    {"really", W_AUX},
    {"currently", W_AUX},
    {"definitely", W_AUX},
    {"actually", W_AUX},
    {"also", W_AUX},
    {"simply", W_AUX},
    {"certainly", W_AUX},
    {"probably", W_AUX},
    {"still", W_AUX},
    {"and", W_CONJ},
    {"or", W_CONJ},
    {"i", W_PRONOUN},
    {"we", W_PRONOUN},
    {"you", W_PRONOUN},
    {"they", W_PRONOUN},
    {"he", W_PRONOUN},
    {"she", W_PRONOUN},
    {"it", W_PRONOUN},
    {"there", W_PRONOUN},
};

static const class_word german[] = {
    {"nicht", NEG_BOTH},
    {"kein", W_NEG},
    {"keine", W_NEG},
    {"keinen", W_NEG},
    {"keinem", W_NEG},
    {"keiner", W_NEG},
    {"keines", W_NEG},
    {"nie", NEG_BOTH},
    {"niemals", NEG_BOTH},
    {"nichts", W_NEG},
    {"weder", W_NEG},
    {"niemand", W_NEG},
    {"nur", W_EXCEPT},
    {"sicher", W_EXCEPT},
    {"klar", W_EXCEPT},
    {"noch", W_YET_NEG},
    {"aber", W_SCOPE},
    {"sondern", W_SCOPE},
    {"jedoch", W_SCOPE},
    {"doch", W_SCOPE},
    {"weil", W_SCOPE},
    {"bis", W_SCOPE | W_UNTIL},
    {"bevor", W_SCOPE},
    {"ohne", W_SCOPE | W_WITHOUT},
    {"ausser", W_SCOPE},
    {"wenn", W_SCOPE | W_IF},
    {"falls", W_SCOPE | W_IF},
    {"ob", W_SCOPE},
    {"wie", W_SCOPE},
    {"wann", W_SCOPE},
    {"warum", W_SCOPE},
    {"ist", W_AUX},
    {"sind", W_AUX},
    {"war", W_AUX},
    {"waren", W_AUX},
    {"wird", W_AUX},
    {"werden", W_AUX},
    {"wurde", W_AUX},
    {"wurden", W_AUX},
    {"ware", W_AUX},
    {"hat", W_AUX},
    {"haben", W_AUX},
    {"muss", W_AUX},
    {"mussen", W_AUX},
    {"kann", W_AUX},
    {"konnen", W_AUX},
    {"soll", W_AUX},
    {"sollte", W_AUX},
    {"derzeit", W_AUX},
    {"wirklich", W_AUX},
    {"und", W_CONJ},
    {"oder", W_CONJ},
    {"ich", W_PRONOUN},
    {"wir", W_PRONOUN},
    {"sie", W_PRONOUN},
    {"er", W_PRONOUN},
    {"es", W_PRONOUN},
};

static const class_word french[] = {
    {"ne", NEG_BOTH},        {"n", NEG_BOTH},
    {"pas", W_NEG},          {"jamais", NEG_BOTH},
    {"aucun", W_NEG},        {"aucune", W_NEG},
    {"rien", W_NEG},         {"ni", W_NEG},
    {"seulement", W_EXCEPT}, {"certain", W_EXCEPT},
    {"certaine", W_EXCEPT},  {"encore", W_YET},
    {"mais", W_SCOPE},       {"cependant", W_SCOPE},
    {"pourtant", W_SCOPE},   {"car", W_SCOPE},
    {"parce", W_SCOPE},      {"jusqu", W_SCOPE | W_UNTIL},
    {"avant", W_SCOPE},      {"sans", W_SCOPE | W_WITHOUT},
    {"sauf", W_SCOPE},       {"si", W_SCOPE | W_IF},
    {"quand", W_SCOPE},      {"comment", W_SCOPE},
    {"pourquoi", W_SCOPE},   {"lorsque", W_SCOPE},
    {"est", W_AUX},          {"sont", W_AUX},
    {"etait", W_AUX},        {"sera", W_AUX},
    {"seront", W_AUX},       {"serait", W_AUX},
    {"ont", W_AUX},          {"avait", W_AUX},
    {"doit", W_AUX},         {"peut", W_AUX},
    {"et", W_CONJ},          {"ou", W_CONJ},
    {"je", W_PRONOUN},       {"nous", W_PRONOUN},
    {"vous", W_PRONOUN},     {"ils", W_PRONOUN},
    {"elles", W_PRONOUN},    {"il", W_PRONOUN},
    {"elle", W_PRONOUN},     {"on", W_PRONOUN},
};

static const class_word spanish[] = {
    {"no", NEG_BOTH},        {"nunca", NEG_BOTH},
    {"jamas", NEG_BOTH},     {"ningun", W_NEG},
    {"ninguna", W_NEG},      {"ninguno", W_NEG},
    {"nada", W_NEG},         {"ni", W_NEG},
    {"nadie", W_NEG},        {"tampoco", W_NEG},
    {"solo", W_EXCEPT},      {"seguro", W_EXCEPT},
    {"segura", W_EXCEPT},    {"todavia", W_YET},
    {"aun", W_YET},          {"pero", W_SCOPE},
    {"sino", W_SCOPE},       {"aunque", W_SCOPE},
    {"porque", W_SCOPE},     {"hasta", W_SCOPE | W_UNTIL},
    {"antes", W_SCOPE},      {"sin", W_SCOPE | W_WITHOUT},
    {"salvo", W_SCOPE},      {"si", W_SCOPE | W_IF},
    {"cuando", W_SCOPE},     {"como", W_SCOPE},
    {"es", W_AUX},           {"son", W_AUX},
    {"era", W_AUX},          {"sera", W_AUX},
    {"esta", W_AUX},         {"estan", W_AUX},
    {"ha", W_AUX},           {"han", W_AUX},
    {"seria", W_AUX},        {"puede", W_AUX},
    {"y", W_CONJ},           {"o", W_CONJ},
    {"yo", W_PRONOUN},       {"nosotros", W_PRONOUN},
    {"nosotras", W_PRONOUN}, {"ellos", W_PRONOUN},
    {"ellas", W_PRONOUN},    {"usted", W_PRONOUN},
};

static const class_word portuguese[] = {
    {"nao", NEG_BOTH},
    {"nunca", NEG_BOTH},
    {"jamais", NEG_BOTH},
    {"nenhum", W_NEG},
    {"nenhuma", W_NEG},
    {"nada", W_NEG},
    {"nem", W_NEG},
    {"ninguem", W_NEG},
    {"so", W_EXCEPT},
    {"certeza", W_EXCEPT},
    {"ainda", W_YET},
    {"mas", W_SCOPE},
    {"porem", W_SCOPE},
    {"contudo", W_SCOPE},
    {"embora", W_SCOPE},
    {"porque", W_SCOPE},
    {"ate", W_SCOPE | W_UNTIL},
    {"antes", W_SCOPE},
    {"sem", W_SCOPE | W_WITHOUT},
    {"salvo", W_SCOPE},
    {"se", W_SCOPE | W_IF},
    {"quando", W_SCOPE},
    {"como", W_SCOPE},
    {"sera", W_AUX},
    {"esta", W_AUX},
    {"estao", W_AUX},
    {"foi", W_AUX},
    {"tem", W_AUX},
    {"pode", W_AUX},
    {"e", W_CONJ},
    {"ou", W_CONJ},
    {"eu", W_PRONOUN},
    {"nos", W_PRONOUN},
    {"eles", W_PRONOUN},
    {"elas", W_PRONOUN},
    {"voce", W_PRONOUN},
};

/* Negation and scope words are known for these languages; English ones
 * apply in every contract, since buyers often write English anyway. */
static const struct {
    const char *names[4]; /* libstemmer's name and its aliases */
    const class_word *words;
    size_t count;
} class_tables[] = {
    {{"german", "de", "deu", "ger"}, german, ARRAY_LEN(german)},
    {{"french", "fr", "fra", "fre"}, french, ARRAY_LEN(french)},
    {{"spanish", "es", "spa", NULL}, spanish, ARRAY_LEN(spanish)},
    {{"portuguese", "pt", "por", NULL}, portuguese, ARRAY_LEN(portuguese)},
};
/* clang-format on */

#define CLASS_SLOTS 512 /* a power of two, over twice the words of two tables */

/* ---- the matcher ---------------------------------------------------------------- */

enum { BRK_NONE, BRK_CLAUSE, BRK_SENTENCE };

#define FOLDED_MAX (2 * TEXT_MAX_WORD + 8) /* folding at most doubles a word ("ß": "ss") */

typedef struct token {
    uint32_t start, len; /* bytes in the message */
    int32_t a, b;        /* stem ids of the two spellings; -1: in no phrase */
    uint16_t cls;
    uint8_t brk;   /* what ends before this word */
    bool question; /* its sentence ends in '?' */
} token;

typedef struct prepared {
    const char *text;
    uint32_t words;
    int32_t a[TEXT_MAX_PHRASE_WORDS], b[TEXT_MAX_PHRASE_WORDS];
} prepared;

typedef struct plist {
    uint32_t first, count; /* phrases[first .. first + count) */
} plist;

typedef struct entry {
    uint32_t list, phrase;
} entry;

/* A word seen before: its classes and stem ids. The cache is two-way: a
 * word may sit in either slot of the pair its hash picks, so two common
 * words that share a pair do not keep evicting each other. A word is kept
 * zero-padded to CACHE_WORD bytes, so that comparing two is three 8-byte
 * compares whatever their length (a word holds no NUL byte). */
#define CACHE_SLOTS 4096 /* a power of two: CACHE_SLOTS / 2 pairs */
#define CACHE_WORD  24
typedef struct cache_slot {
    char word[CACHE_WORD]; /* lower case, accents kept, zero-padded; all zero: empty */
    uint16_t cls;
    int32_t a, b;
} cache_slot;

struct text_matcher {
    struct sb_stemmer *stemmer;
    bool any_order;

    /* word classes: open addressing over folded words */
    const char *class_word[CLASS_SLOTS];
    uint16_t class_bits[CLASS_SLOTS];

    /* stems of phrase words */
    char *pool;
    uint32_t pool_len, pool_cap;
    uint32_t *stem_at; /* offset of stem i in pool (NUL-terminated) */
    uint32_t stem_count, stem_cap;
    int32_t *stem_slots; /* open addressing: stem id or -1 */
    uint32_t stem_mask;

    prepared *phrases;
    uint32_t phrase_count, phrase_cap;
    plist *lists;
    uint32_t list_count, list_cap;
    uint32_t *index_first; /* stem id -> first entry; stem_count + 1 of them */
    entry *index;

    /* scratch: the last message read */
    const char *text;
    uint32_t text_len;
    uint64_t text_hash;
    uint32_t ntok;
    token toks[TEXT_MAX_TOKENS];
    cache_slot cache[CACHE_SLOTS];

    /* the last match */
    const char *hit_phrase;
    str hit_sentence;
};

bool text_language_known(const char *language)
{
    struct sb_stemmer *s = language ? sb_stemmer_new(language, NULL) : NULL;
    sb_stemmer_delete(s);
    return s != NULL;
}

const char **text_languages(void)
{
    return sb_stemmer_list();
}

static uint32_t hash32(const char *s, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static void class_add(text_matcher *m, const class_word *w)
{
    uint32_t i = hash32(w->word, strlen(w->word)) & (CLASS_SLOTS - 1);
    while (m->class_word[i] && strcmp(m->class_word[i], w->word) != 0)
        i = (i + 1) & (CLASS_SLOTS - 1);
    m->class_word[i] = w->word;
    m->class_bits[i] |= w->cls;
}

static uint16_t class_of(const text_matcher *m, const char *folded, size_t n)
{
    uint32_t i = hash32(folded, n) & (CLASS_SLOTS - 1);
    uint16_t cls = 0;
    for (; m->class_word[i]; i = (i + 1) & (CLASS_SLOTS - 1))
        if (strlen(m->class_word[i]) == n && memcmp(m->class_word[i], folded, n) == 0) {
            cls = m->class_bits[i];
            break;
        }
    /* English contractions: "doesn't", "isn't", "haven't" */
    if (n > 3 && memcmp(folded + n - 3, "n't", 3) == 0) cls |= NEG_BOTH;
    return cls;
}

text_matcher *text_matcher_new(const char *language, bool any_order)
{
    if (!language) language = "english";
    text_matcher *m = mem_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->any_order = any_order;
    m->stemmer = sb_stemmer_new(language, NULL);
    m->stem_cap = 64;
    m->stem_mask = 255;
    m->pool_cap = 1024;
    m->stem_at = mem_alloc(m->stem_cap * sizeof *m->stem_at);
    m->stem_slots = mem_alloc((m->stem_mask + 1) * sizeof *m->stem_slots);
    m->pool = mem_alloc(m->pool_cap);
    if (!m->stemmer || !m->stem_at || !m->stem_slots || !m->pool) {
        text_matcher_free(m);
        return NULL;
    }
    memset(m->stem_slots, 0xFF, (m->stem_mask + 1) * sizeof *m->stem_slots);
    for (size_t i = 0; i < ARRAY_LEN(english); i++)
        class_add(m, &english[i]);
    for (size_t t = 0; t < ARRAY_LEN(class_tables); t++)
        for (size_t k = 0; k < ARRAY_LEN(class_tables[t].names) && class_tables[t].names[k]; k++)
            if (strcmp(language, class_tables[t].names[k]) == 0) {
                for (size_t i = 0; i < class_tables[t].count; i++)
                    class_add(m, &class_tables[t].words[i]);
                break;
            }
    /* Grow the stemmer's buffer now to the longest word it will be given (a
     * word of TEXT_MAX_WORD bytes, folded: "ß" becomes "ss"), so no later
     * call allocates. */
    char longest[FOLDED_MAX];
    memset(longest, 'a', sizeof longest);
    if (!sb_stemmer_stem(m->stemmer, (const sb_symbol *)longest, (int)sizeof longest)) {
        text_matcher_free(m);
        return NULL;
    }
    m->text_hash = 0;
    return m;
}

void text_matcher_free(text_matcher *m)
{
    if (!m) return;
    sb_stemmer_delete(m->stemmer);
    mem_free(m->pool);
    mem_free(m->stem_at);
    mem_free(m->stem_slots);
    mem_free(m->phrases);
    mem_free(m->lists);
    mem_free(m->index_first);
    mem_free(m->index);
    mem_free(m);
}

/* ---- stems ------------------------------------------------------------------------ */

static int32_t stem_find(const text_matcher *m, const char *s, size_t n)
{
    for (uint32_t i = hash32(s, n) & m->stem_mask;; i = (i + 1) & m->stem_mask) {
        int32_t id = m->stem_slots[i];
        if (id < 0) return -1;
        const char *t = m->pool + m->stem_at[id];
        if (strlen(t) == n && memcmp(t, s, n) == 0) return id;
    }
}

/* The id of a stem, added when new; -1 when memory ran out. */
static int32_t stem_intern(text_matcher *m, const char *s, size_t n)
{
    int32_t id = stem_find(m, s, n);
    if (id >= 0) return id;
    if ((m->stem_count + 1) * 2 > m->stem_mask + 1) { /* keep the table at most half full */
        uint32_t slots = (m->stem_mask + 1) * 2;
        int32_t *t = mem_alloc(slots * sizeof *t);
        if (!t) return -1;
        memset(t, 0xFF, slots * sizeof *t);
        for (uint32_t k = 0; k < m->stem_count; k++) {
            const char *p = m->pool + m->stem_at[k];
            uint32_t i = hash32(p, strlen(p)) & (slots - 1);
            while (t[i] >= 0)
                i = (i + 1) & (slots - 1);
            t[i] = (int32_t)k;
        }
        mem_free(m->stem_slots);
        m->stem_slots = t;
        m->stem_mask = slots - 1;
    }
    if (m->stem_count == m->stem_cap) {
        uint32_t *at = mem_realloc(m->stem_at, 2 * m->stem_cap * sizeof *at);
        if (!at) return -1;
        m->stem_at = at;
        m->stem_cap *= 2;
    }
    if (m->pool_len + n + 1 > m->pool_cap) {
        uint32_t cap = m->pool_cap;
        while (m->pool_len + n + 1 > cap)
            cap *= 2;
        char *p = mem_realloc(m->pool, cap);
        if (!p) return -1;
        m->pool = p;
        m->pool_cap = cap;
    }
    memcpy(m->pool + m->pool_len, s, n);
    m->pool[m->pool_len + n] = '\0';
    id = (int32_t)m->stem_count++;
    m->stem_at[id] = m->pool_len;
    m->pool_len += (uint32_t)n + 1;
    uint32_t i = hash32(s, n) & m->stem_mask;
    while (m->stem_slots[i] >= 0)
        i = (i + 1) & m->stem_mask;
    m->stem_slots[i] = id;
    return id;
}

/* A word's two spellings (note 2), each folded to ASCII, and its classes.
 * `lower` is the word in lower case, n bytes. False when a spelling does
 * not fit its buffer. */
typedef struct spellings {
    char a[FOLDED_MAX], b[FOLDED_MAX];
    size_t alen, blen;
    uint16_t cls;
} spellings;

static bool spell(const text_matcher *m, const char *lower, size_t n, spellings *sp)
{
    char folded[FOLDED_MAX];
    size_t fl = fold_word(lower, n, folded, sizeof folded);
    if (fl == sizeof folded) return false;
    sp->cls = class_of(m, folded, fl);
    const sb_symbol *st = sb_stemmer_stem(m->stemmer, (const sb_symbol *)lower, (int)n);
    if (!st) return false;
    sp->alen =
        fold_word((const char *)st, (size_t)sb_stemmer_length(m->stemmer), sp->a, sizeof sp->a);
    if (sp->alen == sizeof sp->a) return false;
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++)
        ascii = (unsigned char)lower[i] < 0x80;
    if (ascii) {
        memcpy(sp->b, sp->a, sp->alen + 1);
        sp->blen = sp->alen;
        return true;
    }
    st = sb_stemmer_stem(m->stemmer, (const sb_symbol *)folded, (int)fl);
    if (!st) return false;
    int sl = sb_stemmer_length(m->stemmer);
    if ((size_t)sl >= sizeof sp->b) return false;
    memcpy(sp->b, st, (size_t)sl);
    sp->b[sl] = '\0';
    sp->blen = (size_t)sl;
    return true;
}

/* ---- reading a message ----------------------------------------------------------- */

/* Abbreviations whose '.' ends no sentence, zero-padded to ABBREV_BYTES so
 * that a word is compared with each in one 8-byte compare. */
#define ABBREV_BYTES 8
static const char abbreviations[][ABBREV_BYTES] = {
    "etc", "vs",   "mr",   "mrs", "ms", "dr", "inc", "ltd", "approx", "incl", "st", "jr", "sr",
    "co",  "corp", "dept", "no",  "nr", "ca", "bzw", "usw", "z",      "b",    "u",  "a"};

static bool abbreviation(const char *s, size_t n)
{
    if (n == 1) return true; /* "e.g.", "i.e.", initials */
    if (n >= ABBREV_BYTES) return false;
    char key[ABBREV_BYTES] = {0};
    for (size_t j = 0; j < n; j++)
        key[j] = (char)(s[j] | 0x20); /* never 0, so a shorter abbreviation differs */
    for (size_t i = 0; i < ARRAY_LEN(abbreviations); i++)
        if (memcmp(key, abbreviations[i], ABBREV_BYTES) == 0) return true;
    return false;
}

/* The pair of cache slots for a word zero-padded to CACHE_WORD bytes: a
 * hash of its three 8-byte words, not of its bytes one at a time. */
static cache_slot *cache_pair(text_matcher *m, const char *word)
{
    uint64_t w[3];
    _Static_assert(sizeof w == CACHE_WORD, "a cached word is three 8-byte words");
    memcpy(w, word, sizeof w);
    uint64_t h =
        (w[0] ^ w[1] * 0x9E3779B97F4A7C15u ^ w[2] * 0xC2B2AE3D27D4EB4Fu) * 0xD6E8FEB86659FD93u;
    return &m->cache[(h >> 32) & (CACHE_SLOTS - 2)];
}

/* A word the cache does not hold: stemmed, and kept in the first slot of
 * its pair when it has one. Out of line, so that the hits in
 * look_up_lower() save no registers for it. */
static __attribute__((noinline)) void look_up_miss(text_matcher *m, token *t, const char *lower,
                                                   size_t n, cache_slot *pair)
{
    spellings sp;
    if (!spell(m, lower, n, &sp)) return;
    t->cls = sp.cls;
    t->a = stem_find(m, sp.a, sp.alen);
    t->b =
        sp.blen == sp.alen && memcmp(sp.a, sp.b, sp.alen) == 0 ? t->a : stem_find(m, sp.b, sp.blen);
    if (pair) { /* the newest word first; the older one moves to the second slot */
        pair[1] = pair[0];
        cache_slot *slot = &pair[0];
        memcpy(slot->word, lower, CACHE_WORD);
        slot->a = t->a;
        slot->b = t->b;
        slot->cls = t->cls;
    }
}

/* One word of a message, `lower` in lower case (n bytes, zero-padded to at
 * least CACHE_WORD bytes when shorter): its classes and stem ids, from the
 * cache or the stemmer. */
static inline void look_up_lower(text_matcher *m, token *t, const char *lower, size_t n)
{
    t->a = t->b = -1;
    t->cls = 0;
    cache_slot *pair = NULL;
    if (n < CACHE_WORD) {
        pair = cache_pair(m, lower);
        for (int w = 0; w < 2; w++)
            if (memcmp(pair[w].word, lower, CACHE_WORD) == 0) {
                t->a = pair[w].a;
                t->b = pair[w].b;
                t->cls = pair[w].cls;
                return;
            }
    }
    look_up_miss(m, t, lower, n, pair);
}

/* A word plain_word() did not read. Words that are too long keep -1 ids
 * and no class. */
static void look_up(text_matcher *m, token *t, const char *s)
{
    char lower[TEXT_MAX_WORD + 1] = {0};
    size_t n = lower_word(s + t->start, t->len, lower, sizeof lower);
    if (n == sizeof lower) {
        t->a = t->b = -1;
        t->cls = 0;
        return;
    }
    look_up_lower(m, t, lower, n);
}

/* ASCII letters and digits in lower case, 0 for every other byte: one load
 * tells the tokeniser both whether a byte belongs to the word and what to
 * write for it. */
/* clang-format off */
static const char ascii_word_lower[256] = {
    ['0'] = '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
    ['A'] = 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
            'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
    ['a'] = 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
            'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z',
};
/* clang-format on */

/* Most words are ASCII letters and digits ended by a blank or a mark, and
 * are read here in one pass that also lowers them, with no call. The word
 * at s[i] (an ASCII letter or digit) is written in lower case to `lower`
 * (TEXT_MAX_WORD + 1 bytes), zero-padded to CACHE_WORD; returns its
 * length, or 0 when it is longer than TEXT_MAX_WORD or goes on with an
 * apostrophe or a non-ASCII character: word_end() reads those. */
static size_t plain_word(const char *s, size_t n, size_t i, char *lower)
{
    memset(lower, 0, CACHE_WORD);
    size_t limit = n - i <= TEXT_MAX_WORD ? n : i + TEXT_MAX_WORD, j = i;
    char c;
    while (j < limit && (c = ascii_word_lower[(unsigned char)s[j]]) != 0)
        lower[j++ - i] = c;
    if (j < n) {
        unsigned char next = (unsigned char)s[j];
        if (next >= 0x80 || next == '\'' || ascii_word_lower[next]) return 0;
    }
    return j - i;
}

/* Where the word starting at s[i] ends: letters, digits, and apostrophes
 * between them. */
/* The class of the character at s[i] (i < n), its length in *len; ASCII
 * without a call. */
static enum char_class class_at(const char *s, size_t n, size_t i, size_t *len)
{
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) {
        *len = 1;
        if (ascii_word_byte(c)) return CH_WORD;
        if (c == ' ') return CH_SPACE;
        return char_class_of(c);
    }
    return char_class_of(utf8_decode(s + i, n - i, len));
}

static size_t word_end(const char *s, size_t n, size_t i, size_t *apostrophe)
{
    *apostrophe = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (ascii_word_byte(c)) {
            i++;
            continue;
        }
        if (c < 0x80 && c != '\'') break; /* a blank or a mark */
        size_t len;
        enum char_class cc = class_at(s, n, i, &len);
        if (cc == CH_WORD) {
            i += len;
            continue;
        }
        if (cc != CH_APOS || i + len >= n) break;
        size_t next;
        if (class_at(s, n, i + len, &next) != CH_WORD) break;
        if (!*apostrophe) *apostrophe = i;
        i += len;
    }
    return i;
}

/* Splits `s` into m->toks (note 1); `phrase` reads a list item (no quoted
 * lines, no stemming: the caller does that). */
static void tokenise(text_matcher *m, const char *s, size_t n, bool phrase)
{
    uint32_t nt = 0, sentence_first = 0;
    uint8_t brk = BRK_SENTENCE;
    unsigned newlines = 0;
    bool line_start = !phrase;
    size_t i = 0;
    while (i < n && nt < TEXT_MAX_TOKENS) {
        if (line_start) {
            size_t end;
            enum line_kind k = line_kind_at(s, n, i, &end);
            if (k == LINE_REST_QUOTED) break;
            if (k == LINE_QUOTED) {
                brk = BRK_SENTENCE;
                i = end < n ? end + 1 : n;
                continue;
            }
            line_start = false;
        }
        size_t len = 1;
        unsigned char byte = (unsigned char)s[i];
        uint32_t cp = byte < 0x80 ? byte : utf8_decode(s + i, n - i, &len);
        enum char_class cc = ascii_word_byte(byte) ? CH_WORD
                             : byte == ' '         ? CH_SPACE
                                                   : char_class_of(cp);
        if (cc != CH_WORD) {
            i += len;
            switch (cc) {
            case CH_NEWLINE:
                if (++newlines >= 2) brk = BRK_SENTENCE;
                line_start = !phrase;
                break;
            case CH_SPACE: break;
            case CH_CLAUSE:
                newlines = 0;
                if (brk < BRK_CLAUSE) brk = BRK_CLAUSE;
                break;
            case CH_SENTENCE: {
                newlines = 0;
                uint8_t ends = BRK_SENTENCE;
                if (cp == '.') {
                    size_t next_len;
                    bool before_word = i < n && class_at(s, n, i, &next_len) == CH_WORD;
                    const token *prev = nt ? &m->toks[nt - 1] : NULL;
                    if (before_word)
                        ends = BRK_NONE; /* "acme.com", "2.5" */
                    else if (prev && prev->start + prev->len == i - 1 &&
                             abbreviation(s + prev->start, prev->len))
                        ends = BRK_CLAUSE;
                }
                if (ends > brk) brk = ends;
                if (ends == BRK_SENTENCE && cp != '.' && cp != '!' && cp != 0x3002 &&
                    cp != 0xFF01 && cp != 0x203C)
                    for (uint32_t k = sentence_first; k < nt; k++)
                        m->toks[k].question = true;
                break;
            }
            default: newlines = 0; break;
            }
            continue;
        }
        newlines = 0;
        char lower[TEXT_MAX_WORD + 1];
        size_t plain = plain_word(s, n, i, lower);
        if (plain) {
            token *t = &m->toks[nt];
            if (brk == BRK_SENTENCE) sentence_first = nt;
            *t = (token){.start = (uint32_t)i, .len = (uint32_t)plain, .brk = brk};
            if (!phrase) look_up_lower(m, t, lower, plain);
            nt++;
            brk = BRK_NONE;
            i += plain;
            if (i < n && s[i] == ' ') i++; /* a blank changes nothing: spare it a turn */
            continue;
        }
        size_t apostrophe;
        size_t end = word_end(s, n, i, &apostrophe);
        /* An elided article or negation: "l'", "d'", "n'", "qu'". */
        if (apostrophe && apostrophe - i <= 2 && nt + 1 < TEXT_MAX_TOKENS) {
            token *t = &m->toks[nt];
            if (brk == BRK_SENTENCE) sentence_first = nt;
            *t = (token){.start = (uint32_t)i, .len = (uint32_t)(apostrophe - i), .brk = brk};
            if (!phrase) look_up(m, t, s);
            nt++;
            brk = BRK_NONE;
            size_t alen;
            utf8_decode(s + apostrophe, n - apostrophe, &alen);
            i = apostrophe + alen;
        }
        token *t = &m->toks[nt];
        if (brk == BRK_SENTENCE) sentence_first = nt;
        *t = (token){.start = (uint32_t)i, .len = (uint32_t)(end - i), .brk = brk};
        if (!phrase) look_up(m, t, s);
        nt++;
        brk = BRK_NONE;
        i = end;
    }
    m->ntok = nt;
}

/* ---- phrase lists ------------------------------------------------------------------- */

enum text_phrase_error text_matcher_add(text_matcher *m, const char *const *phrases, uint32_t count,
                                        uint32_t *list, uint32_t *bad)
{
    *bad = 0;
    if (m->list_count == m->list_cap) {
        uint32_t cap = m->list_cap ? 2 * m->list_cap : 8;
        plist *l = mem_realloc(m->lists, cap * sizeof *l);
        if (!l) return TEXT_PHRASE_NOMEM;
        m->lists = l;
        m->list_cap = cap;
    }
    if (m->phrase_count + count > m->phrase_cap) {
        uint32_t cap = m->phrase_cap ? m->phrase_cap : 16;
        while (cap < m->phrase_count + count)
            cap *= 2;
        prepared *p = mem_realloc(m->phrases, cap * sizeof *p);
        if (!p) return TEXT_PHRASE_NOMEM;
        m->phrases = p;
        m->phrase_cap = cap;
    }
    uint32_t first = m->phrase_count;
    for (uint32_t i = 0; i < count; i++) {
        *bad = i;
        const char *text = phrases[i];
        size_t n = strlen(text);
        tokenise(m, text, n, true);
        if (m->ntok == 0) return TEXT_PHRASE_EMPTY;
        if (m->ntok > TEXT_MAX_PHRASE_WORDS) return TEXT_PHRASE_TOO_LONG;
        prepared *p = &m->phrases[first + i];
        p->text = text;
        p->words = m->ntok;
        for (uint32_t w = 0; w < p->words; w++) {
            char lower[TEXT_MAX_WORD + 1];
            size_t len = lower_word(text + m->toks[w].start, m->toks[w].len, lower, sizeof lower);
            spellings sp;
            if (len == sizeof lower || !spell(m, lower, len, &sp)) return TEXT_PHRASE_LONG_WORD;
            p->a[w] = stem_intern(m, sp.a, sp.alen);
            p->b[w] = stem_intern(m, sp.b, sp.blen);
            if (p->a[w] < 0 || p->b[w] < 0) return TEXT_PHRASE_NOMEM;
        }
    }
    m->phrase_count = first + count;
    m->lists[m->list_count] = (plist){first, count};
    *list = m->list_count++;
    m->ntok = 0;
    m->text = NULL; /* the scratch held a phrase, not a message */
    return TEXT_PHRASE_OK;
}

/* Calls fn for each stem a phrase is indexed under (note 3). */
static uint32_t phrase_keys(const text_matcher *m, const prepared *p, int32_t *keys)
{
    uint32_t n = 0, words = m->any_order ? p->words : 1;
    for (uint32_t w = 0; w < words; w++) {
        int32_t both[2] = {p->a[w], p->b[w]};
        for (int k = 0; k < 2; k++) {
            bool seen = false;
            for (uint32_t j = 0; j < n && !seen; j++)
                seen = keys[j] == both[k];
            if (!seen) keys[n++] = both[k];
        }
    }
    return n;
}

bool text_matcher_finish(text_matcher *m)
{
    mem_free(m->index_first);
    mem_free(m->index);
    m->index = NULL;
    m->index_first = mem_calloc(m->stem_count + 1, sizeof *m->index_first);
    if (!m->index_first) return false;
    int32_t keys[2 * TEXT_MAX_PHRASE_WORDS];
    uint32_t total = 0;
    for (uint32_t p = 0; p < m->phrase_count; p++) {
        uint32_t k = phrase_keys(m, &m->phrases[p], keys);
        for (uint32_t j = 0; j < k; j++)
            m->index_first[keys[j] + 1]++;
        total += k;
    }
    for (uint32_t s = 0; s < m->stem_count; s++)
        m->index_first[s + 1] += m->index_first[s];
    m->index = mem_alloc((total ? total : 1) * sizeof *m->index);
    uint32_t *fill = mem_alloc((m->stem_count ? m->stem_count : 1) * sizeof *fill);
    if (!m->index || !fill) {
        mem_free(fill);
        return false;
    }
    memcpy(fill, m->index_first, m->stem_count * sizeof *fill);
    for (uint32_t l = 0; l < m->list_count; l++)
        for (uint32_t p = m->lists[l].first; p < m->lists[l].first + m->lists[l].count; p++) {
            uint32_t k = phrase_keys(m, &m->phrases[p], keys);
            for (uint32_t j = 0; j < k; j++)
                m->index[fill[keys[j]]++] = (entry){l, p};
        }
    mem_free(fill);
    return true;
}

/* ---- matching ------------------------------------------------------------------------ */

static bool same_word(const token *t, const prepared *p, uint32_t w)
{
    return (t->a >= 0 && (t->a == p->a[w] || t->a == p->b[w])) ||
           (t->b >= 0 && (t->b == p->a[w] || t->b == p->b[w]));
}

/* The phrase at token i: sets the first and last token of the match. */
static bool match_at(const text_matcher *m, const prepared *p, uint32_t i, uint32_t *first,
                     uint32_t *last)
{
    const token *t = m->toks;
    if (!m->any_order || p->words == 1) {
        if (i + p->words > m->ntok) return false;
        for (uint32_t w = 0; w < p->words; w++)
            if ((w > 0 && t[i + w].brk) || !same_word(&t[i + w], p, w)) return false;
        *first = i;
        *last = i + p->words - 1;
        return true;
    }
    uint32_t end = i + p->words + TEXT_ANY_ORDER_SLACK; /* one past the window */
    if (end > m->ntok) end = m->ntok;
    for (uint32_t k = i + 1; k < end; k++)
        if (t[k].brk) {
            end = k;
            break;
        }
    uint32_t used = 0, lo = UINT32_MAX, hi = 0; /* the window is at most 10 words */
    for (uint32_t w = 0; w < p->words; w++) {
        uint32_t k = i;
        while (k < end && ((used >> (k - i)) & 1 || !same_word(&t[k], p, w)))
            k++;
        if (k == end) return false;
        used |= 1u << (k - i);
        if (k < lo) lo = k;
        if (k > hi) hi = k;
    }
    *first = lo;
    *last = hi;
    return true;
}

/* Whether negation denies the words first..last (note 5). */
static bool denied(const text_matcher *m, uint32_t first, uint32_t last)
{
    const token *t = m->toks;
    if (t[first].question) return false;
    uint32_t start = first, end = last; /* the clause */
    while (start > 0 && !t[start].brk)
        start--;
    while (end + 1 < m->ntok && !t[end + 1].brk)
        end++;
    for (uint32_t k = start; k <= end; k++)
        if ((t[k].cls & W_YET) || (k < end && (t[k].cls & W_YET_NEG) && (t[k + 1].cls & W_NEG)))
            return false;

    /* before the phrase */
    for (uint32_t j = first; j > start && first - j < TEXT_NEGATION_REACH;) {
        j--;
        uint16_t c = t[j].cls;
        if (c & W_SCOPE) break;
        if ((c & W_CONJ) && (t[j + 1].cls & W_PRONOUN)) break;
        if (!(c & W_NEG)) continue;
        for (uint32_t k = j + 1; k < first && k <= j + 2; k++)
            if (t[k].cls & W_EXCEPT) return false;
        for (uint32_t k = start; k < j; k++)
            if (t[k].cls & W_IF) return false;
        if (c & W_MODAL)
            for (uint32_t k = last + 1; k <= end; k++)
                if (t[k].cls & W_UNTIL) return false;
        return true;
    }

    /* after it */
    if ((first > start && (t[first - 1].cls & W_WITHOUT)) ||
        (first > start + 1 && (t[first - 2].cls & W_WITHOUT)))
        return false;
    uint32_t aux = 0;
    for (uint32_t k = last + 1; k <= end; k++) {
        uint16_t c = t[k].cls;
        if ((c & W_NEG_AFTER) || ((c & W_NEG) && aux > 0)) {
            for (uint32_t e = k + 1; e <= end && e <= k + 2; e++)
                if (t[e].cls & W_EXCEPT) return false;
            return true;
        }
        if (!(c & W_AUX) || ++aux > 2) break;
    }
    return false;
}

/* The sentence around tokens first..last, trimmed. */
static str sentence_of(const text_matcher *m, uint32_t first, uint32_t last)
{
    const token *t = m->toks;
    while (first > 0 && t[first].brk != BRK_SENTENCE)
        first--;
    while (last + 1 < m->ntok && t[last + 1].brk != BRK_SENTENCE)
        last++;
    size_t from = t[first].start, to = t[last].start + t[last].len;
    /* opening marks just before the first word: ¿ " ( */
    while (from > 0) {
        size_t k = from - 1;
        while (k > 0 && ((unsigned char)m->text[k] & 0xC0) == 0x80)
            k--;
        size_t len;
        enum char_class cc = char_class_of(utf8_decode(m->text + k, m->text_len - k, &len));
        if (cc != CH_CLAUSE && cc != CH_APOS) break;
        from = k;
    }
    /* closing marks after the last word: ? . ! " ) */
    while (to < m->text_len) {
        size_t len;
        enum char_class cc = char_class_of(utf8_decode(m->text + to, m->text_len - to, &len));
        if (cc != CH_SENTENCE && cc != CH_CLAUSE && cc != CH_APOS) break;
        to += len;
    }
    str r = {m->text + from, (uint32_t)(to - from)};
    return r;
}

/* text_mentions() for a message with words: out of line, so that the many
 * calls with no text (a contract forgetting its last find) return without
 * saving the registers this one needs. */
static __attribute__((noinline)) bool find_mention(text_matcher *m, uint32_t list, str text)
{
    /* A contract may test one message against several lists: read it once. */
    uint64_t h = hash_bytes(text.s, text.len);
    if (m->text != text.s || m->text_len != text.len || m->text_hash != h) {
        m->text = text.s;
        m->text_len = text.len;
        m->text_hash = h;
        tokenise(m, text.s, text.len, false);
    }
    for (uint32_t i = 0; i < m->ntok; i++) {
        const token *t = &m->toks[i];
        if ((t->a & t->b) < 0) continue; /* both -1: in no phrase, as most words */
        int32_t ids[2] = {t->a, t->b};
        for (int k = 0; k < (t->a == t->b ? 1 : 2); k++) {
            if (ids[k] < 0) continue;
            for (uint32_t e = m->index_first[ids[k]]; e < m->index_first[ids[k] + 1]; e++) {
                if (m->index[e].list != list) continue;
                const prepared *p = &m->phrases[m->index[e].phrase];
                uint32_t first, last;
                if (!match_at(m, p, i, &first, &last) || denied(m, first, last)) continue;
                m->hit_phrase = p->text;
                m->hit_sentence = sentence_of(m, first, last);
                return true;
            }
        }
    }
    return false;
}

bool text_mentions(text_matcher *m, uint32_t list, str text)
{
    if (!m) return false;
    m->hit_phrase = NULL;
    m->hit_sentence = (str){NULL, 0};
    if (list >= m->list_count || !m->index || !text.len) return false;
    return find_mention(m, list, text);
}

bool text_mentions_explain(const text_matcher *m, const char **phrase, str *sentence)
{
    *phrase = m ? m->hit_phrase : NULL;
    *sentence = m && m->hit_phrase ? m->hit_sentence : (str){NULL, 0};
    return *phrase != NULL;
}
