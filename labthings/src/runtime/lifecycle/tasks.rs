//! The Things' background tasks: started once every start hook has run, cancelled (and
//! awaited, within the shutdown deadline) before any stop hook runs. A task that fails or
//! panics is logged with its Thing and its name, and the Thing emits its `task_failed` event;
//! the server goes on.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::runtime::device::Device;
use crate::runtime::hosted::DynThing;

/// A running task.
pub(crate) struct Running {
    thing: String,
    task: &'static str,
    handle: JoinHandle<()>,
}

/// Start the tasks of `things` in `order`, on the device runtime.
pub(crate) fn start(
    things: &[(String, Arc<dyn DynThing>)],
    order: &[usize],
    device: &Device,
    cancel: &CancellationToken,
) -> Vec<Running> {
    let mut running = Vec::new();
    for &i in order {
        let (name, thing) = &things[i];
        for (task, future) in thing.tasks(cancel) {
            let (named, thing, stopping) = (name.clone(), thing.clone(), cancel.clone());
            let supervised = async move {
                match future.await {
                    Ok(()) => tracing::info!(thing = %named, task, "the task ended"),
                    Err(_) if stopping.is_cancelled() => {
                        tracing::info!(thing = %named, task, "the task stopped")
                    }
                    Err(problem) => {
                        tracing::error!(thing = %named, task, "the task failed: {}", problem.detail);
                        thing.task_failed(task, &problem);
                    }
                }
            };
            tracing::debug!(thing = %name, task, "the task starts");
            running.push(Running {
                thing: name.clone(),
                task,
                handle: device.spawn(supervised),
            });
        }
    }
    running
}

/// Cancel the tasks and wait for each to end, for at most `deadline` in all; those still
/// running then are aborted (at their next `.await`).
pub(crate) async fn stop(running: Vec<Running>, cancel: &CancellationToken, deadline: Duration) {
    cancel.cancel();
    let until = tokio::time::Instant::now() + deadline;
    for Running {
        thing,
        task,
        mut handle,
    } in running
    {
        if tokio::time::timeout_at(until, &mut handle).await.is_err() {
            tracing::error!(
                thing = %thing,
                task,
                "the task did not stop within {deadline:?} of being cancelled: it is aborted"
            );
            handle.abort();
        }
    }
}
