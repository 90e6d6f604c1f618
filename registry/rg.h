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
#include "lt_err.h"
#include "wh.h"

typedef struct rg_registry rg_registry;

typedef struct rg_service {
    const char *id, *agency, *title, *sharing, *status; /* borrowed from def */
    const char *format;         /* source.format: json | xml | soap | csv */
    const char *mode;           /* source.mode: push | pull */
    bool auto_approve;
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

#endif
