//! Capturing `tracing` events emitted while an invocation runs into its `log`.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use crate::model::context::{ActionContext, LogRecord};
use crate::model::scope::current;

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

#[cfg(feature = "cli")]
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
