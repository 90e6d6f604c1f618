/* The server context: the one object that holds the warehouse, registry, authenticator and
 * metrics, passed explicitly to every request (no mutable globals). */
#include <stdlib.h>

#include "gw_cache.h"
#include "gw_int.h"
#include "gw_obs.h"
#include "gw_pull.h"
#include "rg_sharing.h"
#include "lt_limits.h"
#include "lt_log.h"
#include "lt_str.h"

/* Brings the observations index up to date before anything reads or writes it. A failure
 * is logged, not fatal: the index then lacks old records until a later start completes it
 * (the meta document is only stored after a complete reindex). */
static void obs_reindex(gw_ctx *c)
{
    lt_errinfo ei = {0};
    if (gw_obs_reindex(c, &ei) != LT_OK)
        lt_log(LT_LOG_ERROR, "observations index: reindex failed (%s): %s; it is retried at "
               "the next start", lt_err_code(ei.code), ei.detail);
    lt_errinfo_clear(&ei);
}

lt_err gw_ctx_open(const lt_config *cfg, gw_ctx **out, lt_errinfo *ei)
{
    gw_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    c->cfg = cfg;
    c->started_us = lt_now_us();
    ad_init();
    lt_err e = wh_open(cfg->data_dir, cfg->map_size, &c->wh, ei);
    if (!e)
        e = rg_open(c->wh, &c->rg, ei);
    if (!e)
        e = rg_set_holidays(c->rg, cfg->holidays, cfg->nholidays);
    if (!e && cfg->bootstrap_dir)
        e = rg_bootstrap(c->rg, cfg->bootstrap_dir, false, ei);
    if (!e)
        obs_reindex(c);
    if (!e)
        e = gw_auth_new(cfg, &c->auth, ei);
    if (!e)
        e = gw_metrics_new(&c->metrics);
    if (!e && !(c->cache = gw_cache_new(LT_ANSWER_CACHE_BYTES)))
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    if (e) {
        gw_ctx_close(c);
        return e;
    }
    *out = c;
    return LT_OK;
}

void gw_ctx_close(gw_ctx *c)
{
    if (!c)
        return;
    gw_pulls_stop(c); /* its workers use the warehouse and registry closed below */
    gw_metrics_free(c->metrics);
    gw_cache_free(c->cache);
    gw_auth_free(c->auth);
    rg_close(c->rg);
    wh_close(c->wh);
    free(c);
}

rg_registry *gw_ctx_registry(gw_ctx *c) { return c->rg; }
wh_env *gw_ctx_warehouse(gw_ctx *c) { return c->wh; }
