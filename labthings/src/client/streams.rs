//! Observed properties and subscribed events, as `Stream`s of typed values.

use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::ClientError;
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
    last_id: Option<String>,
    _unsubscribe: Option<Unsubscribe>,
}

impl Feed {
    fn poll_value<T: DeserializeOwned>(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, ClientError>>> {
        loop {
            let message = match self.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
                Poll::Ready(Some(Ok(message))) => message,
            };
            if message.get("messageType").and_then(Value::as_str) != Some("notification") {
                continue;
            }
            if let Some(id) = message.get("messageID").and_then(Value::as_str) {
                self.last_id = Some(id.to_owned());
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
            pub(crate) fn over_socket(
                session: Arc<Session>,
                correlation: String,
                rx: Notifications,
                unsubscribe: Map<String, Value>,
            ) -> Self {
                Self {
                    feed: Feed {
                        rx,
                        member: $member,
                        last_id: None,
                        _unsubscribe: Some(Unsubscribe {
                            session,
                            correlation,
                            request: unsubscribe,
                        }),
                    },
                    _value: PhantomData,
                }
            }

            #[allow(dead_code)]
            pub(crate) fn own(rx: Notifications) -> Self {
                Self {
                    feed: Feed {
                        rx,
                        member: $member,
                        last_id: None,
                        _unsubscribe: None,
                    },
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
    /// current value first, then each change. It ends, after an error, when the connection
    /// closes; dropping it stops the observation.
    PropertyStream,
    "value"
);

typed_stream!(
    /// The emissions of an event, from
    /// [`ThingClient::subscribe`](super::ThingClient::subscribe), in order. It ends, after an
    /// error, when the connection closes; dropping it unsubscribes.
    EventStream,
    "data"
);
