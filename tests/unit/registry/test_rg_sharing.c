/* Sharing under Decree 47: systems, default and special requests, decisions (and the race of
 * two approvals), amendments, joining an agreement, overdue requests, and everything again
 * after rg_close + rg_open. Each test runs on a fresh warehouse. */
#include <pthread.h>

#include "rg_share_fixture.h"

#define FIELDS_OK "[\"indicator\", \"area\", \"period\", \"value\"]"

static void test_systems(void)
{
    static const struct {
        const char *body;
        lt_err want;
        const char *detail;
    } rows[] = {
        {"{\"id\": \"syt-his\", \"agency\": \"" SYT_ORG "\", \"name\": \"HIS\"}", LT_OK, NULL},
        {"{\"id\": \"syt-his\", \"agency\": \"" SYT_ORG "\", \"name\": \"HIS\"}", LT_E_CONFLICT,
         "already exists"},
        {"{\"id\": \"x-1\", \"agency\": \"999.99.99.H99\", \"name\": \"X\"}", LT_E_INVALID,
         "system.agency"},
        {"{\"id\": \"Bad_Id\", \"agency\": \"" SYT_ORG "\", \"name\": \"X\"}", LT_E_INVALID,
         "system.id"},
        {"{\"id\": \"x-2\", \"agency\": \"" SYT_ORG "\"}", LT_E_INVALID, "'name' is required"},
        {"{\"id\": \"x-3\", \"agency\": \"" SYT_ORG "\", \"name\": \"X\", \"url\": \"u\"}",
         LT_E_INVALID, "unknown field 'url'"},
        {"{\"id\": \"x-4\", \"agency\": \"" SYT_ORG "\", \"name\": \"X\", \"description\": 1}",
         LT_E_INVALID, "system.description"},
    };
    fx f;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *b = J(rows[i].body), *out = NULL;
        lt_errinfo ei = {0};
        CHECK_ERR(rg_system_create(f.rg, b, &out, &ei), rows[i].want, &ei, rows[i].detail);
        if (rows[i].want == LT_OK)
            CHECK(strlen(S(out, "created_at")) > 0);
        json_decref(b);
        json_decref(out);
    }
    CHECK(rg_system_of(f.rg, "syt-his", SYT_ORG));
    CHECK(!rg_system_of(f.rg, "syt-his", STC_ORG));
    CHECK(!rg_system_of(f.rg, "nobody", SYT_ORG));
    CHECK(!rg_system_of(f.rg, NULL, SYT_ORG));
    char org[64] = "left over", tiny[4] = "abc";
    CHECK(rg_system_agency(f.rg, "syt-his", org, sizeof org) && strcmp(org, SYT_ORG) == 0);
    CHECK(!rg_system_agency(f.rg, "nobody", org, sizeof org) && org[0] == '\0');
    CHECK(!rg_system_agency(f.rg, NULL, org, sizeof org));
    CHECK(!rg_system_agency(f.rg, "syt-his", tiny, sizeof tiny) && tiny[0] == '\0');
    CHECK(fx_reopen(&f) == 0);
    CHECK(rg_system_of(f.rg, "syt-his", SYT_ORG) && rg_system_of(f.rg, "stc-app", STC_ORG));
    CHECK(rg_system_agency(f.rg, "syt-his", org, sizeof org) && strcmp(org, SYT_ORG) == 0);
    fx_close(&f);
}

/* Every rule of a request body, one row each (default service unless named). */
static void test_request_rules(void)
{
    static const struct {
        const char *service, *system, *fields, *extra;
        const rg_caller *who;
        lt_err want;
        const char *detail;
    } rows[] = {
        {"stc-thu", "syt-app", FIELDS_OK, "", &CONSUMER, LT_OK, NULL},
        {"stc-thu", "syt-app", "[\"value\", \"salary\"]", "", &CONSUMER, LT_E_INVALID,
         "'salary' is not a field"},
        {"stc-thu", "syt-app", "[\"value\", \"value\"]", "", &CONSUMER, LT_E_INVALID,
         "listed twice"},
        {"stc-thu", "syt-app", "[]", "", &CONSUMER, LT_E_INVALID, "request.fields"},
        {"stc-thu", "sct-app", FIELDS_OK, "", &CONSUMER, LT_E_INVALID,
         "not a registered system of org '" SYT_ORG "'"},
        {"stc-thu", "nobody", FIELDS_OK, "", &CONSUMER, LT_E_INVALID, "request.system"},
        {"stc-thu", "stc-app", FIELDS_OK, "", &PROVIDER, LT_E_INVALID, "your own org"},
        {"stc-nhap", "syt-app", FIELDS_OK, "", &CONSUMER, LT_E_INVALID, "not published"},
        {"stc-none", "syt-app", FIELDS_OK, "", &CONSUMER, LT_E_NOT_FOUND, "stc-none"},
        {"stc-thu", "syt-app", FIELDS_OK, ", \"price\": 1", &CONSUMER, LT_E_INVALID,
         "unknown field 'price'"},
        {"stc-thu", "syt-app", FIELDS_OK, ", \"legal_basis\": 7", &CONSUMER, LT_E_INVALID,
         "request.legal_basis"},
        {"stc-dac-thu", "syt-app", FIELDS_OK, "", &CONSUMER, LT_E_INVALID, "request.agreement"},
        {"stc-dac-thu", "syt-app", FIELDS_OK,
         ", \"agreement\": {\"parties\": \"A\", \"data\": \"B\", \"method\": {}}", &CONSUMER,
         LT_E_INVALID, "missing items"},
        {"stc-dac-thu", "syt-app", FIELDS_OK, ", \"agreement\": " AGREEMENT_12, &CONSUMER, LT_OK,
         NULL},
    };
    fx f;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char rid[64];
        lt_errinfo ei = {0};
        json_t *b = req_body(rows[i].system, rows[i].fields, rows[i].extra);
        lt_err e = make_request(&f, rows[i].service, rows[i].who, b, T(NOW_TEXT), rid, &ei);
        CHECK_MSG(e == rows[i].want && (!rows[i].detail || strstr(ei.detail, rows[i].detail)),
                  "row %zu: %d '%s'", i, e, ei.detail);
    }
    /* The missing agreement items are all named. */
    lt_errinfo ei = {0};
    char rid[64];
    json_t *b = req_body("syt-app", FIELDS_OK,
                         ", \"agreement\": {\"parties\": \"A\", \"data\": "
                         "\"B\", \"place\": \"\", \"method\": {}}");
    make_request(&f, "stc-dac-thu", &CONSUMER, b, T(NOW_TEXT), rid, &ei);
    static const char *const named[] = {"place",      "duration",   "method",   "processing",
                                        "conditions", "protection", "security", "storage",
                                        "deletion",   "other"};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        CHECK_MSG(strstr(ei.detail, named[i]) != NULL, "%s lacks %s", ei.detail, named[i]);
    CHECK(strstr(ei.detail, "parties") == NULL);
    /* valid_until in the past. */
    b = req_body("syt-app", FIELDS_OK, "");
    json_object_set_new(b, "valid_until", json_string("2020-01-01T00:00:00Z"));
    CHECK_ERR(make_request(&f, "stc-thu", &CONSUMER, b, T(NOW_TEXT), rid, &ei), LT_E_INVALID, &ei,
              "valid_until");
    fx_close(&f);
}

/* Default request: 5 working days, recorded with its history; auto_approve grants at once. */
static void test_request_default_and_auto(void)
{
    fx f;
    lt_errinfo ei = {0};
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    json_t *out = NULL, *b = req_body("syt-app", FIELDS_OK, ", \"legal_basis\": \"NĐ 47\"");
    CHECK(rg_request_create(f.rg, "stc-thu", &CONSUMER, b, T(NOW_TEXT), &out, &ei) == LT_OK);
    json_decref(b);
    CHECK_STR(S(out, "state"), "pending");
    CHECK_STR(S(out, "sharing"), "default");
    CHECK_STR(S(out, "provider"), STC_ORG);
    CHECK_STR(S(out, "org"), SYT_ORG);
    CHECK(strncmp(S(out, "id"), "req-", 4) == 0);
    /* Friday 2026-03-06 + 5 working days = Friday 2026-03-13, end of day Vietnam time. */
    CHECK_STR(S(out, "due_at"), "2026-03-13T16:59:59.999999Z");
    CHECK(json_object_get(out, "overdue") == NULL);
    json_t *h = json_object_get(out, "history");
    CHECK(json_array_size(h) == 1 && strcmp(S(json_array_get(h, 0), "action"), "created") == 0);
    CHECK_STR(S(json_array_get(h, 0), "by_system"), "syt-app");
    json_decref(out);

    b = req_body("syt-app", "[\"value\", \"area\"]", "");
    CHECK(rg_request_create(f.rg, "stc-auto", &CONSUMER, b, T(NOW_TEXT), &out, &ei) == LT_OK);
    json_decref(b);
    CHECK_STR(S(out, "state"), "approved");
    CHECK(strncmp(S(out, "grant"), "g-", 2) == 0);
    CHECK_STR(S(json_object_get(out, "decision"), "decision"), "approve");
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-auto", SYT_ORG, "syt-app", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK(g && g->nfields == 2 && strcmp(g->fields[0], "value") == 0);
    CHECK(g && strcmp(g->id, S(out, "grant")) == 0 && g->quota_per_day == 0);
    CHECK(g && g->valid_until_us == T(UNTIL_TEXT));
    rg_grant_release(g);
    /* Another system of the same org holds nothing. */
    CHECK(rg_grant_find(f.rg, "stc-auto", SYT_ORG, "syt-other", T(NOW_TEXT), &g, &ei) ==
          LT_E_FORBIDDEN);
    CHECK(g == NULL);
    json_decref(out);
    fx_close(&f);
}

static void test_decisions(void)
{
    fx f;
    lt_errinfo ei = {0};
    char rid[64], rid2[64];
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-app", FIELDS_OK, ""), T(NOW_TEXT),
                       rid, &ei) == LT_OK);
    static const struct {
        const rg_caller *who;
        const char *body;
        lt_err want;
        const char *detail;
    } rows[] = {
        {&CONSUMER, "{\"decision\": \"approve\"}", LT_E_FORBIDDEN, "only the provider"},
        {&STRANGER, "{\"decision\": \"approve\"}", LT_E_FORBIDDEN, "only the provider"},
        {&PROVIDER, "{\"decision\": \"reject\", \"reason\": \"không\"}", LT_E_INVALID,
         "legal_basis"},
        {&PROVIDER, "{\"decision\": \"reject\", \"legal_basis\": \"Luật\"}", LT_E_INVALID,
         "reason"},
        {&PROVIDER, "{\"decision\": \"maybe\"}", LT_E_INVALID, "decision.decision"},
        {&PROVIDER, "{\"decision\": \"approve\", \"quota_per_day\": -1}", LT_E_INVALID,
         "quota_per_day"},
        {&PROVIDER, "{\"decision\": \"approve\", \"reason\": \"đồng ý\", \"quota_per_day\": 50}",
         LT_OK, NULL},
        {&PROVIDER, "{\"decision\": \"approve\"}", LT_E_CONFLICT, "already decided"},
        {&ADMIN, "{\"decision\": \"reject\", \"reason\": \"r\", \"legal_basis\": \"l\"}",
         LT_E_CONFLICT, "already decided"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        CHECK_ERR(decide(&f, rid, rows[i].who, rows[i].body, NULL, &ei), rows[i].want, &ei,
                  rows[i].detail);
    CHECK_ERR(decide(&f, "req-none", &PROVIDER, "{\"decision\": \"approve\"}", NULL, &ei),
              LT_E_NOT_FOUND, &ei, "not found");
    json_t *req = NULL;
    CHECK(rg_request_get(f.rg, rid, T(NOW_TEXT), &req) == LT_OK);
    CHECK_STR(S(req, "state"), "approved");
    CHECK_STR(S(json_object_get(req, "decision"), "by_org"), STC_ORG);
    CHECK(strlen(S(req, "decided_at")) > 0);
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-thu", SYT_ORG, "syt-app", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK(g && g->nfields == 4 && g->quota_per_day == 50 && strcmp(g->service, "stc-thu") == 0);
    CHECK(g && strcmp(g->id, S(req, "grant")) == 0 && g->valid_from_us == T(NOW_TEXT));
    rg_grant_release(g);
    json_decref(req);
    /* A refusal: state, decision and history carry reason and legal basis. */
    CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-other", FIELDS_OK, ""), T(NOW_TEXT),
                       rid2, &ei) == LT_OK);
    CHECK(decide(&f, rid2, &ADMIN,
                 "{\"decision\": \"reject\", \"reason\": \"dữ liệu mật\", "
                 "\"legal_basis\": \"Luật Bảo vệ bí mật nhà nước 2018\"}",
                 &req, &ei) == LT_OK);
    CHECK_STR(S(req, "state"), "rejected");
    json_t *h = json_object_get(req, "history");
    json_t *last = json_array_get(h, json_array_size(h) - 1);
    CHECK_STR(S(last, "action"), "rejected");
    CHECK_STR(S(last, "legal_basis"), "Luật Bảo vệ bí mật nhà nước 2018");
    CHECK(json_is_true(json_object_get(last, "admin")));
    json_decref(req);
    CHECK(rg_grant_find(f.rg, "stc-thu", SYT_ORG, "syt-other", T(NOW_TEXT), &g, &ei) ==
          LT_E_FORBIDDEN);
    CHECK(count_kind(&f, WH_GRANTS) == 1);
    fx_close(&f);
}

typedef struct racer {
    fx *f;
    const char *rid;
    pthread_barrier_t *start;
    lt_err got;
} racer;

static void *race_approve(void *arg)
{
    racer *r = arg;
    lt_errinfo ei = {0};
    json_t *b = J("{\"decision\": \"approve\"}"), *out = NULL;
    pthread_barrier_wait(r->start);
    r->got = rg_request_decide(r->f->rg, r->rid, &PROVIDER, b, T(NOW_TEXT), &out, &ei);
    json_decref(b);
    json_decref(out);
    return NULL;
}

/* Two approvals of the same request at the same time: one grant, one conflict. */
static void test_concurrent_approvals(void)
{
    enum { ROUNDS = 12 };
    fx f;
    lt_errinfo ei = {0};
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    for (int round = 0; round < ROUNDS; round++) {
        char rid[64];
        CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-app", FIELDS_OK, ""),
                           T(NOW_TEXT), rid, &ei) == LT_OK);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        racer r[2] = {{&f, rid, &start, LT_OK}, {&f, rid, &start, LT_OK}};
        pthread_t t[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&t[i], NULL, race_approve, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        int ok = (r[0].got == LT_OK) + (r[1].got == LT_OK);
        int conflict = (r[0].got == LT_E_CONFLICT) + (r[1].got == LT_E_CONFLICT);
        CHECK_MSG(ok == 1 && conflict == 1, "round %d: %d %d", round, r[0].got, r[1].got);
        CHECK_MSG(count_kind(&f, WH_GRANTS) == (size_t)round + 1, "round %d", round);
    }
    fx_close(&f);
}

/* A special request of the consumer, approved by the provider. */
static void approved_special(fx *f, char rid[64])
{
    lt_errinfo ei = {0};
    CHECK(make_request(f, "stc-dac-thu", &CONSUMER,
                       req_body("syt-app", FIELDS_OK, ", \"agreement\": " AGREEMENT_12),
                       T(NOW_TEXT), rid, &ei) == LT_OK);
    CHECK(decide(f, rid, &PROVIDER, "{\"decision\": \"approve\"}", NULL, &ei) == LT_OK);
}

static lt_err amend(fx *f, const char *rid, const rg_caller *who, const char *body, lt_errinfo *ei)
{
    json_t *b = J(body), *out = NULL;
    lt_err e = rg_request_amend(f->rg, rid, who, b, T(NOW_TEXT), &out, ei);
    json_decref(b);
    json_decref(out);
    return e;
}

/* The grant's field count and quota for the consumer on the special service. */
static void check_grant(fx *f, size_t nfields, long quota)
{
    lt_errinfo ei = {0};
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f->rg, "stc-dac-thu", SYT_ORG, "syt-app", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK_MSG(g && g->nfields == nfields && g->quota_per_day == quota, "%zu %ld",
              g ? g->nfields : 0, g ? g->quota_per_day : -1);
    rg_grant_release(g);
}

/* Amendment by the consumer, approved by the provider: request, agreement and grant change. */
static void test_amendments(void)
{
    fx f;
    lt_errinfo ei = {0};
    char rid[64], pending[64];
    json_t *req = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_request(&f, "stc-dac-thu", &CONSUMER,
                       req_body("syt-app", FIELDS_OK, ", \"agreement\": " AGREEMENT_12),
                       T(NOW_TEXT), pending, &ei) == LT_OK);
    CHECK_ERR(amend(&f, pending, &CONSUMER, "{\"fields\": [\"value\"], \"reason\": \"r\"}", &ei),
              LT_E_CONFLICT, &ei, "only an approved request");
    approved_special(&f, rid);
    CHECK_ERR(amend(&f, rid, &STRANGER, "{\"fields\": [\"value\"], \"reason\": \"r\"}", &ei),
              LT_E_FORBIDDEN, &ei, "only the parties");
    CHECK_ERR(amend(&f, rid, &CONSUMER, "{\"reason\": \"r\"}", &ei), LT_E_INVALID, &ei,
              "nothing to change");
    CHECK_ERR(amend(&f, rid, &CONSUMER, "{\"fields\": [\"value\"]}", &ei), LT_E_INVALID, &ei,
              "'reason' is required");
    CHECK(amend(&f, rid, &CONSUMER,
                "{\"fields\": [\"value\", \"unit\"], \"valid_until\": "
                "\"2028-06-30T00:00:00Z\", \"quota_per_day\": 10, \"agreement\": " AGREEMENT_12
                ", \"reason\": \"thêm đơn vị\"}",
                &ei) == LT_OK);
    CHECK(rg_request_get(f.rg, rid, T(NOW_TEXT), &req) == LT_OK);
    CHECK_STR(S(req, "state"), "amendment_pending");
    CHECK(json_integer_value(json_object_get(json_object_get(req, "amendment"), "version")) == 2);
    json_decref(req);
    /* The proposer cannot decide its own amendment; a stranger neither. */
    CHECK_ERR(decide(&f, rid, &CONSUMER, "{\"decision\": \"approve\"}", NULL, &ei), LT_E_FORBIDDEN,
              &ei, "proposed by your org");
    CHECK_ERR(decide(&f, rid, &STRANGER, "{\"decision\": \"approve\"}", NULL, &ei), LT_E_FORBIDDEN,
              &ei, NULL);
    check_grant(&f, 4, 0); /* unchanged until the other party agrees */
    CHECK(decide(&f, rid, &PROVIDER, "{\"decision\": \"approve\", \"reason\": \"ok\"}", &req,
                 &ei) == LT_OK);
    CHECK_STR(S(req, "state"), "approved");
    CHECK(json_object_get(req, "amendment") == NULL);
    CHECK(json_integer_value(json_object_get(json_object_get(req, "agreement"), "version")) == 2);
    CHECK(json_array_size(json_object_get(req, "agreement_versions")) == 2);
    CHECK(json_array_size(json_object_get(req, "fields")) == 2);
    static const char *const steps[] = {"created", "approved", "amendment_proposed",
                                        "amendment_approved"};
    json_t *h = json_object_get(req, "history");
    CHECK(json_array_size(h) == 4);
    for (size_t i = 0; i < 4 && i < json_array_size(h); i++)
        CHECK_STR(S(json_array_get(h, i), "action"), steps[i]);
    json_decref(req);
    check_grant(&f, 2, 10);
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-dac-thu", SYT_ORG, "syt-app", T(NOW_TEXT), &g, &ei) == LT_OK);
    CHECK(g && strcmp(g->fields[1], "unit") == 0);
    CHECK(g && g->valid_until_us == T("2028-06-30T00:00:00Z"));
    rg_grant_release(g);
    fx_close(&f);
}

/* Amendment by the provider, refused by the consumer (with a legal basis): grant unchanged. */
static void test_amendment_refused(void)
{
    fx f;
    lt_errinfo ei = {0};
    char rid[64];
    json_t *req = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    approved_special(&f, rid);
    CHECK(amend(&f, rid, &PROVIDER, "{\"fields\": [\"value\"], \"reason\": \"bớt trường\"}", &ei) ==
          LT_OK);
    CHECK_ERR(amend(&f, rid, &CONSUMER, "{\"fields\": [\"area\"], \"reason\": \"r\"}", &ei),
              LT_E_CONFLICT, &ei, "amendment_pending");
    CHECK_ERR(decide(&f, rid, &PROVIDER, "{\"decision\": \"approve\"}", NULL, &ei), LT_E_FORBIDDEN,
              &ei, "other party");
    CHECK_ERR(
        decide(&f, rid, &CONSUMER, "{\"decision\": \"reject\", \"reason\": \"không\"}", NULL, &ei),
        LT_E_INVALID, &ei, "legal_basis");
    CHECK(decide(&f, rid, &CONSUMER,
                 "{\"decision\": \"reject\", \"reason\": \"không\", "
                 "\"legal_basis\": \"Thỏa thuận v1\"}",
                 &req, &ei) == LT_OK);
    CHECK_STR(S(req, "state"), "approved");
    CHECK(json_integer_value(json_object_get(json_object_get(req, "agreement"), "version")) == 1);
    json_decref(req);
    check_grant(&f, 4, 0);
    /* A revoked grant is not amended. */
    json_t *b = J("{\"reason\": \"chấm dứt\"}"), *out = NULL;
    CHECK(rg_request_get(f.rg, rid, T(NOW_TEXT), &req) == LT_OK);
    CHECK(rg_grant_set_state(f.rg, S(req, "grant"), "revoke", &PROVIDER, b, T(NOW_TEXT), &out,
                             &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    json_decref(req);
    CHECK_ERR(amend(&f, rid, &CONSUMER, "{\"fields\": [\"area\"], \"reason\": \"r\"}", &ei),
              LT_E_CONFLICT, &ei, "revoked");
    /* Everything survives a restart. */
    CHECK(fx_reopen(&f) == 0);
    CHECK(rg_request_get(f.rg, rid, T(NOW_TEXT), &req) == LT_OK);
    CHECK(json_array_size(json_object_get(req, "history")) == 4);
    CHECK_STR(S(json_array_get(json_object_get(req, "history"), 3), "legal_basis"),
              "Thỏa thuận v1");
    json_decref(req);
    CHECK_ERR(
        rg_grant_find(f.rg, "stc-dac-thu", SYT_ORG, "syt-app", T(NOW_TEXT), &(rg_grant *){0}, &ei),
        LT_E_FORBIDDEN, &ei, "revoked");
    fx_close(&f);
}

/* Another agency joins an approved special agreement and is decided like any request. */
static void test_join(void)
{
    fx f;
    lt_errinfo ei = {0};
    char rid[64], pending[64], jid[64];
    json_t *req = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_request(&f, "stc-dac-thu", &CONSUMER,
                       req_body("syt-app", FIELDS_OK, ", \"agreement\": " AGREEMENT_12),
                       T(NOW_TEXT), rid, &ei) == LT_OK);
    CHECK(make_request(&f, "stc-dac-thu", &CONSUMER,
                       req_body("syt-other", FIELDS_OK, ", \"agreement\": " AGREEMENT_12),
                       T(NOW_TEXT), pending, &ei) == LT_OK);
    CHECK(decide(&f, rid, &PROVIDER, "{\"decision\": \"approve\"}", NULL, &ei) == LT_OK);
    char extra[128];
    snprintf(extra, sizeof extra, ", \"joins\": \"%s\"", pending);
    CHECK_ERR(make_request(&f, "stc-dac-thu", &IOC, req_body("ioc-dashboard", FIELDS_OK, extra),
                           T(NOW_TEXT), jid, &ei),
              LT_E_INVALID, &ei, "request.joins");
    CHECK_ERR(make_request(&f, "stc-dac-thu", &IOC,
                           req_body("ioc-dashboard", FIELDS_OK, ", \"joins\": \"req-none\""),
                           T(NOW_TEXT), jid, &ei),
              LT_E_INVALID, &ei, "request.joins");
    snprintf(extra, sizeof extra, ", \"joins\": \"%s\"", rid);
    CHECK(make_request(&f, "stc-dac-thu", &IOC, req_body("ioc-dashboard", FIELDS_OK, extra),
                       T(NOW_TEXT), jid, &ei) == LT_OK);
    CHECK(rg_request_get(f.rg, jid, T(NOW_TEXT), &req) == LT_OK);
    CHECK_STR(S(req, "state"), "pending");
    CHECK_STR(S(req, "joins"), V(rid));
    CHECK_STR(S(json_object_get(req, "agreement"), "place"), "Trụ sở Sở Y tế");
    json_decref(req);
    CHECK(decide(&f, jid, &PROVIDER, "{\"decision\": \"approve\"}", NULL, &ei) == LT_OK);
    rg_grant *g = NULL;
    CHECK(rg_grant_find(f.rg, "stc-dac-thu", IOC_ORG, "ioc-dashboard", T(NOW_TEXT), &g, &ei) ==
          LT_OK);
    rg_grant_release(g);
    fx_close(&f);
}

/* Listing by role and state; a pending request past its due date reads as overdue. */
static void test_list_and_overdue(void)
{
    fx f;
    lt_errinfo ei = {0};
    char old[64], fresh[64], other[64];
    json_t *items = NULL, *req = NULL;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    int64_t now = lt_now_us(), long_ago = now - 60 * 86400000000LL;
    CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-app", FIELDS_OK, ""), long_ago, old,
                       &ei) == LT_OK);
    CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-other", FIELDS_OK, ""), now, fresh,
                       &ei) == LT_OK);
    CHECK(make_request(&f, "stc-thu", &IOC, req_body("ioc-dashboard", FIELDS_OK, ""), now, other,
                       &ei) == LT_OK);
    CHECK(rg_request_get(f.rg, old, now, &req) == LT_OK);
    CHECK_STR(S(req, "state"), "overdue");
    CHECK(json_is_true(json_object_get(req, "overdue")));
    json_decref(req);
    static const struct {
        const rg_caller *who;
        const char *as, *state;
        size_t want;
        lt_err err;
    } rows[] = {
        {&PROVIDER, "provider", NULL, 3, LT_OK},
        {&PROVIDER, "consumer", NULL, 0, LT_OK},
        {&CONSUMER, NULL, NULL, 2, LT_OK},
        {&CONSUMER, "consumer", "overdue", 1, LT_OK},
        {&CONSUMER, "consumer", "pending", 1, LT_OK},
        {&IOC, NULL, NULL, 1, LT_OK},
        {&STRANGER, NULL, NULL, 0, LT_OK},
        {&ADMIN, NULL, NULL, 3, LT_OK},
        {&ADMIN, NULL, "overdue", 1, LT_OK},
        {&ADMIN, "owner", NULL, 0, LT_E_INVALID},
        {&ADMIN, NULL, "late", 0, LT_E_INVALID},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_err e = rg_request_list(f.rg, rows[i].who, rows[i].as, rows[i].state, now, &items, &ei);
        CHECK_MSG(e == rows[i].err && json_array_size(items) == rows[i].want,
                  "row %zu: %d, %zu items", i, e, json_array_size(items));
        json_decref(items);
    }
    /* Newest first. */
    CHECK(rg_request_list(f.rg, &CONSUMER, NULL, NULL, now, &items, &ei) == LT_OK);
    CHECK_STR(S(json_array_get(items, 0), "id"), V(fresh));
    CHECK_STR(S(json_array_get(items, 1), "id"), V(old));
    json_decref(items);
    char provider[64], org[64];
    CHECK(rg_request_parties(f.rg, other, provider, org) == LT_OK);
    CHECK_STR(V(provider), STC_ORG);
    CHECK_STR(V(org), IOC_ORG);
    CHECK(rg_request_parties(f.rg, "req-none", provider, org) == LT_E_NOT_FOUND);
    fx_close(&f);
}

static int collect_op(void *ctx, uint64_t seq, const char *json, size_t len)
{
    (void)seq;
    json_t *e = json_loadb(json, len, 0, NULL);
    json_array_append_new(ctx, json_string(S(e, "operation")));
    json_decref(e);
    return 0;
}

/* Every state change reaches the exchange log (Decree 47 Art. 45), in order. */
static void test_audit(void)
{
    fx f;
    lt_errinfo ei = {0};
    char rid[64], auto_rid[64];
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK(make_request(&f, "stc-thu", &CONSUMER, req_body("syt-app", FIELDS_OK, ""),
                       T(NOW_TEXT), rid, &ei) == LT_OK);
    CHECK(decide(&f, rid, &PROVIDER, "{\"decision\": \"reject\", \"reason\": \"r\", "
                 "\"legal_basis\": \"l\"}", NULL, &ei) == LT_OK);
    CHECK(make_request(&f, "stc-auto", &CONSUMER, req_body("syt-app", FIELDS_OK, ""),
                       T(NOW_TEXT), auto_rid, &ei) == LT_OK);
    json_t *req = NULL, *b = J("{\"reason\": \"r\"}"), *out = NULL;
    CHECK(rg_request_get(f.rg, auto_rid, T(NOW_TEXT), &req) == LT_OK);
    CHECK(rg_grant_set_state(f.rg, S(req, "grant"), "suspend", &PROVIDER, b, T(NOW_TEXT), &out,
                             &ei) == LT_OK);
    json_decref(req);
    json_decref(b);
    json_decref(out);
    wh_audit_flush(f.env);
    wh_read *r = NULL;
    json_t *ops = json_array();
    CHECK(wh_read_begin(f.env, &r, &ei) == LT_OK);
    CHECK(wh_audit_list(r, 0, 100, collect_op, ops) == LT_OK);
    wh_read_end(r);
    static const char *const want[] = {"request.created", "request.rejected",
                                       "request.created", "request.approved", "grant.suspended"};
    CHECK_MSG(json_array_size(ops) == 5, "%zu entries", json_array_size(ops));
    for (size_t i = 0; i < 5 && i < json_array_size(ops); i++)
        CHECK_STR(json_string_value(json_array_get(ops, i)), want[i]);
    json_decref(ops);
    fx_close(&f);
}

int main(void)
{
    LT_RUN(test_systems);
    LT_RUN(test_request_rules);
    LT_RUN(test_request_default_and_auto);
    LT_RUN(test_decisions);
    LT_RUN(test_concurrent_approvals);
    LT_RUN(test_amendments);
    LT_RUN(test_amendment_refused);
    LT_RUN(test_join);
    LT_RUN(test_list_and_overdue);
    LT_RUN(test_audit);
    return lt_test_done();
}
