/* lt_config: a complete good file, defaults, and one bad file per rule with its exact
 * FILE:LINE:COL position; LIENTHONG_LISTEN; path resolution. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt_config.h"
#include "lt_limits.h"
#include "lt_str.h"
#include "lt_test.h"

#define LT_RUN_ARG(fn, arg)              \
    do {                                 \
        fprintf(stderr, "-- %s\n", #fn); \
        fn(arg);                         \
    } while (0)

/* CHECK_STR on an array trips -Waddress ("always true"); a call hides the array. */
static const char *str(const char *s) { return s; }

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static lt_err load(const char *dir, const char *json, lt_config **c, lt_errinfo *ei, char *path,
                   size_t psize)
{
    snprintf(path, psize, "%s/cfg.json", dir);
    write_file(dir, "cfg.json", json);
    memset(ei, 0, sizeof *ei);
    return lt_config_load(path, c, ei);
}

static const char *good =
    "{\n"
    "  \"listen\": \"0.0.0.0:9090\",\n"
    "  \"data_dir\": \"data\",\n"
    "  \"threads\": 4,\n"
    "  \"auth\": {\"issuer\": \"lgsp\", \"audience\": \"lgsp-api\", \"keys\": [\n"
    "    {\"kid\": \"dev\", \"alg\": \"HS256\", \"secret_file\": \"keys/dev.secret\"},\n"
    "    {\"kid\": \"p1\", \"alg\": \"RS256\", \"public_key_file\": \"keys/p1.pub.pem\",\n"
    "     \"private_key_file\": \"keys/p1.pem\"},\n"
    "    {\"kid\": \"p2\", \"alg\": \"ES256\", \"public_key_file\": \"keys/p1.pub.pem\"}\n"
    "  ]},\n"
    "  \"limits\": {\"max_body_bytes\": 1048576, \"max_records_per_request\": 500,\n"
    "             \"request_timeout_ms\": 5000},\n"
    "  \"bootstrap\": {\"dir\": \".\"},\n"
    "  \"holidays\": [\"2026-09-02\", \"2024-02-29\", \"2026-01-01\", \"2026-01-01\"],\n"
    "  \"warehouse\": {\"map_size_mb\": 1024},\n"
    "  \"metrics\": {\"public\": false},\n"
    "  \"tls\": {\"cert_file\": \"keys/tls.pem\", \"key_file\": \"keys/tls.key\",\n"
    "          \"client_ca_file\": \"keys/tls.pem\", \"require_client_cert\": true}\n"
    "}\n";

static void test_good(const char *dir)
{
    lt_config *c = NULL;
    lt_errinfo ei;
    char path[256], want[512];
    CHECK_MSG(load(dir, good, &c, &ei, path, sizeof path) == LT_OK, "%s", ei.detail);
    if (!c)
        return;
    CHECK_STR(c->path, str(path));
    CHECK_STR(c->dir, str(dir));
    CHECK_STR(c->listen_host, "0.0.0.0");
    CHECK(c->listen_port == 9090);
    snprintf(want, sizeof want, "%s/data", dir);
    CHECK_STR(c->data_dir, str(want));
    CHECK_STR(c->bootstrap_dir, (snprintf(want, sizeof want, "%s/.", dir), want));
    CHECK(c->threads == 4);
    CHECK_STR(c->issuer, "lgsp");
    CHECK_STR(c->audience, "lgsp-api");
    CHECK(c->nkeys == 3);
    CHECK_STR(c->keys[0].kid, "dev");
    CHECK_STR(c->keys[0].alg, "HS256");
    CHECK(c->keys[0].secret_len == 40); /* trailing newline stripped */
    CHECK(c->keys[0].secret && memcmp(c->keys[0].secret, "0123456789", 10) == 0);
    CHECK(c->keys[1].public_pem && strstr(c->keys[1].public_pem, "BEGIN PUBLIC KEY"));
    CHECK(c->keys[1].private_pem && strstr(c->keys[1].private_pem, "BEGIN PRIVATE KEY"));
    CHECK(c->keys[2].private_pem == NULL);
    CHECK(c->max_body_bytes == 1048576);
    CHECK(c->max_records_per_request == 500);
    CHECK(c->request_timeout_ms == 5000);
    CHECK(c->nholidays == 3); /* sorted, the repeated date once */
    int64_t d;
    CHECK(c->nholidays == 3 && lt_date_parse("2024-02-29", 10, &d) == 0 && c->holidays[0] == d);
    CHECK(c->nholidays == 3 && lt_date_parse("2026-09-02", 10, &d) == 0 && c->holidays[2] == d);
    CHECK(c->map_size == 1024ull << 20);
    CHECK(c->metrics_public == 0);
    CHECK(c->tls != NULL);
    if (c->tls) {
        CHECK_STR(c->tls->cert_file, (snprintf(want, sizeof want, "%s/keys/tls.pem", dir), want));
        CHECK_STR(c->tls->key_file, (snprintf(want, sizeof want, "%s/keys/tls.key", dir), want));
        CHECK_STR(c->tls->client_ca_file, c->tls->cert_file);
        CHECK(c->tls->require_client_cert == 1);
    }
    char *p = lt_config_path(c, "x/y.json");
    snprintf(want, sizeof want, "%s/x/y.json", dir);
    CHECK_STR(p, str(want));
    free(p);
    p = lt_config_path(c, "/etc/z");
    CHECK_STR(p, "/etc/z");
    free(p);
    lt_config_free(c);
}

static void test_defaults(const char *dir)
{
    lt_config *c = NULL;
    lt_errinfo ei;
    char path[256], want[512];
    CHECK_MSG(load(dir, "{}", &c, &ei, path, sizeof path) == LT_OK, "%s", ei.detail);
    if (!c)
        return;
    CHECK_STR(c->listen_host, "127.0.0.1");
    CHECK(c->listen_port == 8080);
    snprintf(want, sizeof want, "%s/var/lienthong", dir);
    CHECK_STR(c->data_dir, str(want));
    CHECK(c->threads == 0);
    CHECK(c->nkeys == 0);
    CHECK(c->max_body_bytes == LT_MAX_BODY_BYTES_DEFAULT);
    CHECK(c->max_records_per_request == LT_MAX_RECORDS_DEFAULT);
    CHECK(c->request_timeout_ms == LT_REQUEST_TIMEOUT_MS_DEFAULT);
    CHECK(c->bootstrap_dir == NULL);
    CHECK(c->nholidays == 0);
    CHECK(c->map_size == 0);
    CHECK(c->metrics_public == 1);
    CHECK(c->tls == NULL);
    lt_config_free(c);
}

static void test_listen_forms(const char *dir)
{
    static const struct {
        const char *listen, *host;
        int port;
    } ok[] = {
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"[::1]:8080", "::1", 8080},
        {"localhost:0", "localhost", 0},
        {"[::]:65535", "::", 65535},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char json[128], path[256];
        lt_config *c = NULL;
        lt_errinfo ei;
        snprintf(json, sizeof json, "{\"listen\": \"%s\"}", ok[i].listen);
        CHECK_MSG(load(dir, json, &c, &ei, path, sizeof path) == LT_OK, "%s", ei.detail);
        CHECK(c && strcmp(c->listen_host, ok[i].host) == 0 && c->listen_port == ok[i].port);
        lt_config_free(c);
    }
}

typedef struct bad_case {
    const char *json;
    int line, col;   /* expected position */
    const char *msg; /* expected text after "PATH:L:C: " (substring) */
} bad_case;

#define KEYS(k) "{\"auth\": {\"keys\": [\n  " k "\n]}}"
#define TLS(members) "{\"tls\": {\n  " members "\n}}"
#define TLS_OK "\"cert_file\": \"keys/tls.pem\",\n  \"key_file\": \"keys/tls.key\""

static const bad_case bad[] = {
    {"{\n  \"listen\": \"127.0.0.1:1\",\n  \"listn\": 1\n}", 3, 3, "unknown key 'listn'"},
    {"{\"listen\": \"localhost\"}", 1, 2, "'listen' must be \"host:port\""},
    {"{\"listen\": \"1.2.3.4:65536\"}", 1, 2, "'listen'"},
    {"{\"listen\": \"::1:80\"}", 1, 2, "'listen'"},
    {"{\"listen\": \"[::1]8080\"}", 1, 2, "'listen'"},
    {"{\"listen\": \"h:80x\"}", 1, 2, "'listen'"},
    {"{\"listen\": \":80\"}", 1, 2, "'listen'"},
    {"{\n \"threads\": \"4\"}", 2, 2, "'threads' must be an integer"},
    {"{\"threads\": -1}", 1, 2, "'threads' must be between 0"},
    {"{\"metrics\": {\"public\": 1}}", 1, 14, "'metrics.public' must be true or false"},
    {"{\"limits\": {\"max_body_bytes\": 0}}", 1, 13, "'limits.max_body_bytes' must be between"},
    {"{\"limits\": {\"max_records\": 5}}", 1, 13, "unknown key 'max_records' in limits"},
    {"{\"listen\": \"a:1\",}", 1, 18, "expected near '}'"},
    {"{\"listen\": \"a:1\"\n  \"x\": 1}", 2, 5, "'}' expected"},
    {"[]", 1, 1, "must be a JSON object"},
    {"{\"data_dir\": \"a\\u0000b\"}", 1, 2, "must be a string"},
    {"{\"holidays\": [\"2026-01-01\",\n  \"2025-02-29\"]}", 2, 3, "'holidays[1]' must be a date"},
    {"{\"holidays\": [\"2026-13-01\"]}", 1, 15, "'holidays[0]'"},
    {"{\"holidays\": [20260101]}", 1, 15, "'holidays[0]'"},
    {"{\"bootstrap\": {\"dir\": \"no/such/dir\"}}", 1, 16, "not a readable folder"},
    {"{\"bootstrap\": {}}", 1, 2, "'bootstrap.dir' is required"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"HS256\", \"secret_file\": \"short.secret\"}"), 2, 32,
     "is 10 bytes; HS256 needs at least 32"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"HS512\", \"secret_file\": \"dev.secret\"}"), 2, 32,
     "is 40 bytes; HS512 needs at least 64"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"HS256\", \"secret_file\": \"missing.secret\"}"), 2, 32,
     "'auth.keys[0].secret_file' (key 'a'): cannot read"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"RS256\", \"public_key_file\": \"missing.pem\"}"), 2, 32,
     "cannot read"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"RS256\", \"public_key_file\": \"dev.secret\"}"), 2, 32,
     "not a PEM file"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"RS256\", \"secret_file\": \"dev.secret\"}"), 2, 3,
     "needs 'public_key_file'"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"HS256\", \"public_key_file\": \"p.pem\"}"), 2, 3,
     "needs 'secret_file'"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"none\", \"secret_file\": \"dev.secret\"}"), 2, 16,
     "'alg' must be one of"},
    {KEYS("{\"alg\": \"HS256\", \"secret_file\": \"dev.secret\"}"), 2, 3, "needs 'kid' and 'alg'"},
    {KEYS("{\"kid\": \"a\", \"alg\": \"HS256\", \"secret_file\": \"dev.secret\"},\n  "
          "{\"kid\": \"a\", \"alg\": \"HS256\", \"secret_file\": \"dev.secret\"}"), 3, 4,
     "duplicate kid 'a'"},
    {KEYS("{\"kid\": \"a\", \"algo\": \"HS256\"}"), 2, 16, "unknown key 'algo' in auth.keys[0]"},
    {KEYS("\"a\""), 2, 3, "'auth.keys[0]' must be an object"},
    {"{\"auth\": {\"issuer\": \"\"}}", 1, 11, "'auth.issuer' must not be empty"},
    {"{\"auth\": []}", 1, 2, "'auth' must be an object"},
    {"{\"tls\": true}", 1, 2, "'tls' must be an object"},
    {"{\"tls\": {}}", 1, 2, "'tls.cert_file' and 'tls.key_file' are required"},
    {TLS("\"key_file\": \"keys/tls.key\""), 1, 2, "'tls.cert_file' and 'tls.key_file'"},
    {TLS(TLS_OK ",\n  \"ciphers\": \"ALL\""), 4, 3, "unknown key 'ciphers' in tls"},
    {TLS(TLS_OK ",\n  \"require_client_cert\": true"), 4, 3,
     "'tls.require_client_cert' needs 'tls.client_ca_file'"},
    {TLS(TLS_OK ",\n  \"require_client_cert\": 1"), 4, 3,
     "'tls.require_client_cert' must be true or false"},
    {TLS("\"cert_file\": \"keys/none.pem\""), 2, 3, "'tls.cert_file': cannot read '"},
    {TLS("\"cert_file\": \"keys\""), 2, 3, "not a regular file"},
    {TLS("\"cert_file\": \"\""), 2, 3, "'tls.cert_file' must not be empty"},
    {TLS("\"cert_file\": \"keys/tls.key\""), 2, 3, "is not a PEM certificate"},
    {TLS("\"cert_file\": \"keys/tls.pem\",\n  \"key_file\": \"keys/enc.key\""), 3, 3,
     "is not an unencrypted PEM private key"},
    {TLS("\"cert_file\": \"keys/tls.pem\",\n  \"key_file\": \"keys/p1.pub.pem\""), 3, 3,
     "'tls.key_file':"},
    {TLS(TLS_OK ",\n  \"client_ca_file\": \"dev.secret\""), 4, 3,
     "'tls.client_ca_file': '"},
};

static void test_bad(const char *dir)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lt_config *c = NULL;
        lt_errinfo ei;
        char path[256], prefix[300];
        lt_err e = load(dir, bad[i].json, &c, &ei, path, sizeof path);
        CHECK_MSG(e == LT_E_CONFIG && c == NULL, "case %zu: %s", i, bad[i].json);
        snprintf(prefix, sizeof prefix, "%s:%d:%d: ", path, bad[i].line, bad[i].col);
        CHECK_MSG(strncmp(ei.detail, prefix, strlen(prefix)) == 0 &&
                      strstr(ei.detail + strlen(prefix), bad[i].msg),
                  "case %zu: got '%s', want '%s%s'", i, ei.detail, prefix, bad[i].msg);
        lt_config_free(c);
    }
}

/* The exact message check-config prints for the example in the brief. */
static void test_exact_message(const char *dir)
{
    lt_config *c = NULL;
    lt_errinfo ei;
    char path[256], want[400];
    load(dir, bad[0].json, &c, &ei, path, sizeof path);
    snprintf(want, sizeof want, "%s:3:3: unknown key 'listn'", path);
    CHECK_STR(str(ei.detail), str(want));
    lt_errinfo e2 = {0};
    CHECK(lt_config_load("/nonexistent/x.json", &c, &e2) == LT_E_CONFIG);
    CHECK(strncmp(e2.detail, "/nonexistent/x.json:1:1: ", 25) == 0);
}

/* The shipped example must stay loadable (tests run from the source root). */
static void test_example(const char *dir)
{
    (void)dir;
    lt_config *c = NULL;
    lt_errinfo ei = {0};
    CHECK_MSG(lt_config_load("examples/lang-son/lienthong.json", &c, &ei) == LT_OK, "%s",
              ei.detail);
    CHECK(c && c->nkeys == 1 && c->nholidays == 11 && c->bootstrap_dir != NULL);
    lt_config_free(c);
}

static void test_env_listen(const char *dir)
{
    lt_config *c = NULL;
    lt_errinfo ei;
    char path[256];
    setenv("LIENTHONG_LISTEN", "[::1]:9443", 1);
    CHECK(load(dir, "{\"listen\": \"127.0.0.1:1\"}", &c, &ei, path, sizeof path) == LT_OK);
    CHECK(c && strcmp(c->listen_host, "::1") == 0 && c->listen_port == 9443);
    lt_config_free(c);
    c = NULL;
    setenv("LIENTHONG_LISTEN", "nonsense", 1);
    CHECK(load(dir, "{}", &c, &ei, path, sizeof path) == LT_E_CONFIG);
    CHECK(strstr(ei.detail, "LIENTHONG_LISTEN") != NULL);
    unsetenv("LIENTHONG_LISTEN");
}

int main(void)
{
    char dir[64] = "/tmp/lt-config-" "XX" "XX" "XX", real[4096];
    CHECK(mkdtemp(dir) != NULL);
    CHECK(realpath(dir, real) != NULL); /* c->dir is absolute and resolved */
    char keys[300];
    snprintf(keys, sizeof keys, "%s/keys", real);
    mkdir(keys, 0700);
    write_file(keys, "dev.secret", "0123456789012345678901234567890123456789\n");
    write_file(keys, "p1.pub.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    write_file(keys, "p1.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
    write_file(keys, "tls.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    write_file(keys, "tls.key", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n"
                                "-----END EC PRIVATE KEY-----\n");
    write_file(keys, "enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                "-----END ENCRYPTED PRIVATE KEY-----\n");
    write_file(real, "dev.secret", "0123456789012345678901234567890123456789\n");
    write_file(real, "short.secret", "0123456789\n");
    unsetenv("LIENTHONG_LISTEN");
    LT_RUN_ARG(test_good, real);
    LT_RUN_ARG(test_defaults, real);
    LT_RUN_ARG(test_listen_forms, real);
    LT_RUN_ARG(test_bad, real);
    LT_RUN_ARG(test_exact_message, real);
    LT_RUN_ARG(test_env_listen, real);
    LT_RUN_ARG(test_example, real);
    static const char *const files[] = {"keys/dev.secret", "keys/p1.pub.pem", "keys/p1.pem",
                                        "keys/tls.pem",    "keys/tls.key",    "keys/enc.key",
                                        "dev.secret", "short.secret", "cfg.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", real, files[i]);
        unlink(p);
    }
    rmdir(keys);
    rmdir(real);
    return lt_test_done();
}
