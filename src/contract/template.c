/* Templates: "text {expression} text", as used by context lines and signal
 * descriptions. `{{` and `}}` stand for literal braces. */
#include "contract/internal.h"

#include <string.h>

static const struct {
    const char *word;
    uint8_t code;
} words[] = {{"trigger", TW_TRIGGER}, {"question", TW_QUESTION}, {"gate", TW_GATE},
             {"pain", TW_PAIN},       {"impact", TW_IMPACT},     {"topic", TW_TOPIC}};

static uint8_t word_of(const char *s, uint32_t n)
{
    while (n && (*s == ' ')) s++, n--;
    while (n && s[n - 1] == ' ') n--;
    for (size_t i = 0; i < ARRAY_LEN(words); i++)
        if (strlen(words[i].word) == n && memcmp(words[i].word, s, n) == 0) return words[i].code;
    return TW_NONE;
}

template_info *template_compile(contract *c, errors *errs, const ynode *scalar, enum expr_context ctx)
{
    const char *s = scalar->text;
    uint32_t n = scalar->len;
    template_part parts[64];
    uint32_t count = 0;
    bool ok = true;
    strbuf lit;
    strbuf_init(&lit);
    template_info *t = NULL;

    for (uint32_t i = 0; i <= n && ok; i++) {
        bool end = i == n;
        if (!end && s[i] == '{' && i + 1 < n && s[i + 1] == '{') {
            strbuf_putc(&lit, '{');
            i++;
            continue;
        }
        if (!end && s[i] == '}' && i + 1 < n && s[i + 1] == '}') {
            strbuf_putc(&lit, '}');
            i++;
            continue;
        }
        if (!end && s[i] != '{') {
            if (s[i] == '}') {
                error *err = errors_add(errs, ERR_SYNTAX, yscalar_offset(scalar, i), 1, "'}' without '{'");
                error_hint(err, "write '}}' for a literal brace");
                ok = false;
            }
            strbuf_putc(&lit, s[i]);
            continue;
        }
        if (count + 2 > ARRAY_LEN(parts)) {
            errors_add(errs, ERR_LIMIT, yscalar_offset(scalar, i), 1, "more than %zu parts in one template",
                       ARRAY_LEN(parts) / 2);
            ok = false;
            break;
        }
        if (lit.len) {
            parts[count].text = arena_strndup(c->arena, lit.data, lit.len);
            parts[count].len = (uint32_t)lit.len;
            parts[count++].word = TW_NONE;
            lit.len = 0;
        }
        if (end) break;
        /* A hole: up to the matching '}', skipping quoted strings. */
        uint32_t j = i + 1;
        char quote = 0;
        while (j < n && (quote || s[j] != '}')) {
            if (quote && s[j] == '\\') j++;
            else if (quote && s[j] == quote) quote = 0;
            else if (!quote && (s[j] == '"' || s[j] == '\'')) quote = s[j];
            j++;
        }
        if (j >= n) {
            error *err = errors_add(errs, ERR_SYNTAX, yscalar_offset(scalar, i), 1, "'{' is never closed");
            error_hint(err, "close the placeholder with '}', or write '{{' for a literal brace");
            ok = false;
            break;
        }
        template_part *p = &parts[count++];
        memset(p, 0, sizeof *p);
        p->word = word_of(s + i + 1, j - i - 1);
        if (p->word == TW_NONE) {
            p->hole.text = s + i + 1;
            p->hole.len = j - i - 1;
            p->hole.scalar = scalar;
            p->hole.base = i + 1;
            if (!parse_expr(c->arena, errs, &p->hole) || !check_expr(c, errs, &p->hole, ctx, TY_ERROR) ||
                !(p->prog = compile_expr(c, errs, &p->hole)))
                ok = false;
        }
        i = j;
    }
    if (lit.oom) errors_add(errs, ERR_NOMEM, scalar->offset, 1, "out of memory");
    if (ok && !lit.oom) {
        t = arena_zalloc(c->arena, sizeof *t);
        template_part *copy = arena_alloc(c->arena, (count ? count : 1) * sizeof *copy);
        if (t && copy) {
            memcpy(copy, parts, count * sizeof *copy);
            t->source = s;
            t->parts = copy;
            t->count = count;
        } else {
            t = NULL;
        }
    }
    strbuf_free(&lit);
    return t;
}
