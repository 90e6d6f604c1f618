/* `backup` and `verify-audit`: warehouse operations that run beside a live `serve`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wh.h"

static int parse(int argc, char **argv, const char **config, const char **to, bool want_to)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"to", required_argument, 0, 't'}, {0, 0, 0, 0}};
    int c;
    bool bad = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c') *config = optarg;
        else if (c == 't' && want_to) *to = optarg;
        else bad = true;
    }
    return !bad && *config && (!want_to || *to) && optind == argc ? 0 : -1;
}

int cli_backup(int argc, char **argv)
{
    const char *config = NULL, *to = NULL;
    if (parse(argc, argv, &config, &to, true)) {
        fprintf(stderr, "usage: lienthong backup --config FILE --to DIR\n");
        return 2;
    }
    lt_config *cfg = cli_load_config(config);
    if (!cfg)
        return 1;
    wh_env *wh = NULL;
    lt_errinfo ei = {0};
    int rc = 0;
    if (wh_open(cfg->data_dir, cfg->map_size, &wh, &ei) || wh_backup(wh, to, &ei))
        rc = cli_error("backup", ei.detail);
    else
        printf("backup written to %s\n", to);
    wh_close(wh);
    lt_errinfo_clear(&ei);
    lt_config_free(cfg);
    return rc;
}

int cli_verify_audit(int argc, char **argv)
{
    const char *config = NULL, *to = NULL;
    if (parse(argc, argv, &config, &to, false)) {
        fprintf(stderr, "usage: lienthong verify-audit --config FILE\n");
        return 2;
    }
    lt_config *cfg = cli_load_config(config);
    if (!cfg)
        return 1;
    wh_env *wh = NULL;
    lt_errinfo ei = {0};
    uint64_t count = 0, bad = 0;
    int rc = 0;
    lt_err e = wh_open(cfg->data_dir, cfg->map_size, &wh, &ei);
    if (!e)
        e = wh_audit_verify(wh, &count, &bad, &ei);
    if (e == LT_E_CONFLICT) {
        printf("%llu entries checked; chain broken at seq %llu\n", (unsigned long long)count,
               (unsigned long long)bad);
        rc = 1;
    } else if (e) {
        rc = cli_error("verify-audit", ei.detail);
    } else {
        printf("%llu entries, chain valid\n", (unsigned long long)count);
    }
    wh_close(wh);
    lt_errinfo_clear(&ei);
    lt_config_free(cfg);
    return rc;
}
