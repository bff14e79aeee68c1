//! A command line for programs that publish Things: `serve` (default) and `td`.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::server::ThingServer;
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
///   Thing.
///
/// Without `--config`, the Things added with [`thing`](Self::thing) are published. With it,
/// the file (see [`crate::config`]) says which of the types registered with
/// [`thing_type`](Self::thing_type) to create, under which names and with which arguments.
pub struct App {
    program: String,
    things: Vec<Registration>,
    types: Vec<ThingType>,
}

struct Registration {
    name: String,
    td: fn(&TdOptions) -> Value,
    add: Box<dyn FnOnce(ThingServer) -> ThingServer>,
}

type Construct =
    Box<dyn Fn(&str, Value) -> Result<Box<dyn FnOnce(ThingServer) -> ThingServer>, String>>;

struct ThingType {
    name: String,
    td: fn(&TdOptions) -> Value,
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
            .finish()
    }
}

#[derive(Debug, Parser)]
#[command(about = "Publish Things over HTTP and WebSocket")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the Things (the default).
    Serve(ServeArgs),
    /// Print Thing Descriptions and exit.
    Td(TdArgs),
}

#[derive(Debug, Args, Clone)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1, or the configuration's `host`].
    #[arg(long)]
    host: Option<IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 5000, or the configuration's `port`].
    #[arg(long)]
    port: Option<u16>,
    /// Serve every route under this path prefix, e.g. /api/v3.
    #[arg(long)]
    prefix: Option<String>,
    /// A configuration file (JSON, or TOML when named *.toml).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
struct TdArgs {
    /// Print only the TD of this Thing.
    name: Option<String>,
    /// The base URL to put in the TDs.
    #[arg(long)]
    base: Option<String>,
    /// The path prefix of the routes.
    #[arg(long, default_value = "")]
    prefix: String,
    /// A configuration file: print the TDs of the Things it names.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
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
        make: impl Fn(A) -> Result<T, E> + 'static,
    ) -> Self
    where
        T: Thing,
        A: serde::de::DeserializeOwned,
        E: std::fmt::Display,
    {
        let make = std::rc::Rc::new(make);
        self.types.push(ThingType {
            name: type_name.to_owned(),
            td: T::thing_description,
            construct: Box::new(move |name: &str, args: Value| {
                // Absent arguments are `null`, or `{}` for types with all-default fields.
                let parsed = match serde_json::from_value::<A>(args.clone()) {
                    Err(_) if args.is_null() => {
                        serde_json::from_value(Value::Object(Default::default()))
                    }
                    other => other,
                };
                let args = parsed.map_err(|e| format!("invalid arguments: {e}"))?;
                let thing = make(args).map_err(|e| format!("could not be created: {e}"))?;
                let name = name.to_owned();
                Ok(
                    Box::new(move |server: ThingServer| server.thing(&name, thing))
                        as Box<dyn FnOnce(ThingServer) -> ThingServer>,
                )
            }),
        });
        self
    }

    /// Publish the Thing that `make` creates under `name`. `make` runs only when serving.
    pub fn thing<T: Thing>(mut self, name: &str, make: impl FnOnce() -> T + 'static) -> Self {
        self.things.push(Registration {
            name: name.to_owned(),
            td: T::thing_description,
            add: Box::new({
                let name = name.to_owned();
                move |server: ThingServer| server.thing(&name, make())
            }),
        });
        self
    }

    /// Parse the process's arguments and run.
    pub fn run(self) -> ExitCode {
        self.run_with(std::env::args_os())
    }

    /// Run with the given arguments (the first is the program name).
    pub fn run_with<I, A>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = A>,
        A: Into<std::ffi::OsString> + Clone,
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
            Some(Command::Td(args)) => self.print_td(&args),
            Some(Command::Serve(args)) => self.serve(args),
            None => self.serve(cli.serve),
        }
    }

    /// The Things of a configuration file: name, TD function, and how to add it to a server.
    #[allow(clippy::type_complexity)]
    fn configured(
        &self,
        config: &crate::config::Config,
        file: &std::path::Path,
    ) -> Result<Vec<Registration>, crate::config::ConfigError> {
        config
            .things
            .iter()
            .map(|t| {
                let error = |key: String, problem: String| crate::config::ConfigError {
                    file: file.to_owned(),
                    key,
                    problem,
                };
                let ty = self
                    .types
                    .iter()
                    .find(|ty| ty.name == t.type_name)
                    .ok_or_else(|| {
                        let known: Vec<&str> = self.types.iter().map(|t| t.name.as_str()).collect();
                        error(
                            format!("things.{}.type", t.name),
                            format!(
                                "no Thing type is called '{}'; this program has: {}",
                                t.type_name,
                                known.join(", ")
                            ),
                        )
                    })?;
                let add = (ty.construct)(&t.name, t.args.clone())
                    .map_err(|p| error(format!("things.{}.args", t.name), p))?;
                Ok(Registration {
                    name: t.name.clone(),
                    td: ty.td,
                    add,
                })
            })
            .collect()
    }

    fn load(
        &self,
        file: &std::path::Path,
    ) -> Result<(crate::config::Config, Vec<Registration>), ExitCode> {
        let result = crate::config::Config::load(file).and_then(|config| {
            self.configured(&config, file)
                .map(|things| (config, things))
        });
        result.map_err(|e| {
            eprintln!("{}: invalid configuration: {e}", self.program);
            ExitCode::from(2)
        })
    }

    fn print_td(mut self, args: &TdArgs) -> ExitCode {
        if let Some(file) = &args.config {
            match self.load(file) {
                Ok((_, things)) => self.things = things,
                Err(code) => return code,
            }
        }
        let options = |name: &str| {
            let o = TdOptions::new(&args.prefix, name);
            match &args.base {
                Some(base) => o.with_base(base.clone()),
                None => o,
            }
        };
        let out = match &args.name {
            Some(name) => match self.things.iter().find(|t| &t.name == name) {
                Some(t) => (t.td)(&options(name)),
                None => {
                    eprintln!(
                        "{}: no Thing is called '{name}'; the Things are: {}",
                        self.program,
                        self.names()
                    );
                    return ExitCode::from(2);
                }
            },
            None => Value::Object(
                self.things
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

    fn names(&self) -> String {
        self.things
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn serve(mut self, args: ServeArgs) -> ExitCode {
        let mut server = ThingServer::new();
        let (mut host, mut port, mut prefix) = (None, None, None);
        if let Some(file) = &args.config {
            match self.load(file) {
                Ok((config, things)) => {
                    self.things = things;
                    if let Some(cors) = config.cors {
                        server = server.cors(cors);
                    }
                    if let Some(t) = config.retention_time {
                        server = server.retention_time(std::time::Duration::from_secs_f64(t));
                    }
                    if let Some(n) = config.max_finished_invocations {
                        server = server.max_finished_invocations(n);
                    }
                    (host, port, prefix) = (config.host, config.port, config.prefix);
                }
                Err(code) => return code,
            }
        }
        let host = args
            .host
            .or(host)
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        let port = args.port.or(port).unwrap_or(5000);
        let prefix = args.prefix.or(prefix).unwrap_or_default();
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{}: cannot start the runtime: {e}", self.program);
                return ExitCode::FAILURE;
            }
        };
        let program = self.program.clone();
        server = server.prefix(&prefix);
        for registration in self.things {
            server = (registration.add)(server);
        }
        let addr = SocketAddr::new(host, port);
        match runtime.block_on(server.serve(addr)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: cannot serve on {addr}: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
