/* Route table: every pattern matches what it should, methods give 405-vs-404 correctly. */
#include <string.h>

#include "gw_int.h"
#include "lt_test.h"

static void test_match_table(void)
{
    static const struct {
        const char *method, *path, *op; /* op NULL: no route */
        bool known;
    } cases[] = {
        {"GET", "/healthz", "healthz", true},
        {"HEAD", "/healthz", "healthz", true},
        {"GET", "/v1/agencies", "agencies.list", true},
        {"POST", "/v1/agencies", "agencies.create", true},
        {"GET", "/v1/agencies/000.00.15.H32", "agencies.get", true},
        {"DELETE", "/v1/agencies/x", NULL, true},
        {"GET", "/v1/services/s1/records", "records.list", true},
        {"POST", "/v1/services/s1/records", "records.push", true},
        {"GET", "/v1/services/s1/records/A~20~2026-M10", "records.get", true},
        {"POST", "/v1/services/s1/quarantine/q-1/retry", "quarantine.retry", true},
        {"GET", "/v1/services/s1/quarantine/q-1/retry", NULL, true},
        {"GET", "/v1/nothing", NULL, false},
        {"GET", "/v1/services/s1/records/a/b", NULL, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gw_req r;
        memset(&r, 0, sizeof r);
        char path[256];
        snprintf(path, sizeof path, "%s", cases[i].path);
        char *save = NULL;
        for (char *t = strtok_r(path, "/", &save); t; t = strtok_r(NULL, "/", &save))
            r.segs[r.nsegs++] = t;
        int idx = -1;
        bool known = false;
        const gw_route *rt = gw_route_match(cases[i].method, &r, &idx, &known);
        if (cases[i].op) {
            CHECK_MSG(rt && strcmp(rt->op, cases[i].op) == 0, "%s %s", cases[i].method,
                      cases[i].path);
            CHECK(rt && gw_route_at(idx) == rt);
        } else {
            CHECK_MSG(rt == NULL, "%s %s", cases[i].method, cases[i].path);
        }
        CHECK_MSG(known == cases[i].known, "%s %s", cases[i].method, cases[i].path);
    }
}

static void test_every_route_has_an_op(void)
{
    CHECK(gw_route_count() <= GW_MAX_ROUTES);
    for (int i = 0; i < gw_route_count(); i++) {
        const gw_route *rt = gw_route_at(i);
        CHECK(rt->op && rt->fn && rt->pattern[0] == '/');
        CHECK((rt->flags & GW_PUBLIC) || rt->roles != 0);
    }
}

int main(void)
{
    LT_RUN(test_match_table);
    LT_RUN(test_every_route_has_an_op);
    return lt_test_done();
}
