/* Sharing endpoints (API.md §5 systems, §6): requests and their decisions and amendments,
 * grants and their suspension, resumption and revocation. The rules live in the registry
 * (rg_sharing.h); these handlers pass the caller and the clock, and answer. */
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"
#include "lt_json.h"
#include "lt_str.h"

static rg_caller caller(const gw_req *r)
{
    rg_caller c = {r->who.org, r->who.sub, gw_is_admin(r)};
    return c;
}

static void answer(gw_req *r, lt_err e, int status, json_t *out)
{
    if (e) {
        json_decref(out);
        gw_reply_error(r);
        return;
    }
    const char *svc = lt_json_str(out, "service");
    if (svc && !r->service)
        r->service = lt_arena_strdup(r->arena, svc);
    gw_reply_json(r, status, out);
}

void gw_h_system_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    if (!body)
        return;
    const char *agency = lt_json_str(body, "agency");
    if (!gw_is_admin(r) && !(agency && strcmp(agency, r->who.org) == 0)) {
        gw_fail(r, LT_E_FORBIDDEN, "an agency registers systems of its own organisation only");
        return;
    }
    lt_err e = rg_system_create(r->ctx->rg, body, &out, &r->ei);
    if (!e)
        r->object = lt_arena_strdup(r->arena, lt_json_str_or(out, "id"));
    answer(r, e, 201, out);
}

void gw_h_request_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    rg_caller who = caller(r);
    if (!body)
        return;
    r->service = r->segs[2];
    lt_err e = rg_request_create(r->ctx->rg, r->segs[2], &who, body, lt_now_us(), &out, &r->ei);
    if (!e) {
        r->object = lt_arena_strdup(r->arena, lt_json_str_or(out, "id"));
        r->location = lt_arena_printf(r->arena, "/v1/requests/%s", r->object);
    }
    answer(r, e, 201, out);
}

/* Only the two parties and the operator see a request. */
static bool request_party(gw_req *r, const char *rid)
{
    char provider[64], org[64];
    if (rg_request_parties(r->ctx->rg, rid, provider, org) != LT_OK) {
        gw_fail(r, LT_E_NOT_FOUND, "no request '%.64s'", rid);
        return false;
    }
    if (gw_is_admin(r) || strcmp(r->who.org, provider) == 0 || strcmp(r->who.org, org) == 0)
        return true;
    gw_fail(r, LT_E_FORBIDDEN, "request '%.64s' concerns other organisations", rid);
    return false;
}

void gw_h_request_get(gw_req *r)
{
    json_t *out = NULL;
    r->object = r->segs[2];
    if (!request_party(r, r->segs[2]))
        return;
    lt_err e = rg_request_get(r->ctx->rg, r->segs[2], lt_now_us(), &out);
    if (e)
        lt_fail(&r->ei, e, "no request '%.64s'", r->segs[2]);
    answer(r, e, 200, out);
}

void gw_h_request_list(gw_req *r)
{
    const char *as = gw_query(r, "as"), *state = gw_query(r, "state");
    rg_caller who = caller(r);
    json_t *items = NULL;
    if (as && strcmp(as, "provider") != 0 && strcmp(as, "consumer") != 0) {
        gw_fail(r, LT_E_BAD_REQUEST, "as must be provider or consumer");
        return;
    }
    if (rg_request_list(r->ctx->rg, &who, as, state, lt_now_us(), &items, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return;
    }
    gw_reply_list(r, items, NULL);
}

static void request_action(gw_req *r,
                           lt_err (*fn)(rg_registry *, const char *, const rg_caller *,
                                        const json_t *, int64_t, json_t **, lt_errinfo *))
{
    json_t *body = gw_body_json(r), *out = NULL;
    rg_caller who = caller(r);
    r->object = r->segs[2];
    if (!body)
        return;
    lt_err e = fn(r->ctx->rg, r->segs[2], &who, body, lt_now_us(), &out, &r->ei);
    answer(r, e, 200, out);
}

void gw_h_request_decide(gw_req *r) { request_action(r, rg_request_decide); }
void gw_h_request_amend(gw_req *r) { request_action(r, rg_request_amend); }

void gw_h_grant_create(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    rg_caller who = caller(r);
    if (!body)
        return;
    lt_err e = rg_grant_create(r->ctx->rg, &who, body, lt_now_us(), &out, &r->ei);
    if (!e) {
        r->object = lt_arena_strdup(r->arena, lt_json_str_or(out, "id"));
        r->location = lt_arena_printf(r->arena, "/v1/grants/%s", r->object);
    }
    answer(r, e, 201, out);
}

void gw_h_grant_list(gw_req *r)
{
    const char *as = gw_query(r, "as");
    rg_caller who = caller(r);
    json_t *items = NULL;
    if (as && strcmp(as, "provider") != 0 && strcmp(as, "consumer") != 0) {
        gw_fail(r, LT_E_BAD_REQUEST, "as must be provider or consumer");
        return;
    }
    if (rg_grant_list(r->ctx->rg, &who, as, lt_now_us(), &items, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return;
    }
    gw_reply_list(r, items, NULL);
}

void gw_h_grant_get(gw_req *r)
{
    json_t *out = NULL;
    r->object = r->segs[2];
    if (rg_grant_get(r->ctx->rg, r->segs[2], &out) != LT_OK) {
        gw_fail(r, LT_E_NOT_FOUND, "no grant '%.64s'", r->segs[2]);
        return;
    }
    const char *svc = lt_json_str_or(out, "service");
    rg_service *s = NULL;
    bool provider = rg_service_get(r->ctx->rg, svc, &s) == LT_OK && s &&
                    strcmp(s->agency, r->who.org) == 0;
    rg_service_release(s);
    if (!gw_is_admin(r) && !provider && strcmp(lt_json_str_or(out, "org"), r->who.org) != 0) {
        json_decref(out);
        gw_fail(r, LT_E_FORBIDDEN, "grant '%.64s' concerns other organisations", r->segs[2]);
        return;
    }
    answer(r, LT_OK, 200, out);
}

void gw_h_grant_state(gw_req *r)
{
    json_t *body = gw_body_json(r), *out = NULL;
    rg_caller who = caller(r);
    r->object = r->segs[2];
    if (!body)
        return;
    lt_err e = rg_grant_set_state(r->ctx->rg, r->segs[2], r->segs[3], &who, body, lt_now_us(),
                                  &out, &r->ei);
    answer(r, e, 200, out);
}

void gw_h_system_list(gw_req *r) { gw_list_kind(r, WH_SYSTEMS); }
void gw_h_system_get(gw_req *r) { gw_get_kind(r, WH_SYSTEMS, "system"); }
