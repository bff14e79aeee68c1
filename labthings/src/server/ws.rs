//! The WebSocket endpoint `/{thing}/ws`: the LabThings dialect and the W3C Web Thing
//! Protocol on one socket.
//!
//! A message whose `messageType` is `request` is Web Thing Protocol; any other message is the
//! LabThings dialect (`addPropertyObservation`, `addActionObservation`). Unparseable messages
//! are answered in the dialect the client negotiated (`webthingprotocol` subprotocol or none).
//! Bad input is answered with an error `response`; the socket stays open.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde_json::{Map, Value, json};

use crate::broker::{Delivery, Mailbox, MailboxLimits};
use crate::context::ActionContext;
use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::hosted::DynThing;
use crate::server::http::origin;
use crate::server::invocations::Invocation;
use crate::table::Affordance;
use crate::td::WEB_THING_PROTOCOL;

/// Limits of WebSocket connections.
#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    /// Largest message answered normally (default 1 MiB); larger ones get a 400 error
    /// response. Frames beyond 16 times this close the connection at the transport level.
    pub max_message: usize,
    /// Property changes queued per connection before they are coalesced.
    pub queue: usize,
    /// Action status events queued per connection before it is closed as too slow.
    pub max_events: usize,
}

impl Default for WsLimits {
    fn default() -> Self {
        let mailbox = MailboxLimits::default();
        Self {
            max_message: 1 << 20,
            queue: mailbox.queue,
            max_events: mailbox.max_events,
        }
    }
}

pub(crate) async fn upgrade(
    State(state): State<Arc<ServerState>>,
    Path(thing): Path<String>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let entry = match state.lookup_thing(&thing) {
        Ok(entry) => entry,
        Err(problem) => return problem.into_response(),
    };
    let origin = origin(&headers);
    let connection = Connection {
        thing_id: format!("{origin}{}/{thing}/", state.prefix),
        origin,
        thing: entry.thing.clone(),
        thing_name: entry.name.clone(),
        mailbox: Mailbox::new(MailboxLimits {
            queue: state.ws.queue,
            max_events: state.ws.max_events,
        }),
        slots: Vec::new(),
        names_json: entry.names_json.clone(),
        wtp_default: false,
        state: state.clone(),
    };
    let hard_limit = state.ws.max_message.saturating_mul(16);
    ws.protocols([WEB_THING_PROTOCOL])
        // A small read buffer keeps an idle connection cheap (it is zeroed when allocated);
        // it grows to the size of each larger message as it arrives.
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| connection.run(socket))
}

/// How notifications of one slot are formatted.
#[derive(Clone)]
enum Format {
    LabThings,
    /// With the request's `correlationID`, as JSON text.
    Wtp {
        correlation: Option<Box<str>>,
    },
}

struct Connection {
    state: Arc<ServerState>,
    thing: Arc<dyn DynThing>,
    thing_name: Arc<str>,
    thing_id: String,
    origin: String,
    mailbox: Arc<Mailbox>,
    /// The property names as JSON strings, for notifications.
    names_json: Arc<[Box<str>]>,
    /// Slot `i < property_count` is property `i`; the following slots are the actions.
    /// Empty until the first subscription, so that idle connections stay small.
    slots: Vec<Option<Format>>,
    wtp_default: bool,
}

enum Outcome {
    Continue,
    Close,
}

impl Connection {
    async fn run(mut self, mut socket: WebSocket) {
        self.wtp_default = socket
            .protocol()
            .is_some_and(|p| p.as_bytes() == WEB_THING_PROTOCOL.as_bytes());
        let shutdown = self.state.invocations.shutdown.clone();
        let mut batch = Vec::new();
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = socket.send(close(1001, "the server is shutting down")).await;
                    Outcome::Close
                }
                message = socket.recv() => match message {
                    // Boxed: the request handling future is large, and an idle connection
                    // should not carry it.
                    Some(Ok(message)) => Box::pin(self.on_message(&mut socket, message)).await,
                    _ => Outcome::Close,
                },
                open = self.mailbox.recv_many(&mut batch) => {
                    if open {
                        self.deliver(&mut socket, &mut batch).await
                    } else {
                        let _ = socket
                            .send(close(1008, "the client read too slowly: action status events overflowed"))
                            .await;
                        Outcome::Close
                    }
                }
            };
            if matches!(outcome, Outcome::Close) {
                break;
            }
        }
        self.unsubscribe_all();
    }

    async fn deliver(&mut self, socket: &mut WebSocket, batch: &mut Vec<Delivery>) -> Outcome {
        for delivery in batch.drain(..) {
            let text = match delivery {
                Delivery::Property(slot, value) => self.property_notification(slot, &value),
                Delivery::Event(_, event) => self.action_notification(&event),
            };
            if let Some(text) = text
                && socket.feed(Message::text(text)).await.is_err()
            {
                return Outcome::Close;
            }
        }
        if socket.flush().await.is_err() {
            return Outcome::Close;
        }
        Outcome::Continue
    }

    fn property_notification(&self, slot: u32, value: &str) -> Option<String> {
        let index = slot as usize;
        let name = &self.names_json[index];
        match self.slots.get(index)?.as_ref()? {
            Format::LabThings => Some(property_status(name, value)),
            Format::Wtp { correlation } => Some(property_notification(
                &json_string(&self.thing_id),
                name,
                value,
                correlation.as_deref(),
            )),
        }
    }

    fn action_notification(&self, event: &str) -> Option<String> {
        let mut data: Value = serde_json::from_str(event).ok()?;
        if let Some(href) = data.get("href").and_then(Value::as_str) {
            data["href"] = format!("{}{href}", self.origin).into();
        }
        Some(json!({"messageType": "actionStatus", "data": data}).to_string())
    }

    async fn on_message(&mut self, socket: &mut WebSocket, message: Message) -> Outcome {
        let replies = match message {
            Message::Text(text) => self.on_text(text.as_str()).await,
            Message::Binary(_) => vec![self.bad_request(
                None,
                "binary frames are not supported: send JSON text frames",
            )],
            Message::Close(_) => return Outcome::Close,
            Message::Ping(_) | Message::Pong(_) => Vec::new(),
        };
        for reply in replies {
            if socket.feed(Message::text(reply)).await.is_err() {
                return Outcome::Close;
            }
        }
        if socket.flush().await.is_err() {
            return Outcome::Close;
        }
        Outcome::Continue
    }

    async fn on_text(&mut self, text: &str) -> Vec<String> {
        if text.len() > self.state.ws.max_message {
            let detail = format!(
                "the message has {} bytes, more than the limit of {} bytes",
                text.len(),
                self.state.ws.max_message
            );
            return vec![self.bad_request(None, &detail)];
        }
        let message = match parse_message(text) {
            Ok(message) => message,
            Err(detail) => return vec![self.bad_request(None, &detail)],
        };
        match message.get("messageType").and_then(Value::as_str) {
            Some("request") => vec![self.wtp(&message).await],
            Some(kind @ ("addPropertyObservation" | "addActionObservation")) => {
                let kind = kind.to_owned();
                self.labthings_observe(&kind, message.get("data"))
            }
            Some(other) => {
                let detail = format!(
                    "unknown messageType '{other}': expected 'addPropertyObservation', 'addActionObservation' or 'request'"
                );
                vec![self.bad_request_in(&message, &detail)]
            }
            None => vec![self.bad_request_in(&message, "the message has no 'messageType'")],
        }
    }

    /// A 400 error for a message that could not be understood.
    fn bad_request(&self, message: Option<&Map<String, Value>>, detail: &str) -> String {
        let problem = Problem::bad_request(detail);
        if self.wtp_default {
            let (op, correlation) = match message {
                Some(m) => (
                    m.get("operation").and_then(Value::as_str),
                    m.get("correlationID"),
                ),
                None => (None, None),
            };
            self.wtp_error(op, None, correlation, message, &problem)
        } else {
            labthings_error(None, None, &problem, "bad-request")
        }
    }

    fn bad_request_in(&self, message: &Map<String, Value>, detail: &str) -> String {
        self.bad_request(Some(message), detail)
    }

    // ---- LabThings dialect -------------------------------------------------------------

    fn labthings_observe(&mut self, kind: &str, data: Option<&Value>) -> Vec<String> {
        let properties = kind == "addPropertyObservation";
        let operation = if properties {
            "observeproperty"
        } else {
            "observeaction"
        };
        let Some(Value::Object(names)) = data else {
            let problem = Problem::bad_request(format!(
                "'{kind}' needs 'data': an object whose keys are the names to observe"
            ));
            return vec![labthings_error(
                Some(operation),
                None,
                &problem,
                "bad-request",
            )];
        };
        let mut replies = Vec::new();
        for name in names.keys() {
            let result = if properties {
                self.observe_property(name, Format::LabThings)
            } else {
                self.observe_action(name)
            };
            if let Err((problem, kind)) = result {
                replies.push(labthings_error(Some(operation), Some(name), &problem, kind));
            }
        }
        replies
    }

    fn observe_property(
        &mut self,
        name: &str,
        format: Format,
    ) -> Result<(), (Problem, &'static str)> {
        let Some(Affordance::Property(i)) = self.thing.lookup(name) else {
            return Err((
                Problem::not_found(format!("No property found with the name '{name}'.")),
                "not-found",
            ));
        };
        let Some(topic) = self.thing.property_topic(i) else {
            return Err((
                Problem::new(403, format!("Property '{name}' is not observable.")).with_type(
                    "https://w3c.github.io/web-thing-protocol/errors#not-observable",
                    "Not Observable",
                ),
                "not-observable",
            ));
        };
        topic.subscribe(&self.mailbox, i as u32);
        *self.slot(i) = Some(format);
        Ok(())
    }

    fn observe_action(&mut self, name: &str) -> Result<(), (Problem, &'static str)> {
        let Some(Affordance::Action(i)) = self.thing.lookup(name) else {
            return Err((
                Problem::not_found(format!("No action found with the name '{name}'.")),
                "not-found",
            ));
        };
        let slot = self.thing.property_count() + i;
        self.thing
            .action_topic(i)
            .subscribe(&self.mailbox, slot as u32);
        *self.slot(slot) = Some(Format::LabThings);
        Ok(())
    }

    /// The format of `slot`, allocating the slot table on first use.
    fn slot(&mut self, slot: usize) -> &mut Option<Format> {
        if self.slots.is_empty() {
            self.slots = vec![None; self.thing.property_count() + self.thing.action_count()];
        }
        &mut self.slots[slot]
    }

    fn unobserve_property(&mut self, index: usize) {
        if let Some(topic) = self.thing.property_topic(index) {
            topic.unsubscribe(&self.mailbox);
        }
        if let Some(slot) = self.slots.get_mut(index) {
            *slot = None;
        }
    }

    fn unsubscribe_all(&mut self) {
        let properties = self.thing.property_count();
        for slot in 0..self.slots.len() {
            if self.slots[slot].take().is_none() {
                continue;
            }
            if slot < properties {
                if let Some(topic) = self.thing.property_topic(slot) {
                    topic.unsubscribe(&self.mailbox);
                }
            } else {
                self.thing
                    .action_topic(slot - properties)
                    .unsubscribe(&self.mailbox);
            }
        }
        self.mailbox.close();
    }

    // ---- Web Thing Protocol ------------------------------------------------------------

    async fn wtp(&mut self, m: &Map<String, Value>) -> String {
        let correlation = m.get("correlationID").cloned();
        let Some(operation) = m.get("operation").and_then(Value::as_str) else {
            let problem = Problem::bad_request("a request needs an 'operation'");
            return self.wtp_error(None, None, correlation.as_ref(), Some(m), &problem);
        };
        let name = m.get("name").and_then(Value::as_str);
        match self
            .wtp_operation(operation, name, m, correlation.clone())
            .await
        {
            Ok(fields) => self.wtp_response(operation, m, correlation.as_ref(), fields),
            Err(problem) => self.wtp_error(
                Some(operation),
                name,
                correlation.as_ref(),
                Some(m),
                &problem,
            ),
        }
    }

    async fn wtp_operation(
        &mut self,
        operation: &str,
        name: Option<&str>,
        m: &Map<String, Value>,
        correlation: Option<Value>,
    ) -> Result<Map<String, Value>, Problem> {
        let mut out = Map::new();
        match operation {
            "readproperty" => {
                let (name, i) = self.property_named(name)?;
                out.insert("name".into(), name.into());
                out.insert("value".into(), self.read(i).await?);
            }
            "writeproperty" => {
                let (name, i) = self.property_named(name)?;
                let value = m
                    .get("value")
                    .cloned()
                    .ok_or_else(|| Problem::bad_request("'writeproperty' needs a 'value'"))?;
                if !self.thing.writable(i) {
                    return Err(Problem::new(403, format!("property '{name}' is read-only")));
                }
                self.thing.write(i, value).resolve().await?;
                out.insert("name".into(), name.into());
            }
            "readallproperties" => {
                let mut values = Map::new();
                for i in 0..self.thing.property_count() {
                    if self.thing.readable(i) {
                        values.insert(self.thing.property_name(i).into(), self.read(i).await?);
                    }
                }
                out.insert("values".into(), values.into());
            }
            "readmultipleproperties" => {
                let names = m.get("names").and_then(Value::as_array).ok_or_else(|| {
                    Problem::bad_request(
                        "'readmultipleproperties' needs 'names', an array of property names",
                    )
                })?;
                let mut values = Map::new();
                for n in names {
                    let (name, i) = self.property_named(n.as_str())?;
                    values.insert(name.into(), self.read(i).await?);
                }
                out.insert("values".into(), values.into());
            }
            "observeproperty" => {
                let (name, i) = self.property_named(name)?;
                let correlation = correlation.map(|c| c.to_string().into_boxed_str());
                self.observe_property(name, Format::Wtp { correlation })
                    .map_err(|(p, _)| p)?;
                out.insert("name".into(), name.into());
                // The current value, so that no change between a read and the
                // subscription is missed.
                if self.thing.readable(i)
                    && let Ok(value) = self.read(i).await
                {
                    self.mailbox
                        .push_value(i as u32, Arc::from(value.to_string()));
                }
            }
            "unobserveproperty" => {
                let (name, i) = self.property_named(name)?;
                self.unobserve_property(i);
                out.insert("name".into(), name.into());
            }
            "observeallproperties" => {
                for i in 0..self.thing.property_count() {
                    if self.thing.property_topic(i).is_some() {
                        let name = self.thing.property_name(i);
                        self.observe_property(
                            name,
                            Format::Wtp {
                                correlation: correlation
                                    .as_ref()
                                    .map(|c| c.to_string().into_boxed_str()),
                            },
                        )
                        .map_err(|(p, _)| p)?;
                    }
                }
            }
            "unobserveallproperties" => {
                for i in 0..self.thing.property_count() {
                    self.unobserve_property(i);
                }
            }
            "invokeaction" => {
                let name =
                    name.ok_or_else(|| Problem::bad_request("'invokeaction' needs a 'name'"))?;
                let Some(Affordance::Action(i)) = self.thing.lookup(name) else {
                    return Err(Problem::not_found(format!(
                        "No action found with the name '{name}'."
                    )));
                };
                let input = m.get("input").cloned().unwrap_or(Value::Null);
                let input = self.thing.validate_input(i, input)?;
                let invocation = self.state.invocations.start(
                    self.thing.clone(),
                    self.thing_name.clone(),
                    i,
                    format!("{}/{}/{name}", self.state.prefix, self.thing_name),
                    input,
                );
                out.insert("name".into(), name.into());
                out.insert("status".into(), invocation.action_status());
            }
            "queryaction" => {
                let invocation = self.invocation(m)?;
                out.insert("name".into(), invocation.action.into());
                out.insert("status".into(), invocation.action_status());
            }
            "cancelaction" => {
                let invocation = self.invocation(m)?;
                self.state
                    .invocations
                    .cancel(&invocation)
                    .map_err(|status| {
                        Problem::new(
                            409,
                            format!(
                                "invocation '{}' is already {} and cannot be cancelled",
                                invocation.id(),
                                status.as_str()
                            ),
                        )
                    })?;
                out.insert("actionID".into(), invocation.id().to_string().into());
            }
            "queryallactions" => {
                let mut statuses: Map<String, Value> = Map::new();
                let mut all = self.state.invocations.list(None);
                all.reverse();
                for inv in all.iter().filter(|i| i.thing == self.thing_name) {
                    let list = statuses
                        .entry(inv.action.to_owned())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(list) = list {
                        list.push(inv.action_status());
                    }
                }
                out.insert("statuses".into(), statuses.into());
            }
            other => {
                return Err(Problem::bad_request(format!("unknown operation '{other}'")));
            }
        }
        Ok(out)
    }

    fn property_named<'n>(&self, name: Option<&'n str>) -> Result<(&'n str, usize), Problem> {
        let name = name.ok_or_else(|| Problem::bad_request("the request needs a 'name'"))?;
        match self.thing.lookup(name) {
            Some(Affordance::Property(i)) => Ok((name, i)),
            _ => Err(Problem::not_found(format!(
                "No property found with the name '{name}'."
            ))),
        }
    }

    async fn read(&self, index: usize) -> Result<Value, Problem> {
        if !self.thing.readable(index) {
            return Err(Problem::new(
                403,
                format!(
                    "property '{}' is write-only",
                    self.thing.property_name(index)
                ),
            ));
        }
        let raw = self.thing.read(index).resolve().await?;
        Ok(serde_json::from_str(raw.get()).unwrap_or(Value::Null))
    }

    fn invocation(&self, m: &Map<String, Value>) -> Result<Arc<Invocation>, Problem> {
        let id = m
            .get("actionID")
            .and_then(Value::as_str)
            .ok_or_else(|| Problem::bad_request("the request needs an 'actionID'"))?;
        self.state
            .invocations
            .get(id)
            .filter(|i| i.thing == self.thing_name)
            .ok_or_else(|| Problem::not_found(format!("no action invocation has the id '{id}'")))
    }

    fn envelope(
        &self,
        operation: Option<&str>,
        request: Option<&Map<String, Value>>,
        correlation: Option<&Value>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        let thing_id = request
            .and_then(|m| m.get("thingID"))
            .cloned()
            .unwrap_or_else(|| self.thing_id.clone().into());
        out.insert("thingID".into(), thing_id);
        out.insert("messageID".into(), uuid::Uuid::new_v4().to_string().into());
        out.insert("messageType".into(), "response".into());
        if let Some(op) = operation {
            out.insert("operation".into(), op.into());
        }
        if let Some(c) = correlation {
            out.insert("correlationID".into(), c.clone());
        }
        out
    }

    fn wtp_response(
        &self,
        operation: &str,
        request: &Map<String, Value>,
        correlation: Option<&Value>,
        fields: Map<String, Value>,
    ) -> String {
        let mut out = self.envelope(Some(operation), Some(request), correlation);
        out.extend(fields);
        out.insert("timestamp".into(), ActionContext::now_rfc3339().into());
        Value::Object(out).to_string()
    }

    fn wtp_error(
        &self,
        operation: Option<&str>,
        name: Option<&str>,
        correlation: Option<&Value>,
        request: Option<&Map<String, Value>>,
        problem: &Problem,
    ) -> String {
        let mut out = self.envelope(operation, request, correlation);
        if let Some(name) = name {
            out.insert("name".into(), name.into());
        }
        let kind = if problem.kind == "about:blank" {
            format!(
                "https://w3c.github.io/web-thing-protocol/errors#{}",
                problem.status
            )
        } else {
            problem.kind.to_string()
        };
        let mut error = json!({
            "status": problem.status,
            "type": kind,
            "title": problem.title,
            "detail": problem.detail,
        });
        if !problem.errors.is_empty() {
            error["errors"] = json!(problem.errors);
        }
        out.insert("error".into(), error);
        out.insert("timestamp".into(), ActionContext::now_rfc3339().into());
        Value::Object(out).to_string()
    }
}

/// Parse a client message: a JSON object, or a precise reason why not.
pub(crate) fn parse_message(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "a message must be a JSON object, not {}",
            crate::validate::json_kind(&other)
        )),
        Err(e) => Err(format!("the message is not valid JSON: {e}")),
    }
}

/// A LabThings `propertyStatus` message; `name` and `value` are JSON.
pub(crate) fn property_status(name: &str, value: &str) -> String {
    format!(r#"{{"messageType":"propertyStatus","data":{{{name}:{value}}}}}"#)
}

/// A Web Thing Protocol `observeproperty` notification; `thing_id`, `name` and `value` are
/// JSON.
pub(crate) fn property_notification(
    thing_id: &str,
    name: &str,
    value: &str,
    correlation: Option<&str>,
) -> String {
    let correlation = correlation
        .map(|c| format!(r#","correlationID":{c}"#))
        .unwrap_or_default();
    format!(
        r#"{{"thingID":{thing_id},"messageID":"{}","messageType":"notification","operation":"observeproperty","name":{name},"value":{value},"timestamp":"{}"{correlation}}}"#,
        uuid::Uuid::new_v4(),
        ActionContext::now_rfc3339(),
    )
}

/// An error `response` in the LabThings dialect (string `status`, as LabThings-FastAPI).
fn labthings_error(
    operation: Option<&str>,
    name: Option<&str>,
    problem: &Problem,
    kind: &str,
) -> String {
    let mut out = Map::new();
    out.insert("messageType".into(), "response".into());
    if let Some(op) = operation {
        out.insert("operation".into(), op.into());
    }
    if let Some(name) = name {
        out.insert("name".into(), name.into());
    }
    out.insert(
        "error".into(),
        json!({
            "status": problem.status.to_string(),
            "type": format!("https://w3c.github.io/web-thing-protocol/errors#{kind}"),
            "title": problem.title,
            "detail": problem.detail,
        }),
    );
    Value::Object(out).to_string()
}

pub(crate) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}
