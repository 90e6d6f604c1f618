/* rg_grant_find — the one grant check every data path uses (a hash lookup on (service, org,
 * system) in the snapshot cache), daily quotas, the services a caller may use, and listings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "rg_share_int.h"

static bool snap_live(const rg_gsnap *s, int64_t now)
{
    return strcmp(s->state, "active") == 0 && now >= s->g.valid_from_us &&
           now < s->g.valid_until_us;
}

/* Why the newest grant of the triple is not live (no live one exists). */
static lt_err why_not(const rg_gsnap *s, int64_t now, const char *service, const char *org,
                      const char *system, lt_errinfo *ei)
{
    char t[32];
    if (!s)
        return lt_fail(ei, LT_E_FORBIDDEN,
                       "no grant for system '%.128s' of org '%.64s' on "
                       "service '%.128s'",
                       system, org, service);
    if (strcmp(s->state, "active") != 0)
        return lt_fail(ei, LT_E_FORBIDDEN, "grant %s on service '%.128s' is %s", s->g.id, service,
                       s->state);
    if (now < s->g.valid_from_us) {
        rg_time_str(s->g.valid_from_us, t);
        return lt_fail(ei, LT_E_FORBIDDEN,
                       "grant %s on service '%.128s' is not yet valid "
                       "(valid_from %s)",
                       s->g.id, service, t);
    }
    rg_time_str(s->g.valid_until_us, t);
    return lt_fail(ei, LT_E_FORBIDDEN,
                   "grant %s on service '%.128s' has expired "
                   "(valid_until %s)",
                   s->g.id, service, t);
}

lt_err rg_grant_find(rg_registry *rg, const char *service, const char *org, const char *system,
                     int64_t now_us, rg_grant **out, lt_errinfo *ei)
{
    char key[RG_KEY_MAX];
    rg_gsnap *live = NULL, *newest = NULL;
    *out = NULL;
    if (!service || !org || !system || !*org ||
        snprintf(key, sizeof key, "%s\x1f%s\x1f%s", service, org, system) >= (int)sizeof key)
        return why_not(NULL, now_us, service ? service : "", org ? org : "", system ? system : "",
                       ei);
    pthread_rwlock_rdlock(&rg->lock);
    const rg_idlist *l = rg_map_get(&rg->grant_triple, key);
    /* Newest first: a renewed grant wins over the one it replaced. */
    for (size_t i = l ? l->n : 0; i-- > 0 && !live;) {
        rg_gsnap *s = rg_map_get(&rg->grants, l->ids[i]);
        if (s && !newest)
            newest = s;
        if (s && snap_live(s, now_us))
            live = s;
    }
    if (live)
        __atomic_add_fetch(&live->g.refs, 1, __ATOMIC_RELAXED);
    lt_err e = live ? LT_OK : why_not(newest, now_us, service, org, system, ei);
    pthread_rwlock_unlock(&rg->lock);
    *out = live ? &live->g : NULL;
    return e;
}

lt_err rg_grant_take_quota(rg_registry *rg, const rg_grant *g, int64_t now_us, lt_errinfo *ei)
{
    if (!g || g->quota_per_day <= 0)
        return LT_OK;
    int64_t day = rg_vn_day(now_us);
    lt_err e = LT_OK;
    pthread_mutex_lock(&rg->quota_mu);
    rg_quota *q = rg_map_get(&rg->quota, g->id);
    if (!q && (q = calloc(1, sizeof *q)) && rg_map_put(&rg->quota, g->id, q, NULL)) {
        free(q);
        q = NULL;
    }
    if (!q) {
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    } else {
        if (q->day != day)
            *q = (rg_quota){day, 0};
        if (q->used >= g->quota_per_day)
            e = LT_E_QUOTA;
        else
            q->used++;
    }
    pthread_mutex_unlock(&rg->quota_mu);
    if (e == LT_E_QUOTA) {
        int64_t wait = rg_vn_day_start(day + 1) - now_us;
        lt_fail(ei, e,
                "grant %s: daily quota of %ld requests used up; it renews at 00:00 "
                "Vietnam time",
                g->id, g->quota_per_day);
        if (ei)
            ei->retry_after = (int)((wait + 999999) / 1000000);
    }
    return e;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

lt_err rg_grant_services(rg_registry *rg, const char *org, const char *system, int64_t now_us,
                         json_t **ids)
{
    char key[RG_KEY_MAX];
    *ids = json_array();
    if (!*ids)
        return LT_E_NOMEM;
    if (!org || !system || snprintf(key, sizeof key, "%s\x1f%s", org, system) >= (int)sizeof key)
        return LT_OK;
    lt_err e = LT_OK;
    pthread_rwlock_rdlock(&rg->lock);
    const rg_idlist *l = rg_map_get(&rg->grant_holder, key);
    const char **found = l ? malloc(l->n * sizeof *found) : NULL;
    size_t n = 0;
    if (l && !found)
        e = LT_E_NOMEM;
    for (size_t i = 0; found && i < l->n; i++) {
        const rg_gsnap *s = rg_map_get(&rg->grants, l->ids[i]);
        if (s && snap_live(s, now_us))
            found[n++] = s->g.service;
    }
    if (n)
        qsort(found, n, sizeof *found, cmp_str);
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(found[i], found[i - 1]) != 0)
            json_array_append_new(*ids, json_string(found[i]));
    pthread_rwlock_unlock(&rg->lock);
    free(found);
    return e;
}

/* ---- listing ---- */

static bool grant_concerns(const rg_gsnap *s, const rg_caller *who, const char *as)
{
    if (!as)
        return who->admin || rg_caller_is(who, s->provider) || rg_caller_is(who, s->g.org);
    return rg_caller_is(who, strcmp(as, "provider") == 0 ? s->provider : s->g.org);
}

static int cmp_newest(const void *a, const void *b)
{
    const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    int64_t tx = rg_time_of(x, "created_at"), ty = rg_time_of(y, "created_at");
    if (tx != ty)
        return tx < ty ? 1 : -1;
    return -strcmp(lt_json_str_or(x, "id"), lt_json_str_or(y, "id"));
}

/* Sorts the array's items newest first (jansson arrays cannot be sorted in place). */
lt_err rg_sort_newest(json_t *items)
{
    size_t n = json_array_size(items);
    json_t **v = n ? malloc(n * sizeof *v) : NULL;
    if (n && !v)
        return LT_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(items, i));
    if (n)
        qsort(v, n, sizeof *v, cmp_newest);
    json_array_clear(items);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, v[i]);
    free(v);
    return LT_OK;
}

lt_err rg_grant_list(rg_registry *rg, const rg_caller *who, const char *as, int64_t now_us,
                     json_t **items, lt_errinfo *ei)
{
    *items = NULL;
    if (as && strcmp(as, "provider") != 0 && strcmp(as, "consumer") != 0)
        return lt_fail(ei, LT_E_INVALID, "as: '%.32s' is not provider or consumer", as);
    json_t *out = json_array();
    if (!out)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    pthread_rwlock_rdlock(&rg->lock);
    for (size_t i = 0; i < rg->grants.cap; i++) {
        const rg_gsnap *s = rg->grants.keys[i] ? rg->grants.vals[i] : NULL;
        if (!s || !grant_concerns(s, who, as))
            continue;
        json_t *doc = json_deep_copy(s->doc);
        if (doc)
            json_object_set_new(doc, "live", json_boolean(snap_live(s, now_us)));
        json_array_append_new(out, doc);
    }
    pthread_rwlock_unlock(&rg->lock);
    if (rg_sort_newest(out)) {
        json_decref(out);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    *items = out;
    return LT_OK;
}
