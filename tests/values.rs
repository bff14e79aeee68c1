//! Values of every shape a property can have — untagged and externally tagged enums, options,
//! structs, sequences of structs, structs nested through `$ref` — are read, written, rejected
//! when wrong with a message that says what was expected, and described by a TD that is valid
//! against the W3C schema.

mod support;

use labthings::{TdOptions, Thing, thing};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A setpoint given as an integer or a number (both match `5`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum Setpoint {
    Int(i64),
    Float(f64),
}

/// How a pump runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
enum Mode {
    /// Stopped.
    Off,
    /// At a speed.
    Speed(f64),
    /// Towards a target.
    Target { x: i64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
struct Position {
    x: i64,
    y: i64,
    z: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
struct Limits {
    min: Position,
    max: Position,
}

/// Values of every shape.
#[thing]
struct Shapes {
    #[property]
    setpoint: Setpoint,
    #[property]
    mode: Mode,
    #[property]
    offset: Option<f64>,
    #[property]
    position: Position,
    #[property(max_length = 3)]
    path: Vec<Position>,
    #[property]
    limits: Limits,
}

fn origin() -> Position {
    Position { x: 0, y: 0, z: 0 }
}

fn shapes() -> Shapes {
    Shapes {
        setpoint: Setpoint::Int(1).into(),
        mode: Mode::Off.into(),
        offset: None.into(),
        position: origin().into(),
        path: Vec::new().into(),
        limits: Limits {
            min: origin(),
            max: origin(),
        }
        .into(),
    }
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn get(&self, name: &str) -> Value {
        let r = self.http.get(format!("{}/{name}", self.base)).send().await;
        r.unwrap().json().await.unwrap()
    }

    async fn put(&self, name: &str, value: &Value) -> (StatusCode, Value) {
        let url = format!("{}/{name}", self.base);
        let r = self.http.put(url).json(value).send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn every_shape_is_read_written_and_rejected_when_wrong() {
    let (addr, _) = support::start(labthings::ThingServer::new().thing("shapes", shapes())).await;
    let client = Client {
        base: format!("http://{addr}/shapes"),
        http: reqwest::Client::new(),
    };
    let accepted = [
        ("setpoint", json!(5)),
        ("setpoint", json!(2.5)),
        ("mode", json!("Off")),
        ("mode", json!({"Speed": 1.5})),
        ("mode", json!({"Target": {"x": 3}})),
        ("offset", json!(null)),
        ("offset", json!(-0.25)),
        ("position", json!({"x": 1, "y": 2, "z": 3})),
        (
            "path",
            json!([{"x": 1, "y": 2, "z": 3}, {"x": 4, "y": 5, "z": 6}]),
        ),
        (
            "limits",
            json!({"min": {"x": -1, "y": -2, "z": -3}, "max": {"x": 1, "y": 2, "z": 3}}),
        ),
    ];
    for (name, value) in accepted {
        let (status, body) = client.put(name, &value).await;
        assert_eq!(status, StatusCode::CREATED, "{name} = {value}: {body}");
        assert_eq!(client.get(name).await, value, "{name} reads back");
    }
    let rejected = [
        ("setpoint", json!("five"), "expected an integer or a number"),
        ("mode", json!("Fast"), r#""Off""#),
        ("mode", json!({"Speed": "x"}), "Speed"),
        ("offset", json!("x"), "expected null or a number"),
        (
            "position",
            json!({"x": 1, "y": 2}),
            "missing required argument 'z'",
        ),
        (
            "position",
            json!({"x": 1, "y": 2, "z": 3.5}),
            "z: expected an integer",
        ),
        ("path", json!([{"x": 1, "y": 2}]), "'z'"),
        (
            "path",
            json!([origin(), origin(), origin(), origin()]),
            "more than 3 items",
        ),
        (
            "limits",
            json!({"min": {"x": 1, "y": 2, "z": 3}, "max": {"x": "far", "y": 2, "z": 3}}),
            "max/x: expected an integer",
        ),
    ];
    for (name, value, expected) in rejected {
        let before = client.get(name).await;
        let (status, problem) = client.put(name, &value).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name} = {value}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{name} = {value}: {detail}");
        assert_eq!(
            client.get(name).await,
            before,
            "a rejected write changes nothing"
        );
    }
}

/// Found by the `values` fuzz target: what validation accepts for an integer, the Rust type
/// takes — an integral float such as `3e3` — and what an `i64` cannot hold, validation refuses
/// with the type's range (which the TD shows).
#[tokio::test]
async fn integers_are_checked_against_their_type() {
    let (addr, _) = support::start(labthings::ThingServer::new().thing("shapes", shapes())).await;
    let client = Client {
        base: format!("http://{addr}/shapes"),
        http: reqwest::Client::new(),
    };
    let (status, body) = client
        .put("position", &json!({"x": 1.0, "y": -2.0, "z": 3e3}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        client.get("position").await,
        json!({"x": 1, "y": -2, "z": 3000})
    );
    for x in [
        json!(9_259_542_123_540_477_292_u64),
        json!(6.490_419_268_292_891e19),
    ] {
        let (status, problem) = client
            .put("position", &json!({"x": x, "y": 0, "z": 0}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "x = {x}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("9223372036854775807"), "x = {x}: {detail}");
    }
    let td: Value = reqwest::get(format!("http://{addr}/shapes/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let x = &td["properties"]["position"]["properties"]["x"];
    assert_eq!(x["maximum"], json!(i64::MAX), "{x}");
}

#[test]
fn an_enumeration_refused_names_the_allowed_values() {
    let table = Shapes::table();
    let (_, mode) = table.property("mode").unwrap();
    let problem = mode.validate(&json!("Fast")).unwrap_err();
    assert!(
        problem.detail.contains(r#""Off""#) && problem.detail.contains("an object"),
        "{}",
        problem.detail
    );
    assert!(!problem.detail.contains("oneOf"), "{}", problem.detail);
}

#[test]
fn every_shape_is_described_by_a_valid_td() {
    let td = Shapes::thing_description(&TdOptions::new("", "shapes"));
    support::td::assert_valid("shapes", &td);
    let text = td.to_string();
    for forbidden in ["$ref", "$defs", "anyOf", "definitions"] {
        assert!(!text.contains(forbidden), "{forbidden} in the TD: {text}");
    }
    let limits = &td["properties"]["limits"];
    assert_eq!(
        limits["properties"]["max"]["properties"]["z"]["type"],
        "integer"
    );
    assert_eq!(td["properties"]["path"]["maxItems"], 3);
    assert_eq!(td["properties"]["setpoint"]["oneOf"][0]["type"], "integer");
}
