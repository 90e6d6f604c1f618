/* rg_sharing — data sharing under Decree 47/2020 (API.md §5 systems, §6): systems, requests
 * (default and special-request sharing with its 12-item agreement), amendments, joining an
 * agreement in force, grants, the one grant lookup every data path uses, daily quotas, and
 * the working-day calendar. Policy lives in data (documents), not in handlers.
 *
 * Documents (stored in the warehouse, all timestamps RFC 3339 UTC):
 *  system  {id, agency, name, description?, created_at}
 *  request {id: "req-…", service, provider (the service's agency), org (consumer), system,
 *           sharing: default|special, purpose, usage, fields, record_estimate, frequency,
 *           valid_until, legal_basis?, agreement? {the 12 items + version}, joins? (rid),
 *           state: pending|approved|rejected|amendment_pending, due_at, created_at,
 *           decided_at?, decision? {decision, reason, legal_basis, by_org, by_system},
 *           grant? (gid), amendment? {version, by_org, by_system, at, reason, changes},
 *           agreement_versions: [...], history: [{at, by_org, by_system, action, reason?,
 *           legal_basis?}]}
 *    Reading a request adds "overdue": true and reports state "overdue" while it is pending
 *    past due_at.
 *  grant   {id: "g-…", org, system, service, fields, valid_from, valid_until, quota_per_day
 *           (0 = unlimited), state: active|suspended|revoked, request?, created_at,
 *           history: [{at, by_org, by_system, action, reason}]}
 *
 * Rules (each violation has its error):
 *  - A system belongs to an existing agency; ids [a-z0-9][a-z0-9._-]{0,127}; 409 duplicate.
 *  - A request names a registered system of the caller's org (LT_E_INVALID otherwise), asks a
 *    published service of another org, fields that are all contract fields (non-empty, no
 *    duplicates), valid_until in the future. Default: due_at = creation + 5 working days
 *    (weekends and configured holidays skipped, Vietnam time); with the service's auto_approve
 *    (Decree 194/2025) it is approved at once and its grant created. Special: `agreement` is
 *    required with all 12 items of Art. 38 (parties, data, place, duration, method,
 *    processing, conditions, protection, security, storage, deletion, other), each a non-empty
 *    string or object; missing items are named.
 *  - Join: a request with "joins": rid of an approved special request for the same service
 *    takes that agreement (the body's agreement is not needed) and is decided like any other.
 *  - Decision: only the provider org (or admin) — LT_E_FORBIDDEN for anyone else, the
 *    consumer included; reject needs `reason` and `legal_basis` (LT_E_INVALID); deciding a
 *    request that is not pending is LT_E_CONFLICT. Approval writes the request and its new
 *    grant in ONE transaction under the registry's write lock: two concurrent approvals give
 *    exactly one grant (the second is LT_E_CONFLICT).
 *  - Amend: either party (consumer org or provider org; others LT_E_FORBIDDEN) of an approved
 *    request proposes {fields?, valid_until?, agreement? (whole, 12 items), quota_per_day?,
 *    reason}; state becomes amendment_pending; only the OTHER party (or admin) may then decide
 *    it with the decision call: approve applies it (agreement version + 1, kept in
 *    agreement_versions; the grant's fields/validity updated in the same transaction), reject
 *    drops it (state back to approved, grant unchanged).
 *  - Grants by the operator (rg_grant_create): org and system must exist and the system must
 *    belong to org (LT_E_INVALID "unknown system"), service must exist, fields ⊂ contract.
 *  - Suspend (active→suspended), resume (suspended→active), revoke (active|suspended→revoked,
 *    final): provider org or admin; `reason` required; other transitions LT_E_CONFLICT.
 *  - Every state change appends to the document's history with who, when and why.
 *
 * Ownership: json_t ** outputs are new references. rg_grant_find returns a counted reference
 * to an immutable snapshot (rg_grant_release). Thread safety: all functions are thread-safe;
 * writes are serialised by the registry's write lock.
 */
#ifndef RG_SHARING_H
#define RG_SHARING_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "rg.h"

/* Who is calling: from the verified token. */
typedef struct rg_caller {
    const char *org;    /* "" when none */
    const char *system; /* the token's sub */
    bool admin;
} rg_caller;

/* Working-day calendar: holidays are days since 1970-01-01, sorted (lt_config.holidays).
 * Called once before serving; the registry keeps a copy. */
lt_err rg_set_holidays(rg_registry *rg, const int64_t *days, size_t n);
/* The end (23:59:59.999999 Vietnam time, as µs UTC) of the n-th working day after the day
 * of start_us (Vietnam time). Saturdays, Sundays and holidays are not working days. */
int64_t rg_working_days_after(const rg_registry *rg, int64_t start_us, int n);

/* ---- systems ---- */
lt_err rg_system_create(rg_registry *rg, const json_t *body, json_t **out, lt_errinfo *ei);
/* True when system is registered and belongs to org (fast, in memory). */
bool rg_system_of(rg_registry *rg, const char *system, const char *org);
/* Copies the agency (owner) of registered system `system` into org[0..size) and returns
 * true; false (org = "") when the system is not registered or its agency does not fit. */
bool rg_system_agency(rg_registry *rg, const char *system, char *org, size_t size);

/* ---- requests ---- */
lt_err rg_request_create(rg_registry *rg, const char *service, const rg_caller *who,
                         const json_t *body, int64_t now_us, json_t **out, lt_errinfo *ei);
lt_err rg_request_get(rg_registry *rg, const char *rid, int64_t now_us, json_t **out);
/* The parties of a request (borrowed into the caller's buffers): for access checks. */
lt_err rg_request_parties(rg_registry *rg, const char *rid, char provider[64], char org[64]);
/* as: "provider" (requests to the caller's org's services), "consumer" (the caller's org's
 * requests) or NULL (both; admin: all). state: NULL, pending, approved, rejected,
 * amendment_pending or overdue. Newest first. */
lt_err rg_request_list(rg_registry *rg, const rg_caller *who, const char *as,
                       const char *state, int64_t now_us, json_t **items, lt_errinfo *ei);
/* body {decision: approve|reject, reason?, legal_basis?, quota_per_day?}. */
lt_err rg_request_decide(rg_registry *rg, const char *rid, const rg_caller *who,
                         const json_t *body, int64_t now_us, json_t **out, lt_errinfo *ei);
lt_err rg_request_amend(rg_registry *rg, const char *rid, const rg_caller *who,
                        const json_t *body, int64_t now_us, json_t **out, lt_errinfo *ei);

/* ---- grants ---- */
lt_err rg_grant_create(rg_registry *rg, const rg_caller *who, const json_t *body,
                       int64_t now_us, json_t **out, lt_errinfo *ei);
/* action: "suspend" | "resume" | "revoke"; body {reason}. */
lt_err rg_grant_set_state(rg_registry *rg, const char *gid, const char *action,
                          const rg_caller *who, const json_t *body, int64_t now_us,
                          json_t **out, lt_errinfo *ei);
lt_err rg_grant_get(rg_registry *rg, const char *gid, json_t **out);
/* as: "provider" (grants on the caller's org's services), "consumer" (grants held by the
 * caller's org) or NULL (both; admin: all). Each item carries "live": true|false. */
lt_err rg_grant_list(rg_registry *rg, const rg_caller *who, const char *as, int64_t now_us,
                     json_t **items, lt_errinfo *ei);

typedef struct rg_grant {
    const char *id, *org, *system, *service; /* borrowed from the snapshot */
    const char *const *fields;               /* granted contract fields */
    size_t nfields;
    int64_t valid_from_us, valid_until_us;
    long quota_per_day;                      /* 0 = unlimited */
    int refs;                                /* internal */
} rg_grant;

/* The live grant of (org, system) on service at now: active and now within its validity.
 * LT_E_FORBIDDEN with a detail saying why not (no grant, expired, not yet valid, suspended,
 * revoked — naming the grant id when there is one). Fast: in memory. */
lt_err rg_grant_find(rg_registry *rg, const char *service, const char *org, const char *system,
                     int64_t now_us, rg_grant **out, lt_errinfo *ei);
void rg_grant_release(rg_grant *g); /* NULL-safe */
/* Counts one use of the grant today (Vietnam day). LT_OK, or LT_E_QUOTA with
 * ei->retry_after = seconds until the next day. Counters are in memory (reset on restart). */
lt_err rg_grant_take_quota(rg_registry *rg, const rg_grant *g, int64_t now_us, lt_errinfo *ei);
/* Service ids (new array of strings) for which (org, system) holds a live grant now. */
lt_err rg_grant_services(rg_registry *rg, const char *org, const char *system, int64_t now_us,
                         json_t **ids);

#endif
