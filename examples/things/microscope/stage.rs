//! A simulated three-axis stage: it moves in steps at its speed, one move at a time.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labthings::{ActionContext, Event, thing};
use serde::{Deserialize, Serialize};

/// A position of the stage, in steps.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Position {
    /// Along x.
    pub x: i64,
    /// Along y.
    pub y: i64,
    /// Along z (focus).
    pub z: i64,
}

/// How far the stage may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Limits {
    /// The lowest position on each axis.
    pub min: Position,
    /// The highest position on each axis.
    pub max: Position,
}

impl Default for Limits {
    fn default() -> Self {
        let (min, max) = (-100_000, 100_000);
        Self {
            min: Position {
                x: min,
                y: min,
                z: min,
            },
            max: Position {
                x: max,
                y: max,
                z: max,
            },
        }
    }
}

/// What the stage is doing: its state, which gates what clients may do.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum StageState {
    /// At rest: it takes any command.
    #[default]
    Idle,
    /// A move is under way.
    Moving,
    /// The controller reported an error; a driver sets it, `home` clears it.
    Fault,
}

/// The data of the `moved` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Moved {
    /// Where the move started.
    pub from: Position,
    /// Where it ended.
    pub to: Position,
    /// How long it took.
    pub duration_ms: u64,
}

/// Why a move failed.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// The target lies outside the limits.
    #[error("the target {0:?} is outside the stage's limits {1:?}")]
    OutOfLimits(Position, Limits),
    /// The move was cancelled (the stage stopped where it was).
    #[error("the move was cancelled at {0:?}")]
    Cancelled(Position),
}

/// A simulated three-axis stage.
///
/// It moves in steps at `speed`, publishing its position along the way; one move at a time.
#[thing]
pub struct Stage {
    /// Where the stage is.
    #[property(observable, read_only, unit = "steps")]
    pub position: Position,
    /// What the stage is doing.
    #[property(state)]
    pub state: StageState,
    /// Whether a move is under way.
    #[property(observable, read_only)]
    pub moving: bool,
    /// How fast the stage moves.
    #[property(
        setting,
        observable,
        minimum = 1.0,
        maximum = 1_000_000.0,
        unit = "steps/s"
    )]
    pub speed: f64,
    /// How far the stage may move; not while it moves.
    #[property(setting, observable, allowed_in(Idle, Fault))]
    pub limits: Limits,
    /// Emitted after each move that reached its target.
    #[event]
    pub moved: Event<Moved>,
    connected: AtomicBool,
}

/// How often a moving stage publishes its position.
const TICK: Duration = Duration::from_millis(10);

#[thing]
impl Stage {
    /// Move to an absolute position, after the moves before it.
    #[action(exclusive = "queue")]
    pub async fn move_to(
        &self,
        #[arg(unit = "steps")] x: i64,
        #[arg(unit = "steps")] y: i64,
        #[arg(unit = "steps")] z: i64,
        ctx: &ActionContext,
    ) -> Result<Position, MoveError> {
        self.go(Position { x, y, z }, ctx).await
    }

    /// Move by an offset from where the stage is when the move starts, after the moves
    /// before it.
    #[action(exclusive = "queue")]
    async fn move_relative(
        &self,
        #[arg(unit = "steps")] dx: i64,
        #[arg(unit = "steps")] dy: i64,
        #[arg(unit = "steps")] dz: i64,
        ctx: &ActionContext,
    ) -> Result<Position, MoveError> {
        let from = self.position.get();
        let to = Position {
            x: from.x.saturating_add(dx),
            y: from.y.saturating_add(dy),
            z: from.z.saturating_add(dz),
        };
        self.go(to, ctx).await
    }

    /// Jog by an offset: the newest jog wins, stopping the move under way.
    #[action(exclusive = "preempt")]
    async fn jog(
        &self,
        #[arg(unit = "steps")] dx: i64,
        #[arg(unit = "steps")] dy: i64,
        #[arg(unit = "steps")] dz: i64,
        ctx: &ActionContext,
    ) -> Result<Position, MoveError> {
        self.move_relative(dx, dy, dz, ctx).await
    }

    /// Move to 0, 0, 0; only at rest (it also clears a fault).
    #[action(exclusive, allowed_in(Idle, Fault))]
    async fn home(&self, ctx: &ActionContext) -> Result<Position, MoveError> {
        self.go(Position::default(), ctx).await
    }

    /// Connect to the stage's controller.
    #[on_start]
    async fn connect(&self) {
        self.connected.store(true, Ordering::SeqCst);
        tracing::info!("stage connected");
    }

    /// Park the stage and disconnect.
    #[on_stop]
    async fn park(&self) {
        self.moving.set(false);
        self.state.set(StageState::Idle);
        self.connected.store(false, Ordering::SeqCst);
        tracing::info!("stage parked at {:?}", self.position.get());
    }
}

impl Stage {
    /// A stage at the origin, at 20,000 steps/s.
    pub fn new() -> Self {
        Self {
            position: Position::default().into(),
            state: StageState::Idle.into(),
            moving: false.into(),
            speed: 20_000.0.into(),
            limits: Limits::default().into(),
            moved: Event::new(),
            connected: AtomicBool::new(false),
        }
    }

    /// Whether the start hook ran (and the stop hook has not).
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Move to `to` in steps at `speed`, publishing the position every tick; stop where it is
    /// when cancelled. The Rust entry point of every move.
    pub async fn go(&self, to: Position, ctx: &ActionContext) -> Result<Position, MoveError> {
        let limits = self.limits.get();
        let inside = |v: i64, min: i64, max: i64| (min..=max).contains(&v);
        if !(inside(to.x, limits.min.x, limits.max.x)
            && inside(to.y, limits.min.y, limits.max.y)
            && inside(to.z, limits.min.z, limits.max.z))
        {
            return Err(MoveError::OutOfLimits(to, limits));
        }
        let from = self.position.get();
        let distance = [to.x - from.x, to.y - from.y, to.z - from.z]
            .iter()
            .map(|d| d.unsigned_abs())
            .max()
            .unwrap_or(0) as f64;
        let duration = Duration::from_secs_f64(distance / self.speed.get());
        let ticks = (duration.as_secs_f64() / TICK.as_secs_f64())
            .ceil()
            .max(1.0) as u32;
        self.state.set(StageState::Moving);
        self.moving.set(true);
        let started = std::time::Instant::now();
        let mut interval = tokio::time::interval(TICK);
        for tick in 1..=ticks {
            tokio::select! {
                _ = interval.tick() => {}
                () = ctx.cancelled() => {
                    self.moving.set(false);
                    self.state.set(StageState::Idle);
                    return Err(MoveError::Cancelled(self.position.get()));
                }
            }
            let f = f64::from(tick) / f64::from(ticks);
            let along = |a: i64, b: i64| a + ((b - a) as f64 * f).round() as i64;
            self.position.set(Position {
                x: along(from.x, to.x),
                y: along(from.y, to.y),
                z: along(from.z, to.z),
            });
            ctx.set_progress((100.0 * f).round() as u32);
        }
        self.moving.set(false);
        self.state.set(StageState::Idle);
        self.moved.emit(Moved {
            from,
            to,
            duration_ms: started.elapsed().as_millis() as u64,
        });
        Ok(to)
    }
}

impl Default for Stage {
    fn default() -> Self {
        Self::new()
    }
}
