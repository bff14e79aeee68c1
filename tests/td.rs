//! The Thing Descriptions of the example Things: valid against the official W3C TD 1.1 JSON
//! Schema (vendored in `tests/wot/`), and equal to their reviewed snapshots in
//! `tests/snapshots/`. After an intended change of a TD, regenerate the snapshots with
//! `SNAPSHOTS=overwrite cargo test --test td` and review the diff.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;

mod support;

use std::path::Path;

use labthings::{TdOptions, Thing};
use serde_json::Value;
use support::td::{assert_valid as validate, schema_errors};

#[test]
fn the_schema_check_rejects_a_broken_td() {
    let mut td = counter::Counter::thing_description(&TdOptions::new("", "counter"));
    td.as_object_mut().unwrap().remove("security");
    td["properties"]["count"]["forms"][0]["op"] = serde_json::json!(["invokeaction"]);
    let errors = schema_errors(&td);
    assert!(errors.len() >= 2, "{errors:?}");
}

fn assert_snapshot(name: &str, td: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.td.json"));
    let actual = serde_json::to_string_pretty(td).unwrap() + "\n";
    if std::env::var_os("SNAPSHOTS").is_some_and(|v| v == "overwrite") {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "the TD of {name} differs from {}; if the change is intended, run \
         `SNAPSHOTS=overwrite cargo test --test td` and review the diff.\nactual:\n{actual}",
        path.display()
    );
}

#[test]
fn counter_td_is_valid_and_matches_its_snapshot() {
    let td = counter::Counter::thing_description(
        &TdOptions::new("", "counter").with_base("http://127.0.0.1:5000/"),
    );
    validate("counter", &td);
    assert_snapshot("counter", &td);
}

#[test]
fn counter_td_without_base_is_valid() {
    let td = counter::Counter::thing_description(&TdOptions::new("/api/v1", "counter"));
    validate("counter (no base)", &td);
    assert_eq!(
        td["properties"]["count"]["forms"][0]["href"],
        "/api/v1/counter/count"
    );
    assert!(td.get("base").is_none());
}

#[test]
fn counter_td_reflects_the_declarations() {
    let td = counter::Counter::thing_description(&TdOptions::new("", "counter"));
    assert_eq!(
        td["@context"],
        serde_json::json!([
            "https://www.w3.org/2019/wot/td/v1",
            "https://www.w3.org/2022/wot/td/v1.1",
            {"lt": labthings::td::LT_CONTEXT}
        ])
    );
    assert_eq!(td["lt:lease"]["href"], "lease");
    assert_eq!(td["title"], "A pointless counter.");
    assert_eq!(td["description"], "Longer description of the counter.");
    let props: Vec<&str> = td["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        props,
        ["count", "step", "label", "temperature"],
        "declaration order"
    );
    let actions: Vec<&str> = td["actions"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        actions,
        ["increment", "add", "increment_many", "wait", "tick"]
    );
    let overflowed = &td["events"]["overflowed"];
    assert_eq!(
        overflowed["title"],
        "Emitted when an addition was refused because the count would leave the `i64` range."
    );
    assert_eq!(
        overflowed["data"]["required"],
        serde_json::json!(["count", "n"])
    );
    let forms = overflowed["forms"].as_array().unwrap();
    assert_eq!(
        (forms[0]["subprotocol"].as_str(), forms[0]["href"].as_str()),
        (Some("sse"), Some("/counter/overflowed"))
    );
    assert_eq!(
        forms[1]["op"],
        serde_json::json!(["subscribeevent", "unsubscribeevent"])
    );
    assert_eq!(td["events"]["ticked"]["data"]["type"], "integer");
    // The shared socket is advertised next to the Thing's own.
    assert_eq!(td["forms"][1]["href"], "/ws");
    // Observable properties stream over SSE too.
    assert_eq!(td["properties"]["count"]["forms"][2]["subprotocol"], "sse");
    let count = &td["properties"]["count"];
    assert_eq!(
        (count["readOnly"].as_bool(), count["observable"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(count["forms"][0]["op"], serde_json::json!(["readproperty"]));
    assert_eq!(count["forms"][1]["subprotocol"], "webthingprotocol");
    let step = &td["properties"]["step"];
    assert_eq!(
        (step["minimum"].as_i64(), step["maximum"].as_i64()),
        (Some(1), Some(100))
    );
    assert_eq!(td["properties"]["label"]["maxLength"], 64);
    assert_eq!(td["properties"]["label"]["observable"], false);
    let temperature = &td["properties"]["temperature"];
    assert_eq!(
        (
            temperature["type"].as_str(),
            temperature["readOnly"].as_bool()
        ),
        (Some("number"), Some(true))
    );
    let add = &td["actions"]["add"];
    assert_eq!(add["input"]["required"], serde_json::json!(["n"]));
    assert_eq!(add["input"]["additionalProperties"], false);
    assert_eq!(add["output"]["type"], "integer");
    assert!(td["actions"]["increment"].get("input").is_none());
    let many = &td["actions"]["increment_many"]["input"]["properties"];
    assert_eq!(
        many.as_object().unwrap().len(),
        1,
        "the context is not an input: {many}"
    );
    let text = td.to_string();
    for forbidden in ["$ref", "$defs", "$schema", "definitions", "anyOf"] {
        assert!(!text.contains(forbidden), "{forbidden} in the TD");
    }
}
