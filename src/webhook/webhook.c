/* The pure parts of webhooks: what goes in the outbox, the body, the
 * signature and the retry schedule. */
#include "webhook/webhook.h"

#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>

void webhook_defaults(webhook_options *opt)
{
    if (!opt->backoff) opt->backoff = 10 * MS_PER_SECOND;
    if (!opt->backoff_max) opt->backoff_max = MS_PER_HOUR;
    if (!opt->attempts) opt->attempts = 10;
}

static const char *const event_names[] = {
#define X(id, name) name,
    WEBHOOK_EVENTS(X)
#undef X
};

const char *webhook_event_name(enum webhook_event e)
{
    return (size_t)e < ARRAY_LEN(event_names) ? event_names[e] : "?";
}

bool webhook_parse_events(const char *list, uint32_t *set, char *bad, size_t bad_size)
{
    *set = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        size_t e = 0;
        while (e < WEBHOOK_EVENT_COUNT && !(strlen(event_names[e]) == n && strncmp(p, event_names[e], n) == 0)) e++;
        if (e == WEBHOOK_EVENT_COUNT) {
            snprintf(bad, bad_size, "%.*s", (int)n, p);
            return false;
        }
        *set |= 1u << e;
        p += n + (p[n] == ',');
    }
    return *set != 0 || (snprintf(bad, bad_size, "(empty)"), false);
}

int webhook_enqueue(store *st, const webhook_options *opt, enum webhook_event what, const char *data, time_ms now)
{
    if (opt->events && !(opt->events & (1u << what))) return STORE_OK;
    for (size_t i = 0; i < opt->endpoint_count; i++) {
        store_webhook w = {.endpoint = opt->endpoints[i], .type = event_names[what], .data = data, .created = now};
        int rc = st->ops->put_webhook(st, &w);
        if (rc != STORE_OK) return rc;
    }
    return STORE_OK;
}

void webhook_envelope(const store_webhook *w, strbuf *out)
{
    char created[40];
    time_format(w->created, created, sizeof created);
    strbuf_printf(out, "{\"id\":%llu,\"type\":", (unsigned long long)w->id);
    strbuf_json_string(out, w->type, strlen(w->type));
    strbuf_printf(out, ",\"created\":\"%s\",\"data\":%s}", created, w->data);
}

void webhook_signature(const char *secret, int64_t unix_seconds, const char *body, size_t len,
                       char out[WEBHOOK_SIGNATURE_SIZE])
{
    /* HMAC-SHA256 over "<seconds>.<body>": the time is signed with the body,
     * so a captured request cannot be replayed later under a fresh time */
    char stamp[24];
    int n = snprintf(stamp, sizeof stamp, "%lld.", (long long)unix_seconds);
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *m = hmac ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    if (!(m && EVP_MAC_init(m, (const unsigned char *)secret, strlen(secret), params) &&
          EVP_MAC_update(m, (const unsigned char *)stamp, (size_t)n) &&
          EVP_MAC_update(m, (const unsigned char *)body, len) && EVP_MAC_final(m, mac, &mac_len, sizeof mac)))
        mac_len = 0; /* an empty v1 never verifies: the receiver refuses, and the attempt is retried */
    EVP_MAC_CTX_free(m);
    EVP_MAC_free(hmac);
    int at = snprintf(out, WEBHOOK_SIGNATURE_SIZE, "t=%lld,v1=", (long long)unix_seconds);
    for (size_t i = 0; i < mac_len; i++) at += snprintf(out + at, (size_t)(WEBHOOK_SIGNATURE_SIZE - at), "%02x", mac[i]);
}

duration_ms webhook_backoff(const webhook_options *opt, uint32_t attempts, uint64_t random)
{
    duration_ms wait = opt->backoff;
    for (uint32_t i = 1; i < attempts && wait < opt->backoff_max; i++) wait *= 2;
    if (wait > opt->backoff_max) wait = opt->backoff_max;
    duration_ms half = wait / 2;
    return half + (duration_ms)(random % (uint64_t)(wait - half + 1));
}
