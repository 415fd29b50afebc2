//! The example servers of the SDK, as a library: each binary in `src/bin/` is a thin `main`
//! over one module here, so the tests drive the very same servers in process with
//! `mcp-testing` (`examples/tests/*_inprocess.rs`) as well as over stdio and HTTP.
//!
//! | Module | Binary | What it shows |
//! |---|---|---|
//! | (`src/bin/hello.rs` itself) | `hello` | the README's quick start: two tools with the macros |
//! | [`conformance`] | `conformance-server` | every fixture of the official conformance suite |
//! | [`postgres`] | `postgres-server` | a real server: PostgreSQL with least privilege, confirmed writes |
//! | [`axum_mount`] | `axum-mount` | the MCP endpoint mounted in an axum app |
//! | [`oauth`] | `oauth-server` | an OAuth 2.1 resource server with scoped tools |
//! | [`gateway`] | `gateway` | several servers behind one, with policies per role |
//! | [`audit`] | `audit-verify` | checking the hash chain of an audit log |
//!
//! Shared by all of them: the command line ([`Cli`]), logging ([`init_tracing`]) and serving
//! ([`run`], [`serve`], [`serve_http`]).

pub mod audit;
#[cfg(feature = "axum")]
pub mod axum_mount;
pub mod conformance;
#[cfg(feature = "gateway")]
pub mod gateway;
#[cfg(feature = "oauth")]
pub mod oauth;
#[cfg(feature = "postgres")]
pub mod postgres;

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

const USAGE: &str = "usage: <server> [--stdio | --http ADDR [--stateless] [--json] [scale-out options]]\n\n  --stdio      serve on stdin/stdout (default)\n  --http ADDR  serve Streamable HTTP on ADDR, e.g. 127.0.0.1:8080, at /mcp\n  --stateless  (HTTP) handshake era without sessions\n  --json       (HTTP) answer with plain JSON, never SSE\n\nscale-out (HTTP; several instances behind a load balancer, see docs/deployment.md):\n  --redis URL         keep sessions, SSE events and tasks in Redis and relay between instances\n  --redis-prefix NS   namespace of the Redis keys (default mcp)\n  --state-key SECRET  seal requestState and cursors with this secret, the same on every\n                      instance (default: $MCP_STATE_KEY, else a random key per process)\n  --rate-limit N      at most N requests per second per client (in Redis with --redis)\n  --allow-host NAME   also accept this Host/Origin name (repeatable), e.g. the balancer's";

/// HTTP options given on the command line (`--stateless`, `--json`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpFlags {
    /// `--stateless`: no sessions in the handshake era.
    pub stateless: bool,
    /// `--json`: JSON responses only.
    pub json: bool,
}

static HTTP_FLAGS: std::sync::OnceLock<HttpFlags> = std::sync::OnceLock::new();

/// Scale-out options given on the command line (`--redis`, `--state-key`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScaleOutFlags {
    /// `--redis URL`: Redis stores and relay.
    pub redis: Option<String>,
    /// `--redis-prefix NS`: the key namespace.
    pub redis_prefix: Option<String>,
    /// `--state-key SECRET` (or `$MCP_STATE_KEY`): the sealing secret shared by the instances.
    pub state_key: Option<String>,
    /// `--rate-limit N`: requests per second per client.
    pub rate_limit: Option<u32>,
    /// `--allow-host NAME`: more accepted Host/Origin names.
    pub allow_hosts: Vec<String>,
}

static SCALE_OUT_FLAGS: std::sync::OnceLock<ScaleOutFlags> = std::sync::OnceLock::new();

/// The scale-out flags of the last [`Cli::parse`].
pub fn scale_out_flags() -> ScaleOutFlags {
    SCALE_OUT_FLAGS.get().cloned().unwrap_or_default()
}

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
        let mut scale = ScaleOutFlags {
            state_key: std::env::var("MCP_STATE_KEY")
                .ok()
                .filter(|k| !k.is_empty()),
            ..ScaleOutFlags::default()
        };
        while let Some(arg) = args.next() {
            let mut value = |what: &str| {
                args.next()
                    .ok_or_else(|| bad(&format!("{arg} needs {what}")))
            };
            match arg.as_str() {
                "--stdio" => cli = Cli::Stdio,
                "--stateless" => flags.stateless = true,
                "--json" => flags.json = true,
                "--redis" => scale.redis = Some(value("a URL, e.g. redis://127.0.0.1:6379")?),
                "--redis-prefix" => scale.redis_prefix = Some(value("a namespace")?),
                "--state-key" => scale.state_key = Some(value("a secret")?),
                "--allow-host" => scale.allow_hosts.push(value("a host name")?),
                "--rate-limit" => {
                    let n = value("a number of requests per second")?;
                    scale.rate_limit =
                        Some(n.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                            bad(&format!("--rate-limit needs a positive number, not {n:?}"))
                        })?);
                }
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
        let _ = SCALE_OUT_FLAGS.set(scale);
        Ok(cli)
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("{msg}\n{USAGE}"))
}

/// Logs to stderr (stdout belongs to the protocol), filtered by `RUST_LOG` (default `warn`):
/// per-target directives with the `env-filter` feature (on by default), a level otherwise.
pub fn init_tracing() {
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr);
    #[cfg(feature = "env-filter")]
    let builder = builder.with_env_filter(
        tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
    );
    #[cfg(not(feature = "env-filter"))]
    let builder = builder.with_max_level(
        std::env::var("RUST_LOG")
            .ok()
            .and_then(|level| level.trim().parse::<tracing::Level>().ok())
            .unwrap_or(tracing::Level::WARN),
    );
    let _ = builder.try_init();
}

/// Serves Streamable HTTP at `http://ADDR/mcp` until ctrl-c or SIGTERM.
///
/// Port 0 picks a free port; the address actually bound is printed on stderr as
/// `listening on http://ADDR/mcp`.
pub async fn serve_http(router: mcp_core::Router, addr: SocketAddr) -> io::Result<()> {
    use mcp_core::layers::{Quota, RateLimitLayer};
    use mcp_transport::http::{serve_with, shutdown_signal, Allowlist, HttpConfig, McpService};
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let flags = http_flags();
    let scale = scale_out_flags();
    let mut config = HttpConfig::default()
        .stateless(flags.stateless)
        .json_response(flags.json);
    let mut hosts = scale.allow_hosts.clone();
    if !bound.ip().is_loopback() {
        hosts.push(bound.ip().to_string());
    }
    if !hosts.is_empty() {
        config = config.allow(Allowlist::with_hosts(hosts));
    }
    let mut server = mcp_core::Server::new(router);
    if let Some(secret) = &scale.state_key {
        server = server.with_state_key(secret.as_bytes());
    }
    #[cfg(feature = "scale-out")]
    let redis = match &scale.redis {
        Some(url) => {
            let mut rc = mcp_transport::redis::RedisConfig::new(url.as_str());
            if let Some(prefix) = &scale.redis_prefix {
                rc = rc.prefix(prefix.as_str());
            }
            let redis = mcp_transport::redis::Redis::new(rc).map_err(|e| bad(&e.to_string()))?;
            if scale.state_key.is_none() {
                tracing::warn!("--redis without --state-key: requestState and cursors sealed by one instance are refused by the others");
            }
            config = redis.http_config(config);
            server = server.with_task_store(std::sync::Arc::new(redis.task_store()));
            Some(redis)
        }
        None => None,
    };
    #[cfg(not(feature = "scale-out"))]
    if scale.redis.is_some() {
        return Err(bad(
            "--redis: this build has no Redis support (build with the `scale-out` feature)",
        ));
    }
    if let Some(n) = scale.rate_limit {
        #[cfg(feature = "scale-out")]
        let layer = match &redis {
            Some(r) => RateLimitLayer::with_backend(std::sync::Arc::new(r.rate_limit_backend())),
            None => RateLimitLayer::new(),
        };
        #[cfg(not(feature = "scale-out"))]
        let layer = RateLimitLayer::new();
        server = server.layer(layer.per_client(Quota::per_second(n)));
    }
    eprintln!("listening on http://{bound}/mcp");
    let service = McpService::new(server, config);
    serve_with(service, listener, shutdown_signal()).await
}

/// Serves an axum `app` that carries the MCP service `mcp` until ctrl-c or SIGTERM, with
/// TCP_NODELAY on every connection. At shutdown the service's idle streams (GET,
/// `subscriptions/listen`) are ended, since they never end on their own and axum waits for
/// them, while calls in flight go on to their answers.
///
/// # Examples
/// ```no_run
/// use mcp_core::{Router, Server};
/// use mcp_transport::http::{HttpConfig, McpService};
///
/// # async fn run() -> std::io::Result<()> {
/// let mcp = McpService::new(Server::new(Router::new()), HttpConfig::default());
/// let app = axum::Router::new().route_service("/mcp", mcp.clone());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// mcp_examples::serve_axum(listener, app, mcp).await
/// # }
/// ```
#[cfg(feature = "axum")]
pub async fn serve_axum(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mcp: mcp_transport::http::McpService,
) -> io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(%e, "could not set TCP_NODELAY");
        }
    });
    let stopping = mcp.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            mcp_transport::http::shutdown_signal().await;
            stopping.shutdown();
        })
        .await?;
    mcp.close();
    Ok(())
}

/// The whole `main` of an example server: logs to stderr, then serves `router` as the command
/// line asks (stdio by default, `--http ADDR` for Streamable HTTP) on a new Tokio runtime.
pub fn run(router: mcp_core::Router) -> io::Result<()> {
    init_tracing();
    let cli = Cli::parse()?;
    tokio::runtime::Runtime::new()?.block_on(serve(router, cli))
}

/// Serves `router` as `cli` says: on stdin/stdout, or Streamable HTTP with [`serve_http`].
pub async fn serve(router: mcp_core::Router, cli: Cli) -> io::Result<()> {
    match cli {
        Cli::Stdio => mcp_transport::stdio::serve(router).await,
        Cli::Http(addr) => serve_http(router, addr).await,
    }
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
