"""Operations (API.md §10) and the command line (API.md §1, §2): /healthz, /metrics,
X-Request-Id, the audit log with the Art. 45 fields, check-config, import beside a running
serve, token usage errors, and LIENTHONG_LISTEN."""

import json
import threading
import os
import re
import shutil
import subprocess
import time

import lt_harness as h

SRV = None
# API.md §10's fields; "bytes" is split into bytes_in and bytes_out, "duration" is in ms.
AUDIT_FIELDS = ("seq", "time", "request_id", "org", "system", "service", "operation", "status",
                "records", "prev_hash", "hash", "bytes_in", "bytes_out", "duration_ms")
METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+-?\d+)?$")


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)


def metrics():
    r = SRV.get("/metrics")
    assert r.status == 200, r
    return r


def parse_metrics(text):
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if not m:
            raise AssertionError("not a Prometheus sample line: %r" % line)
        samples.append((m.group(1), m.group(2) or "", float(m.group(3))))
    return samples


def request_total(samples):
    return sum(v for name, _, v in samples
               if "request" in name and name.endswith("_total") and "bucket" not in name)


def audit_items(**params):
    r = SRV.get("/v1/audit" + h.qs(**params), token=SRV.admin())
    assert r.status == 200, r
    return r.json


def wait_audit(pred, timeout=5.0):
    """Audit entries are group-committed: poll until one matches pred."""
    deadline = time.time() + timeout
    items = []
    while time.time() < deadline:
        items = audit_items(limit=10000)["items"]
        found = [e for e in items if pred(e)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("no matching audit entry among %d entries" % len(items))


class Health(h.LtTestCase):
    def test_healthz_shape(self):
        r = SRV.healthz()
        body = self.assertStatus(r, 200)
        self.assertEqual(r.content_type, "application/json")
        self.assertEqual(set(body), {"status", "version", "uptime_s"})
        self.assertEqual(body["status"], "ok")
        self.assertIsInstance(body["version"], str)
        self.assertTrue(body["version"])
        self.assertIsInstance(body["uptime_s"], (int, float))
        self.assertGreaterEqual(body["uptime_s"], 0)
        time.sleep(1.2)
        self.assertGreater(SRV.healthz().json["uptime_s"], body["uptime_s"])

    def test_healthz_needs_no_token_but_ignores_a_bad_one(self):
        self.assertEqual(SRV.get("/healthz", token="garbage").status, 200)

    def test_metrics_prometheus_text(self):
        r = metrics()
        self.assertEqual(r.content_type, "text/plain")
        text = r.body.decode("utf-8")
        self.assertIn("# TYPE ", text)
        samples = parse_metrics(text)
        self.assertTrue(samples)
        before = request_total(samples)
        for _ in range(5):
            SRV.healthz()
        SRV.get("/v1/nothing", token=SRV.admin())
        after_samples = parse_metrics(metrics().body.decode("utf-8"))
        self.assertGreaterEqual(request_total(after_samples) - before, 6)
        statuses = " ".join(labels for name, labels, _ in after_samples if "request" in name)
        self.assertIn("404", statuses)
        self.assertTrue(any(name.endswith("_bucket") for name, _, _ in after_samples),
                        "no latency histogram")

    def test_request_id(self):
        r = SRV.get("/healthz", headers={"X-Request-Id": "it-req-12345"})
        self.assertEqual(r.headers.get("x-request-id"), "it-req-12345")
        r = SRV.get("/v1/agencies", token=SRV.admin(), headers={"X-Request-Id": "it-req-abc"})
        self.assertEqual(r.headers.get("x-request-id"), "it-req-abc")
        r = SRV.get("/v1/nothing", token=SRV.admin(), headers={"X-Request-Id": "it-req-404"})
        self.assertEqual(r.status, 404)
        self.assertEqual(r.headers.get("x-request-id"), "it-req-404")
        r = SRV.get("/v1/agencies", headers={"X-Request-Id": "it-req-401"})
        self.assertEqual(r.status, 401)
        self.assertEqual(r.headers.get("x-request-id"), "it-req-401")
        ids = set()
        for path in ("/healthz", "/healthz", "/v1/agencies"):
            rid = SRV.get(path, token=SRV.admin()).headers.get("x-request-id")
            self.assertTrue(rid)
            ids.add(rid)
        self.assertEqual(len(ids), 3)


class Audit(h.LtTestCase):
    def test_exchange_is_audited_with_art45_fields(self):
        sample = h.stc_sample()
        r = SRV.post("/v1/services/stc-thu-ngan-sach/records", sample,
                     token=SRV.agency(h.STC_ORG, sub="stc-ngansach-app"),
                     headers={"X-Request-Id": "it-audit-push-1"})
        self.assertStatus(r, 200)
        entries = wait_audit(lambda e: e.get("request_id") == "it-audit-push-1")
        e = entries[0]
        for k in AUDIT_FIELDS:
            self.assertIn(k, e, e)
        self.assertEqual(e["org"], h.STC_ORG)
        self.assertEqual(e["system"], "stc-ngansach-app")
        self.assertEqual(e["service"], "stc-thu-ngan-sach")
        self.assertEqual(e["status"], 200)
        self.assertGreater(e["bytes_in"], 0)
        self.assertGreater(e["bytes_out"], 0)
        self.assertIn(e["records"], (11, 12))
        self.assertIsInstance(e["seq"], int)
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
        # personal fields never reach the audit trail
        self.assertNotIn("Nông Văn Thành", json.dumps(e, ensure_ascii=False))

        # a read is audited too
        r = SRV.get("/v1/services/stc-thu-ngan-sach/records", token=SRV.admin(),
                    headers={"X-Request-Id": "it-audit-read-1"})
        self.assertStatus(r, 200)
        read = wait_audit(lambda x: x.get("request_id") == "it-audit-read-1")[0]
        self.assertNotEqual(read["operation"], e["operation"])
        self.assertGreater(read["seq"], e["seq"])

    def test_personal_data_not_in_log_or_audit(self):
        sample = h.stc_sample()
        sample["data"][0]["nguoi_bao_cao"] = "Triệu Thị Riêng Tư"
        sample["data"][0]["ky"] = "13/2026"  # rejected: messages and logs must not name her
        r = SRV.post("/v1/services/stc-thu-ngan-sach/records", sample, token=SRV.admin(),
                     headers={"X-Request-Id": "it-audit-personal"})
        self.assertStatus(r, 200)
        wait_audit(lambda x: x.get("request_id") == "it-audit-personal")
        items = audit_items(limit=10000)["items"]
        self.assertNotIn("Riêng Tư", json.dumps(items, ensure_ascii=False))
        self.assertNotIn("Riêng Tư", SRV.log_text())

    def test_audit_chain_and_filters(self):
        for i in range(3):
            SRV.get("/v1/services/cts-chi-tieu-kte-xh/records", token=SRV.admin(),
                    headers={"X-Request-Id": "it-audit-chain-%d" % i})
        wait_audit(lambda x: x.get("request_id") == "it-audit-chain-2")
        body = audit_items(limit=10000)
        self.assertIn("next_cursor", body)
        items = body["items"]
        seqs = [e["seq"] for e in items]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(seqs), len(set(seqs)))
        for prev, cur in zip(items, items[1:]):
            if cur["seq"] == prev["seq"] + 1 and cur.get("prev_hash") and prev.get("hash"):
                self.assertEqual(cur["prev_hash"], prev["hash"])

        only = audit_items(service="cts-chi-tieu-kte-xh", limit=10000)["items"]
        self.assertTrue(only)
        self.assertTrue(all(e["service"] == "cts-chi-tieu-kte-xh" for e in only))

        mid = seqs[len(seqs) // 2]
        later = audit_items(since_seq=mid, limit=10000)["items"]
        self.assertTrue(all(e["seq"] > mid for e in later))

        page = audit_items(limit=1)
        self.assertEqual(len(page["items"]), 1)
        self.assertTrue(page["next_cursor"])

        org = audit_items(org=h.OPERATOR_ORG, limit=10000)["items"]
        self.assertTrue(all(e["org"] == h.OPERATOR_ORG for e in org))

    def test_refused_request_is_audited(self):
        r = SRV.get("/v1/services/stc-thu-ngan-sach/records", token=SRV.agency(h.SYT_ORG),
                    headers={"X-Request-Id": "it-audit-refused"})
        self.assertEqual(r.status, 403)
        e = wait_audit(lambda x: x.get("request_id") == "it-audit-refused")[0]
        self.assertEqual((e["status"], e["org"], e["service"]),
                         (403, h.SYT_ORG, "stc-thu-ngan-sach"))

    def test_audit_verify_endpoint(self):
        SRV.get("/v1/agencies", token=SRV.admin())
        r = SRV.get("/v1/audit/verify", token=SRV.admin())
        body = self.assertStatus(r, 200)
        self.assertIs(body["valid"], True, body)
        self.assertGreater(body["entries"], 0)
        self.assertNotIn("broken_at", body)
        self.assertProblem(SRV.get("/v1/audit/verify", token=SRV.agency(h.STC_ORG)), 403,
                           "forbidden")

    def test_audit_is_admin_only(self):
        self.assertProblem(SRV.get("/v1/audit", token=SRV.agency(h.STC_ORG)), 403, "forbidden")
        self.assertProblem(SRV.get("/v1/audit"), 401, "unauthorized")


class Cli(h.LtTestCase):
    def run_cli(self, *args, timeout=60):
        return subprocess.run([h.binary(), *args], capture_output=True, text=True,
                              timeout=timeout, cwd=SRV.tmp)

    def test_check_config_example_ok(self):
        cfg = h.example_path("lienthong.json")
        p = self.run_cli("check-config", "--config", cfg)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "ok")
        p = self.run_cli("check-config", "--config", SRV.config_path)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "ok")

    def test_check_config_unknown_key(self):
        path = os.path.join(SRV.tmp, "bad-config.json")
        with open(path, "w") as f:
            f.write('{\n  "listen": "127.0.0.1:8080",\n  "data_dir": "data",\n'
                    '  "colour": "blue",\n  "threads": 0\n}\n')
        p = self.run_cli("check-config", "--config", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        out = p.stdout + p.stderr
        self.assertRegex(out, r"(^|\n)[^\n]*bad-config\.json:4:\d+: [^\n]*colour", out)
        self.assertNotIn("ok\n", p.stdout)

    def test_check_config_nested_unknown_key(self):
        cfg = read_json(SRV.config_path)
        cfg["limits"]["max_body"] = 1
        path = os.path.join(SRV.tmp, "bad-nested.json")
        write_json(path, cfg)
        with open(path, encoding="utf-8") as f:
            line = next(i for i, text in enumerate(f, 1) if '"max_body"' in text)
        p = self.run_cli("check-config", "--config", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout + p.stderr, r"bad-nested\.json:%d:\d+: " % line)

    def test_check_config_bad_bootstrap_file(self):
        copy = os.path.join(SRV.tmp, "bad-bootstrap")
        shutil.copytree(SRV.example, copy)
        svc = os.path.join(copy, "services", "cts-chi-tieu-kte-xh.json")
        d = read_json(svc)
        d["colour"] = "blue"
        write_json(svc, d)
        cfg = read_json(SRV.config_path)
        cfg["bootstrap"] = {"dir": "bad-bootstrap"}
        path = os.path.join(SRV.tmp, "bad-bootstrap.json")
        write_json(path, cfg)
        p = self.run_cli("check-config", "--config", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout + p.stderr, r"cts-chi-tieu-kte-xh\.json:\d+:\d+: [^\n]*colour")

    def test_check_config_malformed_json(self):
        path = os.path.join(SRV.tmp, "malformed.json")
        with open(path, "w") as f:
            f.write('{\n  "listen": "127.0.0.1:8080",\n  "threads": 0,,\n}\n')
        p = self.run_cli("check-config", "--config", path)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertRegex(p.stdout + p.stderr, r"malformed\.json:3:\d+: ")

    def test_backup_while_serving_and_verify_audit(self):
        """backup makes a consistent copy while pushes continue; a server on the copy serves
        the same data; verify-audit checks the chain of the live and the copied warehouse."""
        sid = h.create_service(SRV, "cts-chi-tieu-kte-xh", "it-ops-backup")
        before = [h.obs("CPI", "20", "2026-M%02d" % m, 100 + m, unit="%") for m in range(1, 13)]
        self.assertStatus(SRV.post("/v1/services/%s/records" % sid, h.envelope(sid, before),
                                   token=SRV.admin(), content_type=h.EXCHANGE_JSON), 200)
        stop = threading.Event()
        pushed = []

        def pusher():
            n = 0
            while not stop.is_set() and n < 200:
                rec = h.obs("IIP", "20", "20%02d" % (n % 90 + 10), n, unit="%")
                r = SRV.post("/v1/services/%s/records" % sid, h.envelope(sid, [rec]),
                             token=SRV.admin(), content_type=h.EXCHANGE_JSON)
                if r.status == 200:
                    pushed.append(rec)
                n += 1

        t = threading.Thread(target=pusher)
        t.start()
        dest = os.path.join(SRV.tmp, "backup-copy")
        p = SRV.cli("backup", "--to", dest)
        stop.set()
        t.join()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(SRV.cli("backup", "--to", dest).returncode, 1)  # never overwrites

        v = SRV.cli("verify-audit")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertRegex(v.stdout, r"^\d+ entries, chain valid")

        copy = h.Server(config_patch=lambda c: c.update(data_dir=dest)).start()
        try:
            got = h.read_all(copy, sid, token=copy.admin())
            for rec in before:  # acknowledged before the backup started: all there
                self.assertEqual(got[h.record_key(rec)]["value"], rec["value"])
            self.assertLessEqual(len(got), len(before) + len(pushed))
            v = copy.cli("verify-audit")
            self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        finally:
            copy.close()

    def test_import_while_serve_runs(self):
        sid = h.create_service(SRV, "stc-thu-ngan-sach", "it-ops-import")
        clean = h.stc_sample()
        clean["data"] = clean["data"][:11]
        path = os.path.join(SRV.tmp, "clean.json")
        write_json(path, clean)
        p = SRV.cli("import", "--service", sid, path)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        got = h.read_all(SRV, sid)
        self.assertEqual(len(got), 11)
        self.assertEqual(got["THU_NSNN~20~2026-M10"]["value"], 1234.5)

        sample = h.example_path("data", "stc-thu-ngan-sach-2026-10.json")
        p = SRV.cli("import", "--service", sid, "--format", "json", sample)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)  # one record rejected: still ok
        self.assertEqual(json.loads(p.stdout)["rejected"], 1, p.stdout)
        q = SRV.get("/v1/services/%s/quarantine" % sid, token=SRV.admin())
        self.assertEqual(len(self.assertStatus(q, 200)["items"]), 1)

        # an import and HTTP pushes at the same time
        cts = h.create_service(SRV, "cts-chi-tieu-kte-xh", "it-ops-import-cts")
        # a service without mapping takes a JSON array of contract records
        env_path = os.path.join(SRV.tmp, "cts.json")
        write_json(env_path, h.cts_sample(cts)["records"])
        proc = subprocess.Popen([h.binary(), "import", "--config", SRV.config_path, "--service",
                                 cts, env_path], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=SRV.tmp)
        for m in range(1, 13):
            recs = [h.obs("IIP", "20", "2027-M%02d" % m, 100 + m, unit="%")]
            r = SRV.post("/v1/services/%s/records" % cts, h.envelope(cts, recs),
                         token=SRV.admin(), content_type=h.EXCHANGE_JSON)
            self.assertStatus(r, 200)
        out, err = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(len(h.read_all(SRV, cts)), 22)

    def test_import_errors(self):
        p = SRV.cli("import", "--service", "no-such-service",
                    h.example_path("data", "stc-thu-ngan-sach-2026-10.json"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertTrue(p.stderr.strip())
        p = SRV.cli("import", "--service", "stc-thu-ngan-sach",
                    os.path.join(SRV.tmp, "no-such-file.json"))
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = SRV.cli("import", "--service", "stc-thu-ngan-sach")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)

    def test_token_command(self):
        p = SRV.cli("token", "--sub", "op", "--org", h.OPERATOR_ORG, "--roles", "admin,agency",
                    "--ttl", "600")
        self.assertEqual(p.returncode, 0, p.stderr)
        tok = p.stdout.strip()
        self.assertEqual(tok.count("."), 2)
        payload = json.loads(h.base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
        self.assertEqual(payload["sub"], "op")
        self.assertEqual(payload["org"], h.OPERATOR_ORG)
        self.assertEqual(sorted(payload["roles"]), ["admin", "agency"])
        self.assertEqual(payload["iss"], "lienthong")
        self.assertLessEqual(abs(payload["exp"] - time.time() - 600), 30)
        self.assertEqual(SRV.get("/v1/audit", token=tok).status, 200)

    def test_token_usage_errors_exit_2(self):
        cfg = SRV.config_path
        cases = [
            ["token", "--config", cfg],
            ["token", "--config", cfg, "--org", h.OPERATOR_ORG, "--roles", "admin"],
            ["token", "--config", cfg, "--sub", "x", "--org", "y", "--roles", "admin",
             "--ttl", "abc"],
            ["token", "--config", cfg, "--sub", "x", "--bogus-option"],
            ["token", "--sub", "x", "--org", "y", "--roles", "admin"],
            ["no-such-command", "--config", cfg],
            [],
        ]
        for args in cases:
            with self.subTest(args=args):
                p = self.run_cli(*args)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertTrue(p.stderr.strip())
                self.assertNotRegex(p.stdout, r"[\w-]+\.[\w-]+\.[\w-]+", "printed a token")

    def test_token_user_errors_exit_1(self):
        p = SRV.cli("token", "--sub", "x", "--org", "y", "--roles", "admin", "--kid", "nope")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        p = self.run_cli("token", "--config", os.path.join(SRV.tmp, "missing.json"), "--sub",
                         "x", "--org", "y", "--roles", "admin")
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)


class Listen(h.LtTestCase):
    def test_lienthong_listen_overrides_config(self):
        srv = h.Server(listen_env=True).start()
        try:
            self.assertEqual(srv.healthz().status, 200)
            self.assertEqual(srv.stop(), 0, srv.log_tail())
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
