/* gw_tls — HTTPS for `serve` and mutual TLS: client certificates mapped to registered systems
 * (as between X-Road security servers). The only file that calls GnuTLS; libmicrohttpd does
 * the handshakes with the material read here (gw_http.c).
 *
 * A caller over TLS, with tls.client_ca_file configured, is known by its certificate: it must
 * verify against that CA bundle (signature, validity period, key purpose), and its subject CN
 * must be a registered system, whose agency becomes the caller's org. The rules that combine
 * the certificate with a bearer token are gw_tls_gate, gw_tls_caller and gw_tls_match, kept
 * free of I/O so a unit test can walk them. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gw_int.h"
#include "lt_str.h"

#define TLS_FILE_MAX (1u << 20) /* as the config loader's cap (lt_config_int.h) */

/* --- the server's material --- */

/* A whole PEM file; new, NUL-terminated. NULL after filling ei. */
static char *read_pem(const char *path, const char *key, size_t *len, lt_errinfo *ei)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    size_t n = 0;
    bool ok = f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
              (size_t)st.st_size <= TLS_FILE_MAX && (buf = malloc((size_t)st.st_size + 1));
    if (ok)
        n = fread(buf, 1, (size_t)st.st_size, f);
    int err = errno;
    if (f)
        fclose(f);
    if (!ok || n != (size_t)st.st_size) {
        if (buf)
            explicit_bzero(buf, n);
        free(buf);
        lt_fail(ei, LT_E_CONFIG, "tls.%s: cannot read '%.200s': %s", key, path,
                f ? "empty, not a regular file, or larger than 1 MiB" : strerror(err));
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Loads the material into a throw-away credential so that a bad file is a clear error here
 * rather than libmicrohttpd's "failed to start". */
static lt_err check_material(const gw_tls_files *m, lt_errinfo *ei)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    gnutls_datum_t cert = {(unsigned char *)m->cert, (unsigned)m->cert_len};
    gnutls_datum_t key = {(unsigned char *)m->key, (unsigned)m->key_len};
    int rc = gnutls_certificate_set_x509_key_mem2(cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    lt_err e = LT_OK;
    if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
        e = lt_fail(ei, LT_E_CONFIG, "tls.key_file is not the private key of the certificate "
                    "in tls.cert_file");
    else if (rc < 0)
        e = lt_fail(ei, LT_E_CONFIG, "tls.cert_file / tls.key_file: cannot be used: %s",
                    gnutls_strerror(rc));
    if (!e && m->ca) {
        gnutls_datum_t ca = {(unsigned char *)m->ca, (unsigned)m->ca_len};
        rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
        if (rc <= 0)
            e = lt_fail(ei, LT_E_CONFIG, "tls.client_ca_file holds no usable CA certificate%s%s",
                        rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
    }
    gnutls_certificate_free_credentials(cred);
    return e;
}

lt_err gw_tls_files_load(const lt_tls_conf *t, gw_tls_files *out, lt_errinfo *ei)
{
    memset(out, 0, sizeof *out);
    if (!(out->cert = read_pem(t->cert_file, "cert_file", &out->cert_len, ei)) ||
        !(out->key = read_pem(t->key_file, "key_file", &out->key_len, ei)) ||
        (t->client_ca_file &&
         !(out->ca = read_pem(t->client_ca_file, "client_ca_file", &out->ca_len, ei))) ||
        check_material(out, ei) != LT_OK) {
        gw_tls_files_free(out);
        return ei ? ei->code : LT_E_CONFIG;
    }
    return LT_OK;
}

void gw_tls_files_free(gw_tls_files *m)
{
    if (m->key)
        explicit_bzero(m->key, m->key_len);
    free(m->key);
    free(m->cert);
    free(m->ca);
    memset(m, 0, sizeof *m);
}

lt_err gw_tls_check(const lt_config *cfg, lt_errinfo *ei)
{
    gw_tls_files m;
    if (!cfg->tls)
        return LT_OK;
    lt_err e = gw_tls_files_load(cfg->tls, &m, ei);
    if (!e)
        gw_tls_files_free(&m);
    return e;
}

/* --- the peer's certificate --- */

/* Verification status bits and what the caller is told (the first bit set wins). */
static const struct {
    unsigned bit;
    const char *why;
} verify_reasons[] = {
    {GNUTLS_CERT_EXPIRED, "the client certificate has expired"},
    {GNUTLS_CERT_NOT_ACTIVATED, "the client certificate is not valid yet"},
    {GNUTLS_CERT_REVOKED, "the client certificate is revoked"},
    {GNUTLS_CERT_SIGNER_NOT_FOUND, "the client certificate is not signed by a CA of "
                                   "tls.client_ca_file"},
    {GNUTLS_CERT_SIGNER_NOT_CA, "the client certificate's issuer is not a CA"},
    {GNUTLS_CERT_INSECURE_ALGORITHM, "the client certificate uses an insecure algorithm"},
    {GNUTLS_CERT_PURPOSE_MISMATCH, "the client certificate is not for TLS client "
                                   "authentication (extended key usage)"},
    {GNUTLS_CERT_SIGNATURE_FAILURE, "the client certificate's signature does not verify"},
};

static void peer_bad(gw_peer *p, const char *why)
{
    p->state = GW_PEER_BAD;
    p->why = why;
    p->cn[0] = p->org[0] = '\0';
}

static const char *status_reason(unsigned status)
{
    for (size_t i = 0; i < sizeof verify_reasons / sizeof verify_reasons[0]; i++)
        if (status & verify_reasons[i].bit)
            return verify_reasons[i].why;
    return "the client certificate does not verify against tls.client_ca_file";
}

/* The one subject CN of crt into cn (a certificate with none, two, or one that does not fit
 * or holds a NUL names nobody). */
static bool subject_cn(gnutls_x509_crt_t crt, char *cn, size_t size)
{
    char second[8];
    size_t n = size, n2 = sizeof second;
    if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &n) < 0)
        return false;
    if (n == 0 || n >= size || strlen(cn) != n)
        return false;
    int rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, second, &n2);
    return rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE;
}

/* The leaf's validity period at now and its CN; false with p set BAD. */
static bool read_leaf(const gnutls_datum_t *der, int64_t now, gw_peer *p)
{
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) {
        peer_bad(p, "the client certificate could not be read");
        return false;
    }
    bool ok = gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) >= 0;
    time_t from = ok ? gnutls_x509_crt_get_activation_time(crt) : -1;
    time_t until = ok ? gnutls_x509_crt_get_expiration_time(crt) : -1;
    if (!ok || from == (time_t)-1 || until == (time_t)-1)
        peer_bad(p, "the client certificate could not be read");
    else if (now < (int64_t)from)
        peer_bad(p, "the client certificate is not valid yet");
    else if (now > (int64_t)until)
        peer_bad(p, "the client certificate has expired");
    else if (!subject_cn(crt, p->cn, sizeof p->cn))
        peer_bad(p, "the client certificate's subject has no single CN naming a system");
    else
        p->not_after = (int64_t)until;
    gnutls_x509_crt_deinit(crt);
    return p->state != GW_PEER_BAD;
}

/* The first check that fails: verification against the CA bundle, the leaf, the registry. */
static void judge_peer(gnutls_session_t s, const gnutls_datum_t *leaf, rg_registry *rg,
                       int64_t now, gw_peer *p)
{
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    unsigned status = 0;
    if (gnutls_certificate_type_get(s) != GNUTLS_CRT_X509)
        peer_bad(p, "the client certificate is not an X.509 certificate");
    else if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0)
        peer_bad(p, "the client certificate could not be verified");
    else if (status)
        peer_bad(p, status_reason(status));
    else if (!read_leaf(leaf, now, p))
        return;
    else if (!rg_system_agency(rg, p->cn, p->org, sizeof p->org))
        peer_bad(p, "the client certificate's CN is not a registered system (POST /v1/systems)");
    else
        p->state = GW_PEER_OK;
}

void gw_tls_peer(void *session, rg_registry *rg, int64_t now, gw_peer *p)
{
    gnutls_session_t s = session;
    unsigned n = 0;
    memset(p, 0, sizeof *p); /* GW_PEER_NONE: no certificate sent */
    const gnutls_datum_t *chain = s ? gnutls_certificate_get_peers(s, &n) : NULL;
    if (chain && n > 0)
        judge_peer(s, &chain[0], rg, now, p);
}

/* --- the rules --- */

lt_err gw_tls_gate(const gw_peer *p, bool require, lt_errinfo *ei)
{
    if (!require || p->state == GW_PEER_OK)
        return LT_OK;
    if (p->state == GW_PEER_BAD)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "%s", p->why);
    return lt_fail(ei, LT_E_UNAUTHORIZED, "a client certificate is required");
}

lt_err gw_tls_caller(const gw_peer *p, bool has_token, gw_principal *who, bool *adopted,
                     lt_errinfo *ei)
{
    *adopted = false;
    if (p->state == GW_PEER_BAD)
        return lt_fail(ei, LT_E_UNAUTHORIZED, "%s", p->why);
    if (p->state != GW_PEER_OK || has_token)
        return LT_OK;
    memset(who, 0, sizeof *who);
    lt_strlcpy(who->sub, p->cn, sizeof who->sub);
    lt_strlcpy(who->org, p->org, sizeof who->org);
    who->roles = GW_ROLE_AGENCY;
    who->exp = p->not_after;
    *adopted = true;
    return LT_OK;
}

lt_err gw_tls_match(const gw_peer *p, const gw_principal *who, lt_errinfo *ei)
{
    if (p->state != GW_PEER_OK || strcmp(who->sub, p->cn) == 0)
        return LT_OK;
    return lt_fail(ei, LT_E_FORBIDDEN, "the token's system is not the client certificate's "
                   "system");
}
