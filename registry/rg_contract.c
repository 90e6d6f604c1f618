/* rg_contract — contracts: compiled once, immutable per id@version, cached until rg_close. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "rg_int.h"

lt_err rg_contract_compile(const rg_view *v, const json_t *body, ct_contract **out,
                           lt_errinfo *ei)
{
    ct_contract *c = NULL;
    *out = NULL;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, "contract: must be an object");
    lt_err e = ct_contract_parse(body, &c, ei);
    if (e)
        return e;
    for (size_t i = 0; i < c->nfields; i++) {
        const ct_field *f = &c->fields[i];
        if (f->type == CT_CODE && !rg_view_codelist(v, f->codelist)) {
            e = lt_fail(ei, LT_E_INVALID,
                        "contract.fields.%zu.codelist: code list '%.64s' does not exist", i,
                        f->codelist);
            ct_contract_free(c);
            return e;
        }
    }
    *out = c;
    return LT_OK;
}

lt_err rg_contract_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    ct_contract *c = NULL;
    *out = NULL;
    lt_err e = rg_contract_compile(&v, body, &c, ei);
    if (e)
        return e;
    json_t *doc = json_deep_copy(body);
    if (!doc) {
        ct_contract_free(c);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    pthread_mutex_lock(&rg->write_mu);
    /* The definition is stored as given: it must compile again, unchanged, at rg_open. */
    e = rg_store(rg, WH_CONTRACTS, c->ref, body, WH_NOOVERWRITE, ei);
    if (e == LT_E_CONFLICT)
        lt_fail(ei, e, "contract '%s' already exists; a published version is immutable",
                c->ref);
    if (!e) {
        pthread_rwlock_wrlock(&rg->lock);
        if (rg_map_put(&rg->contracts, c->ref, c, NULL))
            e = lt_fail(ei, LT_E_NOMEM, "out of memory");
        else
            c = NULL;
        pthread_rwlock_unlock(&rg->lock);
    }
    pthread_mutex_unlock(&rg->write_mu);
    if (c)
        ct_contract_free(c);
    if (e) {
        json_decref(doc);
        return e;
    }
    *out = doc;
    return LT_OK;
}

lt_err rg_contract_get(rg_registry *rg, const char *ref, const ct_contract **out)
{
    pthread_rwlock_rdlock(&rg->lock);
    *out = rg_map_get(&rg->contracts, ref);
    pthread_rwlock_unlock(&rg->lock);
    return *out ? LT_OK : LT_E_NOT_FOUND;
}
