/* The SOAP facade (API.md §8): GET /v1/services/{id}/wsdl and POST /soap/{id}, SOAP 1.1
 * document/literal for consumers that speak only SOAP (Circular 13/2017). GetRecords answers
 * the same records as the REST listing, through the same scan (gw_records.h) and the same
 * grant check and projection.
 *
 * Errors on /soap/{id} are SOAP Faults with HTTP 500 (WS-I Basic Profile 1.1): soap:Client
 * carrying the lt_err code (forbidden, quota_exceeded, bad_request, …) for 4xx errors,
 * soap:Server otherwise. A missing or bad token is refused by the router before this handler
 * runs, so it stays a problem+json 401: a SOAP client sees an HTTP error, not a Fault.
 * The WSDL route is an ordinary REST route and answers problem+json. */
#include <string.h>

#include "ad_soap_out.h"
#include "gw_int.h"
#include "gw_records.h"
#include "lt_limits.h"
#include "lt_str.h"

#define GW_MEDIA_XML "text/xml; charset=utf-8"
#define HOST_MAX 255

/* Replaces whatever was answered for r->ei (usually problem+json) with a SOAP Fault. */
static void soap_fault(gw_req *r)
{
    lt_err code = r->ei.code ? r->ei.code : LT_E_INTERNAL;
    bool client = lt_err_status(code) < 500;
    const char *msg = r->ei.detail[0] ? r->ei.detail : lt_err_title(code);
    lt_buf_reset(&r->out);
    ad_soap_fault_write(&r->out, client, lt_err_code(code), msg);
    r->status = 500;
    r->content_type = GW_MEDIA_XML;
    r->retry_after = r->ei.retry_after;
}

/* A Host header fit to put in a URL: host name, IPv4, [IPv6], optional port. Anything else
 * falls back to the listen address rather than writing a client's junk into the WSDL. */
static bool host_ok(const char *h)
{
    size_t n = h ? strlen(h) : 0;
    if (n == 0 || n > HOST_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* "http://<Host>/soap/<id>": the address the caller reached us by, so the WSDL works behind
 * the name the consumer uses. Arena-owned; NULL when out of memory. */
static char *endpoint_url(gw_req *r, const char *service_id)
{
    const char *host = gw_header(r, MHD_HTTP_HEADER_HOST);
    lt_buf b;
    lt_buf_init(&b, 0);
    if (host_ok(host)) {
        lt_buf_printf(&b, "http://%s/soap/", host);
    } else {
        const char *lh = r->ctx->cfg->listen_host;
        bool v6 = strchr(lh, ':') != NULL;
        lt_buf_printf(&b, "http://%s%s%s:%d/soap/", v6 ? "[" : "", lh, v6 ? "]" : "",
                      r->ctx->cfg->listen_port);
    }
    lt_buf_puts(&b, service_id);
    char *url = b.err ? NULL : lt_arena_strndup(r->arena, b.data, b.len);
    lt_buf_free(&b);
    return url;
}

void gw_h_wsdl(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    if (!svc || !gw_access_service(r, svc, GW_OP_READ))
        return;
    const char *url = endpoint_url(r, svc->id);
    if (!url) {
        gw_fail(r, LT_E_NOMEM, "the WSDL could not be built");
        return;
    }
    lt_buf_reset(&r->out);
    lt_err e = ad_wsdl_write(svc->contract, svc->id, svc->title, url, &r->out, &r->ei);
    if (e || r->out.err) {
        gw_fail(r, e ? e : r->out.err, "the WSDL of '%s' could not be built", svc->id);
        return;
    }
    r->status = 200;
    r->content_type = GW_MEDIA_XML;
}

/* -- POST /soap/{id}: GetRecords ---------------------------------------------------------- */

typedef struct soap_ctx {
    gw_req *r;
    const ct_contract *c;
    lt_buf one; /* one record projected to the grant; reused, freed by the caller */
    size_t count;
    bool bad;
} soap_ctx;

static int record_cb(void *cls, const wh_record *rec)
{
    soap_ctx *sc = cls;
    lt_buf_reset(&sc->one);
    gw_project(sc->r->grant, rec->data, rec->data_len, &sc->one);
    if (sc->one.err || ad_soap_response_record(&sc->r->out, sc->c, sc->one.data,
                                               sc->one.len) != 0) {
        sc->bad = true;
        return -1;
    }
    sc->count++;
    return 0;
}

/* An option of the parsed request (ad_soap_request_parse has checked its form). */
static lt_err apply_option(gw_req *r, gw_records_query *q, const char *key, json_t *v)
{
    const char *s = json_string_value(v);
    if (strcmp(key, "limit") == 0) {
        json_int_t n = json_integer_value(v);
        if (n < 1 || n > LT_LIST_LIMIT_MAX) /* the parser's range; the scan needs >= 1 */
            return lt_fail(&r->ei, LT_E_BAD_REQUEST, "limit must be an integer from 1 to %d",
                           LT_LIST_LIMIT_MAX);
        q->scan.limit = (size_t)n;
        return LT_OK;
    }
    if (strcmp(key, "cursor") == 0) {
        q->scan.cursor = s ? lt_arena_strdup(r->arena, s) : NULL;
        return LT_OK;
    }
    int64_t *us = strcmp(key, "since") == 0 ? &q->scan.since_us : &q->scan.as_of_us;
    if (!s || lt_time_parse(s, strlen(s), us) != 0)
        return lt_fail(&r->ei, LT_E_BAD_REQUEST, "%s must be an RFC 3339 date-time such as "
                       "2026-11-22T05:00:00Z", key);
    return LT_OK;
}

/* The parsed request into the shared scan: options, then filters (in request order). */
static lt_err apply_query(gw_req *r, gw_records_query *q, json_t *query)
{
    static const char *const options[] = {"since", "as_of", "limit", "cursor", NULL};
    const char *key;
    json_t *v;
    json_object_foreach(query, key, v) {
        bool option = false;
        for (const char *const *o = options; *o && !option; o++)
            option = strcmp(*o, key) == 0;
        lt_err e = option ? apply_option(r, q, key, v)
                          : gw_records_filter(r, q, key, json_string_value(v));
        if (e)
            return e;
    }
    return LT_OK;
}

/* Contract fields outside r->grant, for <restricted_fields> (arena-owned array). */
static const char **restricted(gw_req *r, const ct_contract *c, size_t *n)
{
    const char **names = lt_arena_alloc(r->arena, (c->nfields + 1) * sizeof *names);
    *n = 0;
    for (size_t i = 0; names && r->grant && i < c->nfields; i++) {
        const char *f = c->fields[i].name;
        if (!gw_grant_allows(r->grant, f, strlen(f)))
            names[(*n)++] = f;
    }
    return names;
}

/* Streams the GetRecordsResponse: one <record> per matching record, then the fields the
 * grant leaves out and the next page's cursor. */
static void answer(gw_req *r, const rg_service *svc, const gw_records_query *q)
{
    soap_ctx sc = {r, svc->contract, {0}, 0, false};
    char next[WH_CURSOR_MAX];
    lt_buf_init(&sc.one, 0);
    lt_buf_reset(&r->out);
    ad_soap_response_begin(&r->out, svc->id);
    lt_err e = gw_records_scan(r, q, record_cb, &sc, next);
    lt_buf_free(&sc.one);
    size_t nr = 0;
    const char **names = e ? NULL : restricted(r, svc->contract, &nr);
    if (!e && names)
        ad_soap_response_end(&r->out, names, nr, next);
    if (!e && (sc.bad || !names || r->out.err))
        e = lt_fail(&r->ei, r->out.err ? r->out.err : LT_E_NOMEM,
                    "the response could not be built");
    if (e) {
        soap_fault(r);
        return;
    }
    r->records = sc.count;
    r->status = 200;
    r->content_type = GW_MEDIA_XML;
}

void gw_h_soap(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 1);
    if (!svc) {
        soap_fault(r);
        return;
    }
    const char *ct = gw_content_type(r);
    if (strcmp(ct, "text/xml") != 0 && strcmp(ct, "application/soap+xml") != 0) {
        lt_fail(&r->ei, LT_E_MEDIA_TYPE, "expected Content-Type text/xml (SOAP 1.1) or "
                "application/soap+xml (SOAP 1.2), got '%.80s'", *ct ? ct : "(none)");
        soap_fault(r);
        return;
    }
    json_t *query = NULL;
    gw_records_query q;
    gw_records_query_init(&q, svc, LT_LIST_LIMIT_DEFAULT);
    if (!gw_access_service(r, svc, GW_OP_READ) ||
        ad_soap_request_parse(svc->contract, svc->id, r->body.data ? r->body.data : "",
                              r->body.len, &query, &r->ei) != LT_OK) {
        soap_fault(r);
        return;
    }
    lt_arena_defer(r->arena, (void (*)(void *))json_decref, query);
    if (apply_query(r, &q, query) != LT_OK) {
        soap_fault(r);
        return;
    }
    answer(r, svc, &q);
}
