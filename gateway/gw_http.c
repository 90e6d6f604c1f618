/* The HTTP layer on libmicrohttpd: connection state, body limits, dispatch, response headers,
 * and per-request bookkeeping (metrics, audit) when a request completes. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gw_cache.h"
#include "gw_int.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"

/* A chunked body over the limit is read and dropped up to this bound, then cut off. */
#define DISCARD_FACTOR 4u
#define DISCARD_MIN (1u << 20)
/* TLS 1.2 and 1.3 only, GnuTLS's default ("NORMAL") suites. */
#define GW_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct gw_server {
    struct MHD_Daemon *d;
    gw_ctx *ctx;
    atomic_int active;
};

static void set_request_id(gw_req *r)
{
    const char *id = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Request-Id");
    size_t n = id ? strlen(id) : 0;
    bool ok = n > 0 && n < sizeof r->request_id;
    for (size_t i = 0; ok && i < n; i++) /* printable ASCII only: it goes into logs */
        ok = id[i] > 0x20 && id[i] < 0x7f;
    if (ok)
        memcpy(r->request_id, id, n + 1);
    else
        lt_random_id("r-", r->request_id, sizeof r->request_id);
}

static gw_req *req_new(gw_server *srv, struct MHD_Connection *conn, const char *url,
                       const char *method)
{
    gw_req *r = calloc(1, sizeof *r);
    size_t max = srv->ctx->cfg->max_body_bytes;
    if (!r || !(r->arena = lt_arena_new(1u << 20 | max))) {
        free(r);
        return NULL;
    }
    r->ctx = srv->ctx;
    r->conn = conn;
    r->start_us = lt_mono_us();
    r->route_index = -1;
    r->method = lt_arena_strdup(r->arena, method);
    r->path = lt_arena_strndup(r->arena, url, strnlen(url, LT_MAX_URL_LEN + 1));
    lt_buf_init(&r->body, max);
    lt_buf_init(&r->out, 0);
    set_request_id(r);
    atomic_fetch_add(&srv->active, 1);
    return r;
}

/* Splits the decoded path into segments in the arena; one trailing slash is ignored. */
static enum MHD_Result add_arg_len(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 2; /* '&' and '=' */
    return MHD_YES;
}

/* Decoded path plus query: over LT_MAX_URL_LEN is 414 (the path alone was cut at one more). */
static size_t uri_len(gw_req *r)
{
    size_t n = strlen(r->path);
    if (r->conn && n <= LT_MAX_URL_LEN)
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_arg_len, &n);
    return n;
}

lt_err gw_path_split(gw_req *r)
{
    size_t n = strlen(r->path);
    if (uri_len(r) > LT_MAX_URL_LEN)
        return lt_fail(&r->ei, LT_E_URI_TOO_LONG, "the path and query are longer than %d bytes",
                       LT_MAX_URL_LEN);
    if (!lt_utf8_valid(r->path, n))
        return lt_fail(&r->ei, LT_E_BAD_UTF8, "the URL path is not valid UTF-8");
    if (r->path[0] != '/')
        return lt_fail(&r->ei, LT_E_BAD_REQUEST, "the path must start with '/'");
    char *p = lt_arena_strdup(r->arena, r->path + 1);
    if (!p)
        return lt_fail(&r->ei, LT_E_TOO_LARGE, "request too large");
    size_t len = strlen(p);
    if (len && p[len - 1] == '/')
        p[--len] = '\0';
    r->nsegs = 0;
    while (len) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        for (char *c = p; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return lt_fail(&r->ei, LT_E_BAD_REQUEST, "control character in the path");
        if (!*p || r->nsegs == GW_MAX_SEGS)
            return lt_fail(&r->ei, LT_E_NOT_FOUND, "no such path");
        r->segs[r->nsegs++] = p;
        if (!slash)
            break;
        p = slash + 1;
    }
    return LT_OK;
}

/* The client certificate, read once per request: only over TLS with tls.client_ca_file
 * (otherwise GW_PEER_NONE). */
static const gw_peer *peer_of(gw_req *r)
{
    const lt_tls_conf *t = r->ctx->cfg->tls;
    if (!r->peer_read && t && t->client_ca_file) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        gw_tls_peer(ci ? ci->tls_session : NULL, r->ctx->rg, lt_now_us() / 1000000, &r->peer);
    }
    r->peer_read = true;
    return &r->peer;
}

/* The caller: a verified client certificate alone, or a bearer token (which must then name
 * the certificate's system). */
static bool authenticate(gw_req *r)
{
    const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Authorization");
    bool adopted = false, mtls = r->ctx->cfg->tls && r->ctx->cfg->tls->client_ca_file;
    if (gw_tls_caller(peer_of(r), h != NULL, &r->who, &adopted, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return false;
    }
    if (adopted) {
        r->authed = r->by_cert = true;
        return true;
    }
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        gw_fail(r, LT_E_UNAUTHORIZED, "an Authorization: Bearer token %sis required",
                mtls ? "(or a client certificate of a registered system) " : "");
        return false;
    }
    const char *tok = h + 7;
    while (*tok == ' ')
        tok++;
    if (gw_auth_verify(r->ctx->auth, tok, strlen(tok), lt_now_us() / 1000000, &r->who,
                       &r->ei) != LT_OK ||
        gw_tls_match(&r->peer, &r->who, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return false;
    }
    r->authed = true;
    return true;
}

static void dispatch(gw_req *r)
{
    bool known = false;
    const lt_tls_conf *t = r->ctx->cfg->tls;
    bool split = gw_path_split(r) == LT_OK;
    const gw_route *rt = split ? gw_route_match(r->method, r, &r->route_index, &known) : NULL;
    /* tls.require_client_cert: the TLS layer's rule, for every path (public ones too); after
     * the route is known so that a refused exchange is still audited. */
    r->route = rt;
    if (t && t->require_client_cert && gw_tls_gate(peer_of(r), true, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return;
    }
    if (!split) { /* r->ei still holds the path's error: the gate passed without writing */
        gw_reply_error(r);
        return;
    }
    if (!rt) {
        gw_fail(r, known ? LT_E_METHOD : LT_E_NOT_FOUND, known ? "method %s is not allowed here"
                : "no such path", r->method);
        return;
    }
    r->route = rt;
    bool need_token = !(rt->flags & GW_PUBLIC) ||
                      (rt->fn == gw_h_metrics && !r->ctx->cfg->metrics_public);
    if (need_token && !authenticate(r))
        return;
    unsigned roles = rt->roles ? rt->roles : GW_ROLE_ADMIN;
    /* A department's token speaks for one registered application of that department. */
    if (need_token && (r->who.roles & GW_ROLE_AGENCY) && !(r->who.roles & GW_ROLE_ADMIN) &&
        !rg_system_of(r->ctx->rg, r->who.sub, r->who.org)) {
        gw_fail(r, LT_E_FORBIDDEN, "system '%.64s' is not a registered system of organisation "
                "'%s' (POST /v1/systems)", r->who.sub, r->who.org[0] ? r->who.org : "(none)");
        return;
    }
    if (need_token && !(r->who.roles & roles)) {
        gw_fail(r, LT_E_FORBIDDEN, "this operation needs one of the roles it allows; the "
                "%s has none of them", r->by_cert ? "client certificate (role agency)" : "token");
        return;
    }
    rt->fn(r);
}

/* close: the connection ends after this answer (its body was not read). */
static void release_shared(void *cls) { gw_cached_release(cls); }

/* The response object for r's body: a cached answer shared without a copy, or r->out. */
static struct MHD_Response *make_response(gw_req *r, size_t *len)
{
    gw_cached *sh = r->shared;
    r->shared = NULL;
    if (sh) {
        *len = sh->len;
        struct MHD_Response *resp = MHD_create_response_from_buffer_with_free_callback_cls(
            sh->len, sh->body, release_shared, sh);
        if (!resp)
            gw_cached_release(sh);
        return resp;
    }
    char *body = lt_buf_detach(&r->out, len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(body ? *len : 0, body ? body : (void *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        free(body);
    return resp;
}

static enum MHD_Result send_reply_opt(gw_req *r, bool close)
{
    if (!r->status)
        gw_fail(r, LT_E_INTERNAL, "no response was produced");
    /* Accounted before the body moves into the response: a full audit entry copies it, and a
     * client holding the answer also finds it counted and logged. */
    gw_account(r);
    size_t len = 0;
    struct MHD_Response *resp = make_response(r, &len);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : GW_MEDIA_JSON);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    if (r->status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r->retry_after > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (r->location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r->status == 405 && r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (close)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_reply(gw_req *r) { return send_reply_opt(r, false); }

typedef struct framing {
    int lengths, codings;
    bool chunked_only;
} framing;

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    framing *f = cls;
    (void)kind;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        f->lengths++;
    else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0 && f->codings++ == 0)
        f->chunked_only = value && strcasecmp(value, "chunked") == 0;
    return MHD_YES;
}

/* Request smuggling guard: a body's length is said one way only. Content-Length together with
 * Transfer-Encoding, two Content-Lengths, or a coding other than chunked: 400, closed. */
static bool framing_ok(gw_req *r)
{
    framing f = {0, 0, false};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, framing_header, &f);
    if (f.lengths && f.codings)
        gw_fail(r, LT_E_BAD_REQUEST, "both Content-Length and Transfer-Encoding: the body's "
                "length must be given one way");
    else if (f.lengths > 1)
        gw_fail(r, LT_E_BAD_REQUEST, "more than one Content-Length");
    else if (f.codings > 1 || (f.codings && !f.chunked_only))
        gw_fail(r, LT_E_BAD_REQUEST, "Transfer-Encoding must be chunked alone");
    return r->status == 0;
}

/* Percent-decoding of the path and query as libmicrohttpd's own, except that a decoded NUL
 * becomes 0x01: a C string would end at the NUL, so "a%00b" would silently name "a"; as a
 * control character it is refused with the path's other control characters (400). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls, (void)c;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = '\x01';
    return n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    gw_server *srv = cls;
    gw_req *r = *con_cls;
    if (!r) {
        if (!(r = req_new(srv, conn, url, method)))
            return MHD_NO;
        *con_cls = r;
        if (!framing_ok(r))
            return send_reply_opt(r, true);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t n = 0;
        if (cl && lt_parse_i64(cl, strlen(cl), &n) == 0 &&
            (uint64_t)n > srv->ctx->cfg->max_body_bytes) {
            /* Refused before reading: libmicrohttpd closes the connection after this reply. */
            gw_fail(r, LT_E_TOO_LARGE, "the body (%lld bytes) is over the limit of %zu bytes",
                    (long long)n, srv->ctx->cfg->max_body_bytes);
            return send_reply(r);
        }
        return MHD_YES; /* answer on a later call: keeps keep-alive working in 0.9.75 */
    }
    if (*upload_size) {
        /* libmicrohttpd 0.9.75 cannot answer in the middle of a body, so an over-limit body
         * without Content-Length is discarded and answered at its end — up to a bound past
         * which the connection is simply closed. */
        size_t max = srv->ctx->cfg->max_body_bytes;
        if (!r->too_large) {
            lt_buf_append(&r->body, upload, *upload_size);
            if (r->body.err) {
                r->too_large = true;
                lt_buf_free(&r->body);
                lt_buf_init(&r->body, max);
            }
        }
        r->discarded += r->too_large ? *upload_size : 0;
        *upload_size = 0;
        return r->discarded > DISCARD_FACTOR * (uint64_t)max + DISCARD_MIN ? MHD_NO : MHD_YES;
    }
    if (r->suspended) { /* first call after gw_req_resume: the worker filled the reply */
        r->suspended = false;
        return send_reply(r);
    }
    if (r->status) /* already answered (413 from Content-Length) */
        return MHD_YES;
    if (r->too_large)
        gw_fail(r, LT_E_TOO_LARGE, "the body is over the limit of %zu bytes",
                srv->ctx->cfg->max_body_bytes);
    else
        dispatch(r);
    return r->suspended ? MHD_YES : send_reply(r);
}

void gw_req_suspend(gw_req *r)
{
    MHD_suspend_connection(r->conn);
    r->suspended = true;
}

void gw_req_resume(gw_req *r) { MHD_resume_connection(r->conn); }

static void audit_str(lt_buf *b, const char *key, const char *v)
{
    lt_buf_printf(b, ",\"%s\":", key);
    if (v)
        lt_buf_json_str(b, v, strlen(v));
    else
        lt_buf_puts(b, "null");
}

/* "audit": "full" services keep both bodies, personal values masked (gw_audit_mask.c). */
static void audit_bodies(gw_req *r, lt_buf *b)
{
    json_t *names = gw_personal_names(r->svc);
    const char *out = r->shared ? r->shared->body : r->out.data;
    size_t out_len = r->shared ? r->shared->len : r->out.len;
    lt_buf_puts(b, ",\"request_body\":");
    gw_audit_body(b, r->body.data, r->body.len, names, LT_AUDIT_BODY_MAX);
    lt_buf_puts(b, ",\"response_body\":");
    gw_audit_body(b, out, out_len, names, LT_AUDIT_BODY_MAX);
    json_decref(names);
}

/* One exchange-log entry (Decree 47 Art. 45), rendered straight to text: bodies only for
 * services that ask for them, and then with personal values masked. */
static void audit_entry(gw_req *r)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, "\"request_id\":");
    lt_buf_json_str(&b, r->request_id, strlen(r->request_id));
    audit_str(&b, "org", r->who.org);
    audit_str(&b, "system", r->who.sub);
    audit_str(&b, "service", r->service);
    audit_str(&b, "operation", r->route->op);
    if (r->object)
        audit_str(&b, "object", r->object);
    audit_str(&b, "method", r->method);
    lt_buf_printf(&b, ",\"status\":%d,\"bytes_in\":%zu,\"bytes_out\":%zu,\"records\":%zu,"
                  "\"duration_ms\":%.3f", r->status, r->body.len,
                  r->shared ? r->shared->len : r->out.len, r->records,
                  (double)(lt_mono_us() - r->start_us) / 1000.0);
    if (r->svc && r->svc->audit_full)
        audit_bodies(r, &b);
    if (!b.err)
        wh_audit_submit_text(r->ctx->wh, b.data, b.len);
    lt_buf_free(&b);
}

/* Metrics, the audit entry and the debug line, once per request: just before its answer is
 * queued, so a client holding the answer also finds it counted and logged; a request that
 * never got an answer (the connection dropped) is accounted when it completes. */
void gw_account(gw_req *r)
{
    if (r->accounted)
        return;
    r->accounted = true;
    int64_t dur = lt_mono_us() - r->start_us;
    /* A write that succeeded may change what a cached answer said (gw_cache.h). */
    if (r->status >= 200 && r->status < 300 && strcmp(r->method, "GET") != 0 &&
        strcmp(r->method, "HEAD") != 0)
        atomic_fetch_add(&r->ctx->writes, 1);
    gw_metrics_request(r->ctx->metrics, r->route_index, r->status, dur);
    if (r->route && (r->route->flags & GW_AUDIT))
        audit_entry(r);
    lt_log(LT_LOG_DEBUG, "%s %s %d %lldus id=%s", r->method, r->path, r->status,
           (long long)dur, r->request_id);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    gw_server *srv = cls;
    gw_req *r = *con_cls;
    if (!r)
        return;
    gw_account(r);
    lt_buf_free(&r->body);
    lt_buf_free(&r->out);
    lt_errinfo_clear(&r->ei);
    gw_cached_release(r->shared); /* set but never sent: the connection went first */
    lt_arena_free(r->arena);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&srv->active, 1);
}

static int resolve_listen(const lt_config *cfg, struct sockaddr_storage *ss, lt_errinfo *ei)
{
    struct addrinfo hints = {0}, *res = NULL;
    char port[16];
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof port, "%d", cfg->listen_port);
    int rc = getaddrinfo(cfg->listen_host, port, &hints, &res);
    if (rc != 0 || !res) {
        lt_fail(ei, LT_E_CONFIG, "listen address '%s': %s", cfg->listen_host, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    int family = res->ai_family;
    freeaddrinfo(res);
    return family;
}

/* Every connection is a socket: raise the soft open-file limit to fit LT_MAX_CONNECTIONS (plus
 * the warehouse, upstream and log files); where the hard limit is lower, fewer connections. */
static unsigned conn_limit(void)
{
    struct rlimit rl;
    rlim_t want = LT_MAX_CONNECTIONS + 512;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1000;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= want)
        return LT_MAX_CONNECTIONS;
    unsigned n = rl.rlim_cur > 612 ? (unsigned)(rl.rlim_cur - 512) : 100;
    lt_log(LT_LOG_WARN, "open-file limit %llu: at most %u connections (raise `ulimit -n` for %u)",
           (unsigned long long)rl.rlim_cur, n, LT_MAX_CONNECTIONS);
    return n;
}

/* HTTPS options for the daemon (only with tls; o ends with MHD_OPTION_END either way). The
 * buffers of m must live until MHD_start_daemon returns; then gw_tls_files_free wipes the key:
 * libmicrohttpd has loaded it into its GnuTLS credentials. */
static lt_err tls_options(const lt_config *cfg, gw_tls_files *m, struct MHD_OptionItem o[5],
                          unsigned *flags, lt_errinfo *ei)
{
    size_t n = 0;
    memset(m, 0, sizeof *m);
    if (cfg->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return lt_fail(ei, LT_E_CONFIG, "tls: this libmicrohttpd was built without TLS "
                       "support; remove 'tls' from the config or install one with GnuTLS");
    if (cfg->tls && gw_tls_files_load(cfg->tls, m, ei) != LT_OK)
        return ei->code;
    if (cfg->tls) {
        *flags |= MHD_USE_TLS;
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, m->cert};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, m->key};
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                         (void *)GW_TLS_PRIORITIES};
    }
    if (m->ca) /* libmicrohttpd then asks every client for a certificate */
        o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, m->ca};
    o[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    return LT_OK;
}

static const char *tls_mode(const lt_tls_conf *t)
{
    if (!t)
        return "http";
    if (!t->client_ca_file)
        return "https";
    return t->require_client_cert ? "https, client certificate required"
                                  : "https, client certificates accepted";
}

lt_err gw_server_start(gw_ctx *ctx, gw_server **out, lt_errinfo *ei)
{
    struct sockaddr_storage ss;
    int family = resolve_listen(ctx->cfg, &ss, ei);
    if (family < 0)
        return LT_E_CONFIG;
    gw_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    srv->ctx = ctx;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = ctx->cfg->threads > 0 ? (unsigned)ctx->cfg->threads
                                             : (unsigned)(cores > 0 ? cores : 1);
    unsigned timeout_s = (unsigned)((ctx->cfg->request_timeout_ms + 999) / 1000);
    /* ITC lets MHD_quiesce_daemon stop accepting while in-flight requests finish. */
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                     MHD_ALLOW_SUSPEND_RESUME | (family == AF_INET6 ? MHD_USE_IPv6 : 0);
    gw_tls_files tls;
    struct MHD_OptionItem tls_opts[5];
    if (tls_options(ctx->cfg, &tls, tls_opts, &flags, ei) != LT_OK ||
        gw_relay_start(ctx, &ctx->relay, ei) != LT_OK) {
        gw_tls_files_free(&tls);
        free(srv);
        return ei->code;
    }
    srv->d = MHD_start_daemon(flags, (uint16_t)ctx->cfg->listen_port, NULL, NULL, on_request, srv,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                              MHD_OPTION_THREAD_POOL_SIZE, threads,
                              MHD_OPTION_CONNECTION_TIMEOUT, timeout_s ? timeout_s : 30,
                              MHD_OPTION_CONNECTION_LIMIT, conn_limit(),
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, ctx->cfg->max_conn_per_ip,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                              MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
                              MHD_OPTION_ARRAY, tls_opts, MHD_OPTION_END);
    gw_tls_files_free(&tls);
    if (!srv->d) {
        gw_relay_stop(ctx->relay);
        gw_relay_free(ctx->relay);
        ctx->relay = NULL;
        free(srv);
        return lt_fail(ei, LT_E_CONFIG, "cannot listen on %s:%d (in use, or not permitted)%s",
                       ctx->cfg->listen_host, ctx->cfg->listen_port,
                       ctx->cfg->tls ? ", or TLS could not start (see the lines above)" : "");
    }
    lt_log(LT_LOG_INFO, "listening on %s:%d threads=%u %s", ctx->cfg->listen_host,
           ctx->cfg->listen_port, threads, tls_mode(ctx->cfg->tls));
    *out = srv;
    return LT_OK;
}

void gw_server_stop(gw_server *srv)
{
    if (!srv)
        return;
    /* Stop accepting, then give in-flight requests up to 10 s to finish. */
    MHD_socket s = MHD_quiesce_daemon(srv->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    /* A suspended connection never times out by itself: answer the waiting relays (503) and
     * resume them so they drain like any other request. */
    gw_relay_stop(srv->ctx->relay);
    for (int i = 0; i < 1000 && atomic_load(&srv->active) > 0; i++)
        usleep(10000);
    MHD_stop_daemon(srv->d);
    gw_relay_free(srv->ctx->relay);
    srv->ctx->relay = NULL;
    free(srv);
}
