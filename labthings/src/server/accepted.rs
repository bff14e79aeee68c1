//! One accepted connection: HTTP/1.1 (with upgrades), over TLS when configured, with a header
//! timeout, shut down gracefully and dropped past the shutdown deadline.

use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;
use tower_service::Service as _;

use super::state::ServerState;

/// What takes the TLS handshake of a connection (none without the `tls` feature).
#[cfg(feature = "tls")]
pub(crate) type Acceptor = tokio_rustls::TlsAcceptor;

/// What takes the TLS handshake of a connection (none without the `tls` feature).
#[cfg(not(feature = "tls"))]
#[derive(Clone)]
pub(crate) enum Acceptor {}

/// One accepted connection.
pub(super) struct Connection {
    pub(super) router: Router,
    /// The client's address, told to every request (as axum's `ConnectInfo`).
    pub(super) peer: std::net::SocketAddr,
    pub(super) state: Arc<ServerState>,
    pub(super) stop: CancellationToken,
}

impl Connection {
    /// Serve the connection, over TLS when there is an `acceptor`.
    pub(super) async fn run(self, acceptor: Option<Acceptor>, stream: TcpStream) {
        match acceptor {
            None => self.serve(stream).await,
            Some(acceptor) => self.serve_tls(acceptor, stream).await,
        }
    }

    #[cfg(not(feature = "tls"))]
    async fn serve_tls(self, acceptor: Acceptor, _: TcpStream) {
        match acceptor {}
    }

    #[cfg(feature = "tls")]
    async fn serve_tls(self, acceptor: Acceptor, stream: TcpStream) {
        let handshake = self.state.limits.tls_handshake_timeout;
        match tokio::time::timeout(handshake, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => self.serve(stream).await,
            Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        }
    }

    async fn serve(self, io: impl AsyncRead + AsyncWrite + Send + Unpin + 'static) {
        let (router, peer) = (self.router, self.peer);
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().call(request)
        });
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
            () = self.state.open.kill.cancelled() => {}
        }
    }
}
