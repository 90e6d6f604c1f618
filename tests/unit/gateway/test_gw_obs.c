/* gw_obs_run on a real warehouse and registry (examples/lang-son bootstrapped into a temporary
 * folder): key order, filters, one value per observation (the indicator's agency first, else
 * the latest stored), commune-to-province aggregation by sum / mean / weighted_mean with a
 * province's own value winning, level=commune, latest across frequencies, first/last N,
 * as_of and updated_after, the cap, and gw_obs_sources for the operator. */
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gw_obs.h"
#include "lt_json.h"
#include "lt_str.h"
#include "lt_test.h"

#define CTS "cts-chi-tieu-kte-xh" /* provider 000.00.31.H32 (statistics) */
#define STC "stc-thu-ngan-sach"   /* provider 000.00.15.H32 (finance) */

static char dir[64];

/* An array as a pointer, for CHECK_STR. */
static const char *S(const char *s)
{
    return s;
}
static gw_ctx ctx;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void)
{
    lt_errinfo ei = {0};
    int n = snprintf(dir, sizeof dir, "/tmp/gw-obs-test-");
    memset(dir + n, 'X', 6);
    dir[n + 6] = '\0';
    if (!mkdtemp(dir) || wh_open(dir, 64u << 20, &ctx.wh, &ei) || rg_open(ctx.wh, &ctx.rg, &ei) ||
        rg_bootstrap(ctx.rg, "examples/lang-son", false, &ei)) {
        fprintf(stderr, "setup: %s\n", ei.detail);
        lt_errinfo_clear(&ei);
        return -1;
    }
    return 0;
}

static void teardown(void)
{
    rg_close(ctx.rg);
    wh_close(ctx.wh);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* One record (indicator, area, period, value or NAN for null, unit) into its service and the
 * index, in its own transaction. */
typedef struct rec {
    const char *service, *indicator, *area, *period;
    double value;
    const char *status;
} rec;

static void store(const rec *r, size_t n)
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(ctx.wh, &b, &ei) == LT_OK);
    for (size_t i = 0; b && i < n; i++) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s}", "indicator", r[i].indicator, "area",
                              r[i].area, "period", r[i].period, "value",
                              isnan(r[i].value) ? json_null() : json_real(r[i].value), "status",
                              r[i].status ? r[i].status : "ok", "unit", "u");
        size_t len;
        char *text = lt_json_canonical(j, &len), key[200];
        snprintf(key, sizeof key, "%s~%s~%s", r[i].indicator, r[i].area, r[i].period);
        wh_prov prov = {"push", "m-test", "sys"};
        wh_put_result res;
        wh_obs o;
        CHECK(wh_batch_put_record(b, r[i].service, key, text, len, &prov, &res, &ei) == LT_OK);
        CHECK(gw_obs_from_record(j, r[i].service, key, &o));
        CHECK(wh_batch_obs_put(b, &o, &ei) == LT_OK);
        free(text);
        json_decref(j);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    lt_errinfo_clear(&ei);
    usleep(2000); /* distinct received_at between stores */
}

static void req_init(gw_req *r)
{
    memset(r, 0, sizeof *r);
    r->ctx = &ctx;
    r->arena = lt_arena_new(16u << 20);
    r->authed = true;
    r->who.roles = GW_ROLE_ADMIN;
    snprintf(r->who.org, sizeof r->who.org, "000.00.12.H32");
    lt_buf_init(&r->out, 0);
}

static void req_done(gw_req *r)
{
    lt_buf_free(&r->out);
    lt_errinfo_clear(&r->ei);
    lt_arena_free(r->arena);
}

/* Runs q and renders the result as "IND/AREA/PERIOD=VALUE[:parts]" joined by spaces. */
static lt_err run(const gw_obs_query *q, char *out, size_t size)
{
    gw_req r;
    gw_obs_set s;
    req_init(&r);
    lt_err e = gw_obs_run(&r, q, &s);
    size_t k = 0;
    out[0] = '\0';
    for (size_t i = 0; !e && i < s.n && k < size; i++) {
        const gw_obs *o = &s.items[i];
        char v[32] = "null";
        if (o->has_value)
            snprintf(v, sizeof v, "%g", o->value);
        k += (size_t)snprintf(out + k, size - k, "%s%s/%s/%s=%s", i ? " " : "", o->indicator,
                              o->area, o->period, v);
        if (o->parts && k < size)
            k += (size_t)snprintf(out + k, size - k, ":%d", o->parts);
    }
    if (e)
        snprintf(out, size, "%s", r.ei.detail);
    gw_obs_set_free(&s);
    gw_obs_set_free(&s); /* idempotent */
    req_done(&r);
    return e;
}

static void test_filters_and_order(void)
{
    static const rec rs[] = {
        {CTS, "T0501", "20", "2026-Q2", 110, NULL},     {CTS, "T0501", "20", "2026-Q1", 100, NULL},
        {CTS, "T0501", "12", "2026-Q1", 50, NULL},      {CTS, "T0501", "20", "2025", 380, NULL},
        {CTS, "IIP", "20", "2026-M01", NAN, "no_data"},
    };
    store(rs, sizeof rs / sizeof rs[0]);
    char got[2048];
    static const char *const inds[] = {"T0501", "IIP", "T0501", "NOPE"};
    gw_obs_query q = {.indicators = inds, .nindicators = 4};
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "IIP/20/2026-M01=null T0501/12/2026-Q1=50 T0501/20/2025=380 "
                      "T0501/20/2026-Q1=100 T0501/20/2026-Q2=110");
    static const char *const areas[] = {"20", "99"};
    ct_period from, to;
    ct_period_parse("2026-M02", 8, &from);
    ct_period_parse("2026-S1", 7, &to);
    q = (gw_obs_query){.indicators = inds + 2,
                       .nindicators = 1,
                       .areas = areas,
                       .nareas = 2,
                       .from = &from,
                       .to = &to};
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "T0501/20/2026-Q2=110");
    q = (gw_obs_query){.areas = areas + 1, .nareas = 1};
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "");
    /* an area list without indicators: a full scan keeping those areas */
    static const char *const a12[] = {"12"};
    q = (gw_obs_query){.areas = a12, .nareas = 1};
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "T0501/12/2026-Q1=50");
}

static void test_one_value_per_observation(void)
{
    /* T0501 belongs to statistics (CTS): its value wins though finance stored later */
    static const rec a[] = {{CTS, "T0501", "04", "2026-Q1", 1, NULL},
                            {CTS, "THU_NSNN", "04", "2026-M01", 2, NULL},
                            {CTS, "CPI", "04", "2026-M01", 3, NULL}};
    static const rec b[] = {{STC, "T0501", "04", "2026-Q1", 10, NULL},
                            {STC, "THU_NSNN", "04", "2026-M01", 20, NULL}};
    static const rec c[] = {{STC, "CPI", "04", "2026-M01", 30, NULL}};
    store(a, 3);
    store(b, 2);
    store(c, 1);
    static const char *const inds[] = {"T0501", "THU_NSNN"};
    static const char *const areas[] = {"04"};
    gw_obs_query q = {.indicators = inds, .nindicators = 2, .areas = areas, .nareas = 1};
    char got[1024];
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "T0501/04/2026-Q1=1 THU_NSNN/04/2026-M01=20");
    /* CPI is statistics' too */
    static const char *const cpi[] = {"CPI"};
    q.indicators = cpi;
    q.nindicators = 1;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "CPI/04/2026-M01=3");
    /* XNK_CK belongs to a third agency: the latest stored wins */
    static const rec d[] = {{STC, "XNK_CK", "04", "2026-M01", 5, NULL}};
    static const rec e[] = {{CTS, "XNK_CK", "04", "2026-M01", 6, NULL}};
    store(d, 1);
    store(e, 1);
    static const char *const xnk[] = {"XNK_CK"};
    q.indicators = xnk;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "XNK_CK/04/2026-M01=6");
}

static void put_indicator(const char *code, const char *body)
{
    json_t *b = json_loads(body, 0, NULL), *out = NULL;
    bool created;
    lt_errinfo ei = {0};
    CHECK_MSG(rg_indicator_put(ctx.rg, code, b, &created, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(b);
    json_decref(out);
    lt_errinfo_clear(&ei);
}

static void test_province_aggregation(void)
{
    put_indicator("AGG_MEAN", "{\"name\": \"Mean\", \"aggregation\": \"mean\"}");
    put_indicator("AGG_W", "{\"name\": \"Weight\", \"aggregation\": \"sum\"}");
    put_indicator("AGG_WM", "{\"name\": \"Weighted\", \"aggregation\": \"weighted_mean\", "
                            "\"weight\": \"AGG_W\"}");
    static const rec rs[] = {
        {STC, "THU_NSNN", "05977", "2025-M01", 5, NULL},
        {STC, "THU_NSNN", "05980", "2025-M01", 7, "unknown"},
        {STC, "THU_NSNN", "05977", "2025-M02", 1, NULL},
        {STC, "THU_NSNN", "20", "2025-M02", 100, NULL}, /* its own value wins */
        {STC, "THU_NSNN", "05983", "2025-M03", NAN, NULL},
        {CTS, "AGG_MEAN", "05977", "2025", 2, NULL},
        {CTS, "AGG_MEAN", "05980", "2025", 4, NULL},
        {CTS, "AGG_MEAN", "05983", "2025", 9, NULL},
        {CTS, "AGG_WM", "05977", "2025", 10, NULL},
        {CTS, "AGG_WM", "05980", "2025", 20, NULL},
        {CTS, "AGG_WM", "05983", "2025", 99, NULL}, /* no weight: left out */
        {CTS, "AGG_W", "05977", "2025", 1, NULL},
        {CTS, "AGG_W", "05980", "2025", 3, NULL},
        {CTS, "AGG_WM", "05986", "2024", 5, NULL},    /* no weight at all: no value */
        {CTS, "CPI", "05977", "2025-M01", 101, NULL}, /* aggregation none */
    };
    store(rs, sizeof rs / sizeof rs[0]);
    static const char *const inds[] = {"THU_NSNN", "AGG_MEAN", "AGG_WM", "CPI"};
    static const char *const areas[] = {"20"};
    ct_period from;
    ct_period_parse("2024", 4, &from);
    gw_obs_query q = {.indicators = inds,
                      .nindicators = 4,
                      .areas = areas,
                      .nareas = 1,
                      .level = GW_LEVEL_PROVINCE,
                      .from = &from};
    char got[1024];
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "AGG_MEAN/20/2025=5:3 AGG_WM/20/2025=17.5:2 THU_NSNN/20/2025-M01=12:2 "
                      "THU_NSNN/20/2025-M02=100");
    /* status: the first part that is not ok; received_at: the latest part */
    gw_req r;
    gw_obs_set s;
    req_init(&r);
    q.nindicators = 1;
    CHECK(gw_obs_run(&r, &q, &s) == LT_OK);
    CHECK(s.n == 2 && strcmp(s.items[0].status, "unknown") == 0 && s.items[0].parts == 2 &&
          s.items[0].rev == 0 && strcmp(s.items[0].service, "") == 0);
    CHECK(s.n == 2 && s.items[1].parts == 0 && strcmp(s.items[1].service, STC) == 0);
    gw_obs_set_free(&s);
    req_done(&r);
    /* level=commune: only areas with a parent */
    q = (gw_obs_query){
        .indicators = inds, .nindicators = 1, .level = GW_LEVEL_COMMUNE, .from = &from};
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "THU_NSNN/05977/2025-M01=5 THU_NSNN/05977/2025-M02=1 "
                      "THU_NSNN/05980/2025-M01=7 THU_NSNN/05983/2025-M03=null");
}

static void test_latest_and_first_last(void)
{
    static const rec rs[] = {
        {CTS, "POP", "15", "2024", 1, NULL},     {CTS, "POP", "15", "2025-M06", 2, NULL},
        {CTS, "POP", "15", "2025", 3, NULL},     {CTS, "POP", "14", "2025-M01", 4, NULL},
        {CTS, "POP", "14", "2025-M02", 5, NULL}, {CTS, "POP", "14", "2025-M03", 6, NULL},
    };
    store(rs, sizeof rs / sizeof rs[0]);
    static const char *const inds[] = {"POP"};
    static const char *const areas[] = {"14", "15"};
    gw_obs_query q = {
        .indicators = inds, .nindicators = 1, .areas = areas, .nareas = 2, .latest = true};
    char got[1024];
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "POP/14/2025-M03=6 POP/15/2025=3");
    q.latest = false;
    q.first_n = 1;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "POP/14/2025-M01=4 POP/15/2024=1");
    q.first_n = 0;
    q.last_n = 2;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "POP/14/2025-M02=5 POP/14/2025-M03=6 POP/15/2025=3 POP/15/2025-M06=2");
    /* the cap counts every match, also past the stored ones */
    q.last_n = 0;
    q.max_obs = 4;
    CHECK(run(&q, got, sizeof got) == LT_E_TOO_LARGE);
    CHECK_STR(S(got), "6 observations match; the cap is 4: narrow the query");
    q.max_obs = 6;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    q.latest = true;
    q.max_obs = 1;
    CHECK(run(&q, got, sizeof got) == LT_E_TOO_LARGE);
    CHECK_STR(S(got), "2 observations match; the cap is 1: narrow the query");
}

static void test_as_of_and_updated_after(void)
{
    static const rec v1[] = {{CTS, "BLHH", "20", "2026-M01", 1, "unknown"}};
    static const rec v2[] = {{CTS, "BLHH", "20", "2026-M01", 2, NULL},
                             {CTS, "BLHH", "20", "2026-M02", 3, NULL}};
    store(v1, 1);
    int64_t between = lt_now_us();
    usleep(2000);
    store(v2, 2);
    static const char *const inds[] = {"BLHH"};
    gw_obs_query q = {.indicators = inds, .nindicators = 1};
    char got[512];
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "BLHH/20/2026-M01=2 BLHH/20/2026-M02=3");
    q.as_of_us = between;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "BLHH/20/2026-M01=1");
    gw_req r;
    gw_obs_set s;
    req_init(&r);
    CHECK(gw_obs_run(&r, &q, &s) == LT_OK);
    CHECK(s.n == 1 && s.items[0].rev == 1 && strcmp(s.items[0].status, "unknown") == 0 &&
          s.items[0].received_at_us <= between && strcmp(s.items[0].source, "push") == 0);
    gw_obs_set_free(&s);
    req_done(&r);
    q.as_of_us = 1; /* before anything */
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "");
    q.as_of_us = 0;
    q.updated_after_us = between;
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "BLHH/20/2026-M01=2 BLHH/20/2026-M02=3");
    q.updated_after_us = lt_now_us();
    CHECK(run(&q, got, sizeof got) == LT_OK);
    CHECK_STR(S(got), "");
}

static void test_sources(void)
{
    gw_req r;
    json_t *svc = NULL, *ex = NULL;
    req_init(&r);
    CHECK(gw_obs_sources(&r, &svc, &ex) == LT_OK);
    CHECK(json_array_size(svc) == 2 && json_array_size(ex) == 0);
    CHECK(lt_streq(json_string_value(json_array_get(svc, 0)), CTS));
    CHECK(lt_streq(json_string_value(json_array_get(svc, 1)), STC));
    json_decref(svc);
    json_decref(ex);
    /* an agency without services or grants reads nothing */
    r.who.roles = GW_ROLE_AGENCY;
    snprintf(r.who.org, sizeof r.who.org, "000.00.20.H32");
    snprintf(r.who.sub, sizeof r.who.sub, "nobody");
    CHECK(gw_obs_sources(&r, &svc, &ex) == LT_OK);
    CHECK(json_array_size(svc) == 0);
    json_decref(svc);
    json_decref(ex);
    /* its own services */
    snprintf(r.who.org, sizeof r.who.org, "000.00.15.H32");
    CHECK(gw_obs_sources(&r, &svc, &ex) == LT_OK);
    CHECK(json_array_size(svc) == 1 && lt_streq(json_string_value(json_array_get(svc, 0)), STC));
    json_decref(svc);
    json_decref(ex);
    gw_obs_set s;
    static const char *const inds[] = {"T0501"};
    gw_obs_query q = {.indicators = inds, .nindicators = 1};
    CHECK(gw_obs_run(&r, &q, &s) == LT_OK);
    for (size_t i = 0; i < s.n; i++)
        CHECK(strcmp(s.items[i].service, STC) == 0);
    CHECK(s.n > 0);
    gw_obs_set_free(&s);
    req_done(&r);
}

int main(void)
{
    if (setup() != 0)
        return 1;
    LT_RUN(test_filters_and_order);
    LT_RUN(test_one_value_per_observation);
    LT_RUN(test_province_aggregation);
    LT_RUN(test_latest_and_first_last);
    LT_RUN(test_as_of_and_updated_after);
    LT_RUN(test_sources);
    teardown();
    return lt_test_done();
}
