/* gw_obs — the observation query engine behind GET /v1/observations, GET /v1/alerts and the
 * SDMX data queries (API.md §8, §9; issue 5).
 *
 * Where observations come from: the warehouse's observations index (wh_obs_scan), which ingest
 * keeps current for every service whose contract is indicator-observation. A query reads it
 * in one read transaction and keeps only the services the caller may read (gw_obs_sources):
 * the operator all, an agency its own services plus those it holds a live grant for whose
 * granted fields include `value` (one quota unit taken per granted service per query; a
 * service over quota, suspended or in maintenance is left out and named in `excluded`).
 *
 * One value per (indicator, area, period): when two services report the same observation,
 * the one from the indicator's responsible agency wins, else the most recently stored.
 *
 * Ownership: a gw_obs_set holds the read transaction its strings point into; release it with
 * gw_obs_set_free (before the request's arena goes: computed strings live in that arena).
 * Thread safety: per request, on the calling thread.
 */
#ifndef GW_OBS_H
#define GW_OBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ct_period.h"
#include "gw_int.h"
#include "wh.h"

typedef enum gw_level { GW_LEVEL_ANY, GW_LEVEL_PROVINCE, GW_LEVEL_COMMUNE } gw_level;

typedef struct gw_obs {
    const char *indicator, *area; /* codes */
    ct_period p;                  /* the period; its canonical text below */
    const char *period;
    bool has_value;
    double value;
    const char *status, *unit;    /* "" when absent */
    const char *service;          /* contributing service ("" for an aggregate) */
    uint64_t rev;                 /* record revision (0 for an aggregate) */
    int64_t received_at_us;       /* for an aggregate: the latest of its parts */
    const char *source, *message_id; /* provenance ("" for an aggregate) */
    int parts;                    /* 0: as reported; N > 0: aggregated from N communes */
} gw_obs;

typedef struct gw_obs_query {
    const char *const *indicators; /* NULL / 0 = every indicator */
    size_t nindicators;
    const char *const *areas;      /* NULL / 0 = every area (at the level asked) */
    size_t nareas;
    const ct_period *from, *to;    /* NULL = open; compared by days (ct_period_within) */
    int64_t as_of_us;              /* > 0: each value as it was known then */
    int64_t updated_after_us;      /* > 0: only values stored after then (SDMX updatedAfter) */
    gw_level level;                /* PROVINCE: communes aggregated into their province by the
                                      indicator's rule where the province has no value of its
                                      own for that period; COMMUNE: communes only */
    bool latest;                   /* per (indicator, area): the latest period only */
    size_t first_n, last_n;        /* > 0: per series (indicator, area), the first / last N */
    size_t max_obs;                /* > 0: more matches → LT_E_TOO_LARGE (nothing returned) */
} gw_obs_query;

/* How the engine decided one service it met in the index, for the caller. */
typedef struct gw_obs_decision {
    const char *service; /* arena-owned in a set; owned copies in gw_cache */
    bool ok;             /* contributes */
    bool status, unit;   /* the grant lets the caller see them */
} gw_obs_decision;

typedef struct gw_obs_set {
    gw_obs *items;   /* arena-owned array, sorted by indicator, area, period (ct_period_cmp) */
    size_t n;
    json_t *excluded; /* [{service, reason}] services left out (new reference; may be empty) */
    const gw_obs_decision *decisions; /* every service met, as decided (arena-owned) */
    size_t ndecisions;
    uint64_t obs_gen; /* wh_obs_generation of the snapshot read */
    wh_read *txn;    /* internal: the read transaction the strings borrow from */
} gw_obs_set;

/* Runs q for the caller of r. On error replies nothing: returns the error with r->ei filled
 * (LT_E_TOO_LARGE naming the count and the cap; LT_E_INVALID for a bad query). */
lt_err gw_obs_run(gw_req *r, const gw_obs_query *q, gw_obs_set *out);
void gw_obs_set_free(gw_obs_set *s); /* NULL-safe; idempotent */

/* Decides the listed services again for the caller of r, as a query would (a live grant,
 * availability, the fields, one quota unit per granted service): true when every decision is
 * the one given and no service is excluded — a cached answer built from them still holds. */
bool gw_obs_redecide(gw_req *r, const gw_obs_decision *d, size_t n);

/* The services the caller may read observations from (new array of service ids), and
 * `excluded` as above. Used by gw_obs_run; exposed for SDMX structure queries. */
lt_err gw_obs_sources(gw_req *r, json_t **services, json_t **excluded);

/* Ingest hook (gw_ingest.c): true when the service's contract is indicator-observation.
 * gw_obs_from_record fills o from a validated, normalised record (borrowing its strings);
 * false when the record lacks indicator, area or a valid period, or when they cannot be
 * indexed (codes over LT_MAX_ID_LEN bytes or containing 0x1F, status/unit over 511 bytes). */
bool gw_obs_contract(const ct_contract *c);
bool gw_obs_from_record(const json_t *norm, const char *service, const char *key, wh_obs *o);
/* At start: indexes the records of every indicator-observation service stored before the
 * index existed (or after a failed index write), once; logs what it did. */
lt_err gw_obs_reindex(gw_ctx *ctx, lt_errinfo *ei);

#endif
