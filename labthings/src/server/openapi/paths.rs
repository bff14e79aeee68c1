//! The operations of the server's own routes: the TD listings, the invocations, the blobs,
//! the shared WebSocket, discovery, metrics, the dashboard and this document.

use serde_json::{Map, Value, json};

use crate::model::openapi::{
    component, json_response, listing_parameters, listing_responses, problem,
};
use crate::server::state::ServerState;

/// One `GET` operation of the server's, tagged `server`.
fn get(id: &str, summary: &str, responses: Value) -> Value {
    json!({"get": {
        "tags": ["server"],
        "operationId": id,
        "summary": summary,
        "responses": responses
    }})
}

/// A `200` whose body is text of `media_type`.
fn text(description: &str, media_type: &str) -> Value {
    json!({"200": {
        "description": description,
        "content": {media_type: {"schema": {"type": "string"}}}
    }})
}

/// The `{id}` of an invocation or a blob.
fn id_parameter(what: &str) -> Value {
    json!([{
        "name": "id", "in": "path", "required": true,
        "description": format!("The {what}'s id."),
        "schema": {"type": "string"}
    }])
}

/// The server's own operations, by path.
pub(super) fn server_paths(state: &ServerState) -> Map<String, Value> {
    let prefix = &state.prefix;
    let mut paths = Map::new();
    let mut add = |path: String, item: Value| {
        paths.insert(path, item);
    };
    add(
        format!("{prefix}/thing_descriptions/"),
        get(
            "server.descriptions",
            "The Thing Description of every Thing, by name",
            json!({"200": json_response("Each Thing's TD, by its name.", json!({
                "type": "object",
                "additionalProperties": component::schema(component::THING_DESCRIPTION)
            }))}),
        ),
    );
    add(
        format!("{prefix}/things/"),
        get(
            "server.things",
            "The URL of every Thing's TD, by name",
            json!({"200": json_response("Each Thing's TD URL, by its name.", json!({
                "type": "object", "additionalProperties": {"type": "string"}
            }))}),
        ),
    );
    paths.extend(invocation_paths(prefix, state));
    paths.extend(other_paths(state));
    paths
}

/// The invocations and the blobs.
fn invocation_paths(prefix: &str, state: &ServerState) -> Map<String, Value> {
    let mut paths = Map::new();
    let mut add = |path: String, item: Value| {
        paths.insert(path, item);
    };
    add(format!("{prefix}/action_invocations"), {
        let mut item = get(
            "server.invocations",
            "Every action's invocations, oldest first",
            listing_responses(),
        );
        item["get"]["parameters"] = listing_parameters();
        item
    });
    add(
        format!("{prefix}/action_invocations/{{id}}"),
        invocation_item(),
    );
    add(format!("{prefix}/action_invocations/{{id}}/output"), {
        let mut item = get(
            "server.invocation.output",
            "The output of an invocation (a blob's bytes for a blob output)",
            json!({
                "200": {"description": "The output.", "content": {
                    "application/json": {"schema": {}},
                    "*/*": {"schema": {"type": "string", "format": "binary"}}
                }},
                "404": problem("No invocation has this id."),
                "409": problem("The invocation has no output (yet): it is pending or running, failed or was cancelled.")
            }),
        );
        item["get"]["parameters"] = id_parameter("invocation");
        item
    });
    #[cfg(not(feature = "provenance"))]
    let _ = state;
    #[cfg(feature = "provenance")]
    if state.things.invocations.record_provenance() {
        add(
            format!("{prefix}/action_invocations/{{id}}/provenance"),
            provenance_item(),
        );
    }
    add(format!("{prefix}/blob"), upload_item());
    add(format!("{prefix}/blob/{{id}}"), {
        let mut item = get(
            "server.blob",
            "The bytes of a blob",
            json!({
                "200": {"description": "Its bytes, of its media type.", "content": {
                    "*/*": {"schema": {"type": "string", "format": "binary"}}
                }},
                "404": problem("No blob has this id.")
            }),
        );
        item["get"]["parameters"] = id_parameter("blob");
        item
    });
    paths
}

/// `GET /action_invocations/{id}/provenance`.
#[cfg(feature = "provenance")]
fn provenance_item() -> Value {
    let mut item = get(
        "server.invocation.provenance",
        "The W3C PROV-JSON record of an invocation that ended: what it used and generated, who asked",
        json!({
            "200": json_response("The record (PROV-JSON).", json!({
                "type": "object",
                "required": ["prefix", "activity", "entity", "agent"],
                "properties": {
                    "prefix": {"type": "object", "additionalProperties": {"type": "string"}},
                    "activity": {"type": "object"},
                    "entity": {"type": "object"},
                    "agent": {"type": "object"}
                }
            })),
            "404": problem("No invocation has this id."),
            "409": problem("The invocation has not ended: it is pending or running.")
        }),
    );
    item["get"]["parameters"] = id_parameter("invocation");
    item
}

/// Discovery, metrics, the dashboard and this document.
fn other_paths(state: &ServerState) -> Map<String, Value> {
    let prefix = &state.prefix;
    let mut paths = Map::new();
    let mut add = |path: String, item: Value| {
        paths.insert(path, item);
    };
    add(
        super::super::discovery::WELL_KNOWN.to_owned(),
        get(
            "server.discovery",
            "W3C WoT Discovery: the TD of this server's directory",
            json!({"200": {"description": "A Thing Description Directory's TD.", "content": {
                "application/td+json": {"schema": component::schema(component::THING_DESCRIPTION)}
            }}}),
        ),
    );
    add(format!("{prefix}/directory/things"), directory_item());
    add(
        format!("{prefix}/directory/things/{{id}}"),
        directory_td_item(),
    );
    #[cfg(feature = "metrics")]
    if state.metrics.is_some() {
        add(
            super::super::metrics::PATH.to_owned(),
            get(
                "server.metrics",
                "Prometheus metrics",
                text("OpenMetrics text.", "application/openmetrics-text"),
            ),
        );
    }
    #[cfg(feature = "dashboard")]
    add(
        format!("{prefix}/"),
        get(
            "server.dashboard",
            "The dashboard",
            text("An HTML page.", "text/html"),
        ),
    );
    add(
        format!("{prefix}{}", super::DOCUMENT),
        get(
            "server.openapi",
            "This OpenAPI document",
            json!({"200": json_response("OpenAPI 3.1.", json!({"type": "object"}))}),
        ),
    );
    add(
        format!("{prefix}{}", super::DOCS),
        get(
            "server.docs",
            "The API's documentation page",
            text("An HTML page.", "text/html"),
        ),
    );
    paths
}

/// `GET|DELETE {prefix}/action_invocations/{id}`.
fn invocation_item() -> Value {
    let mut item = get(
        "server.invocation",
        "An invocation",
        json!({
            "200": json_response("The invocation.", component::schema(component::INVOCATION)),
            "404": problem("No invocation has this id.")
        }),
    );
    item["delete"] = json!({
        "tags": ["server"],
        "operationId": "server.invocation.cancel",
        "summary": "Cancel an invocation",
        "responses": {
            "200": json_response("Cancellation requested.", json!({"type": "null"})),
            "404": problem("No invocation has this id."),
            "409": problem("The invocation has already ended.")
        }
    });
    item["parameters"] = id_parameter("invocation");
    item
}

/// `POST {prefix}/blob`.
fn upload_item() -> Value {
    json!({"post": {
        "tags": ["server"],
        "operationId": "server.upload",
        "summary": "Upload a blob, to give an action as input",
        "requestBody": {"required": false, "description": "Its bytes (none for an empty blob), of the media type of its `Content-Type`.", "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
        }},
        "responses": {
            "201": {
                "description": "Stored: give the `href` to an action.",
                "headers": {"Location": {"description": "The blob's URL.", "schema": {"type": "string"}}},
                "content": {"application/json": {"schema": component::schema("Blob")}}
            },
            "400": problem("The upload broke off."),
            "408": problem("The upload did not arrive in time."),
            "413": problem("The upload is larger than the server accepts."),
            "415": problem("The Content-Type is not a media type.")
        }
    }})
}

/// `GET {prefix}/directory/things`.
fn directory_item() -> Value {
    let mut item = get(
        "server.directory",
        "Every Thing's TD, sorted by id, in pages",
        json!({
            "200": {"description": "TDs.", "content": {"application/ld+json": {"schema": {
                "type": "array", "items": component::schema(component::THING_DESCRIPTION)
            }}}},
            "400": problem("`offset` or `limit` is not a whole number, or `limit` is 0.")
        }),
    );
    item["get"]["parameters"] = json!([
        {"name": "offset", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 0, "maximum": usize::MAX}},
        {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": usize::MAX}},
        {"name": "title", "in": "query", "required": false, "description": "Only TDs whose title holds these words (any case).", "schema": {"type": "string"}},
        {"name": "type", "in": "query", "required": false, "description": "Only TDs of this `@type`.", "schema": {"type": "string"}},
        {"name": "affordance", "in": "query", "required": false, "description": "Only TDs with a property, action or event of this name.", "schema": {"type": "string"}}
    ]);
    item
}

/// `GET|PUT|DELETE {prefix}/directory/things/{id}`.
fn directory_td_item() -> Value {
    let td = component::schema(component::THING_DESCRIPTION);
    let no_td = problem("The directory has no TD of this id.");
    let own = problem("This server's own Thing: its TD is not registered.");
    json!({
        "parameters": [{
            "name": "id", "in": "path", "required": true,
            "description": "The TD's `id`.", "schema": {"type": "string"}
        }],
        "get": {
            "tags": ["server"], "operationId": "server.directory.thing",
            "summary": "A TD of the directory (this server's, or one registered into it)",
            "responses": {
                "200": {"description": "The TD.", "content": {"application/td+json": {"schema": td}}},
                "404": no_td
            }
        },
        "put": {
            "tags": ["server"], "operationId": "server.directory.register",
            "summary": "Register (or renew) another server's TD, for its `registration.ttl` seconds (an `admin` token)",
            "requestBody": {"required": true, "content": {"application/td+json": {"schema": {
                "type": "object", "required": ["@context", "title"],
                "properties": {"@context": {}, "title": {"type": "string"}, "id": {"type": "string"},
                               "registration": {"type": "object", "properties": {"ttl": {"type": "number", "minimum": 1}}}}
            }}}},
            "responses": {
                "201": {"description": "Registered.", "headers": {"Location": {"description": "The TD's URL.", "schema": {"type": "string"}}}},
                "204": {"description": "Renewed."},
                "400": problem("The body is not a TD with an `@context` and a `title`, its `id` is not the URL's, or its `ttl` is not at least 1."),
                "409": own,
                "413": problem("The TD is larger than the server accepts."),
                "415": problem("The body is not JSON."),
                "507": problem("The directory holds `limits.max_registrations` TDs.")
            }
        },
        "delete": {
            "tags": ["server"], "operationId": "server.directory.remove",
            "summary": "Remove a registered TD (an `admin` token)",
            "responses": {"204": {"description": "Removed."}, "404": no_td, "409": own}
        }
    })
}
