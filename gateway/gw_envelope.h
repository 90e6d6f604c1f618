/* gw_envelope — writes exchange envelopes into an lt_buf (internal to gateway/).
 * Usage: gw_env_begin, gw_env_record for each record (index from 0), gw_env_end. Provenance
 * entries (?provenance=true) are written into a second buffer with gw_env_provenance and
 * passed to gw_env_end, which emits them as "provenance": [...] aligned with "records". */
#ifndef GW_ENVELOPE_H
#define GW_ENVELOPE_H

#include "lt_buf.h"
#include "rg.h"
#include "rg_sharing.h"
#include "wh.h"

void gw_env_begin(lt_buf *o, const rg_service *svc);
/* Writes one stored record, projected to the fields g grants (all when g is NULL). */
void gw_env_record(lt_buf *o, size_t index, const rg_grant *g, const char *data, size_t len);
void gw_env_provenance(lt_buf *o, size_t index, const rg_service *svc, const wh_record *rec);
/* Closes the envelope; restricted_fields lists the contract fields outside g. */
void gw_env_end(lt_buf *o, const rg_grant *g, const ct_contract *c, const lt_buf *provenance,
                const char *next_cursor);

#endif
