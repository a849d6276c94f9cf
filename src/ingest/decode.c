/* The event decoder: jsmn tokens in, the contract's fields out, no tree.
 *
 * At construction every path the contract reads becomes a branch of a small
 * key trie ("properties" -> "asset" -> slot 7). Decoding makes one pass over
 * the bytes (scan_event) that checks the JSON, counts its tokens as jsmn
 * would, and notes where the value of each key the trie knows lies; unread
 * parts of an event cost only that check. Only when the pass refuses a line
 * does jsmn tokenise it, so that the refusal says what and where exactly as
 * it always has (decode_slow). */
#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "ingest/ingest.h"
#include "text/text.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Built-in targets: what baton reads from every event, whatever the contract. */
enum builtin {
    B_TYPE, B_EVENT, B_NAME, B_CATEGORY, B_TIMESTAMP, B_MESSAGE_ID, B_USER_ID, B_ANONYMOUS_ID,
    B_GROUP_ID, B_TRAIT_EMAIL, B_CONTEXT_EMAIL, B_PROP_EMAIL, B_TRAIT_PAIN, B_TRAIT_IMPACT,
    B_PROP_PAIN, B_PROP_IMPACT, B_TEXT, B_BODY, B_MESSAGE, B_QUESTION, B_COMMENT, B_SUBJECT,
    B_CHANNEL, B_SENDER_TYPE, B_AUTO_SUBMITTED, B_X_AUTOREPLY, B_X_AUTORESPOND, B_PRECEDENCE,
    B_PROP_CATEGORY, B_PATH, B_URL, B_TITLE, B_REFERRER, B_SECONDS, B_TRAIT_DOMAIN, B_REASON,
    B_AMOUNT, B_CAMPAIGN_SOURCE, B_UTM_SOURCE, B_FROM, B_SENDER_EMAIL, B_COUNT
};

static const struct {
    const char *path;
    uint8_t builtin;
} builtin_paths[] = {
    {"type", B_TYPE},
    {"event", B_EVENT},
    {"name", B_NAME},
    {"category", B_CATEGORY},
    {"timestamp", B_TIMESTAMP},
    {"messageId", B_MESSAGE_ID},
    {"userId", B_USER_ID},
    {"anonymousId", B_ANONYMOUS_ID},
    {"groupId", B_GROUP_ID},
    {"traits.email", B_TRAIT_EMAIL},
    {"context.traits.email", B_CONTEXT_EMAIL},
    {"properties.email", B_PROP_EMAIL},
    {"traits.pain", B_TRAIT_PAIN},
    {"traits.impact", B_TRAIT_IMPACT},
    {"properties.pain", B_PROP_PAIN},
    {"properties.impact", B_PROP_IMPACT},
    {"properties.text", B_TEXT},
    {"properties.body", B_BODY},
    {"properties.message", B_MESSAGE},
    {"properties.question", B_QUESTION},
    {"properties.comment", B_COMMENT},
    {"properties.subject", B_SUBJECT},
    {"properties.channel", B_CHANNEL},
    {"properties.sender_type", B_SENDER_TYPE},
    {"properties.headers.auto_submitted", B_AUTO_SUBMITTED},
    {"properties.headers.x_autoreply", B_X_AUTOREPLY},
    {"properties.headers.x_autorespond", B_X_AUTORESPOND},
    {"properties.headers.precedence", B_PRECEDENCE},
    {"properties.from", B_FROM},
    {"properties.sender_email", B_SENDER_EMAIL},
    {"properties.category", B_PROP_CATEGORY},
    {"properties.path", B_PATH},
    {"properties.url", B_URL},
    {"properties.title", B_TITLE},
    {"properties.referrer", B_REFERRER},
    {"properties.seconds", B_SECONDS},
    {"traits.domain", B_TRAIT_DOMAIN},
    {"properties.reason", B_REASON},
    {"properties.amount", B_AMOUNT},
    {"context.campaign.source", B_CAMPAIGN_SOURCE},
    {"properties.utm_source", B_UTM_SOURCE},
};

/* Where a slot's value comes from when it is not a plain JSON path. */
enum slot_rule {
    RULE_PATH,         /* the JSON path itself, for any event type */
    RULE_IDENTIFY,     /* the path, on identify events only (lead.* from traits) */
    RULE_GROUP,        /* the path, on group events only (account.* from traits) */
    RULE_EVENT_TYPE, RULE_EVENT_NAME, RULE_TIMESTAMP, RULE_MESSAGE_ID, RULE_USER_ID,
    RULE_ANONYMOUS_ID, RULE_PAGE, RULE_TEXT, RULE_SUBJECT, RULE_CHANNEL, RULE_TO_HUMAN,
    RULE_AUTOMATIC, RULE_ENGINE, /* filled by the engine (lead.stage, account.domain, ...) */
};

typedef struct slot_plan {
    uint8_t rule;
    uint8_t type;     /* expected enum value_type, VAL_NULL when dynamic */
    uint8_t builtin;  /* RULE_PAGE: which built-in holds it */
    int32_t target;   /* trie target for RULE_PATH/IDENTIFY/GROUP */
} slot_plan;

/* Where one target's value lies in the event: its bytes, quotes excluded. */
typedef struct found {
    int32_t start, end;
    uint8_t type;  /* jsmntype_t; JSMN_UNDEFINED when the event has no such key */
    bool escaped;  /* a string holding a backslash, not yet decoded */
} found;

/* A trie node: one JSON key and what sits under it. */
typedef struct trie {
    const char *key;
    uint32_t key_len;
    struct trie *children;
    uint32_t child_count, child_cap;
    int32_t target; /* index into the decoder's token table, or -1 */
    uint16_t *index; /* children by key_hash(), open addressing: child + 1, 0 when free */
    uint32_t index_mask;
    char pattern[16]; /* the key's first 16 bytes, zero-padded: compared 16 at a time */
} trie;

static uint32_t key_hash(const char *key, uint32_t len)
{
    return len ? len + (uint8_t)key[0] * 31u + (uint8_t)key[len - 1] * 7u : 0;
}

struct decoder {
    const contract *c;
    arena *a;
    trie root;
    uint32_t target_count;       /* B_COUNT built-ins, then one per contract path */
    found *found;                 /* per target: where its value lies in the event being decoded */
    slot_plan *plan;             /* per contract field slot */
    value *fields;
    size_t field_count;
    int32_t *tok;                        /* decode_slow: token index per target */
    jsmntok_t tokens[INGEST_MAX_TOKENS]; /* decode_slow only */
    time_ms default_time;
    int default_type;
};

void decoder_set_default_time(decoder *d, time_ms t)
{
    d->default_time = t;
}

void decoder_set_default_type(decoder *d, int type)
{
    d->default_type = type;
}

static const char *const type_names[] = {"track", "page", "identify", "group", "screen"};
static const uint8_t type_name_lens[] = {5, 4, 8, 5, 6};

const char *event_type_name(enum event_type t)
{
    return (size_t)t < ARRAY_LEN(type_names) ? type_names[t] : "?";
}

int event_type_find(str name)
{
    int type = -1;
    for (int i = 0; i < (int)ARRAY_LEN(type_names) && name.s; i++)
        if (str_eq_n(name, type_names[i], type_name_lens[i])) type = i;
    return type;
}

/* Adds a dotted path to the trie and returns its target. */
static int32_t trie_add(decoder *d, const char *path, int32_t target)
{
    trie *node = &d->root;
    const char *seg = path;
    for (;;) {
        const char *dot = strchr(seg, '.');
        uint32_t len = (uint32_t)(dot ? (size_t)(dot - seg) : strlen(seg));
        trie *child = NULL;
        for (uint32_t i = 0; i < node->child_count; i++)
            if (node->children[i].key_len == len && memcmp(node->children[i].key, seg, len) == 0)
                child = &node->children[i];
        if (!child) {
            if (node->child_count == node->child_cap) {
                uint32_t cap = node->child_cap ? 2 * node->child_cap : 4;
                trie *bigger = arena_alloc(d->a, cap * sizeof *bigger);
                if (!bigger) return -1;
                if (node->child_count) memcpy(bigger, node->children, node->child_count * sizeof *bigger);
                node->children = bigger;
                node->child_cap = cap;
            }
            child = &node->children[node->child_count++];
            memset(child, 0, sizeof *child);
            child->key = arena_strndup(d->a, seg, len);
            child->key_len = len;
            memcpy(child->pattern, seg, len < sizeof child->pattern ? len : sizeof child->pattern);
            child->target = -1;
            if (!child->key) return -1;
        }
        node = child;
        if (!dot) break;
        seg = dot + 1;
    }
    if (node->target < 0) node->target = target >= 0 ? target : (int32_t)d->target_count++;
    return node->target;
}

/* Indexes the children of `node` and of every node below it, once the trie
 * is complete; false when memory runs out. */
static bool trie_index(decoder *d, trie *node)
{
    if (!node->child_count) return true;
    uint32_t size = 4;
    while (size < 2 * node->child_count) size *= 2;
    node->index = arena_zalloc(d->a, size * sizeof *node->index);
    if (!node->index) return false;
    node->index_mask = size - 1;
    for (uint32_t c = 0; c < node->child_count; c++) {
        const trie *t = &node->children[c];
        uint32_t h = key_hash(t->key, t->key_len) & node->index_mask;
        while (node->index[h]) h = (h + 1) & node->index_mask;
        node->index[h] = (uint16_t)(c + 1);
        if (!trie_index(d, &node->children[c])) return false;
    }
    return true;
}

static const struct {
    const char *path;
    uint8_t rule;
    uint8_t builtin;
} derived[] = {
    {"event.type", RULE_EVENT_TYPE, 0},       {"event.name", RULE_EVENT_NAME, 0},
    {"event.timestamp", RULE_TIMESTAMP, 0},   {"event.message_id", RULE_MESSAGE_ID, 0},
    {"event.user_id", RULE_USER_ID, 0},       {"event.anonymous_id", RULE_ANONYMOUS_ID, 0},
    {"page.category", RULE_PAGE, B_CATEGORY}, {"page.name", RULE_PAGE, B_NAME},
    {"page.path", RULE_PAGE, B_PATH},         {"page.url", RULE_PAGE, B_URL},
    {"page.title", RULE_PAGE, B_TITLE},       {"page.referrer", RULE_PAGE, B_REFERRER},
    {"page.seconds", RULE_PAGE, B_SECONDS},   {"message.text", RULE_TEXT, 0},
    {"message.subject", RULE_SUBJECT, 0},     {"message.channel", RULE_CHANNEL, 0},
    {"reply.to_human", RULE_TO_HUMAN, 0},     {"reply.automatic", RULE_AUTOMATIC, 0},
    {"lead.id", RULE_ENGINE, 0},              {"lead.stage", RULE_ENGINE, 0},
    {"lead.owner", RULE_ENGINE, 0},           {"lead.status", RULE_ENGINE, 0},
    {"account.domain", RULE_ENGINE, 0},
};

/* How a contract field slot is filled. */
static bool plan_slot(decoder *d, size_t slot)
{
    const field_info *f = contract_field(d->c, slot);
    slot_plan *p = &d->plan[slot];
    p->type = f->type;
    p->target = -1;
    for (size_t i = 0; i < ARRAY_LEN(derived); i++) {
        if (strcmp(derived[i].path, f->path) == 0) {
            p->rule = derived[i].rule;
            p->builtin = derived[i].builtin;
            return true;
        }
    }
    if (strncmp(f->path, "page.", 5) == 0) { /* any other page.x is properties.x on page events */
        char path[512];
        snprintf(path, sizeof path, "properties.%s", f->path + 5);
        p->rule = RULE_PAGE;
        p->builtin = B_COUNT; /* marks "use target" */
        p->target = trie_add(d, path, -1);
        return p->target >= 0;
    }
    const char *json_path = f->path;
    char path[512];
    if (f->scope == SCOPE_LEAD) {
        /* lead.title -> traits.title; lead.traits.x -> traits.x */
        const char *rest = f->path + 5;
        if (strncmp(rest, "traits.", 7) == 0) rest += 7;
        snprintf(path, sizeof path, "traits.%s", rest);
        json_path = path;
        p->rule = RULE_IDENTIFY;
    } else if (f->scope == SCOPE_ACCOUNT) {
        const char *rest = f->path + 8;
        if (strncmp(rest, "traits.", 7) == 0) rest += 7;
        snprintf(path, sizeof path, "traits.%s", rest);
        json_path = path;
        p->rule = RULE_GROUP;
    } else {
        p->rule = RULE_PATH;
    }
    p->target = trie_add(d, json_path, -1);
    return p->target >= 0;
}

decoder *decoder_new(const contract *c)
{
    decoder *d = mem_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->c = c;
    d->default_type = -1;
    d->a = arena_new(16 * 1024);
    d->root.target = -1;
    if (!d->a) goto fail;
    d->target_count = B_COUNT;
    for (size_t i = 0; i < ARRAY_LEN(builtin_paths); i++)
        if (trie_add(d, builtin_paths[i].path, builtin_paths[i].builtin) < 0) goto fail;
    d->field_count = contract_field_count(c);
    d->plan = arena_zalloc(d->a, (d->field_count ? d->field_count : 1) * sizeof *d->plan);
    d->fields = arena_zalloc(d->a, (d->field_count ? d->field_count : 1) * sizeof *d->fields);
    if (!d->plan || !d->fields) goto fail;
    for (size_t i = 0; i < d->field_count; i++)
        if (!plan_slot(d, i)) goto fail;
    if (!trie_index(d, &d->root)) goto fail;
    d->tok = arena_alloc(d->a, d->target_count * sizeof *d->tok);
    d->found = arena_alloc(d->a, d->target_count * sizeof *d->found);
    if (!d->tok || !d->found || arena_failed(d->a)) goto fail;
    return d;
fail:
    decoder_free(d);
    return NULL;
}

void decoder_free(decoder *d)
{
    if (!d) return;
    arena_free(d->a);
    mem_free(d);
}

/* ---- token walking ----------------------------------------------------------- */

/* The index just past the value starting at token i. */
static int skip(const jsmntok_t *t, int i, int count)
{
    int pending = 1;
    while (pending > 0 && i < count) {
        if (t[i].type == JSMN_OBJECT) pending += 2 * t[i].size;
        else if (t[i].type == JSMN_ARRAY) pending += t[i].size;
        pending--;
        i++;
    }
    return i;
}

/* Records, for every trie target under `node`, the token holding its value. */
static int walk(decoder *d, const char *js, const trie *node, int i, int count)
{
    const jsmntok_t *t = d->tokens;
    if (t[i].type != JSMN_OBJECT) return skip(t, i, count);
    int pairs = t[i].size;
    i++;
    for (int p = 0; p < pairs && i < count; p++) {
        const jsmntok_t *key = &t[i];
        uint32_t klen = (uint32_t)(key->end - key->start);
        const trie *child = NULL;
        char first = klen ? js[key->start] : '\0';
        for (uint32_t c = 0; c < node->child_count; c++) {
            if (node->children[c].key_len == klen && node->children[c].key[0] == first &&
                memcmp(node->children[c].key, js + key->start, klen) == 0) {
                child = &node->children[c];
                break;
            }
        }
        i++; /* the value */
        if (!child) {
            i = skip(t, i, count);
            continue;
        }
        if (child->target >= 0) d->tok[child->target] = i;
        if (child->child_count && t[i].type == JSMN_OBJECT) i = walk(d, js, child, i, count);
        else i = skip(t, i, count);
    }
    return i;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool read_hex4(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_digit(s[i]);
        if (h < 0) return false;
        v = v * 16 + (uint32_t)h;
    }
    *out = v;
    return true;
}

/* Decodes a JSON string's escapes in place; false on a malformed escape. */
static bool unescape(char *s, uint32_t *len)
{
    uint32_t r = 0, w = 0, n = *len;
    if (!s) return n == 0;
    while (r < n) {
        char c = s[r];
        if (c != '\\') {
            s[w++] = s[r++];
            continue;
        }
        if (r + 1 >= n) return false;
        char e = s[r + 1];
        r += 2;
        switch (e) {
        case '"': s[w++] = '"'; break;
        case '\\': s[w++] = '\\'; break;
        case '/': s[w++] = '/'; break;
        case 'b': s[w++] = '\b'; break;
        case 'f': s[w++] = '\f'; break;
        case 'n': s[w++] = '\n'; break;
        case 'r': s[w++] = '\r'; break;
        case 't': s[w++] = '\t'; break;
        case 'u': {
            uint32_t cp;
            if (r + 4 > n || !read_hex4(s + r, &cp)) return false;
            r += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
                uint32_t lo;
                if (r + 6 > n || s[r] != '\\' || s[r + 1] != 'u' || !read_hex4(s + r + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return false;
                r += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return false;
            }
            /* UTF-8 is never longer than the escape it replaces. */
            if (cp < 0x80) {
                s[w++] = (char)cp;
            } else if (cp < 0x800) {
                s[w++] = (char)(0xC0 | (cp >> 6));
                s[w++] = (char)(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                s[w++] = (char)(0xE0 | (cp >> 12));
                s[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                s[w++] = (char)(0x80 | (cp & 0x3F));
            } else {
                s[w++] = (char)(0xF0 | (cp >> 18));
                s[w++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                s[w++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                s[w++] = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: return false;
        }
    }
    *len = w;
    return true;
}

/* ---- validation ---------------------------------------------------------------
 * jsmn finds the tokens but lets some malformed JSON through: a missing or
 * trailing comma, `tru`, `01`. One pass over the tokens checks what lies
 * between them and how primitives are spelled. It returns the byte offset of
 * the first problem, or -1. */

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips whitespace from pos; returns the position of the next other byte. */
static int skip_ws(const char *js, int pos, int end)
{
    while (pos < end && is_ws(js[pos])) pos++;
    return pos;
}

static bool primitive_ok(const char *s, int n)
{
    if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
        (n == 4 && memcmp(s, "null", 4) == 0))
        return true;
    int i = 0;
    if (i < n && s[i] == '-') i++;
    if (i >= n || s[i] < '0' || s[i] > '9') return false;
    if (s[i] == '0') i++;
    else while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i < n && s[i] == '.') {
        int f = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == f) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        int e = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == e) return false;
    }
    return i == n;
}

/* Where a token's text begins and ends, quotes included. */
static int tok_begin(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->start - 1 : t->start;
}

static int tok_end(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

/* Checks the value at token *i and everything inside it; advances *i. */
static int validate_value(const jsmntok_t *t, int *i, int count, const char *js)
{
    const jsmntok_t *v = &t[(*i)++];
    if (v->type == JSMN_PRIMITIVE)
        return primitive_ok(js + v->start, v->end - v->start) ? -1 : v->start;
    if (v->type == JSMN_STRING) return -1;
    bool object = v->type == JSMN_OBJECT;
    int pos = v->start + 1, close = v->end - 1;
    for (int k = 0; k < v->size; k++) {
        if (*i >= count) return v->start;
        if (k > 0) { /* a comma between members */
            pos = skip_ws(js, pos, close);
            if (js[pos] != ',') return pos;
            pos++;
        }
        if (object) {
            const jsmntok_t *key = &t[*i];
            if (key->type != JSMN_STRING || skip_ws(js, pos, close) != tok_begin(key)) return skip_ws(js, pos, close);
            (*i)++;
            pos = skip_ws(js, tok_end(key), close);
            if (js[pos] != ':') return pos;
            pos++;
        }
        if (*i >= count) return v->start;
        const jsmntok_t *member = &t[*i];
        if (skip_ws(js, pos, close) != tok_begin(member)) return skip_ws(js, pos, close);
        int bad = validate_value(t, i, count, js);
        if (bad >= 0) return bad;
        pos = tok_end(member);
    }
    pos = skip_ws(js, pos, close);
    return pos == close ? -1 : pos;
}

/* ---- the one pass ---------------------------------------------------------------
 * scan_event() accepts exactly the lines that jsmn (strict) followed by
 * validate_value() and the trailing-data check accept, without tokens:
 *   1. one object in RFC 8259's grammar, after leading ' ', '\t' or '\r';
 *      strings may hold any byte but NUL, and escapes are checked as jsmn
 *      checks them (\u needs four hex digits; surrogates are left to
 *      unescape(), when the string is read);
 *   2. at most INGEST_MAX_TOKENS tokens, counted as jsmn counts them: each
 *      object, array, key, string and primitive;
 *   3. after the object, only whitespace, ',' and ':' (which jsmn passes
 *      over there) up to the end or a NUL byte.
 * tests/ingest/test_decode.c pins the edges of each. On the way it notes, for
 * each key the trie knows, where its value lies (the last one wins when a
 * key repeats, as the token walk did). */

typedef struct scanner {
    found *found;
    const char *line, *end;
    uint32_t tokens;
} scanner;

/* Bytes that stop the run of plain bytes inside a string. */
static const uint8_t string_stop[256] = {[0] = 1, ['"'] = 1, ['\\'] = 1};
/* Bytes after which jsmn ends a primitive: whitespace, ',', ']' and '}'. */
static const uint8_t primitive_end[256] = {['\t'] = 1, ['\n'] = 1, ['\r'] = 1, [' '] = 1,
                                           [','] = 1,  [']'] = 1,  ['}'] = 1};

static const char *scan_ws(const char *p, const char *end)
{
    if (p < end && (uint8_t)*p > ' ') return p; /* the common case: none */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* Skips plain string bytes sixteen at a time while sixteen remain (SSE2,
 * which every x86-64 has); elsewhere the byte loop does it all. */
static const char *string_run(const char *p, const char *end)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), nul = _mm_setzero_si128();
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                                   _mm_cmpeq_epi8(v, nul));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    (void)end;
#endif
    return p;
}

/* The string whose opening quote is at p; returns the byte after its
 * closing quote, or NULL. Sets *escaped when it holds a backslash. */
static const char *scan_string(const char *p, const char *end, bool *escaped)
{
    p++;
    for (;;) {
        p = string_run(p, end);
        while (p < end && !string_stop[(uint8_t)*p]) p++;
        if (p >= end || *p == '\0') return NULL;
        if (*p == '"') return p + 1;
        *escaped = true;
        if (end - p < 2) return NULL;
        switch (p[1]) {
        case '"': case '/': case '\\': case 'b': case 'f': case 'n': case 'r': case 't': p += 2; break;
        case 'u':
            if (end - p < 6 || hex_digit(p[2]) < 0 || hex_digit(p[3]) < 0 || hex_digit(p[4]) < 0 ||
                hex_digit(p[5]) < 0)
                return NULL;
            p += 6;
            break;
        default: return NULL;
        }
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A number, true, false or null at p (p < end); the byte after it, or NULL
 * when it is misspelt or not followed by what ends a primitive. */
static const char *scan_primitive(const char *p, const char *end)
{
    switch (*p) {
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0) return NULL;
        p += 4;
        break;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0) return NULL;
        p += 5;
        break;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0) return NULL;
        p += 4;
        break;
    default: /* the grammar primitive_ok() checks */
        if (*p == '-') p++;
        if (p >= end || !is_digit(*p)) return NULL;
        if (*p == '0') p++;
        else while (p < end && is_digit(*p)) p++;
        if (p < end && *p == '.') {
            const char *f = ++p;
            while (p < end && is_digit(*p)) p++;
            if (p == f) return NULL;
        }
        if (p < end && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < end && (*p == '+' || *p == '-')) p++;
            const char *e = p;
            while (p < end && is_digit(*p)) p++;
            if (p == e) return NULL;
        }
    }
    return p < end && primitive_end[(uint8_t)*p] ? p : NULL;
}

#ifdef __SSE2__
/* Where the 16 bytes at p hold '"', '\\' or NUL, one bit each. */
static unsigned string_stops(__m128i v)
{
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), nul = _mm_setzero_si128();
    return (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)), _mm_cmpeq_epi8(v, nul)));
}

/* The length of the string whose body starts at p when it ends, unescaped,
 * within the 16 bytes there (which must lie before the end); -1 otherwise,
 * and *v holds those bytes. Most keys and many values are that short. */
static int short_string(const char *p, __m128i *v)
{
    *v = _mm_loadu_si128((const __m128i *)(const void *)p);
    unsigned stops = string_stops(*v);
    if (!stops) return -1;
    int len = __builtin_ctz(stops);
    return p[len] == '"' ? len : -1;
}
#endif

/* The child of `node` keyed by key[0, len), or NULL. Keys compare as their
 * raw bytes, escapes undecoded. */
static const trie *trie_find(const trie *node, const char *key, uint32_t len)
{
    for (uint32_t h = key_hash(key, len) & node->index_mask;; h = (h + 1) & node->index_mask) {
        uint32_t c = node->index[h];
        if (!c) return NULL; /* the index is never full */
        const trie *t = &node->children[c - 1];
        if (t->key_len == len && memcmp(t->key, key, len) == 0) return t;
    }
}

static const char *scan_object(scanner *s, const char *p, const trie *node);
static const char *scan_array(scanner *s, const char *p);

/* The key whose opening quote is at p, looked up in `node` (may be NULL)
 * into *child; the byte after its closing quote, or NULL. */
static const char *scan_key(const char *p, const char *end, const trie *node, const trie **child)
{
    const char *key = p + 1;
#ifdef __SSE2__
    if (end - key >= 16) {
        __m128i v;
        int len = short_string(key, &v);
        if (len >= 0) {
            *child = NULL;
            if (!node) return key + len + 1;
            /* trie_find(), comparing the key as one vector */
            unsigned want = (1u << len) - 1;
            for (uint32_t h = key_hash(key, (uint32_t)len) & node->index_mask;; h = (h + 1) & node->index_mask) {
                uint32_t c = node->index[h];
                if (!c) break;
                const trie *t = &node->children[c - 1];
                __m128i k = _mm_loadu_si128((const __m128i *)(const void *)t->pattern);
                if (t->key_len == (uint32_t)len && ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, k)) & want) == want) {
                    *child = t;
                    break;
                }
            }
            return key + len + 1;
        }
    }
#endif
    bool escaped = false;
    p = scan_string(p, end, &escaped);
    *child = p && node ? trie_find(node, key, (uint32_t)(p - 1 - key)) : NULL;
    return p;
}

/* The value at p; notes where it lies when `node` is a target, and looks
 * into it when it is an object and `node` has children. The byte after it,
 * or NULL when it is not valid. */
/* Where the value [start, end) of a field the contract reads lies (a
 * string's without its quotes); nothing for a node that is not a field. */
static inline void note_found(scanner *s, const trie *node, uint8_t type, bool escaped, const char *start,
                              const char *end)
{
    if (!node || node->target < 0) return;
    found *f = &s->found[node->target];
    bool quoted = type == JSMN_STRING;
    f->type = type;
    f->escaped = escaped;
    f->start = (int32_t)(start + quoted - s->line);
    f->end = (int32_t)(end - quoted - s->line);
}

/* The value at p, which is not past the end: its type, whether a string
 * holds escapes, and where it ends; NULL when it is not valid. An object's
 * members are looked up in `node`. A string that ends within 16 bytes takes
 * one vector load. */
static inline const char *scan_any(scanner *s, const char *p, const trie *node, uint8_t *type, bool *escaped)
{
    switch (*p) {
    case '"':
        *type = JSMN_STRING;
#ifdef __SSE2__
        if (s->end - p > 16) {
            __m128i v;
            int len = short_string(p + 1, &v);
            if (len >= 0) return p + len + 2;
        }
#endif
        return scan_string(p, s->end, escaped);
    case '{': *type = JSMN_OBJECT; return scan_object(s, p, node && node->child_count ? node : NULL);
    case '[': *type = JSMN_ARRAY; return scan_array(s, p);
    default: *type = JSMN_PRIMITIVE; return scan_primitive(p, s->end);
    }
}

static const char *scan_value(scanner *s, const char *p, const trie *node)
{
    if (p >= s->end || ++s->tokens > INGEST_MAX_TOKENS) return NULL;
    const char *start = p;
    bool escaped = false;
    uint8_t type;
    p = scan_any(s, p, node, &type, &escaped);
    if (p) note_found(s, node, type, escaped, start, p);
    return p;
}

/* The object whose '{' is at p, its members looked up in `node` (NULL: none
 * are read). Member values are scanned here rather than through
 * scan_value(), which only the objects and arrays inside go back to; where
 * a value fails does not matter, only that it fails. */
static const char *scan_object(scanner *s, const char *p, const trie *node)
{
    const char *end = s->end;
    p = scan_ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (;;) {
        if (p >= end || *p != '"') return NULL;
        const trie *child;
        p = scan_key(p, end, node, &child);
        if (!p) return NULL;
        p = scan_ws(p, end);
        if (p >= end || *p != ':') return NULL;
        p = scan_ws(p + 1, end);
        if (p >= end || (s->tokens += 2) > INGEST_MAX_TOKENS) return NULL; /* the key and its value */
        const char *start = p;
        bool escaped = false;
        uint8_t type;
        p = scan_any(s, p, child, &type, &escaped);
        if (!p) return NULL;
        note_found(s, child, type, escaped, start, p);
        p = scan_ws(p, end);
        if (p >= end) return NULL;
        if (*p == '}') return p + 1;
        if (*p != ',') return NULL;
        p = scan_ws(p + 1, end);
    }
}

/* The array whose '[' is at p; nothing in it is read. */
static const char *scan_array(scanner *s, const char *p)
{
    const char *end = s->end;
    p = scan_ws(p + 1, end);
    if (p < end && *p == ']') return p + 1;
    for (;;) {
        p = scan_value(s, p, NULL);
        if (!p) return NULL;
        p = scan_ws(p, end);
        if (p >= end) return NULL;
        if (*p == ']') return p + 1;
        if (*p != ',') return NULL;
        p = scan_ws(p + 1, end);
    }
}

/* Checks the event whose '{' is at json[lead] and fills d->found; false
 * when decode_slow() must say what is wrong. */
static bool scan_event(decoder *d, const char *json, size_t len, size_t lead)
{
    scanner s = {.found = d->found, .line = json, .end = json + len};
    memset(d->found, 0, d->target_count * sizeof *d->found);
    const char *p = scan_value(&s, json + lead, &d->root);
    if (!p) return false;
    for (; p < s.end && *p; p++)
        if (!is_ws(*p) && *p != ',' && *p != ':') return false;
    return true;
}

typedef struct ctx {
    decoder *d;
    char *js;
    decode_error *err;
    bool failed;
} ctx;

static void fail(ctx *x, uint32_t offset, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void fail(ctx *x, uint32_t offset, const char *fmt, ...)
{
    if (x->failed) return;
    x->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err->what, sizeof x->err->what, fmt, ap);
    va_end(ap);
    x->err->offset = offset;
}

static str string_decoded(ctx *x, found *f);

/* The string at a target, decoded; empty when absent or not a string.
 * Inline: most targets an event is asked for are absent. */
static inline str string_at(ctx *x, int target)
{
    str s = {NULL, 0};
    found *f = &x->d->found[target];
    if (f->type != JSMN_STRING) return s;
    if (f->escaped) return string_decoded(x, f);
    s.s = x->js + f->start;
    s.len = (uint32_t)(f->end - f->start);
    return s;
}

/* string_at() for a string holding escapes: decodes them in place, once. */
static str string_decoded(ctx *x, found *f)
{
    str s = {NULL, 0};
    char *p = x->js + f->start;
    uint32_t len = (uint32_t)(f->end - f->start);
    if (f->escaped) {
        if (!unescape(p, &len)) {
            fail(x, (uint32_t)f->start, "malformed escape in string");
            return s;
        }
        f->end = f->start + (int32_t)len; /* the decoded length from now on */
        f->escaped = false;
    }
    s.s = p;
    s.len = len;
    return s;
}

/* The number a token spells: strtod's reading, with a shortcut for plain
 * integers short enough to be exact in a double (the same value). */
static bool number_at(ctx *x, int target, double *out)
{
    const found *f = &x->d->found[target];
    if (f->type != JSMN_PRIMITIVE && f->type != JSMN_STRING) return false;
    const char *s = x->js + f->start;
    uint32_t len = (uint32_t)(f->end - f->start);
    if (len == 0 || len >= 64) return false;
    uint32_t i = s[0] == '-';
    if (len - i >= 1 && len - i <= 15) {
        uint64_t n = 0;
        while (i < len && is_digit(s[i])) n = n * 10 + (uint64_t)(s[i++] - '0');
        if (i == len) {
            *out = s[0] == '-' ? -(double)n : (double)n;
            return true;
        }
    }
    char buf[64];
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    double v = strtod(buf, &end);
    if (*end || end == buf) return false;
    *out = v;
    return true;
}

/* A JSON value at a target as an expression value, coerced to `want` where
 * the JSON spelling allows (a numeric string for a number slot). */
static value value_at(ctx *x, int target, uint8_t want)
{
    value v = {.type = VAL_NULL};
    if (target < 0) return v;
    const found *f = &x->d->found[target];
    if (f->type == JSMN_STRING) {
        str s = string_at(x, target);
        if (want == VAL_NUM) {
            double n;
            if (number_at(x, target, &n)) {
                v.type = VAL_NUM;
                v.as.num = n;
            }
            return v;
        }
        if (want == VAL_TIME) {
            if (time_parse(s.s, s.len, &v.as.ms)) v.type = VAL_TIME;
            return v;
        }
        v.type = VAL_STR;
        v.as.str.s = s.s;
        v.as.str.len = s.len;
        v.as.str.id = contract_intern_find(x->d->c, s.s, s.len);
        return v;
    }
    if (f->type != JSMN_PRIMITIVE) return v; /* objects and arrays are not values */
    char c = x->js[f->start];
    if (c == 't' || c == 'f') {
        v.type = VAL_BOOL;
        v.as.b = c == 't';
    } else if (c != 'n' && number_at(x, target, &v.as.num)) {
        v.type = VAL_NUM;
    }
    return v;
}

static value str_value(ctx *x, str s)
{
    value v = {.type = VAL_NULL};
    if (!s.s) return v;
    v.type = VAL_STR;
    v.as.str.s = s.s;
    v.as.str.len = s.len;
    v.as.str.id = contract_intern_find(x->d->c, s.s, s.len);
    return v;
}

static str first_of(ctx *x, const uint8_t *targets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        str s = string_at(x, targets[i]);
        if (s.s) return s;
    }
    str none = {NULL, 0};
    return none;
}

/* The slow path, for a line scan_event() refused: jsmn tokenises it and
 * validate_value() checks the tokens, to say what is wrong and where. Should
 * both accept the line after all, the token walk fills d->found in
 * scan_event()'s place, and the decode goes on. */
static bool decode_slow(ctx *x, char *json, size_t len)
{
    decoder *d = x->d;
    jsmn_parser p;
    jsmn_init(&p);
    int count = jsmn_parse(&p, json, len, d->tokens, INGEST_MAX_TOKENS);
    if (count < 0) {
        if (count == JSMN_ERROR_NOMEM)
            fail(x, p.pos, "more than %d JSON tokens in one event", INGEST_MAX_TOKENS);
        else if (count == JSMN_ERROR_PART)
            fail(x, (uint32_t)len, "JSON ends early: an object or string is not closed");
        else
            fail(x, p.pos, "invalid JSON at byte %u", p.pos + 1);
        return false;
    }
    if (count == 0 || d->tokens[0].type != JSMN_OBJECT) {
        fail(x, 0, "an event must be a JSON object");
        return false;
    }
    int next = 0, bad = validate_value(d->tokens, &next, count, json);
    if (bad >= 0) {
        fail(x, (uint32_t)bad, "invalid JSON at byte %d", bad + 1);
        return false;
    }
    int end = skip(d->tokens, 0, count);
    if (end != count) {
        fail(x, (uint32_t)d->tokens[end].start, "unexpected data after the event's closing brace");
        return false;
    }
    for (uint32_t i = 0; i < d->target_count; i++) d->tok[i] = -1;
    walk(d, json, &d->root, 0, count);
    for (uint32_t i = 0; i < d->target_count; i++) {
        found *f = &d->found[i];
        memset(f, 0, sizeof *f);
        if (d->tok[i] < 0) continue;
        const jsmntok_t *t = &d->tokens[d->tok[i]];
        f->start = t->start;
        f->end = t->end;
        f->type = (uint8_t)t->type;
        f->escaped = t->type == JSMN_STRING && memchr(json + t->start, '\\', (size_t)(t->end - t->start));
    }
    return true;
}

bool decoder_decode(decoder *d, char *json, size_t len, event *out, decode_error *err)
{
    ctx x = {.d = d, .js = json, .err = err};
    memset(out, 0, sizeof *out);
    err->what[0] = '\0';
    err->offset = 0;
    if (len > INGEST_MAX_EVENT_BYTES) {
        fail(&x, 0, "event is %zu bytes, more than the %u allowed", len, INGEST_MAX_EVENT_BYTES);
        return false;
    }
    size_t lead = 0;
    while (lead < len && (json[lead] == ' ' || json[lead] == '\t' || json[lead] == '\r')) lead++;
    if (lead == len || json[lead] != '{') {
        fail(&x, (uint32_t)lead, "an event must be a JSON object, starting with '{'");
        return false;
    }
    if (!scan_event(d, json, len, lead) && !decode_slow(&x, json, len)) return false;

    /* type */
    str type = string_at(&x, B_TYPE);
    int ti = event_type_find(type);
    if (!type.s && d->default_type >= 0) {
        type.s = type_names[d->default_type];
        type.len = type_name_lens[d->default_type];
        ti = d->default_type;
    }
    if (!type.s) {
        fail(&x, 0, "missing \"type\" (track, page, identify, group or screen)");
        return false;
    }
    if (ti < 0) {
        fail(&x, (uint32_t)(type.s - json), "unknown type \"%.*s\" (track, page, identify, group or screen)",
             (int)(type.len < 40 ? type.len : 40), type.s);
        return false;
    }
    if (d->default_type >= 0 && ti != d->default_type) {
        fail(&x, (uint32_t)(type.s - json), "this endpoint takes %s calls, not %s", type_names[d->default_type], type_names[ti]);
        return false;
    }
    out->type = (uint8_t)ti;

    str ts = string_at(&x, B_TIMESTAMP);
    if (!ts.s && d->default_time) {
        out->timestamp = d->default_time;
    } else if (!ts.s) {
        fail(&x, 0, "missing \"timestamp\"");
        return false;
    } else if (!time_parse(ts.s, ts.len, &out->timestamp)) {
        fail(&x, (uint32_t)(ts.s - json), "\"timestamp\" is not an ISO-8601 time: \"%.*s\"",
             (int)(ts.len < 40 ? ts.len : 40), ts.s);
        return false;
    }
    out->message_id = string_at(&x, B_MESSAGE_ID);
    out->user_id = string_at(&x, B_USER_ID);
    out->anonymous_id = string_at(&x, B_ANONYMOUS_ID);
    if (!out->user_id.len && !out->anonymous_id.len) {
        fail(&x, 0, "the event has neither \"userId\" nor \"anonymousId\"");
        return false;
    }
    out->group_id = string_at(&x, B_GROUP_ID);
    out->name = string_at(&x, out->type == EVENT_TRACK ? B_EVENT : B_NAME);
    if (out->type == EVENT_TRACK && !out->name.s) {
        fail(&x, 0, "a track event needs an \"event\" name");
        return false;
    }
    static const uint8_t email_from[] = {B_TRAIT_EMAIL, B_CONTEXT_EMAIL, B_PROP_EMAIL};
    static const uint8_t pain_from[] = {B_TRAIT_PAIN, B_PROP_PAIN};
    static const uint8_t impact_from[] = {B_TRAIT_IMPACT, B_PROP_IMPACT};
    static const uint8_t text_from[] = {B_TEXT, B_BODY, B_MESSAGE, B_QUESTION, B_COMMENT};
    static const uint8_t source_from[] = {B_CAMPAIGN_SOURCE, B_UTM_SOURCE};
    out->email = first_of(&x, email_from, ARRAY_LEN(email_from));
    out->pain = first_of(&x, pain_from, ARRAY_LEN(pain_from));
    out->impact = first_of(&x, impact_from, ARRAY_LEN(impact_from));
    out->text = first_of(&x, text_from, ARRAY_LEN(text_from));
    out->domain = string_at(&x, B_TRAIT_DOMAIN);
    out->reason = string_at(&x, B_REASON);
    out->source = first_of(&x, source_from, ARRAY_LEN(source_from));
    number_at(&x, B_AMOUNT, &out->amount);

    for (size_t i = 0; i < d->field_count; i++) {
        const slot_plan *pl = &d->plan[i];
        value *v = &d->fields[i];
        v->type = VAL_NULL;
        switch (pl->rule) {
        case RULE_PATH:
            /* most paths are absent from most events: null, as value_at() would make it */
            if (pl->target >= 0 && d->found[pl->target].type != JSMN_UNDEFINED)
                *v = value_at(&x, pl->target, pl->type);
            break;
        case RULE_IDENTIFY:
            if (out->type == EVENT_IDENTIFY) *v = value_at(&x, pl->target, pl->type);
            break;
        case RULE_GROUP:
            if (out->type == EVENT_GROUP) *v = value_at(&x, pl->target, pl->type);
            break;
        case RULE_EVENT_TYPE: *v = str_value(&x, type); break;
        case RULE_EVENT_NAME: *v = str_value(&x, out->name); break;
        case RULE_TIMESTAMP:
            v->type = VAL_TIME;
            v->as.ms = out->timestamp;
            break;
        case RULE_MESSAGE_ID: *v = str_value(&x, out->message_id); break;
        case RULE_USER_ID: *v = str_value(&x, out->user_id); break;
        case RULE_ANONYMOUS_ID: *v = str_value(&x, out->anonymous_id); break;
        case RULE_PAGE:
            if (out->type != EVENT_PAGE) break;
            if (pl->builtin == B_COUNT) *v = value_at(&x, pl->target, pl->type);
            else if (pl->builtin == B_CATEGORY) {
                *v = value_at(&x, B_CATEGORY, VAL_STR);
                if (v->type == VAL_NULL) *v = value_at(&x, B_PROP_CATEGORY, VAL_STR);
            } else {
                *v = value_at(&x, pl->builtin, pl->type);
            }
            break;
        case RULE_TEXT: *v = str_value(&x, out->text); break;
        case RULE_SUBJECT: *v = str_value(&x, string_at(&x, B_SUBJECT)); break;
        case RULE_CHANNEL: *v = str_value(&x, string_at(&x, B_CHANNEL)); break;
        case RULE_TO_HUMAN: {
            str sender = string_at(&x, B_SENDER_TYPE);
            if (sender.s) {
                v->type = VAL_BOOL;
                v->as.b = str_eq(sender, "human");
            }
            break;
        }
        case RULE_AUTOMATIC: {
            /* only a reply can be automatic: one that says who it answered,
             * or carries mail headers */
            if (!d->found[B_SENDER_TYPE].type && !d->found[B_AUTO_SUBMITTED].type && !d->found[B_X_AUTOREPLY].type &&
                !d->found[B_X_AUTORESPOND].type && !d->found[B_PRECEDENCE].type) {
                v->type = VAL_BOOL;
                v->as.b = false;
                break;
            }
            static const uint8_t from_from[] = {B_FROM, B_SENDER_EMAIL};
            reply_facts f = {
                .from = first_of(&x, from_from, ARRAY_LEN(from_from)),
                .auto_submitted = string_at(&x, B_AUTO_SUBMITTED),
                .x_autoreply = string_at(&x, B_X_AUTOREPLY),
                .x_autorespond = string_at(&x, B_X_AUTORESPOND),
                .precedence = string_at(&x, B_PRECEDENCE),
                .subject = string_at(&x, B_SUBJECT),
                .body = out->text,
            };
            v->type = VAL_BOOL;
            v->as.b = text_reply_is_automatic(&f);
            break;
        }
        default: break; /* RULE_ENGINE */
        }
    }
    out->fields = d->fields;
    return !x.failed;
}

/* ---- Segment batches ---------------------------------------------------------------------- */

/* Splits {"batch":[...]} into messages by their byte ranges. */
const char *ingest_split_batch(const char *body, size_t len, bool (*each)(void *ctx, const char *json, size_t len),
                               void *arg, uint32_t *where)
{
    /* One pass: room for a token every 8 bytes, which a batch of events
     * seldom needs more of; when it does, jsmn carries on where it stopped
     * once the room is doubled. (Counting the tokens first took a second pass.) */
    jsmn_parser p;
    jsmn_init(&p);
    size_t cap = len / 8 + 16;
    jsmntok_t *t = mem_alloc(cap * sizeof *t);
    if (!t) return "out of memory";
    int n;
    while ((n = jsmn_parse(&p, body, len, t, (unsigned)cap)) == JSMN_ERROR_NOMEM) {
        jsmntok_t *more = cap <= UINT_MAX / 2 ? mem_realloc(t, 2 * cap * sizeof *t) : NULL;
        if (!more) {
            mem_free(t);
            return "out of memory";
        }
        t = more;
        cap *= 2;
    }
    const char *why = NULL;
    if (n < 0) {
        *where = p.pos;
        why = "the body is not valid JSON";
        goto done;
    }
    if (n < 1 || t[0].type != JSMN_OBJECT) {
        why = "the body must be a JSON object with a \"batch\" list";
        goto done;
    }
    int i = 1;
    for (int k = 0; k < t[0].size && i < n; k++) {
        bool is_batch = t[i].type == JSMN_STRING && t[i].end - t[i].start == 5 && memcmp(body + t[i].start, "batch", 5) == 0;
        int v = i + 1;
        if (v >= n) { /* a key with no value: jsmn lets it pass */
            why = "the body is not valid JSON";
            *where = (uint32_t)t[i].end;
            goto done;
        }
        int next = skip(t, v, n);
        if (is_batch) {
            if (t[v].type != JSMN_ARRAY) {
                why = "\"batch\" must be a list of messages";
                *where = (uint32_t)t[v].start;
                goto done;
            }
            int m = v + 1;
            for (int e = 0; e < t[v].size && m < n; e++) {
                if (!each(arg, body + t[m].start, (size_t)(t[m].end - t[m].start))) {
                    why = "too many messages in one batch";
                    goto done;
                }
                m = skip(t, m, n);
            }
            goto done;
        }
        i = next;
    }
    why = "the body has no \"batch\" list";
done:
    mem_free(t);
    return why;
}
