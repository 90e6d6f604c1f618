#include "lt_err.h"

#include <stdio.h>
#include <string.h>

/* Why a table: one place maps internal codes to the public contract (docs/errors.md). */
static const struct {
    int status;
    const char *code;
    const char *title;
} err_table[LT_E__COUNT] = {
    [LT_OK] = {200, "ok", "OK"},
    [LT_E_NOMEM] = {500, "out_of_memory", "Out of memory"},
    [LT_E_INTERNAL] = {500, "internal_error", "Internal error"},
    [LT_E_BAD_REQUEST] = {400, "bad_request", "Bad request"},
    [LT_E_BAD_JSON] = {400, "malformed_json", "Malformed JSON"},
    [LT_E_BAD_UTF8] = {400, "invalid_utf8", "Invalid UTF-8"},
    [LT_E_UNAUTHORIZED] = {401, "unauthorized", "Unauthorized"},
    [LT_E_TOKEN_EXPIRED] = {401, "token_expired", "Token expired or not yet valid"},
    [LT_E_FORBIDDEN] = {403, "forbidden", "Forbidden"},
    [LT_E_NOT_FOUND] = {404, "not_found", "Not found"},
    [LT_E_METHOD] = {405, "method_not_allowed", "Method not allowed"},
    [LT_E_CONFLICT] = {409, "conflict", "Conflict"},
    [LT_E_TOO_LARGE] = {413, "payload_too_large", "Payload too large"},
    [LT_E_MEDIA_TYPE] = {415, "unsupported_media_type", "Unsupported media type"},
    [LT_E_VALIDATION] = {422, "validation_failed", "Validation failed"},
    [LT_E_INVALID] = {422, "invalid", "Unprocessable content"},
    [LT_E_QUOTA] = {429, "quota_exceeded", "Quota exceeded"},
    [LT_E_UPSTREAM] = {502, "bad_gateway", "Provider answered badly"},
    [LT_E_UNAVAILABLE] = {503, "service_unavailable", "Service unavailable"},
    [LT_E_TIMEOUT] = {504, "gateway_timeout", "Provider timed out"},
    [LT_E_STORAGE] = {500, "storage_error", "Storage error"},
    [LT_E_CONFIG] = {500, "config_error", "Configuration error"},
    [LT_E_IO] = {500, "io_error", "I/O error"},
    [LT_E_NOT_ACCEPTABLE] = {406, "not_acceptable", "Not acceptable"},
    [LT_E_STORAGE_FULL] = {507, "storage_full", "Warehouse full"},
    [LT_E_URI_TOO_LONG] = {414, "uri_too_long", "URI too long"},
};

static int valid(lt_err e) { return (int)e >= 0 && e < LT_E__COUNT && err_table[e].code; }

const char *lt_strerror(lt_err e) { return valid(e) ? err_table[e].title : "Unknown error"; }
int lt_err_status(lt_err e) { return valid(e) ? err_table[e].status : 500; }
const char *lt_err_code(lt_err e) { return valid(e) ? err_table[e].code : "internal_error"; }
const char *lt_err_title(lt_err e) { return valid(e) ? err_table[e].title : "Internal error"; }

lt_err lt_vfail(lt_errinfo *ei, lt_err code, const char *fmt, va_list ap)
{
    if (!ei)
        return code;
    ei->code = code;
    if (fmt)
        vsnprintf(ei->detail, sizeof ei->detail, fmt, ap);
    else
        ei->detail[0] = '\0';
    return code;
}

lt_err lt_fail(lt_errinfo *ei, lt_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt_vfail(ei, code, fmt, ap);
    va_end(ap);
    return code;
}

void lt_errinfo_add(lt_errinfo *ei, long record, const char *field, const char *fmt, ...)
{
    char msg[LT_DETAIL_MAX];
    va_list ap;
    if (!ei)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!ei->errors && !(ei->errors = json_array()))
        return;
    json_t *e = json_object();
    if (!e)
        return;
    if (record >= 0)
        json_object_set_new(e, "record", json_integer(record));
    if (field)
        json_object_set_new(e, "field", json_string(field));
    json_object_set_new(e, "message", json_string(msg));
    json_array_append_new(ei->errors, e);
}

void lt_errinfo_clear(lt_errinfo *ei)
{
    if (!ei)
        return;
    json_decref(ei->errors);
    memset(ei, 0, sizeof *ei);
}
