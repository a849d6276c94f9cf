/* CSV reading (RFC 4180), and the CSV form of events. */
#include "ingest/ingest.h"

#include <stdlib.h>
#include <string.h>

struct csv_reader {
    FILE *in;
    uint64_t line;
    char *row;           /* field bytes, each NUL-terminated */
    size_t row_len;
    const char *fields[CSV_MAX_COLUMNS];
    int peeked;          /* a character read ahead, or EOF, or -2 for none */
};

csv_reader *csv_reader_new(FILE *in)
{
    csv_reader *r = mem_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->row = mem_alloc(CSV_MAX_ROW_BYTES + CSV_MAX_COLUMNS);
    if (!r->row) {
        mem_free(r);
        return NULL;
    }
    r->in = in;
    r->peeked = -2;
    return r;
}

void csv_reader_free(csv_reader *r)
{
    if (!r) return;
    mem_free(r->row);
    mem_free(r);
}

static int next_char(csv_reader *r)
{
    if (r->peeked != -2) {
        int c = r->peeked;
        r->peeked = -2;
        return c;
    }
    return getc(r->in);
}

const char *const *csv_next(csv_reader *r, size_t *count, uint64_t *line, const char **problem)
{
    *problem = NULL;
    for (;;) {
        int c = next_char(r);
        if (c == EOF) return NULL;
        r->peeked = c;
        r->line++;
        *line = r->line;
        size_t n = 0, used = 0;
        bool quoted = false, field_start = true, bad = false;
        r->fields[0] = r->row;
        for (;;) {
            c = next_char(r);
            if (c == EOF) {
                if (quoted) {
                    *problem = "a quoted field is never closed";
                    bad = true;
                }
                break;
            }
            if (quoted) {
                if (c == '"') {
                    int d = next_char(r);
                    if (d == '"') {
                        c = '"';
                    } else {
                        r->peeked = d;
                        quoted = false;
                        continue;
                    }
                } else if (c == '\n') {
                    r->line++;
                }
            } else if (c == '"' && field_start) {
                quoted = true;
                field_start = false;
                continue;
            } else if (c == ',' || c == '\n') {
                if (used < CSV_MAX_ROW_BYTES + CSV_MAX_COLUMNS) r->row[used++] = '\0';
                if (++n >= CSV_MAX_COLUMNS) {
                    *problem = "more than 128 columns";
                    bad = true;
                }
                if (c == '\n') break;
                if (!bad) r->fields[n] = r->row + used;
                field_start = true;
                continue;
            } else if (c == '\r') {
                continue;
            }
            field_start = false;
            if (used >= CSV_MAX_ROW_BYTES) {
                if (!bad) *problem = "row longer than 64 KiB";
                bad = true;
                continue;
            }
            r->row[used++] = (char)c;
        }
        if (c == EOF) { /* last row without a newline */
            r->row[used++] = '\0';
            n++;
        }
        if (bad) {
            if (count) *count = 0;
            return r->fields; /* the caller reports *error and moves on */
        }
        if (n == 1 && r->fields[0][0] == '\0') continue; /* blank line */
        *count = n;
        return r->fields;
    }
}

static bool looks_numeric(const char *s)
{
    if (!*s) return false;
    char *end;
    strtod(s, &end);
    if (*end) return false;
    /* JSON numbers: no leading '+', no leading zeros, no hex, no "inf" */
    const char *p = s[0] == '-' ? s + 1 : s;
    if (!(*p >= '0' && *p <= '9')) return false;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') return false;
    for (const char *q = p; *q; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == '-' || *q == '+'))
            return false;
    return true;
}

static void cell(strbuf *out, const char *v)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0 || looks_numeric(v)) strbuf_puts(out, v);
    else strbuf_json_string(out, v, strlen(v));
}

/* Writes the columns whose names start with prefix (e.g. "properties.") as
 * one nested object, recursing on the next dotted segment. */
static void nested(strbuf *out, const char *const *header, const char *const *row, size_t count,
                   const char *prefix, size_t plen, unsigned depth)
{
    strbuf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        const char *h = header[i];
        if (strncmp(h, prefix, plen) != 0 || !row[i][0]) continue;
        const char *rest = h + plen;
        const char *dot = strchr(rest, '.');
        size_t klen = dot ? (size_t)(dot - rest) : strlen(rest);
        /* write each key once: skip if an earlier column had the same segment */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = row[j][0] && strncmp(header[j], prefix, plen) == 0 &&
                   strncmp(header[j] + plen, rest, klen) == 0 &&
                   (header[j][plen + klen] == '.' || header[j][plen + klen] == '\0');
        if (seen) continue;
        if (!first) strbuf_putc(out, ',');
        first = false;
        strbuf_json_string(out, rest, klen);
        strbuf_putc(out, ':');
        if (dot && depth < 8) {
            char sub[256];
            size_t sl = plen + klen + 1 < sizeof sub ? plen + klen + 1 : sizeof sub - 1;
            memcpy(sub, h, sl);
            sub[sl] = '\0';
            nested(out, header, row, count, sub, sl, depth + 1);
        } else {
            cell(out, row[i]);
        }
    }
    strbuf_putc(out, '}');
}

void csv_event_to_json(const char *const *header, const char *const *row, size_t count, strbuf *out)
{
    static const char *const top[] = {"type", "timestamp", "userId", "anonymousId", "messageId",
                                      "event", "name", "category", "groupId"};
    strbuf_putc(out, '{');
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        bool is_top = false;
        for (size_t t = 0; t < ARRAY_LEN(top) && !is_top; t++) is_top = strcmp(header[i], top[t]) == 0;
        if (!is_top || !row[i][0]) continue;
        if (!first) strbuf_putc(out, ',');
        first = false;
        strbuf_json_string(out, header[i], strlen(header[i]));
        strbuf_putc(out, ':');
        strbuf_json_string(out, row[i], strlen(row[i])); /* top-level fields are strings */
    }
    static const char *const objects[] = {"properties.", "traits.", "context."};
    for (size_t o = 0; o < ARRAY_LEN(objects); o++) {
        size_t plen = strlen(objects[o]);
        bool any = false;
        for (size_t i = 0; i < count && !any; i++) any = strncmp(header[i], objects[o], plen) == 0 && row[i][0];
        if (!any) continue;
        if (!first) strbuf_putc(out, ',');
        first = false;
        strbuf_json_string(out, objects[o], plen - 1);
        strbuf_putc(out, ':');
        nested(out, header, row, count, objects[o], plen, 0);
    }
    strbuf_putc(out, '}');
}
