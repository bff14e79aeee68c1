//! A simulated temperature controller: the driver patterns of a real one. A background task
//! reads the sensor and publishes the temperature; `ramp_to` moves the setpoint at a rate,
//! refuses a target the controller cannot reach (a 422, the caller's mistake) and, when
//! cancelled, says where it stopped; an event warns when the temperature passes the limit; the
//! start and stop hooks connect and disconnect the sensor.

#![allow(unreachable_pub)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labthings::{ActionContext, Cancelled, Event, Problem, TaskContext, thing};

/// Past this temperature, the controller is overheated; targets above it are refused.
pub const LIMIT: f64 = 90.0;

/// How much of the way to the setpoint the temperature goes at each reading.
const LAG: f64 = 0.2;

/// A temperature controller (simulated: its heater is a first-order lag).
#[thing]
pub struct Thermo {
    /// The temperature, as the sensor last read it.
    #[property(observable, read_only, unit = "°C")]
    pub temperature: f64,
    /// Where the controller is heading.
    #[property(observable, setting, minimum = 0.0, maximum = 100.0, unit = "°C")]
    pub setpoint: f64,
    /// How often the sensor is read.
    #[property(setting, minimum = 1, maximum = 60000, unit = "ms")]
    pub period_ms: u64,
    /// Whether the sensor is connected.
    #[property(observable, read_only)]
    pub connected: bool,
    /// The temperature went past the limit (its value, in °C).
    #[event]
    pub overheated: Event<f64>,
    /// What happened, in order (for the tests and the curious).
    pub journal: Mutex<Vec<String>>,
    /// Simulation: the sensor's next reading is garbage, and the poll task panics on it.
    pub garbage_next: AtomicBool,
}

impl Default for Thermo {
    fn default() -> Self {
        Self::new()
    }
}

impl Thermo {
    /// At room temperature, heading nowhere.
    pub fn new() -> Self {
        Self {
            temperature: 21.0.into(),
            setpoint: 21.0.into(),
            period_ms: 100.into(),
            connected: false.into(),
            overheated: Event::new(),
            journal: Mutex::new(Vec::new()),
            garbage_next: AtomicBool::new(false),
        }
    }

    fn note(&self, what: impl Into<String>) {
        self.journal.lock().unwrap().push(what.into());
    }

    /// One reading of the (simulated) sensor.
    fn read_sensor(&self) -> f64 {
        if self.garbage_next.swap(false, Ordering::SeqCst) {
            panic!("the sensor sent garbage");
        }
        let now = self.temperature.get();
        now + (self.setpoint.get() - now) * LAG
    }
}

#[thing]
impl Thermo {
    /// Read the sensor every `period_ms` and publish the temperature; warn once each time it
    /// passes the limit.
    #[task]
    async fn poll(&self, ctx: &TaskContext) -> Result<(), Cancelled> {
        self.note("poll starts");
        let stopped = loop {
            let before = self.temperature.get();
            let now = self.read_sensor();
            self.temperature.set(now);
            if before <= LIMIT && now > LIMIT {
                self.overheated.emit(now);
            }
            let period = Duration::from_millis(self.period_ms.get());
            if let Err(cancelled) = ctx.sleep(period).await {
                break cancelled;
            }
        };
        self.note("poll stops");
        Err(stopped)
    }

    /// Ramp the setpoint to `target` at `rate`, one step per 100 ms; returns the setpoint
    /// reached. Cancelled, it says where it stopped.
    #[action(exclusive)]
    async fn ramp_to(
        &self,
        #[arg(unit = "°C")] target: f64,
        #[arg(unit = "°C/s", exclusive_minimum = 0.0)] rate: f64,
        ctx: &ActionContext,
    ) -> Result<f64, Problem> {
        if target > LIMIT {
            return Err(Problem::invalid(
                format!("{target} °C is above the controller's limit of {LIMIT} °C"),
                vec![],
            ));
        }
        let step = rate / 10.0;
        loop {
            let at = self.setpoint.get();
            if (target - at).abs() <= step {
                self.setpoint.set(target);
                return Ok(target);
            }
            self.setpoint.set(at + step * (target - at).signum());
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(100)) => {}
                () = ctx.cancelled() => {
                    let at = self.setpoint.get();
                    return Err(Problem::new(409, format!("cancelled at {at:.1} °C")));
                }
            }
        }
    }

    /// Connect the sensor.
    #[on_start]
    fn connect(&self) {
        self.connected.set(true);
        self.note("connected");
        tracing::info!("sensor connected");
    }

    /// Disconnect the sensor.
    #[on_stop]
    fn disconnect(&self) {
        self.connected.set(false);
        self.note("disconnected");
        tracing::info!("sensor disconnected");
    }
}
