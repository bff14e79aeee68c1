//! The layer that counts and times every HTTP request, by the Thing and affordance its path
//! names.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;

use super::Metrics;
use super::routes::{Place, Routes};
use crate::server::state::ServerState;

/// What the layer shares with every request.
struct Shared {
    metrics: Arc<Metrics>,
    state: Arc<ServerState>,
    routes: Routes,
}

/// Counts and times the requests of the service it wraps.
#[derive(Clone)]
pub(crate) struct MeasureLayer(Arc<Shared>);

impl MeasureLayer {
    /// The layer of the server whose state is `state`.
    pub(crate) fn new(metrics: Arc<Metrics>, state: Arc<ServerState>) -> Self {
        let routes = Routes::new(&state.things);
        Self(Arc::new(Shared {
            metrics,
            state,
            routes,
        }))
    }
}

impl<S> tower_layer::Layer<S> for MeasureLayer {
    type Service = Measured<S>;

    fn layer(&self, inner: S) -> Measured<S> {
        Measured {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service whose requests are counted and timed.
#[derive(Clone)]
pub(crate) struct Measured<S> {
    inner: S,
    layer: MeasureLayer,
}

impl<S> tower_service::Service<Request> for Measured<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let shared = &self.layer.0;
        let place = (shared.routes).place(&shared.state.things, &shared.state.prefix, &request);
        Timed {
            inner: self.inner.call(request),
            started,
            place: Some(place),
            shared: shared.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response on its way: recorded when its headers are ready (a request whose client
    /// goes away before then is not counted).
    pub(crate) struct Timed<F> {
        #[pin]
        inner: F,
        started: Instant,
        place: Option<Place>,
        shared: Arc<Shared>,
    }
}

impl<F, E> Future for Timed<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(place)) = (&result, this.place.take()) {
            let (status, took) = (response.status().as_u16(), this.started.elapsed());
            let shared = &**this.shared;
            shared.routes.record(&shared.metrics, place, status, took);
        }
        Poll::Ready(result)
    }
}
