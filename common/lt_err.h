/* lt_err — the one error type of lienthong.
 *
 * Contract: every fallible function returns lt_err (LT_OK == 0) and, when given one, fills an
 * lt_errinfo with human detail and per-record/per-field errors. The enum only grows: new codes
 * go at the end and a code is never reused. One table (lt_err.c) maps each code to its HTTP
 * status, stable problem `code` and title; tests/unit/common/test_lt_err.c checks that table
 * against docs/errors.md.
 * Ownership: lt_errinfo owns `errors` (a jansson array, new reference); lt_errinfo_clear frees it.
 * Thread safety: the functions are reentrant; an lt_errinfo belongs to one thread.
 */
#ifndef LT_ERR_H
#define LT_ERR_H

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>

typedef enum lt_err {
    LT_OK = 0,
    LT_E_NOMEM,          /* 500 out of memory */
    LT_E_INTERNAL,       /* 500 a bug or an unexpected library failure */
    LT_E_BAD_REQUEST,    /* 400 malformed request (query, path, header) */
    LT_E_BAD_JSON,       /* 400 body is not well-formed JSON (or nested too deep) */
    LT_E_BAD_UTF8,       /* 400 body or parameter is not valid UTF-8 */
    LT_E_UNAUTHORIZED,   /* 401 missing, malformed or unverifiable token */
    LT_E_TOKEN_EXPIRED,  /* 401 token past exp or before nbf */
    LT_E_FORBIDDEN,      /* 403 authenticated but not allowed */
    LT_E_NOT_FOUND,      /* 404 unknown resource */
    LT_E_METHOD,         /* 405 method not allowed on this path */
    LT_E_CONFLICT,       /* 409 duplicate id or state conflict */
    LT_E_TOO_LARGE,      /* 413 body (or a request arena) over its limit */
    LT_E_MEDIA_TYPE,     /* 415 unsupported content type */
    LT_E_VALIDATION,     /* 422 records failed contract validation */
    LT_E_INVALID,        /* 422 a definition or parameter is semantically invalid */
    LT_E_QUOTA,          /* 429 quota exceeded */
    LT_E_UPSTREAM,       /* 502 provider answered badly */
    LT_E_UNAVAILABLE,    /* 503 provider or service unavailable */
    LT_E_TIMEOUT,        /* 504 provider timed out */
    LT_E_STORAGE,        /* 500 warehouse (LMDB) failure */
    LT_E_CONFIG,         /* 500 configuration error (CLI: exit 1) */
    LT_E_IO,             /* 500 file I/O error */
    LT_E_NOT_ACCEPTABLE, /* 406 cannot produce the Accept'ed type */
    LT_E_STORAGE_FULL,   /* 507 warehouse map full */
    LT_E_URI_TOO_LONG,   /* 414 path and query longer than LT_MAX_URL_LEN */
    LT_E__COUNT          /* not a code: keep last */
} lt_err;

/* Static text for a code; never NULL. */
const char *lt_strerror(lt_err e);
/* HTTP status for a code (500 for unknown). */
int lt_err_status(lt_err e);
/* Stable snake_case problem code ("validation_failed"); never NULL. */
const char *lt_err_code(lt_err e);
/* Problem title ("Validation failed"); never NULL. */
const char *lt_err_title(lt_err e);

#define LT_DETAIL_MAX 512

typedef struct lt_errinfo {
    lt_err code;
    char detail[LT_DETAIL_MAX];
    json_t *errors;  /* NULL or array of {"record"?, "field"?, "message"}; owned */
    int retry_after; /* seconds for 429/503, 0 = none */
} lt_errinfo;

/* Sets code and printf-style detail; returns code so callers can `return lt_fail(...)`.
 * ei may be NULL. */
lt_err lt_fail(lt_errinfo *ei, lt_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
lt_err lt_vfail(lt_errinfo *ei, lt_err code, const char *fmt, va_list ap);
/* Appends one entry to ei->errors. record < 0 and field == NULL omit those keys. */
void lt_errinfo_add(lt_errinfo *ei, long record, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Frees errors and resets to LT_OK. Safe on a zeroed struct. */
void lt_errinfo_clear(lt_errinfo *ei);

#endif
