/* The rotation's state as bytes for the store, and decisions as JSON and text.
 *
 * The state is text, one rep a line, keyed by id so that a reps table read
 * in another order, or with reps added since, takes it back:
 *   baton-route-state 1
 *   ID<TAB>CREDIT<TAB>OPEN<TAB>OWED<TAB>ASSIGNED */
#include "route/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STATE_MAGIC "baton-route-state 1\n"

void route_export(const router *r, strbuf *out)
{
    strbuf_puts(out, STATE_MAGIC);
    for (uint32_t i = 0; i < r->count; i++) {
        const rep *p = &r->reps[i];
        strbuf_printf(out, "%s\t%" PRId64 "\t%u\t%u\t%" PRIu64 "\n", p->id, p->credit, p->open, p->owed, p->assigned);
    }
}

typedef struct state_line {
    const char *id;
    size_t id_len;
    int64_t credit;
    uint64_t open, owed, assigned;
} state_line;

/* Reads a decimal number ending at a tab or the line's end; false when it is not one. */
static bool number_at(const char **s, const char *end, bool is_signed, int64_t *sv, uint64_t *uv)
{
    char buf[24];
    size_t n = 0;
    while (*s + n < end && (*s)[n] != '\t') n++;
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, *s, n);
    buf[n] = '\0';
    char *stop;
    errno = 0;
    if (is_signed) *sv = strtoll(buf, &stop, 10);
    else if (buf[0] == '-') return false;
    else *uv = strtoull(buf, &stop, 10);
    *s += n + (*s + n < end);
    return *stop == '\0' && errno == 0;
}

static bool parse_line(const char *s, const char *end, state_line *out)
{
    const char *tab = memchr(s, '\t', (size_t)(end - s));
    if (!tab || tab == s) return false;
    out->id = s;
    out->id_len = (size_t)(tab - s);
    s = tab + 1;
    int64_t ignore;
    uint64_t uignore;
    return number_at(&s, end, true, &out->credit, &uignore) && number_at(&s, end, false, &ignore, &out->open) &&
           number_at(&s, end, false, &ignore, &out->owed) && number_at(&s, end, false, &ignore, &out->assigned) &&
           s == end && out->open <= ROUTE_MAX_CAPACITY && out->owed <= ROUTE_MAX_CAPACITY;
}

bool route_import(router *r, const void *bytes, size_t len, size_t *unknown)
{
    const char *text = bytes, *end = text + len;
    size_t magic = strlen(STATE_MAGIC);
    if (unknown) *unknown = 0;
    if (len > ROUTE_MAX_STATE_BYTES || len < magic || memcmp(text, STATE_MAGIC, magic) != 0) return false;
    /* Two passes: nothing changes unless every line reads. */
    for (int apply = 0; apply < 2; apply++) {
        for (const char *s = text + magic; s < end;) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            if (!nl) return false; /* cut short */
            state_line l;
            if (!parse_line(s, nl, &l)) return false;
            s = nl + 1;
            uint32_t at;
            if (!strmap_get(r->ids, l.id, l.id_len, &at)) {
                if (apply && unknown) (*unknown)++;
                continue;
            }
            if (!apply) continue;
            rep *p = &r->reps[at];
            p->credit = l.credit;
            p->open = (uint32_t)l.open;
            p->owed = (uint32_t)l.owed;
            p->assigned = l.assigned;
        }
    }
    return true;
}

/* ---- decisions ----------------------------------------------------------------- */

static void json_string_or_null(strbuf *out, const char *key, const char *s)
{
    strbuf_printf(out, ",\"%s\":", key);
    if (s) strbuf_json_string(out, s, strlen(s));
    else strbuf_puts(out, "null");
}

void route_decision_to_json(const route_decision *d, strbuf *out)
{
    char at[40];
    time_format(d->at, at, sizeof at);
    strbuf_printf(out, "{\"at\":\"%s\"", at);
    json_string_or_null(out, "rep", d->rep);
    json_string_or_null(out, "team", d->team);
    json_string_or_null(out, "territory", d->territory);
    strbuf_printf(out, ",\"via\":\"%s\"", route_via_code(d->via));
    json_string_or_null(out, "rule", d->rule_name);
    json_string_or_null(out, "owner", d->owner);
    json_string_or_null(out, "owner_skipped", d->owner_skip >= 0 ? route_skip_code(d->owner_skip) : NULL);
    strbuf_printf(out, ",\"owner_ignored\":%s,\"after_hours\":%s,\"skipped\":[", d->owner_ignored ? "true" : "false",
                  d->after_hours ? "true" : "false");
    for (uint32_t i = 0; i < d->skip_count; i++) {
        strbuf_puts(out, i ? ",{\"rep\":" : "{\"rep\":");
        strbuf_json_string(out, d->skips[i].rep, strlen(d->skips[i].rep));
        strbuf_printf(out, ",\"reason\":\"%s\"}", route_skip_code(d->skips[i].reason));
    }
    strbuf_printf(out, "],\"more_skipped\":%u}", d->skips_more);
}

/* What happened, in words, for each way a decision can end. */
static const char *const via_words[] = {
    [VIA_ACCOUNT_OWNER] = "the account's owner",
    [VIA_CREDIT] = "owed a lead: an earlier one was rejected or returned (credit back)",
    [VIA_ROTATION] = "next in the pool's weighted round-robin",
    [VIA_NO_TEAM] = "no routing rule matched and no receiving team was given",
    [VIA_EMPTY_POOL] = "nobody in the reps table is in this pool",
    [VIA_NOBODY_AVAILABLE] = "everyone in the pool is away, inactive or at capacity",
};

void route_decision_to_text(const route_decision *d, strbuf *out)
{
    if (d->rep) {
        strbuf_printf(out, "rep:       %s (%s)\n", d->rep, via_words[d->via]);
    } else {
        strbuf_puts(out, "rep:       none: the lead stays with the team, unassigned\n");
        strbuf_printf(out, "why:       %s\n", via_words[d->via]);
    }
    strbuf_printf(out, "team:      %s", d->team ? d->team : "(none)");
    if (d->territory) strbuf_printf(out, ", territory %s", d->territory);
    strbuf_putc(out, '\n');
    if (d->rule_name) strbuf_printf(out, "rule:      %s (the first routing rule that holds)\n", d->rule_name);
    else if (d->via != VIA_ACCOUNT_OWNER && d->team) strbuf_puts(out, "rule:      none matched: the whole team's pool\n");
    if (d->owner) {
        strbuf_printf(out, "owner:     %s", d->owner);
        if (d->owner_ignored) strbuf_puts(out, ", not consulted (account_owner: ignore)");
        else if (d->owner_skip >= 0) strbuf_printf(out, " passed over: %s", route_skip_words(d->owner_skip));
        strbuf_putc(out, '\n');
    }
    if (d->after_hours) strbuf_puts(out, "hours:     nobody in the pool is working now; reps off hours were asked\n");
    for (uint32_t i = 0; i < d->skip_count; i++)
        strbuf_printf(out, "%s%s (%s)\n", i ? "           " : "skipped:   ", d->skips[i].rep,
                      route_skip_words(d->skips[i].reason));
    if (d->skips_more) strbuf_printf(out, "           and %u more\n", d->skips_more);
}
