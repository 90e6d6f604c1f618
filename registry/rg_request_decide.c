/* rg_request_decide — the provider's decision on a request (approve: the grant is created in
 * the same transaction; reject: reason and legal basis required, Decree 194/2025), and the
 * other party's decision on a proposed amendment. Everything runs under write_mu from reading
 * the stored request to caching the grant, so two concurrent approvals give one grant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "rg_share_int.h"

typedef struct decision {
    const char *decision, *reason, *legal_basis;
    long quota;
} decision;

static lt_err parse_decision(const json_t *body, decision *d, lt_errinfo *ei)
{
    static const char *const keys[] = {"decision", "reason", "legal_basis", "quota_per_day", NULL};
    const char *w = "decision";
    lt_err e = lt_json_check_keys(body, keys, w, ei);
    if (!e)
        e = rg_req_text(body, "decision", w, &d->decision, ei);
    if (!e && strcmp(d->decision, "approve") != 0 && strcmp(d->decision, "reject") != 0)
        e = lt_fail(ei, LT_E_INVALID, "decision.decision: '%.32s' is not approve or reject",
                    d->decision);
    if (!e)
        e = rg_opt_text(body, "reason", w, &d->reason, ei);
    if (!e)
        e = rg_opt_text(body, "legal_basis", w, &d->legal_basis, ei);
    if (!e)
        e = rg_opt_count(body, "quota_per_day", w, &d->quota, ei);
    if (d->reason && !*d->reason)
        d->reason = NULL;
    if (d->legal_basis && !*d->legal_basis)
        d->legal_basis = NULL;
    if (!e && strcmp(d->decision, "reject") == 0 && (!d->reason || !d->legal_basis))
        e = lt_fail(ei, LT_E_INVALID,
                    "decision: a refusal needs 'reason' and 'legal_basis' "
                    "(Decree 194/2025: refusals are written, with their legal basis)");
    return e;
}

/* Who may decide: the provider (or admin) on a pending request; on a pending amendment the
 * party that did not propose it (or admin). Then the state must be decidable. */
static lt_err may_decide(const json_t *req, const rg_caller *who, lt_errinfo *ei)
{
    const char *rid = lt_json_str_or(req, "id"), *state = lt_json_str_or(req, "state");
    const char *provider = lt_json_str(req, "provider"), *org = lt_json_str(req, "org");
    if (strcmp(state, "amendment_pending") == 0) {
        const char *by = lt_json_str(json_object_get(req, "amendment"), "by_org");
        bool party = rg_caller_is(who, provider) || rg_caller_is(who, org);
        if (who->admin || (party && !rg_caller_is(who, by)))
            return LT_OK;
        return lt_fail(ei, LT_E_FORBIDDEN,
                       party ? "the amendment of request %s was proposed "
                               "by your org: only the other party decides it"
                             : "only the parties of request %s decide its amendment",
                       rid);
    }
    if (!who->admin && !rg_caller_is(who, provider))
        return lt_fail(ei, LT_E_FORBIDDEN,
                       "only the provider org '%s' (or the operator) "
                       "decides request %s",
                       provider ? provider : "", rid);
    if (strcmp(state, "pending") != 0)
        return lt_fail(ei, LT_E_CONFLICT, "request %s is %s: it was already decided", rid, state);
    return LT_OK;
}

static void set_decision(json_t *req, const rg_caller *who, const char *what, const char *reason,
                         const char *legal_basis, int64_t now)
{
    char at[32];
    rg_time_str(now, at);
    json_t *d = json_pack("{s:s, s:s, s:s}", "decision", what, "by_org", who->org ? who->org : "",
                          "by_system", who->system ? who->system : "");
    json_object_set_new(d, "reason", reason ? json_string(reason) : json_null());
    json_object_set_new(d, "legal_basis", legal_basis ? json_string(legal_basis) : json_null());
    json_object_set_new(req, "decision", d);
    json_object_set_new(req, "decided_at", json_string(at));
}

json_t *rg_request_approve(json_t *req, const rg_caller *who, long quota, const char *reason,
                           const char *legal_basis, int64_t now)
{
    const char *rid = lt_json_str(req, "id");
    rg_grant_terms t = {lt_json_str(req, "org"),
                        lt_json_str(req, "system"),
                        lt_json_str(req, "service"),
                        lt_json_str(req, "provider"),
                        json_object_get(req, "fields"),
                        now,
                        rg_time_of(req, "valid_until"),
                        quota,
                        rid};
    json_t *g = rg_grant_doc_new(&t, now);
    if (!g)
        return NULL;
    rg_history_add(g, now, who, "created", "approval of the request", NULL);
    set_decision(req, who, "approve", reason, legal_basis, now);
    json_object_set_new(req, "state", json_string("approved"));
    json_object_set(req, "grant", json_object_get(g, "id"));
    rg_history_add(req, now, who, "approved", reason, legal_basis);
    return g;
}

static lt_err decide_pending(rg_registry *rg, json_t *req, const rg_caller *who, const decision *d,
                             int64_t now, lt_errinfo *ei)
{
    const char *rid = lt_json_str(req, "id");
    json_t *g = NULL;
    if (strcmp(d->decision, "approve") == 0) {
        if (!(g = rg_request_approve(req, who, d->quota, d->reason, d->legal_basis, now)))
            return lt_fail(ei, LT_E_NOMEM, "out of memory");
    } else {
        set_decision(req, who, "reject", d->reason, d->legal_basis, now);
        json_object_set_new(req, "state", json_string("rejected"));
        rg_history_add(req, now, who, "rejected", d->reason, d->legal_basis);
    }
    rg_put p[2] = {{WH_REQUESTS, rid, req, 0},
                   {WH_GRANTS, lt_json_str(g, "id"), g, WH_NOOVERWRITE}};
    lt_err e = rg_store_many(rg, p, g ? 2 : 1, ei);
    if (!e && g)
        e = rg_grant_cache(rg, json_incref(g), ei);
    json_decref(g);
    return e;
}

static lt_err decide_locked(rg_registry *rg, const char *rid, const rg_caller *who,
                            const json_t *body, int64_t now, json_t **req, lt_errinfo *ei)
{
    decision d = {0};
    lt_err e = rg_request_load(rg, rid, req, ei);
    if (!e)
        e = may_decide(*req, who, ei);
    if (!e)
        e = parse_decision(body, &d, ei);
    if (e)
        return e;
    bool approve = strcmp(d.decision, "approve") == 0;
    if (strcmp(lt_json_str_or(*req, "state"), "amendment_pending") == 0)
        return rg_amendment_decide(rg, *req, who, approve, d.reason, d.legal_basis, now, ei);
    return decide_pending(rg, *req, who, &d, now, ei);
}

lt_err rg_request_decide(rg_registry *rg, const char *rid, const rg_caller *who, const json_t *body,
                         int64_t now_us, json_t **out, lt_errinfo *ei)
{
    json_t *req = NULL;
    *out = NULL;
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = decide_locked(rg, rid, who, body, now_us, &req, ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (e) {
        json_decref(req);
        return e;
    }
    char op[64];
    snprintf(op, sizeof op, "request.%s", rg_last_action(req));
    rg_share_audit(rg, who, op, lt_json_str(req, "service"), rid, lt_json_str(req, "grant"));
    rg_request_view(req, now_us);
    *out = req;
    return LT_OK;
}
