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
/// - `PROGRAM [serve] [--host 127.0.0.1] [--port 5000] [--prefix /api]` serves every Thing
///   and prints the URL it listens on (`--port 0` picks a free port).
/// - `PROGRAM td [NAME] [--base URL] [--prefix /api]` prints `{"name": <TD>, …}`, or the bare
///   TD of Thing `NAME`, and exits without creating any Thing.
pub struct App {
    program: String,
    things: Vec<Registration>,
}

struct Registration {
    name: String,
    td: fn(&TdOptions) -> Value,
    add: Box<dyn FnOnce(ThingServer) -> ThingServer>,
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
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 5000)]
    port: u16,
    /// Serve every route under this path prefix, e.g. /api/v3.
    #[arg(long, default_value = "")]
    prefix: String,
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
}

impl App {
    /// A program called `program` (for messages).
    pub fn new(program: &str) -> Self {
        Self {
            program: program.to_owned(),
            things: Vec::new(),
        }
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

    fn print_td(&self, args: &TdArgs) -> ExitCode {
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

    fn serve(self, args: ServeArgs) -> ExitCode {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{}: cannot start the runtime: {e}", self.program);
                return ExitCode::FAILURE;
            }
        };
        let program = self.program.clone();
        let mut server = ThingServer::new().prefix(&args.prefix);
        for registration in self.things {
            server = (registration.add)(server);
        }
        let addr = SocketAddr::new(args.host, args.port);
        match runtime.block_on(server.serve(addr)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{program}: cannot serve on {addr}: {e}");
                ExitCode::FAILURE
            }
        }
    }
}
