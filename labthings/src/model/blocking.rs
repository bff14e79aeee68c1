//! Synchronous device code, run on a blocking thread of the current runtime.

use crate::model::table::BoxFuture;
use crate::problem::Problem;

/// Run blocking device code on a blocking thread of the current runtime, capturing its
/// `tracing` events into the running invocation's log.
pub fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> Result<R, Problem> + Send + 'static,
) -> BoxFuture<Result<R, Problem>> {
    Box::pin(async move {
        // Taken when first polled, inside the invocation's scope.
        let invocation = crate::model::scope::current();
        match tokio::task::spawn_blocking(move || crate::model::scope::on_thread(invocation, f))
            .await
        {
            Ok(result) => result,
            Err(error) => Err(crate::problem::panic::problem_from_join(error)),
        }
    })
}
