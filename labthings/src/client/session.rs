//! One WebSocket speaking the Web Thing Protocol, shared by a Thing's client: requests are
//! matched to their responses by `correlationID`, and notifications routed to the
//! subscription that asked for them.

use crate::sync::Locked;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;
use url::Url;

use super::error::problem_from_json;
use super::liveness::{Heard, Liveness, Next, Watched};
use super::{Client, ClientError};

/// Where the messages of one `correlationID` go.
enum Route {
    /// A request's single response.
    Once(oneshot::Sender<Result<Value, ClientError>>),
    /// A subscription's response, then its notifications.
    Stream(mpsc::UnboundedSender<Result<Value, ClientError>>),
}

#[derive(Default)]
struct Routes {
    map: HashMap<String, Route>,
    /// Set once the connection has closed: why.
    closed: Option<Option<String>>,
}

/// A connected Web Thing Protocol socket.
pub(crate) struct Session {
    out: mpsc::UnboundedSender<Message>,
    routes: Arc<Mutex<Routes>>,
    next: AtomicU64,
    timeout: Duration,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A subscription's receiving end: its response came, its notifications follow (those that
/// arrived before the response first).
#[derive(Debug)]
pub(crate) struct Notifications {
    early: std::collections::VecDeque<Result<Value, ClientError>>,
    rx: mpsc::UnboundedReceiver<Result<Value, ClientError>>,
}

impl Notifications {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<Result<Value, ClientError>>) -> Self {
        Self {
            early: Default::default(),
            rx,
        }
    }

    /// Notifications that never come (a placeholder until a subscription is attached).
    pub(crate) fn empty() -> Self {
        Self::new(mpsc::unbounded_channel().1)
    }

    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Value, ClientError>>> {
        match self.early.pop_front() {
            Some(message) => std::task::Poll::Ready(Some(message)),
            None => self.rx.poll_recv(cx),
        }
    }

    pub(crate) async fn recv(&mut self) -> Option<Result<Value, ClientError>> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }
}

/// A client WebSocket, whose connection notes when bytes arrive.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<Watched<TcpStream>>>;

/// Open a WebSocket to `url` with `token` and the client's TLS, offering `subprotocol`; with
/// it, what tells its keepalive when bytes last arrived.
pub(crate) async fn connect(
    client: &Client,
    url: &Url,
    subprotocol: Option<&str>,
    token: Option<&str>,
) -> Result<(Socket, Arc<Heard>), ClientError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;
    let shared = client.shared();
    let mut request = url.as_str().into_client_request()?;
    let headers = request.headers_mut();
    if let Some(protocol) = subprotocol {
        headers.insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(protocol).expect("a valid subprotocol"),
        );
    }
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            ClientError::Unsupported("the token is not a valid HTTP header value".into())
        })?;
        headers.insert("authorization", value);
    }
    let host = match url.host() {
        Some(url::Host::Domain(name)) => name.to_owned(),
        Some(url::Host::Ipv4(address)) => address.to_string(),
        Some(url::Host::Ipv6(address)) => address.to_string(),
        None => return Err(ClientError::Protocol(format!("{url} names no host"))),
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let connector = tokio_tungstenite::Connector::Rustls(shared.tls.clone());
    let heard = Heard::new();
    let connecting = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| ClientError::from(tokio_tungstenite::tungstenite::Error::Io(e)))?;
        tcp.set_nodelay(true)
            .map_err(|e| ClientError::from(tokio_tungstenite::tungstenite::Error::Io(e)))?;
        let tcp = Watched::new(tcp, heard.clone());
        tokio_tungstenite::client_async_tls_with_config(request, tcp, None, Some(connector))
            .await
            .map_err(refusal)
    };
    let (socket, _) = tokio::time::timeout(shared.timeout, connecting)
        .await
        .map_err(|_| ClientError::Timeout(shared.timeout))??;
    Ok((socket, heard))
}

/// A failed handshake with an HTTP answer is the server's refusal (e.g. 401): its problem.
fn refusal(error: tokio_tungstenite::tungstenite::Error) -> ClientError {
    use tokio_tungstenite::tungstenite::Error;
    match error {
        Error::Http(response) => {
            let status = response.status().as_u16();
            let body = response.body().as_deref().unwrap_or_default();
            ClientError::Refused(super::error::problem_from_body(status, body))
        }
        other => other.into(),
    }
}

impl Session {
    /// Connect to the Web Thing Protocol socket at `url`.
    pub(crate) async fn open(
        client: &Client,
        url: &Url,
        token: Option<&str>,
    ) -> Result<Arc<Self>, ClientError> {
        let (socket, heard) = connect(client, url, Some("webthingprotocol"), token).await?;
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Message>();
        let routes = Arc::new(Mutex::new(Routes::default()));
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if sink.send(message).await.is_err() {
                    return;
                }
            }
            // The client is gone: say goodbye.
            let _ = sink.close().await;
        });
        let reader_routes = routes.clone();
        // Weak: the writer ends (and closes the socket) once the session is dropped.
        let pings = out.downgrade();
        let mut liveness = Liveness::new(client.shared().keepalive, heard);
        tokio::spawn(async move {
            let reason = loop {
                let frame = match liveness.next(&mut stream).await {
                    Next::Frame(frame) => frame,
                    Next::Ping => match pings.upgrade() {
                        Some(out) if out.send(Message::Ping(Default::default())).is_ok() => {
                            continue;
                        }
                        _ => break None,
                    },
                    Next::Dead(reason) => break Some(reason),
                };
                match frame {
                    Some(Ok(Message::Text(text))) => route(&reader_routes, text.as_str()),
                    Some(Ok(Message::Close(frame))) => {
                        break frame.map(|f| format!("{} {}", u16::from(f.code), f.reason));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => break Some(error.to_string()),
                    None => break None,
                }
            };
            writer.abort();
            let mut routes = reader_routes.locked();
            routes.closed = Some(reason.clone());
            for (_, route) in routes.map.drain() {
                let error = Err(ClientError::Disconnected(reason.clone()));
                match route {
                    Route::Once(tx) => drop(tx.send(error)),
                    Route::Stream(tx) => drop(tx.send(error)),
                }
            }
        });
        Ok(Arc::new(Self {
            out,
            routes,
            next: AtomicU64::new(1),
            timeout: client.shared().timeout,
        }))
    }

    /// Whether the connection has closed (a new one is needed).
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes.locked()
    }

    /// Register `route` under a fresh correlation id and send `request` with it.
    fn send(&self, mut request: Map<String, Value>, route: Route) -> Result<String, ClientError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed).to_string();
        request.insert("messageType".into(), "request".into());
        request.insert("correlationID".into(), id.clone().into());
        {
            let mut routes = self.lock();
            if let Some(reason) = &routes.closed {
                return Err(ClientError::Disconnected(reason.clone()));
            }
            routes.map.insert(id.clone(), route);
        }
        let text = Value::Object(request).to_string();
        if self.out.send(Message::text(text)).is_err() {
            self.lock().map.remove(&id);
            return Err(ClientError::Disconnected(None));
        }
        Ok(id)
    }

    /// Send `request` and wait for its response (an `error` member is the server's refusal).
    pub(crate) async fn request(&self, request: Map<String, Value>) -> Result<Value, ClientError> {
        let (tx, rx) = oneshot::channel();
        let id = self.send(request, Route::Once(tx))?;
        let answer = tokio::time::timeout(self.timeout, rx).await;
        let Ok(answer) = answer else {
            self.forget(&id);
            return Err(ClientError::Timeout(self.timeout));
        };
        answer
            .map_err(|_| ClientError::Disconnected(None))?
            .and_then(refused)
    }

    /// Send a subscribing request: its response, then the receiver of its notifications.
    /// Messages are kept for `correlationID` until [`forget`](Self::forget).
    pub(crate) async fn subscribe(
        &self,
        request: Map<String, Value>,
    ) -> Result<(String, Value, Notifications), ClientError> {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = self.send(request, Route::Stream(tx))?;
        let mut rx = Notifications::new(rx);
        let mut early = std::collections::VecDeque::new();
        let response = tokio::time::timeout(self.timeout, async {
            loop {
                match rx.rx.recv().await {
                    None => return Err(ClientError::Disconnected(None)),
                    Some(Err(error)) => return Err(error),
                    Some(Ok(message)) => {
                        if message.get("messageType").and_then(Value::as_str) == Some("response") {
                            return refused(message);
                        }
                        early.push_back(Ok(message));
                    }
                }
            }
        })
        .await
        .unwrap_or(Err(ClientError::Timeout(self.timeout)));
        rx.early = early;
        match response {
            Ok(response) => Ok((id, response, rx)),
            Err(error) => {
                self.forget(&id);
                Err(error)
            }
        }
    }

    /// Send a request whose answer nobody waits for (e.g. unobserving from `Drop`).
    pub(crate) fn notify(&self, mut request: Map<String, Value>) {
        request.insert("messageType".into(), "request".into());
        let _ = self
            .out
            .send(Message::text(Value::Object(request).to_string()));
    }

    /// Stop routing the messages of `id`.
    pub(crate) fn forget(&self, id: &str) {
        self.lock().map.remove(id);
    }
}

/// A response's `error`, as the server's refusal.
fn refused(message: Value) -> Result<Value, ClientError> {
    match message.get("error") {
        Some(error) if message.get("messageType").and_then(Value::as_str) == Some("response") => {
            Err(ClientError::Refused(problem_from_json(500, error)))
        }
        _ => Ok(message),
    }
}

/// Deliver one message from the server to whoever waits for its `correlationID`.
fn route(routes: &Mutex<Routes>, text: &str) {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        tracing::debug!("the server sent a WebSocket message that is not JSON");
        return;
    };
    let Some(id) = message
        .get("correlationID")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return;
    };
    let id = id.as_str();
    let mut routes = routes.locked();
    match routes.map.get(id) {
        Some(Route::Once(_)) => {
            if let Some(Route::Once(tx)) = routes.map.remove(id) {
                let _ = tx.send(Ok(message));
            }
        }
        Some(Route::Stream(tx)) if tx.send(Ok(message)).is_err() => {
            routes.map.remove(id);
        }
        Some(Route::Stream(_)) => {}
        None => {}
    }
}
