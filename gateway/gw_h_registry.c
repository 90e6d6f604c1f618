/* Registry endpoints (API.md §5): agencies, code lists, contracts, services, catalog,
 * indicators. Handlers orchestrate; validation lives in the registry. */
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "lt_json.h"
#include "lt_str.h"
#include "rg_sharing.h"

static void reply_result(gw_req *r, lt_err e, int status, json_t *out)
{
    if (e) {
        json_decref(out);
        gw_reply_error(r);
        return;
    }
    gw_reply_json(r, status, out);
}

void gw_list_kind(gw_req *r, wh_kind kind)
{
    size_t limit;
    const char *cursor;
    json_t *items = NULL;
    char *next = NULL;
    if (!gw_paging(r, &limit, &cursor))
        return;
    if (rg_list(r->ctx->rg, kind, cursor, limit, &items, &next, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return;
    }
    gw_reply_list(r, items, next);
    free(next);
}

void gw_get_kind(gw_req *r, wh_kind kind, const char *what)
{
    json_t *out = NULL;
    if (rg_doc_get(r->ctx->rg, kind, r->segs[2], &out) != LT_OK) {
        gw_fail(r, LT_E_NOT_FOUND, "no %s '%.128s'", what, r->segs[2]);
        return;
    }
    gw_reply_json(r, 200, out);
}

void gw_h_agency_list(gw_req *r) { gw_list_kind(r, WH_AGENCIES); }
void gw_h_agency_get(gw_req *r) { gw_get_kind(r, WH_AGENCIES, "agency"); }
void gw_h_codelist_list(gw_req *r) { gw_list_kind(r, WH_CODELISTS); }
void gw_h_codelist_get(gw_req *r) { gw_get_kind(r, WH_CODELISTS, "code list"); }
void gw_h_contract_list(gw_req *r) { gw_list_kind(r, WH_CONTRACTS); }
void gw_h_contract_get(gw_req *r) { gw_get_kind(r, WH_CONTRACTS, "contract"); }
void gw_h_indicator_list(gw_req *r) { gw_list_kind(r, WH_INDICATORS); }
void gw_h_indicator_get(gw_req *r) { gw_get_kind(r, WH_INDICATORS, "indicator"); }

void gw_h_agency_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    if (!body)
        return;
    lt_err e = rg_agency_create(r->ctx->rg, body, &out, &r->ei);
    if (!e)
        r->location = lt_arena_printf(r->arena, "/v1/agencies/%s", lt_json_str_or(out, "code"));
    reply_result(r, e, 201, out);
}

void gw_h_codelist_put(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    bool created = false;
    if (!body)
        return;
    lt_err e = rg_codelist_put(r->ctx->rg, r->segs[2], body, &created, &out, &r->ei);
    reply_result(r, e, created ? 201 : 200, out);
}

void gw_h_contract_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    if (!body)
        return;
    lt_err e = rg_contract_create(r->ctx->rg, body, &out, &r->ei);
    reply_result(r, e, 201, out);
}

/* An agency may register and change only its own services. */
static bool own_agency(gw_req *r, const char *agency)
{
    if (gw_is_admin(r) || (agency && strcmp(agency, r->who.org) == 0))
        return true;
    gw_fail(r, LT_E_FORBIDDEN, "organisation '%s' may not manage services of '%.64s'",
            r->who.org[0] ? r->who.org : "(none)", agency ? agency : "(none)");
    return false;
}

void gw_h_service_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    if (!body || !own_agency(r, lt_json_str(body, "agency")))
        return;
    lt_err e = rg_service_create(r->ctx->rg, body, false, &out, &r->ei);
    if (!e) {
        r->service = lt_arena_strdup(r->arena, lt_json_str_or(out, "id"));
        r->location = lt_arena_printf(r->arena, "/v1/services/%s", r->service);
    }
    reply_result(r, e, 201, out);
}

void gw_h_service_get(gw_req *r)
{
    rg_service *s = gw_load_service(r, 2);
    if (s)
        gw_reply_json(r, 200, json_incref(s->def));
}

void gw_h_service_put(gw_req *r)
{
    rg_service *s = gw_load_service(r, 2);
    json_t *body, *out = NULL;
    if (!s || !own_agency(r, s->agency) || !(body = gw_body_json(r)))
        return;
    lt_err e = rg_service_update(r->ctx->rg, s->id, body, &out, &r->ei);
    reply_result(r, e, 200, out);
}

void gw_h_service_status(gw_req *r)
{
    rg_service *s = gw_load_service(r, 2);
    json_t *body, *out = NULL;
    if (!s || !own_agency(r, s->agency) || !(body = gw_body_json(r)))
        return;
    lt_err e = rg_service_set_status(r->ctx->rg, s->id, body, &out, &r->ei);
    reply_result(r, e, 200, out);
}

void gw_h_catalog(gw_req *r)
{
    rg_catalog_filter f = {gw_query(r, "agency"), gw_query(r, "contract"),
                           gw_query(r, "sharing"), gw_query(r, "q")};
    const char *allowed = gw_query(r, "allowed");
    json_t *items = NULL;
    if (rg_catalog(r->ctx->rg, &f, &items, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return;
    }
    if (allowed && strcmp(allowed, "true") == 0 && !gw_is_admin(r)) {
        /* What the caller may use (X-Road's allowedMethods): its own organisation's services
         * and those it holds a live grant for. */
        json_t *granted = NULL;
        if (rg_grant_services(r->ctx->rg, r->who.org, r->who.sub, lt_now_us(), &granted)) {
            json_decref(items);
            gw_fail(r, LT_E_INTERNAL, "cannot read grants");
            return;
        }
        size_t i = 0;
        while (i < json_array_size(items)) {
            json_t *it = json_array_get(items, i);
            bool keep = strcmp(lt_json_str_or(it, "agency"), r->who.org) == 0;
            size_t j;
            json_t *g;
            json_array_foreach(granted, j, g) {
                keep = keep || strcmp(json_string_value(g), lt_json_str_or(it, "id")) == 0;
            }
            if (keep)
                i++;
            else
                json_array_remove(items, i);
        }
        json_decref(granted);
    }
    gw_reply_list(r, items, NULL);
}

/* PUT /v1/indicators/{code} (admin, checked by the route): 201 created, 200 replaced. */
void gw_h_indicator_put(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    bool created = false;
    if (!body)
        return;
    lt_err e = rg_indicator_put(r->ctx->rg, r->segs[2], body, &created, &out, &r->ei);
    if (!e && created)
        r->location = lt_arena_printf(r->arena, "/v1/indicators/%s", lt_json_str_or(out, "code"));
    reply_result(r, e, created ? 201 : 200, out);
}
