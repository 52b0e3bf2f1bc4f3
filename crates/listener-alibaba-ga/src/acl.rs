//! Source-address access control (`access`) through GA ACLs this adapter
//! creates and owns.
//!
//! A GA ACL (`nacl-…`) holds entries of one IP version, so the adapter
//! keeps **one ACL per listener and IP version** the list needs (at most
//! two of the three a listener may use):
//!
//! - named `listenerctl-<listener id>-ipv4` / `-ipv6` and tagged
//!   [`MARK_TAG_KEY`]` = <listener id>`;
//! - proven to belong to the listener before any write, with
//!   [`listener_core::ownership::claim`] (the mark must name the listener,
//!   itself proven on the bound accelerator); an ACL the listener uses that
//!   is not ours refuses the change ([`Error::NotOwned`]) and is never
//!   touched;
//! - created under one `ClientToken` (GA answers a repeat with the first
//!   result) and looked up by name first, so a retry or a re-run makes no
//!   second one;
//! - deleted when `access` goes away and after the listener is deleted.
//!
//! GA answers no job: an ACL is followed with `GetAcl` to `Available`, the
//! listener with `DescribeListener` to `active`.

use std::collections::BTreeSet;

use alibaba_api::CallOptions;
use listener_core::ownership::claim;
use listener_core::wait::Deadline;
use listener_core::{canonical_cidr, Access, AccessMode, Error, ListenerId, Owned, Poll, Result};
use serde_json::{json, Value};

use crate::client::GaClient;
use crate::status;
use crate::translate::{acl_type, ip_version_of, ACL_ENTRIES_PER_CALL, REGION};
use crate::API;

/// Tag key that marks an ACL as this tool's; its value is the listener ID.
pub const MARK_TAG_KEY: &str = "listenerctl-listener";
/// IP versions, in the order ACLs are made.
const VERSIONS: [&str; 2] = ["IPv4", "IPv6"];

/// The name of the ACL made for `listener_id` and `version`.
pub fn acl_name(listener_id: &str, version: &str) -> String {
    format!("listenerctl-{listener_id}-{}", version.to_ascii_lowercase())
}

#[derive(Debug, Clone)]
struct AclInfo {
    id: String,
    version: String,
    mark: Option<String>,
}

/// An ACL proven to serve one listener of the bound accelerator.
#[derive(Debug, Clone)]
pub(crate) struct OwnedAcl {
    proof: Owned,
    version: String,
}

impl OwnedAcl {
    fn id(&self) -> &str {
        self.proof.as_str()
    }
}

/// The generic proof, with the listener as what the ACL must be "on".
fn prove(listener: &Owned, acl: &AclInfo) -> Result<OwnedAcl> {
    claim(
        API,
        listener.as_str(),
        &ListenerId(acl.id.clone()),
        Some(acl.mark.as_deref().unwrap_or("")),
    )
    .map(|proof| OwnedAcl {
        proof,
        version: acl.version.clone(),
    })
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

async fn read(client: &GaClient, action: &str, params: Value) -> Result<Value> {
    let mut p = params;
    p["RegionId"] = json!(REGION);
    Ok(client.api().call(action, &p, CallOptions::read()).await?.body)
}

/// One logical write under one token, re-sent while GA is busy.
async fn write(client: &GaClient, action: &str, params: Value, wait: &Deadline) -> Result<Value> {
    let mut p = params;
    p["RegionId"] = json!(REGION);
    let token = client.new_token();
    tracing::debug!(action, token = %token, "GA ACL write");
    client.write(action, &p, &token, wait).await
}

/// ACLs named `name` (`ListAcls`, all pages).
async fn named(client: &GaClient, name: &str) -> Result<Vec<AclInfo>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..100 {
        let mut p = json!({ "AclName": name, "MaxResults": 100 });
        if let Some(t) = &next {
            p["NextToken"] = json!(t);
        }
        let body = read(client, "ListAcls", p).await?;
        for a in body.get("Acls").and_then(Value::as_array).into_iter().flatten() {
            let Some(id) = str_of(a, "AclId") else { continue };
            let mark = a
                .get("Tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|t| str_of(t, "Key") == Some(MARK_TAG_KEY))
                .and_then(|t| str_of(t, "Value"))
                .map(str::to_string);
            out.push(AclInfo {
                id: id.to_string(),
                version: str_of(a, "AddressIPVersion").unwrap_or("IPv4").to_string(),
                mark,
            });
        }
        match str_of(&body, "NextToken") {
            Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Err(Error::Transport {
        vendor: API,
        message: "ListAcls kept returning pages".into(),
        maybe_applied: false,
    })
}

/// The entries of ACL `id`, canonical.
async fn entries(client: &GaClient, id: &str) -> Result<BTreeSet<String>> {
    let body = read(client, "GetAcl", json!({ "AclId": id })).await?;
    Ok(body
        .get("AclEntries")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| str_of(e, "Entry"))
        .map(|e| canonical_cidr(e).unwrap_or_else(|_| e.to_string()))
        .collect())
}

/// `AclType` and the ACLs in use from a `DescribeListener` answer.
fn acl_config(answer: &Value) -> (Option<String>, Vec<String>) {
    let kind = str_of(answer, "AclType").map(str::to_string);
    let ids = answer
        .get("RelatedAcls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| str_of(r, "AclId").map(str::to_string))
        .collect();
    (kind, ids)
}

/// The listener's `access` as GA has it: the list type and every entry of
/// every ACL it uses (ours or not). `None` without ACLs.
pub(crate) async fn read_access(client: &GaClient, answer: &Value) -> Result<Option<Access>> {
    let (kind, ids) = acl_config(answer);
    if ids.is_empty() {
        return Ok(None);
    }
    let mode = match kind.as_deref() {
        Some(k) if k.eq_ignore_ascii_case("white") => AccessMode::Allow,
        Some(k) if k.eq_ignore_ascii_case("black") => AccessMode::Deny,
        _ => return Ok(None),
    };
    let mut cidrs = BTreeSet::new();
    for id in &ids {
        match entries(client, id).await {
            Ok(e) => cidrs.extend(e),
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(Access {
        mode,
        cidrs: cidrs.into_iter().collect(),
    }))
}

/// Our ACLs for `listener`, proven; with `strict`, an ACL of our name that
/// fails the proof is an error, otherwise it is skipped (and left alone).
async fn ours(client: &GaClient, listener: &Owned, strict: bool) -> Result<Vec<OwnedAcl>> {
    let mut out = Vec::new();
    for v in VERSIONS {
        for a in named(client, &acl_name(listener.as_str(), v)).await? {
            match prove(listener, &a) {
                Ok(acl) => out.push(acl),
                Err(e) if strict => return Err(e),
                Err(e) => {
                    tracing::warn!(acl_id = %a.id, error = %e, "ACL named for this listener is not ours; left alone")
                }
            }
        }
    }
    Ok(out)
}

/// Follow ACL `id` to `Available`, or until it is gone with `gone`.
async fn wait_acl(client: &GaClient, id: &str, gone: bool, wait: &Deadline) -> Result<()> {
    wait.poll(
        "acl",
        &format!("ACL {id}"),
        || async {
            match read(client, "GetAcl", json!({ "AclId": id })).await {
                Ok(v) => Ok(Some(v)),
                Err(Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        },
        |found| match (found, gone) {
            (None, true) => Poll::Done(()),
            (None, false) => Poll::Pending("ACL not found yet".into()),
            (Some(a), false) if str_of(&a, "AclStatus") == Some("Available") => Poll::Done(()),
            (Some(a), _) => Poll::Pending(format!("ACL {}", str_of(&a, "AclStatus").unwrap_or(""))),
        },
    )
    .await
}

async fn associate(
    client: &GaClient,
    listener: &Owned,
    acls: &[&OwnedAcl],
    kind: Option<&str>,
    wait: &Deadline,
) -> Result<()> {
    if acls.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = acls.iter().map(|a| a.id()).collect();
    let (action, params) = match kind {
        Some(k) => (
            "AssociateAclsWithListener",
            json!({ "ListenerId": listener.as_str(), "AclIds": ids, "AclType": k }),
        ),
        None => (
            "DissociateAclsFromListener",
            json!({ "ListenerId": listener.as_str(), "AclIds": ids }),
        ),
    };
    tracing::info!(listener = listener.as_str(), ?ids, action, "changing GA listener ACLs");
    write(client, action, params, wait).await?;
    status::wait_active(client, listener.as_str(), action, wait).await?;
    Ok(())
}

async fn delete_acl(client: &GaClient, acl: &OwnedAcl, wait: &Deadline) -> Result<()> {
    tracing::info!(acl_id = acl.id(), "deleting GA ACL");
    match write(client, "DeleteAcl", json!({ "AclId": acl.id() }), wait).await {
        Ok(_) => wait_acl(client, acl.id(), true, wait).await,
        Err(Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

async fn change_entries(client: &GaClient, acl: &OwnedAcl, list: &[String], add: bool, wait: &Deadline) -> Result<()> {
    let action = if add { "AddEntriesToAcl" } else { "RemoveEntriesFromAcl" };
    for chunk in list.chunks(ACL_ENTRIES_PER_CALL) {
        let entries: Vec<Value> = chunk
            .iter()
            .map(|c| {
                if add {
                    json!({ "Entry": c, "EntryDescription": "managed-by-listenerctl" })
                } else {
                    json!({ "Entry": c })
                }
            })
            .collect();
        write(
            client,
            action,
            json!({ "AclId": acl.id(), "AclEntries": entries }),
            wait,
        )
        .await?;
        wait_acl(client, acl.id(), false, wait).await?;
    }
    Ok(())
}

/// Make the listener's access control what `want` says (see the module
/// documentation). ACLs that are not ours are never written to.
pub(crate) async fn apply(client: &GaClient, listener: &Owned, want: Option<&Access>, wait: &Deadline) -> Result<()> {
    let answer = client.describe_listener(listener.as_str()).await?;
    let (kind, in_use) = acl_config(&answer);
    let mine = ours(client, listener, true).await?;
    if let Some(foreign) = in_use.iter().find(|id| !mine.iter().any(|m| m.id() == id.as_str())) {
        return Err(Error::NotOwned {
            vendor: API,
            listener_id: foreign.clone(),
            instance: listener.as_str().to_string(),
            owner: None,
        });
    }
    let on = |acl: &OwnedAcl| in_use.iter().any(|id| id == acl.id());

    let Some(want) = want else {
        let associated: Vec<&OwnedAcl> = mine.iter().filter(|a| on(a)).collect();
        associate(client, listener, &associated, None, wait).await?;
        for acl in &mine {
            delete_acl(client, acl, wait).await?;
        }
        return Ok(());
    };

    let want_type = acl_type(want.mode);
    // A type change dissociates first, so new entries never act with the
    // old meaning.
    let mut associated: Vec<&OwnedAcl> = mine.iter().filter(|a| on(a)).collect();
    if !associated.is_empty() && !kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(want_type)) {
        associate(client, listener, &associated, None, wait).await?;
        associated.clear();
    }
    let mut keep: Vec<OwnedAcl> = Vec::new();
    for version in VERSIONS {
        let wanted: Vec<String> = want
            .cidrs
            .iter()
            .filter(|c| ip_version_of(c) == version)
            .cloned()
            .collect();
        let existing = mine.iter().find(|a| a.version.eq_ignore_ascii_case(version)).cloned();
        if wanted.is_empty() {
            continue;
        }
        let acl = match existing {
            Some(acl) => {
                let have = entries(client, acl.id()).await?;
                let set: BTreeSet<String> = wanted.iter().cloned().collect();
                let add: Vec<String> = set.difference(&have).cloned().collect();
                let remove: Vec<String> = have.difference(&set).cloned().collect();
                change_entries(client, &acl, &add, true, wait).await?;
                change_entries(client, &acl, &remove, false, wait).await?;
                acl
            }
            None => create(client, listener, version, &wanted, wait).await?,
        };
        keep.push(acl);
    }
    let still_on: Vec<&OwnedAcl> = associated.clone();
    let to_add: Vec<&OwnedAcl> = keep
        .iter()
        .filter(|a| !still_on.iter().any(|s| s.id() == a.id()))
        .collect();
    associate(client, listener, &to_add, Some(want_type), wait).await?;
    // Ours but no longer needed (a version the list dropped).
    let unused: Vec<&OwnedAcl> = mine.iter().filter(|a| !keep.iter().any(|k| k.id() == a.id())).collect();
    let unused_on: Vec<&OwnedAcl> = unused
        .iter()
        .copied()
        .filter(|a| still_on.iter().any(|s| s.id() == a.id()))
        .collect();
    associate(client, listener, &unused_on, None, wait).await?;
    for acl in unused {
        delete_acl(client, acl, wait).await?;
    }
    Ok(())
}

/// `CreateAcl` for one IP version with its first entries, named and marked.
async fn create(
    client: &GaClient,
    listener: &Owned,
    version: &str,
    cidrs: &[String],
    wait: &Deadline,
) -> Result<OwnedAcl> {
    let (first, rest) = cidrs.split_at(cidrs.len().min(ACL_ENTRIES_PER_CALL));
    let entries: Vec<Value> = first
        .iter()
        .map(|c| json!({ "Entry": c, "EntryDescription": "managed-by-listenerctl" }))
        .collect();
    let params = json!({
        "AclName": acl_name(listener.as_str(), version),
        "AddressIPVersion": version,
        "AclEntries": entries,
        "Tag": [{ "Key": MARK_TAG_KEY, "Value": listener.as_str() }],
    });
    tracing::info!(listener = listener.as_str(), version, "creating GA ACL");
    let body = write(client, "CreateAcl", params, wait).await?;
    let id = str_of(&body, "AclId")
        .ok_or_else(|| Error::Transport {
            vendor: API,
            message: "GA answered CreateAcl without `AclId`".into(),
            maybe_applied: true,
        })?
        .to_string();
    wait_acl(client, &id, false, wait).await?;
    // Made here with this mark.
    let acl = prove(
        listener,
        &AclInfo {
            id,
            version: version.to_string(),
            mark: Some(listener.as_str().to_string()),
        },
    )?;
    change_entries(client, &acl, rest, true, wait).await?;
    Ok(acl)
}

/// Our ACLs of a listener about to be deleted (ones failing the proof are
/// left alone), to delete with [`delete_owned`] once it is gone.
pub(crate) async fn owned(client: &GaClient, listener: &Owned) -> Result<Vec<OwnedAcl>> {
    ours(client, listener, false).await
}

/// Delete the ACLs [`owned`] found.
pub(crate) async fn delete_owned(client: &GaClient, acls: &[OwnedAcl], wait: &Deadline) -> Result<()> {
    for acl in acls {
        delete_acl(client, acl, wait).await?;
    }
    Ok(())
}
