/* ad_mapping — compiles a mapping document once (paths pre-split by the format's decoder,
 * options checked) and runs it over every record of a payload. The engine knows nothing of
 * any format: it drives the decoder from the format table (ad_int.h). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_int.h"
#include "lt_json.h"

#define ERR_MAX 256 /* one record error message */

struct ad_mapping {
    const ad_format *fmt;
    const ad_decoder *dec;
    ad_opts opts;       /* namespaces owned (deep copy) */
    void *records;      /* compiled selector, or NULL: the document is the list */
    char *records_text; /* selector as written (owned), NULL when absent */
    ad_field *fields;   /* NULL when "fields" is absent: records pass through as they are */
    size_t nfields;
};

static const char *const top_keys[] = {"records", "namespaces", "delimiter", "fields", NULL};
static const char *const field_keys[] = {"path",   "const",   "map",     "type", "scale",
                                         "format", "default", "decimal", NULL};
static const char *const type_names[] = {"", "string", "integer", "number", "boolean", NULL};

static void field_free(const ad_decoder *dec, ad_field *f)
{
    free(f->name);
    if (f->path)
        dec->free_path(f->path);
    json_decref(f->cnst);
    json_decref(f->map);
    json_decref(f->dflt);
    free(f->format);
}

void ad_mapping_free(ad_mapping *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nfields; i++)
        field_free(m->dec, &m->fields[i]);
    free(m->fields);
    if (m->records)
        m->dec->free_path(m->records);
    free(m->records_text);
    json_decref((json_t *)m->opts.namespaces);
    free(m);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static lt_err compile_type(const json_t *spec, ad_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *t = json_object_get(spec, "type");
    if (!t)
        return LT_OK;
    for (int i = 1; json_is_string(t) && type_names[i]; i++)
        if (strcmp(type_names[i], json_string_value(t)) == 0) {
            f->type = (ad_type)i;
            return LT_OK;
        }
    return lt_fail(ei, LT_E_INVALID, "%s: 'type' must be string, integer, number or boolean",
                   where);
}

static lt_err compile_scale(const json_t *spec, ad_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *s = json_object_get(spec, "scale");
    if (!s)
        return LT_OK;
    if (!json_is_number(s))
        return lt_fail(ei, LT_E_INVALID, "%s: 'scale' must be a number", where);
    if (f->type == AD_TYPE_STRING || f->type == AD_TYPE_BOOLEAN)
        return lt_fail(ei, LT_E_INVALID, "%s: 'scale' needs type number or integer", where);
    f->has_scale = 1;
    f->scale = json_number_value(s);
    /* An integral scale keeps integer sources exact (and scale 1 keeps them as they are). */
    if (f->scale == floor(f->scale) && fabs(f->scale) < 9.0e18) {
        f->scale_is_int = 1;
        f->scale_i = (json_int_t)f->scale;
    }
    return LT_OK;
}

static lt_err compile_text_opts(const json_t *spec, ad_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *d = json_object_get(spec, "decimal");
    f->decimal = '.';
    if (d) {
        const char *s = json_string_value(d);
        if (!s || json_string_length(d) != 1 || (s[0] != ',' && s[0] != '.'))
            return lt_fail(ei, LT_E_INVALID, "%s: 'decimal' must be \",\" or \".\"", where);
        f->decimal = s[0];
    }
    const json_t *fm = json_object_get(spec, "format");
    if (!fm)
        return LT_OK;
    if (!json_is_string(fm) || json_string_length(fm) == 0 ||
        strlen(json_string_value(fm)) != json_string_length(fm))
        return lt_fail(ei, LT_E_INVALID, "%s: 'format' must be a pattern such as \"MM/YYYY\"",
                       where);
    if (f->has_scale || (f->type != AD_TYPE_NONE && f->type != AD_TYPE_STRING))
        return lt_fail(ei, LT_E_INVALID,
                       "%s: 'format' makes a period text: no 'scale', and "
                       "'type' can only be string",
                       where);
    f->format = dup_n(json_string_value(fm), json_string_length(fm));
    return f->format ? LT_OK : lt_fail(ei, LT_E_NOMEM, "out of memory");
}

static lt_err compile_values(const json_t *spec, ad_field *f, const char *where, lt_errinfo *ei)
{
    const json_t *map = json_object_get(spec, "map");
    if (map && !json_is_object(map))
        return lt_fail(ei, LT_E_INVALID, "%s: 'map' must be an object of source text to value",
                       where);
    const json_t *cnst = json_object_get(spec, "const");
    const json_t *dflt = json_object_get(spec, "default");
    /* Deep copies: the compiled mapping must not change when the caller's document does. */
    if ((map && !(f->map = json_deep_copy(map))) || (cnst && !(f->cnst = json_deep_copy(cnst))) ||
        (dflt && !(f->dflt = json_deep_copy(dflt))))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return LT_OK;
}

static lt_err compile_field(const ad_mapping *m, const char *name, size_t nlen, const json_t *spec,
                            ad_field *f, lt_errinfo *ei)
{
    char where[160];
    snprintf(where, sizeof where, "mapping.fields.%.100s", name);
    if (!(f->name = dup_n(name, nlen)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    f->name_len = nlen;
    lt_err e = lt_json_check_keys(spec, field_keys, where, ei);
    if (e != LT_OK)
        return e;
    const json_t *path = json_object_get(spec, "path");
    if (!path == !json_object_get(spec, "const"))
        return lt_fail(ei, LT_E_INVALID, "%s: exactly one of 'path' or 'const' is required", where);
    if (path && !json_is_string(path))
        return lt_fail(ei, LT_E_INVALID, "%s: 'path' must be a string", where);
    if (path && (e = m->dec->compile_path(json_string_value(path), json_string_length(path), 0,
                                          &m->opts, where, &f->path, ei)) != LT_OK)
        return e;
    if ((e = compile_values(spec, f, where, ei)) != LT_OK ||
        (e = compile_type(spec, f, where, ei)) != LT_OK ||
        (e = compile_scale(spec, f, where, ei)) != LT_OK ||
        (e = compile_text_opts(spec, f, where, ei)) != LT_OK)
        return e;
    f->plain = !f->map && f->type == AD_TYPE_NONE && !f->has_scale && !f->format;
    return LT_OK;
}

static lt_err compile_fields(ad_mapping *m, const json_t *fields, lt_errinfo *ei)
{
    if (!fields)
        return LT_OK;
    if (!json_is_object(fields))
        return lt_fail(ei, LT_E_INVALID, "mapping.fields must be an object");
    size_t n = json_object_size(fields);
    m->fields = calloc(n ? n : 1, sizeof *m->fields);
    if (!m->fields)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    for (void *it = json_object_iter((json_t *)fields); it;
         it = json_object_iter_next((json_t *)fields, it)) {
        ad_field *f = &m->fields[m->nfields++];
        lt_err e = compile_field(m, json_object_iter_key(it), json_object_iter_key_len(it),
                                 json_object_iter_value(it), f, ei);
        if (e != LT_OK)
            return e;
    }
    return LT_OK;
}

static lt_err compile_opts(ad_mapping *m, const json_t *mapping, lt_errinfo *ei)
{
    const json_t *ns = json_object_get(mapping, "namespaces");
    if (ns) {
        const char *k;
        json_t *v;
        if (!json_is_object(ns))
            return lt_fail(ei, LT_E_INVALID, "mapping.namespaces must be an object");
        json_object_foreach((json_t *)ns, k, v)
        {
            if (!json_is_string(v))
                return lt_fail(ei, LT_E_INVALID,
                               "mapping.namespaces.%.100s must be a string (a URI)", k);
        }
        if (!(m->opts.namespaces = json_deep_copy(ns)))
            return lt_fail(ei, LT_E_NOMEM, "out of memory");
    }
    const json_t *d = json_object_get(mapping, "delimiter");
    if (d) {
        const char *s = json_string_value(d);
        if (!s || json_string_length(d) != 1 || s[0] == '"' || s[0] == '\n' || s[0] == '\r' ||
            s[0] == '\0')
            return lt_fail(ei, LT_E_INVALID,
                           "mapping.delimiter must be one character "
                           "(such as \";\")");
        m->opts.delimiter = s[0];
    }
    return LT_OK;
}

static lt_err compile_records(ad_mapping *m, const json_t *mapping, lt_errinfo *ei)
{
    const json_t *r = json_object_get(mapping, "records");
    if (!r)
        return LT_OK;
    if (!json_is_string(r))
        return lt_fail(ei, LT_E_INVALID, "mapping.records must be a string");
    if (!(m->records_text = dup_n(json_string_value(r), json_string_length(r))))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    return m->dec->compile_path(json_string_value(r), json_string_length(r), 1, &m->opts,
                                "mapping.records", &m->records, ei);
}

lt_err ad_mapping_compile(const json_t *mapping, const char *format, ad_mapping **out,
                          lt_errinfo *ei)
{
    *out = NULL;
    const ad_format *fmt = ad_format_by_name(format);
    if (!fmt)
        return lt_fail(ei, LT_E_INVALID, "unknown source format '%.40s'", format ? format : "");
    const ad_decoder *dec = ad_format_decoder(fmt);
    if (!dec)
        return lt_fail(ei, LT_E_INVALID, "source format '%s' is not supported by this build",
                       fmt->name);
    if (!mapping) {
        if (dec == &ad_json_decoder)
            return LT_OK; /* identity */
        return lt_fail(ei, LT_E_INVALID, "format '%s' needs a mapping", fmt->name);
    }
    lt_err e = lt_json_check_keys(mapping, top_keys, "mapping", ei);
    if (e != LT_OK)
        return e;
    ad_mapping *m = calloc(1, sizeof *m);
    if (!m)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    m->fmt = fmt;
    m->dec = dec;
    if ((e = compile_opts(m, mapping, ei)) != LT_OK ||
        (e = compile_records(m, mapping, ei)) != LT_OK ||
        (e = compile_fields(m, json_object_get(mapping, "fields"), ei)) != LT_OK) {
        ad_mapping_free(m);
        return e;
    }
    *out = m;
    return LT_OK;
}

/* ---- the engine ---- */

/* Maps one record. 0: *out is the new object; 1: record error (*bad, err); -1: no memory. */
static int map_record(const ad_mapping *m, const void *rec, json_t **out, const ad_field **bad,
                      char *err)
{
    json_t *obj = json_object();
    if (!obj)
        return -1;
    for (size_t i = 0; i < m->nfields; i++) {
        const ad_field *f = &m->fields[i];
        json_t *v = f->cnst ? ad_field_value(f->cnst) : m->dec->get(rec, f->path);
        if (!v || json_is_null(v)) {
            json_decref(v);
            v = ad_field_value(f->dflt); /* a target value: used as it is */
            if (!v)
                continue;
        } else if (!f->plain) {
            err[0] = '\0';
            if (!(v = ad_field_convert(f, v, err, ERR_MAX))) {
                json_decref(obj);
                *bad = f;
                return err[0] ? 1 : -1;
            }
        }
        if (json_object_setn_new_nocheck(obj, f->name, f->name_len, v) != 0) {
            json_decref(obj);
            return -1;
        }
    }
    *out = obj;
    return 0;
}

static lt_err run(const ad_mapping *m, const ad_decoder *dec, void *doc, size_t count,
                  ad_emit_fn emit, void *ctx, lt_errinfo *ei)
{
    char err[ERR_MAX];
    for (size_t i = 0; i < count; i++) {
        json_t *raw = NULL, *mapped = NULL;
        const void *rec = dec->record(doc, i, &raw);
        const ad_field *bad = NULL;
        /* A record the source got wrong (a csv row of the wrong width) is not mapped. */
        const char *broken = dec->record_error ? dec->record_error(rec, err, ERR_MAX) : NULL;
        int rc = broken ? 1 : 0;
        if (!broken && (!m || !m->fields))
            mapped = json_incref(raw);
        else if (!broken)
            rc = map_record(m, rec, &mapped, &bad, err);
        if (rc < 0) {
            json_decref(raw);
            return lt_fail(ei, LT_E_NOMEM, "out of memory mapping record %zu", i);
        }
        int stop = rc == 0 ? emit(ctx, (long)i, mapped, raw, NULL, NULL)
                           : emit(ctx, (long)i, NULL, raw, bad ? bad->name : NULL, err);
        json_decref(raw);
        if (stop)
            break;
    }
    return LT_OK;
}

/* Lets the decoder reject a field path the opened payload cannot satisfy (csv: a column the
 * header lacks) once, before any record is mapped. */
static lt_err check_paths(const ad_mapping *m, const ad_decoder *dec, void *doc, lt_errinfo *ei)
{
    for (size_t i = 0; m && dec->check_path && i < m->nfields; i++) {
        char where[160];
        if (!m->fields[i].path)
            continue;
        snprintf(where, sizeof where, "mapping.fields.%.100s", m->fields[i].name);
        lt_err e = dec->check_path(doc, m->fields[i].path, where, ei);
        if (e != LT_OK)
            return e;
    }
    return LT_OK;
}

static lt_err check_count(size_t count, size_t max_records, lt_errinfo *ei)
{
    if (max_records && count > max_records)
        return lt_fail(ei, LT_E_TOO_LARGE, "%zu records, more than the limit of %zu", count,
                       max_records);
    return LT_OK;
}

/* The decoder of a format this build reads, checked against the mapping (NULL mapping: JSON
 * identity only); with raw, the decoder must also re-open quarantined records. */
static lt_err decoder_for(const ad_mapping *m, const char *format, bool raw,
                          const ad_decoder **out, lt_errinfo *ei)
{
    const ad_format *fmt = ad_format_by_name(format);
    const ad_decoder *dec = ad_format_decoder(fmt);
    if (!dec || (raw && !dec->open_raw))
        return lt_fail(ei, LT_E_MEDIA_TYPE, "source format '%.40s' is not supported by this "
                       "build", format ? format : "");
    if (m ? m->fmt != fmt : dec != &ad_json_decoder)
        return lt_fail(ei, LT_E_INTERNAL, "the mapping was not compiled for format '%s'",
                       fmt->name);
    *out = dec;
    return LT_OK;
}

lt_err ad_map_payload(const ad_mapping *m, const char *format, const char *body, size_t len,
                      size_t max_records, ad_emit_fn emit, void *ctx, lt_errinfo *ei)
{
    const ad_decoder *dec = NULL;
    lt_err e = decoder_for(m, format, false, &dec, ei);
    if (e != LT_OK)
        return e;
    ad_opts none = {0, NULL};
    void *doc = NULL;
    size_t count = 0;
    e = dec->open(body, len, m ? &m->opts : &none, &doc, ei);
    if (e == LT_OK)
        e = dec->select(doc, m ? m->records : NULL, m ? m->records_text : NULL, &count, ei);
    if (e == LT_OK)
        e = check_paths(m, dec, doc, ei);
    if (e == LT_OK)
        e = check_count(count, max_records, ei);
    if (e == LT_OK)
        e = run(m, dec, doc, count, emit, ctx, ei);
    if (doc)
        dec->close(doc);
    return e;
}

lt_err ad_map_raw(const ad_mapping *m, const char *format, const json_t *raw, ad_emit_fn emit,
                  void *ctx, lt_errinfo *ei)
{
    const ad_decoder *dec = NULL;
    lt_err e = decoder_for(m, format, true, &dec, ei);
    if (e != LT_OK)
        return e;
    ad_opts none = {0, NULL};
    void *doc = NULL;
    size_t count = 0;
    e = dec->open_raw(raw, m ? &m->opts : &none, &doc, ei);
    if (e == LT_OK)
        e = dec->select(doc, NULL, NULL, &count, ei);
    if (e == LT_OK)
        e = check_paths(m, dec, doc, ei);
    if (e == LT_OK)
        e = run(m, dec, doc, count, emit, ctx, ei);
    if (doc)
        dec->close(doc);
    return e;
}

lt_err ad_map_records(const ad_mapping *m, const json_t *records, size_t max_records,
                      ad_emit_fn emit, void *ctx, lt_errinfo *ei)
{
    if (m && m->dec != &ad_json_decoder)
        return lt_fail(ei, LT_E_INTERNAL, "a '%s' mapping cannot read JSON records", m->fmt->name);
    if (!json_is_array(records))
        return lt_fail(ei, LT_E_INVALID, "records must be a JSON array");
    lt_err e = check_count(json_array_size(records), max_records, ei);
    if (e != LT_OK)
        return e;
    ad_json_doc doc = {NULL, records};
    return run(m, &ad_json_decoder, &doc, json_array_size(records), emit, ctx, ei);
}
