/* Audit log: group commit from several threads, flush, list, the hash chain, verify, and
 * tampering detected through raw LMDB edits (with the warehouse closed: LMDB forbids two
 * environments on one directory in one process). */
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lt_test.h"
#include "wh.h"
#include "wh_testdir.h"

#define THREADS 4
#define PER_THREAD 300

typedef struct worker {
    wh_env *env;
    int id;
} worker;

static void *submit_many(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        json_t *e = json_pack("{s:s, s:i, s:i, s:s}", "operation", "records.get", "thread", w->id,
                              "i", i, "service", "stc-thu-ngan-sach");
        wh_audit_submit(w->env, e);
        if (i % 100 == 99)
            wh_audit_flush(w->env); /* flushes interleave with submissions */
    }
    return NULL;
}

typedef struct list_acc {
    uint64_t first, last, n;
    bool ok;
    char prev[65];
} list_acc;

/* Checks seq order and that each entry links to the one before. */
static int check_entry(void *ctx, uint64_t seq, const char *json, size_t len)
{
    list_acc *a = ctx;
    json_t *e = json_loadb(json, len, 0, NULL);
    const char *h = json_string_value(json_object_get(e, "hash"));
    const char *ph = json_string_value(json_object_get(e, "prev_hash"));
    if (!a->n)
        a->first = seq;
    else if (seq != a->last + 1 || !ph || strcmp(ph, a->prev) != 0)
        a->ok = false;
    if (!h || strlen(h) != 64 || json_integer_value(json_object_get(e, "seq")) != (long long)seq ||
        !json_is_string(json_object_get(e, "time")))
        a->ok = false;
    if (h)
        snprintf(a->prev, sizeof a->prev, "%s", h);
    a->last = seq;
    a->n++;
    json_decref(e);
    return 0;
}

static void test_threads_and_verify(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){env, i};
        pthread_create(&t[i], NULL, submit_many, &w[i]);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    wh_audit_flush(env);
    uint64_t count = 0, bad = 0;
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK);
    CHECK(count == THREADS * PER_THREAD && bad == 0);
    wh_stats st;
    CHECK(wh_stat(env, &st) == LT_OK && st.audit_entries == THREADS * PER_THREAD);
    CHECK(st.used_bytes > 0 && st.map_size >= st.used_bytes);
    static const struct {
        uint64_t since;
        size_t limit;
        uint64_t n, first;
    } cases[] = {{0, 0, THREADS * PER_THREAD, 1}, {0, 10, 10, 1}, {100, 5, 5, 101},
                 {THREADS * PER_THREAD - 3, 0, 3, THREADS * PER_THREAD - 2},
                 {THREADS * PER_THREAD, 0, 0, 0}};
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        list_acc a = {.ok = true, .prev = "0000000000000000000000000000000000000000000000000000000000000000"};
        CHECK(wh_audit_list(r, cases[i].since, cases[i].limit, check_entry, &a) == LT_OK);
        CHECK_MSG(a.n == cases[i].n && (!a.n || a.first == cases[i].first) &&
                      (a.ok || cases[i].since), "case %zu: n %llu", i, (unsigned long long)a.n);
    }
    wh_read_end(r);
    wh_close(env);
    wh_testdir_remove(dir);
}

static int grab_time(void *ctx, uint64_t seq, const char *json, size_t len)
{
    (void)seq;
    json_t *e = json_loadb(json, len, 0, NULL);
    snprintf(ctx, 64, "%s", json_string_value(json_object_get(e, "time")));
    json_decref(e);
    return 1; /* stop after one */
}

static void test_time_kept_and_close_drains(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    wh_audit_submit(env, json_pack("{s:s}", "time", "2026-11-22T05:00:00Z"));
    wh_audit_submit(env, json_string("not an object")); /* dropped with a log line */
    for (int i = 0; i < 50; i++)
        wh_audit_submit(env, json_pack("{s:i}", "i", i));
    wh_close(env); /* no flush: close drains the queue */
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    uint64_t count = 0, bad = 0;
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK && count == 51);
    char t[64] = "";
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_audit_list(r, 0, 0, grab_time, t) == LT_OK);
    CHECK(strcmp(t, "2026-11-22T05:00:00Z") == 0);
    wh_read_end(r);
    wh_close(env);
    wh_testdir_remove(dir);
}

typedef enum tamper { T_EDIT, T_DELETE_LAST, T_DELETE_MIDDLE } tamper;

/* Edits the closed warehouse's audit DB directly. */
static void tamper_raw(const char *dir, tamper how, uint64_t seq)
{
    MDB_env *e;
    MDB_txn *txn;
    MDB_dbi dbi;
    char adir[512];
    snprintf(adir, sizeof adir, "%s/audit", dir); /* the audit log's own environment */
    CHECK(mdb_env_create(&e) == 0);
    mdb_env_set_maxdbs(e, 32);
    mdb_env_set_mapsize(e, 1ull << 30);
    CHECK(mdb_env_open(e, adir, 0, 0640) == 0);
    CHECK(mdb_txn_begin(e, NULL, 0, &txn) == 0);
    CHECK(mdb_dbi_open(txn, "audit", 0, &dbi) == 0);
    unsigned char kb[8];
    for (int i = 0; i < 8; i++)
        kb[i] = (unsigned char)(seq >> (56 - 8 * i));
    MDB_val k = {8, kb}, v;
    if (how == T_EDIT) {
        CHECK(mdb_get(txn, dbi, &k, &v) == 0);
        /* change the bytes in place: "status":403 becomes "status":200 */
        char *s = malloc(v.mv_size);
        memcpy(s, v.mv_data, v.mv_size);
        char *at = memmem(s, v.mv_size, "\"status\":403", 12);
        CHECK(at != NULL);
        if (at)
            memcpy(at + 9, "200", 3);
        MDB_val nv = {v.mv_size, s};
        CHECK(mdb_put(txn, dbi, &k, &nv, 0) == 0);
        free(s);
    } else {
        CHECK(mdb_del(txn, dbi, &k, NULL) == 0);
    }
    CHECK(mdb_txn_commit(txn) == 0);
    mdb_env_close(e);
}

static void test_tamper(void)
{
    static const struct {
        tamper how;
        uint64_t seq, want_bad, want_count;
    } cases[] = {
        {T_EDIT, 5, 5, 4}, {T_EDIT, 1, 1, 0}, {T_DELETE_LAST, 20, 20, 19},
        {T_DELETE_MIDDLE, 7, 7, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[64];
        wh_env *env = NULL;
        lt_errinfo ei = {0};
        CHECK(wh_testdir_make(dir) == 0);
        CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
        for (int j = 0; j < 20; j++)
            wh_audit_submit(env, json_pack("{s:i, s:s}", "status", 403, "org", "000.00.15.H32"));
        wh_close(env);
        tamper_raw(dir, cases[i].how, cases[i].seq);
        CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
        uint64_t count = 0, bad = 0;
        CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_E_CONFLICT);
        CHECK_MSG(bad == cases[i].want_bad && count == cases[i].want_count,
                  "case %zu: bad %llu count %llu", i, (unsigned long long)bad,
                  (unsigned long long)count);
        CHECK(strstr(ei.detail, "seq") != NULL);
        lt_errinfo_clear(&ei);
        wh_close(env);
        wh_testdir_remove(dir);
    }
}

/* Moves the audit log back where warehouses before the split kept it (the main environment's
 * "audit" DB and "audit_head" in "wh_meta") and removes dir/audit. */
static void to_old_layout(const char *dir)
{
    char adir[512], cmd[600];
    snprintf(adir, sizeof adir, "%s/audit", dir);
    MDB_env *a, *m;
    MDB_txn *ta, *tm;
    MDB_dbi alog, ameta, mlog, mmeta;
    MDB_cursor *c;
    MDB_val k, v;
    CHECK(mdb_env_create(&a) == 0 && mdb_env_set_maxdbs(a, 4) == 0);
    CHECK(mdb_env_set_mapsize(a, 1ull << 30) == 0 && mdb_env_open(a, adir, 0, 0640) == 0);
    CHECK(mdb_env_create(&m) == 0 && mdb_env_set_maxdbs(m, 32) == 0);
    CHECK(mdb_env_set_mapsize(m, 1ull << 30) == 0 && mdb_env_open(m, dir, 0, 0640) == 0);
    CHECK(mdb_txn_begin(a, NULL, MDB_RDONLY, &ta) == 0 && mdb_txn_begin(m, NULL, 0, &tm) == 0);
    CHECK(mdb_dbi_open(ta, "audit", 0, &alog) == 0 && mdb_dbi_open(ta, "audit_meta", 0, &ameta) == 0);
    CHECK(mdb_dbi_open(tm, "audit", 0, &mlog) == 0 && mdb_dbi_open(tm, "wh_meta", 0, &mmeta) == 0);
    CHECK(mdb_cursor_open(ta, alog, &c) == 0);
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
        CHECK(mdb_put(tm, mlog, &k, &v, 0) == 0);
    mdb_cursor_close(c);
    k = (MDB_val){10, (void *)"audit_head"};
    CHECK(mdb_get(ta, ameta, &k, &v) == 0 && mdb_put(tm, mmeta, &k, &v, 0) == 0);
    mdb_txn_abort(ta);
    CHECK(mdb_txn_commit(tm) == 0);
    mdb_env_close(a);
    mdb_env_close(m);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", adir);
    CHECK(system(cmd) == 0);
}

/* A warehouse from before the split opens with its log moved, whole, and still verifying. */
static void test_old_layout_is_moved(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    for (int j = 0; j < 30; j++)
        wh_audit_submit(env, json_pack("{s:i}", "n", j));
    wh_close(env);
    to_old_layout(dir);
    uint64_t count = 0, bad = 0;
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK && count == 30 && bad == 0);
    wh_audit_submit(env, json_pack("{s:i}", "n", 30)); /* the chain goes on in the new place */
    wh_audit_flush(env);
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK && count == 31);
    wh_close(env);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK); /* nothing left to move: still 31 */
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK && count == 31);
    wh_close(env);
    lt_errinfo_clear(&ei);
    wh_testdir_remove(dir);
}

int main(void)
{
    LT_RUN(test_threads_and_verify);
    LT_RUN(test_time_kept_and_close_drains);
    LT_RUN(test_tamper);
    LT_RUN(test_old_layout_is_moved);
    return lt_test_done();
}
