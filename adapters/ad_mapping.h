/* ad_mapping — the declarative mapping engine: a provider's payload in, contract-shaped
 * records out. One engine, several decoders (a table of formats: json now; xml, soap, csv
 * plug in as more rows with the same interface).
 *
 * Mapping document (API.md §5): {"records": "<JSON Pointer | XPath>", "namespaces": {...},
 * "delimiter": ";", "fields": {"<contract field>": {"path" | "const", "map"?, "type"?,
 * "scale"?, "format"?, "default"?, "decimal"?}}}.
 *  - path: JSON Pointer relative to one record for json ("/tinh", "" = the record itself).
 *  - const: any JSON value, used as is.
 *  - map: object translating source text -> target value; a value absent from the map is a
 *    record error ("no mapping for 'X'").
 *  - type: string | integer | number | boolean — converts text/number sources ("4736,0" with
 *    decimal ",", "1.234"); failure is a record error.
 *  - scale: multiply a number by it (after type conversion).
 *  - format: for periods/dates: a ct_period_parse_pattern pattern ("MM/YYYY"); the output is
 *    the canonical period text.
 *  - default: used when the source value is missing or null.
 *  - decimal: "," or "." (default ".").
 * A source value that is missing and has no default leaves the field absent (the contract
 * then decides whether that is an error). Unknown keys are LT_E_INVALID.
 *
 * Ownership: ad_mapping_compile returns a new mapping (free with ad_mapping_free). emit gets a
 * new reference in `mapped` (the callee owns it) and a borrowed `raw` valid during the call.
 * Thread safety: a compiled mapping is immutable and shareable; ad_map_payload is reentrant.
 */
#ifndef AD_MAPPING_H
#define AD_MAPPING_H

#include <jansson.h>
#include <stddef.h>

#include "lt_err.h"

typedef struct ad_mapping ad_mapping;

/* One row of the format table. */
typedef struct ad_format {
    const char *name;                /* "json" */
    const char *const *media_types;  /* NULL-terminated, lowercase, without parameters */
    int implemented;                 /* 0: known name but not built yet (decode says so) */
} ad_format;

/* Initialises the third-party parsers the formats use (libxml2) once per process; call it
 * before worker threads start (every decoder also calls it, so it is never wrong to skip). */
void ad_init(void);

/* Format by its name in a service definition; NULL if unknown. */
const ad_format *ad_format_by_name(const char *name);
/* Format by Content-Type (parameters such as charset ignored, case-insensitive); NULL if none. */
const ad_format *ad_format_by_media(const char *content_type);

/* Compiles a mapping for a format. NULL mapping (json only) means identity: each record is
 * taken as it is. */
lt_err ad_mapping_compile(const json_t *mapping, const char *format, ad_mapping **out,
                          lt_errinfo *ei);
void ad_mapping_free(ad_mapping *m);

/* Called once per source record, in order. mapped is NULL when the record failed mapping;
 * then field/error say why (field may be NULL). Return 0 to go on, non-zero to stop. */
typedef int (*ad_emit_fn)(void *ctx, long index, json_t *mapped, const json_t *raw,
                          const char *field, const char *error);

/* Decodes body in `format` and maps each record (m may be NULL for identity on json).
 * Whole-payload problems return an error and emit nothing: LT_E_BAD_JSON / LT_E_BAD_UTF8
 * for unparseable bodies, LT_E_INVALID when the records selector finds nothing that is a list
 * ("mapping.records '/items' does not select an array"), LT_E_TOO_LARGE past max_records.
 * An empty list is LT_OK with no emits. */
lt_err ad_map_payload(const ad_mapping *m, const char *format, const char *body, size_t len,
                      size_t max_records, ad_emit_fn emit, void *ctx, lt_errinfo *ei);

/* Same, for records already decoded as a JSON array (the exchange envelope path). */
lt_err ad_map_records(const ad_mapping *m, const json_t *records, size_t max_records,
                      ad_emit_fn emit, void *ctx, lt_errinfo *ei);

/* Maps one record again from the `raw` value emitted when it was first seen (retrying a
 * quarantined record after the mapping or a code list was fixed), in the mapping's format. */
lt_err ad_map_raw(const ad_mapping *m, const char *format, const json_t *raw, ad_emit_fn emit,
                  void *ctx, lt_errinfo *ei);

#endif
