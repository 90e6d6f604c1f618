/* rg_grant — grants: immutable snapshots in the cache (indexed by (service, org, system) and
 * by (org, system)), grants made directly by the operator, and suspend / resume / revoke.
 * Lookups, quotas and listings are in rg_grant_find.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_str.h"
#include "rg_share_int.h"

/* ---- snapshots ---- */

static void snap_free(rg_gsnap *s)
{
    free(s->fields);
    json_decref(s->doc);
    free(s);
}

/* New snapshot with one reference (steals doc); NULL on out of memory or a broken doc. */
static rg_gsnap *snap_new(json_t *doc)
{
    rg_gsnap *s = calloc(1, sizeof *s);
    json_t *fields = json_object_get(doc, "fields");
    size_t n = json_array_size(fields);
    if (!s || !(s->fields = calloc(n + 1, sizeof *s->fields))) {
        free(s);
        json_decref(doc);
        return NULL;
    }
    s->doc = doc;
    for (size_t i = 0; i < n; i++)
        s->fields[i] = json_string_value(json_array_get(fields, i));
    s->g = (rg_grant){lt_json_str(doc, "id"),
                      lt_json_str(doc, "org"),
                      lt_json_str(doc, "system"),
                      lt_json_str(doc, "service"),
                      s->fields,
                      n,
                      rg_time_of(doc, "valid_from"),
                      rg_time_of(doc, "valid_until"),
                      (long)json_integer_value(json_object_get(doc, "quota_per_day")),
                      1};
    s->state = lt_json_str_or(doc, "state");
    s->provider = lt_json_str_or(doc, "provider");
    if (!s->g.id || !s->g.org || !s->g.system || !s->g.service) {
        snap_free(s);
        return NULL;
    }
    return s;
}

void rg_grant_release(rg_grant *g)
{
    if (g && __atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0)
        snap_free((rg_gsnap *)g);
}

static void snap_unref(void *s)
{
    rg_grant_release(s);
}

static void idlist_free(void *p)
{
    rg_idlist *l = p;
    for (size_t i = 0; l && i < l->n; i++)
        free(l->ids[i]);
    if (l)
        free(l->ids);
    free(l);
}

/* Appends gid to the list under key (created on first use). Caller holds the write lock. */
static int idlist_add(rg_map *m, const char *key, const char *gid)
{
    rg_idlist *l = rg_map_get(m, key);
    if (!l) {
        if (!(l = calloc(1, sizeof *l)) || rg_map_put(m, key, l, NULL)) {
            free(l);
            return -1;
        }
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 2;
        char **ids = realloc(l->ids, cap * sizeof *ids);
        if (!ids)
            return -1;
        l->ids = ids;
        l->cap = cap;
    }
    if (!(l->ids[l->n] = strdup(gid)))
        return -1;
    l->n++;
    return 0;
}

lt_err rg_grant_cache(rg_registry *rg, json_t *doc, lt_errinfo *ei)
{
    rg_gsnap *s = snap_new(doc);
    if (!s)
        return lt_fail(ei, LT_E_STORAGE, "grant document unreadable or out of memory");
    char triple[RG_KEY_MAX], holder[RG_KEY_MAX];
    snprintf(triple, sizeof triple, "%s\x1f%s\x1f%s", s->g.service, s->g.org, s->g.system);
    snprintf(holder, sizeof holder, "%s\x1f%s", s->g.org, s->g.system);
    void *old = NULL;
    pthread_rwlock_wrlock(&rg->lock);
    int rc = rg_map_put(&rg->grants, s->g.id, s, &old);
    /* Org, system and service never change: a replaced snapshot is already indexed. */
    if (!rc && !old)
        rc = idlist_add(&rg->grant_triple, triple, s->g.id) ||
             idlist_add(&rg->grant_holder, holder, s->g.id);
    pthread_rwlock_unlock(&rg->lock);
    rg_grant_release(old);
    return rc ? lt_fail(ei, LT_E_NOMEM, "out of memory") : LT_OK;
}

void rg_sharing_free(rg_registry *rg)
{
    rg_map_free(&rg->systems, free);
    rg_map_free(&rg->grants, snap_unref);
    rg_map_free(&rg->grant_triple, idlist_free);
    rg_map_free(&rg->grant_holder, idlist_free);
    rg_map_free(&rg->quota, free);
    free(rg->holidays);
    rg->holidays = NULL;
}

lt_err rg_grant_doc(rg_registry *rg, const char *gid, json_t **out)
{
    return rg_doc_get(rg, WH_GRANTS, gid, out);
}

lt_err rg_grant_get(rg_registry *rg, const char *gid, json_t **out)
{
    return rg_grant_doc(rg, gid, out);
}

json_t *rg_grant_doc_new(const rg_grant_terms *t, int64_t now)
{
    char id[32], from[32], until[32], at[32];
    lt_random_id("g-", id, sizeof id);
    rg_time_str(t->valid_from, from);
    rg_time_str(t->valid_until, until);
    rg_time_str(now, at);
    /* A copy of the field list: the grant must not share mutable JSON with the request. */
    json_t *g = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:s, s:[]}", "id", id,
                          "org", t->org, "system", t->system, "service", t->service, "provider",
                          t->provider, "fields", json_deep_copy(t->fields), "valid_from", from,
                          "valid_until", until, "quota_per_day", (json_int_t)t->quota, "state",
                          "active", "created_at", at, "history");
    const char *request = t->request;
    if (g && request)
        json_object_set_new(g, "request", json_string(request));
    return g;
}

/* ---- grants by the operator (IOC and national systems) ---- */

static lt_err check_grant_body(rg_registry *rg, const json_t *body, int64_t now, rg_grant_terms *t,
                               rg_service **svc, lt_errinfo *ei)
{
    static const char *const keys[] = {"org",           "system",     "service",
                                       "fields",        "valid_from", "valid_until",
                                       "quota_per_day", "reason",     NULL};
    const char *w = "grant";
    bool has_from = false, has_until = false;
    lt_err e = lt_json_check_keys(body, keys, w, ei);
    if (!e)
        e = rg_req_text(body, "org", w, &t->org, ei);
    if (!e && !rg_agency_exists(rg, t->org))
        e = lt_fail(ei, LT_E_INVALID, "grant.org: '%.64s' is not a registered agency", t->org);
    if (!e)
        e = rg_req_text(body, "system", w, &t->system, ei);
    if (!e && !rg_system_of(rg, t->system, t->org))
        e = lt_fail(ei, LT_E_INVALID, "grant.system: unknown system '%.128s' of org '%s'",
                    t->system, t->org);
    if (!e)
        e = rg_req_text(body, "service", w, &t->service, ei);
    if (!e && rg_service_get(rg, t->service, svc))
        e = lt_fail(ei, LT_E_INVALID, "grant.service: unknown service '%.128s'", t->service);
    if (!e)
        e = rg_fields_check(t->fields = json_object_get(body, "fields"), (*svc)->contract, w, ei);
    t->valid_from = now;
    if (!e)
        e = rg_opt_time(body, "valid_from", w, &t->valid_from, &has_from, ei);
    if (!e)
        e = rg_opt_time(body, "valid_until", w, &t->valid_until, &has_until, ei);
    if (!e && (!has_until || t->valid_until <= now || t->valid_until <= t->valid_from))
        e = lt_fail(ei, LT_E_INVALID,
                    "grant.valid_until: required, in the future and after "
                    "valid_from");
    t->quota = 0;
    if (!e)
        e = rg_opt_count(body, "quota_per_day", w, &t->quota, ei);
    if (!e)
        t->provider = (*svc)->agency;
    return e;
}

/* Stores a new grant, caches it and answers a copy. Caller holds write_mu. */
static lt_err store_new_grant(rg_registry *rg, json_t *g, json_t **out, lt_errinfo *ei)
{
    rg_put p = {WH_GRANTS, lt_json_str(g, "id"), g, WH_NOOVERWRITE};
    lt_err e = rg_store_many(rg, &p, 1, ei);
    if (!e && !(*out = json_deep_copy(g)))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e) {
        json_decref(g);
        return e;
    }
    return rg_grant_cache(rg, g, ei);
}

lt_err rg_grant_create(rg_registry *rg, const rg_caller *who, const json_t *body, int64_t now_us,
                       json_t **out, lt_errinfo *ei)
{
    rg_grant_terms t = {0};
    rg_service *svc = NULL;
    *out = NULL;
    if (!who->admin)
        return lt_fail(ei, LT_E_FORBIDDEN, "only the operator grants access directly");
    lt_err e = check_grant_body(rg, body, now_us, &t, &svc, ei);
    json_t *g = e ? NULL : rg_grant_doc_new(&t, now_us);
    if (!e && !g)
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!e) {
        rg_history_add(g, now_us, who, "created", lt_json_str(body, "reason"), NULL);
        pthread_mutex_lock(&rg->write_mu);
        e = store_new_grant(rg, g, out, ei);
        pthread_mutex_unlock(&rg->write_mu);
    }
    if (!e)
        rg_share_audit(rg, who, "grant.created", t.service, NULL, lt_json_str(*out, "id"));
    rg_service_release(svc);
    return e;
}

/* ---- suspend / resume / revoke (Decree 47 Art. 44) ---- */

static const struct {
    const char *action, *from, *to, *done;
} transitions[] = {
    {"suspend", "active", "suspended", "suspended"},
    {"resume", "suspended", "active", "resumed"},
    {"revoke", "active", "revoked", "revoked"},
    {"revoke", "suspended", "revoked", "revoked"},
};

/* Index of the transition for action from state; -1 unknown action; -2 not from there. */
static int find_transition(const char *action, const char *from)
{
    int known = -1;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
        if (strcmp(transitions[i].action, action) != 0)
            continue;
        known = -2;
        if (strcmp(transitions[i].from, from) == 0)
            return (int)i;
    }
    return known;
}

static lt_err set_state_locked(rg_registry *rg, json_t *g, const char *action, const rg_caller *who,
                               const char *reason, int64_t now, lt_errinfo *ei)
{
    const char *id = lt_json_str_or(g, "id"), *state = lt_json_str_or(g, "state");
    if (!who->admin && !rg_caller_is(who, lt_json_str(g, "provider")))
        return lt_fail(ei, LT_E_FORBIDDEN,
                       "only the provider of service '%s' (or the "
                       "operator) may %s grant %s",
                       lt_json_str_or(g, "service"), action, id);
    int t = find_transition(action, state);
    if (t == -1)
        return lt_fail(ei, LT_E_INVALID,
                       "grant action '%.32s' is not suspend, resume or "
                       "revoke",
                       action);
    if (t < 0)
        return lt_fail(ei, LT_E_CONFLICT, "grant %s is %s: cannot %s it%s", id, state, action,
                       strcmp(state, "revoked") == 0 ? " (revoked is final)" : "");
    if (!reason)
        return lt_fail(ei, LT_E_INVALID, "grant: 'reason' is required (a non-empty string)");
    char at[32];
    rg_time_str(now, at);
    json_object_set_new(g, "state", json_string(transitions[t].to));
    json_object_set_new(g, "updated_at", json_string(at));
    rg_history_add(g, now, who, transitions[t].done, reason, NULL);
    rg_put p = {WH_GRANTS, id, g, 0};
    lt_err e = rg_store_many(rg, &p, 1, ei);
    return e ? e : rg_grant_cache(rg, json_deep_copy(g), ei);
}

lt_err rg_grant_set_state(rg_registry *rg, const char *gid, const char *action,
                          const rg_caller *who, const json_t *body, int64_t now_us, json_t **out,
                          lt_errinfo *ei)
{
    static const char *const keys[] = {"reason", NULL};
    const char *reason = NULL;
    json_t *g = NULL;
    *out = NULL;
    lt_err e = body ? lt_json_check_keys(body, keys, "grant", ei) : LT_OK;
    if (!e)
        rg_opt_text(body, "reason", "grant", &reason, NULL);
    if (reason && !*reason)
        reason = NULL;
    if (e)
        return e;
    pthread_mutex_lock(&rg->write_mu);
    e = rg_grant_doc(rg, gid, &g);
    if (e)
        lt_fail(ei, e, "grant '%.128s' not found", gid);
    else
        e = set_state_locked(rg, g, action, who, reason, now_us, ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (!e) {
        char op[64];
        snprintf(op, sizeof op, "grant.%s", rg_last_action(g));
        rg_share_audit(rg, who, op, lt_json_str(g, "service"), NULL, gid);
        *out = g;
    } else {
        json_decref(g);
    }
    return e;
}
