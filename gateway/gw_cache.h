/* gw_cache — rendered answers of observation queries, kept for the next identical request.
 *
 * Why: an IOC's dashboards poll the same series again and again, and an answer of a few
 * thousand observations costs far more to build than to send. An entry is reused only while
 * nothing it depends on has changed:
 *  - the key holds the normalised query and the caller's identity (org, system, roles);
 *  - wgen, the gateway's write generation (gw_ctx.writes: every successful write exchange,
 *    registry changes included), and ogen, the warehouse's observations generation
 *    (wh_obs_generation: every index change, `lienthong import` included), must both be
 *    what they were when the answer was built;
 *  - the sources it read are decided again on every hit (gw_obs_redecide): the same grants
 *    allowing the same fields, none suspended, in maintenance or over quota — and their quota
 *    units are taken as a fresh query would take them.
 * Only answers that excluded no service are kept. The cache is bounded (bytes); the least
 * recently used entries go first.
 *
 * Ownership: gw_cache_get returns a counted reference (gw_cached_release). gw_cache_put takes
 * its entry. Thread safety: every function may be called from many threads.
 */
#ifndef GW_CACHE_H
#define GW_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "gw_obs.h"
#include "lt_buf.h"

typedef struct gw_cache gw_cache;

typedef struct gw_cached {
    char *key;          /* owned */
    size_t klen;
    uint64_t wgen, ogen;
    char *body;         /* owned */
    size_t len;
    const char *content_type; /* static */
    size_t records;
    gw_obs_decision *srcs; /* owned, with their ids */
    size_t nsrcs;
    /* internal */
    size_t bytes;
    int refs;
    struct gw_cached *prev, *next, *hnext;
} gw_cached;

/* max_bytes: the whole cache; an answer over a quarter of it is not kept. NULL on no memory. */
gw_cache *gw_cache_new(size_t max_bytes);
void gw_cache_free(gw_cache *c); /* NULL-safe; entries still referenced are freed on release */

/* The entry for key made at (wgen, ogen), or NULL. A stale entry found is dropped. */
gw_cached *gw_cache_get(gw_cache *c, const char *key, size_t klen, uint64_t wgen,
                        uint64_t ogen);
/* A new entry with copies of key, body and the decisions (NULL on no memory). */
gw_cached *gw_cached_new(const char *key, size_t klen, uint64_t wgen, uint64_t ogen,
                         const char *body, size_t len, const char *content_type, size_t records,
                         const gw_obs_decision *srcs, size_t nsrcs);
/* Stores e (replacing an entry with its key); takes the reference. */
void gw_cache_put(gw_cache *c, gw_cached *e);
void gw_cached_release(gw_cached *e); /* NULL-safe */

/* ---- for handlers (gw_h_obs.c, gw_sdmx.c) ---- */
struct gw_req;
/* The key of r's answer: what (the endpoint), the path, extra (e.g. the negotiated format),
 * the caller (roles, org, system) and the query parameters sorted. key is initialised here
 * (lt_buf_free it). False on no memory. */
bool gw_cache_key(struct gw_req *r, const char *what, const char *extra, lt_buf *key);
/* A hit answers r (r->shared, status 200): the entry is current (wgen = the gateway's write
 * generation read before, ogen read now) and its sources decide as before. */
bool gw_cache_try(struct gw_req *r, const lt_buf *key, uint64_t wgen);
/* Keeps r's fresh 200 answer built from s, when it excluded nothing and no write happened
 * since wgen was read. */
void gw_cache_offer(struct gw_req *r, const lt_buf *key, uint64_t wgen, const gw_obs_set *s);

/* Entries and bytes held, for /metrics. */
void gw_cache_stats(gw_cache *c, size_t *entries, size_t *bytes, uint64_t *hits,
                    uint64_t *misses);

#endif
