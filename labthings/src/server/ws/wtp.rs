//! The W3C Web Thing Protocol: a request's `operation` names a function of this module.
//!
//! Every response echoes the request's `thingID` and `correlationID`; errors carry a problem
//! with a numeric `status`. Operations that run device code (reading and writing properties)
//! complete later, concurrently with the rest of the connection; the others are answered at
//! once, in order.

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use super::connection::{Command, Context, Dispatch, Format};
use super::labthings::not_observable;
use super::messages::{Response, WtpError, to_text};
use crate::context::ActionContext;
use crate::problem::Problem;
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
    /// `queryaction`, `cancelaction`: the invocation.
    #[serde(rename = "actionID")]
    action_id: Option<String>,
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
}

/// Handle a message whose `messageType` is `request`.
pub(crate) fn request(context: &Arc<Context>, message: Map<String, Value>) -> Dispatch {
    let identity = Request::identity(&message);
    let request = match Request::parse(message) {
        Ok(request) => request,
        Err(detail) => {
            let problem = Problem::bad_request(detail);
            return send(error(context, &identity, None, &problem));
        }
    };
    let Some(operation) = request.operation.clone() else {
        let problem = Problem::bad_request("a request needs an 'operation'");
        return send(error(context, &request, None, &problem));
    };
    if let Err(problem) = permitted(context, &operation) {
        return send(error(context, &request, request.name.as_deref(), &problem));
    }
    match operation.as_str() {
        "readproperty" => later(context, request, read_property),
        "writeproperty" => later(context, request, write_property),
        "readallproperties" => later(context, request, read_all_properties),
        "readmultipleproperties" => later(context, request, read_multiple_properties),
        "observeproperty" => now(context, &request, observe_property(context, &request)),
        "unobserveproperty" => now(context, &request, unobserve_property(context, &request)),
        "observeallproperties" => now(context, &request, observe_all_properties(context, &request)),
        "unobserveallproperties" => now(context, &request, unobserve_all_properties(context)),
        "invokeaction" => now(context, &request, invoke_action(context, &request)),
        "queryaction" => now(context, &request, query_action(context, &request)),
        "cancelaction" => now(context, &request, cancel_action(context, &request)),
        "queryallactions" => now(context, &request, query_all_actions(context)),
        other => {
            let problem = Problem::bad_request(format!("unknown operation '{other}'"));
            send(error(context, &request, None, &problem))
        }
    }
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

/// The commands of an operation answered at once, then its response (or its error).
type Answer = Result<(Vec<Command>, Map<String, Value>), Problem>;

fn now(context: &Context, request: &Request, answer: Answer) -> Dispatch {
    match answer {
        Ok((mut commands, body)) => {
            // The reply precedes the notifications of the subscriptions it announces (their
            // current values among them), and follows the end of those it ends.
            let at = commands
                .iter()
                .position(|c| matches!(c, Command::ObserveProperty { .. }))
                .unwrap_or(commands.len());
            commands.insert(at, Command::Send(response(context, request, body)));
            Dispatch::Now(commands)
        }
        Err(problem) => send(error(context, request, request.name.as_deref(), &problem)),
    }
}

fn later<F>(
    context: &Arc<Context>,
    request: Request,
    operation: impl FnOnce(Arc<Context>, Arc<Request>) -> F,
) -> Dispatch
where
    F: Future<Output = Result<Map<String, Value>, Problem>> + Send + 'static,
{
    let request = Arc::new(request);
    let future = operation(context.clone(), request.clone());
    let context = context.clone();
    Dispatch::Later(Box::pin(async move {
        let text = match future.await {
            Ok(body) => response(&context, &request, body),
            Err(problem) => error(&context, &request, request.name.as_deref(), &problem),
        };
        vec![Command::Send(text)]
    }))
}

fn send(text: String) -> Dispatch {
    Dispatch::Now(vec![Command::Send(text)])
}

fn members<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

// ---- properties ------------------------------------------------------------------------

async fn read_property(
    context: Arc<Context>,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let (name, index) = property(&context, request.name.as_deref())?;
    let value = read(&context, index).await?;
    Ok(members([("name", name.into()), ("value", value)]))
}

async fn write_property(
    context: Arc<Context>,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let (name, index) = property(&context, request.name.as_deref())?;
    let value = request
        .value
        .clone()
        .ok_or_else(|| Problem::bad_request("'writeproperty' needs a 'value'"))?;
    if !context.thing.writable(index) {
        return Err(Problem::new(403, format!("property '{name}' is read-only")));
    }
    context
        .thing
        .write(index, value)
        .resolve(&context.state.device)
        .await?;
    Ok(members([("name", name.into())]))
}

async fn read_all_properties(
    context: Arc<Context>,
    _request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let mut values = Map::new();
    for index in 0..context.thing.property_count() {
        if context.thing.readable(index) {
            let name = context.thing.property_name(index);
            values.insert(name.into(), read(&context, index).await?);
        }
    }
    Ok(members([("values", values.into())]))
}

async fn read_multiple_properties(
    context: Arc<Context>,
    request: Arc<Request>,
) -> Result<Map<String, Value>, Problem> {
    let names = request.names.as_ref().ok_or_else(|| {
        Problem::bad_request("'readmultipleproperties' needs 'names', an array of property names")
    })?;
    let mut values = Map::new();
    for name in names {
        let (name, index) = property(&context, Some(name))?;
        if values.contains_key(name) {
            continue;
        }
        values.insert(name.to_owned(), read(&context, index).await?);
    }
    Ok(members([("values", values.into())]))
}

fn observe_property(context: &Context, request: &Request) -> Answer {
    let (name, index) = property(context, request.name.as_deref())?;
    if !context.thing.observable(index) {
        return Err(not_observable(name));
    }
    // The current value follows the response, so that a change made between a read and the
    // subscription cannot be missed.
    let observe = Command::ObserveProperty {
        index,
        format: format(request),
        with_current: true,
    };
    Ok((vec![observe], members([("name", name.into())])))
}

fn unobserve_property(context: &Context, request: &Request) -> Answer {
    let (name, index) = property(context, request.name.as_deref())?;
    Ok((
        vec![Command::UnobserveProperty { index }],
        members([("name", name.into())]),
    ))
}

fn observe_all_properties(context: &Context, request: &Request) -> Answer {
    let commands = (0..context.thing.property_count())
        .filter(|&index| context.thing.observable(index))
        .map(|index| Command::ObserveProperty {
            index,
            format: format(request),
            // The draft: one notification per property that changes.
            with_current: false,
        })
        .collect();
    Ok((commands, Map::new()))
}

fn unobserve_all_properties(context: &Context) -> Answer {
    let commands = (0..context.thing.property_count())
        .map(|index| Command::UnobserveProperty { index })
        .collect();
    Ok((commands, Map::new()))
}

/// Notifications of a subscription carry the `correlationID` of the request that made it.
fn format(request: &Request) -> Format {
    Format::Wtp {
        correlation: request
            .correlation_id
            .as_ref()
            .map(|c| c.to_string().into_boxed_str()),
    }
}

/// The property a request names, with its index.
fn property<'n>(context: &Context, name: Option<&'n str>) -> Result<(&'n str, usize), Problem> {
    let name = name.ok_or_else(|| Problem::bad_request("the request needs a 'name'"))?;
    match context.thing.lookup(name) {
        Some(Affordance::Property(index)) => Ok((name, index)),
        _ => Err(Problem::not_found(format!(
            "No property found with the name '{name}'."
        ))),
    }
}

async fn read(context: &Context, index: usize) -> Result<Value, Problem> {
    if !context.thing.readable(index) {
        let name = context.thing.property_name(index);
        return Err(Problem::new(
            403,
            format!("property '{name}' is write-only"),
        ));
    }
    let raw = context
        .thing
        .read(index)
        .resolve(&context.state.device)
        .await?;
    serde_json::from_str(raw.get())
        .map_err(|e| Problem::internal(format!("the value could not be read back: {e}")))
}

// ---- actions ---------------------------------------------------------------------------

fn invoke_action(context: &Context, request: &Request) -> Answer {
    let name = request
        .name
        .as_deref()
        .ok_or_else(|| Problem::bad_request("'invokeaction' needs a 'name'"))?;
    let Some(Affordance::Action(index)) = context.thing.lookup(name) else {
        return Err(Problem::not_found(format!(
            "No action found with the name '{name}'."
        )));
    };
    let input = request.input.clone().unwrap_or(Value::Null);
    let input = context.thing.validate_input(index, input)?;
    let invocation = context
        .state
        .invocations
        .start(context.thing.clone(), index, input)?;
    let status = invocation.action_status();
    Ok((
        Vec::new(),
        members([("name", name.into()), ("status", status)]),
    ))
}

fn query_action(context: &Context, request: &Request) -> Answer {
    let invocation = invocation(context, request)?;
    let status = invocation.action_status();
    Ok((
        Vec::new(),
        members([("name", invocation.action.into()), ("status", status)]),
    ))
}

fn cancel_action(context: &Context, request: &Request) -> Answer {
    let invocation = invocation(context, request)?;
    context.state.invocations.cancel(&invocation)?;
    let id = invocation.id().to_string();
    Ok((Vec::new(), members([("actionID", id.into())])))
}

fn query_all_actions(context: &Context) -> Answer {
    let mut statuses = Map::new();
    let mut all = context.state.invocations.list(None);
    all.reverse();
    // The newest, at most a page's worth (the HTTP listing pages through all of them).
    let newest = all
        .iter()
        .filter(|i| i.thing == *context.thing.name())
        .take(context.state.limits.max_page);
    for invocation in newest {
        let list = statuses
            .entry(invocation.action.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = list {
            list.push(invocation.action_status());
        }
    }
    Ok((Vec::new(), members([("statuses", statuses.into())])))
}

/// The invocation of this Thing that a request names.
fn invocation(context: &Context, request: &Request) -> Result<Arc<Invocation>, Problem> {
    let id = request
        .action_id
        .as_deref()
        .ok_or_else(|| Problem::bad_request("the request needs an 'actionID'"))?;
    context
        .state
        .invocations
        .get(id)
        .filter(|i| i.thing == *context.thing.name())
        .ok_or_else(|| Problem::not_found(format!("no action invocation has the id '{id}'")))
}

// ---- envelopes -------------------------------------------------------------------------

fn envelope<'a>(
    context: &'a Context,
    request: &'a Request,
    body: Map<String, Value>,
) -> Response<'a> {
    Response {
        thing_id: match &request.thing_id {
            Some(id) => std::borrow::Cow::Borrowed(id),
            None => std::borrow::Cow::Owned(context.thing_id.clone().into()),
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

/// A successful response to `request`.
fn response(context: &Context, request: &Request, body: Map<String, Value>) -> String {
    to_text(&envelope(context, request, body))
}

/// An error response to `request` (`name`: the affordance it named).
pub(crate) fn error(
    context: &Context,
    request: &Request,
    name: Option<&str>,
    problem: &Problem,
) -> String {
    let mut out = envelope(context, request, Map::new());
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
    if !context.wtp_default {
        return context.bad_request(detail);
    }
    error(
        context,
        &Request::identity(message),
        None,
        &Problem::bad_request(detail),
    )
}
