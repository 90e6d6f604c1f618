/* rg — opening and closing the registry, generic document listing, shared helpers. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"
#include "rg_int.h"

void rg_now(char out[32])
{
    lt_time_format(lt_now_us(), false, out);
}

bool rg_is_lower_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool rg_is_lower_id(int c)
{
    return rg_is_lower_alnum(c) || c == '.' || c == '_' || c == '-';
}

bool rg_id_ok(const char *s, size_t max, bool (*first)(int), bool (*rest)(int))
{
    if (!s || !*s || !first((unsigned char)s[0]))
        return false;
    size_t n = 1;
    for (const char *p = s + 1; *p; p++, n++)
        if (!rest((unsigned char)*p) || (p[0] == '.' && p[-1] == '.'))
            return false; /* ".." never: ids name files, URLs and log lines */
    return n <= max;
}

json_t *rg_new_doc(const json_t *body, lt_errinfo *ei)
{
    json_t *doc = json_deep_copy(body);
    char now[32];
    rg_now(now);
    if (!doc || json_object_set_new(doc, "created_at", json_string(now))) {
        json_decref(doc);
        lt_fail(ei, LT_E_NOMEM, "out of memory");
        return NULL;
    }
    return doc;
}

lt_err rg_store(rg_registry *rg, wh_kind kind, const char *id, const json_t *doc, int flags,
                lt_errinfo *ei)
{
    size_t len = 0;
    char *text = lt_json_canonical(doc, &len);
    if (!text)
        return lt_fail(ei, LT_E_NOMEM, "out of memory serialising '%s'", id);
    lt_err e = wh_doc_put(rg->env, kind, id, text, len, flags, ei);
    free(text);
    return e;
}

/* ---- views ---- */

bool rg_codelist_has_locked(rg_registry *rg, const char *id)
{
    return rg_map_has(&rg->codelists, id);
}

bool rg_view_agency(const rg_view *v, const char *code)
{
    if (rg_map_has(v->agencies, code))
        return true;
    return v->rg && rg_agency_exists(v->rg, code);
}

bool rg_view_codelist(const rg_view *v, const char *id)
{
    if (rg_map_has(v->codelists, id))
        return true;
    if (!v->rg)
        return false;
    pthread_rwlock_rdlock(&v->rg->lock);
    bool has = rg_codelist_has_locked(v->rg, id);
    pthread_rwlock_unlock(&v->rg->lock);
    return has;
}

bool rg_view_code(const rg_view *v, const char *list, const char *code)
{
    if (v->rg) {
        pthread_rwlock_rdlock(&v->rg->lock);
        const rg_map *set = rg_map_get(&v->rg->codelists, list);
        bool has = rg_map_has(set, code);
        pthread_rwlock_unlock(&v->rg->lock);
        if (set)
            return has;
    }
    return v->codelists && rg_map_has(rg_map_get(v->codelists, list), code);
}

const ct_contract *rg_view_contract(const rg_view *v, const char *ref)
{
    const ct_contract *c = rg_map_get(v->contracts, ref);
    if (c || !v->rg)
        return c;
    rg_contract_get(v->rg, ref, &c);
    return c;
}

/* ---- listing ---- */

typedef struct collect {
    json_t *items;
    char *last;  /* id of the last item taken (new) */
    size_t want; /* items to take; one more means "more remain" */
    bool more;
    lt_err err;
} collect;

static int collect_one(void *ctx, const char *id, const char *json, size_t len)
{
    collect *c = ctx;
    if (json_array_size(c->items) == c->want) {
        c->more = true;
        return 1;
    }
    json_t *doc = lt_json_load(json, len, NULL);
    char *last = strdup(id);
    if (!doc || !last || json_array_append_new(c->items, doc)) {
        free(last);
        c->err = doc ? LT_E_NOMEM : LT_E_STORAGE;
        return 1;
    }
    free(c->last);
    c->last = last;
    return 0;
}

lt_err rg_list(rg_registry *rg, wh_kind kind, const char *after, size_t limit, json_t **items,
               char **next_cursor, lt_errinfo *ei)
{
    *items = NULL;
    *next_cursor = NULL;
    if (limit == 0)
        limit = LT_LIST_LIMIT_DEFAULT;
    if (limit > LT_LIST_LIMIT_MAX)
        limit = LT_LIST_LIMIT_MAX;
    collect c = {json_array(), NULL, limit, false, LT_OK};
    if (!c.items)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = wh_doc_list(rg->env, kind, after && *after ? after : NULL, limit + 1,
                           collect_one, &c);
    if (e == LT_OK && c.err)
        e = lt_fail(ei, c.err, "a stored document could not be read");
    else if (e)
        lt_fail(ei, e, "listing failed: %s", lt_strerror(e));
    if (e) {
        json_decref(c.items);
        free(c.last);
        return e;
    }
    *items = c.items;
    if (c.more)
        *next_cursor = c.last;
    else
        free(c.last);
    return LT_OK;
}

lt_err rg_doc_get(rg_registry *rg, wh_kind kind, const char *id, json_t **out)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    lt_err e = wh_doc_get(rg->env, kind, id, &text, &len);
    if (e)
        return e;
    *out = lt_json_load(text, len, NULL);
    free(text);
    return *out ? LT_OK : LT_E_STORAGE;
}

lt_err rg_load_all(rg_registry *rg, wh_kind kind, json_t **items, lt_errinfo *ei)
{
    collect c = {json_array(), NULL, (size_t)-1, false, LT_OK};
    if (!c.items)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = wh_doc_list(rg->env, kind, NULL, 0, collect_one, &c);
    free(c.last);
    if (e == LT_OK && c.err)
        e = lt_fail(ei, c.err, "a stored document could not be read");
    else if (e)
        lt_fail(ei, e, "loading the registry failed: %s", lt_strerror(e));
    if (e) {
        json_decref(c.items);
        return e;
    }
    *items = c.items;
    return LT_OK;
}

/* ---- open / close ---- */

static lt_err load_codelists(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_CODELISTS, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc) {
        if ((e = rg_codelist_publish(rg, doc, ei))) {
            lt_fail(ei, e, "stored code list %zu unreadable", i);
            break;
        }
    }
    json_decref(all);
    return e;
}

static lt_err load_contracts(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_CONTRACTS, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc) {
        ct_contract *c = NULL;
        /* Stored contracts were checked when written: only compile them again here. */
        if ((e = ct_contract_parse(doc, &c, ei)))
            break;
        if (rg_map_put(&rg->contracts, c->ref, c, NULL)) {
            ct_contract_free(c);
            e = lt_fail(ei, LT_E_NOMEM, "out of memory");
            break;
        }
    }
    json_decref(all);
    return e;
}

static lt_err load_services(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_SERVICES, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc) {
        if ((e = rg_service_load(rg, json_incref(doc), ei)))
            break;
    }
    json_decref(all);
    return e;
}

lt_err rg_open(wh_env *env, rg_registry **out, lt_errinfo *ei)
{
    *out = NULL;
    rg_registry *rg = calloc(1, sizeof *rg);
    if (!rg)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    rg->env = env;
    if (pthread_rwlock_init(&rg->lock, NULL)) {
        free(rg);
        return lt_fail(ei, LT_E_INTERNAL, "cannot create the registry lock");
    }
    if (pthread_mutex_init(&rg->write_mu, NULL)) {
        pthread_rwlock_destroy(&rg->lock);
        free(rg);
        return lt_fail(ei, LT_E_INTERNAL, "cannot create the registry mutex");
    }
    if (pthread_mutex_init(&rg->quota_mu, NULL)) {
        pthread_mutex_destroy(&rg->write_mu);
        pthread_rwlock_destroy(&rg->lock);
        free(rg);
        return lt_fail(ei, LT_E_INTERNAL, "cannot create the quota mutex");
    }
    lt_err e = load_codelists(rg, ei);
    if (!e)
        e = load_contracts(rg, ei);
    if (!e)
        e = load_services(rg, ei);
    if (!e)
        e = rg_indicators_load(rg, ei);
    if (!e)
        e = rg_sharing_load(rg, ei);
    if (e) {
        lt_log(LT_LOG_ERROR, "registry load failed: %s", ei ? ei->detail : lt_strerror(e));
        rg_close(rg);
        return e;
    }
    *out = rg;
    return LT_OK;
}

static void contract_free_v(void *c)
{
    ct_contract_free(c);
}

void rg_close(rg_registry *rg)
{
    if (!rg)
        return;
    rg_sharing_free(rg);
    rg_map_free(&rg->services, rg_service_unref);
    rg_indicators_free(rg);
    rg_map_free(&rg->contracts, contract_free_v);
    rg_map_free(&rg->codelists, rg_codeset_free);
    rg_areas_free(rg->areas);
    pthread_mutex_destroy(&rg->quota_mu);
    pthread_mutex_destroy(&rg->write_mu);
    pthread_rwlock_destroy(&rg->lock);
    free(rg);
}
