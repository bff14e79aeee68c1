//! Helpers shared by the integration tests.

use std::net::SocketAddr;

/// Serve `router` on a free port of 127.0.0.1 in the background; returns its address.
pub(crate) async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}
