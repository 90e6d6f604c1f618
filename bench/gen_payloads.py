#!/usr/bin/python3
"""Writes the issue-4 mapping benchmark inputs into a folder: a SOAP 1.1 response and a
`;`-separated CSV export (decimal commas, like Vietnamese spreadsheets), each about SIZE MB,
plus the mappings that turn them into indicator-observation records.
usage: gen_payloads.py OUTDIR [SIZE_MB]"""
import json
import os
import sys

out = sys.argv[1]
size = int(sys.argv[2]) * 1000 * 1000 if len(sys.argv) > 2 else 50 * 1000 * 1000
os.makedirs(out, exist_ok=True)
areas = ["LS", "CB", "HN", "HP", "DN"]
area_map = {"LS": "20", "CB": "04", "HN": "01", "HP": "31", "DN": "48"}


def rows():
    i = 0
    while True:
        yield (areas[i % 5], "%02d/%04d" % (i % 12 + 1, 1000 + (i // 60) % 9000), i * 1000 + 7)
        i += 1


with open(os.path.join(out, "soap.xml"), "w", encoding="utf-8") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            '<GetThuNganSachResponse xmlns="urn:stc">')
    n = 0
    for a, k, v in rows():
        line = ("<KhoanThu><MaDonVi>%s</MaDonVi><Ky>%s</Ky><SoTien>%d</SoTien>"
                "<GhiChu>Thu ngân sách nhà nước</GhiChu></KhoanThu>\n" % (a, k, v))
        f.write(line)
        n += len(line.encode())
        if n >= size:
            break
    f.write("</GetThuNganSachResponse></soapenv:Body></soapenv:Envelope>")
with open(os.path.join(out, "data.csv"), "w", encoding="utf-8") as f:
    f.write("Mã đơn vị;Kỳ;Số tiền;Ghi chú\r\n")
    n = 0
    for a, k, v in rows():
        line = "%s;%s;%d,5;\"Thu ngân sách; nhà nước\"\r\n" % (a, k, v)
        f.write(line)
        n += len(line.encode())
        if n >= size:
            break
fields = {"indicator": {"const": "THU_NSNN"}, "unit": {"const": "tỷ đồng"}}
soap = {"records": "//s:KhoanThu", "namespaces": {"s": "urn:stc"}, "fields": dict(fields)}
soap["fields"].update({"area": {"path": "s:MaDonVi", "map": area_map},
                       "period": {"path": "s:Ky", "format": "MM/YYYY"},
                       "value": {"path": "s:SoTien", "type": "number", "scale": 0.000000001}})
csv = {"delimiter": ";", "fields": dict(fields)}
csv["fields"].update({"area": {"path": "Mã đơn vị", "map": area_map},
                      "period": {"path": "Kỳ", "format": "MM/YYYY"},
                      "value": {"path": "Số tiền", "type": "number", "decimal": ","}})
for name, m in (("soap", soap), ("csv", csv)):
    with open(os.path.join(out, "mapping-%s.json" % name), "w", encoding="utf-8") as f:
        json.dump(m, f, ensure_ascii=False)
