/* rg_service — service definitions: strict validation, compiled snapshots with a reference
 * count, the cache entry per id. The API operations are in rg_service_api.c. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"
#include "rg_int.h"

static bool one_of(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Optional member: absent or null is fine, otherwise it must be a string in list (any string
 * when list is NULL). */
static lt_err opt_str(const json_t *obj, const char *key, const char *where,
                      const char *const *list, lt_errinfo *ei)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return LT_OK;
    if (!json_is_string(v))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: must be a string", where, key);
    if (list && !one_of(json_string_value(v), list))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: '%.64s' is not one of the allowed values",
                       where, key, json_string_value(v));
    return LT_OK;
}

static lt_err opt_positive_int(const json_t *obj, const char *key, const char *where,
                               lt_errinfo *ei)
{
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) <= 0))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: must be a positive integer", where, key);
    return LT_OK;
}

static lt_err check_auth(const json_t *auth, lt_errinfo *ei)
{
    static const char *const keys[] = {"type",      "username", "password_file", "token_file",
                                       "cert_file", "key_file", "ca_file",       NULL};
    static const char *const types[] = {"none", "basic", "bearer", "client_cert", NULL};
    /* What each type cannot work without. */
    static const struct { const char *type, *need[3]; } needs[] = {
        {"basic", {"username", "password_file", NULL}},
        {"bearer", {"token_file", NULL, NULL}},
        {"client_cert", {"cert_file", "key_file", NULL}},
    };
    const char *where = "service.source.auth", *type = NULL;
    lt_err e = lt_json_check_keys(auth, keys, where, ei);
    if (!e)
        e = lt_json_req_str(auth, "type", where, &type, ei);
    if (!e)
        e = opt_str(auth, "type", where, types, ei);
    for (const char *const *k = keys + 1; !e && *k; k++)
        e = opt_str(auth, *k, where, NULL, ei);
    for (size_t i = 0; !e && i < sizeof needs / sizeof needs[0]; i++) {
        if (strcmp(type, needs[i].type) != 0)
            continue;
        for (size_t j = 0; !e && needs[i].need[j]; j++)
            if (!lt_json_str(auth, needs[i].need[j]))
                e = lt_fail(ei, LT_E_INVALID, "%s: '%s' is required for type '%s'", where,
                            needs[i].need[j], type);
    }
    return e;
}

static lt_err check_source(const json_t *src, lt_errinfo *ei)
{
    static const char *const keys[] = {"mode",       "format",     "url",       "soap_action",
                                       "request_template", "params", "interval_s",
                                       "timeout_ms", "auth",       NULL};
    static const char *const modes[] = {"push", "pull", NULL};
    static const char *const formats[] = {"json", "xml", "soap", "csv", NULL};
    const char *where = "service.source", *mode = NULL, *format = NULL;
    lt_err e = lt_json_check_keys(src, keys, where, ei);
    if (!e)
        e = lt_json_req_str(src, "mode", where, &mode, ei);
    if (!e)
        e = opt_str(src, "mode", where, modes, ei);
    if (!e)
        e = lt_json_req_str(src, "format", where, &format, ei);
    if (!e)
        e = opt_str(src, "format", where, formats, ei);
    for (size_t i = 2; !e && i < 5; i++) /* url, soap_action, request_template */
        e = opt_str(src, keys[i], where, NULL, ei);
    if (!e && strcmp(mode, "pull") == 0 && !lt_json_str(src, "url"))
        e = lt_fail(ei, LT_E_INVALID, "%s: 'url' is required for a pull source", where);
    json_t *params = json_object_get(src, "params");
    if (!e && params && !json_is_object(params))
        e = lt_fail(ei, LT_E_INVALID, "%s.params: must be an object", where);
    if (!e)
        e = opt_positive_int(src, "interval_s", where, ei);
    if (!e)
        e = opt_positive_int(src, "timeout_ms", where, ei);
    json_t *auth = json_object_get(src, "auth");
    if (!e && auth && !json_is_null(auth))
        e = check_auth(auth, ei);
    return e;
}

static lt_err check_top(const json_t *def, bool allow_status, lt_errinfo *ei)
{
    static const char *const keys[] = {"id",       "agency",       "title",  "description",
                                       "sharing",  "contract",     "frequency", "docs_url",
                                       "auto_approve", "source",   "mapping", "status",
                                       "audit",    NULL};
    static const char *const sharing[] = {"default", "special", NULL};
    static const char *const freqs[] = {"daily",      "weekly",   "monthly",  "quarterly",
                                        "half_yearly", "yearly",  "realtime", "on_demand", NULL};
    static const char *const statuses[] = {"draft", "published", "suspended", "retired", NULL};
    static const char *const audits[] = {"metadata", "full", NULL};
    const char *where = "service", *id = NULL, *s = NULL;
    lt_err e = lt_json_check_keys(def, keys, where, ei);
    if (!e && !allow_status && json_object_get(def, "status"))
        e = lt_fail(ei, LT_E_INVALID,
                    "service.status: a new service starts as draft; change its status with "
                    "POST /v1/services/{id}/status");
    if (!e)
        e = lt_json_req_str(def, "id", where, &id, ei);
    if (!e && !rg_id_ok(id, LT_MAX_ID_LEN, rg_is_lower_alnum, rg_is_lower_id))
        e = lt_fail(ei, LT_E_INVALID, "service.id: '%.64s' is not a valid id "
                    "([a-z0-9][a-z0-9._-]{0,127}, no '..')", id);
    if (!e)
        e = lt_json_req_str(def, "title", where, &s, ei);
    if (!e)
        e = opt_str(def, "description", where, NULL, ei);
    if (!e)
        e = opt_str(def, "docs_url", where, NULL, ei);
    if (!e)
        e = opt_str(def, "sharing", where, sharing, ei);
    if (!e)
        e = opt_str(def, "frequency", where, freqs, ei);
    if (!e)
        e = opt_str(def, "status", where, statuses, ei);
    if (!e)
        e = opt_str(def, "audit", where, audits, ei);
    json_t *aa = json_object_get(def, "auto_approve");
    if (!e && aa && !json_is_boolean(aa))
        e = lt_fail(ei, LT_E_INVALID, "service.auto_approve: must be true or false");
    if (!e && !json_is_object(json_object_get(def, "source")))
        e = lt_fail(ei, LT_E_INVALID, "service: 'source' is required (an object)");
    return e;
}

/* Mapped fields must be contract fields, then the engine compiles it for the format. */
static lt_err check_mapping(const json_t *def, const ct_contract *c, ad_mapping **out,
                            lt_errinfo *ei)
{
    json_t *mapping = json_object_get(def, "mapping");
    const char *format = lt_json_str(json_object_get(def, "source"), "format");
    *out = NULL;
    if (!mapping || json_is_null(mapping)) {
        if (strcmp(format, "json") == 0)
            return LT_OK; /* identity: each record is taken as it is */
        return lt_fail(ei, LT_E_INVALID, "service: 'mapping' is required for format '%s'",
                       format);
    }
    if (!json_is_object(mapping))
        return lt_fail(ei, LT_E_INVALID, "service.mapping: must be an object");
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(mapping, "fields"), name, v) {
        if (!ct_contract_field(c, name))
            return lt_fail(ei, LT_E_INVALID, "service.mapping.fields.%.64s: not a field of "
                           "contract %s", name, c->ref);
    }
    return ad_mapping_compile(mapping, format, out, ei);
}

lt_err rg_service_check(const rg_view *v, const json_t *def, bool allow_status,
                        const ct_contract **contract, ad_mapping **mapping, lt_errinfo *ei)
{
    const char *agency = NULL, *ref = NULL;
    *contract = NULL;
    *mapping = NULL;
    lt_err e = check_top(def, allow_status, ei);
    if (!e)
        e = check_source(json_object_get(def, "source"), ei);
    if (!e)
        e = lt_json_req_str(def, "agency", "service", &agency, ei);
    if (!e && !rg_view_agency(v, agency))
        e = lt_fail(ei, LT_E_INVALID, "service.agency: '%.64s' is not a registered agency",
                    agency);
    if (!e)
        e = lt_json_req_str(def, "contract", "service", &ref, ei);
    if (!e && !(*contract = rg_view_contract(v, ref)))
        e = lt_fail(ei, LT_E_INVALID, "service.contract: '%.100s' is not a registered "
                    "contract (id@version)", ref);
    if (!e)
        e = check_mapping(def, *contract, mapping, ei);
    return e;
}

/* ---- snapshots ---- */

rg_service *rg_snapshot_new(json_t *doc, const ct_contract *c, ad_mapping *m)
{
    rg_service *s = calloc(1, sizeof *s);
    if (!s) {
        json_decref(doc);
        if (m)
            ad_mapping_free(m);
        return NULL;
    }
    json_t *src = json_object_get(doc, "source");
    s->def = doc;
    s->id = lt_json_str(doc, "id");
    s->agency = lt_json_str(doc, "agency");
    s->title = lt_json_str(doc, "title");
    s->sharing = lt_json_str(doc, "sharing");
    s->status = lt_json_str(doc, "status");
    s->format = lt_json_str(src, "format");
    s->mode = lt_json_str(src, "mode");
    s->auto_approve = json_is_true(json_object_get(doc, "auto_approve"));
    s->audit_full = lt_streq(lt_json_str(doc, "audit"), "full");
    json_t *maint = json_object_get(doc, "maintenance");
    const char *from = lt_json_str(maint, "from"), *until = lt_json_str(maint, "until");
    if (from && until && (lt_time_parse(from, strlen(from), &s->maint_from_us) ||
                          lt_time_parse(until, strlen(until), &s->maint_until_us)))
        s->maint_from_us = s->maint_until_us = 0; /* stored by us: only a damaged doc */
    s->contract = c;
    s->mapping = m;
    s->refs = 1;
    return s;
}

void rg_service_release(rg_service *s)
{
    if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (s->mapping)
        ad_mapping_free(s->mapping);
    json_decref(s->def);
    free(s);
}

void rg_service_unref(void *s)
{
    rg_service_release(s);
}

lt_err rg_service_get(rg_registry *rg, const char *id, rg_service **out)
{
    pthread_rwlock_rdlock(&rg->lock);
    rg_service *s = rg_map_get(&rg->services, id);
    if (s)
        __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&rg->lock);
    *out = s;
    return s ? LT_OK : LT_E_NOT_FOUND;
}

lt_err rg_service_publish(rg_registry *rg, rg_service *s, lt_errinfo *ei)
{
    void *old = NULL;
    pthread_rwlock_wrlock(&rg->lock);
    int rc = rg_map_put(&rg->services, s->id, s, &old);
    pthread_rwlock_unlock(&rg->lock);
    if (rc) {
        rg_service_release(s);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    rg_service_release(old); /* readers holding it keep it alive until they release */
    return LT_OK;
}

/* Keys the registry adds to a stored definition (never part of what a client sends). */
const char *const rg_service_meta_keys[] = {"status_reason", "status_effective_at",
                                            "created_at", "updated_at", "maintenance", NULL};

lt_err rg_service_load(rg_registry *rg, json_t *doc, lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    const ct_contract *c = NULL;
    ad_mapping *m = NULL;
    json_t *def = json_deep_copy(doc);
    if (!def) {
        json_decref(doc);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    for (const char *const *k = rg_service_meta_keys; *k; k++)
        json_object_del(def, *k);
    lt_err e = rg_service_check(&v, def, true, &c, &m, ei);
    json_decref(def);
    if (e) {
        lt_log(LT_LOG_ERROR, "stored service '%s' no longer validates: %s",
               lt_json_str(doc, "id") ? lt_json_str(doc, "id") : "?", ei ? ei->detail : "");
        json_decref(doc);
        return e;
    }
    rg_service *s = rg_snapshot_new(doc, c, m);
    if (!s)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return rg_service_publish(rg, s, ei);
}
