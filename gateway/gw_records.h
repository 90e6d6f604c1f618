/* gw_records — the record scan shared by the REST listing (gw_h_records.c) and the SOAP
 * facade (gw_h_soap.c), internal to gateway/: filters on contract fields (a field outside the
 * caller's grant may not be filtered on), since / as_of / limit / cursor, one read
 * transaction. Projection to the granted fields is the caller's: each writer projects as it
 * writes (gw_env_record, or gw_project before a SOAP record).
 *
 * Errors are written into r->ei and returned; nothing is replied, so the REST listing answers
 * problem+json (gw_reply_error) and the SOAP facade answers a Fault from the same error.
 * Ownership: filter values are copied into r->arena; a query lives on the caller's stack and
 * borrows svc for the request. Thread safety: one request, one thread. */
#ifndef GW_RECORDS_H
#define GW_RECORDS_H

#include "gw_int.h"

#define GW_MAX_FILTERS 16
#define GW_MAX_FILTER_VALUES 64

typedef struct gw_filter {
    const ct_field *field;
    const char *values[GW_MAX_FILTER_VALUES]; /* arena-owned */
    size_t n;
} gw_filter;

typedef struct gw_records_query {
    const rg_service *svc;
    gw_filter filters[GW_MAX_FILTERS];
    size_t nfilters;
    wh_scan scan; /* since_us, as_of_us, cursor (borrowed), limit */
} gw_records_query;

/* Called for each stored record that passes the filters, in scan order; returns 0 to count
 * it, -1 to stop the scan. */
typedef int (*gw_record_fn)(void *cls, const wh_record *rec);

/* An empty query of svc: no filters, no since/as_of, no cursor, limit `limit`. */
void gw_records_query_init(gw_records_query *q, const rg_service *svc, size_t limit);
/* Adds a filter "v1,v2" on field `name` (period values normalised: "2026-10" finds
 * "2026-M10"). Errors: LT_E_FORBIDDEN for a contract field outside r->grant, LT_E_BAD_REQUEST
 * for a name that is not a contract field or too many filters or values. */
lt_err gw_records_filter(gw_req *r, gw_records_query *q, const char *name, const char *values);
/* True when rec passes every filter of q. */
bool gw_records_match(const gw_records_query *q, const wh_record *rec);
/* Runs the scan in its own read transaction, calling fn for each matching record; next
 * receives the next page's cursor ("" when none). Errors in r->ei (a malformed cursor is
 * LT_E_BAD_REQUEST). */
lt_err gw_records_scan(gw_req *r, const gw_records_query *q, gw_record_fn fn, void *cls,
                       char next[WH_CURSOR_MAX]);

#endif
