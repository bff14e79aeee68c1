//! Dry runs over real HTTP and the Web Thing Protocol: a write or an invocation sent with
//! `?dryRun=true` (or `"dryRun": true`) is checked as the real request is — scope, schema,
//! constraints, the Thing's state, its exclusive line — and answered with what would happen,
//! or with the real request's refusal, status and detail alike; nothing is written, nothing
//! runs and no invocation is created.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labthings::{ActionContext, Cancelled, Scope, ThingServer, thing};
use serde_json::{Value, json};
use support::ws::{Socket, next, send, wtp};

const VIEWER: &str = "viewer-token-0123456789";
const OPERATOR: &str = "operator-token-0123456789";

/// The states of the bench.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub enum BenchState {
    /// It takes commands.
    Ready,
    /// It takes none.
    Locked,
}

/// A bench whose every action counts its runs.
#[derive(Debug)]
#[thing]
pub struct Bench {
    /// What it takes.
    #[property(state)]
    state: BenchState,
    /// A level, written only while ready.
    #[property(observable, minimum = 0, maximum = 10, allowed_in(Ready))]
    level: i64,
    /// An offset, any `i64`.
    #[property(observable)]
    offset: i64,
    /// How many action bodies ran.
    runs: AtomicU64,
}

#[thing]
impl Bench {
    /// Hold the bench until cancelled.
    #[action(exclusive)]
    async fn hold(&self, ctx: &ActionContext) -> Result<(), Cancelled> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        ctx.cancelled().await;
        Err(Cancelled)
    }

    /// Wait for the bench, then count.
    #[action(exclusive = "queue")]
    fn queued(&self, #[arg(minimum = 1)] n: u64) {
        self.runs.fetch_add(n, Ordering::SeqCst);
    }

    /// Take the bench from whoever holds it.
    #[action(exclusive = "preempt")]
    fn jog(&self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }

    /// Fire, only while ready.
    #[action(allowed_in(Ready))]
    fn fire(&self) {
        self.runs.fetch_add(1, Ordering::SeqCst);
    }
}

struct Bed {
    addr: SocketAddr,
    bench: Arc<Bench>,
    http: reqwest::Client,
}

impl Bed {
    async fn start() -> Self {
        let bench = Arc::new(Bench {
            state: BenchState::Ready.into(),
            level: 0.into(),
            offset: 0.into(),
            runs: AtomicU64::new(0),
        });
        let server = ThingServer::new()
            .shared_thing("bench", bench.clone())
            .token(Scope::Observe, VIEWER)
            .token(Scope::Operate, OPERATOR);
        let (addr, _) = support::start(server).await;
        Self {
            addr,
            bench,
            http: reqwest::Client::new(),
        }
    }

    /// A request with a JSON body; its status and JSON answer.
    async fn send(&self, method: &str, path: &str, body: Value, token: &str) -> (u16, Value) {
        let url = format!("http://{}{path}", self.addr);
        let response = (self.http)
            .request(method.parse().unwrap(), url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The dry run of a request, and the real request, both refused alike: the status.
    async fn refused_alike(&self, method: &str, path: &str, body: Value, token: &str) -> u16 {
        let dry = format!("{path}?dryRun=true");
        let (status, problem) = self.send(method, &dry, body.clone(), token).await;
        let (real_status, real) = self.send(method, path, body, token).await;
        assert_eq!(
            (status, &problem["detail"]),
            (real_status, &real["detail"]),
            "{method} {path}: the dry run is refused as the request is"
        );
        status
    }

    /// The invocations the server keeps.
    async fn invocations(&self) -> usize {
        let (_, list) = (self.send("GET", "/action_invocations", Value::Null, VIEWER)).await;
        list.as_array().expect("a listing").len()
    }

    fn runs(&self) -> u64 {
        self.bench.runs.load(Ordering::SeqCst)
    }

    async fn wtp_socket(&self, token: &str) -> Socket {
        support::ws::connect_wtp_as(self.addr, "bench", token).await
    }
}

#[tokio::test]
async fn a_dry_run_says_what_would_happen_and_does_nothing() {
    let bed = Bed::start().await;
    // A write that would be taken, and an action that would run now.
    let (status, would) = bed
        .send("PUT", "/bench/level?dryRun=true", json!(5), OPERATOR)
        .await;
    assert_eq!(status, 200, "{would}");
    assert_eq!(would, json!({"dryRun": true, "name": "level", "value": 5}));
    let (status, would) = bed
        .send("POST", "/bench/fire?dryRun=true", Value::Null, OPERATOR)
        .await;
    assert_eq!(status, 200, "{would}");
    assert_eq!(
        (&would["dryRun"], &would["name"], &would["outcome"]),
        (&json!(true), &json!("fire"), &json!("run"))
    );
    assert_eq!(bed.bench.level.get(), 0, "nothing was written");
    assert_eq!((bed.invocations().await, bed.runs()), (0, 0), "nothing ran");

    // While an exclusive invocation holds the bench: a queued action would wait first in
    // line, a preempting one would cancel the holder, a rejecting one is refused.
    let (status, held) = bed.send("POST", "/bench/hold", Value::Null, OPERATOR).await;
    assert_eq!(status, 201, "{held}");
    let holder = held["id"].as_str().unwrap();
    let (status, would) = bed
        .send(
            "POST",
            "/bench/queued?dryRun=true",
            json!({"n": 2}),
            OPERATOR,
        )
        .await;
    assert_eq!(status, 200, "{would}");
    assert_eq!(
        (&would["outcome"], &would["position"], &would["input"]),
        (&json!("wait"), &json!(1), &json!({"n": 2}))
    );
    let (status, would) = bed
        .send("POST", "/bench/jog?dryRun=true", Value::Null, OPERATOR)
        .await;
    assert_eq!(status, 200, "{would}");
    assert_eq!(
        (&would["outcome"], &would["cancels"]),
        (&json!("preempt"), &json!([holder]))
    );
    let busy = bed
        .refused_alike("POST", "/bench/hold", Value::Null, OPERATOR)
        .await;
    assert_eq!(busy, 409);
    // The holder still holds: nothing was cancelled, queued or run by the dry runs.
    let record = bed
        .send(
            "GET",
            &format!("/action_invocations/{holder}"),
            Value::Null,
            VIEWER,
        )
        .await
        .1;
    assert_eq!(record["status"], "running", "{record}");
    assert_eq!((bed.invocations().await, bed.runs()), (1, 1));
}

#[tokio::test]
async fn a_dry_run_is_refused_as_the_request_is() {
    let bed = Bed::start().await;
    let cases = [
        // Schema and constraints.
        ("PUT", "/bench/level", json!(11), OPERATOR, 422),
        ("PUT", "/bench/level", json!("high"), OPERATOR, 422),
        ("POST", "/bench/queued", json!({"n": 0}), OPERATOR, 422),
        ("POST", "/bench/queued", json!({"m": 1}), OPERATOR, 422),
        // What the schema takes but the type cannot hold: an integer below `i64`, which
        // JSON parsing rounds to the float -2^63.
        (
            "PUT",
            "/bench/offset",
            json!(-9.223_372_036_854_776e18),
            OPERATOR,
            422,
        ),
        // What is addressed.
        ("PUT", "/bench/state", json!("Ready"), OPERATOR, 405),
        ("PUT", "/bench/nope", json!(1), OPERATOR, 404),
        ("POST", "/bench/nope", Value::Null, OPERATOR, 404),
        // Who asks.
        ("PUT", "/bench/level", json!(1), VIEWER, 403),
        ("POST", "/bench/fire", Value::Null, VIEWER, 403),
    ];
    for (method, path, body, token, expected) in cases {
        let status = bed.refused_alike(method, path, body, token).await;
        assert_eq!(status, expected, "{method} {path}");
    }
    // The Thing's state.
    bed.bench.state.set(BenchState::Locked);
    for (method, path, body) in [
        ("PUT", "/bench/level", json!(1)),
        ("POST", "/bench/fire", Value::Null),
    ] {
        let status = bed.refused_alike(method, path, body, OPERATOR).await;
        assert_eq!(status, 409, "{method} {path}");
    }
    assert_eq!((bed.invocations().await, bed.runs()), (0, 0));
    // A `dryRun` that is not a boolean is a malformed request.
    let (status, problem) = bed
        .send("PUT", "/bench/level?dryRun=maybe", json!(1), OPERATOR)
        .await;
    assert_eq!(status, 400, "{problem}");
    assert!(
        problem["detail"].as_str().unwrap().contains("dryRun"),
        "{problem}"
    );
}

#[tokio::test]
async fn the_web_thing_protocol_has_dry_runs_too() {
    let bed = Bed::start().await;
    let mut socket = bed.wtp_socket(OPERATOR).await;
    let request = |operation: &str, extra: Value| wtp(operation, extra);
    send(
        &mut socket,
        request(
            "writeproperty",
            json!({"name": "level", "value": 7, "dryRun": true}),
        ),
    )
    .await;
    let reply = next(&mut socket).await;
    assert_eq!(reply["messageType"], "response", "{reply}");
    assert_eq!(
        (&reply["dryRun"], &reply["name"], &reply["value"]),
        (&json!(true), &json!("level"), &json!(7)),
        "{reply}"
    );
    send(
        &mut socket,
        request("invokeaction", json!({"name": "fire", "dryRun": true})),
    )
    .await;
    let reply = next(&mut socket).await;
    assert_eq!(
        (&reply["dryRun"], &reply["outcome"]),
        (&json!(true), &json!("run")),
        "{reply}"
    );
    assert_eq!(bed.bench.level.get(), 0);

    // A refusal is the HTTP one, status and detail; the socket stays open.
    bed.bench.state.set(BenchState::Locked);
    let (status, over_http) = bed
        .send("POST", "/bench/fire?dryRun=true", Value::Null, OPERATOR)
        .await;
    assert_eq!(status, 409);
    send(
        &mut socket,
        request("invokeaction", json!({"name": "fire", "dryRun": true})),
    )
    .await;
    let refused = next(&mut socket).await;
    assert_eq!(refused["error"]["status"], 409, "{refused}");
    assert_eq!(refused["error"]["detail"], over_http["detail"], "{refused}");
    send(
        &mut socket,
        request(
            "writeproperty",
            json!({"name": "level", "value": 70, "dryRun": true}),
        ),
    )
    .await;
    let refused = next(&mut socket).await;
    assert_eq!(refused["error"]["status"], 422, "{refused}");
    assert_eq!((bed.invocations().await, bed.runs()), (0, 0));
}
