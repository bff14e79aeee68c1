//! The router of a server: every binding's routes under the prefix, the dashboard and the
//! discovery introduction at their own paths, behind the security guard and the body limit.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, header};

use super::security::{GuardLayer, Policy};
use super::state::ServerState;
use super::{discovery, http};

/// Every route of the server.
pub(crate) fn routes(
    state: &Arc<ServerState>,
    policy: Arc<Policy>,
    cors_origins: &[String],
) -> Router {
    let prefix = &state.prefix;
    let routes = http::routes(state.clone());
    let mut router = if prefix.is_empty() {
        routes
    } else {
        Router::new().nest(prefix, routes)
    };
    #[cfg(feature = "dashboard")]
    {
        router = router.merge(super::dashboard::routes(prefix));
    }
    #[cfg(feature = "metrics")]
    if let Some(metrics) = &state.metrics {
        router = router.merge(super::metrics::routes(metrics.clone()));
    }
    #[cfg(feature = "openapi")]
    {
        router = router.merge(super::openapi::routes(state.clone()));
    }
    router = router
        .merge(discovery::routes(state.clone()))
        .layer(axum::extract::DefaultBodyLimit::max(state.limits.max_body))
        .layer(GuardLayer(policy));
    if !cors_origins.is_empty() {
        router = router.layer(cors(cors_origins));
    }
    #[cfg(feature = "metrics")]
    if let Some(metrics) = &state.metrics {
        router = router.layer(super::metrics::MeasureLayer::new(
            metrics.clone(),
            state.clone(),
        ));
    }
    router
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
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static(crate::server::security::LEASE_HEADER),
        ])
        .expose_headers([
            header::LOCATION,
            HeaderName::from_static("retry-after"),
            HeaderName::from_static("labthings-quality"),
        ])
}
