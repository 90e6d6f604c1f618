/* The observations index: put with records in one batch, scans (all, by indicator, by
 * indicator and area, stopping early), replacement on a new revision, abort, null values,
 * UTF-8 strings, counts, dropping a service, bad arguments and the no-record case. */
#include <stdlib.h>
#include <string.h>

#include "lt_limits.h"
#include "lt_str.h"
#include "lt_test.h"
#include "wh.h"
#include "wh_testdir.h"

static const wh_prov PROV = {"push", "m-1", "sys-a"};

/* ct_period_sortkey layout (rank << 32 | year << 16 | n << 8 | day): the warehouse only
 * stores the number, so the test builds it by hand. */
#define PK_YEAR(y) (((uint64_t)1 << 32) | ((uint64_t)(y) << 16))
#define PK_QUARTER(y, q) (((uint64_t)3 << 32) | ((uint64_t)(y) << 16) | ((uint64_t)(q) << 8))
#define PK_MONTH(y, m) (((uint64_t)4 << 32) | ((uint64_t)(y) << 16) | ((uint64_t)(m) << 8))

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

typedef struct obs_case {
    const char *svc, *ind, *area, *period;
    uint64_t pk;
    int has_value;
    double value;
    const char *status, *unit;
} obs_case;

/* Record key as the indicator-observation contract builds it: indicator~area~period. */
static void rec_key(const obs_case *c, char *out, size_t size)
{
    snprintf(out, size, "%s~%s~%s", c->ind, c->area, c->period);
}

/* Puts each case's record (data varies with `data`) and its index entry in one batch. */
static lt_err put_all(wh_env *env, const obs_case *c, size_t n, const char *data,
                      const wh_prov *prov, bool commit)
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    lt_err e = wh_batch_begin(env, &b, &ei);
    for (size_t i = 0; i < n && !e; i++) {
        char key[LT_MAX_KEY_LEN + 1];
        rec_key(&c[i], key, sizeof key);
        wh_put_result res;
        e = wh_batch_put_record(b, c[i].svc, key, data, strlen(data), prov, &res, &ei);
        wh_obs o = {.indicator = c[i].ind, .area = c[i].area, .service = c[i].svc,
                    .period_key = c[i].pk, .period = c[i].period, .key = key,
                    .has_value = c[i].has_value, .value = c[i].value, .status = c[i].status,
                    .unit = c[i].unit, .rev = 99, .source = "ignored"};
        if (!e)
            e = wh_batch_obs_put(b, &o, &ei);
    }
    if (e || !commit) {
        wh_batch_abort(b);
        return e;
    }
    return wh_batch_commit(b, &ei);
}

/* What a scan saw: copies, since the strings only live as long as the read. */
typedef struct seen {
    char line[32][200];
    uint64_t rev[32];
    int64_t at[32];
    size_t n, stop_after; /* stop_after 0 = take all */
} seen;

static int seen_cb(void *ctx, const wh_obs *o)
{
    seen *s = ctx;
    if (s->n < 32) {
        char v[32] = "null";
        if (o->has_value)
            snprintf(v, sizeof v, "%g", o->value);
        snprintf(s->line[s->n], sizeof s->line[0], "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s",
                 o->indicator, o->area, o->period, o->service, o->key, v, o->status, o->unit,
                 o->source, o->message_id);
        s->rev[s->n] = o->rev;
        s->at[s->n] = o->received_at_us;
    }
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static seen scan(wh_env *env, const char *ind, const char *area, size_t stop_after)
{
    seen s = {.stop_after = stop_after};
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_obs_scan(r, ind, area, seen_cb, &s) == LT_OK);
    wh_read_end(r);
    return s;
}

static size_t count(wh_env *env)
{
    size_t n = 99;
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_obs_count(r, &n) == LT_OK);
    wh_read_end(r);
    return n;
}

/* Given out of order on purpose: the index sorts by indicator, area, period, service. */
static const obs_case CASES[] = {
    {"cts", "CPI", "20", "2026-M08", PK_MONTH(2026, 8), 1, 103.5, "ok", "%"},
    {"cts", "CPI", "20", "2026-M07", PK_MONTH(2026, 7), 1, 103.25, "ok", "%"},
    {"cts", "T0501", "20", "2026-Q3", PK_QUARTER(2026, 3), 1, 13254.5, "ok", "tỷ đồng"},
    {"stc", "CPI", "20", "2026-M07", PK_MONTH(2026, 7), 1, 103.3, "ok", "%"},
    {"cts", "CPI", "20", "2025", PK_YEAR(2025), 0, 0, "no_data", ""},
    {"cts", "CPI", "20001", "2026-M07", PK_MONTH(2026, 7), 1, -1.5, "", ""},
    {"cts", "CP", "20", "2026-M07", PK_MONTH(2026, 7), 1, 1, "ok", ""},
    {"cts", "CPI", "2", "2026-M07", PK_MONTH(2026, 7), 1, 2, "ok", ""},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

static void test_put_and_scan(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(count(env) == 0);
    seen s = scan(env, NULL, NULL, 0);
    CHECK(s.n == 0);
    CHECK(put_all(env, CASES, NCASES, "{\"v\":1}", &PROV, true) == LT_OK);
    CHECK(count(env) == NCASES);
    s = scan(env, NULL, NULL, 0);
    static const char *const all[] = {
        "CP|20|2026-M07|cts|CP~20~2026-M07|1|ok||push|m-1",
        "CPI|2|2026-M07|cts|CPI~2~2026-M07|2|ok||push|m-1",
        "CPI|20|2025|cts|CPI~20~2025|null|no_data||push|m-1",
        "CPI|20|2026-M07|cts|CPI~20~2026-M07|103.25|ok|%|push|m-1",
        "CPI|20|2026-M07|stc|CPI~20~2026-M07|103.3|ok|%|push|m-1",
        "CPI|20|2026-M08|cts|CPI~20~2026-M08|103.5|ok|%|push|m-1",
        "CPI|20001|2026-M07|cts|CPI~20001~2026-M07|-1.5|||push|m-1",
        "T0501|20|2026-Q3|cts|T0501~20~2026-Q3|13254.5|ok|tỷ đồng|push|m-1",
    };
    CHECK(s.n == NCASES);
    for (size_t i = 0; i < NCASES && i < s.n; i++) {
        const char *got = s.line[i];
        CHECK_STR(got, all[i]);
        CHECK(s.rev[i] == 1); /* from the record, not the 99 the caller passed */
    }
    /* by indicator: "CP" must not match "CPI" entries */
    s = scan(env, "CP", NULL, 0);
    CHECK(s.n == 1);
    s = scan(env, "CPI", NULL, 0);
    CHECK(s.n == 6);
    /* by indicator and area: "2" must not match "20" or "20001" */
    s = scan(env, "CPI", "2", 0);
    CHECK(s.n == 1);
    s = scan(env, "CPI", "20", 0);
    CHECK(s.n == 4);
    if (s.n == 4) {
        const char *first = s.line[0], *last = s.line[3];
        CHECK_STR(first, all[2]);
        CHECK_STR(last, all[5]);
    }
    s = scan(env, "CPI", "20001", 0);
    CHECK(s.n == 1);
    s = scan(env, "GRDP", NULL, 0);
    CHECK(s.n == 0);
    s = scan(env, "CPI", "99", 0);
    CHECK(s.n == 0);
    /* an area without an indicator is ignored: the whole index */
    s = scan(env, NULL, "20", 0);
    CHECK(s.n == NCASES);
    /* codes that cannot be in a key find nothing */
    s = scan(env, "CPI\x1f" "20", NULL, 0);
    CHECK(s.n == 0);
    s = scan(env, "", NULL, 0);
    CHECK(s.n == 0);
    close_env(env, dir);
}

static void test_stop_early(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(put_all(env, CASES, NCASES, "{}", &PROV, true) == LT_OK);
    seen s = scan(env, NULL, NULL, 3);
    CHECK(s.n == 3);
    s = scan(env, "CPI", "20", 1);
    CHECK(s.n == 1);
    close_env(env, dir);
}

static void test_replace_on_new_revision(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(put_all(env, CASES, 2, "{\"v\":1}", &PROV, true) == LT_OK);
    obs_case changed = CASES[1];
    changed.value = 104;
    changed.status = "estimate";
    wh_prov p2 = {"pull", "run-7", NULL};
    CHECK(put_all(env, &changed, 1, "{\"v\":2}", &p2, true) == LT_OK);
    CHECK(count(env) == 2);
    seen s = scan(env, "CPI", "20", 0);
    CHECK(s.n == 2);
    if (s.n == 2) {
        const char *got = s.line[0];
        CHECK_STR(got, "CPI|20|2026-M07|cts|CPI~20~2026-M07|104|estimate|%|pull|run-7");
        CHECK(s.rev[0] == 2);
        CHECK(s.rev[1] == 1);
    }
    /* the entry's received_at is the record revision's */
    wh_read *r = NULL;
    wh_record rec;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_get(r, "cts", "CPI~20~2026-M07", 0, &rec) == LT_OK);
    CHECK(rec.rev == 2 && s.at[0] == rec.received_at_us);
    CHECK(wh_record_get(r, "cts", "CPI~20~2026-M08", 0, &rec) == LT_OK);
    CHECK(rec.rev == 1 && s.at[1] == rec.received_at_us && s.at[1] < s.at[0]);
    wh_read_end(r);
    close_env(env, dir);
}

static void test_abort_drops_both(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(put_all(env, CASES, 1, "{\"v\":1}", &PROV, true) == LT_OK);
    obs_case more[2] = {CASES[0], CASES[1]};
    more[0].value = 1;
    CHECK(put_all(env, more, 2, "{\"v\":2}", &PROV, false) == LT_OK); /* aborted */
    CHECK(count(env) == 1);
    seen s = scan(env, NULL, NULL, 0);
    CHECK(s.n == 1 && s.rev[0] == 1);
    if (s.n == 1) {
        const char *got = s.line[0];
        CHECK_STR(got, "CPI|20|2026-M08|cts|CPI~20~2026-M08|103.5|ok|%|push|m-1");
    }
    wh_read *r = NULL;
    wh_record rec;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_get(r, "cts", "CPI~20~2026-M07", 0, &rec) == LT_E_NOT_FOUND);
    CHECK(wh_record_get(r, "cts", "CPI~20~2026-M08", 0, &rec) == LT_OK && rec.rev == 1);
    wh_read_end(r);
    close_env(env, dir);
}

/* Values come back bit for bit; a null value has has_value 0 and value 0. */
typedef struct val_acc {
    int has[8];
    double v[8];
    uint64_t pk[8];
    size_t n;
} val_acc;

static int val_cb(void *ctx, const wh_obs *o)
{
    val_acc *a = ctx;
    if (a->n < 8) {
        a->has[a->n] = o->has_value;
        a->v[a->n] = o->value;
        a->pk[a->n] = o->period_key;
    }
    a->n++;
    return 0;
}

static void test_values(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const obs_case vals[] = {
        {"s", "V", "1", "2020", PK_YEAR(2020), 0, 42, "", ""}, /* null: the 42 is dropped */
        {"s", "V", "1", "2021", PK_YEAR(2021), 1, 0.1, "", ""},
        {"s", "V", "1", "2022", PK_YEAR(2022), 1, -0.0, "", ""},
        {"s", "V", "1", "2023", PK_YEAR(2023), 1, 1e300, "", ""},
        {"s", "V", "1", "2024", PK_YEAR(2024), 1, -123456789.125, "", ""},
        {"s", "V", "1", "2025", PK_YEAR(2025), 1, 0, "", ""},
    };
    CHECK(put_all(env, vals, 6, "{}", &PROV, true) == LT_OK);
    val_acc a = {0};
    wh_read *r = NULL;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_obs_scan(r, "V", "1", val_cb, &a) == LT_OK);
    wh_read_end(r);
    CHECK(a.n == 6);
    for (size_t i = 0; i < 6 && i < a.n; i++) {
        CHECK_MSG(a.has[i] == vals[i].has_value, "case %zu", i);
        double want = vals[i].has_value ? vals[i].value : 0.0;
        CHECK_MSG(memcmp(&a.v[i], &want, sizeof want) == 0, "case %zu: %g", i, a.v[i]);
        CHECK(a.pk[i] == vals[i].pk);
    }
    close_env(env, dir);
}

static void test_drop_service(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    lt_errinfo ei = {0};
    CHECK(put_all(env, CASES, NCASES, "{}", &PROV, true) == LT_OK);
    CHECK(wh_obs_drop_service(env, "none", &ei) == LT_OK);
    CHECK(count(env) == NCASES);
    CHECK(wh_obs_drop_service(env, "cts", &ei) == LT_OK);
    seen s = scan(env, NULL, NULL, 0);
    CHECK(s.n == 1);
    if (s.n == 1) {
        const char *got = s.line[0];
        CHECK_STR(got, "CPI|20|2026-M07|stc|CPI~20~2026-M07|103.3|ok|%|push|m-1");
    }
    /* "stc" is not a suffix match for a service "tc" */
    CHECK(wh_obs_drop_service(env, "tc", &ei) == LT_OK);
    CHECK(count(env) == 1);
    CHECK(wh_obs_drop_service(env, "stc", &ei) == LT_OK);
    CHECK(count(env) == 0);
    CHECK(wh_obs_drop_service(env, "stc", &ei) == LT_OK); /* empty index */
    CHECK(wh_obs_drop_service(env, "", &ei) == LT_E_BAD_REQUEST);
    CHECK(wh_obs_drop_service(env, NULL, &ei) == LT_E_BAD_REQUEST);
    CHECK(wh_obs_drop_service(env, "a\x1f" "b", &ei) == LT_E_BAD_REQUEST);
    /* the records stay: only the index is dropped */
    wh_read *r = NULL;
    size_t n = 0;
    CHECK(wh_read_begin(env, &r, NULL) == LT_OK);
    CHECK(wh_record_count(r, "cts", &n) == LT_OK && n == NCASES - 1);
    wh_read_end(r);
    lt_errinfo_clear(&ei);
    close_env(env, dir);
}

/* Thousands of entries of three services interleaved, so deletes cross page boundaries and
 * runs of one service's entries are deleted back to back. */
static void test_drop_many(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    static const char *const svcs[] = {"a", "b", "c"};
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    size_t want_b = 0;
    for (int i = 0; i < 6000; i++) {
        char area[16], key[64], period[16];
        snprintf(area, sizeof area, "A%04d", i / 3);
        const char *svc = svcs[(i * 7 / 5) % 3];
        want_b += svc[0] == 'b';
        snprintf(period, sizeof period, "%d", 2000 + i % 3);
        snprintf(key, sizeof key, "IND~%s~%s", area, period);
        wh_put_result res;
        CHECK(wh_batch_put_record(b, svc, key, "{}", 2, &PROV, &res, &ei) == LT_OK);
        wh_obs o = {.indicator = "IND", .area = area, .service = svc, .key = key,
                    .period = period, .period_key = PK_YEAR(2000 + i % 3), .has_value = 1,
                    .value = i};
        CHECK(wh_batch_obs_put(b, &o, &ei) == LT_OK);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    CHECK(count(env) == 6000);
    CHECK(wh_obs_drop_service(env, "a", &ei) == LT_OK);
    CHECK(wh_obs_drop_service(env, "c", &ei) == LT_OK);
    CHECK(count(env) == want_b);
    seen s = scan(env, NULL, NULL, 0);
    CHECK(s.n == want_b);
    CHECK(wh_obs_drop_service(env, "b", &ei) == LT_OK);
    CHECK(count(env) == 0);
    lt_errinfo_clear(&ei);
    close_env(env, dir);
}

static void test_errors(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    wh_put_result res;
    char long_id[LT_MAX_ID_LEN + 2], long_text[600];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    memset(long_text, 'u', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    CHECK(wh_batch_put_record(b, "s", "k", "{}", 2, &PROV, &res, &ei) == LT_OK);
    const wh_obs good = {.indicator = "I", .area = "A", .service = "s", .key = "k",
                         .period = "2025", .period_key = PK_YEAR(2025)};
    const struct {
        int field;
        const char *val;
    } bad[] = {
        {0, NULL}, {0, ""}, {0, "I\x1f"}, {1, NULL}, {1, ""}, {1, "\x1f"}, {2, NULL}, {2, ""},
        {3, NULL}, {3, ""}, {4, NULL}, {4, ""}, {0, long_id}, {1, long_id}, {2, long_id},
        {5, long_text}, {6, long_text}, {4, long_text},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        wh_obs o = good;
        const char **f[] = {&o.indicator, &o.area, &o.service, &o.key, &o.period, &o.status,
                            &o.unit};
        *f[bad[i].field] = bad[i].val;
        CHECK_MSG(wh_batch_obs_put(b, &o, &ei) == LT_E_BAD_REQUEST, "case %zu", i);
    }
    /* no record under that key (or service): not found, and the batch goes on */
    wh_obs o = good;
    o.key = "other";
    CHECK(wh_batch_obs_put(b, &o, &ei) == LT_E_NOT_FOUND);
    o = good;
    o.service = "t";
    CHECK(wh_batch_obs_put(b, &o, &ei) == LT_E_NOT_FOUND);
    CHECK(wh_batch_obs_put(b, &good, &ei) == LT_OK);
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    CHECK(count(env) == 1);
    /* NULL status and unit read back as "" */
    seen s = scan(env, "I", "A", 0);
    CHECK(s.n == 1);
    if (s.n == 1) {
        const char *got = s.line[0];
        CHECK_STR(got, "I|A|2025|s|k|null|||push|m-1");
    }
    lt_errinfo_clear(&ei);
    close_env(env, dir);
}

/* Entries put after all the records of a batch, in another order: each takes its own
 * record's revision and provenance (not the last record written). */
static void test_put_after_records(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(put_all(env, CASES, 3, "{\"v\":1}", &PROV, true) == LT_OK);
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    wh_put_result res;
    wh_prov p2 = {"pull", "run-2", NULL};
    char keys[3][LT_MAX_KEY_LEN + 1];
    CHECK(wh_batch_begin(env, &b, &ei) == LT_OK);
    for (size_t i = 0; i < 3; i++) {
        rec_key(&CASES[i], keys[i], sizeof keys[i]);
        const char *data = i == 1 ? "{\"v\":2}" : "{\"v\":1}"; /* only the second changes */
        CHECK(wh_batch_put_record(b, CASES[i].svc, keys[i], data, strlen(data), &p2, &res,
                                  &ei) == LT_OK);
    }
    for (size_t j = 3; j-- > 0;) {
        wh_obs o = {.indicator = CASES[j].ind, .area = CASES[j].area, .service = CASES[j].svc,
                    .period_key = CASES[j].pk, .period = CASES[j].period, .key = keys[j],
                    .has_value = 1, .value = (double)j};
        CHECK(wh_batch_obs_put(b, &o, &ei) == LT_OK);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    seen s = scan(env, NULL, NULL, 0);
    static const char *const want[] = {
        "CPI|20|2026-M07|cts|CPI~20~2026-M07|1|||pull|run-2",
        "CPI|20|2026-M08|cts|CPI~20~2026-M08|0|||push|m-1",
        "T0501|20|2026-Q3|cts|T0501~20~2026-Q3|2|||push|m-1",
    };
    CHECK(s.n == 3);
    for (size_t i = 0; i < 3 && i < s.n; i++) {
        const char *got = s.line[i];
        CHECK_STR(got, want[i]);
        CHECK(s.rev[i] == (i == 0 ? 2u : 1u));
    }
    close_env(env, dir);
}

/* Unknown provenance is "" in the entry, like in the record. */
static void test_no_provenance(void)
{
    char dir[64];
    wh_env *env = open_env(dir);
    CHECK(put_all(env, CASES, 1, "{}", NULL, true) == LT_OK);
    seen s = scan(env, NULL, NULL, 0);
    CHECK(s.n == 1);
    if (s.n == 1) {
        const char *got = s.line[0];
        CHECK_STR(got, "CPI|20|2026-M08|cts|CPI~20~2026-M08|103.5|ok|%||");
    }
    close_env(env, dir);
}

int main(void)
{
    LT_RUN(test_put_and_scan);
    LT_RUN(test_stop_early);
    LT_RUN(test_replace_on_new_revision);
    LT_RUN(test_abort_drops_both);
    LT_RUN(test_values);
    LT_RUN(test_drop_service);
    LT_RUN(test_drop_many);
    LT_RUN(test_errors);
    LT_RUN(test_no_provenance);
    LT_RUN(test_put_after_records);
    return lt_test_done();
}
