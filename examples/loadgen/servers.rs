//! The two servers under test, each run as a child process of the load generator: the
//! labthings counter, and a bare axum server (the ceiling of the stack).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::broadcast;

use crate::counter::Counter;

/// A server child process and the address it listens on.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Start `loadgen serve-<kind> [args]` and read the address it prints.
    pub(crate) fn spawn(kind: &str, args: &[&str]) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .arg(format!("serve-{kind}"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("bad address {line:?}"));
        Self { child, addr }
    }

    /// Resident memory of the server process, in bytes.
    /// CPU time the server process used so far (user and system).
    pub(crate) fn cpu(&self) -> std::time::Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // The fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // Clock ticks are 1/100 s on Linux.
        std::time::Duration::from_millis(ticks * 10)
    }

    /// Open file descriptors of the server process.
    pub(crate) fn fds(&self) -> u64 {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map_or(0, |dir| dir.count() as u64)
    }

    pub(crate) fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        kb * 1024
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How a server is secured: a bearer token, TLS.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Secure {
    /// Require this bearer token (scope `operate`).
    #[arg(long)]
    token: Option<String>,
    /// Serve HTTPS with this certificate (PEM).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The key of `--tls-cert` (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// Publish through the MQTT broker at this URL too (topic prefix `lab`).
    #[arg(long)]
    mqtt: Option<String>,
    /// Write the number of the serving runtime's live tasks to this file every second.
    #[arg(long)]
    stats: Option<std::path::PathBuf>,
    /// Keep no metrics (they are on by default).
    #[arg(long)]
    no_metrics: bool,
    /// Keep no provenance records (they are on by default).
    #[arg(long)]
    no_provenance: bool,
}

/// A self-signed certificate for `localhost`, in files the servers read.
pub(crate) struct Certificate {
    dir: std::path::PathBuf,
    pem: String,
}

impl Certificate {
    pub(crate) fn generate() -> Self {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let dir = std::env::temp_dir().join(format!("labthings-loadgen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = certified.cert.pem();
        std::fs::write(dir.join("cert.pem"), &pem).unwrap();
        std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();
        Self { dir, pem }
    }

    /// `--tls-cert FILE --tls-key FILE`.
    pub(crate) fn args(&self) -> Vec<String> {
        vec![
            "--tls-cert".into(),
            self.dir.join("cert.pem").display().to_string(),
            "--tls-key".into(),
            self.dir.join("key.pem").display().to_string(),
        ]
    }

    /// A TLS client that trusts only this certificate.
    pub(crate) fn connector(&self) -> tokio_rustls::TlsConnector {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(self.pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Serve a bare axum router, over TLS when asked (with the same accept loop shape as
/// labthings': hyper's HTTP/1 connection over a tokio-rustls stream).
async fn listen_and_print(router: Router, secure: Secure) {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    let Some(cert) = secure.tls_cert else {
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        return axum::serve(listener, router).await.unwrap();
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls_config(&cert, &secure.tls_key.unwrap()));
    loop {
        let (stream, _) = listener.accept().await.unwrap();
        let _ = stream.set_nodelay(true);
        let (acceptor, router) = (acceptor.clone(), router.clone());
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

/// The rustls configuration of a certificate and key, as labthings builds it.
fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// `loadgen serve-labthings`: the counter, served as a program serves it.
pub(crate) async fn serve_labthings(secure: Secure) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("{}", listener.local_addr().unwrap());
    // Room for the ten thousand subscribers of the event fan-out.
    let limits = labthings::Limits {
        max_websockets: 12_000,
        ..Default::default()
    };
    let feed = std::sync::Arc::new(Feed {
        video: labthings::MjpegStream::new(),
    });
    tokio::spawn(push_frames({
        let feed = feed.clone();
        move |frame| {
            let _ = feed.video.push(frame);
        }
    }));
    let mut server = labthings::ThingServer::new()
        .thing("counter", Counter::new())
        .shared_thing("feed", feed)
        .limits(limits)
        .metrics(!secure.no_metrics)
        .provenance(!secure.no_provenance);
    if let Some(token) = &secure.token {
        server = server.token(labthings::Scope::Operate, token);
    }
    if let Some(broker) = &secure.mqtt {
        let mqtt = labthings::Mqtt::new(broker).unwrap().prefix("lab").unwrap();
        server = server.mqtt(mqtt);
    }
    if let (Some(cert), Some(key)) = (&secure.tls_cert, &secure.tls_key) {
        server = server.tls(labthings::Tls::from_pem_files(cert, key).unwrap());
    }
    if let Some(file) = secure.stats.clone() {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            loop {
                tick.tick().await;
                let tasks = tokio::runtime::Handle::current()
                    .metrics()
                    .num_alive_tasks();
                // Written aside and renamed, so that a reader never sees it half written.
                let aside = file.with_extension("new");
                if std::fs::write(&aside, tasks.to_string()).is_ok() {
                    let _ = std::fs::rename(&aside, &file);
                }
            }
        });
    }
    server.serve(listener).await.unwrap();
}

/// A camera feed for the MJPEG benchmark.
#[labthings::thing]
pub(crate) struct Feed {
    /// Its frames.
    #[stream]
    video: labthings::MjpegStream,
}

/// Push the benchmark's frame `FRAME_RATE` times a second, forever.
async fn push_frames(push: impl Fn(Bytes)) {
    let frame = crate::mjpeg::frame();
    let mut tick =
        tokio::time::interval(std::time::Duration::from_secs(1) / crate::mjpeg::FRAME_RATE);
    loop {
        tick.tick().await;
        push(frame.clone());
    }
}

#[derive(Clone)]
struct Baseline {
    value: Arc<AtomicI64>,
    tx: broadcast::Sender<String>,
    frames: tokio::sync::watch::Receiver<Option<Bytes>>,
}

/// `loadgen serve-baseline`: a constant JSON route, a PUT that parses its body, and a
/// WebSocket route fed by a `tokio::sync::broadcast` channel.
pub(crate) async fn serve_baseline(secure: Secure) {
    let (tx, _) = broadcast::channel(16_384);
    let (frames_tx, frames) = tokio::sync::watch::channel(None);
    tokio::spawn(push_frames(move |frame| {
        frames_tx.send_replace(Some(frame));
    }));
    let state = Baseline {
        value: Arc::new(AtomicI64::new(5)),
        tx,
        frames,
    };
    let router = Router::new()
        .route("/value", get(get_value).put(put_value))
        .route("/ws", get(ws))
        .route("/publish", post(publish))
        .route("/burst", post(burst))
        .route("/sse", get(sse))
        .route("/mjpeg", get(mjpeg))
        .with_state(state);
    listen_and_print(router, secure).await;
}

async fn get_value(State(s): State<Baseline>) -> Response {
    let body = s.value.load(Ordering::Relaxed).to_string();
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn put_value(State(s): State<Baseline>, body: Bytes) -> Response {
    match serde_json::from_slice::<i64>(&body) {
        Ok(v) => {
            s.value.store(v, Ordering::Relaxed);
            (
                StatusCode::CREATED,
                [(header::CONTENT_TYPE, "application/json")],
                "null",
            )
                .into_response()
        }
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    }
}

async fn publish(State(s): State<Baseline>, body: String) -> StatusCode {
    let v: i64 = body.trim().parse().unwrap_or_default();
    let _ = s.tx.send(format!(
        r#"{{"messageType":"propertyStatus","data":{{"step":{v}}}}}"#
    ));
    StatusCode::CREATED
}

#[derive(serde::Deserialize)]
struct BurstQuery {
    n: i64,
}

async fn burst(State(s): State<Baseline>, Query(q): Query<BurstQuery>) -> StatusCode {
    for i in 1..=q.n {
        let _ = s.tx.send(format!(
            r#"{{"messageType":"propertyStatus","data":{{"count":{i}}}}}"#
        ));
    }
    StatusCode::CREATED
}

async fn ws(State(s): State<Baseline>, upgrade: WebSocketUpgrade) -> Response {
    // Subscribed before the handshake completes, as labthings subscribes before answering.
    let rx = s.tx.subscribe();
    upgrade.on_upgrade(move |socket| relay(socket, rx))
}

async fn relay(mut socket: WebSocket, mut rx: broadcast::Receiver<String>) {
    loop {
        tokio::select! {
            message = rx.recv() => match message {
                Ok(text) => {
                    if socket.send(Message::text(text)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}

/// Every broadcast message as a Server-Sent Event.
async fn sse(State(s): State<Baseline>) -> Response {
    use axum::response::sse::{Event, Sse};
    let rx = s.tx.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(text) => {
                    let event = Event::default().data(text);
                    return Some((Ok::<_, std::convert::Infallible>(event), rx));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).into_response()
}

/// The frames as `multipart/x-mixed-replace`, each viewer getting the latest.
async fn mjpeg(State(s): State<Baseline>) -> Response {
    let mut frames = s.frames.clone();
    frames.mark_changed();
    let parts = futures_util::stream::unfold(
        (frames, Vec::<Bytes>::new()),
        |(mut frames, mut pending)| async move {
            loop {
                if let Some(chunk) = pending.pop() {
                    return Some((Ok::<_, std::convert::Infallible>(chunk), (frames, pending)));
                }
                frames.changed().await.ok()?;
                let frame = frames.borrow_and_update().clone();
                if let Some(jpeg) = frame {
                    let head = format!(
                        "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
                        jpeg.len()
                    );
                    pending = vec![Bytes::from_static(b"\r\n"), jpeg, Bytes::from(head)];
                }
            }
        },
    );
    (
        [(
            header::CONTENT_TYPE,
            "multipart/x-mixed-replace; boundary=frame",
        )],
        axum::body::Body::from_stream(parts),
    )
        .into_response()
}
