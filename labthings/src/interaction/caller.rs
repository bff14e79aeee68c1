//! Who asks: the scope a request was granted, checked by the interface itself.

use serde::{Deserialize, Serialize};

use crate::problem::{Problem, refusals};

/// What a bearer token allows. `Operate` includes `Observe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read the Thing Descriptions, read and observe properties, query invocations.
    Observe,
    /// Everything `Observe` allows, and write properties, invoke and cancel actions.
    Operate,
}

impl Scope {
    /// The scope's name, as in configuration files and `WWW-Authenticate`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Operate => "operate",
        }
    }
}

/// Who makes a request, as far as the interface needs to know: the scope its token was
/// granted (`None` when the server has no tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caller {
    scope: Option<Scope>,
}

impl Caller {
    /// Whoever the server trusts without a token: every client when it has no tokens, and
    /// the MQTT broker (whose ACLs decide who publishes requests).
    #[cfg_attr(not(any(feature = "mqtt", feature = "__internals")), allow(dead_code))]
    pub(crate) const TRUSTED: Self = Self { scope: None };

    /// A client whose token was granted `scope`.
    pub(crate) const fn granted(scope: Scope) -> Self {
        Self { scope: Some(scope) }
    }

    /// A client granted `scope`, or trusted when the server has no tokens.
    pub(crate) const fn with(scope: Option<Scope>) -> Self {
        Self { scope }
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
