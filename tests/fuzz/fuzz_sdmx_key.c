/* Fuzz target: SDMX data and structure queries through the gw_sdmx parsers.
 * Input lines: FLOW \n KEY \n PROVIDER \n QUERY (name=value&...) \n ACCEPT; missing lines are
 * "SOCIO_ECON", "all", "all", "", none. Invariants: parsed codes are sorted, unique and in
 * the SDMX id alphabet; a parsed range never starts after it ends; every error has an SDMX
 * code and HTTP status and its error message is well-formed UTF-8; negotiation answers a
 * known format; KEY split on '/' also drives the structure parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_sdmx.h"
#include "lt_str.h"

#define MAXP 32

static void check_codes(const gw_sdmx_codes *c, bool dots)
{
    for (size_t i = 0; i < c->n; i++) {
        if (!*c->v[i] || (i && strcmp(c->v[i - 1], c->v[i]) >= 0))
            __builtin_trap();
        for (const char *p = c->v[i]; *p; p++)
            if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@$-", *p) &&
                !(dots && *p == '.'))
                __builtin_trap();
    }
}

static void check_error(const gw_sdmx_err *e)
{
    if (e->code < 100 || e->http < 400 || e->http > 599)
        __builtin_trap();
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_write_error(&b, e->code, e->text);
    if (b.err || !lt_utf8_valid(b.data, b.len))
        __builtin_trap();
    lt_buf_free(&b);
}

/* Splits "a=b&c=d" in place (no percent decoding: libmicrohttpd has done it). */
static size_t split_query(char *qs, gw_sdmx_param *p)
{
    size_t n = 0;
    for (char *s = qs; s && *s && n < MAXP;) {
        char *amp = strchr(s, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(s, '=');
        if (eq)
            *eq = '\0';
        p[n].name = s;
        p[n++].value = eq ? eq + 1 : "";
        s = amp ? amp + 1 : NULL;
    }
    return n;
}

static void structure(char *key, const gw_sdmx_param *p, size_t np)
{
    const char *segs[5];
    int n = 0;
    for (char *s = key; s && n < 5;) {
        char *slash = strchr(s, '/');
        if (slash)
            *slash = '\0';
        segs[n++] = s;
        s = slash ? slash + 1 : NULL;
    }
    gw_sdmx_struct_query q;
    gw_sdmx_err e;
    if (gw_sdmx_parse_structure(segs, n, p, np, &q, &e)) {
        check_error(&e);
        return;
    }
    lt_buf b;
    lt_buf_init(&b, 0);
    if (gw_sdmx_write_structure(&q, NULL, NULL, "F", 0, &b, &e))
        check_error(&e);
    else if (b.err || !lt_utf8_valid(b.data, b.len))
        __builtin_trap();
    lt_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    lt_arena *a = lt_arena_new(1u << 20);
    if (!in || !a)
        goto out;
    memcpy(in, data, size);
    in[size] = '\0';
    char *line[5] = {NULL, NULL, NULL, NULL, NULL};
    char *s = in;
    for (int i = 0; i < 5 && s; i++) {
        line[i] = s;
        s = strchr(s, '\n');
        if (s)
            *s++ = '\0';
    }
    gw_sdmx_param p[MAXP];
    size_t np = line[3] ? split_query(line[3], p) : 0;
    gw_sdmx_query q;
    gw_sdmx_err e;
    gw_sdmx_query_init(&q);
    int rc = gw_sdmx_parse_flow(line[0] ? line[0] : GW_SDMX_FLOW, &e);
    rc = rc ? rc : gw_sdmx_parse_key(a, line[1] ? line[1] : "all", &q, &e);
    rc = rc ? rc : gw_sdmx_parse_provider(a, line[2] ? line[2] : "all", &q, &e);
    rc = rc ? rc : gw_sdmx_parse_params(p, np, &q, &e);
    if (rc) {
        check_error(&e);
    } else {
        check_codes(&q.indicators, false);
        check_codes(&q.areas, false);
        check_codes(&q.providers, true);
        if (q.has_start && q.has_end && ct_period_first_day(&q.start) > ct_period_last_day(&q.end))
            __builtin_trap();
    }
    for (int st = 0; st < 2; st++) {
        gw_sdmx_fmt f = gw_sdmx_negotiate(line[4], st);
        if (f != GW_SDMX_NONE && f != (st ? GW_SDMX_STRUCTURE : f))
            __builtin_trap();
        if (f < GW_SDMX_NONE || f > GW_SDMX_STRUCTURE || (!st && f == GW_SDMX_STRUCTURE))
            __builtin_trap();
    }
    ct_period per;
    if (line[1] && gw_sdmx_parse_period(line[1], &per) == 0 &&
        ct_period_first_day(&per) > ct_period_last_day(&per))
        __builtin_trap();
    if (line[1])
        structure(line[1], p, np);
out:
    lt_arena_free(a);
    free(in);
    return 0;
}
