//! Management marks: how a listener made through this crate says who made
//! it, in a field the vendor keeps.
//!
//! Prune on an instance several teams share must not delete what another
//! team (or a person at the console) made. The cloud is the only state, so
//! the listener itself carries the answer: every listener this crate
//! creates holds its profile's *owner* in a mark, and `--prune` deletes
//! only listeners marked with this profile's owner.
//!
//! Where the mark lives is the adapter's choice, by what the vendor keeps
//! (a listener tag where the API has them, otherwise a description or a
//! name suffix); the conventions are fixed here so every adapter writes
//! and reads them the same way. Reading back strips the mark, so the
//! neutral spec round-trips and a second plan is empty; the owner comes
//! back in [`crate::Listener::owner`].
//!
//! The owner's alphabet is the intersection of what every carrier takes
//! (a CLB name takes letters, digits, `-` and `_`; an ALB tag value 128
//! characters; a GA description anything but a URL start), and it is kept
//! short because a name suffix eats into the vendor's name length.

/// The owner of a profile that names none. Teams sharing an instance set
/// their own (`owner = "team-a"`) so their prunes leave each other alone.
pub const DEFAULT_OWNER: &str = "default";

/// Longest owner, in characters: a name mark is [`NAME_MARK`] plus the
/// owner, and GAAP's layer-4 names are 30 characters in all.
pub const MAX_OWNER_CHARS: usize = 12;

/// The listener tag key holding the owner, on APIs with listener tags.
/// User tags under [`RESERVED_TAG_PREFIX`] are refused, so no file can set
/// or remove it.
pub const TAG_KEY: &str = "cloud-listeners:managed";

/// Tag keys reserved for marks.
pub const RESERVED_TAG_PREFIX: &str = "cloud-listeners:";

/// What separates a name from its owner in a name mark: `web--lctl_team-a`.
pub const NAME_MARK: &str = "--lctl_";

/// The name mark of [`DEFAULT_OWNER`]: `web--lctl`. Most files name no
/// owner, and a name suffix eats into the vendor's name length (GAAP's
/// layer-4 names may be as short as 30 characters), so the default
/// owner's mark is the 6 characters of the bare separator rather than 14.
pub const DEFAULT_NAME_MARK: &str = "--lctl";

/// Start of a description mark: `edge [cloud-listeners:team-a]`.
const DESCRIPTION_OPEN: &str = "[cloud-listeners:";

/// Why `owner` cannot be an owner, if it cannot: 1 to
/// [`MAX_OWNER_CHARS`] characters of lower-case ASCII letters, digits and
/// `-`, starting with a letter (the characters a CLB or GAAP name, an ALB
/// tag value and a GA description all take).
pub fn owner_problem(owner: &str) -> Option<String> {
    let n = owner.chars().count();
    if n == 0 || n > MAX_OWNER_CHARS {
        return Some(format!(
            "an owner is 1 to {MAX_OWNER_CHARS} characters (it becomes part of listener names on some APIs), `{owner}` has {n}"
        ));
    }
    if !owner.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Some(format!("an owner starts with a lower-case letter: `{owner}`"));
    }
    if let Some(c) = owner
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "an owner is lower-case letters, digits and `-` (what every API's mark takes); `{owner}` has `{c}`"
        ));
    }
    None
}

/// Check an owner, naming the profile field.
pub fn check_owner(owner: &str) -> Result<(), crate::Error> {
    match owner_problem(owner) {
        Some(message) => Err(crate::Error::Config {
            field: "owner".into(),
            message,
        }),
        None => Ok(()),
    }
}

/// How many characters a name mark for `owner` adds.
pub fn name_mark_len(owner: &str) -> usize {
    name_mark(owner).chars().count()
}

/// The suffix that marks a name as `owner`'s.
fn name_mark(owner: &str) -> String {
    if owner == DEFAULT_OWNER {
        DEFAULT_NAME_MARK.to_string()
    } else {
        format!("{NAME_MARK}{owner}")
    }
}

/// `name` carrying `owner`'s mark.
pub fn mark_name(name: &str, owner: &str) -> String {
    format!("{name}{}", name_mark(owner))
}

/// A name as read back: the neutral name and the owner of its mark, if it
/// carries one (a suffix whose owner is not a valid owner is no mark).
pub fn split_name(name: &str) -> (String, Option<String>) {
    if let Some(bare) = name.strip_suffix(DEFAULT_NAME_MARK) {
        return (bare.to_string(), Some(DEFAULT_OWNER.to_string()));
    }
    if let Some(at) = name.rfind(NAME_MARK) {
        let owner = &name[at + NAME_MARK.len()..];
        if owner_problem(owner).is_none() {
            return (name[..at].to_string(), Some(owner.to_string()));
        }
    }
    (name.to_string(), None)
}

/// Whether a user's name would read back as marked: such a name is refused
/// on APIs that mark names, or it would lose its tail on the way back.
pub fn name_looks_marked(name: &str) -> bool {
    name.contains(NAME_MARK) || name.ends_with(DEFAULT_NAME_MARK)
}

/// `description` (the user's, if any) carrying `owner`'s mark.
pub fn mark_description(description: Option<&str>, owner: &str) -> String {
    match description {
        Some(d) if !d.is_empty() => format!("{d} {DESCRIPTION_OPEN}{owner}]"),
        _ => format!("{DESCRIPTION_OPEN}{owner}]"),
    }
}

/// How many characters a description mark adds to `description`.
pub fn description_mark_len(description: Option<&str>, owner: &str) -> usize {
    let base = description.map(|d| d.chars().count()).unwrap_or(0);
    mark_description(description, owner).chars().count() - base
}

/// A description as read back: the neutral description (`None` when only
/// the mark was there) and the owner of its mark, if it carries one.
pub fn split_description(description: &str) -> (Option<String>, Option<String>) {
    let neutral = |d: &str| (!d.is_empty()).then(|| d.to_string());
    if let Some(body) = description.strip_suffix(']') {
        if let Some(at) = body.rfind(DESCRIPTION_OPEN) {
            let owner = &body[at + DESCRIPTION_OPEN.len()..];
            if owner_problem(owner).is_none() {
                let rest = &body[..at];
                let rest = rest.strip_suffix(' ').unwrap_or(rest);
                return (neutral(rest), Some(owner.to_string()));
            }
        }
    }
    (neutral(description), None)
}

/// Whether a user's description would read back as marked.
pub fn description_looks_marked(description: &str) -> bool {
    description.contains(DESCRIPTION_OPEN)
}

/// Whether a user tag key is one the marks reserve.
pub fn is_reserved_tag(key: &str) -> bool {
    key.starts_with(RESERVED_TAG_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_short_lower_case_words() {
        for ok in ["a", "team-a", "default", "abcdefghijkl", "t1"] {
            assert_eq!(owner_problem(ok), None, "{ok}");
        }
        for bad in ["", "Team", "1team", "team_a", "team a", "abcdefghijklm", "tëam", "-a"] {
            assert!(owner_problem(bad).is_some(), "{bad}");
        }
        let e = check_owner("Team").unwrap_err();
        assert!(matches!(e, crate::Error::Config { ref field, .. } if field == "owner"));
    }

    #[test]
    fn a_marked_name_reads_back_as_the_name_and_its_owner() {
        let marked = mark_name("web", "team-a");
        assert_eq!(marked, "web--lctl_team-a");
        assert_eq!(split_name(&marked), ("web".to_string(), Some("team-a".to_string())));
        assert_eq!(name_mark_len("team-a"), marked.len() - 3);
        // Names with dashes and underscores of their own keep them.
        let marked = mark_name("a--b_c", "team-b");
        assert_eq!(split_name(&marked), ("a--b_c".to_string(), Some("team-b".to_string())));
    }

    #[test]
    fn the_default_owner_has_the_short_mark() {
        let marked = mark_name("web", DEFAULT_OWNER);
        assert_eq!(marked, "web--lctl");
        assert_eq!(name_mark_len(DEFAULT_OWNER), 6);
        assert_eq!(
            split_name(&marked),
            ("web".to_string(), Some(DEFAULT_OWNER.to_string()))
        );
        assert!(name_looks_marked("x--lctl"));
        assert!(!name_looks_marked("x--lct"));
    }

    #[test]
    fn an_unmarked_name_reads_back_unchanged() {
        for name in ["web", "web--lctl_", "web--lctl_Bad", "x--lctl_a_b", "web--lct"] {
            assert_eq!(split_name(name), (name.to_string(), None), "{name}");
        }
    }

    #[test]
    fn a_marked_description_reads_back_as_the_description_and_its_owner() {
        let marked = mark_description(Some("edge"), "team-a");
        assert_eq!(marked, "edge [cloud-listeners:team-a]");
        assert_eq!(split_description(&marked), (Some("edge".into()), Some("team-a".into())));
        let only = mark_description(None, "team-a");
        assert_eq!(only, "[cloud-listeners:team-a]");
        assert_eq!(split_description(&only), (None, Some("team-a".into())));
        assert_eq!(description_mark_len(Some("edge"), "team-a"), marked.len() - 4);
        assert_eq!(description_mark_len(None, "team-a"), only.len());
    }

    #[test]
    fn an_unmarked_description_reads_back_unchanged() {
        for d in ["edge", "edge [x]", "[cloud-listeners:Bad]", "a [cloud-listeners:team"] {
            assert_eq!(split_description(d), (Some(d.to_string()), None), "{d}");
        }
        assert_eq!(split_description(""), (None, None));
    }

    #[test]
    fn only_mark_tags_are_reserved() {
        assert!(is_reserved_tag(TAG_KEY));
        assert!(is_reserved_tag("cloud-listeners:other"));
        assert!(!is_reserved_tag("team"));
    }
}
