/* gw_tls: the rules that combine a client certificate with a token (one table), the peer of
 * real GnuTLS handshakes over a socket pair (certificates made here with GnuTLS: a CA, another
 * CA, good, unknown, expired, future, two-CN, no-CN and server-only certificates), and the
 * server's material (key of another certificate, an empty CA bundle, missing files). */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gw_int.h"
#include "registry/rg_share_fixture.h"

#define DAY (24 * 3600)

/* --- the rules --- */

static gw_peer peer(gw_peer_state st, const char *cn, const char *org)
{
    gw_peer p;
    memset(&p, 0, sizeof p);
    p.state = st;
    p.why = st == GW_PEER_BAD ? "the client certificate has expired" : NULL;
    lt_strlcpy(p.cn, cn, sizeof p.cn);
    lt_strlcpy(p.org, org, sizeof p.org);
    p.not_after = 1900000000;
    return p;
}

static void test_rules(void)
{
    static const struct {
        gw_peer_state st;
        bool require, has_token;
        const char *token_sub; /* the verified token's sub, for gw_tls_match */
        lt_err gate, caller, match;
        bool adopted;
        const char *detail; /* of the first error */
    } rows[] = {
        /* no certificate: tokens as before; require_client_cert refuses */
        {GW_PEER_NONE, false, true, "x", LT_OK, LT_OK, LT_OK, false, NULL},
        {GW_PEER_NONE, false, false, NULL, LT_OK, LT_OK, LT_OK, false, NULL},
        {GW_PEER_NONE, true, true, "x", LT_E_UNAUTHORIZED, LT_OK, LT_OK, false,
         "a client certificate is required"},
        /* a refused certificate: 401 with its reason, token or not */
        {GW_PEER_BAD, false, true, "stc-app", LT_OK, LT_E_UNAUTHORIZED, LT_OK, false,
         "has expired"},
        {GW_PEER_BAD, true, false, NULL, LT_E_UNAUTHORIZED, LT_E_UNAUTHORIZED, LT_OK, false,
         "has expired"},
        /* a verified certificate alone names the caller */
        {GW_PEER_OK, true, false, NULL, LT_OK, LT_OK, LT_OK, true, NULL},
        /* with a token, the token's sub must be the certificate's CN */
        {GW_PEER_OK, false, true, "stc-app", LT_OK, LT_OK, LT_OK, false, NULL},
        {GW_PEER_OK, false, true, "syt-app", LT_OK, LT_OK, LT_E_FORBIDDEN, false,
         "the token's system is not the client certificate's system"},
        {GW_PEER_OK, false, true, "", LT_OK, LT_OK, LT_E_FORBIDDEN, false, "token's system"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        gw_peer p = peer(rows[i].st, rows[i].st == GW_PEER_OK ? "stc-app" : "",
                         rows[i].st == GW_PEER_OK ? STC_ORG : "");
        lt_errinfo ei = {0};
        gw_principal who;
        memset(&who, 0x5a, sizeof who);
        bool adopted = true;
        lt_err g = gw_tls_gate(&p, rows[i].require, &ei);
        CHECK_MSG(g == rows[i].gate, "row %zu: gate %d", i, g);
        if (g)
            CHECK_MSG(strstr(ei.detail, rows[i].detail), "row %zu: %s", i, ei.detail);
        lt_errinfo_clear(&ei);
        lt_err c = gw_tls_caller(&p, rows[i].has_token, &who, &adopted, &ei);
        CHECK_MSG(c == rows[i].caller && adopted == rows[i].adopted, "row %zu: caller %d", i, c);
        if (c)
            CHECK_MSG(strstr(ei.detail, rows[i].detail), "row %zu: %s", i, ei.detail);
        lt_errinfo_clear(&ei);
        if (adopted) {
            CHECK_STR(who.sub, "stc-app");
            CHECK_STR(who.org, STC_ORG);
            CHECK(who.roles == GW_ROLE_AGENCY && who.exp == 1900000000);
        }
        if (!rows[i].token_sub)
            continue;
        memset(&who, 0, sizeof who);
        lt_strlcpy(who.sub, rows[i].token_sub, sizeof who.sub);
        lt_err m = gw_tls_match(&p, &who, &ei);
        CHECK_MSG(m == rows[i].match, "row %zu: match %d", i, m);
        if (m)
            CHECK_MSG(strstr(ei.detail, rows[i].detail), "row %zu: %s", i, ei.detail);
        lt_errinfo_clear(&ei);
    }
}

/* --- certificates made with GnuTLS --- */

typedef struct cert {
    gnutls_x509_crt_t crt;
    gnutls_x509_privkey_t key;
} cert;

typedef struct cert_spec {
    const char *cn, *cn2; /* cn NULL: an O only; cn2: a second CN */
    const cert *issuer;   /* NULL: self-signed CA */
    const char *purpose;  /* extended key usage, NULL for none */
    long from, until;     /* seconds from now */
} cert_spec;

static unsigned serial_no = 1;

static void set_subject(gnutls_x509_crt_t c, const cert_spec *s)
{
    if (!s->cn)
        gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, "Org", 3);
    if (s->cn)
        gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, s->cn,
                                      (unsigned)strlen(s->cn));
    if (s->cn2)
        gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, s->cn2,
                                      (unsigned)strlen(s->cn2));
}

static cert make_cert(const cert_spec *s)
{
    cert c;
    time_t now = time(NULL);
    unsigned char serial[4] = {0, 0, 0, (unsigned char)serial_no++};
    gnutls_x509_privkey_init(&c.key);
    CHECK(gnutls_x509_privkey_generate(c.key, GNUTLS_PK_ECDSA,
                                       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) == 0);
    gnutls_x509_crt_init(&c.crt);
    gnutls_x509_crt_set_version(c.crt, 3);
    gnutls_x509_crt_set_serial(c.crt, serial, sizeof serial);
    gnutls_x509_crt_set_activation_time(c.crt, now + s->from);
    gnutls_x509_crt_set_expiration_time(c.crt, now + s->until);
    set_subject(c.crt, s);
    gnutls_x509_crt_set_key(c.crt, c.key);
    gnutls_x509_crt_set_basic_constraints(c.crt, s->issuer ? 0 : 1, -1);
    if (!s->issuer)
        gnutls_x509_crt_set_key_usage(c.crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
    if (s->purpose)
        gnutls_x509_crt_set_key_purpose_oid(c.crt, s->purpose, 0);
    const cert *by = s->issuer ? s->issuer : &c;
    CHECK(gnutls_x509_crt_sign2(c.crt, by->crt, by->key, GNUTLS_DIG_SHA256, 0) == 0);
    return c;
}

static void free_cert(cert *c)
{
    gnutls_x509_crt_deinit(c->crt);
    gnutls_x509_privkey_deinit(c->key);
}

/* --- handshakes over a socket pair --- */

typedef struct client {
    gnutls_session_t s;
    int rc;
} client;

static int handshake(gnutls_session_t s)
{
    int rc;
    do
        rc = gnutls_handshake(s);
    while (rc < 0 && !gnutls_error_is_fatal(rc));
    return rc;
}

static void *client_main(void *arg)
{
    client *c = arg;
    c->rc = handshake(c->s);
    return NULL;
}

static gnutls_session_t session(unsigned flags, gnutls_certificate_credentials_t cred, int fd)
{
    gnutls_session_t s;
    gnutls_init(&s, flags);
    gnutls_set_default_priority(s);
    gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
    gnutls_transport_set_int(s, fd);
    return s;
}

/* The server side as libmicrohttpd sets it up (trust = ca, certificates requested), a client
 * presenting mine (NULL: none); then gw_tls_peer on the server's session at now. */
static void peer_of(const cert *srv, const cert *ca, const cert *mine, rg_registry *rg,
                    int64_t now, gw_peer *p)
{
    int fd[2];
    gnutls_certificate_credentials_t sc, cc;
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
    gnutls_certificate_allocate_credentials(&sc);
    gnutls_certificate_allocate_credentials(&cc);
    gnutls_x509_crt_t chain = srv->crt, trust = ca->crt;
    CHECK(gnutls_certificate_set_x509_key(sc, &chain, 1, srv->key) >= 0);
    CHECK(gnutls_certificate_set_x509_trust(sc, &trust, 1) == 1);
    if (mine) {
        gnutls_x509_crt_t own = mine->crt;
        CHECK(gnutls_certificate_set_x509_key(cc, &own, 1, mine->key) >= 0);
    }
    gnutls_session_t ss = session(GNUTLS_SERVER, sc, fd[0]);
    gnutls_certificate_server_set_request(ss, GNUTLS_CERT_REQUEST);
    /* No CA names in the request: a GnuTLS client would otherwise keep back a certificate of
     * another CA, which OpenSSL clients (curl, Python) send anyway. */
    gnutls_certificate_send_x509_rdn_sequence(ss, 1);
    client c = {session(GNUTLS_CLIENT, cc, fd[1]), 0};
    pthread_t t;
    pthread_create(&t, NULL, client_main, &c);
    int rc = handshake(ss);
    pthread_join(t, NULL);
    CHECK_MSG(rc == 0 && c.rc == 0, "handshake %s / %s", gnutls_strerror(rc),
              gnutls_strerror(c.rc));
    gw_tls_peer(ss, rg, now, p);
    gnutls_deinit(ss);
    gnutls_deinit(c.s);
    gnutls_certificate_free_credentials(sc);
    gnutls_certificate_free_credentials(cc);
    close(fd[0]);
    close(fd[1]);
}

static void test_peer(void)
{
    fx f;
    if (sx_open(&f)) {
        CHECK(0);
        return;
    }
    cert ca = make_cert(&(cert_spec){"Test CA", NULL, NULL, NULL, -DAY, 30 * DAY});
    cert other = make_cert(&(cert_spec){"Other CA", NULL, NULL, NULL, -DAY, 30 * DAY});
    cert srv =
        make_cert(&(cert_spec){"127.0.0.1", NULL, &ca, GNUTLS_KP_TLS_WWW_SERVER, -DAY, 30 * DAY});
    int64_t now = (int64_t)time(NULL);
    static const struct {
        cert_spec spec;
        bool other_ca;
        int64_t later; /* added to now */
        gw_peer_state want;
        const char *detail; /* cn when OK, else a substring of why */
    } rows[] = {
        {{"stc-app", NULL, NULL, NULL, -DAY, 30 * DAY}, false, 0, GW_PEER_OK, "stc-app"},
        {{"syt-app", NULL, NULL, NULL, -DAY, 30 * DAY}, false, 0, GW_PEER_OK, "syt-app"},
        {{"stc-app", NULL, NULL, GNUTLS_KP_TLS_WWW_CLIENT, -DAY, 30 * DAY}, false, 0, GW_PEER_OK,
         "stc-app"},
        {{"nobody-app", NULL, NULL, NULL, -DAY, 30 * DAY}, false, 0, GW_PEER_BAD,
         "not a registered system"},
        {{"stc-app", NULL, NULL, NULL, -DAY, 30 * DAY}, true, 0, GW_PEER_BAD,
         "not signed by a CA of tls.client_ca_file"},
        {{"stc-app", NULL, NULL, NULL, -9 * DAY, -DAY}, false, 0, GW_PEER_BAD, "has expired"},
        {{"stc-app", NULL, NULL, NULL, DAY, 9 * DAY}, false, 0, GW_PEER_BAD, "not valid yet"},
        {{"stc-app", NULL, NULL, NULL, -DAY, 30 * DAY}, false, 31 * DAY, GW_PEER_BAD,
         "has expired"},
        {{"stc-app", NULL, NULL, NULL, -DAY, 30 * DAY}, false, -2 * DAY, GW_PEER_BAD,
         "not valid yet"},
        {{"stc-app", "syt-app", NULL, NULL, -DAY, 30 * DAY}, false, 0, GW_PEER_BAD,
         "no single CN"},
        {{NULL, NULL, NULL, NULL, -DAY, 30 * DAY}, false, 0, GW_PEER_BAD, "no single CN"},
        {{"stc-app", NULL, NULL, GNUTLS_KP_TLS_WWW_SERVER, -DAY, 30 * DAY}, false, 0,
         GW_PEER_BAD, "not for TLS client authentication"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        cert_spec s = rows[i].spec;
        s.issuer = rows[i].other_ca ? &other : &ca;
        cert mine = make_cert(&s);
        gw_peer p;
        peer_of(&srv, &ca, &mine, f.rg, now + rows[i].later, &p);
        CHECK_MSG(p.state == rows[i].want, "row %zu: state %d (%s)", i, p.state,
                  p.why ? p.why : "");
        if (p.state == GW_PEER_OK) {
            CHECK_STR(p.cn, rows[i].detail);
            CHECK_STR(p.org, strcmp(p.cn, "stc-app") == 0 ? STC_ORG : SYT_ORG);
            CHECK(p.not_after > now + 29 * DAY);
        } else {
            CHECK_MSG(p.why && strstr(p.why, rows[i].detail), "row %zu: %s", i,
                      p.why ? p.why : "(none)");
            CHECK(p.cn[0] == '\0' && p.org[0] == '\0');
        }
        free_cert(&mine);
    }
    gw_peer p;
    peer_of(&srv, &ca, NULL, f.rg, now, &p); /* no client certificate */
    CHECK(p.state == GW_PEER_NONE && p.why == NULL);
    gw_tls_peer(NULL, f.rg, now, &p); /* plain HTTP */
    CHECK(p.state == GW_PEER_NONE);
    free_cert(&srv);
    free_cert(&other);
    free_cert(&ca);
    fx_close(&f);
}

/* --- the server's material --- */

static void write_pem(const char *dir, const char *name, gnutls_datum_t d)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(d.data, 1, d.size, fp);
        fclose(fp);
    }
    gnutls_free(d.data);
}

static void write_cert(const char *dir, const char *name, const cert *c)
{
    char file[64];
    gnutls_datum_t d;
    snprintf(file, sizeof file, "%s.pem", name);
    CHECK(gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &d) == 0);
    write_pem(dir, file, d);
    snprintf(file, sizeof file, "%s.key", name);
    CHECK(gnutls_x509_privkey_export2(c->key, GNUTLS_X509_FMT_PEM, &d) == 0);
    write_pem(dir, file, d);
}

static void test_files(void)
{
    char dir[64], p[6][300];
    CHECK(temp_dir(dir, sizeof dir, "gw-tls") != NULL);
    cert ca = make_cert(&(cert_spec){"Test CA", NULL, NULL, NULL, -DAY, 30 * DAY});
    cert srv = make_cert(&(cert_spec){"127.0.0.1", NULL, &ca, NULL, -DAY, 30 * DAY});
    write_cert(dir, "ca", &ca);
    write_cert(dir, "srv", &srv);
    static const char *const names[] = {"srv.pem", "srv.key", "ca.pem", "ca.key", "empty.pem",
                                        "missing.pem"};
    for (size_t i = 0; i < 6; i++)
        snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
    write_pem(dir, "empty.pem", (gnutls_datum_t){(unsigned char *)gnutls_malloc(1), 0});
    static const struct {
        int cert, key, ca; /* indexes into p; -1 none */
        lt_err want;
        const char *detail;
    } rows[] = {
        {0, 1, 2, LT_OK, NULL},
        {0, 1, -1, LT_OK, NULL},
        {0, 3, 2, LT_E_CONFIG, "tls.key_file is not the private key of the certificate"},
        {5, 1, 2, LT_E_CONFIG, "tls.cert_file: cannot read"},
        {0, 5, 2, LT_E_CONFIG, "tls.key_file: cannot read"},
        {0, 1, 5, LT_E_CONFIG, "tls.client_ca_file: cannot read"},
        {0, 1, 4, LT_E_CONFIG, "tls.client_ca_file: cannot read"},
        {0, 1, 3, LT_E_CONFIG, "tls.client_ca_file holds no usable CA certificate"},
        {1, 1, 2, LT_E_CONFIG, "tls.cert_file / tls.key_file: cannot be used"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        lt_tls_conf t = {p[rows[i].cert], p[rows[i].key], rows[i].ca < 0 ? NULL : p[rows[i].ca],
                         0};
        lt_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.tls = &t;
        gw_tls_files m;
        lt_errinfo ei = {0};
        lt_err e = gw_tls_files_load(&t, &m, &ei);
        CHECK_MSG(e == rows[i].want, "row %zu: %d %s", i, e, ei.detail);
        if (e)
            CHECK_MSG(strstr(ei.detail, rows[i].detail), "row %zu: %s", i, ei.detail);
        CHECK(e || (strstr(m.cert, "BEGIN CERTIFICATE") && strstr(m.key, "PRIVATE KEY") &&
                    (rows[i].ca < 0) == (m.ca == NULL)));
        if (!e)
            gw_tls_files_free(&m);
        CHECK(m.cert == NULL && m.key == NULL && m.ca == NULL);
        lt_errinfo_clear(&ei);
        CHECK(gw_tls_check(&cfg, &ei) == rows[i].want);
        lt_errinfo_clear(&ei);
    }
    lt_config none;
    memset(&none, 0, sizeof none);
    CHECK(gw_tls_check(&none, NULL) == LT_OK);
    free_cert(&srv);
    free_cert(&ca);
    rm_tree(dir);
}

int main(void)
{
    LT_RUN(test_rules);
    LT_RUN(test_peer);
    LT_RUN(test_files);
    return lt_test_done();
}
