"""What the fuzz targets found (issue 6), over the real binary: each input that broke a parser
now gets a clear problem+json answer at once, and the server keeps running.

- fuzz_contract: a field pattern whose compilation would take seconds (stacked quantifiers,
  repeats of what can match empty) or all memory (nested bounded repeats) is refused with 422
  before regcomp sees it, and so is a ')' that would close the anchoring group around it.
- fuzz_xml: libxml2's message for an unfinished CDATA section quotes 50 bytes of the payload,
  which can cut a character in two; the detail is still UTF-8.
- fuzz_query: the records listing's query parameters (filters, cursor, times) refuse bad values
  with 400/403 and never fail otherwise.
"""

import time

import lt_harness as h

SRV = None
CTS = "/v1/services/cts-chi-tieu-kte-xh/records"


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def contract(cid, pattern):
    return {"id": cid, "version": 1, "title": "Pattern cost (integration test)",
            "key": ["k"],
            "fields": [{"name": "k", "type": "string", "required": True, "pattern": pattern}]}


class Findings(h.LtTestCase):
    def test_costly_patterns_are_refused_quickly(self):
        costly = ["[~]" + "*" * 60 + "+", "((a{1,255}){1,255}){1,255}", "[a-z]{1,32767}",
                  "(" * 12 + "a" + ")*" * 12]
        for i, pattern in enumerate(costly):
            start = time.monotonic()
            r = SRV.post("/v1/contracts", contract("it-costly-%d" % i, pattern),
                         token=SRV.admin())
            p = self.assertProblem(r, 422, "invalid")
            self.assertIn("too costly to compile", p["detail"])
            self.assertLess(time.monotonic() - start, 5.0, pattern)
        r = SRV.post("/v1/contracts", contract("it-deep", "(" * 33 + "a" + ")" * 33),
                     token=SRV.admin())
        self.assertIn("nest deeper than 32", self.assertProblem(r, 422, "invalid")["detail"])
        r = SRV.post("/v1/contracts", contract("it-unmatched", "a)|(b"), token=SRV.admin())
        self.assertIn("closes no group", self.assertProblem(r, 422, "invalid")["detail"])
        self.assertProblem(SRV.get("/v1/contracts/it-costly-0@1", token=SRV.admin()), 404)
        self.assertTrue(SRV.healthz())

    def test_reasonable_patterns_still_compile(self):
        pattern = "([0-9]{1,3}\\.){3}[0-9]{1,3}|[[:alpha:]]{1,255}|[]{}*+?]{1,900}"
        r = SRV.post("/v1/contracts", contract("it-pattern-ok", pattern), token=SRV.admin())
        self.assertStatus(r, 201)

    def test_unfinished_cdata_cut_inside_a_character(self):
        definition = {"id": "it-fuzz-xml", "agency": h.STC_ORG, "title": "XML (fuzz finding)",
                      "sharing": "default", "contract": "indicator-observation@1",
                      "frequency": "monthly", "source": {"mode": "push", "format": "xml"},
                      "mapping": {"fields": {"indicator": {"const": "THU_NSNN"},
                                             "area": {"path": "@ma"},
                                             "period": {"path": "@ky"}}}}
        self.assertStatus(SRV.post("/v1/services", definition, token=SRV.admin()), 201)
        self.assertStatus(SRV.post("/v1/services/it-fuzz-xml/status",
                                   {"status": "published", "reason": "test"},
                                   token=SRV.admin()), 200)
        body = b"<r><![CDATA[" + b"a" * 49 + "ạng Sơn".encode()  # libxml2 keeps 50 bytes
        r = SRV.post("/v1/services/it-fuzz-xml/records", body=body, token=SRV.admin(),
                     content_type="application/xml")
        p = self.assertProblem(r, 400, "bad_request")
        self.assertEqual(p["detail"], "malformed XML at line 1: CData section not finished "
                         + "a" * 49 + "?")
        self.assertEqual(h.read_all(SRV, "it-fuzz-xml"), {})

    def test_records_query_parameters(self):
        token = SRV.agency(h.CTS_ORG)
        cases = [("cursor=zz", 400), ("cursor=00ff", 400), ("since=yesterday", 400),
                 ("as_of=2026-13-01T00:00:00Z", 400), ("nosuch=1", 400),
                 ("period=" + ",".join(["2025"] * 65), 400), ("limit=0", 400)]
        for q, status in cases:
            self.assertProblem(SRV.get(CTS + "?" + q, token=token), status)
        for q in ("period=2025-07,2025-Q3,,x", "area=20&indicator=&limit=1",
                  "since=2020-01-01T00:00:00Z&as_of=2030-01-01T00:00:00%2B07:00"):
            self.assertStatus(SRV.get(CTS + "?" + q, token=token), 200)
        self.assertTrue(SRV.healthz())


if __name__ == "__main__":
    h.main()
