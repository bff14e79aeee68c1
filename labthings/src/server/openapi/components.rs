//! The shared components of the OpenAPI document: the wire shapes every Thing's operations
//! refer to (problem details, invocation records and summaries, TDs), the listing parameters
//! and the security scheme.

use serde_json::{Value, json};

use crate::model::openapi::{Schemas, component};

/// `#/components/schemas/{name}` of a shape defined here.
fn of(name: &str) -> Value {
    component::schema(name)
}

/// Add the shared schemas to `schemas`.
pub(super) fn shared(schemas: &mut Schemas) {
    problems(schemas);
    invocations(schemas);
    documents(schemas);
}

/// Problem details.
fn problems(schemas: &mut Schemas) {
    schemas.insert(
        component::PROBLEM,
        json!({
            "description": "RFC 9457 problem details: what went wrong, for a human.",
            "type": "object",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 100, "maximum": 599},
                "detail": {"type": "string"},
                "errors": {"type": "array", "items": of("FieldError")}
            }
        }),
    );
    schemas.insert(
        "FieldError",
        json!({
            "description": "One invalid field of a request: an action argument's name, or a JSON pointer.",
            "type": "object",
            "required": ["field", "detail"],
            "properties": {"field": {"type": "string"}, "detail": {"type": "string"}}
        }),
    );
}

/// Invocations: their summaries and records.
fn invocations(schemas: &mut Schemas) {
    let nullable_time = json!({"type": ["string", "null"], "format": "date-time"});
    schemas.insert(
        "InvocationStatus",
        json!({"type": "string", "enum": ["pending", "running", "completed", "cancelled", "error"]}),
    );
    schemas.insert(
        "Link",
        json!({
            "type": "object",
            "required": ["href", "rel", "type"],
            "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}}
        }),
    );
    schemas.insert(
        "LogRecord",
        json!({
            "description": "One log message of an invocation.",
            "type": "object",
            "required": ["message", "levelname", "levelno", "created", "target"],
            "properties": {
                "message": {"type": "string"},
                "levelname": {"type": "string", "enum": ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"]},
                "levelno": {"type": "integer"},
                "created": {"type": "string", "format": "date-time"},
                "target": {"type": "string"}
            }
        }),
    );
    schemas.insert(
        component::SUMMARY,
        json!({
            "description": "An invocation of an action, without its input, output and log.",
            "type": "object",
            "required": ["status", "id", "action", "href", "timeStarted", "timeRequested", "timeCompleted", "links"],
            "properties": {
                "status": of("InvocationStatus"),
                "id": {"type": "string", "format": "uuid"},
                "action": {"type": "string", "description": "`{prefix}/{thing}/{action}`"},
                "href": {"type": "string"},
                "timeStarted": nullable_time,
                "timeRequested": {"type": "string", "format": "date-time"},
                "timeCompleted": nullable_time,
                "links": {"type": "array", "items": of("Link")}
            }
        }),
    );
    schemas.insert(
        component::INVOCATION,
        json!({
            "description": "An invocation of an action: its input, its output once completed, its log, its error once failed.",
            "allOf": [of(component::SUMMARY)],
            "required": ["input", "output", "log", "error", "progress"],
            "properties": {
                "input": {},
                "output": {},
                "log": {"type": "array", "items": of("LogRecord")},
                "error": {"anyOf": [of(component::PROBLEM), {"type": "null"}]},
                "progress": {},
                "cancelRequested": {"type": "boolean"},
                "position": {"type": "integer", "minimum": 1, "description": "Its place among the invocations waiting for its Thing (1: it runs next), while it waits (`exclusive = \"queue\"` or `\"preempt\"`)."}
            }
        }),
    );
}

/// TDs and blobs.
fn documents(schemas: &mut Schemas) {
    schemas.insert(
        component::THING_DESCRIPTION,
        json!({
            "description": "A W3C Thing Description 1.1.",
            "type": "object",
            "required": ["@context", "title"],
            "properties": {"@context": {}, "title": {"type": "string"}}
        }),
    );
    schemas.insert(
        "Blob",
        json!({
            "description": "An uploaded blob, to give an action as input.",
            "type": "object",
            "required": ["href", "media_type", "size"],
            "properties": {
                "href": {"type": "string"},
                "media_type": {"type": "string"},
                "size": {"type": "integer", "minimum": 0}
            }
        }),
    );
}

/// The query parameters: the listing's, `limit` bounded by the server's `max_page`, and
/// `dryRun`.
pub(super) fn parameters(max_page: usize) -> Value {
    json!({
        component::LIMIT: {
            "name": "limit", "in": "query", "required": false,
            "description": "At most this many invocations.",
            "schema": {"type": "integer", "minimum": 1, "maximum": max_page}
        },
        component::AFTER: {
            "name": "after", "in": "query", "required": false,
            "description": "The id of the last invocation of the previous page.",
            "schema": {"type": "string"}
        },
        component::DRY_RUN: {
            "name": "dryRun", "in": "query", "required": false,
            "description": "Check the request as it would be (scope, schema, constraints, the Thing's state and lease, its exclusive line) and answer 200 with what it would do, or its refusal; nothing is written, run or created.",
            "schema": {"type": "boolean"}
        }
    })
}

/// The bearer-token scheme of a server with tokens.
pub(super) fn security_schemes() -> Value {
    json!({"bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token of the server's token file: `observe` reads and observes, `operate` also writes, invokes, cancels and takes leases, `admin` also breaks others' leases."
    }})
}
