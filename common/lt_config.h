/* lt_config — the configuration file (API.md §2), loaded once and immutable afterwards.
 *
 * Contract: lt_config_load parses the JSON file strictly: an unknown key, a wrong type or an
 * invalid value fails with LT_E_CONFIG and ei->detail "FILE:LINE:COL: message" (positions from
 * lt_json_locate; the whole-file position 1:1 when a key is missing). Relative paths are
 * resolved against the config file's folder. Key files are read at load (secret_file,
 * public_key_file, private_key_file; missing or unreadable files are errors naming the key).
 * The environment variable LIENTHONG_LISTEN overrides `listen`. The `tls` files (cert_file,
 * key_file, client_ca_file) are checked at load (readable regular files of at most 1 MiB, in
 * PEM) but not kept: the gateway reads them when it starts serving (gw_server_start), and the
 * config holds only their absolute paths.
 * Ownership: *out is new; free with lt_config_free. Thread safety: read-only after load.
 */
#ifndef LT_CONFIG_H
#define LT_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "lt_err.h"

typedef struct lt_key_conf {
    char kid[64];
    char alg[8];              /* HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512 */
    unsigned char *secret;    /* HS*: bytes of secret_file (trailing newline stripped) */
    size_t secret_len;
    char *public_pem;         /* RS* and ES*: PEM text of public_key_file (verification) */
    char *private_pem;        /* RS* and ES*: PEM text of private_key_file (signing), may be NULL */
} lt_key_conf;

/* `tls` (optional): HTTPS, and client certificates mapped to registered systems. */
typedef struct lt_tls_conf {
    char *cert_file;         /* absolute: the server's certificate (chain), PEM */
    char *key_file;          /* absolute: its private key, PEM, unencrypted */
    char *client_ca_file;    /* absolute, or NULL: the CA bundle (PEM) that signs callers'
                                client certificates; NULL = no client certificate asked for */
    int require_client_cert; /* every request needs a verified client certificate (only with
                                client_ca_file) */
} lt_tls_conf;

typedef struct lt_config {
    char *path;               /* the config file as given */
    char *dir;                /* its folder (absolute) */
    char *listen_host;        /* "127.0.0.1" */
    int listen_port;          /* 8080 */
    char *data_dir;           /* absolute */
    int threads;              /* 0 = one per core */
    char *issuer, *audience;
    lt_key_conf *keys;
    size_t nkeys;
    size_t max_body_bytes;          /* limits.max_body_bytes */
    size_t max_records_per_request; /* limits.max_records_per_request */
    long request_timeout_ms;        /* limits.request_timeout_ms */
    size_t pull_runs_kept;          /* limits.pull_runs_kept */
    size_t max_query_obs;           /* limits.max_observations_per_query */
    unsigned max_conn_per_ip;       /* limits.max_connections_per_ip (0 = no per-address cap) */
    char *bootstrap_dir;      /* absolute, or NULL when no bootstrap */
    int64_t *holidays;        /* days since epoch, sorted */
    size_t nholidays;
    size_t map_size;          /* warehouse.map_size_mb * 2^20, 0 = default */
    int metrics_public;       /* metrics.public (default true): false requires an admin token */
    lt_tls_conf *tls;         /* NULL = plain HTTP (the default) */
} lt_config;

lt_err lt_config_load(const char *path, lt_config **out, lt_errinfo *ei);
void lt_config_free(lt_config *c);
/* Resolves p against the config folder into a new string (free()). */
char *lt_config_path(const lt_config *c, const char *p);

#endif
