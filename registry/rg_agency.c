/* rg_agency — agencies (API.md §5): {code, name, parent?, contact?}. Agencies are not cached:
 * they are read on writes only (service owners, parents), never on the record path. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"
#include "rg_int.h"

static bool is_code_char(int c) /* QĐ 20/2020: A-Z, 0-9 and dots */
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.';
}

static lt_err check_contact(const json_t *contact, lt_errinfo *ei)
{
    static const char *const keys[] = {"name", "position", "phone", "email", NULL};
    lt_err e = lt_json_check_keys(contact, keys, "agency.contact", ei);
    if (e)
        return e;
    for (const char *const *k = keys; *k; k++) {
        json_t *v = json_object_get(contact, *k);
        if (v && !json_is_string(v))
            return lt_fail(ei, LT_E_INVALID, "agency.contact.%s: must be a string", *k);
    }
    return LT_OK;
}

lt_err rg_agency_check(const rg_view *v, const json_t *body, lt_errinfo *ei)
{
    static const char *const keys[] = {"code", "name", "parent", "contact", NULL};
    lt_err e = lt_json_check_keys(body, keys, "agency", ei);
    const char *code = NULL, *name = NULL;
    if (!e)
        e = lt_json_req_str(body, "code", "agency", &code, ei);
    if (!e)
        e = lt_json_req_str(body, "name", "agency", &name, ei);
    if (e)
        return e;
    if (!rg_id_ok(code, LT_MAX_AGENCY_CODE, is_code_char, is_code_char))
        return lt_fail(ei, LT_E_INVALID,
                       "agency.code: '%.64s' is not an agency code ([A-Z0-9.]{1,35})", code);
    json_t *parent = json_object_get(body, "parent");
    if (parent && !json_is_null(parent)) {
        const char *p = json_string_value(parent);
        if (!p)
            return lt_fail(ei, LT_E_INVALID, "agency.parent: must be a string");
        if (strcmp(p, code) == 0)
            return lt_fail(ei, LT_E_INVALID, "agency.parent: an agency cannot be its own parent");
        if (!rg_view_agency(v, p))
            return lt_fail(ei, LT_E_INVALID,
                           "agency.parent: '%.64s' is not a registered agency (list parents "
                           "before their children)",
                           p);
    }
    json_t *contact = json_object_get(body, "contact");
    if (contact)
        return check_contact(contact, ei);
    return LT_OK;
}

lt_err rg_agency_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    *out = NULL;
    lt_err e = rg_agency_check(&v, body, ei);
    if (e)
        return e;
    json_t *doc = rg_new_doc(body, ei);
    if (!doc)
        return ei ? ei->code : LT_E_NOMEM;
    const char *code = lt_json_str(doc, "code");
    pthread_mutex_lock(&rg->write_mu);
    e = rg_store(rg, WH_AGENCIES, code, doc, WH_NOOVERWRITE, ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (e == LT_E_CONFLICT)
        lt_fail(ei, e, "agency '%s' already exists", code);
    if (e) {
        json_decref(doc);
        return e;
    }
    *out = doc;
    return LT_OK;
}

bool rg_agency_exists(rg_registry *rg, const char *code)
{
    char *text = NULL;
    size_t len = 0;
    if (!code || wh_doc_get(rg->env, WH_AGENCIES, code, &text, &len))
        return false;
    free(text);
    return true;
}
