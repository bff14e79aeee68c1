//! What a running action can see of its invocation: cancellation, progress, identity.

use crate::sync::Locked;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::Serialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Log records kept per invocation.
pub const LOG_CAPACITY: usize = 1000;

/// One `tracing` event captured while an invocation ran.
#[derive(Debug, Clone, Serialize)]
pub struct LogRecord {
    /// The formatted message.
    pub message: String,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub levelname: &'static str,
    /// The Python `logging` level number of that level (for LabThings clients).
    pub levelno: u8,
    /// When the event happened (RFC 3339, UTC).
    pub created: String,
    /// The `tracing` target (usually the module path).
    pub target: String,
}

/// Invocations accepted by this process so far: the next one's [`InvocationCore::sequence`].
static ACCEPTED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Shared state of one invocation, seen by the action through its [`ActionContext`].
pub(crate) struct InvocationCore {
    pub(crate) id: Uuid,
    /// Its place in the order invocations were accepted (see [`ActionContext::sequence`]).
    pub(crate) sequence: u64,
    pub(crate) cancel: CancellationToken,
    pub(crate) progress: Mutex<Option<serde_json::Value>>,
    pub(crate) log: Mutex<VecDeque<LogRecord>>,
    /// Records ever logged (the log keeps the last [`LOG_CAPACITY`]).
    pub(crate) log_total: std::sync::atomic::AtomicU64,
    /// Told when the progress or the log changes (the server publishes a status).
    pub(crate) on_change: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
    /// The blobs of the server it runs on, for its `Blob` outputs and arguments.
    pub(crate) blobs: std::sync::OnceLock<Arc<crate::model::blob::Registry>>,
    /// Whether its output links to blobs of that server (their links are made absolute for
    /// each client).
    pub(crate) links_blobs: std::sync::atomic::AtomicBool,
    /// The actions its code called as Rust methods.
    pub(crate) calls: crate::model::calls::Calls,
}

impl InvocationCore {
    pub(crate) fn new(id: Uuid) -> Arc<Self> {
        Self::with_token(id, CancellationToken::new())
    }

    pub(crate) fn with_token(id: Uuid, cancel: CancellationToken) -> Arc<Self> {
        Arc::new(Self {
            id,
            sequence: ACCEPTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            cancel,
            progress: Mutex::new(None),
            log: Mutex::new(VecDeque::new()),
            log_total: std::sync::atomic::AtomicU64::new(0),
            on_change: std::sync::OnceLock::new(),
            blobs: std::sync::OnceLock::new(),
            links_blobs: std::sync::atomic::AtomicBool::new(false),
            calls: crate::model::calls::Calls::default(),
        })
    }

    pub(crate) fn push_log(&self, record: LogRecord) {
        {
            let mut log = self.log.locked();
            if log.len() == LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(record);
            self.log_total
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        self.changed();
    }

    fn changed(&self) {
        if let Some(on_change) = self.on_change.get() {
            on_change();
        }
    }
}

impl fmt::Debug for InvocationCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationCore")
            .field("id", &self.id)
            .field("cancelled", &self.cancel.is_cancelled())
            .finish_non_exhaustive()
    }
}

/// The handle an action receives to cooperate with its invocation.
///
/// Declare an argument of type `&ActionContext` (or `ActionContext`) on an `#[action]` method
/// to receive it; it is not part of the action's input.
///
/// - **Cancellation**: `DELETE /action_invocations/{id}` (or the WebSocket `cancelaction`)
///   signals it. Await [`cancelled`](Self::cancelled) in a `select!`, or poll
///   [`is_cancelled`](Self::is_cancelled) in a loop and return early. An action that returns
///   (`Ok` or `Err`) after being cancelled ends in the `cancelled` state when it returns
///   `Err`, and `completed` when it returns `Ok`. (An async action that takes no context is
///   cancelled by dropping its future at its next `.await`.)
/// - **Progress**: [`set_progress`](Self::set_progress) publishes a value shown as
///   `progress` in the invocation's JSON.
/// - **Logging**: `tracing` events emitted while the action runs are captured into the
///   invocation's `log` (the last [`LOG_CAPACITY`] are kept).
#[derive(Clone)]
pub struct ActionContext {
    pub(crate) core: Arc<InvocationCore>,
}

impl ActionContext {
    /// A context not attached to any server, for calling actions from Rust code and tests.
    pub fn detached() -> Self {
        Self {
            core: InvocationCore::new(Uuid::new_v4()),
        }
    }

    /// The invocation's id.
    pub fn id(&self) -> Uuid {
        self.core.id
    }

    /// The invocation's place in the order this process accepted invocations: one accepted
    /// later has a larger number, whatever order they then run in. An action whose requests
    /// supersede each other (a jog, a setpoint sent on every key press) compares it with the
    /// latest it has acted on, and ignores a request overtaken by a newer one.
    pub fn sequence(&self) -> u64 {
        self.core.sequence
    }

    /// The path of this invocation's provenance record on the server it runs on
    /// (`{prefix}/action_invocations/{id}/provenance`), for the data it writes to name what
    /// produced it (an image's metadata); `None` for a [`detached`](Self::detached) context.
    #[cfg(feature = "provenance")]
    #[cfg_attr(docsrs, doc(cfg(feature = "provenance")))]
    pub fn provenance_path(&self) -> Option<String> {
        let registry = self.core.blobs.get()?;
        let (prefix, id) = (&registry.prefix, self.core.id);
        Some(format!("{prefix}/action_invocations/{id}/provenance"))
    }

    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.core.cancel.is_cancelled()
    }

    /// Completes when cancellation is requested.
    pub async fn cancelled(&self) {
        self.core.cancel.cancelled().await
    }

    /// `Err(Cancelled)` once cancellation was requested, for use with `?`.
    pub fn check_cancelled(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Request cancellation (as a client's `DELETE` does).
    pub fn cancel(&self) {
        self.core.cancel.cancel();
    }

    /// Set the progress value shown in the invocation's JSON (e.g. a percentage).
    pub fn set_progress(&self, progress: impl Serialize) {
        let value = serde_json::to_value(progress).ok();
        let changed = {
            let mut current = self.core.progress.locked();
            let changed = *current != value;
            *current = value;
            changed
        };
        if changed {
            self.core.changed();
        }
    }

    /// The log records captured so far, oldest first.
    pub fn log(&self) -> Vec<LogRecord> {
        let log = self.core.log.locked();
        log.iter().cloned().collect()
    }

    pub(crate) fn now_rfc3339() -> String {
        humantime::format_rfc3339_micros(SystemTime::now()).to_string()
    }
}

impl fmt::Debug for ActionContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionContext")
            .field("id", &self.core.id)
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The error an action returns when it stops because it was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the action was cancelled")]
pub struct Cancelled;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_the_last_records() {
        let ctx = ActionContext::detached();
        for i in 0..LOG_CAPACITY + 5 {
            ctx.core.push_log(LogRecord {
                message: i.to_string(),
                levelname: "INFO",
                levelno: 20,
                created: String::new(),
                target: String::new(),
            });
        }
        let log = ctx.log();
        assert_eq!(log.len(), LOG_CAPACITY);
        assert_eq!(log[0].message, "5");
        assert_eq!(log.last().unwrap().message, (LOG_CAPACITY + 4).to_string());
    }

    #[test]
    fn cancellation_is_seen_by_every_clone() {
        let ctx = ActionContext::detached();
        let clone = ctx.clone();
        assert!(ctx.check_cancelled().is_ok());
        clone.cancel();
        assert!(ctx.is_cancelled());
        assert_eq!(ctx.check_cancelled(), Err(Cancelled));
    }

    #[test]
    fn a_later_invocation_has_a_larger_sequence() {
        let (first, second) = (ActionContext::detached(), ActionContext::detached());
        assert!(second.sequence() > first.sequence());
        assert_eq!(first.clone().sequence(), first.sequence());
    }
}
