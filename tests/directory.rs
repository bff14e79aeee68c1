//! The Thing Description Directory of a server (W3C WoT Discovery): its own TDs and those
//! other servers register into it, by id and searched by title, type and affordance; a
//! second labthings server registering its Things into the first while it serves (and
//! removing them at shutdown), and a client finding a Thing there and driving it.

#[path = "../examples/things/counter.rs"]
mod counter;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use counter::Counter;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN: &str = "directory-admin-token";
const OPERATOR: &str = "directory-operator-token";

/// The directory: a server with one Thing of its own, and tokens.
async fn directory() -> SocketAddr {
    let server = labthings::ThingServer::new()
        .server_id("hub")
        .token(labthings::Scope::Admin, ADMIN)
        .token(labthings::Scope::Operate, OPERATOR)
        .thing("clock", Counter::new());
    support::start(server).await.0
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::Client::new()
        .get(url)
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn put(url: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().put(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Read `url` until it answers `wanted` (the registration is made as the other server
/// starts, with no event to wait for), for at most 10 s.
async fn until_status(url: &str, wanted: StatusCode) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(url).await;
        if status == wanted {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_server_registers_its_things_into_another_and_a_client_finds_and_drives_them() {
    let hub = directory().await;
    let root = format!("http://{hub}/directory");
    let server = labthings::ThingServer::new()
        .server_id("bench-3")
        .thing("counter", Counter::new())
        .register_into(&root, Duration::from_secs(60), Some(ADMIN));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bench = listener.local_addr().unwrap();
    let serve = server.serve(listener).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let serving = tokio::spawn(std::future::IntoFuture::into_future(serve));

    // Found by its id, with its registration.
    let id = "urn:labthings:bench-3:counter";
    let td = until_status(&format!("{root}/things/{id}"), StatusCode::OK).await;
    assert_eq!(td["id"], id);
    assert_eq!(td["registration"]["ttl"], 60.0);
    assert!(td["registration"]["expires"].is_string(), "{td}");
    assert_eq!(td["base"], format!("http://{bench}/"));

    // In the listing with the directory's own, and by search.
    let (status, all) = get(&format!("{root}/things")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<_> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].clone())
        .collect();
    assert_eq!(
        ids,
        [
            json!("urn:labthings:bench-3:counter"),
            json!("urn:labthings:hub:clock")
        ]
    );
    for (query, found) in [
        ("affordance=increment", 2),
        ("affordance=no_such_action", 0),
        ("title=pointless%20COUNTER", 2),
        ("title=pointless%20clock", 0),
        ("type=Thing", 0),
        ("affordance=count&limit=1", 1),
    ] {
        let (status, page) = get(&format!("{root}/things?{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert_eq!(page.as_array().unwrap().len(), found, "{query}: {page}");
    }
    // The next page keeps the search.
    let response = reqwest::Client::new()
        .get(format!("{root}/things?affordance=count&limit=1"))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains("offset=1&limit=1&affordance=count"), "{link}");
    let (status, problem) = get(&format!("{root}/things?colour=red")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");

    // Driven from the TD the directory gave: its form is the other server's.
    let form = &td["actions"]["increment"]["forms"][0]["href"];
    let base = reqwest::Url::parse(td["base"].as_str().unwrap()).unwrap();
    let href = base.join(form.as_str().unwrap()).unwrap();
    let response = reqwest::Client::new()
        .post(href.clone())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "{href}");

    // Its introduction points to the directory it registers into.
    let (_, introduction) = get(&format!("http://{bench}/.well-known/wot")).await;
    assert_eq!(introduction["links"][0]["rel"], "collection");
    assert_eq!(introduction["links"][0]["href"], format!("{root}/things"));

    // At shutdown, it is removed.
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    let (status, _) = get(&format!("{root}/things/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn registrations_need_an_admin_token_a_valid_td_and_end_with_their_time_to_live() {
    let hub = directory().await;
    let url = |id: &str| format!("http://{hub}/directory/things/{id}");
    let td = json!({"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "Lamp",
                    "@type": "Light", "securityDefinitions": {"nosec": {"scheme": "nosec"}},
                    "security": "nosec", "properties": {"on": {"type": "boolean", "forms": [{"href": "http://10.0.0.9/on"}]}}});
    let (status, _) = put(&url("urn:lamp"), None, &td).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, problem) = put(&url("urn:lamp"), Some(OPERATOR), &td).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("registering a Thing Description")
    );
    let (status, _) = put(&url("urn:lamp"), Some(ADMIN), &td).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = put(&url("urn:lamp"), Some(ADMIN), &td).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a second put renews");
    let (status, found) = get(&format!("http://{hub}/directory/things?type=Light")).await;
    assert_eq!(
        (status, found[0]["id"].clone()),
        (StatusCode::OK, json!("urn:lamp"))
    );

    // Mistakes, each with its reason.
    for (id, body, wanted, says) in [
        (
            "urn:labthings:hub:clock",
            td.clone(),
            StatusCode::CONFLICT,
            "is a Thing of this server",
        ),
        (
            "urn:other",
            json!({"@context": "x", "id": "urn:lamp", "title": "x"}),
            StatusCode::BAD_REQUEST,
            "not the 'urn:other' of its URL",
        ),
        (
            "urn:other",
            json!({"@context": "x", "description": "no title"}),
            StatusCode::BAD_REQUEST,
            "has a `title`",
        ),
        (
            "urn:other",
            json!({"title": "no context"}),
            StatusCode::BAD_REQUEST,
            "has an `@context`",
        ),
        (
            "urn:other",
            json!({"@context": "x", "title": "x", "registration": null}),
            StatusCode::BAD_REQUEST,
            "`registration` is an object",
        ),
        (
            "urn:other",
            json!(["a", "list"]),
            StatusCode::BAD_REQUEST,
            "a JSON object",
        ),
        (
            "urn:other",
            json!({"@context": "x", "title": "x", "registration": {"ttl": 0}}),
            StatusCode::BAD_REQUEST,
            "at least 1",
        ),
    ] {
        let (status, problem) = put(&url(id), Some(ADMIN), &body).await;
        assert_eq!(status, wanted, "{body}: {problem}");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }

    // Removed on request; this server's own Things are not.
    let delete = |id: &str, token: &str| {
        reqwest::Client::new()
            .delete(url(id))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(
        delete("urn:lamp", ADMIN).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        delete("urn:lamp", ADMIN).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let own = delete("urn:labthings:hub:clock", ADMIN).await.unwrap();
    assert_eq!(own.status(), StatusCode::CONFLICT);

    // A registration lasts its time-to-live.
    let brief = json!({"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "Brief", "registration": {"ttl": 1}});
    let (status, _) = put(&url("urn:brief"), Some(ADMIN), &brief).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, td) = get(&url("urn:brief")).await;
    assert_eq!(
        (status, td["registration"]["ttl"].clone()),
        (StatusCode::OK, json!(1.0))
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = get(&url("urn:brief")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "expired after its time-to-live"
    );
}

#[tokio::test]
async fn the_introduction_describes_the_directory_api() {
    let hub = directory().await;
    let (status, td) = get(&format!("http://{hub}/.well-known/wot")).await;
    assert_eq!(status, StatusCode::OK);
    support::td::assert_valid("the directory's TD", &td);
    let actions = td["actions"].as_object().unwrap();
    let methods: Vec<_> = ["retrieveThing", "updateThing", "deleteThing"]
        .iter()
        .map(|a| actions[*a]["forms"][0]["htv:methodName"].clone())
        .collect();
    assert_eq!(methods, [json!("GET"), json!("PUT"), json!("DELETE")]);
    let variables = td["properties"]["things"]["uriVariables"]
        .as_object()
        .unwrap();
    assert!(
        ["title", "type", "affordance"]
            .iter()
            .all(|v| variables.contains_key(*v))
    );
}

/// Eclipse Thingweb's `domus-tdd-api` 1.0.2 (PyPI) as the directory, on Oxigraph: the built
/// microscope, configured with `directory`, registers its Things into it; a client finds the
/// stage there by id and by SPARQL (`/search/sparql`), drives it from the TD Domus returns,
/// and after the server's shutdown the TDs are gone (`tests/python/domus_directory.py`).
#[cfg(feature = "interop")]
#[tokio::test]
async fn the_microscope_registers_into_domus_and_is_found_and_driven_there() {
    let python = support::needs::python("the Domus directory test");
    let microscope = support::program::example("microscope");
    let binary = microscope.get_program().to_owned();
    let args = [binary.as_os_str()];
    support::program::python_checks(python, "domus_directory.py", &args).await;
}
