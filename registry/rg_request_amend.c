/* rg_request_amend — amendments of an approved request (Decree 47 Art. 39: every change of an
 * agreement is recorded and agreed again): either party proposes new terms, the other party
 * (or the operator) approves them — the request, its agreement version and its grant change
 * in one transaction — or rejects them. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "rg_share_int.h"

/* The proposed changes, checked: a new object with only the members given. */
static lt_err parse_changes(rg_registry *rg, const json_t *req, const json_t *body, int64_t now,
                            json_t **changes, const char **reason, lt_errinfo *ei)
{
    static const char *const keys[] = {"fields",        "valid_until", "agreement",
                                       "quota_per_day", "reason",      NULL};
    const char *w = "amend";
    int64_t until = 0;
    long quota = -1;
    bool has_until = false;
    lt_err e = lt_json_check_keys(body, keys, w, ei);
    if (!e)
        e = rg_req_text(body, "reason", w, reason, ei);
    json_t *fields = json_object_get(body, "fields"), *a = json_object_get(body, "agreement");
    const ct_contract *c = rg_service_contract(rg, lt_json_str(req, "service"));
    if (!e && !c)
        e = lt_fail(ei, LT_E_CONFLICT, "the service of this request no longer exists");
    if (!e && fields)
        e = rg_fields_check(fields, c, w, ei);
    if (!e)
        e = rg_opt_time(body, "valid_until", w, &until, &has_until, ei);
    if (!e && has_until && until <= now)
        e = lt_fail(ei, LT_E_INVALID, "amend.valid_until: must be in the future");
    if (!e && a)
        e = rg_agreement_check(a, w, ei);
    if (!e)
        e = rg_opt_count(body, "quota_per_day", w, &quota, ei);
    if (!e && !fields && !has_until && !a && quota < 0)
        e = lt_fail(ei, LT_E_INVALID,
                    "amend: nothing to change (fields, valid_until, "
                    "agreement or quota_per_day)");
    if (e)
        return e;
    *changes = json_deep_copy(body);
    json_object_del(*changes, "reason");
    json_object_del(json_object_get(*changes, "agreement"), "version");
    return *changes ? LT_OK : lt_fail(ei, LT_E_NOMEM, "out of memory");
}

static lt_err may_amend(rg_registry *rg, const json_t *req, const rg_caller *who, lt_errinfo *ei)
{
    const char *rid = lt_json_str_or(req, "id"), *state = lt_json_str_or(req, "state");
    json_t *g = NULL;
    if (!rg_caller_is(who, lt_json_str(req, "provider")) &&
        !rg_caller_is(who, lt_json_str(req, "org")))
        return lt_fail(ei, LT_E_FORBIDDEN, "only the parties of request %s may amend it", rid);
    if (strcmp(state, "approved") != 0)
        return lt_fail(ei, LT_E_CONFLICT,
                       "request %s is %s: only an approved request is "
                       "amended",
                       rid, state);
    if (rg_grant_doc(rg, lt_json_str(req, "grant"), &g))
        return lt_fail(ei, LT_E_CONFLICT, "request %s has no grant", rid);
    bool revoked = strcmp(lt_json_str_or(g, "state"), "revoked") == 0;
    json_decref(g);
    if (revoked)
        return lt_fail(ei, LT_E_CONFLICT, "the grant of request %s is revoked", rid);
    return LT_OK;
}

static lt_err amend_locked(rg_registry *rg, const char *rid, const rg_caller *who,
                           const json_t *body, int64_t now, json_t **req, lt_errinfo *ei)
{
    json_t *changes = NULL;
    const char *reason = NULL;
    char at[32];
    lt_err e = rg_request_load(rg, rid, req, ei);
    if (!e)
        e = may_amend(rg, *req, who, ei);
    if (!e)
        e = parse_changes(rg, *req, body, now, &changes, &reason, ei);
    if (e)
        return e;
    rg_time_str(now, at);
    json_int_t version = json_integer_value(json_object_get(*req, "version")) + 1;
    json_t *am = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "version", version, "by_org", who->org,
                           "by_system", who->system ? who->system : "", "at", at, "reason", reason,
                           "changes", changes);
    if (!am)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    json_object_set_new(*req, "amendment", am);
    json_object_set_new(*req, "state", json_string("amendment_pending"));
    rg_history_add(*req, now, who, "amendment_proposed", reason, NULL);
    /* The history keeps what was proposed: the amendment member goes once it is decided. */
    json_t *hist = json_object_get(*req, "history");
    json_t *last = json_array_get(hist, json_array_size(hist) - 1);
    json_object_set_new(last, "version", json_integer(version));
    json_object_set(last, "changes", json_object_get(am, "changes"));
    rg_put p = {WH_REQUESTS, rid, *req, 0};
    return rg_store_many(rg, &p, 1, ei);
}

lt_err rg_request_amend(rg_registry *rg, const char *rid, const rg_caller *who, const json_t *body,
                        int64_t now_us, json_t **out, lt_errinfo *ei)
{
    json_t *req = NULL;
    *out = NULL;
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = amend_locked(rg, rid, who, body, now_us, &req, ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (e) {
        json_decref(req);
        return e;
    }
    rg_share_audit(rg, who, "request.amendment_proposed", lt_json_str(req, "service"), rid,
                   lt_json_str(req, "grant"));
    rg_request_view(req, now_us);
    *out = req;
    return LT_OK;
}

/* ---- the other party's decision ---- */

/* The agreement after the amendment: the proposed one, or the current one, version + 1. */
static void next_agreement(json_t *req, const json_t *changes)
{
    json_t *cur = json_object_get(req, "agreement"), *prop = json_object_get(changes, "agreement");
    if (!cur && !prop)
        return;
    json_t *next = json_deep_copy(prop ? prop : cur);
    json_int_t v = json_integer_value(json_object_get(cur, "version"));
    json_object_set_new(next, "version", json_integer(v + 1));
    json_object_set_new(req, "agreement", next);
    json_t *versions = json_object_get(req, "agreement_versions");
    if (!versions)
        json_object_set_new(req, "agreement_versions", versions = json_array());
    json_array_append_new(versions, json_deep_copy(next));
}

static void apply_changes(json_t *req, json_t *g, const json_t *am, const rg_caller *who,
                          int64_t now)
{
    const json_t *ch = json_object_get(am, "changes");
    static const char *const shared[] = {"fields", "valid_until", NULL};
    char at[32];
    for (const char *const *k = shared; *k; k++) {
        json_t *v = json_object_get(ch, *k);
        if (v) {
            json_object_set_new(req, *k, json_deep_copy(v));
            json_object_set_new(g, *k, json_deep_copy(v));
        }
    }
    if (json_object_get(ch, "quota_per_day"))
        json_object_set(g, "quota_per_day", json_object_get(ch, "quota_per_day"));
    next_agreement(req, ch);
    json_object_set(req, "version", json_object_get(am, "version"));
    rg_time_str(now, at);
    json_object_set_new(g, "updated_at", json_string(at));
    rg_history_add(g, now, who, "amended", lt_json_str(am, "reason"), NULL);
}

lt_err rg_amendment_decide(rg_registry *rg, json_t *req, const rg_caller *who, bool approve,
                           const char *reason, const char *legal_basis, int64_t now, lt_errinfo *ei)
{
    const char *rid = lt_json_str(req, "id"), *gid = lt_json_str(req, "grant");
    json_t *g = NULL;
    lt_err e = LT_OK;
    if (approve && (e = rg_grant_doc(rg, gid, &g)))
        return lt_fail(ei, LT_E_CONFLICT, "request %s has no grant to amend", rid);
    if (approve && strcmp(lt_json_str_or(g, "state"), "revoked") == 0)
        e = lt_fail(ei, LT_E_CONFLICT, "the grant of request %s was revoked", rid);
    if (!e && approve)
        apply_changes(req, g, json_object_get(req, "amendment"), who, now);
    if (!e) {
        json_object_set_new(req, "state", json_string("approved"));
        json_t *v = json_object_get(json_object_get(req, "amendment"), "version");
        rg_history_add(req, now, who, approve ? "amendment_approved" : "amendment_rejected", reason,
                       legal_basis);
        json_t *hist = json_object_get(req, "history");
        json_object_set(json_array_get(hist, json_array_size(hist) - 1), "version", v);
        json_object_del(req, "amendment");
        rg_put p[2] = {{WH_REQUESTS, rid, req, 0}, {WH_GRANTS, gid, g, 0}};
        e = rg_store_many(rg, p, g ? 2 : 1, ei);
    }
    if (!e && g)
        e = rg_grant_cache(rg, json_incref(g), ei);
    json_decref(g);
    return e;
}
