/* gw — the gateway: the HTTP server and everything a request flows through
 * (DESIGN.md "The way a request flows"), plus the ingest pipeline shared with `lienthong import`.
 *
 * Contract: gw_ctx_open opens the warehouse, the registry (running bootstrap) and the
 * authenticator from an immutable config; gw_server_start serves HTTP (HTTPS with the config's
 * `tls`, client certificates naming registered systems) on a libmicrohttpd epoll thread pool
 * until gw_server_stop, which lets in-flight requests finish.
 * Ownership: gw_ctx_open returns a new context (gw_ctx_close); it borrows cfg, which must
 * outlive it. gw_server_start returns a new server (gw_server_stop frees it).
 * Thread safety: one context serves all worker threads; it holds no per-request state.
 */
#ifndef GW_H
#define GW_H

#include <jansson.h>
#include <stdbool.h>

#include "lt_config.h"
#include "lt_err.h"
#include "rg.h"
#include "wh.h"

typedef struct gw_ctx gw_ctx;
typedef struct gw_server gw_server;

lt_err gw_ctx_open(const lt_config *cfg, gw_ctx **out, lt_errinfo *ei);
void gw_ctx_close(gw_ctx *ctx);

lt_err gw_server_start(gw_ctx *ctx, gw_server **out, lt_errinfo *ei);
void gw_server_stop(gw_server *srv);

/* With cfg->tls: reads its certificate, key and client CA bundle and checks them as
 * gw_server_start would (the key is the certificate's, the bundle holds a CA), for
 * check-config. LT_OK without tls; LT_E_CONFIG with a message naming the tls key. */
lt_err gw_tls_check(const lt_config *cfg, lt_errinfo *ei);

/* The ingest pipeline (API.md §7): decode + map (adapters), validate (contracts), store in one
 * write transaction (warehouse), quarantine rejects with reasons. `media` is the payload's
 * content type (a format's media type, or the exchange envelope type). With atomic, any
 * invalid record stores nothing and returns LT_E_VALIDATION (errors in ei). On LT_OK *result
 * is a new object {accepted, unchanged, rejected, quarantine, errors}. The caller has already
 * checked the caller's right to push. */
typedef struct gw_ingest_opts {
    bool atomic;
    const char *source;     /* "push" | "import" | "pull" */
    const char *message_id; /* request id or envelope id */
    const char *system;     /* calling system, may be NULL */
} gw_ingest_opts;
lt_err gw_ingest(gw_ctx *ctx, const rg_service *svc, const char *media, const char *body,
                 size_t len, const gw_ingest_opts *opts, json_t **result, size_t *records,
                 lt_errinfo *ei);

/* Retries one quarantined record (its stored `raw`): maps and validates it again; on success
 * stores it and deletes the quarantine entry in one transaction; otherwise LT_E_VALIDATION
 * with the reasons and the entry stays. */
lt_err gw_ingest_retry(gw_ctx *ctx, const rg_service *svc, const char *qid, const json_t *raw,
                       const gw_ingest_opts *opts, json_t **result, lt_errinfo *ei);

/* Borrowed pieces of a context (valid until gw_ctx_close). */
rg_registry *gw_ctx_registry(gw_ctx *ctx);
wh_env *gw_ctx_warehouse(gw_ctx *ctx);

#endif
