/* rg_share_util — helpers shared by the request, amendment and grant files: typed members,
 * field lists checked against a contract, the Art. 38 agreement, history, audit, and writing
 * several documents in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_share_int.h"

void rg_time_str(int64_t us, char out[32])
{
    lt_time_format(us, us % 1000000 != 0, out);
}

int64_t rg_time_of(const json_t *obj, const char *key)
{
    const char *s = lt_json_str(obj, key);
    int64_t us = 0;
    if (!s || lt_time_parse(s, strlen(s), &us))
        return 0;
    return us;
}

lt_err rg_opt_time(const json_t *obj, const char *key, const char *where, int64_t *us,
                   bool *present, lt_errinfo *ei)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    *present = v && !json_is_null(v);
    if (*present && (!s || lt_time_parse(s, strlen(s), us)))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: must be an RFC 3339 date-time", where, key);
    return LT_OK;
}

lt_err rg_req_text(const json_t *obj, const char *key, const char *where, const char **out,
                   lt_errinfo *ei)
{
    const char *s = lt_json_str(obj, key);
    if (!s || !*s)
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' is required (a non-empty string)", where, key);
    *out = s;
    return LT_OK;
}

lt_err rg_opt_text(const json_t *obj, const char *key, const char *where, const char **out,
                   lt_errinfo *ei)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return LT_OK;
    if (!json_is_string(v))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: must be a string", where, key);
    *out = json_string_value(v);
    return LT_OK;
}

lt_err rg_opt_count(const json_t *obj, const char *key, const char *where, long *out,
                    lt_errinfo *ei)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return LT_OK;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1000000000)
        return lt_fail(ei, LT_E_INVALID, "%s.%s: must be an integer >= 0", where, key);
    *out = (long)json_integer_value(v);
    return LT_OK;
}

lt_err rg_fields_check(const json_t *fields, const ct_contract *c, const char *where,
                       lt_errinfo *ei)
{
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return lt_fail(ei, LT_E_INVALID, "%s.fields: must be a non-empty array of field names",
                       where);
    for (size_t i = 0; i < json_array_size(fields); i++) {
        const char *f = json_string_value(json_array_get(fields, i));
        if (!f)
            return lt_fail(ei, LT_E_INVALID, "%s.fields[%zu]: must be a string", where, i);
        if (!ct_contract_field(c, f))
            return lt_fail(ei, LT_E_INVALID,
                           "%s.fields[%zu]: '%.64s' is not a field of "
                           "contract %s",
                           where, i, f, c->ref);
        for (size_t j = 0; j < i; j++)
            if (strcmp(f, json_string_value(json_array_get(fields, j))) == 0)
                return lt_fail(ei, LT_E_INVALID, "%s.fields[%zu]: '%.64s' is listed twice", where,
                               i, f);
    }
    return LT_OK;
}

/* Decree 47/2020 Art. 38: the items every special-request agreement states. */
static const char *const agreement_items[] = {
    "parties",    "data",     "place",   "duration", "method", "processing", "conditions",
    "protection", "security", "storage", "deletion", "other",  NULL};

static bool item_ok(const json_t *v)
{
    return (json_is_string(v) && json_string_length(v) > 0) ||
           (json_is_object(v) && json_object_size(v) > 0);
}

lt_err rg_agreement_check(const json_t *a, const char *where, lt_errinfo *ei)
{
    static const char *const keys[] = {
        "parties",    "data",     "place",   "duration", "method", "processing", "conditions",
        "protection", "security", "storage", "deletion", "other",  "version",    NULL};
    if (!json_is_object(a))
        return lt_fail(ei, LT_E_INVALID,
                       "%s.agreement: required for special-request sharing "
                       "(an object with the 12 items of Decree 47 Art. 38)",
                       where);
    char key_where[64];
    snprintf(key_where, sizeof key_where, "%s.agreement", where);
    lt_err e = lt_json_check_keys(a, keys, key_where, ei);
    if (e)
        return e;
    char missing[256] = "";
    size_t len = 0;
    for (const char *const *k = agreement_items; *k; k++)
        if (!item_ok(json_object_get(a, *k)))
            /* 12 short names always fit: no truncation to guard against. */
            len +=
                (size_t)snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", *k);
    if (len)
        return lt_fail(ei, LT_E_INVALID,
                       "%s.agreement: missing items (Decree 47 Art. 38; each "
                       "a non-empty string or object): %s",
                       where, missing);
    return LT_OK;
}

bool rg_caller_is(const rg_caller *who, const char *org)
{
    return who->org && *who->org && org && strcmp(who->org, org) == 0;
}

void rg_history_add(json_t *doc, int64_t now, const rg_caller *who, const char *action,
                    const char *reason, const char *legal_basis)
{
    char at[32];
    rg_time_str(now, at);
    json_t *h = json_object_get(doc, "history");
    if (!json_is_array(h)) {
        h = json_array();
        json_object_set_new(doc, "history", h);
    }
    json_t *e = json_pack("{s:s, s:s, s:s, s:s}", "at", at, "by_org", who->org ? who->org : "",
                          "by_system", who->system ? who->system : "", "action", action);
    if (e && who->admin)
        json_object_set_new(e, "admin", json_true());
    if (e && reason)
        json_object_set_new(e, "reason", json_string(reason));
    if (e && legal_basis)
        json_object_set_new(e, "legal_basis", json_string(legal_basis));
    json_array_append_new(h, e);
}

const char *rg_last_action(const json_t *doc)
{
    json_t *h = json_object_get(doc, "history");
    return lt_json_str_or(json_array_get(h, json_array_size(h) - 1), "action");
}

void rg_share_audit(rg_registry *rg, const rg_caller *who, const char *operation,
                    const char *service, const char *request, const char *grant)
{
    json_t *e =
        json_pack("{s:s, s:s, s:s, s:s}", "operation", operation, "org", who->org ? who->org : "",
                  "system", who->system ? who->system : "", "service", service ? service : "");
    if (!e)
        return;
    if (request)
        json_object_set_new(e, "request", json_string(request));
    if (grant)
        json_object_set_new(e, "grant", json_string(grant));
    wh_audit_submit(rg->env, e);
}

lt_err rg_store_many(rg_registry *rg, const rg_put *p, size_t n, lt_errinfo *ei)
{
    wh_doc_write w[2];
    char *text[2] = {NULL, NULL};
    lt_err e = LT_OK;
    if (n > 2)
        return lt_fail(ei, LT_E_INTERNAL, "rg_store_many: too many documents");
    for (size_t i = 0; i < n && !e; i++) {
        size_t len = 0;
        if (!(text[i] = lt_json_canonical(p[i].doc, &len)))
            e = lt_fail(ei, LT_E_NOMEM, "out of memory serialising '%s'", p[i].id);
        w[i] = (wh_doc_write){p[i].kind, p[i].id, text[i], len, p[i].flags};
    }
    if (!e)
        e = wh_doc_put_many(rg->env, w, n, ei);
    free(text[0]);
    free(text[1]);
    return e;
}

const ct_contract *rg_service_contract(rg_registry *rg, const char *service)
{
    rg_service *s = NULL;
    if (rg_service_get(rg, service, &s))
        return NULL;
    const ct_contract *c = s->contract; /* owned by the registry, not the snapshot */
    rg_service_release(s);
    return c;
}
