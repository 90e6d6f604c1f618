/* gw_int — gateway internals shared by its files; never included from outside gateway/. */
#ifndef GW_INT_H
#define GW_INT_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gw.h"
#include "gw_auth.h"
#include "lt_arena.h"
#include "lt_buf.h"
#include "rg_sharing.h"

#define GW_VERSION "0.1.0"
#define GW_MEDIA_JSON "application/json"
#define GW_MEDIA_PROBLEM "application/problem+json"
#define GW_MEDIA_ENVELOPE "application/vnd.lienthong.exchange+json"
#define GW_MAX_SEGS 8
#define GW_MAX_ROUTES 96

typedef struct gw_metrics gw_metrics;
typedef struct gw_relay gw_relay;

struct gw_ctx {
    const lt_config *cfg;
    wh_env *wh;
    rg_registry *rg;
    gw_auth *auth;
    gw_metrics *metrics;
    int64_t started_us;
    atomic_llong health_checked_us; /* last writability probe (monotonic µs) */
    atomic_int health_err;          /* its result: an lt_err */
    struct gw_pulls *pulls;         /* pull scheduler and workers (gw_pull.c); NULL unless serving */
    gw_relay *relay; /* the relay's worker pool: set by gw_server_start, owned by the server */
    struct gw_cache *cache;       /* rendered observation answers (gw_cache.h), owned */
    atomic_uint_fast64_t writes;  /* successful write exchanges so far: a cache generation */
};

/* gw_tls.c: the caller's client certificate, read once per request (mutual TLS). */
typedef enum gw_peer_state {
    GW_PEER_NONE, /* none sent (or no TLS, or no tls.client_ca_file) */
    GW_PEER_BAD,  /* sent but refused: why says the reason (never the certificate) */
    GW_PEER_OK    /* verified, and its CN is a registered system */
} gw_peer_state;

typedef struct gw_peer {
    gw_peer_state state;
    const char *why;   /* GW_PEER_BAD: static text for the 401 detail */
    char cn[128];      /* GW_PEER_OK: the subject CN, a registered system id */
    char org[64];      /* GW_PEER_OK: that system's agency */
    int64_t not_after; /* GW_PEER_OK: the certificate's end of validity, seconds */
} gw_peer;

typedef struct gw_req gw_req;
typedef void (*gw_handler)(gw_req *r);

/* Route flags: who may call (roles), and whether it is an exchange for the audit trail. */
enum { GW_PUBLIC = 1u << 0, GW_AUDIT = 1u << 1 };

typedef struct gw_route {
    const char *method;
    const char *pattern; /* "/v1/services/{}/records" ({} = one segment) */
    gw_handler fn;
    unsigned roles;      /* GW_ROLE_* allowed; 0 with GW_PUBLIC = no token needed */
    unsigned flags;
    const char *op;      /* operation name for audit and metrics ("records.read") */
} gw_route;

struct gw_req {
    gw_ctx *ctx;
    struct MHD_Connection *conn;
    lt_arena *arena;
    const char *method, *path;
    const char *segs[GW_MAX_SEGS]; /* decoded path segments (arena) */
    int nsegs;
    const gw_route *route;
    int route_index;
    char allow[48];      /* methods the path takes, for a 405's Allow header */
    gw_principal who;
    bool authed;
    gw_peer peer;   /* the client certificate (gw_tls_peer), read when peer_read */
    bool peer_read;
    bool by_cert;   /* who comes from the client certificate alone (no token) */
    char request_id[72];
    /* body */
    lt_buf body;
    bool too_large;
    uint64_t discarded; /* bytes of an over-limit body dropped so far */
    bool accounted;     /* metrics and audit written (gw_account) */
    /* response */
    int status;
    const char *content_type;
    lt_buf out;
    int retry_after;
    const char *location;
    const rg_grant *grant; /* the grant a READ goes through; NULL = full access */
    struct gw_cached *shared; /* a cached answer sent as the body (a counted reference) */
    const rg_service *svc;    /* the service gw_load_service loaded (arena-held), or NULL */
    /* Set by gw_req_suspend: a worker thread owns the request until gw_req_resume, and the
     * reply (status, out) is sent on the call that follows the resume. */
    bool suspended;
    /* audit */
    const char *service;  /* arena or borrowed static */
    const char *object;   /* the request or grant id acted on, for the audit entry */
    size_t records;
    int64_t start_us;
    lt_errinfo ei;
};

/* gw_http.c: splits r->path into r->segs (arena copies): UTF-8 and control characters
 * checked, one trailing slash ignored, empty or too many segments are LT_E_NOT_FOUND. */
lt_err gw_path_split(gw_req *r);

/* gw_http.c: suspend/resume for work done off the HTTP threads (the relay). Suspend only
 * from a handler, before another thread may touch r; after gw_req_resume the worker must not
 * touch r again (it may be freed at once). */
void gw_req_suspend(gw_req *r);
void gw_req_resume(gw_req *r);

/* gw_relay.c: the relay's libcurl multi loop (one thread drives every upstream call; the HTTP
 * connection stays suspended meanwhile). gw_relay_stop aborts the transfers in flight, answers
 * every queued or in-flight call 503, resumes it and joins the loop thread; gw_relay_free
 * releases the rest once the HTTP daemon is stopped. */
lt_err gw_relay_start(gw_ctx *ctx, gw_relay **out, lt_errinfo *ei);
void gw_relay_stop(gw_relay *p);
void gw_relay_free(gw_relay *p);

/* gw_tls.c: HTTPS material and mutual TLS (the only caller of GnuTLS).
 * gw_tls_files_load reads the PEM files of t into *out (new buffers; release with
 * gw_tls_files_free, which wipes the key) and checks them with GnuTLS: the key must be the
 * certificate's, the CA bundle must hold a certificate. LT_E_CONFIG naming the tls key. */
typedef struct gw_tls_files {
    char *cert, *key, *ca; /* NUL-terminated PEM text; ca NULL without client_ca_file */
    size_t cert_len, key_len, ca_len;
} gw_tls_files;
lt_err gw_tls_files_load(const lt_tls_conf *t, gw_tls_files *out, lt_errinfo *ei);
void gw_tls_files_free(gw_tls_files *m);
/* Reads the peer of a GnuTLS session (gnutls_session_t; NULL = none) at now (seconds): the
 * certificate must verify against the trusted CA bundle for TLS client use and be within its
 * validity period, its subject must hold exactly one CN, and that CN must be a registered
 * system (rg_system_agency). Fills *p; never fails. Thread safety: one session per thread. */
void gw_tls_peer(void *session, rg_registry *rg, int64_t now, gw_peer *p);
/* The rules, free of I/O. gw_tls_gate (tls.require_client_cert): LT_E_UNAUTHORIZED unless the
 * peer is GW_PEER_OK. gw_tls_caller, before the token on a route that needs a caller:
 * LT_E_UNAUTHORIZED for a refused certificate; with a verified one and no token, *who becomes
 * that system (sub = CN, org = its agency, roles = agency) and *adopted is set. gw_tls_match,
 * after the token verified: LT_E_FORBIDDEN when a verified certificate names another system
 * than the token's sub (admin tokens included). */
lt_err gw_tls_gate(const gw_peer *p, bool require, lt_errinfo *ei);
lt_err gw_tls_caller(const gw_peer *p, bool has_token, gw_principal *who, bool *adopted,
                     lt_errinfo *ei);
lt_err gw_tls_match(const gw_peer *p, const gw_principal *who, lt_errinfo *ei);

/* gw_http.c: records metrics, the audit entry and the log line of r, once. */
void gw_account(gw_req *r);

/* gw_router.c */
const gw_route *gw_route_match(const char *method, gw_req *r, int *index, bool *path_known);
int gw_route_count(void);
const gw_route *gw_route_at(int i);

/* gw_respond.c: responses */
void gw_reply_json(gw_req *r, int status, json_t *body); /* steals body */
void gw_reply_raw(gw_req *r, int status, const char *ctype, const char *text, size_t len);
/* problem+json from r->ei (code, detail, errors, retry_after). Returns nothing. */
void gw_reply_error(gw_req *r);
void gw_fail(gw_req *r, lt_err code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* {"items": items, "next_cursor": next|null}; steals items. */
void gw_reply_list(gw_req *r, json_t *items, const char *next);

/* gw_request.c: request helpers */
const char *gw_query(gw_req *r, const char *name);  /* borrowed, NULL when absent */
const char *gw_header(gw_req *r, const char *name); /* borrowed, NULL when absent */
/* Parses the body as JSON (content type must be JSON). NULL after replying with an error. */
json_t *gw_body_json(gw_req *r);
/* limit/cursor query parameters with defaults; false after replying 400. */
bool gw_paging(gw_req *r, size_t *limit, const char **cursor);
bool gw_is_admin(const gw_req *r);
/* Media type of the request without parameters, lowercased into the arena ("" if none). */
const char *gw_content_type(gw_req *r);

/* gw_access.c: the one check every data path passes. On READ through a grant it sets r->grant
 * (arena-owned reference) and counts the quota; false after replying 403/429/503. */
typedef enum gw_op { GW_OP_READ, GW_OP_WRITE, GW_OP_MANAGE } gw_op;
bool gw_access_service(gw_req *r, const rg_service *svc, gw_op op);
/* Why a consumer cannot read the service now (NULL: it can): a planned maintenance window
 * (Decree 47 Art. 43; *retry_s = seconds to its end) or a suspension. The text goes in why. */
const char *gw_service_unavailable(const rg_service *svc, int64_t now, char *why, size_t size,
                                   int *retry_s);
/* True when g is NULL (full access) or grants field (field[0..len)). */
bool gw_grant_allows(const rg_grant *g, const char *field, size_t len);
/* Appends the JSON strings (comma-separated, no brackets) of the contract's fields outside g. */
void gw_restricted_fields(const rg_grant *g, const ct_contract *c, lt_buf *out);
/* Appends a stored record's canonical JSON keeping only the fields g allows (all when NULL). */
void gw_project(const rg_grant *g, const char *data, size_t n, lt_buf *out);

/* gw_metrics.c */
lt_err gw_metrics_new(gw_metrics **out);
void gw_metrics_free(gw_metrics *m);
void gw_metrics_request(gw_metrics *m, int route, int status, int64_t dur_us);
void gw_metrics_ingest(gw_metrics *m, size_t accepted, size_t unchanged, size_t rejected);
void gw_metrics_render(gw_ctx *ctx, lt_buf *out);

/* handlers */
void gw_h_healthz(gw_req *r);
void gw_h_metrics(gw_req *r);
void gw_h_audit_list(gw_req *r);
void gw_h_audit_verify(gw_req *r);
void gw_h_agency_create(gw_req *r);
void gw_h_agency_list(gw_req *r);
void gw_h_agency_get(gw_req *r);
void gw_h_codelist_list(gw_req *r);
void gw_h_codelist_get(gw_req *r);
void gw_h_codelist_put(gw_req *r);
void gw_h_contract_list(gw_req *r);
void gw_h_contract_get(gw_req *r);
void gw_h_contract_create(gw_req *r);
void gw_h_service_create(gw_req *r);
void gw_h_service_get(gw_req *r);
void gw_h_service_put(gw_req *r);
void gw_h_service_status(gw_req *r);
void gw_h_catalog(gw_req *r);
void gw_h_records_push(gw_req *r);
void gw_h_records_list(gw_req *r);
void gw_h_record_get(gw_req *r);
void gw_h_quarantine_list(gw_req *r);
void gw_h_quarantine_retry(gw_req *r);
void gw_h_indicator_list(gw_req *r);
void gw_h_system_create(gw_req *r);
void gw_h_system_list(gw_req *r);
void gw_h_system_get(gw_req *r);
void gw_h_request_create(gw_req *r);
void gw_h_request_list(gw_req *r);
void gw_h_request_get(gw_req *r);
void gw_h_request_decide(gw_req *r);
void gw_h_request_amend(gw_req *r);
void gw_h_grant_create(gw_req *r);
void gw_h_grant_list(gw_req *r);
void gw_h_grant_get(gw_req *r);
void gw_h_grant_state(gw_req *r);
/* issue 4: pulls (gw_pull.c), relay (gw_relay.c), SOAP facade (gw_h_soap.c) */
void gw_h_pull_now(gw_req *r);
void gw_h_pull_list(gw_req *r);
void gw_h_relay(gw_req *r);
void gw_h_wsdl(gw_req *r);
void gw_h_soap(gw_req *r);
void gw_h_indicator_get(gw_req *r);
void gw_h_indicator_put(gw_req *r);
void gw_h_audit_export(gw_req *r);    /* gw_h_ops.c */

/* gw_audit_mask.c: bodies in the audit entries of "audit": "full" services. The names whose
 * values are personal in the service's payloads (its contract's personal fields and the
 * sources its mapping reads them from): a new array of strings. */
json_t *gw_personal_names(const rg_service *svc);
/* Appends text as a JSON string with the listed names' values as *** (JSON members, XML
 * elements by local name, CSV columns), cut at max bytes with a note. */
void gw_audit_body(lt_buf *out, const char *text, size_t len, const json_t *names, size_t max);   /* gw_h_registry.c */
void gw_h_observations(gw_req *r);    /* gw_h_obs.c */
void gw_h_alerts(gw_req *r);          /* gw_h_obs.c */
void gw_h_sdmx_data(gw_req *r);       /* gw_sdmx.c */
void gw_h_sdmx_structure(gw_req *r);  /* gw_sdmx.c: dataflow | datastructure | codelist */

/* GET of a list of registry documents of one kind (paged), and of one by path segment 2. */
void gw_list_kind(gw_req *r, wh_kind kind);
void gw_get_kind(gw_req *r, wh_kind kind, const char *what);

/* Loads the service named by path segment `seg`; NULL after replying 404. Release with
 * rg_service_release (done automatically: the arena owns the reference). */
rg_service *gw_load_service(gw_req *r, int seg);

#endif
