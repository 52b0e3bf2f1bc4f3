"""Drive listener-emulator through the vendors' official Python SDKs.

Every action our adapters use, through every SDK and signature listed in
docs/emulator.md, with realistic parameters (spaces and non-ASCII text,
arrays, nested structures, booleans). Each call must be accepted, and each
answer must parse into the SDK's own response model with the field types
that model declares and no field it does not know. Negative cases must
answer the vendor's error code as the SDK surfaces it.

Usage: compat.py URL [--capture DIR]
Prints one line `compat: A/N calls accepted, T/N responses typed, G/M negative`
and exits non-zero on any failure.
"""

import contextlib
import json
import re
import sys
import time
import typing
import uuid
import warnings

URL = sys.argv[1]
ENDPOINT = URL.split("://", 1)[1].rstrip("/")

TC_ID = "AKIDEMULATOR0000000000000000000000000"
TC_KEY = "emulator-tencent-secret-key"
ALI_ID = "LTAIEMULATOR000000000000"
ALI_SECRET = "emulator-alibaba-access-key-secret"

GAAP_PROXY = "link-compat01"
CLB_LB = "lb-compat01"
ALB_LB = "alb-compat01"
ALB_SGP = ["sgp-compat01", "sgp-compat02"]
GA_ACC = "ga-compat01"
REGION = "cn-hangzhou"

calls = {"total": 0, "accepted": 0, "typed": 0}
negative = {"total": 0, "ok": 0}
failures = []


def fail(label, why):
    failures.append(f"{label}: {why}")
    print(f"FAIL {label}: {why}", file=sys.stderr)


# ---------------------------------------------------------------------------
# Type checks against the SDKs' models
# ---------------------------------------------------------------------------


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


TC_SCALARS = {
    "str": lambda v: isinstance(v, str),
    "int": is_int,
    "bool": lambda v: isinstance(v, bool),
    "float": lambda v: is_int(v) or isinstance(v, float),
}


def tc_declared(cls):
    """Field -> declared type text, from the model's `:type X: T` lines."""
    doc = cls.__init__.__doc__ or ""
    return {m.group(1): m.group(2).strip() for m in re.finditer(r":type _?(\w+): (.+)", doc)}


def tc_check(obj, path, errors):
    """Walk a Tencent model instance; every field must have its declared
    type (null allowed: the models document most fields as nullable)."""
    module = sys.modules[type(obj).__module__]
    for name, typ in tc_declared(type(obj)).items():
        value = getattr(obj, "_" + name, None)
        tc_value(value, typ, f"{path}.{name}", module, errors)


def tc_value(value, typ, path, module, errors):
    if value is None:
        return
    if typ.startswith("list of "):
        if not isinstance(value, list):
            errors.append(f"{path}: {type(value).__name__}, model says {typ}")
            return
        for i, item in enumerate(value):
            tc_value(item, typ[len("list of "):], f"{path}[{i}]", module, errors)
        return
    if typ in TC_SCALARS:
        if not TC_SCALARS[typ](value):
            errors.append(f"{path}: {type(value).__name__} {value!r}, model says {typ}")
        return
    cls = getattr(module, typ, None)
    if cls is None:
        return  # a type the harness does not know (none seen so far)
    if not isinstance(value, cls):
        errors.append(f"{path}: {type(value).__name__}, model says {typ}")
        return
    tc_check(value, path, errors)


def ali_check(obj, path, errors):
    """Walk an Alibaba (Darabonba) model instance against its type hints."""
    hints = typing.get_type_hints(type(obj).__init__)
    for name, typ in hints.items():
        if name == "return":
            continue
        ali_value(getattr(obj, name, None), typ, f"{path}.{name}", errors)


def ali_value(value, typ, path, errors):
    if value is None:
        return
    origin = typing.get_origin(typ)
    if origin is list:
        if not isinstance(value, list):
            errors.append(f"{path}: {type(value).__name__}, model says {typ}")
            return
        (inner,) = typing.get_args(typ)
        for i, item in enumerate(value):
            ali_value(item, inner, f"{path}[{i}]", errors)
        return
    if origin is dict or typ is typing.Any:
        return
    if typ is bool:
        ok = isinstance(value, bool)
    elif typ is int:
        ok = is_int(value)
    elif typ is float:
        ok = is_int(value) or isinstance(value, float)
    elif typ is str:
        ok = isinstance(value, str)
    elif isinstance(typ, type):
        ok = isinstance(value, typ)
        if ok:
            ali_check(value, path, errors)
    else:
        ok = True
    if not ok:
        errors.append(f"{path}: {type(value).__name__} {value!r}, model says {typ}")


def unknown_fields(raw, mapped, path, errors):
    """Fields in the raw answer that the model does not know."""
    if isinstance(raw, dict) and isinstance(mapped, dict):
        for k, v in raw.items():
            if k not in mapped:
                errors.append(f"{path}.{k}: not in the SDK's model")
            else:
                unknown_fields(v, mapped[k], f"{path}.{k}", errors)
    elif isinstance(raw, list) and isinstance(mapped, list):
        for i, (a, b) in enumerate(zip(raw, mapped)):
            unknown_fields(a, b, f"{path}[{i}]", errors)


def accepted(label, typed_errors):
    calls["accepted"] += 1
    if typed_errors:
        for e in typed_errors:
            fail(label, "response type: " + e)
    else:
        calls["typed"] += 1


# ---------------------------------------------------------------------------
# Tencent
# ---------------------------------------------------------------------------

from tencentcloud.common import credential  # noqa: E402
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException  # noqa: E402
from tencentcloud.common.profile.client_profile import ClientProfile  # noqa: E402
from tencentcloud.common.profile.http_profile import HttpProfile  # noqa: E402
from tencentcloud.clb.v20180317 import clb_client, models as clb_models  # noqa: E402
from tencentcloud.gaap.v20180529 import gaap_client, models as gaap_models  # noqa: E402


def tc_client(kind, key_id=TC_ID, key=TC_KEY):
    http = HttpProfile(protocol="http", endpoint=ENDPOINT, reqTimeout=30)
    profile = ClientProfile(httpProfile=http)
    cred = credential.Credential(key_id, key)
    if kind == "gaap":
        return gaap_client.GaapClient(cred, "", profile)
    return clb_client.ClbClient(cred, "ap-guangzhou", profile)


def tc_models(client):
    return gaap_models if isinstance(client, gaap_client.GaapClient) else clb_models


def tc_call(client, action, params, label=None):
    """One typed call; returns the response model, or None on failure."""
    label = label or f"tencent-sdk {action}"
    calls["total"] += 1
    models = tc_models(client)
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            resp = getattr(client, action)(req)
    except TencentCloudSDKException as e:
        fail(label, f"refused: {e.get_code()} {e.get_message()}")
        return None
    errors = []
    tc_check(resp, action + "Response", errors)
    for w in caught:
        if "useless" in str(w.message):
            errors.append(f"fields not in the SDK's model: {w.message}")
    accepted(label, errors)
    return resp


def tc_negative(client, action, params, code, label):
    negative["total"] += 1
    models = tc_models(client)
    req = getattr(models, action + "Request")()
    req.from_json_string(json.dumps(params))
    try:
        getattr(client, action)(req)
    except TencentCloudSDKException as e:
        if e.get_code() == code:
            negative["ok"] += 1
        else:
            fail(label, f"answered {e.get_code()}, vendor answers {code}")
        return
    fail(label, f"accepted, vendor answers {code}")


@contextlib.contextmanager
def clock_offset(seconds):
    """Shift time.time() for SDKs that sign with it (expired timestamps)."""
    real = time.time
    time.time = lambda: real() + seconds
    try:
        yield
    finally:
        time.time = real


def wait_gaap(client, kind, listener_id):
    for _ in range(100):
        resp = tc_call(client, f"Describe{kind}Listeners", {"ProxyId": GAAP_PROXY, "ListenerId": listener_id},
                       label=f"tencent-sdk Describe{kind}Listeners (poll)")
        if resp is None or resp.ListenerSet and resp.ListenerSet[0].ListenerStatus == 0:
            return
        time.sleep(0.05)


def run_gaap():
    c = tc_client("gaap")
    base = {"ProxyId": GAAP_PROXY}
    ids = {}
    r = tc_call(c, "CreateTCPListeners", {**base, "ListenerName": "tcp 监听 one", "Ports": [10001, 10002],
                                          "Scheduler": "wrr", "HealthCheck": 1, "RealServerType": "IP",
                                          "ConnectTimeout": 2, "DelayLoop": 5, "ClientIPMethod": 0,
                                          "HealthyThreshold": 2, "UnhealthyThreshold": 3})
    if r:
        ids["TCP"] = r.ListenerIds[0]
        wait_gaap(c, "TCP", r.ListenerIds[0])
        wait_gaap(c, "TCP", r.ListenerIds[1])
        delete_later = [r.ListenerIds[1]]
    else:
        delete_later = []
    r = tc_call(c, "CreateUDPListeners", {**base, "ListenerName": "udp 监听", "Ports": [10003],
                                          "Scheduler": "rr", "RealServerType": "IP"})
    if r:
        ids["UDP"] = r.ListenerIds[0]
        wait_gaap(c, "UDP", ids["UDP"])
    r = tc_call(c, "CreateHTTPListener", {**base, "ListenerName": "http 监听", "Port": 80})
    if r:
        ids["HTTP"] = r.ListenerId
        wait_gaap(c, "HTTP", ids["HTTP"])
    r = tc_call(c, "CreateHTTPSListener", {**base, "ListenerName": "https 监听 mutual", "Port": 443,
                                           "CertificateId": "cert-compat01", "ForwardProtocol": "HTTPS",
                                           "AuthType": 1, "PolyClientCertificateIds": ["ca-one", "ca-two"],
                                           "Http3Supported": 0})
    if r:
        ids["HTTPS"] = r.ListenerId
    for kind, lid in ids.items():
        wait_gaap(c, kind, lid)
    modify = {
        "TCP": {"ListenerName": "tcp renamed 名", "Scheduler": "rr", "HealthCheck": 0},
        "UDP": {"ListenerName": "udp renamed 名"},
        "HTTP": {"ListenerName": "http renamed 名"},
        "HTTPS": {"ListenerName": "https renamed 名", "PolyClientCertificateIds": ["ca-three"]},
    }
    for kind, lid in ids.items():
        tc_call(c, f"Modify{kind}ListenerAttribute", {**base, "ListenerId": lid, **modify[kind]})
        wait_gaap(c, kind, lid)
    for kind in ["TCP", "UDP", "HTTP", "HTTPS"]:
        r = tc_call(c, f"Describe{kind}Listeners", {**base, "Offset": 0, "Limit": 50})
        names = [l.ListenerName for l in (r.ListenerSet if r else [])]
        if kind in ids and modify[kind]["ListenerName"] not in names:
            fail(f"tencent-sdk Describe{kind}Listeners", f"names {names}, sent {modify[kind]['ListenerName']!r}")
    # Negative cases.
    tc_negative(c, "CreateHTTPListener", {**base, "ListenerName": "dup", "Port": 80},
                "InvalidParameterValue.DuplicatedListenerPort", "gaap duplicate port")
    tc_negative(c, "CreateHTTPSListener", {**base, "ListenerName": "both", "Port": 8443,
                                           "CertificateId": "cert-compat01", "ForwardProtocol": "HTTP",
                                           "AuthType": 1, "ClientCertificateId": "ca-one",
                                           "PolyClientCertificateIds": ["ca-two"]},
                "InvalidParameter.ConflictParameters", "gaap ClientCertificateId with PolyClientCertificateIds")
    tc_negative(c, "DescribeHTTPListeners", {"ProxyId": "link-nothere1"}, "ResourceNotFound",
                "gaap unknown instance")
    tc_negative(tc_client("gaap", key="wrong-key"), "DescribeHTTPListeners", base,
                "AuthFailure.SignatureFailure", "gaap wrong key")
    tc_negative(tc_client("gaap", key_id="AKIDunknown000000000000000000000000"), "DescribeHTTPListeners", base,
                "AuthFailure.SecretIdNotFound", "gaap unknown key id")
    with clock_offset(-3600):
        tc_negative(c, "DescribeHTTPListeners", base, "AuthFailure.SignatureExpire", "gaap expired timestamp")
    if ids:
        tc_call(c, "DeleteListeners", {**base, "ListenerIds": list(ids.values()) + delete_later, "Force": 1})


def wait_gaap_rules(client, listener_id, label):
    """Poll DescribeRules until every domain and rule of the listener runs."""
    for _ in range(100):
        resp = tc_call(client, "DescribeRules", {"ListenerId": listener_id},
                       label=f"tencent-sdk DescribeRules (poll {label})")
        if resp is None:
            return None
        busy = any(d.DomainStatus != 0 or any(r.RuleStatus != 0 for r in (d.RuleSet or []))
                   for d in (resp.DomainRuleSet or []))
        if not busy:
            return resp
        time.sleep(0.05)
    fail(f"gaap rules {label}", "never settled")
    return None


def run_gaap_rules():
    """GAAP domains, rules and origin servers (routing.md, GAAP column) through the official SDK."""
    c = tc_client("gaap")
    base = {"ProxyId": GAAP_PROXY}
    made = {}
    # The listeners run_gaap deleted are still being destroyed (one write
    # at a time per connection): let their deletes finish.
    time.sleep(0.3)
    for kind, params in {
        "HTTPS": {"ListenerName": "rules https", "Port": 9443, "CertificateId": "cert-l", "ForwardProtocol": "HTTP",
                  "AuthType": 1, "PolyClientCertificateIds": ["ca-l"]},
        "TCP": {"ListenerName": "rules tcp", "Ports": [9444], "Scheduler": "wrr", "HealthCheck": 0,
                "RealServerType": "IP"},
    }.items():
        action = "CreateHTTPSListener" if kind == "HTTPS" else "CreateTCPListeners"
        r = tc_call(c, action, {**base, **params}, label=f"tencent-sdk {action} (rules)")
        if r:
            made[kind] = r.ListenerId if kind == "HTTPS" else r.ListenerIds[0]
            wait_gaap(c, kind, made[kind])
    if len(made) != 2:
        return
    https, tcp = made["HTTPS"], made["TCP"]
    for domain, extra in [("default.lctl.invalid", {"IsDefaultServer": True}),
                          ("api.example.com", {"CertificateId": "cert-a", "PolyClientCertificateIds": ["ca-1", "ca-2"]})]:
        tc_call(c, "CreateDomain", {"ListenerId": https, "Domain": domain, **extra},
                label=f"tencent-sdk CreateDomain {domain}")
        wait_gaap_rules(c, https, f"domain {domain}")
    rules = {}
    for domain, path in [("default.lctl.invalid", "/"), ("api.example.com", "/"), ("api.example.com", "/v1")]:
        r = tc_call(c, "CreateRule", {"ListenerId": https, "Domain": domain, "Path": path, "RealServerType": "IP",
                                      "Scheduler": "wrr", "HealthCheck": 1,
                                      "CheckParams": {"DelayLoop": 5, "ConnectTimeout": 2, "Path": "/hc",
                                                      "Method": "GET", "StatusCode": [200, 300]},
                                      "ForwardProtocol": "HTTP"},
                    label=f"tencent-sdk CreateRule {domain}{path}")
        if r:
            rules[(domain, path)] = r.RuleId
        wait_gaap_rules(c, https, f"rule {domain}{path}")
    r = tc_call(c, "AddRealServers", {"ProjectId": 0, "RealServerIP": ["10.9.0.1", "10.9.0.2"],
                                      "RealServerName": "origin--lctl", "TagSet": [{"TagKey": "k", "TagValue": "v"}]})
    origins = [x.RealServerId for x in (r.RealServerSet if r else [])]
    tc_call(c, "DescribeRealServers", {"ProjectId": -1, "Filters": [{"Name": "RealServerName", "Values": ["origin--lctl"]}],
                                       "Limit": 50})
    v1 = rules.get(("api.example.com", "/v1"))
    if len(origins) == 2 and v1:
        tc_call(c, "BindRuleRealServers", {"RuleId": v1, "RealServerBindSet": [
            {"RealServerId": origins[0], "RealServerPort": 8080, "RealServerIP": "10.9.0.1", "RealServerWeight": 30},
            {"RealServerId": origins[1], "RealServerPort": 8080, "RealServerIP": "10.9.0.2", "RealServerWeight": 70}]})
        wait_gaap_rules(c, https, "bind")
        tc_call(c, "DescribeRuleRealServers", {"RuleId": v1, "Offset": 0, "Limit": 20})
        tc_negative(c, "RemoveRealServers", {"RealServerIds": [origins[0]]},
                    "FailedOperation.RealServerAlreadyBound", "gaap remove a bound origin")
        tc_negative(c, "DeleteRule", {"ListenerId": https, "RuleId": v1, "Force": 0},
                    "FailedOperation.RealServerAlreadyBound", "gaap delete a rule with origins, no force")
        tc_call(c, "BindListenerRealServers", {"ListenerId": tcp, "RealServerBindSet": [
            {"RealServerId": origins[1], "RealServerPort": 9444, "RealServerIP": "10.9.0.2", "RealServerWeight": 10}]})
        wait_gaap(c, "TCP", tcp)
        tc_call(c, "DescribeListenerRealServers", {"ListenerId": tcp})
        tc_call(c, "ModifyRuleAttribute", {"ListenerId": https, "RuleId": v1, "Path": "/v2", "Scheduler": "lc",
                                           "ForwardHost": "origin.example.com"})
        wait_gaap_rules(c, https, "modify rule")
    tc_call(c, "ModifyCertificate", {"ListenerId": https, "Domain": "api.example.com", "CertificateId": "cert-b"})
    wait_gaap_rules(c, https, "modify certificate")
    tc_call(c, "ModifyDomain", {"ListenerId": https, "OldDomain": "api.example.com", "NewDomain": "api2.example.com",
                                "CertificateId": "default"})
    wait_gaap_rules(c, https, "modify domain")
    tc_call(c, "DescribeRulesByRuleIds", {"RuleIds": list(rules.values())})
    tc_negative(c, "CreateDomain", {"ListenerId": https, "Domain": "*.example.com"},
                "InvalidParameterValue", "gaap wildcard domain")
    tc_negative(c, "CreateDomain", {"ListenerId": https, "Domain": "default.lctl.invalid"},
                "FailedOperation.DomainAlreadyExisted", "gaap duplicate domain")
    tc_negative(c, "CreateRule", {"ListenerId": https, "Domain": "default.lctl.invalid", "Path": "/",
                                  "RealServerType": "IP", "Scheduler": "rr", "HealthCheck": 0},
                "FailedOperation.RuleAlreadyExisted", "gaap duplicate rule")
    tc_negative(c, "AddRealServers", {"ProjectId": 0, "RealServerIP": ["10.9.0.1"], "RealServerName": "again"},
                "InvalidParameterValue.DuplicateRS", "gaap duplicate origin")
    tc_negative(c, "BindListenerRealServers", {"ListenerId": https, "RealServerBindSet": []},
                "InvalidParameterValue", "gaap listener bind on HTTPS")
    root = rules.get(("default.lctl.invalid", "/"))
    if root:
        tc_call(c, "DeleteRule", {"ListenerId": https, "RuleId": root, "Force": 1})
        wait_gaap_rules(c, https, "delete rule")
    tc_call(c, "DeleteDomain", {"ListenerId": https, "Domain": "api2.example.com", "Force": 1})
    wait_gaap_rules(c, https, "delete domain")
    tc_call(c, "BindListenerRealServers", {"ListenerId": tcp}, label="tencent-sdk BindListenerRealServers (unbind)")
    wait_gaap(c, "TCP", tcp)
    if origins:
        tc_call(c, "RemoveRealServers", {"RealServerIds": origins})
    tc_call(c, "DeleteListeners", {**base, "ListenerIds": [https, tcp], "Force": 1},
            label="tencent-sdk DeleteListeners (rules)")


def clb_task(c, resp, label):
    if resp is None:
        return
    for _ in range(100):
        r = tc_call(c, "DescribeTaskStatus", {"TaskId": resp.RequestId}, label=f"tencent-sdk DescribeTaskStatus ({label})")
        if r is None or r.Status != 2:
            return
        time.sleep(0.05)


def run_clb():
    c = tc_client("clb")
    base = {"LoadBalancerId": CLB_LB}
    ids = {}
    health = {"HealthSwitch": 1, "TimeOut": 2, "IntervalTime": 5, "HealthNum": 3, "UnHealthNum": 3}
    creates = {
        "TCP": {"Ports": [9001], "Protocol": "TCP", "ListenerNames": ["tcp 监听"], "HealthCheck": health,
                "Scheduler": "WRR", "SessionExpireTime": 0},
        "UDP": {"Ports": [9002], "Protocol": "UDP", "ListenerNames": ["udp 监听"]},
        "HTTP": {"Ports": [9003], "Protocol": "HTTP", "ListenerNames": ["http 监听"]},
        "HTTPS": {"Ports": [9004], "Protocol": "HTTPS", "ListenerNames": ["https 监听"],
                  "Certificate": {"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-compat01"}, "SniSwitch": 0},
        "TCP_SSL": {"Ports": [9005], "Protocol": "TCP_SSL", "ListenerNames": ["tcp ssl 监听"],
                    "Certificate": {"SSLMode": "MUTUAL", "CertId": "cert-compat01", "CertCaId": "ca-compat01"}},
        "QUIC": {"Ports": [9006], "Protocol": "QUIC", "ListenerNames": ["quic 监听"],
                 "Certificate": {"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-compat01"}},
    }
    for proto, params in creates.items():
        r = tc_call(c, "CreateListener", {**base, **params}, label=f"tencent-sdk CreateListener {proto}")
        if r:
            ids[proto] = r.ListenerIds[0]
        clb_task(c, r, f"create {proto}")
    for proto, lid in ids.items():
        r = tc_call(c, "ModifyListener", {**base, "ListenerId": lid, "ListenerName": f"{proto.lower()} renamed 名"},
                    label=f"tencent-sdk ModifyListener {proto}")
        clb_task(c, r, f"modify {proto}")
    tc_call(c, "DescribeListeners", {**base})
    tc_call(c, "DescribeListeners", {**base, "ListenerIds": list(ids.values())[:2], "Protocol": "TCP"},
            label="tencent-sdk DescribeListeners filtered")
    tc_negative(c, "CreateListener", {**base, **creates["TCP"]}, "InvalidParameter.PortCheckFailed",
                "clb duplicate port")
    tc_negative(c, "DescribeListeners", {"LoadBalancerId": "lb-nothere1"}, "InvalidParameter.LBIdNotFound",
                "clb unknown instance")
    tc_negative(tc_client("clb", key="wrong-key"), "DescribeListeners", base, "AuthFailure.SignatureFailure",
                "clb wrong key")
    tc_negative(tc_client("clb", key_id="AKIDunknown000000000000000000000000"), "DescribeListeners", base,
                "AuthFailure.SecretIdNotFound", "clb unknown key id")
    with clock_offset(-3600):
        tc_negative(c, "DescribeListeners", base, "AuthFailure.SignatureExpire", "clb expired timestamp")
    for proto, lid in ids.items():
        r = tc_call(c, "DeleteListener", {**base, "ListenerId": lid}, label=f"tencent-sdk DeleteListener {proto}")
        clb_task(c, r, f"delete {proto}")


def run_clb_rules():
    """CLB rules and targets (routing.md, CLB column) through the official SDK."""
    c = tc_client("clb")
    base = {"LoadBalancerId": CLB_LB}
    made = {}
    for proto, params in {
        "HTTP": {"Ports": [9101], "Protocol": "HTTP"},
        "HTTPS": {"Ports": [9102], "Protocol": "HTTPS", "SniSwitch": 1},
    }.items():
        r = tc_call(c, "CreateListener", {**base, **params}, label=f"tencent-sdk CreateListener {proto} (rules)")
        if r:
            made[proto] = r.ListenerIds[0]
        clb_task(c, r, f"create {proto} (rules)")
    if len(made) != 2:
        return
    http, https = made["HTTP"], made["HTTPS"]
    hc = {"HealthSwitch": 1, "HttpCheckPath": "/health", "HttpCheckMethod": "GET", "IntervalTime": 5}
    r = tc_call(c, "CreateRule", {**base, "ListenerId": http, "Rules": [
        {"Domain": "fallback.example", "Url": "/"},
        {"Domain": "www.example.com", "Url": "/api", "HealthCheck": hc, "Scheduler": "LEAST_CONN"},
        {"Domain": "*.example.com", "Url": "/"},
    ]}, label="tencent-sdk CreateRule HTTP")
    clb_task(c, r, "create rules HTTP")
    locs = list(r.LocationIds) if r else []
    r = tc_call(c, "CreateRule", {**base, "ListenerId": https, "Rules": [
        {"Domain": "secure.example.com", "Url": "/", "Certificate": {"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-a"}},
    ]}, label="tencent-sdk CreateRule HTTPS SNI")
    clb_task(c, r, "create rules HTTPS")
    if len(locs) == 3:
        r = tc_call(c, "ModifyRule", {**base, "ListenerId": http, "LocationId": locs[1], "Url": "/api/v2",
                                      "HealthCheck": {"HttpCheckPath": "/hc"}})
        clb_task(c, r, "modify rule")
        r = tc_call(c, "RegisterTargets", {**base, "ListenerId": http, "LocationId": locs[1], "Targets": [
            {"EniIp": "10.0.0.1", "Port": 8080, "Weight": 20}, {"InstanceId": "ins-compat1", "Port": 80}]})
        clb_task(c, r, "register targets")
        r = tc_call(c, "DeregisterTargets", {**base, "ListenerId": http, "Domain": "www.example.com",
                                             "Url": "/api/v2", "Targets": [{"InstanceId": "ins-compat1", "Port": 80}]})
        clb_task(c, r, "deregister targets")
    r = tc_call(c, "ModifyDomainAttributes", {**base, "ListenerId": https, "Domain": "secure.example.com",
                                              "Certificate": {"SSLMode": "UNIDIRECTIONAL", "CertId": "cert-b"}})
    clb_task(c, r, "modify domain")
    tc_call(c, "DescribeTargets", {**base, "ListenerIds": [http, https]})
    tc_call(c, "DescribeListeners", {**base, "ListenerIds": [http, https]}, label="tencent-sdk DescribeListeners (rules)")
    tc_negative(c, "CreateRule", {**base, "ListenerId": http, "Rules": [{"Domain": "fallback.example", "Url": "/"}]},
                "InvalidParameterValue", "clb duplicate domain and url")
    tc_negative(c, "CreateRule", {**base, "ListenerId": http, "Rules": [{"Domain": "a.*.example", "Url": "/"}]},
                "InvalidParameterValue", "clb wildcard inside a domain")
    if len(locs) == 3:
        tc_negative(c, "RegisterTargets", {**base, "ListenerId": http, "LocationId": locs[1],
                                           "Targets": [{"EniIp": "10.0.0.1", "Port": 8080}]},
                    "InvalidParameterValue.Duplicate", "clb target already bound")
        r = tc_call(c, "DeleteRule", {**base, "ListenerId": http, "LocationIds": [locs[2]]})
        clb_task(c, r, "delete rule by id")
    r = tc_call(c, "DeleteRule", {**base, "ListenerId": https, "Domain": "secure.example.com", "Url": "/"},
                label="tencent-sdk DeleteRule by domain and url")
    clb_task(c, r, "delete rule by domain")
    for lid in (http, https):
        r = tc_call(c, "DeleteListener", {**base, "ListenerId": lid}, label="tencent-sdk DeleteListener (rules)")
        clb_task(c, r, "delete listener (rules)")


# ---------------------------------------------------------------------------
# Alibaba: Darabonba SDKs (ACS3 and v2) and aliyun-python-sdk-core (RPC v1)
# ---------------------------------------------------------------------------

from alibabacloud_alb20200616 import models as alb_models  # noqa: E402
from alibabacloud_alb20200616.client import Client as AlbClient  # noqa: E402
from alibabacloud_ga20191120 import models as ga_models  # noqa: E402
from alibabacloud_ga20191120.client import Client as GaClient  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils  # noqa: E402
from darabonba.exceptions import DaraException  # noqa: E402
from darabonba.runtime import RuntimeOptions  # noqa: E402

from aliyunsdkcore.client import AcsClient  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from aliyunsdkcore.request import CommonRequest  # noqa: E402

ALB_VERSION = "2020-06-16"
GA_VERSION = "2019-11-20"


def snake(name):
    s = re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
    return s


class TeaDriver:
    """The official Darabonba SDK of one product, one signature."""

    def __init__(self, product, signature, key_id=ALI_ID, secret=ALI_SECRET):
        config = open_api_models.Config(access_key_id=key_id, access_key_secret=secret, endpoint=ENDPOINT,
                                        protocol="http", region_id=REGION)
        if signature == "v2":
            config.signature_algorithm = "v2"
        self.product = product
        self.models = alb_models if product == "alb" else ga_models
        self.client = (AlbClient if product == "alb" else GaClient)(config)
        self.name = f"alibabacloud-{product} {'v2 (HMAC-SHA1)' if signature == 'v2' else 'ACS3'}"
        self.last_raw = None
        original = self.client.call_api

        def capture(params, request, runtime):
            answer = original(params, request, runtime)
            self.last_raw = answer.get("body") if isinstance(answer, dict) else None
            return answer

        self.client.call_api = capture

    def invoke(self, action, params):
        req = getattr(self.models, action + "Request")().from_map(params)
        method = getattr(self.client, snake(action) + "_with_options")
        return method(req, RuntimeOptions(autoretry=False, max_attempts=0))

    def call(self, action, params, label=None):
        label = label or f"{self.name} {action}"
        calls["total"] += 1
        try:
            resp = self.invoke(action, params)
        except DaraException as e:
            fail(label, f"refused: {e.code} {e.message}")
            return None
        errors = []
        ali_check(resp.body, action, errors)
        unknown_fields(self.last_raw, resp.body.to_map(), action, errors)
        accepted(label, errors)
        return self.last_raw

    def negative(self, action, params, code, label):
        negative["total"] += 1
        try:
            self.invoke(action, params)
        except DaraException as e:
            if e.code == code:
                negative["ok"] += 1
            else:
                fail(f"{self.name} {label}", f"answered {e.code}, vendor answers {code}")
            return
        fail(f"{self.name} {label}", f"accepted, vendor answers {code}")


def flatten(value, prefix=""):
    out = []
    if isinstance(value, dict):
        for k, v in value.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(value, list):
        for i, v in enumerate(value, 1):
            out += flatten(v, f"{prefix}.{i}")
    elif isinstance(value, bool):
        out.append((prefix, "true" if value else "false"))
    elif value is not None:
        out.append((prefix, str(value)))
    return out


class CoreDriver:
    """aliyun-python-sdk-core's CommonRequest: the RPC v1 (HMAC-SHA1) signature."""

    def __init__(self, product, key_id=ALI_ID, secret=ALI_SECRET):
        self.product = product
        self.models = alb_models if product == "alb" else ga_models
        self.version = ALB_VERSION if product == "alb" else GA_VERSION
        self.client = AcsClient(key_id, secret, REGION, auto_retry=False)
        self.name = f"aliyun-python-sdk-core {product}"

    def invoke(self, action, params):
        req = CommonRequest()
        req.set_accept_format("json")
        req.set_domain(ENDPOINT)
        req.set_protocol_type("http")
        req.set_method("POST")
        req.set_version(self.version)
        req.set_action_name(action)
        for k, v in flatten(params):
            req.add_query_param(k, v)
        return json.loads(self.client.do_action_with_exception(req))

    def call(self, action, params, label=None):
        label = label or f"{self.name} {action}"
        calls["total"] += 1
        try:
            raw = self.invoke(action, params)
        except ServerException as e:
            fail(label, f"refused: {e.get_error_code()} {e.get_error_msg()}")
            return None
        body = getattr(self.models, action + "ResponseBody")().from_map(raw)
        errors = []
        ali_check(body, action, errors)
        unknown_fields(raw, body.to_map(), action, errors)
        accepted(label, errors)
        return raw

    def negative(self, action, params, code, label):
        negative["total"] += 1
        try:
            self.invoke(action, params)
        except ServerException as e:
            if e.get_error_code() == code:
                negative["ok"] += 1
            else:
                fail(f"{self.name} {label}", f"answered {e.get_error_code()}, vendor answers {code}")
            return
        fail(f"{self.name} {label}", f"accepted, vendor answers {code}")


def alb_wait_job(d, raw):
    if not raw or "JobId" not in raw:
        return
    for _ in range(100):
        r = d.call("ListAsynJobs", {"JobIds": [raw["JobId"]]}, label=f"{d.name} ListAsynJobs (poll)")
        if r is None or not r.get("Jobs") or r["Jobs"][0].get("Status") != "Processing":
            return
        time.sleep(0.05)


def run_alb(d, port_base):
    ids = {}
    forward = [{"Type": "ForwardGroup",
                "ForwardGroupConfig": {"ServerGroupTuples": [{"ServerGroupId": s} for s in ALB_SGP[:1]]}}]
    creates = {
        "HTTP": {"ListenerPort": port_base, "ListenerProtocol": "HTTP",
                 "ListenerDescription": "http_listener-listener.20/30", "GzipEnabled": True, "IdleTimeout": 15,
                 "XForwardedForConfig": {"XForwardedForEnabled": True, "XForwardedForProtoEnabled": False}},
        "HTTPS": {"ListenerPort": port_base + 1, "ListenerProtocol": "HTTPS",
                  "ListenerDescription": "https_listener-listener", "Http2Enabled": True,
                  "Certificates": [{"CertificateId": "cert-compat01"}], "CaEnabled": True,
                  "CaCertificates": [{"CertificateId": "ca-compat01"}], "RequestTimeout": 30},
        "QUIC": {"ListenerPort": port_base + 2, "ListenerProtocol": "QUIC",
                 "ListenerDescription": "quic_listener-listener", "Certificates": [{"CertificateId": "cert-compat01"}]},
    }
    for proto, params in creates.items():
        raw = d.call("CreateListener", {"LoadBalancerId": ALB_LB, "DefaultActions": forward,
                                        "ClientToken": str(uuid.uuid4()), **params},
                     label=f"{d.name} CreateListener {proto}")
        if raw:
            ids[proto] = raw["ListenerId"]
        alb_wait_job(d, raw)
    for proto, lid in ids.items():
        d.call("GetListenerAttribute", {"ListenerId": lid}, label=f"{d.name} GetListenerAttribute {proto}")
        raw = d.call("UpdateListenerAttribute",
                     {"ListenerId": lid, "ListenerDescription": f"{proto.lower()}_updated-v.v2",
                      "ClientToken": str(uuid.uuid4())},
                     label=f"{d.name} UpdateListenerAttribute {proto}")
        alb_wait_job(d, raw)
    d.call("ListListeners", {"LoadBalancerIds": [ALB_LB], "MaxResults": 20})
    if "HTTPS" in ids:
        lid = ids["HTTPS"]
        raw = d.call("AssociateAdditionalCertificatesWithListener",
                     {"ListenerId": lid, "Certificates": [{"CertificateId": "cert-extra01"}]})
        alb_wait_job(d, raw)
        d.call("ListListenerCertificates", {"ListenerId": lid, "CertificateType": "Server", "MaxResults": 20})
        raw = d.call("DissociateAdditionalCertificatesFromListener",
                     {"ListenerId": lid, "Certificates": [{"CertificateId": "cert-extra01"}]})
        alb_wait_job(d, raw)
    if "HTTP" in ids:
        alb_tags_and_switch(d, ids["HTTP"])
    d.negative("CreateListener", {"LoadBalancerId": ALB_LB, "DefaultActions": forward, **creates["HTTP"]},
               "ResourceAlreadyExist.Listener", "duplicate port")
    d.negative("CreateListener", {**creates["HTTP"], "LoadBalancerId": "alb-nothere1", "DefaultActions": forward},
               "ResourceNotFound.LoadBalancer", "unknown instance")
    for proto, lid in ids.items():
        raw = d.call("DeleteListener", {"ListenerId": lid, "ClientToken": str(uuid.uuid4())},
                     label=f"{d.name} DeleteListener {proto}")
        alb_wait_job(d, raw)


def run_alb_routes(d, port):
    """Server groups, servers and forwarding rules through the SDK: create
    (with ClientToken), list, update, delete, each job waited for, the
    listings read back as sent; then what ALB refuses of them."""
    token = lambda: str(uuid.uuid4())  # noqa: E731
    # The instance's VPC, as the adapter learns it: new groups go there.
    lb = d.call("GetLoadBalancerAttribute", {"LoadBalancerId": ALB_LB})
    vpc = (lb or {}).get("VpcId")
    if lb is not None and (lb.get("LoadBalancerId") != ALB_LB or not vpc):
        fail(f"{d.name} GetLoadBalancerAttribute read back", f"{lb.get('LoadBalancerId')}, VpcId {vpc!r}")
    d.negative("GetLoadBalancerAttribute", {"LoadBalancerId": "alb-nothere1"}, "ResourceNotFound.LoadBalancer",
               "attributes of an unknown instance")
    raw = d.call("CreateServerGroup", {"ServerGroupName": "web-pool.1", "ServerGroupType": "Ip", "Protocol": "HTTP",
                                       "VpcId": vpc or "vpc-compat01", "Scheduler": "Wrr", "ClientToken": token(),
                                       "HealthCheckConfig": {"HealthCheckEnabled": True}})
    if not raw:
        return
    sgp = raw["ServerGroupId"]
    alb_wait_job(d, raw)
    servers = [{"ServerId": "10.0.0.1", "ServerIp": "10.0.0.1", "ServerType": "Ip", "Port": 8080, "Weight": 60,
                "Description": "web one"},
               {"ServerId": "10.0.0.2", "ServerType": "Ip", "Port": 8080}]
    alb_wait_job(d, d.call("AddServersToServerGroup", {"ServerGroupId": sgp, "Servers": servers,
                                                         "ClientToken": token()}))
    got = d.call("ListServerGroupServers", {"ServerGroupId": sgp, "MaxResults": 20})
    if got is not None:
        seen = sorted((x.get("ServerId"), x.get("Port"), x.get("Weight"), x.get("Status")) for x in got.get("Servers") or [])
        want = [("10.0.0.1", 8080, 60, "Available"), ("10.0.0.2", 8080, 100, "Available")]
        if seen != want:
            fail(f"{d.name} ListServerGroupServers read back", f"{seen}, expected {want}")
    got = d.call("ListServerGroups", {"ServerGroupIds": [sgp, ALB_SGP[0]], "MaxResults": 20})
    if got is not None and vpc:
        seen = sorted({g.get("VpcId") for g in got.get("ServerGroups") or []})
        if seen != [vpc]:
            fail(f"{d.name} ListServerGroups VpcId", f"{seen}, expected the instance's {vpc}")
    raw = d.call("CreateListener", {"LoadBalancerId": ALB_LB, "ListenerProtocol": "HTTP", "ListenerPort": port,
                                    "DefaultActions": [{"Type": "ForwardGroup", "ForwardGroupConfig": {
                                        "ServerGroupTuples": [{"ServerGroupId": ALB_SGP[0]}]}}],
                                    "ClientToken": token()}, label=f"{d.name} CreateListener (routes)")
    if not raw:
        return
    lid = raw["ListenerId"]
    alb_wait_job(d, raw)

    def forward(*groups):
        return [{"Type": "ForwardGroup", "Order": 1, "ForwardGroupConfig": {
            "ServerGroupTuples": [{"ServerGroupId": g, "Weight": w} for g, w in groups]}}]

    raw = d.call("CreateRule", {"ListenerId": lid, "RuleName": "api-rule", "Priority": 10,
                                "RuleConditions": [{"Type": "Host", "HostConfig": {"Values": ["app.example.com"]}},
                                                   {"Type": "Path", "PathConfig": {"Values": ["/api*", "/v2/*"]}}],
                                "RuleActions": forward((sgp, 100)), "ClientToken": token()})
    rule = raw and raw.get("RuleId")
    alb_wait_job(d, raw)
    raw = d.call("CreateRules", {"ListenerId": lid, "ClientToken": token(), "Rules": [
        {"RuleName": "wild", "Priority": 20, "RuleConditions": [{"Type": "Host", "HostConfig": {"Values": ["*.example.com"]}}],
         "RuleActions": forward((sgp, 40), (ALB_SGP[0], 60))},
        {"RuleName": "static", "Priority": 30, "RuleConditions": [{"Type": "Path", "PathConfig": {"Values": ["/static*"]}}],
         "RuleActions": forward((ALB_SGP[1], 100))}]})
    more = [r.get("RuleId") for r in (raw or {}).get("RuleIds") or []]
    alb_wait_job(d, raw)
    got = d.call("ListRules", {"ListenerIds": [lid], "MaxResults": 20})
    if got is not None:
        seen = [(r.get("RuleName"), r.get("Priority"), r.get("RuleStatus")) for r in got.get("Rules") or []]
        want = [("api-rule", 10, "Available"), ("wild", 20, "Available"), ("static", 30, "Available")]
        if seen != want:
            fail(f"{d.name} ListRules read back", f"{seen}, expected {want}")
    if rule:
        alb_wait_job(d, d.call("UpdateRuleAttribute", {"RuleId": rule, "Priority": 5, "RuleName": "api-rule.v2",
                                                         "ClientToken": token()}))
        d.negative("UpdateRuleAttribute", {"RuleId": rule, "Priority": 20, "ClientToken": token()},
                   "Conflict.Priority", "rule priority taken")
    if len(more) == 2:
        # Renumbering: swap two priorities in one call.
        alb_wait_job(d, d.call("UpdateRulesAttribute", {"ClientToken": token(), "Rules": [
            {"RuleId": more[0], "Priority": 30}, {"RuleId": more[1], "Priority": 20}]}))
    d.negative("CreateRule", {"ListenerId": lid, "RuleName": "bad", "Priority": 40,
                              "RuleConditions": [{"Type": "Host", "HostConfig": {"Values": ["Bad_Host"]}}],
                              "RuleActions": forward((sgp, 100))}, "InvalidParameter", "host value charset")
    d.negative("DeleteServerGroup", {"ServerGroupId": sgp, "ClientToken": token()}, "ResourceInUse.ServerGroup",
               "delete a server group a rule uses")
    d.negative("ListServerGroupServers", {"ServerGroupId": "sgp-nothere000000001"}, "ResourceNotFound.ServerGroup",
               "servers of an unknown group")
    if rule:
        alb_wait_job(d, d.call("DeleteRule", {"RuleId": rule, "ClientToken": token()}))
    if more:
        alb_wait_job(d, d.call("DeleteRules", {"RuleIds": more, "ClientToken": token()}))
    alb_wait_job(d, d.call("RemoveServersFromServerGroup", {"ServerGroupId": sgp, "ClientToken": token(),
                                                              "Servers": [{"ServerId": "10.0.0.2", "ServerType": "Ip",
                                                                           "Port": 8080}]}))
    alb_wait_job(d, d.call("DeleteListener", {"ListenerId": lid, "ClientToken": token()},
                           label=f"{d.name} DeleteListener (routes)"))
    alb_wait_job(d, d.call("DeleteServerGroup", {"ServerGroupId": sgp, "ClientToken": token()}))


def alb_tags_and_switch(d, lid):
    """Tags (TagResources / UnTagResources, no ClientToken in their models)
    and stop/start (StopListener / StartListener, with one) on one
    listener, each read back; then what ALB refuses of them."""
    tag = {"ResourceType": "listener", "ResourceId": [lid]}
    d.call("TagResources", {**tag, "Tag": [{"Key": "team", "Value": "web ops"}, {"Key": "cost", "Value": "cc-1"}]})
    d.call("UnTagResources", {**tag, "TagKey": ["cost"]})
    raw = d.call("GetListenerAttribute", {"ListenerId": lid}, label=f"{d.name} GetListenerAttribute (tags)")
    if raw is not None:
        got = {t.get("Key"): t.get("Value") for t in raw.get("Tags") or []}
        if got != {"team": "web ops"}:
            fail(f"{d.name} tags read back", f"{got}, sent team=web ops and removed cost")
    for action, status in (("StopListener", "Stopped"), ("StartListener", "Running")):
        raw = d.call(action, {"ListenerId": lid, "ClientToken": str(uuid.uuid4())})
        alb_wait_job(d, raw)
        for _ in range(100):
            r = d.call("GetListenerAttribute", {"ListenerId": lid}, label=f"{d.name} GetListenerAttribute (poll)")
            if r is None or r.get("ListenerStatus") != "Configuring":
                break
            time.sleep(0.05)
        if r is not None and r.get("ListenerStatus") != status:
            fail(f"{d.name} {action}", f"listener is {r.get('ListenerStatus')}, expected {status}")
    d.negative("StartListener", {"ListenerId": lid, "ClientToken": str(uuid.uuid4())},
               "IncorrectStatus.Listener", "start a running listener")
    d.negative("StopListener", {"ListenerId": "lsn-nothere00001", "ClientToken": str(uuid.uuid4())},
               "ResourceNotFound.Listener", "stop an unknown listener")
    d.negative("TagResources", {**tag, "Tag": [{"Key": "acs:owner", "Value": "x"}]},
               "InvalidParameter", "tag key with the reserved acs: prefix")
    d.negative("TagResources", {"ResourceType": "listener", "ResourceId": ["lsn-nothere00001"],
                                "Tag": [{"Key": "team", "Value": "web"}]},
               "ResourceNotFound.Listener", "tag an unknown listener")
    d.negative("UnTagResources", {"ResourceType": "listener", "ResourceId": ["lsn-nothere00001"], "TagKey": ["team"]},
               "ResourceNotFound.Listener", "untag an unknown listener")


def ga_wait(d, lid, sent=None):
    for _ in range(100):
        r = d.call("DescribeListener", {"RegionId": REGION, "ListenerId": lid}, label=f"{d.name} DescribeListener (poll)")
        if r is None:
            return
        if r.get("State") == "active":
            for field, want in (sent or {}).items():
                if r.get(field) != want:
                    fail(f"{d.name} DescribeListener", f"{field} reads back {r.get(field)!r}, sent {want!r}")
            return
        time.sleep(0.05)


def run_ga(d, port_base):
    ids = {}
    creates = {
        "tcp": {"PortRanges": [{"FromPort": port_base, "ToPort": port_base + 9}], "ClientAffinity": "SOURCE_IP",
                "ProxyProtocol": False},
        "udp": {"PortRanges": [{"FromPort": port_base + 10, "ToPort": port_base + 10}]},
        "http": {"PortRanges": [{"FromPort": port_base + 11, "ToPort": port_base + 11}],
                 "XForwardedForConfig": {"XForwardedForGaIdEnabled": True, "XRealIpEnabled": True}},
        "https": {"PortRanges": [{"FromPort": port_base + 12, "ToPort": port_base + 12}],
                  "Certificates": [{"Id": "449-cn-hangzhou"}], "SecurityPolicyId": "tls_cipher_policy_1_2"},
    }
    for proto, params in creates.items():
        raw = d.call("CreateListener", {"RegionId": REGION, "AcceleratorId": GA_ACC, "Protocol": proto,
                                        "Name": f"{proto}监听_one", "Description": f"{proto} listener 监听 {port_base}-{port_base + 9} a+b",
                                        "ClientToken": str(uuid.uuid4()), **params},
                     label=f"{d.name} CreateListener {proto}")
        if raw:
            ids[proto] = raw["ListenerId"]
            # Spaces, `+` and non-ASCII text must read back as sent.
            ga_wait(d, raw["ListenerId"], {"Name": f"{proto}监听_one",
                                           "Description": f"{proto} listener 监听 {port_base}-{port_base + 9} a+b"})
    for proto, lid in ids.items():
        d.call("UpdateListener", {"RegionId": REGION, "ListenerId": lid, "Name": f"{proto}_renamed名",
                                  "Description": "updated a+b c", "ClientToken": str(uuid.uuid4())},
               label=f"{d.name} UpdateListener {proto}")
        ga_wait(d, lid, {"Name": f"{proto}_renamed名", "Description": "updated a+b c"})
    d.call("ListListeners", {"RegionId": REGION, "AcceleratorId": GA_ACC, "PageNumber": 1, "PageSize": 50})
    d.negative("CreateListener", {"RegionId": REGION, "AcceleratorId": GA_ACC, "Protocol": "tcp", "Name": "dup",
                                  **creates["tcp"]}, "PortConflict.Listener", "duplicate port")
    d.negative("ListListeners", {"RegionId": REGION, "AcceleratorId": "ga-nothere1"}, "NotExist.Accelerator",
               "unknown instance")
    for proto, lid in ids.items():
        d.call("DeleteListener", {"AcceleratorId": GA_ACC, "ListenerId": lid, "ClientToken": str(uuid.uuid4())},
               label=f"{d.name} DeleteListener {proto}")
        ga_wait_gone(d, lid)


def ga_wait_routes(d, lid):
    """Poll the listener's endpoint groups and forwarding rules until all
    are active (GA takes no second write on an accelerator meanwhile)."""
    for _ in range(100):
        g = d.call("ListEndpointGroups", {"RegionId": REGION, "AcceleratorId": GA_ACC, "ListenerId": lid,
                                          "PageSize": 50}, label=f"{d.name} ListEndpointGroups (poll)")
        r = d.call("ListForwardingRules", {"RegionId": REGION, "AcceleratorId": GA_ACC, "ListenerId": lid,
                                           "MaxResults": 50}, label=f"{d.name} ListForwardingRules (poll)")
        l = d.call("DescribeListener", {"RegionId": REGION, "ListenerId": lid}, label=f"{d.name} DescribeListener (poll)")
        if g is None or r is None or l is None:
            return
        busy = [x for x in g.get("EndpointGroups") or [] if x.get("State") != "active"]
        busy += [x for x in r.get("ForwardingRules") or [] if x.get("ForwardingRuleStatus") != "active"]
        if not busy and l.get("State") == "active":
            return
        time.sleep(0.05)


def run_ga_routes(d, port):
    """Endpoint groups, forwarding rules and additional certificates of one
    HTTPS listener through the SDK: create, list, describe, update, delete,
    each waited for and read back as sent; then what GA refuses of them."""
    token = lambda: str(uuid.uuid4())  # noqa: E731
    raw = d.call("CreateListener", {"RegionId": REGION, "AcceleratorId": GA_ACC, "Protocol": "https",
                                    "PortRanges": [{"FromPort": port, "ToPort": port}],
                                    "Certificates": [{"Id": "449-cn-hangzhou"}], "ClientToken": token()},
                 label=f"{d.name} CreateListener (routes)")
    if not raw:
        return
    lid = raw["ListenerId"]
    ga_wait(d, lid)
    base = {"RegionId": REGION, "AcceleratorId": GA_ACC, "ListenerId": lid}
    raw = d.call("CreateEndpointGroup", {**base, "EndpointGroupRegion": "cn-hangzhou", "Name": "pool-web",
                                         "Description": "web pool a+b", "EndpointGroupType": "default",
                                         "EndpointConfigurations": [{"Type": "Ip", "Endpoint": "10.0.0.1", "Weight": 60},
                                                                    {"Type": "Domain", "Endpoint": "web.internal",
                                                                     "Weight": 40}],
                                         "PortOverrides": [{"ListenerPort": port, "EndpointPort": 8080}],
                                         "HealthCheckEnabled": True, "HealthCheckProtocol": "http",
                                         "HealthCheckPath": "/healthz", "ThresholdCount": 3, "ClientToken": token()})
    default = raw and raw.get("EndpointGroupId")
    ga_wait_routes(d, lid)
    raw = d.call("CreateEndpointGroups", {**base, "ClientToken": token(), "EndpointGroupConfigurations": [
        {"EndpointGroupName": "pool-api", "EndpointGroupRegion": "cn-hangzhou", "EndpointGroupType": "virtual",
         "EndpointConfigurations": [{"Type": "Ip", "Endpoint": "10.0.1.1", "Weight": 100}],
         "PortOverrides": [{"ListenerPort": port, "EndpointPort": 9000}]}]})
    virtual = ((raw or {}).get("EndpointGroupIds") or [None])[0]
    ga_wait_routes(d, lid)
    if default:
        got = d.call("DescribeEndpointGroup", {"RegionId": REGION, "EndpointGroupId": default})
        if got is not None:
            seen = sorted((e.get("Endpoint"), e.get("Weight")) for e in got.get("EndpointConfigurations") or [])
            if seen != [("10.0.0.1", 60), ("web.internal", 40)] or got.get("Description") != "web pool a+b":
                fail(f"{d.name} DescribeEndpointGroup read back", f"{seen} {got.get('Description')!r}")
        d.call("UpdateEndpointGroup", {"RegionId": REGION, "EndpointGroupId": default, "ClientToken": token(),
                                       "EndpointConfigurations": [{"Type": "Ip", "Endpoint": "10.0.0.9",
                                                                   "Weight": 255}]})
        ga_wait_routes(d, lid)
    rule = None
    if virtual:
        action = json.dumps([{"type": "endpointgroup", "value": virtual}])
        raw = d.call("CreateForwardingRules", {**base, "ClientToken": token(), "ForwardingRules": [
            {"Priority": 10, "ForwardingRuleName": "route--lctl",
             "RuleConditions": [{"RuleConditionType": "Host", "RuleConditionValue": json.dumps(["api.example.com"])},
                                {"RuleConditionType": "Path", "RuleConditionValue": json.dumps(["/v1*"])}],
             "RuleActions": [{"Order": 1, "RuleActionType": "ForwardGroup", "RuleActionValue": action}]}]})
        rule = ((raw or {}).get("ForwardingRules") or [{}])[0].get("ForwardingRuleId")
        ga_wait_routes(d, lid)
        got = d.call("ListForwardingRules", {**base, "MaxResults": 20})
        if got is not None:
            seen = [(r.get("Priority"), r.get("ForwardingRuleName"), r.get("ForwardingRuleStatus"))
                    for r in got.get("ForwardingRules") or []]
            if seen != [(10, "route--lctl", "active")]:
                fail(f"{d.name} ListForwardingRules read back", f"{seen}")
        if rule:
            d.call("UpdateForwardingRules", {**base, "ClientToken": token(), "ForwardingRules": [
                {"ForwardingRuleId": rule, "Priority": 20}]})
            ga_wait_routes(d, lid)
        d.negative("CreateForwardingRules", {**base, "ForwardingRules": [
            {"Priority": 10001, "RuleConditions": [{"RuleConditionType": "Path", "RuleConditionValue": '["/*"]'}],
             "RuleActions": [{"RuleActionType": "ForwardGroup", "RuleActionValue": action}]}]},
            "InvalidParameter", "forwarding rule priority above 10000")
        d.negative("DeleteEndpointGroup", {"AcceleratorId": GA_ACC, "EndpointGroupId": virtual, "ClientToken": token()},
                   "Exist.ForwardingRule", "delete an endpoint group a rule forwards to")
    d.negative("CreateEndpointGroup", {**base, "EndpointGroupRegion": "cn-hangzhou", "EndpointGroupType": "virtual",
                                       "EndpointConfigurations": [{"Type": "Ip", "Endpoint": "10.0.0.1", "Weight": 256}]},
               "InvalidParameter", "endpoint weight above 255")
    d.negative("DescribeEndpointGroup", {"RegionId": REGION, "EndpointGroupId": "epg-nothere0000000001"},
               "NotExist.EndPointGroup", "unknown endpoint group")
    d.call("AssociateAdditionalCertificatesWithListener", {**base, "ClientToken": token(), "Certificates": [
        {"Domain": "api.example.com", "Id": "450-cn-hangzhou"}, {"Domain": "*.example.com", "Id": "451-cn-hangzhou"}]})
    ga_wait(d, lid)
    d.call("UpdateAdditionalCertificateWithListener", {**base, "ClientToken": token(), "Domain": "api.example.com",
                                                       "CertificateId": "452-cn-hangzhou"})
    ga_wait(d, lid)
    got = d.call("ListListenerCertificates", {**base, "MaxResults": 20})
    if got is not None:
        seen = sorted((c.get("Domain") or "", c.get("CertificateId"), c.get("IsDefault"))
                      for c in got.get("Certificates") or [])
        want = sorted([("", "449-cn-hangzhou", True), ("api.example.com", "452-cn-hangzhou", False),
                       ("*.example.com", "451-cn-hangzhou", False)])
        if seen != want:
            fail(f"{d.name} ListListenerCertificates read back", f"{seen}")
    d.negative("AssociateAdditionalCertificatesWithListener", {**base, "Certificates": [
        {"Domain": "api.example.com", "Id": "453-cn-hangzhou"}]}, "Exist.Domain", "second certificate for a domain")
    d.call("DissociateAdditionalCertificatesFromListener", {**base, "ClientToken": token(),
                                                            "Domains": ["api.example.com", "*.example.com"]})
    ga_wait(d, lid)
    d.negative("DeleteListener", {"AcceleratorId": GA_ACC, "ListenerId": lid, "ClientToken": token()},
               "Exist.ForwardingRule" if rule else "Exist.EndpointGroup", "delete a listener with rules or groups")
    if rule:
        d.call("DeleteForwardingRules", {**base, "ClientToken": token(), "ForwardingRuleIds": [rule]})
        ga_wait_routes(d, lid)
    for g in (virtual, default):
        if g:
            d.call("DeleteEndpointGroup", {"AcceleratorId": GA_ACC, "EndpointGroupId": g, "ClientToken": token()})
            ga_wait_routes(d, lid)
    d.call("DeleteListener", {"AcceleratorId": GA_ACC, "ListenerId": lid, "ClientToken": token()},
           label=f"{d.name} DeleteListener (routes)")
    ga_wait_gone(d, lid)


def ga_wait_gone(d, lid):
    """Poll until DescribeListener answers NotExist.Listener (not counted)."""
    for _ in range(100):
        try:
            d.invoke("DescribeListener", {"RegionId": REGION, "ListenerId": lid})
        except (DaraException, ServerException):
            return
        time.sleep(0.05)


@contextlib.contextmanager
def ali_clock(seconds):
    """Shift the timestamps the Alibaba SDKs sign (x-acs-date / Timestamp)."""
    import aliyunsdkcore.utils.parameter_helper as helper
    real_ts = OpenApiUtils.get_timestamp
    real_iso = helper.get_iso_8061_date
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
    OpenApiUtils.get_timestamp = staticmethod(lambda: stamp)
    helper.get_iso_8061_date = lambda: stamp
    try:
        yield
    finally:
        OpenApiUtils.get_timestamp = real_ts
        helper.get_iso_8061_date = real_iso


def alibaba_auth_negatives(make, product, read_action, read_params):
    good = make(product)
    good_name = good.name
    make(product, secret="wrong-secret").negative(read_action, read_params, "SignatureDoesNotMatch",
                                                  f"wrong key ({good_name})")
    make(product, key_id="LTAIunknown000000000000").negative(read_action, read_params,
                                                             "InvalidAccessKeyId.NotFound",
                                                             f"unknown key id ({good_name})")
    with ali_clock(-3600):
        good.negative(read_action, read_params, "InvalidTimeStamp.Expired", "expired timestamp")


def main():
    run_gaap()
    run_gaap_rules()
    run_clb()
    run_clb_rules()
    drivers = [
        (lambda p, **kw: TeaDriver(p, "acs3", **kw)),
        (lambda p, **kw: TeaDriver(p, "v2", **kw)),
        (lambda p, **kw: CoreDriver(p, **kw)),
    ]
    for i, make in enumerate(drivers):
        run_alb(make("alb"), 8000 + 10 * i)
        run_alb_routes(make("alb"), 9000 + i)
        alibaba_auth_negatives(make, "alb", "ListListeners", {"LoadBalancerIds": [ALB_LB]})
        run_ga(make("ga"), 20000 + 100 * i)
        run_ga_routes(make("ga"), 21000 + i)
        alibaba_auth_negatives(make, "ga", "ListListeners", {"RegionId": REGION, "AcceleratorId": GA_ACC})
    n = calls["total"]
    print(f"compat: {calls['accepted']}/{n} calls accepted, {calls['typed']}/{n} responses typed, "
          f"{negative['ok']}/{negative['total']} negative")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
