/* GET /v1/observations (API.md §8): indicator observations across services, through the
 * engine of gw_obs.h. The query string is checked against a table of parameters (an unknown
 * one is a 400 naming it); the answer is written straight into the response buffer, one
 * observation after another, without building a JSON tree.
 *
 * Paging: the whole query runs (capped at limits.max_observations_per_query) and `limit` items after the cursor
 * are returned; the cursor is the hex of the last item's "indicator \x1f area \x1f period", so
 * a page boundary stays put when data arrive meanwhile. GET /v1/alerts is in gw_alerts.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gw_cache.h"
#include "gw_obs.h"
#include "lt_str.h"

#define OBS_LIMIT_DEFAULT 1000
#define OBS_LIMIT_MAX 10000
#define OBS_LIST_MAX 1000  /* codes in one indicator= or area= list */
#define OBS_CURSOR_MAX 600 /* bytes of a decoded cursor */

typedef struct obs_req {
    gw_obs_query q;
    ct_period from, to;
    bool provenance;
    size_t limit;
    bool has_cursor;
    char cur_ind[OBS_CURSOR_MAX], *cur_area; /* the cursor's key, decoded */
    ct_period cur_p;
} obs_req;

typedef bool (*obs_param_fn)(gw_req *r, obs_req *o, const char *name, const char *v);

/* -- parameters -------------------------------------------------------------------------- */

static bool bad(gw_req *r, const char *fmt, const char *name, const char *v)
{
    gw_fail(r, LT_E_BAD_REQUEST, fmt, name, v);
    return false;
}

/* "A,B,C" → arena array of the non-empty codes. */
static bool p_list(gw_req *r, obs_req *o, const char *name, const char *v)
{
    size_t n = 1;
    for (const char *p = v; *p; p++)
        n += *p == ',';
    char *copy = lt_arena_strdup(r->arena, v);
    const char **l = lt_arena_alloc(r->arena, n * sizeof *l);
    if (!copy || !l)
        return bad(r, "%s is too long: '%.64s…'", name, v);
    size_t k = 0;
    for (char *p = copy, *next; p; p = next) {
        if ((next = strchr(p, ',')) != NULL)
            *next++ = '\0';
        if (*p)
            l[k++] = p;
    }
    if (!k)
        return bad(r, "%s must list one or more codes separated by commas, not '%.64s'", name, v);
    if (k > OBS_LIST_MAX) {
        gw_fail(r, LT_E_BAD_REQUEST, "%s lists %zu codes; at most %d are allowed", name, k,
                OBS_LIST_MAX);
        return false;
    }
    if (name[0] == 'i') {
        o->q.indicators = l;
        o->q.nindicators = k;
    } else {
        o->q.areas = l;
        o->q.nareas = k;
    }
    return true;
}

static bool p_period(gw_req *r, obs_req *o, const char *name, const char *v)
{
    ct_period *p = name[0] == 'f' ? &o->from : &o->to;
    if (ct_period_parse(v, strlen(v), p) != 0)
        return bad(r,
                   "%s is not a period: '%.64s' (forms: 2025, 2025-S1, 2025-Q3, 2025-M07 "
                   "or 2025-07, 2025-W05, 2025-07-15)",
                   name, v);
    if (name[0] == 'f')
        o->q.from = p;
    else
        o->q.to = p;
    return true;
}

static bool p_flag(gw_req *r, obs_req *o, const char *name, const char *v)
{
    bool on = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
    if (!on && strcmp(v, "false") != 0 && strcmp(v, "0") != 0)
        return bad(r, "%s must be true or false, not '%.64s'", name, v);
    if (name[0] == 'l')
        o->q.latest = on;
    else
        o->provenance = on;
    return true;
}

static bool p_time(gw_req *r, obs_req *o, const char *name, const char *v)
{
    int64_t us;
    if (lt_time_parse(v, strlen(v), &us) != 0 || us <= 0)
        return bad(r,
                   "%s must be an RFC 3339 date-time such as 2026-11-22T05:00:00Z, not "
                   "'%.64s'",
                   name, v);
    if (name[0] == 'a')
        o->q.as_of_us = us;
    else
        o->q.updated_after_us = us;
    return true;
}

static bool p_level(gw_req *r, obs_req *o, const char *name, const char *v)
{
    if (strcmp(v, "province") == 0)
        o->q.level = GW_LEVEL_PROVINCE;
    else if (strcmp(v, "commune") == 0)
        o->q.level = GW_LEVEL_COMMUNE;
    else
        return bad(r, "%s must be province or commune, not '%.64s'", name, v);
    return true;
}

static bool p_limit(gw_req *r, obs_req *o, const char *name, const char *v)
{
    int64_t n;
    if (lt_parse_i64(v, strlen(v), &n) != 0 || n < 1 || n > OBS_LIMIT_MAX) {
        gw_fail(r, LT_E_BAD_REQUEST, "%s must be an integer from 1 to %d, not '%.64s'", name,
                OBS_LIMIT_MAX, v);
        return false;
    }
    o->limit = (size_t)n;
    return true;
}

static bool p_cursor(gw_req *r, obs_req *o, const char *name, const char *v)
{
    size_t n = strlen(v) / 2;
    unsigned char *raw = (unsigned char *)o->cur_ind;
    if (strlen(v) % 2 || n == 0 || n >= OBS_CURSOR_MAX || lt_unhex(v, strlen(v), raw, n) != 0)
        return bad(r, "%s is not a cursor of this listing: '%.64s'", name, v);
    raw[n] = '\0';
    char *a = memchr(o->cur_ind, 0x1f, n),
         *p = a ? memchr(a + 1, 0x1f, n - (size_t)(a + 1 - o->cur_ind)) : NULL;
    if (!p || strlen(o->cur_ind) != n || ct_period_parse(p + 1, strlen(p + 1), &o->cur_p) != 0)
        return bad(r, "%s is not a cursor of this listing: '%.64s'", name, v);
    *a = *p = '\0';
    o->cur_area = a + 1;
    o->has_cursor = true;
    return true;
}

static const struct {
    const char *name;
    obs_param_fn fn;
} obs_params[] = {
    {"indicator", p_list}, {"area", p_list},       {"from", p_period},   {"to", p_period},
    {"latest", p_flag},    {"provenance", p_flag}, {"as_of", p_time},    {"updated_after", p_time},
    {"level", p_level},    {"limit", p_limit},     {"cursor", p_cursor},
};

typedef struct param_walk {
    gw_req *r;
    obs_req *o;
    bool failed;
} param_walk;

static enum MHD_Result param_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    param_walk *w = cls;
    (void)kind;
    for (size_t i = 0; i < sizeof obs_params / sizeof obs_params[0]; i++) {
        if (strcmp(obs_params[i].name, key) != 0)
            continue;
        if (!obs_params[i].fn(w->r, w->o, key, value ? value : ""))
            w->failed = true;
        return w->failed ? MHD_NO : MHD_YES;
    }
    bad(w->r, "unknown query parameter '%.64s'%s", key,
        " (indicator, area, from, to, latest, "
        "as_of, updated_after, level, provenance, limit, cursor)");
    w->failed = true;
    return MHD_NO;
}

static bool parse_request(gw_req *r, obs_req *o)
{
    memset(o, 0, sizeof *o);
    o->limit = OBS_LIMIT_DEFAULT;
    param_walk w = {r, o, false};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, param_cb, &w);
    if (w.failed)
        return false;
    if (o->q.from && o->q.to && ct_period_first_day(o->q.from) > ct_period_last_day(o->q.to)) {
        char f[CT_PERIOD_MAX], t[CT_PERIOD_MAX];
        ct_period_format(o->q.from, f);
        ct_period_format(o->q.to, t);
        gw_fail(r, LT_E_BAD_REQUEST, "from (%s) is after to (%s)", f, t);
        return false;
    }
    o->q.max_obs = r->ctx->cfg->max_query_obs;
    return true;
}

/* -- the answer -------------------------------------------------------------------------- */

static size_t put_u64(char *out, uint64_t v)
{
    char tmp[24];
    size_t n = 0, k = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        out[k++] = tmp[--n];
    return k;
}

/* The shortest text that reads back as v: a decimal with up to 6 places when one is exact,
 * else %.17g. */
static void put_number(lt_buf *b, double v)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    char s[40];
    size_t n = 0;
    double a = fabs(v);
    for (int d = 0; d <= 6 && a < 9e15 / pow10[d]; d++) {
        /* m / 10^d is correctly rounded (m < 2^53), so it equals a exactly when the decimal
         * with d places reads back as a: 100.12 is found at d = 2 although 100.12 * 100 is
         * 10012.000000000002 in binary. */
        double m = nearbyint(a * pow10[d]);
        if (m / pow10[d] != a)
            continue;
        uint64_t u = (uint64_t)m, ip = u / (uint64_t)pow10[d], fp = u % (uint64_t)pow10[d];
        if (v < 0)
            s[n++] = '-';
        n += put_u64(s + n, ip);
        if (d) {
            char frac[8];
            size_t fl = put_u64(frac, fp);
            s[n++] = '.';
            for (size_t z = fl; z < (size_t)d; z++)
                s[n++] = '0';
            memcpy(s + n, frac, fl);
            n += fl;
        }
        lt_buf_append(b, s, n);
        return;
    }
    lt_buf_printf(b, "%.17g", v);
}

static void put_str(lt_buf *b, const char *s)
{
    if (s && *s)
        lt_buf_json_str(b, s, strlen(s));
    else
        lt_buf_puts(b, "null");
}

static const char *rule_name(gw_req *r, const char *code)
{
    static const char *const names[] = {"none", "sum", "mean", "weighted_mean"};
    rg_indicator *ind = NULL;
    const char *name = "none";
    if (rg_indicator_get(r->ctx->rg, code, &ind) == LT_OK && ind &&
        (unsigned)ind->aggregation < sizeof names / sizeof names[0])
        name = names[ind->aggregation];
    rg_indicator_release(ind);
    return name;
}

static void put_provenance(lt_buf *b, const gw_obs *o)
{
    char at[32];
    lt_time_format(o->received_at_us, true, at);
    lt_buf_puts(b, ",\"provenance\":{\"service\":");
    put_str(b, o->service);
    lt_buf_puts(b, ",\"source\":");
    put_str(b, o->source);
    lt_buf_puts(b, ",\"message_id\":");
    put_str(b, o->message_id);
    lt_buf_printf(b, ",\"received_at\":\"%s\",\"revision\":", at);
    if (o->rev)
        lt_buf_printf(b, "%llu}", (unsigned long long)o->rev);
    else
        lt_buf_puts(b, "null}");
}

typedef struct rule_cache {
    const char *code, *rule;
} rule_cache;

static void put_item(gw_req *r, lt_buf *b, const gw_obs *o, bool prov, rule_cache *rc)
{
    lt_buf_puts(b, "{\"indicator\":");
    lt_buf_json_str(b, o->indicator, strlen(o->indicator));
    lt_buf_puts(b, ",\"area\":");
    lt_buf_json_str(b, o->area, strlen(o->area));
    lt_buf_puts(b, ",\"period\":");
    lt_buf_json_str(b, o->period, strlen(o->period));
    lt_buf_puts(b, ",\"value\":");
    if (o->has_value && isfinite(o->value))
        put_number(b, o->value);
    else
        lt_buf_puts(b, "null");
    lt_buf_puts(b, ",\"status\":");
    put_str(b, o->status);
    lt_buf_puts(b, ",\"unit\":");
    put_str(b, o->unit);
    lt_buf_puts(b, ",\"service\":");
    put_str(b, o->service);
    if (o->parts) {
        if (!rc->code || strcmp(rc->code, o->indicator) != 0) {
            rc->code = o->indicator;
            rc->rule = rule_name(r, o->indicator);
        }
        lt_buf_printf(b, ",\"aggregated\":{\"rule\":\"%s\",\"parts\":%d}", rc->rule, o->parts);
    }
    if (prov)
        put_provenance(b, o);
    lt_buf_putc(b, '}');
}

/* Index of the first item after the cursor's key (items are sorted by that key). */
static size_t after_cursor(const obs_req *o, const gw_obs_set *s)
{
    size_t lo = 0, hi = s->n;
    if (!o->has_cursor)
        return 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const gw_obs *it = &s->items[mid];
        int c = strcmp(it->indicator, o->cur_ind);
        if (!c)
            c = strcmp(it->area, o->cur_area);
        if (!c)
            c = ct_period_cmp(&it->p, &o->cur_p);
        if (c <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void put_cursor(lt_buf *b, const gw_obs *last)
{
    char key[OBS_CURSOR_MAX], hex[2 * OBS_CURSOR_MAX + 1];
    int n = snprintf(key, sizeof key, "%s\x1f%s\x1f%s", last->indicator, last->area, last->period);
    if (n <= 0 || (size_t)n >= sizeof key) {
        lt_buf_puts(b, "null");
        return;
    }
    lt_hex((const unsigned char *)key, (size_t)n, hex);
    lt_buf_printf(b, "\"%s\"", hex);
}

static void answer(gw_req *r, const obs_req *o, const gw_obs_set *s)
{
    lt_buf *b = &r->out;
    size_t start = after_cursor(o, s), end = start + o->limit < s->n ? start + o->limit : s->n;
    rule_cache rc = {NULL, NULL};
    lt_buf_reset(b);
    lt_buf_puts(b, "{\"items\":[");
    for (size_t i = start; i < end; i++) {
        if (i > start)
            lt_buf_putc(b, ',');
        put_item(r, b, &s->items[i], o->provenance, &rc);
    }
    lt_buf_puts(b, "],\"next_cursor\":");
    if (end < s->n)
        put_cursor(b, &s->items[end - 1]);
    else
        lt_buf_puts(b, "null");
    if (json_array_size(s->excluded)) {
        char *ex = json_dumps(s->excluded, JSON_COMPACT);
        lt_buf_puts(b, ",\"excluded\":");
        lt_buf_puts(b, ex ? ex : "[]");
        free(ex);
    }
    lt_buf_putc(b, '}');
    r->records = end - start;
    if (b->err) {
        gw_fail(r, b->err, "the response could not be built");
        return;
    }
    r->status = 200;
    r->content_type = GW_MEDIA_JSON;
}

void gw_h_observations(gw_req *r)
{
    obs_req o;
    gw_obs_set s;
    lt_buf key;
    if (!parse_request(r, &o))
        return;
    /* Dashboards ask the same again and again: a current cached answer is sent as is. */
    uint64_t wgen = atomic_load(&r->ctx->writes);
    bool keyed = gw_cache_key(r, "observations", NULL, &key);
    if (keyed && gw_cache_try(r, &key, wgen)) {
        lt_buf_free(&key);
        return;
    }
    if (gw_obs_run(r, &o.q, &s) != LT_OK) {
        lt_buf_free(&key);
        gw_reply_error(r);
        return;
    }
    answer(r, &o, &s);
    if (keyed)
        gw_cache_offer(r, &key, wgen, &s);
    gw_obs_set_free(&s);
    lt_buf_free(&key);
}
