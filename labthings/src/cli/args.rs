//! The command line's arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(about = "Publish Things over HTTP and WebSocket")]
pub(super) struct Cli {
    #[command(subcommand)]
    pub(super) command: Option<Command>,
    #[command(flatten)]
    pub(super) common: CommonArgs,
    #[command(flatten)]
    pub(super) serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Serve the Things (the default).
    Serve,
    /// Print Thing Descriptions and exit, without creating any Thing.
    Td(TdArgs),
}

/// Options that mean the same wherever they stand.
#[derive(Debug, Args, Clone)]
pub(super) struct CommonArgs {
    /// A configuration file (JSON, or TOML when named *.toml).
    #[arg(long, global = true)]
    pub(super) config: Option<PathBuf>,
    /// Serve every route under this path prefix, e.g. /api/v3.
    #[arg(long, global = true)]
    pub(super) prefix: Option<String>,
}

/// Options of serving; accepted anywhere, refused with `td`.
#[derive(Debug, Args, Clone, Default)]
pub(super) struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1, or the configuration's `host`].
    #[arg(long, global = true)]
    pub(super) host: Option<IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 5000, or the configuration's `port`].
    #[arg(long, global = true)]
    pub(super) port: Option<u16>,
    /// Serve HTTPS with this certificate chain (PEM) [default: the configuration's `tls`].
    #[arg(long, global = true, requires = "tls_key")]
    pub(super) tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, global = true, requires = "tls_cert")]
    pub(super) tls_key: Option<PathBuf>,
    /// Keep settings in this directory [default: ./settings, or the configuration's
    /// `settings_dir`].
    #[arg(long, global = true)]
    pub(super) settings: Option<PathBuf>,
}

impl ServeArgs {
    /// The options given, by name.
    pub(super) fn given(&self) -> Vec<&'static str> {
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
pub(super) struct TdArgs {
    /// Print only the TD of this Thing.
    pub(super) name: Option<String>,
    /// The base URL to put in the TDs.
    #[arg(long)]
    pub(super) base: Option<String>,
}
