//! A server whose Things are prepared (and then started): the states a [`ThingServer`] goes
//! through, as types.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio_util::sync::CancellationToken;

#[cfg(feature = "dashboard")]
use super::dashboard;
use super::security::{Policy, hosts::HostPolicy};
use super::serve::{Serve, Server};
use super::state::{Open, ServerState};
use super::ws::ThingView;
use super::{ShutdownHandle, ThingServer, discovery, router};
use crate::interaction::Things;
use crate::runtime::invocations::Invocations;
use crate::runtime::lifecycle::{Lifecycle, Preparation, StartError};

/// A server whose Things are prepared: slots connected, settings loaded, the settings saver
/// and the device runtime running; start hooks not run yet.
pub(crate) struct Prepared {
    server: ThingServer,
    lifecycle: Lifecycle,
}

impl Prepared {
    /// Prepare the Things of `server`; `saver_stop` stops the settings saver.
    pub(crate) fn new(
        mut server: ThingServer,
        saver_stop: CancellationToken,
    ) -> Result<Self, StartError> {
        let things = std::mem::take(&mut server.things);
        let lifecycle = Lifecycle::prepare(
            things,
            Preparation {
                slot_names: &server.slot_names,
                settings_dir: server.settings_dir.clone(),
                history: server.limits.history(),
                device_threads: server.device_threads,
                saver_stop,
                observer: server.observer(),
                #[cfg(feature = "history")]
                series: (
                    crate::broker::SeriesLimits {
                        samples: server.limits.property_history,
                        age: server.limits.property_history_age,
                    },
                    &server.property_history,
                ),
            },
        )?;
        Ok(Self { server, lifecycle })
    }

    /// Run the start hooks.
    pub(crate) async fn start(mut self) -> Result<Started, StartError> {
        let deadline = self.server.limits.shutdown_deadline;
        self.lifecycle.start(deadline).await?;
        Ok(Started { prepared: self })
    }

    /// The router of every route; the MQTT binding runs until the shutdown handle is used.
    pub(crate) fn into_router(self) -> Router {
        #[cfg(feature = "mqtt")]
        let stop = self.server.shutdown.clone();
        let (router, _state) = self.build(None);
        #[cfg(feature = "mqtt")]
        if let Some(config) = _state.mqtt.clone() {
            let state = _state;
            match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    let id = state.server_id.clone();
                    runtime.spawn(super::mqtt::run(state.clone(), config, id, stop));
                }
                Err(_) => tracing::error!(
                    "the MQTT binding needs a tokio runtime: call `into_router` inside one"
                ),
            }
        }
        router
    }

    /// The router and the state of the server, answering to the names of `bind` (when it is
    /// served on a listener).
    pub(crate) fn build(self, bind: Option<SocketAddr>) -> (Router, Arc<ServerState>) {
        let Self { server, lifecycle } = self;
        let invocations = Invocations::new(
            server.retention,
            server.limits,
            server.prefix.clone(),
            server.shutdown.clone(),
            lifecycle.device.clone(),
            server.observer(),
            recorded(&server, &lifecycle.things),
        );
        let exposed = (lifecycle.things.iter().zip(&lifecycle.reaches))
            .map(|((name, thing), reaches)| (thing.clone(), server.id_of(name), reaches.clone()));
        let max_lease = server.limits.lease_bound();
        let things = Things::new(exposed, invocations, lifecycle.device.clone(), max_lease);
        let views = (things.iter())
            .map(|thing| Arc::new(ThingView::new(thing, &server.prefix)))
            .collect();
        let policy = Arc::new(Policy {
            hosts: HostPolicy::new(bind, &server.allowed_hosts),
            cors_origins: server.cors_origins.clone(),
            tokens: server.tokens.clone(),
            tls: server.serves_tls(),
            public: public_paths(&server.prefix),
        });
        let state = Arc::new(ServerState {
            things,
            prefix: server.prefix.clone(),
            limits: server.limits,
            ws: server.ws,
            policy: policy.clone(),
            server_id: server.server_id.clone(),
            #[cfg(feature = "mqtt")]
            mqtt: server.mqtt.clone(),
            views,
            open: Open::new(&server.limits),
            upload_dir: std::env::temp_dir().join(format!(
                "labthings-uploads-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            )),
            lifecycle,
            registered: Default::default(),
            #[cfg(feature = "directory")]
            directory: server.directory.clone(),
            #[cfg(feature = "metrics")]
            metrics: server.metrics.clone(),
        });
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &state.metrics {
            metrics.serving(super::metrics::Open {
                websockets: state.open.websocket_permits.clone(),
                max_websockets: state.limits.max_websockets,
            });
        }
        let router = router::routes(&state, policy, &server.cors_origins);
        (router, state)
    }

    pub(crate) fn server(&self) -> &ThingServer {
        &self.server
    }

    pub(crate) fn server_mut(&mut self) -> &mut ThingServer {
        &mut self.server
    }
}

/// A server whose Things have started; see [`ThingServer::start`].
pub struct Started {
    pub(crate) prepared: Prepared,
}

impl std::fmt::Debug for Started {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Started")
            .field("server", self.prepared.server())
            .finish_non_exhaustive()
    }
}

impl Started {
    /// Serve the started Things on `listener`; see [`ThingServer::serve`].
    pub fn serve(self, listener: tokio::net::TcpListener) -> Serve {
        Serve::new(listener, Server::Started(self))
    }

    /// The handle that shuts the Things down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.prepared.server().shutdown_handle()
    }

    /// The names of the Things, in the order they were added.
    pub fn thing_names(&self) -> impl Iterator<Item = &str> {
        (self.prepared.lifecycle.things.iter()).map(|(name, _)| name.as_str())
    }

    /// The API prefix (empty, or starting with `/`).
    pub fn api_prefix(&self) -> &str {
        self.prepared.server().api_prefix()
    }

    /// Whether it serves HTTPS.
    pub fn serves_tls(&self) -> bool {
        self.prepared.server().serves_tls()
    }
}

/// The paths that a `GET` may request without a token: the discovery introduction and the
/// dashboard's files, which hold no state of any Thing.
fn public_paths(prefix: &str) -> Vec<String> {
    let paths = vec![discovery::WELL_KNOWN.to_owned()];
    #[cfg(feature = "dashboard")]
    let paths = [paths, dashboard::public_paths(prefix)].concat();
    #[cfg(feature = "openapi")]
    let paths = [paths, super::openapi::public_paths(prefix)].concat();
    let _ = prefix;
    paths
}

/// The Things whose stored values each invocation records as it starts, for its provenance
/// record: every Thing, or none when the server keeps no provenance records.
fn recorded(
    server: &ThingServer,
    things: &[(String, Arc<dyn crate::runtime::hosted::DynThing>)],
) -> Option<Vec<Arc<dyn crate::runtime::hosted::DynThing>>> {
    #[cfg(feature = "provenance")]
    if server.provenance {
        return Some(things.iter().map(|(_, thing)| thing.clone()).collect());
    }
    let _ = (server, things);
    None
}
