/* wh_audit — the tamper-evident audit log and its group-committing writer.
 *
 * Submitters append to an in-memory queue and return at once. One writer thread per env takes
 * up to LT_AUDIT_BATCH_MAX entries, lingering at most LT_AUDIT_FLUSH_MS for more, and commits
 * them in one write transaction (one fsync for many requests). The chain head (last seq and
 * hash) is read inside that transaction, so processes sharing a directory extend one chain.
 * Key: seq (be64). Value: canonical JSON of the entry including "hash". */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lt_json.h"
#include "lt_log.h"
#include "lt_str.h"
#include "wh_int.h"

/* A failed commit (disk full, I/O) is retried this many times before the entries are dropped
 * with an error log: blocking submitters forever would stop the whole gateway. */
#define AUDIT_ATTEMPTS 3
#define AUDIT_RETRY_MS 50

/* hash = SHA-256 hex of prev_hash text + canonical JSON (without "hash"). */
int wh_audit_hash(EVP_MD_CTX *md, const char *prev, const char *canon, size_t len,
                      char out[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, prev, 64) ||
        !EVP_DigestUpdate(md, canon, len) || !EVP_DigestFinal_ex(md, d, &dl) || dl != 32)
        return -1;
    lt_hex(d, 32, out);
    return 0;
}

/* Fills seq, time, prev_hash and hash into e; returns its stored text (free()) or NULL. */
static char *stamp(EVP_MD_CTX *md, json_t *e, uint64_t seq, const char *prev, char hash[65],
                   size_t *len)
{
    json_object_del(e, "hash");
    if (json_object_set_new(e, "seq", json_integer((json_int_t)seq)) ||
        json_object_set_new(e, "prev_hash", json_string(prev)))
        return NULL;
    if (!json_object_get(e, "time")) {
        char ts[32];
        lt_time_format(lt_now_us(), true, ts);
        if (json_object_set_new(e, "time", json_string(ts)))
            return NULL;
    }
    size_t clen;
    char *canon = lt_json_canonical(e, &clen);
    int rc = canon ? wh_audit_hash(md, prev, canon, clen, hash) : -1;
    free(canon);
    if (rc || json_object_set_new(e, "hash", json_string(hash)))
        return NULL;
    return lt_json_canonical(e, len);
}

static int append_all(wh_env *env, MDB_txn *txn, EVP_MD_CTX *md, json_t **items, size_t n)
{
    uint64_t seq;
    char prev[65], hash[65];
    int rc = wh_meta_head_get(txn, env->meta, &seq, prev);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t len;
        char *text = stamp(md, items[i], seq + 1, prev, hash, &len);
        if (!text)
            return ENOMEM;
        unsigned char kb[8];
        wh_key_be64(kb, ++seq);
        MDB_val k = {8, kb}, v = {len, text};
        rc = mdb_put(txn, env->audit, &k, &v, MDB_APPEND);
        free(text);
        memcpy(prev, hash, 65);
    }
    return rc ? rc : wh_meta_head_put(txn, env->meta, seq, prev);
}

static int write_once(wh_env *env, json_t **items, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return ENOMEM;
    MDB_txn *txn;
    int rc = mdb_txn_begin(env->env, NULL, 0, &txn);
    if (!rc) {
        rc = append_all(env, txn, md, items, n);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    EVP_MD_CTX_free(md);
    return rc;
}

static void write_batch(wh_env *env, json_t **items, size_t n)
{
    int rc = 0;
    for (int attempt = 1; attempt <= AUDIT_ATTEMPTS; attempt++) {
        if (!(rc = write_once(env, items, n)))
            break;
        lt_log(LT_LOG_ERROR, "audit commit failed (attempt %d): %s", attempt, mdb_strerror(rc));
        struct timespec ts = {0, (long)AUDIT_RETRY_MS * attempt * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc)
        lt_log(LT_LOG_ERROR, "audit: dropped %zu entries: %s", n, mdb_strerror(rc));
    for (size_t i = 0; i < n; i++)
        json_decref(items[i]);
}

/* Lingers for more entries unless the batch is full, someone flushes, or we are stopping. */
static void gather(wh_auditq *q)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_nsec += (long)LT_AUDIT_FLUSH_MS * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (q->n < LT_AUDIT_BATCH_MAX && !q->stop && q->flushers == 0)
        if (pthread_cond_timedwait(&q->wake, &q->mu, &dl) == ETIMEDOUT)
            break;
}

static void *writer_main(void *arg)
{
    wh_env *env = arg;
    wh_auditq *q = &env->aq;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->n == 0 && !q->stop)
            pthread_cond_wait(&q->wake, &q->mu);
        if (q->n == 0)
            break; /* stopping, and everything is written */
        gather(q);
        size_t k = q->n < LT_AUDIT_BATCH_MAX ? q->n : LT_AUDIT_BATCH_MAX;
        memcpy(q->batch, q->items, k * sizeof *q->batch);
        memmove(q->items, q->items + k, (q->n - k) * sizeof *q->items);
        q->n -= k;
        pthread_mutex_unlock(&q->mu);
        write_batch(env, q->batch, k);
        pthread_mutex_lock(&q->mu);
        q->committed += k;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static bool grow(wh_auditq *q)
{
    size_t cap = q->cap ? q->cap * 2 : 256;
    json_t **p = realloc(q->items, cap * sizeof *p);
    if (!p)
        return false;
    q->items = p;
    q->cap = cap;
    return true;
}

lt_err wh_audit_start(wh_env *env, lt_errinfo *ei)
{
    wh_auditq *q = &env->aq;
    if (!(q->batch = malloc(LT_AUDIT_BATCH_MAX * sizeof *q->batch)))
        return lt_fail(ei, LT_E_NOMEM, "audit writer: out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, &ca);
    pthread_cond_init(&q->done, NULL);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&q->thread, NULL, writer_main, env);
    if (rc) {
        pthread_cond_destroy(&q->done);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->mu);
        free(q->batch);
        q->batch = NULL;
        return lt_fail(ei, LT_E_INTERNAL, "audit writer thread: %s", strerror(rc));
    }
    q->running = true;
    return LT_OK;
}

void wh_audit_stop(wh_env *env)
{
    wh_auditq *q = &env->aq;
    if (!q->running)
        return;
    pthread_mutex_lock(&q->mu);
    q->stop = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    q->running = false;
    for (size_t i = 0; i < q->n; i++)
        json_decref(q->items[i]);
    free(q->items);
    free(q->batch);
    pthread_cond_destroy(&q->done);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
}

void wh_audit_submit(wh_env *env, json_t *entry)
{
    wh_auditq *q = &env->aq;
    if (!json_is_object(entry)) {
        lt_log(LT_LOG_ERROR, "audit: entry is not a JSON object; dropped");
        json_decref(entry);
        return;
    }
    pthread_mutex_lock(&q->mu);
    if (q->stop || (q->n == q->cap && !grow(q))) {
        pthread_mutex_unlock(&q->mu);
        lt_log(LT_LOG_ERROR, "audit: entry dropped (%s)", q->stop ? "closing" : "no memory");
        json_decref(entry);
        return;
    }
    q->items[q->n++] = entry;
    q->submitted++;
    /* the writer only needs waking when idle (queue was empty) or when a batch is full */
    if (q->n == 1 || q->n == LT_AUDIT_BATCH_MAX)
        pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
}

void wh_audit_flush(wh_env *env)
{
    wh_auditq *q = &env->aq;
    if (!q->running)
        return;
    pthread_mutex_lock(&q->mu);
    uint64_t target = q->submitted;
    q->flushers++;
    pthread_cond_signal(&q->wake);
    while (q->committed < target)
        pthread_cond_wait(&q->done, &q->mu);
    q->flushers--;
    pthread_mutex_unlock(&q->mu);
}
