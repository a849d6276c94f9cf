/* Characters in the buyer's words: UTF-8, case, accents, and which lines of
 * a message are their own. Tables cover the scripts of the languages the
 * stemmer knows best (Latin, Greek, Cyrillic); other scripts pass through. */
#include "text/internal.h"

#include <string.h>

uint32_t utf8_decode(const char *s, size_t n, size_t *len)
{
    const unsigned char *u = (const unsigned char *)s;
    *len = 1;
    if (u[0] < 0x80) return u[0];
    size_t need;
    uint32_t cp, min;
    if ((u[0] & 0xE0) == 0xC0) {
        need = 2, cp = u[0] & 0x1F, min = 0x80;
    } else if ((u[0] & 0xF0) == 0xE0) {
        need = 3, cp = u[0] & 0x0F, min = 0x800;
    } else if ((u[0] & 0xF8) == 0xF0) {
        need = 4, cp = u[0] & 0x07, min = 0x10000;
    } else {
        return 0xFFFD;
    }
    if (n < need) return 0xFFFD;
    for (size_t i = 1; i < need; i++) {
        if ((u[i] & 0xC0) != 0x80) return 0xFFFD;
        cp = cp << 6 | (u[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0xFFFD;
    *len = need;
    return cp;
}

size_t utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

enum char_class char_class_of(uint32_t cp)
{
    if (cp < 0x80) {
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
            return CH_WORD;
        switch (cp) {
        case ' ':
        case '\t':
        case '\r':
        case '\f':
        case '\v': return CH_SPACE;
        case '\n': return CH_NEWLINE;
        case '\'': return CH_APOS;
        case '.':
        case '!':
        case '?': return CH_SENTENCE;
        case ',':
        case ';':
        case ':':
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case '"': return CH_CLAUSE;
        default: return CH_SEP;
        }
    }
    if (cp < 0x100) {
        if (cp == 0xA0) return CH_SPACE;
        if (cp == 0xA1 || cp == 0xAB || cp == 0xBB || cp == 0xBF) return CH_CLAUSE; /* ¡ « » ¿ */
        if (cp == 0xAA || cp == 0xB5 || cp == 0xBA) return CH_WORD;                 /* ª µ º */
        if (cp < 0xC0 || cp == 0xD7 || cp == 0xF7) return CH_SEP;                   /* × ÷ */
        return CH_WORD;
    }
    if (cp >= 0x2000 && cp <= 0x206F) { /* general punctuation */
        if (cp <= 0x200A || cp == 0x202F || cp == 0x205F) return CH_SPACE;
        if (cp == 0x2018 || cp == 0x2019) return CH_APOS;
        if (cp == 0x2013 || cp == 0x2014 || cp == 0x2015 || (cp >= 0x201A && cp <= 0x201F) ||
            cp == 0x2026 || cp == 0x2039 || cp == 0x203A)
            return CH_CLAUSE;
        if (cp == 0x2028) return CH_NEWLINE;
        if (cp == 0x2029 || cp == 0x203C || cp == 0x2047 || cp == 0x2048 || cp == 0x2049)
            return CH_SENTENCE;
        return CH_SEP;
    }
    if (cp >= 0x3000 && cp <= 0x303F) {
        if (cp == 0x3000) return CH_SPACE;
        if (cp == 0x3002) return CH_SENTENCE;
        if (cp == 0x3001 || (cp >= 0x3008 && cp <= 0x3011)) return CH_CLAUSE;
        return CH_SEP;
    }
    if (cp == 0xFF01 || cp == 0xFF1F || cp == 0xFF0E) return CH_SENTENCE;
    if (cp == 0xFF0C || cp == 0xFF1A || cp == 0xFF1B) return CH_CLAUSE;
    if (cp == 0xFFFD || cp == 0xFEFF || (cp >= 0xFE00 && cp <= 0xFE0F)) return CH_SEP;
    if ((cp >= 0x2100 && cp <= 0x2BFF) || (cp >= 0x1F000 && cp <= 0x1FAFF))
        return CH_SEP;                                /* symbols, emoji */
    if (cp >= 0x0300 && cp <= 0x036F) return CH_WORD; /* combining accents stay with their letter */
    return CH_WORD;
}

uint32_t char_lower(uint32_t cp)
{
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (cp < 0x100) return cp >= 0xC0 && cp <= 0xDE && cp != 0xD7 ? cp + 32 : cp;
    if (cp < 0x180) {
        if (cp == 0x130) return 'i';
        if (cp == 0x178) return 0xFF;
        if ((cp < 0x138 || (cp >= 0x14A && cp < 0x178)) && cp % 2 == 0 && cp != 0x131)
            return cp + 1;
        if (((cp >= 0x139 && cp < 0x149) || (cp >= 0x179 && cp < 0x17F)) && cp % 2 == 1)
            return cp + 1;
        return cp;
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20; /* Greek */
    if (cp == 0x386) return 0x3AC;
    if (cp >= 0x388 && cp <= 0x38A) return cp + 0x25;
    if (cp == 0x38C) return 0x3CC;
    if (cp == 0x38E || cp == 0x38F) return cp + 0x3F;
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20; /* Cyrillic */
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    return cp;
}

/* ASCII spellings of lower-case Latin-1 letters, from U+00DF. */
static const char *const latin1[] = {
    "ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i",  "i",
    "i",                                                                               /* ß..ï */
    "d",  "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y", /* ð..ÿ */
};

/* Latin Extended-A (U+0100..U+017F), in runs that share one ASCII spelling;
 * upper and lower case sit side by side, so a run covers both. */
static const struct {
    uint16_t first, last;
    const char *ascii;
} latin_ext_a[] = {
    {0x100, 0x105, "a"}, {0x106, 0x10D, "c"},  {0x10E, 0x111, "d"}, {0x112, 0x11B, "e"},
    {0x11C, 0x123, "g"}, {0x124, 0x127, "h"},  {0x128, 0x131, "i"}, {0x132, 0x133, "ij"},
    {0x134, 0x135, "j"}, {0x136, 0x138, "k"},  {0x139, 0x142, "l"}, {0x143, 0x14B, "n"},
    {0x14C, 0x151, "o"}, {0x152, 0x153, "oe"}, {0x154, 0x159, "r"}, {0x15A, 0x161, "s"},
    {0x162, 0x167, "t"}, {0x168, 0x173, "u"},  {0x174, 0x175, "w"}, {0x176, 0x178, "y"},
    {0x179, 0x17E, "z"}, {0x17F, 0x17F, "s"},
};

const char *char_ascii(uint32_t cp)
{
    if (cp == 0xAA) return "a";
    if (cp == 0xBA) return "o";
    if (cp >= 0xDF && cp <= 0xFF) return latin1[cp - 0xDF];
    if (cp >= 0x100 && cp <= 0x17F)
        for (size_t i = 0; i < ARRAY_LEN(latin_ext_a); i++)
            if (cp >= latin_ext_a[i].first && cp <= latin_ext_a[i].last)
                return latin_ext_a[i].ascii;
    return NULL;
}

static size_t convert(const char *s, size_t n, char *out, size_t cap, bool fold)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) { /* the common case */
            if (o + 2 > cap) {
                if (cap) out[0] = '\0';
                return cap;
            }
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            i++;
            continue;
        }
        size_t len;
        uint32_t cp = char_lower(utf8_decode(s + i, n - i, &len));
        i += len;
        if (cp == 0x2019 || cp == 0x2018) cp = '\'';
        if (fold && cp >= 0x300 && cp <= 0x36F) continue; /* a combining accent */
        const char *ascii = fold && cp >= 0x80 ? char_ascii(cp) : NULL;
        char enc[4];
        size_t w = ascii ? strlen(ascii) : utf8_encode(cp, enc);
        if (o + w + 1 > cap) {
            if (cap) out[0] = '\0';
            return cap;
        }
        memcpy(out + o, ascii ? ascii : enc, w);
        o += w;
    }
    if (cap) out[o] = '\0';
    return o;
}

size_t fold_word(const char *s, size_t n, char *out, size_t cap)
{
    return convert(s, n, out, cap, true);
}

size_t lower_word(const char *s, size_t n, char *out, size_t cap)
{
    return convert(s, n, out, cap, false);
}

static bool starts_with_folded(const char *s, size_t n, const char *prefix)
{
    size_t m = strlen(prefix);
    if (n < m) return false;
    for (size_t i = 0; i < m; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != prefix[i]) return false;
    }
    return true;
}

/* Words that end the line a mail client puts before the quoted message:
 * "wrote:" and its translations, with the spaces French puts before ':'. */
static const char *const wrote[] = {"wrote",    "schrieb",    "a écrit", "escribió",
                                    "escreveu", "ha scritto", "schreef"};

/* Separator lines some clients put above the quoted message. */
static const char *const original[] = {
    "-----original message", "-----ursprüngliche nachricht", "-----message d'origine",
    "-----mensaje original", "-----mensagem original",       "________________________________",
};

enum line_kind line_kind_at(const char *s, size_t n, size_t at, size_t *end)
{
    const char *nl = memchr(s + at, '\n', n - at);
    size_t e = nl ? (size_t)(nl - s) : n;
    *end = e;
    size_t b = at;
    while (b < e && (s[b] == ' ' || s[b] == '\t'))
        b++;
    if (b < e && s[b] == '>') return LINE_QUOTED;
    size_t t = e;
    while (t > b && (s[t - 1] == ' ' || s[t - 1] == '\t' || s[t - 1] == '\r'))
        t--;
    if (t > b && s[t - 1] == ':') {
        t--;
        while (t > b && (s[t - 1] == ' ' || s[t - 1] == (char)0xA0 || s[t - 1] == (char)0xC2))
            t--;
        for (size_t i = 0; i < ARRAY_LEN(wrote); i++) {
            size_t m = strlen(wrote[i]);
            if (t - b >= m && starts_with_folded(s + t - m, m, wrote[i]) &&
                (t - b == m || s[t - m - 1] == ' '))
                return LINE_REST_QUOTED;
        }
    }
    if (b < e && (s[b] == '-' || s[b] == '_'))
        for (size_t i = 0; i < ARRAY_LEN(original); i++)
            if (starts_with_folded(s + b, e - b, original[i])) return LINE_REST_QUOTED;
    return LINE_OWN;
}
