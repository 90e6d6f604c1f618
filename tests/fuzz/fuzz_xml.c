/* Fuzzes the xml and soap decoders with the same input: as a SOAP answer through a fixed soap
 * mapping (the API.md §5 one plus XPath functions and attributes), and as an XML push through
 * a fixed xml mapping with the default selection. Every record's raw value is mapped again
 * through ad_map_raw (the quarantine retry), which must always re-open. Nothing may crash,
 * leak, hang, read a file or produce an error text that is not UTF-8. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ad_mapping.h"
#include "lt_json.h"

static const char soap_mapping[] =
    "{\"records\": \"//ns:KhoanThu | //soapenv:Body/*/*[@id]\", \"namespaces\": {\"ns\": "
    "\"urn:stc\"}, \"fields\": {"
    "\"indicator\": {\"const\": \"THU_NSNN\"},"
    "\"area\": {\"path\": \"ns:MaDonVi\", \"map\": {\"LS\": \"20\", \"HN\": \"01\"}},"
    "\"period\": {\"path\": \"ns:Ky\", \"format\": \"MM/YYYY\"},"
    "\"value\": {\"path\": \"ns:SoTien\", \"type\": \"number\", \"scale\": 0.000000001},"
    "\"name\": {\"path\": \"normalize-space(ns:Ten)\"},"
    "\"n\": {\"path\": \"count(*)\"}, \"x\": {\"path\": \"number(@id) * 2\"},"
    "\"id\": {\"path\": \"@id\", \"type\": \"integer\"}, \"all\": {\"path\": \"\"}}}";

static const char xml_mapping[] =
    "{\"fields\": {\"a\": {\"path\": \"@*\"}, \"t\": {\"path\": \"text()\"},"
    " \"c\": {\"path\": \"*[1]\", \"type\": \"boolean\"}, \"d\": {\"path\": \"*/*\","
    " \"type\": \"number\", \"decimal\": \",\"}, \"up\": {\"path\": \"../@*\"},"
    " \"ns\": {\"path\": \"namespace::*\"}, \"has\": {\"path\": \"boolean(.//*)\"}}}";

typedef struct fuzz_ctx {
    const ad_mapping *m;
    const char *format;
    int retrying;
} fuzz_ctx;

static void check_utf8(const char *text)
{
    json_t *s = text ? json_string(text) : NULL;
    if (text && !s)
        __builtin_trap(); /* error texts end up in JSON problem documents */
    json_decref(s);
}

static int sink(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                const char *error)
{
    fuzz_ctx *c = ctx;
    (void)index, (void)field;
    check_utf8(error);
    json_decref(mapped);
    if (!json_is_string(raw))
        __builtin_trap(); /* record() gives the record's XML text */
    if (!c->retrying) {
        fuzz_ctx again = {c->m, c->format, 1};
        lt_errinfo ei = {0};
        if (ad_map_raw(c->m, c->format, raw, sink, &again, &ei) != LT_OK)
            __builtin_trap(); /* a record taken from a parsed document always re-opens */
        lt_errinfo_clear(&ei);
    }
    return 0;
}

static void run(const char *mapping, size_t mlen, const char *format, const uint8_t *data,
                size_t size)
{
    lt_errinfo ei = {0};
    json_t *doc = lt_json_load(mapping, mlen, &ei);
    ad_mapping *m = NULL;
    if (!doc || ad_mapping_compile(doc, format, &m, &ei) != LT_OK)
        __builtin_trap(); /* the fixed mappings always compile */
    json_decref(doc);
    fuzz_ctx c = {m, format, 0};
    ad_map_payload(m, format, (const char *)data, size, 1000, sink, &c, &ei);
    check_utf8(ei.detail);
    ad_mapping_free(m);
    lt_errinfo_clear(&ei);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    run(soap_mapping, sizeof soap_mapping - 1, "soap", data, size);
    run(xml_mapping, sizeof xml_mapping - 1, "xml", data, size);
    return 0;
}
