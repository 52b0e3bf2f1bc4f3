//! Source-address access control (`access`) through ACLs this adapter
//! creates and owns, and the listener's access-log settings.
//!
//! ALB filters client addresses with access control lists: account
//! resources (`acl-…`) holding CIDR entries, used by a listener as a
//! whitelist (`White`) or a blacklist (`Black`). The neutral `access`
//! section is one list with one meaning, so the adapter keeps **one ACL per
//! listener**, made for it and for nothing else:
//!
//! - named `listenerctl-<listener id>` and tagged
//!   [`MARK_TAG_KEY`]` = <listener id>`, so it is recognised as ours;
//! - before any change or delete, proven to belong to the listener with
//!   [`listener_core::ownership::claim`]: the ACL's mark must name the
//!   listener, which is itself proven to be on the bound instance. An ACL
//!   of the same name with another mark, and every ACL a listener uses
//!   that is not ours, are never written to (the change is refused with
//!   [`Error::NotOwned`]);
//! - created with a `ClientToken` the client repeats on every retry, and
//!   looked up by name first, so neither a lost answer nor a re-run makes a
//!   second one;
//! - deleted when the listener's `access` section goes away and when the
//!   listener is deleted.
//!
//! Every ACL write is asynchronous (`JobId`; ACL `Creating`/`Configuring`,
//! then `Available`; association keeps the listener `Configuring`), and each
//! is followed to its end under the operation's deadline before the next.
//! A change of mode (allow ↔ deny) dissociates the ACL before its entries
//! change and associates it again with the new type after, so the new
//! entries never act with the old meaning.

use std::collections::BTreeSet;

use alibaba_api::{AlibabaClient, CallOptions};
use listener_core::ownership::claim;
use listener_core::{canonical_cidr, Access, Deadline, Error, ListenerId, Owned, Poll, Result};
use serde_json::{json, Map, Value};

use crate::client::AlbClient;
use crate::status::{wait_job, wait_running};
use crate::translate::{access_mode_from, acl_entry_batches, acl_type, get_str, ACL_ENTRIES_PER_CALL};
use crate::API;

/// Tag key that marks an ACL as this tool's; its value is the listener ID
/// the ACL serves.
pub const MARK_TAG_KEY: &str = "listenerctl-listener";
/// Page size of `ListAcls` and `ListAclEntries` (vendor maximum 100).
const PAGE_SIZE: u32 = 100;
/// Pages followed at most (an ACL holds about 1,000 entries).
const MAX_PAGES: usize = 1000;

/// The name of the ACL made for `listener_id`: 2–128 letters, digits,
/// `.`, `_`, `-`, starting with a letter (CreateAcl `AclName`), which
/// `listenerctl-lsn-…` is.
pub fn acl_name(listener_id: &str) -> String {
    format!("listenerctl-{listener_id}")
}

/// One ACL as `ListAcls` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AclInfo {
    id: String,
    status: String,
    /// The value of the [`MARK_TAG_KEY`] tag, if any.
    mark: Option<String>,
}

/// An ACL proven to serve one listener of the bound instance: the only
/// way to name an ACL to a write.
#[derive(Debug, Clone)]
pub(crate) struct OwnedAcl(Owned);

impl OwnedAcl {
    fn id(&self) -> &str {
        self.0.as_str()
    }
}

/// Prove that `acl` is the one made for `listener` (its mark names the
/// listener). The generic proof of [`claim`] is used with the listener as
/// the "instance" the resource must be on: an ACL marked for another
/// listener, or not marked, is [`Error::NotOwned`].
fn prove(listener: &Owned, acl: &AclInfo) -> Result<OwnedAcl> {
    claim(
        API,
        listener.as_str(),
        &ListenerId(acl.id.clone()),
        Some(acl.mark.as_deref().unwrap_or("")),
    )
    .map(OwnedAcl)
}

/// One logical write: one token, repeated by the client on every retry.
async fn write(api: &AlbClient, action: &str, params: &Value) -> Result<Value> {
    let token = api.new_token();
    tracing::debug!(action, client_token = %token, "ALB ACL write");
    Ok(api.api().call(action, params, CallOptions::write(token)).await?.body)
}

async fn read(client: &AlibabaClient, action: &str, params: &Value) -> Result<Value> {
    Ok(client.call(action, params, CallOptions::read()).await?.body)
}

/// `ListAcls` filtered by `filter` (`AclIds` or `AclNames`), all pages.
async fn list_acls(client: &AlibabaClient, filter: &str, values: &[String]) -> Result<Vec<AclInfo>> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut p = json!({ filter: values, "MaxResults": PAGE_SIZE });
        if let Some(t) = &next {
            p["NextToken"] = json!(t);
        }
        let body = read(client, "ListAcls", &p).await?;
        for a in body.get("Acls").and_then(Value::as_array).into_iter().flatten() {
            let Some(id) = get_str(a, "AclId") else { continue };
            let mark = a
                .get("Tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|t| get_str(t, "Key") == Some(MARK_TAG_KEY))
                .and_then(|t| get_str(t, "Value"))
                .map(str::to_string);
            out.push(AclInfo {
                id: id.to_string(),
                status: get_str(a, "AclStatus").unwrap_or("").to_string(),
                mark,
            });
        }
        match get_str(&body, "NextToken") {
            Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Err(crate::client::unexpected("ListAcls kept returning pages"))
}

/// The entries of ACL `id` in canonical CIDR form, leaving out those being
/// removed (`ListAclEntries`, all pages).
async fn entries(client: &AlibabaClient, id: &str) -> Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut next: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut p = json!({ "AclId": id, "MaxResults": PAGE_SIZE });
        if let Some(t) = &next {
            p["NextToken"] = json!(t);
        }
        let body = read(client, "ListAclEntries", &p).await?;
        for e in body.get("AclEntries").and_then(Value::as_array).into_iter().flatten() {
            if get_str(e, "Status") == Some("Removing") {
                continue;
            }
            if let Some(entry) = get_str(e, "Entry") {
                out.insert(canonical_cidr(entry).unwrap_or_else(|_| entry.to_string()));
            }
        }
        match get_str(&body, "NextToken") {
            Some(t) if next.as_deref() != Some(t) => next = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
    Err(crate::client::unexpected("ListAclEntries kept returning pages"))
}

/// `AclConfig` of a `GetListenerAttribute` answer: the list type and the
/// ACLs in use (relations being dissociated left out).
fn acl_config(attr: &Value) -> (Option<String>, Vec<String>) {
    let config = attr.get("AclConfig");
    let kind = config.and_then(|c| get_str(c, "AclType")).map(str::to_string);
    let ids = config
        .and_then(|c| c.get("AclRelations"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| get_str(r, "Status") != Some("Dissociating"))
        .filter_map(|r| get_str(r, "AclId").map(str::to_string))
        .collect();
    (kind, ids)
}

/// The listener's `access` as the cloud has it: the list type and every
/// entry of every ACL it uses (ours or not, so that a plan shows what
/// really filters the listener). `None` without ACLs.
pub(crate) async fn read_access(api: &AlbClient, attr: &Value) -> Result<Option<Access>> {
    let (kind, ids) = acl_config(attr);
    if ids.is_empty() {
        return Ok(None);
    }
    let Some(mode) = kind.as_deref().and_then(access_mode_from) else {
        return Ok(None);
    };
    let mut cidrs = BTreeSet::new();
    for id in &ids {
        match entries(api.api(), id).await {
            Ok(e) => cidrs.extend(e),
            // Deleted between the two reads.
            Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(Access {
        mode,
        cidrs: cidrs.into_iter().collect(),
    }))
}

/// The ACLs made for `listener`, proven ours. An ACL with our name but
/// another mark is refused: someone else's, never touched.
async fn ours(api: &AlbClient, listener: &Owned) -> Result<Vec<OwnedAcl>> {
    list_acls(api.api(), "AclNames", &[acl_name(listener.as_str())])
        .await?
        .iter()
        .map(|a| prove(listener, a))
        .collect()
}

/// Follow ACL `id` until it is `Available` (or gone, with `gone`).
async fn wait_acl(api: &AlbClient, waiter: &Deadline, id: &str, gone: bool, operation: &str) -> Result<()> {
    let ids = [id.to_string()];
    waiter
        .poll(
            "acl",
            operation,
            || list_acls(api.api(), "AclIds", &ids),
            |found| match (found.first(), gone) {
                (None, true) => Poll::Done(()),
                (None, false) => Poll::Pending("ACL not listed yet".into()),
                (Some(a), false) if a.status == "Available" => Poll::Done(()),
                (Some(a), _) => Poll::Pending(format!("ACL {}", a.status)),
            },
        )
        .await
}

/// Run one asynchronous ACL write and follow its job.
async fn acl_write(api: &AlbClient, waiter: &Deadline, action: &str, params: &Value) -> Result<Value> {
    let body = write(api, action, params).await?;
    if let Some(job) = get_str(&body, "JobId") {
        wait_job(api, waiter, "acl", job, action).await?;
    }
    Ok(body)
}

/// Associate (`Some(type)`) or dissociate our ACL, then wait for the
/// listener to settle.
async fn associate(
    api: &AlbClient,
    waiter: &Deadline,
    listener: &Owned,
    acl: &OwnedAcl,
    kind: Option<&str>,
) -> Result<()> {
    let (action, params) = match kind {
        Some(k) => (
            "AssociateAclsWithListener",
            json!({ "ListenerId": listener.as_str(), "AclIds": [acl.id()], "AclType": k }),
        ),
        None => (
            "DissociateAclsFromListener",
            json!({ "ListenerId": listener.as_str(), "AclIds": [acl.id()] }),
        ),
    };
    tracing::info!(
        listener_id = listener.as_str(),
        acl_id = acl.id(),
        action,
        "changing ALB listener ACLs"
    );
    acl_write(api, waiter, action, &params).await?;
    wait_running(api, waiter, "acl", listener.as_str(), action).await?;
    Ok(())
}

/// Delete an ACL of ours that no listener uses; one already gone is done.
async fn delete_acl(api: &AlbClient, waiter: &Deadline, acl: &OwnedAcl) -> Result<()> {
    tracing::info!(acl_id = acl.id(), "deleting ALB ACL");
    match acl_write(api, waiter, "DeleteAcl", &json!({ "AclId": acl.id() })).await {
        Ok(_) => wait_acl(api, waiter, acl.id(), true, "delete ACL").await,
        Err(Error::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Make the listener's access control what `want` says: our ACL created,
/// filled and associated with the right type, or dissociated and deleted
/// for `None`. ACLs that are not ours are never written to; a listener
/// using one is refused before any write.
pub(crate) async fn apply(api: &AlbClient, waiter: &Deadline, listener: &Owned, want: Option<&Access>) -> Result<()> {
    let attr = api.get_listener(listener.as_str()).await?;
    let (kind, in_use) = acl_config(&attr);
    let mine = ours(api, listener).await?;
    if let Some(foreign) = in_use.iter().find(|id| !mine.iter().any(|m| m.id() == id.as_str())) {
        // Not made for this listener: never dissociated or changed here.
        return Err(Error::NotOwned {
            vendor: API,
            listener_id: foreign.clone(),
            instance: listener.as_str().to_string(),
            owner: None,
        });
    }
    let associated = |acl: &OwnedAcl| in_use.iter().any(|id| id == acl.id());

    let Some(want) = want else {
        for acl in &mine {
            if associated(acl) {
                associate(api, waiter, listener, acl, None).await?;
            }
            delete_acl(api, waiter, acl).await?;
        }
        return Ok(());
    };

    let (acl, extra) = match mine.split_first() {
        Some((first, rest)) => (first.clone(), rest.to_vec()),
        None => (create(api, waiter, listener).await?, Vec::new()),
    };
    let want_type = acl_type(want.mode);
    let mut on = associated(&acl);
    if on && kind.as_deref() != Some(want_type) {
        associate(api, waiter, listener, &acl, None).await?;
        on = false;
    }
    let have = entries(api.api(), acl.id()).await?;
    let wanted: BTreeSet<String> = want.cidrs.iter().cloned().collect();
    let add: Vec<String> = wanted.difference(&have).cloned().collect();
    let remove: Vec<String> = have.difference(&wanted).cloned().collect();
    // Add before removing: an allow list never passes through a moment
    // with fewer sources than both the old and the new one allow.
    for batch in acl_entry_batches(&add) {
        acl_write(
            api,
            waiter,
            "AddEntriesToAcl",
            &json!({ "AclId": acl.id(), "AclEntries": batch }),
        )
        .await?;
        wait_acl(api, waiter, acl.id(), false, "add ACL entries").await?;
    }
    for batch in remove.chunks(ACL_ENTRIES_PER_CALL) {
        acl_write(
            api,
            waiter,
            "RemoveEntriesFromAcl",
            &json!({ "AclId": acl.id(), "Entries": batch }),
        )
        .await?;
        wait_acl(api, waiter, acl.id(), false, "remove ACL entries").await?;
    }
    if !on {
        associate(api, waiter, listener, &acl, Some(want_type)).await?;
    }
    // Left over from an interrupted run: ours, unused, so removed.
    for acl in extra.iter().filter(|a| !associated(a)) {
        delete_acl(api, waiter, acl).await?;
    }
    Ok(())
}

/// `CreateAcl` for `listener`, named and marked, followed to `Available`.
async fn create(api: &AlbClient, waiter: &Deadline, listener: &Owned) -> Result<OwnedAcl> {
    let params = json!({
        "AclName": acl_name(listener.as_str()),
        "Tag": [{ "Key": MARK_TAG_KEY, "Value": listener.as_str() }],
    });
    tracing::info!(listener_id = listener.as_str(), "creating ALB ACL");
    let body = acl_write(api, waiter, "CreateAcl", &params).await?;
    let id = get_str(&body, "AclId")
        .ok_or_else(|| crate::client::unexpected("CreateAcl answered without an AclId"))?
        .to_string();
    wait_acl(api, waiter, &id, false, "create ACL").await?;
    // Made here with this mark; the proof is the same as for a found one.
    prove(
        listener,
        &AclInfo {
            id,
            status: "Available".into(),
            mark: Some(listener.as_str().to_string()),
        },
    )
}

/// The ACLs made for a listener about to be deleted, proven ours, to be
/// removed by [`delete_owned`] once the listener is gone (a deleted
/// listener releases its ACLs).
/// An ACL of our name that fails the proof is someone else's: it is left
/// alone, and does not stop the listener's deletion.
pub(crate) async fn owned(api: &AlbClient, listener: &Owned) -> Result<Vec<OwnedAcl>> {
    let found = list_acls(api.api(), "AclNames", &[acl_name(listener.as_str())]).await?;
    Ok(found
        .iter()
        .filter_map(|a| match prove(listener, a) {
            Ok(acl) => Some(acl),
            Err(e) => {
                tracing::warn!(acl_id = %a.id, error = %e, "ACL named for this listener is not ours; left alone");
                None
            }
        })
        .collect())
}

/// Delete the ACLs [`owned`] found.
pub(crate) async fn delete_owned(api: &AlbClient, waiter: &Deadline, acls: &[OwnedAcl]) -> Result<()> {
    for acl in acls {
        delete_acl(api, waiter, acl).await?;
    }
    Ok(())
}

/// `UpdateListenerLogConfig` with `params` (from
/// [`log_config_params`](crate::translate::log_config_params)), followed
/// to the listener's `Running`.
pub(crate) async fn update_log_config(
    api: &AlbClient,
    waiter: &Deadline,
    listener: &Owned,
    params: &Map<String, Value>,
) -> Result<()> {
    let mut p = params.clone();
    p.insert("ListenerId".into(), json!(listener.as_str()));
    tracing::info!(listener_id = listener.as_str(), "updating ALB listener log settings");
    acl_write(api, waiter, "UpdateListenerLogConfig", &Value::Object(p)).await?;
    wait_running(api, waiter, "log", listener.as_str(), "update listener log settings").await?;
    Ok(())
}
