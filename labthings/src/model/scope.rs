//! The invocation whose code runs here: a task-local for async code, a thread-local for
//! blocking code. Its log captures `tracing` events, and its blobs are the server's.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use crate::model::context::InvocationCore;

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

#[cfg(test)]
mod tests {
    use super::*;

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
