//! The OpenFlexure stage: a driver for the Sangaboard motor controller, whose affordances are
//! those of `labthings-sangaboard` 0.0.1, name for name, so that LabThings-FastAPI clients
//! written for it work; plus `jog`, which the OpenFlexure v3 gamepad client sends.
//!
//! The board speaks a line protocol over USB serial (115200 8N1): one reply line per command,
//! `p?` → `X Y Z`, `mr DX DY DZ` starts a relative move, `moving?` → `true` while it moves,
//! `stop`, `zero`, `led_cc?` → `CC LED:0.32`.

#![allow(unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use labthings::transport::{Endpoint, LineDevice, LineSettings};
use labthings::{ActionContext, Problem, TaskContext, thing};
use serde::{Deserialize, Serialize};

/// How often a move's progress is read.
const POLL: Duration = Duration::from_millis(100);

/// A position, in motor steps.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Position {
    pub x: i64,
    pub y: i64,
    pub z: i64,
}

/// Where the board is: `{ port = "/dev/ttyACM0" }`, and optionally a transcript to record
/// every exchange to, or one to replay instead of a board.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SangaboardArgs {
    /// The serial port (or `tcp://host:port`).
    pub port: String,
    /// Record every exchange to this transcript.
    #[serde(default)]
    pub record: Option<PathBuf>,
    /// Replay this transcript instead of talking to a board.
    #[serde(default)]
    pub replay: Option<PathBuf>,
}

/// The OpenFlexure stage on a Sangaboard motor controller.
#[thing]
pub struct Sangaboard {
    /// Where the stage is, in motor steps; updated while it moves.
    #[property(observable, read_only)]
    pub position: Position,
    /// Whether the stage is moving.
    #[property(observable, read_only)]
    pub moving: bool,
    /// The names of the axes.
    #[property(read_only)]
    pub axis_names: Vec<String>,
    /// Whether the board is connected (it is reconnected when it is back).
    #[property(observable, read_only)]
    pub connected: bool,
    /// The board's firmware, as it says.
    #[property(read_only)]
    pub firmware: String,
    board: LineDevice,
    /// Whether an action is following a move (the watch task then leaves it to it).
    following: AtomicBool,
    /// Held while the board's motion and the `moving` flag change together, so that a
    /// `moving?` reply read before a stop is never published after it; holds the latest
    /// [`sequence`](ActionContext::sequence) of an invocation that moved or stopped the
    /// stage, so that a jog accepted before it does nothing.
    motion: tokio::sync::Mutex<u64>,
}

impl Sangaboard {
    /// The board at `args.port` (or the transcript `args.replay`).
    pub fn new(args: SangaboardArgs) -> Result<Self, String> {
        let endpoint = match &args.replay {
            Some(transcript) => Endpoint::Replay {
                transcript: transcript.clone(),
            },
            None => Endpoint::parse(&args.port).map_err(|e| e.to_string())?,
        };
        let mut board = LineDevice::connect("stage", endpoint, LineSettings::default());
        if let Some(path) = &args.record {
            board = board
                .record(path)
                .map_err(|e| format!("cannot record to {}: {e}", path.display()))?;
        }
        Ok(Self {
            position: Position::default().into(),
            moving: false.into(),
            axis_names: vec!["x".into(), "y".into(), "z".into()].into(),
            connected: false.into(),
            firmware: String::new().into(),
            board,
            following: AtomicBool::new(false),
            motion: tokio::sync::Mutex::new(0),
        })
    }

    /// Check the firmware and put the board in non-blocking mode; read the position.
    async fn handshake(&self) -> Result<(), Problem> {
        let version = self.board.query("version").await?;
        let Some(v) = version
            .strip_prefix("Sangaboard Firmware v")
            .or_else(|| version.strip_prefix("OpenFlexure Motor Board v"))
        else {
            return Err(Problem::internal(format!(
                "the board answered `version` with {version:?}: not a Sangaboard"
            )));
        };
        if !v.starts_with("1.") {
            return Err(Problem::internal(format!(
                "firmware v{v} is not supported: this driver needs v1.x"
            )));
        }
        self.board.query_until("list_modules", "--END--").await?;
        self.board.query("board").await?;
        self.board.query("blocking_moves false").await?;
        self.firmware.set(version);
        self.read_position().await?;
        self.connected.set(true);
        Ok(())
    }

    async fn read_position(&self) -> Result<Position, Problem> {
        let reply = self.board.query("p?").await?;
        let steps: Vec<i64> = reply
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let [x, y, z] = steps[..] else {
            return Err(Problem::internal(format!(
                "the board answered `p?` with {reply:?}, not `X Y Z`"
            )));
        };
        let position = Position { x, y, z };
        self.position.set_if_changed(position);
        Ok(position)
    }

    /// Ask the board whether it moves, and publish it.
    async fn is_moving(&self) -> Result<bool, Problem> {
        let _motion = self.motion.lock().await;
        self.moving_now().await
    }

    /// [`is_moving`](Self::is_moving), for a caller that holds the motion lock.
    async fn moving_now(&self) -> Result<bool, Problem> {
        let moving = self.board.query("moving?").await? == "true";
        self.moving.set_if_changed(moving);
        Ok(moving)
    }

    /// Move by `delta`, publishing the position until the move ends; cancelled, the board
    /// is told to stop.
    pub async fn move_by(&self, delta: Position, ctx: &ActionContext) -> Result<(), Problem> {
        self.following.store(true, Ordering::SeqCst);
        let moved = self.follow_move(delta, ctx).await;
        self.following.store(false, Ordering::SeqCst);
        moved
    }

    /// Send the motion `command` of the invocation `ctx` to the board and publish `moving`,
    /// under the motion lock.
    async fn drive(&self, command: &str, moving: bool, ctx: &ActionContext) -> Result<(), Problem> {
        let mut latest = self.motion.lock().await;
        *latest = (*latest).max(ctx.sequence());
        self.board.query(command).await?;
        self.moving.set(moving);
        Ok(())
    }

    async fn follow_move(&self, delta: Position, ctx: &ActionContext) -> Result<(), Problem> {
        self.drive(
            &format!("mr {} {} {}", delta.x, delta.y, delta.z),
            true,
            ctx,
        )
        .await?;
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = ctx.cancelled() => {
                    self.drive("stop", false, ctx).await?;
                    let at = self.read_position().await?;
                    return Err(Problem::new(409, format!("stopped at {} {} {}", at.x, at.y, at.z)));
                }
            }
            self.read_position().await?;
            if !self.is_moving().await? {
                break;
            }
        }
        self.read_position().await?;
        Ok(())
    }
}

#[thing]
impl Sangaboard {
    /// Move by the given number of steps on each axis (missing axes do not move).
    #[action(exclusive)]
    async fn move_relative(
        &self,
        x: Option<i64>,
        y: Option<i64>,
        z: Option<i64>,
        block_cancellation: Option<bool>,
        ctx: &ActionContext,
    ) -> Result<(), Problem> {
        let delta = Position {
            x: x.unwrap_or(0),
            y: y.unwrap_or(0),
            z: z.unwrap_or(0),
        };
        if block_cancellation == Some(true) {
            let steps = delta.x.abs().max(delta.y.abs()).max(delta.z.abs());
            self.drive(
                &format!("mr {} {} {}", delta.x, delta.y, delta.z),
                true,
                ctx,
            )
            .await?;
            let patience = Duration::from_secs(10) + Duration::from_millis(steps as u64);
            self.board.query_within("notify_on_stop", patience).await?;
            let motion = self.motion.lock().await;
            self.moving.set(false);
            drop(motion);
            self.read_position().await?;
            return Ok(());
        }
        self.move_by(delta, ctx).await
    }

    /// Move to the given position (missing axes stay where they are).
    #[action(exclusive)]
    async fn move_absolute(
        &self,
        x: Option<i64>,
        y: Option<i64>,
        z: Option<i64>,
        block_cancellation: Option<bool>,
        ctx: &ActionContext,
    ) -> Result<(), Problem> {
        let _ = block_cancellation;
        let now = self.read_position().await?;
        let delta = Position {
            x: x.map_or(0, |x| x - now.x),
            y: y.map_or(0, |y| y - now.y),
            z: z.map_or(0, |z| z - now.z),
        };
        self.move_by(delta, ctx).await
    }

    /// Stop the stage now; refused (409) when it is not moving.
    #[action]
    async fn abort_move(&self, ctx: &ActionContext) -> Result<(), Problem> {
        let mut latest = self.motion.lock().await;
        *latest = (*latest).max(ctx.sequence());
        if !self.moving_now().await? {
            return Err(Problem::new(
                409,
                "the stage is not moving: there is nothing to abort",
            ));
        }
        self.board.query("stop").await?;
        self.moving.set(false);
        self.read_position().await?;
        Ok(())
    }

    /// Make the current position 0 0 0.
    #[action]
    async fn set_zero_position(&self) -> Result<(), Problem> {
        self.board.query("zero").await?;
        self.read_position().await?;
        Ok(())
    }

    /// Flash the constant-current LED `number_of_flashes` times, `dt` seconds apart.
    #[action]
    async fn flash_led(
        &self,
        number_of_flashes: Option<u32>,
        dt: Option<f64>,
        led_channel: Option<String>,
    ) -> Result<(), Problem> {
        if led_channel.as_deref().is_some_and(|c| c != "cc") {
            return Err(Problem::invalid(
                "only the `cc` LED channel can flash",
                vec![],
            ));
        }
        let level = self.board.query("led_cc?").await?;
        let Some(on) = level.strip_prefix("CC LED:") else {
            return Err(Problem::internal(format!(
                "the board answered `led_cc?` with {level:?}, not `CC LED:…`"
            )));
        };
        let on = on.trim().to_owned();
        let dt = Duration::from_secs_f64(dt.unwrap_or(0.5).clamp(0.0, 10.0));
        for _ in 0..number_of_flashes.unwrap_or(10) {
            self.board.query("led_cc 0").await?;
            tokio::time::sleep(dt).await;
            self.board.query(&format!("led_cc {on}")).await?;
            tokio::time::sleep(dt).await;
        }
        Ok(())
    }

    /// Start a relative move at once, replacing a jog in progress (the gamepad sends one
    /// every 50 ms while a button is held); `{"stop": true}` stops the stage. A jog that
    /// starts after a later jog, move or abort has run does nothing: it was overtaken.
    #[action]
    async fn jog(
        &self,
        x: Option<i64>,
        y: Option<i64>,
        z: Option<i64>,
        stop: Option<bool>,
        ctx: &ActionContext,
    ) -> Result<(), Problem> {
        let mut latest = self.motion.lock().await;
        if *latest > ctx.sequence() {
            return Ok(());
        }
        *latest = ctx.sequence();
        self.board.query("stop").await?;
        if stop == Some(true) {
            self.moving.set(false);
            self.read_position().await?;
            return Ok(());
        }
        let (x, y, z) = (x.unwrap_or(0), y.unwrap_or(0), z.unwrap_or(0));
        self.board.query(&format!("mr {x} {y} {z}")).await?;
        self.moving.set(true);
        Ok(())
    }

    /// Connect to the board: its firmware is checked. A board that is not there does not
    /// stop the server: it is connected when it comes.
    #[on_start]
    async fn start(&self) {
        if let Err(problem) = self.handshake().await {
            tracing::warn!("the stage is not connected yet: {}", problem.detail);
        }
    }

    /// Keep the board connected, and publish the position while the stage moves after a jog
    /// (an action that moves it follows its own move).
    #[task]
    async fn watch(&self, ctx: &TaskContext) -> Result<(), labthings::Cancelled> {
        let mut connected = self.board.watch_connected();
        loop {
            let now = *connected.borrow_and_update();
            if now != self.connected.get() {
                self.connected.set(now);
            }
            if !now {
                if self.board.reconnect().await.is_ok()
                    && let Err(problem) = self.handshake().await
                {
                    tracing::warn!("the stage answered, but: {}", problem.detail);
                }
            } else if self.moving.get() && !self.following.load(Ordering::SeqCst) {
                let _ = self.read_position().await;
                let _ = self.is_moving().await;
            }
            ctx.sleep(POLL).await?;
        }
    }
}
