"""Ingest and warehouse queries (API.md §7, §8): a department's JSON mapped into the contract,
the exchange envelope, idempotent storage, revisions and as_of, since, paging, filters, one
record by key with history, provenance, atomic pushes, and quarantine with retry.

Each test works on its own copy of an example service, so tests do not see each other's data."""

import time

import lt_harness as h

SRV = None
CONTRACT_FIELDS = {"indicator", "area", "period", "value", "status", "unit", "reporter"}


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def push(sid, payload, token=None, params="", content_type="application/json"):
    return SRV.post("/v1/services/%s/records%s" % (sid, params), payload,
                    token=token or SRV.admin(), content_type=content_type)


def push_env(sid, env, token=None, params=""):
    return push(sid, env, token, params, content_type=h.EXCHANGE_JSON)


def revisions(body):
    """The revisions in a history=true answer: the envelope's records, oldest first, with a
    provenance entry (revision number) for each (docs/api.md)."""
    assert len(body["provenance"]) == len(body["records"]), body
    assert [p["revision"] for p in body["provenance"]] == \
        list(range(1, len(body["records"]) + 1)), body
    return body["records"]


def rev_value(rev):
    return rev["value"]


def provenance(body, i):
    """Provenance of the i-th record: the envelope's "provenance" list, aligned with records."""
    assert len(body["provenance"]) == len(body["records"]), body
    return body["provenance"][i]


class Ingest(h.LtTestCase):
    n = 0

    def fresh(self, base="stc-thu-ngan-sach"):
        Ingest.n += 1
        return h.create_service(SRV, base, "it-ing-%s-%d" % (base[:3], Ingest.n))

    # -- department JSON through the mapping -----------------------------------------------
    def test_push_department_json(self):
        sid = self.fresh()
        r = push(sid, h.stc_sample())
        body = self.assertStatus(r, 200)
        self.assertEqual(body["accepted"], 11, body)
        self.assertEqual(body["unchanged"], 0, body)
        self.assertEqual(body["rejected"], 1, body)
        self.assertEqual(len(body["quarantine"]), 1, body)
        self.assertTrue(body["quarantine"][0].startswith("q-"), body)
        self.assertEqual(len(body["errors"]), 1, body)
        err = body["errors"][0]
        self.assertEqual(err["field"], "area", body)
        self.assertEqual(err["record"], 11, body)  # the 12th record, counted from 0
        self.assertIn("CB", err["message"])

        r = SRV.get("/v1/services/%s/records" % sid, token=SRV.admin())
        env = self.assertStatus(r, 200)
        self.assertEqual(env["header"]["service"], sid)
        self.assertEqual(env["header"]["contract"], "indicator-observation@1")
        self.assertEqual(env["header"]["provider"], h.STC_ORG)
        self.assertEqual(env["restricted_fields"], [])
        self.assertIsNone(env["next_cursor"])
        recs = {h.record_key(x): x for x in env["records"]}
        self.assertEqual(len(recs), 11)
        oct_ = recs["THU_NSNN~20~2026-M10"]
        self.assertEqual(oct_, {"indicator": "THU_NSNN", "area": "20", "period": "2026-M10",
                                "value": 1234.5, "status": "ok", "unit": "tỷ đồng",
                                "reporter": "Nông Văn Thành"})
        self.assertAlmostEqual(recs["CHI_NSDP~20~2026-M10"]["value"], 1587.75)
        self.assertAlmostEqual(recs["THU_NSNN~20~2026-M02"]["value"], 868.25)
        for x in env["records"]:
            self.assertLessEqual(set(x), CONTRACT_FIELDS, x)

    def test_bootstrap_service_accepts_the_sample(self):
        body = self.assertStatus(push("stc-thu-ngan-sach", h.stc_sample()), 200)
        self.assertEqual(body["accepted"] + body["unchanged"], 11, body)
        self.assertEqual(body["rejected"], 1, body)
        r = SRV.get("/v1/services/stc-thu-ngan-sach/records/THU_NSNN~20~2026-M10",
                    token=SRV.admin())
        self.assertEqual(h.one_record(self.assertStatus(r, 200))["value"], 1234.5)

    def test_resend_is_unchanged(self):
        sid = self.fresh()
        self.assertStatus(push(sid, h.stc_sample()), 200)
        body = self.assertStatus(push(sid, h.stc_sample()), 200)
        self.assertEqual(body["accepted"], 0, body)
        self.assertEqual(body["unchanged"], 11, body)
        self.assertEqual(body["rejected"], 1, body)
        r = SRV.get("/v1/services/%s/records/THU_NSNN~20~2026-M10?history=true" % sid,
                    token=SRV.admin())
        self.assertEqual(len(revisions(self.assertStatus(r, 200))), 1)

    def test_revision_history_and_as_of(self):
        sid = self.fresh()
        before = h.rfc3339()
        time.sleep(1.5)
        self.assertStatus(push(sid, h.stc_sample()), 200)
        time.sleep(1.5)
        between = h.rfc3339()
        time.sleep(1.5)
        payload = h.stc_sample()
        payload["data"][9]["gia_tri"] = "1300,0"  # THU_NSNN 10/2026 revised
        body = self.assertStatus(push(sid, payload), 200)
        self.assertEqual(body["accepted"], 1, body)
        self.assertEqual(body["unchanged"], 10, body)

        key = "/v1/services/%s/records/THU_NSNN~20~2026-M10" % sid
        rec = h.one_record(self.assertStatus(SRV.get(key, token=SRV.admin()), 200))
        self.assertEqual(rec["value"], 1300.0)
        revs = revisions(self.assertStatus(SRV.get(key + "?history=true", token=SRV.admin()),
                                           200))
        self.assertEqual([rev_value(x) for x in revs], [1234.5, 1300.0])

        q = "/v1/services/%s/records" % sid
        env = self.assertStatus(SRV.get(q + h.qs(as_of=between, indicator="THU_NSNN",
                                                 period="2026-M10"), token=SRV.admin()), 200)
        self.assertEqual([x["value"] for x in env["records"]], [1234.5])
        env = self.assertStatus(SRV.get(q + h.qs(as_of=between), token=SRV.admin()), 200)
        self.assertEqual(len(env["records"]), 11)
        env = self.assertStatus(SRV.get(q + h.qs(as_of=before), token=SRV.admin()), 200)
        self.assertEqual(env["records"], [])
        env = self.assertStatus(SRV.get(q + h.qs(indicator="THU_NSNN", period="2026-M10"),
                                        token=SRV.admin()), 200)
        self.assertEqual([x["value"] for x in env["records"]], [1300.0])

    def test_since(self):
        sid = self.fresh()
        self.assertStatus(push(sid, h.stc_sample()), 200)
        time.sleep(1.5)
        mark = h.rfc3339()
        time.sleep(1.5)
        payload = h.stc_sample()
        payload["data"][0]["gia_tri"] = "999,5"  # THU_NSNN 01/2026 revised
        self.assertStatus(push(sid, payload), 200)
        env = self.assertStatus(SRV.get("/v1/services/%s/records%s" % (sid, h.qs(since=mark)),
                                        token=SRV.admin()), 200)
        self.assertEqual([(h.record_key(x), x["value"]) for x in env["records"]],
                         [("THU_NSNN~20~2026-M01", 999.5)])
        env = self.assertStatus(SRV.get("/v1/services/%s/records%s" % (sid, h.qs(
            since=h.rfc3339(time.time() + 3600))), token=SRV.admin()), 200)
        self.assertEqual(env["records"], [])

    def test_limit_and_cursor(self):
        sid = self.fresh()
        self.assertStatus(push(sid, h.stc_sample()), 200)
        seen, pages, cursor = [], [], None
        while True:
            p = {"limit": 4}
            if cursor:
                p["cursor"] = cursor
            env = self.assertStatus(SRV.get("/v1/services/%s/records%s" % (sid, h.qs(**p)),
                                            token=SRV.admin()), 200)
            pages.append(len(env["records"]))
            seen += [h.record_key(x) for x in env["records"]]
            cursor = env["next_cursor"]
            if not cursor:
                break
            self.assertLess(len(pages), 10)
        self.assertEqual(pages, [4, 4, 3])
        self.assertEqual(len(seen), 11)
        self.assertEqual(len(set(seen)), 11)
        r = SRV.get("/v1/services/%s/records?cursor=not-a-cursor" % sid, token=SRV.admin())
        self.assertProblem(r, 400, "bad_request")

    def test_field_filters(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        self.assertStatus(push_env(sid, h.cts_sample(sid)), 200)
        q = "/v1/services/%s/records" % sid

        def keys(**p):
            env = self.assertStatus(SRV.get(q + h.qs(**p), token=SRV.admin()), 200)
            return sorted(h.record_key(x) for x in env["records"])

        self.assertEqual(len(keys(area="20")), 8)
        self.assertEqual(keys(area="05980"), ["POP~05980~2025", "T0501~05980~2026-Q3"])
        self.assertEqual(len(keys(area="20,05980")), 10)
        self.assertEqual(keys(indicator="CPI,POP"),
                         ["CPI~20~2026-M07", "CPI~20~2026-M08", "CPI~20~2026-M09",
                          "POP~05980~2025", "POP~20~2025"])
        self.assertEqual(keys(area="20", indicator="CPI", period="2026-M08"),
                         ["CPI~20~2026-M08"])
        self.assertEqual(keys(area="01"), [])
        # period filters accept every written form of a period
        self.assertEqual(keys(indicator="CPI", period="2026-09"), ["CPI~20~2026-M09"])
        r = SRV.get(q + h.qs(colour="blue"), token=SRV.admin())
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.content_type, "application/problem+json")

    def test_one_record_by_key(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        self.assertStatus(push_env(sid, h.cts_sample(sid)), 200)
        base = "/v1/services/%s/records/" % sid
        rec = h.one_record(self.assertStatus(SRV.get(base + "CPI~20~2026-M09",
                                                     token=SRV.admin()), 200))
        self.assertEqual(rec, {"indicator": "CPI", "area": "20", "period": "2026-M09",
                               "value": 103.75, "status": "ok", "unit": "%"})
        rec = h.one_record(self.assertStatus(SRV.get(base + "T0501~05980~2026-Q3",
                                                     token=SRV.admin()), 200))
        self.assertIsNone(rec["value"])
        self.assertEqual(rec["status"], "no_data")
        self.assertProblem(SRV.get(base + "CPI~20~2026-M10", token=SRV.admin()), 404,
                           "not_found")
        self.assertProblem(SRV.get(base + "CPI~20~2026-M10?history=true", token=SRV.admin()),
                           404, "not_found")

    def test_provenance(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        env = h.cts_sample(sid)
        env["header"]["message_id"] = "it-prov-0001"
        self.assertStatus(push_env(sid, env), 200)
        body = self.assertStatus(SRV.get("/v1/services/%s/records?provenance=true" % sid,
                                         token=SRV.admin()), 200)
        self.assertEqual(len(body["records"]), 10)
        for i in range(len(body["records"])):
            p = provenance(body, i)
            self.assertEqual(p["service"], sid, p)
            self.assertEqual(p.get("revision", p.get("rev")), 1, p)
            self.assertRegex(p["received_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", p)
            self.assertEqual(p.get("message_id"), "it-prov-0001", p)
        body = self.assertStatus(SRV.get("/v1/services/%s/records" % sid, token=SRV.admin()),
                                 200)
        for x in body["records"]:
            self.assertLessEqual(set(x), CONTRACT_FIELDS, x)

    # -- the exchange envelope ---------------------------------------------------------------
    def test_exchange_envelope_push(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        body = self.assertStatus(push_env(sid, h.cts_sample(sid)), 200)
        self.assertEqual((body["accepted"], body["unchanged"], body["rejected"]), (10, 0, 0))
        self.assertEqual(body["quarantine"], [])
        self.assertEqual(body["errors"], [])
        body = self.assertStatus(push_env(sid, h.cts_sample(sid)), 200)
        self.assertEqual((body["accepted"], body["unchanged"]), (0, 10))
        # the header must name this service and its contract
        env = h.cts_sample("cts-chi-tieu-kte-xh")
        r = push_env(sid, env)
        self.assertEqual(r.status, 422, r)
        self.assertEqual(r.content_type, "application/problem+json")
        env = h.cts_sample(sid)
        env["header"]["contract"] = "indicator-observation@2"
        self.assertEqual(push_env(sid, env).status, 422)
        env = h.cts_sample(sid)
        env["trailer"] = {}
        self.assertEqual(push_env(sid, env).status, 422)

    def test_owner_agency_pushes_and_reads(self):
        sid = self.fresh()
        tok = SRV.agency(h.STC_ORG)
        body = self.assertStatus(push(sid, h.stc_sample(), token=tok), 200)
        self.assertEqual(body["accepted"], 11)
        env = self.assertStatus(SRV.get("/v1/services/%s/records" % sid, token=tok), 200)
        self.assertEqual(len(env["records"]), 11)

    # -- atomic ------------------------------------------------------------------------------
    def test_atomic_all_or_nothing(self):
        sid = self.fresh()
        r = push(sid, h.stc_sample(), params="?atomic=true")
        body = self.assertProblem(r, 422, "validation_failed")
        self.assertTrue(body.get("errors"), body)
        self.assertEqual(body["errors"][0]["field"], "area")
        env = self.assertStatus(SRV.get("/v1/services/%s/records" % sid, token=SRV.admin()),
                                200)
        self.assertEqual(env["records"], [])
        payload = h.stc_sample()
        payload["data"] = payload["data"][:11]
        body = self.assertStatus(push(sid, payload, params="?atomic=true"), 200)
        self.assertEqual(body["accepted"], 11)

    # -- validation and quarantine -----------------------------------------------------------
    def test_record_validation_errors(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        good = h.obs("CPI", "20", "2026-M01", 101.5, unit="%")
        secret = "Nguyễn Văn Bí Mật " * 10
        cases = [
            ("period", dict(good, period="2025-13"), "2025-13"),
            ("period", dict(good, period="2025-Q5"), "2025-Q5"),
            ("period", dict(good, period="2025-02-30"), "2025-02-30"),
            ("indicator", dict(good, indicator="NOPE"), "NOPE"),
            ("area", dict(good, area="99999"), "99999"),
            ("value", dict(good, value="nhiều"), None),
            ("status", dict(good, status="maybe"), None),
            ("unit", dict(good, unit="x" * 33), None),
            ("period", {k: v for k, v in good.items() if k != "period"}, None),
            ("colour", dict(good, colour="blue"), None),
            ("reporter", dict(good, reporter=secret), None),
        ]
        for field, bad, quoted in cases:
            with self.subTest(field=field, record=bad):
                body = self.assertStatus(push_env(sid, h.envelope(sid, [good, bad])), 200)
                self.assertEqual(body["rejected"], 1, body)
                self.assertEqual(len(body["quarantine"]), 1, body)
                errs = [e for e in body["errors"] if e.get("field") == field]
                self.assertTrue(errs, body)
                self.assertIn(errs[0]["record"], (1, 2), body)
                if quoted:
                    self.assertIn(quoted, errs[0]["message"])
                if field == "reporter":
                    self.assertNotIn("Bí Mật", str(body))
        env = self.assertStatus(SRV.get("/v1/services/%s/records" % sid, token=SRV.admin()),
                                200)
        self.assertEqual([h.record_key(x) for x in env["records"]], ["CPI~20~2026-M01"])

    def test_period_forms_normalized(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        forms = [("2026", "2026"), ("2026-S1", "2026-S1"), ("2026-Q3", "2026-Q3"),
                 ("2026-M07", "2026-M07"), ("2026-08", "2026-M08"), ("2026-W05", "2026-W05"),
                 ("2026-07-15", "2026-07-15")]
        recs = [h.obs("CPI", "20", given, 100 + i) for i, (given, _) in enumerate(forms)]
        body = self.assertStatus(push_env(sid, h.envelope(sid, recs)), 200)
        self.assertEqual(body["accepted"], len(forms), body)
        got = {x["period"] for x in h.read_all(SRV, sid).values()}
        self.assertEqual(got, {canon for _, canon in forms})

    def test_mapping_errors_are_quarantined(self):
        sid = self.fresh()
        payload = h.stc_sample()
        payload["data"][0]["ky"] = "13/2025"
        payload["data"][1]["gia_tri"] = "nhiều"
        body = self.assertStatus(push(sid, payload), 200)
        self.assertEqual(body["rejected"], 3, body)
        self.assertEqual(body["accepted"], 9, body)
        self.assertEqual(len(body["quarantine"]), 3)
        self.assertEqual({e["field"] for e in body["errors"]}, {"period", "value", "area"})
        # records selector that selects nothing is a whole-payload error
        r = push(sid, {"items": []})
        self.assertProblem(r, 422)

    def test_quarantine_retry_after_code_list_fix(self):
        sid = self.fresh("cts-chi-tieu-kte-xh")
        recs = [h.obs("T0501", "20", "2026-Q2", 12890.5),
                h.obs("T0501", "20998", "2026-Q2", 310.25)]
        body = self.assertStatus(push_env(sid, h.envelope(sid, recs)), 200)
        self.assertEqual((body["accepted"], body["rejected"]), (1, 1), body)
        qid = body["quarantine"][0]
        self.assertEqual(body["errors"][0]["field"], "area")

        qpath = "/v1/services/%s/quarantine" % sid
        ql = self.assertStatus(SRV.get(qpath, token=SRV.admin()), 200)
        self.assertIn("next_cursor", ql)
        entries = [e for e in ql["items"] if e.get("qid") == qid]
        self.assertEqual(len(entries), 1, ql)
        self.assertIn("20998", str(entries[0]))
        self.assertIn("area", str(entries[0]))

        # retry before the fix: still rejected, still in quarantine
        r = SRV.post("%s/%s/retry" % (qpath, qid), token=SRV.admin())
        self.assertIn(r.status, (200, 422), r)
        key = "/v1/services/%s/records/T0501~20998~2026-Q2" % sid
        self.assertEqual(SRV.get(key, token=SRV.admin()).status, 404)

        # the operator adds the missing commune to the code list
        areas = self.assertStatus(SRV.get("/v1/codelists/areas", token=SRV.admin()), 200)
        doc = {"id": "areas", "title": areas["title"], "codes": areas["codes"] + [
            {"code": "20998", "name": "Xã Thử Nghiệm", "parent": "20"}]}
        self.assertStatus(SRV.put("/v1/codelists/areas", doc, token=SRV.admin()), 200)

        r = SRV.post("%s/%s/retry" % (qpath, qid), token=SRV.admin())
        self.assertStatus(r, 200)
        rec = h.one_record(self.assertStatus(SRV.get(key, token=SRV.admin()), 200))
        self.assertEqual(rec["value"], 310.25)
        ql = self.assertStatus(SRV.get(qpath, token=SRV.admin()), 200)
        self.assertFalse([e for e in ql["items"] if e.get("qid") == qid], ql)
        r = SRV.post("%s/%s/retry" % (qpath, qid), token=SRV.admin())
        self.assertProblem(r, 404, "not_found")

    def test_quarantine_retry_after_mapping_fix(self):
        sid = self.fresh()
        body = self.assertStatus(push(sid, h.stc_sample()), 200)
        qid = body["quarantine"][0]
        d = h.service_definition("stc-thu-ngan-sach", sid)
        d["mapping"]["fields"]["area"]["map"]["CB"] = "04"
        self.assertStatus(SRV.put("/v1/services/" + sid, d, token=SRV.admin()), 200)
        r = SRV.post("/v1/services/%s/quarantine/%s/retry" % (sid, qid), token=SRV.admin())
        self.assertStatus(r, 200)
        rec = h.one_record(self.assertStatus(SRV.get(
            "/v1/services/%s/records/THU_NSNN~04~2026-M10" % sid, token=SRV.admin()), 200))
        self.assertEqual(rec["value"], 645.5)

    def test_quarantine_is_owner_or_admin_only(self):
        sid = self.fresh()
        self.assertStatus(push(sid, h.stc_sample()), 200)
        q = "/v1/services/%s/quarantine" % sid
        self.assertEqual(self.assertStatus(SRV.get(q, token=SRV.agency(h.STC_ORG)), 200)
                         ["items"][0]["qid"][:2], "q-")
        self.assertProblem(SRV.get(q, token=SRV.agency(h.SYT_ORG)), 403, "forbidden")


if __name__ == "__main__":
    h.main()
