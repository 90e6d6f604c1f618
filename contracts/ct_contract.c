/* ct_contract — compiling contract definitions (API.md §5) into ct_contract. */
#include "ct_contract.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct_int.h"
#include "lt_json.h"
#include "lt_str.h"

#define CT_MAX_FIELDS 256         /* records are flat; a wider contract is a design error */
#define CT_MAX_PATTERN 1024       /* regcomp cost and memory stay small */
#define CT_PATTERN_COST_MAX 2000  /* nodes glibc's regcomp may build for one pattern */
#define CT_PATTERN_DEPTH 32       /* nested groups */
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

/* ---- pattern cost ----------------------------------------------------------------------
 * glibc's regcomp copies a repeated atom once per repetition ("(a{1,255}){1,255}" is 65,025
 * copies; one more level exhausts memory), and its epsilon closures grow with the cube of the
 * copies of something that can match empty ("(a?){1,500}" takes seconds, so do stacked
 * quantifiers "a****" and long runs of anchors). Before compiling, the pattern's size is
 * estimated: a character, bracket or `|` costs 1, an anchor (`^`, `$`, `\b`…) 20, a group 1
 * more than its content (so "()" is not free); a quantifier multiplies what it repeats by its
 * count q (2 for `*` `+` `?`, n + 1 for `{m,n}`, m + 1 for `{m,}`), and by q again when that
 * can match empty. Over CT_PATTERN_COST_MAX, or groups nested deeper than CT_PATTERN_DEPTH,
 * the pattern is refused. The scan only estimates: whether the syntax is valid stays
 * regcomp's decision. */

typedef struct re_frame {
    size_t total; /* cost of the group so far */
    size_t last;  /* cost of its last atom: what a quantifier repeats (0: none) */
    bool last_z;  /* that atom can match empty */
    bool before_z; /* the current branch can match empty without its last atom */
    bool branch_z, any_z; /* the current branch can match empty; some finished branch can */
} re_frame;

#define RE_FRAME_NEW ((re_frame){0, 0, false, true, true, false})
#define RE_ANCHOR_COST 20
#define RE_UNMATCHED SIZE_MAX /* re_cost of a pattern with an unmatched ')' */

/* Index just past the bracket expression opening at p[i] ("[]a]", "[^]a]", "[[:alpha:]]"). */
static size_t re_bracket_end(const char *p, size_t i)
{
    size_t j = i + 1;
    j += p[j] == '^';
    j += p[j] == ']';
    while (p[j] && p[j] != ']') {
        const char *close = NULL;
        if (p[j] == '[' && (p[j + 1] == ':' || p[j + 1] == '=' || p[j + 1] == '.'))
            close = strstr(p + j + 2, p[j + 1] == ':' ? ":]" : p[j + 1] == '=' ? "=]" : ".]");
        j = close ? (size_t)(close - p) + 2 : j + 1;
    }
    return p[j] ? j + 1 : j;
}

/* The decimal number at p[*j] (saturating), moving *j past it. */
static size_t re_number(const char *p, size_t *j)
{
    size_t v = 0;
    for (; p[*j] >= '0' && p[*j] <= '9'; (*j)++)
        v = v < 100000 ? v * 10 + (size_t)(p[*j] - '0') : v;
    return v;
}

/* The count of the quantifier at p[i] (0 when p[i] is none), its length in *len, and in *opt
 * whether it allows zero repetitions. glibc reads "{,n}" as "{0,n}". */
static size_t re_quantifier(const char *p, size_t i, size_t *len, bool *opt)
{
    *len = 1;
    *opt = p[i] == '*' || p[i] == '?';
    if (*opt || p[i] == '+')
        return 2;
    if (p[i] != '{' || !((p[i + 1] >= '0' && p[i + 1] <= '9') || p[i + 1] == ','))
        return 0;
    size_t j = i + 1, m = re_number(p, &j), n = m;
    if (p[j] == ',' && p[++j] >= '0' && p[j] <= '9')
        n = re_number(p, &j);
    if (p[j] != '}')
        return 0;
    *len = j + 1 - i;
    *opt = m == 0;
    n = n > m ? n : m;
    return n < 2 ? 2 : n + 1;
}

/* A quantifier of count q (repeating nothing: an empty node), whose result matches empty
 * when nullable. */
static void re_repeat(re_frame *f, size_t q, bool nullable)
{
    size_t base = f->last ? f->last : 1;
    bool z = f->last ? f->last_z : true;
    size_t cost = base * q * (z ? q : 1);
    f->total += cost - f->last;
    f->last = cost;
    f->last_z = z || nullable;
    f->branch_z = f->before_z && f->last_z;
}

/* One atom of cost c (0: `|`, which ends a branch). */
static void re_atom(re_frame *f, size_t c, bool z)
{
    f->total += c ? c : 1;
    f->last = c;
    f->last_z = z;
    if (!c) {
        f->any_z = f->any_z || f->branch_z;
        f->branch_z = f->before_z = true;
    } else {
        f->before_z = f->branch_z;
        f->branch_z = f->branch_z && z;
    }
}

/* The atom at p[i]: its cost, whether it matches empty, and its length. */
static size_t re_atom_at(const char *p, size_t i, bool *z, size_t *len)
{
    *len = 1;
    *z = false;
    if (p[i] == '|')
        return 0;
    if (p[i] == '[') {
        *len = re_bracket_end(p, i) - i;
        return 1;
    }
    bool esc = p[i] == '\\' && p[i + 1];
    *len = esc ? 2 : 1;
    *z = esc ? strchr("bB<>`'", p[i + 1]) != NULL : p[i] == '^' || p[i] == '$';
    return *z ? RE_ANCHOR_COST : 1;
}

/* Estimated regcomp cost of p; CT_PATTERN_COST_MAX + 1 once over it or nested too deep;
 * RE_UNMATCHED for a ')' that closes no group of p. */
static size_t re_cost(const char *p)
{
    re_frame st[CT_PATTERN_DEPTH + 1] = {RE_FRAME_NEW};
    size_t d = 0, over = CT_PATTERN_COST_MAX + 1;
    for (size_t i = 0, len; p[i]; i += len) {
        bool z;
        size_t q = re_quantifier(p, i, &len, &z);
        if (q) {
            re_repeat(&st[d], q, z);
        } else if (p[i] == ')' && d == 0) {
            return RE_UNMATCHED; /* it would close the "^(" the pattern is wrapped in */
        } else if (p[i] == '(') {
            if (++d > CT_PATTERN_DEPTH)
                return over;
            st[d] = RE_FRAME_NEW;
        } else if (p[i] == ')') {
            d--;
            re_atom(&st[d], st[d + 1].total + 1, st[d + 1].any_z || st[d + 1].branch_z);
        } else {
            size_t c = re_atom_at(p, i, &z, &len);
            re_atom(&st[d], c, z);
        }
        if (st[d].total > CT_PATTERN_COST_MAX || st[d].last > CT_PATTERN_COST_MAX)
            return over;
    }
    size_t sum = 0; /* groups left open are regcomp's error, but it builds them first */
    for (size_t k = 0; k <= d; k++)
        sum += st[k].total;
    return sum;
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
    size_t cost = re_cost(p);
    if (cost == RE_UNMATCHED)
        return lt_fail(ei, LT_E_INVALID, "%s: bad pattern: a ')' closes no group", where);
    if (cost > CT_PATTERN_COST_MAX)
        return lt_fail(ei, LT_E_INVALID, "%s: 'pattern' is too costly to compile: repetitions "
                       "multiply to more than %d elements (or groups nest deeper than %d)",
                       where, CT_PATTERN_COST_MAX, CT_PATTERN_DEPTH);
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
