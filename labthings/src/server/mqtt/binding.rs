//! The binding's lifetime: connect, publish and answer until stopped, then drain.

use std::sync::Arc;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::{AsyncClient, MqttOptions};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::Mqtt;
use super::connection::{Connection, MAX_REQUESTS};
use super::publisher::{Bridged, Publisher};
use super::requests::Answering;
use super::sender::Sender;
use crate::model::td::mqtt::Topics;
use crate::server::state::ServerState;

/// What the binding's tasks share.
pub(super) struct Binding {
    pub(super) state: Arc<ServerState>,
    pub(super) bridged: Vec<Bridged>,
    pub(super) sender: Sender,
    pub(super) topic_prefix: String,
    /// Cancelled when the binding is to stop (after the HTTP drain).
    stop: CancellationToken,
}

impl Binding {
    /// Whether the server shuts down: new requests are refused.
    pub(super) fn stopping(&self) -> bool {
        self.state.shutdown().is_cancelled() || self.stop.is_cancelled()
    }

    pub(super) fn answering(&self) -> Answering<'_> {
        Answering {
            things: &self.state.things,
            bridged: &self.bridged,
            sender: &self.sender,
            topic_prefix: &self.topic_prefix,
            api_prefix: &self.state.prefix,
        }
    }

    fn publisher(&self) -> Publisher<'_> {
        Publisher {
            things: &self.state.things,
            bridged: &self.bridged,
            sender: &self.sender,
            prefix: &self.state.prefix,
            state: &self.state,
        }
    }
}

/// The binding, running beside a served server until stopped.
pub(crate) struct Running {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Run the binding of `state`'s server, when it has one.
    pub(crate) fn start(state: &Arc<ServerState>) -> Option<Self> {
        let config = state.mqtt.clone()?;
        let stop = CancellationToken::new();
        let id = state.server_id.clone();
        let task = tokio::spawn(run(state.clone(), config, id, stop.clone()));
        Some(Self { stop, task })
    }

    /// Stop it: the last changes are published, then it disconnects.
    pub(crate) async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// Run the binding until `stop` is cancelled.
pub(crate) async fn run(
    state: Arc<ServerState>,
    config: Mqtt,
    server_id: String,
    stop: CancellationToken,
) {
    let options = match options(&config, &server_id, &state) {
        Ok(options) => options,
        Err(error) => return tracing::error!(%error, "the MQTT binding cannot start"),
    };
    let (client, eventloop) = AsyncClient::new(options, 1024);
    let level = qos(config.qos);
    let bridged = (state.things.iter())
        .map(|thing| Bridged {
            index: thing.index(),
            topics: Topics::new(&config.prefix, thing.name()),
        })
        .collect();
    let binding = Arc::new(Binding {
        state: state.clone(),
        bridged,
        sender: Sender {
            client: client.clone(),
            limit: Arc::new(AtomicU32::new(0)),
            level,
        },
        topic_prefix: config.prefix.clone(),
        stop: stop.clone(),
    });
    let (connected_tx, connected) = tokio::sync::watch::channel(0u64);
    let answering = Arc::new(Semaphore::new(MAX_REQUESTS));
    let polling = CancellationToken::new();
    let connection = tokio::spawn(
        Connection {
            binding: binding.clone(),
            eventloop,
            connected: connected_tx,
            answering: answering.clone(),
            requests: config.requests,
            level,
            stop: polling.clone(),
        }
        .run(),
    );
    let publishing = CancellationToken::new();
    let publisher = binding.publisher();
    tokio::join!(
        publisher.run(connected, &config, &publishing),
        drain(&state, &answering, &stop, &publishing)
    );
    // What was pending is queued: disconnect once it is sent (or give up after 2 s).
    let _ = tokio::time::timeout(Duration::from_millis(500), client.disconnect()).await;
    if tokio::time::timeout(Duration::from_secs(2), connection)
        .await
        .is_err()
    {
        polling.cancel();
    }
}

/// On shutdown, the requests being carried out are answered (within the shutdown deadline;
/// new ones are refused meanwhile) and what they changed is published before the publisher
/// stops.
async fn drain(
    state: &ServerState,
    answering: &Semaphore,
    stop: &CancellationToken,
    publishing: &CancellationToken,
) {
    tokio::select! {
        () = state.shutdown().cancelled() => {}
        () = stop.cancelled() => {}
    }
    let all = u32::try_from(MAX_REQUESTS).unwrap_or(u32::MAX);
    let deadline = state.limits.shutdown_deadline;
    if tokio::time::timeout(deadline, answering.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("MQTT requests were still being carried out at the shutdown deadline");
    }
    stop.cancelled().await;
    publishing.cancel();
}

/// The client's options: identity, keep-alive, packet bound, credentials, TLS.
fn options(config: &Mqtt, server_id: &str, state: &ServerState) -> Result<MqttOptions, String> {
    let client_id = config
        .client_id
        .clone()
        .unwrap_or_else(|| format!("labthings-{server_id}-{}", std::process::id()));
    let mut options = MqttOptions::new(client_id, config.host.clone(), config.port);
    options.set_keep_alive(Duration::from_secs(30));
    // Requests as large as an HTTP body may be; the broker is told, and drops larger ones.
    let max_packet = u32::try_from(state.limits.max_body.saturating_add(1024)).unwrap_or(u32::MAX);
    options.set_max_packet_size(Some(max_packet));
    // Property values are small and must not wait for Nagle.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    options.set_network_options(network);
    if let Some((user, password)) = &config.credentials {
        options.set_credentials(user.clone(), password.clone());
    }
    #[cfg(feature = "tls")]
    if config.tls {
        let tls = tls_config(config)?;
        options.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(Arc::new(tls)),
        ));
    }
    Ok(options)
}

/// The rustls configuration of an `mqtts://` broker: it trusts the root certificates given.
#[cfg(feature = "tls")]
fn tls_config(config: &Mqtt) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in config.roots.iter().cloned() {
        roots
            .add(cert)
            .map_err(|e| format!("a root certificate is not usable: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
