//! What the runtime reports as it runs, to whoever watches it (the server's metrics): the
//! end of each invocation, each save of a Thing's settings.

use std::sync::Arc;
use std::time::Duration;

use super::invocations::Status;

/// Told of what the runtime does. Its methods are called on the runtime's own tasks: they
/// must be quick and must not block.
pub(crate) trait Observer: Send + Sync + std::fmt::Debug {
    /// An invocation of `action` on `thing` ended with `status` after running for `ran`
    /// (`None` when it was cancelled before it started).
    fn invocation_ended(
        &self,
        thing: &Arc<str>,
        action: &'static str,
        status: Status,
        ran: Option<Duration>,
    );

    /// The settings of `thing` were written to their file (`saved`), or could not be.
    fn settings_saved(&self, thing: &Arc<str>, saved: bool);
}

/// The observer of a server's runtime, when it has one.
pub(crate) type Observers = Option<Arc<dyn Observer>>;
