//! Where a command's output goes: stdout, as text or JSON.
//!
//! Every command writes through these helpers so that stdout is flushed
//! after each piece (an `apply` prints its plan before it starts work, and a
//! script reading JSON lines sees each event as it happens), and so that a
//! serialization failure prints a JSON error instead of panicking.

use std::io::Write;

use serde::Serialize;

use crate::cli::{Global, OutputFormat};

/// Whether the command was asked for JSON (`-o json`).
pub fn json_out(global: &Global) -> bool {
    global.output == OutputFormat::Json
}

/// Write `text` to stdout as it is, and flush.
pub fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// One JSON document, pretty-printed (the shape of every non-streaming
/// command's `-o json` output).
pub fn print_json<T: Serialize>(value: &T) {
    print(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    ));
}

/// One JSON object on one line (the events `apply -o json` streams).
pub fn print_json_line<T: Serialize>(value: &T) {
    print(&format!("{}\n", serde_json::to_string(value).unwrap_or_default()));
}
