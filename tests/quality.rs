//! Warning and alarm ranges over real HTTP and the Web Thing Protocol: each value of a
//! property with ranges is judged `valid`, `warning` or `alarm`, said in the
//! `LabThings-Quality` header of a read and in each notification's `quality`, while bodies
//! keep their shape; the TD publishes the ranges.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use labthings::{ThingServer, thing};
use serde_json::{Value, json};
use support::ws::{Socket, next, next_matching, send, wtp};

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

/// A bath at 20 °C, its level 0.
fn bath() -> Arc<Bath> {
    Arc::new(Bath {
        temperature: 20.0.into(),
        level: 0.into(),
    })
}

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
    support::ws::connect_wtp(addr, thing).await
}

#[tokio::test]
async fn each_value_is_judged_against_its_ranges() {
    let bath = bath();
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
    let bath = bath();
    let addr = serve(bath.clone()).await;
    let mut socket = socket(addr, "bath").await;
    send(
        &mut socket,
        wtp("observeproperty", json!({"name": "temperature"})),
    )
    .await;
    let response = |m: &Value| m["messageType"] == "response";
    next_matching(&mut socket, response).await;
    send(
        &mut socket,
        wtp("observeproperty", json!({"name": "level"})),
    )
    .await;
    next_matching(&mut socket, response).await;
    bath.temperature.set(40.0);
    bath.temperature.set(50.0);
    bath.level.set(7);
    bath.temperature.set(25.0);
    // Every notification until the last values; a current value sent on subscription may
    // come first.
    let mut seen = Vec::new();
    let (mut temperature_done, mut level_done) = (false, false);
    while !(temperature_done && level_done) {
        let n = next(&mut socket).await;
        if n["messageType"] != "notification" {
            continue;
        }
        temperature_done |= n["name"] == "temperature" && n["value"] == json!(25.0);
        level_done |= n["name"] == "level" && n["value"] == json!(7);
        let current = n["value"] == json!(20.0) || n["value"] == json!(0);
        if !current {
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

#[tokio::test]
async fn the_alarm_event_reports_each_change_of_quality() {
    let bath = bath();
    let addr = serve(bath.clone()).await;
    let mut socket = socket(addr, "bath").await;
    send(&mut socket, wtp("subscribeevent", json!({"name": "alarm"}))).await;
    let subscribed = next(&mut socket).await;
    assert!(subscribed.get("error").is_none(), "{subscribed}");
    for value in [21.0, 40.0, 41.0, 50.0, 44.0, 20.0] {
        bath.temperature.set(value);
    }
    bath.level.set(1_000);
    let mut changes = Vec::new();
    while changes.len() < 4 {
        let n = next(&mut socket).await;
        assert_eq!(
            (&n["messageType"], &n["name"]),
            (&json!("notification"), &json!("alarm"))
        );
        changes.push(n["data"].clone());
    }
    let change = |from: &str, to: &str, value: f64| json!({"property": "temperature", "from": from, "to": to, "value": value});
    assert_eq!(
        changes,
        [
            change("valid", "warning", 40.0),
            change("warning", "alarm", 50.0),
            change("alarm", "warning", 44.0),
            change("warning", "valid", 20.0),
        ]
    );
    // The TD lists the event with its data.
    let td: Value = reqwest::get(format!("http://{addr}/bath/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let data = &td["events"]["alarm"]["data"];
    assert_eq!(data["properties"]["to"]["type"], "string", "{data}");
}

#[tokio::test]
async fn server_sent_events_follow_each_value_with_its_quality() {
    let bath = bath();
    let addr = serve(bath.clone()).await;
    let url = format!("http://{addr}/bath/temperature");
    let mut stream = support::sse::Stream::open(&url, None).await;
    let mut next_message = async || stream.next().await.expect("a message");
    let current = next_message().await;
    assert_eq!((current.event, current.data), (None, "20.0".to_owned()));
    let quality = next_message().await;
    assert_eq!(
        (quality.event.as_deref(), quality.data.as_str()),
        (Some("quality"), r#""valid""#)
    );
    bath.temperature.set(46.0);
    let value = next_message().await;
    assert_eq!(value.data, "46.0");
    let quality = next_message().await;
    assert_eq!(
        (quality.event.as_deref(), quality.data.as_str()),
        (Some("quality"), r#""alarm""#)
    );
}

/// Over MQTT, each value of a property with ranges carries its quality as the MQTT 5 user
/// property `quality`; the payload is the value, as before.
#[cfg(feature = "interop")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_publishes_the_quality_of_each_value() {
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::Packet;
    use rumqttc::v5::{AsyncClient, Event, MqttOptions};

    let program = support::needs::mosquitto("the quality over MQTT");
    let broker = support::mosquitto::Broker::start(&program, None, "").await;
    let (client, mut eventloop) =
        AsyncClient::new(MqttOptions::new("quality", "127.0.0.1", broker.port), 64);
    client
        .subscribe("lab/bath/properties/temperature", QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, mut published) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(event) = eventloop.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = event {
                let quality = (p.properties.iter())
                    .flat_map(|props| props.user_properties.iter())
                    .find(|(key, _)| key == "quality")
                    .map(|(_, value)| value.clone());
                let value: Value = serde_json::from_slice(&p.payload).unwrap();
                let _ = tx.send((value, quality));
            }
        }
    });
    let bath = bath();
    let mqtt = labthings::Mqtt::new(&format!("mqtt://127.0.0.1:{}", broker.port))
        .unwrap()
        .prefix("lab")
        .unwrap()
        .client_id("labthings-quality");
    let server = ThingServer::new()
        .shared_thing("bath", bath.clone())
        .mqtt(mqtt);
    let (_addr, _shutdown) = support::start(server).await;
    let mut next = async || {
        tokio::time::timeout(support::ws::LIMIT, published.recv())
            .await
            .expect("a publication in time")
            .unwrap()
    };
    // The retained current value, then each change.
    assert_eq!(next().await, (json!(20.0), Some("valid".to_owned())));
    bath.temperature.set(38.0);
    // (The current value may come again, republished once the server's session is up.)
    let changed = loop {
        let (value, quality) = next().await;
        if value != json!(20.0) {
            break (value, quality);
        }
    };
    assert_eq!(changed, (json!(38.0), Some("warning".to_owned())));
}
