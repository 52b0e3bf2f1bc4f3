//! Property tests: arbitrary specs and arbitrary bytes never panic the
//! parsers or validation, and a spec survives a write/read round trip in
//! every format unchanged.

use proptest::prelude::*;

use crate::parse::{from_str, to_string, Format};
use crate::spec::ListenerSpec;
use crate::validate::validate_listeners;
use crate::ConfigFile;

/// Specs built to be valid most of the time, so the valid-spec property
/// exercises many shapes rather than rejecting nearly every case.
fn plausible_spec() -> impl Strategy<Value = ListenerSpec> {
    use crate::spec::*;
    let ports = prop_oneof![
        (1u32..=65535).prop_map(Ports::Single),
        (1u32..60000, 0u32..500).prop_map(|(f, n)| Ports::Range(PortRange { from: f, to: f + n })),
        proptest::collection::btree_set(1u32..=65535, 1..4)
            .prop_map(|s| Ports::List(s.into_iter().map(PortEntry::Port).collect())),
    ];
    (
        any::<Protocol>(),
        ports,
        "[a-z][a-z0-9-]{0,30}",
        any::<Option<Scheduler>>(),
        any::<bool>(),
        any::<Option<bool>>(),
        1u32..=300,
    )
        .prop_map(|(protocol, ports, name, scheduler, mtls, http2, idle)| {
            let mut s = ListenerSpec::new(name, protocol, ports);
            s.scheduler = scheduler;
            s.timeouts = Some(Timeouts {
                idle_secs: Some(idle),
                request_secs: None,
            });
            if protocol.terminates_tls() {
                s.tls = Some(Tls {
                    certificates: vec!["rsa".into(), "ecc".into()],
                    policy: Some("tls-1-2".into()),
                    http2: if protocol == Protocol::Https { http2 } else { None },
                    http3: None,
                    sni: None,
                    client_auth: mtls.then(|| ClientAuth {
                        verify: ClientVerify::Required,
                        ca_certificates: vec!["ca".into()],
                    }),
                });
            }
            if protocol.is_layer7() {
                s.client_ip = Some(ClientIp {
                    mode: ClientIpMode::Headers,
                    headers: Some(ForwardedHeaders {
                        x_forwarded_for: Some(true),
                        ..Default::default()
                    }),
                });
            }
            s
        })
}

const FORMATS: [Format; 3] = [Format::Toml, Format::Yaml, Format::Json];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_spec_validates_without_panic_and_round_trips(spec in any::<ListenerSpec>()) {
        let _ = spec.violations();
        let _ = validate_listeners(std::slice::from_ref(&spec));
        for format in FORMATS {
            let text = to_string(&spec, format).expect("every spec serializes");
            let back: ListenerSpec = from_str(&text, format)
                .unwrap_or_else(|e| panic!("{format:?} round trip failed: {e}\n{text}"));
            prop_assert_eq!(&back, &spec);
        }
    }

    #[test]
    fn valid_specs_stay_valid_after_round_trip(spec in plausible_spec()) {
        prop_assume!(spec.violations().is_empty());
        for format in FORMATS {
            let text = to_string(&spec, format).expect("serializes");
            let back: ListenerSpec = from_str(&text, format).expect("parses");
            prop_assert!(back.violations().is_empty());
            prop_assert_eq!(&back, &spec);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        for format in FORMATS {
            let _ = from_str::<ListenerSpec>(&text, format);
            if let Ok(file) = from_str::<ConfigFile>(&text, format) {
                let _ = file.violations();
            }
            if let Ok(file) = crate::parse::config_from_str(&text, format) {
                let _ = file.violations();
            }
        }
    }

    #[test]
    fn plausible_documents_never_panic(text in "(name|protocol|ports|tls|from|to|certificates|\\[|\\]|\\{|\\}|=|:|,|\"|-|\n| |[0-9]{1,6}|https|udp)*") {
        for format in FORMATS {
            let _ = from_str::<ListenerSpec>(&text, format).map(|s| s.violations());
            let _ = from_str::<ConfigFile>(&text, format).map(|f| f.violations());
            let _ = crate::parse::config_from_str(&text, format).map(|f| f.violations());
        }
    }
}
