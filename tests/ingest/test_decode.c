/* The event decoder: what it reads, what it derives, and how it refuses. */
#include "../harness.h"
#include "ingest/ingest.h"

static const char *const yaml =
    "contract: decode\n"
    "version: 1\n"
    "signed_by: { marketing: m@example.com, sales: s@example.com }\n"
    "stages: { nurture: marketing, sales: ae }\n"
    "signals:\n"
    "  a: { kind: intent, when: 'page.category == \"pricing\" and page.seconds > 1' }\n"
    "  b: { kind: intent, when: 'message.text contains \"x\" and reply.to_human and not reply.automatic' }\n"
    "  c: { kind: intent, when: 'properties.asset.topic == \"security\" and event.name == \"Asset Downloaded\"' }\n"
    "fit:\n"
    "  f: 'lead.title == \"CTO\" and account.employees >= 10 and account.traits.tier == \"gold\"'\n"
    "gates:\n"
    "  - { name: g, when: a or b or c, to: sales }\n"
    "context: { did: '{trigger}' }\n"
    "sla: { first_touch: 4h, meeting: 10 business days }\n"
    "reasons: { not_icp: { then: nurture, cooldown: 30d } }\n";

typedef struct fixture {
    contract *c;
    decoder *d;
    char buf[INGEST_MAX_EVENT_BYTES + 64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    strbuf errs;
    strbuf_init(&errs);
    f->c = parse_string("decode.yaml", yaml, &errs);
    if (!f->c) fail_msg("%s", errs.data);
    strbuf_free(&errs);
    f->d = decoder_new(f->c);
    assert_non_null(f->d);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    decoder_free(f->d);
    contract_free(f->c);
    free(f);
    return 0;
}

static bool decode(fixture *f, const char *json, event *ev, decode_error *err)
{
    snprintf(f->buf, sizeof f->buf, "%s", json);
    return decoder_decode(f->d, f->buf, strlen(f->buf), ev, err);
}

static const value *field(fixture *f, const event *ev, const char *path)
{
    for (size_t i = 0; i < contract_field_count(f->c); i++)
        if (strcmp(contract_field(f->c, i)->path, path) == 0) return &ev->fields[i];
    fail_msg("no slot %s", path);
    return NULL;
}

static void expect_refused(fixture *f, const char *json, const char *what, uint32_t offset)
{
    event ev;
    decode_error err;
    if (decode(f, json, &ev, &err)) fail_msg("accepted: %s", json);
    if (!strstr(err.what, what)) fail_msg("'%s' refused with '%s', want '%s'", json, err.what, what);
    assert_int_equal(err.offset, offset);
}

static void test_refusals_say_what_and_where(void **state)
{
    fixture *f = *state;
    expect_refused(f, "[1,2]", "must be a JSON object", 0);
    expect_refused(f, "  {\"type\":\"track\"", "ends early", 17);
    expect_refused(f, "{\"type\":\"track\",}", "invalid JSON at byte 16", 15);
    expect_refused(f, "{\"type\":\"track\" \"event\":\"x\"}", "invalid JSON at byte 17", 16);
    expect_refused(f, "{\"type\":\"page\",\"n\":tru}", "invalid JSON at byte 20", 19);
    expect_refused(f, "{\"type\":\"page\",\"n\":[1 2]}", "invalid JSON at byte 23", 22);
    expect_refused(f, "{\"type\":\"page\",\"n\":01}", "invalid JSON at byte 20", 19);
    expect_refused(f, "{\"timestamp\":\"2026-10-05T09:00:00Z\",\"userId\":\"u\"}", "missing \"type\"", 0);
    expect_refused(f, "{\"type\":\"clicked\",\"timestamp\":\"2026-10-05T09:00:00Z\",\"userId\":\"u\"}",
                   "unknown type \"clicked\"", 9);
    expect_refused(f, "{\"type\":\"page\",\"userId\":\"u\"}", "missing \"timestamp\"", 0);
    expect_refused(f, "{\"type\":\"page\",\"userId\":\"u\",\"timestamp\":\"soon\"}", "not an ISO-8601 time", 41);
    expect_refused(f, "{\"type\":\"page\",\"timestamp\":\"2026-10-05T09:00:00Z\"}", "neither \"userId\" nor \"anonymousId\"", 0);
    expect_refused(f, "{\"type\":\"track\",\"userId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\"}", "needs an \"event\" name", 0);
    expect_refused(f, "{\"type\":\"page\",\"userId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\"} {}", "after the event's closing brace", 64);
    expect_refused(f, "{\"type\":\"page\",\"userId\":\"u\\x\",\"timestamp\":\"2026-10-05T09:00:00Z\"}", "invalid JSON at byte 25", 24);
}

/* The one-pass check (scan_event) must refuse exactly what jsmn and the token
 * check refused, with the same words and offsets, and accept the rest. */
static void test_json_edges_match_the_token_check(void **state)
{
    fixture *f = *state;
#define EV "{\"type\":\"page\",\"userId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\"," /* 63 bytes */
    /* numbers: JSON's grammar, no more */
    expect_refused(f, EV "\"n\":1.}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":-}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":1e}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":.5}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":+1}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":-01}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":1:2}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":truex}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":nul}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":1\x01}", "invalid JSON at byte 68", 67);
    /* strings: escapes as jsmn checks them */
    expect_refused(f, EV "\"n\":\"\\q\"}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":\"\\u12G4\"}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":\"abc}", "ends early", 72);
    /* structure */
    expect_refused(f, EV "\"n\":1,}", "invalid JSON at byte 69", 68);
    expect_refused(f, EV "\"n\":[1,]}", "invalid JSON at byte 70", 69);
    expect_refused(f, EV "\"n\":[,1]}", "invalid JSON at byte 69", 68);
    expect_refused(f, EV "\"n\" 1}", "invalid JSON at byte 68", 67);
    expect_refused(f, EV "\"n\":{1:2}}", "invalid JSON at byte 69", 68);
    expect_refused(f, EV "\"n\":[1]]}", "invalid JSON at byte 71", 70);
    expect_refused(f, EV "\"n\":1}}", "invalid JSON at byte 70", 69);
    expect_refused(f, EV "\"n\":1} \"x\"", "after the event's closing brace", 71);
    /* nesting past the token limit */
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, EV "\"n\":");
    for (int i = 0; i < INGEST_MAX_TOKENS; i++) strbuf_puts(&b, "[");
    for (int i = 0; i < INGEST_MAX_TOKENS; i++) strbuf_puts(&b, "]");
    strbuf_puts(&b, "}");
    event ev;
    decode_error err;
    assert_false(decoder_decode(f->d, b.data, b.len, &ev, &err));
    assert_non_null(strstr(err.what, "more than 2048 JSON tokens"));
    strbuf_free(&b);
    /* accepted as before: ',' and ':' after the object (jsmn passes over
     * them), anything after a NUL, raw bytes that are not UTF-8, numbers in
     * every JSON spelling, keys that repeat (the last one counts) */
    assert_true(decode(f, EV "\"n\":[-0.5e+3,1E-2,0,true,false,null,{},[]]} ,:", &ev, &err));
    char with_nul[] = EV "\"n\":1}\0garbage";
    assert_true(decoder_decode(f->d, with_nul, sizeof with_nul - 1, &ev, &err));
    assert_true(decode(f, EV "\"n\":\"\xff\xc3\x28\x01\",\"event\":\"x\"}", &ev, &err));
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"a\",\"event\":\"x\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"userId\":\"b\",\"properties\":{\"asset\":{\"topic\":\"security\"}},\"properties\":{\"text\":\"t\"}}",
                       &ev, &err));
    assert_true(str_eq(ev.user_id, "b"));
    assert_true(str_eq(ev.text, "t"));
    assert_int_equal(field(f, &ev, "properties.asset.topic")->type, VAL_STR); /* from the first "properties" */
    /* keys compare as written: an escaped key is not the key it spells */
    expect_refused(f, "{\"type\":\"page\",\"us\\u0065rId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\"}",
                   "neither \"userId\" nor \"anonymousId\"", 0);
    /* escapes are decoded in strings that are read, and only there */
    assert_true(decode(f, EV "\"n\":\"\\ud800\",\"properties\":{\"text\":\"a\\/b\\u0041\"}}", &ev, &err));
    assert_true(str_eq(ev.text, "a/bA"));
#undef EV
}

static void test_size_limits(void **state)
{
    fixture *f = *state;
    /* one byte over the limit */
    size_t n = INGEST_MAX_EVENT_BYTES + 1;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    event ev;
    decode_error err;
    assert_false(decoder_decode(f->d, big, n, &ev, &err));
    assert_non_null(strstr(err.what, "more than the 32768 allowed"));
    /* too many tokens */
    strbuf b;
    strbuf_init(&b);
    strbuf_puts(&b, "{\"type\":\"page\",\"userId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\",\"properties\":{\"l\":[");
    for (int i = 0; i < INGEST_MAX_TOKENS; i++) strbuf_puts(&b, i ? ",1" : "1");
    strbuf_puts(&b, "]}}");
    assert_false(decoder_decode(f->d, b.data, b.len, &ev, &err));
    assert_non_null(strstr(err.what, "more than 2048 JSON tokens"));
    strbuf_free(&b);
    free(big);
}

static void test_page_fields_are_derived(void **state)
{
    fixture *f = *state;
    event ev;
    decode_error err;
    assert_true(decode(f, "{\"type\":\"page\",\"anonymousId\":\"a\",\"timestamp\":\"2026-10-05T09:00:00.250+02:00\","
                          "\"category\":\"pricing\",\"name\":\"Pricing\",\"properties\":{\"seconds\":\"120\"}}",
                       &ev, &err));
    assert_int_equal(ev.type, EVENT_PAGE);
    time_ms want;
    assert_true(time_parse("2026-10-05T07:00:00.250Z", 24, &want));
    assert_int_equal(ev.timestamp, want);
    const value *cat = field(f, &ev, "page.category");
    assert_int_equal(cat->type, VAL_STR);
    assert_int_equal(cat->as.str.id, contract_intern_find(f->c, "pricing", 7)); /* interned */
    const value *sec = field(f, &ev, "page.seconds");
    assert_int_equal(sec->type, VAL_NUM); /* "120" coerced for a number slot */
    assert_true(sec->as.num == 120);
    /* category from properties when the call has none */
    assert_true(decode(f, "{\"type\":\"page\",\"anonymousId\":\"a\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"properties\":{\"category\":\"pricing\"}}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "page.category")->type, VAL_STR);
    /* page fields are empty on other event types */
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"category\":\"pricing\"}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "page.category")->type, VAL_NULL);
}

static void test_escapes_are_decoded(void **state)
{
    fixture *f = *state;
    event ev;
    decode_error err;
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\\u00e9\\ud83d\\ude00\",\"event\":\"A \\\"quoted\\\" name\","
                          "\"timestamp\":\"2026-10-05T09:00:00Z\",\"properties\":{\"text\":\"line\\nbreak\"}}",
                       &ev, &err));
    assert_int_equal(ev.user_id.len, 1 + 2 + 4);
    assert_memory_equal(ev.user_id.s, "u\xc3\xa9\xf0\x9f\x98\x80", 7);
    assert_true(str_eq(ev.name, "A \"quoted\" name"));
    assert_true(str_eq(ev.text, "line\nbreak"));
    expect_refused(f, "{\"type\":\"track\",\"userId\":\"\\ud83d\",\"event\":\"x\",\"timestamp\":\"2026-10-05T09:00:00Z\"}",
                   "malformed escape", 26);
}

static void test_message_and_reply_fields(void **state)
{
    fixture *f = *state;
    event ev;
    decode_error err;
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Email Replied\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"properties\":{\"body\":\"the body\",\"question\":\"later\",\"sender_type\":\"human\",\"subject\":\"Re: x\"}}",
                       &ev, &err));
    assert_true(str_eq(ev.text, "the body")); /* body comes before question */
    const value *human = field(f, &ev, "reply.to_human");
    assert_int_equal(human->type, VAL_BOOL);
    assert_true(human->as.b);
    const value *automatic = field(f, &ev, "reply.automatic");
    assert_int_equal(automatic->type, VAL_BOOL);
    assert_false(automatic->as.b);
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Email Replied\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"properties\":{\"sender_type\":\"human\",\"headers\":{\"precedence\":\"bulk\"}}}",
                       &ev, &err));
    assert_true(field(f, &ev, "reply.automatic")->as.b);
    /* no sender_type: whether it answered a person is unknown */
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Chat\",\"timestamp\":\"2026-10-05T09:00:00Z\"}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "reply.to_human")->type, VAL_NULL);
}

static void test_traits_fill_lead_and_account_slots_only_on_their_calls(void **state)
{
    fixture *f = *state;
    event ev;
    decode_error err;
    assert_true(decode(f, "{\"type\":\"identify\",\"userId\":\"u\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"traits\":{\"title\":\"CTO\",\"email\":\"u@x.example\",\"pain\":\"p\"}}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "lead.title")->type, VAL_STR);
    assert_true(str_eq(ev.email, "u@x.example"));
    assert_true(str_eq(ev.pain, "p"));
    assert_int_equal(field(f, &ev, "account.employees")->type, VAL_NULL);
    assert_true(decode(f, "{\"type\":\"group\",\"userId\":\"u\",\"groupId\":\"x.example\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"traits\":{\"employees\":450,\"tier\":\"gold\",\"title\":\"not a lead field here\"}}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "lead.title")->type, VAL_NULL);
    assert_true(field(f, &ev, "account.employees")->as.num == 450);
    assert_int_equal(field(f, &ev, "account.traits.tier")->type, VAL_STR);
    /* nested property paths */
    assert_true(decode(f, "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Asset Downloaded\",\"timestamp\":\"2026-10-05T09:00:00Z\","
                          "\"properties\":{\"asset\":{\"topic\":\"security\",\"skip\":{\"deep\":[1,{\"a\":2}]}}}}",
                       &ev, &err));
    assert_int_equal(field(f, &ev, "properties.asset.topic")->type, VAL_STR);
}

static void test_line_reader_numbers_lines_and_skips_long_ones(void **state)
{
    (void)state;
    char path[] = "/tmp/baton-lines-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *w = fdopen(fd, "w");
    fputs("one\r\ntwo\n", w);
    for (size_t i = 0; i < INGEST_MAX_EVENT_BYTES + 10; i++) fputc('x', w);
    fputs("\nlast", w);
    fclose(w);
    FILE *r = fopen(path, "rb");
    line_reader *lr = line_reader_new(r);
    size_t len;
    uint64_t no;
    bool too_long;
    char *line = line_reader_next(lr, &len, &no, &too_long);
    assert_string_equal(line, "one"); /* CRLF trimmed */
    line = line_reader_next(lr, &len, &no, &too_long);
    assert_string_equal(line, "two");
    line = line_reader_next(lr, &len, &no, &too_long);
    assert_true(too_long);
    assert_int_equal(no, 3);
    line = line_reader_next(lr, &len, &no, &too_long);
    assert_false(too_long);
    assert_string_equal(line, "last"); /* no final newline */
    assert_int_equal(no, 4);
    assert_null(line_reader_next(lr, &len, &no, &too_long));
    line_reader_free(lr);
    fclose(r);
    remove(path);
}

static bool count_message(void *ctx, const char *json, size_t len)
{
    (void)json;
    (void)len;
    (*(int *)ctx)++;
    return true;
}

/* A batch body is split into its messages, and a body that is not one is
 * refused whole, with where it goes wrong. */
static void test_batch_bodies_are_split_or_refused(void **state)
{
    (void)state;
    int n = 0;
    uint32_t where = 0;
    const char *ok = "{\"batch\":[{\"type\":\"track\"},{\"type\":\"page\"}],\"sentAt\":\"x\"}";
    assert_null(ingest_split_batch(ok, strlen(ok), count_message, &n, &where));
    assert_int_equal(n, 2);
    /* a key without a value (jsmn lets it through; the split must not read past it) */
    const char *bare = "{\"batch\"}";
    n = 0;
    const char *why = ingest_split_batch(bare, strlen(bare), count_message, &n, &where);
    assert_non_null(why);
    assert_string_equal(why, "the body is not valid JSON");
    assert_int_equal(n, 0);
    /* a bracket that closes the wrong thing, at that bracket */
    const char *crossed = "{\"batch\":[{\"type\":\"track\"]]}";
    why = ingest_split_batch(crossed, strlen(crossed), count_message, &n, &where);
    assert_non_null(why);
    assert_string_equal(why, "the body is not valid JSON");
    assert_int_equal(where, strchr(crossed, ']') - crossed);
}

static void test_reorder_gives_lines_back_in_time_order(void **state)
{
    (void)state;
    reorder *r = reorder_new(10 * MS_PER_MINUTE);
    size_t len;
    uint64_t no;
    assert_true(reorder_push(r, 20 * MS_PER_MINUTE, "b", 1, 1));
    assert_null(reorder_pop(r, false, &len, &no)); /* nothing is 10 minutes behind the newest */
    assert_true(reorder_push(r, 15 * MS_PER_MINUTE, "a", 1, 2));
    assert_true(reorder_push(r, 31 * MS_PER_MINUTE, "c", 1, 3));
    assert_string_equal(reorder_pop(r, false, &len, &no), "a"); /* 15 <= 31 - 10 */
    assert_int_equal(no, 2);
    assert_string_equal(reorder_pop(r, false, &len, &no), "b");
    assert_null(reorder_pop(r, false, &len, &no));
    assert_string_equal(reorder_pop(r, true, &len, &no), "c"); /* drained at the end */
    assert_null(reorder_pop(r, true, &len, &no));
    reorder_free(r);
}

static void test_csv_rows_become_events(void **state)
{
    fixture *f = *state;
    const char *header[] = {"type", "timestamp", "userId", "category", "properties.seconds", "context.campaign.source", "traits.note"};
    const char *row[] = {"page", "2026-10-05T09:00:00Z", "u", "pricing", "120", "g2", "says \"hi\""};
    strbuf b;
    strbuf_init(&b);
    csv_event_to_json(header, row, 7, &b);
    assert_string_equal(b.data, "{\"type\":\"page\",\"timestamp\":\"2026-10-05T09:00:00Z\",\"userId\":\"u\","
                                "\"category\":\"pricing\",\"properties\":{\"seconds\":120},"
                                "\"traits\":{\"note\":\"says \\\"hi\\\"\"},\"context\":{\"campaign\":{\"source\":\"g2\"}}}");
    event ev;
    decode_error err;
    assert_true(decode(f, b.data, &ev, &err));
    assert_true(str_eq(ev.source, "g2"));
    strbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_refusals_say_what_and_where, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_edges_match_the_token_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_page_fields_are_derived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes_are_decoded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_message_and_reply_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traits_fill_lead_and_account_slots_only_on_their_calls, setup, teardown),
        cmocka_unit_test(test_line_reader_numbers_lines_and_skips_long_ones),
        cmocka_unit_test(test_batch_bodies_are_split_or_refused),
        cmocka_unit_test(test_reorder_gives_lines_back_in_time_order),
        cmocka_unit_test_setup_teardown(test_csv_rows_become_events, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
