/* Tests for contract definitions: compiling, rejecting bad definitions, fields, refs. */
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"
#include "lt_test.h"

#define OBS_DEF                                                                                    \
    "{\"id\": \"indicator-observation\", \"version\": 1, \"title\": \"Observation\","              \
    " \"key\": [\"indicator\", \"area\", \"period\"],"                                             \
    " \"fields\": ["                                                                               \
    "  {\"name\": \"indicator\", \"type\": \"code\", \"codelist\": \"indicators\", \"required\": " \
    "true},"                                                                                       \
    "  {\"name\": \"area\", \"type\": \"code\", \"codelist\": \"areas\", \"required\": true},"     \
    "  {\"name\": \"period\", \"type\": \"period\", \"required\": true},"                          \
    "  {\"name\": \"value\", \"type\": \"number\", \"nullable\": true},"                           \
    "  {\"name\": \"status\", \"type\": \"enum\", \"values\": [\"ok\", \"unknown\", \"no_data\", " \
    "\"restricted\"]},"                                                                            \
    "  {\"name\": \"unit\", \"type\": \"string\", \"max_length\": 32},"                            \
    "  {\"name\": \"reporter\", \"type\": \"string\", \"max_length\": 120, \"personal\": true}"    \
    " ]}"

static json_t *load(const char *text)
{
    lt_errinfo ei = {0};
    json_t *j = lt_json_load(text, strlen(text), &ei);
    CHECK_MSG(j != NULL, "bad test JSON: %s", ei.detail);
    lt_errinfo_clear(&ei);
    return j;
}

static void test_parse_example(void)
{
    json_t *def = load(OBS_DEF);
    ct_contract *c = NULL;
    lt_errinfo ei = {0};
    CHECK(ct_contract_parse(def, &c, &ei) == LT_OK);
    json_decref(def); /* the contract keeps its own copy */
    if (!c)
        return;
    CHECK_STR(c->id, "indicator-observation");
    CHECK_STR(c->ref, "indicator-observation@1");
    CHECK_STR(c->title, "Observation");
    CHECK(c->version == 1 && c->nfields == 7 && c->nkey == 3);
    CHECK(c->key[0] == 0 && c->key[1] == 1 && c->key[2] == 2);
    const ct_field *f = ct_contract_field(c, "status");
    CHECK(f && f->type == CT_ENUM && f->nvalues == 4);
    CHECK(f && strcmp(f->values[2], "no_data") == 0);
    f = ct_contract_field(c, "area");
    CHECK(f && f->type == CT_CODE && f->required && strcmp(f->codelist, "areas") == 0);
    f = ct_contract_field(c, "reporter");
    CHECK(f && f->personal && f->max_length == 120);
    f = ct_contract_field(c, "value");
    CHECK(f && f->nullable && !f->required && f->max_length == -1);
    CHECK(ct_contract_field(c, "nope") == NULL);
    CHECK(json_is_object(c->def) && json_object_get(c->def, "fields"));
    ct_contract_free(c);
    ct_contract_free(NULL);
}

/* A field list wrapped in a minimal valid contract whose key is "k". */
static lt_err parse_fields(const char *fields, lt_errinfo *ei)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
             "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}%s%s]}",
             *fields ? ", " : "", fields);
    json_t *def = load(text);
    ct_contract *c = NULL;
    lt_err e = ct_contract_parse(def, &c, ei);
    CHECK((e == LT_OK) == (c != NULL));
    ct_contract_free(c);
    json_decref(def);
    return e;
}

static void test_fields(void)
{
    static const struct {
        const char *fields, *detail; /* detail NULL: must compile */
    } cases[] = {
        {"", NULL},
        {"{\"name\": \"n\", \"type\": \"integer\", \"min\": 0, \"max\": 10.5}", NULL},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"[A-Z]{2}[0-9]+\"}", NULL},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": "
         "\"([0-9]{1,3}\\\\.){3}[0-9]{1,3}|[[:alpha:]]{1,255}|[]{}*+?]{1,900}|a{2,}\"}", NULL},
        {"{\"name\": \"c\", \"type\": \"code\", \"codelist\": \"areas\", \"pattern\": \"[0-9]{2}\","
         " \"max_length\": 5, \"description\": \"d\", \"unit\": \"u\"}",
         NULL},
        {"{\"name\": \"_x9\", \"type\": \"datetime\"}", NULL},
        {"{\"name\": \"d\", \"type\": \"date\", \"personal\": true}", NULL},
        {"{\"name\": \"b\", \"type\": \"boolean\", \"nullable\": true}", NULL},
        {"{\"name\": \"x\", \"type\": \"string\", \"foo\": 1}", "unknown field 'foo'"},
        {"{\"name\": \"x\", \"type\": \"text\"}", "unknown type 'text'"},
        {"{\"name\": \"x\"}", "'type' is required"},
        {"{\"type\": \"string\"}", "'name' must match"},
        {"{\"name\": \"Bad\", \"type\": \"string\"}", "'name' must match"},
        {"{\"name\": \"9x\", \"type\": \"string\"}", "'name' must match"},
        {"{\"name\": \"a-b\", \"type\": \"string\"}", "'name' must match"},
        {"{\"name\": \"k\", \"type\": \"string\"}", "duplicate field name 'k'"},
        {"{\"name\": \"c\", \"type\": \"code\"}", "needs 'codelist'"},
        {"{\"name\": \"c\", \"type\": \"code\", \"codelist\": \"Bad List\"}", "code list id"},
        {"{\"name\": \"s\", \"type\": \"string\", \"codelist\": \"areas\"}", "code fields only"},
        {"{\"name\": \"e\", \"type\": \"enum\"}", "non-empty 'values'"},
        {"{\"name\": \"e\", \"type\": \"enum\", \"values\": []}", "non-empty 'values'"},
        {"{\"name\": \"e\", \"type\": \"enum\", \"values\": [\"a\", 1]}", "values[1]"},
        {"{\"name\": \"e\", \"type\": \"enum\", \"values\": [\"a\", \"a\"]}",
         "duplicate value 'a'"},
        {"{\"name\": \"s\", \"type\": \"string\", \"values\": [\"a\"]}", "enum fields only"},
        {"{\"name\": \"n\", \"type\": \"number\", \"min\": 5, \"max\": 1}",
         "min is greater than max"},
        {"{\"name\": \"n\", \"type\": \"number\", \"min\": \"0\"}", "'min' must be a number"},
        {"{\"name\": \"s\", \"type\": \"string\", \"min\": 0}", "integer and number fields only"},
        {"{\"name\": \"s\", \"type\": \"string\", \"max_length\": 0}", "'max_length' must be"},
        {"{\"name\": \"s\", \"type\": \"string\", \"max_length\": 1.5}", "'max_length' must be"},
        {"{\"name\": \"n\", \"type\": \"integer\", \"max_length\": 3}", "string and code fields"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"(\"}", "bad pattern"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"\"}", "'pattern' must be"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": 3}", "'pattern' must be"},
        {"{\"name\": \"n\", \"type\": \"integer\", \"pattern\": \"1\"}", "string and code fields"},
        /* regcomp copies repetitions: what would take seconds or all memory is refused */
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": "
         "\"[~]*************************************************************+\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"((a{1,255}){1,255}){1,255}\"}",
         "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"[a-z]{1,32767}\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"a{2000,}\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": "
         "\"((((((((((((a)*)*)*)*)*)*)*)*)*)*)*)*\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": "
         "\"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\"}", "nest deeper"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"((a{1,100}){1,100}\"}",
         "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"((){1552,}){1,255}\"}",
         "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"(|){1,255}\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"(a{,255}){1,255}\"}", "too costly"},
        /* a ')' of its own would close the "^(" around the pattern and drop the anchoring */
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"a)|(b\"}", "closes no group"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"(x}){,255}){1,255}\"}",
         "closes no group"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": \"(a?){1,500}\"}", "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"pattern\": "
         "\"^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\"}",
         "too costly"},
        {"{\"name\": \"s\", \"type\": \"string\", \"required\": \"yes\"}",
         "'required' must be a boolean"},
        {"{\"name\": \"s\", \"type\": \"string\", \"unit\": 3}", "'unit' must be a string"},
        {"\"s\"", "must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lt_errinfo ei = {0};
        lt_err e = parse_fields(cases[i].fields, &ei);
        if (!cases[i].detail) {
            CHECK_MSG(e == LT_OK, "case %zu: %s", i, ei.detail);
        } else {
            CHECK_MSG(e == LT_E_INVALID && strstr(ei.detail, cases[i].detail),
                      "case %zu: got %d '%s', want '%s'", i, e, ei.detail, cases[i].detail);
        }
        lt_errinfo_clear(&ei);
    }
}

static void test_top_level(void)
{
    static const struct {
        const char *def, *detail;
    } cases[] = {
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}], \"extra\": 1}",
         "unknown field 'extra'"},
        {"{\"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": []}",
         "'id' is required"},
        {"{\"id\": \"Bad\", \"version\": 1, \"title\": \"T\", \"key\": [], \"fields\": []}",
         "'id' must match"},
        {"{\"id\": \"-t\", \"version\": 1, \"title\": \"T\", \"key\": [], \"fields\": []}",
         "'id' must match"},
        {"{\"id\": \"t\", \"version\": 0, \"title\": \"T\", \"key\": [], \"fields\": []}",
         "'version'"},
        {"{\"id\": \"t\", \"version\": \"1\", \"title\": \"T\", \"key\": [], \"fields\": []}",
         "'version'"},
        {"{\"id\": \"t\", \"version\": 1, \"key\": [], \"fields\": []}", "'title' is required"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": []}",
         "'fields'"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}]}",
         "'key' must be"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"z\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}]}",
         "'z' is not a field"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\"}]}",
         "must be required"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true, \"nullable\": true}]}",
         "not nullable"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"key\": [\"k\", \"k\"], \"fields\": "
         "[{\"name\": \"k\", \"type\": \"string\", \"required\": true}]}",
         "named twice"},
        {"{\"id\": \"t\", \"version\": 1, \"title\": \"T\", \"description\": 5, \"key\": [\"k\"], "
         "\"fields\": [{\"name\": \"k\", \"type\": \"string\", \"required\": true}]}",
         "'description'"},
        {"[1]", "must be an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *def = load(cases[i].def);
        ct_contract *c = (ct_contract *)1;
        lt_errinfo ei = {0};
        lt_err e = ct_contract_parse(def, &c, &ei);
        CHECK_MSG(e == LT_E_INVALID && c == NULL && strstr(ei.detail, cases[i].detail),
                  "case %zu: got %d '%s', want '%s'", i, e, ei.detail, cases[i].detail);
        lt_errinfo_clear(&ei);
        json_decref(def);
    }
}

static void test_ref_parse(void)
{
    static const struct {
        const char *ref, *id;
        int version; /* 0: must fail */
    } cases[] = {
        {"indicator-observation@1", "indicator-observation", 1},
        {"a@12", "a", 12},
        {"x.y_z-1@2147483647", "x.y_z-1", 2147483647},
        {"a@0", NULL, 0},
        {"a@01", NULL, 0},
        {"a@-1", NULL, 0},
        {"a@+1", NULL, 0},
        {"a@", NULL, 0},
        {"@1", NULL, 0},
        {"a", NULL, 0},
        {"A@1", NULL, 0},
        {"a@1x", NULL, 0},
        {"a@2147483648", NULL, 0},
        {"a@1@2", NULL, 0},
        {"", NULL, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char id[64];
        int v = -5;
        int rc = ct_ref_parse(cases[i].ref, id, sizeof id, &v);
        if (cases[i].version) {
            CHECK_MSG(rc == 0 && v == cases[i].version, "%s", cases[i].ref);
            const char *got = id;
            CHECK_STR(got, cases[i].id);
        } else {
            CHECK_MSG(rc == -1, "'%s' accepted", cases[i].ref);
        }
    }
    char small[4];
    int v;
    CHECK(ct_ref_parse("abcd@1", small, sizeof small, &v) == -1);
    CHECK(ct_ref_parse("abc@1", small, sizeof small, &v) == 0);
}

int main(void)
{
    LT_RUN(test_parse_example);
    LT_RUN(test_fields);
    LT_RUN(test_top_level);
    LT_RUN(test_ref_parse);
    return lt_test_done();
}
