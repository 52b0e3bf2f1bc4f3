//! CLB rules and targets over real HTTP with signed calls: every action's
//! happy path, the parameter rules and error codes, tasks and the busy
//! instance, and the admin resolve call (routing.md, CLB column).

mod common;

use std::time::Duration;

use common::*;
use listener_emulator::{Emulator, EmulatorHandle, InstanceSeed, RateLimits, Timing};
use serde_json::{json, Value};

const LB: &str = "lb-http0001";

async fn start_clb(task_ms: u64) -> EmulatorHandle {
    let t = Duration::from_millis(task_ms);
    Emulator::builder()
        .tencent_credentials(TC_ID, TC_KEY)
        .alibaba_credentials(ALI_ID, ALI_SECRET)
        .rate_limits(RateLimits::disabled())
        .timing(Timing {
            create: t,
            update: t,
            delete: t,
        })
        .seed(
            "clb",
            InstanceSeed {
                id: LB.into(),
                server_groups: vec![],
            },
        )
        .start()
        .await
        .expect("emulator starts")
}

fn clb_call(action: &str, body: Value) -> TencentCall {
    let mut call = TencentCall::new(action, body);
    call.version = "2018-03-17".into();
    call.scope_service = "clb".into();
    call.region = Some("ap-guangzhou".into());
    call
}

/// The `Response` object of a call (error or not).
async fn send(em: &EmulatorHandle, action: &str, body: Value) -> Value {
    tencent_response(clb_call(action, body).send(em).await.unwrap()).await
}

fn code(answer: &Value) -> Option<&str> {
    answer["Error"]["Code"].as_str()
}

/// Waits for the task to leave status 2; returns the final status.
async fn wait(em: &EmulatorHandle, task: &str) -> i64 {
    for _ in 0..200 {
        let a = send(em, "DescribeTaskStatus", json!({"TaskId": task})).await;
        let status = a["Data"]["Status"].as_i64().or(a["Status"].as_i64()).unwrap_or(-1);
        if status != 2 {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("task {task} never finished")
}

/// A write that must succeed, waited out; returns its answer.
async fn ok(em: &EmulatorHandle, action: &str, body: Value) -> Value {
    let a = send(em, action, body).await;
    assert!(code(&a).is_none(), "{action}: {a}");
    let task = a["RequestId"].as_str().unwrap().to_string();
    assert_eq!(wait(em, &task).await, 0, "{action} task");
    a
}

async fn listener(em: &EmulatorHandle, protocol: &str, port: i64, sni: bool) -> String {
    let mut p = json!({"LoadBalancerId": LB, "Protocol": protocol, "Ports": [port]});
    if sni {
        p["SniSwitch"] = json!(1);
    }
    ok(em, "CreateListener", p).await["ListenerIds"][0]
        .as_str()
        .unwrap()
        .to_string()
}

async fn rules(em: &EmulatorHandle, l: &str) -> Vec<Value> {
    let a = send(
        em,
        "DescribeListeners",
        json!({"LoadBalancerId": LB, "ListenerIds": [l]}),
    )
    .await;
    a["Listeners"][0]["Rules"].as_array().cloned().unwrap_or_default()
}

async fn resolve(em: &EmulatorHandle, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/_emulator/resolve", em.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn every_rule_action_round_trips_over_signed_http() {
    let em = start_clb(30).await;
    let l = listener(&em, "HTTPS", 443, true).await;
    let a = ok(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [
            {"Domain": "a.example.com", "Url": "/", "Certificate": {"CertId": "cert-a"}},
            {"Domain": "a.example.com", "Url": "/api", "HealthCheck": {"HttpCheckPath": "/hc"}},
            {"Domains": ["b.example.com"], "Url": "/", "Certificate": {"CertId": "cert-b"}, "Scheduler": "LEAST_CONN"}
        ]}),
    )
    .await;
    let ids: Vec<String> = a["LocationIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    let rs = rules(&em, &l).await;
    assert_eq!(rs.len(), 3);
    assert_eq!(rs[0]["LocationId"], ids[0].as_str());
    assert_eq!(rs[0]["DefaultServer"], true);
    assert_eq!(rs[1]["Certificate"]["CertId"], "cert-a");
    assert_eq!(rs[1]["HealthCheck"]["HttpCheckPath"], "/hc");

    ok(
        &em,
        "ModifyRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": ids[1], "Url": "/v2"}),
    )
    .await;
    ok(
        &em,
        "ModifyDomainAttributes",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "b.example.com", "Certificate": {"CertId": "cert-b2"}, "DefaultServer": true}),
    )
    .await;
    let rs = rules(&em, &l).await;
    assert_eq!(rs[1]["Url"], "/v2");
    assert_eq!(rs[2]["Certificate"]["CertId"], "cert-b2");
    assert_eq!(rs[2]["DefaultServer"], true);

    ok(
        &em,
        "RegisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": ids[1], "Targets": [
            {"EniIp": "10.0.0.1", "Port": 8080, "Weight": 20}, {"InstanceId": "ins-abc", "Port": 80}
        ]}),
    )
    .await;
    let d = send(
        &em,
        "DescribeTargets",
        json!({"LoadBalancerId": LB, "ListenerIds": [l]}),
    )
    .await;
    let targets = &d["Listeners"][0]["Rules"][1]["Targets"];
    assert_eq!(targets.as_array().unwrap().len(), 2);
    assert_eq!(targets[1]["Weight"], 10);
    ok(
        &em,
        "DeregisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "a.example.com", "Url": "/v2", "Targets": [{"InstanceId": "ins-abc", "Port": 80}]}),
    )
    .await;
    let d = send(&em, "DescribeTargets", json!({"LoadBalancerId": LB})).await;
    assert_eq!(d["Listeners"][0]["Rules"][1]["Targets"].as_array().unwrap().len(), 1);

    ok(
        &em,
        "DeleteRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationIds": [ids[2]], "NewDefaultServerDomain": "a.example.com"}),
    )
    .await;
    ok(
        &em,
        "DeleteRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "a.example.com", "Url": "/"}),
    )
    .await;
    let rs = rules(&em, &l).await;
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["DefaultServer"], true);
    em.shutdown().await;
}

#[tokio::test]
async fn rule_errors_carry_the_vendor_codes() {
    let em = start_clb(10).await;
    let l = listener(&em, "HTTP", 80, false).await;
    let tcp = listener(&em, "TCP", 81, false).await;
    let loc = ok(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [{"Domain": "a.example.com", "Url": "/"}]}),
    )
    .await["LocationIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let rule = |r: Value| json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [r]});
    let reg = |t: Value| json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": loc, "Targets": t});
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "CreateRule",
            rule(json!({"Domain": "a.example.com", "Url": "/"})),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "*.a.*", "Url": "/"})),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "_a.example.com", "Url": "/"})),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "a".repeat(81), "Url": "/"})),
            "InvalidParameterValue.Length",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "b.example.com", "Url": "no-slash"})),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "b.example.com", "Url": format!("/{}", "x".repeat(200))})),
            "InvalidParameterValue.Length",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "b.example.com"})),
            "MissingParameter",
        ),
        (
            "CreateRule",
            rule(json!({"Domain": "b.example.com", "Url": "/", "Certificate": {"CertId": "c"}})),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            json!({"LoadBalancerId": LB, "ListenerId": tcp, "Rules": [{"Domain": "b.example.com", "Url": "/"}]}),
            "InvalidParameterValue",
        ),
        (
            "CreateRule",
            json!({"LoadBalancerId": "lb-nope", "ListenerId": l, "Rules": [{"Domain": "b.example.com", "Url": "/"}]}),
            "InvalidParameter.LBIdNotFound",
        ),
        (
            "ModifyRule",
            json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": "loc-nope", "Url": "/x"}),
            "InvalidParameter",
        ),
        (
            "ModifyDomainAttributes",
            json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "zz.example.com", "Http2": true}),
            "InvalidParameterValue",
        ),
        (
            "ModifyDomainAttributes",
            json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "a.example.com", "DefaultServer": false}),
            "MissingParameter",
        ),
        (
            "DeleteRule",
            json!({"LoadBalancerId": LB, "ListenerId": l, "LocationIds": ["loc-nope"]}),
            "InvalidParameter",
        ),
        (
            "RegisterTargets",
            reg(json!([{"EniIp": "10.0.0.1", "Port": 80, "Weight": 101}])),
            "InvalidParameterValue",
        ),
        (
            "RegisterTargets",
            reg(json!([{"EniIp": "10.0.0.1", "Port": 80}, {"EniIp": "10.0.0.1", "Port": 80}])),
            "InvalidParameterValue.Duplicate",
        ),
        (
            "RegisterTargets",
            reg(json!((0..21)
                .map(|i| json!({"EniIp": format!("10.0.1.{i}"), "Port": 80}))
                .collect::<Vec<_>>())),
            "InvalidParameterValue",
        ),
        (
            "DeregisterTargets",
            reg(json!([{"EniIp": "10.9.9.9", "Port": 80}])),
            "InvalidParameterValue",
        ),
        (
            "RegisterTargets",
            reg(json!([{"EniIp": "10.0.0.1", "Port": 80, "Bogus": 1}])),
            "UnknownParameter",
        ),
    ];
    for (action, body, want) in cases {
        let a = send(&em, action, body.clone()).await;
        assert_eq!(code(&a), Some(want), "{action} {body}: {a}");
    }
    // quota: 50 rules per listener
    let many: Vec<Value> = (0..49)
        .map(|i| json!({"Domain": "a.example.com", "Url": format!("/p{i}")}))
        .collect();
    ok(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": many}),
    )
    .await;
    let a = send(
        &em,
        "CreateRule",
        rule(json!({"Domain": "a.example.com", "Url": "/one-more"})),
    )
    .await;
    assert_eq!(code(&a), Some("LimitExceeded"));
    // duplicate target already bound
    ok(&em, "RegisterTargets", reg(json!([{"EniIp": "10.0.0.1", "Port": 80}]))).await;
    let a = send(&em, "RegisterTargets", reg(json!([{"EniIp": "10.0.0.1", "Port": 80}]))).await;
    assert_eq!(code(&a), Some("InvalidParameterValue.Duplicate"));
    em.shutdown().await;
}

#[tokio::test]
async fn a_running_rule_task_makes_the_instance_busy() {
    let em = start_clb(400).await;
    let l = listener(&em, "HTTP", 80, false).await;
    let a = send(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [{"Domain": "a.example.com", "Url": "/"}]}),
    )
    .await;
    let task = a["RequestId"].as_str().unwrap().to_string();
    let s = send(&em, "DescribeTaskStatus", json!({"TaskId": task})).await;
    assert_eq!(s["Status"], 2);
    let b = send(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [{"Domain": "b.example.com", "Url": "/"}]}),
    )
    .await;
    assert_eq!(code(&b), Some("FailedOperation.ResourceInOperating"));
    let c = send(
        &em,
        "CreateListener",
        json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [90]}),
    )
    .await;
    assert_eq!(code(&c), Some("FailedOperation.ResourceInOperating"));
    assert_eq!(wait(&em, &task).await, 0);
    assert_eq!(rules(&em, &l).await.len(), 1);
    em.shutdown().await;
}

#[tokio::test]
async fn resolve_answers_by_clb_matching() {
    let em = start_clb(10).await;
    let l = listener(&em, "HTTP", 80, false).await;
    let tcp = listener(&em, "TCP", 9000, false).await;
    let ids = ok(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [
            {"Domain": "fallback.example", "Url": "/"},
            {"Domain": "www.example.com", "Url": "/"},
            {"Domain": "www.example.com", "Url": "/img"},
            {"Domain": "www.example.com", "Url": "=/img/logo.png"},
            {"Domain": "www.example.com", "Url": "/docs/"},
            {"Domain": "*.example.com", "Url": "/"},
            {"Domain": "~^api\\d+\\.example\\.net$", "Url": "/"}
        ]}),
    )
    .await["LocationIds"]
        .clone();
    ok(
        &em,
        "RegisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": ids[2], "Targets": [{"EniIp": "10.0.0.5", "Port": 8080, "Weight": 40}]}),
    )
    .await;
    ok(
        &em,
        "RegisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": tcp, "Targets": [{"EniIp": "10.0.0.6", "Port": 7000}]}),
    )
    .await;
    let q = |host: &str, path: &str| json!({"service": "clb", "instance": LB, "port": 80, "host": host, "path": path});
    let cases = [
        ("www.example.com", "/img/a.png", json!(ids[2]), 200),
        ("www.example.com", "/img/logo.png", json!(ids[3]), 200),
        ("www.example.com", "/other", json!(ids[1]), 200),
        ("shop.example.com", "/x", json!(ids[5]), 200),
        ("api7.example.net", "/x", json!(ids[6]), 200),
        ("nobody.org", "/x", json!(ids[0]), 200),
        ("www.example.com", "/docs", Value::Null, 301),
    ];
    for (host, path, rule, status) in cases {
        let (http, a) = resolve(&em, q(host, path)).await;
        assert_eq!(http, 200);
        assert_eq!(
            (a["rule"].clone(), a["status"].as_i64()),
            (rule, Some(status)),
            "{host}{path}: {a}"
        );
        assert_eq!(a["listener"], l.as_str());
    }
    let (_, a) = resolve(&em, q("www.example.com", "/img/a.png")).await;
    assert_eq!(
        a["endpoints"],
        json!([{"address": "10.0.0.5", "port": 8080, "weight": 40}])
    );
    // a host with only `/api` and no `/` rule: 404, no fall-through
    ok(
        &em,
        "CreateRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": [{"Domain": "only.example.org", "Url": "/api"}]}),
    )
    .await;
    let (_, a) = resolve(&em, q("only.example.org", "/web")).await;
    assert_eq!((a["status"].as_i64(), a["rule"].is_null()), (Some(404), true));
    let (_, a) = resolve(
        &em,
        json!({"service": "clb", "instance": LB, "port": 9000, "host": "", "path": "/"}),
    )
    .await;
    assert_eq!(a["listener"], tcp.as_str());
    assert_eq!(a["endpoints"][0]["port"], 7000);
    let (http, _) = resolve(
        &em,
        json!({"service": "clb", "instance": LB, "port": 1234, "host": "h", "path": "/"}),
    )
    .await;
    assert_eq!(http, 404);
    let (http, _) = resolve(&em, json!({"service": "clb", "instance": "lb-none", "port": 80})).await;
    assert_eq!(http, 404);
    // An unknown service is a 404, as for every admin call naming one.
    let (http, _) = resolve(&em, json!({"service": "nope", "instance": LB, "port": 80})).await;
    assert_eq!(http, 404);
    em.shutdown().await;
}
