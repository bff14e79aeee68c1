//! The OpenAPI 3.1 document at `GET /openapi.json`: it lists every affordance of every Thing
//! with the methods its route has, real responses match the schemas it gives, tokens guard
//! it like every route, and `/docs` serves Swagger UI from the binary. With `interop`,
//! `openapi-spec-validator` accepts the documents of the counter and microscope programs and
//! Schemathesis, run against them live with its default checks, finds nothing.

// Without `interop`, the helpers of the Python checks go unused.
#![cfg_attr(not(feature = "interop"), allow(dead_code, unused_imports))]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

const VIEWER: &str = "viewer-token-0123456789";

/// A program of the examples, serving on a free port with its settings in `settings`.
fn spawn(example: &str, settings: &std::path::Path) -> (support::program::Killed, String) {
    let mut command = support::program::example(example);
    command
        .args(["--port", "0", "--settings"])
        .arg(settings)
        .stderr(Stdio::null());
    let (child, base) = support::program::listening(&mut command);
    let child = support::program::Killed(Some(child));
    (child, base.trim_end_matches('/').to_owned())
}

async fn get(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.json().await.unwrap()
}

/// Check `value` against `schema`, a schema of `document` (its `$ref`s resolved in it).
fn assert_matches(document: &Value, schema: &Value, value: &Value, what: &str) {
    let mut rooted = schema.clone();
    rooted["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::new(&rooted)
        .unwrap_or_else(|e| panic!("{what}: the document's schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: {value} does not match: {errors:?}"
    );
}

/// Every affordance of every TD has its operations in the document, with the methods its
/// route allows, and nothing else is invented.
fn assert_covers_the_tds(document: &Value, tds: &Value) {
    let paths = document["paths"].as_object().unwrap();
    for (name, td) in tds.as_object().unwrap() {
        assert!(paths[&format!("/{name}/")]["get"].is_object(), "{name}");
        for (property, p) in td["properties"].as_object().unwrap() {
            let item = &paths[&format!("/{name}/{property}")];
            let readable = p["writeOnly"] != true;
            let writable = p["readOnly"] != true;
            assert_eq!(item["get"].is_object(), readable, "{name}/{property}");
            let is_stream = p["contentMediaType"] == "image/jpeg";
            assert_eq!(
                item["put"].is_object(),
                writable && !is_stream,
                "{name}/{property}"
            );
        }
        for action in td["actions"].as_object().unwrap().keys() {
            let item = &paths[&format!("/{name}/{action}")];
            assert!(item["post"]["requestBody"].is_object(), "{name}/{action}");
            assert!(
                item["get"]["responses"]["200"].is_object(),
                "{name}/{action}"
            );
            assert!(item["put"].is_null(), "{name}/{action}");
        }
        for event in td["events"].as_object().unwrap().keys() {
            let item = &paths[&format!("/{name}/{event}")];
            let accept = &item["get"]["parameters"][0];
            assert_eq!(accept["name"], "Accept", "{name}/{event}");
            assert_eq!(accept["schema"]["enum"], json!(["text/event-stream"]));
        }
    }
    for path in ["/action_invocations", "/action_invocations/{id}", "/blob"] {
        assert!(paths.contains_key(path), "{path}");
    }
    // Every operation has an id of its own.
    let mut ids: Vec<&str> = (paths.values())
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "operation ids are unique");
}

#[tokio::test]
async fn the_document_covers_the_microscope_and_its_responses_match_it() {
    let settings = tempfile::tempdir().unwrap();
    let (child, base) = spawn("microscope", settings.path());
    let document = get(&format!("{base}/openapi.json")).await;
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["security"].is_null(), "no tokens, no security");
    let tds = get(&format!("{base}/thing_descriptions/")).await;
    assert_covers_the_tds(&document, &tds);

    // A property's value, as read, matches the schema of its `GET`.
    let path = "/stage/position";
    let value = get(&format!("{base}{path}")).await;
    let schema = &document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    assert_matches(&document, schema, &value, path);
    // And a value the property's `PUT` schema refuses is refused by the server.
    let put = &document["paths"]["/camera/exposure_ms"]["put"];
    let put_schema = &put["requestBody"]["content"]["application/json"]["schema"];
    assert_matches(&document, put_schema, &json!(20.0), "exposure_ms 20");
    let r = reqwest::Client::new()
        .put(format!("{base}/camera/exposure_ms"))
        .json(&json!("bright"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(put["responses"]["422"].is_object());

    // An invocation, as `POST` answers it and once completed, matches the schema of the
    // action's `201` (its output typed by the action's output schema).
    let op = &document["paths"]["/autofocus/run"]["post"];
    let record_schema = &op["responses"]["201"]["content"]["application/json"]["schema"];
    let r = reqwest::Client::new()
        .post(format!("{base}/autofocus/run"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let accepted: Value = r.json().await.unwrap();
    assert_matches(&document, record_schema, &accepted, "autofocus accepted");
    let href = accepted["href"].as_str().unwrap().to_owned();
    let done = loop {
        let record = get(&href).await;
        if record["status"] != "pending" && record["status"] != "running" {
            break record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(done["status"], "completed", "{done}");
    assert!(done["output"]["scores"].is_array());
    assert_matches(&document, record_schema, &done, "autofocus completed");
    let wrong = json!({"best_z": "top", "scores": []});
    let mut bad = done.clone();
    bad["output"] = wrong;
    let mut rooted = record_schema.clone();
    rooted["components"] = document["components"].clone();
    let validator = jsonschema::draft202012::new(&rooted).unwrap();
    assert!(!validator.is_valid(&bad), "the output schema is checked");
    // The listing of invocations matches its schema too.
    let listing = get(&format!("{base}/action_invocations")).await;
    let list_schema = &document["paths"]["/action_invocations"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_matches(&document, list_schema, &listing, "the invocations");
    support::program::terminate(child.take());
}

#[tokio::test]
async fn tokens_guard_the_document_and_the_docs_page_is_served_from_the_binary() {
    let server = labthings::ThingServer::new()
        .token(labthings::Scope::Observe, VIEWER)
        .thing("counter", counter::Counter::new());
    let (addr, _) = support::start(server).await;
    let client = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}{path}");
    let r = client.get(url("/openapi.json")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = (client.get(url("/openapi.json")))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let document: Value = r.json().await.unwrap();
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(document["security"], json!([{"bearer": []}]));
    let label = &document["paths"]["/counter/label"];
    for method in ["get", "put"] {
        assert!(label[method]["responses"]["401"].is_object(), "{method}");
        assert!(label[method]["responses"]["403"].is_object(), "{method}");
    }
    // The page and its files need no token, and say so.
    let docs = &document["paths"]["/docs"]["get"];
    assert_eq!(docs["security"], json!([]));
    for (path, media_type) in [
        ("/docs", "text/html"),
        ("/docs/init.js", "text/javascript"),
        ("/docs/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/swagger-ui.css", "text/css"),
    ] {
        let r = client.get(url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let headers = r.headers();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with(media_type),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!r.text().await.unwrap().is_empty(), "{path}");
    }
    let page = client.get(url("/docs")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("docs/swagger-ui-bundle.js"), "{page}");
    assert!(
        !page.contains("http"),
        "the page loads nothing from elsewhere"
    );
}

/// An empty prefix and a set one: the document's paths are the server's.
#[tokio::test]
async fn the_document_follows_the_prefix() {
    let server = labthings::ThingServer::new()
        .prefix("/api/v3")
        .thing("counter", counter::Counter::new());
    let (addr, _): (SocketAddr, _) = support::start(server).await;
    let document = get(&format!("http://{addr}/api/v3/openapi.json")).await;
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.contains_key("/api/v3/counter/count"));
    assert!(paths.contains_key("/api/v3/action_invocations/{id}"));
    for path in paths.keys() {
        let under = path.starts_with("/api/v3/") || path == "/api/v3" || path == "/metrics";
        assert!(under || path == "/.well-known/wot", "{path}");
    }
    let r = reqwest::get(format!("http://{addr}/api/v3/docs"))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// Run a Python tool of the CI venv (next to `LABTHINGS_PYTHON`) with `args` in `dir`; it must
/// exit 0.
#[cfg(feature = "interop")]
async fn python_tool(tool: &str, args: &[&str], dir: &std::path::Path) -> String {
    let python = std::path::PathBuf::from(support::needs::python("the OpenAPI checks"));
    let program = python.with_file_name(tool);
    assert!(
        program.exists(),
        "{} is missing: `./test.sh` installs tests/python/requirements.txt",
        program.display()
    );
    let mut command = tokio::process::Command::new(&program);
    // The tool keeps its caches in its working directory and home: both are `dir`.
    command.args(args).current_dir(dir).env("HOME", dir);
    let output = command.output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{tool} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// `openapi-spec-validator` accepts the document of `example`, and Schemathesis, run against
/// the live program with every default check, finds nothing.
#[cfg(feature = "interop")]
async fn conforms(example: &str) {
    let settings = tempfile::tempdir().unwrap();
    let (child, base) = spawn(example, settings.path());
    let document = get(&format!("{base}/openapi.json")).await;
    let file = settings.path().join("openapi.json");
    std::fs::write(&file, document.to_string()).unwrap();
    let valid = python_tool(
        "openapi-spec-validator",
        &[file.to_str().unwrap()],
        settings.path(),
    )
    .await;
    assert!(valid.contains("OK"), "{valid}");
    let config = format!(
        "{}/tests/openapi/schemathesis.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let reports = settings.path().join("schemathesis");
    let found = python_tool(
        "schemathesis",
        &[
            "--config-file",
            &config,
            "run",
            &format!("{base}/openapi.json"),
            "--url",
            &base,
            "--max-examples",
            "25",
            "--seed",
            "1",
            "--request-timeout",
            "10",
            // One worker: with two, Hypothesis (describing its strategies' lambdas) parses
            // Python source in two threads at once, which CPython 3.11's `ast` does not
            // survive ("AST constructor recursion depth mismatch"), seen on the strategies of
            // header parameters.
            "--workers",
            "1",
            "--no-color",
            "--report-dir",
            reports.to_str().unwrap(),
        ],
        settings.path(),
    )
    .await;
    // "N generated, N passed": every test case passed, none failed or errored.
    let cases = (found.lines())
        .find(|line| line.contains(" generated, "))
        .unwrap_or_else(|| panic!("no test cases: {found}"));
    let counts: Vec<&str> = cases.split(',').map(str::trim).collect();
    let generated = counts[0].trim_end_matches(" generated");
    assert!(generated.parse::<u32>().unwrap() > 100, "{cases}");
    assert_eq!(
        counts,
        [
            format!("{generated} generated"),
            format!("{generated} passed")
        ],
        "{found}"
    );
    support::program::terminate(child.take());
}

#[cfg(feature = "interop")]
#[tokio::test]
async fn schemathesis_finds_nothing_on_the_counter() {
    conforms("counter").await;
}

#[cfg(feature = "interop")]
#[tokio::test]
async fn schemathesis_finds_nothing_on_the_microscope() {
    conforms("microscope").await;
}
