//! Shared plumbing of the example servers: the command line and logging setup.

use std::io;
use std::net::SocketAddr;

/// How an example server was asked to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cli {
    /// Newline-delimited JSON-RPC on stdin/stdout (the default).
    Stdio,
    /// Streamable HTTP at `http://ADDR/mcp`.
    Http(SocketAddr),
}

const USAGE: &str = "usage: <server> [--stdio | --http ADDR [--stateless] [--json]]\n\n  --stdio      serve on stdin/stdout (default)\n  --http ADDR  serve Streamable HTTP on ADDR, e.g. 127.0.0.1:8080, at /mcp\n  --stateless  (HTTP) handshake era without sessions\n  --json       (HTTP) answer with plain JSON, never SSE";

/// HTTP options given on the command line (`--stateless`, `--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpFlags {
    /// `--stateless`: no sessions in the handshake era.
    pub stateless: bool,
    /// `--json`: JSON responses only.
    pub json: bool,
}

static HTTP_FLAGS: std::sync::OnceLock<HttpFlags> = std::sync::OnceLock::new();

/// The HTTP flags of the last [`Cli::parse`].
pub fn http_flags() -> HttpFlags {
    HTTP_FLAGS.get().copied().unwrap_or_default()
}

impl Cli {
    /// Parses `std::env::args`.
    pub fn parse() -> io::Result<Cli> {
        Self::parse_from(std::env::args().skip(1))
    }

    /// Parses the given arguments (without the program name).
    pub fn parse_from(args: impl IntoIterator<Item = String>) -> io::Result<Cli> {
        let mut args = args.into_iter();
        let mut cli = Cli::Stdio;
        let mut flags = HttpFlags::default();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--stdio" => cli = Cli::Stdio,
                "--stateless" => flags.stateless = true,
                "--json" => flags.json = true,
                "--http" => {
                    let addr = args
                        .next()
                        .ok_or_else(|| bad("--http needs an address, e.g. 127.0.0.1:8080"))?;
                    cli = Cli::Http(
                        addr.parse()
                            .map_err(|e| bad(&format!("bad address {addr:?}: {e}")))?,
                    );
                }
                "-h" | "--help" => {
                    eprintln!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(bad(&format!("unknown argument {other:?}"))),
            }
        }
        let _ = HTTP_FLAGS.set(flags);
        Ok(cli)
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n{USAGE}"))
}

/// Logs to stderr (stdout belongs to the protocol), filtered by `RUST_LOG` (default `warn`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr)
        .try_init();
}

/// Serves Streamable HTTP at `http://ADDR/mcp` until ctrl-c or SIGTERM.
///
/// Port 0 picks a free port; the address actually bound is printed on stderr as
/// `listening on http://ADDR/mcp`.
pub async fn serve_http(router: mcp_core::Router, addr: SocketAddr) -> io::Result<()> {
    use mcp_transport::http::{serve_with, shutdown_signal, Allowlist, HttpConfig, McpService};
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let flags = http_flags();
    let mut config = HttpConfig::default()
        .stateless(flags.stateless)
        .json_response(flags.json);
    if !bound.ip().is_loopback() {
        config = config.allow(Allowlist::with_hosts([bound.ip().to_string()]));
    }
    eprintln!("listening on http://{bound}/mcp");
    let service = McpService::new(mcp_core::Server::new(router), config);
    serve_with(service, listener, shutdown_signal()).await
}

/// The whole `main` of an example server: logs to stderr, then serves `router` as the command
/// line asks (stdio by default, `--http ADDR` for Streamable HTTP) on a new Tokio runtime.
pub fn run(router: mcp_core::Router) -> io::Result<()> {
    init_tracing();
    let cli = Cli::parse()?;
    tokio::runtime::Runtime::new()?.block_on(async move {
        match cli {
            Cli::Stdio => mcp_transport::stdio::serve(router).await,
            Cli::Http(addr) => serve_http(router, addr).await,
        }
    })
}

/// The book's code blocks (docs/*.md) and the README, compiled and run as doctests.
#[cfg(doctest)]
mod book {
    #[doc = include_str!("../../README.md")]
    struct Readme;
    #[doc = include_str!("../../docs/getting-started.md")]
    struct GettingStarted;
    #[doc = include_str!("../../docs/tools.md")]
    struct Tools;
    #[doc = include_str!("../../docs/resources-and-prompts.md")]
    struct ResourcesAndPrompts;
    #[doc = include_str!("../../docs/context.md")]
    struct Context;
    #[doc = include_str!("../../docs/transports.md")]
    struct Transports;
    #[doc = include_str!("../../docs/testing.md")]
    struct Testing;
    #[doc = include_str!("../../docs/tasks.md")]
    struct Tasks;
    #[doc = include_str!("../../docs/security.md")]
    struct Security;
    #[doc = include_str!("../../docs/operations.md")]
    struct Operations;
    #[doc = include_str!("../../docs/postgres.md")]
    struct Postgres;
    #[doc = include_str!("../../docs/gateway.md")]
    struct Gateway;
    #[doc = include_str!("../../docs/clients.md")]
    struct Clients;
    #[doc = include_str!("../../docs/migrating-from-rmcp.md")]
    struct MigratingFromRmcp;
}
