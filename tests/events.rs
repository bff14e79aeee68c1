//! Events, and notifications that are never lost: every subscriber gets every event in order
//! or is told it fell behind; a client that reconnects resumes exactly where it left off; one
//! socket serves every Thing; Server-Sent Events stream events and property changes.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::{Value, json};
use support::sse;
use support::ws::{Socket, next, next_matching, send, wtp};
use tokio_tungstenite::tungstenite::Message;

async fn start(server: labthings::ThingServer) -> (SocketAddr, Arc<counter::Counter>) {
    let counter = Arc::new(counter::Counter::new());
    let (addr, _) = support::start(server.shared_thing("counter", counter.clone())).await;
    (addr, counter)
}

async fn post(addr: SocketAddr, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{path}");
    response.json().await.unwrap()
}

/// Subscribe a Web Thing Protocol socket to `event`; returns the response.
async fn subscribe(ws: &mut Socket, event: &str, last: Option<&str>) -> Value {
    let mut request = json!({"name": event});
    if let Some(last) = last {
        request["lastNotificationID"] = last.into();
    }
    send(ws, wtp("subscribeevent", request)).await;
    let response = next(ws).await;
    assert_eq!(response["messageType"], "response", "{response}");
    assert!(response.get("error").is_none(), "{response}");
    response
}

/// The next `ticked` notification: its number and `messageID`.
async fn tick_of(ws: &mut Socket) -> (u64, String) {
    let n = next_matching(ws, |m| m["messageType"] == "notification").await;
    assert_eq!(
        (n["operation"].as_str(), n["name"].as_str()),
        (Some("subscribeevent"), Some("ticked")),
        "{n}"
    );
    assert!(n["timestamp"].is_string(), "{n}");
    (
        n["data"].as_u64().unwrap(),
        n["messageID"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_reach_a_websocket_and_an_event_stream_in_order() {
    let (addr, _) = start(labthings::ThingServer::new()).await;
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    subscribe(&mut ws, "ticked", None).await;
    let mut stream = sse::Stream::open(&format!("http://{addr}/counter/ticked"), None).await;
    post(addr, "/counter/tick", json!({"n": 10_000})).await;
    let mut ids = std::collections::HashSet::new();
    for i in 1..=10_000u64 {
        let (n, id) = tick_of(&mut ws).await;
        assert_eq!(n, i, "WebSocket: in order, none missing");
        assert!(ids.insert(id), "each notification has its own messageID");
    }
    for i in 1..=10_000u64 {
        let message = stream.next().await.unwrap();
        assert_eq!(message.data, i.to_string(), "SSE: in order, none missing");
        assert!(message.event.is_none(), "{message:?}");
        // The same event has the same identifier on every channel: either resumes from it.
        assert!(ids.contains(message.id.as_ref().unwrap()), "{message:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_is_told_and_the_others_get_everything() {
    let server = labthings::ThingServer::new().ws_limits(labthings::WsLimits {
        max_events: 2000,
        ..Default::default()
    });
    let (addr, _) = start(server).await;
    let mut stuck = support::ws::connect_wtp(addr, "counter").await;
    subscribe(&mut stuck, "ticked", None).await;
    let mut reader = support::ws::connect_wtp(addr, "counter").await;
    subscribe(&mut reader, "ticked", None).await;
    const ROUNDS: u64 = 60;
    const PER_ROUND: u64 = 1000;
    let (read, mut has_read) = tokio::sync::watch::channel(0u64);
    let reading = tokio::spawn(async move {
        for i in 1..=ROUNDS * PER_ROUND {
            let (n, _) = tick_of(&mut reader).await;
            assert_eq!(
                n,
                (i - 1) % PER_ROUND + 1,
                "the reader got every event in order"
            );
            read.send_replace(i);
        }
    });
    for round in 1..=ROUNDS {
        // The next round starts once the reader has read this one, so that it never holds
        // more than a round in its queue; the stuck client holds everything the sockets do
        // not.
        post(addr, "/counter/tick", json!({"n": PER_ROUND})).await;
        has_read
            .wait_for(|&n| n >= round * PER_ROUND)
            .await
            .expect("the reader is reading");
    }
    reading.await.unwrap();
    // The stuck client, reading at last: what its socket held, then a close saying why.
    let mut received = 0;
    let frame = loop {
        match tokio::time::timeout(support::ws::LIMIT, stuck.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Text(_))) => received += 1,
            Some(Ok(Message::Close(frame))) => break frame.expect("a close code"),
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(frame.code), 1008, "{}", frame.reason);
    assert!(frame.reason.contains("too slowly"), "{}", frame.reason);
    assert!(received < ROUNDS * PER_ROUND, "it was cut off, not served");
}

#[tokio::test]
async fn a_client_that_reconnects_gets_what_it_missed_exactly_once() {
    let (addr, counter) = start(labthings::ThingServer::new()).await;
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    subscribe(&mut ws, "ticked", None).await;
    // Started with the client, to learn from a notification when all ten were emitted.
    let client = labthings::client::Client::new()
        .thing(&format!("http://{addr}/counter/"))
        .await
        .unwrap();
    let tick = client
        .start::<_, u64>("tick", &json!({"n": 10}))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(tick_of(&mut ws).await);
    }
    drop(ws);
    assert_eq!(tick.wait().await.unwrap(), 10);
    // Emitted while the client was away (and 6..10, which it had not read).
    for _ in 0..10 {
        counter.ticked.emit(99);
    }
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    let last = &seen.last().unwrap().1;
    let response = subscribe(&mut ws, "ticked", Some(last)).await;
    assert_eq!(response["resumed"], true, "{response}");
    let mut replayed = Vec::new();
    for _ in 0..15 {
        replayed.push(tick_of(&mut ws).await.0);
    }
    let expected: Vec<u64> = (6..=10).chain(std::iter::repeat_n(99, 10)).collect();
    assert_eq!(replayed, expected);
    // Then live, nothing replayed twice.
    counter.ticked.emit(1000);
    assert_eq!(tick_of(&mut ws).await.0, 1000);

    // Properties: the latest value of each observed property that changed, once.
    send(&mut ws, wtp("observeallproperties", json!({}))).await;
    next_matching(&mut ws, |m| m["operation"] == "observeallproperties").await;
    counter.step.set(2);
    let n = next_matching(&mut ws, |m| m["messageType"] == "notification").await;
    let resume_point = n["messageID"].as_str().unwrap().to_owned();
    drop(ws);
    counter.step.set(3);
    counter.step.set(4);
    counter.count.set(7);
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    send(
        &mut ws,
        wtp(
            "observeallproperties",
            json!({"lastNotificationID": resume_point}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(response["resumed"], true, "{response}");
    let mut latest = Vec::new();
    for _ in 0..2 {
        let n = next(&mut ws).await;
        assert_eq!(n["operation"], "observeallproperties", "{n}");
        latest.push((n["name"].as_str().unwrap().to_owned(), n["value"].clone()));
    }
    assert_eq!(
        latest,
        [
            ("step".to_owned(), json!(4)),
            ("count".to_owned(), json!(7))
        ]
    );
    counter.label.set("not observable".into());
    counter.step.set(5);
    let n = next(&mut ws).await;
    assert_eq!(
        (n["name"].as_str(), n["value"].as_i64()),
        (Some("step"), Some(5))
    );
}

#[tokio::test]
async fn an_event_stream_resumes_from_last_event_id() {
    let (addr, counter) = start(labthings::ThingServer::new()).await;
    let url = format!("http://{addr}/counter/ticked");
    let mut stream = sse::Stream::open(&url, None).await;
    for i in 1..=3 {
        counter.ticked.emit(i);
    }
    let mut last = None;
    for i in 1..=3 {
        let message = stream.next().await.unwrap();
        assert_eq!(message.data, i.to_string());
        last = message.id;
    }
    drop(stream);
    for i in 4..=6 {
        counter.ticked.emit(i);
    }
    let mut stream = sse::Stream::open(&url, last.as_deref()).await;
    for i in 4..=6 {
        assert_eq!(stream.next().await.unwrap().data, i.to_string());
    }
    counter.ticked.emit(7);
    assert_eq!(stream.next().await.unwrap().data, "7");

    // A property streams its current value first, then each change.
    let mut step = sse::Stream::open(&format!("http://{addr}/counter/step"), None).await;
    assert_eq!(step.next().await.unwrap().data, "1");
    counter.step.set(8);
    assert_eq!(step.next().await.unwrap().data, "8");
    // An event without `Accept: text/event-stream`, a property that is not observable.
    let plain = reqwest::get(&url).await.unwrap();
    assert_eq!(plain.status(), 406);
    let not_observable = reqwest::Client::new()
        .get(format!("http://{addr}/counter/label"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    // The refusal every binding gives a property that is not observable.
    assert_eq!(not_observable.status(), 403);
    let problem: serde_json::Value = not_observable.json().await.unwrap();
    assert_eq!(problem["detail"], "Property 'label' is not observable.");
}

#[tokio::test]
async fn resuming_from_outside_the_history_is_answered_explicitly() {
    let server = labthings::ThingServer::new().limits(labthings::Limits {
        history: 5,
        ..Default::default()
    });
    let (addr, counter) = start(server).await;
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    subscribe(&mut ws, "ticked", None).await;
    counter.ticked.emit(1);
    let (_, first) = tick_of(&mut ws).await;
    drop(ws);
    for i in 2..=20 {
        counter.ticked.emit(i);
    }
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    let response = subscribe(&mut ws, "ticked", Some(&first)).await;
    assert_eq!(response["resumed"], false, "{response}");
    assert!(
        response["resumeDetail"]
            .as_str()
            .unwrap()
            .contains("no longer all kept"),
        "{response}"
    );
    // An identifier the server never gave, on a property: told, and the current value.
    send(
        &mut ws,
        wtp(
            "observeproperty",
            json!({"name": "step", "lastNotificationID": "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(response["resumed"], false, "{response}");
    let current = next(&mut ws).await;
    assert_eq!(
        (current["name"].as_str(), current["value"].as_i64()),
        (Some("step"), Some(1))
    );
    // Over SSE, the same: a `resume-failed` message, then the current value.
    let mut stream = sse::Stream::open(&format!("http://{addr}/counter/step"), Some(&first)).await;
    let told = stream.next().await.unwrap();
    assert_eq!(told.event.as_deref(), Some("resume-failed"), "{told:?}");
    assert_eq!(stream.next().await.unwrap().data, "1");
}

#[tokio::test]
async fn one_socket_serves_every_thing() {
    let other = Arc::new(counter::Counter::new());
    let server = labthings::ThingServer::new()
        .server_id("bench-3")
        .shared_thing("other", other.clone());
    let (addr, counter) = start(server).await;
    let url = format!("ws://{addr}/ws");
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    let td: Value = reqwest::get(format!("http://{addr}/counter/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(td["id"], "urn:labthings:bench-3:counter");
    assert_eq!(td["forms"][1]["href"], format!("ws://{addr}/ws"));
    counter.step.set(3);
    other.step.set(4);
    let ask = |thing_id: &str, name: &str| {
        json!({"thingID": thing_id, "messageID": "m", "messageType": "request",
               "operation": "readproperty", "name": name})
    };
    // By TD `id`, and by the TD's URL.
    send(&mut ws, ask("urn:labthings:bench-3:counter", "step")).await;
    let r = next(&mut ws).await;
    assert_eq!(
        (r["value"].as_i64(), r["thingID"].as_str()),
        (Some(3), Some("urn:labthings:bench-3:counter"))
    );
    send(&mut ws, ask(&format!("http://{addr}/other/"), "step")).await;
    assert_eq!(next(&mut ws).await["value"], 4);
    // Subscriptions to both Things on the one socket.
    for thing in [
        "urn:labthings:bench-3:counter",
        "urn:labthings:bench-3:other",
    ] {
        send(
            &mut ws,
            json!({"thingID": thing, "messageID": "m", "messageType": "request",
                   "operation": "subscribeevent", "name": "ticked"}),
        )
        .await;
        assert!(next(&mut ws).await.get("error").is_none());
    }
    other.ticked.emit(2);
    counter.ticked.emit(1);
    let a = next(&mut ws).await;
    let b = next(&mut ws).await;
    assert_eq!(
        (a["thingID"].as_str(), a["data"].as_u64()),
        (Some("urn:labthings:bench-3:other"), Some(2))
    );
    assert_eq!(
        (b["thingID"].as_str(), b["data"].as_u64()),
        (Some("urn:labthings:bench-3:counter"), Some(1))
    );
    // A request must name a Thing the server has.
    send(&mut ws, json!({"messageID": "m", "messageType": "request", "operation": "readproperty", "name": "step"})).await;
    assert_eq!(next(&mut ws).await["error"]["status"], 400);
    send(&mut ws, ask("urn:nope", "step")).await;
    assert_eq!(next(&mut ws).await["error"]["status"], 404);
}

#[tokio::test]
async fn invocations_report_progress_and_log_lines_as_they_happen() {
    support::logs::capture();
    let (addr, _) = start(labthings::ThingServer::new()).await;
    // Web Thing Protocol: ask to follow the invocation on the socket.
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    send(
        &mut ws,
        wtp(
            "invokeaction",
            json!({"name": "wait", "input": {"seconds": 0.5}, "observe": true}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(response["status"]["state"], "pending", "{response}");
    let mut progress = Vec::new();
    let mut logged = Vec::new();
    let last = loop {
        let n = next(&mut ws).await;
        assert_eq!(
            (
                n["messageType"].as_str(),
                n["operation"].as_str(),
                n["correlationID"].as_str()
            ),
            (Some("notification"), Some("invokeaction"), Some("c-1")),
            "{n}"
        );
        let status = &n["status"];
        if let Some(p) = status["progress"].as_u64() {
            progress.push(p);
        }
        logged.extend(status["log"].as_array().into_iter().flatten().cloned());
        if status["state"] == "completed" {
            break n;
        }
    };
    assert!(progress.len() >= 2, "progress as it changed: {progress:?}");
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
    assert_eq!(logged.len(), 1, "each log line once: {logged:?}");
    assert!(logged[0]["message"].as_str().unwrap().contains("waited"));
    assert!(last["status"]["timeEnded"].is_string(), "{last}");

    // `synchronous`: one response, when it has ended.
    send(
        &mut ws,
        wtp(
            "invokeaction",
            json!({"name": "add", "input": {"n": 5}, "synchronous": true}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(
        (
            response["messageType"].as_str(),
            response["output"].as_i64()
        ),
        (Some("response"), Some(5)),
        "{response}"
    );

    // LabThings dialect: the status messages carry progress and the new log lines too.
    let mut ws = support::ws::connect(addr, "counter").await;
    send(
        &mut ws,
        json!({"messageType": "addActionObservation", "data": {"wait": true}}),
    )
    .await;
    // A round trip: the observation is in place.
    support::ws::observe(&mut ws, &[]).await;
    let invocation = post(addr, "/counter/wait", json!({"seconds": 0.3})).await;
    let mut saw_progress = false;
    loop {
        let m = next(&mut ws).await;
        assert_eq!(m["messageType"], "actionStatus", "{m}");
        assert_eq!(m["data"]["id"], invocation["id"]);
        saw_progress |= m["data"]["progress"].as_u64().is_some_and(|p| p > 0);
        if m["data"]["status"] == "completed" {
            break;
        }
    }
    assert!(saw_progress);
    // `queryaction` includes the progress.
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    send(
        &mut ws,
        wtp("queryaction", json!({"actionID": invocation["id"]})),
    )
    .await;
    let status = next(&mut ws).await;
    assert!(status["status"]["progress"].is_u64(), "{status}");
}

#[tokio::test]
async fn events_are_typed_for_rust_subscribers_and_overflow_is_an_event() {
    let (addr, counter) = start(labthings::ThingServer::new()).await;
    let mut overflows = counter.overflowed.subscribe();
    counter.count.set(i64::MAX - 1);
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/counter/add"))
        .json(&json!({"n": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let event = overflows.next().await.unwrap();
    assert_eq!(
        event,
        counter::Overflowed {
            count: i64::MAX - 1,
            n: 5
        }
    );
    assert_eq!(counter.count.get(), i64::MAX - 1);
}

/// A subscription's response names the latest notification so far: a client that has had no
/// notification yet resumes from it and misses nothing; and a resumed property observation
/// gives the latest value once, not again as its current value.
#[tokio::test]
async fn a_subscription_can_be_resumed_before_its_first_notification() {
    let (addr, counter) = start(labthings::ThingServer::new()).await;
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    let response = subscribe(&mut ws, "ticked", None).await;
    let so_far = response["lastNotificationID"].as_str().unwrap().to_owned();
    drop(ws);
    counter.ticked.emit(1);
    counter.ticked.emit(2);
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    let response = subscribe(&mut ws, "ticked", Some(&so_far)).await;
    assert_eq!(response["resumed"], true, "{response}");
    assert_eq!(tick_of(&mut ws).await.0, 1);
    assert_eq!(tick_of(&mut ws).await.0, 2);

    send(&mut ws, wtp("observeproperty", json!({"name": "step"}))).await;
    let response = next(&mut ws).await;
    assert_eq!(response["operation"], "observeproperty", "{response}");
    let current = next(&mut ws).await;
    assert_eq!(current["value"], 1, "{current}");
    counter.step.set(8);
    let changed = next(&mut ws).await;
    assert_eq!(changed["value"], 8, "{changed}");
    let last = changed["messageID"].as_str().unwrap().to_owned();
    drop(ws);
    counter.step.set(9);
    let mut ws = support::ws::connect_wtp(addr, "counter").await;
    send(
        &mut ws,
        wtp(
            "observeproperty",
            json!({"name": "step", "lastNotificationID": last}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(response["resumed"], true, "{response}");
    assert_eq!(next(&mut ws).await["value"], 9);
    counter.step.set(10);
    // Not 9 again (as a current value), but the next change.
    assert_eq!(next(&mut ws).await["value"], 10);
    // A property that did not change since sends its current value: the client may never
    // have received it (its connection may have gone first).
    send(
        &mut ws,
        wtp(
            "observeproperty",
            json!({"name": "count", "lastNotificationID": last}),
        ),
    )
    .await;
    let response = next(&mut ws).await;
    assert_eq!(response["resumed"], true, "{response}");
    let current = next(&mut ws).await;
    assert_eq!(
        (current["name"].as_str(), current["value"].as_i64()),
        (Some("count"), Some(0))
    );
}
