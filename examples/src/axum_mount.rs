//! `axum-mount`: the MCP endpoint mounted inside an axum app, next to ordinary routes.
//!
//! Run with `cargo run -p mcp-examples --bin axum-mount -- --http 127.0.0.1:3000`, then point
//! an MCP client at `http://127.0.0.1:3000/mcp`; `GET /health` answers `ok`. ctrl-c or SIGTERM
//! shuts down gracefully: idle MCP streams end at once, calls in flight finish.
//!
//! `McpService` is a tower `Service`, so `Router::route_service` mounts it like any other.
//! Everything MCP-specific (sessions, SSE, Host/Origin checks, body limits) travels with the
//! service. What `mcp_transport::http::serve_with` adds on its own sockets — a deadline for
//! request headers, TCP_NODELAY — is up to the server you mount it in; this example sets
//! TCP_NODELAY through axum.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use axum::routing::get;
use mcp_core::{Args, Router, Server, ToolDef, ToolError};
use mcp_transport::http::{HttpConfig, McpService};

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Add {
    /// The first addend.
    a: i64,
    /// The second addend.
    b: i64,
}

async fn add(Args(Add { a, b }): Args<Add>) -> Result<String, ToolError> {
    a.checked_add(b)
        .map(|s| s.to_string())
        .ok_or_else(|| ToolError::new("the sum overflows a 64-bit integer"))
}

/// The MCP side of the app: one `add` tool.
pub fn mcp_router() -> Router {
    Router::new()
        .tool(
            ToolDef::new("add", add)
                .description("Adds two integers")
                .read_only(true),
        )
        .server_info(mcp_core::crate_info!())
}

/// The whole app: MCP at `/mcp`, plus the routes the app had anyway.
///
/// ```
/// use mcp_examples::axum_mount::{app, mcp_router};
/// use mcp_transport::http::{HttpConfig, McpService};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let mcp = McpService::new(mcp_core::Server::new(mcp_router()), HttpConfig::default());
/// let app: axum::Router = app(mcp);
/// # let _ = app;
/// # }
/// ```
pub fn app(mcp: McpService) -> axum::Router {
    axum::Router::new()
        .route("/health", get(|| async { "ok" }))
        .route_service("/mcp", mcp)
}

/// Where the app listens when no `--http ADDR` is given.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// Serves [`app`] on `addr` until ctrl-c or SIGTERM, then shuts down gracefully.
pub async fn serve(addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    // Bound to loopback, the default Host/Origin allowlist (loopback names) is right.
    let mcp = McpService::new(Server::new(mcp_router()), HttpConfig::default());
    eprintln!("listening on http://{bound}/mcp");
    crate::serve_axum(listener, app(mcp.clone()), mcp).await
}
