/* lt_buf: appends, printf, JSON string escaping, big-endian keys, the max cap (sticky
 * LT_E_TOO_LARGE), detach and reset. */
#include <stdlib.h>
#include <string.h>

#include "lt_buf.h"
#include "lt_test.h"

static void test_append(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    CHECK(strcmp(lt_buf_cstr(&b), "") == 0);
    lt_buf_puts(&b, "hello");
    lt_buf_putc(&b, ' ');
    lt_buf_printf(&b, "%d-%s", 42, "x");
    CHECK(b.len == 10 && strcmp(lt_buf_cstr(&b), "hello 42-x") == 0);
    for (int i = 0; i < 10000; i++) /* growth across many reallocations */
        lt_buf_putc(&b, 'a');
    CHECK(b.len == 10010 && b.err == LT_OK && b.data[b.len] == '\0');
    lt_buf_reset(&b);
    CHECK(b.len == 0 && b.cap >= 10010);
    lt_buf_append(&b, "a\0b", 3);
    CHECK(b.len == 3 && memcmp(b.data, "a\0b", 3) == 0);
    size_t len = 0;
    char *d = lt_buf_detach(&b, &len);
    CHECK(d && len == 3 && b.data == NULL && b.len == 0);
    free(d);
    lt_buf_free(&b);
}

static void test_json_str(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"", 0, "\"\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"l1\nl2\r\t", 7, "\"l1\\nl2\\r\\t\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"a\0b", 3, "\"a\\u0000b\""},
        {"Lạng Sơn", 11, "\"Lạng Sơn\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_buf b;
        lt_buf_init(&b, 0);
        lt_buf_json_str(&b, cases[i].in, cases[i].n);
        CHECK_MSG(strcmp(lt_buf_cstr(&b), cases[i].out) == 0, "case %zu: %s", i, b.data);
        lt_buf_free(&b);
    }
}

static void test_be64(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    lt_buf_be64(&b, 0x0102030405060708ull);
    lt_buf_be64(&b, 1);
    static const unsigned char want[16] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(b.len == 16 && memcmp(b.data, want, 16) == 0);
    lt_buf_free(&b);
    lt_buf x, y; /* big-endian keys sort like the numbers */
    lt_buf_init(&x, 0);
    lt_buf_init(&y, 0);
    lt_buf_be64(&x, 255);
    lt_buf_be64(&y, 256);
    CHECK(memcmp(x.data, y.data, 8) < 0);
    lt_buf_free(&x);
    lt_buf_free(&y);
}

static void test_cap(void)
{
    lt_buf b;
    lt_buf_init(&b, 8);
    lt_buf_puts(&b, "12345678");
    CHECK(b.err == LT_OK && b.len == 8);
    lt_buf_putc(&b, '9');
    CHECK(b.err == LT_E_TOO_LARGE);
    lt_buf_puts(&b, ""); /* sticky: later appends are ignored */
    CHECK(b.err == LT_E_TOO_LARGE && b.len == 8);
    CHECK(lt_buf_cstr(&b) == NULL);
    CHECK(lt_buf_detach(&b, NULL) == NULL);
    lt_buf_init(&b, 4);
    lt_buf_printf(&b, "%s", "too long");
    CHECK(b.err == LT_E_TOO_LARGE);
    lt_buf_reset(&b);
    CHECK(b.err == LT_OK);
    lt_buf_puts(&b, "ok");
    CHECK(strcmp(lt_buf_cstr(&b), "ok") == 0);
    lt_buf_free(&b);
}

int main(void)
{
    LT_RUN(test_append);
    LT_RUN(test_json_str);
    LT_RUN(test_be64);
    LT_RUN(test_cap);
    return lt_test_done();
}
