/* rg_catalog — the public catalog of published services (Decree 47 Art. 24.3), built from the
 * snapshot cache. The text filter folds case for ASCII and for the Latin letters Vietnamese
 * uses ("NGÂN SÁCH" finds "ngân sách"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_json.h"
#include "rg_int.h"

static uint32_t fold_cp(uint32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    /* Latin Extended-A (Ă Đ Ĩ Ũ …) and Latin Extended Additional (Ạ … Ỹ): upper is even
     * in these ranges. */
    if (((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177) ||
         (c >= 0x1EA0 && c <= 0x1EF9)) && c % 2 == 0)
        return c + 1;
    if (c == 0x1A0 || c == 0x1AF) /* Ơ Ư */
        return c + 1;
    return c;
}

/* Decodes one UTF-8 sequence (input is valid UTF-8: it came through lt_json_load). */
static size_t decode(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    uint32_t c = s[0] & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = s[0];
            return 1;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *cp = c;
    return n;
}

/* Case-folded copy as code points; new (free()). */
static uint32_t *fold(const char *s, size_t *n)
{
    size_t len = strlen(s);
    uint32_t *out = malloc((len + 1) * sizeof *out);
    *n = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += decode((const unsigned char *)s + i, &cp);
        out[(*n)++] = fold_cp(cp);
    }
    return out;
}

static bool contains_folded(const char *hay, const uint32_t *needle, size_t nn)
{
    size_t nh;
    if (!hay)
        return false;
    uint32_t *h = fold(hay, &nh);
    bool found = false;
    for (size_t i = 0; h && !found && i + nn <= nh; i++)
        found = memcmp(h + i, needle, nn * sizeof *h) == 0;
    free(h);
    return found;
}

static bool matches(const rg_service *s, const rg_catalog_filter *f, const uint32_t *q,
                    size_t nq)
{
    if (strcmp(s->status, "published") != 0)
        return false;
    if (f->agency && strcmp(f->agency, s->agency) != 0)
        return false;
    if (f->sharing && (!s->sharing || strcmp(f->sharing, s->sharing) != 0))
        return false;
    if (f->contract) { /* "id@version", or a bare id for every version */
        const char *want = strchr(f->contract, '@') ? s->contract->ref : s->contract->id;
        if (strcmp(f->contract, want) != 0)
            return false;
    }
    if (!q)
        return true;
    return contains_folded(s->id, q, nq) || contains_folded(s->title, q, nq) ||
           contains_folded(lt_json_str(s->def, "description"), q, nq);
}

/* The stored document without source.auth secrets (only the auth type stays). */
static json_t *catalog_entry(const rg_service *s)
{
    json_t *e = json_deep_copy(s->def);
    json_t *auth = json_object_get(json_object_get(e, "source"), "auth");
    if (!e)
        return NULL;
    if (auth) {
        json_t *type = json_object_get(auth, "type");
        json_t *safe = json_object();
        if (safe && type)
            json_object_set(safe, "type", type);
        json_object_set_new(json_object_get(e, "source"), "auth", safe ? safe : json_null());
    }
    json_object_set_new(e, "contract_title", json_string(s->contract->title));
    return e;
}

static lt_err collect(rg_registry *rg, const rg_catalog_filter *f, const uint32_t *q, size_t nq,
                      json_t *items)
{
    size_t n = 0;
    lt_err e = LT_OK;
    const char **ids = rg_map_sorted_keys(&rg->services, &n);
    if (!ids && rg->services.n)
        return LT_E_NOMEM;
    for (size_t i = 0; !e && i < n; i++) {
        const rg_service *s = rg_map_get(&rg->services, ids[i]);
        if (!matches(s, f, q, nq))
            continue;
        json_t *entry = catalog_entry(s);
        if (!entry || json_array_append_new(items, entry))
            e = LT_E_NOMEM;
    }
    free(ids);
    return e;
}

lt_err rg_catalog(rg_registry *rg, const rg_catalog_filter *f, json_t **items, lt_errinfo *ei)
{
    static const rg_catalog_filter any = {NULL, NULL, NULL, NULL};
    uint32_t *q = NULL;
    size_t nq = 0;
    *items = NULL;
    if (!f)
        f = &any;
    if (f->q && *f->q && !(q = fold(f->q, &nq)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    json_t *arr = json_array();
    if (!arr) {
        free(q);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    pthread_rwlock_rdlock(&rg->lock);
    lt_err e = collect(rg, f, q, nq, arr);
    pthread_rwlock_unlock(&rg->lock);
    free(q);
    if (e) {
        json_decref(arr);
        return lt_fail(ei, e, "out of memory");
    }
    *items = arr;
    return LT_OK;
}
