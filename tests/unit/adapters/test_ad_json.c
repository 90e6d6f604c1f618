/* JSON Pointer (RFC 6901) compile and lookup, the JSON decoder, and the format table. */
#include <stdlib.h>
#include <string.h>

#include "ad_int.h" /* the module's own tests may use its internals */
#include "lt_json.h"
#include "lt_test.h"

/* The example document of RFC 6901 section 5, plus nesting. */
static const char rfc_doc[] =
    "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3, \"g|h\": 4,"
    " \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8, \"~1\": 9,"
    " \"x\": {\"y\": [{\"z\": true}], \"\": {\"\": \"deep\"}}}";

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : strdup("(missing)");
}

static void test_pointer_lookup(void)
{
    static const struct {
        const char *ptr;
        const char *want;
    } cases[] = {
        {"/foo", "[\"bar\",\"baz\"]"},
        {"/foo/0", "\"bar\""},
        {"/foo/1", "\"baz\""},
        {"/", "0"},
        {"/a~1b", "1"},
        {"/c%d", "2"},
        {"/e^f", "3"},
        {"/g|h", "4"},
        {"/i\\j", "5"},
        {"/k\"l", "6"},
        {"/ ", "7"},
        {"/m~0n", "8"},
        {"/~01", "9"}, /* ~0 first would give "~1" -> "/": order matters */
        {"/x/y/0/z", "true"},
        {"/x//", "\"deep\""},
        {"/foo/2", "(missing)"},
        {"/foo/01", "(missing)"},
        {"/foo/-", "(missing)"},
        {"/foo/", "(missing)"},
        {"/foo/0/bar", "(missing)"},
        {"/nope", "(missing)"},
        {"/1", "(missing)"},
    };
    lt_errinfo ei = {0};
    json_t *doc = lt_json_load(rfc_doc, strlen(rfc_doc), &ei);
    CHECK_MSG(doc != NULL, "%s", ei.detail);
    /* jansson's parser refuses NUL in keys, but a built object may hold one. */
    json_object_setn_new(doc, "nul\0key", 7, json_integer(10));
    for (size_t i = 0; doc && i < sizeof cases / sizeof cases[0]; i++) {
        ad_ptr *p = NULL;
        lt_err e = ad_ptr_compile(cases[i].ptr, strlen(cases[i].ptr), "t", &p, &ei);
        CHECK_MSG(e == LT_OK, "%s: %s", cases[i].ptr, ei.detail);
        if (e != LT_OK)
            continue;
        char *got = dump(ad_ptr_get(p, doc));
        CHECK_MSG(strcmp(got, cases[i].want) == 0, "%s: got %s want %s", cases[i].ptr, got,
                  cases[i].want);
        free(got);
        ad_ptr_free(p);
    }
    /* The empty pointer is the document itself; a NUL inside a token is part of the key. */
    ad_ptr *p = NULL;
    CHECK(ad_ptr_compile("", 0, "t", &p, &ei) == LT_OK && p && p->ntok == 0);
    CHECK(p && ad_ptr_get(p, doc) == doc);
    ad_ptr_free(p);
    static const char nulptr[] = "/nul\0key";
    CHECK(ad_ptr_compile(nulptr, sizeof nulptr - 1, "t", &p, &ei) == LT_OK);
    CHECK(p && json_integer_value(ad_ptr_get(p, doc)) == 10);
    ad_ptr_free(p);
    json_decref(doc);
}

static void test_pointer_tokens(void)
{
    ad_ptr *p = NULL;
    lt_errinfo ei = {0};
    CHECK(ad_ptr_compile("/a~1b/~0/12/012/", 16, "t", &p, &ei) == LT_OK);
    CHECK(p && p->ntok == 5);
    if (p && p->ntok == 5) {
        CHECK_STR(p->tok[0].s, "a/b");
        CHECK_STR(p->tok[1].s, "~");
        CHECK(p->tok[1].idx == -1);
        CHECK(p->tok[2].idx == 12);
        CHECK(p->tok[3].idx == -1);
        CHECK(p->tok[4].len == 0 && p->tok[4].idx == -1);
    }
    ad_ptr_free(p);
}

static void test_pointer_invalid(void)
{
    static const char *const bad[] = {"foo", "a/b", "/~", "/~2", "/a~", "/a~x/b", " /a", "/m~n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ad_ptr *p = (ad_ptr *)1;
        lt_errinfo ei = {0};
        lt_err e = ad_ptr_compile(bad[i], strlen(bad[i]), "mapping.records", &p, &ei);
        CHECK_MSG(e == LT_E_INVALID, "'%s' compiled", bad[i]);
        CHECK(p == NULL);
        CHECK_MSG(strncmp(ei.detail, "mapping.records: ", 17) == 0, "%s", ei.detail);
    }
}

static void test_formats(void)
{
    static const struct {
        const char *media;
        const char *name; /* NULL: no format */
    } cases[] = {
        {"application/json", "json"},
        {"Application/JSON; charset=utf-8", "json"},
        {"  application/json  ;charset=UTF-8", "json"},
        {"application/xml", "xml"},
        {"text/xml; charset=utf-8", "xml"},
        {"application/soap+xml; action=\"x\"", "soap"},
        {"text/csv", "csv"},
        {"text/csvx", NULL},
        {"application/json2", NULL},
        {"application/vnd.lienthong.exchange+json", NULL},
        {"", NULL},
        {";", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const ad_format *f = ad_format_by_media(cases[i].media);
        if (cases[i].name)
            CHECK_MSG(f && strcmp(f->name, cases[i].name) == 0, "%s", cases[i].media);
        else
            CHECK_MSG(f == NULL, "%s", cases[i].media);
    }
    CHECK(ad_format_by_media(NULL) == NULL);
    static const struct {
        const char *name;
        int implemented;
    } rows[] = {{"json", 1}, {"xml", 1}, {"soap", 1}, {"csv", 1}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const ad_format *f = ad_format_by_name(rows[i].name);
        CHECK_MSG(f && f->implemented == rows[i].implemented, "%s", rows[i].name);
        CHECK(f && (ad_format_decoder(f) != NULL) == rows[i].implemented);
        CHECK(f && f->media_types && f->media_types[0]);
    }
    CHECK(ad_format_by_name("JSON") == NULL);
    CHECK(ad_format_by_name("yaml") == NULL);
    CHECK(ad_format_by_name(NULL) == NULL);
    CHECK(ad_format_decoder(NULL) == NULL);
}

/* The decoder on its own: open, select, record, get, close. */
static void test_decoder(void)
{
    static const char body[] = "{\"items\": [{\"a\": 1}, {\"a\": [2]}], \"n\": {}}";
    const ad_decoder *d = &ad_json_decoder;
    lt_errinfo ei = {0};
    void *doc = NULL, *sel = NULL, *path = NULL;
    size_t count = 0;
    CHECK(d->open(body, strlen(body), NULL, &doc, &ei) == LT_OK);
    CHECK(d->compile_path("/items", 6, 1, NULL, "r", &sel, &ei) == LT_OK);
    CHECK(d->compile_path("/a", 2, 0, NULL, "f", &path, &ei) == LT_OK);
    CHECK(d->select(doc, sel, "/items", &count, &ei) == LT_OK && count == 2);
    json_t *raw = NULL;
    const void *rec = d->record(doc, 1, &raw);
    json_t *v = d->get(rec, path);
    CHECK(json_is_array(v));
    CHECK(d->get(rec, NULL) == raw);
    json_decref(raw); /* once for get(NULL), once for record */
    json_decref(raw);
    json_decref(v);
    void *nsel = NULL;
    CHECK(d->compile_path("/n", 2, 1, NULL, "r", &nsel, &ei) == LT_OK);
    CHECK(d->select(doc, nsel, "/n", &count, &ei) == LT_E_INVALID);
    CHECK_STR(ei.detail, "mapping.records '/n' does not select an array");
    d->free_path(nsel);
    d->free_path(sel);
    d->free_path(path);
    d->close(doc);
    CHECK(d->open("{\"a\":", 5, NULL, &doc, &ei) == LT_E_BAD_JSON && doc == NULL);
    CHECK(d->open("[\"\xff\"]", 5, NULL, &doc, &ei) == LT_E_BAD_UTF8 && doc == NULL);
    lt_errinfo_clear(&ei);
}

int main(void)
{
    LT_RUN(test_pointer_lookup);
    LT_RUN(test_pointer_tokens);
    LT_RUN(test_pointer_invalid);
    LT_RUN(test_formats);
    LT_RUN(test_decoder);
    return lt_test_done();
}
