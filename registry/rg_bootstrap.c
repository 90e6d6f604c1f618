/* rg_bootstrap — loading a bootstrap folder (API.md §2 bootstrap.dir) in dependency order:
 * agencies.json, systems.json, codelists/, contracts/, services/, indicators.json.
 *
 * Two passes: the first validates every item against the files themselves (overlays in the
 * view: an item may refer to one defined earlier in the files, or already in the registry)
 * and rejects duplicates within the files; the second, unless dry_run, creates each item
 * whose id is absent from the warehouse. So a bad folder stores nothing at all.
 * Errors are "FILE:LINE:COL: message", the position found with lt_json_locate from the path
 * named in the validator's message ("service.source.auth: unknown field 'x'").
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lt_json.h"
#include "lt_log.h"
#include "rg_int.h"
#include "rg_sharing.h"

typedef struct bs {
    rg_registry *rg; /* NULL: check the folder alone */
    bool store;      /* second pass */
    rg_map agencies, systems, contracts, services, indicators; /* first pass: ids seen */
    rg_map codelists; /* first pass: id -> rg_map * set of the file's codes (owned) */
    rg_view view;
    size_t created, present;
} bs;

typedef struct bs_file {
    const char *path;
    char *text;
    size_t len;
} bs_file;

typedef lt_err (*bs_item_fn)(bs *b, const json_t *item, lt_errinfo *ei);

/* ---- locating an error in the file ---- */

#define BS_MAX_PATH 20

/* Splits the "a.b[2].c" before the first ": " of detail into tokens (in buf). */
static size_t where_tokens(const char *detail, char *buf, size_t size, const char **tok,
                           size_t max)
{
    const char *colon = strstr(detail, ": ");
    size_t n = colon ? (size_t)(colon - detail) : 0, k = 0;
    if (!colon || n >= size || memchr(detail, ' ', n))
        return 0;
    memcpy(buf, detail, n);
    buf[n] = '\0';
    for (char *p = buf; *p && k < max;) {
        char *start = p;
        while (*p && !strchr(".[]", *p))
            p++;
        if (*p)
            *p++ = '\0';
        if (*start)
            tok[k++] = start;
    }
    return k;
}

/* The key named by "unknown field 'k'", copied into key; NULL when there is none. */
static const char *unknown_key(const char *detail, char *key, size_t size)
{
    static const char mark[] = "unknown field '";
    const char *p = strstr(detail, mark), *end;
    if (!p || !(end = strchr(p += sizeof mark - 1, '\'')) || (size_t)(end - p) >= size)
        return NULL;
    memcpy(key, p, (size_t)(end - p));
    key[end - p] = '\0';
    return key;
}

/* Finds the deepest position the message names; tries with and without its root word. */
static void locate(const bs_file *f, const char *index, const char *detail, int *line, int *col)
{
    char buf[LT_DETAIL_MAX], keybuf[128];
    const char *tok[BS_MAX_PATH], *path[BS_MAX_PATH + 2];
    size_t ntok = where_tokens(detail, buf, sizeof buf, tok, BS_MAX_PATH), best = 0;
    const char *key = unknown_key(detail, keybuf, sizeof keybuf);
    size_t base = index ? 1 : 0;
    *line = *col = 1;
    if (index)
        path[0] = index;
    lt_json_locate(f->text, f->len, path, base, line, col);
    for (size_t skip = 0; skip < 2 && skip <= ntok; skip++) {
        size_t n = base;
        for (size_t i = skip; i < ntok; i++)
            path[n++] = tok[i];
        if (key)
            path[n++] = key;
        for (; n > base && n > best; n--) {
            int l, c;
            if (lt_json_locate(f->text, f->len, path, n, &l, &c) == 0) {
                best = n;
                *line = l;
                *col = c;
                break;
            }
        }
    }
}

static lt_err fail_at(const bs_file *f, const char *index, const lt_errinfo *lei,
                      lt_errinfo *ei)
{
    int line, col;
    locate(f, index, lei->detail, &line, &col);
    return lt_fail(ei, lei->code ? lei->code : LT_E_INVALID, "%s:%d:%d: %s", f->path, line,
                   col, lei->detail);
}

/* ---- reading files ---- */

/* Reads path into f->text. LT_E_NOT_FOUND when absent (every part of the folder is optional). */
static lt_err read_text(bs_file *f, lt_errinfo *ei)
{
    FILE *fp = fopen(f->path, "rb");
    if (!fp)
        return errno == ENOENT ? LT_E_NOT_FOUND
                               : lt_fail(ei, LT_E_IO, "%s:1:1: cannot open: %s", f->path,
                                         strerror(errno));
    size_t cap = 0;
    for (;;) {
        if (f->len + 4096 > cap) {
            char *t = realloc(f->text, cap = cap ? cap * 2 : 65536);
            if (!t) {
                fclose(fp);
                return lt_fail(ei, LT_E_NOMEM, "%s: out of memory", f->path);
            }
            f->text = t;
        }
        size_t n = fread(f->text + f->len, 1, cap - f->len, fp);
        f->len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(fp);
    fclose(fp);
    return bad ? lt_fail(ei, LT_E_IO, "%s:1:1: read error", f->path) : LT_OK;
}

static lt_err load_file(bs_file *f, json_t **doc, lt_errinfo *ei)
{
    *doc = NULL;
    lt_err e = read_text(f, ei);
    if (e)
        return e;
    if ((*doc = lt_json_load(f->text, f->len, NULL)))
        return LT_OK;
    /* lt_json_load_file formats the parse error as PATH:LINE:COL. */
    json_t *again = lt_json_load_file(f->path, ei);
    if (again) {
        json_decref(again);
        return lt_fail(ei, LT_E_BAD_JSON, "%s:1:1: invalid JSON", f->path);
    }
    return ei ? ei->code : LT_E_BAD_JSON;
}

/* Calls fn for the file's single object, or each element when as_array. */
static lt_err run_file(bs *b, const char *path, bool as_array, bs_item_fn fn, lt_errinfo *ei)
{
    bs_file f = {path, NULL, 0};
    json_t *doc = NULL;
    lt_errinfo lei = {0};
    lt_err e = load_file(&f, &doc, ei);
    if (e == LT_E_NOT_FOUND && as_array) {
        free(f.text);
        return LT_OK;
    }
    if (!e && as_array && !json_is_array(doc))
        e = lt_fail(ei, LT_E_INVALID, "%s:1:1: must be an array", path);
    size_t i;
    json_t *item, *list = as_array && !e ? doc : NULL;
    if (!e && !as_array && (e = fn(b, doc, &lei)))
        fail_at(&f, NULL, &lei, ei);
    json_array_foreach(list, i, item) {
        char index[24];
        snprintf(index, sizeof index, "%zu", i);
        if ((e = fn(b, item, &lei))) {
            fail_at(&f, index, &lei, ei);
            break;
        }
    }
    lt_errinfo_clear(&lei);
    json_decref(doc);
    free(f.text);
    return e;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each dir/sub/ *.json in name order (deterministic errors and loading order). */
static lt_err run_dir(bs *b, const char *dir, const char *sub, bs_item_fn fn, lt_errinfo *ei)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? LT_OK
                               : lt_fail(ei, LT_E_IO, "%s:1:1: cannot open: %s", path,
                                         strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    lt_err e = LT_OK;
    for (struct dirent *de; !e && (de = readdir(d));) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char **t = n == cap ? realloc(names, (cap = cap ? cap * 2 : 16) * sizeof *t) : names;
        if (!t || !(t[n] = strdup(de->d_name)))
            e = lt_fail(ei, LT_E_NOMEM, "out of memory");
        names = t ? t : names;
        n += !e;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, cmp_name);
    for (size_t i = 0; i < n; i++) {
        char file[4096 + 256];
        snprintf(file, sizeof file, "%s/%s", path, names[i]);
        if (!e && (e = run_file(b, file, false, fn, ei)) == LT_E_NOT_FOUND)
            e = lt_fail(ei, LT_E_IO, "%s:1:1: vanished while reading", file);
        free(names[i]);
    }
    free(names);
    return e;
}

/* ---- items: first pass checks against the view, second pass creates what is absent ---- */

/* Records id as seen in the files; a second occurrence is an error. */
static lt_err seen(rg_map *set, const char *kind, const char *field, const char *id,
                   lt_errinfo *ei)
{
    if (rg_map_has(set, id))
        return lt_fail(ei, LT_E_INVALID, "%s.%s: '%.128s' appears twice in the bootstrap files",
                       kind, field, id);
    if (rg_map_put(set, id, NULL, NULL))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

/* Second pass result of a create: an id that appeared meanwhile is "present", not an error.
 * Takes out (the created document, unused here). */
static lt_err created(bs *b, lt_err e, json_t *out)
{
    json_decref(out);
    if (e == LT_E_CONFLICT)
        e = LT_OK, b->present++;
    else if (!e)
        b->created++;
    return e;
}

static lt_err agency_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    const char *code = lt_json_str(item, "code");
    json_t *out = NULL;
    if (!b->store) {
        lt_err e = rg_agency_check(&b->view, item, ei);
        return e ? e : seen(&b->agencies, "agency", "code", code, ei);
    }
    if (rg_agency_exists(b->rg, code))
        return b->present++, LT_OK;
    lt_err e = rg_agency_create(b->rg, item, &out, ei);
    return created(b, e, out);
}

static lt_err system_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    const char *id = lt_json_str(item, "id");
    json_t *out = NULL;
    if (!b->store) {
        lt_err e = rg_system_check(&b->view, item, ei);
        return e ? e : seen(&b->systems, "system", "id", id, ei);
    }
    if (rg_system_exists(b->rg, id))
        return b->present++, LT_OK;
    lt_err e = rg_system_create(b->rg, item, &out, ei);
    return created(b, e, out);
}

/* The overlay keeps each file's codes (id -> set), for checks such as indicator target areas. */
static lt_err overlay_codes(rg_map *lists, const char *id, const json_t *doc, lt_errinfo *ei)
{
    rg_map *set = rg_codeset_new(doc);
    if (!set || rg_map_put(lists, id, set, NULL)) {
        rg_codeset_free(set);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    return LT_OK;
}

static lt_err codelist_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    const char *id = lt_json_str(item, "id");
    json_t *out = NULL;
    bool is_new = false;
    if (!b->store) {
        lt_err e = rg_codelist_prepare(NULL, item, &out, ei);
        if (!e)
            e = seen(&b->codelists, "codelist", "id", id, ei);
        if (!e)
            e = overlay_codes(&b->codelists, id, out, ei);
        json_decref(out);
        return e;
    }
    if (rg_view_codelist(&(rg_view){b->rg, NULL, NULL, NULL}, id))
        return b->present++, LT_OK;
    lt_err e = rg_codelist_put(b->rg, id, item, &is_new, &out, ei);
    return created(b, e, out);
}

static void contract_free_v(void *c)
{
    if (c)
        ct_contract_free(c);
}

static lt_err contract_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    json_t *out = NULL;
    if (!b->store) {
        ct_contract *c = NULL;
        lt_err e = rg_contract_compile(&b->view, item, &c, ei);
        if (!e && rg_map_has(&b->contracts, c->ref))
            e = lt_fail(ei, LT_E_INVALID, "contract.id: '%s' appears twice in the bootstrap "
                        "files", c->ref);
        if (!e && rg_map_put(&b->contracts, c->ref, c, NULL))
            e = lt_fail(ei, LT_E_NOMEM, "out of memory");
        if (e)
            contract_free_v(c);
        return e;
    }
    const ct_contract *have = NULL;
    char ref[256];
    snprintf(ref, sizeof ref, "%s@%lld", lt_json_str(item, "id"),
             (long long)json_integer_value(json_object_get(item, "version")));
    if (rg_contract_get(b->rg, ref, &have) == LT_OK)
        return b->present++, LT_OK;
    lt_err e = rg_contract_create(b->rg, item, &out, ei);
    return created(b, e, out);
}

static lt_err service_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    const char *id = lt_json_str(item, "id");
    json_t *out = NULL;
    if (!b->store) {
        const ct_contract *c = NULL;
        ad_mapping *m = NULL;
        lt_err e = rg_service_check(&b->view, item, true, &c, &m, ei);
        if (m)
            ad_mapping_free(m);
        return e ? e : seen(&b->services, "service", "id", id, ei);
    }
    rg_service *have = NULL;
    if (rg_service_get(b->rg, id, &have) == LT_OK) {
        rg_service_release(have);
        return b->present++, LT_OK;
    }
    lt_err e = rg_service_create(b->rg, item, true, &out, ei);
    return created(b, e, out);
}

/* The same strict validation as PUT /v1/indicators/{code}; stored through it (so the code
 * joins the `indicators` code list and the cache) when absent from the warehouse. */
static lt_err indicator_item(bs *b, const json_t *item, lt_errinfo *ei)
{
    const char *code = lt_json_str(item, "code");
    json_t *out = NULL;
    bool is_new = false;
    if (!b->store) {
        lt_err e = rg_indicator_prepare(&b->view, NULL, item, &out, ei);
        json_decref(out);
        return e ? e : seen(&b->indicators, "indicator", "code", code, ei);
    }
    char *text = NULL;
    size_t len = 0;
    if (wh_doc_get(b->rg->env, WH_INDICATORS, code, &text, &len) == LT_OK) {
        free(text);
        return b->present++, LT_OK;
    }
    lt_err e = rg_indicator_put(b->rg, code, item, &is_new, &out, ei);
    return created(b, e, out);
}

/* ---- the folder ---- */

static lt_err run_all(bs *b, const char *dir, lt_errinfo *ei)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/agencies.json", dir);
    lt_err e = run_file(b, path, true, agency_item, ei);
    snprintf(path, sizeof path, "%s/systems.json", dir);
    if (!e)
        e = run_file(b, path, true, system_item, ei);
    if (!e)
        e = run_dir(b, dir, "codelists", codelist_item, ei);
    if (!e)
        e = run_dir(b, dir, "contracts", contract_item, ei);
    if (!e)
        e = run_dir(b, dir, "services", service_item, ei);
    snprintf(path, sizeof path, "%s/indicators.json", dir);
    if (!e)
        e = run_file(b, path, true, indicator_item, ei);
    return e;
}

static lt_err bootstrap(rg_registry *rg, const char *dir, bool dry_run, lt_errinfo *ei)
{
    struct stat st;
    if (!dir || stat(dir, &st) || !S_ISDIR(st.st_mode))
        return lt_fail(ei, LT_E_CONFIG, "%s: not a directory", dir ? dir : "(null)");
    bs b = {.rg = rg};
    b.view = (rg_view){rg, &b.agencies, &b.codelists, &b.contracts};
    lt_err e = run_all(&b, dir, ei);
    if (!e && !dry_run) {
        b.store = true;
        e = run_all(&b, dir, ei);
        if (!e)
            lt_log(LT_LOG_INFO, "bootstrap %s: %zu created, %zu already present", dir,
                   b.created, b.present);
    }
    rg_map_free(&b.agencies, NULL);
    rg_map_free(&b.systems, NULL);
    rg_map_free(&b.codelists, rg_codeset_free);
    rg_map_free(&b.contracts, contract_free_v);
    rg_map_free(&b.services, NULL);
    rg_map_free(&b.indicators, NULL);
    return e;
}

lt_err rg_bootstrap(rg_registry *rg, const char *dir, bool dry_run, lt_errinfo *ei)
{
    return bootstrap(rg, dir, dry_run, ei);
}

lt_err rg_check_bootstrap_dir(const char *dir, lt_errinfo *ei)
{
    return bootstrap(NULL, dir, true, ei);
}
