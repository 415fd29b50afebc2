//! The MCP endpoint mounted inside an axum app, next to ordinary routes
//! (`mcp_examples::axum_mount`).
//!
//! Run with `cargo run -p mcp-examples --bin axum-mount -- --http 127.0.0.1:3000`, then point
//! an MCP client at `http://127.0.0.1:3000/mcp`; `GET /health` answers `ok`.

use mcp_examples::{axum_mount, Cli};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    let addr = match Cli::parse()? {
        Cli::Http(addr) => addr,
        Cli::Stdio => axum_mount::DEFAULT_ADDR,
    };
    axum_mount::serve(addr).await
}
