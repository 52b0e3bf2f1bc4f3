//! Generated documentation stays in step with the code: a test fails when
//! `docs/capabilities.md` differs from what the compiled adapters declare.
//! Regenerate with `UPDATE_DOCS=1 cargo test --test docs`.

use std::path::Path;

#[test]
fn capability_matrix_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/capabilities.md");
    let generated = cloud_listeners::capabilities_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).expect("docs/capabilities.md is writable");
        return;
    }
    assert_eq!(
        cloud_listeners::compiled_apis().len(),
        4,
        "the matrix is generated with every adapter compiled in (default features)"
    );
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/capabilities.md is stale; regenerate with `UPDATE_DOCS=1 cargo test --test docs`"
    );
}
