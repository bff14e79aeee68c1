//! The lease operations of each Thing: `{prefix}/{thing}/lease` (take, see, break) and
//! `{prefix}/{thing}/lease/{id}` (renew, release).

use serde_json::{Map, Value, json};

use crate::model::openapi::{component, json_response, problem};

/// The schemas of a lease, as its holder gets it and as anyone sees it.
pub(super) fn schemas(schemas: &mut crate::model::openapi::Schemas) {
    schemas.insert(
        "Lease",
        json!({
            "description": "A lease on a Thing: send its `id` as `LabThings-Lease` with each write and invocation.",
            "type": "object",
            "required": ["id", "expires", "seconds"],
            "properties": {
                "id": {"type": "string", "format": "uuid"},
                "expires": {"type": "string", "format": "date-time", "description": "When it ends unless used or renewed before."},
                "seconds": {"type": "number", "description": "How long it lasts from its last use."}
            }
        }),
    );
    schemas.insert(
        "LeaseState",
        json!({
            "description": "Whether a client holds a lease on the Thing, and until when.",
            "type": "object",
            "required": ["leased"],
            "properties": {
                "leased": {"type": "boolean"},
                "expires": {"type": "string", "format": "date-time"}
            }
        }),
    );
}

/// The `LabThings-Lease` header parameter of writes and invocations.
pub(super) fn header_parameter() -> Value {
    json!({
        "name": component::LEASE, "in": "header", "required": false,
        "description": "The `id` of the lease the client holds on the Thing (`POST /{thing}/lease`): while a client holds one, others' writes and invocations are refused with 423.",
        "schema": {"type": "string", "format": "uuid"}
    })
}

/// A request body of `{"seconds": …}` up to `max` seconds, `required` or not.
fn seconds_body(max: f64, required: bool) -> Value {
    let mut schema = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {"seconds": {
            "type": "number", "minimum": 1, "maximum": max,
            "description": "How long the lease lasts from its last use (each request made with it starts it again)."
        }}
    });
    if required {
        schema["required"] = json!(["seconds"]);
    }
    json!({"required": required, "content": {"application/json": {"schema": schema}}})
}

/// One lease operation of Thing `thing`.
fn operation(thing: &str, id: &str, summary: &str, responses: Map<String, Value>) -> Value {
    json!({
        "tags": [thing],
        "operationId": format!("{thing}.lease.{id}"),
        "summary": summary,
        "responses": responses
    })
}

/// The refusals of a request with a body, and of a lease that is not held.
fn responses(pairs: &[(&str, Value)], body: bool) -> Map<String, Value> {
    let mut out: Map<String, Value> = (pairs.iter())
        .map(|(status, response)| ((*status).to_owned(), response.clone()))
        .collect();
    if body {
        out.insert("400".into(), problem("The body is not JSON."));
        out.insert(
            "413".into(),
            problem("The body is larger than the server accepts."),
        );
        out.insert(
            "415".into(),
            problem("The body is not sent as `application/json`."),
        );
        out.insert(
            "422".into(),
            problem(
                "The body is not `{\"seconds\": N}` with N from 1 to the server's `max_lease`.",
            ),
        );
    }
    out
}

/// The lease paths of Thing `thing` published at `path` (`{prefix}/{thing}/`), leases lasting
/// at most `max` seconds.
pub(super) fn paths(thing: &str, path: &str, max: f64) -> Vec<(String, Value)> {
    let lease = json_response("The lease.", component::schema("Lease"));
    let none = || json!({"description": "Done."});
    let take = responses(
        &[
            (
                "201",
                json!({
                    "description": "Taken: the lease (its URL is the `Location`).",
                    "headers": {"Location": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": component::schema("Lease")}}
                }),
            ),
            ("423", problem("Another client holds a lease on the Thing.")),
        ],
        true,
    );
    let mut take = operation(thing, "take", "Take a lease on the Thing", take);
    take["requestBody"] = seconds_body(max, true);
    let view = responses(
        &[(
            "200",
            json_response("Whether a lease is held.", component::schema("LeaseState")),
        )],
        false,
    );
    let broken = responses(
        &[
            ("204", none()),
            ("404", problem("No lease is held on the Thing.")),
        ],
        false,
    );
    let id = json!([{
        "name": "id", "in": "path", "required": true,
        "description": "The lease's id.", "schema": {"type": "string", "format": "uuid"}
    }]);
    let gone = problem("No such lease is held (never taken, released, broken or expired).");
    let renewed = responses(&[("200", lease), ("404", gone.clone())], true);
    let mut renew = operation(thing, "renew", "Renew one's lease", renewed);
    renew["requestBody"] = seconds_body(max, false);
    let released = responses(&[("204", none()), ("404", gone)], false);
    vec![
        (
            format!("{path}lease"),
            json!({
                "post": take,
                "get": operation(thing, "view", "Whether a client holds a lease on the Thing", view),
                "delete": operation(thing, "break", "Break the lease held on the Thing (an `admin` token; any client when the server has no tokens)", broken)
            }),
        ),
        (
            format!("{path}lease/{{id}}"),
            json!({
                "parameters": id,
                "put": renew,
                "delete": operation(thing, "release", "Release one's lease", released)
            }),
        ),
    ]
}
