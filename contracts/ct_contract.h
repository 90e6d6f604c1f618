/* ct_contract — contract definitions (the standardized exchange structure, "cấu trúc dữ liệu
 * trao đổi") compiled into validators, plus code-list and exchange-envelope checks.
 *
 * Definition format: API.md §5. Field types string, integer, number, boolean, date (YYYY-MM-DD),
 * datetime (RFC 3339), period (ct_period), code (value in a code list), enum (value in
 * `values`). Options required, nullable, min, max (numbers: value; strings: not used), max_length
 * (strings/codes, in characters), pattern (POSIX ERE, whole-value match), personal.
 * Unknown keys anywhere in a definition are an LT_E_INVALID error naming the key.
 *
 * Ownership: ct_contract_parse returns a new contract (free with ct_contract_free); the
 * contract keeps its own copy of the definition. ct_validate returns a new normalized record.
 * Thread safety: a compiled contract is immutable and may be shared by threads.
 */
#ifndef CT_CONTRACT_H
#define CT_CONTRACT_H

#include <jansson.h>
#include <regex.h>
#include <stdbool.h>

#include "lt_buf.h"
#include "lt_err.h"

typedef enum ct_type {
    CT_STRING, CT_INTEGER, CT_NUMBER, CT_BOOLEAN, CT_DATE, CT_DATETIME, CT_PERIOD, CT_CODE, CT_ENUM
} ct_type;

typedef struct ct_field {
    char *name;
    ct_type type;
    bool required, nullable, personal;
    bool has_min, has_max;
    double min, max;
    long max_length;  /* -1 = none */
    bool has_pattern;
    regex_t pattern;  /* compiled REG_EXTENDED|REG_NOSUB, anchored ^(...)$ */
    char *codelist;   /* CT_CODE */
    char **values;    /* CT_ENUM */
    size_t nvalues;
} ct_field;

typedef struct ct_contract {
    char *id;
    int version;
    char *title;
    char *ref;          /* "id@version" */
    ct_field *fields;
    size_t nfields;
    size_t *key;        /* indexes into fields, in key order */
    size_t nkey;
    json_t *def;        /* the definition as given (owned) */
} ct_contract;

/* Compiles a definition. Checks: id ([a-z0-9][a-z0-9._-]*, <= 128), version >= 1, title,
 * key non-empty and naming required fields, unique field names, known types, codelist for code,
 * non-empty values for enum, valid patterns, min <= max. */
lt_err ct_contract_parse(const json_t *def, ct_contract **out, lt_errinfo *ei);
void ct_contract_free(ct_contract *c);
/* Borrowed field by name, or NULL. */
const ct_field *ct_contract_field(const ct_contract *c, const char *name);
/* Splits "id@version"; returns 0 / -1. id is copied into idbuf. */
int ct_ref_parse(const char *ref, char *idbuf, size_t idsize, int *version);

/* Code-list membership test supplied by the registry. */
typedef bool (*ct_code_fn)(void *ctx, const char *codelist, const char *code);

/* Validates one record (must be an object). On success *out is a new normalized object:
 * periods and dates in canonical form, integers as JSON integers, absent optional fields left
 * absent, explicit nulls kept only for nullable fields. On failure returns LT_E_VALIDATION and
 * appends one entry per problem to ei->errors as {"record": index, "field", "message"}
 * (messages quote the offending value, except for personal fields). Unknown fields fail.
 * Key fields must not contain '~' (the key separator) or control characters. */
lt_err ct_validate(const ct_contract *c, const json_t *rec, long index, ct_code_fn codes,
                   void *codes_ctx, json_t **out, lt_errinfo *ei);

/* The record's key: key field values (as text) joined by '~' into out. -1 if too long. */
int ct_record_key(const ct_contract *c, const json_t *rec, char *out, size_t size);

/* Writes the record's canonical JSON text into out: compact, members in the contract's field
 * order (absent fields omitted), numbers as jansson writes them with 17 significant digits.
 * The warehouse stores this text and compares it byte for byte to detect unchanged records,
 * so it must stay stable. Returns 0, or -1 when out overflowed (out->err set). */
int ct_record_write(const ct_contract *c, const json_t *rec, lt_buf *out);

/* Checks a code list document {id, title, codes: [{code, name, parent?}]}: strict keys,
 * non-empty unique codes (<= 64 chars), parents that exist in the list. id must equal
 * expect_id when that is not NULL. */
lt_err ct_codelist_check(const json_t *doc, const char *expect_id, lt_errinfo *ei);

/* Checks an exchange envelope {header: {message_id?, service?, provider?, contract?,
 * produced_at?}, records: [...], restricted_fields?, next_cursor?}: strict keys; header.service
 * and header.contract, when present, must equal the given ones. *records is borrowed. */
lt_err ct_envelope_check(const json_t *env, const char *service, const char *contract_ref,
                         const json_t **records, lt_errinfo *ei);

#endif
