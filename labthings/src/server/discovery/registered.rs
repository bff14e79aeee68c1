//! The Thing Descriptions that other servers registered into this server's directory (the
//! registration API of W3C WoT Discovery): kept in memory, each until its time-to-live
//! passes, at most `limits.max_registrations`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use crate::problem::Problem;
use crate::runtime::limits::Limits;
use crate::sync::Locked;

/// One registered TD.
struct Entry {
    td: Arc<Value>,
    /// Its size as JSON.
    bytes: usize,
    created: SystemTime,
    expires: Instant,
}

/// The registered TDs, by `id`.
#[derive(Default)]
pub(crate) struct Registered {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registered({} TDs)", self.entries.locked().len())
    }
}

/// What a registration did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Put {
    Created,
    Updated,
}

impl Registered {
    /// Register (or renew) `td` as `id`, for the `ttl` its `registration` asks (at most
    /// `limits.registration_bound()`, which is also the default).
    pub(crate) fn put(&self, id: &str, mut td: Value, limits: &Limits) -> Result<Put, Problem> {
        let ttl = time_to_live(&td, limits)?;
        let now = (SystemTime::now(), Instant::now());
        let mut entries = self.entries.locked();
        entries.retain(|_, entry| entry.expires > now.1);
        let bytes = td.to_string().len();
        let others: usize = (entries.iter())
            .filter(|(other, _)| other.as_str() != id)
            .map(|(_, entry)| entry.bytes)
            .sum();
        if others + bytes > limits.max_registered_bytes {
            return Err(Problem::new(
                507,
                format!(
                    "this directory holds {others} bytes of Thing Descriptions, and takes {} at most (`limits.max_registered_bytes`): this one has {bytes}",
                    limits.max_registered_bytes
                ),
            ));
        }
        let created = match entries.get(id) {
            Some(entry) => entry.created,
            None if entries.len() >= limits.max_registrations => {
                return Err(Problem::new(
                    507,
                    format!(
                        "this directory holds {} Thing Descriptions, its most (`limits.max_registrations`)",
                        limits.max_registrations
                    ),
                ));
            }
            None => now.0,
        };
        let stamp = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
        td["registration"] = json!({
            "created": stamp(created),
            "modified": stamp(now.0),
            "expires": stamp(now.0 + ttl),
            "ttl": ttl.as_secs_f64(),
        });
        let entry = Entry {
            td: Arc::new(td),
            bytes,
            created,
            expires: now.1 + ttl,
        };
        Ok(match entries.insert(id.to_owned(), entry) {
            Some(_) => Put::Updated,
            None => Put::Created,
        })
    }

    /// The TD registered as `id`, unless it expired.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Value>> {
        let entries = self.entries.locked();
        let entry = entries.get(id)?;
        (entry.expires > Instant::now()).then(|| entry.td.clone())
    }

    /// Remove the TD registered as `id`; whether there was one.
    pub(crate) fn remove(&self, id: &str) -> bool {
        let mut entries = self.entries.locked();
        let now = Instant::now();
        entries.remove(id).is_some_and(|entry| entry.expires > now)
    }

    /// Every TD registered and not expired.
    pub(crate) fn all(&self) -> Vec<Arc<Value>> {
        let mut entries = self.entries.locked();
        let now = Instant::now();
        entries.retain(|_, entry| entry.expires > now);
        entries.values().map(|entry| entry.td.clone()).collect()
    }
}

/// The time-to-live a TD's `registration.ttl` asks for (seconds), within the bound.
fn time_to_live(td: &Value, limits: &Limits) -> Result<Duration, Problem> {
    let bound = limits.registration_bound();
    match td.get("registration") {
        None | Some(Value::Object(_)) => {}
        Some(other) => {
            return Err(Problem::bad_request(format!(
                "`registration` is an object (with a `ttl`), not {other}"
            )));
        }
    }
    match td.pointer("/registration/ttl") {
        None => Ok(bound),
        Some(ttl) => match ttl.as_f64() {
            Some(seconds) if seconds >= 1.0 => {
                Ok(Duration::from_secs_f64(seconds.min(bound.as_secs_f64())))
            }
            _ => Err(Problem::bad_request(format!(
                "`registration.ttl` is a number of seconds, at least 1, not {ttl}"
            ))),
        },
    }
}
