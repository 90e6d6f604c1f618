/* wh_scan — reading records: get (optionally as of a time), history, scans by key or by the
 * change feed, paging cursors, key counts. */
#include <string.h>

#include "lt_str.h"
#include "wh_int.h"

/* Cursor = hex of a mode tag + the last LMDB key processed; a scan resumes strictly after it. */
#define TAG_KEYS 'k'
#define TAG_FEED 'f'

static bool svc_key_ok(const char *service, const char *key)
{
    return wh_id_ok(service, LT_MAX_ID_LEN) && (!key || wh_id_ok(key, LT_MAX_KEY_LEN));
}

/* rec holds the latest revision; replaces it by the newest one stored at or before as_of.
 * Revisions 1..rev exist and received_at never decreases with rev, so a binary search over
 * rev numbers needs O(log revisions) lookups. MDB_NOTFOUND: the key was born later. */
static int resolve_as_of(wh_read *r, const char *svc, int64_t as_of, wh_record *rec)
{
    if (rec->received_at_us <= as_of)
        return 0;
    uint64_t lo = 1, hi = rec->rev - 1;
    const char *key = rec->key;
    wh_record best = {0}, cur;
    bool found = false;
    while (lo <= hi && hi > 0) {
        uint64_t mid = lo + (hi - lo) / 2;
        wh_key xk;
        wh_key_rev(&xk, svc, key, mid);
        MDB_val k = {xk.len, xk.b}, v;
        int rc = mdb_get(r->txn, r->env->revisions, &k, &v);
        if (rc)
            return rc;
        if (wh_val_decode(&v, &cur, NULL) != 0)
            return MDB_CORRUPTED;
        if (cur.received_at_us <= as_of) {
            best = cur;
            found = true;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (!found)
        return MDB_NOTFOUND;
    *rec = best;
    rec->key = key;
    return 0;
}

static lt_err read_err(int rc)
{
    return rc == MDB_NOTFOUND ? LT_E_NOT_FOUND : LT_E_STORAGE;
}

lt_err wh_record_get(wh_read *r, const char *service, const char *key, int64_t as_of_us,
                     wh_record *out)
{
    if (!svc_key_ok(service, key))
        return LT_E_NOT_FOUND;
    wh_key rk;
    wh_key_rec(&rk, service, key);
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, r->env->records, &c);
    if (rc)
        return LT_E_STORAGE;
    /* through a cursor so out->key can point at the stored key, valid for the txn */
    MDB_val k = {rk.len, rk.b}, v;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
    mdb_cursor_close(c);
    if (rc)
        return read_err(rc);
    if (wh_val_decode(&v, out, NULL) != 0)
        return LT_E_STORAGE;
    out->key = (const char *)k.mv_data + strlen(service) + 1;
    if (as_of_us > 0 && (rc = resolve_as_of(r, service, as_of_us, out)))
        return read_err(rc);
    return LT_OK;
}

/* Superseded revisions live in the revisions DB (oldest first); the latest in records. */
lt_err wh_record_history(wh_read *r, const char *service, const char *key, wh_record_fn cb,
                         void *ctx)
{
    wh_record rec;
    lt_err err = wh_record_get(r, service, key, 0, &rec);
    if (err)
        return err;
    wh_key rk;
    wh_key_rec(&rk, service, key);
    MDB_cursor *c;
    if (mdb_cursor_open(r->txn, r->env->revisions, &c))
        return LT_E_STORAGE;
    MDB_val k = {rk.len, rk.b}, v;
    int stop = 0, rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (; rc == 0 && k.mv_size == rk.len + 8 && wh_key_has_prefix(&k, &rk) && !stop;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        wh_record old;
        if (wh_val_decode(&v, &old, NULL) != 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        old.key = rec.key;
        stop = cb(ctx, &old) < 0;
    }
    mdb_cursor_close(c);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return LT_E_STORAGE;
    if (!stop)
        cb(ctx, &rec);
    return LT_OK;
}

lt_err wh_record_count(wh_read *r, const char *service, size_t *count)
{
    uint64_t n = 0;
    *count = 0;
    if (!svc_key_ok(service, NULL))
        return LT_OK;
    if (wh_meta_count_get(r->txn, r->env->meta, service, &n))
        return LT_E_STORAGE;
    *count = (size_t)n;
    return LT_OK;
}

/* ---- scans ---- */

typedef struct scan_st {
    wh_read *r;
    const char *svc;
    const wh_scan *o;
    char tag;
    wh_key pre;  /* service\0: every key of the scan starts with it */
    wh_key last; /* last key processed (or the start bound): where a cursor resumes */
} scan_st;

/* Turns one index entry into the record to deliver: 0 deliver, 1 skip, else an LMDB error. */
static int resolve_entry(scan_st *s, const MDB_val *k, const MDB_val *v, wh_record *rec)
{
    const char *base = k->mv_data;
    int rc;
    if (s->tag == TAG_KEYS) {
        if (wh_val_decode(v, rec, NULL) != 0)
            return MDB_CORRUPTED;
        rec->key = base + s->pre.len;
    } else {
        /* feed value: the record key with its NUL */
        const char *key = v->mv_data;
        if (k->mv_size != s->pre.len + 12 || v->mv_size < 2 || key[v->mv_size - 1] != '\0' ||
            v->mv_size - 1 > LT_MAX_KEY_LEN)
            return MDB_CORRUPTED;
        wh_key rk;
        wh_key_rec(&rk, s->svc, key);
        MDB_val lk = {rk.len, rk.b}, lv;
        if ((rc = mdb_get(s->r->txn, s->r->env->records, &lk, &lv)))
            return rc == MDB_NOTFOUND ? 1 : rc;
        if (wh_val_decode(&lv, rec, NULL) != 0)
            return MDB_CORRUPTED;
        rec->key = key;
    }
    if (s->o->as_of_us > 0 && (rc = resolve_as_of(s->r, s->svc, s->o->as_of_us, rec)))
        return rc == MDB_NOTFOUND ? 1 : rc;
    if (s->o->since_us > 0 && rec->received_at_us <= s->o->since_us)
        return 1; /* as of as_of, this key had not changed after since */
    return 0;
}

/* Sets s->last to where the scan starts: the caller's cursor or the lower bound. */
static lt_err scan_start(scan_st *s, lt_errinfo *ei)
{
    wh_key_svc(&s->pre, s->svc);
    s->last = s->pre;
    if (s->tag == TAG_FEED) {
        /* (since + 1, feed seq 0): before every entry stored after since */
        wh_key_be64(s->last.b + s->last.len, (uint64_t)s->o->since_us + 1);
        memset(s->last.b + s->last.len + 8, 0, 4);
        s->last.len += 12;
    }
    const char *cur = s->o->cursor;
    if (!cur || !*cur)
        return LT_OK;
    size_t n = strnlen(cur, WH_CURSOR_MAX);
    unsigned char raw[WH_KEY_MAX + 1];
    if (n >= WH_CURSOR_MAX || n % 2 || n / 2 < 2 || n / 2 > sizeof raw ||
        lt_unhex(cur, n, raw, n / 2) != 0)
        return lt_fail(ei, LT_E_BAD_REQUEST, "malformed cursor");
    MDB_val k = {n / 2 - 1, raw + 1};
    bool len_ok = s->tag == TAG_FEED ? k.mv_size == s->pre.len + 12 : k.mv_size >= s->pre.len;
    if (raw[0] != (unsigned char)s->tag || !len_ok || !wh_key_has_prefix(&k, &s->pre))
        return lt_fail(ei, LT_E_BAD_REQUEST, "cursor does not belong to this query");
    memcpy(s->last.b, k.mv_data, k.mv_size);
    s->last.len = k.mv_size;
    return LT_OK;
}

static void write_cursor(const scan_st *s, char next_cursor[WH_CURSOR_MAX])
{
    unsigned char raw[WH_KEY_MAX + 2];
    raw[0] = (unsigned char)s->tag;
    memcpy(raw + 1, s->last.b, s->last.len);
    lt_hex(raw, s->last.len + 1, next_cursor);
}

/* Walks the index after s->last; returns an LMDB code, *more when records may remain. */
static int scan_walk(scan_st *s, MDB_cursor *c, wh_record_fn cb, void *ctx, bool *more)
{
    MDB_val k = {s->last.len, s->last.b}, v;
    size_t taken = 0, limit = s->o->limit;
    int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && k.mv_size == s->last.len && memcmp(k.mv_data, s->last.b, k.mv_size) == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    for (; rc == 0 && wh_key_has_prefix(&k, &s->pre); rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (limit && taken >= limit) {
            *more = true;
            break;
        }
        wh_record rec;
        int st = resolve_entry(s, &k, &v, &rec);
        if (st < 0 || st > 1)
            return st;
        if (st == 0) {
            int take = cb(ctx, &rec);
            if (take < 0) {
                *more = true;
                break;
            }
            taken += take == 0;
        }
        if (k.mv_size > WH_KEY_MAX)
            return MDB_CORRUPTED;
        memcpy(s->last.b, k.mv_data, k.mv_size);
        s->last.len = k.mv_size;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

lt_err wh_record_scan(wh_read *r, const char *service, const wh_scan *opts, wh_record_fn cb,
                      void *ctx, char next_cursor[WH_CURSOR_MAX], lt_errinfo *ei)
{
    next_cursor[0] = '\0';
    if (!svc_key_ok(service, NULL))
        return lt_fail(ei, LT_E_BAD_REQUEST, "bad service id");
    scan_st s = {.r = r, .svc = service, .o = opts,
                 .tag = opts->since_us > 0 ? TAG_FEED : TAG_KEYS};
    lt_err err = scan_start(&s, ei);
    if (err)
        return err;
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, s.tag == TAG_FEED ? r->env->feed : r->env->records, &c);
    if (rc)
        return wh_mdb_fail(ei, rc, "scan");
    bool more = false;
    rc = scan_walk(&s, c, cb, ctx, &more);
    mdb_cursor_close(c);
    if (rc)
        return wh_mdb_fail(ei, rc, "scan");
    if (more)
        write_cursor(&s, next_cursor);
    return LT_OK;
}
