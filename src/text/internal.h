/* Private to src/text/: characters, case and accents, and the lines of a
 * message that are the buyer's own (not quoted). Nothing outside this
 * folder includes it. */
#ifndef BATON_TEXT_INTERNAL_H
#define BATON_TEXT_INTERNAL_H

#include "text/text.h"

/* What a character does in running text. */
enum char_class {
    CH_SPACE,    /* blanks, and a single line break (mail wraps lines) */
    CH_NEWLINE,  /* '\n' and U+2028: two in a row end a sentence */
    CH_WORD,     /* letters and digits of any script */
    CH_APOS,     /* ' and ’: inside a word it belongs to it ("don't") */
    CH_CLAUSE,   /* , ; : ( ) quotes dashes … ¿ ¡: ends a clause */
    CH_SENTENCE, /* . ! ?: ends a sentence ('.' only before a blank) */
    CH_SEP,      /* any other mark: separates words, ends nothing */
};

/* Decodes the UTF-8 character at s[0] (n > 0 bytes left): its code point,
 * and its length in *len. A byte that starts no valid character reads as
 * U+FFFD of length 1. */
uint32_t utf8_decode(const char *s, size_t n, size_t *len);
/* Encodes a code point; returns its length (1 to 4). */
size_t utf8_encode(uint32_t cp, char *out);

enum char_class char_class_of(uint32_t cp);
/* An ASCII letter or digit: the common case, tested without a call. */
static inline bool ascii_word_byte(unsigned char c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u;
}
/* The lower-case form of a letter: ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic; anything else is returned as it is. */
uint32_t char_lower(uint32_t cp);
/* The ASCII spelling of a lower-case Latin-1 or Latin Extended-A letter
 * ("e" for é, "ss" for ß, "oe" for œ), or NULL when it has none. */
const char *char_ascii(uint32_t cp);

/* Writes the folded form of s (lower case, accents removed where an ASCII
 * spelling exists, ’ as ') into out (cap bytes, NUL-terminated). Returns
 * the length, or cap when it did not fit. */
size_t fold_word(const char *s, size_t n, char *out, size_t cap);
/* As fold_word, lower case only: accents are kept. */
size_t lower_word(const char *s, size_t n, char *out, size_t cap);

/* Lines of a message. A mail reply quotes what it answers: lines opening
 * with '>' are quoted, and a line such as "On Mon, Sam wrote:" or
 * "-----Original Message-----" starts the quoted rest. */
enum line_kind { LINE_OWN, LINE_QUOTED, LINE_REST_QUOTED };
/* The kind of the line starting at s[at]; *end is set to the offset of its
 * '\n' (or n). */
enum line_kind line_kind_at(const char *s, size_t n, size_t at, size_t *end);

#endif
