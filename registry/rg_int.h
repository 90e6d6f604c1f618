/* rg_int — registry internals shared by the rg_*.c files; never included from outside.
 *
 * Caches live in rg_registry under `lock` (readers: lookups; writers: replacing an entry).
 * `write_mu` serialises every registry write so that the warehouse and the caches change in
 * the same order (read-modify-write of a service status must not interleave).
 * An rg_view answers "does this agency / code list / contract exist" for validation: the
 * registry itself for API calls, plus overlays of the files for a bootstrap dry run.
 */
#ifndef RG_INT_H
#define RG_INT_H

#include <pthread.h>

#include "rg.h"

/* Open-addressing hash map keyed by string (linear probing, power-of-two capacity, no
 * deletion: entries are only added or replaced). Keys are copied (owned); values are
 * whatever the user stores. A set is a map whose values are unused. */
typedef struct rg_map {
    char **keys; /* NULL = empty slot */
    void **vals;
    size_t cap, n;
} rg_map;

/* Adds or replaces; *old (when given) receives the replaced value or NULL. 0 / -1 (nomem). */
int rg_map_put(rg_map *m, const char *key, void *val, void **old);
/* Borrowed value, NULL when absent (use rg_map_has for sets). */
void *rg_map_get(const rg_map *m, const char *key);
bool rg_map_has(const rg_map *m, const char *key);
/* Frees keys, calls free_val (when not NULL) on each value, and zeroes the map. */
void rg_map_free(rg_map *m, void (*free_val)(void *));
/* Sorted (strcmp) array of borrowed keys, new (free()); NULL when empty or out of memory. */
const char **rg_map_sorted_keys(const rg_map *m, size_t *n);

struct rg_registry {
    wh_env *env;
    pthread_rwlock_t lock;
    pthread_mutex_t write_mu;
    rg_map codelists; /* id -> rg_map * (set of codes) */
    rg_map contracts; /* ref -> ct_contract * (immutable until rg_close) */
    rg_map services;  /* id -> rg_service * (the cache holds one reference) */
    rg_map indicators; /* code -> rg_indicator * (the cache holds one reference) */
    struct rg_areas *areas; /* index of the `areas` code list (owned), NULL without one */
    /* Sharing (rg_sharing.h), also under `lock`: */
    rg_map systems;      /* system id -> owning agency code (char *, owned) */
    rg_map grants;       /* grant id -> rg_gsnap * (the cache holds one reference) */
    rg_map grant_triple; /* "service\x1forg\x1fsystem" -> rg_idlist * of grant ids */
    rg_map grant_holder; /* "org\x1fsystem" -> rg_idlist * of grant ids */
    int64_t *holidays;   /* days since epoch, sorted (owned) */
    size_t nholidays;
    /* Daily quota counters: in memory only, under their own mutex (hot path, tiny section). */
    pthread_mutex_t quota_mu;
    rg_map quota;        /* grant id -> rg_quota * (owned) */
};

typedef struct rg_view {
    rg_registry *rg;         /* NULL: the files alone (check-config without a warehouse) */
    const rg_map *agencies;  /* overlays from bootstrap files, or NULL */
    const rg_map *codelists; /* id -> rg_map * set of its codes (rg_codeset_new) */
    const rg_map *contracts; /* ref -> ct_contract * */
} rg_view;

bool rg_view_agency(const rg_view *v, const char *code);
bool rg_view_codelist(const rg_view *v, const char *id);
/* Is code in code list `list`? The registry's list when it has one (a bootstrap file never
 * replaces a stored list), else the overlay's. */
bool rg_view_code(const rg_view *v, const char *list, const char *code);
/* Borrowed: valid while the overlay lives, or until rg_close for the registry's. */
const ct_contract *rg_view_contract(const rg_view *v, const char *ref);

/* ---- validators: detail is "ROOT.path: message" so bootstrap can locate it in a file ---- */
lt_err rg_agency_check(const rg_view *v, const json_t *body, lt_errinfo *ei);
/* Copies body into a new document with id filled in from the path, then checks it. */
lt_err rg_codelist_prepare(const char *id, const json_t *body, json_t **doc, lt_errinfo *ei);
/* New set of the codes of a checked code list document. NULL on out of memory. */
rg_map *rg_codeset_new(const json_t *doc);
void rg_codeset_free(void *set);
/* Compiles a contract and checks its code lists exist. *out new (ct_contract_free). */
lt_err rg_contract_compile(const rg_view *v, const json_t *body, ct_contract **out,
                           lt_errinfo *ei);
/* Validates a service definition; *contract borrowed from the view, *mapping new or NULL. */
lt_err rg_service_check(const rg_view *v, const json_t *def, bool allow_status,
                        const ct_contract **contract, ad_mapping **mapping, lt_errinfo *ei);
/* Copies body into a new document with code filled in from the path (a body code must match
 * it; path_code NULL: the body's code is required), checks it strictly against the view and
 * rewrites target periods in canonical form. *doc new (json_decref). */
lt_err rg_indicator_prepare(const rg_view *v, const char *path_code, const json_t *body,
                            json_t **doc, lt_errinfo *ei);

/* ---- code lists and areas (rg_codelist.c) ---- */
/* Index of the `areas` code list: code -> name and parent, parent -> children in code order. */
typedef struct rg_areas rg_areas;
/* New index of a checked `areas` document (rg_areas_free); NULL on out of memory. */
rg_areas *rg_areas_new(const json_t *doc);
void rg_areas_free(rg_areas *a); /* NULL-safe */
/* Makes a checked code list document the cached one (code set, and the area index for
 * `areas`); doc is borrowed. Caller holds write_mu (or is rg_open). */
lt_err rg_codelist_publish(rg_registry *rg, const json_t *doc, lt_errinfo *ei);

/* ---- indicators (rg_indicator.c) ---- */
/* Loads every stored indicator into the cache (rg_open); a stored document that cannot be
 * read is logged and left out of the cache. */
lt_err rg_indicators_load(rg_registry *rg, lt_errinfo *ei);
/* Releases the cached snapshots (rg_close). */
void rg_indicators_free(rg_registry *rg);

/* ---- services ---- */
/* Stores doc and publishes it as the cached snapshot (steals doc and m); *out receives a copy.
 * Caller holds write_mu. */
lt_err rg_service_store_publish(rg_registry *rg, json_t *doc, const ct_contract *c,
                                ad_mapping *m, int flags, json_t **out, lt_errinfo *ei);
/* Loads one stored service document (steals doc) into the cache; used by rg_open. */
lt_err rg_service_load(rg_registry *rg, json_t *doc, lt_errinfo *ei);
void rg_service_unref(void *s); /* rg_service_release for rg_map_free */
/* New snapshot with one reference; steals doc and m (freed on failure: NULL = nomem). */
rg_service *rg_snapshot_new(json_t *doc, const ct_contract *c, ad_mapping *m);
/* Makes s the cached entry for its id (steals the reference); the old one is released. */
lt_err rg_service_publish(rg_registry *rg, rg_service *s, lt_errinfo *ei);
/* Keys the registry adds to a stored service besides status (NULL-terminated). */
extern const char *const rg_service_meta_keys[];

/* ---- shared helpers (rg.c) ---- */
/* "2026-11-22T05:00:00Z", now. */
void rg_now(char out[32]);
/* A new document for a create: a deep copy of the (checked) body stamped with created_at.
 * New reference, or NULL with LT_E_NOMEM in ei. */
json_t *rg_new_doc(const json_t *body, lt_errinfo *ei);
/* Serialises doc and stores it; flags as wh_doc_put. */
lt_err rg_store(rg_registry *rg, wh_kind kind, const char *id, const json_t *doc, int flags,
                lt_errinfo *ei);
/* True when s matches first[rest]{0,max-1}: first/rest are character class tests. */
bool rg_id_ok(const char *s, size_t max, bool (*first)(int), bool (*rest)(int));
bool rg_is_lower_alnum(int c);
bool rg_is_lower_id(int c);   /* [a-z0-9._-] */
/* Loads every stored document of a kind into a new array (rg_open: no nested read txns). */
lt_err rg_load_all(rg_registry *rg, wh_kind kind, json_t **items, lt_errinfo *ei);
/* Membership test with the lock already held (read). */
bool rg_codelist_has_locked(rg_registry *rg, const char *id);

/* ---- sharing (rg_share_int.h has the rest) ---- */
/* Loads the stored systems and grants into the caches (rg_open). */
lt_err rg_sharing_load(rg_registry *rg, lt_errinfo *ei);
/* Frees the sharing caches and the calendar (rg_close). */
void rg_sharing_free(rg_registry *rg);
/* Validates a system document {id, agency, name, description?} against the view. */
lt_err rg_system_check(const rg_view *v, const json_t *body, lt_errinfo *ei);
bool rg_system_exists(rg_registry *rg, const char *id);

#endif
