//! A line-protocol device: one exchange at a time, each within its timeout, with stale input
//! discarded, the port reopened after a failure, and every exchange logged and recorded.

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, watch};

use super::TransportError;
use super::endpoint::Endpoint;
use super::link::Link;
use super::transcript::Recorder;

/// How a device frames its lines, and how long it may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSettings {
    /// Written after each command: `"\n"` (or `"\r\n"`).
    pub write_terminator: String,
    /// The byte that ends a line the device sends (a `\r` before it, and surrounding
    /// whitespace, are stripped).
    pub read_terminator: u8,
    /// How long an exchange may take, from writing the command to its last reply line.
    pub timeout: Duration,
    /// The first wait before reopening a failed port; doubled after each failure.
    pub reconnect_min: Duration,
    /// The longest wait between two attempts to reopen it.
    pub reconnect_max: Duration,
}

impl Default for LineSettings {
    /// `\n` both ways, a 2 s timeout, reopening after 100 ms to 5 s.
    fn default() -> Self {
        Self {
            write_terminator: "\n".into(),
            read_terminator: b'\n',
            timeout: Duration::from_secs(2),
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
        }
    }
}

/// A device that speaks a line protocol, over a serial port, TCP or a replayed transcript.
pub struct LineDevice {
    name: String,
    endpoint: Endpoint,
    settings: LineSettings,
    state: Mutex<State>,
    connected: watch::Sender<bool>,
    recorder: Option<Recorder>,
}

impl std::fmt::Debug for LineDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineDevice")
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .field("connected", &*self.connected.borrow())
            .finish_non_exhaustive()
    }
}

struct State {
    link: Option<Link>,
    /// Received bytes not yet returned as lines.
    buffer: Vec<u8>,
    /// Why the port is closed, and when it may be tried again.
    failure: String,
    next_attempt: Instant,
    backoff: Duration,
}

impl LineDevice {
    /// The device `name` at `endpoint`, not opened yet: the first request (or
    /// [`reconnect`](Self::reconnect)) opens it.
    pub fn connect(name: &str, endpoint: Endpoint, settings: LineSettings) -> Self {
        let backoff = settings.reconnect_min;
        Self {
            name: name.to_owned(),
            endpoint,
            settings,
            state: Mutex::new(State {
                link: None,
                buffer: Vec::new(),
                failure: "not opened yet".into(),
                next_attempt: Instant::now(),
                backoff,
            }),
            connected: watch::Sender::new(false),
            recorder: None,
        }
    }

    /// The device `name` at `endpoint`, opened now: an error if it cannot be.
    pub async fn open(
        name: &str,
        endpoint: Endpoint,
        settings: LineSettings,
    ) -> Result<Self, TransportError> {
        let device = Self::connect(name, endpoint, settings);
        device.reconnect().await?;
        Ok(device)
    }

    /// Record every exchange to a transcript at `path` (JSON lines; see
    /// [`Endpoint::Replay`]).
    pub fn record(mut self, path: &Path) -> io::Result<Self> {
        self.recorder = Some(Recorder::create(path)?);
        Ok(self)
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Whether its port is open.
    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Changes of [`is_connected`](Self::is_connected).
    pub fn watch_connected(&self) -> watch::Receiver<bool> {
        self.connected.subscribe()
    }

    /// Open the port now if it is closed (whatever the backoff says).
    pub async fn reconnect(&self) -> Result<(), TransportError> {
        let mut state = self.state.lock().await;
        state.next_attempt = Instant::now();
        self.ensure_open(&mut state).await.map(drop)
    }

    /// Send `command` and return the one line that answers it.
    pub async fn query(&self, command: &str) -> Result<String, TransportError> {
        let mut lines = self.exchange(command, Reply::Line).await?;
        Ok(lines.pop().unwrap_or_default())
    }

    /// Send `command` and return the line that answers it, waiting up to `timeout` for it
    /// (a command the device answers when a move ends, say).
    pub async fn query_within(
        &self,
        command: &str,
        timeout: Duration,
    ) -> Result<String, TransportError> {
        let mut lines = self.exchange_within(command, Reply::Line, timeout).await?;
        Ok(lines.pop().unwrap_or_default())
    }

    /// Send `command` and return the lines that answer it, up to (without) the line `end`.
    pub async fn query_until(
        &self,
        command: &str,
        end: &str,
    ) -> Result<Vec<String>, TransportError> {
        self.exchange(command, Reply::Until(end)).await
    }

    /// Send `command`, which the device does not answer.
    pub async fn command(&self, command: &str) -> Result<(), TransportError> {
        self.exchange(command, Reply::None).await.map(drop)
    }

    async fn exchange(
        &self,
        command: &str,
        reply: Reply<'_>,
    ) -> Result<Vec<String>, TransportError> {
        self.exchange_within(command, reply, self.settings.timeout)
            .await
    }

    async fn exchange_within(
        &self,
        command: &str,
        reply: Reply<'_>,
        timeout: Duration,
    ) -> Result<Vec<String>, TransportError> {
        let started = Instant::now();
        let mut state = self.state.lock().await;
        let link = self.ensure_open(&mut state).await?;
        link.discard_input();
        state.buffer.clear();
        let result = tokio::time::timeout(timeout, self.talk(&mut state, command, reply)).await;
        let lines = match result {
            Ok(Ok(lines)) => lines,
            Ok(Err(error)) if error.kind() == io::ErrorKind::NotFound => {
                return Err(TransportError::NotInTranscript {
                    device: self.name.clone(),
                    command: command.to_owned(),
                });
            }
            Ok(Err(error)) => return Err(self.failed(&mut state, &error)),
            Err(_) => {
                tracing::debug!(device = %self.name, "{command:?} → no answer within {timeout:?}");
                return Err(TransportError::Timeout {
                    device: self.name.clone(),
                    command: command.to_owned(),
                    after: timeout,
                });
            }
        };
        tracing::debug!(device = %self.name, "{command:?} → {lines:?} in {:?}", started.elapsed());
        if let Some(recorder) = &self.recorder {
            match reply {
                // What the device sent: the termination line too.
                Reply::Until(end) => {
                    let mut sent = lines.clone();
                    sent.push(end.to_owned());
                    recorder.exchange(command, &sent);
                }
                Reply::None | Reply::Line => recorder.exchange(command, &lines),
            }
        }
        Ok(lines)
    }

    /// Write `command` and read its reply.
    async fn talk(
        &self,
        state: &mut State,
        command: &str,
        reply: Reply<'_>,
    ) -> io::Result<Vec<String>> {
        let mut bytes = command.as_bytes().to_vec();
        bytes.extend(self.settings.write_terminator.as_bytes());
        let link = state.link.as_mut().expect("an open link");
        link.write(&bytes, command).await?;
        let mut lines = Vec::new();
        match reply {
            Reply::None => {}
            Reply::Line => lines.push(self.read_line(state).await?),
            Reply::Until(end) => loop {
                let line = self.read_line(state).await?;
                if line == end {
                    break;
                }
                lines.push(line);
            },
        }
        Ok(lines)
    }

    /// The next line the device sends.
    async fn read_line(&self, state: &mut State) -> io::Result<String> {
        let terminator = self.settings.read_terminator;
        loop {
            if let Some(at) = state.buffer.iter().position(|&b| b == terminator) {
                let line: Vec<u8> = state.buffer.drain(..=at).collect();
                return Ok(String::from_utf8_lossy(&line).trim().to_owned());
            }
            let mut chunk = [0u8; 512];
            let link = state.link.as_mut().expect("an open link");
            let n = link.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the port was closed",
                ));
            }
            state.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    /// The open link, opening the port if it is closed and the backoff allows.
    async fn ensure_open<'s>(&self, state: &'s mut State) -> Result<&'s mut Link, TransportError> {
        if state.link.is_none() {
            if Instant::now() < state.next_attempt {
                return Err(self.disconnected(&state.failure));
            }
            match Link::open(&self.endpoint).await {
                Ok(link) => {
                    tracing::info!(device = %self.name, endpoint = %self.endpoint, "the device is connected");
                    state.link = Some(link);
                    state.buffer.clear();
                    state.backoff = self.settings.reconnect_min;
                    self.connected.send_replace(true);
                }
                Err(error) => {
                    state.failure = error.to_string();
                    state.next_attempt = Instant::now() + state.backoff;
                    state.backoff = (state.backoff * 2).min(self.settings.reconnect_max);
                    return Err(self.disconnected(&state.failure));
                }
            }
        }
        Ok(state.link.as_mut().expect("just opened"))
    }

    /// The port failed: close it, and say so.
    fn failed(&self, state: &mut State, error: &io::Error) -> TransportError {
        tracing::warn!(device = %self.name, endpoint = %self.endpoint, "the device is disconnected: {error}");
        state.link = None;
        state.failure = error.to_string();
        state.next_attempt = Instant::now() + state.backoff;
        self.connected.send_replace(false);
        self.disconnected(&state.failure)
    }

    fn disconnected(&self, reason: &str) -> TransportError {
        TransportError::Disconnected {
            device: self.name.clone(),
            endpoint: self.endpoint.to_string(),
            reason: reason.to_owned(),
        }
    }
}

/// What answers a command.
#[derive(Clone, Copy)]
enum Reply<'a> {
    None,
    Line,
    Until(&'a str),
}
