"""GET /v1/alerts (API.md §8, issue 5): indicators behind target ("chỉ tiêu chưa đạt") with
the gap and the trend, for the IOC — behind or ahead by direction, the comparable value (the
target's own period; a year-to-date sum against the pro-rated target; the latest period for
other rules), the trend over the previous periods, sorting by |gap_pct|, targets without data
in "no_data", the area / period / indicator filters, grants, and errors.

Each test makes its own indicators with targets (PUT /v1/indicators/{code}) and asks with
indicator=… so tests never see each other's alerts; one test uses the example's THU_NSNN."""

import time

import lt_harness as h

SRV = None
CTS = "cts-chi-tieu-kte-xh"
STC = "stc-thu-ngan-sach"
ALERT_KEYS = {"indicator", "name", "unit", "area", "area_name", "target_period", "target",
              "expected", "value", "basis", "period", "gap", "gap_pct", "direction", "trend"}


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


_n = [0]


def indicator(targets, direction="up", aggregation="sum", periodicity=None, **kw):
    _n[0] += 1
    code = "AL%d" % _n[0]
    body = {"name": "Chỉ tiêu cảnh báo " + code, "unit": "tỷ đồng", "direction": direction,
            "aggregation": aggregation,
            "targets": [{"period": p, "area": a, "value": v} for p, a, v in targets]}
    if periodicity:
        body["periodicity"] = periodicity
    body.update(kw)
    r = SRV.put("/v1/indicators/" + code, body, token=SRV.admin())
    assert r.status in (200, 201), r
    return code


def push(service, records, org=h.CTS_ORG):
    r = SRV.post("/v1/services/%s/records" % service, h.envelope(service, records, provider=org),
                 token=SRV.agency(org), content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["rejected"] == 0, r
    return r.json


def alerts(token=None, **params):
    r = SRV.get("/v1/alerts" + h.qs(**params), token=token or SRV.admin())
    assert r.status == 200, r
    assert r.content_type == "application/json", r
    return r.json


class Behind(h.LtTestCase):
    def test_behind_and_ahead_by_direction(self):
        up_behind = indicator([("2030", "20", 100)])
        up_ahead = indicator([("2030", "20", 100)])
        down_behind = indicator([("2030", "20", 50)], direction="down")
        down_ahead = indicator([("2030", "20", 50)], direction="down")
        on_target = indicator([("2030", "20", 100)])
        push(CTS, [h.obs(up_behind, "20", "2030", 80), h.obs(up_ahead, "20", "2030", 120),
                   h.obs(down_behind, "20", "2030", 65), h.obs(down_ahead, "20", "2030", 40),
                   h.obs(on_target, "20", "2030", 100)])
        body = alerts(indicator=",".join([up_behind, up_ahead, down_behind, down_ahead,
                                          on_target]))
        self.assertEqual(body["no_data"], [])
        got = {a["indicator"]: a for a in body["items"]}
        self.assertEqual(set(got), {up_behind, down_behind})
        a = got[up_behind]
        self.assertEqual(set(a), ALERT_KEYS)
        self.assertEqual(a["name"], "Chỉ tiêu cảnh báo " + up_behind)
        self.assertEqual(a["unit"], "tỷ đồng")
        self.assertEqual((a["area"], a["area_name"]), ("20", "Lạng Sơn"))
        self.assertEqual((a["target_period"], a["period"], a["basis"]), ("2030", "2030",
                                                                         "period"))
        self.assertEqual((a["target"], a["expected"], a["value"]), (100, 100, 80))
        self.assertAlmostEqual(a["gap"], -20)
        self.assertAlmostEqual(a["gap_pct"], -20)
        self.assertEqual(a["direction"], "up")
        d = got[down_behind]
        self.assertAlmostEqual(d["gap"], 15)
        self.assertAlmostEqual(d["gap_pct"], 30)
        self.assertEqual(d["direction"], "down")
        # sorted by |gap_pct|, largest first
        self.assertEqual([x["indicator"] for x in body["items"]], [down_behind, up_behind])

    def test_trend_of_the_previous_periods(self):
        up = indicator([("2030", "20", 100)], aggregation="none")
        down = indicator([("2030", "20", 10)], direction="down", aggregation="none")
        push(CTS, [h.obs(up, "20", str(y), v) for y, v in
                   ((2021, 1), (2022, 50), (2023, 60), (2024, 55), (2025, 70), (2026, 65),
                    (2027, 75), (2028, 80), (2029, 90), (2030, 95))] +
             [h.obs(down, "20", "2028", 14), h.obs(down, "20", "2029", 12),
              h.obs(down, "20", "2030", 11)])
        got = {a["indicator"]: a for a in alerts(indicator="%s,%s" % (up, down))["items"]}
        t = got[up]["trend"]
        self.assertEqual(t["periods"], [{"period": str(y), "value": v} for y, v in
                                        ((2024, 55), (2025, 70), (2026, 65), (2027, 75),
                                         (2028, 80), (2029, 90))])
        self.assertAlmostEqual(t["change"], 35)
        self.assertIs(t["improving"], True)
        t = got[down]["trend"]
        self.assertEqual([p["period"] for p in t["periods"]], ["2028", "2029"])
        self.assertAlmostEqual(t["change"], -2)
        self.assertIs(t["improving"], True)  # down is better

    def test_worsening_and_short_trends(self):
        up = indicator([("2030", "20", 100)], aggregation="none")
        lone = indicator([("2030", "20", 100)], aggregation="none")
        push(CTS, [h.obs(up, "20", "2028", 90), h.obs(up, "20", "2029", 80),
                   h.obs(up, "20", "2030", 70), h.obs(lone, "20", "2030", 1),
                   h.obs(lone, "20", "2023", 5)])  # 7 years before: outside the trend
        got = {a["indicator"]: a for a in alerts(indicator="%s,%s" % (up, lone))["items"]}
        self.assertAlmostEqual(got[up]["trend"]["change"], -10)
        self.assertIs(got[up]["trend"]["improving"], False)
        self.assertEqual(got[lone]["trend"], {"periods": [], "change": None,
                                              "improving": False})


class Bases(h.LtTestCase):
    def test_year_to_date_against_the_pro_rated_target(self):
        a = indicator([("2030", "20", 1200)], periodicity="monthly")
        push(CTS, [h.obs(a, "20", "2030-M%02d" % m, 80 + m) for m in range(1, 11)] +
             [h.obs(a, "20", "2029-M12", 500), h.obs(a, "12", "2030-M01", 5000)])
        items = alerts(indicator=a)["items"]
        self.assertEqual(len(items), 1)
        x = items[0]
        ytd = sum(80 + m for m in range(1, 11))  # 855
        self.assertEqual(x["basis"], "year_to_date")
        self.assertEqual(x["covered"], "2030-M01..2030-M10")
        self.assertEqual(x["period"], "2030-M10")
        self.assertAlmostEqual(x["value"], ytd)
        self.assertAlmostEqual(x["expected"], 1000)
        self.assertEqual(x["target"], 1200)
        self.assertAlmostEqual(x["gap"], ytd - 1000)
        self.assertAlmostEqual(x["gap_pct"], (ytd - 1000) / 10)
        self.assertEqual([p["period"] for p in x["trend"]["periods"]],
                         ["2030-M%02d" % m for m in range(4, 10)])
        self.assertAlmostEqual(x["trend"]["change"], 5)
        self.assertIs(x["trend"]["improving"], True)
        # a good month puts it on track
        push(CTS, [h.obs(a, "20", "2030-M11", 400)])
        self.assertEqual(alerts(indicator=a)["items"], [])

    def test_quarter_data_and_a_half_year_target(self):
        a = indicator([("2030-S2", "20", 100)])
        push(CTS, [h.obs(a, "20", "2030-Q3", 40), h.obs(a, "20", "2030-Q2", 90)])
        x = alerts(indicator=a)["items"][0]
        self.assertEqual(x["covered"], "2030-Q3..2030-Q3")
        self.assertAlmostEqual(x["expected"], 50)
        self.assertAlmostEqual(x["value"], 40)
        self.assertEqual(x["trend"]["periods"], [{"period": "2030-Q2", "value": 90}])

    def test_latest_for_other_rules(self):
        a = indicator([("2030", "20", 104.5)], direction="down", aggregation="mean",
                      periodicity="monthly", unit="%")
        push(CTS, [h.obs(a, "20", "2030-M01", 103.0, unit="%"),
                   h.obs(a, "20", "2030-M02", 104.0, unit="%"),
                   h.obs(a, "20", "2030-M03", 105.2, unit="%")])
        x = alerts(indicator=a)["items"][0]
        self.assertEqual(x["basis"], "latest")
        self.assertEqual(x["period"], "2030-M03")
        self.assertNotIn("covered", x)
        self.assertAlmostEqual(x["value"], 105.2)
        self.assertAlmostEqual(x["expected"], 104.5)
        self.assertAlmostEqual(x["gap"], 0.7)
        self.assertAlmostEqual(x["gap_pct"], 0.7 / 104.5 * 100)
        self.assertEqual(x["unit"], "%")
        self.assertAlmostEqual(x["trend"]["change"], 1.0)
        self.assertIs(x["trend"]["improving"], False)

    def test_exact_period_wins_over_finer_data(self):
        a = indicator([("2030", "20", 100)])
        push(CTS, [h.obs(a, "20", "2030", 90), h.obs(a, "20", "2030-M01", 1)])
        x = alerts(indicator=a)["items"][0]
        self.assertEqual((x["basis"], x["value"]), ("period", 90))

    def test_example_thu_nsnn(self):
        """The example's THU_NSNN: 2026 target 12,500 for Lạng Sơn, monthly, sum, up."""
        r = SRV.post("/v1/services/%s/records" % STC, h.stc_sample(),
                     token=SRV.agency(h.STC_ORG))
        self.assertStatus(r, 200)
        body = alerts(indicator="THU_NSNN", area="20")
        self.assertEqual(body["items"], [])  # 10,687 so far against 10,416.67: on track
        self.assertEqual(body["no_data"], [])
        push(STC, [h.obs("THU_NSNN", "20", "2026-M10", 900)], org=h.STC_ORG)
        x = alerts(indicator="THU_NSNN", area="20", period="2026-M10")["items"][0]
        self.assertEqual(x["name"], "Tổng thu ngân sách nhà nước trên địa bàn")
        self.assertEqual(x["basis"], "year_to_date")
        self.assertEqual(x["covered"], "2026-M01..2026-M10")
        self.assertAlmostEqual(x["value"], 10352.5)
        self.assertAlmostEqual(x["expected"], 12500 * 10 / 12)
        self.assertAlmostEqual(x["gap"], 10352.5 - 12500 * 10 / 12)
        self.assertEqual([p["value"] for p in x["trend"]["periods"]],
                         [972.0, 1050.5, 1188.25, 1016.0, 1097.5, 1142.75])
        self.assertAlmostEqual(x["trend"]["change"], 170.75)
        self.assertIs(x["trend"]["improving"], True)


class Filters(h.LtTestCase):
    def test_no_data_listed(self):
        a = indicator([("2030", "20", 100)])
        b = indicator([("2030", "20", 100), ("2030", "12", 100)])
        c = indicator([])
        push(CTS, [h.obs(b, "20", "2030", 50), h.obs(b, "20", "2031-M01", 1),
                   h.obs(a, "20", "2029", 1)])  # outside a's target
        body = alerts(indicator="%s,%s,%s" % (a, b, c))
        self.assertEqual(sorted(body["no_data"]), sorted([a, b]))
        self.assertEqual([(x["indicator"], x["area"]) for x in body["items"]], [(b, "20")])

    def test_area_period_and_indicator_filters(self):
        a = indicator([("2030", "20", 100), ("2030", "12", 100), ("2031", "20", 100),
                       ("2030-Q1", "20", 30)])
        push(CTS, [h.obs(a, "20", "2030", 10), h.obs(a, "12", "2030", 20),
                   h.obs(a, "20", "2031", 30), h.obs(a, "20", "2030-Q1", 5)])
        got = lambda **p: sorted((x["area"], x["target_period"])
                                 for x in alerts(indicator=a, **p)["items"])
        self.assertEqual(got(), [("12", "2030"), ("20", "2030"), ("20", "2030-Q1"),
                                 ("20", "2031")])
        self.assertEqual(got(area="20"), [("20", "2030"), ("20", "2030-Q1"), ("20", "2031")])
        self.assertEqual(got(area="12"), [("12", "2030")])
        self.assertEqual(got(area="05977"), [])
        # a target whose period equals or contains the one asked
        self.assertEqual(got(period="2030"), [("12", "2030"), ("20", "2030")])
        self.assertEqual(got(period="2030-M02"), [("12", "2030"), ("20", "2030"),
                                                  ("20", "2030-Q1")])
        self.assertEqual(got(period="2030-07"), [("12", "2030"), ("20", "2030")])
        self.assertEqual(got(period="2032"), [])
        self.assertEqual(got(period="2031-W10", area="20"), [("20", "2031")])
        # other indicators are left out; an unknown code gives nothing
        body = alerts(indicator="NO_SUCH")
        self.assertEqual((body["items"], body["no_data"]), ([], []))
        # without filters every target of the catalog is looked at
        all_ = alerts()
        self.assertIn(a, [x["indicator"] for x in all_["items"]])
        self.assertIsInstance(all_["no_data"], list)

    def test_sorted_by_gap_pct(self):
        codes = [indicator([("2030", "20", 100)]) for _ in range(4)]
        push(CTS, [h.obs(c, "20", "2030", v) for c, v in zip(codes, (90, 40, 99, 60))])
        items = alerts(indicator=",".join(codes))["items"]
        self.assertEqual([x["indicator"] for x in items],
                         [codes[1], codes[3], codes[0], codes[2]])
        pcts = [abs(x["gap_pct"]) for x in items]
        self.assertEqual(pcts, sorted(pcts, reverse=True))


class Access(h.LtTestCase):
    def test_alerts_follow_the_callers_sources(self):
        a = indicator([("2030", "20", 100)])
        sid = h.sharing_service(SRV, "it-al-svc-%d" % time.time_ns(), base=CTS)
        push(sid, [h.obs(a, "20", "2030", 10)])
        sub = "it-al-app-%d" % time.time_ns()
        r = SRV.post("/v1/systems", {"id": sub, "agency": h.SYT_ORG, "name": "Ứng dụng"},
                     token=SRV.admin())
        self.assertStatus(r, 201)
        tok = SRV.agency(h.SYT_ORG, sub)
        body = alerts(tok, indicator=a)
        self.assertEqual((body["items"], body["no_data"]), ([], [a]))
        r = SRV.post("/v1/grants", h.grant_body(h.SYT_ORG, sub, sid), token=SRV.admin())
        self.assertStatus(r, 201)
        body = alerts(tok, indicator=a)
        self.assertEqual([x["indicator"] for x in body["items"]], [a])
        self.assertEqual(body["no_data"], [])
        self.assertEqual(len(alerts(SRV.agency(h.CTS_ORG), indicator=a)["items"]), 1)
        self.assertEqual(alerts(SRV.agency(h.STC_ORG), indicator=a)["no_data"], [a])


class Errors(h.LtTestCase):
    def test_bad_parameters(self):
        for params, word in (({"period": "2030-13"}, "period"), ({"period": ""}, "period"),
                             ({"area": ""}, "area"), ({"indicator": ""}, "indicator"),
                             ({"level": "province"}, "level"), ({"from": "2030"}, "from")):
            with self.subTest(params=params):
                r = SRV.get("/v1/alerts" + h.qs(**params), token=SRV.admin())
                body = self.assertProblem(r, 400, "bad_request")
                self.assertIn(word, body["detail"])

    def test_no_token(self):
        self.assertProblem(SRV.get("/v1/alerts"), 401)
        self.assertProblem(SRV.get("/v1/alerts", token="x.y.z"), 401)

    def test_method_not_allowed(self):
        self.assertEqual(SRV.post("/v1/alerts", {}, token=SRV.admin()).status, 405)


if __name__ == "__main__":
    h.main()
