/* calendar: TZif zones and business time (R7), pinned by hand-computed cases.
 *
 * Every case runs twice: against the system's zoneinfo (skipped when tzdata
 * is not installed) and against zones this file writes itself into a
 * temporary $TZDIR. Those are "slim" TZif files with one or two transitions
 * in the 1990s or 2000s and a POSIX footer, so every 2026 and 2040 answer
 * comes from the footer rule: the tests run on a machine without tzdata, and
 * they pin the footer path that Debian's slim files rely on. */
#include "../harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include "calendar/calendar.h"

#define H               MS_PER_HOUR
#define M               MS_PER_MINUTE
#define SYSTEM_ZONEINFO "/usr/share/zoneinfo"

static char synth_dir[256];

static time_ms at(const char *iso)
{
    time_ms t;
    if (!time_parse(iso, strlen(iso), &t)) fail_msg("bad time in test: %s", iso);
    return t;
}

static int64_t day_of(const char *date)
{
    return at(date) / MS_PER_DAY;
}

/* ---- writing TZif files (RFC 8536) ------------------------------------------ */

static void put32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

static void put64(FILE *f, int64_t v)
{
    put32(f, (uint32_t)((uint64_t)v >> 32));
    put32(f, (uint32_t)v);
}

typedef struct zone_spec {
    const char *path;
    char version; /* 0, '2', '3' */
    size_t n;
    int64_t at[4];
    uint8_t idx[4];
    size_t types;
    int32_t off[3];
    const char *footer; /* version 2+ */
    uint32_t leaps;
} zone_spec;

static void write_header(FILE *f, const zone_spec *z)
{
    fwrite("TZif", 1, 4, f);
    fputc(z->version, f);
    for (int i = 0; i < 15; i++)
        fputc(0, f);
    put32(f, 0); /* isutcnt */
    put32(f, 0); /* isstdcnt */
    put32(f, z->leaps);
    put32(f, (uint32_t)z->n);
    put32(f, (uint32_t)z->types);
    put32(f, 4); /* charcnt: "ZZZ\0" */
}

static void write_block(FILE *f, const zone_spec *z, int time_size)
{
    for (size_t i = 0; i < z->n; i++) {
        if (time_size == 8)
            put64(f, z->at[i]);
        else
            put32(f, (uint32_t)(int32_t)z->at[i]);
    }
    for (size_t i = 0; i < z->n; i++)
        fputc(z->idx[i], f);
    for (size_t i = 0; i < z->types; i++) {
        put32(f, (uint32_t)z->off[i]);
        fputc(i > 0, f); /* isdst */
        fputc(0, f);     /* desigidx */
    }
    fwrite("ZZZ", 1, 4, f);
    for (uint32_t i = 0; i < z->leaps; i++) {
        if (time_size == 8)
            put64(f, 78796800);
        else
            put32(f, 78796800);
        put32(f, i + 1);
    }
}

static void write_zone(const char *dir, const zone_spec *z)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, z->path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    write_header(f, z);
    write_block(f, z, 4);
    if (z->version) {
        write_header(f, z);
        write_block(f, z, 8);
        fprintf(f, "\n%s\n", z->footer);
    }
    fclose(f);
}

static void write_file(const char *dir, const char *name, const char *bytes, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static const zone_spec synth_zones[] = {
    /* New York: EST/EDT switching in 2007, then the footer. */
    {"America/New_York",
     '2',
     2,
     {1173596400, 1194156000},
     {1, 0},
     2,
     {-18000, -14400},
     "EST5EDT,M3.2.0,M11.1.0",
     0},
    /* Berlin: CET/CEST switching in 1996, then the footer. */
    {"Europe/Berlin",
     '2',
     2,
     {828234000, 846378000},
     {1, 0},
     2,
     {3600, 7200},
     "CET-1CEST,M3.5.0,M10.5.0/3",
     0},
    /* Nuuk's rule since 2023: transition times before midnight (version 3). */
    {"Test/Nuuk", '3', 0, {0}, {0}, 1, {-7200}, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", 0},
    /* Daylight saving all year (version 3). */
    {"Test/AllDST", '3', 0, {0}, {0}, 1, {-18000}, "EST5EDT,0/0,J365/25", 0},
    /* Version 1: the 32-bit table alone, no footer: the last offset stays. */
    {"Test/V1", 0, 3, {1000000000, 1100000000, 1200000000}, {1, 2, 1}, 3, {0, 3600, 5400}, NULL, 0},
    /* A "right/" zone with leap seconds: refused. */
    {"Test/Leaps", '2', 0, {0}, {0}, 1, {0}, "UTC0", 1},
};

static int make_synth(void **state)
{
    (void)state;
    snprintf(synth_dir, sizeof synth_dir, "/tmp/baton-tz-XXXXXX");
    if (!mkdtemp(synth_dir)) return -1;
    const char *subdirs[] = {"America", "Europe", "Test"};
    for (size_t i = 0; i < ARRAY_LEN(subdirs); i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", synth_dir, subdirs[i]);
        if (mkdir(p, 0700) != 0) return -1;
    }
    for (size_t i = 0; i < ARRAY_LEN(synth_zones); i++)
        write_zone(synth_dir, &synth_zones[i]);
    write_file(synth_dir, "Test/NotTZif", "hello, world\n", 13);
    write_file(synth_dir, "Test/Short", "TZif2\0\0\0", 8);
    return 0;
}

static int remove_synth(void **state)
{
    (void)state;
    const char *files[] = {"America/New_York", "Europe/Berlin", "Test/Nuuk",    "Test/AllDST",
                           "Test/V1",          "Test/Leaps",    "Test/NotTZif", "Test/Short",
                           "America",          "Europe",        "Test",         ""};
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", synth_dir, files[i]);
        remove(p);
    }
    unsetenv("TZDIR");
    return 0;
}

/* Points $TZDIR at the system's zoneinfo or at the written one. False (and
 * the test skipped) when the system has no tzdata. */
static bool use_zones(bool system)
{
    if (system) {
        struct stat st;
        if (stat(SYSTEM_ZONEINFO "/America/New_York", &st) != 0) {
            print_message("tzdata is not installed: system zone cases skipped\n");
            return false;
        }
        setenv("TZDIR", SYSTEM_ZONEINFO, 1);
    } else {
        setenv("TZDIR", synth_dir, 1);
    }
    return true;
}

static tz *load(const char *name)
{
    char why[300];
    tz *z = tz_load(name, why, sizeof why);
    if (!z) fail_msg("tz_load(%s): %s", name, why);
    return z;
}

/* ---- time zones ---------------------------------------------------------------- */

typedef struct offset_case {
    const char *zone, *when;
    int32_t offset;
} offset_case;

static const offset_case offset_cases[] = {
    /* New York springs forward at 02:00 EST (07:00Z) on Sunday 8 March 2026 ... */
    {"America/New_York", "2026-03-08T06:59:59.999Z", -5 * 3600},
    {"America/New_York", "2026-03-08T07:00:00Z", -4 * 3600},
    /* ... and falls back at 02:00 EDT (06:00Z) on Sunday 1 November 2026. */
    {"America/New_York", "2026-11-01T05:59:59Z", -4 * 3600},
    {"America/New_York", "2026-11-01T06:00:00Z", -5 * 3600},
    /* Berlin: 02:00 CET -> 03:00 CEST and 03:00 CEST -> 02:00 CET, both at 01:00Z. */
    {"Europe/Berlin", "2026-03-29T00:59:59Z", 3600},
    {"Europe/Berlin", "2026-03-29T01:00:00Z", 7200},
    {"Europe/Berlin", "2026-10-25T00:59:59Z", 7200},
    {"Europe/Berlin", "2026-10-25T01:00:00Z", 3600},
    /* 2040, past every table: second Sunday of March (the 11th), first of
     * November (the 4th). */
    {"America/New_York", "2040-03-11T06:59:59Z", -5 * 3600},
    {"America/New_York", "2040-03-11T07:00:00Z", -4 * 3600},
    {"America/New_York", "2040-11-04T05:59:59Z", -4 * 3600},
    {"America/New_York", "2040-11-04T06:00:00Z", -5 * 3600},
    /* Far past the cache the rule is evaluated directly: 2150-03-08 is the
     * second Sunday of March. */
    {"America/New_York", "2150-03-08T06:59:59Z", -5 * 3600},
    {"America/New_York", "2150-03-08T07:00:00Z", -4 * 3600},
    {"Europe/Berlin", "2026-07-01T00:00:00Z", 7200},
    {"Europe/Berlin", "2026-01-15T00:00:00Z", 3600},
    {"UTC", "2026-03-08T07:00:00Z", 0},
};

static void check_offsets(bool system)
{
    if (!use_zones(system)) {
        skip();
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(offset_cases); i++) {
        const offset_case *k = &offset_cases[i];
        tz *z = load(k->zone);
        int32_t got = tz_offset(z, at(k->when));
        if (got != k->offset)
            fail_msg("%s at %s: offset %d, want %d", k->zone, k->when, got, k->offset);
        tz_free(z);
    }
}

static void test_offsets_system(void **state)
{
    (void)state;
    check_offsets(true);
}

static void test_offsets_footer(void **state)
{
    (void)state;
    check_offsets(false);
}

typedef struct local_case {
    const char *zone, *date;
    int32_t minute;      /* of the local day */
    const char *instant; /* what tz_from_local gives */
} local_case;

static const local_case local_cases[] = {
    {"America/New_York", "2026-03-08", 90, "2026-03-08T01:30:00-05:00"},
    /* In the gap: 02:30 does not exist; read with EST it is 03:30 EDT. */
    {"America/New_York", "2026-03-08", 150, "2026-03-08T03:30:00-04:00"},
    {"America/New_York", "2026-03-08", 180, "2026-03-08T03:00:00-04:00"},
    /* In the fold: 01:30 happens twice; the earlier (EDT) is meant. */
    {"America/New_York", "2026-11-01", 90, "2026-11-01T01:30:00-04:00"},
    {"America/New_York", "2026-11-01", 120, "2026-11-01T02:00:00-05:00"},
    {"Europe/Berlin", "2026-03-29", 150, "2026-03-29T03:30:00+02:00"},
    {"Europe/Berlin", "2026-10-25", 150, "2026-10-25T02:30:00+02:00"},
    {"Europe/Berlin", "2026-10-25", 180, "2026-10-25T03:00:00+01:00"},
    /* 1440 is the midnight that ends the day. */
    {"Europe/Berlin", "2026-10-24", 1440, "2026-10-25T00:00:00+02:00"},
    {"America/New_York", "2040-03-11", 150, "2040-03-11T03:30:00-04:00"},
    {"America/New_York", "2040-11-04", 90, "2040-11-04T01:30:00-04:00"},
    /* Nuuk (footer only): DST starts at -01:00 local on the last Sunday of
     * March, i.e. 23:00 on Saturday 28 March 2026, and ends at 00:00 DST on
     * the last Sunday of October, i.e. 23:00 standard on Saturday 24th. */
    {"Test/Nuuk", "2026-03-28", 23 * 60 + 30, "2026-03-29T00:30:00-01:00"},
    {"Test/Nuuk", "2026-03-28", 22 * 60 + 59, "2026-03-28T22:59:00-02:00"},
    {"Test/Nuuk", "2026-10-24", 23 * 60 + 30, "2026-10-24T23:30:00-01:00"},
    {"Test/AllDST", "2030-01-15", 600, "2030-01-15T10:00:00-04:00"},
    {"Test/AllDST", "2030-07-15", 600, "2030-07-15T10:00:00-04:00"},
    {"Test/V1", "2026-01-01", 0, "2026-01-01T00:00:00+01:00"}, /* its last type: +01:00 */
};

static void check_local(bool system)
{
    if (!use_zones(system)) {
        skip();
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(local_cases); i++) {
        const local_case *k = &local_cases[i];
        if (system && strncmp(k->zone, "Test/", 5) == 0) continue;
        tz *z = load(k->zone);
        int64_t day = day_of(k->date);
        time_ms t = tz_from_local(z, day, k->minute);
        char got[40], want[40];
        time_format(t, got, sizeof got);
        time_format(at(k->instant), want, sizeof want);
        if (t != at(k->instant))
            fail_msg("%s %s minute %d: %s, want %s", k->zone, k->date, k->minute, got, want);
        /* Back to local: the same day and minute, except in a gap. */
        int64_t d2;
        int32_t m2;
        tz_to_local(z, t, &d2, &m2);
        int32_t off = tz_offset(z, t);
        assert_int_equal(d2 * 1440 + m2, (t + (int64_t)off * 1000) / M);
        tz_free(z);
    }
}

static void test_local_system(void **state)
{
    (void)state;
    check_local(true);
}

static void test_local_footer(void **state)
{
    (void)state;
    check_local(false);
}

static void check_transitions(bool system)
{
    if (!use_zones(system)) {
        skip();
        return;
    }
    tz *z = load("America/New_York");
    assert_int_equal(tz_next_transition(z, at("2026-01-01T00:00:00Z")), at("2026-03-08T07:00:00Z"));
    assert_int_equal(tz_next_transition(z, at("2026-03-08T07:00:00Z")), at("2026-11-01T06:00:00Z"));
    assert_int_equal(tz_next_transition(z, at("2040-03-11T06:59:59.999Z")),
                     at("2040-03-11T07:00:00Z"));
    int64_t day;
    int32_t minute;
    tz_to_local(z, at("2026-03-08T07:00:00Z"), &day, &minute);
    assert_int_equal(day, day_of("2026-03-08"));
    assert_int_equal(minute, 180);
    tz_to_local(z, at("2026-11-13T04:59:00Z"), &day, &minute); /* 23:59 Friday in New York */
    assert_int_equal(day, day_of("2026-11-12"));
    assert_int_equal(minute, 23 * 60 + 59);
    tz_free(z);
    z = load("UTC");
    assert_int_equal(tz_next_transition(z, 0), INT64_MAX);
    tz_free(z);
}

static void test_transitions_system(void **state)
{
    (void)state;
    check_transitions(true);
}

static void test_transitions_footer(void **state)
{
    (void)state;
    check_transitions(false);
}

/* The version 1 zone: offsets from its table, the last one kept forever. */
static void test_version1_and_v3(void **state)
{
    (void)state;
    use_zones(false);
    tz *z = load("Test/V1");
    assert_int_equal(tz_offset(z, 999999999 * INT64_C(1000)), 0);
    assert_int_equal(tz_offset(z, 1000000000 * INT64_C(1000)), 3600);
    assert_int_equal(tz_offset(z, 1100000000 * INT64_C(1000)), 5400);
    assert_int_equal(tz_offset(z, 1200000000 * INT64_C(1000)), 3600);
    assert_int_equal(tz_offset(z, at("2300-01-01T00:00:00Z")), 3600);
    tz_free(z);
    z = load("Test/AllDST");
    assert_int_equal(tz_offset(z, at("2030-01-01T00:00:00Z")), -4 * 3600);
    assert_int_equal(tz_offset(z, at("2030-12-31T23:59:59Z")), -4 * 3600);
    assert_int_equal(tz_offset(z, at("2500-06-01T00:00:00Z")), -4 * 3600);
    tz_free(z);
    z = load("Test/Nuuk");
    assert_int_equal(tz_offset(z, at("2026-03-29T00:59:59Z")), -7200);
    assert_int_equal(tz_offset(z, at("2026-03-29T01:00:00Z")), -3600);
    assert_int_equal(tz_offset(z, at("2026-10-25T00:59:59Z")), -3600);
    assert_int_equal(tz_offset(z, at("2026-10-25T01:00:00Z")), -7200);
    tz_free(z);
}

typedef struct refusal {
    const char *name, *message; /* %s: the zone directory */
} refusal;

static void test_refusals(void **state)
{
    (void)state;
    use_zones(false);
    static const refusal cases[] = {
        {"Mars/Base", "no time zone named \"Mars/Base\" under %s"},
        {"America", "\"America\" under %s is a directory, not a time zone"},
        {"Test/NotTZif", "time zone file %s/Test/NotTZif is not a TZif file"},
        {"Test/Short", "time zone file %s/Test/Short is not a TZif file"},
        {"Test/Leaps", "time zone file %s/Test/Leaps lists leap seconds (a \"right/\" zone), which "
                       "baton does not read"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char why[300] = "", want[300];
        assert_null(tz_load(cases[i].name, why, sizeof why));
        snprintf(want, sizeof want, cases[i].message, synth_dir);
        assert_string_equal(why, want);
    }
    static const char *const bad[] = {
        "../etc/passwd",     "/etc/passwd", "America/../UTC",   "New York",   "",
        "America//New_York", "America/",    "Europe/Berlin;rm", "Asia/Ho.Chi"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        char why[300] = "";
        assert_false(tz_name_valid(bad[i]));
        assert_null(tz_load(bad[i], why, sizeof why));
        if (!strstr(why, "is not a time zone name: use an IANA name such as America/New_York"))
            fail_msg("%s: %s", bad[i], why);
    }
    assert_true(tz_name_valid("Etc/GMT+5"));
    assert_true(tz_name_valid("America/Port-au-Prince"));
    /* UTC needs no file. */
    setenv("TZDIR", "/nonexistent/zoneinfo", 1);
    tz *z = load("UTC");
    assert_string_equal(tz_name(z), "UTC");
    assert_int_equal(tz_offset(z, at("2026-06-01T00:00:00Z")), 0);
    assert_int_equal(tz_from_local(z, day_of("2026-06-01"), 90), at("2026-06-01T01:30:00Z"));
    tz_free(z);
    char why[300];
    assert_null(tz_load("Europe/Berlin", why, sizeof why));
    assert_string_equal(why, "no time zone named \"Europe/Berlin\" under /nonexistent/zoneinfo");
    calendar_info info = {.timezone = "Mars/Base", .day_start = 540, .day_end = 1020};
    assert_null(calendar_new(&info, why, sizeof why));
    assert_string_equal(why, "no time zone named \"Mars/Base\" under /nonexistent/zoneinfo");
    info = (calendar_info){.timezone = "UTC", .day_start = 1020, .day_end = 540};
    assert_null(calendar_new(&info, why, sizeof why));
    assert_string_equal(why, "business hours 17:00-09:00 are not a range within a day");
}

/* ---- business time --------------------------------------------------------------- */

enum op { ADD_MINUTES, ADD_DAYS, BETWEEN, NEXT_OPEN, IS_OPEN };

typedef struct cal_case {
    const char *what;
    const char *zone;
    uint8_t workdays; /* 0: Monday to Friday */
    uint16_t start, end;
    const char *holidays; /* "YYYY-MM-DD YYYY-MM-DD ..." */
    enum op op;
    const char *from;
    int64_t amount;     /* minutes, days, or for BETWEEN ignored */
    const char *expect; /* an instant (ADD_*, NEXT_OPEN), the end (BETWEEN), NULL */
    int64_t expect_ms;  /* BETWEEN: the business time; IS_OPEN: 0 or 1 */
} cal_case;

#define NY    "America/New_York"
#define BER   "Europe/Berlin"
#define ALL   0x7f
#define H9_17 540, 1020
#define FULL  0, 0

static const cal_case cal_cases[] = {
    /* Friday 16:30: half an hour on Friday, 3.5 hours on Monday. */
    {"4 business hours after Friday 16:30", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-11-13T16:30:00-05:00", 240, "2026-11-16T12:30:00-05:00", 0},
    {"the same across a holiday Monday", NY, 0, H9_17, "2026-11-16", ADD_MINUTES,
     "2026-11-13T16:30:00-05:00", 240, "2026-11-17T12:30:00-05:00", 0},
    {"time that runs out at closing is due at closing", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-11-13T13:00:00-05:00", 240, "2026-11-13T17:00:00-05:00", 0},
    {"from before opening counts from the opening", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-11-16T06:00:00-05:00", 30, "2026-11-16T09:30:00-05:00", 0},
    {"from a Saturday counts from Monday's opening", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-11-14T11:00:00-05:00", 60, "2026-11-16T10:00:00-05:00", 0},
    /* 24 Dec is 1, 28-31 Dec are 2-5, 4-8 Jan are 6-10 (25 Dec, 1 Jan are holidays). */
    {"10 business days after Wednesday 23 December (10:00)", NY, 0, H9_17, "2026-12-25 2027-01-01",
     ADD_DAYS, "2026-12-23T10:00:00-05:00", 10, "2027-01-08T17:00:00-05:00", 0},
    {"10 business days after Wednesday 23 December (00:00)", NY, 0, H9_17, "2027-01-01 2026-12-25",
     ADD_DAYS, "2026-12-23T00:00:00-05:00", 10, "2027-01-08T17:00:00-05:00", 0},
    {"10 business days after Wednesday 23 December (23:59)", NY, 0, H9_17, "2026-12-25 2027-01-01",
     ADD_DAYS, "2026-12-23T23:59:00-05:00", 10, "2027-01-08T17:00:00-05:00", 0},
    {"10 business days without the holidays", NY, 0, H9_17, "", ADD_DAYS,
     "2026-12-23T10:00:00-05:00", 10, "2027-01-06T17:00:00-05:00", 0},
    /* 23:59 Friday in New York is 04:59Z on Saturday: the local day counts. */
    {"1 business day after a handoff at 23:59 on a Friday", NY, 0, H9_17, "", ADD_DAYS,
     "2026-11-13T23:59:00-05:00", 1, "2026-11-16T17:00:00-05:00", 0},
    {"1 business hour after 23:59 on a Friday", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-11-13T23:59:00-05:00", 60, "2026-11-16T10:00:00-05:00", 0},
    {"business time from 23:59 Friday to Monday 10:00", NY, 0, H9_17, "", BETWEEN,
     "2026-11-13T23:59:00-05:00", 0, "2026-11-16T10:00:00-05:00", 1 * H},
    {"a business day after a Saturday handoff is Monday", NY, 0, H9_17, "", ADD_DAYS,
     "2026-11-14T12:00:00-05:00", 1, "2026-11-16T17:00:00-05:00", 0},
    /* Spring forward, New York, Sunday 8 March 2026. */
    {"2 business hours from Friday 16:00 over the spring-forward weekend", NY, 0, H9_17, "",
     ADD_MINUTES, "2026-03-06T16:00:00-05:00", 120, "2026-03-09T10:00:00-04:00", 0},
    {"business time over the spring-forward weekend", NY, 0, H9_17, "", BETWEEN,
     "2026-03-06T16:00:00-05:00", 0, "2026-03-09T10:00:00-04:00", 2 * H},
    {"1 business day over the spring-forward weekend", NY, 0, H9_17, "", ADD_DAYS,
     "2026-03-06T10:00:00-05:00", 1, "2026-03-09T17:00:00-04:00", 0},
    {"a 24-hour calendar: the spring-forward Sunday noon to noon is 23 hours", NY, ALL, FULL, "",
     BETWEEN, "2026-03-07T12:00:00-05:00", 0, "2026-03-08T12:00:00-04:00", 23 * H},
    {"a 24-hour calendar: 3 hours after midnight on the spring-forward night", NY, ALL, FULL, "",
     ADD_MINUTES, "2026-03-08T00:00:00-05:00", 180, "2026-03-08T04:00:00-04:00", 0},
    {"hours 01:00-04:00 last 2 hours on the spring-forward night", NY, ALL, 60, 240, "", BETWEEN,
     "2026-03-08T00:00:00-05:00", 0, "2026-03-09T00:00:00-04:00", 2 * H},
    {"hours 01:00-04:00: 150 minutes from 01:00 on the spring-forward night", NY, ALL, 60, 240, "",
     ADD_MINUTES, "2026-03-08T01:00:00-05:00", 150, "2026-03-09T01:30:00-04:00", 0},
    /* Fall back, New York, Sunday 1 November 2026. */
    {"2 business hours from Friday 16:00 over the fall-back weekend", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-10-30T16:00:00-04:00", 120, "2026-11-02T10:00:00-05:00", 0},
    {"a 24-hour calendar: the fall-back Sunday noon to noon is 25 hours", NY, ALL, FULL, "",
     BETWEEN, "2026-10-31T12:00:00-04:00", 0, "2026-11-01T12:00:00-05:00", 25 * H},
    {"a 24-hour calendar: 3 hours after midnight on the fall-back night", NY, ALL, FULL, "",
     ADD_MINUTES, "2026-11-01T00:00:00-04:00", 180, "2026-11-01T02:00:00-05:00", 0},
    {"hours 01:00-04:00 last 4 hours on the fall-back night", NY, ALL, 60, 240, "", BETWEEN,
     "2026-11-01T00:00:00-04:00", 0, "2026-11-02T00:00:00-05:00", 4 * H},
    {"hours 01:00-04:00: 210 minutes from the first 01:00 of the fall-back night", NY, ALL, 60, 240,
     "", ADD_MINUTES, "2026-11-01T01:00:00-04:00", 210, "2026-11-01T03:30:00-05:00", 0},
    /* Berlin: Sunday 29 March and Sunday 25 October 2026. */
    {"Berlin, 24 hours: noon to noon over the spring-forward night is 23 hours", BER, ALL, FULL, "",
     BETWEEN, "2026-03-28T12:00:00+01:00", 0, "2026-03-29T12:00:00+02:00", 23 * H},
    {"Berlin, 24 hours: noon to noon over the fall-back night is 25 hours", BER, ALL, FULL, "",
     BETWEEN, "2026-10-24T12:00:00+02:00", 0, "2026-10-25T12:00:00+01:00", 25 * H},
    {"Berlin 08:30-17:30: 1 hour from Friday 17:00 over spring forward", BER, 0, 510, 1050, "",
     ADD_MINUTES, "2026-03-27T17:00:00+01:00", 60, "2026-03-30T09:00:00+02:00", 0},
    {"Berlin 08:30-17:30: 1 hour from Friday 17:00 over fall back", BER, 0, 510, 1050, "",
     ADD_MINUTES, "2026-10-23T17:00:00+02:00", 60, "2026-10-26T09:00:00+01:00", 0},
    {"Berlin 08:30-17:30: 5 business days from the Friday before spring forward", BER, 0, 510, 1050,
     "", ADD_DAYS, "2026-03-27T17:00:00+01:00", 5, "2026-04-03T17:30:00+02:00", 0},
    /* Between. */
    {"business time across a weekend", NY, 0, H9_17, "", BETWEEN, "2026-06-12T15:00:00-04:00", 0,
     "2026-06-15T11:00:00-04:00", 4 * H},
    {"business time across a DST night (Berlin, Saturday to Monday)", BER, 0, 510, 1050, "",
     BETWEEN, "2026-03-28T10:00:00+01:00", 0, "2026-03-30T10:30:00+02:00", 2 * H},
    {"June 2026: 22 weekdays of 8 hours", NY, 0, H9_17, "", BETWEEN, "2026-06-01T00:00:00-04:00", 0,
     "2026-07-01T00:00:00-04:00", 22 * 8 * H},
    {"March 2026 across spring forward: 22 weekdays of 8 hours", NY, 0, H9_17, "", BETWEEN,
     "2026-03-01T00:00:00-05:00", 0, "2026-04-01T00:00:00-04:00", 22 * 8 * H},
    {"March 2026 on a 24-hour calendar: 31 days less an hour", NY, ALL, FULL, "", BETWEEN,
     "2026-03-01T00:00:00-05:00", 0, "2026-04-01T00:00:00-04:00", 31 * 24 * H - H},
    {"December 2026 with two holidays", NY, 0, H9_17, "2026-12-25 2026-12-24 2026-12-26", BETWEEN,
     "2026-12-01T00:00:00-05:00", 0, "2027-01-01T00:00:00-05:00", 21 * 8 * H},
    {"inside one day", NY, 0, H9_17, "", BETWEEN, "2026-06-15T08:00:00-04:00", 0,
     "2026-06-15T09:45:00-04:00", 45 * M},
    {"backwards is zero", NY, 0, H9_17, "", BETWEEN, "2026-06-15T12:00:00-04:00", 0,
     "2026-06-15T11:00:00-04:00", 0},
    /* Opening. */
    {"next opening from a Saturday", NY, 0, H9_17, "", NEXT_OPEN, "2026-06-13T12:00:00-04:00", 0,
     "2026-06-15T09:00:00-04:00", 0},
    {"next opening from inside hours is now", NY, 0, H9_17, "", NEXT_OPEN,
     "2026-06-15T12:00:00-04:00", 0, "2026-06-15T12:00:00-04:00", 0},
    {"next opening at closing time is the next day", NY, 0, H9_17, "2026-06-16", NEXT_OPEN,
     "2026-06-15T17:00:00-04:00", 0, "2026-06-17T09:00:00-04:00", 0},
    {"open a millisecond before closing", NY, 0, H9_17, "", IS_OPEN,
     "2026-06-15T16:59:59.999-04:00", 0, NULL, 1},
    {"closed at closing", NY, 0, H9_17, "", IS_OPEN, "2026-06-15T17:00:00-04:00", 0, NULL, 0},
    {"closed on a holiday", NY, 0, H9_17, "2026-06-15", IS_OPEN, "2026-06-15T12:00:00-04:00", 0,
     NULL, 0},
    {"weekend workdays: open on Saturday", NY, 0x3f, H9_17, "", IS_OPEN,
     "2026-06-13T12:00:00-04:00", 0, NULL, 1},
    /* 2040: only the footer rule knows. */
    {"1 business day over the 2040 spring-forward weekend", NY, 0, H9_17, "", ADD_DAYS,
     "2040-03-09T12:00:00-05:00", 1, "2040-03-12T17:00:00-04:00", 0},
    {"a 24-hour calendar in 2040: the spring-forward day has 23 hours", NY, ALL, FULL, "", BETWEEN,
     "2040-03-11T00:00:00-05:00", 0, "2040-03-12T00:00:00-04:00", 23 * H},
    /* Limits. */
    {"more than 100 years of business days saturates", NY, 0, H9_17, "", ADD_DAYS,
     "2026-06-15T12:00:00-04:00", CALENDAR_MAX_BUSINESS_DAYS + 1, NULL, CALENDAR_NEVER},
    {"more than 100 years of business minutes saturates", NY, 0, H9_17, "", ADD_MINUTES,
     "2026-06-15T12:00:00-04:00", CALENDAR_MAX_BUSINESS_MINUTES + 1, NULL, CALENDAR_NEVER},
    {"an answer past year 9999 saturates", NY, 0, H9_17, "", ADD_DAYS, "9999-12-30T12:00:00-05:00",
     5, NULL, CALENDAR_NEVER},
    {"no days to add gives the handoff itself", NY, 0, H9_17, "", ADD_DAYS,
     "2026-06-13T12:00:00-04:00", 0, "2026-06-13T12:00:00-04:00", 0},
};

static calendar *make_calendar(const char *zone, uint8_t workdays, uint16_t start, uint16_t end,
                               const char *holidays, int64_t *days)
{
    size_t n = 0;
    for (const char *p = holidays; *p;) {
        while (*p == ' ')
            p++;
        if (!*p) break;
        days[n++] =
            day_of((char[11]){p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], 0});
        p += 10;
    }
    calendar_info info = {.timezone = zone,
                          .workdays = workdays,
                          .holidays = days,
                          .holiday_count = n,
                          .day_start = start,
                          .day_end = end};
    char why[300];
    calendar *c = calendar_new(&info, why, sizeof why);
    if (!c) fail_msg("calendar_new(%s): %s", zone, why);
    return c;
}

static void check_cases(bool system)
{
    if (!use_zones(system)) {
        skip();
        return;
    }
    for (size_t i = 0; i < ARRAY_LEN(cal_cases); i++) {
        const cal_case *k = &cal_cases[i];
        int64_t days[8];
        calendar *c = make_calendar(k->zone, k->workdays, k->start, k->end, k->holidays, days);
        time_ms from = at(k->from), want = k->expect ? at(k->expect) : k->expect_ms, got = 0;
        switch (k->op) {
        case ADD_MINUTES: got = calendar_add_business_minutes(c, from, k->amount); break;
        case ADD_DAYS: got = calendar_add_business_days(c, from, k->amount); break;
        case NEXT_OPEN: got = calendar_next_open(c, from); break;
        case IS_OPEN: got = calendar_is_open(c, from); break;
        case BETWEEN:
            got = calendar_business_between(c, from, want);
            want = k->expect_ms;
            break;
        }
        if (got != want) {
            char g[48], w[48];
            time_format(got, g, sizeof g);
            time_format(want, w, sizeof w);
            fail_msg("%s (%s zones): got %lld (%s), want %lld (%s)", k->what,
                     system ? "system" : "footer", (long long)got, g, (long long)want, w);
        }
        calendar_free(c);
    }
}

static void test_business_system(void **state)
{
    (void)state;
    check_cases(true);
}

static void test_business_footer(void **state)
{
    (void)state;
    check_cases(false);
}

/* ---- against a plain day-by-day reference ------------------------------------------ */

/* The plain way: every day's hours in turn, from two days before the local
 * day (a fold across midnight lets a day's hours hold instants of the day
 * before), clamped to the span. */
static int64_t ref_between(const calendar *c, time_ms a, time_ms b)
{
    if (b <= a) return 0;
    int64_t total = 0, d0, d1;
    int32_t m;
    tz_to_local(calendar_zone(c), a, &d0, &m);
    tz_to_local(calendar_zone(c), b, &d1, &m);
    for (int64_t d = d0 - 2; d <= d1 + 2; d++) {
        time_ms o, e;
        if (!calendar_hours(c, d, &o, &e)) continue;
        if (o < a) o = a;
        if (e > b) e = b;
        if (e > o) total += e - o;
    }
    return total;
}

static time_ms ref_add_minutes(const calendar *c, time_ms from, int64_t minutes)
{
    int64_t left = minutes * M, d;
    int32_t m;
    tz_to_local(calendar_zone(c), from, &d, &m);
    for (d -= 2;; d++) {
        time_ms o, e;
        if (!calendar_hours(c, d, &o, &e)) continue;
        if (o < from) o = from;
        if (e <= o) continue;
        if (left <= e - o) return o + left;
        left -= e - o;
    }
}

static time_ms ref_add_days(const calendar *c, time_ms from, int64_t n)
{
    int64_t d;
    int32_t m;
    tz_to_local(calendar_zone(c), from, &d, &m);
    while (n > 0)
        if (calendar_is_business_day(c, ++d)) n--;
    time_ms o, e;
    calendar_hours(c, d, &o, &e);
    return e;
}

/* Hours never overlap and follow each other day after day. */
static void check_hours_ordered(const calendar *c, int64_t first, int64_t last)
{
    time_ms prev = INT64_MIN;
    for (int64_t d = first; d <= last; d++) {
        time_ms o, e;
        if (!calendar_hours(c, d, &o, &e)) continue;
        assert_true(o <= e);
        assert_true(o >= prev);
        prev = e;
    }
}

static void check_random(bool system)
{
    if (!use_zones(system)) {
        skip();
        return;
    }
    static const struct {
        const char *zone;
        uint8_t workdays;
        uint16_t start, end;
        const char *base;
        bool system_only;
    } cals[] = {
        {NY, 0, H9_17, "2025-12-01", false},
        {BER, 0, 510, 1050, "2025-12-01", false},
        {NY, ALL, FULL, "2025-12-01", false},
        {NY, ALL, 60, 240, "2025-12-01", false},
        {BER, 0x5b, 150, 1440, "2025-12-01", false},
        {"UTC", 0x1f, 0, 30, "2025-12-01", false},
        /* Newfoundland folded across midnight (00:01 back to 23:01) until 2010. */
        {"America/St_Johns", ALL, FULL, "1987-01-01", true},
        {"America/St_Johns", ALL, 0, 2, "1987-01-01", true},
        {"America/St_Johns", ALL, 1380, 1440, "1987-01-01", true},
        /* Samoa skipped Friday 30 December 2011. */
        {"Pacific/Apia", ALL, H9_17, "2010-10-01", true},
        {"Pacific/Apia", ALL, FULL, "2010-10-01", true},
    };
    int64_t holidays[40];
    uint64_t seed = 0x9e3779b97f4a7c15u;
#define RAND() (seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17, seed)
    for (size_t k = 0; k < ARRAY_LEN(cals); k++) {
        if (cals[k].system_only && !system) continue;
        size_t nh = 0;
        int64_t base = day_of(cals[k].base);
        for (; nh < ARRAY_LEN(holidays); nh++)
            holidays[nh] = base + 30 + (int64_t)(RAND() % 1200);
        calendar_info info = {.timezone = cals[k].zone,
                              .workdays = cals[k].workdays,
                              .holidays = holidays,
                              .holiday_count = nh,
                              .day_start = cals[k].start,
                              .day_end = cals[k].end};
        char why[300];
        calendar *c = calendar_new(&info, why, sizeof why);
        if (!c) fail_msg("%s", why);
        check_hours_ordered(c, base, base + 1300);
        for (int i = 0; i < 300; i++) {
            time_ms a = base * MS_PER_DAY + (time_ms)(RAND() % (1200 * 24 * 60)) * M;
            time_ms b = a + (time_ms)(RAND() % (i % 3 ? 60 * 24 * 60 : 900 * 24 * 60)) * M;
            /* up to about 3 business days, or 500 */
            uint64_t day_minutes = (uint64_t)(cals[k].end ? cals[k].end - cals[k].start : 1440);
            int64_t mins = (int64_t)(RAND() % (day_minutes * (i % 2 ? 3 : 500)));
            int64_t n = (int64_t)(RAND() % (i % 2 ? 15 : 600)) + 1;
            if (calendar_business_between(c, a, b) != ref_between(c, a, b))
                fail_msg("%s: between %lld %lld: %lld, want %lld", cals[k].zone, (long long)a,
                         (long long)b, (long long)calendar_business_between(c, a, b),
                         (long long)ref_between(c, a, b));
            time_ms due = calendar_add_business_minutes(c, a, mins);
            if (due != ref_add_minutes(c, a, mins))
                fail_msg("%s: %lld + %lld min: %lld, want %lld", cals[k].zone, (long long)a,
                         (long long)mins, (long long)due, (long long)ref_add_minutes(c, a, mins));
            assert_int_equal(calendar_business_between(c, a, due), mins * M);
            assert_int_equal(calendar_add_business_days(c, a, n), ref_add_days(c, a, n));
            assert_int_equal(calendar_is_open(c, a), calendar_next_open(c, a) == a);
        }
        calendar_free(c);
    }
}

static void test_random_system(void **state)
{
    (void)state;
    check_random(true);
}

static void test_random_footer(void **state)
{
    (void)state;
    check_random(false);
}

/* No allocation after construction. */
static void test_no_allocation(void **state)
{
    (void)state;
    use_zones(false);
    int64_t days[4];
    calendar *c = make_calendar(NY, 0, H9_17, "2026-12-25 2027-01-01", days);
    size_t before = mem_alloc_count();
    time_ms t = at("2026-12-23T10:00:00-05:00");
    (void)calendar_add_business_days(c, t, 10);
    (void)calendar_add_business_minutes(c, t, 100000);
    (void)calendar_business_between(c, t, at("2040-12-23T10:00:00-05:00"));
    (void)calendar_next_open(c, t);
    assert_int_equal(mem_alloc_count(), before);
    calendar_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offsets_system),     cmocka_unit_test(test_offsets_footer),
        cmocka_unit_test(test_local_system),       cmocka_unit_test(test_local_footer),
        cmocka_unit_test(test_transitions_system), cmocka_unit_test(test_transitions_footer),
        cmocka_unit_test(test_version1_and_v3),    cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_business_system),    cmocka_unit_test(test_business_footer),
        cmocka_unit_test(test_random_system),      cmocka_unit_test(test_random_footer),
        cmocka_unit_test(test_no_allocation),
    };
    return cmocka_run_group_tests(tests, make_synth, remove_synth);
}
