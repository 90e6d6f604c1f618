/* The relay (API.md §8, POST|GET /v1/services/{id}/call): grant check, a live call to the
 * provider's source, mapping to the contract, the exchange envelope out, projected by the
 * caller's grant. Nothing is stored: a relay answer is live data.
 *
 * Threads: the handler runs on an HTTP worker and never waits for the provider. It builds a
 * job (every string the call needs is copied into it), suspends the connection, queues the
 * job and wakes the relay loop (an eventfd): one thread running a libcurl multi handle on its
 * own epoll set (curl_multi_socket_action), which starts the
 * transfer (gw_fetch_prepare, bounded by the source's timeouts) and, when it ends, classifies
 * it (gw_fetch_finish), maps and validates the answer, writes the reply into the request and
 * resumes the connection. Thread hand-offs, not the mapping, were what a worker pool paid.
 *
 * Answer shape: the exchange envelope as for records reads. When some records of the
 * provider's answer fail mapping or the contract, they are left out and the envelope gains
 * "rejected": N and "errors": [{record, field?, message}] (the first GW_RELAY_MAX_ERRORS);
 * for a caller reading through a grant, an error on a field outside the grant names neither
 * the field nor its value. Provider failures are problem+json: 504 gateway_timeout (timed
 * out), 503 service_unavailable (unreachable, or the relay queue is full), 502 bad_gateway
 * (non-2xx, unreadable answer, SOAP fault with its fault string).
 *
 * Ownership: a job is owned by the relay from submission; it borrows its request (and the
 * service through the request's arena) until the loop resumes the request, after which the
 * job is freed. gw_relay_stop makes the loop abort its transfers, answer every call 503 and
 * end; it is joined there. gw_relay_free releases the rest. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "gw_envelope.h"
#include "gw_int.h"
#include "gw_upstream.h"
#include "lt_log.h"
#include "lt_str.h"

#define GW_RELAY_INFLIGHT 128         /* upstream calls in flight at once on the multi handle */
#define GW_RELAY_HOST_CONNS 64L       /* open connections to one provider (nginx keepalive 64) */
#define GW_RELAY_CACHE_CONNS 256L    /* kept upstream connections, all providers together */
#define GW_RELAY_POLL_MS 1000         /* longest sleep of the loop with nothing to do */
#define GW_RELAY_EVENTS 64            /* epoll events taken per wait */
#define GW_RELAY_QUEUE_MAX 256        /* calls waiting for an in-flight slot; past it: 503 */
#define GW_RELAY_TIMEOUT_MS 10000     /* source.timeout_ms when the service names none */
#define GW_RELAY_CONNECT_MS 5000      /* connect timeout cap (never above the total) */
#define GW_RELAY_MAX_ERRORS 100       /* record errors listed in an answer */

typedef struct gw_job {
    struct gw_job *prev, *next; /* the queue (under the lock), then the loop's in-flight list */
    gw_req *r;                  /* borrowed until the loop resumes it */
    const rg_service *svc;      /* borrowed through r's arena: used only while r is set */
    size_t max_records;
    gw_fetch_req fq;            /* points into the strings below */
    gw_fetch_prep *prep;        /* while the transfer runs */
    CURL *h;                    /* while the transfer runs (the loop's) */
    char *url, *body, *soap_action;
    gw_source_auth auth;        /* source.auth, secrets read */
} gw_job;

struct gw_relay {
    pthread_mutex_t mu;         /* guards head, tail, queued, stopping, woken */
    gw_job *head, *tail;        /* queued: not yet on the multi handle */
    size_t queued;
    bool stopping;
    bool woken;                 /* a wakeup is pending: handlers need not send another */
    int wake_fd;                /* eventfd: handlers write it, the loop's epoll reads it */
    /* The loop thread's own (set up before it starts, released after it is joined): */
    int ep;                     /* epoll set: wake_fd and libcurl's sockets */
    int64_t timer_due;          /* when libcurl's next timeout is due (lt_mono_us); -1 none */
    unsigned char *sk;          /* per socket fd: its interest in the epoll set (SK_*) */
    size_t nsk;
    CURLM *multi;
    gw_job *active;             /* transfers on the multi handle */
    int inflight, nidle;
    CURL *idle[GW_RELAY_INFLIGHT]; /* easy handles kept for the next calls */
    pthread_t thread;
    bool running;
};

/* ---- the loop ------------------------------------------------------------------------- */

static void job_free(gw_job *j)
{
    if (!j)
        return;
    gw_fetch_prep_free(j->prep);
    free(j->url);
    free(j->body);
    free(j->soap_action);
    gw_source_auth_free(&j->auth);
    free(j);
}

static void relay_answer(gw_job *j, lt_err e, const gw_fetch_res *res, lt_errinfo *ei);

/* Answers the call, hands the connection back to libmicrohttpd and frees the job. Only the
 * loop thread answers: the handler let go of r when it queued the job. */
static void complete(gw_job *j, lt_err e, gw_fetch_res *res, lt_errinfo *ei)
{
    relay_answer(j, e, res, ei);
    gw_req_resume(j->r);
    gw_fetch_res_free(res);
    lt_errinfo_clear(ei);
    job_free(j);
}

static void refuse(gw_job *j)
{
    gw_fail(j->r, LT_E_UNAVAILABLE, "the gateway is shutting down; call again later");
    gw_req_resume(j->r);
    job_free(j);
}

static void put_handle(gw_relay *p, CURL *h)
{
    if (p->nidle < GW_RELAY_INFLIGHT)
        p->idle[p->nidle++] = h;
    else
        curl_easy_cleanup(h);
}

static void active_link(gw_relay *p, gw_job *j)
{
    j->prev = NULL;
    j->next = p->active;
    if (p->active)
        p->active->prev = j;
    p->active = j;
    p->inflight++;
}

static void active_unlink(gw_relay *p, gw_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        p->active = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->prev = j->next = NULL;
    p->inflight--;
}

static int on_close(void *arg, curl_socket_t fd);

/* Puts the job's transfer on the multi handle; a call that cannot start is answered now. */
static void start_job(gw_relay *p, gw_job *j)
{
    lt_errinfo ei = {0};
    gw_fetch_res res = {0};
    CURL *h = p->nidle ? p->idle[--p->nidle] : curl_easy_init();
    lt_err e = h ? gw_fetch_prepare(h, &j->fq, &j->prep, &ei)
                 : lt_fail(&ei, LT_E_INTERNAL, "libcurl could not create a handle");
    if (e == LT_OK) {
        curl_easy_setopt(h, CURLOPT_PRIVATE, (void *)j);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, on_close);
        curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, (void *)p);
        if (curl_multi_add_handle(p->multi, h) != CURLM_OK) {
            gw_fetch_prep_free(j->prep);
            j->prep = NULL;
            e = lt_fail(&ei, LT_E_INTERNAL, "libcurl could not start the upstream call");
        }
    }
    if (e != LT_OK) {
        if (h)
            put_handle(p, h);
        complete(j, e, &res, &ei);
        return;
    }
    j->h = h;
    active_link(p, j);
}

/* Takes the queued jobs that fit in flight; *stop when shutting down. */
static gw_job *take_queued(gw_relay *p, bool *stop)
{
    pthread_mutex_lock(&p->mu);
    p->woken = false;
    *stop = p->stopping;
    gw_job *batch = NULL, **end = &batch;
    for (int room = GW_RELAY_INFLIGHT - p->inflight; !*stop && p->head && room > 0; room--) {
        gw_job *j = p->head;
        p->head = j->next;
        p->queued--;
        j->next = NULL;
        *end = j;
        end = &j->next;
    }
    if (!p->head)
        p->tail = NULL;
    else
        p->head->prev = NULL;
    pthread_mutex_unlock(&p->mu);
    return batch;
}

/* Answers every finished transfer; returns how many. */
static int reap(gw_relay *p)
{
    int n = 0, left = 0;
    CURLMsg *m;
    while ((m = curl_multi_info_read(p->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *h = m->easy_handle; /* m is invalid once the handle is removed */
        CURLcode rc = m->data.result;
        char *priv = NULL;
        curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv);
        gw_job *j = (gw_job *)(void *)priv;
        gw_fetch_res res = {0};
        lt_errinfo ei = {0};
        lt_err e = gw_fetch_finish(j->prep, rc, &res, &ei);
        j->prep = NULL;
        curl_multi_remove_handle(p->multi, h);
        active_unlink(p, j);
        put_handle(p, h);
        j->h = NULL;
        complete(j, e, &res, &ei);
        n++;
    }
    return n;
}

/* Shutdown: in-flight transfers are aborted and, like the queued calls, answered 503. */
static void abort_all(gw_relay *p)
{
    while (p->active) {
        gw_job *j = p->active;
        curl_multi_remove_handle(p->multi, j->h);
        active_unlink(p, j);
        put_handle(p, j->h);
        refuse(j);
    }
    pthread_mutex_lock(&p->mu);
    gw_job *q = p->head;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_mutex_unlock(&p->mu);
    while (q) {
        gw_job *next = q->next;
        refuse(q);
        q = next;
    }
}

/* A socket's state in the epoll set. A kept connection that libcurl stops watching stays in
 * the set (parked, reading), so a call on a kept connection costs no epoll_ctl at all: an
 * event on a parked socket (the provider closed it) takes it out; libcurl finds the
 * connection dead when it next picks it. */
enum { SK_NONE = 0, SK_IN = 1, SK_OUT = 2, SK_PARKED = 4 };

/* The state slot of fd, grown on demand; NULL when out of memory (then nothing is parked). */
static unsigned char *sk_slot(gw_relay *p, curl_socket_t fd)
{
    size_t i = (size_t)fd;
    if (fd < 0)
        return NULL;
    if (i >= p->nsk) {
        size_t n = p->nsk ? p->nsk : 256;
        while (n <= i)
            n *= 2;
        unsigned char *g = realloc(p->sk, n);
        if (!g)
            return NULL;
        memset(g + p->nsk, SK_NONE, n - p->nsk);
        p->sk = g;
        p->nsk = n;
    }
    return &p->sk[i];
}

static int sk_set(gw_relay *p, curl_socket_t fd, int op, unsigned want)
{
    struct epoll_event ev = {.events = (want & SK_IN ? EPOLLIN : 0u) |
                                       (want & SK_OUT ? EPOLLOUT : 0u),
                             .data.fd = fd};
    int rc = epoll_ctl(p->ep, op, fd, &ev);
    if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT) /* closed behind our back */
        rc = epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev);
    return rc;
}

/* libcurl's socket callback: keeps the epoll set equal to what it waits on (plus parked). */
static int on_socket(CURL *h, curl_socket_t fd, int what, void *arg, void *sockp)
{
    gw_relay *p = arg;
    (void)h, (void)sockp;
    unsigned char *st = sk_slot(p, fd), cur = st ? *st : SK_NONE;
    unsigned want = (what & CURL_POLL_IN ? SK_IN : 0u) | (what & CURL_POLL_OUT ? SK_OUT : 0u);
    if (what == CURL_POLL_REMOVE) {
        if (st && cur == SK_IN) { /* reading only: park it as it is */
            *st = SK_IN | SK_PARKED;
        } else if (cur != SK_NONE || !st) {
            epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL);
            if (st)
                *st = SK_NONE;
        }
        return 0;
    }
    if (st && (cur & ~SK_PARKED) == want) {
        *st = (unsigned char)want;
        return 0;
    }
    int rc = sk_set(p, fd, cur != SK_NONE ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, want);
    if (st)
        *st = rc == 0 ? (unsigned char)want : SK_NONE;
    return 0;
}

/* libcurl closes a socket: the kernel drops it from the epoll set, and so does the table. */
static int on_close(void *arg, curl_socket_t fd)
{
    gw_relay *p = arg;
    if (fd >= 0 && (size_t)fd < p->nsk)
        p->sk[fd] = SK_NONE;
    return close(fd);
}

/* An event on a socket libcurl does not watch: take it out of the set. */
static bool sk_parked_event(gw_relay *p, curl_socket_t fd)
{
    if (fd < 0 || (size_t)fd >= p->nsk || !(p->sk[fd] & SK_PARKED))
        return false;
    epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL);
    p->sk[fd] = SK_NONE;
    return true;
}

static int on_timer(CURLM *m, long timeout_ms, void *arg)
{
    gw_relay *p = arg;
    (void)m;
    p->timer_due = timeout_ms < 0 ? -1 : lt_mono_us() + (int64_t)timeout_ms * 1000;
    return 0;
}

/* Runs libcurl for one socket (or its timers, fd CURL_SOCKET_TIMEOUT). */
static void drive(gw_relay *p, curl_socket_t fd, int mask)
{
    int running = 0;
    curl_multi_socket_action(p->multi, fd, mask, &running);
}

/* Starts the queued calls that fit; false when shutting down. */
static bool start_queued(gw_relay *p)
{
    uint64_t n;
    if (read(p->wake_fd, &n, sizeof n) < 0 && errno != EAGAIN)
        lt_log(LT_LOG_DEBUG, "relay: reading the wakeup eventfd failed (errno %d)", errno);
    bool stop = false;
    gw_job *batch = take_queued(p, &stop);
    if (stop)
        return false;
    for (bool any = batch != NULL; batch || any; any = false) {
        while (batch) {
            gw_job *next = batch->next;
            start_job(p, batch);
            batch = next;
        }
        if (any) /* new handles are due at once: their timers say so */
            drive(p, CURL_SOCKET_TIMEOUT, 0);
    }
    return true;
}

static int event_mask(uint32_t ev)
{
    return (ev & EPOLLIN ? CURL_CSELECT_IN : 0) | (ev & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
           (ev & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);
}

/* The one relay thread: every upstream transfer runs on one libcurl multi handle driven by
 * socket events (curl_multi_socket_action), so a pass costs the sockets that are ready, not
 * one check per transfer in flight. A call costs no thread hand-off beyond the suspend and
 * resume of its connection. */
static void *loop(void *arg)
{
    gw_relay *p = arg;
    struct epoll_event evs[GW_RELAY_EVENTS];
    bool woke = true; /* take whatever was queued before the loop started */
    for (;;) {
        if (woke && !start_queued(p))
            break;
        woke = false;
        if (reap(p) > 0) {
            woke = true; /* freed slots may take queued calls at once */
            continue;
        }
        int64_t now = lt_mono_us();
        if (p->timer_due >= 0 && now >= p->timer_due) {
            p->timer_due = -1; /* libcurl sets the next one */
            drive(p, CURL_SOCKET_TIMEOUT, 0);
            continue;
        }
        int64_t left = p->timer_due < 0 ? GW_RELAY_POLL_MS : (p->timer_due - now + 999) / 1000;
        int n = epoll_wait(p->ep, evs, GW_RELAY_EVENTS,
                           left > GW_RELAY_POLL_MS ? GW_RELAY_POLL_MS : (int)left);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == p->wake_fd)
                woke = true;
            else if (!sk_parked_event(p, evs[i].data.fd))
                drive(p, evs[i].data.fd, event_mask(evs[i].events));
        }
    }
    abort_all(p);
    return NULL;
}

static void pool_destroy(gw_relay *p)
{
    while (p->nidle > 0)
        curl_easy_cleanup(p->idle[--p->nidle]);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    free(p->sk); /* after the multi handle: closing its connections updates the table */
    if (p->ep >= 0)
        close(p->ep);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Wakes the loop (any thread). */
static void wake(gw_relay *p)
{
    uint64_t one = 1;
    if (write(p->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        lt_log(LT_LOG_WARN, "relay: cannot wake the relay loop (errno %d)", errno);
}

lt_err gw_relay_start(gw_ctx *ctx, gw_relay **out, lt_errinfo *ei)
{
    (void)ctx;
    gw_relay *p = calloc(1, sizeof *p);
    if (!p)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    gw_fetch_init(); /* before the multi handle */
    p->timer_due = -1;
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = p->wake_fd};
    bool fds = p->wake_fd >= 0 && p->ep >= 0 && epoll_ctl(p->ep, EPOLL_CTL_ADD, p->wake_fd,
                                                          &ev) == 0;
    p->multi = fds ? curl_multi_init() : NULL;
    if (p->multi) {
        curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, GW_RELAY_HOST_CONNS);
        /* A fixed cache: by default it follows the transfers in flight, so a dip in load
         * closed kept connections that the next burst had to open again. */
        curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, GW_RELAY_CACHE_CONNS);
        curl_multi_setopt(p->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(p->multi, CURLMOPT_SOCKETDATA, p);
        curl_multi_setopt(p->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(p->multi, CURLMOPT_TIMERDATA, p);
        p->running = pthread_create(&p->thread, NULL, loop, p) == 0;
    }
    if (!p->running) {
        pool_destroy(p);
        return lt_fail(ei, LT_E_INTERNAL, "cannot start the relay thread");
    }
    *out = p;
    return LT_OK;
}

void gw_relay_stop(gw_relay *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_mutex_unlock(&p->mu);
    if (!p->running)
        return;
    wake(p);
    pthread_join(p->thread, NULL); /* the loop answers every call before it ends */
    p->running = false;
}

void gw_relay_free(gw_relay *p)
{
    if (!p)
        return;
    gw_relay_stop(p);
    pool_destroy(p);
}

/* Queues the job and suspends the request; false after answering 503 (full or stopping). */
static bool submit(gw_req *r, gw_job *j)
{
    gw_relay *p = r->ctx->relay;
    if (!p) {
        gw_fail(r, LT_E_UNAVAILABLE, "the relay is not running");
        return false;
    }
    pthread_mutex_lock(&p->mu);
    bool ok = !p->stopping && p->queued < GW_RELAY_QUEUE_MAX;
    if (ok) {
        /* Suspended before the loop can see the job, so a resume never precedes it. */
        gw_req_suspend(r);
        j->r = r;
        j->prev = p->tail;
        if (p->tail)
            p->tail->next = j;
        else
            p->head = j;
        p->tail = j;
        p->queued++;
        /* One wakeup per loop pass is enough; the loop clears woken when it takes the
         * queue, under this lock, so no job is left unseen. The wakeup eventfd outlives
         * every submit: it is freed only after the HTTP daemon stops. */
        if (!p->woken) {
            p->woken = true;
            wake(p);
        }
    }
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->mu);
    if (!ok) {
        r->ei.retry_after = 1;
        gw_fail(r, LT_E_UNAVAILABLE, stopping ? "the gateway is shutting down"
                : "too many relay calls are waiting for their providers; call again later");
    }
    return ok;
}

/* ---- the answer (on the relay loop) ----------------------------------------------------- */

typedef struct relay_out {
    gw_req *r;
    const rg_service *svc;
    lt_buf rec;     /* one record's canonical text */
    size_t count, rejected;
    json_t *errors; /* listed record errors (new) */
} relay_out;

/* A record error as the caller may see it: through a grant, nothing of a field outside it. */
static void add_error(relay_out *o, long index, const char *field, const char *message)
{
    if (json_array_size(o->errors) >= GW_RELAY_MAX_ERRORS)
        return;
    bool shown = !field || gw_grant_allows(o->r->grant, field, strlen(field));
    json_t *e = json_pack("{s:I}", "record", (json_int_t)index);
    if (field && shown)
        json_object_set_new(e, "field", json_string(field));
    json_t *m = json_string(shown && message ? message : "a field outside your grant does "
                            "not meet the contract");
    json_object_set_new(e, "message", m ? m : json_string("does not meet the contract"));
    json_array_append_new(o->errors, e);
}

static void add_errors(relay_out *o, long index, const json_t *errs)
{
    size_t i;
    json_t *e;
    if (!json_array_size(errs))
        add_error(o, index, NULL, "does not meet the contract");
    json_array_foreach(errs, i, e) {
        add_error(o, index, json_string_value(json_object_get(e, "field")),
                  json_string_value(json_object_get(e, "message")));
    }
}

static int on_record(void *ctx, long index, json_t *mapped, const json_t *raw,
                     const char *field, const char *error)
{
    relay_out *o = ctx;
    lt_errinfo ei = {0};
    json_t *norm = NULL;
    (void)raw;
    if (!mapped) {
        o->rejected++;
        add_error(o, index, field, error ? error : "could not be mapped");
    } else if (ct_validate(o->svc->contract, mapped, index, rg_code_exists, o->r->ctx->rg,
                           &norm, &ei) == LT_OK) {
        lt_buf_reset(&o->rec);
        ct_record_write(o->svc->contract, norm, &o->rec);
        gw_env_record(&o->r->out, o->count++, o->r->grant, o->rec.data, o->rec.len);
        json_decref(norm);
    } else {
        o->rejected++;
        add_errors(o, index, ei.errors);
    }
    json_decref(mapped);
    lt_errinfo_clear(&ei);
    return o->r->out.err || o->rec.err ? -1 : 0;
}

/* Provider failures keep gw_fetch's code (504/503/502); anything else about the call is
 * the gateway's side of the source, said as a bad gateway too. */
static void fail_upstream(gw_req *r, lt_err e, const lt_errinfo *ei)
{
    lt_err code = e == LT_E_TIMEOUT || e == LT_E_UNAVAILABLE || e == LT_E_NOMEM
                  ? e : LT_E_UPSTREAM;
    gw_fail(r, code, "%s", ei->detail[0] ? ei->detail : lt_strerror(e));
}

/* Closes the envelope; with rejects, reopens its last brace for "rejected" and "errors". */
static void finish(relay_out *o)
{
    gw_req *r = o->r;
    gw_env_end(&r->out, r->grant, o->svc->contract, NULL, NULL);
    if (o->rejected && !r->out.err) {
        char *errs = json_dumps(o->errors, JSON_COMPACT);
        r->out.len--;
        lt_buf_printf(&r->out, ",\"rejected\":%zu,\"errors\":%s}", o->rejected,
                      errs ? errs : "[]");
        free(errs);
    }
    if (r->out.err) {
        gw_fail(r, r->out.err, "the answer is too large to build");
        return;
    }
    r->status = 200;
    r->content_type = GW_MEDIA_ENVELOPE;
    r->records = o->count;
}

static int drop_record(void *ctx, long index, json_t *mapped, const json_t *raw,
                       const char *field, const char *error)
{
    (void)ctx, (void)index, (void)raw, (void)field, (void)error;
    json_decref(mapped);
    return 1;
}

/* SOAP 1.1 sends a Fault with HTTP 500: its fault string says more than the status. */
static bool fail_soap_fault(gw_job *j, const gw_fetch_res *res)
{
    if (strcmp(j->svc->format, "soap") != 0 || res->status != 500 || !res->body)
        return false;
    lt_errinfo fe = {0};
    lt_err e = ad_map_payload(j->svc->mapping, j->svc->format, res->body, res->len, 1,
                              drop_record, NULL, &fe);
    bool fault = e == LT_E_UPSTREAM && fe.detail[0];
    if (fault)
        gw_fail(j->r, LT_E_UPSTREAM, "%s", fe.detail);
    lt_errinfo_clear(&fe);
    return fault;
}

static void relay_answer(gw_job *j, lt_err e, const gw_fetch_res *res, lt_errinfo *ei)
{
    gw_req *r = j->r;
    if (e) {
        if (!(e == LT_E_UPSTREAM && fail_soap_fault(j, res)))
            fail_upstream(r, e, ei);
        return;
    }
    relay_out o = {r, j->svc, {0}, 0, 0, json_array()};
    lt_buf_init(&o.rec, 0);
    lt_buf_reset(&r->out);
    gw_env_begin(&r->out, j->svc);
    lt_errinfo me = {0};
    e = ad_map_payload(j->svc->mapping, j->svc->format, res->body ? res->body : "", res->len,
                       j->max_records, on_record, &o, &me);
    if (e == LT_E_UPSTREAM) /* a SOAP fault: its fault string is the detail */
        gw_fail(r, LT_E_UPSTREAM, "%s", me.detail);
    else if (e)
        gw_fail(r, e == LT_E_NOMEM ? e : LT_E_UPSTREAM, "the provider's answer could not be "
                "read as %s: %s", j->svc->format, me.detail[0] ? me.detail : lt_strerror(e));
    else
        finish(&o);
    lt_log(LT_LOG_DEBUG, "relay service=%s status=%ld bytes=%zu records=%zu rejected=%zu "
           "upstream_ms=%ld id=%s", j->svc->id, res->status, res->len, o.count, o.rejected,
           res->elapsed_ms, r->request_id);
    lt_errinfo_clear(&me);
    lt_buf_free(&o.rec);
    json_decref(o.errors);
}

/* ---- the handler (on an HTTP worker) ----------------------------------------------------- */

static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    json_t *v = json_string(value ? value : "");
    if (!v) /* not UTF-8: the caller is told by the check after the walk */
        return MHD_NO;
    json_object_set_new(cls, key, v);
    return MHD_YES;
}

/* True when tmpl has a {{name}} placeholder (blanks inside the braces allowed). */
static bool template_names(const char *tmpl, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = tmpl ? strstr(tmpl, "{{") : NULL; p; p = strstr(p, "{{")) {
        p += 2;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, name, n) != 0)
            continue;
        const char *q = p + n;
        while (*q == ' ' || *q == '\t')
            q++;
        if (q[0] == '}' && q[1] == '}')
            return true;
    }
    return false;
}

/* A caller's parameter the template does not take is a mistake worth saying (422). */
static bool params_known(gw_req *r, const json_t *caller, const char *tmpl)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)caller, k, v) {
        if (!template_names(tmpl, k)) {
            gw_fail(r, LT_E_INVALID, "unknown parameter '%.64s': the service's "
                    "request_template has no {{%.64s}}", k, k);
            return false;
        }
    }
    return true;
}

/* The caller's parameters over source.params: GET takes the query, POST its JSON object
 * body (empty = none). New reference, or NULL after replying. */
static json_t *call_params(gw_req *r, const json_t *src)
{
    json_t *defaults = json_object_get(src, "params");
    json_t *p = json_is_object(defaults) ? json_deep_copy(defaults) : json_object();
    if (strcmp(r->method, "GET") == 0) {
        json_t *q = json_object();
        int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
        if (MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_cb, q) != n) {
            json_decref(q);
            json_decref(p);
            gw_fail(r, LT_E_BAD_UTF8, "a query parameter is not valid UTF-8");
            return NULL;
        }
        bool ok = params_known(r, q, json_string_value(json_object_get(src,
                                                                         "request_template")));
        json_object_update(p, q);
        json_decref(q);
        if (!ok)
            json_decref(p);
        return ok ? p : NULL;
    }
    if (r->body.len == 0)
        return p;
    json_t *b = gw_body_json(r); /* arena-owned */
    if (!b || !json_is_object(b)) {
        json_decref(p);
        if (b)
            gw_fail(r, LT_E_INVALID, "the body must be a JSON object of parameters");
        return NULL;
    }
    if (!params_known(r, b, json_string_value(json_object_get(src, "request_template")))) {
        json_decref(p);
        return NULL;
    }
    json_object_update(p, b);
    return p;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static bool job_auth(gw_job *j, const lt_config *cfg, const json_t *auth)
{
    lt_errinfo ei = {0};
    lt_err e = gw_source_auth_load(cfg, auth, &j->auth, &ei);
    if (e)
        lt_log(LT_LOG_WARN, "relay: %s", ei.detail);
    lt_errinfo_clear(&ei);
    j->fq.auth = j->auth.auth;
    return e == LT_OK;
}

/* The URL with a filled REST template as its query (joined with '?' or '&'). New. */
static char *join_url(const char *url, const char *query)
{
    while (query && (*query == '?' || *query == '&'))
        query++;
    if (!query || !*query)
        return strdup(url);
    size_t n = strlen(url) + strlen(query) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%c%s", url, strchr(url, '?') ? '&' : '?', query);
    return out;
}

/* Fills the fetch request like a pull: SOAP/XML POST the filled template, REST formats GET
 * it as the query. Takes `filled` (new). */
static bool job_request(gw_job *j, const rg_service *svc, const json_t *src, char *filled,
                        size_t max_bytes)
{
    bool post = strcmp(svc->format, "soap") == 0 || strcmp(svc->format, "xml") == 0;
    const char *url = json_string_value(json_object_get(src, "url"));
    json_int_t t = json_integer_value(json_object_get(src, "timeout_ms"));
    long timeout = t > 0 ? (long)t : GW_RELAY_TIMEOUT_MS;
    if (post) {
        j->url = strdup(url);
        j->body = filled ? filled : strdup("");
        j->soap_action = dup_or_null(json_string_value(json_object_get(src, "soap_action")));
    } else {
        j->url = join_url(url, filled);
        free(filled);
    }
    j->fq = (gw_fetch_req){.method = post ? "POST" : "GET", .url = j->url, .body = j->body,
                           .body_len = j->body ? strlen(j->body) : 0,
                           .content_type = post ? "text/xml; charset=utf-8" : NULL,
                           .soap_action = j->soap_action,
                           .connect_timeout_ms = timeout < GW_RELAY_CONNECT_MS
                                                 ? timeout : GW_RELAY_CONNECT_MS,
                           .timeout_ms = timeout, .max_bytes = max_bytes, .retries = 0};
    return j->url && (!post || j->body);
}

/* The job for this call, or NULL after replying (409 no source, 422 template, …). */
static gw_job *build_job(gw_req *r, const rg_service *svc)
{
    const json_t *src = json_object_get(svc->def, "source");
    const char *url = json_string_value(json_object_get(src, "url"));
    if (!url || !*url) {
        gw_fail(r, LT_E_CONFLICT, "service '%s' has no source.url: its provider pushes data, "
                "so there is nothing to call live (read /v1/services/%s/records)", svc->id,
                svc->id);
        return NULL;
    }
    json_t *params = call_params(r, src);
    if (!params)
        return NULL;
    const char *tmpl = json_string_value(json_object_get(src, "request_template"));
    bool xml = strcmp(svc->format, "soap") == 0 || strcmp(svc->format, "xml") == 0;
    char *filled = NULL;
    lt_err e = tmpl ? gw_template_fill(tmpl, params, xml ? GW_ESC_XML : GW_ESC_URL, &filled,
                                       &r->ei) : LT_OK;
    json_decref(params);
    if (e) {
        gw_reply_error(r);
        return NULL;
    }
    gw_job *j = calloc(1, sizeof *j);
    if (!j) {
        free(filled);
        gw_fail(r, LT_E_NOMEM, "out of memory");
        return NULL;
    }
    j->svc = svc;
    j->max_records = r->ctx->cfg->max_records_per_request;
    bool ok = job_request(j, svc, src, filled, r->ctx->cfg->max_body_bytes);
    bool authed = job_auth(j, r->ctx->cfg, json_object_get(src, "auth"));
    if (!ok || !authed) {
        job_free(j);
        if (!ok)
            gw_fail(r, LT_E_NOMEM, "out of memory");
        else
            gw_fail(r, LT_E_UNAVAILABLE, "the credentials of service '%s' (source.auth) "
                    "cannot be read", svc->id);
        return NULL;
    }
    return j;
}

void gw_h_relay(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    if (!svc || !gw_access_service(r, svc, GW_OP_READ))
        return;
    gw_job *j = build_job(r, svc);
    if (j && !submit(r, j))
        job_free(j);
}
