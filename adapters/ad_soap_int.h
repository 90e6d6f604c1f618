/* ad_soap_int — helpers shared by the SOAP facade's files (ad_soap_out.c, ad_soap_wsdl.c,
 * ad_soap_req.c). Never included from outside adapters/. */
#ifndef AD_SOAP_INT_H
#define AD_SOAP_INT_H

#include <stddef.h>

#include "ct_contract.h"
#include "lt_buf.h"

#define AD_SOAP11_ENV_NS "http://schemas.xmlsoap.org/soap/envelope/"
#define AD_SOAP12_ENV_NS "http://www.w3.org/2003/05/soap-envelope"
#define AD_XSI_NS "http://www.w3.org/2001/XMLSchema-instance"
#define AD_SOAP_NS_PREFIX "urn:lienthong:"
#define AD_SOAP_FAULT_NS "urn:lienthong"

/* Appends s[0..n) escaped for XML text (attr == 0) or a double-quoted attribute value
 * (attr != 0; tab and LF become character references so attribute normalisation keeps them).
 * Invalid UTF-8 and characters XML 1.0 forbids become U+FFFD. */
void ad_soap_esc(lt_buf *out, const char *s, size_t n, int attr);
/* Same for a NUL-terminated string; NULL writes nothing. */
void ad_soap_esc_str(lt_buf *out, const char *s, int attr);
/* A double with the fewest of 15..17 significant digits that reads back the same. */
void ad_soap_put_double(lt_buf *out, double d);
/* Names of the query options of GetRecords, NULL-terminated: since, as_of, limit, cursor. */
extern const char *const ad_soap_options[];
/* True when name is one of ad_soap_options (a contract field of that name is not a filter). */
int ad_soap_is_option(const char *name);

#endif
