/* wh_obs — the observations index (issue 5): one entry per (indicator, area, period, service)
 * holding the latest revision of an indicator-observation record in a compact binary form.
 *
 * Key:   indicator 0x1F area 0x1F period_key (16 lowercase hex digits) 0x1F service
 *        (hex digits sort like the number, so one indicator+area is a run in period order)
 * Value: version(1) flags(1: bit 0 has_value) value(8, IEEE 754 bits, be) rev(8) at(8), then
 *        NUL-terminated indicator, area, service, period, status, unit, key, source, message_id.
 * Decoding never allocates: every string of a wh_obs points into the value in LMDB memory, so
 * it stays valid until the read transaction ends. See wh_int.h and docs/warehouse.md. */
#include <string.h>

#include "lt_limits.h"
#include "lt_log.h"
#include "wh_int.h"

#define OBS_NSTR 9 /* strings in a value, in the order above */

/* An id part of the key: non-empty, at most LT_MAX_ID_LEN bytes, no separator. */
static bool part_ok(const char *s)
{
    return wh_id_ok(s, LT_MAX_ID_LEN) && !strchr(s, WH_OBS_SEP);
}

static bool text_ok(const char *s)
{
    return !s || strnlen(s, WH_OBS_STR_MAX) < WH_OBS_STR_MAX;
}

static lt_err check_obs(const wh_obs *o, lt_errinfo *ei)
{
    if (!part_ok(o->indicator) || !part_ok(o->area) || !part_ok(o->service))
        return lt_fail(ei, LT_E_BAD_REQUEST, "observation: indicator, area and service must "
                       "be 1 to %d bytes without 0x1F", LT_MAX_ID_LEN);
    if (!wh_id_ok(o->key, LT_MAX_KEY_LEN))
        return lt_fail(ei, LT_E_BAD_REQUEST, "observation: record key is empty or longer "
                       "than %d bytes", LT_MAX_KEY_LEN);
    if (!o->period || !*o->period || !text_ok(o->period) || !text_ok(o->status) ||
        !text_ok(o->unit))
        return lt_fail(ei, LT_E_BAD_REQUEST, "observation: period missing, or period, status "
                       "or unit longer than %d bytes", WH_OBS_STR_MAX - 1);
    return LT_OK;
}

/* Appends s + '\x1f' (or the hex period) to a key; parts were checked, so it fits. */
static void key_part(wh_key *k, const char *s, size_t n)
{
    memcpy(k->b + k->len, s, n);
    k->len += n;
    k->b[k->len++] = (unsigned char)WH_OBS_SEP;
}

/* "indicator\x1f" and, with area, "indicator\x1farea\x1f": the scan prefixes. */
static void obs_prefix(wh_key *k, const char *indicator, const char *area)
{
    k->len = 0;
    key_part(k, indicator, strlen(indicator));
    if (area)
        key_part(k, area, strlen(area));
}

static void obs_key(wh_key *k, const wh_obs *o)
{
    static const char hex[] = "0123456789abcdef";
    char h[16];
    for (int i = 0; i < 16; i++)
        h[i] = hex[(o->period_key >> (60 - 4 * i)) & 0xf];
    obs_prefix(k, o->indicator, o->area);
    key_part(k, h, sizeof h);
    size_t n = strlen(o->service);
    memcpy(k->b + k->len, o->service, n);
    k->len += n;
}

/* The value of o with the provenance of rec (the record's latest revision). */
static void obs_encode(lt_buf *b, const wh_obs *o, const wh_record *rec)
{
    unsigned char hdr[WH_OBS_HDR];
    uint64_t bits = 0;
    double v = o->has_value ? o->value : 0.0;
    memcpy(&bits, &v, sizeof bits);
    hdr[0] = WH_OBS_VERSION;
    hdr[1] = o->has_value ? 1 : 0;
    wh_key_be64(hdr + 2, bits);
    wh_key_be64(hdr + 10, rec->rev);
    wh_key_be64(hdr + 18, (uint64_t)rec->received_at_us);
    const char *s[OBS_NSTR] = {o->indicator, o->area,   o->service,     o->period,
                               o->status,    o->unit,   o->key,         rec->source,
                               rec->message_id};
    lt_buf_reset(b);
    lt_buf_append(b, hdr, sizeof hdr);
    for (int i = 0; i < OBS_NSTR; i++) {
        const char *t = s[i] ? s[i] : "";
        lt_buf_append(b, t, strlen(t) + 1);
    }
}

/* Parses 16 lowercase hex digits; -1 on anything else. */
static int hex64(const unsigned char *p, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        unsigned char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

/* Fills o from an entry without allocating; -1 when key or value is not an index entry. */
static int obs_decode(const MDB_val *k, const MDB_val *v, wh_obs *o)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < WH_OBS_HDR || p[0] != WH_OBS_VERSION)
        return -1;
    uint64_t bits = wh_key_get_be64(p + 2);
    o->has_value = p[1] & 1;
    memcpy(&o->value, &bits, sizeof bits);
    o->rev = wh_key_get_be64(p + 10);
    o->received_at_us = (int64_t)wh_key_get_be64(p + 18);
    const char **dst[OBS_NSTR] = {&o->indicator, &o->area,   &o->service,
                                  &o->period,    &o->status, &o->unit,
                                  &o->key,       &o->source, &o->message_id};
    size_t off = WH_OBS_HDR;
    for (int i = 0; i < OBS_NSTR; i++) {
        const unsigned char *nul = off < v->mv_size ? memchr(p + off, 0, v->mv_size - off) : NULL;
        if (!nul)
            return -1;
        *dst[i] = (const char *)p + off;
        off = (size_t)(nul - p) + 1;
    }
    /* the key must be the one these strings make: indicator, area, 16 hex, service */
    size_t li = strlen(o->indicator), la = strlen(o->area), ls = strlen(o->service);
    const unsigned char *kb = k->mv_data;
    if (k->mv_size != li + la + ls + 19 || kb[li] != WH_OBS_SEP || kb[li + la + 1] != WH_OBS_SEP ||
        kb[li + la + 18] != WH_OBS_SEP)
        return -1;
    return hex64(kb + li + la + 2, &o->period_key);
}

static lt_err obs_batch_fail(wh_batch *b, lt_errinfo *ei, int rc, const char *what)
{
    b->err = wh_mdb_fail(ei, rc, what);
    return b->err;
}

/* The latest revision of (service, key) as this batch sees it. Ingest puts the record just
 * before its entry, and a put leaves the records cursor on the item written (or, unchanged,
 * on the one looked up): when the cursor's key is this one, no second B-tree search. */
static int latest_rev(wh_batch *b, const wh_obs *o, wh_record *rec)
{
    wh_key rk;
    wh_key_rec(&rk, o->service, o->key);
    MDB_val k, v;
    int rc = mdb_cursor_get(b->crec, &k, &v, MDB_GET_CURRENT);
    if (rc || k.mv_size != rk.len || memcmp(k.mv_data, rk.b, rk.len) != 0) {
        k.mv_size = rk.len;
        k.mv_data = rk.b;
        rc = mdb_get(b->txn, b->env->records, &k, &v);
    }
    if (rc)
        return rc;
    return wh_val_decode(&v, rec, NULL) == 0 ? 0 : MDB_CORRUPTED;
}

/* The index's generation: one more for every transaction that changes it, so a cached
 * answer can tell it is still current (this process's ingest, or `lienthong import`). */
#define OBS_GEN_KEY "obs_gen"

static int obs_gen_bump(MDB_txn *txn, MDB_dbi meta)
{
    MDB_val k = {sizeof OBS_GEN_KEY - 1, (void *)OBS_GEN_KEY}, v;
    uint64_t gen = 0;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        gen = wh_key_get_be64(v.mv_data);
    else if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    unsigned char b[8];
    wh_key_be64(b, gen + 1);
    v = (MDB_val){8, b};
    return mdb_put(txn, meta, &k, &v, 0);
}

lt_err wh_obs_generation(wh_read *r, uint64_t *gen)
{
    MDB_val k = {sizeof OBS_GEN_KEY - 1, (void *)OBS_GEN_KEY}, v;
    int rc = mdb_get(r->txn, r->env->meta, &k, &v);
    *gen = rc == 0 && v.mv_size == 8 ? wh_key_get_be64(v.mv_data) : 0;
    return rc == 0 || rc == MDB_NOTFOUND ? LT_OK : LT_E_STORAGE;
}

lt_err wh_batch_obs_put(wh_batch *b, const wh_obs *o, lt_errinfo *ei)
{
    if (b->err)
        return lt_fail(ei, b->err, "batch already failed");
    lt_err err = check_obs(o, ei);
    if (err)
        return err;
    wh_record rec;
    int rc = latest_rev(b, o, &rec);
    if (rc == MDB_NOTFOUND)
        return lt_fail(ei, LT_E_NOT_FOUND, "observation: no record '%s' in service '%s'",
                       o->key, o->service);
    if (rc)
        return obs_batch_fail(b, ei, rc, "observation record lookup");
    /* rec's strings are copied into the value before anything is written */
    obs_encode(&b->val, o, &rec);
    if (b->val.err)
        return b->err = lt_fail(ei, b->val.err, "observation value: out of memory");
    if (!b->cobs && ((rc = obs_gen_bump(b->txn, b->env->meta)) ||
                     (rc = mdb_cursor_open(b->txn, b->env->obs, &b->cobs))))
        return obs_batch_fail(b, ei, rc, "observations index");
    wh_key ok;
    obs_key(&ok, o);
    MDB_val k = {ok.len, ok.b}, v = {b->val.len, b->val.data};
    if ((rc = mdb_cursor_put(b->cobs, &k, &v, 0)))
        return obs_batch_fail(b, ei, rc, "observation put");
    return LT_OK;
}

/* Delivers the entries under prefix (len 0: all) in key order until cb says stop. */
static lt_err scan_prefix(wh_read *r, const wh_key *prefix, wh_obs_fn cb, void *ctx)
{
    MDB_cursor *c;
    if (mdb_cursor_open(r->txn, r->env->obs, &c))
        return LT_E_STORAGE;
    MDB_val k = {prefix->len, (void *)prefix->b}, v;
    int rc = mdb_cursor_get(c, &k, &v, prefix->len ? MDB_SET_RANGE : MDB_FIRST);
    lt_err err = LT_OK;
    for (; rc == 0 && wh_key_has_prefix(&k, prefix); rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        wh_obs o;
        if (obs_decode(&k, &v, &o) != 0) {
            err = LT_E_STORAGE;
            break;
        }
        if (cb(ctx, &o) != 0)
            break;
    }
    if (rc && rc != MDB_NOTFOUND)
        err = LT_E_STORAGE;
    mdb_cursor_close(c);
    return err;
}

lt_err wh_obs_scan(wh_read *r, const char *indicator, const char *area, wh_obs_fn cb,
                   void *ctx)
{
    wh_key prefix = {.len = 0};
    if (indicator) {
        /* a code that cannot be in a key has no entries */
        if (!part_ok(indicator) || (area && !part_ok(area)))
            return LT_OK;
        obs_prefix(&prefix, indicator, area);
    }
    return scan_prefix(r, &prefix, cb, ctx);
}

lt_err wh_obs_count(wh_read *r, size_t *count)
{
    MDB_stat st;
    *count = 0;
    if (mdb_stat(r->txn, r->env->obs, &st))
        return LT_E_STORAGE;
    *count = st.ms_entries;
    return LT_OK;
}

/* True when the entry's key ends in 0x1F + service. */
static bool key_of_service(const MDB_val *k, const char *service, size_t slen)
{
    const unsigned char *kb = k->mv_data;
    return k->mv_size > slen && kb[k->mv_size - slen - 1] == WH_OBS_SEP &&
           memcmp(kb + k->mv_size - slen, service, slen) == 0;
}

/* Deletes the service's entries with the cursor of a write transaction; *n counts them. */
static int drop_walk(MDB_cursor *c, const char *service, size_t *n)
{
    size_t slen = strlen(service);
    MDB_val k, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (key_of_service(&k, service, slen)) {
            /* resume at the first key after the deleted one: the cursor's own position after
             * a delete is not defined when the tree shrinks */
            wh_key at;
            at.len = k.mv_size < WH_KEY_MAX ? k.mv_size : WH_KEY_MAX;
            memcpy(at.b, k.mv_data, at.len);
            if ((rc = mdb_cursor_del(c, 0)))
                return rc;
            (*n)++;
            k.mv_size = at.len;
            k.mv_data = at.b;
            rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
        } else {
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

lt_err wh_obs_drop_service(wh_env *env, const char *service, lt_errinfo *ei)
{
    if (!part_ok(service))
        return lt_fail(ei, LT_E_BAD_REQUEST, "service id is empty or longer than %d bytes",
                       LT_MAX_ID_LEN);
    MDB_txn *txn;
    MDB_cursor *c;
    int rc = mdb_txn_begin(env->env, NULL, 0, &txn);
    if (rc)
        return wh_mdb_fail(ei, rc, "write transaction");
    size_t n = 0;
    if (!(rc = mdb_cursor_open(txn, env->obs, &c)))
        rc = drop_walk(c, service, &n);
    if (!rc)
        rc = obs_gen_bump(txn, env->meta);
    if (rc) {
        mdb_txn_abort(txn);
        return wh_mdb_fail(ei, rc, "observations index: drop service");
    }
    if ((rc = mdb_txn_commit(txn)))
        return wh_mdb_fail(ei, rc, "observations index: commit");
    if (n)
        lt_log(LT_LOG_INFO, "observations index: dropped %zu entries of service %s", n, service);
    return LT_OK;
}
