"""XML, SOAP and CSV pushes feed the warehouse through mapping files alone (issue 4's
adapters), over the real binary: records mapped and stored, zero records said clearly, bad and
hostile payloads refused with problem+json and nothing stored, rejects quarantined and retried.
"""

import lt_harness as h

SRV = None
NS = "urn:stc:thu"


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def service(sid, fmt, mapping):
    definition = {"id": sid, "agency": h.STC_ORG, "title": "Thu ngân sách (%s)" % fmt,
                  "sharing": "default", "contract": "indicator-observation@1",
                  "frequency": "monthly", "source": {"mode": "push", "format": fmt},
                  "mapping": mapping}
    r = SRV.post("/v1/services", definition, token=SRV.admin())
    assert r.status == 201, r
    r = SRV.post("/v1/services/%s/status" % sid, {"status": "published", "reason": "test"},
                 token=SRV.admin())
    assert r.status == 200, r
    return sid


XML_MAPPING = {"records": "//t:KhoanThu", "namespaces": {"t": NS},
               "fields": {"indicator": {"const": "THU_NSNN"},
                          "area": {"path": "t:MaDonVi", "map": {"LS": "20", "CB": "04"}},
                          "period": {"path": "t:Ky", "format": "MM/YYYY"},
                          "value": {"path": "t:SoTien", "type": "number", "scale": 0.001},
                          "unit": {"const": "tỷ đồng"}}}


def xml_payload(rows, ns=NS, soap=False):
    items = "".join("<KhoanThu><MaDonVi>%s</MaDonVi><Ky>%s</Ky><SoTien>%s</SoTien></KhoanThu>"
                    % r for r in rows)
    body = '<DanhSach xmlns="%s">%s</DanhSach>' % (ns, items)
    if soap:
        body = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                "<soapenv:Body>%s</soapenv:Body></soapenv:Envelope>" % body)
    return ('<?xml version="1.0" encoding="UTF-8"?>' + body).encode()


def push(sid, body, ctype):
    return SRV.post("/v1/services/%s/records" % sid, body=body, token=SRV.admin(),
                    content_type=ctype)


class Formats(h.LtTestCase):
    def test_xml_push_is_mapped_and_stored(self):
        sid = service("it-fmt-xml", "xml", XML_MAPPING)
        r = push(sid, xml_payload([("LS", "10/2026", "1234500"), ("LS", "11/2026", "99"),
                                   ("XX", "11/2026", "1")]), "application/xml")
        body = self.assertStatus(r, 200)
        self.assertEqual((body["accepted"], body["rejected"]), (2, 1), body)
        self.assertEqual(body["errors"][0]["field"], "area", body)
        got = h.read_all(SRV, sid)
        self.assertEqual(got["THU_NSNN~20~2026-M10"]["value"], 1234.5)
        self.assertEqual(got["THU_NSNN~20~2026-M11"]["unit"], "tỷ đồng")
        # the reject keeps its source XML; after the mapping learns the code, retry stores it
        q = self.assertStatus(SRV.get("/v1/services/%s/quarantine" % sid, token=SRV.admin()),
                              200)["items"]
        self.assertEqual(len(q), 1)
        self.assertIn("<MaDonVi>XX</MaDonVi>", q[0]["raw"])
        fixed = dict(XML_MAPPING, fields=dict(XML_MAPPING["fields"]))
        fixed["fields"]["area"] = {"path": "t:MaDonVi", "map": {"LS": "20", "XX": "01"}}
        definition = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
        definition = {k: v for k, v in definition.items()
                      if k not in ("status", "status_reason", "status_effective_at",
                                   "created_at", "updated_at")}
        definition["mapping"] = fixed
        self.assertStatus(SRV.put("/v1/services/" + sid, definition, token=SRV.admin()), 200)
        r = SRV.post("/v1/services/%s/quarantine/%s/retry" % (sid, q[0]["qid"]), {},
                     token=SRV.admin())
        self.assertEqual(self.assertStatus(r, 200)["accepted"], 1)
        self.assertIn("THU_NSNN~01~2026-M11", h.read_all(SRV, sid))

    def test_wrong_namespace_is_zero_records_said_clearly(self):
        sid = service("it-fmt-xml-ns", "xml", XML_MAPPING)
        body = self.assertStatus(push(sid, xml_payload([("LS", "10/2026", "1")],
                                                       ns="urn:other"), "application/xml"), 200)
        self.assertEqual((body["accepted"], body["rejected"]), (0, 0), body)
        self.assertIn("no records", body["warnings"][0])

    def test_soap_push_and_fault(self):
        sid = service("it-fmt-soap", "soap", XML_MAPPING)
        r = push(sid, xml_payload([("LS", "09/2026", "5000")], soap=True),
                 "application/soap+xml")
        self.assertEqual(self.assertStatus(r, 200)["accepted"], 1)
        fault = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
                 "<soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>"
                 "<faultstring>CSDL ngân sách bảo trì</faultstring></soapenv:Fault>"
                 "</soapenv:Body></soapenv:Envelope>").encode()
        p = self.assertProblem(push(sid, fault, "application/soap+xml"), 502, "bad_gateway")
        self.assertIn("SOAP fault", p["detail"])

    def test_hostile_and_broken_xml(self):
        sid = service("it-fmt-xml-bad", "xml", XML_MAPPING)
        xxe = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
               b'<DanhSach xmlns="urn:stc:thu"><KhoanThu><MaDonVi>&x;</MaDonVi>'
               b"<Ky>10/2026</Ky><SoTien>1</SoTien></KhoanThu></DanhSach>")
        laughs = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
                  + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10)
                             for i in range(8))
                  + b"]><DanhSach>&i;</DanhSach>")
        for body in (xxe, laughs):
            p = self.assertProblem(push(sid, body, "application/xml"), 422, "invalid")
            self.assertIn("DTD", p["detail"])
            self.assertNotIn("root:", p["detail"])
        self.assertProblem(push(sid, b"<DanhSach><KhoanThu>", "application/xml"), 400,
                           "bad_request")
        self.assertProblem(push(sid, b"<a>\xff\xfe</a>", "application/xml"), 400, "invalid_utf8")
        self.assertEqual(h.read_all(SRV, sid), {})
        self.assertTrue(SRV.healthz())

    def test_csv_semicolons_and_decimal_commas(self):
        mapping = {"delimiter": ";",
                   "fields": {"indicator": {"path": "Mã chỉ tiêu"},
                              "area": {"path": "Địa bàn", "map": {"Lạng Sơn": "20"}},
                              "period": {"path": "Kỳ", "format": "MM/YYYY"},
                              "value": {"path": "Giá trị", "type": "number", "decimal": ","},
                              "unit": {"const": "%"}}}
        sid = service("it-fmt-csv", "csv", mapping)
        csv = ("\ufeffMã chỉ tiêu;Địa bàn;Kỳ;Giá trị\r\n"
               "CPI;Lạng Sơn;10/2026;103,75\r\n"
               "IIP;\"Lạng Sơn\";10/2026;\"1.234,5\"\r\n"
               "CPI;Lạng Sơn;11/2026\r\n").encode()
        body = self.assertStatus(push(sid, csv, "text/csv"), 200)
        self.assertEqual((body["accepted"], body["rejected"]), (2, 1), body)
        self.assertIn("has 3 fields", body["errors"][0]["message"])
        got = h.read_all(SRV, sid)
        self.assertEqual(got["CPI~20~2026-M10"]["value"], 103.75)
        self.assertEqual(got["IIP~20~2026-M10"]["value"], 1234.5)
        q = self.assertStatus(SRV.get("/v1/services/%s/quarantine" % sid, token=SRV.admin()),
                              200)["items"]
        self.assertEqual(len(q), 1)  # the short row is kept, nothing is lost

    def test_wrong_content_type_for_the_service(self):
        sid = service("it-fmt-xml-ct", "xml", XML_MAPPING)
        self.assertProblem(push(sid, b"a;b\n1;2\n", "text/csv"), 415, "unsupported_media_type")


if __name__ == "__main__":
    h.main()
