/* The one access check every data path passes through (API.md §3, §6), and the projection of
 * records to the fields a grant allows (TT 13/2017 Art. 8.2: "data exists but you are not
 * authorised" is said through restricted_fields, never by returning the data).
 *
 * Who may do what on a service's data:
 *  - the operator (admin): everything;
 *  - the owning agency: everything on its own services;
 *  - anyone else: READ under a live grant for (its org, its system), within the grant's daily
 *    quota, and only the granted fields.
 * Suspended services and maintenance windows (Art. 43) answer 503 to everyone but the
 * operator and the owner. */
#include <stdio.h>
#include <string.h>

#include "gw_int.h"
#include "lt_str.h"
#include "rg_sharing.h"

static void release_grant(void *p) { rg_grant_release(p); }

const char *gw_service_unavailable(const rg_service *svc, int64_t now, char *why, size_t size,
                                   int *retry_s)
{
    *retry_s = 0;
    if (svc->maint_from_us && now >= svc->maint_from_us && now < svc->maint_until_us) {
        char from[32], until[32];
        lt_time_format(svc->maint_from_us, false, from);
        lt_time_format(svc->maint_until_us, false, until);
        *retry_s = (int)((svc->maint_until_us - now) / 1000000 + 1);
        snprintf(why, size, "service '%s' is in planned maintenance from %s until %s", svc->id,
                 from, until);
        return why;
    }
    if (strcmp(svc->status, "suspended") == 0) {
        snprintf(why, size, "service '%s' is suspended by its provider", svc->id);
        return why;
    }
    return NULL;
}

/* 503 for a suspended service or inside its maintenance window. */
static bool service_available(gw_req *r, const rg_service *svc, int64_t now)
{
    char why[LT_DETAIL_MAX];
    int retry = 0;
    if (!gw_service_unavailable(svc, now, why, sizeof why, &retry))
        return true;
    r->ei.retry_after = retry;
    gw_fail(r, LT_E_UNAVAILABLE, "%s", why);
    return false;
}

bool gw_access_service(gw_req *r, const rg_service *svc, gw_op op)
{
    static const char *what[] = {"read data of", "push data to", "manage"};
    int64_t now = lt_now_us();
    if (gw_is_admin(r))
        return true;
    if ((r->who.roles & GW_ROLE_AGENCY) && r->who.org[0] && strcmp(r->who.org, svc->agency) == 0)
        return true;
    if (op != GW_OP_READ) {
        gw_fail(r, LT_E_FORBIDDEN, "organisation '%s' may not %s service '%s'",
                r->who.org[0] ? r->who.org : "(none)", what[op], svc->id);
        return false;
    }
    if (!service_available(r, svc, now))
        return false;
    rg_grant *g = NULL;
    if (rg_grant_find(r->ctx->rg, svc->id, r->who.org, r->who.sub, now, &g, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return false;
    }
    lt_arena_defer(r->arena, release_grant, g);
    if (rg_grant_take_quota(r->ctx->rg, g, now, &r->ei) != LT_OK) {
        gw_reply_error(r);
        return false;
    }
    r->grant = g;
    r->object = g->id;
    return true;
}

bool gw_grant_allows(const rg_grant *g, const char *field, size_t len)
{
    if (!g)
        return true;
    for (size_t i = 0; i < g->nfields; i++)
        if (strlen(g->fields[i]) == len && memcmp(g->fields[i], field, len) == 0)
            return true;
    return false;
}

void gw_restricted_fields(const rg_grant *g, const ct_contract *c, lt_buf *out)
{
    bool first = true;
    for (size_t i = 0; g && i < c->nfields; i++) {
        const char *f = c->fields[i].name;
        if (gw_grant_allows(g, f, strlen(f)))
            continue;
        if (!first)
            lt_buf_putc(out, ',');
        first = false;
        lt_buf_json_str(out, f, strlen(f));
    }
}

/* Index just past the JSON value starting at t[i] (well-formed canonical text). */
static size_t skip_value(const char *t, size_t n, size_t i)
{
    int depth = 0;
    bool in_str = false;
    for (; i < n; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = false;
                if (depth == 0)
                    return i + 1;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return i; /* the end of the enclosing object */
            if (--depth == 0)
                return i + 1;
        } else if (c == ',' && depth == 0) {
            return i;
        }
    }
    return n;
}

void gw_project(const rg_grant *g, const char *data, size_t n, lt_buf *out)
{
    if (!g) {
        lt_buf_append(out, data, n);
        return;
    }
    bool first = true;
    size_t i = 1; /* after '{' */
    lt_buf_putc(out, '{');
    while (i < n && data[i] == '"') {
        size_t k = i + 1;
        while (k < n && data[k] != '"') /* field names never hold escapes */
            k++;
        size_t vstart = k + 2, vend = skip_value(data, n, vstart); /* past '":' */
        if (vend > n || vstart > n)
            break;
        if (gw_grant_allows(g, data + i + 1, k - i - 1)) {
            if (!first)
                lt_buf_putc(out, ',');
            first = false;
            lt_buf_append(out, data + i, vend - i);
        }
        i = vend < n && data[vend] == ',' ? vend + 1 : vend;
    }
    lt_buf_putc(out, '}');
}
