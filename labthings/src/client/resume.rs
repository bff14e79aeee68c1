//! Subscriptions over the Web Thing Protocol, and their resumption after a lost connection:
//! a stream whose socket closes opens a new one and subscribes again, naming the last
//! notification it saw (`lastNotificationID`), so that the server sends what it missed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use url::Url;

use super::session::{Notifications, Session};
use super::{ClientError, ThingClient};

/// The first wait before trying to reconnect; it doubles up to [`LONGEST_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(50);
/// The longest wait between two attempts to reconnect.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// One subscription on a socket of its own.
pub(crate) struct Subscription {
    pub(crate) session: Arc<Session>,
    pub(crate) correlation: String,
    pub(crate) rx: Notifications,
    /// When it resumed after `lastNotificationID` and the server could not give everything
    /// after it: why.
    pub(crate) gap: Option<String>,
    /// The server's latest notification when it subscribed: where to resume from while no
    /// notification has come.
    pub(crate) so_far: Option<String>,
}

/// What a stream needs to subscribe (again).
#[derive(Clone)]
pub(crate) struct Resume {
    pub(crate) thing: ThingClient,
    pub(crate) url: Url,
    /// `observeproperty` or `subscribeevent`.
    pub(crate) operation: &'static str,
    /// `unobserveproperty` or `unsubscribeevent`.
    pub(crate) stop: &'static str,
    pub(crate) name: String,
}

/// A reconnection under way.
pub(crate) type Reopening = Pin<Box<dyn Future<Output = Result<Subscription, ClientError>> + Send>>;

impl Resume {
    /// The request that subscribes, after `last_id` if given.
    pub(crate) fn request(&self, last_id: Option<&str>) -> Map<String, Value> {
        let mut request = request(self.operation, &self.name);
        if let Some(id) = last_id {
            request.insert("lastNotificationID".into(), id.into());
        }
        request
    }

    /// The request that ends the subscription.
    pub(crate) fn stop_request(&self) -> Map<String, Value> {
        request(self.stop, &self.name)
    }

    /// Subscribe on a new socket, after `last_id` if given.
    pub(crate) async fn open(&self, last_id: Option<&str>) -> Result<Subscription, ClientError> {
        // A socket of its own: the server keeps one subscription per affordance and socket,
        // so two streams of one property on a shared socket would replace each other.
        let token = self.thing.token(&self.url);
        let session = Session::open(self.thing.client(), &self.url, token).await?;
        let (correlation, response, rx) = session.subscribe(self.request(last_id)).await?;
        let gap = match response.get("resumed") {
            Some(Value::Bool(true)) => None,
            Some(_) => Some(
                response
                    .get("resumeDetail")
                    .and_then(Value::as_str)
                    .unwrap_or("the server could not tell what was missed")
                    .to_owned(),
            ),
            // A server that does not resume says nothing about it.
            None => last_id.map(|_| {
                "the server does not resume subscriptions: what was sent while reconnecting is missing".to_owned()
            }),
        };
        let so_far = response
            .get("lastNotificationID")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Subscription {
            session,
            correlation,
            rx,
            gap,
            so_far,
        })
    }

    /// Reconnect after the connection closed (`lost` says why), after `delay`, then trying
    /// for up to `within` with waits from 50 ms doubling to 2 s. A refusal of the request
    /// itself (the token no longer accepted, a request the server does not take) ends the
    /// attempts at once; a 404 does not, as a proxy answers it while a server restarts.
    pub(crate) fn reopen(
        &self,
        last_id: Option<String>,
        lost: ClientError,
        within: Duration,
        delay: Duration,
    ) -> Reopening {
        let this = self.clone();
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let give_up = Instant::now() + within;
            let mut wait = FIRST_WAIT;
            loop {
                match this.open(last_id.as_deref()).await {
                    Ok(subscription) => return Ok(subscription),
                    Err(error) if passing(&error) && Instant::now() + wait < give_up => {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(LONGEST_WAIT);
                    }
                    Err(error) => {
                        return Err(ClientError::Disconnected(Some(format!(
                            "{lost}; reconnecting failed: {error}"
                        ))));
                    }
                }
            }
        })
    }
}

/// How long a connection must have lasted for its loss to be reconnected at once; one lost
/// sooner waits as long as the last attempt did, doubled, so that a server that accepts and
/// then closes at once is not hammered.
pub(crate) const STABLE: Duration = Duration::from_secs(5);

/// The wait before reconnecting, after one of `previous` for a connection that lasted
/// `lasted`.
pub(crate) fn backoff(previous: Duration, lasted: Duration) -> Duration {
    if lasted >= STABLE {
        Duration::ZERO
    } else {
        (previous * 2).clamp(FIRST_WAIT, LONGEST_WAIT)
    }
}

/// Whether trying again later may succeed: anything but a refusal of the request itself (a
/// proxy may answer 404 or 502 while a server restarts).
fn passing(error: &ClientError) -> bool {
    match error {
        ClientError::Refused(problem) => !matches!(problem.status, 400 | 401 | 403 | 405 | 422),
        ClientError::Http(_)
        | ClientError::WebSocket(_)
        | ClientError::Disconnected(_)
        | ClientError::Timeout(_) => true,
        _ => false,
    }
}

/// A request naming an affordance.
pub(crate) fn request(operation: &str, name: &str) -> Map<String, Value> {
    let mut request = Map::new();
    request.insert("operation".into(), operation.into());
    request.insert("name".into(), name.into());
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnections_back_off_only_when_connections_do_not_last() {
        let brief = Duration::from_millis(10);
        assert_eq!(backoff(Duration::ZERO, STABLE), Duration::ZERO);
        assert_eq!(backoff(Duration::ZERO, brief), FIRST_WAIT);
        assert_eq!(backoff(FIRST_WAIT, brief), FIRST_WAIT * 2);
        assert_eq!(backoff(LONGEST_WAIT, brief), LONGEST_WAIT);
        assert_eq!(backoff(LONGEST_WAIT, STABLE * 2), Duration::ZERO);
    }

    #[test]
    fn only_a_refusal_of_the_request_itself_is_final() {
        let refused = |status| ClientError::Refused(crate::problem::Problem::new(status, "x"));
        for status in [404, 408, 429, 500, 502, 503] {
            assert!(passing(&refused(status)), "{status}");
        }
        for status in [400, 401, 403, 422] {
            assert!(!passing(&refused(status)), "{status}");
        }
        assert!(passing(&ClientError::Disconnected(None)));
        assert!(!passing(&ClientError::Protocol("x".into())));
    }
}
