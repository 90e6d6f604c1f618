"""The relay (API.md §8, issue 4): POST|GET /v1/services/{id}/call calls the provider's live
source, maps the answer to the contract and returns the exchange envelope, under the caller's
grant. Real peers (tests/integration/peers/relay_peer.py) on free local ports: a JSON REST
upstream that echoes a parameter, a SOAP upstream, a slow one, a SOAP fault, an HTML 500, and a
closed port. While slow relays are in flight the HTTP workers stay free; SIGTERM during a slow
relay ends the server promptly.
"""

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

import lt_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = None
PEER_PORT = None
SRV = None
NS = "urn:stc:thu"

REST_MAPPING = {"records": "/items",
                "fields": {"indicator": {"path": "/chi_tieu"}, "area": {"path": "/dia_ban"},
                           "period": {"path": "/ky"}, "value": {"path": "/gia_tri"},
                           "unit": {"path": "/don_vi"}, "reporter": {"path": "/nguoi_bao_cao"},
                           "status": {"const": "ok"}}}
SOAP_MAPPING = {"records": "//t:KhoanThu", "namespaces": {"t": NS},
                "fields": {"indicator": {"const": "THU_NSNN"},
                           "area": {"path": "t:MaDonVi", "map": {"LS": "20"}},
                           "period": {"path": "t:Ky", "format": "MM/YYYY"},
                           "value": {"path": "t:SoTien", "type": "number"},
                           "unit": {"path": "t:DonVi"}}}
SOAP_TEMPLATE = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                 '<soap:Body><q:LayThu xmlns:q="urn:stc:thu"><q:Ma>{{ma}}</q:Ma>'
                 "<q:Nam>{{nam}}</q:Nam></q:LayThu></soap:Body></soap:Envelope>")


def start_peer():
    global PEER, PEER_PORT
    PEER_PORT = h.free_port()
    PEER = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "relay_peer.py"),
                             str(PEER_PORT)], stdout=subprocess.PIPE, text=True)
    assert PEER.stdout.readline().strip() == "ready"


def peer_url(path):
    return "http://127.0.0.1:%d%s" % (PEER_PORT, path)


def peer_last():
    c = http.client.HTTPConnection("127.0.0.1", PEER_PORT, timeout=5)
    try:
        c.request("GET", "/_last")
        return json.loads(c.getresponse().read())
    finally:
        c.close()


def make_service(srv, sid, fmt, source, mapping):
    source = dict(source, format=fmt)
    source.setdefault("mode", "push")
    d = {"id": sid, "agency": h.STC_ORG, "title": "Relay " + sid, "sharing": "default",
         "contract": "indicator-observation@1", "frequency": "realtime", "source": source,
         "mapping": mapping}
    r = srv.post("/v1/services", d, token=srv.admin())
    assert r.status == 201, r
    r = srv.post("/v1/services/%s/status" % sid, {"status": "published", "reason": "test"},
                 token=srv.admin())
    assert r.status == 200, r
    return sid


def rest_service(srv, sid, path="/rest", **src):
    source = {"url": peer_url(path), "request_template": "ky={{ky}}&tag={{tag}}",
              "params": {"ky": "2026-M01", "tag": "mac-dinh"}}
    source.update(src)
    return make_service(srv, sid, "json", source, REST_MAPPING)


def soap_service(srv, sid, path="/soap", **src):
    source = {"mode": "pull", "url": peer_url(path), "soap_action": "urn:stc:thu#LayThu",
              "request_template": SOAP_TEMPLATE, "params": {"nam": "2026"}}
    source.update(src)
    return make_service(srv, sid, "soap", source, SOAP_MAPPING)


def call(srv, sid, params=None, token=None, method="POST", **kw):
    tok = token or srv.admin()
    if method == "GET":
        return srv.get("/v1/services/%s/call%s" % (sid, h.qs(**(params or {}))), token=tok,
                       **kw)
    return srv.post("/v1/services/%s/call" % sid, params, token=tok, **kw)


def process_cpu_s(pid):
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def setUpModule():
    global SRV
    start_peer()
    SRV = h.Server().start()
    rest_service(SRV, "it-relay-rest")
    soap_service(SRV, "it-relay-soap")


def tearDownModule():
    if SRV:
        SRV.close()
    if PEER:
        PEER.terminate()
        PEER.wait(timeout=10)
        PEER.stdout.close()


class Relay(h.LtTestCase):
    def test_rest_get_fills_template_from_query(self):
        r = call(SRV, "it-relay-rest", {"ky": "2026-M03,2026-M04", "tag": "a b&c"},
                 method="GET", headers={"X-Request-Id": "relay-rest-1"})
        env = self.assertStatus(r, 200)
        self.assertEqual(r.content_type, h.EXCHANGE_JSON)
        self.assertEqual(env["header"]["service"], "it-relay-rest")
        self.assertEqual([x["period"] for x in env["records"]], ["2026-M03", "2026-M04"])
        self.assertEqual(env["records"][0]["unit"], "a b&c")  # URL-escaped, arrived whole
        self.assertEqual(env["restricted_fields"], [])
        self.assertNotIn("errors", env)
        self.assertEqual(r.headers["x-request-id"], "relay-rest-1")

    def test_rest_post_body_and_defaults(self):
        env = self.assertStatus(call(SRV, "it-relay-rest", {"tag": "tu-body"}), 200)
        self.assertEqual([(x["period"], x["unit"]) for x in env["records"]],
                         [("2026-M01", "tu-body")])  # ky from source.params
        env = self.assertStatus(SRV.post("/v1/services/it-relay-rest/call", body=b"",
                                         token=SRV.admin()), 200)
        self.assertEqual(env["records"][0]["unit"], "mac-dinh")

    def test_soap_action_and_xml_escaping(self):
        env = self.assertStatus(call(SRV, "it-relay-soap", {"ma": "a<b&c"}), 200)
        self.assertEqual([(x["area"], x["period"], x["value"]) for x in env["records"]],
                         [("20", "2026-M01", 1000), ("20", "2026-M02", 2000)])
        last = peer_last()
        self.assertEqual(last["soap_action"], '"urn:stc:thu#LayThu"')
        self.assertIn("<q:Ma>a&lt;b&amp;c</q:Ma>", last["body"])
        self.assertIn("<q:Nam>2026</q:Nam>", last["body"])

    def test_invalid_records_are_dropped_and_listed(self):
        env = self.assertStatus(call(SRV, "it-relay-rest", {"ky": "2026-M05,khong-phai-ky"}),
                                200)
        self.assertEqual(len(env["records"]), 1, env)
        self.assertEqual(env["rejected"], 1)
        self.assertEqual(env["errors"][0]["record"], 1)
        self.assertEqual(env["errors"][0]["field"], "period")

    def test_unknown_template_parameter_is_422(self):
        p = self.assertProblem(call(SRV, "it-relay-rest", {"tag": "x", "nope": "1"}), 422,
                               "invalid")
        self.assertIn("nope", p["detail"])
        p = self.assertProblem(call(SRV, "it-relay-rest", {"nope": "1"}, method="GET"), 422,
                               "invalid")
        self.assertIn("nope", p["detail"])
        # a placeholder neither the caller nor source.params fills
        rest_service(SRV, "it-relay-missing", request_template="ky={{ky}}&x={{thieu}}")
        p = self.assertProblem(call(SRV, "it-relay-missing", {"ky": "2026-M01"}), 422,
                               "invalid")
        self.assertIn("thieu", p["detail"])

    def test_no_source_url_is_409(self):
        make_service(SRV, "it-relay-push", "json", {"mode": "push"}, REST_MAPPING)
        self.assertProblem(call(SRV, "it-relay-push", {}), 409)

    def test_upstream_failures(self):
        rest_service(SRV, "it-relay-html", path="/html500")
        soap_service(SRV, "it-relay-fault", path="/fault")
        rest_service(SRV, "it-relay-dead", url="http://127.0.0.1:%d/rest" % h.free_port())
        rest_service(SRV, "it-relay-slow", path="/slow", timeout_ms=1000)
        r = call(SRV, "it-relay-html", {}, headers={"X-Request-Id": "relay-bad-1"})
        self.assertProblem(r, 502, "bad_gateway")
        self.assertEqual(r.headers["x-request-id"], "relay-bad-1")
        p = self.assertProblem(call(SRV, "it-relay-fault", {"ma": "1"}), 502, "bad_gateway")
        self.assertIn("CSDL dang bao tri", p["detail"])
        self.assertProblem(call(SRV, "it-relay-dead", {}), 503, "service_unavailable")
        t0 = time.monotonic()
        self.assertProblem(call(SRV, "it-relay-slow", {}), 504, "gateway_timeout")
        self.assertLess(time.monotonic() - t0, 2.5)

    def test_provider_closing_kept_connections(self):
        """A provider that closes idle kept-alive connections: the relay keeps its upstream
        connections between calls, so the close arrives while nobody waits on it. The loop
        must neither spin on it nor reuse it: the next call opens a new one."""
        port = h.free_port()
        peer = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "relay_peer.py"),
                                 str(port), "0.3"], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(peer.stdout.readline().strip(), "ready")
            rest_service(SRV, "it-relay-idle", url="http://127.0.0.1:%d/rest" % port)
            for _ in range(3):
                self.assertStatus(call(SRV, "it-relay-idle", {"ky": "2026-M02"}), 200)
            cpu0 = process_cpu_s(SRV.proc.pid)
            time.sleep(1.5)  # the peer closes the kept connections after 0.3 s
            self.assertLess(process_cpu_s(SRV.proc.pid) - cpu0, 0.5,
                            "the gateway burned CPU on closed upstream connections")
            for _ in range(3):
                r = call(SRV, "it-relay-idle", {"ky": "2026-M03"})
                self.assertStatus(r, 200)
                self.assertEqual(r.json["records"][0]["period"], "2026-M03")
        finally:
            peer.terminate()
            peer.wait(timeout=10)
            peer.stdout.close()

    def test_consumer_projection_and_no_grant(self):
        sid = rest_service(SRV, "it-relay-granted")
        consumer = h.SYT_ORG
        tok = SRV.agency(consumer)
        self.assertProblem(call(SRV, sid, {}, token=tok), 403)
        g = SRV.post("/v1/grants", h.grant_body(consumer, h.default_system(consumer), sid,
                                                fields=("indicator", "area", "period",
                                                        "value")), token=SRV.admin())
        self.assertStatus(g, 201)
        env = self.assertStatus(call(SRV, sid, {"tag": "x"}, token=tok), 200)
        self.assertEqual(set(env["records"][0]), {"indicator", "area", "period", "value"})
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status", "unit"])
        # a record error on a field outside the grant does not name it or show its value
        env = self.assertStatus(call(SRV, sid, {"tag": "q" * 40}, token=tok), 200)
        self.assertEqual((len(env["records"]), env["rejected"]), (0, 1), env)
        self.assertNotIn("field", env["errors"][0])
        self.assertNotIn("q" * 8, json.dumps(env["errors"]))
        # the exchange is in the audit trail
        for _ in range(50):  # audit entries are group-committed
            audit = h.list_all(SRV, "/v1/audit?service=%s" % sid, SRV.admin())
            calls = [a for a in audit if a.get("operation") == "relay.call"]
            if len(calls) >= 3:
                break
            time.sleep(0.1)
        self.assertEqual([(a["status"], a["records"]) for a in calls],
                         [(403, 0), (200, 1), (200, 0)], calls)


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate (CN stc-client)."""
    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    p = lambda name: os.path.join(d, name)  # noqa: E731
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
         p("ca.pem"), "-days", "2", "-subj", "/CN=So TTTT test CA")
    with open(p("san.ext"), "w", encoding="ascii") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name, cn, ext in (("server", "127.0.0.1", ["-extfile", p("san.ext")]),
                          ("client", "stc-client", [])):
        ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(name + ".key"), "-out",
             p(name + ".csr"), "-subj", "/CN=" + cn)
        ossl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
             "-CAcreateserial", "-out", p(name + ".pem"), "-days", "2", *ext)
    return p


class ClientCertificate(h.LtTestCase):
    """An https provider that requires a client certificate (mutual TLS), signed by the
    province's own CA: source.auth client_cert + ca_file, for the relay and for pulls."""

    def test_https_provider_with_client_certificate(self):
        d = tempfile.mkdtemp(prefix="lt-pki.")
        p = make_pki(d)
        port = h.free_port()
        peer = subprocess.Popen([sys.executable, os.path.join(HERE, "peers", "tls_peer.py"),
                                 str(port), p("server.pem"), p("server.key"), p("ca.pem")],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            self.assertEqual(peer.stdout.readline().strip(), "ready")
            url = "https://127.0.0.1:%d/rest" % port
            mtls = {"type": "client_cert", "cert_file": p("client.pem"),
                    "key_file": p("client.key"), "ca_file": p("ca.pem")}
            rest_service(SRV, "it-relay-mtls", url=url, auth=mtls)
            r = call(SRV, "it-relay-mtls", {})
            self.assertStatus(r, 200)
            self.assertEqual(r.json["records"][0]["unit"], "stc-client", "the client CN")
            # the same provider pulled: the run ingests the record
            make_service(SRV, "it-pull-mtls", "json", {"mode": "pull", "url": url,
                                                       "auth": mtls}, REST_MAPPING)
            run = self.assertStatus(SRV.post("/v1/services/it-pull-mtls/pull",
                                             token=SRV.admin()), 200)
            self.assertEqual((run["status"], run["accepted"]), ("ok", 1), run)
            # without the client certificate the handshake fails; without the CA the
            # provider's certificate is not trusted: both are the provider side (502)
            rest_service(SRV, "it-relay-nocert", url=url,
                         auth={"type": "none", "ca_file": p("ca.pem")})
            self.assertProblem(call(SRV, "it-relay-nocert", {}), 502, "bad_gateway")
            rest_service(SRV, "it-relay-noca", url=url,
                         auth={k: v for k, v in mtls.items() if k != "ca_file"})
            self.assertProblem(call(SRV, "it-relay-noca", {}), 502, "bad_gateway")
        finally:
            peer.terminate()
            peer.wait(timeout=10)
            peer.stdout.close()
            shutil.rmtree(d, ignore_errors=True)

def two_threads(cfg):
    cfg["threads"] = 2


class Workers(h.LtTestCase):
    """Slow providers never hold the HTTP workers (2 of them here)."""

    def test_slow_relays_block_no_worker_and_sigterm_is_prompt(self):
        srv = h.Server(config_patch=two_threads).start()
        try:
            sid = rest_service(srv, "it-relay-slow2", path="/slow", timeout_ms=8000)
            keep = rest_service(srv, "it-relay-keep")
            self.assertStatus(srv.post("/v1/services/%s/records" % keep, h.envelope(
                keep, [h.obs("CPI", "20", "2026-M01", 1.5)], provider=h.STC_ORG),
                content_type=h.EXCHANGE_JSON, token=srv.admin()), 200)
            tok = srv.admin()
            pool = concurrent.futures.ThreadPoolExecutor(9)
            slow = [pool.submit(call, srv, sid, {}, tok) for _ in range(8)]
            time.sleep(0.5)
            for _ in range(3):
                t0 = time.monotonic()
                self.assertStatus(srv.healthz(), 200)
                self.assertLess(time.monotonic() - t0, 0.5)
                t0 = time.monotonic()
                r = srv.get("/v1/services/%s/records/CPI~20~2026-M01" % keep, token=tok)
                self.assertStatus(r, 200)
                self.assertLess(time.monotonic() - t0, 0.5)
            self.assertFalse(any(f.done() for f in slow))
            for f in slow:  # the peer answers after 5 s, within timeout_ms
                self.assertStatus(f.result(timeout=15), 200)
            # SIGTERM with a slow relay in flight: answered 503 (or closed), exit 0, promptly
            inflight = pool.submit(call, srv, sid, {}, tok)
            time.sleep(0.5)
            t0 = time.monotonic()
            self.assertEqual(srv.stop(), 0)
            self.assertLess(time.monotonic() - t0, 3.0)
            try:
                r = inflight.result(timeout=10)
                self.assertProblem(r, 503, "service_unavailable")
            except (OSError, ConnectionError) as e:
                print("relay connection closed at shutdown: %r" % e)
            pool.shutdown()
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
