//! A command line for programs that publish Things: `serve` (default) and `td`.

use std::ffi::OsString;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::config::{Config, ConfigError};
use crate::server::ThingServer;
use crate::table::BoxFuture;
use crate::td::TdOptions;
use crate::thing::Thing;

/// The Things a program publishes, and its command line.
///
/// ```no_run
/// # use labthings::{thing, cli::App};
/// # #[thing] struct Counter { #[property] count: i64 }
/// fn main() -> std::process::ExitCode {
///     App::new("counter").thing("counter", || Counter { count: 0.into() }).run()
/// }
/// ```
///
/// - `PROGRAM [serve] [--host 127.0.0.1] [--port 5000] [--prefix /api] [--config FILE]`
///   serves the Things and prints the URL it listens on (`--port 0` picks a free port).
/// - `PROGRAM td [NAME] [--base URL] [--prefix /api] [--config FILE]` prints
///   `{"name": <TD>, …}`, or the bare TD of Thing `NAME`, and exits without creating any
///   Thing (with `--config`, the file is checked: types, names and arguments).
///
/// `--config` and `--prefix` mean the same before and after the subcommand; `--host` and
/// `--port` belong to serving, and are refused with `td`. Mistakes exit with code 2.
///
/// Without `--config`, the Things added with [`thing`](Self::thing) are published. With it,
/// the file (see [`crate::config`]) says which of the types registered with
/// [`thing_type`](Self::thing_type) to create, under which names and with which arguments.
///
/// [`run`](Self::run) starts its own runtime; inside `#[tokio::main]`, await
/// [`run_async`](Self::run_async) instead. Either installs the `tracing` subscriber of
/// [`init_logging`](crate::init_logging) and stops gracefully on SIGINT or SIGTERM.
pub struct App {
    program: String,
    things: Vec<Registration>,
    types: Vec<ThingType>,
}

/// A Thing of the program: its name, its TD, and how to add it to a server.
struct Registration {
    name: String,
    td: fn(&TdOptions) -> Value,
    add: Add,
}

/// Constructs a Thing (maybe asynchronously, maybe failing) and adds it to a server.
type Add = Box<dyn FnOnce(ThingServer) -> BoxFuture<Result<ThingServer, String>> + Send>;

/// Makes the [`Add`] of a Thing of a registered type from its name and arguments.
type Construct = Box<dyn Fn(&str, Value) -> Result<Add, String> + Send>;

/// A Thing type that configuration files can create.
struct ThingType {
    name: String,
    td: fn(&TdOptions) -> Value,
    /// Checks construction arguments without constructing.
    check: Box<dyn Fn(Value) -> Result<(), String> + Send>,
    construct: Construct,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("program", &self.program)
            .field(
                "things",
                &self.things.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .field(
                "types",
                &self.types.iter().map(|t| &t.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

#[derive(Debug, Parser)]
#[command(about = "Publish Things over HTTP and WebSocket")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    common: CommonArgs,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Things (the default).
    Serve,
    /// Print Thing Descriptions and exit, without creating any Thing.
    Td(TdArgs),
}

/// Options that mean the same wherever they stand.
#[derive(Debug, Args, Clone)]
struct CommonArgs {
    /// A configuration file (JSON, or TOML when named *.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Serve every route under this path prefix, e.g. /api/v3.
    #[arg(long, global = true)]
    prefix: Option<String>,
}

/// Options of serving; accepted anywhere, refused with `td`.
#[derive(Debug, Args, Clone, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1, or the configuration's `host`].
    #[arg(long, global = true)]
    host: Option<IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 5000, or the configuration's `port`].
    #[arg(long, global = true)]
    port: Option<u16>,
    /// Serve HTTPS with this certificate chain (PEM) [default: the configuration's `tls`].
    #[arg(long, global = true, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, global = true, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Keep settings in this directory [default: ./settings, or the configuration's
    /// `settings_dir`].
    #[arg(long, global = true)]
    settings: Option<PathBuf>,
}

impl ServeArgs {
    /// The options given, by name.
    fn given(&self) -> Vec<&'static str> {
        [
            ("--host", self.host.is_some()),
            ("--port", self.port.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

#[derive(Debug, Args)]
struct TdArgs {
    /// Print only the TD of this Thing.
    name: Option<String>,
    /// The base URL to put in the TDs.
    #[arg(long)]
    base: Option<String>,
}

impl App {
    /// A program called `program` (for messages).
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_owned(),
            things: Vec::new(),
            types: Vec::new(),
        }
    }

    /// Register a Thing type that configuration files can create as `type = "type_name"`,
    /// with `args` deserialised into `A` and passed to `make`.
    pub fn thing_type<T, A, E>(
        mut self,
        type_name: &str,
        make: impl Fn(A) -> Result<T, E> + Send + 'static,
    ) -> Self
    where
        T: Thing,
        A: serde::de::DeserializeOwned + 'static,
        E: std::fmt::Display,
    {
        self.types.push(ThingType {
            name: type_name.to_owned(),
            td: T::thing_description,
            check: Box::new(|args| parse_args::<A>(args).map(drop)),
            construct: Box::new(move |name: &str, args: Value| {
                let result = make(parse_args::<A>(args)?).map_err(|e| e.to_string());
                Ok(adding(name, async move { result }))
            }),
        });
        self
    }

    /// As [`thing_type`](Self::thing_type), with an `async` constructor (that connects to
    /// hardware, say).
    pub fn thing_type_async<T, A, E, F>(
        mut self,
        type_name: &str,
        make: impl Fn(A) -> F + Send + 'static,
    ) -> Self
    where
        T: Thing,
        A: serde::de::DeserializeOwned + 'static,
        E: std::fmt::Display,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        self.types.push(ThingType {
            name: type_name.to_owned(),
            td: T::thing_description,
            check: Box::new(|args| parse_args::<A>(args).map(drop)),
            construct: Box::new(move |name: &str, args: Value| {
                Ok(adding(name, make(parse_args::<A>(args)?)))
            }),
        });
        self
    }

    /// Publish the Thing that `make` creates under `name`. `make` runs only when serving.
    pub fn thing<T: Thing>(self, name: &str, make: impl FnOnce() -> T + Send + 'static) -> Self {
        self.try_thing(name, move || Ok::<_, std::convert::Infallible>(make()))
    }

    /// Publish the Thing that `make` creates under `name`, if it can: a failure names the
    /// Thing and stops the start.
    pub fn try_thing<T, E>(
        self,
        name: &str,
        make: impl FnOnce() -> Result<T, E> + Send + 'static,
    ) -> Self
    where
        T: Thing,
        E: std::fmt::Display,
    {
        let result = move || make().map_err(|e| e.to_string());
        self.thing_async(name, move || async move { result() })
    }

    /// Publish the Thing that the `async` constructor `make` creates under `name`; a failure
    /// names the Thing and stops the start.
    pub fn thing_async<T, E, F>(
        mut self,
        name: &str,
        make: impl FnOnce() -> F + Send + 'static,
    ) -> Self
    where
        T: Thing,
        E: std::fmt::Display,
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let owned = name.to_owned();
        self.things.push(Registration {
            name: owned.clone(),
            td: T::thing_description,
            add: Box::new(move |server| adding(&owned, make())(server)),
        });
        self
    }

    /// Parse the process's arguments and run, on a runtime of its own.
    pub fn run(self) -> ExitCode {
        self.run_with(std::env::args_os())
    }

    /// Run with the given arguments (the first is the program name), on a runtime of its own.
    pub fn run_with<I, A>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString> + Clone,
    {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("{}: cannot start the runtime: {e}", self.program);
                return ExitCode::FAILURE;
            }
        };
        runtime.block_on(self.run_async_with(args))
    }

    /// Parse the process's arguments and run, on the current runtime.
    pub async fn run_async(self) -> ExitCode {
        self.run_async_with(std::env::args_os()).await
    }

    /// Run with the given arguments (the first is the program name), on the current runtime.
    pub async fn run_async_with<I, A>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = A>,
        A: Into<OsString> + Clone,
    {
        let cli = match Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
        };
        match cli.command {
            Some(Command::Td(args)) => {
                let misplaced = cli.serve.given();
                if !misplaced.is_empty() {
                    let verb = if misplaced.len() == 1 {
                        "applies"
                    } else {
                        "apply"
                    };
                    return self.fail(format_args!(
                        "{} only {verb} to serving, not to `td`",
                        misplaced.join(" and ")
                    ));
                }
                self.print_td(&cli.common, &args)
            }
            Some(Command::Serve) | None => self.serve(&cli.common, cli.serve).await,
        }
    }

    fn fail(&self, message: impl std::fmt::Display) -> ExitCode {
        eprintln!("{}: {message}", self.program);
        ExitCode::from(2)
    }

    /// Read a configuration file and check every Thing it names against the registered types.
    fn load(&self, file: &Path) -> Result<Config, ConfigError> {
        let config = Config::load(file)?;
        for thing in &config.things {
            let error = |key: &str, problem: String| ConfigError {
                file: file.to_owned(),
                key: format!("things.{}.{key}", thing.name),
                problem,
            };
            let ty = self
                .thing_type_named(&thing.type_name)
                .map_err(|p| error("type", p))?;
            (ty.check)(thing.args.clone()).map_err(|p| error("args", p))?;
        }
        Ok(config)
    }

    fn thing_type_named(&self, name: &str) -> Result<&ThingType, String> {
        self.types.iter().find(|ty| ty.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.types.iter().map(|t| t.name.as_str()).collect();
            format!(
                "no Thing type is called '{name}'; this program has: {}",
                known.join(", ")
            )
        })
    }

    /// The Things to publish: those of the configuration file, or the built-in ones.
    fn registrations(
        &mut self,
        config: Option<(&Path, &Config)>,
        construct: bool,
    ) -> Result<Vec<Registration>, String> {
        let Some((file, config)) = config else {
            return Ok(std::mem::take(&mut self.things));
        };
        config
            .things
            .iter()
            .map(|thing| {
                let ty = self.thing_type_named(&thing.type_name)?;
                let place = format!("{}: `things.{}`", file.display(), thing.name);
                let add: Add = if construct {
                    let add = (ty.construct)(&thing.name, thing.args.clone())
                        .map_err(|p| format!("{place}: {p}"))?;
                    Box::new(move |server| {
                        Box::pin(
                            async move { add(server).await.map_err(|e| format!("{place}: {e}")) },
                        )
                    })
                } else {
                    Box::new(|server: ThingServer| Box::pin(async move { Ok(server) }))
                };
                Ok(Registration {
                    name: thing.name.clone(),
                    td: ty.td,
                    add,
                })
            })
            .collect()
    }

    fn print_td(mut self, common: &CommonArgs, args: &TdArgs) -> ExitCode {
        let config = match common.config.as_deref().map(|f| self.load(f)).transpose() {
            Ok(config) => config,
            Err(e) => return self.fail(format_args!("invalid configuration: {e}")),
        };
        let prefix = common
            .prefix
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.prefix.clone()))
            .unwrap_or_default();
        let file = common.config.as_deref().zip(config.as_ref());
        let things = match self.registrations(file, false) {
            Ok(things) => things,
            Err(e) => return self.fail(e),
        };
        let bearer = config
            .as_ref()
            .is_some_and(|c| !c.tokens.is_empty() || c.token_file.is_some());
        // The ids the server would give.
        let server_id = config
            .as_ref()
            .and_then(|c| c.server_id.clone())
            .unwrap_or_else(crate::server::default_server_id);
        let id_of = |name: &str| {
            let given = config
                .as_ref()
                .and_then(|c| c.things.iter().find(|t| t.name == name))
                .and_then(|t| t.id.clone());
            given.unwrap_or_else(|| crate::server::thing_urn(&server_id, name))
        };
        let options = |name: &str| {
            let o = TdOptions::new(&prefix, name).with_id(id_of(name));
            let o = match &args.base {
                Some(base) => o.with_base(base.clone()),
                None => o,
            };
            if bearer { o.with_bearer_security() } else { o }
        };
        let out = match &args.name {
            Some(name) => match things.iter().find(|t| &t.name == name) {
                Some(t) => (t.td)(&options(name)),
                None => {
                    let names: Vec<&str> = things.iter().map(|t| t.name.as_str()).collect();
                    return self.fail(format_args!(
                        "no Thing is called '{name}'; the Things are: {}",
                        names.join(", ")
                    ));
                }
            },
            None => Value::Object(
                things
                    .iter()
                    .map(|t| (t.name.clone(), (t.td)(&options(&t.name))))
                    .collect(),
            ),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("a TD is JSON")
        );
        ExitCode::SUCCESS
    }

    async fn serve(mut self, common: &CommonArgs, args: ServeArgs) -> ExitCode {
        crate::logs::init();
        let config = match common.config.as_deref().map(|f| self.load(f)).transpose() {
            Ok(config) => config,
            Err(e) => return self.fail(format_args!("invalid configuration: {e}")),
        };
        let file = common.config.as_deref().zip(config.as_ref());
        let things = match self.registrations(file, true) {
            Ok(things) => things,
            Err(e) => return self.fail(e),
        };
        let mut server = ThingServer::new();
        let (mut host, mut port, mut prefix, mut tls_files) = (None, None, None, None);
        if let Some(config) = &config {
            match self.configure(server, config) {
                Ok(configured) => server = configured,
                Err(e) => return self.fail(e),
            }
            (host, port, prefix) = (config.host, config.port, config.prefix.clone());
            tls_files = config.tls.as_ref().map(|t| (t.cert.clone(), t.key.clone()));
        }
        if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
            tls_files = Some((cert.clone(), key.clone()));
        }
        if let Some((cert, key)) = tls_files {
            match crate::Tls::from_pem_files(&cert, &key) {
                Ok(tls) => server = server.tls(tls),
                Err(e) => return self.fail(format_args!("cannot serve HTTPS: {e}")),
            }
        }
        let host = args
            .host
            .or(host)
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        let port = args.port.or(port).unwrap_or(5000);
        let prefix = common.prefix.clone().or(prefix).unwrap_or_default();
        server = server.prefix(&prefix);
        let settings_dir = args
            .settings
            .clone()
            .or_else(|| config.as_ref().and_then(|c| c.settings_dir.clone()));
        if let Some(dir) = settings_dir {
            server = server.settings_dir(dir);
        }
        if let Some(config) = &config {
            for thing in &config.things {
                for (slot, targets) in &thing.slots {
                    server = server.slot(&thing.name, slot, targets.iter().cloned());
                }
            }
        }
        for registration in things {
            server = match (registration.add)(server).await {
                Ok(server) => server,
                Err(e) => return self.fail(e),
            };
        }
        let started = match server.start().await {
            Ok(started) => started,
            Err(e) => {
                let place = common
                    .config
                    .as_deref()
                    .map(|f| format!("{}: ", f.display()))
                    .unwrap_or_default();
                let problems: Vec<String> =
                    e.problems.iter().map(|p| format!("  {place}{p}")).collect();
                return self.fail(format_args!("cannot start:\n{}", problems.join("\n")));
            }
        };
        let addr = SocketAddr::new(host, port);
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(e) => {
                eprintln!("{}: cannot listen on {addr}: {e}", self.program);
                return ExitCode::FAILURE;
            }
        };
        let local = listener.local_addr().unwrap_or(addr);
        let scheme = if started.serves_tls() {
            "https"
        } else {
            "http"
        };
        let prefix = started.api_prefix().to_owned();
        // A closed standard output (a supervisor that read the first line) does not stop
        // the server: write errors are ignored.
        {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "labthings listening on {scheme}://{local}{prefix}/");
            for name in started.thing_names() {
                let _ = writeln!(out, "  {scheme}://{local}{prefix}/{name}/");
            }
            let _ = out.flush();
        }

        match started
            .serve(listener)
            .with_graceful_shutdown(shutdown_signal())
            .await
        {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{}: serving on {addr} failed: {e}", self.program);
                ExitCode::FAILURE
            }
        }
    }
}

impl App {
    /// Apply a configuration's server settings.
    fn configure(&self, mut server: ThingServer, config: &Config) -> Result<ThingServer, String> {
        if let Some(t) = config.retention_time {
            server = server.retention_time(std::time::Duration::from_secs_f64(t));
        }
        if let Some(n) = config.max_finished_invocations {
            server = server.max_finished_invocations(n);
        }
        if let Some(n) = config.device_threads {
            server = server.device_threads(n);
        }
        for (scope, token) in config.all_tokens()? {
            server = server.token(scope, &token);
        }
        if let Some(id) = &config.server_id {
            server = server.server_id(id);
        }
        if let Some(advertise) = config.advertise {
            server = server.advertise(advertise);
        }
        if let Some(mqtt) = &config.mqtt {
            let mqtt = mqtt
                .to_mqtt()
                .map_err(|e| format!("the `mqtt` table is invalid: {e}"))?;
            server = server.mqtt(mqtt);
        }
        for thing in &config.things {
            if let Some(id) = &thing.id {
                server = server.thing_id(&thing.name, id);
            }
        }
        Ok(server
            .cors_origins(config.cors_origins.iter().cloned())
            .allowed_hosts(config.allowed_hosts.iter().cloned())
            .limits(config.limits.apply(crate::Limits::default())))
    }
}

/// The [`Add`] of a Thing that `made` constructs.
fn adding<T, E, F>(name: &str, made: F) -> Add
where
    T: Thing,
    E: std::fmt::Display,
    F: Future<Output = Result<T, E>> + Send + 'static,
{
    let name = name.to_owned();
    Box::new(move |server: ThingServer| {
        Box::pin(async move {
            match made.await {
                Ok(thing) => Ok(server.thing(&name, thing)),
                Err(e) => Err(format!("Thing '{name}' could not be created: {e}")),
            }
        })
    })
}

/// Construction arguments: absent arguments are `null`, or `{}` for types whose fields all
/// have defaults.
fn parse_args<A: serde::de::DeserializeOwned>(args: Value) -> Result<A, String> {
    let parsed = match serde_json::from_value::<A>(args.clone()) {
        Err(_) if args.is_null() => serde_json::from_value(Value::Object(Default::default())),
        other => other,
    };
    parsed.map_err(|e| format!("invalid arguments: {e}"))
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
