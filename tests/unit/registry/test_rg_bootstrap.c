/* Registry bootstrap: loading a folder into an empty warehouse, never overwriting API changes,
 * dry runs that store nothing, and errors that carry FILE:LINE:COL. */
#include "rg_fixture.h"
#include "rg_sharing.h"

#define AGENCIES_OK                                                                        \
    "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"                               \
    "{\"code\": \"000.00.15.H32\", \"name\": \"STC\", \"parent\": \"000.00.00.H32\"}\n]\n"
#define SYSTEMS_OK                                                                         \
    "[\n{\"id\": \"stc-app\", \"agency\": \"000.00.15.H32\", \"name\": \"Ngân sách\"},\n"   \
    "{\"id\": \"ubnd-app\", \"agency\": \"000.00.00.H32\", \"name\": \"Điều hành\", "         \
    "\"description\": \"Báo cáo\"}\n]\n"
#define INDICATORS_OK                                                                      \
    "[\n{\"code\": \"THU_NSNN\", \"name\": \"Thu\", \"unit\": \"tỷ đồng\", \"direction\": " \
    "\"up\", \"aggregation\": \"sum\", \"agency\": \"000.00.15.H32\", \"targets\": []}\n]\n"

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* A complete, valid bootstrap folder in a new temp dir. */
static void make_folder(char dir[64])
{
    static const char *const subs[] = {"codelists", "contracts", "services"};
    char path[256], svc[4096];
    CHECK(temp_dir(dir, 64, "rg-boot") != NULL);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        CHECK(mkdir(path, 0700) == 0);
    }
    write_file(dir, "agencies.json", AGENCIES_OK);
    write_file(dir, "systems.json", SYSTEMS_OK);
    write_file(dir, "codelists/areas.json", CL_AREAS);
    write_file(dir, "codelists/indicators.json", CL_INDICATORS);
    write_file(dir, "contracts/io.json", CONTRACT_IO);
    snprintf(svc, sizeof svc, SERVICE_FMT, "stc-thu", ", \"status\": \"published\"");
    write_file(dir, "services/stc.json", svc);
    write_file(dir, "indicators.json", INDICATORS_OK);
}

static size_t count(rg_registry *rg, wh_kind kind)
{
    json_t *items = NULL;
    char *next = NULL;
    lt_errinfo ei = {0};
    CHECK(rg_list(rg, kind, NULL, 1000, &items, &next, &ei) == LT_OK);
    size_t n = json_array_size(items);
    json_decref(items);
    free(next);
    return n;
}

static void test_bootstrap_load_and_keep(void)
{
    char dir[64];
    fx f;
    lt_errinfo ei = {0};
    make_folder(dir);
    if (fx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK_MSG(rg_check_bootstrap_dir(dir, &ei) == LT_OK, "%s", ei.detail);
    /* Dry run: everything validates, nothing is stored. */
    CHECK_MSG(rg_bootstrap(f.rg, dir, true, &ei) == LT_OK, "%s", ei.detail);
    static const wh_kind kinds[] = {WH_AGENCIES, WH_CODELISTS, WH_CONTRACTS, WH_SERVICES,
                                    WH_INDICATORS, WH_SYSTEMS};
    for (size_t i = 0; i < 6; i++)
        CHECK_MSG(count(f.rg, kinds[i]) == 0, "kind %d stored by a dry run", (int)kinds[i]);
    CHECK(!rg_code_exists(f.rg, "areas", "20"));
    /* The real thing. */
    CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
    static const size_t want[] = {2, 2, 1, 1, 1, 2};
    for (size_t i = 0; i < 6; i++)
        CHECK_MSG(count(f.rg, kinds[i]) == want[i], "kind %d", (int)kinds[i]);
    CHECK(rg_code_exists(f.rg, "areas", "20101"));
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
    CHECK(s && strcmp(s->status, "published") == 0 && s->mapping);
    rg_service_release(s);
    json_t *ind = NULL;
    CHECK(rg_doc_get(f.rg, WH_INDICATORS, "THU_NSNN", &ind) == LT_OK);
    CHECK_STR(json_string_value(json_object_get(ind, "direction")), "up");
    json_decref(ind);

    /* Changes through the API, then a new agency in the files, then bootstrap again. */
    json_t *b = service_def("stc-thu", ""), *out = NULL;
    json_object_set_new(b, "title", json_string("Đổi qua API"));
    CHECK(rg_service_update(f.rg, "stc-thu", b, &out, &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    b = J("{\"status\": \"suspended\"}");
    CHECK(rg_service_set_status(f.rg, "stc-thu", b, &out, &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    bool created = true;
    b = J("{\"title\": \"Areas\", \"codes\": [{\"code\": \"01\", \"name\": \"Hà Nội\"}]}");
    CHECK(rg_codelist_put(f.rg, "areas", b, &created, &out, &ei) == LT_OK && !created);
    json_decref(b);
    json_decref(out);
    write_file(dir, "agencies.json",
               "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"
               "{\"code\": \"000.00.15.H32\", \"name\": \"STC\", \"parent\": \"000.00.00.H32\"},\n"
               "{\"code\": \"000.00.31.H32\", \"name\": \"CTK\"}\n]\n");
    CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
    for (int pass = 0; pass < 2; pass++) { /* in the caches, then as reloaded */
        CHECK(rg_service_get(f.rg, "stc-thu", &s) == LT_OK);
        CHECK_STR(s->title, "Đổi qua API");
        CHECK_STR(s->status, "suspended");
        rg_service_release(s);
        CHECK(!rg_code_exists(f.rg, "areas", "20"));
        CHECK(rg_code_exists(f.rg, "areas", "01"));
        CHECK(rg_agency_exists(f.rg, "000.00.31.H32"));
        CHECK(rg_system_of(f.rg, "stc-app", "000.00.15.H32"));
        CHECK(count(f.rg, WH_SYSTEMS) == 2);
        CHECK(fx_reopen(&f) == LT_OK);
    }
    CHECK(rg_bootstrap(f.rg, "/nonexistent/rg-boot", false, &ei) == LT_E_CONFIG);
    CHECK(rg_check_bootstrap_dir("/nonexistent/rg-boot", &ei) == LT_E_CONFIG);
    lt_errinfo_clear(&ei);
    fx_close(&f);
    rm_tree(dir);
}

static const struct {
    const char *file, *text;
    const char *where;   /* "FILE:LINE:COL:" the detail must contain */
    const char *message; /* and this */
} error_rows[] = {
    {"agencies.json",
     "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"
     "{\"code\": \"000.00.15.H32\", \"name\": \"STC\"},\n"
     "{\"code\": \"000.00.16.H32\", \"name\": \"X\"},\n"
     "{\"code\": \"000.00.17.H32\", \"name\": \"Y\", \"fax\": \"1\"}\n]\n",
     "agencies.json:5:40: ", "agency: unknown field 'fax'"},
    {"agencies.json",
     "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"
     "{\"code\": \"000.00.15.H32\", \"name\": \"STC\", \"parent\": \"000.00.99.H32\"}\n]\n",
     "agencies.json:3:42: ", "agency.parent"},
    {"agencies.json",
     "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"
     "{\"code\": \"000.00.00.H32\", \"name\": \"again\"}\n]\n",
     "agencies.json:3:2: ", "appears twice"},
    {"agencies.json",
     "[\n{\"code\": \"000.00.00.H32\", \"name\": \"UBND\"},\n"
     "{\"code\": \"000.00.15.H32\", \"name\": \"STC\", \"contact\": {\"name\": \"A\",\n"
     "  \"fax\": \"1\"}}\n]\n",
     "agencies.json:4:3: ", "agency.contact: unknown field 'fax'"},
    {"agencies.json", "[\n{\"code\": \"000.00.00.H32\" \"name\": \"UBND\"}\n]\n",
     "agencies.json:2:", ""},
    {"agencies.json", "{\"code\": \"000.00.00.H32\"}", "agencies.json:1:1: ",
     "must be an array"},
    {"systems.json",
     "[\n{\"id\": \"stc-app\", \"agency\": \"000.00.15.H32\", \"name\": \"A\"},\n"
     "{\"id\": \"x-app\", \"agency\": \"000.00.99.H32\", \"name\": \"X\"}\n]\n",
     "systems.json:3:17: ", "system.agency"},
    {"systems.json",
     "[\n{\"id\": \"stc-app\", \"agency\": \"000.00.15.H32\", \"name\": \"A\"},\n"
     "{\"id\": \"stc-app\", \"agency\": \"000.00.00.H32\", \"name\": \"B\"}\n]\n",
     "systems.json:3:2: ", "appears twice"},
    {"systems.json",
     "[\n{\"id\": \"STC App\", \"agency\": \"000.00.15.H32\", \"name\": \"A\"}\n]\n",
     "systems.json:2:2: ", "system.id"},
    {"systems.json",
     "[\n{\"id\": \"stc-app\", \"agency\": \"000.00.15.H32\",\n \"name\": \"A\", \"url\": 1}\n]\n",
     "systems.json:3:15: ", "system: unknown field 'url'"},
    {"systems.json", "{\"id\": \"stc-app\"}", "systems.json:1:1: ", "must be an array"},
    {"services/stc.json",
     "{\"id\": \"stc-thu\", \"agency\": \"000.00.15.H32\", \"title\": \"T\",\n"
     " \"contract\": \"indicator-observation@1\",\n"
     " \"source\": {\"mode\": \"pull\", \"format\": \"json\", \"url\": \"http://x\",\n"
     "            \"auth\": {\"type\": \"none\",\n"
     "                     \"pin\": \"1\"}}}\n",
     "services/stc.json:5:22: ", "service.source.auth: unknown field 'pin'"},
    {"services/stc.json",
     "{\"id\": \"stc-thu\", \"agency\": \"000.00.15.H32\", \"title\": \"T\",\n"
     " \"contract\": \"indicator-observation@1\",\n"
     " \"source\": {\"mode\": \"push\", \"format\": \"json\"},\n"
     " \"mapping\": {\"fields\": {\"indicator\": {\"const\": \"THU_NSNN\"},\n"
     "                        \"bogus\": {\"const\": 1}}}}\n",
     "services/stc.json:5:25: ",
     "mapping.fields.bogus: not a field of contract indicator-observation@1"},
    {"services/stc.json",
     "{\"id\": \"stc-thu\", \"agency\": \"000.00.15.H32\", \"title\": \"T\",\n"
     " \"contract\": \"nope@1\",\n"
     " \"source\": {\"mode\": \"push\", \"format\": \"json\"}}\n",
     "services/stc.json:2:2: ", "service.contract"},
    {"services/stc.json",
     "{\"id\": \"stc-thu\", \"agency\": \"000.00.31.H32\", \"title\": \"T\",\n"
     " \"contract\": \"indicator-observation@1\",\n"
     " \"source\": {\"mode\": \"push\", \"format\": \"json\"}}\n",
     "services/stc.json:1:", "service.agency"},
    {"contracts/io.json",
     "{\"id\": \"c2\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
     "[{\"name\": \"k\", \"type\": \"code\", \"codelist\": \"missing\", \"required\": true}]}",
     "contracts/io.json:1:", "missing"},
    {"codelists/areas.json", "{\"id\": \"areas\", \"title\": \"A\", \"codes\": \"x\"}",
     "codelists/areas.json:1:", ""},
    {"indicators.json", "[\n{\"code\": \"A\", \"name\": \"a\"},\n{\"code\": \"B\"}\n]\n",
     "indicators.json:3:1: ", "'name' is required"},
    {"indicators.json",
     "[\n{\"code\": \"A\", \"name\": \"a\",\n \"direction\": \"sideways\"}\n]\n",
     "indicators.json:3:2: ", "indicator.direction"},
};

static void test_bootstrap_errors(void)
{
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++) {
        char dir[64];
        fx f;
        lt_errinfo ei = {0};
        make_folder(dir);
        write_file(dir, error_rows[i].file, error_rows[i].text);
        lt_err e = rg_check_bootstrap_dir(dir, &ei);
        CHECK_MSG(e != LT_OK && strstr(ei.detail, error_rows[i].where) &&
                      strstr(ei.detail, error_rows[i].message),
                  "row %zu: %d '%s' want '%s' + '%s'", i, e, ei.detail, error_rows[i].where,
                  error_rows[i].message);
        CHECK_MSG(strncmp(ei.detail, dir, strlen(dir)) == 0, "row %zu: %s", i, ei.detail);
        /* The same folder into an empty warehouse: same error, nothing stored. */
        if (fx_open(&f) == 0) {
            lt_errinfo ei2 = {0};
            CHECK(rg_bootstrap(f.rg, dir, false, &ei2) != LT_OK);
            CHECK_MSG(strcmp(ei.detail, ei2.detail) == 0, "row %zu: %s", i, ei2.detail);
            CHECK(count(f.rg, WH_AGENCIES) == 0 && count(f.rg, WH_CODELISTS) == 0);
            lt_errinfo_clear(&ei2);
            fx_close(&f);
        }
        lt_errinfo_clear(&ei);
        rm_tree(dir);
    }
}

/* Items may refer to what the warehouse already holds (a folder that only adds a service). */
static void test_bootstrap_refers_to_warehouse(void)
{
    char dir[64], path[128], svc[4096];
    fx f;
    lt_errinfo ei = {0};
    CHECK(temp_dir(dir, sizeof dir, "rg-boot") != NULL);
    snprintf(path, sizeof path, "%s/services", dir);
    CHECK(mkdir(path, 0700) == 0);
    snprintf(svc, sizeof svc, SERVICE_FMT, "stc-2", "");
    write_file(dir, "services/s.json", svc);
    if (fx_open(&f) || fx_seed(&f)) {
        CHECK(0);
        return;
    }
    CHECK(rg_check_bootstrap_dir(dir, &ei) == LT_E_INVALID); /* alone, the refs are missing */
    CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
    rg_service *s = NULL;
    CHECK(rg_service_get(f.rg, "stc-2", &s) == LT_OK && strcmp(s->status, "draft") == 0);
    rg_service_release(s);
    lt_errinfo_clear(&ei);
    fx_close(&f);
    rm_tree(dir);
}

/* The shipped example folder must pass check-config and load (ctest runs from the root). */
static void test_bootstrap_example(void)
{
    static const char dir[] = "examples/lang-son";
    struct stat st;
    fx f;
    lt_errinfo ei = {0};
    if (stat(dir, &st) != 0) {
        fprintf(stderr, "  (%s absent: skipped)\n", dir);
        return;
    }
    CHECK_MSG(rg_check_bootstrap_dir(dir, &ei) == LT_OK, "%s", ei.detail);
    if (fx_open(&f) == 0) {
        CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
        CHECK(count(f.rg, WH_SERVICES) > 0);
        /* Every agency has a system; the ones the integration tests sign tokens for exist. */
        static const char *const sys[][2] = {{"stc-ngansach-app", "000.00.15.H32"},
                                             {"ioc-dashboard", "000.00.90.H32"},
                                             {"vpcp-baocao", "G01"},
                                             {"cts-tonghop", "000.00.31.H32"},
                                             {"syt-baocao", "000.00.20.H32"},
                                             {"skhcn-lgsp-portal", "000.00.12.H32"}};
        for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
            CHECK_MSG(rg_system_of(f.rg, sys[i][0], sys[i][1]), "%s", sys[i][0]);
        fx_close(&f);
    }
    lt_errinfo_clear(&ei);
}

int main(void)
{
    LT_RUN(test_bootstrap_load_and_keep);
    LT_RUN(test_bootstrap_errors);
    LT_RUN(test_bootstrap_refers_to_warehouse);
    LT_RUN(test_bootstrap_example);
    return lt_test_done();
}
