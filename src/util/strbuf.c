/* Growable NUL-terminated byte strings. */
#include "util/util.h"

#include <string.h>

void strbuf_init(strbuf *b)
{
    memset(b, 0, sizeof *b);
}

void strbuf_init_fixed(strbuf *b, char *storage, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->data = storage;
    b->cap = cap;
    b->fixed = true;
    if (cap) storage[0] = '\0';
}

void strbuf_reset(strbuf *b)
{
    b->len = 0;
    b->oom = false;
    if (b->data) b->data[0] = '\0';
}

void strbuf_free(strbuf *b)
{
    if (!b->fixed) mem_free(b->data);
    strbuf_init(b);
}

static bool reserve(strbuf *b, size_t extra)
{
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    if (b->fixed) {
        b->oom = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = mem_realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

/* strbuf_append() when the bytes do not simply fit: a fixed buffer keeps
 * what fits, a growable one grows. Kept apart so the common case is short. */
static __attribute__((noinline)) void append_slow(strbuf *b, const char *s, size_t n)
{
    if (b->fixed && !b->oom && b->len + n + 1 > b->cap && b->cap) {
        /* keep what fits, whole characters only */
        size_t fit = b->cap - 1 - b->len;
        if (fit > n) fit = n;
        while (fit > 0 && fit < n && ((unsigned char)s[fit] & 0xC0) == 0x80) fit--;
        memcpy(b->data + b->len, s, fit);
        b->len += fit;
        b->data[b->len] = '\0';
        b->oom = true;
        return;
    }
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_append(strbuf *b, const char *s, size_t n)
{
    if (b->oom || b->len + n + 1 > b->cap) {
        append_slow(b, s, n);
        return;
    }
    memcpy(b->data + b->len, s, n); /* it fits: the common case */
    b->len += n;
    b->data[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s)
{
    strbuf_append(b, s, strlen(s));
}

void strbuf_putc(strbuf *b, char c)
{
    strbuf_append(b, &c, 1);
}

void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap)
{
    if (b->fixed) { /* formatted once, into tmp; what does not fit is refused */
        char tmp[512];
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        if (n < 0) return;
        if ((size_t)n < sizeof tmp)
            strbuf_append(b, tmp, (size_t)n);
        else
            b->oom = true;
        return;
    }
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0) return;
    if (!reserve(b, (size_t)n)) return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void strbuf_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strbuf_csv_field(strbuf *b, const char *s, bool quote)
{
    if (!s) return;
    if (!quote && !strpbrk(s, ",\"\n")) {
        strbuf_puts(b, s);
        return;
    }
    strbuf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"') strbuf_putc(b, '"');
        strbuf_putc(b, *s);
    }
    strbuf_putc(b, '"');
}

void strbuf_json_string(strbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_putc(b, '"');
    size_t run = 0; /* start of the pending run of plain bytes */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        strbuf_append(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': strbuf_puts(b, "\\\""); break;
        case '\\': strbuf_puts(b, "\\\\"); break;
        case '\n': strbuf_puts(b, "\\n"); break;
        case '\t': strbuf_puts(b, "\\t"); break;
        case '\r': strbuf_puts(b, "\\r"); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(b, esc, sizeof esc);
        }
        }
    }
    strbuf_append(b, s + run, n - run);
    strbuf_putc(b, '"');
}
