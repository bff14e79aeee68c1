//! What can go wrong talking to a device, and the problem clients see.

use std::time::Duration;

use crate::problem::Problem;

/// Why an exchange with a device failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The device is not connected (unplugged, never found, or its port failed).
    #[error(
        "the device '{device}' ({endpoint}) is disconnected: {reason}; it is reconnected when it is back"
    )]
    Disconnected {
        /// The device's name.
        device: String,
        /// Where it is expected.
        endpoint: String,
        /// The error of the port.
        reason: String,
    },
    /// The device did not answer in time.
    #[error("the device '{device}' did not answer `{command}` within {after:?}")]
    Timeout {
        /// The device's name.
        device: String,
        /// The command it did not answer.
        command: String,
        /// The timeout.
        after: Duration,
    },
    /// A replayed transcript holds no exchange for the command.
    #[error("the transcript of '{device}' has no reply to `{command}`")]
    NotInTranscript {
        /// The device's name.
        device: String,
        /// The command.
        command: String,
    },
    /// An endpoint or a transcript cannot be read.
    #[error("{0}")]
    Invalid(String),
}

impl From<TransportError> for Problem {
    /// A disconnected device is a 503 (try again later), a silent one a 504 (the server's
    /// peer did not answer); anything else a 500.
    fn from(error: TransportError) -> Self {
        let status = match &error {
            TransportError::Disconnected { .. } => 503,
            TransportError::Timeout { .. } => 504,
            TransportError::NotInTranscript { .. } | TransportError::Invalid(_) => 500,
        };
        Problem::new(status, error.to_string())
    }
}
