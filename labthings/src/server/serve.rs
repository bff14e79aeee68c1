//! Serving on a listener, with graceful shutdown, in the manner of `axum::serve`.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use axum::Router;
use tokio::net::TcpListener;

use super::ShutdownHandle;

type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A server bound to a listener, returned by [`ThingServer::serve`](super::ThingServer::serve).
/// Await it to serve.
#[must_use = "a server does nothing until it is awaited"]
pub struct Serve {
    listener: TcpListener,
    router: Router,
    handle: ShutdownHandle,
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
    pub(crate) fn new(listener: TcpListener, router: Router, handle: ShutdownHandle) -> Self {
        Self {
            listener,
            router,
            handle,
            signal: None,
        }
    }

    /// Shut down gracefully when `signal` completes: stop accepting connections, cancel
    /// running invocations, close WebSockets with 1001, let in-flight requests finish.
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
}

impl IntoFuture for Serve {
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        // Small messages (property values, notifications) must not wait for Nagle.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |stream| {
            let _ = stream.set_nodelay(true);
        });
        let serve = axum::serve(listener, self.router);
        match self.signal {
            None => Box::pin(async move { serve.await }),
            Some(signal) => {
                let handle = self.handle;
                Box::pin(async move {
                    serve
                        .with_graceful_shutdown(async move {
                            signal.await;
                            handle.shutdown();
                        })
                        .await
                })
            }
        }
    }
}
