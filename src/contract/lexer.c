/* The expression lexer: bytes of one expression to tokens with byte ranges. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const token_names[] = {
#define X(k, s) s,
    TOKENS(X)
#undef X
};

const char *token_name(enum token_kind k)
{
    return token_names[k];
}

void lexer_init(lexer *lx, const char *src, uint32_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident(char c)
{
    return is_ident_start(c) || is_digit(c);
}

static token make(uint8_t kind, uint32_t start, uint32_t end)
{
    token t = {.kind = kind, .start = start, .len = end - start};
    return t;
}

static token fail(uint32_t start, uint32_t end, const char *why, const char *hint)
{
    token t = make(T_ERROR, start, end > start ? end : start + 1);
    t.why = why;
    t.hint = hint;
    return t;
}

static const struct {
    const char *word;
    uint8_t kind;
} keywords[] = {
    {"and", T_AND}, {"or", T_OR}, {"not", T_NOT}, {"in", T_IN}, {"true", T_TRUE}, {"false", T_FALSE},
};

/* A date or timestamp literal: 2026-12-25 or 2026-12-25T10:00:00Z. */
static token lex_time(lexer *lx, uint32_t start)
{
    const char *s = lx->src;
    uint32_t i = start;
    while (i < lx->len && (is_digit(s[i]) || s[i] == '-' || s[i] == ':' || s[i] == 'T' ||
                           s[i] == 'Z' || s[i] == '.' || s[i] == '+'))
        i++;
    lx->pos = i;
    token t = make(T_TIME, start, i);
    if (!time_parse(s + start, i - start, &t.ms))
        return fail(start, i, "malformed date or time",
                    "write dates as 2026-12-25 and times as 2026-12-25T10:00:00Z");
    return t;
}

static token lex_number(lexer *lx, uint32_t start)
{
    const char *s = lx->src;
    uint32_t i = start;
    if (i + 4 < lx->len && is_digit(s[i + 1]) && is_digit(s[i + 2]) && is_digit(s[i + 3]) &&
        s[i + 4] == '-')
        return lex_time(lx, start);
    while (i < lx->len && is_digit(s[i])) i++;
    bool fraction = false;
    if (i + 1 < lx->len && s[i] == '.' && is_digit(s[i + 1])) {
        fraction = true;
        i++;
        while (i < lx->len && is_digit(s[i])) i++;
    }
    uint32_t digits_end = i;
    while (i < lx->len && is_ident(s[i])) i++;
    lx->pos = i;
    if (i > digits_end) {
        token t = make(T_DURATION, start, i);
        if (fraction)
            return fail(start, i, "a duration must be a whole number",
                        "use a smaller unit: 90m rather than 1.5h");
        if (!duration_parse(s + start, i - start, &t.ms)) {
            char one[8] = "1";
            duration_ms unit;
            size_t ulen = i - digits_end < sizeof one - 2 ? i - digits_end : sizeof one - 2;
            memcpy(one + 1, s + digits_end, ulen);
            if (i - digits_end == ulen && duration_parse(one, ulen + 1, &unit))
                return fail(start, i, "duration too large", "windows and ages are measured in days or weeks");
            return fail(digits_end, i, "unknown duration unit",
                        "units are ms, s, m, h, d and w, as in 90s, 4h or 14d");
        }
        return t;
    }
    token t = make(T_NUMBER, start, i);
    char buf[64];
    uint32_t n = i - start < sizeof buf - 1 ? i - start : (uint32_t)sizeof buf - 1;
    memcpy(buf, s + start, n);
    buf[n] = '\0';
    t.num = strtod(buf, NULL);
    return t;
}

static token lex_string(lexer *lx, uint32_t start)
{
    const char *s = lx->src;
    char quote = s[start];
    uint32_t i = start + 1;
    while (i < lx->len && s[i] != quote) {
        if (s[i] == '\\') {
            if (i + 1 >= lx->len) break;
            char e = s[i + 1];
            if (e != '\\' && e != '"' && e != '\'' && e != 'n' && e != 't') {
                lx->pos = i + 2;
                return fail(i, i + 2, "unknown escape in string",
                            "escapes are \\\\, \\\", \\', \\n and \\t");
            }
            i++;
        }
        i++;
    }
    if (i >= lx->len) {
        lx->pos = lx->len;
        return fail(start, start + 1, "unterminated string", "close the string with a quote");
    }
    lx->pos = i + 1;
    if (i - start - 1 > CONTRACT_MAX_STRING)
        return fail(start, i + 1, "string literal too long",
                    "strings are limited to CONTRACT_MAX_STRING (1024) bytes");
    return make(T_STRING, start, i + 1);
}

uint32_t lexer_string_value(const char *src, const token *t, char *dst)
{
    uint32_t n = 0;
    for (uint32_t i = t->start + 1; i + 1 < t->start + t->len; i++) {
        char c = src[i];
        if (c == '\\') {
            c = src[++i];
            if (c == 'n') c = '\n';
            else if (c == 't') c = '\t';
        }
        dst[n++] = c;
    }
    return n;
}

token lexer_next(lexer *lx)
{
    const char *s = lx->src;
    while (lx->pos < lx->len &&
           (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n' || s[lx->pos] == '\r'))
        lx->pos++;
    uint32_t start = lx->pos;
    if (start >= lx->len) return make(T_EOF, lx->len, lx->len);

    char c = s[start];
    if (is_ident_start(c)) {
        uint32_t i = start;
        while (i < lx->len && is_ident(s[i])) i++;
        lx->pos = i;
        for (size_t k = 0; k < ARRAY_LEN(keywords); k++) {
            size_t kl = strlen(keywords[k].word);
            if (kl == i - start && memcmp(s + start, keywords[k].word, kl) == 0)
                return make(keywords[k].kind, start, i);
        }
        return make(T_IDENT, start, i);
    }
    if (is_digit(c)) return lex_number(lx, start);
    if (c == '"' || c == '\'') return lex_string(lx, start);

    char next = start + 1 < lx->len ? s[start + 1] : '\0';
    lx->pos = start + 1;
    switch (c) {
    case '(': return make(T_LPAREN, start, start + 1);
    case ')': return make(T_RPAREN, start, start + 1);
    case '[': return make(T_LBRACKET, start, start + 1);
    case ']': return make(T_RBRACKET, start, start + 1);
    case ',': return make(T_COMMA, start, start + 1);
    case '.': return make(T_DOT, start, start + 1);
    case '+': return make(T_PLUS, start, start + 1);
    case '-': return make(T_MINUS, start, start + 1);
    case '*': return make(T_STAR, start, start + 1);
    case '/': return make(T_SLASH, start, start + 1);
    case '<':
        if (next == '=') return lx->pos++, make(T_LE, start, start + 2);
        return make(T_LT, start, start + 1);
    case '>':
        if (next == '=') return lx->pos++, make(T_GE, start, start + 2);
        return make(T_GT, start, start + 1);
    case '=':
        if (next == '=') return lx->pos++, make(T_EQ, start, start + 2);
        return fail(start, start + 1, "'=' is not an operator", "compare with '=='");
    case '!':
        if (next == '=') return lx->pos++, make(T_NE, start, start + 2);
        return fail(start, start + 1, "'!' is not an operator", "negate with 'not'");
    case '&':
        return fail(start, next == '&' ? start + 2 : start + 1, "'&&' is not an operator",
                    "write 'and'");
    case '|':
        return fail(start, next == '|' ? start + 2 : start + 1, "'||' is not an operator",
                    "write 'or'");
    default: break;
    }
    /* Skip the whole UTF-8 sequence so the caret covers one character. */
    uint32_t end = start + 1;
    while (end < lx->len && ((unsigned char)s[end] & 0xC0) == 0x80) end++;
    lx->pos = end;
    return fail(start, end, "unexpected character", NULL);
}
