/* Tests for gw_upstream: gw_fetch against upstream_peer.py (a Python standard-library server
 * started here on a free 127.0.0.1 port) and gw_template_fill. Only 127.0.0.1 is contacted;
 * the one name lookup is for a .invalid host, which never resolves. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gw_upstream.h"
#include "lt_test.h"

/* LT_RUN for the tests that need the peer. */
#define RUN_WITH(fn, arg)                                                                          \
    do {                                                                                           \
        fprintf(stderr, "-- %s\n", #fn);                                                           \
        fn(arg);                                                                                   \
    } while (0)

typedef struct peer {
    pid_t pid;
    int port;
    int closed_fd; /* bound, never listening: connecting to its port is refused */
    int closed_port;
} peer;

/* upstream_peer.py sits next to this file; CMake compiles with absolute paths. */
static void peer_script(char *out, size_t size)
{
    const char *f = __FILE__;
    const char *slash = strrchr(f, '/');
    int dir = slash ? (int)(slash - f + 1) : 0;
    snprintf(out, size, "%.*supstream_peer.py", dir, f);
}

static int peer_read_port(int fd)
{
    char line[64];
    size_t n = 0;
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    while (n + 1 < sizeof line && poll(&pf, 1, 10000) == 1) {
        ssize_t r = read(fd, line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    int port = 0;
    return sscanf(line, "PORT %d", &port) == 1 ? port : -1;
}

static int peer_start(peer *p)
{
    char script[1024];
    peer_script(script, sizeof script);
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    p->pid = fork();
    if (p->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive a crashed test */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/usr/bin/python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    p->port = p->pid > 0 ? peer_read_port(fds[0]) : -1;
    close(fds[0]);
    return p->port > 0 ? 0 : -1;
}

static void peer_stop(peer *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        p->pid = 0;
    }
    if (p->closed_fd >= 0)
        close(p->closed_fd);
}

static int closed_port_open(peer *p)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    p->closed_fd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->closed_fd < 0 || bind(p->closed_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(p->closed_fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    p->closed_port = ntohs(a.sin_port);
    return 0;
}

static const char SOAP_BODY[] =
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
    "<soap:Body><Get/></soap:Body></soap:Envelope>";

enum { PEER, CLOSED, ABSOLUTE }; /* how a case's url is formed */

typedef struct fetch_case {
    const char *name;
    int where;
    const char *url; /* path on the peer, or a whole URL with ABSOLUTE */
    const char *method, *body, *ctype, *soap_action, *inm;
    long connect_ms, timeout_ms;
    size_t max_bytes;
    int retries, follow;
    gw_fetch_auth auth;
    lt_err want;
    long want_status;     /* -1 = do not check */
    const char *want_ct;  /* Content-Type, or NULL */
    const char *want_sub; /* substring of the body, or NULL */
    int want_attempts;    /* 0 = do not check */
    long max_ms;          /* 0 = do not check */
    int want_no_body;
} fetch_case;

static const fetch_case FETCH[] = {
    {"ok", PEER, "/ok", .want = LT_OK, .want_status = 200, .want_ct = "application/json",
     .want_sub = "\"ok\": true", .want_attempts = 1},
    {"soap action sent", PEER, "/soap", "POST", SOAP_BODY, "text/xml; charset=utf-8",
     "urn:test#Get", .want = LT_OK, .want_status = 200, .want_ct = "text/xml; charset=utf-8",
     .want_sub = "<r>42</r>"},
    {"soap action already quoted", PEER, "/soap", "POST", SOAP_BODY, "text/xml", "\"urn:test#Get\"",
     .want = LT_OK, .want_status = 200, .want_sub = "<r>42</r>"},
    {"soap wrong action keeps the fault", PEER, "/soap", "POST", SOAP_BODY, "text/xml",
     "urn:test#Other", .want = LT_E_UPSTREAM, .want_status = 500, .want_sub = "faultstring"},
    {"post body and type", PEER, "/echo", "POST", "a=1&b=\xc3\xa9",
     "application/x-www-form-urlencoded", .want = LT_OK, .want_status = 200,
     .want_ct = "application/x-www-form-urlencoded", .want_sub = "a=1&b=\xc3\xa9"},
    {"over cap (Content-Length)", PEER, "/big", .max_bytes = 65536, .want = LT_E_UPSTREAM,
     .want_status = 200, .max_ms = 2000, .want_no_body = 1},
    {"over cap (streamed)", PEER, "/big-stream", .max_bytes = 65536, .want = LT_E_UPSTREAM,
     .want_status = 200, .max_ms = 2000, .want_no_body = 1},
    {"under a larger cap", PEER, "/big", .max_bytes = 4u << 20, .want = LT_OK, .want_status = 200,
     .want_sub = "bbbb"},
    {"slow answer times out", PEER, "/slow", .timeout_ms = 500, .want = LT_E_TIMEOUT,
     .want_status = -1, .max_ms = 1200},
    {"trickle times out", PEER, "/trickle", .timeout_ms = 1000, .want = LT_E_TIMEOUT,
     .want_status = -1, .max_ms = 2000},
    {"refused", CLOSED, "/ok", .want = LT_E_UNAVAILABLE, .want_status = 0, .max_ms = 1500},
    {"unresolvable", ABSOLUTE, "http://nonexistent.invalid/", .connect_ms = 1500,
     .want = LT_E_UNAVAILABLE, .want_status = 0, .max_ms = 3000},
    {"503 then 200 retried", PEER, "/status/503?c=retry", .retries = 2, .want = LT_OK,
     .want_status = 200, .want_sub = "second", .want_attempts = 2},
    {"429 then 200 retried", PEER, "/status/429?c=retry", .retries = 1, .want = LT_OK,
     .want_status = 200, .want_attempts = 2},
    {"503 without retries", PEER, "/status/503?c=once", .want = LT_E_UPSTREAM, .want_status = 503,
     .want_sub = "try again", .want_attempts = 1},
    {"503 retries exhausted", PEER, "/always/503", .retries = 2, .want = LT_E_UPSTREAM,
     .want_status = 503, .want_attempts = 3},
    {"404 not retried", PEER, "/always/404", .retries = 3, .want = LT_E_UPSTREAM,
     .want_status = 404, .want_attempts = 1},
    {"refused retried", CLOSED, "/ok", .retries = 1, .want = LT_E_UNAVAILABLE, .want_status = 0,
     .want_attempts = 2},
    {"etag conditional miss", PEER, "/etag", .inm = "\"v0\"", .want = LT_OK, .want_status = 200,
     .want_sub = "\"v\": 1"},
    {"etag 304", PEER, "/etag", .inm = "\"v1\"", .want = LT_OK, .want_status = 304},
    {"basic good", PEER, "/basic",
     .auth = {.type = "basic", .username = "user", .password = "secret"}, .want = LT_OK,
     .want_status = 200, .want_sub = "\"user\""},
    {"basic bad", PEER, "/basic",
     .auth = {.type = "basic", .username = "user", .password = "wrong"}, .want = LT_E_UPSTREAM,
     .want_status = 401},
    {"basic missing", PEER, "/basic", .want = LT_E_UPSTREAM, .want_status = 401},
    {"bearer good", PEER, "/bearer", .auth = {.type = "bearer", .token = "tok-123"}, .want = LT_OK,
     .want_status = 200, .want_sub = "bearer"},
    {"bearer bad", PEER, "/bearer", .auth = {.type = "bearer", .token = "tok-999"},
     .want = LT_E_UPSTREAM, .want_status = 401},
    {"redirect not followed", PEER, "/redirect", .want = LT_E_UPSTREAM, .want_status = 302},
    {"redirect followed", PEER, "/redirect", .follow = 1, .want = LT_OK, .want_status = 200,
     .want_sub = "\"ok\": true"},
    {"redirect to file refused", PEER, "/redirect-file", .follow = 1, .want = LT_E_UPSTREAM,
     .want_status = -1},
    {"file url refused", ABSOLUTE, "file:///etc/passwd", .want = LT_E_INVALID, .want_status = 0,
     .want_no_body = 1},
    {"ftp url refused", ABSOLUTE, "ftp://127.0.0.1/x", .want = LT_E_INVALID, .want_status = 0},
    {"malformed url", ABSOLUTE, "http://[::1/", .want = LT_E_INVALID, .want_status = 0},
    {"bad method", PEER, "/ok", "PUT", .want = LT_E_INVALID, .want_status = 0},
    {"zero cap", PEER, "/ok", .max_bytes = (size_t)-1, .want = LT_E_INVALID, .want_status = 0},
    {"zero timeout", PEER, "/ok", .timeout_ms = -1, .want = LT_E_INVALID, .want_status = 0},
    {"unknown auth", PEER, "/ok", .auth = {.type = "digest", .username = "u"}, .want = LT_E_INVALID,
     .want_status = 0},
    {"bearer without token", PEER, "/ok", .auth = {.type = "bearer"}, .want = LT_E_INVALID,
     .want_status = 0},
    {"header injection", PEER, "/soap", "POST", SOAP_BODY, "text/xml", "a\r\nX-Evil: 1",
     .want = LT_E_INVALID, .want_status = 0},
};

static void build_url(const fetch_case *c, const peer *p, char *url, size_t size)
{
    if (c->where == ABSOLUTE)
        snprintf(url, size, "%s", c->url);
    else
        snprintf(url, size, "http://127.0.0.1:%d%s", c->where == PEER ? p->port : p->closed_port,
                 c->url);
}

/* Table defaults: 1 s connect, 5 s total, 1 MiB cap, 20 ms back-off. (size_t)-1 and -1 stand
 * for an explicit 0, so validation cases can be written in the table. */
static void build_req(const fetch_case *c, const char *url, gw_fetch_req *q)
{
    memset(q, 0, sizeof *q);
    q->method = c->method ? c->method : "GET";
    q->url = url;
    q->body = c->body;
    q->body_len = c->body ? strlen(c->body) : 0;
    q->content_type = c->ctype;
    q->soap_action = c->soap_action;
    q->if_none_match = c->inm;
    q->connect_timeout_ms = c->connect_ms ? c->connect_ms : 1000;
    q->timeout_ms = c->timeout_ms < 0 ? 0 : c->timeout_ms ? c->timeout_ms : 5000;
    q->max_bytes = c->max_bytes == (size_t)-1 ? 0 : c->max_bytes ? c->max_bytes : 1u << 20;
    q->retries = c->retries;
    q->backoff_ms = 20;
    q->auth = c->auth;
    q->follow_redirects = c->follow;
}

static void check_case(const fetch_case *c, const gw_fetch_res *res, lt_err e, const lt_errinfo *ei)
{
    CHECK_MSG(e == c->want, "%s: got %s (%s), want %s", c->name, lt_strerror(e), ei->detail,
              lt_strerror(c->want));
    if (c->want_status >= 0)
        CHECK_MSG(res->status == c->want_status, "%s: status %ld", c->name, res->status);
    if (c->want_ct)
        CHECK_MSG(res->content_type && strcmp(res->content_type, c->want_ct) == 0,
                  "%s: content type %s", c->name, res->content_type ? res->content_type : "-");
    if (c->want_sub)
        CHECK_MSG(res->body && strstr(res->body, c->want_sub), "%s: body %.80s", c->name,
                  res->body ? res->body : "(null)");
    if (c->want_attempts)
        CHECK_MSG(res->attempts == c->want_attempts, "%s: attempts %d", c->name, res->attempts);
    if (c->max_ms)
        CHECK_MSG(res->elapsed_ms <= c->max_ms, "%s: took %ld ms", c->name, res->elapsed_ms);
    if (c->want_no_body)
        CHECK_MSG(res->body == NULL && res->len == 0, "%s: body kept", c->name);
    if (e != LT_OK)
        CHECK_MSG(ei->detail[0] != '\0', "%s: empty detail", c->name);
    if (e == LT_OK)
        CHECK_MSG(res->body != NULL || res->status == 304, "%s: no body", c->name);
}

static void test_fetch_table(const peer *p)
{
    for (size_t i = 0; i < sizeof FETCH / sizeof FETCH[0]; i++) {
        const fetch_case *c = &FETCH[i];
        char url[256];
        gw_fetch_req q;
        gw_fetch_res res;
        lt_errinfo ei = {0};
        build_url(c, p, url, sizeof url);
        build_req(c, url, &q);
        lt_err e = gw_fetch(&q, &res, &ei);
        check_case(c, &res, e, &ei);
        gw_fetch_res_free(&res);
        lt_errinfo_clear(&ei);
    }
}

static lt_err get(const char *url, const char *inm, gw_fetch_res *res, lt_errinfo *ei)
{
    gw_fetch_req q = {.method = "GET",
                      .url = url,
                      .connect_timeout_ms = 1000,
                      .timeout_ms = 5000,
                      .max_bytes = 1u << 20,
                      .if_none_match = inm};
    return gw_fetch(&q, res, ei);
}

/* A kept connection serves successive calls (each fully reset: an option of one call, such as
 * If-None-Match, never leaks into the next), and errors on it leave it usable. */
static void test_kept_connection(const peer *p)
{
    char ok[128], etag[128], closed[128];
    snprintf(ok, sizeof ok, "http://127.0.0.1:%d/ok", p->port);
    snprintf(etag, sizeof etag, "http://127.0.0.1:%d/etag", p->port);
    snprintf(closed, sizeof closed, "http://127.0.0.1:%d/ok", p->closed_port);
    gw_fetch_conn *c = gw_fetch_conn_new();
    CHECK(c != NULL);
    for (int i = 0; c && i < 3; i++) {
        gw_fetch_res res;
        lt_errinfo ei = {0};
        gw_fetch_req q = {.method = "GET", .url = ok, .connect_timeout_ms = 1000,
                          .timeout_ms = 5000, .max_bytes = 1u << 20};
        CHECK(gw_fetch_on(c, &q, &res, &ei) == LT_OK && res.status == 200 && res.len > 0);
        gw_fetch_res_free(&res);
        q.url = etag;
        q.if_none_match = i == 0 ? "\"v1\"" : NULL;
        CHECK(gw_fetch_on(c, &q, &res, &ei) == LT_OK);
        CHECK(res.not_modified == (i == 0)); /* the header is not carried to later calls */
        gw_fetch_res_free(&res);
        q.url = closed;
        q.if_none_match = NULL;
        CHECK(gw_fetch_on(c, &q, &res, &ei) == LT_E_UNAVAILABLE);
        gw_fetch_res_free(&res);
        lt_errinfo_clear(&ei);
    }
    gw_fetch_conn_free(c);
}

/* An ETag and Last-Modified come back; sending the ETag gets a 304 marked not_modified. */
static void test_etag_round_trip(const peer *p)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/etag", p->port);
    gw_fetch_res res;
    lt_errinfo ei = {0};
    CHECK(get(url, NULL, &res, &ei) == LT_OK);
    CHECK_STR(res.etag, "\"v1\"");
    CHECK_STR(res.last_modified, "Wed, 21 Oct 2026 07:28:00 GMT");
    CHECK(res.not_modified == 0);
    char *etag = res.etag;
    res.etag = NULL;
    gw_fetch_res_free(&res);
    CHECK(get(url, etag, &res, &ei) == LT_OK);
    CHECK(res.status == 304 && res.not_modified == 1);
    CHECK(res.len == 0);
    free(etag);
    gw_fetch_res_free(&res);
    lt_errinfo_clear(&ei);
}

typedef struct par_call {
    const peer *p;
    lt_err e;
    long status;
} par_call;

static void *par_fetch(void *arg)
{
    par_call *c = arg;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok", c->p->port);
    gw_fetch_res res;
    lt_errinfo ei = {0};
    c->e = get(url, NULL, &res, &ei);
    c->status = res.status;
    gw_fetch_res_free(&res);
    lt_errinfo_clear(&ei);
    return NULL;
}

/* Many workers making their first call at once: libcurl is initialised exactly once and the
 * calls share no state. Runs before any other fetch so it is the first use of libcurl. */
static void test_parallel_first_calls(const peer *p)
{
    enum { N = 8 };
    pthread_t th[N];
    par_call calls[N];
    for (int i = 0; i < N; i++) {
        calls[i] = (par_call){.p = p, .e = LT_E_INTERNAL};
        CHECK(pthread_create(&th[i], NULL, par_fetch, &calls[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        CHECK_MSG(calls[i].e == LT_OK && calls[i].status == 200, "thread %d: %s %ld", i,
                  lt_strerror(calls[i].e), calls[i].status);
    }
}

/* Messages name host and port but never the URL's credentials, path or query. */
static void test_detail_hides_credentials(const peer *p)
{
    char url[160], hostport[64];
    snprintf(url, sizeof url, "http://user:hunter2@127.0.0.1:%d/always/503?key=s3cr3t", p->port);
    snprintf(hostport, sizeof hostport, "127.0.0.1:%d", p->port);
    gw_fetch_res res;
    lt_errinfo ei = {0};
    CHECK(get(url, NULL, &res, &ei) == LT_E_UPSTREAM);
    CHECK_MSG(strstr(ei.detail, hostport) != NULL, "detail: %s", ei.detail);
    CHECK(strstr(ei.detail, "hunter2") == NULL && strstr(ei.detail, "s3cr3t") == NULL);
    CHECK(strstr(ei.detail, "user") == NULL);
    gw_fetch_res_free(&res);
    lt_errinfo_clear(&ei);
}

/* The content of a refused file:// URL never comes back, even when redirects are on. */
static void test_file_never_read(void)
{
    gw_fetch_req q = {.method = "GET",
                      .url = "file:///etc/passwd",
                      .connect_timeout_ms = 500,
                      .timeout_ms = 500,
                      .max_bytes = 1u << 20,
                      .follow_redirects = 1};
    gw_fetch_res res;
    lt_errinfo ei = {0};
    lt_err e = gw_fetch(&q, &res, &ei);
    CHECK(e == LT_E_INVALID || e == LT_E_UNAVAILABLE);
    CHECK(res.body == NULL || strstr(res.body, "root:") == NULL);
    gw_fetch_res_free(&res);
    gw_fetch_res_free(&res); /* twice is harmless */
    lt_errinfo_clear(&ei);
}

typedef struct tmpl_case {
    const char *name, *tmpl;
    gw_escape esc;
    lt_err want;
    const char *out; /* on LT_OK: the filled text; otherwise a substring of the detail */
} tmpl_case;

static const char TMPL_PARAMS[] =
    "{\"s\": \"a<b>&\\\"c\\\"'d'\", \"q\": \"H\xc3\xa0 N\xe1\xbb\x99i & x=1/2?\","
    " \"n\": 42, \"neg\": -7, \"r\": 1.5, \"tenth\": 0.1, \"t\": true, \"f\": false,"
    " \"empty\": \"\", \"ctl\": \"a\\u0001b\", \"tab\": \"a\\tb\", \"nul\": null,"
    " \"arr\": [1], \"obj\": {}, \"x\": \"X\", \"y\": \"Y\", \"_k9\": \"k\"}";

static const tmpl_case TMPL[] = {
    {"xml escaping", "<v>{{s}}</v>", GW_ESC_XML, LT_OK,
     "<v>a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;</v>"},
    {"url escaping", "?q={{q}}", GW_ESC_URL, LT_OK,
     "?q=H%C3%A0%20N%E1%BB%99i%20%26%20x%3D1%2F2%3F"},
    {"url unreserved kept", "{{x}}-._~", GW_ESC_URL, LT_OK, "X-._~"},
    {"utf-8 kept in xml", "<v>{{q}}</v>", GW_ESC_XML, LT_OK,
     "<v>H\xc3\xa0 N\xe1\xbb\x99i &amp; x=1/2?</v>"},
    {"numbers", "{{n}} {{neg}} {{r}} {{tenth}}", GW_ESC_XML, LT_OK, "42 -7 1.5 0.1"},
    {"booleans", "{{t}},{{f}}", GW_ESC_URL, LT_OK, "true,false"},
    {"only values are escaped", "a,b={{q}}", GW_ESC_URL, LT_OK,
     "a,b=H%C3%A0%20N%E1%BB%99i%20%26%20x%3D1%2F2%3F"},
    {"booleans xml", "{{t}},{{f}}", GW_ESC_XML, LT_OK, "true,false"},
    {"blanks inside braces", "[{{ x }}][{{\tx\t}}]", GW_ESC_XML, LT_OK, "[X][X]"},
    {"adjacent placeholders", "{{x}}{{y}}{{x}}", GW_ESC_XML, LT_OK, "XYX"},
    {"underscore and digits", "{{_k9}}", GW_ESC_XML, LT_OK, "k"},
    {"empty value", "a{{empty}}b", GW_ESC_XML, LT_OK, "ab"},
    {"no placeholders", "<a>plain & {single} }} braces</a>", GW_ESC_XML, LT_OK,
     "<a>plain & {single} }} braces</a>"},
    {"empty template", "", GW_ESC_URL, LT_OK, ""},
    {"tab allowed in xml", "{{tab}}", GW_ESC_XML, LT_OK, "a\tb"},
    {"control char in url", "{{ctl}}", GW_ESC_URL, LT_OK, "a%01b"},
    {"extra closing brace", "{{x}}}", GW_ESC_XML, LT_OK, "X}"},
    {"unknown name", "<v>{{nope}}</v>", GW_ESC_XML, LT_E_INVALID,
     "unknown template parameter 'nope'"},
    {"unterminated", "<v>{{x</v>", GW_ESC_XML, LT_E_INVALID, "no closing '}}'"},
    {"unterminated at end", "abc{{", GW_ESC_XML, LT_E_INVALID, "no closing '}}'"},
    {"second unterminated", "{{x}}{{y", GW_ESC_URL, LT_E_INVALID, "no closing '}}'"},
    {"empty name", "{{}}", GW_ESC_XML, LT_E_INVALID, "bad template parameter name"},
    {"blank name", "{{  }}", GW_ESC_XML, LT_E_INVALID, "bad template parameter name"},
    {"name with digit first", "{{9a}}", GW_ESC_XML, LT_E_INVALID, "bad template parameter"},
    {"name with space inside", "{{a b}}", GW_ESC_XML, LT_E_INVALID, "bad template parameter"},
    {"name with dash", "{{a-b}}", GW_ESC_XML, LT_E_INVALID, "bad template parameter"},
    {"triple brace", "{{{x}}}", GW_ESC_XML, LT_E_INVALID, "bad template parameter"},
    {"null value", "{{nul}}", GW_ESC_XML, LT_E_INVALID, "string, number or boolean"},
    {"array value", "{{arr}}", GW_ESC_XML, LT_E_INVALID, "string, number or boolean"},
    {"object value", "{{obj}}", GW_ESC_URL, LT_E_INVALID, "string, number or boolean"},
    {"control char in xml", "{{ctl}}", GW_ESC_XML, LT_E_INVALID, "control character"},
};

static void test_template_table(void)
{
    json_t *params = json_loads(TMPL_PARAMS, 0, NULL);
    CHECK(params != NULL);
    for (size_t i = 0; i < sizeof TMPL / sizeof TMPL[0]; i++) {
        const tmpl_case *c = &TMPL[i];
        char *out = NULL;
        lt_errinfo ei = {0};
        lt_err e = gw_template_fill(c->tmpl, params, c->esc, &out, &ei);
        CHECK_MSG(e == c->want, "%s: got %s (%s)", c->name, lt_strerror(e), ei.detail);
        if (e == LT_OK && c->want == LT_OK)
            CHECK_MSG(out && strcmp(out, c->out) == 0, "%s: '%s'", c->name, out ? out : "-");
        else if (e != LT_OK)
            CHECK_MSG(strstr(ei.detail, c->out) && out == NULL, "%s: detail '%s'", c->name,
                      ei.detail);
        free(out);
        lt_errinfo_clear(&ei);
    }
    json_decref(params);
}

/* Without params every placeholder is unknown, and a non-object is refused. */
static void test_template_params(void)
{
    char *out = NULL;
    lt_errinfo ei = {0};
    CHECK(gw_template_fill("{{a}}", NULL, GW_ESC_XML, &out, &ei) == LT_E_INVALID);
    CHECK(strstr(ei.detail, "unknown template parameter 'a'") != NULL);
    CHECK(gw_template_fill("plain", NULL, GW_ESC_XML, &out, &ei) == LT_OK);
    CHECK_STR(out, "plain");
    free(out);
    out = NULL;
    json_t *arr = json_array();
    CHECK(gw_template_fill("x", arr, GW_ESC_URL, &out, &ei) == LT_E_INVALID && out == NULL);
    json_decref(arr);
    lt_errinfo_clear(&ei);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    LT_RUN(test_template_table);
    LT_RUN(test_template_params);
    peer p = {.pid = 0, .closed_fd = -1};
    int up = peer_start(&p) == 0 && closed_port_open(&p) == 0;
    CHECK_MSG(up, "upstream_peer.py did not start");
    if (up) {
        RUN_WITH(test_parallel_first_calls, &p);
        LT_RUN(test_file_never_read);
        RUN_WITH(test_fetch_table, &p);
        RUN_WITH(test_etag_round_trip, &p);
        RUN_WITH(test_kept_connection, &p);
        RUN_WITH(test_detail_hides_credentials, &p);
    }
    peer_stop(&p);
    return lt_test_done();
}
