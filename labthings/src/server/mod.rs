//! The server that publishes Things over HTTP and WebSocket.

mod blobs;
mod dashboard;
mod device;
pub(crate) mod discovery;
mod extract;
pub(crate) mod fuzz;
mod hosted;
mod http;
mod invocations;
mod lifecycle;
mod limits;
mod mjpeg;
pub(crate) mod mqtt;
pub(crate) mod security;
mod serve;
mod settings;
mod sse;
pub(crate) mod tls;
pub(crate) mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::thing::Thing;
use device::Device;
use hosted::{DynThing, Hosted};
use invocations::Invocations;
pub use invocations::Retention;
use lifecycle::SlotNames;
pub use lifecycle::StartError;
pub use limits::Limits;
pub use mqtt::{Mqtt, MqttError};
pub use security::auth::Scope;
use security::auth::Tokens;
use security::{GuardLayer, Policy};
pub use serve::Serve;
pub use tls::{Tls, TlsError};
use ws::ThingView;
pub use ws::WsLimits;

/// One published Thing.
pub(crate) struct Entry {
    pub(crate) thing: Arc<dyn DynThing>,
    /// Its TD `id`.
    pub(crate) id: String,
    /// What its WebSocket connections know of it (one view: the socket's own Thing).
    pub(crate) views: Arc<[Arc<ThingView>]>,
}

/// What the request handlers share.
pub(crate) struct ServerState {
    pub(crate) things: HashMap<String, Entry>,
    pub(crate) order: Vec<String>,
    /// Every Thing, in order, for the shared WebSocket `/ws`.
    pub(crate) views: Arc<[Arc<ThingView>]>,
    /// One per Server-Sent Events stream that may open.
    pub(crate) stream_permits: Arc<tokio::sync::Semaphore>,
    /// Where uploads are written (created on the first upload).
    pub(crate) upload_dir: std::path::PathBuf,
    pub(crate) prefix: String,
    pub(crate) invocations: Arc<Invocations>,
    pub(crate) ws: WsLimits,
    pub(crate) limits: Limits,
    pub(crate) policy: Arc<Policy>,
    /// Where device code runs.
    pub(crate) device: Device,
    /// The open WebSocket connections, so that shutdown can wait for their close frames.
    pub(crate) websockets: TaskTracker,
    /// One per WebSocket that may open.
    pub(crate) websocket_permits: Arc<tokio::sync::Semaphore>,
    /// Cancelled when the shutdown deadline passed: connections still open are dropped.
    pub(crate) kill: CancellationToken,
    /// What stopping the Things needs.
    pub(crate) lifecycle: Lifecycle,
    /// The MQTT binding, when configured.
    pub(crate) mqtt: Option<mqtt::Mqtt>,
    /// Names this server in its Things' TD `id`s.
    pub(crate) server_id: String,
}

/// The Things in start order, and the settings saver.
pub(crate) struct Lifecycle {
    pub(crate) things: Vec<(String, Arc<dyn DynThing>)>,
    pub(crate) order: Vec<usize>,
    /// Whether their start hooks ran (so their stop hooks must).
    pub(crate) started: bool,
    /// Stops the settings saver, which then saves what is pending.
    pub(crate) saver_stop: CancellationToken,
    pub(crate) saver: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What preparing the Things (before serving) produced.
struct Prepared {
    device: Device,
    order: Vec<usize>,
    started: bool,
    saver_stop: CancellationToken,
    saver: tokio::task::JoinHandle<()>,
}

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
    things: Vec<(String, Arc<dyn DynThing>)>,
    prefix: String,
    cors_origins: Vec<String>,
    allowed_hosts: Vec<String>,
    tokens: Tokens,
    tls: Option<Tls>,
    retention: Retention,
    ws: WsLimits,
    limits: Limits,
    device_threads: usize,
    settings_dir: std::path::PathBuf,
    slot_names: SlotNames,
    /// Names this server in the TD `id`s of its Things.
    server_id: String,
    /// TD `id`s given explicitly, by Thing name.
    thing_ids: HashMap<String, String>,
    shutdown: CancellationToken,
    prepared: Option<Prepared>,
    mqtt: Option<mqtt::Mqtt>,
    /// Whether to advertise the server over DNS-SD (`None`: on non-loopback addresses).
    advertise: Option<bool>,
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
            .field("tls", &self.tls.is_some())
            .field("retention", &self.retention)
            .field("ws", &self.ws)
            .field("limits", &self.limits)
            .field("mqtt", &self.mqtt)
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
            prepared: None,
            mqtt: None,
            advertise: None,
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

    /// The TD `id` of Thing `name`.
    fn id_of(&self, name: &str) -> String {
        self.thing_ids
            .get(name)
            .cloned()
            .unwrap_or_else(|| thing_urn(&self.server_id, name))
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
        if let Err(problem) = crate::naming::check_thing(name) {
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
        if let Err(problem) = security::auth::check_token(token) {
            panic!("{problem}");
        }
        self.tokens.add(scope, token);
        self
    }

    /// Serve HTTPS and `wss://` with this certificate (see [`serve`](Self::serve)).
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
    pub fn mqtt(mut self, mqtt: Mqtt) -> Self {
        self.mqtt = Some(mqtt);
        self
    }

    /// Whether to advertise the server on the local network over DNS-SD (mDNS), as a W3C WoT
    /// Thing Description Directory (`_directory._sub._wot._tcp`, `td=/.well-known/wot`), while
    /// serving with [`serve`](Self::serve). By default it is advertised when served on an
    /// address other than loopback.
    pub fn advertise(mut self, advertise: bool) -> Self {
        self.advertise = Some(advertise);
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
        self.tls.is_some()
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
    pub fn into_router(mut self) -> Router {
        let saver_stop = self.shutdown.clone();
        if let Err(error) = self.prepare(saver_stop) {
            panic!("the Things cannot start:\n{error}");
        }
        let stop = self.shutdown.clone();
        let (router, state) = self.build(None);
        // The TDs give MQTT forms: the binding runs until the shutdown handle is used.
        if let Some(config) = state.mqtt.clone() {
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let id = state.server_id.clone();
                    runtime.spawn(mqtt::run(state.clone(), config, id, stop));
                }
                Err(_) => tracing::error!(
                    "the MQTT binding needs a tokio runtime: call `into_router` inside one"
                ),
            }
        }
        router
    }

    /// Start the Things: connect their slots, load their settings, and run their start hooks
    /// in slot order (if one fails, the Things already started are stopped in reverse, and
    /// the error names the Thing). Then [`serve`](Started::serve) them.
    pub async fn start(mut self) -> Result<Started, StartError> {
        self.prepare(CancellationToken::new())?;
        let prepared = self.prepared.as_mut().expect("prepared");
        let deadline = self.limits.shutdown_deadline;
        lifecycle::start(&self.things, &prepared.order, &prepared.device, deadline).await?;
        prepared.started = true;
        Ok(Started(self))
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
        Serve::new(listener, self)
    }

    /// Connect slots, load settings, start the settings saver (stopped by `saver_stop`).
    fn prepare(&mut self, saver_stop: CancellationToken) -> Result<(), StartError> {
        if self.prepared.is_some() {
            return Ok(());
        }
        let device = Device::new(self.device_threads).map_err(|e| StartError {
            problems: vec![format!("the runtime for device code cannot start: {e}")],
        })?;
        let order = lifecycle::connect_slots(&self.things, &self.slot_names)?;
        for (_, thing) in &self.things {
            thing.keep_history(self.limits.history());
            settings::load(&self.settings_dir, &**thing);
        }
        let things = self.things.iter().map(|(_, t)| t.clone()).collect();
        let saver = device.spawn(settings::saver(
            self.settings_dir.clone(),
            things,
            saver_stop.clone(),
        ));
        self.prepared = Some(Prepared {
            device,
            order,
            started: false,
            saver_stop,
            saver,
        });
        Ok(())
    }

    fn build(mut self, bind: Option<SocketAddr>) -> (Router, Arc<ServerState>) {
        let prepared = self.prepared.take().expect("the Things were prepared");
        let device = prepared.device;
        let lifecycle = Lifecycle {
            things: self.things.clone(),
            order: prepared.order,
            started: prepared.started,
            saver_stop: prepared.saver_stop,
            saver: std::sync::Mutex::new(Some(prepared.saver)),
        };
        let invocations = Invocations::new(
            self.retention,
            self.limits,
            self.prefix.clone(),
            self.shutdown.clone(),
            device.clone(),
        );
        let mut things = HashMap::new();
        let mut order = Vec::new();
        let mut views = Vec::new();
        for (name, thing) in &self.things {
            order.push(name.clone());
            let id = self.id_of(name);
            let td_path = format!("{}/{name}/", self.prefix);
            let view = Arc::new(ThingView::new(thing.clone(), id.clone(), td_path));
            views.push(view.clone());
            let entry = Entry {
                thing: thing.clone(),
                id,
                views: Arc::from([view]),
            };
            things.insert(name.clone(), entry);
        }
        let policy = Arc::new(Policy {
            hosts: security::hosts::HostPolicy::new(bind, &self.allowed_hosts),
            cors_origins: self.cors_origins.clone(),
            tokens: self.tokens,
            tls: self.tls.is_some(),
            public: {
                let mut public = dashboard::public_paths(&self.prefix);
                public.push(discovery::WELL_KNOWN.to_owned());
                public
            },
        });
        let state = Arc::new(ServerState {
            things,
            order,
            views: Arc::from(views),
            stream_permits: Arc::new(tokio::sync::Semaphore::new(self.limits.max_event_streams)),
            upload_dir: std::env::temp_dir().join(format!(
                "labthings-uploads-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            )),
            prefix: self.prefix.clone(),
            invocations,
            ws: self.ws,
            limits: self.limits,
            policy: policy.clone(),
            device,
            websockets: TaskTracker::new(),
            websocket_permits: Arc::new(tokio::sync::Semaphore::new(self.limits.max_websockets)),
            kill: CancellationToken::new(),
            lifecycle,
            mqtt: self.mqtt.clone(),
            server_id: self.server_id.clone(),
        });
        let routes = http::routes(state.clone());
        let mut router = if self.prefix.is_empty() {
            routes
        } else {
            Router::new().nest(&self.prefix, routes)
        };
        router = router
            .merge(dashboard::routes(&self.prefix))
            .merge(discovery::routes(state.clone()))
            .layer(axum::extract::DefaultBodyLimit::max(self.limits.max_body))
            .layer(GuardLayer(policy));
        if !self.cors_origins.is_empty() {
            router = router.layer(cors(&self.cors_origins));
        }
        (router, state)
    }
}

/// A server whose Things have started; see [`ThingServer::start`].
#[derive(Debug)]
pub struct Started(ThingServer);

impl Started {
    /// Serve the started Things on `listener`; see [`ThingServer::serve`].
    pub fn serve(self, listener: tokio::net::TcpListener) -> Serve {
        Serve::new(listener, self.0)
    }

    /// The handle that shuts the Things down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.0.shutdown_handle()
    }

    /// The names of the Things, in the order they were added.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        self.0.thing_names()
    }

    /// The API prefix (empty, or starting with `/`).
    pub fn api_prefix(&self) -> &str {
        self.0.api_prefix()
    }

    /// Whether it serves HTTPS.
    pub fn serves_tls(&self) -> bool {
        self.0.serves_tls()
    }
}

/// CORS for an allow-list of origins (never reflecting arbitrary ones, never with
/// credentials).
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::PUT, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::LOCATION, HeaderName::from_static("retry-after")])
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

/// The TD `id` of Thing `name` of server `server_id`.
pub(crate) fn thing_urn(server_id: &str, name: &str) -> String {
    format!("urn:labthings:{server_id}:{name}")
}

/// The machine's host name, as it may stand in a URN: other characters become `-`.
pub(crate) fn default_server_id() -> String {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    let id: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if id.is_empty() {
        "localhost".to_owned()
    } else {
        id
    }
}
