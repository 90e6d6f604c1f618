/* Canonical record text in contract field order, written straight into a buffer: the ingest
 * hot path serialises every record once, so this avoids jansson's per-call allocation and key
 * sorting. */
#include <stdlib.h>
#include <string.h>

#include "ct_contract.h"

static void put_value(lt_buf *out, const json_t *v)
{
    char small[128];
    size_t flags = JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_REAL_PRECISION(17);
    if (json_is_string(v)) {
        lt_buf_json_str(out, json_string_value(v), json_string_length(v));
        return;
    }
    size_t n = json_dumpb(v, small, sizeof small, flags);
    if (n > 0 && n <= sizeof small) {
        lt_buf_append(out, small, n);
        return;
    }
    char *big = json_dumps(v, flags);
    lt_buf_puts(out, big ? big : "null");
    free(big);
}

int ct_record_write(const ct_contract *c, const json_t *rec, lt_buf *out)
{
    bool first = true;
    lt_buf_putc(out, '{');
    for (size_t i = 0; i < c->nfields; i++) {
        const json_t *v = json_object_get(rec, c->fields[i].name);
        if (!v)
            continue;
        if (!first)
            lt_buf_putc(out, ',');
        first = false;
        lt_buf_json_str(out, c->fields[i].name, strlen(c->fields[i].name));
        lt_buf_putc(out, ':');
        put_value(out, v);
    }
    lt_buf_putc(out, '}');
    return out->err ? -1 : 0;
}
