/* wh_record — write batches: records with revisions and the change feed.
 *
 * One batch is one LMDB write transaction. Every record written in it gets the batch's time
 * (max(now, last batch time + 1), read under the writer lock), so times grow with commit order
 * across processes and `since` never misses a commit that landed after a reader's snapshot. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lt_str.h"
#include "wh_int.h"

static lt_err batch_fail(wh_batch *b, lt_errinfo *ei, int rc, const char *what)
{
    b->err = wh_mdb_fail(ei, rc, what);
    return b->err;
}

lt_err wh_batch_begin(wh_env *env, wh_batch **out, lt_errinfo *ei)
{
    *out = NULL;
    wh_batch *b = calloc(1, sizeof *b);
    if (!b)
        return lt_fail(ei, LT_E_NOMEM, "warehouse: out of memory");
    b->env = env;
    lt_buf_init(&b->val, 0);
    lt_buf_init(&b->old, 0);
    int rc = mdb_txn_begin(env->env, NULL, 0, &b->txn);
    int64_t last = 0;
    if (!rc)
        rc = wh_meta_clock_get(b->txn, env->meta, &last);
    if (!rc)
        rc = mdb_cursor_open(b->txn, env->records, &b->crec);
    if (!rc)
        rc = mdb_cursor_open(b->txn, env->revisions, &b->crev);
    if (!rc)
        rc = mdb_cursor_open(b->txn, env->feed, &b->cfeed);
    if (rc) {
        lt_err err = wh_mdb_fail(ei, rc, "write transaction");
        wh_batch_abort(b);
        return err;
    }
    int64_t now = lt_now_us();
    b->ts = now > last ? now : last + 1;
    *out = b;
    return LT_OK;
}

static lt_err check_prov(const wh_prov *prov, lt_errinfo *ei)
{
    const char *s[3] = {prov ? prov->source : NULL, prov ? prov->message_id : NULL,
                        prov ? prov->system : NULL};
    for (int i = 0; i < 3; i++)
        if (s[i] && strnlen(s[i], WH_PROV_MAX) >= WH_PROV_MAX)
            return lt_fail(ei, LT_E_BAD_REQUEST, "provenance field longer than %d bytes",
                           WH_PROV_MAX - 1);
    return LT_OK;
}

static lt_err check_record_args(wh_batch *b, const char *service, const char *key,
                                const wh_prov *prov, lt_errinfo *ei)
{
    if (b->err)
        return lt_fail(ei, b->err, "batch already failed");
    if (!wh_id_ok(service, LT_MAX_ID_LEN))
        return lt_fail(ei, LT_E_BAD_REQUEST, "service id is empty or longer than %d bytes",
                       LT_MAX_ID_LEN);
    if (!wh_id_ok(key, LT_MAX_KEY_LEN))
        return lt_fail(ei, LT_E_BAD_REQUEST, "record key is empty or longer than %d bytes",
                       LT_MAX_KEY_LEN);
    return check_prov(prov, ei);
}

/* Key counts per service live in the meta DB; a batch usually holds one service, so the
 * pending delta is flushed only when the service changes and at commit. */
static int count_flush(wh_batch *b)
{
    if (!b->ndelta)
        return 0;
    int rc = wh_meta_count_add(b->txn, b->env->meta, b->nsvc, b->ndelta);
    b->ndelta = 0;
    return rc;
}

static int count_new_key(wh_batch *b, const char *service)
{
    if (strcmp(b->nsvc, service) != 0) {
        int rc = count_flush(b);
        if (rc)
            return rc;
        lt_strlcpy(b->nsvc, service, sizeof b->nsvc);
    }
    b->ndelta++;
    return 0;
}

/* Stores the new latest value (in b->val) and its change-feed entry; the feed entry's key
 * grows within the batch, so the feed is written in order, next to the previous entry. */
static int write_latest(wh_batch *b, const wh_key *rk, const char *service)
{
    MDB_val k = {rk->len, (void *)rk->b}, v = {b->val.len, b->val.data};
    int rc = mdb_cursor_put(b->crec, &k, &v, 0);
    if (rc)
        return rc;
    wh_key fk;
    wh_key_feed(&fk, service, b->ts, b->fseq);
    size_t slen = strlen(service) + 1;
    k.mv_size = fk.len;
    k.mv_data = fk.b;
    v.mv_size = rk->len - slen; /* the record key with its NUL */
    v.mv_data = (void *)(rk->b + slen);
    return mdb_cursor_put(b->cfeed, &k, &v, 0);
}

/* Moves the superseded latest value (copied in b->old) into the revisions DB and drops its
 * feed entry: revisions holds every revision but the latest. */
static int retire(wh_batch *b, const char *service, const char *key, const wh_record *old,
                  uint32_t old_fseq)
{
    wh_key xk;
    wh_key_rev(&xk, service, key, old->rev);
    MDB_val k = {xk.len, xk.b}, v = {b->old.len, b->old.data};
    int rc = mdb_cursor_put(b->crev, &k, &v, 0);
    if (rc)
        return rc;
    wh_key_feed(&xk, service, old->received_at_us, old_fseq);
    k.mv_size = xk.len;
    k.mv_data = xk.b;
    rc = mdb_del(b->txn, b->env->feed, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc; /* a missing entry only means nothing to move */
}

/* Looks the key up: 0 with *old decoded from the map, MDB_NOTFOUND, or an LMDB error. */
static int lookup(wh_batch *b, const wh_key *rk, MDB_val *v, wh_record *old, uint32_t *fseq)
{
    MDB_val k = {rk->len, (void *)rk->b};
    int rc = mdb_cursor_get(b->crec, &k, v, MDB_SET_KEY);
    if (rc)
        return rc;
    return wh_val_decode(v, old, fseq) == 0 ? 0 : MDB_CORRUPTED;
}

/* Copies the superseded value out of the map before any write can move its page. */
static int keep_old(wh_batch *b, const MDB_val *v, wh_record *old)
{
    lt_buf_reset(&b->old);
    lt_buf_append(&b->old, v->mv_data, v->mv_size);
    if (b->old.err)
        return ENOMEM;
    MDB_val c = {v->mv_size, b->old.data};
    return wh_val_decode(&c, old, NULL) == 0 ? 0 : MDB_CORRUPTED;
}

lt_err wh_batch_put_record(wh_batch *b, const char *service, const char *key, const char *data,
                           size_t len, const wh_prov *prov, wh_put_result *res, lt_errinfo *ei)
{
    lt_err err = check_record_args(b, service, key, prov, ei);
    if (err)
        return err;
    wh_key rk;
    wh_key_rec(&rk, service, key);
    wh_record old;
    uint32_t old_fseq = 0;
    uint64_t rev = 1;
    MDB_val v;
    int rc = lookup(b, &rk, &v, &old, &old_fseq);
    if (rc == 0) {
        if (old.data_len == len && memcmp(old.data, data, len) == 0) {
            *res = WH_PUT_UNCHANGED;
            return LT_OK;
        }
        rev = old.rev + 1;
        if ((rc = keep_old(b, &v, &old)) || (rc = retire(b, service, key, &old, old_fseq)))
            return batch_fail(b, ei, rc, "record revision");
    } else if (rc != MDB_NOTFOUND) {
        return batch_fail(b, ei, rc, "record lookup");
    } else if ((rc = count_new_key(b, service))) {
        return batch_fail(b, ei, rc, "key count");
    }
    b->fseq++;
    wh_val_encode(&b->val, rev, b->ts, b->fseq, prov, data, len);
    if (b->val.err)
        return b->err = lt_fail(ei, b->val.err, "record value: out of memory");
    if ((rc = write_latest(b, &rk, service)))
        return batch_fail(b, ei, rc, "record put");
    b->wrote = true;
    *res = rev == 1 ? WH_PUT_NEW : WH_PUT_CHANGED;
    return LT_OK;
}

lt_err wh_batch_commit(wh_batch *b, lt_errinfo *ei)
{
    if (b->err) {
        lt_err err = lt_fail(ei, b->err, "batch failed earlier; nothing was stored");
        wh_batch_abort(b);
        return err;
    }
    int rc = count_flush(b);
    if (!rc && b->wrote)
        rc = wh_meta_clock_put(b->txn, b->env->meta, b->ts);
    if (rc) {
        lt_err err = wh_mdb_fail(ei, rc, "batch commit");
        wh_batch_abort(b);
        return err;
    }
    /* write-txn cursors are freed by the commit itself */
    rc = mdb_txn_commit(b->txn);
    b->txn = NULL;
    lt_buf_free(&b->val);
    lt_buf_free(&b->old);
    free(b);
    return rc ? wh_mdb_fail(ei, rc, "batch commit") : LT_OK;
}

void wh_batch_abort(wh_batch *b)
{
    if (!b)
        return;
    if (b->txn)
        mdb_txn_abort(b->txn); /* also frees its cursors */
    lt_buf_free(&b->val);
    lt_buf_free(&b->old);
    free(b);
}
