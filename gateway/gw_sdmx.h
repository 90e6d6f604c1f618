/* gw_sdmx — the SDMX REST 1.5 subset for national systems (API.md §9, docs/sdmx.md);
 * module-internal: included by gateway/gw_sdmx*.c and their unit test only.
 *
 * One dataflow, LIENTHONG:SOCIO_ECON(1.0), structure LIENTHONG:DSD_SOCIO_ECON(1.0): dimensions
 * INDICATOR (CL_INDICATOR), REF_AREA (CL_AREA), time dimension TIME_PERIOD; measure OBS_VALUE;
 * observation attributes UNIT_MEASURE (uncoded), OBS_STATUS (CL_OBS_STATUS), SOURCE_AGENCY
 * (uncoded agency code). Data come from the observation engine (gw_obs.h) under the caller's
 * grants; this module parses SDMX queries, negotiates the format and writes the messages:
 * SDMX-ML 2.1 generic data, SDMX-JSON 2.0.0, SDMX-CSV 1.0.0, SDMX-ML 2.1 structure and error
 * messages. Every error on /sdmx/ is an SDMX-ML 2.1 error message with an SDMX code.
 *
 * The parsers are pure: they fill a gw_sdmx_query (strings arena-owned) or a gw_sdmx_err
 * (SDMX code, HTTP status, text) and never reply. The writers append to a caller-owned lt_buf
 * (check out->err once at the end); they read the observations without keeping them.
 * Thread safety: everything is reentrant; nothing is kept between calls.
 */
#ifndef GW_SDMX_H
#define GW_SDMX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_period.h"
#include "gw_obs.h"
#include "lt_arena.h"
#include "lt_buf.h"
#include "lt_err.h"

#define GW_SDMX_AGENCY "LIENTHONG"
#define GW_SDMX_FLOW "SOCIO_ECON"
#define GW_SDMX_DSD "DSD_SOCIO_ECON"
#define GW_SDMX_CS "CS_SOCIO_ECON"
#define GW_SDMX_VERSION "1.0"
/* Observations one data query may return: 500,000 is ~250 MB of SDMX-ML and minutes for a
 * client to read; a national system pulls a province's year (34 × 300 × 12 ≈ 120,000) well
 * inside it. More is refused with SDMX 510 (HTTP 413) naming the count: narrow the query. */
#define GW_SDMX_MAX_OBS 500000u
/* Codes in one key position (or providers): a long URL is 8 KiB, so a few hundred at most. */
#define GW_SDMX_MAX_VALUES 1000u

/* SDMX 2.1 web-service error codes (SDMX Standards Section 07, "Error handling"). */
enum {
    GW_SDMX_E_NO_RESULTS = 100,     /* 404 */
    GW_SDMX_E_UNAUTHORIZED = 110,   /* 401 */
    GW_SDMX_E_SYNTAX = 140,         /* 400 */
    GW_SDMX_E_SEMANTIC = 150,       /* 400, or 403 when the caller is not allowed */
    GW_SDMX_E_NOT_ACCEPTABLE = 406, /* HTTP 406: no SDMX code; the status is repeated */
    GW_SDMX_E_INTERNAL = 500,
    GW_SDMX_E_NOT_IMPLEMENTED = 501,
    GW_SDMX_E_UNAVAILABLE = 503,
    GW_SDMX_E_SIZE_LIMIT = 510 /* 413 */
};

typedef struct gw_sdmx_err {
    int code; /* SDMX code above */
    int http; /* HTTP status */
    char text[LT_DETAIL_MAX];
} gw_sdmx_err;

/* Fills e (printf-style text); returns -1 so parsers can `return gw_sdmx_errf(...)`. */
int gw_sdmx_errf(gw_sdmx_err *e, int code, int http, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The SDMX code and HTTP status for an lt_err (the one mapping table of this module). */
void gw_sdmx_err_from_lt(lt_err code, const char *detail, gw_sdmx_err *e);
/* The whole SDMX-ML 2.1 error message: message:Error / ErrorMessage code / common:Text. */
void gw_sdmx_write_error(lt_buf *out, int code, const char *text);

/* ---- formats (Accept negotiation) ---- */
typedef enum gw_sdmx_fmt {
    GW_SDMX_NONE = -1,   /* nothing acceptable: 406 */
    GW_SDMX_GENERIC = 0, /* application/vnd.sdmx.genericdata+xml;version=2.1 */
    GW_SDMX_JSON,        /* application/vnd.sdmx.data+json;version=2.0.0 */
    GW_SDMX_CSV,         /* application/vnd.sdmx.data+csv;version=1.0.0 */
    GW_SDMX_STRUCTURE    /* application/vnd.sdmx.structure+xml;version=2.1 */
} gw_sdmx_fmt;

/* The format for an Accept header (NULL or empty: the default). Data queries (structure =
 * false) choose among GENERIC, JSON and CSV; structure queries take STRUCTURE only. Media
 * ranges are weighed by q (q=0 refuses), then by specificity, then by order. */
gw_sdmx_fmt gw_sdmx_negotiate(const char *accept, bool structure);
/* The response media type of a format (static text). */
const char *gw_sdmx_media(gw_sdmx_fmt f);

/* ---- data queries: /sdmx/data/{flow}[/{key}[/{provider}]]?params ---- */
typedef enum gw_sdmx_detail {
    GW_SDMX_FULL,
    GW_SDMX_DATAONLY,
    GW_SDMX_SERIESKEYSONLY,
    GW_SDMX_NODATA
} gw_sdmx_detail;

/* Dimension positions in the key and the DSD; GW_SDMX_DIM_ALL = AllDimensions (flat). */
typedef enum gw_sdmx_dim {
    GW_SDMX_DIM_INDICATOR = 0,
    GW_SDMX_DIM_AREA = 1,
    GW_SDMX_DIM_TIME = 2,
    GW_SDMX_DIM_ALL = 3
} gw_sdmx_dim;

typedef struct gw_sdmx_codes {
    const char **v; /* arena-owned; n == 0: every code */
    size_t n;
} gw_sdmx_codes;

typedef struct gw_sdmx_query {
    gw_sdmx_codes indicators, areas, providers; /* key positions; provider agency codes */
    bool has_start, has_end;
    ct_period start, end;     /* startPeriod / endPeriod */
    int64_t updated_after_us; /* 0: not given */
    size_t first_n, last_n;   /* firstNObservations / lastNObservations; 0: not given */
    gw_sdmx_dim obs_dim;      /* dimensionAtObservation (default TIME_PERIOD) */
    gw_sdmx_detail detail;    /* default full */
    gw_sdmx_fmt format;       /* the format= parameter; GW_SDMX_NONE when absent */
} gw_sdmx_query;

typedef struct gw_sdmx_param {
    const char *name, *value;
} gw_sdmx_param;

void gw_sdmx_query_init(gw_sdmx_query *q);
/* "LIENTHONG,SOCIO_ECON,1.0" and its shorter forms (SOCIO_ECON; LIENTHONG,SOCIO_ECON;
 * version latest, ~, + or *; agency all or *). Anything else: 100 / 404 (unknown flow). */
int gw_sdmx_parse_flow(const char *flow, gw_sdmx_err *e);
/* "all", or two '.'-separated positions of '+'-separated codes, each possibly empty (every
 * code). A space counts as '+' (a '+' decoded the form way). Wrong number of positions, an
 * empty code between '+' or a character outside [A-Za-z0-9_@$-]: 140 / 400. */
int gw_sdmx_parse_key(lt_arena *a, const char *key, gw_sdmx_query *q, gw_sdmx_err *e);
/* "all", or '+'-separated providers, each "AGENCY_CODE" or "LIENTHONG,AGENCY_CODE". */
int gw_sdmx_parse_provider(lt_arena *a, const char *p, gw_sdmx_query *q, gw_sdmx_err *e);
/* The query parameters (see the table in gw_sdmx_key.c); unknown names are ignored as SDMX
 * services do; known ones with a bad value: 140 / 400; startPeriod after endPeriod: 150 /
 * 400; a value this service does not implement (includeHistory=true): 501. */
int gw_sdmx_parse_params(const gw_sdmx_param *p, size_t n, gw_sdmx_query *q, gw_sdmx_err *e);
/* SDMX period for startPeriod/endPeriod: every ct_period form, plain dates, "2025-A1", and a
 * date-time (its date). 0 / -1. */
int gw_sdmx_parse_period(const char *s, ct_period *out);

/* ---- data messages ---- */
/* A name for a code of a dimension (SDMX-JSON values carry names); NULL: the code itself. */
typedef const char *(*gw_sdmx_name_fn)(void *ctx, gw_sdmx_dim dim, const char *code);

typedef struct gw_sdmx_data {
    const gw_obs *obs;         /* sorted by indicator, area, period (gw_obs_run order) */
    const char *const *agency; /* per observation: SOURCE_AGENCY ("" unknown); NULL: none */
    size_t n;
    gw_sdmx_dim obs_dim;
    gw_sdmx_detail detail;
    const char *id; /* message id (an SDMX id: [A-Za-z0-9_@$-]+) */
    int64_t prepared_us;
    gw_sdmx_name_fn name; /* may be NULL */
    void *name_ctx;
} gw_sdmx_data;

/* Write one message for d into out. LT_E_NOMEM when working memory fails; buffer errors are
 * in out->err. The three agree: same observations, values (one number format), periods
 * (ct_period_format_sdmx) and attributes. */
lt_err gw_sdmx_write_generic(const gw_sdmx_data *d, lt_buf *out);
lt_err gw_sdmx_write_json(const gw_sdmx_data *d, lt_buf *out);
lt_err gw_sdmx_write_csv(const gw_sdmx_data *d, lt_buf *out);
/* By format (GENERIC, JSON, CSV); LT_E_INTERNAL for another. */
lt_err gw_sdmx_write_data(gw_sdmx_fmt f, const gw_sdmx_data *d, lt_buf *out);

/* The OBS_STATUS code of a contract status ("ok" → "A" …); NULL when absent or unknown. And
 * the name of a CL_OBS_STATUS code (the code itself when unknown). Static text. */
const char *gw_sdmx_obs_status(const char *status);
const char *gw_sdmx_status_name(const char *code);

/* ---- structure queries: /sdmx/{resource}[/{agency}[/{id}[/{version}]]]?references=&detail= */
typedef struct gw_sdmx_struct_query {
    int resource;                      /* index into the resource table of gw_sdmx_struct.c */
    const char *agency, *id, *version; /* "all" when absent */
    int references; /* none, parents, parentsandsiblings, children, descendants, all */
} gw_sdmx_struct_query;

/* segs = the path segments after "sdmx" (resource first). 100 / 404 for an unknown resource,
 * 501 for an SDMX resource not served, 140 for a bad parameter value. */
int gw_sdmx_parse_structure(const char *const *segs, int nsegs, const gw_sdmx_param *p, size_t np,
                            gw_sdmx_struct_query *q, gw_sdmx_err *e);
/* The structure message for q. Code lists come from the registry documents (borrowed; NULL
 * when missing: the list is written without codes). 100 / 404 when nothing matches. */
int gw_sdmx_write_structure(const gw_sdmx_struct_query *q, const json_t *indicators,
                            const json_t *areas, const char *id, int64_t prepared_us, lt_buf *out,
                            gw_sdmx_err *e);

/* The reply of an error of the gateway (r->ei: code and detail) on an /sdmx/ path, as an
 * SDMX-ML error message instead of problem+json (gw_sdmx.c). For the errors answered before
 * the SDMX handlers run (a missing token: 110 / 401), gw_reply_error may call it when the
 * path starts with "/sdmx/". */
void gw_sdmx_reply_problem(gw_req *r);

/* ---- shared writing primitives (gw_sdmx_err.c) ---- */
/* XML text or attribute value, escaped; invalid UTF-8 and characters XML 1.0 cannot carry
 * become U+FFFD. */
void gw_sdmx_xml_esc(lt_buf *out, const char *s);
/* A number that reads back the same: integers as integers, else the fewest of 15..17
 * significant digits that round-trip. Returns its length; out needs 32 bytes. */
size_t gw_sdmx_num(double v, char out[32]);
/* An unsigned decimal. */
void gw_sdmx_uint(lt_buf *out, uint64_t v);
/* The SDMX-ML 2.1 message:Header children ID, Test, Prepared, Sender. */
void gw_sdmx_xml_header_start(lt_buf *out, const char *id, int64_t prepared_us);

#endif
