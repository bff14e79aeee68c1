//! The builder's switches of the optional parts: DNS-SD advertisement, metrics, provenance
//! records, registration into a Thing Description Directory.

use super::ThingServer;
#[cfg(feature = "metrics")]
use super::metrics;

impl ThingServer {
    /// Whether to advertise the server on the local network over DNS-SD (mDNS), as a W3C WoT
    /// Thing Description Directory (`_directory._sub._wot._tcp`, `td=/.well-known/wot`), while
    /// serving with [`serve`](Self::serve). By default it is advertised when served on an
    /// address other than loopback.
    #[cfg(feature = "discovery")]
    #[cfg_attr(docsrs, doc(cfg(feature = "discovery")))]
    pub fn advertise(mut self, advertise: bool) -> Self {
        self.advertise = Some(advertise);
        self
    }

    /// Whether to serve Prometheus metrics at `GET /metrics` and keep them (default: yes).
    /// They cost little: see BENCHMARKS.md.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics(mut self, on: bool) -> Self {
        self.metrics = on.then(|| self.metrics.take().unwrap_or_else(metrics::Metrics::new));
        self
    }

    /// What watches the runtime: the metrics, when they are on.
    pub(crate) fn observer(&self) -> crate::runtime::observer::Observers {
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            return Some(metrics.clone());
        }
        None
    }

    /// Whether each invocation keeps a provenance record, served at
    /// `GET /action_invocations/{id}/provenance` (default: yes). The record's snapshot of
    /// every Thing's stored values is taken as each invocation starts: its cost is in
    /// BENCHMARKS.md.
    #[cfg(feature = "provenance")]
    #[cfg_attr(docsrs, doc(cfg(feature = "provenance")))]
    pub fn provenance(mut self, on: bool) -> Self {
        self.provenance = on;
        self
    }

    /// Register the Things into the W3C WoT Thing Description Directory at `directory` (its
    /// API root, e.g. `http://directory.lab.example:8081`, or another labthings server's
    /// `http://host:5000/directory`) while serving with [`serve`](Self::serve): each TD is
    /// put at `{directory}/things/{id}` with a time-to-live of `ttl`, renewed at half of it,
    /// and removed at shutdown. `token` is sent as a bearer token, when the directory needs
    /// one.
    #[cfg(feature = "directory")]
    #[cfg_attr(docsrs, doc(cfg(feature = "directory")))]
    pub fn register_into(
        mut self,
        directory: &str,
        ttl: std::time::Duration,
        token: Option<&str>,
    ) -> Self {
        self.directory = Some(super::discovery::register::Directory {
            root: directory.trim_end_matches('/').to_owned(),
            ttl: ttl.max(std::time::Duration::from_secs(2)),
            token: token.map(str::to_owned),
        });
        self
    }
}
