//! An MCP gateway: several MCP servers behind one, with per-role permissions, limits,
//! redaction, an audit log and a circuit breaker per backend (`mcp_examples::gateway`).
//!
//! Run with `cargo run -p mcp-examples --bin gateway -- --config examples/gateway.toml`
//! (stdio; `--http 127.0.0.1:8080` serves Streamable HTTP at `/mcp`). The guide is
//! `docs/gateway.md`.

use mcp_examples::gateway::{self, Cli};

#[tokio::main]
async fn main() {
    mcp_examples::init_tracing();
    let served = match Cli::parse(std::env::args().skip(1)) {
        Ok(cli) => gateway::run(cli).await,
        Err(e) => Err(e),
    };
    if let Err(e) = served {
        eprintln!("gateway: {e}");
        std::process::exit(2);
    }
}
