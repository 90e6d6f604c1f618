/* Grants: the operator's direct grants, suspend / resume / revoke, what rg_grant_find says
 * when there is no live grant, daily quotas, the services a caller may use, listings, and the
 * caches after rg_close + rg_open. */
#include "rg_share_fixture.h"

#define DAY_US 86400000000LL

/* An operator grant body; extra members may be "". */
static json_t *grant_body(const char *org, const char *system, const char *service,
                          const char *extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"org\": \"%s\", \"system\": \"%s\", \"service\": \"%s\", "
             "\"fields\": [\"indicator\", \"area\", \"period\", \"value\"], \"valid_until\": "
             "\"" UNTIL_TEXT "\"%s}",
             org, system, service, extra);
    return J(buf);
}

static lt_err make_grant(fx *f, const rg_caller *who, json_t *body, char gid[64], lt_errinfo *ei)
{
    json_t *out = NULL;
    lt_err e = rg_grant_create(f->rg, who, body, T(NOW_TEXT), &out, ei);
    json_decref(body);
    gid[0] = '\0';
    if (!e)
        lt_strlcpy(gid, S(out, "id"), 64);
    json_decref(out);
    return e;
}

static void test_grant_create(void)
{
    static const struct {
        const rg_caller *who;
        const char *org, *system, *service, *extra;
        lt_err want;
        const char *detail;
    } rows[] = {
        {&PROVIDER, IOC_ORG, "ioc-dashboard", "stc-thu", "", LT_E_FORBIDDEN, "operator"},
        {&ADMIN, IOC_ORG, "ioc-nothing", "stc-thu", "", LT_E_INVALID, "unknown system"},
        {&ADMIN, IOC_ORG, "syt-app", "stc-thu", "", LT_E_INVALID, "unknown system"},
        {&ADMIN, "999.99.H99", "ioc-dashboard", "stc-thu", "", LT_E_INVALID, "grant.org"},
        {&ADMIN, IOC_ORG, "ioc-dashboard", "stc-none", "", LT_E_INVALID, "unknown service"},
        {&ADMIN, IOC_ORG, "ioc-dashboard", "stc-thu", ", \"quota_per_day\": \"x\"", LT_E_INVALID,
         "quota_per_day"},
        {&ADMIN, IOC_ORG, "ioc-dashboard", "stc-thu", ", \"valid_from\": \"2028-01-01T00:00:00Z\"",
         LT_E_INVALID, "valid_until"},
        {&ADMIN, IOC_ORG, "ioc-dashboard", "stc-thu", ", \"colour\": 1", LT_E_INVALID,
         "unknown field 'colour'"},
        {&ADMIN, IOC_ORG, "ioc-dashboard", "stc-thu", ", \"quota_per_day\": 100", LT_OK, NULL},
    };
    fx f;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_errinfo ei = {0};
        char gid[64];
        lt_err e = make_grant(
            &f, rows[i].who,
            grant_body(rows[i].org, rows[i].system, rows[i].service, rows[i].extra), gid, &ei);
        CHECK_MSG(e == rows[i].want && (!rows[i].detail || strstr(ei.detail, rows[i].detail)),
                  "row %zu: %d '%s'", i, e, ei.detail);
    }
    /* A field outside the contract. */
    lt_errinfo ei = {0};
    char gid[64];
    json_t *b = grant_body(IOC_ORG, "ioc-dashboard", "stc-thu", "");
    json_object_set_new(b, "fields", J("[\"value\", \"secret\"]"));
    CHECK_ERR(make_grant(&f, &ADMIN, b, gid, &ei), LT_E_INVALID, &ei, "'secret'");
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK(g && g->quota_per_day == 100 && g->nfields == 4);
    json_t *doc = NULL;
    CHECK(g && rg_grant_get(f.rg, g->id, &doc) == LT_OK);
    CHECK_STR(S(doc, "state"), "active");
    CHECK_STR(S(doc, "provider"), STC_ORG);
    CHECK(json_object_get(doc, "request") == NULL);
    CHECK(json_array_size(json_object_get(doc, "history")) == 1);
    json_decref(doc);
    rg_grant_release(g);
    CHECK(rg_grant_get(f.rg, "g-none", &doc) == LT_E_NOT_FOUND);
    fx_close(&f);
}

/* Each step acts on the same grant; revoked is final. */
static void test_grant_states(void)
{
    static const struct {
        const rg_caller *who;
        const char *action, *body;
        lt_err want;
        const char *find; /* NULL: rg_grant_find succeeds; else a substring of its detail */
    } steps[] = {
        {&PROVIDER, "resume", "{\"reason\": \"r\"}", LT_E_CONFLICT, NULL},
        {&PROVIDER, "suspend", "{}", LT_E_INVALID, NULL},
        {&IOC, "suspend", "{\"reason\": \"r\"}", LT_E_FORBIDDEN, NULL},
        {&STRANGER, "revoke", "{\"reason\": \"r\"}", LT_E_FORBIDDEN, NULL},
        {&PROVIDER, "pause", "{\"reason\": \"r\"}", LT_E_INVALID, NULL},
        {&PROVIDER, "suspend", "{\"reason\": \"vi phạm Điều 44\"}", LT_OK, "is suspended"},
        {&PROVIDER, "suspend", "{\"reason\": \"r\"}", LT_E_CONFLICT, "is suspended"},
        {&ADMIN, "resume", "{\"reason\": \"đã khắc phục\"}", LT_OK, NULL},
        {&PROVIDER, "suspend", "{\"reason\": \"r\"}", LT_OK, "is suspended"},
        {&PROVIDER, "revoke", "{\"reason\": \"chấm dứt\"}", LT_OK, "is revoked"},
        {&PROVIDER, "resume", "{\"reason\": \"r\"}", LT_E_CONFLICT, "is revoked"},
        {&ADMIN, "suspend", "{\"reason\": \"r\"}", LT_E_CONFLICT, "is revoked"},
        {&ADMIN, "revoke", "{\"reason\": \"r\"}", LT_E_CONFLICT, "is revoked"},
    };
    fx f;
    lt_errinfo ei = {0};
    char gid[64];
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_grant(&f, &ADMIN, grant_body(IOC_ORG, "ioc-dashboard", "stc-thu", ""), gid, &ei) ==
          LT_OK);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *b = J(steps[i].body), *out = NULL;
        lt_err e =
            rg_grant_set_state(f.rg, gid, steps[i].action, steps[i].who, b, T(NOW_TEXT), &out, &ei);
        CHECK_MSG(e == steps[i].want, "step %zu: %d '%s'", i, e, ei.detail);
        json_decref(b);
        json_decref(out);
        rg_grant *g = NULL;
        e = rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei);
        if (!steps[i].find)
            CHECK_MSG(e == LT_OK && g, "step %zu: %s", i, ei.detail);
        else
            CHECK_MSG(e == LT_E_FORBIDDEN && !g && strstr(ei.detail, steps[i].find) &&
                          strstr(ei.detail, gid),
                      "step %zu: %s", i, ei.detail);
        rg_grant_release(g);
    }
    json_t *doc = NULL, *b = J("{\"reason\": \"r\"}"), *out = NULL;
    CHECK(rg_grant_get(f.rg, gid, &doc) == LT_OK);
    CHECK(json_array_size(json_object_get(doc, "history")) == 5); /* created + 4 changes */
    CHECK_STR(S(json_array_get(json_object_get(doc, "history"), 4), "action"), "revoked");
    json_decref(doc);
    CHECK(rg_grant_set_state(f.rg, "g-none", "suspend", &ADMIN, b, T(NOW_TEXT), &out, &ei) ==
          LT_E_NOT_FOUND);
    json_decref(b);
    /* A new grant for the same triple replaces the revoked one; a restart keeps both. */
    CHECK(make_grant(&f, &ADMIN, grant_body(IOC_ORG, "ioc-dashboard", "stc-thu", ""), gid, &ei) ==
          LT_OK);
    CHECK(fx_reopen(&f) == 0);
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK(g && strcmp(g->id, gid) == 0);
    rg_grant_release(g);
    fx_close(&f);
}

/* Validity window: not yet valid, live, expired; and no grant at all. */
static void test_grant_validity(void)
{
    fx f;
    lt_errinfo ei = {0};
    char gid[64];
    rg_grant *g = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK_ERR(rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei),
              LT_E_FORBIDDEN, &ei, "no grant");
    CHECK(make_grant(&f, &ADMIN,
                     grant_body(IOC_ORG, "ioc-dashboard", "stc-thu",
                                ", \"valid_from\": \"2026-04-01T00:00:00Z\""),
                     gid, &ei) == LT_OK);
    static const struct {
        const char *at;
        lt_err want;
        const char *detail;
    } rows[] = {
        {NOW_TEXT, LT_E_FORBIDDEN, "not yet valid"},
        {"2026-03-31T23:59:59Z", LT_E_FORBIDDEN, "not yet valid"},
        {"2026-04-01T00:00:00Z", LT_OK, NULL},
        {"2027-12-30T23:59:59Z", LT_OK, NULL},
        {UNTIL_TEXT, LT_E_FORBIDDEN, "expired"},
        {"2030-01-01T00:00:00Z", LT_E_FORBIDDEN, "expired"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_err e = rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(rows[i].at), &g, &ei);
        CHECK_MSG(e == rows[i].want && (!rows[i].detail || (strstr(ei.detail, rows[i].detail) &&
                                                            strstr(ei.detail, gid))),
                  "row %zu: %d '%s'", i, e, ei.detail);
        CHECK((e == LT_OK) == (g != NULL));
        rg_grant_release(g);
        g = NULL;
    }
    /* Other service, org or system: no grant. */
    CHECK(rg_grant_find(f.rg, "stc-auto", IOC_ORG, "ioc-dashboard", T("2026-05-01T00:00:00Z"), &g,
                        &ei) == LT_E_FORBIDDEN);
    CHECK(rg_grant_find(f.rg, "stc-thu", SYT_ORG, "ioc-dashboard", T("2026-05-01T00:00:00Z"), &g,
                        &ei) == LT_E_FORBIDDEN);
    CHECK(rg_grant_find(f.rg, "stc-thu", "", "ioc-dashboard", T("2026-05-01T00:00:00Z"), &g, &ei) ==
          LT_E_FORBIDDEN);
    rg_grant_release(NULL);
    fx_close(&f);
}

static void test_quota(void)
{
    fx f;
    lt_errinfo ei = {0};
    char gid[64];
    rg_grant *g = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_grant(&f, &ADMIN,
                     grant_body(IOC_ORG, "ioc-dashboard", "stc-thu", ", \"quota_per_day\": 3"), gid,
                     &ei) == LT_OK);
    CHECK(rg_grant_find(f.rg, "stc-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei) == LT_OK);
    /* 09:00 Vietnam time: the day renews 15 hours later. */
    int64_t now = T(NOW_TEXT);
    for (int i = 0; i < 3; i++)
        CHECK(rg_grant_take_quota(f.rg, g, now + i, &ei) == LT_OK);
    lt_errinfo q = {0};
    CHECK_ERR(rg_grant_take_quota(f.rg, g, now + 10, &q), LT_E_QUOTA, &q, "quota");
    CHECK_MSG(q.retry_after == 15 * 3600, "retry_after %d", q.retry_after);
    /* 23:59:59.5 Vietnam time: one second, rounded up. */
    lt_errinfo q2 = {0};
    CHECK(rg_grant_take_quota(f.rg, g, T("2026-03-06T16:59:59.5Z"), &q2) == LT_E_QUOTA);
    CHECK(q2.retry_after == 1);
    /* 00:00 Vietnam time is 17:00 UTC: a new day. */
    CHECK(rg_grant_take_quota(f.rg, g, T("2026-03-06T17:00:00Z"), &ei) == LT_OK);
    rg_grant_release(g);
    /* Unlimited grants never count. */
    CHECK(make_grant(&f, &ADMIN, grant_body(SYT_ORG, "syt-app", "stc-thu", ""), gid, &ei) == LT_OK);
    CHECK(rg_grant_find(f.rg, "stc-thu", SYT_ORG, "syt-app", now, &g, &ei) == LT_OK);
    for (int i = 0; i < 100; i++)
        CHECK(rg_grant_take_quota(f.rg, g, now, &ei) == LT_OK);
    rg_grant_release(g);
    fx_close(&f);
}

/* What a caller may use (catalog ?allowed=true) and the grant listings. */
static void test_services_and_list(void)
{
    fx f;
    lt_errinfo ei = {0};
    char gid[64], suspended[64];
    json_t *ids = NULL, *items = NULL, *b = NULL, *out = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    static const char *const services[] = {"stc-thu", "stc-dac-thu", "stc-auto"};
    for (size_t i = 0; i < 3; i++)
        CHECK(make_grant(&f, &ADMIN, grant_body(IOC_ORG, "ioc-dashboard", services[i], ""),
                         i == 2 ? suspended : gid, &ei) == LT_OK);
    CHECK(make_grant(&f, &ADMIN, grant_body(SYT_ORG, "syt-app", "stc-thu", ""), gid, &ei) == LT_OK);
    b = J("{\"reason\": \"r\"}");
    CHECK(rg_grant_set_state(f.rg, suspended, "suspend", &PROVIDER, b, T(NOW_TEXT), &out, &ei) ==
          LT_OK);
    json_decref(b);
    json_decref(out);
    CHECK(rg_grant_services(f.rg, IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &ids) == LT_OK);
    CHECK(json_array_size(ids) == 2);
    CHECK_STR(json_string_value(json_array_get(ids, 0)), "stc-dac-thu");
    CHECK_STR(json_string_value(json_array_get(ids, 1)), "stc-thu");
    json_decref(ids);
    CHECK(rg_grant_services(f.rg, IOC_ORG, "ioc-dashboard", T("2030-01-01T00:00:00Z"), &ids) ==
              LT_OK &&
          json_array_size(ids) == 0);
    json_decref(ids);
    CHECK(rg_grant_services(f.rg, STC_ORG, "stc-app", T(NOW_TEXT), &ids) == LT_OK &&
          json_array_size(ids) == 0);
    json_decref(ids);
    static const struct {
        const rg_caller *who;
        const char *as;
        size_t want, live;
        lt_err err;
    } rows[] = {
        {&PROVIDER, "provider", 4, 3, LT_OK},
        {&PROVIDER, "consumer", 0, 0, LT_OK},
        {&IOC, NULL, 3, 2, LT_OK},
        {&IOC, "consumer", 3, 2, LT_OK},
        {&CONSUMER, NULL, 1, 1, LT_OK},
        {&STRANGER, NULL, 0, 0, LT_OK},
        {&ADMIN, NULL, 4, 3, LT_OK},
        {&ADMIN, "both", 0, 0, LT_E_INVALID},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_err e = rg_grant_list(f.rg, rows[i].who, rows[i].as, T(NOW_TEXT), &items, &ei);
        size_t live = 0, k;
        json_t *it;
        json_array_foreach(items, k, it) live += json_is_true(json_object_get(it, "live"));
        CHECK_MSG(e == rows[i].err && json_array_size(items) == rows[i].want &&
                      live == rows[i].live,
                  "row %zu: %d %zu/%zu", i, e, json_array_size(items), live);
        json_decref(items);
    }
    /* The caches are rebuilt from the warehouse. */
    CHECK(fx_reopen(&f) == 0);
    CHECK(rg_grant_services(f.rg, IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &ids) == LT_OK);
    CHECK(json_array_size(ids) == 2);
    json_decref(ids);
    CHECK(rg_grant_list(f.rg, &ADMIN, NULL, T(NOW_TEXT), &items, &ei) == LT_OK);
    CHECK(json_array_size(items) == 4);
    json_decref(items);
    fx_close(&f);
}

int main(void)
{
    LT_RUN(test_grant_create);
    LT_RUN(test_grant_states);
    LT_RUN(test_grant_validity);
    LT_RUN(test_quota);
    LT_RUN(test_services_and_list);
    return lt_test_done();
}
