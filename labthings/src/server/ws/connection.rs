//! One WebSocket connection: a reader that parses and answers requests, and a writer that owns
//! the socket's sending half and the subscriptions.
//!
//! The socket is split (as axum's documentation shows): reading and writing go on at the same
//! time. The reader handles each message; a request that calls device code (reading or
//! writing a property) runs concurrently with the others, up to
//! [`WsLimits::max_in_flight`](super::WsLimits::max_in_flight) per socket, so a slow getter
//! delays neither notifications nor other requests. Everything the reader wants done on the
//! socket goes to the writer as a [`Command`], in order: a subscription is in place, and its
//! reply sent, before the next command runs, so a client never misses the notifications of a
//! subscription it was told about.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use super::messages::{close, property_notification, property_status};
use super::{labthings, wtp};
use crate::broker::{Delivery, Mailbox, MailboxLimits};
use crate::server::ServerState;
use crate::server::hosted::DynThing;
use crate::table::BoxFuture;

/// What one connection knows of its Thing and its client; shared by reader and writer.
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

/// Work for the writer, in the order the reader asked for it.
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
        let max = self.state.ws.max_message;
        if text.len() > max {
            let detail = format!(
                "the message has {} bytes, more than the limit of {max} bytes",
                text.len()
            );
            return Dispatch::Now(vec![Command::Send(self.bad_request(&detail))]);
        }
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

/// Serve one upgraded connection until either side closes it or the server shuts down.
pub(crate) async fn run(context: Arc<Context>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let (commands, rx) = mpsc::channel(context.state.ws.max_in_flight.max(1) * 2);
    let reader = tokio::spawn(read(context.clone(), stream, commands));
    let mailbox = Mailbox::new(MailboxLimits {
        queue: context.state.ws.queue,
        max_events: context.state.ws.max_events,
    });
    let mut writer = Writer {
        context,
        sink,
        mailbox,
        slots: Vec::new(),
    };
    writer.run(rx).await;
    writer.unsubscribe_all();
    reader.abort();
}

/// Read and handle messages until the client closes the connection.
async fn read(
    context: Arc<Context>,
    mut stream: SplitStream<WebSocket>,
    commands: mpsc::Sender<Command>,
) {
    let mut in_flight = FuturesUnordered::new();
    let max_in_flight = context.state.ws.max_in_flight.max(1);
    loop {
        let done = tokio::select! {
            message = stream.next(), if in_flight.len() < max_in_flight => match message {
                Some(Ok(message)) => match context.dispatch(message) {
                    Dispatch::Now(batch) => send_all(&commands, batch).await,
                    Dispatch::Later(future) => {
                        in_flight.push(future);
                        true
                    }
                    Dispatch::Close => false,
                },
                _ => false,
            },
            Some(batch) = in_flight.next(), if !in_flight.is_empty() => {
                send_all(&commands, batch).await
            }
        };
        if !done {
            return;
        }
    }
}

/// Hand commands to the writer; `false` once it has gone.
async fn send_all(commands: &mpsc::Sender<Command>, batch: Vec<Command>) -> bool {
    for command in batch {
        if commands.send(command).await.is_err() {
            return false;
        }
    }
    true
}

struct Writer {
    context: Arc<Context>,
    sink: SplitSink<WebSocket, Message>,
    mailbox: Arc<Mailbox>,
    /// Slot `i < property_count` is property `i`; the following slots are the actions.
    /// Empty until the first subscription, so that idle connections stay small.
    slots: Vec<Option<Format>>,
}

enum Next {
    Continue,
    Stop,
}

impl Writer {
    async fn run(&mut self, mut commands: mpsc::Receiver<Command>) {
        let shutdown = self.context.state.invocations.shutdown.clone();
        let mut batch = Vec::new();
        loop {
            let next = tokio::select! {
                biased;
                () = shutdown.cancelled() => {
                    let _ = self.sink.send(close(1001, "the server is shutting down")).await;
                    Next::Stop
                }
                command = commands.recv() => match command {
                    Some(command) => self.execute(command).await,
                    None => Next::Stop,
                },
                open = self.mailbox.recv_many(&mut batch) => {
                    if open {
                        self.deliver(&mut batch).await
                    } else {
                        let reason = "the client read too slowly: action status events overflowed";
                        let _ = self.sink.send(close(1008, reason)).await;
                        Next::Stop
                    }
                }
            };
            if matches!(next, Next::Stop) {
                return;
            }
        }
    }

    async fn execute(&mut self, command: Command) -> Next {
        match command {
            Command::Send(text) => return self.send(text).await,
            Command::ObserveProperty {
                index,
                format,
                with_current,
            } => {
                let thing = &self.context.thing;
                if thing.observe(index, &self.mailbox, index as u32, with_current) {
                    *self.slot(index) = Some(format);
                }
            }
            Command::UnobserveProperty { index } => {
                self.context.thing.unobserve(index, &self.mailbox);
                if let Some(slot) = self.slots.get_mut(index) {
                    *slot = None;
                }
            }
            Command::ObserveAction { index } => {
                let slot = self.context.thing.property_count() + index;
                self.context
                    .thing
                    .action_topic(index)
                    .subscribe(&self.mailbox, slot as u32);
                *self.slot(slot) = Some(Format::LabThings);
            }
        }
        Next::Continue
    }

    async fn send(&mut self, text: String) -> Next {
        match self.sink.send(Message::text(text)).await {
            Ok(()) => Next::Continue,
            Err(_) => Next::Stop,
        }
    }

    async fn deliver(&mut self, batch: &mut Vec<Delivery>) -> Next {
        for delivery in batch.drain(..) {
            let text = match delivery {
                Delivery::Property(slot, value) => self.property_message(slot, &value),
                Delivery::Event(_, event) => self.action_message(&event),
            };
            if let Some(text) = text
                && self.sink.feed(Message::text(text)).await.is_err()
            {
                return Next::Stop;
            }
        }
        match self.sink.flush().await {
            Ok(()) => Next::Continue,
            Err(_) => Next::Stop,
        }
    }

    fn property_message(&self, slot: u32, value: &str) -> Option<String> {
        let index = slot as usize;
        let name = &self.context.names_json[index];
        match self.slots.get(index)?.as_ref()? {
            Format::LabThings => Some(property_status(name, value)),
            Format::Wtp { correlation } => Some(property_notification(
                &self.context.thing_id_json,
                name,
                value,
                correlation.as_deref(),
            )),
        }
    }

    fn action_message(&self, event: &str) -> Option<String> {
        let mut data: serde_json::Value = serde_json::from_str(event).ok()?;
        if let Some(href) = data.get("href").and_then(|h| h.as_str()) {
            data["href"] = format!("{}{href}", self.context.origin).into();
        }
        Some(serde_json::json!({"messageType": "actionStatus", "data": data}).to_string())
    }

    /// The format of `slot`, allocating the slot table on first use.
    fn slot(&mut self, slot: usize) -> &mut Option<Format> {
        if self.slots.is_empty() {
            let thing = &self.context.thing;
            self.slots = vec![None; thing.property_count() + thing.action_count()];
        }
        &mut self.slots[slot]
    }

    fn unsubscribe_all(&mut self) {
        let thing = &self.context.thing;
        let properties = thing.property_count();
        for slot in 0..self.slots.len() {
            if self.slots[slot].take().is_none() {
                continue;
            }
            if slot < properties {
                thing.unobserve(slot, &self.mailbox);
            } else {
                thing
                    .action_topic(slot - properties)
                    .unsubscribe(&self.mailbox);
            }
        }
        self.mailbox.close();
    }
}
