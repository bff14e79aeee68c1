//! LabThings-FastAPI's own WebSocket dialect (`{thing}/ws`), for servers whose TD has no
//! WebSocket form: one socket per observed property, closed when the stream is dropped (the
//! dialect has no way to stop observing).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use super::error::problem_from_json;
use super::liveness::{Liveness, Next};
use super::session::{Notifications, connect};
use super::{Client, ClientError};

/// The dialect's endpoint of the Thing whose TD was read from `td_url`: `{thing}/ws`.
pub(crate) fn endpoint(td_url: &Url) -> Result<Url, ClientError> {
    let mut url = td_url.clone();
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    let mut url = url.join("ws")?;
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    url.set_scheme(scheme)
        .map_err(|()| ClientError::Protocol(format!("cannot reach {url} over a WebSocket")))?;
    url.set_query(None);
    Ok(url)
}

/// Observe property `name`: `propertyStatus` messages become notifications carrying `value`,
/// as the Web Thing Protocol's do.
pub(crate) async fn observe(
    client: &Client,
    url: &Url,
    name: &str,
    token: Option<&str>,
) -> Result<Notifications, ClientError> {
    let (socket, heard) = connect(client, url, None, token).await?;
    let (mut sink, mut stream) = socket.split();
    let subscribe = json!({"messageType": "addPropertyObservation", "data": {name: true}});
    sink.send(Message::text(subscribe.to_string())).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let name = name.to_owned();
    let mut liveness = Liveness::new(client.shared().keepalive, heard);
    // A dead peer's full buffers must not hold a ping (and this task) forever.
    let patience = client.shared().timeout;
    tokio::spawn(async move {
        // The sink is kept (not dropped) so that the socket stays open until `tx` is closed.
        loop {
            let next = tokio::select! {
                next = liveness.next(&mut stream) => next,
                () = tx.closed() => return,
            };
            let message = match next {
                Next::Frame(message) => message,
                Next::Ping => {
                    let ping = sink.send(Message::Ping(Default::default()));
                    if !matches!(tokio::time::timeout(patience, ping).await, Ok(Ok(()))) {
                        let _ = tx.send(Err(ClientError::Disconnected(None)));
                        return;
                    }
                    continue;
                }
                Next::Dead(reason) => {
                    let _ = tx.send(Err(ClientError::Disconnected(Some(reason))));
                    return;
                }
            };
            let message: Value = match message {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                    Ok(message) => message,
                    Err(_) => continue,
                },
                Some(Ok(Message::Close(_))) | None => {
                    let _ = tx.send(Err(ClientError::Disconnected(None)));
                    return;
                }
                Some(Ok(_)) => continue,
                Some(Err(error)) => {
                    let _ = tx.send(Err(ClientError::Disconnected(Some(error.to_string()))));
                    return;
                }
            };
            let delivered = match message.get("messageType").and_then(Value::as_str) {
                Some("propertyStatus") => match message.get("data").and_then(|d| d.get(&name)) {
                    Some(value) => tx.send(Ok(json!({"messageType": "notification",
                                                      "name": name, "value": value}))),
                    None => Ok(()),
                },
                Some("response") => match message.get("error") {
                    Some(error) => {
                        tx.send(Err(ClientError::Refused(problem_from_json(500, error))))
                    }
                    None => Ok(()),
                },
                _ => Ok(()),
            };
            if delivered.is_err() {
                return;
            }
        }
    });
    Ok(Notifications::new(rx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_is_beside_the_td() {
        let at = |s: &str| endpoint(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(at("http://lab:5000/counter/"), "ws://lab:5000/counter/ws");
        assert_eq!(at("https://lab/api/counter"), "wss://lab/api/counter/ws");
    }
}
