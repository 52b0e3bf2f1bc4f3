//! The resource graph: one engine that plans and applies resources of
//! several kinds (pools, listeners, rules) in dependency order.
//!
//! A plan is a [`Graph`] of [`Node`]s, each a resource of one [`Kind`] with
//! an identity key taken from the file, the [`Op`] apply carries out, and
//! the nodes it depends on (its *parents*: the listener a rule sits on,
//! the pool it forwards to). Nodes are named by [`NodeId`], their index in
//! the graph, never by address.
//!
//! [`apply_graph`] runs in two phases, each kind by kind:
//!
//! 1. **Deletes, children first** (deepest kind first): the deletes and
//!    the delete half of replacements. A node whose child was to be deleted
//!    and was not (failed, not started, skipped) is skipped: the vendor
//!    would refuse to remove a pool a rule still uses.
//! 2. **Creates and updates, parents first**: a node runs once every
//!    parent is in place, and receives the parents' IDs (from what was read
//!    when planning, or from the create that just made the parent). A
//!    node with a parent that failed, was skipped or was not started is
//!    reported [`Skipped`] and never handed to the executor. The create half
//!    of a replacement runs only if its delete succeeded.
//!
//! What a kind's calls look like (batching, concurrency, cancel, per-instance
//! serialisation, the read-back after a failed batch) is the kind's
//! [`Executor`]'s business: the engine hands it all of one kind's steps of
//! one phase at once. The listener kind's executor lives in `plan.rs` and
//! is exactly the apply of a listener-only plan.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::Serialize;

use listener_core::Error;

/// A kind of resource and its place in the dependency chain.
#[derive(Debug, PartialEq, Eq)]
pub struct Kind {
    /// The kind's name in reports (`pool`, `listener`, `rule`).
    pub name: &'static str,
    /// The kind that must exist first; `None` for the root kind.
    pub parent: Option<&'static Kind>,
}

impl Kind {
    /// Steps from the root kind: creates run in increasing depth, deletes
    /// in decreasing depth.
    pub const fn depth(&self) -> usize {
        match self.parent {
            None => 0,
            Some(p) => 1 + p.depth(),
        }
    }
}

/// Backend pools: the root kind, since listeners and rules forward to them.
pub static POOL: Kind = Kind {
    name: "pool",
    parent: None,
};

/// Listeners: after the pools their default action may forward to.
pub static LISTENER: Kind = Kind {
    name: "listener",
    parent: Some(&POOL),
};

/// Rules (routes): on a listener, forwarding to a pool.
pub static RULE: Kind = Kind {
    name: "rule",
    parent: Some(&LISTENER),
};

/// A node's index in its [`Graph`]: how the engine, executors and reports
/// name a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct NodeId(pub usize);

/// What apply does with a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Not on the cloud: create it.
    Create,
    /// Change in place.
    Update,
    /// Delete, then create (an immutable field differs, or a parent is
    /// replaced).
    Replace,
    /// Delete it.
    Delete,
    /// Leave it as it is (unchanged, unmanaged, kept, or mapped in the
    /// profile to a resource the file does not own); its ID still flows to
    /// its children.
    Keep,
}

impl Op {
    /// Whether carrying it out changes the cloud.
    pub fn is_change(self) -> bool {
        !matches!(self, Op::Keep)
    }
}

/// One resource in the plan.
#[derive(Debug, Clone)]
pub struct Node<T> {
    /// Its kind.
    pub kind: &'static Kind,
    /// Its identity within its kind, taken from the file (for a rule, its
    /// listener's key with its host and path).
    pub key: String,
    /// The nodes it needs, of kinds of lower depth. Their IDs are handed to
    /// its create or update, in this order.
    pub parents: Vec<NodeId>,
    /// What apply does with it.
    pub op: Op,
    /// The vendor ID of the live resource, when there is one.
    pub id: Option<String>,
    /// What the kind's executor needs to carry it out.
    pub item: T,
}

/// A plan over several kinds.
#[derive(Debug, Clone)]
pub struct Graph<T> {
    /// The nodes; a [`NodeId`] is an index here.
    pub nodes: Vec<Node<T>>,
}

impl<T> Default for Graph<T> {
    fn default() -> Self {
        Graph { nodes: Vec::new() }
    }
}

impl<T> Graph<T> {
    /// Add a node; returns its ID.
    pub fn add(&mut self, node: Node<T>) -> NodeId {
        self.nodes.push(node);
        NodeId(self.nodes.len() - 1)
    }

    /// The node with this ID.
    pub fn node(&self, id: NodeId) -> &Node<T> {
        &self.nodes[id.0]
    }

    /// Whether apply would change anything.
    pub fn has_changes(&self) -> bool {
        self.nodes.iter().any(|n| n.op.is_change())
    }

    /// The nodes that apply would change, in graph order.
    pub fn changes(&self) -> impl Iterator<Item = (NodeId, &Node<T>)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.op.is_change())
            .map(|(i, n)| (NodeId(i), n))
    }

    /// A parent that names no node, or is not of a lower depth than its
    /// child: such a graph has no order that puts parents first.
    fn check(&self) -> Result<(), Error> {
        for (i, n) in self.nodes.iter().enumerate() {
            for p in &n.parents {
                let ok = self.nodes.get(p.0).is_some_and(|pn| pn.kind.depth() < n.kind.depth());
                if !ok {
                    return Err(Error::Config {
                        field: format!("plan.nodes[{i}].parents"),
                        message: format!(
                            "{} {:?} depends on node {} which is not a resource of an earlier kind",
                            n.kind.name, n.key, p.0
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// What a node's step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// Create (or the create half of a replacement).
    Create,
    /// Update in place.
    Update,
    /// Delete (or the delete half of a replacement).
    Delete,
}

impl Verb {
    /// The verb as events and reports name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
        }
    }
}

/// One step handed to an executor.
#[derive(Debug)]
pub struct Work<'g, T> {
    /// The node.
    pub node: NodeId,
    /// What to do.
    pub verb: Verb,
    /// The node's op (a create may be the second half of a replacement).
    pub op: Op,
    /// The node's item.
    pub item: &'g T,
    /// The live resource's ID (updates, deletes, replacements).
    pub id: Option<&'g str>,
    /// The IDs of the node's parents, in the order of [`Node::parents`]:
    /// for creates and updates, as found or just made; for deletes, the
    /// live IDs read when planning (a rule is deleted on its listener), an
    /// empty string for a parent that had none.
    pub parent_ids: Vec<String>,
}

/// The result of a step: what it made, or why it failed (shared, since one
/// failed batch call is the outcome of several steps).
pub type Outcome<M> = Result<M, Arc<Error>>;

/// A step an executor was handed, and how it ended.
#[derive(Debug)]
pub struct Ran<M> {
    /// The node.
    pub node: NodeId,
    /// The step.
    pub verb: Verb,
    /// `None` when the executor did not start it (apply was cancelled).
    pub outcome: Option<Outcome<M>>,
}

/// A step never handed to an executor because a node it depends on is not
/// in place (a parent for creates and updates, a child for deletes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The node not attempted.
    pub node: NodeId,
    /// The step it would have taken.
    pub verb: Verb,
    /// The node that failed, was skipped or was not started.
    pub because: NodeId,
}

/// What [`apply_graph`] did.
#[derive(Debug)]
pub struct GraphReport<M> {
    /// Every step handed to an executor, in the order they ended kind by
    /// kind: all deletes first, then creates and updates.
    pub ran: Vec<Ran<M>>,
    /// Steps not attempted, in the order they were decided.
    pub skipped: Vec<Skipped>,
}

impl<M> Default for GraphReport<M> {
    fn default() -> Self {
        GraphReport {
            ran: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// Carries out the steps of one kind: the calls, their batching and
/// concurrency, cancel checks, and events. One executor serves a graph and
/// dispatches on the kind.
pub trait Executor<T: Sync>: Sync {
    /// What a successful step leaves (the resources now in place).
    type Made: Send;

    /// The vendor ID of what a create or update left in place, handed to
    /// the node's children; `None` when it made nothing, which skips them.
    fn made_id(&self, made: &Self::Made) -> Option<String>;

    /// Run `work` (all steps of `kind` in one phase, in graph order) and
    /// return one [`Ran`] per step, in the order they ended.
    fn run<'a>(&'a self, kind: &'static Kind, work: Vec<Work<'a, T>>) -> BoxFuture<'a, Vec<Ran<Self::Made>>>;
}

/// Where a node stands during apply.
#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Nothing run (yet); for a `Keep` node, in place as read.
    Idle,
    /// Its step of this phase succeeded; for creates, with the new ID.
    Done(Option<String>),
    /// Its step failed, was not started, or was skipped.
    Blocked,
}

/// Carry out a graph with `executor`: deletes children first, then creates
/// and updates parents first (see the module docs). Refuses a graph whose
/// parents do not come from earlier kinds, before any step.
pub async fn apply_graph<T, E>(graph: &Graph<T>, executor: &E) -> Result<GraphReport<E::Made>, Error>
where
    T: Sync,
    E: Executor<T>,
{
    graph.check()?;
    let mut kinds: Vec<&'static Kind> = Vec::new();
    for n in &graph.nodes {
        if !kinds.contains(&n.kind) {
            kinds.push(n.kind);
        }
    }
    kinds.sort_by_key(|k| k.depth());
    let mut children: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        for p in &n.parents {
            children.entry(*p).or_default().push(NodeId(i));
        }
    }
    let mut report = GraphReport::default();

    // Phase 1: deletes, deepest kind first.
    let mut deleted = vec![State::Idle; graph.nodes.len()];
    for kind in kinds.iter().rev() {
        let mut work = Vec::new();
        for (i, n) in graph.nodes.iter().enumerate() {
            if n.kind != *kind || !matches!(n.op, Op::Delete | Op::Replace) {
                continue;
            }
            let blocker =
                children.get(&NodeId(i)).into_iter().flatten().find(|c| {
                    matches!(graph.node(**c).op, Op::Delete | Op::Replace) && deleted[c.0] != State::Done(None)
                });
            if let Some(c) = blocker {
                deleted[i] = State::Blocked;
                report.skipped.push(Skipped {
                    node: NodeId(i),
                    verb: Verb::Delete,
                    because: *c,
                });
                continue;
            }
            work.push(Work {
                node: NodeId(i),
                verb: Verb::Delete,
                op: n.op,
                item: &n.item,
                id: n.id.as_deref(),
                parent_ids: n
                    .parents
                    .iter()
                    .map(|p| graph.node(*p).id.clone().unwrap_or_default())
                    .collect(),
            });
        }
        if work.is_empty() {
            continue;
        }
        for ran in executor.run(kind, work).await {
            deleted[ran.node.0] = match ran.outcome {
                Some(Ok(_)) => State::Done(None),
                _ => State::Blocked,
            };
            report.ran.push(ran);
        }
    }

    // Phase 2: creates and updates, parents first.
    let mut state: Vec<State> = graph
        .nodes
        .iter()
        .zip(&deleted)
        .map(|(n, d)| match n.op {
            Op::Replace if *d != State::Done(None) => State::Blocked,
            Op::Delete => State::Blocked,
            _ => State::Idle,
        })
        .collect();
    for kind in &kinds {
        let mut work = Vec::new();
        for (i, n) in graph.nodes.iter().enumerate() {
            if n.kind != *kind || !matches!(n.op, Op::Create | Op::Update | Op::Replace) {
                continue;
            }
            if n.op == Op::Replace && deleted[i] != State::Done(None) {
                // Its delete failed or never started; that is its outcome.
                continue;
            }
            let verb = if n.op == Op::Update { Verb::Update } else { Verb::Create };
            let mut parent_ids = Vec::with_capacity(n.parents.len());
            let mut blocker = None;
            for p in &n.parents {
                match parent_id(graph.node(*p), &state[p.0]) {
                    Some(id) => parent_ids.push(id),
                    None => {
                        blocker = Some(*p);
                        break;
                    }
                }
            }
            if let Some(because) = blocker {
                state[i] = State::Blocked;
                report.skipped.push(Skipped {
                    node: NodeId(i),
                    verb,
                    because,
                });
                continue;
            }
            work.push(Work {
                node: NodeId(i),
                verb,
                op: n.op,
                item: &n.item,
                id: n.id.as_deref(),
                parent_ids,
            });
        }
        if work.is_empty() {
            continue;
        }
        for ran in executor.run(kind, work).await {
            state[ran.node.0] = match &ran.outcome {
                Some(Ok(made)) => State::Done(executor.made_id(made)),
                _ => State::Blocked,
            };
            report.ran.push(ran);
        }
    }
    Ok(report)
}

/// A parent's ID for its children, or `None` when it is not in place.
fn parent_id<T>(parent: &Node<T>, state: &State) -> Option<String> {
    match (parent.op, state) {
        (Op::Keep, State::Idle) => parent.id.clone(),
        (Op::Update, State::Done(made)) => made.clone().or_else(|| parent.id.clone()),
        (Op::Create | Op::Replace, State::Done(made)) => made.clone(),
        _ => None,
    }
}

/// A resource the file declares, for [`plan_graph`].
#[derive(Debug, Clone)]
pub struct Desired<T> {
    /// Its kind.
    pub kind: &'static Kind,
    /// Its identity key within the kind (unique per kind; the caller folds
    /// the parent's key into a child's).
    pub key: String,
    /// Indices, in the desired list, of the resources it needs.
    pub parents: Vec<usize>,
    /// What it should be.
    pub item: T,
}

/// A resource read from the cloud, for [`plan_graph`].
#[derive(Debug, Clone)]
pub struct Live<T> {
    /// Its kind.
    pub kind: &'static Kind,
    /// Its identity key, built as for [`Desired::key`].
    pub key: String,
    /// The key of its parent of the kind's parent kind, when it has one
    /// (the listener a rule is on), so deletes of what the file no longer
    /// names still go children first and a failed child holds its parent.
    pub parent: Option<String>,
    /// The vendor ID.
    pub id: String,
    /// What it is.
    pub item: T,
}

/// How a live resource differs from the desired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing to do.
    Same,
    /// In place.
    Update,
    /// Delete and create.
    Replace,
}

/// Plan resources of several kinds matched by kind and key. Desired
/// resources come first in the graph (node `i` is `desired[i]`), then the
/// live ones nothing desired matches, which become deletes when
/// `may_delete` allows it and `Keep` otherwise. A resource whose parent is
/// replaced is replaced too (deleted before it and created after it), so
/// no vendor is asked to remove a parent that still has children.
/// Node items are the desired item for matched and new resources, the
/// live item for the rest.
pub fn plan_graph<T: Clone>(
    desired: &[Desired<T>],
    live: &[Live<T>],
    change: &dyn Fn(&'static Kind, &T, &T) -> Change,
    may_delete: &dyn Fn(&Live<T>) -> bool,
) -> Graph<T> {
    let mut graph = Graph::default();
    let mut used = vec![false; live.len()];
    for d in desired {
        let found = live
            .iter()
            .enumerate()
            .find(|(j, l)| !used[*j] && l.kind == d.kind && l.key == d.key);
        let parents: Vec<NodeId> = d.parents.iter().map(|p| NodeId(*p)).collect();
        let parent_replaced = parents
            .iter()
            .any(|p| graph.nodes.get(p.0).is_some_and(|n: &Node<T>| n.op == Op::Replace));
        let (op, id) = match found {
            None => (Op::Create, None),
            Some((j, l)) => {
                used[j] = true;
                let op = match change(d.kind, &l.item, &d.item) {
                    _ if parent_replaced => Op::Replace,
                    Change::Same => Op::Keep,
                    Change::Update => Op::Update,
                    Change::Replace => Op::Replace,
                };
                (op, Some(l.id.clone()))
            }
        };
        graph.add(Node {
            kind: d.kind,
            key: d.key.clone(),
            parents,
            op,
            id,
            item: d.item.clone(),
        });
    }
    let leftover: Vec<&Live<T>> = live
        .iter()
        .enumerate()
        .filter(|(j, _)| !used[*j])
        .map(|(_, l)| l)
        .collect();
    let first_leftover = graph.nodes.len();
    for l in &leftover {
        let op = if may_delete(l) { Op::Delete } else { Op::Keep };
        graph.add(Node {
            kind: l.kind,
            key: l.key.clone(),
            parents: Vec::new(),
            op,
            id: Some(l.id.clone()),
            item: l.item.clone(),
        });
    }
    // Parent edges of what is left, by the parent's key among every node.
    for (offset, l) in leftover.iter().enumerate() {
        let (Some(pkey), Some(pkind)) = (&l.parent, l.kind.parent) else {
            continue;
        };
        if let Some(p) = graph.nodes.iter().position(|n| n.kind == pkind && &n.key == pkey) {
            graph.nodes[first_leftover + offset].parents.push(NodeId(p));
        }
    }
    graph
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_ordered_pool_listener_rule() {
        assert_eq!((POOL.depth(), LISTENER.depth(), RULE.depth()), (0, 1, 2));
    }

    #[test]
    fn a_parent_of_a_later_kind_is_refused_before_any_step() {
        let mut g: Graph<()> = Graph::default();
        let rule = g.add(Node {
            kind: &RULE,
            key: "r".into(),
            parents: vec![],
            op: Op::Create,
            id: None,
            item: (),
        });
        g.add(Node {
            kind: &POOL,
            key: "p".into(),
            parents: vec![rule],
            op: Op::Create,
            id: None,
            item: (),
        });
        match g.check() {
            Err(Error::Config { field, .. }) => assert_eq!(field, "plan.nodes[1].parents"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn children_of_a_replaced_parent_are_replaced_and_leftovers_find_their_parent() {
        let d = |kind: &'static Kind, key: &str, parents: Vec<usize>, v: u8| Desired {
            kind,
            key: key.into(),
            parents,
            item: v,
        };
        let l = |kind: &'static Kind, key: &str, parent: Option<&str>, id: &str, v: u8| Live {
            kind,
            key: key.into(),
            parent: parent.map(str::to_string),
            id: id.into(),
            item: v,
        };
        let desired = vec![d(&LISTENER, "tcp/80", vec![], 2), d(&RULE, "tcp/80 /a", vec![0], 1)];
        let live = vec![
            l(&LISTENER, "tcp/80", None, "l-1", 1),
            l(&RULE, "tcp/80 /a", Some("tcp/80"), "r-1", 1),
            l(&RULE, "tcp/80 /old", Some("tcp/80"), "r-2", 1),
        ];
        let change = |_: &'static Kind, a: &u8, b: &u8| if a == b { Change::Same } else { Change::Replace };
        let g = plan_graph(&desired, &live, &change, &|_| true);
        let ops: Vec<Op> = g.nodes.iter().map(|n| n.op).collect();
        assert_eq!(ops, vec![Op::Replace, Op::Replace, Op::Delete]);
        assert_eq!(g.nodes[2].parents, vec![NodeId(0)]);
        let kept = plan_graph(&desired, &live, &change, &|_| false);
        assert_eq!(kept.nodes[2].op, Op::Keep);
    }
}
