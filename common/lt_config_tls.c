/* The `tls` object of the config: {cert_file, key_file, client_ca_file?, require_client_cert?}.
 * Each file is read once here to check that it is a readable PEM file of the right kind, then
 * dropped (a private key wiped first); the gateway reads them again when it starts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lt_config_int.h"

typedef struct pem_kind {
    const char *what;  /* for messages */
    const char *begin; /* a line the file must hold */
    const char *never; /* text it must not hold (NULL: any) */
} pem_kind;

static const pem_kind CERT = {"a PEM certificate", "-----BEGIN CERTIFICATE-----", NULL};
/* An encrypted key would need its passphrase at every start: refused with the reason. */
static const pem_kind KEY = {"an unencrypted PEM private key (protect the file with its "
                             "permissions instead)", "PRIVATE KEY-----", "ENCRYPTED"};

/* *dst = the file named by v (resolved), after checking it is readable and holds kind. */
static lt_err tls_file(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n,
                       char **dst, const pem_kind *kind)
{
    char name[160];
    size_t len = 0;
    lt_err e = lt_cfg_set_path(x, v, path, n, dst);
    if (e)
        return e;
    lt_cfg_path_str(path, n, name, sizeof name);
    char *text = lt_cfg_read_file(*dst, LT_CFG_FILE_MAX, &len);
    int err = errno;
    if (!text)
        return lt_cfg_fail_at(x, path, n, "'%s': cannot read '%.200s': %s", name, *dst,
                              err == EFBIG    ? "larger than 1 MiB"
                              : err == EINVAL ? "not a regular file"
                                              : strerror(err));
    bool ok = strlen(text) == len && strstr(text, "-----BEGIN ") && strstr(text, kind->begin) &&
              !(kind->never && strstr(text, kind->never));
    explicit_bzero(text, len);
    free(text);
    if (!ok)
        return lt_cfg_fail_at(x, path, n, "'%s': '%.200s' is not %s", name, *dst, kind->what);
    return LT_OK;
}

static lt_err f_cert(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return tls_file(x, v, path, n, &x->c->tls->cert_file, &CERT);
}

static lt_err f_key(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return tls_file(x, v, path, n, &x->c->tls->key_file, &KEY);
}

static lt_err f_client_ca(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return tls_file(x, v, path, n, &x->c->tls->client_ca_file, &CERT);
}

static lt_err f_require(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    (void)path;
    (void)n;
    x->c->tls->require_client_cert = json_is_true(v);
    return LT_OK;
}

lt_err lt_cfg_tls(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {
        {"cert_file", JSON_STRING, f_cert},
        {"key_file", JSON_STRING, f_key},
        {"client_ca_file", JSON_STRING, f_client_ca},
        {"require_client_cert", LT_CFG_BOOL, f_require},
        {NULL, 0, NULL},
    };
    lt_cfg_tls_free(x->c);
    if (!(x->c->tls = calloc(1, sizeof *x->c->tls)))
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    lt_err e = lt_cfg_walk(x, v, path, n, fields);
    const lt_tls_conf *t = x->c->tls;
    if (!e && (!t->cert_file || !t->key_file))
        return lt_cfg_fail_at(x, path, n, "'tls.cert_file' and 'tls.key_file' are required when "
                              "'tls' is given");
    if (!e && t->require_client_cert && !t->client_ca_file) {
        const char *p[] = {path[0], "require_client_cert"}; /* tls is a top-level key */
        return lt_cfg_fail_at(x, p, 2, "'tls.require_client_cert' needs "
                              "'tls.client_ca_file' (the CA that signs client certificates)");
    }
    return e;
}

void lt_cfg_tls_free(lt_config *c)
{
    if (!c->tls)
        return;
    free(c->tls->cert_file);
    free(c->tls->key_file);
    free(c->tls->client_ca_file);
    free(c->tls);
    c->tls = NULL;
}
