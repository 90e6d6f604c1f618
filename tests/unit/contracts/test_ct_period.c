/* Tests for ct_period: parsing, canonical form, ISO weeks, patterns, ordering and sort keys. */
#include <stdlib.h>
#include <string.h>

#include "ct_period.h"
#include "lt_str.h"
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

/* ---- arithmetic ----------------------------------------------------------------------- */

static ct_period P(const char *s)
{
    ct_period p = {0, CT_FREQ_YEAR, 0, 0};
    int rc = ct_period_parse(s, strlen(s), &p);
    CHECK_MSG(rc == 0, "test period '%s' does not parse", s);
    return p;
}

static int64_t D(const char *ymd)
{
    int64_t d = -1;
    CHECK_MSG(lt_date_parse(ymd, strlen(ymd), &d) == 0, "test date '%s'", ymd);
    return d;
}

static void test_from_sortkey(void)
{
    static const char *const ok[] = {"1000", "9999", "2025-S2", "2025-Q4", "2025-M01",
                                     "2026-W53", "2024-02-29", "2025-12-31", "2025-W01"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ct_period p = P(ok[i]), q;
        CHECK_MSG(ct_period_from_sortkey(ct_period_sortkey(&p), &q) == 0, "%s", ok[i]);
        CHECK_MSG(ct_period_cmp(&p, &q) == 0 && q.freq == p.freq && q.year == p.year &&
                      q.n == p.n && q.day == p.day,
                  "%s", ok[i]);
    }
    ct_period q;
    ct_period y = P("2025"), d = P("2025-02-28");
    uint64_t ky = ct_period_sortkey(&y), kd = ct_period_sortkey(&d);
    static const uint64_t bad_extra[] = {0, 1, (uint64_t)7 << 32, (uint64_t)1 << 40};
    for (size_t i = 0; i < sizeof bad_extra / sizeof bad_extra[0]; i++)
        CHECK_MSG(ct_period_from_sortkey(bad_extra[i], &q) == -1, "key %zu", i);
    CHECK(ct_period_from_sortkey(ky | 1, &q) == -1);          /* a year with a day */
    CHECK(ct_period_from_sortkey(ky | 1 << 8, &q) == -1);     /* a year with n */
    CHECK(ct_period_from_sortkey(kd + 1, &q) == -1);          /* 2025-02-29 */
    CHECK(ct_period_from_sortkey(kd + 4, &q) == -1);          /* 2025-02-32 */
    CHECK(ct_period_from_sortkey(kd | (uint64_t)1 << 40, &q) == -1);
    CHECK(ct_period_from_sortkey(ky - ((uint64_t)1026 << 16), &q) == -1); /* year 999 */
    ct_period w53 = P("2026-W53");
    CHECK(ct_period_from_sortkey(ct_period_sortkey(&w53) - ((uint64_t)1 << 16), &q) == -1);
    CHECK(ct_period_from_sortkey(~(uint64_t)0, &q) == -1);
}

static void test_days(void)
{
    static const struct {
        const char *p, *first, *last;
    } cases[] = {
        {"2025", "2025-01-01", "2025-12-31"},
        {"1970", "1970-01-01", "1970-12-31"},
        {"1000", "1000-01-01", "1000-12-31"},
        {"9999", "9999-01-01", "9999-12-31"},
        {"2025-S1", "2025-01-01", "2025-06-30"},
        {"2025-S2", "2025-07-01", "2025-12-31"},
        {"2024-Q1", "2024-01-01", "2024-03-31"},
        {"2025-Q2", "2025-04-01", "2025-06-30"},
        {"2025-Q3", "2025-07-01", "2025-09-30"},
        {"2025-Q4", "2025-10-01", "2025-12-31"},
        {"2024-M02", "2024-02-01", "2024-02-29"},
        {"2025-M02", "2025-02-01", "2025-02-28"},
        {"2000-M02", "2000-02-01", "2000-02-29"},
        {"2100-M02", "2100-02-01", "2100-02-28"},
        {"2025-M04", "2025-04-01", "2025-04-30"},
        {"2025-M12", "2025-12-01", "2025-12-31"},
        {"2025-W01", "2024-12-30", "2025-01-05"},
        {"2026-W01", "2025-12-29", "2026-01-04"},
        {"2026-W53", "2026-12-28", "2027-01-03"},
        {"2020-W53", "2020-12-28", "2021-01-03"},
        {"2021-W01", "2021-01-04", "2021-01-10"},
        {"2015-W53", "2015-12-28", "2016-01-03"},
        {"2025-W52", "2025-12-22", "2025-12-28"},
        {"2024-02-29", "2024-02-29", "2024-02-29"},
        {"1969-12-31", "1969-12-31", "1969-12-31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p);
        int64_t first = D(cases[i].first), last = D(cases[i].last);
        CHECK_MSG(ct_period_first_day(&p) == first, "first day of %s: %lld", cases[i].p,
                  (long long)ct_period_first_day(&p));
        CHECK_MSG(ct_period_last_day(&p) == last, "last day of %s: %lld", cases[i].p,
                  (long long)ct_period_last_day(&p));
    }
    /* 1000-01-01 was a Wednesday: week 1 of 1000 starts on Monday 999-12-30 */
    ct_period w = P("1000-W01");
    CHECK(ct_period_first_day(&w) == D("1000-01-01") - 2);
    CHECK(ct_period_last_day(&w) == D("1000-01-05"));
    ct_period d0 = P("1970-01-01"), d1 = P("2024-02-29"), d2 = P("9999-12-31");
    CHECK(ct_period_first_day(&d0) == 0);
    CHECK(ct_period_first_day(&d1) == 19782);
    CHECK(ct_period_last_day(&d2) == 2932896);
}

/* Structs that did not come from the parser give INT64_MIN, never a crash. */
static void test_days_invalid(void)
{
    static const ct_period bad[] = {
        {2025, CT_FREQ_MONTH, 13, 0}, {2025, CT_FREQ_MONTH, 0, 0}, {2025, CT_FREQ_DAY, 2, 29},
        {2025, CT_FREQ_DAY, 14, 1},   {2025, CT_FREQ_WEEK, 53, 0}, {999, CT_FREQ_YEAR, 0, 0},
        {2025, (ct_freq)'X', 1, 0},   {10000, CT_FREQ_QUARTER, 1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ct_period q;
        CHECK_MSG(ct_period_first_day(&bad[i]) == INT64_MIN, "case %zu", i);
        CHECK_MSG(ct_period_last_day(&bad[i]) == INT64_MIN, "case %zu", i);
        CHECK_MSG(ct_period_ordinal(&bad[i]) == INT64_MIN, "case %zu", i);
        CHECK_MSG(ct_period_add(&bad[i], 1, &q) == -1, "case %zu", i);
        CHECK_MSG(ct_period_within(&bad[i], NULL, NULL) == 0, "case %zu", i);
    }
}

/* Every period of every frequency from 1998 to 2032: the next one starts the day after this
 * one ends, and ordinals step by one. */
static void test_adjacent(void)
{
    static const char *const starts[] = {"1998", "1998-S1", "1998-Q1", "1998-M01", "1998-W01",
                                         "1998-01-01"};
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        ct_period p = P(starts[i]), q;
        int steps = 0, bad = 0;
        while (p.year <= 2032 && steps < 20000) {
            if (ct_period_add(&p, 1, &q) != 0 ||
                ct_period_first_day(&q) != ct_period_last_day(&p) + 1 ||
                ct_period_ordinal(&q) != ct_period_ordinal(&p) + 1 ||
                ct_period_first_day(&p) > ct_period_last_day(&p) || ct_period_cmp(&p, &q) >= 0)
                bad++;
            p = q;
            steps++;
        }
        CHECK_MSG(bad == 0, "%s: %d bad steps", starts[i], bad);
        CHECK(steps > 30);
    }
}

/* ISO weeks: Monday to Sunday, the Thursday in the week's year, W53 exactly when it exists. */
static void test_weeks_iso(void)
{
    int bad = 0, w53 = 0;
    for (int y = 1990; y <= 2040; y++) {
        int weeks = ct_period_count_in_year(CT_FREQ_WEEK, y);
        for (int n = 1; n <= weeks; n++) {
            ct_period w = {y, CT_FREQ_WEEK, n, 0};
            int64_t first = ct_period_first_day(&w), thursday = first + 3, ty;
            unsigned m, d;
            lt_civil_from_days(thursday, &ty, &m, &d);
            if (((first + 3) % 7 + 7) % 7 != 0 || ct_period_last_day(&w) != first + 6 || ty != y)
                bad++;
        }
        w53 += weeks == 53;
        ct_period p;
        char s[16] = "0000-W53";
        s[0] = (char)('0' + y / 1000);
        s[1] = (char)('0' + y / 100 % 10);
        s[2] = (char)('0' + y / 10 % 10);
        s[3] = (char)('0' + y % 10);
        CHECK_MSG((ct_period_parse(s, 8, &p) == 0) == (weeks == 53), "%s", s);
    }
    CHECK(bad == 0);
    CHECK(w53 == 9); /* 1992 1998 2004 2009 2015 2020 2026 2032 2037 */
}

static void test_ordinal(void)
{
    static const struct {
        const char *p;
        int64_t ord;
    } cases[] = {
        {"2025", 2025},          {"2025-S1", 4050},     {"2025-S2", 4051},
        {"2025-Q1", 8100},       {"2025-Q4", 8103},     {"2025-M01", 24300},
        {"2025-M12", 24311},     {"1970-01-01", 0},     {"1969-12-31", -1},
        {"2024-02-29", 19782},   {"1970-W01", 0},       {"1970-W02", 1},
        {"1969-W52", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p);
        CHECK_MSG(ct_period_ordinal(&p) == cases[i].ord, "%s: %lld", cases[i].p,
                  (long long)ct_period_ordinal(&p));
    }
    ct_period a = P("2025-W52"), b = P("2026-W01"), c = P("2026-W53"), d = P("2027-W01");
    CHECK(ct_period_ordinal(&b) - ct_period_ordinal(&a) == 1);
    CHECK(ct_period_ordinal(&d) - ct_period_ordinal(&c) == 1);
}

static void test_add(void)
{
    static const struct {
        const char *p;
        int64_t k;
        const char *want;
    } cases[] = {
        {"2025", 1, "2026"},           {"2025", -25, "2000"},        {"2025", 0, "2025"},
        {"2025-S2", 1, "2026-S1"},     {"2025-S1", -1, "2024-S2"},   {"2025-S1", 5, "2027-S2"},
        {"2025-Q4", 1, "2026-Q1"},     {"2026-Q1", -1, "2025-Q4"},   {"2025-Q2", -9, "2023-Q1"},
        {"2025-M12", 1, "2026-M01"},   {"2026-M01", -1, "2025-M12"}, {"2025-M03", 24, "2027-M03"},
        {"2025-M03", -27, "2022-M12"}, {"2026-W52", 1, "2026-W53"},  {"2026-W53", 1, "2027-W01"},
        {"2027-W01", -1, "2026-W53"},  {"2025-W52", 1, "2026-W01"},  {"2026-W01", -1, "2025-W52"},
        {"2025-W01", 52, "2026-W01"},  {"2020-W53", -53, "2019-W52"}, {"2024-02-28", 1, "2024-02-29"},
        {"2024-02-29", 1, "2024-03-01"}, {"2025-02-28", 1, "2025-03-01"}, {"2025-12-31", 1, "2026-01-01"},
        {"2026-01-01", -1, "2025-12-31"}, {"2024-01-01", 366, "2025-01-01"}, {"2025-01-01", 365, "2026-01-01"},
        {"1999-12-31", 1, "2000-01-01"}, {"2000-03-01", -1, "2000-02-29"}, {"2100-03-01", -1, "2100-02-28"},
        {"9999-M11", 1, "9999-M12"},   {"1000-Q2", -1, "1000-Q1"},   {"1000-01-02", -1, "1000-01-01"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p), q;
        int rc = ct_period_add(&p, cases[i].k, &q);
        CHECK_MSG(rc == 0, "%s + %lld failed", cases[i].p, (long long)cases[i].k);
        if (rc)
            continue;
        char buf[CT_PERIOD_MAX];
        ct_period_format(&q, buf);
        const char *got = buf;
        CHECK_MSG(strcmp(got, cases[i].want) == 0, "%s + %lld = %s, want %s", cases[i].p,
                  (long long)cases[i].k, got, cases[i].want);
        ct_period back;
        CHECK(ct_period_add(&q, -cases[i].k, &back) == 0 && ct_period_cmp(&back, &p) == 0);
    }
}

/* Out of the 1000..9999 range, or a step that cannot be a period, fails and leaves out alone. */
static void test_add_range(void)
{
    static const struct {
        const char *p;
        int64_t k;
    } cases[] = {
        {"9999", 1},       {"1000", -1},       {"9999-S2", 1},      {"1000-S1", -1},
        {"9999-Q4", 1},    {"1000-Q1", -1},    {"9999-M12", 1},     {"1000-M01", -1},
        {"9999-W52", 1},   {"1000-W01", -1},   {"9999-12-31", 1},   {"1000-01-01", -1},
        {"2025", 8000},    {"2025", -1026},    {"2025-M01", INT64_MAX}, {"2025-M01", INT64_MIN},
        {"2025-01-01", INT64_MAX / 2}, {"2025-W10", -INT64_MAX / 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p), q = {1, CT_FREQ_DAY, 1, 1};
        CHECK_MSG(ct_period_add(&p, cases[i].k, &q) == -1, "%s + %lld", cases[i].p,
                  (long long)cases[i].k);
        CHECK(q.year == 1 && q.day == 1);
    }
    ct_period y = P("2025"), q;
    CHECK(ct_period_add(&y, 7974, &q) == 0 && q.year == 9999);
    CHECK(ct_period_add(&y, -1025, &q) == 0 && q.year == 1000);
}

static void test_count_in_year(void)
{
    static const struct {
        ct_freq f;
        int year, want;
    } cases[] = {
        {CT_FREQ_YEAR, 2025, 1},   {CT_FREQ_HALF, 2025, 2},   {CT_FREQ_QUARTER, 2025, 4},
        {CT_FREQ_MONTH, 2025, 12}, {CT_FREQ_DAY, 2025, 365}, {CT_FREQ_DAY, 2024, 366},
        {CT_FREQ_DAY, 2000, 366},  {CT_FREQ_DAY, 2100, 365}, {CT_FREQ_WEEK, 2025, 52},
        {CT_FREQ_WEEK, 2026, 53},  {CT_FREQ_WEEK, 2020, 53}, {CT_FREQ_WEEK, 2021, 52},
        {CT_FREQ_WEEK, 2004, 53},  {(ct_freq)'X', 2025, 0},  {(ct_freq)0, 2025, 0},
        {CT_FREQ_MONTH, 999, 0},   {CT_FREQ_DAY, 10000, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(ct_period_count_in_year(cases[i].f, cases[i].year) == cases[i].want,
                  "%c %d: %d", (char)cases[i].f, cases[i].year,
                  ct_period_count_in_year(cases[i].f, cases[i].year));
}

static void test_within(void)
{
    static const struct {
        const char *p, *from, *to; /* NULL bound: open */
        int want;
    } cases[] = {
        {"2026-M03", "2026-Q1", "2026-Q1", 1},
        {"2026-Q1", "2026-M01", "2026-M02", 0},
        {"2026-Q1", "2026-M01", "2026-M03", 1},
        {"2026-M04", "2026-Q1", "2026-Q1", 0},
        {"2026-M01", "2026-Q1", NULL, 1},
        {"2025-M12", "2026-Q1", NULL, 0},
        {"2025-M12", NULL, "2026-Q1", 1},
        {"2026-M04", NULL, "2026-Q1", 0},
        {"2026", NULL, NULL, 1},
        {"2026", "2026-M01", "2026-M12", 1},
        {"2026", "2026-M02", "2026-M12", 0},
        {"2026-S1", "2026", "2026", 1},
        {"2026-W01", "2026", "2026", 0},   /* starts 2025-12-29 */
        {"2026-W01", "2025-12-29", "2026-01-04", 1},
        {"2026-W53", "2026", "2026", 0},   /* ends 2027-01-03 */
        {"2026-W53", "2026", "2027-M01", 1},
        {"2026-03-31", "2026-Q1", "2026-Q1", 1},
        {"2026-04-01", "2026-Q1", "2026-Q1", 0},
        {"2024-02-29", "2024-M02", "2024-M02", 1},
        {"2026-M03", "2026-M03", "2026-M03", 1},
        {"2026-M03", "2026-M04", "2026-M02", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p), from, to;
        if (cases[i].from)
            from = P(cases[i].from);
        if (cases[i].to)
            to = P(cases[i].to);
        int got = ct_period_within(&p, cases[i].from ? &from : NULL, cases[i].to ? &to : NULL);
        CHECK_MSG(got == cases[i].want, "%s within %s..%s = %d", cases[i].p,
                  cases[i].from ? cases[i].from : "", cases[i].to ? cases[i].to : "", got);
    }
    ct_period p = P("2026-M03"), badb = {2026, CT_FREQ_MONTH, 13, 0};
    CHECK(ct_period_within(&p, &badb, NULL) == 0);
    CHECK(ct_period_within(&p, NULL, &badb) == 0);
}

static void test_sdmx(void)
{
    static const struct {
        const char *p, *sdmx;
        char freq;
    } cases[] = {
        {"2025", "2025", 'A'},         {"2025-S1", "2025-S1", 'S'}, {"2025-Q3", "2025-Q3", 'Q'},
        {"2025-M07", "2025-07", 'M'},  {"2025-12", "2025-12", 'M'}, {"2025-W05", "2025-W05", 'W'},
        {"2025-07-15", "2025-07-15", 'D'}, {"1000-M01", "1000-01", 'M'},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ct_period p = P(cases[i].p);
        char buf[CT_PERIOD_MAX];
        size_t n = ct_period_format_sdmx(&p, buf);
        const char *got = buf;
        CHECK_STR(got, cases[i].sdmx);
        CHECK(n == strlen(cases[i].sdmx));
        CHECK_MSG(ct_period_sdmx_freq(&p) == cases[i].freq, "%s", cases[i].p);
    }
    ct_period odd = {2025, (ct_freq)'X', 0, 0};
    CHECK(ct_period_sdmx_freq(&odd) == 0);
}

static void test_freq_names(void)
{
    static const struct {
        const char *name;
        ct_freq f;
    } cases[] = {
        {"yearly", CT_FREQ_YEAR},   {"annual", CT_FREQ_YEAR},     {"half-yearly", CT_FREQ_HALF},
        {"quarterly", CT_FREQ_QUARTER}, {"monthly", CT_FREQ_MONTH}, {"weekly", CT_FREQ_WEEK},
        {"daily", CT_FREQ_DAY},     {"Monthly", (ct_freq)0},      {"month", (ct_freq)0},
        {"", (ct_freq)0},           {"hourly", (ct_freq)0},       {"monthly ", (ct_freq)0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(ct_freq_from_name(cases[i].name) == cases[i].f, "'%s'", cases[i].name);
    CHECK(ct_freq_from_name(NULL) == (ct_freq)0);
}

int main(void)
{
    LT_RUN(test_parse_valid);
    LT_RUN(test_parse_invalid);
    LT_RUN(test_parse_len);
    LT_RUN(test_pattern);
    LT_RUN(test_pattern_literal_letters);
    LT_RUN(test_order);
    LT_RUN(test_from_sortkey);
    LT_RUN(test_days);
    LT_RUN(test_days_invalid);
    LT_RUN(test_adjacent);
    LT_RUN(test_weeks_iso);
    LT_RUN(test_ordinal);
    LT_RUN(test_add);
    LT_RUN(test_add_range);
    LT_RUN(test_count_in_year);
    LT_RUN(test_within);
    LT_RUN(test_sdmx);
    LT_RUN(test_freq_names);
    return lt_test_done();
}
