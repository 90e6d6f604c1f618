/* lt_str: UTF-8 validity (overlongs, surrogates, range), checked number parsing, RFC 3339
 * parse/format round trips, civil dates, hex and ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lt_str.h"
#include "lt_test.h"

/* CHECK_STR on an array trips -Waddress ("always true"); a call hides the array. */
static const char *str(const char *s) { return s; }

static void test_utf8(void)
{
    static const struct {
        const char *s;
        size_t n; /* 0 = strlen */
        bool ok;
    } cases[] = {
        {"", 0, true},
        {"ascii", 0, true},
        {"Lạng Sơn", 0, true},
        {"\xc2\x80", 0, true},             /* U+0080, smallest 2-byte */
        {"\xdf\xbf", 0, true},             /* U+07FF */
        {"\xe0\xa0\x80", 0, true},         /* U+0800 */
        {"\xed\x9f\xbf", 0, true},         /* U+D7FF, just below surrogates */
        {"\xee\x80\x80", 0, true},         /* U+E000, just above */
        {"\xef\xbf\xbf", 0, true},         /* U+FFFF */
        {"\xf0\x90\x80\x80", 0, true},     /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 0, true},     /* U+10FFFF, the last code point */
        {"a\0b", 3, true},                 /* NUL is valid UTF-8 */
        {"\xc0\x80", 0, false},            /* overlong NUL */
        {"\xc1\xbf", 0, false},            /* overlong 2-byte */
        {"\xe0\x80\xaf", 0, false},        /* overlong '/' in 3 bytes */
        {"\xe0\x9f\xbf", 0, false},        /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 0, false},    /* overlong '/' in 4 bytes */
        {"\xf0\x8f\xbf\xbf", 0, false},    /* overlong U+FFFF */
        {"\xed\xa0\x80", 0, false},        /* U+D800, high surrogate */
        {"\xed\xbf\xbf", 0, false},        /* U+DFFF, low surrogate */
        {"\xed\xa0\xbd\xed\xb8\x80", 0, false}, /* CESU-8 surrogate pair */
        {"\xf4\x90\x80\x80", 0, false},    /* U+110000 */
        {"\xf5\x80\x80\x80", 0, false},
        {"\xf8\x88\x80\x80\x80", 0, false}, /* 5-byte form */
        {"\xfe", 0, false},
        {"\xff", 0, false},
        {"\x80", 0, false},                /* lone continuation */
        {"\xc3", 0, false},                /* truncated */
        {"\xe1\x80", 0, false},
        {"\xf0\x90\x80", 0, false},
        {"\xc3\x28", 0, false},            /* bad continuation */
        {"\xe2\x28\xa1", 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].s);
        CHECK_MSG(lt_utf8_valid(cases[i].s, n) == cases[i].ok, "case %zu", i);
    }
    /* never reads past n: a valid prefix of an invalid buffer */
    CHECK(lt_utf8_valid("ab\xff", 2));
    CHECK(!lt_utf8_valid("\xc3\xa9", 1));
}

static void test_i64(void)
{
    static const struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        {"0", 0, 0},
        {"42", 0, 42},
        {"-7", 0, -7},
        {"9223372036854775807", 0, INT64_MAX},
        {"-9223372036854775808", 0, INT64_MIN},
        {"9223372036854775808", -1, 0},
        {"-9223372036854775809", -1, 0},
        {"", -1, 0},
        {"-", -1, 0},
        {"+1", -1, 0},
        {" 1", -1, 0},
        {"1 ", -1, 0},
        {"12a", -1, 0},
        {"0x10", -1, 0},
        {"1.0", -1, 0},
        {"123456789012345678901234567890123", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 12345;
        int rc = lt_parse_i64(cases[i].s, strlen(cases[i].s), &v);
        CHECK_MSG(rc == cases[i].rc, "'%s'", cases[i].s);
        CHECK_MSG(v == (rc ? 12345 : cases[i].v), "'%s' -> %lld", cases[i].s, (long long)v);
    }
    int64_t v;
    CHECK(lt_parse_i64("123456", 3, &v) == 0 && v == 123); /* only n bytes */
}

static void test_double(void)
{
    static const struct {
        const char *s;
        int rc;
        double v;
    } cases[] = {
        {"0", 0, 0},        {"1.5", 0, 1.5},  {"-2.25", 0, -2.25}, {"1e3", 0, 1000},
        {"1E-2", 0, 0.01},  {"", -1, 0},      {"nan", -1, 0},      {"inf", -1, 0},
        {"0x1p3", -1, 0},   {"1e999", -1, 0}, {"1.5x", -1, 0},     {" 1", -1, 0},
        {"1,5", -1, 0},     {".", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = 99;
        int rc = lt_parse_double(cases[i].s, strlen(cases[i].s), &v);
        CHECK_MSG(rc == cases[i].rc, "'%s'", cases[i].s);
        CHECK_MSG(rc ? v == 99 : fabs(v - cases[i].v) < 1e-12, "'%s'", cases[i].s);
    }
}

static void test_time(void)
{
    static const struct {
        const char *in;
        int rc;
        const char *out; /* formatted back (frac when it has one) */
    } cases[] = {
        {"2026-11-22T05:00:00Z", 0, "2026-11-22T05:00:00Z"},
        {"2026-11-22T12:00:00+07:00", 0, "2026-11-22T05:00:00Z"},
        {"2026-11-22t05:00:00z", 0, "2026-11-22T05:00:00Z"},
        {"2026-01-01T01:00:00+02:00", 0, "2025-12-31T23:00:00Z"},
        {"1970-01-01T00:00:00Z", 0, "1970-01-01T00:00:00Z"},
        {"1969-12-31T23:59:59Z", 0, "1969-12-31T23:59:59Z"},
        {"2024-02-29T23:59:59.123456Z", 0, "2024-02-29T23:59:59.123456Z"},
        {"2024-02-29T00:00:00.5Z", 0, "2024-02-29T00:00:00.500000Z"},
        {"2025-02-29T00:00:00Z", -1, NULL},
        {"2026-11-22T24:00:00Z", -1, NULL},
        {"2026-11-22T05:60:00Z", -1, NULL},
        {"2026-11-22T05:00:00", -1, NULL},
        {"2026-11-22 05:00:00Z", 0, "2026-11-22T05:00:00Z"},
        {"2026-11-22T05:00:00.Z", -1, NULL},
        {"2026-11-22T05:00:00+0700", -1, NULL},
        {"2026-11-22T05:00:00Zjunk", -1, NULL},
        {"2026-11-22", -1, NULL},
        {"", -1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t us = 7;
        int rc = lt_time_parse(cases[i].in, strlen(cases[i].in), &us);
        CHECK_MSG(rc == cases[i].rc, "'%s'", cases[i].in);
        if (rc) {
            CHECK(us == 7);
            continue;
        }
        char out[32];
        lt_time_format(us, us % 1000000 != 0, out);
        CHECK_MSG(strcmp(out, cases[i].out) == 0, "'%s' -> '%s'", cases[i].in, out);
        int64_t back;
        CHECK(lt_time_parse(out, strlen(out), &back) == 0 && back == us);
    }
    char out[32];
    lt_time_format(0, true, out);
    CHECK_STR(str(out), "1970-01-01T00:00:00.000000Z");
    lt_time_format(-1, true, out);
    CHECK_STR(str(out), "1969-12-31T23:59:59.999999Z");
    CHECK(lt_now_us() > 1700000000ll * 1000000);
    int64_t a = lt_mono_us(), b = lt_mono_us();
    CHECK(b >= a);
}

static void test_dates(void)
{
    static const struct {
        const char *s;
        int rc;
        int64_t days;
    } cases[] = {
        {"1970-01-01", 0, 0},      {"1970-01-02", 0, 1},      {"1969-12-31", 0, -1},
        {"2000-02-29", 0, 11016},  {"2024-02-29", 0, 19782},  {"2026-01-01", 0, 20454},
        {"2025-02-29", -1, 0},     {"1900-02-29", -1, 0},     {"2026-04-31", -1, 0},
        {"2026-13-01", -1, 0},     {"2026-00-10", -1, 0},     {"2026-01-00", -1, 0},
        {"2026-1-01", -1, 0},      {"2026/01/01", -1, 0},     {"20260101", -1, 0},
        {"2026-01-01T", -1, 0},    {"abcd-01-01", -1, 0},     {"", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t d = -99;
        int rc = lt_date_parse(cases[i].s, strlen(cases[i].s), &d);
        CHECK_MSG(rc == cases[i].rc, "'%s'", cases[i].s);
        CHECK_MSG(d == (rc ? -99 : cases[i].days), "'%s' -> %lld", cases[i].s, (long long)d);
    }
    for (int64_t z = -800000; z <= 800000; z += 997) { /* civil round trip over ±2000 years */
        int64_t y;
        unsigned m, d;
        lt_civil_from_days(z, &y, &m, &d);
        CHECK_MSG(lt_days_from_civil(y, m, d) == z, "%lld", (long long)z);
    }
}

static void test_misc(void)
{
    char hx[9];
    unsigned char bytes[4] = {0xde, 0xad, 0x00, 0x0f}, back[4];
    lt_hex(bytes, 4, hx);
    CHECK_STR(str(hx), "dead000f");
    CHECK(lt_unhex("DEAD000F", 8, back, 4) == 0 && memcmp(back, bytes, 4) == 0);
    CHECK(lt_unhex("dead00", 6, back, 4) == -1);
    CHECK(lt_unhex("deadxx0f", 8, back, 4) == -1);
    char id1[40], id2[40], small[5];
    lt_random_id("q-", id1, sizeof id1);
    lt_random_id("q-", id2, sizeof id2);
    CHECK(strlen(id1) == 26 && strncmp(id1, "q-", 2) == 0 && strcmp(id1, id2) != 0);
    lt_random_id("q-", small, sizeof small);
    CHECK(strlen(small) == 4);
    char dst[4];
    CHECK(lt_strlcpy(dst, "abcdef", sizeof dst) == 6 && strcmp(dst, "abc") == 0);
    CHECK(lt_streq("a", "a") && !lt_streq("a", NULL) && !lt_streq("a", "b"));
    CHECK(lt_strneq_lit("abc", 3, "abc") && !lt_strneq_lit("abc", 2, "abc"));
}

int main(void)
{
    LT_RUN(test_utf8);
    LT_RUN(test_i64);
    LT_RUN(test_double);
    LT_RUN(test_time);
    LT_RUN(test_dates);
    LT_RUN(test_misc);
    return lt_test_done();
}
