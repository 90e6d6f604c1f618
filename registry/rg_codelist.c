/* rg_codelist — code lists {id, title, codes: [{code, name, parent?}]}, the membership test
 * that every code field of every ingested record goes through (a hash-set lookup under a
 * read lock), and the area hierarchy built from the `areas` list (rg_area_*: hash lookups
 * under the same lock, the index rebuilt whenever the list is replaced). */
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "rg_int.h"

static bool is_alnum(int c)
{
    return rg_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_id_char(int c) /* URL-safe: code list ids appear in paths */
{
    return is_alnum(c) || c == '.' || c == '_' || c == '-';
}

lt_err rg_codelist_prepare(const char *id, const json_t *body, json_t **doc, lt_errinfo *ei)
{
    *doc = NULL;
    if (!json_is_object(body))
        return lt_fail(ei, LT_E_INVALID, "codelist: must be an object");
    if (!id)
        id = lt_json_str(body, "id");
    if (!rg_id_ok(id, LT_MAX_ID_LEN, is_alnum, is_id_char))
        return lt_fail(ei, LT_E_INVALID, "codelist.id: '%.64s' is not a valid id",
                       id ? id : "");
    json_t *d = json_deep_copy(body);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!json_object_get(d, "id"))
        json_object_set_new(d, "id", json_string(id));
    lt_err e = ct_codelist_check(d, id, ei);
    if (e) {
        json_decref(d);
        return e;
    }
    *doc = d;
    return LT_OK;
}

rg_map *rg_codeset_new(const json_t *doc)
{
    rg_map *set = calloc(1, sizeof *set);
    if (!set)
        return NULL;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(doc, "codes"), i, c) {
        const char *code = json_is_string(c) ? json_string_value(c) : lt_json_str(c, "code");
        if (code && rg_map_put(set, code, NULL, NULL)) {
            rg_codeset_free(set);
            return NULL;
        }
    }
    return set;
}

void rg_codeset_free(void *set)
{
    if (!set)
        return;
    rg_map_free(set, NULL);
    free(set);
}

/* ---- the area index (rg_area_*: called per observation, so no JSON walk per call) ---- */

typedef struct area_ent {
    const char *name, *parent; /* borrowed from the index's document; parent NULL: province */
} area_ent;

typedef struct area_kids {
    const char **codes; /* borrowed from the index's document, sorted */
    size_t n, cap;
} area_kids;

struct rg_areas {
    json_t *doc;    /* deep copy of the code list: every string above points into it */
    area_ent *ents; /* one per code */
    rg_map info;    /* code -> area_ent * (into ents) */
    rg_map kids;    /* parent code -> area_kids * (owned) */
};

static void kids_free(void *k)
{
    if (k)
        free(((area_kids *)k)->codes);
    free(k);
}

void rg_areas_free(rg_areas *a)
{
    if (!a)
        return;
    rg_map_free(&a->info, NULL);
    rg_map_free(&a->kids, kids_free);
    free(a->ents);
    json_decref(a->doc);
    free(a);
}

static int kids_add(rg_map *kids, const char *parent, const char *code)
{
    area_kids *k = rg_map_get(kids, parent);
    if (!k) {
        if (!(k = calloc(1, sizeof *k)) || rg_map_put(kids, parent, k, NULL)) {
            free(k);
            return -1;
        }
    }
    if (k->n == k->cap) {
        size_t cap = k->cap ? k->cap * 2 : 8;
        const char **c = realloc(k->codes, cap * sizeof *c);
        if (!c)
            return -1;
        k->codes = c;
        k->cap = cap;
    }
    k->codes[k->n++] = code;
    return 0;
}

static int cmp_code(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void kids_sort(rg_map *kids)
{
    for (size_t i = 0; i < kids->cap; i++) {
        area_kids *k = kids->keys[i] ? kids->vals[i] : NULL;
        if (k)
            qsort(k->codes, k->n, sizeof *k->codes, cmp_code);
    }
}

rg_areas *rg_areas_new(const json_t *doc)
{
    rg_areas *a = calloc(1, sizeof *a);
    if (!a || !(a->doc = json_deep_copy(doc))) {
        free(a);
        return NULL;
    }
    json_t *codes = json_object_get(a->doc, "codes");
    a->ents = calloc(json_array_size(codes) + 1, sizeof *a->ents);
    int bad = !a->ents;
    size_t i;
    json_t *c;
    json_array_foreach(codes, i, c) {
        const char *code = lt_json_str(c, "code");
        if (bad || !code)
            continue;
        a->ents[i] = (area_ent){lt_json_str_or(c, "name"), lt_json_str(c, "parent")};
        bad = rg_map_put(&a->info, code, &a->ents[i], NULL) ||
              (a->ents[i].parent && kids_add(&a->kids, a->ents[i].parent, code));
    }
    if (bad) {
        rg_areas_free(a);
        return NULL;
    }
    kids_sort(&a->kids);
    return a;
}

bool rg_area_parent(rg_registry *rg, const char *code, char *out, size_t size)
{
    pthread_rwlock_rdlock(&rg->lock);
    const area_ent *e = rg->areas ? rg_map_get(&rg->areas->info, code) : NULL;
    bool ok = e && e->parent && strlen(e->parent) < size;
    if (ok)
        memcpy(out, e->parent, strlen(e->parent) + 1);
    pthread_rwlock_unlock(&rg->lock);
    return ok;
}

/* Copies src into out, cut (when it must be) at a UTF-8 character boundary. */
static void copy_utf8(char *out, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, src, n);
    out[n] = '\0';
}

bool rg_area_name(rg_registry *rg, const char *code, char *out, size_t size)
{
    if (!size)
        return false;
    pthread_rwlock_rdlock(&rg->lock);
    const area_ent *e = rg->areas ? rg_map_get(&rg->areas->info, code) : NULL;
    if (e)
        copy_utf8(out, size, e->name);
    pthread_rwlock_unlock(&rg->lock);
    return e != NULL;
}

lt_err rg_area_children(rg_registry *rg, const char *province, json_t **codes)
{
    json_t *arr = json_array();
    bool bad = !arr;
    pthread_rwlock_rdlock(&rg->lock);
    const area_kids *k = rg->areas && !bad ? rg_map_get(&rg->areas->kids, province) : NULL;
    for (size_t i = 0; k && !bad && i < k->n; i++)
        bad = json_array_append_new(arr, json_string(k->codes[i])) != 0;
    pthread_rwlock_unlock(&rg->lock);
    if (bad) {
        json_decref(arr);
        *codes = NULL;
        return LT_E_NOMEM;
    }
    *codes = arr;
    return LT_OK;
}

/* ---- replacing a code list ---- */

lt_err rg_codelist_publish(rg_registry *rg, const json_t *doc, lt_errinfo *ei)
{
    const char *id = lt_json_str(doc, "id");
    bool is_areas = id && strcmp(id, "areas") == 0;
    rg_map *set = id ? rg_codeset_new(doc) : NULL;
    rg_areas *areas = is_areas && set ? rg_areas_new(doc) : NULL;
    if (!set || (is_areas && !areas)) {
        rg_codeset_free(set);
        return lt_fail(ei, id ? LT_E_NOMEM : LT_E_STORAGE,
                       id ? "out of memory" : "a code list without an id");
    }
    void *old = NULL;
    pthread_rwlock_wrlock(&rg->lock);
    int rc = rg_map_put(&rg->codelists, id, set, &old);
    if (!rc && is_areas) {
        rg_areas *t = rg->areas;
        rg->areas = areas;
        areas = t; /* now the old index */
    }
    pthread_rwlock_unlock(&rg->lock);
    /* No reader can hold the old ones: lookups finish under the read lock. */
    rg_areas_free(areas);
    if (rc) {
        rg_codeset_free(set);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    rg_codeset_free(old);
    return LT_OK;
}

lt_err rg_codelist_put(rg_registry *rg, const char *id, const json_t *body, bool *created,
                       json_t **out, lt_errinfo *ei)
{
    json_t *doc = NULL;
    *out = NULL;
    *created = false;
    lt_err e = rg_codelist_prepare(id, body, &doc, ei);
    if (e)
        return e;
    id = lt_json_str(doc, "id");
    pthread_mutex_lock(&rg->write_mu);
    pthread_rwlock_rdlock(&rg->lock);
    bool existed = rg_codelist_has_locked(rg, id);
    pthread_rwlock_unlock(&rg->lock);
    e = rg_store(rg, WH_CODELISTS, id, doc, 0, ei);
    if (!e)
        e = rg_codelist_publish(rg, doc, ei);
    pthread_mutex_unlock(&rg->write_mu);
    if (e) {
        json_decref(doc);
        return e;
    }
    *created = !existed;
    *out = doc;
    return LT_OK;
}

bool rg_code_exists(void *ctx, const char *codelist, const char *code)
{
    rg_registry *rg = ctx;
    pthread_rwlock_rdlock(&rg->lock);
    bool has = rg_map_has(rg_map_get(&rg->codelists, codelist), code);
    pthread_rwlock_unlock(&rg->lock);
    return has;
}
