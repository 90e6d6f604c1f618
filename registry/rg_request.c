/* rg_request — asking for access (Decree 47 Arts. 35.2 and 38): default-sharing requests with
 * their 5-working-day due date (approved at once when the service has auto_approve, Decree
 * 194/2025), special requests with the 12-item agreement, and joining an agreement in force.
 * Reading and listing are in rg_request_read.c, decisions in rg_request_decide.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_share_int.h"

typedef struct req_in {
    const char *system, *purpose, *usage, *frequency, *legal_basis, *joins;
    const json_t *fields;
    json_t *agreement; /* new: the checked agreement with its version, or NULL */
    long record_estimate;
    int64_t valid_until;
} req_in;

static lt_err check_service(const rg_service *s, const rg_caller *who, lt_errinfo *ei)
{
    if (strcmp(s->status, "published") != 0)
        return lt_fail(ei, LT_E_INVALID, "service '%s' is not published (status %s)", s->id,
                       s->status);
    if (rg_caller_is(who, s->agency))
        return lt_fail(ei, LT_E_INVALID,
                       "service '%s' belongs to your own org: no request "
                       "is needed",
                       s->id);
    return LT_OK;
}

static lt_err check_terms(rg_registry *rg, const rg_service *s, const rg_caller *who,
                          const json_t *b, int64_t now, req_in *in, lt_errinfo *ei)
{
    const char *w = "request";
    bool has_until = false;
    in->record_estimate = -1;
    lt_err e = rg_req_text(b, "system", w, &in->system, ei);
    if (!e && !rg_system_of(rg, in->system, who->org))
        e = lt_fail(ei, LT_E_INVALID,
                    "request.system: '%.128s' is not a registered system of "
                    "org '%s'",
                    in->system, who->org);
    if (!e)
        e = rg_req_text(b, "purpose", w, &in->purpose, ei);
    if (!e)
        e = rg_req_text(b, "usage", w, &in->usage, ei);
    if (!e)
        e = rg_fields_check(in->fields = json_object_get(b, "fields"), s->contract, w, ei);
    if (!e)
        e = rg_opt_count(b, "record_estimate", w, &in->record_estimate, ei);
    if (!e && in->record_estimate < 0)
        e = lt_fail(ei, LT_E_INVALID,
                    "request: 'record_estimate' is required (an integer "
                    ">= 0)");
    if (!e)
        e = rg_req_text(b, "frequency", w, &in->frequency, ei);
    if (!e)
        e = rg_opt_time(b, "valid_until", w, &in->valid_until, &has_until, ei);
    if (!e && (!has_until || in->valid_until <= now))
        e = lt_fail(ei, LT_E_INVALID, "request.valid_until: required, in the future");
    if (!e)
        e = rg_opt_text(b, "legal_basis", w, &in->legal_basis, ei);
    return e;
}

/* The agreement of a join: that of an approved special request for the same service. */
static lt_err joined_agreement(rg_registry *rg, const rg_service *s, req_in *in, lt_errinfo *ei)
{
    json_t *j = NULL;
    if (rg_request_load(rg, in->joins, &j, NULL))
        return lt_fail(ei, LT_E_INVALID, "request.joins: no request '%.64s'", in->joins);
    const char *state = lt_json_str_or(j, "state");
    lt_err e = LT_OK;
    if (strcmp(lt_json_str_or(j, "service"), s->id) != 0 ||
        strcmp(lt_json_str_or(j, "sharing"), "special") != 0 ||
        (strcmp(state, "approved") != 0 && strcmp(state, "amendment_pending") != 0))
        e = lt_fail(ei, LT_E_INVALID,
                    "request.joins: '%.64s' is not an approved special "
                    "request for service '%s'",
                    in->joins, s->id);
    else if (!(in->agreement = json_deep_copy(json_object_get(j, "agreement"))))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    json_decref(j);
    return e;
}

static lt_err check_agreement(rg_registry *rg, const rg_service *s, const json_t *b, req_in *in,
                              lt_errinfo *ei)
{
    json_t *a = json_object_get(b, "agreement");
    lt_err e = rg_opt_text(b, "joins", "request", &in->joins, ei);
    if (!e && in->joins) /* the agreement in force wins over one sent with the join */
        return joined_agreement(rg, s, in, ei);
    if (e || (strcmp(s->sharing, "special") != 0 && (!a || json_is_null(a))))
        return e;
    if ((e = rg_agreement_check(a, "request", ei)))
        return e;
    if (!(in->agreement = json_deep_copy(a)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    json_object_set_new(in->agreement, "version", json_integer(1));
    return LT_OK;
}

static json_t *build_doc(rg_registry *rg, const rg_service *s, const rg_caller *who,
                         const req_in *in, int64_t now)
{
    char id[32], at[32], due[32], until[32];
    lt_random_id("req-", id, sizeof id);
    rg_time_str(now, at);
    rg_time_str(rg_working_days_after(rg, now, 5), due);
    rg_time_str(in->valid_until, until);
    json_t *d = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:s, s:s, s:s, "
        "s:s, s:s, s:I, s:[], s:[]}",
        "id", id, "service", s->id, "provider", s->agency, "org", who->org, "system", in->system,
        "sharing", s->sharing, "purpose", in->purpose, "usage", in->usage, "fields",
        json_deep_copy(in->fields), "record_estimate", (json_int_t)in->record_estimate, "frequency",
        in->frequency, "valid_until", until, "state", "pending", "due_at", due, "created_at", at,
        "version", (json_int_t)1, "agreement_versions", "history");
    if (!d)
        return NULL;
    if (in->legal_basis)
        json_object_set_new(d, "legal_basis", json_string(in->legal_basis));
    if (in->joins)
        json_object_set_new(d, "joins", json_string(in->joins));
    if (in->agreement) {
        json_object_set(d, "agreement", in->agreement);
        json_array_append_new(json_object_get(d, "agreement_versions"),
                              json_deep_copy(in->agreement));
    }
    rg_history_add(d, now, who, in->joins ? "join_requested" : "created", NULL, NULL);
    return d;
}

/* Stores the request (and, with auto_approve, its grant in the same transaction). */
static lt_err store_request(rg_registry *rg, const rg_service *s, json_t *d, int64_t now,
                            lt_errinfo *ei)
{
    json_t *g = NULL;
    const char *rid = lt_json_str(d, "id");
    /* Decree 194/2025: default-shared data is shared on request; a join is always decided. */
    if (s->auto_approve && strcmp(s->sharing, "default") == 0 && !lt_json_str(d, "joins")) {
        rg_caller platform = {s->agency, "lienthong", false};
        g = rg_request_approve(d, &platform, 0,
                               "auto_approve: default-shared data is shared "
                               "on request (Decree 194/2025)",
                               NULL, now);
        if (!g)
            return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    rg_put p[2] = {{WH_REQUESTS, rid, d, WH_NOOVERWRITE},
                   {WH_GRANTS, lt_json_str(g, "id"), g, WH_NOOVERWRITE}};
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = rg_store_many(rg, p, g ? 2 : 1, ei);
    if (!e && g)
        e = rg_grant_cache(rg, json_incref(g), ei);
    pthread_mutex_unlock(&rg->write_mu);
    json_decref(g);
    return e;
}

lt_err rg_request_create(rg_registry *rg, const char *service, const rg_caller *who,
                         const json_t *body, int64_t now_us, json_t **out, lt_errinfo *ei)
{
    static const char *const keys[] = {"system",          "purpose",   "usage",       "fields",
                                       "record_estimate", "frequency", "valid_until", "legal_basis",
                                       "agreement",       "joins",     NULL};
    rg_service *s = NULL;
    req_in in = {0};
    json_t *d = NULL;
    *out = NULL;
    if (!who->org || !*who->org)
        return lt_fail(ei, LT_E_FORBIDDEN,
                       "a request is made by an organisation: the token "
                       "names none");
    lt_err e = lt_json_check_keys(body, keys, "request", ei);
    if (!e && rg_service_get(rg, service, &s))
        e = lt_fail(ei, LT_E_NOT_FOUND, "service '%.128s' not found", service);
    if (!e)
        e = check_service(s, who, ei);
    if (!e)
        e = check_terms(rg, s, who, body, now_us, &in, ei);
    if (!e)
        e = check_agreement(rg, s, body, &in, ei);
    if (!e && !(d = build_doc(rg, s, who, &in, now_us)))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!e)
        e = store_request(rg, s, d, now_us, ei);
    if (!e) {
        const char *rid = lt_json_str(d, "id");
        char op[64];
        snprintf(op, sizeof op, "request.%s",
                 lt_json_str_or(json_array_get(json_object_get(d, "history"), 0), "action"));
        rg_share_audit(rg, who, op, s->id, rid, NULL);
        if (lt_json_str(d, "grant"))
            rg_share_audit(rg, &(rg_caller){s->agency, "lienthong", false}, "request.approved",
                           s->id, rid, lt_json_str(d, "grant"));
        rg_request_view(d, now_us);
        *out = d;
    } else {
        json_decref(d);
    }
    json_decref(in.agreement);
    rg_service_release(s);
    return e;
}
