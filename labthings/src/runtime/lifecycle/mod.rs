//! The lifecycle of a server's Things: prepared (slots connected, settings loaded, the
//! settings saver running, the device runtime up), started (start hooks run in slot order,
//! then the background tasks), stopped (tasks cancelled, stop hooks in reverse, then pending
//! settings saved).

mod hooks;
#[cfg(feature = "history")]
mod series;
mod slots;
mod tasks;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub(crate) use slots::SlotNames;

use crate::broker::HistoryLimits;
use crate::runtime::device::Device;
use crate::runtime::hosted::DynThing;
use crate::runtime::observer::Observers;
use crate::runtime::settings;
use crate::sync::Locked;

/// Why a server could not start: every problem, one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StartError {
    /// The problems, each naming the Thing (and the slot) at fault.
    pub problems: Vec<String>,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

/// What preparing the Things needs.
#[derive(Debug)]
pub(crate) struct Preparation<'a> {
    pub(crate) slot_names: &'a SlotNames,
    pub(crate) settings_dir: PathBuf,
    pub(crate) history: HistoryLimits,
    pub(crate) device_threads: usize,
    /// Stops the settings saver, which then saves what is pending.
    pub(crate) saver_stop: CancellationToken,
    /// Told of each save of the settings.
    pub(crate) observer: Observers,
    /// The bounds of each property's value history, and those set for single properties
    /// (`thing`, `property`, bounds).
    #[cfg(feature = "history")]
    pub(crate) series: (
        crate::broker::SeriesLimits,
        &'a [(String, String, crate::broker::SeriesLimits)],
    ),
}

/// The Things of a server, prepared to start.
pub(crate) struct Lifecycle {
    /// The Things, in the order they were added.
    pub(crate) things: Vec<(String, Arc<dyn DynThing>)>,
    /// For each, the Things its code may drive through its slots.
    pub(crate) reaches: Vec<Vec<usize>>,
    /// The order they start in.
    order: Vec<usize>,
    /// Where device code runs.
    pub(crate) device: Device,
    /// Whether their start hooks ran (so their stop hooks must).
    started: bool,
    saver_stop: CancellationToken,
    saver: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Stops the background tasks.
    tasks_stop: CancellationToken,
    tasks: Mutex<Vec<tasks::Running>>,
}

impl fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lifecycle")
            .field("order", &self.order)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl Lifecycle {
    /// Start the device runtime, connect slots, load settings, start the settings saver.
    pub(crate) fn prepare(
        things: Vec<(String, Arc<dyn DynThing>)>,
        how: Preparation<'_>,
    ) -> Result<Self, StartError> {
        let device = Device::new(how.device_threads).map_err(|e| StartError {
            problems: vec![format!("the runtime for device code cannot start: {e}")],
        })?;
        let slots::Connected { order, reaches } = slots::connect(&things, how.slot_names)?;
        for (_, thing) in &things {
            thing.keep_history(how.history);
            settings::load(&how.settings_dir, &**thing);
        }
        #[cfg(feature = "history")]
        series::keep(&things, how.series.0, how.series.1)?;
        let all = things.iter().map(|(_, t)| t.clone()).collect();
        let saver = settings::saver(how.settings_dir, all, how.saver_stop.clone(), how.observer);
        let saver = device.spawn(saver);
        Ok(Self {
            things,
            reaches,
            order,
            device,
            started: false,
            saver_stop: how.saver_stop,
            saver: Mutex::new(Some(saver)),
            tasks_stop: CancellationToken::new(),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Run the start hooks in slot order (if one fails, the Things already started are
    /// stopped in reverse, and the error names the Thing), then start the background tasks.
    pub(crate) async fn start(&mut self, deadline: Duration) -> Result<(), StartError> {
        hooks::start(&self.things, &self.order, &self.device, deadline).await?;
        self.started = true;
        let running = tasks::start(&self.things, &self.order, &self.device, &self.tasks_stop);
        *self.tasks.locked() = running;
        Ok(())
    }

    /// Cancel the background tasks (awaiting them within `deadline`), run the stop hooks of
    /// the started Things in reverse order, then save pending settings.
    pub(crate) async fn stop(&self, deadline: Duration) {
        let running = std::mem::take(&mut *self.tasks.locked());
        tasks::stop(running, &self.tasks_stop, deadline).await;
        if self.started {
            hooks::stop(&self.things, &self.order, &self.device, deadline).await;
        }
        self.saver_stop.cancel();
        let saver = self.saver.locked().take();
        if let Some(saver) = saver {
            let _ = saver.await;
        }
    }
}
