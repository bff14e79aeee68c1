//! Exclusive policies over real HTTP and the Web Thing Protocol: `queue` runs invocations
//! one at a time in the order they came, bounded, with their place in the line visible and a
//! cancelled one leaving it; `preempt` cancels the holder (naming its successor) and runs
//! next; `reject` refuses while the Thing is taken; the TD says which policy each action has.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use labthings::{ActionContext, Cancelled, ThingServer, thing};
use serde_json::{Value, json};
use support::ws::{self, Socket, send};
use tokio::sync::{Semaphore, mpsc};

/// A stage whose moves end when the test lets them.
#[derive(Debug)]
#[thing]
pub struct Stage {
    /// Where it is (unused: a Thing has at least one property in these tests' TDs).
    #[property(observable, read_only)]
    pub position: f64,
    /// The label of each move as it starts.
    pub started: mpsc::UnboundedSender<String>,
    /// A permit ends one move.
    pub gate: Semaphore,
}

impl Stage {
    async fn go(&self, label: String, ctx: &ActionContext) -> Result<String, Cancelled> {
        let _ = self.started.send(label.clone());
        tokio::select! {
            permit = self.gate.acquire() => {
                permit.expect("the gate stays open").forget();
                Ok(label)
            }
            () = ctx.cancelled() => Err(Cancelled),
        }
    }
}

#[thing]
impl Stage {
    /// Move; moves wait their turn.
    #[action(exclusive = "queue")]
    async fn move_by(&self, label: String, ctx: &ActionContext) -> Result<String, Cancelled> {
        self.go(label, ctx).await
    }

    /// Jog; the newest jog wins.
    #[action(exclusive = "preempt")]
    async fn jog(&self, label: String, ctx: &ActionContext) -> Result<String, Cancelled> {
        self.go(label, ctx).await
    }

    /// Home; refused while the stage is taken.
    #[action(exclusive)]
    fn home(&self) {}
}

/// A served stage, its starts, and a Web Thing Protocol socket that keeps every message.
struct Bench {
    addr: SocketAddr,
    stage: Arc<Stage>,
    starts: mpsc::UnboundedReceiver<String>,
    socket: Socket,
    seen: Vec<Value>,
    http: reqwest::Client,
}

impl Bench {
    async fn start(max_queued: usize) -> Self {
        let (started, starts) = mpsc::unbounded_channel();
        let stage = Arc::new(Stage {
            position: 0.0.into(),
            started,
            gate: Semaphore::new(0),
        });
        let server = ThingServer::new()
            .shared_thing("stage", stage.clone())
            .limits(labthings::Limits {
                max_queued_per_thing: max_queued,
                ..Default::default()
            });
        let (addr, _shutdown) = support::start(server).await;
        let socket = ws::connect_wtp(addr, "stage").await;
        Self {
            addr,
            stage,
            starts,
            socket,
            seen: Vec::new(),
            http: reqwest::Client::new(),
        }
    }

    /// The first message (kept or next) that satisfies `f`; it is taken out of those kept.
    async fn take(&mut self, f: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.seen.iter().position(&f) {
            return self.seen.remove(i);
        }
        loop {
            let message = ws::next(&mut self.socket).await;
            if f(&message) {
                return message;
            }
            self.seen.push(message);
        }
    }

    /// Invoke `action` with `label` over the Web Thing Protocol, following its status; the
    /// response (its `status`, or its `error`).
    async fn invoke(&mut self, action: &str, label: &str) -> Value {
        let request = json!({"thingID": "urn:test", "messageID": label, "messageType": "request",
            "operation": "invokeaction", "name": action, "input": {"label": label},
            "observe": true, "correlationID": label});
        send(&mut self.socket, request).await;
        self.take(|m| m["messageType"] == "response" && m["correlationID"] == label)
            .await
    }

    /// The final status of the invocation invoked as `label`.
    async fn ended(&mut self, label: &str) -> Value {
        let note = self
            .take(|m| {
                m["messageType"] == "notification"
                    && m["correlationID"] == label
                    && ["completed", "failed", "cancelled"]
                        .contains(&m["status"]["state"].as_str().unwrap_or_default())
            })
            .await;
        note["status"].clone()
    }

    /// The label of the next move that starts.
    async fn next_start(&mut self) -> String {
        tokio::time::timeout(ws::LIMIT, self.starts.recv())
            .await
            .expect("a move starts in time")
            .unwrap()
    }

    /// An HTTP request; a `POST` to a move or a jog carries a label.
    async fn http(&self, method: &str, path: &str) -> (u16, Value) {
        let url = format!("http://{}{path}", self.addr);
        let mut request = (self.http).request(method.parse().unwrap(), url);
        if method == "POST" && !path.ends_with("/home") {
            request = request.json(&json!({"label": "by HTTP"}));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The place in the line of invocation `id`, as its record says.
    async fn position(&self, id: &str) -> Value {
        let (status, record) = self.http("GET", &format!("/action_invocations/{id}")).await;
        assert_eq!(status, 200, "{record}");
        record["position"].clone()
    }
}

fn id_of(response: &Value) -> String {
    response["status"]["actionID"]
        .as_str()
        .unwrap_or_else(|| panic!("an action status: {response}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_moves_run_one_at_a_time_in_order_and_a_cancelled_one_leaves_the_line() {
    let mut bench = Bench::start(2).await;
    let a = id_of(&bench.invoke("move_by", "a").await);
    assert_eq!(bench.next_start().await, "a");
    let b = bench.invoke("move_by", "b").await;
    assert_eq!(b["status"]["state"], "pending", "{b}");
    assert_eq!(b["status"]["position"], 1, "{b}");
    let b = id_of(&b);
    let c = id_of(&bench.invoke("move_by", "c").await);
    assert_eq!(bench.position(&c).await, 2);
    assert_eq!(
        bench.position(&a).await,
        Value::Null,
        "the holder waits for nothing"
    );

    // Over the bound: refused, on both bindings alike, and nothing is created.
    let over_wtp = bench.invoke("move_by", "d").await;
    let (status, over_http) = bench.http("POST", "/stage/move_by").await;
    assert_eq!(
        (status, over_wtp["error"]["status"].as_u64()),
        (503, Some(503))
    );
    assert_eq!(over_http["detail"], over_wtp["error"]["detail"]);
    assert!(
        over_http["detail"]
            .as_str()
            .unwrap()
            .contains("already has 2 invocations waiting for it"),
        "{over_http}"
    );
    // A rejecting action is refused while the stage is taken, naming the holder.
    let (status, busy) = bench.http("POST", "/stage/home").await;
    assert_eq!(status, 409, "{busy}");
    assert!(busy["detail"].as_str().unwrap().contains(&a), "{busy}");

    // Cancelled while waiting: it ends at once, and the one behind it moves up.
    let (status, _) = bench
        .http("DELETE", &format!("/action_invocations/{b}"))
        .await;
    assert!((200..300).contains(&status), "{status}");
    assert_eq!(bench.ended("b").await["state"], "cancelled");
    assert_eq!(bench.position(&c).await, 1);

    bench.stage.gate.add_permits(1);
    let a_end = bench.ended("a").await;
    assert_eq!(
        (&a_end["state"], &a_end["output"]),
        (&json!("completed"), &json!("a"))
    );
    assert_eq!(bench.next_start().await, "c", "b left the line");
    bench.stage.gate.add_permits(1);
    assert_eq!(bench.ended("c").await["output"], "c");
    assert!(bench.starts.try_recv().is_err(), "b never ran");
    // Free again: a rejecting action runs.
    let (status, home) = bench.http("POST", "/stage/home").await;
    assert_eq!(status, 201, "{home}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_newest_jog_preempts_and_queued_moves_wait_behind_it() {
    let mut bench = Bench::start(8).await;
    let a = id_of(&bench.invoke("move_by", "a").await);
    assert_eq!(bench.next_start().await, "a");
    let q = id_of(&bench.invoke("move_by", "q").await);
    let j1 = id_of(&bench.invoke("jog", "j1").await);
    let a_end = bench.ended("a").await;
    assert_eq!(a_end["state"], "cancelled", "{a_end}");
    let reason = a_end["error"]["detail"].as_str().unwrap();
    assert!(
        reason.contains(&format!("preempted by invocation '{j1}' of 'jog'")),
        "{reason}"
    );
    assert_eq!(
        bench.next_start().await,
        "j1",
        "the jog runs before the queued move"
    );
    assert_eq!(bench.position(&q).await, 1);

    let j2 = id_of(&bench.invoke("jog", "j2").await);
    let j1_end = bench.ended("j1").await;
    assert_eq!(j1_end["state"], "cancelled");
    let reason = j1_end["error"]["detail"].as_str().unwrap();
    assert!(reason.contains(&j2), "{reason}");
    assert_eq!(bench.next_start().await, "j2");

    bench.stage.gate.add_permits(2);
    assert_eq!(bench.ended("j2").await["output"], "j2");
    assert_eq!(bench.next_start().await, "q");
    assert_eq!(bench.ended("q").await["output"], "q");
    // The record of the preempted one keeps its reason.
    let (_, record) = bench.http("GET", &format!("/action_invocations/{a}")).await;
    assert_eq!(record["status"], "cancelled");
    assert!(record["error"]["detail"].as_str().unwrap().contains(&j1));
}

#[tokio::test]
async fn the_td_names_each_action_s_policy() {
    let bench = Bench::start(2).await;
    let (status, td) = bench.http("GET", "/stage/").await;
    assert_eq!(status, 200);
    support::td::assert_valid("stage with exclusive policies", &td);
    let context = td["@context"].as_array().unwrap();
    assert!(
        context.iter().any(|c| c["lt"] == labthings::td::LT_CONTEXT),
        "{context:?}"
    );
    for (action, policy) in [("move_by", "queue"), ("jog", "preempt"), ("home", "reject")] {
        assert_eq!(td["actions"][action]["lt:exclusive"], policy, "{action}");
    }
}
