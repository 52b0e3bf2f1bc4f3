//! Text for people: plans, listeners, results.
//!
//! JSON output is the core types serialized as they are; this module only
//! decides how the same data reads in a terminal, so nothing here changes
//! what a command does.

use std::fmt::Write as _;

use cloud_listeners::plan::{Action, Found, Plan, ResourceAction, ResourceKind, ResourceOp, ResourceSummary, Wanted};
use cloud_listeners::{FieldChange, Format, Listener, ListenerSpec};
use serde_json::Value;

/// `https 443` / `tcp 8000-8100`.
pub fn protocol_ports(spec: &ListenerSpec) -> String {
    format!("{} {}", spec.protocol, spec.ports)
}

/// A JSON value as it reads in a diff: strings quoted, absent as `(unset)`.
pub fn value(v: &Value) -> String {
    match v {
        Value::Null => "(unset)".to_string(),
        other => other.to_string(),
    }
}

/// Who the plan is for: `profile tencent-clb (tencent-clb, instance lb-1)`.
pub fn target(profile: &str, api: &str, instance: &str) -> String {
    if profile == api {
        format!("profile {profile} (instance {instance})")
    } else {
        format!("profile {profile} ({api}, instance {instance})")
    }
}

fn changes(out: &mut String, list: &[FieldChange], immutable: &[String]) {
    for c in list {
        let mark = if immutable.iter().any(|f| f == &c.path) {
            "  (cannot change in place)"
        } else {
            ""
        };
        let _ = writeln!(out, "        {}: {} -> {}{mark}", c.path, value(&c.from), value(&c.to));
    }
}

/// The name a plan row shows: the file's name for every listener the file
/// names. Some vendors do not read names back (ALB's are write-only and
/// come back generated, like `http-80`), so an unchanged listener's own
/// spec may carry a name the user never wrote.
fn row_name<'a>(action: &'a Action, file: &'a [ListenerSpec]) -> &'a str {
    match action {
        Action::Unchanged { index, current } => file.get(*index).map_or(current.spec.name.as_str(), |s| &s.name),
        other => &other.spec().name,
    }
}

/// One plan, action by action, then the counts. `file` is the file's
/// listeners, which the actions' indices point into.
pub fn plan(plan: &Plan, file: &[ListenerSpec], allow_replace: bool) -> String {
    let mut out = String::new();
    if plan.actions.is_empty() && plan.resources.is_empty() {
        out.push_str("  (no listeners in the file or on the instance)\n");
    }
    for a in &plan.actions {
        let spec = a.spec();
        let what = format!("{:<20} {}", row_name(a, file), protocol_ports(spec));
        match a {
            Action::Create { .. } => {
                let _ = writeln!(out, "  + create     {what}");
            }
            Action::Update {
                current, changes: c, ..
            } => {
                let _ = writeln!(out, "  ~ update     {what}  ({})", current.id);
                changes(&mut out, c, &[]);
            }
            Action::Replace {
                current,
                fields,
                changes: c,
                ..
            } => {
                let note = if allow_replace {
                    "delete, then create"
                } else {
                    "refused unless --allow-replace"
                };
                let _ = writeln!(
                    out,
                    "  ! replace    {what}  ({}): {} cannot change in place; {note}",
                    current.id,
                    fields.join(", ")
                );
                changes(&mut out, c, fields);
            }
            Action::Delete { current } => {
                let _ = writeln!(out, "  - delete     {what}  ({}): {}", current.id, mark(current));
            }
            Action::Unchanged { current, .. } => {
                let _ = writeln!(out, "  = unchanged  {what}  ({})", current.id);
            }
            Action::Unmanaged { current } => {
                let flag = if current.managed {
                    "--prune"
                } else {
                    "only --prune-unmanaged"
                };
                let _ = writeln!(
                    out,
                    "  ? unmanaged  {what}  ({}): not in the file, {}; kept ({flag} deletes it)",
                    current.id,
                    mark(current)
                );
            }
            Action::Kept { index, current, .. } => {
                let _ = writeln!(
                    out,
                    "  = kept       {what}  ({}): named by listeners[{index}], not managed here, {}; never pruned",
                    current.id,
                    mark(current)
                );
            }
        }
    }
    for r in &plan.resources {
        resource_row(&mut out, r);
    }
    out.push_str(&summary(plan));
    out
}

/// One pool or rule row: `+ create     pool web  (2 endpoints)`,
/// `~ update     rule shop:443 api.example.com/v1  (r-1)` with its changes.
fn resource_row(out: &mut String, r: &ResourceAction) {
    let what = format!("{} {}", r.kind.as_str(), r.name);
    let id = r.id.as_ref().map(|i| format!("  ({i})")).unwrap_or_default();
    let target = match (&r.desired, &r.current) {
        (Some(Wanted::Pool(p)), _) => format!("{} endpoint(s)", p.endpoints.len()),
        (Some(Wanted::Rule(rule)), _) => format!("-> {}", rule.backend),
        (None, Some(Found::Rule(rule))) => format!("-> {}", rule.spec.backend),
        (None, Some(Found::Pool(p))) => format!("{} endpoint(s)", p.spec.endpoints.len()),
        (None, None) => String::new(),
    };
    let target = if target.is_empty() {
        target
    } else {
        format!("  {target}")
    };
    let _ = match r.action {
        ResourceOp::Create => writeln!(out, "  + create     {what}{target}"),
        ResourceOp::Update => writeln!(out, "  ~ update     {what}{target}{id}"),
        ResourceOp::Replace => writeln!(out, "  ! replace    {what}{target}{id}: its listener is replaced"),
        ResourceOp::Delete => writeln!(out, "  - delete     {what}{id}: managed, not in the file"),
        ResourceOp::Unchanged => writeln!(out, "  = unchanged  {what}{target}{id}"),
        ResourceOp::Mapped => writeln!(out, "  = mapped     {what}{id}: an existing pool, never changed"),
        ResourceOp::Unmanaged => writeln!(
            out,
            "  ? unmanaged  {what}{id}: not in the file; kept (--prune deletes it)"
        ),
        ResourceOp::Kept => writeln!(
            out,
            "  = kept       {what}{id}: named by the file or still in use; never pruned"
        ),
    };
    changes(out, &r.changes, &[]);
}

/// Whose mark a live listener carries, in the words of a plan row.
fn mark(l: &Listener) -> String {
    match (&l.owner, l.managed) {
        (Some(owner), true) => format!("managed (owner `{owner}`)"),
        (Some(owner), false) => format!("another owner's (`{owner}`)"),
        (None, _) => "unmarked (not made by listenerctl)".to_string(),
    }
}

/// `2 to create, 1 to update, ...; 3 unchanged, 1 unmanaged`.
pub fn summary(plan: &Plan) -> String {
    let s = plan.summary();
    let mut line = if plan.has_changes() {
        format!(
            "  {} to create, {} to update, {} to replace, {} to delete",
            s.create, s.update, s.replace, s.delete
        )
    } else {
        "  no changes".to_string()
    };
    let _ = write!(line, "; {} unchanged", s.unchanged);
    if s.unmanaged > 0 {
        let _ = write!(line, ", {} unmanaged", s.unmanaged);
    }
    line.push('\n');
    for kind in [ResourceKind::Pool, ResourceKind::Rule] {
        if !plan.resources.iter().any(|r| r.kind == kind) {
            continue;
        }
        let r = ResourceSummary::of(&plan.resources, kind);
        let _ = write!(
            line,
            "  {}s: {} to create, {} to update, {} to replace, {} to delete; {} unchanged",
            kind.as_str(),
            r.create,
            r.update,
            r.replace,
            r.delete,
            r.unchanged
        );
        if r.unmanaged > 0 {
            let _ = write!(line, ", {} left alone", r.unmanaged);
        }
        line.push('\n');
    }
    line
}

/// One listener in full, its spec in TOML so it can be pasted into a file.
pub fn listener(l: &Listener) -> String {
    let mut out = format!("{}  {}  on {}\n", l.id, status(l), l.instance);
    let spec = cloud_listeners::parse::to_string(&l.spec, Format::Toml)
        .unwrap_or_else(|_| serde_json::to_string_pretty(&l.spec).unwrap_or_default());
    for line in spec.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

fn status(l: &Listener) -> String {
    serde_json::to_value(&l.status)
        .ok()
        .and_then(|v| match v {
            Value::String(s) => Some(s),
            Value::Object(m) => m.get("other").and_then(Value::as_str).map(str::to_string),
            _ => None,
        })
        .unwrap_or_else(|| format!("{:?}", l.status))
}

/// A table of listeners: ID, status, protocol and ports, name.
pub fn listener_table(list: &[Listener]) -> String {
    if list.is_empty() {
        return "no listeners\n".to_string();
    }
    let id_w = list.iter().map(|l| l.id.as_str().len()).max().unwrap_or(2).max(2);
    let pp: Vec<String> = list.iter().map(|l| protocol_ports(&l.spec)).collect();
    let pp_w = pp.iter().map(String::len).max().unwrap_or(5).max(5);
    let st: Vec<String> = list.iter().map(status).collect();
    let st_w = st.iter().map(String::len).max().unwrap_or(6).max(6);
    // The owner of the management mark, `-` for an unmarked listener.
    let ow: Vec<&str> = list.iter().map(|l| l.owner.as_deref().unwrap_or("-")).collect();
    let ow_w = ow.iter().map(|o| o.len()).max().unwrap_or(5).max(5);
    let mut out = format!(
        "{:<id_w$}  {:<st_w$}  {:<pp_w$}  {:<ow_w$}  NAME\n",
        "ID", "STATUS", "PORTS", "OWNER"
    );
    for (((l, p), s), o) in list.iter().zip(&pp).zip(&st).zip(&ow) {
        let _ = writeln!(
            out,
            "{:<id_w$}  {s:<st_w$}  {p:<pp_w$}  {o:<ow_w$}  {}",
            l.id, l.spec.name
        );
    }
    out
}

/// The listeners an apply left in place, by file entry: name, ports, IDs,
/// each line starting with `indent`.
pub fn ids(listeners: &[(usize, Listener)], file: &[ListenerSpec], indent: &str) -> String {
    let mut out = String::new();
    let name_w = file.iter().map(|s| s.name.len()).max().unwrap_or(4);
    for (i, spec) in file.iter().enumerate() {
        let ids: Vec<&str> = listeners
            .iter()
            .filter(|(j, _)| *j == i)
            .map(|(_, l)| l.id.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "{indent}{:<name_w$}  {:<14}  {}",
            spec.name,
            protocol_ports(spec),
            ids.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloud_listeners::plan::Plan;
    use cloud_listeners::{ListenerId, ListenerStatus, Ports, Protocol};

    fn resource(kind: ResourceKind, action: ResourceOp, name: &str) -> ResourceAction {
        ResourceAction {
            kind,
            action,
            name: name.into(),
            key: name.into(),
            id: None,
            index: None,
            desired: None,
            current: None,
            changes: Vec::new(),
            listener: None,
            pool: None,
            endpoints: None,
            backend_id: None,
        }
    }

    #[test]
    fn pool_and_rule_rows_follow_the_listeners_with_their_own_counts() {
        use cloud_listeners::{Endpoint, PoolSpec, ResourceId, RouteSpec};
        let mut web = resource(ResourceKind::Pool, ResourceOp::Create, "web");
        web.desired = Some(Wanted::Pool(PoolSpec::new("web", vec![Endpoint::new("10.0.0.1", 80)])));
        let mut api = resource(ResourceKind::Pool, ResourceOp::Update, "api");
        api.id = Some(ResourceId::from("sgp-1"));
        api.changes.push(FieldChange {
            path: "endpoints".into(),
            from: serde_json::json!([]),
            to: serde_json::json!([{"address": "10.0.1.1", "port": 9000, "weight": 100}]),
        });
        let mut rule = resource(ResourceKind::Rule, ResourceOp::Create, "shop:443 api.example.com/v1");
        rule.desired = Some(Wanted::Rule(RouteSpec::new(Some("api.example.com"), "/v1", "api")));
        let mut gone = resource(ResourceKind::Rule, ResourceOp::Delete, "shop:443 www.example.com/old");
        gone.id = Some(ResourceId::from("rule-9"));
        let mut legacy = resource(ResourceKind::Pool, ResourceOp::Mapped, "legacy");
        legacy.id = Some(ResourceId::from("sgp-legacy"));
        let plan = Plan {
            actions: vec![],
            resources: vec![web, api, legacy, rule, gone],
        };
        let text = super::plan(&plan, &[], false);
        assert!(text.contains("  + create     pool web  1 endpoint(s)\n"), "{text}");
        assert!(
            text.contains("  ~ update     pool api  (sgp-1)\n        endpoints: "),
            "{text}"
        );
        assert!(
            text.contains("  = mapped     pool legacy  (sgp-legacy): an existing pool, never changed\n"),
            "{text}"
        );
        assert!(
            text.contains("  + create     rule shop:443 api.example.com/v1  -> api\n"),
            "{text}"
        );
        assert!(
            text.contains("  - delete     rule shop:443 www.example.com/old  (rule-9): managed, not in the file\n"),
            "{text}"
        );
        assert!(
            text.contains("  pools: 1 to create, 1 to update, 0 to replace, 0 to delete; 1 unchanged\n"),
            "{text}"
        );
        assert!(
            text.contains("  rules: 1 to create, 0 to update, 0 to replace, 1 to delete; 0 unchanged\n"),
            "{text}"
        );
        // JSON rows name the kind and the action, and leave internal links out.
        let v = serde_json::to_value(&plan).expect("json");
        assert_eq!(v["resources"][0]["kind"], "pool");
        assert_eq!(v["resources"][0]["action"], "create");
        assert_eq!(v["resources"][0]["desired"]["endpoints"][0]["port"], 80);
        assert_eq!(v["resources"][4]["id"], "rule-9");
        assert!(v["resources"][3].get("listener").is_none());
        // A plan without pools or rules has no `resources` key, as before.
        let bare = serde_json::to_value(Plan::default()).expect("json");
        assert!(bare.get("resources").is_none());
    }

    fn listener(id: &str, spec: ListenerSpec) -> Listener {
        Listener {
            id: ListenerId(id.into()),
            instance: "lb-1".into(),
            status: ListenerStatus::Running,
            spec,
            owner: None,
            managed: false,
        }
    }

    #[test]
    fn rows_of_listeners_not_in_the_file_say_whose_mark_they_carry() {
        let spec = |port| ListenerSpec::new("x", Protocol::Tcp, Ports::Single(port));
        let plan = Plan {
            resources: Vec::new(),
            actions: vec![
                Action::Delete {
                    current: listener("l-1", spec(80)).with_owner(Some("team-a".into()), "team-a"),
                },
                Action::Unmanaged {
                    current: listener("l-2", spec(81)).with_owner(Some("team-b".into()), "team-a"),
                },
                Action::Unmanaged {
                    current: listener("l-3", spec(82)),
                },
            ],
        };
        let text = super::plan(&plan, &[], false);
        assert!(text.contains("(l-1): managed (owner `team-a`)"), "{text}");
        assert!(
            text.contains("(l-2): not in the file, another owner's (`team-b`)"),
            "{text}"
        );
        assert!(text.contains("(l-3): not in the file, unmarked"), "{text}");
        assert!(text.contains("only --prune-unmanaged deletes it"), "{text}");
    }

    #[test]
    fn plan_text_shows_each_action_with_changes() {
        let current = ListenerSpec::new("web", Protocol::Http, Ports::Single(80));
        let mut desired = current.clone();
        desired.description = Some("front".into());
        let plan = Plan {
            resources: Vec::new(),
            actions: vec![
                Action::Update {
                    index: 0,
                    current: listener("lbl-1", current.clone()),
                    desired,
                    changes: vec![FieldChange {
                        path: "description".into(),
                        from: Value::Null,
                        to: Value::String("front".into()),
                    }],
                },
                Action::Create {
                    index: 1,
                    spec: ListenerSpec::new("api", Protocol::Tcp, Ports::Single(81)),
                },
            ],
        };
        let text = super::plan(&plan, &[], false);
        assert!(text.contains("~ update     web"), "{text}");
        assert!(text.contains("description: (unset) -> \"front\""), "{text}");
        assert!(text.contains("+ create     api"), "{text}");
        assert!(text.contains("1 to create, 1 to update"), "{text}");
    }

    /// Regression: ALB reads back a generated name (`http-80`) because its
    /// listener names are write-only; the plan row showed it instead of the
    /// file's name.
    #[test]
    fn unchanged_rows_show_the_files_name_not_the_read_back_one() {
        let file = vec![
            ListenerSpec::new("api", Protocol::Http, Ports::Single(81)),
            ListenerSpec::new("web", Protocol::Http, Ports::Single(80)),
        ];
        let plan = Plan {
            resources: Vec::new(),
            actions: vec![Action::Unchanged {
                index: 1,
                current: listener("lsn-1", ListenerSpec::new("http-80", Protocol::Http, Ports::Single(80))),
            }],
        };
        let text = super::plan(&plan, &file, false);
        assert!(text.contains("= unchanged  web "), "{text}");
        assert!(!text.contains("http-80"), "{text}");
    }

    #[test]
    fn listener_table_has_a_row_per_listener() {
        let t = listener_table(&[listener(
            "lbl-1",
            ListenerSpec::new("web", Protocol::Http, Ports::Single(80)),
        )]);
        assert_eq!(t.lines().count(), 2);
        assert!(
            t.contains("lbl-1") && t.contains("running") && t.contains("http 80"),
            "{t}"
        );
    }
}
