#!/usr/bin/python3
"""A small provider for tests/unit/gateway/test_gw_upstream.c (standard library only).

Binds 127.0.0.1 on a free port, prints "PORT <n>" on stdout, then serves until killed.
Endpoints:
  /ok               200 JSON
  /soap             POST; 200 XML when SOAPAction is "urn:test#Get" and the body is a
                    SOAP envelope, 500 SOAP fault otherwise
  /echo             POST; 200 echoing the body with the request's Content-Type
  /big              2 MiB with Content-Length; /big-stream the same without it
  /slow             answers after 3 s
  /trickle          announces 100 bytes, sends one per second
  /status/<code>    <code> on odd calls (per full path and query), 200 on even ones
  /always/<code>    always <code>
  /etag             200 with ETag "v1" and Last-Modified; 304 when If-None-Match is "v1"
  /basic            401 unless Basic user:secret
  /bearer           401 unless Bearer tok-123
  /redirect         302 to /ok;  /redirect-file  302 to file:///etc/passwd
"""
import base64
import http.server
import sys
import threading
import time

LOCK = threading.Lock()
CALLS = {}
BIG = 2 * 1024 * 1024
LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test's output readable
        pass

    def reply(self, code, body=b"", ctype="application/json", headers=None):
        self.send_response(code)
        if ctype and code != 304:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if code != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if code != 304:
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        body = self.read_body()
        if self.path == "/soap":
            ok = (self.headers.get("SOAPAction") == '"urn:test#Get"'
                  and b"<soap:Envelope" in body)
            if ok:
                self.reply(200, b"<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/"
                           b"envelope/'><soap:Body><r>42</r></soap:Body></soap:Envelope>",
                           "text/xml; charset=utf-8")
            else:
                self.reply(500, b"<soap:Envelope><soap:Body><soap:Fault><faultstring>"
                           b"bad SOAPAction</faultstring></soap:Fault></soap:Body>"
                           b"</soap:Envelope>", "text/xml; charset=utf-8")
        elif self.path == "/echo":
            self.reply(200, body, self.headers.get("Content-Type") or "application/octet-stream")
        else:
            self.do_GET()

    def counted(self):
        with LOCK:
            CALLS[self.path] = CALLS.get(self.path, 0) + 1
            return CALLS[self.path]

    def auth_is(self, want):
        return self.headers.get("Authorization") == want

    def do_GET(self):
        p = self.path
        if p == "/ok":
            self.reply(200, b'{"ok": true}')
        elif p == "/big":
            self.reply(200, b"b" * BIG, "text/plain")
        elif p == "/big-stream":
            self.stream_big()
        elif p == "/slow":
            time.sleep(3)
            self.reply(200, b'{"slow": true}')
        elif p == "/trickle":
            self.trickle()
        elif p.startswith("/status/"):
            code = int(p.split("/")[2].split("?")[0])
            n = self.counted()
            if n % 2 == 1:
                self.reply(code, b'{"error": "try again"}')
            else:
                self.reply(200, b'{"ok": "second"}')
        elif p.startswith("/always/"):
            self.counted()
            self.reply(int(p.split("/")[2].split("?")[0]), b'{"error": "always"}')
        elif p == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self.reply(304, headers={"ETag": '"v1"'})
            else:
                self.reply(200, b'{"v": 1}', headers={"ETag": '"v1"',
                                                      "Last-Modified": LAST_MODIFIED})
        elif p == "/basic":
            good = "Basic " + base64.b64encode(b"user:secret").decode()
            self.reply(200, b'{"who": "user"}') if self.auth_is(good) else self.reply(
                401, b'{"error": "auth"}', headers={"WWW-Authenticate": 'Basic realm="t"'})
        elif p == "/bearer":
            self.reply(200, b'{"who": "bearer"}') if self.auth_is("Bearer tok-123") else \
                self.reply(401, b'{"error": "auth"}')
        elif p == "/redirect":
            self.reply(302, b"", "text/plain", {"Location": "/ok"})
        elif p == "/redirect-file":
            self.reply(302, b"", "text/plain", {"Location": "file:///etc/passwd"})
        else:
            self.reply(404, b'{"error": "no such endpoint"}')

    def stream_big(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for _ in range(BIG // 65536):
                self.wfile.write(b"b" * 65536)
        except OSError:
            pass

    def trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100")
        self.end_headers()
        try:
            for _ in range(100):
                self.wfile.write(b"t")
                self.wfile.flush()
                time.sleep(1)
        except OSError:
            pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the parallel test connects many clients at once

    def handle_error(self, request, client_address):
        # clients that hang up early (caps, timeouts) are what the tests are about
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
