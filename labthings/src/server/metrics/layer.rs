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
use super::labels::{Name, Route, method};
use crate::server::state::ServerState;

/// Counts and times the requests of the service it wraps.
#[derive(Clone)]
pub(crate) struct MeasureLayer {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) state: Arc<ServerState>,
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

impl MeasureLayer {
    /// What `request` addresses: the Thing named by its path's first part (under the
    /// prefix) and that Thing's affordance named by the second, when they exist.
    fn route(&self, request: &Request) -> Route {
        let method = method(request.method());
        let path = request.uri().path();
        let under = path.strip_prefix(self.state.prefix.as_str());
        let mut parts = under.unwrap_or_default().trim_start_matches('/').split('/');
        let thing = parts.next().and_then(|name| self.state.things.find(name));
        let Some(thing) = thing else {
            return Route {
                thing: self.metrics.nobody.clone(),
                affordance: "",
                method,
            };
        };
        let affordance = parts.next().and_then(|name| thing.affordance_name(name));
        Route {
            thing: Name(thing.name().clone()),
            affordance: affordance.unwrap_or_default(),
            method,
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
        let route = self.layer.route(&request);
        Timed {
            inner: self.inner.call(request),
            started: Instant::now(),
            route: Some(route),
            metrics: self.layer.metrics.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A response on its way: recorded when its headers are ready.
    pub(crate) struct Timed<F> {
        #[pin]
        inner: F,
        started: Instant,
        route: Option<Route>,
        metrics: Arc<Metrics>,
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
        if let (Ok(response), Some(route)) = (&result, this.route.take()) {
            let status = response.status().as_u16();
            this.metrics.answered(route, status, this.started.elapsed());
        }
        Poll::Ready(result)
    }
}
