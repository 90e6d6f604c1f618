/* ct_int — internals shared by the contracts module's files; never included from outside. */
#ifndef CT_INT_H
#define CT_INT_H

#include <stdbool.h>
#include <stddef.h>

/* Identifier of a contract or code list: [a-z0-9][a-z0-9._-]{0,127}. */
bool ct_id_valid(const char *s);
/* Number of UTF-8 characters in s[0..n) (counts non-continuation bytes). */
size_t ct_utf8_chars(const char *s, size_t n);
/* Copies s into out (size > 4) for quoting in a message: at most size-1 bytes, cut on a
 * character boundary with "..." appended when cut, so the result stays valid UTF-8. */
void ct_quote_text(const char *s, size_t n, char *out, size_t size);

#endif
