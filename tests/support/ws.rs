//! A WebSocket client for the tests.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound for anything in these tests; reaching it means the behaviour under test failed.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Connect to `/{thing}/ws` without a subprotocol (the LabThings dialect).
pub(crate) async fn connect(addr: SocketAddr, thing: &str) -> Socket {
    let url = format!("ws://{addr}/{thing}/ws");
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// Connect to `/{thing}/ws` negotiating the `webthingprotocol` subprotocol.
pub(crate) async fn connect_wtp(addr: SocketAddr, thing: &str) -> Socket {
    wtp_at(&format!("ws://{addr}/{thing}/ws")).await
}

/// As [`connect_wtp`], with a bearer token (in the query, as a browser sends it).
pub(crate) async fn connect_wtp_as(addr: SocketAddr, thing: &str, token: &str) -> Socket {
    wtp_at(&format!("ws://{addr}/{thing}/ws?access_token={token}")).await
}

/// Connect to `url` negotiating the `webthingprotocol` subprotocol.
async fn wtp_at(url: &str) -> Socket {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "webthingprotocol".parse().unwrap(),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "webthingprotocol"
    );
    socket
}

pub(crate) async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .unwrap();
}

/// The next JSON message; panics after [`LIMIT`] or if the socket closes.
pub(crate) async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(LIMIT, socket.next())
            .await
            .expect("a message within the time limit")
            .expect("the socket is open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => panic!("the socket was closed: {frame:?}"),
            _ => {}
        }
    }
}

/// Read messages until one satisfies `f`, returning it.
pub(crate) async fn next_matching(socket: &mut Socket, f: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = next(socket).await;
        if f(&m) {
            return m;
        }
    }
}

/// Observe `names` in the LabThings dialect and return once the subscriptions are in place:
/// the same message names a property that does not exist, whose error the server sends only
/// after it has processed the names before it.
pub(crate) async fn observe(socket: &mut Socket, names: &[&str]) {
    let mut data = serde_json::Map::new();
    for name in names {
        data.insert((*name).to_owned(), true.into());
    }
    data.insert("-".to_owned(), true.into());
    send(
        socket,
        json!({"messageType": "addPropertyObservation", "data": data}),
    )
    .await;
    let reply = next_matching(socket, |m| m["messageType"] == "response").await;
    assert_eq!(reply["name"], "-", "{reply}");
}

/// A Web Thing Protocol request with a `thingID`, `messageID` and `correlationID`.
pub(crate) fn wtp(operation: &str, extra: Value) -> Value {
    let mut m = json!({"thingID": "urn:test", "messageID": "m-1", "messageType": "request",
                       "operation": operation, "correlationID": "c-1"});
    m.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    m
}
