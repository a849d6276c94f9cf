/* text: reading the buyer's words — the question they asked, and whether a
 * reply came from a person or from an auto-responder (R3, R9).
 *
 * Pure functions over borrowed bytes; nothing is allocated or kept. */
#ifndef BATON_TEXT_H
#define BATON_TEXT_H

#include "util/util.h"

/* The last sentence of `text` that ends in '?', trimmed; an empty str when
 * there is none. Points into `text`. */
str text_last_question(str text);

/* What a reply carries that tells a person from a machine: RFC 3834's
 * Auto-Submitted, the X-Autoreply / X-Autorespond headers, Precedence, and
 * the subject and body. Absent parts are empty. */
typedef struct reply_facts {
    str auto_submitted, x_autoreply, x_autorespond, precedence;
    str subject, body;
} reply_facts;

/* True for auto-responses: out-of-office and vacation notices (English,
 * German, French, Spanish, Portuguese), delivery failures, bulk mail. */
bool text_reply_is_automatic(const reply_facts *f);

#endif
