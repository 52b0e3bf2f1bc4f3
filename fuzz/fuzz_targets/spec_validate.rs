//! A single spec from JSON, validated, diffed against itself and written
//! back out in every format: no input may panic, and a spec must read back
//! equal to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use listener_core::{parse, Format, ListenerSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = parse::from_str::<ListenerSpec>(text, Format::Json) else { return };
    let _ = spec.violations();
    assert!(listener_core::diff::diff_specs(&spec, &spec).is_empty());
    for format in [Format::Toml, Format::Yaml, Format::Json] {
        // TOML cannot hold every JSON value an extension section may carry
        // (null, integers above i64): refusing to write is fine, but what is
        // written must read back unchanged.
        let Ok(out) = parse::to_string(&spec, format) else { continue };
        let back: ListenerSpec = parse::from_str(&out, format).expect("written spec reads back");
        assert_eq!(back, spec);
    }
});
