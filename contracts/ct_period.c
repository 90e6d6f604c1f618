/* ct_period — reporting periods (see ct_period.h for the accepted forms). */
#include "ct_period.h"

#include <stdbool.h>
#include <string.h>

#include "lt_str.h"

/* Reads exactly n ASCII digits; -1 on anything else. */
static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : md[m - 1];
}

/* 0 = Monday … 6 = Sunday; 1970-01-01 was a Thursday. */
static int weekday(int y, int m, int d)
{
    int64_t days = lt_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t w = (days + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

/* An ISO year has 53 weeks when it starts on a Thursday, or on a Wednesday in a leap year. */
static int iso_weeks(int y)
{
    int jan1 = weekday(y, 1, 1);
    return jan1 == 3 || (jan1 == 2 && is_leap(y)) ? 53 : 52;
}

/* Checks the ranges of an assembled period; 0 when valid. */
static int period_check(const ct_period *p)
{
    if (p->year < 1000 || p->year > 9999)
        return -1;
    switch (p->freq) {
    case CT_FREQ_YEAR:
        return p->n == 0 ? 0 : -1;
    case CT_FREQ_HALF:
        return p->n >= 1 && p->n <= 2 ? 0 : -1;
    case CT_FREQ_QUARTER:
        return p->n >= 1 && p->n <= 4 ? 0 : -1;
    case CT_FREQ_MONTH:
        return p->n >= 1 && p->n <= 12 ? 0 : -1;
    case CT_FREQ_WEEK:
        return p->n >= 1 && p->n <= iso_weeks(p->year) ? 0 : -1;
    case CT_FREQ_DAY:
        if (p->n < 1 || p->n > 12)
            return -1;
        return p->day >= 1 && p->day <= days_in_month(p->year, p->n) ? 0 : -1;
    }
    return -1;
}

/* The part after "YYYY-": "S1", "Q3", "M07", "W05", "07", "07-15". */
static int parse_suffix(const char *s, size_t len, ct_period *p)
{
    int n;
    if (len == 2 && (s[0] == 'S' || s[0] == 'Q') && !digits(s + 1, 1, &n)) {
        p->freq = s[0] == 'S' ? CT_FREQ_HALF : CT_FREQ_QUARTER;
        p->n = n;
        return 0;
    }
    if (len == 3 && (s[0] == 'M' || s[0] == 'W') && !digits(s + 1, 2, &n)) {
        p->freq = s[0] == 'M' ? CT_FREQ_MONTH : CT_FREQ_WEEK;
        p->n = n;
        return 0;
    }
    if (len == 2 && !digits(s, 2, &n)) {
        p->freq = CT_FREQ_MONTH;
        p->n = n;
        return 0;
    }
    if (len == 5 && s[2] == '-' && !digits(s, 2, &n) && !digits(s + 3, 2, &p->day)) {
        p->freq = CT_FREQ_DAY;
        p->n = n;
        return 0;
    }
    return -1;
}

int ct_period_parse(const char *s, size_t len, ct_period *out)
{
    ct_period p = {0, CT_FREQ_YEAR, 0, 0};
    if (!s || len < 4 || digits(s, 4, &p.year))
        return -1;
    if (len > 4 && (s[4] != '-' || parse_suffix(s + 5, len - 5, &p)))
        return -1;
    if (period_check(&p))
        return -1;
    *out = p;
    return 0;
}

/* Writes the low w decimal digits of |v|: a struct with out-of-range parts still yields a
 * bounded string. */
static char *put_digits(char *o, int v, int w)
{
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    for (int i = w - 1; i >= 0; i--, u /= 10)
        o[i] = (char)('0' + u % 10);
    return o + w;
}

/* Hand-written rather than snprintf: this runs for every record on the ingest path. */
size_t ct_period_format(const ct_period *p, char out[CT_PERIOD_MAX])
{
    char *o = put_digits(out, p->year, 4);
    switch (p->freq) {
    case CT_FREQ_HALF:
    case CT_FREQ_QUARTER:
        *o++ = '-';
        *o++ = (char)p->freq;
        o = put_digits(o, p->n, 1);
        break;
    case CT_FREQ_MONTH:
    case CT_FREQ_WEEK:
        *o++ = '-';
        *o++ = (char)p->freq;
        o = put_digits(o, p->n, 2);
        break;
    case CT_FREQ_DAY:
        *o++ = '-';
        o = put_digits(o, p->n, 2);
        *o++ = '-';
        o = put_digits(o, p->day, 2);
        break;
    case CT_FREQ_YEAR:
        break;
    }
    *o = '\0';
    return (size_t)(o - out);
}

/* Coarse to fine: the position of a frequency in the total order. */
static unsigned freq_rank(ct_freq f)
{
    switch (f) {
    case CT_FREQ_YEAR:
        return 1;
    case CT_FREQ_HALF:
        return 2;
    case CT_FREQ_QUARTER:
        return 3;
    case CT_FREQ_MONTH:
        return 4;
    case CT_FREQ_WEEK:
        return 5;
    case CT_FREQ_DAY:
        return 6;
    }
    return 7;
}

/* Layout: rank(8) | year(16) | n(8) | day(8); each part is range-limited so the packing is
 * monotone in the (rank, year, n, day) order that ct_period_cmp uses. */
uint64_t ct_period_sortkey(const ct_period *p)
{
    uint64_t year = (uint64_t)(p->year & 0xffff);
    uint64_t n = (uint64_t)(p->n & 0xff), day = (uint64_t)(p->day & 0xff);
    return ((uint64_t)freq_rank(p->freq) << 32) | (year << 16) | (n << 8) | day;
}

int ct_period_cmp(const ct_period *a, const ct_period *b)
{
    uint64_t ka = ct_period_sortkey(a), kb = ct_period_sortkey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/* ---- patterned input ------------------------------------------------------------------ */

/* What a pattern match has collected so far; -1 = not seen. */
typedef struct pat_state {
    int year, month, day, num;
    char numfreq; /* 'Q' or 'S' for N */
} pat_state;

#define PAT_MAX_LEN 64 /* patterns come from mapping config; this bounds backtracking */

static bool starts(const char *p, const char *tok)
{
    return strncmp(p, tok, strlen(tok)) == 0;
}

/* Stores v into *slot, failing when an earlier token set a different value. */
static int set_once(int *slot, int v)
{
    if (*slot >= 0 && *slot != v)
        return -1;
    *slot = v;
    return 0;
}

/* Builds the period once both input and pattern are consumed. */
static int pat_finish(const pat_state *st, ct_period *out)
{
    ct_period p = {st->year, CT_FREQ_YEAR, 0, 0};
    if (st->year < 0 || (st->num >= 0 && (st->month >= 0 || st->day >= 0)) ||
        (st->day >= 0 && st->month < 0))
        return -1;
    if (st->day >= 0) {
        p.freq = CT_FREQ_DAY;
        p.n = st->month;
        p.day = st->day;
    } else if (st->month >= 0) {
        p.freq = CT_FREQ_MONTH;
        p.n = st->month;
    } else if (st->num >= 0) {
        p.freq = st->numfreq == 'S' ? CT_FREQ_HALF : CT_FREQ_QUARTER;
        p.n = st->num;
    }
    if (period_check(&p))
        return -1;
    *out = p;
    return 0;
}

typedef struct pat_tok {
    size_t plen;     /* pattern characters consumed */
    size_t min, max; /* input digits */
    int which;       /* 0 year, 1 month, 2 day, 3 number */
} pat_tok;

/* The numeric token starting at pat[pi], or NULL for a literal character. */
static const pat_tok *token_at(const char *pat, size_t pi)
{
    static const pat_tok yyyy = {4, 4, 4, 0}, mm = {2, 2, 2, 1}, m = {1, 1, 2, 1},
                         dd = {2, 2, 2, 2}, d = {1, 1, 2, 2}, n = {1, 1, 1, 3};
    const char *p = pat + pi;
    if (starts(p, "YYYY"))
        return &yyyy;
    if (starts(p, "MM"))
        return &mm;
    if (*p == 'M')
        return &m;
    if (starts(p, "DD"))
        return &dd;
    if (*p == 'D')
        return &d;
    if (*p == 'N' && pi > 0 && (p[-1] == 'Q' || p[-1] == 'S'))
        return &n;
    return NULL;
}

/* Backtracking matcher (M and D take one or two digits): 0 when s matches pat[pi..]
 * completely and yields a valid period, written to out. */
static int match_from(const char *s, size_t len, const char *pat, size_t pi, pat_state st,
                      ct_period *out)
{
    if (!pat[pi])
        return len == 0 ? pat_finish(&st, out) : -1;
    const pat_tok *t = token_at(pat, pi);
    if (!t) {
        if (len == 0 || *s != pat[pi])
            return -1;
        return match_from(s + 1, len - 1, pat, pi + 1, st, out);
    }
    if (t->which == 3) {
        if (st.numfreq && st.numfreq != pat[pi - 1])
            return -1;
        st.numfreq = pat[pi - 1];
    }
    for (size_t w = t->max; w >= t->min; w--) {
        int v;
        if (w > len || digits(s, w, &v))
            continue;
        pat_state next = st;
        int *slots[] = {&next.year, &next.month, &next.day, &next.num};
        if (set_once(slots[t->which], v) == 0 &&
            match_from(s + w, len - w, pat, pi + t->plen, next, out) == 0)
            return 0;
    }
    return -1;
}

int ct_period_parse_pattern(const char *s, size_t len, const char *pattern, ct_period *out)
{
    if (!s || !pattern || strlen(pattern) > PAT_MAX_LEN)
        return -1;
    pat_state st = {-1, -1, -1, -1, 0};
    ct_period p;
    if (match_from(s, len, pattern, 0, st, &p))
        return -1;
    *out = p;
    return 0;
}

/* ---- sort keys back to periods ---------------------------------------------------------- */

int ct_period_from_sortkey(uint64_t key, ct_period *out)
{
    static const ct_freq by_rank[] = {CT_FREQ_YEAR,  CT_FREQ_HALF, CT_FREQ_QUARTER,
                                      CT_FREQ_MONTH, CT_FREQ_WEEK, CT_FREQ_DAY};
    uint64_t rank = key >> 32;
    if (rank < 1 || rank > 6)
        return -1;
    ct_period p = {(int)(key >> 16 & 0xffff), by_rank[rank - 1], (int)(key >> 8 & 0xff),
                   (int)(key & 0xff)};
    if (p.freq != CT_FREQ_DAY && p.day != 0)
        return -1;
    if (period_check(&p))
        return -1;
    *out = p;
    return 0;
}

/* ---- period arithmetic ------------------------------------------------------------------ */

/* Frequencies made of whole months: how many months one period spans. */
typedef struct month_span {
    ct_freq freq;
    int months;
} month_span;

static const month_span MONTH_SPANS[] = {
    {CT_FREQ_YEAR, 12}, {CT_FREQ_HALF, 6}, {CT_FREQ_QUARTER, 3}, {CT_FREQ_MONTH, 1}};

/* Months per period for A/S/Q/M; 0 for weeks, days and anything else. */
static int span_months(ct_freq f)
{
    for (size_t i = 0; i < sizeof MONTH_SPANS / sizeof MONTH_SPANS[0]; i++)
        if (MONTH_SPANS[i].freq == f)
            return MONTH_SPANS[i].months;
    return 0;
}

#define PERIOD_BAD_DAY INT64_MIN /* what the day functions give for an invalid period */

/* Monday of ISO week 1 of year y: the week holding January 4th. */
static int64_t iso_week1_monday(int y)
{
    return lt_days_from_civil(y, 1, 4) - weekday(y, 1, 4);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* First day of a period already known to be valid. */
static int64_t first_day(const ct_period *p)
{
    int span = span_months(p->freq);
    if (span) {
        int n = p->freq == CT_FREQ_YEAR ? 1 : p->n;
        return lt_days_from_civil(p->year, (unsigned)((n - 1) * span + 1), 1);
    }
    if (p->freq == CT_FREQ_WEEK)
        return iso_week1_monday(p->year) + 7 * (int64_t)(p->n - 1);
    return lt_days_from_civil(p->year, (unsigned)p->n, (unsigned)p->day);
}

/* Last day of a period already known to be valid. */
static int64_t last_day(const ct_period *p)
{
    int span = span_months(p->freq);
    if (span) {
        int n = p->freq == CT_FREQ_YEAR ? 1 : p->n;
        int m = n * span;
        return lt_days_from_civil(p->year, (unsigned)m, (unsigned)days_in_month(p->year, m));
    }
    if (p->freq == CT_FREQ_WEEK)
        return first_day(p) + 6;
    return first_day(p);
}

int64_t ct_period_first_day(const ct_period *p)
{
    return period_check(p) ? PERIOD_BAD_DAY : first_day(p);
}

int64_t ct_period_last_day(const ct_period *p)
{
    return period_check(p) ? PERIOD_BAD_DAY : last_day(p);
}

/* Ordinal of a valid period. Weeks count Mondays since the epoch's week (1969-12-29 is week
 * 0, because 1970-01-01, day 0, was a Thursday). */
static int64_t ordinal(const ct_period *p)
{
    int span = span_months(p->freq);
    if (span)
        return (int64_t)p->year * (12 / span) + (p->freq == CT_FREQ_YEAR ? 0 : p->n - 1);
    if (p->freq == CT_FREQ_WEEK)
        return floor_div(first_day(p) + 3, 7);
    return first_day(p);
}

int64_t ct_period_ordinal(const ct_period *p)
{
    return period_check(p) ? PERIOD_BAD_DAY : ordinal(p);
}

/* The week whose ordinal is o: its Thursday decides the ISO year. */
static void week_from_ordinal(int64_t o, ct_period *out)
{
    int64_t thursday = o * 7, y;
    unsigned m, d;
    lt_civil_from_days(thursday, &y, &m, &d);
    out->year = (int)y;
    out->n = (int)((thursday - lt_days_from_civil(y, 1, 1)) / 7) + 1;
    out->day = 0;
}

static void day_from_ordinal(int64_t o, ct_period *out)
{
    int64_t y;
    unsigned m, d;
    lt_civil_from_days(o, &y, &m, &d);
    out->year = (int)y;
    out->n = (int)m;
    out->day = (int)d;
}

/* Bounds every step count: ten thousand years of days, so ordinals never overflow. */
#define PERIOD_MAX_STEP ((int64_t)4000000)

int ct_period_add(const ct_period *p, int64_t k, ct_period *out)
{
    if (period_check(p) || k > PERIOD_MAX_STEP || k < -PERIOD_MAX_STEP)
        return -1;
    int64_t o = ordinal(p) + k;
    ct_period q = {0, p->freq, 0, 0};
    int span = span_months(p->freq);
    if (span) {
        int per_year = 12 / span;
        q.year = (int)floor_div(o, per_year);
        q.n = p->freq == CT_FREQ_YEAR ? 0 : (int)(o - (int64_t)q.year * per_year) + 1;
    } else if (p->freq == CT_FREQ_WEEK) {
        week_from_ordinal(o, &q);
    } else {
        day_from_ordinal(o, &q);
    }
    if (period_check(&q))
        return -1;
    *out = q;
    return 0;
}

int ct_period_count_in_year(ct_freq f, int year)
{
    if (year < 1000 || year > 9999)
        return 0;
    int span = span_months(f);
    if (span)
        return 12 / span;
    if (f == CT_FREQ_WEEK)
        return iso_weeks(year);
    if (f == CT_FREQ_DAY)
        return is_leap(year) ? 366 : 365;
    return 0;
}

int ct_period_within(const ct_period *p, const ct_period *from, const ct_period *to)
{
    if (period_check(p) || (from && period_check(from)) || (to && period_check(to)))
        return 0;
    if (from && first_day(p) < first_day(from))
        return 0;
    if (to && last_day(p) > last_day(to))
        return 0;
    return 1;
}

size_t ct_period_format_sdmx(const ct_period *p, char out[CT_PERIOD_MAX])
{
    if (p->freq != CT_FREQ_MONTH)
        return ct_period_format(p, out);
    char *o = put_digits(out, p->year, 4);
    *o++ = '-';
    o = put_digits(o, p->n, 2);
    *o = '\0';
    return (size_t)(o - out);
}

char ct_period_sdmx_freq(const ct_period *p)
{
    return freq_rank(p->freq) <= 6 ? (char)p->freq : 0;
}

ct_freq ct_freq_from_name(const char *name)
{
    static const struct {
        const char *name;
        ct_freq freq;
    } names[] = {
        {"yearly", CT_FREQ_YEAR},      {"annual", CT_FREQ_YEAR}, {"half-yearly", CT_FREQ_HALF},
        {"quarterly", CT_FREQ_QUARTER}, {"monthly", CT_FREQ_MONTH}, {"weekly", CT_FREQ_WEEK},
        {"daily", CT_FREQ_DAY},
    };
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].freq;
    return (ct_freq)0;
}
