/* Fuzz target: bearer-token verification (gw_auth_verify) against a fixed config with an
 * HS256 key (secret below, so seeds can carry valid signatures) and an RS256 key made at
 * start-up. Anything accepted must be signed with the HS secret: the fuzzer cannot forge RSA. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_auth.h"
#include "lt_config.h"

#define FUZZ_NOW 1900000000ll
#define FUZZ_SECRET "lienthong-fuzz-secret-0123456789abcdef"

static void put(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
}

static gw_auth *make_auth(void)
{
    char dir[] = "/tmp/lt-fuzz-jwt-" "XX" "XX" "XX", p[256];
    if (!mkdtemp(dir))
        abort();
    put(dir, "hs.secret", FUZZ_SECRET "\n");
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    snprintf(p, sizeof p, "%s/rsa.pub.pem", dir);
    FILE *f = fopen(p, "w");
    if (!rsa || !f || PEM_write_PUBKEY(f, rsa) != 1)
        abort();
    fclose(f);
    EVP_PKEY_free(rsa);
    put(dir, "c.json", "{\"auth\": {\"keys\": ["
                       "{\"kid\": \"hs\", \"alg\": \"HS256\", \"secret_file\": \"hs.secret\"},"
                       "{\"kid\": \"rsa\", \"alg\": \"RS256\", \"public_key_file\": "
                       "\"rsa.pub.pem\"}]}}");
    snprintf(p, sizeof p, "%s/c.json", dir);
    lt_config *c = NULL;
    gw_auth *a = NULL;
    lt_errinfo ei = {0};
    if (lt_config_load(p, &c, &ei) || gw_auth_new(c, &a, &ei)) {
        fprintf(stderr, "fuzz_jwt setup: %s\n", ei.detail);
        abort();
    }
    lt_config_free(c); /* gw_auth copies what it needs */
    static const char *const files[] = {"hs.secret", "rsa.pub.pem", "c.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
    return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gw_auth *auth; /* one authenticator for the whole run (fuzzer harness state) */
    if (!auth)
        auth = make_auth();
    gw_principal p;
    lt_errinfo ei = {0};
    lt_err e = gw_auth_verify(auth, (const char *)data, size, FUZZ_NOW, &p, &ei);
    if (e != LT_OK && e != LT_E_UNAUTHORIZED && e != LT_E_TOKEN_EXPIRED && e != LT_E_NOMEM)
        abort();
    if (e == LT_OK && (p.sub[0] == '\0' || p.exp <= FUZZ_NOW - 30))
        abort();
    lt_errinfo_clear(&ei);
    return 0;
}
