//! ALB rules, server groups and the admin resolve call, over real HTTP
//! with ACS3-signed calls.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use listener_emulator::services::alb::Alb;
use listener_emulator::{Emulator, EmulatorHandle, Fault, FaultRule, InstanceSeed, RateLimits, Timing};
use serde_json::{json, Value};

const LB: &str = "alb-routes";
const SEEDED: &str = "sgp-seeded";
const ALB: &str = "2020-06-16";

async fn start_with(alb: Alb, delay: Duration) -> EmulatorHandle {
    start_faulty(alb, delay, &[]).await
}

async fn start_faulty(alb: Alb, delay: Duration, failing: &[&str]) -> EmulatorHandle {
    let mut b = Emulator::builder();
    for action in failing {
        b = b.fault_rule(
            FaultRule::new(Fault::TaskFailure)
                .service("alb")
                .action(*action)
                .times(1),
        );
    }
    b.without_services()
        .with_service(Arc::new(alb))
        .alibaba_credentials(ALI_ID, ALI_SECRET)
        .rate_limits(RateLimits::disabled())
        .timing(Timing {
            create: delay,
            update: delay,
            delete: delay,
        })
        .seed(
            "alb",
            InstanceSeed {
                id: LB.into(),
                server_groups: vec![SEEDED.into()],
            },
        )
        .start()
        .await
        .expect("emulator starts")
}

/// Jobs finish at once: every later call sees them done.
async fn instant() -> EmulatorHandle {
    start_with(Alb::new(), Duration::ZERO).await
}

async fn call(em: &EmulatorHandle, action: &str, pairs: &[(&str, &str)]) -> (u16, Value) {
    let mut c = AlibabaCall::new(action, pairs);
    c.version = ALB.into();
    alibaba_answer(c.send(em).await.expect("sent")).await
}

async fn ok(em: &EmulatorHandle, action: &str, pairs: &[(&str, &str)]) -> Value {
    let (status, body) = call(em, action, pairs).await;
    assert_eq!(status, 200, "{action}: {body}");
    body
}

async fn code(em: &EmulatorHandle, action: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let (status, body) = call(em, action, pairs).await;
    assert_ne!(status, 200, "{action} should fail: {body}");
    (status, body["Code"].as_str().unwrap_or_default().to_string())
}

async fn listener(em: &EmulatorHandle, port: &str) -> String {
    let v = ok(
        em,
        "CreateListener",
        &[
            ("LoadBalancerId", LB),
            ("ListenerProtocol", "HTTP"),
            ("ListenerPort", port),
            ("DefaultActions.1.Type", "ForwardGroup"),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                SEEDED,
            ),
        ],
    )
    .await;
    v["ListenerId"].as_str().unwrap().to_string()
}

async fn group(em: &EmulatorHandle, name: &str) -> String {
    let v = ok(
        em,
        "CreateServerGroup",
        &[
            ("ServerGroupName", name),
            ("ServerGroupType", "Ip"),
            ("Protocol", "HTTP"),
            ("VpcId", "vpc-1"),
            ("HealthCheckConfig.HealthCheckEnabled", "true"),
        ],
    )
    .await;
    v["ServerGroupId"].as_str().unwrap().to_string()
}

async fn add(em: &EmulatorHandle, group: &str, ip: &str, port: &str, weight: &str) {
    ok(
        em,
        "AddServersToServerGroup",
        &[
            ("ServerGroupId", group),
            ("Servers.1.ServerId", ip),
            ("Servers.1.ServerType", "Ip"),
            ("Servers.1.Port", port),
            ("Servers.1.Weight", weight),
        ],
    )
    .await;
}

/// A rule with one Host value, one Path value and one group.
fn rule_pairs<'a>(
    listener: &'a str,
    priority: &'a str,
    host: &'a str,
    path: &'a str,
    group: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("ListenerId", listener),
        ("RuleName", "r1"),
        ("Priority", priority),
        ("RuleConditions.1.Type", "Host"),
        ("RuleConditions.1.HostConfig.Values.1", host),
        ("RuleConditions.2.Type", "Path"),
        ("RuleConditions.2.PathConfig.Values.1", path),
        ("RuleActions.1.Type", "ForwardGroup"),
        ("RuleActions.1.Order", "1"),
        (
            "RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            group,
        ),
    ]
}

fn with<'a>(mut v: Vec<(&'a str, &'a str)>, k: &'a str, val: &'a str) -> Vec<(&'a str, &'a str)> {
    v.retain(|(key, _)| *key != k);
    v.push((k, val));
    v
}

async fn resolve(em: &EmulatorHandle, body: Value) -> (u16, Value) {
    let r = client()
        .post(format!("{}/_emulator/resolve", em.url()))
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON"))
}

async fn to(em: &EmulatorHandle, port: u32, host: &str, path: &str) -> Value {
    let (status, v) = resolve(
        em,
        json!({"service": "alb", "instance": LB, "port": port, "host": host, "path": path}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

#[tokio::test]
async fn server_group_lifecycle_and_listings() {
    let em = instant().await;
    let g = group(&em, "web").await;
    assert!(g.starts_with("sgp-") && g.len() == 24, "{g}");
    add(&em, &g, "10.0.0.1", "8080", "60").await;
    ok(
        &em,
        "AddServersToServerGroup",
        &[
            ("ServerGroupId", &g),
            ("Servers.1.ServerId", "10.0.0.2"),
            ("Servers.1.ServerType", "Ip"),
            ("Servers.1.Port", "8080"),
        ],
    )
    .await;
    let servers = ok(&em, "ListServerGroupServers", &[("ServerGroupId", &g)]).await;
    assert_eq!(servers["TotalCount"], 2);
    assert_eq!(servers["Servers"][0]["Weight"], 60);
    assert_eq!(servers["Servers"][1]["Weight"], 100, "default weight 100");
    assert_eq!(servers["Servers"][0]["Status"], "Available");
    let groups = ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await;
    assert_eq!(groups["ServerGroups"][0]["ServerGroupStatus"], "Available");
    assert_eq!(groups["ServerGroups"][0]["ServerCount"], 2);
    assert_eq!(groups["ServerGroups"][0]["ServerGroupType"], "Ip");
    let seeded = ok(&em, "ListServerGroups", &[("ServerGroupIds.1", SEEDED)]).await;
    assert_eq!(seeded["TotalCount"], 1, "seeded groups are listed");
    ok(
        &em,
        "RemoveServersFromServerGroup",
        &[
            ("ServerGroupId", &g),
            ("Servers.1.ServerId", "10.0.0.1"),
            ("Servers.1.ServerType", "Ip"),
            ("Servers.1.Port", "8080"),
        ],
    )
    .await;
    let servers = ok(&em, "ListServerGroupServers", &[("ServerGroupId", &g)]).await;
    assert_eq!(servers["TotalCount"], 1);
    assert_eq!(servers["Servers"][0]["ServerIp"], "10.0.0.2");
    let instance = ok(
        &em,
        "CreateServerGroup",
        &[
            ("ServerGroupName", "ecs"),
            ("ServerGroupType", "Instance"),
            ("VpcId", "vpc-1"),
            ("HealthCheckConfig.HealthCheckEnabled", "false"),
        ],
    )
    .await;
    let ig = instance["ServerGroupId"].as_str().unwrap();
    ok(
        &em,
        "AddServersToServerGroup",
        &[
            ("ServerGroupId", ig),
            ("Servers.1.ServerId", "i-abc"),
            ("Servers.1.ServerType", "Ecs"),
            ("Servers.1.Port", "80"),
        ],
    )
    .await;
    ok(&em, "DeleteServerGroup", &[("ServerGroupId", &g)]).await;
    let (status, c) = code(&em, "ListServerGroupServers", &[("ServerGroupId", &g)]).await;
    assert_eq!((status, c.as_str()), (404, "ResourceNotFound.ServerGroup"));
    em.shutdown().await;
}

#[tokio::test]
async fn server_group_rules_and_codes() {
    let em = start_with(Alb::new().with_server_quota(2), Duration::ZERO).await;
    let bad_create: [&[(&str, &str)]; 4] = [
        &[
            ("ServerGroupName", "1bad"),
            ("ServerGroupType", "Ip"),
            ("VpcId", "vpc-1"),
        ],
        &[("ServerGroupName", "ok"), ("ServerGroupType", "Fc"), ("VpcId", "vpc-1")],
        &[
            ("ServerGroupName", "ok"),
            ("ServerGroupType", "Ip"),
            ("Protocol", "TCP"),
            ("VpcId", "vpc-1"),
        ],
        &[
            ("ServerGroupName", "ok"),
            ("ServerGroupType", "Ip"),
            ("Scheduler", "Rr"),
            ("VpcId", "vpc-1"),
        ],
    ];
    for pairs in bad_create {
        assert_eq!(
            code(&em, "CreateServerGroup", pairs).await.1,
            "InvalidParameter",
            "{pairs:?}"
        );
    }
    assert_eq!(
        code(
            &em,
            "CreateServerGroup",
            &[("ServerGroupName", "ok"), ("ServerGroupType", "Ip")]
        )
        .await
        .1,
        "MissingParameter"
    );
    let g = group(&em, "web").await;
    let server = |port: &'static str, weight: &'static str, kind: &'static str, id: &'static str| {
        vec![
            ("Servers.1.ServerId", id),
            ("Servers.1.ServerType", kind),
            ("Servers.1.Port", port),
            ("Servers.1.Weight", weight),
        ]
    };
    for (pairs, want) in [
        (server("0", "1", "Ip", "10.0.0.1"), "InvalidParameter"),
        (server("65536", "1", "Ip", "10.0.0.1"), "InvalidParameter"),
        (server("80", "101", "Ip", "10.0.0.1"), "InvalidParameter"),
        (server("80", "1", "Ecs", "i-1"), "InvalidParameter"),
        (server("80", "1", "Ip", "web1"), "InvalidParameter"),
    ] {
        let mut all = vec![("ServerGroupId", g.as_str())];
        all.extend(pairs.iter().copied());
        assert_eq!(code(&em, "AddServersToServerGroup", &all).await.1, want, "{pairs:?}");
    }
    let twice = [
        ("ServerGroupId", g.as_str()),
        ("Servers.1.ServerId", "10.0.0.1"),
        ("Servers.1.ServerType", "Ip"),
        ("Servers.1.Port", "80"),
        ("Servers.2.ServerId", "10.0.0.1"),
        ("Servers.2.ServerType", "Ip"),
        ("Servers.2.Port", "80"),
    ];
    assert_eq!(
        code(&em, "AddServersToServerGroup", &twice).await.1,
        "DuplicatedParam.BackendServer"
    );
    add(&em, &g, "10.0.0.1", "80", "0").await;
    let again = [
        ("ServerGroupId", g.as_str()),
        ("Servers.1.ServerId", "10.0.0.1"),
        ("Servers.1.ServerType", "Ip"),
        ("Servers.1.Port", "80"),
    ];
    assert_eq!(
        code(&em, "AddServersToServerGroup", &again).await.1,
        "ResourceAlreadyExist.BackendServer"
    );
    add(&em, &g, "10.0.0.2", "80", "1").await;
    let third = [
        ("ServerGroupId", g.as_str()),
        ("Servers.1.ServerId", "10.0.0.3"),
        ("Servers.1.ServerType", "Ip"),
        ("Servers.1.Port", "80"),
    ];
    assert_eq!(
        code(&em, "AddServersToServerGroup", &third).await.1,
        "ResourceQuotaExceeded.ServerGroupServersNum"
    );
    assert_eq!(
        code(&em, "RemoveServersFromServerGroup", &third).await,
        (404, "ResourceNotFound.BackendServer".to_string())
    );
    let mut many: Vec<(String, String)> = vec![("ServerGroupId".into(), g.clone())];
    for i in 1..=201 {
        many.push((format!("Servers.{i}.ServerId"), format!("10.1.{}.{}", i / 200, i % 200)));
        many.push((format!("Servers.{i}.ServerType"), "Ip".into()));
        many.push((format!("Servers.{i}.Port"), "80".into()));
    }
    let borrowed: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        code(&em, "AddServersToServerGroup", &borrowed).await.1,
        "InvalidParameter"
    );
    assert_eq!(
        code(&em, "DeleteServerGroup", &[("ServerGroupId", "sgp-none")]).await,
        (404, "ResourceNotFound.ServerGroup".to_string())
    );
    // In use by a listener's default action, then by a rule.
    let l = ok(
        &em,
        "CreateListener",
        &[
            ("LoadBalancerId", LB),
            ("ListenerProtocol", "HTTP"),
            ("ListenerPort", "80"),
            ("DefaultActions.1.Type", "ForwardGroup"),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                &g,
            ),
        ],
    )
    .await;
    let lid = l["ListenerId"].as_str().unwrap();
    assert_eq!(
        code(&em, "DeleteServerGroup", &[("ServerGroupId", &g)]).await.1,
        "ResourceInUse.ServerGroup"
    );
    let g2 = group(&em, "api").await;
    ok(&em, "CreateRule", &rule_pairs(lid, "10", "a.example.com", "/api*", &g2)).await;
    assert_eq!(
        code(&em, "DeleteServerGroup", &[("ServerGroupId", &g2)]).await.1,
        "ResourceInUse.ServerGroup"
    );
    assert_eq!(
        code(
            &em,
            "DeleteServerGroup",
            &[("ServerGroupId", SEEDED), ("DryRun", "true")]
        )
        .await
        .1,
        "DryRunOperation"
    );
    em.shutdown().await;
}

#[tokio::test]
async fn rules_create_list_update_delete() {
    let em = instant().await;
    let l = listener(&em, "80").await;
    let g = group(&em, "api").await;
    let v = ok(&em, "CreateRule", &rule_pairs(&l, "10", "a.example.com", "/api*", &g)).await;
    let r1 = v["RuleId"].as_str().unwrap().to_string();
    assert!(r1.starts_with("rule-") && v["JobId"].is_string(), "{v}");
    let v = ok(
        &em,
        "CreateRules",
        &[
            ("ListenerId", &l),
            ("Rules.1.RuleName", "b1"),
            ("Rules.1.Priority", "30"),
            ("Rules.1.RuleConditions.1.Type", "Host"),
            ("Rules.1.RuleConditions.1.HostConfig.Values.1", "*.example.com"),
            ("Rules.1.RuleActions.1.Type", "ForwardGroup"),
            (
                "Rules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                &g,
            ),
            (
                "Rules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.Weight",
                "40",
            ),
            (
                "Rules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.2.ServerGroupId",
                SEEDED,
            ),
            (
                "Rules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.2.Weight",
                "60",
            ),
            ("Rules.2.RuleName", "b2"),
            ("Rules.2.Priority", "20"),
            ("Rules.2.RuleConditions.1.Type", "Path"),
            ("Rules.2.RuleConditions.1.PathConfig.Values.1", "/static*"),
            ("Rules.2.RuleConditions.1.PathConfig.Values.2", "/img*"),
            ("Rules.2.RuleActions.1.Type", "ForwardGroup"),
            (
                "Rules.2.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                SEEDED,
            ),
        ],
    )
    .await;
    assert_eq!(v["RuleIds"].as_array().unwrap().len(), 2);
    assert_eq!(v["RuleIds"][1]["Priority"], 20);
    let list = ok(&em, "ListRules", &[("ListenerIds.1", &l)]).await;
    assert_eq!(list["TotalCount"], 3);
    let priorities: Vec<u64> = list["Rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Priority"].as_u64().unwrap())
        .collect();
    assert_eq!(priorities, [10, 20, 30]);
    let first = &list["Rules"][0];
    assert_eq!(first["RuleStatus"], "Available");
    assert_eq!(first["RuleConditions"][0]["HostConfig"]["Values"][0], "a.example.com");
    assert_eq!(
        first["RuleActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["Weight"],
        100
    );
    assert_eq!(
        list["Rules"][2]["RuleActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][1]["Weight"],
        60
    );
    let page = ok(&em, "ListRules", &[("ListenerIds.1", &l), ("MaxResults", "2")]).await;
    assert_eq!(page["NextToken"], "nt-2");
    ok(
        &em,
        "UpdateRuleAttribute",
        &[("RuleId", &r1), ("Priority", "5"), ("RuleName", "renamed")],
    )
    .await;
    let one = ok(&em, "ListRules", &[("RuleIds.1", &r1)]).await;
    assert_eq!(
        (
            one["Rules"][0]["Priority"].as_u64(),
            one["Rules"][0]["RuleName"].as_str()
        ),
        (Some(5), Some("renamed"))
    );
    assert_eq!(
        one["Rules"][0]["RuleConditions"][1]["PathConfig"]["Values"][0], "/api*",
        "untouched fields stay"
    );
    ok(&em, "DeleteRule", &[("RuleId", &r1)]).await;
    let rest: Vec<String> = v["RuleIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["RuleId"].as_str().unwrap().to_string())
        .collect();
    ok(&em, "DeleteRules", &[("RuleIds.1", &rest[0]), ("RuleIds.2", &rest[1])]).await;
    assert_eq!(ok(&em, "ListRules", &[("ListenerIds.1", &l)]).await["TotalCount"], 0);
    assert_eq!(
        code(&em, "DeleteRule", &[("RuleId", &r1)]).await,
        (404, "ResourceNotFound.Rule".to_string())
    );
    em.shutdown().await;
}

#[tokio::test]
async fn rule_parameter_rules_and_codes() {
    let em = start_with(Alb::new().with_rule_quota(2), Duration::ZERO).await;
    let l = listener(&em, "80").await;
    let base = rule_pairs(&l, "10", "a.example.com", "/api*", SEEDED);
    for (k, v) in [
        ("Priority", "0"),
        ("Priority", "10001"),
        ("Priority", "x"),
        ("RuleName", "1bad"),
        ("RuleConditions.1.HostConfig.Values.1", "A.example.com"),
        ("RuleConditions.1.HostConfig.Values.1", "localhost"),
        ("RuleConditions.1.HostConfig.Values.1", ".a.example.com"),
        ("RuleConditions.1.HostConfig.Values.1", "a.example.c0m"),
        ("RuleConditions.2.PathConfig.Values.1", "api"),
        ("RuleConditions.2.PathConfig.Values.1", "/a%20b"),
        ("RuleConditions.2.PathConfig.Values.1", "/a,b"),
        ("RuleConditions.1.Type", "Header"),
        ("RuleActions.1.Type", "Redirect"),
        ("RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.Weight", "101"),
    ] {
        assert_eq!(
            code(&em, "CreateRule", &with(base.clone(), k, v)).await.1,
            "InvalidParameter",
            "{k}={v}"
        );
    }
    let long_host = format!("{}.com", "a".repeat(125));
    assert_eq!(
        code(
            &em,
            "CreateRule",
            &with(base.clone(), "RuleConditions.1.HostConfig.Values.1", &long_host)
        )
        .await
        .1,
        "InvalidParameter"
    );
    let long_path = format!("/{}", "a".repeat(128));
    assert_eq!(
        code(
            &em,
            "CreateRule",
            &with(base.clone(), "RuleConditions.2.PathConfig.Values.1", &long_path)
        )
        .await
        .1,
        "InvalidParameter"
    );
    let mut six: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    six.retain(|(k, _)| !k.contains("ServerGroupTuples"));
    for i in 1..=6 {
        six.push((
            format!("RuleActions.1.ForwardGroupConfig.ServerGroupTuples.{i}.ServerGroupId"),
            format!("sgp-{i}"),
        ));
    }
    let borrowed: Vec<(&str, &str)> = six.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        code(&em, "CreateRule", &borrowed).await.1,
        "InvalidParameter",
        "six groups"
    );
    let dup = with(
        base.clone(),
        "RuleActions.1.ForwardGroupConfig.ServerGroupTuples.2.ServerGroupId",
        SEEDED,
    );
    assert_eq!(code(&em, "CreateRule", &dup).await.1, "DuplicatedParam.ServerGroupId");
    let mut eleven: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for i in 3..=11 {
        eleven.push((format!("RuleConditions.{i}.Type"), "Path".into()));
        eleven.push((format!("RuleConditions.{i}.PathConfig.Values.1"), format!("/p{i}")));
    }
    let borrowed: Vec<(&str, &str)> = eleven.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        code(&em, "CreateRule", &borrowed).await.1,
        "ResourceQuotaExceeded.RuleConditionsNum"
    );
    assert_eq!(
        code(&em, "CreateRule", &with(base.clone(), "ListenerId", "lsn-none")).await,
        (404, "ResourceNotFound.Listener".to_string())
    );
    assert_eq!(
        code(
            &em,
            "CreateRule",
            &with(
                base.clone(),
                "RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                "sgp-none"
            )
        )
        .await,
        (404, "ResourceNotFound.ServerGroup".to_string())
    );
    assert_eq!(
        code(&em, "CreateRule", &with(base.clone(), "DryRun", "true")).await.1,
        "DryRunOperation"
    );
    assert_eq!(
        ok(&em, "ListRules", &[("ListenerIds.1", &l)]).await["TotalCount"],
        0,
        "dry run made nothing"
    );
    let r = ok(&em, "CreateRule", &base).await["RuleId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(code(&em, "CreateRule", &base).await.1, "Conflict.Priority");
    assert_eq!(
        code(
            &em,
            "UpdateRuleAttribute",
            &[("RuleId", "rule-none"), ("Priority", "3")]
        )
        .await,
        (404, "ResourceNotFound.Rule".to_string())
    );
    let batch = [
        ("ListenerId", l.as_str()),
        ("Rules.1.RuleName", "x1"),
        ("Rules.1.Priority", "40"),
        ("Rules.1.RuleConditions.1.Type", "Path"),
        ("Rules.1.RuleConditions.1.PathConfig.Values.1", "/x"),
        ("Rules.1.RuleActions.1.Type", "ForwardGroup"),
        (
            "Rules.1.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            SEEDED,
        ),
        ("Rules.2.RuleName", "x2"),
        ("Rules.2.Priority", "40"),
        ("Rules.2.RuleConditions.1.Type", "Path"),
        ("Rules.2.RuleConditions.1.PathConfig.Values.1", "/y"),
        ("Rules.2.RuleActions.1.Type", "ForwardGroup"),
        (
            "Rules.2.RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
            SEEDED,
        ),
    ];
    assert_eq!(code(&em, "CreateRules", &batch).await.1, "DuplicatedParam.Priority");
    let quota = with(batch.to_vec(), "Rules.2.Priority", "50");
    assert_eq!(
        code(&em, "CreateRules", &quota).await.1,
        "ResourceQuotaExceeded.LoadBalancerRulesNum"
    );
    let r2 = ok(&em, "CreateRule", &with(base.clone(), "Priority", "11")).await["RuleId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        code(&em, "UpdateRuleAttribute", &[("RuleId", &r2), ("Priority", "10")])
            .await
            .1,
        "Conflict.Priority"
    );
    let mut hundred_one: Vec<(String, String)> = (1..=101).map(|i| (format!("RuleIds.{i}"), r.clone())).collect();
    hundred_one.truncate(101);
    let borrowed: Vec<(&str, &str)> = hundred_one.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(code(&em, "DeleteRules", &borrowed).await.1, "InvalidParameter");
    em.shutdown().await;
}

#[tokio::test]
async fn client_token_replays_and_refuses_other_parameters() {
    let em = instant().await;
    let l = listener(&em, "80").await;
    let with_token = with(
        rule_pairs(&l, "10", "a.example.com", "/", SEEDED),
        "ClientToken",
        "tok-1",
    );
    let first = ok(&em, "CreateRule", &with_token).await;
    let again = ok(&em, "CreateRule", &with_token).await;
    assert_eq!(first["RuleId"], again["RuleId"]);
    assert_eq!(first["JobId"], again["JobId"]);
    assert_eq!(ok(&em, "ListRules", &[("ListenerIds.1", &l)]).await["TotalCount"], 1);
    let other = with(with_token.clone(), "Priority", "11");
    assert_eq!(code(&em, "CreateRule", &other).await.1, "IdempotentParameterMismatch");
    let pool = [
        ("ServerGroupName", "web"),
        ("ServerGroupType", "Ip"),
        ("VpcId", "vpc-1"),
        ("HealthCheckConfig.HealthCheckEnabled", "true"),
        ("ClientToken", "tok-2"),
    ];
    let a = ok(&em, "CreateServerGroup", &pool).await;
    let b = ok(&em, "CreateServerGroup", &pool).await;
    assert_eq!(a["ServerGroupId"], b["ServerGroupId"]);
    em.shutdown().await;
}

/// Factsheet `routing.md` §4: the health check lives on the server group
/// (interval 1–50 s, timeout 1–300 s, thresholds 2–10), required at
/// creation (`HealthCheckEnabled`), changed with
/// `UpdateServerGroupAttribute`, answered by `ListServerGroups`.
#[tokio::test]
async fn server_group_health_checks_and_their_ranges() {
    let em = instant().await;
    let base = [("ServerGroupName", "hc"), ("ServerGroupType", "Ip"), ("VpcId", "vpc-1")];
    assert_eq!(code(&em, "CreateServerGroup", &base).await.1, "MissingParameter");
    for (k, v) in [
        ("HealthCheckConfig.HealthCheckInterval", "51"),
        ("HealthCheckConfig.HealthCheckInterval", "0"),
        ("HealthCheckConfig.HealthCheckTimeout", "301"),
        ("HealthCheckConfig.HealthyThreshold", "1"),
        ("HealthCheckConfig.UnhealthyThreshold", "11"),
        ("HealthCheckConfig.HealthCheckProtocol", "UDP"),
        ("HealthCheckConfig.HealthCheckMethod", "PUT"),
        ("HealthCheckConfig.HealthCheckCodes.1", "http_1xx"),
        ("HealthCheckConfig.HealthCheckPath", "healthz"),
    ] {
        let mut pairs = base.to_vec();
        pairs.push(("HealthCheckConfig.HealthCheckEnabled", "true"));
        pairs.push((k, v));
        assert_eq!(
            code(&em, "CreateServerGroup", &pairs).await.1,
            "InvalidParameter",
            "{k}={v}"
        );
    }
    let mut pairs = base.to_vec();
    pairs.extend([
        ("HealthCheckConfig.HealthCheckEnabled", "true"),
        ("HealthCheckConfig.HealthCheckInterval", "50"),
        ("HealthCheckConfig.HealthCheckTimeout", "300"),
        ("HealthCheckConfig.HealthyThreshold", "2"),
        ("HealthCheckConfig.HealthCheckPath", "/healthz"),
        ("HealthCheckConfig.HealthCheckCodes.1", "http_2xx"),
        ("HealthCheckConfig.HealthCheckCodes.2", "http_3xx"),
    ]);
    let g = ok(&em, "CreateServerGroup", &pairs).await["ServerGroupId"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await;
    let hc = &listed["ServerGroups"][0]["HealthCheckConfig"];
    assert_eq!(hc["HealthCheckInterval"], 50);
    assert_eq!(hc["HealthCheckTimeout"], 300);
    assert_eq!(hc["HealthyThreshold"], 2);
    assert_eq!(hc["UnhealthyThreshold"], 3, "the default");
    assert_eq!(hc["HealthCheckPath"], "/healthz");
    assert_eq!(hc["HealthCheckCodes"], serde_json::json!(["http_2xx", "http_3xx"]));
    assert_eq!(
        code(
            &em,
            "UpdateServerGroupAttribute",
            &[("ServerGroupId", &g), ("HealthCheckConfig.HealthCheckTimeout", "0")]
        )
        .await
        .1,
        "InvalidParameter"
    );
    ok(
        &em,
        "UpdateServerGroupAttribute",
        &[("ServerGroupId", &g), ("HealthCheckConfig.HealthCheckEnabled", "false")],
    )
    .await;
    let listed = ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await;
    let hc = &listed["ServerGroups"][0]["HealthCheckConfig"];
    assert_eq!(hc["HealthCheckEnabled"], false);
    assert_eq!(hc["HealthCheckInterval"], 50, "kept");
    em.shutdown().await;
}

async fn until_status(
    em: &EmulatorHandle,
    action: &str,
    pairs: &[(&str, &str)],
    pick: impl Fn(&Value) -> Value,
    want: &str,
) {
    for _ in 0..200 {
        let v = ok(em, action, pairs).await;
        if pick(&v) == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{action} never reached {want}");
}

#[tokio::test]
async fn async_states_and_a_busy_instance() {
    let em = start_with(Alb::new(), Duration::from_millis(300)).await;
    let l = listener(&em, "80").await;
    until_status(
        &em,
        "GetListenerAttribute",
        &[("ListenerId", &l)],
        |v| v["ListenerStatus"].clone(),
        "Running",
    )
    .await;
    let g = ok(
        &em,
        "CreateServerGroup",
        &[
            ("ServerGroupName", "web"),
            ("ServerGroupType", "Ip"),
            ("VpcId", "vpc-1"),
            ("HealthCheckConfig.HealthCheckEnabled", "true"),
        ],
    )
    .await;
    let g = g["ServerGroupId"].as_str().unwrap().to_string();
    let status = |v: &Value| v["ServerGroups"][0]["ServerGroupStatus"].clone();
    assert_eq!(
        status(&ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await),
        "Creating"
    );
    until_status(
        &em,
        "ListServerGroups",
        &[("ServerGroupIds.1", &g)],
        status,
        "Available",
    )
    .await;
    let add_pairs = [
        ("ServerGroupId", g.as_str()),
        ("Servers.1.ServerId", "10.0.0.1"),
        ("Servers.1.ServerType", "Ip"),
        ("Servers.1.Port", "80"),
    ];
    ok(&em, "AddServersToServerGroup", &add_pairs).await;
    let server = |v: &Value| v["Servers"][0]["Status"].clone();
    assert_eq!(
        server(&ok(&em, "ListServerGroupServers", &[("ServerGroupId", &g)]).await),
        "Adding"
    );
    assert_eq!(
        status(&ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await),
        "Configuring"
    );
    assert_eq!(
        code(&em, "AddServersToServerGroup", &add_pairs).await.1,
        "IncorrectStatus.ServerGroup"
    );
    until_status(
        &em,
        "ListServerGroupServers",
        &[("ServerGroupId", &g)],
        server,
        "Available",
    )
    .await;

    let v = ok(&em, "CreateRule", &rule_pairs(&l, "10", "a.example.com", "/api*", &g)).await;
    let r = v["RuleId"].as_str().unwrap().to_string();
    let job = v["JobId"].as_str().unwrap().to_string();
    let rule = |v: &Value| v["Rules"][0]["RuleStatus"].clone();
    assert_eq!(rule(&ok(&em, "ListRules", &[("RuleIds.1", &r)]).await), "Provisioning");
    let jobs = ok(&em, "ListAsynJobs", &[("JobIds.1", &job)]).await;
    assert_eq!(
        (
            jobs["Jobs"][0]["Status"].as_str(),
            jobs["Jobs"][0]["ResourceType"].as_str()
        ),
        (Some("Processing"), Some("rule"))
    );
    // The instance is busy while the rule job runs.
    assert_eq!(
        code(&em, "CreateRule", &rule_pairs(&l, "20", "b.example.com", "/", &g))
            .await
            .1,
        "IncorrectStatus.LoadBalancer"
    );
    assert_eq!(
        code(
            &em,
            "UpdateListenerAttribute",
            &[("ListenerId", &l), ("IdleTimeout", "20")]
        )
        .await
        .1,
        "IncorrectStatus.LoadBalancer"
    );
    assert_eq!(
        code(&em, "UpdateRuleAttribute", &[("RuleId", &r), ("Priority", "3")])
            .await
            .1,
        "IncorrectStatus.Rule"
    );
    // Not matched before it is Available.
    assert_eq!(to(&em, 80, "a.example.com", "/api/x").await["rule"], Value::Null);
    until_status(&em, "ListRules", &[("RuleIds.1", &r)], rule, "Available").await;
    assert_eq!(to(&em, 80, "a.example.com", "/api/x").await["rule"], json!(r));
    ok(&em, "UpdateRuleAttribute", &[("RuleId", &r), ("Priority", "3")]).await;
    assert_eq!(rule(&ok(&em, "ListRules", &[("RuleIds.1", &r)]).await), "Configuring");
    until_status(&em, "ListRules", &[("RuleIds.1", &r)], rule, "Available").await;
    let jobs = ok(&em, "ListAsynJobs", &[("JobIds.1", &job)]).await;
    assert_eq!(jobs["Jobs"][0]["Status"], "Succeeded");
    em.shutdown().await;
}

#[tokio::test]
async fn resolve_follows_alb_matching_and_reports_endpoints() {
    let em = instant().await;
    let l = listener(&em, "80").await;
    let api = group(&em, "api").await;
    let web = group(&em, "web").await;
    add(&em, &api, "10.0.0.1", "8080", "100").await;
    add(&em, &web, "10.0.1.1", "80", "30").await;
    let exact = ok(
        &em,
        "CreateRule",
        &rule_pairs(&l, "10", "app.example.com", "/api*", &api),
    )
    .await["RuleId"]
        .clone();
    let mut wild = rule_pairs(&l, "20", "*.example.com", "/*", &web);
    wild.push(("RuleActions.1.ForwardGroupConfig.ServerGroupTuples.1.Weight", "70"));
    wild.push((
        "RuleActions.1.ForwardGroupConfig.ServerGroupTuples.2.ServerGroupId",
        &api,
    ));
    wild.push(("RuleActions.1.ForwardGroupConfig.ServerGroupTuples.2.Weight", "30"));
    let wild = ok(&em, "CreateRule", &wild).await["RuleId"].clone();

    let v = to(&em, 80, "APP.example.com:80", "/api/users").await;
    assert_eq!(v["listener"], json!(l));
    assert_eq!(v["rule"], exact);
    assert_eq!(v["server_groups"], json!([{"id": api, "weight": 100}]));
    assert_eq!(
        v["endpoints"],
        json!([{"address": "10.0.0.1", "port": 8080, "weight": 100}])
    );
    // Path is case-sensitive: /API misses the first rule and falls to the wildcard.
    let v = to(&em, 80, "app.example.com", "/API/users").await;
    assert_eq!(v["rule"], wild);
    assert_eq!(
        v["server_groups"],
        json!([{"id": web, "weight": 70}, {"id": api, "weight": 30}])
    );
    assert_eq!(v["endpoints"].as_array().unwrap().len(), 2);
    // No rule → the listener's default action.
    let v = to(&em, 80, "other.org", "/").await;
    assert_eq!(v["rule"], Value::Null);
    assert_eq!(v["server_groups"], json!([{"id": SEEDED, "weight": 100}]));
    assert_eq!(v["endpoints"], json!([]));
    // Priority, not specificity: move the wildcard ahead.
    ok(
        &em,
        "UpdateRuleAttribute",
        &[("RuleId", wild.as_str().unwrap()), ("Priority", "5")],
    )
    .await;
    assert_eq!(to(&em, 80, "app.example.com", "/api/users").await["rule"], wild);

    let (status, v) = resolve(
        &em,
        json!({"service": "alb", "instance": LB, "port": 81, "host": "a.example.com", "path": "/"}),
    )
    .await;
    assert_eq!(status, 404, "{v}");
    assert!(v["error"].is_string());
    let (status, _) = resolve(&em, json!({"service": "nope", "instance": LB, "port": 80})).await;
    assert_eq!(status, 404);
    let (status, _) = resolve(&em, json!({"service": "alb", "port": 80})).await;
    assert_eq!(status, 400);
    em.shutdown().await;
}

#[tokio::test]
async fn seeded_groups_keep_working_with_listener_default_actions() {
    let em = instant().await;
    let l = listener(&em, "80").await;
    let a = ok(&em, "GetListenerAttribute", &[("ListenerId", &l)]).await;
    assert_eq!(
        a["DefaultActions"][0]["ForwardGroupConfig"]["ServerGroupTuples"][0]["ServerGroupId"],
        SEEDED
    );
    // A created group may serve as a default action too.
    let g = group(&em, "web").await;
    ok(
        &em,
        "UpdateListenerAttribute",
        &[
            ("ListenerId", &l),
            ("DefaultActions.1.Type", "ForwardGroup"),
            (
                "DefaultActions.1.ForwardGroupConfig.ServerGroupTuples.1.ServerGroupId",
                &g,
            ),
        ],
    )
    .await;
    assert_eq!(
        to(&em, 80, "x.example.com", "/").await["server_groups"][0]["id"],
        json!(g)
    );
    // Deleting the listener takes its rules along.
    ok(&em, "CreateRule", &rule_pairs(&l, "10", "a.example.com", "/", SEEDED)).await;
    ok(&em, "DeleteListener", &[("ListenerId", &l)]).await;
    assert_eq!(ok(&em, "ListRules", &[]).await["TotalCount"], 0);
    ok(&em, "DeleteServerGroup", &[("ServerGroupId", &g)]).await;
    em.shutdown().await;
}

#[tokio::test]
async fn failed_jobs_change_nothing() {
    let em = start_faulty(
        Alb::new(),
        Duration::ZERO,
        &["CreateRule", "AddServersToServerGroup", "DeleteServerGroup"],
    )
    .await;
    let l = listener(&em, "80").await;
    let v = ok(&em, "CreateRule", &rule_pairs(&l, "10", "a.example.com", "/", SEEDED)).await;
    let job = v["JobId"].as_str().unwrap().to_string();
    let jobs = ok(&em, "ListAsynJobs", &[("JobIds.1", &job)]).await;
    assert_eq!(jobs["Jobs"][0]["Status"], "Failed");
    assert_eq!(ok(&em, "ListRules", &[("ListenerIds.1", &l)]).await["TotalCount"], 0);
    let g = group(&em, "web").await;
    add(&em, &g, "10.0.0.1", "80", "10").await;
    assert_eq!(
        ok(&em, "ListServerGroupServers", &[("ServerGroupId", &g)]).await["TotalCount"],
        0
    );
    ok(&em, "DeleteServerGroup", &[("ServerGroupId", &g)]).await;
    assert_eq!(
        ok(&em, "ListServerGroups", &[("ServerGroupIds.1", &g)]).await["TotalCount"],
        1
    );
    em.shutdown().await;
}

#[tokio::test]
async fn update_rules_attribute_swaps_priorities_in_one_job() {
    let em = instant().await;
    let l = listener(&em, "80").await;
    let a = ok(&em, "CreateRule", &rule_pairs(&l, "10", "a.example.com", "/", SEEDED)).await["RuleId"]
        .as_str()
        .unwrap()
        .to_string();
    let b = ok(&em, "CreateRule", &rule_pairs(&l, "20", "*.example.com", "/", SEEDED)).await["RuleId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(to(&em, 80, "a.example.com", "/").await["rule"], json!(a));
    let swap = [
        ("Rules.1.RuleId", a.as_str()),
        ("Rules.1.Priority", "20"),
        ("Rules.2.RuleId", b.as_str()),
        ("Rules.2.Priority", "10"),
    ];
    let v = ok(&em, "UpdateRulesAttribute", &swap).await;
    let jobs = ok(&em, "ListAsynJobs", &[("JobIds.1", v["JobId"].as_str().unwrap())]).await;
    assert_eq!(jobs["Jobs"][0]["ApiName"], "UpdateRulesAttribute");
    assert_eq!(to(&em, 80, "a.example.com", "/").await["rule"], json!(b));
    let clash = [("Rules.1.RuleId", a.as_str()), ("Rules.1.Priority", "10")];
    assert_eq!(code(&em, "UpdateRulesAttribute", &clash).await.1, "Conflict.Priority");
    let twice = [
        ("Rules.1.RuleId", a.as_str()),
        ("Rules.1.Priority", "30"),
        ("Rules.2.RuleId", a.as_str()),
        ("Rules.2.Priority", "40"),
    ];
    assert_eq!(
        code(&em, "UpdateRulesAttribute", &twice).await.1,
        "DuplicatedParam.RuleId"
    );
    em.shutdown().await;
}

#[tokio::test]
async fn another_instances_seeded_group_stays_unknown() {
    let em = instant().await;
    let _ = client()
        .post(format!("{}/_emulator/seed", em.url()))
        .json(&json!({"service": "alb", "id": "alb-second", "server_groups": ["sgp-second"]}))
        .send()
        .await
        .expect("seeded");
    let l = listener(&em, "80").await;
    let r = rule_pairs(&l, "10", "a.example.com", "/", "sgp-second");
    assert_eq!(
        code(&em, "CreateRule", &r).await,
        (404, "ResourceNotFound.ServerGroup".to_string())
    );
    em.shutdown().await;
}
