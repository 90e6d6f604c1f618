/* The mapping engine: compile checks, per-field conversions, whole-payload errors, identity,
 * pre-decoded records, and (printed only) the mapping rate of a 100,000-record push. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ad_mapping.h"
#include "lt_buf.h"
#include "lt_json.h"
#include "lt_str.h"
#include "lt_test.h"

/* Collects what emit saw: mapped objects as they are, failures as "field: message". */
typedef struct sink {
    json_t *out;
    long calls, stop_at; /* stop_at < 0: never stop */
    int order_ok, raw_ok;
} sink;

static int collect(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                   const char *error)
{
    sink *s = ctx;
    s->order_ok &= index == s->calls;
    s->raw_ok &= raw != NULL;
    s->calls++;
    if (mapped) {
        json_array_append_new(s->out, mapped);
    } else {
        char buf[400];
        snprintf(buf, sizeof buf, "%s: %s", field ? field : "-", error ? error : "-");
        json_t *msg = json_string(buf); /* NULL if the message were not valid UTF-8 */
        json_array_append_new(s->out, msg ? msg : json_string("(invalid UTF-8 message)"));
    }
    return s->stop_at >= 0 && index >= s->stop_at;
}

static void sink_init(sink *s)
{
    memset(s, 0, sizeof *s);
    s->out = json_array();
    s->stop_at = -1;
    s->order_ok = s->raw_ok = 1;
}

static char *dump_sorted(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static ad_mapping *compile_text(const char *text, const char *format, lt_errinfo *ei)
{
    json_t *doc = lt_json_load(text, strlen(text), ei);
    ad_mapping *m = NULL;
    if (!doc)
        return NULL;
    lt_err e = ad_mapping_compile(doc, format, &m, ei);
    json_decref(doc); /* the compiled mapping must not depend on the document */
    return e == LT_OK ? m : NULL;
}

/* fields: the "fields" object; payload: a JSON array; want: what the sink holds. */
static void check_fields(const char *fields, const char *payload, const char *want)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"fields\": %s}", fields);
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(text, "json", &ei);
    CHECK_MSG(m != NULL, "%s: %s", fields, ei.detail);
    if (!m)
        return;
    sink s;
    sink_init(&s);
    lt_err e = ad_map_payload(m, "json", payload, strlen(payload), 0, collect, &s, &ei);
    CHECK_MSG(e == LT_OK, "%s: %s", payload, ei.detail);
    char *got = dump_sorted(s.out);
    CHECK_MSG(got && strcmp(got, want) == 0, "%s on %s:\n   got  %s\n   want %s", fields, payload,
              got, want);
    CHECK(s.order_ok && s.raw_ok);
    free(got);
    json_decref(s.out);
    ad_mapping_free(m);
    lt_errinfo_clear(&ei);
}

static void test_paths_const_default(void)
{
    static const char *const cases[][3] = {
        {"{\"a\": {\"path\": \"/x\"}}", "[{\"x\": 1}, {\"x\": \"s\"}, {}, {\"x\": [1]}]",
         "[{\"a\":1},{\"a\":\"s\"},{},{\"a\":[1]}]"},
        {"{\"a\": {\"path\": \"/x\", \"default\": \"d\"}}", "[{\"x\": null}, {}, {\"x\": 2}]",
         "[{\"a\":\"d\"},{\"a\":\"d\"},{\"a\":2}]"},
        {"{\"a\": {\"path\": \"/x\", \"default\": null}}", "[{}]", "[{\"a\":null}]"},
        /* the default is a target value: not mapped, not converted */
        {"{\"a\": {\"path\": \"/x\", \"map\": {\"1\": \"ok\"}, \"default\": \"no_data\"}}",
         "[{}, {\"x\": 1}]", "[{\"a\":\"no_data\"},{\"a\":\"ok\"}]"},
        {"{\"c\": {\"const\": {\"k\": [1]}}, \"n\": {\"const\": null}}", "[{}, 5]",
         "[{\"c\":{\"k\":[1]}},{\"c\":{\"k\":[1]}}]"},
        {"{\"c\": {\"const\": \"5\", \"type\": \"integer\"}}", "[{}]", "[{\"c\":5}]"},
        {"{\"a\": {\"path\": \"/x~1y/0\"}, \"b\": {\"path\": \"/m~0n/k\"}}",
         "[{\"x/y\": [5], \"m~n\": {\"k\": true}}]", "[{\"a\":5,\"b\":true}]"},
        {"{\"all\": {\"path\": \"\"}}", "[3, {\"z\": 1}]", "[{\"all\":3},{\"all\":{\"z\":1}}]"},
        {"{\"a\": {\"path\": \"/x\"}}", "[1, \"s\", null, []]", "[{},{},{},{}]"},
        {"{}", "[{\"x\": 1}]", "[{}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

static void test_map(void)
{
    static const char *const cases[][3] = {
        {"{\"area\": {\"path\": \"/t\", \"map\": {\"LS\": \"20\", \"1\": \"one\", \"true\": "
         "\"T\", \"1.5\": 15, \"0.1\": \"tenth\"}}}",
         "[{\"t\": \"LS\"}, {\"t\": 1}, {\"t\": true}, {\"t\": 1.5}, {\"t\": 0.1}, {\"t\": "
         "\"XX\"}, {\"t\": [1]}, {}]",
         "[{\"area\":\"20\"},{\"area\":\"one\"},{\"area\":\"T\"},{\"area\":15},"
         "{\"area\":\"tenth\"},\"area: no mapping for 'XX'\",\"area: no mapping for an "
         "array\",{}]"},
        {"{\"a\": {\"path\": \"/t\", \"map\": {\"-\": null, \"7\": \"7\"}, \"type\": "
         "\"integer\"}}",
         "[{\"t\": \"-\"}, {\"t\": 7}]", "[{\"a\":null},{\"a\":7}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

static void test_numbers(void)
{
    static const char *const cases[][3] = {
        {"{\"v\": {\"path\": \"/v\", \"type\": \"number\", \"decimal\": \",\"}}",
         "[{\"v\": \"4.736,5\"}, {\"v\": \"4736,0\"}, {\"v\": \"1 234,5\"}, {\"v\": \"12\"},"
         " {\"v\": \"1\\u00a0234,25\"}, {\"v\": \"-1.000.000\"}, {\"v\": 7}, {\"v\": 2.5}]",
         "[{\"v\":4736.5},{\"v\":4736.0},{\"v\":1234.5},{\"v\":12},{\"v\":1234.25},"
         "{\"v\":-1000000},{\"v\":7},{\"v\":2.5}]"},
        {"{\"v\": {\"path\": \"/v\", \"type\": \"number\", \"decimal\": \",\"}}",
         "[{\"v\": \"abc\"}, {\"v\": \"1,2,3\"}, {\"v\": true}, {\"v\": {}}, {\"v\": \"\"},"
         " {\"v\": \"1\\u00002\"}]",
         "[\"v: 'abc' is not a number\",\"v: '1,2,3' is not a number\",\"v: 'true' is not a "
         "number\",\"v: an object is not a number\",\"v: '' is not a number\",\"v: '1' is not "
         "a number\"]"},
        {"{\"v\": {\"path\": \"/v\", \"type\": \"number\"}}",
         "[{\"v\": \"1.234\"}, {\"v\": \" 42 \"}, {\"v\": \"1e3\"}, {\"v\": \"4,5\"},"
         " {\"v\": \"0x10\"}, {\"v\": \"nan\"}, {\"v\": \"inf\"}, {\"v\": \"1e999\"},"
         " {\"v\": \"4 2\"}]",
         "[{\"v\":1.234},{\"v\":42},{\"v\":1000.0},\"v: '4,5' is not a number\",\"v: '0x10' "
         "is not a number\",\"v: 'nan' is not a number\",\"v: 'inf' is not a number\",\"v: "
         "'1e999' is not a number\",\"v: '4 2' is not a number\"]"},
        {"{\"v\": {\"path\": \"/v\", \"type\": \"integer\"}}",
         "[{\"v\": \"42\"}, {\"v\": \"4.0\"}, {\"v\": 3.0}, {\"v\": \"-7\"}, {\"v\": \"1e3\"},"
         " {\"v\": \"9223372036854775807\"}, {\"v\": \"4.5\"}, {\"v\": 3.5}, {\"v\": 1e30},"
         " {\"v\": false}]",
         "[{\"v\":42},{\"v\":4},{\"v\":3},{\"v\":-7},{\"v\":1000},{\"v\":9223372036854775807},"
         "\"v: '4.5' is not an integer\",\"v: '3.5' is not an integer\",\"v: '1e+30' is not an "
         "integer\",\"v: 'false' is not an integer\"]"},
        {"{\"v\": {\"path\": \"/v\", \"type\": \"integer\", \"decimal\": \",\"}}",
         "[{\"v\": \"4.736\"}, {\"v\": \"4,5\"}]", "[{\"v\":4736},\"v: '4,5' is not an integer\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

static void test_boolean_string(void)
{
    static const char *const cases[][3] = {
        {"{\"b\": {\"path\": \"/b\", \"type\": \"boolean\"}}",
         "[{\"b\": \"true\"}, {\"b\": \"false\"}, {\"b\": \"1\"}, {\"b\": \"0\"}, {\"b\": 1},"
         " {\"b\": 0}, {\"b\": true}, {\"b\": \"TRUE\"}, {\"b\": \"yes\"}, {\"b\": 2}]",
         "[{\"b\":true},{\"b\":false},{\"b\":true},{\"b\":false},{\"b\":true},{\"b\":false},"
         "{\"b\":true},{\"b\":true},\"b: 'yes' is not a boolean\",\"b: '2' is not a "
         "boolean\"]"},
        {"{\"s\": {\"path\": \"/s\", \"type\": \"string\"}}",
         "[{\"s\": 42}, {\"s\": 1.5}, {\"s\": 0.1}, {\"s\": true}, {\"s\": \"x\"},"
         " {\"s\": 4736.0}, {\"s\": -9223372036854775808}, {\"s\": [1]}]",
         "[{\"s\":\"42\"},{\"s\":\"1.5\"},{\"s\":\"0.1\"},{\"s\":\"true\"},{\"s\":\"x\"},"
         "{\"s\":\"4736\"},{\"s\":\"-9223372036854775808\"},\"s: an array is not a string\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

static void test_scale(void)
{
    static const char *const cases[][3] = {
        {"{\"v\": {\"path\": \"/v\", \"type\": \"number\", \"scale\": 0.5}}",
         "[{\"v\": 3}, {\"v\": \"3\"}, {\"v\": 1.5}]", "[{\"v\":1.5},{\"v\":1.5},{\"v\":0.75}]"},
        {"{\"v\": {\"path\": \"/v\", \"scale\": 2, \"decimal\": \",\"}}",
         "[{\"v\": \"4,5\"}, {\"v\": \"1.000\"}]", "[{\"v\":9.0},{\"v\":2000}]"},
        {"{\"v\": {\"path\": \"/v\", \"scale\": 1}, \"w\": {\"path\": \"/v\", \"scale\": 1.0},"
         " \"k\": {\"path\": \"/v\", \"scale\": 1000}}",
         "[{\"v\": 5}, {\"v\": 2.5}]",
         "[{\"k\":5000,\"v\":5,\"w\":5},{\"k\":2500.0,\"v\":2.5,\"w\":2.5}]"},
        {"{\"v\": {\"path\": \"/v\", \"scale\": 10}}",
         "[{\"v\": 1e308}, {\"v\": 9223372036854775807}, {\"v\": \"x\"}]",
         "[\"v: '1e+308' is out of range once scaled\",{\"v\":9.2233720368547758e19},"
         "\"v: 'x' is not a number\"]"},
        {"{\"v\": {\"path\": \"/v\", \"type\": \"integer\", \"scale\": 0.5}}",
         "[{\"v\": 4}, {\"v\": 3}]", "[{\"v\":2},\"v: '1.5' is not an integer\"]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

static void test_period_format(void)
{
    static const char *const cases[][3] = {
        {"{\"period\": {\"path\": \"/k\", \"format\": \"MM/YYYY\"}}",
         "[{\"k\": \"10/2026\"}, {\"k\": \"13/2026\"}, {\"k\": 5}, {}]",
         "[{\"period\":\"2026-M10\"},\"period: '13/2026' does not match format MM/YYYY\","
         "\"period: '5' does not match format MM/YYYY\",{}]"},
        {"{\"p\": {\"path\": \"/k\", \"format\": \"YYYYMM\", \"type\": \"string\"}}",
         "[{\"k\": 202607}, {\"k\": \"202607\"}]", "[{\"p\":\"2026-M07\"},{\"p\":\"2026-M07\"}]"},
        {"{\"p\": {\"path\": \"/k\", \"format\": \"DD/MM/YYYY\"}}",
         "[{\"k\": \"15/07/2025\"}, {\"k\": \"30/02/2025\"}]",
         "[{\"p\":\"2025-07-15\"},\"p: '30/02/2025' does not match format DD/MM/YYYY\"]"},
        {"{\"p\": {\"path\": \"/k\", \"map\": {\"T10\": \"10/2026\"}, \"format\": \"MM/YYYY\"}}",
         "[{\"k\": \"T10\"}]", "[{\"p\":\"2026-M10\"}]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_fields(cases[i][0], cases[i][1], cases[i][2]);
}

/* Error text quotes at most 60 bytes and never splits a UTF-8 character. */
static void test_error_text(void)
{
    lt_buf payload, want;
    lt_buf_init(&payload, 0);
    lt_buf_init(&want, 0);
    lt_buf_puts(&payload, "[{\"v\": \"");
    lt_buf_puts(&want, "[\"v: '");
    for (int i = 0; i < 40; i++) {
        lt_buf_puts(&payload, "\xe1\xbb\x87"); /* ệ: 3 bytes, so 60 bytes hold 20 */
        if (i < 20)
            lt_buf_puts(&want, "\xe1\xbb\x87");
    }
    lt_buf_puts(&payload, "\"}]");
    lt_buf_puts(&want, "\xe2\x80\xa6' is not a number\"]");
    check_fields("{\"v\": {\"path\": \"/v\", \"type\": \"number\"}}", lt_buf_cstr(&payload),
                 lt_buf_cstr(&want));
    lt_buf_free(&payload);
    lt_buf_free(&want);
}

/* Mapping documents that must not compile, and two that must. */
static const struct compile_case {
    const char *mapping; /* NULL: no mapping */
    const char *format;
    lt_err code;
    const char *detail;
} compile_cases[] = {
    {"{\"records\": \"/x\", \"bogus\": 1}", "json", LT_E_INVALID, "mapping: unknown field 'bogus'"},
    {"[]", "json", LT_E_INVALID, "mapping: must be an object"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"const\": 1}}}", "json", LT_E_INVALID,
     "mapping.fields.a: exactly one of 'path' or 'const' is required"},
    {"{\"fields\": {\"a\": {}}}", "json", LT_E_INVALID,
     "mapping.fields.a: exactly one of 'path' or 'const' is required"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"paht\": 1}}}", "json", LT_E_INVALID,
     "mapping.fields.a: unknown field 'paht'"},
    {"{\"fields\": {\"a\": 5}}", "json", LT_E_INVALID, "mapping.fields.a: must be an object"},
    {"{\"fields\": []}", "json", LT_E_INVALID, "mapping.fields must be an object"},
    {"{\"fields\": {\"a\": {\"path\": 1}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'path' must be a string"},
    {"{\"fields\": {\"a\": {\"path\": \"x\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: a JSON Pointer starts with '/' (or is empty)"},
    {"{\"fields\": {\"a\": {\"path\": \"/~2\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: '~' must be followed by 0 or 1 in a JSON Pointer"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"map\": [1]}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'map' must be an object of source text to value"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"type\": \"float\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'type' must be string, integer, number or boolean"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"type\": \"\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'type' must be string, integer, number or boolean"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"scale\": \"2\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'scale' must be a number"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"scale\": 2, \"type\": \"string\"}}}", "json",
     LT_E_INVALID, "mapping.fields.a: 'scale' needs type number or integer"},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"decimal\": \";\"}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'decimal' must be \",\" or \".\""},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"format\": 5}}}", "json", LT_E_INVALID,
     "mapping.fields.a: 'format' must be a pattern such as \"MM/YYYY\""},
    {"{\"fields\": {\"a\": {\"path\": \"/x\", \"format\": \"YYYY\", \"type\": \"number\"}}}",
     "json", LT_E_INVALID,
     "mapping.fields.a: 'format' makes a period text: no 'scale', and 'type' can only be "
     "string"},
    {"{\"records\": 5}", "json", LT_E_INVALID, "mapping.records must be a string"},
    {"{\"records\": \"items\"}", "json", LT_E_INVALID,
     "mapping.records: a JSON Pointer starts with '/' (or is empty)"},
    {"{\"namespaces\": []}", "json", LT_E_INVALID, "mapping.namespaces must be an object"},
    {"{\"namespaces\": {\"ns\": 1}}", "json", LT_E_INVALID,
     "mapping.namespaces.ns must be a string (a URI)"},
    {"{\"delimiter\": \";;\"}", "json", LT_E_INVALID,
     "mapping.delimiter must be one character (such as \";\")"},
    {"{\"records\": \"//ns:KhoanThu\"}", "xml", LT_E_INVALID,
     "mapping.records: XPath '//ns:KhoanThu': Undefined namespace prefix (declare the prefix "
     "in mapping.namespaces)"},
    {"{}", "soap", LT_OK, ""},
    {"{\"delimiter\": \";\"}", "csv", LT_OK, ""},
    {NULL, "xml", LT_E_INVALID, "format 'xml' needs a mapping"},
    {"{}", "yaml", LT_E_INVALID, "unknown source format 'yaml'"},
    {"{}", NULL, LT_E_INVALID, "unknown source format ''"},
    {NULL, "json", LT_OK, ""},
    {"{\"records\": \"/items\", \"namespaces\": {\"ns\": \"urn:x\"}, \"delimiter\": \";\","
     " \"fields\": {\"a\": {\"path\": \"\", \"map\": {}, \"default\": 1, \"decimal\": \",\","
     " \"type\": \"number\", \"scale\": 2}, \"b\": {\"const\": [1]}}}",
     "json", LT_OK, ""},
};

static void test_compile_errors(void)
{
    const struct compile_case *cases = compile_cases;
    for (size_t i = 0; i < sizeof compile_cases / sizeof compile_cases[0]; i++) {
        lt_errinfo ei = {0};
        json_t *doc = NULL;
        if (cases[i].mapping)
            doc = lt_json_load(cases[i].mapping, strlen(cases[i].mapping), &ei);
        ad_mapping *m = (ad_mapping *)&ei; /* must be reset to NULL on failure */
        lt_err e = ad_mapping_compile(doc, cases[i].format, &m, &ei);
        CHECK_MSG(e == cases[i].code, "case %zu: %d %s", i, e, ei.detail);
        CHECK_STR(ei.detail, cases[i].detail);
        if (e != LT_OK || !cases[i].mapping)
            CHECK(m == NULL);
        else
            CHECK(m != NULL);
        ad_mapping_free(m);
        json_decref(doc);
    }
    ad_mapping_free(NULL);
}

/* Editing one output record must not change the compiled mapping or the next record. */
static int edit_and_collect(void *ctx, long index, json_t *mapped, const json_t *raw,
                            const char *field, const char *error)
{
    json_t *c = json_object_get(mapped, "c");
    json_object_set_new(c, "edited", json_true());
    json_array_append_new(json_object_get(mapped, "d"), json_integer(9));
    return collect(ctx, index, mapped, raw, field, error);
}

static void test_shared_values(void)
{
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text("{\"fields\": {\"c\": {\"const\": {\"k\": 1}}, \"d\": "
                                 "{\"path\": \"/x\", \"default\": []}}}",
                                 "json", &ei);
    sink s;
    sink_init(&s);
    CHECK(m && ad_map_payload(m, "json", "[{}, {}]", 8, 0, edit_and_collect, &s, &ei) == LT_OK);
    char *got = dump_sorted(s.out);
    CHECK_STR(got, "[{\"c\":{\"edited\":true,\"k\":1},\"d\":[9]},"
                   "{\"c\":{\"edited\":true,\"k\":1},\"d\":[9]}]");
    free(got);
    json_decref(s.out);
    ad_mapping_free(m);
}

static void check_payload(const char *mapping, const char *format, const char *body, size_t max,
                          lt_err code, const char *detail, long emits)
{
    lt_errinfo ei = {0};
    ad_mapping *m = mapping ? compile_text(mapping, "json", &ei) : NULL;
    CHECK_MSG(!mapping || m, "%s: %s", mapping, ei.detail);
    sink s;
    sink_init(&s);
    lt_err e = ad_map_payload(m, format, body, strlen(body), max, collect, &s, &ei);
    CHECK_MSG(e == code, "%s: got %d want %d (%s)", body, e, code, ei.detail);
    if (detail)
        CHECK_STR(ei.detail, detail);
    CHECK_MSG(s.calls == emits, "%s: %ld emits", body, s.calls);
    json_decref(s.out);
    ad_mapping_free(m);
}

static void test_payload_errors(void)
{
    static const char *const items = "{\"records\": \"/items\", \"fields\": {}}";
    check_payload(NULL, "json", "[{\"a\": 1", 0, LT_E_BAD_JSON, NULL, 0);
    check_payload(NULL, "json", "[\"\xc3\x28\"]", 0, LT_E_BAD_UTF8, NULL, 0);
    check_payload(NULL, "json", "", 0, LT_E_BAD_JSON, NULL, 0);
    check_payload(NULL, "json", "{\"a\": 1}", 0, LT_E_INVALID,
                  "the payload is not a JSON array of records", 0);
    check_payload(items, "json", "{\"items\": {}}", 0, LT_E_INVALID,
                  "mapping.records '/items' does not select an array", 0);
    check_payload(items, "json", "{}", 0, LT_E_INVALID,
                  "mapping.records '/items' does not select an array", 0);
    check_payload(items, "json", "[[1]]", 0, LT_E_INVALID, NULL, 0);
    check_payload("{\"records\": \"\"}", "json", "{}", 0, LT_E_INVALID,
                  "mapping.records '' does not select an array", 0);
    check_payload("{\"records\": \"/a/0/b\"}", "json", "{\"a\": [{\"b\": [1, 2]}]}", 0, LT_OK, NULL,
                  2);
    check_payload(items, "json", "{\"items\": [1, 2, 3]}", 2, LT_E_TOO_LARGE,
                  "3 records, more than the limit of 2", 0);
    check_payload(items, "json", "{\"items\": [1, 2, 3]}", 3, LT_OK, NULL, 3);
    check_payload(NULL, "json", "[1, 2, 3]", 0, LT_OK, NULL, 3);
    check_payload(NULL, "json", "[]", 0, LT_OK, NULL, 0);
    check_payload(items, "json", "{\"items\": []}", 1, LT_OK, NULL, 0);
    check_payload(NULL, "xml", "<a/>", 0, LT_E_INTERNAL,
                  "the mapping was not compiled for format 'xml'", 0);
    check_payload(NULL, "csv", "a;b\n", 0, LT_E_INTERNAL,
                  "the mapping was not compiled for format 'csv'", 0);
    check_payload(NULL, "yaml", "[]", 0, LT_E_MEDIA_TYPE, NULL, 0);
    check_payload(NULL, NULL, "[]", 0, LT_E_MEDIA_TYPE, NULL, 0);
}

static int check_identity(void *ctx, long index, json_t *mapped, const json_t *raw,
                          const char *field, const char *error)
{
    int *same = ctx;
    *same &= mapped == raw && !field && !error && index >= 0;
    json_decref(mapped);
    return 0;
}

static void test_identity_and_stop(void)
{
    static const char body[] = "[{\"a\": 1}, 2, \"x\", null]";
    lt_errinfo ei = {0};
    int same = 1;
    CHECK(ad_map_payload(NULL, "json", body, strlen(body), 0, check_identity, &same, &ei) == LT_OK);
    CHECK(same);
    /* A mapping without "fields" passes the selected records through. */
    ad_mapping *m = compile_text("{\"records\": \"/r\"}", "json", &ei);
    static const char wrapped[] = "{\"r\": [{\"a\": 1}, [2]]}";
    sink s;
    sink_init(&s);
    CHECK(m && ad_map_payload(m, "json", wrapped, strlen(wrapped), 0, collect, &s, &ei) == LT_OK);
    char *got = dump_sorted(s.out);
    CHECK_STR(got, "[{\"a\":1},[2]]");
    free(got);
    json_decref(s.out);
    ad_mapping_free(m);
    /* A non-zero return from emit stops the run; the result is still LT_OK. */
    sink_init(&s);
    s.stop_at = 1;
    CHECK(ad_map_payload(NULL, "json", body, strlen(body), 0, collect, &s, &ei) == LT_OK);
    CHECK(s.calls == 2);
    json_decref(s.out);
}

static void test_map_records(void)
{
    lt_errinfo ei = {0};
    json_t *recs = json_pack("[{s:s}, {s:s}, {}]", "t", "LS", "t", "HN");
    ad_mapping *m = compile_text("{\"records\": \"/ignored\", \"fields\": {\"area\": "
                                 "{\"path\": \"/t\", \"map\": {\"LS\": \"20\"}}}}",
                                 "json", &ei);
    sink s;
    sink_init(&s);
    CHECK(m && ad_map_records(m, recs, 0, collect, &s, &ei) == LT_OK);
    char *got = dump_sorted(s.out);
    CHECK_STR(got, "[{\"area\":\"20\"},\"area: no mapping for 'HN'\",{}]");
    free(got);
    json_decref(s.out);
    sink_init(&s);
    CHECK(ad_map_records(NULL, recs, 0, collect, &s, &ei) == LT_OK && s.calls == 3);
    CHECK(json_array_get(s.out, 0) == json_array_get(recs, 0));
    json_decref(s.out);
    sink_init(&s);
    CHECK(ad_map_records(NULL, recs, 2, collect, &s, &ei) == LT_E_TOO_LARGE && s.calls == 0);
    json_t *obj = json_object();
    CHECK(ad_map_records(m, obj, 0, collect, &s, &ei) == LT_E_INVALID && s.calls == 0);
    json_decref(obj);
    json_decref(s.out);
    json_decref(recs);
    ad_mapping_free(m);
    lt_errinfo_clear(&ei);
}

/* The service definition of API.md §5, in its JSON form. */
static void test_service_example(void)
{
    static const char mapping[] =
        "{\"records\": \"/data/KhoanThu\", \"fields\": {"
        "\"indicator\": {\"const\": \"THU_NSNN\"},"
        "\"area\": {\"path\": \"/MaDonVi\", \"map\": {\"LS\": \"20\"}},"
        "\"period\": {\"path\": \"/Ky\", \"format\": \"MM/YYYY\"},"
        "\"value\": {\"path\": \"/SoTien\", \"type\": \"number\", \"scale\": 0.000000001},"
        "\"unit\": {\"const\": \"nghìn tỷ đồng\"}}}";
    static const char body[] = "{\"data\": {\"KhoanThu\": [{\"MaDonVi\": \"LS\", \"Ky\": "
                               "\"10/2026\", \"SoTien\": \"1234000000\"}]}}";
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(mapping, "json", &ei);
    sink s;
    sink_init(&s);
    CHECK(m && ad_map_payload(m, "json", body, strlen(body), 10, collect, &s, &ei) == LT_OK);
    json_t *r = json_array_get(s.out, 0);
    CHECK_STR(json_string_value(json_object_get(r, "indicator")), "THU_NSNN");
    CHECK_STR(json_string_value(json_object_get(r, "area")), "20");
    CHECK_STR(json_string_value(json_object_get(r, "period")), "2026-M10");
    CHECK(fabs(json_real_value(json_object_get(r, "value")) - 1.234) < 1e-12);
    CHECK_STR(json_string_value(json_object_get(r, "unit")), "nghìn tỷ đồng");
    /* Output keys follow the mapping's field order. */
    const char *first = json_object_iter_key(json_object_iter(r));
    CHECK_STR(first, "indicator");
    json_decref(s.out);
    ad_mapping_free(m);
}

static int count_only(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                      const char *error)
{
    (void)index, (void)raw, (void)field, (void)error;
    long *n = ctx;
    *n += mapped != NULL;
    json_decref(mapped);
    return 0;
}

/* Printed only: the mapping rate of a 100,000-record push (sanitizer builds are slower). */
static void test_rate(void)
{
    enum { N = 100000 };
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, "{\"items\": [");
    for (int i = 0; i < N; i++)
        lt_buf_printf(&b,
                      "%s{\"tinh\": \"%s\", \"ky\": \"%02d/2026\", \"so_tien\": \"%d.%03d,%d\","
                      " \"ghi_chu\": \"thu ngân sách\"}",
                      i ? "," : "", i % 2 ? "LS" : "HN", i % 12 + 1, i % 1000, i % 997, i % 10);
    lt_buf_puts(&b, "]}");
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(
        "{\"records\": \"/items\", \"fields\": {\"indicator\": {\"const\": \"THU_NSNN\"},"
        " \"area\": {\"path\": \"/tinh\", \"map\": {\"LS\": \"20\", \"HN\": \"01\"}},"
        " \"period\": {\"path\": \"/ky\", \"format\": \"MM/YYYY\"},"
        " \"value\": {\"path\": \"/so_tien\", \"type\": \"number\", \"decimal\": \",\","
        " \"scale\": 0.001}, \"note\": {\"path\": \"/ghi_chu\"}}}",
        "json", &ei);
    long mapped = 0;
    int64_t t0 = lt_mono_us();
    lt_err e = ad_map_payload(m, "json", lt_buf_cstr(&b), b.len, N, count_only, &mapped, &ei);
    int64_t us = lt_mono_us() - t0;
    CHECK_MSG(e == LT_OK && mapped == N, "%s, %ld mapped", ei.detail, mapped);
    printf("info: %d records (%zu bytes) parsed and mapped in %.1f ms: %.0f records/s\n", N, b.len,
           us / 1000.0, us > 0 ? N * 1e6 / (double)us : 0.0);
    /* The engine alone, on records decoded beforehand. */
    json_t *doc = lt_json_load(lt_buf_cstr(&b), b.len, &ei);
    mapped = 0;
    t0 = lt_mono_us();
    e = ad_map_records(m, json_object_get(doc, "items"), N, count_only, &mapped, &ei);
    us = lt_mono_us() - t0;
    CHECK(e == LT_OK && mapped == N);
    printf("info: mapping alone: %.1f ms: %.0f records/s\n", us / 1000.0,
           us > 0 ? N * 1e6 / (double)us : 0.0);
    json_decref(doc);
    ad_mapping_free(m);
    lt_buf_free(&b);
}

int main(void)
{
    LT_RUN(test_paths_const_default);
    LT_RUN(test_map);
    LT_RUN(test_numbers);
    LT_RUN(test_boolean_string);
    LT_RUN(test_scale);
    LT_RUN(test_period_format);
    LT_RUN(test_error_text);
    LT_RUN(test_compile_errors);
    LT_RUN(test_shared_values);
    LT_RUN(test_payload_errors);
    LT_RUN(test_identity_and_stop);
    LT_RUN(test_map_records);
    LT_RUN(test_service_example);
    LT_RUN(test_rate);
    return lt_test_done();
}
