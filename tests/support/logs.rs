//! The console log of the server in a test: a `tracing` subscriber that keeps every event.

use std::fmt::Write as _;
use std::sync::{Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Woken on every event.
static LOGGED: tokio::sync::Notify = tokio::sync::Notify::const_new();

struct Capture;

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Fields(String);
        impl Visit for Fields {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, "{}={value:?} ", field.name());
            }
        }
        let mut fields = Fields(format!("{} ", event.metadata().level()));
        event.record(&mut fields);
        EVENTS.lock().unwrap().push(fields.0);
        LOGGED.notify_waiters();
    }
}

/// Install the capturing subscriber (with invocation log capture), once per test binary.
pub(crate) fn capture() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry()
            .with(labthings::InvocationLogLayer)
            .with(Capture);
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
}

/// Whether an event was logged whose text contains every one of `parts`.
pub(crate) fn logged(parts: &[&str]) -> bool {
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .any(|e| parts.iter().all(|p| e.contains(p)))
}

/// Wait until an event is logged whose text contains every one of `parts`; panics after
/// [`super::ws::LIMIT`].
pub(crate) async fn logged_soon(parts: &[&str]) {
    let wait = async {
        loop {
            let logged_now = LOGGED.notified();
            if logged(parts) {
                return;
            }
            logged_now.await;
        }
    };
    tokio::time::timeout(super::ws::LIMIT, wait)
        .await
        .unwrap_or_else(|_| panic!("nothing logged with {parts:?}"));
}
