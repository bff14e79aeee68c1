//! The built example programs, run as child processes (`cargo test --workspace` builds them;
//! to run one test file alone, `cargo build --examples` first).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};

/// The built example `name`.
pub(crate) fn example(name: &str) -> Command {
    // Tests live in target/<profile>/deps; examples in target/<profile>/examples.
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(path.exists(), "{} is not built", path.display());
    Command::new(path)
}

/// Spawn `command` (its stdout piped) and return it with the URL it prints once listening.
pub(crate) fn listening(command: &mut Command) -> (Child, String) {
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .strip_prefix("labthings listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, base)
}

/// A child that is killed when dropped: a test that fails before it stops its program does
/// not leave it running (an invocation a fuzzer started may keep it busy for hours).
pub(crate) struct Killed(pub(crate) Option<Child>);

impl Killed {
    /// The child, to stop it as the test means to.
    pub(crate) fn take(mut self) -> Child {
        self.0.take().expect("a child")
    }
}

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Stop `child` with SIGTERM; it must exit 0 (a graceful shutdown).
pub(crate) fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap()
}

/// Run the Python `script` of `tests/python/` with `args`; it must print "all checks passed".
pub(crate) async fn python_checks(
    python: std::ffi::OsString,
    script: &str,
    args: &[&std::ffi::OsStr],
) {
    checks_at(python, &format!("tests/python/{script}"), args).await
}

/// Run the Python script at `script` (from the repository's root) with `args`; it must
/// print "all checks passed".
pub(crate) async fn checks_at(python: std::ffi::OsString, script: &str, args: &[&std::ffi::OsStr]) {
    let path = format!("{}/{script}", env!("CARGO_MANIFEST_DIR"));
    let output = tokio::process::Command::new(python)
        .arg(path)
        .args(args)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("all checks passed"),
        "{script}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
