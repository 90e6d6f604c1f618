"""The observations index kept by ingest (issue 5), seen from outside: every start brings the
index up to date and says so in the log, big pushes to an indicator-observation service still
succeed (new, then unchanged), `lienthong import` beside the server indexes too, and a service
that became an indicator-observation service since the last start is reindexed at the next one.

The index's content is checked by the unit tests (tests/unit/warehouse/test_wh_obs.c and
tests/unit/gateway/test_gw_obs_index.c); its HTTP reader is GET /v1/observations."""

import json
import os
import re

import lt_harness as h

CTS = "cts-chi-tieu-kte-xh"
STC = "stc-thu-ngan-sach"
BIG = 50000
SUMMARY = re.compile(r"observations index: (\d+) services covered, (\d+) reindexed "
                     r"\((\d+) entries")


def codes(name):
    return [c["code"] for c in h.load_example("codelists", name + ".json")["codes"]]


def big_records(n, salt=0.0):
    """n distinct observations: every indicator x area x month from 2015 on."""
    out = []
    inds, areas = codes("indicators"), codes("areas")
    for year in range(2015, 2100):
        for month in range(1, 13):
            for ind in inds:
                for area in areas:
                    if len(out) == n:
                        return out
                    out.append(h.obs(ind, area, "%d-M%02d" % (year, month),
                                     len(out) + salt, unit="%"))
    return out


class ObsIndex(h.LtTestCase):
    def setUp(self):
        self.srv = h.Server().start()

    def tearDown(self):
        self.srv.close()

    def runs(self):
        """The log of each start of the server, in order."""
        return self.srv.log_text().split("---- serve on port")[1:]

    def summary(self, run):
        m = SUMMARY.search(run)
        self.assertIsNotNone(m, run[-2000:])
        return tuple(int(x) for x in m.groups())

    def push(self, service, records, mid=None):
        env = h.envelope(service, records, message_id=mid)
        r = self.srv.post("/v1/services/%s/records" % service, env, token=self.srv.admin(),
                          content_type=h.EXCHANGE_JSON, timeout=300)
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_start_and_restart(self):
        # first start on a fresh warehouse: both example services covered (nothing to index)
        self.assertEqual(self.summary(self.runs()[0]), (2, 2, 0))
        res = self.push(CTS, h.cts_sample()["records"])
        self.assertGreater(res["accepted"], 0)
        self.srv.restart()
        # the index is complete: a restart reindexes nothing
        self.assertEqual(self.summary(self.runs()[1]), (2, 0, 0))
        self.assertEqual(self.push(CTS, h.cts_sample()["records"])["accepted"], 0)

    def test_big_push(self):
        recs = big_records(BIG)
        res = self.push(CTS, recs)
        self.assertEqual((res["accepted"], res["unchanged"], res["rejected"]), (BIG, 0, 0))
        res = self.push(CTS, recs)
        self.assertEqual((res["accepted"], res["unchanged"]), (0, BIG))
        changed = big_records(1000, salt=0.5)
        res = self.push(CTS, changed)
        self.assertEqual((res["accepted"], res["unchanged"]), (1000, 0))
        self.assertIn("status=ok", self.srv.log_text())

    def test_import_beside_server(self):
        path = os.path.join(self.srv.tmp, "obs-import.json")
        env = h.envelope(STC, [h.obs("CPI", "20", "2026-M10", 104.1, unit="%"),
                               h.obs("CPI", "20", "2026-M11", None, unit="%",
                                     status="no_data")],
                         provider=h.STC_ORG)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(env, f, ensure_ascii=False)
        p = self.srv.cli("import", "--service", STC, "--format", "envelope", path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["accepted"], 2, p.stdout)
        # the import process found the index complete and reindexed nothing
        m = SUMMARY.search(p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual(m.group(2), "0")

    def test_new_service_reindexed_at_next_start(self):
        sid = h.create_service(self.srv, CTS, "it-obs-copy")
        res = self.push(sid, h.cts_sample(sid)["records"])
        n = res["accepted"]
        self.assertGreater(n, 0)
        self.srv.restart()
        run = self.runs()[1]
        self.assertEqual(self.summary(run), (3, 1, n))
        self.assertIn("observations index: service %s: %d entries indexed" % (sid, n), run)
        self.srv.restart()
        self.assertEqual(self.summary(self.runs()[2]), (3, 0, 0))


if __name__ == "__main__":
    h.main()
