//! The admin listener's Host and Origin guard (DNS rebinding, reliability.md T21). A web page can
//! make a victim's browser send requests to `127.0.0.1:8081` under the page's own name, by
//! pointing that name at the loopback address; the request then carries the page's name in
//! `Host` and, cross-origin, its origin in `Origin`. On a loopback listener only loopback names
//! (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`) and the configured `server.admin_hosts`
//! are answered; anything else is refused with 403 before authentication or routing. A request
//! without `Host` (HTTP/1.0 tools) is not a browser's and passes.
//!
//! On a listener bound elsewhere (a pod, an internal interface) any name is answered unless
//! `admin_hosts` lists them; `admin_hosts = ["*"]` answers any name on loopback too.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, header};
use smartflow_core::{Error, ErrorKind};

/// Which names the admin listener answers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AdminHosts {
    /// Any name.
    Any,
    /// Loopback names and these (lower-case; `name` for any port, `name:port` for one).
    Listed(Vec<String>),
}

impl AdminHosts {
    /// The policy for a listener on `listen` with the configured `hosts`.
    pub(crate) fn new(listen: SocketAddr, hosts: &[String]) -> Self {
        if hosts.iter().any(|h| h == "*") || (hosts.is_empty() && !listen.ip().is_loopback()) {
            Self::Any
        } else {
            Self::Listed(hosts.iter().map(|h| h.to_ascii_lowercase()).collect())
        }
    }

    /// Refuses a request whose `Host` or `Origin` names a host this listener does not answer to.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Error> {
        let Self::Listed(hosts) = self else { return Ok(()) };
        if let Some(host) = headers.get(header::HOST) {
            let ok = host.to_str().is_ok_and(|h| allows(hosts, h));
            if !ok {
                return Err(refused("Host"));
            }
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let authority = origin.to_str().ok().and_then(|o| o.split_once("://")).map(|(_, rest)| rest);
            // `Origin: null` (sandboxed frames, file pages) names no host: refused too.
            if !authority.is_some_and(|a| !a.contains('/') && allows(hosts, a)) {
                return Err(refused("Origin"));
            }
        }
        Ok(())
    }
}

fn refused(header: &str) -> Error {
    Error::new(
        ErrorKind::PermissionDenied,
        format!("the admin listener does not answer to this {header}; list the name in server.admin_hosts"),
    )
    .with_code("host_not_allowed")
}

/// Whether `authority` (`name`, `name:port`, `[v6]:port`) is a loopback name or listed.
fn allows(hosts: &[String], authority: &str) -> bool {
    let authority = authority.trim().to_ascii_lowercase();
    let name = name_of(&authority);
    loopback(name) || hosts.iter().any(|h| *h == authority || *h == name)
}

/// The name of an authority, without port (and without the brackets of an IPv6 literal).
fn name_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn loopback(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    name == "localhost" || name.ends_with(".localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn loopback_listener(hosts: &[&str]) -> AdminHosts {
        AdminHosts::new("127.0.0.1:8081".parse().unwrap(), &hosts.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>())
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    fn host(value: &str) -> HeaderMap {
        headers(&[(header::HOST, value)])
    }

    #[test]
    fn loopback_names_pass_and_rebound_names_do_not() {
        let g = loopback_listener(&[]);
        for ok in ["127.0.0.1:8081", "localhost:8081", "LOCALHOST", "[::1]:8081", "127.3.4.5", "console.localhost:8081"]
        {
            assert!(g.check(&host(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example:8081",
            "evil.example",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "10.0.0.5:8081",
            "",
        ] {
            let e = g.check(&host(bad)).unwrap_err();
            assert_eq!((e.status_code(), e.code()), (403, Some("host_not_allowed")), "{bad}");
        }
        assert!(g.check(&HeaderMap::new()).is_ok(), "no Host: not a browser");
    }

    #[test]
    fn origins_must_name_an_answered_host() {
        let g = loopback_listener(&[]);
        let with = |origin: &str| headers(&[(header::HOST, "127.0.0.1:8081"), (header::ORIGIN, origin)]);
        assert!(g.check(&with("http://127.0.0.1:8081")).is_ok());
        assert!(g.check(&with("http://localhost:3000")).is_ok());
        for bad in ["https://evil.example", "null", "http://evil.example/path", "garbage"] {
            assert!(g.check(&with(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn listed_names_pass_with_any_port_or_their_own() {
        let g = loopback_listener(&["Admin.Internal", "gw.corp:8443"]);
        assert!(g.check(&host("admin.internal:8081")).is_ok());
        assert!(g.check(&host("gw.corp:8443")).is_ok());
        assert!(g.check(&host("gw.corp:8081")).is_err());
        assert!(g.check(&host("gw.corp")).is_err());
    }

    #[test]
    fn other_listeners_answer_any_name_unless_names_are_listed() {
        let pod = AdminHosts::new("0.0.0.0:8081".parse().unwrap(), &[]);
        assert_eq!(pod, AdminHosts::Any);
        assert!(pod.check(&host("10.0.0.5:8081")).is_ok());
        let listed = AdminHosts::new("0.0.0.0:8081".parse().unwrap(), &["smartflow-admin.ns.svc".to_owned()]);
        assert!(listed.check(&host("smartflow-admin.ns.svc:8081")).is_ok());
        assert!(listed.check(&host("evil.example")).is_err());
        assert_eq!(loopback_listener(&["*"]), AdminHosts::Any);
    }
}
