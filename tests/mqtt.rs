//! The MQTT binding through a real broker: Mosquitto (Debian's `mosquitto`, installed by
//! `./test.sh`), started by each test on a free loopback port. Compiled only with the `interop`
//! feature (`./test.sh` sets the parts up and turns it on); without the part the tests fail.

// Without `interop`, the helpers of the tests that need outside parts go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::sync::Arc;
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use counter::Counter;
use support::mosquitto::{Broker, free_port};

/// The `mosquitto` program (the test fails without it).
fn mosquitto() -> std::path::PathBuf {
    support::needs::mosquitto("the MQTT tests")
}

/// A test's MQTT client: every message of its subscriptions, with its properties; it
/// subscribes again after each reconnection.
struct Subscriber {
    client: AsyncClient,
    rx: mpsc::UnboundedReceiver<(String, Value, Option<PublishProperties>)>,
    /// Messages received while waiting on another topic, by topic, in order.
    held: std::collections::HashMap<String, std::collections::VecDeque<Message>>,
}

type Message = (Value, Option<PublishProperties>);

/// How long a test waits for a message before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

impl Subscriber {
    async fn connect(port: u16, id: &str, filters: &[&str]) -> Self {
        let mut options = MqttOptions::new(id, "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 1024);
        let (tx, rx) = mpsc::unbounded_channel();
        let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        let again = client.clone();
        // Connected once every subscription is acknowledged.
        let (subscribed_tx, mut subscribed) = tokio::sync::watch::channel(0usize);
        let wanted = filters.len();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        for filter in &filters {
                            again
                                .subscribe(filter.clone(), QoS::AtLeastOnce)
                                .await
                                .unwrap();
                        }
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        subscribed_tx.send_modify(|n| *n += 1);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let topic = String::from_utf8_lossy(&p.topic).into_owned();
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        if tx.send((topic, value, p.properties)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(PATIENCE, subscribed.wait_for(|n| *n >= wanted))
            .await
            .expect("the broker acknowledges the subscriptions")
            .unwrap();
        Self {
            client,
            rx,
            held: Default::default(),
        }
    }

    /// Publish a request to `topic` (QoS 1, not retained) with `properties`.
    async fn request(
        &self,
        topic: &str,
        payload: impl Into<Vec<u8>>,
        properties: PublishProperties,
    ) {
        self.client
            .publish_with_properties(topic, QoS::AtLeastOnce, false, payload.into(), properties)
            .await
            .unwrap();
    }

    /// The next message on `topic` (others are skipped).
    async fn next_on(&mut self, topic: &str) -> Message {
        if let Some(message) = self.held.get_mut(topic).and_then(|q| q.pop_front()) {
            return message;
        }
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let (t, value, properties) = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("nothing came on {topic} within {PATIENCE:?}"))
                .expect("the subscriber runs");
            if t == topic {
                return (value, properties);
            }
            self.held
                .entry(t)
                .or_default()
                .push_back((value, properties));
        }
    }

    /// Messages on `topic` until one equals `value`.
    async fn until(&mut self, topic: &str, value: &Value) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let (v, _) = self.next_on(topic).await;
            seen.push(v.clone());
            if &v == value {
                return seen;
            }
        }
    }
}

async fn serve(
    port: u16,
) -> (
    std::net::SocketAddr,
    Arc<Counter>,
    labthings::ShutdownHandle,
) {
    let counter = Arc::new(Counter::new());
    let mqtt = labthings::Mqtt::new(&format!("mqtt://127.0.0.1:{port}"))
        .unwrap()
        .prefix("lab")
        .unwrap()
        .client_id(format!("labthings-test-{port}"));
    let server = labthings::ThingServer::new()
        .shared_thing("counter", counter.clone())
        .mqtt(mqtt);
    let (addr, shutdown) = support::start(server).await;
    (addr, counter, shutdown)
}

const COUNT: &str = "lab/counter/properties/count";

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_see_every_change_and_the_retained_latest_value() {
    let program = mosquitto();
    let broker = Broker::start(&program, None, "").await;
    let mut early = Subscriber::connect(broker.port, "early", &[COUNT]).await;
    let (addr, counter, _shutdown) = serve(broker.port).await;
    // The binding publishes the current value (retained) once connected.
    assert_eq!(early.next_on(COUNT).await.0, json!(0));
    for n in 1..=50 {
        counter.count.set(n);
    }
    let seen = early.until(COUNT, &json!(50)).await;
    assert_eq!(
        seen,
        (1..=50).map(|n| json!(n)).collect::<Vec<_>>(),
        "every change, in order"
    );
    // A subscriber that comes later gets the latest value at once, retained.
    let mut late = Subscriber::connect(broker.port, "late", &[COUNT]).await;
    assert_eq!(late.next_on(COUNT).await.0, json!(50));
    // Events are published too (not retained).
    let mut ticks = Subscriber::connect(broker.port, "ticks", &["lab/counter/events/ticked"]).await;
    counter.ticked.emit(7);
    assert_eq!(ticks.next_on("lab/counter/events/ticked").await.0, json!(7));
    // The metrics count the connection and every message published (the first value, 50
    // changes, the event).
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    let connected = support::metrics::sample(&text, "labthings_mqtt_connected", &[]);
    assert_eq!(connected, Some(1.0), "{text}");
    let out = [("direction", "out")];
    let published = support::metrics::sample(&text, "labthings_mqtt_messages_total", &out);
    assert!(published.is_some_and(|n| n >= 52.0), "{text}");
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_and_invocations_over_mqtt_are_validated_and_answered() {
    let program = mosquitto();
    let broker = Broker::start(&program, None, "").await;
    let mut me = Subscriber::connect(
        broker.port,
        "requester",
        &[
            "replies/me",
            COUNT,
            "lab/counter/errors",
            "lab/counter/actions/increment/invocations/+",
        ],
    )
    .await;
    let (_addr, counter, _shutdown) = serve(broker.port).await;
    assert_eq!(me.next_on(COUNT).await.0, json!(0));

    let request = |data: &'static str| PublishProperties {
        response_topic: Some("replies/me".into()),
        correlation_data: Some(data.into()),
        ..Default::default()
    };
    // A write, answered on the response topic with the correlation data.
    me.request("lab/counter/properties/step/set", "7", request("w1"))
        .await;
    let (answer, properties) = me.next_on("replies/me").await;
    assert_eq!(answer, Value::Null);
    assert_eq!(
        properties.unwrap().correlation_data.as_deref(),
        Some(&b"w1"[..])
    );
    assert_eq!(counter.step.get(), 7);

    // Validated as over HTTP: the refusal is a problem, and nothing changes.
    me.request("lab/counter/properties/step/set", "1000", request("w2"))
        .await;
    let (problem, properties) = me.next_on("replies/me").await;
    assert_eq!(problem["status"], 422, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("greater than the maximum of 100"),
        "{detail}"
    );
    let properties = properties.unwrap();
    assert_eq!(
        properties.content_type.as_deref(),
        Some("application/problem+json")
    );
    assert_eq!(properties.correlation_data.as_deref(), Some(&b"w2"[..]));
    assert_eq!(counter.step.get(), 7);

    // An invocation: answered with its status, then its statuses on its own topic.
    me.request("lab/counter/actions/increment", "", request("i1"))
        .await;
    let (status, _) = me.next_on("replies/me").await;
    let id = status["actionID"]
        .as_str()
        .expect("an invocation id")
        .to_owned();
    let topic = format!("lab/counter/actions/increment/invocations/{id}");
    loop {
        let (status, _) = me.next_on(&topic).await;
        if status["status"] == "completed" {
            assert_eq!(status["output"], 7);
            break;
        }
    }
    assert_eq!(counter.count.get(), 7);

    // Without a response topic, a refusal goes to the Thing's errors topic.
    me.client
        .publish(
            "lab/counter/properties/count/set",
            QoS::AtLeastOnce,
            false,
            "3",
        )
        .await
        .unwrap();
    let (problem, _) = me.next_on("lab/counter/errors").await;
    assert_eq!(problem["status"], 405, "{problem}");
    assert_eq!(problem["topic"], "lab/counter/properties/count/set");
    me.client
        .publish(
            "lab/counter/actions/add",
            QoS::AtLeastOnce,
            false,
            "{\"n\": \"two\"}",
        )
        .await
        .unwrap();
    let (problem, _) = me.next_on("lab/counter/errors").await;
    assert_eq!(problem["status"], 422, "{problem}");
    assert_eq!(counter.count.get(), 7);
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_during_a_burst_loses_no_final_value() {
    // The watcher shares the machine with the server and may fall behind the burst: with
    // Mosquitto's default of 1000 queued messages per subscriber the broker would then drop
    // the newest ones for it, the final value among them (its log says "Outgoing messages are
    // being dropped for client watcher"). That is the broker's policy, not the binding's: the
    // broker here queues without a limit.
    const QUEUE_ALL: &str = "max_queued_messages 0\n";
    let program = mosquitto();
    let broker = Broker::start(&program, None, QUEUE_ALL).await;
    let mut watcher = Subscriber::connect(broker.port, "watcher", &[COUNT]).await;
    let (addr, counter, _shutdown) = serve(broker.port).await;
    assert_eq!(watcher.next_on(COUNT).await.0, json!(0));
    for n in 1..=1_000 {
        counter.count.set(n);
    }
    let port = broker.kill().await;
    // With the broker gone, device code and HTTP go on.
    for n in 1_001..=2_000 {
        counter.count.set(n);
    }
    let (status, body) = support::raw(
        addr,
        "GET /counter/count HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!((status, body.trim()), (200, "2000"));
    let _broker = Broker::start(&program, Some(port), QUEUE_ALL).await;
    for n in 2_001..=3_000 {
        counter.count.set(n);
    }
    // The binding reconnects and republishes; the watcher (reconnected) ends on the final
    // value, and so does a newcomer, from the retained message.
    watcher.until(COUNT, &json!(3000)).await;
    let mut newcomer = Subscriber::connect(port, "newcomer", &[COUNT]).await;
    assert_eq!(newcomer.next_on(COUNT).await.0, json!(3000));
}

#[tokio::test]
async fn the_td_carries_mqtt_forms_valid_against_the_w3c_schema() {
    let mqtt = labthings::Mqtt::new("mqtt://127.0.0.1:1")
        .unwrap()
        .prefix("lab")
        .unwrap();
    let server = labthings::ThingServer::new()
        .thing("counter", Counter::new())
        .mqtt(mqtt);
    // Not connected: the TD is the same whether the broker is up or not.
    let (addr, _shutdown) = support::start(server).await;
    let (status, body) = support::raw(
        addr,
        "GET /counter/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200);
    let td: Value = serde_json::from_str(&body).unwrap();
    support::td::assert_valid("counter with MQTT forms", &td);
    assert_eq!(
        td["@context"].as_array().unwrap().last().unwrap(),
        &json!({"mqv": "https://www.w3.org/2019/wot/mqtt#"})
    );
    let forms = |path: &str| -> Vec<Value> {
        td.pointer(path)
            .unwrap()
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["href"].as_str().unwrap().starts_with("mqtt://"))
            .cloned()
            .collect()
    };
    let count = forms("/properties/count/forms");
    assert_eq!(count.len(), 1, "read-only: observe only");
    assert_eq!(
        count[0]["href"],
        "mqtt://127.0.0.1:1/lab/counter/properties/count"
    );
    assert_eq!(count[0]["mqv:filter"], "lab/counter/properties/count");
    assert_eq!(count[0]["mqv:retain"], true);
    let step = forms("/properties/step/forms");
    assert_eq!(step[1]["op"], json!(["writeproperty"]));
    assert_eq!(step[1]["mqv:topic"], "lab/counter/properties/step/set");
    assert!(
        forms("/properties/label/forms")
            .iter()
            .all(|f| f["op"] == json!(["writeproperty"])),
        "not observable: no retained value to read"
    );
    assert_eq!(
        forms("/actions/increment/forms")[0]["mqv:topic"],
        "lab/counter/actions/increment"
    );
    assert_eq!(
        forms("/events/ticked/forms")[0]["mqv:filter"],
        "lab/counter/events/ticked"
    );
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_wot_reads_observes_writes_invokes_and_subscribes_over_mqtt() {
    let program = mosquitto();
    let modules = support::needs::node_modules("the node-wot MQTT test", "@node-wot/binding-mqtt");
    let broker = Broker::start(&program, None, "").await;
    let mut ready = Subscriber::connect(broker.port, "ready", &[COUNT]).await;
    let (addr, _counter, _shutdown) = serve(broker.port).await;
    // The binding is connected once the retained value is there.
    assert_eq!(ready.next_on(COUNT).await.0, json!(0));
    let stdout = support::node(
        modules,
        "nodewot_mqtt.js",
        format!("http://{addr}/counter/"),
    )
    .await;
    assert!(stdout.contains("done"), "node-wot over MQTT:\n{stdout}");
    for operation in [
        "readproperty",
        "observeproperty",
        "writeproperty",
        "invokeaction",
        "subscribeevent",
    ] {
        assert!(stdout.contains(&format!("works: {operation}")), "{stdout}");
    }
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtts_with_credentials_from_a_file() {
    let program = mosquitto();
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let passwords = dir.path().join("passwords");
    let made = std::process::Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&passwords)
        .args(["lab-server", "s3cret pass"])
        .status()
        .expect("mosquitto_passwd (Debian `mosquitto`) runs");
    assert!(made.success());
    // The secret, for the server: user name, then password.
    let secret = dir.path().join("mqtt.secret");
    std::fs::write(&secret, "lab-server\ns3cret pass\n").unwrap();
    // A plain listener for the test's subscriber, a TLS one with passwords for the server.
    let (plain, tls) = (free_port(), free_port());
    let listeners = format!(
        "per_listener_settings true\nlistener {plain} 127.0.0.1\nallow_anonymous true\nlistener {tls} 127.0.0.1\ncertfile {}\nkeyfile {}\nallow_anonymous false\npassword_file {}\n",
        cert.display(),
        key.display(),
        passwords.display()
    );
    let _broker = Broker::run(&program, plain, dir, &listeners).await;
    let mut watcher = Subscriber::connect(plain, "watcher", &[COUNT]).await;
    let mqtt = labthings::Mqtt::new(&format!("mqtts://localhost:{tls}"))
        .unwrap()
        .prefix("lab")
        .unwrap()
        .root_certificate_pem(certified.cert.pem().as_bytes())
        .unwrap()
        .credentials_file(&secret)
        .unwrap();
    let counter = Arc::new(Counter::new());
    let server = labthings::ThingServer::new()
        .shared_thing("counter", counter.clone())
        .mqtt(mqtt);
    let (_addr, _shutdown) = support::start(server).await;
    // Published over TLS, logged in with the file's credentials.
    assert_eq!(watcher.next_on(COUNT).await.0, json!(0));
    counter.count.set(5);
    watcher.until(COUNT, &json!(5)).await;
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_is_never_published_into_the_servers_own_topics() {
    let program = mosquitto();
    let broker = Broker::start(&program, None, "").await;
    let mut me = Subscriber::connect(
        broker.port,
        "mischief",
        &[COUNT, "lab/counter/errors", "replies/mischief"],
    )
    .await;
    // A retained request left on the broker is never carried out: a reconnection would
    // repeat it.
    me.client
        .publish("lab/counter/actions/increment", QoS::AtLeastOnce, true, "")
        .await
        .unwrap();
    let (_addr, counter, _shutdown) = serve(broker.port).await;
    assert_eq!(me.next_on(COUNT).await.0, json!(0));
    // A write whose reply would land on the count topic (passing for a value, or a request).
    let sneaky = PublishProperties {
        response_topic: Some(COUNT.into()),
        ..Default::default()
    };
    me.request("lab/counter/properties/step/set", "3", sneaky)
        .await;
    let (problem, _) = me.next_on("lab/counter/errors").await;
    assert_eq!(problem["status"], 403, "{problem}");
    assert_eq!(counter.step.get(), 1, "a refused request changes nothing");
    // Requests are taken (the server is subscribed): the retained one was not.
    let fair = PublishProperties {
        response_topic: Some("replies/mischief".into()),
        ..Default::default()
    };
    me.request("lab/counter/properties/label/set", "\"after\"", fair)
        .await;
    assert_eq!(me.next_on("replies/mischief").await.0, Value::Null);
    assert_eq!(counter.label.get(), "after");
    assert_eq!(
        counter.count.get(),
        0,
        "the retained invocation did not run"
    );
}

mod note {
    /// A Thing with a value that can outgrow a broker's packets.
    #[labthings::thing]
    pub(crate) struct Note {
        /// Free text.
        #[property(observable)]
        pub(crate) text: String,
    }
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_larger_than_the_broker_takes_is_reported_and_the_rest_goes_on() {
    let program = mosquitto();
    let broker = Broker::start(&program, None, "max_packet_size 2000\n").await;
    let mut watcher = Subscriber::connect(
        broker.port,
        "watcher",
        &[
            COUNT,
            "lab/note/properties/text",
            "lab/note/errors",
            "replies/me",
        ],
    )
    .await;
    let note = Arc::new(note::Note {
        text: String::from("short").into(),
    });
    let counter = Arc::new(Counter::new());
    let mqtt = labthings::Mqtt::new(&format!("mqtt://127.0.0.1:{}", broker.port))
        .unwrap()
        .prefix("lab")
        .unwrap();
    let server = labthings::ThingServer::new()
        .shared_thing("counter", counter.clone())
        .shared_thing("note", note.clone())
        .mqtt(mqtt);
    let (_addr, _shutdown) = support::start(server).await;
    assert_eq!(watcher.next_on(COUNT).await.0, json!(0));
    assert_eq!(
        watcher.next_on("lab/note/properties/text").await.0,
        json!("short")
    );
    // Too large for the broker: not sent, and said so on the Thing's errors topic.
    note.text.set("x".repeat(5000));
    let (problem, _) = watcher.next_on("lab/note/errors").await;
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("'text'") && detail.contains("2000"),
        "{detail}"
    );
    // The binding goes on: other changes, and this property's next value that fits.
    counter.count.set(5);
    assert_eq!(watcher.next_on(COUNT).await.0, json!(5));
    note.text.set("fits".into());
    assert_eq!(
        watcher.next_on("lab/note/properties/text").await.0,
        json!("fits")
    );

    // A request whose answer outgrows the broker's packets: an input of many unknown fields
    // to an action that takes none is refused with each of them named, three times over.
    let fields: serde_json::Map<String, Value> = (0..40)
        .map(|i| (format!("an_unexpected_field_{i:02}"), json!(0)))
        .collect();
    let input = Value::Object(fields).to_string();
    assert!(input.len() < 1800, "the request fits: {}", input.len());
    let properties = PublishProperties {
        response_topic: Some("replies/me".into()),
        correlation_data: Some("big".into()),
        ..Default::default()
    };
    watcher
        .request("lab/counter/actions/increment", input, properties)
        .await;
    let (answer, properties) = watcher.next_on("replies/me").await;
    assert_eq!(answer["status"], 413, "{answer}");
    let properties = properties.unwrap();
    assert_eq!(properties.correlation_data.as_deref(), Some(&b"big"[..]));
    // And the binding is still connected.
    counter.count.set(6);
    assert_eq!(watcher.next_on(COUNT).await.0, json!(6));
}

mod slow {
    /// A Thing whose writes take a while.
    #[labthings::thing]
    pub(crate) struct Slow {
        /// What the last write of `target` reached.
        #[property(observable, read_only)]
        pub(crate) level: i64,
        /// Told when a write starts.
        pub(crate) started: std::sync::Arc<tokio::sync::Notify>,
    }

    #[labthings::thing]
    impl Slow {
        /// Where `level` goes.
        #[property]
        fn target(&self) -> i64 {
            self.level.get()
        }

        /// Takes a second, then sets `level`.
        #[property(setter)]
        async fn set_target(&self, target: i64) {
            self.started.notify_one();
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            self.level.set(target);
        }
    }
}

/// A request being carried out when the server shuts down is answered, and what it changed
/// published, before the binding disconnects.
#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_progress_at_shutdown_is_answered() {
    let program = mosquitto();
    let broker = Broker::start(&program, None, "").await;
    let mut me = Subscriber::connect(
        broker.port,
        "me",
        &["replies/me", "lab/slow/properties/level"],
    )
    .await;
    let started = Arc::new(tokio::sync::Notify::new());
    let mqtt = labthings::Mqtt::new(&format!("mqtt://127.0.0.1:{}", broker.port))
        .unwrap()
        .prefix("lab")
        .unwrap();
    let server = labthings::ThingServer::new()
        .thing("counter", Counter::new())
        .thing(
            "slow",
            slow::Slow {
                level: 0.into(),
                started: started.clone(),
            },
        )
        .mqtt(mqtt);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(std::future::IntoFuture::into_future(
        server
            .serve(listener)
            .with_graceful_shutdown(async move { drop(stopped.await) }),
    ));
    // Connected, and its requests heard.
    assert_eq!(me.next_on("lab/slow/properties/level").await.0, json!(0));
    let properties = PublishProperties {
        response_topic: Some("replies/me".into()),
        correlation_data: Some("slow".into()),
        ..Default::default()
    };
    me.request("lab/slow/properties/target/set", "3", properties)
        .await;
    tokio::time::timeout(PATIENCE, started.notified())
        .await
        .expect("the write starts");
    // The write has a second to go: the server is stopped meanwhile.
    stop.send(()).unwrap();
    let (answer, properties) = me.next_on("replies/me").await;
    assert_eq!(answer, Value::Null);
    assert_eq!(
        properties.unwrap().correlation_data.as_deref(),
        Some(&b"slow"[..])
    );
    // What the write changed is published too, before the binding goes.
    assert_eq!(me.next_on("lab/slow/properties/level").await.0, json!(3));
    tokio::time::timeout(PATIENCE, serving)
        .await
        .expect("the server stops")
        .unwrap()
        .unwrap();
}
