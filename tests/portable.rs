//! The test of the mission: the same neutral file, applied through the
//! facade to each cloud in turn with only the provider profile changed,
//! creates working listeners wherever the vendor supports them; where one
//! does not, that provider says why before any call is made.

mod common;

use std::path::Path;

use cloud_listeners::plan::{self, ApplyOptions, FileResources, Plan, Prune};
use cloud_listeners::{check_set, provider_from_profile, ConfigFile, Error};
use listener_emulator::InstanceSeed;

fn example(name: &str) -> ConfigFile {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name);
    ConfigFile::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// An emulator seeded with exactly the instances the file's profiles name
/// (and the ALB server groups its target aliases point at).
async fn emulator_for(file: &ConfigFile) -> listener_emulator::EmulatorHandle {
    let mut b = common::builder();
    for profile in file.profiles.values() {
        if !cloud_listeners::compiled_apis().contains(&profile.api.as_str()) {
            continue;
        }
        let (service, _) = common::instance_of(&profile.api);
        b = b.seed(
            service,
            InstanceSeed {
                id: profile.instance.clone(),
                server_groups: profile.aliases.targets.values().cloned().collect(),
            },
        );
    }
    b.start().await.expect("emulator starts")
}

/// Apply `file` to every compiled profile; return, per profile, the indices
/// of listeners created and the indices refused by `check`.
async fn apply_everywhere(file: &ConfigFile) -> Vec<(String, Vec<usize>, Vec<usize>)> {
    let emu = emulator_for(file).await;
    let mut out = Vec::new();
    for (name, original) in &file.profiles {
        if !cloud_listeners::compiled_apis().contains(&original.api.as_str()) {
            continue;
        }
        let mut profile = original.clone();
        common::aim(&mut profile, &emu.url());

        // Offline verdict, per listener.
        let rejections = check_set(&profile, &file.listeners).expect("compiled api");
        let refused: Vec<usize> = {
            let mut v: Vec<usize> = rejections.iter().map(|(i, _)| *i).collect();
            v.sort();
            v.dedup();
            v
        };
        for (i, r) in &rejections {
            assert_eq!(r.vendor, profile.api, "{name}");
            assert!(
                !r.field.is_empty() && !r.reason.is_empty(),
                "{name}: listener {i}: {r:?}"
            );
        }

        // A provider that cannot reach anything: a refused listener must come
        // back `Unsupported`, proving the refusal happened before any call.
        let mut unreachable = profile.clone();
        unreachable.endpoint = Some("http://127.0.0.1:1".into());
        let offline = provider_from_profile(&unreachable).expect("provider builds");
        for &i in &refused {
            match offline.create(&file.listeners[i]).await {
                Err(Error::Unsupported { vendor, rejections }) => {
                    assert_eq!(vendor, profile.api);
                    assert!(!rejections.is_empty());
                }
                other => panic!("{name}: listener {i} should be refused before any call, got {other:?}"),
            }
        }

        // What the file's pools ask of this cloud, offline too (listeners
        // that name a refused pool are not applied).
        let mut refused = refused;
        for (i, r) in cloud_listeners::check_backends(&profile, &file.listeners, &file.backends).expect("compiled api")
        {
            assert_eq!(r.vendor, profile.api, "{name}");
            refused.push(i);
        }
        refused.sort();
        refused.dedup();

        // The rest is applied for real, with its pools and routes, and a
        // second plan finds nothing to do.
        let provider = provider_from_profile(&profile).expect("provider builds");
        let resources = || FileResources {
            backends: &file.backends,
            aliases: &profile.aliases,
        };
        let accepted: Vec<_> = file
            .listeners
            .iter()
            .enumerate()
            .filter(|(i, _)| !refused.contains(i))
            .map(|(_, s)| s.clone())
            .collect();
        let first = plan::plan_with_resources(provider.as_ref(), &accepted, &accepted, resources(), Prune::Off)
            .await
            .expect("plan");
        let report = plan::apply(provider.clone(), &first, &ApplyOptions::default(), &|_| {})
            .await
            .expect("apply");
        assert!(report.failed.is_empty(), "{name}: {:?}", report.failed);
        let listed = provider.list().await.expect("list");
        assert!(listed.iter().all(|l| l.status.is_settled()), "{name}: {listed:?}");
        let again: Plan = plan::plan_with_resources(provider.as_ref(), &accepted, &accepted, resources(), Prune::Off)
            .await
            .expect("plan again");
        assert!(
            !again.has_changes(),
            "{name}: second plan is not empty: {:?} {:?}",
            again.actions,
            again.resources
        );

        let created: Vec<usize> = (0..file.listeners.len()).filter(|i| !refused.contains(i)).collect();
        out.push((name.clone(), created, refused));
    }
    emu.shutdown().await;
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn portable_file_works_on_every_cloud() {
    let file = example("portable.toml");
    let results = apply_everywhere(&file).await;
    assert_eq!(results.len(), cloud_listeners::compiled_apis().len());
    for (profile, created, refused) in results {
        assert!(refused.is_empty(), "{profile} refused {refused:?} of the portable file");
        assert_eq!(created.len(), file.listeners.len(), "{profile}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_file_is_refused_only_where_the_vendor_cannot_do_it() {
    let file = example("https-mtls.toml");
    for (profile, created, refused) in apply_everywhere(&file).await {
        let api = &file.profiles[&profile].api;
        if api == "alibaba-ga" {
            // GA has no client-CA parameter; the file's GA profile also maps
            // no CA alias. Both are said before any call.
            assert_eq!(refused, vec![0], "{profile}");
        } else {
            assert_eq!(created, vec![0], "{profile} should take mutual TLS");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn udp_and_port_range_files_follow_each_vendor() {
    for name in ["udp.toml", "tcp-range.toml"] {
        let file = example(name);
        for (profile, created, refused) in apply_everywhere(&file).await {
            assert_eq!(created.len() + refused.len(), file.listeners.len(), "{name}/{profile}");
            assert!(
                refused.is_empty(),
                "{name}: {profile} refused a listener its example says it takes"
            );
        }
    }
}
