"""The answer cache of GET /v1/observations (gateway/gw_cache.h): a repeated query is answered
from memory, and never with anything a fresh query would not say — after a push, after
`lienthong import` from another process, after a grant is revoked or expires, after an
indicator's rule changes, for another caller, and with quota units taken on every hit."""

import json
import os
import re
import time

import lt_harness as h

SRV = None
CTS = "cts-chi-tieu-kte-xh"
CONSUMER = h.SYT_ORG


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


def indicator(**kw):
    code = uid("AC")
    body = {"name": "Chỉ tiêu bộ đệm " + code, "unit": "%"}
    body.update(kw)
    assert SRV.put("/v1/indicators/" + code, body, token=SRV.admin()).status in (200, 201)
    return code


def push(records, service=CTS):
    r = SRV.post("/v1/services/%s/records" % service, h.envelope(service, records),
                 token=SRV.agency(h.CTS_ORG), content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["rejected"] == 0, r
    return r.json


def consumer(**grant_kw):
    sub = uid("it-cache-app-")
    assert SRV.post("/v1/systems", {"id": sub, "agency": CONSUMER, "name": sub},
                    token=SRV.admin()).status == 201
    r = SRV.post("/v1/grants", h.grant_body(CONSUMER, sub, CTS, **grant_kw), token=SRV.admin())
    assert r.status == 201, r
    return r.json["id"], SRV.agency(CONSUMER, sub)


def obs(token=None, **params):
    return SRV.get("/v1/observations" + h.qs(**params), token=token or SRV.admin())


def cache_counts():
    text = SRV.get("/metrics").body.decode("utf-8")
    got = {}
    for name in ("hits_total", "misses_total", "entries"):
        m = re.search(r"^lienthong_answer_cache_%s (\d+)$" % name, text, re.M)
        got[name] = int(m.group(1))
    return got


def vals(r):
    assert r.status == 200, r
    return {(i["area"], i["period"]): i["value"] for i in r.json["items"]}


class AnswerCache(h.LtTestCase):
    def test_a_repeated_query_is_a_hit_with_the_same_answer(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M%02d" % m, m) for m in range(1, 13)])
        before = cache_counts()
        first = obs(indicator=a)
        second = obs(indicator=a)
        self.assertEqual(first.body, second.body)
        after = cache_counts()
        self.assertEqual(after["hits_total"] - before["hits_total"], 1)
        # parameters in another order are the same query
        self.assertEqual(obs(area="20", indicator=a).body, obs(indicator=a, area="20").body)
        # every hit is still an audited exchange
        self.assertEqual(second.headers["content-type"], "application/json")

    def test_a_push_is_seen_at_once(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0)])
        self.assertEqual(vals(obs(indicator=a)), {("20", "2026-M01"): 1.0})
        self.assertEqual(vals(obs(indicator=a)), {("20", "2026-M01"): 1.0})
        push([h.obs(a, "20", "2026-M01", 2.5)])
        self.assertEqual(vals(obs(indicator=a)), {("20", "2026-M01"): 2.5})

    def test_an_import_from_another_process_is_seen(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0)])
        self.assertEqual(vals(obs(indicator=a)), {("20", "2026-M01"): 1.0})
        path = os.path.join(SRV.tmp, uid("import-") + ".json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(h.envelope(CTS, [h.obs(a, "20", "2026-M01", 7.0)]), f)
        p = SRV.cli("import", "--service", CTS, "--format", "envelope", path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(vals(obs(indicator=a)), {("20", "2026-M01"): 7.0})

    def test_callers_do_not_share_answers(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0, unit="%")])
        _, tok = consumer(fields=("indicator", "area", "period", "value"))
        admin = obs(indicator=a).json["items"][0]
        self.assertEqual(admin["unit"], "%")
        mine = obs(tok, indicator=a).json["items"][0]
        self.assertIsNone(mine["unit"])  # outside this consumer's grant
        self.assertEqual(obs(indicator=a).json["items"][0]["unit"], "%")
        self.assertEqual(obs(SRV.agency(h.STC_ORG), indicator=a).json["items"], [])

    def test_a_revoked_grant_ends_hits(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0)])
        gid, tok = consumer()
        self.assertEqual(len(obs(tok, indicator=a).json["items"]), 1)
        self.assertEqual(len(obs(tok, indicator=a).json["items"]), 1)
        r = SRV.post("/v1/grants/%s/revoke" % gid, {"reason": "Kiểm thử"},
                     token=SRV.agency(h.CTS_ORG))
        self.assertStatus(r, 200)
        self.assertEqual(obs(tok, indicator=a).json["items"], [])

    def test_an_expiring_grant_ends_hits_without_any_write(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0)])
        _, tok = consumer(valid_until=h.rfc3339(time.time() + 3))
        self.assertEqual(len(obs(tok, indicator=a).json["items"]), 1)
        self.assertEqual(len(obs(tok, indicator=a).json["items"]), 1)
        time.sleep(4)
        self.assertEqual(obs(tok, indicator=a).json["items"], [])

    def test_every_hit_takes_a_quota_unit(self):
        a = indicator()
        push([h.obs(a, "20", "2026-M01", 1.0)])
        _, tok = consumer(quota_per_day=3)
        for _ in range(3):
            self.assertEqual(len(obs(tok, indicator=a).json["items"]), 1)
        body = self.assertStatus(obs(tok, indicator=a), 200)
        self.assertEqual(body["items"], [])
        self.assertIn("quota", body["excluded"][0]["reason"].lower())

    def test_a_changed_rule_changes_the_aggregate(self):
        a = indicator(aggregation="sum")
        communes = [c["code"] for c in h.load_example("codelists", "areas.json")["codes"]
                    if c.get("parent") == "20"][:2]
        push([h.obs(a, communes[0], "2026-M01", 10.0), h.obs(a, communes[1], "2026-M01", 30.0)])
        q = dict(indicator=a, area="20", level="province")
        self.assertEqual(vals(obs(**q)), {("20", "2026-M01"): 40.0})
        self.assertEqual(vals(obs(**q)), {("20", "2026-M01"): 40.0})
        r = SRV.put("/v1/indicators/" + a, {"name": "Chỉ tiêu bộ đệm " + a, "unit": "%",
                                            "aggregation": "mean"}, token=SRV.admin())
        self.assertStatus(r, 200)
        self.assertEqual(vals(obs(**q)), {("20", "2026-M01"): 20.0})


if __name__ == "__main__":
    h.main()
