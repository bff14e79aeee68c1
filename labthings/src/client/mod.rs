//! A client of Web Things, behind the `client` cargo feature.
//!
//! [`Client::thing`] reads a Thing Description from its URL and gives a [`ThingClient`]
//! that reads and writes properties, invokes actions and awaits them, observes properties
//! and subscribes to events, choosing for each operation the form the TD offers:
//!
//! - properties are read and written over HTTP (`GET` / `PUT` of the `readproperty` and
//!   `writeproperty` forms);
//! - an action is invoked over the Thing's Web Thing Protocol WebSocket when the TD has one
//!   (a form with `"subprotocol": "webthingprotocol"`, as this crate's server publishes), and
//!   its completion arrives as a notification: no polling. Against a server without one
//!   (LabThings-FastAPI) it is invoked with `POST` and its invocation polled, 5 ms after it
//!   started, then twice as long each time up to 250 ms ([`ClientBuilder::poll_interval`]);
//! - a property is observed over a Web Thing Protocol socket of its own (so that two streams
//!   of one property are independent),
//!   or over LabThings-FastAPI's own WebSocket dialect (`{thing}/ws`,
//!   `addPropertyObservation`) when the TD has no WebSocket form. The Web Thing Protocol
//!   sends the current value first; LabThings-FastAPI sends changes only;
//! - an event is subscribed to over a Web Thing Protocol socket of its own (there is no
//!   fallback: a TD without such a form gives [`ClientError::Unsupported`]);
//! - a server whose `invokeaction` answers the output itself, rather than an invocation
//!   to follow, gives that output.
//!
//! A stream whose connection is lost reconnects and resumes after the last notification it
//! gave, for up to a minute ([`ClientBuilder::reconnect`]); an event stream that the server
//! can no longer resume says so with [`ClientError::Missed`]. A lost network that closes nothing (a half-open connection) is
//! noticed too: a socket silent for 20 s is pinged, and one that does not answer within as
//! long again is taken as lost ([`ClientBuilder::keepalive`]).
//!
//! A [`Blob`](crate::Blob) in an action's output arrives as a link: [`ThingClient::download`]
//! fetches its bytes, and the link can be passed to another action as it is. Local data
//! becomes such a link with [`ThingClient::upload`].
//!
//! Every refusal carries the server's problem details ([`ClientError::problem`]); a bearer
//! token ([`ClientBuilder::bearer_token`]) is sent on every request and WebSocket upgrade to
//! the Thing's own host and port, and `https` / `wss` use rustls with the web's root
//! certificates plus any given with [`ClientBuilder::root_certificate_pem`].
//!
//! ```no_run
//! # async fn run() -> Result<(), labthings::client::ClientError> {
//! use futures_util::StreamExt;
//! use labthings::client::Client;
//!
//! let counter = Client::new().thing("http://127.0.0.1:5000/counter/").await?;
//! counter.write("step", &5).await?;
//! let count: i64 = counter.invoke("increment", &()).await?;
//! let mut changes = counter.observe::<i64>("count").await?;
//! while let Some(count) = changes.next().await {
//!     println!("count is now {}", count?);
//! }
//! # Ok(()) }
//! ```
//!
//! `#[thing]` also generates a typed client for each Thing: for `Counter`, a `CounterClient`
//! with one method per affordance, whose types are the Thing's own. A property's method gives
//! a [`RemoteProperty`] that can be read, written or observed only where the Thing allows it:
//! writing a read-only property or observing one that is not observable is a compile error.
//!
//! ```no_run
//! # #[labthings::thing] struct Counter { #[property(observable, read_only)] count: i64 }
//! # #[labthings::thing] impl Counter {
//! #     #[action] fn increment(&self) -> i64 { 0 }
//! # }
//! # async fn run() -> Result<(), labthings::client::ClientError> {
//! let counter = CounterClient::connect("http://127.0.0.1:5000/counter/").await?;
//! let count: i64 = counter.increment().await?;
//! assert_eq!(counter.count().read().await?, count);
//! # Ok(()) }
//! ```

mod error;
mod forms;
mod invocation;
mod labthings_ws;
mod liveness;
mod resume;
mod session;
mod streams;
mod thing;
mod typed;

use std::sync::Arc;
use std::time::Duration;

pub use error::ClientError;
pub use invocation::{ActionState, Invocation};
pub use streams::{EventStream, PropertyStream};
pub use thing::ThingClient;
pub use typed::{
    ActionCall, CanObserve, CannotObserve, ClientFuture, IsObservable, IsReadable, IsWritable,
    ReadOnly, ReadWrite, RemoteEvent, RemoteProperty, TypedClient, WriteOnly,
};

/// Read `value` as a `T`, accepting integral floats (`1.0`) for integers. Blobs in it are
/// read as links to the server's blobs.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ClientError> {
    crate::model::blob::as_client(|| decode_value(value))
}

fn decode_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, ClientError> {
    T::deserialize(&value)
        .or_else(|error| {
            let mut value = value;
            match crate::model::validate::integral_floats_as_integers(&mut value) {
                true => T::deserialize(value),
                false => Err(error),
            }
        })
        .map_err(ClientError::Value)
}

/// A client of Web Things: an HTTP connection pool, the TLS configuration, the credentials.
/// Cheap to clone; one is enough for a whole program.
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    token: Option<String>,
    timeout: Duration,
    poll: (Duration, Duration),
    websocket: bool,
    keepalive: Option<Duration>,
    reconnect: Option<Duration>,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// A client with the defaults: no token, the web's root certificates, a 30 s timeout.
    pub fn new() -> Self {
        Self::builder()
            .build()
            .expect("the default client configuration is valid")
    }

    /// Configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Read the Thing Description at `url` (a Thing's URL, e.g.
    /// `http://127.0.0.1:5000/counter/`) and give a client of that Thing.
    pub async fn thing(&self, url: &str) -> Result<ThingClient, ClientError> {
        ThingClient::fetch(self.clone(), url::Url::parse(url)?).await
    }

    /// A client of the Thing described by `td`, read from `url` (relative `href`s without a
    /// `base` resolve against it).
    pub fn thing_from_description(
        &self,
        url: &str,
        td: serde_json::Value,
    ) -> Result<ThingClient, ClientError> {
        ThingClient::new(self.clone(), url::Url::parse(url)?, td)
    }

    /// Its HTTP client (with its TLS roots), for the server's own requests (registering
    /// into a directory).
    #[cfg(feature = "directory")]
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.shared.http
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The token to send to `target`, for a Thing whose TD was read from `origin`: only to
    /// the same host and port, and never from `https` down to plain `http` or `ws`.
    pub(crate) fn token_for(&self, origin: &url::Url, target: &url::Url) -> Option<&str> {
        let token = self.shared.token.as_deref()?;
        let secure = |url: &url::Url| matches!(url.scheme(), "https" | "wss");
        let same_place = origin.host_str() == target.host_str() && port(origin) == port(target);
        (same_place && (secure(target) || !secure(origin))).then_some(token)
    }
}

/// The port of `url`, with `ws`/`wss` counted as `http`/`https`.
fn port(url: &url::Url) -> Option<u16> {
    url.port().or(match url.scheme() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    })
}

/// The configuration of a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    token: Option<String>,
    roots: Vec<rustls_pki_types::CertificateDer<'static>>,
    web_roots: bool,
    timeout: Duration,
    poll: (Duration, Duration),
    websocket: bool,
    keepalive: Option<Duration>,
    reconnect: Option<Duration>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            token: None,
            roots: Vec::new(),
            web_roots: true,
            timeout: Duration::from_secs(30),
            poll: (Duration::from_millis(5), Duration::from_millis(250)),
            websocket: true,
            keepalive: Some(Duration::from_secs(20)),
            reconnect: Some(Duration::from_secs(60)),
        }
    }
}

impl ClientBuilder {
    /// Send `Authorization: Bearer {token}` with every request and WebSocket upgrade to the
    /// host and port a Thing Description was read from (never elsewhere, whatever a TD or an
    /// answer links to, and never from `https` down to `http`).
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Trust the certificates of `pem` (e.g. a lab's own certificate authority, or a
    /// server's self-signed certificate) besides the web's root certificates.
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ClientError> {
        let certs = crate::pem::certificates(pem)
            .map_err(|e| ClientError::Tls(format!("the root certificate: {e}")))?;
        self.roots.extend(certs);
        Ok(self)
    }

    /// Whether to trust the web's root certificates (Mozilla's, built in); on by default.
    pub fn web_root_certificates(mut self, trust: bool) -> Self {
        self.web_roots = trust;
        self
    }

    /// How long to wait for an answer to one request (not for an action to complete): 30 s by
    /// default.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When polling an invocation (a server without a WebSocket form): wait `first` (at least
    /// 1 ms), then twice as long each time up to `max`. 5 ms and 250 ms by default.
    pub fn poll_interval(mut self, first: Duration, max: Duration) -> Self {
        let first = first.max(Duration::from_millis(1));
        self.poll = (first, max.max(first));
        self
    }

    /// Whether to invoke actions over a Thing's Web Thing Protocol socket where its TD offers
    /// one (on by default); off, they are invoked with `POST` and polled, as on a server
    /// without one.
    pub fn actions_over_websocket(mut self, use_it: bool) -> Self {
        self.websocket = use_it;
        self
    }

    /// How long a WebSocket (an observation, a subscription, the socket actions are followed
    /// on) may be silent (no byte arriving: a large message that arrives slowly is not
    /// silence) before it is pinged; when a ping brings nothing back within as long again,
    /// the connection is taken as lost and its streams end with
    /// [`ClientError::Disconnected`]. 20 s by default (at least 10 ms); `None` waits as long as
    /// TCP does, which on a lost network can be hours.
    pub fn keepalive(mut self, every: Option<Duration>) -> Self {
        self.keepalive = every.map(|every| every.max(Duration::from_millis(10)));
        self
    }

    /// How long an observation or an event subscription keeps trying to reconnect after its
    /// connection is lost (waiting 50 ms, then twice as long each time up to 2 s), before it
    /// ends with [`ClientError::Disconnected`]. It resumes after the last notification it
    /// gave (the Web Thing Protocol's `lastNotificationID`), so that a server that still
    /// keeps them sends what was missed. 60 s by default; `None` ends a stream at once.
    pub fn reconnect(mut self, within: Option<Duration>) -> Self {
        self.reconnect = within;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Client, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.web_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in self.roots {
            roots.add(cert).map_err(|e| {
                ClientError::Tls(format!("the root certificate is not usable: {e}"))
            })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = Arc::new(tls);
        let http = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .timeout(self.timeout)
            .build()?;
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                tls,
                token: self.token,
                timeout: self.timeout,
                poll: self.poll,
                websocket: self.websocket,
                keepalive: self.keepalive,
                reconnect: self.reconnect,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_where_the_td_came_from() {
        let client = Client::builder()
            .bearer_token("a-token-of-16-chars")
            .build()
            .unwrap();
        let url = |s: &str| url::Url::parse(s).unwrap();
        let plain = url("http://lab:5000/counter/");
        assert!(
            client
                .token_for(&plain, &url("http://lab:5000/blob/1"))
                .is_some()
        );
        assert!(
            client
                .token_for(&plain, &url("ws://lab:5000/counter/ws"))
                .is_some()
        );
        assert!(
            client
                .token_for(&plain, &url("http://evil:5000/x"))
                .is_none()
        );
        assert!(
            client
                .token_for(&plain, &url("http://lab:5001/x"))
                .is_none()
        );
        let secure = url("https://lab/counter/");
        assert!(
            client
                .token_for(&secure, &url("wss://lab:443/counter/ws"))
                .is_some()
        );
        // Never from https down to plain http.
        assert!(
            client
                .token_for(&secure, &url("http://lab:443/x"))
                .is_none()
        );
        assert!(Client::new().token_for(&plain, &plain).is_none());
    }
}
