/* The SOAP facade's response and fault envelopes, plus the XML escaping every SOAP writer
 * shares. Records stream from their stored canonical JSON straight into the buffer: one small
 * jansson parse per record and no XML tree, so a large page costs little more than its bytes. */
#include <stdlib.h>
#include <string.h>

#include "ad_soap_int.h"
#include "ad_soap_out.h"
#include "lt_str.h"

const char *const ad_soap_options[] = {"since", "as_of", "limit", "cursor", NULL};

int ad_soap_is_option(const char *name)
{
    for (const char *const *o = ad_soap_options; *o; o++)
        if (strcmp(*o, name) == 0)
            return 1;
    return 0;
}

/* What the character at p becomes: NULL when it is copied as is; *k is its length in bytes.
 * XML 1.0 cannot carry C0 controls (even as references), U+FFFE/U+FFFF or broken UTF-8, so
 * those become U+FFFD rather than making the whole document unreadable. */
static const char *ad_soap_replacement(const unsigned char *p, size_t left, int attr, size_t *k)
{
    static const char fffd[] = "\xEF\xBF\xBD";
    *k = 1;
    if (p[0] >= 0x80) {
        size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
        if (!len || len > left || !lt_utf8_valid((const char *)p, len))
            return fffd;
        *k = len;
        return len == 3 && p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE ? fffd : NULL;
    }
    switch (p[0]) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\r':
        return "&#13;"; /* a literal CR would be normalised to LF by the reader */
    case '\t':
        return attr ? "&#9;" : NULL;
    case '\n':
        return attr ? "&#10;" : NULL;
    default:
        return p[0] < 0x20 ? fffd : NULL;
    }
}

void ad_soap_esc(lt_buf *out, const char *s, size_t n, int attr)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0, i = 0;
    while (i < n) {
        size_t k;
        const char *rep = ad_soap_replacement(p + i, n - i, attr, &k);
        if (rep) {
            /* copy the plain run before it in one append */
            lt_buf_append(out, s + run, i - run);
            lt_buf_puts(out, rep);
            run = i + k;
        }
        i += k;
    }
    lt_buf_append(out, s + run, n - run);
}

void ad_soap_esc_str(lt_buf *out, const char *s, int attr)
{
    if (s)
        ad_soap_esc(out, s, strlen(s), attr);
}

void ad_soap_put_double(lt_buf *out, double d)
{
    char s[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    lt_buf_puts(out, s);
}

void ad_soap_response_begin(lt_buf *out, const char *service_id)
{
    lt_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<soap:Envelope xmlns:soap=\"" AD_SOAP11_ENV_NS "\" xmlns:xsi=\"" AD_XSI_NS
                     "\"><soap:Body><GetRecordsResponse xmlns=\"" AD_SOAP_NS_PREFIX);
    ad_soap_esc_str(out, service_id, 1);
    lt_buf_puts(out, "\"><records>");
}

/* One field element. Field names are [a-z_][a-z0-9_]* (ct_contract), so they are NCNames
 * and need no escaping. */
static void ad_soap_put_field(lt_buf *out, const char *name, const json_t *v)
{
    lt_buf_putc(out, '<');
    lt_buf_puts(out, name);
    if (json_is_null(v)) {
        lt_buf_puts(out, " xsi:nil=\"true\"/>");
        return;
    }
    lt_buf_putc(out, '>');
    if (json_is_string(v)) {
        ad_soap_esc(out, json_string_value(v), json_string_length(v), 0);
    } else if (json_is_integer(v)) {
        lt_buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        ad_soap_put_double(out, json_real_value(v));
    } else if (json_is_boolean(v)) {
        lt_buf_puts(out, json_is_true(v) ? "true" : "false");
    } else {
        /* contracts hold scalars only; a composite is still shown rather than dropped */
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        ad_soap_esc_str(out, t, 0);
        free(t);
    }
    lt_buf_puts(out, "</");
    lt_buf_puts(out, name);
    lt_buf_putc(out, '>');
}

int ad_soap_response_record(lt_buf *out, const ct_contract *c, const char *json, size_t len)
{
    json_t *rec = json ? json_loadb(json, len, 0, NULL) : NULL;
    if (!json_is_object(rec)) {
        json_decref(rec);
        return -1;
    }
    lt_buf_puts(out, "<record>");
    /* contract order, because the WSDL declares the record as an xs:sequence */
    for (size_t i = 0; i < c->nfields; i++) {
        const json_t *v = json_object_get(rec, c->fields[i].name);
        if (v)
            ad_soap_put_field(out, c->fields[i].name, v);
    }
    lt_buf_puts(out, "</record>");
    json_decref(rec);
    return out->err ? -1 : 0;
}

void ad_soap_response_end(lt_buf *out, const char *const *restricted, size_t nrestricted,
                          const char *next_cursor)
{
    lt_buf_puts(out, "</records><restricted_fields>");
    for (size_t i = 0; restricted && i < nrestricted; i++) {
        lt_buf_puts(out, "<field>");
        ad_soap_esc_str(out, restricted[i], 0);
        lt_buf_puts(out, "</field>");
    }
    lt_buf_puts(out, "</restricted_fields>");
    if (next_cursor && *next_cursor) {
        lt_buf_puts(out, "<next_cursor>");
        ad_soap_esc_str(out, next_cursor, 0);
        lt_buf_puts(out, "</next_cursor>");
    } else {
        lt_buf_puts(out, "<next_cursor xsi:nil=\"true\"/>");
    }
    lt_buf_puts(out, "</GetRecordsResponse></soap:Body></soap:Envelope>\n");
}

void ad_soap_fault_write(lt_buf *out, int client_error, const char *code, const char *message)
{
    lt_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<soap:Envelope xmlns:soap=\"" AD_SOAP11_ENV_NS "\"><soap:Body><soap:Fault>"
                     "<faultcode>");
    lt_buf_puts(out, client_error ? "soap:Client" : "soap:Server");
    lt_buf_puts(out, "</faultcode><faultstring>");
    ad_soap_esc_str(out, message ? message : "", 0);
    lt_buf_puts(out, "</faultstring>");
    if (code) {
        lt_buf_puts(out, "<detail><lt:problem xmlns:lt=\"" AD_SOAP_FAULT_NS "\"><lt:code>");
        ad_soap_esc_str(out, code, 0);
        lt_buf_puts(out, "</lt:code></lt:problem></detail>");
    }
    lt_buf_puts(out, "</soap:Fault></soap:Body></soap:Envelope>\n");
}
