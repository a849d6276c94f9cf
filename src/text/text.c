/* Questions in the buyer's words, and auto-reply detection. */
#include "text/text.h"

#include <ctype.h>
#include <string.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static str trim(const char *s, size_t n)
{
    while (n && is_space(*s)) s++, n--;
    while (n && is_space(s[n - 1])) n--;
    str r = {s, (uint32_t)n};
    return r;
}

str text_last_question(str text)
{
    str none = {text.s, 0};
    /* Walk back from the last '?' to the end of the sentence before it. */
    size_t end = text.len;
    while (end > 0 && text.s[end - 1] != '?') end--;
    if (end == 0) return none;
    size_t start = end - 1;
    while (start > 0) {
        char c = text.s[start - 1];
        if (c == '.' || c == '!' || c == '?' || c == '\n') break;
        start--;
    }
    str q = trim(text.s + start, end - start);
    /* A lone "?" or "ok?" is no question to answer. */
    return q.len >= 8 ? q : none;
}

/* Case-insensitive (ASCII) search for a needle in a haystack. */
static bool contains_folded(str hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || n > hay.len) return false;
    for (size_t i = 0; i + n <= hay.len; i++) {
        size_t j = 0;
        while (j < n && tolower((unsigned char)hay.s[i + j]) == (unsigned char)needle[j]) j++;
        if (j == n) return true;
    }
    return false;
}

static bool equals_folded(str a, const char *b)
{
    size_t n = strlen(b);
    if (a.len != n) return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)a.s[i]) != (unsigned char)b[i]) return false;
    return true;
}

/* Lower-case phrases (UTF-8), matched anywhere in the subject. Only ASCII
 * letters are folded, so accented letters are written in lower case here. */
static const char *const subject_phrases[] = {
    /* English */
    "out of office", "out of the office", "automatic reply", "auto-reply", "autoreply",
    "auto reply", "on vacation", "on leave", "away from the office",
    /* German */
    "abwesenheitsnotiz", "automatische antwort", "nicht im büro", "abwesend",
    /* French */
    "absence du bureau", "réponse automatique", "absent du bureau", "en congé",
    /* Spanish */
    "fuera de la oficina", "respuesta automática", "de vacaciones",
    /* Portuguese */
    "fora do escritório", "resposta automática", "ausência", "de férias",
    /* delivery failures */
    "undeliverable", "delivery status notification", "mail delivery failed", "returned mail",
    "delivery failure", "failure notice",
};

/* Lower-case phrases that mark a body as an auto-response. */
static const char *const body_phrases[] = {
    "i am out of the office", "i'm out of the office", "i am out of office", "i'm out of office",
    "i am currently out", "i'm currently out", "i will be out of the office", "on annual leave",
    "limited access to email", "will respond when i return", "this is an automatic reply",
    "ich bin bis", "ich bin derzeit nicht", "ich bin ab dem",
    "je suis absent", "je suis actuellement absent", "je serai absent",
    "estoy fuera de la oficina", "estaré fuera", "actualmente estoy fuera",
    "estou fora do escritório", "estarei ausente", "estou de férias",
    "message could not be delivered", "delivery has failed",
};

bool text_reply_is_automatic(const reply_facts *f)
{
    /* RFC 3834: anything but "no" means a machine sent it. */
    if (f->auto_submitted.len && !equals_folded(f->auto_submitted, "no")) return true;
    if (f->x_autoreply.len || f->x_autorespond.len) return true;
    static const char *const precedences[] = {"auto_reply", "bulk", "junk", "list"};
    for (size_t i = 0; i < ARRAY_LEN(precedences); i++)
        if (equals_folded(f->precedence, precedences[i])) return true;
    for (size_t i = 0; i < ARRAY_LEN(subject_phrases); i++)
        if (contains_folded(f->subject, subject_phrases[i])) return true;
    for (size_t i = 0; i < ARRAY_LEN(body_phrases); i++)
        if (contains_folded(f->body, body_phrases[i])) return true;
    return false;
}
