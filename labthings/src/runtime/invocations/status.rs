//! The states of an invocation, and their names on the wire.

use serde::{Serialize, Serializer};

/// The states of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Accepted, not started yet.
    Pending,
    /// Running.
    Running,
    /// Returned a value.
    Completed,
    /// Stopped on request.
    Cancelled,
    /// Failed (an `Err` or a panic).
    Error,
}

impl Status {
    /// Whether the invocation has ended.
    pub(crate) fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled | Self::Error)
    }

    /// Its name, as LabThings-FastAPI gives it (and as it is serialised).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
            Self::Error => "error",
        }
    }

    /// Its name in a Web Thing Protocol `ActionStatus`: `failed` for an error (`cancelled`
    /// is an extension).
    pub(crate) fn wtp_state(self) -> &'static str {
        match self {
            Self::Error => "failed",
            other => other.as_str(),
        }
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}
