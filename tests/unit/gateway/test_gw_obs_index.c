/* The observations index from the gateway's side: gw_obs_contract, gw_obs_from_record, ingest
 * writing entries in the records' transaction (push, changed, unchanged, quarantine retry),
 * and gw_obs_reindex at start (a warehouse written without the index, the meta document,
 * services added later, records that are not observations). The context is the real one
 * (gw_ctx_open on a temporary config bootstrapped from examples/lang-son). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_int.h"
#include "gw_obs.h"
#include "lt_config.h"
#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"
#include "lt_test.h"
#include "../warehouse/wh_testdir.h"

#define CTS "cts-chi-tieu-kte-xh"
#define STC "stc-thu-ngan-sach"

/* ---- pure parts ---------------------------------------------------------------------------- */

static void test_contract(void)
{
    ct_contract c = {0};
    CHECK(!gw_obs_contract(NULL));
    CHECK(!gw_obs_contract(&c));
    static const struct {
        const char *id;
        int version;
        bool want;
    } cases[] = {
        {"indicator-observation", 1, true},   {"indicator-observation", 7, true},
        {"indicator-observations", 1, false}, {"indicator", 1, false},
        {"Indicator-Observation", 1, false},  {"budget-revenue", 1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c.id = (char *)cases[i].id;
        c.version = cases[i].version;
        CHECK_MSG(gw_obs_contract(&c) == cases[i].want, "%s@%d", cases[i].id, cases[i].version);
    }
}

static void test_from_record(void)
{
    static const struct {
        const char *json;
        bool ok;
        int has_value;
        double value;
        const char *period, *status, *unit;
    } cases[] = {
        {"{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M07\",\"value\":103.25,"
         "\"status\":\"ok\",\"unit\":\"%\"}", true, 1, 103.25, "2026-M07", "ok", "%"},
        {"{\"indicator\":\"POP\",\"area\":\"20\",\"period\":\"2025\",\"value\":812350,"
         "\"unit\":\"người\"}", true, 1, 812350, "2025", "", "người"},
        {"{\"indicator\":\"T0501\",\"area\":\"20001\",\"period\":\"2026-Q3\",\"value\":null,"
         "\"status\":\"no_data\"}", true, 0, 0, "2026-Q3", "no_data", ""},
        {"{\"indicator\":\"T0501\",\"area\":\"20\",\"period\":\"2026-W53\"}", true, 0, 0,
         "2026-W53", "", ""},
        {"{\"area\":\"20\",\"period\":\"2026-Q3\",\"value\":1}", false, 0, 0, NULL, NULL, NULL},
        {"{\"indicator\":\"X\",\"period\":\"2026-Q3\"}", false, 0, 0, NULL, NULL, NULL},
        {"{\"indicator\":\"X\",\"area\":\"20\"}", false, 0, 0, NULL, NULL, NULL},
        {"{\"indicator\":\"X\",\"area\":\"20\",\"period\":\"2026-Q5\"}", false, 0, 0, NULL,
         NULL, NULL},
        {"{\"indicator\":\"X\",\"area\":\"20\",\"period\":2026}", false, 0, 0, NULL, NULL, NULL},
        {"{\"indicator\":1,\"area\":\"20\",\"period\":\"2026\"}", false, 0, 0, NULL, NULL, NULL},
        {"{\"indicator\":\"\",\"area\":\"20\",\"period\":\"2026\"}", false, 0, 0, NULL, NULL,
         NULL},
        {"{\"indicator\":\"A\\u001fB\",\"area\":\"20\",\"period\":\"2026\"}", false, 0, 0, NULL,
         NULL, NULL},
        {"[1,2]", false, 0, 0, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *j = json_loads(cases[i].json, 0, NULL);
        wh_obs o;
        CHECK_MSG(j != NULL, "case %zu", i);
        bool ok = gw_obs_from_record(j, "svc", "the-key", &o);
        CHECK_MSG(ok == cases[i].ok, "case %zu: %s", i, cases[i].json);
        if (ok && cases[i].ok) {
            CHECK(o.has_value == cases[i].has_value && o.value == cases[i].value);
            CHECK_STR(o.period, cases[i].period);
            CHECK_STR(o.status, cases[i].status);
            CHECK_STR(o.unit, cases[i].unit);
            CHECK_STR(o.service, "svc");
            CHECK_STR(o.key, "the-key");
            ct_period p;
            CHECK(ct_period_parse(o.period, strlen(o.period), &p) == 0 &&
                  o.period_key == ct_period_sortkey(&p));
        }
        json_decref(j);
    }
    /* codes and texts too long for the index */
    char big[700];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *j = json_pack("{s:s, s:s, s:s}", "indicator", "CPI", "area", "20", "period", "2026");
    wh_obs o;
    CHECK(gw_obs_from_record(j, "svc", "k", &o));
    json_object_set_new(j, "unit", json_string(big));
    CHECK(!gw_obs_from_record(j, "svc", "k", &o));
    json_object_del(j, "unit");
    big[LT_MAX_ID_LEN + 1] = '\0';
    json_object_set_new(j, "area", json_string(big));
    CHECK(!gw_obs_from_record(j, "svc", "k", &o));
    big[LT_MAX_ID_LEN] = '\0';
    json_object_set_new(j, "area", json_string(big));
    CHECK(gw_obs_from_record(j, "svc", "k", &o));
    json_decref(j);
}

/* ---- a real context ------------------------------------------------------------------------ */

typedef struct env {
    char dir[64];
    char cfg_path[128];
    lt_config *cfg;
    gw_ctx *ctx;
} env;

static void write_config(env *e)
{
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    snprintf(e->cfg_path, sizeof e->cfg_path, "%s/lienthong.json", e->dir);
    FILE *f = fopen(e->cfg_path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fprintf(f,
            "{\"listen\": \"127.0.0.1:1\", \"data_dir\": \"%s/data\", \"threads\": 1,\n"
            " \"auth\": {\"issuer\": \"lienthong\", \"audience\": \"lienthong\", \"keys\": [\n"
            "   {\"kid\": \"dev\", \"alg\": \"HS256\",\n"
            "    \"secret_file\": \"%s/examples/lang-son/keys/dev.secret\"}]},\n"
            " \"bootstrap\": {\"dir\": \"%s/examples/lang-son\"}}\n",
            e->dir, cwd, cwd);
    fclose(f);
}

static void ctx_open(env *e)
{
    lt_errinfo ei = {0};
    CHECK_MSG(gw_ctx_open(e->cfg, &e->ctx, &ei) == LT_OK, "%s", ei.detail);
    lt_errinfo_clear(&ei);
}

static void env_open(env *e)
{
    memset(e, 0, sizeof *e);
    CHECK(wh_testdir_make(e->dir) == 0);
    write_config(e);
    lt_errinfo ei = {0};
    CHECK_MSG(lt_config_load(e->cfg_path, &e->cfg, &ei) == LT_OK, "%s", ei.detail);
    lt_errinfo_clear(&ei);
    ctx_open(e);
}

static void env_close(env *e)
{
    gw_ctx_close(e->ctx);
    lt_config_free(e->cfg);
    wh_testdir_remove(e->dir);
}

static void restart(env *e)
{
    gw_ctx_close(e->ctx);
    e->ctx = NULL;
    ctx_open(e);
}

static size_t obs_count(env *e)
{
    wh_read *r = NULL;
    size_t n = 999;
    CHECK(wh_read_begin(e->ctx->wh, &r, NULL) == LT_OK);
    CHECK(wh_obs_count(r, &n) == LT_OK);
    wh_read_end(r);
    return n;
}

/* One entry as text, for comparing: "service|value|status|unit|rev|source|message_id". */
typedef struct found {
    const char *service; /* NULL = any */
    uint64_t pk;
    char text[256];
    int n;
} found;

static int found_cb(void *ctx, const wh_obs *o)
{
    found *f = ctx;
    if (o->period_key != f->pk || (f->service && strcmp(f->service, o->service) != 0))
        return 0;
    char v[32] = "null";
    if (o->has_value)
        snprintf(v, sizeof v, "%g", o->value);
    snprintf(f->text, sizeof f->text, "%s|%s|%s|%s|%llu|%s|%s", o->service, v, o->status,
             o->unit, (unsigned long long)o->rev, o->source, o->message_id);
    f->n++;
    return 0;
}

/* The entry of (indicator, area, period) from service (NULL = any): text "" and n 0 = none. */
static found lookup(env *e, const char *ind, const char *area, const char *period,
                    const char *service)
{
    found f = {service, 0, "", 0};
    ct_period p;
    CHECK(ct_period_parse(period, strlen(period), &p) == 0);
    f.pk = ct_period_sortkey(&p);
    wh_read *r = NULL;
    CHECK(wh_read_begin(e->ctx->wh, &r, NULL) == LT_OK);
    CHECK(wh_obs_scan(r, ind, area, found_cb, &f) == LT_OK);
    wh_read_end(r);
    return f;
}

#define CHECK_ENTRY(e, ind, area, period, svc, want)                                      \
    do {                                                                                  \
        found f_ = lookup(e, ind, area, period, svc);                                     \
        const char *got_ = f_.text;                                                       \
        CHECK_MSG(f_.n == 1, "%s/%s/%s: %d entries", ind, area, period, f_.n);            \
        CHECK_STR(got_, want);                                                            \
    } while (0)

static rg_service *service(env *e, const char *id)
{
    rg_service *svc = NULL;
    CHECK(rg_service_get(e->ctx->rg, id, &svc) == LT_OK);
    return svc;
}

/* Pushes an exchange envelope of records (JSON array text) to a service. */
static lt_err push(env *e, const char *svc_id, const char *mid, const char *records,
                   json_t **result)
{
    char body[4096];
    snprintf(body, sizeof body, "{\"header\":{\"message_id\":\"%s\"},\"records\":%s}", mid,
             records);
    rg_service *svc = service(e, svc_id);
    gw_ingest_opts o = {false, "push", "req-1", "sys-test"};
    lt_errinfo ei = {0};
    *result = NULL;
    lt_err err = svc ? gw_ingest(e->ctx, svc, GW_MEDIA_ENVELOPE, body, strlen(body), &o, result,
                                 NULL, &ei)
                     : LT_E_NOT_FOUND;
    rg_service_release(svc);
    lt_errinfo_clear(&ei);
    return err;
}

static json_int_t member(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static char *meta_doc(env *e)
{
    char *text = NULL;
    size_t len = 0;
    if (wh_doc_get(e->ctx->wh, WH_META, "obs_index", &text, &len) != LT_OK)
        return NULL;
    return text; /* the stored text is NUL-terminated JSON */
}

static void test_empty_start(void)
{
    env e;
    env_open(&e);
    CHECK(obs_count(&e) == 0);
    char *m = meta_doc(&e);
    CHECK(m != NULL);
    json_t *doc = m ? json_loads(m, 0, NULL) : NULL;
    CHECK(member(doc, "version") == 1);
    json_t *svcs = json_object_get(doc, "services");
    CHECK(json_array_size(svcs) == 2);
    CHECK_STR(json_string_value(json_array_get(svcs, 0)), CTS);
    CHECK_STR(json_string_value(json_array_get(svcs, 1)), STC);
    json_decref(doc);
    /* a second start changes nothing, not even the document's time */
    restart(&e);
    char *m2 = meta_doc(&e);
    CHECK_STR(m2, m);
    free(m);
    free(m2);
    env_close(&e);
}

static const char RECS[] =
    "[{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-07\",\"value\":103.25,"
    "\"status\":\"ok\",\"unit\":\"%\"},"
    "{\"indicator\":\"T0501\",\"area\":\"20\",\"period\":\"2026-Q3\",\"value\":13254.5,"
    "\"status\":\"ok\",\"unit\":\"tỷ đồng\"},"
    "{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M08\",\"value\":null,"
    "\"status\":\"no_data\"}]";

static void test_ingest_writes_entries(void)
{
    env e;
    env_open(&e);
    json_t *res = NULL;
    CHECK(push(&e, CTS, "msg-1", RECS, &res) == LT_OK);
    CHECK(member(res, "accepted") == 3);
    json_decref(res);
    CHECK(obs_count(&e) == 3);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", CTS, CTS "|103.25|ok|%|1|push|msg-1");
    CHECK_ENTRY(&e, "T0501", "20", "2026-Q3", CTS, CTS "|13254.5|ok|tỷ đồng|1|push|msg-1");
    CHECK_ENTRY(&e, "CPI", "20", "2026-M08", CTS, CTS "|null|no_data||1|push|msg-1");
    /* the same records again: unchanged, entries untouched (still msg-1) */
    CHECK(push(&e, CTS, "msg-2", RECS, &res) == LT_OK);
    CHECK(member(res, "unchanged") == 3);
    json_decref(res);
    CHECK(obs_count(&e) == 3);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", CTS, CTS "|103.25|ok|%|1|push|msg-1");
    /* one changed: its entry moves to revision 2 */
    CHECK(push(&e, CTS, "msg-3",
               "[{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M07\","
               "\"value\":103.5,\"status\":\"ok\",\"unit\":\"%\"}]",
               &res) == LT_OK);
    CHECK(member(res, "accepted") == 1);
    json_decref(res);
    CHECK(obs_count(&e) == 3);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", CTS, CTS "|103.5|ok|%|2|push|msg-3");
    /* another service reporting the same observation has its own entry */
    CHECK(push(&e, STC, "msg-4",
               "[{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M07\","
               "\"value\":99,\"unit\":\"%\"}]",
               &res) == LT_OK);
    json_decref(res);
    CHECK(obs_count(&e) == 4);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", STC, STC "|99||%|1|push|msg-4");
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", CTS, CTS "|103.5|ok|%|2|push|msg-3");
    /* a rejected record gets no entry; the accepted one does */
    CHECK(push(&e, CTS, "msg-5",
               "[{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-Q5\",\"value\":1},"
               "{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M09\",\"value\":1}]",
               &res) == LT_OK);
    CHECK(member(res, "accepted") == 1 && member(res, "rejected") == 1);
    json_decref(res);
    CHECK(obs_count(&e) == 5);
    env_close(&e);
}

/* A contract version whose indicator is free text: a record that validates but cannot be
 * indexed (code over 128 bytes, or holding 0x1F) is rejected with the reason; the others of
 * the batch are stored and indexed. */
static void test_unindexable_rejected(void)
{
    env e;
    env_open(&e);
    lt_errinfo ei = {0};
    json_t *out = NULL;
    json_t *contract = json_pack(
        "{s:s, s:i, s:s, s:[s,s,s], s:[{s:s, s:s, s:b}, {s:s, s:s, s:b}, {s:s, s:s, s:b},"
        " {s:s, s:s, s:b}]}",
        "id", "indicator-observation", "version", 2, "title", "free-text indicators", "key",
        "indicator", "area", "period", "fields", "name", "indicator", "type", "string",
        "required", 1, "name", "area", "type", "string", "required", 1, "name", "period",
        "type", "period", "required", 1, "name", "value", "type", "number", "nullable", 1);
    CHECK_MSG(rg_contract_create(e.ctx->rg, contract, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(out);
    json_t *svc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:s}", "id", "free-obs",
                            "agency", "000.00.31.H32", "title", "Free", "sharing", "default",
                            "contract", "indicator-observation@2", "source", "mode", "push",
                            "format", "json", "status", "published");
    out = NULL;
    CHECK_MSG(rg_service_create(e.ctx->rg, svc, true, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(out);
    char big[200];
    memset(big, 'I', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    char recs[1024];
    snprintf(recs, sizeof recs,
             "[{\"indicator\":\"%s\",\"area\":\"20\",\"period\":\"2026\",\"value\":1},"
             "{\"indicator\":\"A\\u001fB\",\"area\":\"20\",\"period\":\"2026\"},"
             "{\"indicator\":\"OK\",\"area\":\"20\",\"period\":\"2026\",\"value\":2}]",
             big);
    json_t *res = NULL;
    CHECK(push(&e, "free-obs", "msg-1", recs, &res) == LT_OK);
    CHECK(member(res, "accepted") == 1 && member(res, "rejected") == 2);
    const char *msg = lt_json_str(json_array_get(json_object_get(res, "errors"), 0), "message");
    CHECK(msg && strstr(msg, "not an observation"));
    json_decref(res);
    CHECK(obs_count(&e) == 1);
    CHECK_ENTRY(&e, "OK", "20", "2026", "free-obs", "free-obs|2|||1|push|msg-1");
    json_decref(contract);
    json_decref(svc);
    lt_errinfo_clear(&ei);
    env_close(&e);
}

/* A quarantined record retried with a corrected raw record is indexed like a push. */
static void test_retry_indexes(void)
{
    env e;
    env_open(&e);
    json_t *res = NULL;
    CHECK(push(&e, CTS, "msg-1",
               "[{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-13\",\"value\":7}]",
               &res) == LT_OK);
    CHECK(member(res, "rejected") == 1);
    const char *qid = json_string_value(json_array_get(json_object_get(res, "quarantine"), 0));
    CHECK(qid != NULL);
    CHECK(obs_count(&e) == 0);
    json_t *raw = json_pack("{s:s, s:s, s:s, s:f}", "indicator", "CPI", "area", "20", "period",
                            "2026-12", "value", 7.5);
    rg_service *svc = service(&e, CTS);
    gw_ingest_opts o = {false, "retry", "req-9", NULL};
    json_t *res2 = NULL;
    lt_errinfo ei = {0};
    CHECK(svc && qid &&
          gw_ingest_retry(e.ctx, svc, qid, raw, &o, &res2, &ei) == LT_OK);
    rg_service_release(svc);
    CHECK(obs_count(&e) == 1);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M12", CTS, CTS "|7.5|||1|retry|req-9");
    json_decref(raw);
    json_decref(res);
    json_decref(res2);
    lt_errinfo_clear(&ei);
    env_close(&e);
}

/* Writes records straight into the warehouse, as code without the index did. */
static void put_raw(env *e, const char *svc, const char *key, const char *json)
{
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    wh_put_result res;
    wh_prov prov = {"import", "import-old", "cli"};
    CHECK(wh_batch_begin(e->ctx->wh, &b, &ei) == LT_OK);
    CHECK(wh_batch_put_record(b, svc, key, json, strlen(json), &prov, &res, &ei) == LT_OK);
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
}

static void test_reindex(void)
{
    env e;
    env_open(&e);
    json_t *res = NULL;
    CHECK(push(&e, CTS, "msg-1", RECS, &res) == LT_OK);
    json_decref(res);
    /* records the index never saw, and records that are not observations */
    put_raw(&e, CTS, "POP~20~2025",
            "{\"indicator\":\"POP\",\"area\":\"20\",\"period\":\"2025\",\"value\":812350}");
    put_raw(&e, CTS, "broken", "{\"indicator\":");
    put_raw(&e, CTS, "no-area", "{\"indicator\":\"POP\",\"period\":\"2025\"}");
    put_raw(&e, STC, "CPI~20~2026-M07",
            "{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M07\",\"value\":1}");
    CHECK(obs_count(&e) == 3);
    /* with the meta document in place a start does nothing */
    restart(&e);
    CHECK(obs_count(&e) == 3);
    /* without it (a warehouse written before the index) every service is reindexed */
    CHECK(wh_doc_del(e.ctx->wh, WH_META, "obs_index", NULL) == LT_OK);
    restart(&e);
    CHECK(obs_count(&e) == 5);
    CHECK_ENTRY(&e, "POP", "20", "2025", CTS, CTS "|812350|||1|import|import-old");
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", STC, STC "|1|||1|import|import-old");
    CHECK_ENTRY(&e, "CPI", "20", "2026-M07", CTS, CTS "|103.25|ok|%|1|push|msg-1");
    char *m = meta_doc(&e);
    CHECK(m && strstr(m, CTS) && strstr(m, STC));
    free(m);
    /* a service missing from the document (new since) is reindexed alone: the unindexed cts
     * record stays unindexed, the stc one is picked up */
    const char *only_cts = "{\"services\":[\"" CTS "\"],\"version\":1}";
    CHECK(wh_doc_put(e.ctx->wh, WH_META, "obs_index", only_cts, strlen(only_cts), 0, NULL) ==
          LT_OK);
    put_raw(&e, CTS, "POP~20~2024",
            "{\"indicator\":\"POP\",\"area\":\"20\",\"period\":\"2024\",\"value\":800000}");
    put_raw(&e, STC, "CPI~20~2026-M08",
            "{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"2026-M08\",\"value\":2}");
    restart(&e);
    CHECK(obs_count(&e) == 6);
    CHECK(lookup(&e, "POP", "20", "2024", CTS).n == 0);
    CHECK_ENTRY(&e, "CPI", "20", "2026-M08", STC, STC "|2|||1|import|import-old");
    /* a document of another version counts as absent */
    const char *v2 = "{\"services\":[\"" CTS "\",\"" STC "\"],\"version\":2}";
    CHECK(wh_doc_put(e.ctx->wh, WH_META, "obs_index", v2, strlen(v2), 0, NULL) == LT_OK);
    restart(&e);
    CHECK(obs_count(&e) == 7);
    CHECK_ENTRY(&e, "POP", "20", "2024", CTS, CTS "|800000|||1|import|import-old");
    m = meta_doc(&e);
    CHECK(m && strstr(m, "\"version\":1"));
    free(m);
    env_close(&e);
}

/* More records than one reindex transaction holds. */
static void test_reindex_pages(void)
{
    env e;
    env_open(&e);
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    wh_prov prov = {"import", "bulk", NULL};
    CHECK(wh_batch_begin(e.ctx->wh, &b, &ei) == LT_OK);
    size_t n = 0;
    for (int y = 1200; y < 2200; y++) {
        for (int m = 1; m <= 12; m++, n++) {
            char key[64], json[160];
            snprintf(key, sizeof key, "CPI~20~%d-M%02d", y, m);
            snprintf(json, sizeof json,
                     "{\"indicator\":\"CPI\",\"area\":\"20\",\"period\":\"%d-M%02d\","
                     "\"value\":%d}", y, m, y * 100 + m);
            wh_put_result res;
            CHECK(wh_batch_put_record(b, CTS, key, json, strlen(json), &prov, &res, &ei) ==
                  LT_OK);
        }
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    CHECK(wh_doc_del(e.ctx->wh, WH_META, "obs_index", NULL) == LT_OK);
    restart(&e);
    CHECK(obs_count(&e) == n);
    CHECK(n > 10000);
    CHECK_ENTRY(&e, "CPI", "20", "2199-M12", CTS, CTS "|219912|||1|import|bulk");
    CHECK_ENTRY(&e, "CPI", "20", "1200-M01", CTS, CTS "|120001|||1|import|bulk");
    lt_errinfo_clear(&ei);
    env_close(&e);
}

/* A reindex that cannot write (the map is full) is logged, the context still opens, and the
 * meta document stays absent so the next start does it again. */
static void test_reindex_failure(void)
{
    env e;
    env_open(&e);
    wh_batch *b = NULL;
    lt_errinfo ei = {0};
    CHECK(wh_batch_begin(e.ctx->wh, &b, &ei) == LT_OK);
    size_t n = 0;
    for (int y = 1500; y < 2000; y++, n++) {
        char key[64], json[160];
        snprintf(key, sizeof key, "POP~20~%d", y);
        snprintf(json, sizeof json,
                 "{\"indicator\":\"POP\",\"area\":\"20\",\"period\":\"%d\",\"value\":%d}",
                 y, y);
        wh_put_result res;
        CHECK(wh_batch_put_record(b, CTS, key, json, strlen(json), NULL, &res, &ei) == LT_OK);
    }
    CHECK(wh_batch_commit(b, &ei) == LT_OK);
    CHECK(wh_doc_del(e.ctx->wh, WH_META, "obs_index", NULL) == LT_OK);
    /* LMDB grows a map smaller than the data to exactly the data: no room for the index */
    e.cfg->map_size = 1 << 16;
    restart(&e);
    CHECK(e.ctx != NULL);
    if (!e.ctx) {
        lt_config_free(e.cfg);
        wh_testdir_remove(e.dir);
        return;
    }
    CHECK(obs_count(&e) < n);
    char *m = meta_doc(&e);
    CHECK(m == NULL);
    free(m);
    e.cfg->map_size = 0;
    restart(&e);
    CHECK(obs_count(&e) == n);
    m = meta_doc(&e);
    CHECK(m != NULL);
    free(m);
    lt_errinfo_clear(&ei);
    env_close(&e);
}

int main(void)
{
    LT_RUN(test_contract);
    LT_RUN(test_from_record);
    LT_RUN(test_empty_start);
    LT_RUN(test_ingest_writes_entries);
    LT_RUN(test_retry_indexes);
    LT_RUN(test_unindexable_rejected);
    LT_RUN(test_reindex);
    LT_RUN(test_reindex_pages);
    LT_RUN(test_reindex_failure);
    return lt_test_done();
}
