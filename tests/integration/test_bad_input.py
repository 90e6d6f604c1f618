"""Bad input gets a clear problem+json answer with a stable code, and the server keeps running
(issue 2, "Bad input gets a clear error and loses nothing"). After every test /healthz must
still answer 200 from the same process."""

import json
import re
import select
import socket
import time

import lt_harness as h

SRV = None     # default limits
SMALL = None   # limits.max_body_bytes = LIMIT
LIMIT = 65536
STC = "/v1/services/stc-thu-ngan-sach/records"
CTS = "/v1/services/cts-chi-tieu-kte-xh/records"


def setUpModule():
    global SRV, SMALL
    SRV = h.Server().start()
    SMALL = h.Server(max_body_bytes=LIMIT).start()


def tearDownModule():
    errors = []
    for srv in (SRV, SMALL):
        if srv:
            try:
                srv.close()
            except AssertionError as e:
                errors.append(str(e))
    if errors:
        raise AssertionError("\n".join(errors))


def raw_exchange(srv, head, body=b"", shutdown=False, timeout=10, piece=4096):
    """Sends head, then body in pieces, stopping as soon as the server answers (so an early
    answer is not lost to a reset); returns (status, response bytes)."""
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    data = b""
    try:
        s.sendall(head)
        for i in range(0, len(body), piece):
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                break
            try:
                s.sendall(body[i:i + piece])
            except (BrokenPipeError, ConnectionResetError):
                break
        if shutdown:
            try:
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                m = re.search(rb"content-length:\s*(\d+)", data[:head_end].lower())
                if m and len(data) >= head_end + 4 + int(m.group(1)):
                    break
        line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        return status, data
    finally:
        s.close()


class BadInput(h.LtTestCase):
    def setUp(self):
        self.pids = (SRV.proc.pid, SMALL.proc.pid)

    def tearDown(self):
        for srv, pid in zip((SRV, SMALL), self.pids):
            self.assertTrue(srv.alive(), "server died:\n" + srv.log_tail())
            self.assertEqual(srv.proc.pid, pid)
            r = srv.healthz()
            self.assertEqual(r.status, 200, r)

    # -- bodies --------------------------------------------------------------------------------
    def test_malformed_json(self):
        for body in (b'{"data": [', b"{'data': []}", b'{"data": [1,]}', b"", b"\x00\x01",
                     b'{"data": []} trailing'):
            with self.subTest(body=body):
                r = SRV.post(STC, body=body, token=SRV.admin(), content_type="application/json")
                self.assertProblem(r, 400, "malformed_json")
        r = SRV.post("/v1/agencies", body=b'{"code": ', token=SRV.admin(),
                     content_type="application/json")
        self.assertProblem(r, 400, "malformed_json")
        r = SRV.post(CTS, body=b'{"header": {', token=SRV.admin(), content_type=h.EXCHANGE_JSON)
        self.assertProblem(r, 400, "malformed_json")

    def test_wrong_content_type(self):
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "image/png"):
            with self.subTest(ctype=ctype):
                r = SRV.post(STC, body=json.dumps(h.stc_sample()), token=SRV.admin(),
                             content_type=ctype)
                self.assertProblem(r, 415, "unsupported_media_type")
        r = SRV.post("/v1/agencies", body=b"code=1", token=SRV.admin(),
                     content_type="application/x-www-form-urlencoded")
        self.assertProblem(r, 415, "unsupported_media_type")

    def test_content_type_parameters_accepted(self):
        r = SRV.post(STC, body=json.dumps(h.stc_sample()), token=SRV.admin(),
                     content_type="Application/JSON; charset=utf-8")
        self.assertEqual(r.status, 200, r)

    def test_body_over_limit_not_read(self):
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (STC, SMALL.admin(), 50 * 1024 * 1024)).encode()
        t0 = time.time()
        status, data = raw_exchange(SMALL, head, b'{"data": [' + b" " * 1024)
        self.assertEqual(status, 413, data[:500])
        self.assertLess(time.time() - t0, 8)
        hdr, _, body = data.partition(b"\r\n\r\n")
        self.assertIn(b"application/problem+json", hdr.lower())
        self.assertEqual(json.loads(body.decode())["code"], "payload_too_large")

    def test_body_over_limit_sent_whole(self):
        payload = json.dumps({"data": [{"x": "y" * 100}] * 1000}).encode()
        self.assertGreater(len(payload), LIMIT)
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                % (STC, SMALL.admin(), len(payload))).encode()
        status, data = raw_exchange(SMALL, head, payload)
        self.assertEqual(status, 413, data[:500])
        # just under the limit is fine (a well-formed payload with one record)
        payload = json.dumps({"data": [dict(h.stc_sample()["data"][0],
                                            pad="x" * (LIMIT - 400))]}).encode()
        self.assertLessEqual(len(payload), LIMIT)
        r = SMALL.post(STC, body=payload, token=SMALL.admin(), content_type="application/json")
        self.assertEqual(r.status, 200, r)

    def test_body_over_limit_chunked(self):
        """Without Content-Length the limit is found while reading: the client still gets a
        413 problem (at once, or after the rest is read and discarded), not a dropped
        connection."""
        head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                % (STC, SMALL.admin())).encode()
        chunk = b" " * 16384
        body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(10)) + b"0\r\n\r\n"
        status, data = raw_exchange(SMALL, head, body)
        self.assertEqual(status, 413, data[:500])

    def test_invalid_utf8(self):
        for body in (b'{"data": [{"ma_chi_tieu": "\xff\xfe"}]}',
                     b'{"data": [{"nguoi_bao_cao": "Nguy\xe1\xbb"}]}',
                     b'{"data": [{"ky": "\xc0\xaf"}]}'):
            with self.subTest(body=body):
                r = SRV.post(STC, body=body, token=SRV.admin(), content_type="application/json")
                self.assertProblem(r, 400, "invalid_utf8")

    def test_deep_nesting(self):
        for body in (b"[" * 100000 + b"]" * 100000,
                     b'{"a":' * 100000 + b"1" + b"}" * 100000,
                     b'{"data": ' + b"[" * 100000):
            with self.subTest(size=len(body)):
                t0 = time.time()
                r = SRV.post(STC, body=body, token=SRV.admin(), content_type="application/json")
                self.assertProblem(r, 400, "malformed_json")
                self.assertLess(time.time() - t0, 5)
        r = SRV.post("/v1/services", body=b"[" * 100000, token=SRV.admin(),
                     content_type="application/json")
        self.assertProblem(r, 400, "malformed_json")

    # -- definitions and records ---------------------------------------------------------------
    def test_unknown_fields_in_definitions(self):
        d = h.service_definition("stc-thu-ngan-sach", "it-bad-unknown")
        d["mapping"]["fields"]["value"]["rounding"] = 2
        body = self.assertProblem(SRV.post("/v1/services", d, token=SRV.admin()), 422,
                                  "invalid")
        self.assertIn("rounding", h.problem_text(body))
        c = h.load_example("contracts", "indicator-observation.json")
        c["id"] = "it-bad-contract"
        c["owner"] = "x"
        body = self.assertProblem(SRV.post("/v1/contracts", c, token=SRV.admin()), 422,
                                  "invalid")
        self.assertIn("owner", h.problem_text(body))

    def test_code_outside_its_list(self):
        recs = [h.obs("THU_NSNN", "20", "2026-M10", 1.5), h.obs("THU_NSNN", "77", "2026-M10", 2.5),
                h.obs("GDP_XYZ", "20", "2026-M10", 3.5)]
        body = self.assertStatus(SRV.post(CTS, h.envelope("cts-chi-tieu-kte-xh", recs),
                                          token=SRV.admin(), content_type=h.EXCHANGE_JSON), 200)
        self.assertEqual((body["accepted"] + body["unchanged"], body["rejected"]), (1, 2), body)
        self.assertEqual(sorted(e["field"] for e in body["errors"]), ["area", "indicator"])
        r = SRV.get(CTS + "/THU_NSNN~77~2026-M10", token=SRV.admin())
        self.assertProblem(r, 404, "not_found")

    def test_period_2025_13(self):
        recs = [h.obs("CPI", "20", "2025-13", 101.0, unit="%")]
        body = self.assertStatus(SRV.post(CTS, h.envelope("cts-chi-tieu-kte-xh", recs),
                                          token=SRV.admin(), content_type=h.EXCHANGE_JSON), 200)
        self.assertEqual(body["rejected"], 1, body)
        self.assertEqual(body["errors"][0]["field"], "period", body)
        self.assertIn("2025-13", body["errors"][0]["message"])
        r = SRV.post(CTS + "?atomic=true", h.envelope("cts-chi-tieu-kte-xh", recs),
                     token=SRV.admin(), content_type=h.EXCHANGE_JSON)
        body = self.assertProblem(r, 422, "validation_failed")
        self.assertEqual(body["errors"][0]["field"], "period")

    # -- tokens --------------------------------------------------------------------------------
    def test_hand_made_token_accepted(self):
        """Sanity: the hand-made tokens below differ from this one in one thing only."""
        tok = h.jwt_hs256(h.dev_secret(), h.claims())
        self.assertEqual(SRV.get("/v1/agencies", token=tok).status, 200)

    def test_rs256_token_from_cli_accepted(self):
        tok = SRV.token(kid="rsa-1")
        header = json.loads(h.base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
        self.assertEqual((header["alg"], header["kid"]), ("RS256", "rsa-1"))
        self.assertEqual(SRV.get("/v1/agencies", token=tok).status, 200)

    def test_expired_token(self):
        tok = h.jwt_hs256(h.dev_secret(), h.claims(exp=int(time.time()) - 3600))
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "token_expired")
        tok = h.jwt_hs256(h.dev_secret(), h.claims(iat=int(time.time()) - 7200,
                                                   exp=int(time.time()) - 120))
        self.assertProblem(SRV.get(STC, token=tok), 401, "token_expired")

    def test_not_yet_valid_token(self):
        tok = h.jwt_hs256(h.dev_secret(), h.claims(nbf=int(time.time()) + 3600))
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 401)

    def test_missing_exp(self):
        tok = h.jwt_hs256(h.dev_secret(), h.claims(exp=None))
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 401)

    def test_wrong_audience_and_issuer(self):
        for over in ({"aud": "other"}, {"aud": ["other", "x"]}, {"iss": "somebody-else"}):
            with self.subTest(claims=over):
                tok = h.jwt_hs256(h.dev_secret(), h.claims(**over))
                self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")
        tok = h.jwt_hs256(h.dev_secret(), h.claims(aud=["other", "lienthong"]))
        self.assertEqual(SRV.get("/v1/agencies", token=tok).status, 200)

    def test_alg_none(self):
        for header in ({}, {"kid": None}, {"alg": "None"}, {"alg": "NONE", "kid": "rsa-1"}):
            with self.subTest(header=header):
                hd = {k: v for k, v in {"alg": "none", "typ": "JWT", "kid": "dev",
                                        **header}.items() if v is not None}
                tok = (h.b64url(json.dumps(hd).encode()) + "." +
                       h.b64url(json.dumps(h.claims()).encode()) + ".")
                self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")
        tok = h.jwt_none(h.claims())
        self.assertProblem(SRV.get(STC, token=tok), 401, "unauthorized")

    def test_hs256_signed_with_rsa_public_key(self):
        pem = SRV.rsa_public_pem()
        for secret in (pem, pem.rstrip(b"\n")):
            with self.subTest(trailing_newline=secret.endswith(b"\n")):
                tok = h.jwt_hs256(secret, h.claims(), header={"kid": "rsa-1"})
                self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")
                self.assertProblem(SRV.get(STC, token=tok), 401, "unauthorized")

    def test_wrong_alg_for_key(self):
        tok = h.jwt_hs256(h.dev_secret(), h.claims(), header={"kid": "rsa-1"})
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")
        tok = h.jwt_hs256(h.dev_secret(), h.claims(), header={"kid": "nope"})
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")

    def test_bad_signature_and_garbage(self):
        good = h.jwt_hs256(h.dev_secret(), h.claims())
        a, b, sig = good.split(".")
        bad_sig = a + "." + b + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
        forged = a + "." + h.b64url(json.dumps(h.claims(roles=["admin", "agency"])).encode()) \
            + "." + sig
        for tok in (bad_sig, forged, "garbage", "a.b.c", "..", "x" * 5000, a + "." + b):
            with self.subTest(token=tok[:40]):
                self.assertProblem(SRV.get("/v1/agencies", token=tok), 401, "unauthorized")

    def test_no_token(self):
        self.assertProblem(SRV.get("/v1/agencies"), 401, "unauthorized")
        self.assertProblem(SRV.get(STC), 401, "unauthorized")
        r = SRV.get("/v1/agencies", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
        self.assertProblem(r, 401, "unauthorized")
        r = SRV.get("/v1/agencies", headers={"Authorization": "Bearer "})
        self.assertProblem(r, 401, "unauthorized")

    def test_unknown_role(self):
        tok = h.jwt_hs256(h.dev_secret(), h.claims(roles=["superuser"]))
        r = SRV.post("/v1/agencies", {"code": "000.00.40.H32", "name": "x",
                                      "contact": {"name": "a", "position": "b", "phone": "c",
                                                  "email": "d@e.vn"}}, token=tok)
        self.assertIn(r.status, (401, 403), r)

    # -- authorisation -------------------------------------------------------------------------
    def test_other_agency_reads_403(self):
        tok = SRV.agency(h.SYT_ORG)
        self.assertProblem(SRV.get(STC, token=tok), 403, "forbidden")
        self.assertProblem(SRV.get(STC + "/THU_NSNN~20~2026-M10", token=tok), 403, "forbidden")
        r = SRV.post(STC, h.stc_sample(), token=tok)
        self.assertProblem(r, 403, "forbidden")
        self.assertProblem(SRV.get("/v1/services/stc-thu-ngan-sach/quarantine", token=tok), 403,
                           "forbidden")
        # an agency token claiming admin-like org but without the role stays an agency
        tok = SRV.agency(h.OPERATOR_ORG, sub="sys-x")
        self.assertProblem(SRV.get(STC, token=tok), 403, "forbidden")

    def test_owner_reads_200(self):
        self.assertEqual(SRV.get(STC, token=SRV.agency(h.STC_ORG)).status, 200)

    # -- routing -------------------------------------------------------------------------------
    def test_unknown_route(self):
        for path in ("/v1/nothing", "/v2/agencies", "/", "/v1/services/no-such/records",
                     "/v1/services/stc-thu-ngan-sach/nothing", "/healthz/extra"):
            with self.subTest(path=path):
                self.assertProblem(SRV.get(path, token=SRV.admin()), 404, "not_found")
        r = SRV.post("/v1/services/no-such/records", h.stc_sample(), token=SRV.admin())
        self.assertProblem(r, 404, "not_found")

    def test_wrong_method(self):
        for method, path, allow in (("DELETE", "/v1/agencies", "POST, GET"),
                                    ("PUT", "/v1/catalog", "GET"), ("POST", "/healthz", "GET"),
                                    ("DELETE", "/v1/services/stc-thu-ngan-sach", "GET, PUT"),
                                    ("PATCH", STC, "POST, GET")):
            with self.subTest(method=method, path=path):
                r = SRV.request(method, path, token=SRV.admin())
                self.assertProblem(r, 405, "method_not_allowed")
                self.assertEqual(r.headers.get("allow"), allow)

    def test_bad_query_parameters(self):
        for q in ("?limit=abc", "?limit=-1", "?as_of=yesterday", "?since=2026-13-45T00:00:00Z",
                  "?cursor=%ZZ"):
            with self.subTest(query=q):
                r = SRV.get(STC + q, token=SRV.admin())
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.content_type, "application/problem+json")

    def test_garbage_request_line(self):
        status, _ = raw_exchange(SRV, b"GARBAGE\r\n\r\n", shutdown=True)
        self.assertIn(status, (400, 405, 501, None))
        status, _ = raw_exchange(SRV, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                                 shutdown=True)
        self.assertIn(status, (400, 404, 414, 431, None))

    def test_slow_and_half_requests_do_not_block_others(self):
        socks = []
        try:
            for _ in range(8):
                s = socket.create_connection(("127.0.0.1", SRV.port), timeout=5)
                s.sendall(b"POST " + STC.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Length: 1000\r\n")
                socks.append(s)
            t0 = time.time()
            self.assertEqual(SRV.healthz().status, 200)
            self.assertEqual(SRV.get("/v1/agencies", token=SRV.admin()).status, 200)
            self.assertLess(time.time() - t0, 5)
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    h.main()
