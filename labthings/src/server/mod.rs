//! The HTTP server that publishes Things.

mod hosted;
mod http;
mod invocations;
pub(crate) mod ws;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::thing::Thing;
use hosted::{DynThing, Hosted};
use invocations::Invocations;
pub use invocations::{Retention, Status};
pub use ws::WsLimits;

/// One published Thing.
pub(crate) struct Entry {
    pub(crate) name: Arc<str>,
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

/// Publishes any number of Things over HTTP.
///
/// ```no_run
/// # use labthings::{thing, ThingServer};
/// # #[thing] struct Counter { #[property] count: i64 }
/// # async fn run() -> std::io::Result<()> {
/// ThingServer::new()
///     .thing("counter", Counter { count: 0.into() })
///     .serve("127.0.0.1:5000".parse().unwrap())
///     .await
/// # }
/// ```
pub struct ThingServer {
    things: Vec<(String, Arc<dyn DynThing>)>,
    prefix: String,
    cors: bool,
    retention: Retention,
    ws: WsLimits,
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
        }
    }

    /// Publish `thing` at `/{name}/`.
    ///
    /// # Panics
    /// If `name` is empty, is not made of letters, digits, `_` and `-`, is reserved
    /// (`things`, `thing_descriptions`, `action_invocations`), or is already used.
    pub fn thing<T: Thing>(self, name: &str, thing: T) -> Self {
        self.shared_thing(name, Arc::new(thing))
    }

    /// Publish a Thing that Rust code also holds.
    ///
    /// # Panics
    /// As [`thing`](Self::thing).
    pub fn shared_thing<T: Thing>(mut self, name: &str, thing: Arc<T>) -> Self {
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
            "invalid Thing name '{name}': use letters, digits, '_' and '-'"
        );
        assert!(
            !["things", "thing_descriptions", "action_invocations"].contains(&name),
            "the Thing name '{name}' is reserved"
        );
        assert!(
            self.things.iter().all(|(n, _)| n != name),
            "two Things are called '{name}'"
        );
        self.things
            .push((name.to_owned(), Arc::new(Hosted::new(thing))));
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

    /// Limits of WebSocket connections (message size, queue lengths).
    pub fn ws_limits(mut self, limits: WsLimits) -> Self {
        self.ws = limits;
        self
    }

    /// Build the axum router, and a handle that stops running invocations.
    pub fn into_router(self) -> (Router, ShutdownHandle) {
        let invocations = Invocations::new(self.retention, self.prefix.clone());
        let shutdown = ShutdownHandle {
            token: invocations.shutdown.clone(),
        };
        let mut things = HashMap::new();
        let mut order = Vec::new();
        for (name, thing) in self.things {
            order.push(name.clone());
            let names_json = (0..thing.property_count())
                .map(|i| ws::json_string(thing.property_name(i)).into_boxed_str())
                .collect();
            let entry = Entry {
                name: Arc::from(name.as_str()),
                thing,
                names_json,
            };
            things.insert(name, entry);
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
        (router, shutdown)
    }

    /// Serve on `addr` until SIGINT or SIGTERM; then in-flight requests finish and running
    /// invocations are cancelled. Prints the URL it listens on (useful with port 0).
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        crate::logs::init();
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let names: Vec<String> = self.things.iter().map(|(n, _)| n.clone()).collect();
        let prefix = self.prefix.clone();
        println!("labthings listening on http://{local}{prefix}/");
        for name in names {
            println!("  http://{local}{prefix}/{name}/");
        }
        let (router, shutdown) = self.into_router();
        // Small messages (property values, notifications) must not wait for Nagle.
        let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
            let _ = stream.set_nodelay(true);
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                shutdown.shutdown();
            })
            .await
    }
}

/// Cancels every running invocation of a server.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    token: tokio_util::sync::CancellationToken,
}

impl ShutdownHandle {
    /// Cancel every running invocation (and close WebSocket subscriptions).
    pub fn shutdown(&self) {
        self.token.cancel();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
