//! Route certificates as GA additional certificates.
//!
//! A route's certificate (`routes[].certificate`, HTTPS) is served by SNI
//! for its host. GA keeps these on the listener, not on forwarding rules:
//! `AssociateAdditionalCertificatesWithListener` with `Domain` (the route
//! host, exact or `*.` wildcard) and `Id`, one certificate per domain.
//! So the listener translation carries them (`route_certificates_on_rules
//! = false`), and a rotation is an in-place listener update:
//! `UpdateAdditionalCertificateWithListener` swaps the certificate of one
//! domain in one call, so the host is never without one. New domains are
//! associated before changed ones are swapped and before gone ones are
//! dissociated.
//!
//! Read back, each additional certificate shows as a route of its domain
//! (path `/`, no backend) naming the certificate's alias; only this
//! module's plan comparison ([`crate::translate::plan_change`]) reads them.

use std::collections::BTreeMap;

use listener_core::routes::Route;
use listener_core::{Aliases, Deadline, Error, ListenerSpec, Owned, Protocol};

use crate::client::{GaClient, CERTIFICATES_PER_CALL};
use crate::status;

/// Host → certificate alias of the routes that name one (`routes` holds
/// one certificate per host: core rule `certificate_conflict`).
pub fn wanted(spec: &ListenerSpec) -> BTreeMap<String, String> {
    spec.routes
        .iter()
        .filter_map(|r| Some((r.host.to_ascii_lowercase(), r.certificate.clone()?)))
        .collect()
}

/// [`wanted`] with certificate IDs (an alias the profile does not map is
/// sent as written; `check` refused it before).
pub fn wanted_ids(spec: &ListenerSpec, aliases: &Aliases) -> BTreeMap<String, String> {
    wanted(spec)
        .into_iter()
        .map(|(h, a)| {
            let id = aliases.certificate(&a).unwrap_or(&a).to_string();
            (h, id)
        })
        .collect()
}

/// Put the listener's additional certificates (domain → ID) into its
/// read-back: one certificate-carrying route per domain, and `tls.sni`.
pub fn read_into(spec: &mut ListenerSpec, domains: &BTreeMap<String, String>, aliases: &Aliases) {
    for (domain, id) in domains {
        let mut r = Route::new(domain.clone(), "/", String::new());
        r.certificate = Some(aliases.certificate_alias_of(id));
        spec.routes.push(r);
    }
    if let Some(tls) = spec.tls.as_mut() {
        tls.sni = Some(!domains.is_empty());
    }
}

/// Bring the additional certificates of `listener` from `have` to `want`
/// (domain → ID), new before changed before gone, waiting for the
/// listener to be active after each call. Returns whether anything was
/// sent.
pub async fn apply(
    client: &GaClient,
    listener: &Owned,
    have: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
    deadline: &Deadline,
) -> Result<bool, Error> {
    let id = listener.as_str();
    let new: Vec<(String, String)> = want
        .iter()
        .filter(|(d, _)| !have.contains_key(*d))
        .map(|(d, c)| (d.clone(), c.clone()))
        .collect();
    let changed: Vec<(&String, &String)> = want
        .iter()
        .filter(|(d, c)| have.get(*d).is_some_and(|h| h != *c))
        .collect();
    let gone: Vec<String> = have.keys().filter(|d| !want.contains_key(*d)).cloned().collect();
    for chunk in new.chunks(CERTIFICATES_PER_CALL) {
        let token = client.new_token();
        tracing::info!(
            listener = id,
            count = chunk.len(),
            "associating GA additional certificates"
        );
        client.associate_certificates(listener, chunk, &token, deadline).await?;
        status::wait_active(client, id, "certificate association", deadline).await?;
    }
    for (domain, cert) in &changed {
        let token = client.new_token();
        tracing::info!(listener = id, domain = %domain, "rotating GA additional certificate in place");
        client
            .update_certificate(listener, domain, cert, &token, deadline)
            .await?;
        status::wait_active(client, id, "certificate rotation", deadline).await?;
    }
    for chunk in gone.chunks(CERTIFICATES_PER_CALL) {
        let token = client.new_token();
        tracing::info!(
            listener = id,
            count = chunk.len(),
            "dissociating GA additional certificates"
        );
        client
            .dissociate_certificates(listener, chunk, &token, deadline)
            .await?;
        status::wait_active(client, id, "certificate dissociation", deadline).await?;
    }
    Ok(!(new.is_empty() && changed.is_empty() && gone.is_empty()))
}

/// Whether `spec` is a listener that takes additional certificates.
pub fn takes_certificates(spec: &ListenerSpec) -> bool {
    spec.protocol == Protocol::Https
}
