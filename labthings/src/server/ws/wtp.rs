//! The W3C Web Thing Protocol: a request's `operation` names a function of this module.
//!
//! Every response echoes the request's `thingID` and `correlationID`; errors carry a problem
//! with a numeric `status`. Operations that run device code (reading and writing properties)
//! complete later, concurrently with the rest of the connection; the others are answered at
//! once, in order. Notifications carry a `messageID` that names them in their Thing's
//! history: a client that reconnects passes the last one it saw as `lastNotificationID` to
//! get what it missed.

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::connection::{Context, Dispatch, Format, Resumed, Target, ThingView, Watch};
use super::labthings::not_observable;
use super::messages::{Response, WtpError, to_text};
use crate::broker::history::Unresumable;
use crate::context::ActionContext;
use crate::problem::Problem;
use crate::server::hosted::DynThing;
use crate::server::invocations::Invocation;
use crate::server::security::auth::Scope;
use crate::table::Affordance;

/// The members of a request that operations use.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Request {
    #[serde(rename = "thingID")]
    thing_id: Option<Value>,
    operation: Option<String>,
    name: Option<String>,
    #[serde(rename = "correlationID")]
    correlation_id: Option<Value>,
    /// `writeproperty`: the new value (`null` is a value).
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
    /// `readmultipleproperties`: the names to read.
    names: Option<Vec<String>>,
    /// `invokeaction`: the input (`null` is an input).
    #[serde(default, deserialize_with = "present")]
    input: Option<Value>,
    /// `invokeaction`: answer once the action has ended.
    synchronous: Option<bool>,
    /// `invokeaction` (an extension): notify each change of the invocation's status.
    observe: Option<bool>,
    /// `queryaction`, `cancelaction`: the invocation.
    #[serde(rename = "actionID")]
    action_id: Option<String>,
    /// `observe…`, `subscribe…`: the last notification the client saw.
    #[serde(rename = "lastNotificationID")]
    last_notification_id: Option<String>,
}

/// A member that is present, even as `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

impl Request {
    /// What identifies a message, whatever else is wrong with it: an error about it can still
    /// be correlated.
    fn identity(message: &Map<String, Value>) -> Self {
        Self {
            thing_id: message.get("thingID").cloned(),
            operation: message
                .get("operation")
                .and_then(Value::as_str)
                .map(str::to_owned),
            correlation_id: message.get("correlationID").cloned(),
            ..Self::default()
        }
    }

    /// Parse a request, or explain what is wrong with it.
    fn parse(message: Map<String, Value>) -> Result<Self, String> {
        serde_json::from_value(Value::Object(message))
            .map_err(|e| format!("the request is malformed: {e}"))
    }

    /// The `correlationID` as JSON text, for notifications.
    fn correlation(&self) -> Option<Box<str>> {
        self.correlation_id
            .as_ref()
            .map(|c| c.to_string().into_boxed_str())
    }
}

/// A request, and the Thing it is about.
struct Call<'c> {
    context: &'c Arc<Context>,
    request: Request,
    view: usize,
}

impl Call<'_> {
    fn view(&self) -> &Arc<ThingView> {
        &self.context.views[self.view]
    }

    fn thing(&self) -> &Arc<dyn DynThing> {
        &self.view().thing
    }

    fn reply(&self, body: Map<String, Value>) {
        self.context
            .send(response(self.context, self.view, &self.request, body));
    }

    fn fail(&self, problem: &Problem) {
        let name = self.request.name.as_deref();
        self.context
            .send(error(self.context, &self.request, name, problem));
    }
}

/// Handle a message whose `messageType` is `request`.
pub(crate) fn request(context: &Arc<Context>, message: Map<String, Value>) -> Dispatch {
    let identity = Request::identity(&message);
    let request = match Request::parse(message) {
        Ok(request) => request,
        Err(detail) => {
            context.send(error(
                context,
                &identity,
                None,
                &Problem::bad_request(detail),
            ));
            return Dispatch::Done;
        }
    };
    let Some(operation) = request.operation.clone() else {
        let problem = Problem::bad_request("a request needs an 'operation'");
        context.send(error(context, &request, None, &problem));
        return Dispatch::Done;
    };
    let checked =
        permitted(context, &operation).and_then(|()| context.view(request.thing_id.as_ref()));
    let view = match checked {
        Ok(view) => view,
        Err(problem) => {
            let name = request.name.as_deref();
            context.send(error(context, &request, name, &problem));
            return Dispatch::Done;
        }
    };
    let call = Call {
        context,
        request,
        view,
    };
    let answered = match operation.as_str() {
        "readproperty" => return later(call, read_property),
        "writeproperty" => return later(call, write_property),
        "readallproperties" => return later(call, read_all_properties),
        "readmultipleproperties" => return later(call, read_multiple_properties),
        "observeproperty" => observe_property(&call),
        "unobserveproperty" => unobserve_property(&call),
        "observeallproperties" => observe_all_properties(&call),
        "unobserveallproperties" => unobserve_all_properties(&call),
        "subscribeevent" => subscribe_event(&call),
        "unsubscribeevent" => unsubscribe_event(&call),
        "subscribeallevents" => subscribe_all_events(&call),
        "unsubscribeallevents" => unsubscribe_all_events(&call),
        "invokeaction" => invoke_action(&call),
        "queryaction" => query_action(&call),
        "cancelaction" => cancel_action(&call),
        "queryallactions" => query_all_actions(&call),
        other => Err(Problem::bad_request(format!("unknown operation '{other}'"))),
    };
    if let Err(problem) = answered {
        call.fail(&problem);
    }
    Dispatch::Done
}

/// Whether the client's token allows `operation`: those that change state need `operate`.
fn permitted(context: &Context, operation: &str) -> Result<(), Problem> {
    let needed = match operation {
        "writeproperty" | "invokeaction" | "cancelaction" => Scope::Operate,
        _ => Scope::Observe,
    };
    if context.granted.allows(needed) {
        return Ok(());
    }
    Err(Problem::new(
        403,
        format!(
            "the token's scope `observe` does not allow '{operation}'; it needs `{}`",
            needed.as_str()
        ),
    ))
}

/// An operation that runs device code: answered when it completes.
fn later<F>(
    call: Call<'_>,
    operation: impl FnOnce(Arc<Context>, usize, Arc<Request>) -> F,
) -> Dispatch
where
    F: Future<Output = Result<Map<String, Value>, Problem>> + Send + 'static,
{
    let (context, view) = (call.context.clone(), call.view);
    let request = Arc::new(call.request);
    let future = operation(context.clone(), view, request.clone());
    Dispatch::Later(Box::pin(async move {
        let text = match future.await {
            Ok(body) => response(&context, view, &request, body),
            Err(problem) => error(&context, &request, request.name.as_deref(), &problem),
        };
        context.send(text);
    }))
}

fn members<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

// ---- properties ------------------------------------------------------------------------

async fn read_property(
    context: Arc<Context>,
    view: usize,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let thing = &context.views[view].thing;
    let (name, index) = property(thing, request.name.as_deref())?;
    let value = read(&context, thing, index).await?;
    Ok(members([("name", name.into()), ("value", value)]))
}

async fn write_property(
    context: Arc<Context>,
    view: usize,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let thing = &context.views[view].thing;
    let (name, index) = property(thing, request.name.as_deref())?;
    let value = request
        .value
        .clone()
        .ok_or_else(|| Problem::bad_request("'writeproperty' needs a 'value'"))?;
    if !thing.writable(index) {
        return Err(Problem::new(403, format!("property '{name}' is read-only")));
    }
    thing
        .write(index, value)
        .resolve(&context.state.device)
        .await?;
    Ok(members([("name", name.into())]))
}

async fn read_all_properties(
    context: Arc<Context>,
    view: usize,
    _request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let thing = &context.views[view].thing;
    let mut values = Map::new();
    for index in 0..thing.property_count() {
        if thing.readable(index) {
            let name = thing.property_name(index);
            values.insert(name.into(), read(&context, thing, index).await?);
        }
    }
    Ok(members([("values", values.into())]))
}

async fn read_multiple_properties(
    context: Arc<Context>,
    view: usize,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let thing = &context.views[view].thing;
    let names = request.names.as_ref().ok_or_else(|| {
        Problem::bad_request("'readmultipleproperties' needs 'names', an array of property names")
    })?;
    let mut values = Map::new();
    for name in names {
        let (name, index) = property(thing, Some(name))?;
        if values.contains_key(name) {
            continue;
        }
        values.insert(name.to_owned(), read(&context, thing, index).await?);
    }
    Ok(members([("values", values.into())]))
}

/// The members a subscribing response adds when the request gave `lastNotificationID`:
/// whether the notifications after it follow, and if not, why.
fn resumed_members(body: &mut Map<String, Value>, resumed: Option<&Resumed>) {
    let Some(resumed) = resumed else { return };
    body.insert("resumed".into(), resumed.is_ok().into());
    if let Err(why) = resumed {
        let detail = match why {
            Unresumable::Unknown => {
                "'lastNotificationID' names no notification of this Thing in this run of the server: what was missed cannot be told; the current values follow"
            }
            Unresumable::Expired => {
                "the notifications after 'lastNotificationID' are no longer all kept: what was missed cannot be told; the current values follow"
            }
        };
        body.insert("resumeDetail".into(), detail.into());
    }
}

/// Subscribe `targets` for a request, replying with `body` (and whether it resumed).
fn subscribe(
    call: &Call<'_>,
    targets: &[Target],
    operation: &'static str,
    current: bool,
    body: Map<String, Value>,
) {
    let format = Format::Wtp {
        operation,
        correlation: call.request.correlation(),
    };
    let last = call.request.last_notification_id.as_deref();
    call.context.subscribe(
        call.view,
        targets,
        &format,
        current,
        last,
        |resumed, so_far| {
            let mut body = body;
            resumed_members(&mut body, resumed);
            if let Some(id) = so_far {
                // Where to resume from, for a client that has no notification yet.
                body.insert("lastNotificationID".into(), id.into());
            }
            Some(response(call.context, call.view, &call.request, body))
        },
    );
}

fn observe_property(call: &Call<'_>) -> Result<(), Problem> {
    let (name, index) = property(call.thing(), call.request.name.as_deref())?;
    if !call.thing().observable(index) {
        return Err(not_observable(name));
    }
    // The current value follows the response, so that a change made between a read and the
    // subscription cannot be missed.
    let body = members([("name", name.into())]);
    subscribe(
        call,
        &[Target::Property(index)],
        "observeproperty",
        true,
        body,
    );
    Ok(())
}

fn unobserve_property(call: &Call<'_>) -> Result<(), Problem> {
    let (name, index) = property(call.thing(), call.request.name.as_deref())?;
    call.context
        .unsubscribe(call.view, &[Target::Property(index)]);
    call.reply(members([("name", name.into())]));
    Ok(())
}

fn observable_properties(thing: &dyn DynThing) -> Vec<Target> {
    (0..thing.property_count())
        .filter(|&index| thing.observable(index))
        .map(Target::Property)
        .collect()
}

fn observe_all_properties(call: &Call<'_>) -> Result<(), Problem> {
    let targets = observable_properties(&**call.thing());
    // The draft: one notification per property that changes.
    subscribe(call, &targets, "observeallproperties", false, Map::new());
    Ok(())
}

fn unobserve_all_properties(call: &Call<'_>) -> Result<(), Problem> {
    let targets = observable_properties(&**call.thing());
    call.context.unsubscribe(call.view, &targets);
    call.reply(Map::new());
    Ok(())
}

// ---- events ----------------------------------------------------------------------------

fn subscribe_event(call: &Call<'_>) -> Result<(), Problem> {
    let (name, index) = event(call.thing(), call.request.name.as_deref())?;
    let body = members([("name", name.into())]);
    subscribe(call, &[Target::Event(index)], "subscribeevent", false, body);
    Ok(())
}

fn unsubscribe_event(call: &Call<'_>) -> Result<(), Problem> {
    let (name, index) = event(call.thing(), call.request.name.as_deref())?;
    call.context.unsubscribe(call.view, &[Target::Event(index)]);
    call.reply(members([("name", name.into())]));
    Ok(())
}

fn all_events(thing: &dyn DynThing) -> Vec<Target> {
    (0..thing.event_count()).map(Target::Event).collect()
}

fn subscribe_all_events(call: &Call<'_>) -> Result<(), Problem> {
    let targets = all_events(&**call.thing());
    subscribe(call, &targets, "subscribeallevents", false, Map::new());
    Ok(())
}

fn unsubscribe_all_events(call: &Call<'_>) -> Result<(), Problem> {
    let targets = all_events(&**call.thing());
    call.context.unsubscribe(call.view, &targets);
    call.reply(Map::new());
    Ok(())
}

/// The property a request names, with its index.
fn property<'n>(
    thing: &Arc<dyn DynThing>,
    name: Option<&'n str>,
) -> Result<(&'n str, usize), Problem> {
    let name = name.ok_or_else(|| Problem::bad_request("the request needs a 'name'"))?;
    match thing.lookup(name) {
        Some(Affordance::Property(index)) => Ok((name, index)),
        _ => Err(Problem::not_found(format!(
            "No property found with the name '{name}'."
        ))),
    }
}

/// The event a request names, with its index.
fn event<'n>(
    thing: &Arc<dyn DynThing>,
    name: Option<&'n str>,
) -> Result<(&'n str, usize), Problem> {
    let name = name.ok_or_else(|| Problem::bad_request("the request needs a 'name'"))?;
    match thing.lookup(name) {
        Some(Affordance::Event(index)) => Ok((name, index)),
        _ => Err(Problem::not_found(format!(
            "No event found with the name '{name}'."
        ))),
    }
}

async fn read(
    context: &Context,
    thing: &Arc<dyn DynThing>,
    index: usize,
) -> Result<Value, Problem> {
    if !thing.readable(index) {
        let name = thing.property_name(index);
        return Err(Problem::new(
            403,
            format!("property '{name}' is write-only"),
        ));
    }
    let raw = thing.read(index).resolve(&context.state.device).await?;
    serde_json::from_str(raw.get())
        .map_err(|e| Problem::internal(format!("the value could not be read back: {e}")))
}

// ---- actions ---------------------------------------------------------------------------

fn invoke_action(call: &Call<'_>) -> Result<(), Problem> {
    let request = &call.request;
    let name = request
        .name
        .as_deref()
        .ok_or_else(|| Problem::bad_request("'invokeaction' needs a 'name'"))?;
    let thing = call.thing();
    let Some(Affordance::Action(index)) = thing.lookup(name) else {
        return Err(Problem::not_found(format!(
            "No action found with the name '{name}'."
        )));
    };
    let input = request.input.clone().unwrap_or(Value::Null);
    let input = thing.validate_input(index, input)?;
    let synchronous = request.synchronous == Some(true);
    let observe = request.observe == Some(true);
    let (context, view) = (call.context, call.view);
    let invocation = context.state.invocations.start_with(
        thing.clone(),
        index,
        input,
        // Before it runs: no status change can be missed.
        |invocation| {
            if synchronous || observe {
                let watch = Watch {
                    id: invocation.id(),
                    correlation: request.correlation(),
                    synchronous,
                };
                context.observe_action(view, index, Some(watch));
            }
            if !synchronous {
                let status = invocation.action_status();
                call.reply(members([("name", name.into()), ("status", status)]));
            }
        },
    )?;
    drop(invocation);
    Ok(())
}

/// The messages of an action status event for the invocations a connection watches: a
/// notification per change, or for a `synchronous` request one response once it ended.
/// Watches of ended invocations are removed.
pub(crate) fn invocation_messages(
    view: &ThingView,
    event: &Value,
    watches: &mut Vec<Watch>,
    out: &mut Vec<String>,
) {
    let Some(id) = event.get("id").and_then(Value::as_str) else {
        return;
    };
    let Some(at) = watches.iter().position(|w| w.id.to_string() == id) else {
        return;
    };
    let watch = &watches[at];
    let state = event.get("status").and_then(Value::as_str).unwrap_or("");
    let ended = matches!(state, "completed" | "error" | "cancelled");
    let name = event.get("action name").cloned().unwrap_or(Value::Null);
    let correlation = watch
        .correlation
        .as_deref()
        .and_then(|c| serde_json::from_str::<Value>(c).ok());
    let mut message = Map::new();
    message.insert("thingID".into(), view.thing_id.clone().into());
    message.insert("messageID".into(), uuid::Uuid::new_v4().to_string().into());
    if watch.synchronous {
        if !ended {
            return;
        }
        message.insert("messageType".into(), "response".into());
        message.insert("operation".into(), "invokeaction".into());
        message.insert("name".into(), name);
        match (state, event.get("error")) {
            ("completed", _) => {
                let output = event.get("output").cloned().unwrap_or(Value::Null);
                message.insert("output".into(), output);
            }
            (_, Some(problem)) => {
                message.insert("error".into(), wtp_error_value(problem));
            }
            _ => {}
        }
    } else {
        message.insert("messageType".into(), "notification".into());
        message.insert("operation".into(), "invokeaction".into());
        message.insert("name".into(), name);
        message.insert("status".into(), action_status_of(event));
    }
    if let Some(correlation) = correlation {
        message.insert("correlationID".into(), correlation);
    }
    message.insert("timestamp".into(), ActionContext::now_rfc3339().into());
    out.push(Value::Object(message).to_string());
    if ended {
        watches.remove(at);
    }
}

/// The Web Thing Protocol `ActionStatus` of a status event (see
/// [`Invocation::status_event`]).
fn action_status_of(event: &Value) -> Value {
    let mut status = Map::new();
    let get = |key: &str| event.get(key).filter(|v| !v.is_null()).cloned();
    if let Some(id) = get("id") {
        status.insert("actionID".into(), id);
    }
    let state = match event.get("status").and_then(Value::as_str) {
        Some("error") => "failed",
        Some(other) => other,
        None => "pending",
    };
    status.insert("state".into(), state.into());
    for (from, to) in [
        ("output", "output"),
        ("progress", "progress"),
        ("logged", "log"),
        ("timeRequested", "timeRequested"),
        ("timeCompleted", "timeEnded"),
    ] {
        if let Some(value) = get(from) {
            status.insert(to.into(), value);
        }
    }
    if let Some(problem) = get("error") {
        status.insert("error".into(), wtp_error_value(&problem));
    }
    Value::Object(status)
}

/// A problem (as invocations store it) with the Web Thing Protocol's error `type`.
fn wtp_error_value(problem: &Value) -> Value {
    let mut problem = problem.clone();
    if problem.get("type").and_then(Value::as_str) == Some("about:blank")
        && let Some(status) = problem.get("status").and_then(Value::as_u64)
    {
        problem["type"] =
            format!("https://w3c.github.io/web-thing-protocol/errors#{status}").into();
    }
    problem
}

fn query_action(call: &Call<'_>) -> Result<(), Problem> {
    let invocation = invocation(call)?;
    let status = invocation.action_status();
    call.reply(members([
        ("name", invocation.action.into()),
        ("status", status),
    ]));
    Ok(())
}

fn cancel_action(call: &Call<'_>) -> Result<(), Problem> {
    let invocation = invocation(call)?;
    call.context.state.invocations.cancel(&invocation)?;
    let id = invocation.id().to_string();
    call.reply(members([("actionID", id.into())]));
    Ok(())
}

fn query_all_actions(call: &Call<'_>) -> Result<(), Problem> {
    let mut statuses = Map::new();
    let state = &call.context.state;
    let mut all = state.invocations.list(None);
    all.reverse();
    let thing = call.thing().name();
    // The newest, at most a page's worth (the HTTP listing pages through all of them).
    let newest = all
        .iter()
        .filter(|i| i.thing == *thing)
        .take(state.limits.max_page);
    for invocation in newest {
        let list = statuses
            .entry(invocation.action.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(invocation.action_status());
        }
    }
    call.reply(members([("statuses", statuses.into())]));
    Ok(())
}

/// The invocation of this Thing that a request names.
fn invocation(call: &Call<'_>) -> Result<Arc<Invocation>, Problem> {
    let id = call
        .request
        .action_id
        .as_deref()
        .ok_or_else(|| Problem::bad_request("the request needs an 'actionID'"))?;
    call.context
        .state
        .invocations
        .get(id)
        .filter(|i| i.thing == *call.thing().name())
        .ok_or_else(|| Problem::not_found(format!("no action invocation has the id '{id}'")))
}

// ---- envelopes -------------------------------------------------------------------------

fn envelope<'a>(
    context: &'a Context,
    view: Option<usize>,
    request: &'a Request,
    body: Map<String, Value>,
) -> Response<'a> {
    // Without a `thingID` in the request: the connection's Thing (on the shared socket,
    // only when the request was routed to one).
    let own = || {
        let view = if context.shared { view } else { Some(0) };
        view.and_then(|v| context.views.get(v))
            .map_or(Value::Null, |v| v.thing_id.clone().into())
    };
    Response {
        thing_id: match &request.thing_id {
            Some(id) => std::borrow::Cow::Borrowed(id),
            None => std::borrow::Cow::Owned(own()),
        },
        message_id: uuid::Uuid::new_v4().to_string(),
        message_type: "response",
        operation: request.operation.as_deref(),
        name: None,
        correlation_id: request.correlation_id.as_ref(),
        body,
        error: None,
        timestamp: ActionContext::now_rfc3339(),
    }
}

/// A successful response to `request` about Thing `view`.
fn response(context: &Context, view: usize, request: &Request, body: Map<String, Value>) -> String {
    to_text(&envelope(context, Some(view), request, body))
}

/// An error response to `request` (`name`: the affordance it named).
pub(crate) fn error(
    context: &Context,
    request: &Request,
    name: Option<&str>,
    problem: &Problem,
) -> String {
    let mut out = envelope(context, None, request, Map::new());
    out.name = name;
    out.error = Some(WtpError::new(problem));
    to_text(&out)
}

/// A 400 error for a message without a known `messageType`, in the negotiated dialect.
pub(crate) fn bad_request_for(
    context: &Context,
    message: &Map<String, Value>,
    detail: &str,
) -> String {
    if !context.wtp_default && !context.shared {
        return context.bad_request(detail);
    }
    error(
        context,
        &Request::identity(message),
        None,
        &Problem::bad_request(detail),
    )
}
