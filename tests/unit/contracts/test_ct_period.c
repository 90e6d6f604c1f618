/* Tests for ct_period: parsing, canonical form, ISO weeks, patterns, ordering and sort keys. */
#include <stdlib.h>
#include <string.h>

#include "ct_period.h"
#include "lt_test.h"

static void test_parse_valid(void)
{
    static const struct {
        const char *in, *canon;
        ct_freq freq;
    } cases[] = {
        {"2025", "2025", CT_FREQ_YEAR},
        {"1000", "1000", CT_FREQ_YEAR},
        {"9999", "9999", CT_FREQ_YEAR},
        {"2025-S1", "2025-S1", CT_FREQ_HALF},
        {"2025-S2", "2025-S2", CT_FREQ_HALF},
        {"2025-Q1", "2025-Q1", CT_FREQ_QUARTER},
        {"2025-Q4", "2025-Q4", CT_FREQ_QUARTER},
        {"2025-M07", "2025-M07", CT_FREQ_MONTH},
        {"2025-07", "2025-M07", CT_FREQ_MONTH},
        {"2025-12", "2025-M12", CT_FREQ_MONTH},
        {"2025-M01", "2025-M01", CT_FREQ_MONTH},
        {"2025-W05", "2025-W05", CT_FREQ_WEEK},
        {"2025-W52", "2025-W52", CT_FREQ_WEEK},
        {"2026-W53", "2026-W53", CT_FREQ_WEEK},
        {"2020-W53", "2020-W53", CT_FREQ_WEEK},
        {"2015-W53", "2015-W53", CT_FREQ_WEEK},
        {"2004-W53", "2004-W53", CT_FREQ_WEEK},
        {"2025-07-15", "2025-07-15", CT_FREQ_DAY},
        {"2024-02-29", "2024-02-29", CT_FREQ_DAY},
        {"2000-02-29", "2000-02-29", CT_FREQ_DAY},
        {"2025-12-31", "2025-12-31", CT_FREQ_DAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p;
        char buf[CT_PERIOD_MAX];
        int rc = ct_period_parse(cases[i].in, strlen(cases[i].in), &p);
        CHECK_MSG(rc == 0, "%s", cases[i].in);
        if (rc)
            continue;
        CHECK_MSG(p.freq == cases[i].freq, "%s", cases[i].in);
        size_t n = ct_period_format(&p, buf);
        const char *got = buf;
        CHECK_STR(got, cases[i].canon);
        CHECK(n == strlen(cases[i].canon));
    }
}

static void test_parse_invalid(void)
{
    static const char *const bad[] = {
        "",           "202",        "20255",      "0999",       "999",        "10000",
        "2025-13",    "2025-00",    "2025-M13",   "2025-M00",   "2025-M7",    "2025-7",
        "2025-Q5",    "2025-Q0",    "2025-S3",    "2025-S0",    "2025-W54",   "2025-W53",
        "2021-W53",   "2100-W53",   "2025-W00",   "2025-W5",    "2025-02-30", "2025-02-29",
        "1900-02-29", "2025-04-31", "2025-00-10", "2025-01-00", "2025-01-32", "2025-07-15x",
        "2025 ",      " 2025",      "2025-",      "2025-q3",    "2025-m07",   "2025/07",
        "2025-Q3 ",   "2025-H1",    "2025-M007",  "+2025",      "-2025",      "2025-07-1",
        "2025-7-15",  "2025-A1",    "abcd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ct_period p;
        CHECK_MSG(ct_period_parse(bad[i], strlen(bad[i]), &p) == -1, "'%s' accepted", bad[i]);
    }
}

/* The parser must honour len and never read past it. */
static void test_parse_len(void)
{
    ct_period p;
    CHECK(ct_period_parse("2025-Q3junk", 7, &p) == 0 && p.freq == CT_FREQ_QUARTER && p.n == 3);
    CHECK(ct_period_parse("2025-07-15", 7, &p) == 0 && p.freq == CT_FREQ_MONTH && p.n == 7);
    CHECK(ct_period_parse("2025-07-15", 9, &p) == -1);
    char *heap = malloc(7);
    memcpy(heap, "2025-M1", 7); /* not NUL-terminated: ASan catches over-reads */
    CHECK(ct_period_parse(heap, 7, &p) == -1);
    CHECK(ct_period_parse(heap, 4, &p) == 0 && p.freq == CT_FREQ_YEAR && p.year == 2025);
    free(heap);
    CHECK(ct_period_parse(NULL, 0, &p) == -1);
}

static void test_pattern(void)
{
    static const struct {
        const char *in, *pattern, *canon; /* canon NULL: must fail */
    } cases[] = {
        {"10/2026", "MM/YYYY", "2026-M10"},
        {"7/2026", "M/YYYY", "2026-M07"},
        {"12/2026", "M/YYYY", "2026-M12"},
        {"2025-07", "YYYY-MM", "2025-M07"},
        {"202507", "YYYYMM", "2025-M07"},
        {"15/07/2025", "DD/MM/YYYY", "2025-07-15"},
        {"5/7/2025", "D/M/YYYY", "2025-07-05"},
        {"2025", "YYYY", "2025"},
        {"Q3/2025", "QN/YYYY", "2025-Q3"},
        {"S2-2025", "SN-YYYY", "2025-S2"},
        {"2025 Q1", "YYYY QN", "2025-Q1"},
        {"72025", "MYYYY", "2025-M07"},
        {"122025", "MYYYY", "2025-M12"},
        {"Tháng 7/2025", "Tháng M/YYYY", "2025-M07"},
        {"Month 7/2025", "Month M/YYYY", NULL},
        {"13/2026", "MM/YYYY", NULL},
        {"00/2026", "MM/YYYY", NULL},
        {"1/2026", "MM/YYYY", NULL},
        {"10/2026x", "MM/YYYY", NULL},
        {"10-2026", "MM/YYYY", NULL},
        {"31/02/2025", "DD/MM/YYYY", NULL},
        {"Q5/2025", "QN/YYYY", NULL},
        {"S3/2025", "SN/YYYY", NULL},
        {"0999", "YYYY", NULL},
        {"07", "MM", NULL},
        {"15/2025", "DD/YYYY", NULL},
        {"2025", "", NULL},
        {"", "YYYY", NULL},
        {"2025-2026", "YYYY-YYYY", NULL},
        {"2025-2025", "YYYY-YYYY", "2025"},
        {"N2025", "NYYYY", "2025"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p;
        int rc = ct_period_parse_pattern(cases[i].in, strlen(cases[i].in), cases[i].pattern, &p);
        if (!cases[i].canon) {
            CHECK_MSG(rc == -1, "'%s' with '%s' accepted", cases[i].in, cases[i].pattern);
            continue;
        }
        CHECK_MSG(rc == 0, "'%s' with '%s' rejected", cases[i].in, cases[i].pattern);
        if (rc == 0) {
            char buf[CT_PERIOD_MAX];
            ct_period_format(&p, buf);
            const char *got = buf;
            CHECK_STR(got, cases[i].canon);
        }
    }
}

/* Letters other than the token letters are literal; a literal M or D would be read as a token
 * (that is why "Month M/YYYY" above fails). */
static void test_pattern_literal_letters(void)
{
    ct_period p;
    CHECK(ct_period_parse_pattern("Ky 7/2025", 9, "Ky M/YYYY", &p) == 0 && p.n == 7);
    CHECK(ct_period_parse_pattern("W/2025", 6, "W/YYYY", &p) == 0 && p.freq == CT_FREQ_YEAR);
}

static void test_order(void)
{
    /* sorted as ct_period_cmp must sort them: by frequency, then time */
    static const char *const sorted[] = {
        "1999",       "2024",       "2025",       "2024-S2",  "2025-S1",    "2025-S2",
        "2024-Q4",    "2025-Q1",    "2025-Q3",    "2024-M12", "2025-M01",   "2025-M10",
        "2025-M12",   "2024-W52",   "2025-W01",   "2025-W10", "2024-12-31", "2025-01-01",
        "2025-01-31", "2025-02-01", "2025-12-31",
    };
    size_t n = sizeof sorted / sizeof sorted[0];
    ct_period ps[sizeof sorted / sizeof sorted[0]];
    for (size_t i = 0; i < n; i++)
        CHECK(ct_period_parse(sorted[i], strlen(sorted[i]), &ps[i]) == 0);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = i < j ? -1 : i > j ? 1 : 0;
            int got = ct_period_cmp(&ps[i], &ps[j]);
            CHECK_MSG(got == want, "cmp(%s, %s) = %d", sorted[i], sorted[j], got);
            uint64_t ki = ct_period_sortkey(&ps[i]), kj = ct_period_sortkey(&ps[j]);
            int kc = ki < kj ? -1 : ki > kj ? 1 : 0;
            CHECK_MSG(kc == want, "sortkey(%s) vs sortkey(%s)", sorted[i], sorted[j]);
        }
    }
    ct_period a, b;
    CHECK(ct_period_parse("2025-07", 7, &a) == 0 && ct_period_parse("2025-M07", 8, &b) == 0);
    CHECK(ct_period_cmp(&a, &b) == 0 && ct_period_sortkey(&a) == ct_period_sortkey(&b));
}

int main(void)
{
    LT_RUN(test_parse_valid);
    LT_RUN(test_parse_invalid);
    LT_RUN(test_parse_len);
    LT_RUN(test_pattern);
    LT_RUN(test_pattern_literal_letters);
    LT_RUN(test_order);
    return lt_test_done();
}
