/* The csv decoder through the mapping engine: delimiters (given and sniffed), BOM, CRLF,
 * quoting, decimal commas, malformed rows as record errors, whole-payload errors, the
 * quarantine round trip (ad_map_raw) and (printed only) the mapping rate of a large file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_mapping.h"
#include "lt_buf.h"
#include "lt_json.h"
#include "lt_str.h"
#include "lt_test.h"

/* What emit saw: mapped objects as they are, failures as "field: message"; raws apart. */
typedef struct sink {
    json_t *out, *raws;
    long calls;
    int order_ok;
} sink;

static int collect(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                   const char *error)
{
    sink *s = ctx;
    s->order_ok &= index == s->calls && raw != NULL;
    s->calls++;
    json_array_append(s->raws, (json_t *)raw);
    if (mapped) {
        json_array_append_new(s->out, mapped);
    } else {
        char buf[400];
        snprintf(buf, sizeof buf, "%s: %s", field ? field : "-", error ? error : "-");
        json_t *msg = json_string(buf);
        json_array_append_new(s->out, msg ? msg : json_string("(invalid UTF-8 message)"));
    }
    return 0;
}

static void sink_init(sink *s)
{
    memset(s, 0, sizeof *s);
    s->out = json_array();
    s->raws = json_array();
    s->order_ok = 1;
}

static void sink_free(sink *s)
{
    json_decref(s->out);
    json_decref(s->raws);
}

static char *dump(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static ad_mapping *compile_text(const char *text, lt_errinfo *ei)
{
    json_t *doc = lt_json_load(text, strlen(text), ei);
    ad_mapping *m = NULL;
    if (doc && ad_mapping_compile(doc, "csv", &m, ei) != LT_OK)
        m = NULL;
    json_decref(doc);
    return m;
}

#define AB "{\"fields\": {\"a\": {\"path\": \"a\"}, \"b\": {\"path\": \"b\"}}}"
#define AB_SEMI                                                                                    \
    "{\"delimiter\": \";\", \"fields\": {\"a\": {\"path\": \"a\"}, \"b\": {\"path\": \"b\"}}}"

typedef struct payload_case {
    const char *name, *mapping, *body;
    size_t len; /* 0: strlen(body) */
    lt_err code;
    const char *want; /* sorted dump of what was emitted, or the error detail */
} payload_case;

static const payload_case cases[] = {
    {"comma", AB, "a,b\nx,1\ny,2\n", 0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},{\"a\":\"y\",\"b\":\"2\"}]"},
    {"semicolon sniffed", AB, "a;b\nx,5;1\n", 0, LT_OK, "[{\"a\":\"x,5\",\"b\":\"1\"}]"},
    {"comma wins a tie", AB, "a,b;c\nx,y;z\n", 0, LT_E_INVALID,
     "mapping.fields.b.path: no column 'b' in the CSV header"},
    {"semicolon given", AB_SEMI, "a;b\nx;1", 0, LT_OK, "[{\"a\":\"x\",\"b\":\"1\"}]"},
    {"tab given", "{\"delimiter\": \"\\t\", \"fields\": {\"a\": {\"path\": \"a\"}}}",
     "a\tb\nx y\t1\n", 0, LT_OK, "[{\"a\":\"x y\"}]"},
    {"pipe given", "{\"delimiter\": \"|\", \"fields\": {\"b\": {\"path\": \"b\"}}}", "a|b\n1|2\n",
     0, LT_OK, "[{\"b\":\"2\"}]"},
    {"BOM", AB,
     "\xEF\xBB\xBF"
     "a;b\r\nx;1\r\n",
     0, LT_OK, "[{\"a\":\"x\",\"b\":\"1\"}]"},
    {"CRLF and CR", AB, "a,b\r\nx,1\r\ny,2\rz,3", 0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},{\"a\":\"y\",\"b\":\"2\"},{\"a\":\"z\",\"b\":\"3\"}]"},
    {"header trimmed, path trimmed", "{\"fields\": {\"a\": {\"path\": \" Mã \"}}}",
     " Mã ;\"b\"\nx;1\n", 0, LT_OK, "[{\"a\":\"x\"}]"},
    {"quoted delimiter, newline, escapes", AB,
     "a,b\n\"x,y\",\"he said \"\"hi\"\"\"\n\"multi\r\nline\",\"\"\"\"\n", 0, LT_OK,
     "[{\"a\":\"x,y\",\"b\":\"he said \\\"hi\\\"\"},{\"a\":\"multi\\r\\nline\",\"b\":\"\\\"\"}]"},
    {"text after a closing quote", AB, "a,b\n\"x\"y z,\"\"\"q\"r\n", 0, LT_OK,
     "[{\"a\":\"xy z\",\"b\":\"\\\"qr\"}]"},
    {"quote inside an unquoted cell", AB, "a,b\nx\"y,2\n", 0, LT_OK,
     "[{\"a\":\"x\\\"y\",\"b\":\"2\"}]"},
    {"quoted header with escapes", "{\"fields\": {\"a\": {\"path\": \"say \\\"x\\\"\"}}}",
     "\"say \"\"x\"\"\",b\n1,2\n", 0, LT_OK, "[{\"a\":\"1\"}]"},
    {"empty cell: default applies",
     "{\"fields\": {\"a\": {\"path\": \"a\", \"default\": \"none\"}, \"b\": {\"path\": \"b\"}}}",
     "a;b\n;1\n\"\";2\n", 0, LT_OK, "[{\"a\":\"none\",\"b\":\"1\"},{\"a\":\"none\",\"b\":\"2\"}]"},
    {"blank lines and blank rows skipped", AB, "\n\na;b\n\nx;1\n;\n\r\n\ny;2\n\n\n", 0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},{\"a\":\"y\",\"b\":\"2\"}]"},
    {"trailing delimiter makes an empty cell", AB, "a;b\nx;\n", 0, LT_OK, "[{\"a\":\"x\"}]"},
    {"decimal comma numbers",
     "{\"delimiter\": \";\", \"fields\": {\"v\": {\"path\": \"v\", \"type\": \"number\", "
     "\"decimal\": \",\"}}}",
     "k;v\n1;1.234,5\n2;4736,0\n3;-12\n4;abc\n", 0, LT_OK,
     "[{\"v\":1234.5},{\"v\":4736.0},{\"v\":-12},\"v: 'abc' is not a number\"]"},
    {"short and long rows are record errors", AB, "a;b;c\nx;1;p\ny;2\nz;3;q\n\nw;4;r;s;t\nv;5;u\n",
     0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},\"-: row 3 has 2 fields, the header has 3\","
     "{\"a\":\"z\",\"b\":\"3\"},\"-: row 6 has 5 fields, the header has 3\","
     "{\"a\":\"v\",\"b\":\"5\"}]"},
    {"a quoted line break moves the row numbers", AB, "a;b\n\"1\n2\";x\ny\n", 0, LT_OK,
     "[{\"a\":\"1\\n2\",\"b\":\"x\"},\"-: row 4 has 1 field, the header has 2\"]"},
    {"unterminated quote at the end", AB, "a;b\nx;1\ny;\"2\nz;3\n", 0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},\"-: row 3: unterminated quoted field\"]"},
    {"unknown column", "{\"fields\": {\"a\": {\"path\": \"a\"}, \"g\": {\"path\": \"Giá\"}}}",
     "a;b\nx;1\n", 0, LT_E_INVALID, "mapping.fields.g.path: no column 'Giá' in the CSV header"},
    {"case-sensitive column", "{\"fields\": {\"a\": {\"path\": \"A\"}}}", "a;b\nx;1\n", 0,
     LT_E_INVALID, "mapping.fields.a.path: no column 'A' in the CSV header"},
    {"unknown column, header only", "{\"fields\": {\"g\": {\"path\": \"g\"}}}", "a;b\n", 0,
     LT_E_INVALID, "mapping.fields.g.path: no column 'g' in the CSV header"},
    {"duplicate header", AB, "a;b; a\nx;1;2\n", 0, LT_E_INVALID,
     "the CSV header names 'a' twice (columns 1 and 3)"},
    {"empty header name", AB, "a;;b\nx;1;2\n", 0, LT_E_INVALID,
     "the CSV header's column 2 has no name"},
    {"unterminated header", AB, "\"a;b\nx;1\n", 0, LT_E_INVALID,
     "the CSV header (line 1) has an unterminated quoted field"},
    {"empty payload", AB, "", 0, LT_OK, "[]"},
    {"only a BOM and blank lines", AB, "\xEF\xBB\xBF\r\n\n", 0, LT_OK, "[]"},
    {"header only", AB, "a;b\r\n", 0, LT_OK, "[]"},
    {"invalid UTF-8", AB, "a;b\nx;\xC3\x28\n", 0, LT_E_BAD_UTF8,
     "the CSV payload is not valid UTF-8"},
    {"NUL bytes are text", AB, "a;b\nx\0y;1\n", 10, LT_OK, "[{\"a\":\"x\\u0000y\",\"b\":\"1\"}]"},
    {"no fields: rows pass through", "{}", "a;b\nx;1\ny\n", 0, LT_OK,
     "[{\"a\":\"x\",\"b\":\"1\"},\"-: row 3 has 1 field, the header has 2\"]"},
    {"Vietnamese spreadsheet",
     "{\"delimiter\": \";\", \"fields\": {"
     "\"indicator\": {\"path\": \"Mã chỉ tiêu\"},"
     "\"area\": {\"path\": \"Địa bàn\", \"map\": {\"Lạng Sơn\": \"20\"}},"
     "\"period\": {\"path\": \"Kỳ\", \"format\": \"MM/YYYY\"},"
     "\"value\": {\"path\": \"Giá trị\", \"type\": \"number\", \"decimal\": \",\"},"
     "\"unit\": {\"const\": \"tỷ đồng\"}}}",
     "\xEF\xBB\xBFMã chỉ tiêu;Địa bàn;Kỳ;Giá trị\r\n"
     "T0501;Lạng Sơn;10/2026;4736,0\r\n"
     "T0502;Lạng Sơn;11/2026;\"1.234,5\"\r\n"
     "T0503;Cao Bằng;10/2026;12\r\n"
     "T0504;Lạng Sơn;13/2026;1\r\n",
     0, LT_OK,
     "[{\"area\":\"20\",\"indicator\":\"T0501\",\"period\":\"2026-M10\",\"unit\":\"tỷ đồng\","
     "\"value\":4736.0},"
     "{\"area\":\"20\",\"indicator\":\"T0502\",\"period\":\"2026-M11\",\"unit\":\"tỷ đồng\","
     "\"value\":1234.5},"
     "\"area: no mapping for 'Cao Bằng'\","
     "\"period: '13/2026' does not match format MM/YYYY\"]"},
};

static void test_payloads(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const payload_case *c = &cases[i];
        lt_errinfo ei = {0};
        ad_mapping *m = compile_text(c->mapping, &ei);
        CHECK_MSG(m != NULL, "%s: %s", c->name, ei.detail);
        if (!m)
            continue;
        sink s;
        sink_init(&s);
        size_t len = c->len ? c->len : strlen(c->body);
        lt_err e = ad_map_payload(m, "csv", c->body, len, 0, collect, &s, &ei);
        CHECK_MSG(e == c->code, "%s: got %d want %d (%s)", c->name, e, c->code, ei.detail);
        if (c->code == LT_OK) {
            char *got = dump(s.out);
            CHECK_MSG(got && strcmp(got, c->want) == 0, "%s:\n   got  %s\n   want %s", c->name, got,
                      c->want);
            free(got);
        } else {
            CHECK_MSG(strcmp(ei.detail, c->want) == 0, "%s: '%s'", c->name, ei.detail);
            CHECK_MSG(s.calls == 0, "%s: %ld emits on a payload error", c->name, s.calls);
        }
        CHECK_MSG(s.order_ok, "%s", c->name);
        sink_free(&s);
        ad_mapping_free(m);
        lt_errinfo_clear(&ei);
    }
}

/* Raw values are what quarantine keeps: {header: cell} for good rows, the cells otherwise. */
static void test_raw_values(void)
{
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(AB, &ei);
    static const char body[] = "a;b;c\nx;;\"q;\"\"r\"\ny;2\n";
    sink s;
    sink_init(&s);
    CHECK(m && ad_map_payload(m, "csv", body, strlen(body), 0, collect, &s, &ei) == LT_OK);
    char *got = dump(s.raws);
    /* Keys keep the header's order (checked apart since the dump sorts them). */
    CHECK_STR(got, "[{\"a\":\"x\",\"b\":\"\",\"c\":\"q;\\\"r\"},[\"y\",\"2\"]]");
    free(got);
    const char *first = json_object_iter_key(json_object_iter(json_array_get(s.raws, 0)));
    CHECK_STR(first, "a");
    sink_free(&s);
    ad_mapping_free(m);
}

/* A raw value re-opened with ad_map_raw maps to what the payload mapped to. */
static void test_retry_round_trip(void)
{
    static const char mapping[] =
        "{\"fields\": {\"v\": {\"path\": \"Giá trị\", \"type\": \"number\", \"decimal\": \",\"},"
        " \"k\": {\"path\": \"Kỳ\", \"format\": \"MM/YYYY\"}, \"d\": {\"path\": \"x\", "
        "\"default\": 0}}}";
    static const char body[] = "Kỳ;Giá trị;x;z\n10/2026;4736,0;;\"a\"\"\"\n13/2026;1;;\nshort\n";
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(mapping, &ei);
    sink first, again;
    sink_init(&first);
    sink_init(&again);
    CHECK(m && ad_map_payload(m, "csv", body, strlen(body), 0, collect, &first, &ei) == LT_OK);
    CHECK(first.calls == 3);
    for (size_t i = 0; m && i < json_array_size(first.raws); i++) {
        lt_err e = ad_map_raw(m, "csv", json_array_get(first.raws, i), collect, &again, &ei);
        CHECK_MSG(e == LT_OK, "raw %zu: %s", i, ei.detail);
    }
    char *a = dump(first.out), *b = dump(again.out);
    CHECK_STR(a, "[{\"d\":0,\"k\":\"2026-M10\",\"v\":4736.0},"
                 "\"k: '13/2026' does not match format MM/YYYY\","
                 "\"-: row 4 has 1 field, the header has 4\"]");
    /* The malformed row stays a record error: its cells have no header to pair with. */
    CHECK_STR(b, "[{\"d\":0,\"k\":\"2026-M10\",\"v\":4736.0},"
                 "\"k: '13/2026' does not match format MM/YYYY\","
                 "\"-: a CSV row of 1 field that did not match its header cannot be mapped "
                 "again: correct the source and send it again\"]");
    free(a);
    free(b);
    sink_free(&first);
    sink_free(&again);
    ad_mapping_free(m);
}

static void test_retry_errors(void)
{
    static const struct {
        const char *raw;
        lt_err code;
        const char *detail;
    } bad[] = {
        {"{\"a\": 1}", LT_E_INVALID,
         "a quarantined CSV record is an object of column header to cell text (or an array "
         "of cells)"},
        {"[\"x\", null]", LT_E_INVALID, NULL},
        {"\"a;b\"", LT_E_INVALID, NULL},
        {"{\"b\": \"1\"}", LT_E_INVALID, "mapping.fields.a.path: no column 'a' in the CSV header"},
        {"{\"a\": \"x\", \"b\": \"\"}", LT_OK, NULL},
    };
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(AB, &ei);
    for (size_t i = 0; m && i < sizeof bad / sizeof bad[0]; i++) {
        json_t *raw = lt_json_load(bad[i].raw, strlen(bad[i].raw), &ei);
        sink s;
        sink_init(&s);
        lt_err e = ad_map_raw(m, "csv", raw, collect, &s, &ei);
        CHECK_MSG(e == bad[i].code, "%s: %d %s", bad[i].raw, e, ei.detail);
        if (bad[i].detail)
            CHECK_STR(ei.detail, bad[i].detail);
        CHECK(s.calls == (e == LT_OK ? 1 : 0));
        json_decref(raw);
        sink_free(&s);
    }
    ad_mapping_free(m);
}

static void test_compile(void)
{
    static const struct {
        const char *mapping;
        lt_err code;
        const char *detail;
    } rows[] = {
        {"{\"records\": \"/items\", \"fields\": {}}", LT_E_INVALID,
         "mapping.records: csv mappings take no records selector (every row is a record)"},
        {"{\"fields\": {\"a\": {\"path\": \" \"}}}", LT_E_INVALID,
         "mapping.fields.a: a csv path is a column header, not empty"},
        {"{\"fields\": {\"a\": {\"path\": \"/a\"}}}", LT_OK, ""},
        {"{\"delimiter\": \";\", \"fields\": {\"a\": {\"const\": 1}}}", LT_OK, ""},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_errinfo ei = {0};
        json_t *doc = lt_json_load(rows[i].mapping, strlen(rows[i].mapping), &ei);
        ad_mapping *m = NULL;
        lt_err e = ad_mapping_compile(doc, "csv", &m, &ei);
        CHECK_MSG(e == rows[i].code, "%s: %s", rows[i].mapping, ei.detail);
        CHECK_STR(ei.detail, rows[i].detail);
        ad_mapping_free(m);
        json_decref(doc);
    }
    lt_errinfo ei = {0};
    ad_mapping *m = NULL;
    CHECK(ad_mapping_compile(NULL, "csv", &m, &ei) == LT_E_INVALID);
    CHECK_STR(ei.detail, "format 'csv' needs a mapping");
    const ad_format *f = ad_format_by_media("text/csv; charset=utf-8");
    CHECK(f && strcmp(f->name, "csv") == 0 && f->implemented);
}

static void test_limits(void)
{
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(AB, &ei);
    sink s;
    sink_init(&s);
    static const char body[] = "a;b\n1;2\n3;4\n5;6\n";
    CHECK(m && ad_map_payload(m, "csv", body, strlen(body), 2, collect, &s, &ei) == LT_E_TOO_LARGE);
    CHECK_STR(ei.detail, "3 records, more than the limit of 2");
    CHECK(s.calls == 0);
    CHECK(m && ad_map_payload(m, "json", "[]", 2, 0, collect, &s, &ei) == LT_E_INTERNAL);
    CHECK(ad_map_payload(NULL, "csv", body, strlen(body), 0, collect, &s, &ei) == LT_E_INTERNAL);
    sink_free(&s);
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

/* Not asserted (sanitizer builds are slow): the rate is benchmarked on a release build. */
static void test_rate(void)
{
    enum { ROWS = 200000 };
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, "Mã chỉ tiêu;Địa bàn;Kỳ;Giá trị\r\n");
    for (int i = 0; i < ROWS; i++)
        lt_buf_printf(&b, "T%04d;%02d;%02d/2026;%d,%d\r\n", i % 300, i % 34, i % 12 + 1, i, i % 10);
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text("{\"fields\": {"
                                 "\"indicator\": {\"path\": \"Mã chỉ tiêu\"},"
                                 "\"area\": {\"path\": \"Địa bàn\"},"
                                 "\"period\": {\"path\": \"Kỳ\", \"format\": \"MM/YYYY\"},"
                                 "\"value\": {\"path\": \"Giá trị\", \"type\": \"number\", "
                                 "\"decimal\": \",\"}}}",
                                 &ei);
    long mapped = 0;
    int64_t t0 = lt_mono_us();
    CHECK(m && ad_map_payload(m, "csv", b.data, b.len, 0, count_only, &mapped, &ei) == LT_OK);
    int64_t us = lt_mono_us() - t0;
    CHECK(mapped == ROWS);
    fprintf(stderr, "   %d rows, %.1f MB in %.3f s: %.0f records/s (this build)\n", ROWS,
            (double)b.len / 1e6, (double)us / 1e6, (double)ROWS * 1e6 / (double)(us ? us : 1));
    ad_mapping_free(m);
    lt_buf_free(&b);
}

int main(void)
{
    LT_RUN(test_payloads);
    LT_RUN(test_raw_values);
    LT_RUN(test_retry_round_trip);
    LT_RUN(test_retry_errors);
    LT_RUN(test_compile);
    LT_RUN(test_limits);
    LT_RUN(test_rate);
    return lt_test_done();
}
