/* GET /sdmx/... — the SDMX REST 1.5 subset for national systems (API.md §9, docs/sdmx.md).
 * The handlers orchestrate: parse the query (gw_sdmx_key.c), read the caller's observations
 * through the observation engine (gw_obs_run: grants applied), filter by provider, and write
 * the negotiated format (gw_sdmx_data.c) or a structure message (gw_sdmx_struct.c). Every
 * error is an SDMX-ML 2.1 error message with its SDMX code (gw_sdmx_err.c). */
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "gw_obs.h"
#include "gw_sdmx.h"
#include "lt_str.h"

#define MEDIA_ERROR "application/xml;charset=utf-8"

static void reply_sdmx_error(gw_req *r, const gw_sdmx_err *e)
{
    lt_buf_reset(&r->out);
    gw_sdmx_write_error(&r->out, e->code, e->text);
    r->status = e->http;
    r->content_type = MEDIA_ERROR;
    r->retry_after = r->ei.retry_after;
}

static void reply_lt_error(gw_req *r, lt_err code)
{
    gw_sdmx_err e;
    gw_sdmx_err_from_lt(code, r->ei.detail, &e);
    reply_sdmx_error(r, &e);
}

void gw_sdmx_reply_problem(gw_req *r)
{
    reply_lt_error(r, r->ei.code ? r->ei.code : LT_E_INTERNAL);
}

/* ---- request pieces ---- */

typedef struct params {
    gw_sdmx_param *v;
    size_t n, cap;
} params;

static enum MHD_Result add_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    (void)kind;
    params *p = cls;
    if (p->n < p->cap)
        p->v[p->n++] = (gw_sdmx_param){key, value};
    return MHD_YES;
}

/* The query parameters (borrowed from libmicrohttpd for the request's life). */
static bool get_params(gw_req *r, params *p)
{
    int n = MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
    p->n = 0;
    p->cap = n > 0 ? (size_t)n : 0;
    p->v = lt_arena_alloc(r->arena, (p->cap ? p->cap : 1) * sizeof *p->v);
    if (!p->v)
        return false;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_param, p);
    return true;
}

/* The message id: the request id, kept to the SDMX id alphabet. */
static const char *message_id(gw_req *r)
{
    char *id = lt_arena_strdup(r->arena, r->request_id[0] ? r->request_id : "lienthong");
    if (!id)
        return "lienthong";
    for (char *c = id; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '@' || *c == '$' || *c == '-'))
            *c = '_';
    return id;
}

/* ---- names of codes for SDMX-JSON (the registry's code lists and areas) ---- */

typedef struct names {
    gw_req *r;
    json_t *indicators; /* the `indicators` code list, loaded on first use */
    bool loaded;
    char buf[256];
} names;

static const char *code_name(void *ctx, gw_sdmx_dim dim, const char *code)
{
    names *nm = ctx;
    if (dim == GW_SDMX_DIM_AREA)
        return rg_area_name(nm->r->ctx->rg, code, nm->buf, sizeof nm->buf) ? nm->buf : NULL;
    if (dim != GW_SDMX_DIM_INDICATOR)
        return NULL;
    if (!nm->loaded) {
        nm->loaded = true;
        if (rg_doc_get(nm->r->ctx->rg, WH_CODELISTS, "indicators", &nm->indicators) == LT_OK)
            lt_arena_defer(nm->r->arena, (void (*)(void *))json_decref, nm->indicators);
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(nm->indicators, "codes"), i,
                       c) if (json_is_object(c) &&
                              lt_streq(json_string_value(json_object_get(c, "code")),
                                       code)) return json_string_value(json_object_get(c, "name"));
    return NULL;
}

/* ---- SOURCE_AGENCY and the provider filter ---- */

typedef struct agencies {
    const char **service, **agency; /* a small cache: services are few */
    size_t n, cap;
} agencies;

static const char *agency_of(gw_req *r, agencies *a, const char *service)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->service[i] == service || strcmp(a->service[i], service) == 0)
            return a->agency[i];
    rg_service *svc = NULL;
    const char *agency = "";
    if (*service && rg_service_get(r->ctx->rg, service, &svc) == LT_OK && svc)
        agency = lt_arena_strdup(r->arena, svc->agency);
    rg_service_release(svc);
    agency = agency ? agency : "";
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        const char **s = lt_arena_alloc(r->arena, cap * sizeof *s);
        const char **g = lt_arena_alloc(r->arena, cap * sizeof *g);
        if (!s || !g)
            return agency;
        if (a->n) {
            memcpy(s, a->service, a->n * sizeof *s);
            memcpy(g, a->agency, a->n * sizeof *g);
        }
        a->service = s;
        a->agency = g;
        a->cap = cap;
    }
    a->service[a->n] = service;
    a->agency[a->n++] = agency;
    return agency;
}

static bool wanted_provider(const gw_sdmx_codes *p, const char *agency)
{
    if (!p->n)
        return true;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i], agency) == 0)
            return true;
    return false;
}

/* Fills agency[] and keeps only the observations of the providers asked for (in place). */
static size_t attach_agencies(gw_req *r, const gw_sdmx_query *q, gw_obs *obs, size_t n,
                              const char **agency)
{
    agencies cache = {0};
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *a = agency_of(r, &cache, obs[i].service ? obs[i].service : "");
        if (!wanted_provider(&q->providers, a))
            continue;
        obs[k] = obs[i];
        agency[k++] = a;
    }
    return k;
}

/* firstNObservations / lastNObservations per series (indicator, area), in place. */
static size_t first_last(const gw_sdmx_query *q, gw_obs *obs, const char **agency, size_t n)
{
    if (!q->first_n && !q->last_n)
        return n;
    size_t k = 0;
    for (size_t s = 0, e; s < n; s = e) {
        for (e = s + 1; e < n && strcmp(obs[e].indicator, obs[s].indicator) == 0 &&
                        strcmp(obs[e].area, obs[s].area) == 0;)
            e++;
        for (size_t i = s; i < e; i++) {
            if (!((q->first_n && i - s < q->first_n) || (q->last_n && e - i <= q->last_n)))
                continue;
            obs[k] = obs[i];
            agency[k++] = agency[i];
        }
    }
    return k;
}

/* ---- GET /sdmx/data/{flow}[/{key}[/{provider}]] ---- */

/* cap: limits.max_observations_per_query, never above GW_SDMX_MAX_OBS. */
static void obs_query(const gw_sdmx_query *q, size_t cap, gw_obs_query *oq)
{
    memset(oq, 0, sizeof *oq);
    oq->indicators = q->indicators.v;
    oq->nindicators = q->indicators.n;
    oq->areas = q->areas.v;
    oq->nareas = q->areas.n;
    oq->from = q->has_start ? &q->start : NULL;
    oq->to = q->has_end ? &q->end : NULL;
    oq->updated_after_us = q->updated_after_us;
    oq->level = GW_LEVEL_ANY;
    /* The engine cuts series before the provider filter: let it only when that is the same. */
    if (!q->providers.n && !(q->first_n && q->last_n)) {
        oq->first_n = q->first_n;
        oq->last_n = q->last_n;
    }
    oq->max_obs = cap < GW_SDMX_MAX_OBS ? cap : GW_SDMX_MAX_OBS;
}

static int parse_data(gw_req *r, gw_sdmx_query *q, gw_sdmx_fmt *fmt, gw_sdmx_err *e)
{
    params p;
    gw_sdmx_query_init(q);
    if (!get_params(r, &p))
        return gw_sdmx_errf(e, GW_SDMX_E_SIZE_LIMIT, 413, "the query is too large");
    if (gw_sdmx_parse_flow(r->segs[2], e) ||
        gw_sdmx_parse_key(r->arena, r->nsegs > 3 ? r->segs[3] : "all", q, e) ||
        gw_sdmx_parse_provider(r->arena, r->nsegs > 4 ? r->segs[4] : "all", q, e) ||
        gw_sdmx_parse_params(p.v, p.n, q, e))
        return -1;
    *fmt = q->format != GW_SDMX_NONE ? q->format : gw_sdmx_negotiate(gw_header(r, "Accept"), false);
    if (*fmt == GW_SDMX_NONE)
        return gw_sdmx_errf(e, GW_SDMX_E_NOT_ACCEPTABLE, 406,
                            "cannot produce the Accept'ed "
                            "type; this service writes application/vnd.sdmx.genericdata+xml;"
                            "version=2.1, application/vnd.sdmx.data+json;version=2.0.0 and "
                            "application/vnd.sdmx.data+csv;version=1.0.0");
    return 0;
}

/* Writes the message for the observations kept; false after replying an error. */
static bool write_data(gw_req *r, gw_sdmx_fmt fmt, const gw_sdmx_query *q, const gw_obs *obs,
                       const char *const *agency, size_t n)
{
    names nm = {.r = r};
    gw_sdmx_data d = {obs,           agency,      n,         q->obs_dim, q->detail,
                      message_id(r), lt_now_us(), code_name, &nm};
    lt_buf_reset(&r->out);
    lt_err err = gw_sdmx_write_data(fmt, &d, &r->out);
    if (err || r->out.err) {
        lt_err code = err ? err : r->out.err;
        lt_fail(&r->ei, code, "the %zu observations could not be written: %s", n,
                lt_strerror(code));
        reply_lt_error(r, code);
        return false;
    }
    r->status = 200;
    r->content_type = gw_sdmx_media(fmt);
    r->records = n;
    return true;
}

void gw_h_sdmx_data(gw_req *r)
{
    gw_sdmx_query q;
    gw_sdmx_fmt fmt;
    gw_sdmx_err e;
    if (parse_data(r, &q, &fmt, &e)) {
        reply_sdmx_error(r, &e);
        return;
    }
    gw_obs_query oq;
    gw_obs_set set = {0};
    obs_query(&q, r->ctx->cfg->max_query_obs, &oq);
    lt_err err = gw_obs_run(r, &oq, &set);
    if (err) {
        json_decref(set.excluded); /* whether or not gw_obs_set_free releases it */
        set.excluded = NULL;
        gw_obs_set_free(&set);
        reply_lt_error(r, err);
        return;
    }
    const char **agency = lt_arena_alloc(r->arena, (set.n ? set.n : 1) * sizeof *agency);
    size_t n = 0;
    if (agency) {
        n = attach_agencies(r, &q, set.items, set.n, agency);
        n = first_last(&q, set.items, agency, n);
    }
    if (!agency) {
        gw_sdmx_errf(&e, GW_SDMX_E_SIZE_LIMIT, 413,
                     "%zu observations are more than this "
                     "request may hold: narrow the query",
                     set.n);
        reply_sdmx_error(r, &e);
    } else if (n == 0) {
        gw_sdmx_errf(&e, GW_SDMX_E_NO_RESULTS, 404,
                     "no observation matches the query among "
                     "the data this caller may read");
        reply_sdmx_error(r, &e);
    } else {
        write_data(r, fmt, &q, set.items, agency, n);
    }
    json_decref(set.excluded);
    set.excluded = NULL;
    gw_obs_set_free(&set);
}

/* ---- GET /sdmx/{resource}[/{agency}[/{id}[/{version}]]] ---- */

static json_t *codelist_doc(gw_req *r, const char *id)
{
    json_t *doc = NULL;
    if (rg_doc_get(r->ctx->rg, WH_CODELISTS, id, &doc) != LT_OK)
        return NULL;
    lt_arena_defer(r->arena, (void (*)(void *))json_decref, doc);
    return doc;
}

void gw_h_sdmx_structure(gw_req *r)
{
    gw_sdmx_struct_query q;
    gw_sdmx_err e;
    params p;
    if (!get_params(r, &p)) {
        gw_sdmx_errf(&e, GW_SDMX_E_SIZE_LIMIT, 413, "the query is too large");
        reply_sdmx_error(r, &e);
        return;
    }
    if (gw_sdmx_parse_structure(r->segs + 1, r->nsegs - 1, p.v, p.n, &q, &e)) {
        reply_sdmx_error(r, &e);
        return;
    }
    if (gw_sdmx_negotiate(gw_header(r, "Accept"), true) == GW_SDMX_NONE) {
        gw_sdmx_errf(&e, GW_SDMX_E_NOT_ACCEPTABLE, 406,
                     "cannot produce the Accept'ed type; "
                     "structures are application/vnd.sdmx.structure+xml;version=2.1");
        reply_sdmx_error(r, &e);
        return;
    }
    lt_buf_reset(&r->out);
    if (gw_sdmx_write_structure(&q, codelist_doc(r, "indicators"), codelist_doc(r, "areas"),
                                message_id(r), lt_now_us(), &r->out, &e)) {
        reply_sdmx_error(r, &e);
        return;
    }
    if (r->out.err) {
        lt_fail(&r->ei, r->out.err, "the structure message could not be written");
        reply_lt_error(r, r->out.err);
        return;
    }
    r->status = 200;
    r->content_type = gw_sdmx_media(GW_SDMX_STRUCTURE);
}
