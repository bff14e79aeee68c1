//! A simulated Sangaboard on a pseudo-terminal: the firmware's line protocol (v1.0) with
//! moves that take time, so that drivers use the same serial code path as with the real
//! board. The board is reached at a stable path (a symlink to the pty), and can be unplugged
//! and plugged in again at that path, or made silent.

#![allow(unreachable_pub)]

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};

/// How fast the simulated motors go, in steps per second (each axis).
pub const STEPS_PER_SECOND: f64 = 2000.0;

/// The firmware's version line.
pub const VERSION: &str = "Sangaboard Firmware v1.0.1";

/// The motion of the simulated stage.
#[derive(Debug, Clone, Copy)]
struct Motion {
    from: [i64; 3],
    to: [i64; 3],
    started: Instant,
    takes: Duration,
}

impl Motion {
    fn at_rest(position: [i64; 3]) -> Self {
        Self {
            from: position,
            to: position,
            started: Instant::now(),
            takes: Duration::ZERO,
        }
    }

    fn position(&self) -> [i64; 3] {
        let elapsed = self.started.elapsed();
        if elapsed >= self.takes {
            return self.to;
        }
        let f = elapsed.as_secs_f64() / self.takes.as_secs_f64();
        std::array::from_fn(|i| self.from[i] + ((self.to[i] - self.from[i]) as f64 * f) as i64)
    }

    fn moving(&self) -> bool {
        self.started.elapsed() < self.takes
    }

    fn remaining(&self) -> Duration {
        self.takes.saturating_sub(self.started.elapsed())
    }
}

/// What the board knows.
#[derive(Debug)]
struct Board {
    motion: Motion,
    blocking_moves: bool,
    led_cc: f64,
    /// Every command received, in order.
    received: Vec<String>,
}

/// A simulated board, served at `path` until dropped.
pub struct SimBoard {
    path: PathBuf,
    board: Arc<Mutex<Board>>,
    silent: Arc<AtomicBool>,
    /// The thread answering on the pty, and what stops it.
    serving: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
    /// The board's own handle on the pty's port side, so that the pty stays usable between
    /// two openers (without one, the board's side reads EIO).
    _port: Option<std::fs::File>,
}

impl SimBoard {
    /// A board at rest at 0 0 0, reached at `path` (a symlink, replaced if it exists).
    pub fn start(path: &Path) -> std::io::Result<Self> {
        let board = Arc::new(Mutex::new(Board {
            motion: Motion::at_rest([0, 0, 0]),
            blocking_moves: false,
            led_cc: 0.32,
            received: Vec::new(),
        }));
        let mut sim = Self {
            path: path.to_owned(),
            board,
            silent: Arc::new(AtomicBool::new(false)),
            serving: None,
            _port: None,
        };
        sim.plug()?;
        Ok(sim)
    }

    /// The path drivers open.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every command the board received, in order.
    pub fn received(&self) -> Vec<String> {
        self.board.lock().unwrap().received.clone()
    }

    /// The stage's position now.
    pub fn position(&self) -> [i64; 3] {
        self.board.lock().unwrap().motion.position()
    }

    /// Stop answering (the board hangs), or answer again.
    pub fn set_silent(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
    }

    /// Pull the cable: the pty is closed and the path removed.
    pub fn unplug(&mut self) {
        if let Some((serving, stop)) = self.serving.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = serving.join();
        }
        self._port = None;
        let _ = std::fs::remove_file(&self.path);
    }

    /// Plug it (back) in: a new pty, at the same path.
    pub fn plug(&mut self) -> std::io::Result<()> {
        self.unplug();
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).map_err(std::io::Error::from)?;
        grantpt(&master).map_err(std::io::Error::from)?;
        unlockpt(&master).map_err(std::io::Error::from)?;
        let slave = ptsname_r(&master).map_err(std::io::Error::from)?;
        self._port = Some(raw(&slave)?);
        std::os::unix::fs::symlink(&slave, &self.path)?;
        let (board, silent) = (self.board.clone(), self.silent.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let serving = std::thread::spawn(move || serve(&master, &board, &silent, &stopping));
        self.serving = Some((serving, stop));
        Ok(())
    }
}

impl Drop for SimBoard {
    fn drop(&mut self) {
        self.unplug();
    }
}

/// Set the port side raw (no echo, no line editing), as a serial port is; the open port.
fn raw(slave: &str) -> std::io::Result<std::fs::File> {
    use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(slave)?;
    let mut termios = tcgetattr(&file).map_err(std::io::Error::from)?;
    cfmakeraw(&mut termios);
    tcsetattr(&file, SetArg::TCSANOW, &termios).map_err(std::io::Error::from)?;
    Ok(file)
}

/// Answer commands until `stop` (then the pty is closed).
fn serve(master: &PtyMaster, board: &Mutex<Board>, silent: &AtomicBool, stop: &AtomicBool) {
    let mut pending = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(20u8)) {
            Ok(0) => continue,
            Ok(_) => {}
            Err(_) => return,
        }
        let mut chunk = [0u8; 256];
        let n = match nix::unistd::read(master, &mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        pending.extend_from_slice(&chunk[..n]);
        while let Some(at) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=at).collect();
            let command = String::from_utf8_lossy(&line).trim().to_owned();
            if command.is_empty() {
                continue;
            }
            let (reply, wait) = answer(board, &command);
            if silent.load(Ordering::SeqCst) {
                continue;
            }
            if let Some(wait) = wait {
                std::thread::sleep(wait);
            }
            let mut bytes = Vec::new();
            for line in reply {
                bytes.extend(line.as_bytes());
                bytes.extend(b"\r\n");
            }
            if write_all(master, &bytes).is_err() {
                return;
            }
        }
    }
}

/// The reply lines to `command`, and how long the board holds them back (a blocking move,
/// `notify_on_stop`).
fn answer(board: &Mutex<Board>, command: &str) -> (Vec<String>, Option<Duration>) {
    let mut board = board.lock().unwrap();
    board.received.push(command.to_owned());
    let mut words = command.split_whitespace();
    let verb = words.next().unwrap_or_default();
    let args: Vec<&str> = words.collect();
    let one = |s: &str| (vec![s.to_owned()], None);
    match (verb, args.as_slice()) {
        ("version", []) => one(VERSION),
        ("board", []) => one("Sangaboard v0.5.3 (simulated)"),
        ("list_modules", []) => (
            vec!["Illumination: default".into(), "--END--".into()],
            None,
        ),
        ("help", []) => (
            vec![
                "commands: version board list_modules p? mr moving? notify_on_stop stop zero release"
                    .into(),
                "--END--".into(),
            ],
            None,
        ),
        ("led_channels?", []) => one("CC:1 PWM:0"),
        ("blocking_moves", [flag]) => {
            board.blocking_moves = *flag == "true";
            one(&format!("blocking_moves {flag}"))
        }
        ("p?", []) => {
            let [x, y, z] = board.motion.position();
            one(&format!("{x} {y} {z}"))
        }
        ("mr", [dx, dy, dz]) => {
            let parsed: Result<Vec<i64>, _> = [dx, dy, dz].iter().map(|d| d.parse()).collect();
            let Ok(delta) = parsed else {
                return one("Type 'help' for a list of commands.");
            };
            let from = board.motion.position();
            let to = std::array::from_fn(|i| from[i] + delta[i]);
            let longest = delta.iter().map(|d| d.unsigned_abs()).max().unwrap_or(0);
            let takes = Duration::from_secs_f64(longest as f64 / STEPS_PER_SECOND);
            board.motion = Motion {
                from,
                to,
                started: Instant::now(),
                takes,
            };
            let wait = board.blocking_moves.then_some(takes);
            (vec!["done".into()], wait)
        }
        ("moving?", []) => one(if board.motion.moving() { "true" } else { "false" }),
        ("notify_on_stop", []) => (vec!["done".into()], Some(board.motion.remaining())),
        ("stop", []) => {
            let here = board.motion.position();
            board.motion = Motion::at_rest(here);
            one("stopped")
        }
        ("zero", []) => {
            board.motion = Motion::at_rest([0, 0, 0]);
            one("position reset to 0 0 0")
        }
        ("release", []) => one("motors released"),
        ("led_cc?", []) => one(&format!("CC LED:{:.2}", board.led_cc)),
        ("led_cc", [value]) => match value.parse() {
            Ok(v) => {
                board.led_cc = v;
                one(&format!("CC LED:{v:.2}"))
            }
            Err(_) => one("Type 'help' for a list of commands."),
        },
        ("dt?", []) => one("minimum step delay 500"),
        ("ramp_time?", []) => one("ramp time 0"),
        _ => one("Type 'help' for a list of commands."),
    }
}

fn write_all(master: &PtyMaster, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        let n = nix::unistd::write(master, bytes)?;
        bytes = &bytes[n..];
    }
    Ok(())
}
