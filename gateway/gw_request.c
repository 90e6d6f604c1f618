/* Request helpers: query and header access, JSON bodies, paging parameters. */
#include <ctype.h>
#include <string.h>

#include "gw_int.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"

const char *gw_query(gw_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *gw_header(gw_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *gw_content_type(gw_req *r)
{
    const char *ct = gw_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct)
        return "";
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1]))
        n--;
    char *s = lt_arena_strndup(r->arena, ct, n);
    if (!s)
        return "";
    for (char *p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}

json_t *gw_body_json(gw_req *r)
{
    const char *ct = gw_content_type(r);
    if (strcmp(ct, GW_MEDIA_JSON) != 0) {
        gw_fail(r, LT_E_MEDIA_TYPE, "expected Content-Type application/json, got '%.80s'",
                *ct ? ct : "(none)");
        return NULL;
    }
    json_t *v = lt_json_load(r->body.data ? r->body.data : "", r->body.len, &r->ei);
    if (!v) {
        gw_reply_error(r);
        return NULL;
    }
    lt_arena_defer(r->arena, (void (*)(void *))json_decref, v);
    return v;
}

bool gw_paging(gw_req *r, size_t *limit, const char **cursor)
{
    const char *l = gw_query(r, "limit");
    *limit = LT_LIST_LIMIT_DEFAULT;
    if (l) {
        int64_t v;
        if (lt_parse_i64(l, strlen(l), &v) || v < 1 || v > LT_LIST_LIMIT_MAX) {
            gw_fail(r, LT_E_BAD_REQUEST, "limit must be an integer from 1 to %d",
                    LT_LIST_LIMIT_MAX);
            return false;
        }
        *limit = (size_t)v;
    }
    *cursor = gw_query(r, "cursor");
    if (*cursor && !**cursor)
        *cursor = NULL;
    return true;
}

bool gw_is_admin(const gw_req *r) { return r->authed && (r->who.roles & GW_ROLE_ADMIN); }

static void release_service(void *p) { rg_service_release(p); }

rg_service *gw_load_service(gw_req *r, int seg)
{
    rg_service *s = NULL;
    if (seg >= r->nsegs || rg_service_get(r->ctx->rg, r->segs[seg], &s) != LT_OK || !s) {
        gw_fail(r, LT_E_NOT_FOUND, "no service '%.128s'", seg < r->nsegs ? r->segs[seg] : "");
        return NULL;
    }
    lt_arena_defer(r->arena, release_service, s);
    r->service = s->id;
    r->svc = s;
    return s;
}
