/* rg_service_status — a service's status (draft → published ⇄ suspended, any → retired, final)
 * and its planned maintenance windows (Decree 47 Art. 43: announced at least 7 working days
 * ahead). A window does not change the status: the service stays published and its data
 * paths answer 503 inside [from, until). */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_share_int.h"

typedef struct status_req {
    const char *to, *reason;
    int64_t when, until; /* effective_at (default now), until (maintenance) */
    bool has_when, has_until;
} status_req;

static bool transition_ok(const char *from, const char *to)
{
    static const struct {
        const char *from, *to;
    } allowed[] = {
        {"draft", "published"}, {"published", "suspended"}, {"suspended", "published"},
        {"draft", "retired"},   {"published", "retired"},   {"suspended", "retired"},
    };
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        if (strcmp(allowed[i].from, from) == 0 && strcmp(allowed[i].to, to) == 0)
            return true;
    return false;
}

static lt_err parse_status(const json_t *body, status_req *r, int64_t now, lt_errinfo *ei)
{
    static const char *const keys[] = {"status", "reason", "effective_at", "until", NULL};
    static const char *const targets[] = {"published", "suspended", "retired", "maintenance", NULL};
    lt_err e = lt_json_check_keys(body, keys, "status", ei);
    if (!e)
        e = lt_json_req_str(body, "status", "status", &r->to, ei);
    bool known = false;
    for (const char *const *t = targets; !e && *t; t++)
        known = known || strcmp(*t, r->to) == 0;
    if (!e && !known)
        e = lt_fail(ei, LT_E_INVALID,
                    "status.status: '%.32s' is not published, suspended, "
                    "retired or maintenance",
                    r->to);
    if (!e)
        e = rg_opt_text(body, "reason", "status", &r->reason, ei);
    r->when = now;
    if (!e)
        e = rg_opt_time(body, "effective_at", "status", &r->when, &r->has_when, ei);
    if (!e)
        e = rg_opt_time(body, "until", "status", &r->until, &r->has_until, ei);
    if (!e && r->has_until && strcmp(r->to, "maintenance") != 0)
        e = lt_fail(ei, LT_E_INVALID, "status.until: only for status maintenance");
    return e;
}

/* Art. 43: the window may start at 00:00 (Vietnam time) of the 8th working day after today,
 * so that 7 whole working days separate the announcement from the work. */
static lt_err check_window(rg_registry *rg, const rg_service *cur, const status_req *r, int64_t now,
                           lt_errinfo *ei)
{
    if (strcmp(cur->status, "published") != 0)
        return lt_fail(ei, LT_E_CONFLICT,
                       "service '%s' is %s: only a published service has "
                       "a maintenance window",
                       cur->id, cur->status);
    if (!r->reason || !*r->reason)
        return lt_fail(ei, LT_E_INVALID, "status: 'reason' is required for maintenance");
    if (!r->has_when || !r->has_until)
        return lt_fail(ei, LT_E_INVALID,
                       "status: 'effective_at' and 'until' are required for "
                       "maintenance");
    int64_t earliest = rg_vn_day_start(rg_vn_day(rg_working_days_after(rg, now, 8)));
    if (r->when < earliest) {
        char t[32];
        rg_time_str(earliest, t);
        return lt_fail(ei, LT_E_INVALID,
                       "status.effective_at: maintenance is announced at "
                       "least 7 working days ahead (Decree 47 Art. 43): the earliest start is "
                       "%s",
                       t);
    }
    if (r->until <= r->when)
        return lt_fail(ei, LT_E_INVALID, "status.until: must be after effective_at");
    return LT_OK;
}

/* What the request does to the stored document (a copy of the current one). */
static lt_err apply_status(rg_registry *rg, const rg_service *cur, const status_req *r, int64_t now,
                           json_t *doc, lt_errinfo *ei)
{
    char when[32], until[32], at[32];
    rg_time_str(now, at);
    rg_time_str(r->when, when);
    if (strcmp(r->to, "maintenance") == 0) {
        lt_err e = check_window(rg, cur, r, now, ei);
        rg_time_str(r->until, until);
        if (!e)
            json_object_set_new(doc, "maintenance",
                                json_pack("{s:s, s:s, s:s, s:s}", "from", when, "until", until,
                                          "reason", r->reason, "announced_at", at));
        return e;
    }
    bool clears = strcmp(r->to, "published") == 0 && strcmp(cur->status, "published") == 0 &&
                  json_object_get(cur->def, "maintenance");
    if (clears)
        return json_object_del(doc, "maintenance"), LT_OK;
    if (!transition_ok(cur->status, r->to))
        return lt_fail(ei, LT_E_CONFLICT, "service '%s' cannot go from %s to %s%s", cur->id,
                       cur->status, r->to,
                       strcmp(cur->status, "retired") == 0 ? " (retired is final)" : "");
    if (strcmp(r->to, "retired") == 0)
        json_object_del(doc, "maintenance");
    json_object_set_new(doc, "status", json_string(r->to));
    json_object_set_new(doc, "status_reason", r->reason ? json_string(r->reason) : json_null());
    json_object_set_new(doc, "status_effective_at", json_string(when));
    return LT_OK;
}

static lt_err status_locked(rg_registry *rg, const rg_service *cur, const json_t *body,
                            json_t **out, lt_errinfo *ei)
{
    status_req r = {0};
    int64_t now = lt_now_us();
    char at[32];
    lt_err e = parse_status(body, &r, now, ei);
    json_t *doc = e ? NULL : json_deep_copy(cur->def);
    if (!e && !doc)
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!e)
        e = apply_status(rg, cur, &r, now, doc, ei);
    ad_mapping *m = NULL;
    json_t *mapping = json_object_get(doc, "mapping");
    /* Each snapshot owns its mapping: compile the unchanged one again for the new one. */
    if (!e && mapping && !json_is_null(mapping))
        e = ad_mapping_compile(mapping, cur->format, &m, ei);
    if (e) {
        json_decref(doc);
        return e;
    }
    rg_time_str(now, at);
    json_object_set_new(doc, "updated_at", json_string(at));
    return rg_service_store_publish(rg, doc, cur->contract, m, 0, out, ei);
}

lt_err rg_service_set_status(rg_registry *rg, const char *id, const json_t *body, json_t **out,
                             lt_errinfo *ei)
{
    rg_service *cur = NULL;
    *out = NULL;
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = rg_service_get(rg, id, &cur);
    if (e)
        lt_fail(ei, e, "service '%.128s' not found", id);
    else
        e = status_locked(rg, cur, body, out, ei);
    pthread_mutex_unlock(&rg->write_mu);
    rg_service_release(cur);
    return e;
}
