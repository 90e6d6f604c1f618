/* gw_pull — pull connectors (API.md §5 `source`, §7 pull runs): a scheduler thread and a small
 * pool of pull workers hung from the server context.
 *
 * Contract: gw_pulls_start starts one scheduler thread (wakes every second; enqueues a run of
 * every published pull service with `interval_s` whose last run started at least interval_s
 * ago, or that has not run in this process yet) and GW_PULL_WORKERS worker threads that run
 * the pulls (gw_fetch, then gw_ingest with source "pull"). Only `serve` starts it: `import`
 * and the tools never do. gw_pulls_stop stops taking runs, drops queued ones, waits for the
 * running ones (each is bounded by its timeouts) and joins every thread.
 * Ownership: the state is owned by ctx (ctx->pulls) from start to stop.
 * Thread safety: start and stop are called from the main thread, start before
 * gw_server_start and stop after gw_server_stop (the POST …/pull handler waits on a worker).
 * gw_pulls_stop is idempotent and safe when start was never called.
 */
#ifndef GW_PULL_H
#define GW_PULL_H

#include "gw.h"

lt_err gw_pulls_start(gw_ctx *ctx, lt_errinfo *ei);
void gw_pulls_stop(gw_ctx *ctx);

#endif
