/* Quarantine add/list/get/del/count, backup and reading the copy, and a second process
 * (fork) writing to the same directory while this one has it open. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lt_test.h"
#include "wh.h"
#include "wh_testdir.h"

static const wh_prov PROV = {"import", "run-1", NULL};

typedef struct q_acc {
    char qids[16][32];
    size_t n;
} q_acc;

static int q_cb(void *ctx, const char *qid, const char *json, size_t len)
{
    q_acc *a = ctx;
    (void)json;
    (void)len;
    if (a->n < 16)
        snprintf(a->qids[a->n], 32, "%s", qid);
    a->n++;
    return 0;
}

static void q_add(wh_env *env, const char *svc, int n, char qids[][32])
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    for (int i = 0; i < n; i++) {
        json_t *e = json_pack("{s:i, s:[{s:s, s:s}]}", "record", i, "errors", "field", "area",
                              "message", "unknown code");
        CHECK(wh_batch_quarantine_add(b, svc, e, qids[i], &ei) == LT_OK);
        CHECK(strncmp(qids[i], "q-", 2) == 0 && strlen(qids[i]) == 26);
        json_decref(e);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
}

static void test_quarantine(void)
{
    char dir[64], qa[5][32], qb[2][32];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    q_add(env, "a", 5, qa);
    q_add(env, "b", 2, qb);
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    size_t count = 0;
    CHECK(wh_quarantine_count(r, &count) == LT_OK && count == 7);
    static const struct {
        const char *svc;
        int after; /* index into qa, -1 = none */
        size_t limit, n;
    } cases[] = {{"a", -1, 0, 5}, {"a", -1, 2, 2}, {"a", 1, 0, 3}, {"a", 4, 0, 0}, {"b", -1, 0, 2},
                 {"c", -1, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        q_acc a = {0};
        CHECK(wh_quarantine_list(r, cases[i].svc, cases[i].after < 0 ? NULL : qa[cases[i].after],
                                 cases[i].limit, q_cb, &a) == LT_OK);
        CHECK_MSG(a.n == cases[i].n, "case %zu: %zu", i, a.n);
    }
    q_acc all = {0};
    CHECK(wh_quarantine_list(r, "a", NULL, 0, q_cb, &all) == LT_OK);
    for (size_t i = 0; i < 5 && i < all.n; i++)
        CHECK_STR(all.qids[i], qa[i]); /* time-ordered ids: listing is oldest first */
    char *j = NULL;
    size_t len = 0;
    CHECK(wh_quarantine_get(r, "a", qa[2], &j, &len) == LT_OK);
    json_t *o = json_loads(j, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(o, "qid")), qa[2]);
    CHECK(json_integer_value(json_object_get(o, "record")) == 2);
    CHECK(json_is_string(json_object_get(o, "received_at")));
    json_decref(o);
    free(j);
    CHECK(wh_quarantine_get(r, "b", qa[2], &j, &len) == LT_E_NOT_FOUND);
    wh_read_end(r);
    wh_batch *b = NULL;
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    CHECK(wh_batch_quarantine_del(b, "a", qa[2], &ei) == LT_OK);
    CHECK(wh_batch_quarantine_del(b, "a", qa[2], &ei) == LT_E_NOT_FOUND);
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_quarantine_count(r, &count) == LT_OK && count == 6);
    CHECK(wh_quarantine_get(r, "a", qa[2], &j, &len) == LT_E_NOT_FOUND);
    wh_read_end(r);
    lt_errinfo_clear(&ei);
    wh_close(env);
    wh_testdir_remove(dir);
}

static void put_one(wh_env *env, const char *svc, const char *key, const char *data)
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    wh_put_result res;
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    CHECK(wh_batch_put_record(b, svc, key, data, strlen(data), &PROV, &res, &ei) == LT_OK);
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
}

static bool has_record(wh_env *env, const char *svc, const char *key, const char *data)
{
    wh_read *r = NULL;
    wh_record rec;
    bool ok = false;
    if (wh_read_begin(env, &r, NULL) != LT_OK)
        return false;
    if (wh_record_get(r, svc, key, 0, &rec) == LT_OK)
        ok = rec.data_len == strlen(data) && memcmp(rec.data, data, rec.data_len) == 0;
    wh_read_end(r);
    return ok;
}

static void test_backup(void)
{
    char dir[64], copy[64], sub[96];
    wh_env *env = NULL, *env2 = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0 && wh_testdir_make(copy) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    put_one(env, "s", "k", "{\"v\":1}");
    put_one(env, "s", "k", "{\"v\":2}");
    CHECK(wh_doc_put(env, WH_SERVICES, "s", "{}", 2, 0, &ei) == LT_OK);
    wh_audit_submit(env, json_pack("{s:s}", "operation", "backup"));
    wh_audit_flush(env);
    snprintf(sub, sizeof sub, "%s/nested/dir", copy);
    CHECK(wh_backup(env, sub, &ei) == LT_OK);
    CHECK(wh_backup(env, sub, &ei) == LT_E_IO); /* never overwrites a backup */
    wh_close(env);
    CHECK(wh_open(sub, 0, &env2, &ei) == LT_OK);
    CHECK(has_record(env2, "s", "k", "{\"v\":2}"));
    char *j = NULL;
    CHECK(wh_doc_get(env2, WH_SERVICES, "s", &j, NULL) == LT_OK);
    free(j);
    uint64_t count = 0, bad = 0;
    CHECK(wh_audit_verify(env2, &count, &bad, &ei) == LT_OK && count == 1);
    lt_errinfo_clear(&ei);
    wh_close(env2);
    wh_testdir_remove(dir);
    wh_testdir_remove(copy);
}

/* The child opens its own env (never the parent's: LMDB envs do not survive fork). */
static void child_writes(const char *dir)
{
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    if (wh_open(dir, 0, &env, &ei) != LT_OK)
        _exit(2);
    wh_batch *b = NULL;
    wh_put_result res;
    int rc = wh_batch_begin(env, &b, &ei) != LT_OK ||
             wh_batch_put_record(b, "s", "child", "{}", 2, &PROV, &res, &ei) != LT_OK ||
             wh_batch_commit(b, &ei) != LT_OK;
    wh_audit_submit(env, json_pack("{s:s}", "by", "child"));
    wh_close(env);
    _exit(rc ? 3 : 0);
}

static void test_two_processes(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    put_one(env, "s", "parent", "{}");
    wh_audit_submit(env, json_pack("{s:s}", "by", "parent"));
    wh_audit_flush(env);
    pid_t pid = fork();
    if (pid == 0)
        child_writes(dir);
    int status = -1;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(has_record(env, "s", "child", "{}"));
    wh_audit_submit(env, json_pack("{s:s}", "by", "parent again"));
    wh_audit_flush(env);
    /* both processes extended one chain */
    uint64_t count = 0, bad = 0;
    CHECK(wh_audit_verify(env, &count, &bad, &ei) == LT_OK && count == 3);
    wh_read *r = NULL;
    size_t n = 0;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_count(r, "s", &n) == LT_OK && n == 2);
    wh_read_end(r);
    CHECK(wh_check_writable(env, &ei) == LT_OK);
    wh_close(env);
    wh_testdir_remove(dir);
}

typedef struct reader_arg {
    wh_env *env;
    int misses;
} reader_arg;

static void *reader_main(void *arg)
{
    reader_arg *ra = arg;
    for (int i = 0; i < 2000; i++) {
        wh_read *r = NULL;
        wh_record rec;
        if (wh_read_begin(ra->env, &r, NULL) != LT_OK) {
            ra->misses++;
            continue;
        }
        ra->misses += wh_record_get(r, "s", "parent", 0, &rec) != LT_OK;
        wh_read_end(r);
    }
    return NULL;
}

/* Pooled read handles used from many threads while another thread writes. */
static void test_concurrent_reads(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    put_one(env, "s", "parent", "{}");
    pthread_t t[4];
    reader_arg ra[4];
    for (int i = 0; i < 4; i++) {
        ra[i] = (reader_arg){env, 0};
        pthread_create(&t[i], NULL, reader_main, &ra[i]);
    }
    for (int i = 0; i < 20; i++) {
        char key[16];
        snprintf(key, sizeof key, "w%d", i);
        put_one(env, "s", key, "{}");
        wh_audit_submit(env, json_pack("{s:i}", "i", i));
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(ra[i].misses == 0);
    }
    wh_close(env);
    wh_testdir_remove(dir);
}

int main(void)
{
    LT_RUN(test_quarantine);
    LT_RUN(test_backup);
    LT_RUN(test_two_processes);
    LT_RUN(test_concurrent_reads);
    return lt_test_done();
}
