/* Writing the exchange envelope (API.md §7) straight into the response buffer: stored records
 * are already canonical JSON, so the fast path copies their bytes without re-parsing. */
#include <string.h>

#include "gw_envelope.h"
#include "gw_int.h"
#include "lt_str.h"

void gw_env_begin(lt_buf *o, const rg_service *svc)
{
    char mid[40], ts[32];
    lt_random_id("m-", mid, sizeof mid);
    lt_time_format(lt_now_us(), false, ts);
    lt_buf_puts(o, "{\"header\":{\"message_id\":");
    lt_buf_json_str(o, mid, strlen(mid));
    lt_buf_puts(o, ",\"service\":");
    lt_buf_json_str(o, svc->id, strlen(svc->id));
    lt_buf_puts(o, ",\"provider\":");
    lt_buf_json_str(o, svc->agency, strlen(svc->agency));
    lt_buf_puts(o, ",\"contract\":");
    lt_buf_json_str(o, svc->contract->ref, strlen(svc->contract->ref));
    lt_buf_printf(o, ",\"produced_at\":\"%s\"},\"records\":[", ts);
}

void gw_env_record(lt_buf *o, size_t index, const rg_grant *g, const char *data, size_t len)
{
    if (index)
        lt_buf_putc(o, ',');
    gw_project(g, data, len, o);
}

void gw_env_provenance(lt_buf *o, size_t index, const rg_service *svc, const wh_record *rec)
{
    char ts[32];
    lt_time_format(rec->received_at_us, true, ts);
    lt_buf_puts(o, index ? ",{" : "{");
    lt_buf_puts(o, "\"key\":");
    lt_buf_json_str(o, rec->key, strlen(rec->key));
    lt_buf_puts(o, ",\"service\":");
    lt_buf_json_str(o, svc->id, strlen(svc->id));
    lt_buf_puts(o, ",\"source\":");
    lt_buf_json_str(o, rec->source, strlen(rec->source));
    lt_buf_puts(o, ",\"message_id\":");
    lt_buf_json_str(o, rec->message_id, strlen(rec->message_id));
    lt_buf_puts(o, ",\"system\":");
    lt_buf_json_str(o, rec->system, strlen(rec->system));
    lt_buf_printf(o, ",\"received_at\":\"%s\",\"revision\":%llu}", ts,
                  (unsigned long long)rec->rev);
}

void gw_env_end(lt_buf *o, const rg_grant *g, const ct_contract *c, const lt_buf *provenance,
                const char *next_cursor)
{
    lt_buf_puts(o, "],\"restricted_fields\":[");
    gw_restricted_fields(g, c, o);
    lt_buf_puts(o, "],\"next_cursor\":");
    if (next_cursor && *next_cursor)
        lt_buf_json_str(o, next_cursor, strlen(next_cursor));
    else
        lt_buf_puts(o, "null");
    if (provenance) {
        lt_buf_puts(o, ",\"provenance\":[");
        lt_buf_append(o, provenance->data, provenance->len);
        lt_buf_putc(o, ']');
    }
    lt_buf_putc(o, '}');
}
