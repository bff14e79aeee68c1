//! The OpenAPI 3.1 operations of one Thing, from the same tables as its TD.
//!
//! Each affordance becomes the operations of its HTTP route: a property is read with `GET`
//! (and, when observable, followed as Server-Sent Events), written with `PUT`; an action is
//! invoked with `POST` and its invocations listed with `GET`; an event is a stream of
//! Server-Sent Events; an MJPEG stream has its viewer and latest frame. Values are described
//! by the schemas they are validated against (JSON Schema 2020-12, the dialect of OpenAPI
//! 3.1), their `$defs` moved into the document's components by [`Schemas`].
//!
//! The shared parts (the problem body, the invocation record and summary, the TD) are
//! components that the server's document defines under the names of [`component`].

mod changes;
mod schemas;

use changes::{changing, lease_not_held, would_invoke, would_write};

pub(crate) use schemas::Schemas;

use serde_json::{Map, Value, json};

use crate::model::doc::Doc;
use crate::model::schema::validation_schema;
use crate::model::table::{ActionEntry, Exclusive, PropertyEntry, StreamDef, ThingTable};

/// The components that the server's document defines and the Things' operations refer to.
pub(crate) mod component {
    /// An RFC 9457 problem details body.
    pub(crate) const PROBLEM: &str = "Problem";
    /// A whole invocation (`GET /action_invocations/{id}`, the answer to `POST`).
    pub(crate) const INVOCATION: &str = "Invocation";
    /// An entry of an invocation listing.
    pub(crate) const SUMMARY: &str = "InvocationSummary";
    /// A W3C Thing Description.
    pub(crate) const THING_DESCRIPTION: &str = "ThingDescription";
    /// The `limit` query parameter of a listing.
    pub(crate) const LIMIT: &str = "limit";
    /// The `after` query parameter of a listing.
    pub(crate) const AFTER: &str = "after";
    /// The `dryRun` query parameter of a write or an invocation.
    pub(crate) const DRY_RUN: &str = "dryRun";
    /// The `LabThings-Lease` header of a write or an invocation.
    pub(crate) const LEASE: &str = "LabThings-Lease";

    /// `#/components/schemas/{name}`.
    pub(crate) fn schema(name: &str) -> serde_json::Value {
        serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    /// `#/components/parameters/{name}`.
    pub(crate) fn parameter(name: &str) -> serde_json::Value {
        serde_json::json!({ "$ref": format!("#/components/parameters/{name}") })
    }
}

/// A response with a problem details body.
pub(crate) fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": component::schema(component::PROBLEM)}}
    })
}

/// A response with a JSON body of `schema`.
pub(crate) fn json_response(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

/// The refusals every request with a JSON body may meet.
fn body_refusals(responses: &mut Map<String, Value>) {
    responses.insert(
        "400".into(),
        problem("The body is not JSON, or a query parameter is malformed."),
    );
    responses.insert(
        "413".into(),
        problem("The body is larger than the server accepts."),
    );
    responses.insert(
        "415".into(),
        problem("The body is not sent as `application/json`."),
    );
}

/// The operations of the Thing of `table` published as `name` at `path` (`{prefix}/{name}/`),
/// as `(path, path item)` pairs; the schemas they need are added to `schemas`.
pub(crate) fn thing_paths<T>(
    table: &ThingTable<T>,
    name: &str,
    path: &str,
    schemas: &mut Schemas,
) -> Vec<(String, Value)> {
    let mut paths = vec![(path.to_owned(), description_item(name))];
    for p in &table.properties {
        paths.push((format!("{path}{}", p.def.name), property(p, name, schemas)));
        #[cfg(feature = "history")]
        if let Some(item) = history(p, name) {
            paths.push((format!("{path}{}/history", p.def.name), item));
        }
    }
    for a in &table.actions {
        paths.push((format!("{path}{}", a.def.name), action(a, name, schemas)));
    }
    for e in &table.events {
        let item = event(e.def.name, &e.def.doc, name);
        paths.push((format!("{path}{}", e.def.name), item));
    }
    for &event_name in table.framework_events() {
        let (doc, _) = crate::model::td::framework_event(event_name);
        paths.push((format!("{path}{event_name}"), event(event_name, doc, name)));
    }
    for s in table.streams {
        paths.extend(stream(s, name, path));
    }
    paths
}

/// The operation's `tags`, `summary` and `description` from a doc comment.
fn documented(doc: &Doc, thing: &str, fallback: &str) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("tags".into(), json!([thing]));
    op.insert(
        "summary".into(),
        doc.title().unwrap_or_else(|| fallback.to_owned()).into(),
    );
    if let Some(description) = doc.description() {
        op.insert("description".into(), description.into());
    }
    op
}

/// `GET {prefix}/{thing}/`: the Thing Description.
fn description_item(thing: &str) -> Value {
    json!({"get": {
        "tags": [thing],
        "operationId": format!("{thing}.describe"),
        "summary": format!("The Thing Description of '{thing}'"),
        "responses": {"200": json_response(
            "Its W3C Thing Description.",
            component::schema(component::THING_DESCRIPTION),
        )}
    }})
}

fn property<T>(p: &PropertyEntry<T>, thing: &str, schemas: &mut Schemas) -> Value {
    let def = p.def;
    let scope = format!("{thing}.{}", def.name);
    let schema = schemas.hoist(&scope, p.validation_schema.clone());
    let mut item = Map::new();
    if def.readable() {
        let mut op = documented(&def.doc, thing, def.name);
        op.insert("operationId".into(), format!("{scope}.read").into());
        let mut content = json!({"application/json": {"schema": schema}});
        if def.observable {
            content["text/event-stream"] = json!({"schema": {"type": "string"}});
        }
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": if def.observable {
                    "Its current value; with `Accept: text/event-stream`, the current value then each change, as Server-Sent Events."
                } else {
                    "Its current value."
                },
                "content": content
            }),
        );
        responses.insert(
            "500".into(),
            problem("The device failed to give its value."),
        );
        op.insert("responses".into(), responses.into());
        item.insert("get".into(), op.into());
    }
    if def.writable() {
        let mut op = documented(&def.doc, thing, def.name);
        op.insert("operationId".into(), format!("{scope}.write").into());
        op.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema}}}),
        );
        let mut responses = Map::new();
        changing(&mut op, &mut responses);
        responses.insert(
            "201".into(),
            json_response("Written.", json!({"type": "null"})),
        );
        responses.insert("200".into(), would_write(def.name, schema.clone()));
        body_refusals(&mut responses);
        responses.insert(
            "422".into(),
            problem("The value is not valid for the property."),
        );
        if let Some(gate) = &def.allowed_in {
            let detail = format!(
                "The Thing is not in a state that allows writing it ({}).",
                allowed(gate)
            );
            responses.insert("409".into(), problem(&detail));
        }
        responses.insert(
            "500".into(),
            problem("The device failed to take the value."),
        );
        lease_not_held(&mut responses);
        op.insert("responses".into(), responses.into());
        item.insert("put".into(), op.into());
    }
    item.into()
}

/// `GET {prefix}/{thing}/{property}/history`, for an observable numeric or boolean property.
#[cfg(feature = "history")]
fn history<T>(p: &PropertyEntry<T>, thing: &str) -> Option<Value> {
    let kind = crate::broker::SeriesKind::of(&p.schema).filter(|_| p.def.observable)?;
    let value = match kind {
        crate::broker::SeriesKind::Number => json!({"type": ["number", "null"]}),
        crate::broker::SeriesKind::Boolean => json!({"type": ["boolean", "null"]}),
    };
    let name = p.def.name;
    let sample = json!({
        "type": "object",
        "required": ["time", "value"],
        "properties": {
            "time": {"type": "string", "format": "date-time", "description": "When it was published (UTC, to the millisecond)."},
            "value": value
        }
    });
    let body = json!({
        "type": "object",
        "required": ["thing", "property", "samples", "omitted"],
        "properties": {
            "thing": {"type": "string"},
            "property": {"type": "string"},
            "samples": {"type": "array", "items": sample, "description": "Oldest first."},
            "omitted": {"type": "integer", "minimum": 0, "description": "Samples after `since` left out by `limit` (the oldest)."}
        }
    });
    Some(json!({"get": {
        "tags": [thing],
        "operationId": format!("{thing}.{name}.history"),
        "summary": format!("The value history of '{name}'"),
        "description": "The values it was published with, each with its time, oldest first; `null` is a gap. With `Accept: text/csv`, the same as CSV (`time,value`).",
        "parameters": [
            {"name": "since", "in": "query", "required": false, "description": "Only the samples published after this time.", "schema": {"type": "string", "format": "date-time"}},
            {"name": "limit", "in": "query", "required": false, "description": "At most this many samples: the most recent.", "schema": {"type": "integer", "minimum": 1, "maximum": u32::MAX}}
        ],
        "responses": {
            "200": {
                "description": "The samples kept.",
                "content": {
                    "application/json": {"schema": body},
                    "text/csv": {"schema": {"type": "string"}}
                }
            },
            "400": problem("`since` or `limit` is not valid."),
            "404": problem("The property keeps no value history (its bound is 0)."),
        }
    }}))
}

fn action<T>(a: &ActionEntry<T>, thing: &str, schemas: &mut Schemas) -> Value {
    let def = a.def;
    let scope = format!("{thing}.{}", def.name);
    let mut invoke = documented(&def.doc, thing, def.name);
    invoke.insert("operationId".into(), format!("{scope}.invoke").into());
    let input = def.input.map(|describe| {
        let mut schema = validation_schema(describe);
        def.args.iter().for_each(|arg| arg.apply(&mut schema));
        schemas.hoist(&format!("{scope}.input"), schema)
    });
    let body = match &input {
        Some(schema) => {
            // Without a body, every argument takes its default: a body is needed only when
            // some argument has none.
            let required = (schema.get("required").and_then(Value::as_array))
                .is_some_and(|names| !names.is_empty());
            let schema = match required {
                true => schema.clone(),
                // And `null` is no body.
                false => json!({"anyOf": [schema, {"type": "null"}]}),
            };
            json!({"required": required, "content": {"application/json": {"schema": schema}}})
        }
        None => json!({
            "required": false,
            "description": "The action takes no input: no body, `null` or `{}`.",
            "content": {"application/json": {"schema": {"type": ["null", "object"], "maxProperties": 0}}}
        }),
    };
    invoke.insert("requestBody".into(), body);
    let output = schemas.hoist(&format!("{scope}.output"), validation_schema(def.output));
    let record = json!({
        "allOf": [component::schema(component::INVOCATION)],
        "properties": {"output": {"anyOf": [output, {"type": "null"}]}}
    });
    let mut responses = Map::new();
    changing(&mut invoke, &mut responses);
    responses.insert("200".into(), would_invoke(def.name, input));
    responses.insert(
        "201".into(),
        json!({
            "description": "Accepted: the invocation, to follow at its `href` (also its `Location`).",
            "headers": {"Location": {"description": "The invocation's URL.", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": record}}
        }),
    );
    body_refusals(&mut responses);
    responses.insert(
        "422".into(),
        problem("The input is not valid for the action."),
    );
    if let Some(conflict) = conflict(def) {
        responses.insert("409".into(), conflict);
    }
    lease_not_held(&mut responses);
    responses.insert(
        "503".into(),
        problem("Too many invocations are pending or running (or waiting for the Thing), or the server is shutting down."),
    );
    invoke.insert("responses".into(), responses.into());
    let mut list = Map::new();
    list.insert("tags".into(), json!([thing]));
    list.insert("operationId".into(), format!("{scope}.invocations").into());
    list.insert(
        "summary".into(),
        format!("The invocations of '{}', oldest first", def.name).into(),
    );
    list.insert("parameters".into(), listing_parameters());
    list.insert("responses".into(), listing_responses());
    json!({"post": invoke, "get": list})
}

/// The query parameters of a paged listing of invocations.
pub(crate) fn listing_parameters() -> Value {
    json!([
        component::parameter(component::LIMIT),
        component::parameter(component::AFTER)
    ])
}

/// The responses of a paged listing of invocations.
pub(crate) fn listing_responses() -> Value {
    json!({
        "200": {
            "description": "One page of invocations; a `Link` header with `rel=\"next\"` when more follow.",
            "headers": {"Link": {"description": "The next page.", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": {
                "type": "array", "items": component::schema(component::SUMMARY)
            }}}
        },
        "400": problem("`limit` is out of range, or the query is malformed."),
        "404": problem("No invocation has the id given as `after`.")
    })
}

fn event(name: &str, doc: &Doc, thing: &str) -> Value {
    let mut op = documented(doc, thing, name);
    op.insert(
        "operationId".into(),
        format!("{thing}.{name}.subscribe").into(),
    );
    op.insert(
        "parameters".into(),
        json!([{
            "name": "Accept", "in": "header", "required": true,
            "description": "Server-Sent Events: the stream lasts until the client closes it.",
            "schema": {"type": "string", "enum": ["text/event-stream"]}
        }]),
    );
    op.insert(
        "responses".into(),
        json!({
            "200": {
                "description": "Each emission, as Server-Sent Events (with `Accept: text/event-stream`).",
                "content": {"text/event-stream": {"schema": {"type": "string"}}}
            },
            "406": problem("The request did not accept `text/event-stream`.")
        }),
    );
    json!({ "get": op })
}

fn stream<T>(s: &StreamDef<T>, thing: &str, path: &str) -> Vec<(String, Value)> {
    let name = s.name;
    let mut watch = documented(&s.doc, thing, name);
    watch.insert("operationId".into(), format!("{thing}.{name}.watch").into());
    watch.insert(
        "responses".into(),
        json!({"200": {
            "description": "The frames as they come, as an MJPEG stream.",
            "content": {"multipart/x-mixed-replace": {"schema": {"type": "string"}}}
        }}),
    );
    let viewer = json!({"get": {
        "tags": [thing],
        "operationId": format!("{thing}.{name}.viewer"),
        "summary": format!("A page that shows '{name}'"),
        "responses": {"200": {
            "description": "An HTML page.",
            "content": {"text/html": {"schema": {"type": "string"}}}
        }}
    }});
    let frame = json!({"get": {
        "tags": [thing],
        "operationId": format!("{thing}.{name}.frame"),
        "summary": format!("The latest frame of '{name}'"),
        "responses": {
            "200": {
                "description": "A JPEG image.",
                "content": {"image/jpeg": {"schema": {"type": "string", "contentMediaType": "image/jpeg"}}}
            },
            "503": problem("The stream gave no frame in time (`limits.frame_wait`).")
        }
    }});
    vec![
        (format!("{path}{name}"), json!({ "get": watch })),
        (format!("{path}{name}/viewer"), viewer),
        (format!("{path}{name}/frame"), frame),
    ]
}

/// The 409 of an action, if it has one: a rejecting exclusive action while the Thing is held
/// (a queued or preempting invocation waits instead, a full line is a 503), an action gated
/// by the Thing's state outside it.
fn conflict<T>(def: &crate::model::table::ActionDef<T>) -> Option<Value> {
    let mut conflicts = Vec::new();
    if def.exclusive == Some(Exclusive::Reject) {
        conflicts.push(String::from(
            "another exclusive action of the Thing is running",
        ));
    }
    if let Some(gate) = &def.allowed_in {
        let detail = format!(
            "the Thing is not in a state that allows it ({})",
            allowed(gate)
        );
        conflicts.push(detail);
    }
    (!conflicts.is_empty()).then(|| problem(&format!("Refused: {}.", conflicts.join(", or "))))
}

/// The states a gate allows, for a response's description.
fn allowed<T>(gate: &crate::model::state::StateGate<T>) -> String {
    let names: Vec<String> = (gate.allowed)()
        .iter()
        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        .collect();
    format!("allowed in {}", names.join(", "))
}
