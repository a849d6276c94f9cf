/* baton serve and baton token: the server, and the tokens that open it. */
#include "cli/cli.h"
#include "http/http.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The signing secret: the file's first line, or $BATON_WEBHOOK_SECRET.
 * NULL with a message printed when neither gives one. */
static char *webhook_secret(const char *file)
{
    if (!file) {
        const char *env = getenv("BATON_WEBHOOK_SECRET");
        if (env && *env && strlen(env) <= WEBHOOK_SECRET_MAX) return mem_strndup(env, strlen(env));
        fprintf(stderr, "baton serve: --webhook needs a secret: --webhook-secret-file FILE or "
                        "$BATON_WEBHOOK_SECRET (at most %d bytes)\n", WEBHOOK_SECRET_MAX);
        return NULL;
    }
    size_t len;
    char *text = file_read(file, &len);
    if (!text) {
        fprintf(stderr, "baton serve: %s: cannot read the webhook secret\n", file);
        return NULL;
    }
    len = strcspn(text, "\r\n");
    text[len] = '\0';
    if (len == 0 || len > WEBHOOK_SECRET_MAX) {
        fprintf(stderr, "baton serve: %s: the webhook secret must be 1 to %d bytes on the first line\n", file,
                WEBHOOK_SECRET_MAX);
        mem_free(text);
        return NULL;
    }
    return text;
}

static void announce(const char *address)
{
    /* one line a supervisor or a test can wait for */
    printf("baton: listening on http://%s\n", address);
    fflush(stdout);
}

int cmd_serve(int argc, char **argv)
{
    serve_options opt = {.db = "baton.db",
                         .contract = NULL,
                         .listen = "127.0.0.1:8080",
                         .save_every = MS_PER_SECOND,
                         .ready = announce};
    const char *secret_file = NULL;
    webhook_options *wh = &opt.webhooks;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--db") == 0 && v) opt.db = argv[++i];
        else if (strcmp(a, "--contract") == 0 && v) opt.contract = argv[++i];
        else if (strcmp(a, "--listen") == 0 && v) opt.listen = argv[++i];
        else if (strcmp(a, "--event-retention") == 0 && v) {
            if (!duration_parse(v, strlen(v), &opt.event_retention) || opt.event_retention <= 0)
                return cli_usage_error("serve", "--event-retention takes a duration such as 400d, not '%s'", v);
            i++;
        } else if (strcmp(a, "--save-every") == 0 && v) {
            if (strcmp(v, "0") == 0) opt.save_every = 0; /* with every commit */
            else if (!duration_parse(v, strlen(v), &opt.save_every) || opt.save_every <= 0)
                return cli_usage_error("serve", "--save-every takes a duration such as 1s, or 0, not '%s'", v);
            i++;
        } else if (strcmp(a, "--dedupe-window") == 0 && v) {
            if (!duration_parse(v, strlen(v), &opt.dedupe_window) || opt.dedupe_window <= 0)
                return cli_usage_error("serve", "--dedupe-window takes a duration such as 7d, not '%s'", v);
            i++;
        } else if (strcmp(a, "--webhook") == 0 && v) {
            if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
                return cli_usage_error("serve", "--webhook takes an http:// or https:// URL, not '%s'", v);
            if (wh->endpoint_count == WEBHOOK_MAX_ENDPOINTS)
                return cli_usage_error("serve", "at most %d --webhook endpoints", WEBHOOK_MAX_ENDPOINTS);
            wh->endpoints[wh->endpoint_count++] = argv[++i];
        } else if (strcmp(a, "--webhook-secret-file") == 0 && v) secret_file = argv[++i];
        else if (strcmp(a, "--model") == 0 && v) opt.model = argv[++i];
        else if (strcmp(a, "--webhook-events") == 0 && v) {
            char bad[64];
            if (!webhook_parse_events(v, &wh->events, bad, sizeof bad))
                return cli_usage_error("serve", "--webhook-events: unknown event '%s' (handoff.created, "
                                       "handoff.needs_context, handoff.accepted, handoff.rejected, "
                                       "lead.stage_changed, sla.breached, sla.escalated)", bad);
            i++;
        }
        else if (strcmp(a, "--webhook-backoff") == 0 && v) {
            if (!duration_parse(v, strlen(v), &wh->backoff) || wh->backoff <= 0)
                return cli_usage_error("serve", "--webhook-backoff takes a duration such as 10s, not '%s'", v);
            i++;
        } else if (strcmp(a, "--webhook-attempts") == 0 && v) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || n == 0 || n > 100)
                return cli_usage_error("serve", "--webhook-attempts takes 1 to 100, not '%s'", v);
            wh->attempts = (uint32_t)n;
            i++;
        } else return cli_usage_error("serve", "unknown option '%s'", a);
    }
    if (!opt.contract) return cli_usage_error("serve", "--contract FILE is required");
    char *secret = NULL;
    if (wh->endpoint_count) {
        if (!(secret = webhook_secret(secret_file))) return EXIT_USAGE;
        wh->secret = secret;
        webhook_defaults(wh);
    }
    int code = serve_run(&opt);
    mem_free(secret);
    return code;
}

int cmd_token(int argc, char **argv)
{
    const char *db = "baton.db", *role_name = NULL, *name = "";
    if (argc < 2 || strcmp(argv[1], "create") != 0) return cli_usage_error("token", "the one subcommand is 'create'");
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--db") == 0 && v) db = argv[++i];
        else if (strcmp(a, "--role") == 0 && v) role_name = argv[++i];
        else if (strcmp(a, "--name") == 0 && v) name = argv[++i];
        else return cli_usage_error("token", "unknown option '%s'", a);
    }
    if (!role_name) return cli_usage_error("token", "--role ingest|sales|admin is required");
    int role = -1;
    for (int r = ROLE_INGEST; r <= ROLE_ADMIN; r++)
        if (strcmp(role_name, token_role_name((enum token_role)r)) == 0) role = r;
    if (role < 0) return cli_usage_error("token", "unknown role '%s' (ingest, sales or admin)", role_name);
    char why[256], token[65], digest[65];
    store *s = sqlite_store_open(db, why, sizeof why);
    if (!s) {
        fprintf(stderr, "baton token: %s: %s\n", db, why);
        return EXIT_IO;
    }
    int code = EXIT_OK;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!token_new(token, digest)) {
        fprintf(stderr, "baton token: no randomness available\n");
        code = EXIT_INTERNAL;
    } else if (s->ops->put_token(s, digest, (enum token_role)role, name,
                                 (time_ms)ts.tv_sec * MS_PER_SECOND + ts.tv_nsec / 1000000) != STORE_OK) {
        fprintf(stderr, "baton token: %s\n", store_error(s));
        code = EXIT_IO;
    } else {
        printf("%s\n", token);
        fprintf(stderr, "a %s token; it is shown once and kept only as a digest in %s\n", role_name, db);
    }
    store_close(s);
    return code;
}
