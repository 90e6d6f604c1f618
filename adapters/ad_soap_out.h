/* ad_soap_out — the SOAP facade's formats (API.md §8): the WSDL 1.1 of a service, its
 * GetRecords request, the response envelope and faults. SOAP 1.1, document/literal, for
 * consumers that speak only SOAP (Circular 13/2017 makes SOAP/WSDL the baseline).
 *
 * Namespaces: the service's schema lives in "urn:lienthong:<service id>" (elementFormDefault
 * qualified); fault details use "urn:lienthong". Messages say what TT 13/2017 Art. 8.2 asks:
 * value unknown → a nillable field written xsi:nil="true"; no data → an empty <records/>;
 * data exists but not authorised → the field names in <restricted_fields>.
 *
 * Output is UTF-8 XML, always well-formed: text and attribute values are escaped, characters
 * XML 1.0 cannot carry (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF, invalid UTF-8 bytes)
 * are written as U+FFFD, and CR is written as &#13; so it survives parsing.
 * Numbers are written so they read back the same: integers as integers, reals with the
 * fewest of 15..17 significant digits that round-trip (C locale assumed, as everywhere here).
 *
 * Ownership: writers append to a caller-owned lt_buf (errors collect in out->err, check once
 * at the end); ad_soap_request_parse returns a new JSON object (json_decref). Nothing is kept.
 * Thread safety: all functions are reentrant; a buffer belongs to one thread.
 */
#ifndef AD_SOAP_OUT_H
#define AD_SOAP_OUT_H

#include <jansson.h>
#include <stddef.h>

#include "ct_contract.h"
#include "lt_buf.h"
#include "lt_err.h"

/* A GetRecords request holds filter values and paging options only; 1 MiB is far above any
 * real one and keeps a hostile body from costing a parse of the full body cap. */
#define AD_SOAP_REQUEST_MAX (1024u * 1024u)

/* WSDL 1.1 (document/literal, SOAP 1.1 over HTTP) for one service: operation GetRecords,
 * request element GetRecords (each contract field as an optional xs:string filter, except
 * fields named since/as_of/limit/cursor, which those options shadow as in the REST query;
 * then since, as_of: xs:dateTime; limit: xs:int; cursor: xs:string), response element
 * GetRecordsResponse (records/record typed by the contract — nillable where nullable,
 * minOccurs="0" unless required, enums as xs:enumeration, max_length as xs:maxLength —
 * restricted_fields/field, next_cursor). title may be NULL (the contract's title is used).
 * Errors: LT_E_INVALID for a missing service id or endpoint; out->err if the buffer failed. */
lt_err ad_wsdl_write(const ct_contract *c, const char *service_id, const char *title,
                     const char *endpoint_url, lt_buf *out, lt_errinfo *ei);

/* Parses a GetRecords request (SOAP 1.1 or 1.2 envelope; Header ignored) safely: libxml2
 * with XML_PARSE_NONET, no entity substitution, no DTD loading, and any DOCTYPE rejected
 * before its declarations are read. On success *query is a new object of the options given:
 * {"<field>": "v1,v2", "since": "<RFC 3339>", "as_of": "<RFC 3339>", "limit": <integer
 * 1..LT_LIST_LIMIT_MAX>, "cursor": "…"} (strings trimmed; empty or xsi:nil elements omitted).
 * Children may be in the service namespace or unqualified.
 * Errors (Fault-worthy, soap:Client): LT_E_BAD_REQUEST with detail — malformed XML, DTD,
 * not a SOAP envelope, wrong operation or namespace, unknown or repeated element, element
 * content where text is expected, bad since/as_of/limit; LT_E_TOO_LARGE past
 * AD_SOAP_REQUEST_MAX; LT_E_NOMEM. *query is NULL on error. */
lt_err ad_soap_request_parse(const ct_contract *c, const char *service_id, const char *body,
                             size_t len, json_t **query, lt_errinfo *ei);

/* The response envelope, streamed: begin, one ad_soap_response_record per stored record,
 * end. begin opens <soap:Envelope><soap:Body><GetRecordsResponse><records>. */
void ad_soap_response_begin(lt_buf *out, const char *service_id);
/* Writes one <record> from a record's canonical JSON text (already projected to the granted
 * fields): children in contract field order, absent fields omitted, null → xsi:nil="true";
 * members that are not contract fields are not written. Returns 0, or -1 when json is not an
 * object (nothing written) or the buffer failed. */
int ad_soap_response_record(lt_buf *out, const ct_contract *c, const char *json, size_t len);
/* Closes records and writes <restricted_fields> (always present, maybe empty) and
 * <next_cursor> (xsi:nil="true" when next_cursor is NULL or empty). */
void ad_soap_response_end(lt_buf *out, const char *const *restricted, size_t nrestricted,
                          const char *next_cursor);

/* A whole SOAP 1.1 Fault envelope: faultcode soap:Client (client_error != 0) or soap:Server,
 * faultstring = message, detail <lt:problem xmlns:lt="urn:lienthong"><lt:code>code</lt:code>
 * </lt:problem> (detail omitted when code is NULL). WS-I BP 1.1 wants HTTP 500 with it. */
void ad_soap_fault_write(lt_buf *out, int client_error, const char *code, const char *message);

#endif
