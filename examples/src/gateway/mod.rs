//! `gateway`: several MCP servers (stdio child processes or Streamable HTTP endpoints) behind
//! one, with a merged catalogue, per-role tool permissions, argument limits, rate limits,
//! response redaction, an audit log and a circuit breaker per backend.
//!
//! Run with `cargo run -p mcp-examples --bin gateway -- --config examples/gateway.toml`
//! (stdio; `--http 127.0.0.1:8080` serves Streamable HTTP at `/mcp`, behind bearer-token
//! authentication when the configuration has `[auth]`). The guide is `docs/gateway.md`.
//!
//! [`Config`] is the TOML file; [`run`] mounts every backend (`mcp_core::compose`) on a
//! server wrapped in the [`PolicyLayer`], which is an ordinary `Server::layer` and works over
//! any router:
//!
//! ```
//! use std::sync::Arc;
//! use mcp_examples::gateway::{Backends, Cli, Config, Policies, PolicyLayer};
//!
//! let config = Config::parse("[policy.roles.analyst]\nallow = [\"db.*\"]\n").map_err(std::io::Error::other)?;
//! let cli = Cli::parse(["--config".to_owned(), "gateway.toml".to_owned()])?;
//! let policies = Policies::new(&config, &cli, Backends::default(), false)?;
//! let server = mcp_core::Server::new(mcp_core::Router::new()).layer(PolicyLayer(Arc::new(policies)));
//! # let _ = server;
//! # Ok::<(), std::io::Error>(())
//! ```

mod config;
mod policy;

pub use config::{Cli, Config};
pub use policy::{Backends, Policies, PolicyLayer, PolicyService};

use std::io;
use std::sync::Arc;
use std::time::Duration;

use mcp_core::compose::{BreakerConfig, Mount, Mounted, UriMapping};
use mcp_core::protocol::Implementation;
use mcp_core::{Router, Server};
use mcp_transport::client::{
    ChildProcess, Client, ClientConfig, EraPreference, HttpTransport, Transport,
};

use self::config::{Auth, Backend, EraMode, UriMode};

fn transport(b: &Backend) -> io::Result<Transport> {
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidInput, m);
    if let Some(command) = &b.command {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| bad(format!("backend {:?}: empty command", b.name)))?;
        let mut child = ChildProcess::new(program).args(args);
        for (k, v) in &b.env {
            child = child.env(k, v);
        }
        if let Some(dir) = &b.cwd {
            child = child.current_dir(dir);
        }
        return Ok(child.into());
    }
    let url = b
        .url
        .as_ref()
        .ok_or_else(|| bad(format!("backend {:?}: no command and no url", b.name)))?;
    let mut http = HttpTransport::new(url);
    for (k, v) in &b.headers {
        http = http.header(k, v);
    }
    if let Some(var) = &b.bearer_token_env {
        let token = std::env::var(var).map_err(|_| {
            bad(format!(
                "backend {:?}: the environment variable {var} (bearer_token_env) is not set",
                b.name
            ))
        })?;
        http = http.bearer_token(token);
    }
    Ok(http.into())
}

fn mount_for(b: &Backend, config: &Config) -> Mount {
    let breaker = BreakerConfig::default()
        .failure_threshold(config.breaker.failure_threshold)
        .cooldown(Duration::from_millis(config.breaker.cooldown_ms));
    Mount::new(b.name.clone())
        .prefix(b.prefix.clone().unwrap_or_default())
        .uris(match b.uris {
            UriMode::Verbatim => UriMapping::Verbatim,
            UriMode::SchemePrefix => UriMapping::SchemePrefix,
        })
        .scopes(b.scopes.clone())
        .breaker(breaker)
}

/// Connects every backend and mounts it; waits (bounded) for the first catalogues.
async fn mount_all(config: &Config, server: &Server) -> io::Result<Vec<Arc<Mounted>>> {
    let mut mounted = Vec::new();
    for b in &config.backends {
        let client_config = ClientConfig::default()
            .client_info(Implementation::new(
                config.gateway.name.clone(),
                env!("CARGO_PKG_VERSION"),
            ))
            .era(match b.era {
                EraMode::Auto => EraPreference::Auto,
                EraMode::Handshake => EraPreference::Handshake,
                EraMode::Modern => EraPreference::Modern,
            })
            .request_timeout(Duration::from_millis(b.timeout_ms.max(1)))
            .reconnect_delay(Duration::from_millis(config.breaker.cooldown_ms.min(1000)))
            .watch_changes(true);
        let client = Client::lazy(transport(b)?, client_config).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("backend {:?}: {e}", b.name),
            )
        })?;
        let m = mount_for(b, config).attach(Arc::new(client), &server.handle());
        mounted.push(Arc::new(m));
    }
    let limit = Duration::from_millis(config.gateway.startup_timeout_ms);
    let mut first = tokio::task::JoinSet::new();
    for m in &mounted {
        let m = m.clone();
        first.spawn(async move {
            let name = m.mount().name().to_owned();
            match tokio::time::timeout(limit, m.refresh()).await {
                Ok(Ok(())) => eprintln!("gateway: backend {name}: {} tools", m.tool_names().len()),
                Ok(Err(e)) => eprintln!("gateway: backend {name} is not available yet ({e}); its tools appear when it is"),
                Err(_) => eprintln!("gateway: backend {name} did not answer within {limit:?}; its tools appear when it does"),
            }
        });
    }
    while first.join_next().await.is_some() {}
    Ok(mounted)
}

/// The bearer-token layer for `[auth]`: JWTs checked against the issuer's keys; the scopes
/// backends require are checked early (HTTP 403) against the server's tools.
fn bearer_layer(auth: &Auth, server: &Server) -> io::Result<mcp_transport::auth::BearerAuthLayer> {
    use mcp_transport::auth::{AuthConfig, BearerAuthLayer};
    let mut c = AuthConfig::new(&auth.resource)
        .jwks_url(&auth.jwks_url)
        .scopes_supported(auth.scopes_supported.iter().cloned())
        .resource_name("MCP gateway");
    for a in &auth.authorization_servers {
        c = c.authorization_server(a);
    }
    if let Some(i) = &auth.issuer {
        c = c.with_issuer(i);
    }
    if let Some(a) = &auth.audience {
        c = c.with_audience(a);
    }
    let layer = BearerAuthLayer::jwt(c)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("[auth]: {e}")))?;
    Ok(layer.scope_policy(server.clone()))
}

/// The whole gateway: loads the configuration, mounts the backends and serves on stdio or, with
/// `--http`, Streamable HTTP (behind bearer tokens when the configuration has `[auth]`), until
/// the input ends or ctrl-c/SIGTERM.
pub async fn run(cli: Cli) -> io::Result<()> {
    let config = Config::load(&cli.config)?;
    let authenticated = config.auth.is_some() && cli.http.is_some();
    if config.auth.is_some() && !authenticated {
        eprintln!("gateway: [auth] applies to --http; over stdio the caller is [identity]");
    }
    let mut router = Router::new().server_info(Implementation::new(
        config.gateway.name.clone(),
        env!("CARGO_PKG_VERSION"),
    ));
    if let Some(text) = &config.gateway.instructions {
        router = router.instructions(text.clone());
    }
    // The policy layer needs the mounts (which backend a tool belongs to, who serves a
    // resource), and the mounts are made from the server the layer wraps: filled in later.
    let backends = Backends::default();
    let policies = Arc::new(Policies::new(
        &config,
        &cli,
        backends.clone(),
        authenticated,
    )?);
    let server = Server::new(router).layer(PolicyLayer(policies));
    // A bad [auth] stops the gateway before any backend is started.
    let bearer = match (&config.auth, authenticated) {
        (Some(auth), true) => Some((auth, bearer_layer(auth, &server)?)),
        _ => None,
    };
    backends.set(mount_all(&config, &server).await?);

    let Some(addr) = cli.http else {
        return mcp_transport::stdio::serve_server(server).await;
    };
    use mcp_transport::http::{serve_with, shutdown_signal, Allowlist, HttpConfig, McpService};
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let mut http = HttpConfig::default();
    if !bound.ip().is_loopback() {
        http = http.allow(Allowlist::with_hosts([bound.ip().to_string()]));
    }
    let Some((auth, layer)) = bearer else {
        eprintln!("listening on http://{bound}/mcp");
        return serve_with(McpService::new(server, http), listener, shutdown_signal()).await;
    };
    // Behind the bearer layer: it answers 401/403, serves the RFC 9728 metadata, removes the
    // token (backends never see it) and hands the caller's identity to the runtime, where the
    // policy layer reads its roles.
    use mcp_transport::auth::Layer as _;
    let mcp = McpService::new(server, http);
    let app = axum::Router::new().fallback_service(layer.layer(mcp.clone()));
    eprintln!(
        "gateway: bearer tokens required (resource {}, metadata at {})",
        auth.resource,
        layer.resource_metadata_url()
    );
    eprintln!("listening on http://{bound}/mcp");
    crate::serve_axum(listener, app, mcp).await
}
