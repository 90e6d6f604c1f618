/* gw_upstream — outbound HTTP with libcurl for pulls and the relay (see gw_upstream.h).
 * A call's easy handle is used by one thread at a time; gw_fetch_on reuses it across the
 * retries of that call so a kept-alive connection can serve them. The setup and the
 * classification of a transfer are shared with multi-handle callers (gw_fetch_prepare). */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gw_upstream.h"
#include "lt_buf.h"
#include "lt_str.h"

/* Retries beyond this only hold a pull worker longer on a provider that is down anyway. */
#define GW_FETCH_MAX_RETRIES 10
/* Back-off ceiling: a doubling delay must not park a worker for minutes. */
#define GW_FETCH_MAX_BACKOFF_MS 30000L
/* Redirect hops when following is on: enough for http→https plus a load balancer. */
#define GW_FETCH_MAX_REDIRS 5L
/* Captured response header values (ETag, Last-Modified, Content-Type) are short by nature;
 * longer ones are cut rather than stored whole. */
#define GW_FETCH_HEADER_MAX 1024
#define GW_USER_AGENT "lienthong-gateway/0.1"
/* password_file / token_file: a secret is one short line. */
#define GW_SECRET_MAX 4096

/* Where the call goes, for messages: host and port only, never userinfo, path or query. */
typedef struct gw_target {
    char host[256];
    long port;
} gw_target;

/* Per-attempt state filled by libcurl's callbacks. */
typedef struct gw_sink {
    lt_buf body; /* max = the request's cap */
    int over;    /* the write callback stopped the transfer at the cap */
    char *content_type, *etag, *last_modified;
} gw_sink;

/* curl_global_init is not thread-safe and must run once before any handle exists; pull
 * workers and the relay may make their first call at the same moment, so it runs under
 * pthread_once. This once-flag is the module's only global, and it is never written after. */
static pthread_once_t gw_curl_once = PTHREAD_ONCE_INIT;

static void gw_curl_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void gw_fetch_res_free(gw_fetch_res *res)
{
    if (!res)
        return;
    free(res->body);
    free(res->content_type);
    free(res->etag);
    free(res->last_modified);
    memset(res, 0, sizeof *res);
}

static void gw_sink_clear(gw_sink *s)
{
    size_t max = s->body.max;
    lt_buf_free(&s->body);
    free(s->content_type);
    free(s->etag);
    free(s->last_modified);
    memset(s, 0, sizeof *s);
    lt_buf_init(&s->body, max);
}

static size_t gw_write_cb(char *p, size_t size, size_t n, void *ud)
{
    gw_sink *s = ud;
    size_t len = size * n;
    lt_buf_append(&s->body, p, len);
    if (s->body.err == LT_E_TOO_LARGE)
        s->over = 1;
    return s->body.err ? 0 : len; /* a short count makes libcurl abort the transfer */
}

/* If line is "name: value", stores a new copy of the trimmed value in *slot. */
static void gw_header_take(const char *line, size_t n, const char *name, char **slot)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return;
    size_t b = nl + 1, e = n;
    while (b < e && (line[b] == ' ' || line[b] == '\t'))
        b++;
    while (e > b && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' ' ||
                     line[e - 1] == '\t'))
        e--;
    if (e - b > GW_FETCH_HEADER_MAX)
        e = b + GW_FETCH_HEADER_MAX;
    free(*slot);
    *slot = strndup(line + b, e - b);
}

static size_t gw_header_cb(char *p, size_t size, size_t n, void *ud)
{
    gw_sink *s = ud;
    size_t len = size * n;
    /* A status line starts a new response (after a 100 Continue or a followed redirect):
     * only the final response's headers describe the body we return. */
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        free(s->content_type);
        free(s->etag);
        free(s->last_modified);
        s->content_type = s->etag = s->last_modified = NULL;
        return len;
    }
    gw_header_take(p, len, "Content-Type", &s->content_type);
    gw_header_take(p, len, "ETag", &s->etag);
    gw_header_take(p, len, "Last-Modified", &s->last_modified);
    return len;
}

static int gw_has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static lt_err gw_check_auth(const gw_fetch_auth *a, lt_errinfo *ei)
{
    const char *t = a->type;
    if (!t || lt_streq(t, "none"))
        return LT_OK;
    if (lt_streq(t, "basic") && a->username) {
        if (gw_has_crlf(a->username) || gw_has_crlf(a->password) || strchr(a->username, ':'))
            return lt_fail(ei, LT_E_INVALID, "upstream basic auth: bad username or password");
        return LT_OK;
    }
    if (lt_streq(t, "bearer") && a->token)
        return gw_has_crlf(a->token)
                   ? lt_fail(ei, LT_E_INVALID, "upstream bearer token holds a line break")
                   : LT_OK;
    if (lt_streq(t, "client_cert") && a->cert_file)
        return LT_OK;
    return lt_fail(ei, LT_E_INVALID, "upstream auth '%.32s' is unknown or misses its credential",
                   t);
}

static lt_err gw_check_req(const gw_fetch_req *q, lt_errinfo *ei)
{
    if (!q->method || (!lt_streq(q->method, "GET") && !lt_streq(q->method, "POST")))
        return lt_fail(ei, LT_E_INVALID, "upstream method must be GET or POST");
    if (!q->url)
        return lt_fail(ei, LT_E_INVALID, "upstream URL is missing");
    if (q->connect_timeout_ms <= 0 || q->timeout_ms <= 0)
        return lt_fail(ei, LT_E_INVALID, "upstream connect and total timeouts must be > 0");
    if (q->max_bytes == 0)
        return lt_fail(ei, LT_E_INVALID, "upstream response cap must be > 0");
    if (q->retries < 0 || q->retries > GW_FETCH_MAX_RETRIES || q->backoff_ms < 0)
        return lt_fail(ei, LT_E_INVALID, "upstream retries must be 0..%d, back-off >= 0",
                       GW_FETCH_MAX_RETRIES);
    if (gw_has_crlf(q->content_type) || gw_has_crlf(q->soap_action) ||
        gw_has_crlf(q->if_none_match) || gw_has_crlf(q->if_modified_since))
        return lt_fail(ei, LT_E_INVALID, "upstream header value holds a line break");
    return gw_check_auth(&q->auth, ei);
}

/* The scheme, checked before every call (http and https only; libcurl enforces the same on
 * redirects). The rest of the URL is libcurl's to parse when it runs. */
static lt_err gw_url_scheme(const char *url, lt_errinfo *ei)
{
    size_t n = strcspn(url, ":/?#");
    if (url[n] != ':' || n == 0)
        return lt_fail(ei, LT_E_INVALID, "upstream URL is malformed");
    if ((n == 4 && strncasecmp(url, "http", 4) == 0) ||
        (n == 5 && strncasecmp(url, "https", 5) == 0))
        return LT_OK;
    return lt_fail(ei, LT_E_INVALID, "upstream URL scheme '%.*s' is not allowed (http, https)",
                   (int)(n < 16 ? n : 16), url);
}

/* The host and port that messages may name, parsed only when a message needs them (a call
 * that fails); the URL itself is never echoed: it may carry credentials. */
static void gw_url_target(const char *url, gw_target *t)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    lt_strlcpy(t->host, "?", sizeof t->host);
    t->port = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
        int64_t p = 0;
        lt_strlcpy(t->host, host, sizeof t->host);
        t->port = lt_parse_i64(port, strlen(port), &p) == 0 ? (long)p : 0;
    }
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

/* Appends "name: value" (value in double quotes when quote) to the list; a NULL value adds
 * nothing. Returns -1 on no memory. */
static int gw_header_add(struct curl_slist **list, const char *name, const char *value, int quote)
{
    if (!value)
        return 0;
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, name);
    lt_buf_puts(&b, quote ? ": \"" : ": ");
    lt_buf_puts(&b, value);
    if (quote)
        lt_buf_putc(&b, '"');
    struct curl_slist *n = b.err ? NULL : curl_slist_append(*list, b.data);
    lt_buf_free(&b);
    if (!n)
        return -1;
    *list = n;
    return 0;
}

/* Request headers. SOAP 1.1 wants SOAPAction as a quoted string: a bare action is quoted
 * here, an already quoted one is sent as is. A bare "Expect:" stops libcurl from waiting
 * for a 100 Continue that many SOAP stacks never send. */
static lt_err gw_build_headers(const gw_fetch_req *q, struct curl_slist **out, lt_errinfo *ei)
{
    struct curl_slist *h = NULL;
    const char *sa = q->soap_action;
    size_t sl = sa ? strlen(sa) : 0;
    int quoted = sl >= 2 && sa[0] == '"' && sa[sl - 1] == '"';
    if (sa && !quoted && strchr(sa, '"'))
        return lt_fail(ei, LT_E_INVALID, "SOAPAction holds a stray quote");
    int rc = gw_header_add(&h, "Content-Type", q->content_type, 0) |
             gw_header_add(&h, "SOAPAction", sa, !quoted) |
             gw_header_add(&h, "If-None-Match", q->if_none_match, 0) |
             gw_header_add(&h, "If-Modified-Since", q->if_modified_since, 0);
    struct curl_slist *n = rc ? NULL : curl_slist_append(h, "Expect:");
    if (!n) {
        curl_slist_free_all(h);
        return lt_fail(ei, LT_E_NOMEM, "out of memory building upstream headers");
    }
    *out = n;
    return LT_OK;
}

static void gw_set_auth(CURL *h, const gw_fetch_auth *a)
{
    if (a->ca_file) /* provinces sign their internal services with their own CA */
        curl_easy_setopt(h, CURLOPT_CAINFO, a->ca_file);
    if (!a->type || lt_streq(a->type, "none"))
        return;
    if (lt_streq(a->type, "basic")) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, a->username);
        curl_easy_setopt(h, CURLOPT_PASSWORD, a->password ? a->password : "");
    } else if (lt_streq(a->type, "bearer")) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
        curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, a->token);
    } else if (lt_streq(a->type, "client_cert")) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, a->cert_file);
        if (a->key_file)
            curl_easy_setopt(h, CURLOPT_SSLKEY, a->key_file);
    }
}

/* ---- a service's source.auth ---- */

static void gw_wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void gw_source_auth_free(gw_source_auth *a)
{
    if (!a)
        return;
    free(a->type);
    free(a->username);
    gw_wipe_free(a->password);
    gw_wipe_free(a->token);
    free(a->cert);
    free(a->key);
    free(a->ca);
    memset(a, 0, sizeof *a);
}

/* The first line of a small secret file (password, token); new. */
static lt_err gw_read_secret(const lt_config *cfg, const char *name, const char *key, char **out,
                             lt_errinfo *ei)
{
    char *path = lt_config_path(cfg, name);
    FILE *f = path ? fopen(path, "rb") : NULL;
    free(path);
    if (!f)
        return lt_fail(ei, LT_E_CONFIG, "source.auth.%s cannot be read", key);
    char *buf = calloc(1, GW_SECRET_MAX + 1);
    size_t n = buf ? fread(buf, 1, GW_SECRET_MAX, f) : 0;
    fclose(f);
    if (!buf)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    *out = buf;
    return LT_OK;
}

/* A path option resolved against the config folder (NULL stays NULL). */
static lt_err gw_auth_path(const lt_config *cfg, const json_t *auth, const char *key, char **out,
                           lt_errinfo *ei)
{
    const char *v = json_string_value(json_object_get(auth, key));
    if (v && !(*out = lt_config_path(cfg, v)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

static lt_err gw_auth_dup(const json_t *auth, const char *key, char **out, lt_errinfo *ei)
{
    const char *v = json_string_value(json_object_get(auth, key));
    if (v && !(*out = strdup(v)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

lt_err gw_source_auth_load(const lt_config *cfg, const json_t *auth, gw_source_auth *out,
                           lt_errinfo *ei)
{
    memset(out, 0, sizeof *out);
    const char *type = json_string_value(json_object_get(auth, "type"));
    const char *pw = json_string_value(json_object_get(auth, "password_file"));
    const char *tok = json_string_value(json_object_get(auth, "token_file"));
    bool none = !type || lt_streq(type, "none");
    lt_err e = gw_auth_path(cfg, auth, "ca_file", &out->ca, ei);
    if (!e && !none)
        e = gw_auth_dup(auth, "type", &out->type, ei);
    if (!e && !none)
        e = gw_auth_dup(auth, "username", &out->username, ei);
    if (!e && !none)
        e = gw_auth_path(cfg, auth, "cert_file", &out->cert, ei);
    if (!e && !none)
        e = gw_auth_path(cfg, auth, "key_file", &out->key, ei);
    if (!e && !none && lt_streq(type, "basic") && pw)
        e = gw_read_secret(cfg, pw, "password_file", &out->password, ei);
    if (!e && !none && lt_streq(type, "bearer") && tok)
        e = gw_read_secret(cfg, tok, "token_file", &out->token, ei);
    out->auth = (gw_fetch_auth){out->type, out->username, out->password, out->token, out->cert,
                                out->key, out->ca};
    return e;
}

/* Options that hold for every call, whatever the request says. */
static void gw_set_safety(CURL *h)
{
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* many threads: no SIGALRM for DNS timeouts */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* Provider traffic (with its credentials) goes where the registry says, not through
     * whatever http_proxy the service manager's environment happens to carry. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, GW_USER_AGENT);
}

static void gw_setup(CURL *h, const gw_fetch_req *q, gw_sink *s, struct curl_slist *hdrs)
{
    gw_set_safety(h);
    curl_easy_setopt(h, CURLOPT_URL, q->url);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, q->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, q->timeout_ms);
    /* Refuses an announced Content-Length over the cap before reading any of the body. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)q->max_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, gw_write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, gw_header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (q->follow_redirects) {
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, GW_FETCH_MAX_REDIRS);
    }
    if (lt_streq(q->method, "POST")) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body ? q->body : "");
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    gw_set_auth(h, &q->auth);
}

/* True when the host needed no resolving (an IP literal) or libcurl finished resolving it:
 * the timer it sets at the end of the name lookup stays 0 when the lookup never ended. */
static int gw_resolved(CURL *h, const gw_target *t)
{
    unsigned char addr[16];
    char v6[sizeof t->host];
    size_t n = strlen(t->host);
    if (inet_pton(AF_INET, t->host, addr) == 1)
        return 1;
    if (n > 2 && t->host[0] == '[') {
        lt_strlcpy(v6, t->host + 1, n - 1);
        if (inet_pton(AF_INET6, v6, addr) == 1)
            return 1;
    }
    curl_off_t lookup_us = 0;
    return curl_easy_getinfo(h, CURLINFO_NAMELOOKUP_TIME_T, &lookup_us) == CURLE_OK &&
           lookup_us > 0;
}

static lt_err gw_curl_error(CURL *h, CURLcode rc, const gw_sink *s, const gw_target *t,
                            const gw_fetch_req *q, int *retry, lt_errinfo *ei)
{
    curl_off_t connect_us = 0;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        *retry = 1;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
        if (!gw_resolved(h, t)) /* a name that never resolves is unavailable, not slow */
            return lt_fail(ei, LT_E_UNAVAILABLE,
                           "upstream %s:%ld: host name not resolved within %ld ms", t->host,
                           t->port, q->connect_timeout_ms);
        return connect_us == 0
                   ? lt_fail(ei, LT_E_TIMEOUT, "upstream %s:%ld: no connection within %ld ms",
                             t->host, t->port, q->connect_timeout_ms)
                   : lt_fail(ei, LT_E_TIMEOUT, "upstream %s:%ld: no full answer within %ld ms",
                             t->host, t->port, q->timeout_ms);
    case CURLE_COULDNT_RESOLVE_HOST:
        *retry = 1;
        return lt_fail(ei, LT_E_UNAVAILABLE, "upstream %s:%ld: host name not resolved", t->host,
                       t->port);
    case CURLE_COULDNT_CONNECT:
        *retry = 1;
        return lt_fail(ei, LT_E_UNAVAILABLE, "upstream %s:%ld: connection refused or unreachable",
                       t->host, t->port);
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR:
        if (rc == CURLE_FILESIZE_EXCEEDED || s->over)
            return lt_fail(ei, LT_E_UPSTREAM, "upstream %s:%ld: answer over %zu bytes", t->host,
                           t->port, q->max_bytes);
        return lt_fail(ei, LT_E_NOMEM, "out of memory reading upstream %s:%ld", t->host, t->port);
    case CURLE_UNSUPPORTED_PROTOCOL: /* the first URL was checked: this is a redirect */
        return lt_fail(ei, LT_E_UPSTREAM, "upstream %s:%ld redirected to a non-http(s) scheme",
                       t->host, t->port);
    default:
        return lt_fail(ei, LT_E_UPSTREAM, "upstream %s:%ld: %s", t->host, t->port,
                       curl_easy_strerror(rc));
    }
}

/* Maps one attempt's outcome to an error and says whether another attempt may help. */
static lt_err gw_classify(CURL *h, CURLcode rc, const gw_sink *s, const gw_target *t,
                          const gw_fetch_req *q, long status, int *retry, lt_errinfo *ei)
{
    *retry = 0;
    if (rc != CURLE_OK)
        return gw_curl_error(h, rc, s, t, q, retry, ei);
    if ((status >= 200 && status < 300) || status == 304)
        return LT_OK;
    *retry = status >= 500 || status == 429;
    return lt_fail(ei, LT_E_UPSTREAM, "upstream %s:%ld answered HTTP %ld", t->host, t->port,
                   status);
}

/* Moves one attempt's answer into res; an over-cap body is dropped, not handed on cut. */
static void gw_take_answer(gw_sink *s, lt_err e, long status, gw_fetch_res *res)
{
    gw_fetch_res keep = {.attempts = res->attempts, .elapsed_ms = res->elapsed_ms};
    gw_fetch_res_free(res);
    *res = keep;
    res->status = status;
    res->not_modified = e == LT_OK && status == 304;
    res->content_type = s->content_type;
    res->etag = s->etag;
    res->last_modified = s->last_modified;
    s->content_type = s->etag = s->last_modified = NULL;
    if (!s->over && !s->body.err)
        res->body = lt_buf_detach(&s->body, &res->len);
}

/* Sleeps the back-off before retry number `n` (1-based): backoff_ms * 2^(n-1), capped,
 * scaled by a random factor in [0.75, 1.25] so many pull workers do not retry in step. */
static void gw_backoff(const gw_fetch_req *q, int n, uint64_t *rng)
{
    long ms = q->backoff_ms;
    for (int i = 1; i < n && ms < GW_FETCH_MAX_BACKOFF_MS; i++)
        ms *= 2;
    if (ms > GW_FETCH_MAX_BACKOFF_MS)
        ms = GW_FETCH_MAX_BACKOFF_MS;
    *rng ^= *rng << 13; /* xorshift64: jitter needs spread, not cryptographic quality */
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    ms = ms * (75 + (long)(*rng % 51)) / 100;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
        /* interrupted: sleep the rest */
    }
}

/* One call's state from setup to classification, shared by gw_fetch_on's blocking attempts
 * and by callers driving the handle through a multi handle (gw_fetch_prepare). */
struct gw_fetch_prep {
    CURL *h;                 /* borrowed */
    const gw_fetch_req *req; /* borrowed */
    gw_target t;
    gw_sink s;
    struct curl_slist *hdrs;
    int64_t t0;
};

/* Checks the request and sets every option on h (reset first: a reused handle must not carry
 * the previous call's options, while it keeps its connections). Nothing to release on error. */
static lt_err gw_prep_init(gw_fetch_prep *p, CURL *h, const gw_fetch_req *req, lt_errinfo *ei)
{
    memset(p, 0, sizeof *p);
    p->t0 = lt_mono_us();
    p->req = req;
    p->h = h;
    lt_err e = gw_check_req(req, ei);
    if (e == LT_OK)
        e = gw_url_scheme(req->url, ei);
    if (e == LT_OK)
        e = gw_build_headers(req, &p->hdrs, ei);
    if (e != LT_OK)
        return e;
    lt_buf_init(&p->s.body, req->max_bytes);
    curl_easy_reset(h);
    gw_setup(h, req, &p->s, p->hdrs);
    return LT_OK;
}

static void gw_prep_release(gw_fetch_prep *p)
{
    gw_sink_clear(&p->s);
    lt_buf_free(&p->s.body);
    curl_slist_free_all(p->hdrs);
    p->hdrs = NULL;
}

/* Classifies one finished transfer (rc from curl_easy_perform or a multi handle's DONE
 * message) into res and ei; *retry says whether another attempt may help. */
static lt_err gw_prep_result(gw_fetch_prep *p, CURLcode rc, gw_fetch_res *res, int *retry,
                             lt_errinfo *ei)
{
    if (rc == CURLE_FILESIZE_EXCEEDED) /* announced over the cap: nothing was read */
        p->s.over = 1;
    long status = 0;
    curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, &status);
    if (ei)
        lt_errinfo_clear(ei);
    bool ok = rc == CURLE_OK && ((status >= 200 && status < 300) || status == 304);
    if (!ok)
        gw_url_target(p->req->url, &p->t);
    lt_err e;
    if (rc == CURLE_URL_MALFORMAT) {
        *retry = 0;
        e = lt_fail(ei, LT_E_INVALID, "upstream URL is malformed");
    } else {
        e = gw_classify(p->h, rc, &p->s, &p->t, p->req, status, retry, ei);
    }
    gw_take_answer(&p->s, e, status, res);
    return e;
}

static lt_err gw_run(gw_fetch_prep *p, gw_fetch_res *res, lt_errinfo *ei)
{
    uint64_t rng = (uint64_t)lt_mono_us() ^ ((uint64_t)(uintptr_t)&rng << 16);
    rng |= 1; /* xorshift stays at zero forever */
    lt_err e;
    int retry = 0;
    do {
        if (res->attempts > 0)
            gw_backoff(p->req, res->attempts, &rng);
        gw_sink_clear(&p->s);
        res->attempts++;
        e = gw_prep_result(p, curl_easy_perform(p->h), res, &retry, ei);
    } while (e != LT_OK && retry && res->attempts <= p->req->retries);
    return e;
}

void gw_fetch_init(void)
{
    pthread_once(&gw_curl_once, gw_curl_global_init);
}

lt_err gw_fetch_prepare(CURL *h, const gw_fetch_req *req, gw_fetch_prep **out, lt_errinfo *ei)
{
    if (!out)
        return lt_fail(ei, LT_E_INTERNAL, "gw_fetch_prepare: NULL argument");
    *out = NULL;
    if (!h || !req)
        return lt_fail(ei, LT_E_INTERNAL, "gw_fetch_prepare: NULL argument");
    gw_fetch_init(); /* before curl_url in the checks */
    gw_fetch_prep *p = malloc(sizeof *p);
    if (!p)
        return lt_fail(ei, LT_E_NOMEM, "out of memory preparing an upstream call");
    lt_err e = gw_prep_init(p, h, req, ei);
    if (e != LT_OK) {
        free(p);
        return e;
    }
    *out = p;
    return LT_OK;
}

lt_err gw_fetch_finish(gw_fetch_prep *p, CURLcode rc, gw_fetch_res *res, lt_errinfo *ei)
{
    if (!p || !res) {
        gw_fetch_prep_free(p);
        return lt_fail(ei, LT_E_INTERNAL, "gw_fetch_finish: NULL argument");
    }
    memset(res, 0, sizeof *res);
    res->attempts = 1;
    int retry = 0; /* one attempt only: the caller's loop has no back-off */
    lt_err e = gw_prep_result(p, rc, res, &retry, ei);
    res->elapsed_ms = (long)((lt_mono_us() - p->t0) / 1000);
    gw_fetch_prep_free(p);
    return e;
}

void gw_fetch_prep_free(gw_fetch_prep *p)
{
    if (!p)
        return;
    gw_prep_release(p);
    free(p);
}

struct gw_fetch_conn {
    CURL *h; /* kept between calls: libcurl keeps its live connections with the handle */
};

gw_fetch_conn *gw_fetch_conn_new(void)
{
    gw_fetch_init();
    gw_fetch_conn *c = calloc(1, sizeof *c);
    if (c && !(c->h = curl_easy_init())) {
        free(c);
        c = NULL;
    }
    return c;
}

void gw_fetch_conn_free(gw_fetch_conn *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    free(c);
}

lt_err gw_fetch(const gw_fetch_req *req, gw_fetch_res *res, lt_errinfo *ei)
{
    return gw_fetch_on(NULL, req, res, ei);
}

lt_err gw_fetch_on(gw_fetch_conn *c, const gw_fetch_req *req, gw_fetch_res *res, lt_errinfo *ei)
{
    if (!req || !res)
        return lt_fail(ei, LT_E_INTERNAL, "gw_fetch: NULL argument");
    memset(res, 0, sizeof *res);
    gw_fetch_init(); /* before any curl_url or handle */
    /* A kept handle is reset in gw_prep_init (every option back to its default) but keeps
     * its connections. */
    CURL *h = c ? c->h : curl_easy_init();
    if (!h)
        return lt_fail(ei, LT_E_INTERNAL, "libcurl could not create a handle");
    gw_fetch_prep p;
    lt_err e = gw_prep_init(&p, h, req, ei);
    if (e == LT_OK) {
        e = gw_run(&p, res, ei);
        gw_prep_release(&p);
        res->elapsed_ms = (long)((lt_mono_us() - p.t0) / 1000);
    }
    if (!c)
        curl_easy_cleanup(h);
    return e;
}
