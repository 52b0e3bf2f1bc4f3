//! The GAAP domain, rule and origin-server rules, each with the vendor's
//! error code, and GAAP's matcher behind resolve.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::Gaap;
use crate::context::ManualContext;
use crate::service::{ApiError, Call, InstanceSeed, ResolveQuery, Service, Timing};

const LINK: &str = "link-emu00001";

struct F {
    gaap: Gaap,
    ctx: ManualContext,
    now: Instant,
}

impl F {
    fn new() -> F {
        F::with_ctx(ManualContext::new(timing()))
    }

    fn with_ctx(ctx: ManualContext) -> F {
        let gaap = Gaap::new();
        gaap.seed(InstanceSeed {
            id: LINK.into(),
            ..InstanceSeed::default()
        });
        F {
            gaap,
            ctx,
            now: Instant::now(),
        }
    }

    fn call(&mut self, action: &str, params: Value) -> Result<Value, ApiError> {
        let call = Call {
            action: action.into(),
            params,
            flat: BTreeMap::new(),
            region: None,
            request_id: "req-1".into(),
            now: self.now,
        };
        self.gaap.handle(&mut self.ctx, &call)
    }

    fn ok(&mut self, action: &str, params: Value) -> Value {
        let v = self.call(action, params).unwrap_or_else(|e| panic!("{action}: {e}"));
        self.later();
        v
    }

    fn code(&mut self, action: &str, params: Value) -> String {
        match self.call(action, params) {
            Ok(v) => panic!("{action} succeeded: {v}"),
            Err(e) => e.code,
        }
    }

    fn later(&mut self) {
        self.now += Duration::from_millis(150);
    }

    fn listener(&mut self, action: &str, extra: Value) -> String {
        let mut params = json!({"ProxyId": LINK, "ListenerName": "l"});
        for (k, v) in extra.as_object().expect("object") {
            params[k] = v.clone();
        }
        let v = self.ok(action, params);
        v["ListenerId"]
            .as_str()
            .map(str::to_string)
            .or_else(|| v["ListenerIds"][0].as_str().map(str::to_string))
            .expect("listener id")
    }

    fn https(&mut self) -> String {
        self.listener(
            "CreateHTTPSListener",
            json!({"Port": 443, "CertificateId": "cert-listener", "ForwardProtocol": "HTTP"}),
        )
    }

    fn domain(&mut self, l: &str, d: &str, extra: Value) {
        let mut params = json!({"ListenerId": l, "Domain": d});
        for (k, v) in extra.as_object().expect("object") {
            params[k] = v.clone();
        }
        self.ok("CreateDomain", params);
    }

    fn rule(&mut self, l: &str, d: &str, path: &str) -> String {
        let v = self.ok(
            "CreateRule",
            json!({"ListenerId": l, "Domain": d, "Path": path, "RealServerType": "IP", "Scheduler": "wrr", "HealthCheck": 0}),
        );
        v["RuleId"].as_str().expect("rule id").to_string()
    }

    fn servers(&mut self, addresses: &[&str]) -> Vec<String> {
        let v = self.ok(
            "AddRealServers",
            json!({"ProjectId": 0, "RealServerIP": addresses, "RealServerName": "o--lctl"}),
        );
        v["RealServerSet"]
            .as_array()
            .expect("set")
            .iter()
            .map(|r| r["RealServerId"].as_str().expect("id").to_string())
            .collect()
    }

    fn bind(&mut self, rule: &str, set: Value) {
        self.ok("BindRuleRealServers", json!({"RuleId": rule, "RealServerBindSet": set}));
    }

    fn rules(&mut self, l: &str) -> Value {
        self.call("DescribeRules", json!({"ListenerId": l}))
            .expect("describe rules")
    }

    fn resolve(&self, host: &str, path: &str) -> Value {
        self.resolve_port(443, host, path)
    }

    fn resolve_port(&self, port: u32, host: &str, path: &str) -> Value {
        let q = ResolveQuery {
            instance: LINK.into(),
            port,
            host: host.into(),
            path: path.into(),
        };
        self.gaap
            .resolve(&q, self.now)
            .expect("gaap resolves")
            .expect("listener found")
    }
}

fn timing() -> Timing {
    Timing {
        create: Duration::from_millis(100),
        update: Duration::from_millis(100),
        delete: Duration::from_millis(100),
    }
}

fn addresses(v: &Value) -> Vec<String> {
    let mut a: Vec<String> = v["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| format!("{}:{}/{}", e["address"].as_str().unwrap_or(""), e["port"], e["weight"]))
        .collect();
    a.sort();
    a
}

#[test]
fn domains_are_exact_names_once_per_listener_and_asynchronous() {
    let mut f = F::new();
    let l = f.https();
    f.call("CreateDomain", json!({"ListenerId": l, "Domain": "a.example.com"}))
        .expect("create domain");
    assert_eq!(f.rules(&l)["DomainRuleSet"][0]["DomainStatus"], json!(1));
    // One write at a time on the connection.
    assert_eq!(
        f.code("CreateDomain", json!({"ListenerId": l, "Domain": "b.example.com"})),
        "FailedOperation.ListenerHasTask"
    );
    f.later();
    let d = &f.rules(&l)["DomainRuleSet"][0];
    assert_eq!(
        (d["DomainStatus"].clone(), d["CertificateId"].clone()),
        (json!(0), json!("default"))
    );
    assert_eq!(
        f.code("CreateDomain", json!({"ListenerId": l, "Domain": "a.example.com"})),
        "FailedOperation.DomainAlreadyExisted"
    );
    for bad in [
        "*.example.com",
        "A.example.com",
        "ab",
        &format!("{}.com", "a".repeat(80)),
    ] {
        assert_eq!(
            f.code("CreateDomain", json!({"ListenerId": l, "Domain": bad})),
            "InvalidParameterValue",
            "{bad}"
        );
    }
    assert_eq!(
        f.code(
            "CreateDomain",
            json!({"ListenerId": "listener-none", "Domain": "c.example.com"})
        ),
        "ResourceNotFound"
    );
    let tcp = f.listener(
        "CreateTCPListeners",
        json!({"Ports": [7000], "Scheduler": "rr", "RealServerType": "IP", "HealthCheck": 0}),
    );
    assert_eq!(
        f.code("CreateDomain", json!({"ListenerId": tcp, "Domain": "c.example.com"})),
        "InvalidParameterValue"
    );
}

#[test]
fn a_listener_holds_one_hundred_domains() {
    let mut f = F::new();
    let l = f.listener("CreateHTTPListener", json!({"Port": 80}));
    for i in 0..100 {
        f.domain(&l, &format!("h{i}.example.com"), json!({}));
    }
    assert_eq!(
        f.code("CreateDomain", json!({"ListenerId": l, "Domain": "h100.example.com"})),
        "LimitExceeded.Domain"
    );
    assert_eq!(f.rules(&l)["TotalCount"], json!(100));
}

#[test]
fn domain_certificates_follow_the_listener_rules() {
    let mut f = F::new();
    let http = f.listener("CreateHTTPListener", json!({"Port": 80}));
    assert_eq!(
        f.code(
            "CreateDomain",
            json!({"ListenerId": http, "Domain": "a.example.com", "CertificateId": "cert-a"})
        ),
        "InvalidParameter.ConflictParameters"
    );
    let l = f.https();
    assert_eq!(
        f.code(
            "CreateDomain",
            json!({"ListenerId": l, "Domain": "a.example.com", "ClientCertificateId": "ca-1"})
        ),
        "InvalidParameter.ConflictParameters",
        "client CAs need a mutual listener"
    );
    let mutual = f.listener(
        "CreateHTTPSListener",
        json!({"Port": 8443, "CertificateId": "cert-listener", "ForwardProtocol": "HTTP", "AuthType": 1, "ClientCertificateId": "ca-l"}),
    );
    assert_eq!(
        f.code(
            "CreateDomain",
            json!({"ListenerId": mutual, "Domain": "a.example.com", "ClientCertificateId": "ca-1", "PolyClientCertificateIds": ["ca-2"]})
        ),
        "InvalidParameter.ConflictParameters"
    );
    f.domain(
        &mutual,
        "a.example.com",
        json!({"CertificateId": "cert-a", "PolyClientCertificateIds": ["ca-1", "ca-2"]}),
    );
    let d = f.rules(&mutual)["DomainRuleSet"][0].clone();
    assert_eq!(d["CertificateId"], json!("cert-a"));
    assert_eq!(d["PolyClientCertificateAliasInfo"][1]["CertificateId"], json!("ca-2"));
    // Rotation in place: the host keeps a certificate throughout.
    f.call(
        "ModifyCertificate",
        json!({"ListenerId": mutual, "Domain": "a.example.com", "CertificateId": "cert-a2"}),
    )
    .expect("modify certificate");
    assert_eq!(f.rules(&mutual)["DomainRuleSet"][0]["DomainStatus"], json!(1));
    assert_eq!(
        f.code(
            "ModifyCertificate",
            json!({"ListenerId": mutual, "Domain": "a.example.com", "CertificateId": "cert-a3"})
        ),
        "FailedOperation.DomainStatusNotInRunning"
    );
    f.later();
    assert_eq!(f.rules(&mutual)["DomainRuleSet"][0]["CertificateId"], json!("cert-a2"));
    // ModifyDomain without CertificateId keeps it; `default` is the listener's.
    f.ok(
        "ModifyDomain",
        json!({"ListenerId": mutual, "OldDomain": "a.example.com", "NewDomain": "b.example.com"}),
    );
    assert_eq!(f.rules(&mutual)["DomainRuleSet"][0]["CertificateId"], json!("cert-a2"));
    f.ok(
        "ModifyDomain",
        json!({"ListenerId": mutual, "OldDomain": "b.example.com", "NewDomain": "b.example.com", "CertificateId": "default"}),
    );
    assert_eq!(f.rules(&mutual)["DomainRuleSet"][0]["CertificateId"], json!("default"));
    assert_eq!(
        f.code(
            "ModifyCertificate",
            json!({"ListenerId": mutual, "Domain": "a.example.com", "CertificateId": "cert-x"})
        ),
        "ResourceNotFound"
    );
}

#[test]
fn a_failed_certificate_change_puts_the_old_one_back() {
    let mut f = F::new();
    let l = f.https();
    f.domain(&l, "a.example.com", json!({"CertificateId": "cert-a"}));
    f.ctx = ManualContext::new(timing()).failing_tasks(1);
    f.ok(
        "ModifyCertificate",
        json!({"ListenerId": l, "Domain": "a.example.com", "CertificateId": "cert-b"}),
    );
    assert_eq!(f.rules(&l)["DomainRuleSet"][0]["CertificateId"], json!("cert-a"));
    assert_eq!(f.resolve("a.example.com", "/")["certificate"], json!("cert-a"));
}

#[test]
fn rules_follow_path_quota_and_kind_rules() {
    let mut f = F::new();
    let l = f.https();
    f.domain(&l, "a.example.com", json!({}));
    let base = |path: &str| json!({"ListenerId": l, "Domain": "a.example.com", "Path": path, "RealServerType": "IP", "Scheduler": "wrr", "HealthCheck": 0});
    let id = f.rule(&l, "a.example.com", "/");
    assert!(id.starts_with("rule-"), "{id}");
    assert_eq!(f.code("CreateRule", base("/")), "FailedOperation.RuleAlreadyExisted");
    for bad in ["api", "/a b", &format!("/{}", "a".repeat(80))] {
        assert_eq!(f.code("CreateRule", base(bad)), "InvalidParameterValue", "{bad}");
    }
    let mut domain_wrr = base("/d");
    domain_wrr["RealServerType"] = json!("DOMAIN");
    assert_eq!(f.code("CreateRule", domain_wrr), "InvalidParameter.ConflictParameters");
    let mut no_hc = base("/x");
    no_hc.as_object_mut().expect("object").remove("HealthCheck");
    assert_eq!(f.code("CreateRule", no_hc), "MissingParameter");
    let mut other = base("/x");
    other["Domain"] = json!("nothere.example.com");
    assert_eq!(f.code("CreateRule", other), "ResourceNotFound");
    for i in 1..20 {
        f.rule(&l, "a.example.com", &format!("/p{i}"));
    }
    assert_eq!(f.code("CreateRule", base("/p20")), "FailedOperation.LimitNumofRules");
    // ModifyRuleAttribute: the path moves, a taken path is refused.
    assert_eq!(
        f.code(
            "ModifyRuleAttribute",
            json!({"ListenerId": l, "RuleId": id, "Path": "/p1"})
        ),
        "FailedOperation.RuleAlreadyExisted"
    );
    f.ok(
        "ModifyRuleAttribute",
        json!({"ListenerId": l, "RuleId": id, "Path": "/root"}),
    );
    let got = f
        .call("DescribeRulesByRuleIds", json!({"RuleIds": [id]}))
        .expect("by ids");
    assert_eq!(got["RuleSet"][0]["Path"], json!("/root"));
    assert_eq!(got["RuleSet"][0]["RuleStatus"], json!(0));
    let eleven: Vec<String> = (0..11).map(|i| format!("rule-{i}")).collect();
    assert_eq!(
        f.code("DescribeRulesByRuleIds", json!({"RuleIds": eleven})),
        "InvalidParameterValue"
    );
}

#[test]
fn origins_are_added_once_bound_as_a_whole_set_and_removed_only_when_free() {
    let mut f = F::new();
    let l = f.https();
    f.domain(&l, "a.example.com", json!({}));
    let rule = f.rule(&l, "a.example.com", "/");
    let rs = f.servers(&["10.0.0.1", "10.0.0.2"]);
    assert_eq!(
        f.code(
            "AddRealServers",
            json!({"ProjectId": 0, "RealServerIP": ["10.0.0.1"], "RealServerName": "x"})
        ),
        "InvalidParameterValue.DuplicateRS"
    );
    let dns = f.servers(&["origin.example.com"]);
    f.bind(
        &rule,
        json!([{"RealServerId": rs[0], "RealServerPort": 80, "RealServerWeight": 30},
               {"RealServerId": rs[1], "RealServerPort": 80}]),
    );
    let bound = &f.rules(&l)["DomainRuleSet"][0]["RuleSet"][0]["RealServerSet"];
    assert_eq!(bound[0]["RealServerWeight"], json!(30));
    assert_eq!(bound[1]["RealServerWeight"], json!(1), "the default weight is 1");
    // The whole set is replaced.
    f.bind(
        &rule,
        json!([{"RealServerId": rs[1], "RealServerPort": 8080, "RealServerWeight": 5}]),
    );
    let bound = f.rules(&l)["DomainRuleSet"][0]["RuleSet"][0]["RealServerSet"].clone();
    assert_eq!(bound.as_array().map(Vec::len), Some(1));
    for (set, code) in [
        (
            json!([{"RealServerId": rs[0], "RealServerPort": 80, "RealServerWeight": 0}]),
            "InvalidParameterValue",
        ),
        (
            json!([{"RealServerId": rs[0], "RealServerPort": 80, "RealServerWeight": 101}]),
            "InvalidParameterValue",
        ),
        (
            json!([{"RealServerId": rs[0], "RealServerPort": 0}]),
            "InvalidParameterValue",
        ),
        (
            json!([{"RealServerId": dns[0], "RealServerPort": 80}]),
            "InvalidParameterValue",
        ),
        (
            json!([{"RealServerId": "rs-none", "RealServerPort": 80}]),
            "ResourceNotFound",
        ),
        (
            json!([{"RealServerId": rs[0], "RealServerIP": "10.9.9.9", "RealServerPort": 80}]),
            "InvalidParameterValue.RealServerNotBelong",
        ),
        (
            json!([{"RealServerId": rs[0], "RealServerPort": 80}, {"RealServerId": rs[0], "RealServerPort": 80}]),
            "InvalidParameterValue.DuplicateRS",
        ),
        (
            json!([{"RealServerId": rs[0], "RealServerPort": 80, "RealServerFailoverRole": "master"}]),
            "InvalidParameter.ConflictParameters",
        ),
    ] {
        assert_eq!(
            f.code("BindRuleRealServers", json!({"RuleId": rule, "RealServerBindSet": set})),
            code,
            "{set}"
        );
    }
    let many: Vec<String> = (0..101).map(|i| format!("10.1.{}.{}", i / 200, i % 200)).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let ids = f.servers(&refs);
    let set: Vec<Value> = ids
        .iter()
        .map(|id| json!({"RealServerId": id, "RealServerPort": 80}))
        .collect();
    assert_eq!(
        f.code("BindRuleRealServers", json!({"RuleId": rule, "RealServerBindSet": set})),
        "FailedOperation.LimitRealServerNum"
    );
    assert_eq!(
        f.code("RemoveRealServers", json!({"RealServerIds": [rs[1]]})),
        "FailedOperation.RealServerAlreadyBound"
    );
    assert_eq!(
        f.code("DeleteRule", json!({"ListenerId": l, "RuleId": rule, "Force": 0})),
        "FailedOperation.RealServerAlreadyBound"
    );
    assert_eq!(
        f.code(
            "DeleteDomain",
            json!({"ListenerId": l, "Domain": "a.example.com", "Force": 0})
        ),
        "FailedOperation.RealServerAlreadyBound"
    );
    // An absent set unbinds all; then the server can go.
    f.ok("BindRuleRealServers", json!({"RuleId": rule}));
    f.ok("RemoveRealServers", json!({"RealServerIds": [rs[1]]}));
    let listed = f
        .call(
            "DescribeRealServers",
            json!({"ProjectId": -1, "Filters": [{"Name": "RealServerIP", "Values": ["10.0.0.2"]}]}),
        )
        .expect("describe real servers");
    assert_eq!(listed["TotalCount"], json!(0));
    assert_eq!(
        f.code("DescribeRealServers", json!({"ProjectId": 0, "Limit": 51})),
        "InvalidParameterValue"
    );
}

#[test]
fn layer4_listeners_bind_origins_to_the_listener_only() {
    let mut f = F::new();
    let l = f.https();
    let rs = f.servers(&["10.0.0.1"]);
    assert_eq!(
        f.code(
            "BindListenerRealServers",
            json!({"ListenerId": l, "RealServerBindSet": [{"RealServerId": rs[0], "RealServerPort": 80}]})
        ),
        "InvalidParameterValue"
    );
    let tcp = f.listener(
        "CreateTCPListeners",
        json!({"Ports": [7000], "Scheduler": "wrr", "RealServerType": "IP", "HealthCheck": 0}),
    );
    f.call(
        "BindListenerRealServers",
        json!({"ListenerId": tcp, "RealServerBindSet": [{"RealServerId": rs[0], "RealServerPort": 7001, "RealServerWeight": 7}]}),
    )
    .expect("bind listener");
    let status = f
        .call("DescribeTCPListeners", json!({"ListenerId": tcp}))
        .expect("describe")["ListenerSet"][0]["ListenerStatus"]
        .clone();
    assert_eq!(status, json!(3), "origins being bound");
    f.later();
    let got = f
        .call("DescribeListenerRealServers", json!({"ListenerId": tcp}))
        .expect("describe listener real servers");
    assert_eq!(got["BindRealServerSet"][0]["RealServerPort"], json!(7001));
    assert_eq!(addresses(&f.resolve_port(7000, "", "/")), vec!["10.0.0.1:7001/7"]);
    assert_eq!(
        f.code(
            "DeleteListeners",
            json!({"ProxyId": LINK, "ListenerIds": [tcp], "Force": 0})
        ),
        "FailedOperation.RealServerAlreadyBound"
    );
}

#[test]
fn resolve_takes_the_exact_domain_then_the_longest_prefix() {
    let mut f = F::new();
    let l = f.https();
    let rs = f.servers(&["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    f.domain(&l, "default.lctl.invalid", json!({"IsDefaultServer": true}));
    f.domain(&l, "api.example.com", json!({"CertificateId": "cert-api"}));
    let root = f.rule(&l, "default.lctl.invalid", "/");
    let v1 = f.rule(&l, "api.example.com", "/v1");
    let v1r = f.rule(&l, "api.example.com", "/v1/reports");
    f.bind(
        &root,
        json!([{"RealServerId": rs[0], "RealServerPort": 80, "RealServerWeight": 100}]),
    );
    f.bind(
        &v1,
        json!([{"RealServerId": rs[1], "RealServerPort": 90, "RealServerWeight": 100}]),
    );
    f.bind(
        &v1r,
        json!([{"RealServerId": rs[2], "RealServerPort": 91, "RealServerWeight": 100}]),
    );
    let r = f.resolve("API.example.com:443", "/v1/reports/2024?x=1");
    assert_eq!((r["rule"].clone(), r["status"].clone()), (json!(v1r), json!(200)));
    assert_eq!(r["certificate"], json!("cert-api"));
    assert_eq!(
        addresses(&f.resolve("api.example.com", "/v1x")),
        vec!["10.0.0.2:90/100"]
    );
    // A matched host without a matching path is 404: no fall-through.
    let miss = f.resolve("api.example.com", "/v2");
    assert_eq!(
        (miss["status"].clone(), miss["domain"].clone()),
        (json!(404), json!("api.example.com"))
    );
    // An unknown host takes the default domain, and the listener's certificate.
    let other = f.resolve("www.other.org", "/v1");
    assert_eq!(other["rule"], json!(root));
    assert_eq!(other["certificate"], json!("cert-listener"));
    // A rule being created does not serve yet; a rule without origins is 502.
    f.call(
        "CreateRule",
        json!({"ListenerId": l, "Domain": "api.example.com", "Path": "/", "RealServerType": "IP", "Scheduler": "wrr", "HealthCheck": 0}),
    )
    .expect("create");
    assert_eq!(f.resolve("api.example.com", "/")["status"], json!(404));
    f.later();
    assert_eq!(f.resolve("api.example.com", "/")["status"], json!(502));
    // Moving the default flag.
    f.domain(&l, "b.example.com", json!({"IsDefaultServer": true}));
    let d = f.rules(&l);
    let flags: Vec<(String, bool)> = d["DomainRuleSet"]
        .as_array()
        .expect("set")
        .iter()
        .map(|d| {
            (
                d["Domain"].as_str().unwrap_or("").to_string(),
                d["IsDefaultServer"] == json!(true),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            ("default.lctl.invalid".to_string(), false),
            ("api.example.com".to_string(), false),
            ("b.example.com".to_string(), true)
        ]
    );
    assert_eq!(f.resolve("www.other.org", "/")["status"], json!(404), "b has no rules");
    // Deleting a domain takes its rules; Force 1 even with origins bound.
    f.ok(
        "DeleteDomain",
        json!({"ListenerId": l, "Domain": "api.example.com", "Force": 1}),
    );
    let left = f.rules(&l);
    assert_eq!(left["TotalCount"], json!(2));
    assert!(f
        .call("DescribeRulesByRuleIds", json!({"RuleIds": [v1]}))
        .expect("by ids")["RuleSet"]
        .as_array()
        .is_some_and(Vec::is_empty));
}

#[test]
fn deleting_the_listener_takes_its_domains_and_rules() {
    let mut f = F::new();
    let l = f.https();
    f.domain(&l, "a.example.com", json!({}));
    let rule = f.rule(&l, "a.example.com", "/");
    let rs = f.servers(&["10.0.0.1"]);
    f.bind(&rule, json!([{"RealServerId": rs[0], "RealServerPort": 80}]));
    assert_eq!(
        f.code(
            "DeleteListeners",
            json!({"ProxyId": LINK, "ListenerIds": [l], "Force": 0})
        ),
        "FailedOperation.RealServerAlreadyBound"
    );
    f.ok(
        "DeleteListeners",
        json!({"ProxyId": LINK, "ListenerIds": [l], "Force": 1}),
    );
    f.later();
    let gone = f
        .call("DescribeRulesByRuleIds", json!({"RuleIds": [rule]}))
        .expect("by ids");
    assert_eq!(gone["TotalCount"], json!(0));
    f.ok("RemoveRealServers", json!({"RealServerIds": [rs[0]]}));
}
