/* Fuzz target for ct_period: parse, canonical round trip, ordering, patterned input, and the
 * arithmetic (days, ordinals, add, within, SDMX form, sort keys back to periods).
 * Input: the whole buffer as a period; also "PATTERN\nVALUE" for ct_period_parse_pattern;
 * the buffer's bytes also pick step counts and a raw sort key to decode. */
#include <stdint.h>
#include <string.h>

#include "ct_period.h"

/* A canonical period must parse back to itself and sort equal to it. */
static void round_trip(const ct_period *p)
{
    char buf[CT_PERIOD_MAX], again[CT_PERIOD_MAX];
    ct_period q;
    size_t n = ct_period_format(p, buf);
    if (ct_period_parse(buf, n, &q) != 0 || ct_period_cmp(p, &q) != 0 ||
        ct_period_sortkey(p) != ct_period_sortkey(&q))
        __builtin_trap();
    if (ct_period_format(&q, again) != n || memcmp(buf, again, n) != 0)
        __builtin_trap();
}

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

/* p + k: when it exists it is k ordinals on, goes back to p, and neighbours touch by days. */
static void check_add(const ct_period *p, int64_t k)
{
    ct_period q, back;
    if (ct_period_add(p, k, &q) != 0)
        return;
    check(ct_period_ordinal(&q) == ct_period_ordinal(p) + k && q.freq == p->freq);
    check(ct_period_add(&q, -k, &back) == 0 && ct_period_cmp(&back, p) == 0);
    round_trip(&q);
    if (k == 1)
        check(ct_period_first_day(&q) == ct_period_last_day(p) + 1);
    if (k > 0)
        check(ct_period_within(&q, p, NULL) && !ct_period_within(&q, NULL, p));
}

/* Invariants of the arithmetic on a valid period; steps taken from the input bytes. */
static void arithmetic(const ct_period *p, const uint8_t *data, size_t size)
{
    int64_t first = ct_period_first_day(p), last = ct_period_last_day(p);
    check(first != INT64_MIN && first <= last && last - first < 366);
    check(ct_period_within(p, p, p) && ct_period_within(p, NULL, NULL));
    char freq = ct_period_sdmx_freq(p);
    check(freq == (char)p->freq);
    int count = ct_period_count_in_year(p->freq, p->year);
    check(count >= 1 && (p->freq == CT_FREQ_DAY || p->n <= count));
    ct_period q;
    check(ct_period_from_sortkey(ct_period_sortkey(p), &q) == 0 && ct_period_cmp(p, &q) == 0);
    char buf[CT_PERIOD_MAX];
    size_t n = ct_period_format_sdmx(p, buf);
    check(n < CT_PERIOD_MAX && ct_period_parse(buf, n, &q) == 0 && ct_period_cmp(p, &q) == 0);
    int64_t k = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        k = k * 31 + data[i];
    static const int64_t fixed[] = {1, -1, 53, -53, 366, -366, 4000, -4000};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        check_add(p, fixed[i]);
    check_add(p, k % 100000 - 50000);
    check_add(p, k);
}

/* Any 64-bit key: it decodes only to a period that encodes back to it. */
static void raw_sortkey(const uint8_t *data, size_t size)
{
    uint64_t key = 0;
    for (size_t i = 0; i < size && i < 8; i++)
        key = key << 8 | data[i];
    ct_period p;
    if (ct_period_from_sortkey(key, &p) == 0) {
        check(ct_period_sortkey(&p) == key);
        round_trip(&p);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    ct_period p, q;
    raw_sortkey(data, size);
    if (ct_period_parse(s, size, &p) == 0) {
        round_trip(&p);
        arithmetic(&p, data, size);
    }
    const char *nl = memchr(s, '\n', size);
    if (!nl)
        return 0;
    char pattern[80];
    size_t plen = (size_t)(nl - s);
    if (plen >= sizeof pattern)
        return 0;
    memcpy(pattern, s, plen);
    pattern[plen] = '\0';
    const char *val = nl + 1;
    size_t vlen = size - plen - 1;
    if (ct_period_parse_pattern(val, vlen, pattern, &q) == 0) {
        round_trip(&q);
        arithmetic(&q, data, size);
        /* ordering must agree with the sort key */
        if (ct_period_parse(val, vlen, &p) == 0) {
            int c = ct_period_cmp(&p, &q);
            uint64_t a = ct_period_sortkey(&p), b = ct_period_sortkey(&q);
            if ((c < 0) != (a < b) || (c == 0) != (a == b))
                __builtin_trap();
        }
    }
    return 0;
}
