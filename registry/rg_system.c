/* rg_system — systems (applications) of an agency (API.md §5): {id, agency, name,
 * description?}. A system's id is the `sub` of its tokens; the cache (id -> agency) answers
 * "is this sub a system of that org" on every agency call without touching the warehouse. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "rg_share_int.h"

lt_err rg_system_check(const rg_view *v, const json_t *body, lt_errinfo *ei)
{
    static const char *const keys[] = {"id", "agency", "name", "description", NULL};
    const char *id = NULL, *agency = NULL, *name = NULL, *desc = NULL;
    lt_err e = lt_json_check_keys(body, keys, "system", ei);
    if (!e)
        e = lt_json_req_str(body, "id", "system", &id, ei);
    if (!e && !rg_id_ok(id, LT_MAX_ID_LEN, rg_is_lower_alnum, rg_is_lower_id))
        e = lt_fail(ei, LT_E_INVALID,
                    "system.id: '%.64s' is not a valid id "
                    "([a-z0-9][a-z0-9._-]{0,127}, no '..')",
                    id);
    if (!e)
        e = rg_req_text(body, "name", "system", &name, ei);
    if (!e)
        e = rg_opt_text(body, "description", "system", &desc, ei);
    if (!e)
        e = lt_json_req_str(body, "agency", "system", &agency, ei);
    if (!e && !rg_view_agency(v, agency))
        e = lt_fail(ei, LT_E_INVALID, "system.agency: '%.64s' is not a registered agency", agency);
    return e;
}

/* Caches id -> agency; replaces nothing (ids are unique). */
static lt_err cache_system(rg_registry *rg, const char *id, const char *agency, lt_errinfo *ei)
{
    char *a = strdup(agency);
    void *old = NULL;
    pthread_rwlock_wrlock(&rg->lock);
    int rc = a ? rg_map_put(&rg->systems, id, a, &old) : -1;
    pthread_rwlock_unlock(&rg->lock);
    free(old);
    if (rc) {
        free(a);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    return LT_OK;
}

lt_err rg_system_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    *out = NULL;
    lt_err e = rg_system_check(&v, body, ei);
    if (e)
        return e;
    json_t *doc = rg_new_doc(body, ei);
    if (!doc)
        return ei ? ei->code : LT_E_NOMEM;
    const char *id = lt_json_str(doc, "id");
    pthread_mutex_lock(&rg->write_mu);
    e = rg_store(rg, WH_SYSTEMS, id, doc, WH_NOOVERWRITE, ei);
    if (e == LT_E_CONFLICT)
        lt_fail(ei, e, "system '%s' already exists", id);
    if (!e)
        e = cache_system(rg, id, lt_json_str(doc, "agency"), ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (e) {
        json_decref(doc);
        return e;
    }
    *out = doc;
    return LT_OK;
}

bool rg_system_of(rg_registry *rg, const char *system, const char *org)
{
    if (!system || !org)
        return false;
    pthread_rwlock_rdlock(&rg->lock);
    const char *agency = rg_map_get(&rg->systems, system);
    bool ok = agency && strcmp(agency, org) == 0;
    pthread_rwlock_unlock(&rg->lock);
    return ok;
}

bool rg_system_agency(rg_registry *rg, const char *system, char *org, size_t size)
{
    if (!system || !org || !size)
        return false;
    pthread_rwlock_rdlock(&rg->lock);
    const char *agency = rg_map_get(&rg->systems, system);
    bool ok = agency && strlen(agency) < size;
    if (ok)
        memcpy(org, agency, strlen(agency) + 1);
    pthread_rwlock_unlock(&rg->lock);
    if (!ok)
        org[0] = '\0';
    return ok;
}

bool rg_system_exists(rg_registry *rg, const char *id)
{
    pthread_rwlock_rdlock(&rg->lock);
    bool has = rg_map_has(&rg->systems, id);
    pthread_rwlock_unlock(&rg->lock);
    return has;
}

static lt_err load_systems(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_SYSTEMS, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc)
    {
        const char *id = lt_json_str(doc, "id"), *agency = lt_json_str(doc, "agency");
        if (!id || !agency) {
            e = lt_fail(ei, LT_E_STORAGE, "stored system %zu unreadable", i);
            break;
        }
        if ((e = cache_system(rg, id, agency, ei)))
            break;
    }
    json_decref(all);
    return e;
}

static lt_err load_grants(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_GRANTS, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc)
    {
        if ((e = rg_grant_cache(rg, json_incref(doc), ei)))
            break;
    }
    json_decref(all);
    return e;
}

lt_err rg_sharing_load(rg_registry *rg, lt_errinfo *ei)
{
    lt_err e = load_systems(rg, ei);
    return e ? e : load_grants(rg, ei);
}
