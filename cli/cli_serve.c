/* `serve` and `check-config`. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "gw.h"
#include "gw_auth.h"
#include "gw_pull.h"
#include "lt_log.h"
#include "lt_str.h"

int cli_error(const char *what, const char *detail)
{
    fprintf(stderr, "lienthong %s: %s\n", what, detail);
    return 1;
}

lt_config *cli_load_config(const char *path)
{
    lt_config *cfg = NULL;
    lt_errinfo ei = {0};
    if (lt_config_load(path, &cfg, &ei) != LT_OK) {
        fprintf(stderr, "%s\n", ei.detail);
        lt_errinfo_clear(&ei);
        return NULL;
    }
    return cfg;
}

/* Parses "--config FILE" (the only option of serve and check-config). */
static const char *config_arg(int argc, char **argv, const char *cmd)
{
    static const struct option opts[] = {{"config", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *config = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else
            return NULL;
    }
    if (!config || optind != argc)
        fprintf(stderr, "usage: lienthong %s --config FILE\n", cmd);
    return optind == argc ? config : NULL;
}

int cli_serve(int argc, char **argv)
{
    const char *path = config_arg(argc, argv, "serve");
    if (!path)
        return 2;
    lt_log_init();
    lt_config *cfg = cli_load_config(path);
    if (!cfg)
        return 1;
    lt_tune_malloc();
    /* Signals are taken by sigwait in this thread only; workers never see them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    gw_ctx *ctx = NULL;
    gw_server *srv = NULL;
    lt_errinfo ei = {0};
    /* Pulls start before the server (POST …/pull waits on a pull worker) and stop after it. */
    if (gw_ctx_open(cfg, &ctx, &ei) != LT_OK || gw_pulls_start(ctx, &ei) != LT_OK ||
        gw_server_start(ctx, &srv, &ei) != LT_OK) {
        cli_error("serve", ei.detail);
        gw_ctx_close(ctx);
        lt_config_free(cfg);
        lt_errinfo_clear(&ei);
        return 1;
    }
    int sig = 0;
    sigwait(&set, &sig);
    lt_log(LT_LOG_INFO, "signal %d: stopping (in-flight requests finish)", sig);
    gw_server_stop(srv);
    gw_pulls_stop(ctx);
    gw_ctx_close(ctx);
    lt_config_free(cfg);
    lt_log(LT_LOG_INFO, "stopped");
    return 0;
}

int cli_check_config(int argc, char **argv)
{
    const char *path = config_arg(argc, argv, "check-config");
    if (!path)
        return 2;
    lt_config *cfg = cli_load_config(path);
    if (!cfg)
        return 1;
    lt_errinfo ei = {0};
    gw_auth *auth = NULL;
    int rc = 0;
    /* The keys are parsed by the authenticator (it links libcrypto), so build it too; the
     * TLS certificate, key and client CA are loaded as serve would. */
    if (gw_auth_new(cfg, &auth, &ei) != LT_OK || gw_tls_check(cfg, &ei) != LT_OK ||
        (cfg->bootstrap_dir && rg_check_bootstrap_dir(cfg->bootstrap_dir, &ei) != LT_OK)) {
        fprintf(stderr, "%s\n", ei.detail);
        rc = 1;
    } else {
        printf("ok\n");
    }
    gw_auth_free(auth);
    lt_errinfo_clear(&ei);
    lt_config_free(cfg);
    return rc;
}
