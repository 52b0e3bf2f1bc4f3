"""Capture raw requests of the official SDKs as golden fixtures.

Starts a recording HTTP server on 127.0.0.1 (it answers every request with
an error, so the SDKs neither retry nor need a real backend), drives one
call per SDK and signature, and writes each request as text to
crates/listener-emulator/tests/fixtures/<name>.http:

    METHOD /path?query HTTP/1.1
    header: value
    ...
    <blank line>
    body

The emulator's golden tests decode and verify these with the fixture's own
clock. Re-run after upgrading the pinned SDKs:
    compat/.venv/bin/python compat/capture.py
"""

import http.server
import json
import os
import sys
import threading

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "listener-emulator", "tests", "fixtures")
captured = []


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        captured.append((self.command, self.path, list(self.headers.items()), body))
        answer = json.dumps({"RequestId": "capture", "Code": "Captured", "Message": "captured",
                             "Response": {"RequestId": "capture",
                                          "Error": {"Code": "Captured", "Message": "captured"}}}).encode()
        # Tencent answers errors with 200; Alibaba with 4xx. 400 makes both SDKs raise.
        self.send_response(400)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST = do

    def log_message(self, *args):
        pass


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sys.argv = [sys.argv[0], url]
    import compat as c

    def drive(name, fn):
        before = len(captured)
        try:
            fn()
        except Exception:  # the recorder always answers an error
            pass
        if len(captured) != before + 1:
            raise SystemExit(f"{name}: expected one request, saw {len(captured) - before}")
        method, path, headers, body = captured[-1]
        lines = [f"{method} {path} HTTP/1.1"] + [f"{k.lower()}: {v}" for k, v in headers]
        text = "\n".join(lines) + "\n\n" + body.decode("utf-8")
        with open(os.path.join(OUT, name + ".http"), "w", encoding="utf-8") as f:
            f.write(text)
        print("captured", name)

    ga_create = {"RegionId": c.REGION, "AcceleratorId": c.GA_ACC, "Protocol": "tcp", "Name": "tcp监听_one",
                 "Description": "tcp listener 20-30 a+b", "ClientToken": "compat-token-1",
                 "PortRanges": [{"FromPort": 20, "ToPort": 30}], "ProxyProtocol": False}
    alb_create = {"LoadBalancerId": c.ALB_LB, "ListenerProtocol": "HTTPS", "ListenerPort": 443,
                  "ListenerDescription": "https_listener-1", "CaEnabled": True,
                  "Certificates": [{"CertificateId": "cert-compat01"}],
                  "CaCertificates": [{"CertificateId": "ca-compat01"}],
                  "DefaultActions": [{"Type": "ForwardGroup", "ForwardGroupConfig": {
                      "ServerGroupTuples": [{"ServerGroupId": "sgp-compat01"}]}}],
                  "XForwardedForConfig": {"XForwardedForEnabled": True}}
    drive("ga-acs3-create-listener", lambda: c.TeaDriver("ga", "acs3").invoke("CreateListener", ga_create))
    drive("ga-v2-create-listener", lambda: c.TeaDriver("ga", "v2").invoke("CreateListener", ga_create))
    drive("ga-core-rpc-create-listener", lambda: c.CoreDriver("ga").invoke("CreateListener", ga_create))
    drive("alb-acs3-create-listener", lambda: c.TeaDriver("alb", "acs3").invoke("CreateListener", alb_create))
    drive("alb-v2-create-listener", lambda: c.TeaDriver("alb", "v2").invoke("CreateListener", alb_create))

    def gaap():
        client = c.tc_client("gaap")
        req = c.gaap_models.CreateHTTPSListenerRequest()
        req.from_json_string(json.dumps({"ProxyId": c.GAAP_PROXY, "ListenerName": "https 监听 mutual", "Port": 443,
                                         "CertificateId": "cert-compat01", "ForwardProtocol": "HTTPS",
                                         "AuthType": 1, "PolyClientCertificateIds": ["ca-one", "ca-two"]}))
        client.CreateHTTPSListener(req)

    def clb():
        client = c.tc_client("clb")
        req = c.clb_models.CreateListenerRequest()
        req.from_json_string(json.dumps({"LoadBalancerId": c.CLB_LB, "Ports": [9001], "Protocol": "TCP",
                                         "ListenerNames": ["tcp 监听"],
                                         "HealthCheck": {"HealthSwitch": 1, "TimeOut": 2}}))
        client.CreateListener(req)

    drive("gaap-sdk-create-https-listener", gaap)
    drive("clb-sdk-create-listener", clb)
    server.shutdown()


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
