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
static bool contains_folded(str hay, const char *needle, size_t n)
{
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
typedef struct phrase {
    const char *text;
    size_t len;
} phrase;

#define P(s) {s, sizeof(s) - 1}

static const phrase subject_phrases[] = {
    /* English */
    P("out of office"), P("out of the office"), P("automatic reply"), P("auto-reply"), P("autoreply"),
    P("auto reply"), P("on vacation"), P("on leave"), P("away from the office"),
    /* German */
    P("abwesenheitsnotiz"), P("automatische antwort"), P("nicht im büro"), P("abwesend"),
    /* French */
    P("absence du bureau"), P("réponse automatique"), P("absent du bureau"), P("en congé"),
    /* Spanish */
    P("fuera de la oficina"), P("respuesta automática"), P("de vacaciones"),
    /* Portuguese */
    P("fora do escritório"), P("resposta automática"), P("ausência"), P("de férias"),
    /* delivery failures */
    P("undeliverable"), P("delivery status notification"), P("mail delivery failed"), P("returned mail"),
    P("delivery failure"), P("failure notice"),
};

/* Lower-case phrases that mark a body as an auto-response. */
static const phrase body_phrases[] = {
    P("i am out of the office"), P("i'm out of the office"), P("i am out of office"), P("i'm out of office"),
    P("i am currently out"), P("i'm currently out"), P("i will be out of the office"), P("on annual leave"),
    P("limited access to email"), P("will respond when i return"), P("this is an automatic reply"),
    P("ich bin bis"), P("ich bin derzeit nicht"), P("ich bin ab dem"),
    P("je suis absent"), P("je suis actuellement absent"), P("je serai absent"),
    P("estoy fuera de la oficina"), P("estaré fuera"), P("actualmente estoy fuera"),
    P("estou fora do escritório"), P("estarei ausente"), P("estou de férias"),
    P("message could not be delivered"), P("delivery has failed"),
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
        if (contains_folded(f->subject, subject_phrases[i].text, subject_phrases[i].len)) return true;
    for (size_t i = 0; i < ARRAY_LEN(body_phrases); i++)
        if (contains_folded(f->body, body_phrases[i].text, body_phrases[i].len)) return true;
    return false;
}
