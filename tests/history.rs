//! Value histories over real HTTP: every value an observable numeric or boolean property is
//! published with is kept with its time, served as JSON or CSV, selected by `since` and
//! `limit`, bounded per server and per property; what keeps none is refused clearly, and a
//! bound set for a property that cannot have one stops the start.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::time::Duration;

use labthings::{Limits, Scope, ThingServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VIEWER: &str = "viewer-token-0123456789abcdef";
const OPERATOR: &str = "operator-token-0123456789abcdef";

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn put_step(addr: std::net::SocketAddr, step: i64) {
    let response = reqwest::Client::new()
        .put(format!("http://{addr}/counter/step"))
        .json(&step)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

fn values(document: &Value) -> Vec<Value> {
    let samples = document["samples"].as_array().unwrap();
    samples.iter().map(|s| s["value"].clone()).collect()
}

#[tokio::test]
async fn the_history_keeps_every_value_written_with_its_time() {
    let (addr, _shutdown) =
        support::start(ThingServer::new().thing("counter", counter::Counter::new())).await;
    for step in 2..=7 {
        put_step(addr, step).await;
    }
    let url = format!("http://{addr}/counter/step/history");
    let (status, all) = get(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (&all["thing"], &all["property"]),
        (&json!("counter"), &json!("step"))
    );
    // The value at start, then each write, in order.
    assert_eq!(values(&all), [1, 2, 3, 4, 5, 6, 7].map(|v| json!(v)));
    assert_eq!(all["omitted"], 0);
    let times: Vec<std::time::SystemTime> = (all["samples"].as_array().unwrap().iter())
        .map(|s| humantime::parse_rfc3339(s["time"].as_str().unwrap()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{all}");

    // The most recent three, and how many were left out.
    let (_, latest) = get(&format!("{url}?limit=3")).await;
    assert_eq!(values(&latest), [5, 6, 7].map(|v| json!(v)));
    assert_eq!(latest["omitted"], 4);

    // Only what came after a sample's own time: a client follows on from what it has.
    let third = all["samples"][2]["time"].as_str().unwrap();
    let (_, newer) = get(&format!("{url}?since={third}")).await;
    let expected: Vec<i64> = (all["samples"].as_array().unwrap().iter())
        .filter(|s| s["time"].as_str().unwrap() > third)
        .map(|s| s["value"].as_i64().unwrap())
        .collect();
    assert_eq!(
        values(&newer),
        expected.iter().map(|v| json!(v)).collect::<Vec<_>>()
    );
    assert_eq!(expected.last(), Some(&7));
    put_step(addr, 9).await;
    let last = all["samples"][6]["time"].as_str().unwrap();
    let (_, next) = get(&format!("{url}?since={last}")).await;
    assert_eq!(values(&next).last(), Some(&json!(9)));

    // The same as CSV.
    let csv = reqwest::Client::new()
        .get(&url)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time,value"));
    let rows: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
    assert_eq!(rows, ["1", "2", "3", "4", "5", "6", "7", "9"]);
}

#[tokio::test]
async fn actions_and_device_code_feed_the_history_too() {
    let counter = std::sync::Arc::new(counter::Counter::new());
    let server = ThingServer::new().shared_thing("counter", counter.clone());
    let (addr, _shutdown) = support::start(server).await;
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/counter/increment"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let record: Value = response.json().await.unwrap();
    let invocation = record["href"].as_str().unwrap().to_owned();
    // The invocation runs on its own task: wait until the server reports it completed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while get(&invocation).await.1["status"] != "completed" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{invocation} never completed"
        );
        tokio::task::yield_now().await;
    }
    // Device code setting the field directly publishes, and so is recorded, too.
    counter.count.set(40);
    let (_, history) = get(&format!("http://{addr}/counter/count/history")).await;
    assert_eq!(values(&history), [json!(0), json!(1), json!(40)]);
}

#[tokio::test]
async fn bounds_apply_per_server_and_per_property_and_refusals_are_clear() {
    let limits = Limits {
        property_history: 0,
        ..Limits::default()
    };
    let server = ThingServer::new()
        .limits(limits)
        .property_history("counter", "step", 3, Duration::from_secs(3600))
        .thing("counter", counter::Counter::new());
    let (addr, _shutdown) = support::start(server).await;
    for step in 2..=6 {
        put_step(addr, step).await;
    }
    let (status, step) = get(&format!("http://{addr}/counter/step/history")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(values(&step), [4, 5, 6].map(|v| json!(v)));

    // Turned off for the rest of the server, not observable, not numeric, no such property.
    for (property, says) in [
        ("count", "keeps no value history"),
        ("label", "keeps no value history"),
        ("nothing", "no property, action or event called 'nothing'"),
        (
            "increment",
            "only observable numeric and boolean properties have '/history'",
        ),
    ] {
        let (status, problem) = get(&format!("http://{addr}/counter/{property}/history")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{property}: {problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{property}: {detail}");
    }
    for (query, says) in [
        ("since=yesterday", "`since` must be an RFC 3339 time"),
        ("limit=0", "`limit` must be at least 1"),
        ("limit=many", "limit"),
        // One past the largest `limit` the OpenAPI document allows.
        ("limit=4294967296", "limit"),
    ] {
        let (status, problem) = get(&format!("http://{addr}/counter/step/history?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{query}: {problem}"
        );
    }
}

#[tokio::test]
async fn a_bound_for_a_property_that_cannot_keep_a_history_stops_the_start() {
    let hour = Duration::from_secs(3600);
    let server = ThingServer::new()
        .property_history("counter", "label", 10, hour)
        .property_history("counter", "missing", 10, hour)
        .property_history("nobody", "step", 10, hour)
        .thing("counter", counter::Counter::new());
    let error = server.start().await.unwrap_err().to_string();
    assert!(error.contains("property 'label' of Thing 'counter': only observable number, integer and boolean properties"), "{error}");
    assert!(
        error.contains("property 'missing' of Thing 'counter', which has no such property"),
        "{error}"
    );
    assert!(
        error.contains("Thing 'nobody', which this server does not publish"),
        "{error}"
    );
}

#[tokio::test]
async fn the_history_needs_a_token_when_tokens_are_on() {
    let server = ThingServer::new()
        .token(Scope::Observe, VIEWER)
        .token(Scope::Operate, OPERATOR)
        .thing("counter", counter::Counter::new());
    let (addr, _shutdown) = support::start(server).await;
    let url = format!("http://{addr}/counter/step/history");
    let client = reqwest::Client::new();
    let without = client.get(&url).send().await.unwrap();
    assert_eq!(without.status(), StatusCode::UNAUTHORIZED);
    let with = client.get(&url).bearer_auth(VIEWER).send().await.unwrap();
    assert_eq!(with.status(), StatusCode::OK);
    assert_eq!(values(&with.json().await.unwrap()), [json!(1)]);
}
