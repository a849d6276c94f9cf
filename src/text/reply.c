/* A person or a machine? Auto-responses among email replies (R9).
 *
 * Evidence, strongest first; the first that holds decides:
 *   1. headers: RFC 3834 Auto-Submitted other than "no"; X-Autoreply or
 *      X-Autorespond; Precedence bulk, junk, list or auto_reply;
 *   2. the sender: mailer-daemon, postmaster, no-reply and bounce addresses;
 *   3. the subject's opening words, as auto-responders and mail systems
 *      write them ("Out of Office:", "Abwesenheitsnotiz", "Réponse
 *      automatique", "Undeliverable:", "Unzustellbar:"), never words later
 *      in the subject: "Re: out of office hours support" is a person;
 *   4. the body's own text (quoted lines left out) saying it is automatic
 *      or a delivery report ("this is an automatic reply", "could not be
 *      delivered", "konnte nicht zugestellt werden");
 *   5. the body announcing an absence ("I am on annual leave", "im Urlaub",
 *      "en congés") together with a return or a stand-in ("until the 21st",
 *      "when I return", "for urgent matters contact", "wird nicht
 *      weitergeleitet") — unless the body reads as a person: it asks
 *      something, or says "let's", "I was", "sorry" and the like. People
 *      mention their absences too ("I'll be on leave next week, could we
 *      meet before?"), but seldom with both and never to ask.
 * Every language's phrases are tried on every reply: the reply's language is
 * not known, and the phrases do not collide. Matching is on the folded text
 * (lower case, accents removed), on word boundaries. */
#include "text/internal.h"

#include <string.h>

#define REPLY_SCAN   4096 /* bytes of the body read; notices say it first */
#define SUBJECT_SCAN 256

/* clang-format off: phrase tables, grouped by language */
static const char *const subject_openings[] = {
    /* English */
    "out of office",
    "out of the office",
    "ooo",
    "automatic reply",
    "auto reply",
    "auto-reply",
    "autoreply",
    "auto-response",
    "automatic response",
    "autoresponse",
    "auto:",
    "away:",
    "away from the office",
    "on vacation",
    "on leave",
    "vacation reply",
    "absent",
    /* German */
    "abwesend",
    "abwesenheit",
    "abwesenheitsnotiz",
    "abwesenheitsmeldung",
    "automatische antwort",
    "automatische abwesenheitsnotiz",
    "urlaubsabwesenheit",
    /* French */
    "reponse automatique",
    "message d'absence",
    "absence",
    /* Spanish */
    "respuesta automatica",
    "fuera de la oficina",
    "ausente",
    "ausencia",
    /* Portuguese */
    "resposta automatica",
    "mensagem automatica",
    "fora do escritorio",
    /* delivery reports */
    "undeliverable",
    "undelivered",
    "delivery status notification",
    "mail delivery failed",
    "mail delivery failure",
    "delivery failure",
    "delivery failed",
    "failure notice",
    "returned mail",
    "message not delivered",
    "delivery notification",
    "mail system error",
    "unzustellbar",
    "nicht zustellbar",
    "non remis",
    "echec de la remise",
    "no se puede entregar",
    "nao entregue",
};

/* The body says it is automatic, or a delivery report. */
static const char *const body_automatic[] = {
    "this is an automatic reply",
    "this is an automated reply",
    "this is an automatic response",
    "this is an automated response",
    "this is an automated message",
    "this is an automatic message",
    "this message was created automatically",
    "automatically generated",
    "auto-generated message",
    "please do not reply to this email",
    "please do not reply to this message",
    "do not reply to this email",
    "could not be delivered",
    "couldn't be delivered",
    "wasn't delivered to",
    "was not delivered to",
    "delivery has failed",
    "failed permanently",
    "unable to deliver your message",
    "mail delivery subsystem",
    "the mail system at host",
    "automatisch generierte",
    "automatisch erstellte",
    "automatische antwort",
    "konnte nicht zugestellt werden",
    "an folgende empfanger",
    "reponse automatique",
    "message automatique",
    "n'a pas pu etre remis",
    "n'a pas ete distribue",
    "n'a pas pu etre distribue",
    "respuesta automatica",
    "mensaje automatico",
    "no se pudo entregar",
    "no se ha podido entregar",
    "resposta automatica",
    "mensagem automatica",
    "nao pode ser entregue",
    "nao foi possivel entregar",
};

/* The writer is away, on leave, travelling, or gone. */
static const char *const absences[] = {
    "out of the office",
    "out of office",
    "away from the office",
    "away from my desk",
    "on annual leave",
    "on parental leave",
    "on maternity leave",
    "on paternity leave",
    "on sick leave",
    "on leave",
    "on vacation",
    "on holiday",
    "on holidays",
    "travelling",
    "traveling",
    "limited access to email",
    "limited access to my email",
    "limited access to e-mail",
    "no access to email",
    "no access to my email",
    "not checking email",
    "not checking my email",
    "currently out",
    "currently away",
    "i am away",
    "i'm away",
    "i will be away",
    "i'll be away",
    "no longer works",
    "no longer with",
    "has left the company",
    "out until",
    "away until",
    "attending a conference",
    "at a conference",
    "nicht im buro",
    "nicht im hause",
    "ausser haus",
    "im urlaub",
    "in elternzeit",
    "im mutterschutz",
    "auf dienstreise",
    "abwesend",
    "nicht erreichbar",
    "keinen zugriff",
    "eingeschranktem zugriff",
    "absent",
    "absente",
    "en conge",
    "en conges",
    "en deplacement",
    "en vacances",
    "hors du bureau",
    "pas acces",
    "acces limite",
    "fuera de la oficina",
    "de vacaciones",
    "ausente",
    "de viaje",
    "de baja",
    "no me encuentro en la oficina",
    "acceso limitado",
    "sin acceso",
    "fora do escritorio",
    "de ferias",
    "em ferias",
    "em licenca",
    "acesso limitado",
    "em viagem",
};

/* When the writer is back, or who stands in. */
static const char *const returns[] = {
    "until",
    "when i return",
    "upon my return",
    "on my return",
    "when i'm back",
    "when i am back",
    "as soon as i'm back",
    "as soon as i am back",
    "as soon as i return",
    "i will be back",
    "i'll be back",
    "back on",
    "return on",
    "returning on",
    "back in the office on",
    "in the meantime",
    "for urgent",
    "if urgent",
    "if it's urgent",
    "if it is urgent",
    "for anything urgent",
    "in case of urgency",
    "will not be forwarded",
    "won't be forwarded",
    "please contact",
    "please write to",
    "please reach out to",
    "contact my colleague",
    "respond to your message",
    "reply to your message",
    "respond to your email",
    "reply to your email",
    "limited access",
    "no access",
    "not checking",
    "bis",
    "wieder erreichbar",
    "wieder im buro",
    "wieder fur sie da",
    "zuruck",
    "nicht weitergeleitet",
    "in dringenden fallen",
    "wenden sie sich",
    "ab dem",
    "jusqu'au",
    "jusqu'a",
    "jusqu'en",
    "de retour",
    "a mon retour",
    "pour toute urgence",
    "en cas d'urgence",
    "contacter",
    "contactez",
    "je vous repondrai",
    "hasta",
    "a mi regreso",
    "regreso el",
    "vuelvo el",
    "asuntos urgentes",
    "para urgencias",
    "contacta con",
    "escriba a",
    "respondere",
    "no tendre acceso",
    "ate",
    "retorno",
    "volto",
    "quando voltar",
    "em caso de urgencia",
    "responderei",
    "ligue para",
};

/* A person writing: plans with the reader, the past, apologies. */
static const char *const person[] = {
    "let's",   "lets",   "let us",  "i was",  "sorry",  "ich war", "lassen sie uns", "lass uns",
    "j'etais", "desole", "on peut", "estuve", "perdon", "voltei",  "desculpe",
};

/* Local parts of addresses that only machines write from. */
static const char *const machine_senders[] = {
    "mailer-daemon", "mailerdaemon", "mail-daemon",  "postmaster",   "noreply", "no-reply",
    "no_reply",      "donotreply",   "do-not-reply", "do_not_reply", "bounce",  "bounces",
};
/* clang-format on */

static bool alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Whether a phrase of the set occurs in the folded text on word boundaries.
 * Phrases are bucketed by their first byte, so each word's start tries only
 * the few that begin with its letter. */
static bool has_any(const char *hay, size_t n, const char *const *set, size_t count)
{
    uint8_t head[256], next[256]; /* 255: none; sets hold fewer than 255 phrases */
    memset(head, 0xFF, sizeof head);
    for (size_t k = count; k-- > 0;) {
        unsigned char c = (unsigned char)set[k][0];
        next[k] = head[c];
        head[c] = (uint8_t)k;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && alnum(hay[i - 1])) continue;
        for (uint8_t k = head[(unsigned char)hay[i]]; k != 0xFF; k = next[k]) {
            const char *p = set[k];
            if (i + 1 < n && p[1] != hay[i + 1]) continue; /* every phrase has two bytes or more */
            size_t m = strlen(p);
            if (i + m > n || memcmp(hay + i, p, m) != 0) continue;
            if (i + m < n && alnum(hay[i + m]) && alnum(p[m - 1])) continue;
            return true;
        }
    }
    return false;
}

#define HAS_ANY(hay, n, set) has_any((hay), (n), (set), ARRAY_LEN(set))
_Static_assert(ARRAY_LEN(body_automatic) < 255 && ARRAY_LEN(absences) < 255 &&
                   ARRAY_LEN(returns) < 255 && ARRAY_LEN(person) < 255,
               "has_any() buckets at most 254 phrases");

/* Folds s[from, to) onto out: lower case, accents removed, ’ as ', ¿ as
 * '?', every run of blanks and line breaks one space. Returns the new
 * length of out (at most cap - 1). */
static size_t fold_into(const char *s, size_t from, size_t to, char *out, size_t o, size_t cap)
{
    for (size_t i = from; i < to && o + 4 < cap;) {
        size_t len;
        uint32_t cp = char_lower(utf8_decode(s + i, to - i, &len));
        i += len;
        enum char_class cc = char_class_of(cp);
        if (cc == CH_SPACE || cc == CH_NEWLINE) {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
            continue;
        }
        if (cp == 0xBF || cp == 0xFF1F) cp = '?';
        if (cc == CH_APOS) cp = '\'';
        const char *ascii = cp >= 0x80 ? char_ascii(cp) : NULL;
        if (ascii) {
            size_t k = strlen(ascii);
            memcpy(out + o, ascii, k);
            o += k;
        } else if (cp < 0x80) {
            out[o++] = (char)cp;
        } else if (cc == CH_WORD) {
            o += utf8_encode(cp, out + o);
        } else {
            if (o && out[o - 1] != ' ') out[o++] = ' ';
        }
    }
    out[o] = '\0';
    return o;
}

/* The body's own lines, folded. */
static size_t fold_body(str body, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < body.len && o + 8 < cap;) {
        size_t end;
        enum line_kind k = line_kind_at(body.s, body.len, i, &end);
        if (k == LINE_REST_QUOTED) break;
        if (k == LINE_OWN) {
            o = fold_into(body.s, i, end, out, o, cap);
            if (o && out[o - 1] != ' ') out[o++] = ' ';
        }
        i = end < body.len ? end + 1 : body.len;
    }
    out[o] = '\0';
    return o;
}

static bool value_is(str v, const char *const *set, size_t count)
{
    char buf[32];
    size_t n = fold_into(v.s, 0, v.len, buf, 0, sizeof buf);
    while (n && buf[n - 1] == ' ')
        n--;
    size_t b = buf[0] == ' ' ? 1 : 0;
    for (size_t i = 0; i < count; i++)
        if (strlen(set[i]) == n - b && memcmp(buf + b, set[i], n - b) == 0) return true;
    return false;
}

static bool machine_sender(str from)
{
    const char *s = from.s;
    size_t n = from.len;
    const char *lt = n ? memchr(s, '<', n) : NULL;
    if (lt) {
        n -= (size_t)(lt + 1 - s);
        s = lt + 1;
    }
    const char *at = n ? memchr(s, '@', n) : NULL;
    if (!at) return false;
    while (s < at && (*s == ' ' || *s == '"'))
        s++;
    char local[64];
    size_t ln = fold_into(s, 0, (size_t)(at - s), local, 0, sizeof local);
    for (size_t i = 0; i < ARRAY_LEN(machine_senders); i++)
        if (strlen(machine_senders[i]) == ln && memcmp(local, machine_senders[i], ln) == 0)
            return true;
    return ln > 7 && memcmp(local, "bounce", 6) == 0 &&
           (local[6] == '+' || local[6] == '-' || local[6] == '.');
}

static bool subject_opens_automatic(str subject)
{
    char buf[SUBJECT_SCAN];
    size_t n = fold_into(subject.s, 0, subject.len, buf, 0, sizeof buf);
    size_t i = 0;
    for (;;) { /* skip "[Ticket #12]" tags and blanks */
        while (i < n && buf[i] == ' ')
            i++;
        if (i < n && buf[i] == '[') {
            const char *close = memchr(buf + i, ']', n - i);
            if (!close) break;
            i = (size_t)(close - buf) + 1;
            continue;
        }
        break;
    }
    for (size_t k = 0; k < ARRAY_LEN(subject_openings); k++) {
        const char *p = subject_openings[k];
        size_t m = strlen(p);
        if (i + m <= n && memcmp(buf + i, p, m) == 0 &&
            (i + m == n || !alnum(buf[i + m]) || !alnum(p[m - 1])))
            return true;
    }
    return false;
}

bool text_reply_is_automatic(const reply_facts *f)
{
    static const char *const not_set[] = {"no", "false", "0"};
    static const char *const precedences[] = {"auto_reply", "auto-reply", "bulk", "junk", "list"};
    if (f->auto_submitted.len && !value_is(f->auto_submitted, not_set, 1)) return true;
    if (f->x_autoreply.len && !value_is(f->x_autoreply, not_set, ARRAY_LEN(not_set))) return true;
    if (f->x_autorespond.len && !value_is(f->x_autorespond, not_set, ARRAY_LEN(not_set)))
        return true;
    if (f->precedence.len && value_is(f->precedence, precedences, ARRAY_LEN(precedences)))
        return true;
    if (f->from.len && machine_sender(f->from)) return true;
    if (f->subject.len && subject_opens_automatic(f->subject)) return true;
    if (!f->body.len) return false;

    char body[REPLY_SCAN];
    size_t n = fold_body(f->body, body, sizeof body);
    if (HAS_ANY(body, n, body_automatic)) return true;
    if (!HAS_ANY(body, n, absences) || !HAS_ANY(body, n, returns)) return false;
    return !memchr(body, '?', n) && !HAS_ANY(body, n, person);
}
