"""Hostile connections (issue 6): slow-header clients, the per-address connection cap, 5,000
idle connections, conflicting Content-Length / Transfer-Encoding, oversized headers, overlong
URLs (414) and ids with "..", "/", NUL or control characters. Raw sockets against the real
binary; clients bind distinct loopback addresses (127.x.y.z) to play distinct callers.
"""

import json
import resource
import socket
import threading
import time

import lt_harness as h

SRV = None


def connect(port, src="127.0.0.1", timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def exchange(port, data, src="127.0.0.1", timeout=5):
    """Sends data, reads to EOF: (status or None, headers text, body bytes)."""
    s = connect(port, src, timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not d:
                break
            out += d
    finally:
        s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    first = head.split(b"\r\n", 1)[0].split()
    status = int(first[1]) if len(first) > 1 and first[1].isdigit() else None
    return status, head.decode("latin-1"), body


def closed_at_once(s, within=3.0):
    """True when the server closes s (EOF or reset) within the time, without an answer."""
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


def get_line(path, token=None):
    auth = b"Authorization: Bearer " + token.encode() + b"\r\n" if token else b""
    return (b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")


class Framing(h.LtTestCase):
    def test_content_length_with_chunked_is_refused(self):
        st, head, body = exchange(SRV.port, b"POST /v1/services/x/records HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                  b"0\r\n\r\n")
        self.assertEqual(st, 400, head)
        self.assertEqual(json.loads(body)["code"], "bad_request")

    def test_two_content_lengths_are_refused(self):
        st, head, body = exchange(SRV.port, b"POST /v1/services/x/records HTTP/1.1\r\nHost: x\r\n"
                                  b"Content-Type: application/json\r\nContent-Length: 2\r\n"
                                  b"Content-Length: 4\r\nConnection: close\r\n\r\n{}{}")
        self.assertEqual(st, 400, head)

    def test_oversized_header_is_431(self):
        st, head, _ = exchange(SRV.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                               b"a" * 70000 + b"\r\nConnection: close\r\n\r\n")
        self.assertEqual(st, 431, head)
        self.assertEqual(SRV.healthz().status, 200)

    def test_overlong_url_is_414(self):
        for path in (b"/healthz?q=" + b"a" * 9000, b"/v1/services/" + b"a" * 9000):
            st, head, body = exchange(SRV.port, get_line(path, SRV.admin()))
            self.assertEqual(st, 414, head)
            p = json.loads(body)
            self.assertEqual((p["status"], p["code"]), (414, "uri_too_long"))
        # past the connection's memory libmicrohttpd refuses the request line itself
        st, _, _ = exchange(SRV.port, get_line(b"/" + b"a" * 70000))
        self.assertEqual(st, 414)
        # at the limit a query is still served
        st, _, _ = exchange(SRV.port, get_line(b"/healthz?q=" + b"a" * 8000))
        self.assertEqual(st, 200)


class Ids(h.LtTestCase):
    def test_nul_and_control_characters_are_400(self):
        tok = SRV.admin()
        for seg in (b"a%00b", b"%00", b"a%01b", b"a%0Ab", b"a%1Fb", b"a%7Fb"):
            st, head, body = exchange(SRV.port, get_line(b"/v1/services/" + seg, tok))
            self.assertEqual(st, 400, (seg, head))
            self.assertIn("control character", json.loads(body)["detail"])
        # a NUL does not cut an id short: "stc-thu-ngan-sach%00x" is not that service
        st, _, _ = exchange(SRV.port, get_line(b"/v1/services/stc-thu-ngan-sach%00x", tok))
        self.assertEqual(st, 400)

    def test_dot_dot_and_slash_name_nothing(self):
        tok = SRV.admin()
        for path in (b"/v1/services/..", b"/v1/services/%2e%2e", b"/v1/services/a%2Fb",
                     b"/v1/services/../v1/agencies", b"/v1/services/stc-thu-ngan-sach/../x"):
            st, head, body = exchange(SRV.port, get_line(path, tok))
            self.assertIn(st, (400, 404), (path, head))
            self.assertIn("code", json.loads(body))


class DotDotIds(h.LtTestCase):
    def test_ids_with_dot_dot_cannot_be_created(self):
        tok = SRV.admin()
        svc = h.load_example("services", "stc-thu-ngan-sach.json")
        svc.pop("status", None)
        for sid in ("a..b", "stc..thu", "x.."):
            r = SRV.post("/v1/services", dict(svc, id=sid), token=tok)
            self.assertProblem(r, 422, "invalid")
        r = SRV.post("/v1/systems", {"id": "he..thong", "agency": h.STC_ORG, "name": "x"},
                     token=tok)
        self.assertProblem(r, 422, "invalid")
        r = SRV.post("/v1/agencies", {"code": "000..15.H32", "name": "x"}, token=tok)
        self.assertIn(r.status, (400, 422), r)
        # one dot is an ordinary id character
        r = SRV.post("/v1/services", dict(svc, id="stc.thu-ngan-sach.v2"), token=tok)
        self.assertStatus(r, 201)


class SlowClients(h.LtTestCase):
    def test_slow_header_clients_do_not_starve_the_workers(self):
        """100 clients send their headers one byte at a time; others are answered at once."""
        socks = [connect(SRV.port, "127.0.2.1") for _ in range(100)]
        stop = threading.Event()
        line = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 200

        def trickle():
            i = 0
            while not stop.is_set() and i < len(line):
                for s in socks:
                    try:
                        s.send(line[i:i + 1])
                    except OSError:
                        pass
                i += 1
                stop.wait(0.2)
        t = threading.Thread(target=trickle)
        t.start()
        try:
            time.sleep(0.5)
            tok = SRV.admin()
            for _ in range(20):
                t0 = time.monotonic()
                self.assertStatus(SRV.get("/v1/agencies", token=tok), 200)
                self.assertLess(time.monotonic() - t0, 0.5)
        finally:
            stop.set()
            t.join()
            for s in socks:
                s.close()


def per_ip_20(cfg):
    cfg.setdefault("limits", {})["max_connections_per_ip"] = 20


class PerAddress(h.LtTestCase):
    def test_one_address_cannot_hold_more_than_its_share(self):
        srv = h.Server(config_patch=per_ip_20).start()
        held = []
        try:
            held = [connect(srv.port, "127.0.3.1") for _ in range(20)]
            time.sleep(0.3)
            extra = connect(srv.port, "127.0.3.1")
            self.assertTrue(closed_at_once(extra), "the 21st connection was kept")
            extra.close()
            # another address is served meanwhile
            st, _, _ = exchange(srv.port, get_line(b"/healthz"), src="127.0.3.2")
            self.assertEqual(st, 200)
            # when the address lets go of a connection it may open one again
            held.pop().close()
            time.sleep(0.3)
            st, _, _ = exchange(srv.port, get_line(b"/healthz"), src="127.0.3.1")
            self.assertEqual(st, 200)
        finally:
            for s in held:
                s.close()
            srv.close()


class ManyIdle(h.LtTestCase):
    def test_five_thousand_idle_connections(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 5600
        if soft < want:
            if hard != resource.RLIM_INFINITY and hard < want:
                self.fail("this test needs %d open files; the hard limit is %d" % (want, hard))
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        socks = []
        try:
            for i in range(5000):  # 200 per address, under the 256 default cap
                src = "127.0.%d.%d" % (10 + i // 200 // 250, 1 + (i // 200) % 250)
                s = connect(SRV.port, src, timeout=10)
                if i % 2:
                    s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # half a request
                socks.append(s)
            time.sleep(1.0)
            tok = SRV.admin()
            for _ in range(10):
                t0 = time.monotonic()
                self.assertStatus(SRV.get("/v1/agencies", token=tok), 200)
                self.assertLess(time.monotonic() - t0, 1.0)
            self.assertTrue(SRV.alive())
            # the idle ones still work when they finally speak
            s = socks[0]
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertTrue(s.recv(64).startswith(b"HTTP/1.1 200"))
        finally:
            for s in socks:
                s.close()
        time.sleep(0.5)
        self.assertStatus(SRV.healthz(), 200)


if __name__ == "__main__":
    h.main()
