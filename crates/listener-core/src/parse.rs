//! Reading documents in TOML, YAML or JSON with errors that point somewhere.
//!
//! Every error names the field path (`listeners[1].tls.certificates`) and,
//! where the format reports it, the line and column, so a user can jump to
//! the problem instead of bisecting the file.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::{ConfigFile, InlineCredentials, ProfileConfig};
use crate::spec::ListenerSpec;

/// A document format, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `.toml`
    Toml,
    /// `.yaml` / `.yml`
    Yaml,
    /// `.json`
    Json,
}

impl Format {
    /// The format of `path` by its extension.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// The largest file read, in bytes. Real files hold a few hundred
/// listeners (vendors allow 50 per instance); 10 MiB is about 100,000
/// listeners, and anything larger is refused before it is parsed so a
/// mistaken path (a log, a dump) costs nothing.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;

/// The deepest nesting of lists and tables accepted. A listener is about
/// six levels deep; the YAML parser's cost grows with the square of the
/// depth (a 200 KB file of brackets took minutes), so deeper documents are
/// refused by a linear scan before any parser sees them.
pub const MAX_DEPTH: usize = 64;

/// What kind of problem a [`ParseError`] is, for callers that branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ParseErrorKind {
    /// The text is not valid TOML, YAML or JSON.
    Syntax,
    /// The document is valid but a field has the wrong name, type or value.
    Shape,
    /// The file is larger than [`MAX_FILE_BYTES`].
    TooLarge,
    /// Lists and tables nest deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The file is not UTF-8.
    Encoding,
}

impl ParseErrorKind {
    /// A stable name, for rule columns and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ParseErrorKind::Syntax => "syntax",
            ParseErrorKind::Shape => "shape",
            ParseErrorKind::TooLarge => "too_large",
            ParseErrorKind::TooDeep => "too_deep",
            ParseErrorKind::Encoding => "encoding",
        }
    }
}

/// A document that could not be read into the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// The format that was being read.
    pub format: Format,
    /// What kind of problem this is.
    pub kind: ParseErrorKind,
    /// Path of the field where reading failed, when known.
    pub path: Option<String>,
    /// 1-based line, when the format reports it.
    pub line: Option<usize>,
    /// 1-based column, when the format reports it.
    pub column: Option<usize>,
    /// What the parser said.
    pub message: String,
}

impl ParseError {
    fn new(format: Format, kind: ParseErrorKind, message: impl Into<String>) -> Self {
        ParseError {
            format,
            kind,
            path: None,
            line: None,
            column: None,
            message: message.into(),
        }
    }

    fn at(mut self, text: &str, offset: usize) -> Self {
        let (l, c) = line_col(text, offset);
        self.line = Some(l);
        self.column = Some(c);
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}")?;
            if let Some(col) = self.column {
                write!(f, ", column {col}")?;
            }
            write!(f, ": ")?;
        }
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// The file's bytes as text: refused when larger than [`MAX_FILE_BYTES`]
/// or not UTF-8 (with the line and column of the first bad byte).
pub fn decode(bytes: &[u8], format: Format) -> Result<&str, ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(format, bytes.len()));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        ParseError::new(
            format,
            ParseErrorKind::Encoding,
            format!(
                "the file is not UTF-8: invalid byte 0x{:02x} at byte offset {at}",
                bytes[at]
            ),
        )
        .at(valid, at)
    })
}

/// Read a file as text within the limits of [`decode`], without reading
/// more than [`MAX_FILE_BYTES`] + 1 bytes of it.
pub fn read_file(path: &Path, format: Format) -> std::io::Result<Result<String, ParseError>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_FILE_BYTES {
        let size = std::fs::metadata(path).map_or(bytes.len(), |m| m.len() as usize);
        return Ok(Err(too_large(format, size)));
    }
    Ok(decode(&bytes, format).map(str::to_string))
}

fn too_large(format: Format, size: usize) -> ParseError {
    ParseError::new(
        format,
        ParseErrorKind::TooLarge,
        format!(
            "the file is {size} bytes; listeners files are limited to {MAX_FILE_BYTES} bytes ({} MiB)",
            MAX_FILE_BYTES / (1024 * 1024)
        ),
    )
}

/// Refuse text over [`MAX_FILE_BYTES`] or nested deeper than
/// [`MAX_DEPTH`], in one pass over the text, before any parser runs.
pub fn check_limits(text: &str, format: Format) -> Result<(), ParseError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(too_large(format, text.len()));
    }
    match too_deep(text, format) {
        Some(offset) => Err(ParseError::new(
            format,
            ParseErrorKind::TooDeep,
            format!(
                "lists and tables nest more than {MAX_DEPTH} levels deep here; a listeners file needs fewer than ten"
            ),
        )
        .at(text, offset)),
        None => Ok(()),
    }
}

/// The byte offset where nesting first exceeds [`MAX_DEPTH`], if it does.
///
/// Counts flow brackets (`[`, `{`) outside strings and comments in every
/// format, plus YAML's block nesting: indentation levels and compact
/// `- - x` items. An estimate (a block scalar's indented lines count as
/// levels), erring towards counting too deep, which at a limit ten times
/// what a file needs refuses nothing real.
fn too_deep(text: &str, format: Format) -> Option<usize> {
    let yaml = format == Format::Yaml;
    let b = text.as_bytes();
    let mut flow = 0usize;
    let mut block: Vec<usize> = Vec::new();
    let mut i = 0;
    let mut line_start = true;
    // Last character that was not a space on this line (YAML quoting).
    let mut prev = b'\n';
    while i < b.len() {
        if yaml && line_start && flow == 0 {
            let mut k = i;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            let blank = k >= b.len() || matches!(b[k], b'\n' | b'\r' | b'#');
            if !blank {
                let col = k - i;
                while block.last().is_some_and(|&c| c > col) {
                    block.pop();
                }
                if block.last() != Some(&col) {
                    block.push(col);
                }
                // `- - x` and `? x` open a level per indicator.
                while k + 1 < b.len() && matches!(b[k], b'-' | b'?') && b[k + 1] == b' ' {
                    k += 1;
                    while k < b.len() && b[k] == b' ' {
                        k += 1;
                    }
                    block.push(k - i);
                    if block.len() > MAX_DEPTH {
                        return Some(k);
                    }
                }
                if block.len() + flow > MAX_DEPTH {
                    return Some(k);
                }
                i = k;
            }
        }
        // A compact `- ` item can run to the end of the text.
        if i >= b.len() {
            break;
        }
        line_start = false;
        let c = b[i];
        match c {
            b'\n' => {
                line_start = true;
                prev = b'\n';
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' if format == Format::Toml
                || (yaml && matches!(b.get(i.wrapping_sub(1)), None | Some(b' ' | b'\t' | b'\n'))) =>
            {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' if !yaml || matches!(prev, b'\n' | b':' | b'-' | b'[' | b'{' | b',' | b'?') => {
                // Skip the string; a backslash escapes in double quotes.
                i += 1;
                while i < b.len() && b[i] != c {
                    if c == b'"' && b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                flow += 1;
                if flow + block.len() > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => flow = flow.saturating_sub(1),
            _ => {}
        }
        prev = c;
        i += 1;
    }
    None
}

/// Read `text` as `T` in `format`.
pub fn from_str<T: DeserializeOwned>(text: &str, format: Format) -> Result<T, ParseError> {
    check_limits(text, format)?;
    match format {
        Format::Toml => from_toml(text),
        Format::Yaml => from_yaml(text),
        Format::Json => from_json(text),
    }
}

/// Read a listeners file, reporting **every** problem the parsers can
/// recover from rather than the first: every TOML syntax error, then each
/// profile and each listener read on its own, so two typos in two
/// listeners and one in a profile are three errors, each with its path.
///
/// The document is read into an untyped tree first (YAML merge keys `<<`
/// are applied there), then each part into its type. A profile's
/// `certificates`, `targets` and `inline_credentials` are read apart from
/// the rest of it, so their errors name their own path (the profile type
/// flattens the alias maps, which hides the path of errors inside them),
/// and no error ever shows a value written under `inline_credentials`.
///
/// Errors carry a line where the parser knows one (syntax errors); errors
/// found in the tree carry the path only, which a caller holding a
/// position index (the CLI's locator) turns into a line.
pub fn config_from_str(text: &str, format: Format) -> Result<ConfigFile, Vec<ParseError>> {
    check_limits(text, format).map_err(|e| vec![e])?;
    let tree = tree(text, format)?;
    let mut root = match tree {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            return Err(vec![shape(
                format,
                None,
                format!(
                    "the document is {}; a listeners file is a table with `profiles` and `listeners`",
                    kind_of(&other)
                ),
            )])
        }
    };
    let mut errors = Vec::new();
    let listeners = root.shift_remove("listeners");
    let profiles = root.shift_remove("profiles");
    let backends = root.shift_remove("backends");
    let top: Option<ConfigFile> = typed(Value::Object(root), "", format, &mut errors);

    let listeners = match listeners {
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .filter_map(|(i, item)| listener(item, i, format, &mut errors))
            .collect(),
        Some(other) => typed(other, "listeners", format, &mut errors).unwrap_or_default(),
        None => Vec::new(),
    };

    let profiles = match profiles {
        Some(Value::Object(map)) => map
            .into_iter()
            .filter_map(|(name, v)| profile(&name, v, format, &mut errors).map(|p| (name, p)))
            .collect(),
        Some(other) => typed(other, "profiles", format, &mut errors).unwrap_or_default(),
        None => BTreeMap::new(),
    };

    // Each backend on its own, so two bad pools are two errors.
    let backends = match backends {
        Some(Value::Object(map)) => map
            .into_iter()
            .filter_map(|(name, v)| typed(v, &format!("backends.{name}"), format, &mut errors).map(|b| (name, b)))
            .collect(),
        Some(other) => typed(other, "backends", format, &mut errors).unwrap_or_default(),
        None => BTreeMap::new(),
    };

    match top {
        Some(mut file) if errors.is_empty() => {
            file.listeners = listeners;
            file.profiles = profiles;
            file.backends = backends;
            Ok(file)
        }
        _ => Err(errors),
    }
}

/// The document as an untyped tree; syntax errors with their positions.
fn tree(text: &str, format: Format) -> Result<Value, Vec<ParseError>> {
    match format {
        Format::Toml => {
            let (table, errs) = toml::de::DeTable::parse_recoverable(text);
            if !errs.is_empty() {
                return Err(errs
                    .into_iter()
                    .map(|e| toml_error(text, e, None, ParseErrorKind::Syntax))
                    .collect());
            }
            Ok(toml_tree(table.get_ref()))
        }
        Format::Yaml => {
            let de = serde_yaml_ng::Deserializer::from_str(text);
            let mut value: serde_yaml_ng::Value = serde_path_to_error::deserialize(de).map_err(|e| {
                // A number no field can hold (beyond 64 bits) fails here,
                // before any type is known; the path still says where.
                let path = clean_path(e.path());
                let kind = if path.is_some() {
                    ParseErrorKind::Shape
                } else {
                    ParseErrorKind::Syntax
                };
                let mut err = yaml_error(e.into_inner(), path, kind);
                if let Some(p) = &err.path {
                    if let Some(rest) = err.message.strip_prefix(p.as_str()).and_then(|m| m.strip_prefix(": ")) {
                        err.message = rest.to_string();
                    }
                }
                if err.message.contains("as u128") || err.message.contains("as i128") {
                    let ports = err.path.as_deref().is_some_and(|p| p.contains("ports"));
                    err.message = if ports {
                        "the number is not a port number: ports are whole numbers from 1 to 65535".into()
                    } else {
                        "the number is too large for any field".into()
                    };
                }
                redact(&mut err, &[]);
                vec![err]
            })?;
            value
                .apply_merge()
                .map_err(|e| vec![yaml_error(e, None, ParseErrorKind::Syntax)])?;
            serde_json::to_value(value).map_err(|e| vec![shape(format, None, e.to_string())])
        }
        Format::Json => serde_json::from_str(text).map_err(|e| {
            let mut message = e.to_string();
            if let Some(idx) = message.find(" at line ") {
                message.truncate(idx);
            }
            vec![ParseError {
                format,
                kind: ParseErrorKind::Syntax,
                path: None,
                line: Some(e.line()),
                column: Some(e.column()),
                message,
            }]
        }),
    }
}

/// A TOML table as a tree. Integers beyond 64 bits become floats rather
/// than failing the whole document, so the field they are in reports them.
fn toml_tree(table: &toml::de::DeTable<'_>) -> Value {
    Value::Object(
        table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), toml_value(v.get_ref())))
            .collect(),
    )
}

fn toml_value(v: &toml::de::DeValue<'_>) -> Value {
    use toml::de::DeValue;
    let float = |s: &str| {
        s.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number)
    };
    match v {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            .or_else(|_| u64::from_str_radix(i.as_str(), i.radix()).map(Value::from))
            .unwrap_or_else(|_| float(i.as_str())),
        DeValue::Float(f) => float(f.as_str()),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(|x| toml_value(x.get_ref())).collect()),
        DeValue::Table(t) => toml_tree(t),
    }
}

/// One listener, with port numbers outside what a port can be reported
/// as such (the typed reading would say "did not match any variant").
fn listener(mut item: Value, i: usize, format: Format, errors: &mut Vec<ParseError>) -> Option<ListenerSpec> {
    let prefix = format!("listeners[{i}]");
    let before = errors.len();
    if let Some(ports) = item.get_mut("ports") {
        check_ports(ports, &format!("{prefix}.ports"), format, errors);
    }
    let spec = typed(item, &prefix, format, errors);
    if errors.len() > before {
        None
    } else {
        spec
    }
}

/// Report (and replace by 0, so the rest of the listener is still read)
/// every port number that is not a whole number a port could be.
fn check_ports(v: &mut Value, path: &str, format: Format, errors: &mut Vec<ParseError>) {
    match v {
        Value::Number(n) if n.as_u64().is_none_or(|p| p > u64::from(u32::MAX)) => {
            errors.push(shape(
                format,
                Some(path.to_string()),
                format!("port {n} is not a port number: ports are whole numbers from 1 to 65535"),
            ));
            *v = Value::from(0);
        }
        Value::Array(items) => {
            for (k, item) in items.iter_mut().enumerate() {
                check_ports(item, &format!("{path}[{k}]"), format, errors);
            }
        }
        Value::Object(map) => {
            for bound in ["from", "to"] {
                if let Some(b @ Value::Number(_)) = map.get_mut(bound) {
                    check_ports(b, &format!("{path}.{bound}"), format, errors);
                }
            }
        }
        _ => {}
    }
}

/// Keys of a profile read apart from the rest (see [`config_from_str`]).
const CREDENTIALS: &str = "inline_credentials";

/// One profile, its alias maps and credentials read on their own.
fn profile(name: &str, v: Value, format: Format, errors: &mut Vec<ParseError>) -> Option<ProfileConfig> {
    let prefix = format!("profiles.{name}");
    // Every scalar under the credentials, to be scrubbed from any message.
    let mut secrets = Vec::new();
    if let Some(c) = v.get(CREDENTIALS) {
        scalars(c, &mut secrets);
    }
    let before = errors.len();
    let parsed = match v {
        Value::Object(mut map) => {
            let creds = map.shift_remove(CREDENTIALS);
            let certificates = map.shift_remove("certificates");
            let targets = map.shift_remove("targets");
            let base: Option<ProfileConfig> = typed(Value::Object(map), &prefix, format, errors);
            let creds: Option<Option<InlineCredentials>> = match creds {
                Some(c) => typed(c, &format!("{prefix}.{CREDENTIALS}"), format, errors).map(Some),
                None => Some(None),
            };
            let certificates = alias_map(certificates, &format!("{prefix}.certificates"), format, errors);
            let targets = alias_map(targets, &format!("{prefix}.targets"), format, errors);
            match (base, creds, certificates, targets) {
                (Some(mut p), Some(creds), Some(certificates), Some(targets)) => {
                    p.inline_credentials = creds;
                    p.aliases.certificates = certificates;
                    p.aliases.targets = targets;
                    Some(p)
                }
                _ => None,
            }
        }
        other => typed(other, &prefix, format, errors),
    };
    for e in &mut errors[before..] {
        redact(e, &secrets);
    }
    parsed
}

fn alias_map(
    v: Option<Value>,
    path: &str,
    format: Format,
    errors: &mut Vec<ParseError>,
) -> Option<BTreeMap<String, String>> {
    match v {
        Some(v) => typed(v, path, format, errors),
        None => Some(BTreeMap::new()),
    }
}

fn scalars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| scalars(i, out)),
        Value::Object(map) => map.values().for_each(|i| scalars(i, out)),
        Value::Null => {}
        Value::String(s) => out.push(s.clone()),
        other => out.push(other.to_string()),
    }
}

/// No error shows a value written under the credentials: an error inside
/// them keeps only what was expected, and any credential value that still
/// appears (a parser quoting it elsewhere) is replaced.
fn redact(e: &mut ParseError, secrets: &[String]) {
    let inside = e
        .path
        .as_deref()
        .is_some_and(|p| p.split(['.', '[']).any(|seg| seg == CREDENTIALS));
    if inside && !e.message.starts_with("unknown field") && !e.message.starts_with("missing field") {
        let expected = e.message.find("expected ").map(|i| e.message[i..].to_string());
        e.message = match expected {
            Some(exp) => format!("wrong type or value (not shown: it is a credential); {exp}"),
            None => "wrong type or value (not shown: it is a credential)".to_string(),
        };
    }
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        if e.message.contains(s.as_str()) {
            e.message = e.message.replace(s.as_str(), "<redacted>");
        }
    }
}

/// `value` as `T`; on failure an error at `prefix` + the failing path.
fn typed<T: DeserializeOwned>(value: Value, prefix: &str, format: Format, errors: &mut Vec<ParseError>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let inner = clean_path(e.path());
            let mut path = match (prefix.is_empty(), inner) {
                (true, p) => p,
                (false, None) => Some(prefix.to_string()),
                (false, Some(p)) if p.starts_with('[') => Some(format!("{prefix}{p}")),
                (false, Some(p)) => Some(format!("{prefix}.{p}")),
            };
            let message = e.into_inner().to_string();
            // A flattened struct reports an unknown field at its parent.
            if let Some(name) = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
            {
                let ends = path.as_deref().is_some_and(|p| p.ends_with(name));
                if !ends {
                    path = Some(match path {
                        Some(p) => format!("{p}.{name}"),
                        None => name.to_string(),
                    });
                }
            }
            errors.push(shape(format, path, message));
            None
        }
    }
}

fn shape(format: Format, path: Option<String>, message: String) -> ParseError {
    ParseError {
        path,
        ..ParseError::new(format, ParseErrorKind::Shape, message)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

/// Write `value` in `format`.
pub fn to_string<T: Serialize>(value: &T, format: Format) -> Result<String, String> {
    match format {
        Format::Toml => toml::to_string(value).map_err(|e| e.to_string()),
        Format::Yaml => serde_yaml_ng::to_string(value).map_err(|e| e.to_string()),
        Format::Json => serde_json::to_string_pretty(value).map_err(|e| e.to_string()),
    }
}

fn clean_path(p: &serde_path_to_error::Path) -> Option<String> {
    let s = p.to_string().replace(".?", "").replace('?', "");
    if s == "." || s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

fn toml_error(text: &str, e: toml::de::Error, path: Option<String>, kind: ParseErrorKind) -> ParseError {
    let err = ParseError {
        path,
        ..ParseError::new(Format::Toml, kind, e.message().trim())
    };
    match e.span() {
        Some(span) => err.at(text, span.start),
        None => err,
    }
}

fn yaml_error(e: serde_yaml_ng::Error, path: Option<String>, kind: ParseErrorKind) -> ParseError {
    let loc = e.location();
    let mut message = e.to_string();
    // The YAML error text repeats the location; keep only the reason.
    if let Some(idx) = message.find(" at line ") {
        message.truncate(idx);
    }
    ParseError {
        format: Format::Yaml,
        kind,
        path,
        line: loc.as_ref().map(|l| l.line()),
        column: loc.as_ref().map(|l| l.column()),
        message,
    }
}

fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, e, None, ParseErrorKind::Syntax))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_path(e.path());
        toml_error(text, e.into_inner(), path, ParseErrorKind::Shape)
    })
}

fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_path(e.path());
        yaml_error(e.into_inner(), path, ParseErrorKind::Shape)
    })
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = clean_path(e.path());
        let inner = e.into_inner();
        let mut message = inner.to_string();
        if let Some(idx) = message.find(" at line ") {
            message.truncate(idx);
        }
        ParseError {
            format: Format::Json,
            kind: ParseErrorKind::Shape,
            path,
            line: Some(inner.line()),
            column: Some(inner.column()),
            message,
        }
    })?;
    de.end().map_err(|inner| ParseError {
        format: Format::Json,
        kind: ParseErrorKind::Syntax,
        path: None,
        line: Some(inner.line()),
        column: Some(inner.column()),
        message: "trailing characters after the document".into(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_yaml_item_indicator_at_the_end_of_the_text_does_not_panic() {
        assert_eq!(super::too_deep("a:\n  - ", super::Format::Yaml), None);
    }

    use super::*;

    #[test]
    fn toml_unknown_field_names_field_and_line() {
        let text = "name = \"a\"\nprotocol = \"tcp\"\nports = 80\nprotcol = \"udp\"\n";
        let err = from_str::<ListenerSpec>(text, Format::Toml).unwrap_err();
        assert!(err.message.contains("protcol"), "{err}");
        assert_eq!(err.line, Some(4));
    }

    #[test]
    fn yaml_bad_value_names_path_and_line() {
        let text = "name: a\nprotocol: tcp\nports: 80\ntls:\n  http2: maybe\n";
        let err = from_str::<ListenerSpec>(text, Format::Yaml).unwrap_err();
        assert_eq!(err.path.as_deref(), Some("tls.http2"));
        assert_eq!(err.line, Some(5));
    }

    #[test]
    fn json_reports_line_and_column() {
        let err = from_str::<ListenerSpec>("{\"name\": \"a\",\n \"protocol\": 5}", Format::Json).unwrap_err();
        assert_eq!(err.path.as_deref(), Some("protocol"));
        assert_eq!(err.line, Some(2));
    }

    #[test]
    fn config_reports_every_listener_and_profile_error_with_its_path() {
        let text = "[profiles.a]\napi = \"x\"\ninstance = \"i\"\nregoin = \"r\"\n\n[[listeners]]\nname = \"a\"\nprotocol = \"tcp\"\nprots = 1\n\n[[listeners]]\nname = \"b\"\nprotocol = \"tcp\"\nports = 2\n\n[[listeners]]\nname = \"c\"\nprotocl = \"tcp\"\nports = 3\n";
        let errs = config_from_str(text, Format::Toml).unwrap_err();
        let mut paths: Vec<_> = errs.iter().filter_map(|e| e.path.clone()).collect();
        paths.sort();
        assert_eq!(
            paths,
            ["listeners[0].prots", "listeners[2].protocl", "profiles.a.regoin"]
        );
        assert!(errs.iter().all(|e| e.kind == ParseErrorKind::Shape));
    }

    #[test]
    fn credential_values_are_redacted_from_type_errors() {
        for (text, format) in [
            (
                "[profiles.a]\napi = \"x\"\ninstance = \"i\"\ninline_credentials = { key_id = \"k\", secret = 1234567890123 }\n",
                Format::Toml,
            ),
            (
                "profiles:\n  a:\n    api: x\n    instance: i\n    inline_credentials: {key_id: k, secret: 1234567890123}\n",
                Format::Yaml,
            ),
            (
                "{\"profiles\": {\"a\": {\"api\": \"x\", \"instance\": \"i\", \"inline_credentials\": {\"key_id\": \"k\", \"secret\": 1234567890123}}}}",
                Format::Json,
            ),
        ] {
            let errs = config_from_str(text, format).unwrap_err();
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].path.as_deref(), Some("profiles.a.inline_credentials.secret"));
            assert!(!errs[0].to_string().contains("1234567890123"), "{}", errs[0]);
        }
    }

    #[test]
    fn limits_refuse_deep_and_oversize_text() {
        let deep = format!("a: {}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(
            check_limits(&deep, Format::Yaml).unwrap_err().kind,
            ParseErrorKind::TooDeep
        );
        let fine = format!("a: {}{}", "[".repeat(60), "]".repeat(60));
        assert!(check_limits(&fine, Format::Yaml).is_ok());
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        assert_eq!(decode(&big, Format::Toml).unwrap_err().kind, ParseErrorKind::TooLarge);
        let bad = decode(b"a = 1\nb = \"\xff\"\n", Format::Toml).unwrap_err();
        assert_eq!(
            (bad.kind, bad.line, bad.column),
            (ParseErrorKind::Encoding, Some(2), Some(6))
        );
    }
}
