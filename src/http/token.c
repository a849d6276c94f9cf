/* API tokens: random, shown once, kept only as SHA-256 digests. */
#include "http/http.h"

#include <openssl/sha.h>
#include <string.h>
#include <sys/random.h>

static void hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void token_digest(const char *token, char digest[65])
{
    unsigned char sum[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token, strlen(token), sum);
    hex(sum, sizeof sum, digest);
}

bool token_new(char token[65], char digest[65])
{
    unsigned char bytes[32];
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n <= 0) return false;
        got += (size_t)n;
    }
    hex(bytes, sizeof bytes, token);
    token_digest(token, digest);
    return true;
}
