/* The route table: method + path pattern → handler, allowed roles and audit flag.
 * Matching compares pre-split segments; it allocates nothing. */
#include <stdio.h>
#include <string.h>

#include "gw_int.h"

#define ANY (GW_ROLE_ADMIN | GW_ROLE_AGENCY | GW_ROLE_NATIONAL | GW_ROLE_IOC)
#define ADMIN GW_ROLE_ADMIN
#define ADMIN_AGENCY (GW_ROLE_ADMIN | GW_ROLE_AGENCY)
#define CONSUMERS (GW_ROLE_AGENCY | GW_ROLE_NATIONAL | GW_ROLE_IOC)

static const gw_route routes[] = {
    {"GET", "/healthz", gw_h_healthz, 0, GW_PUBLIC, "healthz"},
    {"GET", "/metrics", gw_h_metrics, 0, GW_PUBLIC, "metrics"},
    {"GET", "/v1/audit", gw_h_audit_list, ADMIN, 0, "audit.list"},
    {"GET", "/v1/audit/verify", gw_h_audit_verify, ADMIN, 0, "audit.verify"},
    {"GET", "/v1/audit/export", gw_h_audit_export, ADMIN, 0, "audit.export"},
    {"POST", "/v1/agencies", gw_h_agency_create, ADMIN, GW_AUDIT, "agencies.create"},
    {"GET", "/v1/agencies", gw_h_agency_list, ANY, GW_AUDIT, "agencies.list"},
    {"GET", "/v1/agencies/{}", gw_h_agency_get, ANY, GW_AUDIT, "agencies.get"},
    {"GET", "/v1/codelists", gw_h_codelist_list, ANY, GW_AUDIT, "codelists.list"},
    {"GET", "/v1/codelists/{}", gw_h_codelist_get, ANY, GW_AUDIT, "codelists.get"},
    {"PUT", "/v1/codelists/{}", gw_h_codelist_put, ADMIN, GW_AUDIT, "codelists.put"},
    {"GET", "/v1/contracts", gw_h_contract_list, ANY, GW_AUDIT, "contracts.list"},
    {"POST", "/v1/contracts", gw_h_contract_create, ADMIN, GW_AUDIT, "contracts.create"},
    {"GET", "/v1/contracts/{}", gw_h_contract_get, ANY, GW_AUDIT, "contracts.get"},
    {"POST", "/v1/services", gw_h_service_create, ADMIN_AGENCY, GW_AUDIT, "services.create"},
    {"GET", "/v1/services/{}", gw_h_service_get, ANY, GW_AUDIT, "services.get"},
    {"PUT", "/v1/services/{}", gw_h_service_put, ADMIN_AGENCY, GW_AUDIT, "services.update"},
    {"POST", "/v1/services/{}/status", gw_h_service_status, ADMIN_AGENCY, GW_AUDIT,
     "services.status"},
    {"GET", "/v1/catalog", gw_h_catalog, ANY, GW_AUDIT, "catalog"},
    {"POST", "/v1/services/{}/records", gw_h_records_push, ADMIN_AGENCY, GW_AUDIT,
     "records.push"},
    {"GET", "/v1/services/{}/records", gw_h_records_list, ANY, GW_AUDIT, "records.list"},
    {"GET", "/v1/services/{}/records/{}", gw_h_record_get, ANY, GW_AUDIT, "records.get"},
    {"GET", "/v1/services/{}/quarantine", gw_h_quarantine_list, ADMIN_AGENCY, GW_AUDIT,
     "quarantine.list"},
    {"POST", "/v1/services/{}/quarantine/{}/retry", gw_h_quarantine_retry, ADMIN_AGENCY,
     GW_AUDIT, "quarantine.retry"},
    {"POST", "/v1/systems", gw_h_system_create, ADMIN_AGENCY, GW_AUDIT, "systems.create"},
    {"GET", "/v1/systems", gw_h_system_list, ANY, GW_AUDIT, "systems.list"},
    {"GET", "/v1/systems/{}", gw_h_system_get, ANY, GW_AUDIT, "systems.get"},
    {"POST", "/v1/services/{}/requests", gw_h_request_create, CONSUMERS, GW_AUDIT,
     "requests.create"},
    {"GET", "/v1/requests", gw_h_request_list, ANY, GW_AUDIT, "requests.list"},
    {"GET", "/v1/requests/{}", gw_h_request_get, ANY, GW_AUDIT, "requests.get"},
    {"POST", "/v1/requests/{}/decision", gw_h_request_decide, ANY, GW_AUDIT,
     "requests.decision"},
    {"POST", "/v1/requests/{}/amend", gw_h_request_amend, ANY, GW_AUDIT, "requests.amend"},
    {"POST", "/v1/grants", gw_h_grant_create, ADMIN, GW_AUDIT, "grants.create"},
    {"GET", "/v1/grants", gw_h_grant_list, ANY, GW_AUDIT, "grants.list"},
    {"GET", "/v1/grants/{}", gw_h_grant_get, ANY, GW_AUDIT, "grants.get"},
    {"POST", "/v1/grants/{}/suspend", gw_h_grant_state, ADMIN_AGENCY, GW_AUDIT,
     "grants.suspend"},
    {"POST", "/v1/grants/{}/resume", gw_h_grant_state, ADMIN_AGENCY, GW_AUDIT, "grants.resume"},
    {"POST", "/v1/grants/{}/revoke", gw_h_grant_state, ADMIN_AGENCY, GW_AUDIT, "grants.revoke"},
    {"POST", "/v1/services/{}/pull", gw_h_pull_now, ADMIN_AGENCY, GW_AUDIT, "pulls.run"},
    {"GET", "/v1/services/{}/pulls", gw_h_pull_list, ADMIN_AGENCY, GW_AUDIT, "pulls.list"},
    {"POST", "/v1/services/{}/call", gw_h_relay, ANY, GW_AUDIT, "relay.call"},
    {"GET", "/v1/services/{}/call", gw_h_relay, ANY, GW_AUDIT, "relay.call"},
    {"GET", "/v1/services/{}/wsdl", gw_h_wsdl, ANY, GW_AUDIT, "soap.wsdl"},
    {"POST", "/soap/{}", gw_h_soap, ANY, GW_AUDIT, "soap.call"},
    {"GET", "/v1/indicators", gw_h_indicator_list, ANY, GW_AUDIT, "indicators.list"},
    {"GET", "/v1/indicators/{}", gw_h_indicator_get, ANY, GW_AUDIT, "indicators.get"},
    {"PUT", "/v1/indicators/{}", gw_h_indicator_put, ADMIN, GW_AUDIT, "indicators.put"},
    {"GET", "/v1/observations", gw_h_observations, ANY, GW_AUDIT, "observations"},
    {"GET", "/v1/alerts", gw_h_alerts, ANY, GW_AUDIT, "alerts"},
    /* SDMX REST (API.md §9): missing trailing parts mean "all" / "latest", as in SDMX. */
    {"GET", "/sdmx/data/{}", gw_h_sdmx_data, ANY, GW_AUDIT, "sdmx.data"},
    {"GET", "/sdmx/data/{}/{}", gw_h_sdmx_data, ANY, GW_AUDIT, "sdmx.data"},
    {"GET", "/sdmx/data/{}/{}/{}", gw_h_sdmx_data, ANY, GW_AUDIT, "sdmx.data"},
    {"GET", "/sdmx/{}", gw_h_sdmx_structure, ANY, GW_AUDIT, "sdmx.structure"},
    {"GET", "/sdmx/{}/{}", gw_h_sdmx_structure, ANY, GW_AUDIT, "sdmx.structure"},
    {"GET", "/sdmx/{}/{}/{}", gw_h_sdmx_structure, ANY, GW_AUDIT, "sdmx.structure"},
    {"GET", "/sdmx/{}/{}/{}/{}", gw_h_sdmx_structure, ANY, GW_AUDIT, "sdmx.structure"},
};

#define NROUTES ((int)(sizeof routes / sizeof routes[0]))

int gw_route_count(void) { return NROUTES; }
const gw_route *gw_route_at(int i) { return i >= 0 && i < NROUTES ? &routes[i] : NULL; }

/* True when the pattern's segments match the request's segments. */
static bool pattern_match(const char *pat, const gw_req *r)
{
    int i = 0;
    const char *p = pat;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (i >= r->nsegs)
            return false;
        if (!(n == 2 && p[0] == '{' && p[1] == '}') &&
            (strlen(r->segs[i]) != n || memcmp(r->segs[i], p, n) != 0))
            return false;
        i++;
        p += n;
    }
    return i == r->nsegs;
}

static bool allow_has(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; (p = strstr(p, method)) != NULL; p += n)
        if ((p == allow || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

const gw_route *gw_route_match(const char *method, gw_req *r, int *index, bool *path_known)
{
    *path_known = false;
    r->allow[0] = '\0';
    for (int i = 0; i < NROUTES; i++) {
        if (!pattern_match(routes[i].pattern, r))
            continue;
        *path_known = true;
        size_t n = strlen(r->allow); /* the Allow header of a 405, each method once */
        if (!allow_has(r->allow, routes[i].method))
            snprintf(r->allow + n, sizeof r->allow - n, "%s%s", n ? ", " : "",
                     routes[i].method);
        if (strcmp(routes[i].method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(routes[i].method, "GET") == 0)) {
            *index = i;
            return &routes[i];
        }
    }
    return NULL;
}
