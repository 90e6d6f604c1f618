/* lt_str — small string, number and time utilities (checked parsing, UTF-8, RFC 3339, ids).
 *
 * Contract: parsers take the whole string and fail on trailing junk, overflow or empty input
 * (return -1, output untouched); they never read past len. Formatting functions write into
 * caller buffers and always NUL-terminate. Pure functions: thread-safe.
 */
#ifndef LT_STR_H
#define LT_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool lt_utf8_valid(const char *s, size_t n);
/* Decimal integer, optional leading '-', whole string. */
int lt_parse_i64(const char *s, size_t n, int64_t *out);
/* Finite decimal number (strtod syntax without hex/inf/nan), whole string. */
int lt_parse_double(const char *s, size_t n, double *out);
/* Equality helpers. */
bool lt_streq(const char *a, const char *b);
bool lt_strneq_lit(const char *s, size_t n, const char *lit); /* s[0..n) == lit */
/* strlcpy semantics: copies at most size-1 bytes, NUL-terminates, returns strlen(src). */
size_t lt_strlcpy(char *dst, const char *src, size_t size);

/* Microseconds since the Unix epoch, wall clock. */
int64_t lt_now_us(void);
/* Monotonic microseconds (for durations). */
int64_t lt_mono_us(void);
/* "2026-11-22T05:00:00Z" or with ".123456Z" when frac; out needs 32 bytes. */
void lt_time_format(int64_t us, bool frac, char out[32]);
/* RFC 3339 date-time ("2026-11-22T05:00:00Z", "…+07:00", fractions) → µs since epoch. */
int lt_time_parse(const char *s, size_t n, int64_t *us);
/* Days since 1970-01-01 for a proleptic Gregorian date; and back. */
int64_t lt_days_from_civil(int64_t y, unsigned m, unsigned d);
void lt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
/* "YYYY-MM-DD" → days since epoch; -1 on a bad or impossible date. */
int lt_date_parse(const char *s, size_t n, int64_t *days);

/* Tunes glibc malloc for large payloads, once at process start before threads: grow heaps in
 * big steps and keep freed memory for the next request (measured: a third of a 100,000-record
 * push went to mprotect and page faults of growing thread heaps). */
void lt_tune_malloc(void);

/* Random hex id with a prefix: "q-" + 24 hex → out (needs strlen(prefix)+25 bytes). */
void lt_random_id(const char *prefix, char *out, size_t size);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void lt_hex(const unsigned char *p, size_t n, char *out);
/* Parses 2n hex chars into p; -1 on bad input. */
int lt_unhex(const char *s, size_t slen, unsigned char *p, size_t n);

#endif
