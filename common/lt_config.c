#include "lt_config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lt_config_int.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"

#define MAX_KEYS 64
#define MAX_THREADS 1024
#define MAX_PATH_DEPTH 6
/* 16 TiB of LMDB address space: far beyond a province, and (mb << 20) cannot overflow. */
#define MAX_MAP_SIZE_MB (16ll * 1024 * 1024)

/* --- files and messages --- */

/* Reads a whole file into a new NUL-terminated buffer; NULL with errno set (EFBIG over max). */
char *lt_cfg_read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f && (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))) {
        fclose(f); /* a FIFO or device would block or never end */
        errno = EINVAL;
        return NULL;
    }
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int bad = 0;
    while (!bad) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *b = ncap <= 2 * (max + 1) ? realloc(buf, ncap + 1) : NULL;
            if (!b) {
                bad = ENOMEM;
                break;
            }
            buf = b;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (n > max)
            bad = EFBIG;
        else if (r == 0)
            break;
    }
    if (!bad && ferror(f))
        bad = EIO;
    fclose(f);
    if (bad) {
        free(buf);
        errno = bad;
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* "auth.keys[0].kid" from a JSON path, for messages. */
const char *lt_cfg_path_str(const char *const *path, size_t n, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        bool idx = path[i][0] >= '0' && path[i][0] <= '9';
        int w = snprintf(buf + used, size - used, idx ? "[%s]" : (i ? ".%s" : "%s"), path[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Fails LT_E_CONFIG with "FILE:LINE:COL: message", the position being that of path. */
lt_err lt_cfg_fail_at(lt_cfg_ctx *x, const char *const *path, size_t n, const char *fmt, ...)
{
    char msg[LT_DETAIL_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!x->text_tried) {
        x->text_tried = true;
        x->text = lt_cfg_read_file(x->file, (size_t)64 << 20, &x->len);
    }
    int line = 1, col = 1;
    if (!x->text || lt_json_locate(x->text, x->len, path, n, &line, &col) != 0)
        line = col = 1;
    return lt_fail(x->ei, LT_E_CONFIG, "%s:%d:%d: %s", x->file, line, col, msg);
}

static const char *type_name(int t)
{
    switch (t) {
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    default: return "true or false";
    }
}

static bool type_ok(const json_t *v, int t)
{
    if (t == LT_CFG_BOOL)
        return json_is_boolean(v);
    if ((int)json_typeof(v) != t)
        return false;
    /* jansson allows "\u0000" inside strings; C code would silently cut them short. */
    return t != JSON_STRING || strlen(json_string_value(v)) == json_string_length(v);
}

/* Checks every member of obj against fields (source order), then calls each handler. */
lt_err lt_cfg_walk(lt_cfg_ctx *x, const json_t *obj, const char *const *path, size_t n,
                   const lt_cfg_field *fields)
{
    const char *p[MAX_PATH_DEPTH + 1];
    char where[128];
    const char *k;
    json_t *v;
    if (n)
        memcpy(p, path, n * sizeof *p);
    lt_cfg_path_str(path, n, where, sizeof where);
    json_object_foreach((json_t *)obj, k, v) {
        const lt_cfg_field *f = fields;
        while (f->key && strcmp(f->key, k) != 0)
            f++;
        p[n] = k;
        if (!f->key)
            return n ? lt_cfg_fail_at(x, p, n + 1, "unknown key '%.100s' in %s", k, where)
                     : lt_cfg_fail_at(x, p, n + 1, "unknown key '%.100s'", k);
        char full[160];
        if (!type_ok(v, f->type))
            return lt_cfg_fail_at(x, p, n + 1, "'%s' must be %s",
                                  lt_cfg_path_str(p, n + 1, full, sizeof full),
                                  type_name(f->type));
        lt_err e = f->fn(x, v, p, n + 1);
        if (e)
            return e;
    }
    return LT_OK;
}

static lt_err int_in_range(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n,
                           long long lo, long long hi, long long *out)
{
    long long i = json_integer_value(v);
    char name[160];
    if (i < lo || i > hi)
        return lt_cfg_fail_at(x, path, n, "'%s' must be between %lld and %lld",
                              lt_cfg_path_str(path, n, name, sizeof name), lo, hi);
    *out = i;
    return LT_OK;
}

lt_err lt_cfg_nonempty(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    char name[160];
    if (json_string_length(v) == 0)
        return lt_cfg_fail_at(x, path, n, "'%s' must not be empty",
                              lt_cfg_path_str(path, n, name, sizeof name));
    return LT_OK;
}

lt_err lt_cfg_set_path(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n,
                       char **dst)
{
    lt_err e = lt_cfg_nonempty(x, v, path, n);
    if (e)
        return e;
    char *abs = lt_config_path(x->c, json_string_value(v));
    if (!abs)
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    free(*dst);
    *dst = abs;
    return LT_OK;
}

/* --- listen --- */

/* "host:port" or "[v6]:port"; host is new (free()). */
static int parse_listen(const char *s, char **host, int *port)
{
    const char *h = s, *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        if (!(colon = strrchr(s, ':')))
            return -1;
        hl = (size_t)(colon - s);
        if (memchr(h, ':', hl)) /* a bare IPv6 address is ambiguous: brackets required */
            return -1;
    }
    const char *p = colon + 1;
    size_t pl = strlen(p);
    int64_t v;
    if (hl == 0 || hl > 255 || pl == 0 || pl > 5 || strspn(p, "0123456789") != pl ||
        lt_parse_i64(p, pl, &v) || v > 65535)
        return -1;
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == 0x7f || h[i] == '/' || h[i] == '[' || h[i] == ']')
            return -1;
    char *d = strndup(h, hl);
    if (!d)
        return -1;
    free(*host);
    *host = d;
    *port = (int)v;
    return 0;
}

static lt_err f_listen(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    if (parse_listen(json_string_value(v), &x->c->listen_host, &x->c->listen_port))
        return lt_cfg_fail_at(x, path, n, "'listen' must be \"host:port\" (port 0-65535, IPv6 as "
                              "\"[::1]:8080\"), not '%.100s'", json_string_value(v));
    return LT_OK;
}

static lt_err f_data_dir(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return lt_cfg_set_path(x, v, path, n, &x->c->data_dir);
}

static lt_err f_threads(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    long long t = 0;
    lt_err e = int_in_range(x, v, path, n, 0, MAX_THREADS, &t);
    if (!e)
        x->c->threads = (int)t;
    return e;
}

/* --- limits: config may lower them, never raise (lt_limits.h) --- */

typedef enum limit_kind { LIMIT_SIZE, LIMIT_LONG, LIMIT_UINT } limit_kind;

/* One row per limits.* member: its range and where it goes in lt_config. */
static const struct limit_field {
    const char *name;
    long long min, max;
    size_t off;
    limit_kind kind;
} limit_fields[] = {
    {"max_body_bytes", 1, LT_MAX_BODY_BYTES_DEFAULT, offsetof(lt_config, max_body_bytes),
     LIMIT_SIZE},
    {"max_records_per_request", 1, LT_MAX_RECORDS_DEFAULT,
     offsetof(lt_config, max_records_per_request), LIMIT_SIZE},
    {"request_timeout_ms", 1, LT_REQUEST_TIMEOUT_MS_DEFAULT,
     offsetof(lt_config, request_timeout_ms), LIMIT_LONG},
    {"pull_runs_kept", 1, LT_PULL_RUNS_KEPT_DEFAULT, offsetof(lt_config, pull_runs_kept),
     LIMIT_SIZE},
    {"max_observations_per_query", 1, LT_MAX_QUERY_OBS_DEFAULT,
     offsetof(lt_config, max_query_obs), LIMIT_SIZE},
    {"max_connections_per_ip", 0, LT_MAX_CONN_PER_IP_CAP, offsetof(lt_config, max_conn_per_ip),
     LIMIT_UINT},
};

static lt_err f_limit(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    for (size_t i = 0; i < sizeof limit_fields / sizeof limit_fields[0]; i++) {
        const struct limit_field *f = &limit_fields[i];
        if (strcmp(f->name, path[n - 1]) != 0)
            continue;
        long long t = 0;
        lt_err e = int_in_range(x, v, path, n, f->min, f->max, &t);
        char *at = (char *)x->c + f->off;
        if (!e && f->kind == LIMIT_SIZE)
            *(size_t *)(void *)at = (size_t)t;
        else if (!e && f->kind == LIMIT_LONG)
            *(long *)(void *)at = (long)t;
        else if (!e)
            *(unsigned *)(void *)at = (unsigned)t;
        return e;
    }
    return lt_cfg_fail_at(x, path, n, "unknown limit");
}

static lt_err f_limits(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {
        {"max_body_bytes", JSON_INTEGER, f_limit},
        {"max_records_per_request", JSON_INTEGER, f_limit},
        {"request_timeout_ms", JSON_INTEGER, f_limit},
        {"pull_runs_kept", JSON_INTEGER, f_limit},
        {"max_observations_per_query", JSON_INTEGER, f_limit},
        {"max_connections_per_ip", JSON_INTEGER, f_limit},
        {NULL, 0, NULL},
    };
    return lt_cfg_walk(x, v, path, n, fields);
}

/* --- bootstrap, warehouse, metrics --- */

static lt_err f_bootstrap_dir(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    lt_err e = lt_cfg_set_path(x, v, path, n, &x->c->bootstrap_dir);
    struct stat st;
    if (!e && (stat(x->c->bootstrap_dir, &st) != 0 || !S_ISDIR(st.st_mode)))
        return lt_cfg_fail_at(x, path, n, "'bootstrap.dir': '%.200s' is not a readable folder",
                              x->c->bootstrap_dir);
    return e;
}

static lt_err f_bootstrap(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {{"dir", JSON_STRING, f_bootstrap_dir}, {NULL, 0, NULL}};
    lt_err e = lt_cfg_walk(x, v, path, n, fields);
    if (!e && !json_object_get(v, "dir"))
        return lt_cfg_fail_at(x, path, n, "'bootstrap.dir' is required when 'bootstrap' is given");
    return e;
}

static lt_err f_map_size(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    long long mb = 0;
    lt_err e = int_in_range(x, v, path, n, 0, MAX_MAP_SIZE_MB, &mb);
    if (!e)
        x->c->map_size = (size_t)mb << 20;
    return e;
}

static lt_err f_warehouse(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {{"map_size_mb", JSON_INTEGER, f_map_size},
                                          {NULL, 0, NULL}};
    return lt_cfg_walk(x, v, path, n, fields);
}

static lt_err f_metrics_public(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    (void)path;
    (void)n;
    x->c->metrics_public = json_is_true(v);
    return LT_OK;
}

static lt_err f_metrics(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {{"public", LT_CFG_BOOL, f_metrics_public},
                                          {NULL, 0, NULL}};
    return lt_cfg_walk(x, v, path, n, fields);
}

/* --- holidays --- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static lt_err f_holidays(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    size_t cnt = json_array_size(v), out = 0;
    lt_config *c = x->c;
    if (cnt && !(c->holidays = calloc(cnt, sizeof *c->holidays)))
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    for (size_t i = 0; i < cnt; i++) {
        const json_t *d = json_array_get(v, i);
        const char *s = json_string_value(d);
        char idx[24];
        const char *p[] = {path[0], idx};
        snprintf(idx, sizeof idx, "%zu", i);
        if (!s || lt_date_parse(s, json_string_length(d), &c->holidays[i]))
            return lt_cfg_fail_at(x, p, n + 1, "'holidays[%zu]' must be a date \"YYYY-MM-DD\" that "
                                  "exists", i);
    }
    qsort(c->holidays, cnt, sizeof *c->holidays, cmp_i64);
    for (size_t i = 0; i < cnt; i++) /* a date listed twice is one holiday */
        if (i == 0 || c->holidays[i] != c->holidays[out - 1])
            c->holidays[out++] = c->holidays[i];
    c->nholidays = out;
    return LT_OK;
}

/* --- auth --- */

static const struct {
    const char *name;
    size_t min_secret; /* RFC 7518 §3.2: an HMAC key at least as long as the hash */
} algs[] = {
    {"HS256", 32}, {"HS384", 48}, {"HS512", 64}, {"RS256", 0}, {"RS384", 0},
    {"RS512", 0},  {"ES256", 0},  {"ES384", 0},  {"ES512", 0},
};

static lt_err f_kid(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    lt_err e = lt_cfg_nonempty(x, v, path, n);
    if (e)
        return e;
    if (json_string_length(v) >= sizeof x->key->kid)
        return lt_cfg_fail_at(x, path, n, "'kid' is longer than %zu characters",
                              sizeof x->key->kid - 1);
    for (lt_key_conf *k = x->c->keys; k < x->key; k++)
        if (strcmp(k->kid, json_string_value(v)) == 0)
            return lt_cfg_fail_at(x, path, n, "duplicate kid '%s'", k->kid);
    lt_strlcpy(x->key->kid, json_string_value(v), sizeof x->key->kid);
    return LT_OK;
}

static lt_err f_alg(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(algs[i].name, s) == 0) {
            lt_strlcpy(x->key->alg, s, sizeof x->key->alg);
            return LT_OK;
        }
    return lt_cfg_fail_at(x, path, n, "'alg' must be one of HS256 HS384 HS512 RS256 RS384 RS512 "
                          "ES256 ES384 ES512, not '%.20s'", s);
}

static lt_err f_secret_file(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    x->secret_file = json_string_value(v);
    return lt_cfg_nonempty(x, v, path, n);
}

static lt_err f_public_file(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    x->public_file = json_string_value(v);
    return lt_cfg_nonempty(x, v, path, n);
}

static lt_err f_private_file(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    x->private_file = json_string_value(v);
    return lt_cfg_nonempty(x, v, path, n);
}

/* Reads a key file named at path (the "secret_file"/"…_key_file" member) into *out. */
static lt_err load_key_file(lt_cfg_ctx *x, const char *file, const char *const *path, size_t n,
                            char **out, size_t *len)
{
    char *abs = lt_config_path(x->c, file);
    if (!abs)
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    *out = lt_cfg_read_file(abs, LT_CFG_FILE_MAX, len);
    int err = errno;
    char name[160];
    lt_cfg_path_str(path, n, name, sizeof name);
    lt_err e = LT_OK;
    if (!*out)
        e = lt_cfg_fail_at(x, path, n, "'%s' (key '%s'): cannot read '%.200s': %s", name,
                           x->key->kid, abs, err == EFBIG    ? "larger than 1 MiB"
                                             : err == EINVAL ? "not a regular file"
                                                             : strerror(err));
    free(abs);
    return e;
}

static lt_err load_secret(lt_cfg_ctx *x, const char *const *path, size_t n, size_t min)
{
    lt_key_conf *k = x->key;
    char *s;
    size_t len;
    lt_err e = load_key_file(x, x->secret_file, path, n, &s, &len);
    if (e)
        return e;
    if (len && s[len - 1] == '\n')
        len--;
    if (len && s[len - 1] == '\r')
        len--;
    k->secret = (unsigned char *)s;
    k->secret_len = len;
    if (len < min)
        return lt_cfg_fail_at(x, path, n, "key '%s': the secret in '%.200s' is %zu bytes; %s "
                              "needs at least %zu (generate one with: openssl rand -base64 48)",
                              k->kid, x->secret_file, len, k->alg, min);
    return LT_OK;
}

static lt_err load_pem(lt_cfg_ctx *x, const char *file, const char *const *path, size_t n,
                       char **out)
{
    size_t len;
    lt_err e = load_key_file(x, file, path, n, out, &len);
    if (!e && (strlen(*out) != len || !strstr(*out, "-----BEGIN ")))
        return lt_cfg_fail_at(x, path, n, "key '%s': '%.200s' is not a PEM file", x->key->kid,
                              file);
    return e;
}

/* After a key object is read: required members, the files its alg needs, and no others. */
static lt_err finish_key(lt_cfg_ctx *x, const char *const *path, size_t n)
{
    lt_key_conf *k = x->key;
    const char *p[MAX_PATH_DEPTH + 1];
    memcpy(p, path, n * sizeof *p);
    if (!k->kid[0] || !k->alg[0])
        return lt_cfg_fail_at(x, path, n, "each key of 'auth.keys' needs 'kid' and 'alg'");
    size_t min = 0;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(algs[i].name, k->alg) == 0)
            min = algs[i].min_secret;
    bool hs = k->alg[0] == 'H';
    if (hs && (!x->secret_file || x->public_file || x->private_file))
        return lt_cfg_fail_at(x, path, n, "key '%s' (%s) needs 'secret_file' and no key files",
                              k->kid, k->alg);
    if (!hs && (x->secret_file || !x->public_file))
        return lt_cfg_fail_at(x, path, n, "key '%s' (%s) needs 'public_key_file' (and optionally "
                              "'private_key_file'), not 'secret_file'", k->kid, k->alg);
    if (hs) {
        p[n] = "secret_file";
        return load_secret(x, p, n + 1, min);
    }
    p[n] = "public_key_file";
    lt_err e = load_pem(x, x->public_file, p, n + 1, &k->public_pem);
    p[n] = "private_key_file";
    if (!e && x->private_file)
        e = load_pem(x, x->private_file, p, n + 1, &k->private_pem);
    return e;
}

static lt_err f_keys(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {
        {"kid", JSON_STRING, f_kid},
        {"alg", JSON_STRING, f_alg},
        {"secret_file", JSON_STRING, f_secret_file},
        {"public_key_file", JSON_STRING, f_public_file},
        {"private_key_file", JSON_STRING, f_private_file},
        {NULL, 0, NULL},
    };
    size_t cnt = json_array_size(v);
    if (cnt > MAX_KEYS)
        return lt_cfg_fail_at(x, path, n, "'auth.keys' has more than %d keys", MAX_KEYS);
    if (cnt && !(x->c->keys = calloc(cnt, sizeof *x->c->keys)))
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    for (size_t i = 0; i < cnt; i++) {
        char idx[24];
        const char *p[] = {path[0], path[1], idx};
        snprintf(idx, sizeof idx, "%zu", i);
        const json_t *ko = json_array_get(v, i);
        if (!json_is_object(ko))
            return lt_cfg_fail_at(x, p, n + 1, "'auth.keys[%zu]' must be an object", i);
        x->key = &x->c->keys[i];
        x->c->nkeys = i + 1; /* counted before reading so lt_config_free sees partial keys */
        x->secret_file = x->public_file = x->private_file = NULL;
        lt_err e = lt_cfg_walk(x, ko, p, n + 1, fields);
        if (!e)
            e = finish_key(x, p, n + 1);
        if (e)
            return e;
    }
    return LT_OK;
}

static lt_err set_str(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n, char **dst)
{
    lt_err e = lt_cfg_nonempty(x, v, path, n);
    char *d = e ? NULL : strdup(json_string_value(v));
    if (!e && !d)
        return lt_fail(x->ei, LT_E_NOMEM, "%s: out of memory", x->file);
    if (!e) {
        free(*dst);
        *dst = d;
    }
    return e;
}

static lt_err f_issuer(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return set_str(x, v, path, n, &x->c->issuer);
}

static lt_err f_audience(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    return set_str(x, v, path, n, &x->c->audience);
}

static lt_err f_auth(lt_cfg_ctx *x, const json_t *v, const char *const *path, size_t n)
{
    static const lt_cfg_field fields[] = {
        {"issuer", JSON_STRING, f_issuer},
        {"audience", JSON_STRING, f_audience},
        {"keys", JSON_ARRAY, f_keys},
        {NULL, 0, NULL},
    };
    return lt_cfg_walk(x, v, path, n, fields);
}

/* --- the whole file --- */

static const lt_cfg_field top_fields[] = {
    {"listen", JSON_STRING, f_listen},
    {"data_dir", JSON_STRING, f_data_dir},
    {"threads", JSON_INTEGER, f_threads},
    {"auth", JSON_OBJECT, f_auth},
    {"limits", JSON_OBJECT, f_limits},
    {"bootstrap", JSON_OBJECT, f_bootstrap},
    {"holidays", JSON_ARRAY, f_holidays},
    {"warehouse", JSON_OBJECT, f_warehouse},
    {"metrics", JSON_OBJECT, f_metrics},
    {"tls", JSON_OBJECT, lt_cfg_tls},
    {NULL, 0, NULL},
};

/* The config folder, absolute: realpath of everything before the last '/'. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *folder = slash == path ? strdup("/") : slash ? strndup(path, (size_t)(slash - path))
                                                       : strdup(".");
    char *abs = folder ? realpath(folder, NULL) : NULL;
    free(folder);
    return abs;
}

static lt_err set_defaults(lt_config *c, const char *path, lt_errinfo *ei)
{
    c->listen_port = 8080;
    c->max_body_bytes = LT_MAX_BODY_BYTES_DEFAULT;
    c->max_records_per_request = LT_MAX_RECORDS_DEFAULT;
    c->request_timeout_ms = LT_REQUEST_TIMEOUT_MS_DEFAULT;
    c->pull_runs_kept = LT_PULL_RUNS_KEPT_DEFAULT;
    c->max_query_obs = LT_MAX_QUERY_OBS_DEFAULT;
    c->max_conn_per_ip = LT_MAX_CONN_PER_IP_DEFAULT;
    c->metrics_public = 1;
    if (!(c->path = strdup(path)) || !(c->listen_host = strdup("127.0.0.1")) ||
        !(c->issuer = strdup("lienthong")) || !(c->audience = strdup("lienthong")))
        return lt_fail(ei, LT_E_NOMEM, "%s: out of memory", path);
    if (!(c->dir = config_dir(path)))
        return lt_fail(ei, LT_E_CONFIG, "%s:1:1: cannot resolve the config folder: %s", path,
                       strerror(errno));
    if (!(c->data_dir = lt_config_path(c, "var/lienthong")))
        return lt_fail(ei, LT_E_NOMEM, "%s: out of memory", path);
    return LT_OK;
}

static lt_err load_root(lt_cfg_ctx *x, const char *path)
{
    json_t *root = lt_json_load_file(path, x->ei);
    if (!root) {
        if (x->ei && x->ei->code == LT_E_IO) /* lt_json_load_file says only "cannot open" */
            return lt_fail(x->ei, LT_E_CONFIG, "%s:1:1: cannot open: %s", path,
                           strerror(errno));
        if (x->ei)
            x->ei->code = LT_E_CONFIG;
        return LT_E_CONFIG;
    }
    lt_err e = json_is_object(root)
                   ? lt_cfg_walk(x, root, NULL, 0, top_fields)
                   : lt_cfg_fail_at(x, NULL, 0, "the configuration must be a JSON object");
    json_decref(root);
    return e;
}

lt_err lt_config_load(const char *path, lt_config **out, lt_errinfo *ei)
{
    *out = NULL;
    lt_config *c = calloc(1, sizeof *c);
    if (!c)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_cfg_ctx x = {.file = path, .c = c, .ei = ei};
    lt_err e = set_defaults(c, path, ei);
    if (!e)
        e = load_root(&x, path);
    const char *env = getenv("LIENTHONG_LISTEN");
    if (!e && env && *env && parse_listen(env, &c->listen_host, &c->listen_port))
        e = lt_fail(ei, LT_E_CONFIG, "LIENTHONG_LISTEN: '%.100s' is not \"host:port\" "
                    "(port 0-65535, IPv6 as \"[::1]:8080\")", env);
    free(x.text);
    if (e) {
        lt_config_free(c);
        return e;
    }
    *out = c;
    return LT_OK;
}

void lt_config_free(lt_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nkeys; i++) {
        lt_key_conf *k = &c->keys[i];
        if (k->secret)
            explicit_bzero(k->secret, k->secret_len);
        free(k->secret);
        if (k->private_pem)
            explicit_bzero(k->private_pem, strlen(k->private_pem));
        free(k->private_pem);
        free(k->public_pem);
    }
    free(c->keys);
    free(c->path);
    free(c->dir);
    free(c->listen_host);
    free(c->data_dir);
    free(c->issuer);
    free(c->audience);
    free(c->bootstrap_dir);
    free(c->holidays);
    lt_cfg_tls_free(c);
    free(c);
}

char *lt_config_path(const lt_config *c, const char *p)
{
    if (p[0] == '/' || !c->dir)
        return strdup(p);
    bool root = strcmp(c->dir, "/") == 0;
    size_t n = strlen(c->dir) + strlen(p) + 2;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s/%s", root ? "" : c->dir, p);
    return r;
}
