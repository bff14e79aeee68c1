//! One catalogue of refusals: each mistake a client can make is refused with the same status
//! and the same detail over HTTP, SSE, both WebSocket dialects and MQTT (wherever the binding
//! can express the request at all).

// Without `interop`, the helpers of the tests that need outside parts go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use labthings::{ActionContext, Cancelled, Scope, ThingServer, thing};
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use serde_json::{Value, json};
use support::mosquitto::Broker;
use support::ws::{self, Socket, next, send, wtp};
use tokio::sync::mpsc;

const VIEWER: &str = "viewer-token-0123456789";
const OPERATOR: &str = "operator-token-0123456789";
const ADMIN: &str = "admin-token-0123456789abc";

/// A Thing with one affordance of each kind a refusal is about.
#[derive(Debug)]
#[thing]
pub struct Panel {
    /// Measured, never written by clients.
    #[property(observable, read_only)]
    reading: f64,
    /// Written, never read back.
    #[property(write_only)]
    secret: String,
    /// Read on request only.
    #[property]
    plain: i64,
    /// A bounded level.
    #[property(observable, minimum = 0, maximum = 10)]
    level: i64,
    /// Whether the panel may be operated; it stays locked.
    #[property(state)]
    state: PanelState,
    /// Written only while open.
    #[property(allowed_in(Open))]
    dial: i64,
}

/// The states of the panel.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum PanelState {
    /// Nothing may be operated.
    Locked,
    /// Open to operation.
    Open,
}

#[thing]
impl Panel {
    /// Hold the panel until cancelled; one at a time.
    #[action(exclusive)]
    async fn hold(&self, ctx: &ActionContext) -> Result<(), Cancelled> {
        ctx.cancelled().await;
        Err(Cancelled)
    }

    /// Done at once.
    #[action]
    fn quick(&self) {}

    /// Waits its turn behind `hold`; the server lets none wait.
    #[action(exclusive = "queue")]
    fn queued(&self) {}

    /// Runs only while open.
    #[action(allowed_in(Open))]
    fn turn(&self) {}
}

/// A vault whose lease an administrator holds for the whole test.
#[derive(Debug)]
#[thing]
pub struct Vault {
    /// Its code.
    #[property]
    code: i64,
}

#[thing]
impl Vault {
    /// Open it.
    #[action]
    fn open(&self) {}
}

/// The mistakes, each with the status every binding gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mistake {
    WriteReadOnly,
    ReadWriteOnly,
    ObserveNotObservable,
    NoProperty,
    NoAction,
    Invalid,
    Busy,
    LineFull,
    WriteInState,
    InvokeInState,
    WriteLeased,
    InvokeLeased,
    OutOfScope,
    CancelEnded,
    NoInvocation,
}

impl Mistake {
    const ALL: [Self; 15] = [
        Self::WriteReadOnly,
        Self::ReadWriteOnly,
        Self::ObserveNotObservable,
        Self::NoProperty,
        Self::NoAction,
        Self::Invalid,
        Self::Busy,
        Self::LineFull,
        Self::WriteInState,
        Self::InvokeInState,
        Self::WriteLeased,
        Self::InvokeLeased,
        Self::OutOfScope,
        Self::CancelEnded,
        Self::NoInvocation,
    ];

    /// The status of the refusal, on every binding.
    fn status(self) -> u16 {
        match self {
            Self::WriteReadOnly | Self::ReadWriteOnly => 405,
            Self::ObserveNotObservable | Self::OutOfScope => 403,
            Self::NoProperty | Self::NoAction | Self::NoInvocation => 404,
            Self::Invalid => 422,
            Self::Busy | Self::CancelEnded | Self::WriteInState | Self::InvokeInState => 409,
            Self::WriteLeased | Self::InvokeLeased => 423,
            Self::LineFull => 503,
        }
    }
}

/// A refusal as a binding gave it.
#[derive(Debug, Clone, PartialEq)]
struct Refusal {
    status: u16,
    detail: String,
}

/// What the tests address: the server, the invocation holding the panel, one that ended.
struct Setup {
    addr: SocketAddr,
    http: reqwest::Client,
    ended: String,
}

impl Setup {
    async fn start(mqtt: Option<u16>) -> Self {
        let mut server = ThingServer::new()
            .thing(
                "panel",
                Panel {
                    reading: 1.5.into(),
                    secret: String::new().into(),
                    plain: 0.into(),
                    level: 0.into(),
                    state: PanelState::Locked.into(),
                    dial: 0.into(),
                },
            )
            .thing("vault", Vault { code: 0.into() })
            .token(Scope::Observe, VIEWER)
            .token(Scope::Operate, OPERATOR)
            .token(Scope::Admin, ADMIN)
            .limits(labthings::Limits {
                max_queued_per_thing: 0,
                ..Default::default()
            });
        if let Some(port) = mqtt {
            let mqtt = labthings::Mqtt::new(&format!("mqtt://127.0.0.1:{port}"))
                .unwrap()
                .prefix("lab")
                .unwrap()
                .client_id(format!("labthings-refusals-{port}"));
            server = server.mqtt(mqtt);
        }
        let (addr, _shutdown) = support::start(server).await;
        let http = reqwest::Client::new();
        let mut setup = Self {
            addr,
            http,
            ended: String::new(),
        };
        // The vault is leased, and the exclusive action held, for the whole test; `quick`
        // has ended.
        let lease = json!({"seconds": 3600});
        let (status, body) = setup.send("POST", "/vault/lease", Some(lease), ADMIN).await;
        assert_eq!(status, 201, "{body}");
        let (status, _) = setup.send("POST", "/panel/hold", None, OPERATOR).await;
        assert_eq!(status, 201);
        let (status, body) = setup.send("POST", "/panel/quick", None, OPERATOR).await;
        assert_eq!(status, 201, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        loop {
            let path = format!("/action_invocations/{id}");
            let (_, body) = setup.send("GET", &path, None, OPERATOR).await;
            if body["status"] == "completed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        setup.ended = id;
        setup
    }

    /// An HTTP request with a bearer token; the status and the JSON body.
    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> (u16, Value) {
        let url = format!("http://{}{path}", self.addr);
        let mut request = self
            .http
            .request(method.parse().unwrap(), url)
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn refused(&self, method: &str, path: &str, body: Option<Value>, token: &str) -> Refusal {
        let (status, problem) = self.send(method, path, body, token).await;
        Refusal::from_problem(status, &problem)
    }

    /// Each mistake made over HTTP (and SSE, for observing).
    async fn http(&self, mistake: Mistake) -> Option<Refusal> {
        let none = "/action_invocations/00000000-0000-4000-8000-000000000000";
        Some(match mistake {
            Mistake::WriteReadOnly => {
                self.refused("PUT", "/panel/reading", Some(json!(2.0)), OPERATOR)
                    .await
            }
            Mistake::ReadWriteOnly => self.refused("GET", "/panel/secret", None, OPERATOR).await,
            Mistake::ObserveNotObservable => {
                let response = (self.http)
                    .get(format!("http://{}/panel/plain", self.addr))
                    .header("accept", "text/event-stream")
                    .bearer_auth(OPERATOR)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                Refusal::from_problem(status, &response.json().await.unwrap())
            }
            Mistake::NoProperty => {
                self.refused("PUT", "/panel/nope", Some(json!(1)), OPERATOR)
                    .await
            }
            Mistake::NoAction => self.refused("POST", "/panel/nope", None, OPERATOR).await,
            Mistake::Invalid => {
                self.refused("PUT", "/panel/level", Some(json!(11)), OPERATOR)
                    .await
            }
            Mistake::Busy => self.refused("POST", "/panel/hold", None, OPERATOR).await,
            Mistake::LineFull => self.refused("POST", "/panel/queued", None, OPERATOR).await,
            Mistake::WriteInState => {
                self.refused("PUT", "/panel/dial", Some(json!(3)), OPERATOR)
                    .await
            }
            Mistake::InvokeInState => self.refused("POST", "/panel/turn", None, OPERATOR).await,
            Mistake::WriteLeased => {
                self.refused("PUT", "/vault/code", Some(json!(1)), OPERATOR)
                    .await
            }
            Mistake::InvokeLeased => self.refused("POST", "/vault/open", None, OPERATOR).await,
            Mistake::OutOfScope => {
                self.refused("PUT", "/panel/level", Some(json!(1)), VIEWER)
                    .await
            }
            Mistake::CancelEnded => {
                let path = format!("/action_invocations/{}", self.ended);
                self.refused("DELETE", &path, None, OPERATOR).await
            }
            Mistake::NoInvocation => self.refused("DELETE", none, None, OPERATOR).await,
        })
    }

    async fn socket(&self, wtp: bool, token: &str, thing: &str) -> Socket {
        let url = format!("ws://{}/{thing}/ws?access_token={token}", self.addr);
        let mut request =
            tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
                .unwrap();
        if wtp {
            let protocol = "webthingprotocol".parse().unwrap();
            request
                .headers_mut()
                .insert("Sec-WebSocket-Protocol", protocol);
        }
        tokio_tungstenite::connect_async(request).await.unwrap().0
    }

    /// Each mistake made over the Web Thing Protocol.
    async fn wtp(&self, mistake: Mistake) -> Option<Refusal> {
        let token = match mistake {
            Mistake::OutOfScope => VIEWER,
            _ => OPERATOR,
        };
        let thing = match mistake {
            Mistake::WriteLeased | Mistake::InvokeLeased => "vault",
            _ => "panel",
        };
        let mut socket = self.socket(true, token, thing).await;
        let message = match mistake {
            Mistake::WriteReadOnly => {
                wtp("writeproperty", json!({"name": "reading", "value": 2.0}))
            }
            Mistake::ReadWriteOnly => wtp("readproperty", json!({"name": "secret"})),
            Mistake::ObserveNotObservable => wtp("observeproperty", json!({"name": "plain"})),
            Mistake::NoProperty => wtp("writeproperty", json!({"name": "nope", "value": 1})),
            Mistake::NoAction => wtp("invokeaction", json!({"name": "nope"})),
            Mistake::Invalid => wtp("writeproperty", json!({"name": "level", "value": 11})),
            Mistake::Busy => wtp("invokeaction", json!({"name": "hold"})),
            Mistake::LineFull => wtp("invokeaction", json!({"name": "queued"})),
            Mistake::WriteInState => wtp("writeproperty", json!({"name": "dial", "value": 3})),
            Mistake::InvokeInState => wtp("invokeaction", json!({"name": "turn"})),
            Mistake::WriteLeased => wtp("writeproperty", json!({"name": "code", "value": 1})),
            Mistake::InvokeLeased => wtp("invokeaction", json!({"name": "open"})),
            Mistake::OutOfScope => wtp("writeproperty", json!({"name": "level", "value": 1})),
            Mistake::CancelEnded => wtp("cancelaction", json!({"actionID": self.ended})),
            Mistake::NoInvocation => wtp(
                "cancelaction",
                json!({"actionID": "00000000-0000-4000-8000-000000000000"}),
            ),
        };
        send(&mut socket, message).await;
        let reply = next(&mut socket).await;
        let refusal = Refusal::from_problem(
            reply["error"]["status"].as_u64().unwrap_or(0) as u16,
            &reply["error"],
        );
        // The socket stays open after a refusal.
        let readable = if thing == "vault" { "code" } else { "level" };
        send(&mut socket, wtp("readproperty", json!({"name": readable}))).await;
        assert!(next(&mut socket).await.get("error").is_none());
        Some(refusal)
    }

    /// Each mistake the LabThings-FastAPI dialect can express (it only observes).
    async fn labthings_ws(&self, mistake: Mistake) -> Option<Refusal> {
        let name = match mistake {
            Mistake::ObserveNotObservable => "plain",
            Mistake::NoProperty => "nope",
            _ => return None,
        };
        let mut socket = self.socket(false, OPERATOR, "panel").await;
        let message = json!({"messageType": "addPropertyObservation", "data": {name: true}});
        send(&mut socket, message).await;
        let reply = ws::next_matching(&mut socket, |m| m.get("error").is_some()).await;
        let status = reply["error"]["status"].as_str().unwrap().parse().unwrap();
        Some(Refusal::from_problem(status, &reply["error"]))
    }
}

impl Refusal {
    fn from_problem(status: u16, problem: &Value) -> Self {
        if let Some(in_body) = problem.get("status").and_then(Value::as_u64) {
            assert_eq!(in_body, u64::from(status), "{problem}");
        }
        Self {
            status,
            detail: problem["detail"].as_str().unwrap_or_default().to_owned(),
        }
    }
}

/// An MQTT client that publishes requests with a response topic and reads the answers.
struct Requester {
    client: AsyncClient,
    answers: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Requester {
    async fn connect(port: u16) -> Self {
        let (client, mut eventloop) =
            AsyncClient::new(MqttOptions::new("refusals", "127.0.0.1", port), 64);
        let (tx, answers) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed) = tokio::sync::oneshot::channel();
        let mut subscribed_tx = Some(subscribed_tx);
        for filter in ["replies/refusals", "lab/panel/properties/level"] {
            client.subscribe(filter, QoS::AtLeastOnce).await.unwrap();
        }
        tokio::spawn(async move {
            while let Ok(event) = eventloop.poll().await {
                match event {
                    Event::Incoming(Packet::SubAck(_)) => {
                        if let Some(tx) = subscribed_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Event::Incoming(Packet::Publish(p)) => {
                        let topic = String::from_utf8_lossy(&p.topic).into_owned();
                        let value = serde_json::from_slice(&p.payload).unwrap_or(Value::Null);
                        let _ = tx.send((topic, value));
                    }
                    _ => {}
                }
            }
        });
        tokio::time::timeout(ws::LIMIT, subscribed)
            .await
            .expect("the broker acknowledges the subscription")
            .unwrap();
        Self { client, answers }
    }

    /// The next message on `topic` (others are skipped).
    async fn next_on(&mut self, topic: &str) -> Value {
        loop {
            let (t, value) = tokio::time::timeout(ws::LIMIT, self.answers.recv())
                .await
                .unwrap_or_else(|_| panic!("nothing came on {topic} in time"))
                .unwrap();
            if t == topic {
                return value;
            }
        }
    }

    /// Each mistake MQTT can express (writes and invocations; reads are retained messages).
    async fn mqtt(&mut self, mistake: Mistake) -> Option<Refusal> {
        let (topic, payload) = match mistake {
            Mistake::WriteReadOnly => ("lab/panel/properties/reading/set", "2.0"),
            Mistake::NoProperty => ("lab/panel/properties/nope/set", "1"),
            Mistake::NoAction => ("lab/panel/actions/nope", ""),
            Mistake::Invalid => ("lab/panel/properties/level/set", "11"),
            Mistake::Busy => ("lab/panel/actions/hold", ""),
            Mistake::LineFull => ("lab/panel/actions/queued", ""),
            Mistake::WriteInState => ("lab/panel/properties/dial/set", "3"),
            Mistake::InvokeInState => ("lab/panel/actions/turn", ""),
            Mistake::WriteLeased => ("lab/vault/properties/code/set", "1"),
            Mistake::InvokeLeased => ("lab/vault/actions/open", ""),
            _ => return None,
        };
        let properties = PublishProperties {
            response_topic: Some("replies/refusals".into()),
            ..Default::default()
        };
        self.client
            .publish_with_properties(topic, QoS::AtLeastOnce, false, payload, properties)
            .await
            .unwrap();
        let answer = self.next_on("replies/refusals").await;
        let status = answer["status"].as_u64().expect("a problem") as u16;
        Some(Refusal::from_problem(status, &answer))
    }
}

/// Every binding's refusal of every mistake: the same status, the catalogue's, and the same
/// detail.
fn assert_one_refusal_each(seen: BTreeMap<Mistake, Vec<(&str, Refusal)>>) {
    for mistake in Mistake::ALL {
        let refusals = &seen[&mistake];
        assert!(refusals.len() >= 2, "{mistake:?}: {refusals:?}");
        for (binding, refusal) in refusals {
            assert_eq!(
                refusal.status,
                mistake.status(),
                "{mistake:?} over {binding}: {refusal:?}"
            );
            assert!(!refusal.detail.is_empty(), "{mistake:?} over {binding}");
        }
        let (first, expected) = &refusals[0];
        for (binding, refusal) in &refusals[1..] {
            assert_eq!(
                refusal.detail, expected.detail,
                "{mistake:?}: {binding} and {first} word it differently"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_binding_refuses_each_mistake_alike() {
    let setup = Setup::start(None).await;
    let mut seen: BTreeMap<Mistake, Vec<(&str, Refusal)>> = BTreeMap::new();
    for mistake in Mistake::ALL {
        let answers = [
            ("HTTP", setup.http(mistake).await),
            ("the Web Thing Protocol", setup.wtp(mistake).await),
            ("the LabThings WebSocket", setup.labthings_ws(mistake).await),
        ];
        let entry = seen.entry(mistake).or_default();
        entry.extend(answers.into_iter().filter_map(|(b, r)| r.map(|r| (b, r))));
    }
    assert_one_refusal_each(seen);
}

#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_refuses_as_http_does() {
    let program = support::needs::mosquitto("the MQTT refusals");
    let broker = Broker::start(&program, None, "").await;
    let mut requester = Requester::connect(broker.port).await;
    let setup = Setup::start(Some(broker.port)).await;
    // The server takes requests once it publishes its values.
    assert_eq!(
        requester.next_on("lab/panel/properties/level").await,
        json!(0)
    );
    let mut seen: BTreeMap<Mistake, Vec<(&str, Refusal)>> = BTreeMap::new();
    for mistake in Mistake::ALL {
        let mut answers = vec![("HTTP", setup.http(mistake).await.unwrap())];
        if let Some(refusal) = requester.mqtt(mistake).await {
            answers.push(("MQTT", refusal));
        } else {
            answers.push(("the Web Thing Protocol", setup.wtp(mistake).await.unwrap()));
        }
        seen.insert(mistake, answers);
    }
    assert_one_refusal_each(seen);
}
