"""tls_peer — an https provider that requires a client certificate (standard library only).

Run as `python3 tls_peer.py PORT CERT KEY CA`; prints "ready" once listening. Every GET
answers JSON {"items": [one record]} whose `don_vi` is the common name of the client
certificate the gateway presented, so a test sees which certificate was sent. A client
without a certificate signed by CA fails the TLS handshake.
"""

import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        cert = self.connection.getpeercert() or {}
        cn = ""
        for rdn in cert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    cn = value
        body = json.dumps({"items": [{"chi_tieu": "CPI", "dia_ban": "20", "ky": "2026-M01",
                                      "gia_tri": 101.5, "don_vi": cn,
                                      "nguoi_bao_cao": "Nguyen Van A"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    port, cert, key, ca = sys.argv[1:5]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.load_verify_locations(ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    srv = ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    srv.daemon_threads = True
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
