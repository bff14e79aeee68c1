//! Safe by default: what a request must satisfy before it reaches a Thing.
//!
//! In order, for every request:
//! 1. its `Host` names this server ([`hosts`]): otherwise 421, so that a page on another
//!    site cannot reach the server through a host name of its own (DNS rebinding);
//! 2. a request that changes state (`PUT`, `POST`, `DELETE`, `PATCH`), or opens a WebSocket,
//!    and carries an `Origin`, comes from the server's own origin or an allowed one
//!    (`cors_origins`): otherwise 403, so that a page on another site cannot drive the
//!    hardware through the browser of a lab member (requests without `Origin` — scripts,
//!    the Python client — are not browsers' cross-site requests);
//! 3. when tokens are configured, it carries a bearer token ([`auth`]) whose scope allows
//!    the request: otherwise 401 (no or unknown token) or 403 (insufficient scope).
//!
//! Bodies must be JSON (415 otherwise); that is checked where bodies are read.

pub(crate) mod hosts;

use std::borrow::Cow;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use futures_util::future::{Either, Ready, ready};

use crate::interaction::{Caller, Scope};
use crate::problem::{Problem, refusals};
use crate::tokens::Tokens;
use hosts::HostPolicy;

/// The security policy of a server.
#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) hosts: HostPolicy,
    /// Origins allowed besides the server's own, as browsers write them (`scheme://host[:port]`).
    pub(crate) cors_origins: Vec<String>,
    pub(crate) tokens: Tokens,
    /// Whether the server is reached over TLS (`https`, `wss`).
    pub(crate) tls: bool,
    /// Paths that a `GET` may request without a token: the dashboard's files, which hold
    /// no state of any Thing.
    pub(crate) public: Vec<String>,
}

impl Policy {
    /// `http` or `https`.
    pub(crate) fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// Admit a request, recording who makes it (its [`Caller`]), or answer it.
    fn admit(&self, request: &mut Request) -> Result<(), Box<Response>> {
        // A `Host` header that is not text is not a name of this server; an absolute
        // request target must name this server too.
        let host = match request.headers().get(header::HOST) {
            Some(value) => Some(value.to_str().unwrap_or("\u{fffd}")),
            None => None,
        }
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
        if let Err(detail) = self.hosts.check(host) {
            return Err(Box::new(Problem::new(421, detail).into_response()));
        }
        if let Some(authority) = request.uri().authority()
            && let Err(detail) = self.hosts.check(Some(authority.as_str()))
        {
            return Err(Box::new(Problem::new(421, detail).into_response()));
        }
        let host = host.unwrap_or_default().to_owned();
        let upgrade = request.headers().contains_key(header::UPGRADE);
        let changes_state = !matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        if (changes_state || upgrade)
            && let Some(origin) = request.headers().get(header::ORIGIN)
            && !self.origin_allowed(origin, &host)
        {
            let origin = String::from_utf8_lossy(origin.as_bytes());
            let what = if upgrade {
                "open a WebSocket"
            } else {
                "change the state of a Thing"
            };
            return Err(Box::new(
                refusals::foreign_page(&origin, what).into_response(),
            ));
        }
        let needed = if changes_state {
            Scope::Operate
        } else {
            Scope::Observe
        };
        let public = matches!(*request.method(), Method::GET | Method::HEAD)
            && !upgrade
            && self.public.iter().any(|path| path == request.uri().path());
        let caller = match public {
            true => None,
            false => self.authorize(request, needed, upgrade)?,
        };
        let caller = caller.map_or(Caller::with(None), |(scope, token)| {
            Caller::token(scope, token)
        });
        let lease = lease_header(request).map_err(|p| Box::new(p.into_response()))?;
        let address = (request.extensions())
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0);
        let caller = caller.with_lease(lease).from(address);
        request.extensions_mut().insert(caller);
        Ok(())
    }

    fn origin_allowed(&self, origin: &HeaderValue, host: &str) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let own = origin
            .strip_prefix(self.scheme())
            .and_then(|rest| rest.strip_prefix("://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host));
        own || self
            .cors_origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
    }

    /// The scope of the request's token, if authentication is on.
    fn authorize(
        &self,
        request: &Request,
        needed: Scope,
        upgrade: bool,
    ) -> Result<Option<(Scope, usize)>, Box<Response>> {
        // A CORS preflight carries no credentials (browsers never send them on one), and
        // only learns which methods and headers the server accepts.
        if !self.tokens.enabled() || request.method() == Method::OPTIONS {
            return Ok(None);
        }
        let header_token = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(bearer_token);
        // Browsers cannot set headers on a WebSocket: its upgrade (and only it) may carry the
        // token in the query instead (RFC 6750's `access_token`).
        // Percent-decoded, as a browser encodes it (`encodeURIComponent`).
        let query_token =
            (upgrade && request.method() == Method::GET && request.uri().path().ends_with("/ws"))
                .then(|| request.uri().query())
                .flatten()
                .and_then(|q| {
                    form_urlencoded::parse(q.as_bytes())
                        .find_map(|(key, value)| (key == "access_token").then_some(value))
                });
        let Some(token) = header_token.map(Cow::Borrowed).or(query_token) else {
            return Err(Box::new(unauthorized(
                "this server needs a bearer token: send `Authorization: Bearer TOKEN`",
                None,
            )));
        };
        let Some((scope, index)) = self.tokens.grant(token.as_bytes()) else {
            return Err(Box::new(unauthorized(
                "the bearer token is not valid here",
                Some("invalid_token"),
            )));
        };
        if let Err(problem) = Caller::granted(scope).needs(needed, what(request)) {
            let mut response = problem.into_response();
            let challenge = format!(
                "Bearer realm=\"labthings\", error=\"insufficient_scope\", scope=\"{}\"",
                needed.as_str()
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            return Err(Box::new(response));
        }
        Ok(Some((scope, index)))
    }
}

/// The header a lease's holder sends with its requests.
pub(crate) const LEASE_HEADER: &str = "labthings-lease";

/// The lease a request presents in its `LabThings-Lease` header, if any: 400 when it is not
/// a lease id.
fn lease_header(request: &Request) -> Result<Option<uuid::Uuid>, Problem> {
    let Some(value) = request.headers().get(LEASE_HEADER) else {
        return Ok(None);
    };
    (value.to_str().ok())
        .and_then(|v| uuid::Uuid::try_parse(v.trim()).ok())
        .map(Some)
        .ok_or_else(|| {
            Problem::bad_request(
                "the LabThings-Lease header holds the `id` of a lease (a UUID) taken with \
                 `POST /{thing}/lease`",
            )
        })
}

/// The token of an `Authorization: Bearer TOKEN` header (the scheme is case-insensitive,
/// RFC 9110 §11.1).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once([' ', '\t'])?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn unauthorized(detail: &str, error: Option<&str>) -> Response {
    let mut response = Problem::new(401, detail).into_response();
    let challenge = match error {
        Some(error) => format!("Bearer realm=\"labthings\", error=\"{error}\""),
        None => "Bearer realm=\"labthings\"".to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

/// The layer that applies a [`Policy`] to every route.
#[derive(Debug, Clone)]
pub(crate) struct GuardLayer(pub(crate) Arc<Policy>);

impl<S> tower_layer::Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            policy: self.0.clone(),
        }
    }
}

/// A service behind the [`Policy`].
#[derive(Debug, Clone)]
pub(crate) struct Guard<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S> tower_service::Service<Request> for Guard<S>
where
    S: tower_service::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        match self.policy.admit(&mut request) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(response) => Either::Left(ready(Ok(*response))),
        }
    }
}

/// What a request that needs more than reading does, as the refusal names it (the same
/// words as the interaction interface's refusals, whatever the binding).
fn what(request: &Request) -> &'static str {
    let path = request.uri().path();
    let lease = path.ends_with("/lease") || path.rsplit('/').nth(1) == Some("lease");
    match *request.method() {
        Method::POST if lease => "taking a lease",
        Method::PUT if lease => "renewing a lease",
        Method::DELETE if lease => "releasing or breaking a lease",
        Method::PUT => "writing a property",
        Method::DELETE => "cancelling an invocation",
        Method::POST if request.uri().path().ends_with("/blob") => "uploading a blob",
        Method::POST => "invoking an action",
        _ => "this",
    }
}
