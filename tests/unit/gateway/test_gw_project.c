/* Projection of stored canonical records to a grant's fields, and restricted_fields. */
#include <string.h>

#include "gw_int.h"
#include "lt_test.h"

static void test_project_table(void)
{
    static const char *fields[] = {"indicator", "area", "value"};
    rg_grant g = {"g-1", "org", "sys", "svc", fields, 3, 0, 0, 0, 1};
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{\"indicator\":\"A\",\"area\":\"20\",\"period\":\"2026\",\"value\":1.5}",
         "{\"indicator\":\"A\",\"area\":\"20\",\"value\":1.5}"},
        {"{\"period\":\"2026\",\"reporter\":\"x\"}", "{}"},
        {"{}", "{}"},
        /* strings with escapes, commas, braces and quotes inside values */
        {"{\"indicator\":\"a\\\",}{b\",\"reporter\":\"Nguy\\u1ec5n, \\\"An\\\"\",\"area\":\"2\"}",
         "{\"indicator\":\"a\\\",}{b\",\"area\":\"2\"}"},
        /* nested values are copied or skipped whole */
        {"{\"note\":{\"a\":[1,{\"b\":\"}\"}]},\"value\":[1,2],\"x\":null}", "{\"value\":[1,2]}"},
        {"{\"value\":null,\"ok\":true,\"area\":\"01\"}", "{\"value\":null,\"area\":\"01\"}"},
        {"{\"value\":-1.25e-7}", "{\"value\":-1.25e-7}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_buf b;
        lt_buf_init(&b, 0);
        gw_project(&g, cases[i].in, strlen(cases[i].in), &b);
        CHECK_STR(lt_buf_cstr(&b), cases[i].out);
        lt_buf_reset(&b);
        gw_project(NULL, cases[i].in, strlen(cases[i].in), &b); /* no grant: unchanged */
        CHECK_STR(lt_buf_cstr(&b), cases[i].in);
        lt_buf_free(&b);
    }
}

static void test_truncated_input_is_safe(void)
{
    static const char *fields[] = {"a"};
    rg_grant g = {"g-1", "o", "s", "v", fields, 1, 0, 0, 0, 1};
    const char *in = "{\"a\":\"xyz\",\"b\":[1,2,{\"c\":\"d\"}]}";
    for (size_t n = 0; n <= strlen(in); n++) { /* every prefix: never reads past n */
        lt_buf b;
        lt_buf_init(&b, 0);
        gw_project(&g, in, n, &b);
        CHECK(b.len >= 2 && b.data[0] == '{' && b.data[b.len - 1] == '}');
        lt_buf_free(&b);
    }
}

static void test_allows_and_restricted(void)
{
    static const char *fields[] = {"indicator", "value"};
    rg_grant g = {"g-1", "o", "s", "v", fields, 2, 0, 0, 0, 1};
    CHECK(gw_grant_allows(&g, "value", 5));
    CHECK(!gw_grant_allows(&g, "valu", 4));
    CHECK(!gw_grant_allows(&g, "reporter", 8));
    CHECK(gw_grant_allows(NULL, "reporter", 8));
    ct_field cf[4];
    memset(cf, 0, sizeof cf);
    cf[0].name = "indicator";
    cf[1].name = "period";
    cf[2].name = "value";
    cf[3].name = "reporter";
    ct_contract c;
    memset(&c, 0, sizeof c);
    c.fields = cf;
    c.nfields = 4;
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_restricted_fields(&g, &c, &b);
    CHECK_STR(lt_buf_cstr(&b), "\"period\",\"reporter\"");
    lt_buf_reset(&b);
    gw_restricted_fields(NULL, &c, &b);
    CHECK_STR(lt_buf_cstr(&b), "");
    lt_buf_free(&b);
}

int main(void)
{
    LT_RUN(test_project_table);
    LT_RUN(test_truncated_input_is_safe);
    LT_RUN(test_allows_and_restricted);
    return lt_test_done();
}
