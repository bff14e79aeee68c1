//! Prometheus metrics at `GET /metrics`: requests counted by Thing, affordance, method and
//! status, invocations by final status, open connections; guarded by tokens like every
//! route; and scraped by a real Prometheus (Debian's `prometheus`, with `interop`).

// Without `interop`, the helpers of the Prometheus test go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

const VIEWER: &str = "viewer-token-0123456789";
const OPERATOR: &str = "operator-token-0123456789";

async fn start(server: labthings::ThingServer) -> SocketAddr {
    let server = server.thing("counter", counter::Counter::new());
    support::start(server).await.0
}

/// The metrics text, read with `token`.
async fn scrape(addr: SocketAddr, token: Option<&str>) -> (StatusCode, String, String) {
    let mut request = reqwest::Client::new().get(format!("http://{addr}/metrics"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let kind = response.headers()[reqwest::header::CONTENT_TYPE].to_str();
    let kind = kind.unwrap().to_owned();
    (response.status(), kind, response.text().await.unwrap())
}

/// POST `action` and poll its invocation until it ends; its final status.
async fn invoke(http: &reqwest::Client, addr: SocketAddr, action: &str, input: Value) -> Value {
    let url = format!("http://{addr}/counter/{action}");
    let response = http.post(url).json(&input).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let invocation: Value = response.json().await.unwrap();
    let href = invocation["href"].as_str().unwrap().to_owned();
    loop {
        let status: Value = http.get(&href).send().await.unwrap().json().await.unwrap();
        if matches!(
            status["status"].as_str(),
            Some("completed" | "error" | "cancelled")
        ) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn requests_and_invocations_are_counted_by_thing_affordance_and_status() {
    let addr = start(labthings::ThingServer::new()).await;
    let http = reqwest::Client::new();
    for _ in 0..3 {
        let url = format!("http://{addr}/counter/count");
        assert_eq!(http.get(url).send().await.unwrap().status(), 200);
    }
    let refused = http
        .put(format!("http://{addr}/counter/step"))
        .json(&json!(1000))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    for name in ["nosuchthing/count", "counter/nosuchaffordance"] {
        let url = format!("http://{addr}/{name}");
        assert_eq!(http.get(url).send().await.unwrap().status(), 404);
    }
    assert_eq!(
        invoke(&http, addr, "increment", json!({})).await["status"],
        "completed"
    );
    assert_eq!(
        invoke(&http, addr, "add", json!({"n": i64::MAX})).await["status"],
        "error"
    );

    let (status, kind, text) = scrape(addr, None).await;
    assert_eq!(status, 200);
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(text.ends_with("# EOF\n"), "{text}");
    let requests = |affordance, method, status| {
        let labels = [
            ("thing", "counter"),
            ("affordance", affordance),
            ("method", method),
            ("status", status),
        ];
        support::metrics::sample(&text, "labthings_http_requests_total", &labels)
    };
    assert_eq!(requests("count", "GET", "200"), Some(3.0), "{text}");
    assert_eq!(requests("step", "PUT", "422"), Some(1.0), "{text}");
    assert_eq!(requests("increment", "POST", "201"), Some(1.0), "{text}");
    // A path that names no Thing, or no affordance of it, adds no label value.
    let unnamed = [("thing", ""), ("affordance", ""), ("status", "404")];
    assert_eq!(
        support::metrics::sample(&text, "labthings_http_requests_total", &unnamed),
        Some(1.0)
    );
    assert_eq!(requests("", "GET", "404"), Some(1.0), "{text}");
    assert!(!text.contains("nosuch"), "{text}");
    let latency = [
        ("thing", "counter"),
        ("affordance", "count"),
        ("method", "GET"),
    ];
    let timed = support::metrics::sample(
        &text,
        "labthings_http_request_duration_seconds_count",
        &latency,
    );
    assert_eq!(timed, Some(3.0), "{text}");

    let ended = |action, status| {
        let labels = [("thing", "counter"), ("action", action), ("status", status)];
        support::metrics::sample(&text, "labthings_invocations_total", &labels)
    };
    assert_eq!(ended("increment", "completed"), Some(1.0), "{text}");
    assert_eq!(ended("add", "error"), Some(1.0), "{text}");
    let ran = [("thing", "counter"), ("action", "increment")];
    let ran = support::metrics::sample(&text, "labthings_invocation_duration_seconds_count", &ran);
    assert_eq!(ran, Some(1.0), "{text}");
    let rss = support::metrics::sample(&text, "process_resident_memory_bytes", &[]);
    assert!(rss.is_some_and(|bytes| bytes > 1e6), "{text}");
}

/// A camera feed, for the MJPEG gauge.
#[labthings::thing]
struct Feed {
    /// Its frames.
    #[stream]
    video: labthings::MjpegStream,
}

/// The smallest frame the stream takes.
const FRAME: &[u8] = &[0xFF, 0xD8, 0xFF, 0xD9];

#[tokio::test]
async fn open_connections_and_subscribers_are_gauged_while_they_last() {
    let counter = std::sync::Arc::new(counter::Counter::new());
    let feed = std::sync::Arc::new(Feed {
        video: labthings::MjpegStream::new(),
    });
    let server = labthings::ThingServer::new()
        .shared_thing("counter", counter.clone())
        .shared_thing("feed", feed.clone());
    let addr = support::start(server).await.0;
    let gauges = |text: &str| {
        let names = [
            "labthings_websocket_connections",
            "labthings_sse_connections",
            "labthings_mjpeg_viewers",
            "labthings_subscribers",
            "labthings_lagging_subscribers",
        ];
        names.map(|name| support::metrics::sample(text, name, &[]))
    };
    let (_, _, before) = scrape(addr, None).await;
    assert_eq!(gauges(&before), [Some(0.0); 5], "{before}");

    // Each is open once it has answered.
    let mut socket = support::ws::connect_wtp(addr, "counter").await;
    let read = support::ws::wtp("readproperty", json!({"name": "count"}));
    support::ws::send(&mut socket, read).await;
    let _ = support::ws::next(&mut socket).await;
    let url = format!("http://{addr}/counter/count");
    let mut events = support::sse::Stream::open(&url, None).await;
    assert_eq!(events.next().await.unwrap().data, "0");
    feed.video.push(FRAME).unwrap();
    let mut video = support::mjpeg::Stream::open(&format!("http://{addr}/feed/video")).await;
    assert_eq!(video.next().await.unwrap().jpeg, FRAME);
    let (_, _, during) = scrape(addr, None).await;
    // The WebSocket and the SSE stream each hold one subscriber.
    let open = [Some(1.0), Some(1.0), Some(1.0), Some(2.0), Some(0.0)];
    assert_eq!(gauges(&during), open, "{during}");

    // Closed, each is counted out; the server notices a closed stream when it next writes
    // to it, so the counter and the feed go on changing until then.
    drop((socket, events, video));
    for n in 1.. {
        let (_, _, after) = scrape(addr, None).await;
        if gauges(&after) == [Some(0.0); 5] {
            break;
        }
        assert!(n < 500, "still open after they closed: {after}");
        counter.count.set(n);
        feed.video.push(FRAME).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_metrics_need_a_token_with_the_observe_scope_when_tokens_are_on() {
    let server = labthings::ThingServer::new()
        .token(labthings::Scope::Observe, VIEWER)
        .token(labthings::Scope::Operate, OPERATOR);
    let addr = start(server).await;
    let (status, kind, _) = scrape(addr, None).await;
    assert_eq!(status, 401);
    assert!(kind.starts_with("application/problem+json"), "{kind}");
    assert_eq!(scrape(addr, Some("not-a-token-0123456789")).await.0, 401);
    assert_eq!(scrape(addr, Some(VIEWER)).await.0, 200);
    assert_eq!(scrape(addr, Some(OPERATOR)).await.0, 200);
}

#[tokio::test]
async fn metrics_turned_off_are_not_served() {
    let addr = start(labthings::ThingServer::new().metrics(false)).await;
    assert_eq!(scrape(addr, None).await.0, 404);
}

/// A Prometheus on 127.0.0.1, scraping `target` every second with `token`; killed when
/// dropped.
#[cfg(feature = "interop")]
struct Prometheus {
    _child: tokio::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

#[cfg(feature = "interop")]
impl Prometheus {
    async fn start(target: SocketAddr, token: &str) -> Self {
        use tokio::io::AsyncBufReadExt;
        let program =
            support::needs::prometheus("a_real_prometheus_scrapes_the_server_with_a_token");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: labthings\n    scrape_interval: 1s\n\
                 \x20   authorization:\n      credentials: {token}\n\
                 \x20   static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .unwrap();
        let port = support::mosquitto::free_port();
        let mut child = tokio::process::Command::new(program)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut log = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let ready = async {
            while let Some(line) = log.next_line().await.unwrap() {
                if line.contains("Server is ready to receive web requests") {
                    return;
                }
            }
            panic!("Prometheus exited before it was ready");
        };
        tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .expect("Prometheus was not ready within 60 s");
        // Its log goes on being read, so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
        Self {
            _child: child,
            port,
            _dir: dir,
        }
    }

    /// The result of the instant query `query`.
    async fn query(&self, query: &str) -> Vec<Value> {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let response = reqwest::Client::new()
            .get(url)
            .query(&[("query", query)])
            .send()
            .await
            .unwrap();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["status"], "success", "{answer}");
        answer["data"]["result"].as_array().unwrap().clone()
    }

    /// Ask `query` until it returns a series, which it then returns (Prometheus scrapes
    /// every second; it is given a minute).
    async fn until(&self, query: &str) -> Value {
        for _ in 0..300 {
            if let Some(series) = self.query(query).await.into_iter().next() {
                return series;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("Prometheus never answered `{query}`");
    }
}

#[cfg(feature = "interop")]
#[tokio::test]
async fn a_real_prometheus_scrapes_the_server_with_a_token() {
    let server = labthings::ThingServer::new()
        .token(labthings::Scope::Observe, VIEWER)
        .token(labthings::Scope::Operate, OPERATOR);
    let addr = start(server).await;
    let http = reqwest::Client::new();
    for _ in 0..5 {
        let response = http
            .get(format!("http://{addr}/counter/count"))
            .bearer_auth(VIEWER)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let prometheus = Prometheus::start(addr, VIEWER).await;
    let up = prometheus.until("up{job=\"labthings\"} == 1").await;
    assert_eq!(up["value"][1], "1", "{up}");
    let counted = prometheus
        .until(
            "labthings_http_requests_total{thing=\"counter\",affordance=\"count\",method=\"GET\",status=\"200\"} >= 5",
        )
        .await;
    assert_eq!(counted["metric"]["job"], "labthings", "{counted}");
    assert_eq!(counted["value"][1], "5", "{counted}");
}
