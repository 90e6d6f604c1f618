/* ct_validate — checking one record against a compiled contract, normalizing it, and
 * deriving its key. This is the ingest hot path: fields are looked up by iterating the
 * contract's field array, unchanged values are shared (json_incref), and messages are built
 * only when something is wrong. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ct_contract.h"
#include "ct_int.h"
#include "ct_period.h"
#include "lt_limits.h"
#include "lt_str.h"

#define QUOTE_MAX 104                   /* bytes of an offending value quoted in a message */
#define LIST_MAX 240                    /* bytes of an enum's value list quoted in a message */
#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: larger reals are not exact integers */

typedef struct vctx {
    const ct_contract *c;
    long index;
    lt_errinfo *ei;
    int nerr;
    ct_code_fn codes;
    void *codes_ctx;
} vctx;

/* One problem with the record, not tied to a value. */
static void add_err(vctx *x, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_err(vctx *x, const char *field, const char *fmt, ...)
{
    char msg[LT_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    x->nerr++;
    lt_errinfo_add(x->ei, x->index, field, "%s", msg);
}

/* Renders a scalar for quoting; strings are cut on a character boundary. */
static void render_value(const json_t *v, char out[QUOTE_MAX])
{
    if (json_is_string(v))
        ct_quote_text(json_string_value(v), json_string_length(v), out, QUOTE_MAX);
    else if (json_is_integer(v))
        snprintf(out, QUOTE_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, QUOTE_MAX, "%.15g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(out, QUOTE_MAX, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(out, QUOTE_MAX, "%s",
                 json_is_object(v)  ? "{...}"
                 : json_is_array(v) ? "[...]"
                                    : "null");
}

/* A problem with a value: "'VALUE' <what>", or no value at all for personal fields. */
static void bad_value(vctx *x, const ct_field *f, const json_t *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void bad_value(vctx *x, const ct_field *f, const json_t *v, const char *fmt, ...)
{
    if (f->personal) {
        add_err(x, f->name, "invalid value (personal field)");
        return;
    }
    char what[LT_DETAIL_MAX - QUOTE_MAX - 8], q[QUOTE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    render_value(v, q);
    add_err(x, f->name, "'%s' %s", q, what);
}

/* The field's pattern text, for messages only (read back from the kept definition). */
static const char *pattern_text(const vctx *x, const ct_field *f)
{
    const json_t *fields = json_object_get(x->c->def, "fields");
    const json_t *fd = json_array_get(fields, (size_t)(f - x->c->fields));
    const char *p = json_string_value(json_object_get(fd, "pattern"));
    return p ? p : "";
}

/* max_length and pattern, shared by string and code fields. */
static int check_text(vctx *x, const ct_field *f, const json_t *v, const char *s, size_t n)
{
    if (f->max_length >= 0 && n > (size_t)f->max_length &&
        ct_utf8_chars(s, n) > (size_t)f->max_length) {
        bad_value(x, f, v, "exceeds max_length %ld", f->max_length);
        return -1;
    }
    /* an embedded NUL would hide the rest of the value from regexec */
    if (f->has_pattern && (strlen(s) != n || regexec(&f->pattern, s, 0, NULL, 0) != 0)) {
        char pq[QUOTE_MAX];
        const char *p = pattern_text(x, f);
        ct_quote_text(p, strlen(p), pq, sizeof pq);
        bad_value(x, f, v, "does not match pattern '%s'", pq);
        return -1;
    }
    return 0;
}

static int check_string(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    if (!json_is_string(v)) {
        add_err(x, f->name, "must be a string");
        return -1;
    }
    if (check_text(x, f, v, json_string_value(v), json_string_length(v)))
        return -1;
    *nv = json_incref((json_t *)v);
    return 0;
}

/* min/max for numeric fields. */
static int check_bounds(vctx *x, const ct_field *f, const json_t *v, double d)
{
    if (f->has_min && d < f->min) {
        bad_value(x, f, v, "is below min %.15g", f->min);
        return -1;
    }
    if (f->has_max && d > f->max) {
        bad_value(x, f, v, "is above max %.15g", f->max);
        return -1;
    }
    return 0;
}

static int check_integer(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    if (json_is_integer(v)) {
        if (check_bounds(x, f, v, (double)json_integer_value(v)))
            return -1;
        *nv = json_incref((json_t *)v);
        return 0;
    }
    if (!json_is_real(v)) {
        add_err(x, f->name, "must be an integer");
        return -1;
    }
    double d = json_real_value(v);
    if (d != floor(d) || fabs(d) > MAX_SAFE_INT) {
        bad_value(x, f, v, "is not an integer");
        return -1;
    }
    if (check_bounds(x, f, v, d))
        return -1;
    *nv = json_integer((json_int_t)d);
    return *nv ? 0 : -1;
}

static int check_number(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    if (!json_is_number(v)) {
        add_err(x, f->name, "must be a number");
        return -1;
    }
    if (check_bounds(x, f, v, json_number_value(v)))
        return -1;
    *nv = json_incref((json_t *)v);
    return 0;
}

static int check_boolean(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    if (!json_is_boolean(v)) {
        add_err(x, f->name, "must be a boolean");
        return -1;
    }
    *nv = json_incref((json_t *)v);
    return 0;
}

static int check_date(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    int64_t days;
    if (!json_is_string(v)) {
        add_err(x, f->name, "must be a date string (YYYY-MM-DD)");
        return -1;
    }
    if (lt_date_parse(json_string_value(v), json_string_length(v), &days)) {
        bad_value(x, f, v, "is not a date (YYYY-MM-DD)");
        return -1;
    }
    *nv = json_incref((json_t *)v);
    return 0;
}

static int check_datetime(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    int64_t us;
    if (!json_is_string(v)) {
        add_err(x, f->name, "must be a date-time string (RFC 3339)");
        return -1;
    }
    if (lt_time_parse(json_string_value(v), json_string_length(v), &us)) {
        bad_value(x, f, v, "is not an RFC 3339 date-time");
        return -1;
    }
    *nv = json_incref((json_t *)v);
    return 0;
}

static int check_period(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    ct_period p;
    char buf[CT_PERIOD_MAX];
    if (!json_is_string(v)) {
        add_err(x, f->name, "must be a period string");
        return -1;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (ct_period_parse(s, n, &p)) {
        bad_value(x, f, v, "is not a period");
        return -1;
    }
    size_t len = ct_period_format(&p, buf);
    if (len == n && memcmp(buf, s, n) == 0)
        *nv = json_incref((json_t *)v);
    else
        *nv = json_stringn_nocheck(buf, len);
    return *nv ? 0 : -1;
}

static int check_code(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    json_t *sv;
    if (json_is_integer(v)) {
        char num[32];
        int len = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        if (!(sv = json_stringn_nocheck(num, (size_t)len)))
            return -1;
    } else if (json_is_string(v)) {
        sv = json_incref((json_t *)v);
    } else {
        add_err(x, f->name, "must be a code (a string)");
        return -1;
    }
    const char *s = json_string_value(sv);
    size_t n = json_string_length(sv);
    int rc = check_text(x, f, sv, s, n);
    if (rc == 0 &&
        (n == 0 || strlen(s) != n || (x->codes && !x->codes(x->codes_ctx, f->codelist, s)))) {
        bad_value(x, f, sv, "is not in code list '%s'", f->codelist);
        rc = -1;
    }
    if (rc)
        json_decref(sv);
    else
        *nv = sv;
    return rc;
}

/* "ok, unknown, no_data", cut to fit a message. */
static void enum_list(const ct_field *f, char out[LIST_MAX])
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < f->nvalues; i++) {
        size_t n = strlen(f->values[i]);
        if (pos + n + 2 + 4 >= LIST_MAX) {
            memcpy(out + pos, "...", 4);
            return;
        }
        if (i) {
            memcpy(out + pos, ", ", 2);
            pos += 2;
        }
        memcpy(out + pos, f->values[i], n + 1);
        pos += n;
    }
}

static int check_enum(vctx *x, const ct_field *f, const json_t *v, json_t **nv)
{
    char list[LIST_MAX];
    const char *s = json_string_value(v);
    if (s) {
        for (size_t i = 0; i < f->nvalues; i++) {
            if (strcmp(f->values[i], s) == 0 && strlen(s) == json_string_length(v)) {
                *nv = json_incref((json_t *)v);
                return 0;
            }
        }
    }
    enum_list(f, list);
    if (s)
        bad_value(x, f, v, "is not one of %s", list);
    else
        add_err(x, f->name, "must be one of %s", list);
    return -1;
}

typedef int (*check_fn)(vctx *x, const ct_field *f, const json_t *v, json_t **nv);

/* Indexed by ct_type. */
static const check_fn checkers[] = {
    [CT_STRING] = check_string,   [CT_INTEGER] = check_integer, [CT_NUMBER] = check_number,
    [CT_BOOLEAN] = check_boolean, [CT_DATE] = check_date,       [CT_DATETIME] = check_datetime,
    [CT_PERIOD] = check_period,   [CT_CODE] = check_code,       [CT_ENUM] = check_enum,
};

/* A key part must not contain the separator or control characters. */
static int check_key_text(vctx *x, const ct_field *f, const json_t *nv)
{
    if (!json_is_string(nv))
        return 0;
    const char *s = json_string_value(nv);
    size_t n = json_string_length(nv);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '~' || ch < 0x20 || ch == 0x7f) {
            bad_value(x, f, nv, "must not contain '~' or control characters (key field)");
            return -1;
        }
    }
    return 0;
}

static bool is_key_field(const ct_contract *c, size_t fi)
{
    for (size_t k = 0; k < c->nkey; k++)
        if (c->key[k] == fi)
            return true;
    return false;
}

/* Validates every contract field of rec into out; returns how many fields were present. */
static size_t check_fields(vctx *x, const json_t *rec, json_t *out)
{
    const ct_contract *c = x->c;
    size_t found = 0;
    for (size_t i = 0; i < c->nfields; i++) {
        const ct_field *f = &c->fields[i];
        const json_t *v = json_object_get(rec, f->name);
        json_t *nv = NULL;
        if (!v) {
            if (f->required)
                add_err(x, f->name, "required field is missing");
            continue;
        }
        found++;
        if (json_is_null(v)) {
            if (f->nullable)
                json_object_set_new_nocheck(out, f->name, json_null());
            else
                add_err(x, f->name, "must not be null");
            continue;
        }
        int before = x->nerr;
        if (checkers[f->type](x, f, v, &nv)) {
            if (x->nerr == before) /* a checker fails silently only when jansson cannot allocate */
                add_err(x, f->name, "out of memory");
            continue;
        }
        if (is_key_field(c, i) && check_key_text(x, f, nv)) {
            json_decref(nv);
            continue;
        }
        if (json_object_set_new_nocheck(out, f->name, nv))
            add_err(x, f->name, "out of memory");
    }
    return found;
}

/* Slow path, only when rec has more members than known fields. */
static void report_unknown(vctx *x, const json_t *rec)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)rec, k, v)
    {
        if (!ct_contract_field(x->c, k)) {
            char q[QUOTE_MAX];
            ct_quote_text(k, strlen(k), q, sizeof q);
            add_err(x, q, "unknown field '%s'", q);
        }
    }
}

lt_err ct_validate(const ct_contract *c, const json_t *rec, long index, ct_code_fn codes,
                   void *codes_ctx, json_t **out, lt_errinfo *ei)
{
    vctx x = {c, index, ei, 0, codes, codes_ctx};
    *out = NULL;
    if (!json_is_object(rec)) {
        add_err(&x, NULL, "record must be an object");
        return lt_fail(ei, LT_E_VALIDATION, "record %ld is not an object", index);
    }
    json_t *o = json_object();
    if (!o)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    size_t found = check_fields(&x, rec, o);
    if (json_object_size(rec) > found)
        report_unknown(&x, rec);
    if (x.nerr == 0) {
        char key[LT_MAX_KEY_LEN + 1];
        if (ct_record_key(c, o, key, sizeof key) < 0)
            add_err(&x, NULL, "record key is longer than %d bytes", LT_MAX_KEY_LEN);
    }
    if (x.nerr) {
        json_decref(o);
        return lt_fail(ei, LT_E_VALIDATION, "record %ld failed validation", index);
    }
    *out = o;
    return LT_OK;
}

/* Appends one key part's text at *pos; -1 when it does not fit before the NUL. */
static int key_part(const json_t *v, char *out, size_t size, size_t *pos)
{
    char num[40];
    const char *s = num;
    size_t n;
    if (json_is_string(v)) {
        s = json_string_value(v);
        n = json_string_length(v);
    } else if (json_is_integer(v)) {
        n = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        n = (size_t)snprintf(num, sizeof num, "%.17g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        s = json_is_true(v) ? "true" : "false";
        n = strlen(s);
    } else {
        return -1;
    }
    if (n >= size - *pos)
        return -1;
    memcpy(out + *pos, s, n);
    *pos += n;
    return 0;
}

int ct_record_key(const ct_contract *c, const json_t *rec, char *out, size_t size)
{
    size_t pos = 0;
    if (!c || !out || size == 0)
        return -1;
    for (size_t k = 0; k < c->nkey; k++) {
        const json_t *v = json_object_get(rec, c->fields[c->key[k]].name);
        if (k > 0) {
            if (pos + 1 >= size)
                return -1;
            out[pos++] = '~';
        }
        if (!v || key_part(v, out, size, &pos))
            return -1;
    }
    out[pos] = '\0';
    return 0;
}
