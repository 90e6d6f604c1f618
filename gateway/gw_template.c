/* gw_template — fills `request_template` placeholders ({{name}}) for pulls and relay calls
 * (API.md §5). Values come from the service's `source.params` or the caller's parameters and
 * are escaped for the place they land in (an XML/SOAP body or a URL query), so a caller's
 * value can never change the structure of the request sent to the provider. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_upstream.h"
#include "lt_buf.h"
#include "lt_limits.h"

/* Longest name worth quoting in an error message; longer ones are cut. */
#define GW_TMPL_NAME_SHOWN 64

static int gw_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
static int gw_is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}
static int gw_is_name_char(char c)
{
    return gw_is_name_start(c) || (c >= '0' && c <= '9');
}

static void gw_esc_xml(lt_buf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            lt_buf_puts(o, "&amp;");
            break;
        case '<':
            lt_buf_puts(o, "&lt;");
            break;
        case '>':
            lt_buf_puts(o, "&gt;");
            break;
        case '"':
            lt_buf_puts(o, "&quot;");
            break;
        case '\'':
            lt_buf_puts(o, "&apos;");
            break;
        default:
            lt_buf_putc(o, s[i]);
        }
    }
}

static int gw_is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void gw_esc_url(lt_buf *o, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (gw_is_unreserved(c)) {
            lt_buf_putc(o, (char)c);
        } else {
            char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
            lt_buf_append(o, pct, 3);
        }
    }
}

/* XML 1.0 has no way to carry C0 controls other than tab, LF and CR, not even as character
 * references; passing them on would make the provider reject the whole document. */
static int gw_xml_text_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return 0;
    }
    return 1;
}

/* Renders a scalar as text: strings as they are, integers in decimal, reals in the shortest
 * form that reads back exactly, booleans as true/false. Returns the length, or -1 when the
 * value is not a scalar. *s points either into the value (borrowed) or into num. */
static long gw_scalar_text(const json_t *v, char num[40], const char **s)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *s = json_string_value(v);
        return (long)json_string_length(v);
    case JSON_INTEGER:
        *s = num;
        return snprintf(num, 40, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        int n = snprintf(num, 40, "%.15g", d);
        if (strtod(num, NULL) != d)
            n = snprintf(num, 40, "%.17g", d);
        *s = num;
        return n;
    }
    case JSON_TRUE:
        *s = "true";
        return 4;
    case JSON_FALSE:
        *s = "false";
        return 5;
    default:
        return -1;
    }
}

static lt_err gw_put_value(lt_buf *o, const char *name, const json_t *params, gw_escape escape,
                           lt_errinfo *ei)
{
    const json_t *v = json_is_object(params) ? json_object_get(params, name) : NULL;
    if (!v)
        return lt_fail(ei, LT_E_INVALID, "unknown template parameter '%.*s'", GW_TMPL_NAME_SHOWN,
                       name);
    char num[40];
    const char *s = NULL;
    long n = gw_scalar_text(v, num, &s);
    if (n < 0)
        return lt_fail(ei, LT_E_INVALID,
                       "template parameter '%.*s' must be a string, number or boolean",
                       GW_TMPL_NAME_SHOWN, name);
    if (escape == GW_ESC_XML) {
        if (!gw_xml_text_ok(s, (size_t)n))
            return lt_fail(ei, LT_E_INVALID,
                           "template parameter '%.*s' holds a control character XML cannot carry",
                           GW_TMPL_NAME_SHOWN, name);
        gw_esc_xml(o, s, (size_t)n);
    } else {
        gw_esc_url(o, s, (size_t)n);
    }
    return LT_OK;
}

/* Parses the inside of one placeholder, p[0..n), trimming blanks, into nb (n+1 bytes, owned by
 * the caller); `at` is the placeholder's offset, for the message. */
static lt_err gw_parse_name(const char *p, size_t n, char *nb, size_t at, lt_errinfo *ei)
{
    size_t b = 0, e = n;
    while (b < e && gw_is_blank(p[b]))
        b++;
    while (e > b && gw_is_blank(p[e - 1]))
        e--;
    int ok = b < e && gw_is_name_start(p[b]);
    for (size_t i = b; ok && i < e; i++)
        ok = gw_is_name_char(p[i]);
    if (!ok)
        return lt_fail(
            ei, LT_E_INVALID,
            "bad template parameter name '%.*s' at offset %zu (want [A-Za-z_][A-Za-z0-9_]*)",
            (int)(n < GW_TMPL_NAME_SHOWN ? n : GW_TMPL_NAME_SHOWN), p, at);
    memcpy(nb, p + b, e - b);
    nb[e - b] = '\0';
    return LT_OK;
}

static lt_err gw_fill_one(lt_buf *o, const char *tmpl, const char *open, const char **next,
                          const json_t *params, gw_escape escape, lt_errinfo *ei)
{
    const char *in = open + 2;
    const char *close = strstr(in, "}}");
    if (!close)
        return lt_fail(ei, LT_E_INVALID, "template placeholder at offset %zu has no closing '}}'",
                       (size_t)(open - tmpl));
    size_t n = (size_t)(close - in);
    char *name = malloc(n + 1);
    if (!name)
        return lt_fail(ei, LT_E_NOMEM, "out of memory filling a template");
    lt_err e = gw_parse_name(in, n, name, (size_t)(open - tmpl), ei);
    if (e == LT_OK)
        e = gw_put_value(o, name, params, escape, ei);
    free(name);
    *next = close + 2;
    return e;
}

lt_err gw_template_fill(const char *tmpl, const json_t *params, gw_escape escape, char **out,
                        lt_errinfo *ei)
{
    if (!tmpl || !out)
        return lt_fail(ei, LT_E_INTERNAL, "gw_template_fill: NULL argument");
    if (params && !json_is_object(params))
        return lt_fail(ei, LT_E_INVALID, "template parameters must be a JSON object");
    lt_buf o;
    lt_buf_init(&o, LT_MAX_BODY_BYTES_DEFAULT);
    const char *p = tmpl;
    lt_err e = LT_OK;
    for (const char *open; e == LT_OK && (open = strstr(p, "{{")) != NULL;) {
        lt_buf_append(&o, p, (size_t)(open - p));
        e = gw_fill_one(&o, tmpl, open, &p, params, escape, ei);
    }
    if (e == LT_OK) {
        lt_buf_puts(&o, p);
        if (o.err == LT_E_TOO_LARGE)
            e = lt_fail(ei, o.err, "filled template over %u bytes", LT_MAX_BODY_BYTES_DEFAULT);
        else if (o.err)
            e = lt_fail(ei, o.err, "out of memory filling a template");
    }
    if (e != LT_OK) {
        lt_buf_free(&o);
        return e;
    }
    *out = lt_buf_detach(&o, NULL);
    return *out ? LT_OK : lt_fail(ei, LT_E_NOMEM, "out of memory filling a template");
}
