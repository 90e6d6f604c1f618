/* ct_period — reporting periods: parsing, canonical form, ordering, and patterned input.
 *
 * Forms accepted (API.md §5): "2025" (year), "2025-S1" (half), "2025-Q3" (quarter),
 * "2025-M07" and "2025-07" (month), "2025-W05" (ISO week), "2025-07-15" (day).
 * Canonical output: "2025", "2025-S1", "2025-Q3", "2025-M07", "2025-W05", "2025-07-15".
 * Invalid: "2025-13", "2025-Q5", "2025-S3", "2025-W54" (or W53 in a 52-week year),
 * "2025-02-30", years outside 1000..9999, any trailing text.
 * Contract: pure functions, thread-safe, never read past len.
 */
#ifndef CT_PERIOD_H
#define CT_PERIOD_H

#include <stddef.h>
#include <stdint.h>

typedef enum ct_freq {
    CT_FREQ_YEAR = 'A',
    CT_FREQ_HALF = 'S',
    CT_FREQ_QUARTER = 'Q',
    CT_FREQ_MONTH = 'M',
    CT_FREQ_WEEK = 'W',
    CT_FREQ_DAY = 'D'
} ct_freq;

typedef struct ct_period {
    int year;
    ct_freq freq;
    int n;   /* half 1-2, quarter 1-4, month 1-12, week 1-53, day: month 1-12; year: 0 */
    int day; /* CT_FREQ_DAY only: 1-31 */
} ct_period;

#define CT_PERIOD_MAX 16 /* buffer size for a canonical period */

/* 0 on success, -1 on anything that is not a valid period. */
int ct_period_parse(const char *s, size_t len, ct_period *out);
/* Writes the canonical form; returns its length. */
size_t ct_period_format(const ct_period *p, char out[CT_PERIOD_MAX]);
/* Parses a value written in a pattern such as "MM/YYYY", "YYYY-MM", "DD/MM/YYYY", "YYYY",
 * "QN/YYYY" (Q then quarter digit), "YYYYMM": tokens YYYY, MM, M, DD, D, N (quarter/half
 * number after a literal Q or S), other characters literal. Returns 0 / -1. */
int ct_period_parse_pattern(const char *s, size_t len, const char *pattern, ct_period *out);
/* Total order: by frequency first, then by time (so one frequency's periods are contiguous). */
int ct_period_cmp(const ct_period *a, const ct_period *b);
/* A 64-bit key that sorts like ct_period_cmp (for warehouse indexes). */
uint64_t ct_period_sortkey(const ct_period *p);
/* The inverse of ct_period_sortkey: 0 / -1 when the key is not one of a valid period. */
int ct_period_from_sortkey(uint64_t key, ct_period *out);

/* ---- period arithmetic (issue 5: observations, alerts, SDMX) ----
 * Days are counted from 1970-01-01 (day 0), proleptic Gregorian. An ISO week runs Monday to
 * Sunday and belongs to the year of its Thursday. A struct that is not a valid period gives
 * INT64_MIN from first_day/last_day/ordinal, -1 from add, 0 from within; count_in_year is 0 for
 * an unknown frequency or a year outside 1000..9999; sdmx_freq is 0 for an unknown frequency. */
/* First and last day of the period (inclusive). */
int64_t ct_period_first_day(const ct_period *p);
int64_t ct_period_last_day(const ct_period *p);
/* Position within its frequency: consecutive periods of one frequency differ by 1 (a year's
 * ordinal is the year; a month's year*12 + month-1; a day's its day number). */
int64_t ct_period_ordinal(const ct_period *p);
/* The period k steps later (k < 0: earlier) in the same frequency; -1 when out of the
 * 1000..9999 year range. */
int ct_period_add(const ct_period *p, int64_t k, ct_period *out);
/* Periods of frequency `f` in one year (A 1, S 2, Q 4, M 12, D 365/366, W 52/53). */
int ct_period_count_in_year(ct_freq f, int year);
/* True when p lies within [from, to] by days: first_day(p) >= first_day(from) and
 * last_day(p) <= last_day(to). A NULL bound is open. */
int ct_period_within(const ct_period *p, const ct_period *from, const ct_period *to);
/* SDMX TIME_PERIOD form (SDMX 2.1 / ISO 8601 reporting periods): "2025", "2025-S1",
 * "2025-Q3", "2025-07", "2025-W05", "2025-07-15". Returns its length. */
size_t ct_period_format_sdmx(const ct_period *p, char out[CT_PERIOD_MAX]);
/* SDMX frequency code of a period: A, S, Q, M, W, D. */
char ct_period_sdmx_freq(const ct_period *p);
/* The frequency named by an indicator's periodicity ("yearly"|"annual", "half-yearly",
 * "quarterly", "monthly", "weekly", "daily"); 0 when unknown. */
ct_freq ct_freq_from_name(const char *name);

#endif
