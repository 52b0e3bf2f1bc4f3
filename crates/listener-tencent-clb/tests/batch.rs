//! `create_batch` against the emulated CLB: specs that differ only in name
//! and port become one `CreateListener` call (counted by the emulator),
//! every listener keeps its own name, and a lost answer is reconciled
//! without doubling anything.

mod common;

use common::*;
use listener_core::{Error, ListenerSpec, Ports, Protocol, Provider};
use listener_emulator::{EmulatorHandle, Fault, FaultRule};

fn named_tcp(n: u32) -> Vec<ListenerSpec> {
    (0..n)
        .map(|i| ListenerSpec::new(format!("game-{i}"), Protocol::Tcp, Ports::Single(7000 + i)))
        .collect()
}

fn create_calls(emu: &EmulatorHandle) -> u64 {
    emu.request_counts()
        .get(listener_tencent_clb::API)
        .and_then(|m| m.get("CreateListener"))
        .map_or(0, |c| c.requests)
}

/// Every listener on the load balancer as (port, name), sorted.
async fn names_by_port(clb: &impl Provider) -> Vec<(Option<u32>, String)> {
    let mut out: Vec<(Option<u32>, String)> = clb
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|l| (l.spec.ports.as_single(), l.spec.name))
        .collect();
    out.sort();
    out
}

fn expected(n: u32) -> Vec<(Option<u32>, String)> {
    (0..n).map(|i| (Some(7000 + i), format!("game-{i}"))).collect()
}

#[tokio::test]
async fn five_named_tcp_specs_are_one_create_call() {
    let emu = start().await;
    let clb = provider(&emu);
    let made = clb.create_batch(&named_tcp(5)).await.expect("created");
    assert_eq!(made.len(), 5);
    assert_eq!(create_calls(&emu), 1);
    assert_eq!(count(&emu), 5);
    assert_eq!(names_by_port(&clb).await, expected(5));
    emu.shutdown().await;
}

#[tokio::test]
async fn other_protocols_and_settings_get_a_call_each() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut specs = named_tcp(3);
    specs.push(ListenerSpec::new("dns-a", Protocol::Udp, Ports::Single(53)));
    specs.push(ListenerSpec::new("dns-b", Protocol::Udp, Ports::Single(54)));
    let mut idle = ListenerSpec::new("idle", Protocol::Tcp, Ports::Single(7100));
    idle.timeouts = Some(listener_core::Timeouts {
        idle_secs: Some(60),
        request_secs: None,
    });
    specs.push(idle);
    let made = clb.create_batch(&specs).await.expect("created");
    assert_eq!(made.len(), 6);
    assert_eq!(create_calls(&emu), 3, "TCP, UDP, TCP with another idle timeout");
    assert_eq!(count(&emu), 6);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_lost_batch_answer_adopts_what_was_made_with_the_right_names() {
    let emu = builder()
        .fault_rule(
            FaultRule::new(Fault::LostAnswer)
                .service("clb")
                .action("CreateListener"),
        )
        .start()
        .await
        .expect("emulator");
    let clb = provider(&emu);
    let made = clb.create_batch(&named_tcp(4)).await.expect("reconciled");
    assert_eq!(made.len(), 4);
    assert_eq!(count(&emu), 4, "nothing doubled");
    assert_eq!(names_by_port(&clb).await, expected(4));
    assert_eq!(emu.fault_counts().lost_answer, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn after_a_dropped_batch_only_the_missing_ports_are_created_with_their_names() {
    let emu = start().await;
    let clb = provider(&emu);
    let specs = named_tcp(4);
    clb.create(&specs[1]).await.expect("one exists already");
    emu.faults()
        .push_rule(FaultRule::new(Fault::Drop).service("clb").action("CreateListener"));
    let made = clb.create_batch(&specs).await.expect("reconciled");
    assert_eq!(made.len(), 4);
    assert_eq!(count(&emu), 4);
    assert_eq!(names_by_port(&clb).await, expected(4));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_refused_spec_stops_the_batch_before_any_call() {
    let emu = start().await;
    let clb = provider(&emu);
    let mut specs = named_tcp(3);
    specs[2].name = "x".repeat(81);
    match clb.create_batch(&specs).await {
        Err(Error::Unsupported { rejections, .. }) => {
            assert!(rejections.iter().any(|r| r.field == "name"));
        }
        other => panic!("expected a refusal before any call, got {other:?}"),
    }
    assert_eq!(create_calls(&emu), 0);
    assert_eq!(count(&emu), 0);
    emu.shutdown().await;
}
