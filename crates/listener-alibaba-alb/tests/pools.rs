//! Where new server groups go: the instance's VPC, learned from
//! `GetLoadBalancerAttribute` over HTTP against the emulated ALB, asked
//! once per provider, with no mapped target needed.

mod common;

use common::{Env, LB};
use listener_alibaba_alb::pools::INSTANCE_TAG;
use listener_alibaba_alb::AlbProvider;
use listener_core::{Adapter, Endpoint, Error, PoolProvider, PoolSpec, ProfileConfig};
use listener_emulator::services::alb::SEEDED_VPC;
use serde_json::Value;

/// Requests of `action` the emulator counted.
fn requests_of(env: &Env, action: &str) -> u64 {
    env.emulator
        .request_counts()
        .values()
        .filter_map(|a| a.get(action))
        .map(|c| c.requests)
        .sum()
}

/// The test profile without any mapped server group: only inline pools.
fn without_targets(env: &Env) -> ProfileConfig {
    let mut p = env.profile.clone();
    p.aliases.targets.clear();
    p
}

fn pool(name: &str, last: u8) -> PoolSpec {
    PoolSpec::new(name, vec![Endpoint::new(format!("10.0.0.{last}"), 8080)])
}

/// The `VpcId` of every server group made for the bound instance.
async fn vpcs_of_owned_groups(provider: &AlbProvider) -> Vec<String> {
    let groups = provider.client().list_server_groups(&[]).await.expect("listed");
    groups
        .iter()
        .filter(|g| {
            g["Tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t["Key"] == INSTANCE_TAG && t["Value"] == LB))
        })
        .map(|g| g["VpcId"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn inline_pools_without_targets_go_in_the_instance_vpc_asked_once() {
    let env = Env::start().await;
    let provider = AlbProvider::from_profile(&without_targets(&env)).expect("provider");
    let attr: Value = provider.client().get_load_balancer(LB).await.expect("instance");
    assert_eq!(attr["VpcId"], SEEDED_VPC, "{attr}");
    let asked_before = requests_of(&env, "GetLoadBalancerAttribute");

    let made = provider.create_pools(&[pool("web", 1)]).await.expect("created");
    assert_eq!(made[0].spec.name, "web");
    provider.create_pools(&[pool("api", 2)]).await.expect("created");

    assert_eq!(vpcs_of_owned_groups(&provider).await, vec![SEEDED_VPC; 2]);
    assert_eq!(
        requests_of(&env, "GetLoadBalancerAttribute") - asked_before,
        1,
        "one provider asks for the VPC once"
    );
    env.stop().await;
}

#[tokio::test]
async fn a_given_vpc_is_used_without_asking() {
    let env = Env::start().await;
    let provider = AlbProvider::from_profile(&without_targets(&env))
        .expect("provider")
        .with_vpc("vpc-given000001");
    provider.create_pools(&[pool("web", 1)]).await.expect("created");
    assert_eq!(vpcs_of_owned_groups(&provider).await, vec!["vpc-given000001"]);
    assert_eq!(requests_of(&env, "GetLoadBalancerAttribute"), 0);
    env.stop().await;
}

#[tokio::test]
async fn an_unknown_instance_is_not_found_and_nothing_is_created() {
    let env = Env::start().await;
    let mut profile = without_targets(&env);
    profile.instance = "alb-nothere000001".into();
    let provider = AlbProvider::from_profile(&profile).expect("provider");
    match provider.create_pools(&[pool("web", 1)]).await {
        Err(Error::NotFound { what, .. }) => assert!(what.contains("alb-nothere000001"), "{what}"),
        other => panic!("pools on an unknown instance: {other:?}"),
    }
    assert_eq!(requests_of(&env, "CreateServerGroup"), 0);
    env.stop().await;
}
