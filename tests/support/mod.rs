//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub(crate) mod browser;
pub(crate) mod logs;
pub(crate) mod metrics;
pub(crate) mod mjpeg;
pub(crate) mod mosquitto;
pub(crate) mod needs;
pub(crate) mod program;
pub(crate) mod sse;
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

/// Serve a Thing server (with its own accept loop, as programs do) on a free port of
/// 127.0.0.1 in the background; returns its address and the handle that shuts its Things
/// down.
pub(crate) async fn start(server: ThingServer) -> (SocketAddr, ShutdownHandle) {
    let shutdown = server.shutdown_handle();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(std::future::IntoFuture::into_future(server.serve(listener)));
    (addr, shutdown)
}

/// A raw HTTP/1.1 exchange: send `request` as is, read until the server closes or the
/// response is complete; returns the status code and the body.
pub(crate) async fn raw(addr: SocketAddr, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut response),
    )
    .await
    .expect("the server answers and closes");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

/// Run `tests/node/{script}` with `arg` and the `node_modules` at `modules`; it must succeed
/// (else the test fails with its output). Returns what it printed.
pub(crate) async fn node(
    modules: std::ffi::OsString,
    script: &str,
    arg: impl AsRef<std::ffi::OsStr>,
) -> String {
    let path = format!("{}/tests/node/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new("node")
        .arg(path)
        .arg(arg)
        .env("NODE_PATH", modules)
        .output()
        .await
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
