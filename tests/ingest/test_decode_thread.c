/* Lines decoded on a thread of their own come back in batches in the
 * stream's order: every event once, each refused line with its number and
 * reason, blank lines passed over, and a caller may stop early. */
#include "../harness.h"
#include "ingest/ingest.h"

#include <unistd.h>

#define LINES 20000

/* A stream of LINES lines: events numbered by their "event" name, with a
 * malformed line every 97th, a line over the size limit every 2,500th and
 * a blank one every 50th. Returns it open for reading. */
static FILE *stream(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    for (int i = 1; i <= LINES; i++) {
        if (i % 2500 == 0) {
            for (size_t k = 0; k < INGEST_MAX_EVENT_BYTES + 5; k++) fputc('x', f);
            fputc('\n', f);
        } else if (i % 97 == 0) {
            fprintf(f, "{\"type\":\"track\",\"userId\":\"u%d\"\n", i);
        } else if (i % 50 == 0) {
            fputs("   \n", f);
        } else {
            fprintf(f, "{\"type\":\"track\",\"userId\":\"u%d\",\"event\":\"e%d\",\"messageId\":\"m%d\","
                       "\"timestamp\":\"2026-10-01T09:00:00Z\"}\n", i % 40, i, i);
        }
    }
    rewind(f);
    return f;
}

/* Reads the stream with batches decoded as `sharing` says and checks
 * every event and refusal, in order. */
static void check_stream_order(enum decode_sharing sharing)
{
    contract *c = must_load("contracts/example.yaml");
    FILE *f = stream();
    decode_thread *t = decode_thread_start_sharing(f, c, sharing);
    assert_non_null(t);
    int next = 1, batches = 0;
    uint64_t lines = 0, refused = 0, too_long = 0, last_refused = 0;
    const decoded_batch *b;
    while ((b = decode_thread_next(t))) {
        batches++;
        lines += b->lines;
        for (size_t i = 0; i < b->refusal_count; i++) {
            const line_refusal *r = &b->refusals[i];
            assert_true(r->line_no > last_refused); /* in order */
            last_refused = r->line_no;
            if (r->too_long) {
                assert_int_equal(r->line_no % 2500, 0);
                too_long++;
            } else {
                assert_int_equal(r->line_no % 97, 0);
                assert_non_null(strstr(r->what, "JSON ends early"));
                refused++;
            }
        }
        for (size_t i = 0; i < b->events.count; i++) {
            while (next % 2500 == 0 || next % 97 == 0 || next % 50 == 0) next++;
            char want[16];
            snprintf(want, sizeof want, "e%d", next++);
            const event *ev = &b->events.events[i];
            assert_int_equal(ev->name.len, strlen(want));
            assert_memory_equal(ev->name.s, want, ev->name.len);
        }
        decode_thread_release(t);
    }
    assert_true(batches > 8); /* more batches than slots: every slot was filled again */
    uint64_t want_too_long = 0, want_refused = 0, blank = 0;
    int last_event = 0;
    for (int i = 1; i <= LINES; i++) {
        if (i % 2500 == 0) want_too_long++;
        else if (i % 97 == 0) want_refused++;
        else if (i % 50 == 0) blank++;
        else last_event = i;
    }
    assert_int_equal(next, last_event + 1); /* every event, none twice */
    assert_int_equal(too_long, want_too_long);
    assert_int_equal(refused, want_refused);
    assert_int_equal(lines, LINES - blank); /* blank lines are not counted */
    assert_true(decode_thread_finish(t));
    fclose(f);
    contract_free(c);
}

/* Whichever thread decodes a batch, the caller gets the same batches: the
 * reader or the caller alone, or both as each is free. */
static void test_batches_keep_the_stream_order(void **state)
{
    (void)state;
    check_stream_order(DECODE_SHARED);
}

static void test_the_reader_alone_decodes_the_same(void **state)
{
    (void)state;
    check_stream_order(DECODE_BY_READER);
}

static void test_the_caller_alone_decodes_the_same(void **state)
{
    (void)state;
    check_stream_order(DECODE_BY_CALLER);
}

/* A caller that stops after the first batch frees everything at once,
 * however far the reader had got. */
static void test_the_caller_may_stop_early(void **state)
{
    (void)state;
    contract *c = must_load("contracts/example.yaml");
    FILE *f = stream();
    decode_thread *t = decode_thread_start(f, c);
    assert_non_null(t);
    const decoded_batch *b = decode_thread_next(t);
    assert_non_null(b);
    assert_true(b->events.count > 0);
    decode_thread_release(t);
    assert_true(decode_thread_finish(t));
    fclose(f);
    contract_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_keep_the_stream_order),
        cmocka_unit_test(test_the_reader_alone_decodes_the_same),
        cmocka_unit_test(test_the_caller_alone_decodes_the_same),
        cmocka_unit_test(test_the_caller_may_stop_early),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
