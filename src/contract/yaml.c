/* The contract's YAML, read with libyaml into a small tree that keeps positions. */
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct yloader {
    arena *a;
    errors *errs;
    yaml_parser_t parser;
    const char *text;
    size_t len;
    uint32_t *line_starts; /* byte offset of each line */
    uint32_t line_count;
    bool failed;
} yloader;

/* libyaml marks count lines and characters; turn one into a byte offset. */
static uint32_t mark_offset(const yloader *ld, yaml_mark_t m)
{
    if (m.line >= ld->line_count) return (uint32_t)ld->len;
    uint32_t off = ld->line_starts[m.line];
    for (size_t col = 0; col < m.column && off < ld->len && ld->text[off] != '\n'; col++) {
        off++;
        while (off < ld->len && ((unsigned char)ld->text[off] & 0xC0) == 0x80) off++;
    }
    return off;
}

/* Aligns a scalar's value with its source bytes, so each value byte knows
 * its file offset. Quotes, escapes, indentation and folding are skipped over;
 * a value byte with no source twin (an escape's result) takes the position
 * of the escape. */
static uint32_t *align_scalar(yloader *ld, const char *text, size_t vlen, uint32_t from,
                              uint32_t to)
{
    uint32_t *map = arena_alloc(ld->a, (vlen + 1) * sizeof *map);
    if (!map) return NULL;
    uint32_t j = from;
    for (size_t i = 0; i < vlen; i++) {
        uint32_t k = j;
        while (k < to && ld->text[k] != text[i]) k++;
        if (k < to) {
            map[i] = k;
            j = k + 1;
        } else {
            map[i] = j < to ? j : (to > from ? to - 1 : from);
        }
    }
    map[vlen] = j;
    return map;
}

static ynode *new_node(yloader *ld, uint8_t kind, uint32_t offset)
{
    ynode *n = arena_zalloc(ld->a, sizeof *n);
    if (!n) {
        ld->failed = true;
        return NULL;
    }
    n->kind = kind;
    n->offset = offset;
    return n;
}

static void yaml_problem(yloader *ld)
{
    uint32_t off = mark_offset(ld, ld->parser.problem_mark);
    const char *problem = ld->parser.problem ? ld->parser.problem : "malformed YAML";
    if (ld->parser.context)
        errors_add(ld->errs, ERR_YAML, off, 1, "%s %s", problem, ld->parser.context);
    else
        errors_add(ld->errs, ERR_YAML, off, 1, "%s", problem);
    ld->failed = true;
}

static ynode *load_node(yloader *ld, yaml_event_t *ev, unsigned depth);

/* Reads items until the closing event, appending them to a growable array. */
static bool load_children(yloader *ld, ynode *n, yaml_event_type_t end, unsigned depth)
{
    uint32_t cap = 8, used = 0;
    ynode **items = arena_alloc(ld->a, cap * sizeof *items);
    if (!items) return false;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ld->parser, &ev)) {
            yaml_problem(ld);
            return false;
        }
        if (ev.type == end) {
            yaml_event_delete(&ev);
            break;
        }
        ynode *child = load_node(ld, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!child) return false;
        if (used == cap) {
            ynode **bigger = arena_alloc(ld->a, 2 * cap * sizeof *items);
            if (!bigger) return false;
            memcpy(bigger, items, used * sizeof *items);
            items = bigger;
            cap *= 2;
        }
        items[used++] = child;
    }
    n->items = items;
    n->count = n->kind == Y_MAP ? used / 2 : used;
    return true;
}

static void check_duplicate_keys(yloader *ld, const ynode *map)
{
    for (uint32_t i = 1; i < map->count; i++) {
        const ynode *k = ymap_key(map, i);
        if (k->kind != Y_SCALAR) continue;
        for (uint32_t j = 0; j < i; j++) {
            const ynode *prev = ymap_key(map, j);
            if (prev->kind == Y_SCALAR && prev->len == k->len &&
                memcmp(prev->text, k->text, k->len) == 0) {
                uint32_t line, col;
                errors_position(ld->errs, prev->offset, &line, &col);
                error *e = errors_add(ld->errs, ERR_DUPLICATE, k->offset, k->len,
                                      "duplicate key '%s'", k->text);
                error_hint(e, "first given at line %u; a key may appear once in a mapping", line);
                break;
            }
        }
    }
}

static ynode *load_node(yloader *ld, yaml_event_t *ev, unsigned depth)
{
    if (depth > CONTRACT_MAX_DEPTH) {
        errors_add(ld->errs, ERR_LIMIT, mark_offset(ld, ev->start_mark), 1,
                   "YAML nested deeper than %d levels", CONTRACT_MAX_DEPTH);
        ld->failed = true;
        return NULL;
    }
    uint32_t start = mark_offset(ld, ev->start_mark);
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        ynode *n = new_node(ld, Y_SCALAR, start);
        if (!n) return NULL;
        const char *v = (const char *)ev->data.scalar.value;
        size_t vlen = ev->data.scalar.length;
        n->text = arena_strndup(ld->a, v, vlen);
        n->len = (uint32_t)vlen;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->map = align_scalar(ld, v, vlen, start, mark_offset(ld, ev->end_mark));
        if (!n->text || !n->map) {
            ld->failed = true;
            return NULL;
        }
        return n;
    }
    case YAML_SEQUENCE_START_EVENT: {
        ynode *n = new_node(ld, Y_SEQ, start);
        if (!n || !load_children(ld, n, YAML_SEQUENCE_END_EVENT, depth)) return NULL;
        return n;
    }
    case YAML_MAPPING_START_EVENT: {
        ynode *n = new_node(ld, Y_MAP, start);
        if (!n || !load_children(ld, n, YAML_MAPPING_END_EVENT, depth)) return NULL;
        check_duplicate_keys(ld, n);
        return n;
    }
    case YAML_ALIAS_EVENT:
        errors_add(ld->errs, ERR_YAML, start, 1, "YAML aliases are not supported in a contract");
        ld->failed = true;
        return NULL;
    default:
        errors_add(ld->errs, ERR_YAML, start, 1, "unexpected YAML structure");
        ld->failed = true;
        return NULL;
    }
}

/* libyaml also breaks lines at a lone CR, NEL, LS and PS; positions here
 * count LF only, so such files are refused rather than misreported. */
static bool odd_line_breaks(errors *errs, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        const unsigned char *s = (const unsigned char *)text + i;
        const char *what = NULL;
        if (s[0] == '\r' && (i + 1 == len || s[1] != '\n')) what = "a carriage return (CR) without a line feed";
        else if (s[0] == 0xC2 && i + 1 < len && s[1] == 0x85) what = "a NEL line break (U+0085)";
        else if (s[0] == 0xE2 && i + 2 < len && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9))
            what = s[2] == 0xA8 ? "a line separator (U+2028)" : "a paragraph separator (U+2029)";
        if (!what) continue;
        error *err = errors_add(errs, ERR_YAML, (uint32_t)i, 1, "the file breaks a line with %s", what);
        error_hint(err, "save the contract with LF (or CRLF) line endings");
        return true;
    }
    return false;
}

ynode *yaml_load(arena *a, errors *errs, const char *text, size_t len)
{
    yloader ld = {.a = a, .errs = errs, .text = text, .len = len};
    ynode *root = NULL;
    if (odd_line_breaks(errs, text, len)) return NULL;

    uint32_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    ld.line_starts = arena_alloc(a, lines * sizeof *ld.line_starts);
    if (!ld.line_starts) return NULL;
    ld.line_starts[0] = 0;
    for (size_t i = 0, l = 1; i < len; i++)
        if (text[i] == '\n') ld.line_starts[l++] = (uint32_t)(i + 1);
    ld.line_count = lines;

    if (!yaml_parser_initialize(&ld.parser)) return NULL;
    yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, len);

    bool in_document = false;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ld.parser, &ev)) {
            yaml_problem(&ld);
            goto done;
        }
        yaml_event_type_t type = ev.type;
        if (type == YAML_DOCUMENT_START_EVENT) {
            if (in_document || root) {
                errors_add(errs, ERR_YAML, mark_offset(&ld, ev.start_mark), 3,
                           "a contract file holds one YAML document");
                yaml_event_delete(&ev);
                ld.failed = true;
                goto done;
            }
            in_document = true;
        } else if (type == YAML_DOCUMENT_END_EVENT) {
            in_document = false;
        } else if (type == YAML_SCALAR_EVENT || type == YAML_SEQUENCE_START_EVENT ||
                   type == YAML_MAPPING_START_EVENT || type == YAML_ALIAS_EVENT) {
            root = load_node(&ld, &ev, 0);
            if (!root) {
                yaml_event_delete(&ev);
                goto done;
            }
        }
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT) break;
    }
done:
    yaml_parser_delete(&ld.parser);
    if (ld.failed) return NULL;
    return root;
}

ynode *ymap_get(const ynode *map, const char *key)
{
    if (!map || map->kind != Y_MAP) return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < map->count; i++) {
        const ynode *k = ymap_key(map, i);
        if (k->kind == Y_SCALAR && k->len == klen && memcmp(k->text, key, klen) == 0)
            return ymap_value(map, i);
    }
    return NULL;
}

uint32_t yscalar_offset(const ynode *n, uint32_t i)
{
    if (!n) return 0;
    if (n->kind != Y_SCALAR || !n->map) return n->offset;
    return n->map[i <= n->len ? i : n->len];
}

static bool plain_is_literal(const ynode *n)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < ARRAY_LEN(words); i++)
        if (strcmp(n->text, words[i]) == 0) return true;
    if (n->len == 0) return false;
    /* A JSON number: -?digits(.digits)?([eE][+-]?digits)? */
    const char *s = n->text;
    size_t i = 0;
    if (s[i] == '-') i++;
    size_t d = i;
    while (s[i] >= '0' && s[i] <= '9') i++;
    if (i == d || (s[d] == '0' && i - d > 1)) return false;
    if (s[i] == '.') {
        size_t f = ++i;
        while (s[i] >= '0' && s[i] <= '9') i++;
        if (i == f) return false;
    }
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-') i++;
        size_t e = i;
        while (s[i] >= '0' && s[i] <= '9') i++;
        if (i == e) return false;
    }
    return i == n->len;
}

void ynode_to_json(const ynode *n, strbuf *out)
{
    switch (n->kind) {
    case Y_SCALAR:
        if (n->plain && plain_is_literal(n))
            strbuf_append(out, n->text, n->len);
        else if (n->plain && (strcmp(n->text, "~") == 0 || n->len == 0))
            strbuf_puts(out, "null");
        else
            strbuf_json_string(out, n->text, n->len);
        break;
    case Y_SEQ:
        strbuf_putc(out, '[');
        for (uint32_t i = 0; i < n->count; i++) {
            if (i) strbuf_putc(out, ',');
            ynode_to_json(n->items[i], out);
        }
        strbuf_putc(out, ']');
        break;
    case Y_MAP:
        strbuf_putc(out, '{');
        for (uint32_t i = 0; i < n->count; i++) {
            const ynode *k = ymap_key(n, i);
            if (i) strbuf_putc(out, ',');
            if (k->kind == Y_SCALAR)
                strbuf_json_string(out, k->text, k->len);
            else
                strbuf_puts(out, "\"\"");
            strbuf_putc(out, ':');
            ynode_to_json(ymap_value(n, i), out);
        }
        strbuf_putc(out, '}');
        break;
    }
}
