/* Bodies in the audit trail for services with "audit": "full" (issue 6): the request and
 * response text as exchanged, with every personal value replaced by "***" — JSON members, XML
 * elements (by local name) and CSV columns whose name is a personal contract field or the
 * source the mapping reads it from — and cut at a size cap. The trail is evidence of what was
 * exchanged; it must not become a second copy of citizens' data. */
#include <string.h>

#include "gw_int.h"
#include "lt_json.h"
#include "lt_str.h"

#define MASK "\"***\""

/* ---- names ---- */

/* The last step of a mapping path: "/nguoi_bao_cao" → nguoi_bao_cao, "t:NguoiBaoCao" →
 * NguoiBaoCao, "ns:A/ns:B" → B; a CSV column is its own name. */
static const char *path_leaf(const char *p)
{
    const char *s = strrchr(p, '/');
    p = s ? s + 1 : p;
    s = strrchr(p, ':');
    return s ? s + 1 : p;
}

json_t *gw_personal_names(const rg_service *svc)
{
    json_t *names = json_array();
    const json_t *fields = json_object_get(json_object_get(svc->def, "mapping"), "fields");
    for (size_t i = 0; names && svc->contract && i < svc->contract->nfields; i++) {
        const ct_field *f = &svc->contract->fields[i];
        if (!f->personal)
            continue;
        json_array_append_new(names, json_string(f->name));
        const char *p = lt_json_str(json_object_get(fields, f->name), "path");
        if (p && *path_leaf(p))
            json_array_append_new(names, json_string(path_leaf(p)));
    }
    return names;
}

static bool listed(const json_t *names, const char *s, size_t n)
{
    size_t i;
    const json_t *v;
    json_array_foreach(names, i, v) {
        const char *t = json_string_value(v);
        if (t && strlen(t) == n && memcmp(t, s, n) == 0)
            return true;
    }
    return false;
}

/* ---- JSON ---- */

static size_t skip_ws(const char *t, size_t n, size_t i)
{
    while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'))
        i++;
    return i;
}

/* t[i] is '"': the index after the closing quote (n when unterminated). */
static size_t str_end(const char *t, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (t[i] == '\\')
            i++;
        else if (t[i] == '"')
            return i + 1;
    }
    return n;
}

/* The index after the value starting at i (a string, a container, or a scalar). */
static size_t value_end(const char *t, size_t n, size_t i)
{
    if (i < n && t[i] == '"')
        return str_end(t, n, i);
    if (i < n && (t[i] == '{' || t[i] == '[')) {
        int depth = 0;
        while (i < n) {
            if (t[i] == '"') {
                i = str_end(t, n, i);
                continue;
            }
            depth += (t[i] == '{' || t[i] == '[') - (t[i] == '}' || t[i] == ']');
            i++;
            if (depth == 0)
                return i;
        }
        return n;
    }
    while (i < n && !strchr(",}] \t\r\n", t[i]))
        i++;
    return i;
}

static void mask_json(lt_buf *o, const char *t, size_t n, const json_t *names)
{
    size_t i = 0, run = 0;
    while (i < n) {
        if (t[i] != '"') {
            i++;
            continue;
        }
        size_t s = i;
        i = str_end(t, n, i);
        size_t j = skip_ws(t, n, i);
        if (j < n && t[j] == ':' && i - s >= 2 && listed(names, t + s + 1, i - s - 2)) {
            j = skip_ws(t, n, j + 1);
            lt_buf_append(o, t + run, j - run);
            lt_buf_puts(o, MASK);
            run = i = value_end(t, n, j);
        }
    }
    lt_buf_append(o, t + run, n - run);
}

/* ---- XML ---- */

static size_t find(const char *t, size_t n, size_t i, char c)
{
    const char *p = i < n ? memchr(t + i, c, n - i) : NULL;
    return p ? (size_t)(p - t) : n;
}

/* The text of a listed element (by local name) becomes ***; nested markup is left alone. */
static void mask_xml(lt_buf *o, const char *t, size_t n, const json_t *names)
{
    size_t i = 0, run = 0;
    while ((i = find(t, n, i, '<')) < n) {
        i++;
        if (i >= n || t[i] == '/' || t[i] == '!' || t[i] == '?')
            continue;
        size_t local = i;
        while (i < n && !strchr(" \t\r\n/>", t[i])) {
            if (t[i] == ':')
                local = i + 1;
            i++;
        }
        size_t name_end = i, gt = find(t, n, i, '>');
        if (gt >= n)
            break;
        i = gt + 1;
        if (t[gt - 1] == '/' || !listed(names, t + local, name_end - local))
            continue;
        size_t end = find(t, n, i, '<');
        lt_buf_append(o, t + run, i - run);
        lt_buf_puts(o, "***");
        run = i = end;
    }
    lt_buf_append(o, t + run, n - run);
}

/* ---- CSV ---- */

/* The end of the cell starting at i (quotes respected); the delimiter or line end is not in. */
static size_t cell_end(const char *t, size_t n, size_t i, char delim)
{
    bool q = i < n && t[i] == '"';
    for (i += q; i < n; i++) {
        if (q && t[i] == '"' && i + 1 < n && t[i + 1] == '"')
            i++;
        else if (q && t[i] == '"')
            q = false;
        else if (!q && (t[i] == delim || t[i] == '\n' || t[i] == '\r'))
            break;
    }
    return i;
}

#define CSV_MAX_COLS 256

/* Cells of listed columns (named in the header line) become ***. */
static void mask_csv(lt_buf *o, const char *t, size_t n, const json_t *names)
{
    size_t line = find(t, n, 0, '\n');
    size_t semi = 0, comma = 0;
    for (size_t k = 0; k < line; k++)
        semi += t[k] == ';', comma += t[k] == ',';
    char delim = semi > comma ? ';' : ',';
    bool masked[CSV_MAX_COLS] = {false};
    size_t col = 0, i = 0, run = 0;
    for (bool header = true; i < n;) {
        size_t e = cell_end(t, n, i, delim);
        const char *c = t + i;
        size_t cl = e - i;
        if (cl >= 2 && c[0] == '"')
            c++, cl -= 2;
        if (header && col < CSV_MAX_COLS)
            masked[col] = listed(names, c, cl);
        else if (!header && col < CSV_MAX_COLS && masked[col] && e > i) {
            lt_buf_append(o, t + run, i - run);
            lt_buf_puts(o, "***");
            run = e;
        }
        col++;
        i = e;
        if (i < n && t[i] == delim) {
            i++;
            continue;
        }
        while (i < n && (t[i] == '\r' || t[i] == '\n'))
            i++;
        header = false;
        col = 0;
    }
    lt_buf_append(o, t + run, n - run);
}

/* ---- the entry's member ---- */

void gw_audit_body(lt_buf *out, const char *text, size_t len, const json_t *names, size_t max)
{
    lt_buf m;
    lt_buf_init(&m, 0);
    size_t i = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    i = skip_ws(text, len, i);
    const char *t = text ? text : "";
    if (i < len && (t[i] == '{' || t[i] == '['))
        mask_json(&m, t, len, names);
    else if (i < len && t[i] == '<')
        mask_xml(&m, t, len, names);
    else if (i < len)
        mask_csv(&m, t, len, names);
    size_t keep = m.len > max ? max : m.len;
    while (keep < m.len && keep > 0 && ((unsigned char)m.data[keep] & 0xC0) == 0x80)
        keep--; /* never cut a UTF-8 character in two */
    if (m.err || !lt_utf8_valid(m.data ? m.data : "", keep)) {
        lt_buf_printf(out, "\"[%zu bytes, not shown: %s]\"", len,
                      m.err ? "out of memory" : "not UTF-8 text");
    } else {
        lt_buf_json_str(out, m.data ? m.data : "", keep);
        if (keep < m.len) {
            out->len--; /* reopen the string for the note */
            lt_buf_printf(out, "...[truncated: %zu bytes in all]\"", len);
        }
    }
    lt_buf_free(&m);
}
