/* The output formats, by name. */
#include "report/internal.h"

#include <string.h>

static const struct {
    const char *name;
    void (*render)(const report_review *r, strbuf *out);
} formats[REPORT_FORMAT_COUNT] = {
    [REPORT_TEXT] = {"text", render_text},   [REPORT_MARKDOWN] = {"md", render_markdown},
    [REPORT_JSON] = {"json", render_json},   [REPORT_CSV] = {"csv", render_csv},
    [REPORT_HTML] = {"html", render_html},
};

int report_format_find(const char *name)
{
    for (int i = 0; i < REPORT_FORMAT_COUNT; i++)
        if (strcmp(formats[i].name, name) == 0) return i;
    return -1;
}

void report_render(const report_review *r, enum report_format f, strbuf *out)
{
    if ((size_t)f < REPORT_FORMAT_COUNT) formats[f].render(r, out);
}
