/* wh_key — key and value encodings, LMDB error mapping, and the small meta-DB entries. */
#include <string.h>

#include "wh_int.h"

lt_err wh_mdb_fail(lt_errinfo *ei, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL)
        return lt_fail(ei, LT_E_STORAGE_FULL, "%s: warehouse map full (%s)", what,
                       mdb_strerror(rc));
    if (rc == MDB_NOTFOUND)
        return lt_fail(ei, LT_E_NOT_FOUND, "%s: not found", what);
    return lt_fail(ei, LT_E_STORAGE, "%s: %s", what, mdb_strerror(rc));
}

bool wh_id_ok(const char *s, size_t max)
{
    if (!s || !*s)
        return false;
    size_t n = strnlen(s, max + 1);
    return n <= max;
}

void wh_key_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

uint64_t wh_key_get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Callers validated lengths (service <= LT_MAX_ID_LEN, key <= LT_MAX_KEY_LEN), so every key
 * below fits in WH_KEY_MAX; the checks here only keep a bad call from overrunning. */
static void put_str(wh_key *k, const char *s)
{
    size_t n = strlen(s) + 1;
    if (k->len + n > WH_KEY_MAX)
        n = WH_KEY_MAX - k->len;
    memcpy(k->b + k->len, s, n);
    k->len += n;
}

static void put_be64(wh_key *k, uint64_t v)
{
    if (k->len + 8 > WH_KEY_MAX)
        return;
    wh_key_be64(k->b + k->len, v);
    k->len += 8;
}

void wh_key_svc(wh_key *k, const char *svc)
{
    k->len = 0;
    put_str(k, svc);
}

void wh_key_rec(wh_key *k, const char *svc, const char *key)
{
    wh_key_svc(k, svc);
    put_str(k, key);
}

void wh_key_rev(wh_key *k, const char *svc, const char *key, uint64_t rev)
{
    wh_key_rec(k, svc, key);
    put_be64(k, rev);
}

void wh_key_feed(wh_key *k, const char *svc, int64_t ts, uint32_t fseq)
{
    wh_key_svc(k, svc);
    put_be64(k, (uint64_t)ts);
    if (k->len + 4 > WH_KEY_MAX)
        return;
    for (int i = 0; i < 4; i++)
        k->b[k->len + (size_t)i] = (unsigned char)(fseq >> (24 - 8 * i));
    k->len += 4;
}

bool wh_key_has_prefix(const MDB_val *k, const wh_key *prefix)
{
    return k->mv_size >= prefix->len && memcmp(k->mv_data, prefix->b, prefix->len) == 0;
}

static void be16(lt_buf *b, size_t v)
{
    unsigned char p[2] = {(unsigned char)(v >> 8), (unsigned char)(v & 0xff)};
    lt_buf_append(b, p, 2);
}

void wh_val_encode(lt_buf *b, uint64_t rev, int64_t at, uint32_t fseq, const wh_prov *prov,
                   const char *data, size_t len)
{
    const char *s[3] = {prov && prov->source ? prov->source : "",
                        prov && prov->message_id ? prov->message_id : "",
                        prov && prov->system ? prov->system : ""};
    size_t n[3];
    unsigned char hdr[21];
    hdr[0] = WH_VAL_VERSION;
    wh_key_be64(hdr + 1, rev);
    wh_key_be64(hdr + 9, (uint64_t)at);
    for (int i = 0; i < 4; i++)
        hdr[17 + i] = (unsigned char)(fseq >> (24 - 8 * i));
    lt_buf_reset(b);
    lt_buf_append(b, hdr, sizeof hdr);
    for (int i = 0; i < 3; i++) { /* callers checked each is shorter than WH_PROV_MAX */
        n[i] = strlen(s[i]);
        be16(b, n[i]);
    }
    for (int i = 0; i < 3; i++)
        lt_buf_append(b, s[i], n[i] + 1);
    lt_buf_append(b, data, len);
}

int wh_val_decode(const MDB_val *v, wh_record *out, uint32_t *fseq)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < WH_VAL_HDR || p[0] != WH_VAL_VERSION)
        return -1;
    out->rev = wh_key_get_be64(p + 1);
    out->received_at_us = (int64_t)wh_key_get_be64(p + 9);
    if (fseq)
        *fseq = (uint32_t)p[17] << 24 | (uint32_t)p[18] << 16 | (uint32_t)p[19] << 8 | p[20];
    size_t off = WH_VAL_HDR;
    const char **dst[3] = {&out->source, &out->message_id, &out->system};
    for (int i = 0; i < 3; i++) {
        size_t n = (size_t)p[21 + 2 * i] << 8 | p[22 + 2 * i];
        if (off + n + 1 > v->mv_size || p[off + n] != '\0')
            return -1;
        *dst[i] = (const char *)p + off;
        off += n + 1;
    }
    out->data = (const char *)p + off;
    out->data_len = v->mv_size - off;
    return 0;
}

/* ---- meta entries ---- */

static const char HEAD_KEY[] = "audit_head";
static const char CLOCK_KEY[] = "clock";

int wh_meta_head_get(MDB_txn *txn, MDB_dbi meta, uint64_t *seq, char hash[65])
{
    MDB_val k = {sizeof HEAD_KEY - 1, (void *)HEAD_KEY}, v;
    int rc = mdb_get(txn, meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *seq = 0;
        memcpy(hash, WH_ZERO_HASH, 65);
        return 0;
    }
    if (rc)
        return rc;
    if (v.mv_size != 8 + 64)
        return MDB_CORRUPTED;
    *seq = wh_key_get_be64(v.mv_data);
    memcpy(hash, (const char *)v.mv_data + 8, 64);
    hash[64] = '\0';
    return 0;
}

int wh_meta_head_put(MDB_txn *txn, MDB_dbi meta, uint64_t seq, const char hash[65])
{
    unsigned char b[72];
    wh_key_be64(b, seq);
    memcpy(b + 8, hash, 64);
    MDB_val k = {sizeof HEAD_KEY - 1, (void *)HEAD_KEY}, v = {sizeof b, b};
    return mdb_put(txn, meta, &k, &v, 0);
}

static void count_key(wh_key *k, const char *svc)
{
    k->b[0] = 'n';
    k->b[1] = '\0';
    k->len = 2;
    put_str(k, svc);
}

/* A be64 counter in the meta DB; absent reads as 0. */
static int meta_get_u64(MDB_txn *txn, MDB_dbi meta, MDB_val *k, uint64_t *out)
{
    MDB_val v;
    int rc = mdb_get(txn, meta, k, &v);
    *out = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (v.mv_size != 8)
        return MDB_CORRUPTED;
    *out = wh_key_get_be64(v.mv_data);
    return 0;
}

int wh_meta_count_get(MDB_txn *txn, MDB_dbi meta, const char *svc, uint64_t *n)
{
    wh_key kk;
    count_key(&kk, svc);
    MDB_val k = {kk.len, kk.b};
    return meta_get_u64(txn, meta, &k, n);
}

int wh_meta_count_add(MDB_txn *txn, MDB_dbi meta, const char *svc, uint64_t delta)
{
    uint64_t n;
    int rc = wh_meta_count_get(txn, meta, svc, &n);
    if (rc)
        return rc;
    wh_key kk;
    count_key(&kk, svc);
    unsigned char b[8];
    wh_key_be64(b, n + delta);
    MDB_val k = {kk.len, kk.b}, v = {8, b};
    return mdb_put(txn, meta, &k, &v, 0);
}

int wh_meta_clock_get(MDB_txn *txn, MDB_dbi meta, int64_t *us)
{
    MDB_val k = {sizeof CLOCK_KEY - 1, (void *)CLOCK_KEY};
    uint64_t v;
    int rc = meta_get_u64(txn, meta, &k, &v);
    *us = (int64_t)v;
    return rc;
}

int wh_meta_clock_put(MDB_txn *txn, MDB_dbi meta, int64_t us)
{
    unsigned char b[8];
    wh_key_be64(b, (uint64_t)us);
    MDB_val k = {sizeof CLOCK_KEY - 1, (void *)CLOCK_KEY}, v = {8, b};
    return mdb_put(txn, meta, &k, &v, 0);
}
