//! One WebSocket connection: a reader that parses and answers requests, and a writer that owns
//! the socket's sending half.
//!
//! The socket is split (as axum's documentation shows) and both halves are driven at the same
//! time, by one task: reading goes on while a write waits for a slow client, and writing goes
//! on while a request waits for device code. A request that calls device code (reading or
//! writing a property) runs concurrently with the others, up to
//! [`WsLimits::max_in_flight`](super::WsLimits::max_in_flight) per socket, so a slow getter
//! delays neither notifications nor other requests. Everything the writer sends comes through
//! the connection's mailbox, in order: replies, property changes, events, action status.
//!
//! A connection serves one Thing (`/{thing}/ws`) or every Thing of the server (`/ws`, where
//! each request names its Thing with `thingID`). Each subscription has a *slot*: the
//! position of its Thing among the connection's ([`slot`]), and within the Thing its
//! properties, then its actions, then its events.

use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::{FuturesUnordered, SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;

use super::messages::{self, close};
use super::{labthings, wtp};
use crate::broker::history::Unresumable;
use crate::broker::{Delivery, Key, Mailbox, MailboxLimits, Note};
use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::hosted::DynThing;
use crate::server::security::Granted;
use crate::table::BoxFuture;

/// What a connection knows of one of its Things: computed once per server.
pub(crate) struct ThingView {
    pub(crate) thing: Arc<dyn DynThing>,
    /// The Thing's identifier in Web Thing Protocol messages: its TD `id`.
    pub(crate) thing_id: String,
    /// [`thing_id`](Self::thing_id) as a JSON string, for notifications.
    pub(crate) thing_id_json: String,
    /// The path of its TD (`{prefix}/{name}/`): a `thingID` may be the TD's URL.
    pub(crate) td_path: String,
    /// The property names, then the event names, as JSON strings, for notifications.
    pub(crate) property_names_json: Box<[Box<str>]>,
    pub(crate) event_names_json: Box<[Box<str>]>,
}

impl ThingView {
    pub(crate) fn new(thing: Arc<dyn DynThing>, thing_id: String, td_path: String) -> Self {
        let json = messages::json_string;
        Self {
            thing_id_json: json(&thing_id),
            thing_id,
            td_path,
            property_names_json: (0..thing.property_count())
                .map(|i| json(thing.property_name(i)).into_boxed_str())
                .collect(),
            event_names_json: (0..thing.event_count())
                .map(|i| json(thing.event_name(i)).into_boxed_str())
                .collect(),
            thing,
        }
    }

    /// Whether a request's `thingID` names this Thing: its TD `id`, or the URL (or path) of
    /// its TD, with or without the trailing slash.
    fn is_named_by(&self, id: &str) -> bool {
        if id == self.thing_id {
            return true;
        }
        let path = match id.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
            None => id,
        };
        path == self.td_path || Some(path) == self.td_path.strip_suffix('/')
    }

    /// The local slot of property `i`, action `i`, event `i`.
    fn local(&self, target: Target) -> usize {
        let thing = &self.thing;
        match target {
            Target::Property(i) => i,
            Target::Action(i) => thing.property_count() + i,
            Target::Event(i) => thing.property_count() + thing.action_count() + i,
        }
    }

    fn slot_count(&self) -> usize {
        let thing = &self.thing;
        thing.property_count() + thing.action_count() + thing.event_count()
    }
}

/// What a subscription is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Property(usize),
    Action(usize),
    Event(usize),
}

/// The slot number of `local` on the connection's Thing number `view`.
fn slot(view: usize, local: usize) -> u32 {
    ((view as u32) << 16) | local as u32
}

/// How the notifications of one subscription are formatted.
#[derive(Clone, Debug)]
pub(crate) enum Format {
    LabThings,
    /// A Web Thing Protocol notification of `operation`, with the subscribing request's
    /// `correlationID` as JSON text.
    Wtp {
        operation: &'static str,
        correlation: Option<Box<str>>,
    },
    /// The status changes of an action: to LabThings observers, and to the invocations
    /// this connection watches.
    Action {
        labthings: bool,
        watches: Vec<Watch>,
    },
}

/// An invocation whose status a Web Thing Protocol client asked to follow.
#[derive(Clone, Debug)]
pub(crate) struct Watch {
    pub(crate) id: uuid::Uuid,
    pub(crate) correlation: Option<Box<str>>,
    /// `synchronous`: one response when it ends, instead of notifications.
    pub(crate) synchronous: bool,
}

/// What handling one message produced.
pub(crate) enum Dispatch {
    /// It was handled (its replies are queued).
    Done,
    /// Device code will complete it.
    Later(BoxFuture<()>),
    /// The client closed the connection.
    Close,
}

/// The outcome of resuming from a `lastNotificationID`.
pub(crate) type Resumed = Result<(), Unresumable>;

/// One connection.
pub(crate) struct Context {
    pub(crate) state: Arc<ServerState>,
    /// Its Things: one (`/{thing}/ws`), or all (`/ws`).
    pub(crate) views: Arc<[Arc<ThingView>]>,
    /// `/ws`: every request names its Thing.
    pub(crate) shared: bool,
    /// The absolute URL of the server root as the client addressed it.
    pub(crate) origin: String,
    /// Whether the client negotiated the `webthingprotocol` subprotocol: unparseable
    /// messages are then answered in that dialect.
    pub(crate) wtp_default: bool,
    /// What the client's token allows.
    pub(crate) granted: Granted,
    /// Everything sent to the client, in order.
    pub(crate) mailbox: Arc<Mailbox>,
    /// The format of each subscription, per Thing; empty until the first subscription, so
    /// that idle connections stay small.
    slots: Mutex<Vec<Vec<Option<Format>>>>,
}

impl Context {
    pub(crate) fn new(
        state: Arc<ServerState>,
        views: Arc<[Arc<ThingView>]>,
        shared: bool,
        origin: String,
        granted: Granted,
    ) -> Self {
        let mailbox = Mailbox::new(MailboxLimits {
            queue: state.ws.queue,
            max_events: state.ws.max_events,
        });
        Self {
            state,
            views,
            shared,
            origin,
            wtp_default: false,
            granted,
            mailbox,
            slots: Mutex::new(Vec::new()),
        }
    }

    /// The connection, when the client negotiated the `webthingprotocol` subprotocol (or
    /// not).
    pub(crate) fn speaking_wtp(mut self, wtp_default: bool) -> Self {
        self.wtp_default = wtp_default;
        self
    }

    /// Queue a message for the client.
    pub(crate) fn send(&self, text: String) {
        self.mailbox.push_message(Arc::from(text));
    }

    /// The Thing a request is about: the connection's own, or on `/ws` the one its
    /// `thingID` names.
    pub(crate) fn view(&self, thing_id: Option<&Value>) -> Result<usize, Problem> {
        if !self.shared {
            return Ok(0);
        }
        let Some(id) = thing_id.and_then(Value::as_str) else {
            return Err(Problem::bad_request(
                "on the server's shared socket, every request names its Thing with 'thingID' (the `id` of its TD, or its TD's URL)",
            ));
        };
        self.views
            .iter()
            .position(|v| v.is_named_by(id))
            .ok_or_else(|| Problem::not_found(format!("this server has no Thing '{id}'")))
    }

    /// Handle one message from the client.
    pub(crate) fn dispatch(self: &Arc<Self>, message: Message) -> Dispatch {
        match message {
            Message::Text(text) => self.on_text(text.as_str()),
            Message::Binary(_) => {
                self.send(
                    self.bad_request("binary frames are not supported: send JSON text frames"),
                );
                Dispatch::Done
            }
            Message::Close(_) => Dispatch::Close,
            Message::Ping(_) | Message::Pong(_) => Dispatch::Done,
        }
    }

    fn on_text(self: &Arc<Self>, text: &str) -> Dispatch {
        let message = match super::parse_message(text) {
            Ok(message) => message,
            Err(detail) => {
                self.send(self.bad_request(&detail));
                return Dispatch::Done;
            }
        };
        match message.get("messageType").and_then(|v| v.as_str()) {
            Some("request") => wtp::request(self, message),
            Some(kind @ ("addPropertyObservation" | "addActionObservation")) if !self.shared => {
                labthings::observe(self, kind, message.get("data"));
                Dispatch::Done
            }
            Some(other) => {
                let expected = if self.shared {
                    "'request' (the shared socket speaks the Web Thing Protocol only)"
                } else {
                    "'addPropertyObservation', 'addActionObservation' or 'request'"
                };
                let detail = format!("unknown messageType '{other}': expected {expected}");
                self.send(wtp::bad_request_for(self, &message, &detail));
                Dispatch::Done
            }
            None => {
                self.send(wtp::bad_request_for(
                    self,
                    &message,
                    "the message has no 'messageType'",
                ));
                Dispatch::Done
            }
        }
    }

    /// A 400 error for a message that could not be understood, in the negotiated dialect.
    pub(crate) fn bad_request(&self, detail: &str) -> String {
        let problem = crate::problem::Problem::bad_request(detail);
        if self.wtp_default || self.shared {
            wtp::error(self, &wtp::Request::default(), None, &problem)
        } else {
            messages::labthings_error(None, None, &problem, "bad-request")
        }
    }

    /// Subscribe to `targets` of Thing `view` (properties and events; re-subscribing
    /// replaces), then queue `reply`'s message, then what the client missed since
    /// `last_id` (when given), then live notifications. Properties in `current` get their
    /// current value first, unless the client resumed and their latest value is replayed
    /// (it is not sent twice). `reply` is also given the identifier of the
    /// latest notification so far: a client that resumes from it later misses nothing, even
    /// before its first notification.
    ///
    /// The Thing's history is locked throughout: a notification is either replayed or
    /// delivered live, never both, never neither.
    pub(crate) fn subscribe(
        &self,
        view: usize,
        targets: &[Target],
        format: &Format,
        current: bool,
        last_id: Option<&str>,
        reply: impl FnOnce(Option<&Resumed>, Option<&str>) -> Option<String>,
    ) {
        let v = &self.views[view];
        let thing = &v.thing;
        let history = thing.history();
        let locked = history.map(|h| h.view());
        self.with_slots(view, |slots| {
            for &target in targets {
                slots[v.local(target)] = Some(format.clone());
            }
        });
        let resumed = last_id.map(|id| match &locked {
            Some(locked) => locked.after(id).map(|_| ()),
            None => Err(Unresumable::Unknown),
        });
        let so_far = history
            .zip(locked.as_ref())
            .map(|(history, locked)| history.id(locked.last()).to_string());
        if let Some(text) = reply(resumed.as_ref(), so_far.as_deref()) {
            self.send(text);
        }
        // The properties whose latest value is replayed (their current value is then not
        // sent as well).
        let mut replayed = Vec::new();
        if let (Some(id), Some(locked), Some(Ok(()))) = (last_id, &locked, &resumed) {
            // What was missed: every event, and the latest value of each property.
            let missed: Vec<_> = locked.after(id).map(Iterator::collect).unwrap_or_default();
            for (i, entry) in missed.iter().enumerate() {
                let target = match entry.key {
                    Key::Event(e) => Target::Event(e as usize),
                    Key::Property(p) => {
                        let newer = missed[i + 1..].iter().any(|later| later.key == entry.key);
                        if newer {
                            continue;
                        }
                        Target::Property(p as usize)
                    }
                };
                if !targets.contains(&target) {
                    continue;
                }
                let slot = slot(view, v.local(target));
                match target {
                    Target::Event(_) => self.mailbox.push_event(slot, entry.note.clone()),
                    _ => {
                        replayed.push(target);
                        self.mailbox.push_value(slot, entry.note.clone());
                    }
                }
            }
        }
        // A current value stands for everything recorded so far: resuming from it is exact.
        let seq = locked.as_ref().map(|l| l.last());
        for &target in targets {
            let slot = slot(view, v.local(target));
            match target {
                Target::Property(i) => {
                    // Resumed, a property that changed meanwhile has its latest value
                    // replayed; the others get their current value, as the client may never
                    // have had it (its connection may have gone before it came).
                    let with_current = match resumed {
                        Some(Ok(())) => current && !replayed.contains(&target),
                        Some(Err(_)) => true,
                        None => current,
                    };
                    thing.observe(i, &self.mailbox, slot, with_current, seq);
                }
                Target::Event(i) => thing.event_topic(i).subscribe(&self.mailbox, slot),
                Target::Action(i) => thing.action_topic(i).subscribe(&self.mailbox, slot),
            }
        }
        drop(locked);
    }

    /// Stop the subscriptions to `targets` of Thing `view`.
    pub(crate) fn unsubscribe(&self, view: usize, targets: &[Target]) {
        let v = &self.views[view];
        for &target in targets {
            match target {
                Target::Property(i) => v.thing.unobserve(i, &self.mailbox),
                Target::Event(i) => {
                    v.thing.event_topic(i).unsubscribe(&self.mailbox);
                }
                Target::Action(_) => continue,
            }
            self.with_slots(view, |slots| slots[v.local(target)] = None);
        }
    }

    /// Follow the status of action `index`'s invocations on Thing `view`: as a LabThings
    /// observer, or (with `watch`) one invocation for a Web Thing Protocol client.
    pub(crate) fn observe_action(&self, view: usize, index: usize, watch: Option<Watch>) {
        let v = &self.views[view];
        let local = v.local(Target::Action(index));
        self.with_slots(view, |slots| {
            let format = slots[local].get_or_insert(Format::Action {
                labthings: false,
                watches: Vec::new(),
            });
            if let Format::Action { labthings, watches } = format {
                match watch {
                    Some(watch) => watches.push(watch),
                    None => *labthings = true,
                }
            }
        });
        v.thing
            .action_topic(index)
            .subscribe(&self.mailbox, slot(view, local));
    }

    /// Run `f` on the slot table of Thing `view`, allocating it on first use.
    fn with_slots<R>(&self, view: usize, f: impl FnOnce(&mut Vec<Option<Format>>) -> R) -> R {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        if slots.is_empty() {
            slots.resize_with(self.views.len(), Vec::new);
        }
        let table = &mut slots[view];
        if table.is_empty() {
            table.resize(self.views[view].slot_count(), None);
        }
        f(table)
    }

    /// End every subscription and close the mailbox.
    pub(crate) fn unsubscribe_all(&self) {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        for (view, table) in slots.iter_mut().enumerate() {
            let thing = &self.views[view].thing;
            let (properties, actions) = (thing.property_count(), thing.action_count());
            for (local, format) in table.iter_mut().enumerate() {
                if format.take().is_none() {
                    continue;
                }
                if local < properties {
                    thing.unobserve(local, &self.mailbox);
                } else if local < properties + actions {
                    thing
                        .action_topic(local - properties)
                        .unsubscribe(&self.mailbox);
                } else {
                    thing
                        .event_topic(local - properties - actions)
                        .unsubscribe(&self.mailbox);
                }
            }
        }
        self.mailbox.close();
    }
}

/// Serve one upgraded connection until either side closes it or the server shuts down.
pub(crate) async fn run(context: Arc<Context>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let mut sink = sink;
    let kill = context.state.kill.clone();
    let ended = tokio::select! {
        () = write(&context, &mut sink) => None,
        ended = read(&context, stream) => Some(ended),
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
    context.unsubscribe_all();
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
async fn read(context: &Arc<Context>, mut stream: SplitStream<WebSocket>) -> ReadEnd {
    let mut in_flight = FuturesUnordered::new();
    let max_in_flight = context.state.ws.max_in_flight.max(1);
    let max_replies = context.state.ws.max_queued_replies.max(1);
    let mailbox = &context.mailbox;
    loop {
        // A client that does not take its replies is not read from until it does: the
        // replies it makes the server hold stay bounded.
        let replies_taken = mailbox.message_bytes() < max_replies;
        tokio::select! {
            () = mailbox.messages_below(max_replies), if !replies_taken => {}
            message = stream.next(), if in_flight.len() < max_in_flight && replies_taken => match message {
                Some(Ok(message)) => {
                    match context.dispatch(message) {
                        Dispatch::Done => {}
                        Dispatch::Later(future) => in_flight.push(future),
                        Dispatch::Close => return ReadEnd::Closed,
                    }
                    // A client that floods the socket shares the thread with the others.
                    tokio::task::coop::consume_budget().await;
                }
                Some(Err(error)) => return read_error(&error),
                None => return ReadEnd::Closed,
            },
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
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
/// or it fell behind on events.
async fn write(context: &Context, sink: &mut SplitSink<WebSocket, Message>) {
    let shutdown = context.state.invocations.shutdown.clone();
    let going_away = || close(1001, "the server is shutting down");
    let mailbox = &context.mailbox;
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
                    delivered = deliver(context, sink, &mut batch) => {
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
    sink: &mut SplitSink<WebSocket, Message>,
    batch: &mut Vec<Delivery>,
) -> Result<(), axum::Error> {
    let mut pending = batch.drain(..);
    loop {
        let texts = context.render(pending.by_ref().take(CHUNK));
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

impl Context {
    /// The messages of `deliveries`, in order (formatted under the lock of the
    /// subscriptions).
    pub(crate) fn render(&self, deliveries: impl Iterator<Item = Delivery>) -> Vec<String> {
        let mut texts = Vec::new();
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        for delivery in deliveries {
            match delivery {
                Delivery::Message(text) => texts.push(text.to_string()),
                Delivery::Property(slot, note) | Delivery::Event(slot, note) => {
                    render(self, &mut slots, slot, &note, &mut texts);
                }
            }
        }
        texts
    }
}

/// The messages of one notification for the subscription in `slot`.
fn render(
    context: &Context,
    slots: &mut [Vec<Option<Format>>],
    slot: u32,
    note: &Note,
    out: &mut Vec<String>,
) {
    let (view, local) = ((slot >> 16) as usize, (slot & 0xffff) as usize);
    let (Some(v), Some(Some(format))) = (
        context.views.get(view),
        slots.get_mut(view).and_then(|t| t.get_mut(local)),
    ) else {
        return;
    };
    let thing = &v.thing;
    let (properties, actions) = (thing.property_count(), thing.action_count());
    let id = || match (note.seq, thing.history()) {
        (Some(seq), Some(history)) => history.id(seq),
        _ => uuid::Uuid::new_v4(),
    };
    match format {
        Format::LabThings if local < properties => out.push(messages::property_status(
            &v.property_names_json[local],
            &note.json,
        )),
        Format::Wtp {
            operation,
            correlation,
        } => {
            let (member, name) = if local < properties {
                ("value", &v.property_names_json[local])
            } else {
                ("data", &v.event_names_json[local - properties - actions])
            };
            out.push(messages::notification(&messages::Notification {
                thing_id: &v.thing_id_json,
                message_id: id(),
                operation,
                name,
                member,
                value: &note.json,
                at: note.at,
                correlation: correlation.as_deref(),
            }));
        }
        Format::Action { labthings, watches } => {
            let Ok(mut data) = serde_json::from_str::<Value>(&note.json) else {
                return;
            };
            if let Some(href) = data.get("href").and_then(|h| h.as_str()) {
                data["href"] = format!("{}{href}", context.origin).into();
            }
            if let Some(output) = data.get_mut("output") {
                crate::server::blobs::absolute_links(
                    output,
                    &context.origin,
                    &context.state.prefix,
                );
            }
            if !watches.is_empty() {
                wtp::invocation_messages(v, &data, watches, out);
            }
            if *labthings {
                out.push(
                    serde_json::json!({"messageType": "actionStatus", "data": data}).to_string(),
                );
            }
        }
        Format::LabThings => {}
    }
}
