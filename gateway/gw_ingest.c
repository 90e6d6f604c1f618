/* The ingest pipeline shared by HTTP pushes, pulls, quarantine retries and `lienthong import`:
 * decode + map (adapters) → validate (contracts) → store in one write transaction
 * (warehouse) → quarantine rejects with their reasons. Nothing a provider sent is lost.
 * For an indicator-observation service every new or changed record also gets its entry in
 * the observations index, in the same transaction (gw_obs.h, docs/warehouse.md). */
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "gw_obs.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"

#define MAX_ERRORS_REPORTED 1000 /* the response lists the first ones; quarantine keeps all */

typedef struct ingest {
    gw_ctx *ctx;
    const rg_service *svc;
    const gw_ingest_opts *opts;
    lt_buf recs;        /* records to store: [u32 keylen][key][u32 datalen][data] … and, when
                           obs, [u32 obslen][obs fields] after each (see put_obs) */
    size_t nrecs;
    bool obs;           /* the service's contract is indicator-observation */
    json_t *rejects;    /* quarantine entries to store */
    json_t *errors;     /* errors for the response */
    size_t rejected;
    const char *message_id; /* the envelope's message_id when given, else opts' */
    const char *retry_qid;  /* retrying a quarantine entry: delete it in the same batch */
    json_t *keep;           /* holds strings that must outlive the decoded payload */
} ingest;

static const char *keep_str(ingest *in, const char *s)
{
    if (!in->keep)
        in->keep = json_array();
    json_t *v = json_string(s);
    json_array_append_new(in->keep, v);
    return json_string_value(v);
}

static void add_errors(ingest *in, json_t *errs)
{
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        if (json_array_size(in->errors) < MAX_ERRORS_REPORTED)
            json_array_append(in->errors, e);
    }
}

static void reject(ingest *in, long index, const json_t *raw, json_t *errs)
{
    json_t *q = json_object();
    json_object_set_new(q, "record", json_integer(index));
    json_object_set(q, "raw", raw ? (json_t *)raw : json_null());
    json_object_set(q, "errors", errs);
    json_object_set_new(q, "source", json_string(in->opts->source ? in->opts->source : "push"));
    if (in->message_id)
        json_object_set_new(q, "message_id", json_string(in->message_id));
    if (in->opts->system)
        json_object_set_new(q, "system", json_string(in->opts->system));
    json_array_append_new(in->rejects, q);
    add_errors(in, errs);
    in->rejected++;
}

static void put_u32(lt_buf *b, size_t n)
{
    uint32_t v = (uint32_t)n;
    lt_buf_append(b, &v, sizeof v);
}

/* Writes a u32 length placeholder; close_len patches in what was appended after it. */
static size_t open_len(lt_buf *b)
{
    size_t at = b->len;
    put_u32(b, 0);
    return at;
}

static void close_len(lt_buf *b, size_t at)
{
    if (!b->err) {
        uint32_t n = (uint32_t)(b->len - at - 4);
        memcpy(b->data + at, &n, 4);
    }
}

/* The index fields of a record: has_value(1) value(8) period_key(8), then NUL-terminated
 * indicator, area, period, status, unit. Host byte order: they never leave the process. */
static void put_obs(lt_buf *b, const wh_obs *o)
{
    unsigned char h = o->has_value ? 1 : 0;
    lt_buf_append(b, &h, 1);
    lt_buf_append(b, &o->value, sizeof o->value);
    lt_buf_append(b, &o->period_key, sizeof o->period_key);
    const char *s[] = {o->indicator, o->area, o->period, o->status, o->unit};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
        lt_buf_append(b, s[i], strlen(s[i]) + 1);
}

/* Reads put_obs's bytes back into o (strings point into p); false when they do not fit. */
static bool get_obs(const char *p, size_t len, wh_obs *o)
{
    if (len < 17)
        return false;
    o->has_value = p[0] != 0;
    memcpy(&o->value, p + 1, sizeof o->value);
    memcpy(&o->period_key, p + 9, sizeof o->period_key);
    const char **dst[] = {&o->indicator, &o->area, &o->period, &o->status, &o->unit};
    size_t off = 17;
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        const char *nul = off < len ? memchr(p + off, '\0', len - off) : NULL;
        if (!nul)
            return false;
        *dst[i] = p + off;
        off = (size_t)(nul - p) + 1;
    }
    return true;
}

/* Queues a validated record for store(): key, canonical text and, for an observation
 * service, its index fields (a record that cannot be indexed is rejected instead). */
static void collect(ingest *in, long index, const json_t *norm, lt_errinfo *ei)
{
    char key[LT_MAX_KEY_LEN + 1];
    wh_obs o;
    if (ct_record_key(in->svc->contract, norm, key, sizeof key) < 0) {
        lt_errinfo_add(ei, index, NULL, "the record key is longer than %d bytes",
                       LT_MAX_KEY_LEN);
        return;
    }
    if (in->obs && !gw_obs_from_record(norm, in->svc->id, key, &o)) {
        lt_errinfo_add(ei, index, NULL, "not an observation: indicator and area (codes of at "
                       "most %d bytes), a valid period, and status and unit of at most 511 "
                       "bytes are required", LT_MAX_ID_LEN);
        return;
    }
    size_t klen = strlen(key);
    put_u32(&in->recs, klen);
    lt_buf_append(&in->recs, key, klen);
    size_t at = open_len(&in->recs);
    ct_record_write(in->svc->contract, norm, &in->recs);
    close_len(&in->recs, at);
    if (in->obs) {
        at = open_len(&in->recs);
        put_obs(&in->recs, &o);
        close_len(&in->recs, at);
    }
    in->nrecs++;
}

static int on_record(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                     const char *error)
{
    ingest *in = ctx;
    lt_errinfo ei = {0};
    json_t *norm = NULL;
    if (!mapped) {
        lt_errinfo_add(&ei, index, field, "%s", error ? error : "could not be mapped");
    } else if (ct_validate(in->svc->contract, mapped, index, rg_code_exists, in->ctx->rg, &norm,
                           &ei) == LT_OK) {
        collect(in, index, norm, &ei);
        json_decref(norm);
    }
    if (ei.errors || ei.code)
        reject(in, index, raw, ei.errors ? ei.errors : json_array());
    json_decref(mapped);
    lt_errinfo_clear(&ei);
    return in->recs.err ? -1 : 0;
}

/* The index entry of a record just stored (new or changed) from its queued fields. */
static lt_err index_obs(wh_batch *b, ingest *in, const char *key, const char *p, uint32_t len,
                        lt_errinfo *ei)
{
    wh_obs o = {0};
    if (!get_obs(p, len, &o))
        return lt_fail(ei, LT_E_INTERNAL, "observation fields of record '%s' are damaged", key);
    o.service = in->svc->id;
    o.key = key;
    return wh_batch_obs_put(b, &o, ei);
}

/* Stores one queued record at p (and its index entry); returns the bytes it took (*e is set
 * on error). */
static size_t store_one(wh_batch *b, ingest *in, const wh_prov *prov, const char *p,
                        size_t *accepted, size_t *unchanged, lt_err *e, lt_errinfo *ei)
{
    uint32_t kl, dl, ol = 0;
    memcpy(&kl, p, 4);
    char key[LT_MAX_KEY_LEN + 1];
    memcpy(key, p + 4, kl);
    key[kl] = '\0';
    memcpy(&dl, p + 4 + kl, 4);
    const char *obs = p + 8 + kl + dl;
    if (in->obs)
        memcpy(&ol, obs, 4);
    wh_put_result res;
    *e = wh_batch_put_record(b, in->svc->id, key, p + 8 + kl, dl, prov, &res, ei);
    if (!*e && in->obs && res != WH_PUT_UNCHANGED)
        *e = index_obs(b, in, key, obs + 4, ol, ei);
    *accepted += !*e && res != WH_PUT_UNCHANGED;
    *unchanged += !*e && res == WH_PUT_UNCHANGED;
    return 8 + kl + dl + (in->obs ? 4 + ol : 0);
}

/* Writes the collected records and quarantine entries in one durable transaction. */
static lt_err store(ingest *in, json_t *qids, size_t *accepted, size_t *unchanged,
                    lt_errinfo *ei)
{
    wh_batch *b = NULL;
    wh_prov prov = {in->opts->source ? in->opts->source : "push", in->message_id,
                    in->opts->system};
    lt_err e = wh_batch_begin(in->ctx->wh, &b, ei);
    const char *p = in->recs.data, *end = p + in->recs.len;
    while (!e && p && p < end)
        p += store_one(b, in, &prov, p, accepted, unchanged, &e, ei);
    size_t i;
    json_t *q;
    json_array_foreach(in->rejects, i, q) {
        char qid[32];
        if (e || (e = wh_batch_quarantine_add(b, in->svc->id, q, qid, ei)))
            break;
        json_array_append_new(qids, json_string(qid));
    }
    if (!e && in->retry_qid)
        e = wh_batch_quarantine_del(b, in->svc->id, in->retry_qid, ei);
    if (e) {
        wh_batch_abort(b);
        return e;
    }
    return wh_batch_commit(b, ei);
}

static lt_err decode(ingest *in, const char *media, const char *body, size_t len,
                     lt_errinfo *ei)
{
    size_t max = in->ctx->cfg->max_records_per_request;
    if (strcmp(media, GW_MEDIA_ENVELOPE) == 0) {
        json_t *env = lt_json_load(body, len, ei);
        const json_t *records = NULL;
        if (!env)
            return ei->code;
        lt_err e = ct_envelope_check(env, in->svc->id, in->svc->contract->ref, &records, ei);
        const char *mid = json_string_value(json_object_get(json_object_get(env, "header"),
                                                            "message_id"));
        if (mid && *mid)
            in->message_id = keep_str(in, mid);
        if (!e)
            e = ad_map_records(NULL, records, max, on_record, in, ei);
        json_decref(env);
        return e;
    }
    const ad_format *f = ad_format_by_media(media);
    if (!f || strcmp(f->name, in->svc->format) != 0)
        return lt_fail(ei, LT_E_MEDIA_TYPE, "service '%s' takes %s payloads (or %s), not '%.80s'",
                       in->svc->id, in->svc->format, GW_MEDIA_ENVELOPE, *media ? media : "none");
    return ad_map_payload(in->svc->mapping, f->name, body, len, max, on_record, in, ei);
}

static lt_err finish(ingest *in, lt_err e, json_t **result, size_t *records, lt_errinfo *ei);

lt_err gw_ingest(gw_ctx *ctx, const rg_service *svc, const char *media, const char *body,
                 size_t len, const gw_ingest_opts *opts, json_t **result, size_t *records,
                 lt_errinfo *ei)
{
    ingest in = {ctx, svc, opts, {0}, 0, gw_obs_contract(svc->contract), json_array(),
                 json_array(), 0, opts->message_id, NULL, NULL};
    lt_buf_init(&in.recs, 0);
    int64_t t0 = lt_mono_us();
    lt_err e = decode(&in, media, body ? body : "", len, ei);
    int64_t t1 = lt_mono_us();
    e = finish(&in, e, result, records, ei);
    lt_log(LT_LOG_INFO, "ingest service=%s bytes=%zu records=%zu rejected=%zu decode_ms=%.1f "
           "store_ms=%.1f status=%s", svc->id, len, in.nrecs, in.rejected, (t1 - t0) / 1000.0,
           (lt_mono_us() - t1) / 1000.0, lt_err_code(e));
    return e;
}

lt_err gw_ingest_retry(gw_ctx *ctx, const rg_service *svc, const char *qid, const json_t *raw,
                       const gw_ingest_opts *opts, json_t **result, lt_errinfo *ei)
{
    gw_ingest_opts o = *opts;
    o.atomic = true; /* a retry that fails again leaves the entry where it is */
    ingest in = {ctx, svc, &o, {0}, 0, gw_obs_contract(svc->contract), json_array(),
                 json_array(), 0, opts->message_id, qid, NULL};
    lt_buf_init(&in.recs, 0);
    lt_err e = raw ? ad_map_raw(svc->mapping, svc->format, raw, on_record, &in, ei)
                   : lt_fail(ei, LT_E_INTERNAL, "quarantine entry '%s' has no raw record", qid);
    return finish(&in, e, result, NULL, ei);
}

/* Stores what decode collected (unless atomic and something failed), builds the result and
 * releases the pipeline's buffers. */
static lt_err finish(ingest *in, lt_err e, json_t **result, size_t *records, lt_errinfo *ei)
{
    size_t accepted = 0, unchanged = 0;
    json_t *qids = json_array();
    if (!e && in->recs.err)
        e = lt_fail(ei, in->recs.err, "the batch is too large to hold");
    if (!e && in->opts->atomic && in->rejected) {
        e = lt_fail(ei, LT_E_VALIDATION, "%zu of %zu records rejected; nothing stored (atomic)",
                    in->rejected, in->rejected + in->nrecs);
        json_decref(ei->errors);
        ei->errors = json_incref(in->errors);
    }
    if (!e)
        e = store(in, qids, &accepted, &unchanged, ei);
    if (!e) {
        *result = json_pack("{s:I, s:I, s:I, s:O, s:O}", "accepted", (json_int_t)accepted,
                            "unchanged", (json_int_t)unchanged, "rejected",
                            (json_int_t)in->rejected, "quarantine", qids, "errors", in->errors);
        gw_metrics_ingest(in->ctx->metrics, accepted, unchanged, in->rejected);
        if (in->nrecs + in->rejected == 0) /* a wrong selector or namespace looks like this */
            json_object_set_new(*result, "warnings",
                                json_pack("[s]", "the payload held no records: check "
                                          "mapping.records (for XML and SOAP, also the "
                                          "namespaces it uses)"));
    }
    if (records)
        *records = in->nrecs + in->rejected;
    lt_buf_free(&in->recs);
    json_decref(in->rejects);
    json_decref(in->errors);
    json_decref(qids);
    json_decref(in->keep);
    in->rejects = in->errors = in->keep = NULL;
    return e;
}
