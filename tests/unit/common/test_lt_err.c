/* lt_err: the code table in lt_err.c and the table in docs/errors.md agree row for row —
 * every code listed once with its HTTP status, and nothing else listed. */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lt_err.h"
#include "lt_str.h"
#include "lt_test.h"

#define MAX_ROWS 128

typedef struct row {
    char code[64];
    int status;
    bool meaning;
    int seen; /* times matched by an lt_err code */
} row;

/* Parses "| `code` | 422 | meaning |"; 0 on success. */
static int parse_row(const char *line, row *r)
{
    const char *p = line;
    if (strncmp(p, "| `", 3) != 0)
        return -1;
    p += 3;
    const char *end = strchr(p, '`');
    if (!end || (size_t)(end - p) >= sizeof r->code)
        return -1;
    memcpy(r->code, p, (size_t)(end - p));
    r->code[end - p] = '\0';
    p = end + 1;
    while (*p == ' ')
        p++;
    if (*p++ != '|')
        return -1;
    while (*p == ' ')
        p++;
    const char *num = p;
    while (isdigit((unsigned char)*p))
        p++;
    int64_t st;
    if (lt_parse_i64(num, (size_t)(p - num), &st))
        return -1;
    r->status = (int)st;
    while (*p == ' ')
        p++;
    if (*p++ != '|')
        return -1;
    while (*p == ' ')
        p++;
    r->meaning = *p && *p != '|';
    r->seen = 0;
    return 0;
}

static size_t read_doc(row *rows)
{
    const char *src = getenv("LIENTHONG_SOURCE");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/errors.md", src ? src : ".");
    FILE *f = fopen(path, "r");
    if (!f)
        f = fopen("../docs/errors.md", "r");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    if (!f)
        return 0;
    char line[2048];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "| `", 3) != 0)
            continue;
        CHECK_MSG(n < MAX_ROWS, "too many rows");
        if (n >= MAX_ROWS)
            break;
        CHECK_MSG(parse_row(line, &rows[n]) == 0, "unparseable row: %s", line);
        n++;
    }
    fclose(f);
    return n;
}

static void test_doc_matches_table(void)
{
    row rows[MAX_ROWS];
    size_t n = read_doc(rows);
    CHECK(n == (size_t)LT_E__COUNT - 1);
    for (int e = 1; e < LT_E__COUNT; e++) {
        const char *code = lt_err_code((lt_err)e);
        size_t i = 0;
        while (i < n && strcmp(rows[i].code, code) != 0)
            i++;
        CHECK_MSG(i < n, "docs/errors.md lacks `%s` (lt_err %d)", code, e);
        if (i == n)
            continue;
        rows[i].seen++;
        CHECK_MSG(rows[i].status == lt_err_status((lt_err)e), "`%s`: doc says %d, table %d",
                  code, rows[i].status, lt_err_status((lt_err)e));
        CHECK_MSG(rows[i].meaning, "`%s` has no meaning", code);
    }
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(rows[i].seen == 1, "`%s` is listed in docs/errors.md %s", rows[i].code,
                  rows[i].seen ? "but two codes share it" : "but is no lt_err code");
}

static void test_table_itself(void)
{
    for (int e = 1; e < LT_E__COUNT; e++) {
        const char *code = lt_err_code((lt_err)e);
        int st = lt_err_status((lt_err)e);
        CHECK_MSG(st >= 400 && st <= 599, "%s: status %d", code, st);
        CHECK(strlen(lt_err_title((lt_err)e)) > 0);
        CHECK(strcmp(lt_strerror((lt_err)e), lt_err_title((lt_err)e)) == 0);
        for (const char *c = code; *c; c++)
            CHECK_MSG(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_',
                      "%s is not snake_case", code);
        for (int f = e + 1; f < LT_E__COUNT; f++)
            CHECK_MSG(strcmp(code, lt_err_code((lt_err)f)) != 0, "%s used twice", code);
    }
    CHECK(lt_err_status(LT_E__COUNT) == 500);
    CHECK(lt_err_status((lt_err)-1) == 500);
    CHECK(strcmp(lt_err_code(LT_E__COUNT), "internal_error") == 0);
}

static void test_errinfo(void)
{
    lt_errinfo ei = {0};
    CHECK(lt_fail(&ei, LT_E_INVALID, "x=%d", 5) == LT_E_INVALID);
    CHECK(ei.code == LT_E_INVALID && strcmp(ei.detail, "x=5") == 0);
    lt_errinfo_add(&ei, 2, "period", "bad %s", "value");
    lt_errinfo_add(&ei, -1, NULL, "whole");
    CHECK(json_array_size(ei.errors) == 2);
    CHECK(json_integer_value(json_object_get(json_array_get(ei.errors, 0), "record")) == 2);
    CHECK(json_object_get(json_array_get(ei.errors, 1), "record") == NULL);
    CHECK(json_object_get(json_array_get(ei.errors, 1), "field") == NULL);
    lt_errinfo_clear(&ei);
    CHECK(ei.code == LT_OK && ei.errors == NULL && ei.detail[0] == '\0');
    CHECK(lt_fail(NULL, LT_E_IO, "no info") == LT_E_IO);
}

int main(void)
{
    LT_RUN(test_doc_matches_table);
    LT_RUN(test_table_itself);
    LT_RUN(test_errinfo);
    return lt_test_done();
}
