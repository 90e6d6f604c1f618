/* lt_json — jansson helpers shared by every module: safe loading, strict key checks,
 * typed getters and source positions for error messages.
 *
 * Contract: lt_json_load rejects invalid UTF-8 (LT_E_BAD_UTF8), malformed JSON and nesting
 * deeper than LT_MAX_JSON_DEPTH (LT_E_BAD_JSON) with a "line L col C" detail, before any
 * caller sees the value. Getters return borrowed pointers valid while the object lives.
 * Thread safety: pure functions on caller-owned values.
 */
#ifndef LT_JSON_H
#define LT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "lt_err.h"

/* Parses text; returns a new reference (json_decref) or NULL with ei filled. Decodes any
 * JSON value (JSON_DECODE_ANY) and rejects duplicate keys (JSON_REJECT_DUPLICATES). */
json_t *lt_json_load(const char *text, size_t len, lt_errinfo *ei);
/* Reads and parses a file; detail is "PATH:LINE:COL: message". New reference. */
json_t *lt_json_load_file(const char *path, lt_errinfo *ei);
/* Maximum nesting depth of text (brackets outside strings), counting until limit+1. */
size_t lt_json_depth(const char *text, size_t len, size_t limit);

/* Fails with LT_E_INVALID "WHERE: unknown field 'k'" if obj has a key not in allowed
 * (NULL-terminated). Also fails if obj is not an object. */
lt_err lt_json_check_keys(const json_t *obj, const char *const *allowed, const char *where,
                          lt_errinfo *ei);
/* Borrowed string of obj[key]; NULL when absent or not a string. */
const char *lt_json_str(const json_t *obj, const char *key);
/* Like lt_json_str but "" instead of NULL. */
const char *lt_json_str_or(const json_t *obj, const char *key);
/* Required string: fails LT_E_INVALID "WHERE: 'key' is required (a string)". */
lt_err lt_json_req_str(const json_t *obj, const char *key, const char *where, const char **out,
                       lt_errinfo *ei);

/* Finds where a value sits in the source text: path is a list of object keys and array
 * indexes written as decimal strings; the position returned is that of the final key (for
 * object members) or value (for array elements). Returns 0 and 1-based line/col, or -1. */
int lt_json_locate(const char *text, size_t len, const char *const *path, size_t npath,
                   int *line, int *col);

/* Serialises compactly with sorted keys (the canonical form used for comparing records).
 * Returns malloc'd text (free()) or NULL. */
char *lt_json_canonical(const json_t *v, size_t *len);

#endif
