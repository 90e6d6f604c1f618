/* Tests for ct_codelist_check and ct_envelope_check. */
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"
#include "lt_test.h"

static json_t *load(const char *text)
{
    lt_errinfo ei = {0};
    json_t *j = lt_json_load(text, strlen(text), &ei);
    CHECK_MSG(j != NULL, "bad test JSON '%s': %s", text, ei.detail);
    lt_errinfo_clear(&ei);
    return j;
}

static const struct {
    const char *doc, *expect, *detail; /* detail NULL: valid */
} codelist_cases[] = {
    {"{\"id\": \"areas\", \"title\": \"Areas\", \"codes\": [{\"code\": \"20\", \"name\": "
     "\"Lạng Sơn\"},"
     " {\"code\": \"20001\", \"name\": \"X\", \"parent\": \"20\", \"description\": \"d\"}]}",
     "areas", NULL},
    {"{\"id\": \"a.b_c-1\", \"title\": \"T\", \"description\": \"D\", \"codes\": []}", NULL, NULL},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": []}", "other", "does not match 'other'"},
    {"{\"id\": \"Areas\", \"title\": \"T\", \"codes\": []}", NULL, "'id' must match"},
    {"{\"id\": \"areas\", \"codes\": []}", NULL, "'title' is required"},
    {"{\"id\": \"areas\", \"title\": \"T\"}", NULL, "'codes' must be an array"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [], \"x\": 1}", NULL, "unknown field 'x'"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\", "
     "\"y\": 2}]}",
     NULL, "codes[0]: unknown field 'y'"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"\", \"name\": \"A\"}]}", NULL,
     "codes[0]: 'code' must be"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": 1, \"name\": \"A\"}]}", NULL,
     "codes[0]: 'code' must be"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"a~b\", \"name\": \"A\"}]}",
     NULL, "codes[0]: 'code' must be"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": "
     "\"12345678901234567890123456789012345678901234567890123456789012345\", \"name\": "
     "\"A\"}]}",
     NULL, "codes[0]: 'code' must be"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\"}]}", NULL,
     "codes[0]: 'name' is required"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\"},"
     " {\"code\": \"1\", \"name\": \"B\"}]}",
     NULL, "codes[1]: duplicate code '1'"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\", "
     "\"parent\": \"9\"}]}",
     NULL, "parent '9' is not in the list"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\", "
     "\"parent\": 2}]}",
     NULL, "must be strings"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\", "
     "\"parent\": \"1\"}]}",
     NULL, "cycle"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"1\", \"name\": \"A\", "
     "\"parent\": \"3\"},"
     " {\"code\": \"2\", \"name\": \"B\", \"parent\": \"1\"}, {\"code\": \"3\", \"name\": "
     "\"C\", \"parent\": \"2\"}]}",
     NULL, "cycle"},
    {"{\"id\": \"areas\", \"title\": \"T\", \"codes\": [{\"code\": \"3\", \"name\": \"C\", "
     "\"parent\": \"2\"},"
     " {\"code\": \"2\", \"name\": \"B\", \"parent\": \"1\"}, {\"code\": \"1\", \"name\": "
     "\"A\"},"
     " {\"code\": \"4\", \"name\": \"D\", \"parent\": \"2\"}]}",
     NULL, NULL},
    {"[]", NULL, "must be an object"},
};

static void test_codelist(void)
{
    for (size_t i = 0; i < sizeof codelist_cases / sizeof codelist_cases[0]; i++) {
        json_t *doc = load(codelist_cases[i].doc);
        lt_errinfo ei = {0};
        lt_err e = ct_codelist_check(doc, codelist_cases[i].expect, &ei);
        if (!codelist_cases[i].detail)
            CHECK_MSG(e == LT_OK, "case %zu: %s", i, ei.detail);
        else
            CHECK_MSG(e == LT_E_INVALID && strstr(ei.detail, codelist_cases[i].detail),
                      "case %zu: got %d '%s', want '%s'", i, e, ei.detail,
                      codelist_cases[i].detail);
        lt_errinfo_clear(&ei);
        json_decref(doc);
    }
}

#define HDR                                                                                        \
    "\"header\": {\"message_id\": \"m1\", \"service\": \"stc\", \"provider\": \"000.00.15.H32\","  \
    " \"contract\": \"obs@1\", \"produced_at\": \"2026-11-22T05:00:00Z\"}"

static void test_envelope(void)
{
    static const struct {
        const char *env, *service, *contract, *detail;
    } cases[] = {
        {"{" HDR ", \"records\": [{\"a\": 1}], \"restricted_fields\": [], \"next_cursor\": null}",
         "stc", "obs@1", NULL},
        {"{\"header\": {}, \"records\": []}", "stc", "obs@1", NULL},
        {"{" HDR ", \"records\": [], \"next_cursor\": \"c2\"}", NULL, NULL, NULL},
        {"{" HDR ", \"records\": []}", "other", "obs@1", "service 'stc' is not 'other'"},
        {"{" HDR ", \"records\": []}", "stc", "obs@2", "contract 'obs@1' is not 'obs@2'"},
        {"{" HDR "}", "stc", "obs@1", "'records' is required"},
        {"{\"records\": []}", "stc", "obs@1", "'header' is required"},
        {"{" HDR ", \"records\": {}}", "stc", "obs@1", "'records' is required"},
        {"{" HDR ", \"records\": [], \"extra\": 1}", "stc", "obs@1", "unknown field 'extra'"},
        {"{\"header\": {\"sender\": \"x\"}, \"records\": []}", NULL, NULL,
         "unknown field 'sender'"},
        {"{\"header\": [], \"records\": []}", NULL, NULL, "must be an object"},
        {"{\"header\": {\"service\": 5}, \"records\": []}", NULL, NULL,
         "'service' must be a non-empty string"},
        {"{\"header\": {\"produced_at\": \"yesterday\"}, \"records\": []}", NULL, NULL, "RFC 3339"},
        {"{" HDR ", \"records\": [], \"restricted_fields\": [1]}", NULL, NULL,
         "restricted_fields[0]"},
        {"{" HDR ", \"records\": [], \"restricted_fields\": \"a\"}", NULL, NULL,
         "must be an array"},
        {"{" HDR ", \"records\": [], \"next_cursor\": 3}", NULL, NULL, "string or null"},
        {"3", NULL, NULL, "must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *env = load(cases[i].env);
        const json_t *recs = (const json_t *)1;
        lt_errinfo ei = {0};
        lt_err e = ct_envelope_check(env, cases[i].service, cases[i].contract, &recs, &ei);
        if (!cases[i].detail) {
            CHECK_MSG(e == LT_OK, "case %zu: %s", i, ei.detail);
            CHECK(recs == json_object_get(env, "records"));
        } else {
            CHECK_MSG(e == LT_E_INVALID && strstr(ei.detail, cases[i].detail),
                      "case %zu: got %d '%s', want '%s'", i, e, ei.detail, cases[i].detail);
            CHECK(recs == NULL);
        }
        lt_errinfo_clear(&ei);
        json_decref(env);
    }
}

int main(void)
{
    LT_RUN(test_codelist);
    LT_RUN(test_envelope);
    return lt_test_done();
}
