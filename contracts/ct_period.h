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

#endif
