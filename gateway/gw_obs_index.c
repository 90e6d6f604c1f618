/* gw_obs_index — keeping the warehouse's observations index (wh_obs) current: which services
 * it covers, how a normalised record becomes an entry, and the reindex at start.
 *
 * Ingest (gw_ingest.c) writes the entry of every new or changed record of an
 * indicator-observation service in the record's own transaction. gw_obs_reindex covers what
 * ingest could not: records stored before the index existed, and services that became
 * indicator-observation services since the last start. The meta document WH_META "obs_index"
 * {"version": 1, "services": [ids], "updated_at"} lists the services whose index is complete;
 * a start reindexes every indicator-observation service missing from it (all of them when the
 * document is absent or of another version) and then stores the current list. */
#include <stdlib.h>
#include <string.h>

#include "gw_obs.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"

#define OBS_CONTRACT "indicator-observation"
#define OBS_META_ID "obs_index"
#define OBS_INDEX_VERSION 1
#define OBS_REINDEX_BATCH 10000 /* records per write transaction when reindexing */
#define OBS_TEXT_MAX 511        /* WH_OBS_STR_MAX - 1: longer period/status/unit are not indexed */

bool gw_obs_contract(const ct_contract *c)
{
    return c && c->id && strcmp(c->id, OBS_CONTRACT) == 0;
}

/* A code that can be part of an index key: 1..LT_MAX_ID_LEN bytes without 0x1F. */
static bool code_ok(const char *s)
{
    return s && *s && strnlen(s, LT_MAX_ID_LEN + 1) <= LT_MAX_ID_LEN && !strchr(s, '\x1f');
}

static bool text_ok(const char *s)
{
    return strnlen(s, OBS_TEXT_MAX + 1) <= OBS_TEXT_MAX;
}

bool gw_obs_from_record(const json_t *norm, const char *service, const char *key, wh_obs *o)
{
    const char *period = lt_json_str(norm, "period");
    ct_period p;
    memset(o, 0, sizeof *o);
    o->indicator = lt_json_str(norm, "indicator");
    o->area = lt_json_str(norm, "area");
    if (!code_ok(o->indicator) || !code_ok(o->area) || !period ||
        ct_period_parse(period, strlen(period), &p) != 0)
        return false;
    const json_t *v = json_object_get(norm, "value");
    o->period = period;
    o->period_key = ct_period_sortkey(&p);
    o->has_value = json_is_number(v);
    o->value = o->has_value ? json_number_value(v) : 0.0;
    o->status = lt_json_str_or(norm, "status");
    o->unit = lt_json_str_or(norm, "unit");
    o->service = service;
    o->key = key;
    o->source = o->message_id = "";
    return text_ok(o->status) && text_ok(o->unit);
}

/* ---- reindex ------------------------------------------------------------------------------ */

typedef struct reindex {
    gw_ctx *ctx;
    const char *service;
    wh_batch *b;
    size_t indexed, skipped;
    lt_err err;
    lt_errinfo *ei;
} reindex;

/* One stored record → its entry. Records that are not observations are skipped (counted). */
static int reindex_cb(void *arg, const wh_record *rec)
{
    reindex *x = arg;
    json_t *norm = json_loadb(rec->data, rec->data_len, 0, NULL);
    wh_obs o;
    lt_errinfo ei = {0};
    if (norm && gw_obs_from_record(norm, x->service, rec->key, &o)) {
        lt_err e = wh_batch_obs_put(x->b, &o, &ei);
        if (e == LT_OK)
            x->indexed++;
        else if (e == LT_E_BAD_REQUEST || e == LT_E_NOT_FOUND)
            x->skipped++;
        else
            x->err = lt_fail(x->ei, e, "reindex %s: %s", x->service, ei.detail);
    } else {
        x->skipped++;
    }
    json_decref(norm);
    lt_errinfo_clear(&ei);
    return x->err ? -1 : 0;
}

/* One page of a service's records (latest revisions, key order) in one write transaction;
 * cursor in: where to resume ("" = start), out: where the next page starts ("" = done). */
static lt_err reindex_page(reindex *x, char cursor[WH_CURSOR_MAX])
{
    wh_read *r = NULL;
    char next[WH_CURSOR_MAX] = "";
    wh_scan opts = {0, 0, cursor[0] ? cursor : NULL, OBS_REINDEX_BATCH};
    lt_err e = wh_batch_begin(x->ctx->wh, &x->b, x->ei);
    if (!e)
        e = wh_read_begin(x->ctx->wh, &r, x->ei);
    if (!e)
        e = wh_record_scan(r, x->service, &opts, reindex_cb, x, next, x->ei);
    if (!e && x->err)
        e = x->err;
    wh_read_end(r);
    if (e) {
        wh_batch_abort(x->b);
        x->b = NULL;
        return e;
    }
    e = wh_batch_commit(x->b, x->ei);
    x->b = NULL;
    memcpy(cursor, next, WH_CURSOR_MAX);
    return e;
}

/* Drops the service's entries, then indexes every record it holds. */
static lt_err reindex_service(gw_ctx *ctx, const char *service, size_t *indexed,
                              size_t *skipped, lt_errinfo *ei)
{
    reindex x = {ctx, service, NULL, 0, 0, LT_OK, ei};
    char cursor[WH_CURSOR_MAX] = "";
    lt_err e = wh_obs_drop_service(ctx->wh, service, ei);
    do {
        if (!e)
            e = reindex_page(&x, cursor);
    } while (!e && cursor[0]);
    *indexed += x.indexed;
    *skipped += x.skipped;
    return e;
}

static int service_id_cb(void *arg, const char *id, const char *json, size_t len)
{
    (void)json;
    (void)len;
    json_array_append_new(arg, json_string(id));
    return 0;
}

/* Ids of the indicator-observation services, in id order (new array). */
static lt_err obs_services(gw_ctx *ctx, json_t **out)
{
    json_t *all = json_array(), *ids = json_array();
    lt_err e = wh_doc_list(ctx->wh, WH_SERVICES, NULL, 0, service_id_cb, all);
    size_t i;
    json_t *id;
    json_array_foreach(all, i, id) {
        rg_service *svc = NULL;
        if (rg_service_get(ctx->rg, json_string_value(id), &svc) == LT_OK &&
            gw_obs_contract(svc->contract))
            json_array_append(ids, id);
        rg_service_release(svc);
    }
    json_decref(all);
    if (e) {
        json_decref(ids);
        return e;
    }
    *out = ids;
    return LT_OK;
}

/* The services listed by the meta document (new array; empty when absent or outdated). */
static json_t *indexed_services(gw_ctx *ctx)
{
    char *text = NULL;
    size_t len = 0;
    json_t *doc = NULL, *list = NULL;
    if (wh_doc_get(ctx->wh, WH_META, OBS_META_ID, &text, &len) == LT_OK)
        doc = json_loadb(text, len, 0, NULL);
    free(text);
    if (json_integer_value(json_object_get(doc, "version")) == OBS_INDEX_VERSION &&
        json_is_array(json_object_get(doc, "services")))
        list = json_incref(json_object_get(doc, "services"));
    json_decref(doc);
    return list ? list : json_array();
}

static bool listed(const json_t *list, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (lt_streq(json_string_value(v), id))
            return true;
    }
    return false;
}

static lt_err store_meta(gw_ctx *ctx, json_t *services, lt_errinfo *ei)
{
    char ts[32];
    lt_time_format(lt_now_us(), false, ts);
    json_t *doc = json_pack("{s:i, s:O, s:s}", "version", OBS_INDEX_VERSION, "services",
                            services, "updated_at", ts);
    size_t len = 0;
    char *text = doc ? lt_json_canonical(doc, &len) : NULL;
    lt_err e = text ? wh_doc_put(ctx->wh, WH_META, OBS_META_ID, text, len, 0, ei)
                    : lt_fail(ei, LT_E_NOMEM, "observations index: out of memory");
    free(text);
    json_decref(doc);
    return e;
}

/* What a start did: services reindexed, entries written, records skipped. */
typedef struct reindex_stats {
    size_t services, indexed, skipped;
} reindex_stats;

/* Indexes the services of `want` that `done` does not list. */
static lt_err reindex_missing(gw_ctx *ctx, const json_t *want, const json_t *done,
                              reindex_stats *st, lt_errinfo *ei)
{
    size_t i;
    json_t *id;
    json_array_foreach(want, i, id) {
        const char *s = json_string_value(id);
        if (listed(done, s))
            continue;
        size_t before = st->indexed;
        lt_err e = reindex_service(ctx, s, &st->indexed, &st->skipped, ei);
        if (e)
            return e;
        st->services++;
        if (st->indexed > before)
            lt_log(LT_LOG_INFO, "observations index: service %s: %zu entries indexed", s,
                   st->indexed - before);
    }
    return LT_OK;
}

lt_err gw_obs_reindex(gw_ctx *ctx, lt_errinfo *ei)
{
    json_t *want = NULL, *done = indexed_services(ctx);
    reindex_stats st = {0, 0, 0};
    int64_t t0 = lt_mono_us();
    lt_err e = obs_services(ctx, &want);
    if (!e)
        e = reindex_missing(ctx, want, done, &st, ei);
    /* the list is rewritten when it changed: services reindexed, or ones no longer covered */
    if (!e && (st.services || json_array_size(done) != json_array_size(want)))
        e = store_meta(ctx, want, ei);
    if (!e)
        lt_log(LT_LOG_INFO, "observations index: %zu services covered, %zu reindexed (%zu "
               "entries, %zu records that are not observations skipped) in %.1f ms",
               json_array_size(want), st.services, st.indexed, st.skipped,
               (lt_mono_us() - t0) / 1000.0);
    json_decref(want);
    json_decref(done);
    return e;
}
