"""A department SOAP 1.1 service written with spyne (Debian python3-spyne), for the pull tests.

usage: soap_peer.py PORT
Operation GetThuNganSach(ky) in namespace urn:stc answers a list of KhoanThu {MaDonVi, Ky,
SoTien}: two rows of Lạng Sơn ("LS") for the month `ky` and the month before, and one row of an
unknown unit ("XX") that the gateway's mapping rejects. ky "loi" raises a SOAP fault.
"""
import logging
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from spyne import Application, ComplexModel, Fault, Array, Unicode, Decimal, rpc, ServiceBase
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

NS = "urn:stc"


class KhoanThu(ComplexModel):
    __namespace__ = NS
    MaDonVi = Unicode
    Ky = Unicode
    SoTien = Decimal


def month_before(ky):
    mm, yyyy = int(ky[:2]), int(ky[3:])
    return "%02d/%04d" % (12, yyyy - 1) if mm == 1 else "%02d/%04d" % (mm - 1, yyyy)


class NganSach(ServiceBase):
    @rpc(Unicode, _returns=Array(KhoanThu))
    def GetThuNganSach(ctx, ky):
        if ky == "loi":
            raise Fault(faultcode="Server", faultstring="Cơ sở dữ liệu ngân sách đang bảo trì")
        return [KhoanThu(MaDonVi="LS", Ky=ky, SoTien=1234500000000),
                KhoanThu(MaDonVi="LS", Ky=month_before(ky), SoTien=987000000000),
                KhoanThu(MaDonVi="XX", Ky=ky, SoTien=1)]


class QuietHandler(WSGIRequestHandler):
    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    logging.basicConfig(level=logging.CRITICAL)  # a raised Fault is expected, not news
    app = Application([NganSach], tns=NS, in_protocol=Soap11(), out_protocol=Soap11())
    make_server("127.0.0.1", int(sys.argv[1]), WsgiApplication(app),
                handler_class=QuietHandler).serve_forever()
