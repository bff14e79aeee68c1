//! The provenance record of an invocation (`GET /action_invocations/{id}/provenance`) on the
//! simulated microscope, through real HTTP: who asked, with which token and from where; the
//! input, every Thing's stored values when it started, the output blob by its SHA-256 (and
//! the capture's Exif metadata pointing back at the record); the moves the autofocus made
//! through its slot; and, with the `interop` feature, the `prov` package parsing it and
//! following the links from the blob to the input and the settings.

#[path = "../examples/things/microscope/mod.rs"]
mod microscope;
mod support;

use std::net::SocketAddr;

use microscope::camera::CameraArgs;
use microscope::{Autofocus, Camera, Stage};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::ws::{next, next_matching, send, wtp};

const TOKEN: &str = "provenance-operator-token";
const OBSERVER: &str = "provenance-observer-token";

struct Microscope {
    addr: SocketAddr,
    client: reqwest::Client,
    _settings: tempfile::TempDir,
}

impl Microscope {
    async fn start() -> Self {
        let settings = tempfile::tempdir().unwrap();
        let server = labthings::ThingServer::new()
            .settings_dir(settings.path())
            .token(labthings::Scope::Observe, OBSERVER)
            .named_token(labthings::Scope::Operate, TOKEN, "scan robot")
            .thing("stage", Stage::new())
            .thing("camera", Camera::new(CameraArgs::default()))
            .thing("autofocus", Autofocus::new());
        let (addr, _) = support::start(server).await;
        Self {
            addr,
            client: reqwest::Client::new(),
            _settings: settings,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = request.bearer_auth(TOKEN).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.client.get(self.url(path))).await
    }

    /// Invoke `action` of `thing` with `input` over the Web Thing Protocol (with the operate
    /// token), following it on the socket until it ends: its final record, read over HTTP.
    async fn invoke(&self, thing: &str, action: &str, input: Value) -> Value {
        let mut ws = support::ws::connect_wtp_as(self.addr, thing, TOKEN).await;
        let request = json!({"name": action, "input": input, "observe": true});
        send(&mut ws, wtp("invokeaction", request)).await;
        let response = next(&mut ws).await;
        let id = response["status"]["actionID"]
            .as_str()
            .expect("an id")
            .to_owned();
        next_matching(&mut ws, |n| n["status"]["timeEnded"].is_string()).await;
        let (status, record) = self.get(&format!("/action_invocations/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{record}");
        record
    }

    async fn provenance(&self, record: &Value) -> Value {
        let id = record["id"].as_str().unwrap();
        let (status, document) = self
            .get(&format!("/action_invocations/{id}/provenance"))
            .await;
        assert_eq!(status, StatusCode::OK, "{document}");
        document
    }
}

/// The relations of kind `kind` from `from`: the other member of each.
fn related<'d>(document: &'d Value, kind: &str, from: &str) -> Vec<&'d str> {
    let (first, second) = match kind {
        "used" => ("prov:activity", "prov:entity"),
        "wasGeneratedBy" => ("prov:entity", "prov:activity"),
        "wasDerivedFrom" => ("prov:generatedEntity", "prov:usedEntity"),
        "wasAssociatedWith" => ("prov:activity", "prov:agent"),
        "wasInformedBy" => ("prov:informed", "prov:informant"),
        "hadMember" => ("prov:collection", "prov:entity"),
        other => panic!("no relation {other}"),
    };
    let Some(relations) = document[kind].as_object() else {
        return Vec::new();
    };
    (relations.values())
        .filter(|r| r[first] == from)
        .filter_map(|r| r[second].as_str())
        .collect()
}

#[tokio::test]
async fn a_capture_names_its_blob_by_digest_its_input_its_settings_and_who_asked() {
    let microscope = Microscope::start().await;
    let request = microscope.client.put(microscope.url("/camera/exposure_ms"));
    let (status, _) = microscope.send(request.json(&json!(42.5))).await;
    assert!(status.is_success(), "{status}");
    let record = microscope.invoke("camera", "capture", Value::Null).await;
    assert_eq!(record["status"], "completed", "{record}");
    let blob_href = record["output"]["href"].as_str().unwrap();
    let bytes = (microscope
        .client
        .get(blob_href)
        .bearer_auth(TOKEN)
        .send()
        .await)
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let digest = format!("sha256:{:x}", Sha256::digest(&bytes));

    let document = microscope.provenance(&record).await;
    let id = record["id"].as_str().unwrap();
    let activity = format!("inv:{id}");
    let invocation = &document["activity"][&activity];
    assert_eq!(invocation["lt:action"], "capture");
    assert_eq!(invocation["lt:thing"], "camera");
    assert_eq!(invocation["lt:status"], "completed");
    assert_eq!(invocation["prov:endTime"]["type"], "xsd:dateTime");

    // The blob, by the digest of the bytes a client downloads, generated by the capture and
    // derived from its input and from the state it started in.
    let blob = &document["entity"][&digest];
    assert_eq!(blob["lt:mediaType"], "image/jpeg", "{document:#}");
    assert_eq!(blob["lt:href"], blob_href);
    assert_eq!(blob["lt:size"], bytes.len());
    assert_eq!(related(&document, "wasGeneratedBy", &digest), [&*activity]);
    let sources = related(&document, "wasDerivedFrom", &digest);
    let (input, state) = (format!("{activity}/input"), format!("{activity}/state"));
    assert!(
        sources.contains(&&*input) && sources.contains(&&*state),
        "{sources:?}"
    );
    assert_eq!(document["entity"][&input]["prov:value"], "null");

    // The state: every Thing's stored values, the camera's exposure as written before.
    let members = related(&document, "hadMember", &state);
    let exposure = format!("{state}/camera/exposure_ms");
    assert!(members.contains(&&*exposure), "{members:?}");
    let value = &document["entity"][&exposure];
    assert_eq!(value["prov:value"], "42.5");
    assert_eq!(value["lt:setting"], true);
    let position = &document["entity"][format!("{state}/stage/position")];
    assert_eq!(position["lt:setting"], false, "{document:#}");
    assert!(related(&document, "used", &activity).contains(&&*state));

    // Who asked: the operate token, by the subject it was given, from this test's address;
    // the camera, and the server with its version.
    let agents = related(&document, "wasAssociatedWith", &activity);
    let requester = format!("{activity}/requester");
    assert!(agents.contains(&"thing:camera") && agents.contains(&"lt:server"));
    assert!(agents.contains(&&*requester), "{agents:?}");
    let asker = &document["agent"][&requester];
    assert_eq!(asker["lt:subject"], "scan robot");
    assert!(
        asker["lt:address"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    let server = &document["agent"]["lt:server"];
    assert_eq!(server["lt:frameworkVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(server["lt:executableSha256"].as_str().unwrap().len(), 64);

    // The capture's Exif metadata names the record.
    let comment = microscope::exif::read_user_comment(&bytes).expect("a UserComment");
    let comment: Value = serde_json::from_str(&comment).unwrap();
    assert_eq!(comment["invocation"], id);
    let path = comment["provenance"].as_str().unwrap();
    let (status, again) = microscope.get(path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["entity"][&digest], document["entity"][&digest]);
}

#[tokio::test]
async fn an_autofocus_records_the_moves_it_made_through_its_slot() {
    let microscope = Microscope::start().await;
    let input = json!({"range": 200, "steps": 3});
    let record = microscope.invoke("autofocus", "run", input).await;
    assert_eq!(record["status"], "completed", "{record}");
    let document = microscope.provenance(&record).await;
    let activity = format!("inv:{}", record["id"].as_str().unwrap());
    let calls: Vec<_> = (document["activity"].as_object().unwrap().iter())
        .filter(|(id, _)| related(&document, "wasInformedBy", id) == [&*activity])
        .map(|(id, call)| (id.clone(), call.clone()))
        .collect();
    // Three stops and the move to the best one, each a `move_to` of the stage, in order.
    assert_eq!(calls.len(), 4, "{document:#}");
    let mut previous_end = String::new();
    for n in 1..=4 {
        let id = format!("{activity}/call/{n}");
        let call = &calls.iter().find(|(c, _)| *c == id).unwrap().1;
        assert_eq!(call["lt:action"], "move_to");
        assert_eq!(
            related(&document, "wasAssociatedWith", &id),
            ["thing:stage"]
        );
        let start = call["prov:startTime"]["$"].as_str().unwrap().to_owned();
        assert!(
            start >= previous_end,
            "call {n} began before the one before it ended"
        );
        previous_end = call["prov:endTime"]["$"].as_str().unwrap().to_owned();
    }
    assert_eq!(document["agent"]["thing:stage"]["lt:type"], "Stage");
    // The stage's own `move_to` invocation records no call of itself.
    let input = json!({"x": 0, "y": 0, "z": 10});
    let record = microscope.invoke("stage", "move_to", input).await;
    let document = microscope.provenance(&record).await;
    let activity = format!("inv:{}", record["id"].as_str().unwrap());
    assert_eq!(
        document["activity"].as_object().unwrap().len(),
        1,
        "{document:#}"
    );
    assert!(related(&document, "wasInformedBy", &format!("{activity}/call/1")).is_empty());
}

#[tokio::test]
async fn a_running_invocation_has_no_record_yet_and_a_failed_one_records_its_error() {
    let microscope = Microscope::start().await;
    // A long move, followed on a socket: no record while it runs.
    let mut ws = support::ws::connect_wtp_as(microscope.addr, "stage", TOKEN).await;
    let far = json!({"x": 0, "y": 0, "z": 100000});
    let request = json!({"name": "move_to", "input": far, "observe": true});
    send(&mut ws, wtp("invokeaction", request)).await;
    let response = next(&mut ws).await;
    let id = response["status"]["actionID"].as_str().unwrap().to_owned();
    let path = format!("/action_invocations/{id}/provenance");
    let (status, problem) = microscope.get(&path).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("no provenance record yet"), "{detail}");
    // Cancelled, it has one.
    let cancel = microscope
        .client
        .delete(microscope.url(&format!("/action_invocations/{id}")));
    let (status, _) = microscope.send(cancel).await;
    assert!(status.is_success(), "{status}");
    next_matching(&mut ws, |n| n["status"]["timeEnded"].is_string()).await;
    let (status, document) = microscope.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{document}");
    assert_eq!(
        document["activity"][format!("inv:{id}")]["lt:status"],
        "cancelled"
    );
    let (status, _) = microscope
        .get("/action_invocations/not-an-id/provenance")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A move beyond the limits fails: its error is what it generated, and no output.
    let far = json!({"x": 0, "y": 0, "z": i64::MAX});
    let record = microscope.invoke("stage", "move_to", far).await;
    assert_eq!(record["status"], "error", "{record}");
    let document = microscope.provenance(&record).await;
    let activity = format!("inv:{}", record["id"].as_str().unwrap());
    let error = &document["entity"][format!("{activity}/error")]["prov:value"];
    let error: Value = serde_json::from_str(error.as_str().unwrap()).unwrap();
    assert_eq!(error["detail"], record["error"]["detail"]);
    assert!(document["entity"][format!("{activity}/output")].is_null());

    // An observer may read the record, without who asked; without a token, nobody.
    let request = microscope.client.get(microscope.url(&format!(
        "/action_invocations/{}/provenance",
        record["id"].as_str().unwrap()
    )));
    let response = request
        .try_clone()
        .unwrap()
        .bearer_auth(OBSERVER)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // It is not told who asked, nor from where: that is the asker's (and an admin's).
    let seen: Value = response.json().await.unwrap();
    let asker = &seen["agent"][format!("{activity}/requester")];
    assert_eq!(asker["lt:withheld"], true, "{asker}");
    assert!(asker["lt:address"].is_null() && asker["lt:subject"].is_null());
    let own = &document["agent"][format!("{activity}/requester")];
    assert_eq!(own["lt:subject"], "scan robot", "the asker is told");
    assert_eq!(
        request.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The `prov` package (PyPI) parses the record, and its relations lead from the capture's
/// blob to the input and to the camera's exposure setting.
#[cfg(feature = "interop")]
#[tokio::test]
async fn the_prov_package_reads_the_record_and_follows_the_blob_to_its_sources() {
    let python = support::needs::python("the provenance test");
    let microscope = Microscope::start().await;
    let record = microscope.invoke("camera", "capture", Value::Null).await;
    let url = microscope.url(&format!(
        "/action_invocations/{}/provenance",
        record["id"].as_str().unwrap()
    ));
    let args = [url.as_ref(), TOKEN.as_ref()];
    support::program::python_checks(python, "provenance_check.py", &args).await;
}

#[tokio::test]
async fn a_server_without_provenance_records_says_so() {
    let server = labthings::ThingServer::new()
        .provenance(false)
        .thing("stage", Stage::new());
    let (addr, _) = support::start(server).await;
    let mut ws = support::ws::connect_wtp(addr, "stage").await;
    let request = json!({"name": "move_to", "input": {"x": 0, "y": 0, "z": 1}, "observe": true});
    send(&mut ws, wtp("invokeaction", request)).await;
    let response = next(&mut ws).await;
    let id = response["status"]["actionID"].as_str().unwrap().to_owned();
    next_matching(&mut ws, |n| n["status"]["timeEnded"].is_string()).await;
    let url = format!("http://{addr}/action_invocations/{id}/provenance");
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("keeps no provenance records")
    );
    // Nor does its OpenAPI document offer the route.
    let openapi: Value = reqwest::get(format!("http://{addr}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    assert!(paths.contains_key("/action_invocations/{id}/output"));
    assert!(!paths.contains_key("/action_invocations/{id}/provenance"));
}
