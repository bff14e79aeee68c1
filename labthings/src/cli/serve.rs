//! `PROGRAM [serve]`: the Things served until SIGINT or SIGTERM.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use super::App;
use super::args::{CommonArgs, ServeArgs};
use crate::config::Config;
use crate::server::{Started, ThingServer};

/// Where and how to serve: the command line over the configuration file over the defaults.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ServeSettings {
    pub(super) addr: SocketAddr,
    pub(super) prefix: String,
    /// The certificate chain and key to serve HTTPS with.
    pub(super) tls: Option<(PathBuf, PathBuf)>,
    pub(super) settings_dir: Option<PathBuf>,
}

impl ServeSettings {
    pub(super) fn new(common: &CommonArgs, args: &ServeArgs, config: Option<&Config>) -> Self {
        let host = (args.host)
            .or(config.and_then(|c| c.host))
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let port = args.port.or(config.and_then(|c| c.port)).unwrap_or(5000);
        let prefix = (common.prefix.clone())
            .or_else(|| config.and_then(|c| c.prefix.clone()))
            .unwrap_or_default();
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
            _ => config
                .and_then(|c| c.tls.as_ref())
                .map(|t| (t.cert.clone(), t.key.clone())),
        };
        let settings_dir =
            (args.settings.clone()).or_else(|| config.and_then(|c| c.settings_dir.clone()));
        Self {
            addr: SocketAddr::new(host, port),
            prefix,
            tls,
            settings_dir,
        }
    }

    /// Apply them to `server`.
    fn apply(&self, mut server: ThingServer) -> Result<ThingServer, String> {
        server = server.prefix(&self.prefix);
        if let Some(dir) = &self.settings_dir {
            server = server.settings_dir(dir);
        }
        match &self.tls {
            Some((cert, key)) => serve_tls(server, cert, key),
            None => Ok(server),
        }
    }
}

#[cfg(feature = "tls")]
fn serve_tls(server: ThingServer, cert: &PathBuf, key: &PathBuf) -> Result<ThingServer, String> {
    let tls = crate::server::Tls::from_pem_files(cert, key)
        .map_err(|e| format!("cannot serve HTTPS: {e}"))?;
    Ok(server.tls(tls))
}

#[cfg(not(feature = "tls"))]
fn serve_tls(_: ThingServer, _: &PathBuf, _: &PathBuf) -> Result<ThingServer, String> {
    Err(
        "cannot serve HTTPS: this program was built without TLS (the `tls` feature of labthings)"
            .into(),
    )
}

impl App {
    pub(super) async fn serve(mut self, common: &CommonArgs, args: ServeArgs) -> ExitCode {
        crate::runtime::logs::init();
        let config = match common.config.as_deref().map(|f| self.load(f)).transpose() {
            Ok(config) => config,
            Err(e) => return self.fail(format_args!("invalid configuration: {e}")),
        };
        let settings = ServeSettings::new(common, &args, config.as_ref());
        let started = match self.start(common, &settings, config.as_ref()).await {
            Ok(started) => started,
            Err(e) => return self.fail(e),
        };
        let addr = settings.addr;
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("{}: cannot listen on {addr}: {e}", self.program);
                return ExitCode::FAILURE;
            }
        };
        let stop = shutdown_signal();
        announce(&started, listener.local_addr().unwrap_or(addr));
        match started.serve(listener).with_graceful_shutdown(stop).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: serving on {addr} failed: {e}", self.program);
                ExitCode::FAILURE
            }
        }
    }

    /// The server of the configuration and the command line, its Things created and
    /// started.
    async fn start(
        &mut self,
        common: &CommonArgs,
        settings: &ServeSettings,
        config: Option<&Config>,
    ) -> Result<Started, String> {
        let file = common.config.as_deref().zip(config);
        let things = self.registrations(file, true)?;
        let mut server = ThingServer::new();
        if let Some(config) = config {
            server = config.apply(server)?;
            for thing in &config.things {
                for (slot, targets) in &thing.slots {
                    server = server.slot(&thing.name, slot, targets.iter().cloned());
                }
            }
        }
        server = settings.apply(server)?;
        for registration in things {
            server = (registration.add)(server).await?;
        }
        server.start().await.map_err(|e| {
            let place = (common.config.as_deref())
                .map(|f| format!("{}: ", f.display()))
                .unwrap_or_default();
            let problems: Vec<String> =
                e.problems.iter().map(|p| format!("  {place}{p}")).collect();
            format!("cannot start:\n{}", problems.join("\n"))
        })
    }
}

/// Print where the server listens, and each Thing's URL. A closed standard output (a
/// supervisor that read the first line) does not stop the server: write errors are ignored.
fn announce(started: &Started, local: SocketAddr) {
    use std::io::Write as _;
    let scheme = if started.serves_tls() {
        "https"
    } else {
        "http"
    };
    let prefix = started.api_prefix();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "labthings listening on {scheme}://{local}{prefix}/");
    for name in started.thing_names() {
        let _ = writeln!(out, "  {scheme}://{local}{prefix}/{name}/");
    }
    let _ = out.flush();
}

/// Completes on SIGINT or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled: a signal sent as soon as the server has said where it listens
/// is a graceful shutdown, never the default action that kills the process.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let (Ok(mut interrupt), Ok(mut terminate)) = (interrupt, terminate) else {
                return std::future::pending().await;
            };
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
