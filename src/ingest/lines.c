/* JSON Lines: a stream cut into lines, with numbers, without unbounded growth. */
#include "ingest/ingest.h"

#include <string.h>

#define READ_CHUNK (256u * 1024)
#define BUFFER_SIZE (INGEST_MAX_EVENT_BYTES + READ_CHUNK + 1)

struct line_reader {
    FILE *in;
    char *buf;
    size_t start, end; /* unread bytes are buf[start, end) */
    uint64_t line_no;
    bool eof, error;
};

line_reader *line_reader_new(FILE *in)
{
    line_reader *r = mem_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->buf = mem_alloc(BUFFER_SIZE);
    if (!r->buf) {
        mem_free(r);
        return NULL;
    }
    r->in = in;
    return r;
}

void line_reader_free(line_reader *r)
{
    if (!r) return;
    mem_free(r->buf);
    mem_free(r);
}

bool line_reader_error(const line_reader *r)
{
    return r->error;
}

/* Moves unread bytes to the front and reads more; false at EOF or error. */
static bool fill(line_reader *r)
{
    if (r->eof) return false;
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    size_t room = BUFFER_SIZE - 1 - r->end;
    if (room == 0) return true; /* full: the caller deals with a long line */
    size_t n = fread(r->buf + r->end, 1, room, r->in);
    if (n == 0) {
        if (ferror(r->in)) r->error = true;
        r->eof = true;
        return false;
    }
    r->end += n;
    return true;
}

char *line_reader_next(line_reader *r, size_t *len, uint64_t *line_no, bool *too_long)
{
    *too_long = false;
    for (;;) {
        char *nl = r->start < r->end ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        if (nl) {
            char *line = r->buf + r->start;
            size_t n = (size_t)(nl - line);
            r->start += n + 1;
            if (n && line[n - 1] == '\r') n--;
            line[n] = '\0';
            *len = n;
            *line_no = ++r->line_no;
            if (n > INGEST_MAX_EVENT_BYTES) *too_long = true;
            return line;
        }
        size_t pending = r->end - r->start;
        if (pending > INGEST_MAX_EVENT_BYTES) {
            /* No newline within the limit: drop bytes up to the next newline. */
            *too_long = true;
            for (;;) {
                r->start = r->end;
                if (!fill(r)) break;
                nl = memchr(r->buf + r->start, '\n', r->end - r->start);
                if (nl) {
                    r->start = (size_t)(nl - r->buf) + 1;
                    break;
                }
            }
            *len = 0;
            *line_no = ++r->line_no;
            r->buf[r->start > 0 ? r->start - 1 : 0] = '\0';
            return r->buf + (r->start > 0 ? r->start - 1 : 0);
        }
        if (!fill(r)) {
            if (r->start == r->end) return NULL;
            /* the last line has no newline */
            char *line = r->buf + r->start;
            size_t n = r->end - r->start;
            r->start = r->end;
            if (n && line[n - 1] == '\r') n--;
            line[n] = '\0';
            *len = n;
            *line_no = ++r->line_no;
            return line;
        }
    }
}
