//! Serving on a listener, with graceful shutdown, in the manner of `axum::serve` — plus TLS,
//! a header timeout, and a shutdown that is bounded in time.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::ThingServer;
use super::accepted::{Acceptor, Connection};
#[cfg(feature = "discovery")]
use super::discovery::mdns;
use super::prepared::Started;
use super::state::ServerState;

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a [`Serve`] serves: Things started already, or to start first.
pub(crate) enum Server {
    Unstarted(ThingServer),
    Started(Started),
}

/// A server bound to a listener, returned by [`ThingServer::serve`](super::ThingServer::serve).
/// Await it to serve.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    server: Server,
    signal: Option<Signal>,
}

impl std::fmt::Debug for Serve {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("graceful_shutdown", &self.signal.is_some())
            .finish_non_exhaustive()
    }
}

impl Serve {
    pub(crate) fn new(listener: TcpListener, server: Server) -> Self {
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
        let mut started = match server {
            Server::Started(started) => started,
            Server::Unstarted(server) => server.start().await.map_err(io::Error::other)?,
        };
        let bind = listener.local_addr().ok();
        let config = started.prepared.server_mut();
        if bind.is_some_and(|a| !a.ip().is_loopback()) && !config.tokens.enabled() {
            tracing::warn!(
                "serving on {} without tokens: anyone who can reach this address can drive the hardware; configure `tokens` (see the README's Security section)",
                bind.map(|a| a.to_string()).unwrap_or_default()
            );
        }
        #[cfg(feature = "discovery")]
        let advertised = config.advertised_on(bind);
        let acceptor = config.acceptor();
        let (router, state) = started.prepared.build(bind);
        // Withdrawn when dropped, at the end of the shutdown.
        #[cfg(feature = "discovery")]
        let _advertisement = advertised.and_then(|bind| mdns::advertise_on(bind, &state));
        #[cfg(feature = "mqtt")]
        let mqtt = super::mqtt::Running::start(&state);
        #[cfg(feature = "directory")]
        let registration = super::discovery::register::Running::start(&state, bind);
        let accepting = Accepting {
            router,
            state: state.clone(),
            connections: TaskTracker::new(),
            stop: CancellationToken::new(),
            acceptor,
        };
        let signal: Signal = signal.unwrap_or_else(|| Box::pin(std::future::pending()));
        // Told to shut down, the server leaves the directory at once, as it drains.
        #[cfg(feature = "directory")]
        let signal: Signal = match &registration {
            Some(registration) => {
                let leave = registration.stopper();
                Box::pin(async move {
                    signal.await;
                    leave.cancel();
                })
            }
            None => signal,
        };
        accepting.until(listener, signal).await;
        // The last statuses are out: the MQTT binding goes before the Things stop.
        #[cfg(feature = "mqtt")]
        if let Some(mqtt) = mqtt {
            mqtt.stop().await;
        }
        #[cfg(feature = "directory")]
        if let Some(registration) = registration {
            registration.stop().await;
        }
        stop_things(&state).await;
        Ok(())
    }
}

/// Accepting connections until the shutdown signal, then draining them.
struct Accepting {
    router: axum::Router,
    state: Arc<ServerState>,
    connections: TaskTracker,
    stop: CancellationToken,
    acceptor: Option<Acceptor>,
}

impl Accepting {
    async fn until(self, listener: TcpListener, mut signal: Signal) {
        loop {
            let (stream, peer) = tokio::select! {
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
                router: self.router.clone(),
                peer,
                state: self.state.clone(),
                stop: self.stop.clone(),
            };
            let acceptor = self.acceptor.clone();
            self.connections.spawn(connection.run(acceptor, stream));
        }
        drop(listener);
        self.drain().await;
    }

    /// Cancel running invocations and close WebSockets (1001), let requests finish within
    /// the shutdown deadline; then drop what is left.
    async fn drain(self) {
        let state = &self.state;
        state.shutdown().cancel();
        self.stop.cancel();
        self.connections.close();
        state.open.websockets.close();
        let drained = async {
            tokio::join!(
                self.connections.wait(),
                state.open.websockets.wait(),
                state.things.invocations.idle()
            );
        };
        let deadline = state.limits.shutdown_deadline;
        if tokio::time::timeout(deadline, drained).await.is_err() {
            tracing::warn!(
                connections = self.connections.len(),
                websockets = state.open.websockets.len(),
                "the graceful shutdown reached its deadline of {deadline:?}: closing the remaining connections"
            );
            state.open.kill.cancel();
            self.connections.wait().await;
            state.open.websockets.wait().await;
        }
    }
}

/// Delete the server's blobs, run the stop hooks of the started Things in reverse order,
/// then save pending settings.
async fn stop_things(state: &ServerState) {
    // Blobs go with the server: owned files are deleted, then the uploads' directory.
    state.things.invocations.blobs.clear();
    let _ = std::fs::remove_dir(&state.upload_dir);
    state.lifecycle.stop(state.limits.shutdown_deadline).await;
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

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}
