//! Endpoint groups, forwarding rules, additional certificates and the
//! resolve call of the emulated GA, against its rules and error codes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::super::{Ga, REGION};
use super::*;
use crate::context::ManualContext;
use crate::service::{InstanceSeed, Service, Timing};

const ACC: &str = "ga-bp1odcab8tmno0hdq";

struct Run {
    ga: Ga,
    ctx: ManualContext,
    now: Instant,
}

fn flat(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs.to_vec()
}

impl Run {
    fn new() -> Run {
        Run::with(Ga::new())
    }

    fn with(ga: Ga) -> Run {
        ga.seed(InstanceSeed {
            id: ACC.into(),
            server_groups: vec![],
        });
        Run {
            ga,
            ctx: ManualContext::new(Timing {
                create: Duration::from_millis(50),
                update: Duration::from_millis(50),
                delete: Duration::from_millis(50),
            }),
            now: Instant::now(),
        }
    }

    fn call(&mut self, action: &str, pairs: &[(&str, &str)]) -> Result<Value, ApiError> {
        let mut list: Vec<(String, String)> = vec![("RegionId".into(), REGION.into())];
        list.extend(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let map: BTreeMap<String, String> = list.iter().cloned().collect();
        let call = Call {
            action: action.into(),
            params: crate::decode::unflatten(&flat(&list)),
            flat: map,
            region: Some(REGION.into()),
            request_id: "req".into(),
            now: self.now,
        };
        self.ga.handle(&mut self.ctx, &call)
    }

    fn code(&mut self, action: &str, pairs: &[(&str, &str)]) -> String {
        match self.call(action, pairs) {
            Ok(_) => "ok".into(),
            Err(e) => e.code,
        }
    }

    fn later(&mut self) {
        self.now += Duration::from_millis(100);
    }

    fn listener(&mut self, protocol: &str, port: &str) -> String {
        let mut p = vec![
            ("AcceleratorId", ACC),
            ("Protocol", protocol),
            ("PortRanges.1.FromPort", port),
            ("PortRanges.1.ToPort", port),
        ];
        if protocol == "https" {
            p.push(("Certificates.1.Id", "cert-default"));
        }
        let id = self.call("CreateListener", &p).unwrap()["ListenerId"]
            .as_str()
            .unwrap()
            .to_string();
        self.later();
        id
    }

    fn group(&mut self, listener: &str, kind: &str, endpoints: &[(&str, &str)], port: Option<&str>) -> String {
        let mut owned: Vec<(String, String)> = vec![
            ("AcceleratorId".into(), ACC.into()),
            ("ListenerId".into(), listener.into()),
            ("EndpointGroupRegion".into(), "cn-hangzhou".into()),
            ("EndpointGroupType".into(), kind.into()),
        ];
        for (i, (addr, w)) in endpoints.iter().enumerate() {
            let n = i + 1;
            owned.push((format!("EndpointConfigurations.{n}.Type"), "Ip".into()));
            owned.push((format!("EndpointConfigurations.{n}.Endpoint"), addr.to_string()));
            owned.push((format!("EndpointConfigurations.{n}.Weight"), w.to_string()));
        }
        let lp = self.listener_port(listener);
        if let Some(p) = port {
            owned.push(("PortOverrides.1.ListenerPort".into(), lp));
            owned.push(("PortOverrides.1.EndpointPort".into(), p.into()));
        }
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let id = self.call("CreateEndpointGroup", &pairs).unwrap()["EndpointGroupId"]
            .as_str()
            .unwrap()
            .to_string();
        self.later();
        id
    }

    fn listener_port(&mut self, listener: &str) -> String {
        let v = self.call("DescribeListener", &[("ListenerId", listener)]).unwrap();
        v["PortRanges"][0]["FromPort"].to_string()
    }

    fn rule(
        &mut self,
        listener: &str,
        priority: &str,
        host: &str,
        path: &str,
        group: &str,
    ) -> Result<String, ApiError> {
        let hosts = json!([host]).to_string();
        let paths = json!([path]).to_string();
        let action = json!([{ "type": "endpointgroup", "value": group }]).to_string();
        let v = self.call(
            "CreateForwardingRules",
            &[
                ("AcceleratorId", ACC),
                ("ListenerId", listener),
                ("ForwardingRules.1.Priority", priority),
                ("ForwardingRules.1.RuleConditions.1.RuleConditionType", "Host"),
                ("ForwardingRules.1.RuleConditions.1.RuleConditionValue", &hosts),
                ("ForwardingRules.1.RuleConditions.2.RuleConditionType", "Path"),
                ("ForwardingRules.1.RuleConditions.2.RuleConditionValue", &paths),
                ("ForwardingRules.1.RuleActions.1.Order", "1"),
                ("ForwardingRules.1.RuleActions.1.RuleActionType", "ForwardGroup"),
                ("ForwardingRules.1.RuleActions.1.RuleActionValue", &action),
            ],
        )?;
        self.later();
        Ok(v["ForwardingRules"][0]["ForwardingRuleId"]
            .as_str()
            .unwrap()
            .to_string())
    }

    fn resolve(&mut self, port: u32, host: &str, path: &str) -> Value {
        let q = ResolveQuery {
            instance: ACC.into(),
            port,
            host: host.into(),
            path: path.into(),
        };
        self.ga.resolve(&q, self.now).unwrap().unwrap()
    }
}

fn addresses(v: &Value) -> Vec<String> {
    v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{}:{}", e["address"].as_str().unwrap(), e["port"]))
        .collect()
}

#[test]
fn wildcards_priority_order_and_the_default_group() {
    let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let (wild, exact, any) = (h(&["*.example.com"]), h(&["api.example.com"]), h(&[]));
    let (api, root) = (h(&["/api*"]), h(&["/*"]));
    let rules: Vec<(u32, &[String], &[String])> = vec![(20, &wild, &root), (10, &exact, &api), (30, &any, &root)];
    assert_eq!(forwarding_rule(&rules, "API.example.com", "/api/v1"), Some(1));
    assert_eq!(forwarding_rule(&rules, "api.example.com", "/other"), Some(0));
    assert_eq!(forwarding_rule(&rules, "x.y.example.com", "/"), Some(0));
    assert_eq!(forwarding_rule(&rules, "example.com", "/x"), Some(2));
    // Path is case-sensitive.
    assert_eq!(forwarding_rule(&rules[1..2], "api.example.com", "/API"), None);
}

#[test]
fn certificate_by_exact_domain_then_longest_wildcard() {
    let mut d = BTreeMap::new();
    d.insert("*.example.com".to_string(), "c-wild".to_string());
    d.insert("*.a.example.com".to_string(), "c-a".to_string());
    d.insert("api.example.com".to_string(), "c-api".to_string());
    assert_eq!(certificate_for(&d, "API.example.com"), Some("c-api"));
    assert_eq!(certificate_for(&d, "x.a.example.com"), Some("c-a"));
    assert_eq!(certificate_for(&d, "www.example.com"), Some("c-wild"));
    assert_eq!(certificate_for(&d, "example.org"), None);
}

#[test]
fn groups_rules_and_resolve_end_to_end() {
    let mut r = Run::new();
    let l = r.listener("https", "443");
    let default = r.group(&l, "default", &[("10.0.0.1", "100")], Some("8080"));
    let v = r
        .call("DescribeEndpointGroup", &[("EndpointGroupId", &default)])
        .unwrap();
    assert_eq!(v["State"], "active");
    assert_eq!(v["EndpointGroupType"], "default");
    assert_eq!(v["PortOverrides"], json!([{"ListenerPort": 443, "EndpointPort": 8080}]));
    let api = r.group(&l, "virtual", &[("10.0.1.1", "50"), ("10.0.1.2", "50")], Some("9000"));
    let rule = r.rule(&l, "10", "api.example.com", "/v1*", &api).unwrap();
    assert!(rule.starts_with("frule-"), "{rule}");
    let hit = r.resolve(443, "api.example.com:443", "/v1/users");
    assert_eq!(hit["rule"], json!(rule));
    assert_eq!(addresses(&hit), vec!["10.0.1.1:9000", "10.0.1.2:9000"]);
    assert_eq!(hit["certificate"], "cert-default");
    let miss = r.resolve(443, "api.example.com", "/v2");
    assert_eq!(miss["rule"], Value::Null);
    assert_eq!(addresses(&miss), vec!["10.0.0.1:8080"]);
    // Listed with both encodings of conditions and actions.
    let list = r
        .call("ListForwardingRules", &[("AcceleratorId", ACC), ("ListenerId", &l)])
        .unwrap();
    let item = &list["ForwardingRules"][0];
    assert_eq!(item["ForwardingRuleStatus"], "active");
    assert_eq!(
        item["RuleConditions"][0]["HostConfig"]["Values"],
        json!(["api.example.com"])
    );
    assert_eq!(
        item["RuleActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["EndpointGroupId"],
        json!(api)
    );
    // A group with rules cannot go, nor a listener with groups.
    assert_eq!(
        r.code(
            "DeleteEndpointGroup",
            &[("AcceleratorId", ACC), ("EndpointGroupId", &api)]
        ),
        "Exist.ForwardingRule"
    );
    assert_eq!(
        r.code("DeleteListener", &[("AcceleratorId", ACC), ("ListenerId", &l)]),
        "Exist.ForwardingRule"
    );
    r.call(
        "DeleteForwardingRules",
        &[
            ("AcceleratorId", ACC),
            ("ListenerId", &l),
            ("ForwardingRuleIds.1", &rule),
        ],
    )
    .unwrap();
    // Busy accelerator while the rule is deleting.
    assert_eq!(
        r.code(
            "DeleteEndpointGroup",
            &[("AcceleratorId", ACC), ("EndpointGroupId", &api)]
        ),
        "StateError.Accelerator"
    );
    r.later();
    assert_eq!(
        r.code("DeleteListener", &[("AcceleratorId", ACC), ("ListenerId", &l)]),
        "Exist.EndpointGroup"
    );
    r.call(
        "DeleteEndpointGroup",
        &[("AcceleratorId", ACC), ("EndpointGroupId", &api)],
    )
    .unwrap();
    assert_eq!(
        r.call("DescribeEndpointGroup", &[("EndpointGroupId", &api)]).unwrap()["State"],
        "deleting"
    );
    r.later();
    assert_eq!(
        r.code("DescribeEndpointGroup", &[("EndpointGroupId", &api)]),
        "NotExist.EndPointGroup"
    );
}

#[test]
fn update_endpoint_group_replaces_the_endpoint_set() {
    let mut r = Run::new();
    let l = r.listener("tcp", "5432");
    let g = r.group(&l, "default", &[("10.0.0.1", "10"), ("10.0.0.2", "10")], None);
    r.call(
        "UpdateEndpointGroup",
        &[
            ("EndpointGroupId", &g),
            ("EndpointConfigurations.1.Type", "Ip"),
            ("EndpointConfigurations.1.Endpoint", "10.0.0.9"),
            ("EndpointConfigurations.1.Weight", "255"),
            ("PortOverrides.1.ListenerPort", "5432"),
            ("PortOverrides.1.EndpointPort", "6432"),
        ],
    )
    .unwrap();
    assert_eq!(
        r.call("DescribeEndpointGroup", &[("EndpointGroupId", &g)]).unwrap()["State"],
        "updating"
    );
    assert_eq!(
        r.code("UpdateEndpointGroup", &[("EndpointGroupId", &g), ("Name", "x")]),
        "StateError.EndPointGroup"
    );
    r.later();
    assert_eq!(addresses(&r.resolve(5432, "", "/")), vec!["10.0.0.9:6432"]);
}

#[test]
fn failed_group_update_returns_to_the_old_endpoints() {
    let mut r = Run::new();
    let l = r.listener("tcp", "80");
    let g = r.group(&l, "default", &[("10.0.0.1", "10")], None);
    r.ctx = ManualContext::new(r.ctx.timing.clone()).failing_tasks(1);
    r.call(
        "UpdateEndpointGroup",
        &[
            ("EndpointGroupId", &g),
            ("EndpointConfigurations.1.Type", "Ip"),
            ("EndpointConfigurations.1.Endpoint", "10.0.0.2"),
            ("EndpointConfigurations.1.Weight", "10"),
        ],
    )
    .unwrap();
    r.later();
    assert_eq!(addresses(&r.resolve(80, "", "/")), vec!["10.0.0.1:80"]);
}

#[test]
fn endpoint_group_parameter_rules_and_quotas() {
    let mut r = Run::with(Ga::new().with_virtual_group_quota(1));
    let l = r.listener("http", "80");
    let base = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(&str, &str)> = vec![("AcceleratorId", ACC), ("EndpointGroupRegion", "cn-hangzhou")];
        v.extend_from_slice(extra);
        v
    };
    let with_l = |l: &str, mut v: Vec<(&'static str, &'static str)>| -> Vec<(String, String)> {
        v.push(("ListenerId", "X"));
        v.into_iter()
            .map(|(k, val)| {
                (
                    k.to_string(),
                    if k == "ListenerId" {
                        l.to_string()
                    } else {
                        val.to_string()
                    },
                )
            })
            .collect()
    };
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            base(&[
                ("EndpointConfigurations.1.Type", "Ip"),
                ("EndpointConfigurations.1.Endpoint", "10.0.0.1"),
                ("EndpointConfigurations.1.Weight", "256"),
            ]),
            "InvalidParameter",
        ),
        (
            base(&[
                ("EndpointConfigurations.1.Type", "Ip"),
                ("EndpointConfigurations.1.Endpoint", "10.0.0.1"),
            ]),
            "MissingParameter",
        ),
        (
            base(&[
                ("EndpointConfigurations.1.Type", "Ip"),
                ("EndpointConfigurations.1.Endpoint", "db.internal"),
                ("EndpointConfigurations.1.Weight", "1"),
            ]),
            "InvalidParameter",
        ),
        (
            base(&[
                ("EndpointConfigurations.1.Type", "Pod"),
                ("EndpointConfigurations.1.Endpoint", "x"),
                ("EndpointConfigurations.1.Weight", "1"),
            ]),
            "InvalidParameter",
        ),
        (
            base(&[
                ("PortOverrides.1.ListenerPort", "81"),
                ("PortOverrides.1.EndpointPort", "80"),
            ]),
            "InvalidParameter",
        ),
        (base(&[("EndpointRequestProtocol", "HTTPS")]), "InvalidParameter"),
        (
            base(&[
                ("PortOverrides.1.ListenerPort", "80"),
                ("PortOverrides.1.EndpointPort", "8080"),
                ("PortOverrides.2.ListenerPort", "80"),
                ("PortOverrides.2.EndpointPort", "8081"),
            ]),
            "QuotaExceeded.PortOverride",
        ),
        (base(&[("ThresholdCount", "11")]), "InvalidParameter"),
        (base(&[("EndpointGroupType", "other")]), "InvalidParameter"),
        (vec![("AcceleratorId", ACC)], "MissingParameter"),
    ];
    for (params, code) in cases {
        let owned = with_l(&l, params.clone());
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(r.code("CreateEndpointGroup", &pairs), code, "{params:?}");
    }
    r.group(&l, "virtual", &[("10.0.0.1", "0")], None);
    let owned = with_l(&l, base(&[("EndpointGroupType", "virtual")]));
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(r.code("CreateEndpointGroup", &pairs), "QuotaExceeded.EndpointGroup");
    r.group(&l, "default", &[("10.0.0.1", "1")], None);
    let owned = with_l(&l, base(&[]));
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(r.code("CreateEndpointGroup", &pairs), "Exist.EndpointGroup");
    // CreateEndpointGroups: one per call on HTTP/HTTPS.
    assert_eq!(
        r.code(
            "CreateEndpointGroups",
            &[
                ("AcceleratorId", ACC),
                ("ListenerId", &l),
                ("EndpointGroupConfigurations.1.EndpointGroupRegion", "cn-beijing"),
                ("EndpointGroupConfigurations.2.EndpointGroupRegion", "cn-shanghai"),
            ]
        ),
        "InvalidParameter"
    );
    // A virtual group on TCP needs the default group first.
    let t = r.listener("tcp", "90");
    let owned = with_l(&t, base(&[("EndpointGroupType", "virtual")]));
    let pairs: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(r.code("CreateEndpointGroup", &pairs), "InvalidParameter");
}

#[test]
fn forwarding_rule_rules_and_codes() {
    let mut r = Run::new();
    let l = r.listener("http", "80");
    let d = r.group(&l, "default", &[("10.0.0.1", "1")], None);
    let v = r.group(&l, "virtual", &[("10.0.0.2", "1")], None);
    assert_eq!(
        r.rule(&l, "0", "a.example.com", "/*", &v).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "10001", "a.example.com", "/*", &v).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "1", "a_b.example.com", "/*", &v).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "1", "a.example.com", "api", &v).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "1", "a.example.com", "/a%20", &v).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "1", "a.example.com", "/*", &d).unwrap_err().code,
        "InvalidParameter"
    );
    assert_eq!(
        r.rule(&l, "1", "a.example.com", "/*", "epg-nothere").unwrap_err().code,
        "NotExist.EndPointGroup"
    );
    let two_hosts = r.code(
        "CreateForwardingRules",
        &[
            ("AcceleratorId", ACC),
            ("ListenerId", &l),
            ("ForwardingRules.1.Priority", "1"),
            ("ForwardingRules.1.RuleConditions.1.RuleConditionType", "Host"),
            (
                "ForwardingRules.1.RuleConditions.1.RuleConditionValue",
                "[\"a.example.com\"]",
            ),
            ("ForwardingRules.1.RuleConditions.2.RuleConditionType", "Host"),
            (
                "ForwardingRules.1.RuleConditions.2.RuleConditionValue",
                "[\"b.example.com\"]",
            ),
            ("ForwardingRules.1.RuleActions.1.RuleActionType", "ForwardGroup"),
            (
                "ForwardingRules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.EndpointGroupId",
                &v,
            ),
        ],
    );
    assert_eq!(two_hosts, "InvalidParameter");
    // The deprecated encodings are read too.
    let old = r.call(
        "CreateForwardingRules",
        &[
            ("AcceleratorId", ACC),
            ("ListenerId", &l),
            ("ForwardingRules.1.Priority", "5"),
            ("ForwardingRules.1.RuleConditions.1.RuleConditionType", "Path"),
            ("ForwardingRules.1.RuleConditions.1.PathConfig.Values.1", "/old*"),
            ("ForwardingRules.1.RuleActions.1.RuleActionType", "ForwardGroup"),
            (
                "ForwardingRules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.EndpointGroupId",
                &v,
            ),
        ],
    );
    assert!(old.is_ok(), "{old:?}");
    // Configuring while it is made; busy accelerator meanwhile.
    let id = old.unwrap()["ForwardingRules"][0]["ForwardingRuleId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        r.rule(&l, "6", "a.example.com", "/*", &v).unwrap_err().code,
        "StateError.Accelerator"
    );
    r.later();
    let upd = |r: &mut Run, prio: &str| {
        r.code(
            "UpdateForwardingRules",
            &[
                ("AcceleratorId", ACC),
                ("ListenerId", &l),
                ("ForwardingRules.1.ForwardingRuleId", &id),
                ("ForwardingRules.1.Priority", prio),
            ],
        )
    };
    assert_eq!(upd(&mut r, "7"), "ok");
    let listed = r
        .call("ListForwardingRules", &[("AcceleratorId", ACC), ("ListenerId", &l)])
        .unwrap();
    assert_eq!(listed["ForwardingRules"][0]["ForwardingRuleStatus"], "configuring");
    assert_eq!(upd(&mut r, "8"), "StateError.Accelerator");
    r.later();
    assert_eq!(
        r.call("ListForwardingRules", &[("AcceleratorId", ACC), ("ListenerId", &l)])
            .unwrap()["ForwardingRules"][0]["Priority"],
        7
    );
    // Rules on TCP listeners do not exist.
    let t = r.listener("tcp", "81");
    r.group(&t, "default", &[("10.0.0.1", "1")], None);
    let tv = r.group(&t, "virtual", &[("10.0.0.1", "1")], None);
    assert_eq!(
        r.rule(&t, "1", "a.example.com", "/*", &tv).unwrap_err().code,
        "InvalidParameter"
    );
}

#[test]
fn additional_certificates_by_domain_in_place() {
    let mut r = Run::new();
    let l = r.listener("https", "443");
    let cert = |r: &mut Run, action: &str, extra: &[(&str, &str)]| {
        let mut p = vec![("AcceleratorId", ACC), ("ListenerId", l.as_str())];
        p.extend_from_slice(extra);
        r.code(action, &p)
    };
    assert_eq!(
        cert(
            &mut r,
            "AssociateAdditionalCertificatesWithListener",
            &[
                ("Certificates.1.Domain", "api.example.com"),
                ("Certificates.1.Id", "c-1"),
                ("Certificates.2.Domain", "*.example.com"),
                ("Certificates.2.Id", "c-2"),
            ]
        ),
        "ok"
    );
    let d = r.call("DescribeListener", &[("ListenerId", &l)]).unwrap();
    assert_eq!(d["State"], "updating");
    r.later();
    assert_eq!(r.resolve(443, "api.example.com", "/")["certificate"], "c-1");
    assert_eq!(r.resolve(443, "www.example.com", "/")["certificate"], "c-2");
    assert_eq!(r.resolve(443, "other.org", "/")["certificate"], "cert-default");
    assert_eq!(
        cert(
            &mut r,
            "AssociateAdditionalCertificatesWithListener",
            &[
                ("Certificates.1.Domain", "api.example.com"),
                ("Certificates.1.Id", "c-3")
            ]
        ),
        "Exist.Domain"
    );
    assert_eq!(
        cert(
            &mut r,
            "UpdateAdditionalCertificateWithListener",
            &[("Domain", "api.example.com"), ("CertificateId", "c-9")]
        ),
        "ok"
    );
    r.later();
    assert_eq!(r.resolve(443, "api.example.com", "/")["certificate"], "c-9");
    assert_eq!(
        cert(
            &mut r,
            "UpdateAdditionalCertificateWithListener",
            &[("Domain", "none.example.com"), ("CertificateId", "c-9")]
        ),
        "NotExist.Domain"
    );
    let listed = r
        .call(
            "ListListenerCertificates",
            &[("AcceleratorId", ACC), ("ListenerId", &l), ("Role", "additional")],
        )
        .unwrap();
    assert_eq!(listed["TotalCount"], 2);
    assert_eq!(
        cert(
            &mut r,
            "AssociateAdditionalCertificatesWithListener",
            &[
                ("Certificates.1.Domain", "b.example.com"),
                ("Certificates.1.Id", "c-4"),
                ("Certificates.2.Domain", "c.example.com"),
                ("Certificates.2.Id", "c-5"),
            ]
        ),
        "QuotaExceeded.Certificate"
    );
    assert_eq!(
        cert(
            &mut r,
            "DissociateAdditionalCertificatesWithListener",
            &[("Domains.1", "*.example.com")]
        ),
        "ok"
    );
    r.later();
    assert_eq!(r.resolve(443, "www.example.com", "/")["certificate"], "cert-default");
    // HTTP listeners take none.
    let h = r.listener("http", "80");
    let mut p = vec![("AcceleratorId", ACC), ("ListenerId", h.as_str())];
    p.extend_from_slice(&[("Certificates.1.Domain", "a.example.com"), ("Certificates.1.Id", "c")]);
    assert_eq!(
        r.code("AssociateAdditionalCertificatesWithListener", &p),
        "InvalidParameter"
    );
}
