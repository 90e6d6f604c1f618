/* The three SDMX data writers (gw_sdmx.h): SDMX-ML 2.1 generic data, SDMX-JSON 2.0.0 and
 * SDMX-CSV 1.0.0, written straight into an lt_buf. They share the layout (which dimensions
 * key a series and which sit at the observation), the output order and one number format,
 * so the three always say the same thing. */
#include <stdlib.h>
#include <string.h>

#include "gw_sdmx.h"
#include "lt_str.h"

#define NS_MESSAGE "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
#define NS_GENERIC "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic"
#define NS_COMMON "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
#define STRUCTURE_ID GW_SDMX_AGENCY "_" GW_SDMX_FLOW "_1_0"
#define FLOW_REF GW_SDMX_AGENCY ":" GW_SDMX_FLOW "(" GW_SDMX_VERSION ")"
#define URN_FLOW "urn:sdmx:org.sdmx.infomodel.datastructure.Dataflow=" FLOW_REF
#define URN_DSD                                                                                    \
    "urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure=" GW_SDMX_AGENCY ":" GW_SDMX_DSD      \
    "(" GW_SDMX_VERSION ")"

static const char *const dim_id[3] = {"INDICATOR", "REF_AREA", "TIME_PERIOD"};
static const char *const dim_name[3] = {"Indicator", "Reference area", "Time period"};
enum { NATTR = 3 };
static const char *const attr_id[NATTR] = {"UNIT_MEASURE", "OBS_STATUS", "SOURCE_AGENCY"};
static const char *const attr_name[NATTR] = {"Unit of measure", "Observation status",
                                             "Source agency"};

/* ---- OBS_STATUS ---- */

static const struct {
    const char *status, *code;
} status_map[] = {
    {"ok", "A"},      {"official", "A"}, {"estimate", "E"},   {"preliminary", "P"},
    {"no_data", "M"}, {"unknown", "U"},  {"restricted", "C"},
};

const char *gw_sdmx_obs_status(const char *status)
{
    if (!status || !*status)
        return NULL;
    for (size_t i = 0; i < sizeof status_map / sizeof status_map[0]; i++)
        if (strcmp(status, status_map[i].status) == 0)
            return status_map[i].code;
    return NULL;
}

const char *gw_sdmx_status_name(const char *code)
{
    static const char *const names[][2] = {
        {"A", "Normal value"},
        {"E", "Estimated value"},
        {"P", "Provisional value"},
        {"M", "Missing value; no data"},
        {"U", "Low reliability; value unknown or incomplete"},
        {"C", "Confidential; not authorised"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(code, names[i][0]) == 0)
            return names[i][1];
    return code;
}

/* ---- layout and order ---- */

typedef struct layout {
    int series[3], nseries; /* dimensions keying a series, in DSD order */
    int obs[3], nobs;       /* dimensions at the observation */
    gw_sdmx_dim at;         /* dimensionAtObservation written in the header */
    bool keys_only;         /* serieskeysonly / nodata: no observations */
    bool attrs;             /* full: observation attributes written */
} layout;

static void layout_init(const gw_sdmx_data *d, layout *l)
{
    memset(l, 0, sizeof *l);
    l->keys_only = d->detail == GW_SDMX_SERIESKEYSONLY || d->detail == GW_SDMX_NODATA;
    l->attrs = d->detail == GW_SDMX_FULL;
    l->at = d->obs_dim;
    if (l->keys_only && l->at == GW_SDMX_DIM_ALL) /* series keys need series */
        l->at = GW_SDMX_DIM_TIME;
    for (int k = 0; k < 3; k++) {
        if (l->at == GW_SDMX_DIM_ALL || k == (int)l->at) {
            if (!l->keys_only)
                l->obs[l->nobs++] = k;
        } else {
            l->series[l->nseries++] = k;
        }
    }
}

/* A dimension's value of o (the period in its SDMX form, in buf). */
static const char *dim_text(const gw_obs *o, int dim, char buf[CT_PERIOD_MAX])
{
    if (dim == GW_SDMX_DIM_INDICATOR)
        return o->indicator;
    if (dim == GW_SDMX_DIM_AREA)
        return o->area;
    ct_period_format_sdmx(&o->p, buf);
    return buf;
}

static int dim_cmp(const gw_obs *a, const gw_obs *b, int dim)
{
    if (dim == GW_SDMX_DIM_TIME)
        return ct_period_cmp(&a->p, &b->p);
    return strcmp(dim == GW_SDMX_DIM_INDICATOR ? a->indicator : a->area,
                  dim == GW_SDMX_DIM_INDICATOR ? b->indicator : b->area);
}

static bool same_series(const layout *l, const gw_obs *a, const gw_obs *b)
{
    for (int i = 0; i < l->nseries; i++)
        if (dim_cmp(a, b, l->series[i]) != 0)
            return false;
    return true;
}

typedef struct sort_ctx {
    const gw_obs *obs;
    const layout *l;
} sort_ctx;

static int order_cmp(const void *pa, const void *pb, void *arg)
{
    const sort_ctx *c = arg;
    const gw_obs *a = &c->obs[*(const uint32_t *)pa], *b = &c->obs[*(const uint32_t *)pb];
    for (int i = 0; i < c->l->nseries; i++) {
        int r = dim_cmp(a, b, c->l->series[i]);
        if (r)
            return r;
    }
    return dim_cmp(a, b, c->l->at == GW_SDMX_DIM_ALL ? GW_SDMX_DIM_TIME : (int)c->l->at);
}

/* The output order: indices grouped by series (the input order already is, unless an
 * indicator or the area is at the observation). New array (free()); NULL on no memory. */
static uint32_t *make_order(const gw_sdmx_data *d, const layout *l)
{
    uint32_t *ord = malloc((d->n ? d->n : 1) * sizeof *ord);
    if (!ord)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        ord[i] = (uint32_t)i;
    if (l->at == GW_SDMX_DIM_INDICATOR || l->at == GW_SDMX_DIM_AREA) {
        sort_ctx c = {d->obs, l};
        qsort_r(ord, d->n, sizeof *ord, order_cmp, &c);
    }
    return ord;
}

/* The attribute values of o: unit, OBS_STATUS code, agency (NULL when absent). */
static void obs_attrs(const gw_sdmx_data *d, size_t i, const char *out[NATTR])
{
    const gw_obs *o = &d->obs[i];
    out[0] = o->unit && *o->unit ? o->unit : NULL;
    out[1] = gw_sdmx_obs_status(o->status);
    out[2] = d->agency && d->agency[i] && *d->agency[i] ? d->agency[i] : NULL;
}

static void put_num(lt_buf *out, double v)
{
    char num[32];
    lt_buf_append(out, num, gw_sdmx_num(v, num));
}

/* ---- SDMX-ML 2.1 generic data ---- */

static void xml_value(lt_buf *out, const char *id, const char *value)
{
    lt_buf_puts(out, "<generic:Value id=\"");
    lt_buf_puts(out, id);
    lt_buf_puts(out, "\" value=\"");
    gw_sdmx_xml_esc(out, value);
    lt_buf_puts(out, "\"/>");
}

static void xml_head(const gw_sdmx_data *d, const layout *l, lt_buf *out)
{
    static const char *const at[] = {"INDICATOR", "REF_AREA", "TIME_PERIOD", "AllDimensions"};
    lt_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<message:GenericData "
                     "xmlns:message=\"" NS_MESSAGE "\" xmlns:generic=\"" NS_GENERIC "\" "
                     "xmlns:common=\"" NS_COMMON "\">");
    gw_sdmx_xml_header_start(out, d->id, d->prepared_us);
    lt_buf_puts(out, "<message:Structure structureID=\"" STRUCTURE_ID "\" "
                     "dimensionAtObservation=\"");
    lt_buf_puts(out, at[l->at]);
    lt_buf_puts(
        out, "\"><common:StructureUsage><Ref agencyID=\"" GW_SDMX_AGENCY "\" id=\"" GW_SDMX_FLOW
             "\" version=\"" GW_SDMX_VERSION "\"/></common:StructureUsage>"
             "</message:Structure></message:Header>\n<message:DataSet structureRef=\"" STRUCTURE_ID
             "\" action=\"Information\">");
}

static void xml_obs(const gw_sdmx_data *d, const layout *l, size_t i, lt_buf *out)
{
    const gw_obs *o = &d->obs[i];
    char buf[CT_PERIOD_MAX];
    lt_buf_puts(out, "<generic:Obs>");
    if (l->nseries == 0) {
        lt_buf_puts(out, "<generic:ObsKey>");
        for (int k = 0; k < l->nobs; k++)
            xml_value(out, dim_id[l->obs[k]], dim_text(o, l->obs[k], buf));
        lt_buf_puts(out, "</generic:ObsKey>");
    } else {
        lt_buf_puts(out, "<generic:ObsDimension value=\"");
        gw_sdmx_xml_esc(out, dim_text(o, l->obs[0], buf));
        lt_buf_puts(out, "\"/>");
    }
    if (o->has_value) {
        lt_buf_puts(out, "<generic:ObsValue value=\"");
        put_num(out, o->value);
        lt_buf_puts(out, "\"/>");
    }
    const char *av[NATTR];
    obs_attrs(d, i, av);
    if (l->attrs && (av[0] || av[1] || av[2])) {
        lt_buf_puts(out, "<generic:Attributes>");
        for (int k = 0; k < NATTR; k++)
            if (av[k])
                xml_value(out, attr_id[k], av[k]);
        lt_buf_puts(out, "</generic:Attributes>");
    }
    lt_buf_puts(out, "</generic:Obs>");
}

static void xml_series_open(const gw_obs *o, const layout *l, lt_buf *out)
{
    char buf[CT_PERIOD_MAX];
    lt_buf_puts(out, "\n<generic:Series><generic:SeriesKey>");
    for (int k = 0; k < l->nseries; k++)
        xml_value(out, dim_id[l->series[k]], dim_text(o, l->series[k], buf));
    lt_buf_puts(out, "</generic:SeriesKey>");
}

lt_err gw_sdmx_write_generic(const gw_sdmx_data *d, lt_buf *out)
{
    layout l;
    layout_init(d, &l);
    uint32_t *ord = make_order(d, &l);
    if (!ord)
        return LT_E_NOMEM;
    xml_head(d, &l, out);
    for (size_t j = 0; j < d->n; j++) {
        size_t i = ord[j];
        bool first = j == 0 || !same_series(&l, &d->obs[ord[j - 1]], &d->obs[i]);
        if (l.nseries && first) {
            if (j)
                lt_buf_puts(out, "</generic:Series>");
            xml_series_open(&d->obs[i], &l, out);
        }
        if (!l.keys_only)
            xml_obs(d, &l, i, out);
    }
    if (l.nseries && d->n)
        lt_buf_puts(out, "</generic:Series>");
    lt_buf_puts(out, "\n</message:DataSet></message:GenericData>\n");
    free(ord);
    return LT_OK;
}

/* ---- SDMX-CSV 1.0.0 ---- */

static void csv_field(lt_buf *out, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        lt_buf_puts(out, s);
        return;
    }
    lt_buf_putc(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            lt_buf_putc(out, '"');
        lt_buf_putc(out, *p);
    }
    lt_buf_putc(out, '"');
}

/* True when dimension k is written in a CSV row (keys only: the series dimensions). */
static bool csv_dim(const layout *l, int k)
{
    if (!l->keys_only)
        return true;
    for (int i = 0; i < l->nseries; i++)
        if (l->series[i] == k)
            return true;
    return false;
}

static void csv_header(const layout *l, lt_buf *out)
{
    lt_buf_puts(out, "DATAFLOW");
    for (int k = 0; k < 3; k++)
        if (csv_dim(l, k)) {
            lt_buf_putc(out, ',');
            lt_buf_puts(out, dim_id[k]);
        }
    if (!l->keys_only)
        lt_buf_puts(out, ",OBS_VALUE");
    for (int k = 0; l->attrs && k < NATTR; k++) {
        lt_buf_putc(out, ',');
        lt_buf_puts(out, attr_id[k]);
    }
    lt_buf_puts(out, "\r\n");
}

static void csv_row(const gw_sdmx_data *d, const layout *l, size_t i, lt_buf *out)
{
    const gw_obs *o = &d->obs[i];
    char buf[CT_PERIOD_MAX];
    lt_buf_puts(out, FLOW_REF);
    for (int k = 0; k < 3; k++)
        if (csv_dim(l, k)) {
            lt_buf_putc(out, ',');
            csv_field(out, dim_text(o, k, buf));
        }
    if (!l->keys_only) {
        lt_buf_putc(out, ',');
        if (o->has_value)
            put_num(out, o->value);
    }
    const char *av[NATTR];
    obs_attrs(d, i, av);
    for (int k = 0; l->attrs && k < NATTR; k++) {
        lt_buf_putc(out, ',');
        csv_field(out, av[k]);
    }
    lt_buf_puts(out, "\r\n");
}

lt_err gw_sdmx_write_csv(const gw_sdmx_data *d, lt_buf *out)
{
    layout l;
    layout_init(d, &l);
    if (l.keys_only)
        l.attrs = false;
    uint32_t *ord = make_order(d, &l);
    if (!ord)
        return LT_E_NOMEM;
    csv_header(&l, out);
    for (size_t j = 0; j < d->n; j++) {
        if (l.keys_only && j && same_series(&l, &d->obs[ord[j - 1]], &d->obs[ord[j]]))
            continue;
        csv_row(d, &l, ord[j], out);
    }
    free(ord);
    return LT_OK;
}

/* ---- SDMX-JSON 2.0.0 ---- */

/* Distinct strings → index (open addressing, FNV-1a); keys borrowed. */
typedef struct dict {
    const char **keys;
    const ct_period **per; /* TIME_PERIOD: the period of each key */
    uint32_t *slots;       /* index + 1; 0 = empty */
    size_t n, cap;         /* cap: slots, a power of two, kept at most half full */
} dict;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int dict_grow(dict *t)
{
    size_t cap = t->cap ? t->cap * 2 : 64;
    uint32_t *slots = calloc(cap, sizeof *slots);
    const char **keys = realloc(t->keys, cap / 2 * sizeof *keys);
    const ct_period **per = keys ? realloc(t->per, cap / 2 * sizeof *per) : NULL;
    if (keys)
        t->keys = keys;
    if (per)
        t->per = per;
    if (!slots || !keys || !per) {
        free(slots);
        return -1;
    }
    for (size_t i = 0; i < t->n; i++) {
        size_t h = (size_t)hash_str(keys[i]) & (cap - 1);
        while (slots[h])
            h = (h + 1) & (cap - 1);
        slots[h] = (uint32_t)i + 1;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* The index of s (added when new); UINT32_MAX when s is NULL or memory fails. */
static uint32_t dict_add(dict *t, const char *s, const ct_period *p, bool *fail)
{
    if (!s)
        return UINT32_MAX;
    if ((t->n + 1) * 2 > t->cap && dict_grow(t)) {
        *fail = true;
        return UINT32_MAX;
    }
    size_t h = (size_t)hash_str(s) & (t->cap - 1);
    for (; t->slots[h]; h = (h + 1) & (t->cap - 1))
        if (strcmp(t->keys[t->slots[h] - 1], s) == 0)
            return t->slots[h] - 1;
    t->keys[t->n] = s;
    t->per[t->n] = p;
    t->slots[h] = (uint32_t)t->n + 1;
    return (uint32_t)t->n++;
}

static void dict_free(dict *t)
{
    free(t->keys);
    free(t->per);
    free(t->slots);
}

enum { C_IND, C_AREA, C_TIME, C_UNIT, C_STATUS, C_AGENCY, NCOMP };

typedef struct jprep {
    dict dict[NCOMP];
    uint32_t *rank[NCOMP]; /* first-seen index → position in the written values */
    uint32_t *ix;          /* per observation: NCOMP first-seen indices */
} jprep;

static int cmp_period_ix(const void *a, const void *b, void *arg)
{
    const dict *t = arg;
    return ct_period_cmp(t->per[*(const uint32_t *)a], t->per[*(const uint32_t *)b]);
}

static int cmp_key_ix(const void *a, const void *b, void *arg)
{
    const dict *t = arg;
    return strcmp(t->keys[*(const uint32_t *)a], t->keys[*(const uint32_t *)b]);
}

/* Sorts each dictionary's keys (codes by code, periods by time; attributes stay in
 * first-seen order) into rank[] and the written order into the keys themselves. */
static int jprep_rank(jprep *j)
{
    for (int c = 0; c < NCOMP; c++) {
        dict *t = &j->dict[c];
        uint32_t *pos = malloc((t->n ? t->n : 1) * sizeof *pos);
        j->rank[c] = malloc((t->n ? t->n : 1) * sizeof *pos);
        if (!pos || !j->rank[c]) {
            free(pos);
            return -1;
        }
        for (size_t i = 0; i < t->n; i++)
            pos[i] = (uint32_t)i;
        if (c <= C_TIME)
            qsort_r(pos, t->n, sizeof *pos, c == C_TIME ? cmp_period_ix : cmp_key_ix, t);
        for (size_t i = 0; i < t->n; i++)
            j->rank[c][pos[i]] = (uint32_t)i;
        free(pos);
    }
    return 0;
}

static int jprep_build(const gw_sdmx_data *d, jprep *j)
{
    memset(j, 0, sizeof *j);
    j->ix = malloc((d->n ? d->n : 1) * NCOMP * sizeof *j->ix);
    if (!j->ix)
        return -1;
    bool fail = false;
    for (size_t i = 0; i < d->n && !fail; i++) {
        const gw_obs *o = &d->obs[i];
        const char *av[NATTR];
        obs_attrs(d, i, av);
        uint32_t *x = &j->ix[i * NCOMP];
        x[C_IND] = dict_add(&j->dict[C_IND], o->indicator, NULL, &fail);
        x[C_AREA] = dict_add(&j->dict[C_AREA], o->area, NULL, &fail);
        x[C_TIME] = dict_add(&j->dict[C_TIME], o->period, &o->p, &fail);
        for (int k = 0; k < NATTR; k++)
            x[C_UNIT + k] = dict_add(&j->dict[C_UNIT + k], av[k], NULL, &fail);
    }
    return fail ? -1 : jprep_rank(j);
}

static void jprep_free(jprep *j)
{
    for (int c = 0; c < NCOMP; c++) {
        dict_free(&j->dict[c]);
        free(j->rank[c]);
    }
    free(j->ix);
}

static void json_kv(lt_buf *out, const char *key, const char *value)
{
    lt_buf_json_str(out, key, strlen(key));
    lt_buf_putc(out, ':');
    lt_buf_json_str(out, value, strlen(value));
}

/* The keys of a dictionary in written order (rank), as component values. */
static void json_values(const gw_sdmx_data *d, const jprep *j, int c, lt_buf *out)
{
    const dict *t = &j->dict[c];
    size_t *src = malloc((t->n ? t->n : 1) * sizeof *src);
    if (!src) {
        out->err = LT_E_NOMEM;
        return;
    }
    for (size_t i = 0; i < t->n; i++)
        src[j->rank[c][i]] = i;
    lt_buf_puts(out, ",\"values\":[");
    for (size_t r = 0; r < t->n; r++) {
        const char *key = t->keys[src[r]];
        lt_buf_puts(out, r ? ",{" : "{");
        if (c == C_UNIT || c == C_AGENCY) {
            json_kv(out, "value", key);
        } else if (c == C_STATUS) {
            json_kv(out, "id", key);
            lt_buf_putc(out, ',');
            json_kv(out, "name", gw_sdmx_status_name(key));
        } else if (c == C_TIME) {
            char per[CT_PERIOD_MAX], a[32], b[32];
            ct_period_format_sdmx(t->per[src[r]], per);
            lt_time_format(ct_period_first_day(t->per[src[r]]) * 86400 * 1000000, false, a);
            lt_time_format((ct_period_last_day(t->per[src[r]]) + 1) * 86400 * 1000000 - 1000000,
                           false, b);
            json_kv(out, "id", per);
            lt_buf_putc(out, ',');
            json_kv(out, "name", per);
            lt_buf_putc(out, ',');
            json_kv(out, "start", a);
            lt_buf_putc(out, ',');
            json_kv(out, "end", b);
        } else {
            const char *name = d->name ? d->name(d->name_ctx, (gw_sdmx_dim)c, key) : NULL;
            json_kv(out, "id", key);
            lt_buf_putc(out, ',');
            json_kv(out, "name", name && *name ? name : key);
        }
        lt_buf_putc(out, '}');
    }
    lt_buf_putc(out, ']');
    free(src);
}

static void json_dims(const gw_sdmx_data *d, const jprep *j, const int *dims, int n, lt_buf *out)
{
    static const char *const roles[3] = {"", "REF_AREA", "TIME_PERIOD"};
    lt_buf_putc(out, '[');
    for (int k = 0; k < n; k++) {
        int c = dims[k];
        lt_buf_puts(out, k ? ",{" : "{");
        json_kv(out, "id", dim_id[c]);
        lt_buf_putc(out, ',');
        json_kv(out, "name", dim_name[c]);
        lt_buf_puts(out, ",\"keyPosition\":");
        gw_sdmx_uint(out, (uint64_t)c);
        if (*roles[c]) {
            lt_buf_puts(out, ",\"roles\":[");
            lt_buf_json_str(out, roles[c], strlen(roles[c]));
            lt_buf_putc(out, ']');
        }
        json_values(d, j, c, out);
        lt_buf_putc(out, '}');
    }
    lt_buf_putc(out, ']');
}

static void json_attrs(const gw_sdmx_data *d, const jprep *j, const layout *l, lt_buf *out)
{
    lt_buf_puts(out, "\"attributes\":{\"dataSet\":[],\"series\":[],\"observation\":[");
    for (int k = 0; l->attrs && k < NATTR; k++) {
        lt_buf_puts(out, k ? ",{" : "{");
        json_kv(out, "id", attr_id[k]);
        lt_buf_putc(out, ',');
        json_kv(out, "name", attr_name[k]);
        lt_buf_puts(out, ",\"roles\":[");
        lt_buf_json_str(out, attr_id[k], strlen(attr_id[k]));
        lt_buf_puts(out, "],\"relationship\":{\"observation\":{}}");
        if (j->dict[C_UNIT + k].n)
            json_values(d, j, C_UNIT + k, out);
        lt_buf_putc(out, '}');
    }
    lt_buf_puts(out, "]}");
}

static void json_head(const gw_sdmx_data *d, const jprep *j, const layout *l, lt_buf *out)
{
    char when[32];
    lt_time_format(d->prepared_us, false, when);
    lt_buf_puts(out, "{\"meta\":{\"schema\":\"https://raw.githubusercontent.com/sdmx-twg/"
                     "sdmx-json/master/data-message/tools/schemas/2.0.0/sdmx-json-data-"
                     "schema.json\",");
    json_kv(out, "id", d->id);
    lt_buf_puts(out, ",\"test\":false,");
    json_kv(out, "prepared", when);
    lt_buf_puts(out, ",\"contentLanguages\":[\"vi\",\"en\"],\"sender\":{\"id\":\"" GW_SDMX_AGENCY
                     "\",\"name\":\"lienthong provincial data-sharing "
                     "gateway\"}},\"data\":{\"structures\":[{\"links\":[{\"urn\":\"" URN_FLOW
                     "\",\"rel\":\"dataflow\"},{\"urn\":\"" URN_DSD "\",\"rel\":"
                     "\"datastructure\"}],\"name\":\"Socio-economic indicators\","
                     "\"dimensions\":{\"dataSet\":[],\"series\":");
    json_dims(d, j, l->series, l->nseries, out);
    lt_buf_puts(out, ",\"observation\":");
    json_dims(d, j, l->obs, l->nobs, out);
    lt_buf_puts(out, "},\"measures\":{\"observation\":[");
    if (!l->keys_only)
        lt_buf_puts(out, "{\"id\":\"OBS_VALUE\",\"name\":\"Observation value\","
                         "\"roles\":[\"PRIMARY\"]}");
    lt_buf_puts(out, "]},");
    json_attrs(d, j, l, out);
    lt_buf_puts(out, ",\"dataSets\":[0]}],\"dataSets\":[{\"structure\":0,\"action\":"
                     "\"Information\",\"links\":[{\"urn\":\"" URN_FLOW "\",\"rel\":"
                     "\"dataflow\"}],");
}

/* "i:j:k" of the given dimensions of observation i. */
static void json_key(const jprep *j, size_t i, const int *dims, int n, lt_buf *out)
{
    lt_buf_putc(out, '"');
    for (int k = 0; k < n; k++) {
        if (k)
            lt_buf_putc(out, ':');
        gw_sdmx_uint(out, j->rank[dims[k]][j->ix[i * NCOMP + dims[k]]]);
    }
    lt_buf_putc(out, '"');
}

static void json_obs(const gw_sdmx_data *d, const jprep *j, const layout *l, size_t i, lt_buf *out)
{
    json_key(j, i, l->obs, l->nobs, out);
    lt_buf_puts(out, ":[");
    if (d->obs[i].has_value)
        put_num(out, d->obs[i].value);
    else
        lt_buf_puts(out, "null");
    for (int k = 0; l->attrs && k < NATTR; k++) {
        uint32_t x = j->ix[i * NCOMP + C_UNIT + k];
        lt_buf_putc(out, ',');
        if (x == UINT32_MAX)
            lt_buf_puts(out, "null");
        else
            gw_sdmx_uint(out, j->rank[C_UNIT + k][x]);
    }
    lt_buf_putc(out, ']');
}

static void json_body(const gw_sdmx_data *d, const jprep *j, const layout *l, const uint32_t *ord,
                      lt_buf *out)
{
    if (!l->nseries) { /* AllDimensions: a flat list of observations */
        lt_buf_puts(out, "\"observations\":{");
        for (size_t k = 0; k < d->n; k++) {
            if (k)
                lt_buf_putc(out, ',');
            json_obs(d, j, l, ord[k], out);
        }
        lt_buf_puts(out, "}}]}}\n");
        return;
    }
    lt_buf_puts(out, "\"series\":{");
    for (size_t k = 0; k < d->n; k++) {
        size_t i = ord[k];
        bool first = k == 0 || !same_series(l, &d->obs[ord[k - 1]], &d->obs[i]);
        if (!first && l->keys_only)
            continue;
        if (first) {
            if (k)
                lt_buf_puts(out, l->keys_only ? "}," : "}},");
            json_key(j, i, l->series, l->nseries, out);
            lt_buf_puts(out, l->keys_only ? ":{\"attributes\":[]"
                                          : ":{\"attributes\":[],\"observations\":{");
        } else {
            lt_buf_putc(out, ',');
        }
        if (!l->keys_only)
            json_obs(d, j, l, i, out);
    }
    if (d->n)
        lt_buf_puts(out, l->keys_only ? "}" : "}}");
    lt_buf_puts(out, "}}]}}\n");
}

lt_err gw_sdmx_write_json(const gw_sdmx_data *d, lt_buf *out)
{
    layout l;
    layout_init(d, &l);
    jprep j;
    memset(&j, 0, sizeof j);
    uint32_t *ord = make_order(d, &l);
    if (!ord || jprep_build(d, &j)) {
        free(ord);
        jprep_free(&j);
        return LT_E_NOMEM;
    }
    json_head(d, &j, &l, out);
    json_body(d, &j, &l, ord, out);
    jprep_free(&j);
    free(ord);
    return LT_OK;
}

lt_err gw_sdmx_write_data(gw_sdmx_fmt f, const gw_sdmx_data *d, lt_buf *out)
{
    static lt_err (*const writers[])(const gw_sdmx_data *, lt_buf *) = {
        [GW_SDMX_GENERIC] = gw_sdmx_write_generic,
        [GW_SDMX_JSON] = gw_sdmx_write_json,
        [GW_SDMX_CSV] = gw_sdmx_write_csv,
    };
    if (f < GW_SDMX_GENERIC || f > GW_SDMX_CSV)
        return LT_E_INTERNAL;
    return writers[f](d, out);
}
