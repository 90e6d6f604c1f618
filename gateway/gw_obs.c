/* gw_obs — the observation query engine (gw_obs.h): sources, one read of the observations
 * index, one value per (indicator, area, period), commune-to-province aggregation, latest and
 * first/last N per series, and the cap.
 *
 * How a query runs (gw_obs_run):
 *  1. the scan plan: the indicator and area lists sorted and made unique (for level=province
 *     each province asked also brings its communes), so the index is read in key order and
 *     what comes out is already sorted by indicator, area, period;
 *  2. one wh_read; for every entry: is its service a source for this caller (decided once per
 *     service per query, lazily: only services that hold matching entries are looked at, and
 *     a granted one takes its quota unit then), the period range, the value known at as_of
 *     (the record's revision, only when the index entry is newer than as_of), then the entry
 *     is merged with the previous one when both are the same observation (agency preference,
 *     else the latest received);
 *  3. level=province, updated_after, the areas filter after aggregation, latest, first/last N;
 *  4. the cap: a query without reducing options stops storing at max_obs and only counts.
 * Memory: the observation array is malloc'd (one growing block, no per-observation
 * allocation) and freed by an arena cleanup hook; small strings (service ids, provinces,
 * as_of status/unit texts, interned) live in the arena. */
#include <stdlib.h>
#include <string.h>

#include "gw_obs.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"

#define OBS_HARD_MAX 16000000u /* entries one query may collect before reductions */
#define OBS_INTERN 128         /* distinct status, unit and province texts kept per query */

typedef struct obs_src { /* a service met in the index, and what the caller reads of it */
    const char *id, *agency;
    bool ok, status, unit; /* contributes; the grant allows status / unit */
} obs_src;

typedef struct obs_ind { /* an indicator of the catalog as the engine needs it */
    const char *code, *agency, *weight;
    rg_agg agg;
} obs_ind;

typedef struct obs_vec {
    gw_obs *v;
    size_t n, cap;
} obs_vec;

typedef struct obs_wvec { /* observations of a weight indicator, by area and period */
    const char *code;
    obs_vec v;
} obs_wvec;

typedef struct obs_run {
    gw_req *r;
    const gw_obs_query *q;
    wh_read *txn;
    int64_t now;
    json_t *excluded;
    obs_src *src;
    size_t nsrc, srccap;
    obs_ind *ind;
    size_t nind, indcap;
    const char *last_area, *last_parent; /* parent_of's last answer */
    obs_wvec *w;
    size_t nw;
    const char *strs[OBS_INTERN];
    size_t nstrs;
    /* scan state */
    obs_vec *into;
    const char **only; /* sorted area codes to keep (full scans with an area list) */
    size_t nonly;
    bool commune_only, capped;
    size_t overflow;
    lt_err err;
} obs_run;

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* -- small tables ---------------------------------------------------------------------- */

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *n = realloc(*p, c * size);
    if (!n)
        return false;
    *p = n;
    *cap = c;
    return true;
}

static void *no_mem(obs_run *x)
{
    x->err = lt_fail(&x->r->ei, LT_E_NOMEM, "out of memory reading observations");
    return NULL;
}

static void *too_big(obs_run *x)
{
    x->err = lt_fail(&x->r->ei, LT_E_TOO_LARGE,
                     "the query needs more memory than a request "
                     "may use: narrow it");
    return NULL;
}

static gw_obs *vec_slot(obs_run *x, obs_vec *v)
{
    if (v->n >= OBS_HARD_MAX) {
        x->err = lt_fail(&x->r->ei, LT_E_TOO_LARGE,
                         "the query touches more than %u "
                         "observations: narrow it",
                         OBS_HARD_MAX);
        return NULL;
    }
    /* +1: the scratch slot of keep() */
    return grow((void **)&v->v, &v->cap, v->n + 2, sizeof *v->v) ? &v->v[v->n] : no_mem(x);
}

/* A small text kept for the query (status, unit, province codes): one arena copy each. */
static const char *intern(obs_run *x, const char *s)
{
    for (size_t i = 0; i < x->nstrs; i++)
        if (strcmp(x->strs[i], s) == 0)
            return x->strs[i];
    char *c = lt_arena_strdup(x->r->arena, s);
    if (!c)
        return too_big(x);
    if (x->nstrs < OBS_INTERN)
        x->strs[x->nstrs++] = c;
    return c;
}

/* The province of a commune (interned), NULL for a province or an unknown code. Lookups come
 * in area order, so the last answer is kept. */
static const char *parent_of(obs_run *x, const char *code)
{
    char buf[LT_MAX_ID_LEN + 2];
    if (x->last_area && strcmp(x->last_area, code) == 0)
        return x->last_parent;
    x->last_area = code;
    x->last_parent = rg_area_parent(x->r->ctx->rg, code, buf, sizeof buf) ? intern(x, buf) : NULL;
    return x->last_parent;
}

static const obs_ind *indicator(obs_run *x, const char *code)
{
    static const obs_ind none = {"", "", "POP", RG_AGG_NONE};
    if (x->nind && strcmp(x->ind[x->nind - 1].code, code) == 0)
        return &x->ind[x->nind - 1];
    for (size_t i = 0; i < x->nind; i++)
        if (strcmp(x->ind[i].code, code) == 0)
            return &x->ind[i];
    if (!grow((void **)&x->ind, &x->indcap, x->nind + 1, sizeof *x->ind))
        return &none;
    obs_ind *d = &x->ind[x->nind];
    rg_indicator *ri = NULL;
    *d = none;
    if (rg_indicator_get(x->r->ctx->rg, code, &ri) == LT_OK && ri) {
        d->agency = lt_arena_strdup(x->r->arena, ri->agency ? ri->agency : "");
        d->weight = lt_arena_strdup(x->r->arena, ri->weight && *ri->weight ? ri->weight : "POP");
        d->agg = ri->aggregation;
    }
    rg_indicator_release(ri);
    d->code = lt_arena_strdup(x->r->arena, code);
    if (!d->code || !d->agency || !d->weight)
        return &none;
    return &x->ind[x->nind++];
}

/* -- sources ----------------------------------------------------------------------------- */

static void exclude(obs_run *x, const char *service, const char *why)
{
    json_t *e = json_pack("{s:s, s:s}", "service", service, "reason", why);
    if (e)
        json_array_append_new(x->excluded, e);
}

/* Why a granted service is not read now (NULL: it is): the access check's reasons, and any
 * status but published (a draft or retired service is no source either). */
static const char *unavailable(const rg_service *svc, int64_t now, char *why, size_t size)
{
    int retry = 0;
    if (gw_service_unavailable(svc, now, why, size, &retry))
        return why;
    if (strcmp(svc->status, "published") != 0) {
        snprintf(why, size, "service '%s' is %s, not published", svc->id, svc->status);
        return why;
    }
    return NULL;
}

/* A consumer's read through its live grant: availability, the `value` field, one quota unit. */
static bool grant_read(obs_run *x, const rg_service *svc, obs_src *s)
{
    gw_req *r = x->r;
    rg_grant *g = NULL;
    lt_errinfo ei;
    memset(&ei, 0, sizeof ei);
    if (!r->who.org[0] ||
        rg_grant_find(r->ctx->rg, svc->id, r->who.org, r->who.sub, x->now, &g, &ei) != LT_OK) {
        lt_errinfo_clear(&ei);
        rg_grant_release(g);
        return false; /* no live grant: not a source, and not named */
    }
    char buf[LT_DETAIL_MAX];
    const char *why = unavailable(svc, x->now, buf, sizeof buf);
    if (!why && !gw_grant_allows(g, "value", 5))
        why = "the grant does not include the field 'value'";
    if (!why && rg_grant_take_quota(r->ctx->rg, g, x->now, &ei) != LT_OK)
        why = lt_strlcpy(buf, ei.detail, sizeof buf) ? buf : "the daily quota is used up";
    s->status = gw_grant_allows(g, "status", 6);
    s->unit = gw_grant_allows(g, "unit", 4);
    lt_errinfo_clear(&ei);
    rg_grant_release(g);
    if (why)
        exclude(x, svc->id, why);
    return !why;
}

static void decide(obs_run *x, const char *id, obs_src *s)
{
    gw_req *r = x->r;
    rg_service *svc = NULL;
    memset(s, 0, sizeof *s);
    s->id = lt_arena_strdup(r->arena, id);
    s->agency = "";
    if (!s->id || rg_service_get(r->ctx->rg, id, &svc) != LT_OK || !svc)
        return;
    s->agency = lt_arena_strdup(r->arena, svc->agency);
    if (!s->agency)
        s->agency = "";
    s->status = s->unit = true;
    if (!gw_obs_contract(svc->contract))
        s->ok = false;
    else if (gw_is_admin(r) || ((r->who.roles & GW_ROLE_AGENCY) && r->who.org[0] &&
                                strcmp(r->who.org, svc->agency) == 0))
        s->ok = true;
    else
        s->ok = grant_read(x, svc, s);
    rg_service_release(svc);
}

static const obs_src *source(obs_run *x, const char *id)
{
    for (size_t i = x->nsrc; i-- > 0;)
        if (strcmp(x->src[i].id, id) == 0)
            return &x->src[i];
    if (!grow((void **)&x->src, &x->srccap, x->nsrc + 1, sizeof *x->src))
        return no_mem(x);
    decide(x, id, &x->src[x->nsrc]);
    return x->src[x->nsrc].id ? &x->src[x->nsrc++] : too_big(x);
}

static const obs_src *source_by_ptr(const obs_run *x, const char *id)
{
    for (size_t i = 0; i < x->nsrc; i++)
        if (x->src[i].id == id)
            return &x->src[i];
    return NULL;
}

/* -- the scan ---------------------------------------------------------------------------- */

static int cmp_key(const gw_obs *a, const gw_obs *b)
{
    int c = strcmp(a->indicator, b->indicator);
    if (!c)
        c = strcmp(a->area, b->area);
    return c ? c : ct_period_cmp(&a->p, &b->p);
}

static int cmp_obs(const void *a, const void *b)
{
    return cmp_key(a, b);
}

/* True when b should replace a (the same observation from two services). */
static bool prefer(obs_run *x, const gw_obs *a, const gw_obs *b)
{
    const obs_ind *ind = indicator(x, a->indicator);
    const obs_src *sa = source_by_ptr(x, a->service), *sb = source_by_ptr(x, b->service);
    bool ma = sa && *ind->agency && strcmp(sa->agency, ind->agency) == 0;
    bool mb = sb && *ind->agency && strcmp(sb->agency, ind->agency) == 0;
    if (ma != mb)
        return mb;
    return b->received_at_us > a->received_at_us;
}

/* Adds o to the vector being filled, merged with the previous entry when it is the same
 * observation. Past max_obs (when capped) only the count grows, in the scratch slot. */
static void keep(obs_run *x, const gw_obs *o)
{
    obs_vec *v = x->into;
    gw_obs *last = x->overflow ? &v->v[v->n] : v->n ? &v->v[v->n - 1] : NULL;
    if (last && cmp_key(last, o) == 0) {
        if (prefer(x, last, o))
            *last = *o;
        return;
    }
    gw_obs *slot = vec_slot(x, v);
    if (!slot)
        return;
    *slot = *o;
    if (x->capped && v->n >= x->q->max_obs)
        x->overflow++;
    else
        v->n++;
}

/* The value known at as_of: the record's revision then (false: born later). */
static bool at_as_of(obs_run *x, const wh_obs *e, gw_obs *o)
{
    wh_record rec;
    if (e->received_at_us <= x->q->as_of_us)
        return true;
    if (wh_record_get(x->txn, e->service, e->key, x->q->as_of_us, &rec) != LT_OK)
        return false;
    json_t *j = json_loadb(rec.data, rec.data_len, 0, NULL);
    if (!j)
        return false;
    json_t *v = json_object_get(j, "value");
    o->has_value = json_is_number(v);
    o->value = o->has_value ? json_number_value(v) : 0;
    o->status = intern(x, lt_json_str_or(j, "status"));
    o->unit = intern(x, lt_json_str_or(j, "unit"));
    json_decref(j);
    o->rev = rec.rev;
    o->received_at_us = rec.received_at_us;
    o->source = rec.source ? rec.source : "";
    o->message_id = rec.message_id ? rec.message_id : "";
    return true;
}

/* Filters first (area list, period range, level=commune), so a service is looked at (and a
 * granted one takes its quota unit) only for entries the query wants. */
static int scan_cb(void *ctx, const wh_obs *e)
{
    obs_run *x = ctx;
    ct_period p;
    if ((x->nonly && !bsearch(&e->area, x->only, x->nonly, sizeof *x->only, cmp_cstr)) ||
        ct_period_from_sortkey(e->period_key, &p) != 0 ||
        ((x->q->from || x->q->to) && !ct_period_within(&p, x->q->from, x->q->to)))
        return 0;
    if (x->commune_only && !parent_of(x, e->area))
        return x->err ? 1 : 0;
    const obs_src *s = source(x, e->service);
    if (!s || !s->ok)
        return x->err ? 1 : 0;
    gw_obs o = {.indicator = e->indicator,
                .area = e->area,
                .p = p,
                .period = e->period,
                .has_value = e->has_value != 0,
                .value = e->value,
                .status = e->status,
                .unit = e->unit,
                .service = s->id,
                .rev = e->rev,
                .received_at_us = e->received_at_us,
                .source = e->source,
                .message_id = e->message_id};
    if (x->q->as_of_us > 0 && !at_as_of(x, e, &o))
        return x->err ? 1 : 0;
    if (!s->status)
        o.status = "";
    if (!s->unit)
        o.unit = "";
    keep(x, &o);
    return x->err ? 1 : 0;
}

static lt_err scan_one(obs_run *x, const char *ind, const char *area)
{
    lt_err e = wh_obs_scan(x->txn, ind, area, scan_cb, x);
    if (x->err)
        return x->err;
    if (e)
        return lt_fail(&x->r->ei, e, "reading the observations index failed (%s)", lt_strerror(e));
    return LT_OK;
}

/* Sorts and merges duplicates when the scans did not already deliver key order. */
static void normalize(obs_run *x, obs_vec *v)
{
    bool sorted = true;
    for (size_t i = 1; sorted && i < v->n; i++)
        sorted = cmp_key(&v->v[i - 1], &v->v[i]) < 0;
    if (sorted)
        return;
    qsort(v->v, v->n, sizeof *v->v, cmp_obs);
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (k && cmp_key(&v->v[k - 1], &v->v[i]) == 0) {
            if (prefer(x, &v->v[k - 1], &v->v[i]))
                v->v[k - 1] = v->v[i];
        } else {
            v->v[k++] = v->v[i];
        }
    }
    v->n = k;
}

typedef struct obs_plan {
    const char **inds, **areas; /* sorted, unique (arena); NULL = all */
    size_t ninds, nareas;
} obs_plan;

static lt_err scan_plan(obs_run *x, const obs_plan *p, obs_vec *into)
{
    lt_err e = LT_OK;
    x->into = into;
    x->overflow = 0;
    if (!p->ninds) {
        x->only = p->areas;
        x->nonly = p->nareas;
        e = scan_one(x, NULL, NULL);
        x->nonly = 0;
    }
    for (size_t i = 0; !e && i < p->ninds; i++) {
        if (!p->nareas)
            e = scan_one(x, p->inds[i], NULL);
        for (size_t j = 0; !e && j < p->nareas; j++)
            e = scan_one(x, p->inds[i], p->areas[j]);
    }
    if (!e)
        normalize(x, into);
    return e;
}

/* Sorted unique arena copy of a list, plus (when expand) the communes of each province. */
static lt_err plan_list(obs_run *x, const char *const *in, size_t n, bool expand, const char ***out,
                        size_t *nout)
{
    size_t cap = n, k = 0;
    json_t **kids = expand ? calloc(n ? n : 1, sizeof *kids) : NULL;
    for (size_t i = 0; expand && kids && i < n; i++)
        if (rg_area_children(x->r->ctx->rg, in[i], &kids[i]) == LT_OK)
            cap += json_array_size(kids[i]);
    const char **l = lt_arena_alloc(x->r->arena, (cap ? cap : 1) * sizeof *l);
    for (size_t i = 0; l && i < n; i++) {
        l[k++] = in[i];
        for (size_t j = 0; kids && j < json_array_size(kids[i]); j++) {
            const char *c = json_string_value(json_array_get(kids[i], j));
            if (c)
                l[k++] = lt_arena_strdup(x->r->arena, c);
        }
    }
    for (size_t i = 0; kids && i < n; i++)
        json_decref(kids[i]);
    free(kids);
    if (!l || (expand && !kids))
        return lt_fail(&x->r->ei, LT_E_NOMEM, "out of memory planning the query");
    for (size_t i = 0; i < k; i++)
        if (!l[i])
            return lt_fail(&x->r->ei, LT_E_TOO_LARGE, "the query lists too many areas");
    qsort(l, k, sizeof *l, cmp_cstr);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (!u || strcmp(l[u - 1], l[i]) != 0)
            l[u++] = l[i];
    *out = l;
    *nout = u;
    return LT_OK;
}

/* -- level=province ---------------------------------------------------------------------- */

typedef struct obs_part { /* a commune's observation and its province */
    const char *province;
    const gw_obs *o;
} obs_part;

static int cmp_part(const void *a, const void *b)
{
    const obs_part *x = a, *y = b;
    int c = strcmp(x->province, y->province);
    if (!c)
        c = ct_period_cmp(&x->o->p, &y->o->p);
    return c ? c : (x->o < y->o ? -1 : x->o > y->o);
}

static const gw_obs *find_obs(const gw_obs *v, size_t n, const char *area, const ct_period *p)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].area, area);
        if (!c)
            c = ct_period_cmp(&v[mid].p, p);
        if (!c)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The weight indicator's observations (same sources, periods and as_of), read once. */
static const obs_vec *weights(obs_run *x, const char *code)
{
    for (size_t i = 0; i < x->nw; i++)
        if (strcmp(x->w[i].code, code) == 0)
            return &x->w[i].v;
    obs_wvec *nw = realloc(x->w, (x->nw + 1) * sizeof *nw);
    if (!nw)
        return no_mem(x);
    x->w = nw;
    obs_wvec *w = &x->w[x->nw++];
    memset(w, 0, sizeof *w);
    w->code = code;
    const char *inds[1] = {code};
    obs_plan p = {inds, NULL, 1, 0};
    bool capped = x->capped, communes = x->commune_only;
    x->capped = x->commune_only = false;
    obs_vec *into = x->into;
    lt_err e = scan_plan(x, &p, &w->v);
    x->into = into;
    x->capped = capped;
    x->commune_only = communes;
    return e ? NULL : &w->v;
}

/* Combines the communes parts[0..n) (one province, one period) by the indicator's rule.
 * False when there is nothing to combine. */
static bool combine(obs_run *x, const obs_ind *ind, const obs_part *parts, size_t n, gw_obs *out)
{
    const obs_vec *w = ind->agg == RG_AGG_WEIGHTED_MEAN ? weights(x, ind->weight) : NULL;
    double sum = 0, wsum = 0;
    int used = 0;
    const char *status = NULL;
    *out = *parts[0].o;
    for (size_t i = 0; i < n; i++) {
        const gw_obs *o = parts[i].o;
        double wt = 1;
        if (!o->has_value)
            continue;
        if (ind->agg == RG_AGG_WEIGHTED_MEAN) {
            const gw_obs *wo = w ? find_obs(w->v, w->n, o->area, &o->p) : NULL;
            if (!wo || !wo->has_value)
                continue;
            wt = wo->value;
        }
        sum += ind->agg == RG_AGG_SUM ? o->value : wt * o->value;
        wsum += wt;
        if (!used++ || o->received_at_us > out->received_at_us)
            out->received_at_us = o->received_at_us;
        if (!status && strcmp(o->status, "ok") != 0)
            status = o->status;
        if (used == 1)
            out->unit = o->unit;
    }
    if (!used || (ind->agg != RG_AGG_SUM && wsum == 0))
        return false;
    out->area = parts[0].province;
    out->value = ind->agg == RG_AGG_SUM ? sum : sum / wsum;
    out->has_value = true;
    out->status = status ? status : "ok";
    out->service = out->source = out->message_id = "";
    out->rev = 0;
    out->parts = used;
    return true;
}

/* One indicator's observations v[0..n): provinces kept, communes aggregated into `out`. */
static void province_group(obs_run *x, const gw_obs *v, size_t n, obs_vec *out)
{
    const obs_ind *ind = indicator(x, v[0].indicator);
    obs_part *parts = malloc((n ? n : 1) * sizeof *parts);
    size_t np = 0, start = out->n;
    if (!parts) {
        no_mem(x);
        return;
    }
    for (size_t i = 0; !x->err && i < n; i++) {
        const char *prov = parent_of(x, v[i].area);
        gw_obs *slot = prov ? NULL : vec_slot(x, out);
        if (prov)
            parts[np++] = (obs_part){prov, &v[i]};
        else if (slot)
            out->v[out->n++] = v[i];
    }
    if (ind->agg != RG_AGG_NONE && np)
        qsort(parts, np, sizeof *parts, cmp_part);
    for (size_t i = 0, j; !x->err && ind->agg != RG_AGG_NONE && i < np; i = j) {
        for (j = i + 1; j < np && strcmp(parts[j].province, parts[i].province) == 0 &&
                        ct_period_cmp(&parts[j].o->p, &parts[i].o->p) == 0;
             j++)
            ;
        gw_obs agg;
        if (find_obs(v, n, parts[i].province, &parts[i].o->p) ||
            !combine(x, ind, parts + i, j - i, &agg))
            continue;
        gw_obs *slot = vec_slot(x, out);
        if (slot)
            out->v[out->n++] = agg;
    }
    free(parts);
    qsort(out->v + start, out->n - start, sizeof *out->v, cmp_obs);
}

static void to_provinces(obs_run *x, obs_vec *v)
{
    obs_vec out = {0};
    for (size_t i = 0, j; !x->err && i < v->n; i = j) {
        for (j = i + 1; j < v->n && strcmp(v->v[j].indicator, v->v[i].indicator) == 0; j++)
            ;
        province_group(x, v->v + i, j - i, &out);
    }
    free(v->v);
    *v = out;
}

/* -- reductions -------------------------------------------------------------------------- */

static bool same_series(const gw_obs *a, const gw_obs *b)
{
    return strcmp(a->indicator, b->indicator) == 0 && strcmp(a->area, b->area) == 0;
}

/* Keeps, per series, the latest period (by last day when frequencies mix) or the first /
 * last N. */
static void per_series(const gw_obs_query *q, obs_vec *v)
{
    size_t k = 0;
    for (size_t i = 0, j; i < v->n; i = j) {
        for (j = i + 1; j < v->n && same_series(&v->v[i], &v->v[j]); j++)
            ;
        if (q->latest) {
            size_t best = i;
            for (size_t t = i + 1; t < j; t++)
                if (ct_period_last_day(&v->v[t].p) >= ct_period_last_day(&v->v[best].p))
                    best = t;
            v->v[k++] = v->v[best];
            continue;
        }
        size_t len = j - i;
        for (size_t t = i; t < j; t++) {
            size_t pos = t - i;
            if ((q->first_n && pos < q->first_n) || (q->last_n && pos + q->last_n >= len))
                v->v[k++] = v->v[t];
        }
    }
    v->n = k;
}

/* updated_after and, for level=province, the areas asked (after aggregation). */
static void filter(const gw_obs_query *q, const obs_plan *asked, obs_vec *v)
{
    size_t k = 0;
    for (size_t i = 0; i < v->n; i++) {
        const gw_obs *o = &v->v[i];
        if (q->updated_after_us > 0 && o->received_at_us <= q->updated_after_us)
            continue;
        if (asked->nareas &&
            !bsearch(&o->area, asked->areas, asked->nareas, sizeof *asked->areas, cmp_cstr))
            continue;
        v->v[k++] = *o;
    }
    v->n = k;
}

/* -- the run ----------------------------------------------------------------------------- */

static void run_init(obs_run *x, gw_req *r, const gw_obs_query *q)
{
    memset(x, 0, sizeof *x);
    x->r = r;
    x->q = q;
    x->now = lt_now_us();
    x->excluded = json_array();
}

static void run_free(obs_run *x)
{
    for (size_t i = 0; i < x->nw; i++)
        free(x->w[i].v.v);
    free(x->w);
    free(x->src);
    free(x->ind);
}

static bool reducing(const gw_obs_query *q)
{
    return q->latest || q->first_n || q->last_n || q->level == GW_LEVEL_PROVINCE ||
           q->updated_after_us > 0 || q->max_obs == 0;
}

static lt_err run_query(obs_run *x, obs_vec *v)
{
    const gw_obs_query *q = x->q;
    obs_plan scan = {0}, asked = {0};
    lt_err e = LT_OK;
    if (q->nindicators)
        e = plan_list(x, q->indicators, q->nindicators, false, &scan.inds, &scan.ninds);
    if (!e && q->nareas)
        e = plan_list(x, q->areas, q->nareas, q->level == GW_LEVEL_PROVINCE, &scan.areas,
                      &scan.nareas);
    if (!e && q->nareas && q->level == GW_LEVEL_PROVINCE)
        e = plan_list(x, q->areas, q->nareas, false, &asked.areas, &asked.nareas);
    if (e)
        return e;
    x->capped = !reducing(q);
    x->commune_only = q->level == GW_LEVEL_COMMUNE;
    if ((e = scan_plan(x, &scan, v)) != LT_OK)
        return e;
    x->capped = false;
    if (q->level == GW_LEVEL_PROVINCE)
        to_provinces(x, v);
    if (x->err)
        return x->err;
    filter(q, &asked, v);
    if (q->latest || q->first_n || q->last_n)
        per_series(q, v);
    size_t total = v->n + x->overflow;
    if (q->max_obs && total > q->max_obs)
        return lt_fail(&x->r->ei, LT_E_TOO_LARGE,
                       "%zu observations match; the cap is %zu: "
                       "narrow the query",
                       total, q->max_obs);
    return LT_OK;
}

static void free_vec(void *p)
{
    free(p);
}

lt_err gw_obs_run(gw_req *r, const gw_obs_query *q, gw_obs_set *out)
{
    obs_run x;
    obs_vec v = {0};
    memset(out, 0, sizeof *out);
    run_init(&x, r, q);
    if (!x.excluded)
        return lt_fail(&r->ei, LT_E_NOMEM, "out of memory");
    lt_err e = wh_read_begin(r->ctx->wh, &x.txn, &r->ei);
    if (!e)
        e = run_query(&x, &v);
    size_t ndec = x.nsrc;
    gw_obs_decision *decisions = lt_arena_alloc(r->arena, (ndec ? ndec : 1) * sizeof *decisions);
    for (size_t i = 0; decisions && i < ndec; i++)
        decisions[i] = (gw_obs_decision){x.src[i].id, x.src[i].ok, x.src[i].status,
                                         x.src[i].unit};
    if (!e && !decisions)
        e = lt_fail(&r->ei, LT_E_TOO_LARGE, "the query needs more memory than a request may use");
    run_free(&x);
    if (!e && v.v && lt_arena_defer(r->arena, free_vec, v.v) != 0)
        e = lt_fail(&r->ei, LT_E_TOO_LARGE,
                    "the query needs more memory than a request may "
                    "use: narrow it"); /* the hook ran: v.v is gone */
    else if (e)
        free(v.v);
    if (e) {
        wh_read_end(x.txn);
        json_decref(x.excluded);
        return e;
    }
    out->items = v.v;
    out->n = v.n;
    out->excluded = x.excluded;
    out->txn = x.txn;
    out->decisions = decisions;
    out->ndecisions = ndec;
    if (wh_obs_generation(x.txn, &out->obs_gen) != LT_OK)
        out->obs_gen = UINT64_MAX; /* unknown: the answer is not cached */
    return LT_OK;
}

bool gw_obs_redecide(gw_req *r, const gw_obs_decision *d, size_t n)
{
    obs_run x;
    run_init(&x, r, NULL);
    bool same = x.excluded != NULL;
    for (size_t i = 0; same && i < n; i++) {
        obs_src s;
        decide(&x, d[i].service, &s);
        same = s.id && s.ok == d[i].ok && s.status == d[i].status && s.unit == d[i].unit;
    }
    same = same && json_array_size(x.excluded) == 0;
    json_decref(x.excluded);
    run_free(&x);
    return same;
}

void gw_obs_set_free(gw_obs_set *s)
{
    if (!s)
        return;
    wh_read_end(s->txn);
    json_decref(s->excluded);
    memset(s, 0, sizeof *s);
}

/* -- gw_obs_sources ---------------------------------------------------------------------- */

/* Every service id (admin) or the caller's org's own (agency), from the registry. */
static lt_err listed_services(gw_req *r, bool all, json_t *to)
{
    char *after = NULL;
    lt_err e = LT_OK;
    do {
        json_t *items = NULL;
        char *next = NULL;
        e = rg_list(r->ctx->rg, WH_SERVICES, after, 1000, &items, &next, &r->ei);
        size_t i;
        json_t *d;
        json_array_foreach(items, i,
                           d) if (!e && (all || lt_streq(lt_json_str(d, "agency"), r->who.org))) e =
            json_array_append(to, json_object_get(d, "id")) ? LT_E_NOMEM : LT_OK;
        json_decref(items);
        free(after);
        after = next;
    } while (!e && after);
    free(after);
    return e;
}

static lt_err candidates(gw_req *r, int64_t now, json_t *ids)
{
    bool admin = gw_is_admin(r);
    lt_err e = LT_OK;
    if (admin || ((r->who.roles & GW_ROLE_AGENCY) && r->who.org[0]))
        e = listed_services(r, admin, ids);
    if (!e && !admin && r->who.org[0]) {
        json_t *granted = NULL;
        e = rg_grant_services(r->ctx->rg, r->who.org, r->who.sub, now, &granted);
        if (!e && json_array_extend(ids, granted))
            e = LT_E_NOMEM;
        json_decref(granted);
    }
    return e;
}

lt_err gw_obs_sources(gw_req *r, json_t **services, json_t **excluded)
{
    obs_run x;
    json_t *ids = json_array(), *ok = json_array();
    run_init(&x, r, NULL);
    lt_err e = ids && ok && x.excluded ? candidates(r, x.now, ids) : LT_E_NOMEM;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id)
    {
        const char *s = json_string_value(id);
        size_t before = x.nsrc; /* a service listed twice (own and granted) is decided once */
        const obs_src *src = !e && s ? source(&x, s) : NULL;
        if (src && src->ok && x.nsrc > before && json_array_append_new(ok, json_string(s)))
            e = LT_E_NOMEM;
    }
    if (!e && x.err)
        e = x.err;
    run_free(&x);
    json_decref(ids);
    if (e) {
        json_decref(ok);
        json_decref(x.excluded);
        *services = *excluded = NULL;
        return r->ei.code ? r->ei.code : lt_fail(&r->ei, e, "listing the sources failed");
    }
    *services = ok;
    *excluded = x.excluded;
    return LT_OK;
}
