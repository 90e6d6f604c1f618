/* gw_access_service: who reaches a service's data before any grant is looked up — the
 * operator, the owner, and the 503 answers for suspended services and maintenance windows. */
#include <string.h>

#include "gw_int.h"
#include "lt_str.h"
#include "lt_test.h"

static void req_init(gw_req *r, unsigned roles, const char *org)
{
    memset(r, 0, sizeof *r);
    r->arena = lt_arena_new(1 << 20);
    r->authed = true;
    r->who.roles = roles;
    snprintf(r->who.org, sizeof r->who.org, "%s", org);
    snprintf(r->who.sub, sizeof r->who.sub, "%s", "some-app");
    lt_buf_init(&r->out, 0);
}

static void req_done(gw_req *r)
{
    lt_buf_free(&r->out);
    lt_errinfo_clear(&r->ei);
    lt_arena_free(r->arena);
}

static void test_access_table(void)
{
    int64_t now = lt_now_us(), hour = 3600ll * 1000000;
    static const struct {
        unsigned roles;
        const char *org, *status;
        int window; /* 0 none, 1 now inside, 2 in the future, 3 over */
        gw_op op;
        bool ok;
        int http;
        const char *detail; /* substring of the problem detail */
    } cases[] = {
        {GW_ROLE_ADMIN, "000.00.12.H32", "published", 1, GW_OP_READ, true, 0, NULL},
        {GW_ROLE_AGENCY, "000.00.15.H32", "published", 1, GW_OP_WRITE, true, 0, NULL},
        {GW_ROLE_AGENCY, "000.00.15.H32", "suspended", 0, GW_OP_READ, true, 0, NULL},
        {GW_ROLE_AGENCY, "000.00.20.H32", "published", 0, GW_OP_WRITE, false, 403,
         "may not push data to"},
        {GW_ROLE_IOC, "000.00.90.H32", "published", 0, GW_OP_MANAGE, false, 403, "may not manage"},
        {GW_ROLE_AGENCY, "000.00.20.H32", "published", 1, GW_OP_READ, false, 503,
         "planned maintenance from"},
        {GW_ROLE_NATIONAL, "G01", "suspended", 0, GW_OP_READ, false, 503, "suspended"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_req r;
        req_init(&r, cases[i].roles, cases[i].org);
        rg_service svc;
        memset(&svc, 0, sizeof svc);
        svc.id = "stc-thu-ngan-sach";
        svc.agency = "000.00.15.H32";
        svc.status = cases[i].status;
        if (cases[i].window == 1) {
            svc.maint_from_us = now - hour;
            svc.maint_until_us = now + hour;
        }
        bool ok = gw_access_service(&r, &svc, cases[i].op);
        CHECK_MSG(ok == cases[i].ok, "case %zu", i);
        if (!cases[i].ok) {
            CHECK_MSG(r.status == cases[i].http, "case %zu: status %d", i, r.status);
            CHECK_MSG(strstr(lt_buf_cstr(&r.out), cases[i].detail) != NULL, "case %zu: %s", i,
                      lt_buf_cstr(&r.out));
        }
        if (cases[i].window == 1 && !cases[i].ok)
            CHECK(r.retry_after > 0 && r.retry_after <= 3601);
        req_done(&r);
    }
}

int main(void)
{
    LT_RUN(test_access_table);
    return lt_test_done();
}
