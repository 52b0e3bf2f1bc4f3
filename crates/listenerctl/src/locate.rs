//! From a field path to a line in the file.
//!
//! The core reports problems found after parsing (neutral rules, vendor
//! rejections) by path, `listeners[1].tls.certificates[0]`, because by then
//! the document is data and its positions are gone. A person still wants a
//! line to jump to, so the CLI reads the text once more, keeping positions,
//! and maps each path to where it is written. TOML keeps spans in its own
//! parser; YAML and JSON (a subset of YAML) go through a YAML event parser
//! that reports a position for every key and item.

use std::collections::HashMap;

use cloud_listeners::Format;
use toml::de::{DeTable, DeValue};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions of every key and list item of one document.
#[derive(Debug, Default, Clone)]
pub struct Locator {
    /// Normalised path → 1-based (line, column).
    positions: HashMap<String, (usize, usize)>,
}

impl Locator {
    /// Index `text`; a document that does not parse yields an empty index
    /// (the parse error then carries its own line).
    pub fn new(text: &str, format: Format) -> Locator {
        let mut positions = HashMap::new();
        match format {
            Format::Toml => {
                if let Ok(root) = DeTable::parse(text) {
                    let lines = LineIndex::new(text);
                    walk_toml_table(root.get_ref(), "", &lines, &mut positions);
                }
            }
            Format::Yaml | Format::Json => {
                let mut recv = YamlRecv::default();
                if Parser::new_from_str(text).load(&mut recv, false).is_ok() {
                    positions = recv.positions;
                }
            }
        }
        Locator { positions }
    }

    /// Where `path` is written; when the field itself is absent (a missing
    /// required field, a default), where its nearest written parent is.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut segments = split(path);
        while !segments.is_empty() {
            if let Some(pos) = self.positions.get(&join(&segments)) {
                return Some(*pos);
            }
            segments.pop();
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` → `[a, b, 2, c]`.
fn split(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            let key = &rest[..open];
            if !key.is_empty() {
                out.push(Segment::Key(key.to_string()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else { break };
                match stripped[..close].parse() {
                    Ok(i) => out.push(Segment::Index(i)),
                    Err(_) => out.push(Segment::Key(stripped[..close].to_string())),
                }
                rest = &stripped[close + 1..];
            }
        } else if !rest.is_empty() {
            out.push(Segment::Key(rest.to_string()));
        }
    }
    out
}

fn join(segments: &[Segment]) -> String {
    let mut s = String::new();
    for seg in segments {
        match seg {
            Segment::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Segment::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn child_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Byte offset → (line, column), both 1-based.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// The last answer `(offset, line, column)`: keys are visited in text
    /// order, so the next column is counted from here rather than from the
    /// start of the line (a one-line file of 50,000 listeners would
    /// otherwise be counted from its start for every key).
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex {
            text,
            starts,
            last: std::cell::Cell::new((0, 1, 0)),
        }
    }

    fn at(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let (last_offset, last_line, last_col) = self.last.get();
        let (from, base) = if last_line == line && last_offset <= offset && last_offset >= start {
            (last_offset, last_col)
        } else {
            (start, 0)
        };
        let col = base + self.text.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set((offset, line, col));
        (line, col + 1)
    }
}

fn walk_toml_table(table: &DeTable<'_>, path: &str, lines: &LineIndex<'_>, out: &mut HashMap<String, (usize, usize)>) {
    for (key, value) in table.iter() {
        let p = child_key(path, key.get_ref());
        out.entry(p.clone()).or_insert_with(|| lines.at(key.span().start));
        walk_toml_value(value.get_ref(), &p, lines, out);
    }
}

fn walk_toml_value(value: &DeValue<'_>, path: &str, lines: &LineIndex<'_>, out: &mut HashMap<String, (usize, usize)>) {
    match value {
        DeValue::Table(t) => walk_toml_table(t, path, lines, out),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{path}[{i}]");
                out.entry(p.clone()).or_insert_with(|| lines.at(item.span().start));
                walk_toml_value(item.get_ref(), &p, lines, out);
            }
        }
        _ => {}
    }
}

/// The container the YAML parser is inside.
#[derive(Debug)]
enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

#[derive(Debug, Default)]
struct YamlRecv {
    stack: Vec<Frame>,
    positions: HashMap<String, (usize, usize)>,
}

impl YamlRecv {
    /// Called for a node that is a value (not a mapping key): returns the
    /// node's path and records sequence items' positions.
    fn value_path(&mut self, mark: Marker) -> Option<String> {
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map { path, key }) => key.take().map(|k| child_key(path, &k)),
            Some(Frame::Seq { path, next }) => {
                let p = format!("{path}[{next}]");
                *next += 1;
                self.positions.entry(p.clone()).or_insert((mark.line(), mark.col() + 1));
                Some(p)
            }
        }
    }
}

impl MarkedEventReceiver for YamlRecv {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        // A scalar where a key is expected is the key itself.
        if let (Event::Scalar(text, ..), Some(Frame::Map { path, key: key @ None })) = (&ev, self.stack.last_mut()) {
            let p = child_key(path, text);
            *key = Some(text.clone());
            self.positions.entry(p).or_insert((mark.line(), mark.col() + 1));
            return;
        }
        match ev {
            Event::Scalar(..) | Event::Alias(..) => {
                self.value_path(mark);
            }
            Event::MappingStart(..) => {
                let path = self.value_path(mark).unwrap_or_default();
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(mark).unwrap_or_default();
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOML: &str = "default_profile = \"a\"\n\n[profiles.a]\napi = \"tencent-clb\"\ninstance = \"lb-1\"\n\n[[listeners]]\nname = \"one\"\nprotocol = \"tcp\"\nports = 80\n\n[[listeners]]\nname = \"two\"\nprotocol = \"https\"\nports = [443, 8443]\ntls = { certificates = [\"c\"] }\n";

    #[test]
    fn toml_paths_map_to_their_lines() {
        let l = Locator::new(TOML, Format::Toml);
        assert_eq!(l.find("default_profile").map(|p| p.0), Some(1));
        assert_eq!(l.find("profiles.a.instance").map(|p| p.0), Some(5));
        assert_eq!(l.find("listeners[0].ports").map(|p| p.0), Some(10));
        assert_eq!(l.find("listeners[1].ports[1]").map(|p| p.0), Some(15));
        assert_eq!(l.find("listeners[1].tls.certificates[0]").map(|p| p.0), Some(16));
    }

    #[test]
    fn columns_on_one_long_line_are_counted_from_the_line_start() {
        let text = "listeners = [{ name = \"\u{e9}\u{e9}\" }, { name = \"b\" }, { name = \"c\" }]\n";
        let l = Locator::new(text, Format::Toml);
        for i in 0..3 {
            let byte = text.match_indices("name").nth(i).map(|(b, _)| b).expect("key");
            let col = text[..byte].chars().count() + 1;
            assert_eq!(l.find(&format!("listeners[{i}].name")), Some((1, col)));
        }
    }

    #[test]
    fn absent_fields_point_at_their_nearest_parent() {
        let l = Locator::new(TOML, Format::Toml);
        assert_eq!(l.find("listeners[1].tls.client_auth"), l.find("listeners[1].tls"));
        assert_eq!(l.find("nothing.here"), None);
    }

    #[test]
    fn yaml_paths_map_to_their_lines() {
        let text = "profiles:\n  a:\n    api: tencent-clb\n    instance: lb-1\nlisteners:\n  - name: one\n    protocol: tcp\n    ports: 80\n  - name: two\n    protocol: https\n    ports:\n      - 443\n      - 8443\n    tls:\n      certificates: [c]\n";
        let l = Locator::new(text, Format::Yaml);
        assert_eq!(l.find("profiles.a.instance").map(|p| p.0), Some(4));
        assert_eq!(l.find("listeners[0].ports").map(|p| p.0), Some(8));
        assert_eq!(l.find("listeners[1].name").map(|p| p.0), Some(9));
        assert_eq!(l.find("listeners[1].ports[1]").map(|p| p.0), Some(13));
        assert_eq!(l.find("listeners[1].tls.certificates[0]").map(|p| p.0), Some(15));
    }

    #[test]
    fn json_paths_map_to_their_lines() {
        let text = "{\n  \"profiles\": {\"a\": {\"api\": \"x\", \"instance\": \"i\"}},\n  \"listeners\": [\n    {\"name\": \"one\",\n     \"ports\": 70000}\n  ]\n}\n";
        let l = Locator::new(text, Format::Json);
        assert_eq!(l.find("listeners[0].ports").map(|p| p.0), Some(5));
        assert_eq!(l.find("profiles.a.instance").map(|p| p.0), Some(2));
    }

    #[test]
    fn paths_split_into_keys_and_indices() {
        assert_eq!(
            split("listeners[2].tls.certificates[0]"),
            vec![
                Segment::Key("listeners".into()),
                Segment::Index(2),
                Segment::Key("tls".into()),
                Segment::Key("certificates".into()),
                Segment::Index(0),
            ]
        );
        assert_eq!(join(&split("a[1][2].b")), "a[1][2].b");
    }
}
