//! Settings: properties persisted per Thing in `{settings_dir}/{thing}.json`.
//!
//! - **Loaded** before the Thing starts and before anything is served. A file that cannot be
//!   read, is not a JSON object, or holds unknown keys or invalid values never stops the
//!   server: the valid keys are used, each problem is logged with the file and the key, and
//!   the original is copied to `{thing}.json.bad` before anything is written. Loading never
//!   rewrites the file.
//! - **Saved** after every change, from any source (HTTP, WebSocket, Rust code): the saver
//!   observes the settings' topics, so changes are coalesced (the latest values win) and
//!   written within [`SAVE_DELAY`] — a burst of writes is not a burst of `fsync`s, and no
//!   request waits for the disk. On shutdown, pending changes are written at once.
//! - **Crash-safe**: a save writes a temporary file in the same directory, flushes it,
//!   renames it over the old file and flushes the directory: after a crash the file is the
//!   old complete version or the new one, never empty or cut.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

use crate::broker::{Mailbox, MailboxLimits};
use crate::runtime::hosted::DynThing;
use crate::runtime::observer::Observers;

/// How long a change waits before it is saved, so that changes close together are saved once.
pub(crate) const SAVE_DELAY: Duration = Duration::from_millis(100);

/// The settings file of Thing `name`.
fn file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

/// Load the settings of `thing` from its file, if it has settings and the file exists.
pub(crate) fn load(dir: &Path, thing: &dyn DynThing) {
    if thing.settings().is_empty() {
        return;
    }
    let path = file(dir, thing.name());
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(error) => {
            tracing::error!(file = %path.display(), %error, "the settings file cannot be read: the defaults are used");
            return;
        }
    };
    if !apply(&path, &text, thing) {
        keep_aside(&path);
    }
}

/// Apply the settings in `text` (the contents of `path`) to `thing`: each valid key is used,
/// each problem logged. Returns whether the file was free of problems.
pub(crate) fn apply(path: &Path, text: &str, thing: &dyn DynThing) -> bool {
    let settings = thing.settings();
    let values: Map<String, Value> = match serde_json::from_str(text) {
        Ok(Value::Object(values)) => values,
        Ok(_) => {
            tracing::error!(file = %path.display(), "the settings file is not a JSON object: the defaults are used");
            return false;
        }
        Err(error) => {
            tracing::error!(file = %path.display(), %error, "the settings file is not valid JSON: the defaults are used");
            return false;
        }
    };
    let mut clean = true;
    for (key, value) in values {
        let Some(&(index, _)) = settings.iter().find(|(_, name)| *name == key) else {
            tracing::warn!(file = %path.display(), key, "the settings file holds a key that is not a setting of this Thing: it is ignored");
            clean = false;
            continue;
        };
        let stored = thing.field(index).expect("a setting is a stored field");
        let result = thing
            .validate(index, &value)
            .and_then(|()| stored.write_json(value));
        if let Err(problem) = result {
            tracing::warn!(file = %path.display(), key, "the saved value is not valid ({}): the default is used", problem.detail);
            clean = false;
        }
    }
    clean
}

/// Copy a settings file with problems to `{file}.bad`, before it is ever rewritten.
fn keep_aside(path: &Path) {
    let mut bad = path.as_os_str().to_owned();
    bad.push(".bad");
    match std::fs::copy(path, &bad) {
        Ok(_) => {
            tracing::warn!(file = %path.display(), copy = %Path::new(&bad).display(), "the original settings file is kept")
        }
        Err(error) => {
            tracing::error!(file = %path.display(), %error, "the settings file could not be kept aside")
        }
    }
}

/// Write the settings of `thing` to its file, crash-safely.
pub(crate) fn save(dir: &Path, thing: &dyn DynThing) -> std::io::Result<()> {
    let mut values = Map::new();
    for (index, name) in thing.settings() {
        let json = thing
            .field(index)
            .expect("a setting is a stored field")
            .read_json()
            .map_err(|p| std::io::Error::other(p.detail))?;
        let value = serde_json::from_str(json.get()).map_err(std::io::Error::other)?;
        values.insert(name.to_owned(), value);
    }
    let text =
        serde_json::to_string_pretty(&Value::Object(values)).map_err(std::io::Error::other)? + "\n";
    std::fs::create_dir_all(dir)?;
    let path = file(dir, thing.name());
    let temporary = dir.join(format!(".{}.json.tmp", thing.name()));
    {
        use std::io::Write;
        let mut out = std::fs::File::create(&temporary)?;
        out.write_all(text.as_bytes())?;
        out.sync_all()?;
    }
    std::fs::rename(&temporary, &path)?;
    // The rename itself is durable only once the directory is.
    std::fs::File::open(dir)?.sync_all()
}

/// The task that saves the settings of every Thing that has some, until `stop`; then it saves
/// what is pending and completes. It observes the settings from the moment it is created —
/// before the start hooks run — so that no change is missed, even before it is polled.
pub(crate) fn saver(
    dir: PathBuf,
    things: Vec<Arc<dyn DynThing>>,
    stop: CancellationToken,
    observer: Observers,
) -> impl Future<Output = ()> + Send + 'static {
    let things: Vec<_> = things
        .into_iter()
        .filter(|t| !t.settings().is_empty())
        .collect();
    // One slot per Thing: a burst of changes to its settings coalesces into one save.
    let mailbox = Mailbox::new(MailboxLimits {
        queue: 1,
        max_events: usize::MAX,
    });
    for (slot, thing) in things.iter().enumerate() {
        for (index, _) in thing.settings() {
            if let Some(field) = thing.field(index) {
                field.topic().subscribe(&mailbox, slot as u32);
            }
        }
    }
    save_changes(Saves { dir, observer }, things, mailbox, stop)
}

/// Where the settings are saved, and who is told of each save.
struct Saves {
    dir: PathBuf,
    observer: Observers,
}

async fn save_changes(
    saves: Saves,
    things: Vec<Arc<dyn DynThing>>,
    mailbox: Arc<Mailbox>,
    stop: CancellationToken,
) {
    if things.is_empty() {
        return;
    }
    let mut dirty = vec![false; things.len()];
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            _ = mailbox.recv_many(&mut batch) => {}
        }
        mark(&mut dirty, &mut batch);
        // Let a burst finish, then save everything that changed.
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(SAVE_DELAY) => {}
        }
        mailbox.drain_into(&mut batch);
        mark(&mut dirty, &mut batch);
        save_dirty(&saves, &things, &mut dirty).await;
    }
    mailbox.drain_into(&mut batch);
    mark(&mut dirty, &mut batch);
    save_dirty(&saves, &things, &mut dirty).await;
}

fn mark(dirty: &mut [bool], batch: &mut Vec<crate::broker::Delivery>) {
    for delivery in batch.drain(..) {
        if let crate::broker::Delivery::Property(slot, _) = delivery {
            dirty[slot as usize] = true;
        }
    }
}

async fn save_dirty(saves: &Saves, things: &[Arc<dyn DynThing>], dirty: &mut [bool]) {
    for (thing, dirty) in things.iter().zip(dirty.iter_mut()) {
        if !std::mem::take(dirty) {
            continue;
        }
        let (dir, thing) = (saves.dir.clone(), thing.clone());
        let name = thing.name().clone();
        let saved = tokio::task::spawn_blocking(move || save(&dir, &*thing)).await;
        match &saved {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(thing = &*name, %error, "the settings could not be saved")
            }
            Err(error) => tracing::error!(thing = &*name, %error, "saving the settings failed"),
        }
        if let Some(observer) = &saves.observer {
            observer.settings_saved(&name, matches!(saved, Ok(Ok(()))));
        }
    }
}
