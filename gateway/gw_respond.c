/* Building responses: JSON bodies, problem+json errors (RFC 9457), list envelopes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gw_int.h"
#include "gw_sdmx.h"
#include "lt_str.h"

void gw_reply_raw(gw_req *r, int status, const char *ctype, const char *text, size_t len)
{
    r->status = status;
    r->content_type = ctype;
    lt_buf_reset(&r->out);
    lt_buf_append(&r->out, text, len);
}

void gw_reply_json(gw_req *r, int status, json_t *body)
{
    char *s = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(body);
    if (!s) {
        gw_fail(r, LT_E_NOMEM, "could not serialise the response");
        return;
    }
    gw_reply_raw(r, status, GW_MEDIA_JSON, s, strlen(s));
    free(s);
}

void gw_reply_list(gw_req *r, json_t *items, const char *next)
{
    json_t *o = json_object();
    json_object_set_new(o, "items", items ? items : json_array());
    json_object_set_new(o, "next_cursor", next && *next ? json_string(next) : json_null());
    gw_reply_json(r, 200, o);
}

/* Detail text may quote client input; jansson refuses invalid UTF-8, so fall back. */
static json_t *safe_string(const char *s)
{
    json_t *v = json_string(s);
    return v ? v : json_string("(detail not valid UTF-8)");
}

void gw_reply_error(gw_req *r)
{
    /* SDMX clients read SDMX error messages (401 → code 110, …), not problem+json. */
    if (r->path && strncmp(r->path, "/sdmx/", 6) == 0) {
        gw_sdmx_reply_problem(r);
        return;
    }
    lt_err code = r->ei.code ? r->ei.code : LT_E_INTERNAL;
    int status = lt_err_status(code);
    json_t *p = json_object();
    json_object_set_new(p, "type", json_string("about:blank"));
    json_object_set_new(p, "title", json_string(lt_err_title(code)));
    json_object_set_new(p, "status", json_integer(status));
    json_object_set_new(p, "code", json_string(lt_err_code(code)));
    if (r->ei.detail[0])
        json_object_set_new(p, "detail", safe_string(r->ei.detail));
    if (r->ei.errors)
        json_object_set(p, "errors", r->ei.errors);
    char *s = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    static const char fallback[] = "{\"type\":\"about:blank\",\"status\":500,"
                                   "\"code\":\"internal_error\",\"title\":\"Internal error\"}";
    if (s)
        gw_reply_raw(r, status, GW_MEDIA_PROBLEM, s, strlen(s));
    else
        gw_reply_raw(r, 500, GW_MEDIA_PROBLEM, fallback, sizeof fallback - 1);
    free(s);
    r->retry_after = r->ei.retry_after;
}

void gw_fail(gw_req *r, lt_err code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt_vfail(&r->ei, code, fmt, ap);
    va_end(ap);
    gw_reply_error(r);
}
