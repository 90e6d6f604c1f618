/* Tests for ct_validate (checks, messages, normalization) and ct_record_key. */
#include <stdlib.h>
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"
#include "lt_test.h"

static const char *const contract_text =
    "{\"id\": \"obs\", \"version\": 2, \"title\": \"Observation\","
    " \"key\": [\"indicator\", \"area\", \"period\"],"
    " \"fields\": ["
    "  {\"name\": \"indicator\", \"type\": \"code\", \"codelist\": \"indicators\", \"required\": "
    "true},"
    "  {\"name\": \"area\", \"type\": \"code\", \"codelist\": \"areas\", \"required\": true},"
    "  {\"name\": \"period\", \"type\": \"period\", \"required\": true},"
    "  {\"name\": \"value\", \"type\": \"number\", \"nullable\": true, \"min\": 0},"
    "  {\"name\": \"count\", \"type\": \"integer\", \"min\": 0, \"max\": 1000},"
    "  {\"name\": \"status\", \"type\": \"enum\", \"values\": [\"ok\", \"unknown\", \"no_data\", "
    "\"restricted\"]},"
    "  {\"name\": \"unit\", \"type\": \"string\", \"max_length\": 5},"
    "  {\"name\": \"ref\", \"type\": \"string\", \"pattern\": \"[A-Z]{2}-[0-9]+\"},"
    "  {\"name\": \"final\", \"type\": \"boolean\"},"
    "  {\"name\": \"day\", \"type\": \"date\"},"
    "  {\"name\": \"at\", \"type\": \"datetime\"},"
    "  {\"name\": \"reporter\", \"type\": \"string\", \"max_length\": 8, \"personal\": true,"
    "   \"pattern\": \"[a-z ]+\"},"
    "  {\"name\": \"pid\", \"type\": \"period\", \"personal\": true}"
    " ]}";

/* Code lists of the test: areas are "20" and "21"; indicators start with 'T'. */
static bool codes(void *ctx, const char *list, const char *code)
{
    int *calls = ctx;
    (*calls)++;
    if (strcmp(list, "areas") == 0)
        return strcmp(code, "20") == 0 || strcmp(code, "21") == 0;
    return strcmp(list, "indicators") == 0 && code[0] == 'T';
}

static json_t *load(const char *text)
{
    lt_errinfo ei = {0};
    json_t *j = lt_json_load(text, strlen(text), &ei);
    CHECK_MSG(j != NULL, "bad test JSON '%s': %s", text, ei.detail);
    lt_errinfo_clear(&ei);
    return j;
}

static ct_contract *compile(void)
{
    json_t *def = load(contract_text);
    ct_contract *c = NULL;
    lt_errinfo ei = {0};
    CHECK_MSG(ct_contract_parse(def, &c, &ei) == LT_OK, "%s", ei.detail);
    lt_errinfo_clear(&ei);
    json_decref(def);
    return c;
}

#define BASE "\"indicator\": \"T0501\", \"area\": \"20\", \"period\": \"2025-07\""

static void test_valid(void)
{
    static const struct {
        const char *rec, *want; /* want: canonical JSON of the normalized record */
    } cases[] = {
        {"{" BASE "}", "{\"area\":\"20\",\"indicator\":\"T0501\",\"period\":\"2025-M07\"}"},
        {"{" BASE ", \"value\": null, \"count\": 3.0, \"status\": \"no_data\"}",
         "{\"area\":\"20\",\"count\":3,\"indicator\":\"T0501\",\"period\":\"2025-M07\","
         "\"status\":\"no_data\",\"value\":null}"},
        {"{\"indicator\": \"T1\", \"area\": 21, \"period\": \"2025-Q3\", \"value\": 1.5,"
         " \"unit\": \"tỷ đồ\", \"ref\": \"AB-12\", \"final\": false, \"day\": \"2024-02-29\","
         " \"at\": \"2026-11-22T05:00:00+07:00\", \"reporter\": \"an ngu\", \"pid\": \"2025\"}",
         "{\"area\":\"21\",\"at\":\"2026-11-22T05:00:00+07:00\",\"day\":\"2024-02-29\","
         "\"final\":false,\"indicator\":\"T1\",\"period\":\"2025-Q3\",\"pid\":\"2025\","
         "\"ref\":\"AB-12\",\"reporter\":\"an ngu\",\"unit\":\"tỷ đồ\",\"value\":1.5}"},
        {"{" BASE ", \"count\": 1000, \"value\": 0}",
         "{\"area\":\"20\",\"count\":1000,\"indicator\":\"T0501\",\"period\":\"2025-M07\","
         "\"value\":0}"},
    };
    ct_contract *c = compile();
    for (size_t i = 0; c && i < sizeof cases / sizeof cases[0]; i++) {
        json_t *rec = load(cases[i].rec), *out = NULL;
        lt_errinfo ei = {0};
        int calls = 0;
        lt_err e = ct_validate(c, rec, (long)i, codes, &calls, &out, &ei);
        CHECK_MSG(e == LT_OK && out, "case %zu: %s", i,
                  ei.errors ? json_dumps(ei.errors, 0) : ei.detail);
        CHECK(calls == 2);
        if (out) {
            char *got = lt_json_canonical(out, NULL);
            CHECK_STR(got, cases[i].want);
            free(got);
        }
        json_decref(out);
        json_decref(rec);
        lt_errinfo_clear(&ei);
    }
    ct_contract_free(c);
}

/* Unchanged values are shared with the input, not copied. */
static void test_shared_values(void)
{
    ct_contract *c = compile();
    json_t *rec = load("{" BASE ", \"unit\": \"kg\"}"), *out = NULL;
    int calls = 0;
    CHECK(c && ct_validate(c, rec, 0, codes, &calls, &out, NULL) == LT_OK);
    if (out) {
        CHECK(json_object_get(out, "unit") == json_object_get(rec, "unit"));
        CHECK(json_object_get(out, "period") != json_object_get(rec, "period"));
    }
    json_decref(out);
    json_decref(rec);
    ct_contract_free(c);
}

static const struct {
    const char *rec, *field, *message;
} error_cases[] = {
    {"{\"indicator\": \"T1\", \"area\": \"20\"}", "period", "required field is missing"},
    {"{" BASE ", \"foo\": 1}", "foo", "unknown field 'foo'"},
    {"{\"indicator\": \"T1\", \"area\": \"20\", \"period\": \"2025-13\"}", "period",
     "'2025-13' is not a period"},
    {"{\"indicator\": \"T1\", \"area\": \"99\", \"period\": \"2025\"}", "area",
     "'99' is not in code list 'areas'"},
    {"{\"indicator\": \"T1\", \"area\": 99, \"period\": \"2025\"}", "area",
     "'99' is not in code list 'areas'"},
    {"{\"indicator\": \"T1\", \"area\": \"\", \"period\": \"2025\"}", "area",
     "'' is not in code list 'areas'"},
    {"{\"indicator\": \"T1\", \"area\": true, \"period\": \"2025\"}", "area",
     "must be a code (a string)"},
    {"{" BASE ", \"status\": \"x\"}", "status",
     "'x' is not one of ok, unknown, no_data, restricted"},
    {"{" BASE ", \"status\": 3}", "status", "must be one of ok, unknown, no_data, restricted"},
    {"{" BASE ", \"value\": \"1.5\"}", "value", "must be a number"},
    {"{" BASE ", \"value\": -1}", "value", "'-1' is below min 0"},
    {"{" BASE ", \"count\": 1001}", "count", "'1001' is above max 1000"},
    {"{" BASE ", \"count\": 1.5}", "count", "'1.5' is not an integer"},
    {"{" BASE ", \"count\": 1e300}", "count", "'1e+300' is not an integer"},
    {"{" BASE ", \"count\": \"3\"}", "count", "must be an integer"},
    {"{" BASE ", \"count\": null}", "count", "must not be null"},
    {"{" BASE ", \"unit\": \"abcdef\"}", "unit", "'abcdef' exceeds max_length 5"},
    {"{" BASE ", \"unit\": 5}", "unit", "must be a string"},
    {"{" BASE ", \"ref\": \"AB-12x\"}", "ref", "'AB-12x' does not match pattern '[A-Z]{2}-[0-9]+'"},
    {"{" BASE ", \"ref\": \"AB-1\\u0000\"}", "ref",
     "'AB-1' does not match pattern '[A-Z]{2}-[0-9]+'"},
    {"{" BASE ", \"final\": 1}", "final", "must be a boolean"},
    {"{" BASE ", \"day\": \"2025-02-30\"}", "day", "'2025-02-30' is not a date (YYYY-MM-DD)"},
    {"{" BASE ", \"at\": \"2025-02-03 10:00\"}", "at",
     "'2025-02-03 10:00' is not an RFC 3339 date-time"},
    {"{" BASE ", \"reporter\": \"nguyen van an\"}", "reporter", "invalid value (personal field)"},
    {"{" BASE ", \"reporter\": \"AN\"}", "reporter", "invalid value (personal field)"},
    {"{" BASE ", \"pid\": \"2025-13\"}", "pid", "invalid value (personal field)"},
    {"{" BASE ", \"reporter\": 7}", "reporter", "must be a string"},
    {"{\"indicator\": \"T~1\", \"area\": \"20\", \"period\": \"2025\"}", "indicator",
     "'T~1' must not contain '~' or control characters (key field)"},
    {"{\"indicator\": \"T\\n1\", \"area\": \"20\", \"period\": \"2025\"}", "indicator",
     "'T\n1' must not contain '~' or control characters (key field)"},
    {"[1, 2]", NULL, "record must be an object"},
};

static void test_errors(void)
{
    ct_contract *c = compile();
    for (size_t i = 0; c && i < sizeof error_cases / sizeof error_cases[0]; i++) {
        json_t *rec = load(error_cases[i].rec), *out = (json_t *)1;
        lt_errinfo ei = {0};
        int calls = 0;
        lt_err e = ct_validate(c, rec, 40 + (long)i, codes, &calls, &out, &ei);
        CHECK_MSG(e == LT_E_VALIDATION && out == NULL, "case %zu accepted", i);
        CHECK_MSG(json_array_size(ei.errors) == 1, "case %zu: %zu errors", i,
                  json_array_size(ei.errors));
        json_t *err = json_array_get(ei.errors, 0);
        const char *msg = lt_json_str(err, "message"), *field = lt_json_str(err, "field");
        CHECK_STR(msg, error_cases[i].message);
        if (error_cases[i].field)
            CHECK_STR(field, error_cases[i].field);
        else
            CHECK(field == NULL);
        CHECK(json_integer_value(json_object_get(err, "record")) == 40 + (long)i);
        json_decref(rec);
        lt_errinfo_clear(&ei);
    }
    ct_contract_free(c);
}

/* All problems of a record are reported, not only the first; personal values never leak. */
static void test_many_errors(void)
{
    ct_contract *c = compile();
    json_t *rec =
        load("{\"area\": \"99\", \"period\": \"x\", \"bar\": 1, \"reporter\": \"SECRET\"}");
    json_t *out = NULL;
    lt_errinfo ei = {0};
    int calls = 0;
    CHECK(c && ct_validate(c, rec, 3, codes, &calls, &out, &ei) == LT_E_VALIDATION);
    CHECK(json_array_size(ei.errors) == 5);
    char *dump = json_dumps(ei.errors, 0);
    CHECK(dump && !strstr(dump, "SECRET"));
    free(dump);
    lt_errinfo_clear(&ei);
    /* no errinfo: still fails cleanly */
    CHECK(c && ct_validate(c, rec, 3, codes, &calls, &out, NULL) == LT_E_VALIDATION && !out);
    json_decref(rec);
    ct_contract_free(c);
}

/* Without a code callback, code membership is not checked (shape checks still apply). */
static void test_no_code_fn(void)
{
    ct_contract *c = compile();
    json_t *rec = load("{\"indicator\": \"X\", \"area\": \"99\", \"period\": \"2025\"}"),
           *out = NULL;
    CHECK(c && ct_validate(c, rec, 0, NULL, NULL, &out, NULL) == LT_OK && out);
    json_decref(out);
    json_decref(rec);
    ct_contract_free(c);
}

static void test_long_value_quoted_safely(void)
{
    ct_contract *c = compile();
    char text[1200];
    char big[1000];
    for (size_t i = 0; i < sizeof big - 1; i += 3)
        memcpy(big + i, "\xe1\xbb\x87", 3); /* "ệ", three bytes each */
    big[sizeof big - 1] = '\0';
    snprintf(text, sizeof text, "{" BASE ", \"unit\": \"%s\"}", big);
    json_t *rec = load(text), *out = NULL;
    lt_errinfo ei = {0};
    int calls = 0;
    CHECK(c && ct_validate(c, rec, 0, codes, &calls, &out, &ei) == LT_E_VALIDATION);
    const char *msg = lt_json_str(json_array_get(ei.errors, 0), "message");
    CHECK(msg && strstr(msg, "...' exceeds max_length 5") && strlen(msg) < 200);
    lt_errinfo_clear(&ei);
    json_decref(rec);
    ct_contract_free(c);
}

static void test_record_key(void)
{
    json_t *def = load("{\"id\": \"k\", \"version\": 1, \"title\": \"K\","
                       " \"key\": [\"s\", \"i\", \"n\", \"b\", \"p\"], \"fields\": ["
                       " {\"name\": \"s\", \"type\": \"string\", \"required\": true},"
                       " {\"name\": \"i\", \"type\": \"integer\", \"required\": true},"
                       " {\"name\": \"n\", \"type\": \"number\", \"required\": true},"
                       " {\"name\": \"b\", \"type\": \"boolean\", \"required\": true},"
                       " {\"name\": \"p\", \"type\": \"period\", \"required\": true}]}");
    ct_contract *c = NULL;
    CHECK(ct_contract_parse(def, &c, NULL) == LT_OK);
    json_decref(def);
    if (!c)
        return;
    json_t *rec = load("{\"s\": \"ab\", \"i\": -42, \"n\": 0.1, \"b\": true, \"p\": \"2025-M07\"}");
    char key[64];
    CHECK(ct_record_key(c, rec, key, sizeof key) == 0);
    const char *got = key;
    CHECK_STR(got, "ab~-42~0.10000000000000001~true~2025-M07");
    size_t full = strlen(key);
    CHECK(ct_record_key(c, rec, key, full + 1) == 0);
    CHECK(ct_record_key(c, rec, key, full) == -1);
    CHECK(ct_record_key(c, rec, key, 1) == -1);
    CHECK(ct_record_key(c, rec, key, 0) == -1);
    json_object_del(rec, "b");
    CHECK(ct_record_key(c, rec, key, sizeof key) == -1);
    json_decref(rec);
    /* a valid record whose key cannot be stored is rejected by ct_validate */
    char text[600], lng[400];
    memset(lng, 'a', sizeof lng - 1);
    lng[sizeof lng - 1] = '\0';
    snprintf(text, sizeof text,
             "{\"s\": \"%s\", \"i\": 1, \"n\": 2, \"b\": false, \"p\": \"2025\"}", lng);
    rec = load(text);
    json_t *out = NULL;
    lt_errinfo ei = {0};
    CHECK(ct_validate(c, rec, 0, NULL, NULL, &out, &ei) == LT_E_VALIDATION);
    CHECK(strstr(lt_json_str(json_array_get(ei.errors, 0), "message"), "record key is longer"));
    lt_errinfo_clear(&ei);
    json_decref(rec);
    ct_contract_free(c);
}

int main(void)
{
    LT_RUN(test_valid);
    LT_RUN(test_shared_values);
    LT_RUN(test_errors);
    LT_RUN(test_many_errors);
    LT_RUN(test_no_code_fn);
    LT_RUN(test_long_value_quoted_safely);
    LT_RUN(test_record_key);
    return lt_test_done();
}
