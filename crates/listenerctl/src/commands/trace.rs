//! `listenerctl trace`: where a request goes, according to the file.

use clap::Args as ClapArgs;
use serde::Serialize;

use cloud_listeners::routing::{self, Destination};
use cloud_listeners::{BackendEndpoint, ListenerSpec, ProfileConfig, Protocol, Transport};

use super::Run;
use crate::cli::{Global, Remote, Source};
use crate::session::{block_on, OneProfile};

mod live;
use crate::diag::{Exit, Failure, Problem};
use crate::load::{self, Loaded};
use crate::output::{json_out, print, print_json};

/// Show which listener, route, backend and endpoints a request reaches,
/// from the file alone (the neutral routing rules of docs/routing.md).
///
/// The listener is the one serving the URL's port (80 for http, 443 for
/// https when the URL names none); a layer-4 listener on that port takes
/// the connection whatever the scheme. With --profile, target and
/// certificate aliases are shown with that profile's IDs, and what the
/// profile's API would refuse about the listener is listed. Sends nothing,
/// unless --live: then the profile's instance is read (listeners, rules,
/// pools; never written) and the answer of what the cloud holds now is
/// shown beside the file's, with whether they agree. Exit 2 when no
/// listener of the file serves the URL; with --live, exit 3 when the cloud
/// sends the request elsewhere than the file says (other endpoints or
/// another certificate), as `plan` exits 3 on pending changes.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The file, the profile and, with --live, where to send the reads.
    #[command(flatten)]
    pub remote: Remote,
    /// Also ask the profile's instance where the request goes now (reads
    /// only): check a migration before moving DNS.
    #[arg(long)]
    pub live: bool,
    /// The request, e.g. `https://api.example.com/v1/users` or
    /// `http://www.example.com:8080/`.
    #[arg(value_name = "URL")]
    pub url: String,
}

impl Run for Args {
    fn source(&self) -> Option<&Source> {
        Some(&self.remote.source)
    }

    fn emulate(&self) -> bool {
        self.remote.emulate
    }

    fn run(&self, global: &Global) -> Result<Exit, Failure> {
        let request = Request::parse(&self.url).map_err(|why| {
            Failure::invalid(
                "usage",
                Problem {
                    field: Some("URL".into()),
                    ..Problem::message(why)
                }
                .rule("url_format"),
            )
        })?;
        if self.live {
            return block_on(async {
                let one = OneProfile::open(global).await?;
                let outcome = traced_live(&one, &request, &self.url).await;
                one.close().await;
                let (traced, exit) = outcome?;
                show(global, &traced);
                Ok(exit)
            });
        }
        let loaded = load::load(global.file.as_deref())?;
        let profile = match global.profile.as_deref() {
            Some(p) => Some(loaded.select(Some(p))?.0),
            None => None,
        };
        show(global, &trace(&loaded, profile.as_deref(), &request, &self.url)?);
        Ok(Exit::Ok)
    }
}

fn show(global: &Global, traced: &Trace) {
    if json_out(global) {
        print_json(traced);
    } else {
        print(&traced.render_text());
    }
}

/// The file's answer for the profile of `one`, with the instance's answer
/// beside it; exit 3 when they differ.
async fn traced_live(one: &OneProfile, request: &Request, url: &str) -> Result<(Trace, Exit), Failure> {
    let mut traced = trace(&one.loaded, Some(&one.name), request, url)?;
    let provider = one.provider()?;
    let file_certificate = traced.certificate.as_ref().and_then(|c| c.id.clone());
    let answer = live::read(provider.as_ref(), &one.profile, request, file_certificate.as_deref())
        .await
        .map_err(|e| one.fail(&e))?;
    let answer = answer.ok_or_else(|| {
        Failure::invalid(
            "no_listener",
            Problem {
                field: Some("URL".into()),
                ..Problem::message(format!(
                    "profile `{}`: instance {} has no listener on TCP port {} (`--live` reads what the cloud holds; \
                     apply the file first)",
                    one.name, one.profile.instance, request.port
                ))
            }
            .rule("no_live_listener"),
        )
    })?;
    let answer = answer.compared_with(&traced);
    let exit = if answer.agrees { Exit::Ok } else { Exit::Changes };
    traced.live = Some(answer);
    Ok((traced, exit))
}

/// The parts of a URL that routing looks at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// `http` or `https`.
    pub scheme: Protocol,
    /// The host as written (routing lowercases it).
    pub host: String,
    /// The port: written, or the scheme's.
    pub port: u32,
    /// The path with its query string; `/` when the URL has none.
    pub target: String,
}

impl Request {
    /// Read `http[s]://host[:port][/path][?query]`.
    pub fn parse(url: &str) -> Result<Request, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` is not a URL; write it as https://host/path"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Protocol::Http,
            "https" => Protocol::Https,
            other => return Err(format!("scheme `{other}` is not traced; use http:// or https://")),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(end);
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
            let close = inner
                .find(']')
                .ok_or_else(|| format!("`{url}`: unclosed `[` in the host"))?;
            let port = inner[close + 1..].strip_prefix(':');
            (&authority[..close + 2], port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(format!("`{url}` names no host"));
        }
        let port = match port {
            None | Some("") => {
                if scheme == Protocol::Https {
                    443
                } else {
                    80
                }
            }
            Some(p) => p
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=65535).contains(p))
                .ok_or_else(|| format!("`{p}` is not a port from 1 to 65535"))?,
        };
        let target = if target.is_empty() || target.starts_with(['?', '#']) {
            format!("/{target}")
        } else {
            target.to_string()
        };
        Ok(Request {
            scheme,
            host: host.to_string(),
            port,
            target,
        })
    }
}

/// The listener that serves a request.
#[derive(Debug, Clone, Serialize)]
pub struct TracedListener {
    /// Its index in the file.
    pub index: usize,
    /// Its name.
    pub name: String,
    /// Its protocol.
    pub protocol: Protocol,
    /// The port the request came in on.
    pub port: u32,
}

/// The route a request takes.
#[derive(Debug, Clone, Serialize)]
pub struct TracedRoute {
    /// Its index in the listener's `routes`.
    pub index: usize,
    /// Its path in the file (`listeners[0].routes[2]`).
    pub field: String,
    /// Its host.
    pub host: String,
    /// Its path prefix.
    pub path: String,
}

/// Where a request ends up.
#[derive(Debug, Clone, Serialize)]
pub struct TracedBackend {
    /// `backend` (a pool of the file), `target` (a vendor pool by target
    /// alias, `forwarding.default_target`) or `nothing`.
    pub kind: &'static str,
    /// The backend's name, for `backend`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the default backend took the request (no route did).
    pub default: bool,
    /// The endpoints of an inline pool.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<BackendEndpoint>,
    /// The target alias of a vendor pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The vendor pool's ID in the chosen profile, when it maps the alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

/// The certificate a TLS request is served with.
#[derive(Debug, Clone, Serialize)]
pub struct TracedCertificate {
    /// Its alias.
    pub alias: String,
    /// Where it comes from: `route` (the host's own) or `listener`.
    pub from: &'static str,
    /// Its ID in the chosen profile, when it maps the alias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A refusal of the chosen profile's API about the traced listener.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    /// The field, from the document's root.
    pub field: String,
    /// The vendor rule.
    pub rule: String,
    /// Why.
    pub reason: String,
}

/// The whole answer (also the `--output json` shape).
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    /// The URL as given.
    pub url: String,
    /// What routing looked at.
    pub request: Request,
    /// The listener.
    pub listener: TracedListener,
    /// The route taken; `null` when the default backend took the request
    /// or the listener has no routes.
    pub route: Option<TracedRoute>,
    /// The backend reached.
    pub backend: TracedBackend,
    /// The certificate served (HTTPS listeners).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<TracedCertificate>,
    /// The profile whose IDs are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// What that profile's API would refuse about the listener (it would
    /// not be applied as the file says).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Note>,
    /// With `--live`: where the profile's instance sends the request now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<live::Answer>,
}

/// The listener of `file` serving `request`, or a failure naming the ports
/// the file serves.
fn find_listener<'a>(loaded: &'a Loaded, request: &Request, url: &str) -> Result<(usize, &'a ListenerSpec), Failure> {
    let listeners = &loaded.file.listeners;
    let on_port = listeners.iter().enumerate().find(|(_, l)| {
        l.protocol.transport() == Transport::Tcp && l.ports.ranges().iter().any(|r| r.contains(request.port))
    });
    let problem = |message: String, rule: &str| {
        Failure::invalid(
            "no_listener",
            Problem {
                file: Some(loaded.path.clone()),
                field: Some("URL".into()),
                ..Problem::message(message)
            }
            .rule(rule),
        )
    };
    match on_port {
        None => {
            let served: Vec<String> = listeners
                .iter()
                .filter(|l| l.protocol.transport() == Transport::Tcp)
                .map(|l| format!("{} {} ({})", l.protocol, l.ports, l.name))
                .collect();
            Err(problem(
                format!(
                    "no listener of the file serves TCP port {} for `{url}`; listeners: {}",
                    request.port,
                    if served.is_empty() {
                        "none on TCP".to_string()
                    } else {
                        served.join(", ")
                    }
                ),
                "no_listener",
            ))
        }
        Some((_, l)) if l.protocol.is_layer7() && l.protocol != request.scheme => Err(problem(
            format!(
                "listener `{}` on port {} speaks {}, not {}",
                l.name, request.port, l.protocol, request.scheme
            ),
            "scheme_mismatch",
        )),
        Some(found) => Ok(found),
    }
}

fn trace(loaded: &Loaded, profile: Option<&str>, request: &Request, url: &str) -> Result<Trace, Failure> {
    let (index, listener) = find_listener(loaded, request, url)?;
    let backends = &loaded.file.backends;
    let profile_config: Option<&ProfileConfig> = profile.map(|p| loaded.profile(p));
    let resolution = if listener.protocol.is_layer7() {
        routing::resolve(listener, backends, &request.host, &request.target)
    } else {
        // A layer-4 listener takes every connection to its one backend.
        routing::Resolution {
            route: None,
            matched: None,
            destination: routing::default_destination(listener, backends),
        }
    };
    let route = resolution.route.zip(resolution.matched).map(|(i, r)| TracedRoute {
        index: i,
        field: format!("listeners[{index}].routes[{i}]"),
        host: r.host.clone(),
        path: r.path.clone(),
    });
    let target_id = |alias: &str| profile_config.and_then(|p| p.aliases.target(alias)).map(str::to_string);
    let default = resolution.route.is_none();
    let backend = match &resolution.destination {
        Destination::Backend { name, pool } => TracedBackend {
            kind: "backend",
            name: Some(name.to_string()),
            default,
            endpoints: pool.map(|p| p.endpoints.clone()).unwrap_or_default(),
            target: pool.and_then(|p| p.target.clone()),
            target_id: pool.and_then(|p| p.target.as_deref()).and_then(target_id),
        },
        Destination::Target { alias } => TracedBackend {
            kind: "target",
            name: None,
            default,
            endpoints: Vec::new(),
            target: Some(alias.to_string()),
            target_id: target_id(alias),
        },
        Destination::Nothing => TracedBackend {
            kind: "nothing",
            name: None,
            default,
            endpoints: Vec::new(),
            target: None,
            target_id: None,
        },
    };
    let cert_id = |alias: &str| {
        profile_config
            .and_then(|p| p.aliases.certificate(alias))
            .map(str::to_string)
    };
    // Chosen by the host alone (SNI), else the listener's first.
    let host_cert = routing::certificate_for(&listener.routes, &request.host).map(str::to_string);
    let certificate = if listener.protocol.terminates_tls() {
        match host_cert {
            Some(alias) => Some(TracedCertificate {
                id: cert_id(&alias),
                alias,
                from: "route",
            }),
            None => listener.server_certificates().first().map(|alias| TracedCertificate {
                id: cert_id(alias),
                alias: alias.clone(),
                from: "listener",
            }),
        }
    } else {
        None
    };
    let mut refused = Vec::new();
    if let Some(name) = profile {
        let checked = loaded.check(name)?;
        for (i, r) in checked.rejections {
            if i == index {
                refused.push(Note {
                    field: format!("listeners[{i}].{}", r.field),
                    rule: r.rule.to_string(),
                    reason: r.reason,
                });
            }
        }
    }
    Ok(Trace {
        url: url.to_string(),
        request: request.clone(),
        listener: TracedListener {
            index,
            name: listener.name.clone(),
            protocol: listener.protocol,
            port: request.port,
        },
        route,
        backend,
        certificate,
        profile: profile.map(str::to_string),
        refused,
        live: None,
    })
}

impl Trace {
    /// The answer for people.
    pub fn render_text(&self) -> String {
        let mut out = format!("{}\n", self.url);
        let l = &self.listener;
        out.push_str(&format!(
            "  listener     {} (listeners[{}], {} port {})\n",
            l.name, l.index, l.protocol, l.port
        ));
        match &self.route {
            Some(r) => out.push_str(&format!(
                "  route        host {} path {} ({})\n",
                r.host, r.path, r.field
            )),
            None if l.protocol.is_layer7() => {
                out.push_str("  route        none matched: the default backend takes it\n")
            }
            None => out.push_str("  route        none: a layer-4 listener forwards every connection\n"),
        }
        if let Some(c) = &self.certificate {
            out.push_str(&format!("  certificate  {} (the {}'s)", c.alias, c.from));
            if let Some(id) = &c.id {
                out.push_str(&format!(" = {id}"));
            }
            out.push('\n');
        }
        let b = &self.backend;
        match b.kind {
            "backend" => {
                let name = b.name.as_deref().unwrap_or_default();
                match &b.target {
                    Some(alias) => {
                        out.push_str(&format!(
                            "  backend      {name} (existing vendor pool, target `{alias}`"
                        ));
                        if let Some(id) = &b.target_id {
                            out.push_str(&format!(" = {id}"));
                        }
                        out.push_str(")\n");
                    }
                    None => out.push_str(&format!("  backend      {name} (inline pool)\n")),
                }
            }
            "target" => {
                let alias = b.target.as_deref().unwrap_or_default();
                out.push_str(&format!("  backend      default target `{alias}`"));
                if let Some(id) = &b.target_id {
                    out.push_str(&format!(" = {id}"));
                }
                out.push('\n');
            }
            _ => out.push_str("  backend      none: the listener has no backend\n"),
        }
        for e in &b.endpoints {
            out.push_str(&format!("  endpoint     {} weight {}\n", endpoint(e), e.weight));
        }
        if let Some(live) = &self.live {
            out.push_str(&live.render_text());
        }
        if let Some(p) = &self.profile {
            if self.refused.is_empty() {
                out.push_str(&format!("  profile      {p}: takes this listener\n"));
            } else {
                out.push_str(&format!("  profile      {p} would refuse this listener:\n"));
                for n in &self.refused {
                    out.push_str(&format!("    {}: {} [{}]\n", n.field, n.reason, n.rule));
                }
            }
        }
        out
    }
}

fn endpoint(e: &BackendEndpoint) -> String {
    if e.address.contains(':') {
        format!("[{}]:{}", e.address, e.port)
    } else {
        format!("{}:{}", e.address, e.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_scheme_host_port_and_target() {
        let r = Request::parse("https://API.example.com/v1/users?x=1").expect("parses");
        assert_eq!(
            (r.scheme, r.host.as_str(), r.port, r.target.as_str()),
            (Protocol::Https, "API.example.com", 443, "/v1/users?x=1")
        );
        let r = Request::parse("http://a.example.com:8080").expect("parses");
        assert_eq!((r.port, r.target.as_str()), (8080, "/"));
        let r = Request::parse("http://[2001:db8::1]:81/x").expect("parses");
        assert_eq!((r.host.as_str(), r.port), ("[2001:db8::1]", 81));
        let r = Request::parse("http://a.example.com?q").expect("parses");
        assert_eq!(r.target, "/?q");
        for bad in [
            "a.example.com/x",
            "ftp://a.example.com/",
            "http://a.example.com:0/",
            "http:///x",
        ] {
            assert!(Request::parse(bad).is_err(), "{bad}");
        }
    }
}
