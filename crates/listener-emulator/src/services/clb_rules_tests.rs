//! CLB rules: the matcher (routing.md §2) and the actions (§1, §3, §4, §6).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::*;
use crate::context::ManualContext;
use crate::service::{InstanceSeed, Service, Timing};

// ---------------------------------------------------------------------------
// matcher
// ---------------------------------------------------------------------------

struct Table(Vec<(String, Vec<String>, String)>);

impl Table {
    fn new(rows: &[(&str, &[&str], &str)]) -> Self {
        Table(
            rows.iter()
                .map(|(id, ds, u)| {
                    (
                        id.to_string(),
                        ds.iter().map(|d| d.to_string()).collect(),
                        u.to_string(),
                    )
                })
                .collect(),
        )
    }
    fn view(&self) -> Vec<MatchRule<'_>> {
        self.0
            .iter()
            .enumerate()
            .map(|(i, (id, ds, u))| MatchRule {
                id,
                domains: ds,
                url: u,
                seq: i as u64,
            })
            .collect()
    }
    fn go(&self, default: Option<&str>, host: &str, path: &str) -> Option<Outcome> {
        resolve_rules(&self.view(), default, host, path)
    }
}

fn rule(id: &str) -> Option<Outcome> {
    Some(Outcome::Rule(id.into()))
}

/// routing.md §2: host order exact > leading wildcard > trailing wildcard > regex.
#[test]
fn host_tiers_go_exact_then_leading_then_trailing_then_regex() {
    let t = Table::new(&[
        ("re", &["~^www\\d*\\.example\\.com$"], "/"),
        ("tail", &["www.example.*"], "/"),
        ("lead", &["*.example.com"], "/"),
        ("exact", &["www.example.com"], "/"),
    ]);
    assert_eq!(t.go(None, "www.example.com", "/"), rule("exact"));
    assert_eq!(t.go(None, "www.example.org", "/"), rule("tail"));
    assert_eq!(t.go(None, "api.example.com", "/"), rule("lead"));
    let t = Table::new(&[
        ("re", &["~^www\\d+\\.example\\.net$"], "/"),
        ("tail", &["www.example.*"], "/"),
    ]);
    assert_eq!(t.go(None, "www1.example.net", "/"), rule("re"));
}

/// Within a tier the vendor has no order (D-ccb); the emulator takes the
/// longest literal part, then the oldest rule.
#[test]
fn within_a_tier_the_longest_wildcard_then_the_oldest_wins() {
    let t = Table::new(&[("short", &["*.com"], "/"), ("long", &["*.example.com"], "/")]);
    assert_eq!(t.go(None, "a.example.com", "/"), rule("long"));
    let t = Table::new(&[("old", &["~^a"], "/"), ("new", &["~com$"], "/")]);
    assert_eq!(t.go(None, "a.example.com", "/"), rule("old"));
}

/// routing.md §2 fallback: an unknown host goes to the default domain.
#[test]
fn unknown_host_goes_to_the_default_domain() {
    let t = Table::new(&[("a", &["a.example.com"], "/"), ("d", &["default.example"], "/")]);
    assert_eq!(t.go(Some("default.example"), "other.example.org", "/x"), rule("d"));
    assert_eq!(t.go(None, "other.example.org", "/x"), None);
    assert_eq!(t.go(Some("default.example"), "A.Example.com:8443", "/"), rule("a"));
}

/// routing.md §2: a matched host with no matching URL is a 404, no fall-through.
#[test]
fn matched_host_without_matching_url_is_404() {
    let t = Table::new(&[("a", &["a.example.com"], "/api"), ("d", &["default.example"], "/")]);
    assert_eq!(
        t.go(Some("default.example"), "a.example.com", "/web"),
        Some(Outcome::NotFound)
    );
}

/// routing.md §2 URL: `=` exact first, longest prefix next, then regex.
#[test]
fn url_exact_then_longest_prefix_then_regex() {
    let t = Table::new(&[
        ("root", &["h"], "/"),
        ("img", &["h"], "/img"),
        ("imgbig", &["h"], "^~/img/big"),
        ("page", &["h"], "=/img/page.html"),
        ("gif", &["h"], "~* \\.GIF$"),
        ("cs", &["x"], "~ \\.gif$"),
    ]);
    assert_eq!(t.go(None, "h", "/img/page.html"), rule("page"));
    assert_eq!(t.go(None, "h", "/img/other.html"), rule("img"));
    assert_eq!(t.go(None, "h", "/img/big/1.png"), rule("imgbig"));
    assert_eq!(t.go(None, "h", "/unrelated"), rule("root"));
    assert_eq!(t.go(None, "h", "/img/page.html?x=1"), rule("page"));
    let t = Table::new(&[("gif", &["h"], "~* \\.GIF$"), ("cs", &["x"], "~ \\.GIF$")]);
    assert_eq!(t.go(None, "h", "/a/b.gif"), rule("gif"));
    assert_eq!(t.go(None, "x", "/a/b.gif"), Some(Outcome::NotFound));
}

/// routing.md §2 trailing slash: rule `/abc/` answers `/abc` with a 301;
/// rule `/abc` serves `/abc` and `/abc/`.
#[test]
fn slashed_rule_redirects_the_bare_path() {
    let t = Table::new(&[("root", &["h"], "/"), ("abc", &["h"], "/abc/")]);
    assert_eq!(t.go(None, "h", "/abc"), Some(Outcome::Redirect("/abc/".into())));
    assert_eq!(t.go(None, "h", "/abc/x"), rule("abc"));
    let t = Table::new(&[("abc", &["h"], "/abc")]);
    assert_eq!(t.go(None, "h", "/abc"), rule("abc"));
    assert_eq!(t.go(None, "h", "/abc/"), rule("abc"));
}

/// routing.md §2 host syntax and §3 length 1–80.
#[test]
fn domain_rules_follow_the_factsheet() {
    for ok in [
        "www.example.com",
        "*.example.com",
        "www.example.*",
        "a_b.example",
        "~^www\\d+\\.x$",
    ] {
        assert!(check_domain(ok, "Domain").is_ok(), "{ok}");
    }
    for bad in [
        "www.*.com",
        "*.example.*",
        "_a.example",
        "WWW.example.com",
        "a b",
        "~(",
        "*",
    ] {
        assert_eq!(check_domain(bad, "Domain").unwrap_err().code, VALUE, "{bad}");
    }
    assert_eq!(check_domain("", "Domain").unwrap_err().code, LENGTH);
    assert_eq!(check_domain(&"a".repeat(81), "Domain").unwrap_err().code, LENGTH);
}

/// routing.md §2 URL syntax and §3 length 1–200.
#[test]
fn url_rules_follow_the_factsheet() {
    for ok in [
        "/",
        "/a/b.html",
        "=/exact",
        "^~/static",
        "~ \\.php$",
        "~* \\.JPG$",
        "/q?a=b",
    ] {
        assert!(check_url(ok, "Url").is_ok(), "{ok}");
    }
    for bad in ["abc", "/a b", "/a*b", "~ (", "=nope"] {
        assert_eq!(check_url(bad, "Url").unwrap_err().code, VALUE, "{bad}");
    }
    assert_eq!(check_url("", "Url").unwrap_err().code, LENGTH);
    assert_eq!(
        check_url(&format!("/{}", "a".repeat(200)), "Url").unwrap_err().code,
        LENGTH
    );
}

// ---------------------------------------------------------------------------
// actions
// ---------------------------------------------------------------------------

const LB: &str = "lb-rules01";

struct Fx {
    clb: Clb,
    ctx: ManualContext,
    t0: Instant,
    n: u32,
    /// Milliseconds since t0 of the next call; each task takes 100.
    clock: u64,
}

impl Fx {
    fn new() -> Self {
        let clb = Clb::new();
        clb.seed(InstanceSeed {
            id: LB.into(),
            server_groups: vec![],
        });
        let timing = Timing {
            create: Duration::from_millis(100),
            update: Duration::from_millis(100),
            delete: Duration::from_millis(100),
        };
        Fx {
            clb,
            ctx: ManualContext::new(timing),
            t0: Instant::now(),
            n: 0,
            clock: 0,
        }
    }

    fn call(&mut self, action: &str, params: Value) -> (String, R<Value>) {
        self.n += 1;
        let request_id = format!("req-{}", self.n);
        let call = Call {
            action: action.into(),
            params,
            flat: BTreeMap::new(),
            region: Some("ap-guangzhou".into()),
            request_id: request_id.clone(),
            now: self.t0 + Duration::from_millis(self.clock),
        };
        (request_id, self.clb.handle(&mut self.ctx, &call))
    }

    /// A write that must succeed; waits its task out.
    fn ok(&mut self, action: &str, params: Value) -> Value {
        let (_, r) = self.call(action, params);
        self.clock += 200;
        r.unwrap_or_else(|e| panic!("{action}: {e}"))
    }

    fn code(&mut self, action: &str, params: Value) -> String {
        match self.call(action, params).1 {
            Ok(v) => panic!("expected an error, got {v}"),
            Err(e) => e.code,
        }
    }

    fn listener(&mut self, protocol: &str, port: i64, sni: bool) -> String {
        let mut p = json!({"LoadBalancerId": LB, "Protocol": protocol, "Ports": [port]});
        if protocol == "HTTPS" {
            if sni {
                p["SniSwitch"] = json!(1);
            } else {
                p["Certificate"] = json!({"CertId": "cert-listener"});
            }
        }
        self.ok("CreateListener", p)["ListenerIds"][0]
            .as_str()
            .unwrap()
            .to_string()
    }

    fn rules(&mut self, listener: &str) -> Vec<Value> {
        let (_, r) = self.call(
            "DescribeListeners",
            json!({"LoadBalancerId": LB, "ListenerIds": [listener]}),
        );
        r.unwrap()["Listeners"][0]["Rules"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn resolve(&mut self, port: i64, host: &str, path: &str) -> Value {
        let now = self.t0 + Duration::from_millis(self.clock);
        self.clb
            .resolve_request(&json!({"instance": LB, "port": port, "host": host, "path": path}), now)
            .unwrap()
    }
}

fn create(l: &str, rules: Value) -> Value {
    json!({"LoadBalancerId": LB, "ListenerId": l, "Rules": rules})
}

#[test]
fn create_rule_is_a_task_and_then_described_with_the_first_domain_default() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let (task, r) = fx.call(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "a.example.com", "Url": "/"}, {"Domain": "b.example.com", "Url": "/api"}]),
        ),
    );
    let ids = r.unwrap()["LocationIds"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    assert!(ids[0].as_str().unwrap().starts_with("loc-"));
    let status = |fx: &mut Fx| fx.call("DescribeTaskStatus", json!({"TaskId": task})).1.unwrap()["Status"].clone();
    assert_eq!(status(&mut fx), json!(2));
    // busy while the task runs
    assert_eq!(
        fx.code(
            "CreateRule",
            create(&l, json!([{"Domain": "c.example.com", "Url": "/"}]))
        ),
        BUSY
    );
    assert!(
        fx.rules(&l).is_empty(),
        "a rule write takes effect when its task succeeds"
    );
    fx.clock += 200;
    assert_eq!(status(&mut fx), json!(0));
    let rules = fx.rules(&l);
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0]["Domain"], "a.example.com");
    assert_eq!(rules[0]["DefaultServer"], true);
    assert_eq!(rules[1]["DefaultServer"], false);
    assert_eq!(rules[0]["HealthCheck"]["HealthSwitch"], 1);
    assert_eq!(rules[0]["Scheduler"], "WRR");
}

#[test]
fn failed_rule_task_leaves_the_rules_unchanged() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    fx.ctx.failing_tasks = 1;
    let (task, r) = fx.call(
        "CreateRule",
        create(&l, json!([{"Domain": "a.example.com", "Url": "/"}])),
    );
    r.unwrap();
    fx.clock += 200;
    let answer = fx.call("DescribeTaskStatus", json!({"TaskId": task})).1.unwrap();
    assert_eq!(answer["Status"], 1);
    assert!(fx.rules(&l).is_empty());
}

#[test]
fn rule_parameter_errors_carry_the_factsheet_codes() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let tcp = fx.listener("TCP", 81, false);
    fx.ok(
        "CreateRule",
        create(&l, json!([{"Domain": "a.example.com", "Url": "/"}])),
    );
    let cases: Vec<(Value, &str)> = vec![
        (create(&l, json!([{"Domain": "a.example.com", "Url": "/"}])), VALUE),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": "/x"}, {"Domain": "b.example.com", "Url": "/x"}]),
            ),
            VALUE,
        ),
        (create(&l, json!([{"Domain": "w.*.com", "Url": "/"}])), VALUE),
        (create(&l, json!([{"Domain": "b.example.com", "Url": "x"}])), VALUE),
        (
            create(&l, json!([{"Domain": "b.example.com", "Url": ""}])),
            "MissingParameter",
        ),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": format!("/{}", "a".repeat(200))}]),
            ),
            LENGTH,
        ),
        (create(&l, json!([{"Url": "/"}])), "MissingParameter"),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": "/", "Scheduler": "RANDOM"}]),
            ),
            VALUE,
        ),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": "/", "TargetType": "TARGETGROUP"}]),
            ),
            VALUE,
        ),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": "/", "HealthCheck": {"TimeOut": 99}}]),
            ),
            VALUE,
        ),
        (
            create(
                &l,
                json!([{"Domain": "b.example.com", "Url": "/", "Certificate": {"CertId": "c1"}}]),
            ),
            VALUE,
        ),
        (
            create(&l, json!([{"Domain": "b.example.com", "Url": "/", "Bogus": 1}])),
            "UnknownParameter",
        ),
        (create(&tcp, json!([{"Domain": "b.example.com", "Url": "/"}])), VALUE),
        (
            create("lbl-nope", json!([{"Domain": "b.example.com", "Url": "/"}])),
            "InvalidParameter.ListenerIdNotFound",
        ),
    ];
    for (params, code) in cases {
        assert_eq!(fx.code("CreateRule", params.clone()), code, "{params}");
    }
}

#[test]
fn rules_beyond_the_quota_are_limit_exceeded() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let many: Vec<Value> = (0..MAX_RULES)
        .map(|i| json!({"Domain": "a.example.com", "Url": format!("/p{i}")}))
        .collect();
    fx.ok("CreateRule", create(&l, json!(many)));
    assert_eq!(
        fx.code(
            "CreateRule",
            create(&l, json!([{"Domain": "a.example.com", "Url": "/more"}]))
        ),
        "LimitExceeded"
    );
}

#[test]
fn sni_listener_needs_a_certificate_per_new_domain_and_modify_domain_rotates_it() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTPS", 443, true);
    assert_eq!(
        fx.code(
            "CreateRule",
            create(&l, json!([{"Domain": "a.example.com", "Url": "/"}]))
        ),
        "MissingParameter"
    );
    fx.ok(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "a.example.com", "Url": "/", "Certificate": {"CertId": "cert-a"}}]),
        ),
    );
    // same domain, new URL: keeps the domain's certificate
    fx.ok(
        "CreateRule",
        create(&l, json!([{"Domain": "a.example.com", "Url": "/api"}])),
    );
    assert_eq!(fx.rules(&l)[1]["Certificate"]["CertId"], "cert-a");
    fx.ok(
        "ModifyDomainAttributes",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "a.example.com", "Certificate": {"CertId": "cert-b"}}),
    );
    let rules = fx.rules(&l);
    assert!(rules.iter().all(|r| r["Certificate"]["CertId"] == "cert-b"));
}

#[test]
fn modify_domain_renames_and_moves_the_default() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    fx.ok(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "a.example.com", "Url": "/"}, {"Domain": "b.example.com", "Url": "/"}]),
        ),
    );
    let base = json!({"LoadBalancerId": LB, "ListenerId": l});
    let with = |extra: Value| {
        let mut p = base.clone();
        p.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        p
    };
    fx.ok(
        "ModifyDomainAttributes",
        with(json!({"Domain": "a.example.com", "NewDomain": "c.example.com"})),
    );
    let rules = fx.rules(&l);
    assert_eq!(rules[0]["Domain"], "c.example.com");
    assert_eq!(rules[0]["DefaultServer"], true);
    assert_eq!(
        fx.code(
            "ModifyDomainAttributes",
            with(json!({"Domain": "c.example.com", "DefaultServer": false}))
        ),
        "MissingParameter"
    );
    fx.ok(
        "ModifyDomainAttributes",
        with(json!({"Domain": "c.example.com", "DefaultServer": false, "NewDefaultServerDomain": "b.example.com"})),
    );
    assert_eq!(fx.rules(&l)[1]["DefaultServer"], true);
    assert_eq!(
        fx.code(
            "ModifyDomainAttributes",
            with(json!({"Domain": "nope.example.com", "Http2": true}))
        ),
        VALUE
    );
    assert_eq!(
        fx.code(
            "ModifyDomainAttributes",
            with(json!({"Domain": "c.example.com", "NewDomain": "b.example.com"}))
        ),
        VALUE
    );
}

#[test]
fn modify_rule_changes_url_and_health_check_and_refuses_duplicates() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let ids = fx.ok(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "a.example.com", "Url": "/"}, {"Domain": "a.example.com", "Url": "/x"}]),
        ),
    )["LocationIds"]
        .clone();
    let loc = ids[1].as_str().unwrap();
    let p = json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": loc, "Url": "/y", "HealthCheck": {"HttpCheckPath": "/health"}, "Scheduler": "LEAST_CONN"});
    fx.ok("ModifyRule", p);
    let r = fx.rules(&l)[1].clone();
    assert_eq!(
        (r["Url"].as_str(), r["Scheduler"].as_str()),
        (Some("/y"), Some("LEAST_CONN"))
    );
    assert_eq!(r["HealthCheck"]["HttpCheckPath"], "/health");
    assert_eq!(r["HealthCheck"]["IntervalTime"], 5);
    let dup = json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": loc, "Url": "/"});
    assert_eq!(fx.code("ModifyRule", dup), VALUE);
    let missing = json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": "loc-nope", "Url": "/z"});
    assert_eq!(fx.code("ModifyRule", missing), "InvalidParameter");
}

#[test]
fn delete_rule_by_ids_or_domain_and_url_with_default_successor() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let ids = fx.ok(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "a.example.com", "Url": "/"}, {"Domain": "b.example.com", "Url": "/"}, {"Domain": "c.example.com", "Url": "/"}]),
        ),
    )["LocationIds"]
        .clone();
    // deleting the default without a successor: the oldest remaining takes over
    fx.ok(
        "DeleteRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationIds": [ids[0]]}),
    );
    let rules = fx.rules(&l);
    assert_eq!(
        (rules[0]["Domain"].as_str(), rules[0]["DefaultServer"].as_bool()),
        (Some("b.example.com"), Some(true))
    );
    // with a successor
    fx.ok(
        "DeleteRule",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "b.example.com", "Url": "/", "NewDefaultServerDomain": "c.example.com"}),
    );
    let rules = fx.rules(&l);
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["DefaultServer"], true);
    assert_eq!(
        fx.code(
            "DeleteRule",
            json!({"LoadBalancerId": LB, "ListenerId": l, "LocationIds": ["loc-nope"]})
        ),
        "InvalidParameter"
    );
    assert_eq!(
        fx.code("DeleteRule", json!({"LoadBalancerId": LB, "ListenerId": l})),
        "MissingParameter"
    );
}

#[test]
fn targets_register_describe_deregister_with_limits() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let loc = fx.ok(
        "CreateRule",
        create(&l, json!([{"Domain": "a.example.com", "Url": "/"}])),
    )["LocationIds"][0]
        .as_str()
        .unwrap()
        .to_string();
    let reg = |targets: Value| json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": loc, "Targets": targets});
    fx.ok(
        "RegisterTargets",
        reg(json!([{"EniIp": "10.0.0.1", "Port": 8080}, {"InstanceId": "ins-1", "Port": 80, "Weight": 50}])),
    );
    let d = fx
        .call("DescribeTargets", json!({"LoadBalancerId": LB, "ListenerIds": [l]}))
        .1
        .unwrap();
    let targets = d["Listeners"][0]["Rules"][0]["Targets"].as_array().unwrap().clone();
    assert_eq!(targets.len(), 2);
    assert_eq!(targets[0]["Weight"], 10, "default weight is 10");
    assert_eq!(targets[1]["Weight"], 50);
    assert_eq!(
        fx.code("RegisterTargets", reg(json!([{"EniIp": "10.0.0.1", "Port": 8080}]))),
        DUPLICATE
    );
    assert_eq!(
        fx.code(
            "RegisterTargets",
            reg(json!([{"EniIp": "10.0.0.2", "Port": 1}, {"EniIp": "10.0.0.2", "Port": 1}]))
        ),
        DUPLICATE
    );
    assert_eq!(
        fx.code(
            "RegisterTargets",
            reg(json!([{"EniIp": "10.0.0.3", "Port": 1, "Weight": 101}]))
        ),
        VALUE
    );
    assert_eq!(
        fx.code("RegisterTargets", reg(json!([{"EniIp": "10.0.0.3"}]))),
        "MissingParameter"
    );
    assert_eq!(
        fx.code("RegisterTargets", reg(json!([{"EniIp": "nope", "Port": 1}]))),
        VALUE
    );
    let too_many: Vec<Value> = (0..21)
        .map(|i| json!({"EniIp": format!("10.1.0.{i}"), "Port": 80}))
        .collect();
    assert_eq!(fx.code("RegisterTargets", reg(json!(too_many))), VALUE);
    for batch in 0..5 {
        let list: Vec<Value> = (0..20)
            .map(|i| json!({"EniIp": format!("10.2.{batch}.{i}"), "Port": 80}))
            .collect();
        let (_, r) = fx.call("RegisterTargets", reg(json!(list)));
        fx.clock += 200;
        if batch < 4 {
            r.unwrap();
        } else {
            assert_eq!(r.unwrap_err().code, "LimitExceeded");
        }
    }
    // by Domain + Url
    fx.ok(
        "DeregisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": l, "Domain": "a.example.com", "Url": "/", "Targets": [{"EniIp": "10.0.0.1", "Port": 8080}]}),
    );
    assert_eq!(
        fx.code("DeregisterTargets", reg(json!([{"EniIp": "10.0.0.1", "Port": 8080}]))),
        VALUE
    );
}

#[test]
fn resolve_follows_the_rules_and_the_default_domain() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    let tcp = fx.listener("TCP", 9000, false);
    let ids = fx.ok(
        "CreateRule",
        create(
            &l,
            json!([{"Domain": "default.example", "Url": "/"}, {"Domain": "a.example.com", "Url": "/api"}, {"Domain": "a.example.com", "Url": "/abc/"}]),
        ),
    )["LocationIds"]
        .clone();
    fx.ok(
        "RegisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": l, "LocationId": ids[1], "Targets": [{"EniIp": "10.0.0.9", "Port": 8080, "Weight": 30}]}),
    );
    fx.ok(
        "RegisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": tcp, "Targets": [{"EniIp": "10.0.0.7", "Port": 7000}]}),
    );
    let r = fx.resolve(80, "a.example.com", "/api/v1");
    assert_eq!(r["rule"], ids[1]);
    assert_eq!(r["status"], 200);
    assert_eq!(
        r["endpoints"],
        json!([{"address": "10.0.0.9", "port": 8080, "weight": 30}])
    );
    assert_eq!(fx.resolve(80, "unknown.example", "/x")["rule"], ids[0]);
    assert_eq!(fx.resolve(80, "a.example.com", "/web")["status"], 404);
    assert_eq!(fx.resolve(80, "a.example.com", "/abc")["status"], 301);
    let t = fx.resolve(9000, "", "/");
    assert_eq!(
        (t["listener"].as_str(), t["rule"].is_null()),
        (Some(tcp.as_str()), true)
    );
    assert_eq!(t["endpoints"][0]["port"], 7000);
    let err = fx
        .clb
        .resolve_request(&json!({"instance": LB, "port": 1, "host": "h", "path": "/"}), fx.t0)
        .unwrap_err();
    assert_eq!(err.http_status, 404);
}

#[test]
fn listener_modify_keeps_the_rules() {
    let mut fx = Fx::new();
    let l = fx.listener("HTTP", 80, false);
    fx.ok(
        "CreateRule",
        create(&l, json!([{"Domain": "a.example.com", "Url": "/"}])),
    );
    fx.ok(
        "ModifyListener",
        json!({"LoadBalancerId": LB, "ListenerId": l, "ListenerName": "renamed"}),
    );
    assert_eq!(fx.rules(&l).len(), 1);
}

#[test]
fn layer4_tls_and_quic_listeners_bind_targets_on_the_listener() {
    let mut fx = Fx::new();
    let mut ids = Vec::new();
    for (protocol, port) in [("TCP_SSL", 8443), ("QUIC", 8444)] {
        let id = fx.ok(
            "CreateListener",
            json!({"LoadBalancerId": LB, "Protocol": protocol, "Ports": [port], "Certificate": {"CertId": "cert-l4"}}),
        )["ListenerIds"][0]
            .as_str()
            .unwrap()
            .to_string();
        fx.ok(
            "RegisterTargets",
            json!({"LoadBalancerId": LB, "ListenerId": id, "Targets": [{"EniIp": "10.0.0.5", "Port": 443, "Weight": 40}]}),
        );
        // Layer 4 has no rules to name.
        assert_eq!(
            fx.code(
                "RegisterTargets",
                json!({"LoadBalancerId": LB, "ListenerId": id, "LocationId": "loc-x", "Targets": [{"EniIp": "10.0.0.6", "Port": 443}]}),
            ),
            "InvalidParameterValue"
        );
        let t = fx.resolve(port, "", "/");
        assert_eq!(
            t["endpoints"],
            json!([{"address": "10.0.0.5", "port": 443, "weight": 40}])
        );
        ids.push(id);
    }
    let described = fx.ok(
        "DescribeTargets",
        json!({"LoadBalancerId": LB, "ListenerIds": [ids[0]]}),
    );
    assert!(described["Listeners"][0]["Rules"].is_null());
    assert_eq!(described["Listeners"][0]["Targets"][0]["Port"], 443);
    fx.ok(
        "DeregisterTargets",
        json!({"LoadBalancerId": LB, "ListenerId": ids[1], "Targets": [{"EniIp": "10.0.0.5", "Port": 443}]}),
    );
    assert_eq!(fx.resolve(8444, "", "/")["endpoints"], json!([]));
}

#[test]
fn resolve_names_the_certificate_served() {
    let mut fx = Fx::new();
    let plain = fx.listener("HTTPS", 443, false);
    fx.ok(
        "CreateRule",
        create(&plain, json!([{"Domain": "a.example.com", "Url": "/"}])),
    );
    assert_eq!(fx.resolve(443, "a.example.com", "/")["certificate"], "cert-listener");
    let sni = fx.listener("HTTPS", 444, true);
    fx.ok(
        "CreateRule",
        create(
            &sni,
            json!([
                {"Domain": "default.example", "Url": "/", "DefaultServer": true, "Certificate": {"CertId": "cert-d"}},
                {"Domain": "a.example.com", "Url": "/", "Certificate": {"CertId": "cert-a"}}
            ]),
        ),
    );
    assert_eq!(fx.resolve(444, "A.example.com:444", "/x")["certificate"], "cert-a");
    assert_eq!(fx.resolve(444, "other.example", "/")["certificate"], "cert-d");
    let http = fx.listener("HTTP", 80, false);
    fx.ok(
        "CreateRule",
        create(&http, json!([{"Domain": "a.example.com", "Url": "/"}])),
    );
    assert!(fx.resolve(80, "a.example.com", "/")["certificate"].is_null());
}
