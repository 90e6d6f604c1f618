/* Pull connectors (API.md §5 `source`, §7): the scheduler, the pull workers, one pull run
 * (request built from `source`, gw_fetch, gw_ingest) and the two endpoints.
 *
 * Threads: one scheduler thread decides what is due; GW_PULL_WORKERS workers run the pulls, so
 * a slow or dead provider holds one worker for at most its timeouts and never an HTTP worker
 * for longer than the wait below, nor the other pulls. POST …/pull enqueues a run and waits
 * for it on a condition variable until wait_ms() (every attempt's timeout, the back-off and
 * the ingest): a run still going then is answered 202 with its id and shows in GET …/pulls.
 *
 * Storage: a run document is WH_PULLRUNS "<service>\x1f<run id>"; run ids are
 * "pr-<13 hex µs><4 hex seq>", so one service's runs sort by start time. A run is stored when
 * it starts (status "running") and again when it ends; then the oldest beyond
 * limits.pull_runs_kept are deleted. At start, runs a crash left "running" are stored as
 * failed ("interrupted"), and each service's schedule resumes from its last stored run, so a
 * restart does not pull every service at once.
 *
 * In-memory state (struct gw_pulls, under mu): the queue, and per service the start of its
 * last run in this process, whether a scheduled run is pending (one at a time per service, so
 * a dead provider does not pile up runs), and the ETag / Last-Modified of its last successful
 * run (read once from the warehouse, then kept up to date) for conditional GETs.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ad_mapping.h"
#include "gw_int.h"
#include "gw_pull.h"
#include "gw_upstream.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"

#define GW_PULL_WORKERS 4         /* a few dead providers still leave workers for the rest */
#define PULL_QUEUE_MAX 256        /* beyond it a manual run is refused with 503 */
#define PULL_RETRIES 2            /* extra attempts on timeout, refusal, 5xx or 429 */
#define PULL_BACKOFF_MS 200       /* first retry delay; gw_fetch doubles it with ±25 % jitter */
#define PULL_TIMEOUT_DEFAULT_MS 10000
#define PULL_CONNECT_MAX_MS 5000
#define PULL_INGEST_SLACK_MS 3000 /* time a handler also allows for ingest and queueing */
#define PULL_SEP "\x1f"

typedef struct gw_pulls gw_pulls;

typedef struct pull_job {
    struct pull_job *next;
    char service[LT_MAX_ID_LEN + 1];
    const char *trigger; /* static: "schedule" | "manual" */
    char run_id[32];
    bool done;
    json_t *run; /* the finished run document (owned); NULL when dropped at stop */
    int refs;    /* the queue/worker and a waiting handler; changed under mu */
} pull_job;

typedef struct pull_svc {
    char id[LT_MAX_ID_LEN + 1];
    int64_t last_mono_us; /* start of the last run in this process, 0 = none */
    bool pending;         /* a scheduled run is queued or running */
    bool loaded;          /* etag/last_modified read from the stored runs */
    char *etag, *last_modified; /* owned */
} pull_svc;

struct gw_pulls {
    gw_ctx *ctx;
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv, tick_cv; /* monotonic clock */
    pull_job *head, *tail;
    size_t queued;
    pull_svc *svcs;
    size_t nsvcs, cap;
    bool stopping;
    pthread_t sched, workers[GW_PULL_WORKERS];
    int nworkers;
    bool sched_started;
    atomic_uint seq;
};

/* ---- service state (callers hold mu) ---- */

static pull_svc *svc_state(gw_pulls *p, const char *id)
{
    for (size_t i = 0; i < p->nsvcs; i++)
        if (strcmp(p->svcs[i].id, id) == 0)
            return &p->svcs[i];
    if (p->nsvcs == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        pull_svc *n = realloc(p->svcs, cap * sizeof *n);
        if (!n)
            return NULL;
        p->svcs = n;
        p->cap = cap;
    }
    pull_svc *s = &p->svcs[p->nsvcs++];
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", id);
    return s;
}

static void job_unref(pull_job *j)
{
    if (--j->refs == 0) {
        json_decref(j->run);
        free(j);
    }
}

/* Queues a run; refs = 1 (the worker) + 1 when a handler waits. NULL when stopping, the
 * queue is full or memory is short. Caller holds mu. */
static pull_job *enqueue_locked(gw_pulls *p, const char *service, const char *trigger,
                                bool waiter)
{
    if (p->stopping || p->queued >= PULL_QUEUE_MAX)
        return NULL;
    pull_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    snprintf(j->service, sizeof j->service, "%s", service);
    j->trigger = trigger;
    unsigned seq = atomic_fetch_add(&p->seq, 1) & 0xffffu;
    snprintf(j->run_id, sizeof j->run_id, "pr-%013llx%04x", (unsigned long long)lt_now_us(),
             seq);
    j->refs = waiter ? 2 : 1;
    if (p->tail)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->work_cv);
    return j;
}

/* ---- run documents ---- */

static void store_run(gw_pulls *p, const char *service, const char *run_id, json_t *run)
{
    char id[LT_MAX_ID_LEN + 40];
    snprintf(id, sizeof id, "%s" PULL_SEP "%s", service, run_id);
    char *text = json_dumps(run, JSON_COMPACT);
    lt_errinfo ei = {0};
    if (!text || wh_doc_put(p->ctx->wh, WH_PULLRUNS, id, text, strlen(text), 0, &ei))
        lt_log(LT_LOG_ERROR, "pull %s of %s: cannot store the run: %s", run_id, service,
               text ? ei.detail : "out of memory");
    free(text);
    lt_errinfo_clear(&ei);
}

/* The ids of one service's runs (oldest first) into a JSON array of strings. */
typedef struct run_ids {
    const char *prefix;
    size_t plen;
    json_t *ids;
} run_ids;

static int run_ids_cb(void *ctx, const char *id, const char *json, size_t len)
{
    run_ids *w = ctx;
    (void)json, (void)len;
    if (strncmp(id, w->prefix, w->plen) != 0)
        return 1;
    return json_array_append_new(w->ids, json_string(id)) != 0;
}

/* Deletes the oldest runs of a service beyond limits.pull_runs_kept. */
static void prune_runs(gw_pulls *p, const char *service)
{
    char prefix[LT_MAX_ID_LEN + 2];
    snprintf(prefix, sizeof prefix, "%s" PULL_SEP, service);
    run_ids w = {prefix, strlen(prefix), json_array()};
    size_t keep = p->ctx->cfg->pull_runs_kept, n = 0;
    lt_errinfo ei = {0};
    if (wh_doc_list(p->ctx->wh, WH_PULLRUNS, prefix, 0, run_ids_cb, &w) == LT_OK)
        n = json_array_size(w.ids);
    for (size_t i = 0; n > keep && i < n - keep; i++) {
        if (wh_doc_del(p->ctx->wh, WH_PULLRUNS, json_string_value(json_array_get(w.ids, i)),
                       &ei) != LT_OK) {
            lt_log(LT_LOG_WARN, "pull runs of %s: cannot delete an old run: %s", service,
                   ei.detail);
            break;
        }
    }
    lt_errinfo_clear(&ei);
    json_decref(w.ids);
}

/* Walks one service's runs in time order (callback gets the parsed document). */
typedef int (*run_fn)(void *ctx, const char *run_id, json_t *run);
typedef struct run_walk {
    const char *prefix;
    size_t plen;
    run_fn fn;
    void *ctx;
} run_walk;

static int run_walk_cb(void *ctx, const char *id, const char *json, size_t len)
{
    run_walk *w = ctx;
    if (strncmp(id, w->prefix, w->plen) != 0)
        return 1; /* the next service's runs start here */
    json_t *doc = json_loadb(json, len, 0, NULL);
    int rc = doc ? w->fn(w->ctx, id + w->plen, doc) : 0;
    json_decref(doc);
    return rc;
}

static lt_err runs_walk(wh_env *wh, const char *service, run_fn fn, void *ctx)
{
    char prefix[LT_MAX_ID_LEN + 2];
    snprintf(prefix, sizeof prefix, "%s" PULL_SEP, service);
    run_walk w = {prefix, strlen(prefix), fn, ctx};
    return wh_doc_list(wh, WH_PULLRUNS, prefix, 0, run_walk_cb, &w);
}

typedef struct validators {
    char *etag, *last_modified;
} validators;

static int validators_cb(void *ctx, const char *run_id, json_t *run)
{
    (void)run_id;
    validators *v = ctx;
    const char *st = lt_json_str(run, "status");
    if (!st || (strcmp(st, "ok") != 0 && strcmp(st, "not_modified") != 0))
        return 0;
    free(v->etag);
    free(v->last_modified);
    const char *e = lt_json_str(run, "etag"), *lm = lt_json_str(run, "last_modified");
    v->etag = e ? strdup(e) : NULL;
    v->last_modified = lm ? strdup(lm) : NULL;
    return 0;
}

/* Copies the validators of the service's last successful run into *out (new strings). */
static void validators_get(gw_pulls *p, const char *service, validators *out)
{
    validators v = {0};
    pthread_mutex_lock(&p->mu);
    pull_svc *s = svc_state(p, service);
    bool loaded = s && s->loaded;
    pthread_mutex_unlock(&p->mu);
    if (!loaded) /* once per service and process: the stored runs are the memory */
        runs_walk(p->ctx->wh, service, validators_cb, &v);
    pthread_mutex_lock(&p->mu);
    s = svc_state(p, service);
    if (s && !s->loaded) {
        s->loaded = true;
        s->etag = v.etag;
        s->last_modified = v.last_modified;
        v.etag = v.last_modified = NULL;
    }
    free(v.etag);
    free(v.last_modified);
    out->etag = s && s->etag ? strdup(s->etag) : NULL;
    out->last_modified = s && s->last_modified ? strdup(s->last_modified) : NULL;
    pthread_mutex_unlock(&p->mu);
}

static void validators_set(gw_pulls *p, const char *service, const char *etag,
                           const char *last_modified)
{
    pthread_mutex_lock(&p->mu);
    pull_svc *s = svc_state(p, service);
    if (s) {
        free(s->etag);
        free(s->last_modified);
        s->etag = etag ? strdup(etag) : NULL;
        s->last_modified = last_modified ? strdup(last_modified) : NULL;
        s->loaded = true;
    }
    pthread_mutex_unlock(&p->mu);
}

/* ---- the request a run makes ---- */

typedef struct pull_plan {
    gw_fetch_req req;
    char *url, *body; /* owned */
    gw_source_auth auth;
} pull_plan;

static void plan_free(pull_plan *pl)
{
    free(pl->url);
    free(pl->body);
    gw_source_auth_free(&pl->auth);
}

static lt_err plan_auth(const lt_config *cfg, const json_t *auth, pull_plan *pl, lt_errinfo *ei)
{
    lt_err e = gw_source_auth_load(cfg, auth, &pl->auth, ei);
    pl->req.auth = pl->auth.auth;
    return e;
}

/* URL, method and body: soap and xml POST the filled template; json and csv append it to
 * the URL as the query; without a template every format is a plain GET. */
static lt_err plan_request(const json_t *src, const char *format, pull_plan *pl, lt_errinfo *ei)
{
    const char *url = lt_json_str(src, "url"), *tmpl = lt_json_str(src, "request_template");
    bool xml = strcmp(format, "soap") == 0 || strcmp(format, "xml") == 0;
    pl->req.method = "GET";
    pl->req.url = url;
    if (!tmpl)
        return LT_OK;
    char *filled = NULL;
    lt_err e = gw_template_fill(tmpl, json_object_get(src, "params"),
                                xml ? GW_ESC_XML : GW_ESC_URL, &filled, ei);
    if (e)
        return e;
    if (xml) {
        pl->body = filled;
        pl->req.method = "POST";
        pl->req.body = filled;
        pl->req.body_len = strlen(filled);
        pl->req.content_type = "text/xml; charset=utf-8";
        if (strcmp(format, "soap") == 0)
            pl->req.soap_action = lt_json_str(src, "soap_action");
        return LT_OK;
    }
    const char *q = filled[0] == '?' ? filled + 1 : filled;
    size_t n = strlen(url) + strlen(q) + 2;
    pl->url = malloc(n);
    if (pl->url)
        snprintf(pl->url, n, "%s%s%s", url, !*q ? "" : strchr(url, '?') ? "&" : "?", q);
    free(filled);
    if (!pl->url)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    pl->req.url = pl->url;
    return LT_OK;
}

static long source_timeout_ms(const json_t *src)
{
    json_int_t t = json_integer_value(json_object_get(src, "timeout_ms"));
    return t > 0 ? (long)t : PULL_TIMEOUT_DEFAULT_MS;
}

static lt_err plan_build(const lt_config *cfg, const rg_service *svc, pull_plan *pl,
                         lt_errinfo *ei)
{
    const json_t *src = json_object_get(svc->def, "source");
    memset(pl, 0, sizeof *pl);
    pl->req.timeout_ms = source_timeout_ms(src);
    pl->req.connect_timeout_ms =
        pl->req.timeout_ms < PULL_CONNECT_MAX_MS ? pl->req.timeout_ms : PULL_CONNECT_MAX_MS;
    pl->req.max_bytes = cfg->max_body_bytes;
    pl->req.retries = PULL_RETRIES;
    pl->req.backoff_ms = PULL_BACKOFF_MS;
    lt_err e = plan_request(src, svc->format, pl, ei);
    const json_t *auth = json_object_get(src, "auth");
    if (!e && json_is_object(auth))
        e = plan_auth(cfg, auth, pl, ei);
    return e;
}

/* ---- one run ---- */

static void run_set_str(json_t *run, const char *key, const char *v)
{
    if (v)
        json_object_set_new(run, key, json_string(v));
}

static void run_take_ingest(json_t *run, json_t *result)
{
    static const char *const keys[] = {"accepted", "unchanged", "rejected", "quarantine"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(result, keys[i]);
        if (v)
            json_object_set(run, keys[i], v);
    }
}

/* Fetches and ingests; fills http_status, attempts, counts, status and validators of run. */
static lt_err fetch_and_ingest(gw_pulls *p, const pull_job *job, const rg_service *svc,
                               json_t *run, lt_errinfo *ei)
{
    pull_plan pl;
    validators v = {0};
    gw_fetch_res res = {0};
    lt_err e = plan_build(p->ctx->cfg, svc, &pl, ei);
    if (!e && strcmp(pl.req.method, "GET") == 0) {
        validators_get(p, svc->id, &v);
        pl.req.if_none_match = v.etag;
        pl.req.if_modified_since = v.last_modified;
    }
    if (!e) {
        e = gw_fetch(&pl.req, &res, ei);
        json_object_set_new(run, "http_status", json_integer(res.status));
        json_object_set_new(run, "attempts", json_integer(res.attempts));
    }
    if (!e && res.not_modified) {
        json_object_set_new(run, "status", json_string("not_modified"));
        run_set_str(run, "etag", v.etag);
        run_set_str(run, "last_modified", v.last_modified);
    } else if (!e) {
        const ad_format *f = ad_format_by_name(svc->format);
        gw_ingest_opts o = {false, "pull", job->run_id, "lienthong-pull"};
        json_t *result = NULL;
        size_t n = 0;
        e = f ? gw_ingest(p->ctx, svc, f->media_types[0], res.body ? res.body : "", res.len, &o,
                          &result, &n, ei)
              : lt_fail(ei, LT_E_INVALID, "unknown format '%s'", svc->format);
        if (!e) {
            run_take_ingest(run, result);
            json_object_set_new(run, "status", json_string("ok"));
            run_set_str(run, "etag", res.etag);
            run_set_str(run, "last_modified", res.last_modified);
            validators_set(p, svc->id, res.etag, res.last_modified);
        }
        json_decref(result);
    }
    gw_fetch_res_free(&res);
    free(v.etag);
    free(v.last_modified);
    plan_free(&pl);
    return e;
}

static json_t *run_new(const pull_job *job)
{
    char now[32];
    lt_time_format(lt_now_us(), true, now);
    json_t *run = json_object();
    json_object_set_new(run, "id", json_string(job->run_id));
    json_object_set_new(run, "service", json_string(job->service));
    json_object_set_new(run, "trigger", json_string(job->trigger));
    json_object_set_new(run, "started_at", json_string(now));
    json_object_set_new(run, "status", json_string("running"));
    json_object_set_new(run, "http_status", json_integer(0));
    json_object_set_new(run, "accepted", json_integer(0));
    json_object_set_new(run, "unchanged", json_integer(0));
    json_object_set_new(run, "rejected", json_integer(0));
    json_object_set_new(run, "quarantine", json_array());
    json_object_set_new(run, "attempts", json_integer(0));
    return run;
}

/* Runs one pull on the calling worker; returns the finished run document (new). */
static json_t *run_pull(gw_pulls *p, const pull_job *job)
{
    json_t *run = run_new(job);
    store_run(p, job->service, job->run_id, run);
    rg_service *svc = NULL;
    lt_errinfo ei = {0};
    lt_err e = rg_service_get(p->ctx->rg, job->service, &svc);
    if (e)
        lt_fail(&ei, e, "service '%s' no longer exists", job->service);
    else if (!svc->mode || strcmp(svc->mode, "pull") != 0)
        e = lt_fail(&ei, LT_E_CONFLICT, "service '%s' is no longer a pull service", svc->id);
    else
        e = fetch_and_ingest(p, job, svc, run, &ei);
    rg_service_release(svc);
    char now[32];
    lt_time_format(lt_now_us(), true, now);
    json_object_set_new(run, "finished_at", json_string(now));
    if (e) {
        json_t *err = json_object();
        json_object_set_new(err, "code", json_string(lt_err_code(e)));
        json_t *d = json_string(ei.detail[0] ? ei.detail : lt_strerror(e));
        json_object_set_new(err, "detail", d ? d : json_string(lt_strerror(e)));
        json_object_set_new(run, "error", err);
        json_object_set_new(run, "status", json_string("failed"));
    }
    store_run(p, job->service, job->run_id, run);
    prune_runs(p, job->service);
    lt_log(e ? LT_LOG_WARN : LT_LOG_INFO, "pull %s of %s (%s): %s%s%s", job->run_id,
           job->service, job->trigger, lt_json_str(run, "status"), e ? ": " : "",
           e ? ei.detail : "");
    lt_errinfo_clear(&ei);
    return run;
}

/* ---- threads ---- */

static void *worker_main(void *arg)
{
    gw_pulls *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stopping && !p->head)
            pthread_cond_wait(&p->work_cv, &p->mu);
        if (p->stopping)
            break;
        pull_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pull_svc *s = svc_state(p, j->service);
        if (s)
            s->last_mono_us = lt_mono_us();
        pthread_mutex_unlock(&p->mu);
        json_t *run = run_pull(p, j);
        pthread_mutex_lock(&p->mu);
        s = svc_state(p, j->service);
        if (s && strcmp(j->trigger, "schedule") == 0)
            s->pending = false;
        j->run = run;
        j->done = true;
        pthread_cond_broadcast(&p->done_cv);
        job_unref(j);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* A service definition is due when published, pull, with interval_s, idle and its last run
 * in this process started interval_s ago or never. Caller holds mu. */
static void consider(gw_pulls *p, const json_t *def, int64_t now)
{
    const json_t *src = json_object_get(def, "source");
    const char *id = lt_json_str(def, "id"), *status = lt_json_str(def, "status");
    const char *mode = lt_json_str(src, "mode");
    json_int_t every = json_integer_value(json_object_get(src, "interval_s"));
    if (!id || !status || strcmp(status, "published") != 0 || !mode ||
        strcmp(mode, "pull") != 0 || every <= 0)
        return;
    pull_svc *s = svc_state(p, id);
    if (!s || s->pending || (s->last_mono_us && now - s->last_mono_us < every * 1000000))
        return;
    if (enqueue_locked(p, id, "schedule", false)) {
        s->pending = true;
        s->last_mono_us = now; /* counts from the enqueue until the worker starts it */
    }
}

static void schedule_due(gw_pulls *p)
{
    char *after = NULL;
    do {
        json_t *items = NULL;
        char *next = NULL;
        lt_errinfo ei = {0};
        if (rg_list(p->ctx->rg, WH_SERVICES, after, 100, &items, &next, &ei) != LT_OK) {
            lt_log(LT_LOG_ERROR, "pull scheduler: cannot list services: %s", ei.detail);
            lt_errinfo_clear(&ei);
            break;
        }
        int64_t now = lt_mono_us();
        size_t i;
        json_t *def;
        pthread_mutex_lock(&p->mu);
        json_array_foreach(items, i, def) consider(p, def, now);
        pthread_mutex_unlock(&p->mu);
        json_decref(items);
        free(after);
        after = next;
    } while (after);
}

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *sched_main(void *arg)
{
    gw_pulls *p = arg;
    for (;;) {
        schedule_due(p);
        struct timespec ts;
        deadline_in(&ts, 1000);
        pthread_mutex_lock(&p->mu);
        if (!p->stopping)
            pthread_cond_timedwait(&p->tick_cv, &p->mu, &ts);
        bool stop = p->stopping;
        pthread_mutex_unlock(&p->mu);
        if (stop)
            return NULL;
    }
}

/* ---- start and stop ---- */

static void pulls_free(gw_pulls *p)
{
    for (size_t i = 0; i < p->nsvcs; i++) {
        free(p->svcs[i].etag);
        free(p->svcs[i].last_modified);
    }
    free(p->svcs);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    pthread_cond_destroy(&p->tick_cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* What the start-up sweep found: runs to mark interrupted, and per service its last run. */
typedef struct recovery {
    gw_pulls *p;
    json_t *interrupted; /* [[service, run id, document]] */
    int64_t now_wall, now_mono;
} recovery;

/* The start time a run id carries ("pr-<13 hex µs>…"), 0 when it does not parse. */
static int64_t run_id_start_us(const char *run_id)
{
    int64_t us = 0;
    if (strncmp(run_id, "pr-", 3) != 0 || strlen(run_id) < 16)
        return 0;
    for (int i = 3; i < 16; i++) {
        char c = run_id[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        us = us * 16 + d;
    }
    return us;
}

static int recover_cb(void *ctx, const char *id, const char *json, size_t len)
{
    recovery *rc = ctx;
    const char *sep = strchr(id, PULL_SEP[0]);
    if (!sep || (size_t)(sep - id) > LT_MAX_ID_LEN)
        return 0;
    char service[LT_MAX_ID_LEN + 1];
    snprintf(service, sizeof service, "%.*s", (int)(sep - id), id);
    /* Runs sort by start within a service: the last one seen is the latest. */
    int64_t started = run_id_start_us(sep + 1);
    pull_svc *s = svc_state(rc->p, service);
    if (s && started > 0 && started <= rc->now_wall) {
        int64_t ago = rc->now_wall - started;
        s->last_mono_us = rc->now_mono > ago ? rc->now_mono - ago : 1;
    }
    json_t *doc = json_loadb(json, len, 0, NULL);
    const char *st = lt_json_str(doc, "status");
    if (st && strcmp(st, "running") == 0)
        json_array_append_new(rc->interrupted, json_pack("[s,s,O]", service, sep + 1, doc));
    json_decref(doc);
    return 0;
}

/* Start-up sweep over the stored runs (before any thread runs, so mu is not needed). */
static void recover_runs(gw_pulls *p)
{
    recovery rc = {p, json_array(), lt_now_us(), lt_mono_us()};
    wh_doc_list(p->ctx->wh, WH_PULLRUNS, NULL, 0, recover_cb, &rc);
    size_t i;
    json_t *item;
    char now[32];
    lt_time_format(lt_now_us(), true, now);
    json_array_foreach(rc.interrupted, i, item) {
        const char *service = json_string_value(json_array_get(item, 0));
        const char *run_id = json_string_value(json_array_get(item, 1));
        json_t *run = json_array_get(item, 2);
        json_object_set_new(run, "status", json_string("failed"));
        json_object_set_new(run, "finished_at", json_string(now));
        json_object_set_new(run, "error", json_pack("{s:s,s:s}", "code", lt_err_code(LT_E_INTERNAL),
                                                    "detail", "interrupted: the gateway "
                                                    "stopped before the run ended"));
        store_run(p, service, run_id, run);
        lt_log(LT_LOG_WARN, "pull %s of %s was interrupted by a stop; marked failed", run_id,
               service);
    }
    json_decref(rc.interrupted);
}

static void cond_init_mono(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
}

lt_err gw_pulls_start(gw_ctx *ctx, lt_errinfo *ei)
{
    if (ctx->pulls)
        return LT_OK;
    gw_pulls *p = calloc(1, sizeof *p);
    if (!p)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    p->ctx = ctx;
    pthread_mutex_init(&p->mu, NULL);
    cond_init_mono(&p->work_cv);
    cond_init_mono(&p->done_cv);
    cond_init_mono(&p->tick_cv);
    ctx->pulls = p;
    recover_runs(p);
    for (int i = 0; i < GW_PULL_WORKERS; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0)
            break;
        p->nworkers++;
    }
    if (p->nworkers == GW_PULL_WORKERS && pthread_create(&p->sched, NULL, sched_main, p) == 0)
        p->sched_started = true;
    if (!p->sched_started) {
        gw_pulls_stop(ctx);
        return lt_fail(ei, LT_E_INTERNAL, "cannot start the pull threads");
    }
    return LT_OK;
}

void gw_pulls_stop(gw_ctx *ctx)
{
    gw_pulls *p = ctx ? ctx->pulls : NULL;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    while (p->head) { /* queued runs are dropped; a waiting handler sees run == NULL */
        pull_job *j = p->head;
        p->head = j->next;
        j->done = true;
        job_unref(j);
    }
    p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->work_cv);
    pthread_cond_broadcast(&p->tick_cv);
    pthread_cond_broadcast(&p->done_cv);
    pthread_mutex_unlock(&p->mu);
    if (p->sched_started)
        pthread_join(p->sched, NULL);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    ctx->pulls = NULL;
    pulls_free(p);
}

/* ---- endpoints ---- */

/* How long POST …/pull waits: every attempt's timeout, the back-offs (200 + 400 ms, +25 %
 * jitter) and room for queueing and ingest. */
static long wait_ms(const rg_service *svc)
{
    long t = source_timeout_ms(json_object_get(svc->def, "source"));
    return t * (PULL_RETRIES + 1) + (PULL_BACKOFF_MS * 3 * 5) / 4 + PULL_INGEST_SLACK_MS;
}

/* Waits for job until deadline; returns its run document (new) or NULL. Drops the ref. */
static json_t *wait_run(gw_pulls *p, pull_job *j, long ms, bool *done)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&p->mu);
    while (!j->done && pthread_cond_timedwait(&p->done_cv, &p->mu, &ts) == 0) {
    }
    *done = j->done;
    json_t *run = j->run ? json_deep_copy(j->run) : NULL;
    job_unref(j);
    pthread_mutex_unlock(&p->mu);
    return run;
}

void gw_h_pull_now(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    if (!svc || !gw_access_service(r, svc, GW_OP_MANAGE))
        return;
    if (!svc->mode || strcmp(svc->mode, "pull") != 0) {
        gw_fail(r, LT_E_CONFLICT, "service '%s' is not a pull service (source.mode is '%s')",
                svc->id, svc->mode ? svc->mode : "");
        return;
    }
    gw_pulls *p = r->ctx->pulls;
    pull_job *j = NULL;
    if (p) {
        pthread_mutex_lock(&p->mu);
        j = enqueue_locked(p, svc->id, "manual", true);
        pthread_mutex_unlock(&p->mu);
    }
    if (!j) {
        r->ei.retry_after = 5;
        gw_fail(r, LT_E_UNAVAILABLE, "the pull workers are busy or stopping; try again later");
        return;
    }
    r->object = lt_arena_strdup(r->arena, j->run_id);
    bool done = false;
    json_t *run = wait_run(p, j, wait_ms(svc), &done);
    if (done && !run) {
        gw_fail(r, LT_E_UNAVAILABLE, "the gateway is stopping; the pull did not run");
        return;
    }
    if (!done) {
        run = json_object();
        json_object_set_new(run, "id", json_string(r->object));
        json_object_set_new(run, "service", json_string(svc->id));
        json_object_set_new(run, "trigger", json_string("manual"));
        json_object_set_new(run, "status", json_string("running"));
        gw_reply_json(r, 202, run);
        return;
    }
    r->records = (size_t)json_integer_value(json_object_get(run, "accepted"));
    gw_reply_json(r, 200, run);
}

typedef struct run_list {
    json_t *all; /* oldest first */
} run_list;

static int run_list_cb(void *ctx, const char *run_id, json_t *run)
{
    (void)run_id;
    json_array_append(((run_list *)ctx)->all, run);
    return 0;
}

void gw_h_pull_list(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    size_t limit;
    const char *cursor;
    if (!svc || !gw_access_service(r, svc, GW_OP_MANAGE) || !gw_paging(r, &limit, &cursor))
        return;
    run_list l = {json_array()};
    lt_err e = runs_walk(r->ctx->wh, svc->id, run_list_cb, &l);
    if (e) {
        json_decref(l.all);
        gw_fail(r, e, "cannot read the pull runs of '%s'", svc->id);
        return;
    }
    /* Newest first; the cursor is the id of the last run of the previous page. */
    json_t *items = json_array();
    const char *next = NULL;
    for (size_t i = json_array_size(l.all); i-- > 0;) {
        json_t *run = json_array_get(l.all, i);
        const char *id = lt_json_str(run, "id");
        if (cursor && *cursor && (!id || strcmp(id, cursor) >= 0))
            continue;
        if (json_array_size(items) == limit) {
            next = lt_json_str(json_array_get(items, limit - 1), "id");
            break;
        }
        json_array_append(items, run);
    }
    next = next ? lt_arena_strdup(r->arena, next) : NULL;
    json_decref(l.all);
    gw_reply_list(r, items, next);
}
