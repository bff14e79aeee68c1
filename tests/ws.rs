//! The WebSocket endpoint, through a real WebSocket client against a server on 127.0.0.1:0:
//! both dialects, their errors, bad input, fan-out, slow clients and disconnection.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::ws::{LIMIT, Socket, next, next_matching, observe, send, wtp};
use tokio_tungstenite::tungstenite::Message;

struct Server {
    addr: std::net::SocketAddr,
    counter: Arc<counter::Counter>,
    shutdown: labthings::ShutdownHandle,
    http: reqwest::Client,
}

async fn start_with(limits: labthings::WsLimits) -> Server {
    let counter = Arc::new(counter::Counter::new());
    let (addr, shutdown) = support::start(
        labthings::ThingServer::new()
            .shared_thing("counter", counter.clone())
            .ws_limits(limits),
    )
    .await;
    Server {
        addr,
        counter,
        shutdown,
        http: reqwest::Client::new(),
    }
}

async fn start() -> Server {
    start_with(labthings::WsLimits::default()).await
}

impl Server {
    async fn connect(&self) -> Socket {
        support::ws::connect(self.addr, "counter").await
    }

    async fn connect_wtp(&self) -> Socket {
        support::ws::connect_wtp(self.addr, "counter").await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let url = format!("http://{}{path}", self.addr);
        let r = self.http.post(url).json(&body).send().await.unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        r.json().await.unwrap()
    }

    async fn put(&self, path: &str, body: Value) -> reqwest::StatusCode {
        let url = format!("http://{}{path}", self.addr);
        self.http
            .put(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

#[tokio::test]
async fn labthings_dialect_relays_property_and_action_status() {
    let s = start().await;
    let mut ws = s.connect().await;
    send(
        &mut ws,
        json!({"messageType": "addPropertyObservation", "data": {"count": true, "step": true}}),
    )
    .await;
    send(
        &mut ws,
        json!({"messageType": "addActionObservation", "data": {"increment": true}}),
    )
    .await;
    // A round trip that returns only after both subscriptions were processed.
    send(
        &mut ws,
        json!({"messageType": "addPropertyObservation", "data": {"nope": true}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["error"]["status"], "404");

    assert_eq!(
        s.put("/counter/step", json!(5)).await,
        reqwest::StatusCode::CREATED
    );
    assert_eq!(
        next(&mut ws).await,
        json!({"messageType": "propertyStatus", "data": {"step": 5}})
    );

    let invocation = s.post("/counter/increment", json!({})).await;
    let id = invocation["id"].as_str().unwrap();
    let mut statuses = Vec::new();
    let mut count = None;
    while statuses.last().map(String::as_str) != Some("completed") || count.is_none() {
        let m = next(&mut ws).await;
        match m["messageType"].as_str().unwrap() {
            "actionStatus" => {
                let data = &m["data"];
                assert_eq!(data["action name"], "increment");
                assert_eq!(data["id"], id);
                assert_eq!(
                    data["href"],
                    format!("http://{}/action_invocations/{id}", s.addr)
                );
                statuses.push(data["status"].as_str().unwrap().to_owned());
            }
            "propertyStatus" => count = Some(m["data"]["count"].clone()),
            other => panic!("unexpected {other}: {m}"),
        }
    }
    assert_eq!(statuses, ["pending", "running", "completed"]);
    assert_eq!(count, Some(json!(5)));

    // Writes from Rust code are published too.
    s.counter.label.set("ignored: not observed".into());
    s.counter.step.set(9);
    assert_eq!(next(&mut ws).await["data"], json!({"step": 9}));
}

#[tokio::test]
async fn labthings_errors_are_exact_and_every_name_is_processed() {
    let s = start().await;
    let mut ws = s.connect().await;
    send(&mut ws, json!({"messageType": "addPropertyObservation", "data": {"nope": true, "label": true, "count": true}})).await;
    assert_eq!(
        next(&mut ws).await,
        json!({"messageType": "response", "operation": "observeproperty", "name": "nope",
               "error": {"status": "404", "type": "https://w3c.github.io/web-thing-protocol/errors#not-found",
                         "title": "Not Found", "detail": "No property found with the name 'nope'."}})
    );
    assert_eq!(
        next(&mut ws).await,
        json!({"messageType": "response", "operation": "observeproperty", "name": "label",
               "error": {"status": "403", "type": "https://w3c.github.io/web-thing-protocol/errors#not-observable",
                         "title": "Not Observable", "detail": "Property 'label' is not observable."}})
    );
    send(
        &mut ws,
        json!({"messageType": "addActionObservation", "data": {"count": true}}),
    )
    .await;
    assert_eq!(
        next(&mut ws).await,
        json!({"messageType": "response", "operation": "observeaction", "name": "count",
               "error": {"status": "404", "type": "https://w3c.github.io/web-thing-protocol/errors#not-found",
                         "title": "Not Found", "detail": "No action found with the name 'count'."}})
    );
    // `count`, after the failing names, was still subscribed.
    s.counter.count.set(42);
    assert_eq!(next(&mut ws).await["data"], json!({"count": 42}));
}

#[tokio::test]
async fn bad_input_gets_an_error_and_the_socket_stays_open() {
    let s = start_with(labthings::WsLimits {
        max_message: 1024,
        ..Default::default()
    })
    .await;
    let mut ws = s.connect().await;
    let bad = [
        ("{not json".to_owned(), "not valid JSON"),
        ("[1, 2]".to_owned(), "must be a JSON object"),
        (json!({"data": {}}).to_string(), "no 'messageType'"),
        (
            json!({"messageType": "dance"}).to_string(),
            "unknown messageType 'dance'",
        ),
        (
            json!({"messageType": "addPropertyObservation", "data": ["count"]}).to_string(),
            "needs 'data'",
        ),
    ];
    for (text, expected) in bad {
        ws.send(Message::text(text.clone())).await.unwrap();
        let reply = next(&mut ws).await;
        assert_eq!(reply["messageType"], "response", "{text}");
        assert_eq!(reply["error"]["status"], "400", "{text}");
        let detail = reply["error"]["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{text}: {detail}");
    }
    ws.send(Message::binary(vec![1u8, 2, 3])).await.unwrap();
    assert!(
        next(&mut ws).await["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("binary")
    );
    // Still open and working (the error for "-" is sent once "count" is subscribed).
    send(
        &mut ws,
        json!({"messageType": "addPropertyObservation", "data": {"count": true, "-": true}}),
    )
    .await;
    assert_eq!(next(&mut ws).await["error"]["status"], "404");
    s.counter.count.set(7);
    assert_eq!(next(&mut ws).await["data"], json!({"count": 7}));
}

#[tokio::test]
async fn web_thing_protocol_properties() {
    let s = start().await;
    let mut ws = s.connect_wtp().await;
    send(&mut ws, wtp("readproperty", json!({"name": "step"}))).await;
    let r = next(&mut ws).await;
    assert_eq!(
        (r["messageType"].as_str(), r["operation"].as_str()),
        (Some("response"), Some("readproperty"))
    );
    assert_eq!(
        (r["thingID"].as_str(), r["correlationID"].as_str()),
        (Some("urn:test"), Some("c-1"))
    );
    assert_eq!(r["value"], 1);
    assert_ne!(r["messageID"], "m-1");

    send(
        &mut ws,
        wtp("writeproperty", json!({"name": "step", "value": 4})),
    )
    .await;
    assert!(next(&mut ws).await.get("error").is_none());
    assert_eq!(s.counter.step.get(), 4);
    send(
        &mut ws,
        wtp("writeproperty", json!({"name": "step", "value": 400})),
    )
    .await;
    let r = next(&mut ws).await;
    assert_eq!(r["error"]["status"], 422);
    assert!(
        r["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("maximum of 100")
    );
    assert_eq!(s.counter.step.get(), 4, "a rejected write changes nothing");
    send(
        &mut ws,
        wtp("writeproperty", json!({"name": "count", "value": 1})),
    )
    .await;
    // The refusal HTTP and MQTT give a write of a read-only property too.
    let refused = next(&mut ws).await;
    assert_eq!(refused["error"]["status"], 405);
    assert_eq!(
        refused["error"]["detail"],
        "property 'count' of 'counter' is read-only"
    );

    send(&mut ws, wtp("readallproperties", json!({}))).await;
    assert_eq!(
        next(&mut ws).await["values"],
        json!({"count": 0, "step": 4, "label": "", "temperature": 21.5})
    );
    send(
        &mut ws,
        wtp(
            "readmultipleproperties",
            json!({"names": ["count", "label"]}),
        ),
    )
    .await;
    assert_eq!(
        next(&mut ws).await["values"],
        json!({"count": 0, "label": ""})
    );

    send(&mut ws, wtp("observeproperty", json!({"name": "count"}))).await;
    assert_eq!(next(&mut ws).await["name"], "count");
    let first = next(&mut ws).await;
    assert_eq!(
        (first["messageType"].as_str(), first["value"].as_i64()),
        (Some("notification"), Some(0))
    );
    s.counter.count.set(3);
    let n = next(&mut ws).await;
    assert_eq!(
        (
            n["operation"].as_str(),
            n["name"].as_str(),
            n["value"].as_i64()
        ),
        (Some("observeproperty"), Some("count"), Some(3))
    );
    assert_eq!(n["correlationID"], "c-1");
    send(&mut ws, wtp("observeproperty", json!({"name": "label"}))).await;
    assert_eq!(next(&mut ws).await["error"]["status"], 403);
    send(&mut ws, wtp("unobserveproperty", json!({"name": "count"}))).await;
    assert_eq!(next(&mut ws).await["operation"], "unobserveproperty");
    s.counter.count.set(4);
    send(&mut ws, wtp("observeallproperties", json!({}))).await;
    assert_eq!(next(&mut ws).await["operation"], "observeallproperties");
    s.counter.step.set(6);
    let n = next(&mut ws).await;
    assert_eq!(
        (n["name"].as_str(), n["value"].as_i64()),
        (Some("step"), Some(6)),
        "the unobserved change to 4 was not sent"
    );
    send(&mut ws, wtp("unobserveallproperties", json!({}))).await;
    assert_eq!(next(&mut ws).await["operation"], "unobserveallproperties");

    send(&mut ws, wtp("readproperty", json!({"name": "nope"}))).await;
    let r = next(&mut ws).await;
    assert_eq!(
        (r["error"]["status"].as_u64(), r["name"].as_str()),
        (Some(404), Some("nope"))
    );
    send(&mut ws, wtp("teleport", json!({}))).await;
    assert_eq!(next(&mut ws).await["error"]["status"], 400);
    send(&mut ws, json!({"messageType": "request"})).await;
    assert!(
        next(&mut ws).await["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("operation")
    );
    ws.send(Message::text("nope")).await.unwrap();
    let r = next(&mut ws).await;
    assert_eq!(
        r["error"]["status"], 400,
        "numeric status in the negotiated dialect: {r}"
    );
}

#[tokio::test]
async fn web_thing_protocol_actions() {
    let s = start().await;
    let mut ws = s.connect_wtp().await;
    send(
        &mut ws,
        wtp("invokeaction", json!({"name": "add", "input": {"n": 5}})),
    )
    .await;
    let r = next(&mut ws).await;
    assert_eq!(r["name"], "add");
    let id = r["status"]["actionID"].as_str().unwrap().to_owned();
    assert!(matches!(
        r["status"]["state"].as_str(),
        Some("pending" | "running" | "completed")
    ));
    let status = loop {
        send(&mut ws, wtp("queryaction", json!({"actionID": id}))).await;
        let r = next(&mut ws).await;
        if r["status"]["state"] == "completed" {
            break r["status"].clone();
        }
        tokio::task::yield_now().await;
    };
    assert_eq!(status["output"], 5);
    assert!(status["timeEnded"].is_string());

    send(
        &mut ws,
        wtp("invokeaction", json!({"name": "add", "input": {"n": "x"}})),
    )
    .await;
    assert_eq!(next(&mut ws).await["error"]["status"], 422);
    send(
        &mut ws,
        wtp(
            "invokeaction",
            json!({"name": "wait", "input": {"seconds": 30}}),
        ),
    )
    .await;
    let wait_id = next(&mut ws).await["status"]["actionID"]
        .as_str()
        .unwrap()
        .to_owned();
    send(&mut ws, wtp("cancelaction", json!({"actionID": wait_id}))).await;
    assert_eq!(next(&mut ws).await["actionID"], wait_id);
    loop {
        send(&mut ws, wtp("queryaction", json!({"actionID": wait_id}))).await;
        if next(&mut ws).await["status"]["state"] == "cancelled" {
            break;
        }
    }
    send(&mut ws, wtp("cancelaction", json!({"actionID": wait_id}))).await;
    assert_eq!(next(&mut ws).await["error"]["status"], 409);
    send(&mut ws, wtp("queryallactions", json!({}))).await;
    let statuses = next(&mut ws).await["statuses"].clone();
    assert_eq!(statuses["add"][0]["actionID"], id);
    assert_eq!(statuses["wait"][0]["state"], "cancelled");
    send(
        &mut ws,
        wtp("queryaction", json!({"actionID": "not-an-id"})),
    )
    .await;
    assert_eq!(next(&mut ws).await["error"]["status"], 404);
}

#[tokio::test]
async fn a_hundred_observers_all_end_with_the_final_value() {
    let s = start().await;
    let mut sockets = Vec::new();
    for _ in 0..100 {
        let mut ws = s.connect().await;
        observe(&mut ws, &["count"]).await;
        sockets.push(ws);
    }
    s.post("/counter/increment_many", json!({"n": 1000})).await;
    let readers = sockets.into_iter().map(|mut ws| {
        tokio::spawn(async move {
            let mut seen = 0;
            loop {
                let m = next(&mut ws).await;
                seen += 1;
                if m["data"]["count"] == 1000 {
                    return seen;
                }
            }
        })
    });
    for reader in readers {
        let seen = reader.await.unwrap();
        assert!((1..=1000).contains(&seen));
    }
}

#[tokio::test]
async fn a_client_that_never_reads_neither_delays_others_nor_queues_without_bound() {
    let s = start().await;
    let mut stuck = s.connect().await;
    observe(&mut stuck, &["count"]).await;
    let mut reader = s.connect().await;
    observe(&mut reader, &["count"]).await;

    const N: i64 = 300_000;
    s.post("/counter/increment_many", json!({"n": N})).await;
    next_matching(&mut reader, |m| m["data"]["count"] == N).await;

    // The stuck client now reads: it ends with the final value, having received far fewer
    // messages than there were changes (the server coalesced what it could not take).
    let mut received = 0;
    loop {
        let m = next(&mut stuck).await;
        received += 1;
        if m["data"]["count"] == N {
            break;
        }
    }
    assert!(
        received < N,
        "received {received} of {N} changes: nothing was coalesced"
    );
}

#[tokio::test]
async fn disconnecting_unsubscribes_and_shutdown_closes_sockets() {
    let s = start().await;
    let mut ws = s.connect().await;
    observe(&mut ws, &["count"]).await;
    assert_eq!(s.counter.count.topic().subscriber_count(), 1);
    ws.close(None).await.unwrap();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while s.counter.count.topic().subscriber_count() != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still subscribed after disconnecting"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut ws = s.connect().await;
    s.shutdown.shutdown();
    let frame = loop {
        match tokio::time::timeout(LIMIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Close(frame))) => break frame,
            Some(Ok(_)) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(u16::from(frame.unwrap().code), 1001);
}

/// Many clients subscribe again and again while a writer hammers the property: whatever the
/// interleaving, each ends on the value written last (a current value read before a write
/// is never queued after that write's notification).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn observers_always_end_on_the_latest_value() {
    const WRITES: i64 = 3000;
    const CLIENTS: usize = 16;
    let s = start().await;
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let mut ws = s.connect_wtp().await;
        send(&mut ws, wtp("observeproperty", json!({"name": "step"}))).await;
        next_matching(&mut ws, |m| {
            m["operation"] == "observeproperty" && m["messageType"] == "response"
        })
        .await;
        clients.push(ws);
    }
    let writer = {
        let (counter, done) = (s.counter.clone(), done.clone());
        tokio::spawn(async move {
            for i in 1..=WRITES {
                counter.count.set(i);
                if i % 8 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let subscribers = clients.into_iter().map(|mut ws| {
        let done = done.clone();
        tokio::spawn(async move {
            // Subscribe, and subscribe again, until the writer has finished: the last
            // subscription races with the last writes.
            loop {
                send(&mut ws, wtp("observeproperty", json!({"name": "count"}))).await;
                next_matching(&mut ws, |m| m["messageType"] == "response").await;
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    return ws;
                }
                send(&mut ws, wtp("unobserveproperty", json!({"name": "count"}))).await;
                next_matching(&mut ws, |m| m["messageType"] == "response").await;
            }
        })
    });
    let mut sockets = Vec::new();
    for subscriber in subscribers {
        sockets.push(subscriber.await.unwrap());
    }
    writer.await.unwrap();
    // A sentinel published after everything else: what came before it has been delivered.
    s.counter.step.set(99);
    for mut ws in sockets {
        let mut last = None;
        loop {
            let m = next(&mut ws).await;
            match m["name"].as_str() {
                Some("count") if m["messageType"] == "notification" => last = m["value"].as_i64(),
                Some("step") if m["value"] == 99 => break,
                _ => {}
            }
        }
        assert_eq!(last, Some(WRITES), "an observer ended on a stale value");
    }
}

mod gated {
    use labthings::thing;

    /// A Thing whose getters wait until the test lets them finish.
    #[thing]
    pub(crate) struct Gated {
        #[property(observable)]
        pub(crate) level: i64,
        pub(crate) slow_gate: tokio::sync::Semaphore,
        pub(crate) stuck_gate: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
    }

    #[thing]
    impl Gated {
        /// Waits (asynchronously) for the slow gate.
        #[property]
        async fn slow(&self) -> i64 {
            self.slow_gate.acquire().await.unwrap().forget();
            1
        }

        /// Blocks its thread until the stuck gate opens.
        #[property]
        fn stuck(&self) -> i64 {
            self.stuck_gate.lock().unwrap().recv().unwrap();
            2
        }
    }
}

async fn start_gated(
    limits: labthings::WsLimits,
) -> (
    std::net::SocketAddr,
    Arc<gated::Gated>,
    std::sync::mpsc::Sender<()>,
) {
    let (open_stuck, stuck) = std::sync::mpsc::channel();
    let thing = Arc::new(gated::Gated {
        level: 0.into(),
        slow_gate: tokio::sync::Semaphore::new(0),
        stuck_gate: std::sync::Mutex::new(stuck),
    });
    let (addr, _) = support::start(
        labthings::ThingServer::new()
            .shared_thing("gated", thing.clone())
            .ws_limits(limits),
    )
    .await;
    (addr, thing, open_stuck)
}

fn with_correlation(mut request: Value, id: &str) -> Value {
    request["correlationID"] = id.into();
    request
}

/// A request that waits on device code delays neither notifications nor other requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_does_not_stall_the_socket() {
    let (addr, thing, open_stuck) = start_gated(labthings::WsLimits::default()).await;
    let mut ws = support::ws::connect_wtp(addr, "gated").await;
    send(&mut ws, wtp("observeproperty", json!({"name": "level"}))).await;
    next_matching(&mut ws, |m| m["messageType"] == "notification").await;
    let slow = with_correlation(wtp("readproperty", json!({"name": "slow"})), "slow");
    let stuck = with_correlation(wtp("readproperty", json!({"name": "stuck"})), "stuck");
    send(&mut ws, slow).await;
    send(&mut ws, stuck).await;

    thing.level.set(5);
    let n = next(&mut ws).await;
    assert_eq!(
        (n["name"].as_str(), n["value"].as_i64()),
        (Some("level"), Some(5)),
        "{n}"
    );
    let fast = with_correlation(wtp("readproperty", json!({"name": "level"})), "fast");
    send(&mut ws, fast).await;
    let r = next(&mut ws).await;
    assert_eq!(
        (r["correlationID"].as_str(), r["value"].as_i64()),
        (Some("fast"), Some(5)),
        "{r}"
    );

    thing.slow_gate.add_permits(1);
    let r = next(&mut ws).await;
    assert_eq!(
        (r["correlationID"].as_str(), r["value"].as_i64()),
        (Some("slow"), Some(1)),
        "{r}"
    );
    open_stuck.send(()).unwrap();
    let r = next(&mut ws).await;
    assert_eq!(
        (r["correlationID"].as_str(), r["value"].as_i64()),
        (Some("stuck"), Some(2)),
        "{r}"
    );
}

/// Requests in flight per socket are bounded: past the bound, the next request waits for one
/// to complete, while notifications keep flowing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_bounded_per_socket() {
    let limits = labthings::WsLimits {
        max_in_flight: 2,
        ..Default::default()
    };
    let (addr, thing, _open_stuck) = start_gated(limits).await;
    let mut ws = support::ws::connect_wtp(addr, "gated").await;
    send(&mut ws, wtp("observeproperty", json!({"name": "level"}))).await;
    next_matching(&mut ws, |m| m["messageType"] == "notification").await;
    for id in ["slow-1", "slow-2"] {
        send(
            &mut ws,
            with_correlation(wtp("readproperty", json!({"name": "slow"})), id),
        )
        .await;
    }
    let queued = with_correlation(wtp("readproperty", json!({"name": "level"})), "queued");
    send(&mut ws, queued).await;
    thing.level.set(7);
    let n = next(&mut ws).await;
    assert_eq!(n["value"], 7, "notifications flow while requests wait: {n}");
    thing.slow_gate.add_permits(1);
    let first = next(&mut ws).await;
    assert!(
        first["correlationID"]
            .as_str()
            .unwrap()
            .starts_with("slow-"),
        "the queued request was answered before a slot was free: {first}"
    );
    let second = next(&mut ws).await;
    assert_eq!(second["correlationID"], "queued", "{second}");
    thing.slow_gate.add_permits(1);
    let last = next(&mut ws).await;
    assert!(
        last["correlationID"].as_str().unwrap().starts_with("slow-"),
        "{last}"
    );
}
