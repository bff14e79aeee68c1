//! A command line for programs that publish Things: `serve` (default) and `td`.

mod args;
mod register;
mod serve;
mod td;

use std::ffi::OsString;
use std::future::Future;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use serde_json::Value;

use crate::config::{Config, ConfigError};
use crate::model::thing::Thing;
use crate::server::ThingServer;
use args::{Cli, Command};
use register::{Add, Registration, ThingType, adding, parse_args};

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

    /// Publish a Thing that Rust code also holds (to run its own loops, say), as
    /// [`ThingServer::shared_thing`] does.
    pub fn shared_thing<T: Thing>(mut self, name: &str, thing: Arc<T>) -> Self {
        let owned = name.to_owned();
        self.things.push(Registration {
            name: owned.clone(),
            td: T::thing_description,
            add: Box::new(move |server| {
                Box::pin(async move { Ok(server.shared_thing(&owned, thing)) })
            }),
        });
        self
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
}
