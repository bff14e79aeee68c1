//! The server that publishes Things over HTTP and WebSocket.

mod extract;
mod hosted;
mod http;
mod invocations;
mod serve;
pub(crate) mod ws;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio_util::sync::CancellationToken;

use crate::thing::Thing;
use hosted::{DynThing, Hosted};
use invocations::Invocations;
pub use invocations::Retention;
pub use serve::Serve;
pub use ws::WsLimits;

/// One published Thing.
pub(crate) struct Entry {
    pub(crate) thing: Arc<dyn DynThing>,
    /// The property names as JSON strings, shared by the WebSocket connections.
    pub(crate) names_json: Arc<[Box<str>]>,
}

/// What the request handlers share.
pub(crate) struct ServerState {
    pub(crate) things: HashMap<String, Entry>,
    pub(crate) order: Vec<String>,
    pub(crate) prefix: String,
    pub(crate) invocations: Arc<Invocations>,
    pub(crate) ws: WsLimits,
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
    cors: bool,
    retention: Retention,
    ws: WsLimits,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for ThingServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThingServer")
            .field(
                "things",
                &self.things.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("prefix", &self.prefix)
            .field("cors", &self.cors)
            .field("retention", &self.retention)
            .field("ws", &self.ws)
            .finish()
    }
}

impl Default for ThingServer {
    fn default() -> Self {
        Self::new()
    }
}

impl ThingServer {
    /// A server with no Things, no prefix, permissive CORS and default retention.
    pub fn new() -> Self {
        Self {
            things: Vec::new(),
            prefix: String::new(),
            cors: true,
            retention: Retention::default(),
            ws: WsLimits::default(),
            shutdown: CancellationToken::new(),
        }
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

    /// Allow cross-origin requests from anywhere (the default) or not at all.
    pub fn cors(mut self, permissive: bool) -> Self {
        self.cors = permissive;
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

    /// The names of the Things, in the order they were added.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        self.things.iter().map(|(name, _)| name.as_str())
    }

    /// The API prefix (empty, or starting with `/`).
    pub fn api_prefix(&self) -> &str {
        &self.prefix
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
    pub fn into_router(self) -> Router {
        let invocations =
            Invocations::new(self.retention, self.prefix.clone(), self.shutdown.clone());
        let mut things = HashMap::new();
        let mut order = Vec::new();
        for (name, thing) in self.things {
            order.push(name.clone());
            let names_json = (0..thing.property_count())
                .map(|i| ws::messages::json_string(thing.property_name(i)).into_boxed_str())
                .collect();
            things.insert(name, Entry { thing, names_json });
        }
        let state = Arc::new(ServerState {
            things,
            order,
            prefix: self.prefix.clone(),
            invocations,
            ws: self.ws,
        });
        let routes = http::routes(state);
        let mut router = if self.prefix.is_empty() {
            routes
        } else {
            Router::new().nest(&self.prefix, routes)
        };
        if self.cors {
            router = router.layer(tower_http::cors::CorsLayer::very_permissive());
        }
        router
    }

    /// Serve on `listener` (as `axum::serve` does). Await the result to serve until the
    /// process ends, or call [`Serve::with_graceful_shutdown`] first.
    pub fn serve(self, listener: tokio::net::TcpListener) -> Serve {
        let shutdown = self.shutdown_handle();
        Serve::new(listener, self.into_router(), shutdown)
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
