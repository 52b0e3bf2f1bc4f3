//! Every example file loads, validates, and its TOML and YAML twins agree.

use std::path::{Path, PathBuf};

use cloud_listeners::{ConfigFile, Protocol};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/ exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("toml" | "yaml")))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_loads_and_validates() {
    let files = examples();
    assert!(files.len() >= 6, "expected TOML and YAML examples, found {files:?}");
    for f in files {
        let file = ConfigFile::load(&f).unwrap_or_else(|e| panic!("{e}"));
        assert!(!file.listeners.is_empty(), "{} has no listeners", f.display());
        assert!(!file.profiles.is_empty(), "{} has no profiles", f.display());
    }
}

#[test]
fn toml_and_yaml_twins_are_identical() {
    for toml in examples()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
    {
        let yaml = toml.with_extension("yaml");
        let a = ConfigFile::load(&toml).unwrap_or_else(|e| panic!("{e}"));
        let b = ConfigFile::load(&yaml).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, b, "{} and its YAML twin differ", toml.display());
    }
}

#[test]
fn the_three_required_shapes_are_present() {
    let load = |n: &str| ConfigFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(n)).unwrap();
    let mtls = load("https-mtls.toml");
    let l = &mtls.listeners[0];
    assert_eq!(l.protocol, Protocol::Https);
    assert!(!l.client_auth().expect("mutual TLS").ca_certificates.is_empty());
    let range = load("tcp-range.yaml");
    assert!(range.listeners[0].ports.has_range());
    assert_eq!(range.listeners[0].protocol, Protocol::Tcp);
    assert_eq!(load("udp.toml").listeners[0].protocol, Protocol::Udp);
}
