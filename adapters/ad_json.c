/* ad_json — the JSON decoder: one lt_json_load per payload, records selected and fields
 * fetched by RFC 6901 JSON Pointers that were split and unescaped at compile time, so the
 * per-record work is hash lookups and reference counts, no parsing or allocation. */
#include <stdlib.h>
#include <string.h>

#include "ad_int.h"
#include "lt_json.h"

/* An array index per RFC 6901: "0" or a digit run without a leading zero; -1 otherwise
 * ("-" names the element after the last one, which never exists for a lookup). */
static long token_index(const char *s, size_t n)
{
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Checks the syntax and counts tokens; returns -1 on a bad escape. */
static long count_tokens(const char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '/')
            n++;
        else if (s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
            return -1;
    }
    return n;
}

lt_err ad_ptr_compile(const char *s, size_t len, const char *where, ad_ptr **out, lt_errinfo *ei)
{
    *out = NULL;
    if (len > 0 && s[0] != '/')
        return lt_fail(ei, LT_E_INVALID, "%s: a JSON Pointer starts with '/' (or is empty)", where);
    long ntok = count_tokens(s, len);
    if (ntok < 0)
        return lt_fail(ei, LT_E_INVALID, "%s: '~' must be followed by 0 or 1 in a JSON Pointer",
                       where);
    /* One block: header, token array, unescaped text (never longer than the source). */
    size_t head = sizeof(ad_ptr) + (size_t)ntok * sizeof(ad_ptr_tok);
    ad_ptr *p = malloc(head + len + 1);
    if (!p)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    p->ntok = (size_t)ntok;
    p->tok = (ad_ptr_tok *)(p + 1);
    char *text = (char *)p + head;
    size_t w = 0, t = 0, start = 0;
    for (size_t i = 1; i <= len; i++) { /* s[0] is the first '/' */
        if (i == len || s[i] == '/') {
            ad_ptr_tok *tk = &p->tok[t++];
            tk->s = text + start;
            tk->len = w - start;
            tk->idx = token_index(tk->s, tk->len);
            text[w++] = '\0'; /* the '/' this replaces pays for the terminator */
            start = w;
        } else if (s[i] == '~') {
            text[w++] = s[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            text[w++] = s[i];
        }
    }
    text[w] = '\0';
    *out = p;
    return LT_OK;
}

void ad_ptr_free(ad_ptr *p)
{
    free(p);
}

const json_t *ad_ptr_get(const ad_ptr *p, const json_t *v)
{
    for (size_t i = 0; v && i < p->ntok; i++) {
        const ad_ptr_tok *t = &p->tok[i];
        if (json_is_object(v))
            v = json_object_getn(v, t->s, t->len);
        else if (json_is_array(v) && t->idx >= 0)
            v = json_array_get(v, (size_t)t->idx);
        else
            v = NULL;
    }
    return v;
}

/* ---- the decoder ---- */

static lt_err json_compile_path(const char *text, size_t len, int is_records, const ad_opts *o,
                                const char *where, void **out, lt_errinfo *ei)
{
    (void)is_records;
    (void)o;
    ad_ptr *p = NULL;
    lt_err e = ad_ptr_compile(text, len, where, &p, ei);
    if (e == LT_OK && p->ntok == 0) { /* "" is the value itself: no lookup at all */
        ad_ptr_free(p);
        p = NULL;
    }
    *out = p;
    return e;
}

static void json_free_path(void *path)
{
    ad_ptr_free(path);
}

static lt_err json_open(const char *body, size_t len, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    (void)o;
    *doc = NULL;
    ad_json_doc *d = calloc(1, sizeof *d);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    d->root = lt_json_load(body, len, ei);
    if (!d->root) {
        free(d);
        return ei ? ei->code : LT_E_BAD_JSON;
    }
    *doc = d;
    return LT_OK;
}

static lt_err json_select(void *doc, const void *records, const char *shown, size_t *count,
                          lt_errinfo *ei)
{
    ad_json_doc *d = doc;
    const json_t *list = records ? ad_ptr_get(records, d->root) : d->root;
    if (!json_is_array(list)) {
        if (!shown)
            return lt_fail(ei, LT_E_INVALID, "the payload is not a JSON array of records");
        return lt_fail(ei, LT_E_INVALID, "mapping.records '%.200s' does not select an array",
                       shown);
    }
    d->list = list;
    *count = json_array_size(list);
    return LT_OK;
}

static const void *json_record(void *doc, size_t i, json_t **raw)
{
    ad_json_doc *d = doc;
    json_t *r = json_array_get(d->list, i);
    *raw = json_incref(r);
    return r;
}

static json_t *json_get(const void *rec, const void *path)
{
    const json_t *v = path ? ad_ptr_get(path, rec) : rec;
    return json_incref((json_t *)v);
}

static void json_close(void *doc)
{
    ad_json_doc *d = doc;
    if (d)
        json_decref(d->root);
    free(d);
}

/* A quarantined JSON record is the record itself: wrap it as a one-element list. */
static lt_err json_open_raw(const json_t *raw, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    (void)o;
    ad_json_doc *d = calloc(1, sizeof *d);
    if (!d || !(d->root = json_array()) || json_array_append(d->root, (json_t *)raw)) {
        if (d)
            json_decref(d->root);
        free(d);
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    d->list = d->root;
    *doc = d;
    return LT_OK;
}

const ad_decoder ad_json_decoder = {
    .compile_path = json_compile_path,
    .free_path = json_free_path,
    .open = json_open,
    .select = json_select,
    .record = json_record,
    .get = json_get,
    .close = json_close,
    .open_raw = json_open_raw,
};
