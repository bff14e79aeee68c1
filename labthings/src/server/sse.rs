//! Server-Sent Events: `GET /{thing}/{event}` (or an observable property) with
//! `Accept: text/event-stream` streams each emission (each change, after the current value).
//!
//! Every message carries an `id:` that names it in its Thing's history, so a client that
//! reconnects with `Last-Event-ID` (as a browser's `EventSource` does by itself) gets what it
//! missed, exactly once: every event, or the latest value of the property. A resume point
//! the history no longer covers is answered with a `resume-failed` message (a problem
//! details object), then the current value. A client that falls behind by more than the
//! queue holds gets a `fell-behind` message and the stream ends: nothing is dropped
//! silently. Streams end when the server shuts down.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;

use crate::broker::history::Unresumable;
use crate::broker::{Delivery, History, Key, Mailbox, MailboxLimits};
use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::hosted::DynThing;

/// What a stream follows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Followed {
    Property(usize),
    Event(usize),
}

/// Whether a request asks for an event stream.
pub(crate) fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/event-stream"))
}

/// The stream of `followed` on `thing`.
pub(crate) fn stream(
    state: &Arc<ServerState>,
    thing: &Arc<dyn DynThing>,
    followed: Followed,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let Ok(permit) = state.stream_permits.clone().try_acquire_owned() else {
        let detail = format!(
            "the server has {} event streams open, its limit: try again when one has closed",
            state.limits.max_event_streams
        );
        let mut response = Problem::new(503, detail).into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    };
    let last_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let mailbox = Mailbox::new(MailboxLimits {
        queue: state.ws.queue,
        max_events: state.ws.max_events,
    });
    let history = thing.history().cloned();
    let mut preface = None;
    {
        let locked = history.as_ref().map(|h| h.view());
        let resumed = last_id.map(|id| match &locked {
            Some(locked) => locked.after(id).map(|missed| {
                let key = match followed {
                    Followed::Property(i) => Key::Property(i as u32),
                    Followed::Event(i) => Key::Event(i as u32),
                };
                let missed: Vec<_> = missed.filter(|e| e.key == key).collect();
                match followed {
                    Followed::Event(_) => {
                        for entry in missed {
                            mailbox.push_event(0, entry.note.clone());
                        }
                    }
                    Followed::Property(_) => {
                        if let Some(latest) = missed.last() {
                            mailbox.push_value(0, latest.note.clone());
                        }
                    }
                }
            }),
            None => Err(Unresumable::Unknown),
        });
        if let Some(Err(why)) = &resumed {
            let detail = match why {
                Unresumable::Unknown => {
                    "Last-Event-ID names no message of this Thing in this run of the server: what was missed cannot be told"
                }
                Unresumable::Expired => {
                    "the messages after Last-Event-ID are no longer all kept: what was missed cannot be told"
                }
            };
            preface = Some(Problem::new(409, detail).with_type(
                "https://labthings.github.io/errors#resume-failed",
                "Resume Failed",
            ));
        }
        let seq = locked.as_ref().map(|l| l.last());
        match followed {
            Followed::Property(i) => {
                let current = !matches!(resumed, Some(Ok(())));
                thing.observe(i, &mailbox, 0, current, seq);
            }
            Followed::Event(i) => thing.event_topic(i).subscribe(&mailbox, 0),
        }
    }
    let subscription = Subscription {
        thing: thing.clone(),
        followed,
        mailbox,
        _permit: permit,
    };
    let stream = messages(
        subscription,
        history,
        preface,
        state.invocations.shutdown.clone(),
    );
    let mut response = Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response();
    // Proxies must not buffer it.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// A stream's subscription: unsubscribed when the stream is dropped (the client went away).
struct Subscription {
    thing: Arc<dyn DynThing>,
    followed: Followed,
    mailbox: Arc<Mailbox>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        match self.followed {
            Followed::Property(i) => self.thing.unobserve(i, &self.mailbox),
            Followed::Event(i) => {
                self.thing.event_topic(i).unsubscribe(&self.mailbox);
            }
        }
        self.mailbox.close();
    }
}

/// The SSE messages of a subscription.
fn messages(
    subscription: Subscription,
    history: Option<Arc<History>>,
    preface: Option<Problem>,
    shutdown: tokio_util::sync::CancellationToken,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let ready: VecDeque<Event> = preface
        .iter()
        .map(|p| problem_event("resume-failed", p))
        .collect();
    let state = StreamState {
        subscription,
        history,
        ready,
        buf: Vec::new(),
        ended: false,
        shutdown,
    };
    futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.ready.pop_front() {
                return Some((Ok(event), s));
            }
            if s.ended {
                return None;
            }
            let mailbox = s.subscription.mailbox.clone();
            let open = tokio::select! {
                () = s.shutdown.cancelled() => return None,
                open = mailbox.recv_many(&mut s.buf) => open,
            };
            for delivery in s.buf.drain(..) {
                if let Delivery::Property(_, note) | Delivery::Event(_, note) = delivery {
                    let mut event = Event::default().data(&*note.json);
                    if let (Some(seq), Some(history)) = (note.seq, &s.history) {
                        event = event.id(history.id(seq).to_string());
                    }
                    s.ready.push_back(event);
                }
            }
            if !open {
                if mailbox.overflowed() {
                    let problem = Problem::new(
                        503,
                        "the client read too slowly: more messages piled up than the server keeps for it; reconnect with Last-Event-ID to resume",
                    );
                    s.ready.push_back(problem_event("fell-behind", &problem));
                }
                s.ended = true;
            }
        }
    })
}

struct StreamState {
    subscription: Subscription,
    history: Option<Arc<History>>,
    ready: VecDeque<Event>,
    buf: Vec<Delivery>,
    ended: bool,
    shutdown: tokio_util::sync::CancellationToken,
}

/// A named message carrying a problem details object.
fn problem_event(name: &str, problem: &Problem) -> Event {
    Event::default()
        .event(name)
        .data(serde_json::to_string(problem).unwrap_or_default())
}
