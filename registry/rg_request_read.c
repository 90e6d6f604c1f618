/* rg_request_read — reading requests: the overdue view (pending past its due date), the
 * parties for access checks, and listings for a provider or a consumer. Requests are read
 * from the warehouse: they are not on the data path. */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_share_int.h"

void rg_request_view(json_t *req, int64_t now)
{
    bool overdue =
        strcmp(lt_json_str_or(req, "state"), "pending") == 0 && now > rg_time_of(req, "due_at");
    if (overdue) { /* only said when true: the stored state stays "pending" */
        json_object_set_new(req, "overdue", json_true());
        json_object_set_new(req, "state", json_string("overdue"));
    }
}

lt_err rg_request_load(rg_registry *rg, const char *rid, json_t **out, lt_errinfo *ei)
{
    lt_err e = rid ? rg_doc_get(rg, WH_REQUESTS, rid, out) : LT_E_NOT_FOUND;
    if (e == LT_E_NOT_FOUND)
        return lt_fail(ei, e, "request '%.64s' not found", rid ? rid : "");
    if (e)
        return lt_fail(ei, e, "request '%.64s' unreadable: %s", rid, lt_strerror(e));
    return LT_OK;
}

lt_err rg_request_get(rg_registry *rg, const char *rid, int64_t now_us, json_t **out)
{
    lt_err e = rg_request_load(rg, rid, out, NULL);
    if (!e)
        rg_request_view(*out, now_us);
    return e;
}

lt_err rg_request_parties(rg_registry *rg, const char *rid, char provider[64], char org[64])
{
    json_t *r = NULL;
    provider[0] = org[0] = '\0';
    lt_err e = rg_request_load(rg, rid, &r, NULL);
    if (e)
        return e;
    lt_strlcpy(provider, lt_json_str_or(r, "provider"), 64);
    lt_strlcpy(org, lt_json_str_or(r, "org"), 64);
    json_decref(r);
    return LT_OK;
}

/* ---- listing ---- */

typedef struct req_filter {
    const rg_caller *who;
    const char *as, *state;
    int64_t now;
    json_t *items;
    lt_err err;
} req_filter;

static bool concerns(const req_filter *f, const json_t *r)
{
    const char *provider = lt_json_str(r, "provider"), *org = lt_json_str(r, "org");
    if (!f->as)
        return f->who->admin || rg_caller_is(f->who, provider) || rg_caller_is(f->who, org);
    return rg_caller_is(f->who, strcmp(f->as, "provider") == 0 ? provider : org);
}

static int take_request(void *ctx, const char *id, const char *json, size_t len)
{
    req_filter *f = ctx;
    (void)id;
    json_t *r = lt_json_load(json, len, NULL);
    if (!r) {
        f->err = LT_E_STORAGE;
        return 1;
    }
    if (concerns(f, r)) {
        rg_request_view(r, f->now);
        if (!f->state || strcmp(lt_json_str_or(r, "state"), f->state) == 0) {
            if (json_array_append(f->items, r)) {
                f->err = LT_E_NOMEM;
                json_decref(r);
                return 1;
            }
        }
    }
    json_decref(r);
    return 0;
}

static bool known(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

lt_err rg_request_list(rg_registry *rg, const rg_caller *who, const char *as, const char *state,
                       int64_t now_us, json_t **items, lt_errinfo *ei)
{
    static const char *const ases[] = {"provider", "consumer", NULL};
    static const char *const states[] = {"pending",           "approved", "rejected",
                                         "amendment_pending", "overdue",  NULL};
    *items = NULL;
    if (as && *as && !known(as, ases))
        return lt_fail(ei, LT_E_INVALID, "as: '%.32s' is not provider or consumer", as);
    if (state && *state && !known(state, states))
        return lt_fail(ei, LT_E_INVALID,
                       "state: '%.32s' is not pending, approved, rejected, "
                       "amendment_pending or overdue",
                       state);
    req_filter f = {who,    as && *as ? as : NULL, state && *state ? state : NULL,
                    now_us, json_array(),          LT_OK};
    if (!f.items)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = wh_doc_list(rg->env, WH_REQUESTS, NULL, 0, take_request, &f);
    if (!e)
        e = f.err;
    if (!e)
        e = rg_sort_newest(f.items);
    if (e) {
        json_decref(f.items);
        return lt_fail(ei, e, "listing requests failed: %s", lt_strerror(e));
    }
    *items = f.items;
    return LT_OK;
}
