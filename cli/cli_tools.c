/* `token`, `import`, `backup`, `verify-audit`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_mapping.h"
#include "cli.h"
#include "gw.h"
#include "gw_auth.h"
#include "lt_buf.h"
#include "lt_log.h"
#include "lt_str.h"

#define MEDIA_ENVELOPE "application/vnd.lienthong.exchange+json"

int cli_token(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"sub", required_argument, 0, 's'},
        {"org", required_argument, 0, 'o'},    {"roles", required_argument, 0, 'r'},
        {"ttl", required_argument, 0, 't'},    {"kid", required_argument, 0, 'k'},
        {0, 0, 0, 0}};
    const char *config = NULL, *sub = NULL, *org = "", *roles = NULL, *kid = NULL;
    int64_t ttl = 3600;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 's': sub = optarg; break;
        case 'o': org = optarg; break;
        case 'r': roles = optarg; break;
        case 'k': kid = optarg; break;
        case 't':
            if (lt_parse_i64(optarg, strlen(optarg), &ttl) || ttl <= 0)
                ttl = -1;
            break;
        default: ttl = -1;
        }
    }
    unsigned bits;
    if (!config || !sub || !roles || ttl <= 0 || optind != argc || gw_roles_parse(roles, &bits)) {
        fprintf(stderr, "usage: lienthong token --config FILE --sub ID --org CODE --roles "
                        "r1,r2 [--ttl SECONDS] [--kid KID]\n"
                        "roles: admin, agency, national, ioc\n");
        return 2;
    }
    lt_config *cfg = cli_load_config(config);
    if (!cfg)
        return 1;
    gw_auth *a = NULL;
    char *tok = NULL;
    lt_errinfo ei = {0};
    int rc = 0;
    if (gw_auth_new(cfg, &a, &ei) || gw_auth_sign(a, kid, sub, org, roles, (long)ttl,
                                                  lt_now_us() / 1000000, &tok, &ei))
        rc = cli_error("token", ei.detail);
    else
        printf("%s\n", tok);
    free(tok);
    gw_auth_free(a);
    lt_errinfo_clear(&ei);
    lt_config_free(cfg);
    return rc;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    lt_buf b;
    char chunk[65536];
    size_t n;
    if (!f)
        return NULL;
    lt_buf_init(&b, max);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        lt_buf_append(&b, chunk, n);
    fclose(f);
    return lt_buf_detach(&b, len);
}

/* The media type a --format names: a format's first media type, or the envelope. */
static const char *format_media(const char *format, const rg_service *svc)
{
    if (!format)
        format = svc->format;
    if (strcmp(format, "envelope") == 0)
        return MEDIA_ENVELOPE;
    const ad_format *f = ad_format_by_name(format);
    return f ? f->media_types[0] : NULL;
}

static int do_import(const lt_config *cfg, const char *service, const char *format,
                     const char *file, bool atomic)
{
    gw_ctx *ctx = NULL;
    rg_service *svc = NULL;
    json_t *result = NULL;
    lt_errinfo ei = {0};
    size_t len = 0;
    int rc = 1;
    char *body = read_file(file, cfg->max_body_bytes, &len);
    char mid[40];
    lt_random_id("import-", mid, sizeof mid);
    gw_ingest_opts o = {atomic, "import", mid, "cli"};
    if (!body) {
        fprintf(stderr, "lienthong import: %s: cannot read (or larger than max_body_bytes)\n", file);
    } else if (gw_ctx_open(cfg, &ctx, &ei) != LT_OK) {
        cli_error("import", ei.detail);
    } else if (rg_service_get(gw_ctx_registry(ctx), service, &svc) != LT_OK) {
        fprintf(stderr, "lienthong import: no service '%s'\n", service);
    } else if (!format_media(format, svc)) {
        fprintf(stderr, "lienthong import: unknown format '%s'\n", format);
    } else if (gw_ingest(ctx, svc, format_media(format, svc), body, len, &o, &result, NULL,
                         &ei) != LT_OK) {
        cli_error("import", ei.detail);
        if (ei.errors) {
            json_dumpf(ei.errors, stderr, JSON_COMPACT);
            fputc('\n', stderr);
        }
    } else {
        json_dumpf(result, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        rc = 0;
    }
    json_decref(result);
    rg_service_release(svc);
    gw_ctx_close(ctx);
    free(body);
    lt_errinfo_clear(&ei);
    return rc;
}

int cli_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, 0, 'c'}, {"service", required_argument, 0, 's'},
        {"format", required_argument, 0, 'f'}, {"atomic", no_argument, 0, 'a'}, {0, 0, 0, 0}};
    const char *config = NULL, *service = NULL, *format = NULL;
    bool atomic = false, bad = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') config = optarg;
        else if (c == 's') service = optarg;
        else if (c == 'f') format = optarg;
        else if (c == 'a') atomic = true;
        else bad = true;
    }
    if (bad || !config || !service || optind != argc - 1) {
        fprintf(stderr, "usage: lienthong import --config FILE --service ID "
                        "[--format json|xml|soap|csv|envelope] [--atomic] FILE\n");
        return 2;
    }
    lt_log_init();
    lt_config *cfg = cli_load_config(config);
    if (!cfg)
        return 1;
    int rc = do_import(cfg, service, format, argv[optind], atomic);
    lt_config_free(cfg);
    return rc;
}
