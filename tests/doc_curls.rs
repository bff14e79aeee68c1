//! Every `curl` command the documentation shows works against the example it names: each
//! `sh` block of the README, the guide and the examples' own doc comments is read, its `curl`
//! lines are attached to the `cargo run --example NAME` before them (or, in an example's file,
//! to that example), and run against the built example (`cargo test --workspace` builds them)
//! on a free port. A command that is refused, or that this test cannot read, fails it.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Stdio};

mod support;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The address the documentation writes for a served example.
const DOCUMENTED: &str = "http://127.0.0.1:5000/";

/// The lines of the fenced `sh` blocks of `text`, with `\` continuations joined; `prefix` is
/// stripped from each line first (`//! ` for doc comments).
fn sh_lines(text: &str, prefix: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    for raw in text.lines() {
        let Some(line) = raw.trim_start().strip_prefix(prefix.trim_end()) else {
            continue;
        };
        let line = line.strip_prefix(' ').unwrap_or(line);
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if !in_sh {
            continue;
        }
        match line.trim_end().strip_suffix('\\') {
            Some(head) => pending.push_str(head),
            None => {
                pending.push_str(line);
                lines.push(std::mem::take(&mut pending));
            }
        }
    }
    lines
}

/// The `curl` commands of `text` (the file `source`) by the example they run against: the one
/// of the latest `cargo run --example NAME` line, or `default`.
fn curls_by_example(
    source: &str,
    text: &str,
    prefix: &str,
    default: Option<&str>,
    into: &mut Curls,
) {
    let mut example = default.map(|name| (name.to_owned(), String::new()));
    for line in sh_lines(text, prefix) {
        let line = line
            .split(" # ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        if let Some(rest) = line.strip_prefix("cargo run --example ") {
            // The example, and the arguments it is run with (after `--`).
            let name = rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            let args = rest
                .split_once(" -- ")
                .map_or("", |(_, a)| a)
                .trim()
                .to_owned();
            if serves(&args) {
                example = Some((name, args));
            }
        } else if line.starts_with("curl ") {
            let (name, args) = example
                .clone()
                .unwrap_or_else(|| panic!("`{line}` follows no `cargo run --example`"));
            into.entry((source.to_owned(), name, args))
                .or_default()
                .push(line);
        }
    }
}

/// Whether an example run with `args` serves what the repository has: not `td` (which prints
/// and exits), nor a configuration file of the reader's own (`--config lab.toml`).
fn serves(args: &str) -> bool {
    let args = shlex::split(args).unwrap_or_default();
    let config = args
        .iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1));
    args.first().is_none_or(|a| a != "td")
        && config.is_none_or(|c| Path::new(ROOT).join(c).exists())
}

/// The commands of each file, by the example they run against and its arguments (each
/// file's against a server of its own, as a reader would run them).
type Curls = BTreeMap<(String, String, String), Vec<String>>;

/// Every documented `curl`, by file and example.
fn documented_curls() -> Curls {
    let mut curls = Curls::new();
    for doc in ["README.md", "labthings/docs/guide.md"] {
        let text = std::fs::read_to_string(Path::new(ROOT).join(doc)).unwrap();
        curls_by_example(doc, &text, "", None, &mut curls);
    }
    for entry in std::fs::read_dir(Path::new(ROOT).join("examples")).unwrap() {
        let path = entry.unwrap().path();
        // An example is `examples/NAME.rs` or `examples/NAME/main.rs`.
        let (name, file) = if path.extension().is_some_and(|e| e == "rs") {
            (
                path.file_stem().unwrap().to_str().unwrap().to_owned(),
                path.clone(),
            )
        } else if path.join("main.rs").exists() {
            (
                path.file_name().unwrap().to_str().unwrap().to_owned(),
                path.join("main.rs"),
            )
        } else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let source = file.strip_prefix(ROOT).unwrap().display().to_string();
        curls_by_example(&source, &text, "//!", Some(&name), &mut curls);
    }
    curls
}

/// A `curl` command as a request: the method, the URL, the headers and the body.
#[derive(Debug)]
struct Request {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

fn parse(command: &str) -> Request {
    let words = shlex::split(command).unwrap_or_else(|| panic!("cannot split `{command}`"));
    let mut words = words.into_iter().skip(1);
    let (mut method, mut url, mut headers, mut body) = (None, None, Vec::new(), None);
    while let Some(word) = words.next() {
        let mut value = || {
            words
                .next()
                .unwrap_or_else(|| panic!("`{word}` without a value in `{command}`"))
        };
        match word.as_str() {
            "-X" | "--request" => method = Some(value()),
            "-H" | "--header" => {
                let header = value();
                let (name, v) = header.split_once(':').expect("a header `name: value`");
                headers.push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "-d" | "--data" => body = Some(value()),
            // Output options that change nothing of the request.
            "-s" | "-S" | "-i" | "-N" | "-f" | "-sS" => {}
            other if other.starts_with("http://") => url = Some(other.to_owned()),
            other => panic!("this test does not know `{other}` of `{command}`"),
        }
    }
    let method = method.unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
    Request {
        method: method.parse().unwrap(),
        url: url.unwrap_or_else(|| panic!("no URL in `{command}`")),
        headers,
        body,
    }
}

/// The built example `name`, run with `args` (those of a configuration file, `td` or a port
/// are not serving ones), serving on a free port with its settings in `settings`; the child
/// and its root URL.
fn serve(name: &str, args: &str, settings: &Path) -> (Child, String) {
    let args = shlex::split(args).unwrap_or_default();
    let prefix = args
        .iter()
        .position(|a| a == "--prefix")
        .map(|i| args[i + 1].clone())
        .unwrap_or_default();
    let (child, base) = support::program::listening(
        support::program::example(name)
            .args(["--port", "0", "--settings", settings.to_str().unwrap()])
            .args(&args)
            .stderr(Stdio::null()),
    );
    // The documented URLs carry the prefix themselves.
    let suffix = format!("{}/", prefix.trim_end_matches('/'));
    let root = base.strip_suffix(&suffix).unwrap_or(&base);
    let root = format!("{}/", root.trim_end_matches('/'));
    (child, root)
}

#[test]
fn the_documented_commands_are_read() {
    let request = parse(
        "curl -X PUT -H 'content-type: application/json' -d '{\"a\": 1}' http://127.0.0.1:5000/t/p",
    );
    assert_eq!(request.method, reqwest::Method::PUT);
    assert_eq!(
        request.headers,
        [("content-type".into(), "application/json".into())]
    );
    assert_eq!(request.body.as_deref(), Some("{\"a\": 1}"));
    let curls = documented_curls();
    for example in ["counter", "microscope", "thermo", "openflexure"] {
        assert!(
            curls.keys().any(|(_, e, _)| e == example),
            "no curl for {example}: {curls:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_curl_works_against_its_example() {
    let client = reqwest::Client::new();
    for ((source, example, args), commands) in documented_curls() {
        let settings = tempfile::tempdir().unwrap();
        let (mut child, base) = serve(&example, &args, settings.path());
        for command in &commands {
            let request = parse(command);
            let url = request.url.replacen(DOCUMENTED, &base, 1);
            assert_ne!(url, request.url, "`{command}` is not at {DOCUMENTED}");
            let mut builder = client.request(request.method, url);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if let Some(body) = request.body {
                builder = builder.body(body);
            }
            let response = builder.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "{source}, against {example}: `{command}` was answered {status}: {text}"
            );
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
