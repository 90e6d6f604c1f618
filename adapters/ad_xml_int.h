/* ad_xml_int — what the two halves of the xml/soap decoders share: ad_xml.c parses safely,
 * checks SOAP envelopes and owns the document; ad_xml_select.c compiles XPath, selects the
 * records, reads fields and serialises one record for quarantine. Never included outside
 * adapters/.
 *
 * Ownership: an ad_xml_doc owns its xmlDoc, its one xmlXPathContext, the selection and the
 * scratch buffers; everything is released by ad_xml_doc_free. Record handles are xmlNode
 * pointers borrowed from the document (valid until the document is closed); the document
 * finds its ad_xml_doc through xmlDoc._private, which libxml2 leaves to the application.
 * Thread safety: a document belongs to one thread; compiled paths are shared read-only.
 */
#ifndef AD_XML_INT_H
#define AD_XML_INT_H

#include <jansson.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <stddef.h>

#include "ad_int.h"
#include "lt_buf.h"
#include "lt_err.h"

#define AD_XML_SOAP11_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define AD_XML_SOAP12_NS "http://www.w3.org/2003/05/soap-envelope"
#define AD_XML_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* Room for one libxml2 message in an error detail (LT_DETAIL_MAX is 512 for the whole). */
#define AD_XML_MSG_MAX 200

/* The first error libxml2 reported to a context of ours (never to the global handler). */
typedef struct ad_xml_msg {
    int set;
    int code; /* xmlParserErrors value */
    int line;
    char text[AD_XML_MSG_MAX];
} ad_xml_msg;

typedef struct ad_xml_doc {
    xmlDocPtr doc;
    xmlXPathContextPtr xp; /* one per document, reused for every record and field */
    ad_xml_msg xmsg;       /* errors of evaluations on xp */
    int soap;              /* opened by the soap decoder */
    int raw;               /* opened from a quarantined record: the root is the one record */
    xmlNodePtr body;       /* soap: the envelope's Body element */
    xmlXPathObjectPtr sel; /* records selected by XPath (owns the node set) or NULL */
    xmlNodePtr *list;      /* records selected without an XPath (owned) or NULL */
    xmlNodePtr *nodes;     /* the records: sel's node table or list */
    size_t count;
    xmlBufferPtr dump;          /* scratch: one record serialised by libxml2 */
    lt_buf out;                 /* scratch: the record with its namespace declarations */
    lt_buf decls;               /* in-scope namespace declarations of decl_parent's children */
    const xmlNode *decl_parent; /* whose children decls describes; NULL: none cached */
} ad_xml_doc;

/* The calling thread's libxml2 error handlers, saved while ours are in place. */
typedef struct ad_xml_quiet {
    xmlStructuredErrorFunc serr;
    void *sctx;
    xmlGenericErrorFunc gerr;
    void *gctx;
} ad_xml_quiet;

/* Routes errors libxml2 raises without a context (encoding conversion, XPath function
 * lookup) to `into` (NULL: dropped) on this thread until ad_xml_quiet_end restores q. */
void ad_xml_quiet_begin(ad_xml_quiet *q, ad_xml_msg *into);
void ad_xml_quiet_end(const ad_xml_quiet *q);

/* Runs libxml2's one-time process initialisation (pthread_once); call before any use. */
void ad_xml_init(void);

/* Length of the longest prefix of s[0..n) that is at most max bytes and does not end inside
 * a UTF-8 sequence (for quoting provider or mapping text in an error detail). */
size_t ad_xml_utf8_cut(const char *s, size_t n, size_t max);

/* Copies a libxml2 message: newlines become spaces, trailing blanks go, a byte that starts no
 * well-formed UTF-8 sequence becomes '?' (libxml2 quotes payload bytes cut by length), and a
 * cut never splits a sequence: the text is UTF-8 (it ends up in JSON problem documents). */
void ad_xml_copy_msg(char *dst, size_t size, const char *src);

/* A new XPath context on doc with the mapping's prefixes (and, for soap, soapenv/soap and
 * soap12) registered and errors routed to msg instead of stderr. NULL on failure. */
xmlXPathContextPtr ad_xml_xpath_ctx(xmlDocPtr doc, const json_t *namespaces, int soap,
                                    ad_xml_msg *msg);

/* ---- ad_xml_select.c: the decoder operations on an open document ---- */

lt_err ad_xml_compile(const char *text, size_t len, int is_records, const ad_opts *o, int soap,
                      const char *where, void **out, lt_errinfo *ei);
void ad_xml_free_path(void *path);
lt_err ad_xml_select(void *doc, const void *records, const char *shown, size_t *count,
                     lt_errinfo *ei);
const void *ad_xml_record(void *doc, size_t i, json_t **raw);
json_t *ad_xml_get(const void *rec, const void *path);
/* Drops the current selection (select may run more than once on a document). */
void ad_xml_clear_selection(ad_xml_doc *d);

#endif
