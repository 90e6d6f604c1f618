"""GET /v1/observations (API.md §8, issue 5): indicator observations across services for the
IOC — indicator and area lists, from/to across frequencies, latest, as_of, provenance,
level=province (sum, mean, weighted_mean by POP, none; a province's own value wins) and
level=commune, one value per observation when two services report it (the indicator's agency
first, else the latest stored), grants (a consumer sees only the services it holds a live grant
for; suspended, revoked, quota, fields), paging with a stable cursor, every error, the cap (413)
and the audit trail / metrics.

Each test makes its own indicators (PUT /v1/indicators/{code}) so tests never see each other's
observations; providers push through the exchange envelope with their own tokens."""

import json
import re
import time
import urllib.parse

import lt_harness as h

SRV = None
CTS = "cts-chi-tieu-kte-xh"
STC = "stc-thu-ngan-sach"
CONSUMER = h.SYT_ORG
ITEM_KEYS = {"indicator", "area", "period", "value", "status", "unit", "service"}


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


_n = [0]


def uid(prefix):
    _n[0] += 1
    return "%s%d" % (prefix, _n[0])


def indicator(prefix="OB", **kw):
    """A new indicator (its own code) through PUT /v1/indicators/{code}."""
    code = uid(prefix)
    body = {"name": "Chỉ tiêu kiểm thử " + code, "unit": "tỷ đồng"}
    body.update(kw)
    r = SRV.put("/v1/indicators/" + code, body, token=SRV.admin())
    assert r.status in (200, 201), r
    return code


def push(service, records, org=h.CTS_ORG, token=None):
    r = SRV.post("/v1/services/%s/records" % service, h.envelope(service, records, provider=org),
                 token=token or SRV.agency(org), content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["rejected"] == 0, r
    return r.json


def get(token=None, **params):
    return SRV.get("/v1/observations" + h.qs(**params), token=token or SRV.admin())


def items(token=None, **params):
    r = get(token, **params)
    assert r.status == 200, r
    assert r.content_type == "application/json", r
    return r.json["items"]


def keys(its):
    return [(i["indicator"], i["area"], i["period"]) for i in its]


def values(its):
    return {(i["indicator"], i["area"], i["period"]): i["value"] for i in its}


def new_system(org):
    sub = uid("it-obs-app-")
    r = SRV.post("/v1/systems", {"id": sub, "agency": org, "name": "Ứng dụng " + sub},
                 token=SRV.admin())
    assert r.status == 201, r
    return sub, SRV.agency(org, sub)


def grant(sid, org, system, fields=("indicator", "area", "period", "value"), **kw):
    r = SRV.post("/v1/grants", h.grant_body(org, system, sid, fields=fields, **kw),
                 token=SRV.admin())
    assert r.status == 201, r
    return r.json["id"]


def day_period(i):
    """The i-th of a run of distinct day periods (28 days a month, from the year 2000)."""
    return "%04d-%02d-%02d" % (2000 + i // 336, 1 + (i // 28) % 12, 1 + i % 28)


def service_copy(base=CTS):
    return h.sharing_service(SRV, uid("it-obs-svc-"), base=base)


class Filters(h.LtTestCase):
    def test_indicator_and_area_lists(self):
        a, b, c = indicator(periodicity="monthly"), indicator(), indicator()
        push(CTS, [h.obs(a, "20", "2026-M01", 1), h.obs(a, "20", "2026-M02", 2),
                   h.obs(a, "12", "2026-M01", 3), h.obs(b, "20", "2026-Q1", 4),
                   h.obs(c, "20", "2026", 5)])
        its = items(indicator="%s,%s" % (b, a), area="20")
        self.assertEqual(keys(its), sorted([(a, "20", "2026-M01"), (a, "20", "2026-M02"),
                                            (b, "20", "2026-Q1")]))
        self.assertEqual(values(items(indicator=a)), {(a, "12", "2026-M01"): 3,
                                                      (a, "20", "2026-M01"): 1,
                                                      (a, "20", "2026-M02"): 2})
        # an area list alone looks through every indicator
        its = [i for i in items(area="12,99") if i["indicator"] in (a, b, c)]
        self.assertEqual(keys(its), [(a, "12", "2026-M01")])
        # repeated codes and empty list items change nothing
        self.assertEqual(keys(items(indicator="%s,%s,,%s" % (c, c, c))), [(c, "20", "2026")])

    def test_unknown_codes_match_nothing(self):
        a = indicator()
        push(CTS, [h.obs(a, "20", "2026-M01", 1)])
        self.assertEqual(items(indicator="NO_SUCH_CODE"), [])
        self.assertEqual(items(indicator=a, area="77777"), [])
        self.assertEqual(items(indicator="bad code with spaces", area="2\u00e00"), [])

    def test_from_to_across_frequencies(self):
        a = indicator()
        push(CTS, [h.obs(a, "20", p, v) for p, v in (
            ("2025", 1), ("2026", 2), ("2026-S1", 3), ("2026-Q1", 4), ("2026-Q2", 5),
            ("2026-M02", 6), ("2026-M05", 7), ("2026-W05", 8), ("2026-07-15", 9),
            ("2026-M12", 10))])
        got = lambda **p: sorted(i["period"] for i in items(indicator=a, **p))
        # by days: first day >= from's first day, last day <= to's last day
        self.assertEqual(got(**{"from": "2026-Q1", "to": "2026-M04"}),
                         ["2026-M02", "2026-Q1", "2026-W05"])
        self.assertEqual(got(**{"from": "2026-02", "to": "2026-S1"}),
                         ["2026-M02", "2026-M05", "2026-Q2"])
        self.assertEqual(got(**{"from": "2026-07-01"}), ["2026-07-15", "2026-M12"])
        self.assertEqual(got(to="2025-12-31"), ["2025"])
        self.assertEqual(got(**{"from": "2026", "to": "2026"}),
                         ["2026", "2026-07-15", "2026-M02", "2026-M05", "2026-M12", "2026-Q1",
                          "2026-Q2", "2026-S1", "2026-W05"])
        self.assertEqual(got(**{"from": "2026-W05", "to": "2026-W05"}), ["2026-W05"])

    def test_latest(self):
        a, b = indicator(), indicator()
        push(CTS, [h.obs(a, "20", "2026-M01", 1), h.obs(a, "20", "2026-M03", 3),
                   h.obs(a, "20", "2026-M02", 2), h.obs(a, "12", "2025-M12", 9),
                   # mixed frequencies: the one whose last day is latest
                   h.obs(b, "20", "2026-Q1", 4), h.obs(b, "20", "2026-M02", 5),
                   h.obs(b, "20", "2025", 6)])
        self.assertEqual(values(items(indicator="%s,%s" % (a, b), latest="true")),
                         {(a, "12", "2025-M12"): 9, (a, "20", "2026-M03"): 3,
                          (b, "20", "2026-Q1"): 4})
        self.assertEqual(len(items(indicator=a, latest="false")), 4)
        # latest within a range
        self.assertEqual(keys(items(indicator=a, area="20", latest="1", to="2026-M02")),
                         [(a, "20", "2026-M02")])

    def test_shape_and_provenance(self):
        a = indicator(agency=h.CTS_ORG)
        mid = "it-obs-shape-" + str(time.time_ns())
        r = SRV.post("/v1/services/%s/records" % CTS,
                     h.envelope(CTS, [h.obs(a, "20", "2026-M01", 1234.5),
                                      h.obs(a, "20", "2026-M02", None, status="no_data"),
                                      dict(h.obs(a, "20", "2026-M03", -0.125, unit="%"),
                                           reporter="Hoàng Thị Mai")], message_id=mid),
                     token=SRV.agency(h.CTS_ORG), content_type=h.EXCHANGE_JSON)
        self.assertStatus(r, 200)
        r = get(indicator=a)
        body = self.assertStatus(r, 200)
        self.assertEqual(set(body), {"items", "next_cursor"})
        self.assertIsNone(body["next_cursor"])
        its = body["items"]
        for i in its:
            self.assertEqual(set(i), ITEM_KEYS, i)
            self.assertEqual(i["service"], CTS)
        self.assertEqual(its[0], {"indicator": a, "area": "20", "period": "2026-M01",
                                  "value": 1234.5, "status": "ok", "unit": "tỷ đồng",
                                  "service": CTS})
        self.assertIsNone(its[1]["value"])
        self.assertEqual(its[1]["status"], "no_data")
        self.assertEqual(its[2]["value"], -0.125)
        self.assertEqual(its[2]["unit"], "%")
        self.assertNotIn("Hoàng Thị Mai", r.body.decode("utf-8"))
        # provenance only when asked
        its = items(indicator=a, provenance="true")
        for i in its:
            p = i["provenance"]
            self.assertEqual(set(p), {"service", "source", "message_id", "received_at",
                                      "revision"})
            self.assertEqual(p["service"], CTS)
            self.assertEqual(p["source"], "push")
            self.assertEqual(p["message_id"], mid)
            self.assertEqual(p["revision"], 1)
            self.assertLess(abs(h.parse_time(p["received_at"]) - time.time()), 120)
        self.assertNotIn("provenance", items(indicator=a, provenance="false")[0])

    def test_as_of(self):
        a = indicator()
        before = h.rfc3339()
        time.sleep(1.2)
        push(CTS, [h.obs(a, "20", "2026-M01", 100, status="unknown")])
        time.sleep(1.2)
        between = h.rfc3339()
        time.sleep(1.2)
        push(CTS, [h.obs(a, "20", "2026-M01", 110), h.obs(a, "20", "2026-M02", 120)])
        now = values(items(indicator=a))
        self.assertEqual(now, {(a, "20", "2026-M01"): 110, (a, "20", "2026-M02"): 120})
        old = items(indicator=a, as_of=between, provenance="true")
        self.assertEqual(values(old), {(a, "20", "2026-M01"): 100})
        self.assertEqual(old[0]["status"], "unknown")
        self.assertEqual(old[0]["provenance"]["revision"], 1)
        self.assertLessEqual(h.parse_time(old[0]["provenance"]["received_at"]),
                             h.parse_time(between))
        self.assertEqual(items(indicator=a, as_of=before), [])
        self.assertEqual(items(indicator=a, as_of=h.rfc3339(time.time() + 60)),
                         items(indicator=a))
        self.assertEqual(items(indicator=a, provenance="true")[0]["provenance"]["revision"], 2)
        # with an offset and fractions
        self.assertEqual(values(items(indicator=a, as_of=between.replace("Z", ".000+00:00"))),
                         {(a, "20", "2026-M01"): 100})
        # latest at as_of
        self.assertEqual(keys(items(indicator=a, as_of=between, latest="true")),
                         [(a, "20", "2026-M01")])


class Levels(h.LtTestCase):
    def test_sum_and_a_province_value_of_its_own(self):
        a = indicator(aggregation="sum", periodicity="monthly")
        push(CTS, [h.obs(a, "05977", "2026-M01", 5), h.obs(a, "05980", "2026-M01", 7.5),
                   h.obs(a, "06187", "2026-M01", None, status="no_data"),
                   h.obs(a, "05977", "2026-M02", 1), h.obs(a, "20", "2026-M02", 100),
                   h.obs(a, "05983", "2026-M03", 2, status="unknown"),
                   h.obs(a, "05986", "2026-M03", 3)])
        its = items(indicator=a, level="province")
        self.assertEqual(keys(its), [(a, "20", "2026-M01"), (a, "20", "2026-M02"),
                                     (a, "20", "2026-M03")])
        m1, m2, m3 = its
        self.assertEqual(m1["value"], 12.5)
        self.assertEqual(m1["aggregated"], {"rule": "sum", "parts": 2})
        self.assertEqual(m1["status"], "ok")
        self.assertEqual(m1["unit"], "tỷ đồng")
        self.assertIsNone(m1["service"])
        # the province's own value wins over its communes
        self.assertEqual(m2["value"], 100)
        self.assertNotIn("aggregated", m2)
        self.assertEqual(m2["service"], CTS)
        # status: ok only when every part is
        self.assertEqual(m3["value"], 5)
        self.assertEqual(m3["status"], "unknown")
        # provenance of an aggregate: the latest of its parts
        p = items(indicator=a, level="province", provenance="true")[0]["provenance"]
        self.assertIsNone(p["service"])
        self.assertIsNone(p["revision"])
        self.assertTrue(p["received_at"])
        # without level, every area as reported
        self.assertEqual(len(items(indicator=a)), 7)

    def test_mean(self):
        a = indicator(aggregation="mean", unit="%")
        push(CTS, [h.obs(a, "05977", "2026", 2, unit="%"), h.obs(a, "05980", "2026", 4, unit="%"),
                   h.obs(a, "05983", "2026", 9, unit="%")])
        its = items(indicator=a, level="province")
        self.assertEqual(len(its), 1)
        self.assertEqual(its[0]["area"], "20")
        self.assertAlmostEqual(its[0]["value"], 5.0)
        self.assertEqual(its[0]["aggregated"], {"rule": "mean", "parts": 3})

    def test_weighted_mean_by_pop(self):
        a = indicator(aggregation="weighted_mean", unit="%")
        push(CTS, [h.obs(a, "05977", "2031", 10, unit="%"), h.obs(a, "05980", "2031", 20, unit="%"),
                   h.obs(a, "05983", "2031", 99, unit="%"),   # no POP: left out
                   h.obs(a, "05986", "2032", 50, unit="%"),   # no POP at all: no value
                   h.obs("POP", "05977", "2031", 1000, unit="người"),
                   h.obs("POP", "05980", "2031", 3000, unit="người")])
        its = items(indicator=a, level="province")
        self.assertEqual(keys(its), [(a, "20", "2031")])
        self.assertAlmostEqual(its[0]["value"], (10 * 1000 + 20 * 3000) / 4000)
        self.assertEqual(its[0]["aggregated"], {"rule": "weighted_mean", "parts": 2})

    def test_none_rule_gives_no_aggregate(self):
        a = indicator(aggregation="none")
        b = indicator()  # no rule given
        push(CTS, [h.obs(a, "05977", "2026", 1), h.obs(a, "05980", "2026", 2),
                   h.obs(a, "12", "2026", 3), h.obs(b, "05977", "2026", 4)])
        self.assertEqual(keys(items(indicator="%s,%s" % (a, b), level="province")),
                         [(a, "12", "2026")])

    def test_commune_level_and_area_filters(self):
        a = indicator(aggregation="sum")
        push(CTS, [h.obs(a, "05977", "2026", 1), h.obs(a, "05980", "2026", 2),
                   h.obs(a, "20", "2025", 30), h.obs(a, "12", "2026", 4)])
        self.assertEqual(keys(items(indicator=a, level="commune")),
                         [(a, "05977", "2026"), (a, "05980", "2026")])
        self.assertEqual(keys(items(indicator=a, level="commune", area="05980,20")),
                         [(a, "05980", "2026")])
        # the area filter applies after aggregation
        self.assertEqual(values(items(indicator=a, level="province", area="20")),
                         {(a, "20", "2025"): 30, (a, "20", "2026"): 3})
        self.assertEqual(keys(items(indicator=a, level="province", area="12")),
                         [(a, "12", "2026")])
        self.assertEqual(items(indicator=a, level="province", area="05977"), [])
        # without an indicator list too
        its = [i for i in items(level="province", area="20") if i["indicator"] == a]
        self.assertEqual(values(its), {(a, "20", "2025"): 30, (a, "20", "2026"): 3})
        # latest after aggregation
        self.assertEqual(values(items(indicator=a, level="province", latest="true")),
                         {(a, "12", "2026"): 4, (a, "20", "2026"): 3})


class Sources(h.LtTestCase):
    def test_the_indicators_agency_wins(self):
        mine = indicator(agency=h.STC_ORG)   # finance's indicator
        theirs = indicator(agency=h.CTS_ORG)  # statistics' indicator
        nobody = indicator()                  # no responsible agency: the latest stored wins
        push(STC, [h.obs(mine, "20", "2026-M01", 1), h.obs(theirs, "20", "2026-M01", 2),
                   h.obs(nobody, "20", "2026-M01", 3)], org=h.STC_ORG)
        time.sleep(0.05)
        push(CTS, [h.obs(mine, "20", "2026-M01", 10), h.obs(theirs, "20", "2026-M01", 20),
                   h.obs(nobody, "20", "2026-M01", 30)])
        its = {i["indicator"]: i for i in items(indicator="%s,%s,%s" % (mine, theirs, nobody))}
        self.assertEqual(len(its), 3)
        self.assertEqual((its[mine]["value"], its[mine]["service"]), (1, STC))
        self.assertEqual((its[theirs]["value"], its[theirs]["service"]), (20, CTS))
        self.assertEqual((its[nobody]["value"], its[nobody]["service"]), (30, CTS))
        # finance revises its copy of the statistics figure: statistics still wins
        push(STC, [h.obs(theirs, "20", "2026-M01", 2.5)], org=h.STC_ORG)
        self.assertEqual(items(indicator=theirs)[0]["value"], 20)
        push(STC, [h.obs(nobody, "20", "2026-M01", 3.5)], org=h.STC_ORG)
        self.assertEqual(items(indicator=nobody)[0]["service"], STC)

    def test_consumer_sees_granted_services_only(self):
        a = indicator()
        s1, s2 = service_copy(), service_copy()
        push(s1, [h.obs(a, "20", "2026-M01", 1), h.obs(a, "20", "2026-M02", 2)])
        push(s2, [h.obs(a, "12", "2026-M01", 3)])
        system, tok = new_system(CONSUMER)
        gid = grant(s1, CONSUMER, system)
        self.assertEqual(values(items(tok, indicator=a)),
                         {(a, "20", "2026-M01"): 1, (a, "20", "2026-M02"): 2})
        # the operator sees both, the owner its own
        self.assertEqual(len(items(indicator=a)), 3)
        self.assertEqual(len(items(SRV.agency(h.CTS_ORG), indicator=a)), 3)
        self.assertEqual(items(SRV.agency(h.STC_ORG), indicator=a), [])
        # another system of the same org holds no grant
        _, other = new_system(CONSUMER)
        self.assertEqual(items(other, indicator=a), [])
        # suspended: nothing; resumed: back; revoked: nothing
        prov = SRV.agency(h.CTS_ORG)
        r = SRV.post("/v1/grants/%s/suspend" % gid, {"reason": "Kiểm thử"}, token=prov)
        self.assertStatus(r, 200)
        body = self.assertStatus(get(tok, indicator=a), 200)
        self.assertEqual(body["items"], [])
        self.assertNotIn("excluded", body)
        self.assertStatus(SRV.post("/v1/grants/%s/resume" % gid, {"reason": "Kiểm thử"},
                                   token=prov), 200)
        self.assertEqual(len(items(tok, indicator=a)), 2)
        self.assertStatus(SRV.post("/v1/grants/%s/revoke" % gid, {"reason": "Kiểm thử"},
                                   token=prov), 200)
        self.assertEqual(items(tok, indicator=a), [])
        self.assertEqual(len(items(indicator=a)), 3)

    def test_granted_fields(self):
        a = indicator()
        sid = service_copy()
        push(sid, [h.obs(a, "20", "2026-M01", 1, unit="%", status="unknown")])
        system, tok = new_system(CONSUMER)
        grant(sid, CONSUMER, system)  # indicator, area, period, value
        it = items(tok, indicator=a)[0]
        self.assertEqual(it["value"], 1)
        self.assertIsNone(it["unit"])    # outside the grant (TT 13/2017 Art. 8.2)
        self.assertIsNone(it["status"])
        system2, tok2 = new_system(CONSUMER)
        grant(sid, CONSUMER, system2, fields=("indicator", "area", "period", "value", "unit",
                                              "status"))
        it = items(tok2, indicator=a)[0]
        self.assertEqual((it["unit"], it["status"]), ("%", "unknown"))
        # a grant without `value` gives no observations, and says why
        system3, tok3 = new_system(CONSUMER)
        grant(sid, CONSUMER, system3, fields=("indicator", "area", "period"))
        body = self.assertStatus(get(tok3, indicator=a), 200)
        self.assertEqual(body["items"], [])
        self.assertEqual(body["excluded"][0]["service"], sid)
        self.assertIn("value", body["excluded"][0]["reason"])

    def test_suspended_service_and_maintenance_excluded(self):
        a = indicator()
        sid = service_copy()
        push(sid, [h.obs(a, "20", "2026-M01", 1)])
        system, tok = new_system(CONSUMER)
        grant(sid, CONSUMER, system)
        r = SRV.post("/v1/services/%s/status" % sid, {"status": "suspended", "reason": "Bảo trì"},
                     token=SRV.agency(h.CTS_ORG))
        self.assertStatus(r, 200)
        body = self.assertStatus(get(tok, indicator=a), 200)
        self.assertEqual(body["items"], [])
        self.assertEqual(len(body["excluded"]), 1, body)
        self.assertEqual(body["excluded"][0]["service"], sid)
        self.assertIn("suspended", body["excluded"][0]["reason"])
        # the owner and the operator still read it
        self.assertEqual(len(items(SRV.agency(h.CTS_ORG), indicator=a)), 1)
        self.assertEqual(len(items(indicator=a)), 1)

    def test_quota_one_unit_per_service_per_query(self):
        a = indicator()
        sid = service_copy()
        push(sid, [h.obs(a, "20", "2026-M01", 1), h.obs(a, "12", "2026-M01", 2)])
        system, tok = new_system(CONSUMER)
        grant(sid, CONSUMER, system, quota_per_day=2)
        # a query that wants none of the service's observations takes no unit
        self.assertEqual(items(tok, indicator=a, **{"from": "2099"}), [])
        self.assertEqual(items(tok, indicator="NO_SUCH_CODE"), [])
        self.assertEqual(len(items(tok, indicator=a)), 2)   # one unit for two observations
        self.assertEqual(len(items(tok, indicator=a, area="20")), 1)
        body = self.assertStatus(get(tok, indicator=a), 200)
        self.assertEqual(body["items"], [])
        self.assertEqual(body["excluded"][0]["service"], sid)
        self.assertIn("quota", body["excluded"][0]["reason"].lower())

    def test_other_roles_read_through_grants(self):
        a = indicator()
        sid = service_copy()
        push(sid, [h.obs(a, "20", "2026-M01", 1)])
        sub = uid("it-obs-ioc-")
        self.assertStatus(SRV.post("/v1/systems", {"id": sub, "agency": "000.00.00.H32",
                                                   "name": "IOC " + sub}, token=SRV.admin()), 201)
        tok = SRV.token(sub=sub, org="000.00.00.H32", roles="ioc")
        self.assertEqual(items(tok, indicator=a), [])
        grant(sid, "000.00.00.H32", sub)
        self.assertEqual(len(items(tok, indicator=a)), 1)


class Paging(h.LtTestCase):
    def test_pages_follow_a_stable_cursor(self):
        a = indicator()
        push(CTS, [h.obs(a, "20", "2026-M%02d" % m, m) for m in range(1, 13)] +
             [h.obs(a, "12", "2026-M%02d" % m, 100 + m) for m in range(1, 13)])
        everything = items(indicator=a)
        self.assertEqual(len(everything), 24)
        page1 = self.assertStatus(get(indicator=a, limit=10), 200)
        self.assertEqual(page1["items"], everything[:10])
        cur = page1["next_cursor"]
        self.assertIsInstance(cur, str)
        # new data sorting before the cursor does not shift the next page
        push(CTS, [h.obs(a, "01", "2026-M01", 7)])
        page2 = self.assertStatus(get(indicator=a, limit=10, cursor=cur), 200)
        self.assertEqual(page2["items"], everything[10:20])
        page3 = self.assertStatus(get(indicator=a, limit=10, cursor=page2["next_cursor"]), 200)
        self.assertEqual(page3["items"], everything[20:])
        self.assertIsNone(page3["next_cursor"])
        # the same cursor gives the same page again
        self.assertEqual(self.assertStatus(get(indicator=a, limit=10, cursor=cur), 200),
                         page2)
        # exactly one page
        p = self.assertStatus(get(indicator=a, limit=25), 200)
        self.assertEqual(len(p["items"]), 25)
        self.assertIsNone(p["next_cursor"])
        # a larger page from the same cursor
        self.assertEqual(self.assertStatus(get(indicator=a, limit=24, cursor=page2["next_cursor"]),
                                           200)["items"], everything[20:])

    def test_default_limit_is_1000(self):
        a = indicator()
        push(CTS, [h.obs(a, "20", day_period(d), d) for d in range(1001)])
        body = self.assertStatus(get(indicator=a), 200)
        self.assertEqual(len(body["items"]), 1000)
        rest = self.assertStatus(get(indicator=a, cursor=body["next_cursor"]), 200)
        self.assertEqual(len(rest["items"]), 1)
        self.assertIsNone(rest["next_cursor"])
        self.assertEqual(len(items(indicator=a, limit=10000)), 1001)


class Errors(h.LtTestCase):
    def bad(self, status=400, token=None, **params):
        return self.assertProblem(get(token, **params), status, None)

    def test_no_token_401(self):
        r = SRV.get("/v1/observations")
        self.assertProblem(r, 401)
        self.assertProblem(SRV.get("/v1/observations", token="not-a-token"), 401)
        self.assertProblem(SRV.get("/v1/alerts"), 401)

    def test_malformed_period_names_the_parameter(self):
        for name in ("from", "to"):
            for v in ("2025-13", "2025-Q5", "26", "2025-M07x", "", "2025-02-30"):
                with self.subTest(name=name, v=v):
                    body = self.bad(**{name: v})
                    self.assertIn(name, body["detail"])
                    self.assertEqual(body["code"], "bad_request")

    def test_from_after_to(self):
        body = self.bad(**{"from": "2026-Q2", "to": "2026-M03"})
        self.assertIn("after", body["detail"])
        self.bad(**{"from": "2027", "to": "2026"})
        # equal bounds are fine
        self.assertStatus(get(**{"from": "2026-M03", "to": "2026-M03"}), 200)

    def test_unknown_level(self):
        for v in ("district", "", "PROVINCE"):
            with self.subTest(v=v):
                self.assertIn("level", self.bad(level=v)["detail"])

    def test_bad_as_of(self):
        for v in ("yesterday", "2026-13-01T00:00:00Z", "2026-11-22", ""):
            with self.subTest(v=v):
                self.assertIn("as_of", self.bad(as_of=v)["detail"])

    def test_bad_limit_and_cursor(self):
        for v in ("0", "-1", "10001", "abc", "1.5", ""):
            with self.subTest(limit=v):
                self.assertIn("limit", self.bad(limit=v)["detail"])
        forged = "%s" % ("x\x1fy".encode().hex())  # two parts only
        for v in ("zz", "abc", "00", forged, "4131" * 400,
                  ("A\x1f20\x1f2026-M13").encode().hex()):
            with self.subTest(cursor=v):
                self.assertIn("cursor", self.bad(cursor=v)["detail"])

    def test_bad_flags_and_unknown_parameters(self):
        self.assertIn("latest", self.bad(latest="yes")["detail"])
        self.assertIn("provenance", self.bad(provenance="2")["detail"])
        self.assertIn("colour", self.bad(colour="red")["detail"])
        self.assertIn("indicator", self.bad(indicator=",,")["detail"])
        self.assertIn("area", self.bad(area="")["detail"])
        self.bad(indicator=",".join("C%d" % i for i in range(1001)))
        # a long query string still answers
        r = SRV.get("/v1/observations?indicator=" + "A" * 6000, token=SRV.admin())
        self.assertIn(r.status, (200, 400, 414))

    def test_method_not_allowed(self):
        r = SRV.post("/v1/observations", {}, token=SRV.admin())
        self.assertEqual(r.status, 405, r)


class Audit(h.LtTestCase):
    def test_queries_are_audited_and_counted(self):
        a = indicator()
        push(CTS, [h.obs(a, "20", "2026-M01", 1), h.obs(a, "20", "2026-M02", 2)])
        r = SRV.get("/v1/observations" + h.qs(indicator=a), token=SRV.admin(),
                    headers={"X-Request-Id": "it-obs-audit-1"})
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("x-request-id"), "it-obs-audit-1")
        bad = SRV.get("/v1/observations?level=x", token=SRV.admin(),
                      headers={"X-Request-Id": "it-obs-audit-2"})
        self.assertProblem(bad, 400)
        deadline = time.time() + 5
        found = {}
        while time.time() < deadline and len(found) < 2:
            r = SRV.get("/v1/audit?limit=10000", token=SRV.admin())
            found = {e["request_id"]: e for e in r.json["items"]
                     if e.get("request_id", "").startswith("it-obs-audit-")}
            time.sleep(0.1)
        self.assertEqual(found["it-obs-audit-1"]["status"], 200)
        self.assertEqual(found["it-obs-audit-1"]["records"], 2)
        self.assertEqual(found["it-obs-audit-2"]["status"], 400)
        v = self.assertStatus(SRV.get("/v1/audit/verify", token=SRV.admin()), 200)
        self.assertIs(v["valid"], True)
        text = SRV.get("/metrics").body.decode("utf-8")
        self.assertRegex(text, r'lienthong_requests_total\{route="observations",status="200"\} \d+')
        self.assertRegex(text, r'lienthong_requests_total\{route="observations",status="400"\} \d+')


def cap_1000(cfg):
    cfg.setdefault("limits", {})["max_observations_per_query"] = 1000


class Cap(h.LtTestCase):
    """More matching observations than limits.max_observations_per_query (1,000,000 by
    default; 1,000 here, so the test stores 1,001 rather than a million): 413 naming the count
    and the cap. On a server of its own."""

    def test_too_many_matches_413(self):
        srv = h.Server(config_patch=cap_1000).start()
        try:
            tok = srv.agency(h.CTS_ORG)
            total, per = 1001, 1000
            for n in range(0, total, per):
                recs = [{"indicator": "POP", "area": "20", "period": day_period(i), "value": i}
                        for i in range(n, min(total, n + per))]
                body = json.dumps(h.envelope(CTS, recs)).encode()
                r = srv.request("POST", "/v1/services/%s/records" % CTS, body=body, token=tok,
                                content_type=h.EXCHANGE_JSON, timeout=300)
                self.assertEqual(r.status, 200, r)
            r = srv.get("/v1/observations?indicator=POP&limit=1", token=srv.admin(), timeout=300)
            body = self.assertProblem(r, 413, "payload_too_large")
            self.assertIn("1001 observations match; the cap is 1000", body["detail"])
            # narrower queries still answer
            r = srv.get("/v1/observations?indicator=POP&to=2001&limit=5", token=srv.admin())
            self.assertEqual(len(self.assertStatus(r, 200)["items"]), 5)
            r = srv.get("/v1/observations?indicator=POP&latest=true", token=srv.admin(),
                        timeout=300)
            self.assertEqual(self.assertStatus(r, 200)["items"][0]["period"],
                             day_period(total - 1))
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
