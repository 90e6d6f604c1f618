/* rg_indicator — the indicator catalog (API.md §8): strict validation of a definition,
 * PUT (the indicator and, when missing, its code in the `indicators` code list, in one
 * warehouse transaction), and the cache of immutable snapshots with reference counts that
 * the query engine reads (rg_indicator_get / release / all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_log.h"
#include "rg_int.h"

#define IND_CODE_MAX 64 /* an indicator code is also a code of a code list (64 characters) */
#define IND_WHERE "indicator"

/* ---- validation ---- */

static bool is_code_first(int c)
{
    return rg_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_code_rest(int c)
{
    return is_code_first(c) || c == '.' || c == '_' || c == '-';
}

/* URL-safe (it is a path segment) and a valid code of a code list. */
static bool code_ok(const char *s)
{
    return rg_id_ok(s, IND_CODE_MAX, is_code_first, is_code_rest);
}

static lt_err bad_code(const char *member, const char *s, lt_errinfo *ei)
{
    return lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: '%.64s' is not a valid indicator code "
                   "([A-Za-z0-9][A-Za-z0-9._-]{0,63})", member, s ? s : "");
}

typedef lt_err (*member_fn)(const rg_view *v, const json_t *doc, const char *key,
                            const json_t *val, lt_errinfo *ei);

static lt_err must_string(const char *key, const json_t *val, lt_errinfo *ei)
{
    if (json_is_string(val))
        return LT_OK;
    return lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: must be a string", key);
}

static lt_err check_code(const rg_view *v, const json_t *doc, const char *key,
                         const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    lt_err e = must_string(key, val, ei);
    if (!e && !code_ok(json_string_value(val)))
        e = bad_code(key, json_string_value(val), ei);
    return e;
}

static lt_err check_name(const rg_view *v, const json_t *doc, const char *key,
                         const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    if (!json_is_string(val) || json_string_length(val) == 0)
        return lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: must be a non-empty string", key);
    return LT_OK;
}

static lt_err check_text(const rg_view *v, const json_t *doc, const char *key,
                         const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    return must_string(key, val, ei);
}

static lt_err check_periodicity(const rg_view *v, const json_t *doc, const char *key,
                                const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    lt_err e = must_string(key, val, ei);
    if (!e && ct_freq_from_name(json_string_value(val)) == 0)
        e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: '%.64s' is not one of yearly, annual, "
                    "half-yearly, quarterly, monthly, weekly, daily", key,
                    json_string_value(val));
    return e;
}

typedef struct name_val {
    const char *name;
    int value;
} name_val;

static const name_val directions[] = {{"up", 1}, {"down", -1}, {NULL, 0}};
static const name_val aggregations[] = {{"none", RG_AGG_NONE},
                                        {"sum", RG_AGG_SUM},
                                        {"mean", RG_AGG_MEAN},
                                        {"weighted_mean", RG_AGG_WEIGHTED_MEAN},
                                        {NULL, 0}};

/* The entry of t named s, or NULL. */
static const name_val *find_name(const name_val *t, const char *s)
{
    for (; s && t->name; t++)
        if (strcmp(s, t->name) == 0)
            return t;
    return NULL;
}

static lt_err check_one_of(const char *key, const json_t *val, const name_val *t,
                           const char *names, lt_errinfo *ei)
{
    lt_err e = must_string(key, val, ei);
    if (!e && !find_name(t, json_string_value(val)))
        e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: '%.64s' is not one of %s", key,
                    json_string_value(val), names);
    return e;
}

static lt_err check_direction(const rg_view *v, const json_t *doc, const char *key,
                              const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    return check_one_of(key, val, directions, "up, down", ei);
}

static lt_err check_aggregation(const rg_view *v, const json_t *doc, const char *key,
                                const json_t *val, lt_errinfo *ei)
{
    (void)v, (void)doc;
    return check_one_of(key, val, aggregations, "sum, mean, weighted_mean, none", ei);
}

static lt_err check_weight(const rg_view *v, const json_t *doc, const char *key,
                           const json_t *val, lt_errinfo *ei)
{
    const char *agg = lt_json_str(doc, "aggregation");
    lt_err e = check_code(v, doc, key, val, ei);
    if (!e && (!agg || strcmp(agg, "weighted_mean") != 0))
        e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: only meaningful with aggregation "
                    "weighted_mean", key);
    if (!e && strcmp(json_string_value(val), lt_json_str_or(doc, "code")) == 0)
        e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: an indicator cannot weigh itself", key);
    return e;
}

static lt_err check_agency(const rg_view *v, const json_t *doc, const char *key,
                           const json_t *val, lt_errinfo *ei)
{
    (void)doc;
    lt_err e = must_string(key, val, ei);
    if (!e && !rg_view_agency(v, json_string_value(val)))
        e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: '%.64s' is not a registered agency", key,
                    json_string_value(val));
    return e;
}

/* One target {period, area, value}; *p receives the parsed period. */
static lt_err check_target(const rg_view *v, const json_t *t, const char *where, ct_period *p,
                           lt_errinfo *ei)
{
    static const char *const keys[] = {"period", "area", "value", NULL};
    const char *period = NULL, *area = NULL;
    lt_err e = json_is_object(t) ? lt_json_check_keys(t, keys, where, ei)
                                 : lt_fail(ei, LT_E_INVALID, "%s: must be an object", where);
    if (!e)
        e = lt_json_req_str(t, "period", where, &period, ei);
    if (!e && ct_period_parse(period, strlen(period), p) != 0)
        e = lt_fail(ei, LT_E_INVALID, "%s.period: '%.32s' is not a period", where, period);
    if (!e)
        e = lt_json_req_str(t, "area", where, &area, ei);
    if (!e && !rg_view_code(v, "areas", area))
        e = lt_fail(ei, LT_E_INVALID, "%s.area: '%.64s' is not in the areas code list", where,
                    area);
    if (!e && !json_is_number(json_object_get(t, "value")))
        e = lt_fail(ei, LT_E_INVALID, "%s.value: must be a number", where);
    return e;
}

/* Records (period, area) of target i; a second one is an error. */
static lt_err target_once(rg_map *seen, const ct_period *p, const json_t *t, const char *where,
                          lt_errinfo *ei)
{
    char canon[CT_PERIOD_MAX], key[CT_PERIOD_MAX + 300];
    ct_period_format(p, canon);
    snprintf(key, sizeof key, "%s\x1f%s", canon, lt_json_str_or(t, "area"));
    if (rg_map_has(seen, key))
        return lt_fail(ei, LT_E_INVALID, "%s: a second target for period %s and area %.64s",
                       where, canon, lt_json_str_or(t, "area"));
    return rg_map_put(seen, key, NULL, NULL) ? lt_fail(ei, LT_E_NOMEM, "out of memory")
                                             : LT_OK;
}

static lt_err check_targets(const rg_view *v, const json_t *doc, const char *key,
                            const json_t *val, lt_errinfo *ei)
{
    (void)doc;
    if (!json_is_array(val))
        return lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: must be an array", key);
    rg_map seen = {0};
    lt_err e = LT_OK;
    for (size_t i = 0; !e && i < json_array_size(val); i++) {
        char where[64];
        ct_period p;
        const json_t *t = json_array_get(val, i);
        snprintf(where, sizeof where, IND_WHERE ".%s[%zu]", key, i);
        e = check_target(v, t, where, &p, ei);
        if (!e)
            e = target_once(&seen, &p, t, where, ei);
    }
    rg_map_free(&seen, NULL);
    return e;
}

static const struct {
    const char *key;
    bool required;
    member_fn check;
} members[] = {
    {"code", true, check_code},
    {"name", true, check_name},
    {"unit", false, check_text},
    {"group", false, check_text},
    {"periodicity", false, check_periodicity},
    {"direction", false, check_direction},
    {"aggregation", false, check_aggregation},
    {"weight", false, check_weight},
    {"agency", false, check_agency},
    {"targets", false, check_targets},
};

#define NMEMBERS (sizeof members / sizeof members[0])

static lt_err check_doc(const rg_view *v, const json_t *doc, lt_errinfo *ei)
{
    const char *keys[NMEMBERS + 1];
    for (size_t i = 0; i < NMEMBERS; i++)
        keys[i] = members[i].key;
    keys[NMEMBERS] = NULL;
    lt_err e = lt_json_check_keys(doc, keys, IND_WHERE, ei);
    for (size_t i = 0; !e && i < NMEMBERS; i++) {
        const json_t *val = json_object_get(doc, members[i].key);
        if (members[i].required && (!val || json_is_null(val)))
            e = lt_fail(ei, LT_E_INVALID, IND_WHERE ": '%s' is required (a string)",
                        members[i].key);
        else if (val && !json_is_null(val))
            e = members[i].check(v, doc, members[i].key, val, ei);
    }
    return e;
}

/* Target periods in canonical form ("2026-07" -> "2026-M07"); they were checked. */
static void canonical_periods(json_t *doc)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(doc, "targets"), i, t) {
        const char *s = lt_json_str(t, "period");
        ct_period p;
        char canon[CT_PERIOD_MAX];
        if (!s || ct_period_parse(s, strlen(s), &p) != 0)
            continue;
        ct_period_format(&p, canon);
        if (strcmp(canon, s) != 0)
            json_object_set_new(t, "period", json_string(canon));
    }
}

/* The body's code must be the path's (when both are there). */
static lt_err fill_code(json_t *d, const char *path_code, lt_errinfo *ei)
{
    json_t *c = json_object_get(d, "code");
    if (!path_code)
        return LT_OK;
    if (!code_ok(path_code))
        return bad_code("code", path_code, ei);
    if (!c)
        return json_object_set_new(d, "code", json_string(path_code))
                   ? lt_fail(ei, LT_E_NOMEM, "out of memory")
                   : LT_OK;
    if (!json_is_string(c) || strcmp(json_string_value(c), path_code) != 0)
        return lt_fail(ei, LT_E_INVALID, IND_WHERE ".code: '%.64s' does not match the code "
                       "in the path '%.64s'", json_is_string(c) ? json_string_value(c) : "",
                       path_code);
    return LT_OK;
}

lt_err rg_indicator_prepare(const rg_view *v, const char *path_code, const json_t *body,
                            json_t **doc, lt_errinfo *ei)
{
    *doc = NULL;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, IND_WHERE ": must be an object");
    json_t *d = json_deep_copy(body);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_err e = fill_code(d, path_code, ei);
    if (!e)
        e = check_doc(v, d, ei);
    if (e) {
        json_decref(d);
        return e;
    }
    canonical_periods(d);
    *doc = d;
    return LT_OK;
}

/* ---- snapshots ---- */

static int value_of(const name_val *t, const char *s, int fallback)
{
    const name_val *nv = find_name(t, s);
    return nv ? nv->value : fallback;
}

/* Parses the targets of the document into t (room for all); returns how many were usable
 * (a stored document was checked when written: a bad target means a damaged document). */
static size_t parse_targets(json_t *doc, rg_target *t)
{
    size_t i, n = 0;
    json_t *obj;
    canonical_periods(doc);
    json_array_foreach(json_object_get(doc, "targets"), i, obj) {
        const char *period = lt_json_str(obj, "period"), *area = lt_json_str(obj, "area");
        json_t *val = json_object_get(obj, "value");
        if (!period || !area || !json_is_number(val) ||
            ct_period_parse(period, strlen(period), &t[n].p) != 0)
            continue;
        t[n].period = period;
        t[n].area = area;
        t[n].value = json_number_value(val);
        n++;
    }
    return n;
}

/* New snapshot with one reference; steals doc (freed on failure: NULL = out of memory). */
static rg_indicator *snapshot_new(json_t *doc)
{
    size_t n = json_array_size(json_object_get(doc, "targets"));
    rg_indicator *ind = calloc(1, sizeof *ind);
    rg_target *t = calloc(n ? n : 1, sizeof *t);
    if (!ind || !t) {
        free(ind);
        free(t);
        json_decref(doc);
        return NULL;
    }
    const char *per = lt_json_str(doc, "periodicity"), *w = lt_json_str(doc, "weight");
    ind->def = doc;
    ind->code = lt_json_str_or(doc, "code");
    ind->name = lt_json_str_or(doc, "name");
    ind->unit = lt_json_str_or(doc, "unit");
    ind->group = lt_json_str_or(doc, "group");
    ind->agency = lt_json_str_or(doc, "agency");
    ind->freq = per ? ct_freq_from_name(per) : (ct_freq)0;
    ind->direction = value_of(directions, lt_json_str(doc, "direction"), 0);
    ind->aggregation = (rg_agg)value_of(aggregations, lt_json_str(doc, "aggregation"),
                                        RG_AGG_NONE);
    ind->weight = w ? w : "POP";
    ind->ntargets = parse_targets(doc, t);
    ind->targets = t;
    ind->refs = 1;
    return ind;
}

void rg_indicator_release(rg_indicator *ind)
{
    if (!ind || __atomic_sub_fetch(&ind->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free((void *)ind->targets);
    json_decref(ind->def);
    free(ind);
}

static void indicator_unref(void *ind)
{
    rg_indicator_release(ind);
}

/* Makes ind the cached entry for its code (steals the reference). */
static lt_err publish(rg_registry *rg, rg_indicator *ind, lt_errinfo *ei)
{
    void *old = NULL;
    pthread_rwlock_wrlock(&rg->lock);
    int rc = rg_map_put(&rg->indicators, ind->code, ind, &old);
    pthread_rwlock_unlock(&rg->lock);
    if (rc) {
        rg_indicator_release(ind);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    rg_indicator_release(old); /* readers holding it keep it alive until they release */
    return LT_OK;
}

lt_err rg_indicator_get(rg_registry *rg, const char *code, rg_indicator **out)
{
    pthread_rwlock_rdlock(&rg->lock);
    rg_indicator *ind = code ? rg_map_get(&rg->indicators, code) : NULL;
    if (ind)
        __atomic_add_fetch(&ind->refs, 1, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&rg->lock);
    *out = ind;
    return ind ? LT_OK : LT_E_NOT_FOUND;
}

lt_err rg_indicator_all(rg_registry *rg, rg_indicator ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_rwlock_rdlock(&rg->lock);
    size_t k = 0;
    const char **keys = rg_map_sorted_keys(&rg->indicators, &k);
    rg_indicator **arr = calloc(k ? k : 1, sizeof *arr);
    bool ok = arr && (keys || rg->indicators.n == 0);
    for (size_t i = 0; ok && i < k; i++) {
        arr[i] = rg_map_get(&rg->indicators, keys[i]);
        __atomic_add_fetch(&arr[i]->refs, 1, __ATOMIC_RELAXED);
    }
    pthread_rwlock_unlock(&rg->lock);
    free(keys);
    if (!ok) {
        free(arr);
        return LT_E_NOMEM;
    }
    *out = arr;
    *n = k;
    return LT_OK;
}

lt_err rg_indicators_load(rg_registry *rg, lt_errinfo *ei)
{
    json_t *all = NULL;
    lt_err e = rg_load_all(rg, WH_INDICATORS, &all, ei);
    size_t i;
    json_t *doc;
    json_array_foreach(all, i, doc) {
        if (!code_ok(lt_json_str(doc, "code"))) {
            lt_log(LT_LOG_ERROR, "stored indicator %zu has no valid code: left out", i);
            continue;
        }
        rg_indicator *ind = snapshot_new(json_deep_copy(doc));
        if ((e = ind ? publish(rg, ind, ei) : lt_fail(ei, LT_E_NOMEM, "out of memory")))
            break;
    }
    json_decref(all);
    return e;
}

void rg_indicators_free(rg_registry *rg)
{
    rg_map_free(&rg->indicators, indicator_unref);
}

/* ---- PUT ---- */

/* The `indicators` code list with the indicator's code added, or *cl NULL when it is there. */
static lt_err codelist_with(rg_registry *rg, const json_t *ind, json_t **cl, lt_errinfo *ei)
{
    const char *code = lt_json_str(ind, "code");
    json_t *doc = NULL;
    *cl = NULL;
    if (rg_code_exists(rg, "indicators", code))
        return LT_OK;
    lt_err e = rg_doc_get(rg, WH_CODELISTS, "indicators", &doc);
    if (e == LT_E_NOT_FOUND) {
        doc = json_pack("{s:s, s:s, s:[]}", "id", "indicators", "title", "Indicators",
                        "codes");
        e = doc ? LT_OK : LT_E_NOMEM;
    }
    if (e)
        return lt_fail(ei, e, "the indicators code list could not be read");
    json_t *entry = json_pack("{s:s, s:s}", "code", code, "name", lt_json_str_or(ind, "name"));
    json_t *codes = json_object_get(doc, "codes");
    if (!entry || !json_is_array(codes) || json_array_append_new(codes, entry))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!e)
        e = ct_codelist_check(doc, "indicators", ei);
    if (e)
        json_decref(doc);
    else
        *cl = doc;
    return e;
}

/* The indicator and (when given) the code list in one durable transaction. */
static lt_err write_docs(rg_registry *rg, const json_t *doc, const json_t *cl, lt_errinfo *ei)
{
    wh_doc_write w[2] = {{WH_INDICATORS, lt_json_str(doc, "code"), NULL, 0, 0},
                         {WH_CODELISTS, "indicators", NULL, 0, 0}};
    char *t0 = lt_json_canonical(doc, &w[0].len);
    char *t1 = cl ? lt_json_canonical(cl, &w[1].len) : NULL;
    lt_err e = LT_OK;
    if (!t0 || (cl && !t1))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory serialising the indicator");
    w[0].json = t0;
    w[1].json = t1;
    if (!e)
        e = wh_doc_put_many(rg->env, w, cl ? 2 : 1, ei);
    free(t0);
    free(t1);
    return e;
}

/* Stores doc (stolen) and publishes it; *out receives a copy. Caller holds write_mu. */
static lt_err store_publish(rg_registry *rg, json_t *doc, json_t **out, lt_errinfo *ei)
{
    json_t *cl = NULL, *copy = NULL;
    lt_err e = codelist_with(rg, doc, &cl, ei);
    if (!e)
        e = write_docs(rg, doc, cl, ei);
    if (!e && cl)
        e = rg_codelist_publish(rg, cl, ei);
    json_decref(cl);
    if (!e && !(copy = json_deep_copy(doc)))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e) {
        json_decref(doc);
        return e;
    }
    rg_indicator *ind = snapshot_new(doc);
    e = ind ? publish(rg, ind, ei) : lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e)
        json_decref(copy);
    else
        *out = copy;
    return e;
}

/* Timestamps are the registry's: a client may send back what it read, not change it. */
static const char *const meta_keys[] = {"created_at", "updated_at", NULL};

static lt_err prepare_put(rg_registry *rg, const char *code, const json_t *body,
                          const json_t *cur, json_t **doc, lt_errinfo *ei)
{
    rg_view v = {rg, NULL, NULL, NULL};
    json_t *b = json_deep_copy(body);
    lt_err e = b ? LT_OK : lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (const char *const *k = meta_keys; !e && *k; k++) {
        json_t *val = json_object_get(b, *k);
        if (val && !json_equal(val, json_object_get(cur, *k)))
            e = lt_fail(ei, LT_E_INVALID, IND_WHERE ".%s: read-only", *k);
        json_object_del(b, *k);
    }
    if (!e)
        e = rg_indicator_prepare(&v, code, b, doc, ei);
    json_decref(b);
    if (e)
        return e;
    char now[32];
    json_t *created = json_object_get(cur, "created_at");
    rg_now(now);
    json_object_set_new(*doc, "created_at", created ? json_incref(created) : json_string(now));
    json_object_set_new(*doc, "updated_at", json_string(now));
    return LT_OK;
}

lt_err rg_indicator_put(rg_registry *rg, const char *code, const json_t *body, bool *created,
                        json_t **out, lt_errinfo *ei)
{
    json_t *cur = NULL, *doc = NULL;
    *out = NULL;
    *created = false;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, IND_WHERE ": must be an object");
    if (!code_ok(code))
        return bad_code("code", code, ei);
    pthread_mutex_lock(&rg->write_mu);
    lt_err e = rg_doc_get(rg, WH_INDICATORS, code, &cur);
    if (e == LT_E_NOT_FOUND)
        e = LT_OK;
    else if (e)
        lt_fail(ei, e, "indicator '%s' could not be read", code);
    if (!e)
        e = prepare_put(rg, code, body, cur, &doc, ei);
    if (!e)
        e = store_publish(rg, doc, out, ei);
    pthread_mutex_unlock(&rg->write_mu);
    *created = !e && !cur;
    json_decref(cur);
    return e;
}
