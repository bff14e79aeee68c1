//! The server: publishes Things over HTTP and WebSocket (and MQTT, when configured), with
//! the security, limits and lifecycle a lab needs.
//!
//! [`ThingServer`] is the builder; [`prepared`] turns it into a [`Started`] server (its Things
//! connected, their settings loaded, their start hooks run) and the router of its bindings
//! ([`http`], [`ws`], [`mqtt`]) over the [interaction interface](crate::interaction).

mod accepted;
#[cfg(feature = "dashboard")]
mod dashboard;
pub(crate) mod discovery;
pub(crate) mod http;
mod ids;
#[cfg(feature = "metrics")]
pub(crate) mod metrics;
#[cfg(feature = "mqtt")]
pub(crate) mod mqtt;
#[cfg(feature = "openapi")]
mod openapi;
mod optional;
mod prepared;
mod router;
pub(crate) mod security;
mod serve;
pub(crate) mod state;
#[cfg(feature = "tls")]
pub(crate) mod tls;
pub(crate) mod ws;

use std::collections::HashMap;
#[cfg(feature = "discovery")]
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;

pub(crate) use ids::{default_server_id, thing_urn};
#[cfg(feature = "mqtt")]
pub use mqtt::{Mqtt, MqttError};
pub use prepared::Started;
pub use serve::Serve;
#[cfg(feature = "tls")]
pub use tls::{Tls, TlsError};
pub use ws::WsLimits;

use crate::interaction::Scope;
use crate::model::thing::Thing;
use crate::runtime::hosted::{DynThing, Hosted};
use crate::runtime::invocations::Retention;
use crate::runtime::lifecycle::{SlotNames, StartError};
use crate::runtime::limits::Limits;
use crate::tokens::Tokens;

/// Publishes any number of Things over HTTP and WebSocket.
///
/// Build it, then either serve it on a listener of your own ([`serve`](Self::serve), which
/// works like `axum::serve`), or turn it into an [`axum::Router`] to nest into a larger
/// application ([`into_router`](Self::into_router)). The library prints nothing and installs
/// no `tracing` subscriber; [`cli::App`](crate::cli::App) does both for programs.
///
/// ```no_run
/// # use labthings::{thing, ThingServer};
/// # #[thing] struct Counter { #[property] count: i64 }
/// # async fn run() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:5000").await?;
/// ThingServer::new()
///     .thing("counter", Counter { count: 0.into() })
///     .serve(listener)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap() })
///     .await
/// # }
/// ```
pub struct ThingServer {
    pub(crate) things: Vec<(String, Arc<dyn DynThing>)>,
    pub(crate) prefix: String,
    pub(crate) cors_origins: Vec<String>,
    pub(crate) allowed_hosts: Vec<String>,
    pub(crate) tokens: Tokens,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Tls>,
    pub(crate) retention: Retention,
    pub(crate) ws: WsLimits,
    pub(crate) limits: Limits,
    pub(crate) device_threads: usize,
    pub(crate) settings_dir: std::path::PathBuf,
    pub(crate) slot_names: SlotNames,
    /// Names this server in the TD `id`s of its Things.
    pub(crate) server_id: String,
    /// TD `id`s given explicitly, by Thing name.
    pub(crate) thing_ids: HashMap<String, String>,
    pub(crate) shutdown: CancellationToken,
    #[cfg(feature = "mqtt")]
    pub(crate) mqtt: Option<mqtt::Mqtt>,
    /// Whether to advertise the server over DNS-SD (`None`: on non-loopback addresses).
    #[cfg(feature = "discovery")]
    pub(crate) advertise: Option<bool>,
    /// Its metrics, unless turned off.
    #[cfg(feature = "metrics")]
    pub(crate) metrics: Option<Arc<metrics::Metrics>>,
    /// Bounds of the value histories of single properties: `(thing, property, bounds)`.
    #[cfg(feature = "history")]
    pub(crate) property_history: Vec<(String, String, crate::broker::SeriesLimits)>,
    /// Whether invocations keep provenance records (see [`ThingServer::provenance`]).
    #[cfg(feature = "provenance")]
    pub(crate) provenance: bool,
    /// The directory to register the Things into (see [`ThingServer::register_into`]).
    #[cfg(feature = "directory")]
    pub(crate) directory: Option<discovery::register::Directory>,
}

impl std::fmt::Debug for ThingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThingServer")
            .field(
                "things",
                &self.things.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("prefix", &self.prefix)
            .field("cors_origins", &self.cors_origins)
            .field("allowed_hosts", &self.allowed_hosts)
            .field("tokens", &self.tokens)
            .field("tls", &self.serves_tls())
            .field("retention", &self.retention)
            .field("ws", &self.ws)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for ThingServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ThingServer {
    /// A server with no Things, no prefix, no CORS, no tokens, no TLS, and default limits.
    pub fn new() -> Self {
        Self {
            things: Vec::new(),
            prefix: String::new(),
            cors_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            tokens: Tokens::default(),
            #[cfg(feature = "tls")]
            tls: None,
            retention: Retention::default(),
            ws: WsLimits::default(),
            limits: Limits::default(),
            device_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            settings_dir: std::path::PathBuf::from("settings"),
            slot_names: SlotNames::new(),
            server_id: default_server_id(),
            thing_ids: HashMap::new(),
            shutdown: CancellationToken::new(),
            #[cfg(feature = "mqtt")]
            mqtt: None,
            #[cfg(feature = "discovery")]
            advertise: None,
            #[cfg(feature = "metrics")]
            metrics: Some(metrics::Metrics::new()),
            #[cfg(feature = "history")]
            property_history: Vec::new(),
            #[cfg(feature = "provenance")]
            provenance: true,
            #[cfg(feature = "directory")]
            directory: None,
        }
    }

    /// Name this server in the TD `id` of each Thing, `urn:labthings:{server_id}:{thing}`
    /// (default: the machine's host name). The `id` is what Web Thing Protocol clients name
    /// a Thing by, so it should stay the same across restarts.
    pub fn server_id(mut self, id: &str) -> Self {
        self.server_id = id.to_owned();
        self
    }

    /// Give Thing `thing` the TD `id` `id` (a URI), instead of the one made from the
    /// [`server_id`](Self::server_id).
    pub fn thing_id(mut self, thing: &str, id: &str) -> Self {
        self.thing_ids.insert(thing.to_owned(), id.to_owned());
        self
    }

    /// Publish `thing` at `/{name}/`.
    ///
    /// # Panics
    /// If `name` is not made of ASCII letters, digits, `_` and `-`, is reserved for the
    /// server's own routes (`things`, `thing_descriptions`, `action_invocations`, …), or is
    /// already used.
    pub fn thing<T: Thing>(self, name: &str, thing: T) -> Self {
        self.shared_thing(name, Arc::new(thing))
    }

    /// Publish a Thing that Rust code also holds.
    ///
    /// # Panics
    /// As [`thing`](Self::thing).
    pub fn shared_thing<T: Thing>(mut self, name: &str, thing: Arc<T>) -> Self {
        if let Err(problem) = crate::model::naming::check_thing(name) {
            panic!("{problem}");
        }
        assert!(
            self.things.iter().all(|(n, _)| n != name),
            "two Things are called '{name}'"
        );
        self.things
            .push((name.to_owned(), Arc::new(Hosted::new(name, thing))));
        self
    }

    /// Serve every route under `prefix` (e.g. `/api/v3`; default none).
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.trim_end_matches('/').to_owned();
        if !self.prefix.is_empty() && !self.prefix.starts_with('/') {
            self.prefix.insert(0, '/');
        }
        self
    }

    /// Allow pages from these origins (as browsers write them: `https://dashboard.lab:8443`)
    /// to use the server: CORS, and requests that change state. Default: none besides the
    /// server's own pages.
    pub fn cors_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cors_origins = origins
            .into_iter()
            .map(|o| o.into().trim_end_matches('/').to_owned())
            .collect();
        self
    }

    /// Host names the server answers to besides its own addresses (and `localhost`), e.g.
    /// `microscope.lab.example`; `*` answers to any (behind a proxy that checks them).
    pub fn allowed_hosts<I, S>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Require a bearer token: clients presenting `token` get `scope`. Once a token is
    /// configured, every route needs one.
    ///
    /// # Panics
    /// If `token` is shorter than 16 characters or holds spaces or non-ASCII characters.
    pub fn token(mut self, scope: Scope, token: &str) -> Self {
        if let Err(problem) = crate::tokens::check_token(token) {
            panic!("{problem}");
        }
        self.tokens.add(scope, token, None);
        self
    }

    /// As [`token`](Self::token), naming who holds it (`subject`: a person, a robot, a
    /// script), as the provenance records of the invocations it asks for name them.
    ///
    /// # Panics
    /// As [`token`](Self::token), and if `subject` is empty, longer than 200 bytes or holds
    /// control characters.
    pub fn named_token(mut self, scope: Scope, token: &str, subject: &str) -> Self {
        let checked = crate::tokens::check_token(token);
        if let Err(problem) = checked.and_then(|()| crate::tokens::check_subject(subject)) {
            panic!("{problem}");
        }
        self.tokens.add(scope, token, Some(subject));
        self
    }

    /// Serve HTTPS and `wss://` with this certificate (see [`serve`](Self::serve)).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// How long finished invocations stay queryable (default 300 s).
    pub fn retention_time(mut self, time: Duration) -> Self {
        self.retention.time = time;
        self
    }

    /// How many finished invocations are kept at most (default 1000).
    pub fn max_finished_invocations(mut self, max: usize) -> Self {
        self.retention.max_finished = max;
        self
    }

    /// Limits of WebSocket connections (message size, queue lengths, requests in flight).
    pub fn ws_limits(mut self, limits: WsLimits) -> Self {
        self.ws = limits;
        self
    }

    /// Keep up to `samples` samples, none older than `age`, in the value history of
    /// `property` of Thing `thing` (instead of [`Limits::property_history`] and
    /// [`Limits::property_history_age`]; 0 samples: none). The server refuses to start if the
    /// Thing has no such observable numeric or boolean property.
    #[cfg(feature = "history")]
    pub fn property_history(
        mut self,
        thing: &str,
        property: &str,
        samples: usize,
        age: std::time::Duration,
    ) -> Self {
        let limits = crate::broker::SeriesLimits { samples, age };
        (self.property_history).push((thing.to_owned(), property.to_owned(), limits));
        self
    }

    /// Limits of requests, connections and invocations.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Where settings are kept: `{dir}/{thing}.json` (default `./settings`).
    pub fn settings_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.settings_dir = dir.into();
        self
    }

    /// Fill slot `slot` of Thing `thing` with the Things called `targets` (instead of the
    /// only Thing of the slot's type).
    pub fn slot<I, S>(mut self, thing: &str, slot: &str, targets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.slot_names.insert(
            (thing.to_owned(), slot.to_owned()),
            targets.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Publish the Things through an MQTT broker too (W3C WoT MQTT binding; see [`Mqtt`]),
    /// while serving with [`serve`](Self::serve).
    #[cfg(feature = "mqtt")]
    #[cfg_attr(docsrs, doc(cfg(feature = "mqtt")))]
    pub fn mqtt(mut self, mqtt: Mqtt) -> Self {
        self.mqtt = Some(mqtt);
        self
    }

    /// Worker threads of the runtime that runs device code (default: one per core).
    pub fn device_threads(mut self, threads: usize) -> Self {
        self.device_threads = threads.max(1);
        self
    }

    /// The names of the Things, in the order they were added.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        self.things.iter().map(|(name, _)| name.as_str())
    }

    /// The API prefix (empty, or starting with `/`).
    pub fn api_prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether it serves HTTPS.
    pub fn serves_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        return self.tls.is_some();
        #[cfg(not(feature = "tls"))]
        false
    }

    /// Whether clients need a bearer token.
    pub fn requires_tokens(&self) -> bool {
        self.tokens.enabled()
    }

    /// A handle that shuts the server's Things down: running invocations are cancelled and
    /// WebSockets are closed with 1001. [`serve`](Self::serve) uses it when its graceful
    /// shutdown starts; with [`into_router`](Self::into_router), call it yourself.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            token: self.shutdown.clone(),
        }
    }

    /// The axum router of every route, under the prefix; nest or merge it into your own.
    ///
    /// Slots are connected and settings loaded at once; start hooks do not run (use
    /// [`start`](Self::start) for Things that have some). Pending settings are saved when
    /// the [`shutdown_handle`](Self::shutdown_handle) is used. It answers to `localhost`, the
    /// addresses of the machine's interfaces and the [`allowed_hosts`](Self::allowed_hosts);
    /// TLS is up to the application that serves it.
    ///
    /// # Panics
    /// If a slot cannot be connected, or the runtime for device code cannot start.
    pub fn into_router(self) -> Router {
        let saver_stop = self.shutdown.clone();
        let prepared = match prepared::Prepared::new(self, saver_stop) {
            Ok(prepared) => prepared,
            Err(error) => panic!("the Things cannot start:\n{error}"),
        };
        prepared.into_router()
    }

    /// Start the Things: connect their slots, load their settings, and run their start hooks
    /// in slot order (if one fails, the Things already started are stopped in reverse, and
    /// the error names the Thing). Then [`serve`](Started::serve) them.
    pub async fn start(self) -> Result<Started, StartError> {
        prepared::Prepared::new(self, CancellationToken::new())?
            .start()
            .await
    }

    /// Serve on `listener` (as `axum::serve` does), after [`start`](Self::start)ing the
    /// Things. Await the result to serve until the process ends, or call
    /// [`Serve::with_graceful_shutdown`] first; a start that fails is an error of kind
    /// `Other` carrying the [`StartError`].
    ///
    /// Served on a loopback address, the server answers only to loopback host names (and the
    /// [`allowed_hosts`](Self::allowed_hosts)); on another address, also to the addresses
    /// of the machine's interfaces. With [`tls`](Self::tls), it speaks HTTPS only.
    pub fn serve(self, listener: tokio::net::TcpListener) -> Serve {
        Serve::new(listener, serve::Server::Unstarted(self))
    }

    /// What takes the TLS handshakes of its connections, when it serves HTTPS.
    pub(crate) fn acceptor(&self) -> Option<accepted::Acceptor> {
        #[cfg(feature = "tls")]
        return self.tls.as_ref().map(|tls| tls.config.clone().into());
        #[cfg(not(feature = "tls"))]
        None
    }

    /// Whether it is advertised when served on `bind` (by default, on an address other than
    /// loopback), and then the address; it also answers to the name it is advertised under.
    #[cfg(feature = "discovery")]
    pub(crate) fn advertised_on(&mut self, bind: Option<SocketAddr>) -> Option<SocketAddr> {
        let bind = bind?;
        if !self.advertise.unwrap_or(!bind.ip().is_loopback()) {
            return None;
        }
        self.allowed_hosts.push(discovery::mdns::local_host_name());
        Some(bind)
    }

    /// The TD `id` of Thing `name`.
    pub(crate) fn id_of(&self, name: &str) -> String {
        self.thing_ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| thing_urn(&self.server_id, name))
    }
}

/// Shuts a server's Things down: cancels every running invocation and closes WebSockets.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    token: CancellationToken,
}

impl ShutdownHandle {
    /// Cancel every running invocation and close every WebSocket with 1001.
    pub fn shutdown(&self) {
        self.token.cancel();
    }
}
