/* wh — the LMDB warehouse: registry documents, records with revisions and provenance, a change
 * feed for `since`, quarantine, and the audit log with its group-committing writer.
 *
 * Model (docs/warehouse.md): one MDB_env per process, named DBs. Keys are binary and sort the
 * way queries scan. Every write transaction commits with sync: when a function that writes
 * returns LT_OK the data is durable. Several processes may open the same directory (LMDB
 * locking): `lienthong import` runs beside `serve`.
 *
 * Ownership: wh_open returns a new env (wh_close). Read handles (wh_read) are short, one per
 * request and thread; pointers in wh_record are borrowed and valid until wh_read_end. Text
 * returned through char ** is new (free()).
 * Thread safety: wh_env is shared by all threads. A wh_read or wh_batch belongs to one thread.
 * Only one wh_batch may be open per process at a time (LMDB has one writer); others wait.
 * Errors: LT_E_NOT_FOUND, LT_E_CONFLICT (WH_NOOVERWRITE), LT_E_STORAGE_FULL (map full),
 * LT_E_STORAGE (anything else from LMDB, with mdb_strerror in the detail).
 */
#ifndef WH_H
#define WH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_err.h"

typedef struct wh_env wh_env;
typedef struct wh_read wh_read;
typedef struct wh_batch wh_batch;

/* Creates dir if missing. map_size 0 = LT_MAP_SIZE_DEFAULT. Starts the audit writer thread. */
lt_err wh_open(const char *dir, size_t map_size, wh_env **out, lt_errinfo *ei);
/* Flushes pending audit entries, stops the writer, closes the env. NULL-safe. */
void wh_close(wh_env *env);

/* ---- registry documents: JSON text by string id, one DB per kind ---- */
typedef enum wh_kind {
    WH_AGENCIES, WH_SYSTEMS, WH_CODELISTS, WH_CONTRACTS, WH_SERVICES, WH_REQUESTS, WH_GRANTS,
    WH_INDICATORS, WH_META, WH_PULLRUNS, WH_KIND_COUNT
} wh_kind;

#define WH_NOOVERWRITE 1 /* fail with LT_E_CONFLICT if the id exists */

lt_err wh_doc_put(wh_env *env, wh_kind kind, const char *id, const char *json, size_t len,
                  int flags, lt_errinfo *ei);
/* Several documents in one durable transaction: all are written or none (an approval and the
 * grant it creates). LT_E_CONFLICT when a WH_NOOVERWRITE id exists. */
typedef struct wh_doc_write {
    wh_kind kind;
    const char *id;
    const char *json;
    size_t len;
    int flags;
} wh_doc_write;
lt_err wh_doc_put_many(wh_env *env, const wh_doc_write *w, size_t n, lt_errinfo *ei);
lt_err wh_doc_get(wh_env *env, wh_kind kind, const char *id, char **json, size_t *len);
lt_err wh_doc_del(wh_env *env, wh_kind kind, const char *id, lt_errinfo *ei);
/* Calls cb for each document with id > after (NULL = from the start) in id order, at most
 * limit (0 = all). cb returns 0 to continue, non-zero to stop. Strings are borrowed for the
 * duration of the call (json not NUL-terminated: use len). */
typedef int (*wh_doc_fn)(void *ctx, const char *id, const char *json, size_t len);
lt_err wh_doc_list(wh_env *env, wh_kind kind, const char *after, size_t limit, wh_doc_fn cb,
                   void *ctx);

/* ---- records ---- */
typedef struct wh_prov {
    const char *source;     /* "push" | "pull" | "import" | "retry" */
    const char *message_id; /* push envelope id, pull run id, or request id */
    const char *system;     /* calling system (JWT sub), may be NULL */
} wh_prov;

typedef struct wh_record {
    const char *key;  /* borrowed, NUL-terminated */
    uint64_t rev;     /* 1, 2, … per key */
    int64_t received_at_us; /* when this revision was stored */
    const char *source, *message_id, *system; /* provenance, borrowed ("" when unknown) */
    const char *data; /* canonical JSON of the record, borrowed, NOT NUL-terminated */
    size_t data_len;
} wh_record;

typedef enum wh_put_result { WH_PUT_NEW, WH_PUT_CHANGED, WH_PUT_UNCHANGED } wh_put_result;

/* One write transaction; commit makes everything in it durable at once, abort drops it. */
lt_err wh_batch_begin(wh_env *env, wh_batch **out, lt_errinfo *ei);
/* Stores data (canonical JSON) under service+key. Identical bytes to the latest revision →
 * WH_PUT_UNCHANGED, nothing written. Otherwise a new revision with the provenance and now. */
lt_err wh_batch_put_record(wh_batch *b, const char *service, const char *key, const char *data,
                           size_t len, const wh_prov *prov, wh_put_result *res, lt_errinfo *ei);
/* Stores a quarantine entry (JSON object text; the warehouse adds "qid" and "received_at")
 * and writes its new id ("q-" + 24 hex) into qid. */
lt_err wh_batch_quarantine_add(wh_batch *b, const char *service, const json_t *entry,
                               char qid[32], lt_errinfo *ei);
lt_err wh_batch_quarantine_del(wh_batch *b, const char *service, const char *qid,
                               lt_errinfo *ei);
lt_err wh_batch_commit(wh_batch *b, lt_errinfo *ei); /* frees b in every case */
void wh_batch_abort(wh_batch *b);                    /* frees b; NULL-safe */

lt_err wh_read_begin(wh_env *env, wh_read **out, lt_errinfo *ei);
void wh_read_end(wh_read *r); /* NULL-safe */

/* Latest revision, or the latest with received_at <= as_of_us when as_of_us > 0. */
lt_err wh_record_get(wh_read *r, const char *service, const char *key, int64_t as_of_us,
                     wh_record *out);
typedef int (*wh_record_fn)(void *ctx, const wh_record *rec);
/* Every revision of one key, oldest first. LT_E_NOT_FOUND if the key never existed. */
lt_err wh_record_history(wh_read *r, const char *service, const char *key, wh_record_fn cb,
                         void *ctx);

typedef struct wh_scan {
    int64_t since_us;   /* > 0: only records whose latest revision was stored after this
                           time, in change order (the change feed); 0: all, in key order */
    int64_t as_of_us;   /* > 0: each key as it was at that time (keys born later skipped) */
    const char *cursor; /* from a previous scan's next_cursor, or NULL */
    size_t limit;       /* records to deliver (>= 1) */
} wh_scan;
/* Calls cb for matching records; cb returns 0 to take the record (counts toward limit), 1 to
 * skip it (a filter), -1 to stop. When more records remain after `limit`, writes an opaque
 * cursor (hex, NUL-terminated) into next_cursor, else next_cursor[0] = 0. A malformed cursor
 * is LT_E_BAD_REQUEST. */
#define WH_CURSOR_MAX 1100
lt_err wh_record_scan(wh_read *r, const char *service, const wh_scan *opts, wh_record_fn cb,
                      void *ctx, char next_cursor[WH_CURSOR_MAX], lt_errinfo *ei);
/* Number of keys stored for a service. */
lt_err wh_record_count(wh_read *r, const char *service, size_t *count);

/* Quarantine entries of a service in qid order after `after` (NULL = start). json borrowed. */
lt_err wh_quarantine_list(wh_read *r, const char *service, const char *after, size_t limit,
                          wh_doc_fn cb, void *ctx);
lt_err wh_quarantine_get(wh_read *r, const char *service, const char *qid, char **json,
                         size_t *len);
lt_err wh_quarantine_count(wh_read *r, size_t *count); /* all services */

/* ---- observations index (issue 5) ----
 * One entry per (indicator, area, period, service) for every record of a service whose
 * contract is indicator-observation, written by ingest in the same transaction as the record
 * (so it is never behind), holding that record's latest revision in a compact binary form.
 * Keys sort by indicator, area, period (ct_period_sortkey order), service; a scan with an
 * indicator and area is a prefix range. Older revisions (as_of) are read from the records. */
typedef struct wh_obs {
    const char *indicator, *area, *service; /* NUL-terminated, borrowed */
    uint64_t period_key;   /* ct_period_sortkey */
    const char *period;    /* canonical period text */
    const char *key;       /* the record key */
    int has_value;         /* 0: value is null */
    double value;
    const char *status, *unit;         /* "" when absent */
    uint64_t rev;                      /* the record's revision */
    int64_t received_at_us;            /* when that revision was stored */
    const char *source, *message_id;   /* provenance of that revision ("" when unknown) */
} wh_obs;

/* Writes (or replaces) the entry of o. rev, received_at_us, source and message_id are taken
 * from the latest revision of the record (o->service, o->key) as this batch sees it (put it
 * first); the values o carries for them are ignored. LT_E_NOT_FOUND when there is no record. */
lt_err wh_batch_obs_put(wh_batch *b, const wh_obs *o, lt_errinfo *ei); /* LT_E_BAD_REQUEST
                                                        for bad arguments (not sticky) */
/* Calls cb for each entry with the given indicator (NULL = all) and, when an indicator is
 * given, area (NULL = all), in key order. Strings are borrowed for the duration of the read
 * transaction (valid until wh_read_end). cb returns 0 to go on, non-zero to stop. */
typedef int (*wh_obs_fn)(void *ctx, const wh_obs *o);
lt_err wh_obs_scan(wh_read *r, const char *indicator, const char *area, wh_obs_fn cb,
                   void *ctx); /* an indicator or area that cannot be part of a key finds
                                  nothing (LT_OK); LT_E_STORAGE on a damaged entry */
/* The index's generation: it grows with every transaction that changes the index (0 before
 * the first). Equal generations mean equal contents. */
lt_err wh_obs_generation(wh_read *r, uint64_t *gen);
/* Entries in the index (all services). */
lt_err wh_obs_count(wh_read *r, size_t *count);
/* Drops every entry of a service (reindexing) in its own transaction. */
lt_err wh_obs_drop_service(wh_env *env, const char *service, lt_errinfo *ei);

/* ---- audit log (Decree 47 Art. 45) ----
 * Entries are JSON objects. The writer thread stores each as
 *   {"seq":N,"time":"T","prev_hash":"P",<members>,"hash":"H"}
 * with H = SHA-256 hex of (P || that text without ,"hash":"H"), and commits many entries per
 * transaction within LT_AUDIT_FLUSH_MS. Submission never blocks on disk; it waits only when
 * LT_AUDIT_QUEUE_MAX entries are pending (backpressure). See docs/warehouse.md. */
void wh_audit_submit(wh_env *env, json_t *entry); /* steals the reference; keys seq, prev_hash
                                                     and hash are dropped, time is kept */
/* The fast path: members of the entry's object as JSON text ("\"org\":\"X\",\"status\":200",
 * no braces, no seq/time/prev_hash/hash). The text is copied. */
void wh_audit_submit_text(wh_env *env, const char *members, size_t len);
/* Blocks until every entry submitted before the call is committed (tests, shutdown). */
void wh_audit_flush(wh_env *env);
/* Entries with seq > since_seq in order, at most limit; json borrowed. */
typedef int (*wh_audit_fn)(void *ctx, uint64_t seq, const char *json, size_t len);
lt_err wh_audit_list(wh_read *r, uint64_t since_seq, size_t limit, wh_audit_fn cb, void *ctx);
/* The hash of entry seq (64 hex + NUL into out; the zero hash for seq 0) and the chain head
 * (*head_seq, head_hash). LT_E_NOT_FOUND when seq is past the head. For exports. */
lt_err wh_audit_hash_at(wh_read *r, uint64_t seq, char out[65], uint64_t *head_seq,
                        char head_hash[65]);
/* Checks one stored entry's text as entry `seq` after `prev` (64 hex): true when it opens with
 * that seq and its hash is SHA-256(prev || the text without the hash member); the hash is
 * written into out. Used by the chain walk and by verify-audit --file on an export. */
bool wh_audit_check_text(const char *prev, const char *text, size_t len, uint64_t seq,
                         char out[65]);
/* Recomputes the chain: *count entries checked; on a broken link returns LT_E_CONFLICT with
 * *bad_seq set to the first bad entry. */
lt_err wh_audit_verify(wh_env *env, uint64_t *count, uint64_t *bad_seq, lt_errinfo *ei);

/* ---- operations ---- */
typedef struct wh_stats {
    uint64_t map_size, used_bytes, audit_entries;
} wh_stats;
lt_err wh_stat(wh_env *env, wh_stats *st);
/* Opens and aborts a write transaction: LT_OK when the warehouse is writable. */
lt_err wh_check_writable(wh_env *env, lt_errinfo *ei);
/* Consistent compacted copy into dir (mdb_env_copy2 with MDB_CP_COMPACT). */
lt_err wh_backup(wh_env *env, const char *dir, lt_errinfo *ei);

#endif
