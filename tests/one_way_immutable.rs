//! A field immutable in one direction only: CLB's SNI can be switched on
//! in place and never off. The facade's `plan` must classify the change by
//! the provider's own `plan_change`, not by the declared immutable fields
//! alone, or switching SNI on would replace a listener for nothing.

mod common;

use cloud_listeners::plan::{self, Action, ApplyOptions};
use cloud_listeners::{provider_from_profile, ListenerSpec, Ports, Protocol, Tls};

fn https(sni: bool) -> ListenerSpec {
    let mut s = ListenerSpec::new("web", Protocol::Https, Ports::Single(443));
    s.tls = Some(Tls {
        certificates: if sni { vec![] } else { vec!["web-cert".into()] },
        policy: None,
        http2: None,
        http3: None,
        sni: Some(sni),
        client_auth: None,
    });
    s
}

#[tokio::test]
async fn switching_clb_sni_on_plans_an_update_and_off_a_replacement() {
    let emulator = common::start().await;
    let profile = common::profile("tencent-clb", &emulator.url());
    let clb = provider_from_profile(&profile).expect("provider");
    let first = plan::plan(clb.as_ref(), &[https(false)], false).await.expect("plan");
    plan::apply(clb.clone(), &first, &ApplyOptions::default(), &|_| {})
        .await
        .expect("created");

    let on = plan::plan(clb.as_ref(), &[https(true)], false).await.expect("plan");
    assert!(
        on.actions.iter().any(|a| matches!(a, Action::Update { .. })),
        "{:?}",
        on.actions
    );
    assert_eq!(on.replacements().count(), 0);
    plan::apply(clb.clone(), &on, &ApplyOptions::default(), &|_| {})
        .await
        .expect("switched on in place, without --allow-replace");
    let after = plan::plan(clb.as_ref(), &[https(true)], false).await.expect("plan");
    assert!(
        !after.has_changes(),
        "plan after apply shows no change: {:?}",
        after.actions
    );

    let off = plan::plan(clb.as_ref(), &[https(false)], false).await.expect("plan");
    assert_eq!(off.replacements().count(), 1, "{:?}", off.actions);
    emulator.shutdown().await;
}
