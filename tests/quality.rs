//! Warning and alarm ranges over real HTTP and the Web Thing Protocol: each value of a
//! property with ranges is judged `valid`, `warning` or `alarm`, said in the
//! `LabThings-Quality` header of a read and in each notification's `quality`, while bodies
//! keep their shape; the TD publishes the ranges.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use labthings::{ThingServer, thing};
use serde_json::{Value, json};
use support::ws::{Socket, next, send, wtp};

/// A bath whose temperature the test sets.
#[derive(Debug)]
#[thing]
pub struct Bath {
    /// Its temperature.
    #[property(observable, read_only, unit = "°C", warning = 15.0..=35.0, alarm = 5.0..=45.0)]
    temperature: f64,
    /// A level without ranges.
    #[property(observable)]
    level: i64,
}

#[thing]
impl Bath {}

async fn serve(bath: Arc<Bath>) -> SocketAddr {
    support::start(ThingServer::new().shared_thing("bath", bath))
        .await
        .0
}

/// A read's status, its `LabThings-Quality` header and its body.
async fn read(addr: SocketAddr, name: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::get(format!("http://{addr}/bath/{name}"))
        .await
        .unwrap();
    let quality =
        (response.headers().get("labthings-quality")).map(|q| q.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        quality,
        response.json().await.unwrap(),
    )
}

async fn socket(addr: SocketAddr, thing: &str) -> Socket {
    let url = format!("ws://{addr}/{thing}/ws");
    let mut request =
        tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(url)
            .unwrap();
    let protocol = "webthingprotocol".parse().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol);
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

#[tokio::test]
async fn each_value_is_judged_against_its_ranges() {
    let bath = Arc::new(Bath {
        temperature: 20.0.into(),
        level: 0.into(),
    });
    let addr = serve(bath.clone()).await;
    for (value, quality) in [
        (20.0, "valid"),
        (35.0, "valid"),
        (36.5, "warning"),
        (4.0, "alarm"),
        (45.0, "warning"),
    ] {
        bath.temperature.set(value);
        let (status, header, body) = read(addr, "temperature").await;
        assert_eq!(
            (status, header.as_deref(), body),
            (200, Some(quality), json!(value))
        );
    }
    // A property without ranges says nothing of quality.
    assert_eq!(read(addr, "level").await, (200, None, json!(0)));

    // The TD publishes the ranges.
    let td: Value = reqwest::get(format!("http://{addr}/bath/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let temperature = &td["properties"]["temperature"];
    assert_eq!(
        temperature["lt:warning"],
        json!({"minimum": 15.0, "maximum": 35.0})
    );
    assert_eq!(
        temperature["lt:alarm"],
        json!({"minimum": 5.0, "maximum": 45.0})
    );
    assert!(td["properties"]["level"].get("lt:warning").is_none());
    support::td::assert_valid("a TD with ranges", &td);
}

#[tokio::test]
async fn notifications_carry_the_quality_of_their_value() {
    let bath = Arc::new(Bath {
        temperature: 20.0.into(),
        level: 0.into(),
    });
    let addr = serve(bath.clone()).await;
    let mut socket = socket(addr, "bath").await;
    send(
        &mut socket,
        wtp("observeproperty", json!({"name": "temperature"})),
    )
    .await;
    let subscribed = next(&mut socket).await;
    assert_eq!(subscribed["messageType"], "response", "{subscribed}");
    send(
        &mut socket,
        wtp("observeproperty", json!({"name": "level"})),
    )
    .await;
    next(&mut socket).await;
    bath.temperature.set(40.0);
    bath.temperature.set(50.0);
    bath.level.set(7);
    bath.temperature.set(25.0);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let n = next(&mut socket).await;
        if n["messageType"] == "notification" {
            seen.push((
                n["name"].clone(),
                n["value"].clone(),
                n.get("quality").cloned(),
            ));
        }
    }
    // In order for each property (two properties' notifications may interleave).
    let of = |name: &str| -> Vec<_> {
        (seen.iter().filter(|(n, ..)| n == name))
            .map(|(_, value, quality)| (value.clone(), quality.clone()))
            .collect()
    };
    assert_eq!(
        of("temperature"),
        [
            (json!(40.0), Some(json!("warning"))),
            (json!(50.0), Some(json!("alarm"))),
            (json!(25.0), Some(json!("valid"))),
        ]
    );
    assert_eq!(of("level"), [(json!(7), None)]);
}
