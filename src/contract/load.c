/* The contract's sections: from the YAML tree to the contract's tables.
 *
 * Loading runs in two passes so that a gate may name a signal defined below
 * it: first every section's names and shapes (load_*), then every
 * expression is checked and compiled (contract.c). Each loader reports all
 * the problems it finds and carries on with the next item. */
#include "calendar/calendar.h"
#include "contract/internal.h"

#include <stdlib.h>
#include <string.h>

error *bad(loader *ld, const ynode *n, enum error_code code, const char *fmt, ...)
{
    char msg[ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    uint32_t len = n && n->kind == Y_SCALAR && n->len ? (uint32_t)(yscalar_offset(n, n->len - 1) + 1 - n->offset) : 1;
    return errors_add(ld->errs, code, n ? n->offset : 0, len, "%s", msg);
}

static const char *kind_word(uint8_t kind)
{
    return kind == Y_MAP ? "a mapping" : kind == Y_SEQ ? "a list" : "a single value";
}

bool expect(loader *ld, const ynode *n, uint8_t kind, const char *what)
{
    if (n->kind == kind) return true;
    error *err = bad(ld, n, ERR_SCHEMA, "%s must be %s, not %s", what, kind_word(kind), kind_word(n->kind));
    if (kind == Y_MAP) error_hint(err, "write it as 'key: value' lines indented under it");
    else if (kind == Y_SEQ) error_hint(err, "write it as '- item' lines, or [a, b]");
    return false;
}

const char *text_of(loader *ld, const ynode *n, const char *what)
{
    if (!expect(ld, n, Y_SCALAR, what)) return NULL;
    if (n->len > CONTRACT_MAX_STRING) {
        bad(ld, n, ERR_LIMIT, "%s is longer than %d bytes", what, CONTRACT_MAX_STRING);
        return NULL;
    }
    return n->text;
}

bool uint_of(loader *ld, const ynode *n, const char *what, uint32_t max, uint32_t *out)
{
    if (!expect(ld, n, Y_SCALAR, what)) return false;
    char *end;
    unsigned long v = strtoul(n->text, &end, 10);
    if (n->len == 0 || *end || n->text[0] == '-' || n->text[0] == '+' || v > max) {
        error *err = bad(ld, n, ERR_VALUE, "%s must be a whole number from 0 to %u", what, max);
        (void)err;
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool bool_of(loader *ld, const ynode *n, const char *what, bool *out)
{
    if (!expect(ld, n, Y_SCALAR, what)) return false;
    if (strcmp(n->text, "true") == 0 || strcmp(n->text, "yes") == 0) *out = true;
    else if (strcmp(n->text, "false") == 0 || strcmp(n->text, "no") == 0) *out = false;
    else {
        bad(ld, n, ERR_VALUE, "%s must be true or false", what);
        return false;
    }
    return true;
}

bool duration_of(loader *ld, const ynode *n, const char *what, duration_ms *out)
{
    if (!expect(ld, n, Y_SCALAR, what)) return false;
    if (!duration_parse(n->text, n->len, out) || *out <= 0) {
        error *err = bad(ld, n, ERR_VALUE, "%s must be a duration, not '%s'", what, n->text);
        error_hint(err, "write a whole number and a unit: 90s, 4h, 14d, 2w");
        return false;
    }
    return true;
}

bool name_ok(loader *ld, const ynode *n, const char *what)
{
    if (!expect(ld, n, Y_SCALAR, what)) return false;
    bool ok = n->len > 0 && n->len <= 64 && n->text[0] >= 'a' && n->text[0] <= 'z';
    for (uint32_t i = 0; ok && i < n->len; i++) {
        char ch = n->text[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    }
    if (!ok) {
        error *err = bad(ld, n, ERR_SCHEMA, "%s '%s' is not a valid name", what, n->text);
        error_hint(err, "names are up to 64 lower-case letters, digits and '_', starting with a letter");
    }
    return ok;
}

void check_keys(loader *ld, const ynode *map, const char *const *allowed, size_t count, const char *where)
{
    for (uint32_t i = 0; i < map->count; i++) {
        const ynode *k = ymap_key(map, i);
        if (k->kind != Y_SCALAR) {
            bad(ld, k, ERR_SCHEMA, "keys in %s must be plain names", where);
            continue;
        }
        bool known = false;
        for (size_t j = 0; j < count && !known; j++) known = strcmp(k->text, allowed[j]) == 0;
        if (known) continue;
        if (strpbrk(k->text, "() ")) {
            /* `{ when: count(x, 14d) >= 1 }`: YAML cut the value at the comma
             * and read the rest as a key. The expression's error says so. */
            continue;
        }
        error *err = bad(ld, k, ERR_SCHEMA, "unknown key '%s' in %s", k->text, where);
        const char *near = nearest_name(k->text, k->len, allowed, count);
        if (near) {
            error_hint(err, "did you mean '%s'?", near);
        } else {
            char list[ERROR_HINT_MAX] = "";
            size_t used = 0;
            for (size_t j = 0; j < count && used < sizeof list - 1; j++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", allowed[j]);
            error_hint(err, "known keys: %s", list);
        }
    }
}

ynode *required(loader *ld, const ynode *map, const char *key, const char *where)
{
    ynode *v = ymap_get(map, key);
    if (!v) {
        error *err = bad(ld, map, ERR_SCHEMA, "%s has no '%s'", where, key);
        (void)err;
    }
    return v;
}

/* Makes an expression from a scalar; parse errors are reported. */
bool expr_from(loader *ld, const ynode *n, const char *what, expr *e)
{
    memset(e, 0, sizeof *e);
    if (!expect(ld, n, Y_SCALAR, what)) return false;
    e->text = n->text;
    e->len = n->len;
    e->scalar = n;
    return parse_expr(ld->c->arena, ld->errs, e);
}

/* ---- header ---------------------------------------------------------------- */

static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int cmp_days(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void load_calendar(loader *ld, const ynode *n)
{
    calendar_info *cal = &ld->c->about.calendar;
    cal->timezone = "UTC";
    cal->workdays = 0x1f; /* Monday to Friday */
    cal->day_start = 9 * 60;
    cal->day_end = 17 * 60;
    if (!n || !expect(ld, n, Y_MAP, "'calendar'")) return;
    static const char *const keys[] = {"timezone", "workdays", "holidays", "hours"};
    check_keys(ld, n, keys, ARRAY_LEN(keys), "'calendar'");

    const ynode *zone_name = ymap_get(n, "timezone");
    if (zone_name && text_of(ld, zone_name, "'timezone'")) {
        /* loaded here, as the engine will load it: a zone that cannot be read
         * (unknown, or a file that is not TZif) is refused at check time */
        char why[256] = "";
        tz *zone = tz_name_valid(zone_name->text) ? tz_load(zone_name->text, why, sizeof why) : NULL;
        if (!zone && strstr(why, "out of memory")) {
            bad(ld, zone_name, ERR_NOMEM, "out of memory while loading time zone '%s'", zone_name->text);
        } else if (!zone) {
            error *err = bad(ld, zone_name, ERR_VALUE, "unknown time zone '%s'", zone_name->text);
            error_hint(err, "use an IANA zone name such as America/New_York or Europe/Berlin");
        } else {
            cal->timezone = zone_name->text;
        }
        tz_free(zone);
    }
    const ynode *wd = ymap_get(n, "workdays");
    if (wd && expect(ld, wd, Y_SEQ, "'workdays'")) {
        uint8_t bits = 0;
        for (uint32_t i = 0; i < wd->count; i++) {
            const ynode *d = wd->items[i];
            if (!text_of(ld, d, "a workday")) continue;
            int day = -1;
            for (int j = 0; j < 7; j++)
                if (strcmp(d->text, weekdays[j]) == 0) day = j;
            if (day < 0) {
                error *err = bad(ld, d, ERR_VALUE, "unknown weekday '%s'", d->text);
                const char *near = nearest_name(d->text, d->len, weekdays, 7);
                if (near) error_hint(err, "did you mean '%s'?", near);
                else error_hint(err, "weekdays are mon, tue, wed, thu, fri, sat and sun");
                continue;
            }
            bits |= (uint8_t)(1u << day);
        }
        if (!bits && wd->count == 0) bad(ld, wd, ERR_VALUE, "'workdays' lists no day");
        cal->workdays = bits;
    }
    const ynode *hol = ymap_get(n, "holidays");
    if (hol && expect(ld, hol, Y_SEQ, "'holidays'")) {
        int64_t *days = arena_alloc(ld->c->arena, (hol->count ? hol->count : 1) * sizeof *days);
        size_t count = 0;
        for (uint32_t i = 0; days && i < hol->count; i++) {
            const ynode *d = hol->items[i];
            time_ms t;
            if (!text_of(ld, d, "a holiday")) continue;
            if (d->len != 10 || !time_parse(d->text, d->len, &t)) {
                error *err = bad(ld, d, ERR_VALUE, "holiday '%s' is not a date", d->text);
                error_hint(err, "write dates as 2026-12-25");
                continue;
            }
            days[count++] = t / MS_PER_DAY;
        }
        if (days) qsort(days, count, sizeof *days, cmp_days);
        cal->holidays = days;
        cal->holiday_count = count;
    }
    const ynode *hours = ymap_get(n, "hours");
    if (hours && text_of(ld, hours, "'hours'")) {
        const char *dash = strchr(hours->text, '-');
        uint16_t from, to;
        if (!dash || !clock_parse(hours->text, (size_t)(dash - hours->text), &from) ||
            !clock_parse(dash + 1, strlen(dash + 1), &to) || from >= to) {
            error *err = bad(ld, hours, ERR_VALUE, "business hours '%s' are not a range", hours->text);
            error_hint(err, "write them as \"09:00-17:30\" in the calendar's time zone");
        } else {
            cal->day_start = from;
            cal->day_end = to;
        }
    }
}

void load_header(loader *ld, const ynode *root)
{
    contract_info *about = &ld->c->about;
    const ynode *n;
    if ((n = required(ld, root, "contract", "the contract")) && text_of(ld, n, "the contract name")) {
        bool ok = n->len > 0 && n->len <= 64;
        for (uint32_t i = 0; ok && i < n->len; i++) {
            char ch = n->text[i];
            ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '_' || ch == '.';
        }
        if (ok) {
            about->name = n->text;
        } else {
            error *err = bad(ld, n, ERR_SCHEMA, "contract name '%s' is not a valid name", n->text);
            error_hint(err, "up to 64 letters, digits, '-', '_' and '.', as in acme-handoff");
        }
    }
    if ((n = required(ld, root, "version", "the contract")))
        uint_of(ld, n, "'version'", 1000000000u, &about->version);
    if ((n = required(ld, root, "signed_by", "the contract")) && expect(ld, n, Y_MAP, "'signed_by'")) {
        static const char *const keys[] = {"marketing", "sales"};
        check_keys(ld, n, keys, ARRAY_LEN(keys), "'signed_by'");
        const ynode *m = required(ld, n, "marketing", "'signed_by'");
        const ynode *s = required(ld, n, "sales", "'signed_by'");
        if (m && text_of(ld, m, "the marketing signatory")) about->signed_marketing = m->text;
        if (s && text_of(ld, s, "the sales signatory")) about->signed_sales = s->text;
        if (m && s && m->kind == Y_SCALAR && s->kind == Y_SCALAR && strcmp(m->text, s->text) == 0) {
            error *err = bad(ld, s, ERR_POLICY, "the same person signed for marketing and for sales");
            error_hint(err, "the contract is an agreement between the two teams: each signs for its own");
        }
    }
    about->retention = CONTRACT_DEFAULT_RETENTION;
    if ((n = ymap_get(root, "retention"))) duration_of(ld, n, "'retention'", &about->retention);
    if ((n = ymap_get(root, "model")) && text_of(ld, n, "'model'")) about->model = n->text;
    load_calendar(ld, ymap_get(root, "calendar"));
}

/* ---- lists, kinds, stages -------------------------------------------------- */

void load_lists(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_MAP, "'lists'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i), *items = ymap_value(n, i);
        if (!name_ok(ld, key, "list") || !expect(ld, items, Y_SEQ, "a list")) continue;
        if (c->list_count == CONTRACT_MAX_LISTS) {
            bad(ld, key, ERR_LIMIT, "more than %d lists", CONTRACT_MAX_LISTS);
            return;
        }
        if (items->count > CONTRACT_MAX_LIST_ITEMS) {
            bad(ld, items, ERR_LIMIT, "list '%s' has more than %d items", key->text, CONTRACT_MAX_LIST_ITEMS);
            continue;
        }
        list_def *l = &c->lists[c->list_count++];
        l->name = key->text;
        l->offset = key->offset;
        l->items = arena_alloc(c->arena, (items->count ? items->count : 1) * sizeof *l->items);
        if (!l->items) return;
        for (uint32_t j = 0; j < items->count; j++) {
            const ynode *it = items->items[j];
            if (!text_of(ld, it, "a list item")) continue;
            l->items[l->count++] = it->text;
            contract_intern(c, it->text, it->len);
        }
    }
}

static const char *const builtin_kinds[] = {"engagement", "intent", "reply", "activation"};

void load_kinds(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    for (size_t i = 0; i < ARRAY_LEN(builtin_kinds); i++) {
        c->kinds[c->kind_count].name = builtin_kinds[i];
        c->kinds[c->kind_count++].builtin = true;
    }
    if (!n || !expect(ld, n, Y_SEQ, "'kinds'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *k = n->items[i];
        if (!name_ok(ld, k, "kind")) continue;
        if (c->kind_count == CONTRACT_MAX_KINDS) {
            bad(ld, k, ERR_LIMIT, "more than %d kinds", CONTRACT_MAX_KINDS);
            return;
        }
        c->kind_offsets[c->kind_count] = k->offset;
        c->kinds[c->kind_count++].name = k->text;
    }
}

void load_stages(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_MAP, "'stages'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i), *team = ymap_value(n, i);
        if (!name_ok(ld, key, "stage")) continue;
        if (strcmp(key->text, "suppress") == 0 || strcmp(key->text, "reroute") == 0) {
            error *err = bad(ld, key, ERR_POLICY, "'%s' cannot name a stage", key->text);
            error_hint(err, "it is a rejection policy ('then: %s'); choose another name", key->text);
            continue;
        }
        if (c->stage_count == CONTRACT_MAX_STAGES) {
            bad(ld, key, ERR_LIMIT, "more than %d stages", CONTRACT_MAX_STAGES);
            return;
        }
        stage_info *s = &c->stages[c->stage_count++];
        s->name = key->text;
        if (team->kind != Y_SCALAR || team->len == 0 ||
            (team->plain && (strcmp(team->text, "~") == 0 || strcmp(team->text, "null") == 0))) {
            error *err = bad(ld, team->kind == Y_SCALAR ? team : key, ERR_POLICY,
                             "stage '%s' has no owning team", key->text);
            error_hint(err, "every stage is owned by exactly one team, as in '%s: sdr'", key->text);
            continue;
        }
        s->team = team->text;
    }
    if (c->stage_count < 2) {
        error *err = bad(ld, n, ERR_POLICY, "a contract needs at least two stages");
        error_hint(err, "list them in order, the marketing stage first: nurture: marketing, development: sdr, sales: ae");
    }
}

/* ---- signals and fit ------------------------------------------------------- */

void load_signals(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!expect(ld, n, Y_MAP, "'signals'")) return;
    static const char *const keys[] = {"kind", "when", "topic", "describe"};
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i), *body = ymap_value(n, i);
        if (!name_ok(ld, key, "signal")) continue;
        if (c->signal_count == CONTRACT_MAX_SIGNALS) {
            bad(ld, key, ERR_LIMIT, "more than %d signals", CONTRACT_MAX_SIGNALS);
            return;
        }
        signal_def *s = &c->signals[c->signal_count++];
        s->info.name = key->text;
        s->e.name = key->text;
        s->e.offset = key->offset;
        s->info.kind = UINT32_MAX;
        if (!expect(ld, body, Y_MAP, "a signal")) continue;
        check_keys(ld, body, keys, ARRAY_LEN(keys), "a signal");
        const ynode *kind = required(ld, body, "kind", "the signal");
        if (kind && text_of(ld, kind, "'kind'")) {
            for (uint32_t k = 0; k < c->kind_count; k++)
                if (strcmp(c->kinds[k].name, kind->text) == 0) s->info.kind = k;
            if (s->info.kind == UINT32_MAX) {
                error *err = bad(ld, kind, ERR_NAME, "unknown kind '%s'", kind->text);
                const char *names[CONTRACT_MAX_KINDS];
                for (uint32_t k = 0; k < c->kind_count; k++) names[k] = c->kinds[k].name;
                const char *near = nearest_name(kind->text, kind->len, names, c->kind_count);
                if (near) error_hint(err, "did you mean '%s'?", near);
                else error_hint(err, "declare your own kinds under 'kinds:'; built in: engagement, intent, reply, activation");
            }
        }
        const ynode *when = required(ld, body, "when", "the signal");
        if (when) expr_from(ld, when, "'when'", &s->e.when);
        const ynode *topic = ymap_get(body, "topic");
        if (topic && name_ok(ld, topic, "topic")) s->info.topic = topic->text;
        const ynode *describe = ymap_get(body, "describe");
        if (describe && text_of(ld, describe, "'describe'")) s->info.describe = describe->text;
    }
}

void load_fit(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_MAP, "'fit'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i);
        if (!name_ok(ld, key, "fit predicate")) continue;
        if (c->fit_count == CONTRACT_MAX_FIT) {
            bad(ld, key, ERR_LIMIT, "more than %d fit predicates", CONTRACT_MAX_FIT);
            return;
        }
        named_expr *f = &c->fit_exprs[c->fit_count];
        c->fit[c->fit_count++].name = key->text;
        f->name = key->text;
        f->offset = key->offset;
        expr_from(ld, ymap_value(n, i), "a fit predicate", &f->when);
    }
}

void load_macros(loader *ld, const ynode *n)
{
    contract *c = ld->c;
    if (!n || !expect(ld, n, Y_MAP, "'macros'")) return;
    for (uint32_t i = 0; i < n->count; i++) {
        const ynode *key = ymap_key(n, i);
        if (!name_ok(ld, key, "macro")) continue;
        if (c->macro_count == CONTRACT_MAX_MACROS) {
            bad(ld, key, ERR_LIMIT, "more than %d macros", CONTRACT_MAX_MACROS);
            return;
        }
        macro_def *m = &c->macros[c->macro_count++];
        m->name = key->text;
        m->offset = key->offset;
        expr_from(ld, ymap_value(n, i), "a macro", &m->body);
    }
}

/* Signals, kinds, lists and macros share one namespace of bare names. */
typedef struct seen_name {
    const char *name, *what;
    uint32_t offset;
} seen_name;

static void visit_name(loader *ld, seen_name *seen, size_t *count, const char *name,
                       const char *what, uint32_t offset)
{
    static const char *const reserved[] = {
        "score",   "points", "now",  "lead",    "account", "event", "properties", "traits", "context",
        "page",    "message", "reply", "fit",   "count",   "last",  "since",      "distinct", "exists",
        "and",     "or",      "not",   "in",    "true",    "false"};
    for (size_t r = 0; r < ARRAY_LEN(reserved) && offset != UINT32_MAX; r++) {
        if (strcmp(reserved[r], name) == 0) {
            error *err = errors_add(ld->errs, ERR_DUPLICATE, offset, (uint32_t)strlen(name),
                                    "'%s' is a reserved word and cannot name a %s", name, what);
            error_hint(err, "choose another name");
            return;
        }
    }
    for (size_t s = 0; s < *count; s++) {
        if (strcmp(seen[s].name, name) != 0) continue;
        error *err;
        if (seen[s].offset == UINT32_MAX) {
            err = errors_add(ld->errs, ERR_DUPLICATE, offset, (uint32_t)strlen(name),
                             "'%s' is the name of a built-in kind", name);
        } else {
            uint32_t line, col;
            errors_position(ld->errs, seen[s].offset, &line, &col);
            err = errors_add(ld->errs, ERR_DUPLICATE, offset, (uint32_t)strlen(name),
                             "'%s' is already the name of a %s (line %u)", name, seen[s].what, line);
        }
        error_hint(err, "signals, kinds, lists and macros share one set of names");
        return;
    }
    seen[*count].name = name;
    seen[*count].what = what;
    seen[(*count)++].offset = offset;
}

void check_duplicate_names(loader *ld)
{
    contract *c = ld->c;
    seen_name *seen = arena_alloc(c->arena, (CONTRACT_MAX_SIGNALS + CONTRACT_MAX_KINDS +
                                             CONTRACT_MAX_LISTS + CONTRACT_MAX_MACROS) * sizeof *seen);
    size_t count = 0;
    if (!seen) return;
    for (uint32_t i = 0; i < c->kind_count; i++)
        visit_name(ld, seen, &count, c->kinds[i].name, "kind",
                   c->kinds[i].builtin ? UINT32_MAX : c->kind_offsets[i]);
    for (uint32_t i = 0; i < c->signal_count; i++)
        visit_name(ld, seen, &count, c->signals[i].info.name, "signal", c->signals[i].e.offset);
    for (uint32_t i = 0; i < c->list_count; i++)
        visit_name(ld, seen, &count, c->lists[i].name, "list", c->lists[i].offset);
    for (uint32_t i = 0; i < c->macro_count; i++)
        visit_name(ld, seen, &count, c->macros[i].name, "macro", c->macros[i].offset);
}
