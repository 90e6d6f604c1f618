/* wh_quarantine — rejected records kept with their reasons.
 * Key: service\0 qid\0. Value: canonical JSON of the entry with "qid" and "received_at".
 * qid = "q-" + 14 hex of the time in µs + 10 random hex: listing in qid order is oldest first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "wh_int.h"

static void make_qid(int64_t us, char qid[32])
{
    unsigned char t[8];
    char th[17], rnd[32];
    wh_key_be64(t, (uint64_t)us);
    lt_hex(t + 1, 7, th); /* 56 bits of µs last until the year 4253 */
    lt_random_id("", rnd, sizeof rnd);
    snprintf(qid, 32, "q-%s%.10s", th, rnd);
}

/* Copies entry (the caller keeps it unchanged) with the warehouse's fields added. */
static char *entry_text(const json_t *entry, const char *qid, int64_t at, size_t *len)
{
    /* json_copy only takes new references to the members; it does not modify entry */
    json_t *o = json_copy((json_t *)entry);
    if (!o)
        return NULL;
    char ts[32];
    lt_time_format(at, true, ts);
    char *text = NULL;
    if (json_object_set_new(o, "qid", json_string(qid)) == 0 &&
        json_object_set_new(o, "received_at", json_string(ts)) == 0)
        text = lt_json_canonical(o, len);
    json_decref(o);
    return text;
}

lt_err wh_batch_quarantine_add(wh_batch *b, const char *service, const json_t *entry,
                               char qid[32], lt_errinfo *ei)
{
    if (b->err)
        return lt_fail(ei, b->err, "batch already failed");
    if (!wh_id_ok(service, LT_MAX_ID_LEN))
        return lt_fail(ei, LT_E_BAD_REQUEST, "service id is empty or too long");
    if (!json_is_object(entry))
        return lt_fail(ei, LT_E_INVALID, "quarantine entry must be a JSON object");
    int64_t now = lt_now_us();
    b->qlast = now > b->qlast ? now : b->qlast + 1;
    make_qid(b->qlast, qid);
    size_t len;
    char *text = entry_text(entry, qid, b->ts, &len);
    if (!text)
        return lt_fail(ei, LT_E_NOMEM, "quarantine entry: out of memory");
    wh_key qk;
    wh_key_rec(&qk, service, qid);
    MDB_val k = {qk.len, qk.b}, v = {len, text};
    int rc = mdb_put(b->txn, b->env->quarantine, &k, &v, MDB_NOOVERWRITE);
    free(text);
    if (rc) {
        b->err = wh_mdb_fail(ei, rc, "quarantine add");
        return b->err;
    }
    return LT_OK;
}

static bool qid_ok(const char *qid)
{
    return wh_id_ok(qid, 31);
}

lt_err wh_batch_quarantine_del(wh_batch *b, const char *service, const char *qid,
                               lt_errinfo *ei)
{
    if (b->err)
        return lt_fail(ei, b->err, "batch already failed");
    if (!wh_id_ok(service, LT_MAX_ID_LEN) || !qid_ok(qid))
        return lt_fail(ei, LT_E_NOT_FOUND, "no such quarantine entry");
    wh_key qk;
    wh_key_rec(&qk, service, qid);
    MDB_val k = {qk.len, qk.b};
    int rc = mdb_del(b->txn, b->env->quarantine, &k, NULL);
    if (rc == MDB_NOTFOUND)
        return lt_fail(ei, LT_E_NOT_FOUND, "no quarantine entry %s", qid);
    if (rc)
        b->err = wh_mdb_fail(ei, rc, "quarantine delete");
    return rc ? b->err : LT_OK;
}

lt_err wh_quarantine_list(wh_read *r, const char *service, const char *after, size_t limit,
                          wh_doc_fn cb, void *ctx)
{
    if (!wh_id_ok(service, LT_MAX_ID_LEN) || (after && !qid_ok(after)))
        return LT_E_BAD_REQUEST;
    wh_key pre, start;
    wh_key_svc(&pre, service);
    if (after)
        wh_key_rec(&start, service, after);
    else
        start = pre;
    MDB_cursor *c;
    if (mdb_cursor_open(r->txn, r->env->quarantine, &c))
        return LT_E_STORAGE;
    MDB_val k = {start.len, start.b}, v;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == start.len && memcmp(k.mv_data, start.b, start.len) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    for (size_t n = 0; rc == 0 && wh_key_has_prefix(&k, &pre) && (!limit || n < limit); n++) {
        if (cb(ctx, (const char *)k.mv_data + pre.len, v.mv_data, v.mv_size) != 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    return rc == 0 || rc == MDB_NOTFOUND ? LT_OK : LT_E_STORAGE;
}

lt_err wh_quarantine_get(wh_read *r, const char *service, const char *qid, char **json,
                         size_t *len)
{
    *json = NULL;
    if (!wh_id_ok(service, LT_MAX_ID_LEN) || !qid_ok(qid))
        return LT_E_NOT_FOUND;
    wh_key qk;
    wh_key_rec(&qk, service, qid);
    MDB_val k = {qk.len, qk.b}, v;
    int rc = mdb_get(r->txn, r->env->quarantine, &k, &v);
    if (rc)
        return rc == MDB_NOTFOUND ? LT_E_NOT_FOUND : LT_E_STORAGE;
    char *copy = malloc(v.mv_size + 1);
    if (!copy)
        return LT_E_NOMEM;
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size] = '\0';
    *json = copy;
    if (len)
        *len = v.mv_size;
    return LT_OK;
}

lt_err wh_quarantine_count(wh_read *r, size_t *count)
{
    MDB_stat st;
    *count = 0;
    if (mdb_stat(r->txn, r->env->quarantine, &st))
        return LT_E_STORAGE;
    *count = st.ms_entries;
    return LT_OK;
}
