"""Registry over HTTP (API.md §5): agencies, code lists, contracts, services and the catalog,
against the real server bootstrapped from examples/lang-son."""

import os

import lt_harness as h

SRV = None


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def new_agency(code, name="Sở Giáo dục và Đào tạo tỉnh Lạng Sơn", parent="000.00.00.H32"):
    a = {"code": code, "name": name,
         "contact": {"name": "Lộc Văn Hùng", "position": "Chánh Văn phòng Sở",
                     "phone": "0205 3812 250", "email": "vanphong.sgddt@langson.gov.vn"}}
    if parent:
        a["parent"] = parent
    return a


def full_contract(cid):
    """A contract using every field type and option of API.md §5."""
    return {"id": cid, "version": 1, "title": "Cơ sở y tế (integration test)",
            "key": ["facility", "day"],
            "fields": [
                {"name": "facility", "type": "string", "required": True, "max_length": 20,
                 "pattern": "[A-Z]{2}[0-9]{3}"},
                {"name": "day", "type": "date", "required": True},
                {"name": "updated", "type": "datetime"},
                {"name": "period", "type": "period"},
                {"name": "beds", "type": "integer", "min": 0, "max": 5000},
                {"name": "occupancy", "type": "number", "min": 0, "max": 1, "nullable": True},
                {"name": "public", "type": "boolean"},
                {"name": "area", "type": "code", "codelist": "areas"},
                {"name": "level", "type": "enum", "values": ["central", "province", "commune"]},
                {"name": "director", "type": "string", "max_length": 120, "personal": True},
            ]}


class Agencies(h.LtTestCase):
    def test_bootstrap_agencies_listed(self):
        r = SRV.get("/v1/agencies", token=SRV.admin())
        body = self.assertStatus(r, 200)
        self.assertIn("items", body)
        self.assertIn("next_cursor", body)
        codes = {a["code"] for a in body["items"]}
        for a in h.load_example("agencies.json"):
            self.assertIn(a["code"], codes)

    def test_get_one_agency(self):
        r = SRV.get("/v1/agencies/000.00.15.H32", token=SRV.agency(h.SYT_ORG))
        body = self.assertStatus(r, 200)
        self.assertEqual(body["code"], "000.00.15.H32")
        self.assertEqual(body["name"], "Sở Tài chính tỉnh Lạng Sơn")
        self.assertEqual(body["parent"], "000.00.00.H32")
        for k in ("name", "position", "phone", "email"):
            self.assertIn(k, body["contact"])

    def test_create_agency_then_duplicate(self):
        r = SRV.post("/v1/agencies", new_agency("000.00.25.H32"), token=SRV.admin())
        body = self.assertStatus(r, 201)
        self.assertEqual(body["code"], "000.00.25.H32")
        r = SRV.get("/v1/agencies/000.00.25.H32", token=SRV.admin())
        self.assertEqual(self.assertStatus(r, 200)["name"], "Sở Giáo dục và Đào tạo tỉnh Lạng Sơn")
        r = SRV.post("/v1/agencies", new_agency("000.00.25.H32"), token=SRV.admin())
        self.assertProblem(r, 409, "conflict")

    def test_non_admin_cannot_create_agency(self):
        r = SRV.post("/v1/agencies", new_agency("000.00.26.H32"), token=SRV.agency(h.STC_ORG))
        self.assertProblem(r, 403, "forbidden")
        r = SRV.get("/v1/agencies/000.00.26.H32", token=SRV.admin())
        self.assertProblem(r, 404, "not_found")

    def test_agency_code_must_follow_qd20(self):
        r = SRV.post("/v1/agencies", new_agency("sở tài chính"), token=SRV.admin())
        self.assertProblem(r, 422, "invalid")
        r = SRV.post("/v1/agencies", new_agency("A" * 36), token=SRV.admin())
        self.assertProblem(r, 422, "invalid")
        r = SRV.post("/v1/agencies", new_agency("000.00.29.H32", parent="999.99.99.H99"),
                     token=SRV.admin())
        self.assertProblem(r, 422, "invalid")

    def test_agency_unknown_field_named(self):
        a = new_agency("000.00.27.H32")
        a["fax"] = "0205 3812 999"
        r = SRV.post("/v1/agencies", a, token=SRV.admin())
        body = self.assertProblem(r, 422, "invalid")
        self.assertIn("fax", h.problem_text(body))
        a = new_agency("000.00.28.H32")
        a["contact"]["zalo"] = "0912345678"
        r = SRV.post("/v1/agencies", a, token=SRV.admin())
        body = self.assertProblem(r, 422, "invalid")
        self.assertIn("zalo", h.problem_text(body))

    def test_unknown_agency_404(self):
        self.assertProblem(SRV.get("/v1/agencies/999.99.99.H99", token=SRV.admin()), 404,
                           "not_found")

    def test_agencies_need_a_token(self):
        self.assertProblem(SRV.get("/v1/agencies"), 401, "unauthorized")

    def test_agency_list_paging(self):
        r = SRV.get("/v1/agencies?limit=2", token=SRV.admin())
        body = self.assertStatus(r, 200)
        self.assertEqual(len(body["items"]), 2)
        self.assertTrue(body["next_cursor"])
        seen = [a["code"] for a in body["items"]]
        cursor = body["next_cursor"]
        while cursor:
            body = self.assertStatus(
                SRV.get("/v1/agencies" + h.qs(limit=2, cursor=cursor), token=SRV.admin()), 200)
            seen += [a["code"] for a in body["items"]]
            cursor = body["next_cursor"]
        self.assertEqual(len(seen), len(set(seen)))
        for a in h.load_example("agencies.json"):
            self.assertIn(a["code"], seen)


class CodeLists(h.LtTestCase):
    def test_bootstrap_code_lists(self):
        body = self.assertStatus(SRV.get("/v1/codelists", token=SRV.admin()), 200)
        ids = {c["id"] for c in body["items"]}
        self.assertTrue({"areas", "indicators"} <= ids, body)
        self.assertIn("next_cursor", body)

    def test_areas_hold_the_34_provinces(self):
        body = self.assertStatus(SRV.get("/v1/codelists/areas", token=SRV.admin()), 200)
        codes = {c["code"]: c for c in body["codes"]}
        provinces = [c for c in body["codes"] if len(c["code"]) == 2]
        self.assertGreaterEqual(len(provinces), 34)
        self.assertEqual(codes["20"]["name"], "Lạng Sơn")
        self.assertEqual(codes["01"]["name"], "Hà Nội")
        communes = [c for c in body["codes"] if len(c["code"]) == 5]
        self.assertTrue(communes)
        self.assertTrue(all(c.get("parent") == "20" for c in communes))

    def test_put_new_then_replace(self):
        doc = {"id": "it-sectors", "title": "Lĩnh vực",
               "codes": [{"code": "YT", "name": "Y tế"}, {"code": "GD", "name": "Giáo dục"}]}
        r = SRV.put("/v1/codelists/it-sectors", doc, token=SRV.admin())
        self.assertStatus(r, 201)
        doc["codes"].append({"code": "NN", "name": "Nông nghiệp"})
        r = SRV.put("/v1/codelists/it-sectors", doc, token=SRV.admin())
        self.assertStatus(r, 200)
        body = self.assertStatus(SRV.get("/v1/codelists/it-sectors", token=SRV.admin()), 200)
        self.assertEqual([c["code"] for c in body["codes"]], ["YT", "GD", "NN"])

    def test_put_needs_admin(self):
        doc = {"id": "it-x", "title": "x", "codes": [{"code": "A", "name": "a"}]}
        r = SRV.put("/v1/codelists/it-x", doc, token=SRV.agency(h.STC_ORG))
        self.assertProblem(r, 403, "forbidden")

    def test_put_unknown_field_and_bad_parent(self):
        doc = {"id": "it-y", "title": "y", "codes": [{"code": "A", "name": "a", "colour": "x"}]}
        body = self.assertProblem(SRV.put("/v1/codelists/it-y", doc, token=SRV.admin()), 422,
                                  "invalid")
        self.assertIn("colour", h.problem_text(body))
        doc = {"id": "it-y", "title": "y", "codes": [{"code": "A", "name": "a", "parent": "Z"}]}
        self.assertProblem(SRV.put("/v1/codelists/it-y", doc, token=SRV.admin()), 422, "invalid")

    def test_unknown_code_list_404(self):
        self.assertProblem(SRV.get("/v1/codelists/nope", token=SRV.admin()), 404, "not_found")


class Contracts(h.LtTestCase):
    def test_bootstrap_contract(self):
        body = self.assertStatus(SRV.get("/v1/contracts", token=SRV.admin()), 200)
        refs = {(c["id"], c["version"]) for c in body["items"]}
        self.assertIn(("indicator-observation", 1), refs)
        body = self.assertStatus(
            SRV.get("/v1/contracts/indicator-observation@1", token=SRV.agency(h.SYT_ORG)), 200)
        self.assertEqual(body["key"], ["indicator", "area", "period"])
        fields = {f["name"]: f for f in body["fields"]}
        self.assertEqual(set(fields), {"indicator", "area", "period", "value", "status", "unit",
                                       "reporter"})
        self.assertTrue(fields["reporter"]["personal"])
        self.assertEqual(fields["area"]["codelist"], "areas")

    def test_create_contract_with_every_type(self):
        r = SRV.post("/v1/contracts", full_contract("it-health-facility"), token=SRV.admin())
        self.assertStatus(r, 201)
        body = self.assertStatus(SRV.get("/v1/contracts/it-health-facility@1",
                                         token=SRV.admin()), 200)
        self.assertEqual(len(body["fields"]), 10)
        # a published version is immutable
        r = SRV.post("/v1/contracts", full_contract("it-health-facility"), token=SRV.admin())
        self.assertProblem(r, 409, "conflict")
        # a new version is a new contract
        c2 = full_contract("it-health-facility")
        c2["version"] = 2
        self.assertStatus(SRV.post("/v1/contracts", c2, token=SRV.admin()), 201)

    def test_contract_unknown_option_named(self):
        c = full_contract("it-bad-contract")
        c["fields"][0]["colour"] = "red"
        body = self.assertProblem(SRV.post("/v1/contracts", c, token=SRV.admin()), 422, "invalid")
        self.assertIn("colour", h.problem_text(body))

    def test_contract_invalid_definitions(self):
        cases = []
        c = full_contract("it-bad-type")
        c["fields"][2]["type"] = "timestamp"
        cases.append(c)
        c = full_contract("it-bad-key")
        c["key"] = ["nope"]
        cases.append(c)
        c = full_contract("it-bad-codelist")
        c["fields"][7]["codelist"] = "no-such-list"
        cases.append(c)
        c = full_contract("it-bad-enum")
        c["fields"][8]["values"] = []
        cases.append(c)
        for c in cases:
            with self.subTest(contract=c["id"]):
                self.assertProblem(SRV.post("/v1/contracts", c, token=SRV.admin()), 422,
                                   "invalid")

    def test_contract_needs_admin(self):
        r = SRV.post("/v1/contracts", full_contract("it-c-agency"), token=SRV.agency(h.STC_ORG))
        self.assertProblem(r, 403, "forbidden")

    def test_unknown_contract_404(self):
        self.assertProblem(SRV.get("/v1/contracts/indicator-observation@9", token=SRV.admin()),
                           404, "not_found")


class Services(h.LtTestCase):
    def test_bootstrap_services_published(self):
        for sid, org in (("stc-thu-ngan-sach", h.STC_ORG), ("cts-chi-tieu-kte-xh", h.CTS_ORG)):
            body = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
            self.assertEqual(body["id"], sid)
            self.assertEqual(body["agency"], org)
            self.assertEqual(body["status"], "published")
            self.assertEqual(body["contract"], "indicator-observation@1")

    def test_lifecycle(self):
        sid = "it-reg-lifecycle"
        d = h.service_definition("stc-thu-ngan-sach", sid)
        body = self.assertStatus(SRV.post("/v1/services", d, token=SRV.admin()), 201)
        self.assertEqual(body["status"], "draft")
        body = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
        self.assertEqual(body["status"], "draft")
        self.assertEqual(body["mapping"], d["mapping"])
        self.assertNotIn(sid, self.catalog_ids())

        d["title"] = "Thu ngân sách (sửa đổi)"
        self.assertStatus(SRV.put("/v1/services/" + sid, d, token=SRV.admin()), 200)
        body = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
        self.assertEqual(body["title"], "Thu ngân sách (sửa đổi)")
        self.assertEqual(body["status"], "draft")

        st = "/v1/services/%s/status" % sid
        body = self.assertStatus(SRV.post(st, {"status": "published", "reason": "sẵn sàng"},
                                          token=SRV.admin()), 200)
        self.assertEqual(body["status"], "published")
        self.assertIn(sid, self.catalog_ids())
        self.assertStatus(SRV.post(st, {"status": "suspended", "reason": "bảo trì"},
                                   token=SRV.admin()), 200)
        self.assertNotIn(sid, self.catalog_ids())
        self.assertStatus(SRV.post(st, {"status": "published", "reason": "xong bảo trì"},
                                   token=SRV.admin()), 200)
        self.assertStatus(SRV.post(st, {"status": "retired", "reason": "thay thế"},
                                   token=SRV.admin()), 200)
        body = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
        self.assertEqual(body["status"], "retired")
        # retired is final
        self.assertProblem(SRV.post(st, {"status": "published", "reason": "x"},
                                    token=SRV.admin()), 409, "conflict")

    def test_bad_status_value(self):
        sid = h.create_service(SRV, "cts-chi-tieu-kte-xh", "it-reg-badstatus", publish=False)
        r = SRV.post("/v1/services/%s/status" % sid, {"status": "deleted", "reason": "x"},
                     token=SRV.admin())
        self.assertProblem(r, 422, "invalid")

    def test_duplicate_service_409(self):
        d = h.service_definition("cts-chi-tieu-kte-xh", "it-reg-dup")
        self.assertStatus(SRV.post("/v1/services", d, token=SRV.admin()), 201)
        self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 409, "conflict")
        d = h.service_definition("cts-chi-tieu-kte-xh")
        self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 409, "conflict")

    def test_unknown_field_named(self):
        cases = [
            ("colour", lambda d: d.__setitem__("colour", "blue")),
            ("retry_count", lambda d: d["source"].__setitem__("retry_count", 3)),
            ("xpath", lambda d: d["mapping"]["fields"]["area"].__setitem__("xpath", "x")),
            ("selector", lambda d: d["mapping"].__setitem__("selector", "/x")),
        ]
        for name, change in cases:
            with self.subTest(field=name):
                d = h.service_definition("stc-thu-ngan-sach", "it-reg-unknown")
                change(d)
                body = self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 422,
                                          "invalid")
                self.assertIn(name, h.problem_text(body))
        self.assertProblem(SRV.get("/v1/services/it-reg-unknown", token=SRV.admin()), 404,
                           "not_found")

    def test_invalid_definitions(self):
        cases = {
            "unknown agency": lambda d: d.__setitem__("agency", "999.99.99.H99"),
            "unknown contract": lambda d: d.__setitem__("contract", "nope@1"),
            "bad sharing": lambda d: d.__setitem__("sharing", "public"),
            "bad mode": lambda d: d["source"].__setitem__("mode", "carrier-pigeon"),
            "bad format": lambda d: d["source"].__setitem__("format", "yaml"),
            "field not in contract": lambda d: d["mapping"]["fields"].__setitem__(
                "colour", {"const": "x"}),
            "path and const": lambda d: d["mapping"]["fields"]["unit"].__setitem__("path", "/u"),
            "bad id": lambda d: d.__setitem__("id", "Bad Id!"),
        }
        for name, change in cases.items():
            with self.subTest(case=name):
                d = h.service_definition("stc-thu-ngan-sach", "it-reg-invalid")
                change(d)
                self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 422,
                                   "invalid")

    def test_agency_creates_its_own_service_only(self):
        tok = SRV.agency(h.SYT_ORG)
        d = h.service_definition("cts-chi-tieu-kte-xh", "it-reg-syt")
        d["agency"] = h.SYT_ORG
        body = self.assertStatus(SRV.post("/v1/services", d, token=tok), 201)
        self.assertEqual(body["status"], "draft")
        d["title"] = "Chỉ tiêu y tế"
        self.assertStatus(SRV.put("/v1/services/it-reg-syt", d, token=tok), 200)
        self.assertStatus(SRV.post("/v1/services/it-reg-syt/status",
                                   {"status": "published", "reason": "ok"}, token=tok), 200)
        # not for another agency
        d2 = h.service_definition("cts-chi-tieu-kte-xh", "it-reg-syt-other")
        d2["agency"] = h.STC_ORG
        self.assertProblem(SRV.post("/v1/services", d2, token=tok), 403, "forbidden")
        # and no changes to another agency's service
        d3 = h.service_definition("stc-thu-ngan-sach")
        d3["title"] = "hijacked"
        self.assertProblem(SRV.put("/v1/services/stc-thu-ngan-sach", d3, token=tok), 403,
                           "forbidden")
        self.assertProblem(SRV.post("/v1/services/stc-thu-ngan-sach/status",
                                    {"status": "suspended", "reason": "x"}, token=tok), 403,
                           "forbidden")
        body = self.assertStatus(SRV.get("/v1/services/stc-thu-ngan-sach", token=tok), 200)
        self.assertNotEqual(body["title"], "hijacked")
        self.assertEqual(body["status"], "published")

    def test_update_cannot_change_id_or_agency(self):
        sid = h.create_service(SRV, "cts-chi-tieu-kte-xh", "it-reg-immutable", publish=False)
        d = h.service_definition("cts-chi-tieu-kte-xh", sid)
        d["agency"] = h.STC_ORG
        r = SRV.put("/v1/services/" + sid, d, token=SRV.admin())
        self.assertIn(r.status, (409, 422), r)
        body = self.assertStatus(SRV.get("/v1/services/" + sid, token=SRV.admin()), 200)
        self.assertEqual(body["agency"], h.CTS_ORG)

    def test_unknown_service_404(self):
        self.assertProblem(SRV.get("/v1/services/no-such-service", token=SRV.admin()), 404,
                           "not_found")
        d = h.service_definition("cts-chi-tieu-kte-xh", "no-such-service")
        self.assertProblem(SRV.put("/v1/services/no-such-service", d, token=SRV.admin()), 404,
                           "not_found")

    @staticmethod
    def catalog_ids(**params):
        r = SRV.get("/v1/catalog" + h.qs(**params), token=SRV.admin())
        assert r.status == 200, r
        return [s["id"] for s in r.json["items"]]


class Catalog(h.LtTestCase):
    def test_catalog_lists_published(self):
        body = self.assertStatus(SRV.get("/v1/catalog", token=SRV.agency(h.SYT_ORG)), 200)
        self.assertIn("next_cursor", body)
        ids = [s["id"] for s in body["items"]]
        self.assertIn("stc-thu-ngan-sach", ids)
        self.assertIn("cts-chi-tieu-kte-xh", ids)
        self.assertTrue(all(s["status"] == "published" for s in body["items"]), body)
        self.assertEqual(ids, sorted(ids))

    def test_catalog_filters(self):
        ids = Services.catalog_ids(agency=h.STC_ORG)
        self.assertIn("stc-thu-ngan-sach", ids)
        self.assertNotIn("cts-chi-tieu-kte-xh", ids)
        body = self.assertStatus(SRV.get("/v1/catalog" + h.qs(agency=h.STC_ORG),
                                         token=SRV.admin()), 200)
        self.assertTrue(all(s["agency"] == h.STC_ORG for s in body["items"]))

        ids = Services.catalog_ids(contract="indicator-observation@1")
        self.assertIn("stc-thu-ngan-sach", ids)
        self.assertIn("cts-chi-tieu-kte-xh", ids)
        self.assertEqual(Services.catalog_ids(contract="nope@1"), [])

        self.assertIn("stc-thu-ngan-sach", Services.catalog_ids(sharing="default"))
        self.assertNotIn("stc-thu-ngan-sach", Services.catalog_ids(sharing="special"))

        ids = Services.catalog_ids(q="NGAN-SACH")
        self.assertIn("stc-thu-ngan-sach", ids)
        self.assertNotIn("cts-chi-tieu-kte-xh", ids)
        ids = Services.catalog_ids(q="kinh tế - xã hội")
        self.assertIn("cts-chi-tieu-kte-xh", ids)
        self.assertNotIn("stc-thu-ngan-sach", ids)

    def test_catalog_special_sharing_service(self):
        d = h.service_definition("cts-chi-tieu-kte-xh", "it-cat-special")
        d["sharing"] = "special"
        self.assertStatus(SRV.post("/v1/services", d, token=SRV.admin()), 201)
        self.assertStatus(SRV.post("/v1/services/it-cat-special/status",
                                   {"status": "published", "reason": "ok"},
                                   token=SRV.admin()), 200)
        ids = Services.catalog_ids(sharing="special")
        self.assertIn("it-cat-special", ids)
        self.assertNotIn("cts-chi-tieu-kte-xh", ids)

    def test_catalog_hides_source_secrets(self):
        d = h.service_definition("stc-thu-ngan-sach", "it-cat-secret")
        d["source"] = {"mode": "pull", "format": "json", "url": "http://127.0.0.1:9/thu",
                       "interval_s": 3600, "timeout_ms": 5000,
                       "auth": {"type": "basic", "username": "stc", "password_file":
                                os.path.join(SRV.example, "keys", "dev.secret")}}
        self.assertStatus(SRV.post("/v1/services", d, token=SRV.admin()), 201)
        self.assertStatus(SRV.post("/v1/services/it-cat-secret/status",
                                   {"status": "published", "reason": "ok"},
                                   token=SRV.admin()), 200)
        body = self.assertStatus(SRV.get("/v1/catalog" + h.qs(q="it-cat-secret"),
                                         token=SRV.agency(h.SYT_ORG)), 200)
        self.assertEqual([s["id"] for s in body["items"]], ["it-cat-secret"])
        self.assertNotIn("password_file", str(body))
        self.assertNotIn("dev.secret", str(body))


if __name__ == "__main__":
    h.main()
