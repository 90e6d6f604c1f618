/* Quarantine endpoints (API.md §7): rejected records with their reasons, and retry once the
 * mapping or a code list has been fixed. Only the owning agency and the operator see them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_int.h"

typedef struct qlist {
    json_t *items;
    size_t limit;
    bool more;
    char last[40];
} qlist;

static int qlist_cb(void *ctx, const char *id, const char *json, size_t len)
{
    qlist *q = ctx;
    if (json_array_size(q->items) >= q->limit) {
        q->more = true;
        return 1;
    }
    json_t *e = json_loadb(json, len, 0, NULL);
    if (e)
        json_array_append_new(q->items, e);
    snprintf(q->last, sizeof q->last, "%s", id);
    return 0;
}

void gw_h_quarantine_list(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    size_t limit;
    const char *cursor;
    if (!svc || !gw_access_service(r, svc, GW_OP_MANAGE) || !gw_paging(r, &limit, &cursor))
        return;
    qlist q = {json_array(), limit, false, ""};
    wh_read *rd = NULL;
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e)
        e = wh_quarantine_list(rd, svc->id, cursor, limit + 1, qlist_cb, &q);
    wh_read_end(rd);
    if (e) {
        json_decref(q.items);
        gw_fail(r, e, "cannot read the quarantine of '%s'", svc->id);
        return;
    }
    gw_reply_list(r, q.items, q.more ? q.last : NULL);
}

void gw_h_quarantine_retry(gw_req *r)
{
    rg_service *svc = gw_load_service(r, 2);
    if (!svc || !gw_access_service(r, svc, GW_OP_MANAGE))
        return;
    const char *qid = r->segs[4];
    char *text = NULL;
    size_t len = 0;
    wh_read *rd = NULL;
    lt_err e = wh_read_begin(r->ctx->wh, &rd, &r->ei);
    if (!e)
        e = wh_quarantine_get(rd, svc->id, qid, &text, &len);
    wh_read_end(rd);
    if (e) {
        gw_fail(r, e, "no quarantined record '%.64s' in service '%s'", qid, svc->id);
        return;
    }
    json_t *entry = json_loadb(text, len, 0, NULL), *result = NULL;
    free(text);
    if (!entry) {
        gw_fail(r, LT_E_INTERNAL, "quarantine entry '%.64s' is unreadable", qid);
        return;
    }
    gw_ingest_opts o = {true, "retry", r->request_id, r->who.sub};
    e = gw_ingest_retry(r->ctx, svc, qid, json_object_get(entry, "raw"), &o, &result, &r->ei);
    json_decref(entry);
    r->records = 1;
    if (e) {
        gw_reply_error(r);
        return;
    }
    gw_reply_json(r, 200, result);
}
