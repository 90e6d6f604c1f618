"""Indicator catalog over HTTP (API.md §8, issue 5): PUT /v1/indicators/{code} as the
operator (201 then 200), strict validation naming the member, the `indicators` code list
gaining the code so that records with it are accepted at once, and persistence over a
restart, against the real server bootstrapped from examples/lang-son."""

import lt_harness as h

SRV = None
CTS_SERVICE = "cts-chi-tieu-kte-xh"


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def put(code, body, token=None, **kw):
    return SRV.put("/v1/indicators/" + code, body, token=token or SRV.admin(), **kw)


def get(code):
    return SRV.get("/v1/indicators/" + code, token=SRV.admin())


def definition(**override):
    d = {"name": "Số doanh nghiệp thành lập mới", "unit": "doanh nghiệp",
         "group": "Doanh nghiệp", "periodicity": "monthly", "direction": "up",
         "aggregation": "sum", "agency": h.CTS_ORG,
         "targets": [{"period": "2026", "area": "20", "value": 900},
                     {"period": "2026-07", "area": "05977", "value": 12}]}
    d.update(override)
    return {k: v for k, v in d.items() if v is not None}


def push_obs(records, atomic=True):
    env = h.envelope(CTS_SERVICE, records, provider=h.CTS_ORG)
    return SRV.post("/v1/services/%s/records%s" % (CTS_SERVICE, "?atomic=true" if atomic else ""),
                    env, token=SRV.agency(h.CTS_ORG), content_type=h.EXCHANGE_JSON)


def indicator_codes():
    r = SRV.get("/v1/codelists/indicators", token=SRV.admin())
    assert r.status == 200, r
    return {c["code"]: c["name"] for c in r.json["codes"]}


class Indicators(h.LtTestCase):
    def test_bootstrap_indicators_listed(self):
        items = h.list_all(SRV, "/v1/indicators", SRV.admin())
        codes = {i["code"] for i in items}
        for ind in h.load_example("indicators.json"):
            self.assertIn(ind["code"], codes)
        body = self.assertStatus(get("THU_NSNN"), 200)
        self.assertEqual(body["aggregation"], "sum")
        self.assertEqual(body["targets"][0]["area"], "20")
        self.assertIn("created_at", body)  # stored through the same path as PUT

    def test_put_creates_then_updates(self):
        r = put("IT_DN_MOI", definition())
        body = self.assertStatus(r, 201)
        self.assertEqual(body["code"], "IT_DN_MOI")
        self.assertEqual(r.headers.get("location"), "/v1/indicators/IT_DN_MOI")
        self.assertEqual(body["targets"][1]["period"], "2026-M07")  # canonical
        self.assertIn("created_at", body)
        self.assertIn("updated_at", body)
        created_at = body["created_at"]
        got = self.assertStatus(get("IT_DN_MOI"), 200)
        self.assertEqual(got["name"], "Số doanh nghiệp thành lập mới")
        self.assertEqual(got["targets"], body["targets"])

        # The whole definition again, with the code and the timestamps as read.
        again = dict(got, name="Số doanh nghiệp đăng ký thành lập mới", direction="down")
        body = self.assertStatus(put("IT_DN_MOI", again), 200)
        self.assertEqual(body["created_at"], created_at)
        got = self.assertStatus(get("IT_DN_MOI"), 200)
        self.assertEqual(got["name"], "Số doanh nghiệp đăng ký thành lập mới")
        self.assertEqual(got["direction"], "down")
        codes = {i["code"] for i in h.list_all(SRV, "/v1/indicators", SRV.admin())}
        self.assertIn("IT_DN_MOI", codes)

    def test_only_admin(self):
        for tok in (SRV.agency(h.CTS_ORG), SRV.agency(h.STC_ORG)):
            self.assertProblem(put("IT_NOT_ADMIN", definition(), token=tok), 403, "forbidden")
        r = SRV.put("/v1/indicators/IT_NOT_ADMIN", definition())
        self.assertProblem(r, 401)
        self.assertProblem(get("IT_NOT_ADMIN"), 404, "not_found")
        self.assertNotIn("IT_NOT_ADMIN", indicator_codes())

    def test_bad_bodies(self):
        dup = [{"period": "2026-M07", "area": "20", "value": 1},
               {"period": "2026-07", "area": "20", "value": 2}]
        cases = [
            ({"name": "x", "colour": "red"}, "colour"),
            ({"unit": "%"}, "name"),
            ({"name": ""}, "name"),
            ({"name": None}, "name"),
            ({"code": "IT_OTHER", "name": "x"}, "code"),
            (definition(periodicity="hourly"), "periodicity"),
            (definition(direction="sideways"), "direction"),
            (definition(aggregation="max"), "aggregation"),
            (definition(aggregation="sum", weight="POP"), "weight"),
            (definition(aggregation="weighted_mean", weight="IT_BAD"), "weight"),
            (definition(agency="000.00.99.H32"), "agency"),
            (definition(targets={"period": "2026"}), "targets"),
            (definition(targets=[{"period": "2026-13", "area": "20", "value": 1}]),
             "targets[0].period"),
            (definition(targets=[{"period": "2026", "area": "99999", "value": 1}]),
             "targets[0].area"),
            (definition(targets=[{"period": "2026", "area": "20", "value": "nhiều"}]),
             "targets[0].value"),
            (definition(targets=[{"period": "2026", "area": "20", "value": 1, "note": "x"}]),
             "note"),
            (definition(targets=dup), "targets[1]"),
            (definition(created_at="2020-01-01T00:00:00Z"), "created_at"),
            ([definition()], "indicator"),
        ]
        for body, member in cases:
            with self.subTest(member=member, body=body):
                p = self.assertProblem(put("IT_BAD", body), 422, "invalid")
                self.assertIn(member, h.problem_text(p))
        self.assertProblem(put("bad%20code", definition()), 422, "invalid")
        r = SRV.put("/v1/indicators/IT_BAD", body=b"{\"name\": ", token=SRV.admin(),
                    content_type="application/json")
        self.assertProblem(r, 400)
        r = SRV.put("/v1/indicators/IT_BAD", body=b"name=x", token=SRV.admin(),
                    content_type="application/x-www-form-urlencoded")
        self.assertProblem(r, 415)
        # nothing of it was stored
        self.assertProblem(get("IT_BAD"), 404, "not_found")
        self.assertNotIn("IT_BAD", indicator_codes())
        self.assertTrue(SRV.alive())

    def test_code_list_gains_code_and_records_validate(self):
        rec = h.obs("IT_FDI", "20", "2026-M09", 42.5, unit="triệu USD")
        r = push_obs([rec])
        p = self.assertProblem(r, 422, "validation_failed")
        self.assertEqual(p["errors"][0]["field"], "indicator")
        self.assertNotIn("IT_FDI", indicator_codes())

        body = definition(name="Vốn FDI thực hiện", unit="triệu USD", targets=None)
        self.assertStatus(put("IT_FDI", body), 201)
        self.assertEqual(indicator_codes().get("IT_FDI"), "Vốn FDI thực hiện")
        # The bootstrap codes are still there.
        for ind in h.load_example("indicators.json"):
            self.assertIn(ind["code"], indicator_codes())

        res = self.assertStatus(push_obs([rec]), 200)
        self.assertEqual((res["accepted"], res["rejected"]), (1, 0), res)
        r = SRV.get("/v1/services/%s/records/IT_FDI~20~2026-M09" % CTS_SERVICE,
                    token=SRV.admin())
        self.assertEqual(h.one_record(self.assertStatus(r, 200))["value"], 42.5)

    def test_z_restart_keeps_everything(self):
        self.assertIn(put("IT_KEEP", definition(name="Giữ lại")).status, (200, 201))
        # An API change of a bootstrap indicator is not overwritten by the files at start.
        thu = self.assertStatus(get("THU_NSNN"), 200)
        thu["name"] = "Tổng thu NSNN (sửa qua API)"
        self.assertStatus(put("THU_NSNN", thu), 200)
        SRV.restart()
        got = self.assertStatus(get("IT_KEEP"), 200)
        self.assertEqual(got["name"], "Giữ lại")
        self.assertEqual(got["targets"][1]["period"], "2026-M07")
        self.assertEqual(self.assertStatus(get("THU_NSNN"), 200)["name"],
                         "Tổng thu NSNN (sửa qua API)")
        self.assertIn("IT_KEEP", indicator_codes())
        res = self.assertStatus(push_obs([h.obs("IT_KEEP", "05977", "2026-M07", 3,
                                                unit="doanh nghiệp")]), 200)
        self.assertEqual(res["accepted"], 1, res)


if __name__ == "__main__":
    h.main()
