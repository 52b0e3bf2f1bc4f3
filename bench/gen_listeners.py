#!/usr/bin/env python3
"""Write large or hostile listeners files for the validate scaling check.

    gen_listeners.py listeners N FILE   # N listeners, 4 profiles (.toml/.yaml/.json by extension)
    gen_listeners.py nested BYTES FILE  # YAML of nested brackets, about BYTES long

The listeners mix TCP, UDP, HTTP and HTTPS on distinct ports, so the file is
valid and every check on the `validate` path (neutral rules, port
clashes, each API's set rules, the portability report) has work to do.
The same shape is built in Rust by crates/listenerctl/benches/validate_scale.rs.
"""
import json
import sys

PROFILES = {
    "gaap": {"api": "tencent-gaap", "instance": "link-00000001", "certificates": {"web": "cert-1"}},
    "clb": {"api": "tencent-clb", "region": "ap-guangzhou", "instance": "lb-00000001", "certificates": {"web": "cert-1"}},
    "alb": {"api": "alibaba-alb", "region": "cn-hangzhou", "instance": "alb-0000000001", "certificates": {"web": "103705"}},
    "ga": {"api": "alibaba-ga", "instance": "ga-0000000001", "certificates": {"web": "103705"}},
}


def listener(i):
    kind = i % 4
    port = 1 + (i % 65000)
    if kind == 0:
        return {"name": f"svc-{i}", "protocol": "tcp", "ports": port,
                "health_check": {"kind": "tcp", "interval_secs": 10, "timeout_secs": 3}}
    if kind == 1:
        return {"name": f"svc-{i}", "protocol": "udp", "ports": port}
    if kind == 2:
        return {"name": f"svc-{i}", "protocol": "http", "ports": port,
                "timeouts": {"idle_secs": 60, "request_secs": 30}}
    return {"name": f"svc-{i}", "protocol": "https", "ports": port, "tls": {"certificates": ["web"]}}


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def to_toml(doc):
    out = []
    for name, p in doc["profiles"].items():
        out.append(f"[profiles.{name}]")
        out.extend(f"{k} = {toml_value(v)}" for k, v in p.items())
        out.append("")
    for l in doc["listeners"]:
        out.append("[[listeners]]")
        out.extend(f"{k} = {toml_value(v)}" for k, v in l.items())
        out.append("")
    return "\n".join(out)


def yaml_value(v, indent):
    pad = " " * indent
    if isinstance(v, dict):
        lines = []
        for k, x in v.items():
            if isinstance(x, (dict, list)):
                lines.append(f"{pad}{k}:")
                lines.append(yaml_value(x, indent + 2))
            else:
                lines.append(f"{pad}{k}: {json.dumps(x)}")
        return "\n".join(lines)
    if isinstance(v, list):
        lines = []
        for x in v:
            if isinstance(x, dict):
                body = yaml_value(x, indent + 2)
                lines.append(pad + "- " + body[indent + 2:])
            else:
                lines.append(f"{pad}- {json.dumps(x)}")
        return "\n".join(lines)
    return pad + json.dumps(v)


def main():
    what, size, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if what == "nested":
        depth = size // 2
        text = "listeners: " + "[" * depth + "]" * depth + "\n"
    else:
        doc = {"profiles": PROFILES, "listeners": [listener(i) for i in range(size)]}
        if path.endswith(".toml"):
            text = to_toml(doc)
        elif path.endswith(".json"):
            text = json.dumps(doc, indent=1)
        else:
            text = yaml_value(doc, 0) + "\n"
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
