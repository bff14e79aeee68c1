//! Safe by default: pages from other sites cannot drive a Thing, the server answers only to
//! its own names, bodies must be JSON, and tokens with scopes guard every route.

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::ws::{next, send, wtp};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const VIEWER: &str = "viewer-token-0123456789";
const OPERATOR: &str = "operator-token-0123456789";

async fn start(server: labthings::ThingServer) -> (SocketAddr, Arc<counter::Counter>) {
    let counter = Arc::new(counter::Counter::new());
    let (addr, _) = support::start(server.shared_thing("counter", counter.clone())).await;
    (addr, counter)
}

async fn request(
    addr: SocketAddr,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut r = reqwest::Client::new().request(method, format!("http://{addr}{path}"));
    for (name, value) in headers {
        r = r.header(*name, *value);
    }
    if let Some(body) = body {
        r = r.body(body.to_owned());
    }
    let r = r.send().await.unwrap();
    let (status, headers) = (r.status(), r.headers().clone());
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

const JSON: (&str, &str) = ("content-type", "application/json");

/// A request: method, path, headers, body.
type Case = (
    reqwest::Method,
    &'static str,
    Vec<(&'static str, &'static str)>,
    Option<&'static str>,
);

#[tokio::test]
async fn a_foreign_page_cannot_change_state() {
    let (addr, counter) =
        start(labthings::ThingServer::new().cors_origins(["http://dashboard.lab"])).await;
    let evil = ("origin", "http://evil.example");
    let cases: [Case; 5] = [
        // What a form or `fetch` sends across sites without a preflight.
        (
            reqwest::Method::POST,
            "/counter/add",
            vec![evil, ("content-type", "text/plain")],
            Some(r#"{"n": 5}"#),
        ),
        (
            reqwest::Method::POST,
            "/counter/increment",
            vec![evil],
            None,
        ),
        (
            reqwest::Method::POST,
            "/counter/add",
            vec![evil, JSON],
            Some(r#"{"n": 5}"#),
        ),
        (
            reqwest::Method::PUT,
            "/counter/step",
            vec![evil, JSON],
            Some("5"),
        ),
        (
            reqwest::Method::PUT,
            "/counter/step",
            vec![("origin", "null"), JSON],
            Some("5"),
        ),
    ];
    for (method, path, headers, body) in cases {
        let (status, _, problem) = request(addr, method.clone(), path, &headers, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} {headers:?}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("may not change the state"),
            "{problem}"
        );
    }
    assert_eq!(
        (counter.count.get(), counter.step.get()),
        (0, 1),
        "nothing ran"
    );
    let list = request(addr, reqwest::Method::GET, "/action_invocations", &[], None)
        .await
        .2;
    assert_eq!(list, json!([]), "no invocation was created");

    // The server's own pages, allowed origins and clients that are not browsers may.
    let own = format!("http://{addr}");
    for headers in [
        vec![("origin", own.as_str()), JSON],
        vec![("origin", "http://dashboard.lab"), JSON],
        vec![JSON],
    ] {
        let (status, _, body) = request(
            addr,
            reqwest::Method::PUT,
            "/counter/step",
            &headers,
            Some("7"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{headers:?}: {body}");
    }
    // Reading stays open to any page (CORS decides what the page may see).
    let (status, ..) = request(addr, reqwest::Method::GET, "/counter/count", &[evil], None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn bodies_must_be_json() {
    let (addr, counter) = start(labthings::ThingServer::new()).await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let headers = [("content-type", content_type)];
        let (status, _, problem) = request(
            addr,
            reqwest::Method::POST,
            "/counter/add",
            &headers,
            Some(r#"{"n": 5}"#),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type}");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("application/json"),
            "{problem}"
        );
    }
    let (status, ..) = request(addr, reqwest::Method::PUT, "/counter/step", &[], Some("5")).await;
    assert_eq!(
        status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a body without a type"
    );
    assert_eq!(counter.count.get(), 0);
    let headers = [(
        "content-type",
        "application/merge-patch+json; charset=utf-8",
    )];
    let (status, ..) = request(
        addr,
        reqwest::Method::PUT,
        "/counter/step",
        &headers,
        Some("5"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a JSON media type with parameters"
    );
    let (status, ..) = request(addr, reqwest::Method::POST, "/counter/increment", &[], None).await;
    assert_eq!(status, StatusCode::CREATED, "no body, no type");
}

#[tokio::test]
async fn a_websocket_from_a_foreign_page_is_refused() {
    let (addr, _) = start(labthings::ThingServer::new()).await;
    let mut request = format!("ws://{addr}/counter/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403);
        }
        other => panic!(
            "the upgrade was not refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    let mut request = format!("ws://{addr}/counter/ws")
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("origin", format!("http://{addr}").parse().unwrap());
    assert!(
        tokio_tungstenite::connect_async(request).await.is_ok(),
        "the server's own page"
    );
}

#[tokio::test]
async fn the_server_answers_only_to_its_own_names() {
    let (addr, _) = start(labthings::ThingServer::new()).await;
    for host in [
        "evil.example",
        "evil.example:80",
        "\"><script>alert(1)</script>",
    ] {
        let (status, body) = support::raw(
            addr,
            &format!("GET /counter/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await;
        assert_eq!(status, 421, "{host}: {body}");
        assert!(!body.contains("<script>"), "{body}");
        let problem: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], 421);
    }
    let (status, body) = support::raw(
        addr,
        &format!(
            "GET /counter/ HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
            addr.port()
        ),
    )
    .await;
    assert_eq!(status, 200);
    let td: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(td["base"], format!("http://localhost:{}/", addr.port()));

    let (addr, _) =
        start(labthings::ThingServer::new().allowed_hosts(["microscope.lab.example"])).await;
    let (status, _) = support::raw(
        addr,
        "GET /counter/ HTTP/1.1\r\nHost: Microscope.lab.example:5000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 200, "a configured name");

    // An absolute request target names the host too, and must be one of the server's.
    let (status, body) = support::raw(
        addr,
        "GET http://evil.example/counter/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(status, 421, "{body}");
}

#[tokio::test]
async fn tokens_with_scopes_guard_every_route() {
    let (addr, counter) = start(
        labthings::ThingServer::new()
            .token(labthings::Scope::Observe, VIEWER)
            .token(labthings::Scope::Operate, OPERATOR),
    )
    .await;
    let viewer = format!("Bearer {VIEWER}");
    let operator = format!("Bearer {OPERATOR}");
    let wrong = "Bearer not-a-token-of-this-server";

    let (status, headers, problem) =
        request(addr, reqwest::Method::GET, "/counter/count", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["www-authenticate"], "Bearer realm=\"labthings\"");
    assert_eq!(problem["status"], 401);
    let (status, headers, _) = request(
        addr,
        reqwest::Method::GET,
        "/counter/",
        &[("authorization", wrong)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    for path in [
        "/counter/",
        "/counter/count",
        "/action_invocations",
        "/things/",
    ] {
        let (status, ..) = request(
            addr,
            reqwest::Method::GET,
            path,
            &[("authorization", &viewer)],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "the viewer reads {path}");
    }
    // The scheme is case-insensitive (RFC 9110), spaces around the token do not matter; a
    // token in the query is only for WebSocket upgrades, which cannot carry headers.
    for header in [format!("bearer {VIEWER}"), format!("BEARER   {VIEWER} ")] {
        let (status, ..) = request(
            addr,
            reqwest::Method::GET,
            "/counter/count",
            &[("authorization", &header)],
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{header:?}");
    }
    let in_query = format!("/counter/count?access_token={VIEWER}");
    let (status, ..) = request(addr, reqwest::Method::GET, &in_query, &[], None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a token in a plain GET's query"
    );
    let (status, headers, problem) = request(
        addr,
        reqwest::Method::PUT,
        "/counter/step",
        &[("authorization", &viewer), JSON],
        Some("5"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("insufficient_scope")
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("operate"),
        "{problem}"
    );
    let (status, ..) = request(
        addr,
        reqwest::Method::POST,
        "/counter/increment",
        &[("authorization", &viewer)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(counter.count.get(), 0);
    let (status, ..) = request(
        addr,
        reqwest::Method::PUT,
        "/counter/step",
        &[("authorization", &operator), JSON],
        Some("5"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    let (_, _, td) = request(
        addr,
        reqwest::Method::GET,
        "/counter/",
        &[("authorization", &viewer)],
        None,
    )
    .await;
    assert_eq!(td["security"], "bearer");
    assert_eq!(td["securityDefinitions"]["bearer"]["scheme"], "bearer");
    assert!(!td.to_string().contains(VIEWER) && !td.to_string().contains(OPERATOR));
    support::td::assert_valid("counter with tokens", &td);
}

#[tokio::test]
async fn websockets_need_a_token_and_are_held_to_its_scope() {
    let (addr, counter) = start(
        labthings::ThingServer::new()
            .token(labthings::Scope::Observe, VIEWER)
            .token(labthings::Scope::Operate, OPERATOR),
    )
    .await;
    match tokio_tungstenite::connect_async(format!("ws://{addr}/counter/ws")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("no token, but: {:?}", other.map(|(_, r)| r.status())),
    }
    // A browser cannot set headers on a WebSocket: the token may come in the query.
    let url = format!("ws://{addr}/counter/ws?access_token={VIEWER}");
    let mut ws = tokio_tungstenite::connect_async(url).await.unwrap().0;
    send(&mut ws, wtp("readproperty", json!({"name": "count"}))).await;
    assert_eq!(next(&mut ws).await["value"], 0);
    send(&mut ws, wtp("invokeaction", json!({"name": "increment"}))).await;
    let refused = next(&mut ws).await;
    assert_eq!(refused["error"]["status"], 403, "{refused}");
    send(
        &mut ws,
        wtp("writeproperty", json!({"name": "step", "value": 3})),
    )
    .await;
    assert_eq!(next(&mut ws).await["error"]["status"], 403);
    assert_eq!((counter.count.get(), counter.step.get()), (0, 1));

    let mut request = format!("ws://{addr}/counter/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {OPERATOR}").parse().unwrap(),
    );
    let mut ws = tokio_tungstenite::connect_async(request).await.unwrap().0;
    send(
        &mut ws,
        wtp("writeproperty", json!({"name": "step", "value": 3})),
    )
    .await;
    assert!(next(&mut ws).await.get("error").is_none());
    assert_eq!(counter.step.get(), 3);
}
