//! Registering the server's Things into a W3C WoT Thing Description Directory while it
//! serves: each TD is put at `{directory}/things/{id}` with its time-to-live
//! (`registration.ttl`), put again at half of it, and removed when the server shuts down. A
//! directory that cannot be reached is tried again at the next renewal; the server serves on.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::server::state::ServerState;

/// Where and how the Things are registered.
#[derive(Debug, Clone)]
pub(crate) struct Directory {
    /// The directory's API root (its `things` are under it), without a trailing `/`.
    pub(crate) root: String,
    pub(crate) ttl: Duration,
    /// A bearer token for the directory.
    pub(crate) token: Option<String>,
}

/// How long a request to the directory may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest time between two renewals, whatever the time-to-live: a directory may grant
/// less than was asked.
const MAX_RENEWAL: Duration = Duration::from_secs(3600);

/// How soon a registration that failed is tried again, at most.
const RETRY: Duration = Duration::from_secs(30);

/// The registration of a serving server, ended (its TDs removed) when [`stopper`]
/// (Self::stopper) is cancelled, by [`stop`](Self::stop), or when dropped.
pub(crate) struct Running {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Running {
    /// Start registering, if the server has a directory: its TDs name it at `bind`.
    pub(crate) fn start(state: &Arc<ServerState>, bind: Option<SocketAddr>) -> Option<Self> {
        let directory = state.directory.clone()?;
        let bind = bind?;
        let scheme = state.policy.scheme();
        // On every address, the TDs name the first interface address that is not loopback
        // (a name the server answers to, as its own addresses are).
        let ip = match bind.ip().is_unspecified() {
            true => (if_addrs::get_if_addrs().unwrap_or_default().into_iter())
                .map(|interface| interface.ip())
                .find(|ip| !ip.is_loopback() && ip.is_ipv4() == bind.is_ipv4())
                .unwrap_or(bind.ip()),
            false => bind.ip(),
        };
        let host = match ip {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            std::net::IpAddr::V4(ip) => ip.to_string(),
        };
        let origin = format!("{scheme}://{host}:{}", bind.port());
        let client = match crate::client::Client::builder().build() {
            Ok(client) => client.http().clone(),
            Err(error) => {
                tracing::error!(%error, "no HTTP client to register into the directory");
                return None;
            }
        };
        let stop = CancellationToken::new();
        let registrar = Registrar {
            state: state.clone(),
            directory,
            origin,
            client,
        };
        let task = Some(tokio::spawn(registrar.run(stop.clone())));
        Some(Self { stop, task })
    }

    /// What ends the registration (as soon as the server is told to shut down, before it
    /// drains its connections).
    pub(crate) fn stopper(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// Remove the TDs from the directory (within a few seconds) and stop.
    pub(crate) async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(REQUEST_TIMEOUT, task).await;
        }
    }
}

/// What registers the TDs.
struct Registrar {
    state: Arc<ServerState>,
    directory: Directory,
    /// This server's origin, as the TDs name it.
    origin: String,
    client: reqwest::Client,
}

impl Registrar {
    async fn run(self, stop: CancellationToken) {
        let mut failing = false;
        let renewal = (self.directory.ttl / 2).min(MAX_RENEWAL);
        loop {
            let failed = tokio::select! {
                () = stop.cancelled() => break,
                failed = self.put_all() => failed,
            };
            let now_failing = failed.is_some();
            match (failed, failing) {
                (Some(error), false) => tracing::warn!(
                    directory = %self.directory.root,
                    "the Things could not be registered into the directory (tried again in {:?}): {error}",
                    renewal.min(RETRY)
                ),
                (None, true) => {
                    tracing::info!(directory = %self.directory.root, "the Things are registered into the directory again")
                }
                _ => {}
            }
            failing = now_failing;
            let wait = if failing { renewal.min(RETRY) } else { renewal };
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(wait) => {}
            }
        }
        self.delete_all().await;
    }

    /// Put every TD; the first failure, if any.
    async fn put_all(&self) -> Option<String> {
        let mut failure = None;
        for (id, mut td) in self.descriptions() {
            td["registration"] = json!({"ttl": self.directory.ttl.as_secs_f64()});
            let Some(url) = self.url(&id) else {
                return Some(format!("'{}' is not a URL", self.directory.root));
            };
            let request = self.client.put(url).body(td.to_string());
            let request = request.header(reqwest::header::CONTENT_TYPE, "application/td+json");
            if let Err(error) = self.send(request).await {
                failure.get_or_insert(format!("'{id}': {error}"));
            }
        }
        failure
    }

    async fn delete_all(&self) {
        for (id, _) in self.descriptions() {
            let Some(url) = self.url(&id) else {
                return;
            };
            if let Err(error) = self.send(self.client.delete(url)).await {
                tracing::warn!(%id, "the Thing could not be removed from the directory: {error}");
            }
        }
    }

    /// Each Thing's TD `id` and TD, naming this server at its origin.
    fn descriptions(&self) -> Vec<(String, serde_json::Value)> {
        (self.state.descriptions_at(&self.origin).into_iter())
            .map(|(thing, td)| (thing.id().to_owned(), td))
            .collect()
    }

    /// `{directory}/things/{id}`, the id percent-encoded as one path segment.
    fn url(&self, id: &str) -> Option<url::Url> {
        let mut url = url::Url::parse(&self.directory.root).ok()?;
        url.path_segments_mut()
            .ok()?
            .pop_if_empty()
            .extend(["things", id]);
        Some(url)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<(), String> {
        let request = request.timeout(REQUEST_TIMEOUT);
        let request = match &self.directory.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await.map_err(|e| e.to_string())?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status => {
                let body = response.text().await.unwrap_or_default();
                Err(format!(
                    "{status}: {}",
                    body.chars().take(300).collect::<String>()
                ))
            }
        }
    }
}
