/* lt_buf — a growing byte buffer for building responses and keys without many small
 * allocations.
 *
 * Contract: appends never fail loudly; on out-of-memory or past `max` the buffer sets `err`
 * (LT_E_NOMEM / LT_E_TOO_LARGE) and ignores further appends, so a builder checks once at the
 * end. data is always NUL-terminated when len > 0 or after lt_buf_cstr.
 * Ownership: the buffer owns data (malloc); lt_buf_free releases it, lt_buf_detach hands it to
 * the caller (free with free()). Thread safety: none; one buffer per thread.
 */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "lt_err.h"

typedef struct lt_buf {
    char *data;
    size_t len, cap, max; /* max 0 = unbounded */
    lt_err err;
} lt_buf;

void lt_buf_init(lt_buf *b, size_t max);
void lt_buf_free(lt_buf *b);
void lt_buf_reset(lt_buf *b); /* len = 0, err cleared, memory kept */
char *lt_buf_detach(lt_buf *b, size_t *len);
void lt_buf_append(lt_buf *b, const void *p, size_t n);
void lt_buf_puts(lt_buf *b, const char *s);
void lt_buf_putc(lt_buf *b, char c);
void lt_buf_printf(lt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes and escapes). */
void lt_buf_json_str(lt_buf *b, const char *s, size_t n);
/* Appends a big-endian 64-bit integer (sortable binary keys). */
void lt_buf_be64(lt_buf *b, uint64_t v);
/* Returns data NUL-terminated ("" when empty); NULL only if err is set. */
const char *lt_buf_cstr(lt_buf *b);

#endif
