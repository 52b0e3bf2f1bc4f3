//! Any bytes, read as a listeners file in each format, then validated:
//! errors are fine, panics are bugs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use listener_core::{parse, ConfigFile, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for format in [Format::Toml, Format::Yaml, Format::Json] {
        if let Ok(file) = parse::from_str::<ConfigFile>(text, format) {
            let _ = file.violations();
        }
    }
});
