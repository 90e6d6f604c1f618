#include "lt_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_limits.h"
#include "lt_str.h"

size_t lt_json_depth(const char *text, size_t len, size_t limit)
{
    size_t depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max && (max = depth) > limit)
                return max;
        } else if (c == ']' || c == '}') {
            if (depth)
                depth--;
        }
    }
    return max;
}

json_t *lt_json_load(const char *text, size_t len, lt_errinfo *ei)
{
    if (!lt_utf8_valid(text, len)) {
        lt_fail(ei, LT_E_BAD_UTF8, "the body is not valid UTF-8");
        return NULL;
    }
    if (lt_json_depth(text, len, LT_MAX_JSON_DEPTH) > LT_MAX_JSON_DEPTH) {
        lt_fail(ei, LT_E_BAD_JSON, "JSON nested deeper than %d levels", LT_MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!v)
        lt_fail(ei, LT_E_BAD_JSON, "line %d col %d: %s", je.line, je.column, je.text);
    return v;
}

json_t *lt_json_load_file(const char *path, lt_errinfo *ei)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        lt_fail(ei, LT_E_IO, "%s: cannot open", path);
        return NULL;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                lt_fail(ei, LT_E_NOMEM, "%s: out of memory", path);
                return NULL;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    json_t *v = lt_json_load(text, len, ei);
    free(text);
    if (!v && ei) {
        char d[LT_DETAIL_MAX];
        int line = 0, col = 0;
        if (sscanf(ei->detail, "line %d col %d", &line, &col) == 2) {
            const char *msg = strchr(ei->detail, ':');
            snprintf(d, sizeof d, "%s:%d:%d%s", path, line, col, msg ? msg : ": invalid JSON");
        } else {
            snprintf(d, sizeof d, "%s:1:1: %s", path, ei->detail);
        }
        memcpy(ei->detail, d, sizeof d);
    }
    return v;
}

lt_err lt_json_check_keys(const json_t *obj, const char *const *allowed, const char *where,
                          lt_errinfo *ei)
{
    if (!json_is_object(obj))
        return lt_fail(ei, LT_E_INVALID, "%s: must be an object", where);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++)
            ok = strcmp(*a, k) == 0;
        if (!ok)
            return lt_fail(ei, LT_E_INVALID, "%s: unknown field '%.100s'", where, k);
    }
    return LT_OK;
}

const char *lt_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

const char *lt_json_str_or(const json_t *obj, const char *key)
{
    const char *s = lt_json_str(obj, key);
    return s ? s : "";
}

lt_err lt_json_req_str(const json_t *obj, const char *key, const char *where, const char **out,
                       lt_errinfo *ei)
{
    const char *s = lt_json_str(obj, key);
    if (!s || !*s)
        return lt_fail(ei, LT_E_INVALID, "%s: '%s' is required (a string)", where, key);
    *out = s;
    return LT_OK;
}

char *lt_json_canonical(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (s && len)
        *len = strlen(s);
    return s;
}

/* --- locating a path in source text: a minimal tokenizer, enough for well-formed JSON --- */

typedef struct scan {
    const char *s;
    size_t n, i;
} scan;

static void skip_ws(scan *sc)
{
    while (sc->i < sc->n && strchr(" \t\r\n", sc->s[sc->i]))
        sc->i++;
}

static int skip_string(scan *sc) /* at '"'; leaves i after the closing quote */
{
    for (sc->i++; sc->i < sc->n; sc->i++) {
        if (sc->s[sc->i] == '\\')
            sc->i++;
        else if (sc->s[sc->i] == '"') {
            sc->i++;
            return 0;
        }
    }
    return -1;
}

static int skip_value(scan *sc)
{
    skip_ws(sc);
    if (sc->i >= sc->n)
        return -1;
    char c = sc->s[sc->i];
    if (c == '"')
        return skip_string(sc);
    if (c == '{' || c == '[') {
        int depth = 0;
        for (; sc->i < sc->n; sc->i++) {
            char d = sc->s[sc->i];
            if (d == '"') {
                if (skip_string(sc))
                    return -1;
                sc->i--;
            } else if (d == '{' || d == '[') {
                depth++;
            } else if ((d == '}' || d == ']') && --depth == 0) {
                sc->i++;
                return 0;
            }
        }
        return -1;
    }
    while (sc->i < sc->n && !strchr(",}] \t\r\n", sc->s[sc->i]))
        sc->i++;
    return 0;
}

/* Moves into the member `key` of the object at i; leaves i at the key's opening quote. */
static int enter_member(scan *sc, const char *key, size_t *key_pos)
{
    skip_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != '{')
        return -1;
    sc->i++;
    size_t klen = strlen(key);
    for (;;) {
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != '"')
            return -1;
        size_t start = sc->i;
        if (skip_string(sc))
            return -1;
        bool match = sc->i - start - 2 == klen && memcmp(sc->s + start + 1, key, klen) == 0;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != ':')
            return -1;
        sc->i++;
        if (match) {
            *key_pos = start;
            skip_ws(sc);
            return 0;
        }
        if (skip_value(sc))
            return -1;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != ',')
            return -1;
        sc->i++;
    }
}

static int enter_index(scan *sc, long idx)
{
    skip_ws(sc);
    if (sc->i >= sc->n || sc->s[sc->i] != '[')
        return -1;
    sc->i++;
    for (long k = 0; k < idx; k++) {
        if (skip_value(sc))
            return -1;
        skip_ws(sc);
        if (sc->i >= sc->n || sc->s[sc->i] != ',')
            return -1;
        sc->i++;
    }
    skip_ws(sc);
    return 0;
}

int lt_json_locate(const char *text, size_t len, const char *const *path, size_t npath,
                   int *line, int *col)
{
    scan sc = {text, len, 0};
    size_t pos = 0;
    for (size_t p = 0; p < npath; p++) {
        skip_ws(&sc);
        if (sc.i < sc.n && sc.s[sc.i] == '[') {
            int64_t idx;
            if (lt_parse_i64(path[p], strlen(path[p]), &idx) || idx < 0 || enter_index(&sc, (long)idx))
                return -1;
            pos = sc.i;
        } else if (enter_member(&sc, path[p], &pos)) {
            return -1;
        }
    }
    int l = 1, c = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
    return 0;
}
