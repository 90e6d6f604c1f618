/* lt_json: safe loading (bad UTF-8, deep nesting, duplicate keys), source positions,
 * strict key checks, getters and the canonical form. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"
#include "lt_test.h"

static void test_load(void)
{
    static const struct {
        const char *text;
        size_t n; /* 0 = strlen */
        lt_err want;
        const char *detail; /* substring */
    } cases[] = {
        {"{\"a\": 1}", 0, LT_OK, ""},
        {"42", 0, LT_OK, ""},          /* any value, not only objects */
        {"\"Lạng Sơn\"", 0, LT_OK, ""},
        {"{\"a\": \"\xc3\x28\"}", 0, LT_E_BAD_UTF8, "UTF-8"},
        {"{\"a\": \"\xed\xa0\x80\"}", 0, LT_E_BAD_UTF8, "UTF-8"}, /* surrogate */
        {"{\"a\": \"\xc0\xaf\"}", 0, LT_E_BAD_UTF8, "UTF-8"},     /* overlong */
        {"{\"a\": 1, \"a\": 2}", 0, LT_E_BAD_JSON, "duplicate"},
        {"{\"a\": 1,}", 0, LT_E_BAD_JSON, "line 1 col 9"},
        {"{\n\"a\" 1}", 0, LT_E_BAD_JSON, "line 2"},
        {"", 0, LT_E_BAD_JSON, ""},
        {"{\"a\": 1} x", 0, LT_E_BAD_JSON, ""},
        {"[1, 2", 0, LT_E_BAD_JSON, ""},
        {"\"a\\u0000b\"", 0, LT_OK, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_errinfo ei = {0};
        size_t n = cases[i].n ? cases[i].n : strlen(cases[i].text);
        json_t *v = lt_json_load(cases[i].text, n, &ei);
        CHECK_MSG((v != NULL) == (cases[i].want == LT_OK), "case %zu", i);
        CHECK_MSG(ei.code == cases[i].want, "case %zu: %d %s", i, ei.code, ei.detail);
        CHECK_MSG(strstr(ei.detail, cases[i].detail), "case %zu: '%s'", i, ei.detail);
        json_decref(v);
    }
}

static char *nested(size_t depth)
{
    char *t = malloc(2 * depth + 1);
    memset(t, '[', depth);
    memset(t + depth, ']', depth);
    t[2 * depth] = '\0';
    return t;
}

static void test_depth(void)
{
    lt_errinfo ei = {0};
    char *ok = nested(LT_MAX_JSON_DEPTH), *over = nested(LT_MAX_JSON_DEPTH + 1);
    json_t *v = lt_json_load(ok, strlen(ok), &ei);
    CHECK(v != NULL);
    json_decref(v);
    CHECK(lt_json_load(over, strlen(over), &ei) == NULL && ei.code == LT_E_BAD_JSON);
    free(ok);
    free(over);
    char *deep = nested(100000); /* a stack-exhaustion attempt: refused early and fast */
    int64_t t0 = lt_mono_us();
    CHECK(lt_json_load(deep, strlen(deep), &ei) == NULL && ei.code == LT_E_BAD_JSON);
    CHECK(strstr(ei.detail, "deeper") != NULL);
    CHECK_MSG(lt_mono_us() - t0 < 500000, "took %lld us", (long long)(lt_mono_us() - t0));
    free(deep);
    static const struct {
        const char *text;
        size_t want;
    } cases[] = {
        {"1", 0},
        {"[]", 1},
        {"{\"a\": [[{}]]}", 4},
        {"[\"[[[[\"]", 1},       /* brackets in strings do not count */
        {"[\"\\\"[[\"]", 1},     /* nor after an escaped quote */
        {"]]]][", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(lt_json_depth(cases[i].text, strlen(cases[i].text), 64) == cases[i].want,
                  "'%s'", cases[i].text);
    char *d = nested(1000);
    CHECK(lt_json_depth(d, strlen(d), 10) == 11); /* stops counting at limit + 1 */
    free(d);
}

static void test_load_file(void)
{
    char path[] = "/tmp/lt-json-" "XX" "XX" "XX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *text = "{\n  \"a\": 1,\n  \"b\": ]\n}\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    lt_errinfo ei = {0};
    CHECK(lt_json_load_file(path, &ei) == NULL && ei.code == LT_E_BAD_JSON);
    char want[64];
    snprintf(want, sizeof want, "%s:3:8: ", path);
    CHECK_MSG(strncmp(ei.detail, want, strlen(want)) == 0, "'%s'", ei.detail);
    unlink(path);
    CHECK(lt_json_load_file("/nonexistent/x.json", &ei) == NULL && ei.code == LT_E_IO);
}

static void test_locate(void)
{
    const char *text = "{\n"
                       "  \"name\": \"x\",\n"
                       "  \"list\": [10, {\"k\": true}, [1, 2]],\n"
                       "  \"q\\\"uote\": 1,\n"
                       "  \"vi\": \"Lạng\", \"after\": {\"deep\": {\"er\": null}}\n"
                       "}";
    static const struct {
        const char *path[4];
        size_t n;
        int rc, line, col;
    } cases[] = {
        {{NULL}, 0, 0, 1, 1},
        {{"name"}, 1, 0, 2, 3},
        {{"list"}, 1, 0, 3, 3},
        {{"list", "0"}, 2, 0, 3, 12},
        {{"list", "1"}, 2, 0, 3, 16},
        {{"list", "1", "k"}, 3, 0, 3, 17},
        {{"list", "2", "1"}, 3, 0, 3, 33},
        {{"after"}, 1, 0, 5, 17},       /* columns count characters, not bytes */
        {{"after", "deep", "er"}, 3, 0, 5, 36},
        {{"missing"}, 1, -1, 0, 0},
        {{"list", "9"}, 2, -1, 0, 0},
        {{"name", "x"}, 2, -1, 0, 0},
        {{"list", "-1"}, 2, -1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int line = 0, col = 0;
        int rc = lt_json_locate(text, strlen(text), cases[i].path, cases[i].n, &line, &col);
        CHECK_MSG(rc == cases[i].rc, "case %zu: rc %d", i, rc);
        if (rc == 0)
            CHECK_MSG(line == cases[i].line && col == cases[i].col, "case %zu: %d:%d", i, line,
                      col);
    }
    int line, col;
    CHECK(lt_json_locate("{\"a\": ", 6, (const char *const[]){"b"}, 1, &line, &col) == -1);
}

static void test_keys_and_getters(void)
{
    static const char *const allowed[] = {"id", "name", NULL};
    static const struct {
        const char *text;
        lt_err want;
        const char *detail;
    } cases[] = {
        {"{\"id\": \"a\"}", LT_OK, ""},
        {"{}", LT_OK, ""},
        {"{\"id\": \"a\", \"nmae\": 1}", LT_E_INVALID, "svc: unknown field 'nmae'"},
        {"[]", LT_E_INVALID, "svc: must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_errinfo ei = {0};
        json_t *v = json_loads(cases[i].text, JSON_DECODE_ANY, NULL);
        CHECK(lt_json_check_keys(v, allowed, "svc", &ei) == cases[i].want);
        CHECK_MSG(strstr(ei.detail, cases[i].detail), "'%s'", ei.detail);
        json_decref(v);
    }
    json_t *o = json_pack("{s:s, s:i, s:s}", "id", "a1", "n", 5, "empty", "");
    const char *s = NULL;
    lt_errinfo ei = {0};
    CHECK(lt_json_str(o, "id") && strcmp(lt_json_str(o, "id"), "a1") == 0);
    CHECK(lt_json_str(o, "n") == NULL && lt_json_str(o, "zz") == NULL);
    CHECK(lt_json_req_str(o, "id", "svc", &s, &ei) == LT_OK && strcmp(s, "a1") == 0);
    CHECK(lt_json_req_str(o, "n", "svc", &s, &ei) == LT_E_INVALID);
    CHECK(strcmp(ei.detail, "svc: 'n' is required (a string)") == 0);
    CHECK(lt_json_req_str(o, "empty", "svc", &s, &ei) == LT_E_INVALID);
    json_decref(o);
}

static void test_canonical(void)
{
    json_t *v = json_loads("{\"b\": [1, 2.5, {\"z\": null, \"a\": true}], \"a\": \"x\"}", 0,
                           NULL);
    size_t len = 0;
    char *c = lt_json_canonical(v, &len);
    CHECK_STR(c, "{\"a\":\"x\",\"b\":[1,2.5,{\"a\":true,\"z\":null}]}");
    CHECK(c && len == strlen(c));
    free(c);
    json_decref(v);
}

int main(void)
{
    LT_RUN(test_load);
    LT_RUN(test_depth);
    LT_RUN(test_load_file);
    LT_RUN(test_locate);
    LT_RUN(test_keys_and_getters);
    LT_RUN(test_canonical);
    return lt_test_done();
}
