/* rg_share_int — internals of the sharing part of the registry (rg_sharing.h): grant
 * snapshots and their indexes, the Vietnam-time calendar helpers, and the small helpers the
 * request, amendment and grant files share. Never included from outside registry/.
 *
 * Locking: every sharing write holds write_mu from reading the stored document to updating
 * the cache, so a decision is taken on the state it read (two approvals cannot both see
 * "pending"). Caches change under `lock` (write) after the warehouse write is durable.
 */
#ifndef RG_SHARE_INT_H
#define RG_SHARE_INT_H

#include "rg_int.h"
#include "rg_sharing.h"

#define RG_DAY_US 86400000000LL
#define RG_VN_OFFSET_US (7LL * 3600 * 1000000) /* Vietnam: UTC+7, no daylight saving */
#define RG_KEY_MAX 512 /* index keys: ids are <= 128 bytes, agency codes <= 35 */

/* An immutable grant snapshot; `g` first so that rg_grant * converts back. */
typedef struct rg_gsnap {
    rg_grant g;
    json_t *doc;          /* the stored grant document (owned); strings borrow from it */
    const char *state;    /* active | suspended | revoked */
    const char *provider; /* the service's agency */
    const char **fields;  /* the array g.fields points to (owned) */
} rg_gsnap;

typedef struct rg_idlist { /* grant ids in creation order */
    char **ids;
    size_t n, cap;
} rg_idlist;

typedef struct rg_quota { /* uses of one grant on one Vietnam day */
    int64_t day;
    long used;
} rg_quota;

/* ---- calendar (rg_calendar.c) ---- */
int64_t rg_vn_day(int64_t us);        /* Vietnam civil day (days since epoch) of an instant */
int64_t rg_vn_day_start(int64_t day); /* 00:00 Vietnam time of that day, µs UTC */

/* ---- helpers (rg_share_util.c) ---- */
/* RFC 3339 UTC, with microseconds only when there are some. */
void rg_time_str(int64_t us, char out[32]);
/* Parsed time member of obj; 0 when absent or malformed. */
int64_t rg_time_of(const json_t *obj, const char *key);
/* Optional RFC 3339 member: *us untouched when absent; LT_E_INVALID "WHERE.KEY: ...". */
lt_err rg_opt_time(const json_t *obj, const char *key, const char *where, int64_t *us,
                   bool *present, lt_errinfo *ei);
/* Required non-empty string member. */
lt_err rg_req_text(const json_t *obj, const char *key, const char *where, const char **out,
                   lt_errinfo *ei);
/* Optional string member (absent or null: *out = NULL). */
lt_err rg_opt_text(const json_t *obj, const char *key, const char *where, const char **out,
                   lt_errinfo *ei);
/* Optional integer >= 0 (absent: *out untouched). */
lt_err rg_opt_count(const json_t *obj, const char *key, const char *where, long *out,
                    lt_errinfo *ei);
/* A non-empty array of distinct field names of contract c. */
lt_err rg_fields_check(const json_t *fields, const ct_contract *c, const char *where,
                       lt_errinfo *ei);
/* The 12 items of Decree 47 Art. 38, each a non-empty string or object; names the missing. */
lt_err rg_agreement_check(const json_t *a, const char *where, lt_errinfo *ei);
/* Appends {at, by_org, by_system, action, reason?, legal_basis?} to doc.history. */
void rg_history_add(json_t *doc, int64_t now, const rg_caller *who, const char *action,
                    const char *reason, const char *legal_basis);
/* The action of the last history entry of doc ("" when none). */
const char *rg_last_action(const json_t *doc);
/* Submits one audit entry for a sharing state change (no personal data in it). */
void rg_share_audit(rg_registry *rg, const rg_caller *who, const char *operation,
                    const char *service, const char *request, const char *grant);
/* Writes up to 2 documents in ONE durable transaction. */
typedef struct rg_put {
    wh_kind kind;
    const char *id;
    const json_t *doc;
    int flags;
} rg_put;
lt_err rg_store_many(rg_registry *rg, const rg_put *p, size_t n, lt_errinfo *ei);
/* The contract of a service (borrowed, valid until rg_close), or NULL. */
const ct_contract *rg_service_contract(rg_registry *rg, const char *service);
bool rg_caller_is(const rg_caller *who, const char *org);
/* Sorts an array of documents newest first (created_at, then id). LT_E_NOMEM. */
lt_err rg_sort_newest(json_t *items);

/* ---- grants (rg_grant.c) ---- */
/* A new grant document for a request or an operator, not yet stored. */
typedef struct rg_grant_terms {
    const char *org, *system, *service, *provider;
    const json_t *fields;
    int64_t valid_from, valid_until;
    long quota;
    const char *request; /* NULL for the operator's grants */
} rg_grant_terms;
json_t *rg_grant_doc_new(const rg_grant_terms *t, int64_t now);
/* Puts a stored grant document into the cache (steals doc). */
lt_err rg_grant_cache(rg_registry *rg, json_t *doc, lt_errinfo *ei);
/* The stored grant document, new reference. LT_E_NOT_FOUND. */
lt_err rg_grant_doc(rg_registry *rg, const char *gid, json_t **out);

/* ---- requests ---- */
/* The request as a reader sees it: "overdue" added, state "overdue" when pending past due. */
void rg_request_view(json_t *req, int64_t now);
/* The stored request, new reference; LT_E_NOT_FOUND with detail. */
lt_err rg_request_load(rg_registry *rg, const char *rid, json_t **out, lt_errinfo *ei);
/* Marks a pending request approved (decision, decided_at, grant, history) and returns its
 * new grant document, not yet stored; NULL on out of memory. */
json_t *rg_request_approve(json_t *req, const rg_caller *who, long quota, const char *reason,
                           const char *legal_basis, int64_t now);
/* Decides the pending amendment of req (caller holds write_mu and checked who may): approve
 * applies it to the request and its grant in one transaction, reject drops it. */
lt_err rg_amendment_decide(rg_registry *rg, json_t *req, const rg_caller *who, bool approve,
                           const char *reason, const char *legal_basis, int64_t now,
                           lt_errinfo *ei);

#endif
