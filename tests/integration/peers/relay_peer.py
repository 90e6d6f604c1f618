"""relay_peer — the provider side of tests/integration/test_relay.py (standard library only).

Run as `python3 relay_peer.py PORT [IDLE_CLOSE_S]`; prints "ready" once listening. With
IDLE_CLOSE_S, a kept-alive connection idle that long is closed by the peer (as providers'
servers do). Paths:
  GET  /rest?ky=..&tag=..   JSON {"items": [...]}: one record per ky, the `tag` query parameter
                            echoed into each record's unit (checks URL template filling)
  POST /soap                SOAP 1.1 answer; the request body and SOAPAction are kept
  GET  /_last               {"body": last /soap body, "soap_action": its SOAPAction header}
  POST /fault, GET /fault   a SOAP Fault (HTTP 500) with faultstring "CSDL dang bao tri"
  GET  /html500, POST ...   an HTML error page with status 500
  any  /slow                answers (valid JSON) after 5 s
"""

import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
LAST = {"body": None, "soap_action": None}
LOCK = threading.Lock()


def soap_answer(unit):
    rows = "".join("<t:KhoanThu><t:MaDonVi>LS</t:MaDonVi><t:Ky>%s</t:Ky>"
                   "<t:SoTien>%d</t:SoTien><t:DonVi>%s</t:DonVi></t:KhoanThu>"
                   % (ky, 1000 * (i + 1), unit) for i, ky in enumerate(("01/2026", "02/2026")))
    return ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="%s"><soap:Body>'
            '<t:DanhSach xmlns:t="urn:stc:thu">%s</t:DanhSach></soap:Body></soap:Envelope>'
            % (SOAP_NS, rows)).encode()


FAULT = ('<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="%s"><soap:Body>'
         "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>CSDL dang bao tri"
         "</faultstring></soap:Fault></soap:Body></soap:Envelope>" % SOAP_NS).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype):
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the gateway gave up waiting (timeout tests)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        data = self.body()
        if url.path == "/rest":
            kys = q.get("ky", "2026-M01").split(",")
            items = [{"chi_tieu": q.get("ind", "CPI"), "dia_ban": "20", "ky": k, "gia_tri": 10.5 + i,
                      "don_vi": q.get("tag", ""), "nguoi_bao_cao": "Nguyen Van A"}
                     for i, k in enumerate(kys)]
            self.send(200, json.dumps({"items": items}).encode(), "application/json")
        elif url.path == "/soap":
            with LOCK:
                LAST["body"] = data.decode("utf-8", "replace")
                LAST["soap_action"] = self.headers.get("SOAPAction")
            self.send(200, soap_answer("ty dong"), "text/xml; charset=utf-8")
        elif url.path == "/_last":
            with LOCK:
                self.send(200, json.dumps(LAST).encode(), "application/json")
        elif url.path == "/fault":
            self.send(500, FAULT, "text/xml; charset=utf-8")
        elif url.path == "/html500":
            self.send(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>",
                      "text/html")
        elif url.path == "/slow":
            time.sleep(5)
            self.send(200, b'{"items": []}', "application/json")
        else:
            self.send(404, b"{}", "application/json")

    do_GET = route
    do_POST = route


def main():
    if len(sys.argv) > 2:  # the socket timeout ends an idle kept-alive connection
        Handler.timeout = float(sys.argv[2])
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
