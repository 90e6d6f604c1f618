/* Registry: agencies, code lists, contracts, services (create/update/status/snapshots),
 * listing with cursors and the catalog. Each test runs on a fresh warehouse. */
#include <pthread.h>

#include "rg_fixture.h"

typedef struct row {
    const char *body;
    lt_err want;
    const char *detail; /* substring of ei.detail, or NULL */
} row;

static void check_row(const char *what, size_t i, lt_err got, const lt_errinfo *ei,
                      const row *r)
{
    CHECK_MSG(got == r->want, "%s row %zu: got %d want %d (%s)", what, i, got, r->want,
              ei->detail);
    if (r->detail)
        CHECK_MSG(strstr(ei->detail, r->detail) != NULL, "%s row %zu: '%s' lacks '%s'", what,
                  i, ei->detail, r->detail);
}

/* Lists kind page by page with limit 2; returns the number of items, checks id order. */
static size_t list_all(rg_registry *rg, wh_kind kind, const char *idkey)
{
    size_t total = 0, pages = 0;
    char *cursor = NULL, last[256] = "";
    do {
        json_t *items = NULL;
        char *next = NULL;
        lt_errinfo ei = {0};
        CHECK(rg_list(rg, kind, cursor, 2, &items, &next, &ei) == LT_OK);
        CHECK(json_array_size(items) <= 2);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            const char *id = json_string_value(json_object_get(it, idkey));
            CHECK(id && strcmp(id, last) > 0);
            snprintf(last, sizeof last, "%s", id ? id : "");
        }
        total += json_array_size(items);
        json_decref(items);
        free(cursor);
        cursor = next;
        pages++;
    } while (cursor && pages < 100);
    return total;
}

static void test_agencies(void)
{
    static const row rows[] = {
        {ROOT_AGENCY, LT_OK, NULL},
        {STC_AGENCY, LT_OK, NULL},
        {ROOT_AGENCY, LT_E_CONFLICT, "already exists"},
        {"{\"code\": \"000.00.16.H32\", \"name\": \"X\", \"colour\": 1}", LT_E_INVALID,
         "unknown field 'colour'"},
        {"{\"code\": \"abc\", \"name\": \"X\"}", LT_E_INVALID, "agency.code"},
        {"{\"code\": \"000.00.16.H32\"}", LT_E_INVALID, "'name' is required"},
        {"{\"code\": \"000.00.16.H32\", \"name\": \"X\", \"parent\": \"999\"}", LT_E_INVALID,
         "agency.parent"},
        {"{\"code\": \"000.00.16.H32\", \"name\": \"X\", \"contact\": \"me\"}", LT_E_INVALID,
         "agency.contact"},
        {"{\"code\": \"000.00.16.H32\", \"name\": \"X\", \"contact\": {\"fax\": \"1\"}}",
         LT_E_INVALID, "agency.contact: unknown field 'fax'"},
        {"{\"code\": \"000.00.16.H32\", \"name\": \"X\", \"contact\": {}}", LT_OK, NULL},
        {"[1]", LT_E_INVALID, "must be an object"},
    };
    fx f;
    if (fx_open(&f))
        {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *b = J(rows[i].body), *out = NULL;
        lt_errinfo ei = {0};
        check_row("agency", i, rg_agency_create(f.rg, b, &out, &ei), &ei, &rows[i]);
        if (rows[i].want == LT_OK)
            CHECK(json_string_value(json_object_get(out, "created_at")) != NULL);
        json_decref(b);
        json_decref(out);
        lt_errinfo_clear(&ei);
    }
    CHECK(rg_agency_exists(f.rg, "000.00.15.H32"));
    CHECK(!rg_agency_exists(f.rg, "000.00.99.H32"));
    CHECK(list_all(f.rg, WH_AGENCIES, "code") == 3);
    json_t *doc = NULL;
    CHECK(rg_doc_get(f.rg, WH_AGENCIES, "000.00.15.H32", &doc) == LT_OK);
    CHECK_STR(json_string_value(json_object_get(doc, "parent")), "000.00.00.H32");
    json_decref(doc);
    CHECK(rg_doc_get(f.rg, WH_AGENCIES, "nope", &doc) == LT_E_NOT_FOUND);
    fx_close(&f);
}

static void test_codelists(void)
{
    fx f;
    if (fx_open(&f))
        {
        CHECK(0);
        return;
    }
    static const struct {
        const char *path_id, *body;
        lt_err want;
        bool created;
    } rows[] = {
        {"areas", CL_AREAS, LT_OK, true},
        {"areas", "{\"title\": \"Areas\", \"codes\": [{\"code\": \"20\", \"name\": \"LS\"}]}",
         LT_OK, false},
        {"other", CL_AREAS, LT_E_INVALID, false},
        {"bad id!", "{\"title\": \"T\", \"codes\": []}", LT_E_INVALID, false},
        {"units", "{\"title\": \"T\", \"codes\": [{\"code\": \"kg\", \"name\": \"kg\"}]}",
         LT_OK, true},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *b = J(rows[i].body), *out = NULL;
        lt_errinfo ei = {0};
        bool created = !rows[i].created;
        lt_err e = rg_codelist_put(f.rg, rows[i].path_id, b, &created, &out, &ei);
        CHECK_MSG(e == rows[i].want, "codelist row %zu: %d (%s)", i, e, ei.detail);
        if (e == LT_OK) {
            CHECK(created == rows[i].created);
            CHECK_STR(json_string_value(json_object_get(out, "id")), rows[i].path_id);
        }
        json_decref(b);
        json_decref(out);
        lt_errinfo_clear(&ei);
    }
    /* The second PUT replaced the list: 20101 is gone. */
    static const struct { const char *list, *code; bool want; } codes[] = {
        {"areas", "20", true}, {"areas", "20101", false}, {"units", "kg", true},
        {"units", "20", false}, {"nope", "20", false}, {"areas", "", false},
    };
    for (int pass = 0; pass < 2; pass++) { /* before and after reloading from the warehouse */
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
            CHECK_MSG(rg_code_exists(f.rg, codes[i].list, codes[i].code) == codes[i].want,
                      "pass %d code %s/%s", pass, codes[i].list, codes[i].code);
        CHECK(fx_reopen(&f) == LT_OK);
    }
    CHECK(list_all(f.rg, WH_CODELISTS, "id") == 2);
    fx_close(&f);
}

static void test_contracts(void)
{
    static const row rows[] = {
        {CONTRACT_IO, LT_OK, NULL},
        {CONTRACT_IO, LT_E_CONFLICT, "immutable"},
        {"{\"id\": \"c2\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"code\", \"codelist\": \"missing\", \"required\": true}]}",
         LT_E_INVALID, "missing"},
        {"{\"id\": \"c3\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}], \"colour\": 1}",
         LT_E_INVALID, "colour"},
        {"{\"id\": \"c4\", \"version\": 2, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}]}",
         LT_OK, NULL},
    };
    fx f;
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    for (size_t i = 1; i < sizeof rows / sizeof rows[0]; i++) { /* row 0 is in the seed */
        json_t *b = J(rows[i].body), *out = NULL;
        lt_errinfo ei = {0};
        check_row("contract", i, rg_contract_create(f.rg, b, &out, &ei), &ei, &rows[i]);
        json_decref(b);
        json_decref(out);
        lt_errinfo_clear(&ei);
    }
    for (int pass = 0; pass < 2; pass++) {
        const ct_contract *c = NULL;
        CHECK(rg_contract_get(f.rg, "indicator-observation@1", &c) == LT_OK);
        CHECK(c && c->nfields == 5 && strcmp(c->ref, "indicator-observation@1") == 0);
        CHECK(rg_contract_get(f.rg, "c4@2", &c) == LT_OK);
        CHECK(rg_contract_get(f.rg, "c4@1", &c) == LT_E_NOT_FOUND);
        CHECK(rg_contract_get(f.rg, "c2@1", &c) == LT_E_NOT_FOUND);
        CHECK(fx_reopen(&f) == LT_OK);
    }
    CHECK(list_all(f.rg, WH_CONTRACTS, "id") == 2);
    fx_close(&f);
}

static void test_service_create(void)
{
    static const struct {
        const char *id, *extra;
        lt_err want;
        const char *detail;
    } rows[] = {
        {"stc-thu", "", LT_OK, NULL},
        {"stc-thu", "", LT_E_CONFLICT, "already exists"},
        {"s-colour", ", \"colour\": 1", LT_E_INVALID, "service: unknown field 'colour'"},
        {"Bad_Id", "", LT_E_INVALID, "service.id"},
        {"s-status", ", \"status\": \"published\"", LT_E_INVALID, "service.status"},
        {"s-freq", ", \"docs_url\": \"https://x\", \"auto_approve\": \"yes\"", LT_E_INVALID,
         "auto_approve"},
    };
    fx f;
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *b = service_def(rows[i].id, rows[i].extra), *out = NULL;
        lt_errinfo ei = {0};
        lt_err e = rg_service_create(f.rg, b, false, &out, &ei);
        CHECK_MSG(e == rows[i].want, "service row %zu: %d (%s)", i, e, ei.detail);
        if (rows[i].detail)
            CHECK_MSG(strstr(ei.detail, rows[i].detail), "row %zu: %s", i, ei.detail);
        if (e == LT_OK) {
            CHECK_STR(json_string_value(json_object_get(out, "status")), "draft");
            CHECK(json_string_value(json_object_get(out, "created_at")) != NULL);
            CHECK(json_string_value(json_object_get(out, "updated_at")) != NULL);
        }
        json_decref(b);
        json_decref(out);
        lt_errinfo_clear(&ei);
    }
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK(s && strcmp(s->status, "draft") == 0 && strcmp(s->format, "json") == 0);
    CHECK(s && strcmp(s->mode, "push") == 0 && s->mapping && s->contract);
    CHECK(s && strcmp(s->agency, "000.00.15.H32") == 0 && !s->auto_approve);
    rg_service_release(s);
    CHECK(rg_service_get(f.rg, "s-colour", &s) == LT_E_NOT_FOUND);
    rg_service_release(NULL);
    fx_close(&f);
}

static const row invalid_services[] = {
    {"{\"id\": \"a\", \"agency\": \"000.00.99.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"json\"}}",
     LT_E_INVALID, "service.agency"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"nope@1\", \"source\": {\"mode\": \"push\", \"format\": \"json\"}}",
     LT_E_INVALID, "service.contract"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"json\"}, "
     "\"mapping\": {\"fields\": {\"bogus\": {\"const\": 1}}}}",
     LT_E_INVALID,
     "mapping.fields.bogus: not a field of contract indicator-observation@1"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"pull\", \"format\": \"json\"}}",
     LT_E_INVALID, "'url' is required"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"json\", "
     "\"sauce\": 1}}",
     LT_E_INVALID, "service.source: unknown field 'sauce'"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"pull\", \"format\": \"json\", "
     "\"url\": \"http://x\", \"auth\": {\"type\": \"basic\", \"username\": \"u\"}}}",
     LT_E_INVALID, "password_file"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"pull\", \"format\": \"json\", "
     "\"url\": \"http://x\", \"auth\": {\"type\": \"none\", \"pin\": \"1\"}}}",
     LT_E_INVALID, "service.source.auth: unknown field 'pin'"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"yaml\"}}",
     LT_E_INVALID, "service.source.format"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"frequency\": \"hourly\", \"source\": {\"mode\": "
     "\"push\", \"format\": \"json\"}}",
     LT_E_INVALID, "service.frequency"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"sharing\": \"public\", \"source\": {\"mode\": "
     "\"push\", \"format\": \"json\"}}",
     LT_E_INVALID, "service.sharing"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"csv\"}}",
     LT_E_INVALID, "'mapping' is required"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"pull\", \"format\": \"json\", "
     "\"url\": \"http://x\", \"interval_s\": 0}}",
     LT_E_INVALID, "interval_s"},
    {"{\"id\": \"a\", \"agency\": \"000.00.15.H32\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"push\", \"format\": \"json\"}}",
     LT_E_INVALID, "'title' is required"},
    {"{\"id\": \"ok-pull\", \"agency\": \"000.00.15.H32\", \"title\": \"T\", \"contract\": "
     "\"indicator-observation@1\", \"source\": {\"mode\": \"pull\", \"format\": \"json\", "
     "\"url\": \"http://x\", \"interval_s\": 60, \"timeout_ms\": 500, \"params\": {}, "
     "\"auth\": {\"type\": \"bearer\", \"token_file\": \"t\"}}}",
     LT_OK, NULL},
};

/* Whole definitions that break one rule each (the text replaces the default one). */
static void test_service_invalid(void)
{
    fx f;
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof invalid_services / sizeof invalid_services[0]; i++) {
        json_t *b = J(invalid_services[i].body), *out = NULL;
        lt_errinfo ei = {0};
        check_row("service", i, rg_service_create(f.rg, b, false, &out, &ei), &ei, &invalid_services[i]);
        json_decref(b);
        json_decref(out);
        lt_errinfo_clear(&ei);
    }
    fx_close(&f);
}

static lt_err set_status(fx *f, const char *id, const char *body, lt_errinfo *ei)
{
    json_t *b = J(body), *out = NULL;
    lt_err e = rg_service_set_status(f->rg, id, b, &out, ei);
    json_decref(b);
    json_decref(out);
    return e;
}

static const struct {
    const char *path[3]; /* statuses applied first */
    const char *body;
    lt_err want;
} transitions[] = {
    {{NULL}, "{\"status\": \"published\"}", LT_OK},
    {{NULL}, "{\"status\": \"suspended\"}", LT_E_CONFLICT},
    {{NULL}, "{\"status\": \"retired\"}", LT_OK},
    {{"published"}, "{\"status\": \"suspended\", \"reason\": \"maintenance\"}", LT_OK},
    {{"published"}, "{\"status\": \"published\"}", LT_E_CONFLICT},
    {{"published"}, "{\"status\": \"retired\"}", LT_OK},
    {{"published", "suspended"}, "{\"status\": \"published\"}", LT_OK},
    {{"published", "suspended"}, "{\"status\": \"retired\"}", LT_OK},
    {{"retired"}, "{\"status\": \"published\"}", LT_E_CONFLICT},
    {{"retired"}, "{\"status\": \"retired\"}", LT_E_CONFLICT},
    {{"published", "retired"}, "{\"status\": \"suspended\"}", LT_E_CONFLICT},
    {{NULL}, "{\"status\": \"draft\"}", LT_E_INVALID},
    {{NULL}, "{\"status\": \"deleted\"}", LT_E_INVALID},
    {{NULL}, "{\"status\": \"published\", \"why\": 1}", LT_E_INVALID},
    {{NULL}, "{\"status\": \"published\", \"effective_at\": \"tomorrow\"}", LT_E_INVALID},
    {{NULL}, "{\"reason\": \"x\"}", LT_E_INVALID},
};

static void test_status_transitions(void)
{
    fx f;
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
        char id[32], body[64];
        lt_errinfo ei = {0};
        snprintf(id, sizeof id, "svc-%zu", i);
        json_t *def = service_def(id, ""), *out = NULL;
        CHECK(rg_service_create(f.rg, def, false, &out, &ei) == LT_OK);
        json_decref(def);
        json_decref(out);
        for (size_t k = 0; k < 3 && transitions[i].path[k]; k++) {
            snprintf(body, sizeof body, "{\"status\": \"%s\"}", transitions[i].path[k]);
            CHECK(set_status(&f, id, body, &ei) == LT_OK);
        }
        lt_err e = set_status(&f, id, transitions[i].body, &ei);
        CHECK_MSG(e == transitions[i].want, "status row %zu: %d (%s)", i, e, ei.detail);
        lt_errinfo_clear(&ei);
    }
    lt_errinfo ei = {0};
    CHECK(set_status(&f, "nope", "{\"status\": \"published\"}", &ei) == LT_E_NOT_FOUND);
    lt_errinfo_clear(&ei);
    /* reason and effective_at are recorded (normalised to UTC). */
    CHECK(set_status(&f, "svc-0", "{\"status\": \"suspended\", \"reason\": \"bảo trì\", "
                     "\"effective_at\": \"2026-12-01T08:00:00+07:00\"}", &ei) == LT_OK);
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "svc-0", &s) == LT_OK);
    CHECK_STR(s->status, "suspended");
    CHECK_STR(json_string_value(json_object_get(s->def, "status_reason")), "bảo trì");
    CHECK_STR(json_string_value(json_object_get(s->def, "status_effective_at")),
              "2026-12-01T01:00:00Z");
    rg_service_release(s);
    CHECK(fx_reopen(&f) == LT_OK);
    CHECK(rg_service_get(f.rg, "svc-0", &s) == LT_OK);
    CHECK_STR(s->status, "suspended");
    CHECK(s->mapping != NULL);
    rg_service_release(s);
    fx_close(&f);
}

static void test_snapshots_and_update(void)
{
    fx f;
    lt_errinfo ei = {0};
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    json_t *def = service_def("stc-thu", ""), *out = NULL;
    CHECK(rg_service_create(f.rg, def, false, &out, &ei) == LT_OK);
    json_decref(def);
    CHECK(set_status(&f, "stc-thu", "{\"status\": \"published\"}", &ei) == LT_OK);
    rg_service *old = NULL, *cur = NULL;
    CHECK(rg_service_get(f.rg, "stc-thu", &old) == LT_OK);
    /* A client sends back what it read, with a new title: accepted, status kept. */
    json_t *back = NULL;
    json_decref(out);
    CHECK(rg_doc_get(f.rg, WH_SERVICES, "stc-thu", &back) == LT_OK);
    json_object_set_new(back, "title", json_string("Thu NSNN (mới)"));
    CHECK_MSG(rg_service_update(f.rg, "stc-thu", back, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(out);
    CHECK(rg_service_get(f.rg, "stc-thu", &cur) == LT_OK);
    CHECK_STR(old->title, "Thu ngân sách"); /* the old snapshot is intact */
    CHECK(old->mapping != NULL && old->contract == cur->contract);
    CHECK_STR(cur->title, "Thu NSNN (mới)");
    CHECK_STR(cur->status, "published");
    rg_service_release(old);
    /* A status change also publishes a new snapshot; cur stays valid. */
    CHECK(set_status(&f, "stc-thu", "{\"status\": \"suspended\"}", &ei) == LT_OK);
    CHECK_STR(cur->status, "published");
    rg_service_release(cur);
    static const struct { const char *key, *value; lt_err want; } rows[] = {
        {"id", "\"other\"", LT_E_INVALID},       {"agency", "\"000.00.00.H32\"", LT_E_INVALID},
        {"status", "\"published\"", LT_E_INVALID}, {"created_at", "\"2020\"", LT_E_INVALID},
        {"colour", "1", LT_E_INVALID},            {"description", "\"mô tả\"", LT_OK},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        json_t *b = service_def("stc-thu", "");
        json_object_set_new(b, rows[i].key, J(rows[i].value));
        lt_err e = rg_service_update(f.rg, "stc-thu", b, &out, &ei);
        CHECK_MSG(e == rows[i].want, "update row %zu: %d (%s)", i, e, ei.detail);
        if (e)
            CHECK_MSG(strstr(ei.detail, rows[i].key), "row %zu: %s", i, ei.detail);
        json_decref(b);
        json_decref(out);
        out = NULL;
    }
    json_t *b = service_def("stc-thu", "");
    CHECK(rg_service_update(f.rg, "nope", b, &out, &ei) == LT_E_NOT_FOUND);
    CHECK(set_status(&f, "stc-thu", "{\"status\": \"retired\"}", &ei) == LT_OK);
    CHECK(rg_service_update(f.rg, "stc-thu", b, &out, &ei) == LT_E_CONFLICT);
    json_decref(b);
    json_decref(back);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

static void make_service(fx *f, const char *id, const char *extra, const char *status)
{
    lt_errinfo ei = {0};
    char body[64];
    json_t *def = service_def(id, extra), *out = NULL;
    CHECK_MSG(rg_service_create(f->rg, def, false, &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(def);
    json_decref(out);
    if (status) {
        snprintf(body, sizeof body, "{\"status\": \"%s\"}", status);
        CHECK(set_status(f, id, body, &ei) == LT_OK);
    }
    lt_errinfo_clear(&ei);
}

static const struct {
    rg_catalog_filter f;
    const char *want; /* ids joined by ',' */
} catalog_rows[] = {
    {{NULL, NULL, NULL, NULL}, "a-special,b-pull"},
    {{"000.00.31.H32", NULL, NULL, NULL}, "a-special"},
    {{NULL, NULL, "default", NULL}, "b-pull"},
    {{NULL, "indicator-observation@1", NULL, NULL}, "a-special,b-pull"},
    {{NULL, "indicator-observation", NULL, NULL}, "a-special,b-pull"},
    {{NULL, "indicator-observation@2", NULL, NULL}, ""},
    {{NULL, NULL, NULL, "NGÂN SÁCH"}, "b-pull"},
    {{NULL, NULL, NULL, "dân"}, "a-special"},
    {{NULL, NULL, NULL, "B-PU"}, "b-pull"},
    {{NULL, NULL, NULL, "số liệu"}, "a-special,b-pull"},
    {{NULL, NULL, NULL, "xyz"}, ""},
    {{"000.00.15.H32", NULL, "special", NULL}, ""},
};

static void test_catalog(void)
{
    fx f;
    if (fx_open(&f) || fx_seed(&f))
        {
        CHECK(0);
        return;
    }
    json_t *ag = J("{\"code\": \"000.00.31.H32\", \"name\": \"Thống kê\"}"), *out = NULL;
    lt_errinfo ei = {0};
    CHECK(rg_agency_create(f.rg, ag, &out, &ei) == LT_OK);
    json_decref(ag);
    json_decref(out);
    make_service(&f, "b-pull", "", "published");
    json_t *d = service_def("a-special", "");
    json_object_set_new(d, "agency", json_string("000.00.31.H32"));
    json_object_set_new(d, "sharing", json_string("special"));
    json_object_set_new(d, "title", json_string("Dân số"));
    json_object_set_new(d, "source", J("{\"mode\": \"pull\", \"format\": \"json\", \"url\": "
                                       "\"http://x\", \"auth\": {\"type\": \"basic\", "
                                       "\"username\": \"u\", \"password_file\": \"/p\"}}"));
    CHECK(rg_service_create(f.rg, d, false, &out, &ei) == LT_OK);
    json_decref(d);
    json_decref(out);
    CHECK(set_status(&f, "a-special", "{\"status\": \"published\"}", &ei) == LT_OK);
    make_service(&f, "c-draft", "", NULL);
    make_service(&f, "d-suspended", "", "published");
    CHECK(set_status(&f, "d-suspended", "{\"status\": \"suspended\"}", &ei) == LT_OK);
    for (size_t i = 0; i < sizeof catalog_rows / sizeof catalog_rows[0]; i++) {
        json_t *items = NULL;
        char got[256] = "";
        size_t k, len = 0;
        json_t *it;
        CHECK(rg_catalog(f.rg, &catalog_rows[i].f, &items, &ei) == LT_OK);
        json_array_foreach(items, k, it) {
            len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", k ? "," : "",
                                    json_string_value(json_object_get(it, "id")));
            CHECK_STR(json_string_value(json_object_get(it, "contract_title")),
                      "Indicator observation");
            json_t *auth = json_object_get(json_object_get(it, "source"), "auth");
            CHECK(!auth || (json_object_size(auth) == 1 && json_object_get(auth, "type")));
        }
        CHECK_MSG(strcmp(got, catalog_rows[i].want) == 0, "catalog row %zu: '%s' want '%s'", i, got,
                  catalog_rows[i].want);
        json_decref(items);
    }
    json_t *items = NULL;
    CHECK(rg_catalog(f.rg, NULL, &items, &ei) == LT_OK && json_array_size(items) == 2);
    json_decref(items);
    /* The stored document keeps the auth details; only the catalog drops them. */
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "a-special", &s) == LT_OK);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(s->def, "source"), "auth"), "password_file")),
              "/p");
    rg_service_release(s);
    CHECK(list_all(f.rg, WH_SERVICES, "id") == 4);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

/* Readers take and release snapshots and test codes while a writer replaces both. */
typedef struct race {
    rg_registry *rg;
    int stop;
    long reads, bad;
} race;

static void *race_reader(void *p)
{
    race *r = p;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        rg_service *s = NULL;
        if (rg_service_get(r->rg, "stc-thu", &s) != LT_OK || strncmp(s->title, "v", 1) != 0 ||
            strcmp(s->id, "stc-thu") != 0 || !s->mapping)
            r->bad++;
        rg_service_release(s);
        if (!rg_code_exists(r->rg, "areas", "20"))
            r->bad++;
        r->reads++;
    }
    return NULL;
}

static void test_concurrent_readers(void)
{
    enum { READERS = 4, WRITES = 30 };
    fx f;
    lt_errinfo ei = {0};
    if (fx_open(&f) || fx_seed(&f)) {
        CHECK(0);
        return;
    }
    make_service(&f, "stc-thu", ", \"description\": \"x\"", NULL);
    json_t *b = service_def("stc-thu", ""), *out = NULL;
    json_object_set_new(b, "title", json_string("v0"));
    CHECK(rg_service_update(f.rg, "stc-thu", b, &out, &ei) == LT_OK);
    json_decref(out);
    race r[READERS];
    pthread_t th[READERS];
    for (int i = 0; i < READERS; i++) {
        r[i] = (race){f.rg, 0, 0, 0};
        CHECK(pthread_create(&th[i], NULL, race_reader, &r[i]) == 0);
    }
    for (int w = 1; w <= WRITES; w++) {
        char title[16], list[160];
        bool created;
        snprintf(title, sizeof title, "v%d", w);
        json_object_set_new(b, "title", json_string(title));
        CHECK(rg_service_update(f.rg, "stc-thu", b, &out, &ei) == LT_OK);
        json_decref(out);
        snprintf(list, sizeof list, "{\"title\": \"A\", \"codes\": [{\"code\": \"20\", "
                 "\"name\": \"LS\"}, {\"code\": \"x%d\", \"name\": \"x\"}]}", w);
        json_t *cl = J(list);
        CHECK(rg_codelist_put(f.rg, "areas", cl, &created, &out, &ei) == LT_OK);
        json_decref(cl);
        json_decref(out);
    }
    for (int i = 0; i < READERS; i++) {
        __atomic_store_n(&r[i].stop, 1, __ATOMIC_RELEASE);
        pthread_join(th[i], NULL);
        CHECK_MSG(r[i].bad == 0 && r[i].reads > 0, "reader %d: %ld bad of %ld", i, r[i].bad,
                  r[i].reads);
    }
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK_STR(s->title, "v30");
    rg_service_release(s);
    CHECK(rg_code_exists(f.rg, "areas", "x30") && !rg_code_exists(f.rg, "areas", "x29"));
    json_decref(b);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

int main(void)
{
    LT_RUN(test_agencies);
    LT_RUN(test_codelists);
    LT_RUN(test_contracts);
    LT_RUN(test_service_create);
    LT_RUN(test_service_invalid);
    LT_RUN(test_status_transitions);
    LT_RUN(test_snapshots_and_update);
    LT_RUN(test_catalog);
    LT_RUN(test_concurrent_readers);
    return lt_test_done();
}
