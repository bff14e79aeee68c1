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
//!
//! Each value of a property with warning or alarm ranges is followed by a `quality` message
//! whose data is its quality (`"valid"`, `"warning"`, `"alarm"`): a named message, which an
//! `EventSource` that does not listen for it ignores, so the values keep their shape.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;

use crate::broker::history::Unresumable;
use crate::broker::{Delivery, History, Mailbox, MailboxLimits};
use crate::interaction::{Target, ThingRef, unfollow};
use crate::problem::{Problem, refusals};
use crate::runtime::hosted::DynThing;
use crate::server::state::ServerState;

/// What a stream follows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Followed {
    Property(usize),
    Event(usize),
}

impl Followed {
    fn target(self) -> Target {
        match self {
            Self::Property(i) => Target::Property(i),
            Self::Event(i) => Target::Event(i),
        }
    }
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
    thing: ThingRef<'_>,
    followed: Followed,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let Ok(permit) = state.open.stream_permits.clone().try_acquire_owned() else {
        let limit = state.limits.max_event_streams;
        return Err(refusals::too_many_open("event streams", limit));
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
    state.subscriber(&mailbox);
    let target = followed.target();
    let resumption = thing.follow(&mailbox, &[(target, 0)], true, last_id, |_| {});
    let preface = match resumption.resumed {
        Some(Err(why)) => Some(resume_failed(&why)),
        _ => None,
    };
    let subscription = Subscription {
        thing: thing.thing().clone(),
        target,
        mailbox,
        _permit: (permit, Box::new(state.open_stream(true))),
    };
    let history = thing.thing().history().cloned();
    let ranges = match followed {
        Followed::Property(i) => thing.thing().ranges(i),
        Followed::Event(_) => crate::model::quality::Ranges::NONE,
    };
    let stream = messages(
        subscription,
        (history, ranges),
        preface,
        state.shutdown().clone(),
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

/// The `resume-failed` message of a stream whose resume point cannot be used.
fn resume_failed(why: &Unresumable) -> Problem {
    let detail = match why {
        Unresumable::Unknown => {
            "Last-Event-ID names no message of this Thing in this run of the server: what was missed cannot be told"
        }
        Unresumable::Expired => {
            "the messages after Last-Event-ID are no longer all kept: what was missed cannot be told"
        }
    };
    Problem::new(409, detail).with_type(
        "https://labthings.github.io/errors#resume-failed",
        "Resume Failed",
    )
}

/// A stream's subscription: unsubscribed when the stream is dropped (the client went away).
struct Subscription {
    thing: Arc<dyn DynThing>,
    target: Target,
    mailbox: Arc<Mailbox>,
    /// Its place among the streams, and its count.
    _permit: (tokio::sync::OwnedSemaphorePermit, Box<dyn Send + Sync>),
}

impl Drop for Subscription {
    fn drop(&mut self) {
        unfollow(&*self.thing, &self.mailbox, self.target);
        self.mailbox.close();
    }
}

/// The SSE messages of a subscription.
fn messages(
    subscription: Subscription,
    (history, ranges): (Option<Arc<History>>, crate::model::quality::Ranges),
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
        ranges,
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
                    if let Some(quality) = s.ranges.quality_of_json(&note.json) {
                        let data = format!("\"{}\"", quality.as_str());
                        s.ready
                            .push_back(Event::default().event("quality").data(data));
                    }
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
    /// The ranges of the property followed, by which each value's quality is said.
    ranges: crate::model::quality::Ranges,
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
