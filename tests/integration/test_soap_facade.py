"""The SOAP facade (API.md §8; issue 4): GET /v1/services/{id}/wsdl and POST /soap/{id}, SOAP 1.1
document/literal, called by a real zeep client (Debian python3-zeep, installed by
`scripts/deps.sh test`) from the WSDL the gateway generates.

GetRecords answers the same records as the REST listing under the same grants: a grant holder
gets only the granted fields and the others by name in restricted_fields; paging goes through
next_cursor; a filter on a field outside the grant, no grant, a spent quota, malformed XML and
a wrong media type are SOAP Faults (HTTP 500, soap:Client, the error code in the detail). A
request without a token is refused before the facade, as problem+json 401 (docs: API.md §8).

Each test class works on its own copy of the statistics service."""

import xml.etree.ElementTree as ET

import requests
import zeep
import zeep.exceptions
import zeep.transports

import lt_harness as h

SRV = None
PROVIDER = h.CTS_ORG
CONSUMER = h.SYT_ORG
FIELDS = ["indicator", "area", "period", "value"]
RECORDS = [
    dict(h.obs("T0501", "20", "2026-Q3", 13254.5), reporter="Hoàng Thị Mai"),
    dict(h.obs("CPI", "20", "2026-M07", 103.25, unit="%"), reporter="Hoàng Thị Mai"),
    dict(h.obs("CPI", "20", "2026-M08", 103.5, unit="%"), reporter="Lăng Văn Quý"),
    dict(h.obs("CPI", "12", "2026-M08", 102.9, unit="%"), reporter="Lăng Văn Quý"),
    dict(h.obs("POP", "20", "2026", 812345, unit="người"), reporter="Lăng Văn Quý"),
    dict(h.obs("IIP", "05977", "2026-M08", None, unit="%", status="no_data"),
         reporter="Hoàng Thị Mai"),
]
BY_KEY = {h.record_key(r): r for r in RECORDS}
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
LT_NS = "urn:lienthong"
_n = [0]
_sessions = []  # closed at the end, so no socket is left to the garbage collector


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    for s in _sessions:
        s.close()
    if SRV:
        SRV.close()


def uid(prefix):
    _n[0] += 1
    return "%s-%d" % (prefix, _n[0])


def data_service():
    """A published copy of the statistics service holding RECORDS."""
    sid = h.sharing_service(SRV, uid("it-soap"))
    r = SRV.post("/v1/services/%s/records" % sid, h.envelope(sid, RECORDS), token=SRV.admin(),
                 content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["accepted"] == len(RECORDS), r
    return sid


def consumer(sid, fields=None, **kw):
    """A new system of CONSUMER and its token; with fields, an operator grant on sid."""
    sub = uid("it-soap-app")
    r = SRV.post("/v1/systems", {"id": sub, "agency": CONSUMER, "name": "Ứng dụng " + sub},
                 token=SRV.admin())
    assert r.status == 201, r
    if fields is not None:
        r = SRV.post("/v1/grants", h.grant_body(CONSUMER, sub, sid, fields=fields, **kw),
                     token=SRV.admin())
        assert r.status == 201, r
    return SRV.agency(CONSUMER, sub)


def wsdl_url(sid):
    return "http://127.0.0.1:%d/v1/services/%s/wsdl" % (SRV.port, sid)


def client(sid, token):
    """A zeep client built from the gateway's WSDL, fetched and called with the bearer token."""
    session = requests.Session()
    _sessions.append(session)
    session.headers["Authorization"] = "Bearer " + token
    return zeep.Client(wsdl=wsdl_url(sid), transport=zeep.transports.Transport(session=session))


def records_of(resp):
    """The records of a GetRecordsResponse as {key: {field: value}} (None = absent or nil)."""
    recs = resp.records.record if resp.records is not None else []
    out = {}
    for rec in recs or []:
        d = {f: getattr(rec, f, None) for f in h.CONTRACT_FIELDS}
        out["%s~%s~%s" % (d["indicator"], d["area"], d["period"])] = d
    return out


def restricted_of(resp):
    rf = resp.restricted_fields
    return sorted(rf.field or []) if rf is not None else []


def fault_code(fault):
    """The lt:code of a zeep Fault's detail (None without one)."""
    if fault.detail is None:
        return None
    el = fault.detail.find(".//{%s}code" % LT_NS)
    return el.text if el is not None else None


def raw_call(sid, body, token, content_type="text/xml; charset=utf-8"):
    return SRV.request("POST", "/soap/%s" % sid, body=body, token=token,
                       content_type=content_type)


def raw_fault(r):
    """(faultcode, lt:code) of a Fault answer."""
    root = ET.fromstring(r.body)
    f = root.find(".//{%s}Fault" % SOAP_NS)
    assert f is not None, r
    code = f.find(".//{%s}code" % LT_NS)
    return f.findtext("faultcode"), code.text if code is not None else None


def get_records_xml(sid, **filters):
    items = "".join("<s:%s>%s</s:%s>" % (k, v, k) for k, v in filters.items())
    return ('<soap:Envelope xmlns:soap="%s" xmlns:s="urn:lienthong:%s"><soap:Body>'
            "<s:GetRecords>%s</s:GetRecords></soap:Body></soap:Envelope>" % (SOAP_NS, sid, items))


class Wsdl(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sid = data_service()

    def test_wsdl_is_xml_with_the_endpoint_of_the_host_used(self):
        r = SRV.get("/v1/services/%s/wsdl" % self.sid, token=SRV.admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "text/xml; charset=utf-8")
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, "{http://schemas.xmlsoap.org/wsdl/}definitions")
        url = "http://127.0.0.1:%d/soap/%s" % (SRV.port, self.sid)
        self.assertIn(url.encode(), r.body)
        other = SRV.get("/v1/services/%s/wsdl" % self.sid, token=SRV.admin(),
                        headers={"Host": "lgsp.langson.gov.vn:8443"})
        self.assertIn(b"http://lgsp.langson.gov.vn:8443/soap/" + self.sid.encode(), other.body)

    def test_wsdl_without_token_is_401(self):
        self.assertProblem(SRV.get("/v1/services/%s/wsdl" % self.sid), 401)

    def test_wsdl_needs_a_grant(self):
        self.assertProblem(SRV.get("/v1/services/%s/wsdl" % self.sid,
                                   token=consumer(self.sid)), 403, "forbidden")
        r = SRV.get("/v1/services/%s/wsdl" % self.sid, token=consumer(self.sid, FIELDS))
        self.assertEqual(r.status, 200, r)

    def test_wsdl_of_unknown_service_is_404(self):
        self.assertProblem(SRV.get("/v1/services/no-such-svc/wsdl", token=SRV.admin()), 404)


class GetRecords(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sid = data_service()
        cls.admin = client(cls.sid, SRV.admin())

    def test_area_filter_returns_the_records_with_their_types(self):
        resp = self.admin.service.GetRecords(area="20", limit=5)
        got = records_of(resp)
        want = {k: r for k, r in BY_KEY.items() if r["area"] == "20"}
        self.assertEqual(set(got), set(want))
        for k, rec in got.items():
            for f in h.CONTRACT_FIELDS:
                self.assertEqual(rec[f], want[k].get(f), (k, f))
        cpi = got["CPI~20~2026-M08"]
        self.assertIsInstance(cpi["value"], float)
        self.assertEqual(cpi["value"], 103.5)
        self.assertIsInstance(cpi["indicator"], str)
        self.assertEqual(cpi["reporter"], "Lăng Văn Quý")
        self.assertEqual(restricted_of(resp), [])
        self.assertIsNone(resp.next_cursor)

    def test_same_records_as_rest(self):
        rest = h.read_all(SRV, self.sid, params={"period": "2026-M08"})
        got = records_of(self.admin.service.GetRecords(period="2026-M08"))
        self.assertEqual(set(got), set(rest))
        for k, rec in rest.items():
            for f in h.CONTRACT_FIELDS:
                self.assertEqual(got[k][f], rec.get(f), (k, f))

    def test_nil_value_and_several_filter_values(self):
        got = records_of(self.admin.service.GetRecords(area="05977,12"))
        self.assertEqual(set(got), {"IIP~05977~2026-M08", "CPI~12~2026-M08"})
        self.assertIsNone(got["IIP~05977~2026-M08"]["value"])
        self.assertEqual(got["IIP~05977~2026-M08"]["status"], "no_data")

    def test_no_match_is_an_empty_answer(self):
        resp = self.admin.service.GetRecords(area="99999")
        self.assertEqual(records_of(resp), {})
        resp = self.admin.service.GetRecords(since="2099-01-01T00:00:00Z")
        self.assertEqual(records_of(resp), {})

    def test_paging_with_cursor(self):
        seen, cursor, pages = {}, None, 0
        while True:
            resp = self.admin.service.GetRecords(limit=2, cursor=cursor)
            page = records_of(resp)
            self.assertLessEqual(len(page), 2)
            self.assertFalse(set(page) & set(seen), "a record came twice")
            seen.update(page)
            pages += 1
            cursor = resp.next_cursor
            if not cursor:
                break
            self.assertLess(pages, 10)
        self.assertEqual(set(seen), set(BY_KEY))
        self.assertEqual(pages, 3)

    def test_bad_cursor_is_a_client_fault(self):
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            self.admin.service.GetRecords(cursor="zz-not-a-cursor")
        self.assertEqual(fault_code(cm.exception), "bad_request")


class Grants(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sid = data_service()

    def test_grant_holder_gets_only_granted_fields(self):
        c = client(self.sid, consumer(self.sid, FIELDS))
        resp = c.service.GetRecords(area="20")
        got = records_of(resp)
        self.assertEqual(len(got), 4)
        for k, rec in got.items():
            for f in FIELDS:
                self.assertEqual(rec[f], BY_KEY[k][f], (k, f))
            for f in ("status", "unit", "reporter"):
                self.assertIsNone(rec[f], (k, f))
        self.assertEqual(restricted_of(resp), ["reporter", "status", "unit"])

    def test_restricted_fields_are_not_in_the_bytes(self):
        tok = consumer(self.sid, FIELDS)
        r = raw_call(self.sid, get_records_xml(self.sid, area="20"), tok)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["content-type"], "text/xml; charset=utf-8")
        text = r.body.decode("utf-8")
        self.assertNotIn("Hoàng Thị Mai", text)
        self.assertNotIn("Lăng Văn Quý", text)
        self.assertNotIn(":reporter>", text)
        self.assertIn("13254.5", text)

    def test_filter_outside_the_grant_is_forbidden(self):
        c = client(self.sid, consumer(self.sid, FIELDS))
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            c.service.GetRecords(reporter="Lăng Văn Quý")
        self.assertEqual(fault_code(cm.exception), "forbidden")
        self.assertIn("Client", cm.exception.code)

    def test_no_grant_is_a_forbidden_fault(self):
        tok = consumer(self.sid)
        c = client(self.sid, SRV.admin())  # the WSDL from the operator, the call without grant
        c.transport.session.headers["Authorization"] = "Bearer " + tok
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            c.service.GetRecords(area="20")
        self.assertEqual(fault_code(cm.exception), "forbidden")
        self.assertIn("Client", cm.exception.code)
        r = raw_call(self.sid, get_records_xml(self.sid), tok)
        self.assertEqual(r.status, 500, r)
        self.assertEqual(raw_fault(r), ("soap:Client", "forbidden"))

    def test_quota_is_a_fault(self):
        tok = consumer(self.sid, FIELDS, quota_per_day=1)
        c = client(self.sid, tok)  # fetching the WSDL counts against the quota too
        with self.assertRaises(zeep.exceptions.Fault) as cm:
            c.service.GetRecords(area="20")
        self.assertEqual(fault_code(cm.exception), "quota_exceeded")

    def test_owner_sees_everything(self):
        c = client(self.sid, SRV.agency(PROVIDER))
        resp = c.service.GetRecords()
        self.assertEqual(set(records_of(resp)), set(BY_KEY))
        self.assertEqual(restricted_of(resp), [])


class BadInput(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.sid = data_service()

    def test_malformed_xml_is_a_client_fault(self):
        r = raw_call(self.sid, "<soap:Envelope xmlns:soap='%s'><soap:Body><broken" % SOAP_NS,
                     SRV.admin())
        self.assertEqual(r.status, 500, r)
        self.assertEqual(r.headers["content-type"], "text/xml; charset=utf-8")
        self.assertEqual(raw_fault(r), ("soap:Client", "bad_request"))

    def test_dtd_is_refused(self):
        body = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                + get_records_xml(self.sid, area="&e;"))
        r = raw_call(self.sid, body, SRV.admin())
        self.assertEqual(r.status, 500, r)
        self.assertEqual(raw_fault(r), ("soap:Client", "bad_request"))
        self.assertNotIn(b"root:", r.body)

    def test_wrong_media_type_is_a_fault(self):
        r = raw_call(self.sid, get_records_xml(self.sid), SRV.admin(),
                     content_type="application/json")
        self.assertEqual(r.status, 500, r)
        self.assertEqual(raw_fault(r)[0], "soap:Client")

    def test_unknown_service_is_a_fault(self):
        r = raw_call("no-such-svc", get_records_xml("no-such-svc"), SRV.admin())
        self.assertEqual(r.status, 500, r)
        self.assertEqual(raw_fault(r), ("soap:Client", "not_found"))

    def test_soap_12_request_is_answered(self):
        body = get_records_xml(self.sid, area="12").replace(
            SOAP_NS, "http://www.w3.org/2003/05/soap-envelope")
        r = raw_call(self.sid, body, SRV.admin(), content_type="application/soap+xml")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"102.9", r.body)

    def test_without_token_is_401_problem(self):
        r = SRV.request("POST", "/soap/%s" % self.sid, body=get_records_xml(self.sid),
                        content_type="text/xml")
        self.assertProblem(r, 401)


if __name__ == "__main__":
    h.main()
