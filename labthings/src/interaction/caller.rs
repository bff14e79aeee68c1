//! Who asks: the scope a request was granted, checked by the interface itself.

use serde::{Deserialize, Serialize};

use std::net::SocketAddr;

use uuid::Uuid;

use crate::problem::{Problem, refusals};
use crate::runtime::invocations::Requester;
use crate::runtime::lease::Holder;

/// What a bearer token allows. Each scope includes those before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read the Thing Descriptions, read and observe properties, query invocations.
    Observe,
    /// Everything `Observe` allows, and write properties, invoke and cancel actions, take
    /// leases.
    Operate,
    /// Everything `Operate` allows, and break another client's lease.
    Admin,
}

impl Scope {
    /// The scope's name, as in configuration files and `WWW-Authenticate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Operate => "operate",
            Self::Admin => "admin",
        }
    }
}

/// Who makes a request, as far as the interface needs to know: the scope its token was
/// granted (`None` when the server has no tokens), which token that was, the lease it
/// presents, if any, and its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caller {
    scope: Option<Scope>,
    client: Holder,
    lease: Option<Uuid>,
    address: Option<SocketAddr>,
}

impl Caller {
    /// Whoever the server trusts without a token: every client when it has no tokens, and
    /// the MQTT broker (whose ACLs decide who publishes requests).
    #[cfg_attr(not(any(feature = "mqtt", feature = "__internals")), allow(dead_code))]
    pub(crate) const TRUSTED: Self = Self::with(None);

    /// A client granted `scope`, by no token in particular.
    pub(crate) const fn granted(scope: Scope) -> Self {
        Self::with(Some(scope))
    }

    /// A client granted `scope`, or trusted when the server has no tokens.
    pub(crate) const fn with(scope: Option<Scope>) -> Self {
        Self {
            scope,
            client: None,
            lease: None,
            address: None,
        }
    }

    /// A client with the server's token number `token`, which grants `scope`.
    pub(crate) const fn token(scope: Scope, token: usize) -> Self {
        Self {
            scope: Some(scope),
            client: Some(token),
            lease: None,
            address: None,
        }
    }

    /// The same client presenting `lease` (or none).
    pub(crate) const fn with_lease(self, lease: Option<Uuid>) -> Self {
        Self { lease, ..self }
    }

    /// The same client, connected from `address` (or an unknown address).
    pub(crate) const fn from(self, address: Option<SocketAddr>) -> Self {
        Self { address, ..self }
    }

    /// Who it is, for the provenance of the invocations it asks for.
    pub(crate) const fn requester(self) -> Requester {
        Requester {
            token: self.client,
            address: self.address,
        }
    }

    /// Who it is, for the leases it holds.
    pub(crate) const fn client(self) -> Holder {
        self.client
    }

    /// The lease it presents.
    pub(crate) const fn lease(self) -> Option<Uuid> {
        self.lease
    }

    /// Whether it may break another client's lease: an `admin` token, or anyone when the
    /// server has no tokens.
    pub(crate) fn may_break_leases(self) -> bool {
        self.scope.is_none_or(|scope| scope >= Scope::Admin)
    }

    /// `Ok` when it may do `what`, which needs `needed`; otherwise the refusal.
    pub(crate) fn needs(self, needed: Scope, what: &str) -> Result<(), Problem> {
        match self.scope {
            Some(granted) if granted < needed => {
                Err(refusals::scope(granted.as_str(), needed.as_str(), what))
            }
            _ => Ok(()),
        }
    }
}
