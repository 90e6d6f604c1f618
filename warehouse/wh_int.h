/* wh_int — warehouse internals shared by the warehouse sources only (never included outside).
 *
 * Key encodings (docs/warehouse.md): binary, built into fixed stack buffers (no malloc), every
 * textual part NUL-terminated inside the key so borrowed pointers into LMDB memory are C
 * strings. Values of records/revisions are a small big-endian header, provenance strings with
 * their NULs, then the canonical JSON bytes.
 */
#ifndef WH_INT_H
#define WH_INT_H

#include <lmdb.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lt_buf.h"
#include "lt_limits.h"
#include "wh.h"

/* LMDB's compiled-in key limit (mdb_env_get_maxkeysize) in Debian's 0.9.24. */
#define WH_KEY_MAX 511
/* Bumped when an encoding changes; wh_open refuses a directory written in another format. */
#define WH_FORMAT "1"
/* Reset read transactions kept for reuse; well under maxreaders (512). */
#define WH_READ_POOL 64
/* Provenance strings are ids; anything longer is a caller bug, not data. */
#define WH_PROV_MAX 512
/* Value header: version(1) rev(8) received_at(8) feed seq(4) three string lengths(2 each). */
#define WH_VAL_HDR 27
#define WH_VAL_VERSION 1
#define WH_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

typedef struct wh_key {
    unsigned char b[WH_KEY_MAX + 1];
    size_t len;
} wh_key;

/* The audit writer's queue: submitters append, one thread drains (group commit). */
/* One pending audit entry: the members of its JSON object as text (owned), and a caller-given
 * time ("" = the writer stamps it). */
typedef struct wh_audit_item {
    char *members;
    size_t len;
    char time[32];
} wh_audit_item;

typedef struct wh_auditq {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* writer waits for entries */
    pthread_cond_t done; /* flushers wait for commits */
    pthread_cond_t room; /* submitters wait while the queue is full (backpressure) */
    wh_audit_item *items; /* pending, FIFO; the writer swaps it with `spare` to take all */
    size_t n, cap;
    wh_audit_item *spare;
    size_t spare_cap;
    uint64_t submitted, committed; /* counts since wh_open, FIFO */
    int flushers;
    bool stop, running;
    pthread_t thread;
} wh_auditq;

struct wh_env {
    MDB_env *env;
    MDB_dbi docs[WH_KIND_COUNT];
    MDB_dbi records, revisions, feed, quarantine, audit, meta; /* audit: the old place (moved) */
    /* The audit log in its own environment (dir/audit): a high-rate append log in the records'
     * file made their commits slower as it grew, and shared their writer lock. */
    MDB_env *aenv;
    MDB_dbi alog, ameta; /* entries by seq; the chain head */
    void *amap;          /* where the audit env's file is mapped (from /proc/self/maps), or NULL */
    size_t amap_len;
    MDB_dbi obs; /* observations index (wh_obs.c) */
    pthread_mutex_t rmu; /* guards the read-handle pool */
    wh_read *rpool[WH_READ_POOL];
    size_t nrpool;
    wh_auditq aq;
};

struct wh_read {
    wh_env *env;
    MDB_txn *txn; /* reset while pooled, renewed by wh_read_begin */
};

struct wh_batch {
    wh_env *env;
    MDB_txn *txn;
    MDB_cursor *crec, *crev, *cfeed;
    MDB_cursor *cobs; /* observations index: opened by the first wh_batch_obs_put */
    int64_t ts;   /* one time for the whole batch: it becomes visible at once */
    lt_err err;   /* sticky: after an LMDB failure the txn can only be aborted */
    bool wrote;   /* records were written: advance the stored clock on commit */
    int64_t qlast; /* time in the last qid: ids grow within a batch */
    uint32_t fseq; /* position in the change feed within this batch's time */
    lt_buf val;   /* reused value buffer */
    lt_buf old;   /* copy of a superseded value: dirty pages may move during writes */
    char nsvc[LT_MAX_ID_LEN + 1]; /* service whose key count is pending */
    uint64_t ndelta;
};

/* ---- wh_key.c ---- */
lt_err wh_mdb_fail(lt_errinfo *ei, int rc, const char *what);
bool wh_id_ok(const char *s, size_t max);
void wh_key_be64(unsigned char *p, uint64_t v);
uint64_t wh_key_get_be64(const unsigned char *p);
/* svc\0 */
void wh_key_svc(wh_key *k, const char *svc);
/* svc\0 key\0 — records (latest), quarantine (key = qid) */
void wh_key_rec(wh_key *k, const char *svc, const char *key);
/* svc\0 key\0 rev — revisions */
void wh_key_rev(wh_key *k, const char *svc, const char *key, uint64_t rev);
/* svc\0 ts fseq — change feed (value: key\0) */
void wh_key_feed(wh_key *k, const char *svc, int64_t ts, uint32_t fseq);
bool wh_key_has_prefix(const MDB_val *k, const wh_key *prefix);
/* Encodes a record value into b (reset first). */
void wh_val_encode(lt_buf *b, uint64_t rev, int64_t at, uint32_t fseq, const wh_prov *prov,
                   const char *data, size_t len);
/* Fills every field of out but key (and *fseq when not NULL); -1 when the bytes are not a
 * record value. */
int wh_val_decode(const MDB_val *v, wh_record *out, uint32_t *fseq);
/* Head of the audit chain stored in the meta DB; seq 0 and zero hash when absent. */
int wh_meta_head_get(MDB_txn *txn, MDB_dbi meta, uint64_t *seq, char hash[65]);
int wh_meta_head_put(MDB_txn *txn, MDB_dbi meta, uint64_t seq, const char hash[65]);
/* Counter of keys per service ("n\0" svc). */
int wh_meta_count_get(MDB_txn *txn, MDB_dbi meta, const char *svc, uint64_t *n);
int wh_meta_count_add(MDB_txn *txn, MDB_dbi meta, const char *svc, uint64_t delta);
/* Last batch time; batches take max(now, last + 1) so times only grow. */
int wh_meta_clock_get(MDB_txn *txn, MDB_dbi meta, int64_t *us);
int wh_meta_clock_put(MDB_txn *txn, MDB_dbi meta, int64_t us);

/* ---- wh_obs.c ----
 * Observations index: key indicator 0x1F area 0x1F period_key (16 lowercase hex) 0x1F service;
 * value WH_OBS_VERSION, flags (bit 0: has_value), value (IEEE 754 bits, be64), rev (be64),
 * received_at (be64), then NUL-terminated indicator, area, service, period, status, unit, key,
 * source, message_id (so every wh_obs string points into LMDB memory). */
#define WH_OBS_VERSION 1
#define WH_OBS_SEP '\x1f'
#define WH_OBS_HDR 26
#define WH_OBS_STR_MAX 512 /* period, status, unit: anything longer is a caller bug */

/* ---- wh_audit.c ---- */
lt_err wh_audit_start(wh_env *env, lt_errinfo *ei);
void wh_audit_stop(wh_env *env);
/* Chain link: SHA-256 hex of prev (64 hex chars) + canon; 0 or -1. */
int wh_audit_hash(EVP_MD_CTX *md, const char *prev, const char *canon, size_t len,
                  char out[65]);

#endif
