//! Observed properties and subscribed events, as `Stream`s of typed values.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ClientError;
use super::resume::{Reopening, Resume, Subscription, backoff};
use super::session::{Notifications, Session};

/// What to send when a stream is dropped.
struct Unsubscribe {
    session: Arc<Session>,
    correlation: String,
    request: Map<String, Value>,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        self.session.forget(&self.correlation);
        if !self.session.is_closed() {
            self.session.notify(std::mem::take(&mut self.request));
        }
    }
}

/// The notifications of one subscription, with the member that carries their value.
struct Feed {
    rx: Notifications,
    member: &'static str,
    /// The `messageID` of the last notification yielded.
    last_id: Option<String>,
    /// Where to resume from: the last notification yielded, or until one is, the server's
    /// latest when the stream subscribed.
    resume_from: Option<String>,
    unsubscribe: Option<Unsubscribe>,
    /// How to subscribe again after a lost connection (Web Thing Protocol streams).
    resume: Option<Resume>,
    reopening: Option<Reopening>,
    /// When the current connection was made, and the wait before the last reconnection.
    connected_at: std::time::Instant,
    backoff: std::time::Duration,
    /// Whether notifications missed while reconnecting are reported as an error: each event
    /// counts, while a property's current value follows anyway.
    reports_gaps: bool,
}

impl Feed {
    fn own(rx: Notifications, member: &'static str) -> Self {
        Self {
            rx,
            member,
            last_id: None,
            resume_from: None,
            unsubscribe: None,
            resume: None,
            reopening: None,
            connected_at: std::time::Instant::now(),
            backoff: std::time::Duration::ZERO,
            reports_gaps: false,
        }
    }

    async fn open(resume: Resume, member: &'static str) -> Result<Self, ClientError> {
        let subscription = resume.open(None).await?;
        let mut feed = Self::own(Notifications::empty(), member);
        feed.reports_gaps = member == "data";
        feed.attach(subscription, &resume);
        feed.resume = Some(resume);
        Ok(feed)
    }

    /// Take `subscription`'s notifications from now on; returns its gap, if any.
    fn attach(&mut self, subscription: Subscription, resume: &Resume) -> Option<String> {
        self.rx = subscription.rx;
        self.connected_at = std::time::Instant::now();
        // From the subscription's point when there is nothing newer to resume from: no
        // notification yet, or a resumption that failed (the old point is then useless).
        if self.resume_from.is_none() || subscription.gap.is_some() {
            self.resume_from = subscription.so_far;
        }
        self.unsubscribe = Some(Unsubscribe {
            session: subscription.session,
            correlation: subscription.correlation,
            request: resume.stop_request(),
        });
        subscription.gap
    }

    fn poll_value<T: DeserializeOwned>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, ClientError>>> {
        loop {
            if let Some(reopening) = &mut self.reopening {
                let reopened = std::task::ready!(reopening.as_mut().poll(cx));
                self.reopening = None;
                let resume = self.resume.take().expect("reopening needs a resume");
                match reopened {
                    Ok(subscription) => {
                        let gap = self.attach(subscription, &resume);
                        self.resume = Some(resume);
                        if let Some(gap) = gap.filter(|_| self.reports_gaps) {
                            return Poll::Ready(Some(Err(ClientError::Missed(gap))));
                        }
                        continue;
                    }
                    // Given up: the error, then the end.
                    Err(error) => return Poll::Ready(Some(Err(error))),
                }
            }
            let message = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(lost @ ClientError::Disconnected(_)))) => {
                    let within = self
                        .resume
                        .as_ref()
                        .and_then(|r| r.thing.client().shared().reconnect.map(|w| (r, w)));
                    match within {
                        Some((resume, within)) => {
                            self.backoff = backoff(self.backoff, self.connected_at.elapsed());
                            let last = self.resume_from.clone();
                            self.reopening = Some(resume.reopen(last, lost, within, self.backoff));
                            continue;
                        }
                        None => return Poll::Ready(Some(Err(lost))),
                    }
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(message))) => message,
            };
            if message.get("messageType").and_then(Value::as_str) != Some("notification") {
                continue;
            }
            if let Some(id) = message.get("messageID").and_then(Value::as_str) {
                self.last_id = Some(id.to_owned());
                self.resume_from = self.last_id.clone();
            }
            let value = message.get(self.member).cloned().unwrap_or(Value::Null);
            return Poll::Ready(Some(super::decode::<T>(value)));
        }
    }
}

macro_rules! typed_stream {
    ($(#[$doc:meta])* $name:ident, $member:literal) => {
        $(#[$doc])*
        pub struct $name<T> {
            feed: Feed,
            _value: PhantomData<fn() -> T>,
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("last_notification_id", &self.feed.last_id)
                    .finish_non_exhaustive()
            }
        }

        impl<T> $name<T> {
            /// Subscribe on a socket of its own, resuming after a lost connection.
            pub(crate) async fn over_socket(resume: Resume) -> Result<Self, ClientError> {
                Ok(Self {
                    feed: Feed::open(resume, $member).await?,
                    _value: PhantomData,
                })
            }

            /// Notifications that arrive on their own (LabThings-FastAPI's dialect).
            #[allow(dead_code)]
            pub(crate) fn own(rx: Notifications) -> Self {
                Self {
                    feed: Feed::own(rx, $member),
                    _value: PhantomData,
                }
            }

            /// The `messageID` of the last notification yielded, when the server names them
            /// (the Web Thing Protocol).
            pub fn last_notification_id(&self) -> Option<&str> {
                self.feed.last_id.as_deref()
            }
        }

        impl<T: DeserializeOwned> Stream for $name<T> {
            type Item = Result<T, ClientError>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                self.get_mut().feed.poll_value(cx)
            }
        }
    };
}

typed_stream!(
    /// The values of an observed property, from
    /// [`ThingClient::observe`](super::ThingClient::observe): over the Web Thing Protocol the
    /// current value first, then each change. When its connection is lost it reconnects and
    /// goes on from the latest value ([`ClientBuilder::reconnect`](super::ClientBuilder::reconnect));
    /// it ends, after an error, when that fails or over LabThings-FastAPI's dialect. Dropping
    /// it stops the observation.
    PropertyStream,
    "value"
);

typed_stream!(
    /// The emissions of an event, from
    /// [`ThingClient::subscribe`](super::ThingClient::subscribe), in order. When its
    /// connection is lost it reconnects and resumes after the last emission it gave, so that
    /// none is lost ([`ClientBuilder::reconnect`](super::ClientBuilder::reconnect)); when the
    /// server can no longer tell what was missed, it yields [`ClientError::Missed`] and goes
    /// on. It ends, after an error, when reconnecting fails. Dropping it unsubscribes.
    EventStream,
    "data"
);
