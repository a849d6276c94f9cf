/* Templates: "text {expression} text", as used by context lines and signal
 * descriptions. `{{` and `}}` stand for literal braces. */
#include "contract/internal.h"
#include "text/text.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *word;
    uint8_t code;
} words[] = {{"trigger", TW_TRIGGER}, {"question", TW_QUESTION}, {"gate", TW_GATE},
             {"pain", TW_PAIN},       {"impact", TW_IMPACT},     {"topic", TW_TOPIC},
             {"phrase", TW_PHRASE},   {"sentence", TW_SENTENCE}};

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
                       ARRAY_LEN(parts));
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
        bool found_word = p->word == TW_PHRASE || p->word == TW_SENTENCE;
        if (found_word && ctx != CTX_TEMPLATE_EVENT) {
            error *err = errors_add(errs, ERR_NAME, yscalar_offset(scalar, i + 1), j - i - 1,
                                    "'{%.*s}' belongs in a signal description, not in a context line",
                                    (int)(j - i - 1), s + i + 1);
            error_hint(err, "it is what 'mentions' found in the event that matched the signal");
            ok = false;
        } else if (p->word != TW_NONE && !found_word && ctx == CTX_TEMPLATE_EVENT) {
            error *err = errors_add(errs, ERR_NAME, yscalar_offset(scalar, i + 1), j - i - 1,
                                    "'{%.*s}' belongs in a context line, not in a signal description",
                                    (int)(j - i - 1), s + i + 1);
            error_hint(err, "a signal description reads the event, as in {page.title}");
            ok = false;
        } else if (p->word == TW_NONE) {
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

/* ---- rendering ---------------------------------------------------------------- */

/* What printf's "%lld" writes, without printf: descriptions print counts,
 * seconds and rows for every matching event. */
static void put_integer(strbuf *out, int64_t n)
{
    char buf[24];
    char *p = buf + sizeof buf;
    uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0) *--p = '-';
    strbuf_append(out, p, (size_t)(buf + sizeof buf - p));
}

void value_to_text(const value *v, strbuf *out)
{
    char buf[48];
    switch (v->type) {
    case VAL_NULL: break;
    case VAL_BOOL: strbuf_puts(out, v->as.b ? "true" : "false"); break;
    case VAL_NUM:
        if (v->as.num == (double)(int64_t)v->as.num && v->as.num < 1e15 && v->as.num > -1e15)
            put_integer(out, (int64_t)v->as.num);
        else
            strbuf_printf(out, "%.4g", v->as.num);
        break;
    case VAL_STR: strbuf_append(out, v->as.str.s, v->as.str.len); break;
    case VAL_DUR:
        duration_format(v->as.ms, buf, sizeof buf);
        strbuf_puts(out, buf);
        break;
    case VAL_TIME:
        time_format(v->as.ms, buf, sizeof buf);
        strbuf_puts(out, buf);
        break;
    }
}

void value_to_json(const value *v, strbuf *out)
{
    switch (v->type) {
    case VAL_NULL: strbuf_puts(out, "null"); break;
    case VAL_STR: strbuf_json_string(out, v->as.str.s, v->as.str.len); break;
    case VAL_DUR:
    case VAL_TIME: {
        strbuf tmp;
        strbuf_init(&tmp);
        value_to_text(v, &tmp);
        strbuf_json_string(out, tmp.data ? tmp.data : "", tmp.len);
        strbuf_free(&tmp);
        break;
    }
    case VAL_NUM: {
        if (v->as.num != v->as.num || v->as.num - v->as.num != 0) { /* NaN, infinities */
            strbuf_puts(out, "null");
            break;
        }
        if (v->as.num == (double)(int64_t)v->as.num && v->as.num < 1e15 && v->as.num > -1e15) {
            value_to_text(v, out);
            break;
        }
        /* JSON is read by programs: the shortest form that reads back exactly */
        char num[32];
        snprintf(num, sizeof num, "%.15g", v->as.num);
        if (strtod(num, NULL) != v->as.num) snprintf(num, sizeof num, "%.17g", v->as.num);
        strbuf_puts(out, num);
        break;
    }
    default: value_to_text(v, out); break;
    }
}

/* Renders a template; false when some hole had no value (and printed nothing). */
static bool render(const contract *c, const template_info *t, const eval_env *env, const template_vars *vars,
                   strbuf *out)
{
    bool complete = true;
    for (uint32_t i = 0; i < t->count; i++) {
        const template_part *p = &t->parts[i];
        if (p->text) {
            strbuf_append(out, p->text, p->len);
            continue;
        }
        const char *word = NULL;
        switch (p->word) {
        case TW_TRIGGER: word = vars ? vars->trigger : NULL; break;
        case TW_QUESTION: word = vars ? vars->question : NULL; break;
        case TW_GATE: word = vars ? vars->gate : NULL; break;
        case TW_PAIN: word = vars ? vars->pain : NULL; break;
        case TW_IMPACT: word = vars ? vars->impact : NULL; break;
        case TW_TOPIC: word = vars ? vars->topic : NULL; break;
        case TW_PHRASE:
        case TW_SENTENCE: {
            const char *phrase;
            str sentence;
            complete &= text_mentions_explain(c->matcher, &phrase, &sentence);
            if (p->word == TW_PHRASE && phrase) strbuf_puts(out, phrase);
            else if (sentence.len) strbuf_append(out, sentence.s, sentence.len);
            continue;
        }
        default: {
            value v = program_eval(p->prog, env);
            complete &= v.type != VAL_NULL;
            value_to_text(&v, out);
            continue;
        }
        }
        if (word) strbuf_puts(out, word);
    }
    return complete;
}

void contract_render_did(const contract *c, const eval_env *env, const template_vars *vars, strbuf *out)
{
    if (c->did) render(c, c->did, env, vars, out);
    else if (vars && vars->trigger) strbuf_puts(out, vars->trigger);
}

void contract_render_asks(const contract *c, const eval_env *env, const template_vars *vars, strbuf *out)
{
    if (c->asks) render(c, c->asks, env, vars, out);
    else if (vars && vars->question) strbuf_puts(out, vars->question);
}

void contract_render_signal(const contract *c, size_t signal, const eval_env *env, strbuf *out)
{
    const signal_def *s = &c->signals[signal];
    size_t start = out->len;
    if (s->describe && render(c, s->describe, env, NULL, out)) return;
    /* no description, or one with a hole the event did not fill: the name */
    out->len = start;
    out->oom = false;
    if (out->data) out->data[start] = '\0';
    for (const char *p = s->info.name; *p; p++) strbuf_putc(out, *p == '_' ? ' ' : *p);
}
