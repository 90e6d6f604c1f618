/* gw_upstream — the gateway's one wrapper of libcurl: outbound HTTP calls to providers for
 * pulls and the relay (API.md §5 `source`, §8), and the `request_template` filler.
 *
 * Contract: gw_fetch makes one blocking call (with retries) using the curl easy interface, one
 * easy handle per call. Every call has a connect timeout, a total timeout and a response size
 * cap (all required); only http and https are spoken, also after a redirect; redirects are
 * followed only when asked; proxies from the environment are ignored. Errors map onto the
 * relay's statuses: LT_E_TIMEOUT 504, LT_E_UNAVAILABLE 503, LT_E_UPSTREAM 502, and
 * LT_E_INVALID for a request that cannot be made (bad URL, scheme, method or header value).
 * ei->detail names the provider's host and port, never its path, query or credentials.
 * Ownership: gw_fetch_res fields are new (gw_fetch_res_free releases them, whatever gw_fetch
 * returned); everything in gw_fetch_req is borrowed for the duration of the call.
 * gw_template_fill returns a new string (free()).
 * Thread safety: both are reentrant and may run on many threads at once; libcurl's global
 * initialisation happens once, inside the first gw_fetch.
 */
#ifndef GW_UPSTREAM_H
#define GW_UPSTREAM_H

#include <curl/curl.h>
#include <jansson.h>
#include <stddef.h>

#include "lt_config.h"
#include "lt_err.h"

typedef struct gw_fetch_auth {
    const char *type; /* none|basic|bearer|client_cert; NULL = none */
    const char *username, *password, *token, *cert_file, *key_file;
    const char *ca_file; /* any type: the CA that signed an https provider (else the system's) */
} gw_fetch_auth;

/* A service's source.auth made ready for calls: password_file and token_file read (first
 * line), cert_file, key_file and ca_file resolved against the config folder. `auth` points
 * into the owned strings. */
typedef struct gw_source_auth {
    gw_fetch_auth auth;
    char *type, *username, *password, *token, *cert, *key, *ca; /* owned */
} gw_source_auth;

/* Loads `auth` (a service's source.auth object, NULL = none) into *out (zeroed first).
 * LT_E_CONFIG naming the key when a secret file cannot be read. Release with
 * gw_source_auth_free even on error. */
lt_err gw_source_auth_load(const lt_config *cfg, const json_t *auth, gw_source_auth *out,
                           lt_errinfo *ei);
/* Frees the strings, secrets wiped first. */
void gw_source_auth_free(gw_source_auth *a);

typedef struct gw_fetch_req {
    const char *method; /* "GET" or "POST" */
    const char *url;    /* http:// or https:// */
    const char *body;   /* POST body (borrowed), body_len bytes */
    size_t body_len;
    const char *content_type;            /* of the POST body; NULL = none sent */
    const char *soap_action;             /* adds SOAPAction: "…" (SOAP 1.1) when set */
    long connect_timeout_ms, timeout_ms; /* both required > 0; timeout_ms is per attempt */
    size_t max_bytes;                    /* response cap, required > 0; over it → LT_E_UPSTREAM */
    int retries;     /* extra attempts on connect failure, timeout or 5xx/429 (at most 10) */
    long backoff_ms; /* first retry delay; doubles, with ±25 % jitter (capped at 30 s) */
    const char *if_none_match, *if_modified_since; /* conditional GET (ETag / Last-Modified) */
    gw_fetch_auth auth;
    int follow_redirects; /* 0 = off (the default); on: at most 5, http/https only */
} gw_fetch_req;

typedef struct gw_fetch_res {
    long status; /* last HTTP status; 0 = no answer */
    char *body;  /* new, NUL-terminated; NULL when none */
    size_t len;
    char *content_type, *etag, *last_modified; /* new or NULL */
    int not_modified;                          /* 304 */
    int attempts;
    long elapsed_ms; /* whole call, retries and back-off included */
} gw_fetch_res;

/* Blocking call on the calling thread (pull workers, the relay worker). res is zeroed first.
 * Errors:
 * LT_E_TIMEOUT (504) connect or total timeout, incl. a trickling upstream;
 * LT_E_UNAVAILABLE (503) refused/unresolvable/unreachable;
 * LT_E_UPSTREAM (502) over max_bytes (body dropped), a broken answer, or a non-2xx/304
 *   status (res keeps status and body);
 * LT_E_INVALID (422) malformed URL, a scheme other than http/https, bad method, auth type,
 *   timeouts or cap, or CR/LF in a header value;
 * LT_E_NOMEM, LT_E_INTERNAL.
 * ei->detail says what happened, naming host and port but never credentials. */
/* A kept connection for one thread's successive calls: libcurl reuses its open connections
 * to the same providers (HTTP keep-alive) instead of connecting anew each time. New with
 * gw_fetch_conn_new (NULL when out of memory), free with gw_fetch_conn_free; used by one
 * thread at a time. gw_fetch_on(NULL, …) is gw_fetch. */
typedef struct gw_fetch_conn gw_fetch_conn;
gw_fetch_conn *gw_fetch_conn_new(void);
void gw_fetch_conn_free(gw_fetch_conn *c);
lt_err gw_fetch_on(gw_fetch_conn *c, const gw_fetch_req *req, gw_fetch_res *res,
                   lt_errinfo *ei);
lt_err gw_fetch(const gw_fetch_req *req, gw_fetch_res *res, lt_errinfo *ei);
/* One attempt split in two, for a caller that runs the transfer itself (the relay's libcurl
 * multi loop). gw_fetch_prepare checks req like gw_fetch (same LT_E_INVALID cases), resets h
 * (borrowed: an easy handle the caller owns, not on a multi handle yet; its connections are
 * kept) and sets every option gw_fetch would; *out is new and set only on LT_OK. The caller
 * then runs h (curl_multi_add_handle) and, when the transfer is done, passes its CURLcode to
 * gw_fetch_finish, which fills res and ei exactly as gw_fetch would for one attempt (same
 * error mapping; res zeroed first) and frees prep; h stays the caller's and may be reused.
 * gw_fetch_prep_free drops a prep whose transfer was aborted (remove h from the multi handle
 * first). req->retries and back-off are not applied: one attempt. req and everything it
 * points to stay borrowed until gw_fetch_finish or gw_fetch_prep_free. A prep and its h are
 * used by one thread at a time. gw_fetch_init runs libcurl's global initialisation (once,
 * thread-safe); call it before creating handles of your own. */
typedef struct gw_fetch_prep gw_fetch_prep;
void gw_fetch_init(void);
lt_err gw_fetch_prepare(CURL *h, const gw_fetch_req *req, gw_fetch_prep **out,
                        lt_errinfo *ei);
lt_err gw_fetch_finish(gw_fetch_prep *prep, CURLcode rc, gw_fetch_res *res, lt_errinfo *ei);
void gw_fetch_prep_free(gw_fetch_prep *prep);
/* Frees the fields and zeroes res; safe on a zeroed or already freed result. */
void gw_fetch_res_free(gw_fetch_res *res);

/* {{name}} placeholders filled from params (a JSON object of strings/numbers/booleans; NULL
 * = no parameters), escaped for XML (& < > " ') or URL (RFC 3986 percent-encoding: all but
 * A-Z a-z 0-9 - . _ ~) by `escape`. Errors, all LT_E_INVALID: unknown names ("unknown
 * template parameter 'x'"); "{{" without "}}"; a bad name (names are [A-Za-z_][A-Za-z0-9_]*,
 * blanks inside the braces allowed); a value that is null, an array or an object; with XML,
 * a string holding a control character XML 1.0 cannot carry. LT_E_TOO_LARGE when the result
 * would pass LT_MAX_BODY_BYTES_DEFAULT. Text outside placeholders is copied as is.
 * *out is new (free()), set only on LT_OK. */
typedef enum gw_escape { GW_ESC_XML, GW_ESC_URL } gw_escape;
lt_err gw_template_fill(const char *tmpl, const json_t *params, gw_escape escape, char **out,
                        lt_errinfo *ei);

#endif
