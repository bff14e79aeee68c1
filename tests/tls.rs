//! HTTPS and `wss://`: a server with a self-signed certificate, and clients that trust only
//! that certificate.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::ws::{send, wtp};
use tokio_tungstenite::tungstenite::Message;

struct Certificate {
    cert: String,
    key: String,
}

fn self_signed() -> Certificate {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    Certificate {
        cert: certified.cert.pem(),
        key: certified.signing_key.serialize_pem(),
    }
}

#[tokio::test]
async fn https_and_wss_with_a_certificate_the_client_trusts() {
    let certificate = self_signed();
    let tls =
        labthings::Tls::from_pem(certificate.cert.as_bytes(), certificate.key.as_bytes()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counter = Arc::new(counter::Counter::new());
    let server = labthings::ThingServer::new()
        .shared_thing("counter", counter.clone())
        .tls(tls)
        .serve(listener);
    tokio::spawn(server.into_future());

    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(certificate.cert.as_bytes()).unwrap())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let td: Value = client
        .get(format!("{base}/counter/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(td["base"], format!("{base}/"));
    assert_eq!(
        td["forms"][0]["href"],
        format!("wss://localhost:{port}/counter/ws")
    );
    support::td::assert_valid("counter over TLS", &td);
    let status = client
        .put(format!("{base}/counter/step"))
        .json(&json!(4))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 201);
    assert_eq!(counter.step.get(), 4);

    // A client that does not trust the certificate cannot talk to the server.
    let untrusting = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("{base}/counter/"))
            .send()
            .await
            .is_err()
    );
    // Nor can one that speaks plain HTTP.
    assert!(
        reqwest::get(format!("http://localhost:{port}/counter/"))
            .await
            .is_err()
    );

    let mut roots = rustls::RootCertStore::empty();
    let der = rustls_pki_types::CertificateDer::pem_slice_iter(certificate.cert.as_bytes());
    for cert in der {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        format!("wss://localhost:{port}/counter/ws"),
        None,
        false,
        Some(tokio_tungstenite::Connector::Rustls(Arc::new(config))),
    )
    .await
    .unwrap();
    send(&mut ws, wtp("observeproperty", json!({"name": "count"}))).await;
    counter.count.set(9);
    let mut seen = Vec::new();
    while seen.last() != Some(&json!(9)) {
        let message = ws.next().await.unwrap().unwrap();
        if let Message::Text(text) = message {
            let m: Value = serde_json::from_str(&text).unwrap();
            if m["messageType"] == "notification" {
                seen.push(m["value"].clone());
            }
        }
    }
}

use rustls_pki_types::pem::PemObject;
use std::future::IntoFuture;
