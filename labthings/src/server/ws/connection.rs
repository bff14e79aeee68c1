//! One WebSocket connection: a reader that parses and answers requests, and a writer that owns
//! the socket's sending half.
//!
//! The socket is split (as axum's documentation shows) and both halves are driven at the same
//! time, by one task: reading goes on while a write waits for a slow client, and writing goes
//! on while a request waits for device code. A request that calls device code (reading or
//! writing a property) runs concurrently with the others, up to
//! [`WsLimits::max_in_flight`](super::WsLimits::max_in_flight) per socket, so a slow getter
//! delays neither notifications nor other requests. Everything the writer sends comes through
//! the connection's mailbox, in order: replies, property changes, action status events.

use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::messages::{close, property_notification, property_status};
use super::{labthings, wtp};
use crate::broker::{Delivery, Mailbox, MailboxLimits};
use crate::server::ServerState;
use crate::server::hosted::DynThing;
use crate::server::security::Granted;
use crate::table::BoxFuture;

/// What one connection knows of its Thing and its client.
pub(crate) struct Context {
    pub(crate) state: Arc<ServerState>,
    pub(crate) thing: Arc<dyn DynThing>,
    /// The Thing's identifier in Web Thing Protocol messages (the URL of its TD).
    pub(crate) thing_id: String,
    /// [`thing_id`](Self::thing_id) as a JSON string, for notifications.
    pub(crate) thing_id_json: String,
    /// The absolute URL of the server root as the client addressed it.
    pub(crate) origin: String,
    /// The property names as JSON strings, for notifications.
    pub(crate) names_json: Arc<[Box<str>]>,
    /// Whether the client negotiated the `webthingprotocol` subprotocol: unparseable
    /// messages are then answered in that dialect.
    pub(crate) wtp_default: bool,
    /// What the client's token allows.
    pub(crate) granted: Granted,
}

/// How the notifications of one subscription are formatted.
#[derive(Clone, Debug)]
pub(crate) enum Format {
    LabThings,
    /// With the subscribing request's `correlationID`, as JSON text.
    Wtp {
        correlation: Option<Box<str>>,
    },
}

/// Something to do for the client, in order.
pub(crate) enum Command {
    /// Send a message.
    Send(String),
    /// Subscribe to property `index`, queueing its current value first when `with_current`.
    ObserveProperty {
        index: usize,
        format: Format,
        with_current: bool,
    },
    /// Stop observing property `index`.
    UnobserveProperty { index: usize },
    /// Subscribe to the status changes of action `index` (LabThings dialect).
    ObserveAction { index: usize },
}

/// What handling one message produced.
pub(crate) enum Dispatch {
    /// Commands to run now, in order.
    Now(Vec<Command>),
    /// Commands that device code will produce.
    Later(BoxFuture<Vec<Command>>),
    /// The client closed the connection.
    Close,
}

impl Context {
    /// Handle one message from the client.
    fn dispatch(self: &Arc<Self>, message: Message) -> Dispatch {
        match message {
            Message::Text(text) => self.on_text(text.as_str()),
            Message::Binary(_) => Dispatch::Now(vec![Command::Send(
                self.bad_request("binary frames are not supported: send JSON text frames"),
            )]),
            Message::Close(_) => Dispatch::Close,
            Message::Ping(_) | Message::Pong(_) => Dispatch::Now(Vec::new()),
        }
    }

    fn on_text(self: &Arc<Self>, text: &str) -> Dispatch {
        let message = match super::parse_message(text) {
            Ok(message) => message,
            Err(detail) => return Dispatch::Now(vec![Command::Send(self.bad_request(&detail))]),
        };
        match message.get("messageType").and_then(|v| v.as_str()) {
            Some("request") => wtp::request(self, message),
            Some(kind @ ("addPropertyObservation" | "addActionObservation")) => {
                Dispatch::Now(labthings::observe(self, kind, message.get("data")))
            }
            Some(other) => {
                let detail = format!(
                    "unknown messageType '{other}': expected 'addPropertyObservation', 'addActionObservation' or 'request'"
                );
                Dispatch::Now(vec![Command::Send(wtp::bad_request_for(
                    self, &message, &detail,
                ))])
            }
            None => Dispatch::Now(vec![Command::Send(wtp::bad_request_for(
                self,
                &message,
                "the message has no 'messageType'",
            ))]),
        }
    }

    /// A 400 error for a message that could not be understood, in the negotiated dialect.
    pub(crate) fn bad_request(&self, detail: &str) -> String {
        let problem = crate::problem::Problem::bad_request(detail);
        if self.wtp_default {
            wtp::error(self, &wtp::Request::default(), None, &problem)
        } else {
            super::messages::labthings_error(None, None, &problem, "bad-request")
        }
    }
}

/// The subscriptions of a connection: slot `i < property_count` is property `i`, the
/// following slots are the actions. Empty until the first subscription, so that idle
/// connections stay small.
type Slots = Mutex<Vec<Option<Format>>>;

/// Serve one upgraded connection until either side closes it or the server shuts down.
pub(crate) async fn run(context: Arc<Context>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let mailbox = Mailbox::new(MailboxLimits {
        queue: context.state.ws.queue,
        max_events: context.state.ws.max_events,
    });
    let slots = Slots::default();
    let subscriptions = Subscriptions {
        context: &context,
        mailbox: &mailbox,
        slots: &slots,
    };
    let mut sink = sink;
    let kill = context.state.kill.clone();
    let ended = tokio::select! {
        () = write(&context, &mailbox, &slots, &mut sink) => None,
        ended = read(&context, &subscriptions, stream) => Some(ended),
        // Past the shutdown deadline, a connection that could not be closed is dropped.
        () = kill.cancelled() => None,
    };
    match ended {
        Some(ReadEnd::TooLarge) => {
            let reason = "a message was larger than the server's limit";
            send_close(&mut sink, close(1009, reason)).await;
        }
        Some(ReadEnd::Broken(code, reason)) => send_close(&mut sink, close(code, reason)).await,
        Some(ReadEnd::Closed) | None => {}
    }
    subscriptions.unsubscribe_all();
}

/// Why reading ended.
enum ReadEnd {
    /// The client closed the connection, or it broke.
    Closed,
    /// The client sent a frame or message over the size limit.
    TooLarge,
    /// The client broke the protocol (1002) or sent text that is not UTF-8 (1007).
    Broken(u16, &'static str),
}

/// Read and handle messages until the client closes the connection.
async fn read(
    context: &Arc<Context>,
    subscriptions: &Subscriptions<'_>,
    mut stream: SplitStream<WebSocket>,
) -> ReadEnd {
    let mut in_flight = FuturesUnordered::new();
    let max_in_flight = context.state.ws.max_in_flight.max(1);
    let max_replies = context.state.ws.max_queued_replies.max(1);
    let mailbox = subscriptions.mailbox;
    loop {
        // A client that does not take its replies is not read from until it does: the
        // replies it makes the server hold stay bounded.
        let replies_taken = mailbox.message_bytes() < max_replies;
        tokio::select! {
            () = mailbox.messages_below(max_replies), if !replies_taken => {}
            message = stream.next(), if in_flight.len() < max_in_flight && replies_taken => match message {
                Some(Ok(message)) => {
                    match context.dispatch(message) {
                        Dispatch::Now(commands) => subscriptions.execute(commands),
                        Dispatch::Later(future) => in_flight.push(future),
                        Dispatch::Close => return ReadEnd::Closed,
                    }
                    // A client that floods the socket shares the thread with the others.
                    tokio::task::coop::consume_budget().await;
                }
                Some(Err(error)) => return read_error(&error),
                None => return ReadEnd::Closed,
            },
            Some(commands) = in_flight.next(), if !in_flight.is_empty() => {
                subscriptions.execute(commands);
            }
        }
    }
}

/// Why a read failed, from tungstenite's error (the tests pin its wording down).
fn read_error(error: &axum::Error) -> ReadEnd {
    let error = error.to_string();
    if error.starts_with("Space limit exceeded") {
        ReadEnd::TooLarge
    } else if error.starts_with("UTF-8 encoding error") {
        ReadEnd::Broken(1007, "a text message was not valid UTF-8")
    } else if error.starts_with("WebSocket protocol error") {
        ReadEnd::Broken(1002, "the client broke the WebSocket protocol")
    } else {
        ReadEnd::Closed
    }
}

/// Send what the mailbox holds until the server shuts down, the client cannot be written to,
/// or it fell behind on action status events.
async fn write(
    context: &Context,
    mailbox: &Mailbox,
    slots: &Slots,
    sink: &mut SplitSink<WebSocket, Message>,
) {
    let shutdown = context.state.invocations.shutdown.clone();
    let going_away = || close(1001, "the server is shutting down");
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => return send_close(sink, going_away()).await,
            open = mailbox.recv_many(&mut batch) => {
                if !open {
                    let reason = "the client read too slowly: its queue of events and replies overflowed";
                    return send_close(sink, close(1008, reason)).await;
                }
                // A client that reads slowly does not hold the shutdown up.
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => return send_close(sink, going_away()).await,
                    delivered = deliver(context, slots, sink, &mut batch) => {
                        if delivered.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Send a close frame, giving up after a second (a client that does not read).
async fn send_close(sink: &mut SplitSink<WebSocket, Message>, frame: Message) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), sink.send(frame)).await;
}

/// Deliveries formatted at a time (under the lock of the subscriptions).
const CHUNK: usize = 256;

async fn deliver(
    context: &Context,
    slots: &Slots,
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Delivery>,
) -> Result<(), axum::Error> {
    let mut pending = batch.drain(..);
    loop {
        let texts: Vec<String> = {
            let slots = slots.lock().unwrap_or_else(|e| e.into_inner());
            pending
                .by_ref()
                .take(CHUNK)
                .filter_map(|delivery| match delivery {
                    Delivery::Property(slot, value) => {
                        property_message(context, &slots, slot, &value)
                    }
                    Delivery::Event(_, event) => action_message(context, &event),
                    Delivery::Message(text) => Some(text.to_string()),
                })
                .collect()
        };
        if texts.is_empty() && pending.len() == 0 {
            break;
        }
        for text in texts {
            sink.feed(Message::text(text)).await?;
        }
    }
    drop(pending);
    sink.flush().await
}

fn property_message(
    context: &Context,
    slots: &[Option<Format>],
    slot: u32,
    value: &str,
) -> Option<String> {
    let index = slot as usize;
    let name = &context.names_json[index];
    match slots.get(index)?.as_ref()? {
        Format::LabThings => Some(property_status(name, value)),
        Format::Wtp { correlation } => Some(property_notification(
            &context.thing_id_json,
            name,
            value,
            correlation.as_deref(),
        )),
    }
}

fn action_message(context: &Context, event: &str) -> Option<String> {
    let mut data: serde_json::Value = serde_json::from_str(event).ok()?;
    if let Some(href) = data.get("href").and_then(|h| h.as_str()) {
        data["href"] = format!("{}{href}", context.origin).into();
    }
    Some(serde_json::json!({"messageType": "actionStatus", "data": data}).to_string())
}

/// The reader's view of the connection: it subscribes, and queues replies, in order.
struct Subscriptions<'c> {
    context: &'c Context,
    mailbox: &'c Arc<Mailbox>,
    slots: &'c Slots,
}

impl Subscriptions<'_> {
    fn execute(&self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::Send(text) => self.mailbox.push_message(Arc::from(text)),
                Command::ObserveProperty {
                    index,
                    format,
                    with_current,
                } => {
                    // The format first: a value queued by the subscription finds it.
                    *self.slot(index) = Some(format);
                    if !self
                        .context
                        .thing
                        .observe(index, self.mailbox, index as u32, with_current)
                    {
                        *self.slot(index) = None;
                    }
                }
                Command::UnobserveProperty { index } => {
                    self.context.thing.unobserve(index, self.mailbox);
                    *self.slot(index) = None;
                }
                Command::ObserveAction { index } => {
                    let slot = self.context.thing.property_count() + index;
                    *self.slot(slot) = Some(Format::LabThings);
                    self.context
                        .thing
                        .action_topic(index)
                        .subscribe(self.mailbox, slot as u32);
                }
            }
        }
    }

    /// The format of `slot`, allocating the slot table on first use.
    fn slot(&self, slot: usize) -> SlotGuard<'_> {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.is_empty() {
            let thing = &self.context.thing;
            *slots = vec![None; thing.property_count() + thing.action_count()];
        }
        SlotGuard { slots, slot }
    }

    fn unsubscribe_all(&self) {
        let thing = &self.context.thing;
        let properties = thing.property_count();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        for (slot, format) in slots.iter_mut().enumerate() {
            if format.take().is_none() {
                continue;
            }
            if slot < properties {
                thing.unobserve(slot, self.mailbox);
            } else {
                thing
                    .action_topic(slot - properties)
                    .unsubscribe(self.mailbox);
            }
        }
        self.mailbox.close();
    }
}

/// One slot of the locked slot table.
struct SlotGuard<'s> {
    slots: std::sync::MutexGuard<'s, Vec<Option<Format>>>,
    slot: usize,
}

impl std::ops::Deref for SlotGuard<'_> {
    type Target = Option<Format>;
    fn deref(&self) -> &Self::Target {
        &self.slots[self.slot]
    }
}

impl std::ops::DerefMut for SlotGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.slots[self.slot]
    }
}
