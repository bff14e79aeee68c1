//! The command line of the example program: `td`, `serve`, configuration files, graceful
//! shutdown. Runs the built `counter` example as a child process: `cargo test --workspace`
//! builds it; to run this file alone, `cargo build --examples` first.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

mod support;

fn counter() -> Command {
    support::program::example("counter")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("labthings-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn td_prints_every_thing_or_one() {
    let out = counter().arg("td").output().unwrap();
    assert!(out.status.success());
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all["counter"]["title"], "A pointless counter.");

    let out = counter()
        .args(["td", "counter", "--base", "http://lab:5000/"])
        .output()
        .unwrap();
    let one: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(one["base"], "http://lab:5000/");
    assert_eq!(one["title"], all["counter"]["title"]);
    assert_eq!(
        one["properties"]["count"]["forms"][1]["href"],
        "ws://lab:5000/counter/ws"
    );

    let out = counter().args(["td", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Thing is called 'nope'"));
}

#[test]
fn an_invalid_configuration_names_the_file_and_the_key() {
    let cases = [
        (
            "bad-type.toml",
            "[things.c]\ntype = \"Nope\"\n",
            "`things.c.type`",
            "no Thing type is called 'Nope'",
        ),
        (
            "bad-args.json",
            r#"{"things": {"c": {"type": "Counter", "args": {"step": 0}}}}"#,
            "`things.c`",
            "could not be created: step must be between 1 and 100",
        ),
        (
            "bad-field.json",
            r#"{"things": {"c": {"type": "Counter", "args": {"stop": 1}}}}"#,
            "`things.c.args`",
            "unknown field `stop`",
        ),
        (
            "bad-key.json",
            r#"{"things": {"c": "Counter"}, "hots": "x"}"#,
            "`hots`",
            "not a known key",
        ),
        ("bad-syntax.toml", "[things\n", "", "not valid TOML"),
    ];
    for (name, text, key, problem) in cases {
        let file = temp_file(name, text);
        let out = counter()
            .args(["--config", file.to_str().unwrap(), "--port", "0"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&file.display().to_string()),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains(key) && stderr.contains(problem),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn serve_uses_the_configuration_and_stops_on_sigterm() {
    let file = temp_file(
        "lab.toml",
        "prefix = \"/api\"\n[things.left]\ntype = \"Counter\"\nargs = { start = 10 }\n[things.right]\ntype = \"Counter\"\n",
    );
    let mut child = counter()
        .args(["--port", "0", "--config", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("labthings listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    assert!(base.ends_with("/api/"), "{base}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let get = |path: String| async move {
            reqwest::get(path)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        };
        assert_eq!(get(format!("{base}left/count")).await, 10);
        assert_eq!(get(format!("{base}right/count")).await, 0);
        let things = get(format!("{base}things/")).await;
        assert_eq!(things["left"], format!("{base}left/"));
    });

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

/// The signal handlers are in place before the program says where it listens: a supervisor
/// that sends SIGTERM as soon as it has read that line gets a graceful shutdown (exit 0), not
/// a process killed by the signal's default action.
#[test]
fn a_sigterm_right_after_the_listening_line_is_a_graceful_shutdown() {
    for _ in 0..20 {
        let (child, _) = support::program::listening(counter().args(["--port", "0"]));
        let exit = support::program::terminate(child);
        assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
    }
}

#[test]
fn options_mean_the_same_before_and_after_the_subcommand() {
    let file = temp_file(
        "two.toml",
        "[things.left]\ntype = \"Counter\"\n[things.right]\ntype = \"Counter\"\n",
    );
    let file = file.to_str().unwrap();
    for args in [
        vec!["--config", file, "--prefix", "/api", "td"],
        vec!["td", "--config", file, "--prefix", "/api"],
        vec!["--config", file, "td", "--prefix", "/api"],
    ] {
        let out = counter().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tds: Value = serde_json::from_slice(&out.stdout).unwrap();
        let names: Vec<&String> = tds.as_object().unwrap().keys().collect();
        assert_eq!(names, ["left", "right"], "{args:?}");
        assert_eq!(
            tds["left"]["properties"]["count"]["forms"][0]["href"], "/api/left/count",
            "{args:?}"
        );
    }
    for args in [vec!["--port", "1", "td"], vec!["td", "--host", "0.0.0.0"]] {
        let out = counter().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("only applies to serving"),
            "{args:?}"
        );
    }
}

#[test]
fn td_checks_the_configuration_without_creating_things() {
    // The counter's constructor refuses step 0; `td` does not construct, so it succeeds.
    let file = temp_file(
        "unconstructible.json",
        r#"{"things": {"c": {"type": "Counter", "args": {"step": 0}}}}"#,
    );
    let out = counter()
        .args(["td", "--config", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tds: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tds["c"]["title"], "A pointless counter.");
    // But it checks what it reads: types, names, argument keys.
    for (name, text, expected) in [
        (
            "unknown-type.toml",
            "[things.c]\ntype = \"Nope\"\n",
            "no Thing type is called 'Nope'",
        ),
        (
            "unknown-arg.json",
            r#"{"things": {"c": {"type": "Counter", "args": {"stp": 1}}}}"#,
            "unknown field `stp`",
        ),
        (
            "bad-name.json",
            r#"{"things": {"a/b": "Counter"}}"#,
            "not a valid Thing name",
        ),
    ] {
        let file = temp_file(name, text);
        let out = counter()
            .args(["td", "--config", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

mod bomb {
    use labthings::thing;

    /// A Thing whose constructor must never run when only its TD is wanted.
    #[thing]
    pub(crate) struct Bomb {
        /// A reading.
        #[property]
        pub(crate) reading: f64,
    }
}

fn exit_code(code: std::process::ExitCode) -> String {
    format!("{code:?}")
}

#[test]
fn td_never_runs_a_constructor() {
    let file = temp_file("bomb.toml", "[things.b]\ntype = \"Bomb\"\n");
    let app = labthings::cli::App::new("bomb").thing_type(
        "Bomb",
        |_: serde_json::Value| -> Result<bomb::Bomb, String> {
            panic!("the constructor ran: it opens hardware")
        },
    );
    let code = app.run_with(["bomb", "td", "--config", file.to_str().unwrap()]);
    assert_eq!(exit_code(code), exit_code(std::process::ExitCode::SUCCESS));
}

#[tokio::test]
async fn the_command_line_runs_inside_an_async_main() {
    let app = labthings::cli::App::new("bomb").thing("b", || bomb::Bomb {
        reading: 1.0.into(),
    });
    let code = app.run_async_with(["bomb", "td", "b"]).await;
    assert_eq!(exit_code(code), exit_code(std::process::ExitCode::SUCCESS));
}

/// SIGTERM with hundreds of WebSockets open and a client stuck half-way through its headers:
/// every socket gets a close frame with 1001, and the process exits, within the shutdown
/// deadline however long the stuck client would have been waited for.
#[test]
fn sigterm_closes_every_websocket_with_1001_and_exits() {
    const SOCKETS: usize = 300;
    let file = temp_file(
        "shutdown.toml",
        "[limits]\nheader_timeout = 600\nshutdown_deadline = 2\n[things.counter]\ntype = \"Counter\"\n",
    );
    let mut child = counter()
        .args(["--port", "0", "--config", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("labthings listening on http://")
        .unwrap();
    let addr: std::net::SocketAddr = base.trim_end_matches('/').parse().unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let codes = runtime.block_on(async {
        use futures_util::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut stuck = tokio::net::TcpStream::connect(addr).await.unwrap();
        stuck
            .write_all(b"GET /counter/count HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .await
            .unwrap();
        let mut sockets = Vec::new();
        for _ in 0..SOCKETS {
            let url = format!("ws://{addr}/counter/ws");
            sockets.push(tokio_tungstenite::connect_async(url).await.unwrap().0);
        }
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut codes = std::collections::BTreeMap::new();
        for mut socket in sockets {
            let code = loop {
                match socket.next().await {
                    Some(Ok(tokio_tungstenite::tungstenite::Message::Close(frame))) => {
                        break frame.map(|f| u16::from(f.code)).unwrap_or(1005);
                    }
                    Some(Ok(_)) => continue,
                    _ => break 1006,
                }
            };
            *codes.entry(code).or_insert(0) += 1;
        }
        drop(stuck);
        codes
    });
    assert_eq!(
        codes,
        std::collections::BTreeMap::from([(1001, SOCKETS)]),
        "close codes"
    );
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::spawn(move || exited.send(child.wait().unwrap()));
    let exit = exit
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the server exits");
    assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
}

#[test]
fn serving_beyond_loopback_without_tokens_warns() {
    let mut child = counter()
        .args(["--host", "0.0.0.0", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let warning = loop {
        match received.recv_timeout(std::time::Duration::from_secs(30)) {
            Ok(line) if line.contains("without tokens") => break Some(line),
            Ok(_) => continue,
            Err(_) => break None,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    let warning = warning.expect("a warning on standard error");
    assert!(
        warning.contains("WARN") && warning.contains("0.0.0.0"),
        "{warning}"
    );
}
