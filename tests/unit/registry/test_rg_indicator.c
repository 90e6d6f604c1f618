/* Indicators (API.md §8) and the area hierarchy: strict validation naming the member, create
 * then update, the `indicators` code list gaining the code in the same write, snapshots that
 * outlive an update, reloading, area lookups kept current with the code list, the bootstrap
 * path, and lookups racing a writer. */
#include <pthread.h>

#include "lt_json.h"
#include "lt_limits.h"
#include "lt_str.h"
#include "rg_fixture.h"

#define CL_AREAS_BIG                                                                        \
    "{\"id\": \"areas\", \"title\": \"Areas\", \"codes\": ["                                  \
    "{\"code\": \"20\", \"name\": \"Lạng Sơn\"}, {\"code\": \"04\", \"name\": \"Cao Bằng\"}," \
    "{\"code\": \"06187\", \"name\": \"Xã Đồng Đăng\", \"parent\": \"20\"},"                 \
    "{\"code\": \"05977\", \"name\": \"Phường Tam Thanh\", \"parent\": \"20\"},"             \
    "{\"code\": \"01270\", \"name\": \"Xã Trà Lĩnh\", \"parent\": \"04\"}]}"

#define IND_FULL                                                                            \
    "{\"name\": \"Tổng thu ngân sách\", \"unit\": \"tỷ đồng\", \"group\": \"Tài chính\", "    \
    "\"periodicity\": \"monthly\", \"direction\": \"up\", \"aggregation\": \"sum\", "        \
    "\"agency\": \"000.00.15.H32\", \"targets\": [{\"period\": \"2026\", \"area\": \"20\", "  \
    "\"value\": 12500}, {\"period\": \"2026-07\", \"area\": \"20101\", \"value\": 1.5}]}"

static lt_err put(fx *f, const char *code, const char *body, bool *created, json_t **out,
                  lt_errinfo *ei)
{
    json_t *b = J(body);
    lt_err e = rg_indicator_put(f->rg, code, b, created, out, ei);
    json_decref(b);
    return e;
}

static int open_seeded(fx *f)
{
    if (fx_open(f) || fx_seed(f)) {
        CHECK(0);
        return -1;
    }
    return 0;
}

/* ---- validation ---- */

static const struct {
    const char *code; /* path */
    const char *body;
    const char *want; /* in the detail */
} bad_rows[] = {
    {"X1", "[1]", "indicator: must be an object"},
    {"X1", "{\"name\": \"a\", \"colour\": \"red\"}", "indicator: unknown field 'colour'"},
    {"X1", "{\"unit\": \"%\"}", "'name' is required"},
    {"X1", "{\"name\": \"\"}", "indicator.name: must be a non-empty string"},
    {"X1", "{\"name\": null}", "indicator: 'name' is required"},
    {"X1", "{\"code\": null, \"name\": \"a\"}", "indicator.code"},
    {"X1", "{\"name\": 5}", "indicator.name"},
    {"X1", "{\"code\": \"X2\", \"name\": \"a\"}", "indicator.code: 'X2' does not match"},
    {"X1", "{\"code\": 7, \"name\": \"a\"}", "indicator.code"},
    {"bad code", "{\"name\": \"a\"}", "indicator.code: 'bad code' is not a valid"},
    {"", "{\"name\": \"a\"}", "indicator.code"},
    {"X1", "{\"name\": \"a\", \"unit\": 1}", "indicator.unit: must be a string"},
    {"X1", "{\"name\": \"a\", \"group\": []}", "indicator.group: must be a string"},
    {"X1", "{\"name\": \"a\", \"periodicity\": \"hourly\"}", "indicator.periodicity: 'hourly'"},
    {"X1", "{\"name\": \"a\", \"periodicity\": 12}", "indicator.periodicity"},
    {"X1", "{\"name\": \"a\", \"direction\": \"sideways\"}", "indicator.direction: 'sideways'"},
    {"X1", "{\"name\": \"a\", \"aggregation\": \"max\"}", "indicator.aggregation: 'max'"},
    {"X1", "{\"name\": \"a\", \"aggregation\": \"sum\", \"weight\": \"POP\"}",
     "indicator.weight: only meaningful with aggregation weighted_mean"},
    {"X1", "{\"name\": \"a\", \"weight\": \"POP\"}", "indicator.weight"},
    {"X1", "{\"name\": \"a\", \"aggregation\": \"weighted_mean\", \"weight\": \"a b\"}",
     "indicator.weight: 'a b' is not a valid"},
    {"X1", "{\"name\": \"a\", \"aggregation\": \"weighted_mean\", \"weight\": \"X1\"}",
     "indicator.weight: an indicator cannot weigh itself"},
    {"X1", "{\"name\": \"a\", \"agency\": \"000.00.99.H32\"}",
     "indicator.agency: '000.00.99.H32' is not a registered agency"},
    {"X1", "{\"name\": \"a\", \"agency\": 3}", "indicator.agency: must be a string"},
    {"X1", "{\"name\": \"a\", \"targets\": {}}", "indicator.targets: must be an array"},
    {"X1", "{\"name\": \"a\", \"targets\": [5]}", "indicator.targets[0]: must be an object"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026\", \"area\": \"20\", "
           "\"value\": 1, \"note\": \"x\"}]}",
     "indicator.targets[0]: unknown field 'note'"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"area\": \"20\", \"value\": 1}]}",
     "indicator.targets[0]: 'period' is required"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026-13\", \"area\": \"20\", "
           "\"value\": 1}]}",
     "indicator.targets[0].period: '2026-13' is not a period"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026\", \"value\": 1}]}",
     "indicator.targets[0]: 'area' is required"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026\", \"area\": \"99\", "
           "\"value\": 1}]}",
     "indicator.targets[0].area: '99' is not in the areas code list"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026\", \"area\": \"20\"}]}",
     "indicator.targets[0].value: must be a number"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026\", \"area\": \"20\", "
           "\"value\": \"12\"}]}",
     "indicator.targets[0].value: must be a number"},
    {"X1", "{\"name\": \"a\", \"targets\": [{\"period\": \"2026-M07\", \"area\": \"20\", "
           "\"value\": 1}, {\"period\": \"2026-07\", \"area\": \"20\", \"value\": 2}]}",
     "indicator.targets[1]: a second target for period 2026-M07 and area 20"},
    {"X1", "{\"name\": \"a\", \"created_at\": \"2020-01-01T00:00:00Z\"}",
     "indicator.created_at: read-only"},
};

static void test_validation(void)
{
    fx f;
    if (open_seeded(&f))
        return;
    for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
        lt_errinfo ei = {0};
        json_t *out = NULL;
        bool created = true;
        lt_err e = put(&f, bad_rows[i].code, bad_rows[i].body, &created, &out, &ei);
        CHECK_MSG(e == LT_E_INVALID && strstr(ei.detail, bad_rows[i].want) && !out && !created,
                  "row %zu: %d '%s' want '%s'", i, e, ei.detail, bad_rows[i].want);
        lt_errinfo_clear(&ei);
    }
    rg_indicator *ind = NULL;
    json_t *doc = NULL;
    CHECK(rg_indicator_get(f.rg, "X1", &ind) == LT_E_NOT_FOUND && !ind);
    CHECK(rg_doc_get(f.rg, WH_INDICATORS, "X1", &doc) == LT_E_NOT_FOUND);
    CHECK(!rg_code_exists(f.rg, "indicators", "X1"));
    fx_close(&f);
}

/* ---- create, update, code list, cache ---- */

static void check_full(const rg_indicator *ind)
{
    CHECK_STR(ind->code, "THU_NSNN");
    CHECK_STR(ind->name, "Tổng thu ngân sách");
    CHECK_STR(ind->unit, "tỷ đồng");
    CHECK_STR(ind->group, "Tài chính");
    CHECK_STR(ind->agency, "000.00.15.H32");
    CHECK(ind->freq == CT_FREQ_MONTH && ind->direction == 1 && ind->aggregation == RG_AGG_SUM);
    CHECK(ind->ntargets == 2);
    if (ind->ntargets != 2)
        return;
    CHECK_STR(ind->targets[0].period, "2026");
    CHECK_STR(ind->targets[0].area, "20");
    CHECK(ind->targets[0].value == 12500 && ind->targets[0].p.freq == CT_FREQ_YEAR);
    CHECK_STR(ind->targets[1].period, "2026-M07"); /* canonical */
    CHECK(ind->targets[1].p.freq == CT_FREQ_MONTH && ind->targets[1].p.n == 7);
    CHECK(ind->targets[1].value == 1.5);
}

static void test_create_update(void)
{
    fx f;
    lt_errinfo ei = {0};
    json_t *out = NULL;
    bool created = false;
    if (open_seeded(&f))
        return;
    CHECK_MSG(put(&f, "THU_NSNN", IND_FULL, &created, &out, &ei) == LT_OK, "%s", ei.detail);
    CHECK(created && out);
    CHECK_STR(lt_json_str_or(out, "code"), "THU_NSNN");
    CHECK(lt_json_str(out, "created_at") && lt_json_str(out, "updated_at"));
    CHECK_STR(lt_json_str(json_array_get(json_object_get(out, "targets"), 1), "period"),
              "2026-M07");
    char created_at[40];
    const char *created_ptr = created_at; /* CHECK_STR tests its arguments for NULL */
    lt_strlcpy(created_at, lt_json_str_or(out, "created_at"), sizeof created_at);
    json_decref(out);

    rg_indicator *old = NULL, *now = NULL;
    CHECK(rg_indicator_get(f.rg, "THU_NSNN", &old) == LT_OK && old);
    if (old)
        check_full(old);
    CHECK(strcmp(old->weight, "POP") == 0);

    /* Update with the code in the body too, timestamps sent back as read. */
    json_t *b = J("{\"code\": \"THU_NSNN\", \"name\": \"Thu NSNN\", \"periodicity\": "
                  "\"annual\", \"direction\": \"down\", \"aggregation\": \"weighted_mean\", "
                  "\"weight\": \"DAN_SO\"}");
    json_object_set_new(b, "created_at", json_string(created_at));
    CHECK_MSG(rg_indicator_put(f.rg, "THU_NSNN", b, &created, &out, &ei) == LT_OK, "%s",
              ei.detail);
    json_decref(b);
    CHECK(!created);
    CHECK_STR(lt_json_str(out, "created_at"), created_ptr);
    CHECK(!json_object_get(out, "targets"));
    json_decref(out);
    /* The old snapshot stays valid and unchanged; the cache has the new one. */
    check_full(old);
    CHECK(rg_indicator_get(f.rg, "THU_NSNN", &now) == LT_OK && now && now != old);
    CHECK_STR(now->name, "Thu NSNN");
    CHECK_STR(now->unit, "");
    CHECK_STR(now->weight, "DAN_SO");
    CHECK(now->freq == CT_FREQ_YEAR && now->direction == -1);
    CHECK(now->aggregation == RG_AGG_WEIGHTED_MEAN && now->ntargets == 0);
    rg_indicator_release(old);
    rg_indicator_release(now);
    rg_indicator_release(NULL);

    /* A changed created_at is refused. */
    CHECK(put(&f, "THU_NSNN", "{\"name\": \"x\", \"created_at\": \"1999-01-01T00:00:00Z\"}",
              &created, &out, &ei) == LT_E_INVALID);
    CHECK(strstr(ei.detail, "created_at: read-only") != NULL);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

static void test_codelist_gains_code(void)
{
    fx f;
    lt_errinfo ei = {0};
    json_t *out = NULL, *cl = NULL;
    bool created = false;
    if (open_seeded(&f))
        return;
    CHECK(!rg_code_exists(f.rg, "indicators", "POP"));
    CHECK_MSG(put(&f, "POP", "{\"name\": \"Dân số\", \"aggregation\": \"sum\"}", &created,
                  &out, &ei) == LT_OK, "%s", ei.detail);
    json_decref(out);
    CHECK(rg_code_exists(f.rg, "indicators", "POP"));
    CHECK(rg_code_exists(f.rg, "indicators", "THU_NSNN")); /* the others stay */
    CHECK(rg_doc_get(f.rg, WH_CODELISTS, "indicators", &cl) == LT_OK);
    json_t *codes = json_object_get(cl, "codes");
    CHECK(json_array_size(codes) == 3);
    json_t *last = json_array_get(codes, 2);
    CHECK_STR(lt_json_str(last, "code"), "POP");
    CHECK_STR(lt_json_str(last, "name"), "Dân số");
    json_decref(cl);
    /* Updating an indicator already in the list leaves the list alone. */
    CHECK(put(&f, "POP", "{\"name\": \"Dân số trung bình\"}", &created, &out, &ei) == LT_OK);
    json_decref(out);
    CHECK(rg_doc_get(f.rg, WH_CODELISTS, "indicators", &cl) == LT_OK);
    CHECK(json_array_size(json_object_get(cl, "codes")) == 3);
    json_decref(cl);
    /* Survives a reopen: both documents were written. */
    CHECK(fx_reopen(&f) == LT_OK);
    CHECK(rg_code_exists(f.rg, "indicators", "POP"));
    rg_indicator *ind = NULL;
    CHECK(rg_indicator_get(f.rg, "POP", &ind) == LT_OK);
    CHECK(ind && strcmp(ind->name, "Dân số trung bình") == 0);
    rg_indicator_release(ind);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

/* Without an `indicators` code list, the first PUT creates it. */
static void test_codelist_created(void)
{
    fx f;
    lt_errinfo ei = {0};
    json_t *out = NULL, *cl = NULL, *b = J(ROOT_AGENCY);
    bool created = false;
    if (fx_open(&f)) {
        CHECK(0);
        json_decref(b);
        return;
    }
    CHECK(rg_agency_create(f.rg, b, &out, &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    CHECK_MSG(put(&f, "CPI", "{\"name\": \"Chỉ số giá\", \"agency\": \"000.00.00.H32\"}",
                  &created, &out, &ei) == LT_OK, "%s", ei.detail);
    CHECK(created);
    json_decref(out);
    CHECK(rg_code_exists(f.rg, "indicators", "CPI"));
    CHECK(rg_doc_get(f.rg, WH_CODELISTS, "indicators", &cl) == LT_OK);
    CHECK_STR(lt_json_str(cl, "id"), "indicators");
    CHECK(json_array_size(json_object_get(cl, "codes")) == 1);
    json_decref(cl);
    /* A target needs the areas list: none here. */
    CHECK(put(&f, "CPI", "{\"name\": \"c\", \"targets\": [{\"period\": \"2026\", \"area\": "
                         "\"20\", \"value\": 1}]}", &created, &out, &ei) == LT_E_INVALID);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

static void test_all_and_reload(void)
{
    fx f;
    lt_errinfo ei = {0};
    json_t *out = NULL;
    bool created;
    if (open_seeded(&f))
        return;
    rg_indicator **all = NULL;
    size_t n = 7;
    CHECK(rg_indicator_all(f.rg, &all, &n) == LT_OK && n == 0);
    free(all);
    static const char *const codes[] = {"T0501", "CPI", "THU_NSNN"};
    for (size_t i = 0; i < 3; i++) {
        CHECK(put(&f, codes[i], "{\"name\": \"n\"}", &created, &out, &ei) == LT_OK);
        json_decref(out);
    }
    CHECK(put(&f, "THU_NSNN", IND_FULL, &created, &out, &ei) == LT_OK);
    json_decref(out);
    for (int pass = 0; pass < 2; pass++) { /* in the cache, then as reloaded */
        CHECK(rg_indicator_all(f.rg, &all, &n) == LT_OK && n == 3);
        if (n == 3) {
            CHECK_STR(all[0]->code, "CPI");
            CHECK_STR(all[1]->code, "T0501");
            CHECK_STR(all[2]->code, "THU_NSNN");
            check_full(all[2]);
        }
        for (size_t i = 0; i < n; i++)
            rg_indicator_release(all[i]);
        free(all);
        CHECK(fx_reopen(&f) == LT_OK);
    }
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

/* A stored document written by an older bootstrap (no timestamps, a non-canonical period)
 * loads into the cache; one without a code is left out, not fatal. */
static void test_load_stored(void)
{
    fx f;
    lt_errinfo ei = {0};
    if (open_seeded(&f))
        return;
    static const char doc[] = "{\"code\":\"OLD\",\"name\":\"Old\",\"periodicity\":\"quarterly\","
                              "\"targets\":[{\"period\":\"2026-07\",\"area\":\"20\",\"value\":3},"
                              "{\"period\":\"bad\",\"area\":\"20\",\"value\":4}]}";
    CHECK(wh_doc_put(f.env, WH_INDICATORS, "OLD", doc, strlen(doc), 0, &ei) == LT_OK);
    CHECK(wh_doc_put(f.env, WH_INDICATORS, "NOCODE", "{\"name\":\"x\"}", 12, 0, &ei) == LT_OK);
    CHECK(fx_reopen(&f) == LT_OK);
    rg_indicator *ind = NULL;
    CHECK(rg_indicator_get(f.rg, "OLD", &ind) == LT_OK && ind);
    if (ind) {
        CHECK(ind->freq == CT_FREQ_QUARTER && ind->ntargets == 1);
        CHECK(ind->ntargets == 1 && strcmp(ind->targets[0].period, "2026-M07") == 0);
        CHECK(ind->direction == 0 && ind->aggregation == RG_AGG_NONE);
    }
    rg_indicator_release(ind);
    CHECK(rg_indicator_get(f.rg, "NOCODE", &ind) == LT_E_NOT_FOUND);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

/* ---- areas ---- */

static void test_areas(void)
{
    fx f;
    lt_errinfo ei = {0};
    json_t *out = NULL, *kids = NULL, *b;
    bool created;
    char buf[LT_MAX_ID_LEN + 1];
    const char *got = buf; /* CHECK_STR tests its arguments for NULL */
    if (fx_open(&f)) {
        CHECK(0);
        return;
    }
    /* No areas list yet. */
    CHECK(!rg_area_parent(f.rg, "06187", buf, sizeof buf));
    CHECK(!rg_area_name(f.rg, "20", buf, sizeof buf));
    CHECK(rg_area_children(f.rg, "20", &kids) == LT_OK && json_array_size(kids) == 0);
    json_decref(kids);

    b = J(CL_AREAS_BIG);
    CHECK(rg_codelist_put(f.rg, NULL, b, &created, &out, &ei) == LT_OK);
    json_decref(b);
    json_object_set_new(out, "title", json_string("changed by the caller")); /* its own copy */
    json_decref(out);
    for (int pass = 0; pass < 2; pass++) { /* as put, then as loaded by rg_open */
        CHECK(rg_area_parent(f.rg, "06187", buf, sizeof buf) && strcmp(buf, "20") == 0);
        CHECK(rg_area_parent(f.rg, "01270", buf, sizeof buf) && strcmp(buf, "04") == 0);
        CHECK(!rg_area_parent(f.rg, "20", buf, sizeof buf));
        CHECK(!rg_area_parent(f.rg, "nope", buf, sizeof buf));
        CHECK(!rg_area_parent(f.rg, "06187", buf, 2)); /* "20" needs 3 bytes */
        CHECK(rg_area_name(f.rg, "05977", buf, sizeof buf));
        CHECK_STR(got, "Phường Tam Thanh");
        CHECK(rg_area_name(f.rg, "20", buf, 4)); /* cut at a character boundary: "L" + "ạ" */
        CHECK_STR(got, "L");
        CHECK(!rg_area_name(f.rg, "99", buf, sizeof buf));
        CHECK(rg_area_children(f.rg, "20", &kids) == LT_OK && json_array_size(kids) == 2);
        CHECK_STR(json_string_value(json_array_get(kids, 0)), "05977"); /* code order */
        CHECK_STR(json_string_value(json_array_get(kids, 1)), "06187");
        json_decref(kids);
        CHECK(rg_area_children(f.rg, "06187", &kids) == LT_OK && json_array_size(kids) == 0);
        json_decref(kids);
        CHECK(fx_reopen(&f) == LT_OK);
    }
    /* Replacing the list replaces the index. */
    b = J("{\"title\": \"Areas\", \"codes\": [{\"code\": \"20\", \"name\": \"Lạng Sơn\"}, "
          "{\"code\": \"06187\", \"name\": \"Xã Đồng Đăng\", \"parent\": \"20\"}, "
          "{\"code\": \"01270\", \"name\": \"Xã Trà Lĩnh\"}]}");
    CHECK(rg_codelist_put(f.rg, "areas", b, &created, &out, &ei) == LT_OK && !created);
    json_decref(b);
    json_decref(out);
    CHECK(!rg_area_parent(f.rg, "01270", buf, sizeof buf));
    CHECK(!rg_area_name(f.rg, "05977", buf, sizeof buf));
    CHECK(rg_area_children(f.rg, "20", &kids) == LT_OK && json_array_size(kids) == 1);
    json_decref(kids);
    /* Another code list leaves the index alone. */
    b = J(CL_INDICATORS);
    CHECK(rg_codelist_put(f.rg, NULL, b, &created, &out, &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    CHECK(rg_area_parent(f.rg, "06187", buf, sizeof buf));
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

/* ---- bootstrap ---- */

static void write_text(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void make_boot(char dir[64], const char *indicators)
{
    char path[256];
    CHECK(temp_dir(dir, 64, "rg-ind") != NULL);
    snprintf(path, sizeof path, "%s/codelists", dir);
    CHECK(mkdir(path, 0700) == 0);
    write_text(dir, "agencies.json", "[" ROOT_AGENCY "]");
    write_text(dir, "codelists/areas.json", CL_AREAS);
    write_text(dir, "codelists/indicators.json", CL_INDICATORS);
    write_text(dir, "indicators.json", indicators);
}

#define BOOT_OK                                                                              \
    "[\n{\"code\": \"THU_NSNN\", \"name\": \"Thu\", \"periodicity\": \"monthly\",\n"         \
    " \"agency\": \"000.00.00.H32\", \"targets\": [{\"period\": \"2026-07\", \"area\": "       \
    "\"20101\", \"value\": 2}]},\n"                                                          \
    "{\"code\": \"POP\", \"name\": \"Dân số\", \"periodicity\": \"yearly\"}\n]\n"

static void test_bootstrap(void)
{
    char dir[64];
    fx f;
    lt_errinfo ei = {0};
    make_boot(dir, BOOT_OK);
    CHECK_MSG(rg_check_bootstrap_dir(dir, &ei) == LT_OK, "%s", ei.detail);
    if (fx_open(&f)) {
        CHECK(0);
        return;
    }
    CHECK_MSG(rg_bootstrap(f.rg, dir, true, &ei) == LT_OK, "%s", ei.detail);
    rg_indicator *ind = NULL;
    CHECK(rg_indicator_get(f.rg, "POP", &ind) == LT_E_NOT_FOUND); /* dry run */
    CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
    CHECK(rg_indicator_get(f.rg, "THU_NSNN", &ind) == LT_OK && ind);
    CHECK(ind && ind->ntargets == 1 && strcmp(ind->targets[0].period, "2026-M07") == 0);
    rg_indicator_release(ind);
    CHECK(rg_code_exists(f.rg, "indicators", "POP")); /* not in the file's list: added */
    CHECK(rg_indicator_get(f.rg, "POP", &ind) == LT_OK && ind && ind->freq == CT_FREQ_YEAR);
    rg_indicator_release(ind);
    /* An API change is never overwritten by the files. */
    json_t *out = NULL;
    bool created = true;
    CHECK(put(&f, "POP", "{\"name\": \"Dân số (API)\"}", &created, &out, &ei) == LT_OK);
    json_decref(out);
    CHECK_MSG(rg_bootstrap(f.rg, dir, false, &ei) == LT_OK, "%s", ei.detail);
    CHECK(fx_reopen(&f) == LT_OK);
    CHECK(rg_indicator_get(f.rg, "POP", &ind) == LT_OK && ind);
    CHECK(ind && strcmp(ind->name, "Dân số (API)") == 0);
    rg_indicator_release(ind);
    lt_errinfo_clear(&ei);
    fx_close(&f);
    rm_tree(dir);
}

static const struct {
    const char *text, *where, *message;
} boot_bad[] = {
    {"[\n{\"code\": \"A\", \"name\": \"a\",\n \"targets\": [{\"period\": \"2026\",\n"
     "   \"area\": \"99\", \"value\": 1}]}\n]\n",
     "indicators.json:4:4: ", "indicator.targets[0].area: '99' is not in the areas code list"},
    {"[\n{\"code\": \"A\", \"name\": \"a\", \"agency\": \"000.00.15.H32\"}\n]\n",
     "indicators.json:2:28: ", "indicator.agency"},
    {"[\n{\"code\": \"A\", \"name\": \"a\",\n  \"periodicity\": \"hourly\"}\n]\n",
     "indicators.json:3:3: ", "indicator.periodicity"},
    {"[\n{\"code\": \"A\", \"name\": \"a\",\n  \"weight\": \"POP\"}\n]\n",
     "indicators.json:3:3: ", "indicator.weight"},
    {"[\n{\"code\": \"A\", \"name\": \"a\", \"targets\": [\n"
     "  {\"period\": \"2026\", \"area\": \"20\", \"value\": 1},\n"
     "  {\"period\": \"2026\", \"area\": \"20\", \"value\": 2}]}\n]\n",
     "indicators.json:4:3: ", "a second target"},
    {"[\n{\"code\": \"A\", \"name\": \"a\"},\n{\"code\": \"A\", \"name\": \"b\"}\n]\n",
     "indicators.json:3:", "appears twice"},
    {"[\n{\"code\": \"A B\", \"name\": \"a\"}\n]\n", "indicators.json:2:", "indicator.code"},
    {"[\n{\"name\": \"a\"}\n]\n", "indicators.json:2:1: ", "'code' is required"},
    {"[\n{\"code\": null, \"name\": \"a\"}\n]\n", "indicators.json:2:", "'code' is required"},
};

static void test_bootstrap_errors(void)
{
    for (size_t i = 0; i < sizeof boot_bad / sizeof boot_bad[0]; i++) {
        char dir[64];
        fx f;
        lt_errinfo ei = {0}, ei2 = {0};
        make_boot(dir, boot_bad[i].text);
        lt_err e = rg_check_bootstrap_dir(dir, &ei);
        CHECK_MSG(e == LT_E_INVALID && strstr(ei.detail, boot_bad[i].where) &&
                      strstr(ei.detail, boot_bad[i].message),
                  "row %zu: %d '%s'", i, e, ei.detail);
        if (fx_open(&f) == 0) {
            CHECK(rg_bootstrap(f.rg, dir, false, &ei2) == LT_E_INVALID);
            CHECK_MSG(strcmp(ei.detail, ei2.detail) == 0, "row %zu: %s", i, ei2.detail);
            rg_indicator **all = NULL;
            size_t n = 1;
            CHECK(rg_indicator_all(f.rg, &all, &n) == LT_OK && n == 0);
            free(all);
            fx_close(&f);
        }
        lt_errinfo_clear(&ei);
        lt_errinfo_clear(&ei2);
        rm_tree(dir);
    }
}

/* A warehouse whose `areas` list differs from the file's: the stored list decides (the
 * file's is never loaded over it). */
static void test_bootstrap_stored_areas_win(void)
{
    char dir[64];
    fx f;
    lt_errinfo ei = {0};
    make_boot(dir, "[\n{\"code\": \"A\", \"name\": \"a\", \"targets\": [{\"period\": "
                   "\"2026\", \"area\": \"20101\", \"value\": 1}]}\n]\n");
    if (fx_open(&f)) {
        CHECK(0);
        return;
    }
    json_t *b = J("{\"id\": \"areas\", \"title\": \"A\", \"codes\": [{\"code\": \"20\", "
                  "\"name\": \"Lạng Sơn\"}]}"), *out = NULL;
    bool created;
    CHECK(rg_codelist_put(f.rg, NULL, b, &created, &out, &ei) == LT_OK);
    json_decref(b);
    json_decref(out);
    CHECK(rg_bootstrap(f.rg, dir, true, &ei) == LT_E_INVALID);
    CHECK(strstr(ei.detail, "'20101' is not in the areas code list") != NULL);
    lt_errinfo_clear(&ei);
    fx_close(&f);
    rm_tree(dir);
}

/* ---- concurrency: lookups while a writer replaces the entries ---- */

typedef struct race {
    fx *f;
    int stop;
    int bad;
} race;

static void *reader(void *arg)
{
    race *r = arg;
    char buf[LT_MAX_ID_LEN + 1];
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        rg_indicator *ind = NULL;
        if (rg_indicator_get(r->f->rg, "THU_NSNN", &ind) == LT_OK) {
            if (strlen(ind->name) == 0 || (ind->ntargets && !ind->targets[0].area[0]))
                __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
            rg_indicator_release(ind);
        }
        if (rg_area_parent(r->f->rg, "20101", buf, sizeof buf) && strcmp(buf, "20") != 0)
            __atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
        json_t *kids = NULL;
        if (rg_area_children(r->f->rg, "20", &kids) == LT_OK)
            json_decref(kids);
    }
    return NULL;
}

static void test_race(void)
{
    fx f;
    lt_errinfo ei = {0};
    if (open_seeded(&f))
        return;
    race r = {&f, 0, 0};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&th[i], NULL, reader, &r) == 0);
    for (int i = 0; i < 30; i++) {
        json_t *out = NULL, *b = J(CL_AREAS);
        bool created;
        CHECK(put(&f, "THU_NSNN", i % 2 ? IND_FULL : "{\"name\": \"x\"}", &created, &out,
                  &ei) == LT_OK);
        json_decref(out);
        /* The same list again: a new index replaces the one readers were using. */
        CHECK(rg_codelist_put(f.rg, NULL, b, &created, &out, &ei) == LT_OK);
        json_decref(b);
        json_decref(out);
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(r.bad == 0);
    lt_errinfo_clear(&ei);
    fx_close(&f);
}

int main(void)
{
    (void)service_def; /* shared by the fixture; this file needs no service */
    LT_RUN(test_validation);
    LT_RUN(test_create_update);
    LT_RUN(test_codelist_gains_code);
    LT_RUN(test_codelist_created);
    LT_RUN(test_all_and_reload);
    LT_RUN(test_load_stored);
    LT_RUN(test_areas);
    LT_RUN(test_bootstrap);
    LT_RUN(test_bootstrap_errors);
    LT_RUN(test_bootstrap_stored_areas_win);
    LT_RUN(test_race);
    return lt_test_done();
}
