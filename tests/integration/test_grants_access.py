"""Grants guard the data paths (API.md §6, §8; issue 3): GET /v1/services/{id}/records and
/records/{key} for a grant holder return only the granted fields and list the others in
"restricted_fields" (TT 13/2017 Art. 8.2); no grant, another system of the same org, an
expired, suspended or revoked grant → 403; a filter on a field outside the grant → 403; the
daily quota → 429 with Retry-After; suspend/resume/revoke and amendments act on the next
request; a suspended service → 503; a maintenance window must be announced 7 working days
ahead (Decree 47/2020 Art. 43).

Each test works on its own copy of the statistics service with its own data and systems."""

import threading
import time

import lt_harness as h

SRV = None
PROVIDER = h.CTS_ORG
CONSUMER = h.SYT_ORG
STRANGER = h.STC_ORG
IOC_ORG = "000.00.00.H32"
FIELDS = ["indicator", "area", "period", "value"]
RECORDS = [
    dict(h.obs("T0501", "20", "2026-Q3", 13254.5), reporter="Hoàng Thị Mai"),
    dict(h.obs("CPI", "20", "2026-M07", 103.25, unit="%"), reporter="Hoàng Thị Mai"),
    dict(h.obs("CPI", "20", "2026-M08", 103.5, unit="%"), reporter="Lăng Văn Quý"),
    dict(h.obs("CPI", "12", "2026-M08", 102.9, unit="%"), reporter="Lăng Văn Quý"),
    dict(h.obs("POP", "20", "2026", 812345, unit="người"), reporter="Lăng Văn Quý"),
    dict(h.obs("IIP", "05977", "2026-M08", None, unit="%", status="no_data"),
         reporter="Hoàng Thị Mai"),
]
ONE_KEY = "CPI~20~2026-M08"


def setUpModule():
    global SRV
    SRV = h.Server().start()


def tearDownModule():
    if SRV:
        SRV.close()


_n = [0]


def uid(prefix):
    _n[0] += 1
    return "%s-%d" % (prefix, _n[0])


def new_system(org, prefix="it-app", roles="agency"):
    sub = uid(prefix)
    r = SRV.post("/v1/systems", {"id": sub, "agency": org, "name": "Ứng dụng " + sub},
                 token=SRV.admin())
    assert r.status == 201, r
    if roles == "agency":
        return sub, SRV.agency(org, sub)
    return sub, SRV.token(sub=sub, org=org, roles=roles)


def data_service(prefix="it-acc", **kw):
    """A published copy of the statistics service holding RECORDS."""
    sid = h.sharing_service(SRV, uid(prefix), **kw)
    r = SRV.post("/v1/services/%s/records" % sid, h.envelope(sid, RECORDS), token=SRV.admin(),
                 content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["accepted"] == len(RECORDS), r
    return sid


def grant(sid, org, system, fields=FIELDS, **kw):
    r = SRV.post("/v1/grants", h.grant_body(org, system, sid, fields=fields, **kw),
                 token=SRV.admin())
    assert r.status == 201, r
    return r.json["id"]


def records(sid, token, **params):
    return SRV.get("/v1/services/%s/records%s" % (sid, h.qs(**params)), token=token)


def record(sid, key, token):
    return SRV.get("/v1/services/%s/records/%s" % (sid, key), token=token)


def grant_action(gid, action, token=None, reason="Kiểm thử"):
    r = SRV.post("/v1/grants/%s/%s" % (gid, action), {"reason": reason},
                 token=token or SRV.agency(PROVIDER))
    return r


def by_key(recs):
    return {h.record_key(r): r for r in recs}


class Holder:
    """A consumer system of CONSUMER with an operator grant on a fresh data service."""

    def __init__(self, fields=FIELDS, org=CONSUMER, **kw):
        self.sid = data_service()
        self.system, self.token = new_system(org)
        self.gid = grant(self.sid, org, self.system, fields=fields, **kw)


class Projection(h.LtTestCase):
    def test_records_hold_only_granted_fields(self):
        c = Holder()
        full = self.assertStatus(records(c.sid, SRV.admin()), 200)
        self.assertEqual(full["restricted_fields"], [])
        self.assertEqual(len(full["records"]), len(RECORDS))
        env = self.assertStatus(records(c.sid, c.token), 200)
        self.assertEqual(env["header"]["service"], c.sid)
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status", "unit"])
        self.assertEqual(len(env["restricted_fields"]), 3)
        admin_recs = by_key(full["records"])
        got = by_key(env["records"])
        self.assertEqual(set(got), set(admin_recs))
        for k, rec in got.items():
            self.assertEqual(set(rec), set(admin_recs[k]) & set(FIELDS), rec)
            for f in rec:
                self.assertEqual(rec[f], admin_recs[k][f], (k, f))
        text = str(env)
        self.assertNotIn("Hoàng Thị Mai", text)
        self.assertNotIn("Lăng Văn Quý", text)

    def test_one_record_projected(self):
        c = Holder(fields=["indicator", "area", "period", "value", "unit"])
        env = self.assertStatus(record(c.sid, ONE_KEY, c.token), 200)
        rec = h.one_record(env)
        self.assertEqual(rec, {"indicator": "CPI", "area": "20", "period": "2026-M08",
                               "value": 103.5, "unit": "%"})
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status"])
        full = h.one_record(self.assertStatus(record(c.sid, ONE_KEY, SRV.admin()), 200))
        self.assertEqual(full["reporter"], "Lăng Văn Quý")

    def test_owner_and_admin_see_everything(self):
        c = Holder()
        for tok in (SRV.agency(PROVIDER), SRV.admin()):
            env = self.assertStatus(records(c.sid, tok), 200)
            self.assertEqual(env["restricted_fields"], [])
            recs = by_key(env["records"])
            self.assertEqual(recs[ONE_KEY]["reporter"], "Lăng Văn Quý")
            self.assertEqual(recs[ONE_KEY]["unit"], "%")

    def test_filters_on_granted_fields(self):
        c = Holder()
        env = self.assertStatus(records(c.sid, c.token, area="20", indicator="CPI"), 200)
        self.assertEqual(sorted(h.record_key(r) for r in env["records"]),
                         ["CPI~20~2026-M07", "CPI~20~2026-M08"])
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status", "unit"])

    def test_filter_on_a_restricted_field_403(self):
        c = Holder()
        for params in ({"unit": "%"}, {"status": "no_data"}, {"reporter": "Hoàng Thị Mai"},
                       {"area": "20", "unit": "%"}):
            with self.subTest(params=params):
                body = self.assertProblem(records(c.sid, c.token, **params), 403, "forbidden")
                field = [k for k in params if k not in FIELDS][0]
                self.assertIn(field, h.problem_text(body))
        # the same filter is fine for the owner
        env = self.assertStatus(records(c.sid, SRV.agency(PROVIDER), unit="%"), 200)
        self.assertEqual(len(env["records"]), 4)

    def test_ioc_reads_with_an_operator_grant(self):
        sid = data_service()
        sub, tok = new_system(IOC_ORG, "it-ioc", roles="ioc")
        grant(sid, IOC_ORG, sub, fields=["indicator", "area", "period", "value", "unit",
                                         "status"])
        env = self.assertStatus(records(sid, tok), 200)
        self.assertEqual(env["restricted_fields"], ["reporter"])
        self.assertEqual(len(env["records"]), len(RECORDS))
        # a national system without a grant gets nothing
        _, ntok = new_system(IOC_ORG, "it-national", roles="national")
        self.assertProblem(records(sid, ntok), 403, "forbidden")


class Denied(h.LtTestCase):
    def test_no_grant_403(self):
        sid = data_service()
        _, tok = new_system(STRANGER)
        self.assertProblem(records(sid, tok), 403, "forbidden")
        self.assertProblem(record(sid, ONE_KEY, tok), 403, "forbidden")

    def test_grant_is_for_one_system_of_the_org(self):
        c = Holder()
        _, other = new_system(CONSUMER)
        self.assertStatus(records(c.sid, c.token), 200)
        self.assertProblem(records(c.sid, other), 403, "forbidden")
        self.assertProblem(record(c.sid, ONE_KEY, other), 403, "forbidden")

    def test_grant_is_for_one_service(self):
        c = Holder()
        other = data_service()
        self.assertProblem(records(other, c.token), 403, "forbidden")

    def test_pending_request_gives_no_access(self):
        sid = data_service()
        system, tok = new_system(CONSUMER)
        r = SRV.post("/v1/services/%s/requests" % sid, h.request_body(system), token=tok)
        rid = self.assertStatus(r, 201)["id"]
        self.assertProblem(records(sid, tok), 403, "forbidden")
        r = SRV.post("/v1/requests/%s/decision" % rid,
                     {"decision": "reject", "reason": "Chưa đủ điều kiện",
                      "legal_basis": "Nghị định 47/2020/NĐ-CP, Điều 35"},
                     token=SRV.agency(PROVIDER))
        self.assertStatus(r, 200)
        self.assertProblem(records(sid, tok), 403, "forbidden")

    def test_approved_request_opens_the_data(self):
        sid = data_service()
        system, tok = new_system(CONSUMER)
        r = SRV.post("/v1/services/%s/requests" % sid,
                     h.request_body(system, fields=["indicator", "area", "period", "status"]),
                     token=tok)
        rid = self.assertStatus(r, 201)["id"]
        r = SRV.post("/v1/requests/%s/decision" % rid, {"decision": "approve", "reason": "ok"},
                     token=SRV.agency(PROVIDER))
        self.assertStatus(r, 200)
        env = self.assertStatus(records(sid, tok), 200)
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "unit", "value"])
        self.assertTrue(all(set(rec) == {"indicator", "area", "period", "status"}
                            for rec in env["records"]), env["records"])


class GrantStates(h.LtTestCase):
    def test_suspend_resume_revoke_act_on_the_next_request(self):
        c = Holder()
        self.assertStatus(records(c.sid, c.token), 200)
        self.assertStatus(grant_action(c.gid, "suspend"), 200)
        body = self.assertProblem(records(c.sid, c.token), 403, "forbidden")
        self.assertIn(c.gid, body["detail"])
        self.assertIn("suspended", body["detail"])
        self.assertProblem(record(c.sid, ONE_KEY, c.token), 403, "forbidden")
        self.assertStatus(grant_action(c.gid, "resume"), 200)
        self.assertStatus(records(c.sid, c.token), 200)
        self.assertStatus(record(c.sid, ONE_KEY, c.token), 200)
        self.assertStatus(grant_action(c.gid, "revoke", SRV.admin()), 200)
        body = self.assertProblem(records(c.sid, c.token), 403, "forbidden")
        self.assertIn(c.gid, body["detail"])
        self.assertIn("revoked", body["detail"])
        self.assertProblem(grant_action(c.gid, "resume"), 409, "conflict")
        self.assertProblem(records(c.sid, c.token), 403, "forbidden")
        self.assertProblem(record(c.sid, ONE_KEY, c.token), 403, "forbidden")

    def test_expired_grant_denies(self):
        sid = data_service()
        system, tok = new_system(CONSUMER)
        until = int(time.time()) + 4
        gid = grant(sid, CONSUMER, system, valid_until=h.rfc3339(until))
        self.assertStatus(records(sid, tok), 200)
        time.sleep(max(0.0, until - time.time()) + 1.5)
        body = self.assertProblem(records(sid, tok), 403, "forbidden")
        self.assertIn(gid, body["detail"])
        self.assertIn("expired", body["detail"])
        self.assertProblem(record(sid, ONE_KEY, tok), 403, "forbidden")
        live = {g["id"]: g["live"] for g in h.list_all(SRV, "/v1/grants?as=consumer", tok)}
        self.assertIs(live[gid], False)
        self.assertNotIn(sid, [s["id"] for s in h.list_all(SRV, "/v1/catalog?allowed=true",
                                                             tok)])

    def test_amendment_changes_the_projection_once_approved(self):
        sid = data_service()
        system, tok = new_system(CONSUMER)
        r = SRV.post("/v1/services/%s/requests" % sid, h.request_body(system), token=tok)
        rid = self.assertStatus(r, 201)["id"]
        prov = SRV.agency(PROVIDER)
        self.assertStatus(SRV.post("/v1/requests/%s/decision" % rid,
                                   {"decision": "approve", "reason": "ok"}, token=prov), 200)
        self.assertStatus(SRV.post("/v1/requests/%s/amend" % rid,
                                   {"fields": FIELDS + ["unit"], "reason": "Cần đơn vị tính"},
                                   token=tok), 200)
        env = self.assertStatus(records(sid, tok), 200)
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status", "unit"])
        self.assertStatus(SRV.post("/v1/requests/%s/decision" % rid,
                                   {"decision": "approve", "reason": "Đồng ý"}, token=prov), 200)
        env = self.assertStatus(records(sid, tok), 200)
        self.assertEqual(sorted(env["restricted_fields"]), ["reporter", "status"])
        self.assertEqual(by_key(env["records"])[ONE_KEY]["unit"], "%")
        self.assertStatus(records(sid, tok, unit="%"), 200)


class Durability(h.LtTestCase):
    def test_grant_states_survive_a_crash(self):
        sid = data_service()
        system, tok = new_system(CONSUMER)
        r = SRV.post("/v1/services/%s/requests" % sid, h.request_body(system), token=tok)
        rid = self.assertStatus(r, 201)["id"]
        r = SRV.post("/v1/requests/%s/decision" % rid, {"decision": "approve", "reason": "ok"},
                     token=SRV.agency(PROVIDER))
        gid = self.assertStatus(r, 200)["grant"]
        other, tok2 = new_system(CONSUMER)
        gid2 = grant(sid, CONSUMER, other)
        self.assertStatus(grant_action(gid2, "suspend"), 200)
        SRV.restart()  # kill -9 right after the 200s
        tok = SRV.agency(CONSUMER, system)
        tok2 = SRV.agency(CONSUMER, other)
        self.assertStatus(records(sid, tok), 200)
        self.assertProblem(records(sid, tok2), 403, "forbidden")
        self.assertEqual(self.assertStatus(SRV.get("/v1/requests/" + rid, token=tok), 200)
                         ["grant"], gid)
        self.assertEqual(self.assertStatus(SRV.get("/v1/grants/" + gid2, token=SRV.admin()),
                                           200)["state"], "suspended")
        self.assertStatus(grant_action(gid2, "resume"), 200)
        self.assertStatus(records(sid, tok2), 200)


class Quota(h.LtTestCase):
    def test_quota_exhausted_429_with_retry_after(self):
        c = Holder(quota_per_day=3)
        self.assertStatus(records(c.sid, c.token), 200)
        self.assertStatus(record(c.sid, ONE_KEY, c.token), 200)
        self.assertStatus(records(c.sid, c.token, area="20"), 200)
        for r in (records(c.sid, c.token), record(c.sid, ONE_KEY, c.token)):
            self.assertProblem(r, 429, "quota_exceeded")
            ra = r.headers.get("retry-after")
            self.assertIsNotNone(ra, r.headers)
            self.assertRegex(ra, r"^[0-9]+$")
            self.assertLess(abs(int(ra) - h.seconds_to_vn_midnight()), 5,
                            (ra, h.seconds_to_vn_midnight()))
        # the owner, the operator and another holder are not limited by it
        self.assertStatus(records(c.sid, SRV.agency(PROVIDER)), 200)
        self.assertStatus(records(c.sid, SRV.admin()), 200)
        other, tok2 = new_system(CONSUMER)
        grant(c.sid, CONSUMER, other, quota_per_day=1)
        self.assertStatus(records(c.sid, tok2), 200)
        self.assertProblem(records(c.sid, tok2), 429, "quota_exceeded")

    def test_quota_holds_under_concurrent_reads(self):
        c = Holder(quota_per_day=5)
        barrier = threading.Barrier(20)
        out = [None] * 20

        def go(i):
            barrier.wait()
            out[i] = records(c.sid, c.token)

        threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(r.status for r in out), [200] * 5 + [429] * 15, out)
        for r in out:
            if r.status == 429:
                self.assertProblem(r, 429, "quota_exceeded")
                self.assertRegex(r.headers.get("retry-after", ""), r"^[0-9]+$")

    def test_unlimited_quota(self):
        c = Holder(quota_per_day=0)
        for _ in range(25):
            self.assertStatus(records(c.sid, c.token), 200)


class ServiceAvailability(h.LtTestCase):
    def status(self, sid, body, token=None):
        return SRV.post("/v1/services/%s/status" % sid, body, token=token or SRV.admin())

    def test_suspended_service_503_for_holders(self):
        c = Holder()
        self.assertStatus(records(c.sid, c.token), 200)
        self.assertStatus(self.status(c.sid, {"status": "suspended",
                                              "reason": "Sự cố máy chủ nguồn"}), 200)
        self.assertProblem(records(c.sid, c.token), 503, "service_unavailable")
        self.assertProblem(record(c.sid, ONE_KEY, c.token), 503, "service_unavailable")
        self.assertStatus(self.status(c.sid, {"status": "published", "reason": "Đã khắc phục"}),
                          200)
        self.assertStatus(records(c.sid, c.token), 200)

    def test_maintenance_announced_too_late_422(self):
        c = Holder()
        for days in (0.05, 2, 5):
            with self.subTest(days=days):
                body = {"status": "maintenance", "effective_at": h.rfc3339(time.time() +
                                                                         days * 86400),
                        "until": h.rfc3339(time.time() + days * 86400 + 4 * 3600),
                        "reason": "Nâng cấp máy chủ"}
                self.assertProblem(self.status(c.sid, body), 422, "invalid")
        svc = self.assertStatus(SRV.get("/v1/services/" + c.sid, token=SRV.admin()), 200)
        self.assertNotIn("maintenance", svc)
        self.assertStatus(records(c.sid, c.token), 200)

    def test_maintenance_window_is_stored(self):
        c = Holder()
        start = int(time.time()) + 30 * 86400
        body = {"status": "maintenance", "effective_at": h.rfc3339(start),
                "until": h.rfc3339(start + 6 * 3600), "reason": "Nâng cấp cơ sở dữ liệu"}
        self.assertStatus(self.status(c.sid, body, token=SRV.agency(PROVIDER)), 200)
        svc = self.assertStatus(SRV.get("/v1/services/" + c.sid, token=c.token), 200)
        self.assertEqual(svc["status"], "published")
        m = svc["maintenance"]
        self.assertEqual(h.parse_time(m["from"]), start)
        self.assertEqual(h.parse_time(m["until"]), start + 6 * 3600)
        self.assertEqual(m["reason"], "Nâng cấp cơ sở dữ liệu")
        # the window has not begun: the data path still answers
        self.assertStatus(records(c.sid, c.token), 200)

    def test_maintenance_needs_seven_whole_working_days(self):
        """The earliest start is 00:00 Vietnam time of the 8th working day after today
        (docs/sharing.md): one second earlier is refused."""
        c = Holder()
        hol = h.load_example("lienthong.json")["holidays"]
        earliest = int(h.working_days_after(time.time(), 8, hol) - 86400 + 1)
        late = {"status": "maintenance", "effective_at": h.rfc3339(earliest - 1),
                "until": h.rfc3339(earliest + 3600), "reason": "Nâng cấp"}
        self.assertProblem(self.status(c.sid, late), 422, "invalid")
        ok = dict(late, effective_at=h.rfc3339(earliest))
        self.assertStatus(self.status(c.sid, ok), 200)
        m = self.assertStatus(SRV.get("/v1/services/" + c.sid, token=SRV.admin()),
                              200)["maintenance"]
        self.assertEqual(h.parse_time(m["from"]), earliest)

    def test_maintenance_window_cancelled_by_publishing(self):
        c = Holder()
        start = int(time.time()) + 30 * 86400
        body = {"status": "maintenance", "effective_at": h.rfc3339(start),
                "until": h.rfc3339(start + 3600), "reason": "Nâng cấp"}
        self.assertStatus(self.status(c.sid, body), 200)
        svc = self.assertStatus(self.status(c.sid, {"status": "published",
                                                   "reason": "Hoãn bảo trì"}), 200)
        self.assertNotIn("maintenance", svc)
        svc = self.assertStatus(SRV.get("/v1/services/" + c.sid, token=SRV.admin()), 200)
        self.assertEqual(svc["status"], "published")
        self.assertNotIn("maintenance", svc)

    def test_maintenance_window_must_end_after_it_starts(self):
        c = Holder()
        start = int(time.time()) + 30 * 86400
        body = {"status": "maintenance", "effective_at": h.rfc3339(start),
                "until": h.rfc3339(start - 3600), "reason": "x"}
        self.assertProblem(self.status(c.sid, body), 422, "invalid")

    def test_maintenance_by_a_consumer_403(self):
        c = Holder()
        start = int(time.time()) + 30 * 86400
        body = {"status": "maintenance", "effective_at": h.rfc3339(start),
                "until": h.rfc3339(start + 3600), "reason": "x"}
        self.assertProblem(self.status(c.sid, body, token=c.token), 403, "forbidden")


if __name__ == "__main__":
    h.main()
