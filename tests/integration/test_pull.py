"""Pull connectors (API.md §5 `source`, §7 pull runs) over the real binary and real peers on
free local ports: a JSON REST service with ETags, a `;`/decimal-comma CSV export, a spyne SOAP
service fed a request_template parameter, and a slow server that answers after the timeout.
Manual runs, conditional GETs, timeouts and faults, the scheduler, the run list and access.
"""

import os
import socket
import subprocess
import threading
import time

import lt_harness as h

SRV = None
PEERS = {}
PEER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")
PYTHON = "/usr/bin/python3"
STC_MAPPING = h.load_example("services", "stc-thu-ngan-sach.json")["mapping"]
CSV_MAPPING = {"delimiter": ";",
               "fields": {"indicator": {"path": "ma_chi_tieu"},
                          "area": {"path": "dia_ban", "map": {"LS": "20"}},
                          "period": {"path": "ky", "format": "MM/YYYY"},
                          "value": {"path": "gia_tri", "type": "number", "decimal": ","},
                          "unit": {"const": "tỷ đồng"}}}
SOAP_MAPPING = {"records": "//ns:KhoanThu", "namespaces": {"ns": "urn:stc"},
                "fields": {"indicator": {"const": "THU_NSNN"},
                           "area": {"path": "ns:MaDonVi", "map": {"LS": "20"}},
                           "period": {"path": "ns:Ky", "format": "MM/YYYY"},
                           "value": {"path": "ns:SoTien", "type": "number",
                                     "scale": 0.000000001},
                           "unit": {"const": "nghìn tỷ đồng"}}}
SOAP_TEMPLATE = ('<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                 'xmlns:stc="urn:stc"><soapenv:Body><stc:GetThuNganSach>'
                 '<stc:ky>{{ky}}</stc:ky></stc:GetThuNganSach></soapenv:Body>'
                 '</soapenv:Envelope>')


def wait_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("peer exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("peer on port %d did not start" % port)


def start_peer(name, *args):
    port = h.free_port()
    proc = subprocess.Popen([PYTHON, os.path.join(PEER_DIR, args[0]), *args[1:2], str(port),
                             *args[2:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    PEERS[name] = (proc, port)
    wait_port(port, proc)
    return port


def url(name, path="/"):
    return "http://127.0.0.1:%d%s" % (PEERS[name][1], path)


def setUpModule():
    global SRV
    SRV = h.Server().start()
    start_peer("json", "rest_peer.py", "json", h.example_path(
        "data", "stc-thu-ngan-sach-2026-10.json"))
    start_peer("csv", "rest_peer.py", "csv")
    start_peer("slow", "rest_peer.py", "slow")
    start_peer("soap", "soap_peer.py")


def tearDownModule():
    for proc, _ in PEERS.values():
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if SRV:
        SRV.close()


def pull_service(sid, fmt, source, mapping, publish=True, srv=None):
    srv = srv or SRV
    src = {"mode": "pull", "format": fmt}
    src.update(source)
    d = {"id": sid, "agency": h.STC_ORG, "title": "Kéo dữ liệu (%s)" % fmt, "sharing": "default",
         "contract": "indicator-observation@1", "frequency": "monthly", "source": src,
         "mapping": mapping}
    r = srv.post("/v1/services", d, token=srv.admin())
    assert r.status == 201, r
    if publish:
        r = srv.post("/v1/services/%s/status" % sid, {"status": "published", "reason": "test"},
                     token=srv.admin())
        assert r.status == 200, r
    return sid


def pull(sid, token=None, timeout=60, srv=None):
    srv = srv or SRV
    return srv.post("/v1/services/%s/pull" % sid, token=token or srv.agency(h.STC_ORG),
                    timeout=timeout)


def runs(sid, srv=None, **params):
    srv = srv or SRV
    r = srv.get("/v1/services/%s/pulls%s" % (sid, h.qs(**params)), token=srv.admin())
    assert r.status == 200, r
    return r.json["items"]


class Pull(h.LtTestCase):
    def assertRun(self, r, status, **counts):
        run = self.assertStatus(r, 200)
        self.assertEqual(run["status"], status, run)
        self.assertTrue(run["id"].startswith("pr-"), run)
        for k in ("started_at", "finished_at", "trigger", "http_status", "attempts"):
            self.assertIn(k, run)
        for k, v in counts.items():
            self.assertEqual(run[k], v, run)
        return run

    def test_json_pull_then_not_modified(self):
        sid = pull_service("it-pull-json", "json", {"url": url("json", "/ngansach")},
                           STC_MAPPING)
        # the example export holds one record its contract rejects (kept in quarantine)
        run = self.assertRun(pull(sid), "ok", accepted=11, rejected=1, http_status=200)
        self.assertEqual(run["trigger"], "manual")
        self.assertTrue(run.get("etag"), run)
        got = h.read_all(SRV, sid)
        self.assertEqual(len(got), 11)
        self.assertEqual(got["THU_NSNN~20~2026-M02"]["value"], 868.25)
        again = self.assertRun(pull(sid), "not_modified", accepted=0, http_status=304)
        self.assertEqual(again["etag"], run["etag"])
        items = runs(sid)
        self.assertEqual([i["id"] for i in items], [again["id"], run["id"]])
        self.assertEqual(len(runs(sid, limit=1)), 1)

    def test_csv_export(self):
        sid = pull_service("it-pull-csv", "csv", {"url": url("csv", "/export.csv"),
                                                  "request_template": "nam={{nam}}",
                                                  "params": {"nam": 2026}}, CSV_MAPPING)
        self.assertRun(pull(sid), "ok", accepted=3, rejected=0)
        got = h.read_all(SRV, sid)
        self.assertEqual(got["THU_NSNN~20~2026-M08"]["value"], 987.25)
        self.assertEqual(got["CHI_NSDP~20~2026-M08"]["value"], 1500.0)

    def test_soap_service_with_template_parameter(self):
        sid = pull_service("it-pull-soap", "soap",
                           {"url": url("soap"), "soap_action": "GetThuNganSach",
                            "request_template": SOAP_TEMPLATE, "params": {"ky": "10/2026"},
                            "timeout_ms": 5000}, SOAP_MAPPING)
        run = self.assertRun(pull(sid), "ok", accepted=2, rejected=1)
        self.assertEqual(len(run["quarantine"]), 1, run)
        got = h.read_all(SRV, sid)
        self.assertEqual(sorted(got), ["THU_NSNN~20~2026-M09", "THU_NSNN~20~2026-M10"])
        self.assertAlmostEqual(got["THU_NSNN~20~2026-M10"]["value"], 1234.5)
        q = self.assertStatus(SRV.get("/v1/services/%s/quarantine" % sid, token=SRV.admin()),
                              200)["items"]
        self.assertEqual(q[0]["source"], "pull")
        self.assertEqual(q[0]["message_id"], run["id"])

    def test_soap_fault_is_bad_gateway(self):
        sid = pull_service("it-pull-fault", "soap",
                           {"url": url("soap"), "soap_action": "GetThuNganSach",
                            "request_template": SOAP_TEMPLATE, "params": {"ky": "loi"}},
                           SOAP_MAPPING)
        run = self.assertRun(pull(sid), "failed", accepted=0)
        self.assertEqual(run["error"]["code"], "bad_gateway", run)

    def test_slow_provider_times_out_without_blocking(self):
        slow = pull_service("it-pull-slow", "json", {"url": url("slow"), "timeout_ms": 1000},
                            STC_MAPPING)
        fast = pull_service("it-pull-fast", "json", {"url": url("json", "/fast")},
                            STC_MAPPING)
        out = {}
        t = threading.Thread(target=lambda: out.update(r=pull(slow)))
        began = time.time()
        t.start()
        time.sleep(0.3)
        t0 = time.time()
        self.assertEqual(SRV.healthz().status, 200)
        self.assertRun(pull(fast), "ok", accepted=11)
        self.assertLess(time.time() - t0, 2.0, "healthz and a fast pull wait on the slow one")
        self.assertTrue(t.is_alive(), "the slow pull ended before the fast one was tried")
        t.join(30)
        run = self.assertRun(out["r"], "failed", accepted=0)
        self.assertEqual(run["error"]["code"], "gateway_timeout", run)
        self.assertEqual(run["attempts"], 3, run)
        self.assertLess(time.time() - began, 8.0)

    def test_scheduler_runs_on_interval(self):
        sid = pull_service("it-pull-sched", "csv", {"url": url("csv"), "interval_s": 2},
                           CSV_MAPPING)
        deadline = time.time() + 8
        items = []
        while time.time() < deadline:
            items = [i for i in runs(sid) if i["status"] != "running"]
            if len(items) >= 2:
                break
            time.sleep(0.5)
        self.assertGreaterEqual(len(items), 2, items)
        self.assertTrue(all(i["trigger"] == "schedule" for i in items), items)
        started = [h.parse_time(i["started_at"]) for i in items]
        self.assertEqual(started, sorted(started, reverse=True), "newest first")
        self.assertGreaterEqual(started[0] - started[1], 1.5)
        self.assertEqual(items[-1]["status"], "ok")

    def test_draft_pull_service_is_not_scheduled(self):
        sid = pull_service("it-pull-draft", "csv", {"url": url("csv"), "interval_s": 1},
                           CSV_MAPPING, publish=False)
        time.sleep(2.5)
        self.assertEqual(runs(sid), [])

    def test_push_service_is_conflict_and_access(self):
        self.assertProblem(pull("stc-thu-ngan-sach"), 409, "conflict")
        sid = pull_service("it-pull-access", "json", {"url": url("json")}, STC_MAPPING)
        other = SRV.agency(h.CTS_ORG)
        self.assertProblem(pull(sid, token=other), 403)
        self.assertProblem(SRV.get("/v1/services/%s/pulls" % sid, token=other), 403)
        self.assertProblem(pull("it-pull-nope"), 404)


def keep_three(cfg):
    cfg.setdefault("limits", {})["pull_runs_kept"] = 3


class Retention(h.LtTestCase):
    """Stored pull runs are bounded (limits.pull_runs_kept); a restart marks a run that a
    crash interrupted as failed and resumes each schedule from the stored runs."""

    def test_runs_are_pruned_to_the_limit(self):
        srv = h.Server(config_patch=keep_three).start()
        try:
            sid = pull_service("it-pull-keep", "csv", {"url": url("csv")}, CSV_MAPPING,
                               srv=srv)
            ids = []
            for _ in range(5):
                r = pull(sid, srv=srv)
                self.assertStatus(r, 200)
                ids.append(r.json["id"])
            got = [i["id"] for i in runs(sid, srv=srv)]
            self.assertEqual(got, ids[:-4:-1], "the three newest, newest first")
        finally:
            srv.close()

    def test_restart_marks_interrupted_run_and_keeps_the_schedule(self):
        srv = h.Server().start()
        try:
            hourly = pull_service("it-pull-hourly", "csv", {"url": url("csv"),
                                                            "interval_s": 3600},
                                  CSV_MAPPING, srv=srv)
            deadline = time.time() + 10
            while time.time() < deadline and not [
                    i for i in runs(hourly, srv=srv) if i["status"] != "running"]:
                time.sleep(0.2)
            self.assertEqual([i["status"] for i in runs(hourly, srv=srv)], ["ok"])
            slow = pull_service("it-pull-crash", "json", {"url": url("slow"),
                                                          "timeout_ms": 8000},
                                STC_MAPPING, srv=srv)
            out = {}

            def run_slow():
                try:
                    out["r"] = pull(slow, srv=srv, timeout=20)
                except (OSError, ConnectionError) as e:
                    out["e"] = e
            t = threading.Thread(target=run_slow)
            t.start()
            deadline = time.time() + 5
            while time.time() < deadline and not runs(slow, srv=srv):
                time.sleep(0.1)
            self.assertEqual([i["status"] for i in runs(slow, srv=srv)], ["running"])
            srv.restart()  # SIGKILL while the run waits on the slow provider
            t.join(30)
            run = runs(slow, srv=srv)[0]
            self.assertEqual(run["status"], "failed", run)
            self.assertIn("interrupted", run["error"]["detail"])
            self.assertIn("finished_at", run)
            time.sleep(2.5)  # the scheduler ticks every second
            self.assertEqual(len(runs(hourly, srv=srv)), 1,
                             "a restart must not pull an hourly service again at once")
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
