//! Where a device is: a serial port (and its line settings), a TCP address, or a transcript to
//! replay.

use std::fmt;
use std::path::PathBuf;

use super::TransportError;

/// Where a device is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// A serial port (a USB adapter, a pseudo-terminal) at `path`.
    Serial {
        /// Its path, e.g. `/dev/ttyACM0`.
        path: PathBuf,
        /// Its line settings.
        settings: SerialSettings,
    },
    /// A TCP socket (SCPI instruments listen on port 5025).
    Tcp {
        /// `host:port`.
        address: String,
    },
    /// A recorded transcript, played back as the device.
    Replay {
        /// The transcript file.
        transcript: PathBuf,
    },
}

impl Endpoint {
    /// `tcp://host:port`, `replay:path/to/transcript.jsonl`, or the path of a serial port
    /// (115200 baud, 8N1).
    pub fn parse(text: &str) -> Result<Self, TransportError> {
        if let Some(address) = text.strip_prefix("tcp://") {
            if !address.contains(':') {
                return Err(TransportError::Invalid(format!(
                    "`{text}`: a TCP endpoint is `tcp://host:port`"
                )));
            }
            return Ok(Self::Tcp {
                address: address.trim_end_matches('/').to_owned(),
            });
        }
        if let Some(path) = text.strip_prefix("replay:") {
            return Ok(Self::Replay {
                transcript: path.into(),
            });
        }
        if text.is_empty() {
            return Err(TransportError::Invalid(
                "an empty endpoint: give a serial port's path, `tcp://host:port` or `replay:FILE`"
                    .into(),
            ));
        }
        Ok(Self::serial(text))
    }

    /// The serial port at `path`, at 115200 baud 8N1.
    pub fn serial(path: impl Into<PathBuf>) -> Self {
        Self::Serial {
            path: path.into(),
            settings: SerialSettings::default(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Serial { path, .. } => write!(f, "{}", path.display()),
            Self::Tcp { address } => write!(f, "tcp://{address}"),
            Self::Replay { transcript } => write!(f, "replay:{}", transcript.display()),
        }
    }
}

/// The line settings of a serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialSettings {
    /// Bits per second.
    pub baud: u32,
    /// Data bits per character: 5 to 8.
    pub data_bits: u8,
    /// The parity bit.
    pub parity: Parity,
    /// Stop bits: 1 or 2.
    pub stop_bits: u8,
}

impl Default for SerialSettings {
    /// 115200 baud, 8N1.
    fn default() -> Self {
        Self {
            baud: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
        }
    }
}

/// The parity bit of a serial line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Odd parity.
    Odd,
    /// Even parity.
    Even,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            Endpoint::parse("tcp://scope.lab:5025").unwrap(),
            Endpoint::Tcp {
                address: "scope.lab:5025".into()
            }
        );
        assert_eq!(
            Endpoint::parse("/dev/ttyACM0").unwrap(),
            Endpoint::serial("/dev/ttyACM0")
        );
        assert!(matches!(
            Endpoint::parse("replay:t.jsonl").unwrap(),
            Endpoint::Replay { .. }
        ));
        assert!(Endpoint::parse("tcp://nohost").is_err());
        assert!(Endpoint::parse("").is_err());
    }
}
