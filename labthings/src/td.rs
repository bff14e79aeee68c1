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

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::table::{ActionEntry, EventEntry, PropertyEntry, ThingTable};
use crate::thing::Thing;

/// The WebSocket subprotocol advertised in TD forms (W3C Web Thing Protocol).
pub const WEB_THING_PROTOCOL: &str = "webthingprotocol";

/// The subprotocol of Server-Sent Events forms (WoT HTTP binding).
pub const SSE: &str = "sse";

/// The `@context` of every generated TD: valid TD 1.1, and accepted by TD 1.0 consumers.
pub const TD_CONTEXT: [&str; 2] = [
    "https://www.w3.org/2019/wot/td/v1",
    "https://www.w3.org/2022/wot/td/v1.1",
];

/// Where and how a Thing is published, for the URLs and security of its TD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TdOptions {
    base: Option<String>,
    prefix: String,
    path: String,
    bearer: bool,
    id: Option<String>,
    mqtt: Option<crate::server::mqtt::MqttForms>,
}

impl TdOptions {
    /// Options for a Thing published under `name` with the API `prefix` (`""` for none).
    pub fn new(prefix: &str, name: &str) -> Self {
        let prefix = prefix.trim_end_matches('/');
        Self {
            base: None,
            prefix: prefix.to_owned(),
            path: format!("{prefix}/{name}/"),
            bearer: false,
            id: None,
            mqtt: None,
        }
    }

    /// Add the forms of the MQTT binding (`name` is the Thing's name).
    pub(crate) fn with_mqtt(mut self, mqtt: &crate::Mqtt, name: &str) -> Self {
        self.mqtt = Some(mqtt.forms(name));
        self
    }

    /// Give the TD an `id` (a URI): what Web Thing Protocol messages name the Thing by.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The TD `id`, if any.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// Set the base URL: the absolute URL that relative `href`s resolve against, e.g.
    /// `http://127.0.0.1:5000/`. Without it, `href`s are absolute paths and the WebSocket
    /// `href` is relative too.
    pub fn with_base(mut self, base: impl Into<String>) -> Self {
        self.base = Some(base.into());
        self
    }

    /// Declare that clients need a bearer token (`securityDefinitions` with the `bearer`
    /// scheme), instead of `nosec`.
    pub fn with_bearer_security(mut self) -> Self {
        self.bearer = true;
        self
    }

    /// The base URL, if any.
    pub fn base(&self) -> Option<&str> {
        self.base.as_deref()
    }

    /// The Thing's path, with leading and trailing slash, e.g. `/counter/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn ws_href(&self) -> String {
        self.ws_url(&format!("{}ws", self.path))
    }

    /// The server's shared WebSocket, on which requests name their Thing.
    fn shared_ws_href(&self) -> String {
        self.ws_url(&format!("{}/ws", self.prefix))
    }

    fn ws_url(&self, path: &str) -> String {
        match &self.base {
            Some(base) => {
                let base = base.trim_end_matches('/');
                let base = if let Some(rest) = base.strip_prefix("https://") {
                    format!("wss://{rest}")
                } else if let Some(rest) = base.strip_prefix("http://") {
                    format!("ws://{rest}")
                } else {
                    base.to_owned()
                };
                format!("{base}{path}")
            }
            None => path.to_owned(),
        }
    }
}

/// Generate the Thing Description of a Thing type published at `options`.
pub(crate) fn thing_description<T>(table: &ThingTable<T>, options: &TdOptions) -> Value {
    let ws = options.ws_href();
    let mut td = Map::new();
    match &options.mqtt {
        None => td.insert("@context".into(), json!(TD_CONTEXT)),
        Some(_) => {
            let mut context = json!(TD_CONTEXT);
            if let Value::Array(items) = &mut context {
                items.push(json!({"mqv": crate::server::mqtt::MQV_CONTEXT}));
            }
            td.insert("@context".into(), context)
        }
    };
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
    if options.bearer {
        td.insert(
            "securityDefinitions".into(),
            json!({"bearer": {
                "scheme": "bearer",
                "in": "header",
                "name": "Authorization",
                "format": "opaque",
                "description": "A bearer token from the server's configuration: scope `observe` reads and observes, scope `operate` also writes properties, invokes and cancels actions"
            }}),
        );
        td.insert("security".into(), json!("bearer"));
    } else {
        td.insert(
            "securityDefinitions".into(),
            json!({"no_security": {"scheme": "nosec", "description": "No security"}}),
        );
        td.insert("security".into(), json!("no_security"));
    }
    let mut properties: Map<String, Value> = table
        .properties
        .iter()
        .map(|p| (p.def.name.to_owned(), property(p, options, &ws)))
        .collect();
    // An MJPEG stream is read as a `multipart/x-mixed-replace` of JPEG images.
    for s in table.streams {
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
        properties.insert(s.name.to_owned(), out.into());
    }
    td.insert("properties".into(), properties.into());
    let actions: Map<String, Value> = table
        .actions
        .iter()
        .map(|a| (a.def.name.to_owned(), action(a, options, &ws)))
        .collect();
    td.insert("actions".into(), actions.into());
    let events: Map<String, Value> = table
        .events
        .iter()
        .map(|e| (e.def.name.to_owned(), event(e, options, &ws)))
        .collect();
    td.insert("events".into(), events.into());
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
    if let Some(mqtt) = &options.mqtt {
        forms.extend(mqtt.property(def.name, def.observable, !read_only));
    }
    out.insert("forms".into(), forms.into());
    Value::Object(out)
}

fn event<T>(e: &EventEntry<T>, options: &TdOptions, ws: &str) -> Value {
    let def = e.def;
    let mut out = Map::new();
    insert_doc(&mut out, &def.doc, def.name);
    out.insert("data".into(), e.schema.clone());
    let mut forms = json!([
        {"href": format!("{}{}", options.path, def.name), "op": ["subscribeevent", "unsubscribeevent"], "subprotocol": SSE},
        {"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ["subscribeevent", "unsubscribeevent"]}
    ]);
    if let (Some(mqtt), Value::Array(forms)) = (&options.mqtt, &mut forms) {
        forms.push(mqtt.event(def.name));
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
    let mut forms = json!([
        {"href": format!("{}{}", options.path, def.name), "op": ["invokeaction"], "contentType": "application/json"},
        {"href": ws, "subprotocol": WEB_THING_PROTOCOL, "op": ["invokeaction", "queryaction", "cancelaction"]}
    ]);
    if let (Some(Some(form)), Value::Array(forms)) = (
        options.mqtt.as_ref().map(|m| m.action(def.name)),
        &mut forms,
    ) {
        forms.push(form);
    }
    out.insert("forms".into(), forms);
    Value::Object(out)
}

fn insert_doc(out: &mut Map<String, Value>, doc: &crate::doc::Doc, name: &str) {
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
