/* wh_audit_read — listing the audit log and recomputing its hash chain. */
#include <stdlib.h>
#include <string.h>

#include "lt_str.h"
#include "wh_int.h"

/* The audit log lives in its own environment: readers take a snapshot of it for the call. */
static int audit_txn(const wh_env *env, MDB_txn **txn)
{
    return mdb_txn_begin(env->aenv, NULL, MDB_RDONLY, txn);
}

lt_err wh_audit_list(wh_read *r, uint64_t since_seq, size_t limit, wh_audit_fn cb, void *ctx)
{
    MDB_txn *txn;
    MDB_cursor *c;
    if (audit_txn(r->env, &txn))
        return LT_E_STORAGE;
    if (mdb_cursor_open(txn, r->env->alog, &c)) {
        mdb_txn_abort(txn);
        return LT_E_STORAGE;
    }
    unsigned char kb[8];
    wh_key_be64(kb, since_seq + 1);
    MDB_val k = {8, kb}, v;
    int rc = since_seq == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    for (size_t n = 0; rc == 0 && (!limit || n < limit); n++) {
        if (k.mv_size != 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (cb(ctx, wh_key_get_be64(k.mv_data), v.mv_data, v.mv_size) != 0)
            break;
        rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc == 0 || rc == MDB_NOTFOUND ? LT_OK : LT_E_STORAGE;
}

/* True when the stored text is entry seq of the chain after prev: it opens with its seq, ends
 * with ,"hash":"<64 hex>"} and that hash is SHA-256(prev || the text without it). Writes the
 * hash into out. */
static bool entry_ok(EVP_MD_CTX *md, const MDB_val *v, uint64_t seq, const char *prev,
                     char out[65])
{
    static const char tail[] = ",\"hash\":\"";
    const size_t tl = sizeof tail - 1, hl = tl + 64 + 2; /* ,"hash":" + hex + "} */
    const char *t = v->mv_data;
    char head[40];
    int n = snprintf(head, sizeof head, "{\"seq\":%llu,", (unsigned long long)seq);
    if (strlen(prev) != 64 || v->mv_size < (size_t)n + hl || memcmp(t, head, (size_t)n) != 0)
        return false;
    const char *h = t + v->mv_size - hl;
    if (memcmp(h, tail, tl) != 0 || memcmp(h + tl + 64, "\"}", 2) != 0)
        return false;
    memcpy(out, h + tl, 64);
    out[64] = '\0';
    /* the hashed text is the stored one with the hash member cut: ...<members>} */
    size_t body = v->mv_size - hl;
    char calc[65];
    EVP_MD_CTX *m = md;
    unsigned char d[32];
    unsigned int dl = 0;
    if (!EVP_DigestInit_ex(m, EVP_sha256(), NULL) || !EVP_DigestUpdate(m, prev, 64) ||
        !EVP_DigestUpdate(m, t, body) || !EVP_DigestUpdate(m, "}", 1) ||
        !EVP_DigestFinal_ex(m, d, &dl) || dl != 32)
        return false;
    lt_hex(d, 32, calc);
    return strcmp(calc, out) == 0;
}

bool wh_audit_check_text(const char *prev, const char *text, size_t len, uint64_t seq,
                         char out[65])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    MDB_val v = {len, (void *)text};
    bool ok = md && entry_ok(md, &v, seq, prev, out);
    EVP_MD_CTX_free(md);
    return ok;
}

/* The hash member of a stored entry (its last 66 bytes are ,"hash":"<hex>"} ). */
static bool stored_hash(const MDB_val *v, char out[65])
{
    const size_t hl = 9 + 64 + 2;
    if (v->mv_size < hl)
        return false;
    memcpy(out, (const char *)v->mv_data + v->mv_size - 66, 64);
    out[64] = '\0';
    return true;
}

static lt_err hash_at(MDB_txn *txn, const wh_env *env, uint64_t seq, char out[65],
                      uint64_t *head_seq, char head_hash[65])
{
    int rc = wh_meta_head_get(txn, env->ameta, head_seq, head_hash);
    if (rc)
        return LT_E_STORAGE;
    if (seq > *head_seq)
        return LT_E_NOT_FOUND;
    if (seq == 0) {
        memcpy(out, WH_ZERO_HASH, 65);
        return LT_OK;
    }
    unsigned char kb[8];
    wh_key_be64(kb, seq);
    MDB_val k = {8, kb}, v;
    rc = mdb_get(txn, env->alog, &k, &v);
    if (rc == MDB_NOTFOUND)
        return LT_E_NOT_FOUND;
    return rc == 0 && stored_hash(&v, out) ? LT_OK : LT_E_STORAGE;
}

lt_err wh_audit_hash_at(wh_read *r, uint64_t seq, char out[65], uint64_t *head_seq,
                        char head_hash[65])
{
    MDB_txn *txn;
    if (audit_txn(r->env, &txn))
        return LT_E_STORAGE;
    lt_err e = hash_at(txn, r->env, seq, out, head_seq, head_hash);
    mdb_txn_abort(txn);
    return e;
}

/* Walks the chain from seq 1; returns 0 with *bad = 0 when intact, else the first bad seq. */
static int walk_chain(MDB_txn *txn, const wh_env *env, EVP_MD_CTX *md, uint64_t *count,
                      uint64_t *bad)
{
    MDB_cursor *c;
    int rc = mdb_cursor_open(txn, env->alog, &c);
    if (rc)
        return rc;
    char prev[65] = WH_ZERO_HASH, hash[65];
    uint64_t expect = 1;
    MDB_val k, v;
    *bad = 0;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), expect++) {
        if (k.mv_size != 8 || wh_key_get_be64(k.mv_data) != expect ||
            !entry_ok(md, &v, expect, prev, hash)) {
            *bad = expect; /* a gap, a foreign key, or altered content */
            break;
        }
        memcpy(prev, hash, 65);
    }
    mdb_cursor_close(c);
    *count = expect - 1;
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint64_t head;
    char head_hash[65];
    if (!*bad && (rc = wh_meta_head_get(txn, env->ameta, &head, head_hash)))
        return rc;
    /* entries cut from the end leave the head ahead of the log */
    if (!*bad && (head != *count || strcmp(head_hash, prev) != 0))
        *bad = *count + 1;
    return 0;
}

lt_err wh_audit_verify(wh_env *env, uint64_t *count, uint64_t *bad_seq, lt_errinfo *ei)
{
    *count = 0;
    *bad_seq = 0;
    MDB_txn *txn;
    int rc = audit_txn(env, &txn);
    if (rc)
        return wh_mdb_fail(ei, rc, "audit verify");
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md) {
        mdb_txn_abort(txn);
        return lt_fail(ei, LT_E_NOMEM, "audit verify: out of memory");
    }
    rc = walk_chain(txn, env, md, count, bad_seq);
    EVP_MD_CTX_free(md);
    mdb_txn_abort(txn);
    if (rc)
        return wh_mdb_fail(ei, rc, "audit verify");
    if (*bad_seq)
        return lt_fail(ei, LT_E_CONFLICT, "audit chain broken at seq %llu",
                       (unsigned long long)*bad_seq);
    return LT_OK;
}
