//! The counter Thing of the `counter` example, shared with the tests.

#![allow(unreachable_pub)]

use std::time::Duration;

use labthings::{ActionContext, Event, thing};

/// A stand-in for a serial port; plain fields stay private to Rust code.
#[derive(Debug)]
pub struct SerialPort;

/// A pointless counter.
///
/// Longer description of the counter.
#[thing]
#[derive(Debug)]
pub struct Counter {
    /// The current count.
    #[property(observable, read_only)]
    pub count: i64,
    /// How much `increment` adds.
    #[property(observable, minimum = 1, maximum = 100)]
    pub step: i64,
    /// A free-text label.
    #[property(max_length = 64)]
    pub label: String,
    /// Emitted when an addition was refused because the count would leave the `i64` range.
    #[event]
    pub overflowed: Event<Overflowed>,
    /// Emitted by `tick`, once per tick.
    #[event]
    pub ticked: Event<u64>,
    port: Option<SerialPort>,
}

/// The data of the `overflowed` event.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Overflowed {
    /// The count, unchanged.
    pub count: i64,
    /// What could not be added to it.
    pub n: i64,
}

/// Why `add` can fail.
#[derive(Debug, thiserror::Error)]
pub enum CounterError {
    /// The count would leave the `i64` range.
    #[error("adding {0} would overflow the count")]
    Overflow(i64),
}

#[thing]
impl Counter {
    /// Add `step` to the count and return the new value.
    #[action]
    async fn increment(&self) -> Result<i64, CounterError> {
        let step = self.step.get();
        self.add_checked(step)
    }

    /// Add `n` to the count.
    #[action]
    fn add(&self, n: i64) -> Result<i64, CounterError> {
        self.add_checked(n)
    }

    /// Increment the count `n` times as fast as possible, publishing every change.
    #[action]
    async fn increment_many(&self, n: u64, ctx: &ActionContext) -> Result<i64, CounterError> {
        for i in 0..n {
            if i % 1024 == 0 {
                // A long loop yields now and then, so that it can be cancelled and shares its
                // threads with other device code.
                tokio::task::yield_now().await;
                if ctx.is_cancelled() {
                    break;
                }
            }
            self.add_checked(1)?;
        }
        Ok(self.count.get())
    }

    /// Wait for `seconds`, reporting progress; cancellable.
    #[action]
    async fn wait(&self, seconds: f64, ctx: &ActionContext) -> Result<(), labthings::Cancelled> {
        let steps = (seconds * 10.0).ceil().max(1.0) as u32;
        for i in 0..steps {
            ctx.set_progress(100 * i / steps);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = ctx.cancelled() => return Err(labthings::Cancelled),
            }
        }
        tracing::info!("waited {seconds} s");
        Ok(())
    }

    /// Emit `ticked` `n` times as fast as possible, numbered from 1.
    #[action]
    async fn tick(&self, n: u64, ctx: &ActionContext) -> u64 {
        for i in 1..=n {
            if i % 1024 == 0 {
                tokio::task::yield_now().await;
                if ctx.is_cancelled() {
                    return i - 1;
                }
            }
            self.ticked.emit(i);
        }
        n
    }

    /// Temperature read from the hardware on every request.
    #[property]
    fn temperature(&self) -> f64 {
        let _port = &self.port;
        21.5
    }
}

/// Construction arguments of a [`Counter`] in a configuration file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CounterArgs {
    /// The initial count.
    pub start: i64,
    /// The initial step.
    pub step: i64,
}

impl Default for CounterArgs {
    fn default() -> Self {
        Self { start: 0, step: 1 }
    }
}

impl Counter {
    /// Add `n` to the count unless that would leave the `i64` range (the count is then
    /// unchanged and nobody is notified).
    fn add_checked(&self, n: i64) -> Result<i64, CounterError> {
        let mut result = Err(CounterError::Overflow(n));
        let mut unchanged = 0;
        self.count.update_if_modified(|c| match c.checked_add(n) {
            Some(sum) => {
                *c = sum;
                result = Ok(sum);
                true
            }
            None => {
                unchanged = *c;
                false
            }
        });
        if result.is_err() {
            self.overflowed.emit(Overflowed {
                count: unchanged,
                n,
            });
        }
        result
    }

    /// A counter starting at zero with step 1.
    pub fn new() -> Self {
        Self::with(CounterArgs::default()).expect("the default step is valid")
    }

    /// A counter from configuration arguments.
    pub fn with(args: CounterArgs) -> Result<Self, String> {
        if !(1..=100).contains(&args.step) {
            return Err(format!("step must be between 1 and 100, not {}", args.step));
        }
        Ok(Self {
            count: args.start.into(),
            step: args.step.into(),
            label: String::new().into(),
            overflowed: Event::new(),
            ticked: Event::new(),
            port: None,
        })
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}
