"""HTTPS in `serve` and mutual TLS (issue 6): client certificates mapped to registered systems.

Keys and certificates are made with the openssl command in a temporary folder: a CA, a server
certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1), client certificates whose CN is a
system of examples/lang-son/systems.json, one with an unknown CN, one signed by another CA, one
expired and one not valid yet (`openssl ca -startdate/-enddate`, which openssl 3.0 has), and one
made for servers only (extendedKeyUsage serverAuth). The servers are the real binary; the
clients are Python's ssl module and the curl command.

Choices checked here: with require_client_cert every request, /healthz included, needs a valid
certificate; a certificate signed by another CA completes the handshake (the server asks for a
certificate but does not refuse one at the TLS layer) and is answered 401 over HTTP, so the
caller reads why."""

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import warnings

import lt_harness as h

CTS_SYSTEM = "cts-tonghop"      # of h.CTS_ORG, which owns cts-chi-tieu-kte-xh
SYT_SYSTEM = "syt-baocao"       # of h.SYT_ORG: no grant on it
OPERATOR_SYSTEM = "skhcn-lgsp-portal"  # of h.OPERATOR_ORG
SERVICE = "cts-chi-tieu-kte-xh"

OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
default_ca = test_ca
[test_ca]
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = any_cn
unique_subject = no
[any_cn]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
subjectAltName = IP:127.0.0.1
extendedKeyUsage = serverAuth
[client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
"""

PKI = None


class Pki:
    """A CA, another CA, and the certificates the tests use, under one temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="lt-tls-pki-")
        self.cnf = self.path("openssl.cnf")
        with open(self.cnf, "w") as f:
            f.write(OPENSSL_CNF.format(dir=self.dir))
        try:
            self.make_all()
        except BaseException:
            self.close()
            raise

    def make_all(self):
        os.makedirs(self.path("newcerts"))
        open(self.path("index.txt"), "w").close()
        with open(self.path("serial"), "w") as f:
            f.write("1000\n")
        self.make_ca("ca", "lienthong test CA")
        self.make_ca("ca2", "some other CA")
        self.issue("server", "127.0.0.1", ext="server")
        self.issue(CTS_SYSTEM, CTS_SYSTEM)
        self.issue(SYT_SYSTEM, SYT_SYSTEM)
        self.issue(OPERATOR_SYSTEM, OPERATOR_SYSTEM)
        self.issue("unknown", "no-such-system")
        self.issue("other-ca", CTS_SYSTEM, ca="ca2")
        self.issue("server-only", CTS_SYSTEM, ext="server")
        self.issue_dated("expired", CTS_SYSTEM, "20200101000000Z", "20200201000000Z")
        self.issue_dated("future", CTS_SYSTEM, "20990101000000Z", "20990201000000Z")

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def crt(self, name):
        return self.path(name + ".pem")

    def key(self, name):
        return self.path(name + ".key")

    def openssl(self, *args):
        p = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError("openssl %s: %s" % (args[0], p.stderr))

    def make_ca(self, name, cn):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", self.key(name), "-out", self.crt(name), "-days", "30",
                     "-subj", "/CN=" + cn, "-config", self.cnf, "-extensions", "v3_ca")

    def request(self, name, cn):
        csr = self.path(name + ".csr")
        self.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", self.key(name), "-out", csr, "-subj", "/CN=" + cn,
                     "-config", self.cnf)
        return csr

    def issue(self, name, cn, ca="ca", ext="client"):
        csr = self.request(name, cn)
        self.openssl("x509", "-req", "-in", csr, "-CA", self.crt(ca), "-CAkey", self.key(ca),
                     "-set_serial", str(int(time.time_ns() % 10**12)), "-days", "30",
                     "-extfile", self.cnf, "-extensions", ext, "-out", self.crt(name))

    def issue_dated(self, name, cn, start, end):
        """A client certificate valid from start to end (YYYYMMDDHHMMSSZ): openssl 3.0 has no
        negative -days, but `openssl ca` takes both dates."""
        csr = self.request(name, cn)
        self.openssl("ca", "-batch", "-config", self.cnf, "-name", "test_ca", "-cert",
                     self.crt("ca"), "-keyfile", self.key("ca"), "-in", csr, "-out",
                     self.crt(name), "-startdate", start, "-enddate", end, "-extensions",
                     "client", "-notext")

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsServer(h.Server):
    """h.Server over HTTPS: the PKI files are copied beside the config (relative paths), and
    every request goes through Python's ssl module. request(..., cert=NAME) presents that
    client certificate (None: none)."""

    def __init__(self, client_ca=True, require=False, extra_tls=None):
        self.client_ca = client_ca
        self.require = require
        self.extra_tls = extra_tls or {}
        super().__init__(config_patch=self._patch_tls)
        os.makedirs(os.path.join(self.tmp, "pki"))
        for f in os.listdir(PKI.dir):
            if f.endswith((".pem", ".key")):
                shutil.copy(PKI.path(f), os.path.join(self.tmp, "pki", f))
        # the cert the harness itself uses when one is required (health checks, tokens' setup)
        self.default_cert = OPERATOR_SYSTEM if require else None

    def _patch_tls(self, cfg):
        tls = {"cert_file": "pki/server.pem", "key_file": "pki/server.key"}
        if self.client_ca:
            tls["client_ca_file"] = "pki/ca.pem"
        if self.require:
            tls["require_client_cert"] = True
        tls.update(self.extra_tls)
        cfg["tls"] = tls

    def context(self, cert=None):
        ctx = ssl.create_default_context(cafile=PKI.crt("ca"))
        if cert:
            ctx.load_cert_chain(PKI.crt(cert), PKI.key(cert))
        return ctx

    def _wait_healthy(self):
        deadline = time.time() + h.STARTUP_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return "lienthong serve exited with %s at start:\n%s" % (
                    self.proc.returncode, self.log_tail())
            try:
                if self.get("/healthz", timeout=2).status == 200:
                    return None
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        self.kill()
        return "lienthong serve did not answer /healthz over HTTPS:\n" + self.log_tail()

    def request(self, method, path, body=None, json_body=None, headers=None, token=None,
                content_type=None, timeout=60, cert="default"):
        hdrs = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            content_type = content_type or "application/json"
        if content_type:
            hdrs["Content-Type"] = content_type
        if token:
            hdrs["Authorization"] = "Bearer " + token
        cert = self.default_cert if cert == "default" else cert
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self.context(cert))
        try:
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            return h.Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def curl(self, path, *args):
        """curl over HTTPS with the test CA; (exit code, HTTP status or 0, body)."""
        p = subprocess.run(["curl", "-sS", "--max-time", "20", "--cacert", PKI.crt("ca"),
                            "-o", "-", "-w", "\n%{http_code}", *args,
                            "https://127.0.0.1:%d%s" % (self.port, path)],
                           capture_output=True, text=True)
        body, _, code = p.stdout.rpartition("\n")
        return p.returncode, int(code or 0), body

    def curl_cert(self, name):
        return ["--cert", PKI.crt(name), "--key", PKI.key(name)]


MTLS = None  # client CA configured, certificates optional


def quiet_close(thing):
    """Cleans up after a failed start without hiding the failure."""
    try:
        if thing:
            thing.close()
    except Exception:  # the start's own error is the one to report
        pass


def setUpModule():
    global PKI, MTLS
    try:
        PKI = Pki()
        MTLS = TlsServer()
        MTLS.start()
        # one record of the CTS service, pushed over HTTPS by the operator
        env = h.envelope(SERVICE, [h.obs("CPI", "20", "2026-M10", 103.2, unit="%")])
        r = MTLS.post("/v1/services/%s/records" % SERVICE, env, token=MTLS.admin(),
                      content_type=h.EXCHANGE_JSON)
        if r.status != 200:
            raise AssertionError("push over HTTPS: %r" % r)
    except BaseException:  # unittest skips tearDownModule when setUpModule fails
        quiet_close(MTLS)
        quiet_close(PKI)
        raise


def tearDownModule():
    try:
        if MTLS:
            MTLS.close()
    finally:
        if PKI:
            PKI.close()


RECORDS = "/v1/services/%s/records" % SERVICE


class Https(h.LtTestCase):
    def test_healthz_with_curl(self):
        rc, status, body = MTLS.curl("/healthz")
        self.assertEqual((rc, status), (0, 200), body)
        self.assertEqual(json.loads(body)["status"], "ok")

    def test_server_certificate_names_127_0_0_1(self):
        ctx = MTLS.context()  # verifies the chain and the IP subjectAltName
        with socket.create_connection(("127.0.0.1", MTLS.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                self.assertIn(s.version(), ("TLSv1.2", "TLSv1.3"))
                self.assertEqual(dict(x[0] for x in s.getpeercert()["subject"])["commonName"],
                                 "127.0.0.1")

    def test_old_protocols_refused(self):
        """A client offering only TLS 1.0/1.1 (allowed on its side by @SECLEVEL=0) is refused
        by the server: the server ends the handshake, the client does not give up first."""
        ctx = MTLS.context()
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        with socket.create_connection(("127.0.0.1", MTLS.port), timeout=10) as raw:
            with self.assertRaises((ssl.SSLError, OSError)) as cm:
                ctx.wrap_socket(raw, server_hostname="127.0.0.1").close()
        self.assertNotIn("NO_CIPHERS_AVAILABLE", str(cm.exception))
        self.assertNotIn("NO_PROTOCOLS_AVAILABLE", str(cm.exception))
        self.assertStatus(MTLS.get("/healthz"), 200)

    def test_plain_http_to_tls_port_fails_cleanly(self):
        c = http.client.HTTPConnection("127.0.0.1", MTLS.port, timeout=10)
        with self.assertRaises((OSError, http.client.HTTPException)):
            c.request("GET", "/healthz")
            c.getresponse().read()
        c.close()
        p = subprocess.run(["curl", "-sS", "--max-time", "10",
                            "http://127.0.0.1:%d/healthz" % MTLS.port],
                           capture_output=True, text=True)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertEqual(p.stdout, "")
        self.assertTrue(MTLS.alive())
        self.assertStatus(MTLS.get("/healthz"), 200)

    def test_token_over_https_without_certificate(self):
        r = MTLS.get(RECORDS, token=MTLS.agency(h.CTS_ORG, sub=CTS_SYSTEM), cert=None)
        self.assertEqual(len(self.assertStatus(r, 200)["records"]), 1)
        r = MTLS.get(RECORDS, cert=None)
        body = self.assertProblem(r, 401, "unauthorized")
        self.assertIn("client certificate", body["detail"])


class ClientCertificates(h.LtTestCase):
    def test_owner_system_reads_with_certificate_only(self):
        r = MTLS.get(RECORDS, cert=CTS_SYSTEM)
        recs = self.assertStatus(r, 200)["records"]
        self.assertEqual([x["indicator"] for x in recs], ["CPI"])

    def test_owner_system_reads_with_curl(self):
        rc, status, body = MTLS.curl(RECORDS, *MTLS.curl_cert(CTS_SYSTEM))
        self.assertEqual((rc, status), (0, 200), body)
        self.assertEqual(len(json.loads(body)["records"]), 1)

    def test_other_agency_without_grant_is_403(self):
        self.assertProblem(MTLS.get(RECORDS, cert=SYT_SYSTEM), 403, "forbidden")
        rc, status, body = MTLS.curl(RECORDS, *MTLS.curl_cert(SYT_SYSTEM))
        self.assertEqual((rc, status), (0, 403), body)

    def test_certificate_role_is_agency(self):
        body = self.assertProblem(MTLS.get("/v1/audit", cert=OPERATOR_SYSTEM), 403, "forbidden")
        self.assertIn("client certificate", body["detail"])

    def test_token_and_matching_certificate(self):
        tok = MTLS.agency(h.CTS_ORG, sub=CTS_SYSTEM)
        self.assertStatus(MTLS.get(RECORDS, token=tok, cert=CTS_SYSTEM), 200)

    def test_token_and_mismatching_certificate(self):
        tok = MTLS.agency(h.CTS_ORG, sub=CTS_SYSTEM)
        body = self.assertProblem(MTLS.get(RECORDS, token=tok, cert=SYT_SYSTEM), 403,
                                  "forbidden")
        self.assertEqual(body["detail"], "the token's system is not the client certificate's "
                         "system")

    def test_admin_token_with_certificate_follows_the_same_rule(self):
        admin = MTLS.admin()  # sub it-operator
        self.assertProblem(MTLS.get("/v1/audit?limit=1", token=admin, cert=CTS_SYSTEM), 403,
                           "forbidden")
        same = MTLS.token(sub=OPERATOR_SYSTEM, org=h.OPERATOR_ORG, roles="admin")
        self.assertStatus(MTLS.get("/v1/audit?limit=1", token=same, cert=OPERATOR_SYSTEM), 200)

    def test_bad_token_with_good_certificate_is_still_401(self):
        r = MTLS.get(RECORDS, token="not.a.token", cert=CTS_SYSTEM)
        self.assertProblem(r, 401, "unauthorized")

    def test_refused_certificates_are_401(self):
        cases = [
            ("unknown", "not a registered system"),
            ("other-ca", "not signed by a CA of tls.client_ca_file"),
            ("expired", "has expired"),
            ("future", "not valid yet"),
            ("server-only", "not for TLS client authentication"),
        ]
        for name, why in cases:
            with self.subTest(cert=name):
                r = MTLS.get(RECORDS, cert=name)
                body = self.assertProblem(r, 401, "unauthorized")
                self.assertIn(why, body["detail"])
                self.assertNotIn("BEGIN", r.body.decode())
                # a token does not rescue a refused certificate
                tok = MTLS.agency(h.CTS_ORG, sub=CTS_SYSTEM)
                self.assertProblem(MTLS.get(RECORDS, token=tok, cert=name), 401)
        rc, status, body = MTLS.curl(RECORDS, *MTLS.curl_cert("other-ca"))
        self.assertEqual((rc, status), (0, 401), body)
        self.assertIn("not signed by", body)

    def test_public_routes_ignore_certificates_when_not_required(self):
        self.assertStatus(MTLS.get("/healthz", cert="expired"), 200)
        self.assertStatus(MTLS.get("/healthz", cert=None), 200)

    def test_audit_names_the_certificates_system(self):
        rid = "it-tls-audit-%d" % time.time_ns()
        self.assertStatus(MTLS.get(RECORDS, cert=CTS_SYSTEM, headers={"X-Request-Id": rid}), 200)
        entry = None
        deadline = time.time() + 10
        while entry is None and time.time() < deadline:
            r = MTLS.get("/v1/audit?limit=10000", token=MTLS.admin())
            found = [e for e in self.assertStatus(r, 200)["items"] if e["request_id"] == rid]
            entry = found[0] if found else None
            time.sleep(0.1)
        self.assertIsNotNone(entry, "no audit entry for %s" % rid)
        self.assertEqual(entry["system"], CTS_SYSTEM)
        self.assertEqual(entry["org"], h.CTS_ORG)
        self.assertEqual(entry["service"], SERVICE)
        self.assertEqual(entry["status"], 200)
        self.assertEqual(entry["records"], 1)


class RequiredCertificates(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = TlsServer(require=True)
        try:
            cls.srv.start()
        except BaseException:
            quiet_close(cls.srv)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_no_certificate_is_401_everywhere(self):
        for path in ("/healthz", "/metrics", RECORDS, "/no/such/path"):
            with self.subTest(path=path):
                body = self.assertProblem(self.srv.get(path, cert=None), 401, "unauthorized")
                self.assertEqual(body["detail"], "a client certificate is required")
        tok = self.srv.admin()
        self.assertProblem(self.srv.get(RECORDS, token=tok, cert=None), 401, "unauthorized")
        rc, status, body = self.srv.curl("/healthz")
        self.assertEqual((rc, status), (0, 401), body)

    def test_a_request_refused_for_its_certificate_is_audited(self):
        """Every exchange leaves an entry (issue 6), refused ones too."""
        rid = "tls-refused-%d" % time.time_ns()
        r = self.srv.get(RECORDS, cert=None, headers={"X-Request-Id": rid})
        self.assertProblem(r, 401, "unauthorized")
        tok = self.srv.token(sub=OPERATOR_SYSTEM, org=h.OPERATOR_ORG, roles="admin")
        deadline = time.time() + 10
        found = []
        while not found and time.time() < deadline:
            items = self.srv.get("/v1/audit?limit=10000", token=tok).json
            found = [e for e in items["items"] if e.get("request_id") == rid]
            time.sleep(0.05)
        self.assertEqual(len(found), 1, "no audit entry for the refused request")
        self.assertEqual((found[0]["status"], found[0]["operation"]), (401, "records.list"))

    def test_refused_certificate_is_401_on_public_routes_too(self):
        body = self.assertProblem(self.srv.get("/healthz", cert="expired"), 401)
        self.assertIn("has expired", body["detail"])
        self.assertProblem(self.srv.get("/healthz", cert="unknown"), 401)

    def test_valid_certificate_passes(self):
        self.assertStatus(self.srv.get("/healthz", cert=SYT_SYSTEM), 200)
        self.assertStatus(self.srv.get(RECORDS, cert=CTS_SYSTEM), 200)
        rc, status, body = self.srv.curl("/healthz", *self.srv.curl_cert(CTS_SYSTEM))
        self.assertEqual((rc, status), (0, 200), body)
        tok = self.srv.admin()
        self.assertStatus(self.srv.get("/v1/audit?limit=1", token=tok, cert=None), 401)


class HttpsWithoutClientCa(h.LtTestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = TlsServer(client_ca=False)
        try:
            cls.srv.start()
        except BaseException:
            quiet_close(cls.srv)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def test_tokens_only(self):
        # no client certificate is asked for, so one offered is not sent and names nobody
        body = self.assertProblem(self.srv.get(RECORDS, cert=CTS_SYSTEM), 401, "unauthorized")
        self.assertNotIn("client certificate", body["detail"])
        tok = self.srv.agency(h.CTS_ORG, sub=CTS_SYSTEM)
        self.assertStatus(self.srv.get(RECORDS, token=tok, cert=SYT_SYSTEM), 200)
        rc, status, _ = self.srv.curl("/healthz")
        self.assertEqual((rc, status), (0, 200))


class Config(h.LtTestCase):
    """check-config and serve with bad tls settings: FILE:LINE:COL messages naming the key."""

    def check(self, tls, want, line_of=None):
        cfg = MTLS.config()
        cfg["tls"] = tls
        path = os.path.join(MTLS.tmp, "tls-bad-%d.json" % time.time_ns())
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f, ensure_ascii=False, indent=2)
        p = subprocess.run([h.binary(), "check-config", "--config", path],
                           capture_output=True, text=True, cwd=MTLS.tmp)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out)
        self.assertNotIn("ok", p.stdout)
        self.assertIn(want, out)
        if line_of:
            with open(path, encoding="utf-8") as f:
                line = next(i for i, t in enumerate(f, 1) if '"%s"' % line_of in t)
            self.assertRegex(out, r"%s:%d:\d+: " % (os.path.basename(path), line))
        return out

    def test_good_tls_config(self):
        p = subprocess.run([h.binary(), "check-config", "--config", MTLS.config_path],
                           capture_output=True, text=True, cwd=MTLS.tmp)
        self.assertEqual((p.returncode, p.stdout.strip()), (0, "ok"), p.stderr)

    def test_file_errors(self):
        good = {"cert_file": "pki/server.pem", "key_file": "pki/server.key"}
        self.check(dict(good, cert_file="pki/missing.pem"), "'tls.cert_file': cannot read",
                   "cert_file")
        self.check(dict(good, key_file="pki"), "not a regular file", "key_file")
        self.check(dict(good, client_ca_file="pki/missing-ca.pem"),
                   "'tls.client_ca_file': cannot read", "client_ca_file")
        self.check(dict(good, cert_file="pki/server.key"), "is not a PEM certificate",
                   "cert_file")
        self.check(dict(good, key_file="pki/server.pem"), "is not an unencrypted PEM private key",
                   "key_file")
        self.check(dict(good, cert_file=""), "must not be empty", "cert_file")

    def test_structure_errors(self):
        good = {"cert_file": "pki/server.pem", "key_file": "pki/server.key"}
        self.check(dict(good, ciphers="ALL"), "unknown key 'ciphers' in tls", "ciphers")
        self.check({"cert_file": "pki/server.pem"}, "'tls.cert_file' and 'tls.key_file' are "
                   "required", "tls")
        self.check(dict(good, require_client_cert=True), "needs 'tls.client_ca_file'",
                   "require_client_cert")
        self.check(dict(good, require_client_cert="yes"), "must be true or false",
                   "require_client_cert")
        out = self.check("on", "'tls' must be an object", "tls")
        self.assertNotIn("\n\n", out)

    def test_key_of_another_certificate(self):
        tls = {"cert_file": "pki/server.pem", "key_file": "pki/%s.key" % CTS_SYSTEM}
        self.check(tls, "tls.key_file is not the private key of the certificate in "
                   "tls.cert_file")
        # serve refuses to start with the same message
        cfg = MTLS.config()
        cfg["tls"] = tls
        cfg["data_dir"] = "data-bad-key"
        path = os.path.join(MTLS.tmp, "tls-bad-serve.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        p = subprocess.run([h.binary(), "serve", "--config", path], capture_output=True,
                           text=True, cwd=MTLS.tmp, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("is not the private key", p.stderr)


if __name__ == "__main__":
    h.main()
