"""SDMX REST for national systems (API.md §9, docs/sdmx.md): structure queries (dataflow,
datastructure, conceptscheme, codelist with references), data queries in SDMX-ML 2.1 generic
data, SDMX-JSON 2.0.0 and SDMX-CSV 1.0.0 that agree with each other, the key syntax, periods,
first/lastNObservations, updatedAfter, detail, dimensionAtObservation, the provider part,
grants, every bad input as an SDMX error message with its code, the service limit, and a real
client: the R package rsdmx reads the data and code list messages fetched with curl.

The main data set is pushed once (setUpModule) into the bootstrap services
cts-chi-tieu-kte-xh (Thống kê tỉnh) and stc-thu-ngan-sach (Sở Tài chính); tests that change
data make their own indicators."""

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import lt_harness as h

SRV = None
CTS = "cts-chi-tieu-kte-xh"
STC = "stc-thu-ngan-sach"
FLOW = "LIENTHONG,SOCIO_ECON,1.0"
ODD_UNIT = 'tỷ đồng, "<&>"'
NS = {"m": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message",
      "g": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/generic",
      "s": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
      "c": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"}
GENERIC = "application/vnd.sdmx.genericdata+xml;version=2.1"
SJSON = "application/vnd.sdmx.data+json;version=2.0.0"
SCSV = "application/vnd.sdmx.data+csv;version=1.0.0"
STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1"
STATUS_CODE = {"ok": "A", "unknown": "U", "no_data": "M", "restricted": "C"}


def cts_records():
    recs = [h.obs("CPI", "20", "2026-M%02d" % m, 100 + m * 0.25, unit="%") for m in range(1, 13)]
    recs += [h.obs("CPI", "12", "2026-M%02d" % m, 101 + m / 3, unit="%") for m in range(1, 4)]
    recs += [h.obs("POP", "20", "2025", 802.5, unit="nghìn người"),
             h.obs("POP", "20", "2026", 810.25, unit="nghìn người"),
             h.obs("POP", "05977", "2026", 21.5, unit="nghìn người")]
    recs += [h.obs("T0501", "20", "2026-Q1", 12000.5), h.obs("T0501", "20", "2026-Q2", 12500),
             h.obs("T0501", "20", "2026-Q3", None, status="no_data")]
    return recs


def stc_records():
    recs = [h.obs("THU_NSNN", "20", "2026-M%02d" % m, 400 + 10 * m) for m in range(1, 10)]
    recs.append(h.obs("THU_NSNN", "20", "2026-M10", 512.75, unit=ODD_UNIT))
    recs += [h.obs("CHI_NSDP", "20", "2026-Q1", 2100.125),
             h.obs("CHI_NSDP", "20", "2026-Q2", None, status="restricted")]
    return recs


def sdmx_period(p):
    """The SDMX form of a canonical period: months lose their M."""
    m = re.match(r"^(\d{4})-M(\d\d)$", p)
    return "%s-%s" % m.groups() if m else p


def expected(records, agency):
    return {(r["indicator"], r["area"], sdmx_period(r["period"])):
            (r["value"], r["unit"], STATUS_CODE[r["status"]], agency) for r in records}


ALL = {}


def push(service, records, org):
    r = SRV.post("/v1/services/%s/records" % service, h.envelope(service, records, provider=org),
                 token=SRV.agency(org), content_type=h.EXCHANGE_JSON)
    assert r.status == 200 and r.json["rejected"] == 0, r
    return r.json


def setUpModule():
    global SRV
    SRV = h.Server().start()
    push(CTS, cts_records(), h.CTS_ORG)
    push(STC, stc_records(), h.STC_ORG)
    ALL.update(expected(cts_records(), h.CTS_ORG))
    ALL.update(expected(stc_records(), h.STC_ORG))


def tearDownModule():
    if SRV:
        SRV.close()


_n = [0]


def uid(prefix):
    _n[0] += 1
    return "%s%d" % (prefix, _n[0])


def new_indicator():
    code = uid("SDMXT")
    r = SRV.put("/v1/indicators/" + code, {"name": "Chỉ tiêu SDMX " + code, "unit": "%"},
                token=SRV.admin())
    assert r.status in (200, 201), r
    return code


def new_system(org):
    sub = uid("it-sdmx-app-")
    r = SRV.post("/v1/systems", {"id": sub, "agency": org, "name": "Ứng dụng " + sub},
                 token=SRV.admin())
    assert r.status == 201, r
    return sub


def data(key="all", provider=None, accept=None, token=None, path=None, **params):
    p = path or "/sdmx/data/%s/%s%s" % (FLOW, key, "/" + provider if provider else "")
    return SRV.get(p + h.qs(**params), token=token or SRV.admin(),
                   headers={"Accept": accept} if accept else None)


# ---------------------------------------------------------------------------------------------
# Reading the three formats into {(INDICATOR, REF_AREA, TIME_PERIOD): (value, unit, status,
# agency)}


def num(text):
    if text in (None, "", "NaN"):
        return None
    v = float(text)
    return int(v) if v.is_integer() and "." not in text and "e" not in text.lower() else v


def read_generic(body):
    root = ET.fromstring(body)
    assert root.tag == "{%s}GenericData" % NS["m"], root.tag
    out = {}

    at = root.find("m:Header/m:Structure", NS).get("dimensionAtObservation")

    def obs_row(o, key):
        k = dict(key)
        od = o.find("g:ObsDimension", NS)
        if od is not None:
            k[at] = od.get("value")
        for v in o.findall("g:ObsKey/g:Value", NS):
            k[v.get("id")] = v.get("value")
        ov = o.find("g:ObsValue", NS)
        attrs = {v.get("id"): v.get("value") for v in o.findall("g:Attributes/g:Value", NS)}
        kk = (k["INDICATOR"], k["REF_AREA"], k["TIME_PERIOD"])
        assert kk not in out, kk
        out[kk] = (num(ov.get("value")) if ov is not None else None,
                   attrs.get("UNIT_MEASURE", ""), attrs.get("OBS_STATUS"),
                   attrs.get("SOURCE_AGENCY"))

    ds = root.find("m:DataSet", NS)
    for s in ds.findall("g:Series", NS):
        key = {v.get("id"): v.get("value") for v in s.findall("g:SeriesKey/g:Value", NS)}
        for o in s.findall("g:Obs", NS):
            obs_row(o, key)
    for o in ds.findall("g:Obs", NS):
        obs_row(o, {})
    return out


def read_csv(body):
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    out = {}
    for r in rows:
        assert r["DATAFLOW"] == "LIENTHONG:SOCIO_ECON(1.0)", r
        out[(r["INDICATOR"], r["REF_AREA"], r["TIME_PERIOD"])] = (
            num(r["OBS_VALUE"]), r.get("UNIT_MEASURE", ""), r.get("OBS_STATUS") or None,
            r.get("SOURCE_AGENCY") or None)
    return out


ID_RE = re.compile(r"^[A-Za-z0-9_@$-]+$")
COMP_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
KEY_RE = re.compile(r"^[0-9]+(:[0-9]+)*$")


def check_values(values, where, dimension):
    assert isinstance(values, list) and values, where
    for v in values:
        assert isinstance(v, dict), where
        if dimension or "id" in v:
            assert isinstance(v.get("id"), str) and ID_RE.match(v["id"]), (where, v)
            assert isinstance(v.get("name"), str), (where, v)
        else:
            assert "value" in v or "values" in v, (where, v)


def check_component_index(x, comp, where):
    """An observation or series attribute slot: an index into values, or null."""
    if x is None:
        return None
    if "values" in comp:
        assert isinstance(x, int) and 0 <= x < len(comp["values"]), (where, x)
        v = comp["values"][x]
        return v.get("id", v.get("value"))
    return x


def validate_sdmx_json(msg):
    """Checks a message against the SDMX-JSON 2.0.0 data message structure (the field guide
    and sdmx-json-data-schema.json of sdmx-twg/sdmx-json): required members, component
    definitions, key positions, index references within bounds, observation arrays of the
    measures then the observation attributes. Returns the observations as read_generic
    does (the one structure of this service's messages)."""
    assert isinstance(msg, dict) and set(msg) <= {"meta", "data", "errors"}, msg.keys()
    assert not ("data" in msg and "errors" in msg)
    meta = msg["meta"]
    for k in ("id", "prepared", "sender"):
        assert k in meta, k
    assert ID_RE.match(meta["id"]), meta["id"]
    h.parse_time(meta["prepared"])
    assert isinstance(meta.get("test", False), bool)
    assert ID_RE.match(meta["sender"]["id"])
    assert meta.get("schema", "").startswith("https://")
    structures, datasets = msg["data"]["structures"], msg["data"]["dataSets"]
    assert isinstance(structures, list) and structures
    positions = []
    for st in structures:
        assert set(st["dimensions"]) <= {"dataSet", "series", "observation"}
        for level, comps in st["dimensions"].items():
            for d in comps:
                assert COMP_RE.match(d["id"]) and isinstance(d["keyPosition"], int)
                assert d["keyPosition"] >= 0
                positions.append(d["keyPosition"])
                check_values(d["values"], d["id"], True)
        assert len(set(positions)) == len(positions), positions
        for m in st.get("measures", {}).get("observation", []):
            assert COMP_RE.match(m["id"]) and "keyPosition" not in m
        assert set(st["attributes"]) <= {"dataSet", "dimensionGroup", "series", "observation"}
        for level, comps in st["attributes"].items():
            for a in comps:
                assert COMP_RE.match(a["id"]), a
                rel = a["relationship"]
                assert isinstance(rel, dict)
                assert sum(k in rel for k in ("dataflow", "dimensions", "observation",
                                              "primaryMeasure")) == 1, rel
                assert "keyPosition" not in a
                if "values" in a:
                    check_values(a["values"], a["id"], False)
        for link in st.get("links", []):
            assert "rel" in link and ("href" in link or "urn" in link), link
    out = {}
    for ds in datasets:
        assert isinstance(ds["structure"], int) and 0 <= ds["structure"] < len(structures)
        st = structures[ds["structure"]]
        assert ds.get("action", "Information") in ("Information", "Append", "Replace",
                                                   "Delete")
        assert isinstance(ds["links"], list) and ds["links"]
        sdims = st["dimensions"].get("series", [])
        odims = st["dimensions"].get("observation", [])
        measures = st.get("measures", {}).get("observation", [])
        sattrs = st["attributes"].get("series", [])
        oattrs = st["attributes"].get("observation", [])

        def key_of(key, dims):
            assert KEY_RE.match(key) and len(key.split(":")) == len(dims), (key, dims)
            k = {}
            for d, ix in zip(dims, key.split(":")):
                ix = int(ix)
                assert ix < len(d["values"]), (key, d["id"])
                k[d["id"]] = d["values"][ix]["id"]
            return k

        def observations(obs, skey):
            for okey, arr in obs.items():
                k = dict(skey, **key_of(okey, odims))
                assert isinstance(arr, list), arr
                assert len(measures) <= len(arr) <= len(measures) + len(oattrs), arr
                assert arr[0] is None or isinstance(arr[0], (int, float)), arr
                attrs = {}
                for a, x in zip(oattrs, arr[len(measures):]):
                    attrs[a["id"]] = check_component_index(x, a, a["id"])
                kk = (k["INDICATOR"], k["REF_AREA"], k["TIME_PERIOD"]) if "TIME_PERIOD" in k \
                    else (k["INDICATOR"], k["REF_AREA"], None)
                assert kk not in out, kk
                out[kk] = (arr[0] if measures else None, attrs.get("UNIT_MEASURE") or "",
                           attrs.get("OBS_STATUS"), attrs.get("SOURCE_AGENCY"))

        if sdims:
            assert "observations" not in ds
            for skey, s in ds["series"].items():
                k = key_of(skey, sdims)
                assert len(s.get("attributes", [])) <= len(sattrs)
                for a, x in zip(sattrs, s.get("attributes", [])):
                    check_component_index(x, a, a["id"])
                if odims:
                    observations(s.get("observations", {}), k)
                else:
                    assert not s.get("observations"), s
                    out[(k["INDICATOR"], k["REF_AREA"], k.get("TIME_PERIOD"))] = None
        else:
            observations(ds.get("observations", {}), {})
    return out


def read_json(body):
    return validate_sdmx_json(json.loads(body.decode("utf-8")))


def sdmx_error(test, r, http, code):
    """Asserts an SDMX-ML 2.1 error message with this SDMX code; returns its text."""
    test.assertEqual(r.status, http, r)
    test.assertTrue(r.content_type in ("application/xml", "text/xml"), r)
    root = ET.fromstring(r.body)
    test.assertEqual(root.tag, "{%s}Error" % NS["m"], r)
    em = root.find("m:ErrorMessage", NS)
    test.assertEqual(em.get("code"), str(code), r)
    text = em.find("c:Text", NS).text
    test.assertTrue(text, r)
    return text


# ---------------------------------------------------------------------------------------------


class Structures(h.LtTestCase):
    def structure(self, path, **params):
        r = SRV.get(path + h.qs(**params), token=SRV.admin())
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.content_type, STRUCTURE.split(";")[0], r)
        root = ET.fromstring(r.body)
        self.assertEqual(root.tag, "{%s}Structure" % NS["m"])
        self.assertEqual(root.find("m:Header/m:Sender", NS).get("id"), "LIENTHONG")
        return root

    def test_dataflow(self):
        for path in ("/sdmx/dataflow/LIENTHONG/SOCIO_ECON/1.0", "/sdmx/dataflow",
                     "/sdmx/dataflow/LIENTHONG", "/sdmx/dataflow/all/all/latest",
                     "/sdmx/dataflow/LIENTHONG/SOCIO_ECON/1.0/"):
            root = self.structure(path)
            flows = root.findall("m:Structures/s:Dataflows/s:Dataflow", NS)
            self.assertEqual([f.get("id") for f in flows], ["SOCIO_ECON"], path)
            f = flows[0]
            self.assertEqual((f.get("agencyID"), f.get("version")), ("LIENTHONG", "1.0"))
            ref = f.find("s:Structure/Ref", NS)
            self.assertEqual(ref.get("id"), "DSD_SOCIO_ECON")
            self.assertIsNone(root.find("m:Structures/s:DataStructures", NS))

    def test_datastructure(self):
        root = self.structure("/sdmx/datastructure/LIENTHONG/DSD_SOCIO_ECON/1.0")
        dsd = root.find("m:Structures/s:DataStructures/s:DataStructure", NS)
        self.assertEqual(dsd.get("id"), "DSD_SOCIO_ECON")
        comps = dsd.find("s:DataStructureComponents", NS)
        dims = comps.findall("s:DimensionList/s:Dimension", NS)
        self.assertEqual([d.get("id") for d in dims], ["INDICATOR", "REF_AREA"])
        self.assertEqual([d.find("s:LocalRepresentation/s:Enumeration/Ref", NS).get("id")
                          for d in dims], ["CL_INDICATOR", "CL_AREA"])
        self.assertEqual(comps.find("s:DimensionList/s:TimeDimension", NS).get("id"),
                         "TIME_PERIOD")
        attrs = comps.findall("s:AttributeList/s:Attribute", NS)
        self.assertEqual([a.get("id") for a in attrs],
                         ["UNIT_MEASURE", "OBS_STATUS", "SOURCE_AGENCY"])
        self.assertEqual(comps.find("s:MeasureList/s:PrimaryMeasure", NS).get("id"), "OBS_VALUE")

    def test_codelist_area(self):
        root = self.structure("/sdmx/codelist/LIENTHONG/CL_AREA/1.0")
        lists = root.findall("m:Structures/s:Codelists/s:Codelist", NS)
        self.assertEqual([c.get("id") for c in lists], ["CL_AREA"])
        codes = {c.get("id"): c for c in lists[0].findall("s:Code", NS)}
        areas = h.load_example("codelists", "areas.json")["codes"]
        self.assertEqual(set(codes), {a["code"] for a in areas})
        self.assertEqual(codes["20"].find("c:Name", NS).text, "Lạng Sơn")
        self.assertIsNone(codes["20"].find("s:Parent", NS))
        self.assertEqual(codes["05977"].find("s:Parent/Ref", NS).get("id"), "20")

    def test_codelist_indicator_and_status(self):
        root = self.structure("/sdmx/codelist/LIENTHONG/CL_INDICATOR")
        cl = root.find("m:Structures/s:Codelists/s:Codelist[@id='CL_INDICATOR']", NS)
        got = {c.get("id"): c.find("c:Name", NS).text for c in cl.findall("s:Code", NS)}
        want = h.load_example("codelists", "indicators.json")["codes"]
        for c in want:
            self.assertEqual(got[c["code"]], c["name"])
        root = self.structure("/sdmx/codelist/all/CL_OBS_STATUS/latest")
        codes = [c.get("id") for c in root.findall(".//s:Codelist/s:Code", NS)]
        self.assertEqual(codes, ["A", "E", "P", "M", "U", "C"])

    def test_references(self):
        root = self.structure("/sdmx/dataflow/LIENTHONG/SOCIO_ECON/1.0", references="all")
        st = root.find("m:Structures", NS)
        self.assertEqual(len(st.findall("s:DataStructures/s:DataStructure", NS)), 1)
        self.assertEqual(sorted(c.get("id") for c in st.findall("s:Codelists/s:Codelist", NS)),
                         ["CL_AREA", "CL_INDICATOR", "CL_OBS_STATUS"])
        self.assertEqual(len(st.findall("s:Concepts/s:ConceptScheme/s:Concept", NS)), 7)
        root = self.structure("/sdmx/codelist/LIENTHONG/CL_AREA", references="parents")
        self.assertEqual(len(root.findall(".//s:DataStructure", NS)), 1)
        root = self.structure("/sdmx/datastructure", references="codelist")
        self.assertEqual(len(root.findall(".//s:Codelist", NS)), 3)
        root = self.structure("/sdmx/conceptscheme/LIENTHONG/CS_SOCIO_ECON/1.0")
        self.assertEqual(len(root.findall(".//s:Concept", NS)), 7)

    def test_structure_errors(self):
        tok = SRV.admin()
        sdmx_error(self, SRV.get("/sdmx/codelist/LIENTHONG/CL_NOPE", token=tok), 404, 100)
        sdmx_error(self, SRV.get("/sdmx/codelist/ECB/CL_AREA", token=tok), 404, 100)
        sdmx_error(self, SRV.get("/sdmx/dataflow/LIENTHONG/SOCIO_ECON/9.9", token=tok), 404,
                   100)
        sdmx_error(self, SRV.get("/sdmx/categoryscheme", token=tok), 501, 501)
        sdmx_error(self, SRV.get("/sdmx/nonsense", token=tok), 404, 100)
        sdmx_error(self, SRV.get("/sdmx/data", token=tok), 400, 140)
        sdmx_error(self, SRV.get("/sdmx/dataflow?references=cousins", token=tok), 400, 140)
        sdmx_error(self, SRV.get("/sdmx/dataflow?detail=referencepartial", token=tok), 501, 501)
        sdmx_error(self, SRV.get("/sdmx/dataflow", token=tok,
                                 headers={"Accept": "application/json"}), 406, 406)
        r = SRV.get("/sdmx/dataflow", token=tok, headers={"Accept": "application/xml"})
        self.assertEqual(r.status, 200, r)


class Data(h.LtTestCase):
    def test_three_formats_agree(self):
        x, j, c = (data(accept=a) for a in (GENERIC, SJSON, SCSV))
        for r, t in ((x, GENERIC), (j, SJSON), (c, SCSV)):
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.content_type, t.split(";")[0], r)
        gx, gj, gc = read_generic(x.body), read_json(j.body), read_csv(c.body)
        self.assertEqual(gx, ALL)
        self.assertEqual(gj, ALL)
        self.assertEqual(gc, ALL)
        self.assertEqual(len(ALL), 33)
        self.assertIn(b'value="t\xe1\xbb\xb7 \xc4\x91\xe1\xbb\x93ng, &quot;&lt;&amp;&gt;&quot;"',
                      x.body)
        # the header names the flow and the observation dimension
        root = ET.fromstring(x.body)
        st = root.find("m:Header/m:Structure", NS)
        self.assertEqual(st.get("dimensionAtObservation"), "TIME_PERIOD")
        self.assertEqual(st.find("c:StructureUsage/Ref", NS).get("id"), "SOCIO_ECON")
        self.assertEqual(root.find("m:DataSet", NS).get("structureRef"), st.get("structureID"))

    def test_accept_aliases_and_format_parameter(self):
        for accept, want in ((None, GENERIC), ("*/*", GENERIC), ("application/xml", GENERIC),
                             ("text/xml", GENERIC), ("application/json", SJSON),
                             ("text/csv", SCSV), ("application/vnd.sdmx.data+json", SJSON),
                             ("text/html;q=0.9, text/csv;q=0.8", SCSV)):
            r = data("CPI.20", accept=accept)
            self.assertEqual(r.status, 200, (accept, r))
            self.assertEqual(r.content_type, want.split(";")[0], accept)
        r = data("CPI.20", accept="text/html", format="csvdata")
        self.assertEqual(r.content_type, SCSV.split(";")[0], r)
        self.assertEqual(len(read_csv(r.body)), 12)
        r = data("CPI.20", format="jsondata")
        self.assertEqual(len(read_json(r.body)), 12)

    def test_json_variants_follow_the_spec(self):
        for params in ({}, {"dimensionAtObservation": "AllDimensions"},
                       {"dimensionAtObservation": "REF_AREA"}, {"detail": "dataonly"},
                       {"detail": "serieskeysonly"}, {"detail": "nodata"},
                       {"lastNObservations": "1"}):
            r = data(accept=SJSON, **params)
            self.assertEqual(r.status, 200, (params, r))
            got = read_json(r.body)
            if params.get("detail") in ("serieskeysonly", "nodata"):
                self.assertEqual(len(got), 7, params)
            elif params.get("lastNObservations"):
                self.assertEqual(len(got), 7, params)
            else:
                self.assertEqual(set(got), set(ALL), params)
                if "detail" not in params:
                    self.assertEqual(got, ALL, params)

    def csv_keys(self, r):
        self.assertEqual(r.status, 200, r)
        return sorted(read_csv(r.body))

    def test_key_filters(self):
        def count(key, **kw):
            return len(self.csv_keys(data(key, accept="text/csv", **kw)))
        self.assertEqual(count("CPI.20"), 12)
        self.assertEqual(count("CPI+POP.20+12"), 12 + 3 + 2)
        self.assertEqual(count("CPI%2BPOP.20%2B12"), 17)
        self.assertEqual(count(".05977"), 1)
        self.assertEqual(count("CPI."), 15)
        self.assertEqual(count("."), 33)
        self.assertEqual(count("all"), 33)
        self.assertEqual(count("THU_NSNN+CHI_NSDP.20"), 12)
        self.assertEqual(count("CPI.20/"), 12)  # a trailing slash
        r = data(path="/sdmx/data/SOCIO_ECON/POP.20", accept="text/csv")
        self.assertEqual(self.csv_keys(r), [("POP", "20", "2025"), ("POP", "20", "2026")])
        r = data(path="/sdmx/data/SOCIO_ECON", accept="text/csv")
        self.assertEqual(len(self.csv_keys(r)), 33)
        sdmx_error(self, data("NOPE.20"), 404, 100)

    def test_periods(self):
        def months(**kw):
            return [k[2] for k in self.csv_keys(data("CPI.20", accept="text/csv", **kw))]
        self.assertEqual(months(startPeriod="2026-M03", endPeriod="2026-05"),
                         ["2026-03", "2026-04", "2026-05"])
        self.assertEqual(months(startPeriod="2026-03-01", endPeriod="2026-05-31"),
                         ["2026-03", "2026-04", "2026-05"])
        self.assertEqual(months(startPeriod="2026-Q4"), ["2026-10", "2026-11", "2026-12"])
        self.assertEqual(months(endPeriod="2026-02"), ["2026-01", "2026-02"])
        self.assertEqual(months(startPeriod="2026-S2", endPeriod="2026-S2"),
                         ["2026-%02d" % m for m in range(7, 13)])
        keys = self.csv_keys(data("POP.", accept="text/csv", startPeriod="2026-A1"))
        self.assertEqual(keys, [("POP", "05977", "2026"), ("POP", "20", "2026")])
        sdmx_error(self, data("CPI.20", startPeriod="2030"), 404, 100)

    def test_first_and_last_observations(self):
        def months(**kw):
            return [k[2] for k in self.csv_keys(data("CPI.20", accept="text/csv", **kw))]
        self.assertEqual(months(firstNObservations=2), ["2026-01", "2026-02"])
        self.assertEqual(months(lastNObservations=3), ["2026-10", "2026-11", "2026-12"])
        self.assertEqual(months(firstNObservations=1, lastNObservations=1),
                         ["2026-01", "2026-12"])
        self.assertEqual(months(lastNObservations=2, endPeriod="2026-06"),
                         ["2026-05", "2026-06"])
        per_series = self.csv_keys(data(accept="text/csv", lastNObservations=1))
        self.assertEqual(len(per_series), 7)
        self.assertIn(("THU_NSNN", "20", "2026-10"), per_series)
        self.assertIn(("POP", "20", "2026"), per_series)

    def test_updated_after(self):
        ind = new_indicator()
        push(CTS, [h.obs(ind, "20", "2026-M01", 1, unit="%"),
                   h.obs(ind, "20", "2026-M02", 2, unit="%")], h.CTS_ORG)
        time.sleep(0.3)
        t = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + (".%06dZ" % (
            int(t * 1e6) % 1000000))
        time.sleep(0.3)
        push(CTS, [h.obs(ind, "20", "2026-M02", 2.5, unit="%"),
                   h.obs(ind, "20", "2026-M03", 3, unit="%")], h.CTS_ORG)
        got = read_csv(data(ind + ".20", accept="text/csv", updatedAfter=stamp).body)
        self.assertEqual({k[2]: v[0] for k, v in got.items()}, {"2026-02": 2.5, "2026-03": 3})
        # the same instant with an offset, its '+' sent unencoded (decoded as a space)
        local = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + 7 * 3600)) + (
            ".%06d+07:00" % (int(t * 1e6) % 1000000))
        r = SRV.get("/sdmx/data/%s/%s.20?updatedAfter=%s" % (FLOW, ind, local),
                    token=SRV.admin(), headers={"Accept": "text/csv"})
        self.assertEqual(len(read_csv(r.body)), 2, r)
        self.assertEqual(len(read_csv(data(ind + ".20", accept="text/csv",
                                           updatedAfter="2000-01-01").body)), 3)
        sdmx_error(self, data(ind + ".20", updatedAfter=h.rfc3339(time.time() + 3600)), 404,
                   100)
        sdmx_error(self, data(ind + ".20", updatedAfter="yesterday"), 400, 140)

    def test_detail(self):
        r = data("CPI.20", detail="dataonly")
        root = ET.fromstring(r.body)
        self.assertEqual(len(root.findall(".//g:Obs", NS)), 12)
        self.assertEqual(root.findall(".//g:Attributes", NS), [])
        r = data("CPI.20", detail="dataonly", accept="text/csv")
        self.assertEqual(r.body.decode().splitlines()[0],
                         "DATAFLOW,INDICATOR,REF_AREA,TIME_PERIOD,OBS_VALUE")
        for detail in ("serieskeysonly", "nodata"):
            root = ET.fromstring(data(detail=detail).body)
            self.assertEqual(root.findall(".//g:Obs", NS), [])
            series = root.findall(".//g:Series", NS)
            self.assertEqual(len(series), 7)
            lines = data(detail=detail, accept="text/csv").body.decode().splitlines()
            self.assertEqual(lines[0], "DATAFLOW,INDICATOR,REF_AREA")
            self.assertEqual(len(lines), 8)
        root = ET.fromstring(data("CPI.20", detail="full").body)
        self.assertEqual(len(root.findall(".//g:Obs/g:Attributes", NS)), 12)

    def test_dimension_at_observation(self):
        r = data(dimensionAtObservation="AllDimensions")
        root = ET.fromstring(r.body)
        self.assertEqual(root.find("m:Header/m:Structure", NS).get("dimensionAtObservation"),
                         "AllDimensions")
        self.assertEqual(root.findall(".//g:Series", NS), [])
        self.assertEqual(len(root.findall("m:DataSet/g:Obs/g:ObsKey", NS)), 33)
        self.assertEqual(read_generic(r.body), ALL)
        j = read_json(data(dimensionAtObservation="AllDimensions", accept=SJSON).body)
        self.assertEqual(j, ALL)
        # the area at the observation: cross-sections of one indicator and period
        r = data("CPI.20+12", dimensionAtObservation="REF_AREA")
        root = ET.fromstring(r.body)
        series = root.findall(".//g:Series", NS)
        self.assertEqual(len(series), 12)
        first = series[0]
        self.assertEqual({v.get("id"): v.get("value")
                          for v in first.findall("g:SeriesKey/g:Value", NS)},
                         {"INDICATOR": "CPI", "TIME_PERIOD": "2026-01"})
        self.assertEqual(sorted(o.get("value") for o in first.findall(
            "g:Obs/g:ObsDimension", NS)), ["12", "20"])
        self.assertEqual(len(read_generic(r.body)), 15)

    def test_provider(self):
        cts = read_csv(data(provider=h.CTS_ORG, accept="text/csv").body)
        self.assertEqual(len(cts), 21)
        self.assertEqual({v[3] for v in cts.values()}, {h.CTS_ORG})
        stc = read_csv(data(provider="LIENTHONG," + h.STC_ORG, accept="text/csv").body)
        self.assertEqual(set(stc), {k for k, v in ALL.items() if v[3] == h.STC_ORG})
        both = read_csv(data(provider=h.CTS_ORG + "+" + h.STC_ORG, accept="text/csv").body)
        self.assertEqual(len(both), 33)
        self.assertEqual(len(read_csv(data(provider="all", accept="text/csv").body)), 33)
        last = read_csv(data(provider=h.CTS_ORG, accept="text/csv", lastNObservations=1).body)
        self.assertEqual(len(last), 5)
        sdmx_error(self, data(provider="000.00.99.H32"), 404, 100)
        sdmx_error(self, data(provider="ECB,X1"), 404, 100)

    def test_grants(self):
        sub = new_system(h.SYT_ORG)
        tok = SRV.agency(h.SYT_ORG, sub)
        # no grant: nothing this caller may read, so no results
        sdmx_error(self, data(token=tok), 404, 100)
        fields = ("indicator", "area", "period", "value", "status", "unit")
        r = SRV.post("/v1/grants", h.grant_body(h.SYT_ORG, sub, CTS, fields=fields),
                     token=SRV.admin())
        self.assertEqual(r.status, 201, r)
        got = read_csv(data(token=tok, accept="text/csv").body)
        self.assertEqual(got, {k: v for k, v in ALL.items() if v[3] == h.CTS_ORG})
        # structures are metadata: any caller reads them
        self.assertEqual(SRV.get("/sdmx/dataflow", token=tok).status, 200)
        # a provider sees its own services
        own = read_csv(data(token=SRV.agency(h.STC_ORG), accept="text/csv").body)
        self.assertEqual(set(own), {k for k, v in ALL.items() if v[3] == h.STC_ORG})
        # a national system reads through a grant too
        nat = uid("it-sdmx-nat-")
        self.assertStatus(SRV.post("/v1/systems", {"id": nat, "agency": "000.00.00.H32",
                                                   "name": "Hệ thống quốc gia " + nat},
                                   token=SRV.admin()), 201)
        ntok = SRV.token(sub=nat, org="000.00.00.H32", roles="national")
        sdmx_error(self, data(token=ntok), 404, 100)
        r = SRV.post("/v1/grants", h.grant_body("000.00.00.H32", nat, STC), token=SRV.admin())
        self.assertEqual(r.status, 201, r)
        # its grant leaves out unit and status: the values come without those attributes
        got = read_csv(data(token=ntok, accept="text/csv").body)
        self.assertEqual({k: v[0] for k, v in got.items()},
                         {k: v[0] for k, v in ALL.items() if v[3] == h.STC_ORG})
        self.assertEqual({(v[1], v[2]) for v in got.values()}, {("", None)})

    def test_rsdmx_reads_data_and_codelist(self):
        # A real client is the point: a missing R is a failure (scripts/deps.sh test installs it).
        rscript = shutil.which("Rscript")
        self.assertTrue(rscript, "Rscript is not installed (scripts/deps.sh test installs "
                        "r-cran-rsdmx)")
        probe = subprocess.run([rscript, "-e", "suppressPackageStartupMessages(library(rsdmx))"],
                               capture_output=True, text=True)
        self.assertEqual(probe.returncode, 0, "the R package rsdmx is not installed "
                         "(r-cran-rsdmx): " + probe.stderr[-300:])
        tmp = tempfile.mkdtemp(prefix="lt-sdmx-r-")
        try:
            base = "http://127.0.0.1:%d" % SRV.port
            files = {"data.xml": "/sdmx/data/%s/CPI+T0501+THU_NSNN.20" % FLOW,
                     "cl.xml": "/sdmx/codelist/LIENTHONG/CL_AREA/1.0"}
            for name, path in files.items():
                subprocess.run(["curl", "-sS", "--fail", "-o", os.path.join(tmp, name), "-H",
                                "Authorization: Bearer " + SRV.agency(h.CTS_ORG), "-H",
                                "Accept: application/xml", base + path], check=True, timeout=60)
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdmx_check.R")
            p = subprocess.run([rscript, script, os.path.join(tmp, "data.xml"),
                                os.path.join(tmp, "cl.xml")], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(p.returncode, 0, p.stderr)
            lines = [ln.split("\t") for ln in p.stdout.splitlines()]
            rows = [ln[1:] for ln in lines if ln[0] == "OBS"]
            self.assertEqual([ln for ln in lines if ln[0] == "ROWS"], [["ROWS", "15"]])
            want = {k: v for k, v in ALL.items() if k[0] == "CPI" and k[1] == "20"}
            want.update({k: v for k, v in ALL.items() if k[0] == "T0501"})
            # CTS's token: only its own services (CPI, T0501), not STC's THU_NSNN
            got = {}
            for ind, area, period, value, unit, status, agency in rows:
                got[(ind, area, period)] = (None if value == "NA" else float(value), unit,
                                            status, agency)
            self.assertEqual(set(got), set(want))
            for k, v in want.items():
                self.assertEqual(got[k][1:], v[1:], k)
                if v[0] is None:
                    self.assertIsNone(got[k][0], k)
                else:
                    self.assertAlmostEqual(got[k][0], v[0], places=9, msg=k)
            self.assertIn(["CODELIST", "CL_AREA", "LIENTHONG", "1.0"], lines)
            areas = h.load_example("codelists", "areas.json")["codes"]
            self.assertIn(["CODES", str(len(areas))], lines)
            codes = {ln[1]: ln[2] for ln in lines if ln[0] == "CODE"}
            self.assertEqual(set(codes), {a["code"] for a in areas})
            self.assertEqual(codes["20"], "Lạng Sơn")
            self.assertEqual(codes["05977"], "Phường Tam Thanh")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class BadInput(h.LtTestCase):
    def test_unknown_flow(self):
        for flow in ("LIENTHONG,NOPE,1.0", "ECB,EXR,1.0", "LIENTHONG,SOCIO_ECON,2.0"):
            text = sdmx_error(self, data(path="/sdmx/data/%s/all" % flow), 404, 100)
            self.assertIn("SOCIO_ECON", text)

    def test_key_with_too_many_positions(self):
        text = sdmx_error(self, data("CPI.20.M"), 400, 140)
        self.assertIn("3 positions", text)
        sdmx_error(self, data("CPI"), 400, 140)
        sdmx_error(self, data(urllib.parse.quote("CPI.<20>")), 400, 140)
        sdmx_error(self, data("CPI++POP.20"), 400, 140)

    def test_malformed_periods(self):
        for params in ({"startPeriod": "2026-13"}, {"endPeriod": "2026-Q5"},
                       {"startPeriod": "tháng 3"}, {"startPeriod": ""}):
            text = sdmx_error(self, data("CPI.20", **params), 400, 140)
            self.assertIn(list(params)[0], text)

    def test_start_after_end(self):
        text = sdmx_error(self, data("CPI.20", startPeriod="2026-06", endPeriod="2026-Q1"),
                          400, 150)
        self.assertIn("after", text)

    def test_not_acceptable(self):
        for accept in ("text/html", "application/vnd.sdmx.data+json;version=1.0.0",
                       "application/vnd.sdmx.structurespecificdata+xml;version=2.1",
                       "application/json;q=0"):
            sdmx_error(self, data("CPI.20", accept=accept), 406, 406)
        sdmx_error(self, data("CPI.20", format="compactdata"), 406, 406)

    def test_other_parameters(self):
        for params in ({"firstNObservations": "0"}, {"lastNObservations": "x"},
                       {"detail": "everything"}, {"dimensionAtObservation": "FREQ"}):
            sdmx_error(self, data("CPI.20", **params), 400, 140)
        sdmx_error(self, data("CPI.20", includeHistory="true"), 501, 501)
        r = SRV.get("/sdmx/data/%s/CPI.20?detail=full&detail=dataonly" % FLOW, token=SRV.admin())
        sdmx_error(self, r, 400, 140)
        # unknown parameters are ignored, as SDMX services do
        self.assertEqual(data("CPI.20", foo="bar").status, 200)

    def test_no_token_and_methods(self):
        r = SRV.get("/sdmx/data/%s/all" % FLOW)
        sdmx_error(self, r, 401, 110)  # even before the SDMX handler: an SDMX error message
        r = SRV.post("/sdmx/data/%s/all" % FLOW, {}, token=SRV.admin())
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.headers["allow"], "GET")


def cap_5000(cfg):
    cfg.setdefault("limits", {})["max_observations_per_query"] = 5000


class ServiceLimit(h.LtTestCase):
    """A query that would return more than the service limit (500,000 observations, or
    limits.max_observations_per_query when lower: 5,000 here, so the test stores 5,400 rather
    than 540,000) is refused with SDMX 510 and HTTP 413 naming the count; a narrower query
    still answers. This class runs its own server."""

    srv = None

    @classmethod
    def setUpClass(cls):
        cls.srv = h.Server(config_patch=cap_5000).start()
        tok = cls.srv.agency(h.CTS_ORG)
        for k, ind in enumerate(("CPI", "POP", "IIP", "BLHH", "XNK_CK", "T0501")):
            recs = [h.obs(ind, "20", "%04d-%02d-%02d" % (2000 + i // 336, 1 + (i // 28) % 12,
                                                         1 + i % 28), i + k / 8, unit="%")
                    for i in range(900)]
            r = cls.srv.post("/v1/services/%s/records" % CTS, h.envelope(CTS, recs), token=tok,
                             content_type=h.EXCHANGE_JSON, timeout=600)
            assert r.status == 200 and r.json["accepted"] == 900, r

    @classmethod
    def tearDownClass(cls):
        if cls.srv:
            cls.srv.close()

    def test_refused_past_the_limit_and_narrower_queries_answer(self):
        for accept in (GENERIC, SJSON, SCSV):
            r = self.srv.get("/sdmx/data/%s/all" % FLOW, token=self.srv.admin(),
                             headers={"Accept": accept}, timeout=600)
            text = sdmx_error(self, r, 413, 510)
            self.assertIn("narrow", text)
            self.assertIn("5400", text)
        r = self.srv.get("/sdmx/data/%s/all?lastNObservations=1" % FLOW,
                         token=self.srv.admin(), headers={"Accept": SCSV}, timeout=600)
        self.assertEqual(len(read_csv(r.body)), 6, r)
        r = self.srv.get("/sdmx/data/%s/CPI.20?startPeriod=2001-01-01&endPeriod=2001-12-31"
                         % FLOW, token=self.srv.admin(), headers={"Accept": SJSON}, timeout=600)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(read_json(r.body)), 336)


if __name__ == "__main__":
    h.main()
