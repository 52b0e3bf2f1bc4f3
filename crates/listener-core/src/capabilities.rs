//! What a provider can do, as a value.
//!
//! Capabilities are declared, not discovered: each adapter states them once,
//! the portability report and `docs/capabilities.md` are generated from them,
//! and the shared conformance tests run only what a provider claims. They
//! summarise; the authoritative per-field rules are in each adapter's `check`.

use serde::Serialize;

use crate::spec::Protocol;

/// A flat description of one provider's listener support.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capabilities {
    /// The adapter's API name, e.g. `tencent-gaap`.
    pub api: &'static str,
    /// The vendor and product, for humans.
    pub product: &'static str,
    /// Protocols a listener can have.
    pub protocols: &'static [Protocol],
    /// Whether one vendor listener can hold several ports (else the adapter
    /// makes one listener per port).
    pub multi_port_listener: bool,
    /// Whether one create call can make listeners for several ports.
    pub batch_create: bool,
    /// Whether a listener can span a port range.
    pub port_ranges: bool,
    /// Lowest and highest usable port.
    pub port_limits: (u32, u32),
    /// Whether mutual TLS (client certificates) is supported.
    pub mutual_tls: bool,
    /// Whether more than one client CA can be attached.
    pub multiple_client_cas: bool,
    /// Whether more than one server certificate can be attached at creation.
    pub multiple_server_certificates: bool,
    /// Whether `tls.policy` (TLS versions and ciphers) can be chosen. Where
    /// the choice depends on the instance (GAAP connections describe it),
    /// `true`: the adapter refuses at run time where it is missing.
    pub tls_policy: bool,
    /// Whether HTTP/2 can be switched.
    pub http2: bool,
    /// Whether HTTP/3 can be offered on an HTTPS listener.
    pub http3: bool,
    /// Whether SNI (per-domain certificates) is supported.
    pub sni: bool,
    /// Whether session persistence / client affinity exists.
    pub session_persistence: bool,
    /// Whether listener health checks exist (else they live elsewhere).
    pub listener_health_check: bool,
    /// Whether a listener carries tags (`tags`).
    pub tags: bool,
    /// Whether a listener can be stopped and started again (`enabled`).
    pub stop_start: bool,
    /// Whether a listener takes source-address access control (`access`),
    /// with the listener's own meaning (not an instance-wide firewall).
    pub access_control: bool,
    /// Whether the adapter translates a listener's `routes` (host and path
    /// routing, `docs/routing.md`) so that the cloud routes every request
    /// as the neutral semantics say. Until it does, the shared preflight
    /// refuses any listener with routes, before any call.
    pub routes: bool,
    /// Whether the adapter translates a listener's `backend` (a pool of
    /// the file's `backends`, inline or mapped). Until it does, the shared
    /// preflight refuses it; `forwarding.default_target` still names an
    /// existing vendor pool.
    pub backends: bool,
    /// Whether the vendor accepts only one write (create, update, delete)
    /// at a time per instance, answering "busy" otherwise. Apply then
    /// serialises writes per instance and overlaps work across instances.
    pub serial_writes: bool,
    /// Whether a create carries an idempotency token.
    pub idempotency_token: bool,
    /// Whether a default forwarding target is required on create.
    pub requires_default_target: bool,
    /// Spec paths that cannot change after creation (change = replace).
    pub immutable_fields: &'static [&'static str],
    /// Spec paths the vendor accepts but never reports back; drift on them
    /// cannot be detected and is not reported.
    pub write_only_fields: &'static [&'static str],
    /// Values the vendor reports back for a setting nobody set, as (spec
    /// path, value): a read-back names them (an immutable setting must be
    /// compared), but a migration that drops one loses nothing, since it
    /// is what the vendor does anyway.
    pub vendor_defaults: &'static [(&'static str, &'static str)],
    /// Listeners per instance (the vendor's default quota). Every vendor
    /// lets it be raised, so going past it is logged, never refused.
    pub max_listeners_per_instance: u32,
    /// Documented calls per second for the listener actions.
    pub rate_limit_per_second: f64,
    /// Whether the provider manages backend pools
    /// ([`crate::Provider::pools`] returns the implementation).
    pub pools: bool,
    /// Whether the provider manages rules (routes) on listeners
    /// ([`crate::Provider::rules`] returns the implementation).
    pub rules: bool,
    /// Whether the vendor has no shared pool object the tool can name and
    /// list, so an inline backend's endpoints are bound on each rule that
    /// forwards to it (CLB targets, GAAP real servers, GA endpoint groups).
    /// The plan then makes no pool resources for inline backends: each rule
    /// carries its endpoints ([`crate::NewRule::pool`], read back in
    /// [`crate::Rule::pool`]), and the listener's default backend is its
    /// root rule (see [`crate::RouteSpec`]).
    pub pools_on_rules: bool,
    /// Whether a route's certificate is a property of the rule (CLB and
    /// GAAP domains): the plan compares and passes
    /// [`crate::RouteSpec::certificate`]. When not, the listener carries
    /// route certificates (ALB, GA additional certificates) and the plan
    /// leaves them out of the rules.
    pub route_certificates_on_rules: bool,
    /// Where the adapter keeps the management mark that says which owner
    /// made a listener (see [`crate::mark`]), for humans: a listener tag
    /// where the API has them, else a description or name suffix.
    pub management_mark: &'static str,
}

impl Default for Capabilities {
    /// [`Capabilities::BASE`].
    fn default() -> Self {
        Capabilities::BASE
    }
}

impl Capabilities {
    /// The base every declaration spreads from (`..Capabilities::BASE`):
    /// it claims no optional feature (every flag `false`, no immutable or
    /// write-only path), so a flag added later is off for every provider
    /// until its adapter claims it, and no declaration has to change. The
    /// identity (`api`, `product`), `protocols` and the quota and rate are
    /// placeholders each adapter sets: zero listeners and one call per
    /// second are deliberately unusable-looking.
    pub const BASE: Capabilities = Capabilities {
        api: "",
        product: "",
        protocols: &[],
        multi_port_listener: false,
        batch_create: false,
        port_ranges: false,
        port_limits: (1, 65535),
        mutual_tls: false,
        multiple_client_cas: false,
        multiple_server_certificates: false,
        tls_policy: false,
        http2: false,
        http3: false,
        sni: false,
        session_persistence: false,
        listener_health_check: false,
        tags: false,
        stop_start: false,
        access_control: false,
        routes: false,
        backends: false,
        serial_writes: false,
        idempotency_token: false,
        requires_default_target: false,
        immutable_fields: &[],
        write_only_fields: &[],
        vendor_defaults: &[],
        max_listeners_per_instance: 0,
        rate_limit_per_second: 1.0,
        pools: false,
        rules: false,
        pools_on_rules: false,
        route_certificates_on_rules: false,
        management_mark: "",
    };

    /// Whether a change at `field` (a spec path) touches an immutable path:
    /// the field lies under one, or the change replaces a whole section that
    /// holds one (removing `tls.client_auth` changes `tls.client_auth.verify`).
    pub fn is_immutable(&self, field: &str) -> bool {
        self.immutable_fields
            .iter()
            .any(|f| path_within(field, f) || path_within(f, field))
    }

    /// Whether `field` falls under a write-only path.
    pub fn is_write_only(&self, field: &str) -> bool {
        self.write_only_fields.iter().any(|f| path_within(field, f))
    }

    /// Whether `value` at `field` is what the vendor reports for a setting
    /// nobody set ([`Capabilities::vendor_defaults`]).
    pub fn is_vendor_default(&self, field: &str, value: &str) -> bool {
        self.vendor_defaults.iter().any(|(f, v)| *f == field && *v == value)
    }

    /// Render the capabilities of several providers as a Markdown table,
    /// one column per provider (used for `docs/capabilities.md`).
    pub fn markdown_table(all: &[Capabilities]) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        let mut rows: Vec<(String, Vec<String>)> = Vec::new();
        let mut row = |name: &str, f: &dyn Fn(&Capabilities) -> String| {
            rows.push((name.to_string(), all.iter().map(f).collect()));
        };
        row("product", &|c| c.product.to_string());
        row("protocols", &|c| {
            c.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
        });
        row("several ports in one listener", &|c| yes(c.multi_port_listener).into());
        row("several ports in one create call", &|c| yes(c.batch_create).into());
        row("port ranges", &|c| yes(c.port_ranges).into());
        row("usable ports", &|c| format!("{}-{}", c.port_limits.0, c.port_limits.1));
        row("mutual TLS", &|c| yes(c.mutual_tls).into());
        row("several client CAs", &|c| yes(c.multiple_client_cas).into());
        row("several server certificates", &|c| {
            yes(c.multiple_server_certificates).into()
        });
        row("TLS policy (versions, ciphers)", &|c| yes(c.tls_policy).into());
        row("HTTP/2 switch", &|c| yes(c.http2).into());
        row("HTTP/3", &|c| yes(c.http3).into());
        row("SNI", &|c| yes(c.sni).into());
        row("session persistence", &|c| yes(c.session_persistence).into());
        row("health check on the listener", &|c| yes(c.listener_health_check).into());
        row("tags on the listener", &|c| yes(c.tags).into());
        row("stop and start (`enabled`)", &|c| yes(c.stop_start).into());
        row("source-address access control (`access`)", &|c| {
            yes(c.access_control).into()
        });
        row("host and path routes (`routes`)", &|c| yes(c.routes).into());
        row("backend pools (`backend`, `backends`)", &|c| yes(c.backends).into());
        row(
            "where a pool's endpoints live",
            &|c| match (c.backends || c.routes, c.pools_on_rules) {
                (false, _) => "-".into(),
                (true, true) => "bound on each rule".into(),
                (true, false) => "a pool object".into(),
            },
        );
        row(
            "where a route's certificate lives",
            &|c| match (c.routes, c.route_certificates_on_rules) {
                (false, _) => "-".into(),
                (true, true) => "the rule's domain".into(),
                (true, false) => "the listener (additional certificates)".into(),
            },
        );
        row("one write at a time per instance", &|c| yes(c.serial_writes).into());
        row("idempotency token", &|c| yes(c.idempotency_token).into());
        row("default target required", &|c| yes(c.requires_default_target).into());
        row("immutable after creation", &|c| {
            c.immutable_fields
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        row("not read back", &|c| {
            if c.write_only_fields.is_empty() {
                "-".into()
            } else {
                c.write_only_fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        });
        row(
            "listeners per instance (default quota; past it a warning, not a refusal)",
            &|c| c.max_listeners_per_instance.to_string(),
        );
        row("documented rate (calls/s)", &|c| format!("{}", c.rate_limit_per_second));
        row(
            "management mark ([who made the listener](config.md#management-marks))",
            &|c| c.management_mark.to_string(),
        );

        let mut out = String::new();
        out.push_str("| capability |");
        for c in all {
            out.push_str(&format!(" `{}` |", c.api));
        }
        out.push('\n');
        out.push_str("|---|");
        for _ in all {
            out.push_str("---|");
        }
        out.push('\n');
        for (name, cells) in rows {
            out.push_str(&format!("| {name} |"));
            for cell in cells {
                out.push_str(&format!(" {cell} |"));
            }
            out.push('\n');
        }
        out
    }
}

/// Whether `field` equals `root` or lies below it (`tls.http3` is within `tls`).
pub fn path_within(field: &str, root: &str) -> bool {
    field == root
        || field
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn removing_a_section_that_holds_an_immutable_field_is_immutable() {
        let caps = Capabilities {
            immutable_fields: &["tls.client_auth.verify"],
            ..crate::capabilities::tests::sample()
        };
        assert!(caps.is_immutable("tls.client_auth"));
        assert!(caps.is_immutable("tls.client_auth.verify"));
        assert!(!caps.is_immutable("tls.client_auth.ca_certificates"));
    }

    pub(crate) fn sample() -> Capabilities {
        Capabilities {
            api: "sample",
            product: "sample",
            max_listeners_per_instance: 50,
            rate_limit_per_second: 20.0,
            ..Capabilities::BASE
        }
    }

    #[test]
    fn the_base_claims_nothing_optional() {
        let base = Capabilities::default();
        assert_eq!(base, Capabilities::BASE);
        let table = Capabilities::markdown_table(std::slice::from_ref(&base));
        assert!(!table.contains("| yes"), "the base claims a feature:\n{table}");
        assert!(base.immutable_fields.is_empty() && base.write_only_fields.is_empty());
        assert!(!base.pools && !base.rules, "the base claims a resource kind");
        assert!(!base.routes && !base.backends, "the base translates routes or backends");
    }

    #[test]
    fn path_within_matches_children_not_siblings() {
        assert!(path_within("tls.http3", "tls.http3"));
        assert!(path_within("tls.http3", "tls"));
        assert!(path_within("ports[1]", "ports"));
        assert!(!path_within("tls.http2", "tls.http3"));
        assert!(!path_within("protocolx", "protocol"));
    }
}
