//! `listenerctl schema`: the JSON Schema of the listeners file.

use clap::Args as ClapArgs;
use serde_json::json;

use cloud_listeners::ConfigFile;

use super::Run;
use crate::cli::Global;
use crate::diag::{Exit, Failure};
use crate::output::print;

/// Print the JSON Schema of the listeners file (docs/listeners.schema.json).
#[derive(Debug, ClapArgs)]
pub struct Args {}

impl Run for Args {
    fn run(&self, _global: &Global) -> Result<Exit, Failure> {
        print(&schema_json());
        Ok(Exit::Ok)
    }
}

/// The JSON Schema of the listeners file, as committed in
/// `docs/listeners.schema.json` (a test keeps the two equal).
///
/// It is generated from the types the parser reads, with the ranges and
/// patterns the neutral validation enforces (the same constants, through
/// `schemars` attributes). The one thing added here is the list of API
/// names, because `listener-core` names no vendor: it is the facade's
/// [`cloud_listeners::KNOWN_APIS`], the list its `unknown API` check uses.
/// What needs two fields at once or a vendor's rules is not in the schema;
/// `listenerctl validate` checks it.
pub fn schema_json() -> String {
    let mut schema = schemars::schema_for!(ConfigFile);
    if let Some(api) = schema.pointer_mut("/$defs/ProfileConfig/properties/api") {
        api["enum"] = json!(cloud_listeners::KNOWN_APIS);
    }
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}
