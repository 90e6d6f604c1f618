#include "gw_auth.h"

#include <jansson.h>
#include <jwt.h>
#include <math.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lt_limits.h"
#include "lt_str.h"

/* Clock skew tolerated between the issuer and us (header contract: 30 s). */
#define LEEWAY_S 30
/* Our tokens are a few hundred bytes; the cap bounds the work an unauthenticated caller buys. */
#define TOKEN_MAX 8192
/* RSA keys below 2048 bits are factorable by well-funded attackers (NIST SP 800-131A). */
#define RSA_MIN_BITS 2048

typedef struct auth_key {
    char kid[64];
    char alg_name[8];
    jwt_alg_t alg;
    unsigned char *verify_key; /* HMAC secret or public PEM */
    size_t verify_len;
    unsigned char *sign_key; /* HMAC secret or private PEM; NULL when it cannot sign */
    size_t sign_len;
} auth_key;

typedef struct cache_ent {
    unsigned char hash[32];
    bool used;
    int64_t nbf; /* INT64_MIN when absent */
    gw_principal p;
} cache_ent;

struct gw_auth {
    auth_key *keys;
    size_t nkeys;
    char *issuer, *audience;
    pthread_mutex_t mu; /* guards cache */
    cache_ent cache[LT_TOKEN_CACHE_SIZE];
};

static const struct {
    const char *name;
    unsigned bit;
} role_names[] = {
    {"admin", GW_ROLE_ADMIN},
    {"agency", GW_ROLE_AGENCY},
    {"national", GW_ROLE_NATIONAL},
    {"ioc", GW_ROLE_IOC},
};

static int role_bit(const char *s, size_t n, unsigned *bit)
{
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (lt_strneq_lit(s, n, role_names[i].name)) {
            *bit = role_names[i].bit;
            return 0;
        }
    return -1;
}

int gw_roles_parse(const char *csv, unsigned *roles)
{
    unsigned r = 0;
    const char *p = csv;
    while (*p == ' ')
        p++;
    if (!*p) { /* no roles at all is a valid (if useless) set */
        *roles = 0;
        return 0;
    }
    for (;;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        while (n && *p == ' ')
            p++, n--;
        unsigned bit;
        if (role_bit(p, n, &bit))
            return -1;
        r |= bit;
        if (!end)
            break;
        p = end + 1;
    }
    *roles = r;
    return 0;
}

/* --- construction: keys are checked once here, not per request --- */

/* The EC curve an ES* alg requires (RFC 7518 §3.4). */
static const char *es_curve(jwt_alg_t alg)
{
    return alg == JWT_ALG_ES256 ? "prime256v1" : alg == JWT_ALG_ES384 ? "secp384r1" : "secp521r1";
}

static lt_err check_pkey(const auth_key *k, EVP_PKEY *pk, const char *what, lt_errinfo *ei)
{
    bool rs = k->alg_name[0] == 'R';
    if (!pk)
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s': %s is not a readable PEM key",
                       k->kid, what);
    if (EVP_PKEY_get_base_id(pk) != (rs ? EVP_PKEY_RSA : EVP_PKEY_EC))
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s' (%s): %s is not an %s key", k->kid,
                       k->alg_name, what, rs ? "RSA" : "EC");
    if (rs && EVP_PKEY_get_bits(pk) < RSA_MIN_BITS)
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s': %s has %d bits; at least %d needed",
                       k->kid, what, EVP_PKEY_get_bits(pk), RSA_MIN_BITS);
    char curve[64] = "";
    if (!rs && (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                                sizeof curve, NULL) ||
                strcmp(curve, es_curve(k->alg)) != 0))
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s' (%s): %s must be on curve %s",
                       k->kid, k->alg_name, what, es_curve(k->alg));
    return LT_OK;
}

static lt_err check_pem(const auth_key *k, const char *pem, bool priv, lt_errinfo *ei)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    EVP_PKEY *pk = priv ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                        : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    lt_err e = check_pkey(k, pk, priv ? "private_key_file" : "public_key_file", ei);
    EVP_PKEY_free(pk);
    BIO_free(bio);
    return e;
}

static unsigned char *dup_bytes(const void *p, size_t n)
{
    unsigned char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

static lt_err copy_key(auth_key *k, const lt_key_conf *kc, lt_errinfo *ei)
{
    lt_strlcpy(k->kid, kc->kid, sizeof k->kid);
    lt_strlcpy(k->alg_name, kc->alg, sizeof k->alg_name);
    k->alg = jwt_str_alg(kc->alg);
    if (k->alg == JWT_ALG_NONE || k->alg == JWT_ALG_INVAL)
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s': unsupported alg", kc->kid);
    if (kc->alg[0] == 'H') {
        if (!kc->secret || !kc->secret_len)
            return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s' has no secret", kc->kid);
        k->verify_key = dup_bytes(kc->secret, kc->secret_len);
        k->sign_key = dup_bytes(kc->secret, kc->secret_len);
        k->verify_len = k->sign_len = kc->secret_len;
        return k->verify_key && k->sign_key ? LT_OK : lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    if (!kc->public_pem)
        return lt_fail(ei, LT_E_CONFIG, "auth.keys: key '%s' has no public key", kc->kid);
    lt_err e = check_pem(k, kc->public_pem, false, ei);
    if (!e && kc->private_pem)
        e = check_pem(k, kc->private_pem, true, ei);
    if (e)
        return e;
    k->verify_len = strlen(kc->public_pem);
    k->verify_key = dup_bytes(kc->public_pem, k->verify_len);
    if (kc->private_pem) {
        k->sign_len = strlen(kc->private_pem);
        k->sign_key = dup_bytes(kc->private_pem, k->sign_len);
    }
    if (!k->verify_key || (kc->private_pem && !k->sign_key))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

lt_err gw_auth_new(const lt_config *cfg, gw_auth **out, lt_errinfo *ei)
{
    *out = NULL;
    if (!cfg->nkeys)
        return lt_fail(ei, LT_E_CONFIG, "%s: auth.keys: no keys configured; every /v1/ request "
                       "would be refused", cfg->path ? cfg->path : "config");
    gw_auth *a = calloc(1, sizeof *a);
    if (!a)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    a->issuer = strdup(cfg->issuer ? cfg->issuer : "lienthong");
    a->audience = strdup(cfg->audience ? cfg->audience : "lienthong");
    a->keys = calloc(cfg->nkeys, sizeof *a->keys);
    lt_err e = a->issuer && a->audience && a->keys ? LT_OK
                                                    : lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (!e)
        a->nkeys = cfg->nkeys;
    for (size_t i = 0; !e && i < cfg->nkeys; i++)
        e = copy_key(&a->keys[i], &cfg->keys[i], ei);
    if (e) {
        gw_auth_free(a);
        return e;
    }
    *out = a;
    return LT_OK;
}

void gw_auth_free(gw_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nkeys; i++) {
        auth_key *k = &a->keys[i];
        if (k->verify_key)
            OPENSSL_cleanse(k->verify_key, k->verify_len);
        if (k->sign_key)
            OPENSSL_cleanse(k->sign_key, k->sign_len);
        free(k->verify_key);
        free(k->sign_key);
    }
    free(a->keys);
    free(a->issuer);
    free(a->audience);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* --- the verified-token cache: direct-mapped by hash, entries valid until exp --- */

static cache_ent *cache_slot(gw_auth *a, const unsigned char h[32])
{
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return &a->cache[v % LT_TOKEN_CACHE_SIZE];
}

static bool cache_get(gw_auth *a, const unsigned char h[32], int64_t now, gw_principal *out)
{
    bool hit = false;
    pthread_mutex_lock(&a->mu);
    cache_ent *c = cache_slot(a, h);
    if (c->used && memcmp(c->hash, h, 32) == 0 && c->p.exp > now - LEEWAY_S &&
        c->nbf <= now + LEEWAY_S) {
        *out = c->p;
        hit = true;
    }
    pthread_mutex_unlock(&a->mu);
    return hit;
}

static void cache_put(gw_auth *a, const unsigned char h[32], int64_t nbf, const gw_principal *p)
{
    pthread_mutex_lock(&a->mu);
    cache_ent *c = cache_slot(a, h);
    memcpy(c->hash, h, 32);
    c->used = true;
    c->nbf = nbf;
    c->p = *p;
    pthread_mutex_unlock(&a->mu);
}

/* --- the header, read before libjwt sees the token --- */

static int b64url_val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* Unpadded base64url (RFC 7515 §2) into out (>= n*3/4 bytes); -1 on a bad character. */
static int b64url_decode(const char *s, size_t n, unsigned char *out, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    *outlen = o;
    return 0;
}

/* Three non-empty base64url segments; *dot1 is the end of the header. */
static int token_shape(const char *t, size_t len, size_t *dot1)
{
    size_t dots = 0, last = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (i == last)
                return -1;
            if (dots++ == 0)
                *dot1 = i;
            last = i + 1;
        } else if (b64url_val(t[i]) < 0) {
            return -1;
        }
    }
    return dots == 2 && last < len ? 0 : -1;
}

static lt_err pick_by_header(gw_auth *a, const json_t *hdr, const auth_key **out, lt_errinfo *ei)
{
    const char *alg = json_string_value(json_object_get(hdr, "alg"));
    const json_t *kidv = json_object_get(hdr, "kid");
    if (!alg)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token header has no alg");
    if (strcasecmp(alg, "none") == 0)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "unsigned tokens (alg none) are never accepted");
    if (json_object_get(hdr, "crit")) /* RFC 7515 §4.1.11: we understand no extensions */
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token header has unsupported 'crit' extensions");
    if (kidv && !json_is_string(kidv))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token header kid is not a string");
    const auth_key *k = NULL;
    if (!kidv && a->nkeys == 1)
        k = &a->keys[0];
    for (size_t i = 0; kidv && i < a->nkeys && !k; i++)
        if (strcmp(a->keys[i].kid, json_string_value(kidv)) == 0)
            k = &a->keys[i];
    if (!k)
        return lt_fail(ei, LT_E_UNAUTHORIZED, kidv ? "token kid names no configured key"
                                                   : "token has no kid and several keys exist");
    /* The pin: libjwt would verify with whatever alg the token names. */
    if (strcmp(alg, k->alg_name) != 0)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token alg does not match key '%s' (%s)", k->kid,
                       k->alg_name);
    *out = k;
    return LT_OK;
}

static lt_err pick_key(gw_auth *a, const char *tok, size_t len, const auth_key **out,
                       lt_errinfo *ei)
{
    size_t dot1 = 0, hlen = 0;
    if (token_shape(tok, len, &dot1))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token is not a signed JWT (header.payload.sig)");
    unsigned char *raw = malloc(dot1 + 1);
    if (!raw)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    json_t *hdr = NULL;
    if (b64url_decode(tok, dot1, raw, &hlen) == 0)
        hdr = json_loadb((const char *)raw, hlen, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    lt_err e = json_is_object(hdr) ? pick_by_header(a, hdr, out, ei)
                                   : lt_fail(ei, LT_E_UNAUTHORIZED, "token header is not a JSON "
                                             "object (or repeats a member)");
    json_decref(hdr);
    return e;
}

/* --- claims --- */

/* NumericDate (RFC 7519 §2): integer or real seconds; -1 when absent or not a sane number. */
static int numeric_date(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    double d = json_real_value(v);
    if (!json_is_real(v) || !isfinite(d) || d < -9e15 || d > 9e15)
        return -1;
    *out = (int64_t)floor(d);
    return 0;
}

/* RFC 3339 when representable in microseconds, else the raw number. */
static const char *fmt_time(int64_t s, char t[32])
{
    if (s > -9000000000000ll && s < 9000000000000ll)
        lt_time_format(s * 1000000, false, t);
    else
        snprintf(t, 32, "%lld", (long long)s);
    return t;
}

static lt_err check_times(const json_t *cl, int64_t now, int64_t *exp, int64_t *nbf,
                          lt_errinfo *ei)
{
    const json_t *nv = json_object_get(cl, "nbf");
    if (numeric_date(json_object_get(cl, "exp"), exp))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token has no valid exp claim");
    *nbf = INT64_MIN;
    if (nv && numeric_date(nv, nbf))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token nbf claim is not a number");
    char t[32];
    if (*exp <= now - LEEWAY_S)
        return lt_fail(ei, LT_E_TOKEN_EXPIRED, "token expired at %s", fmt_time(*exp, t));
    if (*nbf > now + LEEWAY_S)
        return lt_fail(ei, LT_E_TOKEN_EXPIRED, "token is not valid before %s", fmt_time(*nbf, t));
    return LT_OK;
}

static bool aud_matches(const json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    size_t i;
    const json_t *v;
    json_array_foreach(aud, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
            return true;
    return false;
}

static lt_err check_roles(const json_t *rv, unsigned *roles, lt_errinfo *ei)
{
    size_t i;
    const json_t *v;
    *roles = 0;
    if (!rv)
        return LT_OK;
    if (!json_is_array(rv))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token roles claim is not an array");
    json_array_foreach(rv, i, v) {
        unsigned bit;
        if (!json_is_string(v) || role_bit(json_string_value(v), json_string_length(v), &bit))
            return lt_fail(ei, LT_E_UNAUTHORIZED, "token roles[%zu] is not a known role (admin, "
                           "agency, national, ioc)", i);
        *roles |= bit;
    }
    return LT_OK;
}

static lt_err check_ids(gw_auth *a, const json_t *cl, gw_principal *p, lt_errinfo *ei)
{
    const json_t *sub = json_object_get(cl, "sub"), *org = json_object_get(cl, "org");
    if (!json_is_string(json_object_get(cl, "iss")) ||
        strcmp(json_string_value(json_object_get(cl, "iss")), a->issuer) != 0)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token issuer is not '%s'", a->issuer);
    if (!aud_matches(json_object_get(cl, "aud"), a->audience))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token audience does not include '%s'",
                       a->audience);
    if (!json_is_string(sub) || json_string_length(sub) == 0 ||
        json_string_length(sub) >= sizeof p->sub ||
        strlen(json_string_value(sub)) != json_string_length(sub))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token sub claim is missing or invalid");
    if (org && (!json_is_string(org) || json_string_length(org) >= sizeof p->org ||
                strlen(json_string_value(org)) != json_string_length(org)))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token org claim is invalid");
    lt_err e = check_roles(json_object_get(cl, "roles"), &p->roles, ei);
    if (e)
        return e;
    if (!org && !(p->roles & GW_ROLE_ADMIN))
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token org claim is required for non-admin roles");
    lt_strlcpy(p->sub, json_string_value(sub), sizeof p->sub);
    lt_strlcpy(p->org, org ? json_string_value(org) : "", sizeof p->org);
    return LT_OK;
}

static lt_err check_claims(gw_auth *a, jwt_t *jwt, int64_t now, gw_principal *p, int64_t *nbf,
                           lt_errinfo *ei)
{
    char *s = jwt_get_grants_json(jwt, NULL);
    json_t *cl = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    lt_err e = json_is_object(cl) ? LT_OK
                                  : lt_fail(ei, LT_E_UNAUTHORIZED, "token claims are not JSON");
    if (!e)
        e = check_times(cl, now, &p->exp, nbf, ei);
    if (!e)
        e = check_ids(a, cl, p, ei);
    json_decref(cl);
    return e;
}

/* --- verify and sign --- */

/* HMAC check in constant time before libjwt, whose 1.10 comparison is a plain strcmp: an
 * attacker then only reaches libjwt's compare with a signature that is already right. */
static bool hmac_ok(const auth_key *k, const char *tok, size_t len)
{
    const char *dot = memrchr(tok, '.', len);
    const EVP_MD *md = k->alg == JWT_ALG_HS256   ? EVP_sha256()
                       : k->alg == JWT_ALG_HS384 ? EVP_sha384()
                                                 : EVP_sha512();
    unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE + 3];
    unsigned wlen = 0;
    size_t glen = 0, slen = len - (size_t)(dot + 1 - tok);
    if (!dot || slen > (EVP_MAX_MD_SIZE * 4 + 2) / 3 ||
        b64url_decode(dot + 1, slen, got, &glen) != 0 ||
        !HMAC(md, k->verify_key, (int)k->verify_len, (const unsigned char *)tok,
              (size_t)(dot - tok), want, &wlen))
        return false;
    return glen == wlen && CRYPTO_memcmp(got, want, wlen) == 0;
}

static lt_err verify_full(gw_auth *a, const char *token, size_t len, int64_t now,
                          gw_principal *out, int64_t *nbf, lt_errinfo *ei)
{
    const auth_key *k = NULL;
    lt_err e = pick_key(a, token, len, &k, ei);
    if (e)
        return e;
    char *tok = strndup(token, len);
    if (!tok)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    jwt_t *jwt = NULL;
    if ((k->alg_name[0] == 'H' && !hmac_ok(k, tok, len)) ||
        jwt_decode(&jwt, tok, k->verify_key, (int)k->verify_len) != 0 || !jwt)
        e = lt_fail(ei, LT_E_UNAUTHORIZED, "token signature does not verify with key '%s'",
                    k->kid);
    else if (jwt_get_alg(jwt) != k->alg) /* belt and braces: libjwt read the same header */
        e = lt_fail(ei, LT_E_UNAUTHORIZED, "token alg does not match key '%s'", k->kid);
    else
        e = check_claims(a, jwt, now, out, nbf, ei);
    jwt_free(jwt);
    free(tok);
    return e;
}

lt_err gw_auth_verify(gw_auth *a, const char *token, size_t len, int64_t now, gw_principal *out,
                      lt_errinfo *ei)
{
    if (!token || len == 0)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "missing bearer token");
    if (len > TOKEN_MAX)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "token longer than %d bytes", TOKEN_MAX);
    unsigned char h[32];
    if (!EVP_Digest(token, len, h, NULL, EVP_sha256(), NULL))
        return lt_fail(ei, LT_E_INTERNAL, "SHA-256 failed");
    if (cache_get(a, h, now, out))
        return LT_OK;
    gw_principal p;
    memset(&p, 0, sizeof p);
    int64_t nbf = INT64_MIN;
    lt_err e = verify_full(a, token, len, now, &p, &nbf, ei);
    if (e)
        return e;
    cache_put(a, h, nbf, &p);
    *out = p;
    return LT_OK;
}

static lt_err pick_signer(gw_auth *a, const char *kid, const auth_key **out, lt_errinfo *ei)
{
    for (size_t i = 0; i < a->nkeys; i++) {
        const auth_key *k = &a->keys[i];
        if (kid && strcmp(k->kid, kid) != 0)
            continue;
        if (k->sign_key) {
            *out = k;
            return LT_OK;
        }
        if (kid)
            return lt_fail(ei, LT_E_CONFIG, "key '%s' cannot sign: it has no private_key_file",
                           kid);
    }
    return kid ? lt_fail(ei, LT_E_CONFIG, "no key with kid '%.63s' is configured", kid)
               : lt_fail(ei, LT_E_CONFIG, "no configured key can sign (HS* secret or "
                         "private_key_file needed)");
}

static json_t *make_claims(gw_auth *a, const char *sub, const char *org, unsigned roles,
                           long ttl_s, int64_t now)
{
    json_t *cl = json_object(), *rl = json_array();
    if (!cl || !rl) {
        json_decref(cl);
        json_decref(rl);
        return NULL;
    }
    for (size_t i = 0; i < sizeof role_names / sizeof role_names[0]; i++)
        if (roles & role_names[i].bit)
            json_array_append_new(rl, json_string(role_names[i].name));
    json_object_set_new(cl, "iss", json_string(a->issuer));
    json_object_set_new(cl, "aud", json_string(a->audience));
    json_object_set_new(cl, "iat", json_integer(now));
    json_object_set_new(cl, "exp", json_integer(now + ttl_s));
    json_object_set_new(cl, "sub", json_string(sub));
    if (org && *org)
        json_object_set_new(cl, "org", json_string(org));
    json_object_set_new(cl, "roles", rl);
    return cl;
}

static char *encode(const auth_key *k, const json_t *claims)
{
    char *grants = json_dumps(claims, JSON_COMPACT);
    jwt_t *jwt = NULL;
    char *tok = NULL;
    if (grants && jwt_new(&jwt) == 0 &&
        jwt_set_alg(jwt, k->alg, k->sign_key, (int)k->sign_len) == 0 &&
        jwt_add_header(jwt, "kid", k->kid) == 0 && jwt_add_grants_json(jwt, grants) == 0)
        tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    free(grants);
    return tok;
}

lt_err gw_auth_sign(gw_auth *a, const char *kid, const char *sub, const char *org,
                    const char *roles_csv, long ttl_s, int64_t now, char **token, lt_errinfo *ei)
{
    *token = NULL;
    unsigned roles;
    const auth_key *k = NULL;
    lt_err e = pick_signer(a, kid, &k, ei);
    if (e)
        return e;
    if (gw_roles_parse(roles_csv ? roles_csv : "", &roles))
        return lt_fail(ei, LT_E_INVALID, "unknown role in '%.100s' (admin, agency, national, "
                       "ioc)", roles_csv);
    if (!sub || !*sub || strlen(sub) >= sizeof ((gw_principal *)0)->sub)
        return lt_fail(ei, LT_E_INVALID, "sub must be 1-127 characters");
    if (org && strlen(org) >= sizeof ((gw_principal *)0)->org)
        return lt_fail(ei, LT_E_INVALID, "org must be under 64 characters");
    if (ttl_s <= 0)
        return lt_fail(ei, LT_E_INVALID, "ttl must be positive");
    json_t *claims = make_claims(a, sub, org, roles, ttl_s, now);
    *token = claims ? encode(k, claims) : NULL;
    json_decref(claims);
    if (!*token)
        return lt_fail(ei, LT_E_INTERNAL, "signing with key '%s' failed", k->kid);
    return LT_OK;
}
