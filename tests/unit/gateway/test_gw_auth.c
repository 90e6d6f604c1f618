/* gw_auth: signing and verification with HS256, RS256 and ES256 keys made here, every claim
 * rule, the alg pin (alg none, HS256 signed with the RSA public key's PEM), and the cache. */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_auth.h"
#include "lt_config.h"
#include "lt_test.h"

#define NOW 1900000000ll
#define SECRET "0123456789abcdef0123456789abcdef-hs256-test"

static char g_dir[64];

static void write_file(const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* Writes NAME.pub.pem and NAME.pem for a fresh key pair. */
static void write_keypair(const char *name, EVP_PKEY *pk)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s.pub.pem", g_dir, name);
    FILE *f = fopen(p, "w");
    CHECK(f && PEM_write_PUBKEY(f, pk) == 1);
    if (f)
        fclose(f);
    snprintf(p, sizeof p, "%s/%s.pem", g_dir, name);
    f = fopen(p, "w");
    CHECK(f && PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) == 1);
    if (f)
        fclose(f);
}

static char *read_text(const char *name)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "rb");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    (void)n;
    fclose(f);
    return buf;
}

static lt_config *load_config(const char *name, const char *json)
{
    char p[256];
    lt_config *c = NULL;
    lt_errinfo ei = {0};
    write_file(name, json);
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    lt_err e = lt_config_load(p, &c, &ei);
    CHECK_MSG(e == LT_OK, "%s", ei.detail);
    return c;
}

static const char *main_config =
    "{\"auth\": {\"issuer\": \"lienthong\", \"audience\": \"lienthong\", \"keys\": [\n"
    "  {\"kid\": \"hs\", \"alg\": \"HS256\", \"secret_file\": \"hs.secret\"},\n"
    "  {\"kid\": \"rsa\", \"alg\": \"RS256\", \"public_key_file\": \"rsa.pub.pem\",\n"
    "   \"private_key_file\": \"rsa.pem\"},\n"
    "  {\"kid\": \"ec\", \"alg\": \"ES256\", \"public_key_file\": \"ec.pub.pem\",\n"
    "   \"private_key_file\": \"ec.pem\"},\n"
    "  {\"kid\": \"rsa-verify\", \"alg\": \"RS256\", \"public_key_file\": \"rsa.pub.pem\"}\n"
    "]}}\n";

/* --- hand-made tokens --- */

static void b64url(const unsigned char *p, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

/* header.claims.HMAC-SHA256(key); the signature is empty when key is NULL. */
static char *hs_token(const char *header, const char *claims, const void *key, size_t klen)
{
    char *t = calloc(1, 16384);
    b64url((const unsigned char *)header, strlen(header), t);
    strncat(t, ".", 2);
    b64url((const unsigned char *)claims, strlen(claims), t + strlen(t));
    size_t signed_len = strlen(t);
    strncat(t, ".", 2);
    if (key) {
        unsigned char mac[32];
        unsigned mlen = 0;
        HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)t, signed_len, mac, &mlen);
        b64url(mac, mlen, t + strlen(t));
    }
    return t;
}

static void claims_at(char *out, size_t n, const char *extra, long long exp)
{
    snprintf(out, n, "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"sys-1\","
             "\"org\":\"H43.01\",\"roles\":[\"agency\"],\"exp\":%lld%s}", exp, extra);
}

/* --- cases --- */

static gw_auth *g_auth;

static void test_roles_parse(void)
{
    static const struct {
        const char *csv;
        int rc;
        unsigned roles;
    } cases[] = {
        {"admin", 0, GW_ROLE_ADMIN},
        {"admin,agency", 0, GW_ROLE_ADMIN | GW_ROLE_AGENCY},
        {"national, ioc", 0, GW_ROLE_NATIONAL | GW_ROLE_IOC},
        {"", 0, 0},
        {"root", -1, 0},
        {"admin,", -1, 0},
        {"Admin", -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned r = 0;
        int rc = gw_roles_parse(cases[i].csv, &r);
        CHECK_MSG(rc == cases[i].rc, "'%s'", cases[i].csv);
        if (rc == 0)
            CHECK_MSG(r == cases[i].roles, "'%s'", cases[i].csv);
    }
}

static void sign_verify(const char *kid, size_t sig_chars)
{
    char *tok = NULL;
    lt_errinfo ei = {0};
    CHECK(gw_auth_sign(g_auth, kid, "sys-42", "H43.01", "agency,ioc", 3600, NOW, &tok, &ei) ==
          LT_OK);
    if (!tok)
        return;
    CHECK_MSG(strlen(strrchr(tok, '.') + 1) == sig_chars, "%s: signature length %zu", kid,
              strlen(strrchr(tok, '.') + 1));
    gw_principal p;
    lt_err e = gw_auth_verify(g_auth, tok, strlen(tok), NOW + 10, &p, &ei);
    CHECK_MSG(e == LT_OK, "%s: %s", kid, ei.detail);
    CHECK_STR(p.sub, "sys-42");
    CHECK_STR(p.org, "H43.01");
    CHECK(p.roles == (GW_ROLE_AGENCY | GW_ROLE_IOC));
    CHECK(p.exp == NOW + 3600);
    free(tok);
}

static void test_round_trips(void)
{
    sign_verify("hs", 43);  /* 32-byte HMAC */
    sign_verify("rsa", 342); /* 256-byte RSA-2048 signature */
    sign_verify("ec", 86);  /* JOSE R||S, 64 bytes, not DER */
    char *tok = NULL;
    lt_errinfo ei = {0};
    CHECK(gw_auth_sign(g_auth, "rsa-verify", "s", "o", "agency", 60, NOW, &tok, &ei) ==
          LT_E_CONFIG);
    CHECK(gw_auth_sign(g_auth, "nope", "s", "o", "agency", 60, NOW, &tok, &ei) == LT_E_CONFIG);
    CHECK(gw_auth_sign(g_auth, NULL, "s", "o", "wizard", 60, NOW, &tok, &ei) == LT_E_INVALID);
    CHECK(gw_auth_sign(g_auth, NULL, "admin-1", NULL, "admin", 60, NOW, &tok, &ei) == LT_OK);
    gw_principal p;
    CHECK(tok && gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p, &ei) == LT_OK);
    CHECK_STR(p.org, "");
    CHECK(p.roles == GW_ROLE_ADMIN);
    free(tok);
}

typedef struct tcase {
    const char *name;
    const char *header;
    const char *extra;  /* appended to the claims */
    long long exp;      /* 0: claims given in full by `claims` */
    const char *claims;
    int key;            /* 0 = the HS secret, 1 = the RSA public PEM text, 2 = no signature */
    lt_err want;
    const char *detail; /* substring of ei.detail */
} tcase;

static const char *hdr_hs = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"hs\"}";

static const tcase cases[] = {
    {"valid", NULL, "", NOW + 60, NULL, 0, LT_OK, ""},
    {"expired", NULL, "", NOW - 31, NULL, 0, LT_E_TOKEN_EXPIRED, "expired"},
    {"within leeway", NULL, "", NOW - 29, NULL, 0, LT_OK, ""},
    {"nbf future", NULL, ",\"nbf\":1900000100", NOW + 600, NULL, 0, LT_E_TOKEN_EXPIRED,
     "not valid before"},
    {"nbf past", NULL, ",\"nbf\":1899999000", NOW + 600, NULL, 0, LT_OK, ""},
    {"missing exp", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"s\",\"org\":\"o\"}", 0,
     LT_E_UNAUTHORIZED, "exp"},
    {"exp string", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"s\",\"org\":\"o\","
     "\"exp\":\"1900000100\"}", 0, LT_E_UNAUTHORIZED, "exp"},
    {"wrong iss", NULL, NULL, 0,
     "{\"iss\":\"evil\",\"aud\":\"lienthong\",\"sub\":\"s\",\"org\":\"o\",\"exp\":1900000100}",
     0, LT_E_UNAUTHORIZED, "issuer"},
    {"wrong aud", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"other\",\"sub\":\"s\",\"org\":\"o\",\"exp\":1900000100}",
     0, LT_E_UNAUTHORIZED, "audience"},
    {"aud array", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":[\"x\",\"lienthong\"],\"sub\":\"s\",\"org\":\"o\","
     "\"exp\":1900000100}", 0, LT_OK, ""},
    {"aud array without us", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":[\"x\",\"y\"],\"sub\":\"s\",\"org\":\"o\","
     "\"exp\":1900000100}", 0, LT_E_UNAUTHORIZED, "audience"},
    {"missing sub", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"org\":\"o\",\"exp\":1900000100}", 0,
     LT_E_UNAUTHORIZED, "sub"},
    {"missing org for agency", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"s\",\"roles\":[\"agency\"],"
     "\"exp\":1900000100}", 0, LT_E_UNAUTHORIZED, "org"},
    {"unknown role", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"s\",\"org\":\"o\","
     "\"roles\":[\"agency\",\"root\"],\"exp\":1900000100}", 0, LT_E_UNAUTHORIZED, "role"},
    {"roles not array", NULL, NULL, 0,
     "{\"iss\":\"lienthong\",\"aud\":\"lienthong\",\"sub\":\"s\",\"org\":\"o\","
     "\"roles\":\"admin\",\"exp\":1900000100}", 0, LT_E_UNAUTHORIZED, "roles"},
    {"alg none, empty signature", "{\"alg\":\"none\",\"kid\":\"hs\"}", "", NOW + 60, NULL, 2,
     LT_E_UNAUTHORIZED, ""},
    {"alg none with a signature", "{\"alg\":\"none\",\"kid\":\"hs\"}", "", NOW + 60, NULL, 0,
     LT_E_UNAUTHORIZED, "none"},
    {"alg None", "{\"alg\":\"None\",\"kid\":\"hs\"}", "", NOW + 60, NULL, 0, LT_E_UNAUTHORIZED,
     "none"},
    {"unknown kid", "{\"alg\":\"HS256\",\"kid\":\"ghost\"}", "", NOW + 60, NULL, 0,
     LT_E_UNAUTHORIZED, "kid"},
    {"no kid, several keys", "{\"alg\":\"HS256\"}", "", NOW + 60, NULL, 0, LT_E_UNAUTHORIZED,
     "kid"},
    {"alg HS384 on an HS256 key", "{\"alg\":\"HS384\",\"kid\":\"hs\"}", "", NOW + 60, NULL, 0,
     LT_E_UNAUTHORIZED, "alg"},
    {"key confusion: HS256 with the RSA public PEM", "{\"alg\":\"HS256\",\"kid\":\"rsa\"}", "",
     NOW + 60, NULL, 1, LT_E_UNAUTHORIZED, "alg"},
    {"key confusion on a verify-only key", "{\"alg\":\"HS256\",\"kid\":\"rsa-verify\"}", "",
     NOW + 60, NULL, 1, LT_E_UNAUTHORIZED, "alg"},
    {"duplicate alg in header", "{\"alg\":\"HS256\",\"alg\":\"none\",\"kid\":\"hs\"}", "",
     NOW + 60, NULL, 0, LT_E_UNAUTHORIZED, "header"},
    {"crit header", "{\"alg\":\"HS256\",\"kid\":\"hs\",\"crit\":[\"x\"],\"x\":1}", "", NOW + 60,
     NULL, 0, LT_E_UNAUTHORIZED, "crit"},
    {"header not JSON", "not json", "", NOW + 60, NULL, 0, LT_E_UNAUTHORIZED, "header"},
};

static void test_claims_and_pin(void)
{
    char *pem = read_text("rsa.pub.pem");
    CHECK(pem != NULL);
    for (size_t i = 0; pem && i < sizeof cases / sizeof cases[0]; i++) {
        const tcase *c = &cases[i];
        char claims[1024];
        if (c->exp)
            claims_at(claims, sizeof claims, c->extra, c->exp);
        else
            snprintf(claims, sizeof claims, "%s", c->claims);
        const void *key = c->key == 0 ? (const void *)SECRET : c->key == 1 ? pem : NULL;
        size_t klen = c->key == 0 ? strlen(SECRET) : c->key == 1 ? strlen(pem) : 0;
        char *tok = hs_token(c->header ? c->header : hdr_hs, claims, key, klen);
        gw_principal p;
        lt_errinfo ei = {0};
        lt_err e = gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p, &ei);
        CHECK_MSG(e == c->want, "%s: got %d (%s)", c->name, e, ei.detail);
        CHECK_MSG(strstr(ei.detail, c->detail) != NULL, "%s: detail '%s'", c->name, ei.detail);
        CHECK_MSG(!strstr(ei.detail, tok), "%s: detail echoes the token", c->name);
        free(tok);
    }
    free(pem);
}

/* The attack is real: raw libjwt accepts the forged token when handed the PEM as HMAC key. */
static void test_key_confusion_is_real(void)
{
    char *pem = read_text("rsa.pub.pem");
    char claims[512];
    claims_at(claims, sizeof claims, "", NOW + 60);
    char *tok = hs_token("{\"alg\":\"HS256\",\"kid\":\"rsa\"}", claims, pem, strlen(pem));
    jwt_t *jwt = NULL;
    CHECK(jwt_decode(&jwt, tok, (const unsigned char *)pem, (int)strlen(pem)) == 0);
    jwt_free(jwt);
    gw_principal p;
    lt_errinfo ei = {0};
    CHECK(gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p, &ei) == LT_E_UNAUTHORIZED);
    CHECK(lt_err_status(ei.code) == 401);
    free(tok);
    free(pem);
}

static void test_tampering(void)
{
    char *tok = NULL;
    lt_errinfo ei = {0};
    gw_principal p;
    static const char *const kids[] = {"hs", "rsa", "ec"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(gw_auth_sign(g_auth, kids[i], "s", "o", "agency", 60, NOW, &tok, &ei) == LT_OK);
        if (!tok)
            continue;
        char *sig = strrchr(tok, '.') + 1;
        sig[5] = sig[5] == 'A' ? 'B' : 'A'; /* middle char: every bit counts */
        CHECK_MSG(gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p, &ei) == LT_E_UNAUTHORIZED,
                  "%s tampered signature", kids[i]);
        free(tok);
    }
    /* a payload swapped under a valid signature */
    char *a = NULL, *b = NULL;
    gw_auth_sign(g_auth, "hs", "user", "o", "agency", 60, NOW, &a, &ei);
    gw_auth_sign(g_auth, "hs", "admin", NULL, "admin", 60, NOW, &b, &ei);
    if (a && b) {
        char forged[2048];
        char *a_dot = strchr(a, '.'), *b_dot2 = strrchr(b, '.');
        *strrchr(a, '.') = '\0';
        snprintf(forged, sizeof forged, "%.*s%s%s", (int)(strchr(b, '.') - b), b, a_dot, b_dot2);
        CHECK(gw_auth_verify(g_auth, forged, strlen(forged), NOW, &p, &ei) == LT_E_UNAUTHORIZED);
    }
    free(a);
    free(b);
    static const char *const junk[] = {"", "abc", "a.b", "a.b.c.d", "a..c", "a.b.", "a b.c.d",
                                       "eyJ.eyJ.sig=", "....."};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        CHECK_MSG(gw_auth_verify(g_auth, junk[i], strlen(junk[i]), NOW, &p, &ei) ==
                      LT_E_UNAUTHORIZED, "'%s'", junk[i]);
}

static void test_cache(void)
{
    char *tok = NULL;
    lt_errinfo ei = {0};
    gw_principal p1, p2, p3;
    CHECK(gw_auth_sign(g_auth, "rsa", "cached", "H43", "national", 100, NOW, &tok, &ei) ==
          LT_OK);
    if (!tok)
        return;
    CHECK(gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p1, &ei) == LT_OK);
    CHECK(gw_auth_verify(g_auth, tok, strlen(tok), NOW + 1, &p2, &ei) == LT_OK);
    CHECK(memcmp(&p1, &p2, sizeof p1) == 0);
    CHECK(p2.roles == GW_ROLE_NATIONAL);
    /* the cache never outlives exp */
    ei.code = LT_OK;
    CHECK(gw_auth_verify(g_auth, tok, strlen(tok), NOW + 200, &p3, &ei) == LT_E_TOKEN_EXPIRED);
    CHECK_STR(lt_err_code(ei.code), "token_expired");
    CHECK(lt_err_status(ei.code) == 401);
    /* a token that differs by one byte is not served from the cache */
    tok[strlen(tok) - 3] ^= 1;
    CHECK(gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p3, &ei) == LT_E_UNAUTHORIZED);
    free(tok);
}

/* Many threads sign and verify at once, sharing the cache (run under TSan to see races). */
static void *verify_loop(void *arg)
{
    long id = (long)arg, bad = 0;
    for (int i = 0; i < 200; i++) {
        char sub[32], *tok = NULL;
        gw_principal p;
        lt_errinfo ei = {0};
        snprintf(sub, sizeof sub, "t%ld-%d", id, i % 10);
        if (gw_auth_sign(g_auth, "hs", sub, "o", "agency", 60, NOW, &tok, &ei) != LT_OK ||
            gw_auth_verify(g_auth, tok, strlen(tok), NOW, &p, &ei) != LT_OK ||
            strcmp(p.sub, sub) != 0)
            bad++;
        free(tok);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t th[8];
    for (long i = 0; i < 8; i++)
        CHECK(pthread_create(&th[i], NULL, verify_loop, (void *)i) == 0);
    for (int i = 0; i < 8; i++) {
        void *bad = NULL;
        pthread_join(th[i], &bad);
        CHECK(bad == NULL);
    }
}

static void test_single_key_without_kid(void)
{
    lt_config *c = load_config("one.json", "{\"auth\": {\"keys\": [{\"kid\": \"only\", "
                                           "\"alg\": \"HS256\", \"secret_file\": "
                                           "\"hs.secret\"}]}}");
    gw_auth *a = NULL;
    lt_errinfo ei = {0};
    CHECK(c && gw_auth_new(c, &a, &ei) == LT_OK);
    char claims[512];
    claims_at(claims, sizeof claims, "", NOW + 60);
    char *tok = hs_token("{\"alg\":\"HS256\"}", claims, SECRET, strlen(SECRET));
    gw_principal p;
    CHECK(a && gw_auth_verify(a, tok, strlen(tok), NOW, &p, &ei) == LT_OK);
    free(tok);
    gw_auth_free(a);
    lt_config_free(c);
}

static void test_bad_key_types(void)
{
    static const struct {
        const char *json;
        const char *detail;
    } cases[] = {
        {"{\"auth\": {\"keys\": [{\"kid\": \"k\", \"alg\": \"RS256\", \"public_key_file\": "
         "\"ec.pub.pem\"}]}}", "not an RSA key"},
        {"{\"auth\": {\"keys\": [{\"kid\": \"k\", \"alg\": \"ES256\", \"public_key_file\": "
         "\"rsa.pub.pem\"}]}}", "not an EC key"},
        {"{\"auth\": {\"keys\": [{\"kid\": \"k\", \"alg\": \"ES384\", \"public_key_file\": "
         "\"ec.pub.pem\"}]}}", "curve"},
        {"{\"auth\": {\"keys\": [{\"kid\": \"k\", \"alg\": \"RS256\", \"public_key_file\": "
         "\"rsa.pub.pem\", \"private_key_file\": \"ec.pem\"}]}}", "private_key_file"},
        {"{\"auth\": {\"keys\": [{\"kid\": \"k\", \"alg\": \"RS256\", \"public_key_file\": "
         "\"broken.pem\"}]}}", "not a readable PEM key"},
        {"{}", "no keys"},
    };
    write_file("broken.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_config *c = load_config("bad.json", cases[i].json);
        gw_auth *a = NULL;
        lt_errinfo ei = {0};
        CHECK_MSG(c && gw_auth_new(c, &a, &ei) == LT_E_CONFIG, "case %zu", i);
        CHECK_MSG(strstr(ei.detail, cases[i].detail), "case %zu: '%s'", i, ei.detail);
        CHECK(a == NULL);
        lt_config_free(c);
    }
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/lt-auth-" "XX" "XX" "XX");
    CHECK(mkdtemp(g_dir) != NULL);
    write_file("hs.secret", SECRET "\n");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    CHECK(rsa && ec);
    write_keypair("rsa", rsa);
    write_keypair("ec", ec);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

static void teardown(void)
{
    static const char *const files[] = {"hs.secret", "rsa.pem", "rsa.pub.pem", "ec.pem",
                                        "ec.pub.pem", "main.json", "one.json", "bad.json",
                                        "broken.pem"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

int main(void)
{
    setup();
    lt_config *cfg = load_config("main.json", main_config);
    lt_errinfo ei = {0};
    CHECK_MSG(cfg && gw_auth_new(cfg, &g_auth, &ei) == LT_OK, "%s", ei.detail);
    if (g_auth) {
        LT_RUN(test_roles_parse);
        LT_RUN(test_round_trips);
        LT_RUN(test_claims_and_pin);
        LT_RUN(test_key_confusion_is_real);
        LT_RUN(test_tampering);
        LT_RUN(test_cache);
        LT_RUN(test_threads);
        LT_RUN(test_single_key_without_kid);
        LT_RUN(test_bad_key_types);
    }
    gw_auth_free(g_auth);
    lt_config_free(cfg);
    teardown();
    return lt_test_done();
}
