/* Fuzz target for ct_period: parse, canonical round trip, ordering, and patterned input.
 * Input: the whole buffer as a period; also "PATTERN\nVALUE" for ct_period_parse_pattern. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    ct_period p, q;
    if (ct_period_parse(s, size, &p) == 0)
        round_trip(&p);
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
