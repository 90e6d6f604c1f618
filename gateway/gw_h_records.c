/* Data endpoints of a service (API.md §7, §8): push, list with filters/since/as_of/paging,
 * one record by key (with history), quarantine list and retry. The record scan itself
 * (gw_records.h) is shared with the SOAP facade, so both answer the same records. */
#include <stdlib.h>
#include <string.h>

#include "ct_period.h"
#include "gw_envelope.h"
#include "gw_int.h"
#include "gw_records.h"
#include "lt_json.h"
#include "lt_str.h"

typedef struct list_ctx {
    gw_req *r;
    const rg_service *svc;
    gw_records_query q;
    bool provenance, bad;
    lt_buf prov;
    size_t count;
} list_ctx;

/* -- the shared scan (gw_records.h) ------------------------------------------------------- */

void gw_records_query_init(gw_records_query *q, const rg_service *svc, size_t limit)
{
    memset(q, 0, sizeof *q);
    q->svc = svc;
    q->scan.limit = limit;
}

/* Splits "a,b,c" into the filter, normalising periods so "2026-10" finds "2026-M10". */
static bool add_filter(gw_req *r, gw_filter *ft, const ct_field *f, const char *value)
{
    ft->field = f;
    ft->n = 0;
    char *copy = lt_arena_strdup(r->arena, value);
    if (!copy)
        return false;
    for (char *p = copy, *next; p; p = next) {
        next = strchr(p, ',');
        if (next)
            *next++ = '\0';
        if (ft->n == GW_MAX_FILTER_VALUES)
            return false;
        ct_period per;
        if (f->type == CT_PERIOD && ct_period_parse(p, strlen(p), &per) == 0) {
            char *canon = lt_arena_alloc(r->arena, CT_PERIOD_MAX);
            if (!canon)
                return false;
            ct_period_format(&per, canon);
            p = canon;
        }
        ft->values[ft->n++] = p;
    }
    return true;
}

lt_err gw_records_filter(gw_req *r, gw_records_query *q, const char *name, const char *values)
{
    const ct_field *f = ct_contract_field(q->svc->contract, name);
    if (f && !gw_grant_allows(r->grant, name, strlen(name)))
        return lt_fail(&r->ei, LT_E_FORBIDDEN, "field '%.64s' is outside your grant: it cannot "
                       "be used as a filter", name);
    if (!f || !values || q->nfilters == GW_MAX_FILTERS ||
        !add_filter(r, &q->filters[q->nfilters], f, values))
        return lt_fail(&r->ei, LT_E_BAD_REQUEST, f ? "too many filter values for '%.64s'"
                       : "unknown query parameter '%.64s' (not a field of the contract)", name);
    q->nfilters++;
    return LT_OK;
}

/* Text of a record value for comparison with a filter value. */
static const char *value_text(const json_t *v, char *buf, size_t size)
{
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, size, "%.17g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL;
    return buf;
}

bool gw_records_match(const gw_records_query *q, const wh_record *rec)
{
    if (!q->nfilters)
        return true;
    json_t *o = json_loadb(rec->data, rec->data_len, 0, NULL);
    bool ok = o != NULL;
    for (size_t i = 0; ok && i < q->nfilters; i++) {
        char buf[64];
        const char *t = value_text(json_object_get(o, q->filters[i].field->name), buf, sizeof buf);
        bool any = false;
        for (size_t j = 0; t && !any && j < q->filters[i].n; j++)
            any = strcmp(t, q->filters[i].values[j]) == 0;
        ok = any;
    }
    json_decref(o);
    return ok;
}

typedef struct scan_ctx {
    const gw_records_query *q;
    gw_record_fn fn;
    void *cls;
} scan_ctx;

/* wh_record_scan's callback: filters first, so only matching records count toward limit. */
static int scan_cb(void *ctx, const wh_record *rec)
{
    scan_ctx *sc = ctx;
    if (!gw_records_match(sc->q, rec))
        return 1;
    return sc->fn(sc->cls, rec);
}

lt_err gw_records_scan(gw_req *r, const gw_records_query *q, gw_record_fn fn, void *cls,
                       char next[WH_CURSOR_MAX])
{
    scan_ctx sc = {q, fn, cls};
    wh_read *rd = NULL;
    next[0] = '\0';
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e)
        e = wh_record_scan(rd, q->svc->id, &q->scan, scan_cb, &sc, next, &r->ei);
    wh_read_end(rd);
    return e;
}

/* -- REST: GET /v1/services/{id}/records[/{key}] ------------------------------------------ */

static bool flag(gw_req *r, const char *name)
{
    const char *v = gw_query(r, name);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* Parses an RFC 3339 query parameter; false after replying 400. */
static bool time_param(gw_req *r, const char *name, int64_t *us)
{
    const char *v = gw_query(r, name);
    *us = 0;
    if (!v)
        return true;
    if (lt_time_parse(v, strlen(v), us) == 0)
        return true;
    gw_fail(r, LT_E_BAD_REQUEST, "%s must be an RFC 3339 date-time such as "
            "2026-11-22T05:00:00Z, not '%.64s'", name, v);
    return false;
}

static enum MHD_Result param_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    static const char *const known[] = {"since", "as_of", "limit", "cursor", "provenance",
                                        "history", "atomic", NULL};
    list_ctx *lc = cls;
    (void)kind;
    for (const char *const *k = known; *k; k++)
        if (strcmp(*k, key) == 0)
            return MHD_YES;
    if (gw_records_filter(lc->r, &lc->q, key, value) == LT_OK)
        return MHD_YES;
    gw_reply_error(lc->r);
    lc->bad = true;
    return MHD_NO;
}

/* Writes one matching record (projected to the grant) into the envelope. */
static int list_cb(void *ctx, const wh_record *rec)
{
    list_ctx *lc = ctx;
    gw_env_record(&lc->r->out, lc->count, lc->r->grant, rec->data, rec->data_len);
    if (lc->provenance)
        gw_env_provenance(&lc->prov, lc->count, lc->svc, rec);
    lc->count++;
    return 0;
}

static void finish_envelope(gw_req *r, list_ctx *lc, const char *next)
{
    gw_env_end(&r->out, r->grant, lc->svc->contract, lc->provenance ? &lc->prov : NULL, next);
    lt_buf_free(&lc->prov);
    r->records = lc->count;
    if (r->out.err) {
        gw_fail(r, r->out.err, "the response could not be built");
        return;
    }
    r->status = 200;
    r->content_type = GW_MEDIA_ENVELOPE;
}

static bool list_setup(gw_req *r, rg_service *svc, list_ctx *lc, size_t limit)
{
    memset(lc, 0, sizeof *lc);
    lc->r = r;
    lc->svc = svc;
    gw_records_query_init(&lc->q, svc, limit);
    lc->provenance = flag(r, "provenance");
    lt_buf_init(&lc->prov, 0);
    if (!time_param(r, "since", &lc->q.scan.since_us) ||
        !time_param(r, "as_of", &lc->q.scan.as_of_us))
        return false;
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, param_cb, lc);
    return !lc->bad;
}

void gw_h_records_list(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    list_ctx lc;
    size_t limit;
    const char *cursor;
    if (!svc || !gw_access_service(r, svc, GW_OP_READ) || !gw_paging(r, &limit, &cursor) ||
        !list_setup(r, svc, &lc, limit))
        return;
    lc.q.scan.cursor = cursor;
    char next[WH_CURSOR_MAX] = "";
    lt_buf_reset(&r->out);
    gw_env_begin(&r->out, svc);
    if (gw_records_scan(r, &lc.q, list_cb, &lc, next)) {
        lt_buf_free(&lc.prov);
        gw_reply_error(r);
        return;
    }
    finish_envelope(r, &lc, next);
}

/* One record, or its revisions: the listing's filters still apply, as they always have. */
static int history_cb(void *ctx, const wh_record *rec)
{
    list_ctx *lc = ctx;
    return gw_records_match(&lc->q, rec) ? list_cb(ctx, rec) : 1;
}

void gw_h_record_get(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    list_ctx lc;
    if (!svc || !gw_access_service(r, svc, GW_OP_READ) || !list_setup(r, svc, &lc, 1))
        return;
    const char *key = r->segs[4];
    wh_read *rd = NULL;
    wh_record rec;
    lt_buf_reset(&r->out);
    gw_env_begin(&r->out, svc);
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e && flag(r, "history")) {
        lc.provenance = true; /* a history without revision numbers says little */
        e = wh_record_history(rd, svc->id, key, history_cb, &lc);
    } else if (!e && !(e = wh_record_get(rd, svc->id, key, lc.q.scan.as_of_us, &rec))) {
        history_cb(&lc, &rec);
    }
    wh_read_end(rd);
    if (e) {
        lt_buf_free(&lc.prov);
        gw_fail(r, e, e == LT_E_NOT_FOUND ? "no record '%.200s' in service '%s'%s"
                : "cannot read record '%.200s' of '%s'%s", key, svc->id,
                lc.q.scan.as_of_us && e == LT_E_NOT_FOUND ? " at that time" : "");
        return;
    }
    finish_envelope(r, &lc, NULL);
}

void gw_h_records_push(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    if (!svc || !gw_access_service(r, svc, GW_OP_WRITE))
        return;
    if (strcmp(svc->status, "retired") == 0) {
        gw_fail(r, LT_E_CONFLICT, "service '%s' is retired and takes no data", svc->id);
        return;
    }
    gw_ingest_opts o = {flag(r, "atomic"), "push", r->request_id, r->who.sub};
    json_t *result = NULL;
    lt_err e = gw_ingest(r->ctx, svc, gw_content_type(r), r->body.data, r->body.len, &o,
                         &result, &r->records, &r->ei);
    if (e) {
        gw_reply_error(r);
        return;
    }
    gw_reply_json(r, 200, result);
}
