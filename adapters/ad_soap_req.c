/* Parsing a GetRecords request sent to the SOAP facade. The body comes from any consumer, so
 * libxml2 runs with the safe options of DESIGN.md and a DOCTYPE stops the parser the moment
 * it is seen: no declaration in it is ever read, which rules out XXE and entity bombs. */
#include <limits.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "ad_soap_int.h"
#include "ad_xml_int.h"
#include "ad_soap_out.h"
#include "lt_limits.h"
#include "lt_str.h"

/* SAX hook for <!DOCTYPE …>: flag it and halt before the internal subset is parsed. */
static void ad_soap_on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id,
                               const xmlChar *sys_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    (void)name, (void)ext_id, (void)sys_id;
    *(int *)ctxt->_private = 1;
    xmlStopParser(ctxt);
}

/* Parses body into a new document (xmlFreeDoc) or fails with a detail naming the problem. */
static lt_err ad_soap_parse_doc(const char *body, size_t len, xmlDocPtr *out, lt_errinfo *ei)
{
    int doctype = 0;
    *out = NULL;
    ad_xml_init(); /* libxml2's process-wide tables, once, before threads parse */
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(body, (int)len);
    if (!ctxt)
        return lt_fail(ei, LT_E_NOMEM, "soap: cannot create an XML parser");
    /* no NOENT, no DTDLOAD/DTDVALID, no HUGE: libxml2's depth and size caps stay on */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ctxt->sax->internalSubset = ad_soap_on_doctype;
    ctxt->_private = &doctype;
    xmlParseDocument(ctxt);
    xmlDocPtr doc = ctxt->myDoc;
    lt_err e = LT_OK;
    if (doctype) {
        e = lt_fail(ei, LT_E_BAD_REQUEST, "soap: a DTD (<!DOCTYPE>) is not allowed in a request");
    } else if (!ctxt->wellFormed || !doc) {
        const xmlError *x = xmlCtxtGetLastError(ctxt);
        e = lt_fail(ei, LT_E_BAD_REQUEST, "soap: malformed XML at line %d: %.200s", x ? x->line : 0,
                    x && x->message ? x->message : "parse error\n");
        /* libxml2 messages end with a newline: drop it from the detail */
        size_t n = ei ? strlen(ei->detail) : 0;
        if (n && ei->detail[n - 1] == '\n')
            ei->detail[n - 1] = '\0';
    }
    if (e != LT_OK)
        xmlFreeDoc(doc);
    else
        *out = doc;
    xmlFreeParserCtxt(ctxt);
    return e;
}

static int ad_soap_is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, ns) == 0 && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *ad_soap_next_elem(const xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* The Body of a SOAP 1.1 or 1.2 Envelope (a Header before it is ignored), or NULL. */
static const xmlNode *ad_soap_body(const xmlDoc *doc)
{
    const xmlNode *env = xmlDocGetRootElement(doc);
    const char *ns = NULL;
    if (ad_soap_is(env, AD_SOAP11_ENV_NS, "Envelope"))
        ns = AD_SOAP11_ENV_NS;
    else if (ad_soap_is(env, AD_SOAP12_ENV_NS, "Envelope"))
        ns = AD_SOAP12_ENV_NS;
    if (!ns)
        return NULL;
    const xmlNode *n = ad_soap_next_elem(env->children);
    if (ad_soap_is(n, ns, "Header"))
        n = ad_soap_next_elem(n->next);
    return ad_soap_is(n, ns, "Body") ? n : NULL;
}

/* Finds GetRecords in the service's namespace as the one child of Body. */
static lt_err ad_soap_operation(const xmlDoc *doc, const char *tns, const xmlNode **op,
                                lt_errinfo *ei)
{
    const xmlNode *body = ad_soap_body(doc);
    if (!body)
        return lt_fail(ei, LT_E_BAD_REQUEST, "soap: not a SOAP 1.1 or 1.2 envelope with a Body");
    const xmlNode *n = ad_soap_next_elem(body->children);
    if (!n)
        return lt_fail(ei, LT_E_BAD_REQUEST, "soap: the Body is empty (expected GetRecords)");
    if (!ad_soap_is(n, tns, "GetRecords"))
        return lt_fail(ei, LT_E_BAD_REQUEST, "soap: expected {%.160s}GetRecords, got {%.160s}%.64s",
                       tns, n->ns && n->ns->href ? (const char *)n->ns->href : "",
                       (const char *)n->name);
    if (ad_soap_next_elem(n->next))
        return lt_fail(ei, LT_E_BAD_REQUEST, "soap: the Body must hold one GetRecords element");
    *op = n;
    return LT_OK;
}

/* xsi:nil="true" (or "1"): the consumer says "no value", which for a filter means none. */
static int ad_soap_is_nil(const xmlNode *n)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)"nil", (const xmlChar *)AD_XSI_NS);
    int nil = v && (strcmp((const char *)v, "true") == 0 || strcmp((const char *)v, "1") == 0);
    xmlFree(v);
    return nil;
}

/* The element's text with XML whitespace trimmed, as a new JSON string (NULL when empty). */
static json_t *ad_soap_text(const xmlNode *n)
{
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s = raw ? (const char *)raw : "";
    size_t b = 0, e = strlen(s);
    while (b < e && strchr(" \t\r\n", s[b]))
        b++;
    while (e > b && strchr(" \t\r\n", s[e - 1]))
        e--;
    json_t *v = e > b ? json_stringn(s + b, e - b) : NULL;
    xmlFree(raw);
    return v;
}

/* Checks and converts an option's text: since/as_of RFC 3339, limit 1..LT_LIST_LIMIT_MAX
 * (xs:int allows a leading '+'). Consumes v; returns the value to store, or NULL after
 * lt_fail (LT_E_BAD_REQUEST, or LT_E_NOMEM). */
static json_t *ad_soap_option_value(const char *name, json_t *v, lt_errinfo *ei)
{
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    int64_t us, lim;
    if (strcmp(name, "since") == 0 || strcmp(name, "as_of") == 0) {
        if (lt_time_parse(s, n, &us) == 0)
            return v;
        lt_fail(ei, LT_E_BAD_REQUEST,
                "soap: %s must be a date-time with a time zone such as "
                "2026-11-22T05:00:00Z, not '%.64s'",
                name, s);
    } else if (strcmp(name, "limit") == 0) {
        if (*s == '+')
            s++, n--;
        if (lt_parse_i64(s, n, &lim) == 0 && lim >= 1 && lim <= LT_LIST_LIMIT_MAX) {
            json_decref(v);
            json_t *i = json_integer(lim);
            if (!i)
                lt_fail(ei, LT_E_NOMEM, "soap: out of memory");
            return i;
        }
        lt_fail(ei, LT_E_BAD_REQUEST, "soap: limit must be an integer from 1 to %d, not '%.64s'",
                LT_LIST_LIMIT_MAX, json_string_value(v));
    } else {
        return v; /* cursor: opaque, the warehouse checks it */
    }
    json_decref(v);
    return NULL;
}

/* Reads one child of GetRecords into q. */
static lt_err ad_soap_option(const ct_contract *c, const char *tns, const xmlNode *n, json_t *q,
                             lt_errinfo *ei)
{
    const char *name = (const char *)n->name;
    const char *ns = n->ns && n->ns->href ? (const char *)n->ns->href : NULL;
    int is_opt = ad_soap_is_option(name);
    if ((ns && strcmp(ns, tns) != 0) || (!is_opt && !ct_contract_field(c, name)))
        return lt_fail(ei, LT_E_BAD_REQUEST,
                       "soap: unknown element '%.64s' in GetRecords (not "
                       "a field of the contract nor since, as_of, limit, cursor)",
                       name);
    if (json_object_get(q, name))
        return lt_fail(ei, LT_E_BAD_REQUEST,
                       "soap: element '%.64s' is given more than once "
                       "(list filter values in one element: \"v1,v2\")",
                       name);
    if (ad_soap_next_elem(n->children))
        return lt_fail(ei, LT_E_BAD_REQUEST,
                       "soap: element '%.64s' must hold text, not "
                       "elements",
                       name);
    json_t *v = ad_soap_is_nil(n) ? NULL : ad_soap_text(n);
    if (!v)
        return LT_OK;
    if (is_opt && !(v = ad_soap_option_value(name, v, ei)))
        return ei ? ei->code : LT_E_BAD_REQUEST; /* lt_fail set the code */
    if (json_object_set_new(q, name, v))
        return lt_fail(ei, LT_E_NOMEM, "soap: out of memory");
    return LT_OK;
}

static lt_err ad_soap_options_read(const ct_contract *c, const char *tns, const xmlNode *op,
                                   json_t **query, lt_errinfo *ei)
{
    json_t *q = json_object();
    if (!q)
        return lt_fail(ei, LT_E_NOMEM, "soap: out of memory");
    for (const xmlNode *n = ad_soap_next_elem(op->children); n; n = ad_soap_next_elem(n->next)) {
        lt_err e = ad_soap_option(c, tns, n, q, ei);
        if (e != LT_OK) {
            json_decref(q);
            return e;
        }
    }
    *query = q;
    return LT_OK;
}

lt_err ad_soap_request_parse(const ct_contract *c, const char *service_id, const char *body,
                             size_t len, json_t **query, lt_errinfo *ei)
{
    if (query)
        *query = NULL;
    if (!c || !service_id || !query || (!body && len))
        return lt_fail(ei, LT_E_INTERNAL, "soap: missing contract, service id or output");
    if (len > AD_SOAP_REQUEST_MAX || len > INT_MAX)
        return lt_fail(ei, LT_E_TOO_LARGE, "soap: a GetRecords request is limited to %u bytes",
                       AD_SOAP_REQUEST_MAX);
    if (len == 0)
        return lt_fail(ei, LT_E_BAD_REQUEST, "soap: the request body is empty");
    char tns[LT_MAX_ID_LEN + sizeof AD_SOAP_NS_PREFIX];
    if ((size_t)snprintf(tns, sizeof tns, "%s%s", AD_SOAP_NS_PREFIX, service_id) >= sizeof tns)
        return lt_fail(ei, LT_E_INVALID, "soap: service id longer than %d", LT_MAX_ID_LEN);
    xmlDocPtr doc;
    lt_err e = ad_soap_parse_doc(body, len, &doc, ei);
    if (e != LT_OK)
        return e;
    const xmlNode *op = NULL;
    e = ad_soap_operation(doc, tns, &op, ei);
    if (e == LT_OK)
        e = ad_soap_options_read(c, tns, op, query, ei);
    xmlFreeDoc(doc);
    return e;
}
