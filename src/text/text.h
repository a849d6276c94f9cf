/* text: reading the buyer's words — the risk phrases they use (R5), the
 * question they asked (R3), and whether a reply came from a person or from
 * an auto-responder (R9).
 *
 * Ownership: text_last_question() and text_reply_is_automatic() borrow their
 * input and keep nothing; the question is copied into the caller's buffer. A text_matcher is made
 * once per contract and owns its stemmer, its prepared phrases and a fixed scratch area; the phrase
 * strings it is given are borrowed and must outlive it. text_mentions()
 * borrows the message only for the call, except that the sentence it
 * records points into the message until the next call.
 *
 * A matcher is not thread-safe (the scratch area and libstemmer's buffer are
 * shared by every call): one thread at a time evaluates a contract. */
#ifndef BATON_TEXT_H
#define BATON_TEXT_H

#include "util/util.h"

/* ---- mentions ------------------------------------------------------------
 * Named caps. A message is read up to TEXT_MAX_TOKENS words (the rest is not
 * read: a phrase only after that point is not found); a word longer than
 * TEXT_MAX_WORD bytes never matches; a phrase has at most
 * TEXT_MAX_PHRASE_WORDS words. */
#define TEXT_MAX_TOKENS       1024
#define TEXT_MAX_WORD         48
#define TEXT_MAX_PHRASE_WORDS 8
/* With words in any order, a phrase of k words must fit in k + this many
 * consecutive words of one clause. */
#define TEXT_ANY_ORDER_SLACK 2
/* A negator denies a phrase at most this many words after it. */
#define TEXT_NEGATION_REACH 8

typedef struct text_matcher text_matcher;

/* True when libstemmer knows the language (canonical names such as
 * "english", and aliases such as "en"). */
bool text_language_known(const char *language);
/* libstemmer's canonical language names, NULL-terminated. */
const char **text_languages(void);

/* A matcher for one language; any_order lets a multi-word phrase match with
 * its words in any order close together. NULL when the language is unknown
 * or memory ran out. */
text_matcher *text_matcher_new(const char *language, bool any_order);
void text_matcher_free(text_matcher *m);

/* Why a phrase list could not be prepared. */
enum text_phrase_error {
    TEXT_PHRASE_OK,
    TEXT_PHRASE_NOMEM,
    TEXT_PHRASE_EMPTY,     /* the phrase has no words */
    TEXT_PHRASE_TOO_LONG,  /* more than TEXT_MAX_PHRASE_WORDS words */
    TEXT_PHRASE_LONG_WORD, /* a word longer than TEXT_MAX_WORD bytes */
};

/* Prepares a list of phrases (tokenised, folded and stemmed once) and sets
 * *list to its index. On failure nothing is kept of the list, *bad is the
 * index of the phrase at fault, and the error says why. Call
 * text_matcher_finish() once every list is added. */
enum text_phrase_error text_matcher_add(text_matcher *m, const char *const *phrases, uint32_t count,
                                        uint32_t *list, uint32_t *bad);
/* Builds the index from words to phrases; false when memory ran out. */
bool text_matcher_finish(text_matcher *m);

/* True when `text` mentions a phrase of the list: its words, folded and
 * stemmed, appear in one clause, in order and adjacent (or in any order
 * within a short window, when the matcher allows it), and no negation in
 * that clause denies them ("we have no plans to migrate"). Quoted lines of
 * a mail reply are not read. Never allocates. */
bool text_mentions(text_matcher *m, uint32_t list, str text);
/* After text_mentions() returned true: the phrase as written in its list,
 * and the sentence of the message it was found in (trimmed; it points into
 * that message). False, with both left empty, after a call that found
 * nothing. */
bool text_mentions_explain(const text_matcher *m, const char **phrase, str *sentence);

/* ---- questions ------------------------------------------------------------ */

/* The buyer's most recent explicit question in `text`: the last sentence
 * that ends in '?' or reads as a question ("How long does a rollout take",
 * "Is there an EU region", "I was wondering whether ..."), quoted lines
 * left out. Written to out (cap bytes, NUL-terminated) trimmed, with each
 * run of blanks and line breaks as one space, cut at a whole UTF-8
 * character when it does not fit; returns its length, 0 when there is no
 * question. */
size_t text_last_question(str text, char *out, size_t cap);

/* ---- replies ---------------------------------------------------------------- */

/* What a reply carries that tells a person from a machine: RFC 3834's
 * Auto-Submitted, the X-Autoreply / X-Autorespond headers, Precedence, the
 * sender's address, and the subject and body. Absent parts are empty. */
typedef struct reply_facts {
    str auto_submitted, x_autoreply, x_autorespond, precedence;
    str from; /* "ana@example.com" or "Ana <ana@example.com>" */
    str subject, body;
} reply_facts;

/* True for auto-responses: the headers above; mail-system senders
 * (mailer-daemon, postmaster, no-reply); out-of-office, vacation and leave
 * notices and delivery failures in English, German, French, Spanish and
 * Portuguese, judged from the subject's opening words and from the body's
 * own (unquoted) text. A body that only mentions an absence in passing
 * ("I was out of the office last week, let's talk Tuesday") is a person. */
bool text_reply_is_automatic(const reply_facts *f);

#endif
