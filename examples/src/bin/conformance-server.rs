//! The server the official MCP conformance suite tests against: every fixture it calls, in both
//! protocol eras.
//!
//! Run with `cargo run -p mcp-examples --bin conformance-server` (stdio) or
//! `--http 127.0.0.1:3000` (Streamable HTTP at `/mcp`).

mod fixtures;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    mcp_examples::init_tracing();
    let router = fixtures::router();
    match mcp_examples::Cli::parse()? {
        mcp_examples::Cli::Stdio => mcp_transport::stdio::serve(router).await,
        mcp_examples::Cli::Http(addr) => mcp_examples::serve_http(router, addr).await,
    }
}
