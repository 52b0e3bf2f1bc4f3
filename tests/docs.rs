//! Documentation stays in step with the code: a test fails when
//! `docs/capabilities.md` differs from what the compiled adapters declare
//! (regenerate with `UPDATE_DOCS=1 cargo test --test docs`), and when a
//! TOML or YAML snippet in `README.md` or `docs/` is one the tool refuses.

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
