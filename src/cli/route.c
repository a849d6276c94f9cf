/* baton route: where one lead would go inside the receiving team, and why. */
#include "cli/cli.h"
#include "contract/contract.h"
#include "ingest/ingest.h"
#include "route/route.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LEAD_MAX_BYTES (64u * 1024) /* a LEAD.json file */

const char cmd_route_usage[] =
    "usage: baton route --contract FILE --reps CSV [options] LEAD.json\n"
    "\n"
    "Runs the contract's routing on one lead and prints where it would go: the rep,\n"
    "the team and territory, the rule that picked the pool, what became of the\n"
    "account owner, and every rep passed over with the reason. LEAD.json is one\n"
    "object of field paths to values, as the contract names them:\n"
    "  {\"lead.id\": \"u-1\", \"account.domain\": \"acme.example\", \"account.country\": \"DE\",\n"
    "   \"account.employees\": 1200, \"account.owner\": \"rep-7\"}\n"
    "('-' reads it from standard input). See docs/routing.md.\n"
    "\n"
    "  --contract FILE   the contract (required)\n"
    "  --reps CSV        the reps table (required): id,name,email,team,territory,\n"
    "                    capacity,timezone,hours,workdays,out_of_office,active\n"
    "  --accounts CSV    firmographics by domain, filled in under the lead's fields\n"
    "  --stage NAME      the stage the lead is handed into (default: the first rule\n"
    "                    that holds decides the team)\n"
    "  --at TIME         the moment of the decision, ISO-8601 (default: now)\n"
    "  --format text|json  output form (default text)\n"
    "  -h, --help        this text\n"
    "\n"
    "Exit status: 0 decided (even when nobody is available), 1 the contract, reps or\n"
    "lead is invalid, 2 usage, 3 a file unreadable.\n";

contract *cli_load_contract(const char *path, bool json, int *code);

typedef struct lead_input {
    const contract *c;
    arena *text;   /* copies of the strings the fields point to */
    value *fields; /* contract_field_count() slots */
    const char *lead, *owner, *domain; /* from LEAD.json (and the accounts CSV), NULL when not given */
} lead_input;

/* The slot of `path`, or -1 when the contract reads no such field. */
static int slot_of(const contract *c, const char *path)
{
    for (size_t i = 0; i < contract_field_count(c); i++)
        if (strcmp(contract_field(c, i)->path, path) == 0) return (int)i;
    return -1;
}

static bool set_text(lead_input *in, int slot, const char *s)
{
    char *copy = arena_strndup(in->text, s, strlen(s));
    if (!copy) return false;
    value *v = &in->fields[slot];
    *v = (value){.type = VAL_STR};
    v->as.str.s = copy;
    v->as.str.len = (uint32_t)strlen(copy);
    v->as.str.id = contract_intern_find(in->c, copy, v->as.str.len);
    return true;
}

/* The bytes of LEAD.json, or of standard input for "-"; NULL with errno set. */
static char *read_all(const char *path, size_t *len)
{
    if (strcmp(path, "-") != 0) return file_read(path, len);
    char *buf = mem_alloc(LEAD_MAX_BYTES + 2);
    if (!buf) return NULL;
    *len = fread(buf, 1, LEAD_MAX_BYTES + 1, stdin);
    buf[*len] = '\0';
    return buf;
}

/* Fills the fields from LEAD.json; prints what is wrong and returns an exit code. */
static int read_lead(lead_input *in, const char *path)
{
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    int code = EXIT_OK;
    json_error_t err;
    json_t *root = NULL;
    if (len > LEAD_MAX_BYTES) {
        fprintf(stderr, "%s: larger than %u bytes; a lead is one small JSON object\n", path, LEAD_MAX_BYTES);
        code = EXIT_INVALID;
        goto done;
    }
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        fprintf(stderr, "%s:%d:%d: %s\n", path, err.line, err.column, err.text);
        code = EXIT_INVALID;
        goto done;
    }
    if (!json_is_object(root)) {
        fprintf(stderr, "%s: a lead is one JSON object of field paths to values, as in {\"account.country\": \"DE\"}\n",
                path);
        code = EXIT_INVALID;
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if ((strcmp(key, "lead") == 0 || strcmp(key, "lead.id") == 0) && json_is_string(val))
            in->lead = arena_strndup(in->text, json_string_value(val), json_string_length(val));
        if (strcmp(key, "account.owner") == 0 && json_is_string(val))
            in->owner = arena_strndup(in->text, json_string_value(val), json_string_length(val));
        if (strcmp(key, "account.domain") == 0 && json_is_string(val))
            in->domain = arena_strndup(in->text, json_string_value(val), json_string_length(val));
        int slot = slot_of(in->c, key);
        if (slot < 0) continue; /* a field the contract never reads decides nothing */
        if (json_is_string(val)) {
            if (!set_text(in, slot, json_string_value(val))) code = EXIT_INTERNAL;
        } else if (json_is_number(val) && contract_field(in->c, (size_t)slot)->type != VAL_STR) {
            in->fields[slot] = (value){.type = VAL_NUM, .as.num = json_number_value(val)};
        } else if (json_is_boolean(val)) {
            in->fields[slot] = (value){.type = VAL_BOOL, .as.b = json_is_true(val)};
        } else if (!json_is_null(val)) {
            fprintf(stderr, "%s: '%s' must be %s\n", path, key,
                    contract_field(in->c, (size_t)slot)->type == VAL_STR ? "text" : "text, a number, true/false or null");
            code = EXIT_INVALID;
        }
    }
done:
    json_decref(root);
    mem_free(text);
    return code;
}

/* Fills the account's fields the lead did not give from its accounts CSV row. */
static int read_account(lead_input *in, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    int code = EXIT_OK;
    csv_reader *cr = csv_reader_new(f);
    size_t width = 0, count;
    uint64_t line = 1;
    const char *problem = NULL;
    const char *const *row = cr ? csv_next(cr, &width, &line, &problem) : NULL;
    int slots[CSV_MAX_COLUMNS];
    int domain = -1;
    char *names[CSV_MAX_COLUMNS] = {0};
    for (size_t i = 0; row && !problem && i < width; i++) {
        char field[160];
        snprintf(field, sizeof field, "account.%s", row[i]);
        slots[i] = slot_of(in->c, field);
        names[i] = mem_strndup(row[i], strlen(row[i]));
        if (strcmp(row[i], "domain") == 0) domain = (int)i;
    }
    if (!row || problem || domain < 0) {
        fprintf(stderr, "%s:1: %s\n", path, !row || problem ? "no header row" : "the header has no 'domain' column");
        code = EXIT_INVALID;
        goto done;
    }
    while (in->domain && (row = csv_next(cr, &count, &line, &problem))) {
        if (problem || count != width || strcmp(row[domain], in->domain) != 0) continue;
        for (size_t i = 0; i < count; i++) {
            if (strcmp(names[i], "owner") == 0 && !in->owner && row[i][0])
                in->owner = arena_strndup(in->text, row[i], strlen(row[i]));
            if (slots[i] < 0 || in->fields[slots[i]].type != VAL_NULL || !row[i][0]) continue;
            char *end;
            double num = strtod(row[i], &end);
            if (contract_field(in->c, (size_t)slots[i])->type == VAL_NUM && !*end)
                in->fields[slots[i]] = (value){.type = VAL_NUM, .as.num = num};
            else if (!set_text(in, slots[i], row[i]))
                code = EXIT_INTERNAL;
        }
        break;
    }
done:
    for (size_t i = 0; i < width; i++) mem_free(names[i]);
    csv_reader_free(cr);
    fclose(f);
    return code;
}

typedef struct reps_file {
    const char *path;
    unsigned refused;
} reps_file;

static void report_rep_row(void *ctx, uint64_t line, const char *why)
{
    reps_file *rf = ctx;
    rf->refused++;
    fprintf(stderr, "%s:%llu: %s\n", rf->path, (unsigned long long)line, why);
}

int cli_load_reps(const contract *c, const char *path, router **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    router *r = route_new(&contract_about(c)->calendar);
    if (!r) {
        fclose(f);
        fprintf(stderr, "baton: out of memory\n");
        return EXIT_INTERNAL;
    }
    reps_file rf = {.path = path};
    route_load_reps(r, f, report_rep_row, &rf);
    fclose(f);
    if (rf.refused) {
        fprintf(stderr, "%s: %u line%s refused\n", path, rf.refused, rf.refused == 1 ? "" : "s");
        route_free(r);
        return EXIT_INVALID;
    }
    *out = r;
    return EXIT_OK;
}

typedef struct route_args {
    const char *contract, *reps, *accounts, *stage, *lead;
    time_ms at;
    bool json;
} route_args;

static int parse_args(int argc, char **argv, route_args *a)
{
    a->at = (time_ms)time(NULL) * MS_PER_SECOND; /* the command line reads the clock; the router never does */
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(o, "--contract") == 0 ? &a->contract
                            : strcmp(o, "--reps") == 0   ? &a->reps
                            : strcmp(o, "--accounts") == 0 ? &a->accounts
                            : strcmp(o, "--stage") == 0  ? &a->stage
                                                         : NULL;
        if (slot && v) {
            *slot = argv[++i];
        } else if (strcmp(o, "--at") == 0 && v) {
            if (!time_parse(v, strlen(v), &a->at))
                return cli_usage_error("route", "--at takes an ISO-8601 time such as 2026-10-07T12:00:00Z, not '%s'", v);
            i++;
        } else if (strcmp(o, "--format") == 0 && v) {
            if (strcmp(v, "json") != 0 && strcmp(v, "text") != 0)
                return cli_usage_error("route", "unknown format '%s' (text or json)", v);
            a->json = strcmp(v, "json") == 0;
            i++;
        } else if (slot || (o[0] == '-' && o[1])) {
            return cli_usage_error("route", slot ? "%s needs a value" : "unknown option '%s'", o);
        } else if (a->lead) {
            return cli_usage_error("route", "give one LEAD.json, not '%s' too", o);
        } else {
            a->lead = o;
        }
    }
    if (!a->contract) return cli_usage_error("route", "--contract FILE is required");
    if (!a->reps) return cli_usage_error("route", "--reps CSV is required");
    if (!a->lead) return cli_usage_error("route", "no LEAD.json given");
    return EXIT_OK;
}

static void print_decision(const route_args *a, const lead_input *in, const route_decision *d)
{
    strbuf b;
    strbuf_init(&b);
    const char *lead = in->lead;
    if (a->json) {
        strbuf_puts(&b, "{\"lead\":");
        if (lead) strbuf_json_string(&b, lead, strlen(lead));
        else strbuf_puts(&b, "null");
        strbuf_puts(&b, ",\"decision\":");
        route_decision_to_json(d, &b);
        strbuf_puts(&b, "}\n");
    } else {
        if (lead || in->domain)
            strbuf_printf(&b, "lead:      %s%s%s%s\n", lead ? lead : "", lead && in->domain ? " " : "",
                          in->domain ? "at " : "", in->domain ? in->domain : "");
        char at[40];
        time_format(d->at, at, sizeof at);
        strbuf_printf(&b, "at:        %s\n", at);
        route_decision_to_text(d, &b);
    }
    fputs(b.data ? b.data : "", stdout);
    strbuf_free(&b);
}

int cmd_route(int argc, char **argv)
{
    route_args a = {0};
    int code = parse_args(argc, argv, &a);
    if (code != EXIT_OK) return code;
    contract *c = cli_load_contract(a.contract, false, &code);
    router *r = NULL;
    lead_input in = {.c = c};
    if (!c) return code;
    int32_t stage = a.stage ? contract_find_stage(c, a.stage) : -1;
    if (a.stage && stage < 0) {
        code = cli_usage_error("route", "the contract has no stage '%s'", a.stage);
        goto done;
    }
    in.text = arena_new(4096);
    in.fields = mem_calloc(contract_field_count(c) + 1, sizeof *in.fields);
    if (!in.text || !in.fields) {
        code = EXIT_INTERNAL;
        goto done;
    }
    if ((code = cli_load_reps(c, a.reps, &r)) != EXIT_OK) goto done;
    if ((code = read_lead(&in, a.lead)) != EXIT_OK) goto done;
    if (a.accounts && (code = read_account(&in, a.accounts)) != EXIT_OK) goto done;

    eval_env env = {.fields = in.fields, .now = a.at};
    route_request req = {.team = stage >= 0 ? contract_stage(c, (size_t)stage)->team : NULL,
                         .stage = stage,
                         .env = &env,
                         .account_owner = in.owner,
                         .now = a.at};
    route_decision d;
    route_assign(r, c, &req, &d);
    print_decision(&a, &in, &d);
done:
    mem_free(in.fields);
    arena_free(in.text);
    route_free(r);
    contract_free(c);
    return code;
}
