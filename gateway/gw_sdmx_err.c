/* SDMX error messages (SDMX-ML 2.1 message:Error), the lt_err → SDMX code table, and the
 * writing primitives every SDMX writer shares: XML escaping, numbers, the message header. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sdmx.h"
#include "lt_str.h"

#define NS_MESSAGE "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
#define NS_COMMON "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"

int gw_sdmx_errf(gw_sdmx_err *e, int code, int http, const char *fmt, ...)
{
    e->code = code;
    e->http = http;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    va_end(ap);
    return -1;
}

/* lt_err → SDMX code and HTTP status; codes not listed are 500 / 500. */
static const struct {
    lt_err err;
    int code, http;
} err_map[] = {
    {LT_E_NOT_FOUND, GW_SDMX_E_NO_RESULTS, 404},
    {LT_E_UNAUTHORIZED, GW_SDMX_E_UNAUTHORIZED, 401},
    {LT_E_TOKEN_EXPIRED, GW_SDMX_E_UNAUTHORIZED, 401},
    {LT_E_FORBIDDEN, GW_SDMX_E_SEMANTIC, 403},
    {LT_E_BAD_REQUEST, GW_SDMX_E_SYNTAX, 400},
    {LT_E_BAD_UTF8, GW_SDMX_E_SYNTAX, 400},
    {LT_E_INVALID, GW_SDMX_E_SEMANTIC, 400},
    {LT_E_METHOD, GW_SDMX_E_NOT_IMPLEMENTED, 405},
    {LT_E_TOO_LARGE, GW_SDMX_E_SIZE_LIMIT, 413},
    {LT_E_NOT_ACCEPTABLE, GW_SDMX_E_NOT_ACCEPTABLE, 406},
    {LT_E_QUOTA, GW_SDMX_E_UNAVAILABLE, 429},
    {LT_E_UNAVAILABLE, GW_SDMX_E_UNAVAILABLE, 503},
};

void gw_sdmx_err_from_lt(lt_err code, const char *detail, gw_sdmx_err *e)
{
    int sdmx = GW_SDMX_E_INTERNAL, http = 500;
    for (size_t i = 0; i < sizeof err_map / sizeof err_map[0]; i++)
        if (err_map[i].err == code) {
            sdmx = err_map[i].code;
            http = err_map[i].http;
            break;
        }
    gw_sdmx_errf(e, sdmx, http, "%s", detail && *detail ? detail : lt_strerror(code));
}

/* SDMX 2.1 titles, written before the detail text. */
static const char *code_title(int code)
{
    static const struct {
        int code;
        const char *title;
    } titles[] = {
        {GW_SDMX_E_NO_RESULTS, "No results found"},
        {GW_SDMX_E_UNAUTHORIZED, "Unauthorized"},
        {GW_SDMX_E_SYNTAX, "Syntax error"},
        {GW_SDMX_E_SEMANTIC, "Semantic error"},
        {GW_SDMX_E_NOT_ACCEPTABLE, "Not acceptable"},
        {GW_SDMX_E_INTERNAL, "Internal server error"},
        {GW_SDMX_E_NOT_IMPLEMENTED, "Not implemented"},
        {GW_SDMX_E_UNAVAILABLE, "Service unavailable"},
        {GW_SDMX_E_SIZE_LIMIT, "Response size exceeds service limit"},
    };
    for (size_t i = 0; i < sizeof titles / sizeof titles[0]; i++)
        if (titles[i].code == code)
            return titles[i].title;
    return "Error";
}

void gw_sdmx_write_error(lt_buf *out, int code, const char *text)
{
    lt_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<message:Error xmlns:message=\"" NS_MESSAGE "\" xmlns:common=\"" NS_COMMON
                     "\"><message:ErrorMessage code=\"");
    gw_sdmx_uint(out, (uint64_t)(code < 0 ? 0 : code));
    lt_buf_puts(out, "\"><common:Text xml:lang=\"en\">");
    gw_sdmx_xml_esc(out, code_title(code));
    if (text && *text) {
        lt_buf_puts(out, ": ");
        gw_sdmx_xml_esc(out, text);
    }
    lt_buf_puts(out, "</common:Text></message:ErrorMessage></message:Error>\n");
}

/* ---- XML escaping ---- */

/* Length of the well-formed UTF-8 sequence at s (0 when invalid or not allowed in XML). */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
    if (!n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (!lt_utf8_valid((const char *)s, n))
        return 0;
    if (n == 3 && c == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
        return 0; /* U+FFFE, U+FFFF */
    return n;
}

/* The replacement for one special byte, or NULL when the byte is plain. */
static const char *xml_special(unsigned char c)
{
    static const char *const rep[0x80] = {
        ['&'] = "&amp;",   ['<'] = "&lt;",  ['>'] = "&gt;",   ['"'] = "&quot;",
        ['\''] = "&apos;", ['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;",
    };
    if (c < 0x80 && rep[c])
        return rep[c];
    return c < 0x20 || c == 0x7f ? "\xef\xbf\xbd" : NULL;
}

void gw_sdmx_xml_esc(lt_buf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s, *run = p;
    while (*p) {
        if (*p >= 0x80) {
            size_t n = utf8_len(p);
            if (n) {
                p += n;
                continue;
            }
            lt_buf_append(out, run, (size_t)(p - run));
            lt_buf_puts(out, "\xef\xbf\xbd");
            run = ++p;
            continue;
        }
        const char *rep = xml_special(*p);
        if (!rep) {
            p++;
            continue;
        }
        lt_buf_append(out, run, (size_t)(p - run));
        lt_buf_puts(out, rep);
        run = ++p;
    }
    lt_buf_append(out, run, (size_t)(p - run));
}

/* ---- numbers ---- */

void gw_sdmx_uint(lt_buf *out, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    lt_buf_append(out, tmp + i, sizeof tmp - i);
}

size_t gw_sdmx_num(double v, char out[32])
{
    if (v != v || v - v != 0) { /* NaN or infinite: never stored, but never write junk */
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (v == (double)(int64_t)v && v > -9007199254740992.0 && v < 9007199254740992.0) {
        int64_t i = (int64_t)v;
        uint64_t u = i < 0 ? (uint64_t)(-i) : (uint64_t)i;
        char tmp[24];
        size_t k = sizeof tmp, n = 0;
        do {
            tmp[--k] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (signbit(v))
            out[n++] = '-';
        memcpy(out + n, tmp + k, sizeof tmp - k);
        n += sizeof tmp - k;
        out[n] = '\0';
        return n;
    }
    int len = 0;
    for (int prec = 15; prec <= 17; prec++) {
        len = snprintf(out, 32, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)len;
}

void gw_sdmx_xml_header_start(lt_buf *out, const char *id, int64_t prepared_us)
{
    char when[32];
    lt_time_format(prepared_us, false, when);
    lt_buf_puts(out, "<message:Header><message:ID>");
    gw_sdmx_xml_esc(out, id);
    lt_buf_puts(out, "</message:ID><message:Test>false</message:Test><message:Prepared>");
    lt_buf_puts(out, when);
    lt_buf_puts(out, "</message:Prepared><message:Sender id=\"" GW_SDMX_AGENCY "\">"
                     "<common:Name xml:lang=\"en\">lienthong provincial data-sharing gateway"
                     "</common:Name></message:Sender>");
}
