#include "lt_str.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

bool lt_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e) {
        unsigned c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        size_t len;
        unsigned cp, min;
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min = 0x10000; }
        else return false;
        if ((size_t)(e - p) < len)
            return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += len;
    }
    return true;
}

int lt_parse_i64(const char *s, size_t n, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp || memchr(s, '\0', n))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!(tmp[0] == '-' || (tmp[0] >= '0' && tmp[0] <= '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end || end == tmp)
        return -1;
    *out = v;
    return 0;
}

int lt_parse_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++) /* decimal only: no hex, inf, nan, spaces */
        if (!s[i] || !strchr("0123456789+-.eE", s[i]))
            return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (errno == ERANGE || *end || end == tmp || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

bool lt_streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

bool lt_strneq_lit(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

size_t lt_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (size) {
        size_t c = n < size - 1 ? n : size - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

int64_t lt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lt_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Howard Hinnant's civil-calendar algorithms (public domain descriptions). */
int64_t lt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void lt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int month_days(int64_t y, unsigned m)
{
    static const int md[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : md[m - 1];
}

static int digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int lt_date_parse(const char *s, size_t n, int64_t *days)
{
    unsigned y, m, d;
    if (n != 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) || digits(s + 5, 2, &m) ||
        digits(s + 8, 2, &d))
        return -1;
    if (m < 1 || m > 12 || d < 1 || (int)d > month_days(y, m))
        return -1;
    *days = lt_days_from_civil(y, m, d);
    return 0;
}

int lt_time_parse(const char *s, size_t n, int64_t *us)
{
    int64_t days;
    unsigned hh, mm, ss;
    if (n < 20 || lt_date_parse(s, 10, &days) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm) || s[16] != ':' ||
        digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
        return -1;
    size_t i = 19;
    int64_t frac = 0, scale = 1000000;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (s[i] - '0') * scale;
            }
            i++;
        }
        if (i == start)
            return -1;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
        off = 0;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        unsigned oh, om;
        if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (int64_t)(oh * 60 + om) * 60 * (s[i] == '+' ? 1 : -1);
    } else {
        return -1;
    }
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + (ss > 59 ? 59 : ss) - off;
    *us = secs * 1000000 + frac;
    return 0;
}

void lt_time_format(int64_t us, bool frac, char out[32])
{
    int64_t secs = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
    int64_t rem = us - secs * 1000000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400, y;
    unsigned m, d;
    lt_civil_from_days(days, &y, &m, &d);
    if (frac)
        snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02d.%06lldZ", (long long)y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (long long)rem);
    else
        snprintf(out, 32, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
                 (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60));
}

void lt_hex(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int lt_unhex(const char *s, size_t slen, unsigned char *p, size_t n)
{
    if (slen != 2 * n)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        p[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* Per-thread xoshiro256** state seeded from getrandom once: ids are made for every response,
 * and a system call each time cost ~4% of a record read. Thread-local, so not shared state. */
static _Thread_local uint64_t rng_s[4];
static _Thread_local bool rng_ready;

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(void)
{
    if (!rng_ready) {
        if (getrandom(rng_s, sizeof rng_s, 0) != (ssize_t)sizeof rng_s) {
            uint64_t t = (uint64_t)(lt_mono_us() ^ lt_now_us()) ^ (uint64_t)(uintptr_t)&rng_s;
            for (int i = 0; i < 4; i++) /* splitmix64 */
                rng_s[i] = (t += 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
        }
        rng_ready = true;
    }
    uint64_t r = rotl(rng_s[1] * 5, 7) * 9, t = rng_s[1] << 17;
    rng_s[2] ^= rng_s[0];
    rng_s[3] ^= rng_s[1];
    rng_s[1] ^= rng_s[2];
    rng_s[0] ^= rng_s[3];
    rng_s[2] ^= t;
    rng_s[3] = rotl(rng_s[3], 45);
    return r;
}

void lt_random_id(const char *prefix, char *out, size_t size)
{
    unsigned char r[12];
    char hx[25];
    uint64_t a = rng_next(), b = rng_next();
    memcpy(r, &a, 8);
    memcpy(r + 8, &b, 4);
    lt_hex(r, sizeof r, hx);
    snprintf(out, size, "%s%s", prefix, hx);
}

void lt_tune_malloc(void)
{
    mallopt(M_TOP_PAD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
}
