/* Records: new/changed/unchanged, revisions and history, as_of, the change feed (since),
 * paging cursors, filters, counts, errors (bad cursor, bad keys, map full), and a timing of a
 * 100,000-record batch. */
#include <stdlib.h>
#include <string.h>

#include "lt_limits.h"
#include "lt_str.h"
#include "lt_test.h"
#include "wh.h"
#include "wh_testdir.h"

static const wh_prov PROV = {"push", "m-1", "sys-a"};

static wh_env *open_env(char dir[64])
{
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 0, &env, &ei) == LT_OK);
    return env;
}

static void close_env(wh_env *env, const char *dir)
{
    wh_close(env);
    wh_testdir_remove(dir);
}

typedef struct put_case {
    const char *svc, *key, *data;
    wh_put_result want;
} put_case;

/* Puts every case in one batch each (a new time per batch) and checks the results. */
static void put_batches(wh_env *env, const put_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wh_batch *b = NULL;
        lt_errinfo ei = {0};
        wh_put_result res = WH_PUT_NEW;
        CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
        CHECK(wh_batch_put_record(b, c[i].svc, c[i].key, c[i].data, strlen(c[i].data), &PROV,
                                  &res, &ei) == LT_OK);
        CHECK_MSG(res == c[i].want, "case %zu: %d", i, (int)res);
        CHECK(wh_batch_commit(b, &ei) == LT_OK);
    }
}

static int64_t rec_time(wh_env *env, const char *svc, const char *key)
{
    wh_read *r = NULL;
    wh_record rec;
    int64_t t = -1;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    if (wh_record_get(r, svc, key, 0, &rec) == LT_OK)
        t = rec.received_at_us;
    wh_read_end(r);
    return t;
}

typedef struct hist {
    uint64_t revs[16];
    char data[16][32];
    size_t n;
} hist;

static int hist_cb(void *ctx, const wh_record *rec)
{
    hist *h = ctx;
    if (h->n < 16) {
        h->revs[h->n] = rec->rev;
        snprintf(h->data[h->n], 32, "%.*s", (int)rec->data_len, rec->data);
    }
    h->n++;
    return 0;
}

static void test_put_results(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const put_case cases[] = {
        {"svc", "k1", "{\"v\":1}", WH_PUT_NEW},       {"svc", "k1", "{\"v\":1}", WH_PUT_UNCHANGED},
        {"svc", "k1", "{\"v\":2}", WH_PUT_CHANGED},   {"svc", "k1", "{\"v\":1}", WH_PUT_CHANGED},
        {"svc", "k2", "{\"v\":1}", WH_PUT_NEW},       {"svc2", "k1", "{\"v\":1}", WH_PUT_NEW},
        {"svc", "k1", "{\"v\":1}", WH_PUT_UNCHANGED},
    };
    put_batches(env, cases, sizeof cases / sizeof cases[0]);
    wh_read *r = NULL;
    wh_record rec;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_get(r, "svc", "k1", 0, &rec) == LT_OK);
    CHECK(rec.rev == 3);
    CHECK_STR(rec.key, "k1");
    CHECK_STR(rec.source, "push");
    CHECK_STR(rec.message_id, "m-1");
    CHECK_STR(rec.system, "sys-a");
    CHECK(rec.data_len == 7 && memcmp(rec.data, "{\"v\":1}", 7) == 0);
    CHECK(wh_record_get(r, "svc", "k3", 0, &rec) == LT_E_NOT_FOUND);
    CHECK(wh_record_get(r, "sv", "k1", 0, &rec) == LT_E_NOT_FOUND);
    hist h = {0};
    CHECK(wh_record_history(r, "svc", "k1", hist_cb, &h) == LT_OK);
    CHECK(h.n == 3 && h.revs[0] == 1 && h.revs[1] == 2 && h.revs[2] == 3);
    CHECK_STR(h.data[1], "{\"v\":2}");
    hist h2 = {0};
    CHECK(wh_record_history(r, "svc", "k", hist_cb, &h2) == LT_E_NOT_FOUND);
    size_t n = 0;
    CHECK(wh_record_count(r, "svc", &n) == LT_OK && n == 2);
    CHECK(wh_record_count(r, "svc2", &n) == LT_OK && n == 1);
    CHECK(wh_record_count(r, "none", &n) == LT_OK && n == 0);
    wh_read_end(r);
    close_env(env, dir);
}

static void test_as_of(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const put_case cases[] = {
        {"s", "a", "1", WH_PUT_NEW}, {"s", "a", "2", WH_PUT_CHANGED},
        {"s", "b", "1", WH_PUT_NEW}, {"s", "a", "3", WH_PUT_CHANGED},
    };
    int64_t t[4];
    for (size_t i = 0; i < 4; i++) {
        put_batches(env, &cases[i], 1);
        t[i] = rec_time(env, "s", cases[i].key);
    }
    CHECK(t[0] < t[1] && t[1] < t[2] && t[2] < t[3]);
    static const struct {
        int ti;
        int64_t delta;
        const char *key, *want; /* NULL: not found */
    } q[] = {
        {0, -1, "a", NULL}, {0, 0, "a", "1"}, {1, -1, "a", "1"}, {1, 0, "a", "2"},
        {2, 0, "a", "2"},   {3, 0, "a", "3"}, {1, 0, "b", NULL}, {2, 0, "b", "1"},
    };
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        wh_record rec;
        lt_err e = wh_record_get(r, "s", q[i].key, t[q[i].ti] + q[i].delta, &rec);
        if (!q[i].want) {
            CHECK_MSG(e == LT_E_NOT_FOUND, "case %zu", i);
            continue;
        }
        CHECK_MSG(e == LT_OK && rec.data_len == 1 && rec.data[0] == q[i].want[0], "case %zu", i);
        CHECK_STR(rec.key, q[i].key);
    }
    /* a scan as of t[1] sees a at its second value and skips b, born later */
    hist h = {0};
    char next[WH_CURSOR_MAX];
    wh_scan o = {.as_of_us = t[1], .limit = 10};
    CHECK(wh_record_scan(r, "s", &o, hist_cb, &h, next, NULL) == LT_OK);
    CHECK(h.n == 1 && h.revs[0] == 2 && next[0] == '\0');
    wh_read_end(r);
    close_env(env, dir);
}

typedef struct keys_acc {
    char (*keys)[32];
    size_t n, cap;
} keys_acc;

static int keys_cb(void *ctx, const wh_record *rec)
{
    keys_acc *a = ctx;
    if (a->n < a->cap)
        lt_strlcpy(a->keys[a->n], rec->key, 32);
    a->n++;
    return 0;
}

static void test_since(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const put_case first[] = {
        {"s", "a", "1", WH_PUT_NEW}, {"s", "b", "1", WH_PUT_NEW}, {"s", "c", "1", WH_PUT_NEW},
        {"t", "z", "1", WH_PUT_NEW},
    };
    put_batches(env, first, 4);
    int64_t since = rec_time(env, "s", "c");
    static const put_case later[] = {
        {"s", "b", "2", WH_PUT_CHANGED}, {"s", "d", "1", WH_PUT_NEW},
        {"s", "b", "3", WH_PUT_CHANGED}, {"s", "c", "1", WH_PUT_UNCHANGED},
        {"t", "z", "2", WH_PUT_CHANGED},
    };
    put_batches(env, later, 5);
    char keys[8][32];
    keys_acc a = {keys, 0, 8};
    char next[WH_CURSOR_MAX];
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    wh_scan o = {.since_us = since, .limit = 100};
    CHECK(wh_record_scan(r, "s", &o, keys_cb, &a, next, NULL) == LT_OK);
    /* change order: d was stored before b's last change; b appears once */
    CHECK(a.n == 2);
    CHECK_STR(keys[0], "d");
    CHECK_STR(keys[1], "b");
    CHECK(next[0] == '\0');
    /* since the last change: nothing */
    a.n = 0;
    o.since_us = rec_time(env, "s", "b");
    CHECK(wh_record_scan(r, "s", &o, keys_cb, &a, next, NULL) == LT_OK);
    CHECK(a.n == 0);
    /* since + as_of: as of d's time, only d had changed after `since` */
    a.n = 0;
    o.since_us = since;
    o.as_of_us = rec_time(env, "s", "d");
    CHECK(wh_record_scan(r, "s", &o, keys_cb, &a, next, NULL) == LT_OK);
    CHECK(a.n == 2); /* b's second revision is stored before d */
    wh_read_end(r);
    close_env(env, dir);
}

/* Stores n records "k0000".."k(n-1)" of service svc in one batch. */
static void put_many(wh_env *env, const char *svc, size_t n, const char *tag)
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    for (size_t i = 0; i < n; i++) {
        char key[32], data[64];
        snprintf(key, sizeof key, "k%06zu", (i * 7919) % n); /* not in key order */
        int len = snprintf(data, sizeof data, "{\"i\":%zu,\"t\":\"%s\"}", i, tag);
        wh_put_result res;
        if (wh_batch_put_record(b, svc, key, data, (size_t)len, &PROV, &res, &ei) != LT_OK) {
            CHECK_MSG(0, "put %zu: %s", i, ei.detail);
            break;
        }
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
}

/* Pages through a scan with `limit` per page; returns the keys seen in order. */
static size_t page_all(wh_env *env, const char *svc, wh_scan o, keys_acc *a, size_t *pages)
{
    char next[WH_CURSOR_MAX], cur[WH_CURSOR_MAX] = "";
    *pages = 0;
    for (;;) {
        wh_read *r = NULL;
        CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
        o.cursor = cur[0] ? cur : NULL;
        size_t before = a->n;
        lt_err e = wh_record_scan(r, svc, &o, keys_cb, a, next, NULL);
        wh_read_end(r);
        CHECK(e == LT_OK);
        CHECK(a->n - before <= o.limit);
        (*pages)++;
        if (e != LT_OK || !next[0] || *pages > 10000)
            break;
        lt_strlcpy(cur, next, sizeof cur);
    }
    return a->n;
}

static void test_cursor_paging(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    put_many(env, "aa", 5, "x"); /* neighbours on both sides must not leak in */
    put_many(env, "p", 1000, "x");
    put_many(env, "pz", 5, "x");
    static const struct {
        bool feed;
    } modes[] = {{false}, {true}};
    for (size_t m = 0; m < 2; m++) {
        char(*keys)[32] = calloc(1100, 32);
        keys_acc a = {keys, 0, 1100};
        size_t pages;
        wh_scan o = {.since_us = modes[m].feed ? 1 : 0, .limit = 7};
        CHECK(page_all(env, "p", o, &a, &pages) == 1000);
        CHECK_MSG(pages == 143, "pages %zu", pages);
        size_t bad = 0;
        for (size_t i = 0; i < 1000 && i < a.n; i++) {
            char want[32];
            /* key order, or in the feed the order of the puts (put_many's permutation) */
            snprintf(want, sizeof want, "k%06zu", modes[m].feed ? (i * 7919) % 1000 : i);
            bad += strcmp(keys[i], want) != 0;
        }
        CHECK_MSG(bad == 0, "mode %zu: %zu keys out of place", m, bad);
        free(keys);
    }
    close_env(env, dir);
}

static int filter_cb(void *ctx, const wh_record *rec)
{
    keys_acc *a = ctx;
    int last = rec->key[strlen(rec->key) - 1] - '0';
    if (last == 9 && a->n >= 3)
        return -1;
    if (last % 2)
        return 1; /* odd keys filtered out */
    return keys_cb(ctx, rec);
}

static int stop_cb(void *ctx, const wh_record *rec)
{
    (void)ctx;
    (void)rec;
    return -1;
}

static void test_filter_and_stop(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    put_many(env, "f", 20, "x");
    char keys[32][32], next[WH_CURSOR_MAX];
    keys_acc a = {keys, 0, 32};
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    wh_scan o = {.limit = 3};
    CHECK(wh_record_scan(r, "f", &o, filter_cb, &a, next, NULL) == LT_OK);
    CHECK(a.n == 3 && next[0]);
    CHECK_STR(keys[2], "k000004");
    o.cursor = next;
    char cur[WH_CURSOR_MAX];
    lt_strlcpy(cur, next, sizeof cur);
    o.cursor = cur;
    o.limit = 100;
    /* k000009 stops the scan: the cursor resumes at it */
    CHECK(wh_record_scan(r, "f", &o, filter_cb, &a, next, NULL) == LT_OK);
    CHECK(a.n == 5 && next[0]);
    CHECK_STR(keys[4], "k000008");
    a.n = 0;
    lt_strlcpy(cur, next, sizeof cur);
    CHECK(wh_record_scan(r, "f", &o, keys_cb, &a, next, NULL) == LT_OK);
    CHECK(a.n == 11 && next[0] == '\0');
    CHECK_STR(keys[0], "k000009");
    /* stopped at the very first record, in both modes: the cursor is the start bound */
    for (int feed = 0; feed < 2; feed++) {
        wh_scan f = {.since_us = feed, .limit = 5};
        a.n = 0;
        CHECK(wh_record_scan(r, "f", &f, stop_cb, &a, next, NULL) == LT_OK);
        CHECK(a.n == 0 && next[0]);
        lt_strlcpy(cur, next, sizeof cur);
        f.cursor = cur;
        CHECK(wh_record_scan(r, "f", &f, keys_cb, &a, next, NULL) == LT_OK);
        CHECK(a.n == 5 && next[0]);
    }
    wh_read_end(r);
    close_env(env, dir);
}

static void test_bad_cursor(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    put_many(env, "s", 10, "x");
    put_many(env, "t", 10, "x");
    char next[WH_CURSOR_MAX], tcur[WH_CURSOR_MAX], fcur[WH_CURSOR_MAX];
    char keys[16][32];
    keys_acc a = {keys, 0, 16};
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    wh_scan o = {.limit = 2};
    CHECK(wh_record_scan(r, "t", &o, keys_cb, &a, tcur, NULL) == LT_OK && tcur[0]);
    o.since_us = 1;
    CHECK(wh_record_scan(r, "s", &o, keys_cb, &a, fcur, NULL) == LT_OK && fcur[0]);
    char longc[WH_CURSOR_MAX + 10];
    memset(longc, 'a', sizeof longc - 1);
    longc[sizeof longc - 1] = '\0';
    o.since_us = 0;
    static const struct {
        const char *cursor;
        lt_err want;
    } cases[] = {
        {"zz", LT_E_BAD_REQUEST}, {"6b7", LT_E_BAD_REQUEST}, {"6b", LT_E_BAD_REQUEST},
        {NULL, LT_E_BAD_REQUEST}, /* another service's cursor (tcur) */
        {"", LT_E_BAD_REQUEST},   /* a feed cursor in key order (fcur) */
        {"x", LT_E_BAD_REQUEST},  /* longer than WH_CURSOR_MAX (longc) */
        {"6b7300", LT_OK},        /* 'k' + "s\0": a valid start */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_errinfo ei = {0};
        o.cursor = i == 3 ? tcur : i == 4 ? fcur : i == 5 ? longc : cases[i].cursor;
        lt_err e = wh_record_scan(r, "s", &o, keys_cb, &a, next, &ei);
        CHECK_MSG(e == cases[i].want, "case %zu: %d %s", i, (int)e, ei.detail);
    }
    wh_read_end(r);
    close_env(env, dir);
}

static void test_bad_args(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    char longkey[LT_MAX_KEY_LEN + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    static const struct {
        const char *svc, *key;
        lt_err want;
    } cases[] = {
        {"", "k", LT_E_BAD_REQUEST}, {"s", "", LT_E_BAD_REQUEST}, {"s", NULL, LT_E_BAD_REQUEST},
        {"s", "ok", LT_OK},
    };
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wh_put_result res;
        const char *key = cases[i].key ? cases[i].key : longkey;
        CHECK_MSG(wh_batch_put_record(b, cases[i].svc, key, "1", 1, NULL, &res, &ei) ==
                      cases[i].want, "case %zu", i);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    wh_read *r = NULL;
    wh_record rec;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_get(r, "s", "ok", 0, &rec) == LT_OK);
    CHECK_STR(rec.source, "");
    wh_read_end(r);
    /* abort drops everything */
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    wh_put_result res;
    CHECK(wh_batch_put_record(b, "s", "gone", "1", 1, &PROV, &res, &ei) == LT_OK);
    wh_batch_abort(b);
    wh_batch_abort(NULL);
    CHECK(rec_time(env, "s", "gone") == -1);
    lt_errinfo_clear(&ei);
    close_env(env, dir);
}

static void test_map_full(void)
{
    char dir[64];
    wh_env *env = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_testdir_make(dir) == 0);
    CHECK(wh_open(dir, 1u << 20, &env, &ei) == LT_OK);
    wh_batch *b = NULL;
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    char data[512];
    memset(data, 'x', sizeof data);
    lt_err e = LT_OK;
    for (int i = 0; i < 10000 && e == LT_OK; i++) {
        char key[32];
        snprintf(key, sizeof key, "k%d", i);
        wh_put_result res;
        e = wh_batch_put_record(b, "s", key, data, sizeof data, &PROV, &res, &ei);
    }
    CHECK(e == LT_E_STORAGE_FULL);
    CHECK(wh_batch_commit(b, &ei) == LT_E_STORAGE_FULL);
    CHECK(rec_time(env, "s", "k1") == -1); /* nothing of the failed batch */
    lt_errinfo_clear(&ei);
    close_env(env, dir);
}

static void test_bulk_timing(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const struct {
        const char *tag;
        const char *what;
    } rounds[] = {{"a", "new"}, {"a", "unchanged"}, {"b", "changed"}};
    for (size_t i = 0; i < 3; i++) {
        int64_t t0 = lt_mono_us();
        put_many(env, "bulk", 100000, rounds[i].tag);
        int64_t dt = lt_mono_us() - t0;
        fprintf(stderr, "   100000 records %s: %.1f ms (%.0f records/s)\n", rounds[i].what,
                (double)dt / 1000.0, 1e11 / (double)(dt ? dt : 1));
    }
    wh_read *r = NULL;
    size_t n = 0;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_count(r, "bulk", &n) == LT_OK && n == 100000);
    int64_t t0 = lt_mono_us();
    char keys[1][32];
    keys_acc a = {keys, 0, 1};
    char next[WH_CURSOR_MAX];
    wh_scan o = {.limit = 100000};
    CHECK(wh_record_scan(r, "bulk", &o, keys_cb, &a, next, NULL) == LT_OK && a.n == 100000);
    fprintf(stderr, "   scan 100000: %.1f ms\n", (double)(lt_mono_us() - t0) / 1000.0);
    wh_read_end(r);
    close_env(env, dir);
}

int main(void)
{
    LT_RUN(test_put_results);
    LT_RUN(test_as_of);
    LT_RUN(test_since);
    LT_RUN(test_cursor_paging);
    LT_RUN(test_filter_and_stop);
    LT_RUN(test_bad_cursor);
    LT_RUN(test_bad_args);
    LT_RUN(test_map_full);
    LT_RUN(test_bulk_timing);
    return lt_test_done();
}
