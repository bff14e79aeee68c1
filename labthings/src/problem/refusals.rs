//! The catalogue of refusals: every request the framework refuses, with one status and one
//! message, whatever the binding that carried it (HTTP, either WebSocket dialect, Server-Sent
//! Events, MQTT). Bindings translate a refusal into their protocol; none writes its own.
//!
//! | refusal | status |
//! | --- | --- |
//! | no such Thing, affordance, property, action, event, invocation, blob, value history or lease | 404 |
//! | a property read that is write-only, a write that is read-only, a method not allowed | 405 |
//! | observing a property that is not observable; a token's scope too small; a foreign page | 403 |
//! | a Thing held by an exclusive invocation, or in a state that does not allow the request; a lease presented that is not held; cancelling an invocation that ended | 409 |
//! | a value or an input that its schema refuses; a lease's duration out of bounds | 422 |
//! | a write or an invocation on a Thing another client holds a lease on (or on a Thing whose slots drive it) | 423 |
//! | too many invocations (running, or waiting for a Thing), WebSockets, streams or requests; shutting down | 503 |

use crate::problem::Problem;

/// The `type` of a refusal to observe (the Web Thing Protocol's, as LabThings-FastAPI sends
/// it).
const NOT_OBSERVABLE: &str = "https://w3c.github.io/web-thing-protocol/errors#not-observable";

/// The `type` LabThings-FastAPI clients map to `InvocationCancelledError`.
const CANCELLED: &str = "https://labthings-fastapi.readthedocs.io/en/latest/autoapi/labthings_fastapi/exceptions/index.html#labthings_fastapi.exceptions.InvocationCancelledError";

// ---- what is addressed ------------------------------------------------------------------

/// No Thing of the server has this name.
pub(crate) fn no_thing(name: &str) -> Problem {
    Problem::not_found(format!("no Thing is called '{name}'"))
}

/// A URL names no affordance of the Thing (of whatever kind).
pub(crate) fn no_affordance(thing: &str, name: &str) -> Problem {
    Problem::not_found(format!(
        "Thing '{thing}' has no property, action or event called '{name}'"
    ))
}

/// A request names no property of the Thing (LabThings-FastAPI's wording).
pub(crate) fn no_property(name: &str) -> Problem {
    Problem::not_found(format!("No property found with the name '{name}'."))
}

/// A request names no action of the Thing.
pub(crate) fn no_action(name: &str) -> Problem {
    Problem::not_found(format!("No action found with the name '{name}'."))
}

/// A request names no event of the Thing.
pub(crate) fn no_event(name: &str) -> Problem {
    Problem::not_found(format!("No event found with the name '{name}'."))
}

/// No invocation (kept) has this id.
pub(crate) fn no_invocation(id: &str) -> Problem {
    Problem::not_found(format!("no action invocation has the id '{id}'"))
}

/// No blob (kept) has this id.
pub(crate) fn no_blob(id: &str) -> Problem {
    Problem::not_found(format!(
        "no blob is called '{id}': it expired with its invocation, or never was"
    ))
}

// ---- what the affordance allows ---------------------------------------------------------

/// Writing a property that clients may only read.
pub(crate) fn read_only(thing: &str, name: &str) -> Problem {
    Problem::new(405, format!("property '{name}' of '{thing}' is read-only"))
}

/// Reading a property that clients may only write.
pub(crate) fn write_only(thing: &str, name: &str) -> Problem {
    Problem::new(405, format!("property '{name}' of '{thing}' is write-only"))
}

/// Asking for the value history of a property that keeps none.
#[cfg(feature = "history")]
pub(crate) fn no_history(thing: &str, name: &str) -> Problem {
    Problem::not_found(format!(
        "property '{name}' of '{thing}' keeps no value history: only observable number, integer and boolean properties do, unless their `property_history` is 0"
    ))
}

/// Observing a property whose changes are not published.
pub(crate) fn not_observable(name: &str) -> Problem {
    Problem::new(403, format!("Property '{name}' is not observable."))
        .with_type(NOT_OBSERVABLE, "Not Observable")
}

/// An HTTP method the resource does not take.
pub(crate) fn method_not_allowed(detail: impl Into<String>) -> Problem {
    Problem::new(405, detail)
}

// ---- who asks ---------------------------------------------------------------------------

/// A token whose scope does not allow the operation.
pub(crate) fn scope(granted: &str, needed: &str, what: &str) -> Problem {
    Problem::new(
        403,
        format!("the token's scope `{granted}` does not allow {what}; it needs `{needed}`"),
    )
}

/// A page of another origin that wants to change state or open a WebSocket.
pub(crate) fn foreign_page(origin: &str, what: &str) -> Problem {
    Problem::new(
        403,
        format!(
            "a page from {origin} may not {what}: only the server's own pages and the origins of its `cors_origins` may"
        ),
    )
}

// ---- the state of the Thing -------------------------------------------------------------

/// An exclusive invocation holds the Thing.
pub(crate) fn busy(thing: &str, holder: &uuid::Uuid, action: &str) -> Problem {
    Problem::new(
        409,
        format!(
            "'{thing}' is busy: invocation '{holder}' of '{action}' holds it (one exclusive action at a time); wait for it to finish, or cancel it"
        ),
    )
}

/// The Thing is in a state that does not allow `what` (`"action 'home' may be invoked"`,
/// `"property 'limits' may be written"`): only in the `allowed` states.
pub(crate) fn wrong_state(thing: &str, current: &str, what: &str, allowed: &[String]) -> Problem {
    let allowed = match allowed {
        [] => String::from("no state"),
        [one] => one.clone(),
        [first @ .., last] => format!("{} or {last}", first.join(", ")),
    };
    Problem::new(
        409,
        format!("'{thing}' is {current}: {what} only while it is {allowed}"),
    )
}

/// Another client holds a lease on the Thing until `until`: a write or an invocation
/// needs that lease (the detail is the same on every binding).
pub(crate) fn leased(thing: &str, until: &str) -> Problem {
    Problem::new(
        423,
        format!(
            "'{thing}' is leased by another client until {until}: writes and invocations need \
             its lease"
        ),
    )
}

/// No lease `id` is held on the Thing (never taken, released, broken or expired).
pub(crate) fn no_lease(thing: &str, id: &uuid::Uuid) -> Problem {
    Problem::new(
        404,
        format!("no lease '{id}' is held on '{thing}' (it may have expired or been released)"),
    )
}

/// A request presents lease `id`, which is held neither on the Thing nor on any Thing its
/// slots drive.
pub(crate) fn lease_not_held(thing: &str, id: &uuid::Uuid) -> Problem {
    Problem::new(
        409,
        format!(
            "the lease '{id}' is not held on '{thing}' nor on a Thing it drives (it expired, or was released or broken): take a new lease, or send the request without it"
        ),
    )
}

/// No lease at all is held on the Thing (there is nothing to break).
pub(crate) fn no_lease_held(thing: &str) -> Problem {
    Problem::new(404, format!("no lease is held on '{thing}'"))
}

/// A lease asked for a duration outside `1..=max` seconds.
pub(crate) fn lease_seconds(asked: f64, max: f64) -> Problem {
    Problem::invalid(
        format!("a lease lasts from 1 to {max} seconds, not {asked}"),
        Vec::new(),
    )
}

/// Why an invocation was cancelled by a preempting one (its reason, with the action's own
/// when it gave one).
pub(crate) fn preempted(successor: &uuid::Uuid, action: &str, own: Option<&str>) -> Problem {
    let mut reason = format!("preempted by invocation '{successor}' of '{action}'");
    if let Some(own) = own {
        reason = format!("{reason}: {own}");
    }
    cancelled_because(reason)
}

/// Cancelling an invocation that already ended.
pub(crate) fn already_ended(id: &uuid::Uuid, status: &str) -> Problem {
    Problem::new(
        409,
        format!("invocation '{id}' is already {status} and cannot be cancelled"),
    )
}

/// The output of an invocation that has not completed: a conflict with its state, as
/// cancelling one that ended is (LabThings-FastAPI answers 503, a server error it is not).
pub(crate) fn no_output_yet(id: &str, status: &str) -> Problem {
    Problem::new(
        409,
        format!("invocation '{id}' has no output: it is {status}"),
    )
}

/// The provenance of an invocation, on a server that keeps no provenance records.
#[cfg(feature = "provenance")]
pub(crate) fn no_provenance_records() -> Problem {
    Problem::not_found("this server keeps no provenance records (`provenance` is off)")
}

/// The provenance of an invocation that has not ended.
#[cfg(feature = "provenance")]
pub(crate) fn no_provenance_yet(id: &str, status: &str) -> Problem {
    Problem::new(
        409,
        format!("invocation '{id}' has no provenance record yet: it is {status}"),
    )
}

/// The `error` of a cancelled invocation that gave no reason of its own.
pub(crate) fn cancelled() -> Problem {
    cancelled_because("The action was cancelled.")
}

/// The `error` of a cancelled invocation that stopped with `reason`. The status is
/// LabThings-FastAPI's (its clients recognise a cancellation by the type, and the
/// invocation's own status says `cancelled`).
pub(crate) fn cancelled_because(reason: impl Into<String>) -> Problem {
    Problem::new(500, reason).with_type(CANCELLED, "InvocationCancelledError")
}

// ---- bounds -----------------------------------------------------------------------------

/// The server-wide bound on invocations pending or running.
pub(crate) fn too_many_invocations(limit: usize) -> Problem {
    Problem::new(
        503,
        format!(
            "the server already runs {limit} invocations, its limit: try again when one has finished"
        ),
    )
}

/// The bound on invocations waiting for a Thing held by an exclusive invocation.
pub(crate) fn line_full(thing: &str, limit: usize) -> Problem {
    Problem::new(
        503,
        format!(
            "'{thing}' already has {limit} invocations waiting for it, its limit: try again when one has run"
        ),
    )
}

/// The bound on invocations of one action pending or running.
pub(crate) fn too_many_of_action(thing: &str, action: &str, limit: usize) -> Problem {
    Problem::new(
        503,
        format!(
            "action '{action}' of '{thing}' already has {limit} invocations pending or running, its limit: try again when one has finished"
        ),
    )
}

/// The bound on connections or streams of one kind (`WebSockets`, `event streams`, …).
pub(crate) fn too_many_open(what: &str, limit: usize) -> Problem {
    Problem::new(
        503,
        format!("the server has {limit} {what} open, its limit: try again when one has closed"),
    )
}

/// A request that arrives while the server shuts down.
#[cfg(feature = "mqtt")]
pub(crate) fn shutting_down() -> Problem {
    Problem::new(503, "the server is shutting down")
}

// ---- request bodies ---------------------------------------------------------------------

/// A body larger than the bound.
pub(crate) fn too_large(what: &str, limit: u64) -> Problem {
    Problem::new(
        413,
        format!("the {what} is larger than the limit of {limit} bytes"),
    )
}

/// A body that did not arrive in time.
pub(crate) fn too_slow(what: &str, seconds: f64) -> Problem {
    Problem::new(408, format!("the {what} did not arrive within {seconds} s"))
}

/// A body that is not declared JSON.
pub(crate) fn not_json(media_type: Option<&str>) -> Problem {
    let given = match media_type {
        Some(t) => format!("'{t}'"),
        None => "no Content-Type".to_owned(),
    };
    Problem::new(
        415,
        format!("the request body must be JSON, sent as 'application/json', not {given}"),
    )
}

/// A message or body that does not parse as JSON.
pub(crate) fn bad_json(what: &str, error: &serde_json::Error) -> Problem {
    Problem::bad_request(format!("the {what} is not valid JSON: {error}"))
}

/// A write without a value.
pub(crate) fn no_value(name: &str) -> Problem {
    Problem::bad_request(format!(
        "the request must carry the new value of property '{name}' as JSON"
    ))
}
