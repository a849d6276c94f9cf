/* baton check: read, check and compile contracts; report every error. */
#include "cli/cli.h"
#include "contract/contract.h"

#include <errno.h>
#include <string.h>

/* Loads one contract file. On failure prints the errors (text or JSON) and
 * returns NULL with *code set; the caller owns the contract on success. */
contract *cli_load_contract(const char *path, bool json, int *code);

contract *cli_load_contract(const char *path, bool json, int *code)
{
    size_t len = 0;
    char *text = file_read(path, &len);
    if (!text) {
        if (json) {
            strbuf b;
            strbuf_init(&b);
            strbuf_puts(&b, "{\"file\":");
            strbuf_json_string(&b, path, strlen(path));
            strbuf_puts(&b, ",\"valid\":false,\"errors\":[{\"class\":\"io\",\"message\":");
            const char *why = strerror(errno);
            strbuf_json_string(&b, why, strlen(why));
            strbuf_puts(&b, "}]}\n");
            fputs(b.data ? b.data : "", stdout);
            strbuf_free(&b);
        } else {
            fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
        }
        *code = EXIT_IO;
        return NULL;
    }
    errors errs;
    errors_init(&errs, path, text, len);
    contract *c = contract_parse(path, text, len, &errs);
    if (!c) {
        errors_sort(&errs);
        strbuf b;
        strbuf_init(&b);
        if (json) {
            strbuf_puts(&b, "{\"file\":");
            strbuf_json_string(&b, path, strlen(path));
            strbuf_puts(&b, ",\"valid\":false,\"errors\":");
            errors_render_json(&errs, &b);
            strbuf_printf(&b, ",\"not_shown\":%u}\n", errs.dropped);
            fputs(b.data ? b.data : "", stdout);
        } else {
            errors_render(&errs, &b);
            unsigned total = errs.count + errs.dropped;
            strbuf_printf(&b, "%s: %u error%s\n", path, total, total == 1 ? "" : "s");
            fputs(b.data ? b.data : "", stderr);
        }
        strbuf_free(&b);
        *code = EXIT_INVALID;
        for (unsigned i = 0; i < errs.count; i++)
            if (errs.list[i].code == ERR_NOMEM) *code = EXIT_INTERNAL;
    }
    mem_free(text);
    return c;
}

static void summary(const char *path, const contract *c, bool json)
{
    const contract_info *about = contract_about(c);
    if (json) {
        strbuf b;
        strbuf_init(&b);
        strbuf_puts(&b, "{\"file\":");
        strbuf_json_string(&b, path, strlen(path));
        strbuf_puts(&b, ",\"valid\":true,\"contract\":");
        strbuf_json_string(&b, about->name, strlen(about->name));
        strbuf_printf(&b, ",\"version\":%u,\"signals\":%zu,\"gates\":%zu,\"fit\":%zu,\"reasons\":%zu,\"tests\":%zu}\n",
                      about->version, contract_signal_count(c), contract_gate_count(c), contract_fit_count(c),
                      contract_reason_count(c), contract_test_count(c));
        fputs(b.data ? b.data : "", stdout);
        strbuf_free(&b);
        return;
    }
    printf("%s: ok: %s v%u", path, about->name, about->version);
    const struct {
        size_t n;
        const char *one, *many;
    } parts[] = {{contract_signal_count(c), "signal", "signals"},
                 {contract_gate_count(c), "gate", "gates"},
                 {contract_fit_count(c), "fit predicate", "fit predicates"},
                 {contract_reason_count(c), "reason", "reasons"},
                 {contract_test_count(c), "test", "tests"}};
    for (size_t i = 0; i < ARRAY_LEN(parts); i++)
        printf(", %zu %s", parts[i].n, parts[i].n == 1 ? parts[i].one : parts[i].many);
    putchar('\n');
}

int cmd_check(int argc, char **argv)
{
    bool json = false;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (strcmp(a, "--format") == 0 || strncmp(a, "--format=", 9) == 0) {
            const char *v = a[8] == '=' ? a + 9 : (first + 1 < argc ? argv[++first] : "");
            if (strcmp(v, "json") == 0) json = true;
            else if (strcmp(v, "text") != 0) return cli_usage_error("check", "unknown format '%s' (text or json)", v);
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("check", "unknown option '%s'", a);
        } else {
            break;
        }
    }
    if (first >= argc) return cli_usage_error("check", "no contract file given");
    int worst = EXIT_OK;
    for (int i = first; i < argc; i++) {
        int code = EXIT_OK;
        contract *c = cli_load_contract(argv[i], json, &code);
        if (c) summary(argv[i], c, json);
        if (code > worst) worst = code;
        contract_free(c);
    }
    return worst;
}
