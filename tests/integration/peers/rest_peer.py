"""A department's plain HTTP provider for the pull tests (Python 3 standard library only).

usage: rest_peer.py MODE PORT [FILE]
  json  serves FILE (a JSON document) as application/json with a strong ETag; answers 304 to
        a matching If-None-Match. GET /count returns how many 200 answers it gave.
  csv   serves a `;`-separated CSV export with decimal commas (text/csv), as a spreadsheet
        in a Vietnamese locale writes it.
  slow  answers every request after 5 seconds (to trip the gateway's timeout).
Each request's path and query are printed to stdout (the test reads them).
"""
import hashlib
import http.server
import sys
import time

MODE = sys.argv[1]
PORT = int(sys.argv[2])
FILE = sys.argv[3] if len(sys.argv) > 3 else None
CSV = ("\ufeffma_chi_tieu;dia_ban;ky;gia_tri\r\n"
       "THU_NSNN;LS;07/2026;1016,5\r\n"
       "THU_NSNN;LS;08/2026;987,25\r\n"
       "CHI_NSDP;LS;08/2026;1500,0\r\n").encode("utf-8")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    served = 0

    def log_message(self, fmt, *args):
        pass

    def send(self, status, ctype, body, headers=()):
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        print(self.path, flush=True)
        if self.path == "/count":
            return self.send(200, "text/plain", str(Handler.served).encode())
        if MODE == "slow":
            time.sleep(5)
            return self.send(200, "application/json", b'{"data": []}')
        if MODE == "csv":
            Handler.served += 1
            return self.send(200, "text/csv; charset=utf-8", CSV)
        with open(FILE, "rb") as f:
            body = f.read()
        etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
        if self.headers.get("If-None-Match") == etag:
            return self.send(304, None, b"", [("ETag", etag)])
        Handler.served += 1
        self.send(200, "application/json; charset=utf-8", body, [("ETag", etag)])


if __name__ == "__main__":
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    srv.daemon_threads = True
    srv.serve_forever()
