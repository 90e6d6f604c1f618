/* ct_envelope — checking the exchange envelope (API.md §7) before its records are validated. */
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"
#include "lt_str.h"

static const char *const env_keys[] = {"header", "records", "restricted_fields", "next_cursor",
                                       NULL};
static const char *const header_keys[] = {"message_id", "service",     "provider",
                                          "contract",   "produced_at", NULL};

/* Every header member is optional, but when present it is a non-empty string. */
static lt_err check_header(const json_t *h, const char *service, const char *contract_ref,
                           lt_errinfo *ei)
{
    lt_err err = lt_json_check_keys(h, header_keys, "envelope header", ei);
    if (err)
        return err;
    for (const char *const *k = header_keys; *k; k++) {
        const json_t *v = json_object_get(h, *k);
        if (v && (!json_is_string(v) || json_string_length(v) == 0))
            return lt_fail(ei, LT_E_INVALID, "envelope header: '%s' must be a non-empty string",
                           *k);
    }
    const char *svc = lt_json_str(h, "service"), *ref = lt_json_str(h, "contract");
    const char *at = lt_json_str(h, "produced_at");
    int64_t us;
    if (svc && service && strcmp(svc, service) != 0)
        return lt_fail(ei, LT_E_INVALID, "envelope header: service '%.128s' is not '%.128s'", svc,
                       service);
    if (ref && contract_ref && strcmp(ref, contract_ref) != 0)
        return lt_fail(ei, LT_E_INVALID, "envelope header: contract '%.140s' is not '%.140s'", ref,
                       contract_ref);
    if (at && lt_time_parse(at, strlen(at), &us))
        return lt_fail(ei, LT_E_INVALID,
                       "envelope header: 'produced_at' is not an RFC 3339 date-time");
    return LT_OK;
}

lt_err ct_envelope_check(const json_t *env, const char *service, const char *contract_ref,
                         const json_t **records, lt_errinfo *ei)
{
    *records = NULL;
    lt_err err = lt_json_check_keys(env, env_keys, "envelope", ei);
    if (err)
        return err;
    const json_t *h = json_object_get(env, "header");
    const json_t *recs = json_object_get(env, "records");
    const json_t *rf = json_object_get(env, "restricted_fields");
    const json_t *cur = json_object_get(env, "next_cursor");
    if (!h)
        return lt_fail(ei, LT_E_INVALID, "envelope: 'header' is required (an object)");
    if ((err = check_header(h, service, contract_ref, ei)))
        return err;
    if (!json_is_array(recs))
        return lt_fail(ei, LT_E_INVALID, "envelope: 'records' is required (an array)");
    if (rf && !json_is_array(rf))
        return lt_fail(ei, LT_E_INVALID, "envelope: 'restricted_fields' must be an array");
    for (size_t i = 0; i < json_array_size(rf); i++)
        if (!json_is_string(json_array_get(rf, i)))
            return lt_fail(ei, LT_E_INVALID, "envelope: restricted_fields[%zu] must be a string",
                           i);
    if (cur && !json_is_string(cur) && !json_is_null(cur))
        return lt_fail(ei, LT_E_INVALID, "envelope: 'next_cursor' must be a string or null");
    *records = recs;
    return LT_OK;
}
