//! Line-protocol devices over a serial port or TCP (feature `serial`): motor controllers,
//! Arduino firmware, lasers, pumps, SCPI instruments on port 5025.
//!
//! A driver holds one [`LineDevice`] and asks it [`query`](LineDevice::query) (a command and
//! its one-line reply), [`query_until`](LineDevice::query_until) (a reply of several lines
//! ending at a termination line) or [`command`](LineDevice::command) (no reply). Requests are
//! serialised, one exchange at a time, each within a timeout; stale input is discarded before
//! a query. A port that fails (a USB device unplugged, a TCP reset) marks the device
//! disconnected and every request is refused at once with a 503 until it is back: it is
//! reopened at the same path, with backoff, on the next request or by
//! [`reconnect`](LineDevice::reconnect). Every exchange can be recorded to a transcript, and
//! a transcript replayed as a simulated device ([`Endpoint::Replay`]), so that a driver's test
//! runs without the device. Each exchange is logged at `debug` level.
//!
//! ```no_run
//! # async fn run() -> Result<(), labthings::transport::TransportError> {
//! use labthings::transport::{Endpoint, LineDevice, LineSettings};
//!
//! let board = LineDevice::connect("stage", Endpoint::parse("/dev/ttyACM0")?, LineSettings::default());
//! let position = board.query("p?").await?; // "0 0 0"
//! let modules = board.query_until("list_modules", "--END--").await?;
//! # let _ = (position, modules);
//! # Ok(())
//! # }
//! ```

mod endpoint;
mod error;
mod line;
mod link;
mod transcript;

pub use endpoint::{Endpoint, Parity, SerialSettings};
pub use error::TransportError;
pub use line::{LineDevice, LineSettings};
pub use transcript::Transcript;
