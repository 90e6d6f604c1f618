"""The audit trail as evidence (issue 6, API.md §10): an export of a range as JSON Lines with
the chain head, verified on its own by `lienthong verify-audit --file`; an altered, missing or
reordered entry in an archive is named; an entry altered inside the live warehouse (raw LMDB
edit with the server stopped, Debian python3-lmdb) is named by `verify-audit --config` and by
GET /v1/audit/verify.
"""

import json
import os
import subprocess
import tempfile
import time

import lt_harness as h

SRV = None


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def export(srv, **params):
    r = srv.get("/v1/audit/export" + h.qs(**params), token=srv.admin())
    return r


def lines_of(r):
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/x-ndjson"), r.headers
    text = r.body.decode("utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def verify_file(srv, lines):
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        p = subprocess.run([srv.bin, "verify-audit", "--file", path], capture_output=True,
                           text=True, timeout=60)
        return p.returncode, p.stdout + p.stderr
    finally:
        os.unlink(path)


def make_traffic(srv, n=5):
    """n audited exchanges, then waits until the audit writer has committed them (entries
    are group-committed by one writer shortly after each answer)."""
    for _ in range(n):
        assert srv.get("/v1/agencies", token=srv.admin()).status == 200
    deadline = time.time() + 10
    while time.time() < deadline:
        v = srv.get("/v1/audit/verify", token=srv.admin()).json
        if v["entries"] >= n:
            return v["entries"]
        time.sleep(0.05)
    raise AssertionError("the audit writer did not catch up")


class Export(h.LtTestCase):
    def test_export_verifies_on_its_own(self):
        make_traffic(SRV)
        lines = lines_of(export(SRV))
        head = json.loads(lines[0])
        self.assertEqual(head["export"], "lienthong-audit")
        self.assertEqual(head["from_seq"], 1)
        self.assertEqual(head["prev_hash"], "0" * 64)
        self.assertEqual(head["to_seq"], len(lines) - 1)
        self.assertEqual(head["chain_head"]["seq"], head["to_seq"])
        entries = [json.loads(x) for x in lines[1:]]
        self.assertEqual([e["seq"] for e in entries], list(range(1, len(entries) + 1)))
        self.assertEqual(entries[-1]["hash"], head["chain_head"]["hash"])
        rc, out = verify_file(SRV, lines)
        self.assertEqual(rc, 0, out)
        self.assertIn("verified", out)

    def test_a_range_chains_from_the_entry_before_it(self):
        make_traffic(SRV, 6)
        whole = [json.loads(x) for x in lines_of(export(SRV))[1:]]
        lines = lines_of(export(SRV, from_seq=3, to_seq=5))
        head = json.loads(lines[0])
        self.assertEqual((head["from_seq"], head["to_seq"]), (3, 5))
        self.assertEqual(head["prev_hash"], whole[1]["hash"])
        self.assertEqual(len(lines), 4)
        rc, out = verify_file(SRV, lines)
        self.assertEqual(rc, 0, out)

    def test_altered_missing_and_reordered_entries_are_named(self):
        make_traffic(SRV, 6)
        lines = lines_of(export(SRV, from_seq=1, to_seq=6))
        altered = list(lines)
        self.assertIn('"status":200', altered[3])
        altered[3] = altered[3].replace('"status":200', '"status":201', 1)
        rc, out = verify_file(SRV, altered)
        self.assertEqual(rc, 1, out)
        self.assertIn("seq 3 ", out)
        rc, out = verify_file(SRV, lines[:3] + lines[4:])
        self.assertEqual(rc, 1, out)
        self.assertIn("seq 3 ", out)
        rc, out = verify_file(SRV, lines[:-1])
        self.assertEqual(rc, 1, out)
        self.assertIn("missing", out)
        rc, out = verify_file(SRV, ["{}"] + lines[1:])
        self.assertEqual(rc, 1, out)

    def test_bad_ranges_and_access(self):
        self.assertProblem(export(SRV, from_seq=0), 400, "bad_request")
        self.assertProblem(export(SRV, from_seq="x"), 400, "bad_request")
        self.assertProblem(export(SRV, from_seq=5, to_seq=4), 400, "bad_request")
        self.assertProblem(export(SRV, from_seq=10 ** 12), 404, "not_found")
        r = SRV.get("/v1/audit/export", token=SRV.agency(h.STC_ORG))
        self.assertProblem(r, 403, "forbidden")


def audit_entries(srv, service, operations=()):
    """The service's audit entries once the writer has caught up (the listed operations are
    all there)."""
    deadline = time.time() + 20
    while True:
        r = srv.get("/v1/audit" + h.qs(service=service, limit=1000), token=srv.admin())
        items = r.json["items"]
        seen = {e.get("operation") for e in items}
        if (items and all(o in seen for o in operations)) or time.time() > deadline:
            return items
        time.sleep(0.05)


class FullAudit(h.LtTestCase):
    """A service with "audit": "full" keeps request and response bodies in its entries, with
    personal values masked in both; a service without it keeps metadata only."""

    def test_bodies_kept_and_personal_values_masked(self):
        d = h.service_definition("stc-thu-ngan-sach", "it-audit-full")
        d["audit"] = "full"
        self.assertStatus(SRV.post("/v1/services", d, token=SRV.admin()), 201)
        self.assertStatus(SRV.post("/v1/services/it-audit-full/status",
                                   {"status": "published", "reason": "t"}, token=SRV.admin()),
                          200)
        sample = h.stc_sample()
        names = {x["nguoi_bao_cao"] for x in sample["data"]}
        self.assertIn("Hoàng Thị Mai", names)
        r = SRV.request("POST", "/v1/services/it-audit-full/records", json_body=sample,
                        token=SRV.agency(h.STC_ORG), content_type="application/json")
        self.assertStatus(r, 200)
        r = SRV.get("/v1/services/it-audit-full/records?limit=5", token=SRV.admin())
        self.assertStatus(r, 200)
        self.assertIn("Hoàng Thị Mai", r.body.decode("utf-8"))  # the reader sees it...
        entries = audit_entries(SRV, "it-audit-full", ("records.push", "records.list"))
        push = [e for e in entries if e["operation"] == "records.push"]
        read = [e for e in entries if e["operation"] == "records.list"]
        self.assertTrue(push and read, entries)
        for e in push + read:
            text = json.dumps(e, ensure_ascii=False)
            for n in names:  # ...the trail never does
                self.assertNotIn(n, text)
        self.assertIn('"nguoi_bao_cao": "***"', push[0]["request_body"])
        self.assertIn("THU_NSNN", push[0]["request_body"])
        self.assertIn('"accepted"', push[0]["response_body"])
        self.assertIn('"reporter":"***"', read[0]["response_body"])
        v = self.assertStatus(SRV.get("/v1/audit/verify", token=SRV.admin()), 200)
        self.assertTrue(v["valid"], v)

    def test_metadata_is_the_default(self):
        sid = h.create_service(SRV, "stc-thu-ngan-sach", "it-audit-meta")
        r = SRV.request("POST", "/v1/services/%s/records" % sid, json_body=h.stc_sample(),
                        token=SRV.agency(h.STC_ORG), content_type="application/json")
        self.assertStatus(r, 200)
        for e in audit_entries(SRV, sid, ("records.push",)):
            self.assertNotIn("request_body", e)
            self.assertNotIn("response_body", e)

    def test_bad_audit_level_is_refused(self):
        d = h.service_definition("stc-thu-ngan-sach", "it-audit-bad")
        d["audit"] = "everything"
        self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 422, "invalid")


class LiveTamper(h.LtTestCase):
    def test_entry_altered_in_the_warehouse_is_named(self):
        import lmdb  # Debian python3-lmdb (scripts/deps.sh test)
        srv = h.Server().start()
        try:
            make_traffic(srv, 8)
            v = self.assertStatus(srv.get("/v1/audit/verify", token=srv.admin()), 200)
            self.assertTrue(v["valid"], v)
            self.assertEqual(srv.stop(), 0)
            env = lmdb.open(os.path.join(srv.data_dir, "audit"), max_dbs=32, subdir=True,
                            map_size=1 << 36)
            db = env.open_db(b"audit", create=False)
            with env.begin(write=True) as txn:
                key = (4).to_bytes(8, "big")
                text = bytes(txn.get(key, db=db))
                self.assertIn(b'"status":200', text)
                txn.put(key, text.replace(b'"status":200', b'"status":204', 1), db=db)
            env.close()
            p = subprocess.run([srv.bin, "verify-audit", "--config", srv.config_path],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertIn("broken at seq 4", p.stdout)
            srv.start()
            v = self.assertStatus(srv.get("/v1/audit/verify", token=srv.admin()), 200)
            self.assertEqual((v["valid"], v["broken_at"]), (False, 4), v)
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
