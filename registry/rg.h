/* rg — the registry: agencies, code lists, contracts and data-sharing services (API.md §5),
 * stored in the warehouse and cached in memory, compiled, for the request path.
 *
 * Definitions are validated strictly (unknown keys are LT_E_INVALID naming the key and where).
 * Every write goes to the warehouse first (durable), then replaces the cached entry.
 * Contracts are immutable once stored (id@version): a second POST of the same ref is
 * LT_E_CONFLICT. Services start in status "draft"; transitions: draft→published,
 * published→suspended, suspended→published, any→retired; retired is final (LT_E_CONFLICT).
 *
 * Ownership: rg_open returns a new registry (rg_close). json_t ** outputs are new references
 * (json_decref). rg_service_get returns a counted reference to an immutable snapshot: release
 * it with rg_service_release; an update publishes a new snapshot and old ones stay valid until
 * released. const ct_contract * from rg_contract_get is borrowed and valid until rg_close.
 * Thread safety: every function may be called from many threads at once (rwlock on caches).
 */
#ifndef RG_H
#define RG_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ad_mapping.h"
#include "ct_contract.h"
#include "ct_period.h"
#include "lt_err.h"
#include "wh.h"

typedef struct rg_registry rg_registry;

typedef struct rg_service {
    const char *id, *agency, *title, *sharing, *status; /* borrowed from def */
    const char *format;         /* source.format: json | xml | soap | csv */
    const char *mode;           /* source.mode: push | pull */
    bool auto_approve;
    bool audit_full;            /* "audit": "full" — exchanges keep their bodies, masked */
    const ct_contract *contract; /* borrowed from the registry */
    ad_mapping *mapping;         /* owned by the snapshot; NULL = identity */
    json_t *def;                 /* stored document: definition + status, status_reason,
                                    created_at, updated_at, maintenance? (owned) */
    /* Planned maintenance window (Decree 47 Art. 43), from def.maintenance: data paths answer
     * 503 while maint_from_us <= now < maint_until_us. 0 = none. */
    int64_t maint_from_us, maint_until_us;
    int refs;                    /* internal: atomic reference count */
} rg_service;

/* Loads every stored code list, contract and service into the caches. */
lt_err rg_open(wh_env *env, rg_registry **out, lt_errinfo *ei);
void rg_close(rg_registry *rg);

/* Loads dir/agencies.json (array of agencies), dir/systems.json (array of systems {id,
 * agency, name, description?}, rg_sharing.h), dir/codelists/ *.json, dir/contracts/ *.json,
 * dir/services/ *.json (each one definition; a service file may carry "status": "published")
 * and dir/indicators.json (array; stored as documents of kind WH_INDICATORS by code) — each
 * item only when its id is absent from the warehouse (never overwrites API changes).
 * With dry_run, validates everything (in dependency order, against the files themselves) and
 * stores nothing: `lienthong check-config` uses it. Errors: "FILE:LINE:COL: message". */
lt_err rg_bootstrap(rg_registry *rg, const char *dir, bool dry_run, lt_errinfo *ei);
/* check-config without a warehouse: validates a bootstrap folder on its own. */
lt_err rg_check_bootstrap_dir(const char *dir, lt_errinfo *ei);

/* Generic listing of stored documents of one kind: items = array of objects, *next_cursor =
 * new string (free()) with the last id when more remain, else NULL. */
lt_err rg_list(rg_registry *rg, wh_kind kind, const char *after, size_t limit, json_t **items,
               char **next_cursor, lt_errinfo *ei);
/* A stored document by id (any kind). LT_E_NOT_FOUND. */
lt_err rg_doc_get(rg_registry *rg, wh_kind kind, const char *id, json_t **out);

/* Agencies {code, name, parent?, contact: {name, position, phone, email}}; code matches
 * [A-Z0-9.]{1,35}; parent must exist. Adds created_at. */
lt_err rg_agency_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei);
bool rg_agency_exists(rg_registry *rg, const char *code);

/* Code lists {id, title, codes: [...]}; id in the path must equal body id when present.
 * *created tells 201 from 200. */
lt_err rg_codelist_put(rg_registry *rg, const char *id, const json_t *body, bool *created,
                       json_t **out, lt_errinfo *ei);
/* Membership test; matches ct_code_fn (ctx is the registry). */
bool rg_code_exists(void *rg, const char *codelist, const char *code);

/* Contracts (ct_contract_parse rules); code lists named by code fields must exist. */
lt_err rg_contract_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei);
/* ref "id@version". LT_E_NOT_FOUND. */
lt_err rg_contract_get(rg_registry *rg, const char *ref, const ct_contract **out);

/* Services (definition in API.md §5): id [a-z0-9][a-z0-9._-]{0,127}; agency must exist;
 * contract must exist; sharing default|special; source.mode push|pull; source.format json|
 * xml|soap|csv; mapping compiled with ad_mapping_compile for the format and every mapped field
 * must be a contract field. create: LT_E_CONFLICT if the id exists; status "draft" unless
 * allow_status and the body carries "status" (bootstrap only). update: the full definition
 * again; id and agency cannot change; status kept. */
lt_err rg_service_create(rg_registry *rg, const json_t *body, bool allow_status, json_t **out,
                         lt_errinfo *ei);
lt_err rg_service_update(rg_registry *rg, const char *id, const json_t *body, json_t **out,
                         lt_errinfo *ei);
/* body {status: published|suspended|retired, reason?, effective_at?}, or a planned
 * maintenance window of a published service (Decree 47 Art. 43): {status: "maintenance",
 * effective_at, until, reason}, effective_at no earlier than 00:00 Vietnam time of the 8th
 * working day after today (rg_sharing.h calendar), until > effective_at. It is stored as
 * "maintenance": {from, until, reason, announced_at} and the status stays published;
 * {status: "published"} on a published service clears the window; retiring drops it. */
lt_err rg_service_set_status(rg_registry *rg, const char *id, const json_t *body, json_t **out,
                             lt_errinfo *ei);
lt_err rg_service_get(rg_registry *rg, const char *id, rg_service **out);
void rg_service_release(rg_service *s); /* NULL-safe */

typedef struct rg_catalog_filter {
    const char *agency, *contract, *sharing, *q; /* NULL = any; q: case-insensitive substring
                                                    of id, title or description */
} rg_catalog_filter;
/* Published services matching the filter, as catalog entries (the stored document without
 * source.auth secrets, with contract title), in id order. */
lt_err rg_catalog(rg_registry *rg, const rg_catalog_filter *f, json_t **items, lt_errinfo *ei);

/* ---- indicators (API.md §8) and the area hierarchy (issue 5) ---- */
typedef enum rg_agg { RG_AGG_NONE, RG_AGG_SUM, RG_AGG_MEAN, RG_AGG_WEIGHTED_MEAN } rg_agg;

typedef struct rg_target {
    const char *period, *area; /* canonical period; area code (borrowed from the snapshot) */
    ct_period p;
    double value;
} rg_target;

typedef struct rg_indicator {
    const char *code, *name, *unit, *group, *agency; /* borrowed from def; "" when absent */
    ct_freq freq;         /* from periodicity; 0 when not given */
    int direction;        /* +1 up (higher is better), -1 down, 0 not given */
    rg_agg aggregation;   /* RG_AGG_NONE when not given */
    const char *weight;   /* weighted_mean: the indicator whose values weigh each area
                             ("weight" member; default "POP") */
    const rg_target *targets;
    size_t ntargets;
    json_t *def;          /* the stored document (owned) */
    int refs;             /* internal */
} rg_indicator;

/* PUT /v1/indicators/{code}: {code?, name, unit?, group?, periodicity?, direction?,
 * aggregation?, weight?, agency?, targets?: [{period, area, value}]}. Strict: unknown keys,
 * a code not matching the path, an unknown agency, a target period that does not parse or an
 * area outside the `areas` code list are LT_E_INVALID naming the member. The code is added to
 * the `indicators` code list when missing (same transaction). *created: 201 vs 200. */
lt_err rg_indicator_put(rg_registry *rg, const char *code, const json_t *body, bool *created,
                        json_t **out, lt_errinfo *ei);
/* Counted reference to the cached snapshot (rg_indicator_release). LT_E_NOT_FOUND. */
lt_err rg_indicator_get(rg_registry *rg, const char *code, rg_indicator **out);
void rg_indicator_release(rg_indicator *ind); /* NULL-safe */
/* Every indicator (new array of counted references; release each, then free the array). */
lt_err rg_indicator_all(rg_registry *rg, rg_indicator ***out, size_t *n);

/* Areas are the `areas` code list: a code with "parent" is a commune of that province; a code
 * without is a province. Copies the parent of `code` into out (size > LT_MAX_ID_LEN) and
 * returns true; false for a province or an unknown code. */
bool rg_area_parent(rg_registry *rg, const char *code, char *out, size_t size);
/* The communes of a province (new array of code strings, in code order; empty when none). */
lt_err rg_area_children(rg_registry *rg, const char *province, json_t **codes);
/* The area's name into out; false when unknown. */
bool rg_area_name(rg_registry *rg, const char *code, char *out, size_t size);

#endif
