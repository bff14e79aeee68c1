//! The HTTP interface, through a real client against a server on 127.0.0.1:0.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    base: String,
    client: reqwest::Client,
}

async fn start() -> Server {
    let (addr, _shutdown) =
        support::start(labthings::ThingServer::new().thing("counter", counter::Counter::new()))
            .await;
    Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    }
}

impl Server {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: &str) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(body.to_owned());
        }
        let r = request.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    async fn put(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, body).await
    }

    async fn post(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// Poll an invocation (as LabThings clients do) until it has finished.
    async fn finished(&self, invocation: &Value) -> Value {
        let href = invocation["href"].as_str().unwrap().to_owned();
        for _ in 0..2000 {
            let r = self.client.get(&href).send().await.unwrap();
            let body: Value = r.json().await.unwrap();
            if !matches!(body["status"].as_str(), Some("pending" | "running")) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("invocation {href} did not finish");
    }
}

#[tokio::test]
async fn properties_read_write_and_reject_bad_values() {
    let s = start().await;
    assert_eq!(s.get("/counter/count").await, (StatusCode::OK, json!(0)));
    assert_eq!(
        s.put("/counter/step", "7").await,
        (StatusCode::CREATED, Value::Null)
    );
    assert_eq!(s.get("/counter/step").await.1, json!(7));
    assert_eq!(
        s.put("/counter/label", "\"lab\"").await.0,
        StatusCode::CREATED
    );
    assert_eq!(s.get("/counter/label").await.1, json!("lab"));

    let (status, problem) = s.put("/counter/step", "500").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["status"], 422);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("maximum of 100"),
        "{problem}"
    );
    assert_eq!(
        s.get("/counter/step").await.1,
        json!(7),
        "a rejected write changes nothing"
    );

    let (status, problem) = s.put("/counter/step", "\"x\"").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["detail"].as_str().unwrap().contains("integer"),
        "{problem}"
    );

    let (status, problem) = s
        .put("/counter/label", &format!("\"{}\"", "x".repeat(65)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

    let (status, problem) = s.put("/counter/step", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not valid JSON")
    );

    let (status, problem) = s.put("/counter/count", "3").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(problem["detail"].as_str().unwrap().contains("read-only"));

    let (status, problem) = s.get("/counter/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(problem["detail"].as_str().unwrap().contains("'nope'"));
    assert_eq!(s.get("/nobody/count").await.0, StatusCode::NOT_FOUND);
    assert_eq!(s.get("/counter/temperature").await.1, json!(21.5));
}

#[tokio::test]
async fn actions_run_as_invocations() {
    let s = start().await;
    let (status, inv) = s.post("/counter/increment", "").await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(inv["action"], "/counter/increment");
    let done = s.finished(&inv).await;
    assert_eq!(
        (done["status"].as_str(), done["output"].as_i64()),
        (Some("completed"), Some(1))
    );
    assert!(done["timeCompleted"].as_str().unwrap().ends_with('Z'));

    for body in ["null", "{}"] {
        let (status, inv) = s.post("/counter/increment", body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        s.finished(&inv).await;
    }
    assert_eq!(s.get("/counter/count").await.1, json!(3));

    let (_, inv) = s.post("/counter/add", r#"{"n": -3}"#).await;
    let done = s.finished(&inv).await;
    assert_eq!(done["output"], json!(0));
    let (status, output) = s
        .get(&format!(
            "/action_invocations/{}/output",
            inv["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        (status, output),
        (StatusCode::OK, json!(0)),
        "a zero output is returned"
    );

    let (status, problem) = s.post("/counter/add", "{}").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "n");
    let (status, problem) = s.post("/counter/add", r#"{"n": 1, "m": 2}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "m");
    let (status, _) = s.post("/counter/increment", r#"{"x": 1}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let max = format!(r#"{{"n": {}}}"#, i64::MAX);
    let (_, inv) = s.post("/counter/add", &max).await;
    assert_eq!(s.finished(&inv).await["status"], "completed");
    let (_, inv) = s.post("/counter/add", &max).await;
    let failed = s.finished(&inv).await;
    assert_eq!(failed["status"], "error");
    assert!(
        failed["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("overflow"),
        "{failed}"
    );
    assert_eq!(failed["error"]["status"], 500);

    // `increment` checks for overflow too (the count is now i64::MAX).
    let (_, inv) = s.post("/counter/increment", "").await;
    let failed = s.finished(&inv).await;
    assert_eq!(failed["status"], "error", "{failed}");
    assert!(
        failed["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("overflow")
    );
    assert_eq!(s.get("/counter/count").await.1, json!(i64::MAX));

    let (_, list) = s.get("/counter/add").await;
    assert_eq!(list.as_array().unwrap().len(), 3);
    let (_, all) = s.get("/action_invocations").await;
    assert_eq!(all.as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn cancelling_a_running_invocation() {
    let s = start().await;
    let (_, inv) = s.post("/counter/wait", r#"{"seconds": 30}"#).await;
    let id = inv["id"].as_str().unwrap();
    let (status, _) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/action_invocations/{id}"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let done = s.finished(&inv).await;
    assert_eq!(done["status"], "cancelled");
    let (status, problem) = s
        .send(
            reqwest::Method::DELETE,
            &format!("/action_invocations/{id}"),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let (status, _) = s
        .get("/action_invocations/00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn thing_descriptions_use_the_request_host() {
    let s = start().await;
    let (status, td) = s.get("/counter/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(td["base"], format!("{}/", s.base));
    let (_, all) = s.get("/thing_descriptions/").await;
    assert_eq!(all["counter"], td);
    let (_, things) = s.get("/things/").await;
    assert_eq!(things["counter"], format!("{}/counter/", s.base));
}

mod faulty {
    use labthings::thing;

    /// A Thing whose device code fails in every way.
    #[thing]
    pub(crate) struct Faulty {
        #[property]
        pub(crate) ok: i64,
    }

    #[thing]
    impl Faulty {
        #[action]
        fn explode(&self) {
            panic!("boom");
        }

        #[action]
        async fn explode_async(&self) -> i64 {
            panic!("async boom");
        }

        #[action]
        async fn chatty(&self) -> i64 {
            tracing::info!("first");
            tracing::warn!(step = 2, "second");
            3
        }

        #[action]
        fn chatty_blocking(&self) -> i64 {
            tracing::info!("from the blocking pool");
            4
        }

        #[property]
        fn broken(&self) -> Result<i64, String> {
            Err("sensor unplugged".into())
        }

        #[property]
        fn panicky(&self) -> i64 {
            panic!("getter panic");
        }
    }
}

async fn start_faulty(server: labthings::ThingServer) -> (Server, labthings::ShutdownHandle) {
    support::logs::capture();
    let (addr, shutdown) = support::start(
        server
            .thing("faulty", faulty::Faulty { ok: 1.into() })
            .thing("counter", counter::Counter::new()),
    )
    .await;
    let server = Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    };
    (server, shutdown)
}

#[tokio::test]
async fn failing_device_code_fails_only_its_request() {
    let (s, _) = start_faulty(labthings::ThingServer::new()).await;
    for action in ["explode", "explode_async"] {
        let (status, inv) = s.post(&format!("/faulty/{action}"), "").await;
        assert_eq!(status, StatusCode::CREATED);
        let done = s.finished(&inv).await;
        assert_eq!(done["status"], "error", "{action}");
        assert_eq!(done["error"]["status"], 500);
        assert!(
            done["error"]["detail"].as_str().unwrap().contains("boom"),
            "{done}"
        );
    }
    let (status, problem) = s.get("/faulty/broken").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(problem["detail"], "sensor unplugged");
    assert!(
        support::logs::logged(&[
            "ERROR",
            "thing=\"faulty\"",
            "property=\"broken\"",
            "sensor unplugged"
        ]),
        "a failing getter is logged on the server console, with the Thing and the property"
    );
    let (status, problem) = s.get("/faulty/panicky").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(problem["detail"].as_str().unwrap().contains("getter panic"));
    assert_eq!(
        s.get("/faulty/ok").await,
        (StatusCode::OK, json!(1)),
        "still serving"
    );
}

#[tokio::test]
async fn tracing_events_of_an_invocation_are_its_log() {
    let (s, _) = start_faulty(labthings::ThingServer::new()).await;
    let (_, inv) = s.post("/faulty/chatty", "").await;
    let done = s.finished(&inv).await;
    let log = done["log"].as_array().unwrap();
    let messages: Vec<_> = log.iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert_eq!(messages, ["first", "second step=2"]);
    assert_eq!(
        (log[1]["levelname"].as_str(), log[1]["levelno"].as_u64()),
        (Some("WARNING"), Some(30))
    );
    let (_, inv) = s.post("/faulty/chatty_blocking", "").await;
    let done = s.finished(&inv).await;
    assert_eq!(done["log"][0]["message"], "from the blocking pool");
    // Another invocation's events are not mixed in.
    assert_eq!(done["log"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn routes_live_under_the_prefix() {
    let (s, _) = start_faulty(labthings::ThingServer::new().prefix("/api/v1")).await;
    assert_eq!(
        s.get("/api/v1/counter/count").await,
        (StatusCode::OK, json!(0))
    );
    assert_eq!(s.get("/counter/count").await.0, StatusCode::NOT_FOUND);
    let (_, td) = s.get("/api/v1/counter/").await;
    assert_eq!(
        td["properties"]["count"]["forms"][0]["href"],
        "/api/v1/counter/count"
    );
    let (_, inv) = s.post("/api/v1/counter/increment", "").await;
    assert!(
        inv["href"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/api/v1/action_invocations/", s.base))
    );
    assert_eq!(inv["action"], "/api/v1/counter/increment");
    s.finished(&inv).await;
}

#[tokio::test]
async fn finished_invocations_are_capped() {
    // Kept for an hour: only the cap can remove one.
    let (s, _) = start_faulty(labthings::ThingServer::new().max_finished_invocations(2)).await;
    for _ in 0..3 {
        let (_, inv) = s.post("/counter/increment", "").await;
        s.finished(&inv).await;
    }
    // The cap is applied just after an invocation is seen to finish.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, list) = s.get("/action_invocations").await;
        if list.as_array().unwrap().len() == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cap never held: {list}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn finished_invocations_expire() {
    let (s, _) =
        start_faulty(labthings::ThingServer::new().retention_time(Duration::from_millis(50))).await;
    let (_, inv) = s.post("/counter/increment", "").await;
    s.finished(&inv).await;
    let href = inv["href"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while s.client.get(&href).send().await.unwrap().status() != StatusCode::NOT_FOUND {
        assert!(tokio::time::Instant::now() < deadline, "never expired");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn shutdown_cancels_running_invocations() {
    let (s, shutdown) = start_faulty(labthings::ThingServer::new()).await;
    let (_, inv) = s.post("/counter/wait", r#"{"seconds": 30}"#).await;
    shutdown.shutdown();
    let done = s.finished(&inv).await;
    assert_eq!(done["status"], "cancelled");
    assert_eq!(done["error"]["title"], "InvocationCancelledError");
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_allowed() {
    let s = start().await;
    let response = s
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/counter/step", s.base))
        .header("Origin", "http://dashboard.lab")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none(),
        "no CORS by default"
    );

    let (addr, _) = support::start(
        labthings::ThingServer::new()
            .thing("counter", counter::Counter::new())
            .cors_origins(["http://dashboard.lab"]),
    )
    .await;
    let client = reqwest::Client::new();
    for (origin, allowed) in [
        ("http://dashboard.lab", true),
        ("http://evil.example", false),
        ("null", false),
    ] {
        let response = client
            .request(
                reqwest::Method::OPTIONS,
                format!("http://{addr}/counter/step"),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .send()
            .await
            .unwrap();
        let granted = response.headers().get("access-control-allow-origin");
        assert_eq!(granted.is_some(), allowed, "{origin}");
        if allowed {
            assert_eq!(granted.unwrap(), origin);
            assert!(
                response
                    .headers()
                    .get("access-control-allow-credentials")
                    .is_none()
            );
        }
    }
}

mod holder {
    use std::sync::Mutex;
    use std::sync::mpsc::Receiver;

    use labthings::thing;

    /// A Thing whose synchronous action blocks until the test releases it.
    #[thing]
    pub(crate) struct Holder {
        /// Whether `hold` ran to its end.
        #[property(observable)]
        pub(crate) finished: bool,
        pub(crate) release: Mutex<Receiver<()>>,
    }

    #[thing]
    impl Holder {
        /// Block until released; takes no context, so it cannot be interrupted.
        #[action]
        fn hold(&self) -> i64 {
            self.release.lock().unwrap().recv().unwrap();
            self.finished.set(true);
            7
        }
    }
}

/// A synchronous action without a context cannot be interrupted: cancelling it is recorded,
/// and the invocation ends only when its code has returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synchronous_action_is_not_reported_cancelled_while_it_runs() {
    use support::ws::{next_matching, observe, send};
    let (release, receiver) = std::sync::mpsc::channel();
    let thing = std::sync::Arc::new(holder::Holder {
        finished: false.into(),
        release: std::sync::Mutex::new(receiver),
    });
    let (addr, _) =
        support::start(labthings::ThingServer::new().shared_thing("holder", thing.clone())).await;
    let s = Server {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
    };
    let mut ws = support::ws::connect(addr, "holder").await;
    send(
        &mut ws,
        json!({"messageType": "addActionObservation", "data": {"hold": true}}),
    )
    .await;
    observe(&mut ws, &[]).await;
    let (_, inv) = s.post("/holder/hold", "").await;
    next_matching(&mut ws, |m| m["data"]["status"] == "running").await;
    let id = inv["id"].as_str().unwrap();
    let path = format!("/action_invocations/{id}");
    assert_eq!(
        s.send(reqwest::Method::DELETE, &path, "").await.0,
        StatusCode::OK
    );
    let (_, now) = s.get(&path).await;
    assert_eq!(now["status"], "running", "still running: {now}");
    assert_eq!(now["cancelRequested"], true, "{now}");
    assert!(!thing.finished.get());
    release.send(()).unwrap();
    let end = next_matching(&mut ws, |m| m["data"]["status"] != "running").await;
    assert_eq!(end["data"]["status"], "completed", "{end}");
    assert!(thing.finished.get(), "the device code ran to its end");
    let (_, done) = s.get(&path).await;
    assert_eq!(
        (done["output"].as_i64(), done.get("cancelRequested")),
        (Some(7), None)
    );
}

/// The framework's own errors (a method a route does not have, a body over the limit, a
/// path that cannot be decoded) are problem details too.
#[tokio::test]
async fn every_error_body_is_a_problem() {
    let s = start().await;
    let r = s
        .client
        .delete(format!("{}/counter/count", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // `Allow` names the methods of this affordance, not of every affordance's route.
    assert_eq!(r.headers()["allow"], "GET, HEAD", "the count is read-only");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 405);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("DELETE is not allowed on '/counter/count'"),
        "{detail}"
    );
    assert!(detail.ends_with("it allows GET, HEAD"), "{detail}");
    for (path, allow) in [
        ("label", "GET, HEAD, PUT"),
        ("increment", "GET, HEAD, POST"),
        ("overflowed", "GET, HEAD"),
    ] {
        let r = (s.client)
            .delete(format!("{}/counter/{path}", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(r.headers()["allow"], allow, "{path}");
    }

    let r = s
        .client
        .put(format!("{}/counter/label", s.base))
        .header("content-type", "application/json")
        .body(vec![b'1'; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(
        (problem["status"].as_u64(), problem["title"].as_str()),
        (Some(413), Some("Payload Too Large"))
    );

    let r = s
        .client
        .get(format!("{}/action_invocations/%FF%FE", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("UTF-8"),
        "{problem}"
    );

    let r = s
        .client
        .get(format!("{}/counter/ws", s.base))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("WebSocket endpoint"),
        "{problem}"
    );
}
