/* wh_audit — the tamper-evident audit log and its group-committing writer.
 *
 * Submitters append an entry's members (JSON text) to an in-memory queue and return at once;
 * past LT_AUDIT_QUEUE_MAX pending entries they wait (backpressure: memory stays bounded and no
 * answered request loses its entry). One writer thread per env takes the whole queue at once,
 * lingering at most LT_AUDIT_FLUSH_MS for more, and commits up to LT_AUDIT_BATCH_MAX entries per
 * write transaction (one fsync for many requests). The chain head (last seq and hash) is read
 * inside that transaction, so processes sharing a directory extend one chain.
 *
 * Key: seq (be64). Value, byte for byte:
 *   {"seq":N,"time":"T","prev_hash":"P",<members>,"hash":"H"}
 * where H = SHA-256 hex of (P || the same text without ,"hash":"H" — i.e. ending in <members>}).
 * The hash covers exact bytes, so writing and verifying need no JSON parsing. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <time.h>

#include "lt_buf.h"
#include "lt_json.h"
#include "lt_log.h"
#include "lt_str.h"
#include "wh_int.h"

/* A failed commit (disk full, I/O) is retried this many times before the entries are dropped
 * with an error log: blocking submitters forever would stop the whole gateway. */
#define AUDIT_ATTEMPTS 3
#define AUDIT_RETRY_MS 50

int wh_audit_hash(EVP_MD_CTX *md, const char *prev, const char *text, size_t len, char out[65])
{
    unsigned char d[32];
    unsigned int dl = 0;
    if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) || !EVP_DigestUpdate(md, prev, 64) ||
        !EVP_DigestUpdate(md, text, len) || !EVP_DigestFinal_ex(md, d, &dl) || dl != 32)
        return -1;
    lt_hex(d, 32, out);
    return 0;
}

/* Writes the stored text of one entry into out and its hash into hash. */
static int stamp(EVP_MD_CTX *md, const wh_audit_item *it, uint64_t seq, const char *prev,
                 char hash[65], lt_buf *out)
{
    char ts[32];
    if (it->time[0])
        memcpy(ts, it->time, sizeof ts);
    else
        lt_time_format(lt_now_us(), true, ts);
    lt_buf_reset(out);
    lt_buf_printf(out, "{\"seq\":%llu,\"time\":", (unsigned long long)seq);
    lt_buf_json_str(out, ts, strlen(ts));
    lt_buf_printf(out, ",\"prev_hash\":\"%s\"", prev);
    if (it->len) {
        lt_buf_putc(out, ',');
        lt_buf_append(out, it->members, it->len);
    }
    lt_buf_putc(out, '}');
    if (out->err || wh_audit_hash(md, prev, out->data, out->len, hash))
        return -1;
    out->len--; /* reopen the object to append the hash */
    lt_buf_printf(out, ",\"hash\":\"%s\"}", hash);
    return out->err ? -1 : 0;
}

static int append_all(wh_env *env, MDB_txn *txn, EVP_MD_CTX *md, const wh_audit_item *items,
                      size_t n)
{
    uint64_t seq;
    char prev[65], hash[65];
    lt_buf text;
    lt_buf_init(&text, 0);
    int rc = wh_meta_head_get(txn, env->ameta, &seq, prev);
    for (size_t i = 0; i < n && !rc; i++) {
        if (stamp(md, &items[i], seq + 1, prev, hash, &text)) {
            rc = ENOMEM;
            break;
        }
        unsigned char kb[8];
        wh_key_be64(kb, ++seq);
        MDB_val k = {8, kb}, v = {text.len, text.data};
        rc = mdb_put(txn, env->alog, &k, &v, MDB_APPEND);
        memcpy(prev, hash, 65);
    }
    lt_buf_free(&text);
    return rc ? rc : wh_meta_head_put(txn, env->ameta, seq, prev);
}

static int write_once(wh_env *env, const wh_audit_item *items, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return ENOMEM;
    MDB_txn *txn;
    int rc = mdb_txn_begin(env->aenv, NULL, 0, &txn);
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

/* The log is append-only and nothing reads its old pages in the writer's process but an
 * occasional list, verify or export: once a second the pages of the map before the last few
 * MiB are handed back (MADV_DONTNEED on a read-only file mapping only unmaps them; they stay
 * in the page cache and fault back in if read). Without it the process's resident size grew
 * with the log, ≈ 6 MB/s under the soak's load, while its heap stayed flat. */
#define AUDIT_RESIDENT_TAIL (8u << 20)
#define AUDIT_TRIM_EVERY_US 1000000

static void trim_resident(wh_env *env, int64_t *last_us)
{
    int64_t now = lt_mono_us();
    if (now - *last_us < AUDIT_TRIM_EVERY_US)
        return;
    *last_us = now;
    MDB_envinfo info;
    MDB_stat st;
    if (!env->amap || mdb_env_info(env->aenv, &info) || mdb_env_stat(env->aenv, &st))
        return;
    size_t used = (size_t)(info.me_last_pgno + 1) * st.ms_psize;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (used > env->amap_len)
        used = env->amap_len;
    if (used <= AUDIT_RESIDENT_TAIL + page)
        return;
    size_t len = (used - AUDIT_RESIDENT_TAIL) / page * page;
    madvise(env->amap, len, MADV_DONTNEED);
}

static void write_batch(wh_env *env, wh_audit_item *items, size_t n)
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
        free(items[i].members);
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

/* Takes every queued entry at once by swapping arrays (O(1) however long the backlog), then
 * writes them in transactions of at most LT_AUDIT_BATCH_MAX entries. */
static void *writer_main(void *arg)
{
    wh_env *env = arg;
    wh_auditq *q = &env->aq;
    int64_t trimmed_us = 0;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->n == 0 && !q->stop)
            pthread_cond_wait(&q->wake, &q->mu);
        if (q->n == 0)
            break; /* stopping, and everything is written */
        gather(q);
        wh_audit_item *taken = q->items;
        size_t k = q->n, cap = q->cap;
        q->items = q->spare;
        q->cap = q->spare_cap;
        q->n = 0;
        pthread_cond_broadcast(&q->room);
        pthread_mutex_unlock(&q->mu);
        for (size_t off = 0; off < k; off += LT_AUDIT_BATCH_MAX)
            write_batch(env, taken + off,
                        k - off < LT_AUDIT_BATCH_MAX ? k - off : LT_AUDIT_BATCH_MAX);
        trim_resident(env, &trimmed_us);
        pthread_mutex_lock(&q->mu);
        q->spare = taken;
        q->spare_cap = cap;
        q->committed += k;
        pthread_cond_broadcast(&q->done);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static bool grow(wh_auditq *q)
{
    size_t cap = q->cap ? q->cap * 2 : 256;
    wh_audit_item *p = realloc(q->items, cap * sizeof *p);
    if (!p)
        return false;
    q->items = p;
    q->cap = cap;
    return true;
}

lt_err wh_audit_start(wh_env *env, lt_errinfo *ei)
{
    wh_auditq *q = &env->aq;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, &ca);
    pthread_cond_init(&q->done, NULL);
    pthread_cond_init(&q->room, NULL);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&q->thread, NULL, writer_main, env);
    if (rc) {
        pthread_cond_destroy(&q->room);
        pthread_cond_destroy(&q->done);
        pthread_cond_destroy(&q->wake);
        pthread_mutex_destroy(&q->mu);
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
    pthread_cond_broadcast(&q->room);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    q->running = false;
    for (size_t i = 0; i < q->n; i++)
        free(q->items[i].members);
    free(q->items);
    free(q->spare);
    pthread_cond_destroy(&q->room);
    pthread_cond_destroy(&q->done);
    pthread_cond_destroy(&q->wake);
    pthread_mutex_destroy(&q->mu);
}

/* Queues an item whose members text is already owned; frees it when it cannot be queued. */
static void enqueue(wh_env *env, wh_audit_item it)
{
    wh_auditq *q = &env->aq;
    pthread_mutex_lock(&q->mu);
    while (q->n >= LT_AUDIT_QUEUE_MAX && !q->stop && q->running)
        pthread_cond_wait(&q->room, &q->mu);
    if (q->stop || (q->n == q->cap && !grow(q))) {
        pthread_mutex_unlock(&q->mu);
        lt_log(LT_LOG_ERROR, "audit: entry dropped (%s)", q->stop ? "closing" : "no memory");
        free(it.members);
        return;
    }
    q->items[q->n++] = it;
    q->submitted++;
    /* the writer only needs waking when idle (queue was empty) or when a batch is full */
    if (q->n == 1 || q->n == LT_AUDIT_BATCH_MAX)
        pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
}

void wh_audit_submit_text(wh_env *env, const char *members, size_t len)
{
    wh_audit_item it = {malloc(len + 1), len, ""};
    if (!it.members) {
        lt_log(LT_LOG_ERROR, "audit: entry dropped (no memory)");
        return;
    }
    memcpy(it.members, members, len);
    it.members[len] = '\0';
    enqueue(env, it);
}

void wh_audit_submit(wh_env *env, json_t *entry)
{
    static const char *const reserved[] = {"seq", "prev_hash", "hash"};
    wh_audit_item it = {NULL, 0, ""};
    if (!json_is_object(entry)) {
        lt_log(LT_LOG_ERROR, "audit: entry is not a JSON object; dropped");
        json_decref(entry);
        return;
    }
    const char *t = json_string_value(json_object_get(entry, "time"));
    if (t)
        snprintf(it.time, sizeof it.time, "%s", t);
    json_object_del(entry, "time");
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        json_object_del(entry, reserved[i]);
    size_t len = 0;
    char *text = lt_json_canonical(entry, &len);
    json_decref(entry);
    if (!text || len < 2) {
        free(text);
        lt_log(LT_LOG_ERROR, "audit: entry could not be serialised; dropped");
        return;
    }
    memmove(text, text + 1, len - 2); /* strip the braces: members only */
    text[len - 2] = '\0';
    it.members = text;
    it.len = len - 2;
    enqueue(env, it);
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
