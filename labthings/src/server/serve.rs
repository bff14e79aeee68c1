//! Serving on a listener, with graceful shutdown, in the manner of `axum::serve` — plus TLS,
//! a header timeout, and a shutdown that is bounded in time.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{ServerState, ThingServer};

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server bound to a listener, returned by [`ThingServer::serve`](super::ThingServer::serve).
/// Await it to serve.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    server: ThingServer,
    signal: Option<Signal>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("server", &self.server)
            .field("graceful_shutdown", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

impl Serve {
    pub(crate) fn new(listener: TcpListener, server: ThingServer) -> Self {
        Self {
            listener,
            server,
            signal: None,
        }
    }

    /// Shut down gracefully when `signal` completes: stop accepting connections, cancel
    /// running invocations, close WebSockets with 1001, let in-flight requests and
    /// invocations finish — for at most the
    /// [`shutdown_deadline`](crate::Limits::shutdown_deadline), after which the remaining
    /// connections are dropped — then run the stop hooks in reverse start order (each for at
    /// most the deadline) and save pending settings.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.signal = Some(Box::pin(signal));
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    async fn run(self) -> io::Result<()> {
        let Self {
            listener,
            server,
            signal,
        } = self;
        let server = if server.prepared.as_ref().is_some_and(|p| p.started) {
            server
        } else {
            server.start().await.map_err(io::Error::other)?.0
        };
        let bind = listener.local_addr().ok();
        if bind.is_some_and(|a| !a.ip().is_loopback()) && !server.tokens.enabled() {
            tracing::warn!(
                "serving on {} without tokens: anyone who can reach this address can drive the hardware; configure `tokens` (see the README's Security section)",
                bind.map(|a| a.to_string()).unwrap_or_default()
            );
        }
        let tls = server.tls.clone();
        let advertise = server
            .advertise
            .unwrap_or_else(|| bind.is_some_and(|a| !a.ip().is_loopback()));
        let mut server = server;
        if advertise {
            // The advertisement names the host `{name}.local`: answer to that name.
            server
                .allowed_hosts
                .push(super::discovery::local_host_name());
        }
        let (router, state) = server.build(bind);
        // Withdrawn when dropped, at the end of the shutdown.
        let _advertisement = match bind.filter(|_| advertise) {
            Some(bind) => {
                match super::discovery::advertise(bind, &state.server_id, tls.is_some()) {
                    Ok(advertisement) => Some(advertisement),
                    Err(error) => {
                        tracing::warn!(%error, "the server cannot be advertised over DNS-SD");
                        None
                    }
                }
            }
            None => None,
        };
        let mqtt_stop = CancellationToken::new();
        let mqtt = state.mqtt.clone().map(|config| {
            let stop = mqtt_stop.clone();
            tokio::spawn(super::mqtt::run(
                state.clone(),
                config,
                state.server_id.clone(),
                stop,
            ))
        });
        let acceptor = tls.map(|tls| tokio_rustls::TlsAcceptor::from(tls.config));
        let connections = TaskTracker::new();
        let stop = CancellationToken::new();
        let mut signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
        loop {
            let (stream, _) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        accept_failed(error).await;
                        continue;
                    }
                },
                () = &mut signal => break,
            };
            // Small messages (property values, notifications) must not wait for Nagle.
            let _ = stream.set_nodelay(true);
            let connection = Connection {
                router: router.clone(),
                state: state.clone(),
                stop: stop.clone(),
            };
            match &acceptor {
                None => connections.spawn(connection.serve(stream)),
                Some(acceptor) => connections.spawn(connection.serve_tls(acceptor.clone(), stream)),
            };
        }
        drop(listener);
        // Cancel running invocations and close WebSockets (1001), let requests finish.
        state.invocations.shutdown.cancel();
        stop.cancel();
        connections.close();
        state.websockets.close();
        let drained = async {
            tokio::join!(
                connections.wait(),
                state.websockets.wait(),
                state.invocations.idle()
            );
        };
        let deadline = state.limits.shutdown_deadline;
        if tokio::time::timeout(deadline, drained).await.is_err() {
            tracing::warn!(
                connections = connections.len(),
                websockets = state.websockets.len(),
                "the graceful shutdown reached its deadline of {deadline:?}: closing the remaining connections"
            );
            state.kill.cancel();
            connections.wait().await;
            state.websockets.wait().await;
        }
        // The last statuses are out: the MQTT binding goes before the Things stop.
        mqtt_stop.cancel();
        if let Some(mqtt) = mqtt {
            let _ = mqtt.await;
        }
        stop_things(&state).await;
        Ok(())
    }
}

/// Run the stop hooks of the started Things in reverse order, then save pending settings.
async fn stop_things(state: &ServerState) {
    // Blobs go with the server: owned files are deleted, then the uploads' directory.
    state.invocations.blobs.clear();
    let _ = std::fs::remove_dir(&state.upload_dir);
    let lifecycle = &state.lifecycle;
    if lifecycle.started {
        let deadline = state.limits.shutdown_deadline;
        super::lifecycle::stop(&lifecycle.things, &lifecycle.order, &state.device, deadline).await;
    }
    lifecycle.saver_stop.cancel();
    let saver = lifecycle
        .saver
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(saver) = saver {
        let _ = saver.await;
    }
}

/// A failed `accept` is usually the peer's doing; running out of descriptors is not, and is
/// waited out rather than spun on.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::*;
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        tracing::error!(%error, "accepting a connection failed");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// One accepted connection.
struct Connection {
    router: Router,
    state: Arc<ServerState>,
    stop: CancellationToken,
}

impl Connection {
    async fn serve_tls(self, acceptor: tokio_rustls::TlsAcceptor, stream: TcpStream) {
        let handshake = self.state.limits.tls_handshake_timeout;
        match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }

    async fn serve(self, io: impl AsyncRead + AsyncWrite + Send + Unpin + 'static) {
        let service = TowerToHyperService::new(self.router);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(self.state.limits.header_timeout);
        let connection = builder
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            () = self.stop.cancelled() => connection.as_mut().graceful_shutdown(),
        }
        // Past the shutdown deadline, a connection that has not finished is dropped.
        tokio::select! {
            _ = connection => {}
            () = self.state.kill.cancelled() => {}
        }
    }
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
