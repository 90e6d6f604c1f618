/* Fuzzes the csv decoder: the input is a CSV payload run through fixed mappings (delimiter
 * sniffed, given as ';', only constants, and no fields at all), and every raw value emitted is
 * mapped again through ad_map_raw as a quarantine retry would. Nothing may crash, leak or
 * hang, and every record error must be valid UTF-8 (it ends up in a JSON problem). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ad_mapping.h"
#include "lt_json.h"

static const char *const mappings[] = {
    ("{\"fields\": {\"a\": {\"path\": \"a\"},"
     " \"b\": {\"path\": \"b\", \"type\": \"number\", \"decimal\": \",\", \"scale\": 0.001},"
     " \"c\": {\"path\": \"c\", \"format\": \"MM/YYYY\", \"default\": \"2025\"}}}"),
    ("{\"delimiter\": \";\", \"fields\": {\"a\": {\"path\": \" a \", \"map\": {\"LS\": \"20\"}},"
     " \"n\": {\"path\": \"b\", \"type\": \"integer\"}}}"),
    "{\"delimiter\": \"\\t\", \"fields\": {\"k\": {\"const\": 1}}}",
    "{}",
};

typedef struct fuzz_ctx {
    const ad_mapping *m;
    int retry; /* 1 while mapping a raw value again: no further retries */
} fuzz_ctx;

static void check_text(const char *s)
{
    if (s) {
        json_t *v = json_string(s);
        if (!v)
            __builtin_trap();
        json_decref(v);
    }
}

static int sink(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                const char *error)
{
    fuzz_ctx *c = ctx;
    (void)index;
    check_text(error);
    check_text(field);
    if (!raw || (!mapped && !error))
        __builtin_trap(); /* a failed record always says why */
    json_decref(mapped);
    if (!c->retry) {
        fuzz_ctx again = {c->m, 1};
        lt_errinfo ei = {0};
        ad_map_raw(c->m, "csv", raw, sink, &again, &ei);
        lt_errinfo_clear(&ei);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    for (size_t i = 0; i < sizeof mappings / sizeof mappings[0]; i++) {
        lt_errinfo ei = {0};
        json_t *doc = lt_json_load(mappings[i], strlen(mappings[i]), &ei);
        ad_mapping *m = NULL;
        if (!doc || ad_mapping_compile(doc, "csv", &m, &ei) != LT_OK)
            __builtin_trap(); /* the fixed mappings always compile */
        json_decref(doc);
        fuzz_ctx c = {m, 0};
        if (ad_map_payload(m, "csv", (const char *)data, size, 1000, sink, &c, &ei) != LT_OK)
            check_text(ei.detail);
        ad_mapping_free(m);
        lt_errinfo_clear(&ei);
    }
    return 0;
}
