//! Rule priorities against the emulated ALB: whatever order rules arrive
//! in, the listener's rules stand in evaluation order (exact hosts, then
//! wildcards by decreasing suffix, within a host the longest path first),
//! and a rule that finds no free number between its neighbours makes the
//! adapter renumber the others in place (`UpdateRulesAttribute`), in two
//! rounds when more rules move than one call takes.

mod common;

use common::*;
use listener_alibaba_alb::rules::order_key;
use listener_core::{NewRule, Provider, ResourceId, RouteSpec, Rule};

/// The rules by priority, as `ListRules` answers them, with priorities.
async fn by_priority(env: &Env, listener: &str) -> Vec<(u32, Option<String>, String)> {
    let raw = env.raw();
    let answer = raw
        .call(
            "ListRules",
            &serde_json::json!({ "ListenerIds": [listener] }),
            alibaba_api::CallOptions::read(),
        )
        .await
        .expect("ListRules")
        .body;
    let mut out: Vec<(u32, Option<String>, String)> = answer["Rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| {
            let rule = serde_json::json!({ "RuleConditions": r["RuleConditions"], "RuleActions": r["RuleActions"] });
            let (host, path, _) = listener_alibaba_alb::rules::route_of(&rule).expect("our shape");
            (r["Priority"].as_u64().expect("priority") as u32, host, path)
        })
        .collect();
    out.sort();
    out
}

fn in_evaluation_order(rules: &[(u32, Option<String>, String)]) -> bool {
    rules
        .windows(2)
        .all(|w| order_key(w[0].1.as_deref(), &w[0].2) < order_key(w[1].1.as_deref(), &w[1].2))
}

fn updates_sent(env: &Env) -> u64 {
    env.emulator
        .request_counts()
        .values()
        .filter_map(|a| a.get("UpdateRulesAttribute"))
        .map(|c| c.requests)
        .sum()
}

#[tokio::test]
async fn rules_stay_in_evaluation_order_and_are_renumbered_when_no_gap_is_left() {
    let env = Env::start_timed(
        Vec::new(),
        listener_emulator::services::alb::Alb::new(),
        std::time::Duration::from_millis(5),
    )
    .await;
    let provider = env.provider();
    let listener = provider.create(&http(80)).await.expect("listener")[0].id.clone();
    let rules = provider.rules().expect("rules");
    let group = ResourceId::from("sgp-app");
    let add = |specs: Vec<RouteSpec>| {
        let rules = &rules;
        let listener = &listener;
        let group = &group;
        async move {
            let news: Vec<NewRule> = specs
                .iter()
                .map(|spec| NewRule {
                    spec,
                    backend: group,
                    pool: None,
                })
                .collect();
            rules.create_rules(listener, &news).await.expect("rules made")
        }
    };
    // A wildcard host with twelve paths, in one go: 10, 20, ... 120.
    let wild: Vec<RouteSpec> = (0..12)
        .map(|i| RouteSpec::new(Some("*.example.com"), format!("/{}", "p".repeat(12 - i)), "app"))
        .collect();
    add(wild).await;
    let now = by_priority(&env, listener.as_str()).await;
    assert_eq!(now.len(), 12);
    assert!(in_evaluation_order(&now), "{now:?}");
    assert_eq!(updates_sent(&env), 0);

    // Exact hosts go before it, one at a time, each before the last:
    // gaps below 10 at first (5, 2, 1)...
    for host in ["z.example.com", "y.example.com", "x.example.com"] {
        add(vec![RouteSpec::new(Some(host), "/", "app")]).await;
        let now = by_priority(&env, listener.as_str()).await;
        assert!(in_evaluation_order(&now), "{host}: {now:?}");
    }
    assert_eq!(updates_sent(&env), 0, "the gaps held them");
    // ...until none is left: every rule is renumbered (15 move, so two
    // rounds of UpdateRulesAttribute, through free numbers).
    add(vec![RouteSpec::new(Some("w.example.com"), "/", "app")]).await;
    let now = by_priority(&env, listener.as_str()).await;
    assert_eq!(now.len(), 16);
    assert!(in_evaluation_order(&now), "{now:?}");
    assert_eq!(
        now.iter().map(|r| r.0).collect::<Vec<_>>(),
        (1..=16).map(|i| i * 10).collect::<Vec<_>>()
    );
    assert!(
        updates_sent(&env) >= 4,
        "two rounds of ten at most: {}",
        updates_sent(&env)
    );

    // A longer wildcard goes between the exact hosts and `*.example.com`.
    add(vec![RouteSpec::new(Some("*.a.example.com"), "/", "app")]).await;
    let now = by_priority(&env, listener.as_str()).await;
    assert!(in_evaluation_order(&now), "{now:?}");
    let listed: Vec<Rule> = rules.list_rules(&listener).await.expect("list");
    assert_eq!(listed.len(), 17);
    assert!(listed.iter().all(|r| r.managed));
    env.stop().await;
}
