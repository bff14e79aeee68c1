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

/// The registration of a serving server, ended (its TDs removed) by [`stop`](Self::stop).
pub(crate) struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Start registering, if the server has a directory: its TDs name it at `bind`.
    pub(crate) fn start(state: &Arc<ServerState>, bind: Option<SocketAddr>) -> Option<Self> {
        let directory = state.directory.clone()?;
        let bind = bind?;
        let scheme = state.policy.scheme();
        let host = match bind.ip().is_unspecified() {
            true => gethostname::gethostname().to_string_lossy().into_owned(),
            false => bind.ip().to_string(),
        };
        let host = match host.contains(':') {
            true => format!("[{host}]"),
            false => host,
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
        let task = tokio::spawn(registrar.run(stop.clone()));
        Some(Self { stop, task })
    }

    /// Remove the TDs from the directory (within a few seconds) and stop.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(REQUEST_TIMEOUT, self.task).await;
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
        loop {
            let failed = self.put_all().await;
            let now_failing = failed.is_some();
            match (failed, failing) {
                (Some(error), false) => tracing::warn!(
                    directory = %self.directory.root,
                    "the Things could not be registered into the directory (tried again in {:?}): {error}",
                    self.directory.ttl / 2
                ),
                (None, true) => {
                    tracing::info!(directory = %self.directory.root, "the Things are registered into the directory again")
                }
                _ => {}
            }
            failing = now_failing;
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(self.directory.ttl / 2) => {}
            }
        }
        self.delete_all().await;
    }

    /// Put every TD; the first failure, if any.
    async fn put_all(&self) -> Option<String> {
        let mut failure = None;
        for (id, mut td) in self.descriptions() {
            td["registration"] = json!({"ttl": self.directory.ttl.as_secs_f64()});
            let request = self.client.put(self.url(&id)).json(&td);
            let request = request.header("Content-Type", "application/td+json");
            if let Err(error) = self.send(request).await {
                failure.get_or_insert(format!("'{id}': {error}"));
            }
        }
        failure
    }

    async fn delete_all(&self) {
        for (id, _) in self.descriptions() {
            if let Err(error) = self.send(self.client.delete(self.url(&id))).await {
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

    fn url(&self, id: &str) -> String {
        let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
        format!("{}/things/{id}", self.directory.root)
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
