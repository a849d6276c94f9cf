/* The live decoder against the one it replaced (decode_before.inc): on
 * generated Segment events and on mutations of them, well-formed or not,
 * both must accept and refuse the same lines, with the same message and
 * byte offset, and read the same values at the same places. */
#include "ingest/ingest.h"

/* The reference decoder, its exported names renamed. */
#define event_type_name ref_event_type_name
#define decoder_set_default_time ref_decoder_set_default_time
#define decoder_set_default_type ref_decoder_set_default_type
#define decoder_new ref_decoder_new
#define decoder_free ref_decoder_free
#define decoder_decode ref_decoder_decode
#define ingest_split_batch ref_ingest_split_batch
const char *ref_event_type_name(enum event_type t);
void ref_decoder_set_default_time(decoder *d, time_ms t);
void ref_decoder_set_default_type(decoder *d, int type);
decoder *ref_decoder_new(const contract *c);
void ref_decoder_free(decoder *d);
bool ref_decoder_decode(decoder *d, char *json, size_t len, event *out, decode_error *err);
const char *ref_ingest_split_batch(const char *body, size_t len, bool (*each)(void *ctx, const char *json, size_t len),
                                   void *ctx, uint32_t *where);
#include "decode_before.inc"
#undef event_type_name
#undef decoder_set_default_time
#undef decoder_set_default_type
#undef decoder_new
#undef decoder_free
#undef decoder_decode
#undef ingest_split_batch

/* after the reference: cmocka's skip() and fail() macros would rename its own */
#include "../harness.h"

static const char *const yaml =
    "contract: diff\n"
    "version: 1\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, sales: ae }\n"
    "signals:\n"
    "  a: { kind: intent, when: 'page.category == \"pricing\" and page.seconds > 1 and page.title == \"Pricing\"' }\n"
    "  b: { kind: intent, when: 'message.text contains \"x\" and reply.to_human and not reply.automatic' }\n"
    "  c: { kind: intent, when: 'properties.asset.topic == \"security\" and event.name == \"Asset Downloaded\"' }\n"
    "  e: { kind: intent, when: 'properties.rows > 10 and properties.when > event.timestamp and message.channel == \"email\"' }\n"
    "fit:\n"
    "  f: 'lead.title == \"CTO\" and account.employees >= 10 and account.traits.tier == \"gold\" and lead.country == \"AU\"'\n"
    "gates:\n"
    "  - { name: g, when: a or b or c or e, to: sales }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";

static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rnd(void)
{
    rng_state = rng_state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (uint32_t)(rng_state >> 33);
}

static uint32_t below(uint32_t n)
{
    return n ? rnd() % n : 0;
}

typedef struct pair {
    contract *c;
    decoder *live, *ref;
    unsigned lines, accepted;
} pair;

static void same_str(const char *what, str a, const char *abuf, str b, const char *bbuf, const char *line)
{
    if (!a.s != !b.s || a.len != b.len || (a.s && (a.s - abuf != b.s - bbuf || memcmp(a.s, b.s, a.len) != 0)))
        fail_msg("%s differs on %s", what, line);
}

static void same_value(size_t slot, const value *a, const char *abuf, const value *b, const char *bbuf,
                       const char *line)
{
    if (a->type != b->type) fail_msg("field %zu: type %d, reference %d on %s", slot, a->type, b->type, line);
    switch (a->type) {
    case VAL_NUM:
        if (memcmp(&a->as.num, &b->as.num, sizeof a->as.num) != 0) fail_msg("field %zu differs on %s", slot, line);
        break;
    case VAL_BOOL:
        if (a->as.b != b->as.b) fail_msg("field %zu differs on %s", slot, line);
        break;
    case VAL_TIME:
        if (a->as.ms != b->as.ms) fail_msg("field %zu differs on %s", slot, line);
        break;
    case VAL_STR: {
        str x = {a->as.str.s, a->as.str.len}, y = {b->as.str.s, b->as.str.len};
        same_str("string field", x, abuf, y, bbuf, line);
        if (a->as.str.id != b->as.str.id) fail_msg("field %zu: intern id differs on %s", slot, line);
        break;
    }
    default: break;
    }
}

/* Decodes json[0, len) with both decoders, each from its own copy (NUL
 * after the last byte, as line_reader gives lines), and compares. */
static void both(pair *p, const char *json, size_t len)
{
    char *a = malloc(len + 1), *b = malloc(len + 1);
    memcpy(a, json, len);
    memcpy(b, json, len);
    a[len] = b[len] = '\0';
    event ea, eb;
    decode_error ra, rb;
    bool oka = decoder_decode(p->live, a, len, &ea, &ra), okb = ref_decoder_decode(p->ref, b, len, &eb, &rb);
    char shown[200];
    snprintf(shown, sizeof shown, "%.*s", (int)(len < 150 ? len : 150), json);
    if (oka != okb) fail_msg("live %s, reference %s (%s) on %s", oka ? "accepts" : "refuses",
                             okb ? "accepts" : "refuses", okb ? ra.what : rb.what, shown);
    if (strcmp(ra.what, rb.what) != 0 || ra.offset != rb.offset)
        fail_msg("live says \"%s\" at %u, reference \"%s\" at %u on %s", ra.what, ra.offset, rb.what, rb.offset,
                 shown);
    p->lines++;
    if (oka) {
        p->accepted++;
        if (ea.type != eb.type || ea.timestamp != eb.timestamp ||
            memcmp(&ea.amount, &eb.amount, sizeof ea.amount) != 0)
            fail_msg("type, time or amount differs on %s", shown);
        const struct {
            const char *name;
            str x, y;
        } strs[] = {{"message_id", ea.message_id, eb.message_id}, {"user_id", ea.user_id, eb.user_id},
                    {"anonymous_id", ea.anonymous_id, eb.anonymous_id}, {"group_id", ea.group_id, eb.group_id},
                    {"name", ea.name, eb.name}, {"email", ea.email, eb.email}, {"pain", ea.pain, eb.pain},
                    {"impact", ea.impact, eb.impact}, {"text", ea.text, eb.text}, {"domain", ea.domain, eb.domain},
                    {"reason", ea.reason, eb.reason}, {"source", ea.source, eb.source}};
        for (size_t i = 0; i < ARRAY_LEN(strs); i++) same_str(strs[i].name, strs[i].x, a, strs[i].y, b, shown);
        for (size_t i = 0; i < contract_field_count(p->c); i++)
            same_value(i, &ea.fields[i], a, &eb.fields[i], b, shown);
    }
    /* what was decoded in place must match too */
    if (memcmp(a, b, len) != 0) fail_msg("the bytes left behind differ on %s", shown);
    free(a);
    free(b);
}

/* ---- generated events ---- */

static const char *const known_keys[] = {
    "type", "event", "name", "category", "timestamp", "messageId", "userId", "anonymousId", "groupId",
    "traits", "context", "properties", "email", "pain", "impact", "text", "body", "message", "question",
    "comment", "subject", "channel", "sender_type", "headers", "auto_submitted", "x_autoreply", "from",
    "sender_email", "path", "url", "title", "referrer", "seconds", "domain", "reason", "amount", "campaign",
    "source", "utm_source", "asset", "topic", "rows", "when", "employees", "tier", "country", "precedence",
    "x_autorespond", "a_key_longer_than_sixteen", "sixteen_bytes_ky", "fifteen_bytes_k", "",
};

static const char *const words[] = {
    "track", "page", "identify", "group", "screen", "pricing", "Pricing", "security", "Asset Downloaded",
    "2026-07-01T00:06:48.447Z", "2026-07-01T00:06:48Z", "2026-02-30T00:00:00Z", "2026-07-01", "CTO", "gold",
    "human", "email", "auto-replied", "bulk", "x", "AU", "u-1", "a-1", "sim-1-1", "https://acme.example/pricing",
    "a string that is comfortably longer than sixteen bytes", "exactly16bytes!!", "fifteen bytes!!", "", "12",
    "1e3", "-0.5", "not a number", "rollout timing and security review",
};

static void put(strbuf *b, const char *s)
{
    strbuf_append(b, s, strlen(s));
}

static void put_ws(strbuf *b)
{
    static const char *const ws[] = {" ", "\t", "\n", "\r", "  "};
    if (below(8) == 0) put(b, ws[below(ARRAY_LEN(ws))]);
}

static void put_string(strbuf *b)
{
    put(b, "\"");
    switch (below(6)) {
    case 0: { /* escapes of every kind */
        static const char *const esc[] = {"\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9",
                                          "\\u20AC", "\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\u12", "\\x"};
        for (uint32_t k = below(4); k > 0; k--) {
            put(b, words[below(ARRAY_LEN(words))]);
            put(b, esc[below(ARRAY_LEN(esc))]);
        }
        break;
    }
    case 1: /* a run of plain bytes of any length, across the 16-byte steps */
        for (uint32_t k = below(40); k > 0; k--) {
            char c = (char)('a' + below(26));
            strbuf_append(b, &c, 1);
        }
        break;
    case 2: { /* UTF-8 and control bytes, which jsmn passes through */
        static const char *const odd[] = {"\xc3\xa9", "\xe2\x82\xac", "\x01", "\x7f", "\xff"};
        put(b, odd[below(ARRAY_LEN(odd))]);
        put(b, words[below(ARRAY_LEN(words))]);
        break;
    }
    default: put(b, words[below(ARRAY_LEN(words))]); break;
    }
    put(b, "\"");
}

static void put_value(strbuf *b, int depth);

static void put_object(strbuf *b, int depth)
{
    put(b, "{");
    put_ws(b);
    for (uint32_t k = below(depth > 2 ? 3 : 7); k > 0; k--) {
        put(b, "\"");
        put(b, known_keys[below(ARRAY_LEN(known_keys))]);
        put(b, "\"");
        put_ws(b);
        put(b, ":");
        put_ws(b);
        put_value(b, depth + 1);
        put_ws(b);
        if (k > 1) put(b, ",");
        put_ws(b);
    }
    put(b, "}");
}

static void put_value(strbuf *b, int depth)
{
    static const char *const prims[] = {"true", "false", "null", "0", "-0", "12", "237", "-7", "3.25", "1e3",
                                        "2E-2", "123456789012345678", "0.1", "-1.5e+10", "1234567890123456"};
    uint32_t kind = below(depth > 3 ? 3 : 10);
    if (kind < 2) {
        put_string(b);
    } else if (kind < 3) {
        put(b, prims[below(ARRAY_LEN(prims))]);
    } else if (kind < 8) {
        put_object(b, depth);
    } else {
        put(b, "[");
        for (uint32_t k = below(4); k > 0; k--) {
            put_value(b, depth + 1);
            if (k > 1) put(b, ",");
        }
        put(b, "]");
    }
}

/* An event in Segment's shape with some fields chosen at random. */
static void put_event(strbuf *b)
{
    static const char *const types[] = {"track", "page", "identify", "group", "screen", "alias"};
    uint32_t type = below(12);
    put(b, "{\"type\":\"");
    put(b, types[type < ARRAY_LEN(types) ? type : 0]);
    put(b, "\",\"messageId\":\"m-");
    char n[16];
    snprintf(n, sizeof n, "%u", below(100000));
    put(b, n);
    put(b, "\",\"timestamp\":\"");
    put(b, below(4) ? "2026-07-01T00:06:48.447Z" : words[below(ARRAY_LEN(words))]);
    put(b, "\"");
    if (below(5)) put(b, ",\"userId\":\"u-932-1\"");
    if (below(2)) put(b, ",\"anonymousId\":\"98fb3959-7ee5-9cf3-a916-ef81a4535d03\"");
    if (type >= ARRAY_LEN(types) || below(3) == 0) put(b, ",\"event\":\"Asset Downloaded\"");
    if (below(3) == 0) put(b, ",\"category\":\"pricing\",\"name\":\"Pricing\"");
    for (uint32_t k = below(5); k > 0; k--) {
        put(b, ",");
        put_ws(b);
        static const char *const outer[] = {"properties", "traits", "context", "event", "name", "x"};
        put(b, "\"");
        put(b, outer[below(ARRAY_LEN(outer))]);
        put(b, "\":");
        if (below(4)) put_object(b, 1);
        else put_value(b, 1);
    }
    put(b, "}");
    if (below(10) == 0) put(b, below(2) ? " \t, :" : " x");
}

static void mutate(char *s, size_t *len, size_t cap)
{
    static const char bytes[] = "{}[]\",:\\ \t\n0123456789-+.eEtfnu\"\"aZ";
    for (uint32_t m = 1 + below(3); m > 0 && *len > 0; m--) {
        size_t at = below((uint32_t)*len);
        char c = below(8) == 0 ? (char)below(256) : bytes[below(sizeof bytes - 1)];
        switch (below(4)) {
        case 0: s[at] = c; break;
        case 1: /* delete */
            memmove(s + at, s + at + 1, *len - at - 1);
            (*len)--;
            break;
        case 2: /* insert */
            if (*len + 1 < cap) {
                memmove(s + at + 1, s + at, *len - at);
                s[at] = c;
                (*len)++;
            }
            break;
        default: *len = at; break; /* truncate */
        }
    }
}

static void run(pair *p, unsigned count)
{
    strbuf b;
    strbuf_init(&b);
    char *m = malloc(INGEST_MAX_EVENT_BYTES + 64);
    for (unsigned i = 0; i < count; i++) {
        b.len = 0;
        put_event(&b);
        assert_false(b.oom);
        both(p, b.data, b.len);
        /* every truncation of a few, to cross each 16-byte boundary near the end */
        if (i % 200 == 0)
            for (size_t k = 0; k < b.len; k++) both(p, b.data, k);
        for (int r = 0; r < 4; r++) {
            size_t len = b.len < INGEST_MAX_EVENT_BYTES ? b.len : INGEST_MAX_EVENT_BYTES;
            memcpy(m, b.data, len);
            mutate(m, &len, INGEST_MAX_EVENT_BYTES);
            both(p, m, len);
        }
    }
    free(m);
    strbuf_free(&b);
}

static void token_cap(pair *p)
{
    /* arrays and objects around the 2048-token cap */
    strbuf b;
    strbuf_init(&b);
    for (int n = 2030; n <= 2050; n++) {
        for (int obj = 0; obj < 2; obj++) {
            b.len = 0;
            put(&b, "{\"type\":\"track\",\"event\":\"e\",\"userId\":\"u\",\"timestamp\":\"2026-07-01T00:06:48Z\",");
            put(&b, obj ? "\"properties\":{" : "\"properties\":{\"rows\":[");
            for (int k = 0; k < n; k++) {
                if (k) put(&b, ",");
                if (obj) {
                    char key[24];
                    snprintf(key, sizeof key, "\"k%d\":%d", k, k);
                    put(&b, key);
                } else {
                    put(&b, "1");
                }
            }
            put(&b, obj ? "}}" : "]}}");
            both(p, b.data, b.len);
        }
    }
    strbuf_free(&b);
}

static void check_contract(contract *c, unsigned count)
{
    pair p = {.c = c};
    p.live = decoder_new(c);
    p.ref = ref_decoder_new(c);
    assert_non_null(p.live);
    assert_non_null(p.ref);
    run(&p, count);
    token_cap(&p);
    /* the endpoint's defaults, both ways */
    decoder_set_default_type(p.live, EVENT_TRACK);
    ref_decoder_set_default_type(p.ref, EVENT_TRACK);
    decoder_set_default_time(p.live, 1000);
    ref_decoder_set_default_time(p.ref, 1000);
    run(&p, count / 4);
    assert_true(p.accepted > p.lines / 16); /* enough of each to mean something */
    assert_true(p.lines - p.accepted > p.lines / 5);
    decoder_free(p.live);
    ref_decoder_free(p.ref);
}

static void test_live_decoder_matches_the_reference(void **state)
{
    (void)state;
    contract *c = must_parse("diff.yaml", yaml);
    check_contract(c, 20000);
    contract_free(c);
    c = must_load("contracts/example.yaml");
    check_contract(c, 20000);
    contract_free(c);
}

/* The messages a split found: their offsets and lengths in the body. */
typedef struct split_out {
    size_t at[4096], len[4096], count;
    const char *body;
} split_out;

static bool note_message(void *out, const char *json, size_t len)
{
    split_out *o = out;
    if (o->count == 4096) return false;
    o->at[o->count] = (size_t)(json - o->body);
    o->len[o->count++] = len;
    return true;
}

/* A batch body: messages of a few fields, or token-dense ones (lists of
 * small numbers, a token every two bytes) that outgrow a first guess of
 * one token per 8 bytes, with other members around the list. */
static size_t batch_body(char *out, size_t cap)
{
    size_t n = 0, messages = 1 + rnd() % 300;
    bool dense = rnd() % 3 == 0;
    n += (size_t)snprintf(out + n, cap - n, "{%s\"batch\":[", rnd() % 2 ? "\"sentAt\":\"2026-10-01T00:00:00Z\"," : "");
    for (size_t m = 0; m < messages && n + 600 < cap; m++) {
        if (m) out[n++] = ',';
        if (dense) {
            n += (size_t)snprintf(out + n, cap - n, "{\"type\":\"track\",\"p\":[");
            for (int k = 0, end = 20 + (int)(rnd() % 200); k < end; k++) n += (size_t)snprintf(out + n, cap - n, "%s%u", k ? "," : "", rnd() % 10);
            n += (size_t)snprintf(out + n, cap - n, "]}");
        } else {
            n += (size_t)snprintf(out + n, cap - n, "{\"type\":\"track\",\"userId\":\"u%u\",\"event\":\"e\",\"messageId\":\"m%zu\"}", rnd() % 50, m);
        }
    }
    n += (size_t)snprintf(out + n, cap - n, "]%s}", rnd() % 2 ? ",\"context\":{\"library\":{\"name\":\"x\"}}" : "");
    return n;
}

/* Splitting a batch body in one jsmn pass (the room for tokens grown as it
 * goes) finds the same messages, and refuses the same bodies, as the two
 * passes it replaced; where the old split let a body pass jsmn's counting
 * and then fail its parse, it said "must be a JSON object" and now says it
 * is not valid JSON, with the byte. */
static void test_batch_split_matches_the_reference(void **state)
{
    (void)state;
    static char body[300000], copy[300000];
    static split_out want, got;
    for (int round = 0; round < 3000; round++) {
        size_t n = batch_body(body, sizeof body);
        if (round % 2) { /* mutated: a byte changed, or the body cut short */
            if (rnd() % 2) body[rnd() % n] = "{}[],:\"x1 "[rnd() % 10];
            else n = rnd() % n;
        }
        memcpy(copy, body, n);
        want.count = got.count = 0;
        want.body = body;
        got.body = copy;
        uint32_t want_at = 0, got_at = 0;
        const char *want_why = ref_ingest_split_batch(body, n, note_message, &want, &want_at);
        const char *got_why = ingest_split_batch(copy, n, note_message, &got, &got_at);
        if (want_why && got_why && strstr(want_why, "must be a JSON object") && strstr(got_why, "not valid JSON")) continue;
        if ((want_why == NULL) != (got_why == NULL) || (want_why && strcmp(want_why, got_why) != 0))
            fail_msg("round %d: %s / %s", round, want_why ? want_why : "ok", got_why ? got_why : "ok");
        /* counting checks less than parsing (not which bracket closes what), so
         * the one pass stops at the same byte or, on a wrong bracket, before */
        if (want_why && strstr(want_why, "not valid JSON") && got_at > want_at)
            fail_msg("round %d: at %u, before at %u", round, got_at, want_at);
        assert_int_equal(got.count, want.count);
        for (size_t i = 0; i < want.count; i++) {
            assert_int_equal(got.at[i], want.at[i]);
            assert_int_equal(got.len[i], want.len[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_decoder_matches_the_reference),
        cmocka_unit_test(test_batch_split_matches_the_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
