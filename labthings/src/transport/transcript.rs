//! Transcripts: every exchange with a device recorded as JSON lines (time, direction, text),
//! and played back as a simulated device.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::TransportError;
use crate::sync::Locked;

/// One line of a transcript: what the host sent (`out`) or the device answered (`in`), `t`
/// seconds after the recording started.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    t: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    out: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "in")]
    answered: Option<String>,
}

/// Records exchanges to a file.
pub(super) struct Recorder {
    file: Mutex<std::io::BufWriter<std::fs::File>>,
    start: Instant,
}

impl Recorder {
    /// A new transcript at `path` (replacing one that was there).
    pub(super) fn create(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::File::create(path)?;
        Ok(Self {
            file: Mutex::new(std::io::BufWriter::new(file)),
            start: Instant::now(),
        })
    }

    /// Record one exchange: the command and the lines that answered it.
    pub(super) fn exchange(&self, command: &str, reply: &[String]) {
        let t = self.start.elapsed().as_secs_f64();
        let mut file = self.file.locked();
        let mut write = |entry: Entry| {
            let _ = serde_json::to_writer(&mut *file, &entry);
            let _ = file.write_all(b"\n");
        };
        write(Entry {
            t,
            out: Some(command.to_owned()),
            answered: None,
        });
        for line in reply {
            write(Entry {
                t: self.start.elapsed().as_secs_f64(),
                out: None,
                answered: Some(line.clone()),
            });
        }
        let _ = file.flush();
    }
}

/// A recorded transcript, answering each command with the replies it was given, in order (the
/// last one again once they are used up).
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    replies: HashMap<String, VecDeque<Vec<String>>>,
}

impl Transcript {
    /// Read the transcript at `path`.
    pub fn load(path: &Path) -> Result<Self, TransportError> {
        let invalid = |what: String| TransportError::Invalid(format!("{}: {what}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| invalid(e.to_string()))?;
        let mut replies: HashMap<String, VecDeque<Vec<String>>> = HashMap::new();
        let mut current: Option<String> = None;
        for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| invalid(e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: Entry = serde_json::from_str(&line)
                .map_err(|e| invalid(format!("line {}: {e}", number + 1)))?;
            match (entry.out, entry.answered) {
                (Some(command), _) => {
                    replies
                        .entry(command.clone())
                        .or_default()
                        .push_back(Vec::new());
                    current = Some(command);
                }
                (None, Some(answer)) => {
                    let Some(command) = &current else {
                        return Err(invalid(format!(
                            "line {}: an answer before any command",
                            number + 1
                        )));
                    };
                    if let Some(last) = replies.get_mut(command).and_then(|q| q.back_mut()) {
                        last.push(answer);
                    }
                }
                (None, None) => {
                    return Err(invalid(format!(
                        "line {}: neither `out` nor `in`",
                        number + 1
                    )));
                }
            }
        }
        Ok(Self { replies })
    }

    /// The reply to `command`, if the transcript has one.
    pub(super) fn reply(&mut self, command: &str) -> Option<Vec<String>> {
        let queue = self.replies.get_mut(command)?;
        if queue.len() > 1 {
            queue.pop_front()
        } else {
            queue.front().cloned()
        }
    }

    /// The commands the transcript answers.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.replies.keys().map(String::as_str)
    }
}
