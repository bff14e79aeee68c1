//! A Mosquitto broker on 127.0.0.1, for the MQTT tests and the MQTT benchmark: started on a
//! free port, ready once its log says it runs, killed when dropped.
//!
//! Self-contained (the benchmark includes this file by path).

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncBufReadExt;

/// How long a broker may take to say it runs.
const START_PATIENCE: Duration = Duration::from_secs(20);

/// A running Mosquitto, killed when dropped.
pub(crate) struct Broker {
    child: tokio::process::Child,
    /// The port of its first listener.
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

/// The `mosquitto` program (Debian's `mosquitto`, or one on `PATH`), if there is one.
pub(crate) fn program() -> Option<PathBuf> {
    let on_path: Vec<_> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("mosquitto"))
                .collect()
        })
        .unwrap_or_default();
    ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .map(PathBuf::from)
        .chain(on_path)
        .find(|p| p.exists())
}

/// A free TCP port of 127.0.0.1, below the range Linux hands out to outgoing connections
/// (32768 and up), so that no client's connection takes it while a broker restarts on it.
pub(crate) fn free_port() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    for _ in 0..1000 {
        let mut random = std::collections::hash_map::RandomState::new().build_hasher();
        random.write_u32(std::process::id());
        let port = 20_000 + (random.finish() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between 20000 and 32000")
}

impl Broker {
    /// Start a broker with one anonymous listener on `port` (a free one if `None`) and the
    /// configuration lines `settings`; returns once it listens.
    pub(crate) async fn start(program: &Path, port: Option<u16>, settings: &str) -> Self {
        let port = port.unwrap_or_else(free_port);
        let dir = tempfile::tempdir().unwrap();
        let listener = format!("listener {port} 127.0.0.1\nallow_anonymous true\n{settings}");
        Self::run(program, port, dir, &listener).await
    }

    /// Start a broker with `listeners` (the rest of the configuration is common), keeping
    /// `dir` (which may hold its certificates) as long as it runs; `port` is the first
    /// listener's.
    pub(crate) async fn run(
        program: &Path,
        port: u16,
        dir: tempfile::TempDir,
        listeners: &str,
    ) -> Self {
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "{listeners}persistence false\nlog_dest stderr\nlog_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            ),
        )
        .unwrap();
        let mut child = tokio::process::Command::new(program)
            .arg("-c")
            .arg(&conf)
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto starts");
        // Its log (on stderr, which is not buffered) says when it listens.
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let running = async {
            loop {
                let line = lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("mosquitto says it runs");
                if line.contains("running") {
                    break;
                }
            }
        };
        tokio::time::timeout(START_PATIENCE, running)
            .await
            .expect("mosquitto starts within 20 s");
        // Keep reading its log, so that it never blocks on a full pipe; what it drops is
        // echoed (a test that fails then shows why).
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.to_ascii_lowercase().contains("dropp") {
                    eprintln!("mosquitto on {port}: {line}");
                }
            }
        });
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// Kill the broker; returns its port, to start another on.
    pub(crate) async fn kill(mut self) -> u16 {
        self.child.kill().await.unwrap();
        self.port
    }
}
