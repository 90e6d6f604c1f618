/* wh_doc — registry documents: JSON text by string id, one named DB per kind.
 * Key: id\0 (the NUL lets doc_list hand out the id in place). Value: the JSON bytes. */
#include <stdlib.h>
#include <string.h>

#include "wh_int.h"

/* Ids are short in practice; the cap only keeps a key under LMDB's limit. */
#define WH_DOC_ID_MAX 400

static lt_err doc_key(wh_kind kind, const char *id, wh_key *k, lt_errinfo *ei)
{
    if ((unsigned)kind >= WH_KIND_COUNT)
        return lt_fail(ei, LT_E_INTERNAL, "warehouse: bad document kind %d", (int)kind);
    if (!wh_id_ok(id, WH_DOC_ID_MAX))
        return lt_fail(ei, LT_E_BAD_REQUEST, "document id is empty or too long");
    wh_key_svc(k, id);
    return LT_OK;
}

/* Runs fn inside one write transaction, committing (with sync) when it returns 0. */
static lt_err write_txn(wh_env *env, const char *what, int (*fn)(void *, MDB_txn *), void *arg,
                        lt_errinfo *ei)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(env->env, NULL, 0, &txn);
    if (rc)
        return wh_mdb_fail(ei, rc, what);
    rc = fn(arg, txn);
    if (rc) {
        mdb_txn_abort(txn);
        if (rc == MDB_KEYEXIST)
            return lt_fail(ei, LT_E_CONFLICT, "%s: id exists", what);
        return wh_mdb_fail(ei, rc, what);
    }
    rc = mdb_txn_commit(txn);
    return rc ? wh_mdb_fail(ei, rc, what) : LT_OK;
}

typedef struct doc_op {
    MDB_dbi dbi;
    MDB_val k, v;
    unsigned flags;
} doc_op;

static int do_put(void *arg, MDB_txn *txn)
{
    doc_op *op = arg;
    return mdb_put(txn, op->dbi, &op->k, &op->v, op->flags);
}

static int do_del(void *arg, MDB_txn *txn)
{
    doc_op *op = arg;
    return mdb_del(txn, op->dbi, &op->k, NULL);
}

lt_err wh_doc_put(wh_env *env, wh_kind kind, const char *id, const char *json, size_t len,
                  int flags, lt_errinfo *ei)
{
    wh_key k;
    lt_err err = doc_key(kind, id, &k, ei);
    if (err)
        return err;
    doc_op op = {env->docs[kind], {k.len, k.b}, {len, (void *)json},
                 (flags & WH_NOOVERWRITE) ? MDB_NOOVERWRITE : 0};
    return write_txn(env, "document put", do_put, &op, ei);
}

typedef struct many_op {
    wh_env *env;
    const wh_doc_write *w;
    size_t n;
    wh_key *keys;
} many_op;

static int do_many(void *arg, MDB_txn *txn)
{
    many_op *op = arg;
    int rc = 0;
    for (size_t i = 0; i < op->n && !rc; i++) {
        MDB_val k = {op->keys[i].len, op->keys[i].b}, v = {op->w[i].len, (void *)op->w[i].json};
        rc = mdb_put(txn, op->env->docs[op->w[i].kind], &k, &v,
                     (op->w[i].flags & WH_NOOVERWRITE) ? MDB_NOOVERWRITE : 0);
    }
    return rc;
}

lt_err wh_doc_put_many(wh_env *env, const wh_doc_write *w, size_t n, lt_errinfo *ei)
{
    wh_key *keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys)
        return lt_fail(ei, LT_E_NOMEM, "document put: out of memory");
    lt_err err = LT_OK;
    for (size_t i = 0; i < n && !err; i++)
        err = doc_key(w[i].kind, w[i].id, &keys[i], ei);
    many_op op = {env, w, n, keys};
    if (!err)
        err = write_txn(env, "document put", do_many, &op, ei);
    free(keys);
    return err;
}

lt_err wh_doc_del(wh_env *env, wh_kind kind, const char *id, lt_errinfo *ei)
{
    wh_key k;
    lt_err err = doc_key(kind, id, &k, ei);
    if (err)
        return err;
    doc_op op = {env->docs[kind], {k.len, k.b}, {0, NULL}, 0};
    return write_txn(env, "document delete", do_del, &op, ei);
}

lt_err wh_doc_get(wh_env *env, wh_kind kind, const char *id, char **json, size_t *len)
{
    *json = NULL;
    wh_key k;
    lt_err err = doc_key(kind, id, &k, NULL);
    if (err)
        return err;
    wh_read *r;
    if ((err = wh_read_begin(env, &r, NULL)))
        return err;
    MDB_val key = {k.len, k.b}, v;
    int rc = mdb_get(r->txn, env->docs[kind], &key, &v);
    if (rc == 0) {
        char *copy = malloc(v.mv_size + 1);
        if (copy) {
            memcpy(copy, v.mv_data, v.mv_size);
            copy[v.mv_size] = '\0';
            *json = copy;
            if (len)
                *len = v.mv_size;
        }
        err = copy ? LT_OK : LT_E_NOMEM;
    } else {
        err = rc == MDB_NOTFOUND ? LT_E_NOT_FOUND : LT_E_STORAGE;
    }
    wh_read_end(r);
    return err;
}

/* Positions c on the first key strictly after `after` (a complete key), or the first key. */
static int seek_after(MDB_cursor *c, const wh_key *after, MDB_val *k, MDB_val *v)
{
    if (!after)
        return mdb_cursor_get(c, k, v, MDB_FIRST);
    k->mv_size = after->len;
    k->mv_data = (void *)after->b;
    int rc = mdb_cursor_get(c, k, v, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == after->len && memcmp(k->mv_data, after->b, after->len) == 0)
        rc = mdb_cursor_get(c, k, v, MDB_NEXT);
    return rc;
}

lt_err wh_doc_list(wh_env *env, wh_kind kind, const char *after, size_t limit, wh_doc_fn cb,
                   void *ctx)
{
    if ((unsigned)kind >= WH_KIND_COUNT)
        return LT_E_INTERNAL;
    wh_key ak;
    if (after && doc_key(kind, after, &ak, NULL))
        return LT_E_BAD_REQUEST;
    wh_read *r;
    lt_err err = wh_read_begin(env, &r, NULL);
    if (err)
        return err;
    MDB_cursor *c;
    int rc = mdb_cursor_open(r->txn, env->docs[kind], &c);
    if (rc) {
        wh_read_end(r);
        return LT_E_STORAGE;
    }
    MDB_val k, v;
    size_t n = 0;
    for (rc = seek_after(c, after ? &ak : NULL, &k, &v); rc == 0 && (!limit || n < limit);
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), n++) {
        if (cb(ctx, k.mv_data, v.mv_data, v.mv_size) != 0)
            break;
    }
    mdb_cursor_close(c);
    wh_read_end(r);
    return rc == 0 || rc == MDB_NOTFOUND ? LT_OK : LT_E_STORAGE;
}
