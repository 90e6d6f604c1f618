/* The WSDL 1.1 of a service's SOAP facade, generated from its contract: written as text into
 * an lt_buf (every variable part escaped) because the document is a fixed skeleton with the
 * contract's fields poured in, which a writer API would only make longer. */
#include <string.h>

#include "ad_soap_int.h"
#include "ad_soap_out.h"

/* XSD built-in type of each contract type, indexed by ct_type. period and code are strings
 * with rules XSD cannot say (period syntax, code-list membership); enum adds enumerations. */
static const char *const ad_xsd_types[] = {
    [CT_STRING] = "xs:string",   [CT_INTEGER] = "xs:long", [CT_NUMBER] = "xs:double",
    [CT_BOOLEAN] = "xs:boolean", [CT_DATE] = "xs:date",    [CT_DATETIME] = "xs:dateTime",
    [CT_PERIOD] = "xs:string",   [CT_CODE] = "xs:string",  [CT_ENUM] = "xs:string",
};

static void ad_wsdl_head(lt_buf *o, const char *tns)
{
    lt_buf_puts(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\""
                   " xmlns:soap=\"http://schemas.xmlsoap.org/wsdl/soap/\""
                   " xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:tns=\"");
    ad_soap_esc_str(o, tns, 1);
    lt_buf_puts(o, "\" targetNamespace=\"");
    ad_soap_esc_str(o, tns, 1);
    lt_buf_puts(o, "\" name=\"Records\">\n");
}

static void ad_wsdl_doc(lt_buf *o, const ct_contract *c, const char *title)
{
    lt_buf_puts(o, "<wsdl:documentation>");
    ad_soap_esc_str(o, title, 0);
    lt_buf_puts(o, " (contract ");
    ad_soap_esc_str(o, c->ref, 0);
    lt_buf_puts(o, ")</wsdl:documentation>\n");
}

/* The GetRecords request element: filters first, then the paging and time options. */
static void ad_wsdl_request(lt_buf *o, const ct_contract *c)
{
    lt_buf_puts(o, "<xs:element name=\"GetRecords\"><xs:complexType><xs:sequence>\n");
    for (size_t i = 0; i < c->nfields; i++) {
        /* the option wins, as it does in the REST query string */
        if (ad_soap_is_option(c->fields[i].name))
            continue;
        lt_buf_printf(o, "<xs:element name=\"%s\" type=\"xs:string\" minOccurs=\"0\"/>\n",
                      c->fields[i].name);
    }
    lt_buf_puts(o, "<xs:element name=\"since\" type=\"xs:dateTime\" minOccurs=\"0\"/>\n"
                   "<xs:element name=\"as_of\" type=\"xs:dateTime\" minOccurs=\"0\"/>\n"
                   "<xs:element name=\"limit\" type=\"xs:int\" minOccurs=\"0\"/>\n"
                   "<xs:element name=\"cursor\" type=\"xs:string\" minOccurs=\"0\"/>\n"
                   "</xs:sequence></xs:complexType></xs:element>\n");
}

/* Facets XSD can state: enum values and string/code length, as an anonymous simple type.
 * Returns 0 when the field has none (the caller then uses a type attribute). */
static int ad_wsdl_has_facets(const ct_field *f)
{
    return f->type == CT_ENUM ||
           ((f->type == CT_STRING || f->type == CT_CODE) && f->max_length >= 0);
}

static void ad_wsdl_facets(lt_buf *o, const ct_field *f)
{
    lt_buf_puts(o, "<xs:simpleType><xs:restriction base=\"xs:string\">");
    for (size_t i = 0; f->type == CT_ENUM && i < f->nvalues; i++) {
        lt_buf_puts(o, "<xs:enumeration value=\"");
        ad_soap_esc_str(o, f->values[i], 1);
        lt_buf_puts(o, "\"/>");
    }
    if (f->type != CT_ENUM && f->max_length >= 0)
        lt_buf_printf(o, "<xs:maxLength value=\"%ld\"/>", f->max_length);
    lt_buf_puts(o, "</xs:restriction></xs:simpleType>");
}

/* Every record element is minOccurs="0", required ones too: a grant may leave out any field
 * (then named in restricted_fields), and a strict client such as zeep rejects a response
 * that lacks a minOccurs="1" element. Required fields say so in an annotation instead. */
static void ad_wsdl_record_field(lt_buf *o, const ct_field *f)
{
    int facets = ad_wsdl_has_facets(f);
    lt_buf_printf(o, "<xs:element name=\"%s\" minOccurs=\"0\"", f->name);
    if (f->nullable)
        lt_buf_puts(o, " nillable=\"true\"");
    if (!facets)
        lt_buf_printf(o, " type=\"%s\"", ad_xsd_types[f->type]);
    if (!facets && !f->required) {
        lt_buf_puts(o, "/>\n");
        return;
    }
    lt_buf_putc(o, '>');
    if (f->required)
        lt_buf_puts(o, "<xs:annotation><xs:documentation>required by the contract: absent only "
                       "when outside your grant (then listed in restricted_fields)"
                       "</xs:documentation></xs:annotation>");
    if (facets)
        ad_wsdl_facets(o, f);
    lt_buf_puts(o, "</xs:element>\n");
}

static void ad_wsdl_response(lt_buf *o, const ct_contract *c)
{
    lt_buf_puts(o, "<xs:complexType name=\"Record\"><xs:sequence>\n");
    for (size_t i = 0; i < c->nfields; i++)
        ad_wsdl_record_field(o, &c->fields[i]);
    lt_buf_puts(o, "</xs:sequence></xs:complexType>\n"
                   "<xs:element name=\"GetRecordsResponse\"><xs:complexType><xs:sequence>\n"
                   "<xs:element name=\"records\"><xs:complexType><xs:sequence>"
                   "<xs:element name=\"record\" type=\"tns:Record\" minOccurs=\"0\""
                   " maxOccurs=\"unbounded\"/></xs:sequence></xs:complexType></xs:element>\n"
                   "<xs:element name=\"restricted_fields\"><xs:complexType><xs:sequence>"
                   "<xs:element name=\"field\" type=\"xs:string\" minOccurs=\"0\""
                   " maxOccurs=\"unbounded\"/></xs:sequence></xs:complexType></xs:element>\n"
                   "<xs:element name=\"next_cursor\" type=\"xs:string\" minOccurs=\"0\""
                   " nillable=\"true\"/>\n"
                   "</xs:sequence></xs:complexType></xs:element>\n");
}

static void ad_wsdl_types(lt_buf *o, const ct_contract *c, const char *tns)
{
    /* tns declared again on the schema so tools that lift it out of the WSDL can resolve
     * tns:Record */
    lt_buf_puts(o, "<wsdl:types><xs:schema elementFormDefault=\"qualified\" xmlns:tns=\"");
    ad_soap_esc_str(o, tns, 1);
    lt_buf_puts(o, "\" targetNamespace=\"");
    ad_soap_esc_str(o, tns, 1);
    lt_buf_puts(o, "\">\n");
    ad_wsdl_request(o, c);
    ad_wsdl_response(o, c);
    lt_buf_puts(o, "</xs:schema></wsdl:types>\n");
}

static void ad_wsdl_interface(lt_buf *o, const char *tns)
{
    lt_buf_puts(
        o, "<wsdl:message name=\"GetRecordsRequest\"><wsdl:part name=\"parameters\""
           " element=\"tns:GetRecords\"/></wsdl:message>\n"
           "<wsdl:message name=\"GetRecordsResponse\"><wsdl:part name=\"parameters\""
           " element=\"tns:GetRecordsResponse\"/></wsdl:message>\n"
           "<wsdl:portType name=\"RecordsPortType\"><wsdl:operation name=\"GetRecords\">"
           "<wsdl:input message=\"tns:GetRecordsRequest\"/>"
           "<wsdl:output message=\"tns:GetRecordsResponse\"/></wsdl:operation></wsdl:portType>\n"
           "<wsdl:binding name=\"RecordsBinding\" type=\"tns:RecordsPortType\">"
           "<soap:binding style=\"document\" transport=\"http://schemas.xmlsoap.org/soap/http\"/>\n"
           "<wsdl:operation name=\"GetRecords\"><soap:operation soapAction=\"");
    ad_soap_esc_str(o, tns, 1);
    lt_buf_puts(o, "#GetRecords\" style=\"document\"/>"
                   "<wsdl:input><soap:body use=\"literal\"/></wsdl:input>"
                   "<wsdl:output><soap:body use=\"literal\"/></wsdl:output>"
                   "</wsdl:operation></wsdl:binding>\n");
}

static void ad_wsdl_service(lt_buf *o, const char *title, const char *endpoint_url)
{
    lt_buf_puts(o, "<wsdl:service name=\"RecordsService\"><wsdl:documentation>");
    ad_soap_esc_str(o, title, 0);
    lt_buf_puts(o, "</wsdl:documentation><wsdl:port name=\"RecordsPort\""
                   " binding=\"tns:RecordsBinding\"><soap:address location=\"");
    ad_soap_esc_str(o, endpoint_url, 1);
    lt_buf_puts(o, "\"/></wsdl:port></wsdl:service>\n</wsdl:definitions>\n");
}

lt_err ad_wsdl_write(const ct_contract *c, const char *service_id, const char *title,
                     const char *endpoint_url, lt_buf *out, lt_errinfo *ei)
{
    if (!c || !out)
        return lt_fail(ei, LT_E_INTERNAL, "wsdl: no contract or output buffer");
    if (!service_id || !*service_id)
        return lt_fail(ei, LT_E_INVALID, "wsdl: a service id is required");
    if (!endpoint_url || !*endpoint_url)
        return lt_fail(ei, LT_E_INVALID, "wsdl: an endpoint URL is required");
    lt_buf tns;
    lt_buf_init(&tns, 0);
    lt_buf_puts(&tns, AD_SOAP_NS_PREFIX);
    lt_buf_puts(&tns, service_id);
    const char *ns = lt_buf_cstr(&tns);
    if (!ns) {
        lt_buf_free(&tns);
        return lt_fail(ei, LT_E_NOMEM, "wsdl: out of memory");
    }
    const char *t = title && *title ? title : c->title;
    ad_wsdl_head(out, ns);
    ad_wsdl_doc(out, c, t);
    ad_wsdl_types(out, c, ns);
    ad_wsdl_interface(out, ns);
    ad_wsdl_service(out, t, endpoint_url);
    lt_buf_free(&tns);
    if (out->err)
        return lt_fail(ei, out->err, "wsdl: the document could not be built");
    return LT_OK;
}
