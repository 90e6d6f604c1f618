"""lt_harness — starts the real `lienthong serve` on a free port and talks to it over HTTP.

Used by tests/integration/test_*.py (Python 3 standard library only). Environment:
  LIENTHONG_BIN     path to the lienthong binary (required)
  LIENTHONG_SOURCE  the repository root (default: two folders above this file)
  LT_KEEP_TMP=1     keep each server's temporary folder (config, keys, data, log) for debugging

A Server copies examples/lang-son into a temporary folder, writes its own config there (listen
on a free port, data_dir "data", bootstrap.dir pointing at the copy, the example's HS256 key plus
a fresh RS256 key pair made with openssl), starts `serve` with its output in serve.log, and
waits for /healthz. Every test file ends with main(), which prints `N passed, N failed`.
"""

import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

SOURCE = os.environ.get("LIENTHONG_SOURCE") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(SOURCE, "examples", "lang-son")
OPERATOR_ORG = "000.00.12.H32"  # Sở KH&CN, the platform operator
STC_ORG = "000.00.15.H32"       # Sở Tài chính, owner of stc-thu-ngan-sach
CTS_ORG = "000.00.31.H32"       # Thống kê tỉnh, owner of cts-chi-tieu-kte-xh
SYT_ORG = "000.00.20.H32"       # Sở Y tế: owns no bootstrap service
EXCHANGE_JSON = "application/vnd.lienthong.exchange+json"
STARTUP_TIMEOUT_S = 20.0


def binary():
    b = os.environ.get("LIENTHONG_BIN")
    if not b:
        raise RuntimeError("LIENTHONG_BIN is not set (path to the lienthong binary)")
    if not os.access(b, os.X_OK):
        raise RuntimeError("LIENTHONG_BIN=%s is not an executable" % b)
    return b


def example_path(*parts):
    return os.path.join(EXAMPLE, *parts)


def load_example(*parts):
    with open(example_path(*parts), encoding="utf-8") as f:
        return json.load(f)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rfc3339(t=None):
    """Whole-second RFC 3339 UTC time."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def qs(**params):
    """Query string from keyword arguments (None values dropped)."""
    items = [(k, str(v)) for k, v in params.items() if v is not None]
    return "?" + urllib.parse.urlencode(items) if items else ""


# ---------------------------------------------------------------------------------------------
# Hand-made JWTs


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def claims(sub="it-system", org=OPERATOR_ORG, roles=("admin",), ttl=3600, **override):
    now = int(time.time())
    c = {"iss": "lienthong", "aud": "lienthong", "iat": now, "exp": now + ttl, "sub": sub,
         "org": org, "roles": list(roles)}
    c.update(override)
    return {k: v for k, v in c.items() if v is not None}


def jwt_hs256(secret, payload, header=None):
    """HS256 token with any header and claims; secret is bytes."""
    h = {"alg": "HS256", "typ": "JWT", "kid": "dev"}
    h.update(header or {})
    signing = b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(secret, signing.encode("ascii"), hashlib.sha256).digest()
    return signing + "." + b64url(sig)


def jwt_none(payload, header=None):
    h = {"alg": "none", "typ": "JWT", "kid": "dev"}
    h.update(header or {})
    return b64url(json.dumps(h).encode()) + "." + b64url(json.dumps(payload).encode()) + "."


def dev_secret():
    """The example's HS256 secret, as the config loader reads it (trailing newline stripped)."""
    with open(example_path("keys", "dev.secret"), "rb") as f:
        data = f.read()
    if data.endswith(b"\r\n"):
        return data[:-2]
    if data.endswith(b"\n"):
        return data[:-1]
    return data


# ---------------------------------------------------------------------------------------------
# Responses


class Response:
    """status, headers (lower-case names), body (bytes) and json (parsed body or None).
    Unpacks as (status, headers, json-or-body)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        self.json = None
        ctype = headers.get("content-type", "")
        if body and ("json" in ctype or body[:1] in (b"{", b"[")):
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                self.json = None

    def __iter__(self):
        return iter((self.status, self.headers, self.json if self.json is not None else self.body))

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def __repr__(self):
        text = self.body[:600].decode("utf-8", "replace")
        return "<HTTP %d %s %s>" % (self.status, self.content_type, text)


class Server:
    """One `lienthong serve` process on its own temporary folder and port."""

    def __init__(self, max_body_bytes=None, config_patch=None, listen_env=False):
        self.bin = binary()
        self.tmp = tempfile.mkdtemp(prefix="lt-it-")
        self.example = os.path.join(self.tmp, "example")
        shutil.copytree(EXAMPLE, self.example)
        self.data_dir = os.path.join(self.tmp, "data")
        self.log_path = os.path.join(self.tmp, "serve.log")
        self.config_path = os.path.join(self.tmp, "lienthong.json")
        self.max_body_bytes = max_body_bytes
        self.config_patch = config_patch
        self.listen_env = listen_env
        self.proc = None
        self.expected_exit = False  # True once we stopped or killed it on purpose
        self.port = None
        self._tokens = {}
        self._make_rsa_keys()

    # -- set-up ---------------------------------------------------------------------------
    def _make_rsa_keys(self):
        keys = os.path.join(self.tmp, "keys")
        os.makedirs(keys)
        self.rsa_private = os.path.join(keys, "rsa-1.pem")
        self.rsa_public = os.path.join(keys, "rsa-1.pub.pem")
        subprocess.run(["openssl", "genrsa", "-out", self.rsa_private, "2048"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["openssl", "rsa", "-in", self.rsa_private, "-pubout", "-out",
                        self.rsa_public], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)

    def rsa_public_pem(self):
        with open(self.rsa_public, "rb") as f:
            return f.read()

    def config(self):
        """The config document this server runs with (the example's, adapted)."""
        cfg = load_example("lienthong.json")
        cfg["listen"] = "127.0.0.1:%d" % (1 if self.listen_env else self.port)
        cfg["data_dir"] = "data"
        cfg["threads"] = 4
        cfg["auth"]["keys"] = [
            {"kid": "dev", "alg": "HS256", "secret_file": "example/keys/dev.secret"},
            {"kid": "rsa-1", "alg": "RS256", "public_key_file": "keys/rsa-1.pub.pem",
             "private_key_file": "keys/rsa-1.pem"},
        ]
        if self.max_body_bytes is not None:
            cfg.setdefault("limits", {})["max_body_bytes"] = self.max_body_bytes
        cfg["bootstrap"] = {"dir": "example"}
        if self.config_patch:
            self.config_patch(cfg)
        return cfg

    def write_config(self):
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(self.config(), f, ensure_ascii=False, indent=2)

    # -- life cycle -----------------------------------------------------------------------
    def start(self):
        last = None
        for _ in range(3):
            self.port = free_port()
            self.write_config()
            env = dict(os.environ)
            if self.listen_env:
                env["LIENTHONG_LISTEN"] = "127.0.0.1:%d" % self.port
            log = open(self.log_path, "ab")
            log.write(("---- serve on port %d at %s\n" % (self.port, rfc3339())).encode())
            log.flush()
            self.proc = subprocess.Popen([self.bin, "serve", "--config", self.config_path],
                                         stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.tmp)
            log.close()
            self.expected_exit = False
            err = self._wait_healthy()
            if err is None:
                return self
            last = err
            if "in use" not in err.lower():
                break
        raise RuntimeError(last)

    def _wait_healthy(self):
        deadline = time.time() + STARTUP_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return "lienthong serve exited with %s at start:\n%s" % (
                    self.proc.returncode, self.log_tail())
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/healthz")
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    return None
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        self.kill(signal.SIGKILL)
        return "lienthong serve did not answer /healthz within %.0f s:\n%s" % (
            STARTUP_TIMEOUT_S, self.log_tail())

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        """Sends sig and waits for the process to end (SIGKILL: at once)."""
        if not self.alive():
            return self.proc.returncode if self.proc else None
        self.expected_exit = True
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def restart(self, sig=signal.SIGKILL):
        """Stops the process with sig and starts a new one on the same data dir."""
        self.kill(sig)
        self._tokens.clear()
        return self.start()

    def stop(self):
        """SIGTERM, then waits; returns the exit status (None if it was not running)."""
        if not self.alive():
            return None
        return self.kill(signal.SIGTERM)

    def close(self):
        """Stops the server and removes its folder. Raises if the process had died, or if the
        log shows a sanitizer report."""
        died = (self.proc is not None and self.proc.poll() is not None
                and not self.expected_exit)
        code = self.proc.returncode if died else None
        self.stop()
        problems = self.sanitizer_reports()
        tail = self.log_tail()
        if not os.environ.get("LT_KEEP_TMP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if died:
            raise AssertionError("lienthong serve had exited (status %s) before the end:\n%s"
                                 % (code, tail))
        if problems:
            raise AssertionError("sanitizer reports in the server log:\n%s" % tail)

    def sanitizer_reports(self):
        text = self.log_text()
        return re.findall(r"(ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:)", text)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    # -- HTTP -------------------------------------------------------------------------------
    def request(self, method, path, body=None, json_body=None, headers=None, token=None,
                content_type=None, timeout=60):
        h = {}
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            if content_type is None:
                content_type = "application/json"
        if isinstance(body, str):
            body = body.encode("utf-8")
        if content_type:
            h["Content-Type"] = content_type
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body=json_body, **kw)

    def healthz(self):
        return self.get("/healthz")

    # -- tokens -----------------------------------------------------------------------------
    def token(self, sub="it-operator", org=OPERATOR_ORG, roles="admin", ttl=3600, kid=None):
        """A token signed by `lienthong token` with a configured key."""
        key = (sub, org, roles, ttl, kid)
        if key not in self._tokens:
            p = self.cli("token", "--sub", sub, "--org", org, "--roles", roles, "--ttl",
                         str(ttl), *(["--kid", kid] if kid else []))
            if p.returncode != 0:
                raise RuntimeError("lienthong token failed (%d): %s" % (p.returncode, p.stderr))
            self._tokens[key] = p.stdout.strip()
        return self._tokens[key]

    def admin(self):
        return self.token()

    def agency(self, org, sub=None):
        return self.token(sub=sub or ("sys-" + org), org=org, roles="agency")

    def cli(self, command, *args, timeout=60):
        """Runs `lienthong COMMAND --config <this config> ARGS`; returns CompletedProcess."""
        return subprocess.run([self.bin, command, "--config", self.config_path, *args],
                              capture_output=True, text=True, timeout=timeout, cwd=self.tmp)


# ---------------------------------------------------------------------------------------------
# Domain helpers shared by the tests


def service_definition(name, new_id=None):
    """A service definition from the example (without its bootstrap status), optionally
    under a new id."""
    d = load_example("services", name + ".json")
    d.pop("status", None)
    if new_id:
        d["id"] = new_id
    return d


def create_service(srv, base, new_id, publish=True, token=None):
    """Creates a copy of an example service under new_id (and publishes it)."""
    tok = token or srv.admin()
    r = srv.post("/v1/services", service_definition(base, new_id), token=tok)
    if r.status != 201:
        raise AssertionError("creating service %s: %r" % (new_id, r))
    if publish:
        r = srv.post("/v1/services/%s/status" % new_id,
                     {"status": "published", "reason": "integration test"}, token=tok)
        if r.status != 200:
            raise AssertionError("publishing service %s: %r" % (new_id, r))
    return new_id


def stc_sample():
    return load_example("data", "stc-thu-ngan-sach-2026-10.json")


def cts_sample(service=None):
    env = load_example("data", "cts-2026-q3.json")
    if service:
        env["header"]["service"] = service
    return env


def envelope(service, records, provider=CTS_ORG, message_id=None):
    return {"header": {"message_id": message_id or ("it-" + str(time.time_ns())),
                       "service": service, "provider": provider,
                       "contract": "indicator-observation@1", "produced_at": rfc3339()},
            "records": records}


def obs(indicator, area, period, value, unit="tỷ đồng", status="ok"):
    return {"indicator": indicator, "area": area, "period": period, "value": value,
            "status": status, "unit": unit}


def record_key(rec):
    return "%s~%s~%s" % (rec["indicator"], rec["area"], rec["period"])


def read_all(srv, service, token=None, params=None, limit=500, max_pages=1000):
    """Every record of a service through limit/cursor paging: {key: record}."""
    tok = token or srv.admin()
    out = {}
    cursor = None
    for _ in range(max_pages):
        p = dict(params or {})
        p["limit"] = limit
        if cursor:
            p["cursor"] = cursor
        r = srv.get("/v1/services/%s/records%s" % (service, qs(**p)), token=tok)
        if r.status != 200:
            raise AssertionError("reading records of %s: %r" % (service, r))
        for rec in r.json["records"]:
            out[record_key(rec)] = rec
        cursor = r.json.get("next_cursor")
        if not cursor:
            return out
    raise AssertionError("paging did not end after %d pages" % max_pages)


def one_record(body):
    """The record of a one-record answer: an exchange envelope holding exactly one record."""
    if not (isinstance(body, dict) and isinstance(body.get("header"), dict)
            and isinstance(body.get("records"), list) and len(body["records"]) == 1):
        raise AssertionError("expected an exchange envelope with one record, got %r" % body)
    return body["records"][0]


def problem_text(body):
    """detail and errors of a problem document as one string (to look for a field's name)."""
    if not isinstance(body, dict):
        return ""
    return str(body.get("detail", "")) + " " + json.dumps(body.get("errors", []),
                                                          ensure_ascii=False)


class LtTestCase(unittest.TestCase):
    """Assertions for problem+json answers."""

    def assertProblem(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.content_type, "application/problem+json", r)
        self.assertIsInstance(r.json, dict, r)
        for k in ("type", "title", "status", "code"):
            self.assertIn(k, r.json, r)
        self.assertEqual(r.json["status"], status, r)
        if code is not None:
            self.assertEqual(r.json["code"], code, r)
        return r.json

    def assertStatus(self, r, status):
        self.assertEqual(r.status, status, r)
        return r.json


# ---------------------------------------------------------------------------------------------


def main():
    """Runs the calling file's tests; prints `N passed, N failed`; exits non-zero on failure."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    res = prog.result
    failed = len(res.failures) + len(res.errors) + len(res.unexpectedSuccesses)
    passed = max(0, res.testsRun - len(res.failures) - len(res.errors)
                 - len(res.unexpectedSuccesses) - len(res.skipped))
    sys.stderr.flush()
    print("%d passed, %d failed" % (passed, failed))
    sys.stdout.flush()
    sys.exit(1 if failed or res.testsRun == 0 else 0)
