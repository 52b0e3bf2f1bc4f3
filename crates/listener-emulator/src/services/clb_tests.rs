use std::time::Duration;

use super::*;
use crate::context::ManualContext;
use crate::service::Timing;

const LB: &str = "lb-test0001";

fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(100),
        update: Duration::from_millis(100),
        delete: Duration::from_millis(100),
    }
}

struct Fixture {
    clb: Clb,
    ctx: ManualContext,
    t0: Instant,
    n: u32,
}

impl Fixture {
    fn new() -> Self {
        let clb = Clb::new();
        clb.seed(InstanceSeed {
            id: LB.into(),
            server_groups: vec![],
        });
        Fixture {
            clb,
            ctx: ManualContext::new(timing()),
            t0: Instant::now(),
            n: 0,
        }
    }

    /// Call `action` at `at_ms` after the start; returns the request id too.
    fn at(&mut self, at_ms: u64, action: &str, params: Value) -> (String, R<Value>) {
        self.n += 1;
        let request_id = format!("req-{}", self.n);
        let call = Call {
            action: action.into(),
            params,
            flat: BTreeMap::new(),
            region: Some("ap-guangzhou".into()),
            request_id: request_id.clone(),
            now: self.t0 + Duration::from_millis(at_ms),
        };
        (request_id, self.clb.handle(&mut self.ctx, &call))
    }

    fn code(&mut self, action: &str, params: Value) -> String {
        match self.at(0, action, params).1 {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.code,
        }
    }

    fn listeners(&mut self, at_ms: u64) -> Vec<Value> {
        let answer = self.at(at_ms, "DescribeListeners", json!({"LoadBalancerId": LB})).1;
        answer.expect("describe")["Listeners"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn status(&mut self, at_ms: u64, task: &str) -> i64 {
        let answer = self.at(at_ms, "DescribeTaskStatus", json!({"TaskId": task})).1;
        answer.expect("task status")["Status"].as_i64().unwrap_or(-1)
    }
}

fn tcp(ports: Value) -> Value {
    json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": ports})
}

#[test]
fn create_two_named_ports_runs_a_task_then_describes_both() {
    let mut f = Fixture::new();
    let (task, answer) = f.at(
        0,
        "CreateListener",
        json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [7570, 7569], "ListenerNames": ["lis1", "lis0"],
               "HealthCheck": {"HealthSwitch": 1, "TimeOut": 5, "IntervalTime": 7, "HealthNum": 4, "UnHealthNum": 4}}),
    );
    let ids = answer.expect("created")["ListenerIds"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(ids.len(), 2);
    assert!(ids
        .iter()
        .all(|i| i.as_str().is_some_and(|s| s.starts_with("lbl-") && s.len() == 12)));
    assert_eq!(f.status(10, &task), 2);
    assert_eq!(f.status(150, &task), 0);
    let listeners = f.listeners(150);
    assert_eq!(listeners.len(), 2);
    assert_eq!(listeners[0]["Port"], 7570);
    assert_eq!(listeners[0]["ListenerName"], "lis1");
    assert_eq!(listeners[1]["ListenerName"], "lis0");
    assert_eq!(listeners[0]["HealthCheck"]["IntervalTime"], 7);
    assert_eq!(listeners[0]["HealthCheck"]["CheckType"], "TCP");
    assert_eq!(f.clb.listener_counts().get(LB), Some(&2));
}

#[test]
fn writes_while_a_task_runs_answer_busy() {
    let mut f = Fixture::new();
    let (_, first) = f.at(0, "CreateListener", tcp(json!([80])));
    assert!(first.is_ok());
    let (_, second) = f.at(50, "CreateListener", tcp(json!([81])));
    assert_eq!(second.expect_err("busy").code, "FailedOperation.ResourceInOperating");
    let (_, third) = f.at(120, "CreateListener", tcp(json!([81])));
    assert!(third.is_ok());
}

#[test]
fn busy_is_answered_before_a_port_conflict() {
    let mut f = Fixture::new();
    assert!(f.at(0, "CreateListener", tcp(json!([80]))).1.is_ok());
    let (_, again) = f.at(10, "CreateListener", tcp(json!([80])));
    assert_eq!(again.expect_err("busy").code, "FailedOperation.ResourceInOperating");
    let (_, after) = f.at(200, "CreateListener", tcp(json!([80])));
    assert_eq!(after.expect_err("conflict").code, "InvalidParameter.PortCheckFailed");
}

#[test]
fn a_failed_create_task_leaves_no_listener() {
    let mut f = Fixture::new();
    f.ctx.failing_tasks = 1;
    let (task, answer) = f.at(0, "CreateListener", tcp(json!([80, 81])));
    assert!(answer.is_ok());
    assert_eq!(f.listeners(10).len(), 2, "visible while the task runs");
    assert_eq!(f.status(150, &task), 1);
    assert!(f.listeners(150).is_empty());
    let (_, msg) = f.at(150, "DescribeTaskStatus", json!({"TaskId": task}));
    assert!(msg.expect("status")["Message"].is_string());
}

#[test]
fn port_spaces_are_shared_per_transport() {
    let mut f = Fixture::new();
    assert!(f.at(0, "CreateListener", tcp(json!([443]))).1.is_ok());
    let udp = json!({"LoadBalancerId": LB, "Protocol": "UDP", "Ports": [443]});
    assert!(f.at(200, "CreateListener", udp).1.is_ok(), "UDP has its own ports");
    let http = json!({"LoadBalancerId": LB, "Protocol": "HTTP", "Ports": [443]});
    assert_eq!(
        f.at(400, "CreateListener", http).1.expect_err("tcp side").code,
        "InvalidParameter.PortCheckFailed"
    );
    let quic = json!({"LoadBalancerId": LB, "Protocol": "QUIC", "Ports": [443], "Certificate": {"CertId": "c1"}});
    assert_eq!(
        f.at(400, "CreateListener", quic).1.expect_err("udp side").code,
        "InvalidParameter.PortCheckFailed"
    );
    let range = json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [400], "EndPort": 450});
    assert_eq!(
        f.at(400, "CreateListener", range).1.expect_err("range overlaps").code,
        "InvalidParameter.PortCheckFailed"
    );
}

#[test]
fn fifty_listeners_is_the_quota() {
    let mut f = Fixture::new();
    let ports: Vec<u32> = (1000..1050).collect();
    assert!(f.at(0, "CreateListener", tcp(json!(ports))).1.is_ok());
    assert_eq!(f.listeners(200).len(), 50);
    let (_, more) = f.at(200, "CreateListener", tcp(json!([2000])));
    assert_eq!(more.expect_err("quota").code, "LimitExceeded");
}

#[test]
fn parameter_rules_answer_the_vendor_codes() {
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"LoadBalancerId": "lb-nope", "Protocol": "TCP", "Ports": [1]}),
            "InvalidParameter.LBIdNotFound",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "SCTP", "Ports": [1]}),
            "InvalidParameter.ProtocolCheckFailed",
        ),
        (json!({"LoadBalancerId": LB, "Protocol": "TCP"}), "MissingParameter"),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": ["80"]}),
            "InvalidParameter.FormatError",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [0]}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80, 80]}),
            "InvalidParameter.PortCheckFailed",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "ListenerNames": ["a", "b"]}),
            "InvalidParameter.FormatError",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "ListenerNames": ["x".repeat(81)]}),
            "InvalidParameterValue.Length",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80, 90], "EndPort": 100}),
            "InvalidParameter.FormatError",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "Bogus": 1}),
            "UnknownParameter",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "Certificate": {"CertId": "a"}, "MultiCertInfo": {"SSLMode": "UNIDIRECTIONAL", "CertList": [{"CertId": "a"}]}}),
            "InvalidParameter.FormatError",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "Certificate": {"CertId": "a"}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "SniSwitch": 1, "Certificate": {"CertId": "a"}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP_SSL", "Ports": [443]}),
            "MissingParameter",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "Certificate": {"SSLMode": "MUTUAL", "CertId": "a"}}),
            "MissingParameter",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTP", "Ports": [80], "HealthCheck": {"HealthSwitch": 1}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "SessionExpireTime": 10}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP_SSL", "Ports": [80], "Certificate": {"CertId": "a"}, "SessionExpireTime": 60}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "SessionType": "QUIC_CID"}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "UDP", "Ports": [80], "SessionType": "QUIC_CID", "Scheduler": "LEAST_CONN"}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "Scheduler": "IP_HASH"}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "KeepaliveEnable": 1}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "ProxyProtocol": true}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "IdleConnectTimeout": 2000}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "UDP", "Ports": [80], "HealthCheck": {"CheckType": "TCP"}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "HealthCheck": {"CheckType": "HTTP", "HttpCode": 32, "HttpCheckDomain": "a", "HttpVersion": "HTTP/1.1"}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "HealthCheck": {"TimeOut": 5, "IntervalTime": 5}}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "HealthCheck": {"CheckType": "HTTP", "HttpVersion": "HTTP/1.1"}}),
            "MissingParameter",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "HealthCheck": {"CheckType": "CUSTOM", "ContextType": "HEX", "SendContext": "XYZ"}}),
            "InvalidParameter.FormatError",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "HTTP", "Ports": [80], "MaxConn": 10}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "TCP", "Ports": [80], "H2cSwitch": true}),
            "InvalidParameterValue",
        ),
        (
            json!({"LoadBalancerId": LB, "Protocol": "QUIC", "Ports": [80], "MultiCertInfo": {"SSLMode": "UNIDIRECTIONAL", "CertList": [{"CertId": "a"}, {"CertId": "b"}]}}),
            "InvalidParameterValue",
        ),
    ];
    for (params, code) in cases {
        let mut f = Fixture::new();
        let shown = params.to_string();
        assert_eq!(f.code("CreateListener", params), code, "{shown}");
    }
}

#[test]
fn certificates_read_back_with_extra_server_certificates_and_the_ca() {
    let mut f = Fixture::new();
    let (_, answer) = f.at(
        0,
        "CreateListener",
        json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "SniSwitch": 0,
               "MultiCertInfo": {"SSLMode": "MUTUAL", "SSLVerifyClient": "OPTIONAL",
                                  "CertList": [{"CertId": "rsa1"}, {"CertId": "ecc1"}, {"CertId": "ca-root"}]}}),
    );
    assert!(answer.is_ok());
    let l = &f.listeners(200)[0];
    assert_eq!(l["Certificate"]["CertId"], "rsa1");
    assert_eq!(l["Certificate"]["ExtCertIds"], json!(["ecc1"]));
    assert_eq!(l["Certificate"]["CertCaId"], "ca-root");
    assert_eq!(l["Certificate"]["SSLVerifyClient"], "OPTIONAL");
    assert!(l["HealthCheck"].is_null(), "HTTPS checks live on rules");
}

#[test]
fn proxy_protocol_is_accepted_but_not_described() {
    let mut f = Fixture::new();
    let (_, answer) = f.at(
        0,
        "CreateListener",
        json!({"LoadBalancerId": LB, "Protocol": "TCP_SSL", "Ports": [9443], "Certificate": {"CertId": "c"}, "ProxyProtocol": true, "SnatEnable": true}),
    );
    assert!(answer.is_ok());
    let l = &f.listeners(200)[0];
    assert!(l.get("ProxyProtocol").is_none());
    assert!(l.get("SnatEnable").is_none());
}

#[test]
fn modify_applies_when_its_task_succeeds_and_not_when_it_fails() {
    let mut f = Fixture::new();
    f.at(0, "CreateListener", tcp(json!([80]))).1.expect("create");
    let id = f.listeners(200)[0]["ListenerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (task, m) = f.at(
        200,
        "ModifyListener",
        json!({"LoadBalancerId": LB, "ListenerId": id, "ListenerName": "renamed", "Scheduler": "LEAST_CONN"}),
    );
    assert!(m.is_ok());
    assert_eq!(f.listeners(210)[0]["ListenerName"], "", "not yet applied");
    assert_eq!(f.status(400, &task), 0);
    assert_eq!(f.listeners(400)[0]["ListenerName"], "renamed");
    assert_eq!(f.listeners(400)[0]["Scheduler"], "LEAST_CONN");

    f.ctx.failing_tasks = 1;
    let (task, m) = f.at(
        400,
        "ModifyListener",
        json!({"LoadBalancerId": LB, "ListenerId": id, "ListenerName": "again"}),
    );
    assert!(m.is_ok());
    assert_eq!(f.status(600, &task), 1);
    assert_eq!(f.listeners(600)[0]["ListenerName"], "renamed");
}

#[test]
fn modify_refuses_immutable_fields_and_switching_sni_off() {
    let mut f = Fixture::new();
    f.at(
        0,
        "CreateListener",
        json!({"LoadBalancerId": LB, "Protocol": "HTTPS", "Ports": [443], "SniSwitch": 1}),
    )
    .1
    .expect("create");
    let id = f.listeners(200)[0]["ListenerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for key in ["Protocol", "Port", "EndPort", "H2cSwitch", "SslCloseSwitch"] {
        let mut params = json!({"LoadBalancerId": LB, "ListenerId": id});
        params[key] = json!(1);
        let (_, answer) = f.at(200, "ModifyListener", params);
        assert_eq!(answer.expect_err(key).code, "UnknownParameter", "{key}");
    }
    let (_, off) = f.at(
        200,
        "ModifyListener",
        json!({"LoadBalancerId": LB, "ListenerId": id, "SniSwitch": 0}),
    );
    assert_eq!(off.expect_err("sni off").code, "InvalidParameterValue");
    let (_, gone) = f.at(
        200,
        "ModifyListener",
        json!({"LoadBalancerId": LB, "ListenerId": "lbl-none"}),
    );
    assert_eq!(gone.expect_err("unknown").code, "InvalidParameter.ListenerIdNotFound");
}

#[test]
fn delete_removes_after_the_task_and_batch_without_ids_removes_all() {
    let mut f = Fixture::new();
    f.at(0, "CreateListener", tcp(json!([80, 81, 82]))).1.expect("create");
    let id = f.listeners(200)[0]["ListenerId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (task, d) = f.at(200, "DeleteListener", json!({"LoadBalancerId": LB, "ListenerId": id}));
    assert!(d.is_ok());
    assert_eq!(f.listeners(210).len(), 3);
    assert_eq!(f.status(400, &task), 0);
    assert_eq!(f.listeners(400).len(), 2);
    let (_, again) = f.at(400, "DeleteListener", json!({"LoadBalancerId": LB, "ListenerId": id}));
    assert_eq!(again.expect_err("gone").code, "InvalidParameter.ListenerIdNotFound");
    let (_, all) = f.at(400, "DeleteLoadBalancerListeners", json!({"LoadBalancerId": LB}));
    assert!(all.is_ok());
    assert!(f.listeners(600).is_empty());
}

#[test]
fn unknown_tasks_actions_and_missing_region_are_refused() {
    let mut f = Fixture::new();
    assert_eq!(
        f.code("DescribeTaskStatus", json!({"TaskId": "nope"})),
        "InvalidParameterValue"
    );
    assert_eq!(f.code("CreateLoadBalancer", json!({})), "InvalidAction");
    let call = Call {
        action: "DescribeListeners".into(),
        params: json!({"LoadBalancerId": LB}),
        flat: BTreeMap::new(),
        region: None,
        request_id: "r".into(),
        now: Instant::now(),
    };
    assert_eq!(
        f.clb.handle(&mut f.ctx, &call).expect_err("region").code,
        "MissingParameter"
    );
}
