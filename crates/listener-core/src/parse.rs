//! Reading documents in TOML, YAML or JSON with errors that point somewhere.
//!
//! Every error names the field path (`listeners[1].tls.certificates`) and,
//! where the format reports it, the line and column, so a user can jump to
//! the problem instead of bisecting the file.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

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

/// A document that could not be read into the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    /// The format that was being read.
    pub format: Format,
    /// Path of the field where reading failed, when known.
    pub path: Option<String>,
    /// 1-based line, when the format reports it.
    pub line: Option<usize>,
    /// 1-based column, when the format reports it.
    pub column: Option<usize>,
    /// What the parser said.
    pub message: String,
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

/// Read `text` as `T` in `format`.
pub fn from_str<T: DeserializeOwned>(text: &str, format: Format) -> Result<T, ParseError> {
    match format {
        Format::Toml => from_toml(text),
        Format::Yaml => from_yaml(text),
        Format::Json => from_json(text),
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
    let s = p.to_string();
    if s == "." || s.is_empty() || s == "?" {
        None
    } else {
        Some(s)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

fn from_toml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let toml_err = |e: toml::de::Error, path: Option<String>| {
        let (line, column) = match e.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        ParseError {
            format: Format::Toml,
            path,
            line,
            column,
            message: e.message().trim().to_string(),
        }
    };
    let de = toml::Deserializer::parse(text).map_err(|e| toml_err(e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_path(e.path());
        toml_err(e.into_inner(), path)
    })
}

fn from_yaml<T: DeserializeOwned>(text: &str) -> Result<T, ParseError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = clean_path(e.path());
        let inner = e.into_inner();
        let loc = inner.location();
        let mut message = inner.to_string();
        // The YAML error text repeats the location; keep only the reason.
        if let Some(idx) = message.find(" at line ") {
            message.truncate(idx);
        }
        ParseError {
            format: Format::Yaml,
            path,
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message,
        }
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
            path,
            line: Some(inner.line()),
            column: Some(inner.column()),
            message,
        }
    })?;
    de.end().map_err(|inner| ParseError {
        format: Format::Json,
        path: None,
        line: Some(inner.line()),
        column: Some(inner.column()),
        message: "trailing characters after the document".into(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ListenerSpec;

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
}
