//! Running device code: a panic becomes a 500 problem, a failure is logged with its context,
//! and a result is available now or later.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

use super::Hosted;
use crate::model::table::{BoxFuture, HookFn};
use crate::model::thing::Thing;
use crate::problem::Problem;
use crate::runtime::device::Device;

/// Log a failure of device code: the client gets the problem, the console the context.
pub(super) fn log_failure<R>(thing: &str, property: &str, what: &str, result: &Result<R, Problem>) {
    if let Err(problem) = result
        && problem.status >= 500
    {
        tracing::error!(thing, property, "{what} failed: {}", problem.detail);
    }
}

/// Run device code's future, turning a panic into a 500 problem.
pub(super) fn guarded<R: Send + 'static>(
    future: BoxFuture<Result<R, Problem>>,
) -> BoxFuture<Result<R, Problem>> {
    Box::pin(async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => Err(crate::problem::panic::problem(&*payload)),
        }
    })
}

/// The result of device code: available now (a stored field), or later (a method).
///
/// Reading a stored field completes without allocating a future.
pub(crate) enum Pending<T> {
    Ready(Result<T, Problem>),
    Later(BoxFuture<Result<T, Problem>>),
}

impl<T: Send + 'static> Pending<T> {
    /// The result, running device code on the device runtime.
    pub(crate) async fn resolve(self, device: &Device) -> Result<T, Problem> {
        match self {
            Self::Ready(result) => result,
            Self::Later(future) => device.run(future).await,
        }
    }
}

/// Call synchronous code, turning a panic into a 500 problem.
pub(super) fn call_now<R>(f: impl FnOnce() -> Result<R, Problem>) -> Result<R, Problem> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|payload| Err(crate::problem::panic::problem(&*payload)))
}

impl<T: Thing> Hosted<T> {
    /// A start or stop hook, guarded.
    pub(super) fn hook(&self, hook: Option<HookFn<T>>) -> Option<BoxFuture<Result<(), Problem>>> {
        hook.map(|hook| guarded(hook(self.thing.clone())))
    }

    /// Device code that completes later, its failure logged with the property's name.
    pub(super) fn later<R: Send + 'static>(
        &self,
        what: &'static str,
        index: usize,
        future: BoxFuture<Result<R, Problem>>,
    ) -> Pending<R> {
        let (thing, property) = (self.name.clone(), self.table.properties[index].def.name);
        Pending::Later(Box::pin(async move {
            let result = future.await;
            log_failure(&thing, property, what, &result);
            result
        }))
    }
}
