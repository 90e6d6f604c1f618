/* ct_record_write: canonical text in contract field order, stable across key orders. */
#include <stdlib.h>
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"
#include "lt_test.h"

static const char *contract_text =
    "{\"id\":\"obs\",\"version\":1,\"title\":\"t\",\"key\":[\"indicator\",\"period\"],"
    "\"fields\":[{\"name\":\"indicator\",\"type\":\"string\",\"required\":true},"
    "{\"name\":\"period\",\"type\":\"period\",\"required\":true},"
    "{\"name\":\"value\",\"type\":\"number\",\"nullable\":true},"
    "{\"name\":\"note\",\"type\":\"string\"},{\"name\":\"ok\",\"type\":\"boolean\"}]}";

static void test_write_table(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"period\":\"2026-M10\",\"indicator\":\"A\"}",
         "{\"indicator\":\"A\",\"period\":\"2026-M10\"}"},
        {"{\"value\":1.5,\"indicator\":\"A\",\"period\":\"2026\",\"ok\":true}",
         "{\"indicator\":\"A\",\"period\":\"2026\",\"value\":1.5,\"ok\":true}"},
        {"{\"indicator\":\"A\",\"period\":\"2026\",\"value\":null}",
         "{\"indicator\":\"A\",\"period\":\"2026\",\"value\":null}"},
        {"{\"indicator\":\"A\\\"q\",\"period\":\"2026\",\"note\":\"Lạng Sơn\\n\",\"value\":3}",
         "{\"indicator\":\"A\\\"q\",\"period\":\"2026\",\"value\":3,\"note\":\"Lạng Sơn\\n\"}"},
        {"{\"indicator\":\"A\",\"period\":\"2026\",\"value\":0.1}",
         "{\"indicator\":\"A\",\"period\":\"2026\",\"value\":0.10000000000000001}"},
    };
    lt_errinfo ei = {0};
    json_t *def = lt_json_load(contract_text, strlen(contract_text), &ei);
    ct_contract *c = NULL;
    CHECK(def && ct_contract_parse(def, &c, &ei) == LT_OK);
    for (size_t i = 0; c && i < sizeof cases / sizeof cases[0]; i++) {
        json_t *rec = lt_json_load(cases[i].in, strlen(cases[i].in), &ei);
        lt_buf b;
        lt_buf_init(&b, 0);
        CHECK(rec && ct_record_write(c, rec, &b) == 0);
        CHECK_STR(lt_buf_cstr(&b), cases[i].out);
        /* the text parses back to an equal record */
        json_t *back = json_loadb(b.data, b.len, 0, NULL);
        CHECK(back && json_equal(back, rec));
        json_decref(back);
        lt_buf_free(&b);
        json_decref(rec);
    }
    lt_buf b;
    lt_buf_init(&b, 8); /* overflow is reported, not a crash */
    json_t *rec = json_pack("{s:s, s:s}", "indicator", "ABCDEFGHIJ", "period", "2026");
    CHECK(c && ct_record_write(c, rec, &b) == -1 && b.err == LT_E_TOO_LARGE);
    lt_buf_free(&b);
    json_decref(rec);
    ct_contract_free(c);
    json_decref(def);
    lt_errinfo_clear(&ei);
}

int main(void)
{
    LT_RUN(test_write_table);
    return lt_test_done();
}
