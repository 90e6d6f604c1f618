"""lt_harness — starts the real `lienthong serve` on a free port and talks to it over HTTP.

Used by tests/integration/test_*.py (Python 3 standard library only). Environment:
  LIENTHONG_BIN     path to the lienthong binary (required)
  LIENTHONG_SOURCE  the repository root (default: two folders above this file)
  LT_KEEP_TMP=1     keep each server's temporary folder (config, keys, data, log) for debugging

A Server copies examples/lang-son into a temporary folder, writes its own config there (listen
on a free port, data_dir "data", bootstrap.dir pointing at the copy, the example's HS256 key plus
a fresh RS256 key pair made with openssl), starts `serve` with its output in serve.log, and
waits for /healthz. Every test file ends with main(), which prints `N passed, N failed`.

Agency callers: the `sub` of an `agency` token must be a registered system of its `org` (API.md
§5, issue 3). Server.agency(org, sub) uses the org's first system of examples/lang-son/
systems.json when no sub is given, and registers any other sub through POST /v1/systems (as the
operator) before minting its token.
"""

import base64
import calendar
import datetime
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


def bootstrap_systems():
    """The systems of examples/lang-son/systems.json as a list of documents ([] without it)."""
    path = example_path("systems.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if isinstance(doc, dict):
        doc = doc.get("items") or doc.get("systems") or []
    return [d for d in doc if isinstance(d, dict) and "id" in d and "agency" in d]


def default_system(org):
    """The system id used for an org's agency tokens: its first bootstrap system, else a
    harness-made id (registered through the API on first use)."""
    for d in bootstrap_systems():
        if d["agency"] == org:
            return d["id"]
    return "sys-" + org.lower()


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
        self._systems = set()  # (org, sub) known to be registered
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

    def agency(self, org, sub=None, roles="agency"):
        """A token of an agency's system; the system is registered first when needed."""
        sub = sub or default_system(org)
        self.ensure_system(org, sub)
        return self.token(sub=sub, org=org, roles=roles)

    def ensure_system(self, org, sub, name=None):
        """Registers system sub of agency org through POST /v1/systems (as the operator) unless
        the bootstrap or an earlier call did. A gateway without the systems endpoint (404)
        needs no registration."""
        if (org, sub) in self._systems:
            return
        if any(d["id"] == sub and d["agency"] == org for d in bootstrap_systems()):
            self._systems.add((org, sub))
            return
        r = self.post("/v1/systems", {"id": sub, "agency": org,
                                      "name": name or ("Hệ thống " + sub)}, token=self.admin())
        if r.status == 409:
            g = self.get("/v1/systems/" + urllib.parse.quote(sub, safe=""), token=self.admin())
            if g.status != 200 or not isinstance(g.json, dict) or g.json.get("agency") != org:
                raise AssertionError("system %s exists but not for agency %s: %r" % (sub, org, g))
        elif r.status not in (201, 404):
            raise AssertionError("registering system %s of %s: %r" % (sub, org, r))
        self._systems.add((org, sub))

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


# ---------------------------------------------------------------------------------------------
# Sharing (API.md §6): requests, agreements, grants and the working-day calendar

AGREEMENT_ITEMS = ("parties", "data", "place", "duration", "method", "processing", "conditions",
                   "protection", "security", "storage", "deletion", "other")
CONTRACT_FIELDS = ("indicator", "area", "period", "value", "status", "unit", "reporter")
VN_OFFSET_S = 7 * 3600  # Vietnam time, UTC+7, no daylight saving


def agreement(**override):
    """A complete 12-item agreement of Decree 47/2020 Art. 38."""
    a = {"parties": ("Thống kê tỉnh Lạng Sơn (bên cung cấp) và "
                     "Sở Y tế tỉnh Lạng Sơn (bên khai thác)"),
         "data": "Chỉ tiêu kinh tế - xã hội chủ yếu: mã chỉ tiêu, địa bàn, kỳ, giá trị",
         "place": "Trung tâm dữ liệu Sở Y tế, 12 Lê Lợi, TP. Lạng Sơn",
         "duration": "Từ ngày ký đến hết 31/12/2027",
         "method": "Khai thác qua nền tảng LGSP tỉnh (lienthong), REST/JSON",
         "processing": "Chỉ dùng để lập báo cáo y tế định kỳ; không chuyển cho bên thứ ba",
         "conditions": "Tối đa 1.000 lượt truy vấn mỗi ngày",
         "protection": "Không công bố số liệu chưa chính thức",
         "security": "Tài khoản định danh, xác thực bằng JWT; nhật ký truy cập",
         "storage": "Lưu tối đa 24 tháng, kể cả dữ liệu dẫn xuất",
         "deletion": "Xóa trong 30 ngày sau khi hết hạn thỏa thuận",
         "other": "Hai bên thông báo cho nhau khi có sự cố trong 1 ngày làm việc"}
    a.update(override)
    return {k: v for k, v in a.items() if v is not None}


def request_body(system, fields=("indicator", "area", "period", "value"), days=180, **extra):
    """A default-sharing request (Art. 35.2 fields), valid for `days` days."""
    b = {"system": system, "purpose": "Báo cáo tình hình kinh tế - xã hội phục vụ ngành y tế",
         "usage": "Tổng hợp số liệu cho báo cáo tháng của Sở", "fields": list(fields),
         "record_estimate": 500, "frequency": "monthly",
         "valid_until": rfc3339(time.time() + days * 86400)}
    b.update(extra)
    return {k: v for k, v in b.items() if v is not None}


def grant_body(org, system, service, fields=("indicator", "area", "period", "value"),
               valid_until=None, quota_per_day=0):
    return {"org": org, "system": system, "service": service, "fields": list(fields),
            "valid_until": valid_until or rfc3339(time.time() + 180 * 86400),
            "quota_per_day": quota_per_day}


def sharing_service(srv, new_id, base="cts-chi-tieu-kte-xh", sharing="default",
                    auto_approve=False, agency=None):
    """A published copy of an example service with its own sharing mode and auto_approve."""
    d = service_definition(base, new_id)
    d["sharing"] = sharing
    d["auto_approve"] = auto_approve
    if agency:
        d["agency"] = agency
    tok = srv.admin()
    r = srv.post("/v1/services", d, token=tok)
    if r.status != 201:
        raise AssertionError("creating service %s: %r" % (new_id, r))
    r = srv.post("/v1/services/%s/status" % new_id,
                 {"status": "published", "reason": "integration test"}, token=tok)
    if r.status != 200:
        raise AssertionError("publishing service %s: %r" % (new_id, r))
    return new_id


def list_all(srv, path, token, max_pages=200):
    """Every item of a {items, next_cursor} list, following the cursor."""
    items = []
    sep = "&" if "?" in path else "?"
    url = path
    for _ in range(max_pages):
        r = srv.get(url, token=token)
        if r.status != 200:
            raise AssertionError("GET %s: %r" % (url, r))
        items += r.json["items"]
        cur = r.json.get("next_cursor")
        if not cur:
            return items
        url = path + sep + urllib.parse.urlencode({"cursor": cur})
    raise AssertionError("paging of %s did not end" % path)


def parse_time(text):
    """Seconds since the epoch of an RFC 3339 time (fractions and offsets allowed)."""
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)$",
                 text or "")
    if not m:
        raise AssertionError("not an RFC 3339 time: %r" % (text,))
    y, mo, d, hh, mi, ss = (int(m.group(i)) for i in range(1, 7))
    t = calendar.timegm((y, mo, d, hh, mi, ss, 0, 0, 0)) + float(m.group(7) or 0)
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        t -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60)
    return t


def working_days_after(start_s, n, holidays):
    """End (23:59:59.999999 Vietnam time, as epoch seconds) of the n-th working day after the
    Vietnam day of start_s; weekends and holidays ("YYYY-MM-DD") are not working days."""
    hol = set(holidays)
    day = datetime.datetime.fromtimestamp(start_s + VN_OFFSET_S, datetime.timezone.utc).date()
    while n > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day.isoformat() not in hol:
            n -= 1
    end_vn = calendar.timegm((day.year, day.month, day.day, 23, 59, 59, 0, 0, 0))
    return end_vn - VN_OFFSET_S + 0.999999


def seconds_to_vn_midnight(now_s=None):
    """Seconds from now until the next Vietnam midnight."""
    now_s = time.time() if now_s is None else now_s
    vn = now_s + VN_OFFSET_S
    return 86400 - (vn % 86400)


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
