/* rg_service_api — creating and updating services (status changes and maintenance windows
 * are in rg_service_status.c). Every operation runs under write_mu: read the current
 * snapshot, write the warehouse, publish a new snapshot. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_int.h"

/* *out receives a copy so that callers can never mutate a shared snapshot. */
lt_err rg_service_store_publish(rg_registry *rg, json_t *doc, const ct_contract *c,
                                ad_mapping *m, int flags, json_t **out, lt_errinfo *ei)
{
    const char *id = lt_json_str(doc, "id");
    lt_err e = rg_store(rg, WH_SERVICES, id, doc, flags, ei);
    if (e == LT_E_CONFLICT)
        lt_fail(ei, e, "service '%s' already exists", id);
    json_t *copy = e ? NULL : json_deep_copy(doc);
    if (!e && !copy)
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e) {
        json_decref(doc);
        if (m)
            ad_mapping_free(m);
        return e;
    }
    rg_service *s = rg_snapshot_new(doc, c, m);
    e = s ? rg_service_publish(rg, s, ei) : lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e)
        json_decref(copy);
    else
        *out = copy;
    return e;
}

lt_err rg_service_create(rg_registry *rg, const json_t *body, bool allow_status, json_t **out,
                         lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    const ct_contract *c = NULL;
    ad_mapping *m = NULL;
    *out = NULL;
    lt_err e = rg_service_check(&v, body, allow_status, &c, &m, ei);
    if (e)
        return e;
    json_t *doc = json_deep_copy(body);
    if (!doc) {
        if (m)
            ad_mapping_free(m);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    char now[32];
    rg_now(now);
    if (!lt_json_str(doc, "status"))
        json_object_set_new(doc, "status", json_string("draft"));
    if (!lt_json_str(doc, "sharing"))
        json_object_set_new(doc, "sharing", json_string("default"));
    json_object_set_new(doc, "status_reason", json_null());
    json_object_set_new(doc, "status_effective_at", json_string(now));
    json_object_set_new(doc, "created_at", json_string(now));
    json_object_set_new(doc, "updated_at", json_string(now));
    pthread_mutex_lock(&rg->write_mu);
    e = rg_service_store_publish(rg, doc, c, m, WH_NOOVERWRITE, out, ei);
    pthread_mutex_unlock(&rg->write_mu);
    return e;
}

/* A client may send back what it read (status and timestamps included) as long as it does
 * not try to change those: they are dropped here, and id/agency are filled in or checked. */
static lt_err prepare_update(const rg_service *cur, const json_t *body, json_t **def,
                             lt_errinfo *ei)
{
    static const char *const fixed[] = {"id", "agency", NULL};
    json_t *d = json_deep_copy(body);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = LT_OK;
    for (const char *const *k = rg_service_meta_keys; !e && *k; k++) {
        json_t *v = json_object_get(d, *k);
        if (v && !json_equal(v, json_object_get(cur->def, *k)))
            e = lt_fail(ei, LT_E_INVALID, "service.%s: read-only", *k);
        json_object_del(d, *k);
    }
    json_t *st = json_object_get(d, "status");
    if (!e && st && !json_equal(st, json_object_get(cur->def, "status")))
        e = lt_fail(ei, LT_E_INVALID, "service.status: change it with POST "
                    "/v1/services/%s/status", cur->id);
    json_object_del(d, "status");
    for (const char *const *k = fixed; !e && *k; k++) {
        json_t *v = json_object_get(d, *k);
        if (!v)
            json_object_set(d, *k, json_object_get(cur->def, *k));
        else if (!json_equal(v, json_object_get(cur->def, *k)))
            e = lt_fail(ei, LT_E_INVALID, "service.%s: cannot change", *k);
    }
    if (e)
        json_decref(d);
    else
        *def = d;
    return e;
}

static lt_err update_locked(rg_registry *rg, const rg_service *cur, const json_t *body,
                            json_t **out, lt_errinfo *ei)
{
    static const char *const kept[] = {"status", "status_reason", "status_effective_at",
                                       "created_at", "maintenance", NULL};
    rg_view v = {rg, NULL, NULL, NULL};
    const ct_contract *c = NULL;
    ad_mapping *m = NULL;
    json_t *doc = NULL;
    if (strcmp(cur->status, "retired") == 0)
        return lt_fail(ei, LT_E_CONFLICT, "service '%s' is retired", cur->id);
    lt_err e = prepare_update(cur, body, &doc, ei);
    if (!e)
        e = rg_service_check(&v, doc, false, &c, &m, ei);
    if (e) {
        json_decref(doc);
        return e;
    }
    char now[32];
    rg_now(now);
    for (const char *const *k = kept; *k; k++)
        json_object_set(doc, *k, json_object_get(cur->def, *k));
    if (!lt_json_str(doc, "sharing"))
        json_object_set_new(doc, "sharing", json_string("default"));
    json_object_set_new(doc, "updated_at", json_string(now));
    return rg_service_store_publish(rg, doc, c, m, 0, out, ei);
}

lt_err rg_service_update(rg_registry *rg, const char *id, const json_t *body, json_t **out,
                         lt_errinfo *ei)
{
    rg_service *cur = NULL;
    *out = NULL;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, "service: must be an object");
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = rg_service_get(rg, id, &cur);
    if (e)
        lt_fail(ei, e, "service '%.128s' not found", id);
    else
        e = update_locked(rg, cur, body, out, ei);
    pthread_mutex_unlock(&rg->write_mu);
    rg_service_release(cur);
    return e;
}
