/* ad_field — the per-field conversions of the mapping engine: map, type, scale, format.
 * Each step consumes a new reference and returns one; a failure leaves a record error text
 * that names the offending value, never the whole record. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ad_int.h"
#include "ct_period.h"
#include "lt_str.h"

#define TEXT_MAX 64 /* scalar text for map keys and periods; longer numbers are not numbers */
#define SHOW_MAX 60 /* bytes of a value quoted in an error */

/* Shortest %g text that reads back as the same double, so 0.1 is "0.1", not 0.1000…01. */
static size_t real_text(double d, char *buf, size_t cap)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, d);
        double back = 0;
        if (lt_parse_double(buf, (size_t)n, &back) == 0 && back == d)
            break;
    }
    return (size_t)n;
}

/* Text of a scalar: strings as they are (borrowed), numbers and booleans written into buf.
 * Returns -1 for objects, arrays and null. */
static int scalar_text(const json_t *v, char *buf, size_t cap, const char **s, size_t *n)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *s = json_string_value(v);
        *n = json_string_length(v);
        return 0;
    case JSON_INTEGER:
        *n = (size_t)snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        *n = real_text(json_real_value(v), buf, cap);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        *n = (size_t)snprintf(buf, cap, "%s", json_is_true(v) ? "true" : "false");
        break;
    default:
        return -1;
    }
    *s = buf;
    return 0;
}

/* The value as error text: 'text' quoted and cut on a UTF-8 boundary, or its kind. */
static const char *show(const json_t *v, char *out, size_t cap)
{
    char num[TEXT_MAX];
    const char *s;
    size_t n;
    if (scalar_text(v, num, sizeof num, &s, &n) != 0) {
        snprintf(out, cap, "%s",
                 json_is_object(v)  ? "an object"
                 : json_is_array(v) ? "an array"
                                    : "null");
        return out;
    }
    size_t k = strnlen(s, n);
    int cut = k > SHOW_MAX;
    if (cut) {
        k = SHOW_MAX;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--; /* s[k] is now the lead byte of the character that did not fit */
    }
    snprintf(out, cap, "'%.*s%s'", (int)k, s, cut ? "…" : "");
    return out;
}

static json_t *fail(json_t *v, char *err, size_t errsz, const char *what)
{
    char shown[SHOW_MAX + 16];
    snprintf(err, errsz, "%s %s", show(v, shown, sizeof shown), what);
    json_decref(v);
    return NULL;
}

static json_t *apply_map(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    char buf[TEXT_MAX], shown[SHOW_MAX + 16];
    const char *s;
    size_t n;
    json_t *to = NULL;
    if (scalar_text(v, buf, sizeof buf, &s, &n) == 0)
        to = json_object_getn(f->map, s, n);
    if (!to) {
        snprintf(err, errsz, "no mapping for %s", show(v, shown, sizeof shown));
        json_decref(v);
        return NULL;
    }
    json_decref(v);
    return ad_field_value(to);
}

/* Copies number text into out in plain decimal form: blanks around it dropped; with a
 * decimal comma, '.' and spaces (also U+00A0, U+202F) are thousands separators and ',' is
 * the point. Anything but digits, sign, point and exponent fails, NUL bytes included. */
static int normalize_number(const char *s, size_t n, char decimal, char *out, size_t cap)
{
    size_t w = 0, i = 0;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (decimal == ',' && (c == ' ' || c == '.'))
            continue;
        if (decimal == ',' && c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xA0) {
            i++;
            continue;
        }
        if (decimal == ',' && c == 0xE2 && i + 2 < n && memcmp(s + i + 1, "\x80\xAF", 2) == 0) {
            i += 2;
            continue;
        }
        if (decimal == ',' && c == ',')
            c = '.';
        if (!strchr("0123456789+-.eE", c) || c == '\0' || w + 1 >= cap)
            return -1;
        out[w++] = (char)c;
    }
    out[w] = '\0';
    return w > 0 ? (int)w : -1;
}

/* A number from a string: integers stay integers, the rest become reals. */
static json_t *parse_number(const ad_field *f, const json_t *v)
{
    char buf[TEXT_MAX];
    int n =
        normalize_number(json_string_value(v), json_string_length(v), f->decimal, buf, sizeof buf);
    int64_t i;
    double d;
    if (n < 0)
        return NULL;
    if (lt_parse_i64(buf, (size_t)n, &i) == 0)
        return json_integer((json_int_t)i);
    if (lt_parse_double(buf, (size_t)n, &d) == 0)
        return json_real(d);
    return NULL;
}

static json_t *to_number(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    if (json_is_number(v))
        return v;
    json_t *r = json_is_string(v) ? parse_number(f, v) : NULL;
    if (!r)
        return fail(v, err, errsz, "is not a number");
    json_decref(v);
    return r;
}

/* An integral real within int64 range becomes an integer. */
static json_t *to_integer(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    if (json_is_integer(v))
        return v;
    json_t *num = json_is_string(v) ? parse_number(f, v) : json_incref(v);
    json_t *r = NULL;
    if (json_is_integer(num)) {
        r = json_incref(num);
    } else if (json_is_real(num)) {
        double d = json_real_value(num);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0)
            r = json_integer((json_int_t)d);
    }
    json_decref(num);
    if (!r)
        return fail(v, err, errsz, "is not an integer");
    json_decref(v);
    return r;
}

static json_t *to_boolean(json_t *v, char *err, size_t errsz)
{
    if (json_is_boolean(v))
        return v;
    int b = -1;
    if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
        b = (int)json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if ((n == 4 && strncasecmp(s, "true", 4) == 0) || (n == 1 && s[0] == '1'))
            b = 1;
        else if ((n == 5 && strncasecmp(s, "false", 5) == 0) || (n == 1 && s[0] == '0'))
            b = 0;
    }
    if (b < 0)
        return fail(v, err, errsz, "is not a boolean");
    json_decref(v);
    return json_boolean(b);
}

static json_t *to_string(json_t *v, char *err, size_t errsz)
{
    char buf[TEXT_MAX];
    const char *s;
    size_t n;
    if (json_is_string(v))
        return v;
    if (scalar_text(v, buf, sizeof buf, &s, &n) != 0)
        return fail(v, err, errsz, "is not a string");
    json_decref(v);
    return json_stringn_nocheck(s, n);
}

static json_t *apply_type(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    switch (f->type) {
    case AD_TYPE_STRING:
        return to_string(v, err, errsz);
    case AD_TYPE_INTEGER:
        return to_integer(f, v, err, errsz);
    case AD_TYPE_NUMBER:
        return to_number(f, v, err, errsz);
    case AD_TYPE_BOOLEAN:
        return to_boolean(v, err, errsz);
    default:
        return v;
    }
}

/* Integer times integer scale stays an integer while it is exact; otherwise a real. */
static json_t *apply_scale(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    if (!(v = to_number(f, v, err, errsz)))
        return NULL;
    json_t *r;
    json_int_t prod;
    if (json_is_integer(v) && f->scale_is_int &&
        !__builtin_mul_overflow(json_integer_value(v), f->scale_i, &prod)) {
        r = f->scale_i == 1 ? json_incref(v) : json_integer(prod);
    } else {
        double d = json_number_value(v) * f->scale;
        if (!isfinite(d))
            return fail(v, err, errsz, "is out of range once scaled");
        r = json_real(d);
    }
    json_decref(v);
    return f->type == AD_TYPE_INTEGER ? to_integer(f, r, err, errsz) : r;
}

static json_t *apply_format(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    char buf[TEXT_MAX], out[CT_PERIOD_MAX], shown[SHOW_MAX + 16];
    const char *s;
    size_t n;
    ct_period p;
    if (scalar_text(v, buf, sizeof buf, &s, &n) != 0 ||
        ct_period_parse_pattern(s, n, f->format, &p) != 0) {
        snprintf(err, errsz, "%s does not match format %s", show(v, shown, sizeof shown),
                 f->format);
        json_decref(v);
        return NULL;
    }
    json_decref(v);
    size_t len = ct_period_format(&p, out);
    return json_stringn_nocheck(out, len);
}

json_t *ad_field_value(const json_t *v)
{
    if (json_is_object(v) || json_is_array(v))
        return json_deep_copy(v);
    return json_incref((json_t *)v);
}

json_t *ad_field_convert(const ad_field *f, json_t *v, char *err, size_t errsz)
{
    if (f->map && !(v = apply_map(f, v, err, errsz)))
        return NULL;
    if (json_is_null(v)) /* a map may translate a code to null: nothing left to convert */
        return v;
    if (f->format)
        return apply_format(f, v, err, errsz);
    if (f->has_scale)
        return apply_scale(f, v, err, errsz);
    return apply_type(f, v, err, errsz);
}
