/* ad_xml_select — XPath 1.0 for the xml and soap decoders: paths compiled once per mapping
 * (and tried once, so an undeclared prefix or unknown function fails when the service is
 * defined, not on the first pull), records selected with the document's one XPath context,
 * fields read with that context's node set to the record, and a record serialised as a
 * standalone document for quarantine.
 *
 * Per record the work is one XPath evaluation per field on a context created once per
 * document; the common case of a field that is one text node is read without allocating.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xpathInternals.h>

#include "ad_xml_int.h"

/* Mapping XPaths are short; a cap keeps a careless definition from costing much per record. */
#define AD_XML_MAX_XPATH 4096
/* In-scope namespace declarations copied onto one quarantined record: real documents carry a
 * handful; the cap bounds the copy when a hostile one declares thousands on an ancestor. */
#define AD_XML_MAX_NS 64
/* Ancestor declarations looked at per record, for the same reason. */
#define AD_XML_MAX_NS_SCAN 1024
/* Quoted mapping text in error details (bytes). */
#define AD_XML_SHOWN 100

static int shown_len(const char *s)
{
    return (int)ad_xml_utf8_cut(s, strlen(s), AD_XML_SHOWN);
}

/* ---- compiling ---- */

/* A one-element document to try compiled paths on (new: free with xmlFreeDoc). */
static xmlDocPtr probe_doc(void)
{
    xmlDocPtr d = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr r = d ? xmlNewDocNode(d, NULL, BAD_CAST "r", NULL) : NULL;
    if (!r) {
        xmlFreeDoc(d);
        return NULL;
    }
    xmlDocSetRootElement(d, r);
    return d;
}

static const char *type_name(xmlXPathObjectType t)
{
    return t == XPATH_STRING    ? "string"
           : t == XPATH_NUMBER  ? "number"
           : t == XPATH_BOOLEAN ? "boolean"
                                : "value";
}

/* Compiles s and runs it once on the probe document: XPath only finds undeclared prefixes,
 * unknown functions, wrong arity and variables when it evaluates. XPath 1.0 result types do
 * not depend on the data, so a records selector giving a string is caught here too. */
static lt_err compile_checked(const char *s, xmlXPathContextPtr x, int is_records,
                              const char *where, xmlXPathCompExprPtr *out, lt_errinfo *ei)
{
    ad_xml_msg *msg = x->userData;
    xmlXPathCompExprPtr comp = xmlXPathCtxtCompile(x, BAD_CAST s);
    if (!comp)
        return lt_fail(ei, LT_E_INVALID, "%s: invalid XPath '%.*s': %s", where, shown_len(s), s,
                       msg->set ? msg->text : "syntax error");
    x->node = is_records ? (xmlNodePtr)x->doc : xmlDocGetRootElement(x->doc);
    ad_xml_quiet q;
    ad_xml_quiet_begin(&q, NULL); /* "function not found" goes to the generic handler */
    xmlXPathObjectPtr r = xmlXPathCompiledEval(comp, x);
    ad_xml_quiet_end(&q);
    lt_err e = LT_OK;
    if (!r || msg->set)
        e = lt_fail(ei, LT_E_INVALID, "%s: XPath '%.*s': %s%s", where, shown_len(s), s,
                    msg->set ? msg->text : "cannot be evaluated",
                    msg->code == XML_XPATH_UNDEF_PREFIX_ERROR
                        ? " (declare the prefix in mapping.namespaces)"
                        : "");
    else if (is_records && r->type != XPATH_NODESET)
        e = lt_fail(ei, LT_E_INVALID, "%s: XPath '%.*s' gives a %s, not the record elements", where,
                    shown_len(s), s, type_name(r->type));
    xmlXPathFreeObject(r);
    if (e != LT_OK)
        xmlXPathFreeCompExpr(comp);
    else
        *out = comp;
    return e;
}

lt_err ad_xml_compile(const char *text, size_t len, int is_records, const ad_opts *o, int soap,
                      const char *where, void **out, lt_errinfo *ei)
{
    *out = NULL;
    if (len == 0)
        return LT_OK; /* "": the record itself (records: the format's default selection) */
    if (len > AD_XML_MAX_XPATH)
        return lt_fail(ei, LT_E_INVALID, "%s: an XPath longer than %d characters", where,
                       AD_XML_MAX_XPATH);
    if (memchr(text, '\0', len))
        return lt_fail(ei, LT_E_INVALID, "%s: the XPath holds a NUL character", where);
    ad_xml_init();
    char *s = malloc(len + 1);
    xmlDocPtr probe = probe_doc();
    ad_xml_msg msg = {0};
    xmlXPathContextPtr x =
        probe ? ad_xml_xpath_ctx(probe, o ? o->namespaces : NULL, soap, &msg) : NULL;
    lt_err e;
    if (!s || !x) {
        e = lt_fail(ei, LT_E_NOMEM, "out of memory");
    } else {
        memcpy(s, text, len);
        s[len] = '\0';
        e = compile_checked(s, x, is_records, where, (xmlXPathCompExprPtr *)out, ei);
    }
    if (x)
        xmlXPathFreeContext(x);
    xmlFreeDoc(probe);
    free(s);
    return e;
}

void ad_xml_free_path(void *path)
{
    xmlXPathFreeCompExpr(path);
}

/* ---- selecting ---- */

void ad_xml_clear_selection(ad_xml_doc *d)
{
    if (d->sel)
        xmlXPathFreeObject(d->sel);
    free(d->list);
    d->sel = NULL;
    d->list = NULL;
    d->nodes = NULL;
    d->count = 0;
    d->decl_parent = NULL;
}

static xmlNodePtr first_elem(xmlNodePtr n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* The child elements of parent (none when parent is NULL) become the records. */
static lt_err select_children(ad_xml_doc *d, xmlNodePtr parent, lt_errinfo *ei)
{
    size_t n = 0;
    for (xmlNodePtr c = first_elem(parent ? parent->children : NULL); c; c = first_elem(c->next))
        n++;
    if (!(d->list = malloc((n ? n : 1) * sizeof *d->list)))
        return lt_fail(ei, LT_E_NOMEM, "out of memory");
    n = 0;
    for (xmlNodePtr c = first_elem(parent ? parent->children : NULL); c; c = first_elem(c->next))
        d->list[n++] = c;
    d->nodes = d->list;
    d->count = n;
    return LT_OK;
}

/* No selector: a quarantined record is its own root; a SOAP answer's records are the
 * children of the Body's first element (the operation's response wrapper); plain XML's are
 * the children of the root. */
static lt_err select_default(ad_xml_doc *d, lt_errinfo *ei)
{
    xmlNodePtr root = xmlDocGetRootElement(d->doc);
    if (d->raw) {
        if (!(d->list = malloc(sizeof *d->list)))
            return lt_fail(ei, LT_E_NOMEM, "out of memory");
        d->list[0] = root;
        d->nodes = d->list;
        d->count = 1;
        return LT_OK;
    }
    return select_children(d, d->soap ? first_elem(d->body->children) : root, ei);
}

static lt_err select_xpath(ad_xml_doc *d, xmlXPathCompExprPtr comp, const char *shown,
                           lt_errinfo *ei)
{
    if (!shown)
        shown = "";
    d->xmsg.set = 0;
    d->xp->node = (xmlNodePtr)d->doc;
    xmlXPathObjectPtr r = xmlXPathCompiledEval(comp, d->xp);
    if (!r)
        return lt_fail(ei, LT_E_INVALID, "mapping.records '%.*s': %s", shown_len(shown), shown,
                       d->xmsg.set ? d->xmsg.text : "XPath evaluation failed");
    if (r->type != XPATH_NODESET) {
        xmlXPathFreeObject(r);
        return lt_fail(ei, LT_E_INVALID, "mapping.records '%.*s' gives a %s, not elements",
                       shown_len(shown), shown, type_name(r->type));
    }
    xmlNodeSetPtr set = r->nodesetval;
    size_t n = set ? (size_t)set->nodeNr : 0;
    for (size_t i = 0; i < n; i++)
        if (set->nodeTab[i]->type != XML_ELEMENT_NODE) {
            xmlXPathFreeObject(r);
            return lt_fail(ei, LT_E_INVALID,
                           "mapping.records '%.*s' selects nodes that are not elements",
                           shown_len(shown), shown);
        }
    d->sel = r;
    d->nodes = n ? set->nodeTab : NULL;
    d->count = n;
    return LT_OK;
}

lt_err ad_xml_select(void *doc, const void *records, const char *shown, size_t *count,
                     lt_errinfo *ei)
{
    ad_xml_doc *d = doc;
    ad_xml_clear_selection(d);
    lt_err e =
        records ? select_xpath(d, (xmlXPathCompExprPtr)records, shown, ei) : select_default(d, ei);
    *count = e == LT_OK ? d->count : 0;
    return e;
}

/* ---- reading fields ---- */

static int is_space(xmlChar c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s without surrounding XML whitespace, as a new JSON string. */
static json_t *trimmed(const xmlChar *s)
{
    while (is_space(*s))
        s++;
    size_t n = strlen((const char *)s);
    while (n > 0 && is_space(s[n - 1]))
        n--;
    return json_stringn((const char *)s, n);
}

/* xsi:nil="true" says the element is present and empty on purpose: JSON null. */
static int is_nil(const xmlNode *n)
{
    for (const xmlAttr *a = n->properties; a; a = a->next)
        if (a->ns && xmlStrEqual(a->name, BAD_CAST "nil") &&
            xmlStrEqual(a->ns->href, BAD_CAST AD_XML_XSI_NS)) {
            const xmlChar *v = a->children ? a->children->content : NULL;
            return v && (xmlStrEqual(v, BAD_CAST "true") || xmlStrEqual(v, BAD_CAST "1"));
        }
    return 0;
}

/* The one text child of an element or attribute, or NULL. Other node kinds are not read
 * through xmlNode fields: a namespace node, for one, is an xmlNs. */
static const xmlNode *single_text(const xmlNode *n)
{
    if (n->type != XML_ELEMENT_NODE && n->type != XML_ATTRIBUTE_NODE)
        return NULL;
    const xmlNode *c = n->children;
    if (c && !c->next && (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
        c->content)
        return c;
    return NULL;
}

/* A node's trimmed text as a new JSON string (JSON null for xsi:nil). */
static json_t *node_value(xmlNodePtr n)
{
    if (n->type == XML_ELEMENT_NODE && n->properties && is_nil(n))
        return json_null();
    const xmlNode *t = single_text(n);
    if (t)
        return trimmed(t->content); /* the common case: no copy through xmlNodeGetContent */
    xmlChar *s = xmlNodeGetContent(n);
    if (!s)
        return NULL;
    json_t *v = trimmed(s);
    xmlFree(s);
    return v;
}

/* XPath numbers are doubles: integral ones become JSON integers ("count(x)" gives 3, not
 * 3.0); NaN (number('abc')) and infinities are JSON null, which the engine treats as
 * missing. */
static json_t *number_value(double v)
{
    if (isnan(v) || isinf(v))
        return json_null();
    if (v == floor(v) && fabs(v) <= 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *object_value(const xmlXPathObject *r)
{
    switch (r->type) {
    case XPATH_NODESET:
        return r->nodesetval && r->nodesetval->nodeNr > 0 ? node_value(r->nodesetval->nodeTab[0])
                                                          : NULL;
    case XPATH_BOOLEAN:
        return json_boolean(r->boolval);
    case XPATH_NUMBER:
        return number_value(r->floatval);
    case XPATH_STRING:
        return json_string(r->stringval ? (const char *)r->stringval : "");
    default:
        return NULL;
    }
}

json_t *ad_xml_get(const void *rec, const void *path)
{
    xmlNodePtr n = (xmlNodePtr)rec;
    if (!path)
        return node_value(n);
    ad_xml_doc *d = n->doc->_private;
    d->xp->node = n; /* the one context of the document, moved to this record */
    xmlXPathObjectPtr r = xmlXPathCompiledEval((xmlXPathCompExprPtr)path, d->xp);
    if (!r)
        return NULL; /* an evaluation error reads as missing; compile ruled out the static ones */
    json_t *v = object_value(r);
    xmlXPathFreeObject(r);
    return v;
}

/* ---- one record as a standalone document ---- */

/* Appends s escaped for a double-quoted attribute value. */
static void put_attr_text(lt_buf *b, const xmlChar *s)
{
    for (; *s; s++) {
        const char *rep = *s == '&'    ? "&amp;"
                          : *s == '<'  ? "&lt;"
                          : *s == '"'  ? "&quot;"
                          : *s == '\t' ? "&#9;"
                          : *s == '\n' ? "&#10;"
                          : *s == '\r' ? "&#13;"
                                       : NULL;
        if (rep)
            lt_buf_puts(b, rep);
        else
            lt_buf_putc(b, (char)*s);
    }
}

static int prefix_seen(const xmlNs *const *seen, size_t n, const xmlChar *prefix)
{
    for (size_t i = 0; i < n; i++)
        if (xmlStrEqual(seen[i]->prefix, prefix)) /* NULL == NULL: the default namespace */
            return 1;
    return 0;
}

/* The declarations n needs from its ancestors, nearest first, skipping prefixes that n or
 * a nearer ancestor declares (an ancestor's xmlns="" hides farther defaults). Written to
 * d->decls as " xmlns:p=\"uri\"..." text. */
static void build_decls(ad_xml_doc *d, const xmlNode *n)
{
    const xmlNs *seen[AD_XML_MAX_NS];
    size_t nseen = 0, scanned = 0;
    lt_buf_reset(&d->decls);
    for (const xmlNs *ns = n->nsDef; ns; ns = ns->next) {
        if (nseen == AD_XML_MAX_NS)
            return; /* the record declares nearly everything itself */
        seen[nseen++] = ns;
    }
    for (const xmlNode *a = n->parent; a && a->type == XML_ELEMENT_NODE; a = a->parent)
        for (const xmlNs *ns = a->nsDef; ns; ns = ns->next) {
            if (++scanned > AD_XML_MAX_NS_SCAN || nseen == AD_XML_MAX_NS)
                return;
            if (prefix_seen(seen, nseen, ns->prefix))
                continue;
            seen[nseen++] = ns;
            if (!ns->href || !ns->href[0])
                continue;
            lt_buf_puts(&d->decls, " xmlns");
            if (ns->prefix) {
                lt_buf_putc(&d->decls, ':');
                lt_buf_puts(&d->decls, (const char *)ns->prefix);
            }
            lt_buf_puts(&d->decls, "=\"");
            put_attr_text(&d->decls, ns->href);
            lt_buf_putc(&d->decls, '"');
        }
}

/* Siblings share their ancestors' declarations: computed once per parent unless the record
 * declares namespaces of its own. */
static void in_scope_decls(ad_xml_doc *d, const xmlNode *n)
{
    if (n->nsDef == NULL && d->decl_parent == n->parent && !d->decls.err)
        return;
    build_decls(d, n);
    d->decl_parent = n->nsDef == NULL ? n->parent : NULL;
}

/* Length of "<prefix:name" that starts n's serialisation. */
static size_t start_tag_len(const xmlNode *n)
{
    size_t k = 1 + strlen((const char *)n->name);
    if (n->ns && n->ns->prefix)
        k += strlen((const char *)n->ns->prefix) + 1;
    return k;
}

/* The record element with its subtree, its in-scope namespaces declared on it: new JSON
 * string, or NULL when out of memory. libxml2 serialises the node as it is; the ancestors'
 * declarations are spliced in after the element name. */
static json_t *record_text(ad_xml_doc *d, xmlNodePtr n)
{
    xmlBufferEmpty(d->dump);
    if (xmlNodeDump(d->dump, d->doc, n, 0, 0) < 0)
        return NULL;
    const char *s = (const char *)xmlBufferContent(d->dump);
    size_t len = (size_t)xmlBufferLength(d->dump);
    in_scope_decls(d, n);
    size_t head = start_tag_len(n);
    if (d->decls.len == 0 || d->decls.err || len <= head || s[0] != '<' ||
        (s[head] != ' ' && s[head] != '/' && s[head] != '>'))
        return json_stringn(s, len);
    lt_buf_reset(&d->out);
    lt_buf_append(&d->out, s, head);
    lt_buf_append(&d->out, d->decls.data, d->decls.len);
    lt_buf_append(&d->out, s + head, len - head);
    return d->out.err ? NULL : json_stringn(d->out.data, d->out.len);
}

const void *ad_xml_record(void *doc, size_t i, json_t **raw)
{
    ad_xml_doc *d = doc;
    xmlNodePtr n = d->nodes[i];
    *raw = record_text(d, n);
    return n;
}
