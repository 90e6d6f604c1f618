/* Fuzz target: the query string of GET /v1/services/{id}/records, parsed the way its handler
 * does (gw_h_records.c) but without an HTTP connection. The input is "name=value&..." as
 * libmicrohttpd hands it over (already percent-decoded, NUL ends it); since/as_of go through
 * lt_time_parse, limit through lt_parse_i64, cursor to the warehouse scan, every other name
 * through gw_records_filter (contract fields, periods normalised), and the query then scans a
 * small LMDB warehouse made at start-up (gw_records_scan, gw_records_match). A leading '!'
 * makes the caller hold a grant without status, unit and reporter.
 * Invariants: an error has a detail; a rejected filter is LT_E_BAD_REQUEST or LT_E_FORBIDDEN
 * (only under the grant); a scan delivers at most limit records, each passing the filters;
 * a scan error is a malformed cursor (LT_E_BAD_REQUEST); a next cursor the scan gives back is
 * always accepted. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ct_contract.h"
#include "gw_records.h"
#include "lt_json.h"
#include "lt_str.h"

#define SVC "svc-fuzz"

static const char CONTRACT[] =
    "{\"id\": \"obs\", \"version\": 1, \"title\": \"Observations\", \"key\": [\"indicator\", \"area\", \"period\"],"
    " \"fields\": [{\"name\": \"indicator\", \"type\": \"code\", \"codelist\": \"i\","
    " \"required\": true}, {\"name\": \"area\", \"type\": \"code\", \"codelist\": \"a\","
    " \"required\": true}, {\"name\": \"period\", \"type\": \"period\", \"required\": true},"
    " {\"name\": \"value\", \"type\": \"number\", \"nullable\": true},"
    " {\"name\": \"n\", \"type\": \"integer\"}, {\"name\": \"ok\", \"type\": \"boolean\"},"
    " {\"name\": \"status\", \"type\": \"enum\", \"values\": [\"ok\", \"no_data\"]},"
    " {\"name\": \"unit\", \"type\": \"string\", \"max_length\": 32},"
    " {\"name\": \"reporter\", \"type\": \"string\", \"personal\": true}]}";

/* Stored records (canonical JSON as ingest writes it), by key. */
static const char *const RECORDS[][2] = {
    {"T0501~20~2025-M07", "{\"area\":\"20\",\"indicator\":\"T0501\",\"n\":3,\"ok\":true,"
                          "\"period\":\"2025-M07\",\"status\":\"ok\",\"value\":1.5}"},
    {"T0501~20~2025-M08", "{\"area\":\"20\",\"indicator\":\"T0501\",\"period\":\"2025-M08\","
                          "\"unit\":\"t\xe1\xbb\xb7 \xc4\x91\xe1\xbb\x93ng\",\"value\":null}"},
    {"T0501~01~2025-Q3", "{\"area\":\"01\",\"indicator\":\"T0501\",\"ok\":false,"
                         "\"period\":\"2025-Q3\",\"value\":-2}"},
    {"T0601~20~2025", "{\"area\":\"20\",\"indicator\":\"T0601\",\"n\":-7,\"period\":\"2025\","
                      "\"reporter\":\"Nguy\xe1\xbb\x85n A\",\"value\":1e300}"},
    {"T0601~2003~2025-W05", "{\"area\":\"2003\",\"indicator\":\"T0601\","
                            "\"period\":\"2025-W05\",\"status\":\"no_data\"}"},
};

static const char *const GRANTED[] = {"indicator", "area", "period", "value", "n", "ok"};

typedef struct harness {
    char dir[32];
    gw_ctx ctx;
    wh_env *wh;
    ct_contract *contract;
    rg_service svc;
    rg_grant grant;
} harness;

static void fail_setup(const char *what, const lt_errinfo *ei)
{
    fprintf(stderr, "fuzz_query setup: %s: %s\n", what, ei->detail);
    abort();
}

static void store_records(wh_env *wh)
{
    lt_errinfo ei = {0};
    wh_batch *b = NULL;
    wh_prov prov = {"push", "m-fuzz", "sys-fuzz"};
    if (wh_batch_begin(wh, &b, &ei))
        fail_setup("batch", &ei);
    for (size_t i = 0; i < sizeof RECORDS / sizeof RECORDS[0]; i++) {
        wh_put_result res;
        if (wh_batch_put_record(b, SVC, RECORDS[i][0], RECORDS[i][1], strlen(RECORDS[i][1]),
                                &prov, &res, &ei))
            fail_setup("put", &ei);
    }
    if (wh_batch_commit(b, &ei))
        fail_setup("commit", &ei);
}

static harness h; /* one warehouse for the whole run (fuzzer harness state) */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path) != 0;
}

/* At exit: closes the warehouse and removes its folder (files and sub-folders). */
static void drop_harness(void)
{
    wh_close(h.wh);
    ct_contract_free(h.contract);
    nftw(h.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static harness *make_harness(void)
{
    lt_errinfo ei = {0};
    lt_strlcpy(h.dir, "/tmp/lt-fuzz-query-" "XX" "XX" "XX", sizeof h.dir);
    if (!mkdtemp(h.dir) || wh_open(h.dir, 64u << 20, &h.wh, &ei))
        fail_setup("warehouse", &ei);
    atexit(drop_harness);
    store_records(h.wh);
    json_t *def = lt_json_load(CONTRACT, sizeof CONTRACT - 1, &ei);
    if (!def || ct_contract_parse(def, &h.contract, &ei))
        fail_setup("contract", &ei);
    json_decref(def);
    h.ctx.wh = h.wh;
    h.svc.id = SVC;
    h.svc.contract = h.contract;
    h.grant.fields = GRANTED;
    h.grant.nfields = sizeof GRANTED / sizeof GRANTED[0];
    return &h;
}

typedef struct scan_out {
    const gw_records_query *q;
    size_t count;
} scan_out;

static int take(void *cls, const wh_record *rec)
{
    scan_out *s = cls;
    if (!gw_records_match(s->q, rec))
        __builtin_trap(); /* the scan hands over only records that pass the filters */
    s->count++;
    return 0;
}

/* Scans q, and follows the next cursor once: a cursor the scan made is always good. */
static void scan(gw_req *r, gw_records_query *q, bool own_cursor)
{
    char next[WH_CURSOR_MAX];
    scan_out s = {q, 0};
    lt_err e = gw_records_scan(r, q, take, &s, next);
    if (s.count > q->scan.limit)
        __builtin_trap();
    if (e) {
        if (e != LT_E_BAD_REQUEST || !r->ei.detail[0] || own_cursor || !q->scan.cursor)
            __builtin_trap(); /* only a caller's malformed cursor fails a scan */
        lt_errinfo_clear(&r->ei);
        return;
    }
    if (next[0] && !own_cursor) {
        char *copy = lt_arena_strdup(r->arena, next);
        if (!copy)
            return;
        q->scan.cursor = copy;
        scan(r, q, true);
    }
}

/* One name=value pair, as the handler's parameter walk sees it (value NULL for a name without
 * '=', as libmicrohttpd gives it); false ends the request. */
static bool param(gw_req *r, gw_records_query *q, const char *name, const char *value)
{
    bool known = strcmp(name, "since") == 0 || strcmp(name, "as_of") == 0 ||
                 strcmp(name, "limit") == 0 || strcmp(name, "cursor") == 0;
    if (known && !value)
        return true; /* gw_query answers NULL: the parameter is absent */
    if (strcmp(name, "since") == 0 || strcmp(name, "as_of") == 0) {
        int64_t *us = name[0] == 's' ? &q->scan.since_us : &q->scan.as_of_us;
        return lt_time_parse(value, strlen(value), us) == 0;
    }
    if (strcmp(name, "limit") == 0) {
        int64_t v;
        if (lt_parse_i64(value, strlen(value), &v) || v < 1 || v > 1000)
            return false;
        q->scan.limit = (size_t)v;
        return true;
    }
    if (strcmp(name, "cursor") == 0) {
        q->scan.cursor = *value ? value : NULL;
        return true;
    }
    lt_err e = gw_records_filter(r, q, name, value);
    if (e && (!r->ei.detail[0] || (e != LT_E_BAD_REQUEST && e != LT_E_FORBIDDEN) ||
              (e == LT_E_FORBIDDEN && !r->grant)))
        __builtin_trap();
    lt_errinfo_clear(&r->ei);
    return e == LT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static harness *h;
    if (!h)
        h = make_harness();
    gw_req r;
    memset(&r, 0, sizeof r);
    r.ctx = &h->ctx;
    r.arena = lt_arena_new(1u << 20);
    char *qs = lt_arena_strndup(r.arena, (const char *)data, size);
    if (qs && *qs == '!') {
        r.grant = &h->grant;
        qs++;
    }
    gw_records_query q;
    gw_records_query_init(&q, &h->svc, 2);
    bool ok = qs != NULL;
    for (char *s = qs, *amp; ok && s && *s; s = amp) {
        if ((amp = strchr(s, '&')) != NULL)
            *amp++ = '\0';
        char *eq = strchr(s, '=');
        if (eq)
            *eq++ = '\0';
        ok = param(&r, &q, s, eq);
    }
    if (ok)
        scan(&r, &q, false);
    lt_errinfo_clear(&r.ei);
    lt_arena_free(r.arena);
    return 0;
}
