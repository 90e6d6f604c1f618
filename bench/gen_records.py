#!/usr/bin/python3
"""Generates an exchange envelope of distinct indicator observations for bench/run.sh.

Records are in the indicator-observation contract shape ({indicator, area, period, value,
status, unit}) so they can be pushed to a service with an identity mapping. Codes come from the
bootstrap set (codelists/indicators*.json or indicators.json, codelists/areas*.json), so every
record passes validation; keys are indicator x area x period over the same span of years going
back from --base-year, in each indicator's own frequency (monthly when unknown).

usage: gen_records.py --bootstrap DIR --service ID [--provider CODE] [--count N]
                      [--one] [--salt S] [--out FILE]
  --one   a single record whose period lies after every generated one (the record that the
          read benchmark fetches by key); the bulk set never contains it.
  --salt  changes every value (a "changed" push); the same salt gives the same records.
Each run gets a fresh header.message_id, so a repeated push is a new message.
"""
import argparse
import glob
import json
import os
import sys
import uuid

FREQ_WORDS = {
    "A": "A", "annual": "A", "yearly": "A", "year": "A",
    "S": "S", "half-yearly": "S", "semiannual": "S", "semi-annual": "S", "half": "S",
    "Q": "Q", "quarterly": "Q", "quarter": "Q",
    "M": "M", "monthly": "M", "month": "M",
}
PER_YEAR = {"A": 1, "S": 2, "Q": 4, "M": 12}


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def codes_of(doc):
    """Codes from a code list document ({codes: [{code}]}) or a bare list."""
    items = doc.get("codes", doc.get("items", [])) if isinstance(doc, dict) else doc
    out = []
    for c in items:
        code = c.get("code") if isinstance(c, dict) else c
        if isinstance(code, str) and code:
            out.append(code)
    return out


def find_codelist(boot, wanted):
    """The code list whose id (or file name) is `wanted`."""
    for path in sorted(glob.glob(os.path.join(boot, "codelists", "*.json"))):
        doc = load_json(path)
        name = os.path.splitext(os.path.basename(path))[0]
        cid = doc.get("id") if isinstance(doc, dict) else None
        if cid == wanted or name == wanted:
            return codes_of(doc)
    return []


def indicator_catalog(boot):
    """{code: {"freq": A|S|Q|M, "unit": str|None}} from indicators.json when present."""
    path = os.path.join(boot, "indicators.json")
    if not os.path.exists(path):
        return {}
    doc = load_json(path)
    items = doc.get("items", doc.get("indicators", [])) if isinstance(doc, dict) else doc
    cat = {}
    for ind in items:
        if not isinstance(ind, dict) or "code" not in ind:
            continue
        freq = FREQ_WORDS.get(str(ind.get("periodicity", "")).strip(), "M")
        unit = ind.get("unit") if isinstance(ind.get("unit"), str) else None
        cat[ind["code"]] = {"freq": freq, "unit": unit}
    return cat


def period_text(freq, year, n):
    if freq == "A":
        return "%04d" % year
    if freq == "M":
        return "%04d-M%02d" % (year, n)
    return "%04d-%s%d" % (year, freq, n)


def periods_back(freq, base_year, count):
    """`count` distinct periods of `freq`, newest first, ending in base_year's last period."""
    per = PER_YEAR[freq]
    out = []
    for i in range(count):
        year = base_year - i // per
        n = per - i % per
        if year < 1000:
            raise SystemExit("gen_records: too many periods for frequency %s" % freq)
        out.append(period_text(freq, year, n))
    return out


def value_for(i, salt):
    # Deterministic, varied, three decimals; a salt shifts every value.
    x = (i * 2654435761 + salt * 40503) % 1000003
    return round(x / 7.0 + 1.0, 3)


def make_records(boot, count, salt, base_year):
    cat = indicator_catalog(boot)
    indicators = find_codelist(boot, "indicators") or sorted(cat)
    areas = find_codelist(boot, "areas")
    if not indicators or not areas:
        raise SystemExit("gen_records: no indicators or areas code list under %s" % boot)
    infos = [cat.get(ind, {"freq": "M", "unit": None}) for ind in indicators]
    # The same span of years for every indicator, each in its own frequency.
    per_year = sum(PER_YEAR[i["freq"]] for i in infos) * len(areas)
    years = -(-count // per_year)
    out = []
    for ind, info in zip(indicators, infos):
        periods = periods_back(info["freq"], base_year, years * PER_YEAR[info["freq"]])
        for area in areas:
            for p in periods:
                rec = {"indicator": ind, "area": area, "period": p,
                       "value": value_for(len(out), salt), "status": "ok"}
                if info["unit"] and len(info["unit"]) <= 32:
                    rec["unit"] = info["unit"]
                out.append(rec)
                if len(out) == count:
                    return out
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--provider")
    ap.add_argument("--contract")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--one", action="store_true")
    ap.add_argument("--salt", type=int, default=0)
    ap.add_argument("--base-year", type=int, default=2025)
    ap.add_argument("--out")
    a = ap.parse_args()

    if a.one:
        records = make_records(a.bootstrap, 1, a.salt, a.base_year + 1)
    else:
        records = make_records(a.bootstrap, a.count, a.salt, a.base_year)
        if len(records) < a.count:
            raise SystemExit("gen_records: only %d distinct records" % len(records))
    header = {"message_id": str(uuid.uuid4()), "service": a.service}
    if a.provider:
        header["provider"] = a.provider
    if a.contract:
        header["contract"] = a.contract
    doc = {"header": header, "records": records}
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    if a.out:
        with open(a.out, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    first = records[0]
    sys.stderr.write("gen_records: %d records, first key %s~%s~%s\n"
                     % (len(records), first["indicator"], first["area"], first["period"]))


if __name__ == "__main__":
    main()
