/* Operations endpoints: /healthz, /metrics, /v1/audit (API.md §10). */
#include <stdio.h>
#include <string.h>

#include "gw_int.h"
#include "lt_json.h"
#include "lt_str.h"

/* The writability probe takes LMDB's write lock, so run it at most once a second. */
static lt_err health(gw_ctx *ctx, char *why, size_t whysize)
{
    int64_t now = lt_mono_us(), last = atomic_load(&ctx->health_checked_us);
    if (last && now - last < 1000000 && atomic_load(&ctx->health_err) == LT_OK)
        return LT_OK;
    lt_errinfo ei = {0};
    lt_err e = wh_check_writable(ctx->wh, &ei);
    atomic_store(&ctx->health_err, (int)e);
    atomic_store(&ctx->health_checked_us, now);
    snprintf(why, whysize, "%s", ei.detail[0] ? ei.detail : lt_strerror(e));
    lt_errinfo_clear(&ei);
    return e;
}

void gw_h_healthz(gw_req *r)
{
    char why[LT_DETAIL_MAX] = "";
    long long up = (long long)((lt_now_us() - r->ctx->started_us) / 1000000);
    if (health(r->ctx, why, sizeof why) != LT_OK) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:[s]}", "status", "unavailable", "version",
                              GW_VERSION, "uptime_s", (json_int_t)up, "reasons", why);
        gw_reply_json(r, 503, o);
        return;
    }
    char body[128]; /* built by hand: this is the hottest, simplest path */
    int n = snprintf(body, sizeof body, "{\"status\":\"ok\",\"version\":\"%s\",\"uptime_s\":%lld}",
                     GW_VERSION, up);
    gw_reply_raw(r, 200, GW_MEDIA_JSON, body, (size_t)n);
}

void gw_h_metrics(gw_req *r)
{
    lt_buf_reset(&r->out);
    gw_metrics_render(r->ctx, &r->out);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4";
}

typedef struct audit_filter {
    const char *service, *org;
    json_t *items;
    size_t limit;
    uint64_t last;
    bool more;
} audit_filter;

static int audit_cb(void *ctx, uint64_t seq, const char *json, size_t len)
{
    audit_filter *f = ctx;
    if (json_array_size(f->items) >= f->limit) {
        f->more = true;
        return 1;
    }
    json_t *e = json_loadb(json, len, 0, NULL);
    if (!e)
        return 0;
    bool keep = (!f->service || lt_streq(lt_json_str_or(e, "service"), f->service)) &&
                (!f->org || lt_streq(lt_json_str_or(e, "org"), f->org));
    f->last = seq;
    if (keep)
        json_array_append_new(f->items, e);
    else
        json_decref(e);
    return 0;
}

void gw_h_audit_list(gw_req *r)
{
    size_t limit;
    const char *cursor, *since = gw_query(r, "since_seq");
    if (!gw_paging(r, &limit, &cursor))
        return;
    int64_t from = 0;
    if ((since && (lt_parse_i64(since, strlen(since), &from) || from < 0)) ||
        (cursor && (lt_parse_i64(cursor, strlen(cursor), &from) || from < 0))) {
        gw_fail(r, LT_E_BAD_REQUEST, "since_seq and cursor must be non-negative integers");
        return;
    }
    audit_filter f = {gw_query(r, "service"), gw_query(r, "org"), json_array(), limit, 0, false};
    wh_read *rd = NULL;
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e)
        e = wh_audit_list(rd, (uint64_t)from, (size_t)-1, audit_cb, &f);
    wh_read_end(rd);
    if (e) {
        json_decref(f.items);
        gw_fail(r, e, "cannot read the audit log");
        return;
    }
    char next[24] = "";
    if (f.more)
        snprintf(next, sizeof next, "%llu", (unsigned long long)f.last);
    gw_reply_list(r, f.items, next);
}

/* Entries per export call: an archive of a busy year is paged with from_seq. */
#define GW_AUDIT_EXPORT_MAX 100000

static bool seq_param(gw_req *r, const char *name, uint64_t dflt, uint64_t *out)
{
    const char *s = gw_query(r, name);
    int64_t v = 0;
    *out = dflt;
    if (!s)
        return true;
    if (lt_parse_i64(s, strlen(s), &v) || v < 1) {
        gw_fail(r, LT_E_BAD_REQUEST, "%s must be a positive integer", name);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

static int export_cb(void *ctx, uint64_t seq, const char *json, size_t len)
{
    (void)seq;
    lt_buf_append(ctx, json, len);
    lt_buf_putc(ctx, '\n');
    return 0;
}

/* GET /v1/audit/export?from_seq=&to_seq= (admin): JSON Lines for archiving. The first line
 * names the range, the hash the range's first entry chains from and the chain head; then each
 * entry byte-exact, so `lienthong verify-audit --file` can check the archive on its own. */
void gw_h_audit_export(gw_req *r)
{
    uint64_t from, to, head = 0;
    if (!seq_param(r, "from_seq", 1, &from) || !seq_param(r, "to_seq", UINT64_MAX, &to))
        return;
    if (to < from) {
        gw_fail(r, LT_E_BAD_REQUEST, "to_seq is before from_seq");
        return;
    }
    char prev[65], head_hash[65], now[32];
    wh_read *rd = NULL;
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e)
        e = wh_audit_hash_at(rd, from - 1, prev, &head, head_hash);
    if (e == LT_OK && to > head)
        to = head;
    if (e == LT_OK && to >= from && to - from >= GW_AUDIT_EXPORT_MAX)
        e = lt_fail(&r->ei, LT_E_TOO_LARGE, "at most %d entries per export: page with from_seq "
                    "and to_seq", GW_AUDIT_EXPORT_MAX);
    else if (e == LT_E_NOT_FOUND)
        lt_fail(&r->ei, e, "from_seq %llu is past the chain head (%llu)",
                (unsigned long long)from, (unsigned long long)head);
    else if (e && e != LT_E_TOO_LARGE)
        lt_fail(&r->ei, e, "cannot read the audit log");
    lt_time_format(lt_now_us(), true, now);
    if (!e) {
        lt_buf_printf(&r->out, "{\"export\":\"lienthong-audit\",\"version\":1,\"from_seq\":%llu,"
                      "\"to_seq\":%llu,\"prev_hash\":\"%s\",\"chain_head\":{\"seq\":%llu,"
                      "\"hash\":\"%s\"},\"exported_at\":\"%s\"}\n", (unsigned long long)from,
                      (unsigned long long)(to >= from ? to : from - 1), prev,
                      (unsigned long long)head, head_hash, now);
        if (to >= from)
            e = wh_audit_list(rd, from - 1, (size_t)(to - from + 1), export_cb, &r->out);
        if (e)
            lt_fail(&r->ei, e, "cannot read the audit log");
    }
    wh_read_end(rd);
    if (e || r->out.err) {
        lt_buf_reset(&r->out);
        if (!e)
            lt_fail(&r->ei, LT_E_NOMEM, "the export does not fit in memory");
        gw_reply_error(r);
        return;
    }
    r->status = 200;
    r->content_type = "application/x-ndjson";
}

/* Recomputes the whole hash chain (Decree 47 Art. 45 evidence); names the first broken entry. */
void gw_h_audit_verify(gw_req *r)
{
    uint64_t count = 0, bad = 0;
    lt_errinfo ei = {0};
    lt_err e = wh_audit_verify(r->ctx->wh, &count, &bad, &ei);
    lt_errinfo_clear(&ei);
    if (e && e != LT_E_CONFLICT) {
        gw_fail(r, e, "cannot read the audit log");
        return;
    }
    json_t *o = json_pack("{s:I, s:b}", "entries", (json_int_t)count, "valid", e == LT_OK);
    if (e == LT_E_CONFLICT)
        json_object_set_new(o, "broken_at", json_integer((json_int_t)bad));
    gw_reply_json(r, 200, o);
}
