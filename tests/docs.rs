//! Documentation stays in step with the code: a test fails when
//! `docs/capabilities.md` differs from what the compiled adapters declare
//! (regenerate with `UPDATE_DOCS=1 cargo test --test docs`), and when a
//! TOML or YAML snippet in `README.md` or `docs/` is one the tool refuses,
//! and when `docs/terraform.md` names a field that does not exist.

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

/// Every ```toml and ```yaml snippet in `README.md` and `docs/*.md` is
/// parsed and checked, so a documented example cannot be one the tool
/// refuses (as `snat_enable` was). What a snippet is comes from an HTML
/// comment on the line before its fence; none means a whole listeners
/// file:
///
/// - (none): a whole listeners file. It must parse, pass the neutral rules,
///   and every listener must fit every profile it names.
/// - `<!-- snippet: listener [API] -->`: part of one listener (keys such as
///   `ports = 443`, or `[listeners.…]` sections), laid over a minimal TCP
///   listener on port 80; with an API, that adapter's offline check must
///   accept it too (this is how `extensions` sections are checked).
/// - `<!-- snippet: listener-lines [API] -->`: each line is one alternative
///   of the above (a list of ways to write one field).
/// - `<!-- snippet: emulator-config -->`: the emulator's own config file.
/// - `<!-- snippet: invalid -->`: an example of what is refused; it must
///   indeed be refused.
///
/// An unknown marker fails the test: no snippet is silently skipped.
#[test]
fn every_toml_and_yaml_snippet_in_the_docs_is_accepted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable");
        for snippet in snippets::find(&text) {
            checked += 1;
            if let Err(e) = snippets::check(&snippet) {
                failures.push(format!("{}:{}: {e}", file.display(), snippet.line));
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} snippets found; is the fence parser broken?"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `docs/terraform.md` maps each Terraform argument to a field of the
/// listeners file. Every field it names on a "yes" row exists: neutral
/// fields as a path of `ListenerSpec` in the committed JSON Schema, profile
/// fields in `ProfileConfig`, and `extensions.<api>.<key>` as a key that
/// the adapter's options accept (a probe with the key set to null must not
/// be refused at the section, while an unknown key is). Rows that are not
/// "yes" name no field, and the summary's counts match the rows.
#[test]
fn terraform_table_names_only_fields_that_exist() {
    use std::collections::BTreeMap;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/terraform.md")).expect("docs/terraform.md");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("docs/listeners.schema.json")).expect("schema"))
            .expect("schema is JSON");
    let mut failures = Vec::new();
    let mut fields_checked = 0;
    // resource -> [rows, yes, in progress, not modelled]
    let mut counted: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut summary: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    let mut section: Option<(String, String)> = None; // (resource, api)
    let mut in_summary = false;
    for (n, line) in text.lines().enumerate() {
        let at = format!("docs/terraform.md:{}", n + 1);
        if let Some(heading) = line.strip_prefix("## ") {
            in_summary = heading.starts_with("What is left out");
            section = ticked(heading).first().cloned().zip(
                heading
                    .split("(api `")
                    .nth(1)
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_string),
            );
            continue;
        }
        if !line.starts_with("| `") {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if in_summary {
            let resource = ticked(cells[1]).first().cloned().unwrap_or_default();
            let number = |c: &str| c.split_whitespace().next().and_then(|x| x.parse::<usize>().ok());
            match (number(cells[2]), number(cells[3]), number(cells[4]), number(cells[5])) {
                (Some(a), Some(b), Some(c), Some(d)) => {
                    summary.insert(resource, [a, b, c, d]);
                }
                _ => failures.push(format!("{at}: summary row without four counts")),
            }
            continue;
        }
        let Some((resource, api)) = &section else {
            continue;
        };
        let count = counted.entry(resource.clone()).or_default();
        count[0] += 1;
        let (status, field) = (cells[2], cells[3]);
        match status {
            "yes" => count[1] += 1,
            "in progress" => count[2] += 1,
            "not modelled" => count[3] += 1,
            "no" => {}
            other => failures.push(format!("{at}: unknown status `{other}`")),
        }
        if status != "yes" {
            if field != "—" {
                failures.push(format!("{at}: a `{status}` row names no field"));
            }
            continue;
        }
        let names = ticked(field);
        if names.is_empty() {
            failures.push(format!("{at}: a `yes` row names its field"));
        }
        for name in names {
            fields_checked += 1;
            if let Err(e) = field_exists(&schema, api, &name) {
                failures.push(format!("{at}: `{name}`: {e}"));
            }
        }
    }
    assert!(
        fields_checked > 100,
        "only {fields_checked} fields found; is the table parser broken?"
    );
    assert_eq!(counted.len(), 5, "five resources: {counted:?}");
    for (resource, rows) in &counted {
        match summary.get(resource) {
            Some(s) if s == rows => {}
            other => failures.push(format!("summary of {resource}: {other:?}, the rows count {rows:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The `backticked` words of a Markdown cell.
fn ticked(cell: &str) -> Vec<String> {
    cell.split('`').skip(1).step_by(2).map(str::to_string).collect()
}

/// Whether `name` is a field of the listeners file for `api`.
fn field_exists(schema: &serde_json::Value, api: &str, name: &str) -> Result<(), String> {
    if let Some(rest) = name.strip_prefix("extensions.") {
        let (ext_api, key) = rest.split_once('.').ok_or("an extension field names its key")?;
        if ext_api != api {
            return Err(format!("extension of `{ext_api}` in the `{api}` table"));
        }
        return extension_key_exists(api, key);
    }
    if let Some(rest) = name.strip_prefix("profiles.NAME.") {
        return schema_path(schema, "ProfileConfig", rest);
    }
    schema_path(schema, "ListenerSpec", name)
}

/// Follow `path` (dot-separated property names) from `$defs.<def>`.
fn schema_path(schema: &serde_json::Value, def: &str, path: &str) -> Result<(), String> {
    let defs = &schema["$defs"];
    let mut nodes = vec![&defs[def]];
    for segment in path.split('.') {
        let mut next = Vec::new();
        while let Some(node) = nodes.pop() {
            if let Some(target) = node.get("$ref").and_then(|r| r.as_str()) {
                let target = target.trim_start_matches("#/$defs/");
                nodes.push(&defs[target]);
                continue;
            }
            for key in ["anyOf", "oneOf", "allOf"] {
                if let Some(list) = node.get(key).and_then(|l| l.as_array()) {
                    nodes.extend(list.iter());
                }
            }
            if let Some(found) = node.get("properties").and_then(|p| p.get(segment)) {
                next.push(found);
            }
        }
        if next.is_empty() {
            return Err(format!("`{segment}` is not in the JSON Schema at this place"));
        }
        nodes = next;
    }
    Ok(())
}

/// An extension key exists when the adapter does not refuse the section
/// with that key set to null (every option is optional), while it does
/// refuse a key it does not know (so the probe is known to work).
fn extension_key_exists(api: &str, key: &str) -> Result<(), String> {
    let head = key.split('.').next().unwrap_or(key);
    let refused_at_section = |k: &str| -> Result<bool, String> {
        let doc = serde_json::json!({
            "name": "probe", "protocol": "tcp", "ports": 80,
            "extensions": { api: { k: null } },
        });
        let spec: cloud_listeners::ListenerSpec = serde_json::from_value(doc).map_err(|e| e.to_string())?;
        let (instance, region) = match api {
            "tencent-gaap" => ("link-doc00001", None),
            "tencent-clb" => ("lb-doc00001", Some("ap-guangzhou")),
            "alibaba-alb" => ("alb-doc0000001", Some("cn-hangzhou")),
            _ => ("ga-doc0000001", None),
        };
        let mut profile = cloud_listeners::ProfileConfig::new(api, instance);
        profile.region = region.map(str::to_string);
        let rejections = cloud_listeners::check(&profile, &spec).map_err(|e| e.to_string())?;
        let section = format!("extensions.{api}");
        Ok(rejections.iter().any(|r| r.field == section))
    };
    if !refused_at_section("no_such_option")? {
        return Err(format!("the `{api}` probe does not refuse an unknown key"));
    }
    if refused_at_section(head)? {
        return Err(format!("`{api}` does not know the option `{head}`"));
    }
    Ok(())
}

#[test]
fn snippet_checks_refuse_the_old_snat_example() {
    let text = "<!-- snippet: listener tencent-clb -->\n```toml\n[listeners.extensions.tencent-clb]\nsnat_enable = true\n```\n";
    let found = snippets::find(text);
    assert_eq!(found.len(), 1);
    assert!(
        snippets::check(&found[0]).is_err(),
        "snat_enable is not a CLB extension"
    );
    let fixed = text.replace("snat_enable", "snat");
    assert!(snippets::check(&snippets::find(&fixed)[0]).is_ok());
}

#[test]
fn snippet_checks_fail_on_an_unknown_marker_and_on_an_accepted_invalid_example() {
    let unknown = "<!-- snippet: whatever -->\n```toml\nports = 1\n```\n";
    assert!(snippets::check(&snippets::find(unknown)[0]).is_err());
    let not_invalid =
        "<!-- snippet: invalid -->\n```toml\n[[listeners]]\nname = \"a\"\nprotocol = \"tcp\"\nports = 1\n```\n";
    assert!(snippets::check(&snippets::find(not_invalid)[0]).is_err());
}

mod snippets {
    //! Finding fenced snippets and checking each by its marker.
    use cloud_listeners::{ConfigFile, Format, ListenerSpec, ProfileConfig};
    use serde_json::{json, Map, Value};

    /// One fenced snippet.
    pub struct Snippet {
        /// 1-based line of the opening fence.
        pub line: usize,
        /// `toml` or `yaml`.
        pub lang: String,
        /// The marker's words, empty when there is none.
        pub marker: Vec<String>,
        pub body: String,
    }

    /// Every ```toml / ```yaml / ```yml fence of a Markdown text.
    pub fn find(text: &str) -> Vec<Snippet> {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < lines.len() {
            let fence = lines[i].trim_start();
            let lang = fence.strip_prefix("```").map(|l| l.trim().to_ascii_lowercase());
            match lang.as_deref() {
                Some(l @ ("toml" | "yaml" | "yml")) => {
                    let marker = i
                        .checked_sub(1)
                        .map(|p| lines[p].trim())
                        .and_then(|m| m.strip_prefix("<!-- snippet:"))
                        .and_then(|m| m.strip_suffix("-->"))
                        .map(|m| m.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default();
                    let start = i + 1;
                    let mut end = start;
                    while end < lines.len() && !lines[end].trim_start().starts_with("```") {
                        end += 1;
                    }
                    out.push(Snippet {
                        line: i + 1,
                        lang: if l == "toml" { "toml".into() } else { "yaml".into() },
                        marker,
                        body: lines[start..end.min(lines.len())].join("\n") + "\n",
                    });
                    i = end + 1;
                }
                Some(_) => {
                    // Another language: skip to its closing fence.
                    i += 1;
                    while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                        i += 1;
                    }
                    i += 1;
                }
                None => i += 1,
            }
        }
        out
    }

    fn format(s: &Snippet) -> Format {
        if s.lang == "toml" {
            Format::Toml
        } else {
            Format::Yaml
        }
    }

    fn data(text: &str, format: Format) -> Result<Value, String> {
        cloud_listeners::parse::from_str::<Value>(text, format).map_err(|e| e.to_string())
    }

    /// Check one snippet according to its marker.
    pub fn check(s: &Snippet) -> Result<(), String> {
        let words: Vec<&str> = s.marker.iter().map(String::as_str).collect();
        match words.as_slice() {
            [] => whole_file(&s.body, format(s)),
            ["invalid"] => match whole_file(&s.body, format(s)) {
                Ok(()) => Err("marked invalid, but the tool accepts it".into()),
                Err(_) => Ok(()),
            },
            ["listener", api @ ..] if api.len() <= 1 => listener(&s.body, format(s), api.first().copied()),
            ["listener-lines", api @ ..] if api.len() <= 1 => s
                .body
                .lines()
                .filter(|l| !l.trim().is_empty())
                .try_for_each(|l| listener(&format!("{l}\n"), format(s), api.first().copied())),
            ["emulator-config"] => listener_emulator::EmulatorConfig::from_toml(&s.body)
                .map(drop)
                .map_err(|e| e.to_string()),
            other => Err(format!("unknown snippet marker {other:?}")),
        }
    }

    /// A whole listeners file: parsed, neutral rules, every listener on
    /// every profile.
    fn whole_file(text: &str, format: Format) -> Result<(), String> {
        let file = ConfigFile::from_text(text, format, "snippet".as_ref()).map_err(|e| e.to_string())?;
        for (name, profile) in &file.profiles {
            let rejections = cloud_listeners::check_set(profile, &file.listeners).map_err(|e| e.to_string())?;
            if !rejections.is_empty() {
                return Err(format!("profile `{name}` rejects: {rejections:?}"));
            }
        }
        Ok(())
    }

    /// A sample profile of `api`, for checking a listener fragment.
    fn profile(api: &str) -> Result<ProfileConfig, String> {
        let (instance, region) = match api {
            "tencent-gaap" => ("link-doc00001", None),
            "tencent-clb" => ("lb-doc00001", Some("ap-guangzhou")),
            "alibaba-alb" => ("alb-doc0000001", Some("cn-hangzhou")),
            "alibaba-ga" => ("ga-doc0000001", None),
            other => return Err(format!("unknown API `{other}` in a snippet marker")),
        };
        let mut p = ProfileConfig::new(api, instance);
        p.region = region.map(str::to_string);
        Ok(p)
    }

    /// A fragment of one listener laid over a minimal TCP listener.
    fn listener(text: &str, format: Format, api: Option<&str>) -> Result<(), String> {
        let fragment = match data(text, format)? {
            Value::Object(m) => m,
            other => return Err(format!("a listener fragment is a table, not {other}")),
        };
        let mut spec = match json!({ "name": "snippet", "protocol": "tcp", "ports": 80 }) {
            Value::Object(m) => m,
            _ => unreachable!("an object literal"),
        };
        for (key, value) in fragment {
            match (key.as_str(), value) {
                // `[listeners.…]` sections of the one listener.
                ("listeners", Value::Object(inner)) => merge(&mut spec, inner),
                (_, value) => {
                    spec.insert(key, value);
                }
            }
        }
        let doc = json!({ "listeners": [Value::Object(spec)] });
        let file: ConfigFile = serde_json::from_value(doc).map_err(|e| e.to_string())?;
        let violations = file.violations();
        if !violations.is_empty() {
            return Err(format!("{violations:?}"));
        }
        if let Some(api) = api {
            let spec: &ListenerSpec = &file.listeners[0];
            let rejections = cloud_listeners::check(&profile(api)?, spec).map_err(|e| e.to_string())?;
            if !rejections.is_empty() {
                return Err(format!("{api} rejects: {rejections:?}"));
            }
        }
        Ok(())
    }

    fn merge(into: &mut Map<String, Value>, from: Map<String, Value>) {
        for (k, v) in from {
            match (into.get_mut(&k), v) {
                (Some(Value::Object(a)), Value::Object(b)) => merge(a, b),
                (_, v) => {
                    into.insert(k, v);
                }
            }
        }
    }
}
