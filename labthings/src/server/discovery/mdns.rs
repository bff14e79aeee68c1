//! The DNS-SD (mDNS) advertisement of a server on its network, as a W3C WoT Thing
//! Description Directory: `_directory._sub._wot._tcp`, TXT records `td`, `type`, `scheme`.

use std::net::SocketAddr;

use super::WELL_KNOWN;

/// A DNS-SD advertisement, withdrawn when dropped.
pub(crate) struct Advertisement {
    daemon: mdns_sd::ServiceDaemon,
    fullname: String,
}

impl Drop for Advertisement {
    fn drop(&mut self) {
        let _ = self.daemon.unregister(&self.fullname);
        let _ = self.daemon.shutdown();
    }
}

/// The host name the advertisement gives: `{host}.local`.
pub(crate) fn local_host_name() -> String {
    let name = gethostname::gethostname();
    let name = name.to_string_lossy();
    format!("{}.local", name.split('.').next().unwrap_or("labthings"))
}

/// The DNS-SD service type of a Thing Description Directory.
pub(crate) const SERVICE_TYPE: &str = "_directory._sub._wot._tcp.local.";

/// Advertise the server listening on `bind` as `instance`.
pub(crate) fn advertise(
    bind: SocketAddr,
    instance: &str,
    tls: bool,
) -> Result<Advertisement, String> {
    let daemon = mdns_sd::ServiceDaemon::new().map_err(|e| e.to_string())?;
    let host = format!("{}.", local_host_name());
    let properties = [
        ("td", WELL_KNOWN),
        ("type", "Directory"),
        ("scheme", if tls { "https" } else { "http" }),
    ];
    let ip = bind.ip();
    // The addresses of the listener's family only (a `0.0.0.0` listener takes no IPv6).
    let other = if ip.is_ipv4() {
        mdns_sd::IfKind::IPv6
    } else {
        mdns_sd::IfKind::IPv4
    };
    daemon.disable_interface(other).map_err(|e| e.to_string())?;
    let service = if ip.is_unspecified() {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            "",
            bind.port(),
            &properties[..],
        )
        .map(mdns_sd::ServiceInfo::enable_addr_auto)
    } else {
        mdns_sd::ServiceInfo::new(
            SERVICE_TYPE,
            instance,
            &host,
            ip,
            bind.port(),
            &properties[..],
        )
    }
    .map_err(|e| e.to_string())?;
    let fullname = service.get_fullname().to_owned();
    daemon.register(service).map_err(|e| e.to_string())?;
    Ok(Advertisement { daemon, fullname })
}

/// The advertisement of the server listening on `bind`, if it can be made.
pub(crate) fn advertise_on(
    bind: SocketAddr,
    state: &crate::server::state::ServerState,
) -> Option<Advertisement> {
    match advertise(bind, &state.server_id, state.policy.tls) {
        Ok(advertisement) => Some(advertisement),
        Err(error) => {
            tracing::warn!(%error, "the server cannot be advertised over DNS-SD");
            None
        }
    }
}
