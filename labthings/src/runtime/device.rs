//! The runtime that device code runs on, apart from the one that serves.
//!
//! Actions, getters and setters are device code: they may block or spin without awaiting.
//! They run on a runtime of their own (its worker threads for async code, its blocking pool
//! for synchronous code), so that serving — HTTP, WebSocket notifications, cancellation —
//! never waits behind them.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::{Handle, Runtime};

use crate::problem::Problem;

/// Device code's runtime; shut down (in the background) when the server's last handle goes.
#[derive(Clone)]
pub(crate) struct Device {
    handle: Handle,
    _runtime: Arc<Owned>,
}

struct Owned(Option<Runtime>);

impl Drop for Owned {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            // Dropping a runtime blocks, which is not allowed inside another runtime.
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device").finish_non_exhaustive()
    }
}

impl Device {
    /// A runtime with `threads` worker threads (at least one).
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("labthings-device")
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            _runtime: Arc::new(Owned(Some(runtime))),
        })
    }

    /// Run `future` on the device runtime, in the background.
    pub(crate) fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Run device code's `future` on the device runtime and wait for its result; a panic is
    /// a 500 problem.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        future: impl Future<Output = Result<R, Problem>> + Send + 'static,
    ) -> Result<R, Problem> {
        match self.handle.spawn(future).await {
            Ok(result) => result,
            Err(error) => Err(crate::problem::panic::problem_from_join(error)),
        }
    }
}
