/* rg_fixture — a fresh warehouse + registry per test, and the definitions the registry tests
 * share (the API.md §5 examples, trimmed). Included by tests/unit/registry/test_*.c only. */
#ifndef RG_FIXTURE_H
#define RG_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lt_test.h"
#include "rg.h"

typedef struct fx {
    char dir[64];
    wh_env *env;
    rg_registry *rg;
} fx;

static json_t *J(const char *text) /* new reference; aborts the test run on a typo */
{
    json_error_t je;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &je);
    if (!v) {
        fprintf(stderr, "bad test JSON (line %d): %s\n%s\n", je.line, je.text, text);
        abort();
    }
    return v;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp on "/tmp/<prefix>-" plus the six template characters it replaces. NULL on error. */
static char *temp_dir(char *buf, size_t size, const char *prefix)
{
    int n = snprintf(buf, size, "/tmp/%s-", prefix);
    if (n < 0 || (size_t)n + 7 > size)
        return NULL;
    memset(buf + n, 'X', 6);
    buf[n + 6] = '\0';
    return mkdtemp(buf);
}

static int fx_reopen(fx *f)
{
    lt_errinfo ei = {0};
    rg_close(f->rg);
    f->rg = NULL;
    lt_err e = rg_open(f->env, &f->rg, &ei);
    if (e)
        fprintf(stderr, "rg_open: %s\n", ei.detail);
    lt_errinfo_clear(&ei);
    return e;
}

static int fx_open(fx *f)
{
    lt_errinfo ei = {0};
    memset(f, 0, sizeof *f);
    if (!temp_dir(f->dir, sizeof f->dir, "rg-test") || wh_open(f->dir, 64u << 20, &f->env, &ei)) {
        fprintf(stderr, "fixture: %s\n", ei.detail);
        lt_errinfo_clear(&ei);
        return -1;
    }
    return fx_reopen(f);
}

static void fx_close(fx *f)
{
    rg_close(f->rg);
    wh_close(f->env);
    rm_tree(f->dir);
}

#define ROOT_AGENCY "{\"code\": \"000.00.00.H32\", \"name\": \"UBND tỉnh\"}"
#define STC_AGENCY                                                                         \
    "{\"code\": \"000.00.15.H32\", \"name\": \"Sở Tài chính\", \"parent\": \"000.00.00.H32\"," \
    " \"contact\": {\"name\": \"A\", \"position\": \"B\", \"phone\": \"1\", \"email\": \"e\"}}"
#define CL_AREAS                                                                              \
    "{\"id\": \"areas\", \"title\": \"Areas\", \"codes\": [{\"code\": \"20\", \"name\": \"Lạng " \
    "Sơn\"}, {\"code\": \"20101\", \"name\": \"Phường\", \"parent\": \"20\"}]}"
#define CL_INDICATORS                                                                    \
    "{\"id\": \"indicators\", \"title\": \"Indicators\", \"codes\": [{\"code\": \"THU_NSNN\", " \
    "\"name\": \"Thu\"}, {\"code\": \"T0501\", \"name\": \"GRDP\"}]}"
#define CONTRACT_IO                                                                        \
    "{\"id\": \"indicator-observation\", \"version\": 1, \"title\": \"Indicator observation\"," \
    " \"key\": [\"indicator\", \"area\", \"period\"], \"fields\": ["                          \
    "{\"name\": \"indicator\", \"type\": \"code\", \"codelist\": \"indicators\", "           \
    "\"required\": true},"                                                                  \
    "{\"name\": \"area\", \"type\": \"code\", \"codelist\": \"areas\", \"required\": true},"  \
    "{\"name\": \"period\", \"type\": \"period\", \"required\": true},"                      \
    "{\"name\": \"value\", \"type\": \"number\", \"nullable\": true},"                       \
    "{\"name\": \"unit\", \"type\": \"string\", \"max_length\": 32}]}"

/* A push/json service; %s slots: id, extra members (may be ""). */
#define SERVICE_FMT                                                                         \
    "{\"id\": \"%s\", \"agency\": \"000.00.15.H32\", \"title\": \"Thu ngân sách\", "         \
    "\"description\": \"Số liệu thu\", \"sharing\": \"default\", "                           \
    "\"contract\": \"indicator-observation@1\", \"frequency\": \"monthly\", "                \
    "\"source\": {\"mode\": \"push\", \"format\": \"json\"}, "                                \
    "\"mapping\": {\"records\": \"/data\", \"fields\": {\"indicator\": {\"const\": "          \
    "\"THU_NSNN\"}, \"area\": {\"path\": \"/dia_ban\"}, \"period\": {\"path\": \"/ky\"}, "    \
    "\"value\": {\"path\": \"/gia_tri\", \"type\": \"number\"}}}%s}"

static json_t *service_def(const char *id, const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf, SERVICE_FMT, id, extra);
    return J(buf);
}

/* Agencies, code lists and the contract every service test needs. */
static int fx_seed(fx *f)
{
    const char *agencies[] = {ROOT_AGENCY, STC_AGENCY};
    const char *lists[] = {CL_AREAS, CL_INDICATORS};
    lt_errinfo ei = {0};
    int bad = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *b = J(agencies[i]), *out = NULL;
        bad |= rg_agency_create(f->rg, b, &out, &ei) != LT_OK;
        json_decref(b);
        json_decref(out);
    }
    for (size_t i = 0; i < 2; i++) {
        json_t *b = J(lists[i]), *out = NULL;
        bool created;
        bad |= rg_codelist_put(f->rg, NULL, b, &created, &out, &ei) != LT_OK;
        json_decref(b);
        json_decref(out);
    }
    json_t *c = J(CONTRACT_IO), *out = NULL;
    bad |= rg_contract_create(f->rg, c, &out, &ei) != LT_OK;
    json_decref(c);
    json_decref(out);
    if (bad)
        fprintf(stderr, "fx_seed: %s\n", ei.detail);
    lt_errinfo_clear(&ei);
    return bad ? -1 : 0;
}

#endif
