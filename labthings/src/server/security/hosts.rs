//! Which `Host` a request may name: the defence against DNS rebinding.
//!
//! A web page on another site can make a browser send requests to a server on the lab
//! network, or on the same machine, by pointing a host name of its own at the server's
//! address. Such requests name the attacker's host; a server that only answers to its own
//! names and addresses refuses them.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

/// The names a server answers to.
#[derive(Debug, Clone)]
pub(crate) struct HostPolicy {
    /// Host names and addresses, lower case, without port or brackets.
    names: HashSet<String>,
    /// `*` was configured: any host (behind a reverse proxy that checks it).
    any: bool,
}

impl HostPolicy {
    /// The names a server bound to `bind` answers to: the loopback names, `configured`, and —
    /// unless bound to a loopback address — the addresses of the machine's interfaces.
    pub(crate) fn new(bind: Option<SocketAddr>, configured: &[String]) -> Self {
        let mut names: HashSet<String> = ["localhost", "127.0.0.1", "::1"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let any = configured.iter().any(|h| h == "*");
        names.extend(configured.iter().map(|h| normalise(h)));
        if !bind.is_some_and(|addr| addr.ip().is_loopback()) {
            if let Ok(interfaces) = if_addrs::get_if_addrs() {
                names.extend(interfaces.iter().map(|i| i.ip().to_string()));
            }
            if let Some(addr) = bind.filter(|a| !a.ip().is_unspecified()) {
                names.insert(addr.ip().to_string());
            }
        }
        Self { names, any }
    }

    /// Check the `Host` header of a request: `Ok` when it names this server.
    pub(crate) fn check(&self, host: Option<&str>) -> Result<(), String> {
        let Some(host) = host else {
            return Err("the request has no Host header".to_owned());
        };
        let Some(name) = host_name(host) else {
            return Err("the Host header is not a host name, an IP address and a port".to_owned());
        };
        if self.any || self.names.contains(&name) {
            Ok(())
        } else {
            Err(format!(
                "this server does not answer to the host '{name}': reach it by one of its own names or addresses (the configuration's `allowed_hosts` lists more)"
            ))
        }
    }
}

fn normalise(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The host name of a `Host` header (`name[:port]`, `[v6]:port`), lower case, if it is one.
pub(crate) fn host_name(host: &str) -> Option<String> {
    let name = if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        if !(after.is_empty() || port(after.strip_prefix(':')?)) {
            return None;
        }
        address.parse::<IpAddr>().ok()?;
        address
    } else {
        match host.rsplit_once(':') {
            Some((name, p)) if port(p) => name,
            Some(_) => return None,
            None => host,
        }
    };
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':');
    valid.then(|| name.to_ascii_lowercase())
}

fn port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_are_parsed_strictly() {
        assert_eq!(
            host_name("Lab.example:5000").as_deref(),
            Some("lab.example")
        );
        assert_eq!(host_name("127.0.0.1").as_deref(), Some("127.0.0.1"));
        assert_eq!(host_name("[::1]:80").as_deref(), Some("::1"));
        for bad in ["\"><script>", "a b", "[::1", "[nope]:1", "x:y", ""] {
            assert_eq!(host_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_loopback_server_answers_to_loopback_names_only() {
        let policy = HostPolicy::new(Some("127.0.0.1:5000".parse().unwrap()), &[]);
        assert!(policy.check(Some("localhost:5000")).is_ok());
        assert!(policy.check(Some("127.0.0.1:5000")).is_ok());
        assert!(policy.check(Some("[::1]:5000")).is_ok());
        assert!(policy.check(Some("evil.example:5000")).is_err());
        assert!(policy.check(None).is_err());
        let policy = HostPolicy::new(
            Some("127.0.0.1:5000".parse().unwrap()),
            &["Microscope.local".into()],
        );
        assert!(policy.check(Some("microscope.local:5000")).is_ok());
    }
}
