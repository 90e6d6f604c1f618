/* SDMX data queries: the flow reference, the key ('.' positions, '+' for OR, empty for all),
 * the provider, the query parameters, and Accept negotiation. Pure parsers (gw_sdmx.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw_sdmx.h"
#include "lt_str.h"

void gw_sdmx_query_init(gw_sdmx_query *q)
{
    memset(q, 0, sizeof *q);
    q->obs_dim = GW_SDMX_DIM_TIME;
    q->detail = GW_SDMX_FULL;
    q->format = GW_SDMX_NONE;
}

/* ---- the flow reference ---- */

static bool is_one_of(const char *s, size_t n, const char *const *set)
{
    for (; *set; set++)
        if (lt_strneq_lit(s, n, *set))
            return true;
    return false;
}

int gw_sdmx_parse_flow(const char *flow, gw_sdmx_err *e)
{
    static const char *const agencies[] = {GW_SDMX_AGENCY, "all", "*", NULL};
    static const char *const versions[] = {GW_SDMX_VERSION, "1.0.0", "latest", "~", "+", "*",
                                           "all",           NULL};
    const char *part[3] = {flow, NULL, NULL};
    size_t len[3] = {0, 0, 0}, n = 1;
    for (const char *p = flow;; p++) {
        if (*p != ',' && *p)
            continue;
        len[n - 1] = (size_t)(p - part[n - 1]);
        if (!*p || n == 3)
            break;
        part[n++] = p + 1;
    }
    bool ok = strlen(flow) == (size_t)(part[n - 1] + len[n - 1] - flow);
    const char *id = n == 1 ? part[0] : part[1];
    size_t idn = n == 1 ? len[0] : len[1];
    ok = ok && lt_strneq_lit(id, idn, GW_SDMX_FLOW);
    ok = ok && (n == 1 || is_one_of(part[0], len[0], agencies));
    ok = ok && (n < 3 || is_one_of(part[2], len[2], versions));
    if (!ok)
        return gw_sdmx_errf(e, GW_SDMX_E_NO_RESULTS, 404,
                            "no dataflow '%.100s': this service serves " GW_SDMX_AGENCY
                            "," GW_SDMX_FLOW "," GW_SDMX_VERSION,
                            flow);
    return 0;
}

/* ---- the key and the provider ---- */

static bool is_id_char(int c, bool dots)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '@' || c == '$' || c == '-' || (dots && c == '.');
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* s[0..n): '+'-separated codes (a space counts as '+'); n == 0: every code. Sorted, unique. */
static int parse_codes(lt_arena *a, const char *s, size_t n, bool dots, const char *what,
                       gw_sdmx_codes *out, gw_sdmx_err *e)
{
    out->v = NULL;
    out->n = 0;
    if (n == 0)
        return 0;
    size_t k = 1;
    for (size_t i = 0; i < n; i++)
        k += s[i] == '+' || s[i] == ' ';
    if (k > GW_SDMX_MAX_VALUES)
        return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "%s: %zu values; at most %u", what, k,
                            GW_SDMX_MAX_VALUES);
    const char **v = lt_arena_alloc(a, k * sizeof *v);
    if (!v)
        return gw_sdmx_errf(e, GW_SDMX_E_SIZE_LIMIT, 413, "the query is too large");
    size_t start = 0, m = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '+' && s[i] != ' ') {
            if (!is_id_char((unsigned char)s[i], dots))
                return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "%s: '%.*s' is not a valid code",
                                    what, (int)(n > 100 ? 100 : n), s);
            continue;
        }
        if (i == start)
            return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "%s: an empty code in '%.*s'", what,
                                (int)(n > 100 ? 100 : n), s);
        if (!(v[m++] = lt_arena_strndup(a, s + start, i - start)))
            return gw_sdmx_errf(e, GW_SDMX_E_SIZE_LIMIT, 413, "the query is too large");
        start = i + 1;
    }
    qsort(v, m, sizeof *v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < m; i++)
        if (u == 0 || strcmp(v[u - 1], v[i]) != 0)
            v[u++] = v[i];
    out->v = v;
    out->n = u;
    return 0;
}

int gw_sdmx_parse_key(lt_arena *a, const char *key, gw_sdmx_query *q, gw_sdmx_err *e)
{
    q->indicators.n = q->areas.n = 0;
    if (strcmp(key, "all") == 0 || strcmp(key, "*") == 0)
        return 0;
    const char *dot = strchr(key, '.');
    size_t positions = 1;
    for (const char *p = key; *p; p++)
        positions += *p == '.';
    if (positions != 2)
        return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400,
                            "the key '%.100s' has %zu position%s; flow " GW_SDMX_FLOW
                            " has 2 dimensions (INDICATOR.REF_AREA), e.g. POP.20+12 or .20",
                            key, positions, positions == 1 ? "" : "s");
    if (parse_codes(a, key, (size_t)(dot - key), false, "key position 1 (INDICATOR)",
                    &q->indicators, e))
        return -1;
    return parse_codes(a, dot + 1, strlen(dot + 1), false, "key position 2 (REF_AREA)", &q->areas,
                       e);
}

/* "LIENTHONG,000.00.31.H32" names the provider 000.00.31.H32 of the LIENTHONG scheme: *skip
 * is where the provider id starts. Another scheme's agency: 100 / 404. */
static int provider_id(const char *s, size_t n, size_t *skip, gw_sdmx_err *e)
{
    const char *comma = memchr(s, ',', n);
    *skip = 0;
    if (!comma)
        return 0;
    size_t an = (size_t)(comma - s);
    if (!lt_strneq_lit(s, an, GW_SDMX_AGENCY) && !lt_strneq_lit(s, an, "all"))
        return gw_sdmx_errf(e, GW_SDMX_E_NO_RESULTS, 404,
                            "no data provider scheme of agency "
                            "'%.*s': providers are " GW_SDMX_AGENCY ",AGENCY_CODE",
                            (int)(an > 64 ? 64 : an), s);
    *skip = an + 1;
    return 0;
}

int gw_sdmx_parse_provider(lt_arena *a, const char *p, gw_sdmx_query *q, gw_sdmx_err *e)
{
    q->providers.n = 0;
    if (strcmp(p, "all") == 0 || strcmp(p, "*") == 0)
        return 0;
    size_t n = strlen(p), k = 0, skip;
    char *s = lt_arena_strndup(a, p, n); /* the ids without their scheme, '+'-separated */
    if (!s)
        return gw_sdmx_errf(e, GW_SDMX_E_SIZE_LIMIT, 413, "the query is too large");
    for (size_t i = 0, start = 0; i <= n; i++) {
        if (i < n && p[i] != '+' && p[i] != ' ')
            continue;
        if (provider_id(p + start, i - start, &skip, e))
            return -1;
        if (i - start == skip)
            return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "provider: an empty id in '%.100s'", p);
        memcpy(s + k, p + start + skip, i - start - skip);
        k += i - start - skip;
        if (i < n)
            s[k++] = '+';
        start = i + 1;
    }
    s[k] = '\0';
    return parse_codes(a, s, k, true, "provider", &q->providers, e);
}

/* ---- periods and times ---- */

int gw_sdmx_parse_period(const char *s, ct_period *out)
{
    size_t n = strlen(s);
    if (ct_period_parse(s, n, out) == 0)
        return 0;
    if (n == 7 && s[4] == '-' && s[5] == 'A' && s[6] == '1') /* SDMX reporting year */
        return ct_period_parse(s, 4, out);
    if (n > 10 && s[10] == 'T') { /* a date-time: its date */
        for (size_t i = 11; i < n; i++)
            if (!strchr("0123456789:.+-Z ", s[i]))
                return -1;
        return ct_period_parse(s, 10, out);
    }
    return -1;
}

/* RFC 3339 date-time or a plain date (midnight UTC); a '+' decoded to ' ' is put back. */
static int parse_time(const char *s, int64_t *us)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -1;
    for (size_t i = 0; i <= n; i++)
        buf[i] = s[i] == ' ' ? '+' : s[i];
    int64_t days;
    if (lt_time_parse(buf, n, us) == 0)
        return 0;
    if (lt_date_parse(buf, n, &days) == 0) {
        *us = days * 86400 * 1000000;
        return 0;
    }
    return -1;
}

/* ---- the query parameters: a table of name → setter ---- */

typedef int (*param_fn)(const char *v, gw_sdmx_query *q, gw_sdmx_err *e);

static int bad_value(gw_sdmx_err *e, const char *name, const char *v, const char *want)
{
    return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "%s: '%.64s' is not %s", name, v, want);
}

#define PERIODS "a period (2025, 2025-S1, 2025-Q3, 2025-07, 2025-W05, 2025-07-15)"

static int p_start(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    q->has_start = true;
    return gw_sdmx_parse_period(v, &q->start) ? bad_value(e, "startPeriod", v, PERIODS) : 0;
}

static int p_end(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    q->has_end = true;
    return gw_sdmx_parse_period(v, &q->end) ? bad_value(e, "endPeriod", v, PERIODS) : 0;
}

static int p_updated(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    if (parse_time(v, &q->updated_after_us) || q->updated_after_us <= 0)
        return bad_value(e, "updatedAfter", v, "an RFC 3339 date-time (2026-11-22T05:00:00Z)");
    return 0;
}

static int count_value(const char *name, const char *v, size_t *out, gw_sdmx_err *e)
{
    int64_t n;
    if (lt_parse_i64(v, strlen(v), &n) || n < 1 || n > 1000000000)
        return bad_value(e, name, v, "a positive integer");
    *out = (size_t)n;
    return 0;
}

static int p_first(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    return count_value("firstNObservations", v, &q->first_n, e);
}

static int p_last(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    return count_value("lastNObservations", v, &q->last_n, e);
}

static int p_dim(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    static const char *const names[] = {"INDICATOR", "REF_AREA", "TIME_PERIOD", "AllDimensions"};
    for (int i = 0; i < 4; i++)
        if (strcmp(v, names[i]) == 0) {
            q->obs_dim = (gw_sdmx_dim)i;
            return 0;
        }
    return bad_value(e, "dimensionAtObservation", v,
                     "TIME_PERIOD, AllDimensions, INDICATOR or REF_AREA");
}

static int p_detail(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    static const char *const names[] = {"full", "dataonly", "serieskeysonly", "nodata"};
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, names[i]) == 0) {
            q->detail = (gw_sdmx_detail)i;
            return 0;
        }
    return bad_value(e, "detail", v, "full, dataonly, serieskeysonly or nodata");
}

static int p_history(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    (void)q;
    if (strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0)
        return gw_sdmx_errf(e, GW_SDMX_E_NOT_IMPLEMENTED, 501,
                            "includeHistory=true is not "
                            "served: the revisions are at GET /v1/services/{id}/records/{key}"
                            "?history=true");
    return bad_value(e, "includeHistory", v, "true or false");
}

/* format= (the ECB / Eurostat convention) overrides Accept. */
static int p_format(const char *v, gw_sdmx_query *q, gw_sdmx_err *e)
{
    static const char *const names[] = {"genericdata", "jsondata", "csvdata"};
    for (int i = 0; i < 3; i++)
        if (strcasecmp(v, names[i]) == 0) {
            q->format = (gw_sdmx_fmt)i;
            return 0;
        }
    return gw_sdmx_errf(e, GW_SDMX_E_NOT_ACCEPTABLE, 406,
                        "format '%.40s' cannot be produced; "
                        "this service writes genericdata, jsondata and csvdata",
                        v);
}

static const struct {
    const char *name;
    param_fn fn;
} params[] = {
    {"startPeriod", p_start},      {"endPeriod", p_end},
    {"updatedAfter", p_updated},   {"firstNObservations", p_first},
    {"lastNObservations", p_last}, {"dimensionAtObservation", p_dim},
    {"detail", p_detail},          {"includeHistory", p_history},
    {"format", p_format},
};
#define NPARAMS (sizeof params / sizeof params[0])

int gw_sdmx_parse_params(const gw_sdmx_param *p, size_t n, gw_sdmx_query *q, gw_sdmx_err *e)
{
    bool seen[NPARAMS] = {false};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < NPARAMS; k++) {
            if (!p[i].name || strcmp(p[i].name, params[k].name) != 0)
                continue;
            const char *v = p[i].value ? p[i].value : "";
            if (seen[k])
                return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400, "%s is given twice", params[k].name);
            seen[k] = true;
            if (params[k].fn(v, q, e))
                return -1;
        }
    }
    if (q->has_start && q->has_end &&
        ct_period_first_day(&q->start) > ct_period_last_day(&q->end)) {
        char a[CT_PERIOD_MAX], b[CT_PERIOD_MAX];
        ct_period_format_sdmx(&q->start, a);
        ct_period_format_sdmx(&q->end, b);
        return gw_sdmx_errf(e, GW_SDMX_E_SEMANTIC, 400, "startPeriod %s is after endPeriod %s", a,
                            b);
    }
    return 0;
}

/* ---- Accept negotiation ---- */

typedef struct media {
    const char *type;
    const char *versions[3]; /* accepted version= values; none listed: no version param */
    gw_sdmx_fmt fmt;
    int spec; /* specificity: exact SDMX type 3, plain type 2, x/ * 1, * / * 0 */
} media;

static const media data_media[] = {
    {"application/vnd.sdmx.genericdata+xml", {"2.1", NULL, NULL}, GW_SDMX_GENERIC, 3},
    {"application/vnd.sdmx.data+json", {"2.0.0", "2.0", "2"}, GW_SDMX_JSON, 3},
    {"application/vnd.sdmx.data+csv", {"1.0.0", "1.0", "1"}, GW_SDMX_CSV, 3},
    {"application/xml", {NULL, NULL, NULL}, GW_SDMX_GENERIC, 2},
    {"text/xml", {NULL, NULL, NULL}, GW_SDMX_GENERIC, 2},
    {"application/json", {NULL, NULL, NULL}, GW_SDMX_JSON, 2},
    {"text/csv", {NULL, NULL, NULL}, GW_SDMX_CSV, 2},
    {"application/*", {NULL, NULL, NULL}, GW_SDMX_GENERIC, 1},
    {"*/*", {NULL, NULL, NULL}, GW_SDMX_GENERIC, 0},
};

static const media struct_media[] = {
    {"application/vnd.sdmx.structure+xml", {"2.1", NULL, NULL}, GW_SDMX_STRUCTURE, 3},
    {"application/xml", {NULL, NULL, NULL}, GW_SDMX_STRUCTURE, 2},
    {"text/xml", {NULL, NULL, NULL}, GW_SDMX_STRUCTURE, 2},
    {"application/*", {NULL, NULL, NULL}, GW_SDMX_STRUCTURE, 1},
    {"*/*", {NULL, NULL, NULL}, GW_SDMX_STRUCTURE, 0},
};

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

static const char *find_in(const char *s, const char *end, char c)
{
    return s < end ? memchr(s, c, (size_t)(end - s)) : NULL;
}

static size_t trim_len(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    return (size_t)(end - s);
}

/* One media range [s, end): its type, q (0..1000) and version parameter. */
typedef struct range {
    const char *type, *version;
    size_t tlen, vlen;
    int q;
} range;

static int parse_q(const char *v, size_t n)
{
    double d;
    if (lt_parse_double(v, n, &d) || d < 0 || d > 1)
        return -1;
    return (int)(d * 1000 + 0.5);
}

static int parse_range(const char *s, const char *end, range *r)
{
    memset(r, 0, sizeof *r);
    r->q = 1000;
    s = skip_ws(s, end);
    const char *semi = find_in(s, end, ';');
    r->type = s;
    r->tlen = trim_len(s, semi ? semi : end);
    while (semi) {
        const char *p = skip_ws(semi + 1, end);
        semi = find_in(p, end, ';');
        const char *pend = semi ? semi : end, *eq = find_in(p, pend, '=');
        if (!eq)
            continue;
        size_t nlen = trim_len(p, eq);
        const char *v = skip_ws(eq + 1, pend);
        size_t vlen = trim_len(v, pend);
        if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"')
            v++, vlen -= 2;
        if (nlen == 1 && (*p == 'q' || *p == 'Q')) {
            if ((r->q = parse_q(v, vlen)) < 0)
                return -1;
        } else if (nlen == 7 && strncasecmp(p, "version", 7) == 0) {
            r->version = v;
            r->vlen = vlen;
        }
    }
    return r->tlen ? 0 : -1;
}

static const media *match_range(const range *r, const media *table, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strlen(table[i].type) != r->tlen || strncasecmp(table[i].type, r->type, r->tlen))
            continue;
        if (!r->version)
            return &table[i];
        for (int k = 0; k < 3 && table[i].versions[k]; k++)
            if (lt_strneq_lit(r->version, r->vlen, table[i].versions[k]))
                return &table[i];
        return NULL;
    }
    return NULL;
}

gw_sdmx_fmt gw_sdmx_negotiate(const char *accept, bool structure)
{
    const media *table = structure ? struct_media : data_media;
    size_t n = structure ? sizeof struct_media / sizeof struct_media[0]
                         : sizeof data_media / sizeof data_media[0];
    if (!accept || !*skip_ws(accept, accept + strlen(accept)))
        return table[0].fmt;
    const media *best = NULL;
    int best_q = 0;
    const char *end = accept + strlen(accept);
    for (const char *s = accept; s <= end;) {
        const char *comma = find_in(s, end, ',');
        const char *stop = comma ? comma : end;
        range r;
        const media *m = parse_range(s, stop, &r) == 0 ? match_range(&r, table, n) : NULL;
        if (m && r.q > 0 && (r.q > best_q || (r.q == best_q && m->spec > best->spec))) {
            best = m;
            best_q = r.q;
        }
        s = stop + 1;
    }
    return best ? best->fmt : GW_SDMX_NONE;
}

const char *gw_sdmx_media(gw_sdmx_fmt f)
{
    static const char *const types[] = {
        [GW_SDMX_GENERIC] = "application/vnd.sdmx.genericdata+xml;version=2.1",
        [GW_SDMX_JSON] = "application/vnd.sdmx.data+json;version=2.0.0",
        [GW_SDMX_CSV] = "application/vnd.sdmx.data+csv;version=1.0.0;charset=utf-8",
        [GW_SDMX_STRUCTURE] = "application/vnd.sdmx.structure+xml;version=2.1",
    };
    return f >= 0 && f <= GW_SDMX_STRUCTURE ? types[f] : "application/xml;charset=utf-8";
}
