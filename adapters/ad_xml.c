/* ad_xml — the xml and soap decoders (libxml2): safe parsing, SOAP 1.1/1.2 envelopes and
 * faults, and the decoder tables. Selection, fields and record serialisation are in
 * ad_xml_select.c.
 *
 * Safe parsing, always: a fresh parser context per document, XML_PARSE_NONET, never NOENT,
 * DTDLOAD, DTDATTR or HUGE. A document type declaration stops the parser the moment it is
 * seen (before its internal subset is read), so entity definitions — billion laughs, XXE — are
 * never even parsed; the document is refused with LT_E_INVALID. Without HUGE libxml2 caps
 * nesting at 256 levels and text nodes at 10 MB; the caller caps the body size.
 * Errors go to a structured handler on the parser context, never to libxml2's global one.
 */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>

#include "ad_xml_int.h"
#include "lt_str.h"

/* COMPACT and NOBLANKS save memory and time on large pulls; BIG_LINES keeps line numbers in
 * errors right past 65535. No entity substitution, no DTD loading, no network. */
#define AD_XML_PARSE_OPTS                                                                          \
    (XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_COMPACT | XML_PARSE_BIG_LINES)

/* libxml2 builds process-wide tables (character classes, default SAX handler, dictionary
 * mutex) in xmlInitParser, which must run once before threads parse concurrently. This
 * pthread_once flag is the module's one piece of process-wide state: written once, by
 * pthread_once itself, and never changed afterwards. */
static pthread_once_t ad_xml_once = PTHREAD_ONCE_INIT;

static void init_libxml(void)
{
    xmlInitParser();
}

void ad_xml_init(void)
{
    pthread_once(&ad_xml_once, init_libxml);
}

void ad_init(void) { ad_xml_init(); }

size_t ad_xml_utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

/* Bytes of the well-formed UTF-8 sequence at s (n bytes left), 0 when there is none. */
static size_t utf8_seq(const char *s, size_t n)
{
    unsigned char c = (unsigned char)*s;
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
               : (c & 0xf8) == 0xf0 ? 4 : 0;
    return len && len <= n && lt_utf8_valid(s, len) ? len : 0;
}

/* libxml2 quotes the payload in some messages cut by bytes ("CData section not finished"
 * takes "%.50s" of it), which can split a character: each byte that starts no well-formed
 * sequence becomes '?', so the text is always UTF-8 (it ends up in a JSON problem). */
void ad_xml_copy_msg(char *dst, size_t size, const char *src)
{
    if (size == 0)
        return;
    if (!src)
        src = "";
    size_t n = strlen(src), k = 0;
    while (n > 0 && (src[n - 1] == '\n' || src[n - 1] == ' ' || src[n - 1] == '\r'))
        n--;
    for (size_t i = 0, len; i < n; i += len ? len : 1) {
        len = utf8_seq(src + i, n - i);
        if (k + (len ? len : 1) > size - 1)
            break;
        if (!len)
            dst[k++] = '?';
        for (size_t j = 0; j < len; j++)
            dst[k++] = (src[i + j] == '\n' || src[i + j] == '\r') ? ' ' : src[i + j];
    }
    dst[k] = '\0';
}

/* ---- errors raised without a parser context ---- */

#ifndef LIBXML_THREAD_ENABLED
#error "libxml2 must be built with threads: its error slots are then per thread"
#endif

static void ctxless_error(void *user, xmlErrorPtr e)
{
    ad_xml_msg *m = user;
    if (!m || !e || e->level < XML_ERR_ERROR || m->set)
        return;
    m->set = 1;
    m->code = e->code;
    m->line = e->line > 0 ? e->line : 1;
    ad_xml_copy_msg(m->text, sizeof m->text, e->message);
}

static void ignore_generic(void *ctx, const char *msg, ...)
{
    (void)ctx, (void)msg;
}

/* libxml2 2.9 reports a few failures with no parser or XPath context — input encoding
 * conversion, an XPath function it cannot find — through the calling thread's error slots
 * (thread-local in a threaded libxml2). For the length of one of our calls those slots point
 * at `into` (or nowhere), then get the caller's handlers back: nothing reaches stderr from a
 * hostile payload, and no other thread is affected. */
void ad_xml_quiet_begin(ad_xml_quiet *q, ad_xml_msg *into)
{
    q->serr = xmlStructuredError;
    q->sctx = xmlStructuredErrorContext;
    q->gerr = xmlGenericError;
    q->gctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(into, into ? ctxless_error : NULL);
    xmlSetGenericErrorFunc(NULL, ignore_generic);
}

void ad_xml_quiet_end(const ad_xml_quiet *q)
{
    xmlSetStructuredErrorFunc(q->sctx, q->serr);
    xmlSetGenericErrorFunc(q->gctx, q->gerr);
}

/* ---- parsing ---- */

/* Parser-context callbacks get ctxt->userData, which libxml2 sets to the context itself;
 * our state hangs off ctxt->_private. */
typedef struct parse_state {
    int has_dtd;
    ad_xml_msg err;     /* the parser's first error */
    ad_xml_msg ctxless; /* the first error raised without the parser context */
} parse_state;

static void parse_error(void *user, xmlErrorPtr e)
{
    parse_state *p = ((xmlParserCtxtPtr)user)->_private;
    if (!e || e->level < XML_ERR_ERROR || p->err.set)
        return; /* warnings are not fatal; the first error says most */
    if (e->code == XML_WAR_NS_URI || e->code == XML_WAR_NS_URI_RELATIVE)
        return; /* a namespace name that is no RFC 3986 URI still names a namespace */
    p->err.set = 1;
    p->err.code = e->code;
    p->err.line = e->line;
    ad_xml_copy_msg(p->err.text, sizeof p->err.text, e->message);
}

/* Called at "<!DOCTYPE name ...", before any "[ internal subset ]": stopping here means no
 * entity declaration of the payload is ever read. */
static void saw_doctype(void *user, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
    (void)name, (void)ext, (void)sys;
    xmlParserCtxtPtr c = user;
    ((parse_state *)c->_private)->has_dtd = 1;
    xmlStopParser(c);
}

static lt_err parse_verdict(const parse_state *p, xmlDocPtr d, const char *body, size_t len,
                            lt_errinfo *ei)
{
    if (p->has_dtd || (d && (d->intSubset || d->extSubset)))
        return lt_fail(ei, LT_E_INVALID, "DTDs are not accepted in payloads");
    if (!p->err.set && d && xmlDocGetRootElement(d))
        return LT_OK;
    if (p->err.code == XML_ERR_NO_MEMORY)
        return lt_fail(ei, LT_E_NOMEM, "out of memory parsing XML");
    if (p->err.code == XML_ERR_INVALID_CHAR && !lt_utf8_valid(body, len))
        return lt_fail(ei, LT_E_BAD_UTF8, "the XML payload is not valid UTF-8 (line %d)",
                       p->err.line);
    if (p->err.code == XML_ERR_INTERNAL_ERROR && strstr(p->err.text, "Excessive depth"))
        return lt_fail(ei, LT_E_BAD_REQUEST,
                       "malformed XML at line %d: elements nested deeper than 256 levels",
                       p->err.line);
    if (!p->err.set)
        return lt_fail(ei, LT_E_BAD_REQUEST, "malformed XML: no root element");
    return lt_fail(ei, LT_E_BAD_REQUEST, "malformed XML at line %d: %s", p->err.line, p->err.text);
}

/* Parses body into a new document (free with xmlFreeDoc) with every safety rule applied. */
static lt_err parse_doc(const char *body, size_t len, xmlDocPtr *out, lt_errinfo *ei)
{
    *out = NULL;
    if (len > INT_MAX)
        return lt_fail(ei, LT_E_TOO_LARGE, "the XML payload is larger than 2 GiB");
    xmlParserCtxtPtr c = xmlNewParserCtxt(); /* fresh per call: no state shared between docs */
    if (!c)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    parse_state p = {0};
    c->_private = &p;
    c->sax->internalSubset = saw_doctype; /* the context owns its SAX copy: not global */
    c->sax->serror = parse_error;
    ad_xml_quiet q;
    ad_xml_quiet_begin(&q, &p.ctxless);
    xmlDocPtr d = xmlCtxtReadMemory(c, body ? body : "", (int)len, NULL, NULL, AD_XML_PARSE_OPTS);
    ad_xml_quiet_end(&q);
    xmlFreeParserCtxt(c);
    if (p.ctxless.set && !p.has_dtd)
        p.err = p.ctxless; /* the cause (a conversion failure) says more than its effect */
    lt_err e = parse_verdict(&p, d, body, len, ei);
    if (e != LT_OK) {
        xmlFreeDoc(d);
        return e;
    }
    *out = d;
    return LT_OK;
}

/* ---- SOAP envelopes ---- */

static xmlNodePtr first_elem(xmlNodePtr n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

static int local_is(const xmlNode *n, const char *name)
{
    return xmlStrEqual(n->name, BAD_CAST name);
}

/* First child element with this local name (any namespace: some SOAP 1.1 stacks qualify
 * faultcode/faultstring, the specification does not). */
static xmlNodePtr child_named(xmlNodePtr parent, const char *name)
{
    for (xmlNodePtr c = first_elem(parent ? parent->children : NULL); c; c = first_elem(c->next))
        if (local_is(c, name))
            return c;
    return NULL;
}

/* Trimmed text content of n into buf (cut at a UTF-8 boundary); "-" when absent or empty. */
static void fault_text(xmlNodePtr n, char *buf, size_t size)
{
    xmlChar *c = n ? xmlNodeGetContent(n) : NULL;
    const char *s = c ? (const char *)c : "";
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    ad_xml_copy_msg(buf, size, s);
    size_t k = strlen(buf);
    while (k > 0 && (buf[k - 1] == ' ' || buf[k - 1] == '\t'))
        buf[--k] = '\0';
    if (k == 0)
        lt_strlcpy(buf, "-", size);
    xmlFree(c);
}

/* A Fault is the provider's answer that it failed: LT_E_UPSTREAM (502) with its text. */
static lt_err soap_fault(xmlNodePtr fault, int v12, lt_errinfo *ei)
{
    char code[120], text[300];
    if (v12) {
        fault_text(child_named(child_named(fault, "Code"), "Value"), code, sizeof code);
        fault_text(child_named(child_named(fault, "Reason"), "Text"), text, sizeof text);
    } else {
        fault_text(child_named(fault, "faultcode"), code, sizeof code);
        fault_text(child_named(fault, "faultstring"), text, sizeof text);
    }
    return lt_fail(ei, LT_E_UPSTREAM, "SOAP fault: %s %s", code, text);
}

static lt_err soap_check(ad_xml_doc *d, lt_errinfo *ei)
{
    xmlNodePtr env = xmlDocGetRootElement(d->doc);
    const xmlChar *ns = env && env->ns ? env->ns->href : NULL;
    int v12 = ns && xmlStrEqual(ns, BAD_CAST AD_XML_SOAP12_NS);
    if (!ns || (!v12 && !xmlStrEqual(ns, BAD_CAST AD_XML_SOAP11_NS)) || !local_is(env, "Envelope"))
        return lt_fail(ei, LT_E_INVALID,
                       "not a SOAP envelope (the root must be a SOAP 1.1 or 1.2 Envelope)");
    xmlNodePtr b = first_elem(env->children);
    while (b && !(local_is(b, "Body") && b->ns && xmlStrEqual(b->ns->href, ns)))
        b = first_elem(b->next);
    if (!b)
        return lt_fail(ei, LT_E_INVALID, "not a SOAP envelope: it has no Body");
    d->body = b;
    xmlNodePtr f = first_elem(b->children);
    if (f && local_is(f, "Fault") && f->ns && xmlStrEqual(f->ns->href, ns))
        return soap_fault(f, v12, ei);
    return LT_OK;
}

/* ---- XPath contexts ---- */

/* libxml2 2.9 hands a context's XPath error handler a code without a message (its own
 * message table is private): the texts below are libxml2's, by code from
 * XML_XPATH_EXPRESSION_OK (1200) on. */
static const char *const xpath_msgs[] = {
    "ok",
    "number encoding",
    "unfinished literal",
    "start of literal",
    "expected $ for variable reference",
    "Undefined variable",
    "Invalid predicate",
    "Invalid expression",
    "missing closing curly brace",
    "Unregistered function",
    "Invalid operand",
    "Invalid type",
    "Invalid number of arguments",
    "Invalid context size",
    "Invalid context position",
    "out of memory",
    "syntax error",
    "resource error",
    "sub resource error",
    "Undefined namespace prefix",
    "encoding error",
    "character out of XML range",
};

static void xpath_error(void *user, xmlErrorPtr e)
{
    ad_xml_msg *m = user;
    if (!m || !e || m->set)
        return;
    m->set = 1;
    m->code = e->code;
    size_t k = (size_t)(e->code - XML_XPATH_EXPRESSION_OK);
    const char *text = e->message;
    if (!text && e->code >= XML_XPATH_EXPRESSION_OK && k < sizeof xpath_msgs / sizeof *xpath_msgs)
        text = xpath_msgs[k];
    ad_xml_copy_msg(m->text, sizeof m->text, text ? text : "XPath error");
}

xmlXPathContextPtr ad_xml_xpath_ctx(xmlDocPtr doc, const json_t *namespaces, int soap,
                                    ad_xml_msg *msg)
{
    xmlXPathContextPtr x = xmlXPathNewContext(doc);
    if (!x)
        return NULL;
    x->error = xpath_error; /* per context: XPath errors never reach the global handler */
    x->userData = msg;
    int bad = 0;
    /* The envelope prefixes first, so a mapping that declares them wins. */
    if (soap)
        bad |= xmlXPathRegisterNs(x, BAD_CAST "soapenv", BAD_CAST AD_XML_SOAP11_NS) |
               xmlXPathRegisterNs(x, BAD_CAST "soap", BAD_CAST AD_XML_SOAP11_NS) |
               xmlXPathRegisterNs(x, BAD_CAST "soap12", BAD_CAST AD_XML_SOAP12_NS);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)namespaces, k, v)
    {
        if (json_is_string(v))
            bad |= xmlXPathRegisterNs(x, BAD_CAST k, BAD_CAST json_string_value(v));
    }
    if (bad) {
        xmlXPathFreeContext(x);
        return NULL;
    }
    return x;
}

/* ---- documents ---- */

static void doc_free(ad_xml_doc *d)
{
    if (!d)
        return;
    ad_xml_clear_selection(d);
    if (d->xp)
        xmlXPathFreeContext(d->xp);
    xmlFreeDoc(d->doc);
    if (d->dump)
        xmlBufferFree(d->dump);
    lt_buf_free(&d->out);
    lt_buf_free(&d->decls);
    free(d);
}

static lt_err doc_scratch(ad_xml_doc *d, const ad_opts *o, lt_errinfo *ei)
{
    d->xp = ad_xml_xpath_ctx(d->doc, o ? o->namespaces : NULL, d->soap, &d->xmsg);
    d->dump = xmlBufferCreate();
    if (!d->xp || !d->dump)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    /* Grow by doubling: records of similar size then reuse one allocation. */
    xmlBufferSetAllocationScheme(d->dump, XML_BUFFER_ALLOC_DOUBLEIT);
    return LT_OK;
}

/* Opens body as a new ad_xml_doc (*doc is new: free with doc_close). raw: the body is one
 * quarantined record, not an envelope. */
static lt_err open_doc(const char *body, size_t len, const ad_opts *o, int soap, int raw,
                       void **doc, lt_errinfo *ei)
{
    *doc = NULL;
    ad_xml_init();
    ad_xml_doc *d = calloc(1, sizeof *d);
    if (!d)
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    lt_buf_init(&d->out, 0);
    lt_buf_init(&d->decls, 0);
    d->soap = soap;
    d->raw = raw;
    lt_err e = parse_doc(body, len, &d->doc, ei);
    if (e == LT_OK) {
        d->doc->_private = d; /* how a record handle (an xmlNode) finds its context */
        if (soap && !raw)
            e = soap_check(d, ei);
    }
    if (e == LT_OK)
        e = doc_scratch(d, o, ei);
    if (e != LT_OK) {
        doc_free(d);
        return e;
    }
    *doc = d;
    return LT_OK;
}

static void doc_close(void *doc)
{
    doc_free(doc);
}

static lt_err open_raw_doc(const json_t *raw, const ad_opts *o, int soap, void **doc,
                           lt_errinfo *ei)
{
    *doc = NULL;
    if (!json_is_string(raw))
        return lt_fail(ei, LT_E_INVALID,
                       "a quarantined %s record must be a JSON string holding the record's XML",
                       soap ? "soap" : "xml");
    return open_doc(json_string_value(raw), json_string_length(raw), o, soap, 1, doc, ei);
}

/* ---- the two decoders: the same operations, soap adds the envelope rules ---- */

static lt_err xml_compile(const char *text, size_t len, int is_records, const ad_opts *o,
                          const char *where, void **out, lt_errinfo *ei)
{
    return ad_xml_compile(text, len, is_records, o, 0, where, out, ei);
}

static lt_err soap_compile(const char *text, size_t len, int is_records, const ad_opts *o,
                           const char *where, void **out, lt_errinfo *ei)
{
    return ad_xml_compile(text, len, is_records, o, 1, where, out, ei);
}

static lt_err xml_open(const char *body, size_t len, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    return open_doc(body, len, o, 0, 0, doc, ei);
}

static lt_err soap_open(const char *body, size_t len, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    return open_doc(body, len, o, 1, 0, doc, ei);
}

static lt_err xml_open_raw(const json_t *raw, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    return open_raw_doc(raw, o, 0, doc, ei);
}

static lt_err soap_open_raw(const json_t *raw, const ad_opts *o, void **doc, lt_errinfo *ei)
{
    return open_raw_doc(raw, o, 1, doc, ei);
}

const ad_decoder ad_xml_decoder = {
    .compile_path = xml_compile,
    .free_path = ad_xml_free_path,
    .open = xml_open,
    .select = ad_xml_select,
    .record = ad_xml_record,
    .get = ad_xml_get,
    .close = doc_close,
    .open_raw = xml_open_raw,
};

const ad_decoder ad_soap_decoder = {
    .compile_path = soap_compile,
    .free_path = ad_xml_free_path,
    .open = soap_open,
    .select = ad_xml_select,
    .record = ad_xml_record,
    .get = ad_xml_get,
    .close = doc_close,
    .open_raw = soap_open_raw,
};
