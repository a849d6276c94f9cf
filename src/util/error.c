/* Errors as values: collected with byte offsets, rendered with line:col and a caret. */
#include "util/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const code_names[] = {
    [ERR_NONE] = "ok",
    [ERR_IO] = "io",
    [ERR_YAML] = "yaml",
    [ERR_SCHEMA] = "schema",
    [ERR_SYNTAX] = "syntax",
    [ERR_NAME] = "unknown-name",
    [ERR_TYPE] = "type",
    [ERR_DUPLICATE] = "duplicate",
    [ERR_WINDOW] = "window",
    [ERR_UNREACHABLE] = "unreachable",
    [ERR_POLICY] = "policy",
    [ERR_LIMIT] = "limit",
    [ERR_REGEX] = "regex",
    [ERR_VALUE] = "value",
    [ERR_NOMEM] = "out-of-memory",
};

const char *error_code_name(enum error_code code)
{
    if ((size_t)code < ARRAY_LEN(code_names) && code_names[code]) return code_names[code];
    return "error";
}

void errors_init(errors *e, const char *path, const char *source, size_t len)
{
    memset(e, 0, sizeof *e);
    e->path = path;
    e->source = source;
    e->source_len = len;
}

error *errors_add(errors *e, enum error_code code, uint32_t offset, uint32_t length,
                  const char *fmt, ...)
{
    static error overflow; /* absorbs hints for errors past the cap */
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* The same error at the same place is reported once, however many paths
     * (a macro used twice, say) lead to it. */
    for (unsigned i = 0; i < e->count; i++) {
        if (e->list[i].offset == offset && strcmp(e->list[i].msg, msg) == 0) {
            memset(&overflow, 0, sizeof overflow);
            return &overflow;
        }
    }
    if (e->count == ERRORS_MAX) {
        e->dropped++;
        memset(&overflow, 0, sizeof overflow);
        return &overflow;
    }
    error *err = &e->list[e->count++];
    memset(err, 0, sizeof *err);
    err->code = code;
    err->offset = offset;
    err->length = length ? length : 1;
    memcpy(err->msg, msg, sizeof msg);
    return err;
}

void error_hint(error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

static int by_offset(const void *a, const void *b)
{
    const error *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return 0;
}

void errors_sort(errors *e)
{
    /* Insertion sort: stable, and lists are short. */
    for (unsigned i = 1; i < e->count; i++) {
        error tmp = e->list[i];
        unsigned j = i;
        while (j > 0 && by_offset(&e->list[j - 1], &tmp) > 0) {
            e->list[j] = e->list[j - 1];
            j--;
        }
        e->list[j] = tmp;
    }
}

void errors_position(const errors *e, uint32_t offset, uint32_t *line, uint32_t *col)
{
    uint32_t l = 1, c = 1;
    size_t end = offset < e->source_len ? offset : e->source_len;
    for (size_t i = 0; i < end; i++) {
        if (e->source[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)e->source[i] & 0xC0) != 0x80) {
            c++; /* columns count characters, not UTF-8 continuation bytes */
        }
    }
    *line = l;
    *col = c;
}

static void render_source_line(const errors *e, const error *err, strbuf *out)
{
    if (!e->source || err->offset > e->source_len) return;
    size_t start = err->offset, end = err->offset;
    while (start > 0 && e->source[start - 1] != '\n') start--;
    while (end < e->source_len && e->source[end] != '\n') end++;
    if (end == start) return;
    strbuf_puts(out, "    ");
    strbuf_append(out, e->source + start, end - start);
    strbuf_puts(out, "\n    ");
    for (size_t i = start; i < err->offset; i++) {
        if (((unsigned char)e->source[i] & 0xC0) == 0x80) continue;
        strbuf_putc(out, e->source[i] == '\t' ? '\t' : ' ');
    }
    strbuf_putc(out, '^');
    size_t span = err->length;
    if (err->offset + span > end) span = end > err->offset ? end - err->offset : 1;
    for (size_t i = 1; i < span; i++) strbuf_putc(out, '~');
    strbuf_putc(out, '\n');
}

void errors_render(const errors *e, strbuf *out)
{
    for (unsigned i = 0; i < e->count; i++) {
        const error *err = &e->list[i];
        uint32_t line, col;
        errors_position(e, err->offset, &line, &col);
        strbuf_printf(out, "%s:%u:%u: error: %s\n", e->path, line, col, err->msg);
        render_source_line(e, err, out);
        if (err->hint[0]) strbuf_printf(out, "    hint: %s\n", err->hint);
    }
    if (e->dropped)
        strbuf_printf(out, "%s: %u more error%s not shown\n", e->path, e->dropped,
                      e->dropped == 1 ? "" : "s");
}

void errors_render_json(const errors *e, strbuf *out)
{
    strbuf_putc(out, '[');
    for (unsigned i = 0; i < e->count; i++) {
        const error *err = &e->list[i];
        uint32_t line, col;
        errors_position(e, err->offset, &line, &col);
        if (i) strbuf_putc(out, ',');
        strbuf_puts(out, "{\"file\":");
        strbuf_json_string(out, e->path, strlen(e->path));
        strbuf_printf(out, ",\"line\":%u,\"column\":%u,\"length\":%u,\"class\":\"%s\",\"message\":",
                      line, col, err->length, error_code_name(err->code));
        strbuf_json_string(out, err->msg, strlen(err->msg));
        if (err->hint[0]) {
            strbuf_puts(out, ",\"hint\":");
            strbuf_json_string(out, err->hint, strlen(err->hint));
        }
        strbuf_putc(out, '}');
    }
    strbuf_putc(out, ']');
}
