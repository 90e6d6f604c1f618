/* GET /v1/alerts?area=&period=&indicator= (API.md §8): indicator targets that are behind
 * ("chỉ tiêu chưa đạt"), with the gap and the recent trend, for the IOC.
 *
 * For each target of the catalog (rg_indicator targets) matching the filters — area exactly;
 * period: the target's period equals it or contains it — the comparable value is found among
 * the observations the caller may read (one gw_obs_run for every target at once, so a granted
 * service takes one quota unit per request):
 *  - basis "period": the observation of exactly the target's period and area;
 *  - else, when the data are finer than the target (a year target, monthly data): for an
 *    indicator aggregated by sum, basis "year_to_date": the sum of the periods reported so far
 *    against the target pro-rated by the share of the target's periods they cover ("covered":
 *    "2026-M01..2026-M10" is 10 of 12); for other rules, basis "latest": the latest period's
 *    value against the target as it is.
 * Behind: direction up and value < expected, or down and value > expected. gap = value −
 * expected; gap_pct = gap / |expected| × 100 (null when expected is 0). trend: the observations
 * of the up to 6 periods of the same frequency just before the compared one, change = last −
 * first, improving when the change goes the indicator's way. Sorted by |gap_pct|, largest
 * first. Targets without any comparable value are listed by indicator code in "no_data". */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gw_obs.h"
#include "lt_str.h"

#define AL_TREND 6

typedef struct al_query {
    const char *area, *indicators; /* NULL = any; indicators: "A,B" */
    bool has_period;
    ct_period period;
} al_query;

typedef struct al_cmp {
    const char *basis;
    double value, expected;
    const gw_obs *at; /* the compared observation (the latest one for year_to_date) */
    char covered[2 * CT_PERIOD_MAX + 4];
} al_cmp;

typedef struct al_alert {
    json_t *json;
    double key; /* |gap_pct|, -1 when it has none */
    const char *indicator, *area, *period;
} al_alert;

/* -- parameters -------------------------------------------------------------------------- */

typedef struct al_walk {
    gw_req *r;
    al_query *q;
    bool failed;
} al_walk;

static bool p_area(al_query *q, const char *v)
{
    q->area = v;
    return *v != '\0';
}

static bool p_indicator(al_query *q, const char *v)
{
    q->indicators = v;
    return *v != '\0';
}

static bool p_period(al_query *q, const char *v)
{
    q->has_period = ct_period_parse(v, strlen(v), &q->period) == 0;
    return q->has_period;
}

static const struct {
    const char *name, *hint;
    bool (*fn)(al_query *q, const char *v);
} al_params[] = {
    {"area", "a code is needed", p_area},
    {"indicator", "codes separated by commas are needed", p_indicator},
    {"period", "forms: 2025, 2025-S1, 2025-Q3, 2025-M07 or 2025-07, 2025-W05, 2025-07-15",
     p_period},
};

static enum MHD_Result param_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    al_walk *w = cls;
    (void)kind;
    for (size_t i = 0; i < sizeof al_params / sizeof al_params[0]; i++) {
        if (strcmp(al_params[i].name, key) != 0)
            continue;
        if (al_params[i].fn(w->q, value ? value : ""))
            return MHD_YES;
        gw_fail(w->r, LT_E_BAD_REQUEST, "%s is not valid: '%.64s' (%s)", key, value ? value : "",
                al_params[i].hint);
        w->failed = true;
        return MHD_NO;
    }
    gw_fail(w->r, LT_E_BAD_REQUEST, "unknown query parameter '%.64s' (area, period, indicator)",
            key);
    w->failed = true;
    return MHD_NO;
}

static bool in_list(const char *list, const char *code)
{
    size_t n = strlen(code);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, code, n) == 0)
            return true;
        p = e ? e + 1 : NULL;
    }
    return false;
}

static bool target_matches(const al_query *q, const rg_indicator *ind, const rg_target *t)
{
    if (q->indicators && !in_list(q->indicators, ind->code))
        return false;
    if (q->area && strcmp(q->area, t->area) != 0)
        return false;
    return !q->has_period || (ct_period_first_day(&t->p) <= ct_period_first_day(&q->period) &&
                              ct_period_last_day(&t->p) >= ct_period_last_day(&q->period));
}

/* -- the comparison ---------------------------------------------------------------------- */

static bool exact(const gw_obs *s, size_t n, const rg_target *t, al_cmp *c)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].has_value && ct_period_cmp(&s[i].p, &t->p) == 0) {
            c->basis = "period";
            c->value = s[i].value;
            c->expected = t->value;
            c->at = &s[i];
            return true;
        }
    return false;
}

/* The frequency of the data inside the target's period: the indicator's own when it is finer,
 * else that of the latest finer observation. 0 when there is none. */
static ct_freq inner_freq(const rg_indicator *ind, const gw_obs *s, size_t n, const ct_period *tp)
{
    const gw_obs *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const gw_obs *o = &s[i];
        if (!o->has_value || o->p.freq == tp->freq || !ct_period_within(&o->p, tp, tp))
            continue;
        if (ind->freq && o->p.freq == ind->freq)
            return ind->freq;
        if (!best || ct_period_last_day(&o->p) > ct_period_last_day(&best->p))
            best = o;
    }
    return best ? best->p.freq : (ct_freq)0;
}

/* The first period of frequency f inside tp and how many there are. False when none. */
static bool periods_in(const ct_period *tp, ct_freq f, ct_period *first, int64_t *count)
{
    ct_period p = {tp->year, f, f == CT_FREQ_YEAR ? 0 : 1, f == CT_FREQ_DAY ? 1 : 0};
    int guard = 0;
    if (ct_period_add(&p, -1, &p) != 0)
        p = (ct_period){tp->year, f, f == CT_FREQ_YEAR ? 0 : 1, f == CT_FREQ_DAY ? 1 : 0};
    while (!ct_period_within(&p, tp, tp) && ct_period_first_day(&p) <= ct_period_last_day(tp) &&
           guard++ < 800 && ct_period_add(&p, 1, &p) == 0)
        ;
    if (!ct_period_within(&p, tp, tp))
        return false;
    *first = p;
    *count = 0;
    while (ct_period_within(&p, tp, tp) && *count < 800) {
        (*count)++;
        if (ct_period_add(&p, 1, &p) != 0)
            break;
    }
    return *count > 0;
}

static bool finer(const rg_indicator *ind, const gw_obs *s, size_t n, const rg_target *t, al_cmp *c)
{
    ct_freq f = inner_freq(ind, s, n, &t->p);
    double sum = 0;
    const gw_obs *last = NULL;
    for (size_t i = 0; f && i < n; i++)
        if (s[i].has_value && s[i].p.freq == f && ct_period_within(&s[i].p, &t->p, &t->p)) {
            sum += s[i].value;
            last = &s[i]; /* the series is sorted: the last one is the latest */
        }
    if (!last)
        return false;
    c->at = last;
    if (ind->aggregation != RG_AGG_SUM) {
        c->basis = "latest";
        c->value = last->value;
        c->expected = t->value;
        return true;
    }
    ct_period first;
    int64_t count;
    if (!periods_in(&t->p, f, &first, &count))
        return false;
    int64_t covered = ct_period_ordinal(&last->p) - ct_period_ordinal(&first) + 1;
    char a[CT_PERIOD_MAX];
    ct_period_format(&first, a);
    snprintf(c->covered, sizeof c->covered, "%s..%s", a, last->period);
    c->basis = "year_to_date";
    c->value = sum;
    c->expected = t->value * (double)covered / (double)count;
    return true;
}

static json_t *trend(const gw_obs *s, size_t n, const gw_obs *at, int direction)
{
    json_t *periods = json_array();
    int64_t ord = ct_period_ordinal(&at->p);
    double first = 0, last = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const gw_obs *o = &s[i];
        int64_t d = ord - ct_period_ordinal(&o->p);
        if (!o->has_value || o->p.freq != at->p.freq || d < 1 || d > AL_TREND)
            continue;
        json_array_append_new(periods,
                              json_pack("{s:s, s:f}", "period", o->period, "value", o->value));
        first = k++ ? first : o->value;
        last = o->value;
    }
    double change = last - first;
    return json_pack("{s:o, s:o, s:b}", "periods", periods, "change",
                     k ? json_real(change) : json_null(), "improving",
                     k > 1 && change * direction > 0);
}

/* The alert for target t over its series s[0..n), or NULL when it is on track. *no_data is
 * set when there is nothing to compare with. */
static json_t *alert(gw_req *r, const rg_indicator *ind, const rg_target *t, const gw_obs *s,
                     size_t n, bool *no_data, double *key)
{
    al_cmp c;
    memset(&c, 0, sizeof c);
    *no_data = !exact(s, n, t, &c) && !finer(ind, s, n, t, &c);
    if (*no_data || !ind->direction ||
        !(ind->direction > 0 ? c.value < c.expected : c.value > c.expected))
        return NULL;
    double gap = c.value - c.expected;
    char area_name[256] = "";
    rg_area_name(r->ctx->rg, t->area, area_name, sizeof area_name);
    *key = c.expected != 0 ? fabs(gap / c.expected * 100) : -1;
    json_t *a = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:s, s:f, s:o, "
        "s:s, s:o}",
        "indicator", ind->code, "name", ind->name, "unit", ind->unit, "area", t->area, "area_name",
        area_name, "target_period", t->period, "target", t->value, "expected", c.expected, "value",
        c.value, "basis", c.basis, "period", c.at->period, "gap", gap, "gap_pct",
        c.expected != 0 ? json_real(gap / fabs(c.expected) * 100) : json_null(), "direction",
        ind->direction > 0 ? "up" : "down", "trend", trend(s, n, c.at, ind->direction));
    if (a && c.covered[0])
        json_object_set_new(a, "covered", json_string(c.covered));
    return a;
}

/* -- the run ----------------------------------------------------------------------------- */

typedef struct al_run {
    rg_indicator **inds;
    size_t ninds;
    const char **codes, **areas; /* the query's lists (arena) */
    size_t ncodes, nareas;
    al_alert *alerts;
    size_t nalerts;
    json_t *no_data;
} al_run;

static void run_free(al_run *x)
{
    for (size_t i = 0; i < x->ninds; i++)
        rg_indicator_release(x->inds[i]);
    free(x->inds);
    for (size_t i = 0; i < x->nalerts; i++)
        json_decref(x->alerts[i].json);
    free(x->alerts);
    json_decref(x->no_data);
}

static void add_unique(const char **l, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(l[i], s) == 0)
            return;
    l[(*n)++] = s;
}

/* The indicators and areas of every matching target (for one engine run). */
static bool plan(gw_req *r, const al_query *q, al_run *x)
{
    size_t total = 0;
    for (size_t i = 0; i < x->ninds; i++)
        total += x->inds[i]->ntargets;
    x->codes = lt_arena_alloc(r->arena, (total + 1) * sizeof *x->codes);
    x->areas = lt_arena_alloc(r->arena, (total + 1) * sizeof *x->areas);
    x->alerts = calloc(total + 1, sizeof *x->alerts);
    if (!x->codes || !x->areas || !x->alerts)
        return false;
    for (size_t i = 0; i < x->ninds; i++)
        for (size_t j = 0; j < x->inds[i]->ntargets; j++)
            if (target_matches(q, x->inds[i], &x->inds[i]->targets[j])) {
                add_unique(x->codes, &x->ncodes, x->inds[i]->code);
                add_unique(x->areas, &x->nareas, x->inds[i]->targets[j].area);
            }
    return true;
}

/* The observations of (indicator, area) in the sorted set: [*lo, return). */
static size_t series(const gw_obs_set *s, const char *ind, const char *area, size_t *lo)
{
    size_t a = 0, b = s->n;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        int c = strcmp(s->items[mid].indicator, ind);
        if (!c)
            c = strcmp(s->items[mid].area, area);
        if (c < 0)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    while (b < s->n && strcmp(s->items[b].indicator, ind) == 0 &&
           strcmp(s->items[b].area, area) == 0)
        b++;
    return b;
}

static void evaluate(gw_req *r, const al_query *q, al_run *x, const gw_obs_set *s)
{
    for (size_t i = 0; i < x->ninds; i++) {
        const rg_indicator *ind = x->inds[i];
        bool missing = false;
        for (size_t j = 0; j < ind->ntargets; j++) {
            const rg_target *t = &ind->targets[j];
            size_t lo, hi;
            bool nd;
            double key = -1;
            if (!target_matches(q, ind, t))
                continue;
            hi = series(s, ind->code, t->area, &lo);
            json_t *a = alert(r, ind, t, s->items + lo, hi - lo, &nd, &key);
            missing = missing || nd;
            if (a)
                x->alerts[x->nalerts++] = (al_alert){a, key, ind->code, t->area, t->period};
        }
        if (missing)
            json_array_append_new(x->no_data, json_string(ind->code));
    }
}

static int cmp_alert(const void *a, const void *b)
{
    const al_alert *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    int c = strcmp(x->indicator, y->indicator);
    if (!c)
        c = strcmp(x->area, y->area);
    return c ? c : strcmp(x->period, y->period);
}

static void reply(gw_req *r, al_run *x, const gw_obs_set *s)
{
    json_t *items = json_array(), *o = json_object();
    qsort(x->alerts, x->nalerts, sizeof *x->alerts, cmp_alert);
    for (size_t i = 0; i < x->nalerts; i++)
        json_array_append(items, x->alerts[i].json);
    json_object_set_new(o, "items", items);
    json_object_set(o, "no_data", x->no_data);
    if (s && json_array_size(s->excluded))
        json_object_set(o, "excluded", s->excluded);
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    if (!text) {
        gw_fail(r, LT_E_NOMEM, "could not serialise the response");
        return;
    }
    gw_reply_raw(r, 200, GW_MEDIA_JSON, text, strlen(text));
    free(text);
    r->records = x->nalerts;
}

static lt_err run(gw_req *r, const al_query *q, al_run *x)
{
    gw_obs_set s;
    if (!plan(r, q, x) || !(x->no_data = json_array()))
        return lt_fail(&r->ei, LT_E_NOMEM, "out of memory");
    if (!x->ncodes) {
        reply(r, x, NULL);
        return LT_OK;
    }
    gw_obs_query oq = {.indicators = x->codes,
                       .nindicators = x->ncodes,
                       .areas = x->areas,
                       .nareas = x->nareas,
                       .max_obs = r->ctx->cfg->max_query_obs};
    lt_err e = gw_obs_run(r, &oq, &s);
    if (e)
        return e;
    evaluate(r, q, x, &s);
    reply(r, x, &s);
    gw_obs_set_free(&s);
    return LT_OK;
}

void gw_h_alerts(gw_req *r)
{
    al_query q;
    al_run x;
    al_walk w = {r, &q, false};
    memset(&q, 0, sizeof q);
    memset(&x, 0, sizeof x);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, param_cb, &w);
    if (w.failed)
        return;
    if (rg_indicator_all(r->ctx->rg, &x.inds, &x.ninds) != LT_OK) {
        gw_fail(r, LT_E_INTERNAL, "the indicator catalog could not be read");
        return;
    }
    if (run(r, &q, &x) != LT_OK)
        gw_reply_error(r);
    run_free(&x);
}
