/* ct_contract — compiling contract definitions (API.md §5) into ct_contract. */
#include "ct_contract.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_int.h"
#include "lt_json.h"
#include "lt_str.h"

#define CT_MAX_FIELDS 256         /* records are flat; a wider contract is a design error */
#define CT_MAX_PATTERN 1024       /* regcomp cost and memory stay small */
#define CT_MAX_LENGTH_CAP 1000000 /* max_length beyond this is certainly a typo */

static const struct {
    const char *name;
    ct_type type;
} type_table[] = {
    {"string", CT_STRING},   {"integer", CT_INTEGER}, {"number", CT_NUMBER},
    {"boolean", CT_BOOLEAN}, {"date", CT_DATE},       {"datetime", CT_DATETIME},
    {"period", CT_PERIOD},   {"code", CT_CODE},       {"enum", CT_ENUM},
};

static const char *const top_keys[] = {"id",  "version", "title", "description",
                                       "key", "fields",  NULL};
static const char *const field_keys[] = {
    "name", "type",       "codelist", "values",   "required",    "nullable", "min",
    "max",  "max_length", "pattern",  "personal", "description", "unit",     NULL};

/* Field name: [a-z_][a-z0-9_]{0,63}. */
static bool field_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Optional boolean option: absent is false. */
static lt_err opt_bool(const json_t *fd, const char *key, bool *out, const char *where,
                       lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, key);
    if (!v)
        return LT_OK;
    if (!json_is_boolean(v))
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' must be a boolean", where, key);
    *out = json_is_true(v);
    return LT_OK;
}

/* Optional string option (description, unit): only its type is checked. */
static lt_err opt_str(const json_t *obj, const char *key, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(obj, key);
    if (v && !json_is_string(v))
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' must be a string", where, key);
    return LT_OK;
}

static lt_err parse_type(const json_t *fd, ct_field *f, const char *where, lt_errinfo *ei)
{
    const char *t = lt_json_str(fd, "type");
    if (!t)
        return lt_fail(ei, LT_E_INVALID, "%s: 'type' is required (a string)", where);
    for (size_t i = 0; i < sizeof type_table / sizeof type_table[0]; i++) {
        if (strcmp(type_table[i].name, t) == 0) {
            f->type = type_table[i].type;
            return LT_OK;
        }
    }
    return lt_fail(ei, LT_E_INVALID, "%s: unknown type '%.64s'", where, t);
}

static lt_err parse_codelist(const json_t *fd, ct_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, "codelist");
    if (f->type != CT_CODE)
        return v ? lt_fail(ei, LT_E_INVALID, "%s: 'codelist' applies to code fields only", where)
                 : LT_OK;
    if (!v)
        return lt_fail(ei, LT_E_INVALID, "%s: a code field needs 'codelist'", where);
    if (!json_is_string(v) || !ct_id_valid(json_string_value(v)))
        return lt_fail(ei, LT_E_INVALID, "%s: 'codelist' must be a code list id", where);
    if (!(f->codelist = strdup(json_string_value(v))))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

static lt_err parse_values(const json_t *fd, ct_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, "values");
    if (f->type != CT_ENUM)
        return v ? lt_fail(ei, LT_E_INVALID, "%s: 'values' applies to enum fields only", where)
                 : LT_OK;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return lt_fail(ei, LT_E_INVALID, "%s: an enum field needs non-empty 'values'", where);
    size_t n = json_array_size(v);
    if (!(f->values = calloc(n, sizeof *f->values)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s || !*s)
            return lt_fail(ei, LT_E_INVALID, "%s: values[%zu] must be a non-empty string", where,
                           i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(f->values[j], s) == 0)
                return lt_fail(ei, LT_E_INVALID, "%s: duplicate value '%.64s'", where, s);
        if (!(f->values[i] = strdup(s)))
            return lt_fail(ei, LT_E_NOMEM, "out of memory");
        f->nvalues = i + 1;
    }
    return LT_OK;
}

static lt_err parse_bound(const json_t *fd, const char *key, bool *has, double *out,
                          const ct_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, key);
    if (!v)
        return LT_OK;
    if (f->type != CT_INTEGER && f->type != CT_NUMBER)
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' applies to integer and number fields only",
                       where, key);
    if (!json_is_number(v))
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' must be a number", where, key);
    *has = true;
    *out = json_number_value(v);
    return LT_OK;
}

static lt_err parse_max_length(const json_t *fd, ct_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, "max_length");
    f->max_length = -1;
    if (!v)
        return LT_OK;
    if (f->type != CT_STRING && f->type != CT_CODE)
        return lt_fail(ei, LT_E_INVALID, "%s: 'max_length' applies to string and code fields only",
                       where);
    if (!json_is_integer(v) || json_integer_value(v) < 1 ||
        json_integer_value(v) > CT_MAX_LENGTH_CAP)
        return lt_fail(ei, LT_E_INVALID, "%s: 'max_length' must be an integer 1..%d", where,
                       CT_MAX_LENGTH_CAP);
    f->max_length = (long)json_integer_value(v);
    return LT_OK;
}

static lt_err parse_pattern(const json_t *fd, ct_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *v = json_object_get(fd, "pattern");
    if (!v)
        return LT_OK;
    if (f->type != CT_STRING && f->type != CT_CODE)
        return lt_fail(ei, LT_E_INVALID, "%s: 'pattern' applies to string and code fields only",
                       where);
    const char *p = json_string_value(v);
    size_t n = json_is_string(v) ? json_string_length(v) : 0;
    if (!p || n == 0 || n > CT_MAX_PATTERN || strlen(p) != n)
        return lt_fail(ei, LT_E_INVALID, "%s: 'pattern' must be a non-empty string (<= %d bytes)",
                       where, CT_MAX_PATTERN);
    char anchored[CT_MAX_PATTERN + 8];
    snprintf(anchored, sizeof anchored, "^(%s)$", p);
    int rc = regcomp(&f->pattern, anchored, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, NULL, msg, sizeof msg);
        return lt_fail(ei, LT_E_INVALID, "%s: bad pattern: %s", where, msg);
    }
    f->has_pattern = true;
    return LT_OK;
}

/* Compiles one field definition into f (zeroed by the caller; freed by ct_contract_free). */
static lt_err parse_field(const json_t *fd, size_t idx, ct_field *f, lt_errinfo *ei)
{
    char where[96];
    snprintf(where, sizeof where, "fields[%zu]", idx);
    lt_err e = lt_json_check_keys(fd, field_keys, where, ei);
    if (e)
        return e;
    const char *name = lt_json_str(fd, "name");
    if (!name || !field_name_valid(name))
        return lt_fail(ei, LT_E_INVALID, "%s: 'name' must match [a-z_][a-z0-9_]{0,63}", where);
    if (!(f->name = strdup(name)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    snprintf(where, sizeof where, "fields[%zu] (%s)", idx, name);
    if ((e = parse_type(fd, f, where, ei)) ||
        (e = opt_bool(fd, "required", &f->required, where, ei)) ||
        (e = opt_bool(fd, "nullable", &f->nullable, where, ei)) ||
        (e = opt_bool(fd, "personal", &f->personal, where, ei)) ||
        (e = opt_str(fd, "description", where, ei)) || (e = opt_str(fd, "unit", where, ei)) ||
        (e = parse_codelist(fd, f, where, ei)) || (e = parse_values(fd, f, where, ei)) ||
        (e = parse_bound(fd, "min", &f->has_min, &f->min, f, where, ei)) ||
        (e = parse_bound(fd, "max", &f->has_max, &f->max, f, where, ei)) ||
        (e = parse_max_length(fd, f, where, ei)) || (e = parse_pattern(fd, f, where, ei)))
        return e;
    if (f->has_min && f->has_max && f->min > f->max)
        return lt_fail(ei, LT_E_INVALID, "%s: min is greater than max", where);
    return LT_OK;
}

static lt_err parse_fields(const json_t *arr, ct_contract *c, lt_errinfo *ei)
{
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0 || n > CT_MAX_FIELDS)
        return lt_fail(ei, LT_E_INVALID, "contract: 'fields' must be an array of 1..%d fields",
                       CT_MAX_FIELDS);
    if (!(c->fields = calloc(n, sizeof *c->fields)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        c->nfields = i + 1; /* so ct_contract_free releases a half-built field too */
        lt_err e = parse_field(json_array_get(arr, i), i, &c->fields[i], ei);
        if (e)
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->fields[j].name, c->fields[i].name) == 0)
                return lt_fail(ei, LT_E_INVALID, "fields[%zu]: duplicate field name '%s'", i,
                               c->fields[i].name);
    }
    return LT_OK;
}

/* Looks up a field's index by name; -1 when absent. */
static long field_index(const ct_contract *c, const char *name)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (strcmp(c->fields[i].name, name) == 0)
            return (long)i;
    return -1;
}

static lt_err parse_key(const json_t *arr, ct_contract *c, lt_errinfo *ei)
{
    size_t n = json_array_size(arr);
    if (!json_is_array(arr) || n == 0)
        return lt_fail(ei, LT_E_INVALID,
                       "contract: 'key' must be a non-empty array of field names");
    if (!(c->key = calloc(n, sizeof *c->key)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(arr, i));
        long fi = name ? field_index(c, name) : -1;
        if (fi < 0)
            return lt_fail(ei, LT_E_INVALID, "key[%zu]: '%.64s' is not a field of the contract", i,
                           name ? name : "(not a string)");
        const ct_field *f = &c->fields[fi];
        if (!f->required || f->nullable)
            return lt_fail(ei, LT_E_INVALID,
                           "key[%zu]: field '%s' must be required and not nullable", i, f->name);
        for (size_t j = 0; j < i; j++)
            if (c->key[j] == (size_t)fi)
                return lt_fail(ei, LT_E_INVALID, "key[%zu]: field '%s' named twice", i, f->name);
        c->key[i] = (size_t)fi;
        c->nkey = i + 1;
    }
    return LT_OK;
}

/* id, version, title, description: the contract's identity. */
static lt_err parse_head(const json_t *def, ct_contract *c, lt_errinfo *ei)
{
    const char *id, *title;
    lt_err e = lt_json_req_str(def, "id", "contract", &id, ei);
    if (e)
        return e;
    if (!ct_id_valid(id))
        return lt_fail(ei, LT_E_INVALID, "contract: 'id' must match [a-z0-9][a-z0-9._-]{0,127}");
    const json_t *v = json_object_get(def, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > INT_MAX)
        return lt_fail(ei, LT_E_INVALID, "contract: 'version' must be an integer >= 1");
    if ((e = lt_json_req_str(def, "title", "contract", &title, ei)) ||
        (e = opt_str(def, "description", "contract", ei)))
        return e;
    c->version = (int)json_integer_value(v);
    size_t reflen = strlen(id) + 16;
    if (!(c->id = strdup(id)) || !(c->title = strdup(title)) || !(c->ref = malloc(reflen)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    snprintf(c->ref, reflen, "%s@%d", id, c->version);
    return LT_OK;
}

lt_err ct_contract_parse(const json_t *def, ct_contract **out, lt_errinfo *ei)
{
    *out = NULL;
    lt_err e = lt_json_check_keys(def, top_keys, "contract", ei);
    if (e)
        return e;
    ct_contract *c = calloc(1, sizeof *c);
    if (!c)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!(e = parse_head(def, c, ei)) &&
        !(e = parse_fields(json_object_get(def, "fields"), c, ei)) &&
        !(e = parse_key(json_object_get(def, "key"), c, ei)) && !(c->def = json_deep_copy(def)))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e) {
        ct_contract_free(c);
        return e;
    }
    *out = c;
    return LT_OK;
}

static void field_free(ct_field *f)
{
    free(f->name);
    free(f->codelist);
    for (size_t i = 0; i < f->nvalues; i++)
        free(f->values[i]);
    free(f->values);
    if (f->has_pattern)
        regfree(&f->pattern);
}

void ct_contract_free(ct_contract *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nfields; i++)
        field_free(&c->fields[i]);
    free(c->fields);
    free(c->key);
    free(c->id);
    free(c->title);
    free(c->ref);
    json_decref(c->def);
    free(c);
}

const ct_field *ct_contract_field(const ct_contract *c, const char *name)
{
    long i = c && name ? field_index(c, name) : -1;
    return i < 0 ? NULL : &c->fields[i];
}

int ct_ref_parse(const char *ref, char *idbuf, size_t idsize, int *version)
{
    const char *at = ref ? strchr(ref, '@') : NULL;
    if (!at || at == ref || !idbuf || idsize == 0)
        return -1;
    size_t idlen = (size_t)(at - ref), vlen = strlen(at + 1);
    int64_t v;
    /* canonical decimal only: no sign, no leading zeros */
    if (idlen >= idsize || vlen == 0 || at[1] < '1' || at[1] > '9' ||
        lt_parse_i64(at + 1, vlen, &v) || v > INT_MAX)
        return -1;
    char tmp[LT_DETAIL_MAX];
    if (idlen >= sizeof tmp)
        return -1;
    memcpy(tmp, ref, idlen);
    tmp[idlen] = '\0';
    if (!ct_id_valid(tmp))
        return -1;
    memcpy(idbuf, tmp, idlen + 1);
    *version = (int)v;
    return 0;
}
