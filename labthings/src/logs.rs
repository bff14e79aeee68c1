//! Capturing `tracing` events emitted while an invocation runs into its `log`.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::context::{ActionContext, InvocationCore, LogRecord};

tokio::task_local! {
    static CURRENT: Arc<InvocationCore>;
}

thread_local! {
    static CURRENT_THREAD: RefCell<Option<Arc<InvocationCore>>> = const { RefCell::new(None) };
}

/// The invocation whose code runs here, if any.
pub(crate) fn current() -> Option<Arc<InvocationCore>> {
    CURRENT
        .try_with(Arc::clone)
        .ok()
        .or_else(|| CURRENT_THREAD.with(|c| c.borrow().clone()))
}

/// Run `future` as the code of `invocation`: its events are captured.
pub(crate) async fn capture<F: Future>(invocation: Arc<InvocationCore>, future: F) -> F::Output {
    CURRENT.scope(invocation, future).await
}

/// Run `f` on this (blocking) thread as the code of `invocation`, if any. The thread's
/// previous invocation is restored when `f` returns or panics, so later work on a pooled
/// thread never logs into this invocation.
pub(crate) fn on_thread<R>(invocation: Option<Arc<InvocationCore>>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<InvocationCore>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT_THREAD.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CURRENT_THREAD.with(|c| c.replace(invocation)));
    f()
}

/// A [`tracing_subscriber`] layer that records events into the running invocation's `log`.
///
/// [`cli::App`](crate::cli::App) installs it with a console formatter (see [`init`]); a
/// program that sets up `tracing` itself adds this layer to its subscriber to get invocation
/// logs. The library never installs a subscriber on its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct InvocationLogLayer;

impl<S: Subscriber> Layer<S> for InvocationLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let Some(invocation) = current() else {
            return;
        };
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let level = *event.metadata().level();
        let (levelname, levelno) = match level {
            Level::ERROR => ("ERROR", 40),
            Level::WARN => ("WARNING", 30),
            Level::INFO => ("INFO", 20),
            Level::DEBUG => ("DEBUG", 10),
            Level::TRACE => ("TRACE", 5),
        };
        invocation.push_log(LogRecord {
            message: visitor.0,
            levelname,
            levelno,
            created: ActionContext::now_rfc3339(),
            target: event.metadata().target().to_owned(),
        });
    }
}

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let sep = if self.0.is_empty() { "" } else { " " };
            let _ = write!(self.0, "{sep}{}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.record_debug(field, &value);
        }
    }
}

/// Install a console formatter on standard error (filtered by `RUST_LOG`, default `info`) and the
/// [`InvocationLogLayer`] as the global subscriber, unless one is already set. The command
/// line ([`cli::App`](crate::cli::App)) calls it.
pub fn init() {
    use tracing_subscriber::prelude::*;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .with_filter(filter),
        )
        .with(InvocationLogLayer)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::InvocationCore;

    #[test]
    fn a_panic_restores_the_thread_invocation() {
        let invocation = InvocationCore::new(uuid::Uuid::new_v4());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            on_thread(Some(invocation.clone()), || -> () {
                panic!("device code panicked")
            })
        }));
        assert!(result.is_err());
        assert!(
            current().is_none(),
            "the panicked invocation is still current"
        );
    }
}
