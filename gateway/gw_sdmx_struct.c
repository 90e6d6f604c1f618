/* SDMX structure queries and SDMX-ML 2.1 structure messages (gw_sdmx.h): the dataflow
 * LIENTHONG:SOCIO_ECON(1.0), its data structure, its concept scheme and the code lists
 * CL_INDICATOR and CL_AREA (from the registry's `indicators` and `areas` code lists; a commune
 * names its province as <str:Parent>) and CL_OBS_STATUS (ours). References between them
 * follow the SDMX `references` parameter. */
#include <string.h>
#include <strings.h>

#include "gw_sdmx.h"
#include "lt_json.h"

#define NS_MESSAGE "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
#define NS_STRUCTURE "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
#define NS_COMMON "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
#define VER "(" GW_SDMX_VERSION ")"
#define URN "urn:sdmx:org.sdmx.infomodel."

/* ---- the artefacts and how they reference each other ---- */

enum { A_FLOW, A_DSD, A_CS, A_CL_IND, A_CL_AREA, A_CL_STATUS, NART };
#define BIT(a) (1u << (a))

static const struct {
    const char *resource, *id;
    unsigned children; /* artefacts this one references */
} arts[NART] = {
    [A_FLOW] = {"dataflow", GW_SDMX_FLOW, BIT(A_DSD)},
    [A_DSD] = {"datastructure", GW_SDMX_DSD,
               BIT(A_CS) | BIT(A_CL_IND) | BIT(A_CL_AREA) | BIT(A_CL_STATUS)},
    [A_CS] = {"conceptscheme", GW_SDMX_CS, 0},
    [A_CL_IND] = {"codelist", "CL_INDICATOR", 0},
    [A_CL_AREA] = {"codelist", "CL_AREA", 0},
    [A_CL_STATUS] = {"codelist", "CL_OBS_STATUS", 0},
};

/* Resource names of the path: ours, "structure" (every kind), then the other SDMX 2.1
 * structural resources, which this service does not serve (501). */
static const char *const served[] = {"dataflow", "datastructure", "conceptscheme",
                                     "codelist", "structure",     NULL};
static const char *const not_served[] = {"agencyscheme",
                                         "categorisation",
                                         "categoryscheme",
                                         "contentconstraint",
                                         "attachmentconstraint",
                                         "actualconstraint",
                                         "allowedconstraint",
                                         "dataconsumerscheme",
                                         "dataproviderscheme",
                                         "hierarchicalcodelist",
                                         "metadataflow",
                                         "metadatastructure",
                                         "organisationscheme",
                                         "organisationunitscheme",
                                         "process",
                                         "provisionagreement",
                                         "reportingtaxonomy",
                                         "structureset",
                                         "schema",
                                         "availableconstraint",
                                         NULL};

enum { R_NONE, R_PARENTS, R_PARENTS_SIBLINGS, R_CHILDREN, R_DESCENDANTS, R_ALL, R_KIND };
static const char *const refs[] = {
    "none", "parents", "parentsandsiblings", "children", "descendants", "all", NULL};

static int find(const char *const *set, const char *s)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(set[i], s) == 0)
            return i;
    return -1;
}

static int parse_refs(const char *v, gw_sdmx_struct_query *q, gw_sdmx_err *e)
{
    int i = find(refs, v);
    if (i >= 0) {
        q->references = i;
        return 0;
    }
    i = find(served, v);
    if (i >= 0 && i < 4) { /* a kind: the related artefacts of that kind */
        q->references = R_KIND + i;
        return 0;
    }
    return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400,
                        "references: '%.64s' is not none, parents, "
                        "parentsandsiblings, children, descendants, all or a structure kind",
                        v);
}

int gw_sdmx_parse_structure(const char *const *segs, int nsegs, const gw_sdmx_param *p, size_t np,
                            gw_sdmx_struct_query *q, gw_sdmx_err *e)
{
    memset(q, 0, sizeof *q);
    q->agency = q->id = q->version = "all";
    if (nsegs < 1 || nsegs > 4)
        return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400,
                            "a structure query is "
                            "/sdmx/{resource}[/{agency}[/{id}[/{version}]]]");
    if (strcmp(segs[0], "data") == 0)
        return gw_sdmx_errf(e, GW_SDMX_E_SYNTAX, 400,
                            "a data query names its flow: "
                            "/sdmx/data/" GW_SDMX_AGENCY "," GW_SDMX_FLOW "," GW_SDMX_VERSION
                            "/{key}");
    q->resource = find(served, segs[0]);
    if (q->resource < 0 && find(not_served, segs[0]) >= 0)
        return gw_sdmx_errf(e, GW_SDMX_E_NOT_IMPLEMENTED, 501,
                            "resource '%s' is not served; "
                            "this service serves dataflow, datastructure, conceptscheme and "
                            "codelist",
                            segs[0]);
    if (q->resource < 0)
        return gw_sdmx_errf(e, GW_SDMX_E_NO_RESULTS, 404, "no SDMX resource '%.64s'", segs[0]);
    if (nsegs > 1)
        q->agency = segs[1];
    if (nsegs > 2)
        q->id = segs[2];
    if (nsegs > 3)
        q->version = segs[3];
    for (size_t i = 0; i < np; i++) {
        const char *v = p[i].value ? p[i].value : "";
        if (p[i].name && strcmp(p[i].name, "references") == 0 && parse_refs(v, q, e))
            return -1;
        if (p[i].name && strcmp(p[i].name, "detail") == 0 && strcasecmp(v, "full") != 0)
            return gw_sdmx_errf(e, GW_SDMX_E_NOT_IMPLEMENTED, 501,
                                "detail '%.64s' is not "
                                "served; structures are written in full",
                                v);
    }
    return 0;
}

/* ---- selection ---- */

static bool matches(const gw_sdmx_struct_query *q, int a)
{
    static const char *const any[] = {"all", "*", NULL};
    static const char *const versions[] = {GW_SDMX_VERSION, "1.0.0", "latest", "~", "+",
                                           "all",           "*",     NULL};
    if (strcmp(served[q->resource], "structure") != 0 &&
        strcmp(served[q->resource], arts[a].resource) != 0)
        return false;
    if (strcmp(q->agency, GW_SDMX_AGENCY) != 0 && find(any, q->agency) < 0)
        return false;
    if (strcmp(q->id, arts[a].id) != 0 && find(any, q->id) < 0)
        return false;
    return find(versions, q->version) >= 0;
}

static unsigned children_of(unsigned set)
{
    unsigned out = 0;
    for (int a = 0; a < NART; a++)
        if (set & BIT(a))
            out |= arts[a].children;
    return out;
}

static unsigned parents_of(unsigned set)
{
    unsigned out = 0;
    for (int a = 0; a < NART; a++)
        if (arts[a].children & set)
            out |= BIT(a);
    return out;
}

static unsigned closure(unsigned set, unsigned (*step)(unsigned))
{
    unsigned prev;
    do {
        prev = set;
        set |= step(set);
    } while (set != prev);
    return set;
}

static unsigned kind_mask(const char *resource)
{
    unsigned m = 0;
    for (int a = 0; a < NART; a++)
        if (strcmp(arts[a].resource, resource) == 0)
            m |= BIT(a);
    return m;
}

/* The artefacts to write: the selected ones plus their references. */
static unsigned select_set(const gw_sdmx_struct_query *q)
{
    unsigned sel = 0;
    for (int a = 0; a < NART; a++)
        if (matches(q, a))
            sel |= BIT(a);
    if (!sel)
        return 0;
    unsigned parents = parents_of(sel), down = closure(sel, children_of);
    switch (q->references) {
    case R_NONE:
        return sel;
    case R_PARENTS:
        return sel | parents;
    case R_PARENTS_SIBLINGS:
        return sel | parents | children_of(parents);
    case R_CHILDREN:
        return sel | children_of(sel);
    case R_DESCENDANTS:
        return down;
    case R_ALL:
        return down | parents | children_of(parents);
    default: /* a kind: the related artefacts of that kind */
        return sel |
               ((closure(sel, parents_of) | down) & kind_mask(served[q->references - R_KIND]));
    }
}

/* ---- writing ---- */

static void open_maintainable(lt_buf *out, const char *elem, const char *cls, const char *id,
                              bool final)
{
    lt_buf_puts(out, "<str:");
    lt_buf_puts(out, elem);
    lt_buf_puts(out, " id=\"");
    lt_buf_puts(out, id);
    lt_buf_puts(out, "\" agencyID=\"" GW_SDMX_AGENCY "\" version=\"" GW_SDMX_VERSION "\" "
                     "isFinal=\"");
    lt_buf_puts(out, final ? "true" : "false");
    lt_buf_puts(out, "\" urn=\"" URN);
    lt_buf_puts(out, cls);
    lt_buf_puts(out, "=" GW_SDMX_AGENCY ":");
    lt_buf_puts(out, id);
    lt_buf_puts(out, VER "\">");
}

static void name(lt_buf *out, const char *lang, const char *text)
{
    lt_buf_puts(out, "<common:Name xml:lang=\"");
    lt_buf_puts(out, lang);
    lt_buf_puts(out, "\">");
    gw_sdmx_xml_esc(out, text);
    lt_buf_puts(out, "</common:Name>");
}

static void write_flow(lt_buf *out)
{
    lt_buf_puts(out, "<str:Dataflows>");
    open_maintainable(out, "Dataflow", "datastructure.Dataflow", GW_SDMX_FLOW, true);
    name(out, "en", "Socio-economic indicators");
    name(out, "vi", "Chỉ tiêu kinh tế - xã hội");
    lt_buf_puts(out, "<common:Description xml:lang=\"en\">Observations of every service whose "
                     "contract is indicator-observation, under the caller's grants"
                     "</common:Description><str:Structure><Ref id=\"" GW_SDMX_DSD
                     "\" version=\"" GW_SDMX_VERSION "\" agencyID=\"" GW_SDMX_AGENCY
                     "\" package=\"datastructure"
                     "\" class=\"DataStructure\"/></str:Structure></str:Dataflow>"
                     "</str:Dataflows>");
}

static void write_code(lt_buf *out, const char *list, const char *code, const char *nm,
                       const char *parent)
{
    lt_buf_puts(out, "<str:Code id=\"");
    gw_sdmx_xml_esc(out, code);
    lt_buf_puts(out, "\" urn=\"" URN "codelist.Code=" GW_SDMX_AGENCY ":");
    lt_buf_puts(out, list);
    lt_buf_puts(out, VER ".");
    gw_sdmx_xml_esc(out, code);
    lt_buf_puts(out, "\">");
    name(out, "vi", nm && *nm ? nm : code);
    if (parent && *parent) {
        lt_buf_puts(out, "<str:Parent><Ref id=\"");
        gw_sdmx_xml_esc(out, parent);
        lt_buf_puts(out, "\"/></str:Parent>");
    }
    lt_buf_puts(out, "</str:Code>");
}

/* A registry code list (codes: strings or {code, name?, parent?}) as an SDMX code list. */
static void write_codelist(lt_buf *out, const char *id, const char *en, const json_t *doc)
{
    open_maintainable(out, "Codelist", "codelist.Codelist", id, false);
    name(out, "en", en);
    const char *title = doc ? lt_json_str(doc, "title") : NULL;
    if (title && *title)
        name(out, "vi", title);
    size_t i;
    const json_t *c;
    json_array_foreach(doc ? json_object_get(doc, "codes") : NULL, i, c)
    {
        bool obj = json_is_object(c);
        const char *code = json_is_string(c) ? json_string_value(c) : lt_json_str(c, "code");
        if (code && *code)
            write_code(out, id, code, obj ? lt_json_str(c, "name") : NULL,
                       obj ? lt_json_str(c, "parent") : NULL);
    }
    lt_buf_puts(out, "</str:Codelist>");
}

static void write_status_list(lt_buf *out)
{
    static const char *const codes[] = {"A", "E", "P", "M", "U", "C"};
    open_maintainable(out, "Codelist", "codelist.Codelist", "CL_OBS_STATUS", true);
    name(out, "en", "Observation status");
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        write_code(out, "CL_OBS_STATUS", codes[i], gw_sdmx_status_name(codes[i]), NULL);
    lt_buf_puts(out, "</str:Codelist>");
}

static const char *const concepts[][2] = {
    {"INDICATOR", "Indicator"},          {"REF_AREA", "Reference area"},
    {"TIME_PERIOD", "Time period"},      {"OBS_VALUE", "Observation value"},
    {"UNIT_MEASURE", "Unit of measure"}, {"OBS_STATUS", "Observation status"},
    {"SOURCE_AGENCY", "Source agency"},
};
#define NCONCEPTS (sizeof concepts / sizeof concepts[0])

static void write_concepts(lt_buf *out)
{
    lt_buf_puts(out, "<str:Concepts>");
    open_maintainable(out, "ConceptScheme", "conceptscheme.ConceptScheme", GW_SDMX_CS, true);
    name(out, "en", "Socio-economic indicator concepts");
    for (size_t i = 0; i < NCONCEPTS; i++) {
        lt_buf_puts(out, "<str:Concept id=\"");
        lt_buf_puts(out, concepts[i][0]);
        lt_buf_puts(out,
                    "\" urn=\"" URN "conceptscheme.Concept=" GW_SDMX_AGENCY ":" GW_SDMX_CS VER ".");
        lt_buf_puts(out, concepts[i][0]);
        lt_buf_puts(out, "\">");
        name(out, "en", concepts[i][1]);
        lt_buf_puts(out, "</str:Concept>");
    }
    lt_buf_puts(out, "</str:ConceptScheme></str:Concepts>");
}

/* A DSD component: its concept and representation (a code list, or a text format). */
static void component(lt_buf *out, const char *elem, const char *id, const char *extra,
                      const char *codelist, const char *text_format)
{
    lt_buf_printf(out,
                  "<str:%s id=\"%s\"%s urn=\"" URN "datastructure.%s=" GW_SDMX_AGENCY
                  ":" GW_SDMX_DSD VER ".%s\"><str:ConceptIdentity><Ref id=\"%s\" "
                  "maintainableParentID=\"" GW_SDMX_CS
                  "\" maintainableParentVersion=\"" GW_SDMX_VERSION "\" agencyID=\"" GW_SDMX_AGENCY
                  "\" package=\"conceptscheme\" "
                  "class=\"Concept\"/></str:ConceptIdentity><str:LocalRepresentation>",
                  elem, id, extra, elem, id, id);
    if (codelist)
        lt_buf_printf(out,
                      "<str:Enumeration><Ref id=\"%s\" version=\"" GW_SDMX_VERSION "\" "
                      "agencyID=\"" GW_SDMX_AGENCY "\" package=\"codelist\" class=\"Codelist\"/>"
                      "</str:Enumeration>",
                      codelist);
    else
        lt_buf_printf(out, "<str:TextFormat %s/>", text_format);
    lt_buf_puts(out, "</str:LocalRepresentation>");
    if (strcmp(elem, "Attribute") == 0)
        lt_buf_puts(out, "<str:AttributeRelationship><str:PrimaryMeasure><Ref id=\"OBS_VALUE\"/>"
                         "</str:PrimaryMeasure></str:AttributeRelationship>");
    lt_buf_printf(out, "</str:%s>", elem);
}

static void write_dsd(lt_buf *out)
{
    const char *cond = " assignmentStatus=\"Conditional\"";
    lt_buf_puts(out, "<str:DataStructures>");
    open_maintainable(out, "DataStructure", "datastructure.DataStructure", GW_SDMX_DSD, true);
    name(out, "en", "Socio-economic indicator observations");
    lt_buf_puts(out, "<str:DataStructureComponents><str:DimensionList id=\"DimensionDescriptor\""
                     " urn=\"" URN "datastructure.DimensionDescriptor=" GW_SDMX_AGENCY
                     ":" GW_SDMX_DSD VER ".DimensionDescriptor\">");
    component(out, "Dimension", "INDICATOR", " position=\"1\"", "CL_INDICATOR", NULL);
    component(out, "Dimension", "REF_AREA", " position=\"2\"", "CL_AREA", NULL);
    component(out, "TimeDimension", "TIME_PERIOD", " position=\"3\"", NULL,
              "textType=\"ObservationalTimePeriod\"");
    lt_buf_puts(out, "</str:DimensionList><str:AttributeList id=\"AttributeDescriptor\" urn=\"" URN
                     "datastructure.AttributeDescriptor=" GW_SDMX_AGENCY ":" GW_SDMX_DSD VER
                     ".AttributeDescriptor\">");
    component(out, "Attribute", "UNIT_MEASURE", cond, NULL,
              "textType=\"String\" "
              "maxLength=\"32\"");
    component(out, "Attribute", "OBS_STATUS", cond, "CL_OBS_STATUS", NULL);
    component(out, "Attribute", "SOURCE_AGENCY", cond, NULL,
              "textType=\"String\" "
              "maxLength=\"35\"");
    lt_buf_puts(out, "</str:AttributeList><str:MeasureList id=\"MeasureDescriptor\" urn=\"" URN
                     "datastructure.MeasureDescriptor=" GW_SDMX_AGENCY ":" GW_SDMX_DSD VER
                     ".MeasureDescriptor\">");
    component(out, "PrimaryMeasure", "OBS_VALUE", "", NULL, "textType=\"Double\"");
    lt_buf_puts(out, "</str:MeasureList></str:DataStructureComponents></str:DataStructure>"
                     "</str:DataStructures>");
}

int gw_sdmx_write_structure(const gw_sdmx_struct_query *q, const json_t *indicators,
                            const json_t *areas, const char *id, int64_t prepared_us, lt_buf *out,
                            gw_sdmx_err *e)
{
    unsigned set = select_set(q);
    if (!set)
        return gw_sdmx_errf(e, GW_SDMX_E_NO_RESULTS, 404,
                            "no %s %.64s/%.64s/%.64s here; this "
                            "service maintains " GW_SDMX_AGENCY " " GW_SDMX_VERSION " artefacts",
                            served[q->resource], q->agency, q->id, q->version);
    lt_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<message:Structure "
                     "xmlns:message=\"" NS_MESSAGE "\" xmlns:str=\"" NS_STRUCTURE "\" "
                     "xmlns:common=\"" NS_COMMON "\">");
    gw_sdmx_xml_header_start(out, id, prepared_us);
    lt_buf_puts(out, "</message:Header>\n<message:Structures>");
    if (set & BIT(A_FLOW))
        write_flow(out);
    if (set & (BIT(A_CL_IND) | BIT(A_CL_AREA) | BIT(A_CL_STATUS))) {
        lt_buf_puts(out, "<str:Codelists>");
        if (set & BIT(A_CL_AREA))
            write_codelist(out, "CL_AREA", "Administrative areas", areas);
        if (set & BIT(A_CL_IND))
            write_codelist(out, "CL_INDICATOR", "Socio-economic indicators", indicators);
        if (set & BIT(A_CL_STATUS))
            write_status_list(out);
        lt_buf_puts(out, "</str:Codelists>");
    }
    if (set & BIT(A_CS))
        write_concepts(out);
    if (set & BIT(A_DSD))
        write_dsd(out);
    lt_buf_puts(out, "</message:Structures></message:Structure>\n");
    return 0;
}
