"""A 200 means durable (API.md §7): push, get 200, `kill -9` at once, restart on the same data
dir, read everything back. With concurrent pushers, every push that got 200 must be there and
every other push must be there entirely or not at all (never half a batch)."""

import signal
import sys
import threading
import time

import lt_harness as h

CTS = "cts-chi-tieu-kte-xh"
INDICATORS = [c["code"] for c in h.load_example("codelists", "indicators.json")["codes"]]
AREAS = [c["code"] for c in h.load_example("codelists", "areas.json")["codes"]]


def batch(indicator, year, month, base_value, n=40):
    return [h.obs(indicator, AREAS[j % len(AREAS)], "%04d-M%02d" % (year, month),
                  base_value + j + 0.25) for j in range(n)]


def push(srv, records, timeout=60):
    return srv.request("POST", "/v1/services/%s/records" % CTS,
                       json_body=h.envelope(CTS, records), token=srv.admin(),
                       content_type=h.EXCHANGE_JSON, timeout=timeout)


class Durability(h.LtTestCase):
    def setUp(self):
        self.srv = h.Server().start()

    def tearDown(self):
        self.srv.close()

    def check_all(self, acked):
        got = h.read_all(self.srv, CTS)
        missing = [k for k in acked if k not in got]
        self.assertFalse(missing, "%d acknowledged records lost after kill -9, e.g. %s"
                         % (len(missing), missing[:5]))
        wrong = [(k, v, got[k]["value"]) for k, v in acked.items() if got[k]["value"] != v]
        self.assertFalse(wrong, "acknowledged values not the latest after kill -9: %s"
                         % wrong[:5])
        return got

    def test_kill9_right_after_200(self):
        acked = {}
        agencies = []
        qids = []
        for rnd in range(3):
            for b in range(4):
                recs = batch("CPI", 2001 + rnd, b + 1, rnd * 1000 + b * 100)
                r = push(self.srv, recs)
                body = self.assertStatus(r, 200)
                self.assertEqual(body["rejected"], 0, body)
                acked.update({h.record_key(x): x["value"] for x in recs})
            if rnd:
                # a new revision of records stored in an earlier life of the process
                recs = batch("CPI", 2001, 1, 50000 + rnd * 1000)
                self.assertStatus(push(self.srv, recs), 200)
                acked.update({h.record_key(x): x["value"] for x in recs})
            # a registry write is durable too
            code = "000.00.%d.H32" % (50 + rnd)
            r = self.srv.post("/v1/agencies", {
                "code": code, "name": "Đơn vị thử nghiệm %d" % rnd,
                "contact": {"name": "Tô Văn A", "position": "Chuyên viên",
                            "phone": "0205 3800 000", "email": "a@langson.gov.vn"}},
                token=self.srv.admin())
            self.assertStatus(r, 201)
            agencies.append(code)
            # a rejected record is kept in quarantine, durably, like an accepted one
            bad = [h.obs("CPI", "99999", "2001-M%02d" % (rnd + 1), 1.5)]
            body = self.assertStatus(push(self.srv, bad), 200)
            self.assertEqual(body["rejected"], 1, body)
            qids.append(body["quarantine"][0])
            self.srv.restart(signal.SIGKILL)
            self.check_all(acked)
            q = self.assertStatus(self.srv.get("/v1/services/%s/quarantine" % CTS,
                                               token=self.srv.admin()), 200)
            self.assertLessEqual(set(qids), {e["qid"] for e in q["items"]}, q)
            for code in agencies:
                self.assertStatus(self.srv.get("/v1/agencies/" + code,
                                               token=self.srv.admin()), 200)
        got = h.read_all(self.srv, CTS)
        self.assertEqual(len(got), len(acked))

    def test_kill9_during_concurrent_pushes(self):
        acked = {}
        for rnd in range(3):
            lock = threading.Lock()
            unknown = []     # batches whose push did not get a 200: all or nothing
            failures = []    # 200 answers that were not what the contract says
            stop = threading.Event()
            counts = [0]

            def worker(tid):
                n = 0
                indicator = INDICATORS[tid % len(INDICATORS)]
                while not stop.is_set() and n < 1000:
                    recs = batch(indicator, 3000 + tid * 100 + n // 12, n % 12 + 1,
                                 tid * 100000 + n * 100, n=20)
                    n += 1
                    try:
                        r = push(self.srv, recs, timeout=30)
                    except (OSError, h.http.client.HTTPException):
                        with lock:
                            unknown.append(recs)
                        return
                    with lock:
                        if r.status == 200 and r.json and r.json.get("accepted") == 20:
                            acked.update({h.record_key(x): x["value"] for x in recs})
                            counts[0] += 1
                        elif r.status == 200:
                            failures.append(repr(r))
                        else:
                            unknown.append(recs)

            threads = [threading.Thread(target=worker, args=(rnd * 8 + i,)) for i in range(8)]
            for t in threads:
                t.start()
            deadline = time.time() + 10
            while time.time() < deadline and counts[0] < 8 * (2 + rnd):
                time.sleep(0.05)
            self.srv.kill(signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(60)
            sys.stderr.write("round %d: %d pushes acknowledged, %d cut by kill -9\n"
                             % (rnd, counts[0], len(unknown)))
            self.assertFalse(failures, failures[:3])
            self.assertGreater(counts[0], 0, "no push succeeded:\n" + self.srv.log_tail())
            self.srv.start()
            got = self.check_all(acked)
            for recs in unknown:
                present = [h.record_key(x) in got for x in recs]
                self.assertIn(sum(present), (0, len(recs)),
                              "a push cut by kill -9 left half a batch: %d of %d records"
                              % (sum(present), len(recs)))

    def test_api_changes_survive_restart_and_bootstrap(self):
        tok = self.srv.admin()
        areas = self.assertStatus(self.srv.get("/v1/codelists/areas", token=tok), 200)
        codes = [dict(c) for c in areas["codes"]]
        for c in codes:
            if c["code"] == "20":
                c["name"] = "Tỉnh Lạng Sơn (đã sửa qua API)"
        doc = {"id": "areas", "title": areas["title"], "codes": codes}
        self.assertStatus(self.srv.put("/v1/codelists/areas", doc, token=tok), 200)
        d = h.service_definition("stc-thu-ngan-sach")
        d["title"] = "Thu ngân sách (tiêu đề sửa qua API)"
        self.assertStatus(self.srv.put("/v1/services/stc-thu-ngan-sach", d, token=tok), 200)
        self.assertStatus(self.srv.post("/v1/services/cts-chi-tieu-kte-xh/status",
                                        {"status": "suspended", "reason": "bảo trì"},
                                        token=tok), 200)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with self.subTest(signal=sig):
                self.srv.restart(sig)
                tok = self.srv.admin()
                body = self.assertStatus(self.srv.get("/v1/codelists/areas", token=tok), 200)
                names = {c["code"]: c["name"] for c in body["codes"]}
                self.assertEqual(names["20"], "Tỉnh Lạng Sơn (đã sửa qua API)")
                body = self.assertStatus(self.srv.get("/v1/services/stc-thu-ngan-sach",
                                                      token=tok), 200)
                self.assertEqual(body["title"], "Thu ngân sách (tiêu đề sửa qua API)")
                body = self.assertStatus(self.srv.get("/v1/services/cts-chi-tieu-kte-xh",
                                                      token=tok), 200)
                self.assertEqual(body["status"], "suspended")

    def test_sigterm_stops_cleanly(self):
        recs = batch("IIP", 2026, 1, 100)
        self.assertStatus(push(self.srv, recs), 200)
        code = self.srv.stop()
        self.assertEqual(code, 0, self.srv.log_tail())
        self.srv.start()
        got = h.read_all(self.srv, CTS)
        self.assertEqual(len(got), len(recs))


if __name__ == "__main__":
    h.main()
