//! Background tasks a Thing owns: `#[task]` methods, run from the moment the Thing has started
//! until the server stops.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::context::Cancelled;

/// The event of every Thing that has `#[task]`s: emitted when one of them returns an error or
/// panics while the server runs (not once it is stopping). Its TD entry and its data
/// ([`TaskFailure`]) are the same for every Thing; no affordance of the Thing may take its
/// name.
///
/// It is an event, not a state: a client that subscribes after the failure does not get it
/// (unless it resumes from an earlier notification), and the server's log keeps it.
pub const TASK_FAILED: &str = "task_failed";

/// Which background task failed, and why (the data of the `task_failed` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskFailure {
    /// The task (its method's name).
    pub task: String,
    /// The status of its error (500 for a panic).
    pub status: u16,
    /// What went wrong.
    pub detail: String,
}

/// What a `#[task]` method is given: whether the server is stopping, and a sleep that ends
/// early when it is.
///
/// A task runs from after the start hooks until the server shuts down; it is cancelled before
/// the stop hooks run. An `async` task that `.await`s [`sleep`](Self::sleep) or
/// [`cancelled`](Self::cancelled) stops there; a synchronous one checks
/// [`is_cancelled`](Self::is_cancelled) in its loop.
#[derive(Debug, Clone)]
pub struct TaskContext {
    name: &'static str,
    cancel: CancellationToken,
}

impl TaskContext {
    /// The context of task `name`, stopped by `cancel`.
    pub(crate) fn new(name: &'static str, cancel: CancellationToken) -> Self {
        Self { name, cancel }
    }

    /// A context that is never cancelled, to call a task's method in tests.
    pub fn detached(name: &'static str) -> Self {
        Self::new(name, CancellationToken::new())
    }

    /// The task's name (its method's).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the server is stopping.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Completes when the server is stopping.
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await;
    }

    /// Sleep for `duration`, or less when the server stops: then `Err(Cancelled)`, so that a
    /// polling loop ends with `ctx.sleep(period).await?`.
    pub async fn sleep(&self, duration: Duration) -> Result<(), Cancelled> {
        tokio::select! {
            () = tokio::time::sleep(duration) => Ok(()),
            () = self.cancel.cancelled() => Err(Cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_sleep_ends_when_the_task_is_cancelled() {
        let cancel = CancellationToken::new();
        let ctx = TaskContext::new("poll", cancel.clone());
        assert_eq!(ctx.sleep(Duration::from_millis(10)).await, Ok(()));
        let sleeping = tokio::spawn({
            let ctx = ctx.clone();
            async move { ctx.sleep(Duration::from_secs(3600)).await }
        });
        tokio::task::yield_now().await;
        cancel.cancel();
        assert_eq!(sleeping.await.unwrap(), Err(Cancelled));
        assert!(ctx.is_cancelled());
    }
}
