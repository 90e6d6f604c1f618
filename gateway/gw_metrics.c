/* Prometheus metrics: request counts by route and status, latency histograms by route,
 * ingest counts, and warehouse gauges read at scrape time. Counters are relaxed atomics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_cache.h"
#include "gw_int.h"
#include "lt_str.h"

static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 406, 409,
                               413, 415, 422, 429, 500, 502, 503, 504, 507};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]) + 1) /* + "other" */
static const double bounds_ms[] = {0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000};
#define NBUCKET ((int)(sizeof bounds_ms / sizeof bounds_ms[0]) + 1) /* + "+Inf" */
#define NROUTE (GW_MAX_ROUTES + 1) /* + unmatched */

struct gw_metrics {
    atomic_ullong count[NROUTE][NSTATUS];
    atomic_ullong hist[NROUTE][NBUCKET];
    atomic_ullong sum_us[NROUTE];
    atomic_ullong accepted, unchanged, rejected;
};

lt_err gw_metrics_new(gw_metrics **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? LT_OK : LT_E_NOMEM;
}

void gw_metrics_free(gw_metrics *m) { free(m); }

static int status_index(int status)
{
    for (int i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void gw_metrics_request(gw_metrics *m, int route, int status, int64_t dur_us)
{
    int ri = route >= 0 && route < GW_MAX_ROUTES ? route : GW_MAX_ROUTES;
    int b = 0;
    while (b < NBUCKET - 1 && (double)dur_us / 1000.0 > bounds_ms[b])
        b++;
    atomic_fetch_add_explicit(&m->count[ri][status_index(status)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->hist[ri][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[ri], (unsigned long long)dur_us, memory_order_relaxed);
}

void gw_metrics_ingest(gw_metrics *m, size_t accepted, size_t unchanged, size_t rejected)
{
    atomic_fetch_add_explicit(&m->accepted, accepted, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->unchanged, unchanged, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->rejected, rejected, memory_order_relaxed);
}

static const char *route_label(int ri)
{
    const gw_route *rt = gw_route_at(ri);
    return rt ? rt->op : "unmatched";
}

static void render_requests(gw_metrics *m, lt_buf *o)
{
    lt_buf_puts(o, "# HELP lienthong_requests_total HTTP requests by route and status.\n"
                   "# TYPE lienthong_requests_total counter\n");
    for (int r = 0; r < NROUTE; r++)
        for (int s = 0; s < NSTATUS; s++) {
            unsigned long long v = atomic_load_explicit(&m->count[r][s], memory_order_relaxed);
            if (!v)
                continue;
            char st[8];
            snprintf(st, sizeof st, "%d", s < NSTATUS - 1 ? statuses[s] : 0);
            lt_buf_printf(o, "lienthong_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          route_label(r), s < NSTATUS - 1 ? st : "other", v);
        }
}

static void render_latency(gw_metrics *m, lt_buf *o)
{
    lt_buf_puts(o, "# HELP lienthong_request_duration_seconds Request latency by route.\n"
                   "# TYPE lienthong_request_duration_seconds histogram\n");
    for (int r = 0; r < NROUTE; r++) {
        unsigned long long cum = 0, n[NBUCKET];
        for (int b = 0; b < NBUCKET; b++)
            cum += n[b] = atomic_load_explicit(&m->hist[r][b], memory_order_relaxed);
        if (!cum)
            continue;
        const char *lbl = route_label(r);
        unsigned long long acc = 0;
        for (int b = 0; b < NBUCKET; b++) {
            acc += n[b];
            if (b < NBUCKET - 1)
                lt_buf_printf(o, "lienthong_request_duration_seconds_bucket{route=\"%s\","
                                 "le=\"%g\"} %llu\n", lbl, bounds_ms[b] / 1000.0, acc);
            else
                lt_buf_printf(o, "lienthong_request_duration_seconds_bucket{route=\"%s\","
                                 "le=\"+Inf\"} %llu\n", lbl, acc);
        }
        lt_buf_printf(o, "lienthong_request_duration_seconds_sum{route=\"%s\"} %.6f\n", lbl,
                      (double)atomic_load(&m->sum_us[r]) / 1e6);
        lt_buf_printf(o, "lienthong_request_duration_seconds_count{route=\"%s\"} %llu\n", lbl,
                      cum);
    }
}

void gw_metrics_render(gw_ctx *ctx, lt_buf *o)
{
    gw_metrics *m = ctx->metrics;
    render_requests(m, o);
    render_latency(m, o);
    lt_buf_puts(o, "# HELP lienthong_ingest_records_total Records received by outcome.\n"
                   "# TYPE lienthong_ingest_records_total counter\n");
    lt_buf_printf(o, "lienthong_ingest_records_total{outcome=\"accepted\"} %llu\n"
                     "lienthong_ingest_records_total{outcome=\"unchanged\"} %llu\n"
                     "lienthong_ingest_records_total{outcome=\"rejected\"} %llu\n",
                  atomic_load(&m->accepted), atomic_load(&m->unchanged),
                  atomic_load(&m->rejected));
    wh_stats st = {0};
    size_t quarantined = 0;
    wh_read *rd = NULL;
    wh_stat(ctx->wh, &st);
    if (wh_read_begin(ctx->wh, &rd, NULL) == LT_OK) {
        wh_quarantine_count(rd, &quarantined);
        wh_read_end(rd);
    }
    lt_buf_printf(o, "# TYPE lienthong_quarantine_records gauge\nlienthong_quarantine_records %zu\n"
                     "# TYPE lienthong_audit_entries gauge\nlienthong_audit_entries %llu\n"
                     "# TYPE lienthong_warehouse_bytes gauge\nlienthong_warehouse_bytes %llu\n"
                     "# TYPE lienthong_warehouse_map_bytes gauge\nlienthong_warehouse_map_bytes %llu\n"
                     "# TYPE lienthong_uptime_seconds gauge\nlienthong_uptime_seconds %lld\n",
                  quarantined, (unsigned long long)st.audit_entries,
                  (unsigned long long)st.used_bytes, (unsigned long long)st.map_size,
                  (long long)((lt_now_us() - ctx->started_us) / 1000000));
    size_t entries = 0, bytes = 0;
    uint64_t hits = 0, misses = 0;
    if (ctx->cache)
        gw_cache_stats(ctx->cache, &entries, &bytes, &hits, &misses);
    lt_buf_printf(o, "# TYPE lienthong_answer_cache_hits_total counter\n"
                     "lienthong_answer_cache_hits_total %llu\n"
                     "# TYPE lienthong_answer_cache_misses_total counter\n"
                     "lienthong_answer_cache_misses_total %llu\n"
                     "# TYPE lienthong_answer_cache_entries gauge\n"
                     "lienthong_answer_cache_entries %zu\n"
                     "# TYPE lienthong_answer_cache_bytes gauge\nlienthong_answer_cache_bytes %zu\n",
                  (unsigned long long)hits, (unsigned long long)misses, entries, bytes);
}
