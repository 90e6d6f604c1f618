"""Sharing under Decree 47/2020 over HTTP (API.md §5 systems, §6; issue 3): systems, default
and special-request sharing, the 5-working-day due date, decisions with their history,
agreements with the 12 items of Art. 38, amendments approved by the other party, joining an
agreement in force, grants by the operator and their suspend/resume/revoke, audit entries of
every state change, GET /v1/catalog?allowed=true, and the issue's "Bad input and races".

Each test works on its own services and systems, so tests do not see each other's grants."""

import datetime
import re
import threading
import time

import lt_harness as h

SRV = None
PROVIDER = h.CTS_ORG      # Thống kê tỉnh owns the services asked for here
CONSUMER = h.SYT_ORG      # Sở Y tế asks
STRANGER = h.STC_ORG      # Sở Tài chính: neither party
JOINER = "000.00.16.H32"  # Sở NN&MT joins an agreement in force
FIELDS = ["indicator", "area", "period", "value"]


def upcoming_holidays():
    """The 1st and 3rd working days after today (Vietnam time): configured as holidays so the
    5-working-day due date must skip them as well as the weekend."""
    day = datetime.datetime.fromtimestamp(time.time() + h.VN_OFFSET_S,
                                          datetime.timezone.utc).date()
    found = []
    while len(found) < 3:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5:
            found.append(day.isoformat())
    return [found[0], found[2]]


EXTRA_HOLIDAYS = upcoming_holidays()
HOLIDAYS = []


def patch_holidays(cfg):
    cfg["holidays"] = sorted(set(cfg.get("holidays", [])) | set(EXTRA_HOLIDAYS))
    HOLIDAYS[:] = cfg["holidays"]


def setUpModule():
    global SRV
    SRV = h.Server(config_patch=patch_holidays).start()


def tearDownModule():
    if SRV:
        SRV.close()


# ---------------------------------------------------------------------------------------------

_n = [0]


def uid(prefix):
    _n[0] += 1
    return "%s-%d" % (prefix, _n[0])


def new_system(org, prefix="it-app"):
    """A newly registered system of org: (system id, agency token)."""
    sub = uid(prefix)
    r = SRV.post("/v1/systems", {"id": sub, "agency": org, "name": "Ứng dụng " + sub},
                 token=SRV.admin())
    assert r.status == 201, r
    return sub, SRV.agency(org, sub)


def new_service(prefix="it-sh", **kw):
    return h.sharing_service(SRV, uid(prefix), **kw)


def prov():
    return SRV.agency(PROVIDER)


def create_request(sid, token, system, **kw):
    return SRV.post("/v1/services/%s/requests" % sid, h.request_body(system, **kw), token=token)


def decide(rid, token, decision="approve", reason="Đồng ý chia sẻ theo Điều 35", **kw):
    body = {"decision": decision}
    if reason is not None:
        body["reason"] = reason
    body.update(kw)
    return SRV.post("/v1/requests/%s/decision" % rid, body, token=token)


def get_request(rid, token=None):
    r = SRV.get("/v1/requests/" + rid, token=token or SRV.admin())
    assert r.status == 200, r
    return r.json


def get_grant(gid, token=None):
    r = SRV.get("/v1/grants/" + gid, token=token or SRV.admin())
    assert r.status == 200, r
    return r.json


def grants_of_request(rid):
    return [g for g in h.list_all(SRV, "/v1/grants", SRV.admin()) if g.get("request") == rid]


def ids(items):
    return [i["id"] for i in items]


def audit_items(**params):
    r = SRV.get("/v1/audit" + h.qs(**params), token=SRV.admin())
    assert r.status == 200, r
    return r.json["items"]


def wait_audit(pred, n=1, timeout=5.0, **params):
    """Audit entries are group-committed: polls until at least n entries match pred."""
    deadline = time.time() + timeout
    found = []
    while time.time() < deadline:
        found = [e for e in audit_items(limit=10000, **params) if pred(e)]
        if len(found) >= n:
            return found
        time.sleep(0.1)
    raise AssertionError("%d matching audit entries, expected %d" % (len(found), n))


class Pending:
    """A default-sharing request of a fresh consumer system on a fresh service."""

    def __init__(self, case, consumer=CONSUMER, **kw):
        self.sid = new_service()
        self.system, self.token = new_system(consumer)
        r = create_request(self.sid, self.token, self.system, **kw)
        self.doc = case.assertStatus(r, 201)
        self.rid = self.doc["id"]


# ---------------------------------------------------------------------------------------------


class Systems(h.LtTestCase):
    def test_create_get_list_duplicate(self):
        doc = {"id": "it-syt-his", "agency": CONSUMER, "name": "Hệ thống thông tin bệnh viện",
               "description": "HIS của Bệnh viện Đa khoa tỉnh"}
        r = SRV.post("/v1/systems", doc, token=SRV.admin(),
                     headers={"X-Request-Id": "it-sys-create-1"})
        body = self.assertStatus(r, 201)
        for k in ("id", "agency", "name", "description"):
            self.assertEqual(body[k], doc[k])
        self.assertLess(abs(h.parse_time(body["created_at"]) - time.time()), 120)
        got = self.assertStatus(SRV.get("/v1/systems/it-syt-his", token=SRV.admin()), 200)
        for k in ("id", "agency", "name", "description"):
            self.assertEqual(got[k], doc[k])
        listed = {s["id"]: s for s in h.list_all(SRV, "/v1/systems", SRV.admin())}
        self.assertEqual(listed["it-syt-his"]["agency"], CONSUMER)
        self.assertProblem(SRV.post("/v1/systems", doc, token=SRV.admin()), 409, "conflict")
        e = wait_audit(lambda x: x.get("request_id") == "it-sys-create-1")[0]
        self.assertEqual((e["operation"], e["status"]), ("systems.create", 201))

    def test_bootstrap_systems_loaded(self):
        systems = h.bootstrap_systems()
        self.assertTrue(systems, "examples/lang-son/systems.json is missing or empty")
        listed = {s["id"]: s for s in h.list_all(SRV, "/v1/systems", SRV.admin())}
        for d in systems:
            with self.subTest(system=d["id"]):
                self.assertEqual(listed[d["id"]]["agency"], d["agency"])
                got = self.assertStatus(SRV.get("/v1/systems/" + d["id"], token=SRV.admin()),
                                        200)
                self.assertEqual((got["agency"], got["name"]), (d["agency"], d["name"]))
                # and its token is let in
                tok = SRV.token(sub=d["id"], org=d["agency"], roles="agency")
                self.assertStatus(SRV.get("/v1/agencies", token=tok), 200)

    def test_unknown_agency_422(self):
        r = SRV.post("/v1/systems", {"id": "it-sys-orphan", "agency": "999.99.99.H99",
                                     "name": "x"}, token=SRV.admin())
        self.assertProblem(r, 422, "invalid")
        self.assertProblem(SRV.get("/v1/systems/it-sys-orphan", token=SRV.admin()), 404,
                           "not_found")

    def test_bad_ids_and_missing_fields_422(self):
        for doc in ({"id": "Bad Id", "agency": CONSUMER, "name": "x"},
                    {"id": "", "agency": CONSUMER, "name": "x"},
                    {"id": "-x", "agency": CONSUMER, "name": "x"},
                    {"id": "it-sys-noname", "agency": CONSUMER},
                    {"id": "it-sys-colour", "agency": CONSUMER, "name": "x", "colour": "red"}):
            with self.subTest(doc=doc):
                self.assertProblem(SRV.post("/v1/systems", doc, token=SRV.admin()), 422,
                                   "invalid")

    def test_unknown_system_404(self):
        self.assertProblem(SRV.get("/v1/systems/it-no-such-system", token=SRV.admin()), 404,
                           "not_found")

    def test_agency_registers_for_its_own_org_only(self):
        tok = SRV.agency(CONSUMER)
        r = SRV.post("/v1/systems", {"id": "it-syt-lab", "agency": CONSUMER,
                                     "name": "Phần mềm xét nghiệm"}, token=tok)
        self.assertEqual(self.assertStatus(r, 201)["agency"], CONSUMER)
        r = SRV.post("/v1/systems", {"id": "it-syt-steals", "agency": STRANGER,
                                     "name": "x"}, token=tok)
        self.assertProblem(r, 403, "forbidden")
        self.assertProblem(SRV.get("/v1/systems/it-syt-steals", token=SRV.admin()), 404,
                           "not_found")
        # the new system can call at once
        lab = SRV.token(sub="it-syt-lab", org=CONSUMER, roles="agency")
        self.assertStatus(SRV.get("/v1/agencies", token=lab), 200)

    def test_national_and_ioc_cannot_register(self):
        for role in ("national", "ioc"):
            with self.subTest(role=role):
                tok = SRV.token(sub="it-%s-x" % role, org=h.OPERATOR_ORG, roles=role)
                r = SRV.post("/v1/systems", {"id": "it-sys-by-" + role,
                                             "agency": h.OPERATOR_ORG, "name": "x"}, token=tok)
                self.assertProblem(r, 403, "forbidden")

    def test_unregistered_sub_is_forbidden_everywhere(self):
        tok = SRV.token(sub="it-never-registered", org=CONSUMER, roles="agency")
        for method, path, body in (("GET", "/v1/agencies", None), ("GET", "/v1/catalog", None),
                                   ("GET", "/v1/requests", None), ("GET", "/v1/grants", None),
                                   ("GET", "/v1/services/cts-chi-tieu-kte-xh", None),
                                   ("POST", "/v1/services/cts-chi-tieu-kte-xh/requests",
                                    h.request_body("it-never-registered"))):
            with self.subTest(path=path):
                r = SRV.request(method, path, json_body=body, token=tok)
                self.assertProblem(r, 403, "forbidden")
        # registering it lets the same token in on the next request
        r = SRV.post("/v1/systems", {"id": "it-never-registered", "agency": CONSUMER,
                                     "name": "x"}, token=SRV.admin())
        self.assertStatus(r, 201)
        self.assertStatus(SRV.get("/v1/agencies", token=tok), 200)

    def test_sub_registered_to_another_org_is_forbidden(self):
        sub, own = new_system(STRANGER, "it-stc-only")
        self.assertStatus(SRV.get("/v1/agencies", token=own), 200)
        tok = SRV.token(sub=sub, org=CONSUMER, roles="agency")
        self.assertProblem(SRV.get("/v1/agencies", token=tok), 403, "forbidden")

    def test_admin_needs_no_registered_sub(self):
        tok = SRV.token(sub="it-operator-console", org=h.OPERATOR_ORG, roles="admin")
        self.assertStatus(SRV.get("/v1/agencies", token=tok), 200)


class DefaultRequests(h.LtTestCase):
    def test_request_recorded_with_due_date_and_history(self):
        sid = new_service()
        system, tok = new_system(CONSUMER)
        body = h.request_body(system, legal_basis="Nghị định 47/2020/NĐ-CP, Điều 35")
        r = SRV.post("/v1/services/%s/requests" % sid, body, token=tok)
        doc = self.assertStatus(r, 201)
        self.assertTrue(doc["id"].startswith("req-"), doc)
        self.assertEqual(doc["service"], sid)
        self.assertEqual(doc["provider"], PROVIDER)
        self.assertEqual(doc["org"], CONSUMER)
        self.assertEqual(doc["system"], system)
        self.assertEqual(doc["sharing"], "default")
        self.assertEqual(doc["state"], "pending")
        for k in ("purpose", "usage", "fields", "record_estimate", "frequency", "legal_basis"):
            self.assertEqual(doc[k], body[k], k)
        self.assertEqual(h.parse_time(doc["valid_until"]), h.parse_time(body["valid_until"]))
        self.assertNotIn("grant", doc)
        created = h.parse_time(doc["created_at"])
        self.assertLess(abs(created - time.time()), 120)
        expected = h.working_days_after(created, 5, HOLIDAYS)
        self.assertLess(abs(h.parse_time(doc["due_at"]) - expected), 1.0,
                        (doc["due_at"], h.rfc3339(expected), HOLIDAYS))
        # the configured holidays inside the window push the due date back by two days
        self.assertGreater(expected, h.working_days_after(created, 5, []) + 86400)
        self.assertEqual(len(doc["history"]), 1, doc["history"])
        first = doc["history"][0]
        self.assertEqual((first["action"], first["by_org"], first["by_system"]),
                         ("created", CONSUMER, system))
        self.assertLess(abs(h.parse_time(first["at"]) - created), 2)
        self.assertNotIn("overdue", doc)

        # the parties and the operator read it; others do not
        for t in (tok, prov(), SRV.admin()):
            got = self.assertStatus(SRV.get("/v1/requests/" + doc["id"], token=t), 200)
            self.assertEqual((got["id"], got["state"], len(got["history"])),
                             (doc["id"], "pending", 1))
        self.assertProblem(SRV.get("/v1/requests/" + doc["id"], token=SRV.agency(STRANGER)),
                           403, "forbidden")

    def test_unknown_request_404(self):
        self.assertProblem(SRV.get("/v1/requests/req-does-not-exist", token=SRV.admin()), 404,
                           "not_found")
        self.assertProblem(decide("req-does-not-exist", SRV.admin()), 404, "not_found")

    def test_request_to_unknown_service_404(self):
        system, tok = new_system(CONSUMER)
        self.assertProblem(create_request("it-no-such-service", tok, system), 404, "not_found")

    def test_lists_by_side_and_state(self):
        p = Pending(self)
        cons = h.list_all(SRV, "/v1/requests?as=consumer", p.token)
        self.assertIn(p.rid, ids(cons))
        self.assertTrue(all(i["org"] == CONSUMER for i in cons), cons)
        provd = h.list_all(SRV, "/v1/requests?as=provider", prov())
        self.assertIn(p.rid, ids(provd))
        self.assertTrue(all(i["provider"] == PROVIDER for i in provd), provd)
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests?as=consumer", prov())))
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests?as=provider", p.token)))
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests", SRV.agency(STRANGER))))
        self.assertIn(p.rid, ids(h.list_all(SRV, "/v1/requests", SRV.admin())))
        pending = h.list_all(SRV, "/v1/requests?as=provider&state=pending", prov())
        self.assertIn(p.rid, ids(pending))
        self.assertTrue(all(i["state"] == "pending" for i in pending))
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests?as=provider&state=approved",
                                               prov())))
        # fresh: due in 5 working days, so not overdue
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests?state=overdue",
                                               SRV.admin())))
        self.assertStatus(decide(p.rid, prov()), 200)
        approved = h.list_all(SRV, "/v1/requests?as=consumer&state=approved", p.token)
        self.assertIn(p.rid, ids(approved))
        self.assertTrue(all(i["state"] == "approved" for i in approved))
        self.assertNotIn(p.rid, ids(h.list_all(SRV, "/v1/requests?as=consumer&state=pending",
                                               p.token)))

    def test_provider_approves_and_the_grant_is_made(self):
        p = Pending(self)
        r = decide(p.rid, prov(), quota_per_day=250)
        doc = self.assertStatus(r, 200)
        self.assertEqual(doc["state"], "approved")
        gid = doc["grant"]
        self.assertTrue(gid.startswith("g-"), doc)
        self.assertEqual(doc["decision"]["decision"], "approve")
        self.assertEqual(doc["decision"]["by_org"], PROVIDER)
        self.assertEqual(doc["decision"]["reason"], "Đồng ý chia sẻ theo Điều 35")
        self.assertLess(abs(h.parse_time(doc["decided_at"]) - time.time()), 120)
        self.assertEqual([e["action"] for e in doc["history"]], ["created", "approved"])
        self.assertEqual(doc["history"][-1]["by_org"], PROVIDER)
        g = get_grant(gid, p.token)
        self.assertEqual((g["id"], g["org"], g["system"], g["service"], g["state"]),
                         (gid, CONSUMER, p.system, p.sid, "active"))
        self.assertEqual(g["fields"], FIELDS)
        self.assertEqual(g["quota_per_day"], 250)
        self.assertEqual(g["request"], p.rid)
        self.assertEqual(h.parse_time(g["valid_until"]), h.parse_time(p.doc["valid_until"]))
        self.assertEqual([e["action"] for e in g["history"]], ["created"])
        mine = {x["id"]: x for x in h.list_all(SRV, "/v1/grants?as=consumer", p.token)}
        self.assertIs(mine[gid]["live"], True)
        theirs = {x["id"]: x for x in h.list_all(SRV, "/v1/grants?as=provider", prov())}
        self.assertIs(theirs[gid]["live"], True)
        self.assertNotIn(gid, ids(h.list_all(SRV, "/v1/grants", SRV.agency(STRANGER))))
        self.assertProblem(SRV.get("/v1/grants/" + gid, token=SRV.agency(STRANGER)), 403,
                           "forbidden")
        # a decided request is not pending any more
        self.assertProblem(decide(p.rid, prov()), 409, "conflict")
        self.assertProblem(decide(p.rid, prov(), "reject", legal_basis="x"), 409, "conflict")
        self.assertEqual(len(grants_of_request(p.rid)), 1)

    def test_admin_decides(self):
        p = Pending(self)
        doc = self.assertStatus(decide(p.rid, SRV.admin()), 200)
        self.assertEqual(doc["state"], "approved")
        self.assertTrue(doc["grant"].startswith("g-"))
        last = doc["history"][-1]
        self.assertEqual((last["action"], last["by_org"], last["admin"]),
                         ("approved", h.OPERATOR_ORG, True))

    def test_reject_needs_reason_and_legal_basis(self):
        p = Pending(self)
        self.assertProblem(decide(p.rid, prov(), "reject", reason="Dữ liệu mật"), 422,
                           "invalid")
        self.assertProblem(decide(p.rid, prov(), "reject", reason=None,
                                  legal_basis="Luật Bảo vệ bí mật nhà nước 2018"), 422,
                           "invalid")
        self.assertProblem(decide(p.rid, prov(), "reject", reason="",
                                  legal_basis="Luật Bảo vệ bí mật nhà nước 2018"), 422,
                           "invalid")
        self.assertEqual(get_request(p.rid)["state"], "pending")
        doc = self.assertStatus(decide(p.rid, prov(), "reject", reason="Dữ liệu mật",
                                       legal_basis="Luật Bảo vệ bí mật nhà nước 2018, Điều 5"),
                                200)
        self.assertEqual(doc["state"], "rejected")
        self.assertNotIn("grant", doc)
        self.assertEqual(doc["decision"]["decision"], "reject")
        self.assertEqual(doc["decision"]["legal_basis"],
                         "Luật Bảo vệ bí mật nhà nước 2018, Điều 5")
        last = doc["history"][-1]
        self.assertEqual((last["action"], last["by_org"], last["reason"], last["legal_basis"]),
                         ("rejected", PROVIDER, "Dữ liệu mật",
                          "Luật Bảo vệ bí mật nhà nước 2018, Điều 5"))
        self.assertEqual(grants_of_request(p.rid), [])
        self.assertIn(p.rid, ids(h.list_all(SRV, "/v1/requests?as=consumer&state=rejected",
                                            p.token)))
        self.assertProblem(decide(p.rid, prov()), 409, "conflict")

    def test_bad_decision_value_422(self):
        p = Pending(self)
        self.assertProblem(decide(p.rid, prov(), "maybe"), 422, "invalid")
        self.assertEqual(get_request(p.rid)["state"], "pending")

    def test_consumer_cannot_approve_its_own_request(self):
        p = Pending(self)
        self.assertProblem(decide(p.rid, p.token), 403, "forbidden")
        # not even with another system of the same org
        _, other = new_system(CONSUMER)
        self.assertProblem(decide(p.rid, other), 403, "forbidden")
        doc = get_request(p.rid)
        self.assertEqual(doc["state"], "pending")
        self.assertNotIn("grant", doc)
        self.assertEqual(grants_of_request(p.rid), [])

    def test_stranger_cannot_decide(self):
        p = Pending(self)
        self.assertProblem(decide(p.rid, SRV.agency(STRANGER)), 403, "forbidden")
        self.assertEqual(get_request(p.rid)["state"], "pending")

    def test_auto_approve_grants_at_once(self):
        sid = new_service(auto_approve=True)
        system, tok = new_system(CONSUMER)
        doc = self.assertStatus(create_request(sid, tok, system), 201)
        self.assertEqual(doc["state"], "approved")
        self.assertTrue(doc["grant"].startswith("g-"), doc)
        self.assertEqual((doc["decision"]["decision"], doc["decision"]["by_org"]),
                         ("approve", PROVIDER))
        g = get_grant(doc["grant"])
        self.assertEqual((g["org"], g["system"], g["service"], g["state"], g["fields"]),
                         (CONSUMER, system, sid, "active", FIELDS))
        live = {x["id"]: x["live"] for x in h.list_all(SRV, "/v1/grants?as=consumer", tok)}
        self.assertIs(live[doc["grant"]], True)

    def test_national_and_ioc_may_ask(self):
        sid = new_service()
        for role in ("national", "ioc"):
            with self.subTest(role=role):
                sub = uid("it-" + role)
                self.assertStatus(SRV.post("/v1/systems", {"id": sub, "agency": h.OPERATOR_ORG,
                                                           "name": sub}, token=SRV.admin()), 201)
                tok = SRV.token(sub=sub, org=h.OPERATOR_ORG, roles=role)
                doc = self.assertStatus(create_request(sid, tok, sub), 201)
                self.assertEqual((doc["org"], doc["system"], doc["state"]),
                                 (h.OPERATOR_ORG, sub, "pending"))

    def test_fields_outside_the_contract_422(self):
        sid = new_service()
        system, tok = new_system(CONSUMER)
        body = self.assertProblem(create_request(sid, tok, system,
                                                 fields=["indicator", "value", "so_cmnd"]),
                                  422, "invalid")
        self.assertIn("so_cmnd", h.problem_text(body))
        for fields in ([], ["value", "value"]):
            with self.subTest(fields=fields):
                self.assertProblem(create_request(sid, tok, system, fields=fields), 422,
                                   "invalid")
        self.assertEqual([i for i in h.list_all(SRV, "/v1/requests?as=consumer", tok)
                          if i["service"] == sid], [])

    def test_system_of_another_org_422(self):
        sid = new_service()
        other, _ = new_system(STRANGER)
        _, tok = new_system(CONSUMER)
        self.assertProblem(create_request(sid, tok, other), 422, "invalid")
        self.assertProblem(create_request(sid, tok, "it-no-such-system"), 422, "invalid")

    def test_valid_until_in_the_past_422(self):
        sid = new_service()
        system, tok = new_system(CONSUMER)
        self.assertProblem(create_request(sid, tok, system, days=-1), 422, "invalid")
        self.assertProblem(create_request(sid, tok, system, valid_until="next year"), 422,
                           "invalid")

    def test_asking_for_its_own_service_422(self):
        sid = new_service()
        system, tok = new_system(PROVIDER)
        self.assertProblem(create_request(sid, tok, system), 422, "invalid")

    def test_negative_record_estimate_422(self):
        sid = new_service()
        system, tok = new_system(CONSUMER)
        body = self.assertProblem(create_request(sid, tok, system, record_estimate=-5), 422,
                                  "invalid")
        self.assertIn("record_estimate", h.problem_text(body))

    def test_unknown_body_member_422(self):
        sid = new_service()
        system, tok = new_system(CONSUMER)
        body = self.assertProblem(create_request(sid, tok, system, priority="urgent"), 422,
                                  "invalid")
        self.assertIn("priority", h.problem_text(body))


class SpecialRequests(h.LtTestCase):
    def special(self):
        return new_service("it-sp", sharing="special")

    def test_special_without_agreement_422(self):
        sid = self.special()
        system, tok = new_system(CONSUMER)
        body = self.assertProblem(create_request(sid, tok, system), 422, "invalid")
        self.assertIn("agreement", h.problem_text(body))

    def test_special_with_items_missing_names_them(self):
        sid = self.special()
        system, tok = new_system(CONSUMER)
        a = h.agreement(storage=None, deletion=None)
        body = self.assertProblem(create_request(sid, tok, system, agreement=a), 422, "invalid")
        text = h.problem_text(body)
        self.assertIn("storage", text)
        self.assertIn("deletion", text)
        self.assertNotIn("parties", text)
        # an empty item is missing too
        body = self.assertProblem(create_request(sid, tok, system,
                                                 agreement=h.agreement(security="")),
                                  422, "invalid")
        self.assertIn("security", h.problem_text(body))
        # every item, one at a time
        for item in h.AGREEMENT_ITEMS:
            with self.subTest(item=item):
                a = h.agreement(**{item: None})
                body = self.assertProblem(create_request(sid, tok, system, agreement=a), 422,
                                          "invalid")
                self.assertIn(item, h.problem_text(body))
        self.assertEqual([i for i in h.list_all(SRV, "/v1/requests?as=consumer", tok)
                          if i["service"] == sid], [])

    def test_special_approved_becomes_a_grant(self):
        sid = self.special()
        system, tok = new_system(CONSUMER)
        a = h.agreement()
        doc = self.assertStatus(create_request(sid, tok, system, agreement=a), 201)
        self.assertEqual((doc["sharing"], doc["state"]), ("special", "pending"))
        for k in h.AGREEMENT_ITEMS:
            self.assertEqual(doc["agreement"][k], a[k])
        self.assertEqual(doc["agreement"]["version"], 1)
        out = self.assertStatus(decide(doc["id"], prov()), 200)
        self.assertEqual(out["state"], "approved")
        g = get_grant(out["grant"])
        self.assertEqual((g["org"], g["system"], g["service"], g["state"]),
                         (CONSUMER, system, sid, "active"))

    def test_join_an_agreement_in_force(self):
        sid = self.special()
        system, tok = new_system(CONSUMER)
        a = h.agreement()
        first = self.assertStatus(create_request(sid, tok, system, agreement=a), 201)
        jsys, jtok = new_system(JOINER)
        self.assertStatus(decide(first["id"], prov()), 200)
        doc = self.assertStatus(create_request(sid, jtok, jsys, joins=first["id"]), 201)
        self.assertEqual((doc["org"], doc["state"], doc["joins"]),
                         (JOINER, "pending", first["id"]))
        self.assertEqual(doc["history"][0]["action"], "join_requested")
        for k in h.AGREEMENT_ITEMS:
            self.assertEqual(doc["agreement"][k], a[k])
        out = self.assertStatus(decide(doc["id"], prov()), 200)
        g = get_grant(out["grant"])
        self.assertEqual((g["org"], g["system"], g["service"], g["state"]),
                         (JOINER, jsys, sid, "active"))
        # the first party's grant is untouched
        self.assertEqual(get_grant(get_request(first["id"])["grant"])["org"], CONSUMER)


    def test_join_needs_an_approved_request_of_the_same_service(self):
        sid = self.special()
        system, tok = new_system(CONSUMER)
        pending = self.assertStatus(create_request(sid, tok, system, agreement=h.agreement()),
                                    201)
        jsys, jtok = new_system(JOINER)
        self.assertProblem(create_request(sid, jtok, jsys, joins=pending["id"]), 422,
                           "invalid")
        # an approved agreement of another service cannot be joined here
        other = self.special()
        osys, otok = new_system(CONSUMER)
        o = self.assertStatus(create_request(other, otok, osys, agreement=h.agreement()), 201)
        self.assertStatus(decide(o["id"], prov()), 200)
        self.assertProblem(create_request(sid, jtok, jsys, joins=o["id"]), 422, "invalid")


class Amendments(h.LtTestCase):
    def approved(self, sharing="default", **kw):
        sid = new_service("it-am", sharing=sharing)
        system, tok = new_system(CONSUMER)
        if sharing == "special":
            kw.setdefault("agreement", h.agreement())
        doc = self.assertStatus(create_request(sid, tok, system, **kw), 201)
        doc = self.assertStatus(decide(doc["id"], prov(), quota_per_day=100), 200)
        return sid, system, tok, doc

    def amend(self, rid, token, **body):
        body.setdefault("reason", "Bổ sung trường dữ liệu cho báo cáo quý")
        return SRV.post("/v1/requests/%s/amend" % rid, body, token=token)

    def test_consumer_amends_provider_approves(self):
        sid, system, tok, doc = self.approved()
        rid, gid = doc["id"], doc["grant"]
        r = self.amend(rid, tok, fields=FIELDS + ["unit", "status"])
        am = self.assertStatus(r, 200)
        self.assertEqual(am["state"], "amendment_pending")
        self.assertEqual(am["amendment"]["by_org"], CONSUMER)
        self.assertEqual(am["amendment"]["reason"], "Bổ sung trường dữ liệu cho báo cáo quý")
        self.assertEqual(am["amendment"]["version"], 2)
        self.assertEqual([e["action"] for e in am["history"]],
                         ["created", "approved", "amendment_proposed"])
        # the grant is unchanged until the other party approves
        self.assertEqual(get_grant(gid)["fields"], FIELDS)
        self.assertIn(rid, ids(h.list_all(SRV, "/v1/requests?as=provider&state=amendment_pending",
                                          prov())))
        # the proposer cannot approve its own amendment
        self.assertProblem(decide(rid, tok), 403, "forbidden")
        out = self.assertStatus(decide(rid, prov(), reason="Đồng ý bổ sung"), 200)
        self.assertEqual(out["state"], "approved")
        self.assertEqual(out["grant"], gid)
        self.assertEqual([e["action"] for e in out["history"]],
                         ["created", "approved", "amendment_proposed", "amendment_approved"])
        self.assertEqual(out["history"][-1]["by_org"], PROVIDER)
        self.assertNotIn("amendment", out)
        g = get_grant(gid)
        self.assertEqual(g["fields"], FIELDS + ["unit", "status"])
        self.assertEqual(g["state"], "active")
        self.assertEqual([e["action"] for e in g["history"]], ["created", "amended"])
        self.assertEqual(len(grants_of_request(rid)), 1)
        # nothing pending any more
        self.assertProblem(decide(rid, prov()), 409, "conflict")

    def test_provider_amends_consumer_approves(self):
        sid, system, tok, doc = self.approved()
        rid, gid = doc["id"], doc["grant"]
        until = h.rfc3339(time.time() + 30 * 86400)
        am = self.assertStatus(self.amend(rid, prov(), quota_per_day=20, valid_until=until,
                                          reason="Giảm hạn mức do quá tải"), 200)
        self.assertEqual((am["state"], am["amendment"]["by_org"]),
                         ("amendment_pending", PROVIDER))
        self.assertProblem(decide(rid, prov()), 403, "forbidden")
        self.assertProblem(decide(rid, SRV.agency(STRANGER)), 403, "forbidden")
        out = self.assertStatus(decide(rid, tok, reason="Chấp thuận"), 200)
        self.assertEqual(out["state"], "approved")
        g = get_grant(gid)
        self.assertEqual(g["quota_per_day"], 20)
        self.assertEqual(h.parse_time(g["valid_until"]), h.parse_time(until))

    def test_rejected_amendment_leaves_the_grant(self):
        sid, system, tok, doc = self.approved()
        rid, gid = doc["id"], doc["grant"]
        self.assertStatus(self.amend(rid, tok, fields=h.CONTRACT_FIELDS), 200)
        self.assertProblem(decide(rid, prov(), "reject", reason="Không cần trường cá nhân"),
                           422, "invalid")
        out = self.assertStatus(decide(rid, prov(), "reject", reason="Không cần trường cá nhân",
                                       legal_basis="Nghị định 13/2023/NĐ-CP"), 200)
        self.assertEqual(out["state"], "approved")
        self.assertEqual(out["grant"], gid)
        self.assertEqual(out["history"][-1]["action"], "amendment_rejected")
        self.assertNotIn("amendment", out)
        g = get_grant(gid)
        self.assertEqual((g["fields"], g["quota_per_day"], g["state"]), (FIELDS, 100, "active"))

    def test_admin_decides_an_amendment(self):
        sid, system, tok, doc = self.approved()
        self.assertStatus(self.amend(doc["id"], tok, quota_per_day=500), 200)
        out = self.assertStatus(decide(doc["id"], SRV.admin()), 200)
        self.assertEqual(out["state"], "approved")
        self.assertEqual(get_grant(doc["grant"])["quota_per_day"], 500)

    def test_special_agreement_is_versioned(self):
        sid, system, tok, doc = self.approved("special")
        rid = doc["id"]
        self.assertEqual(doc["agreement"]["version"], 1)
        a2 = h.agreement(duration="Đến hết 31/12/2028", conditions="Tối đa 5.000 lượt mỗi ngày")
        am = self.assertStatus(self.amend(rid, tok, agreement=a2,
                                          reason="Gia hạn thỏa thuận"), 200)
        self.assertEqual(am["state"], "amendment_pending")
        self.assertEqual(am["amendment"]["version"], 2)
        # still version 1 in force while pending
        self.assertEqual(get_request(rid)["agreement"]["version"], 1)
        out = self.assertStatus(decide(rid, prov(), reason="Đồng ý gia hạn"), 200)
        self.assertEqual(out["agreement"]["version"], 2)
        self.assertEqual(out["agreement"]["duration"], "Đến hết 31/12/2028")
        versions = {v["version"]: v for v in out["agreement_versions"]}
        self.assertEqual(versions[1]["duration"], h.agreement()["duration"])

    def test_amended_agreement_must_be_whole(self):
        sid, system, tok, doc = self.approved("special")
        body = self.assertProblem(self.amend(doc["id"], tok,
                                             agreement=h.agreement(deletion=None)),
                                  422, "invalid")
        self.assertIn("deletion", h.problem_text(body))
        self.assertEqual(get_request(doc["id"])["state"], "approved")

    def test_amendment_needs_a_reason(self):
        sid, system, tok, doc = self.approved()
        r = SRV.post("/v1/requests/%s/amend" % doc["id"], {"quota_per_day": 5}, token=tok)
        body = self.assertProblem(r, 422, "invalid")
        self.assertIn("reason", h.problem_text(body))
        self.assertEqual(get_request(doc["id"])["state"], "approved")

    def test_no_amendment_after_revocation(self):
        sid, system, tok, doc = self.approved()
        self.assertStatus(SRV.post("/v1/grants/%s/revoke" % doc["grant"],
                                   {"reason": "Chấm dứt"}, token=prov()), 200)
        self.assertProblem(self.amend(doc["id"], tok, quota_per_day=5), 409, "conflict")
        self.assertEqual(get_request(doc["id"])["state"], "approved")

    def test_amendment_by_a_stranger_403(self):
        sid, system, tok, doc = self.approved()
        r = self.amend(doc["id"], SRV.agency(STRANGER), fields=h.CONTRACT_FIELDS)
        self.assertProblem(r, 403, "forbidden")
        got = get_request(doc["id"])
        self.assertEqual(got["state"], "approved")
        self.assertNotIn("amendment", got)
        self.assertEqual(get_grant(doc["grant"])["fields"], FIELDS)


class Races(h.LtTestCase):
    N = 8

    def race(self, rid, bodies_and_tokens):
        """POSTs the decisions at the same moment from one thread each; returns responses."""
        barrier = threading.Barrier(len(bodies_and_tokens))
        out = [None] * len(bodies_and_tokens)

        def go(i, body, tok):
            barrier.wait()
            out[i] = SRV.post("/v1/requests/%s/decision" % rid, body, token=tok)

        threads = [threading.Thread(target=go, args=(i, b, t))
                   for i, (b, t) in enumerate(bodies_and_tokens)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return out

    def test_concurrent_approvals_make_exactly_one_grant(self):
        ptok, atok = prov(), SRV.admin()
        for round_ in range(5):
            with self.subTest(round=round_):
                p = Pending(self)
                body = {"decision": "approve", "reason": "Đồng ý"}
                res = self.race(p.rid, [(body, ptok if i % 2 else atok) for i in range(self.N)])
                ok = [r for r in res if r.status == 200]
                self.assertEqual(len(ok), 1, res)
                for r in res:
                    if r.status != 200:
                        self.assertProblem(r, 409, "conflict")
                grants = grants_of_request(p.rid)
                self.assertEqual(len(grants), 1, grants)
                self.assertEqual(grants[0]["id"], ok[0].json["grant"])
                doc = get_request(p.rid)
                self.assertEqual((doc["state"], doc["grant"]), ("approved", grants[0]["id"]))
                self.assertEqual(len(doc["history"]), 2)
                held = [g for g in h.list_all(SRV, "/v1/grants?as=consumer", p.token)
                        if g["service"] == p.sid]
                self.assertEqual(len(held), 1, held)

    def test_concurrent_approve_and_reject_one_wins(self):
        ptok = prov()
        approve = {"decision": "approve", "reason": "Đồng ý"}
        reject = {"decision": "reject", "reason": "Từ chối",
                  "legal_basis": "Nghị định 47/2020/NĐ-CP, Điều 35"}
        for round_ in range(3):
            with self.subTest(round=round_):
                p = Pending(self)
                res = self.race(p.rid, [(approve if i % 2 else reject, ptok)
                                        for i in range(self.N)])
                ok = [r for r in res if r.status == 200]
                self.assertEqual(len(ok), 1, res)
                for r in res:
                    if r.status != 200:
                        self.assertProblem(r, 409, "conflict")
                state = ok[0].json["state"]
                self.assertEqual(get_request(p.rid)["state"], state)
                self.assertEqual(len(grants_of_request(p.rid)), 1 if state == "approved" else 0)

    def test_concurrent_amendment_approvals(self):
        sid = new_service("it-race-am")
        system, tok = new_system(CONSUMER)
        doc = self.assertStatus(create_request(sid, tok, system), 201)
        doc = self.assertStatus(decide(doc["id"], prov()), 200)
        self.assertStatus(SRV.post("/v1/requests/%s/amend" % doc["id"],
                                   {"fields": FIELDS + ["unit"], "reason": "Thêm đơn vị"},
                                   token=tok), 200)
        body = {"decision": "approve", "reason": "Đồng ý"}
        res = self.race(doc["id"], [(body, prov())] * self.N)
        self.assertEqual(len([r for r in res if r.status == 200]), 1, res)
        for r in res:
            if r.status != 200:
                self.assertProblem(r, 409, "conflict")
        self.assertEqual(len(grants_of_request(doc["id"])), 1)
        got = get_request(doc["id"])
        self.assertEqual(got["state"], "approved")
        self.assertEqual(len(got["history"]), 4)


class OperatorGrants(h.LtTestCase):
    def test_create_get_and_list(self):
        sid = new_service("it-gr")
        system, tok = new_system(CONSUMER)
        body = h.grant_body(CONSUMER, system, sid, quota_per_day=1000)
        g = self.assertStatus(SRV.post("/v1/grants", body, token=SRV.admin()), 201)
        self.assertTrue(g["id"].startswith("g-"), g)
        self.assertEqual((g["org"], g["system"], g["service"], g["state"], g["fields"],
                          g["quota_per_day"]), (CONSUMER, system, sid, "active", FIELDS, 1000))
        self.assertEqual(h.parse_time(g["valid_until"]), h.parse_time(body["valid_until"]))
        self.assertLessEqual(h.parse_time(g["valid_from"]), time.time() + 1)
        self.assertNotIn("request", g)
        self.assertEqual(get_grant(g["id"], tok)["id"], g["id"])
        self.assertEqual(get_grant(g["id"], prov())["id"], g["id"])
        live = {x["id"]: x["live"] for x in h.list_all(SRV, "/v1/grants?as=consumer", tok)}
        self.assertIs(live[g["id"]], True)
        self.assertIn(g["id"], ids(h.list_all(SRV, "/v1/grants?as=provider", prov())))
        self.assertNotIn(g["id"], ids(h.list_all(SRV, "/v1/grants?as=provider", tok)))
        self.assertProblem(SRV.get("/v1/grants/g-does-not-exist", token=SRV.admin()), 404,
                           "not_found")

    def test_grant_for_an_ioc_system(self):
        sid = new_service("it-gr")
        sub = uid("it-ioc-dashboard")
        self.assertStatus(SRV.post("/v1/systems", {"id": sub, "agency": "000.00.00.H32",
                                                   "name": "IOC tỉnh"}, token=SRV.admin()), 201)
        g = self.assertStatus(SRV.post("/v1/grants", h.grant_body("000.00.00.H32", sub, sid),
                                       token=SRV.admin()), 201)
        ioc = SRV.token(sub=sub, org="000.00.00.H32", roles="ioc")
        self.assertIn(g["id"], ids(h.list_all(SRV, "/v1/grants?as=consumer", ioc)))

    def test_grant_for_an_unknown_system_422(self):
        sid = new_service("it-gr")
        body = self.assertProblem(SRV.post("/v1/grants", h.grant_body(CONSUMER,
                                                                      "it-no-such-system", sid),
                                           token=SRV.admin()), 422, "invalid")
        self.assertIn("system", h.problem_text(body))
        # a system of another org is unknown for this org
        other, _ = new_system(STRANGER)
        self.assertProblem(SRV.post("/v1/grants", h.grant_body(CONSUMER, other, sid),
                                    token=SRV.admin()), 422, "invalid")
        self.assertEqual([g for g in h.list_all(SRV, "/v1/grants", SRV.admin())
                          if g["service"] == sid], [])

    def test_grant_with_fields_outside_the_contract_422(self):
        sid = new_service("it-gr")
        system, _ = new_system(CONSUMER)
        body = self.assertProblem(SRV.post("/v1/grants", h.grant_body(
            CONSUMER, system, sid, fields=["indicator", "ho_ten"]), token=SRV.admin()),
            422, "invalid")
        self.assertIn("ho_ten", h.problem_text(body))

    def test_grant_validity_must_be_in_the_future_422(self):
        sid = new_service("it-gr")
        system, _ = new_system(CONSUMER)
        body = h.grant_body(CONSUMER, system, sid, valid_until=h.rfc3339(time.time() - 60))
        self.assertProblem(SRV.post("/v1/grants", body, token=SRV.admin()), 422, "invalid")

    def test_only_the_operator_grants_directly(self):
        sid = new_service("it-gr")
        system, tok = new_system(CONSUMER)
        for t in (tok, prov()):
            self.assertProblem(SRV.post("/v1/grants", h.grant_body(CONSUMER, system, sid),
                                        token=t), 403, "forbidden")

    def test_suspend_resume_revoke(self):
        sid = new_service("it-gr")
        system, tok = new_system(CONSUMER)
        g = self.assertStatus(SRV.post("/v1/grants", h.grant_body(CONSUMER, system, sid),
                                       token=SRV.admin()), 201)
        base = "/v1/grants/%s/" % g["id"]

        def act(action, token, reason="Vi phạm điều kiện sử dụng"):
            return SRV.post(base + action, {} if reason is None else {"reason": reason},
                            token=token)

        # the consumer and strangers cannot change it
        for t in (tok, SRV.agency(STRANGER)):
            self.assertProblem(act("suspend", t), 403, "forbidden")
        self.assertProblem(act("suspend", prov(), reason=None), 422, "invalid")
        self.assertProblem(act("resume", prov()), 409, "conflict")
        out = self.assertStatus(act("suspend", prov()), 200)
        self.assertEqual(out["state"], "suspended")
        self.assertEqual(out["history"][-1]["by_org"], PROVIDER)
        self.assertEqual(out["history"][-1]["reason"], "Vi phạm điều kiện sử dụng")
        live = {x["id"]: x["live"] for x in h.list_all(SRV, "/v1/grants?as=consumer", tok)}
        self.assertIs(live[g["id"]], False)
        self.assertProblem(act("suspend", prov()), 409, "conflict")
        out = self.assertStatus(act("resume", SRV.admin(), "Đã khắc phục"), 200)
        self.assertEqual(out["state"], "active")
        live = {x["id"]: x["live"] for x in h.list_all(SRV, "/v1/grants?as=consumer", tok)}
        self.assertIs(live[g["id"]], True)
        out = self.assertStatus(act("revoke", prov(), "Chấm dứt theo Điều 44"), 200)
        self.assertEqual(out["state"], "revoked")
        # revoke is final
        self.assertProblem(act("resume", prov()), 409, "conflict")
        self.assertProblem(act("suspend", prov()), 409, "conflict")
        self.assertProblem(act("revoke", SRV.admin()), 409, "conflict")
        got = get_grant(g["id"])
        self.assertEqual(got["state"], "revoked")
        self.assertEqual([e["action"] for e in got["history"]],
                         ["created", "suspended", "resumed", "revoked"])
        self.assertProblem(SRV.post("/v1/grants/g-does-not-exist/suspend", {"reason": "x"},
                                    token=SRV.admin()), 404, "not_found")


class AuditAndCatalog(h.LtTestCase):
    def test_every_state_change_is_audited(self):
        sid = new_service("it-audit")
        system, tok = new_system(CONSUMER)
        doc = self.assertStatus(create_request(sid, tok, system), 201)
        doc = self.assertStatus(decide(doc["id"], prov()), 200)
        self.assertStatus(SRV.post("/v1/requests/%s/amend" % doc["id"],
                                   {"quota_per_day": 5, "reason": "Giảm hạn mức"},
                                   token=prov()), 200)
        system2, _ = new_system(CONSUMER)
        g = self.assertStatus(SRV.post("/v1/grants", h.grant_body(CONSUMER, system2, sid),
                                       token=SRV.admin()), 201)
        for action in ("suspend", "resume", "revoke"):
            self.assertStatus(SRV.post("/v1/grants/%s/%s" % (g["id"], action),
                                       {"reason": "kiểm thử"}, token=prov()), 200)
        expected = {"requests.create": 201, "requests.decision": 200, "requests.amend": 200,
                    "grants.create": 201, "grants.suspend": 200, "grants.resume": 200,
                    "grants.revoke": 200}
        entries = wait_audit(lambda e: e.get("operation") in expected, n=len(expected),
                             service=sid)
        by_op = {}
        for e in entries:
            self.assertEqual(e["service"], sid)
            by_op.setdefault(e["operation"], []).append(e)
        self.assertEqual(set(by_op), set(expected))
        for op, status in expected.items():
            self.assertEqual([e["status"] for e in by_op[op]], [status], op)
        self.assertEqual(by_op["requests.create"][0]["org"], CONSUMER)
        self.assertEqual(by_op["requests.create"][0]["system"], system)
        self.assertEqual(by_op["requests.decision"][0]["org"], PROVIDER)
        self.assertEqual(by_op["grants.create"][0]["org"], h.OPERATOR_ORG)
        self.assertEqual(by_op["requests.create"][0]["object"], doc["id"])
        self.assertEqual(by_op["grants.revoke"][0]["object"], g["id"])
        # the hash chain still holds with these entries in it
        v = SRV.cli("verify-audit")
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        m = re.match(r"^(\d+) entries, chain valid", v.stdout)
        self.assertTrue(m, v.stdout)
        self.assertGreaterEqual(int(m.group(1)), max(e["seq"] for e in entries))

    def test_refused_decision_is_audited(self):
        p = Pending(self)
        r = SRV.post("/v1/requests/%s/decision" % p.rid, {"decision": "approve", "reason": "x"},
                     token=p.token, headers={"X-Request-Id": "it-audit-own-approval"})
        self.assertProblem(r, 403, "forbidden")
        e = wait_audit(lambda x: x.get("request_id") == "it-audit-own-approval")[0]
        self.assertEqual((e["operation"], e["status"], e["org"], e["system"]),
                         ("requests.decision", 403, CONSUMER, p.system))

    def test_catalog_allowed(self):
        org = "000.00.21.H32"  # Sở Công Thương
        own = new_service("it-cat-own", agency=org)
        granted = new_service("it-cat")
        other = new_service("it-cat")
        system, tok = new_system(org)

        def allowed():
            return ids(h.list_all(SRV, "/v1/catalog?allowed=true", tok))

        before = allowed()
        self.assertIn(own, before)
        self.assertNotIn(granted, before)
        self.assertNotIn(other, before)
        doc = self.assertStatus(create_request(granted, tok, system), 201)
        self.assertNotIn(granted, allowed())  # pending is not a grant
        gid = self.assertStatus(decide(doc["id"], prov()), 200)["grant"]
        now = allowed()
        self.assertIn(granted, now)
        self.assertNotIn(other, now)
        self.assertIn(own, now)
        # another system of the same org holds no grant
        _, tok2 = new_system(org)
        self.assertNotIn(granted, ids(h.list_all(SRV, "/v1/catalog?allowed=true", tok2)))
        # the full catalog still lists everything published
        self.assertIn(other, ids(h.list_all(SRV, "/v1/catalog", tok)))
        self.assertStatus(SRV.post("/v1/grants/%s/suspend" % gid, {"reason": "x"},
                                   token=prov()), 200)
        self.assertNotIn(granted, allowed())
        self.assertStatus(SRV.post("/v1/grants/%s/resume" % gid, {"reason": "x"},
                                   token=prov()), 200)
        self.assertIn(granted, allowed())
        self.assertStatus(SRV.post("/v1/grants/%s/revoke" % gid, {"reason": "x"},
                                   token=prov()), 200)
        self.assertNotIn(granted, allowed())


if __name__ == "__main__":
    h.main()
