//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub(crate) mod logs;
pub(crate) mod td;
pub(crate) mod ws;

use std::net::SocketAddr;

use labthings::{ShutdownHandle, ThingServer};

/// Serve `router` on a free port of 127.0.0.1 in the background; returns its address.
pub(crate) async fn serve(router: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// Serve a Thing server on a free port of 127.0.0.1 in the background; returns its address
/// and the handle that shuts its Things down.
pub(crate) async fn start(server: ThingServer) -> (SocketAddr, ShutdownHandle) {
    let shutdown = server.shutdown_handle();
    (serve(server.into_router()).await, shutdown)
}
