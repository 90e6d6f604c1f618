/* rg_codelist — code lists {id, title, codes: [{code, name, parent?}]} and the membership test
 * that every code field of every ingested record goes through (a hash-set lookup under a
 * read lock). */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "rg_int.h"

static bool is_alnum(int c)
{
    return rg_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_id_char(int c) /* URL-safe: code list ids appear in paths */
{
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

lt_err rg_codelist_prepare(const char *id, const json_t *body, json_t **doc, lt_errinfo *ei)
{
    *doc = NULL;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, "codelist: must be an object");
    if (!id)
        id = lt_json_str(body, "id");
    if (!rg_id_ok(id, LT_MAX_ID_LEN, is_alnum, is_id_char))
        return lt_fail(ei, LT_E_INVALID, "codelist.id: '%.64s' is not a valid id",
                       id ? id : "");
    json_t *d = json_deep_copy(body);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!json_object_get(d, "id"))
        json_object_set_new(d, "id", json_string(id));
    lt_err e = ct_codelist_check(d, id, ei);
    if (e) {
        json_decref(d);
        return e;
    }
    *doc = d;
    return LT_OK;
}

rg_map *rg_codeset_new(const json_t *doc)
{
    rg_map *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "codes"), i, c) {
        const char *code = json_is_string(c) ? json_string_value(c) : lt_json_str(c, "code");
        if (code && rg_map_put(set, code, NULL, NULL)) {
            rg_codeset_free(set);
            return NULL;
        }
    }
    return set;
}

void rg_codeset_free(void *set)
{
    if (!set)
        return;
    rg_map_free(set, NULL);
    free(set);
}

lt_err rg_codelist_put(rg_registry *rg, const char *id, const json_t *body, bool *created,
                       json_t **out, lt_errinfo *ei)
{
    json_t *doc = NULL;
    *out = NULL;
    *created = false;
    lt_err e = rg_codelist_prepare(id, body, &doc, ei);
    if (e)
        return e;
    id = lt_json_str(doc, "id");
    rg_map *set = rg_codeset_new(doc);
    if (!set) {
        json_decref(doc);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&rg->write_mu);
    pthread_rwlock_rdlock(&rg->lock);
    bool existed = rg_codelist_has_locked(rg, id);
    pthread_rwlock_unlock(&rg->lock);
    e = rg_store(rg, WH_CODELISTS, id, doc, 0, ei);
    if (!e) {
        void *old = NULL;
        pthread_rwlock_wrlock(&rg->lock);
        if (rg_map_put(&rg->codelists, id, set, &old))
            e = lt_fail(ei, LT_E_NOMEM, "out of memory");
        pthread_rwlock_unlock(&rg->lock);
        rg_codeset_free(old); /* no reader can hold it: lookups finish under the read lock */
        if (!e)
            set = NULL;
    }
    pthread_mutex_unlock(&rg->write_mu);
    rg_codeset_free(set);
    if (e) {
        json_decref(doc);
        return e;
    }
    *created = !existed;
    *out = doc;
    return LT_OK;
}

bool rg_code_exists(void *ctx, const char *codelist, const char *code)
{
    rg_registry *rg = ctx;
    pthread_rwlock_rdlock(&rg->lock);
    bool has = rg_map_has(rg_map_get(&rg->codelists, codelist), code);
    pthread_rwlock_unlock(&rg->lock);
    return has;
}
