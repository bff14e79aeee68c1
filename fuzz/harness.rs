//! What each fuzz target does with one input, shared by the targets (`fuzz_targets/`) and by
//! the regression test that replays the saved corpora (`tests/fuzz_corpora.rs`).
//!
//! The includer declares, at its crate root: `counter` and `microscope` (the example Things)
//! and the modules of the macro crate (`pipeline` and what it uses).

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use labthings::internals::{Values, Ws};
use serde_json::{Map, Number, Value};

/// Messages of one WebSocket input are separated by this character.
pub const SEPARATOR: char = '\u{1e}';

/// WebSocket messages (at most 8, separated by [`SEPARATOR`]) to the counter and the
/// microscope, through the real dispatch and rendering of both dialects.
pub fn ws_message(data: &[u8]) {
    static WS: OnceLock<Ws> = OnceLock::new();
    let ws = WS.get_or_init(|| {
        let settings = std::env::temp_dir().join(format!("labthings-fuzz-{}", std::process::id()));
        let camera = crate::microscope::camera::CameraArgs::default();
        Ws::new(
            labthings::ThingServer::new()
                .server_id("fuzz")
                // Few invocations, running or finished, so that every input costs about the
                // same: a cancelled action may still be ending when the next input comes.
                .max_finished_invocations(8)
                .limits(few_invocations())
                .settings_dir(settings)
                .thing("counter", crate::counter::Counter::new())
                .thing("stage", crate::microscope::Stage::new())
                .thing("camera", crate::microscope::Camera::new(camera))
                .thing("autofocus", crate::microscope::Autofocus::new()),
        )
    });
    let text = String::from_utf8_lossy(data);
    let messages: Vec<&str> = text.split(SEPARATOR).take(8).collect();
    ws.feed(&messages);
}

/// The default limits, with at most 8 invocations running (4 of one action).
fn few_invocations() -> labthings::Limits {
    labthings::Limits {
        max_running_invocations: 8,
        max_running_per_action: 4,
        ..Default::default()
    }
}

/// A JSON value, built from fuzzer bytes, whose object keys are often the names the Things'
/// schemas use.
#[derive(Debug, Arbitrary)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Unsigned(u64),
    Float(f64),
    Text(String),
    Array(Vec<Json>),
    Object(Vec<(Key, Json)>),
}

/// An object key.
#[derive(Debug, Arbitrary)]
pub enum Key {
    Known(u8),
    Other(String),
}

const KNOWN_KEYS: &[&str] = &[
    "n",
    "seconds",
    "x",
    "y",
    "z",
    "dx",
    "dy",
    "dz",
    "range",
    "steps",
    "min",
    "max",
    "image",
    "href",
    "media_type",
    "count",
    "step",
    "label",
    "speed",
    "limits",
];

impl Json {
    pub fn value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(i) => Value::from(*i),
            Json::Unsigned(u) => Value::from(*u),
            Json::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Text(s) => Value::String(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Json::value).collect()),
            Json::Object(members) => {
                let mut map = Map::new();
                for (key, value) in members {
                    let key = match key {
                        Key::Known(i) => KNOWN_KEYS[usize::from(*i) % KNOWN_KEYS.len()].to_owned(),
                        Key::Other(s) => s.clone(),
                    };
                    map.insert(key, value.value());
                }
                Value::Object(map)
            }
        }
    }
}

/// One value for a property or an action of one of the example Things.
#[derive(Debug, Arbitrary)]
pub struct ValueInput {
    pub thing: u8,
    pub which: u8,
    pub action: bool,
    pub value: Json,
}

/// Property values and action inputs of the counter and the microscope's Things, through
/// validation (and, for properties, storage and reading back).
pub fn values(data: &[u8]) {
    let Ok(input) = ValueInput::arbitrary(&mut arbitrary::Unstructured::new(data)) else {
        return;
    };
    let value = input.value.value();
    let values = match input.thing % 4 {
        0 => Values::new(crate::counter::Counter::new()),
        1 => Values::new(crate::microscope::Stage::new()),
        2 => Values::new(crate::microscope::Autofocus::new()),
        _ => Values::new(crate::microscope::Camera::new(
            crate::microscope::camera::CameraArgs::default(),
        )),
    };
    if input.action {
        values.input(input.which.into(), value);
    } else {
        values.write(input.which.into(), value);
    }
}

/// A configuration file's text, as JSON and as TOML.
pub fn config(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        labthings::internals::config(text);
    }
}

/// A settings file's text, applied to the microscope's stage.
pub fn settings(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        labthings::internals::settings(crate::microscope::Stage::new(), text);
    }
}

/// Token streams through `#[thing]`: the first line is the attribute's arguments, the rest
/// the item; and the whole input as the options of every helper attribute. Errors are
/// expected; a panic is a bug.
pub fn macro_attr(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (attr, item) = text.split_once('\n').unwrap_or((text, ""));
    if let (Ok(attr), Ok(item)) = (
        attr.parse::<proc_macro2::TokenStream>(),
        item.parse::<proc_macro2::TokenStream>(),
    ) {
        let _ = crate::pipeline::thing_impl(attr, item);
    }
    let options = text.replace(['\n', '\r'], " ");
    let item = format!(
        "pub struct S {{ #[property({options})] a: i64, #[event({options})] e: Event<u8>, #[stream({options})] s: MjpegStream }}"
    );
    let methods = format!(
        "impl S {{ #[action({options})] fn go(&self, #[arg({options})] x: u8) {{}} #[property({options})] fn b(&self) -> u8 {{ 0 }} }}"
    );
    for (attr, item) in [(String::new(), item), (options.clone(), methods)] {
        if let (Ok(attr), Ok(item)) = (
            attr.parse::<proc_macro2::TokenStream>(),
            item.parse::<proc_macro2::TokenStream>(),
        ) {
            let _ = crate::pipeline::thing_impl(attr, item);
        }
    }
}
