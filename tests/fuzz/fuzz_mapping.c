/* Fuzzes the mapping engine two ways with the same input: as a JSON payload run through a
 * fixed mapping that uses every conversion, and as a mapping document to compile (and, when
 * it compiles, to run over a small fixed payload). Nothing may crash, leak or hang. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ad_mapping.h"
#include "lt_json.h"

static const char fixed_mapping[] =
    "{\"records\": \"/items\", \"fields\": {"
    "\"indicator\": {\"const\": \"THU_NSNN\"},"
    "\"area\": {\"path\": \"/tinh\", \"map\": {\"LS\": \"20\", \"1\": \"01\", \"true\": null}},"
    "\"period\": {\"path\": \"/ky\", \"format\": \"MM/YYYY\"},"
    "\"day\": {\"path\": \"/ngay\", \"format\": \"DD/MM/YYYY\", \"default\": \"2025\"},"
    "\"value\": {\"path\": \"/so~1tien\", \"type\": \"number\", \"decimal\": \",\","
    " \"scale\": 0.001},"
    "\"count\": {\"path\": \"/n/0\", \"type\": \"integer\", \"scale\": 2},"
    "\"flag\": {\"path\": \"/c\", \"type\": \"boolean\"},"
    "\"label\": {\"path\": \"/m~0x\", \"type\": \"string\"},"
    "\"whole\": {\"path\": \"\"}}}";

static const char fixed_payload[] =
    "{\"items\": [{\"tinh\": \"LS\", \"ky\": \"10/2026\", \"so/tien\": \"4.736,5\", \"n\": [3],"
    " \"c\": \"1\", \"m~x\": 1.5}, {\"tinh\": 1, \"ky\": 202610}, 7, null, []]}";

static int sink(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                const char *error)
{
    (void)ctx, (void)index, (void)raw, (void)field;
    /* Error text must be valid UTF-8: it ends up in a JSON problem document. */
    if (error) {
        json_t *s = json_string(error);
        if (!s)
            __builtin_trap();
        json_decref(s);
    }
    json_decref(mapped);
    return 0;
}

static void run_payload(const uint8_t *data, size_t size)
{
    lt_errinfo ei = {0};
    json_t *doc = lt_json_load(fixed_mapping, sizeof fixed_mapping - 1, &ei);
    ad_mapping *m = NULL;
    if (!doc || ad_mapping_compile(doc, "json", &m, &ei) != LT_OK)
        __builtin_trap(); /* the fixed mapping always compiles */
    json_decref(doc);
    ad_map_payload(m, "json", (const char *)data, size, 1000, sink, NULL, &ei);
    ad_map_payload(NULL, "json", (const char *)data, size, 1000, sink, NULL, &ei);
    ad_mapping_free(m);
    lt_errinfo_clear(&ei);
}

static void run_mapping(const uint8_t *data, size_t size)
{
    lt_errinfo ei = {0};
    json_t *doc = lt_json_load((const char *)data, size, &ei);
    ad_mapping *m = NULL;
    if (doc && ad_mapping_compile(doc, "json", &m, &ei) == LT_OK) {
        ad_map_payload(m, "json", fixed_payload, sizeof fixed_payload - 1, 1000, sink, NULL, &ei);
        /* The same records already decoded, as the exchange envelope path sees them. */
        json_t *p = lt_json_load(fixed_payload, sizeof fixed_payload - 1, &ei);
        ad_map_records(m, json_object_get(p, "items"), 1000, sink, NULL, &ei);
        json_decref(p);
    }
    ad_mapping_free(m);
    json_decref(doc);
    lt_errinfo_clear(&ei);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    run_payload(data, size);
    run_mapping(data, size);
    return 0;
}
