#!/usr/bin/python3
"""Reads lienthong's SOAP facade documents the way a real consumer does, with zeep.

Usage: wsdl_check.py WSDL_FILE RESPONSE_FILE FAULT_FILE
Prints one JSON object: {"operations": [...], "request": "<GetRecords envelope zeep would
send>", "response": <the response as zeep deserialised it>, "fault": {"message", "code"}, "schema_errors": [problems
validating the request and response elements against the WSDL's schema]}.
Exit 77 (with the reason on stdout) when python3-zeep is not installed, so the C test skips.
"""
import json
import sys
import types

try:
    import zeep
    import zeep.exceptions
    import zeep.helpers
    from lxml import etree
except ImportError as exc:  # the Debian packages python3-zeep / python3-lxml
    print(f"skip: python3-zeep is not available ({exc})")
    sys.exit(77)


def reply(client, path):
    with open(path, "rb") as f:
        content = f.read()
    resp = types.SimpleNamespace(status_code=200, content=content, encoding="utf-8",
                                 headers={"Content-Type": "text/xml; charset=utf-8"})
    binding = client.service._binding
    return binding.process_reply(client, binding.get("GetRecords"), resp)


def schema_errors(wsdl_path, docs):
    """Validates each element against the WSDL's own schema (lxml), so the documents we
    write are not just readable by zeep but valid by the types we publish."""
    schema_el = etree.parse(wsdl_path).find(".//{http://www.w3.org/2001/XMLSchema}schema")
    schema = etree.XMLSchema(etree.ElementTree(schema_el))
    errors = []
    for el in docs:
        if not schema.validate(etree.ElementTree(el)):
            errors.extend(str(e) for e in schema.error_log)
    return errors


def body_child(envelope):
    return next(iter(envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")))


def main():
    wsdl, response, fault = sys.argv[1:4]
    client = zeep.Client(wsdl)
    ops = sorted(client.service._binding._operations.keys())
    msg = client.create_message(client.service, "GetRecords", area="20,12", limit=5,
                                cursor="c&<1>")
    out = {"operations": ops, "request": etree.tostring(msg, encoding="unicode")}
    with open(response, "rb") as f:
        resp_el = body_child(etree.fromstring(f.read()))
    out["schema_errors"] = schema_errors(wsdl, [body_child(msg), resp_el])
    out["response"] = zeep.helpers.serialize_object(reply(client, response), dict)
    try:
        reply(client, fault)
        out["fault"] = None
    except zeep.exceptions.Fault as f:
        code = None
        if f.detail is not None:
            code = f.detail.findtext("{urn:lienthong}problem/{urn:lienthong}code")
        out["fault"] = {"message": f.message, "code": code}
    print(json.dumps(out, default=str, ensure_ascii=False))


if __name__ == "__main__":
    main()
