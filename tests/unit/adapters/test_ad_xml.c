/* The xml and soap decoders through the mapping engine: the API.md §5 example over a SOAP
 * answer, plain XML with attributes and nested paths, namespaces, XPath functions, SOAP 1.1
 * and 1.2 faults, every bad-input shape of issue 4 (malformed, invalid UTF-8, DTD, XXE,
 * billion laughs, deep nesting), quarantine round trips through ad_map_raw, and (printed
 * only) the mapping rate of a large SOAP answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ad_mapping.h"
#include "lt_buf.h"
#include "lt_json.h"
#include "lt_str.h"
#include "lt_test.h"

#define S11 "http://schemas.xmlsoap.org/soap/envelope/"
#define S12 "http://www.w3.org/2003/05/soap-envelope"
#define XSI "http://www.w3.org/2001/XMLSchema-instance"

/* The API.md §5 service mapping, as written there. */
static const char stc_mapping[] =
    "{\"records\": \"//ns:KhoanThu\", \"namespaces\": {\"ns\": \"urn:stc\"},"
    " \"fields\": {\"indicator\": {\"const\": \"THU_NSNN\"},"
    " \"area\": {\"path\": \"ns:MaDonVi\", \"map\": {\"LS\": \"20\"}},"
    " \"period\": {\"path\": \"ns:Ky\", \"format\": \"MM/YYYY\"},"
    " \"value\": {\"path\": \"ns:SoTien\", \"type\": \"number\", \"scale\": 0.000000001},"
    " \"unit\": {\"const\": \"nghìn tỷ đồng\"}}}";

static const char stc_answer[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<soapenv:Envelope xmlns:soapenv=\"" S11 "\" xmlns:xsi=\"" XSI "\">\n"
    " <soapenv:Header/>\n"
    " <soapenv:Body>\n"
    "  <tns:GetThuNganSachResponse xmlns:tns=\"urn:stc\">\n"
    "   <tns:KhoanThu><tns:MaDonVi>LS</tns:MaDonVi><tns:Ky>10/2026</tns:Ky>"
    "<tns:SoTien>4736000000000</tns:SoTien></tns:KhoanThu>\n"
    "   <tns:KhoanThu><tns:MaDonVi> LS </tns:MaDonVi><tns:Ky>11/2026</tns:Ky>"
    "<tns:SoTien>  250000000 </tns:SoTien></tns:KhoanThu>\n"
    "   <tns:KhoanThu><tns:MaDonVi>HN</tns:MaDonVi><tns:Ky>12/2026</tns:Ky>"
    "<tns:SoTien xsi:nil=\"true\"/></tns:KhoanThu>\n"
    "  </tns:GetThuNganSachResponse>\n"
    " </soapenv:Body>\n"
    "</soapenv:Envelope>\n";

/* Collects mapped records and failures ("field: message") and keeps every raw value. */
typedef struct sink {
    json_t *out, *raws;
} sink;

static int collect(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                   const char *error)
{
    sink *s = ctx;
    (void)index;
    json_array_append(s->raws, raw ? (json_t *)raw : json_null());
    if (mapped) {
        json_array_append_new(s->out, mapped);
    } else {
        char buf[400];
        snprintf(buf, sizeof buf, "%s: %s", field ? field : "-", error ? error : "-");
        json_array_append_new(s->out, json_string(buf));
    }
    return 0;
}

static ad_mapping *compile_text(const char *text, const char *format, lt_errinfo *ei)
{
    json_t *doc = lt_json_load(text, strlen(text), ei);
    ad_mapping *m = NULL;
    if (!doc)
        return NULL;
    lt_err e = ad_mapping_compile(doc, format, &m, ei);
    json_decref(doc);
    return e == LT_OK ? m : NULL;
}

static char *dump_sorted(const json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Maps body and returns what the sink saw as sorted JSON (new: free()); *raws gets the raw
 * values (new reference) when raws is not NULL. */
static char *map_body(const char *mapping, const char *format, const char *body, size_t len,
                      lt_err *err, lt_errinfo *ei, json_t **raws)
{
    sink s = {json_array(), json_array()};
    ad_mapping *m = compile_text(mapping, format, ei);
    CHECK_MSG(m != NULL, "%s: %s", mapping, ei->detail);
    *err = m ? ad_map_payload(m, format, body, len, 0, collect, &s, ei) : LT_E_INVALID;
    char *got = dump_sorted(s.out);
    if (raws)
        *raws = json_incref(s.raws);
    json_decref(s.out);
    json_decref(s.raws);
    ad_mapping_free(m);
    return got;
}

/* One mapping over one body: either the records (want) or an error (code, detail). */
typedef struct map_case {
    const char *name, *format, *mapping, *body;
    lt_err code;
    const char *want; /* sorted records when code is LT_OK, the detail otherwise */
} map_case;

static void run_cases(const map_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const map_case *c = &cases[i];
        lt_errinfo ei = {0};
        lt_err e;
        char *got = map_body(c->mapping, c->format, c->body, strlen(c->body), &e, &ei, NULL);
        CHECK_MSG(e == c->code, "%s: code %d, want %d (%s)", c->name, e, c->code, ei.detail);
        if (c->code == LT_OK)
            CHECK_MSG(got && strcmp(got, c->want) == 0, "%s:\n   got  %s\n   want %s", c->name, got,
                      c->want);
        else
            CHECK_MSG(strcmp(ei.detail, c->want) == 0, "%s:\n   got  %s\n   want %s", c->name,
                      ei.detail, c->want);
        free(got);
        lt_errinfo_clear(&ei);
    }
}

static void test_soap_example(void)
{
    static const map_case cases[] = {
        {"API.md §5 over SOAP 1.1", "soap", stc_mapping, stc_answer, LT_OK,
         "[{\"area\":\"20\",\"indicator\":\"THU_NSNN\",\"period\":\"2026-M10\","
         "\"unit\":\"nghìn tỷ đồng\",\"value\":4736.0},"
         "{\"area\":\"20\",\"indicator\":\"THU_NSNN\",\"period\":\"2026-M11\","
         "\"unit\":\"nghìn tỷ đồng\",\"value\":0.25},"
         "\"area: no mapping for 'HN'\"]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Plain XML pushes: attributes, nested and relative paths, the default selection, nil. */
static void test_xml_paths(void)
{
    static const char push[] =
        "<BaoCao ky=\"2026\" xmlns:xsi=\"" XSI "\">"
        "<DonVi ma=\"LS\" ten=\"Lạng Sơn\"><ChiTieu><Ma>DS</Ma>"
        "<GiaTri don_vi=\"nguoi\">790000</GiaTri></ChiTieu><![CDATA[a<b]]></DonVi>"
        "<!-- a comment --><DonVi ma=\"CB\"><ChiTieu><Ma>DS</Ma><GiaTri xsi:nil=\"true\"/>"
        "</ChiTieu></DonVi><?pi x?></BaoCao>";
    static const map_case cases[] = {
        {"attributes and nesting", "xml",
         "{\"fields\": {\"area\": {\"path\": \"@ma\"}, \"name\": {\"path\": \"@ten\"},"
         " \"ind\": {\"path\": \"ChiTieu/Ma\"}, \"value\": {\"path\": \"ChiTieu/GiaTri\","
         " \"type\": \"integer\", \"default\": -1}, \"unit\": {\"path\": "
         "\"ChiTieu/GiaTri/@don_vi\"},"
         " \"period\": {\"path\": \"../@ky\"}, \"gone\": {\"path\": \"Khong\"}}}",
         push, LT_OK,
         "[{\"area\":\"LS\",\"ind\":\"DS\",\"name\":\"Lạng Sơn\",\"period\":\"2026\","
         "\"unit\":\"nguoi\",\"value\":790000},"
         "{\"area\":\"CB\",\"ind\":\"DS\",\"period\":\"2026\",\"value\":-1}]"},
        {"records by XPath, CDATA kept as text", "xml",
         "{\"records\": \"/BaoCao/DonVi[@ma='LS']\", \"fields\": {\"all\": {\"path\": \"\"},"
         " \"text\": {\"path\": \"text()\"}}}",
         push, LT_OK, "[{\"all\":\"DS790000a<b\",\"text\":\"a<b\"}]"},
        {"nil element is null", "xml",
         "{\"records\": \"//GiaTri\", \"fields\": {\"v\": {\"path\": \".\"}}}", push, LT_OK,
         "[{\"v\":\"790000\"},{}]"}, /* null reads as missing, unlike <GiaTri/> */
        {"empty element is an empty string", "xml",
         "{\"fields\": {\"v\": {\"path\": \".\"}, \"w\": {\"path\": \"w\"}}}",
         "<r><a/><a>  </a><a><w></w></a></r>", LT_OK,
         "[{\"v\":\"\"},{\"v\":\"\"},{\"v\":\"\",\"w\":\"\"}]"},
        {"no selector and no fields: records pass as raw XML", "xml", "{}",
         "<r><a x='1'>t</a><b/></r>", LT_OK, "[\"<a x=\\\"1\\\">t</a>\",\"<b/>\"]"},
        {"zero records", "xml", "{\"records\": \"//KhongCo\", \"fields\": {}}", push, LT_OK, "[]"},
        {"root without children: zero records", "xml", "{\"fields\": {}}", "<r>text</r>", LT_OK,
         "[]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_namespaces(void)
{
    static const char doc[] = "<d:Goi xmlns:d=\"urn:a\" xmlns=\"urn:b\"><Muc><Ma>1</Ma>"
                              "<d:Ten>x</d:Ten></Muc><Muc><Ma>2</Ma></Muc></d:Goi>";
    static const map_case cases[] = {
        {"default and prefixed namespaces", "xml",
         "{\"records\": \"/a:Goi/b:Muc\", \"namespaces\": {\"a\": \"urn:a\", \"b\": \"urn:b\"},"
         " \"fields\": {\"ma\": {\"path\": \"b:Ma\", \"type\": \"integer\"},"
         " \"ten\": {\"path\": \"a:Ten\"}}}",
         doc, LT_OK, "[{\"ma\":1,\"ten\":\"x\"},{\"ma\":2}]"},
        {"wrong namespace: zero records, not an error", "xml",
         "{\"records\": \"/a:Goi/b:Muc\", \"namespaces\": {\"a\": \"urn:a\", \"b\": \"urn:WRONG\"},"
         " \"fields\": {}}",
         doc, LT_OK, "[]"},
        {"unprefixed XPath names match no namespace", "xml",
         "{\"records\": \"//Muc\", \"fields\": {}}", doc, LT_OK, "[]"},
        {"local-name() ignores namespaces", "xml",
         "{\"records\": \"//*[local-name()='Muc']\", \"fields\": {\"ma\": "
         "{\"path\": \"*[local-name()='Ma']\"}}}",
         doc, LT_OK, "[{\"ma\":\"1\"},{\"ma\":\"2\"}]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_xpath_functions(void)
{
    static const char doc[] = "<r xmlns=\"urn:x\"><i><ten>  Lạng\n   Sơn  </ten><so>12.5</so>"
                              "<c/><c/></i><i><ten>A</ten><so>abc</so></i></r>";
    static const map_case cases[] = {
        {"normalize-space, number, count, boolean, string", "xml",
         "{\"records\": \"/x:r/x:i\", \"namespaces\": {\"x\": \"urn:x\"}, \"fields\": {"
         "\"ten\": {\"path\": \"normalize-space(x:ten)\"},"
         " \"so\": {\"path\": \"number(x:so) * 2\", \"default\": \"NaN\"},"
         " \"c\": {\"path\": \"count(x:c)\"}, \"has\": {\"path\": \"boolean(x:c)\"},"
         " \"len\": {\"path\": \"string-length(x:ten)\"},"
         " \"cat\": {\"path\": \"concat(x:ten, '/', x:so)\"}}}",
         doc, LT_OK,
         "[{\"c\":2,\"cat\":\"  Lạng\\n   Sơn  /12.5\",\"has\":true,\"len\":15,\"so\":25,"
         "\"ten\":\"Lạng Sơn\"},"
         "{\"c\":0,\"cat\":\"A/abc\",\"has\":false,\"len\":1,\"so\":\"NaN\",\"ten\":\"A\"}]"},
        {"position in the selection", "xml",
         "{\"records\": \"/x:r/x:i[2]\", \"namespaces\": {\"x\": \"urn:x\"}, \"fields\": "
         "{\"ten\": {\"path\": \"x:ten\"}}}",
         doc, LT_OK, "[{\"ten\":\"A\"}]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

static void test_soap(void)
{
    static const char s12[] =
        "<e:Envelope xmlns:e=\"" S12 "\"><e:Body><r:Resp xmlns:r=\"urn:r\">"
        "<r:Item><r:v>1</r:v></r:Item><r:Item><r:v>2</r:v></r:Item></r:Resp></e:Body></e:Envelope>";
    static const char fault11[] =
        "<s:Envelope xmlns:s=\"" S11 "\"><s:Body><s:Fault><faultcode>s:Server</faultcode>"
        "<faultstring xml:lang=\"vi\">  Lỗi máy chủ\n cơ sở dữ liệu </faultstring>"
        "</s:Fault></s:Body></s:Envelope>";
    static const char fault12[] =
        "<env:Envelope xmlns:env=\"" S12 "\"><env:Body><env:Fault><env:Code><env:Value>"
        "env:Sender</env:Value><env:Subcode><env:Value>x:Bad</env:Value></env:Subcode>"
        "</env:Code><env:Reason><env:Text xml:lang=\"en\">Bad request</env:Text>"
        "<env:Text xml:lang=\"vi\">Sai</env:Text></env:Reason></env:Fault></env:Body>"
        "</env:Envelope>";
    static const char *const v = "{\"fields\": {\"v\": {\"path\": \"*[local-name()='v']\"}}}";
    static const map_case cases[] = {
        {"SOAP 1.2, default selection", "soap", v, s12, LT_OK, "[{\"v\":\"1\"},{\"v\":\"2\"}]"},
        {"SOAP 1.2, soap12 prefix needs no declaration", "soap",
         "{\"records\": \"/soap12:Envelope/soap12:Body/r:Resp/r:Item\","
         " \"namespaces\": {\"r\": \"urn:r\"}, \"fields\": {\"v\": {\"path\": \"r:v\"}}}",
         s12, LT_OK, "[{\"v\":\"1\"},{\"v\":\"2\"}]"},
        {"SOAP 1.1, soapenv prefix needs no declaration", "soap",
         "{\"records\": \"/soapenv:Envelope/soapenv:Body/*/*\", \"fields\": {}}", stc_answer, LT_OK,
         "[{},{},{}]"},
        {"SOAP 1.1 fault", "soap", v, fault11, LT_E_UPSTREAM,
         "SOAP fault: s:Server Lỗi máy chủ  cơ sở dữ liệu"},
        {"SOAP 1.2 fault", "soap", v, fault12, LT_E_UPSTREAM, "SOAP fault: env:Sender Bad request"},
        {"empty fault", "soap", v,
         "<s:Envelope xmlns:s=\"" S11 "\"><s:Body><s:Fault/></s:Body></s:Envelope>", LT_E_UPSTREAM,
         "SOAP fault: - -"},
        {"not an envelope", "soap", v, "<Envelope><Body/></Envelope>", LT_E_INVALID,
         "not a SOAP envelope (the root must be a SOAP 1.1 or 1.2 Envelope)"},
        {"envelope in another namespace", "soap", v,
         "<s:Envelope xmlns:s=\"urn:nope\"><s:Body/></s:Envelope>", LT_E_INVALID,
         "not a SOAP envelope (the root must be a SOAP 1.1 or 1.2 Envelope)"},
        {"no Body", "soap", v, "<s:Envelope xmlns:s=\"" S11 "\"><s:Header/></s:Envelope>",
         LT_E_INVALID, "not a SOAP envelope: it has no Body"},
        {"empty Body: zero records", "soap", v,
         "<s:Envelope xmlns:s=\"" S11 "\"><s:Body/></s:Envelope>", LT_OK, "[]"},
        {"empty response: zero records", "soap", v,
         "<s:Envelope xmlns:s=\"" S11 "\"><s:Body><R/></s:Body></s:Envelope>", LT_OK, "[]"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* Mapping definitions the xml and soap formats refuse when the service is defined. */
static void test_compile_errors(void)
{
    static const struct {
        const char *mapping, *format, *detail;
    } cases[] = {
        {"{\"records\": \"//a[\"}", "xml",
         "mapping.records: invalid XPath '//a[': Invalid expression"},
        {"{\"fields\": {\"a\": {\"path\": \"ns:x\"}}}", "xml",
         "mapping.fields.a: XPath 'ns:x': Undefined namespace prefix (declare the prefix in "
         "mapping.namespaces)"},
        {"{\"fields\": {\"a\": {\"path\": \"nope(.)\"}}}", "soap",
         "mapping.fields.a: XPath 'nope(.)': Unregistered function"},
        {"{\"fields\": {\"a\": {\"path\": \"$v\"}}}", "xml",
         "mapping.fields.a: XPath '$v': Undefined variable"},
        {"{\"records\": \"count(//a)\"}", "xml",
         "mapping.records: XPath 'count(//a)' gives a number, not the record elements"},
        {"{\"fields\": {\"a\": {\"path\": \"a\\u0000b\"}}}", "xml",
         "mapping.fields.a: the XPath holds a NUL character"},
        {NULL, "soap", "format 'soap' needs a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_errinfo ei = {0};
        ad_mapping *m = NULL;
        json_t *doc =
            cases[i].mapping ? lt_json_load(cases[i].mapping, strlen(cases[i].mapping), &ei) : NULL;
        lt_err e = ad_mapping_compile(doc, cases[i].format, &m, &ei);
        CHECK_MSG(e == LT_E_INVALID && m == NULL, "%s", cases[i].mapping);
        CHECK_STR(ei.detail, cases[i].detail);
        ad_mapping_free(m);
        json_decref(doc);
        lt_errinfo_clear(&ei);
    }
}

/* The first line of /etc/passwd (the file an XXE payload names), or "" when unreadable. */
static void passwd_line(char *buf, size_t size)
{
    FILE *f = fopen("/etc/passwd", "r");
    buf[0] = '\0';
    if (f && fgets(buf, (int)size, f))
        buf[strcspn(buf, "\n")] = '\0';
    if (f)
        fclose(f);
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void test_bad_input(void)
{
    static const char *const any = "{\"fields\": {\"a\": {\"path\": \".\"}}}";
    static const map_case cases[] = {
        {"malformed", "xml", any, "<r>\n<a></b></r>", LT_E_BAD_REQUEST,
         "malformed XML at line 2: Opening and ending tag mismatch: a line 2 and b"},
        {"truncated", "soap", any, "<s:Envelope xmlns:s=\"" S11 "\"><s:Body>", LT_E_BAD_REQUEST,
         "malformed XML at line 1: Premature end of data in tag Body line 1"},
        {"empty", "xml", any, "", LT_E_BAD_REQUEST, "malformed XML at line 1: Document is empty"},
        {"undefined entity", "xml", any, "<r>&e;</r>", LT_E_BAD_REQUEST,
         "malformed XML at line 1: Entity 'e' not defined"},
        {"undeclared prefix", "xml", any, "<r><p:a/></r>", LT_E_BAD_REQUEST,
         "malformed XML at line 1: Namespace prefix p on a is not defined"},
        {"invalid UTF-8", "xml", any, "<r><a>\xC3\x28</a></r>", LT_E_BAD_UTF8,
         "the XML payload is not valid UTF-8 (line 1)"},
        {"control character (valid UTF-8)", "xml", any, "<r><a>\x01</a></r>", LT_E_BAD_REQUEST,
         "malformed XML at line 1: PCDATA invalid Char value 1"},
        {"declared ISO-8859-1 is converted", "xml", "{\"fields\": {\"a\": {\"path\": \"@x\"}}}",
         "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r><a x=\"\xe9\"/></r>", LT_OK,
         "[{\"a\":\"é\"}]"},
        /* libxml2 quotes 50 bytes of the section, cutting "ạ" (E1 BA A1) after its first */
        {"unfinished CDATA cut inside a character", "xml", any,
         "<r><![CDATA[" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" "\xE1\xBA\xA1ng",
         LT_E_BAD_REQUEST, "malformed XML at line 1: CData section not finished "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?"},
        {"broken UTF-16", "xml", any, "\xFE\xFF\xFF\xFF<r/>", LT_E_BAD_REQUEST,
         "malformed XML at line 1: Start tag expected, '<' not found"},
        {"DTD", "xml", any, "<!DOCTYPE r [<!ELEMENT r ANY>]><r><a/></r>", LT_E_INVALID,
         "DTDs are not accepted in payloads"},
        {"external DTD", "soap", any,
         "<!DOCTYPE s:Envelope SYSTEM \"http://127.0.0.1:9/x.dtd\"><s:Envelope xmlns:s=\"" S11
         "\"><s:Body/></s:Envelope>",
         LT_E_INVALID, "DTDs are not accepted in payloads"},
    };
    run_cases(cases, sizeof cases / sizeof cases[0]);
}

/* XXE naming /etc/passwd, inline and through an external subset: refused, and the file's
 * content is in no output (detail, records, raw values). */
static void test_xxe(void)
{
    static const char *const bodies[] = {
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        "<r><a>&x;</a></r>",
        "<!DOCTYPE r [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><r><a>x</a></r>",
        "<!DOCTYPE r SYSTEM \"/etc/passwd\"><r><a>&x;</a></r>",
        "<!DOCTYPE s:Envelope [<!ENTITY x SYSTEM \"/etc/passwd\">]><s:Envelope xmlns:s=\"" S11
        "\"><s:Body><R><a>&x;</a></R></s:Body></s:Envelope>",
    };
    char secret[256];
    passwd_line(secret, sizeof secret);
    CHECK(secret[0] != '\0');
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        for (int soap = 0; soap < 2; soap++) {
            lt_errinfo ei = {0};
            lt_err e;
            json_t *raws = NULL;
            const char *mapping = soap ? "{\"fields\": {\"a\": {\"path\": \"a\"}}}"
                                       : "{\"records\": \"//a\", \"fields\": {\"a\": "
                                         "{\"path\": \".\"}}}";
            char *got = map_body(mapping, soap ? "soap" : "xml", bodies[i], strlen(bodies[i]), &e,
                                 &ei, &raws);
            char *rawtext = dump_sorted(raws);
            CHECK_MSG(e == LT_E_INVALID, "xxe %zu: %s", i, ei.detail);
            CHECK_STR(ei.detail, "DTDs are not accepted in payloads");
            CHECK(got && strcmp(got, "[]") == 0);
            CHECK(secret[0] && !strstr(ei.detail, secret) && got && !strstr(got, secret) &&
                  rawtext && !strstr(rawtext, secret));
            free(got);
            free(rawtext);
            json_decref(raws);
            lt_errinfo_clear(&ei);
        }
}

/* Billion laughs (10^9 "lol"s) and the quadratic blow-up: refused fast, nothing expanded. */
static void test_entity_bombs(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
    for (int i = 1; i <= 9; i++) {
        lt_buf_printf(&b, " <!ENTITY lol%d \"", i);
        for (int k = 0; k < 10; k++)
            lt_buf_printf(&b, i == 1 ? "&lol;" : "&lol%d;", i - 1);
        lt_buf_puts(&b, "\">\n");
    }
    lt_buf_puts(&b, "]>\n<lolz><a>&lol9;</a></lolz>");
    lt_buf q; /* quadratic: one 50 kB entity referenced 50,000 times */
    lt_buf_init(&q, 0);
    lt_buf_puts(&q, "<!DOCTYPE r [<!ENTITY a \"");
    for (int i = 0; i < 50000; i++)
        lt_buf_putc(&q, 'a');
    lt_buf_puts(&q, "\">]><r><a>");
    for (int i = 0; i < 50000; i++)
        lt_buf_puts(&q, "&a;");
    lt_buf_puts(&q, "</a></r>");
    lt_buf *bombs[] = {&b, &q};
    for (size_t i = 0; i < 2; i++) {
        long rss0 = max_rss_kb();
        int64_t t0 = lt_mono_us();
        lt_errinfo ei = {0};
        lt_err e;
        char *got = map_body("{\"records\": \"//a\", \"fields\": {\"a\": {\"path\": \".\"}}}",
                             "xml", lt_buf_cstr(bombs[i]), bombs[i]->len, &e, &ei, NULL);
        int64_t us = lt_mono_us() - t0;
        long grew_kb = max_rss_kb() - rss0;
        CHECK_MSG(e == LT_E_INVALID, "bomb %zu: %s", i, ei.detail);
        CHECK_STR(ei.detail, "DTDs are not accepted in payloads");
        CHECK_MSG(us < 1000000, "bomb %zu took %lld us", i, (long long)us);
        CHECK_MSG(grew_kb < 64 * 1024, "bomb %zu grew the peak RSS by %ld kB", i, grew_kb);
        CHECK(got && strcmp(got, "[]") == 0); /* nothing mapped, nothing expanded */
        free(got);
        lt_errinfo_clear(&ei);
    }
    lt_buf_free(&b);
    lt_buf_free(&q);
}

static void test_deep_nesting(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    for (int i = 0; i < 100000; i++)
        lt_buf_puts(&b, "<a>");
    for (int i = 0; i < 100000; i++)
        lt_buf_puts(&b, "</a>");
    for (int soap = 0; soap < 2; soap++) {
        lt_errinfo ei = {0};
        lt_err e;
        char *got = map_body("{\"fields\": {\"a\": {\"path\": \".\"}}}", soap ? "soap" : "xml",
                             lt_buf_cstr(&b), b.len, &e, &ei, NULL);
        CHECK_MSG(e == LT_E_BAD_REQUEST, "%s", ei.detail);
        CHECK_STR(ei.detail, "malformed XML at line 1: elements nested deeper than 256 levels");
        free(got);
        lt_errinfo_clear(&ei);
    }
    /* 200 levels are fine */
    lt_buf_reset(&b);
    for (int i = 0; i < 200; i++)
        lt_buf_puts(&b, "<a>");
    lt_buf_puts(&b, "x");
    for (int i = 0; i < 200; i++)
        lt_buf_puts(&b, "</a>");
    lt_errinfo ei = {0};
    lt_err e;
    char *got = map_body("{\"records\": \"//a[not(a)]\", \"fields\": {\"a\": {\"path\": \".\"}}}",
                         "xml", lt_buf_cstr(&b), b.len, &e, &ei, NULL);
    CHECK_MSG(e == LT_OK, "%s", ei.detail);
    CHECK_STR(got, "[{\"a\":\"x\"}]");
    free(got);
    lt_buf_free(&b);
}

/* Maps every raw value again through ad_map_raw: the result must equal the first pass. */
/* same_raw: the raw text must come back byte for byte (libxml2 quotes a declaration holding
 * '"' with apostrophes where we write &quot;, so not for those). */
static void check_round_trip(const char *name, const char *mapping, const char *format,
                             const char *body, const char *first_raw, int same_raw)
{
    lt_errinfo ei = {0};
    lt_err e;
    json_t *raws = NULL;
    char *first = map_body(mapping, format, body, strlen(body), &e, &ei, &raws);
    CHECK_MSG(e == LT_OK && json_array_size(raws) > 0, "%s: %s", name, ei.detail);
    if (first_raw)
        CHECK_STR(json_string_value(json_array_get(raws, 0)), first_raw);
    ad_mapping *m = compile_text(mapping, format, &ei);
    sink s = {json_array(), json_array()};
    for (size_t i = 0; m && i < json_array_size(raws); i++) {
        e = ad_map_raw(m, format, json_array_get(raws, i), collect, &s, &ei);
        CHECK_MSG(e == LT_OK, "%s raw %zu: %s", name, i, ei.detail);
    }
    char *again = dump_sorted(s.out);
    CHECK_MSG(first && again && strcmp(first, again) == 0, "%s:\n   first %s\n   again %s", name,
              first, again);
    char *r1 = dump_sorted(raws), *r2 = dump_sorted(s.raws);
    CHECK_MSG(r1 && r2 && (!same_raw || strcmp(r1, r2) == 0), "%s raws:\n   %s\n   %s", name, r1,
              r2);
    free(r1);
    free(r2);
    free(first);
    free(again);
    json_decref(raws);
    json_decref(s.out);
    json_decref(s.raws);
    ad_mapping_free(m);
    lt_errinfo_clear(&ei);
}

static void test_round_trip(void)
{
    check_round_trip("SOAP example", stc_mapping, "soap", stc_answer,
                     "<tns:KhoanThu xmlns:tns=\"urn:stc\" xmlns:soapenv=\"" S11
                     "\" xmlns:xsi=\"" XSI "\"><tns:MaDonVi>LS</tns:MaDonVi><tns:Ky>10/2026"
                     "</tns:Ky><tns:SoTien>4736000000000</tns:SoTien></tns:KhoanThu>",
                     1);
    check_round_trip("default namespace, shadowed prefix, attribute escaping",
                     "{\"records\": \"//b:Muc\", \"namespaces\": {\"a\": \"urn:a\\\"b\", "
                     "\"b\": \"urn:b\"}, \"fields\": {\"ma\": {\"path\": \"b:Ma\"},"
                     " \"t\": {\"path\": \"@a:t\"}, \"all\": {\"path\": \"\"}}}",
                     "xml",
                     "<a:R xmlns:a=\"urn:OLD\"><a:G xmlns:a=\"urn:a&quot;b\" xmlns=\"urn:b\">"
                     "<Muc a:t=\"é\"><Ma>1</Ma></Muc><Muc xmlns:c=\"urn:c\"><Ma>2</Ma></Muc>"
                     "</a:G></a:R>",
                     "<Muc xmlns:a=\"urn:a&quot;b\" xmlns=\"urn:b\" a:t=\"&#xE9;\"><Ma>1</Ma>"
                     "</Muc>",
                     0);
    check_round_trip("plain record", "{\"fields\": {\"x\": {\"path\": \"@x\"}}}", "xml",
                     "<r><i x=\"1\"/><i x=\"2\">t</i></r>", "<i x=\"1\"/>", 1);
    /* A record that failed mapping is retried the same way once the mapping is fixed. */
    lt_errinfo ei = {0};
    ad_mapping *fixed = compile_text(
        "{\"records\": \"//ns:KhoanThu\", \"namespaces\": {\"ns\": \"urn:stc\"}, \"fields\": "
        "{\"area\": {\"path\": \"ns:MaDonVi\", \"map\": {\"LS\": \"20\", \"HN\": \"01\"}}}}",
        "soap", &ei);
    json_t *raw = json_string("<t:KhoanThu xmlns:t=\"urn:stc\"><t:MaDonVi>HN</t:MaDonVi>"
                              "</t:KhoanThu>");
    sink s = {json_array(), json_array()};
    CHECK(ad_map_raw(fixed, "soap", raw, collect, &s, &ei) == LT_OK);
    char *got = dump_sorted(s.out);
    CHECK_STR(got, "[{\"area\":\"01\"}]");
    free(got);
    json_t *notstr = json_integer(1);
    CHECK(ad_map_raw(fixed, "soap", notstr, collect, &s, &ei) == LT_E_INVALID);
    CHECK_STR(ei.detail,
              "a quarantined soap record must be a JSON string holding the record's XML");
    json_decref(notstr);
    json_decref(raw);
    json_decref(s.out);
    json_decref(s.raws);
    ad_mapping_free(fixed);
    lt_errinfo_clear(&ei);
}

/* Printed only: the rate of a large SOAP answer (sanitizer builds are several times slower). */
static void test_rate(void)
{
    enum { N = 100000 };
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_puts(&b, "<soapenv:Envelope xmlns:soapenv=\"" S11 "\"><soapenv:Body>"
                    "<tns:R xmlns:tns=\"urn:stc\">");
    for (int i = 0; i < N; i++)
        lt_buf_printf(&b,
                      "<tns:KhoanThu><tns:MaDonVi>LS</tns:MaDonVi><tns:Ky>%02d/2026</tns:Ky>"
                      "<tns:SoTien>%d000000</tns:SoTien></tns:KhoanThu>",
                      i % 12 + 1, i);
    lt_buf_puts(&b, "</tns:R></soapenv:Body></soapenv:Envelope>");
    lt_errinfo ei = {0};
    ad_mapping *m = compile_text(stc_mapping, "soap", &ei);
    long n = 0;
    int64_t t0 = lt_mono_us();
    sink s = {json_array(), json_array()};
    lt_err e = ad_map_payload(m, "soap", b.data, b.len, 0, collect, &s, &ei);
    double ms = (double)(lt_mono_us() - t0) / 1000.0;
    n = (long)json_array_size(s.out);
    CHECK_MSG(e == LT_OK && n == N, "%s", ei.detail);
    printf("info: %d SOAP records (%zu bytes) parsed and mapped in %.1f ms: %.0f records/s\n", N,
           b.len, ms, ms > 0 ? n / (ms / 1000.0) : 0.0);
    json_decref(s.out);
    json_decref(s.raws);
    ad_mapping_free(m);
    lt_buf_free(&b);
}

int main(void)
{
    LT_RUN(test_soap_example);
    LT_RUN(test_xml_paths);
    LT_RUN(test_namespaces);
    LT_RUN(test_xpath_functions);
    LT_RUN(test_soap);
    LT_RUN(test_compile_errors);
    LT_RUN(test_bad_input);
    LT_RUN(test_xxe);
    LT_RUN(test_entity_bombs);
    LT_RUN(test_deep_nesting);
    LT_RUN(test_round_trip);
    LT_RUN(test_rate);
    return lt_test_done();
}
