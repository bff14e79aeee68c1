//! One WebSocket connection: its Things, its subscriptions, and the dispatch of each message
//! to its dialect.
//!
//! A connection serves one Thing (`/{thing}/ws`) or every Thing of the server (`/ws`, where
//! each request names its Thing with `thingID`). Each subscription has a *slot*: the
//! position of its Thing among the connection's ([`slot`]), and within the Thing its
//! properties, then its actions, then its events. Everything sent to the client goes through
//! the connection's mailbox, in order: replies, property changes, events, action status.

use std::sync::{Arc, Mutex};

use axum::extract::ws::Message;
use serde_json::Value;
use serde_json::value::RawValue;

use super::view::ThingView;
use super::{fastapi, messages, wtp};
use crate::broker::{Mailbox, MailboxLimits};
use crate::interaction::{Caller, Resumption, Target, ThingRef, unfollow};
use crate::model::table::BoxFuture;
use crate::problem::Problem;
use crate::server::state::ServerState;
use crate::sync::Locked;

/// The slot number of `local` on the connection's Thing number `view`.
pub(crate) fn slot(view: usize, local: usize) -> u32 {
    ((view as u32) << 16) | local as u32
}

/// The Thing number and local slot of a slot number.
pub(crate) fn unslot(slot: u32) -> (usize, usize) {
    ((slot >> 16) as usize, (slot & 0xffff) as usize)
}

/// How the notifications of one subscription are formatted.
#[derive(Clone, Debug)]
pub(crate) enum Format {
    LabThings,
    /// A Web Thing Protocol notification of `operation`, with the subscribing request's
    /// `correlationID` as JSON text.
    Wtp {
        operation: &'static str,
        correlation: Option<Box<RawValue>>,
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
    pub(crate) correlation: Option<Box<RawValue>>,
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

/// The format of each subscription, per Thing of the connection.
pub(crate) type Slots = Vec<Vec<Option<Format>>>;

/// One connection.
pub(crate) struct Connection {
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
    /// Who the client is, as its token says.
    pub(crate) caller: Caller,
    /// Everything sent to the client, in order.
    pub(crate) mailbox: Arc<Mailbox>,
    /// The format of each subscription, per Thing; empty until the first subscription, so
    /// that idle connections stay small.
    pub(crate) slots: Mutex<Slots>,
}

impl Connection {
    pub(crate) fn new(
        state: Arc<ServerState>,
        views: Arc<[Arc<ThingView>]>,
        shared: bool,
        origin: String,
        caller: Caller,
        wtp_default: bool,
    ) -> Self {
        let mailbox = Mailbox::new(MailboxLimits {
            queue: state.ws.queue,
            max_events: state.ws.max_events,
        });
        state.subscriber(&mailbox);
        Self {
            state,
            views,
            shared,
            origin,
            wtp_default,
            caller,
            mailbox,
            slots: Mutex::new(Vec::new()),
        }
    }

    /// Queue a message for the client.
    pub(crate) fn send(&self, text: String) {
        self.mailbox.push_message(Arc::from(text));
    }

    /// Thing `view` of the connection, behind the interaction interface.
    pub(crate) fn thing(&self, view: usize) -> ThingRef<'_> {
        self.state.things.at(self.views[view].index)
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
        let detail = match message.get("messageType").and_then(|v| v.as_str()) {
            Some("request") => return wtp::request(self, message),
            Some(kind @ ("addPropertyObservation" | "addActionObservation")) if !self.shared => {
                fastapi::observe(self, kind, message.get("data"));
                return Dispatch::Done;
            }
            Some(other) => {
                let expected = if self.shared {
                    "'request' (the shared socket speaks the Web Thing Protocol only)"
                } else {
                    "'addPropertyObservation', 'addActionObservation' or 'request'"
                };
                format!("unknown messageType '{other}': expected {expected}")
            }
            None => "the message has no 'messageType'".to_owned(),
        };
        self.send(wtp::bad_request_for(self, &message, &detail));
        Dispatch::Done
    }

    /// A 400 error for a message that could not be understood, in the negotiated dialect.
    pub(crate) fn bad_request(&self, detail: &str) -> String {
        let problem = Problem::bad_request(detail);
        if self.wtp_default || self.shared {
            wtp::error(self, &wtp::Request::default(), None, &problem)
        } else {
            messages::labthings_error(None, None, &problem, "bad-request")
        }
    }

    /// Subscribe to `targets` of Thing `view` in `format` (re-subscribing replaces); see
    /// [`ThingRef::follow`]. `reply` is queued first.
    pub(crate) fn subscribe(
        &self,
        view: usize,
        targets: &[Target],
        format: &Format,
        current: bool,
        last_id: Option<&str>,
        reply: impl FnOnce(&Resumption) -> Option<String>,
    ) {
        let v = &self.views[view];
        self.with_slots(view, |slots| {
            for &target in targets {
                slots[v.local(target)] = Some(format.clone());
            }
        });
        let slotted: Vec<_> = (targets.iter())
            .map(|&t| (t, slot(view, v.local(t))))
            .collect();
        self.thing(view)
            .follow(&self.mailbox, &slotted, current, last_id, |resumption| {
                if let Some(text) = reply(resumption) {
                    self.send(text);
                }
            });
    }

    /// Stop the subscriptions to `targets` of Thing `view`.
    pub(crate) fn unsubscribe(&self, view: usize, targets: &[Target]) {
        let (v, thing) = (&self.views[view], self.thing(view));
        for &target in targets {
            if matches!(target, Target::Action(_)) {
                continue;
            }
            thing.unfollow(&self.mailbox, target);
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
        let action = self.thing(view).action_at(index);
        action.topic().subscribe(&self.mailbox, slot(view, local));
    }

    /// Run `f` on the slot table of Thing `view`, allocating it on first use.
    fn with_slots<R>(&self, view: usize, f: impl FnOnce(&mut Vec<Option<Format>>) -> R) -> R {
        let mut slots = self.slots.locked();
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
        let mut slots = self.slots.locked();
        for (view, table) in slots.iter_mut().enumerate() {
            let (v, thing) = (&self.views[view], self.thing(view).thing());
            for (local, format) in table.iter_mut().enumerate() {
                if format.take().is_some() {
                    unfollow(&**thing, &self.mailbox, v.target(local));
                }
            }
        }
        self.mailbox.close();
    }
}
