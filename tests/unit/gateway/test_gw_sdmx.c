/* SDMX (gateway/gw_sdmx*.c): the data query parser (flow, key, provider, parameters), Accept
 * negotiation, the three data writers against a small observation array, the structure
 * queries and messages, error messages, XML escaping and numbers. */
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw_int.h"
#include "gw_sdmx.h"
#include "lt_str.h"
#include "lt_test.h"

/* ---- helpers ---- */

static gw_obs mk(const char *ind, const char *area, const char *period, bool has, double v,
                 const char *status, const char *unit, const char *service)
{
    gw_obs o;
    memset(&o, 0, sizeof o);
    o.indicator = ind;
    o.area = area;
    o.period = period;
    ct_period_parse(period, strlen(period), &o.p);
    o.has_value = has;
    o.value = v;
    o.status = status;
    o.unit = unit;
    o.service = service;
    o.source = o.message_id = "";
    return o;
}

/* The sample: 3 series, 4 observations, units with UTF-8 and XML specials. */
static gw_obs sample[4];
static const char *sample_agency[4] = {"000.00.31.H32", "000.00.31.H32", "000.00.15.H32", ""};

static void sample_init(void)
{
    sample[0] = mk("CPI", "20", "2026-M07", true, 103.25, "ok", "%", "cts");
    sample[1] = mk("CPI", "20", "2026-M08", true, 103.5, "estimate", "%", "cts");
    sample[2] = mk("THU_NSNN", "05977", "2026", false, 0, "no_data", "<&>", "x");
    sample[3] = mk("THU_NSNN", "20", "2026-Q3", true, 1234, "preliminary", "tỷ đồng", "stc");
}

static gw_sdmx_data sample_data(gw_sdmx_dim dim, gw_sdmx_detail detail)
{
    gw_sdmx_data d = {sample, sample_agency, 4, dim, detail, "IREF1", 1795000000000000, NULL, NULL};
    return d;
}

typedef struct parsed {
    gw_sdmx_query q;
    gw_sdmx_err e;
    int rc;
} parsed;

static parsed parse_key(lt_arena *a, const char *key)
{
    parsed p;
    memset(&p, 0, sizeof p);
    gw_sdmx_query_init(&p.q);
    p.rc = gw_sdmx_parse_key(a, key, &p.q, &p.e);
    return p;
}

static int count_xpath(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    xmlXPathRegisterNs(ctx, BAD_CAST "m",
                       BAD_CAST "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message");
    xmlXPathRegisterNs(ctx, BAD_CAST "g",
                       BAD_CAST "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic");
    xmlXPathRegisterNs(ctx, BAD_CAST "s",
                       BAD_CAST "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure");
    xmlXPathRegisterNs(ctx, BAD_CAST "c",
                       BAD_CAST "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common");
    xmlXPathObjectPtr r = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    int n = r && r->nodesetval ? r->nodesetval->nodeNr : -1;
    if (r && r->type == XPATH_NUMBER)
        n = (int)r->floatval;
    xmlXPathFreeObject(r);
    xmlXPathFreeContext(ctx);
    return n;
}

static xmlDocPtr parse_xml(const lt_buf *b)
{
    return xmlReadMemory(b->data, (int)b->len, "sdmx.xml", NULL, XML_PARSE_NONET);
}

/* ---- the key, the flow, the provider ---- */

static void test_key(void)
{
    lt_arena *a = lt_arena_new(1u << 20);
    static const struct {
        const char *key;
        size_t ni, na;
        const char *i0, *a0;
    } ok[] = {
        {"all", 0, 0, NULL, NULL},
        {"CPI.20", 1, 1, "CPI", "20"},
        {"POP+CPI.20+12", 2, 2, "CPI", "12"},
        {".20", 0, 1, NULL, "20"},
        {"CPI.", 1, 0, "CPI", NULL},
        {".", 0, 0, NULL, NULL},
        {"CPI POP.05977", 2, 1, "CPI", "05977"}, /* a '+' decoded to a space */
        {"CPI+CPI.20", 1, 1, "CPI", "20"},
        {"THU_NSNN+T0501.20", 2, 1, "T0501", "20"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        parsed p = parse_key(a, ok[i].key);
        CHECK_MSG(p.rc == 0, "%s: %s", ok[i].key, p.e.text);
        CHECK_MSG(p.q.indicators.n == ok[i].ni && p.q.areas.n == ok[i].na, "%s", ok[i].key);
        if (ok[i].i0 && p.q.indicators.n)
            CHECK_STR(p.q.indicators.v[0], ok[i].i0);
        if (ok[i].a0 && p.q.areas.n)
            CHECK_STR(p.q.areas.v[0], ok[i].a0);
    }
    static const char *const bad[] = {"A.B.C",   "CPI",     "CPI..20", "CPI++POP.20",
                                      "+CPI.20", "CPI+.20", "CP<I.20", "CPI.2,0",
                                      "CPI.20/", "Chỉ.20",  "CPI.20.", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parsed p = parse_key(a, bad[i]);
        CHECK_MSG(p.rc == -1 && p.e.code == 140 && p.e.http == 400, "'%s'", bad[i]);
    }
    parsed p = parse_key(a, "A.B.C");
    CHECK(strstr(p.e.text, "3 positions") != NULL);
    /* too many values in one position */
    lt_buf b;
    lt_buf_init(&b, 0);
    for (unsigned i = 0; i <= GW_SDMX_MAX_VALUES; i++)
        lt_buf_printf(&b, "%sX%u", i ? "+" : "", i);
    lt_buf_puts(&b, ".20");
    p = parse_key(a, lt_buf_cstr(&b));
    CHECK(p.rc == -1 && p.e.code == 140);
    lt_buf_free(&b);
    lt_arena_free(a);
}

static void test_flow(void)
{
    static const char *const ok[] = {"LIENTHONG,SOCIO_ECON,1.0", "SOCIO_ECON",
                                     "LIENTHONG,SOCIO_ECON",     "LIENTHONG,SOCIO_ECON,latest",
                                     "all,SOCIO_ECON,1.0",       "LIENTHONG,SOCIO_ECON,+"};
    static const char *const bad[] = {"LIENTHONG,OTHER,1.0",
                                      "ECB,SOCIO_ECON,1.0",
                                      "LIENTHONG,SOCIO_ECON,2.0",
                                      "socio_econ",
                                      "",
                                      "LIENTHONG,SOCIO_ECON,1.0,x",
                                      "LIENTHONG,,1.0",
                                      "SOCIO_ECONX"};
    gw_sdmx_err e;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_MSG(gw_sdmx_parse_flow(ok[i], &e) == 0, "%s", ok[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        CHECK_MSG(gw_sdmx_parse_flow(bad[i], &e) == -1 && e.code == 100 && e.http == 404, "%s",
                  bad[i]);
    }
}

static void test_provider(void)
{
    lt_arena *a = lt_arena_new(1u << 20);
    gw_sdmx_query q;
    gw_sdmx_err e;
    gw_sdmx_query_init(&q);
    CHECK(gw_sdmx_parse_provider(a, "all", &q, &e) == 0 && q.providers.n == 0);
    CHECK(gw_sdmx_parse_provider(a, "000.00.31.H32", &q, &e) == 0 && q.providers.n == 1);
    CHECK_STR(q.providers.v[0], "000.00.31.H32");
    CHECK(gw_sdmx_parse_provider(a, "LIENTHONG,000.00.31.H32+000.00.15.H32", &q, &e) == 0);
    CHECK(q.providers.n == 2);
    CHECK_STR(q.providers.v[0], "000.00.15.H32");
    CHECK_STR(q.providers.v[1], "000.00.31.H32");
    CHECK(gw_sdmx_parse_provider(a, "ECB,X1", &q, &e) == -1 && e.code == 100);
    CHECK(gw_sdmx_parse_provider(a, "A<B", &q, &e) == -1 && e.code == 140);
    CHECK(gw_sdmx_parse_provider(a, "A++B", &q, &e) == -1 && e.code == 140);
    CHECK(gw_sdmx_parse_provider(a, "LIENTHONG,", &q, &e) == -1 && e.code == 140);
    lt_arena_free(a);
}

/* ---- query parameters ---- */

static int params1(const char *name, const char *value, gw_sdmx_query *q, gw_sdmx_err *e)
{
    gw_sdmx_param p[1] = {{name, value}};
    gw_sdmx_query_init(q);
    return gw_sdmx_parse_params(p, 1, q, e);
}

static void test_params_periods(void)
{
    gw_sdmx_query q;
    gw_sdmx_err e;
    static const struct {
        const char *value, *canonical;
    } periods[] = {
        {"2025", "2025"},
        {"2025-S1", "2025-S1"},
        {"2025-Q3", "2025-Q3"},
        {"2025-07", "2025-07"},
        {"2025-M07", "2025-07"},
        {"2025-W05", "2025-W05"},
        {"2025-07-15", "2025-07-15"},
        {"2025-A1", "2025"},
        {"2025-01-01T00:00:00Z", "2025-01-01"},
    };
    for (size_t i = 0; i < sizeof periods / sizeof periods[0]; i++) {
        char buf[CT_PERIOD_MAX];
        CHECK_MSG(params1("startPeriod", periods[i].value, &q, &e) == 0 && q.has_start, "%s",
                  periods[i].value);
        ct_period_format_sdmx(&q.start, buf);
        const char *got = buf;
        CHECK_STR(got, periods[i].canonical);
        CHECK(params1("endPeriod", periods[i].value, &q, &e) == 0 && q.has_end);
    }
    static const char *const bad_periods[] = {
        "2025-13", "2025-Q5", "20", "2025-02-30", "last year", "", "2025-07-01Tnoon"};
    for (size_t i = 0; i < sizeof bad_periods / sizeof bad_periods[0]; i++) {
        CHECK_MSG(params1("startPeriod", bad_periods[i], &q, &e) == -1 && e.code == 140 &&
                      e.http == 400,
                  "%s", bad_periods[i]);
        CHECK(params1("endPeriod", bad_periods[i], &q, &e) == -1 && e.code == 140);
    }
    /* start after end: a semantic error; touching ranges are fine */
    gw_sdmx_param range[2] = {{"startPeriod", "2026"}, {"endPeriod", "2025-Q4"}};
    gw_sdmx_query_init(&q);
    CHECK(gw_sdmx_parse_params(range, 2, &q, &e) == -1 && e.code == 150 && e.http == 400);
    CHECK(strstr(e.text, "after") != NULL);
    gw_sdmx_param touch[2] = {{"startPeriod", "2025-Q3"}, {"endPeriod", "2025-07"}};
    gw_sdmx_query_init(&q);
    CHECK(gw_sdmx_parse_params(touch, 2, &q, &e) == 0);
}

static void test_params_table(void)
{
    static const struct {
        const char *name, *value;
        int code; /* 0: accepted */
    } cases[] = {
        {"firstNObservations", "3", 0},
        {"lastNObservations", "1", 0},
        {"firstNObservations", "0", 140},
        {"lastNObservations", "-1", 140},
        {"firstNObservations", "x", 140},
        {"lastNObservations", "", 140},
        {"firstNObservations", "1.5", 140},
        {"lastNObservations", "99999999999", 140},
        {"dimensionAtObservation", "AllDimensions", 0},
        {"dimensionAtObservation", "REF_AREA", 0},
        {"dimensionAtObservation", "FREQ", 140},
        {"detail", "dataonly", 0},
        {"detail", "serieskeysonly", 0},
        {"detail", "NoData", 0},
        {"detail", "most", 140},
        {"detail", NULL, 140},
        {"includeHistory", "false", 0},
        {"includeHistory", "true", 501},
        {"includeHistory", "maybe", 140},
        {"format", "csvdata", 0},
        {"format", "structurespecificdata", 406},
        {"updatedAfter", "yesterday", 140},
        {"foo", "bar", 0},
        {"startperiod", "nonsense", 0}, /* unknown names: ignored */
    };
    gw_sdmx_query q;
    gw_sdmx_err e;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = params1(cases[i].name, cases[i].value, &q, &e);
        CHECK_MSG(cases[i].code ? rc == -1 && e.code == cases[i].code : rc == 0, "%s=%s",
                  cases[i].name, cases[i].value ? cases[i].value : "(null)");
    }
    CHECK(params1("firstNObservations", "3", &q, &e) == 0 && q.first_n == 3);
    CHECK(params1("dimensionAtObservation", "REF_AREA", &q, &e) == 0 &&
          q.obs_dim == GW_SDMX_DIM_AREA);
    CHECK(params1("detail", "NoData", &q, &e) == 0 && q.detail == GW_SDMX_NODATA);
    CHECK(params1("format", "csvdata", &q, &e) == 0 && q.format == GW_SDMX_CSV);
    CHECK(params1("startperiod", "nonsense", &q, &e) == 0 && !q.has_start);
    static const struct {
        const char *value;
        int64_t us;
    } times[] = {
        {"2026-11-22T05:00:00Z", 1795323600000000},
        {"2026-11-22T12:00:00 07:00", 1795323600000000}, /* '+' decoded as a space */
        {"2026-11-22", 1795305600000000},
    };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        CHECK(params1("updatedAfter", times[i].value, &q, &e) == 0 &&
              q.updated_after_us == times[i].us);
    gw_sdmx_param twice[2] = {{"detail", "full"}, {"detail", "dataonly"}};
    gw_sdmx_query_init(&q);
    CHECK(gw_sdmx_parse_params(twice, 2, &q, &e) == -1 && e.code == 140);
}

/* ---- Accept ---- */

static void test_negotiate(void)
{
    static const struct {
        const char *accept;
        bool structure;
        gw_sdmx_fmt want;
    } cases[] = {
        {NULL, false, GW_SDMX_GENERIC},
        {"", false, GW_SDMX_GENERIC},
        {"*/*", false, GW_SDMX_GENERIC},
        {"application/xml", false, GW_SDMX_GENERIC},
        {"text/xml", false, GW_SDMX_GENERIC},
        {"application/vnd.sdmx.genericdata+xml;version=2.1", false, GW_SDMX_GENERIC},
        {"application/vnd.sdmx.genericdata+xml; version=\"2.1\"", false, GW_SDMX_GENERIC},
        {"application/vnd.sdmx.data+json;version=2.0.0", false, GW_SDMX_JSON},
        {"application/vnd.sdmx.data+json", false, GW_SDMX_JSON},
        {"application/json", false, GW_SDMX_JSON},
        {"APPLICATION/JSON", false, GW_SDMX_JSON},
        {"application/vnd.sdmx.data+csv;version=1.0.0", false, GW_SDMX_CSV},
        {"text/csv", false, GW_SDMX_CSV},
        {"text/csv;q=0.5, application/json", false, GW_SDMX_JSON},
        {"text/csv, application/json;q=0.9", false, GW_SDMX_CSV},
        {"*/*, application/json", false, GW_SDMX_JSON},
        {"text/html, */*;q=0.1", false, GW_SDMX_GENERIC},
        {"text/html", false, GW_SDMX_NONE},
        {"application/vnd.sdmx.data+json;version=1.0.0", false, GW_SDMX_NONE},
        {"application/vnd.sdmx.structurespecificdata+xml;version=2.1", false, GW_SDMX_NONE},
        {"application/json;q=0", false, GW_SDMX_NONE},
        {"application/json;q=2", false, GW_SDMX_NONE},
        {"application/json;q=abc", false, GW_SDMX_NONE},
        {",,;", false, GW_SDMX_NONE},
        {NULL, true, GW_SDMX_STRUCTURE},
        {"application/vnd.sdmx.structure+xml;version=2.1", true, GW_SDMX_STRUCTURE},
        {"application/xml", true, GW_SDMX_STRUCTURE},
        {"application/json", true, GW_SDMX_NONE},
        {"application/vnd.sdmx.structure+xml;version=3.0.0", true, GW_SDMX_NONE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_MSG(gw_sdmx_negotiate(cases[i].accept, cases[i].structure) == cases[i].want,
                  "'%s' → %d", cases[i].accept ? cases[i].accept : "(none)",
                  gw_sdmx_negotiate(cases[i].accept, cases[i].structure));
    CHECK(strstr(gw_sdmx_media(GW_SDMX_JSON), "version=2.0.0") != NULL);
    CHECK(strncmp(gw_sdmx_media(GW_SDMX_CSV), "application/vnd.sdmx.data+csv", 29) == 0);
}

/* ---- the writers ---- */

static void test_csv(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_data d = sample_data(GW_SDMX_DIM_TIME, GW_SDMX_FULL);
    CHECK(gw_sdmx_write_csv(&d, &b) == LT_OK);
    CHECK_STR(lt_buf_cstr(&b),
              "DATAFLOW,INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,OBS_STATUS,"
              "SOURCE_AGENCY\r\n"
              "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-07,103.25,%,A,000.00.31.H32\r\n"
              "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-08,103.5,%,E,000.00.31.H32\r\n"
              "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,05977,2026,,<&>,M,000.00.15.H32\r\n"
              "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,20,2026-Q3,1234,tỷ đồng,P,\r\n");
    lt_buf_reset(&b);
    d.detail = GW_SDMX_DATAONLY;
    CHECK(gw_sdmx_write_csv(&d, &b) == LT_OK);
    CHECK_STR(lt_buf_cstr(&b), "DATAFLOW,INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-07,103.25\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-08,103.5\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,05977,2026,\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,20,2026-Q3,1234\r\n");
    lt_buf_reset(&b);
    d.detail = GW_SDMX_SERIESKEYSONLY;
    CHECK(gw_sdmx_write_csv(&d, &b) == LT_OK);
    CHECK_STR(lt_buf_cstr(&b), "DATAFLOW,INDICATOR,REF_AREA\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),CPI,20\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,05977\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,20\r\n");
    /* RFC 4180 quoting */
    gw_obs q[1] = {mk("CPI", "20", "2026", true, -0.5, "", "a,\"b\"\r\nc", "s")};
    const char *ag[1] = {"X"};
    gw_sdmx_data dq = {q, ag, 1, GW_SDMX_DIM_TIME, GW_SDMX_FULL, "I", 0, NULL, NULL};
    lt_buf_reset(&b);
    CHECK(gw_sdmx_write_csv(&dq, &b) == LT_OK);
    CHECK(strstr(lt_buf_cstr(&b), ",2026,-0.5,\"a,\"\"b\"\"\r\nc\",,X\r\n") != NULL);
    /* the area at the observation: rows grouped by (indicator, period) */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_AREA, GW_SDMX_DATAONLY);
    CHECK(gw_sdmx_write_csv(&d, &b) == LT_OK);
    CHECK_STR(lt_buf_cstr(&b), "DATAFLOW,INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-07,103.25\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),CPI,20,2026-08,103.5\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,05977,2026,\r\n"
                               "LIENTHONG:SOCIO_ECON(1.0),THU_NSNN,20,2026-Q3,1234\r\n");
    lt_buf_free(&b);
}

static void test_generic(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_data d = sample_data(GW_SDMX_DIM_TIME, GW_SDMX_FULL);
    CHECK(gw_sdmx_write_generic(&d, &b) == LT_OK && !b.err);
    xmlDocPtr doc = parse_xml(&b);
    CHECK_MSG(doc != NULL, "not well-formed:\n%s", lt_buf_cstr(&b));
    if (doc) {
        CHECK(count_xpath(doc, "/m:GenericData/m:Header/m:ID") == 1);
        CHECK(count_xpath(doc, "/m:GenericData/m:Header/m:Sender[@id='LIENTHONG']") == 1);
        CHECK(count_xpath(doc, "//m:Structure[@dimensionAtObservation='TIME_PERIOD']"
                               "/c:StructureUsage/Ref[@id='SOCIO_ECON']") == 1);
        CHECK(count_xpath(doc, "//m:DataSet/g:Series") == 3);
        CHECK(count_xpath(doc, "//g:Series/g:Obs") == 4);
        CHECK(count_xpath(doc, "//g:SeriesKey/g:Value[@id='INDICATOR' and @value='CPI']") == 1);
        CHECK(count_xpath(doc, "//g:SeriesKey/g:Value[@id='REF_AREA' and @value='05977']") == 1);
        CHECK(count_xpath(doc, "//g:Obs[g:ObsDimension/@value='2026-07']"
                               "/g:ObsValue[@value='103.25']") == 1);
        CHECK(count_xpath(doc, "//g:ObsValue") == 3); /* no value: no ObsValue */
        CHECK(count_xpath(doc, "//g:Obs/g:Attributes/g:Value[@id='UNIT_MEASURE' and "
                               "@value='<&>']") == 1);
        CHECK(count_xpath(doc, "//g:Obs/g:Attributes/g:Value[@id='UNIT_MEASURE' and "
                               "@value='tỷ đồng']") == 1);
        CHECK(count_xpath(doc, "//g:Value[@id='OBS_STATUS' and @value='P']") == 1);
        CHECK(count_xpath(doc, "//g:Value[@id='SOURCE_AGENCY']") == 3);
        xmlFreeDoc(doc);
    }
    CHECK(strstr(lt_buf_cstr(&b), "value=\"&lt;&amp;&gt;\"") != NULL);
    CHECK(strstr(lt_buf_cstr(&b), "value=\"tỷ đồng\"") != NULL);
    lt_buf_free(&b);
}

static void test_generic_variants(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    /* flat: AllDimensions */
    gw_sdmx_data d = sample_data(GW_SDMX_DIM_ALL, GW_SDMX_FULL);
    xmlDocPtr doc;
    CHECK(gw_sdmx_write_generic(&d, &b) == LT_OK);
    doc = parse_xml(&b);
    CHECK(doc != NULL);
    if (doc) {
        CHECK(count_xpath(doc, "//m:Structure[@dimensionAtObservation='AllDimensions']") == 1);
        CHECK(count_xpath(doc, "//g:Series") == 0);
        CHECK(count_xpath(doc, "//m:DataSet/g:Obs/g:ObsKey") == 4);
        CHECK(count_xpath(doc, "//g:ObsKey/g:Value[@id='TIME_PERIOD' and @value='2026-Q3']") == 1);
        xmlFreeDoc(doc);
    }
    /* dataonly: no attributes; serieskeysonly: no observations */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_TIME, GW_SDMX_DATAONLY);
    CHECK(gw_sdmx_write_generic(&d, &b) == LT_OK);
    doc = parse_xml(&b);
    CHECK(doc && count_xpath(doc, "//g:Attributes") == 0 && count_xpath(doc, "//g:Obs") == 4);
    xmlFreeDoc(doc);
    lt_buf_reset(&b);
    d.detail = GW_SDMX_SERIESKEYSONLY;
    d.obs_dim = GW_SDMX_DIM_ALL;
    CHECK(gw_sdmx_write_generic(&d, &b) == LT_OK);
    doc = parse_xml(&b);
    CHECK(doc && count_xpath(doc, "//g:Obs") == 0 && count_xpath(doc, "//g:Series") == 3);
    xmlFreeDoc(doc);
    /* the area at the observation: series keyed by indicator and period */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_AREA, GW_SDMX_FULL);
    CHECK(gw_sdmx_write_generic(&d, &b) == LT_OK);
    doc = parse_xml(&b);
    CHECK(doc && count_xpath(doc, "//g:Series") == 4);
    CHECK(doc && count_xpath(doc, "//g:SeriesKey[g:Value/@id='TIME_PERIOD']") == 4);
    CHECK(doc && count_xpath(doc, "//g:Obs/g:ObsDimension[@value='05977']") == 1);
    xmlFreeDoc(doc);
    lt_buf_free(&b);
}

static json_t *path(json_t *v, const char *p)
{
    return json_object_get(v, p);
}

/* The SDMX-JSON 2.0 rules the Python check also applies: required members, indexes in
 * bounds, observation arrays of 1 + attributes. Returns the number of observations. */
static int json_check(json_t *m, int nseriesdims, int nobsdims, int nattrs)
{
    json_t *meta = path(m, "meta"), *data = path(m, "data");
    CHECK(json_is_string(path(meta, "id")) && json_is_string(path(meta, "prepared")));
    CHECK(json_is_string(path(path(meta, "sender"), "id")));
    json_t *st = json_array_get(path(data, "structures"), 0);
    json_t *dims = path(st, "dimensions");
    json_t *sd = path(dims, "series"), *od = path(dims, "observation");
    json_t *oa = path(path(st, "attributes"), "observation");
    CHECK((int)json_array_size(sd) == nseriesdims && (int)json_array_size(od) == nobsdims);
    CHECK((int)json_array_size(oa) == nattrs);
    CHECK(json_is_array(path(dims, "dataSet")));
    json_t *ds = json_array_get(path(data, "dataSets"), 0);
    CHECK(json_integer_value(path(ds, "structure")) == 0);
    CHECK(lt_streq(json_string_value(path(ds, "action")), "Information"));
    CHECK(json_is_array(path(ds, "links")));
    int count = 0;
    const char *key;
    json_t *s, *o;
    json_t *all =
        nseriesdims ? path(ds, "series") : json_pack("{s:O}", "", path(ds, "observations"));
    json_object_foreach(all, key, s)
    {
        json_t *obs = nseriesdims ? path(s, "observations") : s;
        if (nseriesdims) {
            int parts = 1;
            for (const char *c = key; *c; c++)
                parts += *c == ':';
            CHECK(parts == nseriesdims);
            for (int k = 0; k < nseriesdims; k++) {
                size_t ix = strtoul(k ? strchr(key, ':') + 1 : key, NULL, 10);
                CHECK(ix < json_array_size(path(json_array_get(sd, (size_t)k), "values")));
            }
        }
        const char *okey;
        json_object_foreach(obs, okey, o)
        {
            count++;
            CHECK((int)json_array_size(o) == 1 + nattrs);
            CHECK(json_is_number(json_array_get(o, 0)) || json_is_null(json_array_get(o, 0)));
            for (int k = 0; k < nattrs; k++) {
                json_t *x = json_array_get(o, (size_t)k + 1);
                json_t *vals = path(json_array_get(oa, (size_t)k), "values");
                CHECK(json_is_null(x) || (json_is_integer(x) &&
                                          (size_t)json_integer_value(x) < json_array_size(vals)));
            }
        }
    }
    if (!nseriesdims)
        json_decref(all);
    return count;
}

static const char *name_of(void *ctx, gw_sdmx_dim dim, const char *code)
{
    (void)ctx;
    return dim == GW_SDMX_DIM_AREA && strcmp(code, "20") == 0 ? "Lạng Sơn" : NULL;
}

/* The id (or value) of observation attribute k for the index in slot k + 1 of obs. */
static const char *attr_at(json_t *structure, json_t *obs, int k)
{
    json_t *oa = path(path(structure, "attributes"), "observation");
    json_t *vals = path(json_array_get(oa, (size_t)k), "values");
    json_t *v =
        json_array_get(vals, (size_t)json_integer_value(json_array_get(obs, (size_t)k + 1)));
    return json_string_value(path(v, "id") ? path(v, "id") : path(v, "value"));
}

static void json_sample_checks(json_t *m)
{
    json_t *st = json_array_get(path(path(m, "data"), "structures"), 0);
    json_t *sd = path(path(st, "dimensions"), "series");
    CHECK(lt_streq(json_string_value(path(json_array_get(sd, 0), "id")), "INDICATOR"));
    CHECK(json_integer_value(path(json_array_get(sd, 1), "keyPosition")) == 1);
    json_t *areas = path(json_array_get(sd, 1), "values");
    CHECK(json_array_size(areas) == 2); /* 05977, 20: sorted */
    CHECK(lt_streq(json_string_value(path(json_array_get(areas, 0), "id")), "05977"));
    CHECK(lt_streq(json_string_value(path(json_array_get(areas, 1), "name")), "Lạng Sơn"));
    json_t *times = path(json_array_get(path(path(st, "dimensions"), "observation"), 0), "values");
    CHECK(json_array_size(times) == 4);
    json_t *t0 = json_array_get(times, 0);
    CHECK(json_is_string(path(t0, "start")) && json_is_string(path(t0, "end")));
    /* CPI (0) in area 20 (1): 2026-07 and 2026-08, values as numbers */
    json_t *series = path(json_array_get(path(path(m, "data"), "dataSets"), 0), "series");
    json_t *s01 = path(path(series, "0:1"), "observations");
    CHECK(json_object_size(s01) == 2);
    const char *k;
    json_t *v;
    json_object_foreach(s01, k, v)
        CHECK(json_is_number(json_array_get(v, 0)) && lt_streq(attr_at(st, v, 0), "%"));
    /* THU_NSNN 20 2026-Q3 has no agency: null */
    json_object_foreach(path(path(series, "1:1"), "observations"), k, v)
        CHECK(json_is_null(json_array_get(v, 3)) && lt_streq(attr_at(st, v, 1), "P"));
    /* the no-value observation: null, OBS_STATUS M, its unit and agency */
    json_t *s10 = path(path(series, "1:0"), "observations");
    CHECK(json_object_size(s10) == 1);
    json_object_foreach(s10, k, v)
    {
        CHECK(json_is_null(json_array_get(v, 0)));
        CHECK(lt_streq(attr_at(st, v, 0), "<&>") && lt_streq(attr_at(st, v, 1), "M"));
        CHECK(lt_streq(attr_at(st, v, 2), "000.00.15.H32"));
    }
}

static void test_json(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_data d = sample_data(GW_SDMX_DIM_TIME, GW_SDMX_FULL);
    d.name = name_of;
    CHECK(gw_sdmx_write_json(&d, &b) == LT_OK && !b.err);
    json_error_t jerr;
    json_t *m = json_loads(lt_buf_cstr(&b), 0, &jerr);
    CHECK_MSG(m != NULL, "%s: %s", jerr.text, lt_buf_cstr(&b));
    if (m) {
        CHECK(json_check(m, 2, 1, 3) == 4);
        json_sample_checks(m);
        json_decref(m);
    }
    lt_buf_free(&b);
}

static void test_json_variants(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_data d;
    json_t *m;
    json_error_t jerr;
    /* AllDimensions: observations keyed i:j:k; dataonly: [value] only */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_ALL, GW_SDMX_DATAONLY);
    CHECK(gw_sdmx_write_json(&d, &b) == LT_OK);
    m = json_loads(lt_buf_cstr(&b), 0, &jerr);
    CHECK(m && json_check(m, 0, 3, 0) == 4);
    json_decref(m);
    /* serieskeysonly: series without observations */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_TIME, GW_SDMX_SERIESKEYSONLY);
    CHECK(gw_sdmx_write_json(&d, &b) == LT_OK);
    m = json_loads(lt_buf_cstr(&b), 0, &jerr);
    CHECK_MSG(m && json_check(m, 2, 0, 0) == 0, "%s", lt_buf_cstr(&b));
    json_t *ds = m ? json_array_get(path(path(m, "data"), "dataSets"), 0) : NULL;
    CHECK(json_object_size(path(ds, "series")) == 3);
    json_decref(m);
    /* the area at the observation */
    lt_buf_reset(&b);
    d = sample_data(GW_SDMX_DIM_AREA, GW_SDMX_FULL);
    CHECK(gw_sdmx_write_json(&d, &b) == LT_OK);
    m = json_loads(lt_buf_cstr(&b), 0, &jerr);
    CHECK(m && json_check(m, 2, 1, 3) == 4);
    json_decref(m);
    lt_buf_free(&b);
}

/* All three formats carry the same observations and values. */
static void test_formats_agree(void)
{
    lt_buf x, j, c;
    lt_buf_init(&x, 0);
    lt_buf_init(&j, 0);
    lt_buf_init(&c, 0);
    gw_obs many[60];
    char periods[60][16];
    for (int i = 0; i < 60; i++) { /* gw_obs_run's order: indicator, area, period */
        snprintf(periods[i], sizeof periods[i], "%d-M%02d", 2020 + i % 15 / 12, i % 15 % 12 + 1);
        many[i] = mk(i < 30 ? "CPI" : "POP", i % 30 < 15 ? "12" : "20", periods[i], true,
                     i * 0.1 + 1.0 / 3, "ok", "%", "s");
    }
    gw_sdmx_data d = {many, NULL, 60, GW_SDMX_DIM_TIME, GW_SDMX_FULL, "I", 0, NULL, NULL};
    CHECK(gw_sdmx_write_generic(&d, &x) == LT_OK);
    CHECK(gw_sdmx_write_json(&d, &j) == LT_OK);
    CHECK(gw_sdmx_write_csv(&d, &c) == LT_OK);
    for (int i = 0; i < 60; i++) {
        char num[32], needle[64];
        gw_sdmx_num(many[i].value, num);
        CHECK(strtod(num, NULL) == many[i].value);
        snprintf(needle, sizeof needle, "<generic:ObsValue value=\"%s\"/>", num);
        CHECK(strstr(lt_buf_cstr(&x), needle) != NULL);
        snprintf(needle, sizeof needle, ":[%s,", num);
        CHECK(strstr(lt_buf_cstr(&j), needle) != NULL);
        snprintf(needle, sizeof needle, ",%s,%%,A,\r\n", num);
        CHECK(strstr(lt_buf_cstr(&c), needle) != NULL);
    }
    json_t *m = json_loads(lt_buf_cstr(&j), 0, NULL);
    CHECK(m && json_check(m, 2, 1, 3) == 60);
    json_decref(m);
    lt_buf_free(&x);
    lt_buf_free(&j);
    lt_buf_free(&c);
}

/* Serialising 100,000 observations: correct, and fast (printed; the goal is >= 1,000,000/s
 * in a release build — sanitizers make this one several times slower). */
static void test_large(void)
{
    size_t n = 100000;
    gw_obs *obs = malloc(n * sizeof *obs);
    char(*per)[16] = malloc(n * sizeof *per);
    char(*area)[8] = malloc(n * sizeof *area);
    for (size_t i = 0; i < n; i++) {
        snprintf(area[i], sizeof area[i], "%05zu", i / 60);
        snprintf(per[i], sizeof per[i], "%zu-M%02zu", 2020 + i % 60 / 12, i % 12 + 1);
        obs[i] = mk("CPI", area[i], per[i], true, 100 + (double)(i % 997) / 8, "ok", "%", "s");
    }
    const char **ag = malloc(n * sizeof *ag);
    for (size_t i = 0; i < n; i++)
        ag[i] = "000.00.31.H32";
    gw_sdmx_data d = {obs, ag, n, GW_SDMX_DIM_TIME, GW_SDMX_FULL, "I", 0, NULL, NULL};
    lt_buf b;
    lt_buf_init(&b, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(gw_sdmx_write_json(&d, &b) == LT_OK && !b.err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "   SDMX-JSON: %zu observations, %zu bytes in %.3f s (%.0f obs/s)\n", n, b.len,
            s, (double)n / s);
    json_t *m = json_loadb(b.data, b.len, 0, NULL);
    CHECK(m && json_check(m, 2, 1, 3) == (int)n);
    json_decref(m);
    for (int f = GW_SDMX_GENERIC; f <= GW_SDMX_CSV; f++) {
        lt_buf_reset(&b);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(gw_sdmx_write_data((gw_sdmx_fmt)f, &d, &b) == LT_OK && !b.err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr, "   format %d: %zu bytes in %.3f s (%.0f obs/s)\n", f, b.len, s,
                (double)n / s);
    }
    CHECK(gw_sdmx_write_data(GW_SDMX_STRUCTURE, &d, &b) == LT_E_INTERNAL);
    lt_buf_free(&b);
    free(ag);
    free(obs);
    free(per);
    free(area);
}

/* ---- structures ---- */

static int parse_struct(const char *a, const char *b, const char *c, const char *d,
                        const char *refs, gw_sdmx_struct_query *q, gw_sdmx_err *e)
{
    const char *segs[4] = {a, b, c, d};
    int n = !a ? 0 : !b ? 1 : !c ? 2 : !d ? 3 : 4;
    gw_sdmx_param p[1] = {{"references", refs}};
    return gw_sdmx_parse_structure(segs, n, p, refs ? 1 : 0, q, e);
}

static int struct_count(const gw_sdmx_struct_query *q, const json_t *ind, const json_t *areas,
                        const char *expr)
{
    lt_buf b;
    gw_sdmx_err e;
    lt_buf_init(&b, 0);
    int n = -2;
    if (gw_sdmx_write_structure(q, ind, areas, "S1", 0, &b, &e) == 0) {
        xmlDocPtr doc = parse_xml(&b);
        n = doc ? count_xpath(doc, expr) : -3;
        xmlFreeDoc(doc);
    }
    lt_buf_free(&b);
    return n;
}

static void test_structure(void)
{
    json_t *areas = json_loads("{\"id\":\"areas\",\"title\":\"Đơn vị hành chính\",\"codes\":["
                               "{\"code\":\"20\",\"name\":\"Lạng Sơn\"},{\"code\":\"05977\","
                               "\"name\":\"Phường <Tam> Thanh\",\"parent\":\"20\"},\"12\"]}",
                               0, NULL);
    json_t *ind = json_loads("{\"id\":\"indicators\",\"codes\":[{\"code\":\"CPI\",\"name\":"
                             "\"Chỉ số giá\"},{\"code\":\"POP\"}]}",
                             0, NULL);
    gw_sdmx_struct_query q;
    gw_sdmx_err e;
    CHECK(parse_struct("codelist", "LIENTHONG", "CL_AREA", "1.0", NULL, &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:Codelists/s:Codelist") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist[@id='CL_AREA']/s:Code") == 3);
    CHECK(struct_count(&q, ind, areas, "//s:Code[@id='05977']/s:Parent/Ref[@id='20']") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:Code[@id='05977']/c:Name[.='Phường <Tam> Thanh']") ==
          1);
    CHECK(struct_count(&q, ind, areas, "//s:Code[@id='12']/c:Name[.='12']") == 1);
    CHECK(struct_count(&q, ind, areas, "/m:Structure/m:Header/m:Sender[@id='LIENTHONG']") == 1);
    CHECK(parse_struct("codelist", NULL, NULL, NULL, NULL, &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 3);
    CHECK(struct_count(&q, ind, NULL, "//s:Codelist[@id='CL_AREA']/s:Code") == 0);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist[@id='CL_OBS_STATUS']/s:Code") == 6);
    CHECK(parse_struct("dataflow", "LIENTHONG", "SOCIO_ECON", "latest", NULL, &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas,
                       "//s:Dataflow[@id='SOCIO_ECON']/s:Structure/"
                       "Ref[@id='DSD_SOCIO_ECON']") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:DataStructure") == 0);
    CHECK(parse_struct("dataflow", "all", "all", "all", "descendants", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:DataStructure") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 3);
    CHECK(struct_count(&q, ind, areas, "//s:ConceptScheme/s:Concept") == 7);
    CHECK(parse_struct("dataflow", NULL, NULL, NULL, "children", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:DataStructure") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 0);
    CHECK(parse_struct("datastructure", "LIENTHONG", "DSD_SOCIO_ECON", NULL, NULL, &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:DimensionList/s:Dimension") == 2);
    CHECK(struct_count(&q, ind, areas, "//s:DimensionList/s:TimeDimension[@id='TIME_PERIOD']") ==
          1);
    CHECK(struct_count(&q, ind, areas, "//s:AttributeList/s:Attribute") == 3);
    CHECK(struct_count(&q, ind, areas,
                       "//s:Dimension[@id='REF_AREA']//s:Enumeration/"
                       "Ref[@id='CL_AREA']") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:PrimaryMeasure[@id='OBS_VALUE']") == 1);
    json_decref(areas);
    json_decref(ind);
}

static void test_structure_references(void)
{
    json_t *ind = json_loads("{\"codes\":[\"CPI\"]}", 0, NULL);
    json_t *areas = json_loads("{\"codes\":[\"20\"]}", 0, NULL);
    gw_sdmx_struct_query q;
    gw_sdmx_err e;
    CHECK(parse_struct("codelist", "all", "CL_INDICATOR", NULL, "parents", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:DataStructure") == 1);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 1);
    CHECK(parse_struct("codelist", "all", "CL_INDICATOR", NULL, "parentsandsiblings", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 3);
    CHECK(parse_struct("dataflow", NULL, NULL, NULL, "codelist", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas, "//s:Codelist") == 3);
    CHECK(struct_count(&q, ind, areas, "//s:DataStructure") == 0);
    CHECK(parse_struct("structure", NULL, NULL, NULL, "all", &q, &e) == 0);
    CHECK(struct_count(&q, ind, areas,
                       "count(//s:Dataflow | //s:DataStructure | //s:Codelist |"
                       " //s:ConceptScheme)") == 6);
    /* nothing matches: 100 */
    lt_buf b;
    lt_buf_init(&b, 0);
    static const char *const none[][4] = {{"codelist", "ECB", NULL, NULL},
                                          {"codelist", "LIENTHONG", "CL_FREQ", NULL},
                                          {"dataflow", "LIENTHONG", "SOCIO_ECON", "2.0"}};
    for (size_t i = 0; i < 3; i++) {
        CHECK(parse_struct(none[i][0], none[i][1], none[i][2], none[i][3], NULL, &q, &e) == 0);
        CHECK(gw_sdmx_write_structure(&q, ind, areas, "S", 0, &b, &e) == -1 && e.code == 100 &&
              e.http == 404);
    }
    /* bad queries */
    CHECK(parse_struct("categoryscheme", NULL, NULL, NULL, NULL, &q, &e) == -1 && e.code == 501);
    CHECK(parse_struct("nonsense", NULL, NULL, NULL, NULL, &q, &e) == -1 && e.code == 100);
    CHECK(parse_struct("data", NULL, NULL, NULL, NULL, &q, &e) == -1 && e.code == 140);
    CHECK(parse_struct("codelist", NULL, NULL, NULL, "cousins", &q, &e) == -1 && e.code == 140);
    gw_sdmx_param det[1] = {{"detail", "referencepartial"}};
    const char *segs[1] = {"codelist"};
    CHECK(gw_sdmx_parse_structure(segs, 1, det, 1, &q, &e) == -1 && e.code == 501);
    det[0].value = "full";
    CHECK(gw_sdmx_parse_structure(segs, 1, det, 1, &q, &e) == 0);
    lt_buf_free(&b);
    json_decref(areas);
    json_decref(ind);
}

/* ---- errors, escaping, numbers ---- */

static void test_errors(void)
{
    lt_buf b;
    lt_buf_init(&b, 0);
    gw_sdmx_write_error(&b, 100, "no observation <matches> & more");
    xmlDocPtr doc = parse_xml(&b);
    CHECK(doc != NULL);
    if (doc) {
        CHECK(count_xpath(doc, "/m:Error/m:ErrorMessage[@code='100']/c:Text") == 1);
        CHECK(count_xpath(doc, "//c:Text[starts-with(., 'No results found: no observation "
                               "<matches> & more')]") == 1);
        xmlFreeDoc(doc);
    }
    static const struct {
        lt_err err;
        int code, http;
    } map[] = {
        {LT_E_NOT_FOUND, 100, 404},      {LT_E_UNAUTHORIZED, 110, 401}, {LT_E_FORBIDDEN, 150, 403},
        {LT_E_BAD_REQUEST, 140, 400},    {LT_E_INVALID, 150, 400},      {LT_E_TOO_LARGE, 510, 413},
        {LT_E_NOT_ACCEPTABLE, 406, 406}, {LT_E_UNAVAILABLE, 503, 503},  {LT_E_STORAGE, 500, 500},
        {LT_E_NOMEM, 500, 500},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        gw_sdmx_err e;
        gw_sdmx_err_from_lt(map[i].err, "", &e);
        CHECK_MSG(e.code == map[i].code && e.http == map[i].http, "%d", (int)map[i].err);
        CHECK(e.text[0] != '\0');
    }
    lt_buf_free(&b);
    /* a gateway error (say, no token) as an SDMX error message */
    gw_req r;
    memset(&r, 0, sizeof r);
    r.arena = lt_arena_new(1u << 16);
    lt_buf_init(&r.out, 0);
    lt_fail(&r.ei, LT_E_UNAUTHORIZED, "an Authorization: Bearer token is required");
    gw_sdmx_reply_problem(&r);
    CHECK(r.status == 401 && strstr(r.content_type, "xml") != NULL);
    CHECK(strstr(lt_buf_cstr(&r.out), "code=\"110\"") != NULL);
    CHECK(strstr(lt_buf_cstr(&r.out), "Bearer token is required") != NULL);
    lt_errinfo_clear(&r.ei);
    gw_sdmx_reply_problem(&r); /* no code: an internal error */
    CHECK(r.status == 500 && strstr(lt_buf_cstr(&r.out), "code=\"500\"") != NULL);
    lt_buf_free(&r.out);
    lt_errinfo_clear(&r.ei);
    lt_arena_free(r.arena);
}

static void test_escape_and_numbers(void)
{
    static const struct {
        const char *in, *out;
    } esc[] = {
        {"tỷ đồng", "tỷ đồng"},
        {"<&>\"'", "&lt;&amp;&gt;&quot;&apos;"},
        {"a\tb\nc\rd", "a&#9;b&#10;c&#13;d"},
        {"x\x01y", "x\xef\xbf\xbdy"},
        {"bad \xff byte", "bad \xef\xbf\xbd byte"},
        {"cut \xe1\xbb", "cut \xef\xbf\xbd\xef\xbf\xbd"},
        {"\xef\xbf\xbe", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof esc / sizeof esc[0]; i++) {
        lt_buf b;
        lt_buf_init(&b, 0);
        gw_sdmx_xml_esc(&b, esc[i].in);
        CHECK_STR(lt_buf_cstr(&b), esc[i].out);
        lt_buf_free(&b);
    }
    static const struct {
        double v;
        const char *out;
    } nums[] = {
        {0, "0"},
        {1234, "1234"},
        {-7, "-7"},
        {103.25, "103.25"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {1e21, "1e+21"},
        {-1.25e-7, "-1.25e-07"},
        {123456789012.0, "123456789012"},
        {4736.0, "4736"},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        char buf[32];
        gw_sdmx_num(nums[i].v, buf);
        const char *got = buf;
        CHECK_STR(got, nums[i].out);
        CHECK(strtod(buf, NULL) == nums[i].v);
    }
    CHECK(strcmp(gw_sdmx_obs_status("ok"), "A") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("official"), "A") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("estimate"), "E") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("preliminary"), "P") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("no_data"), "M") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("unknown"), "U") == 0);
    CHECK(strcmp(gw_sdmx_obs_status("restricted"), "C") == 0);
    CHECK(gw_sdmx_obs_status("") == NULL && gw_sdmx_obs_status("odd") == NULL);
}

int main(void)
{
    sample_init();
    LT_RUN(test_key);
    LT_RUN(test_flow);
    LT_RUN(test_provider);
    LT_RUN(test_params_periods);
    LT_RUN(test_params_table);
    LT_RUN(test_negotiate);
    LT_RUN(test_csv);
    LT_RUN(test_generic);
    LT_RUN(test_generic_variants);
    LT_RUN(test_json);
    LT_RUN(test_json_variants);
    LT_RUN(test_formats_agree);
    LT_RUN(test_large);
    LT_RUN(test_structure);
    LT_RUN(test_structure_references);
    LT_RUN(test_errors);
    LT_RUN(test_escape_and_numbers);
    xmlCleanupParser();
    return lt_test_done();
}
