/* Registry documents: put/get/del round trips, WH_NOOVERWRITE, listing with after/limit. */
#include <stdlib.h>
#include <string.h>

#include "lt_test.h"
#include "wh.h"
#include "wh_testdir.h"

typedef struct list_acc {
    char ids[64][32];
    size_t n;
    size_t stop_at; /* 0 = never */
} list_acc;

static int collect(void *ctx, const char *id, const char *json, size_t len)
{
    list_acc *a = ctx;
    (void)json;
    (void)len;
    if (a->n < 64)
        lt_strlcpy(a->ids[a->n], id, sizeof a->ids[0]);
    a->n++;
    return a->stop_at && a->n >= a->stop_at;
}

static void test_roundtrip(void)
{
    char dir[64];
    CHECK(wh_testdir_make(dir) == 0);
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    static const struct {
        wh_kind kind;
        const char *id, *json;
    } docs[] = {
        {WH_AGENCIES, "000.00.15.H32", "{\"code\":\"000.00.15.H32\",\"name\":\"Sở Tài chính\"}"},
        {WH_SERVICES, "stc-thu-ngan-sach", "{\"id\":\"stc-thu-ngan-sach\"}"},
        {WH_GRANTS, "g-1", "{\"id\":\"g-1\",\"fields\":[]}"},
        {WH_META, "schema", "{\"v\":1}"},
        /* same id in another kind is another document */
        {WH_SYSTEMS, "stc-thu-ngan-sach", "{\"sys\":true}"},
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
        CHECK(wh_doc_put(env, docs[i].kind, docs[i].id, docs[i].json, strlen(docs[i].json), 0,
                         &ei) == LT_OK);
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        char *j = NULL;
        size_t len = 0;
        CHECK(wh_doc_get(env, docs[i].kind, docs[i].id, &j, &len) == LT_OK);
        CHECK_STR(j, docs[i].json);
        CHECK(len == strlen(docs[i].json));
        free(j);
    }
    char *j = NULL;
    CHECK(wh_doc_get(env, WH_CONTRACTS, "none", &j, NULL) == LT_E_NOT_FOUND);
    CHECK(j == NULL);
    CHECK(wh_doc_put(env, WH_CONTRACTS, "", "{}", 2, 0, &ei) == LT_E_BAD_REQUEST);
    lt_errinfo_clear(&ei);
    wh_close(env);
    wh_testdir_remove(dir);
}

static void test_overwrite_and_delete(void)
{
    char dir[64];
    CHECK(wh_testdir_make(dir) == 0);
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    CHECK(wh_doc_put(env, WH_REQUESTS, "r-1", "{\"a\":1}", 7, WH_NOOVERWRITE, &ei) == LT_OK);
    CHECK(wh_doc_put(env, WH_REQUESTS, "r-1", "{\"a\":2}", 7, WH_NOOVERWRITE, &ei) ==
          LT_E_CONFLICT);
    CHECK(ei.code == LT_E_CONFLICT);
    char *j = NULL;
    CHECK(wh_doc_get(env, WH_REQUESTS, "r-1", &j, NULL) == LT_OK);
    CHECK_STR(j, "{\"a\":1}");
    free(j);
    CHECK(wh_doc_put(env, WH_REQUESTS, "r-1", "{\"a\":3}", 7, 0, &ei) == LT_OK);
    CHECK(wh_doc_get(env, WH_REQUESTS, "r-1", &j, NULL) == LT_OK);
    CHECK_STR(j, "{\"a\":3}");
    free(j);
    CHECK(wh_doc_del(env, WH_REQUESTS, "r-1", &ei) == LT_OK);
    CHECK(wh_doc_get(env, WH_REQUESTS, "r-1", &j, NULL) == LT_E_NOT_FOUND);
    CHECK(wh_doc_del(env, WH_REQUESTS, "r-1", &ei) == LT_E_NOT_FOUND);
    lt_errinfo_clear(&ei);
    wh_close(env);
    wh_testdir_remove(dir);
}

static void test_list(void)
{
    char dir[64];
    CHECK(wh_testdir_make(dir) == 0);
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    /* "a" is a prefix of "ab": the NUL terminator keeps id order */
    const char *ids[] = {"b", "ab", "a", "c", "a0"};
    for (size_t i = 0; i < 5; i++)
        CHECK(wh_doc_put(env, WH_CODELISTS, ids[i], "{}", 2, 0, &ei) == LT_OK);
    CHECK(wh_doc_put(env, WH_CONTRACTS, "zz", "{}", 2, 0, &ei) == LT_OK);
    static const struct {
        const char *after;
        size_t limit, stop_at, n;
        const char *first, *last;
    } cases[] = {
        {NULL, 0, 0, 5, "a", "c"},  {NULL, 2, 0, 2, "a", "a0"}, {"a0", 0, 0, 3, "ab", "c"},
        {"aa", 0, 0, 3, "ab", "c"}, {"c", 0, 0, 0, NULL, NULL}, {NULL, 0, 3, 3, "a", "ab"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        list_acc a = {.stop_at = cases[i].stop_at};
        CHECK(wh_doc_list(env, WH_CODELISTS, cases[i].after, cases[i].limit, collect, &a) ==
              LT_OK);
        CHECK_MSG(a.n == cases[i].n, "case %zu: %zu", i, a.n);
        if (cases[i].n && a.n == cases[i].n) {
            CHECK_STR(a.ids[0], cases[i].first);
            CHECK_STR(a.ids[a.n - 1], cases[i].last);
        }
    }
    lt_errinfo_clear(&ei);
    wh_close(env);
    wh_testdir_remove(dir);
}

static void test_reopen(void)
{
    char dir[64];
    CHECK(wh_testdir_make(dir) == 0);
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    CHECK(wh_doc_put(env, WH_INDICATORS, "POP", "{\"code\":\"POP\"}", 14, 0, &ei) == LT_OK);
    wh_close(env);
    wh_close(NULL);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    char *j = NULL;
    CHECK(wh_doc_get(env, WH_INDICATORS, "POP", &j, NULL) == LT_OK);
    CHECK_STR(j, "{\"code\":\"POP\"}");
    free(j);
    CHECK(wh_check_writable(env, &ei) == LT_OK);
    wh_close(env);
    wh_testdir_remove(dir);
}

/* Several documents in one transaction: all or none. */
static void test_put_many(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    wh_doc_write ok[] = {{WH_REQUESTS, "req-1", "{\"state\":\"approved\"}", 20, 0},
                         {WH_GRANTS, "g-1", "{\"request\":\"req-1\"}", 19, WH_NOOVERWRITE}};
    CHECK(wh_doc_put_many(env, ok, 2, &ei) == LT_OK);
    /* the grant id exists: nothing of the second set is written, the request keeps its state */
    wh_doc_write clash[] = {{WH_REQUESTS, "req-1", "{\"state\":\"twice\"}", 17, 0},
                            {WH_GRANTS, "g-1", "{}", 2, WH_NOOVERWRITE}};
    CHECK(wh_doc_put_many(env, clash, 2, &ei) == LT_E_CONFLICT);
    char *json = NULL;
    size_t len = 0;
    CHECK(wh_doc_get(env, WH_REQUESTS, "req-1", &json, &len) == LT_OK);
    CHECK(json && len == 20 && memcmp(json, "{\"state\":\"approved\"}", 20) == 0);
    free(json);
    CHECK(wh_doc_get(env, WH_GRANTS, "g-1", &json, &len) == LT_OK && len == 19);
    free(json);
    wh_doc_write bad[] = {{WH_KIND_COUNT, "x", "{}", 2, 0}};
    CHECK(wh_doc_put_many(env, bad, 1, &ei) == LT_E_INTERNAL);
    lt_errinfo_clear(&ei);
    wh_close(env);
    wh_testdir_remove(dir);
}

int main(void)
{
    LT_RUN(test_roundtrip);
    LT_RUN(test_overwrite_and_delete);
    LT_RUN(test_list);
    LT_RUN(test_reopen);
    LT_RUN(test_put_many);
    return lt_test_done();
}
