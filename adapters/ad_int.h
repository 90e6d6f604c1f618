/* ad_int — adapters internals: the decoder interface the mapping engine drives, the format
 * table rows behind ad_format, and the JSON decoder's RFC 6901 JSON Pointer.
 * Never included from outside adapters/.
 *
 * A decoder is data (a struct of function pointers): compile its path syntax, open a document,
 * select the records, hand out one record at a time and fetch a field of a record by a
 * compiled path as a JSON value. Adding xml, soap or csv means writing one decoder and setting
 * its row in ad_format.c; the engine in ad_mapping.c does not change.
 */
#ifndef AD_INT_H
#define AD_INT_H

#include <jansson.h>
#include <stddef.h>

#include "ad_mapping.h"
#include "lt_err.h"

/* Source options a decoder may need when opening a document (from the mapping). */
typedef struct ad_opts {
    char delimiter;           /* csv: field separator; 0 = the decoder's default */
    const json_t *namespaces; /* xml/soap: prefix -> URI object; borrowed, may be NULL */
} ad_opts;

typedef struct ad_decoder {
    /* Compiles a records selector (is_records != 0) or a field path written in this format's
     * syntax. *out is new (free with free_path); NULL is a valid result meaning "the record /
     * document itself". Errors are LT_E_INVALID naming `where`. */
    lt_err (*compile_path)(const char *text, size_t len, int is_records, const ad_opts *o,
                           const char *where, void **out, lt_errinfo *ei);
    void (*free_path)(void *path);
    /* Parses a body into a new document (free with close). */
    lt_err (*open)(const char *body, size_t len, const ad_opts *o, void **doc, lt_errinfo *ei);
    /* Selects the records with a compiled selector (NULL: the document itself is the list)
     * and sets *count. `shown` is the selector as written, for the error text. */
    lt_err (*select)(void *doc, const void *records, const char *shown, size_t *count,
                     lt_errinfo *ei);
    /* Record i < count: a handle for get (borrowed until close) and, in *raw, the record as a
     * JSON value (new reference). */
    const void *(*record)(void *doc, size_t i, json_t **raw);
    /* A field of a record by compiled path (NULL: the record itself): new reference, or NULL
     * when the path selects nothing. */
    json_t *(*get)(const void *rec, const void *path);
    void (*close)(void *doc);
    /* Re-opens one record from the `raw` value record() produced (a quarantined record being
     * retried) as a new document whose only record is that one: select with NULL then gives
     * count 1. json: raw is the record; xml/soap: raw is a string holding the record element
     * as a standalone XML document (in-scope namespaces declared on it); csv: raw is an
     * object {column header: cell text}, or an array of cells for a row that did not match
     * its header. */
    lt_err (*open_raw)(const json_t *raw, const ad_opts *o, void **doc, lt_errinfo *ei);
    /* Optional (NULL: nothing to check). Checks a compiled field path against an opened
     * document before any record is mapped, so a mapping that cannot fit the payload fails
     * once instead of on every record (csv: the column must be in the header). `where` is
     * "mapping.fields.NAME"; errors are LT_E_INVALID. */
    lt_err (*check_path)(void *doc, const void *path, const char *where, lt_errinfo *ei);
    /* Optional (NULL: records are always well-formed). A record the source itself got wrong
     * (csv: a row with another number of cells than the header): writes why into buf and
     * returns buf; the engine emits it as a failed record without mapping it. NULL when the
     * record is fine. */
    const char *(*record_error)(const void *rec, char *buf, size_t size);
} ad_decoder;

/* The row behind each public ad_format (pub first, so a const ad_format * converts back). */
typedef struct ad_format_row {
    ad_format pub;
    const ad_decoder *dec; /* NULL while the format has no decoder in this build */
} ad_format_row;

/* Decoder of a format from the table; NULL when the format has none in this build. */
const ad_decoder *ad_format_decoder(const ad_format *f);

/* ---- JSON decoder and RFC 6901 JSON Pointer (ad_json.c) ---- */

extern const ad_decoder ad_json_decoder;
extern const ad_decoder ad_xml_decoder, ad_soap_decoder; /* ad_xml.c: paths are XPath 1.0 */
extern const ad_decoder ad_csv_decoder; /* ad_csv.c: paths are column headers */

typedef struct ad_ptr_tok {
    const char *s; /* unescaped reference token (~0 -> ~, ~1 -> /), may hold NUL bytes */
    size_t len;
    long idx; /* array index the token spells, or -1 when it is not one */
} ad_ptr_tok;

typedef struct ad_ptr {
    size_t ntok;
    ad_ptr_tok *tok; /* points into the same allocation as the struct */
} ad_ptr;

/* Compiles a JSON Pointer ("" or "/a/b~1c"). *out is new (free with ad_ptr_free); an empty
 * pointer compiles to a zero-token ad_ptr. Fails with LT_E_INVALID "WHERE: ..." on a pointer
 * not starting with '/' or with a '~' not followed by 0 or 1. */
lt_err ad_ptr_compile(const char *s, size_t len, const char *where, ad_ptr **out, lt_errinfo *ei);
void ad_ptr_free(ad_ptr *p);
/* Resolves p against v: borrowed pointer into v, or NULL when nothing is there. */
const json_t *ad_ptr_get(const ad_ptr *p, const json_t *v);

/* A JSON decoder document over an array someone else owns (ad_map_records). */
typedef struct ad_json_doc {
    json_t *root;       /* owned when opened from text; NULL for a wrapped array */
    const json_t *list; /* the selected records array (borrowed from root or the caller) */
} ad_json_doc;

/* ---- one compiled field of a mapping (ad_mapping.c compiles, ad_field.c converts) ---- */

typedef enum ad_type {
    AD_TYPE_NONE = 0,
    AD_TYPE_STRING,
    AD_TYPE_INTEGER,
    AD_TYPE_NUMBER,
    AD_TYPE_BOOLEAN
} ad_type;

typedef struct ad_field {
    char *name; /* contract field name (owned) */
    size_t name_len;
    void *path;   /* compiled by the decoder (owned); NULL: the record itself */
    json_t *cnst; /* "const" (owned deep copy) or NULL */
    json_t *map;  /* "map" object (owned deep copy) or NULL */
    json_t *dflt; /* "default" (owned deep copy) or NULL */
    char *format; /* period pattern (owned) or NULL */
    ad_type type;
    int has_scale;
    int scale_is_int; /* scale was a JSON integer: integer sources stay integers */
    double scale;
    json_int_t scale_i;
    char decimal; /* '.' or ',' */
    int plain;    /* no map, type, scale or format: the value is used as is */
} ad_field;

/* A value of the compiled mapping (const, default, map target) for one output record: a new
 * reference; objects and arrays are copied so a caller editing its record cannot change the
 * shared mapping (scalars are shared, refcounted atomically). */
json_t *ad_field_value(const json_t *v);

/* Runs v through map, type, scale and format. Consumes v (a new reference) and returns a new
 * reference, or NULL with a record error text in err ("no mapping for 'X'"). */
json_t *ad_field_convert(const ad_field *f, json_t *v, char *err, size_t errsz);

#endif
