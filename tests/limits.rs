//! Limits that hold: slow clients, oversized messages, too many sockets or invocations, long
//! listings — and device code that spins without awaiting — never freeze the server.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

fn limits() -> labthings::Limits {
    labthings::Limits {
        // Short, but not so short that a loaded machine stalls a healthy client past it.
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_millis(300),
        ..Default::default()
    }
}

async fn start(limits: labthings::Limits) -> SocketAddr {
    let server = labthings::ThingServer::new()
        .thing("counter", counter::Counter::new())
        .limits(limits);
    support::start(server).await.0
}

async fn post(addr: SocketAddr, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_that_sends_half_a_header_is_disconnected() {
    let addr = start(limits()).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /counter/count HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection was held open");
    // The server is still serving others.
    assert_eq!(
        reqwest::get(format!("http://{addr}/counter/count"))
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_client_that_sends_half_a_body_gets_408() {
    let addr = start(limits()).await;
    let (status, body) = support::raw(
        addr,
        "PUT /counter/step HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n5",
    )
    .await;
    assert_eq!(status, 408, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("did not arrive"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let addr = start(labthings::Limits {
        max_body: 64,
        ..Default::default()
    })
    .await;
    let long = json!({"n": 1, "padding": "x".repeat(100)});
    let response = post(addr, "/counter/add", long).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("limit of 64 bytes"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_body_announced_over_the_limit_gets_413_before_it_is_sent() {
    let addr = start(labthings::Limits {
        max_body: 64,
        ..Default::default()
    })
    .await;
    // Only the head is sent: the answer cannot wait for the 10 MB that it announces.
    let (status, body) = support::raw(
        addr,
        "POST /counter/add HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n",
    )
    .await;
    assert_eq!(status, 413, "{body}");
    let problem: Value = serde_json::from_str(&body).unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("limit of 64"),
        "{problem}"
    );
}

/// Send `head` and then `parts` of an upload, and a second request on the same connection;
/// the status lines of the answers. The parts are together larger than one read of the
/// server's, so that it cannot have taken them in with the head.
async fn upload_then_get(addr: SocketAddr, head: &str, parts: &[Vec<u8>]) -> (Vec<String>, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    for part in parts {
        if stream.write_all(part).await.is_err() {
            break; // the connection was closed: the caller's assertion says so
        }
    }
    let next = "GET /counter/count HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    let _ = stream.write_all(next.as_bytes()).await;
    let mut answers = String::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_string(&mut answers));
    let _ = read.await.expect("the server answers within 30 s");
    let statuses = (answers.split("HTTP/1.1 ").skip(1))
        .map(|answer| answer.lines().next().unwrap_or_default().to_owned())
        .collect();
    (statuses, answers)
}

#[tokio::test]
async fn an_upload_over_the_limit_is_read_to_its_end_and_the_connection_goes_on() {
    let addr = start(labthings::Limits {
        max_blob: 1000,
        ..Default::default()
    })
    .await;
    // A server that refused without reading the body would close the connection with the
    // body unread: the client, still sending, could get a reset instead of the refusal, and
    // the second request would get nothing. Announced, then chunked (found over the limit
    // as it arrives).
    let part = vec![7u8; 16 * 1024];
    let head = "POST /blob HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 524288\r\n\r\n";
    let (statuses, answers) = upload_then_get(addr, head, &vec![part.clone(); 32]).await;
    assert_eq!(statuses, ["413 Payload Too Large", "200 OK"], "{answers}");
    assert!(answers.contains("limit of 1000 bytes"), "{answers}");

    let head = "POST /blob HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = [
        format!("{:x}\r\n", part.len()).into_bytes(),
        part,
        b"\r\n".to_vec(),
    ]
    .concat();
    let mut parts = vec![chunk; 32];
    parts.push(b"0\r\n\r\n".to_vec());
    let (statuses, answers) = upload_then_get(addr, head, &parts).await;
    assert_eq!(statuses, ["413 Payload Too Large", "200 OK"], "{answers}");
}

#[tokio::test]
async fn an_upload_that_waits_for_100_continue_is_refused_at_once() {
    let addr = start(labthings::Limits {
        max_blob: 1000,
        ..Default::default()
    })
    .await;
    // Only the head: the refusal comes without a `100 Continue` and without waiting for a
    // body that the client will not send.
    let (status, body) = support::raw(
        addr,
        "POST /blob HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("limit of 1000 bytes"), "{body}");
}

#[tokio::test]
async fn a_websocket_message_over_the_limit_closes_with_1009() {
    let addr = start(labthings::Limits::default()).await;
    let mut ws = support::ws::connect(addr, "counter").await;
    // 16 MiB: refused from the frame's header, never buffered.
    let huge = "x".repeat(16 << 20);
    let _ = ws.send(Message::text(huge)).await;
    let frame = loop {
        match tokio::time::timeout(support::ws::LIMIT, ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = frame.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1009);
    assert!(frame.reason.contains("limit"), "{}", frame.reason);
}

#[tokio::test]
async fn a_websocket_text_that_is_not_utf8_closes_with_1007() {
    use tokio_tungstenite::tungstenite::protocol::frame::{Frame, coding};
    let addr = start(labthings::Limits::default()).await;
    let mut ws = support::ws::connect(addr, "counter").await;
    let text = coding::OpCode::Data(coding::Data::Text);
    let frame = Frame::message(vec![0xff, 0xfe, b'{'], text, true);
    ws.send(Message::Frame(frame)).await.unwrap();
    let frame = loop {
        match tokio::time::timeout(support::ws::LIMIT, ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let frame = frame.expect("a close frame with a code");
    assert_eq!(u16::from(frame.code), 1007, "{}", frame.reason);
}

#[tokio::test]
async fn websockets_are_capped_server_wide() {
    let addr = start(labthings::Limits {
        max_websockets: 2,
        ..Default::default()
    })
    .await;
    let _first = support::ws::connect(addr, "counter").await;
    let _second = support::ws::connect(addr, "counter").await;
    match tokio_tungstenite::connect_async(format!("ws://{addr}/counter/ws")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            assert!(response.headers().contains_key("retry-after"));
        }
        other => panic!(
            "a third socket was accepted: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
}

#[tokio::test]
async fn running_invocations_are_capped() {
    let addr = start(labthings::Limits {
        max_running_per_action: 2,
        max_running_invocations: 3,
        ..Default::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            post(addr, "/counter/wait", json!({"seconds": 30}))
                .await
                .status(),
            201
        );
    }
    let refused = post(addr, "/counter/wait", json!({"seconds": 30})).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "1");
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("action 'wait'"),
        "{problem}"
    );
    // Another action may still run, up to the server-wide bound.
    assert_eq!(post(addr, "/counter/wait2", json!({})).await.status(), 404);
    let third = post(addr, "/counter/increment_many", json!({"n": 1_u64 << 40})).await;
    assert_eq!(third.status(), 201);
    let refused = post(addr, "/counter/increment", json!({})).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("the server already runs 3"),
        "{problem}"
    );
}

#[tokio::test]
async fn a_new_invocation_waits_for_a_place_before_it_is_refused() {
    let addr = start(labthings::Limits {
        max_running_per_action: 1,
        admission_wait: std::time::Duration::from_secs(20),
        ..Default::default()
    })
    .await;
    let first: Value = post(addr, "/counter/wait", json!({"seconds": 0.3}))
        .await
        .json()
        .await
        .unwrap();
    // The second finds no place, waits for the first to end, and runs.
    let second = post(addr, "/counter/wait", json!({"seconds": 0.0})).await;
    assert_eq!(second.status(), 201);
    let first = reqwest::get(format!(
        "http://{addr}/action_invocations/{}",
        first["id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .json::<Value>()
    .await
    .unwrap();
    assert_eq!(
        first["status"], "completed",
        "the place was freed by the first's end"
    );
}

#[tokio::test]
async fn invocation_listings_are_paginated() {
    let addr = start(labthings::Limits {
        page: 2,
        ..Default::default()
    })
    .await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let inv: Value = post(addr, "/counter/add", json!({"n": 1}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(inv["id"].as_str().unwrap().to_owned());
    }
    let mut url = format!("http://{addr}/action_invocations");
    let mut seen = Vec::new();
    loop {
        let response = reqwest::get(&url).await.unwrap();
        let next = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 2, "a page holds at most the default limit");
        seen.extend(page.iter().map(|i| i["id"].as_str().unwrap().to_owned()));
        let Some(next) = next else { break };
        assert!(next.ends_with("rel=\"next\""), "{next}");
        url = next[1..next.find('>').unwrap()].to_owned();
    }
    assert_eq!(seen, ids, "every invocation once, oldest first");
    let (status, body) = support::raw(
        addr,
        "GET /action_invocations?limit=100000 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let per_action: Vec<Value> = reqwest::get(format!("http://{addr}/counter/add?limit=3"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(per_action.len(), 3);
}

mod spinner {
    use labthings::thing;

    /// A Thing whose action spins without ever awaiting.
    #[thing]
    pub(crate) struct Spinner {
        #[property]
        pub(crate) level: i64,
        /// Set to stop every spin.
        pub(crate) release: std::sync::atomic::AtomicBool,
    }

    #[thing]
    impl Spinner {
        /// Busy-loop until released, for `seconds` at most (an async action that never
        /// awaits).
        #[action]
        async fn spin(&self, seconds: f64) {
            let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
            while std::time::Instant::now() < end
                && !self.release.load(std::sync::atomic::Ordering::Relaxed)
            {
                std::hint::spin_loop();
            }
        }
    }

    /// Releases the spinner when dropped, even when the test fails.
    pub(crate) struct Release(pub(crate) std::sync::Arc<Spinner>);

    impl Drop for Release {
        fn drop(&mut self) {
            self.0
                .release
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// Device code that spins without awaiting occupies the device runtime only: requests,
/// including cancelling another invocation, are answered while it spins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spinning_device_code_does_not_freeze_the_server() {
    let spinner = std::sync::Arc::new(spinner::Spinner {
        level: 1.into(),
        release: false.into(),
    });
    let _release = spinner::Release(spinner.clone());
    let server = labthings::ThingServer::new()
        .shared_thing("spinner", spinner)
        .thing("counter", counter::Counter::new())
        .device_threads(2);
    let (addr, _) = support::start(server).await;
    // The spinning starts in the same poll that reports it running: once both have been
    // reported, both device threads are taken.
    let mut statuses = support::ws::connect(addr, "spinner").await;
    support::ws::send(
        &mut statuses,
        json!({"messageType": "addActionObservation", "data": {"spin": true}}),
    )
    .await;
    support::ws::observe(&mut statuses, &[]).await;
    let mut spinning = Vec::new();
    for _ in 0..2 {
        let inv: Value = post(addr, "/spinner/spin", json!({"seconds": 120}))
            .await
            .json()
            .await
            .unwrap();
        spinning.push(inv["href"].as_str().unwrap().to_owned());
    }
    for _ in 0..2 {
        support::ws::next_matching(&mut statuses, |m| m["data"]["status"] == "running").await;
    }
    let waiting: Value = post(addr, "/counter/wait", json!({"seconds": 30}))
        .await
        .json()
        .await
        .unwrap();
    let read = reqwest::get(format!("http://{addr}/spinner/level"))
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let cancel = reqwest::Client::new()
        .delete(waiting["href"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    // It had not started (both device threads spin): it ends at once, and frees its slot.
    let cancelled: Value = reqwest::get(waiting["href"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    // All of this happened while the device code still spun.
    for href in &spinning {
        let status: Value = reqwest::get(href).await.unwrap().json().await.unwrap();
        assert!(
            matches!(status["status"].as_str(), Some("pending" | "running")),
            "answered only after the spinning ended: {status}"
        );
    }
}
