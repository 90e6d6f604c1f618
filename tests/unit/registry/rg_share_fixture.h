/* rg_share_fixture — what the sharing tests share: a seeded registry with a provider (Sở Tài
 * chính), consumers (Sở Y tế, the IOC), a stranger (Sở Công Thương), their systems, and four
 * services (default, auto_approve, special, draft); callers, bodies and small helpers. */
#ifndef RG_SHARE_FIXTURE_H
#define RG_SHARE_FIXTURE_H

#include "lt_str.h"
#include "rg_fixture.h"
#include "rg_sharing.h"

#define STC_ORG "000.00.15.H32"
#define SYT_ORG "000.00.20.H32"
#define IOC_ORG "000.00.90.H32"
#define SCT_ORG "000.00.21.H32"

static const rg_caller PROVIDER = {STC_ORG, "stc-app", false};
static const rg_caller CONSUMER = {SYT_ORG, "syt-app", false};
static const rg_caller IOC = {IOC_ORG, "ioc-dashboard", false};
static const rg_caller STRANGER = {SCT_ORG, "sct-app", false};
static const rg_caller ADMIN = {"000.00.12.H32", "operator", true};

/* 2026-03-06T02:00:00Z: Friday 09:00 in Vietnam. */
#define NOW_TEXT "2026-03-06T02:00:00Z"
#define UNTIL_TEXT "2027-12-31T00:00:00Z"

#define AGREEMENT_12                                                                                        \
    "{\"parties\": \"Sở Tài chính và Sở Y tế\", \"data\": \"Thu ngân sách theo tháng\", "       \
    "\"place\": \"Trụ sở Sở Y tế\", \"duration\": \"đến hết năm 2027\", \"method\": "         \
    "\"LGSP, API JSON\", \"processing\": \"tổng hợp báo cáo\", \"conditions\": {\"limit\": "          \
    "\"chỉ dùng nội bộ\"}, \"protection\": \"không chia sẻ lại\", \"security\": \"JWT\", "      \
    "\"storage\": \"lưu 5 năm, cả dữ liệu dẫn xuất\", \"deletion\": \"xóa khi hết hạn\", " \
    "\"other\": \"không\"}"

static inline int64_t T(const char *s) /* RFC 3339 → µs; aborts on a typo */
{
    int64_t us = 0;
    if (lt_time_parse(s, strlen(s), &us)) {
        fprintf(stderr, "bad test time %s\n", s);
        abort();
    }
    return us;
}

/* A request body: system, fields (JSON array text), extra members (may be ""). */
static inline json_t *req_body(const char *system, const char *fields, const char *extra)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"system\": \"%s\", \"purpose\": \"Báo cáo chi y tế\", \"usage\": \"Tổng hợp "
             "hằng tháng\", \"fields\": %s, \"record_estimate\": 120, \"frequency\": "
             "\"monthly\", \"valid_until\": \"" UNTIL_TEXT "\"%s}",
             system, fields, extra);
    return J(buf);
}

static inline void add_agency(fx *f, const char *code, const char *name)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{\"code\": \"%s\", \"name\": \"%s\"}", code, name);
    json_t *b = J(buf), *out = NULL;
    lt_errinfo ei = {0};
    CHECK_MSG(rg_agency_create(f->rg, b, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(b);
    json_decref(out);
}

static inline lt_err add_system(fx *f, const char *id, const char *agency, lt_errinfo *ei)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{\"id\": \"%s\", \"agency\": \"%s\", \"name\": \"Hệ thống\"}", id,
             agency);
    json_t *b = J(buf), *out = NULL;
    lt_err e = rg_system_create(f->rg, b, &out, ei);
    json_decref(b);
    json_decref(out);
    return e;
}

/* A service of STC; status published unless draft. */
static inline void add_service(fx *f, const char *id, const char *extra, bool draft)
{
    char members[256];
    snprintf(members, sizeof members, "%s%s", extra, draft ? "" : ", \"status\": \"published\"");
    json_t *def = service_def(id, members), *out = NULL;
    lt_errinfo ei = {0};
    CHECK_MSG(rg_service_create(f->rg, def, true, &out, &ei) == LT_OK, "%s: %s", id, ei.detail);
    json_decref(def);
    json_decref(out);
}

/* Fresh warehouse with everything above. 0 / -1. */
static inline int sx_open(fx *f)
{
    if (fx_open(f) || fx_seed(f))
        return -1;
    add_agency(f, SYT_ORG, "Sở Y tế");
    add_agency(f, IOC_ORG, "Trung tâm IOC");
    add_agency(f, SCT_ORG, "Sở Công Thương");
    add_agency(f, "000.00.12.H32", "Sở KH&CN");
    static const char *const sys[][2] = {{"stc-app", STC_ORG},
                                         {"syt-app", SYT_ORG},
                                         {"syt-other", SYT_ORG},
                                         {"ioc-dashboard", IOC_ORG},
                                         {"sct-app", SCT_ORG}};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        lt_errinfo ei = {0};
        CHECK_MSG(add_system(f, sys[i][0], sys[i][1], &ei) == LT_OK, "%s", ei.detail);
    }
    add_service(f, "stc-thu", "", false);
    add_service(f, "stc-auto", ", \"auto_approve\": true", false);
    add_service(f, "stc-dac-thu", ", \"sharing\": \"special\"", false);
    add_service(f, "stc-nhap", "", true);
    return 0;
}

/* Creates a request; returns its id (static buffer per call site is the caller's). */
static inline lt_err make_request(fx *f, const char *service, const rg_caller *who, json_t *body,
                                  int64_t now, char rid[64], lt_errinfo *ei)
{
    json_t *out = NULL;
    lt_err e = rg_request_create(f->rg, service, who, body, now, &out, ei);
    json_decref(body);
    rid[0] = '\0';
    if (!e)
        lt_strlcpy(rid, json_string_value(json_object_get(out, "id")), 64);
    json_decref(out);
    return e;
}

/* Decides with a body given as text; *out (optional) receives the request. */
static inline lt_err decide(fx *f, const char *rid, const rg_caller *who, const char *body,
                            json_t **out, lt_errinfo *ei)
{
    json_t *b = J(body), *o = NULL;
    lt_err e = rg_request_decide(f->rg, rid, who, b, T(NOW_TEXT), &o, ei);
    json_decref(b);
    if (out)
        *out = o;
    else
        json_decref(o);
    return e;
}

static inline size_t count_kind(fx *f, wh_kind kind)
{
    json_t *items = NULL;
    char *next = NULL;
    lt_errinfo ei = {0};
    CHECK(rg_list(f->rg, kind, NULL, 1000, &items, &next, &ei) == LT_OK);
    size_t n = json_array_size(items);
    json_decref(items);
    free(next);
    return n;
}

static inline const char *V(const char *buf) /* a char array as a pointer, for CHECK_STR */
{
    return buf;
}

static inline const char *S(const json_t *obj, const char *key) /* borrowed string member or "" */
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* got == want and, when needle is not NULL, ei->detail contains it. */
static inline void check_err(int line, lt_err got, lt_err want, const lt_errinfo *ei,
                             const char *needle)
{
    bool ok = got == want && (!needle || strstr(ei->detail, needle));
    if (ok) {
        lt_test_pass++;
        return;
    }
    lt_test_fail++;
    fprintf(stderr, "line %d: got %d want %d, detail '%s'%s%s\n", line, got, want, ei->detail,
            needle ? " should contain " : "", needle ? needle : "");
}
#define CHECK_ERR(got, want, ei, needle) check_err(__LINE__, (got), (want), (ei), (needle))

#endif
