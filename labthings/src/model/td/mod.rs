//! W3C Thing Description 1.1 generation, from the tables the macros generate.
//!
//! A TD needs no instance and no server: [`Thing::thing_description`] builds it from the
//! static tables, and [`write_all`] writes the TDs of a library's Things to files, for
//! instance from a test or a small program run in CI, so that they can be reviewed, published
//! or fed to other tools:
//!
//! ```
//! use labthings::{thing, td};
//!
//! /// A lamp.
//! #[thing]
//! struct Lamp {
//!     /// Whether it is on.
//!     #[property(observable)]
//!     on: bool,
//! }
//!
//! let dir = std::env::temp_dir().join("lamp-tds");
//! let files = td::write_all(&dir, &[td::Described::of::<Lamp>("lamp")]).unwrap();
//! assert!(files[0].ends_with("lamp.td.json"));
//! ```

#[cfg(feature = "mqtt")]
pub(crate) mod mqtt;
mod options;

pub use options::TdOptions;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use schemars::JsonSchema;

use crate::model::doc::Doc;
use crate::model::table::{ActionEntry, PropertyEntry, StreamDef, ThingTable};
use crate::model::task::{TASK_FAILED, TaskFailure};
use crate::model::thing::Thing;

/// The WebSocket subprotocol advertised in TD forms (W3C Web Thing Protocol).
pub const WEB_THING_PROTOCOL: &str = "webthingprotocol";

/// The subprotocol of Server-Sent Events forms (WoT HTTP binding).
pub const SSE: &str = "sse";

/// The `@context` of every generated TD: valid TD 1.1, and accepted by TD 1.0 consumers.
pub const TD_CONTEXT: [&str; 2] = [
    "https://www.w3.org/2019/wot/td/v1",
    "https://www.w3.org/2022/wot/td/v1.1",
];

/// The IRI of the LabThings terms a TD may use (`lt:exclusive`), bound to the prefix `lt` in
/// its `@context` when it uses one; each term is described there.
pub const LT_CONTEXT: &str =
    "https://github.com/labthings/labthings-rs/blob/main/labthings/docs/td-terms.md#";

/// How a client leases the Thing (the TD term `lt:lease`): every served Thing can be
/// leased.
fn lease() -> Value {
    json!({
        "href": "lease",
        "header": "LabThings-Lease",
        "webThingProtocol": ["takelease", "renewlease", "releaselease", "breaklease", "querylease"]
    })
}

/// Generate the Thing Description of a Thing type published at `options`.
pub(crate) fn thing_description<T>(table: &ThingTable<T>, options: &TdOptions) -> Value {
    let ws = options.ws_href();
    let mut td = Map::new();
    let mut context: Vec<Value> = TD_CONTEXT.iter().map(|&c| c.into()).collect();
    // Every TD uses a LabThings term (`lt:lease` at least).
    context.push(json!({ "lt": LT_CONTEXT }));
    context.extend(options.binding_contexts());
    td.insert("@context".into(), context.into());
    if let Some(id) = &options.id {
        td.insert("id".into(), id.clone().into());
    }
    td.insert(
        "title".into(),
        table
            .doc
            .title()
            .unwrap_or_else(|| table.type_name.to_owned())
            .into(),
    );
    if let Some(description) = table.doc.description() {
        td.insert("description".into(), description.into());
    }
    if let Some(base) = &options.base {
        td.insert("base".into(), base.clone().into());
    }
    td.extend(options.security());
    let mut properties: Map<String, Value> = table
        .properties
        .iter()
        .map(|p| (p.def.name.to_owned(), property(p, options, &ws)))
        .collect();
    for s in table.streams {
        properties.insert(s.name.to_owned(), stream(s, options));
    }
    td.insert("properties".into(), properties.into());
    let actions: Map<String, Value> = table
        .actions
        .iter()
        .map(|a| (a.def.name.to_owned(), action(a, options, &ws)))
        .collect();
    td.insert("actions".into(), actions.into());
    let mut events: Map<String, Value> = table
        .events
        .iter()
        .map(|e| {
            (
                e.def.name.to_owned(),
                event(e.def.name, &e.def.doc, &e.schema, options, &ws),
            )
        })
        .collect();
    for &name in table.framework_events() {
        let (doc, schema) = framework_event(name);
        events.insert(name.into(), event(name, doc, schema, options, &ws));
    }
    td.insert("events".into(), events.into());
    td.insert("lt:lease".into(), lease());
    // The Thing's own socket, and the server's shared one (requests name the Thing by its
    // `id`).
    let ops = json!([
        "readallproperties",
        "readmultipleproperties",
        "observeallproperties",
        "unobserveallproperties",
        "queryallactions",
        "subscribeallevents",
        "unsubscribeallevents"
    ]);
    td.insert(
        "forms".into(),
        json!([
            {"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ops},
            {"href": options.shared_ws_href(), "subprotocol": WEB_THING_PROTOCOL, "op": ops}
        ]),
    );
    Value::Object(td)
}

/// An MJPEG stream is read as a `multipart/x-mixed-replace` of JPEG images.
fn stream<T>(s: &StreamDef<T>, options: &TdOptions) -> Value {
    let mut out = Map::new();
    insert_doc(&mut out, &s.doc, s.name);
    out.insert("type".into(), "string".into());
    out.insert("contentMediaType".into(), "image/jpeg".into());
    out.insert("readOnly".into(), true.into());
    out.insert("writeOnly".into(), false.into());
    out.insert("observable".into(), false.into());
    out.insert(
        "forms".into(),
        json!([{
            "href": format!("{}{}", options.path, s.name),
            "op": ["readproperty"],
            "contentType": "multipart/x-mixed-replace; boundary=frame"
        }]),
    );
    out.into()
}

fn property<T>(p: &PropertyEntry<T>, options: &TdOptions, ws: &str) -> Value {
    let def = p.def;
    let read_only = !def.writable();
    let write_only = !def.readable();
    let mut out = Map::new();
    insert_doc(&mut out, &def.doc, def.name);
    if let Value::Object(schema) = &p.schema {
        for (k, v) in schema {
            if k != "title" && k != "description" {
                out.insert(k.clone(), v.clone());
            }
        }
        if !out.contains_key("description")
            && let Some(d) = schema.get("description")
        {
            out.insert("description".into(), d.clone());
        }
    }
    if let Some(unit) = def.unit {
        out.insert("unit".into(), unit.into());
    }
    out.insert("readOnly".into(), read_only.into());
    out.insert("writeOnly".into(), write_only.into());
    if def.state {
        out.insert("lt:state".into(), true.into());
    }
    if let Some(gate) = &def.allowed_in {
        out.insert("lt:allowedStates".into(), gate.names());
    }
    let ranges = [
        ("lt:warning", def.ranges.warning),
        ("lt:alarm", def.ranges.alarm),
    ];
    for (term, range) in ranges {
        if let Some((minimum, maximum)) = range {
            out.insert(term.into(), json!({"minimum": minimum, "maximum": maximum}));
        }
    }
    out.insert("observable".into(), def.observable.into());
    let mut http_ops = Vec::new();
    if !write_only {
        http_ops.push("readproperty");
    }
    if !read_only {
        http_ops.push("writeproperty");
    }
    let mut ws_ops = http_ops.clone();
    if def.observable {
        ws_ops.extend(["observeproperty", "unobserveproperty"]);
    }
    let href = format!("{}{}", options.path, def.name);
    let mut forms = vec![
        json!({"href": href, "op": http_ops, "contentType": "application/json"}),
        json!({"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ws_ops}),
    ];
    if def.observable {
        // `GET` with `Accept: text/event-stream`: the current value, then each change.
        // Closing the stream unobserves; consumers (node-wot) look for the op on this form.
        forms.push(json!({"href": href, "op": ["observeproperty", "unobserveproperty"], "subprotocol": SSE}));
    }
    forms.extend(options.binding_property_forms(def.name, def.observable, !read_only));
    out.insert("forms".into(), forms.into());
    Value::Object(out)
}

/// The documentation of the event of failed tasks.
static TASK_FAILED_DOC: Doc = Doc {
    text: "",
    title: Some("A background task failed"),
    description: Some(
        "One of the Thing's background tasks ended with an error or panicked; the Thing is still served.",
    ),
};

/// The data schema of the event of failed tasks.
static TASK_FAILED_SCHEMA: std::sync::LazyLock<Value> =
    std::sync::LazyLock::new(|| crate::model::schema::td_schema(TaskFailure::json_schema));

/// The documentation of the event of changes of quality.
static ALARM_DOC: Doc = Doc {
    text: "",
    title: Some("A value changed quality"),
    description: Some(
        "A property with warning or alarm ranges has a value of another quality (valid, warning, alarm) than its previous one.",
    ),
};

/// The data schema of the event of changes of quality.
static ALARM_SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    crate::model::schema::td_schema(crate::model::quality::QualityChange::json_schema)
});

/// The documentation and data schema of a framework event (`task_failed`, `alarm`).
pub(crate) fn framework_event(name: &str) -> (&'static Doc, &'static Value) {
    match name {
        TASK_FAILED => (&TASK_FAILED_DOC, &TASK_FAILED_SCHEMA),
        _ => (&ALARM_DOC, &ALARM_SCHEMA),
    }
}

fn event(name: &str, doc: &Doc, schema: &Value, options: &TdOptions, ws: &str) -> Value {
    let mut out = Map::new();
    insert_doc(&mut out, doc, name);
    out.insert("data".into(), schema.clone());
    let mut forms = json!([
        {"href": format!("{}{}", options.path, name), "op": ["subscribeevent", "unsubscribeevent"], "subprotocol": SSE},
        {"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ["subscribeevent", "unsubscribeevent"]}
    ]);
    if let Value::Array(forms) = &mut forms {
        forms.extend(options.binding_event_forms(name));
    }
    out.insert("forms".into(), forms);
    Value::Object(out)
}

fn action<T>(a: &ActionEntry<T>, options: &TdOptions, ws: &str) -> Value {
    let def = a.def;
    let mut out = Map::new();
    insert_doc(&mut out, &def.doc, def.name);
    if let Some(input) = &a.input {
        out.insert("input".into(), input.clone());
    }
    out.insert("output".into(), a.output.clone());
    out.insert("safe".into(), def.safe.into());
    out.insert("idempotent".into(), def.idempotent.into());
    out.insert("synchronous".into(), false.into());
    if let Some(policy) = def.exclusive {
        out.insert("lt:exclusive".into(), policy.as_str().into());
    }
    if let Some(gate) = &def.allowed_in {
        out.insert("lt:allowedStates".into(), gate.names());
    }
    let mut forms = json!([
        {"href": format!("{}{}", options.path, def.name), "op": ["invokeaction"], "contentType": "application/json"},
        {"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ["invokeaction", "queryaction", "cancelaction"]}
    ]);
    if let Value::Array(forms) = &mut forms {
        forms.extend(options.binding_action_forms(def.name));
    }
    out.insert("forms".into(), forms);
    Value::Object(out)
}

fn insert_doc(out: &mut Map<String, Value>, doc: &Doc, name: &str) {
    out.insert(
        "title".into(),
        doc.title().unwrap_or_else(|| name.to_owned()).into(),
    );
    if let Some(description) = doc.description() {
        out.insert("description".into(), description.into());
    }
}

/// A Thing type and the name it is published under, for [`write_all`].
#[derive(Debug, Clone, Copy)]
pub struct Described<'a> {
    name: &'a str,
    describe: fn(&TdOptions) -> Value,
}

impl<'a> Described<'a> {
    /// The Thing type `T` published as `name`.
    pub fn of<T: Thing>(name: &'a str) -> Self {
        Self {
            name,
            describe: T::thing_description,
        }
    }
}

/// Write the TD of each Thing to `{dir}/{name}.td.json` (pretty-printed, `href`s relative to
/// the server root, no `base`), creating `dir` if needed. Returns the files written.
pub fn write_all(dir: impl AsRef<Path>, things: &[Described<'_>]) -> std::io::Result<Vec<PathBuf>> {
    let dir = dir.as_ref();
    std::fs::create_dir_all(dir)?;
    things
        .iter()
        .map(|thing| {
            let td = (thing.describe)(&TdOptions::new("", thing.name));
            let path = dir.join(format!("{}.td.json", thing.name));
            let text = serde_json::to_string_pretty(&td).map_err(std::io::Error::other)?;
            std::fs::write(&path, text + "\n")?;
            Ok(path)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_href_follows_the_base_scheme() {
        let o = TdOptions::new("", "counter");
        assert_eq!(o.path, "/counter/");
        assert_eq!(o.ws_href(), "/counter/ws");
        let o = TdOptions::new("/api/", "c").with_base("http://127.0.0.1:5000/");
        assert_eq!(o.ws_href(), "ws://127.0.0.1:5000/api/c/ws");
        let o = TdOptions::new("", "c").with_base("https://lab.example/");
        assert_eq!(o.ws_href(), "wss://lab.example/c/ws");
    }
}
