"""Crash safety (issue 6): SIGKILL at a random moment during concurrent ingest, 50 times.
After each restart every acknowledged record is there with its acknowledged value, a push that
got no answer is there entirely or not at all, and the audit chain verifies.

Each round pushes new keys (its own years) and new revisions of keys from earlier rounds, and
reads back only what changed since the round began (the change feed), so a round costs the
same at round 50 as at round 1.
"""

import random
import signal
import sys
import threading
import time

import lt_harness as h

CTS = "cts-chi-tieu-kte-xh"
INDICATORS = [c["code"] for c in h.load_example("codelists", "indicators.json")["codes"]]
AREAS = [c["code"] for c in h.load_example("codelists", "areas.json")["codes"]]
ROUNDS = 50
PUSHERS = 4
BATCH = 20


def records(rnd, tid, n, revision):
    """One batch: new keys of this round, or (revision) keys of round rnd-1 with new values."""
    year = 1100 + (rnd - 1 if revision else rnd) * 10 + tid
    value = rnd * 1e6 + tid * 1e4 + n * 10
    return [h.obs(INDICATORS[(tid + j) % len(INDICATORS)], AREAS[j % len(AREAS)],
                  "%04d-M%02d" % (year, n % 12 + 1), value + j + 0.5)
            for j in range(BATCH)]


def push(srv, recs):
    return srv.request("POST", "/v1/services/%s/records" % CTS,
                       json_body=h.envelope(CTS, recs), token=srv.admin(),
                       content_type=h.EXCHANGE_JSON, timeout=30)


class KillLoop(h.LtTestCase):
    def test_sigkill_fifty_times_during_concurrent_ingest(self):
        rng = random.Random(20261123)
        srv = h.Server().start()
        acked = {}  # key -> value acknowledged last (values only grow within a key)
        try:
            for rnd in range(1, ROUNDS + 1):
                began = h.rfc3339(time.time() - 1)
                state = {"unknown": [], "failures": [], "acked": 0, "keys": {}}
                lock = threading.Lock()
                stop = threading.Event()

                def pusher(tid):
                    for n in range(1000):
                        if stop.is_set():
                            return
                        recs = records(rnd, tid, n, revision=rnd > 1 and n % 3 == 0)
                        try:
                            r = push(srv, recs)
                        except (OSError, h.http.client.HTTPException):
                            with lock:
                                state["unknown"].append(recs)
                            return
                        with lock:
                            if r.status == 200 and r.json.get("rejected") == 0:
                                for x in recs:
                                    state["keys"][h.record_key(x)] = x["value"]
                                state["acked"] += 1
                            elif r.status == 200:
                                state["failures"].append(repr(r))
                            else:
                                state["unknown"].append(recs)

                threads = [threading.Thread(target=pusher, args=(t,)) for t in range(PUSHERS)]
                for t in threads:
                    t.start()
                time.sleep(rng.uniform(0.05, 0.6))
                srv.kill(signal.SIGKILL)
                stop.set()
                for t in threads:
                    t.join(60)
                self.assertFalse(state["failures"], state["failures"][:3])
                srv.start()
                changed = h.read_all(srv, CTS, params={"since": began}, limit=2000)
                # acknowledged this round: there, with that value or a later one (a batch cut
                # by the kill may have been stored after the acknowledged one)
                lost = [k for k, v in state["keys"].items()
                        if k not in changed or changed[k]["value"] < v]
                self.assertFalse(lost, "round %d: %d acknowledged records lost, e.g. %s"
                                 % (rnd, len(lost), lost[:5]))
                for recs in state["unknown"]:
                    present = [h.record_key(x) in changed and
                               changed[h.record_key(x)]["value"] == x["value"] for x in recs]
                    self.assertIn(sum(present), (0, len(recs)),
                                  "round %d: a push cut by SIGKILL is half stored (%d of %d)"
                                  % (rnd, sum(present), len(recs)))
                    if all(present):  # stored before the kill, answered too late
                        state["keys"].update({h.record_key(x): x["value"] for x in recs})
                for k, v in state["keys"].items():
                    acked[k] = max(acked.get(k, v), v)
                v = self.assertStatus(srv.get("/v1/audit/verify", token=srv.admin()), 200)
                self.assertTrue(v["valid"], "round %d: audit chain broken: %s" % (rnd, v))
                sys.stderr.write("round %d: %d pushes acknowledged, %d cut, chain %d entries\n"
                                 % (rnd, state["acked"], len(state["unknown"]), v["entries"]))
            # at the end, every acknowledged record of every round holds its latest value
            everything = h.read_all(srv, CTS, limit=5000)
            wrong = [(k, v) for k, v in acked.items()
                     if k not in everything or everything[k]["value"] != v]
            self.assertFalse(wrong, "after %d kills: %d acknowledged records lost or stale, "
                             "e.g. %s" % (ROUNDS, len(wrong), wrong[:5]))
        finally:
            srv.close()


if __name__ == "__main__":
    h.main()
