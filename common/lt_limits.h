/* lt_limits — every hard limit of lienthong in one place, each with its reason.
 * Config may lower the request-level ones (limits.*); nothing may raise the parser caps. */
#ifndef LT_LIMITS_H
#define LT_LIMITS_H

/* Default body cap: 16 MiB holds ~100k indicator records; larger batches should be split. */
#define LT_MAX_BODY_BYTES_DEFAULT (16u * 1024u * 1024u)
/* Records per ingest request: bounds one LMDB write transaction's dirty pages. */
#define LT_MAX_RECORDS_DEFAULT 100000u
/* Pull runs kept per service (oldest dropped first): months of history at a 5-minute
 * interval would be ~10,000; a thousand answers "what happened lately" and bounds the list. */
#define LT_PULL_RUNS_KEPT_DEFAULT 1000u
/* Observations one query may match (GET /v1/observations, alerts; SDMX answers at most
 * GW_SDMX_MAX_OBS of them): past it 413, so a careless query cannot hold a worker and
 * gigabytes of memory. */
#define LT_MAX_QUERY_OBS_DEFAULT 1000000u
/* Rendered observation answers kept for repeated queries (gw_cache.h), all together. */
#define LT_ANSWER_CACHE_BYTES (64u * 1024u * 1024u)
/* Bytes of each body an "audit": "full" entry keeps (masked); longer ones are cut with a note,
 * so one large exchange cannot bloat the trail. */
#define LT_AUDIT_BODY_MAX 65536u
/* Per-request timeout (ms): a worker is never held longer by a slow client. */
#define LT_REQUEST_TIMEOUT_MS_DEFAULT 30000
/* Request arena cap = this many times the body cap: decoded JSON costs ~6-10x its text. */
#define LT_ARENA_BODY_FACTOR 12u
/* JSON nesting depth: jansson stops at 2048; our documents need < 16, so 64 is generous. */
#define LT_MAX_JSON_DEPTH 64
/* Identifiers (service ids, code list ids, system ids): short, printable, URL-safe. */
#define LT_MAX_ID_LEN 128
/* A record key (contract key parts joined by '~'), kept well under LMDB's 511-byte key cap
 * once prefixed with the service id and a revision number. */
#define LT_MAX_KEY_LEN 300
/* Agency codes per QĐ 20/2020: up to 35 characters of A-Z, 0-9 and dots. */
#define LT_MAX_AGENCY_CODE 35
/* Request headers / URL: libmicrohttpd's own connection memory bounds them (431/414 from it);
 * we cap the decoded path plus query at this (414 problem+json). */
#define LT_MAX_URL_LEN 8192
/* Open connections from one client address: a slow-header client (one byte a second) costs no
 * worker time here, but each holds a socket; this bounds what one address can hold. 0 = off
 * (behind a trusted reverse proxy every client has the proxy's address). */
#define LT_MAX_CONN_PER_IP_DEFAULT 256u
#define LT_MAX_CONN_PER_IP_CAP 100000u
/* Open connections in all: sockets, so the process raises its open-file limit to fit. */
#define LT_MAX_CONNECTIONS 10000u
/* List pages: default and maximum `limit`. */
#define LT_LIST_LIMIT_DEFAULT 100
#define LT_LIST_LIMIT_MAX 10000
/* Verified-token cache entries: a province has a few thousand systems at most. */
#define LT_TOKEN_CACHE_SIZE 4096
/* LMDB map size default: 64 GiB of address space (sparse file, grows on demand). */
#define LT_MAP_SIZE_DEFAULT (64ull * 1024u * 1024u * 1024u)
/* Audit group commit: flush at most this often (ms) or when this many entries wait. */
#define LT_AUDIT_FLUSH_MS 5
#define LT_AUDIT_BATCH_MAX 4096
/* Audit entries waiting in memory: past this, submitters wait for the writer (backpressure),
 * so memory stays bounded and every answered request keeps its entry. */
#define LT_AUDIT_QUEUE_MAX 65536

#endif
