/* Fuzz target for contract definitions: the input is JSON given to ct_contract_parse; a
 * contract that compiles validates a few fixed records and one record built from its fields,
 * and normalization must be idempotent. The input also goes through the code-list and
 * envelope checks, which share the strict-key style. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ct_contract.h"
#include "lt_json.h"

static const char *const fixed_records[] = {
    "{\"indicator\": \"T0501\", \"area\": \"20\", \"period\": \"2025-07\", \"value\": 1.5}",
    ("{\"indicator\": \"T0501\", \"area\": 20, \"period\": \"2025-Q3\", \"status\": \"ok\","
     " \"unit\": \"tỷ đồng\", \"value\": null}"),
    "{\"k\": \"a~b\", \"n\": 3.0, \"d\": \"2024-02-29\", \"t\": \"2026-11-22T05:00:00Z\"}",
    "{\"foo\": [1, {\"x\": 2}], \"period\": \"2025-W53\", \"b\": true}",
    "[]",
};

/* Values tried for the fields of the built record, cycling by field position. */
static const char *const samples[] = {
    "\"2025-07\"",
    "\"20\"",
    "1.5",
    "3",
    "true",
    "null",
    "\"ok\"",
    "\"2024-02-29\"",
    "\"2026-11-22T05:00:00+07:00\"",
    "\"AB-12\"",
    "12",
    "\"x\"",
};

/* Codes of at most two characters are members of every list. */
static bool codes(void *ctx, const char *list, const char *code)
{
    (void)ctx;
    (void)list;
    return strlen(code) <= 2;
}

static void check_record(const ct_contract *c, const json_t *rec)
{
    json_t *out = NULL, *again = NULL;
    lt_errinfo ei = {0};
    if (ct_validate(c, rec, 0, codes, NULL, &out, &ei) == LT_OK) {
        char key[512];
        (void)ct_record_key(c, out, key, sizeof key);
        if (ct_validate(c, out, 0, codes, NULL, &again, NULL) != LT_OK || !json_equal(out, again))
            __builtin_trap(); /* a normalized record must validate to itself */
    }
    json_decref(again);
    json_decref(out);
    lt_errinfo_clear(&ei);
}

static json_t *built_record(const ct_contract *c)
{
    json_t *rec = json_object();
    for (size_t i = 0; rec && i < c->nfields; i++) {
        const char *t = samples[(i + c->nfields) % (sizeof samples / sizeof samples[0])];
        json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
        if (c->fields[i].type == CT_ENUM) {
            json_decref(v);
            v = json_string(c->fields[i].values[0]);
        }
        json_object_set_new(rec, c->fields[i].name, v);
    }
    return rec;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lt_errinfo ei = {0};
    json_t *def = lt_json_load((const char *)data, size, &ei);
    lt_errinfo_clear(&ei);
    if (!def)
        return 0;
    const json_t *recs;
    (void)ct_codelist_check(def, NULL, NULL);
    (void)ct_envelope_check(def, "stc", "obs@1", &recs, NULL);
    ct_contract *c = NULL;
    if (ct_contract_parse(def, &c, &ei) == LT_OK) {
        for (size_t i = 0; i < sizeof fixed_records / sizeof fixed_records[0]; i++) {
            json_t *rec = json_loads(fixed_records[i], JSON_DECODE_ANY, NULL);
            check_record(c, rec);
            json_decref(rec);
        }
        json_t *rec = built_record(c);
        check_record(c, rec);
        json_decref(rec);
        ct_contract_free(c);
    }
    lt_errinfo_clear(&ei);
    json_decref(def);
    return 0;
}
