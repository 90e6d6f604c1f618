/* Bodies of "audit": "full" entries: personal values masked in JSON, XML and CSV, the cut at
 * the cap on a UTF-8 boundary, and text that is not UTF-8 never copied. */
#include <string.h>

#include "gw_int.h"
#include "lt_test.h"

static json_t *names(void) { return json_pack("[s,s,s]", "reporter", "nguoi_bao_cao", "NguoiBaoCao"); }

/* The body as the entry holds it (a JSON string), decoded back to text. */
static char *masked(const char *in, size_t max)
{
    json_t *n = names();
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_audit_body(&b, in, strlen(in), n, max);
    json_t *s = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
    char *out = s && json_is_string(s) ? strdup(json_string_value(s)) : NULL;
    json_decref(s);
    json_decref(n);
    lt_buf_free(&b);
    return out;
}

static void test_formats(void)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        /* JSON: members at any depth, any value shape; keys elsewhere and values untouched */
        {"{\"records\":[{\"area\":\"20\",\"reporter\":\"Hoàng Thị Mai\"}],\"note\":\"reporter\"}",
         "{\"records\":[{\"area\":\"20\",\"reporter\":\"***\"}],\"note\":\"reporter\"}"},
        {"{\"data\":[{\"nguoi_bao_cao\" : {\"ten\":\"A\",\"x\":[1,\"}\"]},\"gia_tri\":1}]}",
         "{\"data\":[{\"nguoi_bao_cao\" : \"***\",\"gia_tri\":1}]}"},
        {"[{\"reporter\":null},{\"reporter\":12.5,\"v\":2}]",
         "[{\"reporter\":\"***\"},{\"reporter\":\"***\",\"v\":2}]"},
        {"{\"a\":\"x\\\"reporter\\\":1\"}", "{\"a\":\"x\\\"reporter\\\":1\"}"},
        /* XML: by local name, with or without a prefix; other elements kept */
        {"<s:Envelope><s:Body><t:KhoanThu><t:NguoiBaoCao>Lê Văn B</t:NguoiBaoCao>"
         "<t:SoTien>5</t:SoTien></t:KhoanThu></s:Body></s:Envelope>",
         "<s:Envelope><s:Body><t:KhoanThu><t:NguoiBaoCao>***</t:NguoiBaoCao>"
         "<t:SoTien>5</t:SoTien></t:KhoanThu></s:Body></s:Envelope>"},
        {"<r><NguoiBaoCao a=\"1\">X</NguoiBaoCao><NguoiBaoCao/></r>",
         "<r><NguoiBaoCao a=\"1\">***</NguoiBaoCao><NguoiBaoCao/></r>"},
        /* CSV: the header names the columns; quotes and both delimiters */
        {"ma;nguoi_bao_cao;gia_tri\r\nA;Trần C;1,5\r\nB;\"Đỗ; D\";2\r\n",
         "ma;nguoi_bao_cao;gia_tri\r\nA;***;1,5\r\nB;***;2\r\n"},
        {"reporter,v\n\"x,y\",1\n", "reporter,v\n***,1\n"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = masked(cases[i].in, 65536);
        CHECK_STR(got, cases[i].want);
        free(got);
    }
}

static void test_cap_and_bytes(void)
{
    /* cut at the cap, never inside a character, with a note of the whole size */
    char *got = masked("{\"a\":\"đđđđ\"}", 8);
    CHECK(got && strncmp(got, "{\"a\":\"", 6) == 0);
    CHECK(got && strstr(got, "...[truncated: 16 bytes in all]") != NULL);
    free(got);
    /* not UTF-8: said, not copied */
    got = masked("{\"a\":\"\xff\xfe\"}", 100);
    CHECK(got && strstr(got, "not UTF-8") != NULL && !strchr(got, '\xff'));
    free(got);
}

static void test_personal_names(void)
{
    /* contract fields marked personal and the leaf of the path the mapping reads them from */
    json_t *def = json_pack("{s:{s:{s:{s:s},s:{s:s}}}}", "mapping", "fields", "reporter",
                            "path", "/data/nguoi_bao_cao", "area", "path", "t:MaDonVi");
    ct_field f[2] = {{.name = "reporter", .personal = true}, {.name = "area"}};
    ct_contract c = {.fields = f, .nfields = 2};
    rg_service svc = {.def = def, .contract = &c};
    json_t *n = gw_personal_names(&svc);
    CHECK(json_array_size(n) == 2);
    CHECK_STR(json_string_value(json_array_get(n, 0)), "reporter");
    CHECK_STR(json_string_value(json_array_get(n, 1)), "nguoi_bao_cao");
    json_decref(n);
    json_decref(def);
}

int main(void)
{
    LT_RUN(test_formats);
    LT_RUN(test_cap_and_bytes);
    LT_RUN(test_personal_names);
    return lt_test_done();
}
