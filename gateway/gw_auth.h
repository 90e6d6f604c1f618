/* gw_auth — bearer-token authentication with libjwt 1.10 (API.md §3, DESIGN.md security rules).
 *
 * Verification: the key is chosen by the token's `kid` header (a token without kid is accepted
 * only when exactly one key is configured); the header `alg` must equal that key's configured
 * alg BEFORE the signature is checked (stops HS256-with-RSA-public-key confusion); `none` is
 * never accepted and libjwt is never given a NULL key. Claims checked here: exp (required,
 * LT_E_TOKEN_EXPIRED when past, 30 s leeway), nbf (if present), iss and aud (must equal the
 * configured issuer/audience; aud may be a string or an array containing it), sub (required,
 * string), org (string, may be absent for admin), roles (array of known role names).
 * Verified tokens are cached by their SHA-256 until exp (bounded, LT_TOKEN_CACHE_SIZE).
 *
 * Ownership: gw_auth_new returns a new object (gw_auth_free); it copies what it needs from the
 * config. gw_auth_sign returns a new string (free()).
 * Thread safety: gw_auth_verify and gw_auth_sign may be called from many threads at once.
 */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "lt_config.h"
#include "lt_err.h"

enum {
    GW_ROLE_ADMIN = 1u << 0,
    GW_ROLE_AGENCY = 1u << 1,
    GW_ROLE_NATIONAL = 1u << 2,
    GW_ROLE_IOC = 1u << 3
};

typedef struct gw_principal {
    char sub[128];  /* the calling system's id */
    char org[64];   /* agency code of its owner; "" when absent */
    unsigned roles; /* GW_ROLE_* bits */
    int64_t exp;    /* seconds since epoch */
} gw_principal;

typedef struct gw_auth gw_auth;

lt_err gw_auth_new(const lt_config *cfg, gw_auth **out, lt_errinfo *ei);
void gw_auth_free(gw_auth *a);
/* token is the text after "Bearer ". now in seconds since epoch. LT_E_UNAUTHORIZED with a
 * detail that says what is wrong (never echoing the token), or LT_E_TOKEN_EXPIRED. */
lt_err gw_auth_verify(gw_auth *a, const char *token, size_t len, int64_t now, gw_principal *out,
                      lt_errinfo *ei);
/* Signs a token with key kid (NULL = the first key that can sign): iss, aud, iat, exp=now+ttl,
 * sub, org, roles (comma-separated names). LT_E_CONFIG if the key cannot sign. */
lt_err gw_auth_sign(gw_auth *a, const char *kid, const char *sub, const char *org,
                    const char *roles_csv, long ttl_s, int64_t now, char **token, lt_errinfo *ei);
/* Parses "admin,agency" into role bits; -1 on an unknown name. */
int gw_roles_parse(const char *csv, unsigned *roles);

#endif
