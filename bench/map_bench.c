/* map_bench — mapping throughput of the adapters (issue 4 benchmark): decodes a payload file in
 * a service's format, maps every record with the given mapping and validates it against the
 * indicator-observation contract, as the ingest path does (without storing). Prints one line:
 * "<records> records, <rejected> rejected, <seconds> s, <records/s> records/s".
 * usage: lt_map_bench FORMAT MAPPING.json CONTRACT.json PAYLOAD */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_mapping.h"
#include "ct_contract.h"
#include "lt_json.h"
#include "lt_str.h"

typedef struct counts {
    const ct_contract *c;
    size_t ok, bad;
} counts;

static int on_record(void *ctx, long index, json_t *mapped, const json_t *raw, const char *field,
                     const char *error)
{
    counts *n = ctx;
    json_t *norm = NULL;
    (void)raw, (void)field, (void)error;
    if (mapped && ct_validate(n->c, mapped, index, NULL, NULL, &norm, NULL) == LT_OK)
        n->ok++;
    else
        n->bad++;
    json_decref(norm);
    json_decref(mapped);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: lt_map_bench FORMAT MAPPING.json CONTRACT.json PAYLOAD\n");
        return 2;
    }
    lt_errinfo ei = {0};
    lt_tune_malloc(); /* as `lienthong serve` does */
    ad_init();
    json_t *mdef = lt_json_load_file(argv[2], &ei), *cdef = lt_json_load_file(argv[3], &ei);
    ad_mapping *m = NULL;
    ct_contract *c = NULL;
    size_t len = 0;
    char *body = slurp(argv[4], &len);
    if (!mdef || !cdef || !body || ad_mapping_compile(mdef, argv[1], &m, &ei) ||
        ct_contract_parse(cdef, &c, &ei)) {
        fprintf(stderr, "map_bench: %s\n", body ? ei.detail : "cannot read the payload");
        return 1;
    }
    counts n = {c, 0, 0};
    int64_t t0 = lt_mono_us();
    lt_err e = ad_map_payload(m, argv[1], body, len, 0, on_record, &n, &ei);
    double s = (double)(lt_mono_us() - t0) / 1e6;
    if (e) {
        fprintf(stderr, "map_bench: %s\n", ei.detail);
        return 1;
    }
    printf("%zu records, %zu rejected, %.3f s, %.0f records/s\n", n.ok, n.bad, s,
           (double)(n.ok + n.bad) / s);
    ad_mapping_free(m);
    ct_contract_free(c);
    json_decref(mdef);
    json_decref(cdef);
    free(body);
    lt_errinfo_clear(&ei);
    return 0;
}
