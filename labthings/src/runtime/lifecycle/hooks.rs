//! The start and stop hooks: run in slot order (and undone in reverse on failure), stop hooks
//! in reverse, each within the shutdown deadline.

use std::sync::Arc;
use std::time::Duration;

use super::StartError;
use crate::runtime::device::Device;
use crate::runtime::hosted::DynThing;

/// Run the start hooks in `order`. If one fails, the Things already started are stopped in
/// reverse order, and the error names the Thing that failed.
pub(crate) async fn start(
    things: &[(String, Arc<dyn DynThing>)],
    order: &[usize],
    device: &Device,
    stop_deadline: Duration,
) -> Result<(), StartError> {
    let mut started = Vec::new();
    for &i in order {
        let (name, thing) = &things[i];
        if let Some(hook) = thing.on_start() {
            if let Err(problem) = device.run(hook).await {
                tracing::error!(thing = %name, "the start hook failed: {}", problem.detail);
                stop(things, &started, device, stop_deadline).await;
                return Err(StartError {
                    problems: vec![format!(
                        "Thing '{name}' could not start: {}",
                        problem.detail
                    )],
                });
            }
            tracing::info!(thing = %name, "started");
        }
        started.push(i);
    }
    Ok(())
}

/// Run the stop hooks of `started` in reverse order, each for at most `deadline`.
pub(crate) async fn stop(
    things: &[(String, Arc<dyn DynThing>)],
    started: &[usize],
    device: &Device,
    deadline: Duration,
) {
    for &i in started.iter().rev() {
        let (name, thing) = &things[i];
        let Some(hook) = thing.on_stop() else {
            continue;
        };
        match tokio::time::timeout(deadline, device.run(hook)).await {
            Ok(Ok(())) => tracing::info!(thing = %name, "stopped"),
            Ok(Err(problem)) => {
                tracing::error!(thing = %name, "the stop hook failed: {}", problem.detail)
            }
            Err(_) => {
                tracing::error!(thing = %name, "the stop hook did not finish within {deadline:?}")
            }
        }
    }
}
