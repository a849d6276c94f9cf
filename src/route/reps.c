/* The reps table: who can own a lead, in which team and territories, how
 * many open handoffs at once, when they work and when they are away.
 *
 * Every setting arrives as text (a CSV row, or the API's one rep at a time)
 * and is checked whole before anything changes. Calendars are shared: reps
 * with the same zone, workdays and hours use one calendar, so a zone is read
 * from zoneinfo once per distinct working pattern, not once per rep. */
#include "ingest/ingest.h"
#include "route/internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

router *route_new(const calendar_info *defaults)
{
    router *r = mem_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->ids = strmap_new();
    r->names = strmap_new();
    r->cal_keys = strmap_new();
    if (!r->ids || !r->names || !r->cal_keys) goto fail;
    r->defaults.workdays = 0x1f;
    r->defaults.day_start = 9 * 60;
    r->defaults.day_end = 17 * 60;
    if (defaults) {
        r->defaults.workdays = defaults->workdays ? defaults->workdays : 0x1f;
        if (defaults->day_start || defaults->day_end) {
            r->defaults.day_start = defaults->day_start;
            r->defaults.day_end = defaults->day_end;
        }
    }
    /* The zone's name is kept in the router's own names, not borrowed. */
    const char *zone = defaults && defaults->timezone ? defaults->timezone : "UTC";
    uint32_t id = route_name_intern(r, zone, strlen(zone));
    if (id == ROUTE_NO_NAME) goto fail;
    r->defaults.timezone = r->name_of[id];
    return r;
fail:
    route_free(r);
    return NULL;
}

void route_free(router *r)
{
    if (!r) return;
    for (uint32_t i = 0; i < r->count; i++) {
        mem_free(r->reps[i].name);
        mem_free(r->reps[i].email);
    }
    for (uint32_t i = 0; i < r->cal_count; i++) calendar_free(r->cals[i]);
    mem_free(r->cals);
    mem_free(r->reps);
    mem_free(r->status);
    mem_free(r->order);
    mem_free(r->name_of);
    strmap_free(r->ids);
    strmap_free(r->names);
    strmap_free(r->cal_keys);
    mem_free(r);
}

uint32_t route_name_find(const router *r, const char *s)
{
    uint32_t id;
    return s && strmap_get(r->names, s, strlen(s), &id) ? id : ROUTE_NO_NAME;
}

uint32_t route_name_intern(router *r, const char *s, size_t len)
{
    uint32_t id;
    if (strmap_get(r->names, s, len, &id)) return id;
    if (r->name_count == ROUTE_MAX_NAMES) return ROUTE_NO_NAME;
    if (r->name_count == r->name_cap) {
        uint32_t cap = r->name_cap ? 2 * r->name_cap : 64;
        const char **bigger = mem_realloc(r->name_of, cap * sizeof *bigger);
        if (!bigger) return ROUTE_NO_NAME;
        r->name_of = bigger;
        r->name_cap = cap;
    }
    const char *copy = strmap_put(r->names, s, len, r->name_count);
    if (!copy) return ROUTE_NO_NAME;
    r->name_of[r->name_count] = copy;
    return r->name_count++;
}

size_t route_rep_count(const router *r) { return r->count; }

int route_find_rep(const router *r, const char *id)
{
    uint32_t i;
    return id && strmap_get(r->ids, id, strlen(id), &i) ? (int)i : -1;
}

/* ---- reading one rep's settings --------------------------------------------------
 * Each reader takes the column's text and fills part of a rep, or writes why
 * not into `why` and returns false. */

typedef struct reading {
    router *r;
    rep *p;
    char *why;
    size_t why_size;
} reading;

static bool refuse(reading *rd, const char *column, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool refuse(reading *rd, const char *column, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(rd->why, rd->why_size, "column '%s': %s", column, msg);
    return false;
}

static bool blank(const char *s)
{
    return !s || !*s;
}

/* The separators between items of a list column: space, '|', ',' and ';'. */
static const char *next_item(const char *s, size_t *len)
{
    s += strspn(s, " |,;\t");
    *len = strcspn(s, " |,;\t");
    return *len ? s : NULL;
}

/* Names of teams, territories and ids: what people type into CRMs. */
static bool name_chars(const char *s, size_t n, bool any_printable)
{
    if (n == 0 || n > ROUTE_MAX_ID) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool ok = any_printable ? ch > ' ' && ch != 0x7f
                                : (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                                      ch == '-' || ch == '_' || ch == '.';
        if (!ok) return false;
    }
    return true;
}

static bool read_team(reading *rd, const char *s)
{
    if (blank(s)) return refuse(rd, "team", "every rep belongs to a team");
    if (!name_chars(s, strlen(s), false))
        return refuse(rd, "team", "'%.64s' is not a team name (up to %d letters, digits, '-', '_', '.')", s, ROUTE_MAX_ID);
    rd->p->team = route_name_intern(rd->r, s, strlen(s));
    return rd->p->team != ROUTE_NO_NAME || refuse(rd, "team", "too many distinct names");
}

static bool read_territories(reading *rd, const char *s)
{
    size_t len;
    for (const char *t = s ? next_item(s, &len) : NULL; t; t = next_item(t + len, &len)) {
        if (!name_chars(t, len, false))
            return refuse(rd, "territory", "'%.*s' is not a territory name (letters, digits, '-', '_', '.')",
                          (int)(len > 64 ? 64 : len), t);
        if (rd->p->territory_count == ROUTE_MAX_TERRITORIES)
            return refuse(rd, "territory", "more than %d territories", ROUTE_MAX_TERRITORIES);
        uint32_t id = route_name_intern(rd->r, t, len);
        if (id == ROUTE_NO_NAME) return refuse(rd, "territory", "too many distinct names");
        rd->p->territories[rd->p->territory_count++] = id;
    }
    return true;
}

static bool read_capacity(reading *rd, const char *s)
{
    char *end;
    unsigned long v = blank(s) ? 0 : strtoul(s, &end, 10);
    if (blank(s) || *end || s[0] == '-' || s[0] == '+' || v < 1 || v > ROUTE_MAX_CAPACITY)
        return refuse(rd, "capacity", "'%.32s' is not a whole number from 1 to %d (open handoffs at once)",
                      s ? s : "", ROUTE_MAX_CAPACITY);
    rd->p->capacity = (uint32_t)v;
    return true;
}

static bool read_active(reading *rd, const char *s)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {{"true", true}, {"yes", true}, {"1", true}, {"false", false}, {"no", false}, {"0", false}};
    rd->p->active = true;
    if (blank(s)) return true;
    for (size_t i = 0; i < ARRAY_LEN(words); i++) {
        if (strcmp(words[i].word, s) == 0) {
            rd->p->active = words[i].value;
            return true;
        }
    }
    return refuse(rd, "active", "'%.32s' is not true or false", s);
}

static bool read_hours(reading *rd, const char *s)
{
    rd->p->day_start = rd->r->defaults.day_start;
    rd->p->day_end = rd->r->defaults.day_end;
    if (blank(s)) return true;
    const char *dash = strchr(s, '-');
    uint16_t from, to;
    if (!dash || !clock_parse(s, (size_t)(dash - s), &from) || !clock_parse(dash + 1, strlen(dash + 1), &to) ||
        from >= to)
        return refuse(rd, "hours", "'%.32s' is not a range of hours such as 09:00-17:30", s);
    rd->p->day_start = from;
    rd->p->day_end = to;
    return true;
}

static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int weekday(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++)
        if (n == 3 && memcmp(s, weekdays[d], 3) == 0) return d;
    return -1;
}

/* "mon-fri", "mon tue thu", "sun-thu" (a range may wrap past Sunday). */
static bool read_workdays(reading *rd, const char *s)
{
    rd->p->workdays = rd->r->defaults.workdays;
    if (blank(s)) return true;
    uint8_t bits = 0;
    size_t len;
    for (const char *t = next_item(s, &len); t; t = next_item(t + len, &len)) {
        int from = weekday(t, len), to = from;
        if (len == 7 && t[3] == '-') {
            from = weekday(t, 3);
            to = weekday(t + 4, 3);
        }
        if (from < 0 || to < 0)
            return refuse(rd, "workdays", "'%.*s' is not a weekday or a range of them (mon..sun, as in mon-fri)",
                          (int)(len > 32 ? 32 : len), t);
        for (int d = from;; d = (d + 1) % 7) {
            bits |= (uint8_t)(1u << d);
            if (d == to) break;
        }
    }
    rd->p->workdays = bits;
    return true;
}

static bool local_date(const char *s, size_t n, int64_t *day)
{
    time_ms t;
    if (n != 10 || !time_parse(s, n, &t)) return false;
    *day = t / MS_PER_DAY;
    return true;
}

/* "2026-12-21..2027-01-01 2027-02-14": local days, both ends included. */
static bool read_away(reading *rd, const char *s)
{
    size_t len;
    for (const char *t = s ? next_item(s, &len) : NULL; t; t = next_item(t + len, &len)) {
        day_range d;
        bool ok = len == 22 && memcmp(t + 10, "..", 2) == 0 ? local_date(t, 10, &d.from) && local_date(t + 12, 10, &d.to)
                                                            : local_date(t, len, &d.from);
        if (ok && len != 22) d.to = d.from;
        if (!ok || d.to < d.from)
            return refuse(rd, "out_of_office", "'%.*s' is not a date or a range of dates (2026-12-21..2027-01-01)",
                          (int)(len > 32 ? 32 : len), t);
        if (rd->p->away_count == ROUTE_MAX_AWAY)
            return refuse(rd, "out_of_office", "more than %d ranges; drop the ones in the past", ROUTE_MAX_AWAY);
        rd->p->away[rd->p->away_count++] = d;
    }
    return true;
}

static bool read_text(reading *rd, const char *column, const char *s, char **out)
{
    *out = NULL;
    if (blank(s)) return true;
    size_t n = strlen(s);
    if (n > ROUTE_MAX_TEXT) return refuse(rd, column, "longer than %d bytes", ROUTE_MAX_TEXT);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ') return refuse(rd, column, "holds a control character");
    *out = mem_strndup(s, n);
    return *out || refuse(rd, column, "out of memory");
}

/* The calendar for the rep's zone and working pattern, shared with every rep
 * that has the same. */
static bool read_calendar(reading *rd, const char *zone_text)
{
    router *r = rd->r;
    rep *p = rd->p;
    const char *zone = blank(zone_text) ? r->defaults.timezone : zone_text;
    if (strlen(zone) > ROUTE_MAX_ID) return refuse(rd, "timezone", "longer than %d bytes", ROUTE_MAX_ID);
    char key[ROUTE_MAX_ID + 32];
    int n = snprintf(key, sizeof key, "%s|%u|%u|%u", zone, p->workdays, p->day_start, p->day_end);
    uint32_t index;
    if (strmap_get(r->cal_keys, key, (size_t)n, &index)) {
        p->cal = index;
        p->zone = route_name_find(r, zone);
        return true;
    }
    p->zone = route_name_intern(r, zone, strlen(zone));
    if (p->zone == ROUTE_NO_NAME) return refuse(rd, "timezone", "too many distinct names");
    if (r->cal_count == r->cal_cap) {
        uint32_t cap = r->cal_cap ? 2 * r->cal_cap : 8;
        calendar **bigger = mem_realloc(r->cals, cap * sizeof *bigger);
        if (!bigger) return refuse(rd, "timezone", "out of memory");
        r->cals = bigger;
        r->cal_cap = cap;
    }
    calendar_info info = {.timezone = r->name_of[p->zone], .workdays = p->workdays,
                          .day_start = p->day_start, .day_end = p->day_end};
    char why[200] = "";
    calendar *cal = calendar_new(&info, why, sizeof why);
    if (!cal) return refuse(rd, "timezone", "%s", why[0] ? why : "cannot be read");
    if (!strmap_put(r->cal_keys, key, (size_t)n, r->cal_count)) {
        calendar_free(cal);
        return refuse(rd, "timezone", "out of memory");
    }
    r->cals[r->cal_count] = cal;
    p->cal = r->cal_count++;
    return true;
}

static bool grow(router *r)
{
    if (r->count < r->cap) return true;
    uint32_t cap = r->cap ? 2 * r->cap : 16;
    if (cap > ROUTE_MAX_REPS) cap = ROUTE_MAX_REPS;
    rep *reps = mem_realloc(r->reps, cap * sizeof *reps);
    if (!reps) return false;
    r->reps = reps;
    uint8_t *status = mem_realloc(r->status, cap);
    if (!status) return false;
    r->status = status;
    uint32_t *order = mem_realloc(r->order, cap * sizeof *order);
    if (!order) return false;
    r->order = order;
    r->cap = cap;
    return true;
}

/* Puts the newest rep in its place in the id order. */
static void insert_in_order(router *r, uint32_t index)
{
    uint32_t lo = 0, hi = r->count - 1; /* the new rep is not in the order yet */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->reps[r->order[mid]].id, r->reps[index].id) < 0) lo = mid + 1;
        else hi = mid;
    }
    memmove(&r->order[lo + 1], &r->order[lo], (r->count - 1 - lo) * sizeof *r->order);
    r->order[lo] = index;
}

bool route_set_rep(router *r, const rep_fields *f, char *why, size_t why_size)
{
    rep p = {0};
    reading rd = {.r = r, .p = &p, .why = why, .why_size = why_size};
    if (blank(f->id)) return refuse(&rd, "id", "every rep needs an id");
    if (!name_chars(f->id, strlen(f->id), true))
        return refuse(&rd, "id", "'%.64s' is not an id (up to %d bytes, no spaces)", f->id, ROUTE_MAX_ID);
    bool ok = read_team(&rd, f->team) && read_territories(&rd, f->territory) && read_capacity(&rd, f->capacity) &&
              read_active(&rd, f->active) && read_hours(&rd, f->hours) && read_workdays(&rd, f->workdays) &&
              read_away(&rd, f->out_of_office) && read_calendar(&rd, f->timezone) &&
              read_text(&rd, "name", f->name, &p.name) && read_text(&rd, "email", f->email, &p.email);
    if (!ok) goto fail;
    int at = route_find_rep(r, f->id);
    if (at >= 0) {
        rep *old = &r->reps[at];
        p.id = old->id;
        p.credit = old->credit;
        p.open = old->open;
        p.owed = old->owed;
        p.assigned = old->assigned;
        mem_free(old->name);
        mem_free(old->email);
        *old = p;
        return true;
    }
    if (r->count == ROUTE_MAX_REPS) {
        refuse(&rd, "id", "the table already holds %d reps", ROUTE_MAX_REPS);
        goto fail;
    }
    if (!grow(r) || !(p.id = strmap_put(r->ids, f->id, strlen(f->id), r->count))) {
        refuse(&rd, "id", "out of memory");
        goto fail;
    }
    r->reps[r->count++] = p;
    insert_in_order(r, r->count - 1);
    return true;
fail:
    mem_free(p.name);
    mem_free(p.email);
    return false;
}

/* ---- the CSV ------------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t offset;
} columns[] = {
    {"id", offsetof(rep_fields, id)},
    {"name", offsetof(rep_fields, name)},
    {"email", offsetof(rep_fields, email)},
    {"team", offsetof(rep_fields, team)},
    {"territory", offsetof(rep_fields, territory)},
    {"capacity", offsetof(rep_fields, capacity)},
    {"timezone", offsetof(rep_fields, timezone)},
    {"hours", offsetof(rep_fields, hours)},
    {"workdays", offsetof(rep_fields, workdays)},
    {"out_of_office", offsetof(rep_fields, out_of_office)},
    {"active", offsetof(rep_fields, active)},
};

size_t route_load_reps(router *r, FILE *in, void (*refused)(void *ctx, uint64_t line, const char *why), void *ctx)
{
    size_t set = 0, width = 0, count;
    int column_of[CSV_MAX_COLUMNS]; /* header position -> columns[] index, -1 unknown */
    uint64_t line = 1;
    const char *problem = NULL;
    csv_reader *cr = csv_reader_new(in);
    const char *const *row = cr ? csv_next(cr, &width, &line, &problem) : NULL;
    if (!cr) {
        refused(ctx, 1, "out of memory");
        goto done;
    }
    if (!row || problem) {
        refused(ctx, 1, "no header row");
        goto done;
    }
    bool seen[ARRAY_LEN(columns)] = {0};
    for (size_t i = 0; i < width; i++) {
        column_of[i] = -1;
        for (size_t k = 0; k < ARRAY_LEN(columns); k++)
            if (strcmp(row[i], columns[k].name) == 0) column_of[i] = (int)k;
        if (column_of[i] >= 0) {
            seen[column_of[i]] = true;
            continue;
        }
        const char *names[ARRAY_LEN(columns)];
        for (size_t k = 0; k < ARRAY_LEN(columns); k++) names[k] = columns[k].name;
        const char *near = nearest_name(row[i], strlen(row[i]), names, ARRAY_LEN(columns));
        char why[160];
        snprintf(why, sizeof why, "unknown column '%.40s' is ignored%s%s%s", row[i], near ? "; did you mean '" : "",
                 near ? near : "", near ? "'?" : "");
        refused(ctx, 1, why);
    }
    static const size_t required_columns[] = {0, 3, 5}; /* id, team, capacity */
    for (size_t k = 0; k < ARRAY_LEN(required_columns); k++) {
        if (seen[required_columns[k]]) continue;
        char why[96];
        snprintf(why, sizeof why, "the header has no '%s' column", columns[required_columns[k]].name);
        refused(ctx, 1, why);
        goto done;
    }
    while ((row = csv_next(cr, &count, &line, &problem))) {
        if (problem || count != width) {
            refused(ctx, line, problem ? problem : "the row has a different number of columns than the header");
            continue;
        }
        rep_fields f = {0};
        for (size_t i = 0; i < count; i++)
            if (column_of[i] >= 0) *(const char **)((char *)&f + columns[column_of[i]].offset) = row[i];
        char why[300];
        if (route_set_rep(r, &f, why, sizeof why)) set++;
        else refused(ctx, line, why);
    }
done:
    csv_reader_free(cr);
    return set;
}

/* ---- a rep as JSON --------------------------------------------------------------- */

static void json_field(strbuf *out, const char *key, const char *s)
{
    strbuf_printf(out, ",\"%s\":", key);
    if (s) strbuf_json_string(out, s, strlen(s));
    else strbuf_puts(out, "null");
}

void route_rep_to_json(const router *r, size_t i, strbuf *out)
{
    const rep *p = &r->reps[i];
    strbuf_puts(out, "{\"id\":");
    strbuf_json_string(out, p->id, strlen(p->id));
    json_field(out, "name", p->name);
    json_field(out, "email", p->email);
    json_field(out, "team", r->name_of[p->team]);
    strbuf_puts(out, ",\"territories\":[");
    for (uint8_t t = 0; t < p->territory_count; t++) {
        if (t) strbuf_putc(out, ',');
        const char *name = r->name_of[p->territories[t]];
        strbuf_json_string(out, name, strlen(name));
    }
    strbuf_printf(out, "],\"capacity\":%u", p->capacity);
    json_field(out, "timezone", r->name_of[p->zone]);
    strbuf_printf(out, ",\"hours\":\"%02u:%02u-%02u:%02u\",\"workdays\":[", p->day_start / 60u, p->day_start % 60u,
                  p->day_end / 60u, p->day_end % 60u);
    for (int d = 0, n = 0; d < 7; d++)
        if (p->workdays & (1u << d)) strbuf_printf(out, "%s\"%s\"", n++ ? "," : "", weekdays[d]);
    strbuf_puts(out, "],\"out_of_office\":[");
    for (uint8_t a = 0; a < p->away_count; a++) {
        int64_t y1, y2;
        unsigned m1, d1, m2, d2;
        civil_from_days(p->away[a].from, &y1, &m1, &d1);
        civil_from_days(p->away[a].to, &y2, &m2, &d2);
        strbuf_printf(out, "%s{\"from\":\"%04lld-%02u-%02u\",\"to\":\"%04lld-%02u-%02u\"}", a ? "," : "",
                      (long long)y1, m1, d1, (long long)y2, m2, d2);
    }
    strbuf_printf(out, "],\"active\":%s,\"open\":%u,\"owed\":%u,\"assigned\":%llu}", p->active ? "true" : "false",
                  p->open, p->owed, (unsigned long long)p->assigned);
}

static void reported_at_upload(void *ctx, uint64_t line, const char *why)
{
    (void)ctx, (void)line, (void)why;
}

bool route_reload_reps(void *r, const char *csv, size_t len)
{
    FILE *in = fmemopen((void *)csv, len, "r");
    if (!in) return false;
    route_load_reps(r, in, reported_at_upload, NULL);
    fclose(in);
    return true;
}
